#!/usr/bin/env bash
# Team benchmark: TCP throughput and AFT failover gap through hbond and
# through the kernel's bonding (active-backup, miimon 10 ms) on the same
# topology, in one guest boot. Prints the measurements and hbond/bonding
# ratios.
#
# Reproduce:  scripts/guest.sh -- bash tools/bench-team.sh
#
# Topology: netns A: team (hbond or bond) over two veths; netns B: a bond in
# broadcast mode over the peers (receives on both links, like a switch).
set -u
A=bench-a B=bench-b
DURATION=${DURATION:-5}
PING_INTERVAL=${PING_INTERVAL:-0.002}
PINGS=${PINGS:-1500}

cleanup() { ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; pkill -x iperf3 2>/dev/null; true; }
trap cleanup EXIT
modprobe bonding max_bonds=0

setup() { # setup hbond|bond
	cleanup
	ip netns add $A; ip netns add $B
	if [ "$1" = hbond ]; then
		ip -n $A link add team0 type hbond
	else
		ip -n $A link add team0 type bond mode active-backup miimon 10
	fi
	ip -n $B link add bond0 type bond mode broadcast
	for i in 1 2; do
		ip -n $A link add s$i type veth peer name p$i netns $B
		ip -n $B link set p$i master bond0
		ip -n $A link set s$i master team0
		ip -n $B link set p$i up
	done
	ip -n $A addr add 192.0.2.1/24 dev team0
	ip -n $B addr add 192.0.2.2/24 dev bond0
	ip -n $A link set team0 up; ip -n $B link set bond0 up
	for _ in $(seq 50); do ip netns exec $A ping -c1 -W1 192.0.2.2 >/dev/null 2>&1 && return 0; sleep 0.2; done
	echo "bench: $1 topology does not pass traffic" >&2
	return 1
}

throughput() { # prints Mbit/s
	ip netns exec $B iperf3 -s -1 -D >/dev/null 2>&1; sleep 0.5
	ip netns exec $A iperf3 -c 192.0.2.2 -t "$DURATION" -J 2>/dev/null |
		jq '.end.sum_received.bits_per_second / 1e6 | floor'
}

gap_ms() { # pings every PING_INTERVAL s, drops the active link's carrier; prints the gap in ms
	local out active
	if ip netns exec $A test -r /sys/class/net/team0/hbond/active_slave; then
		active=$(ip netns exec $A cat /sys/class/net/team0/hbond/active_slave)
	else
		active=$(ip netns exec $A cat /sys/class/net/team0/bonding/active_slave)
	fi
	out=$(mktemp)
	ip netns exec $A ping -q -n -c "$PINGS" -i "$PING_INTERVAL" -W 1 192.0.2.2 > "$out" 2>&1 &
	local pinger=$!
	sleep 1
	ip -n $B link set "p${active#s}" down
	wait $pinger
	sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\1 \2/p' "$out" |
		awk -v i="$PING_INTERVAL" '{ printf "%.1f\n", ($1 - $2) * i * 1000 }'
	rm -f "$out"
}

declare -A tput gap
for kind in hbond bond; do
	setup $kind || exit 1
	tput[$kind]=$(throughput)
	gap[$kind]=$(gap_ms)
done
cleanup

echo "== team benchmark ($(nproc) vCPU guest, veth links, ${DURATION}s iperf3, pings every ${PING_INTERVAL}s)"
printf '%-10s %12s %18s\n' driver "TCP Mbit/s" "failover gap ms"
for kind in hbond bond; do
	printf '%-10s %12s %18s\n' "$kind" "${tput[$kind]}" "${gap[$kind]}"
done
awk -v h="${tput[hbond]}" -v b="${tput[bond]}" 'BEGIN { if (b > 0) printf "throughput hbond/bonding: %.2f\n", h / b }'
awk -v h="${gap[hbond]}" -v b="${gap[bond]}" 'BEGIN { printf "failover gap hbond/bonding: %s\n", (b > 0 ? sprintf("%.2f", h / b) : "n/a (bonding lost nothing)") }'
