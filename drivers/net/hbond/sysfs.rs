// SPDX-License-Identifier: GPL-2.0

//! sysfs, laid out like bonding's: `/sys/class/net/<team>/hbond/<option>`
//! (read-write, from the option table),
//! `/sys/class/net/<slave>/hbond_slave/<attr>` (read-only but `engine`),
//! and the team's ESP accounting, `/sys/class/net/<team>/hbond_esp/`
//! (`sas`, `totals`; read-only).

use crate::hbond_core::{
    accounting::{self, EngineStat},
    options::{attr, Kind, OptionError, OPTIONS},
    path::{Dir, EngineId},
};
use crate::kernel_ext::net::{
    device::Rtnl,
    link::LinkDevice,
    netlink::Attrs,
    rx_handler::RxHandlerRegistration,
    sysfs::{GroupRegistration, SysfsGroup, SysfsOut},
    Device, ExtAck,
};
use crate::master::Hbond;
use crate::slave::SlaveRx;
use core::{
    fmt::{self, Write},
    pin::Pin,
    sync::atomic::Ordering::Relaxed,
};
use kernel::{alloc::KBox, c_str, prelude::*, types::ARef};

/// State shared by every team of the module.
pub(crate) struct HbondContext {
    pub(crate) team_sysfs: Pin<KBox<GroupRegistration<TeamSysfs>>>,
    pub(crate) slave_sysfs: Pin<KBox<GroupRegistration<SlaveSysfs>>>,
    pub(crate) esp_sysfs: Pin<KBox<GroupRegistration<EspSysfs>>>,
}

/// File names of the team directory, in option table order.
const TEAM_FILES: [&CStr; 9] = [
    c_str!("mode"),
    c_str!("active_slave"),
    c_str!("primary"),
    c_str!("primary_reselect"),
    c_str!("miimon"),
    c_str!("updelay"),
    c_str!("downdelay"),
    c_str!("peer_notify_count"),
    c_str!("lb_interval"),
];

/// Whether the file name `a` is `b` (const: for the name checks below).
const fn same_str(a: &CStr, b: &str) -> bool {
    let (a, b) = (a.as_bytes_with_nul(), b.as_bytes());
    if a.len() != b.len() + 1 {
        return false;
    }
    let mut j = 0;
    while j < b.len() {
        if a[j] != b[j] {
            return false;
        }
        j += 1;
    }
    true
}

const fn same_names() -> bool {
    if TEAM_FILES.len() != OPTIONS.len() {
        return false;
    }
    let mut i = 0;
    while i < OPTIONS.len() {
        if !same_str(TEAM_FILES[i], OPTIONS[i].name) {
            return false;
        }
        i += 1;
    }
    true
}

// The files are the option table; a new option must get its file.
const _: () = assert!(same_names());

/// `/sys/class/net/<team>/hbond/`.
pub(crate) struct TeamSysfs;

impl SysfsGroup for TeamSysfs {
    const NAME: &'static CStr = c_str!("hbond");
    const ATTRS: &'static [&'static CStr] = &TEAM_FILES;
    const WRITABLE: bool = true;

    fn show(dev: &Device, index: usize, out: &mut SysfsOut<'_>) -> Result {
        let team_dev = LinkDevice::<Hbond>::try_from_device(dev).ok_or(ENODEV)?;
        let spec = OPTIONS.get(index).ok_or(EINVAL)?;
        let st = team_dev.data().state.lock();
        let value = if spec.attr == attr::ACTIVE_SLAVE {
            st.active
                .and_then(|i| st.slaves.get(i))
                .map_or(0, |s| s.device().ifindex() as u32)
        } else {
            st.config.get(spec.attr)
        };
        if spec.kind == Kind::Slave {
            if let Some(i) = st.index_of(value as i32) {
                write!(out, "{}", st.slaves[i].device().name()).map_err(|_| EINVAL)?;
            }
        } else {
            spec.format(value, out).map_err(|_| EINVAL)?;
        }
        writeln!(out).map_err(|_| EINVAL)
    }

    fn store(dev: &Device, index: usize, input: &str, rtnl: &Rtnl) -> Result {
        let team_dev = LinkDevice::<Hbond>::try_from_device(dev).ok_or(ENODEV)?;
        let spec = OPTIONS.get(index).ok_or(EINVAL)?;
        let text = input.trim();
        let value = if spec.kind == Kind::Slave {
            if text.is_empty() {
                0
            } else {
                let st = team_dev.data().state.lock();
                let slave = st
                    .slaves
                    .iter()
                    .find(|s| s.device().name().as_bytes() == text.as_bytes());
                match slave {
                    Some(s) => s.device().ifindex() as u32,
                    None => {
                        pr_warn!(
                            "{}: {}: {}\n",
                            dev.name(),
                            spec.name,
                            OptionError::NotASlave.message()
                        );
                        return Err(EINVAL);
                    }
                }
            }
        } else {
            spec.parse(text).map_err(|e| {
                pr_warn!("{}: {}: {}\n", dev.name(), spec.name, e.message());
                EINVAL
            })?
        };
        // Same path as netlink, so the two interfaces cannot disagree.
        let attrs = if spec.netlink_is_u8() {
            Attrs::one_u8(spec.attr, value as u8)
        } else {
            Attrs::one_u32(spec.attr, value)
        };
        let mut extack = ExtAck::none();
        crate::master::apply_attrs(team_dev, team_dev.data(), &attrs, &mut extack, rtnl)
            .inspect_err(|_| pr_warn!("{}: {}: refused\n", dev.name(), spec.name))
    }
}

/// File names of the slave directory.
const SLAVE_FILES: [&CStr; 17] = [
    c_str!("state"),
    c_str!("link"),
    c_str!("link_failure_count"),
    c_str!("perm_hwaddr"),
    c_str!("tx_packets"),
    c_str!("tx_bytes"),
    c_str!("rx_packets"),
    c_str!("rx_bytes"),
    c_str!("inline_esp"),
    c_str!("engine"),
    c_str!("engine_requests"),
    c_str!("engine_request_bytes"),
    c_str!("engine_completed"),
    c_str!("engine_completed_bytes"),
    c_str!("engine_errors"),
    c_str!("engine_in_flight"),
    c_str!("engine_in_flight_bytes"),
];

/// Index of the first engine counter in [`SLAVE_FILES`]; the rest follow
/// in `EngineStat` order.
const ENGINE_STAT_FILES: usize = 10;

const fn engine_files_match() -> bool {
    if SLAVE_FILES.len() != ENGINE_STAT_FILES + EngineStat::COUNT {
        return false;
    }
    let mut i = 0;
    while i < EngineStat::COUNT {
        if !same_str(
            SLAVE_FILES[ENGINE_STAT_FILES + i],
            EngineStat::ALL[i].name(),
        ) {
            return false;
        }
        i += 1;
    }
    true
}

// The engine files are the engine counters, named as the slave attributes.
const _: () = assert!(engine_files_match());

/// Index of `inline_esp` in [`SLAVE_FILES`].
const INLINE_ESP_FILE: usize = 8;
/// Index of `engine` in [`SLAVE_FILES`], the one writable file.
const ENGINE_FILE: usize = 9;

/// Shows what the team knows of slave `dev` under its state lock (not in
/// the receive hook's RCU section, as the lock sleeps).
fn show_esp(dev: &Device, index: usize, out: &mut SysfsOut<'_>) -> Result {
    let master: ARef<Device> =
        RxHandlerRegistration::<SlaveRx>::with_data_of(dev, |port| port.master.clone())
            .ok_or(ENODEV)?;
    let team = LinkDevice::<Hbond>::try_from_device(&master).ok_or(ENODEV)?;
    let st = team.data().state.lock();
    let slave = st
        .index_of(dev.ifindex())
        .and_then(|i| st.slaves.get(i))
        .ok_or(ENODEV)?;
    if index == INLINE_ESP_FILE {
        writeln!(out, "{}", u8::from(slave.esp.inline))
    } else {
        writeln!(out, "{}", slave.esp.engine_name())
    }
    .map_err(|_| EINVAL)
}

/// `/sys/class/net/<slave>/hbond_slave/`.
pub(crate) struct SlaveSysfs;

impl SysfsGroup for SlaveSysfs {
    const NAME: &'static CStr = c_str!("hbond_slave");
    const ATTRS: &'static [&'static CStr] = &SLAVE_FILES;
    const WRITABLE: bool = false;

    fn is_writable(index: usize) -> bool {
        index == ENGINE_FILE
    }

    /// `engine`: the same path as the netlink slave option; a refusal is
    /// logged with its reason and changes nothing.
    fn store(dev: &Device, index: usize, input: &str, rtnl: &Rtnl) -> Result {
        if index != ENGINE_FILE {
            return Err(EPERM);
        }
        let master = dev.master(rtnl).ok_or(ENODEV)?;
        let team_dev = LinkDevice::<Hbond>::try_from_device(master).ok_or(ENODEV)?;
        let mut extack = ExtAck::none();
        team_dev
            .data()
            .set_engine(team_dev, dev, input.as_bytes(), &mut extack, rtnl)
    }

    fn show(dev: &Device, index: usize, out: &mut SysfsOut<'_>) -> Result {
        if index == INLINE_ESP_FILE || index == ENGINE_FILE {
            return show_esp(dev, index, out);
        }
        RxHandlerRegistration::<SlaveRx>::with_data_of(dev, |port| {
            let m = port.perm_mac;
            match index {
                0 => writeln!(
                    out,
                    "{}",
                    if port.receives.load(Relaxed) {
                        "active"
                    } else {
                        "backup"
                    }
                ),
                1 => writeln!(out, "{}", port.link_state().name()),
                2 => writeln!(out, "{}", port.link_failures.load(Relaxed)),
                3 => writeln!(
                    out,
                    "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                    m[0], m[1], m[2], m[3], m[4], m[5]
                ),
                4 => writeln!(out, "{}", port.tx.read().0),
                5 => writeln!(out, "{}", port.tx.read().1),
                6 => writeln!(out, "{}", port.rx.read().0),
                7 => writeln!(out, "{}", port.rx.read().1),
                i => {
                    let stat = i
                        .checked_sub(ENGINE_STAT_FILES)
                        .and_then(|k| EngineStat::ALL.get(k));
                    match stat.zip(port.team_stats.engine(EngineId::of(port.id))) {
                        Some((stat, e)) => writeln!(out, "{}", stat.value(&e.load())),
                        None => Err(fmt::Error),
                    }
                }
            }
            .map_err(|_| EINVAL)
        })
        .ok_or(ENODEV)?
    }
}

/// File names of the team's ESP accounting directory.
const ESP_FILES: [&CStr; 2] = [c_str!("sas"), c_str!("totals")];

/// `/sys/class/net/<team>/hbond_esp/`: `sas`, one line per SA offloaded to
/// the team with its counters (at most a page: see
/// `hbond_core::accounting::SaListing`), and `totals`, the team's ESP
/// counters per direction (those of `ethtool -S`).
pub(crate) struct EspSysfs;

impl SysfsGroup for EspSysfs {
    const NAME: &'static CStr = c_str!("hbond_esp");
    const ATTRS: &'static [&'static CStr] = &ESP_FILES;
    const WRITABLE: bool = false;

    fn show(dev: &Device, index: usize, out: &mut SysfsOut<'_>) -> Result {
        let team_dev = LinkDevice::<Hbond>::try_from_device(dev).ok_or(ENODEV)?;
        let team = team_dev.data();
        if index == 0 {
            out.fill(|buf| team.write_sas(buf));
            Ok(())
        } else {
            let stats = &team.stats;
            accounting::write_totals(out, &stats.esp(Dir::Out), &stats.esp(Dir::In))
                .map_err(|_| EINVAL)
        }
    }
}
