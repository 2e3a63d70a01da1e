// SPDX-License-Identifier: GPL-2.0

// The part of the delayed-work cases that follows the `Poller` declaration
// under test: its work callback, its initialiser and the case's module.
// Included (`include!`) by each case; not a case itself (cases are the
// `*.rs` files of the directory above).

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
    name: "cf_delayed_work_case",
    license: "GPL",
}

/// The module of the case.
struct Case;

impl kernel::Module for Case {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Case)
    }
}
