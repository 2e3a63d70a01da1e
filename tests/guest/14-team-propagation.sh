#!/usr/bin/env bash
# What passes between the team and its slaves, as with bonding: the MTU
# (with rollback), offload features computed from the slaves, statistics
# summed from the slaves; primary_reselect better with slaves of different
# speeds; network namespaces.
. "$(dirname "$0")/lib.sh"
A=hbp-a B=hbp-b C=hbp-c
. "$(dirname "$0")/lib-topology.sh"
cleanup() { topology_cleanup; ip netns del $C 2>/dev/null; true; }
trap cleanup EXIT

mtu_of() { link_field "$1" $A ' mtu ([0-9]+) '; }
# detail DEV NAME: a numeric detail of `ip -d link show` (tso_max_size).
detail() {
	local line
	line=$(ip -n $A -d -o link show dev "$1") && [[ $line =~ \ $2\ ([0-9]+) ]] && echo "${BASH_REMATCH[1]}"
}
feat() { nsx $A ethtool -k "$1" | sed -nE "s/^$2: (on|off).*/\1/p"; }
ethk() { nsx $A ethtool -K "$@" > /dev/null; }
# pkts DIR: the team's packet count and its difference to s1 + s2, from one dump.
# (Parsed in this shell: jq takes about a second to start under TCG.)
pkts() {
	local line n=0 re='^[0-9]+: ([^:@]+)[:@].* RX: [^\\]*\\ +[0-9]+ +([0-9]+) .* TX: [^\\]*\\ +[0-9]+ +([0-9]+) '
	local -A p=()
	[ "$1" = tx ] && n=1
	while IFS= read -r line; do
		[[ $line =~ $re ]] && p[${BASH_REMATCH[1]}]=${BASH_REMATCH[2 + n]}
	done < <(ip -n $A -s -o link show)
	[ -n "${p[hb0]}" ] || { echo "no hb0 in the dump"; return 1; }
	echo "${p[hb0]} $((p[hb0] - ${p[s1]:-0} - ${p[s2]:-0}))"
}
active_is() { wait_for 5 "test \"\$(ns_cat $A /sys/class/net/$1/hbond/active_slave)\" = $2"; }

ok "topology: aft team with two veth slaves" team_topology aft 2
# No IPv6 chatter: the statistics checks compare counters at rest.
for ns in $A $B; do ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done

# --- MTU ---------------------------------------------------------------
ok "team MTU 9000 accepted" ip -n $A link set hb0 mtu 9000
ok "every slave follows the team MTU" test "$(mtu_of s1)/$(mtu_of s2)" = 9000/9000
ip -n $B link set bond0 mtu 9000
ok "9000-byte packets pass through the team" \
	nsx $A ping -c 2 -i 0.2 -W 2 -M do -s 8972 192.0.2.2
ok "a slave's MTU can still be changed directly" ip -n $A link set s2 mtu 4000
ok "the team and the other slave keep 9000" test "$(mtu_of hb0)/$(mtu_of s1)/$(mtu_of s2)" = 9000/9000/4000
ok "the next team MTU change applies to every slave" \
	bash -c "ip -n $A link set hb0 mtu 8000 && test \$(ip -n $A -j link show s2 | jq '.[0].mtu') = 8000"
ok "release s2" ip -n $A link set s2 nomaster
ok "a released slave gets its own MTU back" test "$(mtu_of s2)" = 1500
ok "re-enslave s2" ip -n $A link set s2 master hb0
ok "a new slave takes the team MTU" test "$(mtu_of s2)" = 8000

# A macvlan cannot go above its lower device's MTU (1500 here).
ip -n $A link add dm0 type dummy
ip -n $A link set dm0 up
ip -n $A link add mv0 link dm0 type macvlan mode bridge
fails_with "enslaving a device that refuses the team MTU is refused" "team's MTU" \
	ip -n $A link set mv0 master hb0
ok "the refused device is unchanged" test "$(master_of mv0 $A)/$(mtu_of mv0)" = /1500
ok "team MTU back to 1500" ip -n $A link set hb0 mtu 1500
ok "enslave the macvlan" ip -n $A link set mv0 master hb0
fails_with "a team MTU one slave refuses is refused" "Invalid argument" ip -n $A link set hb0 mtu 9000
ok "nothing changed: team and every slave at 1500" \
	test "$(mtu_of hb0)/$(mtu_of s1)/$(mtu_of s2)/$(mtu_of mv0)" = 1500/1500/1500/1500
ok "9000 works again without the macvlan" \
	bash -c "ip -n $A link set mv0 nomaster && ip -n $A link set hb0 mtu 9000 && ip -n $A link set hb0 mtu 1500"
ip -n $A link del mv0

# --- features ----------------------------------------------------------
ok "the dummy has a smaller tso_max_size than a veth" test "$(detail dm0 tso_max_size)" -lt "$(detail s1 tso_max_size)"
ok "team tso_max_size is the veths'" test "$(detail hb0 tso_max_size)" = "$(detail s1 tso_max_size)"
ok "enslave the dummy" ip -n $A link set dm0 master hb0
ok "team tso_max_size is the smallest of its slaves'" test "$(detail hb0 tso_max_size)" = "$(detail dm0 tso_max_size)"
ok "release the dummy" ip -n $A link set dm0 nomaster
ok "team tso_max_size is the veths' again" test "$(detail hb0 tso_max_size)" = "$(detail s1 tso_max_size)"

ok "team has tx checksumming and scatter-gather" test "$(feat hb0 tx-checksumming)/$(feat hb0 scatter-gather)" = on/on
ethk s1 tx off
ok "one slave without tx checksumming: the team keeps it (that slave checksums in software)" \
	test "$(feat s1 tx-checksumming)/$(feat hb0 tx-checksumming)" = off/on
ethk s2 tx off
ok "no slave with tx checksumming: still on on the team (as bonding)" test "$(feat hb0 tx-checksumming)" = on
ok "traffic still passes (the slaves checksum in software)" nsx $A ping -c 2 -i 0.2 -W 2 192.0.2.2
ethk s1 tx on
ethk s2 tx on
ethk s1 sg off
ethk s2 sg off
ok "no slave with scatter-gather: off on the team" test "$(feat hb0 scatter-gather)" = off
ethk s2 sg on
ok "scatter-gather back on a slave: on on the team" test "$(feat hb0 scatter-gather)" = on
ethk s2 sg off
ok "release the slaves without it" bash -c "ip -n $A link set s1 nomaster && ip -n $A link set s2 nomaster"
ethk s2 sg on
ok "enslave one with it: on on the team" \
	bash -c "ip -n $A link set s2 master hb0 && nsx $A ethtool -k hb0 | grep -q '^scatter-gather: on'"
ethk s1 sg on
ok "re-enslave s1" ip -n $A link set s1 master hb0
ok "make s1 active" hbond_set active_slave s1

# tx-nocache-copy is one every slave must have (NETIF_F_ALL_FOR_ALL).
ethk s1 tx-nocache-copy on
ethk s2 tx-nocache-copy on
ok "tx-nocache-copy on every slave: on on the team" test "$(feat hb0 tx-nocache-copy)" = on
ethk s2 tx-nocache-copy off
ok "off on one slave: off on the team" test "$(feat hb0 tx-nocache-copy)" = off
ok "release that slave" ip -n $A link set s2 nomaster
ok "after its release the team has it again" test "$(feat hb0 tx-nocache-copy)" = on
ok "re-enslave it" ip -n $A link set s2 master hb0
ok "with it back the team has it off" test "$(feat hb0 tx-nocache-copy)" = off
ethk s1 tx-nocache-copy off

# --- statistics --------------------------------------------------------
ok "ping works" nsx $A ping -c 1 -W 2 192.0.2.2
sleep 1
read -r tx0 otx0 < <(pkts tx)
read -r rx0 orx0 < <(pkts rx)
nsx $A ping -q -c 50 -i 0.02 -W 1 192.0.2.2 > /dev/null
sleep 0.5
read -r tx1 otx1 < <(pkts tx)
read -r rx1 orx1 < <(pkts rx)
ok "the team counted the 50 pings (tx +$((tx1 - tx0)), rx +$((rx1 - rx0)))" \
	test $((tx1 - tx0)) -ge 50 -a $((rx1 - rx0)) -ge 50
ok "team counters grew exactly as the slaves' (team - slaves: tx $otx0 -> $otx1, rx $orx0 -> $orx1)" \
	test "$otx0/$orx0" = "$otx1/$orx1"
sum=$(( $(slave_attr s1 tx_packets) + $(slave_attr s2 tx_packets) ))
ok "team tx packets >= what the team sent through its slaves ($tx1 >= $sum)" test "$tx1" -ge "$sum"
ip -n $B link set p1 down
ok "failover to s2" active_is hb0 s2
nsx $A ping -q -c 30 -i 0.02 -W 1 192.0.2.2 > /dev/null
sleep 0.5
read -r tx2 otx2 < <(pkts tx)
ok "after failover the team counts traffic on the new slave (tx +$((tx2 - tx1)))" test $((tx2 - tx1)) -ge 30
ok "and still grows exactly as the slaves (tx $otx1 -> $otx2)" test "$otx1" = "$otx2"
ok "release s1" ip -n $A link set s1 nomaster
read -r tx3 _ < <(pkts tx)
ok "counters stay monotonic across the release ($tx2 -> $tx3)" test "$tx3" -ge "$tx2"
nsx $A ping -q -c 10 -i 0.02 -W 1 192.0.2.2 > /dev/null
read -r tx4 _ < <(pkts tx)
ok "and keep counting ($tx3 -> $tx4)" test $((tx4 - tx3)) -ge 10

# --- network namespaces ------------------------------------------------
ip netns add $C
fails_with "the team cannot move to another namespace" "Invalid argument|immutable" \
	ip -n $A link set hb0 netns $C
ok "moving a slave to another namespace" ip -n $A link set s2 netns $C
ok "releases it" test -z "$(master_of s2 $C)"
ok "the team has no slave left" test -z "$(hbond_opt active_slave)"

# --- primary_reselect better with different speeds ---------------------
# A veth reports 10000 Mb/s; a bonding device sums its slaves' speeds, so a
# balance-rr bond of two veths reports 20000 Mb/s.
hbs_set() { ip netns exec $A bash -c "echo $2 > /sys/class/net/hbs/hbond/$1"; }
ip -n $A link add hbs type hbond
ip -n $A link add vs1 type veth peer name vs1p
ip -n $A link set vs1p up
ip -n $A link add fb0 type bond mode balance-rr
for i in 1 2; do
	ip -n $A link add f$i type veth peer name f${i}p
	ip -n $A link set f$i master fb0
	ip -n $A link set f${i}p up
done
ip -n $A link set fb0 up
ok "a veth reports 10000 Mb/s, a bond of two veths 20000 Mb/s" \
	wait_for 5 "test \"\$(nsx $A ethtool vs1 | grep -o '[0-9]*Mb/s')/\$(nsx $A ethtool fb0 | grep -o '[0-9]*Mb/s')\" = 10000Mb/s/20000Mb/s"
ok "enslave the veth, then the bond" bash -c "ip -n $A link set vs1 master hbs && ip -n $A link set fb0 master hbs"
ok "the veth (first) is active" active_is hbs vs1
ok "primary_reselect better" hbs_set primary_reselect better
ok "set primary fb0" hbs_set primary fb0
ok "a faster primary (the bond) takes over" active_is hbs fb0
ip -n $A link set fb0 down
ok "the faster primary fails: the veth takes over" active_is hbs vs1
ip -n $A link set fb0 up
ok "the faster primary is back: it takes over again" active_is hbs fb0
ok "set a slower primary (the veth)" hbs_set primary vs1
ok "the slower primary does not take over" active_is hbs fb0
ip -n $A link set vs1 down
ip -n $A link set vs1 up
sleep 1
ok "nor when its link comes back" active_is hbs fb0
ok "primary_reselect always" hbs_set primary_reselect always
ok "then the slower primary takes over" active_is hbs vs1
ok "delete the teams" bash -c "ip -n $A link del hbs && ip -n $A link del hb0"
tap_done
