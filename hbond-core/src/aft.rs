// SPDX-License-Identifier: GPL-2.0

//! Active slave selection for adapter fault tolerance (active-backup).

/// What the selection needs to know about one slave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlaveLink {
    /// Administratively up and carrier present.
    pub usable: bool,
}

/// Chooses the active slave among `slaves` (in enslave order).
///
/// The current active slave stays active while it is usable, so that a
/// slave coming back does not cause a needless switch; otherwise the first
/// usable slave takes over. `None` when no slave is usable.
pub fn select_active(current: Option<usize>, slaves: &[SlaveLink]) -> Option<usize> {
    if let Some(cur) = current {
        if slaves.get(cur).is_some_and(|s| s.usable) {
            return Some(cur);
        }
    }
    slaves.iter().position(|s| s.usable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(mask: u32, n: usize) -> [SlaveLink; 8] {
        let mut out = [SlaveLink { usable: false }; 8];
        for (i, l) in out.iter_mut().enumerate().take(n) {
            l.usable = mask & (1 << i) != 0;
        }
        out
    }

    #[test]
    fn keeps_usable_active() {
        let s = links(0b111, 3);
        assert_eq!(select_active(Some(2), &s[..3]), Some(2));
    }

    #[test]
    fn fails_over_to_first_usable() {
        let s = links(0b110, 3);
        assert_eq!(select_active(Some(0), &s[..3]), Some(1));
    }

    #[test]
    fn none_when_nothing_usable() {
        let s = links(0, 3);
        assert_eq!(select_active(Some(1), &s[..3]), None);
        assert_eq!(select_active(None, &[]), None);
    }

    #[test]
    fn stale_index_is_ignored() {
        let s = links(0b1, 1);
        assert_eq!(select_active(Some(5), &s[..1]), Some(0));
    }

    /// Exhaustive over up to 6 slaves, every usable mask and every current
    /// choice: never an unusable slave, never `None` while one is usable,
    /// and no switch away from a usable active slave.
    #[test]
    fn exhaustive_properties() {
        for n in 0..=6usize {
            for mask in 0..(1u32 << n) {
                let s = links(mask, n);
                let s = &s[..n];
                for cur in (0..=n).map(|c| if c == n { None } else { Some(c) }) {
                    let got = select_active(cur, s);
                    match got {
                        Some(i) => assert!(s[i].usable),
                        None => assert_eq!(mask, 0),
                    }
                    if let Some(c) = cur {
                        if s[c].usable {
                            assert_eq!(got, Some(c));
                        }
                    }
                }
            }
        }
    }
}
