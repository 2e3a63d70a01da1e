#!/usr/bin/env bash
# ipsecsim inline ESP offload: sim0 (namespace A) with offloaded SAs against
# sim1 (namespace B) running plain software IPsec with the same SAs, then
# both ends offloaded. IPv4 and IPv6, transport and tunnel, 128/256-bit keys,
# with and without ESN. Counters prove the inline path did the work; a
# capture on the receiving end (decrypting in software for the capture)
# proves only ESP crossed the link, none of it carrying the payload in clear.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ipsecsim-lib.sh"
trap sim_cleanup EXIT

ok "set up the pair in two namespaces" sim_setup
ok "esp-hw-offload is on by default" bash -c "nsx $A ethtool -k sim0 | grep -q '^esp-hw-offload: on'"
# Switching the feature off really hands the crypto to software, and back.
ok "SAs for the switch" sim_sas 4 transport $KEY128 no no
switch_off_on() {
	local tx0 rx0 tx1 rx1 tx2 rx2
	read -r tx0 rx0 < <(stats sim0 $A ipsec_tx_packets ipsec_rx_packets)
	nsx $A ethtool -K sim0 esp-hw-offload off || return 1
	nsx $A ethtool -k sim0 | grep -q '^esp-hw-offload: off' || { echo "still on"; return 1; }
	sim_ping $A 192.0.2.2 3 || { echo "no traffic with the offload off"; return 1; }
	read -r tx1 rx1 < <(stats sim0 $A ipsec_tx_packets ipsec_rx_packets)
	echo "off: inline tx $tx0 -> $tx1, rx $rx0 -> $rx1"
	[ "$tx1/$rx1" = "$tx0/$rx0" ] || return 1
	nsx $A ethtool -K sim0 esp-hw-offload on || return 1
	nsx $A ethtool -k sim0 | grep -q '^esp-hw-offload: on' || { echo "still off"; return 1; }
	sim_ping $A 192.0.2.2 3 || return 1
	read -r tx2 rx2 < <(stats sim0 $A ipsec_tx_packets ipsec_rx_packets)
	echo "on: inline tx $tx2, rx $rx2"
	[ "$tx2" -ge $((tx0 + 3)) ] && [ "$rx2" -ge $((rx0 + 3)) ]
}
ok "esp-hw-offload is switchable: off goes software, on goes inline again" switch_off_on

# offload_rx NS DEV on|off: the receiver's inline decryption (the capture
# on a device that decrypts inline shows the decrypted payload, as on a real
# NIC; with the feature off the stack decrypts the packet as it arrived).
offload_rx() { ip netns exec "$1" ethtool -K "$2" esp-hw-offload "$3"; }

# both_offloaded NS, neither_offloaded NS: SAs 0x1001 and 0x1002 in NS.
both_offloaded() { sim_offloaded "$1" 0x1001 && sim_offloaded "$1" 0x1002; }
neither_offloaded() { ! sim_offloaded "$1" 0x1001 && ! sim_offloaded "$1" 0x1002; }

# run_case LABEL FAMILY MODE KEY ESN OFFLOAD_B
run_case() {
	local label=$1 fam=$2 mode=$3 key=$4 esn=$5 offb=$6
	ok "$label: SAs installed" sim_sas "$fam" "$mode" "$key" "$esn" "$offb"
	sim_addrs "$fam" "$mode"
	ok "$label: sim0 SAs are offloaded" both_offloaded $A
	if [ "$offb" = yes ]; then
		ok "$label: sim1 SAs are offloaded" both_offloaded $B
	else
		ok "$label: sim1 SAs stay in software" neither_offloaded $B
	fi
	local tx0 rx0 btx0
	read -r tx0 rx0 < <(stats sim0 $A ipsec_tx_packets ipsec_rx_packets)
	btx0=$(stat sim1 $B ipsec_tx_packets)
	# What crossed the link, captured where it is received, by a receiver
	# that decrypts in software (the reference).
	local cap
	cap=$(mktemp --suffix .pcap)
	[ "$offb" = yes ] && offload_rx $B sim1 off
	sim_capture $B sim1 "$cap"
	ok "$label: ping A -> B" sim_ping_pattern $A "$SIM_I2" 3
	sim_capture_stop
	[ "$offb" = yes ] && offload_rx $B sim1 on
	ok "$label: only ESP leaves sim0 (captured on sim1)" sim_only_esp "$cap" "$SIM_I1" "$SIM_I2" "$mode"
	offload_rx $A sim0 off
	sim_capture $A sim0 "$cap"
	ok "$label: ping B -> A" sim_ping_pattern $B "$SIM_I1" 3
	sim_capture_stop
	offload_rx $A sim0 on
	ok "$label: only ESP leaves sim1 (captured on sim0)" sim_only_esp "$cap" "$SIM_I1" "$SIM_I2" "$mode"
	rm -f "$cap" "$cap.log"
	ok "$label: TCP A -> B" sim_tcp $B "$SIM_I2" $A 64000
	ok "$label: TCP B -> A" sim_tcp $A "$SIM_I1" $B 64000
	local tx1 rx1 btx1
	local auth_failed
	read -r tx1 rx1 auth_failed < <(stats sim0 $A ipsec_tx_packets ipsec_rx_packets ipsec_rx_auth_failed)
	btx1=$(stat sim1 $B ipsec_tx_packets)
	ok "$label: sim0 encrypted inline ($tx0 -> $tx1)" test $((tx1 - tx0)) -ge 40
	ok "$label: sim0 decrypted inline ($rx0 -> $rx1)" test $((rx1 - rx0)) -ge 40
	if [ "$offb" = yes ]; then
		ok "$label: sim1 encrypted inline ($btx0 -> $btx1)" test $((btx1 - btx0)) -ge 40
	else
		ok "$label: sim1 did no inline work ($btx0 -> $btx1)" test "$btx1" = "$btx0"
	fi
	ok "$label: no authentication failures" test "$auth_failed" = 0
}

# Four cases cover each dimension both ways: family, mode, key size, ESN,
# and whether the peer is software or offloaded too (each case takes about
# a minute under TCG).
run_case "v4 transport gcm128" 4 transport $KEY128 no no
run_case "v6 tunnel gcm256 esn" 6 tunnel $KEY256 yes no
run_case "v4 tunnel gcm256 esn both offloaded" 4 tunnel $KEY256 yes yes
run_case "v6 transport gcm128 both offloaded" 6 transport $KEY128 no yes

tap_done
