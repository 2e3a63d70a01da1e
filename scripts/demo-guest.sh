#!/usr/bin/env bash
# The demo topology, inside the guest:
#
#   netns "host"                         netns "peer"
#   hb0 (hbond, 192.0.2.1) ─┬─ sim0 ═══ sim1  (192.0.2.2)   ipsecsim pair
#                           └─ veth0 ── veth1               veth pair
set -euo pipefail
H=host P=peer
ip netns add $H; ip netns add $P
trap 'ip netns del $H; ip netns del $P' EXIT

ip -n $H link add hb0 type hbond
ip -n $H link add sim0 type ipsecsim
peer=$(ip -n $H -d -j link show | jq -r '.[] | select(.linkinfo.info_kind == "ipsecsim" and .ifname != "sim0") | .ifname')
ip -n $H link set "$peer" netns $P name sim1
ip -n $H link add veth0 type veth peer name veth1 netns $P
ip -n $H link set sim0 master hb0
ip -n $H link set veth0 master hb0
ip -n $H addr add 192.0.2.1/24 dev hb0
ip -n $H link set hb0 up
ip -n $P addr add 192.0.2.2/24 dev sim1
ip -n $P link set sim1 up
ip -n $P link set veth1 up

echo
echo "== modules"
grep -E '^(hbond|ipsecsim) ' /proc/modules | awk '{print "  " $1 " (" $2 " bytes)"}'
echo "== team hb0 (netns $H)"
ip -n $H -d -j link show | jq -r '.[] | select(.ifname == "hb0" or .master == "hb0")
	| "  \(.ifname)\t kind=\(.linkinfo.info_kind)\t master=\(.master // "-")\t state=\(.operstate)\t mac=\(.address)"'
echo "== ping 192.0.2.2 through hb0"
ip netns exec $H ping -c 5 -i 0.2 -W 2 192.0.2.2 | sed -n 's/^/  /; /packets transmitted/p'
echo "== counters"
for d in hb0 sim0 veth0; do
	ip -n $H -j -s link show $d | jq -r --arg d "$d" '.[0].stats64 | "  \($d)\t tx \(.tx.packets) pkts \(.tx.bytes) B\t rx \(.rx.packets) pkts \(.rx.bytes) B"'
done
echo
echo "IPsec offload, engine sharing and ALB arrive with the next issues."
