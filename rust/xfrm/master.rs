// SPDX-License-Identifier: GPL-2.0

//! IPsec offload of a master device (a team of lower devices): the
//! master's `xfrmdev_ops`, which keep no per-SA state in
//! `xso.offload_handle`, and the programming of an SA into a lower
//! device's driver (6.12 signatures and conventions).
//!
//! The `offload_handle` of an SA belongs to the driver of the lower device
//! it is programmed on (its *home*): that driver sets it in its
//! `xdo_dev_state_add` and reads it on its data path. A master keeps its
//! own bookkeeping elsewhere and programs the SA with [`LowerSlot::program`],
//! which sets `xso.real_dev` to the lower device *before* calling it, as
//! 6.12's inline drivers expect (ixgbe reads `netdev_priv(real_dev)` in its
//! add). 6.16 passes the device as an argument and gives `real_dev` to
//! bonding: a port changes this file only.

use super::{dev_ops::OffloadCandidate, state::State};
use crate::kernel_ext::{
    bindings,
    net::{
        link::{Link, LinkDevice},
        Device, ExtAck,
    },
};
use core::{cell::UnsafeCell, marker::PhantomData};
use kernel::{
    error::{from_result, Error, Result},
    prelude::*,
    types::ARef,
};

/// Proof that the lock of a state (`x->lock`) is held.
///
/// # Invariants
///
/// `x->lock` of `state` is held while the object exists; if `owned`, by
/// this object, which releases it when dropped.
pub struct StateGuard<'a> {
    state: &'a State,
    owned: bool,
}

impl StateGuard<'_> {
    fn is_for(&self, state: *mut bindings::xfrm_state) -> bool {
        core::ptr::eq(self.state.as_raw(), state)
    }

    /// Whether the state was deleted (`XFRM_STATE_DEAD`): no new work may
    /// be programmed for it, its offload callbacks' `delete` already ran.
    pub fn is_dead(&self) -> bool {
        // SAFETY: The state is valid; `km.state` is written under the lock
        // we hold.
        u32::from(unsafe { (*self.state.as_raw()).km.state }) == bindings::XFRM_STATE_DEAD
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: We hold the lock (type invariant) and took it with
            // `spin_lock_bh` in `State::lock`.
            unsafe {
                bindings::hbond_helper_spin_unlock_bh(core::ptr::addr_of_mut!(
                    (*self.state.as_raw()).lock
                ))
            };
        }
    }
}

impl State {
    /// Takes the state's lock (`spin_lock_bh(&x->lock)`), as the stack does
    /// around deletion and replay updates. Must not be called from a
    /// callback that already runs under it (`delete`, `advance_esn`).
    pub fn lock(&self) -> StateGuard<'_> {
        // SAFETY: The state is valid, so is its lock.
        unsafe {
            bindings::hbond_helper_spin_lock_bh(core::ptr::addr_of_mut!((*self.as_raw()).lock))
        };
        // INVARIANT: Taken above; released by the guard.
        StateGuard {
            state: self,
            owned: true,
        }
    }

    /// Points `xso.real_dev` at `dev`: the device that does the SA's
    /// crypto, as lower drivers and `validate_xmit_xfrm` read it.
    fn set_real_dev(&self, dev: &Device) {
        // SAFETY: The state is valid; a plain pointer store (WRITE_ONCE in
        // C), read locklessly by the data path.
        unsafe {
            core::ptr::write_volatile(
                core::ptr::addr_of_mut!((*self.as_raw()).xso.real_dev),
                dev.as_raw(),
            )
        };
    }
}

/// IPsec offload callbacks of a master link type. The callbacks get the
/// master (`xso.dev`) as a [`LinkDevice`]; `offload_handle` is never
/// touched (it belongs to the lower driver an SA is programmed on).
#[vtable]
pub trait XfrmMaster: Link {
    /// `xdo_dev_state_add`: process context, without RTNL. `-EOPNOTSUPP`
    /// keeps the SA in software; set an extack message.
    fn state_add(dev: &LinkDevice<Self>, state: &State, extack: &mut ExtAck) -> Result;

    /// `xdo_dev_state_delete`: atomic context, under the state's lock.
    fn state_delete(dev: &LinkDevice<Self>, state: &State, guard: &mut StateGuard<'_>);

    /// `xdo_dev_state_free`: process context, the last reference is gone.
    fn state_free(dev: &LinkDevice<Self>, state: &State);

    /// `xdo_dev_offload_ok`: whether the master can do the crypto of this
    /// packet (the transmit path, any context). `false` makes the stack do
    /// ESP in software for it.
    fn offload_ok(_dev: &LinkDevice<Self>, _pkt: &OffloadCandidate<'_>, _state: &State) -> bool {
        true
    }

    /// `xdo_dev_state_advance_esn`: receive softirq, under the state's lock.
    fn advance_esn(_dev: &LinkDevice<Self>, _state: &State, _guard: &mut StateGuard<'_>) {}
}

/// Installs `T`'s offload callbacks on `dev`. Call from the link type's
/// setup, before registration.
pub fn install_master<T: XfrmMaster>(dev: &Device) {
    // SAFETY: The device is being set up and not yet registered, so nobody
    // else reads `xfrmdev_ops`; the table is a constant promoted to static
    // storage.
    unsafe { (*dev.as_raw()).xfrmdev_ops = &MasterAdapter::<T>::OPS };
}

/// C trampolines of [`XfrmMaster`].
pub struct MasterAdapter<T: XfrmMaster>(PhantomData<T>);

impl<T: XfrmMaster> MasterAdapter<T> {
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

    /// The master a callback on `state` is for: `xso.dev`, if it is a `T`.
    ///
    /// # Safety
    ///
    /// Only from a callback of the table, with the state the stack passed;
    /// the reference is used during that callback only (the state holds a
    /// reference on `xso.dev` until after `free`).
    unsafe fn master<'a>(state: &'a State) -> Option<&'a LinkDevice<T>> {
        let ptr = state.offload_dev_ptr();
        if ptr.is_null() {
            return None;
        }
        // SAFETY: A non-null `xso.dev` in a callback is a live device (the
        // caller's promise).
        let dev = unsafe { Device::from_raw(ptr) };
        LinkDevice::<T>::try_from_device(dev)
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
            // SAFETY: The stack passes a valid state and the request's
            // extack (or null).
            let (state, mut extack) = unsafe { (State::from_raw(x), ExtAck::from_raw(extack)) };
            // SAFETY: In a callback, with its state.
            let dev = unsafe { Self::master(state) };
            let dev = dev.ok_or_else(crate::kernel_ext::error::eopnotsupp)?;
            T::state_add(dev, state, &mut extack)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// As [`Self::add_callback`]; the stack holds `x->lock`.
    unsafe extern "C" fn delete_callback(x: *mut bindings::xfrm_state) {
        // SAFETY: The stack passes a valid state.
        let state = unsafe { State::from_raw(x) };
        // INVARIANT: `__xfrm_state_delete` runs under `x->lock`, held by
        // its caller for the whole callback.
        let mut guard = StateGuard {
            state,
            owned: false,
        };
        // SAFETY: In a callback, with its state.
        if let Some(dev) = unsafe { Self::master(state) } {
            T::state_delete(dev, state, &mut guard);
        }
    }

    /// # Safety
    ///
    /// As [`Self::add_callback`].
    unsafe extern "C" fn free_callback(x: *mut bindings::xfrm_state) {
        // SAFETY: The stack passes a valid state.
        let state = unsafe { State::from_raw(x) };
        // SAFETY: In a callback, with its state.
        if let Some(dev) = unsafe { Self::master(state) } {
            T::state_free(dev, state);
        }
    }

    /// # Safety
    ///
    /// As [`Self::add_callback`].
    unsafe extern "C" fn offload_ok_callback(
        skb: *mut bindings::sk_buff,
        x: *mut bindings::xfrm_state,
    ) -> bool {
        // SAFETY: The stack passes a valid skb and state for the call.
        let (pkt, state) = unsafe { (OffloadCandidate::from_raw(skb), State::from_raw(x)) };
        // SAFETY: In a callback, with its state.
        unsafe { Self::master(state) }.is_some_and(|dev| T::offload_ok(dev, &pkt, state))
    }

    /// # Safety
    ///
    /// As [`Self::add_callback`]; the stack holds `x->lock`.
    unsafe extern "C" fn advance_esn_callback(x: *mut bindings::xfrm_state) {
        // SAFETY: The stack passes a valid state.
        let state = unsafe { State::from_raw(x) };
        // INVARIANT: The replay code calls it under `x->lock`.
        let mut guard = StateGuard {
            state,
            owned: false,
        };
        // SAFETY: In a callback, with its state.
        if let Some(dev) = unsafe { Self::master(state) } {
            T::advance_esn(dev, state, &mut guard);
        }
    }
}

/// What a lower device's driver holds of one SA.
struct SlotInner {
    /// The lower device the SA is programmed on (a reference held).
    lower: Option<ARef<Device>>,
    /// Its driver's `xdo_dev_state_delete` ran.
    deleted: bool,
}

/// The lower device an SA of a master is programmed on, if any, and the
/// step of its life there: programmed, deleted (the state died), freed.
/// Each of the lower driver's callbacks runs at most once per programming,
/// in the order the stack would call them.
///
/// # Invariants
///
/// `state` is the state the slot was made for; `inner` is only accessed
/// with that state's lock held (a [`StateGuard`] of it), or through
/// `&mut self`.
pub struct LowerSlot {
    state: *mut bindings::xfrm_state,
    inner: UnsafeCell<SlotInner>,
}

// SAFETY: `inner` is accessed under the state's lock only (type invariant);
// the device reference may be dropped on any CPU.
unsafe impl Send for LowerSlot {}
// SAFETY: As above.
unsafe impl Sync for LowerSlot {}

/// A lower device's part of an SA taken out of its [`LowerSlot`]: the lower
/// driver's `free` is still to run ([`Unprogrammed::free`], process
/// context). Dropping it without calling `free` leaks the driver's entry
/// (reported).
pub struct Unprogrammed {
    state: *mut bindings::xfrm_state,
    lower: Option<ARef<Device>>,
}

fn lower_ops(lower: &Device) -> Option<&'static bindings::xfrmdev_ops> {
    // SAFETY: The device is valid; `xfrmdev_ops` is set before registration
    // and points to a static table.
    unsafe { (*lower.as_raw()).xfrmdev_ops.as_ref() }
}

impl LowerSlot {
    /// A slot of `state` with nothing programmed.
    pub fn empty(state: &State) -> Self {
        Self {
            state: state.as_raw(),
            inner: UnsafeCell::new(SlotInner {
                lower: None,
                deleted: false,
            }),
        }
    }

    /// Programs `state` into the driver of `lower`, a lower device of
    /// `master` (to which the state is offloaded): sets `xso.real_dev` to
    /// `lower` and calls its `xdo_dev_state_add`; on failure `real_dev` is
    /// `master` again and the driver's error is returned. Process context.
    /// The state must not be visible to the stack's deletion yet (call it
    /// from the master's `state_add`).
    pub fn program(
        state: &State,
        master: &Device,
        lower: &Device,
        extack: &mut ExtAck,
    ) -> Result<Self> {
        let add = lower_ops(lower)
            .and_then(|ops| ops.xdo_dev_state_add)
            .ok_or_else(crate::kernel_ext::error::eopnotsupp)?;
        state.set_real_dev(lower);
        // SAFETY: The state is valid and being added; the extack is the
        // request's (or null); the driver finds its device in `real_dev`.
        let ret = unsafe { add(state.as_raw(), extack.as_raw()) };
        if ret != 0 {
            state.set_real_dev(master);
            return Err(Error::from_errno(ret));
        }
        Ok(Self {
            state: state.as_raw(),
            inner: UnsafeCell::new(SlotInner {
                lower: Some(lower.into()),
                deleted: false,
            }),
        })
    }

    fn inner<'a>(&'a self, guard: &'a mut StateGuard<'_>) -> Option<&'a mut SlotInner> {
        if !guard.is_for(self.state) {
            pr_warn!("hbond: lower SA slot used under another state's lock\n");
            return None;
        }
        // SAFETY: The state's lock is held (the guard's invariant) and the
        // guard is for our state, borrowed exclusively for as long as the
        // result: there is one guard per holder of the lock, so nobody else
        // accesses `inner` meanwhile.
        Some(unsafe { &mut *self.inner.get() })
    }

    /// The state the slot is for.
    ///
    /// # Safety
    ///
    /// The state must be alive for `'a` (the owner knows how long: e.g. a
    /// master whose `free` removes the slot's owner under a lock held by
    /// the caller).
    pub unsafe fn state<'a>(&self) -> &'a State {
        // SAFETY: Alive for `'a` by the caller's promise.
        unsafe { State::from_raw(self.state) }
    }

    /// Whether the SA is programmed on `dev` (and not yet taken out).
    pub fn is_on(&self, guard: &mut StateGuard<'_>, dev: &Device) -> bool {
        self.inner(guard)
            .and_then(|i| i.lower.as_ref())
            .is_some_and(|l| core::ptr::eq(l.as_raw(), dev.as_raw()))
    }

    /// The stack deletes the SA: the lower driver's `delete`, once. Atomic
    /// context is fine.
    pub fn delete(&self, guard: &mut StateGuard<'_>) {
        let Some(inner) = self.inner(guard) else {
            return;
        };
        let Some(lower) = inner.lower.as_ref() else {
            return;
        };
        if !inner.deleted {
            inner.deleted = true;
            if let Some(delete) = lower_ops(lower).and_then(|o| o.xdo_dev_state_delete) {
                // SAFETY: The state is valid (its lock is held) and was
                // added to this driver, which has not seen its delete yet.
                unsafe { delete(self.state) };
            }
        }
    }

    /// Forwards an ESN advance to the lower driver while the SA is
    /// programmed and not deleted there.
    pub fn advance_esn(&self, guard: &mut StateGuard<'_>) {
        let Some(inner) = self.inner(guard) else {
            return;
        };
        if inner.deleted {
            return;
        }
        let Some(lower) = inner.lower.as_ref() else {
            return;
        };
        if let Some(advance) = lower_ops(lower).and_then(|o| o.xdo_dev_state_advance_esn) {
            // SAFETY: The state is valid, locked, and programmed on `lower`.
            unsafe { advance(self.state) };
        }
    }

    /// Takes the SA out of the lower driver: its `delete` now unless it
    /// ran; the returned object runs its `free` outside the lock. `None`
    /// when nothing is programmed.
    pub fn take(&self, guard: &mut StateGuard<'_>) -> Option<Unprogrammed> {
        self.delete(guard);
        let inner = self.inner(guard)?;
        let lower = inner.lower.take()?;
        inner.deleted = false;
        Some(Unprogrammed {
            state: self.state,
            lower: Some(lower),
        })
    }
}

impl Drop for LowerSlot {
    fn drop(&mut self) {
        if self.inner.get_mut().lower.is_some() {
            // The owner dropped a programmed slot: the driver's entry (and
            // its `offload_handle`) cannot be freed without the state.
            pr_err!("hbond: an SA was left programmed on a lower device\n");
        }
    }
}

impl Unprogrammed {
    /// Runs the lower driver's `free` for `state` (it may sleep) and points
    /// `real_dev` back at `master`. Nothing happens for another state
    /// (reported).
    pub fn free(mut self, state: &State, master: &Device) {
        if !core::ptr::eq(state.as_raw(), self.state) {
            pr_err!("hbond: lower SA freed with another state\n");
            return;
        }
        let Some(lower) = self.lower.take() else {
            return;
        };
        if let Some(free) = lower_ops(&lower).and_then(|o| o.xdo_dev_state_free) {
            // SAFETY: The state is valid (the caller's reference) and was
            // added to and deleted from this driver; `free` runs once,
            // with `real_dev` still naming the driver's device.
            unsafe { free(self.state) };
        }
        state.set_real_dev(master);
    }
}

impl Drop for Unprogrammed {
    fn drop(&mut self) {
        if self.lower.is_some() {
            pr_err!("hbond: a lower device's SA entry was never freed\n");
        }
    }
}
