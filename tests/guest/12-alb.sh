#!/usr/bin/env bash
# ALB: many flows use every slave, one flow sticks to one slave, the receive
# slave fails over.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-topology.sh"
trap 'kill $server 2>/dev/null; topology_cleanup' EXIT

ok "topology: alb team with three slaves" team_topology alb 3
ok "mode reads alb" test "$(hbond_opt mode)" = alb
ip netns exec "$B" iperf3 -s -D -1 >/dev/null 2>&1
server=$(pgrep -n iperf3)
sleep 0.5

tx() { slave_attr "$1" tx_bytes; }
before=($(tx s1) $(tx s2) $(tx s3))
ip netns exec "$A" iperf3 -c 192.0.2.2 -P 16 -t 3 >/dev/null 2>&1
after=($(tx s1) $(tx s2) $(tx s3))
for i in 0 1 2; do
	d=$((after[i] - before[i]))
	echo "# s$((i + 1)) sent $d bytes with 16 flows"
	ok "16 flows: s$((i + 1)) carries traffic" test "$d" -gt 100000
done

ip netns exec "$B" iperf3 -s -D -1 >/dev/null 2>&1
sleep 0.5
before=($(tx s1) $(tx s2) $(tx s3))
ip netns exec "$A" iperf3 -c 192.0.2.2 -P 1 -t 3 >/dev/null 2>&1
after=($(tx s1) $(tx s2) $(tx s3))
total=0 max=0
for i in 0 1 2; do
	d=$((after[i] - before[i]))
	echo "# s$((i + 1)) sent $d bytes with 1 flow"
	total=$((total + d)); [ "$d" -gt "$max" ] && max=$d
done
ok "one flow sticks to one slave (max $max of $total bytes)" test $((max * 100)) -ge $((total * 98))

rx=$(hbond_opt active_slave)
ok "a receive slave is chosen" test -n "$rx"
ok "team address moved to the receive slave" \
	test "$(ip -n "$A" -j link show "$rx" | jq -r '.[0].address')" = "$(ip -n "$A" -j link show hb0 | jq -r '.[0].address')"
peer=p${rx#s}
ip -n "$B" link set "$peer" down
ok "receive slave fails over" wait_for 5 "test \$(ip netns exec $A cat /sys/class/net/hb0/hbond/active_slave) != $rx"
ok "ping after receive failover" wait_for 5 "ip netns exec $A ping -c 1 -W 1 192.0.2.2"
addrs=$(for s in s1 s2 s3; do ip -n "$A" -j link show $s | jq -r '.[0].address'; done | sort | uniq -d)
ok "slave addresses stay unique" test -z "$addrs"
tap_done
