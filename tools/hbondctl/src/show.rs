// SPDX-License-Identifier: GPL-2.0

//! Team and slave state as text and as JSON. JSON keys are the names of
//! the option and slave attribute tables, the same keys `ip -d -j link
//! show` prints with the hbond iproute2 plugin.

use std::fmt::Write;

use hbond_core::options::Kind;
use hbond_core::slave_info::link_state_from_u8;
use serde_json::{json, Map, Value};

use crate::nla::{OptionNla, SlaveNla, SlaveValue};
use crate::team::{Names, Team};

/// The name of interface `index`, as `ip` shows unknown ones.
fn interface_name(names: &Names, index: u32) -> String {
    names
        .get(&index)
        .cloned()
        .unwrap_or_else(|| format!("if{index}"))
}

/// An option's value as JSON: enum name, number, or interface name (null
/// for none).
pub fn option_json(option: &OptionNla, names: &Names) -> Value {
    match option.spec.kind {
        Kind::Enum(_) => Value::String(option_text(option, names)),
        Kind::Number { .. } => json!(option.value),
        Kind::Slave if option.value == 0 => Value::Null,
        Kind::Slave => Value::String(interface_name(names, option.value)),
    }
}

/// An option's value as text, as sysfs shows it except that no slave is
/// "none".
pub fn option_text(option: &OptionNla, names: &Names) -> String {
    match option.spec.kind {
        Kind::Slave if option.value == 0 => "none".into(),
        Kind::Slave => interface_name(names, option.value),
        _ => {
            let mut text = String::new();
            option
                .spec
                .format(option.value, &mut text)
                .expect("writing to a String");
            text
        }
    }
}

fn link_state_name(value: u8) -> String {
    link_state_from_u8(value).map_or_else(|| format!("unknown({value})"), |s| s.name().into())
}

fn hwaddr(a: &[u8; 6]) -> String {
    let parts: Vec<_> = a.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(":")
}

/// A slave attribute's value as JSON.
pub fn slave_attr_json(attr: &SlaveNla) -> Value {
    match &attr.value {
        SlaveValue::Flag(v) => json!(v),
        SlaveValue::LinkState(v) => json!(link_state_name(*v)),
        SlaveValue::U32(v) => json!(v),
        SlaveValue::U64(v) => json!(v),
        SlaveValue::HwAddr(a) => json!(hwaddr(a)),
        SlaveValue::Text(t) => json!(t),
    }
}

/// A slave attribute's value as text.
pub fn slave_attr_text(attr: &SlaveNla) -> String {
    match &attr.value {
        SlaveValue::Flag(v) => (if *v { "yes" } else { "no" }).into(),
        SlaveValue::LinkState(v) => link_state_name(*v),
        SlaveValue::U32(v) => v.to_string(),
        SlaveValue::U64(v) => v.to_string(),
        SlaveValue::HwAddr(a) => hwaddr(a),
        SlaveValue::Text(t) => t.clone(),
    }
}

/// Teams as a JSON array:
/// `[{"ifname", "ifindex", "options": {NAME: VALUE...}, "slaves": [{"ifname",
/// "ifindex", ATTR: VALUE...}]}]`.
pub fn teams_json(teams: &[Team], names: &Names) -> Value {
    Value::Array(
        teams
            .iter()
            .map(|team| {
                let options: Map<_, _> = team
                    .options
                    .iter()
                    .map(|o| (o.spec.name.to_string(), option_json(o, names)))
                    .collect();
                let slaves: Vec<_> = team
                    .slaves
                    .iter()
                    .map(|slave| {
                        let mut object = Map::new();
                        object.insert("ifname".into(), json!(slave.name));
                        object.insert("ifindex".into(), json!(slave.index));
                        for attr in &slave.attrs {
                            object.insert(attr.spec.name.into(), slave_attr_json(attr));
                        }
                        Value::Object(object)
                    })
                    .collect();
                json!({
                    "ifname": team.name,
                    "ifindex": team.index,
                    "options": options,
                    "slaves": slaves,
                })
            })
            .collect(),
    )
}

/// Teams as text: one block per team, options then slaves.
pub fn teams_text(teams: &[Team], names: &Names) -> String {
    let mut out = String::new();
    for team in teams {
        let _ = writeln!(out, "{} (ifindex {})", team.name, team.index);
        for option in &team.options {
            let _ = writeln!(
                out,
                "    {:<20} {}",
                option.spec.name,
                option_text(option, names)
            );
        }
        if team.slaves.is_empty() {
            let _ = writeln!(out, "  no slaves");
        }
        for slave in &team.slaves {
            let _ = writeln!(out, "  slave {} (ifindex {})", slave.name, slave.index);
            for attr in &slave.attrs {
                let _ = writeln!(out, "    {:<20} {}", attr.spec.name, slave_attr_text(attr));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::team::Slave;
    use hbond_core::options::by_name;
    use hbond_core::slave_info::SLAVE_ATTRS;

    fn sample() -> (Vec<Team>, Names) {
        let opt = |name, value| OptionNla {
            spec: by_name(name).unwrap(),
            value,
        };
        let attr = |i: usize, value| SlaveNla {
            spec: &SLAVE_ATTRS[i],
            value,
        };
        let team = Team {
            index: 5,
            name: "hb0".into(),
            options: vec![
                opt("mode", 1),
                opt("active_slave", 6),
                opt("primary", 0),
                opt("miimon", 100),
            ],
            slaves: vec![Slave {
                index: 6,
                name: "veth0".into(),
                attrs: vec![
                    attr(0, SlaveValue::Flag(true)),
                    attr(1, SlaveValue::LinkState(2)),
                    attr(2, SlaveValue::U32(3)),
                    attr(3, SlaveValue::HwAddr([2, 0, 0, 0, 0, 0xab])),
                    attr(4, SlaveValue::U64(1 << 40)),
                ],
            }],
        };
        let names = [(5, "hb0".to_string()), (6, "veth0".to_string())].into();
        (vec![team], names)
    }

    #[test]
    fn json_shape() {
        let (teams, names) = sample();
        let expected = json!([{
            "ifname": "hb0",
            "ifindex": 5,
            "options": {
                "mode": "alb",
                "active_slave": "veth0",
                "primary": null,
                "miimon": 100,
            },
            "slaves": [{
                "ifname": "veth0",
                "ifindex": 6,
                "active": true,
                "link": "going_down",
                "link_failures": 3,
                "perm_hwaddr": "02:00:00:00:00:ab",
                "tx_packets": 1u64 << 40,
            }],
        }]);
        assert_eq!(teams_json(&teams, &names), expected);
        // Keys keep the table's order.
        let text = teams_json(&teams, &names).to_string();
        assert!(text.find("\"mode\"") < text.find("\"miimon\""), "{text}");
    }

    #[test]
    fn text_shape() {
        let (teams, names) = sample();
        let text = teams_text(&teams, &names);
        assert!(
            text.starts_with("hb0 (ifindex 5)\n    mode                 alb\n"),
            "{text}"
        );
        assert!(text.contains("    primary              none\n"), "{text}");
        assert!(text.contains("  slave veth0 (ifindex 6)\n    active               yes\n"));
        assert!(text.contains("    link                 going_down\n"));
    }

    #[test]
    fn unknown_values_stay_visible() {
        let names = Names::new();
        let slave = OptionNla {
            spec: by_name("primary").unwrap(),
            value: 42,
        };
        assert_eq!(option_json(&slave, &names), json!("if42"));
        let state = SlaveNla {
            spec: &SLAVE_ATTRS[1],
            value: SlaveValue::LinkState(9),
        };
        assert_eq!(slave_attr_text(&state), "unknown(9)");
    }
}
