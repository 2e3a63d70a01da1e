// SPDX-License-Identifier: GPL-2.0

//! KUnit suite of hbond: the decision logic as compiled into the kernel.

use crate::hbond_core::aft::{select_active, SlaveLink};
use crate::kernel_ext::kunit::Test;
use crate::{kunit_expect, kunit_expect_eq, kunit_suite};

const UP: SlaveLink = SlaveLink { usable: true };
const DOWN: SlaveLink = SlaveLink { usable: false };

fn aft_keeps_usable_active(test: &Test) {
    kunit_expect_eq!(test, select_active(Some(1), &[UP, UP, UP]), Some(1));
}

fn aft_fails_over_in_order(test: &Test) {
    kunit_expect_eq!(test, select_active(Some(0), &[DOWN, DOWN, UP]), Some(2));
    kunit_expect!(test, select_active(None, &[DOWN, DOWN]).is_none());
}

kunit_suite!(
    hbond_aft_kunit,
    "hbond_aft",
    [
        ("aft_keeps_usable_active", aft_keeps_usable_active),
        ("aft_fails_over_in_order", aft_fails_over_in_order),
    ]
);
