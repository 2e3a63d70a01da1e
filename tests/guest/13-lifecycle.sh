#!/usr/bin/env bash
# Refusals, many create/enslave/destroy cycles, rmmod with live teams.
. "$(dirname "$0")/lib.sh"
N=hb-life
cleanup() { ip netns del $N 2>/dev/null; true; }
trap cleanup EXIT
cleanup
ip netns add $N

ok "create team" ip -n $N link add hb0 type hbond
fails_with "non-Ethernet device refused" "only Ethernet" ip -n $N link set sit0 master hb0
if ip -n $N link add d0 type dummy 2>/dev/null && ip -n $N link add mv0 link d0 type macvlan 2>/dev/null; then
	fails_with "device with a receive handler refused" "receive handler|enslaved" ip -n $N link set d0 master hb0
else
	echo "ok $((_tap_n += 1)) - device with a receive handler refused # SKIP no macvlan in this kernel"
fi
ip -n $N link del hb0

# One ip process runs all cycles: spawning 800 processes in an emulated
# guest would take minutes.
cycles=100
batch=$(mktemp)
for i in $(seq 1 $cycles); do
	cat >> "$batch" <<-CMDS
	link add hb$i type hbond
	link add a$i type veth peer name b$i
	link add c$i type veth peer name d$i
	link set a$i master hb$i
	link set c$i master hb$i
	link del hb$i
	link del a$i
	link del c$i
	CMDS
done
ok "$cycles create/enslave/destroy cycles" ip -n $N -batch "$batch"
rm -f "$batch"
ok "no hbond device left" test -z "$(ip -n $N -d -j link show | jq -r '.[] | select(.linkinfo.info_kind == "hbond") | .ifname')"

ok "teams for rmmod" ip -n $N link add hbx type hbond
ip -n $N link add vx type veth peer name vy
ip -n $N link set vx master hbx
ip link add hby type hbond
ok "rmmod with live teams" rmmod hbond
ok "teams gone" bash -c "! ip -n $N link show hbx 2>/dev/null && ! ip link show hby 2>/dev/null"
ok "slave released by rmmod" test -z "$(master_of vx $N)"
ok "reload" insmod "$(dirname "$0")/../../hbond.ko"
tap_done
