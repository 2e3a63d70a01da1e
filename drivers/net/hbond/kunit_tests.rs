// SPDX-License-Identifier: GPL-2.0

//! KUnit suites of hbond: the decision logic as compiled into the kernel,
//! the option table as the netlink and sysfs paths use it, and the
//! kernel's rules for a master's features as the team applies them.

use crate::hbond_core::{
    aft::{select_active, Candidate},
    alb::{self, AlbSlave, BUCKETS},
    options::{attr, by_name, Config, Reselect},
    stats,
};
use crate::kernel_ext::{
    kunit::Test,
    net::{features::Features, netlink::Attrs},
};
use crate::{kunit_expect, kunit_expect_eq, kunit_suite};

const UP: Candidate = Candidate {
    usable: true,
    speed_mbps: 1000,
};
const DOWN: Candidate = Candidate {
    usable: false,
    speed_mbps: 1000,
};

fn aft_keeps_usable_active(test: &Test) {
    kunit_expect_eq!(
        test,
        select_active(Some(1), &[UP, UP, UP], None, Reselect::Always),
        Some(1)
    );
}

fn aft_fails_over_to_primary(test: &Test) {
    kunit_expect_eq!(
        test,
        select_active(Some(0), &[DOWN, UP, UP], Some(2), Reselect::Failure),
        Some(2)
    );
    kunit_expect!(
        test,
        select_active(None, &[DOWN, DOWN], None, Reselect::Always).is_none()
    );
}

fn alb_spreads_idle_buckets(test: &Test) {
    let mut buckets = [alb::UNASSIGNED; BUCKETS];
    let up = AlbSlave {
        usable: true,
        speed_mbps: 1000,
    };
    alb::rebalance(&mut buckets, &[0; BUCKETS], &[up, up]);
    let on_first = buckets.iter().filter(|&&b| b == 0).count();
    kunit_expect_eq!(test, on_first, BUCKETS / 2);
}

fn options_refuse_bad_values(test: &Test) {
    let mut config = Config::default();
    kunit_expect!(test, config.set(attr::MIIMON, 60_001, false).is_err());
    kunit_expect!(test, config.set(attr::MODE, 1, true).is_err());
    kunit_expect_eq!(test, config, Config::default());
    kunit_expect_eq!(test, by_name("mode").map(|o| o.parse("alb")), Some(Ok(1)));
}

fn attrs_carry_one_value(test: &Test) {
    let a = Attrs::one_u32(attr::MIIMON, 100);
    kunit_expect_eq!(test, a.u32(attr::MIIMON), Some(100));
    kunit_expect!(test, !a.has(attr::UPDELAY));
    kunit_expect_eq!(test, Attrs::one_u8(attr::MODE, 1).u8(attr::MODE), Some(1));
}

fn features_follow_master_rules(test: &Test) {
    let wanted = Features::SG.union(Features::HW_CSUM);
    // One slave with scatter-gather and the all-slaves bits, one without.
    let both = wanted
        .base()
        .increment(Features::SG.union(Features::ALL_FOR_ALL), wanted)
        .increment(Features::HW_CSUM, wanted);
    kunit_expect!(test, both.contains(Features::SG));
    kunit_expect!(test, both.contains(Features::HW_CSUM));
    kunit_expect!(test, !both.contains(Features::ALL_FOR_ALL));
    // Nothing the stack does not want.
    let none = Features::EMPTY
        .base()
        .increment(Features::SG, Features::EMPTY);
    kunit_expect!(test, !none.contains(Features::SG));
}

fn stats_fold_sums_growth(test: &Test) {
    let mut total = [0u64; 2];
    stats::fold(&mut total, &[15, 3], &[10, 4]);
    kunit_expect_eq!(test, total, [5, 0]);
}

kunit_suite!(
    hbond_logic_kunit,
    "hbond_logic",
    [
        ("aft_keeps_usable_active", aft_keeps_usable_active),
        ("aft_fails_over_to_primary", aft_fails_over_to_primary),
        ("alb_spreads_idle_buckets", alb_spreads_idle_buckets),
        ("options_refuse_bad_values", options_refuse_bad_values),
        ("attrs_carry_one_value", attrs_carry_one_value),
        ("features_follow_master_rules", features_follow_master_rules),
        ("stats_fold_sums_growth", stats_fold_sums_growth),
    ]
);
