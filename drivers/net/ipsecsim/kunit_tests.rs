// SPDX-License-Identifier: GPL-2.0

//! KUnit suite of ipsecsim.

use crate::counters::Counter;
use crate::kernel_ext::kunit::Test;
use crate::{kunit_expect_eq, kunit_suite};

fn counter_counts_packets_and_bytes(test: &Test) {
    let c = Counter::default();
    c.pass(100);
    c.pass(1400);
    c.drop_one();
    kunit_expect_eq!(test, c.read(), (2, 1500, 1));
}

fn counter_starts_at_zero(test: &Test) {
    kunit_expect_eq!(test, Counter::default().read(), (0, 0, 0));
}

kunit_suite!(
    ipsecsim_counters_kunit,
    "ipsecsim_counters",
    [
        (
            "counter_counts_packets_and_bytes",
            counter_counts_packets_and_bytes
        ),
        ("counter_starts_at_zero", counter_starts_at_zero),
    ]
);
