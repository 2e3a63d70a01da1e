// SPDX-License-Identifier: GPL-2.0

//! A spinlock that also disables bottom halves (`spin_lock_bh`), for data
//! shared between process context and softirqs (the 6.12 `kernel` crate only
//! has the plain `spin_lock`), and running code as from a softirq.

use crate::kernel_ext::bindings;
use kernel::sync::lock::{Backend, Lock};

/// A spinlock taken with bottom halves disabled.
pub type SpinLockBh<T> = Lock<T, SpinLockBhBackend>;

/// Creates a [`SpinLockBh`] initialiser with a lock class of its own.
#[macro_export]
macro_rules! new_spinlock_bh {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        $crate::kernel_ext::sync_ext::SpinLockBh::new(
            $inner,
            kernel::optional_name!($($name)?),
            kernel::static_lock_class!(),
        )
    };
}

/// The `spin_lock_bh` backend of [`SpinLockBh`].
pub struct SpinLockBhBackend;

// SAFETY: `spinlock_t` gives mutual exclusion; the lock and unlock calls are
// paired by the guard, and `relock` (the default) locks the same way.
unsafe impl Backend for SpinLockBhBackend {
    type State = kernel::bindings::spinlock_t;
    type GuardState = ();

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut kernel::bindings::lock_class_key,
    ) {
        // SAFETY: The caller passes a writable lock and a name and key valid
        // indefinitely, as `__spin_lock_init` requires.
        unsafe { kernel::bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: The caller passes an initialised lock; the kernel crate's
        // and the project's `spinlock_t` are the same C type.
        unsafe { bindings::hbond_helper_spin_lock_bh(ptr.cast()) }
    }

    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: The caller owns the lock, taken by `lock` above.
        unsafe { bindings::hbond_helper_spin_unlock_bh(ptr.cast()) }
    }
}

/// Runs `f` with bottom halves disabled, as a softirq (NAPI, a crypto
/// completion) would: for work a driver completes from process context.
pub fn with_bh_disabled<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: Disabling bottom halves is allowed in any context and is
    // undone below.
    unsafe { bindings::hbond_helper_local_bh_disable() };
    let r = f();
    // SAFETY: Paired with the disable above, on the same CPU: nothing in
    // between can migrate the task while bottom halves are off.
    unsafe { bindings::hbond_helper_local_bh_enable() };
    r
}
