// SPDX-License-Identifier: GPL-2.0

//! Host tests of the iproute2 plugin (tools/iproute2) without an hbond
//! kernel: the plugin is built, then the stock `ip` prints link messages
//! that this crate encodes (`ip -d monitor file` decodes saved rtnetlink
//! messages with the same code as `ip -d link show`). So the plugin and
//! the CLI are checked to agree on the wire format.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
use netlink_packet_route::link::{LinkAttribute, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;

use crate::nla::{encode_slave_info, OptionNla, SlaveNla, SlaveValue};
use crate::team;
use hbond_core::options::by_name;
use hbond_core::slave_info::{slave_attr_by_name, SLAVE_ATTRS};

fn plugin_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../iproute2")
}

fn ip() -> &'static str {
    if Path::new("/usr/sbin/ip").exists() {
        "/usr/sbin/ip"
    } else {
        "ip"
    }
}

/// Builds the plugin once per test run (tests run in parallel threads).
fn build_plugin() {
    static BUILD: Once = Once::new();
    BUILD.call_once(make_plugin);
}

fn make_plugin() {
    let status = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(plugin_dir())
        .status()
        .expect("running make");
    assert!(status.success(), "make -C tools/iproute2 failed");
}

/// Runs `ip ARGS...` with the plugin; returns stdout, stderr.
fn run_ip(args: &[&str]) -> (String, String) {
    let out = Command::new(ip())
        .env("IP_LIB_DIR", plugin_dir())
        .args(args)
        .output()
        .expect("running ip");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn rtm_newlink_bytes(mut link: LinkMessage, index: u32) -> Vec<u8> {
    link.header.index = index;
    let mut message = NetlinkMessage::new(
        NetlinkHeader::default(),
        NetlinkPayload::from(RouteNetlinkMessage::NewLink(link)),
    );
    message.finalize();
    let mut bytes = vec![0; message.buffer_len()];
    message.serialize(&mut bytes);
    bytes
}

fn option(name: &str, value: u32) -> OptionNla {
    OptionNla {
        spec: by_name(name).unwrap(),
        value,
    }
}

#[test]
fn ip_shows_team_options_and_slave_state_as_the_cli_encodes_them() {
    build_plugin();
    // Interface 1 is lo in every network namespace, so `ip` can name it.
    let team_link = team::create_message(
        "hb0",
        &[
            option("mode", 1),
            option("active_slave", 0),
            option("primary", 1),
            option("primary_reselect", 2),
            option("miimon", 100),
            option("peer_notify_count", 3),
            option("lb_interval", 60_000),
        ],
    );
    let mut attrs: Vec<SlaveNla> = [
        SlaveValue::Flag(true),
        SlaveValue::LinkState(3),
        SlaveValue::U32(4),
        SlaveValue::HwAddr([2, 0, 0, 0, 0, 0xab]),
        SlaveValue::U64(1 << 33),
    ]
    .into_iter()
    .zip(SLAVE_ATTRS)
    .map(|(value, spec)| SlaveNla { spec, value })
    .collect();
    for (name, value) in [
        ("inline_esp", SlaveValue::Flag(false)),
        (
            "engine",
            SlaveValue::Text("ipsecsim-engine-7-rfc4106-gcm-aes".into()),
        ),
    ] {
        attrs.push(SlaveNla {
            spec: slave_attr_by_name(name).unwrap(),
            value,
        });
    }
    let mut slave_link = team::slave_link_message(0, "veth0", 5, encode_slave_info(&attrs));
    // The master is shown by name; keep it resolvable.
    slave_link
        .attributes
        .retain(|a| !matches!(a, LinkAttribute::Controller(_)));

    let mut file = rtm_newlink_bytes(team_link, 5);
    file.extend(rtm_newlink_bytes(slave_link, 6));
    let path = std::env::temp_dir().join(format!("hbondctl-plugin-{}.nl", std::process::id()));
    std::fs::write(&path, file).unwrap();
    let (stdout, stderr) = run_ip(&["-d", "monitor", "file", path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);

    assert!(
        stdout.contains(
            "hbond mode alb active_slave none primary lo primary_reselect failure \
             miimon 100 peer_notify_count 3 lb_interval 60000 "
        ),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stdout.contains(
            "hbond_slave active true link going_up link_failures 4 \
             perm_hwaddr 02:00:00:00:00:ab tx_packets 8589934592 \
             inline_esp false engine ipsecsim-engine-7-rfc4106-gcm-aes "
        ),
        "stdout: {stdout}\nstderr: {stderr}"
    );
}

#[test]
fn ip_refuses_read_only_slave_attributes_before_sending() {
    build_plugin();
    // Refused by the plugin's parser: no device or kernel is involved.
    let (_, stderr) = run_ip(&["link", "set", "lo", "type", "hbond_slave", "active", "1"]);
    assert!(
        stderr.contains("\"active\" is read-only; settable: engine"),
        "{stderr}"
    );
    let long = "x".repeat(128);
    let (_, stderr) = run_ip(&["link", "set", "lo", "type", "hbond_slave", "engine", &long]);
    assert!(stderr.contains("longer than 127 bytes"), "{stderr}");
}

#[test]
fn ip_link_help_lists_every_option() {
    build_plugin();
    let (stdout, stderr) = run_ip(&["link", "help", "hbond"]);
    for spec in hbond_core::options::OPTIONS {
        assert!(
            stdout.contains(spec.name),
            "{}: {stdout}{stderr}",
            spec.name
        );
        assert!(
            stdout.contains(spec.help),
            "{}: {stdout}{stderr}",
            spec.name
        );
    }
}
