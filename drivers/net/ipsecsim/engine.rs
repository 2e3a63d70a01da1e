// SPDX-License-Identifier: GPL-2.0

//! The device's crypto engine: one queue of requests from the device's own
//! inline path and from crypto API users, processed by a worker at the
//! configured rate, with faults injected on demand.
//!
//! The arithmetic (admission, rate, faults) is in `ipsecsim-core`'s
//! `engine` module; this file holds the requests and runs them.

use crate::engine_alg::EngineAlg;
use crate::ipsecsim_core::engine::{
    depth_is_valid, rate_is_valid, rate_sleep_us, runs_at_once, Admit, Class, Faults, Occupancy,
    RateClock, RingIndex, DEFAULT_DEPTH, DEFAULT_RATE, MAX_DEPTH, MAX_RATE, MIN_RATE, RING_SLOTS,
    SLEEP_SLICE_US,
};
use crate::kernel_ext::{
    crypto::aead_alg::AeadRequest,
    sync_ext::{with_bh_disabled, SpinLockBh},
    workqueue_ext::{now_ns, sleep_us, DelayedWork, DelayedWorkItem},
};
use crate::new_spinlock_bh;
use crate::offload::{RxJob, TxJob};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use kernel::{
    alloc::{flags::GFP_KERNEL, KVVec},
    prelude::*,
    sync::Arc,
};

/// Default rate of new engines in bytes per second (module parameter
/// `engine_rate`, set by the module's C part at load time, after
/// [`ipsecsim_param_check_rate`]).
#[no_mangle]
pub(crate) static ipsecsim_param_engine_rate: AtomicU64 = AtomicU64::new(DEFAULT_RATE);

/// Default queue depth of new engines (module parameter `engine_depth`,
/// checked by [`ipsecsim_param_check_depth`]).
#[no_mangle]
pub(crate) static ipsecsim_param_engine_depth: AtomicU32 = AtomicU32::new(DEFAULT_DEPTH);

/// Checks a value for the `engine_rate` module parameter: 0 or `-EINVAL`
/// (the module does not load), with the valid range in the kernel log.
#[no_mangle]
pub(crate) extern "C" fn ipsecsim_param_check_rate(rate: u64) -> kernel::ffi::c_int {
    if rate_is_valid(rate) {
        return 0;
    }
    pr_err!("engine_rate must be 0 (unlimited) or {MIN_RATE}..={MAX_RATE} bytes per second\n");
    EINVAL.to_errno()
}

/// Checks a value for the `engine_depth` module parameter, as
/// [`ipsecsim_param_check_rate`].
#[no_mangle]
pub(crate) extern "C" fn ipsecsim_param_check_depth(depth: u32) -> kernel::ffi::c_int {
    if depth_is_valid(depth) {
        return 0;
    }
    pr_err!("engine_depth must be 1..={MAX_DEPTH}\n");
    EINVAL.to_errno()
}

/// Requests the worker runs before it yields the CPU by requeueing itself.
const BATCH: u32 = 64;

/// Who asked for the work; completed bytes are counted per origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The device's own inline transmit path.
    InlineTx = 0,
    /// The device's own inline receive path.
    InlineRx = 1,
    /// A crypto API user (another driver, AF_ALG, the self-tests).
    External = 2,
}

/// One request in the queue.
pub(crate) enum Job {
    /// Encrypt a packet the device transmits.
    Tx(TxJob),
    /// Decrypt a packet the device received.
    Rx(RxJob),
    /// A crypto API request.
    External(AeadRequest<EngineAlg>),
}

impl Job {
    fn is_inline(&self) -> bool {
        !matches!(self, Job::External(_))
    }

    fn origin(&self) -> Origin {
        match self {
            Job::Tx(_) => Origin::InlineTx,
            Job::Rx(_) => Origin::InlineRx,
            Job::External(_) => Origin::External,
        }
    }

    fn bytes(&self) -> u64 {
        match self {
            Job::Tx(job) => u64::from(job.bytes()),
            Job::Rx(job) => u64::from(job.bytes()),
            Job::External(req) => req.work_bytes() as u64,
        }
    }

    /// Does the crypto; returns whether it succeeded.
    fn run(&mut self) -> Result {
        match self {
            Job::Tx(job) => job.run(),
            Job::Rx(job) => job.run(),
            Job::External(req) => crate::engine_alg::run(req),
        }
    }

    /// Hands the result back to the submitter, as a NIC's completion
    /// interrupt would: with bottom halves disabled.
    fn finish(self, result: Result) {
        match self {
            Job::Tx(job) => with_bh_disabled(|| job.finish(result)),
            Job::Rx(job) => with_bh_disabled(|| job.finish(result)),
            Job::External(req) => req.complete(result),
        }
    }
}

/// A queued job and where it counts in the queue (a backlogged one's
/// submitter was told so).
struct Slot {
    job: Job,
    class: Class,
}

/// What the lock protects.
struct Queue {
    slots: KVVec<Option<Slot>>,
    ring: RingIndex,
    occupancy: Occupancy,
    clock: RateClock,
    faults: Faults,
    /// The worker is scheduled or running.
    running: bool,
    /// The device went away: no more inline work.
    inline_closed: bool,
    /// The engine stopped: no new work.
    shut_down: bool,
}

impl Queue {
    fn pop(&mut self) -> Option<Slot> {
        let index = self.ring.pop()?;
        self.slots.get_mut(index).and_then(Option::take)
    }
}

/// Counters of the engine (sysfs and `ethtool -S`).
#[derive(Default)]
pub(crate) struct EngineStats {
    /// Requests completed successfully, per [`Origin`].
    pub(crate) completed: [AtomicU64; 3],
    /// Bytes of those requests, per [`Origin`].
    pub(crate) completed_bytes: [AtomicU64; 3],
    /// Requests completed with an error (crypto failure, injected fault,
    /// shutdown).
    pub(crate) errors: AtomicU64,
    /// Of those, failed on purpose by fault injection.
    pub(crate) injected: AtomicU64,
    /// Requests refused because the queue was full.
    pub(crate) rejected: AtomicU64,
    /// Requests done at once in the submitter's context (inline work, and
    /// crypto API requests by [`Engine::admit_at_once`]), counted in
    /// `completed` and `errors` too.
    pub(crate) at_once: AtomicU64,
}

impl EngineStats {
    /// Counts a request of `origin` and `bytes` that ended with `result`.
    fn count(&self, origin: Origin, bytes: u64, result: &Result) {
        let origin = origin as usize;
        match result {
            Ok(()) => {
                self.completed[origin].fetch_add(1, Relaxed);
                self.completed_bytes[origin].fetch_add(bytes, Relaxed);
            }
            Err(_) => {
                self.errors.fetch_add(1, Relaxed);
            }
        }
    }
}

/// A snapshot of the queue.
pub(crate) struct Load {
    /// Requests queued or running.
    pub(crate) in_flight: u32,
    /// Their bytes.
    pub(crate) queued_bytes: u64,
}

crate::delayed_work_owner! {
/// The crypto engine of one ipsecsim device.
#[pin_data]
pub(crate) struct Engine {
    #[pin]
    work: DelayedWork<Self>,
    /// Number in the engine's name, unique while the module is loaded.
    id: u32,
    /// Bytes per second (0: unlimited).
    rate: AtomicU64,
    /// Queue depth.
    depth: AtomicU32,
    pub(crate) stats: EngineStats,
    #[pin]
    queue: SpinLockBh<Queue>,
}
}

/// Why a submission was refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The queue is full.
    Full,
    /// The engine is shutting down.
    Gone,
}

impl Refused {
    pub(crate) fn errno(&self) -> Error {
        match self {
            Refused::Full => ENOSPC,
            Refused::Gone => ENODEV,
        }
    }
}

impl Engine {
    /// A new engine with the module's default rate and depth. May sleep.
    pub(crate) fn new(id: u32) -> Result<Arc<Self>> {
        let mut slots = KVVec::with_capacity(RING_SLOTS as usize, GFP_KERNEL)?;
        for _ in 0..RING_SLOTS {
            slots.push(None, GFP_KERNEL)?;
        }
        let depth = ipsecsim_param_engine_depth
            .load(Relaxed)
            .clamp(1, MAX_DEPTH);
        Arc::pin_init(
            pin_init!(Self {
                work <- DelayedWork::new(),
                id,
                rate: AtomicU64::new(ipsecsim_param_engine_rate.load(Relaxed)),
                depth: AtomicU32::new(depth),
                stats: EngineStats::default(),
                queue <- new_spinlock_bh!(Queue {
                    slots,
                    ring: RingIndex::new(RING_SLOTS),
                    occupancy: Occupancy::default(),
                    clock: RateClock::default(),
                    faults: Faults::default(),
                    running: false,
                    inline_closed: false,
                    shut_down: false,
                }, "ipsecsim_engine"),
            }),
            GFP_KERNEL,
        )
    }

    /// The engine's number (its name is `ipsecsim-engine-<id>`).
    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    /// Bytes per second, 0 for unlimited.
    pub(crate) fn rate(&self) -> u64 {
        self.rate.load(Relaxed)
    }

    /// Sets the rate: 0 (unlimited) or `MIN_RATE..=MAX_RATE` bytes per
    /// second; anything else is `-EINVAL` and changes nothing. A request
    /// already running keeps the schedule it started with.
    pub(crate) fn set_rate(&self, rate: u64) -> Result {
        if !rate_is_valid(rate) {
            return Err(EINVAL);
        }
        self.rate.store(rate, Relaxed);
        Ok(())
    }

    pub(crate) fn depth(&self) -> u32 {
        self.depth.load(Relaxed)
    }

    /// Sets the queue depth (1..=MAX_DEPTH); queued requests stay.
    pub(crate) fn set_depth(&self, depth: u32) -> Result {
        if !depth_is_valid(depth) {
            return Err(EINVAL);
        }
        self.depth.store(depth, Relaxed);
        Ok(())
    }

    pub(crate) fn load(&self) -> Load {
        let q = self.queue.lock();
        Load {
            in_flight: q.occupancy.queued(),
            queued_bytes: q.occupancy.bytes(),
        }
    }

    /// Fault injection: fails the next `n` requests.
    pub(crate) fn fail_next(&self, n: u32) {
        self.queue.lock().faults.fail_next = n;
    }

    pub(crate) fn faults(&self) -> Faults {
        self.queue.lock().faults
    }

    /// Fault injection: fails `percent` of the requests at random.
    pub(crate) fn fail_percent(&self, percent: u8) -> Result {
        if percent > 100 {
            return Err(EINVAL);
        }
        self.queue.lock().faults.fail_percent = percent;
        Ok(())
    }

    /// Fault injection: takes no request for `ms` milliseconds from now (0
    /// ends a stall).
    pub(crate) fn stall(&self, ms: u32) {
        let now = now_ns();
        self.queue
            .lock()
            .faults
            .stall(now, u64::from(ms) * 1_000_000);
        // The worker sleeps in slices and notices the change.
    }

    /// Milliseconds left of an injected stall.
    pub(crate) fn stall_remaining_ms(&self) -> u64 {
        let now = now_ns();
        self.queue
            .lock()
            .faults
            .stalled_for(now)
            .map_or(0, |ns| ns.div_ceil(1_000_000))
    }

    /// Admits a crypto API request of `bytes` to be done at once in its
    /// submitter's context (see `runs_at_once`: an unlimited, idle engine
    /// without faults), counted in the queue until
    /// [`Engine::done_at_once`] or [`Engine::withdraw_at_once`].
    pub(crate) fn admit_at_once(&self, bytes: u64) -> bool {
        let rate = self.rate();
        if rate != 0 {
            // A rate is the worker's: no lock taken for nothing.
            return false;
        }
        let (depth, now) = (self.depth(), now_ns());
        let mut q = self.queue.lock();
        let idle = !q.running && q.ring.is_empty() && !q.shut_down;
        runs_at_once(rate, idle, &q.faults, now)
            && q.occupancy.admit(depth, bytes, false, false) == Admit::Queued
    }

    /// A request admitted by [`Engine::admit_at_once`] ended with `result`
    /// (its submitter gets it from the caller).
    pub(crate) fn done_at_once(&self, bytes: u64, result: &Result) {
        self.stats.count(Origin::External, bytes, result);
        self.stats.at_once.fetch_add(1, Relaxed);
        self.withdraw_at_once(bytes);
    }

    /// A request admitted by [`Engine::admit_at_once`] leaves the queue's
    /// count (done, or queued the usual way instead).
    pub(crate) fn withdraw_at_once(&self, bytes: u64) {
        self.queue.lock().occupancy.release(bytes, Class::External);
    }

    /// Queues the work `item` of `bytes`, wrapped by `wrap` once admitted;
    /// a refused item is handed back untouched. Inline work that an
    /// unlimited, idle engine takes is done (and finished) before this
    /// returns.
    pub(crate) fn submit<I>(
        &self,
        item: I,
        bytes: u64,
        origin: Origin,
        may_backlog: bool,
        wrap: impl FnOnce(I) -> Job,
    ) -> core::result::Result<Admit, (Refused, I)> {
        let depth = self.depth();
        let mut q = self.queue.lock();
        if q.shut_down || (origin != Origin::External && q.inline_closed) {
            drop(q);
            self.stats.rejected.fetch_add(1, Relaxed);
            return Err((Refused::Gone, item));
        }
        let inline = origin != Origin::External;
        let admit = q.occupancy.admit(depth, bytes, inline, may_backlog);
        let class = admit.class(inline);
        // Inline work on an unlimited, idle engine without faults is done at
        // once, as crypto API requests are (`admit_at_once`).
        let idle = !q.running && q.ring.is_empty();
        if let Some(class) = class
            .filter(|_| inline && self.rate() == 0 && runs_at_once(0, idle, &q.faults, now_ns()))
        {
            drop(q);
            let mut job = wrap(item);
            let result = job.run();
            self.stats.at_once.fetch_add(1, Relaxed);
            self.retire(Slot { job, class }, result);
            return Ok(admit);
        }
        let slot = class.and_then(|_| q.ring.push());
        let (Some(class), Some(entry)) = (class, slot.and_then(|slot| q.slots.get_mut(slot)))
        else {
            if let Some(class) = class {
                q.occupancy.release(bytes, class);
            }
            drop(q);
            self.stats.rejected.fetch_add(1, Relaxed);
            return Err((Refused::Full, item));
        };
        *entry = Some(Slot {
            job: wrap(item),
            class,
        });
        let start = !q.running;
        q.running = true;
        drop(q);
        if start {
            self.work.schedule_unbound(0);
        }
        Ok(admit)
    }

    /// The device goes away: fails its queued inline work with `-ENODEV`
    /// and takes no more; crypto API users keep being served (their
    /// algorithms may outlive the device, see `EngineAlgs`).
    pub(crate) fn detach_inline(&self) {
        let mut remaining = {
            let mut q = self.queue.lock();
            q.inline_closed = true;
            q.ring.len()
        };
        // One pass over the queue: inline work fails, the rest goes back
        // to the tail in its order.
        while remaining > 0 {
            remaining -= 1;
            let inline = {
                let mut q = self.queue.lock();
                match q.pop() {
                    Some(slot) if !slot.job.is_inline() => {
                        if let Some(entry) = q.ring.push().and_then(|i| q.slots.get_mut(i)) {
                            *entry = Some(slot);
                        }
                        None
                    }
                    other => other,
                }
            };
            if let Some(slot) = inline {
                self.retire(slot, Err(ENODEV));
            }
        }
    }

    /// Stops the engine: fails every queued request with `-ENODEV` and
    /// waits for the worker. No request is accepted afterwards. Work done at
    /// once is its submitter's: one that was admitted before may still
    /// finish (holding its own references). May sleep.
    pub(crate) fn shutdown(&self) {
        loop {
            let slot = {
                let mut q = self.queue.lock();
                q.shut_down = true;
                q.pop()
            };
            let Some(slot) = slot else { break };
            self.retire(slot, Err(ENODEV));
        }
        self.work.cancel_sync();
        // A worker that was running saw `shut_down` or an empty queue; a
        // request it had taken is finished by it before cancel returns.
        let mut q = self.queue.lock();
        q.running = false;
    }

    /// Counts and finishes a job that left the queue.
    fn retire(&self, slot: Slot, result: Result) {
        let Slot { job, class } = slot;
        let bytes = job.bytes();
        self.stats.count(job.origin(), bytes, &result);
        job.finish(result);
        self.queue.lock().occupancy.release(bytes, class);
    }

    /// Sleeps until `done_at` (the engine's schedule for the request it
    /// holds) in slices, so that a shutdown, or for `inline` work the
    /// device going away, is noticed within one slice: then `-ENODEV`.
    fn wait_until(&self, done_at: u64, inline: bool) -> Result {
        while let Some(us) = rate_sleep_us(now_ns(), done_at) {
            {
                let q = self.queue.lock();
                if q.shut_down || (inline && q.inline_closed) {
                    return Err(ENODEV);
                }
            }
            sleep_us(us);
        }
        Ok(())
    }

    /// Runs the queue until it is empty, stalled work aside.
    fn drain(&self) {
        for _ in 0..BATCH {
            let now = now_ns();
            let (mut slot, fail, rate) = {
                let mut q = self.queue.lock();
                if q.shut_down {
                    q.running = false;
                    return;
                }
                if let Some(wait) = q.faults.stalled_for(now) {
                    drop(q);
                    sleep_us((wait / 1000).clamp(1, SLEEP_SLICE_US));
                    continue;
                }
                let Some(slot) = q.pop() else {
                    q.running = false;
                    return;
                };
                if q.inline_closed && slot.job.is_inline() {
                    drop(q);
                    self.retire(slot, Err(ENODEV));
                    continue;
                }
                let fail = q.faults.next_fails();
                (slot, fail, self.rate())
            };
            if slot.class == Class::Backlog {
                if let Job::External(req) = &slot.job {
                    req.notify_started();
                }
            }
            let result = if fail {
                self.stats.injected.fetch_add(1, Relaxed);
                Err(EIO)
            } else {
                slot.job.run()
            };
            let done_at = self.queue.lock().clock.charge(now, rate, slot.job.bytes());
            let result = self.wait_until(done_at, slot.job.is_inline()).and(result);
            self.retire(slot, result);
        }
        // Long queue: let others run, then continue.
        self.work.schedule_unbound(0);
    }
}

impl DelayedWorkItem for Engine {
    fn run(&self) {
        self.drain();
    }
}
