// SPDX-License-Identifier: GPL-2.0

//! The accounting export of issue 9 (point 8): the engines' load counters
//! (slave attributes `engine_*`) and the text of the team's
//! `/sys/class/net/<team>/hbond_esp/` files (`sas`: one line per SA;
//! `totals`: the team's ESP counters per direction).
//!
//! A sysfs file is one page. With many SAs (the registry is sized for
//! 10,000) not every line fits: [`SaListing`] lists SAs in the order they
//! are given until the next line would not leave room for the last line,
//! counts the rest, and ends with `... N more SAs not listed`. So the file
//! never fails and never ends in a cut line; the team's totals (and
//! `ethtool -S`) count every SA.

use super::engine::EngineLoad;
use super::path::Dir;
use super::sa::{Counter, Counters, Family, SaKey};
use core::fmt::{self, Write};

/// The load counters of one engine (the crypto engine of one slave), as
/// slave attributes, in attribute order: the fields of
/// [`EngineLoad`], which the kernel keeps as atomics (`capability.rs`,
/// `EngineAtomics`) updated by its rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineStat {
    /// Requests the engine took (each lookaside packet once).
    Requests,
    /// Bytes of those requests (whole packets, as the SA counters count).
    RequestBytes,
    /// Requests finished (successfully or not).
    Completed,
    /// Bytes of those.
    CompletedBytes,
    /// Requests that failed (a bad ICV on receive is not the engine's
    /// failure: counted as the SA's `drop_icv`).
    Errors,
    /// Requests taken and not finished yet.
    InFlight,
    /// Bytes of those.
    InFlightBytes,
}

impl EngineStat {
    /// Number of counters.
    pub const COUNT: usize = 7;

    /// All counters, in index (and attribute) order.
    pub const ALL: [EngineStat; EngineStat::COUNT] = [
        Self::Requests,
        Self::RequestBytes,
        Self::Completed,
        Self::CompletedBytes,
        Self::Errors,
        Self::InFlight,
        Self::InFlightBytes,
    ];

    /// Name of the slave attribute, the sysfs file and the JSON key.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Requests => "engine_requests",
            Self::RequestBytes => "engine_request_bytes",
            Self::Completed => "engine_completed",
            Self::CompletedBytes => "engine_completed_bytes",
            Self::Errors => "engine_errors",
            Self::InFlight => "engine_in_flight",
            Self::InFlightBytes => "engine_in_flight_bytes",
        }
    }

    /// Its value in `load`.
    pub fn value(self, load: &EngineLoad) -> u64 {
        match self {
            Self::Requests => load.requests,
            Self::RequestBytes => load.request_bytes,
            Self::Completed => load.completed,
            Self::CompletedBytes => load.completed_bytes,
            Self::Errors => load.errors,
            Self::InFlight => u64::from(load.in_flight),
            Self::InFlightBytes => load.in_flight_bytes,
        }
    }
}

/// The name of a direction in the files (as `ip xfrm` names it).
pub fn dir_name(dir: Dir) -> &'static str {
    match dir {
        Dir::Out => "out",
        Dir::In => "in",
    }
}

/// Writes an IPv6 address in the RFC 5952 form (lowercase, the longest
/// run of two or more zero groups, the first such, as `::`; an
/// IPv4-mapped address as `::ffff:a.b.c.d`), as `ip` shows it.
fn write_v6(out: &mut impl Write, a: &[u8; 16]) -> fmt::Result {
    if a[..10].iter().all(|&b| b == 0) && a[10] == 0xff && a[11] == 0xff {
        return write!(out, "::ffff:{}.{}.{}.{}", a[12], a[13], a[14], a[15]);
    }
    let g = |i: usize| u16::from_be_bytes([a[2 * i], a[2 * i + 1]]);
    // The longest run of zero groups (first wins).
    let (mut best, mut best_len, mut run, mut run_len) = (0, 0, 0, 0);
    for i in 0..8 {
        if g(i) == 0 {
            if run_len == 0 {
                run = i;
            }
            run_len += 1;
            if run_len > best_len {
                best = run;
                best_len = run_len;
            }
        } else {
            run_len = 0;
        }
    }
    if best_len < 2 {
        best_len = 0;
        best = 8;
    }
    let mut i = 0;
    while i < 8 {
        if i == best {
            out.write_str("::")?;
            i += best_len;
            continue;
        }
        if i > 0 && i != best + best_len {
            out.write_char(':')?;
        }
        write!(out, "{:x}", g(i))?;
        i += 1;
    }
    Ok(())
}

/// Writes the destination address of `key`.
pub fn write_daddr(out: &mut impl Write, key: &SaKey) -> fmt::Result {
    let d = &key.daddr;
    match key.family {
        Family::V4 => write!(out, "{}.{}.{}.{}", d[0], d[1], d[2], d[3]),
        Family::V6 => write_v6(out, d),
    }
}

/// The columns of `sas` before the counters.
pub const SA_COLUMNS: [&str; 4] = ["spi", "daddr", "dir", "home"];

/// The column of `totals` before the counters.
pub const TOTALS_COLUMN: &str = "dir";

/// One line of `sas`: an SA and its counters. `home` is the name of the
/// slave it is programmed on inline, `None` for none (shown as `-`).
pub struct SaRow<'a> {
    /// The SA.
    pub key: &'a SaKey,
    /// Its direction.
    pub dir: Dir,
    /// Its home slave's name.
    pub home: Option<&'a str>,
    /// Its counters.
    pub counters: &'a Counters,
}

impl SaRow<'_> {
    /// Writes the line (with its newline).
    pub fn write(&self, out: &mut impl Write) -> fmt::Result {
        write!(out, "0x{:08x} ", self.key.spi)?;
        write_daddr(out, self.key)?;
        write!(
            out,
            " {} {}",
            dir_name(self.dir),
            self.home.filter(|h| !h.is_empty()).unwrap_or("-")
        )?;
        write_counters(out, self.counters)
    }
}

/// Writes ` V...` for every counter, then the newline.
fn write_counters(out: &mut impl Write, c: &Counters) -> fmt::Result {
    for v in c.0 {
        write!(out, " {v}")?;
    }
    out.write_char('\n')
}

/// Writes the header line of a file whose first columns are `first`.
fn write_header(out: &mut impl Write, first: &[&str]) -> fmt::Result {
    for (i, c) in first.iter().enumerate() {
        if i > 0 {
            out.write_char(' ')?;
        }
        out.write_str(c)?;
    }
    for c in Counter::ALL {
        write!(out, " {}", c.name())?;
    }
    out.write_char('\n')
}

/// Writes the `totals` file: a header line and one line per direction
/// (`out`, then `in`) of the team's ESP counters, the values `ethtool -S`
/// shows as `tx_esp_*` and `rx_esp_*`.
pub fn write_totals(out: &mut impl Write, tx: &Counters, rx: &Counters) -> fmt::Result {
    write_header(out, &[TOTALS_COLUMN])?;
    for (dir, c) in [(Dir::Out, tx), (Dir::In, rx)] {
        out.write_str(dir_name(dir))?;
        write_counters(out, c)?;
    }
    Ok(())
}

/// Writes into a byte buffer; fails (writing nothing more) once full.
struct Bytes<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Bytes<'_> {
    fn as_str(&self) -> &str {
        // Only whole `str`s are written.
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl Write for Bytes<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The longest line of `sas`: SPI, an IPv6 address, a direction, an
/// interface name and every counter at 20 digits, with separators.
pub const SA_LINE_MAX: usize = 10 + 1 + 39 + 1 + 3 + 1 + 15 + Counter::COUNT * 21 + 1;

/// Room kept for the last line, `... N more SAs not listed`.
pub const TRAILER_MAX: usize = "... 18446744073709551615 more SAs not listed\n".len();

/// The `sas` file being written into a page (`buf`: the room sysfs gives).
/// A line is added only whole, and only if room for the trailer stays
/// after it; from the first SA that does not fit on, SAs are counted, not
/// listed (so the listing is a prefix of the order they were given in).
pub struct SaListing<'a> {
    out: Bytes<'a>,
    /// The header line fitted (else nothing is written at all).
    headed: bool,
    listed: u64,
    omitted: u64,
}

impl<'a> SaListing<'a> {
    /// Starts the file in `buf` with its header line (if even that does not
    /// fit, the file stays empty and every SA is counted as not listed).
    pub fn new(buf: &'a mut [u8]) -> Self {
        let mut this = Self {
            out: Bytes { buf, len: 0 },
            headed: false,
            listed: 0,
            omitted: 0,
        };
        // One line is formatted before it is known whether it fits.
        let mut room = [0; SA_LINE_MAX];
        let mut line = Bytes {
            buf: &mut room,
            len: 0,
        };
        this.headed = write_header(&mut line, &SA_COLUMNS).is_ok() && this.push_line(&line);
        this
    }

    /// Appends `line` if it fits with the trailer's room after it.
    fn push_line(&mut self, line: &Bytes<'_>) -> bool {
        let room = self.out.buf.len().saturating_sub(TRAILER_MAX);
        if self.omitted > 0 || self.out.len + line.len > room {
            return false;
        }
        self.out
            .write_str(line.as_str())
            .map(|()| true)
            .unwrap_or(false)
    }

    /// Lists `row`, or counts it as not listed.
    pub fn push(&mut self, row: &SaRow<'_>) {
        let mut room = [0; SA_LINE_MAX];
        let mut line = Bytes {
            buf: &mut room,
            len: 0,
        };
        if self.headed && row.write(&mut line).is_ok() && self.push_line(&line) {
            self.listed += 1;
        } else {
            self.omitted += 1;
        }
    }

    /// SAs listed so far.
    pub fn listed(&self) -> u64 {
        self.listed
    }

    /// SAs counted but not listed so far.
    pub fn omitted(&self) -> u64 {
        self.omitted
    }

    /// Ends the file (the trailer if SAs were left out); returns its
    /// length in bytes.
    pub fn finish(mut self) -> usize {
        if self.headed && self.omitted > 0 {
            let n = self.omitted;
            // Room was kept (unless the buffer is smaller than the trailer).
            let before = self.out.len;
            if writeln!(self.out, "... {n} more SAs not listed").is_err() {
                self.out.len = before;
            }
        }
        self.out.len
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::path::DropReason;
    use crate::sa::Outcome;
    use proptest::prelude::*;
    use std::string::{String, ToString};
    use std::vec::Vec;

    /// A sysfs page.
    const PAGE: usize = 4096;

    fn v6(s: &str) -> [u8; 16] {
        s.parse::<std::net::Ipv6Addr>().unwrap().octets()
    }

    fn daddr(key: &SaKey) -> String {
        let mut s = String::new();
        write_daddr(&mut s, key).unwrap();
        s
    }

    #[test]
    fn addresses_as_ip_shows_them() {
        let k = SaKey::v4([192, 0, 2, 2], 1, 50);
        assert_eq!(daddr(&k), "192.0.2.2");
        for a in [
            "2001:db8::2",
            "::",
            "::1",
            "fe80::",
            "2001:db8:0:1:1:1:1:1",
            "2001:0:0:1::1",
            "1:2:3:4:5:6:7:8",
            "2001:db8::1:0:0:1",
            "::ffff:192.0.2.1",
        ] {
            let k = SaKey::v6(v6(a), 1, 50);
            // std writes the RFC 5952 form too.
            let want = a.parse::<std::net::Ipv6Addr>().unwrap().to_string();
            assert_eq!(daddr(&k), want, "{a}");
        }
    }

    proptest! {
        #[test]
        fn any_v6_address_as_std_writes_it(a in any::<[u8; 16]>(), zeros in any::<u8>()) {
            // Zero groups are rare in random bytes: clear some.
            let mut a = a;
            for i in 0..8 {
                if zeros & (1 << i) != 0 {
                    a[2 * i] = 0;
                    a[2 * i + 1] = 0;
                }
            }
            let k = SaKey::v6(a, 1, 50);
            prop_assert_eq!(daddr(&k), std::net::Ipv6Addr::from(a).to_string());
        }
    }

    #[test]
    fn engine_stat_names_are_unique_and_prefixed() {
        for (i, s) in EngineStat::ALL.iter().enumerate() {
            assert_eq!(*s as usize, i);
            assert!(s.name().starts_with("engine_"));
            for t in &EngineStat::ALL[..i] {
                assert_ne!(s.name(), t.name());
            }
        }
        // Each name reads its own field.
        let load = EngineLoad {
            requests: 1,
            request_bytes: 2,
            completed: 3,
            completed_bytes: 4,
            errors: 5,
            in_flight: 6,
            in_flight_bytes: 7,
            consecutive_errors: 8,
        };
        for (i, s) in EngineStat::ALL.iter().enumerate() {
            assert_eq!(s.value(&load), i as u64 + 1, "{}", s.name());
        }
    }

    fn counters(seed: u64) -> Counters {
        let mut c = Counters::default();
        for i in 0..(seed % 7) {
            c.record(Outcome::Inline, 100 + i);
        }
        for i in 0..seed {
            c.record(Outcome::Engine, 1000 + i);
        }
        c.record(Outcome::Dropped(DropReason::IcvFailure), 77);
        c
    }

    /// The SAs of `text` (`sas`), each as its columns, and the trailer's
    /// count (0 without one).
    fn parse(text: &str) -> (Vec<Vec<String>>, u64) {
        let mut lines = text.lines();
        let header: Vec<_> = lines.next().unwrap().split(' ').collect();
        assert_eq!(header.len(), 4 + Counter::COUNT);
        assert_eq!(&header[..4], &SA_COLUMNS);
        for (h, c) in header[4..].iter().zip(Counter::ALL) {
            assert_eq!(*h, c.name());
        }
        let mut rows = Vec::new();
        let mut more = 0;
        for l in lines {
            assert_eq!(more, 0, "a line after the trailer: {l}");
            if let Some(rest) = l.strip_prefix("... ") {
                more = rest
                    .strip_suffix(" more SAs not listed")
                    .unwrap()
                    .parse()
                    .unwrap();
                continue;
            }
            let cols: Vec<String> = l.split(' ').map(String::from).collect();
            assert_eq!(cols.len(), header.len(), "{l}");
            rows.push(cols);
        }
        (rows, more)
    }

    fn listing(buf: &mut [u8], n: u32, v6addr: bool) -> (usize, u64, u64) {
        let mut l = SaListing::new(buf);
        for i in 0..n {
            let key = if v6addr {
                SaKey::v6(
                    v6(&std::format!(
                        "2001:db8:ffff:ffff:ffff:ffff:ffff:{:x}",
                        i % 0xffff
                    )),
                    i,
                    50,
                )
            } else {
                SaKey::v4(
                    [10, (i >> 16) as u8, (i >> 8) as u8, i as u8],
                    0x1000 + i,
                    50,
                )
            };
            let c = counters(u64::from(i));
            let dir = if i % 2 == 0 { Dir::Out } else { Dir::In };
            let home = (i % 3 == 0).then_some("sim0");
            l.push(&SaRow {
                key: &key,
                dir,
                home,
                counters: &c,
            });
        }
        let (listed, omitted) = (l.listed(), l.omitted());
        (l.finish(), listed, omitted)
    }

    #[test]
    fn a_few_sas_are_all_listed() {
        let mut page = [0u8; PAGE];
        let (len, listed, omitted) = listing(&mut page, 3, false);
        assert_eq!((listed, omitted), (3, 0));
        let text = core::str::from_utf8(&page[..len]).unwrap();
        let (rows, more) = parse(text);
        assert_eq!(more, 0);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0][..4], ["0x00001000", "10.0.0.0", "out", "sim0"]);
        assert_eq!(rows[1][..4], ["0x00001001", "10.0.0.1", "in", "-"]);
        // The counters in `Counter` order.
        let c = counters(2);
        for (v, want) in rows[2][4..].iter().zip(c.0) {
            assert_eq!(v.parse::<u64>().unwrap(), want);
        }
        assert_eq!(rows[2][4 + Counter::EnginePackets as usize], "2");
        assert_eq!(rows[2][4 + Counter::DropIcv as usize], "1");
    }

    #[test]
    fn ten_thousand_sas_truncate_to_one_page() {
        for v6addr in [false, true] {
            let mut page = [0u8; PAGE];
            let (len, listed, omitted) = listing(&mut page, 10_000, v6addr);
            assert!(len < PAGE);
            assert_eq!(listed + omitted, 10_000);
            assert!(listed > 5 && omitted > 9_000, "{listed} {omitted}");
            let text = core::str::from_utf8(&page[..len]).unwrap();
            assert!(text.ends_with(&std::format!("... {omitted} more SAs not listed\n")));
            let (rows, more) = parse(text);
            assert_eq!((rows.len() as u64, more), (listed, omitted));
            // The listing is the first SAs, in order, each whole.
            for (i, r) in rows.iter().enumerate() {
                assert_eq!(
                    r[0],
                    std::format!("0x{:08x}", if v6addr { i } else { 0x1000 + i })
                );
            }
            // And it used the page: the next line would not have fitted.
            assert!(len + SA_LINE_MAX + TRAILER_MAX > PAGE);
        }
    }

    #[test]
    fn exactly_full_pages_and_tiny_buffers() {
        // For every buffer size around the edge of the third line, lines
        // are whole, the counts add up, and the text fits the buffer.
        let mut whole = [0u8; PAGE];
        let (full, ..) = listing(&mut whole, 3, true);
        for size in (full - 120)..(full + 120) {
            let mut buf = std::vec![0u8; size];
            let (len, listed, omitted) = listing(&mut buf, 3, true);
            assert!(len <= size);
            assert_eq!(listed + omitted, 3);
            let text = core::str::from_utf8(&buf[..len]).unwrap();
            let (rows, more) = parse(text);
            assert_eq!((rows.len() as u64, more), (listed, omitted));
            if size >= full + TRAILER_MAX {
                assert_eq!(listed, 3, "{size}");
            }
        }
        // No room even for the header: empty, nothing listed.
        let mut tiny = [0u8; 16];
        let (len, listed, omitted) = listing(&mut tiny, 2, false);
        assert_eq!((len, listed), (0, 0));
        assert_eq!(omitted, 2);
    }

    #[test]
    fn totals_are_the_directions_counters() {
        let (tx, rx) = (counters(5), counters(9));
        let mut s = String::new();
        write_totals(&mut s, &tx, &rx).unwrap();
        let lines: Vec<_> = s.lines().collect();
        assert_eq!(lines.len(), 3);
        let header: Vec<_> = lines[0].split(' ').collect();
        assert_eq!(header[0], "dir");
        assert_eq!(header.len(), 1 + Counter::COUNT);
        for (line, (dir, c)) in lines[1..].iter().zip([("out", tx), ("in", rx)]) {
            let cols: Vec<_> = line.split(' ').collect();
            assert_eq!(cols[0], dir);
            let values: Vec<u64> = cols[1..].iter().map(|v| v.parse().unwrap()).collect();
            assert_eq!(values, c.0);
        }
    }
}
