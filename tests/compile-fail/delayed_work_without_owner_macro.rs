// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a `DelayedWork` in a struct not declared with
//! `delayed_work_owner!`, i.e. without the `HasDelayedWork` proof that the
//! work is its first field (the only safe way to get one is the macro; the
//! trait is unsafe to implement). With `--cfg hbond_cf_fixed` the struct
//! is declared with the macro and it compiles.

#[path = "../../rust/lib.rs"]
pub mod kernel_ext;

use core::sync::atomic::{AtomicU32, Ordering::Relaxed};
use kernel::prelude::*;
use kernel_ext::workqueue_ext::{DelayedWork, DelayedWorkItem};

#[cfg(not(hbond_cf_fixed))]
/// Counts its runs.
#[pin_data]
pub struct Poller {
    #[pin]
    work: DelayedWork<Self>, //~ ERROR the trait bound `Poller: HasDelayedWork` is not satisfied
    runs: AtomicU32,
}

#[cfg(hbond_cf_fixed)]
crate::delayed_work_owner! {
    /// Counts its runs.
    #[pin_data]
    pub struct Poller {
        #[pin]
        work: DelayedWork<Self>,
        runs: AtomicU32,
    }
}

include!("common/poller.rs");
