// SPDX-License-Identifier: GPL-2.0

//! Active slave selection for adapter fault tolerance (active-backup); ALB
//! uses the same rule to pick its receive slave.

use super::options::Reselect;

/// What the selection needs to know about one slave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Candidate {
    /// Its link is usable (see [`crate::link::LinkState::usable`]).
    pub usable: bool,
    /// Link speed in Mb/s (0 if unknown).
    pub speed_mbps: u32,
}

/// Chooses the active slave among `slaves` (in enslave order).
///
/// While the current active slave is usable it stays, unless a usable
/// `primary` takes over according to `reselect`. Otherwise the primary if
/// usable, else the first usable slave. `None` when no slave is usable.
pub fn select_active(
    current: Option<usize>,
    slaves: &[Candidate],
    primary: Option<usize>,
    reselect: Reselect,
) -> Option<usize> {
    let usable = |i: Option<usize>| i.filter(|&i| slaves.get(i).is_some_and(|s| s.usable));
    let current = usable(current);
    let primary = usable(primary);
    match (current, primary) {
        (Some(cur), Some(pri)) if cur != pri => match reselect {
            Reselect::Always => Some(pri),
            Reselect::Better if slaves[pri].speed_mbps > slaves[cur].speed_mbps => Some(pri),
            _ => Some(cur),
        },
        (Some(cur), _) => Some(cur),
        (None, Some(pri)) => Some(pri),
        (None, None) => slaves.iter().position(|s| s.usable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UP: Candidate = Candidate {
        usable: true,
        speed_mbps: 1000,
    };
    const FAST: Candidate = Candidate {
        usable: true,
        speed_mbps: 10000,
    };
    const DOWN: Candidate = Candidate {
        usable: false,
        speed_mbps: 1000,
    };

    #[test]
    fn keeps_usable_active_without_primary() {
        assert_eq!(
            select_active(Some(2), &[UP, UP, UP], None, Reselect::Always),
            Some(2)
        );
    }

    #[test]
    fn fails_over_to_first_usable() {
        assert_eq!(
            select_active(Some(0), &[DOWN, UP, UP], None, Reselect::Always),
            Some(1)
        );
        assert_eq!(
            select_active(Some(1), &[DOWN, DOWN], None, Reselect::Always),
            None
        );
        assert_eq!(
            select_active(Some(5), &[UP], None, Reselect::Always),
            Some(0)
        );
    }

    #[test]
    fn primary_policies() {
        let s = [UP, UP];
        assert_eq!(
            select_active(Some(0), &s, Some(1), Reselect::Always),
            Some(1)
        );
        assert_eq!(
            select_active(Some(0), &s, Some(1), Reselect::Better),
            Some(0)
        );
        assert_eq!(
            select_active(Some(0), &[UP, FAST], Some(1), Reselect::Better),
            Some(1)
        );
        assert_eq!(
            select_active(Some(0), &[UP, FAST], Some(1), Reselect::Failure),
            Some(0)
        );
        // Failure: the primary takes over when the active fails.
        assert_eq!(
            select_active(Some(0), &[DOWN, UP, UP], Some(2), Reselect::Failure),
            Some(2)
        );
        // An unusable primary is ignored.
        assert_eq!(
            select_active(None, &[UP, DOWN], Some(1), Reselect::Always),
            Some(0)
        );
    }

    /// Exhaustive over up to 5 slaves, every usable mask, current, primary
    /// and policy: never an unusable slave, never `None` while one is usable,
    /// a usable active slave is only replaced by the primary, and only as the
    /// policy allows.
    #[test]
    fn exhaustive_properties() {
        let policies = [Reselect::Always, Reselect::Better, Reselect::Failure];
        for n in 0..=5usize {
            for mask in 0..(1u32 << n) {
                for speeds in 0..(1u32 << n) {
                    let mut s = [DOWN; 5];
                    for (i, c) in s.iter_mut().enumerate().take(n) {
                        c.usable = mask & (1 << i) != 0;
                        c.speed_mbps = if speeds & (1 << i) != 0 { 10000 } else { 1000 };
                    }
                    let s = &s[..n];
                    let choices = || (0..=n).map(|c| (c < n).then_some(c));
                    for cur in choices() {
                        for pri in choices() {
                            for pol in policies {
                                let got = select_active(cur, s, pri, pol);
                                match got {
                                    Some(i) => assert!(s[i].usable),
                                    None => assert_eq!(mask, 0),
                                }
                                if let Some(c) = cur.filter(|&c| s[c].usable) {
                                    if got != Some(c) {
                                        assert_eq!(got, pri);
                                        assert_ne!(pol, Reselect::Failure);
                                        if pol == Reselect::Better {
                                            assert!(s[got.unwrap()].speed_mbps > s[c].speed_mbps);
                                        }
                                    }
                                } else if let Some(p) = pri.filter(|&p| s[p].usable) {
                                    assert_eq!(got, Some(p));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
