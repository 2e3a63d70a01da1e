// SPDX-License-Identifier: GPL-2.0

//! Team and slave state as text and as JSON. JSON keys are the names of
//! the option and slave attribute tables, the same keys `ip -d -j link
//! show` prints with the hbond iproute2 plugin.

use std::fmt::Write;

use hbond_core::accounting::EngineStat;
use hbond_core::options::{slave_attr, Kind};
use hbond_core::sa::Counter;
use hbond_core::slave_info::link_state_from_u8;
use serde_json::{json, Map, Value};

use crate::esp::{EspReport, Values};
use crate::nla::{OptionNla, SlaveNla, SlaveValue};
use crate::team::{Names, Slave, Team};

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

/// A slave's engine: its name and load counters (`EngineStat` order), if
/// it has an engine or its engine did work.
pub fn engine_of(slave: &Slave) -> Option<(String, [u64; EngineStat::COUNT])> {
    let mut name = None;
    let mut load = [0u64; EngineStat::COUNT];
    for a in &slave.attrs {
        match &a.value {
            SlaveValue::Text(t) if a.spec.attr == slave_attr::ENGINE => name = Some(t.clone()),
            SlaveValue::U64(v) => {
                if let Some(i) = EngineStat::ALL.iter().position(|s| s.name() == a.spec.name) {
                    load[i] = *v;
                }
            }
            _ => {}
        }
    }
    let name = name.unwrap_or_else(|| "none".into());
    (name != "none" || load.iter().any(|&v| v != 0)).then_some((name, load))
}

/// An engine counter's key in the `engines` objects: its name without
/// `engine_`.
fn engine_key(s: EngineStat) -> &'static str {
    s.name().strip_prefix("engine_").unwrap_or(s.name())
}

fn engines_json(team: &Team) -> Value {
    Value::Array(
        team.slaves
            .iter()
            .filter_map(|slave| {
                let (name, load) = engine_of(slave)?;
                let mut object = Map::new();
                object.insert("slave".into(), json!(slave.name));
                object.insert("engine".into(), json!(name));
                for (s, v) in EngineStat::ALL.iter().zip(load) {
                    object.insert(engine_key(*s).into(), json!(v));
                }
                Some(Value::Object(object))
            })
            .collect(),
    )
}

fn counters_json(values: &Values) -> Map<String, Value> {
    Counter::ALL
        .iter()
        .zip(values)
        .map(|(c, v)| (c.name().to_string(), json!(v)))
        .collect()
}

/// The ESP accounting as JSON: `{"totals": {"out": {COUNTER: N...}, "in":
/// {...}}, "sas": [{"spi", "daddr", "dir", "home", COUNTER: N...}],
/// "sas_not_listed": N}`.
pub fn esp_json(esp: &EspReport) -> Value {
    let totals: Map<_, _> = esp
        .totals
        .iter()
        .map(|(dir, v)| (dir.clone(), Value::Object(counters_json(v))))
        .collect();
    let sas: Vec<_> = esp
        .sas
        .iter()
        .map(|sa| {
            let mut object = Map::new();
            object.insert("spi".into(), json!(sa.spi));
            object.insert("daddr".into(), json!(sa.daddr));
            object.insert("dir".into(), json!(sa.dir));
            object.insert("home".into(), json!(sa.home));
            object.extend(counters_json(&sa.counters));
            Value::Object(object)
        })
        .collect();
    json!({"totals": totals, "sas": sas, "sas_not_listed": esp.not_listed})
}

/// Writes a table: a header and rows, columns padded to their widest
/// cell, numbers right-aligned.
fn table(out: &mut String, indent: &str, header: &[String], rows: &[Vec<String>]) {
    let mut width: Vec<usize> = header.iter().map(|h| h.len()).collect();
    let mut numeric = vec![true; header.len()];
    for r in rows {
        for (i, cell) in r.iter().enumerate().take(header.len()) {
            width[i] = width[i].max(cell.len());
            numeric[i] &= cell.parse::<u64>().is_ok();
        }
    }
    let mut line = |cells: &[String]| {
        let mut l = String::from(indent);
        for (i, cell) in cells.iter().enumerate().take(header.len()) {
            if i > 0 {
                l.push_str("  ");
            }
            if numeric[i] {
                let _ = write!(l, "{cell:>w$}", w = width[i]);
            } else {
                let _ = write!(l, "{cell:<w$}", w = width[i]);
            }
        }
        let _ = writeln!(out, "{}", l.trim_end());
    };
    line(header);
    for r in rows {
        line(r);
    }
}

/// The counters of the `SAs` table (drops by reason are in `totals` and
/// `-j`).
const SA_TABLE: [Counter; 7] = [
    Counter::InlinePackets,
    Counter::InlineBytes,
    Counter::EnginePackets,
    Counter::EngineBytes,
    Counter::HostPackets,
    Counter::HostBytes,
    Counter::DroppedPackets,
];

/// A team's engines and ESP accounting as text tables.
fn accounting_text(out: &mut String, team: &Team) {
    let engines: Vec<Vec<String>> = team
        .slaves
        .iter()
        .filter_map(|slave| {
            let (name, load) = engine_of(slave)?;
            let mut row = vec![slave.name.clone(), name];
            row.extend(load.iter().map(|v| v.to_string()));
            Some(row)
        })
        .collect();
    if engines.is_empty() {
        let _ = writeln!(out, "  no engines");
    } else {
        let _ = writeln!(out, "  engines (lookaside requests)");
        let mut header = vec!["slave".to_string(), "engine".to_string()];
        header.extend(EngineStat::ALL.iter().map(|s| engine_key(*s).to_string()));
        table(out, "    ", &header, &engines);
    }
    let Some(esp) = &team.esp else {
        let _ = writeln!(
            out,
            "  ESP accounting: not available (no hbond_esp in sysfs)"
        );
        return;
    };
    let _ = writeln!(out, "  ESP totals");
    let mut header = vec!["counter".to_string()];
    header.extend(esp.totals.iter().map(|(d, _)| d.clone()));
    let rows: Vec<Vec<String>> = Counter::ALL
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut row = vec![c.name().to_string()];
            row.extend(esp.totals.iter().map(|(_, v)| v[i].to_string()));
            row
        })
        .collect();
    table(out, "    ", &header, &rows);
    if esp.sas.is_empty() && esp.not_listed == 0 {
        let _ = writeln!(out, "  no SAs offloaded");
        return;
    }
    let _ = writeln!(out, "  SAs ({} listed)", esp.sas.len());
    let mut header: Vec<String> = ["spi", "daddr", "dir", "home"].map(String::from).into();
    header.extend(SA_TABLE.iter().map(|c| c.name().to_string()));
    let rows: Vec<Vec<String>> = esp
        .sas
        .iter()
        .map(|sa| {
            let mut row = vec![
                sa.spi.clone(),
                sa.daddr.clone(),
                sa.dir.clone(),
                sa.home.clone().unwrap_or_else(|| "-".into()),
            ];
            row.extend(
                SA_TABLE
                    .iter()
                    .map(|c| sa.counters[*c as usize].to_string()),
            );
            row
        })
        .collect();
    table(out, "    ", &header, &rows);
    if esp.not_listed > 0 {
        let _ = writeln!(
            out,
            "    ... {} more SAs not listed (sysfs shows one page; the totals count them)",
            esp.not_listed
        );
    }
}

/// Teams as a JSON array:
/// `[{"ifname", "ifindex", "options": {NAME: VALUE...}, "slaves": [{"ifname",
/// "ifindex", ATTR: VALUE...}], "engines": [{"slave", "engine", COUNTER:
/// N...}], "esp": ESP}]` (ESP: see [`esp_json`]; null when sysfs has none).
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
                    "engines": engines_json(team),
                    "esp": team.esp.as_ref().map(esp_json),
                })
            })
            .collect(),
    )
}

/// Teams as text: one block per team, options, slaves, then the tables of
/// engines and ESP accounting.
pub fn teams_text(teams: &[Team], names: &Names) -> String {
    let mut out = String::new();
    for team in teams {
        let _ = writeln!(out, "{} (ifindex {})", team.name, team.index);
        // The value column starts past the longest name of the team, so a
        // long attribute (engine_in_flight_bytes) never runs into its value.
        let width = team
            .options
            .iter()
            .map(|o| o.spec.name.len())
            .chain(
                team.slaves
                    .iter()
                    .flat_map(|s| s.attrs.iter().map(|a| a.spec.name.len())),
            )
            .fold(20, usize::max);
        for option in &team.options {
            let _ = writeln!(
                out,
                "    {:<width$} {}",
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
                let _ = writeln!(
                    out,
                    "    {:<width$} {}",
                    attr.spec.name,
                    slave_attr_text(attr)
                );
            }
        }
        accounting_text(&mut out, team);
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
            esp: None,
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
            "engines": [],
            "esp": null,
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

    /// A team whose slave sim0 has an engine that did work, with an SA.
    fn with_engine() -> (Vec<Team>, Names) {
        let (mut teams, mut names) = sample();
        let by = |name: &str, value| SlaveNla {
            spec: hbond_core::slave_info::slave_attr_by_name(name).unwrap(),
            value,
        };
        let mut attrs = vec![by(
            "engine",
            SlaveValue::Text("ipsecsim-engine-0-rfc4106-gcm-aes".into()),
        )];
        for (i, s) in EngineStat::ALL.iter().enumerate() {
            attrs.push(by(s.name(), SlaveValue::U64(10 + i as u64)));
        }
        teams[0].slaves.push(Slave {
            index: 7,
            name: "sim0".into(),
            attrs,
        });
        names.insert(7, "sim0".into());
        let mut out = [0u64; Counter::COUNT];
        out[Counter::EnginePackets as usize] = 20;
        out[Counter::EngineBytes as usize] = 2000;
        let mut inn = [0u64; Counter::COUNT];
        inn[Counter::DropIcv as usize] = 1;
        teams[0].esp = Some(EspReport {
            totals: vec![("out".into(), out), ("in".into(), inn)],
            sas: vec![crate::esp::SaLine {
                spi: "0x00002501".into(),
                daddr: "192.0.2.2".into(),
                dir: "out".into(),
                home: None,
                counters: out,
            }],
            not_listed: 3,
        });
        (teams, names)
    }

    #[test]
    fn engines_and_sas_as_json() {
        let (teams, names) = with_engine();
        let j = teams_json(&teams, &names);
        // veth0 has no engine: only sim0 is listed.
        assert_eq!(
            j[0]["engines"],
            json!([{
                "slave": "sim0",
                "engine": "ipsecsim-engine-0-rfc4106-gcm-aes",
                "requests": 10, "request_bytes": 11, "completed": 12,
                "completed_bytes": 13, "errors": 14, "in_flight": 15,
                "in_flight_bytes": 16,
            }])
        );
        assert_eq!(j[0]["esp"]["totals"]["out"]["engine_packets"], json!(20));
        assert_eq!(j[0]["esp"]["totals"]["in"]["drop_icv"], json!(1));
        assert_eq!(j[0]["esp"]["sas"][0]["spi"], json!("0x00002501"));
        assert_eq!(j[0]["esp"]["sas"][0]["home"], Value::Null);
        assert_eq!(j[0]["esp"]["sas"][0]["engine_bytes"], json!(2000));
        assert_eq!(j[0]["esp"]["sas_not_listed"], json!(3));
    }

    #[test]
    fn engines_and_sas_as_tables() {
        let (teams, names) = with_engine();
        let text = teams_text(&teams, &names);
        let lines: Vec<&str> = text.lines().collect();
        let at = |prefix: &str| lines.iter().position(|l| l.starts_with(prefix)).unwrap();
        // Names and values never run together, and values share a column.
        let f = at("    engine_in_flight_bytes");
        assert_eq!(
            lines[f].split_whitespace().collect::<Vec<_>>(),
            ["engine_in_flight_bytes", "16"]
        );
        let m = at("    mode");
        assert_eq!(lines[f].find("16"), lines[m].rfind(' ').map(|i| i + 1));
        let e = at("  engines");
        let header: Vec<_> = lines[e + 1].split_whitespace().collect();
        assert_eq!(
            header[..4],
            ["slave", "engine", "requests", "request_bytes"]
        );
        let row: Vec<_> = lines[e + 2].split_whitespace().collect();
        assert_eq!(
            row[..3],
            ["sim0", "ipsecsim-engine-0-rfc4106-gcm-aes", "10"]
        );
        assert_eq!(row.len(), header.len());
        // Numbers are right-aligned under their header.
        assert_eq!(
            lines[e + 1].find("request_bytes").unwrap() + "request_bytes".len(),
            lines[e + 2].find(" 11").unwrap() + 3
        );
        let t = at("  ESP totals");
        assert_eq!(
            lines[t + 1].split_whitespace().collect::<Vec<_>>(),
            ["counter", "out", "in"]
        );
        assert!(lines
            .iter()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["engine_packets", "20", "0"]));
        let s = at("  SAs (1 listed)");
        let row: Vec<_> = lines[s + 2].split_whitespace().collect();
        assert_eq!(row[..6], ["0x00002501", "192.0.2.2", "out", "-", "0", "0"]);
        assert_eq!(row[6..8], ["20", "2000"]);
        assert!(lines[s + 3].contains("... 3 more SAs not listed"));
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
