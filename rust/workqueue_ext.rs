// SPDX-License-Identifier: GPL-2.0

//! Delayed work items embedded in a pinned owner (the 6.12 `kernel` crate
//! has no delayed work), and a monotonic millisecond clock.

use crate::kernel_ext::bindings;
use core::{marker::PhantomData, pin::Pin};
use kernel::{init::PinInit, prelude::*, str::CStr, types::Opaque};

/// Implemented by the owner of a [`DelayedWork`].
pub trait DelayedWorkItem: Sync + Sized {
    /// Runs in process context on the system workqueue.
    fn run(&self);
}

/// Locates the [`DelayedWork`] field inside its owner. Implemented by
/// [`delayed_work_owner!`], which declares the owner.
///
/// # Safety
///
/// `OFFSET` must be the byte offset of a `DelayedWork<Self>` field of `Self`
/// that is declared before every other field of `Self`. Fields are dropped
/// in declaration order, so that field's drop (which cancels the work and
/// waits for a running instance) happens before any other part of the
/// owner is dropped: the callback never sees a half-dropped owner.
pub unsafe trait HasDelayedWork: DelayedWorkItem {
    /// Offset of the field.
    const OFFSET: usize;

    /// The lockdep class of the owner's work (one per owner type: a work
    /// item that waits for another owner's work, such as a sweep stopping
    /// an engine, is then not reported as recursive locking).
    fn lock_class() -> &'static WorkLockClass;

    /// The class's name in lockdep reports.
    const CLASS_NAME: &'static CStr;
}

/// A lockdep class key for delayed works, in static storage as lockdep
/// requires (declared by [`delayed_work_owner!`]).
pub struct WorkLockClass(Opaque<bindings::lock_class_key>);

// SAFETY: lockdep synchronises its use of keys itself; Rust never touches
// the contents.
unsafe impl Sync for WorkLockClass {}

impl WorkLockClass {
    /// A key for a `static`.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Self(Opaque::uninit())
    }

    fn as_ptr(&self) -> *mut bindings::lock_class_key {
        self.0.get()
    }
}

/// Implemented by [`delayed_work_owner!`] for its struct, and by every type
/// with a `Drop` implementation: the two conflict, so an owner cannot have
/// a drop body that would run while its work may still be running.
pub trait DelayedWorkOwnerNoDrop {}

#[allow(drop_bounds)]
impl<T: Drop> DelayedWorkOwnerNoDrop for T {}

/// Declares a `#[pin_data]` struct that owns a [`DelayedWork`] of itself,
/// and implements [`HasDelayedWork`] for it.
///
/// The work field must come first (written `#[pin] name: DelayedWork<Self>,`
/// ahead of the other fields, after its doc comments, without visibility);
/// the macro refuses the struct otherwise. Being first, it is dropped first, and its
/// drop cancels the work, so the callback can rely on every other field.
/// The struct must be `pub` or `pub(...)` and have no generics, and must not
/// implement `Drop` (nor `PinnedDrop`, which implements `Drop`): a drop body
/// runs before any field drops, so it would get `&mut self` while the work
/// may still run with `&self`. Cleanup belongs in the fields' own `Drop`,
/// which runs after the work is cancelled; implementing `Drop` is a
/// compile error (conflicting implementations of `DelayedWorkOwnerNoDrop`).
///
/// ```ignore
/// delayed_work_owner! {
///     #[pin_data]
///     pub(crate) struct Poller {
///         #[pin]
///         work: DelayedWork<Self>,
///         state: AtomicU32,
///     }
/// }
/// ```
#[macro_export]
macro_rules! delayed_work_owner {
    (
        $(#[$($meta:tt)*])*
        pub $(($($vis:tt)+))? struct $name:ident {
            $(#[doc = $doc:literal])*
            #[pin]
            $work:ident: DelayedWork<Self>,
            $($rest:tt)*
        }
    ) => {
        $(#[$($meta)*])*
        pub $(($($vis)+))? struct $name {
            $(#[doc = $doc])*
            #[pin]
            $work: $crate::kernel_ext::workqueue_ext::DelayedWork<$name>,
            $($rest)*
        }

        // SAFETY: The offset is computed by the compiler for that field, and
        // the macro's pattern puts the field first in declaration order.
        unsafe impl $crate::kernel_ext::workqueue_ext::HasDelayedWork for $name {
            const OFFSET: usize = ::core::mem::offset_of!($name, $work);

            fn lock_class() -> &'static $crate::kernel_ext::workqueue_ext::WorkLockClass {
                static CLASS: $crate::kernel_ext::workqueue_ext::WorkLockClass =
                    $crate::kernel_ext::workqueue_ext::WorkLockClass::new();
                &CLASS
            }

            const CLASS_NAME: &'static ::kernel::str::CStr =
                ::kernel::c_str!(::core::concat!("(work_completion)", ::core::stringify!($name)));
        }

        // Conflicts with the blanket implementation for `Drop` types: an
        // owner with a drop body of its own does not compile.
        impl $crate::kernel_ext::workqueue_ext::DelayedWorkOwnerNoDrop for $name {}
    };
    ($($other:tt)*) => {
        ::core::compile_error!(
            "delayed_work_owner!: the struct's first field must be `#[pin] name: DelayedWork<Self>,` (private)"
        );
    };
}

/// A delayed work item that runs `T::run` on the owner. Dropping it
/// cancels it and waits for a running instance; as the owner's first field
/// (see [`HasDelayedWork`]) that happens before the rest of the owner drops.
///
/// # Invariants
///
/// `dw` was initialised with [`DelayedWork::<T>::callback`]; the object is
/// pinned inside a `T` at `T::OFFSET`, as `T`'s first-declared field.
#[repr(C)]
#[pin_data(PinnedDrop)]
pub struct DelayedWork<T: HasDelayedWork> {
    #[pin]
    dw: Opaque<bindings::delayed_work>,
    _owner: PhantomData<T>,
}

// SAFETY: The work API is safe to call from any thread.
unsafe impl<T: HasDelayedWork> Send for DelayedWork<T> {}
// SAFETY: As above.
unsafe impl<T: HasDelayedWork> Sync for DelayedWork<T> {}

impl<T: HasDelayedWork> DelayedWork<T> {
    /// A new, idle work item.
    pub fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: Initialises the delayed work in place with our callback
            // and the owner type's lock class (a static, as lockdep needs).
            dw <- unsafe {
                kernel::init::pin_init_from_closure(|slot: *mut Opaque<bindings::delayed_work>| {
                    bindings::hbond_helper_init_delayed_work(
                        Opaque::raw_get(slot),
                        Some(Self::callback),
                        T::CLASS_NAME.as_char_ptr(),
                        T::lock_class().as_ptr(),
                    );
                    Ok::<(), core::convert::Infallible>(())
                })
            },
            _owner: PhantomData,
        })
    }

    /// Runs the work after `delay_ms` (0: soon), unless already pending.
    pub fn schedule(&self, delay_ms: u32) {
        // SAFETY: `dw` is initialised by the type invariant.
        unsafe { bindings::hbond_helper_schedule_delayed_work(self.dw.get(), delay_ms) };
    }

    /// Like [`DelayedWork::schedule`], on the unbound system workqueue: for
    /// work that runs long or sleeps.
    pub fn schedule_unbound(&self, delay_ms: u32) {
        // SAFETY: `dw` is initialised by the type invariant.
        unsafe { bindings::hbond_helper_queue_delayed_work_unbound(self.dw.get(), delay_ms) };
    }

    /// Runs the work after `delay_ms`, moving it earlier or later if pending.
    pub fn reschedule(&self, delay_ms: u32) {
        // SAFETY: `dw` is initialised by the type invariant.
        unsafe { bindings::hbond_helper_mod_delayed_work(self.dw.get(), delay_ms) };
    }

    /// Cancels the work and waits for a running instance; it may be
    /// scheduled again afterwards. Must not be called from the work itself.
    pub fn cancel_sync(&self) {
        // SAFETY: `dw` is initialised by the type invariant.
        unsafe { bindings::cancel_delayed_work_sync(self.dw.get()) };
    }

    /// # Safety
    ///
    /// Only called by the workqueue for a `dw` initialised by `new`.
    unsafe extern "C" fn callback(work: *mut bindings::work_struct) {
        // SAFETY: `work` is the first member of `delayed_work`, which is the
        // first member of `DelayedWork<T>` (repr(C)), which lives at
        // `T::OFFSET` inside a `T`. The work can only run before this field
        // is dropped (its drop cancels and waits), and it is the first field
        // of `T` dropped (`HasDelayedWork`), so all of `T` is still valid.
        let owner = unsafe { &*work.cast::<u8>().sub(T::OFFSET).cast::<T>() };
        owner.run();
    }
}

#[pinned_drop]
impl<T: HasDelayedWork> PinnedDrop for DelayedWork<T> {
    fn drop(self: Pin<&mut Self>) {
        self.cancel_sync();
    }
}

/// Nanoseconds of a monotonic clock.
pub fn now_ns() -> u64 {
    // SAFETY: Reads a clock; callable from any context.
    unsafe { bindings::hbond_helper_now_ns() }
}

/// Sleeps for `usecs` microseconds, at most 50 µs more (process context
/// only).
pub fn sleep_us(usecs: u64) {
    // SAFETY: Sleeping is allowed in process context, which callers are in.
    unsafe { bindings::hbond_helper_sleep_us(usecs as kernel::ffi::c_ulong) }
}

/// Milliseconds of a monotonic clock.
pub fn now_ms() -> u64 {
    // SAFETY: Reads a clock; callable from any context.
    unsafe { bindings::hbond_helper_now_ms() }
}
