// SPDX-License-Identifier: GPL-2.0

//! The `hbond` link type: creation, options over rtnetlink, device
//! operations of the team device.

use crate::hbond_core::{
    accounting::EngineStat,
    capability::MAX_NAME_LEN,
    options::{self, attr, slave_attr, Config, Kind, OptionError, OPTIONS},
    path::EngineId,
};
use crate::kernel_ext::net::{
    device::{AddrLists, MacAddr, Rtnl, VlanProto},
    features::Features,
    link::{Link, LinkDevice, NewLink, RxFlagsChange, RTNL_MAX_TYPE, RTNL_SLAVE_MAX_TYPE},
    netlink::{attr_size, Attrs, NlMsg, NlaPolicy},
    stats::Stats64,
    Device, ExtAck, SkBuff,
};
use crate::sysfs::HbondContext;
use crate::team::Team;
use core::sync::atomic::Ordering::Relaxed;
use kernel::{c_str, prelude::*, sync::Arc};

/// The `hbond` link type.
pub(crate) struct Hbond;

/// Every number rtnetlink parses: unknown ones are refused, not ignored.
pub(crate) const POLICY_LEN: usize = RTNL_MAX_TYPE + 1;
const _: () = assert!(attr::MAX as usize <= RTNL_MAX_TYPE);

/// The `IFLA_INFO_DATA` policy, built from the option table.
const POLICY: [NlaPolicy; POLICY_LEN] = {
    let mut p = [NlaPolicy::reject(); POLICY_LEN];
    p[0] = NlaPolicy::strict_start();
    let mut i = 0;
    while i < OPTIONS.len() {
        let o = &OPTIONS[i];
        p[o.attr as usize] = if o.netlink_is_u8() {
            NlaPolicy::u8()
        } else {
            NlaPolicy::u32()
        };
        i += 1;
    }
    p
};

/// As [`POLICY_LEN`].
pub(crate) const SLAVE_POLICY_LEN: usize = RTNL_SLAVE_MAX_TYPE + 1;
const _: () = assert!(slave_attr::MAX as usize <= RTNL_SLAVE_MAX_TYPE);

/// The `IFLA_INFO_SLAVE_DATA` policy: of the slave attributes only the
/// settable one, `engine` (a crypto API name, see
/// `hbond_core::slave_info`), is accepted in a request.
const SLAVE_POLICY: [NlaPolicy; SLAVE_POLICY_LEN] = {
    let mut p = [NlaPolicy::reject(); SLAVE_POLICY_LEN];
    p[0] = NlaPolicy::strict_start();
    p[slave_attr::ENGINE as usize] = NlaPolicy::nul_string(MAX_NAME_LEN as u16);
    p
};

/// The message for an option error (extack needs static C strings).
pub(crate) fn error_message(e: OptionError) -> &'static CStr {
    match e {
        OptionError::Unknown => c_str!("hbond: unknown option"),
        OptionError::Malformed => c_str!("hbond: malformed option value"),
        OptionError::OutOfRange => c_str!("hbond: option value out of range"),
        OptionError::TeamNotEmpty => {
            c_str!("hbond: option can only be changed while the team has no slaves")
        }
        OptionError::NotASlave => c_str!("hbond: device is not a slave of this team"),
    }
}

fn attr_value(data: &Attrs<'_>, spec: &options::OptionSpec) -> Option<u32> {
    if spec.netlink_is_u8() {
        data.u8(spec.attr).map(u32::from)
    } else {
        data.u32(spec.attr)
    }
}

/// Applies the options present in `data` to the team: all or none. A
/// requested active slave must be usable before anything is committed, and
/// if making it active fails the previous options come back.
pub(crate) fn apply_attrs(
    dev: &Device,
    team: &Team,
    data: &Attrs<'_>,
    extack: &mut ExtAck,
    rtnl: &Rtnl,
) -> Result {
    let no_link = c_str!("hbond: the requested active slave has no usable link");
    let mut force = None;
    let old = {
        let mut st = team.state.lock();
        let mut config = st.config;
        let has_slaves = !st.slaves.is_empty();
        for spec in OPTIONS {
            let Some(value) = attr_value(data, spec) else {
                continue;
            };
            if spec.kind == Kind::Slave && value != 0 {
                let Some(i) = st.index_of(value as i32) else {
                    extack.set_msg(error_message(OptionError::NotASlave));
                    return Err(EINVAL);
                };
                if spec.attr == attr::ACTIVE_SLAVE {
                    force = Some(i);
                }
            }
            if let Err(e) = config.set(spec.attr, value, has_slaves) {
                extack.set_msg(error_message(e));
                return Err(EINVAL);
            }
        }
        if let Some(i) = force {
            if !Team::usable(&st, i) {
                extack.set_msg(no_link);
                return Err(crate::kernel_ext::error::enetdown());
            }
        }
        core::mem::replace(&mut st.config, config)
    };
    if let Some(i) = force {
        // RTNL is held throughout: the link checked above is still usable,
        // so only giving it the team's address (ALB) can fail here.
        if let Err(e) = team.set_active(dev, rtnl, i) {
            team.state.lock().config = old;
            extack.set_msg(c_str!(
                "hbond: the requested active slave cannot take the team's address"
            ));
            return Err(e);
        }
    } else if data.has(attr::PRIMARY) || data.has(attr::PRIMARY_RESELECT) {
        team.reselect(dev, rtnl);
    }
    team.kick_monitor();
    Ok(())
}

#[vtable]
impl Link for Hbond {
    const KIND: &'static CStr = c_str!("hbond");
    type Data = Team;
    type Context = Arc<HbondContext>;
    const DATA_POLICY: &'static [NlaPolicy] = &POLICY;
    const SLAVE_POLICY: &'static [NlaPolicy] = &SLAVE_POLICY;
    // Every option as a u32 (the largest form) is an upper bound.
    const INFO_SIZE: usize = OPTIONS.len() * attr_size(4);
    const SLAVE_INFO_SIZE: usize = 4 * attr_size(4)
        + attr_size(6)
        + (4 + EngineStat::COUNT) * attr_size(8)
        + attr_size(MAX_NAME_LEN + 1);

    fn setup(dev: &Device) {
        dev.set_master_flag();
        // ESP offload (offload.rs): switchable; `fix_features` keeps it on
        // only while a slave can serve SAs.
        crate::kernel_ext::xfrm::master::install_master::<Self>(dev);
        dev.setup_offer_features(Features::HW_ESP);
        crate::kernel_ext::net::ethtool::install::<crate::offload::TeamEthtool>(dev);
    }

    fn validate(data: &Attrs<'_>, extack: &mut ExtAck) -> Result {
        for spec in OPTIONS {
            if let Some(value) = attr_value(data, spec) {
                if let Err(e) = spec.check(value) {
                    extack.set_msg(error_message(e));
                    return Err(EINVAL);
                }
            }
        }
        Ok(())
    }

    fn newlink(link: &mut NewLink<'_, Self>, extack: &mut ExtAck) -> Result {
        let mut config = Config::default();
        for spec in OPTIONS {
            let Some(value) = attr_value(link.data(), spec) else {
                continue;
            };
            if spec.kind == Kind::Slave && value != 0 {
                extack.set_msg(error_message(OptionError::NotASlave));
                return Err(EINVAL);
            }
            if let Err(e) = config.set(spec.attr, value, false) {
                extack.set_msg(error_message(e));
                return Err(EINVAL);
            }
        }
        let context = link.context().clone();
        let dev = link.register(Team::new(config, context.clone())?)?;
        dev.data().set_master(dev);
        dev.carrier_off();
        // All or nothing: a team without its sysfs directories is not
        // created (the adapter unregisters it again; uninit removes what
        // was added).
        if let Err(e) = context
            .team_sysfs
            .add(dev)
            .and_then(|()| context.esp_sysfs.add(dev))
        {
            extack.set_msg(c_str!("hbond: cannot create the team's sysfs directories"));
            return Err(e);
        }
        dev.data().kick_monitor();
        Ok(())
    }

    fn uninit(dev: &LinkDevice<Self>) {
        // SAFETY: ndo_uninit runs under RTNL.
        let rtnl = unsafe { Rtnl::assume_held() };
        dev.data().context.team_sysfs.remove(dev);
        dev.data().context.esp_sysfs.remove(dev);
        dev.data().release_all(dev, &rtnl);
    }

    fn changelink(dev: &LinkDevice<Self>, data: &Attrs<'_>, extack: &mut ExtAck) -> Result {
        // SAFETY: changelink runs under RTNL.
        let rtnl = unsafe { Rtnl::assume_held() };
        apply_attrs(dev, dev.data(), data, extack, &rtnl)
    }

    fn fill_info(dev: &LinkDevice<Self>, msg: &mut NlMsg<'_>) -> Result {
        let config = dev.data().state.lock().config;
        let active = {
            let st = dev.data().state.lock();
            st.active
                .and_then(|i| st.slaves.get(i))
                .map_or(0, |s| s.device().ifindex() as u32)
        };
        for spec in OPTIONS {
            let value = if spec.attr == attr::ACTIVE_SLAVE {
                active
            } else {
                config.get(spec.attr)
            };
            if spec.netlink_is_u8() {
                msg.put_u8(spec.attr, value as u8)?;
            } else {
                msg.put_u32(spec.attr, value)?;
            }
        }
        Ok(())
    }

    fn slave_changelink(
        dev: &LinkDevice<Self>,
        slave: &Device,
        data: &Attrs<'_>,
        extack: &mut ExtAck,
    ) -> Result {
        // SAFETY: slave_changelink runs under RTNL.
        let rtnl = unsafe { Rtnl::assume_held() };
        // The policy admits the engine only.
        match data.string(slave_attr::ENGINE) {
            Some(text) => dev.data().set_engine(dev, slave, text, extack, &rtnl),
            None => Ok(()),
        }
    }

    fn fill_slave_info(dev: &LinkDevice<Self>, slave: &Device, msg: &mut NlMsg<'_>) -> Result {
        let st = dev.data().state.lock();
        let Some(i) = st.index_of(slave.ifindex()) else {
            return Ok(());
        };
        let port = st.slaves[i].port().clone();
        let active = st.active == Some(i);
        let inline = st.slaves[i].esp.inline;
        let engine = st.slaves[i].esp.engine.as_ref().map(|e| e.name);
        drop(st);
        msg.put_u8(slave_attr::ACTIVE, u8::from(active))?;
        msg.put_u8(slave_attr::LINK, port.link_state() as u8)?;
        msg.put_u32(slave_attr::LINK_FAILURES, port.link_failures.load(Relaxed))?;
        msg.put_bytes(slave_attr::PERM_HWADDR, &port.perm_mac)?;
        msg.put_u64(slave_attr::TX_PACKETS, port.tx.read().0)?;
        msg.put_u64(slave_attr::TX_BYTES, port.tx.read().1)?;
        msg.put_u64(slave_attr::RX_PACKETS, port.rx.read().0)?;
        msg.put_u64(slave_attr::RX_BYTES, port.rx.read().1)?;
        msg.put_u8(slave_attr::INLINE_ESP, u8::from(inline))?;
        let none = c_str!("none");
        let engine = match &engine {
            Some(name) => CStr::from_bytes_with_nul(name.as_bytes_with_nul()).unwrap_or(none),
            None => none,
        };
        msg.put_string(slave_attr::ENGINE, engine)?;
        if let Some(e) = port.team_stats.engine(EngineId::of(port.id)) {
            let load = e.load();
            for (i, stat) in EngineStat::ALL.iter().enumerate() {
                msg.put_u64(slave_attr::ENGINE_REQUESTS + i as u16, stat.value(&load))?;
            }
        }
        Ok(())
    }

    fn start_xmit(dev: &LinkDevice<Self>, skb: SkBuff) {
        dev.data().xmit(skb);
    }

    fn add_slave(dev: &LinkDevice<Self>, slave: &Device, extack: &mut ExtAck) -> Result {
        // SAFETY: ndo_add_slave runs under RTNL.
        let rtnl = unsafe { Rtnl::assume_held() };
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
            extack.set_msg(c_str!(
                "hbond: device is already enslaved or has a receive handler"
            ));
            return Err(EBUSY);
        }
        if !slave.same_netns(dev) {
            extack.set_msg(c_str!("hbond: device is in another network namespace"));
            return Err(EINVAL);
        }
        if !slave.can_set_mac() {
            extack.set_msg(c_str!("hbond: device cannot change its MAC address"));
            return Err(crate::kernel_ext::error::eopnotsupp());
        }
        dev.data().enslave(dev, slave, extack, &rtnl)
    }

    fn del_slave(dev: &LinkDevice<Self>, slave: &Device) -> Result {
        // SAFETY: ndo_del_slave runs under RTNL.
        let rtnl = unsafe { Rtnl::assume_held() };
        dev.data().release(dev, slave, false, &rtnl)
    }

    fn get_stats64(dev: &LinkDevice<Self>, stats: &mut Stats64<'_>) {
        dev.data().get_stats(stats);
    }

    fn change_mtu(dev: &LinkDevice<Self>, new_mtu: u32) -> Result {
        // SAFETY: ndo_change_mtu runs under RTNL.
        let rtnl = unsafe { Rtnl::assume_held() };
        dev.data().change_mtu(dev, new_mtu, &rtnl)
    }

    fn fix_features(dev: &LinkDevice<Self>, features: Features) -> Features {
        dev.data().fix_features(features)
    }

    // --- receive filters (rx_filter.rs) ---

    fn stop(dev: &LinkDevice<Self>) -> Result {
        dev.data().rx_filter.unsync_lists(dev);
        Ok(())
    }

    fn set_rx_mode(dev: &LinkDevice<Self>, lists: &AddrLists<'_>) {
        dev.data().rx_filter.sync_lists(lists);
    }

    fn change_rx_flags(dev: &LinkDevice<Self>, change: RxFlagsChange, rtnl: &Rtnl) {
        dev.data().rx_filter.change_flags(dev, change, rtnl);
    }

    fn set_mac_address(dev: &LinkDevice<Self>, addr: &MacAddr, rtnl: &Rtnl) -> Result {
        dev.data().set_team_mac(dev, addr, rtnl)
    }

    fn vlan_rx_add_vid(dev: &LinkDevice<Self>, proto: VlanProto, vid: u16, rtnl: &Rtnl) -> Result {
        dev.data().vlan_add(proto, vid, rtnl)
    }

    fn vlan_rx_kill_vid(dev: &LinkDevice<Self>, proto: VlanProto, vid: u16, rtnl: &Rtnl) -> Result {
        dev.data().vlan_kill(proto, vid, rtnl);
        Ok(())
    }
}
