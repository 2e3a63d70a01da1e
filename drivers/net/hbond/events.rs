// SPDX-License-Identifier: GPL-2.0

//! Netdevice events of slaves: failover happens here, in the notifier, not
//! on a poll; vanishing slaves are released; the team's features follow
//! its slaves'.

use crate::kernel_ext::net::{
    device::Rtnl,
    link::LinkDevice,
    notifier::{NetdevEvent, NetdevNotifier, NotifyVerdict},
    Device,
};
use crate::master::Hbond;
use kernel::prelude::*;

/// Receiver of netdevice events for the module.
pub(crate) struct SlaveEvents;

impl NetdevNotifier for SlaveEvents {
    fn notify(event: NetdevEvent, dev: &Device, rtnl: &Rtnl) -> NotifyVerdict {
        let Some(master) = dev.master(rtnl) else {
            return NotifyVerdict::Done;
        };
        let Some(team_dev) = LinkDevice::<Hbond>::try_from_device(master) else {
            return NotifyVerdict::Done;
        };
        let team = team_dev.data();
        match event {
            // The team handles Ethernet slaves only (checked at enslave
            // time); one that is itself a master must not turn into
            // another type under us (as the team driver vetoes it).
            NetdevEvent::PreTypeChange => {
                pr_info!(
                    "{}: {} may not change its type while enslaved\n",
                    team_dev.name(),
                    dev.name()
                );
                return NotifyVerdict::Veto;
            }
            NetdevEvent::Unregister => {
                let _ = team.release(team_dev, dev, true, rtnl);
            }
            NetdevEvent::Up | NetdevEvent::Down | NetdevEvent::Change => {
                if team.link_event(dev, rtnl) {
                    team.reselect(team_dev, rtnl);
                }
            }
            NetdevEvent::FeatChange => {
                // Inline ESP offload may have been switched (ethtool -K).
                team.refresh_esp(team_dev, dev, rtnl);
                team.update_features(team_dev, rtnl);
            }
            // A slave's MTU may be changed directly, as with bonding: the
            // team leaves it alone (the next team MTU change overrides it).
            _ => {}
        }
        NotifyVerdict::Done
    }
}
