// SPDX-License-Identifier: GPL-2.0

//! A device's IPsec offload callbacks (`struct xfrmdev_ops`, 6.12 signatures:
//! no device argument).
//!
//! A driver implements [`XfrmDevOps`] and calls [`install`] while setting up
//! its devices. The per-SA state the driver returns from `add` is kept in
//! `x->xso.offload_handle` and reached from the data path with
//! [`Adapter::with_sa`].
//!
//! The device an SA runs on is `x->xso.real_dev`, not `x->xso.dev`: under a
//! master (bonding, hbond) `xso.dev` is the master, and the master calls its
//! lower device's callbacks with `real_dev` naming that device, as 6.12's
//! inline drivers (ixgbe, mlx5, netdevsim) expect. For an SA offloaded to
//! the device itself the stack sets both to it. This is the 6.12 convention;
//! 6.16 passes the device as an argument instead, which changes this file
//! only.

use super::state::State;
use crate::kernel_ext::{
    bindings,
    net::{Device, ExtAck},
};
use core::{
    marker::PhantomData,
    sync::atomic::{AtomicUsize, Ordering},
};
use kernel::{
    alloc::{flags::GFP_KERNEL, KBox},
    error::{from_result, Result},
    prelude::*,
};

/// A borrowed packet as `xdo_dev_offload_ok` sees it: the plaintext packet
/// about to be encapsulated.
///
/// # Invariants
///
/// `ptr` is a valid sk_buff for the lifetime of the object.
pub struct OffloadCandidate<'a> {
    ptr: *mut bindings::sk_buff,
    _lifetime: PhantomData<&'a bindings::sk_buff>,
}

impl OffloadCandidate<'_> {
    /// # Safety
    ///
    /// `ptr` is a valid sk_buff for the lifetime chosen by the caller.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::sk_buff) -> OffloadCandidate<'a> {
        // INVARIANT: The caller's promise.
        OffloadCandidate {
            ptr,
            _lifetime: PhantomData,
        }
    }

    /// The packet's length in bytes.
    pub fn bytes(&self) -> u32 {
        // SAFETY: The skb is valid (type invariant).
        unsafe { (*self.ptr).len }
    }

    /// The bytes from the network header to the end of the linear area.
    pub fn network_header(&self) -> &[u8] {
        // SAFETY: The skb is valid; the network header lies in the linear
        // area [head, tail), which stays in place while we borrow the skb.
        unsafe {
            let start = bindings::hbond_helper_skb_network_header(self.ptr);
            let end = bindings::hbond_helper_skb_tail_pointer(self.ptr);
            let len = end.offset_from(start);
            if len <= 0 {
                return &[];
            }
            core::slice::from_raw_parts(start, len as usize)
        }
    }
}

/// IPsec offload callbacks of a device type.
///
/// `add` runs in process context (an `ip xfrm state add` request); `delete`
/// may run in atomic context (under the state's lock); `advance_esn` in the
/// receive softirq under the state's lock; `offload_ok` in the transmit
/// path.
#[vtable]
pub trait XfrmDevOps: Sized + 'static {
    /// The driver's per-SA state ("the hardware's SA entry").
    type Sa: Send + Sync;

    /// Programs `state` on `dev`, one of the driver's devices. `dev` is
    /// `None` when a master asks before naming its lower device (6.12's
    /// bonding sets `real_dev` only after this call returns): the entry
    /// must then not depend on the device; the data path finds it through
    /// whichever device the master names. Errors other than `-EOPNOTSUPP`
    /// fail the request; `-EOPNOTSUPP` keeps the SA in software. Set an
    /// extack message either way.
    fn add(dev: Option<&Device>, state: &State, extack: &mut ExtAck) -> Result<Self::Sa>;

    /// The SA is being deleted; the data path may still see it until it is
    /// freed. Called only when `real_dev` (or `xso.dev`) is one of the
    /// driver's devices: a master that moves SAs and clears `real_dev`
    /// first gets no `delete`, only `free`.
    fn delete(_dev: &Device, _state: &State, _sa: &Self::Sa) {}

    /// Whether the device can process this packet with `state`.
    fn offload_ok(_pkt: &OffloadCandidate<'_>, _state: &State) -> bool {
        true
    }

    /// The receive replay window of an ESN SA moved; the high sequence bits
    /// may have changed.
    fn advance_esn(_state: &State, _sa: &Self::Sa) {}
}

/// Installs `T`'s callbacks on `dev`. Call from the device's setup, before
/// registration.
pub fn install<T: XfrmDevOps>(dev: &Device) {
    // SAFETY: The device is being set up and not yet registered, so nobody
    // else reads `xfrmdev_ops`; the table is a constant promoted to static
    // storage.
    unsafe { (*dev.as_raw()).xfrmdev_ops = &Adapter::<T>::OPS };
}

/// C trampolines for `T`.
pub struct Adapter<T: XfrmDevOps>(PhantomData<T>);

impl<T: XfrmDevOps> Adapter<T> {
    const OPS: bindings::xfrmdev_ops = {
        // SAFETY: All-zeroes is a valid `xfrmdev_ops` (no callbacks).
        let mut ops: bindings::xfrmdev_ops = unsafe { core::mem::zeroed() };
        ops.xdo_dev_state_add = Some(Self::add_callback);
        ops.xdo_dev_state_delete = Some(Self::delete_callback);
        ops.xdo_dev_state_free = Some(Self::free_callback);
        ops.xdo_dev_offload_ok = Some(Self::offload_ok_callback);
        if T::HAS_ADVANCE_ESN {
            ops.xdo_dev_state_advance_esn = Some(Self::advance_esn_callback);
        }
        ops
    };

    fn handle(state: &State) -> &AtomicUsize {
        // SAFETY: `offload_handle` is an aligned `unsigned long` inside the
        // valid state; it is only accessed atomically by this adapter.
        unsafe {
            AtomicUsize::from_ptr(
                core::ptr::addr_of_mut!((*state.as_raw()).xso.offload_handle).cast(),
            )
        }
    }

    /// Whether `dev` uses `T`'s callbacks.
    fn is_ours(dev: &Device) -> bool {
        // SAFETY: A `Device` is a valid device.
        unsafe { Self::is_ours_raw(dev.as_raw()) }
    }

    /// Whether the device `dev` uses `T`'s callbacks.
    ///
    /// # Safety
    ///
    /// `dev` is a valid device for the duration of the call.
    unsafe fn is_ours_raw(dev: *mut bindings::net_device) -> bool {
        // SAFETY: The device is valid (the caller's promise);
        // `xfrmdev_ops` is set in setup and not changed afterwards.
        let ops = unsafe { (*dev).xfrmdev_ops };
        // Compare the callback rather than the table (a promoted constant
        // may be duplicated). A duplicated function would only make this
        // say "not ours" (the SA is then left to software); two different
        // `T`s cannot share a callback because their bodies differ.
        #[allow(unpredictable_function_pointer_comparisons)]
        let ours = !ops.is_null()
            // SAFETY: A non-null ops table of a valid device is valid.
            && unsafe { (*ops).xdo_dev_state_add } == Some(Self::add_callback as _);
        ours
    }

    /// The driver's device a control callback on `state` is for: see
    /// [`XfrmDevOps::add`].
    ///
    /// # Safety
    ///
    /// Only called from a callback of the table, with the state the kernel
    /// or a master passed; the returned reference is used only during that
    /// callback (the stack holds `xso.dev`, a master its lower device,
    /// while it calls).
    unsafe fn callback_dev<'a>(state: &'a State) -> Option<&'a Device> {
        let real = state.real_dev_ptr();
        let dev = state.offload_dev_ptr();
        for ptr in [real, dev] {
            // SAFETY: Non-null `real_dev`/`dev` pointers of a state in a
            // callback name live devices (the caller's promise).
            if !ptr.is_null() && unsafe { Self::is_ours_raw(ptr) } {
                // SAFETY: As above; valid for the callback's duration.
                return Some(unsafe { Device::from_raw(ptr) });
            }
        }
        None
    }

    /// Runs `f` with the driver state of `state` if `state` is programmed
    /// on `dev` (see [`State::is_programmed_on`]) and `dev` uses `T`'s
    /// callbacks, inside an RCU read-side section (the state is freed only
    /// after a grace period).
    pub fn with_sa<R>(dev: &Device, state: &State, f: impl FnOnce(&T::Sa) -> R) -> Option<R> {
        if !state.is_programmed_on(dev) || !Self::is_ours(dev) {
            return None;
        }
        Self::with_handle(state, f)
    }

    /// Runs `f` with the driver state in `state`'s handle, if set, inside
    /// an RCU read-side section. Only for states whose handle this driver
    /// set: the data path and the delete and ESN callbacks check first that
    /// `real_dev` (or `xso.dev`) is one of ours, which a master sets only
    /// after our `add` succeeded. (During a failover the handle read may
    /// already be the entry added for the new device; entries do not
    /// depend on the device, see [`XfrmDevOps::add`].) `free` cannot check:
    /// a master clears `real_dev` before calling it, so it relies on being
    /// called only for states it programmed here, as bonding does.
    fn with_handle<R>(state: &State, f: impl FnOnce(&T::Sa) -> R) -> Option<R> {
        // SAFETY: Nestable, callable from any context.
        unsafe { bindings::hbond_helper_rcu_read_lock() };
        let ptr = Self::handle(state).load(Ordering::Acquire) as *const T::Sa;
        let result = if ptr.is_null() {
            None
        } else {
            // SAFETY: The handle of a state programmed on a device using
            // our callbacks was set by `add_callback` from `KBox::into_raw`;
            // `free_callback` clears it and waits for a grace period before
            // dropping it, and we are inside a read-side section.
            Some(f(unsafe { &*ptr }))
        };
        // SAFETY: Paired with the lock above.
        unsafe { bindings::hbond_helper_rcu_read_unlock() };
        result
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn add_callback(
        x: *mut bindings::xfrm_state,
        extack: *mut bindings::netlink_ext_ack,
    ) -> kernel::ffi::c_int {
        from_result(|| {
            // SAFETY: The stack (or a master) passes a valid state and the
            // request's extack (or null).
            let (state, mut extack) = unsafe { (State::from_raw(x), ExtAck::from_raw(extack)) };
            // SAFETY: In a callback, with its state; used during it only.
            let dev = unsafe { Self::callback_dev(state) };
            let sa = KBox::new(T::add(dev, state, &mut extack)?, GFP_KERNEL)?;
            Self::handle(state).store(KBox::into_raw(sa) as usize, Ordering::Release);
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn delete_callback(x: *mut bindings::xfrm_state) {
        // SAFETY: The stack (or a master) passes a valid state.
        let state = unsafe { State::from_raw(x) };
        // SAFETY: In a callback, with its state; used during it only.
        let Some(dev) = (unsafe { Self::callback_dev(state) }) else {
            // Neither `real_dev` nor `xso.dev` is ours: a master calling
            // us for an SA programmed elsewhere (6.12's bonding only warns
            // when its active slave is not the SA's `real_dev`), or one that
            // cleared `real_dev` before the call: the handle may not be
            // ours, leave it.
            return;
        };
        Self::with_handle(state, |sa| T::delete(dev, state, sa));
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn free_callback(x: *mut bindings::xfrm_state) {
        // SAFETY: The stack passes a valid state.
        let state = unsafe { State::from_raw(x) };
        let ptr = Self::handle(state).swap(0, Ordering::AcqRel) as *mut T::Sa;
        if ptr.is_null() {
            return;
        }
        // SAFETY: xdo_dev_state_free runs in process context (state GC
        // work, state flush on device removal); wait until no data path
        // reader can still see the handle.
        unsafe { bindings::synchronize_net() };
        // SAFETY: Set from `KBox::into_raw` in `add_callback` and no longer
        // reachable (cleared above, readers gone).
        drop(unsafe { KBox::from_raw(ptr) });
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn offload_ok_callback(
        skb: *mut bindings::sk_buff,
        x: *mut bindings::xfrm_state,
    ) -> bool {
        let pkt = OffloadCandidate {
            ptr: skb,
            _lifetime: PhantomData,
        };
        // SAFETY: The stack passes a valid skb and state for the call.
        T::offload_ok(&pkt, unsafe { State::from_raw(x) })
    }

    /// # Safety
    ///
    /// Only called by the kernel through the callback table, with the
    /// arguments its C prototype documents.
    unsafe extern "C" fn advance_esn_callback(x: *mut bindings::xfrm_state) {
        // SAFETY: The stack (or a master) passes a valid state.
        let state = unsafe { State::from_raw(x) };
        // SAFETY: In a callback, with its state; used during it only.
        if unsafe { Self::callback_dev(state) }.is_none() {
            // As in `delete_callback`: not programmed on one of ours.
            return;
        }
        Self::with_handle(state, |sa| T::advance_esn(state, sa));
    }
}
