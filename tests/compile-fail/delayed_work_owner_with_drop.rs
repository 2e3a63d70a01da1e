// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a `DelayedWork` owner with a drop body of its own
//! (here `PinnedDrop`, which implements `Drop`): the body runs before any
//! field drops, with `&mut self`, while the work may still run with
//! `&self`. `delayed_work_owner!` refuses it. With `--cfg hbond_cf_fixed`
//! the owner has no drop body and it compiles.

#[path = "../../rust/lib.rs"]
pub mod kernel_ext;

use core::sync::atomic::{AtomicU32, Ordering::Relaxed};
use kernel::prelude::*;
use kernel_ext::workqueue_ext::{DelayedWork, DelayedWorkItem};

#[cfg(not(hbond_cf_fixed))]
crate::delayed_work_owner! { //~ ERROR conflicting implementations of trait
    /// Counts its runs.
    #[pin_data(PinnedDrop)]
    pub struct Poller {
        #[pin]
        work: DelayedWork<Self>,
        runs: AtomicU32,
    }
}

#[cfg(not(hbond_cf_fixed))]
#[pinned_drop]
impl PinnedDrop for Poller {
    fn drop(self: Pin<&mut Self>) {
        // Would race with a running `run`.
        self.runs.store(0, Relaxed);
    }
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
