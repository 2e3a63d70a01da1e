// SPDX-License-Identifier: GPL-2.0

//! KUnit suites of ipsecsim.

use crate::counters::Counter;
use crate::engine::Engine;
use crate::ipsecsim_core::engine::{
    Admit, Class, Faults, Occupancy, RateClock, RingIndex, CATCH_UP_NS, MAX_DEPTH,
};
use crate::ipsecsim_core::esp;
use crate::kernel_ext::{
    crypto::aead::{Direction, SyncAead},
    error as errno,
    gfp::Gfp,
    kunit::Test,
    xfrm::state::OffloadDir,
};
use crate::sa::{RxError, SimSa, RFC4106};
use crate::{kunit_assert, kunit_expect, kunit_expect_eq, kunit_suite};
use kernel::alloc::{flags::GFP_KERNEL, KVec};

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

// RFC 4106 vector from the kernel's crypto/testmgr.h (aes_gcm_rfc4106_tv_template[1]).
const TV_KEY: [u8; 20] = [
    0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83, 0x08,
    0, 0, 0, 0,
];
const TV_IV: [u8; 8] = [0, 0, 0, 0, 0, 0, 0, 1];
const TV_ASSOC: [u8; 16] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const TV_CTEXT: [u8; 32] = [
    0xC0, 0x0D, 0x8B, 0x42, 0x0F, 0x8F, 0x34, 0x18, 0x88, 0xB1, 0xC5, 0xBC, 0xC5, 0xB6, 0xD6, 0x28,
    0x6A, 0x9D, 0xDF, 0x11, 0x5E, 0xFE, 0x5E, 0x9D, 0x2F, 0x70, 0x44, 0x92, 0xF7, 0xF2, 0xE3, 0xEF,
];

fn buffer(parts: &[&[u8]]) -> Option<KVec<u8>> {
    let mut v = KVec::new();
    for p in parts {
        v.extend_from_slice(p, GFP_KERNEL).ok()?;
    }
    Some(v)
}

fn rfc4106_vector_encrypts_and_decrypts(test: &Test) {
    let aead = SyncAead::new(RFC4106).and_then(|mut a| {
        a.set_key(&TV_KEY)?;
        a.set_authsize(16)?;
        Ok(a)
    });
    kunit_assert!(test, aead.is_ok());
    let Ok(aead) = aead else { return };
    let Some(mut buf) = buffer(&[&TV_ASSOC, &[0u8; 16], &[0u8; 16]]) else {
        kunit_assert!(test, false);
        return;
    };
    let mut iv = TV_IV;
    let r = aead.crypt(Direction::Encrypt, &mut buf, 16, 16, &mut iv, Gfp::Kernel);
    kunit_expect!(test, r.is_ok());
    kunit_expect!(test, buf.get(16..48) == Some(&TV_CTEXT[..]));

    let Some(mut buf) = buffer(&[&TV_ASSOC, &TV_CTEXT]) else {
        kunit_assert!(test, false);
        return;
    };
    let mut iv = TV_IV;
    let r = aead.crypt(Direction::Decrypt, &mut buf, 16, 32, &mut iv, Gfp::Kernel);
    kunit_expect!(test, r.is_ok());
    kunit_expect!(test, buf.get(16..32) == Some(&[0u8; 16][..]));
}

fn rfc4106_wrong_tag_is_rejected(test: &Test) {
    let aead = SyncAead::new(RFC4106).and_then(|mut a| {
        a.set_key(&TV_KEY)?;
        a.set_authsize(16)?;
        Ok(a)
    });
    let Ok(aead) = aead else {
        kunit_assert!(test, false);
        return;
    };
    let mut bad = TV_CTEXT;
    bad[31] ^= 1;
    let Some(mut buf) = buffer(&[&TV_ASSOC, &bad]) else {
        kunit_assert!(test, false);
        return;
    };
    let mut iv = TV_IV;
    let r = aead.crypt(Direction::Decrypt, &mut buf, 16, 32, &mut iv, Gfp::Kernel);
    kunit_expect!(test, r == Err(errno::ebadmsg()));
}

/// An IPv4 ESP packet as `esp_xmit` leaves it: header, SPI 0x1001,
/// sequence number 5, IV room, 20 bytes of text, tag room.
fn esp_packet() -> [u8; 80] {
    let mut p = [0u8; 80];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&80u16.to_be_bytes());
    p[9] = esp::IPPROTO_ESP;
    p[16..20].copy_from_slice(&[192, 0, 2, 2]);
    p[20..24].copy_from_slice(&0x1001u32.to_be_bytes());
    p[24..28].copy_from_slice(&5u32.to_be_bytes());
    for (i, b) in p[36..64].iter_mut().enumerate() {
        *b = i as u8;
    }
    p
}

fn sa_seals_and_opens_esp(test: &Test) {
    let tx = SimSa::with_key(&TV_KEY, OffloadDir::Out, false);
    let rx = SimSa::with_key(&TV_KEY, OffloadDir::In, false);
    let (Ok(tx), Ok(rx)) = (tx, rx) else {
        kunit_assert!(test, false);
        return;
    };
    let plain = esp_packet();
    let mut pkt = plain;
    kunit_expect!(test, tx.seal(&mut pkt, 20, 5, 0).is_ok());
    // IV is the sequence number; the text changed; the tag is set.
    kunit_expect!(test, pkt[28..36] == esp::iv_for_seq(5));
    kunit_expect!(test, pkt[36..64] != plain[36..64]);
    kunit_expect!(test, pkt[64..80] != [0u8; 16]);
    let Some(parsed) = esp::parse_rx(&pkt, pkt.len()) else {
        kunit_assert!(test, false);
        return;
    };
    let mut tampered = pkt;
    tampered[70] ^= 0x80;
    let before = tampered;
    kunit_expect!(
        test,
        rx.open(&mut tampered, &parsed) == Err(RxError::AuthFailed)
    );
    kunit_expect!(test, tampered == before);
    kunit_expect!(test, rx.open(&mut pkt, &parsed).is_ok());
    kunit_expect!(test, pkt[36..64] == plain[36..64]);
}

fn sa_refuses_a_truncated_layout(test: &Test) {
    let Ok(tx) = SimSa::with_key(&TV_KEY, OffloadDir::Out, false) else {
        kunit_assert!(test, false);
        return;
    };
    let mut pkt = esp_packet();
    // ESP offset past the end leaves no room for header, IV and tag.
    kunit_expect!(test, tx.seal(&mut pkt, 60, 5, 0).is_err());
}

kunit_suite!(
    ipsecsim_esp_kunit,
    "ipsecsim_esp",
    [
        (
            "rfc4106_vector_encrypts_and_decrypts",
            rfc4106_vector_encrypts_and_decrypts
        ),
        (
            "rfc4106_wrong_tag_is_rejected",
            rfc4106_wrong_tag_is_rejected
        ),
        ("sa_seals_and_opens_esp", sa_seals_and_opens_esp),
        (
            "sa_refuses_a_truncated_layout",
            sa_refuses_a_truncated_layout
        ),
    ]
);

fn engine_rate_spaces_requests(test: &Test) {
    let mut clock = RateClock::default();
    let now = 10 * CATCH_UP_NS;
    let first = clock.charge(now, 1_000_000, 1000);
    kunit_expect_eq!(test, first, now - CATCH_UP_NS + 1_000_000);
    kunit_expect_eq!(test, clock.charge(now, 1_000_000, 500), first + 500_000);
    kunit_expect_eq!(test, RateClock::cost_ns(0, 1 << 20), 0);
    kunit_expect_eq!(test, RateClock::cost_ns(3, 1), 333_333_333);
}

fn engine_admission_depth_and_backlog(test: &Test) {
    let mut occ = Occupancy::default();
    kunit_expect_eq!(test, occ.admit(1, 10, true, false), Admit::Queued);
    kunit_expect_eq!(test, occ.admit(1, 10, true, false), Admit::Full);
    kunit_expect_eq!(test, occ.admit(1, 10, false, true), Admit::Backlogged);
    kunit_expect_eq!(test, (occ.queued(), occ.bytes()), (2, 20));
    occ.release(10, Class::Inline);
    occ.release(10, Class::Backlog);
    kunit_expect_eq!(test, (occ.queued(), occ.bytes()), (0, 0));
}

fn engine_ring_wraps(test: &Test) {
    let mut ring = RingIndex::new(2);
    kunit_expect_eq!(test, ring.push(), Some(0));
    kunit_expect_eq!(test, ring.push(), Some(1));
    kunit_expect_eq!(test, ring.push(), None);
    kunit_expect_eq!(test, ring.pop(), Some(0));
    kunit_expect_eq!(test, ring.push(), Some(0));
    kunit_expect_eq!(test, ring.pop(), Some(1));
    kunit_expect_eq!(test, ring.pop(), Some(0));
    kunit_expect_eq!(test, ring.pop(), None);
}

fn engine_faults(test: &Test) {
    let mut f = Faults::default();
    f.fail_next = 1;
    kunit_expect!(test, f.next_fails());
    kunit_expect!(test, !f.next_fails());
    f.fail_percent = 100;
    kunit_expect!(test, f.next_fails());
    f.stall(1000, 500);
    kunit_expect_eq!(test, f.stalled_for(1200), Some(300));
    kunit_expect_eq!(test, f.stalled_for(1500), None);
}

fn engine_settings_are_validated(test: &Test) {
    let Ok(engine) = Engine::new(u32::MAX) else {
        kunit_assert!(test, false);
        return;
    };
    let depth = engine.depth();
    kunit_expect!(test, engine.set_depth(0).is_err());
    kunit_expect!(test, engine.set_depth(MAX_DEPTH + 1).is_err());
    kunit_expect_eq!(test, engine.depth(), depth);
    kunit_expect!(test, engine.set_depth(MAX_DEPTH).is_ok());
    kunit_expect_eq!(test, engine.depth(), MAX_DEPTH);
    let rate = engine.rate();
    kunit_expect!(test, engine.set_rate(1).is_err());
    kunit_expect!(test, engine.set_rate(u64::MAX).is_err());
    kunit_expect_eq!(test, engine.rate(), rate);
    kunit_expect!(test, engine.set_rate(0).is_ok());
    kunit_expect_eq!(test, engine.rate(), 0);
    kunit_expect!(test, engine.fail_percent(101).is_err());
    kunit_expect_eq!(test, engine.faults().fail_percent, 0);
    engine.stall(60_000);
    kunit_expect!(test, engine.stall_remaining_ms() > 59_000);
    engine.stall(0);
    kunit_expect_eq!(test, engine.stall_remaining_ms(), 0);
    let load = engine.load();
    kunit_expect_eq!(test, (load.in_flight, load.queued_bytes), (0, 0));
    engine.shutdown();
    engine.shutdown();
}

kunit_suite!(
    ipsecsim_engine_kunit,
    "ipsecsim_engine",
    [
        ("engine_rate_spaces_requests", engine_rate_spaces_requests),
        (
            "engine_admission_depth_and_backlog",
            engine_admission_depth_and_backlog
        ),
        ("engine_ring_wraps", engine_ring_wraps),
        ("engine_faults", engine_faults),
        (
            "engine_settings_are_validated",
            engine_settings_are_validated
        ),
    ]
);
