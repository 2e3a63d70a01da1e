// SPDX-License-Identifier: GPL-2.0

//! Packet contents of a socket buffer: private, linear access for drivers
//! that rewrite packets in place (inline crypto), header offsets, and the
//! receive half of `dev_forward_skb` for drivers that act between the two.

use super::{Device, SkBuff};
use crate::kernel_ext::{bindings, error as errno};
use kernel::error::{code::ENOMEM, Result};

impl SkBuff {
    /// Makes the packet linear and private (unshared, uncloned) and returns
    /// its bytes, from `data` to the end, for rewriting in place.
    pub fn linear_data_mut(&mut self) -> Result<&mut [u8]> {
        // SAFETY: We own the skb; `skb_linearize_cow` makes the data one
        // private buffer (or fails and leaves the skb as it was).
        if unsafe { bindings::hbond_helper_skb_linearize_cow(self.as_raw()) } != 0 {
            return Err(ENOMEM);
        }
        // SAFETY: The data is now linear and private: `len` bytes at `data`,
        // borrowed mutably through `&mut self`.
        unsafe {
            let skb = self.as_raw();
            Ok(core::slice::from_raw_parts_mut(
                (*skb).data,
                (*skb).len as usize,
            ))
        }
    }

    /// The linear part of the packet data (all of it unless the packet has
    /// page fragments), read-only.
    pub fn head_data(&self) -> &[u8] {
        // SAFETY: The skb is valid; `len - data_len` bytes at `data` are
        // the linear part, which stays in place while we borrow the skb.
        unsafe {
            let skb = self.as_raw();
            let headlen = (*skb).len.saturating_sub((*skb).data_len);
            core::slice::from_raw_parts((*skb).data, headlen as usize)
        }
    }

    /// Offset of the transport header (for ESP offload: the ESP header)
    /// from the start of the data, if set and inside the data.
    pub fn transport_offset(&self) -> Option<usize> {
        let skb = self.as_raw();
        // SAFETY: The skb is valid.
        if !unsafe { bindings::hbond_helper_skb_transport_header_was_set(skb) } {
            return None;
        }
        // SAFETY: The skb is valid and its transport header is set.
        let off = unsafe { bindings::hbond_helper_skb_transport_offset(skb) };
        usize::try_from(off)
            .ok()
            .filter(|&off| off <= self.len() as usize)
    }

    /// The packet mark.
    pub fn mark(&self) -> u32 {
        // SAFETY: The skb is valid.
        unsafe { bindings::hbond_helper_skb_mark(self.as_raw()) }
    }

    /// First half of `dev_forward_skb`: checks that `dev` can take the
    /// packet, scrubs it (namespace crossing) and pulls the Ethernet header
    /// as if `dev` had received it. The data then starts at the network
    /// header. Finish with [`SkBuff::netif_rx`].
    pub fn forward_prepare(self, dev: &Device) -> Result<SkBuff> {
        let skb = self.into_raw();
        // SAFETY: `dev` is valid; `__dev_forward_skb` takes ownership of the
        // skb and frees it on failure.
        let ret = unsafe { bindings::__dev_forward_skb(dev.as_raw(), skb) };
        if ret != 0 {
            return Err(errno::enobufs());
        }
        // SAFETY: On success the skb is still ours.
        Ok(unsafe { SkBuff::from_raw(skb) })
    }

    /// Queues a received packet to the stack (`netif_rx`).
    pub fn netif_rx(self) -> Result {
        // SAFETY: Ownership passes to the stack whatever the result.
        let ret = unsafe { bindings::netif_rx(self.into_raw()) };
        if ret == bindings::NET_RX_SUCCESS as i32 {
            Ok(())
        } else {
            Err(errno::enobufs())
        }
    }
}
