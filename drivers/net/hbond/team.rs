// SPDX-License-Identifier: GPL-2.0

//! A team: its members, its configuration, the choice of the active
//! (receive) slave and the transmit map the data path reads.

use crate::hbond_core::{
    aft::{self, Candidate},
    alb::{self, AlbSlave, BUCKETS},
    link::Link as LinkTracker,
    options::{attr, Config, Mode},
};
use crate::kernel_ext::{
    kvec_ext::VecExt,
    net::{
        device::MacAddr,
        device::Rtnl,
        features::{Features, UpperFeatures},
        rx_handler::RxHandlerRegistration,
        stats::{LinkStats, Stats64},
        Device, ExtAck,
    },
    rcu_box::RcuBox,
    workqueue_ext::{now_ms, DelayedWork},
};
use crate::slave::{Slave, SlavePort, TeamStats};
use crate::sysfs::HbondContext;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering::Relaxed};
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
    /// ALB: slave index per flow bucket.
    buckets: [u8; BUCKETS],
    /// ALB: when the buckets were last rebalanced.
    last_rebalance_ms: u64,
}

impl TeamState {
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
}

/// What the transmit path reads, replaced as a whole under RCU.
struct TxMap {
    mode: Mode,
    /// AFT: only the active slave. ALB: every slave, in team order.
    slaves: KVec<TxSlave>,
    /// ALB: the receive slave's index in `slaves`.
    receive: Option<usize>,
    /// ALB: slave index per flow bucket.
    buckets: [u8; BUCKETS],
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

/// Per-team state, owned by the team device.
#[pin_data]
pub(crate) struct Team {
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
    #[pin]
    monitor: DelayedWork<Team>,
    /// The slaves holding the team's receive filters (rx_filter.rs).
    #[pin]
    pub(crate) rx_filter: crate::rx_filter::RxFilter,
}

crate::impl_has_delayed_work!(Team, monitor);

impl Team {
    pub(crate) fn new(
        config: Config,
        context: Arc<HbondContext>,
    ) -> Result<impl PinInit<Self, Error>> {
        let stats = Arc::new(TeamStats::default(), GFP_KERNEL)?;
        let folded = KVec::with_capacity(MAX_SLAVES, GFP_KERNEL)?;
        Ok(try_pin_init!(Self {
            state <- new_mutex!(TeamState {
                config,
                slaves: KVec::new(),
                active: None,
                notify_left: 0,
                buckets: [alb::UNASSIGNED; BUCKETS],
                last_rebalance_ms: 0,
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
            monitor <- DelayedWork::new(),
            rx_filter <- crate::rx_filter::RxFilter::new(),
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
    pub(crate) fn xmit(&self, mut skb: crate::kernel_ext::net::SkBuff) {
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
            let slave = map
                .slaves
                .get(index)
                .ok_or_else(crate::kernel_ext::error::enetdown)?;
            if map.mode == Mode::Alb && map.receive != Some(index) {
                // Only the receive slave uses the team's address, so that
                // switches learn it on one port.
                skb.set_eth_source(&slave.mac)?;
            }
            skb.set_dev(&slave.dev);
            let port = slave.port.clone();
            // Dropped below us: the slave's own counters show it.
            let _ = skb
                .queue_xmit()
                .inspect(|()| port.tx.pass(len))
                .inspect_err(|_| port.tx.drop_one());
            Ok(())
        });
        if sent.is_err() {
            // Dropped by the team itself (no slave to send on).
            self.stats.tx_dropped.fetch_add(1, Relaxed);
        }
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
        for s in self.state.lock().slaves.iter() {
            f = f.increment(s.device().features(), mask);
        }
        // ESP: `NETIF_F_HW_ESP` is neither one-for-all nor all-for-all, so
        // it stays as the team asks. When the team offers ESP offload
        // itself (slaves without an engine use another slave's), decide it
        // here by that policy rather than by the slaves' bits.
        f.increment(Features::ALL_TSO.union(Features::ALL_FOR_ALL), mask)
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
        // encapsulated packets; a team that shares engines between slaves
        // sets it from its own capability here.
        upper.apply(master, rtnl);
        self.computing_features.store(false, Relaxed);
    }

    /// Re-evaluates the active slave after a change of links, members or
    /// options, applies the consequences and republishes the transmit map.
    /// `force` makes that slave active if its link is usable.
    pub(crate) fn reselect(&self, master: &Device, rtnl: &Rtnl, force: Option<usize>) -> Result {
        let (old, new, mode) = {
            let mut st = self.state.lock();
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
            st.active = new;
            if new.is_some() && new != old {
                st.notify_left = u32::from(st.config.get(attr::PEER_NOTIFY_COUNT) as u8);
            }
            (old, new, st.config.mode())
        };

        if new != old {
            self.switch_receiver(old, new, mode, rtnl);
            if let Some(i) = new {
                let st = self.state.lock();
                if let Some(s) = st.slaves.get(i) {
                    pr_info!("{}: active slave {}\n", master.name(), s.device().name());
                }
            } else {
                pr_info!("{}: no usable slave\n", master.name());
            }
        }
        // Receive filters follow the active slave (rx_filter.rs).
        self.update_rx_filters(master, rtnl);
        if new.is_some() {
            master.carrier_on();
        } else {
            master.carrier_off();
        }
        self.publish(false)?;
        self.notify_peers(master, rtnl);
        Ok(())
    }

    /// Moves the receive role (and, in ALB, the team's address) from `old`
    /// to `new`.
    fn switch_receiver(&self, old: Option<usize>, new: Option<usize>, mode: Mode, rtnl: &Rtnl) {
        let (old_slave, new_slave) = {
            let st = self.state.lock();
            let get = |i: Option<usize>| -> Option<(ARef<Device>, Arc<SlavePort>)> {
                let s = st.slaves.get(i?)?;
                Some((s.device().into(), s.port().clone()))
            };
            (get(old), get(new))
        };
        if let Some((_, port)) = &old_slave {
            port.receives.store(false, Relaxed);
        }
        if let Some((dev, port)) = &new_slave {
            if mode == Mode::Alb {
                let Some(master) = self.master() else { return };
                let team_mac = master.mac();
                let new_mac = dev.mac();
                if new_mac != team_mac {
                    // Swap: the new receiver takes the team's address, the
                    // old one the new one's, so addresses stay unique.
                    if let Some((old_dev, _)) = &old_slave {
                        let _ = old_dev.set_mac(&new_mac, &mut ExtAck::none(), rtnl);
                    }
                    let _ = dev.set_mac(&team_mac, &mut ExtAck::none(), rtnl);
                }
            }
            port.receives.store(true, Relaxed);
        }
    }

    /// Builds and publishes the transmit map; rebalances ALB buckets with
    /// the load measured since the last rebalance if `measure`.
    pub(crate) fn publish(&self, measure: bool) -> Result {
        let mut st = self.state.lock();
        let mode = st.config.mode();
        let n = st.slaves.len();
        let mut slaves = KVec::with_capacity(n, GFP_KERNEL)?;
        let map_slaves: KVec<usize> = match (mode, st.active) {
            (Mode::Aft, Some(a)) => {
                let mut v = KVec::new();
                v.push(a, GFP_KERNEL)?;
                v
            }
            (Mode::Aft, None) => KVec::new(),
            (Mode::Alb, _) => {
                let mut v = KVec::with_capacity(n, GFP_KERNEL)?;
                for i in 0..n {
                    v.push(i, GFP_KERNEL)?;
                }
                v
            }
        };
        for &i in map_slaves.iter() {
            let s = &st.slaves[i];
            slaves.push(
                TxSlave {
                    dev: s.device().into(),
                    port: s.port().clone(),
                    mac: s.device().mac(),
                },
                GFP_KERNEL,
            )?;
        }
        if mode == Mode::Alb {
            let mut load = [0u64; BUCKETS];
            if measure {
                for (l, b) in load.iter_mut().zip(self.bucket_load.iter()) {
                    *l = b.swap(0, Relaxed);
                }
                st.last_rebalance_ms = now_ms();
            }
            let mut alb_slaves = [AlbSlave::default(); MAX_SLAVES];
            for (a, s) in alb_slaves.iter_mut().zip(st.slaves.iter()) {
                a.usable = s.link.state.usable();
                a.speed_mbps = s.speed_mbps;
            }
            let mut buckets = st.buckets;
            alb::rebalance(&mut buckets, &load, &alb_slaves[..n]);
            st.buckets = buckets;
        }
        let map = KBox::new(
            TxMap {
                mode,
                slaves,
                receive: if mode == Mode::Alb { st.active } else { None },
                buckets: st.buckets,
            },
            GFP_KERNEL,
        )?;
        let empty = map.slaves.is_empty();
        drop(st);
        self.tx.replace((!empty).then_some(map));
        Ok(())
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

    /// Adds `slave` to the team (all checks done by the caller).
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
        let port = Arc::new(
            SlavePort::new(master, self.stats.clone(), slave),
            GFP_KERNEL,
        )?;
        let perm_mac = port.perm_mac;
        let rx = RxHandlerRegistration::new(slave, port, rtnl)?;
        slave.link_master(master, extack, rtnl)?;
        // AFT: every slave uses the team's address. ALB: slaves keep their
        // own, the receive slave gets the team's when it becomes one. An
        // empty team with a random address takes its first slave's.
        let mac_result = if first && master.mac_is_random() {
            master.adopt_mac(&perm_mac, rtnl)
        } else if mode == Mode::Aft {
            slave.set_mac(&master.mac(), extack, rtnl)
        } else {
            Ok(())
        };
        let undo_link = |rtnl: &Rtnl| {
            slave.unlink_master(master, rtnl);
        };
        if let Err(e) = mac_result {
            undo_link(rtnl);
            return Err(e);
        }
        slave.set_slave_flag(true, rtnl);
        let orig_mtu = slave.mtu();
        let mtu_result = slave.set_mtu(master.mtu(), rtnl).inspect_err(|_| {
            extack.set_msg(c_str!("hbond: device cannot take the team's MTU"));
        });
        if let Err(e) = mtu_result.and_then(|()| slave.open(extack, rtnl)) {
            slave.set_slave_flag(false, rtnl);
            let _ = slave.set_mtu(orig_mtu, rtnl);
            let _ = slave.set_mac(&perm_mac, &mut ExtAck::none(), rtnl);
            undo_link(rtnl);
            return Err(e);
        }
        // The team's VLAN filters (rx_filter.rs).
        if let Err(e) = slave.vlan_vids_add_by_dev(master, rtnl) {
            extack.set_msg(c_str!("hbond: device refused the team's VLAN filters"));
            slave.set_slave_flag(false, rtnl);
            let _ = slave.set_mtu(orig_mtu, rtnl);
            let _ = slave.set_mac(&perm_mac, &mut ExtAck::none(), rtnl);
            undo_link(rtnl);
            return Err(e);
        }
        if let Err(e) = self.context.slave_sysfs.add(slave) {
            slave.vlan_vids_del_by_dev(master, rtnl);
            slave.set_slave_flag(false, rtnl);
            let _ = slave.set_mtu(orig_mtu, rtnl);
            let _ = slave.set_mac(&perm_mac, &mut ExtAck::none(), rtnl);
            undo_link(rtnl);
            return Err(e);
        }
        let carrier = slave.is_running() && slave.carrier_ok();
        let entry = Slave {
            rx,
            link: LinkTracker::new(carrier, now_ms()),
            speed_mbps: slave.speed_mbps(rtnl),
            orig_mtu,
        };
        entry.publish_link();
        // Cannot fail: room was reserved above.
        self.state.lock().slaves.push(entry, GFP_KERNEL)?;
        {
            // Counted from now on: the slave's earlier traffic is not the team's.
            let last = slave.stats();
            let mut fold = self.fold.lock();
            // Cannot fail: room for MAX_SLAVES was allocated with the team.
            fold.slaves.push(
                FoldedSlave {
                    dev: slave.into(),
                    last,
                },
                GFP_ATOMIC,
            )?;
        }
        self.update_features(master, rtnl);
        self.reselect(master, rtnl, None)?;
        pr_info!("{}: enslaved {}\n", master.name(), slave.name());
        Ok(())
    }

    /// Removes `slave` from the team and gives it back its address and,
    /// unless it is going away (`unregistering`), its MTU.
    pub(crate) fn release(
        &self,
        master: &Device,
        slave: &Device,
        unregistering: bool,
        rtnl: &Rtnl,
    ) -> Result {
        let removed = {
            let mut st = self.state.lock();
            let i = st.index_of(slave.ifindex()).ok_or(ENOENT)?;
            st.active = match st.active {
                Some(a) if a == i => None,
                Some(a) if a > i => Some(a - 1),
                other => other,
            };
            if st.config.get(attr::PRIMARY) == slave.ifindex() as u32 {
                let _ = st.config.set(attr::PRIMARY, 0, true);
            }
            // Bucket indexes above `i` shift down; rebalancing fixes the rest.
            for b in st.buckets.iter_mut() {
                if usize::from(*b) == i {
                    *b = alb::UNASSIGNED;
                } else if usize::from(*b) > i && *b != alb::UNASSIGNED {
                    *b -= 1;
                }
            }
            st.slaves.remove_at(i).ok_or(ENOENT)?
        };
        // The team's receive and VLAN filters leave it (rx_filter.rs).
        self.update_rx_filters(master, rtnl);
        slave.vlan_vids_del_by_dev(master, rtnl);
        // Stop transmitting on it before it goes.
        self.publish(false)?;
        removed.port().receives.store(false, Relaxed);
        self.context.slave_sysfs.remove(slave);
        slave.unlink_master(master, rtnl);
        slave.set_slave_flag(false, rtnl);
        // Best effort, as bonding: a slave that refuses keeps the address.
        let _ = slave.set_mac(&removed.port().perm_mac, &mut ExtAck::none(), rtnl);
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
        self.reselect(master, rtnl, None)?;
        pr_info!("{}: released {}\n", master.name(), slave.name());
        Ok(())
    }

    /// Releases every slave (team teardown).
    pub(crate) fn release_all(&self, master: &Device, rtnl: &Rtnl) {
        self.monitor.cancel_sync();
        loop {
            let next: Option<ARef<Device>> =
                self.state.lock().slaves.first().map(|s| s.device().into());
            match next {
                Some(slave) => {
                    let _ = self.release(master, &slave, false, rtnl);
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
            let _ = self.reselect(master, &rtnl, None);
        }
        if rebalance_due {
            let _ = self.publish(true);
        }
        self.notify_peers(master, &rtnl);
        drop(rtnl);
        if let Some(ms) = next {
            self.monitor.schedule(ms.max(1));
        }
    }
}
