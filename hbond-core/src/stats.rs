// SPDX-License-Identifier: GPL-2.0

//! Team statistics as the sum of its slaves' device statistics, kept
//! monotonic when slaves come and go (as bonding's `bond_fold_stats`).
//!
//! The team keeps a running total and, per slave, the counters it last saw;
//! each report adds what every counter grew since. A slave's traffic before
//! it was enslaved is not counted, and what it contributed stays in the
//! total after it is released.

/// Adds to `total` what each counter grew from `old` to `new`.
///
/// Counters that only use 32 bits (both values below 2^32) are taken to
/// wrap at 2^32; a counter that went backwards (a driver that resets its
/// statistics when brought down) adds nothing.
pub fn fold(total: &mut [u64], new: &[u64], old: &[u64]) {
    for ((t, &nv), &ov) in total.iter_mut().zip(new).zip(old) {
        let delta = if (nv | ov) >> 32 == 0 {
            i64::from((nv as u32).wrapping_sub(ov as u32) as i32)
        } else {
            nv.wrapping_sub(ov) as i64
        };
        if delta > 0 {
            *t = t.wrapping_add(delta as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_growth_of_each_counter() {
        let mut total = [10, 20];
        fold(&mut total, &[5, 7], &[1, 7]);
        assert_eq!(total, [14, 20]);
    }

    #[test]
    fn sum_over_slaves_is_monotonic_across_release() {
        // Two slaves with traffic before enslavement (not counted).
        let mut total = [0u64];
        let (mut a, mut b) = ([100u64], [50u64]);
        fold(&mut total, &[110], &a);
        a = [110];
        fold(&mut total, &[53], &b);
        b = [53];
        assert_eq!(total, [13]);
        // `a` is released: its last growth is folded, then it is gone.
        fold(&mut total, &[111], &a);
        let after_release = total;
        fold(&mut total, &[60], &b);
        assert!(total[0] >= after_release[0]);
        assert_eq!(total, [21]);
    }

    #[test]
    fn wraps_32_bit_counters() {
        let mut total = [0u64];
        fold(&mut total, &[3], &[u64::from(u32::MAX) - 1]);
        assert_eq!(total, [5]);
    }

    #[test]
    fn ignores_counters_that_went_backwards() {
        let mut total = [7u64, 7];
        fold(&mut total, &[0, 1 << 40], &[5, (1 << 40) + 9]);
        assert_eq!(total, [7, 7]);
    }

    #[test]
    fn large_counters_grow_normally() {
        let mut total = [0u64];
        fold(&mut total, &[(1 << 33) + 5], &[1 << 33]);
        assert_eq!(total, [5]);
    }
}
