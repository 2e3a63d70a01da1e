#!/usr/bin/env bash
# Team options through the three interfaces: hbondctl, ip with the hbond
# plugin, and sysfs. Values set through one are read back through all
# three; refused values leave everything unchanged.
. "$(dirname "$0")/lib.sh"

A=hbt-opt-a B=hbt-opt-b
. "$(dirname "$0")/tools-lib.sh"
cleanup() { ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; }
trap cleanup EXIT
cleanup
ip netns add $A && ip netns add $B

ok "hbondctl is built" test -x "$CTL"
ok "iproute2 plugin is built" test -f "$IP_LIB_DIR/link_hbond.so"
mapfile -t options < <(ctl options | awk '/^[a-z]/ { print $1 }')
ok "hbondctl lists as many options (${#options[@]}) as the plugin's header" \
	test "$(awk '/^#define HBOND_N_OPTIONS / { print $3 }' "$IP_LIB_DIR/hbond_options.h")" = "${#options[@]}"

# --- create with options, through ip and through the CLI
ok "ip creates a team with options" \
	ip -n $A link add hb0 type hbond mode alb miimon 100 updelay 200 lb_interval 500 peer_notify_count 2
read_ip_options hb0
ok "mode read back" is IP mode '"alb"'
ok "miimon read back" is IP miimon 100
ok "updelay read back" is IP updelay 200
ok "lb_interval read back" is IP lb_interval 500
ok "peer_notify_count read back" is IP peer_notify_count 2
ok "downdelay has its default" is IP downdelay 0
ok "primary_reselect has its default" is IP primary_reselect '"always"'
ok "no primary" is IP primary null
ok "no active_slave" is IP active_slave null
ok "ip -d shows the options as text" \
	bash -c "ip -n $A -d link show hb0 | grep -q 'hbond mode alb .*miimon 100 updelay 200 '"

ok "hbondctl creates a team with options" ctl create hb1 primary_reselect better downdelay 300
read_ip_options hb1
ok "its mode is the default" is IP mode '"aft"'
ok "primary_reselect read back" is IP primary_reselect '"better"'
ok "downdelay read back" is IP downdelay 300
fails_with "creating an existing team is refused" "File exists" ctl create hb1

# --- set through each interface, read through the others
ok "hbondctl sets two options at once" ctl set hb0 miimon 50 lb_interval 2000
ok "ip link set type hbond sets options" ip -n $A link set hb0 type hbond downdelay 400 primary_reselect failure
ok "hbondctl changes the mode of an empty team" ctl set hb0 mode aft
ok "sysfs write" in_a bash -c 'echo 250 > /sys/class/net/hb0/hbond/updelay'
read_ip_options hb0
read_cli_options hb0
ok "ip sees the CLI's miimon" is IP miimon 50
ok "ip sees the CLI's lb_interval" is IP lb_interval 2000
ok "ip sees the CLI's mode" is IP mode '"aft"'
ok "the CLI sees ip's downdelay" is CLI downdelay 400
ok "the CLI sees ip's primary_reselect" is CLI primary_reselect '"failure"'
ok "the CLI sees the sysfs write" is CLI updelay 250
ok "ip sees the sysfs write" is IP updelay 250

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

# --- the three interfaces agree on every option; sysfs shows text: names
# bare, no slave as an empty line.
ok "hbondctl sets primary" ctl set hb0 primary veth0
read_ip_options hb0
read_cli_options hb0
read_sysfs /sys/class/net/hb0/hbond
for name in "${options[@]}"; do
	cli=${CLI[$name]-absent}
	sysfs_form=${cli#\"}
	sysfs_form=${sysfs_form%\"}
	[ "$cli" != null ] || sysfs_form=
	ok "$name agrees: hbondctl $cli, ip ${IP[$name]-absent}, sysfs '${SYSFS[$name]-absent}'" \
		eval 'is IP "$name" "$cli" && is SYSFS "$name" "$sysfs_form"'
done
ok "primary is the slave's name everywhere" is CLI primary '"veth0"'

ok "hbondctl show prints the options as text" \
	bash -c "ip netns exec $A '$CTL' show hb0 | grep -qE '^    primary +veth0$'"
fails_with "hbondctl show of a missing team fails" "no such hbond team" ctl show hb9
fails_with "hbondctl set on a device that is not a team fails" "not an hbond team" ctl set veth0 miimon 1
# Attributes this module does not know (a newer tool's) are refused, not
# ignored; the known ones, sent the same raw way, are accepted.
RAW="ip netns exec $A python3 $(cd "$(dirname "$0")/../.." && pwd)/tools/rtnl-attr.py"
ok "raw: a known team attribute (miimon 250) is accepted" $RAW hb0 hbond data 5 u32:250
ok "raw: miimon is 250" test "$(ip netns exec $A cat /sys/class/net/hb0/hbond/miimon)" = 250
fails_with "raw: an unknown team attribute (40) is refused" "^error" $RAW hb0 hbond data 40 u32:1
fails_with "raw: the last number rtnetlink parses (50) is refused" "^error" $RAW hb0 hbond data 50 u32:1
ok "raw: a known slave attribute (engine none) is accepted" $RAW veth0 hbond slave 10 str:none
fails_with "raw: an unknown slave attribute (30) is refused" "^error" $RAW veth0 hbond slave 30 u32:1
fails_with "raw: a read-only slave attribute (link, 2) is refused" "^error" $RAW veth0 hbond slave 2 u32:1
ok "delete the teams" bash -c "ip -n $A link del hb0 && ip -n $A link del hb1"
tap_done
