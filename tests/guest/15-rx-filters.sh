#!/usr/bin/env bash
# Receive filters seen from the slaves' side, as a NIC that filters (virtio,
# physical; unlike veth) needs them: the team's multicast and unicast
# address lists, promiscuity and allmulti go to the slaves receiving for it
# (AFT: the active one, moved on failover; ALB: every slave) and leave a
# released slave; the team's address goes to the slaves (AFT: all; ALB: the
# receive slave); VLANs through hb0.10.
. "$(dirname "$0")/lib.sh"
A=hbr-a B=hbr-b
. "$(dirname "$0")/lib-topology.sh"
trap topology_cleanup EXIT

G=33:33:00:00:01:23       # a link-layer multicast group joined on hb0
# (Few processes per check: each one is slow in the TCG guest.)
# counts DEV: "promiscuity/allmulti" of DEV.
counts() {
	[[ $(ip -n $A -d link show dev "$1") =~ promiscuity\ ([0-9]+)\ +allmulti\ ([0-9]+) ]] &&
		echo "${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"
}
# count DEV promiscuity|allmulti
count() { local c; c=$(counts "$1"); if [ "$2" = promiscuity ]; then echo "${c%/*}"; else echo "${c#*/}"; fi; }
# has_group DEV: DEV's multicast list has $G.
has_group() { [[ $(ip -n $A maddr show dev "$1") == *" $G"* ]]; }
no_group() { ! has_group "$1"; }
# has_uc DEV ADDR: DEV's unicast list has ADDR (the default fdb dump lists it).
has_uc() { [[ $'\n'$(bridge -n $A fdb show dev "$1") == *$'\n'"$2 "* ]]; }
no_uc() { ! has_uc "$@"; }
# filters DEV: DEV has the group and the macvlan's address.
filters() { has_group "$1" && has_uc "$1" "$MV"; }
# bare DEV: DEV has neither, and no promiscuity or allmulti count.
bare() { no_group "$1" && no_uc "$1" "$MV" && test "$(counts "$1")" = 0/0; }
link_up() { wait_for 5 "test \"\$(link_field $1 $A ' state ([A-Z]+) ')\" = UP"; }
# cond SHELL-CONDITION: a condition over the helpers above, in this shell.
cond() { eval "$1"; }
active_is() { wait_for 5 "test \"\$(hbond_opt active_slave)\" = $1"; }

# --- AFT ---------------------------------------------------------------
ok "topology: aft team with two veth slaves" team_topology aft 2
ok "s1 is the active slave" active_is s1
ok "hb0 has no qdisc (IFF_NO_QUEUE, as bonding)" \
	test "$(link_field hb0 $A ' qdisc ([^ ]+) ')" = noqueue
ok "join $G on hb0" ip -n $A maddr add $G dev hb0
ok "the active slave has the group" has_group s1
ok "the backup slave does not" no_group s2
ok "hb0 promisc and allmulti on" \
	bash -c "ip -n $A link set hb0 promisc on && ip -n $A link set hb0 allmulticast on"
ok "the active slave holds one promiscuity and one allmulti count" test "$(counts s1)" = 1/1
ok "the backup slave holds none" test "$(counts s2)" = 0/0

# A macvlan on hb0 puts its address on hb0's unicast list: hb0 filters it
# (IFF_UNICAST_FLT) rather than going promiscuous, and passes it on.
ok "hb0 promisc off: the active slave's count is back to 0" \
	cond "ip -n $A link set hb0 promisc off && test \$(count s1 promiscuity) = 0"
ok "a macvlan on hb0" \
	bash -c "ip -n $A link add mv0 link hb0 type macvlan mode bridge && ip -n $A link set mv0 up"
MV=$(mac_of mv0 $A)
ok "hb0 stays unpromiscuous (IFF_UNICAST_FLT)" test "$(count hb0 promiscuity)" = 0
ok "the active slave has the macvlan's address on its unicast list" has_uc s1 "$MV"
ok "the backup slave does not" no_uc s2 "$MV"

ok "failover: s1 loses carrier" ip -n $B link set p1 down
ok "s2 becomes active" active_is s2
ok "the new active slave has the group and the macvlan's address" filters s2
# (Its promiscuity count is the veth's own: it cannot filter unicast.)
ok "the new active slave holds the allmulti count" test "$(count s2 allmulti)" = 1
ok "the old active slave has lost group, address and counts" bare s1

ok "hb0 down: its addresses leave its slaves" \
	cond "ip -n $A link set hb0 down && ! has_group s2 && no_uc s2 $MV"
ok "hb0 up: they come back" cond "ip -n $A link set hb0 up && has_group s2"
ip -n $A link set mv0 up

ok "s1 gets its carrier back" cond "ip -n $B link set p1 up && link_up s1"
ok "release the active slave s2" ip -n $A link set s2 nomaster
ok "the released slave lost group, address and counts" bare s2
ok "s1 becomes active" active_is s1
ok "the new active slave s1 has them" \
	cond "filters s1 && test \$(count s1 allmulti) = 1"
ok "re-enslave s2" bash -c "ip -n $A link set s2 master hb0 && ip -n $A link set s2 up"
ok "the backup slave s2 has none of them" bare s2
ok "a deleted macvlan's address leaves the slave" cond "ip -n $A link del mv0 && no_uc s1 $MV"
ok "hb0 leaves $G and allmulti" \
	bash -c "ip -n $A maddr del $G dev hb0 && ip -n $A link set hb0 allmulticast off"
ok "the slave left them too" bare s1

NEW=02:00:00:00:aa:01
ok "ip link set hb0 address $NEW" ip -n $A link set hb0 address $NEW
ok "AFT: every slave follows the team's address" \
	test "$(mac_of hb0 $A)/$(mac_of s1 $A)/$(mac_of s2 $A)" = $NEW/$NEW/$NEW
ok "traffic after the address change" \
	bash -c "ip netns exec $B ip neigh flush dev bond0; nsx $A ping -c 2 -i 0.3 -W 2 192.0.2.2"

# --- VLAN --------------------------------------------------------------
# hb0 filters VLANs (NETIF_F_HW_VLAN_CTAG_FILTER): without its
# ndo_vlan_rx_add_vid the VLAN device could not be created. veth slaves do
# not filter, so what the slaves got is seen only as traffic.
ok "hb0.10 created (hb0 takes VLAN 10 for its slaves)" \
	bash -c "ip -n $A link add link hb0 name hb0.10 type vlan id 10 &&
		ip -n $B link add link bond0 name bond0.10 type vlan id 10 &&
		ip -n $A addr add 198.51.100.1/24 dev hb0.10 && ip -n $B addr add 198.51.100.2/24 dev bond0.10 &&
		ip -n $A link set hb0.10 up && ip -n $B link set bond0.10 up"
ok "VLAN 10 traffic through hb0.10" \
	wait_for 5 "nsx $A ping -c 1 -W 1 198.51.100.2"
ok "hb0.10 deleted" ip -n $A link del hb0.10

# --- ALB ---------------------------------------------------------------
ok "topology: alb team with two veth slaves" team_topology alb 2
ok "join $G on hb0, promisc on" \
	cond "ip -n $A maddr add $G dev hb0 && ip -n $A link set hb0 promisc on"
ok "ALB: every slave has the group and a promiscuity count" \
	cond "has_group s1 && has_group s2 && test \$(count s1 promiscuity)/\$(count s2 promiscuity) = 1/1"
ok "release s2" ip -n $A link set s2 nomaster
ok "the released slave lost group and count" bare s2
ok "s1 keeps them" cond "has_group s1 && test \$(count s1 promiscuity) = 1"
ok "re-enslave s2" bash -c "ip -n $A link set s2 master hb0 && ip -n $A link set s2 up"
ok "it gets them again" cond "has_group s2 && test \$(count s2 promiscuity) = 1"
ok "s1 is the receive slave" active_is s1
S2=$(mac_of s2 $A)
ok "ip link set hb0 address $NEW" ip -n $A link set hb0 address $NEW
ok "ALB: the receive slave takes the team's address, the other keeps its own" \
	test "$(mac_of s1 $A)/$(mac_of s2 $A)" = $NEW/$S2
ok "ip link set hb0 address to s2's" ip -n $A link set hb0 address "$S2"
ok "ALB: the receive slave takes it, s2 the team's old one: no two alike" \
	test "$(mac_of hb0 $A)/$(mac_of s1 $A)/$(mac_of s2 $A)" = "$S2/$S2/$NEW"
ok "traffic after the address changes" \
	bash -c "ip netns exec $B ip neigh flush dev bond0; nsx $A ping -c 2 -i 0.3 -W 2 192.0.2.2"

tap_done
