#!/usr/bin/env bash
# Enslave and release with hbondctl, and the per-slave state (active, link,
# link_failures, perm_hwaddr, counters) as hbondctl, ip with the hbond
# plugin and sysfs show it.
. "$(dirname "$0")/lib.sh"

A=hbt-sl-a B=hbt-sl-b
. "$(dirname "$0")/tools-lib.sh"
cleanup() { ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; }
trap cleanup EXIT
cleanup
ip netns add $A && ip netns add $B

for i in 0 1; do
	ip -n $A link add veth$i type veth peer name peer$i netns $B
	ip -n $B link set peer$i up
done
mac0=$(mac_of veth0 $A)
mac1=$(mac_of veth1 $A)

ok "hbondctl creates a team" ctl create hb0 mode aft
ok "hbondctl enslaves two devices" ctl enslave hb0 veth0 veth1
ok "veth0 has hb0 as master" test "$(master_of veth0 $A)" = hb0
ok "veth1 has hb0 as master" test "$(master_of veth1 $A)" = hb0
fails_with "enslaving a missing device fails" "nosuch0: No such device" ctl enslave hb0 nosuch0
fails_with "enslaving loopback is refused with the kernel's message" "loopback" ctl enslave hb0 lo
fails_with "enslaving to a device that is not a team fails" "not an hbond team" ctl enslave veth0 veth1
ip -n $A link set hb0 up

ok "ip shows the slave kind" \
	test "$(ip -n $A -d -j link show veth0 | jq -r '.[0].linkinfo.info_slave_kind')" = hbond
ok "veth0's link is up" wait_for 10 \
	"ip -n $A -d -j link show veth0 | jq -e '.[0].linkinfo.info_slave_data.link == \"up\"'"
ok "exactly one slave is active" \
	test "$(ctl show hb0 --json | jq '[.[0].slaves[] | select(.active)] | length')" = 1
ok "hbondctl sets active_slave" ctl set hb0 active_slave veth1
ok "the team's active_slave is veth1" \
	test "$(ip -n $A -d -j link show hb0 | jq -r '.[0].linkinfo.info_data.active_slave')" = veth1

# The slave attributes that do not move on their own agree between
# hbondctl, ip and sysfs; counters are numbers. sysfs names and forms
# follow bonding: "active" is the file state (active/backup),
# "link_failures" is link_failure_count.
check_slave() { # DEV ACTIVE MAC
	read_ip_slave "$1"
	read_cli_slave hb0 "$1"
	read_sysfs "/sys/class/net/$1/hbond_slave"
	ok "$1: ip active is $2" is IP active "$2"
	ok "$1: ip perm_hwaddr is the address before enslavement" is IP perm_hwaddr "\"$3\""
	local key state=backup
	[ "$2" = true ] && state=active
	ok "$1: sysfs state is $state" is SYSFS state $state
	for key in active link link_failures perm_hwaddr; do
		ok "$1: $key agrees: hbondctl ${CLI[$key]-absent}, ip ${IP[$key]-absent}" \
			is IP $key "${CLI[$key]-absent}"
	done
	ok "$1: sysfs link agrees" is SYSFS link "${CLI[link]//\"/}"
	ok "$1: sysfs link_failure_count agrees" is SYSFS link_failure_count "${CLI[link_failures]}"
	ok "$1: sysfs perm_hwaddr agrees" is SYSFS perm_hwaddr "$3"
	for key in tx_packets tx_bytes rx_packets rx_bytes; do
		ok "$1: $key is a number in both JSON outputs and sysfs" \
			eval '[[ ${IP[$key]} =~ ^[0-9]+$ && ${CLI[$key]} =~ ^[0-9]+$ && ${SYSFS[$key]} =~ ^[0-9]+$ ]]'
	done
}
check_slave veth0 false "$mac0"
check_slave veth1 true "$mac1"

ip -n $B link set peer1 down
ok "carrier loss is a link failure" wait_for 10 \
	"ip netns exec $A '$CTL' show hb0 --json | jq -e '.[0].slaves[] | select(.ifname == \"veth1\") | .link_failures == 1'"
read_ip_slave veth1
ok "veth1's link is fail" is IP link '"fail"'
read_ip_slave veth0
ok "the active slave moved to veth0" is IP active true
ok "hbondctl text shows the slaves" \
	bash -c "ip netns exec $A '$CTL' show hb0 | grep -A3 '^  slave veth1' | grep -qE '^    link +fail$'"
# Only engine is settable (tests/guest/17-slave-engine.sh sets it).
fails_with "ip refuses to set read-only slave attributes, naming the settable ones" \
	'"active" is read-only; settable: engine' \
	ip -n $A link set veth0 type hbond_slave active 1
fails_with "hbondctl refuses to set read-only slave attributes" \
	"slave attribute active is read-only \(settable: engine\)" \
	ctl set-slave veth0 active 1

ok "hbondctl releases veth1" ctl release hb0 veth1
ok "veth1 has no master" test -z "$(master_of veth1 $A)"
ok "released veth1 gets its address back" test "$(mac_of veth1 $A)" = "$mac1"
fails_with "releasing a device that is not a slave fails" "not a slave of hb0" ctl release hb0 veth1
ok "hbondctl deletes the team" ctl delete hb0
ok "the team is gone" bash -c "! ip -n $A link show hb0 2>/dev/null"
ok "veth0 was released" test -z "$(master_of veth0 $A)"
fails_with "hbondctl refuses to delete a device that is not a team" "not an hbond team" ctl delete veth0
ok "veth0 still exists" ip -n $A link show veth0
tap_done
