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

/// Reassigns buckets after a change of membership or link state, between
/// rebalances (no load was measured): only buckets whose slave is gone or
/// unusable, and unassigned ones, move; every bucket on a usable slave
/// stays, so healthy flows keep their slave. Moved buckets go, one by one,
/// to the usable slave with the fewest buckets relative to its speed. With
/// no usable slave every bucket becomes [`UNASSIGNED`].
pub fn repair(assignment: &mut [u8; BUCKETS], slaves: &[AlbSlave]) {
    let n = slaves.len().min(UNASSIGNED as usize);
    let slaves = &slaves[..n];
    if !slaves.iter().any(|s| s.usable) {
        assignment.fill(UNASSIGNED);
        return;
    }
    let keeps = |s: u8| (s as usize) < n && slaves[s as usize].usable;
    let mut count = [0u64; UNASSIGNED as usize];
    for &s in assignment.iter() {
        if keeps(s) {
            count[s as usize] += 1;
        }
    }
    for b in assignment.iter_mut() {
        if keeps(*b) {
            continue;
        }
        let mut best = None::<usize>;
        for (i, s) in slaves.iter().enumerate() {
            if !s.usable {
                continue;
            }
            best = match best {
                Some(j)
                    if (count[j] as u128) * (s.weight() as u128)
                        <= (count[i] as u128) * (slaves[j].weight() as u128) =>
                {
                    Some(j)
                }
                _ => Some(i),
            };
        }
        // There is a usable slave (checked above).
        let Some(best) = best else { return };
        *b = best as u8;
        count[best] += 1;
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

    /// What a reselect does to the buckets (a link or membership change,
    /// no new load measurement): buckets of slaves that stay usable never
    /// move, the others land on usable slaves, spread by speed.
    fn reselect(a: &mut [u8; BUCKETS], s: &[AlbSlave]) {
        repair(a, s);
    }

    #[test]
    fn reselect_moves_only_buckets_of_unusable_slaves() {
        let mut a = [UNASSIGNED; BUCKETS];
        let mut s = [up(1000), up(1000), up(1000)];
        reselect(&mut a, &s);
        assert_eq!(&counts(&a, 3)[..3], &[86, 85, 85]);
        // Slave 1 fails: only its buckets move, half to each other slave.
        let before = a;
        s[1].usable = false;
        reselect(&mut a, &s);
        for b in 0..BUCKETS {
            if before[b] != 1 {
                assert_eq!(a[b], before[b], "bucket {b} moved");
            } else {
                assert!(a[b] == 0 || a[b] == 2);
            }
        }
        let c = counts(&a, 3);
        assert!(c[0].abs_diff(c[2]) <= 1, "{c:?}");
        // It comes back: nothing moves until a rebalance finds idle buckets.
        let before = a;
        s[1].usable = true;
        reselect(&mut a, &s);
        assert_eq!(a, before);
        // A slave joins: nothing moves either.
        reselect(&mut a, &[up(1000), up(1000), up(1000), up(1000)]);
        assert_eq!(a, before);
    }

    /// Pseudo-random link changes and buckets: a reselect never moves a
    /// bucket whose slave is still usable, and leaves every bucket on a
    /// usable slave.
    #[test]
    fn reselect_randomized_stability() {
        let mut seed = 0x9e37_79b9u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
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
            let mut a = [0u8; BUCKETS];
            for x in a.iter_mut() {
                *x = match next() % 8 {
                    0 => UNASSIGNED,
                    _ => (next() % 7) as u8,
                };
            }
            let before = a;
            reselect(&mut a, s);
            let any = s.iter().any(|x| x.usable);
            for b in 0..BUCKETS {
                if !any {
                    assert_eq!(a[b], UNASSIGNED);
                    continue;
                }
                assert!((a[b] as usize) < n && s[a[b] as usize].usable);
                let old = before[b] as usize;
                if old < n && s[old].usable {
                    assert_eq!(a[b], before[b]);
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
