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

use crate::hbond_core::accounting::{SaListing, SaRow};
use crate::hbond_core::path::{Dir, EngineId, MemberId, SaView, MAX_MEMBERS};
use crate::hbond_core::sa::{self, Counter, Counters, Outcome, SaEntry, SaKey};
use crate::kernel_ext::crypto::aead_req::Rfc4106Aead;
use crate::kernel_ext::rcu_box::RcuBox;
use crate::kernel_ext::rcu_hash::{random_seed, RcuHash, RcuHashEntry};
use crate::kernel_ext::xfrm::master::LowerSlot;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::alloc::Flags;
use kernel::alloc::KBox;
use kernel::new_mutex;
use kernel::prelude::*;
use kernel::sync::{
    lock::{mutex::MutexBackend, Guard},
    Mutex,
};

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
    /// Extended sequence numbers (fixed for the SA's life).
    esn: bool,
    /// `SaView::pack` of the control path's `SaEntry`.
    view: AtomicU64,
    /// Indexed by `Counter as usize`.
    counters: [AtomicU64; Counter::COUNT],
    /// The home slave's part (`None` in tests without a state).
    lower: Option<LowerSlot>,
    /// Transforms keyed from the SA, by engine (`SaView::slots`). Emptied
    /// by the team's `free` (process context: dropping one waits for its
    /// requests) before the entry leaves the registry.
    slots: [RcuBox<Rfc4106Aead>; MAX_MEMBERS],
    /// The serial of the engine (`capability::Engine::serial`) each slot's
    /// transform was keyed on, 0 for an empty slot. Read and written by the
    /// control path only (under the registry's control lock, or before the
    /// entry is published).
    slot_engines: [AtomicU64; MAX_MEMBERS],
}

/// The transforms of a new SA, by engine, each with the serial of the
/// engine it was keyed on.
pub(crate) type Slots = [Option<(KBox<Rfc4106Aead>, u64)>; MAX_MEMBERS];

impl HbondSa {
    fn new(entry: &SaEntry, instance: usize, lower: Option<LowerSlot>, slots: Slots) -> Self {
        let boxes = [const { RcuBox::new() }; MAX_MEMBERS];
        let slot_engines = [const { AtomicU64::new(0) }; MAX_MEMBERS];
        for ((b, serial), s) in boxes.iter().zip(slot_engines.iter()).zip(slots) {
            if let Some((t, engine)) = s {
                serial.store(engine, Ordering::Relaxed);
                // An empty slot: no grace period, no sleep.
                b.replace(Some(t));
            }
        }
        Self {
            id: SaId {
                key: entry.key,
                instance,
            },
            esn: entry.esn,
            view: AtomicU64::new(entry.view().pack()),
            counters: [const { AtomicU64::new(0) }; Counter::COUNT],
            lower,
            slots: boxes,
            slot_engines,
        }
    }

    /// The entry's identity.
    pub(crate) fn id(&self) -> &SaId {
        &self.id
    }

    /// The transform of engine `e`, if the SA has one.
    pub(crate) fn slot(&self, e: EngineId) -> Option<&RcuBox<Rfc4106Aead>> {
        self.slots.get(usize::from(e.0))
    }

    /// The serial of the engine the transform of slot `e` was keyed on (0:
    /// the slot is empty). Control path: under the registry's control lock.
    pub(crate) fn slot_engine(&self, _ctl: &SaControl<'_>, e: EngineId) -> u64 {
        self.slot_engines
            .get(usize::from(e.0))
            .map_or(0, |s| s.load(Ordering::Relaxed))
    }

    /// Frees the transform of engine `e` once no request runs on it.
    /// Sleeps: process context, under the registry's control lock.
    pub(crate) fn free_slot(&self, _ctl: &SaControl<'_>, e: EngineId) {
        if let Some(s) = self.slot(e) {
            s.replace(None);
        }
        if let Some(serial) = self.slot_engines.get(usize::from(e.0)) {
            serial.store(0, Ordering::Relaxed);
        }
    }

    /// Frees every transform (the team's `free`, or an entry that was never
    /// published). Sleeps.
    pub(crate) fn free_slots(&self) {
        for (s, serial) in self.slots.iter().zip(self.slot_engines.iter()) {
            s.replace(None);
            serial.store(0, Ordering::Relaxed);
        }
    }

    /// The home slave's part of the SA.
    pub(crate) fn lower(&self) -> Option<&LowerSlot> {
        self.lower.as_ref()
    }

    /// The control path's entry, rebuilt from the published view.
    pub(crate) fn entry(&self) -> SaEntry {
        let v = self.view();
        let mut e = SaEntry::new(self.id.key, v.dir, self.esn);
        e.offloaded = v.offloaded;
        e.home = v.home;
        e.slots = v.slots;
        e.sticky = v.sticky;
        e
    }

    /// The SA's key.
    pub(crate) fn sa_key(&self) -> &SaKey {
        &self.id.key
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

impl Drop for HbondSa {
    fn drop(&mut self) {
        // Dropped after a grace period, in softirq context: a transform
        // left here cannot be freed (that waits for its requests).
        for s in self.slots.iter_mut() {
            if !s.is_empty() {
                pr_err!("hbond: an SA's transform was left at its removal (leaked)\n");
                s.forget();
            }
        }
    }
}

impl RcuHashEntry for HbondSa {
    type Key = SaId;

    fn key(&self) -> &SaId {
        &self.id
    }
}

/// The SAs offloaded to one team.
///
/// # Invariants
///
/// Entries leave `table` only through [`SaRegistry::remove`], which needs
/// the control lock exclusively (`&mut SaControl`).
#[pin_data]
pub(crate) struct SaRegistry {
    /// Random per registry, so that a peer choosing SPIs cannot aim at one
    /// bucket.
    seed: u32,
    #[pin]
    table: RcuHash<HbondSa>,
    /// Serialises the control path (add, free, release); never taken by
    /// the data path.
    #[pin]
    control: Mutex<()>,
}

/// The registry's control lock, held: entries found under it stay alive
/// while it is borrowed, outside RCU too (for work that sleeps).
pub(crate) struct SaControl<'a> {
    _guard: Guard<'a, (), MutexBackend>,
}

impl SaRegistry {
    /// An empty registry; the buckets are allocated with `flags`.
    pub(crate) fn new(flags: Flags) -> Result<impl PinInit<Self, Error>> {
        let table = RcuHash::new(SA_BITS, flags)?;
        Ok(try_pin_init!(Self {
            seed: random_seed(),
            table <- table,
            control <- new_mutex!(()),
        }? Error))
    }

    /// Takes the control lock (process context; may sleep).
    pub(crate) fn control(&self) -> SaControl<'_> {
        SaControl {
            _guard: self.control.lock(),
        }
    }

    /// The SA of `id`, for as long as the control lock is held and not
    /// used to remove entries.
    pub(crate) fn get<'c>(&self, _ctl: &'c SaControl<'_>, id: &SaId) -> Option<&'c HbondSa> {
        let ptr = self
            .table
            .read(self.bucket(&id.key), id, |e| e.map(core::ptr::from_ref))?;
        // SAFETY: The entry was in the table; entries leave it only through
        // `remove` (type invariant), which needs the control lock
        // exclusively while `_ctl` borrows it shared for `'c`; a removed
        // entry is freed only a grace period after its removal. So the
        // entry stays allocated for `'c`. `self` outlives `'c` (the guard
        // borrows `self.control`).
        Some(unsafe { &*ptr })
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
            HbondSa::new(entry, instance, None, [const { None }; MAX_MEMBERS]),
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
        slots: Slots,
        flags: Flags,
    ) -> core::result::Result<(), (Error, LowerSlot)> {
        self.table
            .insert_or_return(
                self.bucket(&entry.key),
                HbondSa::new(entry, instance, Some(lower), slots),
                flags,
            )
            .map_err(|(e, mut sa)| {
                // Never published; process context (the team's add).
                sa.free_slots();
                (e, sa.lower.take().unwrap_or_else(|| unreachable!()))
            })
    }

    /// Runs `f` with the SA of `id`, if registered, under RCU: any
    /// context, `f` must not sleep.
    pub(crate) fn lookup<R>(&self, id: &SaId, f: impl FnOnce(Option<&HbondSa>) -> R) -> R {
        self.table.read(self.bucket(&id.key), id, f)
    }

    /// Removes the SA of `id`; readers may use it until a grace period
    /// has passed, then it is freed. Never sleeps. Returns whether it was
    /// registered.
    pub(crate) fn remove(&self, _ctl: &mut SaControl<'_>, id: &SaId) -> bool {
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
            if sa.id.key != *key || sa.view().dir != dir {
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

    /// Writes the `hbond_esp/sas` file into `buf`: a line per registered
    /// SA in registry order (bucket by bucket, under RCU), its home named
    /// by `home`, as many as fit (`accounting::SaListing`: the rest are
    /// counted in a last line). Returns its length and how many SAs were
    /// listed and not listed. Any context; walks every bucket.
    pub(crate) fn write_sas<'n>(
        &self,
        buf: &mut [u8],
        home: impl Fn(MemberId) -> Option<&'n str>,
    ) -> (usize, u64, u64) {
        let mut list = SaListing::new(buf);
        for b in 0..(1usize << SA_BITS) {
            self.table.find(b, |sa| {
                let view = sa.view();
                list.push(&SaRow {
                    key: sa.sa_key(),
                    dir: view.dir,
                    home: view.home.and_then(&home),
                    counters: &sa.counters(),
                });
                None::<()>
            });
        }
        let (listed, omitted) = (list.listed(), list.omitted());
        (list.finish(), listed, omitted)
    }

    /// The number of SAs in the fullest bucket (tests, statistics).
    pub(crate) fn largest_bucket(&self) -> usize {
        (0..1usize << SA_BITS)
            .map(|b| self.table.bucket_len(b))
            .max()
            .unwrap_or(0)
    }
}
