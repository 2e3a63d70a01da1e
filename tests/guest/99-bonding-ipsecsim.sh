#!/usr/bin/env bash
# ipsecsim below a stacking master: the kernel's own bonding (active-backup)
# over two ipsecsim devices, SAs offloaded to bond0. 6.12's bonding calls
# its active slave's xfrmdev_ops with xso.dev = bond0 and xso.real_dev =
# the slave (set after the slave's add returns); ipsecsim must find the SA
# through real_dev on transmit and receive, as real inline NICs do. The
# peer runs plain software IPsec; captures where the packets are received
# show only ESP; the active slave's inline counters prove it did the work,
# before and after a failover.
#
# Runs last in its guest: deleting an SA offloaded to 6.12's bonding sleeps
# in atomic context (bond_ipsec_del_sa takes a mutex under x->lock; fixed
# upstream in 6.16). The script expects exactly that report (the runner
# filters only report blocks whose call trace has bond_ipsec_del_sa, see
# scripts/check-dmesg.sh), and lockdep turns itself off after it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ipsecsim-lib.sh"
cleanup() { kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; sim_cleanup; }
trap cleanup EXIT

if ! modprobe bonding max_bonds=0 2>/dev/null; then
	echo "ok 1 - bonding over ipsecsim # SKIP no bonding module in this kernel"
	tap_done
	exit
fi

setup() {
	sim_cleanup
	ip netns add $A && ip netns add $B || return 1
	ip -n $A link set lo up; ip -n $B link set lo up
	ip -n $A link add bond0 type bond mode active-backup miimon 50 || return 1
	ip -n $A link add s0 type ipsecsim peer name p0 netns $B || return 1
	ip -n $A link add s1 type ipsecsim peer name p1 netns $B || return 1
	ip -n $A link set s0 master bond0 && ip -n $A link set s1 master bond0 || return 1
	# A fixed address for the "switch" (see 16-teardown-torture.sh).
	ip -n $B link add br0 address 02:00:00:00:b0:02 type bridge || return 1
	ip -n $B link set p0 master br0 && ip -n $B link set p1 master br0 || return 1
	ip -n $A addr add 192.0.2.1/24 dev bond0
	ip -n $B addr add 192.0.2.2/24 dev br0
	for d in p0 p1 br0; do ip -n $B link set $d up; done
	ip -n $A link set bond0 up
	ip netns exec $A sh -c 'echo s0 > /sys/class/net/bond0/bonding/active_slave' || return 1
	wait_for 10 "nsx $A ping -c 1 -W 1 192.0.2.2"
}

active() { ns_cat $A /sys/class/net/bond0/bonding/active_slave; }

# sas: A's SAs offloaded to bond0 (a fresh key per SA and direction), B's in
# software; transport-mode policies for all traffic between the two.
sas() {
	local kab kba
	kab=$(sim_key "$KEY128") kba=$(sim_key "$KEY128")
	# One ip process per namespace (ip -batch stops at a failing command).
	ip -n $A -batch - <<-EOF || return 1
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x3001 reqid 1 mode transport aead rfc4106(gcm(aes)) $kab 128 offload dev bond0 dir out
	xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x3002 reqid 2 mode transport aead rfc4106(gcm(aes)) $kba 128 offload dev bond0 dir in
	xfrm policy add src 192.0.2.1 dst 192.0.2.2 dir out tmpl src 192.0.2.1 dst 192.0.2.2 proto esp reqid 1 mode transport
	xfrm policy add src 192.0.2.2 dst 192.0.2.1 dir in tmpl src 192.0.2.2 dst 192.0.2.1 proto esp reqid 2 mode transport
	EOF
	ip -n $B -batch - <<-EOF
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x3001 reqid 1 mode transport aead rfc4106(gcm(aes)) $kab 128
	xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x3002 reqid 2 mode transport aead rfc4106(gcm(aes)) $kba 128
	xfrm policy add src 192.0.2.2 dst 192.0.2.1 dir out tmpl src 192.0.2.2 dst 192.0.2.1 proto esp reqid 2 mode transport
	xfrm policy add src 192.0.2.1 dst 192.0.2.2 dir in tmpl src 192.0.2.1 dst 192.0.2.2 proto esp reqid 1 mode transport
	EOF
}

# offloaded_to_bond SPI: ip shows the SA offloaded to bond0.
offloaded_to_bond() { ip -n $A -s xfrm state list spi "$1" | grep -A1 "crypto offload parameters" | grep -q "dev bond0"; }

# sa_packets NS SPI: packets the SA processed (ip -s: "N(bytes), M(packets)").
sa_packets() {
	ip -n "$1" -s xfrm state list spi "$2" | sed -n '/lifetime current/{n;s/.*, *\([0-9]*\)(packets).*/\1/p;q}'
}

# through SLAVE PEER_PORT LABEL: ping (pattern payload) and a TCP transfer
# each way; captured on PEER_PORT (where the slave's packets are received)
# only ESP, none of it plaintext; SLAVE's inline counters cover the
# packets both ways; the peer decrypted them in software (its SA counters).
through() {
	local slave=$1 port=$2 label=$3 cap tx0 rx0 tx1 rx1 b0 b1
	tx0=$(stat $slave $A ipsec_tx_packets) rx0=$(stat $slave $A ipsec_rx_packets)
	b0=$(sa_packets $B 0x3001)
	cap=$(mktemp --suffix .pcap)
	sim_capture $B $port "$cap"
	ok "$label: ping bond0 -> peer" sim_ping_pattern $A 192.0.2.2 5
	sim_capture_stop
	ok "$label: only ESP arrived on $port" sim_only_esp "$cap" 192.0.2.1 192.0.2.2 transport
	rm -f "$cap" "$cap.log"
	ok "$label: TCP bond0 -> peer, content compared" sim_tcp $B 192.0.2.2 $A 200000
	ok "$label: TCP peer -> bond0, content compared" sim_tcp $A 192.0.2.1 $B 200000
	tx1=$(stat $slave $A ipsec_tx_packets) rx1=$(stat $slave $A ipsec_rx_packets)
	b1=$(sa_packets $B 0x3001)
	echo "# $label: $slave inline tx $tx0 -> $tx1, rx $rx0 -> $rx1; peer's SA 0x3001 packets $b0 -> $b1"
	# 5 pings and 200 kB each way (over 100 segments of data or acks).
	ok "$label: $slave encrypted inline (the pings and the transfers)" test "$tx1" -ge $((tx0 + 100))
	ok "$label: $slave decrypted inline" test "$rx1" -ge $((rx0 + 100))
	ok "$label: the peer decrypted them in software" test "$b1" -ge $((b0 + 100))
	ok "$label: no inline authentication failures on $slave" test "$(stat $slave $A ipsec_rx_auth_failed)" = 0
}

ok "bond0 (active-backup) over two ipsecsim devices" setup
ok "bond0 advertises esp-hw-offload" bash -c "nsx $A ethtool -k bond0 | grep -q '^esp-hw-offload: on'"
# 6.12's bonding offers ESP checksum and segmentation offload in
# active-backup whatever its slaves have (BOND_XFRM_FEATURES is set at
# setup, not computed). ipsecsim has neither: with them on, the stack leaves
# TCP's checksum to the slave and the slave's generic fallback then sums
# over the ESP trailer too (pings pass, TCP does not: seen). An admin turns
# them off on such a bond, as here.
ok "bond0: ESP checksum and segmentation offload off (ipsecsim has neither)" bash -c "
	nsx $A ethtool -K bond0 esp-tx-csum-hw-offload off tx-esp-segmentation off &&
	nsx $A ethtool -k bond0 | grep -q '^esp-tx-csum-hw-offload: off'"
ok "SAs offloaded to bond0, software on the peer" sas
ok "outbound SA offloaded to bond0" offloaded_to_bond 0x3001
ok "inbound SA offloaded to bond0" offloaded_to_bond 0x3002
ok "s0 is the active slave" test "$(active)" = s0
through s0 p0 "active s0"
idle_tx=$(stat s1 $A ipsec_tx_packets)

# Failover: bonding moves the SAs to s1 (delete/free on s0, add on s1 with
# real_dev cleared during the call).
ok "failover to s1" ip -n $A link set s0 down
ok "s1 is the active slave" wait_for 5 "test \$(active) = s1"
ok "the backup s1 encrypted nothing while s0 was active" test "$idle_tx" = 0
ok "SAs still offloaded to bond0 after the failover" bash -c "$(declare -f offloaded_to_bond); A=$A; offloaded_to_bond 0x3001 && offloaded_to_bond 0x3002"
through s1 p1 "after failover, s1"

# Deleting the SAs: 6.12's bonding takes a mutex under x->lock here. The
# runner accepts exactly that report (call trace through
# bond_ipsec_del_sa), declared before the flush.
[ -n "${HBOND_GUEST_OUT:-}" ] && echo bond_ipsec_del_sa >> "$HBOND_GUEST_OUT/expected-splats"
ok "ip xfrm state flush" ip -n $A xfrm state flush
ok "no SA left" test -z "$(ip -n $A xfrm state list)"
ok "bond0 deleted" ip -n $A link del bond0
ok "both ipsecsim devices left the bond" test -z "$(master_of s0 $A)$(master_of s1 $A)"
cleanup
tap_done
