// SPDX-License-Identifier: GPL-2.0

//! A team member: what the control path keeps (`Slave`) and what the data
//! path and sysfs read without locks (`SlavePort`).

use crate::capability::EngineAtomics;
use crate::hbond_core::link::{Link, LinkState};
use crate::hbond_core::{
    path::{Dir, EngineId, MAX_MEMBERS},
    sa::{Counter as EspCounter, Counters, Outcome},
};
use crate::kernel_ext::net::{
    counter::Counter,
    device::MacAddr,
    rx_handler::{RxHandler, RxHandlerRegistration, RxVerdict},
    Device, SkBuff,
};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};
use kernel::{sync::Arc, types::ARef};

/// What the team itself drops (the rest of its statistics is the sum of
/// its slaves').
#[derive(Default)]
pub(crate) struct TeamStats {
    /// Packets the team had no slave for.
    pub(crate) tx_dropped: AtomicU64,
    /// Received packets the team could not take over.
    pub(crate) rx_dropped: AtomicU64,
    /// ESP of the SAs offloaded to the team, by direction (transmit,
    /// receive): where it was done (`hbond_core::sa::Counter`).
    esp: [[AtomicU64; EspCounter::COUNT]; 2],
    /// The load of each member's engine, by engine id.
    engines: [EngineAtomics; MAX_MEMBERS],
}

impl TeamStats {
    /// Counts one ESP packet of `bytes` in direction `dir`.
    pub(crate) fn record_esp(&self, dir: Dir, outcome: Outcome, bytes: u64) {
        let c = &self.esp[dir as usize];
        let (p, b, r) = EspCounter::for_outcome(outcome);
        c[p as usize].fetch_add(1, Relaxed);
        c[b as usize].fetch_add(bytes, Relaxed);
        if let Some(r) = r {
            c[r as usize].fetch_add(1, Relaxed);
        }
    }

    /// The load counters of engine `e`.
    pub(crate) fn engine(&self, e: EngineId) -> Option<&EngineAtomics> {
        self.engines.get(usize::from(e.0))
    }

    /// A snapshot of the ESP counters of direction `dir`.
    pub(crate) fn esp(&self, dir: Dir) -> Counters {
        let mut out = Counters::default();
        for (o, a) in out.0.iter_mut().zip(self.esp[dir as usize].iter()) {
            *o = a.load(Relaxed);
        }
        out
    }
}

/// Per-slave state shared with the receive hook, the transmit map and sysfs.
pub(crate) struct SlavePort {
    pub(crate) master: ARef<Device>,
    pub(crate) team_stats: Arc<TeamStats>,
    pub(crate) tx: Counter,
    pub(crate) rx: Counter,
    /// Delivers what it receives to the team (AFT active / ALB receive slave).
    pub(crate) receives: AtomicBool,
    pub(crate) link_state: AtomicU8,
    pub(crate) link_failures: AtomicU32,
    /// The address the slave had when it was enslaved, restored on release.
    pub(crate) perm_mac: MacAddr,
    /// The slave's member id (see `Slave::id`).
    pub(crate) id: crate::hbond_core::path::MemberId,
}

impl SlavePort {
    pub(crate) fn new(
        master: &Device,
        team_stats: Arc<TeamStats>,
        slave: &Device,
        id: crate::hbond_core::path::MemberId,
    ) -> Self {
        Self {
            master: master.into(),
            team_stats,
            tx: Counter::default(),
            rx: Counter::default(),
            receives: AtomicBool::new(false),
            link_state: AtomicU8::new(LinkState::Fail as u8),
            link_failures: AtomicU32::new(0),
            perm_mac: slave.mac(),
            id,
        }
    }

    pub(crate) fn link_state(&self) -> LinkState {
        match self.link_state.load(Relaxed) {
            0 => LinkState::Up,
            2 => LinkState::GoingDown,
            3 => LinkState::GoingUp,
            _ => LinkState::Fail,
        }
    }
}

/// A member as the control path (under RTNL) sees it.
pub(crate) struct Slave {
    pub(crate) rx: RxHandlerRegistration<SlaveRx>,
    pub(crate) link: Link,
    pub(crate) speed_mbps: u32,
    /// The MTU it had when enslaved, restored on release.
    pub(crate) orig_mtu: u32,
    /// What it can do for ESP (capability.rs).
    pub(crate) esp: crate::capability::SlaveEsp,
    /// Its stable member id (SA entries name members by it).
    pub(crate) id: crate::hbond_core::path::MemberId,
}

impl Slave {
    pub(crate) fn device(&self) -> &Device {
        self.rx.device()
    }

    pub(crate) fn port(&self) -> &Arc<SlavePort> {
        self.rx.data()
    }

    /// Records a new link state; counts failures.
    pub(crate) fn publish_link(&self) {
        let port = self.port();
        let old = port.link_state();
        port.link_state.store(self.link.state as u8, Relaxed);
        if old.usable() && !self.link.state.usable() {
            port.link_failures.fetch_add(1, Relaxed);
        }
    }
}

/// The receive hook on every slave: what the receiving slave gets becomes
/// the team's; what the others get stays theirs (as bonding's inactive
/// slaves, only exact matches are delivered).
pub(crate) struct SlaveRx;

impl RxHandler for SlaveRx {
    type Data = SlavePort;

    fn handle(port: &SlavePort, skb: SkBuff) -> RxVerdict {
        if !port.receives.load(Relaxed) {
            return RxVerdict::Exact(skb);
        }
        let Some(skb) = skb.unshare(true) else {
            port.rx.drop_one();
            port.team_stats.rx_dropped.fetch_add(1, Relaxed);
            return RxVerdict::Consumed;
        };
        let len = skb.len();
        port.rx.pass(len);
        // ESP of the team's SAs: counted, or decrypted on an engine (then
        // delivered by the request's completion).
        let Some(mut skb) = crate::offload::rx_esp(port, skb) else {
            return RxVerdict::Consumed;
        };
        skb.set_dev(&port.master);
        RxVerdict::Another(skb)
    }
}
