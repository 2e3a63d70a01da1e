#!/usr/bin/env bash
# The demo topology, inside the guest:
#
#   netns "host"                              netns "peer"
#   hb0 (hbond aft, 192.0.2.1) ─┬─ sim0 ═══ sim1 ─┬─ bond0 (192.0.2.2)
#                               └─ veth0 ── veth1 ─┘  (bonding, broadcast:
#                                                      stands in for a switch)
set -euo pipefail
H=host P=peer
modprobe bonding max_bonds=0
ip netns add $H; ip netns add $P
trap 'ip netns del $H; ip netns del $P' EXIT

ip -n $H link add hb0 type hbond
ip -n $H link add sim0 type ipsecsim
peer=$(ip -n $H -d -j link show | jq -r '.[] | select(.linkinfo.info_kind == "ipsecsim" and .ifname != "sim0") | .ifname')
ip -n $H link set "$peer" netns $P name sim1
ip -n $H link add veth0 type veth peer name veth1 netns $P
ip -n $P link add bond0 type bond mode broadcast
ip -n $P link set sim1 master bond0
ip -n $P link set veth1 master bond0
ip -n $H link set sim0 master hb0
ip -n $H link set veth0 master hb0
ip -n $H addr add 192.0.2.1/24 dev hb0
ip -n $H link set hb0 up
ip -n $P addr add 192.0.2.2/24 dev bond0
ip -n $P link set bond0 up

team() {
	ip -n $H -d -j link show | jq -r '.[] | select(.ifname == "hb0" or .master == "hb0")
		| "  \(.ifname)\t kind=\(.linkinfo.info_kind)\t master=\(.master // "-")\t state=\(.operstate)\t mac=\(.address)"'
	for s in sim0 veth0; do
		printf '  %s: %s, link %s, %s tx packets\n' $s \
			"$(ip netns exec $H cat /sys/class/net/$s/hbond_slave/state)" \
			"$(ip netns exec $H cat /sys/class/net/$s/hbond_slave/link)" \
			"$(ip netns exec $H cat /sys/class/net/$s/hbond_slave/tx_packets)"
	done
}
ping_peer() {
	ip netns exec $H ping -c 5 -i 0.2 -W 2 192.0.2.2 | sed -n 's/^/  /; /packets transmitted/p'
}

echo
echo "== modules"
grep -E '^(hbond|ipsecsim) ' /proc/modules | awk '{print "  " $1 " (" $2 " bytes)"}'
echo "== team hb0 (netns $H), mode $(ip netns exec $H cat /sys/class/net/hb0/hbond/mode)"
team
echo "== ping 192.0.2.2 through hb0"
ping_peer
echo "== failover: the ipsecsim link loses carrier (sim1 down on the peer)"
ip -n $P link set sim1 down
sleep 1
echo "  active slave now: $(ip netns exec $H cat /sys/class/net/hb0/hbond/active_slave)"
ping_peer
team
echo "== team counters"
ip -n $H -j -s link show hb0 | jq -r '.[0].stats64 | "  hb0\t tx \(.tx.packets) pkts \(.tx.bytes) B\t rx \(.rx.packets) pkts \(.rx.bytes) B"'
sys=/sys/class/net/sim0/ipsecsim
engine=$(ip netns exec $H cat $sys/engine)
echo "== crypto engine of sim0: $engine (also: ethtool -i sim0 -> bus-info)"
ip netns exec $H cat $sys/engine_drivers | sed 's/^/  crypto API driver: /'
for drv in $(ip netns exec $H cat $sys/engine_drivers); do
	for _ in $(seq 100); do
		awk -v d="$drv" '$1 == "driver" && $3 == d { f = 1 } f && $1 == "selftest" { print $3; exit }' /proc/crypto | grep -q passed && break
		sleep 0.1
	done
	awk -v d="$drv" '$1 == "driver" && $3 == d { f = 1 } f && $1 == "selftest" { print "  " d ": crypto manager self-test " $3; exit }' /proc/crypto
done
echo "  capacity $(ip netns exec $H cat $sys/engine_rate) B/s, queue depth $(ip netns exec $H cat $sys/engine_depth)"
echo "== RFC 4106 test vector through $engine (AF_ALG, by driver name)"
python3 "$(dirname "$0")/../tools/afalg-aead.py" vector "$engine-rfc4106-gcm-aes" | sed 's/^/  /'
echo "== engine counters (ethtool -S sim0)"
ip netns exec $H ethtool -S sim0 | grep -E 'engine_(external|tx|rx)_(requests|bytes)|engine_errors' | sed 's/^ */  /'
echo
echo "IPsec through the team and engine sharing arrive with the next issues;"
echo "ipsecsim's inline ESP offload through its engine is exercised by"
echo "tests/guest/20-ipsecsim-offload.sh and 22-ipsecsim-engine.sh."
