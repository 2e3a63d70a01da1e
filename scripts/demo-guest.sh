#!/usr/bin/env bash
# make run, inside the guest: a heterogeneous team against a plain software
# IPsec peer.
#
#   netns "host"                              netns "peer"
#   hb0 (hbond aft, 192.0.2.1) ─┬─ sim0 ═══ sim1 ─┬─ br0 (192.0.2.2,
#     SAs "offload dev hb0"     │  (ipsecsim:      │   software IPsec;
#                               │   inline ESP +   │   the bridge stands
#                               │   crypto engine) │   in for a switch)
#                               └─ veth0 ── veth1 ─┘
#                                  (no engine)
#
# Ping and a TCP transfer with sim0 active (inline ESP), a failover to
# veth0 (sim0's link down: its engine still serves, through the crypto
# API), the same traffic again; captures where the peer receives; hb0's
# counters say where each packet was encrypted and decrypted.
set -euo pipefail
H=host P=peer
IP_LIB_DIR=$(cd "$(dirname "$0")/.." && pwd)/tools/iproute2
export IP_LIB_DIR
ip netns add $H; ip netns add $P
trap 'kill $(jobs -p) 2>/dev/null || true; ip netns del $H; ip netns del $P' EXIT
key() { echo "0x$(od -An -v -tx1 -N 20 /dev/urandom | tr -d ' \n')"; }

ip -n $H -batch - <<EOF
link set lo up
link add hb0 type hbond mode aft miimon 50
link add sim0 type ipsecsim peer name sim1 netns $P
link add veth0 type veth peer name veth1 netns $P
link set sim0 master hb0
link set veth0 master hb0
addr add 192.0.2.1/24 dev hb0
link set hb0 up
EOF
ip -n $P -batch - <<EOF
link set lo up
link add br0 address 02:00:00:00:b0:99 type bridge
link set sim1 master br0
link set veth1 master br0
addr add 192.0.2.2/24 dev br0
link set sim1 up
link set veth1 up
link set br0 up
EOF
# sim0 active once its link is up (sim1 up on the peer).
for _ in $(seq 100); do
	[ "$(ip netns exec $H cat /sys/class/net/sim0/hbond_slave/link)" = up ] && break
	sleep 0.1
done
ip -n $H link set hb0 type hbond active_slave sim0
kab=$(key) kba=$(key)
ip -n $H -batch - <<EOF
xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x9901 reqid 1 mode transport aead rfc4106(gcm(aes)) $kab 128 offload dev hb0 dir out
xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x9902 reqid 2 mode transport replay-window 64 aead rfc4106(gcm(aes)) $kba 128 offload dev hb0 dir in
xfrm policy add src 192.0.2.1 dst 192.0.2.2 dir out tmpl src 192.0.2.1 dst 192.0.2.2 proto esp reqid 1 mode transport
xfrm policy add src 192.0.2.2 dst 192.0.2.1 dir in tmpl src 192.0.2.2 dst 192.0.2.1 proto esp reqid 2 mode transport
EOF
ip -n $P -batch - <<EOF
xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x9901 reqid 1 mode transport replay-window 64 aead rfc4106(gcm(aes)) $kab 128
xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x9902 reqid 2 mode transport aead rfc4106(gcm(aes)) $kba 128
xfrm policy add src 192.0.2.2 dst 192.0.2.1 dir out tmpl src 192.0.2.2 dst 192.0.2.1 proto esp reqid 2 mode transport
xfrm policy add src 192.0.2.1 dst 192.0.2.2 dir in tmpl src 192.0.2.1 dst 192.0.2.2 proto esp reqid 1 mode transport
EOF

in_h() { ip netns exec $H "$@"; }
slave() { in_h cat "/sys/class/net/$1/hbond_slave/$2"; }
declare -A last
# counters TITLE: hb0's ESP counters (ethtool -S), what grew since the last
# call, as a table: where each packet was encrypted (tx) and decrypted (rx).
counters() {
	local name value dir path
	declare -A now
	while read -r name value; do now[${name%:}]=$value; done < <(in_h ethtool -S hb0)
	echo "  $1"
	printf '    %-9s %10s %10s %10s %10s\n' "" inline engine host dropped
	for dir in tx rx; do
		local row=()
		for path in inline engine host dropped; do
			name=${dir}_esp_${path}_packets
			row+=($((${now[$name]:-0} - ${last[$name]:-0})))
			last[$name]=${now[$name]:-0}
		done
		printf '    %-9s %10s %10s %10s %10s\n' "$([ $dir = tx ] && echo encrypt || echo decrypt)" "${row[@]}"
	done
}
# capture PORT...: tcpdump where the peer receives, until stop_capture.
capture() {
	CAPS=()
	local p
	for p; do
		ip netns exec $P timeout 60 tcpdump --immediate-mode -U -n -Q in -i "$p" -w "/tmp/demo-$p.pcap" 2>"/tmp/demo-$p.log" &
		CAPS+=("$p:$!")
	done
	for p; do
		for _ in $(seq 100); do grep -q listening "/tmp/demo-$p.log" && break; sleep 0.1; done
	done
}
stop_capture() {
	local c p esp clear
	sleep 0.5
	for c in "${CAPS[@]}"; do kill -INT "${c#*:}" 2>/dev/null || true; wait "${c#*:}" 2>/dev/null || true; done
	for c in "${CAPS[@]}"; do
		p=${c%%:*}
		esp=$(tcpdump -r "/tmp/demo-$p.pcap" -n 'esp and src 192.0.2.1' 2>/dev/null | wc -l)
		clear=$(tcpdump -r "/tmp/demo-$p.pcap" -n 'ip and src 192.0.2.1 and dst 192.0.2.2 and not esp' 2>/dev/null | wc -l)
		printf '  captured on the peer'"'"'s %-6s %5s ESP packets from hb0, %s in clear\n' "$p:" "$esp" "$clear"
	done
}
traffic() {
	local sum_out sum_in
	head -c 300000 /dev/urandom > /tmp/demo.src
	in_h ping -q -c 5 -i 0.2 -W 2 192.0.2.2 | sed -n 's/^/  ping: /; /packets transmitted/p'
	rm -f /tmp/demo.dst
	ip netns exec $P timeout 60 socat -u TCP4-LISTEN:5201,reuseaddr CREATE:/tmp/demo.dst &
	local srv=$! rc=0
	in_h timeout 50 socat -u OPEN:/tmp/demo.src TCP4:192.0.2.2:5201,retry=200,interval=0.1 || rc=$?
	wait $srv || rc=$?
	sum_out=$(sha256sum < /tmp/demo.src) sum_in=$(sha256sum < /tmp/demo.dst 2>/dev/null || true)
	if [ "$rc" = 0 ] && [ "$sum_out" = "$sum_in" ]; then
		echo "  TCP: 300 kB hb0 -> peer, received intact (sha256 equal)"
	else
		echo "  TCP: 300 kB hb0 -> peer FAILED (exit $rc, $(stat -c %s /tmp/demo.dst 2>/dev/null || echo 0) bytes received)"
	fi
}

echo
echo "== the team: hb0 (AFT) over sim0 and veth0"
for s in sim0 veth0; do
	printf '  %-6s %-7s inline ESP %s, crypto engine %s\n' "$s" "$(slave $s state)" \
		"$([ "$(slave $s inline_esp)" = 1 ] && echo yes || echo no)" "$(slave $s engine)"
done
echo "  hb0: $(in_h ethtool -k hb0 | grep '^esp-hw-offload')"
for spi in 0x9901 0x9902; do
	ip -n $H -s xfrm state list spi $spi | grep -A1 'crypto offload parameters' | grep -q 'dev hb0' &&
		echo "  SA $spi offloaded to hb0 (the peer does its ESP in software)"
done
counters "(start)" > /dev/null

echo "== sim0 active: its inline engine does the ESP"
capture sim1 veth1
traffic
stop_capture
counters "hb0's ESP packets (ethtool -S hb0):"

echo "== failover: sim0's link goes down (sim1 down on the peer)"
ip -n $P link set sim1 down
for _ in $(seq 50); do [ "$(slave veth0 state)" = active ] && break; sleep 0.1; done
echo "  active slave now: $(in_h cat /sys/class/net/hb0/hbond/active_slave); sim0 link $(slave sim0 link), still an engine"
echo "== veth0 active: sim0's engine does veth0's ESP through the crypto API"
capture veth1
traffic
stop_capture
counters "hb0's ESP packets (ethtool -S hb0):"
echo "  sim0's engine: $(in_h ethtool -S sim0 | awk '$1 == "engine_external_requests:" { print $2 }') requests from crypto API users (hb0's lookaside)"
echo
echo "More: ip -s xfrm state (per SA), ethtool -S hb0 / sim0, /sys/class/net/*/hbond_slave/,"
echo "Documentation/hbond.rst. Tests: make test."
