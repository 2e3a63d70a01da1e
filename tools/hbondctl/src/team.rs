// SPDX-License-Identifier: GPL-2.0

//! hbond teams as rtnetlink sees them: the link messages that create,
//! change, enslave and delete, and the team/slave view decoded from a link
//! dump.

use std::collections::BTreeMap;

use hbond_core::options::{Kind, OPTIONS};
use netlink_packet_core::DecodeError;
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoPortData, InfoPortKind, LinkAttribute, LinkInfo, LinkMessage,
};

use crate::esp::EspReport;
use crate::nla::{
    decode_options, decode_slave_info, encode_options, encode_slave_info, OptionNla, SlaveNla,
};

/// The link kind of a team (`IFLA_INFO_KIND`) and of its slaves
/// (`IFLA_INFO_SLAVE_KIND`).
pub const KIND: &str = "hbond";

fn hbond_link_info(options: &[OptionNla]) -> LinkAttribute {
    let mut info = vec![LinkInfo::Kind(InfoKind::Other(KIND.into()))];
    if !options.is_empty() {
        info.push(LinkInfo::Data(InfoData::Other(encode_options(options))));
    }
    LinkAttribute::LinkInfo(info)
}

fn link_message(index: u32, attributes: Vec<LinkAttribute>) -> LinkMessage {
    let mut message = LinkMessage::default();
    message.header.index = index;
    message.attributes = attributes;
    message
}

/// `RTM_NEWLINK` (with `NLM_F_CREATE | NLM_F_EXCL`) for a new team.
pub fn create_message(name: &str, options: &[OptionNla]) -> LinkMessage {
    link_message(
        0,
        vec![LinkAttribute::IfName(name.into()), hbond_link_info(options)],
    )
}

/// `RTM_NEWLINK` without `NLM_F_CREATE`: changelink of team `index`.
pub fn change_message(index: u32, options: &[OptionNla]) -> LinkMessage {
    link_message(index, vec![hbond_link_info(options)])
}

/// `RTM_NEWLINK` without `NLM_F_CREATE` that changes attributes of slave
/// `index` (`IFLA_INFO_SLAVE_KIND` hbond, `IFLA_INFO_SLAVE_DATA`).
pub fn slave_change_message(index: u32, attrs: &[SlaveNla]) -> LinkMessage {
    link_message(
        index,
        vec![LinkAttribute::LinkInfo(vec![
            LinkInfo::PortKind(InfoPortKind::Other(KIND.into())),
            LinkInfo::PortData(InfoPortData::Other(encode_slave_info(attrs))),
        ])],
    )
}

/// `RTM_SETLINK` that gives device `index` the master `master` (0 to
/// release it).
pub fn set_master_message(index: u32, master: u32) -> LinkMessage {
    link_message(index, vec![LinkAttribute::Controller(master)])
}

/// `RTM_GETLINK` / `RTM_DELLINK` addressing a device by name.
pub fn by_name_message(name: &str) -> LinkMessage {
    link_message(0, vec![LinkAttribute::IfName(name.into())])
}

/// `RTM_DELLINK` of device `index`.
pub fn delete_message(index: u32) -> LinkMessage {
    link_message(index, Vec::new())
}

/// What the tools need of one link of a dump.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// `IFLA_INFO_KIND`.
    pub kind: Option<String>,
    /// `IFLA_INFO_DATA` payload when the kind is one the route crate does
    /// not model (as hbond).
    pub info_data: Option<Vec<u8>>,
    /// `IFLA_MASTER`.
    pub master: Option<u32>,
    /// `IFLA_INFO_SLAVE_KIND`.
    pub slave_kind: Option<String>,
    /// `IFLA_INFO_SLAVE_DATA` payload for such a slave kind.
    pub slave_data: Option<Vec<u8>>,
}

impl Link {
    /// Extracts the fields from a link message.
    pub fn from_message(message: &LinkMessage) -> Self {
        let mut link = Link {
            index: message.header.index,
            ..Default::default()
        };
        for attribute in &message.attributes {
            match attribute {
                LinkAttribute::IfName(name) => link.name = name.clone(),
                LinkAttribute::Controller(master) => link.master = Some(*master),
                LinkAttribute::LinkInfo(infos) => {
                    for info in infos {
                        match info {
                            LinkInfo::Kind(kind) => link.kind = Some(kind.to_string()),
                            LinkInfo::Data(InfoData::Other(data)) => {
                                link.info_data = Some(data.clone())
                            }
                            LinkInfo::PortKind(kind) => link.slave_kind = Some(kind.to_string()),
                            LinkInfo::PortData(InfoPortData::Other(data)) => {
                                link.slave_data = Some(data.clone())
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        link
    }

    /// Whether this is an hbond team.
    pub fn is_team(&self) -> bool {
        self.kind.as_deref() == Some(KIND)
    }
}

/// The link message of a slave as the kernel reports it; for tests of the
/// decoding path without a kernel.
#[cfg(test)]
pub fn slave_link_message(index: u32, name: &str, master: u32, data: Vec<u8>) -> LinkMessage {
    link_message(
        index,
        vec![
            LinkAttribute::IfName(name.into()),
            LinkAttribute::Controller(master),
            LinkAttribute::LinkInfo(vec![
                LinkInfo::PortKind(InfoPortKind::Other(KIND.into())),
                LinkInfo::PortData(InfoPortData::Other(data)),
            ]),
        ],
    )
}

/// A slave of a team with its decoded state.
#[derive(Clone, Debug, PartialEq)]
pub struct Slave {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// `IFLA_INFO_SLAVE_DATA`, in attribute order.
    pub attrs: Vec<SlaveNla>,
}

/// A team with its options and slaves.
#[derive(Clone, Debug, PartialEq)]
pub struct Team {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// The options the kernel reported, in attribute order.
    pub options: Vec<OptionNla>,
    /// Slaves in interface index order.
    pub slaves: Vec<Slave>,
    /// Its ESP accounting (sysfs), when read.
    pub esp: Option<EspReport>,
}

/// Interface names by index, to show slave-type options by name.
pub type Names = BTreeMap<u32, String>;

/// The options in table order, with slave options the kernel left out
/// (as it may for "none", like bonding's primary) shown as none.
fn with_absent_slaves_as_none(reported: Vec<OptionNla>) -> Vec<OptionNla> {
    OPTIONS
        .iter()
        .filter_map(|spec| {
            let value = reported.iter().find(|o| o.spec.attr == spec.attr);
            match (value, spec.kind) {
                (Some(option), _) => Some(*option),
                (None, Kind::Slave) => Some(OptionNla { spec, value: 0 }),
                (None, _) => None,
            }
        })
        .collect()
}

/// The teams among `links` (all of them, or only `only`) with their
/// slaves, and the names of every link.
pub fn collect_teams(
    links: &[Link],
    only: Option<&str>,
) -> Result<(Vec<Team>, Names), DecodeError> {
    let names = links.iter().map(|l| (l.index, l.name.clone())).collect();
    let mut teams = Vec::new();
    for link in links.iter().filter(|l| l.is_team()) {
        if only.is_some_and(|name| name != link.name) {
            continue;
        }
        let options = match &link.info_data {
            Some(data) => with_absent_slaves_as_none(decode_options(data)?),
            None => Vec::new(),
        };
        let mut slaves = Vec::new();
        for slave in links.iter().filter(|l| l.master == Some(link.index)) {
            let attrs = match (&slave.slave_kind, &slave.slave_data) {
                (Some(kind), Some(data)) if kind == KIND => decode_slave_info(data)?,
                _ => Vec::new(),
            };
            slaves.push(Slave {
                index: slave.index,
                name: slave.name.clone(),
                attrs,
            });
        }
        teams.push(Team {
            index: link.index,
            name: link.name.clone(),
            options,
            slaves,
            esp: None,
        });
    }
    Ok((teams, names))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nla::SlaveValue;
    use hbond_core::options::by_name;
    use hbond_core::slave_info::SLAVE_ATTRS;
    use netlink_packet_core::{Emitable, Parseable};

    /// Serializes a link message and parses it back with the route crate,
    /// as a dump reply would be.
    fn through_the_wire(message: &LinkMessage) -> LinkMessage {
        let mut bytes = vec![0; message.buffer_len()];
        message.emit(&mut bytes);
        LinkMessage::parse(&bytes[..]).unwrap()
    }

    fn mode_alb() -> OptionNla {
        OptionNla {
            spec: by_name("mode").unwrap(),
            value: 1,
        }
    }

    #[test]
    fn create_message_carries_kind_and_options() {
        let link = Link::from_message(&through_the_wire(&create_message("hb0", &[mode_alb()])));
        assert_eq!(link.name, "hb0");
        assert!(link.is_team());
        assert_eq!(
            decode_options(link.info_data.as_ref().unwrap()).unwrap(),
            [mode_alb()]
        );
    }

    #[test]
    fn create_without_options_has_no_data() {
        let link = Link::from_message(&through_the_wire(&create_message("hb1", &[])));
        assert!(link.is_team());
        assert_eq!(link.info_data, None);
    }

    #[test]
    fn change_and_master_messages_address_by_index() {
        let change = through_the_wire(&change_message(7, &[mode_alb()]));
        assert_eq!(change.header.index, 7);
        let enslave = Link::from_message(&through_the_wire(&set_master_message(9, 7)));
        assert_eq!((enslave.index, enslave.master), (9, Some(7)));
        let release = Link::from_message(&through_the_wire(&set_master_message(9, 0)));
        assert_eq!(release.master, Some(0));
    }

    #[test]
    fn slave_change_carries_the_slave_kind_and_data() {
        let engine = SlaveNla {
            spec: hbond_core::slave_info::slave_attr_by_name("engine").unwrap(),
            value: SlaveValue::Text("none".into()),
        };
        let message = through_the_wire(&slave_change_message(9, std::slice::from_ref(&engine)));
        assert_eq!(message.header.index, 9);
        let link = Link::from_message(&message);
        assert_eq!(link.slave_kind.as_deref(), Some(KIND));
        assert_eq!(link.kind, None);
        assert_eq!(
            decode_slave_info(link.slave_data.as_ref().unwrap()).unwrap(),
            [engine]
        );
    }

    #[test]
    fn teams_are_collected_with_their_slaves() {
        let mut team = Link::from_message(&through_the_wire(&create_message("hb0", &[mode_alb()])));
        team.index = 5;
        let active = SlaveNla {
            spec: &SLAVE_ATTRS[0],
            value: SlaveValue::Flag(true),
        };
        let slave = Link::from_message(&through_the_wire(&slave_link_message(
            6,
            "veth0",
            5,
            encode_slave_info(std::slice::from_ref(&active)),
        )));
        let other = Link {
            index: 8,
            name: "eth0".into(),
            ..Default::default()
        };
        let links = [team, slave, other];
        let (teams, names) = collect_teams(&links, None).unwrap();
        assert_eq!(teams.len(), 1);
        assert_eq!(teams[0].options[0], mode_alb());
        assert_eq!(teams[0].slaves.len(), 1);
        assert_eq!(teams[0].slaves[0].name, "veth0");
        assert_eq!(teams[0].slaves[0].attrs, [active]);
        assert_eq!(names.get(&8).map(String::as_str), Some("eth0"));
        assert!(collect_teams(&links, Some("hb9")).unwrap().0.is_empty());
    }

    #[test]
    fn absent_slave_options_are_none_and_others_stay_absent() {
        let options = with_absent_slaves_as_none(vec![mode_alb()]);
        let shown: Vec<_> = options.iter().map(|o| (o.spec.name, o.value)).collect();
        assert_eq!(shown, [("mode", 1), ("active_slave", 0), ("primary", 0)]);
    }
}
