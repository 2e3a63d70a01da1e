// SPDX-License-Identifier: GPL-2.0

//! Secondary use: which path the ESP work of one packet takes, and the one
//! engine-selection point.
//!
//! A team member (slave) may be *inline-capable* (its driver does ESP in
//! line, `NETIF_F_HW_ESP` + `xfrmdev_ops`) and may have an *engine* (an
//! AEAD transform provider reachable through the crypto API). An SA
//! offloaded to the team has at most one *home*, the inline-capable member
//! whose driver holds it (`xso.real_dev`), and a set of *slots*: the
//! engines on which a transform keyed from the SA exists.
//!
//! For a packet of SA `s` on member `k` the [`decide_tx`] / [`decide_rx`]
//! functions choose one [`Path`]: inline on `k`, lookaside on an engine
//! chosen by [`select_engine`], the host's software ESP, or a drop. Nothing
//! here looks at packets; the caller passes a snapshot of the members
//! ([`Member`]) and of the SA ([`SaView`]).
//!
//! Members are named by a stable [`MemberId`] (0..[`MAX_MEMBERS`]) that the
//! team assigns at enslave time with [`alloc_member_id`] and frees at
//! release, not by their position in the team's slave list: SA entries keep
//! ids across the release of other members. In this part each member has at
//! most one engine and engine `i` is the engine of member `i`
//! ([`EngineId::of`]).

use super::options::Mode;

/// Upper bound of member ids (and of engine ids); equals the team's slave
/// limit, so that sets of members and engines fit in a `u32`.
pub const MAX_MEMBERS: usize = 32;

/// A member's stable id, below [`MAX_MEMBERS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberId(pub u8);

/// An engine's id, below [`MAX_MEMBERS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EngineId(pub u8);

impl EngineId {
    /// The engine of member `m` (one engine per member in this part).
    pub fn of(m: MemberId) -> Self {
        Self(m.0)
    }

    /// The member this engine belongs to.
    pub fn member(self) -> MemberId {
        MemberId(self.0)
    }

    fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// The lowest id not in `used` (bit `i` set: id `i` taken), or `None` when
/// all [`MAX_MEMBERS`] are taken.
pub fn alloc_member_id(used: u32) -> Option<MemberId> {
    let free = !used;
    (free != 0).then(|| MemberId(free.trailing_zeros() as u8))
}

/// A set of engines, one bit per [`EngineId`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct EngineSet(pub u32);

impl EngineSet {
    /// No engine.
    pub const EMPTY: Self = Self(0);

    /// The set holding only `e`.
    pub fn single(e: EngineId) -> Self {
        Self(bit(e.index()))
    }

    /// Whether `e` is in the set.
    pub fn contains(self, e: EngineId) -> bool {
        self.0 & bit(e.index()) != 0
    }

    /// Adds `e`.
    pub fn insert(&mut self, e: EngineId) {
        self.0 |= bit(e.index());
    }

    /// Removes `e`; returns whether it was in the set.
    pub fn remove(&mut self, e: EngineId) -> bool {
        let had = self.contains(e);
        self.0 &= !bit(e.index());
        had
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of engines in the set.
    pub fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// Engines in both sets.
    pub fn and(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }

    /// This set without `e`.
    pub fn without(self, e: EngineId) -> Self {
        Self(self.0 & !bit(e.index()))
    }

    /// The engines, lowest id first.
    pub fn iter(self) -> impl Iterator<Item = EngineId> {
        (0..MAX_MEMBERS as u8)
            .map(EngineId)
            .filter(move |&e| self.contains(e))
    }
}

/// Bit `i`, or 0 for an id out of range (it is in no set).
fn bit(i: usize) -> u32 {
    if i < MAX_MEMBERS {
        1 << i
    } else {
        0
    }
}

/// What the path decision knows about one member's engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct EngineState {
    /// The member has an engine (its `engine` option names a transform
    /// provider that was allocated successfully).
    pub present: bool,
    /// The engine may take requests (not disabled, not faulted). A member
    /// whose link is down still serves as an engine.
    pub usable: bool,
    /// Requests the engine can still queue now; 0 means full.
    pub room: u32,
    /// Requests issued and not yet completed (for load-based policies).
    pub in_flight: u32,
}

impl EngineState {
    /// Whether the engine can take a request now.
    pub fn can_take(&self) -> bool {
        self.present && self.usable && self.room > 0
    }
}

/// What the path decision knows about one member, indexed by [`MemberId`]
/// in the slices passed here. `Member::default()` is an unused id: it has
/// nothing and is never chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Member {
    /// The id is in use.
    pub present: bool,
    /// Inline ESP offload is live: the driver has `NETIF_F_HW_ESP` and
    /// `xfrmdev_ops`, and the feature is on.
    pub inline_capable: bool,
    /// The link is usable ([`super::link::LinkState::usable`]). It decides
    /// where packets go, never whether an engine may be used.
    pub link_up: bool,
    /// Its engine.
    pub engine: EngineState,
}

/// Direction of an SA (`xso.dir`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    /// Outbound: the team encrypts.
    Out,
    /// Inbound: the team decrypts.
    In,
}

/// What the path decision knows about one SA (a snapshot of its registry
/// entry, see [`super::sa::SaEntry::view`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaView {
    /// Direction.
    pub dir: Dir,
    /// Offloaded to the team (false once the team withdrew offload and the
    /// SA stays with the host's software ESP).
    pub offloaded: bool,
    /// The member whose driver holds the SA inline, if any.
    pub home: Option<MemberId>,
    /// Engines holding a transform keyed from the SA.
    pub slots: EngineSet,
    /// The engine the SA's lookaside requests used last (kept so that a
    /// flow's requests stay on one engine, in order).
    pub sticky: Option<EngineId>,
}

impl SaView {
    /// The view packed in one word, so that the kernel can keep it in an
    /// `AtomicU64` per SA and the data path reads a consistent snapshot
    /// without a lock: slots in bits 0..32, offloaded bit 32, direction
    /// bit 33 (1 = in), home + 1 in bits 34..40 and sticky + 1 in bits
    /// 40..46 (0 = none). Ids at or above [`MAX_MEMBERS`] pack as none.
    pub fn pack(&self) -> u64 {
        let id = |i: Option<u8>| match i {
            Some(i) if usize::from(i) < MAX_MEMBERS => u64::from(i) + 1,
            _ => 0,
        };
        u64::from(self.slots.0)
            | (u64::from(self.offloaded) << 32)
            | (u64::from(self.dir == Dir::In) << 33)
            | (id(self.home.map(|h| h.0)) << 34)
            | (id(self.sticky.map(|e| e.0)) << 40)
    }

    /// The view [`SaView::pack`] packed.
    pub fn unpack(w: u64) -> Self {
        let id = |shift: u32| {
            let v = ((w >> shift) & 0x3f) as u8;
            (v != 0 && usize::from(v) <= MAX_MEMBERS).then(|| v - 1)
        };
        Self {
            dir: if w & (1 << 33) != 0 {
                Dir::In
            } else {
                Dir::Out
            },
            offloaded: w & (1 << 32) != 0,
            home: id(34).map(MemberId),
            slots: EngineSet(w as u32),
            sticky: id(40).map(EngineId),
        }
    }
}

/// Why a packet is dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// No engine could take it (transmit of an offloaded SA: never sent in
    /// clear).
    NoEngine,
    /// The chosen engine's queue was full.
    QueueFull,
    /// The engine failed the request.
    EngineError,
    /// Decryption found a bad ICV: never delivered.
    IcvFailure,
}

/// Where the ESP work of one packet is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Path {
    /// By the member's driver, in line (the member is the SA's home).
    Inline,
    /// Lookaside on this engine through the crypto API.
    Engine(EngineId),
    /// By the host's software ESP (receive without a usable engine, or an
    /// SA the team does not offload).
    HostSoftware,
    /// Not at all: the packet is dropped.
    Drop(DropReason),
}

/// The result of a path decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The path.
    pub path: Path,
    /// When set, the caller stores it as the SA's new
    /// [`SaView::sticky`] engine.
    pub new_sticky: Option<EngineId>,
}

impl Decision {
    fn plain(path: Path) -> Self {
        Self {
            path,
            new_sticky: None,
        }
    }
}

/// Engine selection policy. Part 2 adds load-based policies here; every
/// caller goes through [`select_engine`], which enforces the rules that no
/// policy may break.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Policy {
    /// ALB: the requesting member's own engine, else the SA's sticky engine,
    /// else the next engine round-robin. AFT: the idle backups' engines
    /// first (sticky, else round-robin), the active member's own engine
    /// only when no backup's engine can take the request, because the
    /// active member's hardware already carries the team's inline work.
    #[default]
    OwnThenRoundRobin,
}

/// One request for an engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Team mode.
    pub mode: Mode,
    /// The member the packet leaves or arrived on.
    pub member: MemberId,
    /// Engines that may be used: those holding a transform for the SA.
    pub allowed: EngineSet,
    /// The SA's sticky engine.
    pub sticky: Option<EngineId>,
}

/// An engine chosen by [`select_engine`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selected {
    /// The engine.
    pub engine: EngineId,
    /// The choice is new (round-robin): the caller stores it as the SA's
    /// sticky engine.
    pub remember: bool,
}

/// The engines that can take a request now and hold a transform for it.
pub fn usable_engines(allowed: EngineSet, members: &[Member]) -> EngineSet {
    let mut set = EngineSet::EMPTY;
    for (i, m) in members.iter().enumerate().take(MAX_MEMBERS) {
        if m.present && m.engine.can_take() {
            set.insert(EngineId(i as u8));
        }
    }
    set.and(allowed)
}

/// The first engine of `set` at or after `*cursor` (wrapping); advances the
/// cursor past it.
fn round_robin(set: EngineSet, cursor: &mut u32) -> Option<EngineId> {
    if set.is_empty() {
        return None;
    }
    let start = *cursor % MAX_MEMBERS as u32;
    // Rotate so that bit `start` comes first.
    let rotated = set.0.rotate_right(start);
    let e = (start + rotated.trailing_zeros()) % MAX_MEMBERS as u32;
    *cursor = (e + 1) % MAX_MEMBERS as u32;
    Some(EngineId(e as u8))
}

/// The one engine-selection point: chooses an engine for `req` by `policy`,
/// or `None` when no engine can take it.
///
/// Whatever the policy, the result can take the request
/// ([`EngineState::can_take`]) and is in `req.allowed`. `cursor` is the
/// round-robin state, kept by the caller (one per team); a racy update
/// only skews the rotation.
pub fn select_engine(
    policy: Policy,
    cursor: &mut u32,
    req: &Request,
    members: &[Member],
) -> Option<Selected> {
    let usable = usable_engines(req.allowed, members);
    let own = EngineId::of(req.member);
    let chosen = match policy {
        Policy::OwnThenRoundRobin => {
            let (first, then_own) = match req.mode {
                Mode::Alb if usable.contains(own) => {
                    return Some(Selected {
                        engine: own,
                        remember: false,
                    })
                }
                Mode::Alb => (usable, false),
                Mode::Aft => (usable.without(own), usable.contains(own)),
            };
            match req.sticky {
                Some(s) if first.contains(s) => Some(Selected {
                    engine: s,
                    remember: false,
                }),
                _ => match round_robin(first, cursor) {
                    Some(engine) => Some(Selected {
                        engine,
                        remember: true,
                    }),
                    None if then_own => Some(Selected {
                        engine: own,
                        remember: false,
                    }),
                    None => None,
                },
            }
        }
    };
    // The rule no policy may break.
    chosen.filter(|s| usable.contains(s.engine))
}

/// Transmit: the path of a packet of SA `sa` leaving on member `k`.
///
/// Inline when `k` is the SA's home and its inline offload is live;
/// otherwise an engine; with none, a drop (the packet was laid out for
/// offload and must never leave in clear). An SA the team does not offload
/// is the host's.
pub fn decide_tx(
    policy: Policy,
    cursor: &mut u32,
    mode: Mode,
    sa: &SaView,
    k: MemberId,
    members: &[Member],
) -> Decision {
    if !sa.offloaded {
        return Decision::plain(Path::HostSoftware);
    }
    if sa.home == Some(k) && member(members, k).is_some_and(|m| m.present && m.inline_capable) {
        return Decision::plain(Path::Inline);
    }
    match lookaside(policy, cursor, mode, sa, k, members) {
        Some(d) => d,
        None => Decision::plain(Path::Drop(DropReason::NoEngine)),
    }
}

/// How a received packet came up from the member's driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxState {
    /// The driver decrypted it in line (`CRYPTO_DONE`, `CRYPTO_SUCCESS`).
    DecryptedInline,
    /// Still encrypted.
    Encrypted,
}

/// Receive: the path of an ESP packet of inbound SA `sa` that arrived on
/// member `k`.
///
/// Inline when the driver already decrypted it; otherwise an engine; with
/// none, the host's software ESP (the packet is intact and the stack
/// decrypts it itself).
pub fn decide_rx(
    policy: Policy,
    cursor: &mut u32,
    mode: Mode,
    sa: &SaView,
    k: MemberId,
    rx: RxState,
    members: &[Member],
) -> Decision {
    if rx == RxState::DecryptedInline {
        return Decision::plain(Path::Inline);
    }
    if !sa.offloaded {
        return Decision::plain(Path::HostSoftware);
    }
    lookaside(policy, cursor, mode, sa, k, members).unwrap_or(Decision::plain(Path::HostSoftware))
}

fn lookaside(
    policy: Policy,
    cursor: &mut u32,
    mode: Mode,
    sa: &SaView,
    k: MemberId,
    members: &[Member],
) -> Option<Decision> {
    let req = Request {
        mode,
        member: k,
        allowed: sa.slots,
        sticky: sa.sticky,
    };
    select_engine(policy, cursor, &req, members).map(|s| Decision {
        path: Path::Engine(s.engine),
        new_sticky: s.remember.then_some(s.engine),
    })
}

fn member(members: &[Member], m: MemberId) -> Option<&Member> {
    members.get(usize::from(m.0))
}

/// Whether the team can offer ESP offload at all: some member is
/// inline-capable or has a usable engine (link state does not matter).
/// The team advertises `NETIF_F_HW_ESP` exactly while this holds.
pub fn team_offload_available(members: &[Member]) -> bool {
    members
        .iter()
        .take(MAX_MEMBERS)
        .any(|m| m.present && (m.inline_capable || (m.engine.present && m.engine.usable)))
}

/// Whether the team can serve an SA with this home and these slots; an SA
/// it cannot serve is refused with `-EOPNOTSUPP` and stays in software.
pub fn sa_servable(home: Option<MemberId>, slots: EngineSet, members: &[Member]) -> bool {
    let inline = home
        .and_then(|h| member(members, h))
        .is_some_and(|m| m.present && m.inline_capable);
    let engine = slots.iter().any(|e| {
        member(members, e.member())
            .is_some_and(|m| m.present && m.engine.present && m.engine.usable)
    });
    inline || engine
}

/// `xdo_dev_offload_ok`: whether the stack may hand a packet of this
/// outbound SA to the team for offload. Queue room is not looked at (a
/// full queue drops, later); if this says no, the stack does ESP itself.
pub fn tx_offload_ok(sa: &SaView, members: &[Member]) -> bool {
    sa.offloaded && sa.dir == Dir::Out && sa_servable(sa.home, sa.slots, members)
}

/// The next member on which to try programming an SA inline
/// (`xdo_dev_state_add` via `real_dev`): `preferred` (the AFT active or
/// ALB receive member) if it is inline-capable, then inline-capable members
/// with link up, then the others, each by id; skipping those in `tried`
/// (bit per id). The caller tries each until a driver accepts.
pub fn next_home_candidate(
    members: &[Member],
    preferred: Option<MemberId>,
    tried: u32,
) -> Option<MemberId> {
    let ok = |i: usize| {
        i < MAX_MEMBERS
            && tried & (1 << i) == 0
            && members
                .get(i)
                .is_some_and(|m| m.present && m.inline_capable)
    };
    if let Some(p) = preferred.filter(|p| ok(usize::from(p.0))) {
        return Some(p);
    }
    let n = members.len().min(MAX_MEMBERS);
    (0..n)
        .find(|&i| ok(i) && members[i].link_up)
        .or_else(|| (0..n).find(|&i| ok(i)))
        .map(|i| MemberId(i as u8))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NONE: Member = Member {
        present: true,
        inline_capable: false,
        link_up: true,
        engine: EngineState {
            present: false,
            usable: false,
            room: 0,
            in_flight: 0,
        },
    };

    fn with_engine(link_up: bool) -> Member {
        Member {
            link_up,
            engine: EngineState {
                present: true,
                usable: true,
                room: 8,
                in_flight: 0,
            },
            ..NONE
        }
    }

    fn inline_engine() -> Member {
        Member {
            inline_capable: true,
            ..with_engine(true)
        }
    }

    fn sa(home: Option<u8>, slots: u32) -> SaView {
        SaView {
            dir: Dir::Out,
            offloaded: true,
            home: home.map(MemberId),
            slots: EngineSet(slots),
            sticky: None,
        }
    }

    const P: Policy = Policy::OwnThenRoundRobin;

    #[test]
    fn member_ids_are_lowest_free() {
        assert_eq!(alloc_member_id(0), Some(MemberId(0)));
        assert_eq!(alloc_member_id(0b1011), Some(MemberId(2)));
        assert_eq!(alloc_member_id(u32::MAX), None);
    }

    #[test]
    fn engine_set_basics() {
        let mut s = EngineSet::EMPTY;
        s.insert(EngineId(3));
        s.insert(EngineId(31));
        s.insert(EngineId(40)); // out of range: ignored
        assert_eq!(s.len(), 2);
        assert!(s.contains(EngineId(31)) && !s.contains(EngineId(40)));
        assert!(s.remove(EngineId(3)) && !s.remove(EngineId(3)));
        let v: [EngineId; 1] = [EngineId(31)];
        assert!(s.iter().eq(v.iter().copied()));
    }

    /// The demo team: sim0 (inline + engine), veth0 (nothing).
    #[test]
    fn heterogeneous_team_paths() {
        let m = [inline_engine(), NONE];
        let mut c = 0;
        let s = sa(Some(0), 0b01);
        // On the home: inline. On veth0: sim0's engine, remembered.
        assert_eq!(
            decide_tx(P, &mut c, Mode::Aft, &s, MemberId(0), &m).path,
            Path::Inline
        );
        let d = decide_tx(P, &mut c, Mode::Aft, &s, MemberId(1), &m);
        assert_eq!(d.path, Path::Engine(EngineId(0)));
        assert_eq!(d.new_sticky, Some(EngineId(0)));
        let d = decide_tx(P, &mut c, Mode::Alb, &s, MemberId(1), &m);
        assert_eq!(d.path, Path::Engine(EngineId(0)));
        // Receive on veth0: the engine; already decrypted: inline.
        let r = SaView { dir: Dir::In, ..s };
        assert_eq!(
            decide_rx(
                P,
                &mut c,
                Mode::Aft,
                &r,
                MemberId(1),
                RxState::Encrypted,
                &m
            )
            .path,
            Path::Engine(EngineId(0))
        );
        assert_eq!(
            decide_rx(
                P,
                &mut c,
                Mode::Aft,
                &r,
                MemberId(0),
                RxState::DecryptedInline,
                &m
            )
            .path,
            Path::Inline
        );
    }

    #[test]
    fn no_engine_drops_tx_and_falls_back_rx() {
        let mut m = [inline_engine(), NONE];
        m[0].engine.usable = false;
        let mut c = 0;
        let s = sa(Some(0), 0b01);
        assert_eq!(
            decide_tx(P, &mut c, Mode::Alb, &s, MemberId(1), &m).path,
            Path::Drop(DropReason::NoEngine)
        );
        // The home still does its share inline.
        assert_eq!(
            decide_tx(P, &mut c, Mode::Alb, &s, MemberId(0), &m).path,
            Path::Inline
        );
        let r = SaView { dir: Dir::In, ..s };
        assert_eq!(
            decide_rx(
                P,
                &mut c,
                Mode::Alb,
                &r,
                MemberId(1),
                RxState::Encrypted,
                &m
            )
            .path,
            Path::HostSoftware
        );
        // Queue full is "cannot take" too.
        m[0].engine.usable = true;
        m[0].engine.room = 0;
        assert_eq!(
            decide_tx(P, &mut c, Mode::Alb, &s, MemberId(1), &m).path,
            Path::Drop(DropReason::NoEngine)
        );
    }

    #[test]
    fn home_without_live_inline_uses_engine() {
        let mut m = [inline_engine(), NONE];
        m[0].inline_capable = false; // esp-hw-offload off
        let mut c = 0;
        assert_eq!(
            decide_tx(P, &mut c, Mode::Aft, &sa(Some(0), 1), MemberId(0), &m).path,
            Path::Engine(EngineId(0))
        );
    }

    #[test]
    fn not_offloaded_is_host_software() {
        let m = [inline_engine()];
        let mut c = 0;
        let s = SaView {
            offloaded: false,
            ..sa(Some(0), 1)
        };
        assert_eq!(
            decide_tx(P, &mut c, Mode::Aft, &s, MemberId(0), &m).path,
            Path::HostSoftware
        );
        assert!(!tx_offload_ok(&s, &m));
    }

    #[test]
    fn engine_on_down_link_serves() {
        let m = [NONE, with_engine(false)];
        let mut c = 0;
        assert_eq!(
            decide_tx(P, &mut c, Mode::Aft, &sa(None, 0b10), MemberId(0), &m).path,
            Path::Engine(EngineId(1))
        );
    }

    #[test]
    fn only_engines_with_a_slot() {
        let m = [NONE, with_engine(true), with_engine(true)];
        let mut c = 0;
        for _ in 0..10 {
            assert_eq!(
                decide_tx(P, &mut c, Mode::Alb, &sa(None, 0b100), MemberId(0), &m).path,
                Path::Engine(EngineId(2))
            );
        }
    }

    #[test]
    fn alb_prefers_own_engine_and_keeps_sticky_unchanged() {
        let m = [with_engine(true), with_engine(true), NONE];
        let mut c = 0;
        let s = SaView {
            sticky: Some(EngineId(0)),
            ..sa(None, 0b11)
        };
        let d = decide_tx(P, &mut c, Mode::Alb, &s, MemberId(1), &m);
        assert_eq!(d, Decision::plain(Path::Engine(EngineId(1))));
        // The engine-less member follows the sticky engine.
        let d = decide_tx(P, &mut c, Mode::Alb, &s, MemberId(2), &m);
        assert_eq!(d, Decision::plain(Path::Engine(EngineId(0))));
    }

    #[test]
    fn round_robin_spreads_new_choices() {
        let m = [
            NONE,
            with_engine(true),
            with_engine(false),
            with_engine(true),
        ];
        let mut c = 0;
        let mut seen = [0u32; 4];
        for _ in 0..30 {
            // No sticky: each SA's first request.
            let d = decide_tx(P, &mut c, Mode::Alb, &sa(None, 0b1110), MemberId(0), &m);
            let Path::Engine(e) = d.path else {
                panic!("{d:?}")
            };
            assert_eq!(d.new_sticky, Some(e));
            seen[e.index()] += 1;
        }
        assert_eq!(seen, [0, 10, 10, 10]);
    }

    #[test]
    fn aft_backups_first_then_own() {
        // Active member 0 has an engine; backups 1 and 2 too (2 link down).
        let m = [inline_engine(), with_engine(true), with_engine(false)];
        let mut c = 0;
        let s = sa(None, 0b111);
        let a = decide_tx(P, &mut c, Mode::Aft, &s, MemberId(0), &m).path;
        let b = decide_tx(P, &mut c, Mode::Aft, &s, MemberId(0), &m).path;
        assert_eq!(
            (a, b),
            (Path::Engine(EngineId(1)), Path::Engine(EngineId(2)))
        );
        // Backups full: the active member's own engine.
        let mut m2 = m;
        m2[1].engine.room = 0;
        m2[2].engine.usable = false;
        let d = decide_tx(P, &mut c, Mode::Aft, &s, MemberId(0), &m2);
        assert_eq!(d, Decision::plain(Path::Engine(EngineId(0))));
        // A sticky backup engine is kept.
        let s = SaView {
            sticky: Some(EngineId(2)),
            ..s
        };
        for _ in 0..3 {
            let d = decide_tx(P, &mut c, Mode::Aft, &s, MemberId(0), &m);
            assert_eq!(d, Decision::plain(Path::Engine(EngineId(2))));
        }
    }

    #[test]
    fn sticky_engine_that_became_unusable_is_replaced() {
        let mut m = [NONE, with_engine(true), with_engine(true)];
        m[1].engine.usable = false;
        let mut c = 0;
        let s = SaView {
            sticky: Some(EngineId(1)),
            ..sa(None, 0b110)
        };
        let d = decide_tx(P, &mut c, Mode::Alb, &s, MemberId(0), &m);
        assert_eq!(d.path, Path::Engine(EngineId(2)));
        assert_eq!(d.new_sticky, Some(EngineId(2)));
    }

    #[test]
    fn advertising_and_servability() {
        assert!(!team_offload_available(&[]));
        assert!(!team_offload_available(&[NONE, NONE]));
        assert!(team_offload_available(&[NONE, with_engine(false)]));
        let mut faulted = with_engine(true);
        faulted.engine.usable = false;
        assert!(!team_offload_available(&[faulted]));
        assert!(team_offload_available(&[Member {
            inline_capable: true,
            ..NONE
        }]));
        let absent = Member {
            present: false,
            ..inline_engine()
        };
        assert!(!team_offload_available(&[absent]));
        let m = [inline_engine(), NONE];
        assert!(sa_servable(Some(MemberId(0)), EngineSet::EMPTY, &m));
        assert!(sa_servable(None, EngineSet(1), &m));
        assert!(!sa_servable(None, EngineSet(0b10), &m));
        assert!(!sa_servable(Some(MemberId(1)), EngineSet::EMPTY, &m));
        assert!(tx_offload_ok(&sa(None, 1), &m));
        let rx = SaView {
            dir: Dir::In,
            ..sa(None, 1)
        };
        assert!(!tx_offload_ok(&rx, &m));
    }

    #[test]
    fn home_candidates_in_order() {
        let mut m = [NONE, inline_engine(), inline_engine(), inline_engine()];
        m[1].link_up = false;
        assert_eq!(
            next_home_candidate(&m, Some(MemberId(3)), 0),
            Some(MemberId(3))
        );
        assert_eq!(
            next_home_candidate(&m, Some(MemberId(0)), 0),
            Some(MemberId(2))
        );
        assert_eq!(next_home_candidate(&m, None, 0b0100), Some(MemberId(3)));
        assert_eq!(next_home_candidate(&m, None, 0b1100), Some(MemberId(1)));
        assert_eq!(next_home_candidate(&m, None, 0b1110), None);
    }

    fn arb_member() -> impl Strategy<Value = Member> {
        let likely = || proptest::bool::weighted(0.75);
        (
            likely(),
            any::<bool>(),
            any::<bool>(),
            likely(),
            likely(),
            0u32..3,
        )
            .prop_map(|(present, inline, link, has, usable, room)| Member {
                present,
                inline_capable: inline,
                link_up: link,
                engine: EngineState {
                    present: has,
                    usable,
                    room,
                    in_flight: 0,
                },
            })
    }

    fn arb_mode() -> impl Strategy<Value = Mode> {
        prop_oneof![Just(Mode::Aft), Just(Mode::Alb)]
    }

    proptest! {
        /// Never an engine that cannot take the request or holds no
        /// transform; `None` only when there is no such engine; ALB always
        /// takes the member's own engine when it can.
        #[test]
        fn selection_is_always_usable(
            members in proptest::collection::vec(arb_member(), 0..=12),
            allowed in any::<u32>(),
            member in 0u8..14,
            sticky in proptest::option::of(0u8..40),
            mode in arb_mode(),
            mut cursor in any::<u32>(),
        ) {
            let req = Request {
                mode,
                member: MemberId(member),
                allowed: EngineSet(allowed),
                sticky: sticky.map(EngineId),
            };
            let usable = usable_engines(EngineSet(allowed), &members);
            let got = select_engine(P, &mut cursor, &req, &members);
            if got.is_some_and(|s| s.remember) {
                prop_assert!(cursor < MAX_MEMBERS as u32);
            }
            match got {
                Some(s) => {
                    let m = &members[s.engine.index()];
                    prop_assert!(m.present && m.engine.can_take());
                    prop_assert!(allowed & (1 << s.engine.0) != 0);
                    if mode == Mode::Alb && usable.contains(EngineId(member)) {
                        prop_assert_eq!(s.engine, EngineId(member));
                    }
                    if mode == Mode::Aft && s.engine == EngineId(member) {
                        // Only when no backup's engine could.
                        prop_assert!(usable.without(EngineId(member)).is_empty());
                    }
                    if let Some(st) = sticky.map(EngineId) {
                        if usable.contains(st) && st != EngineId(member) {
                            prop_assert!(s.engine == st || s.engine == EngineId(member));
                        }
                    }
                }
                None => prop_assert!(usable.is_empty()),
            }
        }

        /// Transmit never yields host software for an offloaded SA (that
        /// would be the host's CPU, or plaintext), inline only on the home
        /// with live inline, and a drop only when no engine can take it.
        #[test]
        fn tx_decision_rules(
            members in proptest::collection::vec(arb_member(), 1..8),
            home in proptest::option::of(0u8..8),
            slots in any::<u32>(),
            k in 0u8..8,
            mode in arb_mode(),
            mut cursor in any::<u32>(),
        ) {
            let s = sa(home, slots);
            let d = decide_tx(P, &mut cursor, mode, &s, MemberId(k), &members);
            let usable = usable_engines(EngineSet(slots), &members);
            match d.path {
                Path::Inline => {
                    prop_assert_eq!(home, Some(k));
                    prop_assert!(members[usize::from(k)].inline_capable);
                }
                Path::Engine(e) => prop_assert!(usable.contains(e)),
                Path::Drop(DropReason::NoEngine) => prop_assert!(usable.is_empty()),
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }

        /// Receive: inline only as the driver says, otherwise an engine or
        /// the host; never a drop at decision time.
        #[test]
        fn rx_decision_rules(
            members in proptest::collection::vec(arb_member(), 1..8),
            slots in any::<u32>(),
            k in 0u8..8,
            done in any::<bool>(),
            mut cursor in any::<u32>(),
        ) {
            let s = SaView { dir: Dir::In, ..sa(None, slots) };
            let rx = if done { RxState::DecryptedInline } else { RxState::Encrypted };
            let d = decide_rx(P, &mut cursor, Mode::Alb, &s, MemberId(k), rx, &members);
            let usable = usable_engines(EngineSet(slots), &members);
            match d.path {
                Path::Inline => prop_assert!(done),
                Path::Engine(e) => prop_assert!(!done && usable.contains(e)),
                Path::HostSoftware => prop_assert!(!done && usable.is_empty()),
                Path::Drop(_) => prop_assert!(false),
            }
        }

        /// Packing an SA's view in one word loses nothing.
        #[test]
        fn sa_view_pack_round_trip(
            inbound in any::<bool>(),
            offloaded in any::<bool>(),
            home in proptest::option::of(0u8..32),
            slots in any::<u32>(),
            sticky in proptest::option::of(0u8..32),
        ) {
            let v = SaView {
                dir: if inbound { Dir::In } else { Dir::Out },
                offloaded,
                home: home.map(MemberId),
                slots: EngineSet(slots),
                sticky: sticky.map(EngineId),
            };
            prop_assert_eq!(SaView::unpack(v.pack()), v);
            prop_assert_eq!(v.pack() >> 46, 0);
        }

        /// A remembered engine keeps all of an SA's later requests from an
        /// engine-less member on it while it stays usable (order within
        /// the SA's flows).
        #[test]
        fn sticky_keeps_requests_on_one_engine(
            n in 2usize..8,
            k in 0u8..8,
            mode in arb_mode(),
            mut cursor in any::<u32>(),
            rounds in 1usize..20,
        ) {
            let mut members = [with_engine(true); 8];
            let k = usize::from(k) % n;
            members[k] = NONE;
            let mut s = sa(None, u32::MAX);
            let mut first = None;
            for _ in 0..rounds {
                let d = decide_tx(P, &mut cursor, mode, &s, MemberId(k as u8), &members[..n]);
                if let Some(e) = d.new_sticky {
                    s.sticky = Some(e);
                }
                let Path::Engine(e) = d.path else { panic!("{d:?}") };
                prop_assert_eq!(*first.get_or_insert(e), e);
            }
        }
    }
}
