#!/usr/bin/env bash
# AFT: failover on carrier loss, failback per primary_reselect, manual
# active_slave, up/down delays, gratuitous ARP after failover.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-topology.sh"
trap topology_cleanup EXIT

ok "topology: aft team with two slaves" team_topology aft 2
ok "first slave is active" test "$(hbond_opt active_slave)" = s1
ok "slave states in sysfs" test "$(slave_attr s1 state)/$(slave_attr s2 state)" = active/backup

# Failover while pinging every 10 ms; the loss bounds the traffic gap.
tmp=$(mktemp)
lost_pings 400 0.01 > "$tmp" &
pinger=$!
ip netns exec "$B" timeout 20 tcpdump --immediate-mode -U -n -i p2 -w "$tmp.pcap" arp 2> "$tmp.log" &
dump=$!
# Start the failover only once the capture runs.
wait_for 10 "grep -q 'listening on' $tmp.log"
sleep 1
ip -n "$B" link set p1 down
wait "$pinger"
lost=$(cat "$tmp")
echo "# pings lost during failover: $lost (10 ms interval)"
ok "traffic resumes after failover (lost $lost of 400 pings)" test "${lost:-400}" -le 20
ok "second slave took over" test "$(hbond_opt active_slave)" = s2
ok "failed slave's link is fail" test "$(slave_attr s1 link)" = fail
ok "failure counted" test "$(slave_attr s1 link_failure_count)" = 1
sleep 1
kill "$dump" 2>/dev/null
wait "$dump"
ok "gratuitous ARP sent on the new active slave" \
	bash -c "tcpdump -n -r $tmp.pcap 2>/dev/null | grep -q 'who-has 192.0.2.1 tell 192.0.2.1'"
rm -f "$tmp" "$tmp.pcap" "$tmp.log"

ok "set primary s1" hbond_set primary s1
ok "primary reads back" test "$(hbond_opt primary)" = s1
ip -n "$B" link set p1 up
ok "reselect always: primary takes over when back" wait_for 5 "test \$(hbond_opt active_slave) = s1"

ok "set primary_reselect failure" hbond_set primary_reselect failure
ip -n "$B" link set p1 down
ok "failover to s2" wait_for 5 "test \$(hbond_opt active_slave) = s2"
ip -n "$B" link set p1 up
sleep 1
ok "reselect failure: primary back but s2 stays" test "$(hbond_opt active_slave)" = s2
ok "set primary_reselect better" hbond_set primary_reselect better
ok "reselect better: equal speed, s2 stays" test "$(hbond_opt active_slave)" = s2
ok "manual active_slave s1" hbond_set active_slave s1
ok "s1 is active" test "$(hbond_opt active_slave)" = s1
ok "ping after manual switch" nsx "$A" ping -c 2 -i 0.2 -W 1 192.0.2.2
fails_with "unknown active_slave refused" "Invalid argument" hbond_set active_slave lo
ok "refusal changed nothing" test "$(hbond_opt active_slave)" = s1

# Delays long enough for the slow (emulated) guest to look in between.
ok "set downdelay 4000" hbond_set downdelay 4000
ip -n "$B" link set p1 down
ok "within downdelay the slave is going_down and still active" \
	test "$(slave_attr s1 link)/$(hbond_opt active_slave)" = going_down/s1
ok "after downdelay it fails over" wait_for 8 "test \$(hbond_opt active_slave) = s2"
ok "set updelay 4000" hbond_set updelay 4000
ip -n "$B" link set p1 up
ok "within updelay the slave is going_up" test "$(slave_attr s1 link)" = going_up
ok "after updelay it is up" wait_for 8 "test \$(slave_attr s1 link) = up"

ok "miimon 50 accepted" hbond_set miimon 50
fails_with "miimon out of range refused" "Invalid argument" hbond_set miimon 999999
ok "refused value changed nothing" test "$(hbond_opt miimon)" = 50
fails_with "mode change with slaves refused" "Invalid argument" hbond_set mode alb
ok "mode unchanged" test "$(hbond_opt mode)" = aft
tap_done
