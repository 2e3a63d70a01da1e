// SPDX-License-Identifier: GPL-2.0

//! A device reference that the data path reads without locks and the control
//! path replaces under RTNL, with RCU in between (like bonding's
//! `curr_active_slave`).

use super::{device::Rtnl, Device};
use crate::kernel_ext::bindings;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::types::ARef;

/// An optional, counted device reference readable under RCU.
///
/// # Invariants
///
/// `ptr` is null or a device on which this object owns one reference
/// (taken with `dev_hold`).
pub struct RcuDevice {
    ptr: AtomicPtr<bindings::net_device>,
}

// SAFETY: Readers only borrow the device inside an RCU read-side section;
// writers serialise on RTNL.
unsafe impl Sync for RcuDevice {}
// SAFETY: The owned reference may be dropped from any thread.
unsafe impl Send for RcuDevice {}

impl RcuDevice {
    /// An empty slot.
    pub const fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// Runs `f` with the current device, inside an RCU read-side section.
    pub fn read<R>(&self, f: impl FnOnce(Option<&Device>) -> R) -> R {
        // SAFETY: Nestable, callable from any context.
        unsafe { bindings::hbond_helper_rcu_read_lock() };
        let ptr = self.ptr.load(Ordering::Acquire);
        let dev = if ptr.is_null() {
            None
        } else {
            // SAFETY: A writer that removes `ptr` waits for a grace period
            // before dropping its reference, and we are in a read section.
            Some(unsafe { Device::from_raw(ptr) })
        };
        let result = f(dev);
        // SAFETY: Paired with the lock above.
        unsafe { bindings::hbond_helper_rcu_read_unlock() };
        result
    }

    /// The current device, under RTNL (writers are excluded).
    pub fn get<'a>(&'a self, _rtnl: &'a Rtnl) -> Option<&'a Device> {
        let ptr = self.ptr.load(Ordering::Acquire);
        // SAFETY: Only RTNL holders replace the pointer, and we own a
        // reference to the stored device by the type invariant.
        (!ptr.is_null()).then(|| unsafe { Device::from_raw(ptr) })
    }

    /// Publishes `new`; returns once no reader can still see the old device.
    pub fn replace(&self, new: Option<ARef<Device>>, _rtnl: &Rtnl) {
        let new_ptr = new.map_or(core::ptr::null_mut(), |d| {
            let raw = d.as_raw();
            // INVARIANT: The reference moves into the slot.
            core::mem::forget(d);
            raw
        });
        let old = self.ptr.swap(new_ptr, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: Waits for readers that may hold the old pointer, after
            // which our reference can go.
            unsafe {
                bindings::synchronize_net();
                bindings::hbond_helper_dev_put(old);
            }
        }
    }
}

impl Drop for RcuDevice {
    fn drop(&mut self) {
        let ptr = *self.ptr.get_mut();
        if !ptr.is_null() {
            // SAFETY: Dropping the slot means no reader can reach it any more
            // (its owner is gone); release our reference.
            unsafe { bindings::hbond_helper_dev_put(ptr) };
        }
    }
}

impl Default for RcuDevice {
    fn default() -> Self {
        Self::new()
    }
}
