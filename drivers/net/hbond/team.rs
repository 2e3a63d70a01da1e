// SPDX-License-Identifier: GPL-2.0

//! A team: its members, its configuration, the choice of the active
//! (receive) slave and the transmit map the data path reads.

use crate::hbond_core::{
    aft::{self, Candidate},
    alb::{self, AlbSlave, BUCKETS},
    link::Link as LinkTracker,
    options::{attr, Config, Mode},
    path::{self, EngineState, Member, MemberId, Policy, MAX_MEMBERS},
    sa::Outcome,
};
use crate::kernel_ext::{
    kvec_ext::VecExt,
    net::{
        device::{random_mac, MacAddr, Rtnl},
        features::{Features, UpperFeatures},
        rx_handler::RxHandlerRegistration,
        stats::{LinkStats, Stats64},
        Device, ExtAck, SkBuff,
    },
    rcu_box::RcuBox,
    workqueue_ext::{now_ms, DelayedWork},
};
use crate::slave::{Slave, SlavePort, TeamStats};
use crate::sysfs::HbondContext;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering::Relaxed};
use kernel::{
    alloc::{
        flags::{GFP_ATOMIC, GFP_KERNEL},
        KBox, KVec,
    },
    c_str, new_mutex, new_spinlock,
    prelude::*,
    sync::{Arc, Mutex, SpinLock},
    types::ARef,
};

/// Slaves per team (bucket assignments are u8, with one value reserved).
pub(crate) const MAX_SLAVES: usize = 32;

/// Gap between repeated peer notifications after a failover.
const NOTIFY_INTERVAL_MS: u32 = 200;

/// Control-path state of a team; changed under RTNL only.
pub(crate) struct TeamState {
    pub(crate) config: Config,
    pub(crate) slaves: KVec<Slave>,
    /// Index of the active (AFT) / receive (ALB) slave.
    pub(crate) active: Option<usize>,
    /// Peer notifications still to send after the last failover.
    notify_left: u32,
    /// ALB: slave index per flow bucket, and the load last measured.
    buckets: alb::Buckets,
    /// ALB: when the buckets were last rebalanced.
    last_rebalance_ms: u64,
    /// Transmit maps not published: with the one the data path may hold,
    /// always two, so that publishing never allocates (release and
    /// teardown cannot fail). Empty and without references.
    spare: [Option<KBox<TxMap>>; 2],
    /// Member ids in use (bit per id, see `path::alloc_member_id`).
    member_ids: u32,
}

impl TeamState {
    /// The members as the path decision sees them, by id. Engines are not
    /// usable yet: the lookaside path is still to come, so only inline
    /// homes serve SAs.
    pub(crate) fn members(&self) -> [Member; MAX_MEMBERS] {
        let mut m = [Member::default(); MAX_MEMBERS];
        for s in self.slaves.iter() {
            if let Some(e) = m.get_mut(usize::from(s.id.0)) {
                *e = Member {
                    present: true,
                    inline_capable: s.esp.inline,
                    link_up: s.link.state.usable(),
                    // Load is not measured yet (the engine pool, part 2):
                    // an engine takes every request, its queue or the
                    // crypto API backlog says when it cannot.
                    engine: EngineState {
                        present: s.esp.engine.is_some(),
                        usable: s.esp.engine.is_some(),
                        room: u32::MAX,
                        in_flight: 0,
                    },
                };
            }
        }
        m
    }

    pub(crate) fn index_of(&self, ifindex: i32) -> Option<usize> {
        self.slaves
            .iter()
            .position(|s| s.device().ifindex() == ifindex)
    }

    fn candidates(&self) -> [Candidate; MAX_SLAVES] {
        let mut c = [Candidate::default(); MAX_SLAVES];
        for (c, s) in c.iter_mut().zip(self.slaves.iter()) {
            c.usable = s.link.state.usable();
            c.speed_mbps = s.speed_mbps;
        }
        c
    }
}

/// One slave as the transmit path sees it.
struct TxSlave {
    dev: ARef<Device>,
    port: Arc<SlavePort>,
    /// The slave's own address, used as source on ALB transmit slaves.
    mac: MacAddr,
    /// Its member id.
    id: MemberId,
}

impl TxSlave {
    fn of(s: &Slave) -> Self {
        Self {
            dev: s.device().into(),
            port: s.port().clone(),
            mac: s.device().mac(),
            id: s.id,
        }
    }
}

/// No slave in [`TxMap::by_id`].
const NO_SLAVE: u8 = u8::MAX;

/// What the transmit path reads, replaced as a whole under RCU. Fixed-size,
/// so that it is filled without allocating.
///
/// # Invariants
///
/// Exactly the first `len` entries of `slaves` are `Some`.
struct TxMap {
    mode: Mode,
    /// AFT: only the active slave. ALB: every slave, in team order.
    slaves: [Option<TxSlave>; MAX_SLAVES],
    len: usize,
    /// ALB: the receive slave's index in `slaves`.
    receive: Option<usize>,
    /// ALB: slave index per flow bucket.
    buckets: [u8; BUCKETS],
    /// The members, by id, for the ESP path decision.
    members: [Member; MAX_MEMBERS],
    /// Index in `slaves` per member id ([`NO_SLAVE`] if not in the map).
    by_id: [u8; MAX_MEMBERS],
}

impl TxMap {
    fn new_boxed() -> Result<KBox<Self>> {
        Ok(KBox::new(
            Self {
                mode: Mode::Aft,
                slaves: [const { None }; MAX_SLAVES],
                len: 0,
                receive: None,
                buckets: [alb::UNASSIGNED; BUCKETS],
                members: [Member::default(); MAX_MEMBERS],
                by_id: [NO_SLAVE; MAX_MEMBERS],
            },
            GFP_KERNEL,
        )?)
    }

    fn get(&self, i: usize) -> Option<&TxSlave> {
        self.slaves.get(i)?.as_ref()
    }

    /// Appends `s`; ignored when full (the team has at most `MAX_SLAVES`).
    fn push(&mut self, s: TxSlave) {
        if let Some(slot) = self.slaves.get_mut(self.len) {
            *slot = Some(s);
            self.len += 1;
        }
    }

    /// Drops every reference the map holds.
    fn clear(&mut self) {
        for s in self.slaves.iter_mut() {
            *s = None;
        }
        self.len = 0;
        self.receive = None;
        self.by_id = [NO_SLAVE; MAX_MEMBERS];
    }

    /// The slave an offloaded ESP packet of an SA with `view` leaves on
    /// when its inner flow does not decide (AFT; ALB for a packet whose
    /// flow is unknown or whose flow's slave cannot serve it, and for
    /// `xdo_dev_offload_ok`): AFT the active slave; ALB the SA's home while
    /// it is in the map and usable, else the receive slave.
    fn esp_slave(&self, view: &path::SaView) -> Option<usize> {
        match self.mode {
            Mode::Aft => (self.len > 0).then_some(0),
            Mode::Alb => {
                let home = view.home.and_then(|home| {
                    let i = usize::from(*self.by_id.get(usize::from(home.0))?);
                    self.get(i)?.port.link_state().usable().then_some(i)
                });
                // Without a usable home, the receive slave (lookaside).
                home.or(self.receive).filter(|&i| i < self.len)
            }
        }
    }

    /// Where an offloaded packet of an SA with `view` goes, and its path.
    /// ALB: the slave of its inner flow's bucket (`bucket`), as any flow's,
    /// where the team can do its crypto (inline on the SA's home, else on
    /// an engine); otherwise, and in AFT, [`Self::esp_slave`]. So the flows
    /// inside one SA spread over the slaves and each stays on one path.
    fn esp_route(
        &self,
        view: &path::SaView,
        bucket: Option<usize>,
        cursor: &mut u32,
    ) -> Option<(usize, path::Path)> {
        // (Only ALB hashes flows: `bucket` is `None` in AFT.)
        if let Some(b) = bucket {
            let i = usize::from(*self.buckets.get(b)?);
            if self.get(i).is_some_and(|s| s.port.link_state().usable()) {
                let p = self.esp_path(view, i, cursor);
                if matches!(p, path::Path::Inline | path::Path::Engine(_)) {
                    return Some((i, p));
                }
            }
        }
        let i = self.esp_slave(view)?;
        Some((i, self.esp_path(view, i, cursor)))
    }

    /// The path of an offloaded packet of an SA with `view` leaving on
    /// slave `i` of the map (`decide_tx`, the one decision point).
    fn esp_path(&self, view: &path::SaView, i: usize, cursor: &mut u32) -> path::Path {
        let Some(k) = self.get(i).map(|s| s.id) else {
            return path::Path::Drop(path::DropReason::NoEngine);
        };
        path::decide_tx(Policy::default(), cursor, self.mode, view, k, &self.members).path
    }
}

/// A slave's device statistics as the team last folded them.
struct FoldedSlave {
    dev: ARef<Device>,
    last: LinkStats,
}

/// The team's statistics: the sum of what its slaves' device counters grew
/// while they were members (see `hbond_core::stats`).
struct StatsFold {
    total: LinkStats,
    /// Room for [`MAX_SLAVES`] is allocated up front: entries are added
    /// under the spinlock, without allocating.
    slaves: KVec<FoldedSlave>,
}

impl StatsFold {
    /// Folds the growth of slave `i` since the last time into the total.
    fn fold_one(&mut self, i: usize) {
        let Some(s) = self.slaves.get_mut(i) else {
            return;
        };
        let new = s.dev.stats();
        crate::hbond_core::stats::fold(&mut self.total.0, &new.0, &s.last.0);
        s.last = new;
    }
}

crate::delayed_work_owner! {
/// Per-team state, owned by the team device. The monitor is declared first:
/// it is cancelled before anything else of the team is dropped.
#[pin_data]
pub(crate) struct Team {
    /// Link polling, delays, notifications, rebalancing (see `run`).
    #[pin]
    monitor: DelayedWork<Self>,
    #[pin]
    pub(crate) state: Mutex<TeamState>,
    tx: RcuBox<TxMap>,
    pub(crate) stats: Arc<TeamStats>,
    /// Sum of the slaves' device statistics; a spinlock because
    /// `ndo_get_stats64` may run in atomic context.
    #[pin]
    fold: SpinLock<StatsFold>,
    /// Set while the team recomputes its features, so that the feature
    /// changes this causes on slaves do not recurse (bonding's
    /// `notifier_ctx`). Only changed under RTNL.
    computing_features: AtomicBool,
    /// ALB: bytes sent per flow bucket since the last rebalance.
    bucket_load: [AtomicU64; BUCKETS],
    /// The team device; set once registered (for the monitor work).
    master: AtomicPtr<Device>,
    pub(crate) context: Arc<HbondContext>,
    /// The slaves holding the team's receive filters (rx_filter.rs).
    #[pin]
    pub(crate) rx_filter: crate::rx_filter::RxFilter,
    /// The SAs offloaded to the team (offload.rs).
    #[pin]
    pub(crate) sas: crate::sa_registry::SaRegistry,
    /// Whether the team offers ESP offload now (logged on change).
    esp_offered: AtomicBool,
    /// The engine selection's round-robin cursor (`path::select_engine`).
    esp_cursor: AtomicU32,
    /// Seed of the inner-flow hash of offloaded ESP packets (ALB).
    esp_flow_seed: u32,
}
}

impl Team {
    pub(crate) fn new(
        config: Config,
        context: Arc<HbondContext>,
    ) -> Result<impl PinInit<Self, Error>> {
        let stats = Arc::new(TeamStats::default(), GFP_KERNEL)?;
        let folded = KVec::with_capacity(MAX_SLAVES, GFP_KERNEL)?;
        let spare = [Some(TxMap::new_boxed()?), Some(TxMap::new_boxed()?)];
        let sas = crate::sa_registry::SaRegistry::new(GFP_KERNEL)?;
        Ok(try_pin_init!(Self {
            monitor <- DelayedWork::new(),
            state <- new_mutex!(TeamState {
                config,
                slaves: KVec::new(),
                active: None,
                notify_left: 0,
                buckets: alb::Buckets::new(),
                last_rebalance_ms: 0,
                spare,
                member_ids: 0,
            }),
            tx: RcuBox::new(),
            stats,
            fold <- new_spinlock!(StatsFold {
                total: LinkStats::ZERO,
                slaves: folded,
            }),
            computing_features: AtomicBool::new(false),
            bucket_load: [const { AtomicU64::new(0) }; BUCKETS],
            master: AtomicPtr::new(core::ptr::null_mut()),
            context,
            rx_filter <- crate::rx_filter::RxFilter::new(),
            sas <- sas,
            esp_offered: AtomicBool::new(false),
            esp_cursor: AtomicU32::new(0),
            esp_flow_seed: crate::kernel_ext::rcu_hash::random_seed(),
        }))
    }

    /// Records the team device once registered.
    pub(crate) fn set_master(&self, dev: &Device) {
        self.master
            .store(core::ptr::from_ref(dev).cast_mut(), Relaxed);
    }

    fn master(&self) -> Option<&Device> {
        // SAFETY: Set to the team device, which owns `self` and so outlives
        // it (the data is freed before the device).
        unsafe { self.master.load(Relaxed).as_ref() }
    }

    /// Transmits `skb` according to the current map; the packet is always
    /// consumed.
    pub(crate) fn xmit(&self, mut skb: SkBuff) {
        // A packet whose ESP the stack left to the team's offload.
        let esp = skb
            .xmit_offload()
            .filter(|o| o.device_crypto)
            .map(|o| (crate::offload::sa_id(o.state), o.seq_lo, o.seq_hi));
        if let Some((id, seq_lo, seq_hi)) = esp {
            self.xmit_esp(skb, id, seq_lo, seq_hi);
            return;
        }
        let len = skb.len();
        let sent: Result = self.tx.read(|map| {
            let map = map.ok_or_else(crate::kernel_ext::error::enetdown)?;
            let index = match map.mode {
                Mode::Aft => 0,
                Mode::Alb if skb.eth_dest_is_multicast() => map.receive.unwrap_or(0),
                Mode::Alb => {
                    let bucket = alb::bucket(skb.flow_hash());
                    self.bucket_load[bucket].fetch_add(u64::from(len), Relaxed);
                    usize::from(map.buckets[bucket])
                }
            };
            Self::send_on(map, index, skb, len)
        });
        if sent.is_err() {
            // Dropped by the team itself (no slave to send on).
            self.stats.tx_dropped.fetch_add(1, Relaxed);
        }
    }

    /// Sends `skb` (`len` bytes) on slave `index` of `map`; `Err` if there
    /// is no such slave (the packet is dropped).
    fn send_on(map: &TxMap, index: usize, mut skb: SkBuff, len: u32) -> Result {
        let slave = map
            .get(index)
            .ok_or_else(crate::kernel_ext::error::enetdown)?;
        if map.mode == Mode::Alb && map.receive != Some(index) {
            // Only the receive slave uses the team's address, so that
            // switches learn it on one port.
            skb.set_eth_source(&slave.mac)?;
        }
        skb.set_dev(&slave.dev);
        // The map (and so the port) stays alive until the read-side
        // section ends: no reference is taken per packet.
        let port = &slave.port;
        // Dropped below us: the slave's own counters show it.
        let _ = skb
            .queue_xmit()
            .inspect(|()| port.tx.pass(len))
            .inspect_err(|_| port.tx.drop_one());
        Ok(())
    }

    /// Transmits a packet of an SA offloaded to the team, whose crypto is
    /// still to be done (`id`: its registry entry), on the slave
    /// [`TxMap::esp_route`] picks: inline if that is the SA's home, else
    /// after an engine did its ESP (`offload::submit_tx`). A packet no
    /// engine can take is dropped and counted, never sent in clear
    /// (`xdo_dev_offload_ok` sends what the team cannot do to software, so
    /// only a change of slaves in between gets here).
    fn xmit_esp(
        &self,
        skb: SkBuff,
        id: Option<crate::sa_registry::SaId>,
        seq_lo: u32,
        seq_hi: u32,
    ) {
        let len = skb.len();
        let sent = self.tx.read(|map| {
            let (map, id) = (map?, id?);
            self.sas.lookup(&id, |sa| {
                let sa = sa?;
                let view = sa.view();
                // ALB: the inner flow's bucket, which carries its load.
                let bucket = (map.mode == Mode::Alb)
                    .then(|| crate::offload::esp_flow_hash(&skb, self.esp_flow_seed))
                    .flatten()
                    .map(alb::bucket);
                if let Some(b) = bucket {
                    self.bucket_load[b].fetch_add(u64::from(len), Relaxed);
                }
                let mut cursor = self.esp_cursor.load(Relaxed);
                let path = map
                    .esp_route(&view, bucket, &mut cursor)
                    .unwrap_or((0, path::Path::Drop(path::DropReason::NoEngine)));
                self.esp_cursor.store(cursor, Relaxed);
                let reason = match path {
                    (i, path::Path::Inline) => {
                        Self::send_on(map, i, skb, len).ok()?;
                        crate::offload::record(&self.stats, sa, Outcome::Inline, u64::from(len));
                        return Some(());
                    }
                    (i, path::Path::Engine(e)) => {
                        // The request sends the packet on when done.
                        let tx = crate::offload::TxJob {
                            slave: i,
                            seq_lo,
                            seq_hi,
                        };
                        match crate::offload::submit_tx(self, sa, e, skb, tx) {
                            Ok(()) => return Some(()),
                            Err(r) => r,
                        }
                    }
                    (_, path::Path::Drop(r)) => r,
                    // Not for an offloaded SA.
                    (_, path::Path::HostSoftware) => path::DropReason::NoEngine,
                };
                crate::offload::record(&self.stats, sa, Outcome::Dropped(reason), u64::from(len));
                None
            })
        });
        if sent.is_none() {
            self.stats.tx_dropped.fetch_add(1, Relaxed);
        }
    }

    /// The receive path decision for an ESP packet of an SA with `view`
    /// that arrived encrypted on member `k` (`decide_rx`, the one decision
    /// point), with the members of the current map.
    pub(crate) fn rx_path(&self, view: &path::SaView, k: MemberId) -> path::Path {
        self.tx.read(|map| {
            let Some(map) = map else {
                return path::Path::HostSoftware;
            };
            let mut cursor = self.esp_cursor.load(Relaxed);
            let d = path::decide_rx(
                Policy::default(),
                &mut cursor,
                map.mode,
                view,
                k,
                path::RxState::Encrypted,
                &map.members,
            );
            self.esp_cursor.store(cursor, Relaxed);
            d.path
        })
    }

    /// The team device, once registered.
    pub(crate) fn master_dev(&self) -> Option<&Device> {
        self.master()
    }

    /// Whether the team can do the crypto of a packet of an SA with `view`
    /// now, inline or on an engine (`xdo_dev_offload_ok`, see
    /// `Team::xmit_esp`).
    pub(crate) fn tx_can_offload(&self, view: &path::SaView) -> bool {
        self.tx.read(|map| {
            map.and_then(|m| {
                let i = m.esp_slave(view)?;
                let mut cursor = self.esp_cursor.load(Relaxed);
                Some(matches!(
                    m.esp_path(view, i, &mut cursor),
                    path::Path::Inline | path::Path::Engine(_)
                ))
            })
            .unwrap_or(false)
        })
    }

    /// Sends a packet whose ESP an engine completed (in BH context) on
    /// slave `index` of the current map (AFT: the active slave, whichever
    /// it is now).
    pub(crate) fn send_finished_esp(&self, skb: SkBuff, index: usize) -> Result {
        let len = skb.len();
        self.tx.read(|map| {
            let map = map.ok_or_else(crate::kernel_ext::error::enetdown)?;
            let index = if map.mode == Mode::Aft { 0 } else { index };
            Self::send_on(map, index, skb, len)
        })
    }

    /// Reports the team's statistics: the sum over its slaves' device
    /// statistics (only what they counted while members, kept across
    /// releases) plus what the team dropped itself.
    pub(crate) fn get_stats(&self, out: &mut Stats64<'_>) {
        let total = {
            let mut fold = self.fold.lock();
            for i in 0..fold.slaves.len() {
                fold.fold_one(i);
            }
            fold.total
        };
        out.set(&total);
        out.add_tx(0, 0, self.stats.tx_dropped.load(Relaxed));
        out.add_rx(0, 0, self.stats.rx_dropped.load(Relaxed));
    }

    /// Changes every slave's MTU, then (by the caller) the team's; on a
    /// refusal the slaves changed so far get their MTU back.
    pub(crate) fn change_mtu(&self, master: &Device, mtu: u32, rtnl: &Rtnl) -> Result {
        let mut devs = KVec::with_capacity(MAX_SLAVES, GFP_KERNEL)?;
        for s in self.state.lock().slaves.iter() {
            devs.push(ARef::<Device>::from(s.device()), GFP_KERNEL)?;
        }
        let mut old = [0u32; MAX_SLAVES];
        for (i, dev) in devs.iter().enumerate() {
            old[i] = dev.mtu();
            if let Err(e) = dev.set_mtu(mtu, rtnl) {
                pr_warn!(
                    "{}: {} refused MTU {} (error {}); MTU unchanged\n",
                    master.name(),
                    dev.name(),
                    mtu,
                    e.to_errno()
                );
                for (d, &m) in devs.iter().zip(old.iter()).take(i) {
                    if d.set_mtu(m, rtnl).is_err() {
                        pr_warn!("{}: {} keeps MTU {}\n", master.name(), d.name(), mtu);
                    }
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// Features the team can have on, given what the stack wants
    /// (`features`): the intersection with the slaves' (bonding's
    /// `bond_fix_features`).
    pub(crate) fn fix_features(&self, features: Features) -> Features {
        let mask = features;
        let mut f = features.base();
        let members = {
            let st = self.state.lock();
            for s in st.slaves.iter() {
                f = f.increment(s.device().features(), mask);
            }
            st.members()
        };
        let f = f.increment(Features::ALL_TSO.union(Features::ALL_FOR_ALL), mask);
        // ESP offload is the team's own (offload.rs): on while a slave can
        // serve SAs, and the user wants it. The team neither checksums nor
        // segments ESP packets itself, so it never offers those (the stack
        // then does both before handing a packet over).
        let esp = features.contains(Features::HW_ESP) && path::team_offload_available(&members);
        let f = f.without(
            Features::HW_ESP
                .union(Features::HW_ESP_TX_CSUM)
                .union(Features::GSO_ESP),
        );
        if esp {
            f.union(Features::HW_ESP)
        } else {
            f
        }
    }

    /// Recomputes the team's features from its slaves after a member or a
    /// member's features changed (`netdev_compute_master_upper_features`).
    pub(crate) fn update_features(&self, master: &Device, rtnl: &Rtnl) {
        if self.computing_features.swap(true, Relaxed) {
            return;
        }
        let mut upper = UpperFeatures::new();
        {
            let st = self.state.lock();
            for s in st.slaves.iter() {
                upper.add_lower(s.device(), rtnl);
            }
        }
        // ESP: `upper.xfrm` is what the stack may offload to the team for
        // encapsulated packets (every ESP offload packet is): the team's own
        // capability, not the slaves' bits (see `fix_features`).
        let available = path::team_offload_available(&self.members());
        upper.xfrm = if available {
            Features::HW_ESP
        } else {
            Features::EMPTY
        };
        upper.apply(master, rtnl);
        if self.esp_offered.swap(available, Relaxed) != available {
            if available {
                pr_info!("{}: ESP offload available\n", master.name());
            } else {
                pr_info!(
                    "{}: ESP offload withdrawn: no slave can offload; SAs continue in host software\n",
                    master.name()
                );
            }
        }
        self.computing_features.store(false, Relaxed);
    }

    /// Re-evaluates the active slave after a change of links, members or
    /// options, applies the consequences and republishes the transmit map.
    /// Never fails: a receive slave that cannot take the team's address
    /// (ALB) is reported and tried again on the next reselection.
    pub(crate) fn reselect(&self, master: &Device, rtnl: &Rtnl) {
        // Only a forced choice can fail.
        let _ = self.select(master, rtnl, None);
    }

    /// Makes slave `i` the active (receive) slave, as `active_slave` asks.
    /// `ENETDOWN` if its link is not usable, or the error of giving it the
    /// team's address (ALB); nothing changed then.
    pub(crate) fn set_active(&self, master: &Device, rtnl: &Rtnl, i: usize) -> Result {
        self.select(master, rtnl, Some(i))
    }

    /// Whether slave `i` could be made active now.
    pub(crate) fn usable(st: &TeamState, i: usize) -> bool {
        st.slaves.get(i).is_some_and(|s| s.link.state.usable())
    }

    fn select(&self, master: &Device, rtnl: &Rtnl, force: Option<usize>) -> Result {
        let (old, new, mode) = {
            let st = self.state.lock();
            let candidates = st.candidates();
            let n = st.slaves.len();
            let primary = st.index_of(st.config.get(attr::PRIMARY) as i32);
            let old = st.active.filter(|&i| i < n);
            let new = match force {
                Some(i) if candidates[..n].get(i).is_some_and(|c| c.usable) => Some(i),
                Some(_) => return Err(crate::kernel_ext::error::enetdown()),
                None => {
                    aft::select_active(old, &candidates[..n], primary, st.config.primary_reselect())
                }
            };
            (old, new, st.config.mode())
        };
        if let (Mode::Alb, Some(i)) = (mode, new) {
            if let Err(e) = self.give_team_mac(master, i, rtnl) {
                if force.is_some() {
                    return Err(e);
                }
            }
        }
        {
            let mut st = self.state.lock();
            st.active = new;
            if new.is_some() && new != old {
                st.notify_left = u32::from(st.config.get(attr::PEER_NOTIFY_COUNT) as u8);
            }
            if new != old {
                match new.and_then(|i| st.slaves.get(i)) {
                    Some(s) => pr_info!("{}: active slave {}\n", master.name(), s.device().name()),
                    None => pr_info!("{}: no usable slave\n", master.name()),
                }
            }
        }
        self.switch_receiver(old, new, rtnl);
        // Receive filters follow the active slave (rx_filter.rs).
        self.update_rx_filters(master, rtnl);
        if new.is_some() {
            master.carrier_on();
        } else {
            master.carrier_off();
        }
        self.publish(false);
        self.notify_peers(master, rtnl);
        Ok(())
    }

    /// Moves the receive role (what the receive hook delivers to the team)
    /// from `old` to `new`; in ALB the team's address went to `new` before.
    fn switch_receiver(&self, _old: Option<usize>, new: Option<usize>, _rtnl: &Rtnl) {
        let st = self.state.lock();
        for (i, s) in st.slaves.iter().enumerate() {
            s.port().receives.store(Some(i) == new, Relaxed);
        }
    }

    /// ALB: gives slave `i` the team's address. The slave that had it (if
    /// any) takes `i`'s, so addresses stay unique. On failure nothing
    /// changed (reported).
    fn give_team_mac(&self, master: &Device, i: usize, rtnl: &Rtnl) -> Result {
        let team_mac = master.mac();
        let (dev, holder): (ARef<Device>, Option<ARef<Device>>) = {
            let st = self.state.lock();
            let Some(s) = st.slaves.get(i) else {
                return Ok(());
            };
            let holder = st
                .slaves
                .iter()
                .enumerate()
                .find(|(j, o)| *j != i && o.device().mac() == team_mac)
                .map(|(_, o)| o.device().into());
            (s.device().into(), holder)
        };
        if dev.mac() == team_mac {
            return Ok(());
        }
        let result = match &holder {
            Some(h) => swap_macs(&dev, h, rtnl),
            None => dev.set_mac(&team_mac, &mut ExtAck::none(), rtnl),
        };
        if let Err(e) = &result {
            pr_warn!(
                "{}: {} cannot take the team's address (error {}); addresses unchanged\n",
                master.name(),
                dev.name(),
                e.to_errno()
            );
        }
        result
    }

    /// Builds and publishes the transmit map; rebalances ALB buckets with
    /// the load measured since the last rebalance if `measure`, else moves
    /// only the buckets of slaves that are gone or unusable. Never
    /// allocates.
    pub(crate) fn publish(&self, measure: bool) {
        let mut st = self.state.lock();
        let Some(mut map) = st.spare.iter_mut().find_map(Option::take) else {
            // Not reached: of the two maps the data path holds at most one,
            // and publications are serialised by RTNL.
            pr_err!("hbond: no spare transmit map\n");
            return;
        };
        let mode = st.config.mode();
        let n = st.slaves.len();
        map.mode = mode;
        match (mode, st.active) {
            (Mode::Aft, Some(a)) => {
                if let Some(s) = st.slaves.get(a) {
                    map.push(TxSlave::of(s));
                }
            }
            (Mode::Aft, None) => {}
            (Mode::Alb, _) => {
                for s in st.slaves.iter() {
                    map.push(TxSlave::of(s));
                }
            }
        }
        if mode == Mode::Alb {
            let mut alb_slaves = [AlbSlave::default(); MAX_SLAVES];
            for (a, s) in alb_slaves.iter_mut().zip(st.slaves.iter()) {
                a.usable = s.link.state.usable();
                a.speed_mbps = s.speed_mbps;
            }
            let mut load = [0u64; BUCKETS];
            if measure {
                for (l, b) in load.iter_mut().zip(self.bucket_load.iter()) {
                    *l = b.swap(0, Relaxed);
                }
                st.last_rebalance_ms = now_ms();
                st.buckets.rebalance(&load, &alb_slaves[..n]);
            } else {
                // Busy buckets of usable slaves stay (no reordering).
                for (l, b) in load.iter_mut().zip(self.bucket_load.iter()) {
                    *l = b.load(Relaxed);
                }
                st.buckets.reselect(&load, &alb_slaves[..n]);
            }
            map.receive = st.active;
        }
        map.buckets = st.buckets.assignment;
        map.members = st.members();
        for i in 0..map.len {
            if let Some(id) = map.get(i).map(|s| usize::from(s.id.0)) {
                if let Some(b) = map.by_id.get_mut(id) {
                    *b = i as u8;
                }
            }
        }
        drop(st);
        let (new, unused) = if map.len == 0 {
            (None, Some(map))
        } else {
            (Some(map), None)
        };
        let old = self.tx.exchange(new);
        for mut m in [old, unused].into_iter().flatten() {
            // References go now, outside the lock.
            m.clear();
            let mut st = self.state.lock();
            if let Some(slot) = st.spare.iter_mut().find(|s| s.is_none()) {
                *slot = Some(m);
            }
        }
    }

    /// Sends one round of peer notifications if some are due, and arranges
    /// for the rest.
    fn notify_peers(&self, master: &Device, rtnl: &Rtnl) {
        let due = {
            let mut st = self.state.lock();
            let due = st.notify_left > 0 && st.active.is_some();
            if due {
                st.notify_left -= 1;
            }
            due.then_some(st.notify_left)
        };
        if let Some(left) = due {
            if master.is_running() {
                master.notify_peers(rtnl);
            }
            if left > 0 {
                self.monitor.reschedule(NOTIFY_INTERVAL_MS);
            }
        }
    }

    /// Feeds a slave's carrier into its link state; returns whether its
    /// usability changed. Arms the monitor for pending up/down delays.
    pub(crate) fn link_event(&self, slave: &Device, rtnl: &Rtnl) -> bool {
        let carrier = slave.is_running() && slave.carrier_ok();
        let speed = slave.speed_mbps(rtnl);
        let now = now_ms();
        let mut st = self.state.lock();
        let (up, down) = (st.config.get(attr::UPDELAY), st.config.get(attr::DOWNDELAY));
        let Some(i) = st.index_of(slave.ifindex()) else {
            return false;
        };
        let s = &mut st.slaves[i];
        s.speed_mbps = speed;
        let changed = s.link.update(carrier, now, up, down);
        s.publish_link();
        if let Some(ms) = s.link.pending_ms(now, up, down) {
            self.monitor.reschedule(ms);
        }
        changed
    }

    /// Adds `slave` to the team (all checks done by the caller). On failure
    /// everything done to the team and the slave is undone; once the slave
    /// is a member, nothing fails.
    pub(crate) fn enslave(
        &self,
        master: &Device,
        slave: &Device,
        extack: &mut ExtAck,
        rtnl: &Rtnl,
    ) -> Result {
        let (first, mode) = {
            let mut st = self.state.lock();
            if st.slaves.len() >= MAX_SLAVES {
                extack.set_msg(c_str!("hbond: team is full"));
                return Err(ENOSPC);
            }
            // The list only changes under RTNL, so this room is still there
            // below; the lock is not held while the stack runs notifiers.
            st.slaves.reserve(1, GFP_KERNEL)?;
            (st.slaves.is_empty(), st.config.mode())
        };
        // Taken when the slave is pushed below (RTNL serialises enslaving).
        let id = path::alloc_member_id(self.state.lock().member_ids).ok_or(ENOSPC)?;
        // The id's engine counters start again for this slave.
        if let Some(e) = self.stats.engine(path::EngineId::of(id)) {
            e.reset_history();
        }
        let port = Arc::new(
            SlavePort::new(master, self.stats.clone(), slave, id),
            GFP_KERNEL,
        )?;
        let perm_mac = port.perm_mac;
        // Dropped (the hook removed) on every error return below, after
        // `undo`.
        let rx = RxHandlerRegistration::new(slave, port, rtnl)?;
        slave.link_master(master, extack, rtnl)?;
        let mut undo = EnslaveUndo {
            master,
            slave,
            team_mac: None,
            slave_mac: None,
            flagged: false,
            mtu: None,
            opened: false,
            vlans: false,
        };
        // AFT: every slave uses the team's address. ALB: slaves keep their
        // own, the receive slave gets the team's when it becomes one. An
        // empty team with a random address takes its first slave's.
        if first && master.mac_is_random() {
            let random = master.mac();
            if let Err(e) = master.adopt_mac(&perm_mac, rtnl) {
                undo.run(rtnl);
                return Err(e);
            }
            undo.team_mac = Some(random);
        } else if mode == Mode::Aft {
            if let Err(e) = slave.set_mac(&master.mac(), extack, rtnl) {
                undo.run(rtnl);
                return Err(e);
            }
            undo.slave_mac = Some(perm_mac);
        }
        slave.set_slave_flag(true, rtnl);
        undo.flagged = true;
        let orig_mtu = slave.mtu();
        if let Err(e) = slave.set_mtu(master.mtu(), rtnl) {
            extack.set_msg(c_str!("hbond: device cannot take the team's MTU"));
            undo.run(rtnl);
            return Err(e);
        }
        undo.mtu = Some(orig_mtu);
        if !slave.is_running() {
            if let Err(e) = slave.open(extack, rtnl) {
                undo.run(rtnl);
                return Err(e);
            }
            undo.opened = true;
        }
        // The team's VLAN filters (rx_filter.rs).
        if let Err(e) = slave.vlan_vids_add_by_dev(master, rtnl) {
            extack.set_msg(c_str!("hbond: device refused the team's VLAN filters"));
            undo.run(rtnl);
            return Err(e);
        }
        undo.vlans = true;
        if let Err(e) = self.context.slave_sysfs.add(slave) {
            undo.run(rtnl);
            return Err(e);
        }
        let carrier = slave.is_running() && slave.carrier_ok();
        let entry = Slave {
            rx,
            link: LinkTracker::new(carrier, now_ms()),
            speed_mbps: slave.speed_mbps(rtnl),
            orig_mtu,
            esp: self.probe_esp(master, slave, rtnl),
            id,
        };
        entry.publish_link();
        // Room was reserved above, so this does not allocate; were it to
        // fail, the entry (and its hook) is dropped and all is undone.
        // The result first: the team lock must not be held while the undo
        // below removes sysfs files (whose readers take it) or runs.
        let pushed = {
            let mut st = self.state.lock();
            let pushed = st.slaves.push(entry, GFP_KERNEL);
            if pushed.is_ok() {
                st.member_ids |= 1 << id.0;
            }
            pushed
        };
        if let Err(e) = pushed {
            self.context.slave_sysfs.remove(slave);
            undo.run(rtnl);
            return Err(e.into());
        }
        // From here on the slave is a member: nothing below fails.
        {
            // Counted from now on: the slave's earlier traffic is not the team's.
            let last = slave.stats();
            let mut fold = self.fold.lock();
            // Room for MAX_SLAVES was allocated with the team: this does not
            // allocate (and a member beyond it is just not counted).
            let _ = fold.slaves.push(
                FoldedSlave {
                    dev: slave.into(),
                    last,
                },
                GFP_ATOMIC,
            );
        }
        self.update_features(master, rtnl);
        self.reselect(master, rtnl);
        pr_info!("{}: enslaved {}\n", master.name(), slave.name());
        self.report_esp(master, slave);
        Ok(())
    }

    /// Removes `slave` from the team and gives it back its address and,
    /// unless it is going away (`unregistering`), its MTU. Fails only with
    /// `ENOENT` for a device that is not a member (nothing changed);
    /// otherwise it cannot fail (nothing here allocates).
    pub(crate) fn release(
        &self,
        master: &Device,
        slave: &Device,
        unregistering: bool,
        rtnl: &Rtnl,
    ) -> Result {
        self.release_one(master, slave, unregistering, false, rtnl)
    }

    /// [`Team::release`]; `teardown` when every slave goes with the team
    /// (no address conflict with a team that is going away).
    fn release_one(
        &self,
        master: &Device,
        slave: &Device,
        unregistering: bool,
        teardown: bool,
        rtnl: &Rtnl,
    ) -> Result {
        let (mode, others) = {
            let st = self.state.lock();
            st.index_of(slave.ifindex()).ok_or(ENOENT)?;
            (st.config.mode(), st.slaves.len() - 1)
        };
        let team_mac = master.mac();
        // ALB: the team's address must not leave with the slave; the next
        // receive slave takes it now, the leaving one that slave's address.
        let taker = if mode == Mode::Alb && others > 0 && !teardown && slave.mac() == team_mac {
            self.hand_over_team_mac(master, slave, rtnl)
        } else {
            None
        };
        let removed = {
            let mut st = self.state.lock();
            let Some(i) = st.index_of(slave.ifindex()) else {
                return Err(ENOENT);
            };
            // The slave that took the team's address receives next (the
            // reselection below keeps it unless the rules choose another).
            let taker = taker
                .and_then(|t| st.index_of(t))
                .map(|t| if t > i { t - 1 } else { t });
            st.active = match st.active {
                Some(a) if a == i => taker,
                Some(a) if a > i => Some(a - 1),
                other => other,
            };
            if st.config.get(attr::PRIMARY) == slave.ifindex() as u32 {
                let _ = st.config.set(attr::PRIMARY, 0, true);
            }
            // Its buckets are reassigned on publication.
            st.buckets.remove_slave(i);
            let removed = st.slaves.remove_at(i);
            if let Some(r) = &removed {
                st.member_ids &= !(1 << r.id.0);
            }
            removed
        };
        let Some(removed) = removed else {
            return Err(ENOENT);
        };
        // The team's receive and VLAN filters leave it (rx_filter.rs).
        self.update_rx_filters(master, rtnl);
        slave.vlan_vids_del_by_dev(master, rtnl);
        // Stop transmitting on it before it goes, then take its SAs out of
        // its driver (offload.rs).
        self.publish(false);
        self.sa_release_member(master, slave, removed.id);
        removed.port().receives.store(false, Relaxed);
        self.context.slave_sysfs.remove(slave);
        slave.unlink_master(master, rtnl);
        slave.set_slave_flag(false, rtnl);
        self.restore_mac(
            master,
            slave,
            &removed.port().perm_mac,
            mode,
            teardown,
            rtnl,
        );
        if !unregistering && slave.mtu() != removed.orig_mtu {
            let _ = slave.set_mtu(removed.orig_mtu, rtnl);
        }
        // Removes the receive hook and waits for running handlers.
        drop(removed);
        let gone = {
            // What it passed until now stays in the team's counters.
            let mut fold = self.fold.lock();
            let i = fold
                .slaves
                .iter()
                .position(|f| f.dev.ifindex() == slave.ifindex());
            i.and_then(|i| {
                fold.fold_one(i);
                fold.slaves.remove_at(i)
            })
        };
        // Drop the device reference outside the spinlock.
        drop(gone);
        self.update_features(master, rtnl);
        self.reselect(master, rtnl);
        pr_info!("{}: released {}\n", master.name(), slave.name());
        Ok(())
    }

    /// ALB: before `slave`, which has the team's address, leaves: the slave
    /// that will receive next takes that address and `slave` its (bonding's
    /// `alb_change_hw_addr_on_detach` does the rest, see
    /// [`Team::restore_mac`]). If that slave refuses the swap, the others
    /// are tried in enslave order. Returns the ifindex of the slave that
    /// took the address; `None` if none could (reported; `slave` still has the
    /// team's address then, and [`Team::restore_mac`] changes it).
    fn hand_over_team_mac(&self, master: &Device, slave: &Device, rtnl: &Rtnl) -> Option<i32> {
        let (preferred, n, me) = {
            let st = self.state.lock();
            let mut candidates = st.candidates();
            let n = st.slaves.len();
            let me = st.index_of(slave.ifindex());
            if let Some(c) = me.and_then(|i| candidates.get_mut(i)) {
                c.usable = false;
            }
            let primary = st.index_of(st.config.get(attr::PRIMARY) as i32);
            let preferred = aft::select_active(
                None,
                &candidates[..n],
                primary,
                st.config.primary_reselect(),
            );
            (preferred, n, me)
        };
        let others = (0..n).filter(|&i| Some(i) != preferred);
        let order = Iterator::chain(preferred.into_iter(), others).filter(|&i| Some(i) != me);
        for i in order {
            // RTNL is held: the members do not change meanwhile.
            let next: Option<ARef<Device>> =
                self.state.lock().slaves.get(i).map(|s| s.device().into());
            let Some(next) = next else { continue };
            match swap_macs(&next, slave, rtnl) {
                Ok(()) => return Some(next.ifindex()),
                Err(e) => pr_warn!(
                    "{}: {} cannot take the team's address from {} (error {}); trying another slave\n",
                    master.name(),
                    next.name(),
                    slave.name(),
                    e.to_errno()
                ),
            }
        }
        pr_warn!(
            "{}: no slave can take the team's address from {}: no slave has it until one can (the next reselection tries again)\n",
            master.name(),
            slave.name()
        );
        None
    }

    /// Gives a released slave back its permanent address, unless another
    /// device of the team uses that address. ALB: the slave that has it
    /// (after a swap) takes the leaving one's address in exchange; if it is
    /// the team's own, or that swap is refused, the leaving slave gets a
    /// random one, so that no address is ever on two devices, now or after
    /// later releases (unless the leaving slave refuses every change:
    /// reported as an error). AFT slaves all use the team's address, so one
    /// whose permanent address the team took duplicates it (reported, as
    /// bonding does).
    fn restore_mac(
        &self,
        master: &Device,
        slave: &Device,
        perm: &MacAddr,
        mode: Mode,
        teardown: bool,
        rtnl: &Rtnl,
    ) {
        let team_mac = master.mac();
        let report = |e: Error| {
            pr_warn!(
                "{}: {} keeps its address, cannot set another (error {})\n",
                master.name(),
                slave.name(),
                e.to_errno()
            );
        };
        let members = !teardown && !self.state.lock().slaves.is_empty();
        if mode == Mode::Aft || !members {
            if members && *perm == team_mac {
                pr_warn!(
                    "{}: the permanent address of {} is still the team's; change one of them to avoid a conflict\n",
                    master.name(),
                    slave.name()
                );
            }
            if slave.mac() != *perm {
                let _ = slave
                    .set_mac(perm, &mut ExtAck::none(), rtnl)
                    .inspect_err(|e| report(*e));
            }
            return;
        }
        // A random address, when it cannot have its own: never the team's
        // (nor another member's, which a later release gives back to it).
        let randomize = |why: &str| {
            let Err(e) = slave.set_mac(&random_mac(), &mut ExtAck::none(), rtnl) else {
                pr_info!(
                    "{}: {} gets a random address: {}\n",
                    master.name(),
                    slave.name(),
                    why
                );
                return;
            };
            if slave.mac() == team_mac {
                pr_err!(
                    "{}: {} keeps the team's address, it refuses a change (error {}): two devices have it; change the address of one\n",
                    master.name(),
                    slave.name(),
                    e.to_errno()
                );
            } else {
                report(e);
            }
        };
        if *perm == team_mac {
            randomize("its own is still the team's");
            return;
        }
        if slave.mac() == *perm {
            return;
        }
        let holder: Option<ARef<Device>> = {
            let st = self.state.lock();
            st.slaves
                .iter()
                .find(|s| s.device().mac() == *perm)
                .map(|s| s.device().into())
        };
        let result = match &holder {
            // It took ours in a swap: swap back.
            Some(h) => swap_macs(h, slave, rtnl),
            None => slave.set_mac(perm, &mut ExtAck::none(), rtnl),
        };
        if let Err(e) = result {
            // The member that has its address, or the slave itself, refused.
            pr_warn!(
                "{}: {} cannot take back its own address (error {})\n",
                master.name(),
                slave.name(),
                e.to_errno()
            );
            randomize("it cannot have its own");
        }
    }

    /// Releases every slave (team teardown); cannot fail.
    pub(crate) fn release_all(&self, master: &Device, rtnl: &Rtnl) {
        self.monitor.cancel_sync();
        loop {
            let next: Option<ARef<Device>> =
                self.state.lock().slaves.first().map(|s| s.device().into());
            match next {
                // A member: cannot fail.
                Some(slave) => {
                    let _ = self.release_one(master, &slave, false, true, rtnl);
                }
                None => break,
            }
        }
        self.monitor.cancel_sync();
    }

    /// Arms the monitor for the option values (after a change).
    pub(crate) fn kick_monitor(&self) {
        self.monitor.reschedule(0);
    }
}

impl crate::kernel_ext::workqueue_ext::DelayedWorkItem for Team {
    /// Link polling (`miimon`), up/down delays, repeated peer notifications
    /// and ALB rebalancing.
    fn run(&self) {
        let Some(master) = self.master() else { return };
        let Some(rtnl) = crate::kernel_ext::net::device::Rtnl::try_lock() else {
            // Whoever holds RTNL may be cancelling us; try again shortly.
            self.monitor.schedule(1);
            return;
        };
        let now = now_ms();
        let (changed, rebalance_due, next) = {
            let mut st = self.state.lock();
            let c = st.config;
            let (miimon, up, down) = (
                c.get(attr::MIIMON),
                c.get(attr::UPDELAY),
                c.get(attr::DOWNDELAY),
            );
            let mut changed = false;
            let mut next: Option<u32> = (miimon > 0).then_some(miimon);
            for s in st.slaves.iter_mut() {
                let dev = s.device();
                let carrier = dev.is_running() && dev.carrier_ok();
                let pending = s.link.pending_ms(now, up, down).is_some();
                if miimon > 0 || pending {
                    changed |= s.link.update(carrier, now, up, down);
                    s.publish_link();
                }
                if let Some(ms) = s.link.pending_ms(now, up, down) {
                    next = Some(next.map_or(ms, |n| n.min(ms)));
                }
            }
            let lb = c.get(attr::LB_INTERVAL);
            let rebalance_due = c.mode() == Mode::Alb
                && !st.slaves.is_empty()
                && now.saturating_sub(st.last_rebalance_ms) >= u64::from(lb);
            if c.mode() == Mode::Alb && !st.slaves.is_empty() {
                next = Some(next.map_or(lb, |n| n.min(lb)));
            }
            (changed, rebalance_due, next)
        };
        if changed {
            self.reselect(master, &rtnl);
        }
        if rebalance_due {
            self.publish(true);
        }
        self.notify_peers(master, &rtnl);
        drop(rtnl);
        if let Some(ms) = next {
            self.monitor.schedule(ms.max(1));
        }
    }
}

/// Exchanges the addresses of two devices: `a` takes `b`'s first, then `b`
/// takes `a`'s. On failure `a` gets its address back: nothing changed, or
/// (reported) `a` could not be restored.
fn swap_macs(a: &Device, b: &Device, rtnl: &Rtnl) -> Result {
    let (mac_a, mac_b) = (a.mac(), b.mac());
    a.set_mac(&mac_b, &mut ExtAck::none(), rtnl)?;
    if let Err(e) = b.set_mac(&mac_a, &mut ExtAck::none(), rtnl) {
        if a.set_mac(&mac_a, &mut ExtAck::none(), rtnl).is_err() {
            pr_err!(
                "hbond: {} and {} are left with the same address\n",
                a.name(),
                b.name()
            );
        }
        return Err(e);
    }
    Ok(())
}

/// What `Team::enslave` did so far, to undo on failure.
struct EnslaveUndo<'a> {
    master: &'a Device,
    slave: &'a Device,
    /// The team's random address before it took the slave's.
    team_mac: Option<MacAddr>,
    /// The slave's address before it took the team's.
    slave_mac: Option<MacAddr>,
    flagged: bool,
    mtu: Option<u32>,
    /// It was down and enslaving opened it.
    opened: bool,
    /// It took the team's VLAN filters.
    vlans: bool,
}

impl EnslaveUndo<'_> {
    /// Undoes it all, newest first, and unlinks the slave from the team.
    fn run(self, rtnl: &Rtnl) {
        let (master, slave) = (self.master, self.slave);
        if self.vlans {
            slave.vlan_vids_del_by_dev(master, rtnl);
        }
        if self.opened {
            slave.close(rtnl);
        }
        if let Some(mtu) = self.mtu {
            if slave.mtu() != mtu {
                let _ = slave.set_mtu(mtu, rtnl);
            }
        }
        if self.flagged {
            slave.set_slave_flag(false, rtnl);
        }
        if let Some(mac) = self.slave_mac {
            let _ = slave.set_mac(&mac, &mut ExtAck::none(), rtnl);
        }
        if let Some(mac) = self.team_mac {
            if master.restore_random_mac(&mac, rtnl).is_err() {
                pr_warn!("{}: keeps the address of {}\n", master.name(), slave.name());
            }
        }
        slave.unlink_master(master, rtnl);
    }
}
