#!/usr/bin/env bash
# Teardown torture: teams over ipsecsim and veth slaves, taken apart in
# varied orders while traffic flows; failing creations; rmmod of hbond and
# ipsecsim in both orders, with live devices. The guest runner checks the
# kernel log (WARNING, BUG, lockdep, KASAN, hung tasks) and kmemleak after
# the script; here every step checks that nothing is left registered.
# Reloads both modules (KUnit does not run again: scripts/guest-init.sh).
. "$(dirname "$0")/lib.sh"
T=tt-team P=tt-peer
top=$(cd "$(dirname "$0")/../.." && pwd)
export IP_LIB_DIR=$top/tools/iproute2
cleanup() {
	kill $(jobs -p) 2>/dev/null
	wait 2>/dev/null
	ip netns del $T 2>/dev/null
	ip netns del $P 2>/dev/null
	true
}
trap cleanup EXIT
cleanup

# loaded MODULE: /proc/modules lists it (read by this shell: no process).
loaded() { [[ $'\n'$(< /proc/modules) == *$'\n'"$1 "* ]]; }

# Both modules loaded (a step may have removed one).
load_modules() {
	loaded ipsecsim || insmod "$top/ipsecsim.ko" || return 1
	loaded hbond || insmod "$top/hbond.ko" || return 1
}

# kinds NS KIND: names of the devices of KIND in NS.
kinds() {
	link_names "$1" type "$2" 2>/dev/null
}

# engine_algs: ipsecsim algorithms still in the crypto API.
engine_algs() { grep -c '^driver *: ipsecsim-engine' /proc/crypto; }

# no_engine_algs_within SECS: orphaned algorithms are swept once their
# users (the self-tests) let go.
no_engine_algs_within() { wait_for "$1" "[ \$(grep -c '^driver *: ipsecsim-engine' /proc/crypto) = 0 ]"; }

# setup MODE: team hb0 in $T over sim0 (an ipsecsim pair, other end in $P)
# and v0 (veth, other end in $P), the peer ends bridged in $P; pings work.
setup() {
	cleanup
	load_modules || return 1
	ip netns add $T && ip netns add $P || return 1
	# One ip process per namespace (ip stops at a failing command).
	ip -n $T -batch - <<-EOF || return 1
	link set lo up
	link add hb0 type hbond mode $1
	link add sim0 type ipsecsim peer name sim1 netns $P
	link add v0 type veth peer name v1 netns $P
	link set sim0 master hb0
	link set v0 master hb0
	addr add 192.0.2.1/24 dev hb0
	EOF
	# A fixed address: a bridge without one takes its lowest port's, and
	# would change it when sim1 goes (rmmod ipsecsim), leaving the team's
	# neighbour entry pointing at a MAC nobody has until ARP re-probes.
	ip -n $P -batch - <<-EOF || return 1
	link set lo up
	link add br0 address 02:00:00:00:b0:01 type bridge
	link set sim1 master br0
	link set v1 master br0
	addr add 192.0.2.2/24 dev br0
	link set sim1 up
	link set v1 up
	link set br0 up
	EOF
	ip -n $T link set hb0 up
	wait_for 10 "ip netns exec $T ping -c 1 -W 1 192.0.2.2"
}

# traffic: two ping streams (small and near-MTU packets, ~150 packets/s:
# enough to be mid-transmit at every step, little enough for a TCG guest)
# from $T to $P in the background until stopped; TRAFFIC_PIDS. A first ping
# checks that traffic flows at all.
traffic() {
	ip netns exec $T ping -c 2 -i 0.2 -W 1 192.0.2.2 > /dev/null || return 1
	ip netns exec $T ping -q -i 0.01 -W 1 192.0.2.2 > /dev/null 2>&1 &
	TRAFFIC_PIDS=$!
	ip netns exec $T ping -q -s 1400 -i 0.02 -W 1 192.0.2.2 > /dev/null 2>&1 &
	TRAFFIC_PIDS+=" $!"
}
stop_traffic() { kill $TRAFFIC_PIDS 2>/dev/null; wait $TRAFFIC_PIDS 2>/dev/null; true; }

# sa_on_sim0: an SA pair offloaded to sim0 (keys differ per direction).
sa_on_sim0() {
	ip -n $T xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x2001 mode transport \
		aead 'rfc4106(gcm(aes))' 0x11111111111111111111111111111111deadbee1 128 offload dev sim0 dir out &&
	ip -n $T xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x2002 mode transport \
		aead 'rfc4106(gcm(aes))' 0x22222222222222222222222222222222deadbee2 128 offload dev sim0 dir in
}

nothing_left() {
	[ -z "$(kinds $T hbond)$(kinds $T ipsecsim)$(kinds $P ipsecsim)" ]
}

ok "modules loaded" load_modules
ok "plugin built" test -f "$IP_LIB_DIR/link_ipsecsim.so"

# --- Failing creations leave nothing behind.
ip netns add $T
before=$(engine_algs)
fails_with "ipsecsim: peer with the same name refused" "File exists|exists|busy" \
	ip -n $T link add simx type ipsecsim peer name simx
ok "failed ipsecsim creation: no device" test -z "$(kinds $T ipsecsim)"
ok "failed ipsecsim creation: its algorithms leave the crypto API" no_engine_algs_within 10
ip -n $T link set lo up
fails_with "hbond: active_slave at creation refused" "not a slave" \
	ip -n $T link add hbx type hbond active_slave lo
ok "failed hbond creation: no device" test -z "$(kinds $T hbond)"
ok "crypto API as before (count $before)" test "$(engine_algs)" = "$before"
ip netns del $T

# --- Release and delete in varied orders while traffic flows.
for mode in aft alb; do
	ok "$mode: setup" setup $mode
	ok "$mode: traffic flows" traffic
	ok "$mode: release sim0 under traffic" ip -n $T link set sim0 nomaster
	ok "$mode: release v0 under traffic" ip -n $T link set v0 nomaster
	ok "$mode: re-enslave both" bash -c "ip -n $T link set v0 master hb0 && ip -n $T link set sim0 master hb0"
	ok "$mode: delete enslaved ipsecsim under traffic" ip -n $T link del sim0
	ok "$mode: sim0 left the team" bash -c "! ip -n $T link show sim0 2>/dev/null"
	ok "$mode: delete enslaved veth" ip -n $T link del v0
	ok "$mode: team has no slaves" test -z "$(link_names $T master hb0)"
	ok "$mode: delete the team" ip -n $T link del hb0
	stop_traffic
	ok "$mode: nothing left" nothing_left
done

# --- Delete the team first, then its slaves, with SAs programmed on sim0.
ok "team first: setup" setup aft
ok "team first: SAs offloaded to sim0" sa_on_sim0
ok "team first: traffic flows" traffic
ok "team first: delete the team under traffic" ip -n $T link del hb0
ok "team first: slaves released" test -z "$(master_of sim0 $T)$(master_of v0 $T)"
ok "team first: delete sim0 with offloaded SAs" ip -n $T link del sim0
ok "team first: SAs lost their offload" bash -c "! ip -n $T -s xfrm state | grep -q 'crypto offload'"
stop_traffic
ip -n $T xfrm state flush
ok "team first: nothing left" nothing_left

# --- Namespace deletion with everything in it.
ok "netns: setup" setup alb
ok "netns: traffic flows" traffic
stop_traffic
ok "netns: delete both namespaces" bash -c "ip netns del $T && ip netns del $P"
ok "netns: devices gone" wait_for 10 "[ -z \"\$(link_names '' type ipsecsim)\$(link_names '' type hbond)\" ]"

# --- rmmod ipsecsim while its device is a team's slave, then hbond.
ok "rmmod ipsecsim first: setup" setup aft
ok "rmmod ipsecsim first: SAs offloaded to sim0" sa_on_sim0
ok "rmmod ipsecsim first: traffic flows" traffic
ok "rmmod ipsecsim first: rmmod ipsecsim under traffic" rmmod ipsecsim
ok "rmmod ipsecsim first: sim0 is gone" bash -c "! ip -n $T link show sim0 2>/dev/null"
ok "rmmod ipsecsim first: v0 is the team's only slave" \
	test "$(link_names $T master hb0)" = v0
ok "rmmod ipsecsim first: no engine algorithm left" test "$(engine_algs)" = 0
ok "rmmod ipsecsim first: /proc/crypto readable" bash -c "cat /proc/crypto > /dev/null"
ok "rmmod ipsecsim first: team still passes traffic on v0" \
	wait_for 5 "ip netns exec $T ping -c 1 -W 1 192.0.2.2"
ok "rmmod ipsecsim first: rmmod hbond under traffic" rmmod hbond
stop_traffic
ip -n $T xfrm state flush
ok "rmmod ipsecsim first: nothing left" nothing_left

# --- rmmod hbond while the team has slaves, then ipsecsim.
ok "rmmod hbond first: setup" setup alb
ok "rmmod hbond first: traffic flows" traffic
ok "rmmod hbond first: rmmod hbond under traffic" rmmod hbond
ok "rmmod hbond first: slaves released" test -z "$(master_of sim0 $T)$(master_of v0 $T)"
ok "rmmod hbond first: rmmod ipsecsim with a live pair" rmmod ipsecsim
stop_traffic
ok "rmmod hbond first: nothing left" nothing_left
ok "rmmod hbond first: no engine algorithm left" test "$(engine_algs)" = 0
ok "rmmod hbond first: /proc/crypto readable" bash -c "cat /proc/crypto > /dev/null"

ok "modules loaded again" load_modules
cleanup
tap_done
