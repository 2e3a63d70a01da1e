// SPDX-License-Identifier: GPL-2.0

//! Adaptive load balancing: flows are hashed into buckets, each bucket is
//! assigned to a slave. Rebalancing moves only idle or orphaned buckets, so a
//! flow that keeps sending stays on its slave (no reordering) while
//! membership is stable; new flows land where there is headroom, in
//! proportion to link speed.

/// Number of flow buckets (a flow's hash modulo this picks its bucket).
pub const BUCKETS: usize = 256;

/// What rebalancing needs to know about one slave.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AlbSlave {
    /// May carry traffic.
    pub usable: bool,
    /// Link speed in Mb/s; 0 (unknown) counts as 1000.
    pub speed_mbps: u32,
}

impl AlbSlave {
    fn weight(&self) -> u64 {
        if self.speed_mbps == 0 {
            1000
        } else {
            u64::from(self.speed_mbps)
        }
    }
}

/// Marks a bucket without a slave.
pub const UNASSIGNED: u8 = u8::MAX;

/// Reassigns buckets after an interval in which bucket `b` carried
/// `load[b]` bytes. `assignment[b]` is a slave index or [`UNASSIGNED`].
///
/// Buckets that carried traffic keep a usable slave. Idle buckets and
/// buckets of unusable slaves go, one by one, to the slave with the lowest
/// load relative to its speed, each counted with its measured load or, when
/// idle, with the average load of a busy bucket (so future flows spread).
/// With no usable slave every bucket becomes [`UNASSIGNED`].
pub fn rebalance(assignment: &mut [u8; BUCKETS], load: &[u64; BUCKETS], slaves: &[AlbSlave]) {
    let n = slaves.len().min(UNASSIGNED as usize);
    let slaves = &slaves[..n];
    if !slaves.iter().any(|s| s.usable) {
        assignment.fill(UNASSIGNED);
        return;
    }
    let keeps = |assignment: &[u8; BUCKETS], b: usize| {
        let s = assignment[b] as usize;
        load[b] > 0 && s < n && slaves[s].usable
    };
    // Load that stays where it is.
    let mut slave_load = [0u64; UNASSIGNED as usize];
    let (mut busy, mut busy_bytes) = (0u64, 0u64);
    for b in 0..BUCKETS {
        if load[b] > 0 {
            busy += 1;
            busy_bytes = busy_bytes.saturating_add(load[b]);
        }
        if keeps(assignment, b) {
            let s = assignment[b] as usize;
            slave_load[s] = slave_load[s].saturating_add(load[b]);
        }
    }
    let nominal = busy_bytes.checked_div(busy).unwrap_or(1).max(1);
    for b in 0..BUCKETS {
        if keeps(assignment, b) {
            continue;
        }
        // Least loaded relative to speed: compare load_a / w_a < load_b / w_b
        // as load_a * w_b < load_b * w_a.
        let mut best = None::<usize>;
        for (i, s) in slaves.iter().enumerate() {
            if !s.usable {
                continue;
            }
            best = match best {
                Some(j)
                    if (slave_load[j] as u128) * (s.weight() as u128)
                        <= (slave_load[i] as u128) * (slaves[j].weight() as u128) =>
                {
                    Some(j)
                }
                _ => Some(i),
            };
        }
        // There is a usable slave (checked above).
        let Some(best) = best else { return };
        assignment[b] = best as u8;
        let added = if load[b] > 0 { load[b] } else { nominal };
        slave_load[best] = slave_load[best].saturating_add(added);
    }
}

/// A team's bucket table and the load that rebalancing last measured.
///
/// Two kinds of reassignment: [`Buckets::rebalance`] every `lb_interval`
/// with the load of that interval, and [`Buckets::reselect`] after a link
/// or membership change in between. Neither moves a bucket that carried
/// traffic (in the last interval or since) off a slave that is still
/// usable: healthy flows keep their slave; only buckets of slaves that
/// became unusable or left, and idle ones, move.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Buckets {
    /// Slave index per bucket, or [`UNASSIGNED`].
    pub assignment: [u8; BUCKETS],
    /// Bytes per bucket in the last rebalancing interval.
    last_load: [u64; BUCKETS],
}

impl Default for Buckets {
    fn default() -> Self {
        Self::new()
    }
}

impl Buckets {
    /// No bucket assigned.
    pub const fn new() -> Self {
        Self {
            assignment: [UNASSIGNED; BUCKETS],
            last_load: [0; BUCKETS],
        }
    }

    /// Periodic rebalance: `measured` is what each bucket carried in the
    /// interval that just ended.
    pub fn rebalance(&mut self, measured: &[u64; BUCKETS], slaves: &[AlbSlave]) {
        self.last_load = *measured;
        rebalance(&mut self.assignment, measured, slaves);
    }

    /// After a change of links or members between rebalances: `current`
    /// is what each bucket carried since the last rebalance. A bucket busy
    /// then or in the last interval stays on its slave while that is
    /// usable.
    pub fn reselect(&mut self, current: &[u64; BUCKETS], slaves: &[AlbSlave]) {
        let mut recent = self.last_load;
        for (r, c) in recent.iter_mut().zip(current.iter()) {
            *r = r.saturating_add(*c);
        }
        rebalance(&mut self.assignment, &recent, slaves);
    }

    /// Slave `i` left: its buckets become unassigned (the next reselect
    /// places them), the indexes above it shift down.
    pub fn remove_slave(&mut self, i: usize) {
        for b in self.assignment.iter_mut() {
            if usize::from(*b) == i {
                *b = UNASSIGNED;
            } else if usize::from(*b) > i && *b != UNASSIGNED {
                *b -= 1;
            }
        }
    }
}

/// The bucket of a flow hash.
pub fn bucket(hash: u32) -> usize {
    // Mix the bits: some hashes vary mostly in their high bits.
    ((hash ^ (hash >> 8) ^ (hash >> 16) ^ (hash >> 24)) as usize) % BUCKETS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(speed: u32) -> AlbSlave {
        AlbSlave {
            usable: true,
            speed_mbps: speed,
        }
    }

    fn counts(a: &[u8; BUCKETS], n: usize) -> [usize; 8] {
        let mut c = [0; 8];
        for &s in a {
            if (s as usize) < n {
                c[s as usize] += 1;
            }
        }
        c
    }

    #[test]
    fn idle_buckets_spread_evenly_on_equal_links() {
        let mut a = [UNASSIGNED; BUCKETS];
        rebalance(
            &mut a,
            &[0; BUCKETS],
            &[up(1000), up(1000), up(1000), up(1000)],
        );
        assert_eq!(&counts(&a, 4)[..4], &[64, 64, 64, 64]);
    }

    #[test]
    fn idle_buckets_follow_speed() {
        let mut a = [UNASSIGNED; BUCKETS];
        rebalance(&mut a, &[0; BUCKETS], &[up(10000), up(1000)]);
        let c = counts(&a, 2);
        assert!(c[0] >= 9 * c[1] && c[0] <= 11 * c[1] + 11, "{c:?}");
    }

    #[test]
    fn busy_buckets_never_move_while_usable() {
        let mut a = [0u8; BUCKETS];
        let mut load = [0u64; BUCKETS];
        load[7] = 1_000_000;
        load[9] = 5;
        rebalance(&mut a, &load, &[up(1000), up(1000)]);
        assert_eq!(a[7], 0);
        assert_eq!(a[9], 0);
        // The less loaded slave gets at least as many idle buckets.
        let c = counts(&a, 2);
        assert!(c[1] >= c[0] - 2, "{c:?}");
    }

    #[test]
    fn orphaned_buckets_move_and_unusable_gets_nothing() {
        let mut a = [1u8; BUCKETS];
        let mut load = [0u64; BUCKETS];
        load[3] = 100;
        let s = [
            up(1000),
            AlbSlave {
                usable: false,
                speed_mbps: 1000,
            },
            up(1000),
        ];
        rebalance(&mut a, &load, &s);
        assert!(a.iter().all(|&x| x == 0 || x == 2));
        rebalance(&mut a, &load, &[AlbSlave::default(); 3]);
        assert!(a.iter().all(|&x| x == UNASSIGNED));
    }

    /// A reselect (link or membership change) while every bucket carries a
    /// flow: only the failed slave's buckets move, spread over the others.
    #[test]
    #[allow(clippy::needless_range_loop)] // indexes several tables
    fn reselect_moves_only_buckets_of_unusable_slaves() {
        let mut t = Buckets::new();
        let mut s = [up(1000), up(1000), up(1000)];
        t.reselect(&[0; BUCKETS], &s);
        assert_eq!(&counts(&t.assignment, 3)[..3], &[86, 85, 85]);
        // Flows everywhere since the last rebalance.
        let busy = [1500u64; BUCKETS];
        let before = t.assignment;
        s[1].usable = false;
        t.reselect(&busy, &s);
        for b in 0..BUCKETS {
            if before[b] != 1 {
                assert_eq!(t.assignment[b], before[b], "bucket {b} moved");
            } else {
                assert!(t.assignment[b] == 0 || t.assignment[b] == 2);
            }
        }
        let c = counts(&t.assignment, 3);
        assert!(c[0].abs_diff(c[2]) <= 1, "{c:?}");
        // It comes back, or a slave joins: busy buckets stay.
        let before = t.assignment;
        s[1].usable = true;
        t.reselect(&busy, &s);
        assert_eq!(t.assignment, before);
        t.reselect(&busy, &[up(1000), up(1000), up(1000), up(1000)]);
        assert_eq!(t.assignment, before);
    }

    /// Traffic of the last interval counts too: right after a rebalance a
    /// running flow has carried little or nothing since.
    #[test]
    fn reselect_keeps_flows_of_the_last_interval() {
        let mut t = Buckets::new();
        t.reselect(&[0; BUCKETS], &[up(1000), up(1000)]);
        let mut load = [0u64; BUCKETS];
        for l in load.iter_mut().step_by(3) {
            *l = 10_000;
        }
        t.rebalance(&load, &[up(1000), up(1000)]);
        let before = t.assignment;
        t.reselect(&[0; BUCKETS], &[up(1000), up(1000), up(1000)]);
        for b in (0..BUCKETS).step_by(3) {
            assert_eq!(t.assignment[b], before[b], "busy bucket {b} moved");
        }
        // The new slave gets idle buckets.
        assert!(
            counts(&t.assignment, 3)[2] > 40,
            "{:?}",
            counts(&t.assignment, 3)
        );
    }

    /// A slave that joins gets idle buckets at once, so new flows use it.
    #[test]
    fn joining_slave_gets_idle_buckets() {
        let mut t = Buckets::new();
        t.reselect(&[0; BUCKETS], &[up(1000)]);
        t.reselect(&[0; BUCKETS], &[up(1000), up(1000)]);
        assert_eq!(&counts(&t.assignment, 2)[..2], &[128, 128]);
    }

    #[test]
    #[allow(clippy::needless_range_loop)] // indexes several tables
    fn removed_slave_leaves_its_buckets_unassigned() {
        let mut t = Buckets::new();
        t.reselect(&[0; BUCKETS], &[up(1000), up(1000), up(1000)]);
        let before = t.assignment;
        t.remove_slave(1);
        for b in 0..BUCKETS {
            match before[b] {
                0 => assert_eq!(t.assignment[b], 0),
                1 => assert_eq!(t.assignment[b], UNASSIGNED),
                _ => assert_eq!(t.assignment[b], 1),
            }
        }
    }

    /// Pseudo-random links and loads: a reselect never moves a bucket that
    /// was busy on a slave still usable, and leaves every bucket on a
    /// usable slave.
    #[test]
    #[allow(clippy::needless_range_loop)] // indexes several tables
    fn reselect_randomized_stability() {
        let mut seed = 0x9e37_79b9u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut t = Buckets::new();
        for round in 0..500 {
            let n = 1 + (next() % 6) as usize;
            let mut s = [AlbSlave::default(); 6];
            for x in s.iter_mut().take(n) {
                *x = AlbSlave {
                    usable: next() % 4 != 0,
                    speed_mbps: [0, 100, 1000, 10000][(next() % 4) as usize],
                };
            }
            let s = &s[..n];
            let mut load = [0u64; BUCKETS];
            for l in load.iter_mut() {
                if next() % 2 == 0 {
                    *l = 1 + next() % 10_000;
                }
            }
            if round % 5 == 0 {
                t.rebalance(&load, s);
                continue;
            }
            let before = t;
            t.reselect(&load, s);
            let any = s.iter().any(|x| x.usable);
            for b in 0..BUCKETS {
                let a = t.assignment[b];
                if !any {
                    assert_eq!(a, UNASSIGNED);
                    continue;
                }
                assert!((a as usize) < n && s[a as usize].usable);
                let old = before.assignment[b] as usize;
                let busy = load[b] > 0 || before.last_load[b] > 0;
                if busy && old < n && s[old].usable {
                    assert_eq!(a, before.assignment[b], "busy bucket {b} moved");
                }
            }
        }
    }

    #[test]
    fn bucket_is_in_range_and_uses_high_bits() {
        assert!(bucket(u32::MAX) < BUCKETS);
        assert_ne!(bucket(0x0100_0000), bucket(0x0200_0000));
    }

    /// Pseudo-random loads and memberships: every bucket ends on a usable
    /// slave, and busy buckets on usable slaves stay put.
    #[test]
    fn randomized_invariants() {
        let mut seed = 0x1234_5678u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut a = [UNASSIGNED; BUCKETS];
        for _ in 0..500 {
            let n = 1 + (next() % 6) as usize;
            let mut s = [AlbSlave::default(); 6];
            for x in s.iter_mut().take(n) {
                *x = AlbSlave {
                    usable: next() % 4 != 0,
                    speed_mbps: [0, 100, 1000, 10000][(next() % 4) as usize],
                };
            }
            let s = &s[..n];
            let mut load = [0u64; BUCKETS];
            for l in load.iter_mut() {
                if next() % 3 == 0 {
                    *l = next() % 10_000;
                }
            }
            let before = a;
            rebalance(&mut a, &load, s);
            let any = s.iter().any(|x| x.usable);
            for b in 0..BUCKETS {
                if !any {
                    assert_eq!(a[b], UNASSIGNED);
                    continue;
                }
                assert!((a[b] as usize) < n && s[a[b] as usize].usable);
                let old = before[b] as usize;
                if load[b] > 0 && old < n && s[old].usable {
                    assert_eq!(a[b], before[b]);
                }
            }
        }
    }
}
