// SPDX-License-Identifier: GPL-2.0

//! The per-slave attributes of `IFLA_INFO_SLAVE_DATA`: one table
//! that gives each [`slave_attr`] number its name and type, so that the
//! kernel's `fill_slave_info`, the sysfs `hbond_slave/` files, the CLI and
//! the iproute2 plugin show the same names.

use crate::accounting::EngineStat;
use crate::link::LinkState;
use crate::options::slave_attr;

/// How a slave attribute is carried on netlink and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlaveAttrKind {
    /// u8, 0 or 1; shown as a boolean.
    Flag,
    /// u8, a [`LinkState`] number; shown by its name.
    LinkState,
    /// u32 counter.
    U32,
    /// u64 counter.
    U64,
    /// 6-byte Ethernet address; shown as `xx:xx:xx:xx:xx:xx`.
    HwAddr,
    /// NUL-terminated string of at most
    /// [`crate::capability::MAX_NAME_LEN`] bytes.
    Text,
}

/// One attribute of a slave.
#[derive(Clone, Copy, Debug)]
pub struct SlaveAttrSpec {
    /// Name in sysfs, the CLI, `ip -d` output and the documentation.
    pub name: &'static str,
    /// Attribute number in `IFLA_INFO_SLAVE_DATA`.
    pub attr: u16,
    /// Netlink type and presentation.
    pub kind: SlaveAttrKind,
    /// Whether it can be set (slave changelink, sysfs, CLI); else read-only.
    pub settable: bool,
    /// One-line description.
    pub help: &'static str,
}

/// Every slave attribute, in netlink attribute order.
pub const SLAVE_ATTRS: &[SlaveAttrSpec] = &[
    SlaveAttrSpec {
        name: "active",
        attr: slave_attr::ACTIVE,
        kind: SlaveAttrKind::Flag,
        settable: false,
        help: "the slave is the active (aft) or receive (alb) slave",
    },
    SlaveAttrSpec {
        name: "link",
        attr: slave_attr::LINK,
        kind: SlaveAttrKind::LinkState,
        settable: false,
        help: "link state: up, fail, going_down (downdelay running), going_up (updelay running)",
    },
    SlaveAttrSpec {
        name: "link_failures",
        attr: slave_attr::LINK_FAILURES,
        kind: SlaveAttrKind::U32,
        settable: false,
        help: "how many times the slave's link failed",
    },
    SlaveAttrSpec {
        name: "perm_hwaddr",
        attr: slave_attr::PERM_HWADDR,
        kind: SlaveAttrKind::HwAddr,
        settable: false,
        help: "the address the slave had before it was enslaved",
    },
    SlaveAttrSpec {
        name: "tx_packets",
        attr: slave_attr::TX_PACKETS,
        kind: SlaveAttrKind::U64,
        settable: false,
        help: "packets the team sent through the slave",
    },
    SlaveAttrSpec {
        name: "tx_bytes",
        attr: slave_attr::TX_BYTES,
        kind: SlaveAttrKind::U64,
        settable: false,
        help: "bytes the team sent through the slave",
    },
    SlaveAttrSpec {
        name: "rx_packets",
        attr: slave_attr::RX_PACKETS,
        kind: SlaveAttrKind::U64,
        settable: false,
        help: "packets the team received through the slave",
    },
    SlaveAttrSpec {
        name: "rx_bytes",
        attr: slave_attr::RX_BYTES,
        kind: SlaveAttrKind::U64,
        settable: false,
        help: "bytes the team received through the slave",
    },
    SlaveAttrSpec {
        name: "inline_esp",
        attr: slave_attr::INLINE_ESP,
        kind: SlaveAttrKind::Flag,
        settable: false,
        help: "the slave does ESP inline (esp-hw-offload on and the driver has xfrmdev_ops)",
    },
    SlaveAttrSpec {
        name: "engine",
        attr: slave_attr::ENGINE,
        kind: SlaveAttrKind::Text,
        settable: true,
        help: "crypto driver of the slave's rfc4106(gcm(aes)) engine, or none; set a driver name, none, or auto (discover)",
    },
    SlaveAttrSpec {
        name: EngineStat::Requests.name(),
        attr: slave_attr::ENGINE_REQUESTS,
        kind: SlaveAttrKind::U64,
        settable: false,
        help: "lookaside requests of the team the slave's engine took",
    },
    SlaveAttrSpec {
        name: EngineStat::RequestBytes.name(),
        attr: slave_attr::ENGINE_REQUEST_BYTES,
        kind: SlaveAttrKind::U64,
        settable: false,
        help: "bytes of the requests the slave's engine took",
    },
    SlaveAttrSpec {
        name: EngineStat::Completed.name(),
        attr: slave_attr::ENGINE_COMPLETED,
        kind: SlaveAttrKind::U64,
        settable: false,
        help: "requests the slave's engine finished (successfully or not)",
    },
    SlaveAttrSpec {
        name: EngineStat::CompletedBytes.name(),
        attr: slave_attr::ENGINE_COMPLETED_BYTES,
        kind: SlaveAttrKind::U64,
        settable: false,
        help: "bytes of the requests the slave's engine finished",
    },
    SlaveAttrSpec {
        name: EngineStat::Errors.name(),
        attr: slave_attr::ENGINE_ERRORS,
        kind: SlaveAttrKind::U64,
        settable: false,
        help: "requests the slave's engine failed (bad ICVs are the SAs' drop_icv)",
    },
    SlaveAttrSpec {
        name: EngineStat::InFlight.name(),
        attr: slave_attr::ENGINE_IN_FLIGHT,
        kind: SlaveAttrKind::U64,
        settable: false,
        help: "requests on the slave's engine not finished yet",
    },
    SlaveAttrSpec {
        name: EngineStat::InFlightBytes.name(),
        attr: slave_attr::ENGINE_IN_FLIGHT_BYTES,
        kind: SlaveAttrKind::U64,
        settable: false,
        help: "bytes of the requests on the slave's engine not finished yet",
    },
];

/// Every link state, indexed by its netlink number.
pub const LINK_STATES: &[LinkState] = &[
    LinkState::Up,
    LinkState::Fail,
    LinkState::GoingDown,
    LinkState::GoingUp,
];

/// Finds a slave attribute by name.
pub fn slave_attr_by_name(name: &str) -> Option<&'static SlaveAttrSpec> {
    SLAVE_ATTRS.iter().find(|a| a.name == name)
}

/// Finds a slave attribute by netlink attribute number.
pub fn slave_attr_by_number(attr: u16) -> Option<&'static SlaveAttrSpec> {
    SLAVE_ATTRS.iter().find(|a| a.attr == attr)
}

/// The link state with netlink number `value`, if there is one.
pub fn link_state_from_u8(value: u8) -> Option<LinkState> {
    LINK_STATES.get(value as usize).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slave_attributes_are_unique_and_dense() {
        for (i, a) in SLAVE_ATTRS.iter().enumerate() {
            assert_eq!(a.attr as usize, i + 1, "{}", a.name);
            assert_eq!(slave_attr_by_number(a.attr).map(|x| x.name), Some(a.name));
        }
        assert_eq!(SLAVE_ATTRS.len(), slave_attr::MAX as usize);
    }

    #[test]
    fn only_the_engine_is_settable() {
        let settable: [&str; 1] = ["engine"];
        for a in SLAVE_ATTRS {
            assert_eq!(a.settable, settable.contains(&a.name), "{}", a.name);
            assert_eq!(slave_attr_by_name(a.name).map(|x| x.attr), Some(a.attr));
        }
        assert_eq!(
            slave_attr_by_name("engine").map(|a| a.kind),
            Some(SlaveAttrKind::Text)
        );
    }

    #[test]
    fn engine_counters_are_slave_attributes_in_order() {
        let first = slave_attr_by_name(EngineStat::Requests.name()).map(|a| a.attr);
        assert_eq!(first, Some(slave_attr::ENGINE_REQUESTS));
        for (i, s) in EngineStat::ALL.iter().enumerate() {
            let a = slave_attr_by_name(s.name()).unwrap();
            assert_eq!(a.attr, slave_attr::ENGINE_REQUESTS + i as u16);
            assert_eq!(a.kind, SlaveAttrKind::U64);
        }
        assert_eq!(slave_attr::ENGINE_IN_FLIGHT_BYTES, slave_attr::MAX);
    }

    #[test]
    fn link_states_are_indexed_by_number() {
        for (i, s) in LINK_STATES.iter().enumerate() {
            assert_eq!(*s as usize, i, "{}", s.name());
            assert_eq!(link_state_from_u8(i as u8), Some(*s));
        }
        assert_eq!(link_state_from_u8(LINK_STATES.len() as u8), None);
    }
}
