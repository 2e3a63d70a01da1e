#!/usr/bin/env bash
# ipsecsim error and limit paths: pktgen may not share one skb across
# transmissions, engine settings are bounded (sysfs and module parameters),
# a device with a very slow engine is deleted promptly, a receive the engine
# queue cannot take goes up undecrypted for software, and inline work keeps
# a share of the queue that crypto API users cannot take.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ipsecsim-lib.sh"
trap sim_cleanup EXIT

TOP=$(cd "$(dirname "$0")/../.." && pwd)
# -S: no site module (stdlib only; a faster start in the TCG guest).
AFALG="python3 -S $TOP/tools/afalg-aead.py"
SYS=/sys/class/net/sim0/ipsecsim

inA() { ip netns exec $A "$@"; }
sysr() { ns_cat $A "$SYS/$1"; }
sysw() { ns_write $A "$SYS/$1" "$2"; }
sysw_b() { ip netns exec $B bash -c "echo $2 > /sys/class/net/sim1/ipsecsim/$1"; }

# poll SECONDS 'CONDITION': until the shell condition holds (evaluated
# each time, in this shell: functions and the caller's variables work).
poll() {
	local deadline=$((SECONDS + $1 * HBOND_WAIT_SCALE)); shift
	until eval "$*" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		nap 0.1
	done
}

# received PING-OUTPUT: the number of replies ping reported.
received() { sed -n 's/.* \([0-9]*\) received.*/\1/p' <<< "$1"; }

ok "set up the pair in two namespaces" sim_setup

# --- pktgen: ipsecsim hands each skb to the peer, so it must not be reused
# for the next transmission (IFF_TX_SKB_SHARING off, as veth).
PG=/proc/net/pktgen
inA_pktgen_off() { inA bash -c "echo rem_device_all > $PG/kpktgend_0"; }
ok "load pktgen" modprobe pktgen
ok "pktgen takes sim0" inA bash -c "echo rem_device_all > $PG/kpktgend_0 && echo 'add_device sim0' > $PG/kpktgend_0 && test -e $PG/sim0"
ok "pktgen without clone_skb accepted" inA bash -c "echo 'clone_skb 0' > $PG/sim0"
fails_with "pktgen clone_skb refused on sim0" "Unknown error 524|not supported" inA bash -c "echo 'clone_skb 10' > $PG/sim0"
ok "release sim0 from pktgen" inA_pktgen_off
rmmod pktgen 2>/dev/null

# --- Engine settings: out-of-range input fails and changes nothing.
rate0=$(sysr engine_rate) depth0=$(sysr engine_depth)
fails_with "rate below 100 B/s refused" "Invalid argument" sysw engine_rate 99
fails_with "rate 1 B/s refused" "Invalid argument" sysw engine_rate 1
fails_with "rate above 100 GB/s refused" "Invalid argument" sysw engine_rate 100000000001
fails_with "negative rate refused" "Invalid argument" sysw engine_rate -5
fails_with "depth 0 refused" "Invalid argument" sysw engine_depth 0
fails_with "depth 1025 refused" "Invalid argument" sysw engine_depth 1025
ok "settings unchanged ($rate0/$depth0)" test "$(sysr engine_rate)/$(sysr engine_depth)" = "$rate0/$depth0"
ok "rate 100 GB/s accepted" sysw engine_rate 100000000000
ok "rate 100 B/s accepted" sysw engine_rate 100
ok "unlimited accepted" sysw engine_rate 0

# --- A very slow engine with work in progress: deleting the device does not
# wait for the engine's schedule (RTNL is held meanwhile).
ok "SAs, both ends offloaded" sim_sas 4 transport $KEY128 no yes
ok "traffic through both engines" sim_ping $A 192.0.2.2 2
slow_delete() {
	local start took
	sysw engine_rate 100 || return 1
	# Three 1400-byte pings: ~14 s of the engine's time each at 100 B/s,
	# 42 s in all (ping gives up on the replies after a second).
	inA ping -q -c 3 -i 0.2 -s 1400 -W 1 192.0.2.2
	poll 20 '[ "$(sysr engine_in_flight)" -ge 1 ]' || { echo "no work queued"; inA ethtool -S sim0; return 1; }
	start=$(date +%s%N)
	ip -n $A link del sim0 || return 1
	took=$((($(date +%s%N) - start) / 1000000))
	# Deleting an idle pair takes up to ~3 s in a loaded TCG guest, and
	# 3.5 times that on a slow CI machine; waiting for the engine would
	# take 28 s or more.
	echo "deletion took $took ms with up to 42 s of engine work left"
	[ "$took" -lt 20000 ]
}
ok "deleting a device with a slow engine's work in progress is prompt" slow_delete
ok "both ends gone" bash -c "! ip -n $A link show sim0 && ! ip -n $B link show sim1" 

# --- Receive when the engine queue is full: software decrypts instead.
ok "new pair" sim_setup
# sim0 decrypts inline; its replies are encrypted in software, so only the
# receive path meets the full queue.
ok "SAs, sim0 offloaded inbound only" sim_sas 4 transport $KEY128 no no no
ok "traffic B -> A" sim_ping $B 192.0.2.1 2
rx_before=$(stat sim0 $A ipsec_rx_packets)
queue_full_rx() {
	local err0 fb0 out n
	err0=$(stat sim0 $A ipsec_rx_errors)
	fb0=$(stat sim0 $A ipsec_rx_fallback)
	sysw engine_depth 2 && sysw fault_stall_ms 30000 || return 1
	# The first two requests wait in the stalled queue; the rest cannot
	# be queued.
	out=$(nsx $B ping -c 6 -i 0.3 -W 1 192.0.2.1)
	sysw fault_stall_ms 0
	n=$(received "$out")
	echo "$out"
	echo "replies: $n; rx_errors $err0 -> $(stat sim0 $A ipsec_rx_errors); fallback $fb0 -> $(stat sim0 $A ipsec_rx_fallback)"
	[ "$n" -ge 4 ] && [ "$(stat sim0 $A ipsec_rx_errors)" = "$err0" ] &&
		[ "$(stat sim0 $A ipsec_rx_fallback)" -ge $((fb0 + 4)) ]
}
ok "packets the full queue cannot take are decrypted in software" queue_full_rx
ok "the queued ones were decrypted inline after the stall" poll 5 '[ "$(stat sim0 $A ipsec_rx_packets)" -ge $((rx_before + 2)) ]'
ok "depth back to 256" sysw engine_depth 256

# --- Crypto API users cannot take the whole queue: inline receive keeps a
# share (depth 4: three for crypto API requests, the rest backlogged).
DRV="$(sysr engine)-rfc4106-gcm-aes"
inline_share() {
	local rx0 afalg rc=0
	sysw engine_depth 4 && sysw fault_stall_ms 120000 || return 1
	# Eight AF_ALG requests (they may backlog) wait in the stalled engine.
	inA $AFALG bench "$DRV" 2 16 8 > /tmp/ipsecsim-share.out 2>&1 &
	afalg=$!
	# (Python starts slowly in a loaded TCG guest.)
	poll 90 '[ "$(sysr engine_in_flight)" -ge 8 ]' || { echo "in flight: $(sysr engine_in_flight), stall left $(sysr fault_stall_ms) ms"; rc=1; }
	rx0=$(stat sim0 $A engine_rx_requests)
	nsx $B ping -q -c 3 -i 0.3 -W 1 192.0.2.1
	sysw fault_stall_ms 0
	wait $afalg || rc=1
	[ $rc = 0 ] || cat /tmp/ipsecsim-share.out
	poll 5 '[ "$(stat sim0 $A engine_rx_requests)" -gt "$rx0" ]' || rc=1
	echo "inline receive requests: $rx0 -> $(stat sim0 $A engine_rx_requests)"
	return $rc
}
ok "inline receive gets an engine slot while AF_ALG requests fill the queue" inline_share
ok "depth back to 256" sysw engine_depth 256
ok "traffic after the stall" sim_ping $B 192.0.2.1 2

# --- Module parameters: out of range refuses the load.
sim_cleanup
ok "unload ipsecsim" rmmod ipsecsim
# insmod_with PARAM: loads the module with PARAM, and if that worked
# unloads it again (for fails_with: the load must fail).
insmod_with() {
	insmod "$TOP/ipsecsim.ko" "$1" || return 1
	rmmod ipsecsim
}
fails_with "engine_rate=1 refused" "Invalid" insmod_with engine_rate=1
fails_with "engine_rate above 100 GB/s refused" "Invalid" insmod_with engine_rate=200000000000
fails_with "engine_depth=0 refused" "Invalid" insmod_with engine_depth=0
fails_with "engine_depth=5000 refused" "Invalid" insmod_with engine_depth=5000
ok "the kernel log names the range" bash -c "dmesg | grep -q 'engine_rate must be 0 (unlimited) or 100..=100000000000'"
ok "in-range parameters accepted" insmod "$TOP/ipsecsim.ko" engine_rate=100 engine_depth=1024
ok "unload" rmmod ipsecsim
ok "reload with defaults" insmod "$TOP/ipsecsim.ko"

tap_done
