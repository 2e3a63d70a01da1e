// SPDX-License-Identifier: GPL-2.0

//! Scheduling logic of the simulated crypto engine: admission into its
//! queue (depth and backlog), the rate it processes bytes at, and the faults
//! tests inject. Time is in nanoseconds of a monotonic clock.

/// Largest configurable queue depth.
pub const MAX_DEPTH: u32 = 1024;

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

/// What the queue holds: requests and bytes not yet completed.
///
/// # Invariants
///
/// `queued <= RING_SLOTS`; `bytes` is the sum of the sizes of the queued
/// requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Occupancy {
    queued: u32,
    bytes: u64,
}

impl Occupancy {
    /// Decides whether a request of `bytes` may enter a queue of `depth`.
    pub fn admit(&mut self, depth: u32, bytes: u64, may_backlog: bool) -> Admit {
        let verdict = if self.queued < depth.min(MAX_DEPTH) {
            Admit::Queued
        } else if may_backlog && self.queued < depth.min(MAX_DEPTH) + MAX_BACKLOG {
            Admit::Backlogged
        } else {
            return Admit::Full;
        };
        self.queued += 1;
        self.bytes += bytes;
        verdict
    }

    /// A request of `bytes` left the queue (completed or failed).
    pub fn release(&mut self, bytes: u64) {
        self.queued = self.queued.saturating_sub(1);
        self.bytes = self.bytes.saturating_sub(bytes);
    }

    /// Requests in the queue (including backlog).
    pub fn queued(&self) -> u32 {
        self.queued
    }

    /// Bytes in the queue.
    pub fn bytes(&self) -> u64 {
        self.bytes
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut occ = Occupancy::default();
        assert_eq!(occ.admit(2, 10, false), Admit::Queued);
        assert_eq!(occ.admit(2, 20, false), Admit::Queued);
        assert_eq!(occ.admit(2, 30, false), Admit::Full);
        assert_eq!(occ.admit(2, 30, true), Admit::Backlogged);
        assert_eq!(occ.queued(), 3);
        assert_eq!(occ.bytes(), 60);
        occ.release(10);
        assert_eq!(occ.queued(), 2);
        assert_eq!(occ.bytes(), 50);
        assert_eq!(occ.admit(2, 1, false), Admit::Full);
        occ.release(20);
        assert_eq!(occ.admit(2, 1, false), Admit::Queued);
    }

    #[test]
    fn backlog_is_bounded() {
        let mut occ = Occupancy::default();
        for _ in 0..MAX_DEPTH {
            assert_eq!(occ.admit(u32::MAX, 1, true), Admit::Queued);
        }
        for _ in 0..MAX_BACKLOG {
            assert_eq!(occ.admit(u32::MAX, 1, true), Admit::Backlogged);
        }
        assert_eq!(occ.admit(u32::MAX, 1, true), Admit::Full);
        assert_eq!(occ.queued(), RING_SLOTS);
    }

    #[test]
    fn release_never_underflows() {
        let mut occ = Occupancy::default();
        occ.release(5);
        assert_eq!(occ, Occupancy::default());
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
