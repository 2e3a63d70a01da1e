#!/usr/bin/env bash
# ESP benchmark of the team (issue 9): TCP throughput through hb0, in one
# guest boot, for three ways of doing the ESP of the same traffic:
#
#   lookaside  veth0 (no engine) active, SAs offloaded to hb0: sim0's engine
#              (rate unlimited) encrypts and decrypts through the crypto API
#   software   veth0 active, the same SAs in plain host software
#   inline     sim0 active, SAs offloaded to hb0: sim0 encrypts inline
#
# and, for the lookaside run, the share of the ESP bytes of hb0's SAs that
# engines did (target 100 %; the rest went to host software). The peer runs
# plain software IPsec behind a bridge. Under TCG every path computes on
# the same emulated CPU: the ratios show the path's own overhead.
#
# Reproduce:  scripts/guest.sh -- bash tools/bench-esp.sh
#             SECS=8 STREAMS=1 (defaults)
set -u
SECS=${SECS:-8}
STREAMS=${STREAMS:-1}
A=bench-a B=bench-b
# iproute2's plugins for hbond and ipsecsim (make tools).
IP_LIB_DIR=$(cd "$(dirname "$0")" && pwd)/iproute2
export IP_LIB_DIR
cleanup() { ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; true; }
trap cleanup EXIT
cleanup
key() { echo "0x$(od -An -v -tx1 -N 20 /dev/urandom | tr -d ' \n')"; }

ip netns add $A && ip netns add $B || exit 1
ip -n $A -batch - <<EOF || exit 1
link set lo up
link add sim0 type ipsecsim peer name sim1 netns $B
link add veth0 type veth peer name veth1 netns $B
link add hb0 type hbond mode aft miimon 50
link set veth0 master hb0
link set sim0 master hb0
addr add 192.0.2.1/24 dev hb0
link set hb0 up
EOF
ip -n $B -batch - <<EOF || exit 1
link set lo up
link add br0 address 02:00:00:00:b0:98 type bridge
link set sim1 master br0
link set veth1 master br0
addr add 192.0.2.2/24 dev br0
link set sim1 up
link set veth1 up
link set br0 up
EOF
ip netns exec $A sh -c 'echo 0 > /sys/class/net/sim0/ipsecsim/engine_rate' || exit 1

# sas OFFLOAD: fresh SAs on both ends; A's offloaded to hb0 if OFFLOAD=yes.
sas() {
	local kab kba off_out="" off_in=""
	kab=$(key) kba=$(key)
	[ "$1" = yes ] && off_out="offload dev hb0 dir out" off_in="offload dev hb0 dir in"
	ip -n $A -batch - <<-EOF || return 1
	xfrm state flush
	xfrm policy flush
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x9801 reqid 1 mode transport aead rfc4106(gcm(aes)) $kab 128 $off_out
	xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x9802 reqid 2 mode transport replay-window 64 aead rfc4106(gcm(aes)) $kba 128 $off_in
	xfrm policy add src 192.0.2.1 dst 192.0.2.2 dir out tmpl src 192.0.2.1 dst 192.0.2.2 proto esp reqid 1 mode transport
	xfrm policy add src 192.0.2.2 dst 192.0.2.1 dir in tmpl src 192.0.2.2 dst 192.0.2.1 proto esp reqid 2 mode transport
	EOF
	ip -n $B -batch - <<-EOF
	xfrm state flush
	xfrm policy flush
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x9801 reqid 1 mode transport replay-window 64 aead rfc4106(gcm(aes)) $kab 128
	xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x9802 reqid 2 mode transport aead rfc4106(gcm(aes)) $kba 128
	xfrm policy add src 192.0.2.2 dst 192.0.2.1 dir out tmpl src 192.0.2.2 dst 192.0.2.1 proto esp reqid 2 mode transport
	xfrm policy add src 192.0.2.1 dst 192.0.2.2 dir in tmpl src 192.0.2.1 dst 192.0.2.2 proto esp reqid 1 mode transport
	EOF
}

# esp_bytes: hb0's ESP byte counters (ethtool -S), "name value" lines.
esp_bytes() { ip netns exec $A ethtool -S hb0 | awk '$1 ~ /^(tx|rx)_esp_(inline|engine|host|dropped)_bytes:$/ { sub(":", "", $1); print $1, $2 }'; }

# run NAME ACTIVE OFFLOAD: iperf3 hb0 -> peer for SECS; prints bits/s.
run() {
	local name=$1 active=$2 off=$3 bps
	ip -n $A link set hb0 type hbond active_slave "$active" || return 1
	sas "$off" || return 1
	for _ in $(seq 50); do ip netns exec $A ping -c 1 -W 1 192.0.2.2 > /dev/null 2>&1 && break; done
	ip netns exec $B iperf3 -s -D -1 > /dev/null 2>&1
	for _ in $(seq 100); do ip netns exec $B ss -Hltn 'sport = :5201' | grep -q LISTEN && break; sleep 0.1; done
	bps=$(ip netns exec $A iperf3 -c 192.0.2.2 -t "$SECS" -P "$STREAMS" -J |
		python3 -c 'import json, sys; print(int(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"]))') ||
		{ echo "$name: iperf3 failed" >&2; return 1; }
	echo "$bps"
}

declare -A before after
while read -r n v; do before[$n]=$v; done < <(esp_bytes)
look=$(run lookaside veth0 yes) || exit 1
while read -r n v; do after[$n]=$v; done < <(esp_bytes)
soft=$(run software veth0 no) || exit 1
inl=$(run inline sim0 yes) || exit 1

delta() { echo $((${after[$1]} - ${before[$1]})); }
share() { # share DIR: engine bytes / all bytes of that direction, percent
	local e h d
	e=$(delta "$1_esp_engine_bytes") h=$(delta "$1_esp_host_bytes") d=$(delta "$1_esp_dropped_bytes")
	[ $((e + h + d)) -gt 0 ] || { echo "n/a"; return; }
	echo "scale=1; 100 * $e / ($e + $h + $d)" | bc
}
mbit() { echo "scale=1; $1 / 1000000" | bc; }
echo "TCP hb0 -> peer, $SECS s, $STREAMS stream(s), through hb0 (AFT) over sim0 + veth0:"
printf '  %-34s %10s Mbit/s\n' "veth0 active, lookaside on sim0's engine" "$(mbit "$look")"
printf '  %-34s %10s Mbit/s\n' "veth0 active, host software ESP" "$(mbit "$soft")"
printf '  %-34s %10s Mbit/s\n' "sim0 active, inline" "$(mbit "$inl")"
echo "  lookaside / software: $(echo "scale=2; $look / $soft" | bc)   lookaside / inline: $(echo "scale=2; $look / $inl" | bc)"
echo "  ESP bytes of the lookaside run done on engines: transmit $(share tx) %, receive $(share rx) %"
echo "Reproduce: scripts/guest.sh -- bash tools/bench-esp.sh   (SECS=$SECS STREAMS=$STREAMS)"
