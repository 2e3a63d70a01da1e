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

use crate::hbond_core::path::{Dir, SaView};
use crate::hbond_core::sa::{self, Counter, Counters, Outcome, SaEntry, SaKey};
use crate::kernel_ext::rcu_hash::{random_seed, RcuHash, RcuHashEntry};
use crate::kernel_ext::xfrm::master::LowerSlot;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::alloc::Flags;
use kernel::prelude::*;

/// The registry has `2^SA_BITS` buckets: 4096, for up to about 10,000 SAs
/// with short chains.
pub(crate) const SA_BITS: u32 = 12;

/// What identifies a registry entry: the SA's key and the state's
/// address. Two states with one key can coexist for a moment (one deleted,
/// not yet freed, while its successor is added).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct SaId {
    pub(crate) key: SaKey,
    /// The address of the `xfrm_state` (0 in tests without one).
    pub(crate) instance: usize,
}

/// One SA offloaded to the team, as the data path sees it.
pub(crate) struct HbondSa {
    id: SaId,
    key: SaKey,
    /// Extended sequence numbers (fixed for the SA's life).
    esn: bool,
    /// `SaView::pack` of the control path's `SaEntry`.
    view: AtomicU64,
    /// Indexed by `Counter as usize`.
    counters: [AtomicU64; Counter::COUNT],
    /// The home slave's part (`None` in tests without a state).
    lower: Option<LowerSlot>,
}

impl HbondSa {
    fn new(entry: &SaEntry, instance: usize, lower: Option<LowerSlot>) -> Self {
        Self {
            id: SaId {
                key: entry.key,
                instance,
            },
            key: entry.key,
            esn: entry.esn,
            view: AtomicU64::new(entry.view().pack()),
            counters: [const { AtomicU64::new(0) }; Counter::COUNT],
            lower,
        }
    }

    /// The home slave's part of the SA.
    pub(crate) fn lower(&self) -> Option<&LowerSlot> {
        self.lower.as_ref()
    }

    /// The control path's entry, rebuilt from the published view.
    pub(crate) fn entry(&self) -> SaEntry {
        let v = self.view();
        let mut e = SaEntry::new(self.key, v.dir, self.esn);
        e.offloaded = v.offloaded;
        e.home = v.home;
        e.slots = v.slots;
        e.sticky = v.sticky;
        e
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
    type Key = SaId;

    fn key(&self) -> &SaId {
        &self.id
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

    /// Adds the SA of `entry` with identity `instance` and no state behind
    /// it (tests), allocating with `flags`. `EEXIST` if that SA is
    /// registered (nothing changes then).
    pub(crate) fn add(&self, entry: &SaEntry, instance: usize, flags: Flags) -> Result {
        self.table.insert(
            self.bucket(&entry.key),
            HbondSa::new(entry, instance, None),
            flags,
        )
    }

    /// Adds the SA of `entry` for the state at `instance`, with its home
    /// slave's part; on failure that comes back with the error (the caller
    /// takes it out of the slave's driver).
    pub(crate) fn add_state(
        &self,
        entry: &SaEntry,
        instance: usize,
        lower: LowerSlot,
        flags: Flags,
    ) -> core::result::Result<(), (Error, LowerSlot)> {
        self.table
            .insert_or_return(
                self.bucket(&entry.key),
                HbondSa::new(entry, instance, Some(lower)),
                flags,
            )
            .map_err(|(e, mut sa)| (e, sa.lower.take().unwrap_or_else(|| unreachable!())))
    }

    /// Runs `f` with the SA of `id`, if registered, under RCU: any
    /// context, `f` must not sleep.
    pub(crate) fn lookup<R>(&self, id: &SaId, f: impl FnOnce(Option<&HbondSa>) -> R) -> R {
        self.table.read(self.bucket(&id.key), id, f)
    }

    /// Removes the SA of `id`; readers may use it until a grace period
    /// has passed, then it is freed. Never sleeps. Returns whether it was
    /// registered.
    pub(crate) fn remove(&self, id: &SaId) -> bool {
        self.table.remove(self.bucket(&id.key), id)
    }

    /// Runs `f` with a registered SA of `key` and direction `dir` (the
    /// data path's view of a received packet, which names no state), under
    /// RCU: any context, `f` must not sleep. `None` if there is none.
    pub(crate) fn with_key<R>(
        &self,
        key: &SaKey,
        dir: Dir,
        f: impl FnOnce(&HbondSa) -> R,
    ) -> Option<R> {
        let mut f = Some(f);
        self.table.find(self.bucket(key), |sa| {
            if sa.key != *key || sa.view().dir != dir {
                return None;
            }
            f.take().map(|f| f(sa))
        })
    }

    /// The first SA in bucket `b` for which `f` returns `Some`, under RCU
    /// (for walks over every SA: `b` in `0..BUCKETS`).
    pub(crate) fn find<R>(&self, b: usize, f: impl FnMut(&HbondSa) -> Option<R>) -> Option<R> {
        self.table.find(b, f)
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
