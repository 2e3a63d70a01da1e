// SPDX-License-Identifier: GPL-2.0

//! Link state of a slave with `updelay` / `downdelay`: a carrier change only
//! counts once it has lasted for the configured delay.

/// Where a slave's link stands. The numbers are user API (netlink).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Usable.
    Up = 0,
    /// Not usable.
    Fail = 1,
    /// Carrier lost, still used until `downdelay` has passed.
    GoingDown = 2,
    /// Carrier back, not used until `updelay` has passed.
    GoingUp = 3,
}

impl LinkState {
    /// Name for sysfs and the CLI.
    pub fn name(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Fail => "fail",
            Self::GoingDown => "going_down",
            Self::GoingUp => "going_up",
        }
    }

    /// Whether the slave may carry traffic.
    pub fn usable(self) -> bool {
        matches!(self, Self::Up | Self::GoingDown)
    }
}

/// A slave's link and the time (ms, any monotonic clock) of its last
/// carrier change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// Current state.
    pub state: LinkState,
    /// When the pending transition started (for the Going* states).
    pub since_ms: u64,
}

impl Link {
    /// A new slave: usable at once if it has carrier (bonding does not apply
    /// updelay to a slave's first link either).
    pub fn new(carrier: bool, now_ms: u64) -> Self {
        Self {
            state: if carrier {
                LinkState::Up
            } else {
                LinkState::Fail
            },
            since_ms: now_ms,
        }
    }

    /// Feeds the current carrier. Returns `true` when the usability changed.
    pub fn update(&mut self, carrier: bool, now_ms: u64, updelay: u32, downdelay: u32) -> bool {
        let was_usable = self.state.usable();
        self.state = match (self.state, carrier) {
            (LinkState::Up, false) if downdelay == 0 => LinkState::Fail,
            (LinkState::Up, false) => {
                self.since_ms = now_ms;
                LinkState::GoingDown
            }
            (LinkState::GoingDown, true) => LinkState::Up,
            (LinkState::GoingDown, false) if elapsed(self.since_ms, now_ms) >= downdelay => {
                LinkState::Fail
            }
            (LinkState::Fail, true) if updelay == 0 => LinkState::Up,
            (LinkState::Fail, true) => {
                self.since_ms = now_ms;
                LinkState::GoingUp
            }
            (LinkState::GoingUp, false) => LinkState::Fail,
            (LinkState::GoingUp, true) if elapsed(self.since_ms, now_ms) >= updelay => {
                LinkState::Up
            }
            (state, _) => state,
        };
        was_usable != self.state.usable()
    }

    /// Milliseconds until a pending transition is due, if one is pending.
    pub fn pending_ms(&self, now_ms: u64, updelay: u32, downdelay: u32) -> Option<u32> {
        let delay = match self.state {
            LinkState::GoingDown => downdelay,
            LinkState::GoingUp => updelay,
            _ => return None,
        };
        Some(delay.saturating_sub(elapsed(self.since_ms, now_ms)))
    }
}

fn elapsed(since: u64, now: u64) -> u32 {
    now.saturating_sub(since).min(u32::MAX as u64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_delays_follow_carrier() {
        let mut l = Link::new(true, 0);
        assert!(l.update(false, 1, 0, 0));
        assert_eq!(l.state, LinkState::Fail);
        assert!(l.update(true, 2, 0, 0));
        assert_eq!(l.state, LinkState::Up);
    }

    #[test]
    fn downdelay_keeps_slave_usable_until_due() {
        let mut l = Link::new(true, 0);
        assert!(!l.update(false, 1000, 0, 200));
        assert_eq!(l.state, LinkState::GoingDown);
        assert_eq!(l.pending_ms(1100, 0, 200), Some(100));
        assert!(!l.update(false, 1199, 0, 200));
        assert!(l.update(false, 1200, 0, 200));
        assert_eq!(l.state, LinkState::Fail);
    }

    #[test]
    fn flap_within_downdelay_is_ignored() {
        let mut l = Link::new(true, 0);
        l.update(false, 10, 0, 500);
        assert!(!l.update(true, 20, 0, 500));
        assert_eq!(l.state, LinkState::Up);
    }

    #[test]
    fn updelay_waits_and_restarts_on_flap() {
        let mut l = Link::new(false, 0);
        assert!(!l.update(true, 100, 300, 0));
        assert_eq!(l.state, LinkState::GoingUp);
        assert!(!l.update(false, 200, 300, 0));
        assert_eq!(l.state, LinkState::Fail);
        l.update(true, 300, 300, 0);
        assert!(!l.update(true, 599, 300, 0));
        assert!(l.update(true, 600, 300, 0));
        assert_eq!(l.state, LinkState::Up);
        assert_eq!(l.pending_ms(700, 300, 0), None);
    }

    /// Every carrier sequence: usability only changes when the carrier has
    /// been steady for the delay, and always ends matching a steady carrier.
    #[test]
    fn exhaustive_short_sequences() {
        for bits in 0u32..(1 << 8) {
            let mut l = Link::new(true, 0);
            let mut t = 0;
            for i in 0..8 {
                t += 50;
                l.update(bits & (1 << i) != 0, t, 100, 100);
            }
            let last = bits & (1 << 7) != 0;
            // Hold the last carrier long enough: the state settles.
            l.update(last, t + 100, 100, 100);
            l.update(last, t + 200, 100, 100);
            assert_eq!(l.state.usable(), last, "bits {bits:08b}");
            assert!(matches!(l.state, LinkState::Up | LinkState::Fail));
        }
    }
}
