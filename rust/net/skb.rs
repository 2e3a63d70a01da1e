// SPDX-License-Identifier: GPL-2.0

//! Socket buffers.

use super::Device;
use crate::kernel_ext::{bindings, error as errno};
use core::ptr::NonNull;
use kernel::error::Result;

/// An owned socket buffer. Dropping it frees the packet as a drop
/// (`kfree_skb`); passing it on transfers the ownership.
///
/// # Invariants
///
/// `ptr` points to a valid `struct sk_buff` that this object owns exclusively.
pub struct SkBuff {
    ptr: NonNull<bindings::sk_buff>,
}

// SAFETY: An owned sk_buff may be handed to and freed from any context.
unsafe impl Send for SkBuff {}

impl SkBuff {
    /// Takes ownership of `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid sk_buff whose ownership the caller gives away.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::sk_buff) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self {
            // SAFETY: A valid sk_buff pointer is not null.
            ptr: unsafe { NonNull::new_unchecked(ptr) },
        }
    }

    /// Gives up ownership without freeing.
    pub(crate) fn into_raw(self) -> *mut bindings::sk_buff {
        let ptr = self.ptr.as_ptr();
        core::mem::forget(self);
        ptr
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::sk_buff {
        self.ptr.as_ptr()
    }

    /// Length of the packet data in bytes.
    pub fn len(&self) -> u32 {
        // SAFETY: The skb is valid by the type invariant.
        unsafe { bindings::hbond_helper_skb_len(self.as_raw()) }
    }

    /// Whether the packet carries no data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The flow hash of the packet (L3 addresses and L4 ports), computed
    /// once and cached in the skb.
    pub fn flow_hash(&mut self) -> u32 {
        // SAFETY: The skb is owned by us.
        unsafe { bindings::hbond_helper_skb_get_hash(self.as_raw()) }
    }

    /// Whether the frame (at `data`, before transmission) goes to a
    /// broadcast or multicast Ethernet address.
    pub fn eth_dest_is_multicast(&self) -> bool {
        // SAFETY: The skb is owned by us.
        unsafe { bindings::hbond_helper_skb_eth_dest_is_multicast(self.as_raw()) }
    }

    /// Rewrites the Ethernet source address (unsharing the header first).
    pub fn set_eth_source(&mut self, addr: &super::device::MacAddr) -> Result {
        // SAFETY: The skb is owned by us; `addr` has ETH_ALEN bytes.
        kernel::error::to_result(unsafe {
            bindings::hbond_helper_skb_set_eth_source(self.as_raw(), addr.as_ptr())
        })
    }

    /// Makes `dev` the device the packet is sent on or received by.
    pub fn set_dev(&mut self, dev: &Device) {
        // SAFETY: The skb is owned by us; `dev` is valid. The caller's
        // context (a transmit or receive path of a device linked to `dev`)
        // keeps `dev` alive while the skb references it, as for any driver.
        unsafe { bindings::hbond_helper_skb_set_dev(self.as_raw(), dev.as_raw()) }
    }

    /// Unshares the buffer if another user holds a reference to it, so that
    /// it may be modified. On allocation failure the packet is dropped.
    pub fn unshare(self, atomic: bool) -> Option<Self> {
        let gfp = if atomic {
            bindings::GFP_ATOMIC
        } else {
            bindings::GFP_KERNEL
        };
        // SAFETY: We give our reference to `skb_share_check`, which returns an
        // exclusively owned skb or NULL after freeing ours.
        let ptr = unsafe { bindings::hbond_helper_skb_share_check(self.into_raw(), gfp) };
        NonNull::new(ptr).map(|ptr| Self { ptr })
    }

    /// Queues the packet for transmission on the device set with
    /// [`SkBuff::set_dev`] (`dev_queue_xmit`).
    pub fn queue_xmit(self) -> Result {
        // SAFETY: Ownership passes to the stack, which frees the skb whatever
        // the outcome.
        let ret = unsafe { bindings::hbond_helper_dev_queue_xmit(self.into_raw()) };
        if ret == bindings::NET_XMIT_SUCCESS as i32 || ret == bindings::NET_XMIT_CN as i32 {
            Ok(())
        } else {
            Err(errno::enobufs())
        }
    }

    /// Hands the packet to `dev` as if it had been received on it, as veth
    /// does (`dev_forward_skb`).
    pub fn forward_to(self, dev: &Device) -> Result {
        // SAFETY: `dev` is valid; ownership of the skb passes to the call,
        // which frees it on failure.
        let ret = unsafe { bindings::dev_forward_skb(dev.as_raw(), self.into_raw()) };
        if ret == bindings::NET_RX_SUCCESS as i32 {
            Ok(())
        } else {
            Err(errno::enobufs())
        }
    }

    /// Allocates a linear packet of `len` zero bytes (`alloc_skb`, then
    /// `skb_put_zero`), with no headroom.
    pub fn alloc_zeroed(len: u32, gfp: crate::kernel_ext::gfp::Gfp) -> Result<Self> {
        // SAFETY: Allocates a new skb or returns NULL.
        let ptr = unsafe { bindings::hbond_helper_alloc_skb_zeroed(len, gfp.as_raw()) };
        // INVARIANT: A new skb, ours.
        NonNull::new(ptr)
            .map(|ptr| Self { ptr })
            .ok_or(kernel::error::code::ENOMEM)
    }

    /// Copies `buf.len()` bytes of the packet from `offset` (from `data`)
    /// into `buf` (`skb_copy_bits`); `EFAULT` if the packet is shorter.
    pub fn copy_bits(&self, offset: u32, buf: &mut [u8]) -> Result {
        let (Ok(off), Ok(len)) = (i32::try_from(offset), i32::try_from(buf.len())) else {
            return Err(kernel::error::code::EINVAL);
        };
        // SAFETY: The skb is valid; `buf` is writable for `len` bytes.
        kernel::error::to_result(unsafe {
            bindings::skb_copy_bits(self.as_raw(), off, buf.as_mut_ptr().cast(), len)
        })
    }

    /// Writes `buf` into the packet at `offset` (`skb_store_bits`, which
    /// needs writable data: unshared, uncloned); `EFAULT` if the packet is
    /// shorter.
    pub fn store_bits(&mut self, offset: u32, buf: &[u8]) -> Result {
        let (Ok(off), Ok(len)) = (i32::try_from(offset), i32::try_from(buf.len())) else {
            return Err(kernel::error::code::EINVAL);
        };
        // SAFETY: The skb is ours; `buf` is readable for `len` bytes.
        kernel::error::to_result(unsafe {
            bindings::skb_store_bits(self.as_raw(), off, buf.as_ptr().cast(), len)
        })
    }
}

impl Drop for SkBuff {
    fn drop(&mut self) {
        // SAFETY: We own the skb by the type invariant.
        unsafe { bindings::hbond_helper_kfree_skb(self.as_raw()) }
    }
}
