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

impl DelayedWorkItem for Poller {
    fn run(&self) {
        self.runs.fetch_add(1, Relaxed);
    }
}

/// A new poller.
pub fn poller() -> impl PinInit<Poller> {
    pin_init!(Poller {
        work <- DelayedWork::new(),
        runs: AtomicU32::new(0),
    })
}

module! {
    type: Case,
    name: "cf_delayed_work_not_first",
    license: "GPL",
}

/// The module of the case.
struct Case;

impl kernel::Module for Case {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Case)
    }
}
