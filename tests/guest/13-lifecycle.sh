#!/usr/bin/env bash
# Refusals (all-or-nothing), a slave that would change its type, many
# create/enslave/destroy cycles, rmmod with live teams.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
export IP_LIB_DIR=$top/tools/iproute2
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

# changelink is all or nothing: a refused active_slave leaves miimon alone.
opt() { ip netns exec $N cat "/sys/class/net/hb0/hbond/$1"; }
ip -n $N link add hb0 type hbond
ip -n $N link add v0 type veth peer name w0
ip -n $N link add v1 type veth peer name w1
ip -n $N link set v0 master hb0
ip -n $N link set v1 master hb0
ip -n $N link set w0 up
ip -n $N link set hb0 up
ok "v0 is the active slave" wait_for 5 "test \$(ip netns exec $N cat /sys/class/net/hb0/hbond/active_slave) = v0"
fails_with "active_slave without a link refused" "no usable link" \
	ip -n $N link set hb0 type hbond miimon 100 active_slave v1
ok "miimon unchanged by the refused request" test "$(opt miimon)" = 0
ok "active slave unchanged by the refused request" test "$(opt active_slave)" = v0
ok "the same request once v1 has a link" bash -c "ip -n $N link set w1 up &&
	sleep 0.2 && ip -n $N link set hb0 type hbond miimon 100 active_slave v1"
ok "miimon and active slave then set" test "$(opt miimon) $(opt active_slave)" = "100 v1"

# A slave may not change its type (a bonding device taking a non-Ethernet
# port would no longer be the Ethernet device hb0 enslaved).
if modprobe bonding max_bonds=0 2>/dev/null && ip -n $N link add bd0 type bond mode active-backup &&
	ip -n $N link add sit1 type sit local 198.51.100.1 remote 198.51.100.2; then
	ok "a bonding device is enslaved" ip -n $N link set bd0 master hb0
	fails_with "its type change is vetoed" "busy|Busy" ip -n $N link set sit1 master bd0
	ok "it is still Ethernet" test "$(link_field bd0 $N ' (link/[a-z0-9]+) ')" = link/ether
	ok "it is released" ip -n $N link set bd0 nomaster
	ip -n $N link del bd0
	ip -n $N link del sit1
else
	echo "ok $((_tap_n += 1)) - a slave's type change is vetoed # SKIP no bonding or sit in this kernel"
fi
# The same with the kernel's team driver (a team takes its first port's type).
if ip -n $N link add tm0 type team && ip -n $N link add sit2 type sit local 198.51.100.3 remote 198.51.100.4; then
	ok "a team device is enslaved" ip -n $N link set tm0 master hb0
	fails_with "its type change is vetoed" "busy|Busy|not permitted" ip -n $N link set sit2 master tm0
	ok "the team device is still Ethernet" test "$(link_field tm0 $N ' (link/[a-z0-9]+) ')" = link/ether
	ok "the team device is released" ip -n $N link set tm0 nomaster
	ip -n $N link del tm0
	ip -n $N link del sit2
else
	echo "not ok $((_tap_n += 1)) - team device and sit port for the type-change test"
	_tap_failed=1
fi
ip -n $N link del hb0
ip -n $N link del v0
ip -n $N link del v1

# One ip process runs all cycles: spawning 800 processes in an emulated
# guest would take minutes. (The batch is written by this shell: a process
# per cycle to write it took half a minute.)
cycles=40
batch=$(mktemp)
for ((i = 1; i <= cycles; i++)); do
	printf '%s\n' "link add hb$i type hbond" \
		"link add a$i type veth peer name b$i" \
		"link add c$i type veth peer name d$i" \
		"link set a$i master hb$i" \
		"link set c$i master hb$i" \
		"link del hb$i" \
		"link del a$i" \
		"link del c$i"
done > "$batch"
ok "$cycles create/enslave/destroy cycles" ip -n $N -batch "$batch"
rm -f "$batch"
ok "no hbond device left" test -z "$(link_names $N type hbond)"

ok "teams for rmmod" ip -n $N link add hbx type hbond
ip -n $N link add vx type veth peer name vy
ip -n $N link set vx master hbx
ip link add hby type hbond
ok "rmmod with live teams" rmmod hbond
ok "teams gone" bash -c "! ip -n $N link show hbx 2>/dev/null && ! ip link show hby 2>/dev/null"
ok "slave released by rmmod" test -z "$(master_of vx $N)"
ok "reload" insmod "$(dirname "$0")/../../hbond.ko"
tap_done
