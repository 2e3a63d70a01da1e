#!/usr/bin/env bash
# A team with an ipsecsim pair end and a veth enslaved: create, enslave,
# traffic through the active slave, automatic release, deletion.
. "$(dirname "$0")/lib.sh"

A=hbt-a B=hbt-b
cleanup() { ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; }
trap cleanup EXIT
cleanup
ip netns add $A && ip netns add $B

ok "modules loaded" grep -qw hbond /proc/modules
ok "create team" ip -n $A link add hb0 type hbond
ok "team kind is hbond" test "$(link_names $A type hbond)" = hb0
ok "create ipsecsim pair" ip -n $A link add sim0 type ipsecsim
mapfile -t sims < <(link_names $A type ipsecsim)
ok "pair peer exists (ipsecsim devices: ${sims[*]})" test "${#sims[@]}" = 2
peer=
for d in "${sims[@]}"; do [ "$d" = sim0 ] || peer=$d; done
ok "move peer to the other host" ip -n $A link set "$peer" netns $B name sim1
ok "create veth pair" ip -n $A link add veth0 type veth peer name veth1 netns $B

sim0_mac=$(mac_of sim0 $A)
veth0_mac=$(mac_of veth0 $A)
ok "enslave ipsecsim end" ip -n $A link set sim0 master hb0
ok "enslave veth" ip -n $A link set veth0 master hb0
ok "sim0 reports hb0 as master" test "$(master_of sim0 $A)" = hb0
ok "veth0 reports hb0 as master" test "$(master_of veth0 $A)" = hb0
ok "create a second team" ip -n $A link add hb1 type hbond
ok "moving a slave to another team" ip -n $A link set veth0 master hb1
ok "moved slave reports the new team" test "$(master_of veth0 $A)" = hb1
ok "move it back" ip -n $A link set veth0 master hb0
fails_with "nesting teams is refused" "another hbond" ip -n $A link set hb1 master hb0
fails_with "enslaving the team to itself is refused" "itself|Invalid|loop" ip -n $A link set hb0 master hb0
ok "delete the second team" ip -n $A link del hb1
fails_with "enslaving loopback is refused" "loopback" ip -n $A link set lo master hb0

ip -n $A addr add 192.0.2.1/24 dev hb0
ip -n $A link set hb0 up
ip -n $B addr add 192.0.2.2/24 dev sim1
ip -n $B link set sim1 up
ok "team takes its first slave's MAC" test "$(mac_of hb0 $A)" = "$sim0_mac"
ok "second slave takes the team's MAC" test "$(mac_of veth0 $A)" = "$sim0_mac"
ok "team gets carrier" wait_for 3 "test \"\$(link_field hb0 $A ' state ([A-Z]+) ')\" = UP"
ok "ping through the team" nsx $A ping -c 3 -i 0.2 -W 2 192.0.2.2

ok "deleting an enslaved veth releases it" ip -n $A link del veth0
ok "team keeps working without it" nsx $A ping -c 1 -W 2 192.0.2.2
ok "release with nomaster" ip -n $A link set sim0 nomaster
ok "released slave gets its MAC back" test "$(mac_of sim0 $A)" = "$sim0_mac"
ok "sim0 has no master" test -z "$(master_of sim0 $A)"
ok "re-enslave" ip -n $A link set sim0 master hb0
ok "delete team" ip -n $A link del hb0
ok "slave released by team deletion" test -z "$(master_of sim0 $A)"
ok "delete pair from one end" ip -n $A link del sim0
ok "peer deleted with it" bash -c "! ip -n $B link show sim1 2>/dev/null"
tap_done
