// SPDX-License-Identifier: GPL-2.0

//! KUnit suites of hbond: the decision logic as compiled into the kernel,
//! the option table as the netlink and sysfs paths use it, and the
//! kernel's rules for a master's features as the team applies them; the
//! SA registry at the size it is built for.

use crate::hbond_core::{
    aft::{select_active, Candidate},
    alb::{self, AlbSlave, BUCKETS},
    options::{attr, by_name, Config, Reselect},
    path::{Dir, DropReason, EngineId, MemberId},
    sa::{Counter, Family, Outcome, SaEntry, SaKey},
    stats,
};
use crate::kernel_ext::{
    kunit::Test,
    net::{features::Features, netlink::Attrs},
    sync_ext::with_bh_disabled,
};
use crate::sa_registry::{SaId, SaRegistry};

/// The registry identity of a test SA (no state behind it).
fn sid(key: SaKey) -> SaId {
    SaId { key, instance: 0 }
}
use crate::{kunit_assert, kunit_expect, kunit_expect_eq, kunit_suite};
use kernel::alloc::flags::{GFP_ATOMIC, GFP_KERNEL};
use kernel::prelude::*;

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

/// Number of SAs the registry is sized for; half IPv4, half IPv6.
const N_SAS: u32 = 10_000;

/// The `i`th of [`N_SAS`] distinct keys: IPv4 peers in a /16 with
/// sequential SPIs for even `i`, IPv6 peers in one /64 for odd `i`.
fn key(i: u32) -> SaKey {
    if i % 2 == 0 {
        SaKey::v4([10, 1, (i >> 8) as u8, i as u8], 0x1000 + i, 50)
    } else {
        let mut d = [0u8; 16];
        d[..8].copy_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0]);
        d[12..].copy_from_slice(&i.to_be_bytes());
        SaKey::v6(d, 0x200 + i, 50)
    }
}

fn entry(i: u32) -> SaEntry {
    let dir = if i % 3 == 0 { Dir::In } else { Dir::Out };
    SaEntry::new(key(i), dir, i % 5 == 0)
}

/// A registry holding the [`N_SAS`] SAs of [`entry`].
fn full_registry(test: &Test) -> Option<Pin<KBox<SaRegistry>>> {
    let reg = SaRegistry::new(GFP_KERNEL).and_then(|r| KBox::try_pin_init(r, GFP_KERNEL));
    let Ok(reg) = reg else {
        kunit_expect!(test, false);
        return None;
    };
    let added = (0..N_SAS).filter(|&i| reg.add(&entry(i), 0, GFP_KERNEL).is_ok());
    kunit_expect_eq!(test, added.count(), N_SAS as usize);
    kunit_expect_eq!(test, reg.len(), N_SAS as usize);
    Some(reg)
}

/// Whether `reg` has the SA of `entry(i)`, with its direction and ESN.
fn has(reg: &SaRegistry, i: u32) -> bool {
    let e = entry(i);
    reg.lookup(&sid(e.key), |sa| {
        sa.is_some_and(|sa| *sa.sa_key() == e.key && sa.view() == e.view() && sa.esn() == e.esn)
    })
}

fn sa_registry_finds_10000(test: &Test) {
    let Some(reg) = full_registry(test) else {
        return;
    };
    kunit_expect_eq!(
        test,
        (0..N_SAS).filter(|&i| has(&reg, i)).count(),
        N_SAS as usize
    );
    // Missing keys: another SPI, another family for the same bytes.
    let other_spi = SaKey {
        spi: 0xffff_fff0,
        ..key(0)
    };
    let other_family = SaKey {
        family: Family::V6,
        ..key(0)
    };
    kunit_expect!(test, reg.lookup(&sid(other_spi), |s| s.is_none()));
    kunit_expect!(test, reg.lookup(&sid(other_family), |s| s.is_none()));
    // 10,000 SAs in 4096 buckets: the host test (`sa.rs`,
    // `hash_spreads_10000_sas`) bounds the fullest bucket by 16.
    kunit_expect!(test, reg.largest_bucket() <= 16);
}

/// `hbond_esp/sas` of 10,000 SAs in a page: whole lines, the listed ones
/// and the `... N more` line add up to every SA; a few SAs all fit.
fn sa_listing_fits_a_page(test: &Test) {
    let Some(reg) = full_registry(test) else {
        return;
    };
    let Ok(mut page) = KVec::from_elem(0u8, 4096, GFP_KERNEL) else {
        kunit_expect!(test, false);
        return;
    };
    // The buffer sysfs gives, less the byte `SysfsOut` keeps spare.
    let room = page.len() - 1;
    let (len, listed, omitted) = reg.write_sas(&mut page[..room], |_| Some("sim0"));
    kunit_expect!(test, len <= room);
    kunit_expect_eq!(test, listed + omitted, u64::from(N_SAS));
    kunit_expect!(test, listed > 10 && omitted > 9_000);
    let text = core::str::from_utf8(&page[..len]).unwrap_or("");
    kunit_expect_eq!(test, text.lines().count() as u64, 1 + listed + 1);
    kunit_expect!(test, text.ends_with(" more SAs not listed\n"));
    let last = text.lines().last().unwrap_or("");
    let n = last
        .strip_prefix("... ")
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok());
    kunit_expect_eq!(test, n, Some(omitted));
    // Every SA line has the 4 columns and 12 counters of the header.
    kunit_expect!(
        test,
        text.lines()
            .take(1 + listed as usize)
            .all(|l| l.split(' ').count() == 4 + Counter::COUNT)
    );
    // All but 3 removed: every one listed, no last line.
    let mut ctl = reg.control();
    for i in 3..N_SAS {
        reg.remove(&mut ctl, &sid(key(i)));
    }
    drop(ctl);
    let (len, listed, omitted) = reg.write_sas(&mut page[..room], |_| None);
    kunit_expect_eq!(test, (listed, omitted), (3, 0));
    let text = core::str::from_utf8(&page[..len]).unwrap_or("");
    kunit_expect_eq!(test, text.lines().count(), 4);
    kunit_expect!(test, !text.contains("more SAs"));
}

fn sa_registry_refuses_duplicate(test: &Test) {
    let Some(reg) = full_registry(test) else {
        return;
    };
    // Same key, other direction and ESN: refused, the original stays.
    let mut dup = entry(7);
    dup.dir = Dir::In;
    dup.esn = true;
    kunit_expect_eq!(test, reg.add(&dup, 0, GFP_KERNEL), Err(EEXIST));
    kunit_expect_eq!(test, reg.len(), N_SAS as usize);
    kunit_expect!(test, has(&reg, 7));
}

fn sa_registry_removes_half(test: &Test) {
    let Some(reg) = full_registry(test) else {
        return;
    };
    // Removal itself never sleeps (the control lock, a mutex, is taken
    // outside): from a softirq-like section here.
    let mut ctl = reg.control();
    let removed = with_bh_disabled(|| {
        (0..N_SAS)
            .step_by(2)
            .filter(|i| reg.remove(&mut ctl, &sid(key(*i))))
            .count()
    });
    drop(ctl);
    kunit_expect_eq!(test, removed, N_SAS as usize / 2);
    kunit_expect_eq!(test, reg.len(), N_SAS as usize / 2);
    kunit_expect!(test, !reg.remove(&mut reg.control(), &sid(key(0))));
    kunit_expect!(test, (0..N_SAS).all(|i| has(&reg, i) == (i % 2 == 1)));
    // A removed key can be added again, from atomic context.
    kunit_expect_eq!(
        test,
        with_bh_disabled(|| reg.add(&entry(0), 0, GFP_ATOMIC)),
        Ok(())
    );
    kunit_expect!(test, has(&reg, 0));
    // Dropped non-empty: every entry is freed after a grace period
    // (kmemleak checks at the end of the guest run).
}

fn sa_registry_publishes_state(test: &Test) {
    let reg = SaRegistry::new(GFP_KERNEL).and_then(|r| KBox::try_pin_init(r, GFP_KERNEL));
    let Ok(reg) = reg else {
        kunit_expect!(test, false);
        return;
    };
    let mut e = entry(1);
    kunit_assert!(test, reg.add(&e, 0, GFP_KERNEL).is_ok());
    e.set_home(MemberId(2));
    e.add_slot(EngineId(0));
    e.set_sticky(EngineId(0));
    reg.lookup(&sid(e.key), |sa| {
        if let Some(sa) = sa {
            sa.publish(&e);
            sa.record(Outcome::Inline, 100);
            sa.record(Outcome::Dropped(DropReason::IcvFailure), 60);
        }
    });
    kunit_expect!(test, has_view(&reg, &e));
    let c = reg.lookup(&sid(e.key), |sa| sa.map(|sa| sa.counters()));
    kunit_assert!(test, c.is_some());
    let c = c.unwrap_or_default();
    kunit_expect_eq!(test, c.get(Counter::InlineBytes), 100);
    kunit_expect_eq!(test, c.get(Counter::DroppedPackets), 1);
    kunit_expect_eq!(test, c.get(Counter::DropIcv), 1);
    kunit_expect_eq!(test, c.get(Counter::EnginePackets), 0);
}

fn has_view(reg: &SaRegistry, e: &SaEntry) -> bool {
    reg.lookup(&sid(e.key), |sa| sa.is_some_and(|sa| sa.view() == e.view()))
}

/// Two states with one key (one deleted, its successor added) are two
/// entries; a received packet, which names no state, finds the inbound one.
fn sa_registry_two_states_one_key(test: &Test) {
    let reg = SaRegistry::new(GFP_KERNEL).and_then(|r| KBox::try_pin_init(r, GFP_KERNEL));
    let Ok(reg) = reg else {
        kunit_assert!(test, false);
        return;
    };
    let key = SaKey::v4([192, 0, 2, 1], 0x2502, 50);
    let inbound = SaEntry::new(key, Dir::In, false);
    kunit_expect!(test, reg.add(&inbound, 1, GFP_KERNEL).is_ok());
    kunit_expect!(test, reg.add(&inbound, 2, GFP_KERNEL).is_ok());
    kunit_expect_eq!(test, reg.add(&inbound, 2, GFP_KERNEL), Err(EEXIST));
    kunit_expect_eq!(test, reg.len(), 2);
    let id = |instance| SaId { key, instance };
    kunit_expect!(test, reg.lookup(&id(1), |s| s.is_some()));
    kunit_expect!(test, reg.lookup(&id(2), |s| s.is_some()));
    kunit_expect!(test, reg.lookup(&id(3), |s| s.is_none()));
    kunit_expect_eq!(test, reg.with_key(&key, Dir::In, |_| ()), Some(()));
    kunit_expect_eq!(test, reg.with_key(&key, Dir::Out, |_| ()), None);
    kunit_expect!(test, reg.remove(&mut reg.control(), &id(1)));
    kunit_expect!(test, reg.lookup(&id(2), |s| s.is_some()));
    kunit_expect_eq!(test, reg.with_key(&key, Dir::In, |_| ()), Some(()));
    kunit_expect!(test, reg.remove(&mut reg.control(), &id(2)));
    kunit_expect_eq!(test, reg.with_key(&key, Dir::In, |_| ()), None);
}

/// `ethtool -S hb0` names its ESP counters after `hbond_core::sa::Counter`.
fn ethtool_names_follow_counters(test: &Test) {
    kunit_expect!(test, crate::offload::ethtool_names_match());
}

kunit_suite!(
    hbond_sa_registry_kunit,
    "hbond_sa_registry",
    [
        ("sa_registry_finds_10000", sa_registry_finds_10000),
        (
            "sa_registry_refuses_duplicate",
            sa_registry_refuses_duplicate
        ),
        ("sa_listing_fits_a_page", sa_listing_fits_a_page),
        ("sa_registry_removes_half", sa_registry_removes_half),
        ("sa_registry_publishes_state", sa_registry_publishes_state),
        (
            "sa_registry_two_states_one_key",
            sa_registry_two_states_one_key
        ),
        (
            "ethtool_names_follow_counters",
            ethtool_names_follow_counters
        ),
    ]
);

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
