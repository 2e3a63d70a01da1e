// SPDX-License-Identifier: GPL-2.0

//! The team's SA registry (issue 9, item 4): every SA offloaded to the
//! team, in an RCU hash table keyed by [`SaKey`], so that the data path
//! (transmit, receive, engine completions) finds an SA without a lock and
//! `xdo_dev_state_delete` (atomic context, under `x->lock`) removes it
//! without sleeping. See `hbond-core/DESIGN-secondary-use.md`, "SA
//! registry".
//!
//! The control path keeps the authoritative [`SaEntry`] and publishes its
//! [`SaView`] into the entry's `view` word with one store; readers unpack
//! it. Nothing is kept in `xso.offload_handle` (the home slave driver's).

use crate::hbond_core::path::SaView;
use crate::hbond_core::sa::{self, Counter, Counters, Outcome, SaEntry, SaKey};
use crate::kernel_ext::rcu_hash::{random_seed, RcuHash, RcuHashEntry};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::alloc::Flags;
use kernel::prelude::*;

/// The registry has `2^SA_BITS` buckets: 4096, for up to about 10,000 SAs
/// with short chains.
pub(crate) const SA_BITS: u32 = 12;

/// One SA offloaded to the team, as the data path sees it.
pub(crate) struct HbondSa {
    key: SaKey,
    /// Extended sequence numbers (fixed for the SA's life).
    esn: bool,
    /// `SaView::pack` of the control path's `SaEntry`.
    view: AtomicU64,
    /// Indexed by `Counter as usize`.
    counters: [AtomicU64; Counter::COUNT],
}

impl HbondSa {
    fn new(entry: &SaEntry) -> Self {
        Self {
            key: entry.key,
            esn: entry.esn,
            view: AtomicU64::new(entry.view().pack()),
            counters: [const { AtomicU64::new(0) }; Counter::COUNT],
        }
    }

    /// The SA's key.
    pub(crate) fn sa_key(&self) -> &SaKey {
        &self.key
    }

    /// Whether the SA uses extended sequence numbers.
    pub(crate) fn esn(&self) -> bool {
        self.esn
    }

    /// The latest published snapshot for the path decision.
    pub(crate) fn view(&self) -> SaView {
        SaView::unpack(self.view.load(Ordering::Acquire))
    }

    /// Publishes the control path's new state of the SA (its key and
    /// `esn` do not change).
    pub(crate) fn publish(&self, entry: &SaEntry) {
        self.view.store(entry.view().pack(), Ordering::Release);
    }

    /// Counts one packet of `bytes` with this outcome (as
    /// [`Counters::record`]).
    pub(crate) fn record(&self, outcome: Outcome, bytes: u64) {
        let (p, b, r) = Counter::for_outcome(outcome);
        self.counters[p as usize].fetch_add(1, Ordering::Relaxed);
        self.counters[b as usize].fetch_add(bytes, Ordering::Relaxed);
        if let Some(r) = r {
            self.counters[r as usize].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A snapshot of the counters (each one read atomically).
    pub(crate) fn counters(&self) -> Counters {
        let mut c = Counters::default();
        for (o, a) in c.0.iter_mut().zip(self.counters.iter()) {
            *o = a.load(Ordering::Relaxed);
        }
        c
    }
}

impl RcuHashEntry for HbondSa {
    type Key = SaKey;

    fn key(&self) -> &SaKey {
        &self.key
    }
}

/// The SAs offloaded to one team.
#[pin_data]
pub(crate) struct SaRegistry {
    /// Random per registry, so that a peer choosing SPIs cannot aim at one
    /// bucket.
    seed: u32,
    #[pin]
    table: RcuHash<HbondSa>,
}

impl SaRegistry {
    /// An empty registry; the buckets are allocated with `flags`.
    pub(crate) fn new(flags: Flags) -> Result<impl PinInit<Self, Error>> {
        let table = RcuHash::new(SA_BITS, flags)?;
        Ok(try_pin_init!(Self {
            seed: random_seed(),
            table <- table,
        }? Error))
    }

    fn bucket(&self, key: &SaKey) -> usize {
        sa::bucket(key.hash(self.seed), SA_BITS)
    }

    /// Adds the SA of `entry`, allocating with `flags`. `EEXIST` if an SA
    /// with the same key is registered (nothing changes then).
    pub(crate) fn add(&self, entry: &SaEntry, flags: Flags) -> Result {
        self.table
            .insert(self.bucket(&entry.key), HbondSa::new(entry), flags)
    }

    /// Runs `f` with the SA of `key`, if registered, under RCU: any
    /// context, `f` must not sleep.
    pub(crate) fn lookup<R>(&self, key: &SaKey, f: impl FnOnce(Option<&HbondSa>) -> R) -> R {
        self.table.read(self.bucket(key), key, f)
    }

    /// Removes the SA of `key`; readers may use it until a grace period
    /// has passed, then it is freed. Never sleeps (`xdo_dev_state_delete`
    /// runs under `x->lock`). Returns whether it was registered.
    pub(crate) fn remove(&self, key: &SaKey) -> bool {
        self.table.remove(self.bucket(key), key)
    }

    /// Number of registered SAs.
    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// The number of SAs in the fullest bucket (tests, statistics).
    pub(crate) fn largest_bucket(&self) -> usize {
        (0..1usize << SA_BITS)
            .map(|b| self.table.bucket_len(b))
            .max()
            .unwrap_or(0)
    }
}
