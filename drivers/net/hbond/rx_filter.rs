// SPDX-License-Identifier: GPL-2.0

//! The team's receive filters on its slaves, as bonding passes them
//! (`bond_set_rx_mode`, `bond_change_rx_flags`, `bond_hw_addr_swap`): the
//! team's unicast and multicast address lists, its promiscuity and
//! all-multicast go to the slaves that receive for it, "holders" here (AFT:
//! the active slave, moved on failover; ALB: every slave); VLAN filters go
//! to every slave; the team's address (`ip link set hb0 address`) to every
//! slave in AFT and to the receive slave in ALB.
//!
//! A NIC that filters (virtio-net, physical NICs, unlike veth) drops what
//! its filters do not name, so without this a multicast group joined on
//! the team, a macvlan on top of it or a VLAN would receive nothing.

use crate::hbond_core::options::Mode;
use crate::kernel_ext::{
    net::{
        device::{AddrLists, MacAddr, Rtnl, VlanProto},
        link::RxFlagsChange,
        Device, ExtAck,
    },
    sync_ext::SpinLockBh,
};
use crate::new_spinlock_bh;
use crate::team::{Team, MAX_SLAVES};
use kernel::{prelude::*, types::ARef};

/// A slave carrying the team's receive filters, and the counts it got.
struct Holder {
    dev: ARef<Device>,
    /// Holds one promiscuity count for the team.
    promisc: bool,
    /// Holds one all-multicast count for the team.
    allmulti: bool,
}

/// Devices, one per slot; no allocation, so that changes cannot fail.
type Slots<T> = [Option<T>; MAX_SLAVES];

/// The slaves holding the team's receive filters.
#[pin_data]
pub(crate) struct RxFilter {
    /// Read by `ndo_set_rx_mode` (team's address lists locked, atomic
    /// context); changed under RTNL, never with an address lock taken
    /// inside (lock order: team's address lists, this, a slave's).
    #[pin]
    holders: SpinLockBh<Slots<Holder>>,
}

impl RxFilter {
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            holders <- new_spinlock_bh!([const { None }; MAX_SLAVES], "hbond_rx_filter"),
        })
    }

    /// `ndo_set_rx_mode`: the team's lists go to every holder. Atomic.
    pub(crate) fn sync_lists(&self, lists: &AddrLists<'_>) {
        let holders = self.holders.lock();
        for h in holders.iter().flatten() {
            // As bonding: a slave out of memory misses an address until
            // the next change.
            let _ = lists.sync_to(&h.dev);
        }
    }

    /// The holders now (references, for use outside the lock).
    fn devices(&self) -> Slots<ARef<Device>> {
        let mut out: Slots<ARef<Device>> = [const { None }; MAX_SLAVES];
        let holders = self.holders.lock();
        for (o, h) in out.iter_mut().zip(holders.iter()) {
            *o = h.as_ref().map(|h| h.dev.clone());
        }
        out
    }

    /// The team went down: its addresses leave the holders (they come
    /// back through `ndo_set_rx_mode` when it is opened).
    pub(crate) fn unsync_lists(&self, master: &Device) {
        for dev in self.devices().iter().flatten() {
            dev.unsync_addrs(master);
        }
    }

    /// `ndo_change_rx_flags`: the changed counts follow on every holder.
    pub(crate) fn change_flags(&self, master: &Device, change: RxFlagsChange, rtnl: &Rtnl) {
        for dev in self.devices().iter().flatten() {
            self.apply_flags(master, dev, change, rtnl);
        }
    }

    /// Brings `dev`'s counts to `change` and records what it holds.
    fn apply_flags(&self, master: &Device, dev: &Device, change: RxFlagsChange, rtnl: &Rtnl) {
        let (has_promisc, has_allmulti) = {
            let holders = self.holders.lock();
            match holders
                .iter()
                .flatten()
                .find(|h| core::ptr::eq(&*h.dev, dev))
            {
                Some(h) => (h.promisc, h.allmulti),
                None => return,
            }
        };
        let promisc = step(
            master,
            dev,
            has_promisc,
            change.promisc,
            "promiscuity",
            |inc| dev.set_promiscuity(inc, rtnl),
        );
        let allmulti = step(
            master,
            dev,
            has_allmulti,
            change.allmulti,
            "allmulti",
            |inc| dev.set_allmulti(inc, rtnl),
        );
        let mut holders = self.holders.lock();
        if let Some(h) = holders
            .iter_mut()
            .flatten()
            .find(|h| core::ptr::eq(&*h.dev, dev))
        {
            h.promisc = promisc;
            h.allmulti = allmulti;
        }
    }

    /// Makes the slaves in `wanted` the holders: the others lose the
    /// team's filters, the new ones get them. Under RTNL; cannot fail (a
    /// slave refusing a count is reported and left without it).
    fn set_holders(&self, master: &Device, wanted: &Slots<ARef<Device>>, rtnl: &Rtnl) {
        let is_wanted = |dev: &Device| wanted.iter().flatten().any(|w| core::ptr::eq(&**w, dev));
        // Leaving first: no `ndo_set_rx_mode` reaches them after this.
        let mut gone: Slots<Holder> = [const { None }; MAX_SLAVES];
        {
            let mut holders = self.holders.lock();
            for (g, h) in gone.iter_mut().zip(holders.iter_mut()) {
                if h.as_ref().is_some_and(|h| !is_wanted(&h.dev)) {
                    *g = h.take();
                }
            }
        }
        for h in gone.iter().flatten() {
            step(
                master,
                &h.dev,
                h.promisc,
                Some(false),
                "promiscuity",
                |inc| h.dev.set_promiscuity(inc, rtnl),
            );
            step(master, &h.dev, h.allmulti, Some(false), "allmulti", |inc| {
                h.dev.set_allmulti(inc, rtnl)
            });
            // Takes the team's address lock: after it, no `ndo_set_rx_mode`
            // that still saw this holder is running.
            h.dev.unsync_addrs(master);
        }
        drop(gone);
        for dev in wanted.iter().flatten() {
            let known = self
                .holders
                .lock()
                .iter()
                .flatten()
                .any(|h| core::ptr::eq(&*h.dev, &**dev));
            if known {
                continue;
            }
            let promisc = step(
                master,
                dev,
                false,
                Some(master.is_promisc()),
                "promiscuity",
                |inc| dev.set_promiscuity(inc, rtnl),
            );
            let allmulti = step(
                master,
                dev,
                false,
                Some(master.is_allmulti()),
                "allmulti",
                |inc| dev.set_allmulti(inc, rtnl),
            );
            let holder = Holder {
                dev: dev.clone(),
                promisc,
                allmulti,
            };
            // There is room: `wanted` has at most MAX_SLAVES devices and the
            // others left above.
            if let Some(slot) = self.holders.lock().iter_mut().find(|h| h.is_none()) {
                *slot = Some(holder);
            }
            if master.is_up() {
                // As `ndo_set_rx_mode` would: it may run as well, which is
                // harmless (a second sync adds nothing).
                master.with_addr_lists(|lists| {
                    let _ = lists.sync_to(dev);
                });
            }
        }
    }
}

/// Moves one count of `dev` (`has`: whether it holds one) to `want`
/// (`None`: unchanged) with `set(+1/-1)`; returns whether it holds one.
fn step(
    master: &Device,
    dev: &Device,
    has: bool,
    want: Option<bool>,
    what: &str,
    set: impl FnOnce(i32) -> Result,
) -> bool {
    match want {
        Some(want) if want != has => match set(if want { 1 } else { -1 }) {
            Ok(()) => want,
            Err(e) => {
                pr_warn!(
                    "{}: {} refused a {} change (error {})\n",
                    master.name(),
                    dev.name(),
                    what,
                    e.to_errno()
                );
                has
            }
        },
        _ => has,
    }
}

impl Team {
    /// Gives the team's receive filters to the slaves that receive for it
    /// now (AFT: the active slave; ALB: every slave) and takes them from
    /// the others. After every change of members or of the active slave;
    /// under RTNL, infallible.
    pub(crate) fn update_rx_filters(&self, master: &Device, rtnl: &Rtnl) {
        let mut wanted: Slots<ARef<Device>> = [const { None }; MAX_SLAVES];
        {
            let st = self.state.lock();
            match st.config.mode() {
                Mode::Aft => {
                    wanted[0] = st
                        .active
                        .and_then(|i| st.slaves.get(i))
                        .map(|s| s.device().into());
                }
                Mode::Alb => {
                    for (w, s) in wanted.iter_mut().zip(st.slaves.iter()) {
                        *w = Some(s.device().into());
                    }
                }
            }
        }
        self.rx_filter.set_holders(master, &wanted, rtnl);
    }

    /// Every slave, with the index of the active / receive one.
    fn slave_devices(&self) -> (Mode, Slots<ARef<Device>>, Option<usize>) {
        let mut devs: Slots<ARef<Device>> = [const { None }; MAX_SLAVES];
        let st = self.state.lock();
        for (d, s) in devs.iter_mut().zip(st.slaves.iter()) {
            *d = Some(s.device().into());
        }
        (st.config.mode(), devs, st.active)
    }

    /// `ndo_vlan_rx_add_vid`: every slave filters `vid` (bonding's
    /// `bond_vlan_rx_add_vid`); all or none.
    pub(crate) fn vlan_add(&self, proto: VlanProto, vid: u16, rtnl: &Rtnl) -> Result {
        let (_, devs, _) = self.slave_devices();
        for (i, dev) in devs.iter().enumerate() {
            let Some(dev) = dev else { continue };
            if let Err(e) = dev.vlan_vid_add(proto, vid, rtnl) {
                for d in devs[..i].iter().flatten() {
                    d.vlan_vid_del(proto, vid, rtnl);
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// `ndo_vlan_rx_kill_vid`: undoes [`Team::vlan_add`].
    pub(crate) fn vlan_kill(&self, proto: VlanProto, vid: u16, rtnl: &Rtnl) {
        let (_, devs, _) = self.slave_devices();
        for dev in devs.iter().flatten() {
            dev.vlan_vid_del(proto, vid, rtnl);
        }
    }

    /// `ndo_set_mac_address` (`ip link set hb0 address ADDR`); the caller
    /// records `addr` as the team's on success. AFT: every slave takes it
    /// (they all use the team's address). ALB: the receive slave takes it;
    /// a slave that already has it takes the team's old one instead, so
    /// that no two slaves share an address (bonding's
    /// `bond_alb_set_mac_address`). All or nothing.
    pub(crate) fn set_team_mac(&self, master: &Device, addr: &MacAddr, rtnl: &Rtnl) -> Result {
        let old = master.mac();
        let (mode, devs, active) = self.slave_devices();
        let mut ext = ExtAck::none();
        match mode {
            Mode::Aft => {
                for (i, dev) in devs.iter().enumerate() {
                    let Some(dev) = dev else { continue };
                    if let Err(e) = dev.set_mac(addr, &mut ext, rtnl) {
                        for d in devs[..i].iter().flatten() {
                            let _ = d.set_mac(&old, &mut ExtAck::none(), rtnl);
                        }
                        return Err(e);
                    }
                }
                Ok(())
            }
            Mode::Alb => {
                let receive = active.and_then(|i| devs.get(i).cloned().flatten());
                let is_receive =
                    |d: &Device| receive.as_ref().is_some_and(|r| core::ptr::eq(&**r, d));
                let swap = devs
                    .iter()
                    .flatten()
                    .find(|d| !is_receive(d) && d.mac() == *addr)
                    .cloned();
                if let Some(s) = &swap {
                    // Only the receive slave has the team's address: `old`
                    // is free for `s`.
                    s.set_mac(&old, &mut ext, rtnl)?;
                }
                let undo_swap = || {
                    if let Some(s) = &swap {
                        let _ = s.set_mac(addr, &mut ExtAck::none(), rtnl);
                    }
                };
                if let Some(r) = &receive {
                    if let Err(e) = r.set_mac(addr, &mut ext, rtnl) {
                        undo_swap();
                        return Err(e);
                    }
                }
                if swap.is_some() {
                    // The transmit map carries the other slaves' source
                    // addresses (publishing never fails).
                    self.publish(false);
                }
                Ok(())
            }
        }
    }
}
