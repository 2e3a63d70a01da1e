#!/usr/bin/env bash
# The team's ESP offload in ALB, with an engine lent by name, and taken
# apart under traffic (issue 9).
#  - ALB hb0 over veth0 and sim0: the flows inside one SA spread over both
#    slaves by inner flow; those on sim0 (the SAs' home) go out inline,
#    those on veth0 through sim0's engine; the same for an IPv6 tunnel SA
#    pair with ESN (what arrives on veth0 is decrypted on sim0's engine,
#    the high sequence bits taken from the replay window). With sim0's
#    engine set to none,
#    no request reaches it: veth0's flows go inline on sim0 instead.
#  - hb0 over veth0 alone, veth0's `engine` naming sim0's engine (sim0 not a
#    slave): the team offloads; `engine none` withdraws the offload (logged
#    once, traffic on in host software), naming the engine again brings it
#    back and new SAs offload.
#  - ip xfrm state flush, ip link del hb0 and rmmod hbond while ESP flows:
#    captures where the peer receives, on both wires, show only ESP.
# Reloads hbond (KUnit does not run again: scripts/guest-init.sh).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ipsecsim-lib.sh"
A=hbt-alb-a B=hbt-alb-b
. "$(dirname "$0")/hbond-esp-lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)

# up: addresses, hb0 up, the peer answers.
up() {
	ip -n $A addr add 192.0.2.1/24 dev hb0 && ip -n $A link set hb0 up &&
		wait_for 10 "nsx $A ping -c 1 -W 1 192.0.2.2"
}

# spread WANT: 16 TCP flows of one SA pair (iperf3, its exit status
# checked) and pattern pings, captured where B receives on both wires
# (only_esp_on WANT).
spread() {
	local c1 c2 p1 p2 rc=0
	c1=$(mktemp --suffix .pcap) c2=$(mktemp --suffix .pcap)
	sim_capture $B sim1 "$c1"; p1=$SIM_CAPTURE_PID
	sim_capture $B veth1 "$c2"; p2=$SIM_CAPTURE_PID
	ip netns exec $B iperf3 -s -D -1 > /dev/null 2>&1
	wait_for 20 "ip netns exec $B ss -Hltn 'sport = :5201' | grep -q LISTEN" || rc=1
	ip netns exec $A iperf3 -c 192.0.2.2 -P 16 -t 3 > /dev/null || { echo "iperf3 failed"; rc=1; }
	sim_ping_pattern $A 192.0.2.2 5 > /dev/null || { echo "pings failed"; rc=1; }
	SIM_CAPTURE_PID=$p1 sim_capture_stop
	SIM_CAPTURE_PID=$p2 sim_capture_stop
	only_esp_on "$1" "$c1" "$c2" || rc=1
	rm -f "$c1" "$c1.log" "$c2" "$c2.log"
	return $rc
}

# snap ARRAY: hb0's ESP counters and sim0's inline and engine counters.
snap() {
	local -n s=$1
	counters s
	read -r "s[sim_tx]" "s[sim_engine]" < <(stats sim0 $A ipsec_tx_packets engine_external_requests)
}

# --- ALB: the flows of one SA over both slaves.
ok "ALB hb0 over veth0, the peer behind a bridge" setup alb
ok "enslave sim0" ip -n $A link set sim0 master hb0
ok "hb0 up, the peer answers" up
ok "SAs offloaded to hb0, software on the peer" sas
ok "outbound SA offloaded to hb0" offloaded_to_hb0 0x2501
declare -A s0 s1
snap s0
ok "ALB: 16 flows of one SA: only ESP arrived on sim1 and on veth1" spread all
snap s1
for n in "${!s0[@]}"; do echo "# ALB: $n ${s0[$n]} -> ${s1[$n]}"; done
ok "ALB: the flows on sim0 went out inline" test "${s1[sim_tx]}" -gt "${s0[sim_tx]}"
ok "ALB: hb0 counts them as inline" test "${s1[tx_esp_inline_packets]}" -gt "${s0[tx_esp_inline_packets]}"
ok "ALB: the flows on veth0 went through sim0's engine" test "${s1[tx_esp_engine_packets]}" -gt "${s0[tx_esp_engine_packets]}"
ok "ALB: sim0's engine took hb0's requests" test "${s1[sim_engine]}" -gt "${s0[sim_engine]}"
ok "ALB: no transmit ESP in host software, none dropped" bash -c "
	test ${s1[tx_esp_host_packets]} = ${s0[tx_esp_host_packets]} && test ${s1[tx_esp_dropped_packets]} = ${s0[tx_esp_dropped_packets]}"
ok "ALB: TCP hb0 -> peer, content compared" sim_tcp $B 192.0.2.2 $A 100000
ok "ALB: TCP peer -> hb0, content compared" sim_tcp $A 192.0.2.1 $B 100000

# --- IPv6 tunnel mode with ESN, ALB over both slaves (beside the IPv4
# transport SAs): the inner flows of the tunnel spread; what arrives on
# veth0 (the receive slave) is decrypted on sim0's engine, the high
# sequence bits found from the replay window.
v6_tunnel() {
	local kab kba
	kab=$(sim_key "$KEY256") kba=$(sim_key "$KEY256")
	ip -n $A -batch - <<-EOF || return 1
	addr add 2001:db8::1/64 dev hb0 nodad
	addr add 2001:db8:1::1/128 dev lo nodad
	route add 2001:db8:1::2/128 via 2001:db8::2 src 2001:db8:1::1
	xfrm state add src 2001:db8::1 dst 2001:db8::2 proto esp spi 0x2611 reqid 11 mode tunnel flag esn replay-window 128 aead rfc4106(gcm(aes)) $kab 128 offload dev hb0 dir out
	xfrm state add src 2001:db8::2 dst 2001:db8::1 proto esp spi 0x2612 reqid 12 mode tunnel flag esn replay-window 128 aead rfc4106(gcm(aes)) $kba 128 offload dev hb0 dir in
	xfrm policy add src 2001:db8:1::1 dst 2001:db8:1::2 dir out tmpl src 2001:db8::1 dst 2001:db8::2 proto esp reqid 11 mode tunnel
	xfrm policy add src 2001:db8:1::2 dst 2001:db8:1::1 dir in tmpl src 2001:db8::2 dst 2001:db8::1 proto esp reqid 12 mode tunnel
	EOF
	ip -n $B -batch - <<-EOF
	addr add 2001:db8::2/64 dev br0 nodad
	addr add 2001:db8:1::2/128 dev lo nodad
	route add 2001:db8:1::1/128 via 2001:db8::1 src 2001:db8:1::2
	xfrm state add src 2001:db8::1 dst 2001:db8::2 proto esp spi 0x2611 reqid 11 mode tunnel flag esn replay-window 128 aead rfc4106(gcm(aes)) $kab 128
	xfrm state add src 2001:db8::2 dst 2001:db8::1 proto esp spi 0x2612 reqid 12 mode tunnel flag esn replay-window 128 aead rfc4106(gcm(aes)) $kba 128
	xfrm policy add src 2001:db8:1::2 dst 2001:db8:1::1 dir out tmpl src 2001:db8::2 dst 2001:db8::1 proto esp reqid 12 mode tunnel
	xfrm policy add src 2001:db8:1::1 dst 2001:db8:1::2 dir in tmpl src 2001:db8::1 dst 2001:db8::2 proto esp reqid 11 mode tunnel
	EOF
}
v6_offloaded() {
	v6_tunnel && offloaded_to_hb0 0x2611 && offloaded_to_hb0 0x2612
}
ok "IPv6 tunnel SAs with ESN offloaded to hb0" v6_offloaded
declare -A t0 t1
snap t0
ok "IPv6: kprobes on esp6_output_tail and esp6_input" kp_on
kp_clear
v6_traffic() {
	local c1 c2 p1 p2 rc=0 c
	c1=$(mktemp --suffix .pcap) c2=$(mktemp --suffix .pcap)
	sim_capture $B sim1 "$c1"; p1=$SIM_CAPTURE_PID
	sim_capture $B veth1 "$c2"; p2=$SIM_CAPTURE_PID
	nsx $A ping -q -c 5 -i 0.2 -W 2 -s 120 -p "$SIM_PATTERN" 2001:db8:1::2 || { echo "ping failed"; rc=1; }
	sim_tcp $B 2001:db8:1::2 $A 100000 || rc=1
	sim_tcp $A 2001:db8:1::1 $B 100000 || rc=1
	SIM_CAPTURE_PID=$p1 sim_capture_stop
	SIM_CAPTURE_PID=$p2 sim_capture_stop
	for c in "$c1" "$c2"; do
		if [ "$(tcpdump -r "$c" -n esp 2>/dev/null | wc -l)" -gt 0 ]; then
			sim_only_esp "$c" 2001:db8:1::1 2001:db8:1::2 tunnel || rc=1
		fi
	done
	rm -f "$c1" "$c1.log" "$c2" "$c2.log"
	return $rc
}
ok "IPv6 tunnel, ESN: ping and TCP both ways (content compared), only ESP where B receives" v6_traffic
read -r n_out m_out n_in m_in < <(sw_esp)
echo "# v6 tunnel ESN: software ESP: encrypted in $n_out namespaces (fewest $m_out packets), decrypted in $n_in (fewest $m_in)"
# B does its ESP in software (its namespace is there, 60 packets or more
# each way); A's would be a second namespace.
ok "IPv6 tunnel, ESN: no software ESP on A (kprobes: only B's namespace)" test "$n_out $n_in" = "1 1" -a "$m_out" -ge 60 -a "$m_in" -ge 60
snap t1
for n in "${!t0[@]}"; do echo "# v6 tunnel ESN: $n ${t0[$n]} -> ${t1[$n]}"; done
ok "IPv6 tunnel, ESN: what veth0 received was decrypted on sim0's engine" test "${t1[rx_esp_engine_packets]}" -ge $((${t0[rx_esp_engine_packets]} + 60))
ok "IPv6 tunnel, ESN: nothing in host software, nothing dropped" bash -c "
	test ${t1[tx_esp_host_packets]} = ${t0[tx_esp_host_packets]} && test ${t1[rx_esp_host_packets]} = ${t0[rx_esp_host_packets]} &&
	test ${t1[tx_esp_dropped_packets]} = ${t0[tx_esp_dropped_packets]} && test ${t1[rx_esp_dropped_packets]} = ${t0[rx_esp_dropped_packets]}"

# sim0's engine withdrawn: never chosen again; veth0's flows go inline.
ok "engine none on sim0" ip -n $A link set sim0 type hbond_slave engine none
declare -A s2 s3
snap s2
ok "ALB without sim0's engine: only ESP arrived" spread any
snap s3
for n in "${!s2[@]}"; do echo "# ALB, no engine: $n ${s2[$n]} -> ${s3[$n]}"; done
ok "ALB without sim0's engine: no request reached it" test "${s3[sim_engine]}" = "${s2[sim_engine]}"
ok "ALB without sim0's engine: no engine work counted" test "${s3[tx_esp_engine_packets]}" = "${s2[tx_esp_engine_packets]}"
ok "ALB without sim0's engine: all of it inline, none dropped" bash -c "
	test ${s3[tx_esp_inline_packets]} -gt ${s2[tx_esp_inline_packets]} && test ${s3[tx_esp_dropped_packets]} = ${s2[tx_esp_dropped_packets]}"

# --- An engine lent by name to a slave without one; engine none withdraws.
DRV=$(ns_cat $A /sys/class/net/sim0/ipsecsim/engine)-rfc4106-gcm-aes
ok "sim0 released" ip -n $A link set sim0 nomaster
ok "hb0 over veth0 alone: esp-hw-offload off" test "$(esp_hw)" = off
ok "veth0 given sim0's engine ($DRV)" ip -n $A link set veth0 type hbond_slave engine "$DRV"
ok "hb0 with veth0's engine: esp-hw-offload on" test "$(esp_hw)" = on
# sas_offloaded: fresh SAs, both offloaded to hb0.
sas_offloaded() { sas && offloaded_to_hb0 0x2501 && offloaded_to_hb0 0x2502; }
ok "new SAs offloaded to hb0" sas_offloaded
through veth1 "veth0 with a lent engine" engine

withdrawn() { dmesg | grep -c 'hb0: ESP offload withdrawn'; }
logged0=$(withdrawn)
ok "engine none on veth0" ip -n $A link set veth0 type hbond_slave engine none
ok "no engine left: esp-hw-offload withdrawn" test "$(esp_hw)" = off
ok "the team logged the withdrawal once" test "$(withdrawn)" = $((logged0 + 1))
ok "a new SA stays in software" bash -c "
	ip -n $A xfrm state add src 192.0.2.1 dst 192.0.2.9 proto esp spi 0x26ff mode transport \
		aead 'rfc4106(gcm(aes))' $(sim_key "$KEY128") 128 offload dev hb0 dir out &&
	! ip -n $A -s xfrm state list spi 0x26ff | grep -q 'crypto offload parameters'"
ip -n $A xfrm state delete src 192.0.2.1 dst 192.0.2.9 proto esp spi 0x26ff
through veth1 "without an engine" host
ok "veth0 given sim0's engine again: esp-hw-offload on" bash -c "
	ip -n $A link set veth0 type hbond_slave engine '$DRV' && nsx $A ethtool -k hb0 | grep -q '^esp-hw-offload: on'"
ok "new SAs offload again" sas_offloaded

# --- Teardown while ESP flows: only ESP on the peer's wires.
ok "ip xfrm state flush under traffic: only ESP on the wires" under_traffic any ip -n $A xfrm state flush
ok "no SA left" test -z "$(ip -n $A xfrm state list)"
ok "sim0 back in the team (ALB over both)" ip -n $A link set sim0 master hb0
ok "SAs offloaded to hb0" sas_offloaded
ok "ip link del hb0 under traffic: only ESP on the wires" under_traffic any ip -n $A link del hb0
ok "the SAs went with hb0" wait_for 5 "test -z \"\$(ip -n $A xfrm state list)\""
ok "sim0 and veth0 left the team" test -z "$(master_of sim0 $A)$(master_of veth0 $A)"

# (A's policies outlived the SAs: no ping passes before new SAs.)
team_again() {
	ip -n $A link add hb0 type hbond mode alb miimon 50 && ip -n $A link set veth0 master hb0 &&
		ip -n $A link set sim0 master hb0 && ip -n $A addr add 192.0.2.1/24 dev hb0 &&
		ip -n $A link set hb0 up
}
ok "hb0 again over veth0 and sim0" team_again
ok "SAs offloaded to hb0 again" sas_offloaded
ok "the peer answers through hb0" wait_for 10 "nsx $A ping -c 1 -W 1 192.0.2.2"
ok "rmmod hbond under traffic: only ESP on the wires" under_traffic any rmmod hbond
ok "hbond loaded again" insmod "$top/hbond.ko"
ok "no hbond device left" test -z "$(link_names $A type hbond)"
ok "the SAs went with hb0" wait_for 5 "test -z \"\$(ip -n $A xfrm state list)\""
cleanup
tap_done
