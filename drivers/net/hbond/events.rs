// SPDX-License-Identifier: GPL-2.0

//! Netdevice events of slaves: failover happens here, in the notifier, not
//! on a poll; vanishing slaves are released; the team's features follow
//! its slaves'.

use crate::kernel_ext::net::{
    device::Rtnl,
    link::LinkDevice,
    notifier::{NetdevEvent, NetdevNotifier},
    Device,
};
use crate::master::Hbond;

/// Receiver of netdevice events for the module.
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
                let _ = team.release(team_dev, dev, true, rtnl);
            }
            NetdevEvent::Up | NetdevEvent::Down | NetdevEvent::Change => {
                if team.link_event(dev, rtnl) {
                    let _ = team.reselect(team_dev, rtnl, None);
                }
            }
            NetdevEvent::FeatChange => team.update_features(team_dev, rtnl),
            // A slave's MTU may be changed directly, as with bonding: the
            // team leaves it alone (the next team MTU change overrides it).
            _ => {}
        }
    }
}
