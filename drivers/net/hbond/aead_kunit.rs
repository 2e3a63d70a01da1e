// SPDX-License-Identifier: GPL-2.0

//! KUnit suite of the asynchronous AEAD client (`rust/crypto/aead_req.rs`)
//! on the kernel's own `rfc4106(gcm(aes))`: the generic construction, which
//! completes synchronously, and the same behind `cryptd`, which always
//! completes asynchronously (from its worker, with bottom halves disabled),
//! and whose queue (1000 requests per CPU) backlogs what comes beyond.
//! Neither depends on ipsecsim or on the CPU's AES instructions.
//!
//! The known answer was computed on the host with Python's `cryptography`:
//!
//! ```text
//! AESGCM(bytes(range(16))).encrypt(salt + iv, plain, aad)
//!   salt = ca fe ba be, iv = 00 00 00 01 00 00 00 2a,
//!   plain = bytes((i * 7 + 3) & 0xff for i in range(45)),
//!   aad = spi + seq_lo (00 00 12 34, 00 00 00 2a), ESN: spi + seq_hi
//!   (00 00 00 01) + seq_lo
//! ```

use crate::kernel_ext::{
    crypto::aead_req::{
        AeadCompletion, AeadRequest, Completed, EspLayout, Rfc4106Aead, Rfc4106Tfm, Submit,
    },
    error as errno,
    gfp::Gfp,
    kunit::Test,
    net::SkBuff,
    sync_ext::{with_bh_disabled, SpinLockBh},
};
use crate::{kunit_assert, kunit_expect, kunit_expect_eq, kunit_suite, new_spinlock_bh};
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::{
    alloc::flags::GFP_KERNEL, c_str, error::Result, init::InPlaceInit, str::CStr, sync::Arc,
};

/// The generic construction: synchronous.
const SYNC_NAME: &CStr = c_str!("rfc4106(gcm_base(ctr(aes-generic),ghash-generic))");
/// The same behind cryptd: asynchronous.
const ASYNC_NAME: &CStr = c_str!("cryptd(rfc4106(gcm_base(ctr(aes-generic),ghash-generic)))");

const KEY: [u8; 20] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0xca, 0xfe, 0xba, 0xbe,
];
const SPI: [u8; 4] = [0x00, 0x00, 0x12, 0x34];
const SEQ_HI: [u8; 4] = [0x00, 0x00, 0x00, 0x01];
const SEQ_LO: [u8; 4] = [0x00, 0x00, 0x00, 0x2a];
const IV: [u8; 8] = [0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x2a];
const TEXT_LEN: usize = 45;
const ICV_LEN: usize = 16;
/// The ciphertext, the same with and without ESN.
const CIPHER: [u8; TEXT_LEN] = [
    0x2c, 0x8c, 0x15, 0x06, 0x5a, 0x94, 0xab, 0x6b, 0x51, 0x64, 0x4a, 0x85, 0x93, 0xfe, 0x49, 0x57,
    0x35, 0x94, 0x05, 0x82, 0xe3, 0xc4, 0x5e, 0x48, 0x19, 0x5e, 0x01, 0x79, 0x93, 0x38, 0xe8, 0x07,
    0x88, 0x31, 0x2b, 0xf5, 0xfa, 0x27, 0x6f, 0x7c, 0x91, 0xc9, 0x86, 0x76, 0xa8,
];
const ICV: [u8; ICV_LEN] = [
    0x7b, 0xcb, 0x4c, 0x2f, 0xf9, 0xd1, 0x79, 0x22, 0x46, 0x1d, 0x01, 0x15, 0x2d, 0x29, 0x33, 0x82,
];
const ICV_ESN: [u8; ICV_LEN] = [
    0x2a, 0xc0, 0x59, 0x7f, 0x68, 0xc0, 0xcc, 0xd1, 0xd9, 0xa1, 0xf8, 0x14, 0x25, 0xf8, 0x94, 0xe3,
];

/// The packet: 4 bytes standing for the outer header, the ESP header (SPI,
/// seq_lo), the IV, the text, the ICV.
const ESP_OFF: usize = 4;
const IV_OFF: usize = ESP_OFF + 8;
const TEXT_OFF: usize = IV_OFF + 8;
const PKT_LEN: usize = TEXT_OFF + TEXT_LEN + ICV_LEN;

fn plain() -> [u8; TEXT_LEN] {
    let mut p = [0u8; TEXT_LEN];
    for (i, b) in p.iter_mut().enumerate() {
        *b = ((i * 7 + 3) & 0xff) as u8;
    }
    p
}

/// The associated data: SPI, (seq_hi,) seq_lo.
fn assoc(esn: bool) -> ([u8; 12], usize) {
    let mut a = [0u8; 12];
    a[..4].copy_from_slice(&SPI);
    if esn {
        a[4..8].copy_from_slice(&SEQ_HI);
        a[8..].copy_from_slice(&SEQ_LO);
        (a, 12)
    } else {
        a[4..8].copy_from_slice(&SEQ_LO);
        (a, 8)
    }
}

/// A plaintext packet with room for the ICV (zero).
fn packet(gfp: Gfp) -> Result<SkBuff> {
    let mut skb = SkBuff::alloc_zeroed(PKT_LEN as u32, gfp)?;
    let mut head = [0u8; TEXT_OFF];
    head[..ESP_OFF].copy_from_slice(&[0x45, 0, 0, 0]);
    head[ESP_OFF..ESP_OFF + 4].copy_from_slice(&SPI);
    head[ESP_OFF + 4..IV_OFF].copy_from_slice(&SEQ_LO);
    head[IV_OFF..].copy_from_slice(&IV);
    skb.store_bits(0, &head)?;
    skb.store_bits(TEXT_OFF as u32, &plain())?;
    Ok(skb)
}

/// Whether the packet holds the header, IV and `text` followed by `icv`.
fn holds(skb: &SkBuff, text: &[u8; TEXT_LEN], icv: &[u8; ICV_LEN]) -> bool {
    let mut buf = [0u8; PKT_LEN];
    if skb.len() as usize != PKT_LEN || skb.copy_bits(0, &mut buf).is_err() {
        return false;
    }
    buf[ESP_OFF..ESP_OFF + 4] == SPI
        && buf[ESP_OFF + 4..IV_OFF] == SEQ_LO
        && buf[IV_OFF..TEXT_OFF] == IV
        && buf[TEXT_OFF..TEXT_OFF + TEXT_LEN] == text[..]
        && buf[TEXT_OFF + TEXT_LEN..] == icv[..]
}

fn keyed(name: &CStr) -> Result<Rfc4106Aead> {
    let mut tfm = Rfc4106Tfm::new(name)?;
    tfm.set_key(&KEY)?;
    tfm.set_authsize(ICV_LEN)?;
    tfm.into_keyed()
}

/// Context of a request whose outcome the test collects.
struct Collect {
    slot: Arc<SpinLockBh<Option<(SkBuff, Result)>>>,
}

impl AeadCompletion for Collect {
    fn complete(req: Completed<Self>, result: Result) {
        let (skb, ctx) = req.into_parts();
        *ctx.slot.lock() = Some((skb, result));
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Encrypt,
    Decrypt,
}

/// Runs one request to its end: synchronously (`Done`) for the generic
/// transform, through the completion for cryptd (checked: the asynchronous
/// path must be the one taken), waited for with `drain`.
fn run(
    test: &Test,
    aead: &Rfc4106Aead,
    skb: SkBuff,
    dir: Dir,
    esn: bool,
) -> Option<(SkBuff, Result)> {
    let slot = match Arc::pin_init(new_spinlock_bh!(None), GFP_KERNEL) {
        Ok(slot) => slot,
        Err(_) => {
            kunit_expect!(test, false);
            return None;
        }
    };
    let (a, alen) = assoc(esn);
    let layout = EspLayout {
        assoc: &a[..alen],
        iv_offset: IV_OFF as u32,
        text_len: TEXT_LEN as u32,
    };
    let ctx = Collect { slot: slot.clone() };
    let req = match AeadRequest::new(aead, skb, ctx, &layout, Gfp::Kernel) {
        Ok(req) => req,
        Err(_) => {
            kunit_expect!(test, false);
            return None;
        }
    };
    let submitted = match dir {
        Dir::Encrypt => req.encrypt(),
        Dir::Decrypt => req.decrypt(),
    };
    match submitted {
        Submit::Done(done, result) => {
            kunit_expect!(test, !aead.is_async());
            let (skb, _) = done.into_parts();
            Some((skb, result))
        }
        Submit::InProgress | Submit::Backlogged => {
            kunit_expect!(test, aead.is_async());
            aead.drain();
            kunit_expect_eq!(test, aead.in_flight(), 0);
            let outcome = slot.lock().take();
            // The completion ran before drain returned.
            kunit_expect!(test, outcome.is_some());
            outcome
        }
        Submit::Rejected(_) => {
            kunit_expect!(test, false);
            None
        }
    }
}

/// Encrypts, compares with the known answer, decrypts, compares with the
/// plaintext; then a tampered ICV must fail with EBADMSG.
fn round_trip(test: &Test, name: &CStr, esn: bool) {
    let aead = match keyed(name) {
        Ok(aead) => aead,
        Err(e) => {
            kunit_expect!(test, false);
            kernel::pr_err!("hbond_aead: {:?}: {:?}\n", name, e);
            return;
        }
    };
    let icv = if esn { &ICV_ESN } else { &ICV };
    let Ok(skb) = packet(Gfp::Kernel) else {
        kunit_assert!(test, false);
        return;
    };
    kunit_assert!(test, holds(&skb, &plain(), &[0; ICV_LEN]));
    let Some((skb, r)) = run(test, &aead, skb, Dir::Encrypt, esn) else {
        return;
    };
    kunit_expect!(test, r.is_ok());
    kunit_expect!(test, holds(&skb, &CIPHER, icv));

    let Some((skb, r)) = run(test, &aead, skb, Dir::Decrypt, esn) else {
        return;
    };
    kunit_expect!(test, r.is_ok());
    kunit_expect!(test, holds(&skb, &plain(), icv));

    // Encrypt again, flip one bit of the ICV: EBADMSG.
    let Some((mut skb, r)) = run(test, &aead, skb, Dir::Encrypt, esn) else {
        return;
    };
    kunit_expect!(test, r.is_ok());
    let mut bad = *icv;
    bad[ICV_LEN - 1] ^= 0x01;
    kunit_assert!(
        test,
        skb.store_bits((PKT_LEN - ICV_LEN) as u32, &bad).is_ok()
    );
    let Some((_, r)) = run(test, &aead, skb, Dir::Decrypt, esn) else {
        return;
    };
    kunit_expect!(test, r == Err(errno::ebadmsg()));
    // The wrong associated data (ESN expected, none given) fails too.
    let Ok(skb) = packet(Gfp::Kernel) else {
        kunit_assert!(test, false);
        return;
    };
    let Some((skb, r)) = run(test, &aead, skb, Dir::Encrypt, esn) else {
        return;
    };
    kunit_expect!(test, r.is_ok());
    let Some((_, r)) = run(test, &aead, skb, Dir::Decrypt, !esn) else {
        return;
    };
    kunit_expect!(test, r == Err(errno::ebadmsg()));
}

fn sync_known_answer(test: &Test) {
    round_trip(test, SYNC_NAME, false);
}

fn sync_known_answer_esn(test: &Test) {
    round_trip(test, SYNC_NAME, true);
}

fn async_known_answer(test: &Test) {
    round_trip(test, ASYNC_NAME, false);
}

fn async_known_answer_esn(test: &Test) {
    round_trip(test, ASYNC_NAME, true);
}

/// Counts the completions of many requests, checking each ciphertext.
struct Tally {
    calls: AtomicUsize,
    good: AtomicUsize,
}

struct Count {
    tally: Arc<Tally>,
}

impl AeadCompletion for Count {
    fn complete(req: Completed<Self>, result: Result) {
        let t = &req.ctx().tally;
        t.calls.fetch_add(1, Ordering::Relaxed);
        if result.is_ok() && holds(req.skb(), &CIPHER, &ICV) {
            t.good.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[derive(Default)]
struct Submitted {
    in_progress: usize,
    backlogged: usize,
    other: usize,
}

/// Submits `n` encryptions with bottom halves disabled, as the data path
/// does: cryptd's worker for this CPU cannot run meanwhile, so its queue
/// fills up to 1000 requests and the rest goes to the backlog.
fn submit_many(aead: &Rfc4106Aead, tally: &Arc<Tally>, n: usize) -> Submitted {
    let mut s = Submitted::default();
    let (a, alen) = assoc(false);
    let layout = EspLayout {
        assoc: &a[..alen],
        iv_offset: IV_OFF as u32,
        text_len: TEXT_LEN as u32,
    };
    with_bh_disabled(|| {
        for _ in 0..n {
            let Ok(skb) = packet(Gfp::Atomic) else {
                s.other += 1;
                continue;
            };
            let ctx = Count {
                tally: tally.clone(),
            };
            match AeadRequest::new(aead, skb, ctx, &layout, Gfp::Atomic).map(|r| r.encrypt()) {
                Ok(Submit::InProgress) => s.in_progress += 1,
                Ok(Submit::Backlogged) => s.backlogged += 1,
                _ => s.other += 1,
            }
        }
    });
    s
}

fn new_tally() -> Option<Arc<Tally>> {
    Arc::new(
        Tally {
            calls: AtomicUsize::new(0),
            good: AtomicUsize::new(0),
        },
        GFP_KERNEL,
    )
    .ok()
}

/// Beyond cryptd's queue, requests are backlogged (`-EBUSY`), notified with
/// `-EINPROGRESS` when they enter the queue (not passed on) and completed
/// once; drain waits for all of them.
fn backlog_and_drain(test: &Test) {
    const N: usize = 1100;
    let (Ok(aead), Some(tally)) = (keyed(ASYNC_NAME), new_tally()) else {
        kunit_assert!(test, false);
        return;
    };
    let s = submit_many(&aead, &tally, N);
    kunit_expect_eq!(test, s.other, 0);
    kunit_expect_eq!(test, s.in_progress + s.backlogged, N);
    kunit_expect!(test, s.backlogged > 0);
    // Nothing completed yet: the worker had no chance to run.
    kunit_expect!(test, aead.in_flight() == N);
    kunit_expect_eq!(test, tally.calls.load(Ordering::Relaxed), 0);
    aead.drain();
    kunit_expect_eq!(test, aead.in_flight(), 0);
    kunit_expect_eq!(test, tally.calls.load(Ordering::Relaxed), N);
    kunit_expect_eq!(test, tally.good.load(Ordering::Relaxed), N);
}

/// Dropping the transform with requests in flight waits for them.
fn drop_waits_for_requests(test: &Test) {
    const N: usize = 64;
    let (Ok(aead), Some(tally)) = (keyed(ASYNC_NAME), new_tally()) else {
        kunit_assert!(test, false);
        return;
    };
    let s = submit_many(&aead, &tally, N);
    kunit_expect_eq!(test, s.in_progress, N);
    kunit_expect_eq!(test, tally.calls.load(Ordering::Relaxed), 0);
    drop(aead);
    kunit_expect_eq!(test, tally.calls.load(Ordering::Relaxed), N);
    kunit_expect_eq!(test, tally.good.load(Ordering::Relaxed), N);
}

/// A layout that does not fit is refused before anything is submitted,
/// with the packet and context back; so is a transform without a key, or
/// of another algorithm.
fn refuses_bad_layout(test: &Test) {
    let Ok(aead) = keyed(SYNC_NAME) else {
        kunit_assert!(test, false);
        return;
    };
    let Some(tally) = new_tally() else {
        kunit_assert!(test, false);
        return;
    };
    let (a, _) = assoc(true);
    let cases = [
        // Associated data of 7 bytes.
        (7, IV_OFF as u32, TEXT_LEN as u32),
        // One byte too long for the packet (no room for the ICV).
        (8, IV_OFF as u32, TEXT_LEN as u32 + 1),
        // Offset beyond the packet, and one that overflows.
        (8, PKT_LEN as u32, 0),
        (8, u32::MAX - 4, TEXT_LEN as u32),
    ];
    for (alen, iv_offset, text_len) in cases {
        let Ok(skb) = packet(Gfp::Kernel) else {
            kunit_assert!(test, false);
            return;
        };
        let layout = EspLayout {
            assoc: &a[..alen],
            iv_offset,
            text_len,
        };
        let ctx = Count {
            tally: tally.clone(),
        };
        match AeadRequest::new(&aead, skb, ctx, &layout, Gfp::Kernel) {
            Ok(_) => kunit_expect!(test, false),
            Err(r) => {
                kunit_expect!(test, r.err == kernel::error::code::EINVAL);
                kunit_expect!(test, holds(&r.skb, &plain(), &[0; ICV_LEN]));
                kunit_expect!(test, Arc::ptr_eq(&r.ctx.tally, &tally));
            }
        }
    }
    kunit_expect_eq!(test, tally.calls.load(Ordering::Relaxed), 0);
    // No key: not usable.
    match Rfc4106Tfm::new(SYNC_NAME) {
        Ok(tfm) => kunit_expect!(test, tfm.into_keyed().is_err()),
        Err(_) => kunit_expect!(test, false),
    }
    // Another algorithm with the same IV size.
    kunit_expect!(test, Rfc4106Tfm::new(c_str!("rfc4543(gcm(aes))")).is_err());
}

kunit_suite!(
    hbond_aead_kunit,
    "hbond_aead",
    [
        ("sync_known_answer", sync_known_answer),
        ("sync_known_answer_esn", sync_known_answer_esn),
        ("async_known_answer", async_known_answer),
        ("async_known_answer_esn", async_known_answer_esn),
        ("backlog_and_drain", backlog_and_drain),
        ("drop_waits_for_requests", drop_waits_for_requests),
        ("refuses_bad_layout", refuses_bad_layout),
    ]
);
