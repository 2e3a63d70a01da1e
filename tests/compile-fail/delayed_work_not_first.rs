// SPDX-License-Identifier: GPL-2.0

//! Compile-fail case: a `DelayedWork` owner whose work is not its first
//! field would drop other fields while the work may still run (the work is
//! cancelled only when its own field drops). `delayed_work_owner!` refuses
//! it. With `--cfg hbond_cf_fixed` the work comes first and it compiles.

#[path = "../../rust/lib.rs"]
pub mod kernel_ext;

use core::sync::atomic::{AtomicU32, Ordering::Relaxed};
use kernel::prelude::*;
use kernel_ext::workqueue_ext::{DelayedWork, DelayedWorkItem};

#[cfg(not(hbond_cf_fixed))]
crate::delayed_work_owner! { //~ ERROR delayed_work_owner!: the struct's first field must be
    /// Counts its runs.
    #[pin_data]
    pub struct Poller {
        runs: AtomicU32,
        #[pin]
        work: DelayedWork<Self>,
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
