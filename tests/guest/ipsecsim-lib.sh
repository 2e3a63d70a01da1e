# shellcheck shell=bash
# Helpers for the ipsecsim integration scripts (sourced after lib.sh).
#
# Two namespaces: $A holds sim0 (the device under test), $B holds sim1, the
# other end of the pair ("the other host"), created there directly (`peer
# name sim1 netns $B`, with tools/iproute2/link_ipsecsim.so: `make tools`).
# Addresses are documentation prefixes: outer 192.0.2.1/.2 and 2001:db8::1/::2, tunnel inner
# 198.51.100.1/.2 and 2001:db8:1::1/::2.

A=${A:-isa} B=${B:-isb}
# `ip link add ... type ipsecsim peer ...` needs the project's plugin.
IP_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tools/iproute2
export IP_LIB_DIR
KEY128=0x0123456789abcdef0123456789abcdef01020304
KEY256=0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01020304

sim_cleanup() { ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; true; }

# sim_setup: the pair, addresses, routes for the tunnel inner prefixes.
sim_setup() {
	sim_cleanup
	ip netns add $A && ip netns add $B || return 1
	[ -f "$IP_LIB_DIR/link_ipsecsim.so" ] || { echo "sim_setup: no $IP_LIB_DIR/link_ipsecsim.so: run make tools"; return 1; }
	ip -n $A link add sim0 type ipsecsim peer name sim1 netns $B || return 1
	ip -n $A addr add 192.0.2.1/24 dev sim0
	ip -n $B addr add 192.0.2.2/24 dev sim1
	ip -n $A addr add 2001:db8::1/64 dev sim0 nodad
	ip -n $B addr add 2001:db8::2/64 dev sim1 nodad
	ip -n $A link set lo up; ip -n $B link set lo up
	ip -n $A addr add 198.51.100.1/32 dev lo
	ip -n $B addr add 198.51.100.2/32 dev lo
	ip -n $A addr add 2001:db8:1::1/128 dev lo nodad
	ip -n $B addr add 2001:db8:1::2/128 dev lo nodad
	ip -n $A link set sim0 up; ip -n $B link set sim1 up
	ip -n $A route add 198.51.100.2/32 dev sim0 via 192.0.2.2 src 198.51.100.1
	ip -n $B route add 198.51.100.1/32 dev sim1 via 192.0.2.1 src 198.51.100.2
	ip -n $A route add 2001:db8:1::2/128 dev sim0 via 2001:db8::2 src 2001:db8:1::1
	ip -n $B route add 2001:db8:1::1/128 dev sim1 via 2001:db8::1 src 2001:db8:1::2
}

# stat DEV NS NAME: one counter of ethtool -S.
stat() { ip netns exec "$2" ethtool -S "$1" | awk -v n="$3:" '$1 == n { print $2 }'; }

# sim_sas FAMILY MODE KEY ESN OFFLOAD_B: replaces all SAs and policies.
# FAMILY 4|6, MODE transport|tunnel, ESN yes|no, OFFLOAD_B yes|no (sim0's
# SAs are always offloaded; sim1's only with OFFLOAD_B=yes).
sim_sas() {
	local fam=$1 mode=$2 key=$3 esn=$4 offb=$5 o1 o2 i1 i2 extra=""
	if [ "$fam" = 4 ]; then o1=192.0.2.1 o2=192.0.2.2; else o1=2001:db8::1 o2=2001:db8::2; fi
	[ "$esn" = yes ] && extra="flag esn replay-window 128"
	sim_addrs "$fam" "$mode"
	local i1=$SIM_I1 i2=$SIM_I2
	for ns in $A $B; do ip -n $ns xfrm state flush; ip -n $ns xfrm policy flush; done
	local offa_out="offload dev sim0 dir out" offa_in="offload dev sim0 dir in" offb_out="" offb_in=""
	if [ "$offb" = yes ]; then offb_out="offload dev sim1 dir out" offb_in="offload dev sim1 dir in"; fi
	# A -> B uses SPI 0x1001, B -> A 0x1002.
	ip -n $A xfrm state add src $o1 dst $o2 proto esp spi 0x1001 reqid 1 mode $mode $extra \
		aead 'rfc4106(gcm(aes))' $key 128 $offa_out || return 1
	ip -n $A xfrm state add src $o2 dst $o1 proto esp spi 0x1002 reqid 2 mode $mode $extra \
		aead 'rfc4106(gcm(aes))' $key 128 $offa_in || return 1
	ip -n $B xfrm state add src $o1 dst $o2 proto esp spi 0x1001 reqid 1 mode $mode $extra \
		aead 'rfc4106(gcm(aes))' $key 128 $offb_in || return 1
	ip -n $B xfrm state add src $o2 dst $o1 proto esp spi 0x1002 reqid 2 mode $mode $extra \
		aead 'rfc4106(gcm(aes))' $key 128 $offb_out || return 1
	ip -n $A xfrm policy add src $i1 dst $i2 dir out tmpl src $o1 dst $o2 proto esp reqid 1 mode $mode || return 1
	ip -n $A xfrm policy add src $i2 dst $i1 dir in tmpl src $o2 dst $o1 proto esp reqid 2 mode $mode || return 1
	ip -n $B xfrm policy add src $i2 dst $i1 dir out tmpl src $o2 dst $o1 proto esp reqid 2 mode $mode || return 1
	ip -n $B xfrm policy add src $i1 dst $i2 dir in tmpl src $o1 dst $o2 proto esp reqid 1 mode $mode || return 1
}

# sim_addrs FAMILY MODE: sets SIM_I1/SIM_I2, the addresses the protected
# traffic uses (call in the main shell: `ok` runs commands in a subshell).
sim_addrs() {
	if [ "$2" = tunnel ]; then
		if [ "$1" = 4 ]; then SIM_I1=198.51.100.1 SIM_I2=198.51.100.2; else SIM_I1=2001:db8:1::1 SIM_I2=2001:db8:1::2; fi
	elif [ "$1" = 4 ]; then
		SIM_I1=192.0.2.1 SIM_I2=192.0.2.2
	else
		SIM_I1=2001:db8::1 SIM_I2=2001:db8::2
	fi
}

# sim_offloaded NS SPI: the SA is offloaded (ip shows crypto offload parameters).
sim_offloaded() { ip -n "$1" -s xfrm state list spi "$2" | grep -q "crypto offload parameters"; }

# sim_ping FROM_NS TO_ADDR [COUNT]
sim_ping() { ip netns exec "$1" ping -q -c "${3:-3}" -i 0.2 -W 2 "$2"; }

# sim_tcp SERVER_NS SERVER_ADDR CLIENT_NS BYTES: a TCP transfer of BYTES
# from the client to the server; checks that all bytes arrived.
sim_tcp() {
	local sns=$1 addr=$2 cns=$3 bytes=$4 out listen connect
	if [[ $addr == *:* ]]; then
		listen=TCP6-LISTEN:5201,reuseaddr connect="TCP6:[$addr]:5201"
	else
		listen=TCP4-LISTEN:5201,reuseaddr connect="TCP4:$addr:5201"
	fi
	out=$(mktemp)
	head -c "$bytes" /dev/urandom > "$out.src"
	ip netns exec "$sns" timeout 20 socat -u "$listen" "CREATE:$out" &
	local srv=$! rc=0
	# The guest is slow: wait until the server listens.
	wait_for 10 "ip netns exec $sns ss -Hltn 'sport = :5201' | grep -q LISTEN" || rc=1
	ip netns exec "$cns" timeout 20 socat -u "OPEN:$out.src" "$connect" || rc=1
	wait $srv || rc=1
	[ $rc = 0 ] && cmp -s "$out" "$out.src" || rc=1
	rm -f "$out" "$out.src"
	return $rc
}

# sim_capture NS DEV FILE COUNT: starts tcpdump writing COUNT packets that
# DEV transmits.
sim_capture() {
	ip netns exec "$1" timeout 30 tcpdump -q -n -Q out -i "$2" -c "$4" -w "$3" 2>/dev/null &
	SIM_CAPTURE_PID=$!
	sleep 1
}

# sim_only_esp FILE I1 I2: the capture has ESP and no packet between the
# protected addresses I1 and I2 in clear (IPv6 neighbour discovery aside,
# which IPsec policies do not cover).
sim_only_esp() {
	local esp clear
	esp=$(tcpdump -r "$1" -n 'esp' 2>/dev/null | wc -l)
	clear=$(tcpdump -r "$1" -n "(ip or ip6) and host $2 and host $3 and not esp and not (icmp6 and ip6[40] >= 133 and ip6[40] <= 137)" 2>/dev/null)
	echo "esp=$esp clear:"
	echo "$clear"
	[ "$esp" -gt 0 ] && [ -z "$clear" ]
}
