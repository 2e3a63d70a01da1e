// SPDX-License-Identifier: GPL-2.0

//! The team's ESP accounting as the kernel exports it in sysfs,
//! `/sys/class/net/<team>/hbond_esp/{sas,totals}` (written by
//! `hbond_core::accounting`; netlink has no per-SA attributes): parsed
//! for `hbondctl show`.

use std::fs;
use std::path::Path;

use hbond_core::accounting::{SA_COLUMNS, TOTALS_COLUMN};
use hbond_core::sa::Counter;

/// The counters of one line, in `Counter` order.
pub type Values = [u64; Counter::COUNT];

/// One line of `sas`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaLine {
    /// As the kernel writes it (`0x%08x`).
    pub spi: String,
    /// Destination address.
    pub daddr: String,
    /// `out` or `in`.
    pub dir: String,
    /// The home slave, `None` for none (`-`).
    pub home: Option<String>,
    /// Its counters.
    pub counters: Values,
}

/// The team's ESP accounting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EspReport {
    /// `(direction, counters)`: `out` then `in`.
    pub totals: Vec<(String, Values)>,
    /// The SAs the file lists.
    pub sas: Vec<SaLine>,
    /// SAs the kernel counted but did not list (the file is one page).
    pub not_listed: u64,
}

/// Why a file could not be read as the kernel writes it.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub String);

fn check_header(line: Option<&str>, first: &[&str]) -> Result<(), Malformed> {
    let line = line.ok_or_else(|| Malformed("no header line".into()))?;
    let want: Vec<&str> = first
        .iter()
        .copied()
        .chain(Counter::ALL.iter().map(|c| c.name()))
        .collect();
    let got: Vec<&str> = line.split_whitespace().collect();
    if got != want {
        return Err(Malformed(format!("unexpected header: {line}")));
    }
    Ok(())
}

fn values<'a>(cols: impl Iterator<Item = &'a str>, line: &str) -> Result<Values, Malformed> {
    let parsed: Vec<u64> = cols
        .map(|c| c.parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|_| Malformed(format!("not a counter in: {line}")))?;
    parsed
        .try_into()
        .map_err(|_| Malformed(format!("wrong number of counters in: {line}")))
}

/// Parses the `totals` file.
pub fn parse_totals(text: &str) -> Result<Vec<(String, Values)>, Malformed> {
    let mut lines = text.lines();
    check_header(lines.next(), &[TOTALS_COLUMN])?;
    lines
        .map(|line| {
            let mut cols = line.split_whitespace();
            let dir = cols.next().ok_or_else(|| Malformed("empty line".into()))?;
            Ok((dir.to_string(), values(cols, line)?))
        })
        .collect()
}

/// Parses the `sas` file: the SAs and how many were not listed.
pub fn parse_sas(text: &str) -> Result<(Vec<SaLine>, u64), Malformed> {
    let mut lines = text.lines();
    check_header(lines.next(), &SA_COLUMNS)?;
    let mut sas = Vec::new();
    let mut not_listed = 0;
    for line in lines {
        if let Some(rest) = line.strip_prefix("... ") {
            not_listed = rest
                .strip_suffix(" more SAs not listed")
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| Malformed(format!("unexpected line: {line}")))?;
            continue;
        }
        let mut cols = line.split_whitespace();
        let mut next = || {
            cols.next()
                .map(String::from)
                .ok_or_else(|| Malformed(format!("short line: {line}")))
        };
        let (spi, daddr, dir, home) = (next()?, next()?, next()?, next()?);
        sas.push(SaLine {
            spi,
            daddr,
            dir,
            home: (home != "-").then_some(home),
            counters: values(cols, line)?,
        });
    }
    Ok((sas, not_listed))
}

/// Reads the accounting of team `name` (interface index `index`) from
/// `sysfs` (normally `/sys/class/net`). `Ok(None)` when the directory is
/// not there (a module without it) or belongs to another device of that
/// name (sysfs of another network namespace: run hbondctl with `ip netns
/// exec`, which mounts the namespace's own).
pub fn read(sysfs: &Path, name: &str, index: u32) -> Result<Option<EspReport>, Malformed> {
    let dev = sysfs.join(name);
    let same = fs::read_to_string(dev.join("ifindex"))
        .ok()
        .and_then(|i| i.trim().parse::<u32>().ok())
        == Some(index);
    let dir = dev.join("hbond_esp");
    let (Ok(totals), Ok(sas)) = (
        fs::read_to_string(dir.join("totals")),
        fs::read_to_string(dir.join("sas")),
    ) else {
        return Ok(None);
    };
    if !same {
        return Ok(None);
    }
    let (sas, not_listed) = parse_sas(&sas)?;
    Ok(Some(EspReport {
        totals: parse_totals(&totals)?,
        sas,
        not_listed,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hbond_core::accounting::{write_totals, SaListing, SaRow};
    use hbond_core::path::{Dir, DropReason};
    use hbond_core::sa::{Counters, Outcome, SaKey};

    fn counters(n: u64) -> Counters {
        let mut c = Counters::default();
        for i in 0..n {
            c.record(Outcome::Engine, 100 + i);
        }
        c.record(Outcome::Dropped(DropReason::QueueFull), 9);
        c
    }

    /// The kernel's `sas` file for `n` SAs in a page.
    fn sas_file(n: u32) -> String {
        let mut page = vec![0u8; 4096];
        let mut list = SaListing::new(&mut page);
        for i in 0..n {
            let key = if i % 2 == 0 {
                SaKey::v4([192, 0, 2, 2], 0x2500 + i, 50)
            } else {
                let mut a = [0u8; 16];
                a[..2].copy_from_slice(&[0x20, 0x01]);
                a[15] = 2;
                SaKey::v6(a, 0x2500 + i, 50)
            };
            list.push(&SaRow {
                key: &key,
                dir: if i % 2 == 0 { Dir::Out } else { Dir::In },
                home: (i == 0).then_some("sim0"),
                counters: &counters(u64::from(i)),
            });
        }
        let len = list.finish();
        String::from_utf8(page[..len].to_vec()).unwrap()
    }

    #[test]
    fn reads_what_the_kernel_writes() {
        let (sas, more) = parse_sas(&sas_file(3)).unwrap();
        assert_eq!(more, 0);
        assert_eq!(sas.len(), 3);
        assert_eq!(sas[0].spi, "0x00002500");
        assert_eq!(sas[0].daddr, "192.0.2.2");
        assert_eq!(
            (sas[0].dir.as_str(), sas[0].home.as_deref()),
            ("out", Some("sim0"))
        );
        assert_eq!(sas[1].daddr, "2001::2");
        assert_eq!((sas[1].dir.as_str(), sas[1].home.as_deref()), ("in", None));
        assert_eq!(sas[2].counters, counters(2).0);

        let mut totals = String::new();
        write_totals(&mut totals, &counters(4), &counters(7)).unwrap();
        let t = parse_totals(&totals).unwrap();
        assert_eq!(
            t,
            vec![("out".into(), counters(4).0), ("in".into(), counters(7).0)]
        );
    }

    #[test]
    fn a_truncated_listing_says_how_many_are_missing() {
        let (sas, more) = parse_sas(&sas_file(500)).unwrap();
        assert!(!sas.is_empty() && more > 0);
        assert_eq!(sas.len() as u64 + more, 500);
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        assert!(parse_sas("").is_err());
        assert!(parse_totals("dir inline_packets\nout 1\n").is_err());
        let mut text = sas_file(1);
        text.push_str("0x1 1.2.3.4 out - 1 2\n");
        assert!(parse_sas(&text).is_err());
        let text = sas_file(1).replace(" sim0 ", " sim0 x");
        assert!(parse_sas(&text).is_err());
    }

    #[test]
    fn reads_a_sysfs_directory_of_the_same_device_only() {
        let root = std::env::temp_dir().join(format!("hbondctl-esp-{}", std::process::id()));
        let dir = root.join("hb0/hbond_esp");
        fs::create_dir_all(&dir).unwrap();
        fs::write(root.join("hb0/ifindex"), "7\n").unwrap();
        let mut totals = String::new();
        write_totals(&mut totals, &counters(1), &counters(2)).unwrap();
        fs::write(dir.join("totals"), &totals).unwrap();
        fs::write(dir.join("sas"), sas_file(2)).unwrap();
        let r = read(&root, "hb0", 7).unwrap().unwrap();
        assert_eq!((r.sas.len(), r.not_listed, r.totals.len()), (2, 0, 2));
        assert_eq!(read(&root, "hb0", 8).unwrap(), None);
        assert_eq!(read(&root, "hb1", 7).unwrap(), None);
        fs::remove_dir_all(&root).unwrap();
    }
}
