# Shared by the scripts of the team's ESP offload (25, 26): host A's hb0
# over sim0 (ipsecsim: inline ESP and a crypto engine) and veth0 (nothing),
# the peer B in plain software IPsec behind a bridge standing in for a
# switch; SAs offloaded to hb0 with a fresh key each; hb0's ESP counters;
# `through`, traffic both ways checked where it is received.
# Source after lib.sh and ipsecsim-lib.sh; set A and B first.
cleanup() { kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; kp_off; sim_cleanup; }
trap cleanup EXIT

# setup [MODE]: A's hb0 (MODE, default aft) over veth0; sim0 created but
# not enslaved; B's ends sim1 and veth1 in bridge br0 (192.0.2.2).
setup() {
	sim_cleanup
	ip netns add $A && ip netns add $B || return 1
	ip -n $A link set lo up; ip -n $B link set lo up
	ip -n $A link add sim0 type ipsecsim peer name sim1 netns $B || return 1
	ip -n $A link add veth0 type veth peer name veth1 netns $B || return 1
	ip -n $B link add br0 address 02:00:00:00:b0:25 type bridge || return 1
	ip -n $B link set sim1 master br0 && ip -n $B link set veth1 master br0 || return 1
	ip -n $B addr add 192.0.2.2/24 dev br0
	for d in sim1 veth1 br0; do ip -n $B link set $d up; done
	ip -n $A link add hb0 type hbond mode "${1:-aft}" miimon 50 || return 1
	ip -n $A link set veth0 master hb0 || return 1
}

esp_hw() { nsx $A ethtool -k hb0 | awk '$1 == "esp-hw-offload:" { print $2 }'; }

# sas [software]: A's SAs offloaded to hb0 (a fresh key per SA), B's in
# software.
# Receivers keep a replay window: in ALB the flows of one SA take
# different paths (inline, engine), which may reorder them.
sas() {
	local kab kba off_out="offload dev hb0 dir out" off_in="offload dev hb0 dir in"
	# (sas software: A's SAs in software too, for comparisons.)
	[ "${1:-}" = software ] && off_out="" off_in=""
	kab=$(sim_key "$KEY128") kba=$(sim_key "$KEY128")
	# One ip process per namespace (each process is slow under TCG).
	ip -n $A -batch - <<-EOF || return 1
	xfrm state flush
	xfrm policy flush
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x2501 reqid 1 mode transport aead rfc4106(gcm(aes)) $kab 128 $off_out
	xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x2502 reqid 2 mode transport replay-window 64 aead rfc4106(gcm(aes)) $kba 128 $off_in
	xfrm policy add src 192.0.2.1 dst 192.0.2.2 dir out tmpl src 192.0.2.1 dst 192.0.2.2 proto esp reqid 1 mode transport
	xfrm policy add src 192.0.2.2 dst 192.0.2.1 dir in tmpl src 192.0.2.2 dst 192.0.2.1 proto esp reqid 2 mode transport
	EOF
	ip -n $B -batch - <<-EOF
	xfrm state flush
	xfrm policy flush
	xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x2501 reqid 1 mode transport replay-window 64 aead rfc4106(gcm(aes)) $kab 128
	xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x2502 reqid 2 mode transport aead rfc4106(gcm(aes)) $kba 128
	xfrm policy add src 192.0.2.2 dst 192.0.2.1 dir out tmpl src 192.0.2.2 dst 192.0.2.1 proto esp reqid 2 mode transport
	xfrm policy add src 192.0.2.1 dst 192.0.2.2 dir in tmpl src 192.0.2.1 dst 192.0.2.2 proto esp reqid 1 mode transport
	EOF
}

# offloaded_to_hb0 SPI: ip shows the SA offloaded to hb0.
# (Matched by this shell: each process is slow under TCG.)
offloaded_to_hb0() { [[ $(ip -n $A -s xfrm state list spi "$1") == *"crypto offload parameters"*"dev hb0"* ]]; }

# counters ARRAY: hb0's ESP counters (ethtool -S) into the associative
# array ARRAY (one ethtool run: each process start is slow under TCG).
counters() {
	local -n into=$1
	local name value
	while read -r name value; do
		into[${name%:}]=$value
	done < <(nsx $A ethtool -S hb0 | awk '$1 ~ /^(tx|rx)_esp_(inline|engine|host|dropped)_packets:$/ { print $1, $2 }')
}

# only_esp_on WANT FILE...: captures where B received. One with ESP has
# nothing else between A and B and no pattern payload in clear
# (sim_only_esp); one without has nothing of theirs at all. WANT all: each
# capture has ESP; any: at least one has.
only_esp_on() {
	local want=$1 c n esp=0 rc=0
	shift
	for c in "$@"; do
		n=$(tcpdump -r "$c" -n esp 2>/dev/null | wc -l)
		if [ "$n" -gt 0 ]; then
			esp=$((esp + 1))
			sim_only_esp "$c" 192.0.2.1 192.0.2.2 transport || { echo "not only ESP in $c"; rc=1; }
		elif [ "$(tcpdump -r "$c" -n 'ip and host 192.0.2.1 and host 192.0.2.2' 2>/dev/null | wc -l)" != 0 ]; then
			echo "IP packets in clear in $c:"
			tcpdump -r "$c" -n 'ip and host 192.0.2.1 and host 192.0.2.2' 2>/dev/null | head -5
			rc=1
		else
			echo "no ESP in $c"
		fi
	done
	case $want in
	all) [ "$esp" = $# ] || rc=1 ;;
	*) [ "$esp" -gt 0 ] || { echo "no ESP at all: the traffic did not flow"; rc=1; } ;;
	esac
	return $rc
}

# under_traffic WANT CMD...: pattern pings every 20 ms from A while CMD
# runs a second in; captured where B receives, on both wires (only_esp_on
# WANT).
under_traffic() {
	local want=$1 c1 c2 p1 p2 ping rc=0
	shift
	c1=$(mktemp --suffix .pcap) c2=$(mktemp --suffix .pcap)
	sim_capture $B sim1 "$c1"; p1=$SIM_CAPTURE_PID
	sim_capture $B veth1 "$c2"; p2=$SIM_CAPTURE_PID
	nsx $A ping -q -c 150 -i 0.02 -s 120 -p "$SIM_PATTERN" 192.0.2.2 > /dev/null 2>&1 &
	ping=$!
	sleep 1
	"$@" || { echo "failed: $*"; rc=1; }
	wait $ping
	SIM_CAPTURE_PID=$p1 sim_capture_stop
	SIM_CAPTURE_PID=$p2 sim_capture_stop
	only_esp_on "$want" "$c1" "$c2" || rc=1
	rm -f "$c1" "$c1.log" "$c2" "$c2.log"
	return $rc
}
# The stack's software ESP, for the whole guest: kprobes on
# esp_output_tail / esp6_output_tail (each packet it encrypts) and
# esp_input / esp6_input (each packet it decrypts), each hit recording the
# network namespace of its SA (the state's first word, xs_net; the state is
# the first argument of all four). An offloaded packet reaches neither
# (esp_xmit stops before esp_output_tail; a CRYPTO_DONE packet goes to
# esp_input_tail). B does all its ESP in software, so its namespace is
# always there; A's appears only where A did ESP in software.
KP=/sys/kernel/tracing
kp_on() {
	[ -d $KP/events/hbondesp ] && return 0
	echo 'p:hbondesp/hbond_sw_esp_out esp_output_tail net=+0(%di):x64' >> $KP/kprobe_events &&
		echo 'p:hbondesp/hbond_sw_esp_in esp_input net=+0(%di):x64' >> $KP/kprobe_events &&
		echo 'p:hbondesp/hbond_sw_esp6_out esp6_output_tail net=+0(%di):x64' >> $KP/kprobe_events &&
		echo 'p:hbondesp/hbond_sw_esp6_in esp6_input net=+0(%di):x64' >> $KP/kprobe_events &&
		echo 1 > $KP/events/hbondesp/enable
}
kp_off() {
	[ -d $KP/events/hbondesp ] || return 0
	echo 0 > $KP/events/hbondesp/enable
	local e
	for e in esp_out esp_in esp6_out esp6_in; do echo "-:hbondesp/hbond_sw_$e" >> $KP/kprobe_events; done
}
kp_clear() { echo > $KP/trace; }
# sw_esp: "NETS_OUT MIN_OUT NETS_IN MIN_IN" since kp_clear: per direction,
# how many namespaces did software ESP and the fewest packets one did.
sw_esp() {
	awk '
		/hbond_sw_esp6?_(out|in):/ {
			d = ($0 ~ /hbond_sw_esp6?_out:/) ? "out" : "in"
			for (i = 1; i <= NF; i++) if ($i ~ /^net=/) n[d, $i]++
		}
		END {
			for (k in n) { split(k, p, SUBSEP); c[p[1]]++; if (!(p[1] in m) || n[k] < m[p[1]]) m[p[1]] = n[k] }
			print c["out"] + 0, m["out"] + 0, c["in"] + 0, m["in"] + 0
		}' $KP/trace
}

# through PORT LABEL PATH: ping (pattern payload) and TCP both ways,
# captured on B's PORT (where A's packets arrive): only ESP, none of it in
# clear. PATH inline: sim0 encrypted and decrypted the traffic inline;
# engine: hb0 had sim0's engine encrypt and decrypt it (lookaside, through
# the crypto API); host: the stack did ESP in software both ways. Inline
# and engine: no software ESP on A at all (kprobes); host: on every packet.
through() {
	local port=$1 label=$2 inline=$3 cap tx0 rx0 tx1 rx1 n e0 e1 n_out m_out n_in m_in auth
	# sim0's counters in one ethtool run (each process is slow under TCG).
	read -r tx0 rx0 e0 < <(stats sim0 $A ipsec_tx_packets ipsec_rx_packets engine_external_requests)
	declare -A c0 c1
	counters c0
	ok "$label: kprobes on esp_output_tail and esp_input" kp_on
	kp_clear
	cap=$(mktemp --suffix .pcap)
	sim_capture $B $port "$cap"
	ok "$label: ping hb0 -> peer" sim_ping_pattern $A 192.0.2.2 5
	sim_capture_stop
	ok "$label: only ESP arrived on $port" sim_only_esp "$cap" 192.0.2.1 192.0.2.2 transport
	rm -f "$cap" "$cap.log"
	ok "$label: TCP hb0 -> peer, content compared" sim_tcp $B 192.0.2.2 $A 100000
	ok "$label: TCP peer -> hb0, content compared" sim_tcp $A 192.0.2.1 $B 100000
	read -r n_out m_out n_in m_in < <(sw_esp)
	read -r tx1 rx1 e1 auth < <(stats sim0 $A ipsec_tx_packets ipsec_rx_packets engine_external_requests ipsec_rx_auth_failed)
	counters c1
	echo "# $label: sim0's engine, requests from crypto API users $e0 -> $e1"
	echo "# $label: sim0 inline tx $tx0 -> $tx1, rx $rx0 -> $rx1"
	echo "# $label: software ESP: encrypted in $n_out namespaces (fewest $m_out packets), decrypted in $n_in (fewest $m_in)"
	for n in "${!c0[@]}"; do echo "# $label: hb0 $n ${c0[$n]} -> ${c1[$n]}"; done
	# counted NAME [SAME...]: hb0's counter NAME grew by 60 or more (5
	# pings and 100 kB each way are more), each SAME did not grow.
	counted() {
		test "${c1[$1]}" -ge $((${c0[$1]} + 60)) || return 1
		shift
		for n; do test "${c1[$n]}" = "${c0[$n]}" || return 1; done
	}
	# host_work yes|no: A did software ESP both ways (B's namespace and
	# A's, each 60 packets or more), or none at all (B's namespace only).
	host_work() {
		if [ "$1" = no ]; then
			[ "$n_out" = 1 ] && [ "$n_in" = 1 ]
		else
			[ "$n_out" = 2 ] && [ "$n_in" = 2 ] && [ "$m_out" -ge 60 ] && [ "$m_in" -ge 60 ]
		fi
	}
	if [ "$inline" = inline ]; then
		ok "$label: sim0 encrypted inline" test "$tx1" -ge $((tx0 + 60))
		ok "$label: sim0 decrypted inline" test "$rx1" -ge $((rx0 + 60))
		ok "$label: hb0 counts its transmit ESP as inline, none as host" counted tx_esp_inline_packets tx_esp_host_packets
		ok "$label: hb0 counts its receive ESP as inline, none as host" counted rx_esp_inline_packets rx_esp_host_packets
		ok "$label: no software ESP on A (kprobes: only B's namespace)" host_work no
	elif [ "$inline" = engine ]; then
		ok "$label: sim0 encrypted nothing inline" test "$tx1" = "$tx0"
		ok "$label: sim0 decrypted nothing inline" test "$rx1" = "$rx0"
		ok "$label: sim0's engine took hb0's requests, both ways" test "$e1" -ge $((e0 + 120))
		ok "$label: hb0 counts its transmit ESP as engine work, none inline or host" counted tx_esp_engine_packets tx_esp_inline_packets tx_esp_host_packets
		ok "$label: hb0 counts its receive ESP as engine work, none inline or host" counted rx_esp_engine_packets rx_esp_inline_packets rx_esp_host_packets
		ok "$label: no software ESP on A (kprobes: only B's namespace)" host_work no
	else
		ok "$label: sim0 encrypted nothing (software ESP)" test "$tx1" = "$tx0"
		ok "$label: sim0's engine took no request" test "$e1" = "$e0"
		ok "$label: hb0 counts its transmit ESP as host, none inline" counted tx_esp_host_packets tx_esp_inline_packets
		ok "$label: hb0 counts its receive ESP as host, none inline" counted rx_esp_host_packets rx_esp_inline_packets
		ok "$label: A did its ESP in software (kprobes: A's namespace too)" host_work yes
	fi
	ok "$label: hb0 dropped no ESP" test "${c1[tx_esp_dropped_packets]}" = "${c0[tx_esp_dropped_packets]}"
	ok "$label: no inline authentication failures" test "$auth" = 0
}

