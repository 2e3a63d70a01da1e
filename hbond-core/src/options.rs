// SPDX-License-Identifier: GPL-2.0

//! The team's configuration options: one declarative table that drives the
//! rtnetlink policy and attributes, the sysfs files and the CLI, so the three
//! cannot drift apart (as bonding's `bond_options.c`).

use core::fmt;

/// Attribute numbers inside `IFLA_INFO_DATA` of kind `hbond` (user API:
/// never renumber, only append).
pub mod attr {
    /// Transmit policy, u8: index into [`super::MODES`].
    pub const MODE: u16 = 1;
    /// Active slave (AFT) / receive slave (ALB), u32 ifindex; 0 = none.
    pub const ACTIVE_SLAVE: u16 = 2;
    /// Preferred slave, u32 ifindex; 0 = none.
    pub const PRIMARY: u16 = 3;
    /// When the primary takes over again, u8: index into [`super::RESELECT`].
    pub const PRIMARY_RESELECT: u16 = 4;
    /// Carrier polling interval in ms, u32; 0 = events only.
    pub const MIIMON: u16 = 5;
    /// Delay before a slave whose link came up is used, ms, u32.
    pub const UPDELAY: u16 = 6;
    /// Delay before a slave whose link went down is dropped, ms, u32.
    pub const DOWNDELAY: u16 = 7;
    /// Gratuitous ARPs / unsolicited NAs sent after a failover, u8.
    pub const PEER_NOTIFY_COUNT: u16 = 8;
    /// ALB rebalance interval in ms, u32.
    pub const LB_INTERVAL: u16 = 9;
    /// Highest attribute number.
    pub const MAX: u16 = 9;
}

/// Attribute numbers inside `IFLA_INFO_SLAVE_DATA` of kind `hbond` (user
/// API: never renumber, only append). All are reported; only those marked
/// settable in [`crate::slave_info::SLAVE_ATTRS`] may be set
/// (`ip link set DEV type hbond_slave ...`).
pub mod slave_attr {
    /// u8: 1 if the slave is the active (AFT) or receive (ALB) slave.
    pub const ACTIVE: u16 = 1;
    /// u8: [`crate::link::LinkState`] as number.
    pub const LINK: u16 = 2;
    /// u32: how many times the link failed.
    pub const LINK_FAILURES: u16 = 3;
    /// binary, 6 bytes: the address the slave had before enslavement.
    pub const PERM_HWADDR: u16 = 4;
    /// u64 counters of traffic the team sent / received through the slave.
    pub const TX_PACKETS: u16 = 5;
    /// u64.
    pub const TX_BYTES: u16 = 6;
    /// u64.
    pub const RX_PACKETS: u16 = 7;
    /// u64.
    pub const RX_BYTES: u16 = 8;
    /// u8: 1 if the slave does ESP inline (`NETIF_F_HW_ESP` and
    /// `xfrmdev_ops`).
    pub const INLINE_ESP: u16 = 9;
    /// NUL-terminated string, settable: reported as the crypto driver name
    /// of the slave's engine or `none`; set to a driver name, `none` or
    /// `auto` (see [`crate::capability::EngineSetting`]).
    pub const ENGINE: u16 = 10;
    /// u64 counters of the slave's engine (the lookaside requests of the
    /// team it did, see [`crate::accounting::EngineStat`]): requests taken.
    pub const ENGINE_REQUESTS: u16 = 11;
    /// u64: bytes of the requests taken.
    pub const ENGINE_REQUEST_BYTES: u16 = 12;
    /// u64: requests finished.
    pub const ENGINE_COMPLETED: u16 = 13;
    /// u64: bytes of the requests finished.
    pub const ENGINE_COMPLETED_BYTES: u16 = 14;
    /// u64: requests that failed.
    pub const ENGINE_ERRORS: u16 = 15;
    /// u64: requests in flight.
    pub const ENGINE_IN_FLIGHT: u16 = 16;
    /// u64: bytes of the requests in flight.
    pub const ENGINE_IN_FLIGHT_BYTES: u16 = 17;
    /// Highest attribute number.
    pub const MAX: u16 = 17;
}

/// Names of the transmit policies, indexed by their netlink value.
pub const MODES: &[&str] = &["aft", "alb"];
/// Names of the primary reselection policies, indexed by netlink value.
pub const RESELECT: &[&str] = &["always", "better", "failure"];

/// How an option's value is typed, checked and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One of a list of names; u8 on netlink.
    Enum(&'static [&'static str]),
    /// A number in `min..=max`; u32 on netlink (u8 if `max` <= 255 and
    /// `netlink_u8`).
    Number {
        /// Smallest accepted value.
        min: u32,
        /// Largest accepted value.
        max: u32,
        /// Whether netlink carries it as u8.
        netlink_u8: bool,
    },
    /// A slave of the team: u32 ifindex on netlink, an interface name in
    /// sysfs and the CLI; empty / 0 means none.
    Slave,
}

/// One option of a team.
#[derive(Clone, Copy, Debug)]
pub struct OptionSpec {
    /// Name in sysfs, the CLI and the documentation.
    pub name: &'static str,
    /// Attribute number in `IFLA_INFO_DATA`.
    pub attr: u16,
    /// Type and range.
    pub kind: Kind,
    /// Value of a new team.
    pub default: u32,
    /// Only changeable while the team has no slaves.
    pub needs_no_slaves: bool,
    /// One-line description.
    pub help: &'static str,
}

/// Every option, in netlink attribute order.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "mode",
        attr: attr::MODE,
        kind: Kind::Enum(MODES),
        default: 0,
        needs_no_slaves: true,
        help: "transmit policy: aft (active-backup) or alb (adaptive load balancing)",
    },
    OptionSpec {
        name: "active_slave",
        attr: attr::ACTIVE_SLAVE,
        kind: Kind::Slave,
        default: 0,
        needs_no_slaves: false,
        help: "the slave that transmits (aft) or receives (alb); setting it forces a switch",
    },
    OptionSpec {
        name: "primary",
        attr: attr::PRIMARY,
        kind: Kind::Slave,
        default: 0,
        needs_no_slaves: false,
        help: "preferred slave, active whenever usable (subject to primary_reselect)",
    },
    OptionSpec {
        name: "primary_reselect",
        attr: attr::PRIMARY_RESELECT,
        kind: Kind::Enum(RESELECT),
        default: 0,
        needs_no_slaves: false,
        help: "when the primary takes over again: always, better (faster link), failure (only if the active fails)",
    },
    OptionSpec {
        name: "miimon",
        attr: attr::MIIMON,
        kind: Kind::Number {
            min: 0,
            max: 60_000,
            netlink_u8: false,
        },
        default: 0,
        needs_no_slaves: false,
        help: "carrier polling interval in ms for drivers that report no carrier events; 0 = events only",
    },
    OptionSpec {
        name: "updelay",
        attr: attr::UPDELAY,
        kind: Kind::Number {
            min: 0,
            max: 600_000,
            netlink_u8: false,
        },
        default: 0,
        needs_no_slaves: false,
        help: "ms a slave's link must stay up before the slave is used",
    },
    OptionSpec {
        name: "downdelay",
        attr: attr::DOWNDELAY,
        kind: Kind::Number {
            min: 0,
            max: 600_000,
            netlink_u8: false,
        },
        default: 0,
        needs_no_slaves: false,
        help: "ms a slave's link must stay down before the slave is dropped",
    },
    OptionSpec {
        name: "peer_notify_count",
        attr: attr::PEER_NOTIFY_COUNT,
        kind: Kind::Number {
            min: 0,
            max: 255,
            netlink_u8: true,
        },
        default: 1,
        needs_no_slaves: false,
        help: "gratuitous ARPs and unsolicited neighbour advertisements sent after a failover",
    },
    OptionSpec {
        name: "lb_interval",
        attr: attr::LB_INTERVAL,
        kind: Kind::Number {
            min: 100,
            max: 60_000,
            netlink_u8: false,
        },
        default: 1_000,
        needs_no_slaves: false,
        help: "ms between load measurements and rebalancing in alb mode",
    },
];

/// Why a value was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionError {
    /// No option has that name or attribute.
    Unknown,
    /// Not a number / not one of the names.
    Malformed,
    /// Outside the allowed range.
    OutOfRange,
    /// Only changeable while the team has no slaves.
    TeamNotEmpty,
    /// Names a device that is not a slave of the team.
    NotASlave,
}

impl OptionError {
    /// A message for users (extack, sysfs log, CLI).
    pub fn message(self) -> &'static str {
        match self {
            Self::Unknown => "unknown option",
            Self::Malformed => "malformed value",
            Self::OutOfRange => "value out of range",
            Self::TeamNotEmpty => "option can only be changed while the team has no slaves",
            Self::NotASlave => "device is not a slave of this team",
        }
    }
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// Finds an option by name.
pub fn by_name(name: &str) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|o| o.name == name)
}

/// Finds an option by netlink attribute number.
pub fn by_attr(attr: u16) -> Option<&'static OptionSpec> {
    OPTIONS.iter().find(|o| o.attr == attr)
}

impl OptionSpec {
    /// Checks a raw (netlink) value. Slave values are checked by the caller,
    /// who knows the team's slaves.
    pub fn check(&self, value: u32) -> Result<u32, OptionError> {
        match self.kind {
            Kind::Enum(names) if (value as usize) < names.len() => Ok(value),
            Kind::Enum(_) => Err(OptionError::OutOfRange),
            Kind::Number { min, max, .. } if (min..=max).contains(&value) => Ok(value),
            Kind::Number { .. } => Err(OptionError::OutOfRange),
            Kind::Slave => Ok(value),
        }
    }

    /// Parses the text form (sysfs, CLI) of an enum or number option: a
    /// name or a number. Slave options are resolved by the caller.
    pub fn parse(&self, text: &str) -> Result<u32, OptionError> {
        let text = text.trim();
        match self.kind {
            Kind::Enum(names) => {
                if let Some(i) = names.iter().position(|n| *n == text) {
                    return Ok(i as u32);
                }
                let value = text.parse::<u32>().map_err(|_| OptionError::Malformed)?;
                self.check(value)
            }
            Kind::Number { .. } => {
                let value = text.parse::<u32>().map_err(|_| OptionError::Malformed)?;
                self.check(value)
            }
            Kind::Slave => Err(OptionError::Malformed),
        }
    }

    /// Writes the text form of an enum or number value.
    pub fn format(&self, value: u32, out: &mut impl fmt::Write) -> fmt::Result {
        match self.kind {
            Kind::Enum(names) => match names.get(value as usize) {
                Some(name) => out.write_str(name),
                None => write!(out, "{value}"),
            },
            Kind::Number { .. } | Kind::Slave => write!(out, "{value}"),
        }
    }

    /// Whether netlink carries the value as u8 (else u32).
    pub const fn netlink_is_u8(&self) -> bool {
        match self.kind {
            Kind::Enum(_) => true,
            Kind::Number { netlink_u8, .. } => netlink_u8,
            Kind::Slave => false,
        }
    }
}

/// The option values of one team, indexed like [`OPTIONS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    values: [u32; OPTIONS.len()],
}

impl Default for Config {
    fn default() -> Self {
        let mut values = [0; OPTIONS.len()];
        for (v, o) in values.iter_mut().zip(OPTIONS) {
            *v = o.default;
        }
        Self { values }
    }
}

impl Config {
    fn index(attr: u16) -> Result<usize, OptionError> {
        OPTIONS
            .iter()
            .position(|o| o.attr == attr)
            .ok_or(OptionError::Unknown)
    }

    /// The raw value of an option.
    pub fn get(&self, attr: u16) -> u32 {
        Self::index(attr).map_or(0, |i| self.values[i])
    }

    /// Sets an option after checking it; `has_slaves` tells whether the team
    /// has members. Nothing changes on error.
    pub fn set(&mut self, attr: u16, value: u32, has_slaves: bool) -> Result<(), OptionError> {
        let i = Self::index(attr)?;
        let spec = &OPTIONS[i];
        let value = spec.check(value)?;
        if spec.needs_no_slaves && has_slaves && self.values[i] != value {
            return Err(OptionError::TeamNotEmpty);
        }
        self.values[i] = value;
        Ok(())
    }

    /// Transmit policy.
    pub fn mode(&self) -> Mode {
        if self.get(attr::MODE) == 1 {
            Mode::Alb
        } else {
            Mode::Aft
        }
    }

    /// Primary reselection policy.
    pub fn primary_reselect(&self) -> Reselect {
        match self.get(attr::PRIMARY_RESELECT) {
            1 => Reselect::Better,
            2 => Reselect::Failure,
            _ => Reselect::Always,
        }
    }
}

/// Transmit policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Adapter fault tolerance: one active slave, the others stand by.
    Aft,
    /// Adaptive load balancing: transmit spread over all usable slaves.
    Alb,
}

/// When a usable primary takes over from another active slave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reselect {
    /// As soon as it is usable.
    Always,
    /// If its link is faster than the active slave's.
    Better,
    /// Only when the active slave fails.
    Failure,
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

    #[test]
    fn attributes_are_unique_and_dense() {
        for (i, o) in OPTIONS.iter().enumerate() {
            assert_eq!(o.attr as usize, i + 1, "{}", o.name);
            assert_eq!(by_name(o.name).map(|x| x.attr), Some(o.attr));
            assert_eq!(o.check(o.default), Ok(o.default), "default of {}", o.name);
        }
        assert_eq!(OPTIONS.len(), attr::MAX as usize);
    }

    #[test]
    fn parse_and_format_round_trip() {
        let mode = by_name("mode").unwrap();
        assert_eq!(mode.parse("alb"), Ok(1));
        assert_eq!(mode.parse("1"), Ok(1));
        assert_eq!(mode.parse("rr"), Err(OptionError::Malformed));
        assert_eq!(mode.parse("7"), Err(OptionError::OutOfRange));
        let mut s = String::new();
        mode.format(1, &mut s).unwrap();
        assert_eq!(s, "alb");
        let miimon = by_name("miimon").unwrap();
        assert_eq!(miimon.parse(" 100\n"), Ok(100));
        assert_eq!(miimon.parse("-1"), Err(OptionError::Malformed));
        assert_eq!(miimon.parse("60001"), Err(OptionError::OutOfRange));
    }

    #[test]
    fn config_refuses_and_keeps_state() {
        let mut c = Config::default();
        assert_eq!(c.mode(), Mode::Aft);
        assert_eq!(c.set(attr::MODE, 1, true), Err(OptionError::TeamNotEmpty));
        assert_eq!(c.mode(), Mode::Aft);
        assert_eq!(c.set(attr::MODE, 1, false), Ok(()));
        assert_eq!(c.mode(), Mode::Alb);
        // Setting the same mode with slaves is not a change.
        assert_eq!(c.set(attr::MODE, 1, true), Ok(()));
        let before = c;
        assert_eq!(
            c.set(attr::UPDELAY, 700_000, false),
            Err(OptionError::OutOfRange)
        );
        assert_eq!(c.set(99, 1, false), Err(OptionError::Unknown));
        assert_eq!(c, before);
        assert_eq!(c.get(attr::LB_INTERVAL), 1000);
    }
}
