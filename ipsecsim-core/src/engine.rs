// SPDX-License-Identifier: GPL-2.0

//! Scheduling logic of the simulated crypto engine: admission into its
//! queue (depth and backlog), the rate it processes bytes at, and the faults
//! tests inject. Time is in nanoseconds of a monotonic clock.

/// Largest configurable queue depth.
pub const MAX_DEPTH: u32 = 1024;

/// Smallest configurable rate other than unlimited, in bytes per second
/// (a full-size packet then takes 15 s of the engine's time: slow enough
/// for tests to congest the engine deterministically).
pub const MIN_RATE: u64 = 100;

/// Largest configurable rate in bytes per second (800 Gbit/s).
pub const MAX_RATE: u64 = 100_000_000_000;

/// Whether `rate` (bytes per second, 0 for unlimited) is a valid setting.
pub fn rate_is_valid(rate: u64) -> bool {
    rate == 0 || (MIN_RATE..=MAX_RATE).contains(&rate)
}

/// Whether `depth` is a valid queue depth.
pub fn depth_is_valid(depth: u32) -> bool {
    (1..=MAX_DEPTH).contains(&depth)
}

/// Requests that may wait beyond the depth when their submitter allows a
/// backlog (`CRYPTO_TFM_REQ_MAY_BACKLOG`); the ring holds both.
pub const MAX_BACKLOG: u32 = 1024;

/// Slots of the ring that holds queued and backlogged requests.
pub const RING_SLOTS: u32 = MAX_DEPTH + MAX_BACKLOG;

/// Default capacity: 1 Gbit/s of crypto.
pub const DEFAULT_RATE: u64 = 125_000_000;

/// Default queue depth.
pub const DEFAULT_DEPTH: u32 = 256;

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// How long the engine may lag behind its schedule and catch up (the burst
/// of a token bucket): absorbs the worker's wake-up latency on a busy host,
/// so the long-run rate is the configured one.
pub const CATCH_UP_NS: u64 = 5_000_000;

/// The engine waits for its schedule only when it is ahead of it by more
/// than this.
pub const SLEEP_AHEAD_NS: u64 = 200_000;

/// Longest single sleep of the engine: between slices it checks whether it
/// is shutting down (device deletion waits for it, holding RTNL).
pub const SLEEP_SLICE_US: u64 = 10_000;

/// How long the engine sleeps next, in microseconds, when at `now` the
/// current request is due at `done_at`; `None` when it is due (close enough).
/// Long waits are cut into slices of at most [`SLEEP_SLICE_US`].
pub fn rate_sleep_us(now: u64, done_at: u64) -> Option<u64> {
    if done_at <= now.saturating_add(SLEEP_AHEAD_NS) {
        return None;
    }
    Some(((done_at - now) / 1000).clamp(1, SLEEP_SLICE_US))
}

/// The engine's clock: when the work accepted so far is done, at the
/// configured rate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateClock {
    busy_until: u64,
}

impl RateClock {
    /// Time the engine needs for `bytes` at `rate` bytes per second (0 is
    /// unlimited).
    pub fn cost_ns(rate: u64, bytes: u64) -> u64 {
        if rate == 0 {
            return 0;
        }
        // No 128-bit division in the kernel: whole seconds, then the rest.
        let whole = bytes / rate;
        let rest = bytes % rate;
        let frac = match rest.checked_mul(NSEC_PER_SEC) {
            Some(scaled) => scaled / rate,
            None => rest / (rate / NSEC_PER_SEC).max(1),
        };
        whole.saturating_mul(NSEC_PER_SEC).saturating_add(frac)
    }

    /// Accounts a request of `bytes` started at `now` and returns when it
    /// completes. Idle time is not saved up beyond [`CATCH_UP_NS`].
    pub fn charge(&mut self, now: u64, rate: u64, bytes: u64) -> u64 {
        if rate == 0 {
            self.busy_until = now;
            return now;
        }
        let start = self.busy_until.max(now.saturating_sub(CATCH_UP_NS));
        self.busy_until = start.saturating_add(Self::cost_ns(rate, bytes));
        self.busy_until
    }
}

/// Outcome of offering a request to the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// Queued within the depth.
    Queued,
    /// Queued beyond the depth: the submitter is told `-EBUSY` and later
    /// `-EINPROGRESS` when the engine takes it.
    Backlogged,
    /// Refused: the queue is full (and no backlog allowed or left).
    Full,
}

/// Where an admitted request counts in the queue; given back on release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// The device's own inline work, within the depth.
    Inline,
    /// A crypto API request within the depth.
    External,
    /// A crypto API request beyond the depth (backlog).
    Backlog,
}

/// Slots of a queue of `depth` that only inline work may take: a quarter,
/// at least one. Crypto API users (any local user, through AF_ALG) cannot
/// starve the device's own traffic; their requests beyond their share wait
/// in the backlog when they allow it.
pub fn inline_reserve(depth: u32) -> u32 {
    (depth.min(MAX_DEPTH) / 4).max(1)
}

/// What the queue holds: requests and bytes not yet completed.
///
/// # Invariants
///
/// `inline + external <= MAX_DEPTH`, `backlog <= MAX_BACKLOG` (so the
/// total fits [`RING_SLOTS`]); `bytes` is the sum of the sizes of the
/// queued requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Occupancy {
    inline: u32,
    external: u32,
    backlog: u32,
    bytes: u64,
}

impl Occupancy {
    /// Decides whether a request of `bytes` may enter a queue of `depth`:
    /// inline work (`inline`) up to the depth, crypto API requests up to
    /// the depth less [`inline_reserve`], then into the backlog if
    /// `may_backlog`. Inline work is never backlogged.
    pub fn admit(&mut self, depth: u32, bytes: u64, inline: bool, may_backlog: bool) -> Admit {
        let depth = depth.min(MAX_DEPTH);
        let within = self.inline + self.external;
        let class = if inline {
            if within >= depth {
                return Admit::Full;
            }
            Class::Inline
        } else if within < depth && self.external < depth.saturating_sub(inline_reserve(depth)) {
            Class::External
        } else if may_backlog && self.backlog < MAX_BACKLOG {
            Class::Backlog
        } else {
            return Admit::Full;
        };
        match class {
            Class::Inline => self.inline += 1,
            Class::External => self.external += 1,
            Class::Backlog => self.backlog += 1,
        }
        self.bytes += bytes;
        if class == Class::Backlog {
            Admit::Backlogged
        } else {
            Admit::Queued
        }
    }

    /// A request of `bytes` admitted as `class` left the queue (completed
    /// or failed).
    pub fn release(&mut self, bytes: u64, class: Class) {
        let count = match class {
            Class::Inline => &mut self.inline,
            Class::External => &mut self.external,
            Class::Backlog => &mut self.backlog,
        };
        *count = count.saturating_sub(1);
        self.bytes = self.bytes.saturating_sub(bytes);
    }

    /// Requests in the queue (including backlog).
    pub fn queued(&self) -> u32 {
        self.inline + self.external + self.backlog
    }

    /// Bytes in the queue.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Admit {
    /// The class an admitted request of this outcome counts in.
    pub fn class(self, inline: bool) -> Option<Class> {
        match self {
            Admit::Full => None,
            Admit::Backlogged => Some(Class::Backlog),
            Admit::Queued if inline => Some(Class::Inline),
            Admit::Queued => Some(Class::External),
        }
    }
}

/// Index arithmetic of a fixed-size FIFO ring.
///
/// # Invariants
///
/// `head < slots` and `len <= slots`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingIndex {
    head: u32,
    len: u32,
    slots: u32,
}

impl RingIndex {
    /// An empty ring of `slots` entries (`slots > 0`).
    pub const fn new(slots: u32) -> Self {
        Self {
            head: 0,
            len: 0,
            slots,
        }
    }

    /// The slot for a new tail entry, or `None` when full.
    pub fn push(&mut self) -> Option<usize> {
        if self.len >= self.slots {
            return None;
        }
        let slot = (self.head + self.len) % self.slots;
        self.len += 1;
        Some(slot as usize)
    }

    /// The slot of the head entry, now removed, or `None` when empty.
    pub fn pop(&mut self) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let slot = self.head;
        self.head = (self.head + 1) % self.slots;
        self.len -= 1;
        Some(slot as usize)
    }

    /// Entries in the ring.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether the ring is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Faults injected by tests: fail the next N requests, fail a percentage,
/// stall until a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Faults {
    /// Requests still to fail.
    pub fail_next: u32,
    /// Percentage (0..=100) of requests to fail at random.
    pub fail_percent: u8,
    /// The engine takes no request before this time.
    pub stall_until: u64,
    rng: u32,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            fail_next: 0,
            fail_percent: 0,
            stall_until: 0,
            rng: 0x2545_f491,
        }
    }
}

impl Faults {
    /// Whether the next request fails; consumes one of `fail_next` first.
    pub fn next_fails(&mut self) -> bool {
        if self.fail_next > 0 {
            self.fail_next -= 1;
            return true;
        }
        if self.fail_percent == 0 {
            return false;
        }
        // xorshift32: cheap, and reproducible runs are a feature in tests.
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x % 100 < u32::from(self.fail_percent.min(100))
    }

    /// Stalls the engine for `ns` from `now` (0 ends a stall).
    pub fn stall(&mut self, now: u64, ns: u64) {
        self.stall_until = if ns == 0 { 0 } else { now.saturating_add(ns) };
    }

    /// How long the engine must still wait at `now`, or `None`.
    pub fn stalled_for(&self, now: u64) -> Option<u64> {
        (self.stall_until > now).then(|| self.stall_until - now)
    }
}

/// Whether a crypto API request may be done at once, in its submitter's
/// context, instead of queued for the worker: the engine is unlimited
/// (`rate` 0: its work takes no modelled time), `idle` (nothing queued or
/// running that the request would overtake, not shut down), and no fault
/// is armed (failures, stalls and rates are the worker's). An engine that
/// completes within the submitter's call, as a zero-latency device would:
/// its completion does not wait for the worker to be scheduled. Requests
/// done at once are not serialised with each other: submitters on two CPUs
/// run side by side, as on a device with several engine queues, and a
/// crypto API request whose host implementation completes asynchronously
/// (no SIMD in the submitter's context) may finish after one queued later.
pub fn runs_at_once(rate: u64, idle: bool, faults: &Faults, now: u64) -> bool {
    rate == 0
        && idle
        && faults.fail_next == 0
        && faults.fail_percent == 0
        && faults.stalled_for(now).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_once_only_unlimited_idle_and_without_faults() {
        let none = Faults::default();
        assert!(runs_at_once(0, true, &none, 10));
        assert!(
            !runs_at_once(MIN_RATE, true, &none, 10),
            "a rate is the worker's"
        );
        assert!(
            !runs_at_once(0, false, &none, 10),
            "would overtake queued work"
        );
        let mut f = none;
        f.fail_next = 1;
        assert!(!runs_at_once(0, true, &f, 10), "armed failure");
        let mut f = none;
        f.fail_percent = 1;
        assert!(!runs_at_once(0, true, &f, 10), "random failures");
        let mut f = none;
        f.stall(10, 5);
        assert!(!runs_at_once(0, true, &f, 12), "stalled");
        assert!(runs_at_once(0, true, &f, 15), "stall over");
    }

    #[test]
    fn unlimited_rate_costs_nothing() {
        let mut clock = RateClock::default();
        assert_eq!(clock.charge(1000, 0, 1 << 30), 1000);
        assert_eq!(RateClock::cost_ns(0, 12345), 0);
    }

    #[test]
    fn rate_spaces_requests_by_their_size() {
        let mut clock = RateClock::default();
        let rate = 1_000_000; // 1 MB/s: 1 µs per byte
        let now = 10 * CATCH_UP_NS;
        // Idle engine: starts at most CATCH_UP_NS in the past.
        let first = clock.charge(now, rate, 1000);
        assert_eq!(first, now - CATCH_UP_NS + 1_000_000);
        let second = clock.charge(now, rate, 500);
        assert_eq!(second, first + 500_000);
    }

    #[test]
    fn long_run_rate_matches_configuration() {
        // A worker that wakes late every time still completes bytes at the
        // configured rate, because lag is caught up.
        let mut clock = RateClock::default();
        let rate = 4_000_000;
        let mut now = 0u64;
        let mut bytes = 0u64;
        for _ in 0..10_000 {
            let done = clock.charge(now, rate, 1500);
            bytes += 1500;
            // Wake 30 µs late.
            now = now.max(done) + 30_000;
        }
        let measured = bytes as f64 * 1e9 / now as f64;
        assert!(
            (measured - rate as f64).abs() / (rate as f64) < 0.02,
            "{measured}"
        );
    }

    #[test]
    fn idle_time_is_not_saved_up() {
        let mut clock = RateClock::default();
        let rate = 1_000_000_000;
        clock.charge(0, rate, 1);
        let now = 1_000_000_000;
        let done = clock.charge(now, rate, 1_000_000);
        assert_eq!(done, now - CATCH_UP_NS + 1_000_000);
    }

    #[test]
    fn cost_is_exact_for_any_rate() {
        assert_eq!(RateClock::cost_ns(3, 1), 333_333_333);
        assert_eq!(RateClock::cost_ns(1_000_000, 1_500_000), 1_500_000_000);
        assert_eq!(RateClock::cost_ns(40_000_000_000, 40_000), 1000);
        assert_eq!(RateClock::cost_ns(u64::MAX, u64::MAX), 1_000_000_000);
    }

    #[test]
    fn huge_requests_saturate() {
        assert_eq!(RateClock::cost_ns(1, u64::MAX), u64::MAX);
        let mut clock = RateClock::default();
        assert_eq!(clock.charge(u64::MAX - 5, 1, u64::MAX), u64::MAX);
    }

    #[test]
    fn admission_respects_depth_and_backlog() {
        // Depth 8: two slots reserved for inline work.
        let mut occ = Occupancy::default();
        for _ in 0..6 {
            assert_eq!(occ.admit(8, 10, false, false), Admit::Queued);
        }
        assert_eq!(occ.admit(8, 10, false, false), Admit::Full);
        assert_eq!(occ.admit(8, 10, false, true), Admit::Backlogged);
        assert_eq!(occ.queued(), 7);
        assert_eq!(occ.bytes(), 70);
        occ.release(10, Class::External);
        assert_eq!(occ.queued(), 6);
        assert_eq!(occ.bytes(), 60);
        assert_eq!(occ.admit(8, 1, false, false), Admit::Queued);
        assert_eq!(occ.admit(8, 1, false, false), Admit::Full);
    }

    #[test]
    fn inline_work_keeps_its_share() {
        // Crypto API users fill everything they may, backlog included ...
        let mut occ = Occupancy::default();
        let depth = 256;
        let share = depth - inline_reserve(depth);
        for _ in 0..share {
            assert_eq!(occ.admit(depth, 1, false, true), Admit::Queued);
        }
        for _ in 0..MAX_BACKLOG {
            assert_eq!(occ.admit(depth, 1, false, true), Admit::Backlogged);
        }
        assert_eq!(occ.admit(depth, 1, false, true), Admit::Full);
        // ... and inline work still gets the reserved slots, no more.
        for _ in 0..inline_reserve(depth) {
            assert_eq!(occ.admit(depth, 1, true, false), Admit::Queued);
        }
        assert_eq!(occ.admit(depth, 1, true, false), Admit::Full);
        assert!(occ.queued() <= RING_SLOTS);
    }

    #[test]
    fn inline_work_may_use_the_whole_depth() {
        let mut occ = Occupancy::default();
        for _ in 0..4 {
            assert_eq!(occ.admit(4, 1, true, false), Admit::Queued);
        }
        assert_eq!(occ.admit(4, 1, true, true), Admit::Full);
        // Nothing left within the depth for crypto API users either.
        assert_eq!(occ.admit(4, 1, false, false), Admit::Full);
        assert_eq!(occ.admit(4, 1, false, true), Admit::Backlogged);
        occ.release(1, Class::Inline);
        assert_eq!(occ.admit(4, 1, false, false), Admit::Queued);
    }

    #[test]
    fn reserve_is_a_quarter_and_never_zero() {
        assert_eq!(inline_reserve(1), 1);
        assert_eq!(inline_reserve(4), 1);
        assert_eq!(inline_reserve(8), 2);
        assert_eq!(inline_reserve(256), 64);
        assert_eq!(inline_reserve(u32::MAX), MAX_DEPTH / 4);
        // Depth 1: crypto API requests only through the backlog.
        let mut occ = Occupancy::default();
        assert_eq!(occ.admit(1, 1, false, false), Admit::Full);
        assert_eq!(occ.admit(1, 1, false, true), Admit::Backlogged);
        assert_eq!(occ.admit(1, 1, true, false), Admit::Queued);
    }

    #[test]
    fn admit_names_the_class_to_release() {
        assert_eq!(Admit::Queued.class(true), Some(Class::Inline));
        assert_eq!(Admit::Queued.class(false), Some(Class::External));
        assert_eq!(Admit::Backlogged.class(false), Some(Class::Backlog));
        assert_eq!(Admit::Full.class(true), None);
    }

    #[test]
    fn backlog_is_bounded() {
        let mut occ = Occupancy::default();
        let share = MAX_DEPTH - inline_reserve(MAX_DEPTH);
        for _ in 0..share {
            assert_eq!(occ.admit(u32::MAX, 1, false, true), Admit::Queued);
        }
        for _ in 0..MAX_BACKLOG {
            assert_eq!(occ.admit(u32::MAX, 1, false, true), Admit::Backlogged);
        }
        assert_eq!(occ.admit(u32::MAX, 1, false, true), Admit::Full);
        for _ in 0..inline_reserve(MAX_DEPTH) {
            assert_eq!(occ.admit(u32::MAX, 1, true, false), Admit::Queued);
        }
        assert_eq!(occ.queued(), RING_SLOTS);
    }

    #[test]
    fn release_never_underflows() {
        let mut occ = Occupancy::default();
        occ.release(5, Class::Inline);
        occ.release(5, Class::External);
        occ.release(5, Class::Backlog);
        assert_eq!(occ, Occupancy::default());
    }

    #[test]
    fn rate_settings_are_bounded() {
        assert!(rate_is_valid(0));
        assert!(!rate_is_valid(1));
        assert!(!rate_is_valid(MIN_RATE - 1));
        assert!(rate_is_valid(MIN_RATE));
        assert!(rate_is_valid(DEFAULT_RATE));
        assert!(rate_is_valid(MAX_RATE));
        assert!(!rate_is_valid(MAX_RATE + 1));
        assert!(!rate_is_valid(u64::MAX));
        assert!(!depth_is_valid(0));
        assert!(depth_is_valid(1));
        assert!(depth_is_valid(DEFAULT_DEPTH));
        assert!(depth_is_valid(MAX_DEPTH));
        assert!(!depth_is_valid(MAX_DEPTH + 1));
    }

    #[test]
    fn rate_sleeps_are_sliced() {
        // Due now or within SLEEP_AHEAD_NS: no sleep.
        assert_eq!(rate_sleep_us(1_000, 1_000), None);
        assert_eq!(rate_sleep_us(1_000, 900), None);
        assert_eq!(rate_sleep_us(0, SLEEP_AHEAD_NS), None);
        // Short waits in one piece.
        assert_eq!(rate_sleep_us(0, 500_000), Some(500));
        // The longest request at the lowest rate: slices, never more.
        let cost = RateClock::cost_ns(MIN_RATE, 65_536);
        assert_eq!(rate_sleep_us(0, cost), Some(SLEEP_SLICE_US));
        assert_eq!(rate_sleep_us(0, u64::MAX), Some(SLEEP_SLICE_US));
        // Sleeping slice after slice reaches the deadline in bounded steps.
        let (mut now, done_at, mut slices) = (0u64, 1_450_000_000u64, 0);
        while let Some(us) = rate_sleep_us(now, done_at) {
            assert!(us <= SLEEP_SLICE_US);
            now += us * 1000;
            slices += 1;
        }
        assert!(done_at <= now + SLEEP_AHEAD_NS);
        assert_eq!(slices, 145);
    }

    #[test]
    fn ring_is_fifo_and_wraps() {
        let mut ring = RingIndex::new(3);
        assert_eq!(ring.pop(), None);
        assert_eq!(ring.push(), Some(0));
        assert_eq!(ring.push(), Some(1));
        assert_eq!(ring.push(), Some(2));
        assert_eq!(ring.push(), None);
        assert_eq!(ring.pop(), Some(0));
        assert_eq!(ring.push(), Some(0));
        assert_eq!(ring.pop(), Some(1));
        assert_eq!(ring.pop(), Some(2));
        assert_eq!(ring.pop(), Some(0));
        assert!(ring.is_empty());
    }

    #[test]
    fn ring_slots_stay_in_range() {
        let mut ring = RingIndex::new(7);
        for i in 0..1000u32 {
            if i % 3 == 0 {
                ring.pop();
            } else if let Some(slot) = ring.push() {
                assert!(slot < 7);
            }
            assert!(ring.len() <= 7);
        }
    }

    #[test]
    fn fail_next_counts_down() {
        let mut f = Faults {
            fail_next: 2,
            ..Faults::default()
        };
        assert!(f.next_fails());
        assert!(f.next_fails());
        assert!(!f.next_fails());
        assert_eq!(f.fail_next, 0);
    }

    #[test]
    fn fail_percent_is_roughly_honoured() {
        for percent in [0u8, 10, 50, 100] {
            let mut f = Faults {
                fail_percent: percent,
                ..Faults::default()
            };
            let failed = (0..10_000).filter(|_| f.next_fails()).count();
            let expected = usize::from(percent) * 100;
            assert!(
                failed.abs_diff(expected) <= 300,
                "{percent}%: {failed} of 10000"
            );
        }
    }

    #[test]
    fn stall_ends_at_its_time() {
        let mut f = Faults::default();
        assert_eq!(f.stalled_for(5), None);
        f.stall(100, 50);
        assert_eq!(f.stalled_for(120), Some(30));
        assert_eq!(f.stalled_for(150), None);
        f.stall(100, 50);
        f.stall(110, 0);
        assert_eq!(f.stalled_for(120), None);
    }
}
