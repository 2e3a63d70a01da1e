# shellcheck shell=bash
# A team in netns $A with N veth slaves whose peers sit in netns $B under a
# bonding device in broadcast mode (it receives on and sends to every link,
# like a switch would deliver). Sourced by the integration scripts.
#
#   team_topology MODE N  -> hb0 (192.0.2.1) in $A, slaves s1..sN;
#                            peer bond0 (192.0.2.2) in $B with p1..pN
A=${A:-hb-a}
B=${B:-hb-b}

topology_cleanup() {
	ns_sys_drop
	ip netns del "$A" 2>/dev/null
	ip netns del "$B" 2>/dev/null
	true
}

team_topology() {
	local mode=$1 n=$2 i
	topology_cleanup
	modprobe bonding max_bonds=0 || return 1
	ip netns add "$A" && ip netns add "$B" || return 1
	ip -n "$A" link add hb0 type hbond || return 1
	hbond_set mode "$mode" || return 1
	# One ip process per namespace (ip -batch stops at a failing command).
	for ((i = 1; i <= n; i++)); do
		echo "link add s$i type veth peer name p$i netns $B"
		echo "link set s$i master hb0"
	done | ip -n "$A" -batch - || return 1
	{
		echo "link add bond0 type bond mode broadcast"
		for ((i = 1; i <= n; i++)); do echo "link set p$i master bond0"; done
		echo "addr add 192.0.2.2/24 dev bond0"
	} | ip -n "$B" -batch - || return 1
	ip -n "$A" -batch - <<-EOF || return 1
	addr add 192.0.2.1/24 dev hb0
	link set hb0 up
	EOF
	{
		echo "link set bond0 up"
		for ((i = 1; i <= n; i++)); do echo "link set p$i up"; done
	} | ip -n "$B" -batch - || return 1
	wait_for 5 "nsx $A ping -c 1 -W 1 192.0.2.2"
}

# hbond_opt NAME: read an option from sysfs (inside $A).
hbond_opt() { ns_cat "$A" "/sys/class/net/hb0/hbond/$1"; }

# hbond_set NAME VALUE: write an option through sysfs (inside $A).
hbond_set() { ns_write "$A" "/sys/class/net/hb0/hbond/$1" "$2"; }

# slave_attr DEV NAME: read a slave's sysfs attribute (inside $A).
slave_attr() { ns_cat "$A" "/sys/class/net/$1/hbond_slave/$2"; }

# lost_pings COUNT INTERVAL: pings 192.0.2.2 from $A; prints how many were lost.
lost_pings() {
	nsx "$A" ping -q -c "$1" -i "$2" -W 1 192.0.2.2 2>/dev/null |
		sed -nE 's/^([0-9]+) packets transmitted, ([0-9]+) received.*/\1 \2/p' |
		awk '{print $1 - $2}'
}
