#!/usr/bin/env bash
# Team options through the three interfaces: hbondctl, ip with the hbond
# plugin, and sysfs. Values set through one are read back through all
# three; refused values leave everything unchanged.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
CTL=$top/target/release/hbondctl
export IP_LIB_DIR=$top/tools/iproute2

A=hbt-opt-a B=hbt-opt-b
cleanup() { ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; }
trap cleanup EXIT
cleanup
ip netns add $A && ip netns add $B

in_a() { ip netns exec $A "$@"; }
ctl() { in_a "$CTL" "$@"; }
# info_data VALUE-OF TEAM OPTION: the option as `ip -d -j link show` has it.
ip_opt() { ip -n $A -d -j link show "$1" | jq -c ".[0].linkinfo.info_data.$2"; }
cli_opt() { ctl show "$1" --json | jq -c ".[0].options.$2"; }
sysfs_opt() { in_a cat "/sys/class/net/$1/hbond/$2"; }
# expect TEAM OPTION JSON: ip shows the option with that JSON value.
expect() { test "$(ip_opt "$1" "$2")" = "$3"; }

ok "hbondctl is built" test -x "$CTL"
ok "iproute2 plugin is built" test -f "$IP_LIB_DIR/link_hbond.so"
options=$(grep -c '^\s*{ "[a-z_]*", HBOND_ATTR_' "$IP_LIB_DIR/hbond_options.h")
ok "hbondctl lists the table's $options options" \
	test "$(ctl options | grep -c '^[a-z]')" = "$options"

# --- create with options, through ip and through the CLI
ok "ip creates a team with options" \
	ip -n $A link add hb0 type hbond mode alb miimon 100 updelay 200 lb_interval 500 peer_notify_count 2
ok "ip -d -j shows the kind" \
	test "$(ip -n $A -d -j link show hb0 | jq -r '.[0].linkinfo.info_kind')" = hbond
ok "mode read back" expect hb0 mode '"alb"'
ok "miimon read back" expect hb0 miimon 100
ok "updelay read back" expect hb0 updelay 200
ok "lb_interval read back" expect hb0 lb_interval 500
ok "peer_notify_count read back" expect hb0 peer_notify_count 2
ok "unset options have their defaults" \
	bash -c "test \"\$(ip -n $A -d -j link show hb0 | jq -c '.[0].linkinfo.info_data | [.downdelay, .primary_reselect, .primary, .active_slave]')\" = '[0,\"always\",null,null]'"
ok "ip -d shows the options as text" \
	bash -c "ip -n $A -d link show hb0 | grep -q 'hbond mode alb .*miimon 100 updelay 200 '"

ok "hbondctl creates a team with options" ctl create hb1 primary_reselect better downdelay 300
ok "its mode is the default" expect hb1 mode '"aft"'
ok "primary_reselect read back" expect hb1 primary_reselect '"better"'
ok "downdelay read back" expect hb1 downdelay 300
fails_with "creating an existing team is refused" "File exists" ctl create hb1

# --- set through each interface, read through the others
ok "hbondctl sets two options at once" ctl set hb0 miimon 50 lb_interval 2000
ok "ip sees the CLI's miimon" expect hb0 miimon 50
ok "ip sees the CLI's lb_interval" expect hb0 lb_interval 2000
ok "ip link set type hbond sets options" ip -n $A link set hb0 type hbond downdelay 400 primary_reselect failure
ok "the CLI sees ip's downdelay" test "$(cli_opt hb0 downdelay)" = 400
ok "the CLI sees ip's primary_reselect" test "$(cli_opt hb0 primary_reselect)" = '"failure"'
ok "hbondctl changes the mode of an empty team" ctl set hb0 mode aft
ok "ip sees the new mode" expect hb0 mode '"aft"'
ok "sysfs write" in_a bash -c 'echo 250 > /sys/class/net/hb0/hbond/updelay'
ok "the CLI sees the sysfs write" test "$(cli_opt hb0 updelay)" = 250

# --- refusals: user space checks the table's ranges before sending
snapshot() { ip -n $A -d -j link show hb0 | jq -cS '.[0].linkinfo.info_data'; }
before=$(snapshot)
fails_with "ip refuses an unknown mode" "invalid value 'rr' for mode" \
	ip -n $A link set hb0 type hbond mode rr
fails_with "ip refuses lb_interval below its range" "value out of range \(100..60000\)" \
	ip -n $A link set hb0 type hbond lb_interval 99
fails_with "ip refuses an unknown option" 'unknown option "speed"' \
	ip -n $A link set hb0 type hbond speed 10
fails_with "hbondctl refuses a malformed number" "invalid value '-1' for miimon: malformed value" \
	ctl set hb0 miimon -1
fails_with "hbondctl refuses miimon above its range" "value out of range \(0..60000\)" \
	ctl set hb0 miimon 60001
fails_with "sysfs refuses lb_interval below its range" "Invalid argument" \
	in_a bash -c 'echo 99 > /sys/class/net/hb0/hbond/lb_interval'
fails_with "sysfs refuses an unknown mode" "Invalid argument" \
	in_a bash -c 'echo rr > /sys/class/net/hb0/hbond/mode'
ok "nothing changed after the refusals" test "$(snapshot)" = "$before"

# --- refusals by the kernel, with its extack message
ip -n $A link add veth0 type veth peer name veth0p netns $B
ip -n $A link set veth0 master hb0
before=$(snapshot)
fails_with "hbondctl: mode change with slaves refused with the kernel's message" \
	"only be changed while the team has no slaves" ctl set hb0 mode alb
fails_with "ip: mode change with slaves refused with the kernel's message" \
	"only be changed while the team has no slaves" ip -n $A link set hb0 type hbond mode alb
fails_with "hbondctl: a primary that is not a slave is refused" \
	"not a slave of this team" ctl set hb0 primary lo
fails_with "ip: an active_slave that is not a slave is refused" \
	"not a slave of this team" ip -n $A link set hb0 type hbond active_slave lo
fails_with "a refused option in a batch changes nothing" \
	"not a slave of this team" ctl set hb0 miimon 77 primary lo
ok "nothing changed after the kernel's refusals" test "$(snapshot)" = "$before"

# --- the three interfaces agree on every option
ok "hbondctl sets primary" ctl set hb0 primary veth0
# agrees TEAM OPTION: both JSON outputs have the option with the same
# value, and sysfs shows it as text (names bare, no slave as empty).
agrees() {
	local cli ipv sys
	ctl show "$1" --json | jq -e ".[0].options | has(\"$2\")" >/dev/null || { echo "hbondctl lacks $2"; return 1; }
	ip -n $A -d -j link show "$1" | jq -e ".[0].linkinfo.info_data | has(\"$2\")" >/dev/null || { echo "ip lacks $2"; return 1; }
	cli=$(cli_opt "$1" "$2")
	ipv=$(ip_opt "$1" "$2")
	sys=$(sysfs_opt "$1" "$2") || return 1
	echo "CLI $cli, ip $ipv, sysfs '$sys'"
	[ "$cli" = "$ipv" ] && [ "$sys" = "$(jq -r 'if . == null then "" else . end' <<< "$cli")" ]
}
for name in $(ctl options | awk '/^[a-z]/ { print $1 }'); do
	ok "$name agrees between hbondctl, ip and sysfs" agrees hb0 "$name"
done

ok "hbondctl show prints the options as text" \
	bash -c "ip netns exec $A '$CTL' show hb0 | grep -qE '^    primary +veth0$'"
fails_with "hbondctl show of a missing team fails" "no such hbond team" ctl show hb9
fails_with "hbondctl set on a device that is not a team fails" "not an hbond team" ctl set veth0 miimon 1
ok "delete the teams" bash -c "ip -n $A link del hb0 && ip -n $A link del hb1"
tap_done
