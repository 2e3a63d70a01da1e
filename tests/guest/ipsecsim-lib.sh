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
# Example keys (128/256-bit AES plus the 32-bit salt). They tell sim_sas the
# key size only: every SA gets a fresh random key (sim_key), since GCM must
# never see one key with one IV twice and each new SA restarts its sequence
# numbers (the IVs) at 1.
KEY128=0x0123456789abcdef0123456789abcdef01020304
KEY256=0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01020304

# sim_key LIKE: a fresh random key of the size of key LIKE ($KEY128, $KEY256).
sim_key() {
	local bytes=$(((${#1} - 2) / 2)) hex
	hex=$(od -An -v -tx1 -N "$bytes" /dev/urandom)
	hex=${hex//[$' \n']/}
	echo "0x$hex"
}

sim_cleanup() { ns_sys_drop; ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; true; }

# sim_setup: the pair, addresses, routes for the tunnel inner prefixes.
sim_setup() {
	sim_cleanup
	ip netns add $A && ip netns add $B || return 1
	[ -f "$IP_LIB_DIR/link_ipsecsim.so" ] || { echo "sim_setup: no $IP_LIB_DIR/link_ipsecsim.so: run make tools"; return 1; }
	ip -n $A link add sim0 type ipsecsim peer name sim1 netns $B || return 1
	# One ip process per namespace (each process is slow under TCG; ip
	# -batch stops at a failing command).
	ip -n $A -batch - <<-EOF || return 1
	addr add 192.0.2.1/24 dev sim0
	addr add 2001:db8::1/64 dev sim0 nodad
	link set lo up
	addr add 198.51.100.1/32 dev lo
	addr add 2001:db8:1::1/128 dev lo nodad
	link set sim0 up
	route add 198.51.100.2/32 dev sim0 via 192.0.2.2 src 198.51.100.1
	route add 2001:db8:1::2/128 dev sim0 via 2001:db8::2 src 2001:db8:1::1
	EOF
	ip -n $B -batch - <<-EOF || return 1
	addr add 192.0.2.2/24 dev sim1
	addr add 2001:db8::2/64 dev sim1 nodad
	link set lo up
	addr add 198.51.100.2/32 dev lo
	addr add 2001:db8:1::2/128 dev lo nodad
	link set sim1 up
	route add 198.51.100.1/32 dev sim1 via 192.0.2.1 src 198.51.100.2
	route add 2001:db8:1::1/128 dev sim1 via 2001:db8::1 src 2001:db8:1::2
	EOF
}

# stats DEV NS NAME...: counters of one ethtool -S, on one line ("missing"
# for one it lacks), parsed in this shell (each process is slow under TCG).
stats() {
	local dev=$1 ns=$2 k v out=()
	local -A c=()
	shift 2
	while read -r k v; do c[${k%:}]=$v; done < <(nsx "$ns" ethtool -S "$dev")
	for k; do out+=("${c[$k]-missing}"); done
	echo "${out[*]}"
}

# stat DEV NS NAME: one counter of ethtool -S (nothing if it lacks it).
stat() { local v; v=$(stats "$1" "$2" "$3"); [ "$v" = missing ] || echo "$v"; }

# sim_sas FAMILY MODE KEY ESN OFFLOAD_B [OFFLOAD_A_OUT]: replaces all SAs and
# policies. FAMILY 4|6, MODE transport|tunnel, KEY a key of the size to use
# (each SA gets its own fresh key of that size), ESN yes|no, OFFLOAD_B yes|no
# (sim0's inbound SA is always offloaded, its outbound one unless
# OFFLOAD_A_OUT=no; sim1's only with OFFLOAD_B=yes).
sim_sas() {
	local fam=$1 mode=$2 key=$3 esn=$4 offb=$5 offa=${6:-yes} o1 o2 i1 i2 extra=""
	local kab kba
	kab=$(sim_key "$key") kba=$(sim_key "$key")
	if [ "$fam" = 4 ]; then o1=192.0.2.1 o2=192.0.2.2; else o1=2001:db8::1 o2=2001:db8::2; fi
	[ "$esn" = yes ] && extra="flag esn replay-window 128"
	sim_addrs "$fam" "$mode"
	local i1=$SIM_I1 i2=$SIM_I2
	local offa_out="offload dev sim0 dir out" offa_in="offload dev sim0 dir in" offb_out="" offb_in=""
	[ "$offa" = yes ] || offa_out=""
	if [ "$offb" = yes ]; then offb_out="offload dev sim1 dir out" offb_in="offload dev sim1 dir in"; fi
	# A -> B uses SPI 0x1001 and key kab, B -> A 0x1002 and kba. One ip
	# process per namespace (ip -batch stops at a failing command).
	ip -n $A -batch - <<-EOF || return 1
	xfrm state flush
	xfrm policy flush
	xfrm state add src $o1 dst $o2 proto esp spi 0x1001 reqid 1 mode $mode $extra aead rfc4106(gcm(aes)) $kab 128 $offa_out
	xfrm state add src $o2 dst $o1 proto esp spi 0x1002 reqid 2 mode $mode $extra aead rfc4106(gcm(aes)) $kba 128 $offa_in
	xfrm policy add src $i1 dst $i2 dir out tmpl src $o1 dst $o2 proto esp reqid 1 mode $mode
	xfrm policy add src $i2 dst $i1 dir in tmpl src $o2 dst $o1 proto esp reqid 2 mode $mode
	EOF
	ip -n $B -batch - <<-EOF || return 1
	xfrm state flush
	xfrm policy flush
	xfrm state add src $o1 dst $o2 proto esp spi 0x1001 reqid 1 mode $mode $extra aead rfc4106(gcm(aes)) $kab 128 $offb_in
	xfrm state add src $o2 dst $o1 proto esp spi 0x1002 reqid 2 mode $mode $extra aead rfc4106(gcm(aes)) $kba 128 $offb_out
	xfrm policy add src $i2 dst $i1 dir out tmpl src $o2 dst $o1 proto esp reqid 2 mode $mode
	xfrm policy add src $i1 dst $i2 dir in tmpl src $o1 dst $o2 proto esp reqid 1 mode $mode
	EOF
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
sim_offloaded() { [[ $(ip -n "$1" -s xfrm state list spi "$2") == *"crypto offload parameters"* ]]; }

# sim_ping FROM_NS TO_ADDR [COUNT]
sim_ping() { nsx "$1" ping -q -c "${3:-3}" -i 0.2 -W 2 "$2"; }

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
	# The bounds are generous (a healthy transfer takes a second or two):
	# CI machines have run the guests 2x slower than an idle one.
	ip netns exec "$sns" timeout 60 socat -u "$listen" "CREATE:$out" &
	local srv=$! rc=0 t0=$SECONDS
	# The guest is slow to start the server: the client retries its
	# connection every 0.1 s for up to 20 s (socat's retry, no polling
	# processes; a refused connection costs nothing).
	ip netns exec "$cns" timeout 50 socat -u "OPEN:$out.src" "$connect,retry=200,interval=0.1" ||
		{ echo "sim_tcp: the client failed (rc $?) after $((SECONDS - t0)) s"; rc=1; }
	# A server still receiving 30 s later is stuck (its bound kills it at
	# 60 s): what the two ends saw, taken before that (an intermittent stall
	# of a peer -> hb0 transfer in 26, session 13, left no trace otherwise).
	local waited=0
	while kill -0 $srv 2>/dev/null && [ $waited -lt 1500 ]; do nap 0.02; waited=$((waited + 1)); done
	kill -0 $srv 2>/dev/null && { echo "sim_tcp: the server is still receiving after 30 s"; sim_tcp_diag "$sns" "$cns"; }
	wait $srv || { echo "sim_tcp: the server failed (rc $?) after $((SECONDS - t0)) s"; rc=1; }
	[ $rc = 0 ] && { cmp "$out" "$out.src" || { echo "sim_tcp: received $(wc -c < "$out") of $bytes bytes"; rc=1; }; }
	rm -f "$out" "$out.src"
	return $rc
}

# sim_tcp_diag NS...: sockets, neighbours, link and xfrm error counters of
# each namespace (for a failure's report).
sim_tcp_diag() {
	local ns
	for ns; do
		echo "## $ns"
		ip netns exec "$ns" ss -tnio
		ip -n "$ns" neigh
		ip -n "$ns" -s -o link
		nsx "$ns" awk '$2 != 0' /proc/net/xfrm_stat
	done
}

# sim_capture NS DEV FILE: starts tcpdump writing what DEV receives (-Q in:
# on the receiver, i.e. what crossed the link) until sim_capture_stop.
# --immediate-mode: libpcap's default ring hands packets over a block at a
# time, after a timeout that follows the link speed; packets of a block not
# yet handed over when tcpdump is stopped are lost (seen: empty captures in
# a one-vCPU guest).
sim_capture() {
	ip netns exec "$1" timeout 60 tcpdump --immediate-mode -U -n -Q in -i "$2" -w "$3" 2>"$3.log" &
	SIM_CAPTURE_PID=$!
	wait_for 10 "[[ \$(< '$3.log') == *'listening on'* ]]"
}

sim_capture_stop() {
	sleep 0.5
	kill -INT "$SIM_CAPTURE_PID" 2>/dev/null
	wait "$SIM_CAPTURE_PID" 2>/dev/null
	true
}

# sim_ping_pattern FROM_NS TO_ADDR COUNT: pings whose payload repeats
# SIM_PATTERN (hex), so a capture can tell plaintext from ciphertext.
# ("ipsecsim-plaintx")
SIM_PATTERN=697073656373696d2d706c61696e7478
SIM_PATTERN_TEXT=ipsecsim-plaintx
sim_ping_pattern() { nsx "$1" ping -q -c "$3" -i 0.2 -W 2 -s 120 -p "$SIM_PATTERN" "$2"; }

# sim_only_esp FILE I1 I2 MODE: a capture taken on the receiving device has
# ESP, none of it carrying the pings' payload in clear, and no packet between
# the protected addresses I1 and I2 outside ESP (IPv6 neighbour discovery
# aside, which IPsec policies do not cover). In tunnel mode the receiver
# re-injects each decapsulated packet on the device, where the capture sees
# it: at most one per ESP packet.
sim_only_esp() {
	local file=$1 i1=$2 i2=$3 mode=$4 esp=0 clear=0 leaked line lines
	# One tcpdump lists the ESP packets and the clear ones between I1 and
	# I2, told apart by this shell (each process is slow under TCG).
	mapfile -t lines < <(tcpdump -r "$file" -n "esp or ((ip or ip6) and host $i1 and host $i2 and not (icmp6 and ip6[40] >= 133 and ip6[40] <= 137))" 2>/dev/null)
	for line in "${lines[@]}"; do
		if [[ $line == *" ESP(spi="* ]]; then esp=$((esp + 1)); else clear=$((clear + 1)); fi
	done
	# The payload's bytes in clear (counted per line of the binary file: 0
	# when absent): in transport mode anywhere in the capture; in tunnel
	# mode only inside the ESP packets (the capture also sees the packets
	# the receiver decapsulated).
	if [ "$mode" = tunnel ]; then
		tcpdump -r "$file" -w "$file.esp" 'esp' 2>/dev/null || return 1
		leaked=$(LC_ALL=C grep -c -a -F "$SIM_PATTERN_TEXT" "$file.esp")
		rm -f "$file.esp"
	else
		leaked=$(LC_ALL=C grep -c -a -F "$SIM_PATTERN_TEXT" "$file")
	fi
	echo "esp=$esp clear=$clear payload in clear=$leaked"
	[ "$esp" -gt 0 ] && [ "$leaked" = 0 ] || return 1
	if [ "$mode" = tunnel ]; then [ "$clear" -le "$esp" ]; else [ "$clear" = 0 ]; fi
}
