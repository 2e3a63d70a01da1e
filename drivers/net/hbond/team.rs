// SPDX-License-Identifier: GPL-2.0

//! The team master device: slave list, receive hook, active slave.

use crate::hbond_core::aft::{self, SlaveLink};
use crate::kernel_ext::net::{
    device::MacAddr,
    device::Rtnl,
    link::{Link, LinkDevice, NewLink},
    notifier::{NetdevEvent, NetdevNotifier},
    rcu_device::RcuDevice,
    rx_handler::{RxHandler, RxHandlerRegistration, RxVerdict},
    stats::Stats64,
    Device, ExtAck, SkBuff,
};
use crate::kernel_ext::{error as errno, kvec_ext::VecExt};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use kernel::{
    alloc::{flags::GFP_KERNEL, KVec},
    c_str, new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
    types::ARef,
};

/// The `hbond` link type.
pub(crate) struct Hbond;

/// Traffic counters of a team, shared with its slaves' receive hooks.
#[derive(Default)]
pub(crate) struct TeamStats {
    tx_packets: AtomicU64,
    tx_bytes: AtomicU64,
    tx_dropped: AtomicU64,
    rx_packets: AtomicU64,
    rx_bytes: AtomicU64,
    rx_dropped: AtomicU64,
}

/// What a slave's receive hook needs.
pub(crate) struct SlavePort {
    master: ARef<Device>,
    stats: Arc<TeamStats>,
}

/// One enslaved device; releasing it removes the receive hook.
struct Slave {
    rx: RxHandlerRegistration<SlaveRx>,
    /// The address to give back on release: slaves take the team's address.
    orig_mac: MacAddr,
}

impl Slave {
    fn device(&self) -> &Device {
        self.rx.device()
    }
}

/// Per-team state.
#[pin_data]
pub(crate) struct Team {
    /// Slaves in enslave order; changed under RTNL only.
    #[pin]
    slaves: Mutex<KVec<Slave>>,
    /// The slave transmitting now, read on every transmit.
    active: RcuDevice,
    stats: Arc<TeamStats>,
}

impl Team {
    fn new() -> Result<impl PinInit<Self, Error>> {
        let stats = Arc::new(TeamStats::default(), GFP_KERNEL)?;
        Ok(try_pin_init!(Self {
            slaves <- new_mutex!(KVec::new()),
            active: RcuDevice::new(),
            stats,
        }))
    }

    /// Picks the active slave again and updates the team's carrier.
    fn reselect(&self, master: &Device, rtnl: &Rtnl) {
        let slaves = self.slaves.lock();
        let mut links = [SlaveLink { usable: false }; MAX_SLAVES];
        for (link, slave) in links.iter_mut().zip(slaves.iter()) {
            let dev = slave.device();
            link.usable = dev.is_running() && dev.carrier_ok();
        }
        let current = self.active.get(rtnl).and_then(|a| {
            slaves
                .iter()
                .position(|s| s.device().ifindex() == a.ifindex())
        });
        let chosen = aft::select_active(current, &links[..slaves.len()]);
        if chosen.is_some() {
            master.carrier_on();
        } else {
            master.carrier_off();
        }
        if chosen != current || current.is_none() && self.active.get(rtnl).is_some() {
            let new_active: Option<ARef<Device>> = chosen.map(|i| slaves[i].device().into());
            drop(slaves);
            self.active.replace(new_active, rtnl);
        }
    }

    fn release(&self, master: &Device, slave: &Device, rtnl: &Rtnl) -> Result {
        if self.active.get(rtnl).map(|a| a.ifindex()) == Some(slave.ifindex()) {
            // Stop transmitting on it before it goes.
            self.active.replace(None, rtnl);
        }
        let removed = {
            let mut slaves = self.slaves.lock();
            let pos = slaves
                .iter()
                .position(|s| s.device().ifindex() == slave.ifindex())
                .ok_or(ENOENT)?;
            slaves.remove_at(pos).ok_or(ENOENT)?
        };
        slave.unlink_master(master, rtnl);
        slave.set_slave_flag(false, rtnl);
        // Best effort, as bonding: a slave that refuses keeps the team's address.
        let _ = slave.set_mac(&removed.orig_mac, &mut ExtAck::none(), rtnl);
        // Removes the receive hook and waits for running handlers.
        drop(removed);
        self.reselect(master, rtnl);
        Ok(())
    }
}

/// Slaves per team; bounded so that selection needs no allocation.
const MAX_SLAVES: usize = 32;

#[vtable]
impl Link for Hbond {
    const KIND: &'static CStr = c_str!("hbond");
    type Data = Team;

    fn setup(dev: &Device) {
        dev.set_master_flag();
    }

    fn newlink(link: &mut NewLink<'_, Self>, _extack: &mut ExtAck) -> Result {
        let dev = link.register(Team::new()?)?;
        dev.carrier_off();
        Ok(())
    }

    fn uninit(dev: &LinkDevice<Self>) {
        // SAFETY: ndo_uninit runs under RTNL.
        let rtnl = unsafe { Rtnl::assume_held() };
        let team = dev.data();
        loop {
            let next: Option<ARef<Device>> = team.slaves.lock().first().map(|s| s.device().into());
            match next {
                Some(slave) => {
                    let _ = team.release(dev, &slave, &rtnl);
                }
                None => break,
            }
        }
    }

    fn start_xmit(dev: &LinkDevice<Self>, mut skb: SkBuff) {
        let team = dev.data();
        let len = u64::from(skb.len());
        let sent = team.active.read(|active| {
            let slave = active.ok_or_else(errno::enetdown)?;
            skb.set_dev(slave);
            skb.queue_xmit()
        });
        if sent.is_ok() {
            team.stats.tx_packets.fetch_add(1, Relaxed);
            team.stats.tx_bytes.fetch_add(len, Relaxed);
        } else {
            team.stats.tx_dropped.fetch_add(1, Relaxed);
        }
    }

    fn add_slave(dev: &LinkDevice<Self>, slave: &Device, extack: &mut ExtAck) -> Result {
        // SAFETY: ndo_add_slave runs under RTNL.
        let rtnl = unsafe { Rtnl::assume_held() };
        let team = dev.data();
        if slave.ifindex() == dev.ifindex() {
            extack.set_msg(c_str!("hbond: cannot enslave the team to itself"));
            return Err(EINVAL);
        }
        if slave.is_loopback() {
            extack.set_msg(c_str!("hbond: cannot enslave a loopback device"));
            return Err(EINVAL);
        }
        if LinkDevice::<Hbond>::try_from_device(slave).is_some() {
            extack.set_msg(c_str!("hbond: cannot enslave another hbond team"));
            return Err(EINVAL);
        }
        if !slave.is_ethernet() {
            extack.set_msg(c_str!("hbond: only Ethernet devices can be enslaved"));
            return Err(EINVAL);
        }
        if slave.has_master(&rtnl) || slave.has_rx_handler() {
            extack.set_msg(c_str!("hbond: device is already enslaved"));
            return Err(EBUSY);
        }
        if !slave.same_netns(dev) {
            extack.set_msg(c_str!("hbond: device is in another network namespace"));
            return Err(EINVAL);
        }
        if !slave.can_set_mac() {
            extack.set_msg(c_str!("hbond: device cannot change its MAC address"));
            return Err(errno::eopnotsupp());
        }
        if team.slaves.lock().len() >= MAX_SLAVES {
            extack.set_msg(c_str!("hbond: team is full"));
            return Err(ENOSPC);
        }

        let port = Arc::new(
            SlavePort {
                master: (&**dev).into(),
                stats: team.stats.clone(),
            },
            GFP_KERNEL,
        )?;
        // The list only changes under RTNL, so the room reserved here is
        // still there below; the lock is not held while the stack runs
        // notifiers (which take it).
        let first = {
            let mut slaves = team.slaves.lock();
            slaves.reserve(1, GFP_KERNEL)?;
            slaves.is_empty()
        };
        let rx = RxHandlerRegistration::new(slave, port, &rtnl)?;
        if let Err(e) = slave.link_master(dev, extack, &rtnl) {
            drop(rx);
            return Err(e);
        }
        // All slaves use the team's address, so that whichever is active
        // receives the team's unicast frames; an empty team with a random
        // address takes its first slave's (bonding's fail_over_mac=none).
        let orig_mac = slave.mac();
        let mac_result = if first && dev.mac_is_random() {
            dev.adopt_mac(&orig_mac, &rtnl)
        } else {
            slave.set_mac(&dev.mac(), extack, &rtnl)
        };
        if let Err(e) = mac_result {
            slave.unlink_master(dev, &rtnl);
            drop(rx);
            return Err(e);
        }
        slave.set_slave_flag(true, &rtnl);
        // Cannot fail: capacity was reserved above.
        team.slaves
            .lock()
            .push(Slave { rx, orig_mac }, GFP_KERNEL)?;
        // A slave that stays down still counts as a member; bring it up as
        // bonding does, but keep it if that fails (its link may come later).
        let _ = slave.open(extack, &rtnl);
        team.reselect(dev, &rtnl);
        pr_info!("{}: enslaved {}\n", dev.name(), slave.name());
        Ok(())
    }

    fn del_slave(dev: &LinkDevice<Self>, slave: &Device) -> Result {
        // SAFETY: ndo_del_slave runs under RTNL.
        let rtnl = unsafe { Rtnl::assume_held() };
        dev.data().release(dev, slave, &rtnl)?;
        pr_info!("{}: released {}\n", dev.name(), slave.name());
        Ok(())
    }

    fn get_stats64(dev: &LinkDevice<Self>, stats: &mut Stats64<'_>) {
        let s = &dev.data().stats;
        stats.add_tx(
            s.tx_packets.load(Relaxed),
            s.tx_bytes.load(Relaxed),
            s.tx_dropped.load(Relaxed),
        );
        stats.add_rx(
            s.rx_packets.load(Relaxed),
            s.rx_bytes.load(Relaxed),
            s.rx_dropped.load(Relaxed),
        );
    }
}

/// The receive hook on every slave: packets become the team's.
pub(crate) struct SlaveRx;

impl RxHandler for SlaveRx {
    type Data = SlavePort;

    fn handle(port: &SlavePort, skb: SkBuff) -> RxVerdict {
        let Some(mut skb) = skb.unshare(true) else {
            port.stats.rx_dropped.fetch_add(1, Relaxed);
            return RxVerdict::Consumed;
        };
        port.stats.rx_packets.fetch_add(1, Relaxed);
        port.stats.rx_bytes.fetch_add(u64::from(skb.len()), Relaxed);
        skb.set_dev(&port.master);
        RxVerdict::Another(skb)
    }
}

/// Link events of slaves: failover and release of vanishing slaves.
pub(crate) struct SlaveEvents;

impl NetdevNotifier for SlaveEvents {
    fn notify(event: NetdevEvent, dev: &Device, rtnl: &Rtnl) {
        let Some(master) = dev.master(rtnl) else {
            return;
        };
        let Some(team_dev) = LinkDevice::<Hbond>::try_from_device(master) else {
            return;
        };
        let team = team_dev.data();
        match event {
            NetdevEvent::Unregister => {
                let _ = team.release(team_dev, dev, rtnl);
                pr_info!(
                    "{}: released {} (unregistered)\n",
                    team_dev.name(),
                    dev.name()
                );
            }
            NetdevEvent::Up | NetdevEvent::Down | NetdevEvent::Change => {
                team.reselect(team_dev, rtnl)
            }
            _ => {}
        }
    }
}
