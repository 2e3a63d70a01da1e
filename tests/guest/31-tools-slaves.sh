#!/usr/bin/env bash
# Enslave and release with hbondctl, and the per-slave state (active, link,
# link_failures, perm_hwaddr, counters) as hbondctl, ip with the hbond
# plugin and sysfs show it.
. "$(dirname "$0")/lib.sh"

top=$(cd "$(dirname "$0")/../.." && pwd)
CTL=$top/target/release/hbondctl
export IP_LIB_DIR=$top/tools/iproute2

A=hbt-sl-a B=hbt-sl-b
cleanup() { ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; }
trap cleanup EXIT
cleanup
ip netns add $A && ip netns add $B

in_a() { ip netns exec $A "$@"; }
ctl() { in_a "$CTL" "$@"; }
# slave_ip DEV KEY: the slave attribute as `ip -d -j link show` has it.
slave_ip() { ip -n $A -d -j link show "$1" | jq -c ".[0].linkinfo.info_slave_data.$2"; }
# slave_cli DEV KEY: the same from `hbondctl show --json`.
slave_cli() { ctl show hb0 --json | jq -c ".[0].slaves[] | select(.ifname == \"$1\") | .$2"; }

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
ok "veth0's link is up" wait_for 5 "test \"\$(ip -n $A -d -j link show veth0 | jq -r '.[0].linkinfo.info_slave_data.link')\" = up"
ok "perm_hwaddr is the address before enslavement (veth1)" \
	test "$(slave_ip veth1 perm_hwaddr)" = "\"$mac1\""
ok "perm_hwaddr of veth0" test "$(slave_ip veth0 perm_hwaddr)" = "\"$mac0\""
ok "exactly one slave is active" \
	test "$(ctl show hb0 --json | jq '[.[0].slaves[] | select(.active)] | length')" = 1
ok "hbondctl sets active_slave" ctl set hb0 active_slave veth1
ok "ip shows veth1 active" test "$(slave_ip veth1 active)" = true
ok "ip shows veth0 inactive" test "$(slave_ip veth0 active)" = false
ok "the team's active_slave is veth1" \
	test "$(ip -n $A -d -j link show hb0 | jq -r '.[0].linkinfo.info_data.active_slave')" = veth1

# Every attribute that does not move on its own agrees between the CLI,
# ip and sysfs; counters are numbers everywhere. sysfs names follow
# bonding: "active" is the file state (active/backup), "link_failures" is
# link_failure_count.
sysfs_slave_file() {
	case $1 in
	active) echo state ;;
	link_failures) echo link_failure_count ;;
	*) echo "$1" ;;
	esac
}
slave_agrees() {
	local cli ipv sys
	cli=$(slave_cli "$1" "$2")
	ipv=$(slave_ip "$1" "$2")
	sys=$(in_a cat "/sys/class/net/$1/hbond_slave/$(sysfs_slave_file "$2")") || return 1
	echo "CLI $cli, ip $ipv, sysfs '$sys'"
	[ -n "$cli" ] && [ "$cli" != null ] && [ "$cli" = "$ipv" ] &&
		[ "$sys" = "$(jq -r 'if . == true then "active" elif . == false then "backup" else . end' <<< "$cli")" ]
}
for dev in veth0 veth1; do
	for key in active link link_failures perm_hwaddr; do
		ok "$dev $key agrees between hbondctl, ip and sysfs" slave_agrees $dev $key
	done
	ok "$dev counters are numbers in both JSON outputs" bash -c "
		ip -n $A -d -j link show $dev | jq -e '.[0].linkinfo.info_slave_data | [.tx_packets, .tx_bytes, .rx_packets, .rx_bytes] | all(type == \"number\")' &&
		ip netns exec $A '$CTL' show hb0 --json | jq -e '.[0].slaves[] | select(.ifname == \"$dev\") | [.tx_packets, .tx_bytes, .rx_packets, .rx_bytes] | all(type == \"number\")'"
done

ip -n $B link set peer1 down
ok "carrier loss is a link failure" wait_for 5 "test \"\$(ip netns exec $A '$CTL' show hb0 --json | jq -r '.[0].slaves[] | select(.ifname == \"veth1\") | .link_failures')\" = 1"
ok "veth1's link is fail" test "$(slave_ip veth1 link)" = '"fail"'
ok "the active slave moved to veth0" test "$(slave_ip veth0 active)" = true
ok "hbondctl text shows the slaves" \
	bash -c "ip netns exec $A '$CTL' show hb0 | grep -A3 '^  slave veth1' | grep -qE '^    link +fail$'"
fails_with "ip refuses to set slave attributes" "read-only" \
	ip -n $A link set veth0 type hbond_slave active 1

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
