// SPDX-License-Identifier: GPL-2.0

//! An object that the data path reads without locks and the control path
//! replaces as a whole, with an RCU grace period before the old one is freed
//! (the pattern of bonding's `curr_active_slave` or a team's port list).

use crate::kernel_ext::bindings;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::alloc::KBox;

/// An optional boxed `T` published with RCU.
///
/// # Invariants
///
/// `ptr` is null or comes from `KBox::into_raw` and is owned by this object.
pub struct RcuBox<T: Send + Sync> {
    ptr: AtomicPtr<T>,
}

impl<T: Send + Sync> RcuBox<T> {
    /// An empty slot.
    pub const fn new() -> Self {
        Self {
            ptr: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// Runs `f` with the current object, inside an RCU read-side section.
    pub fn read<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        // SAFETY: Nestable, callable from any context.
        unsafe { bindings::hbond_helper_rcu_read_lock() };
        let ptr = self.ptr.load(Ordering::Acquire);
        // SAFETY: `replace` waits for a grace period before freeing a
        // removed object, and we are inside a read-side section.
        let result = f(unsafe { ptr.as_ref() });
        // SAFETY: Paired with the lock above.
        unsafe { bindings::hbond_helper_rcu_read_unlock() };
        result
    }

    /// Whether the slot is empty (a racy snapshot).
    pub fn is_empty(&self) -> bool {
        self.ptr.load(Ordering::Relaxed).is_null()
    }

    /// Empties the slot without freeing its object (a leak): for an owner
    /// dropped where the object's own drop may not run (it sleeps).
    pub fn forget(&mut self) {
        *self.ptr.get_mut() = core::ptr::null_mut();
    }

    /// Publishes `new`; frees the old object once no reader can see it.
    /// Sleeps: process context only.
    pub fn replace(&self, new: Option<KBox<T>>) {
        drop(self.exchange(new));
    }

    /// Publishes `new` and hands back the old object once no reader can see
    /// it (so that its memory can be reused without allocating). Sleeps:
    /// process context only.
    pub fn exchange(&self, new: Option<KBox<T>>) -> Option<KBox<T>> {
        let new = new.map_or(core::ptr::null_mut(), KBox::into_raw);
        let old = self.ptr.swap(new, Ordering::AcqRel);
        if old.is_null() {
            return None;
        }
        // SAFETY: Waits for every reader that may still hold `old`.
        unsafe { bindings::synchronize_net() };
        // SAFETY: `old` came from `KBox::into_raw` and nobody uses it.
        Some(unsafe { KBox::from_raw(old) })
    }
}

impl<T: Send + Sync> Drop for RcuBox<T> {
    fn drop(&mut self) {
        let ptr = *self.ptr.get_mut();
        if !ptr.is_null() {
            // SAFETY: Dropping the slot means nobody can reach it any more.
            drop(unsafe { KBox::from_raw(ptr) });
        }
    }
}

impl<T: Send + Sync> Default for RcuBox<T> {
    fn default() -> Self {
        Self::new()
    }
}
