#!/usr/bin/env bash
# The accounting export (issue 9, point 8): hb0 (AFT) over sim0 (inline
# ESP and a crypto engine) and veth0 (nothing), veth0 active, so that
# sim0's engine does veth0's ESP through the crypto API (lookaside). After
# a short ping, sim0's engine counters grew by the requests it did, in
# netlink (ip -d link show with the plugin), sysfs (hbond_slave/engine_*)
# and hbondctl (text and -j) alike, nothing is left in flight, the SAs'
# lines in hbond_esp/sas show engine work and no inline work, and
# hbond_esp/totals are ethtool -S hb0's counters. Every check compares
# values before and after the traffic, or two interfaces with each other.
# With more SAs than a page holds, sas lists whole lines and counts the
# rest in its last line, as hbondctl does.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ipsecsim-lib.sh"
A=hbt-cnt-a B=hbt-cnt-b
. "$(dirname "$0")/hbond-esp-lib.sh"
. "$(dirname "$0")/tools-lib.sh"

PINGS=20
STATS="engine_requests engine_request_bytes engine_completed engine_completed_bytes engine_errors engine_in_flight engine_in_flight_bytes"
OUT_SA=0x00002501 IN_SA=0x00002502

# snap ARRAY: everything the checks compare, read at one moment into the
# associative array ARRAY (few processes: each start is slow under TCG):
#   nl/STAT            sim0's engine counters in netlink (ip -d, plugin)
#   sys/STAT           sim0's hbond_slave/engine_* files (sys/engine: its name)
#   sa/SPI/COLUMN      hb0's hbond_esp/sas, by the header's column names
#   tot/DIR/COUNTER    hb0's hbond_esp/totals
#   eth/NAME           ethtool -S hb0
#   cli/STAT, cli/engine   sim0 in the engines of hbondctl show -j (jq)
snap() {
	local -n s=$1
	local line k v section hdr cols i
	s=()
	line=$(ip -n $A -d link show sim0)
	for k in $STATS; do
		[[ $line =~ [[:space:]]$k[[:space:]]([0-9]+) ]] && s[nl/$k]=${BASH_REMATCH[1]}
	done
	# shellcheck disable=SC2016
	while read -r -a cols; do
		case ${cols[0]-} in
		--*) section=${cols[0]#--}; hdr=(); continue ;;
		esac
		case $section in
		sys) s[sys/${cols[0]}]=${cols[1]} ;;
		eth) [ ${#cols[@]} = 2 ] && s[eth/${cols[0]%:}]=${cols[1]} ;;
		sas | totals)
			if [ ${#hdr[@]} = 0 ]; then hdr=("${cols[@]}"); continue; fi
			[ "${cols[0]}" = ... ] && { s[sa/more]=${cols[1]}; continue; }
			for ((i = 1; i < ${#cols[@]}; i++)); do
				if [ $section = sas ]; then
					s[sa/${cols[0]}/${hdr[i]}]=${cols[i]}
				else
					s[tot/${cols[0]}/${hdr[i]}]=${cols[i]}
				fi
			done
			;;
		esac
	done < <(in_a bash -c '
		echo --sys
		for f in /sys/class/net/sim0/hbond_slave/engine /sys/class/net/sim0/hbond_slave/engine_*; do read -r v < "$f"; echo "${f##*/} $v"; done
		echo --sas; while read -r l; do echo "$l"; done < /sys/class/net/hb0/hbond_esp/sas
		echo --totals; while read -r l; do echo "$l"; done < /sys/class/net/hb0/hbond_esp/totals
		echo --eth; ethtool -S hb0')
	while IFS=$'\t' read -r k v; do
		s[cli/$k]=$v
	done < <(ctl show hb0 -j | jq -r '.[0].engines[] | select(.slave == "sim0") | to_entries[] | "\(.key)\t\(.value)"')
}

# grew S0 S1 KEY MIN: KEY grew by at least MIN from snapshot S0 to S1.
grew() {
	local -n a=$1 b=$2
	[[ ${a[$3]-} =~ ^[0-9]+$ && ${b[$3]-} =~ ^[0-9]+$ ]] || { echo "$3: ${a[$3]-absent} -> ${b[$3]-absent}"; return 1; }
	[ $((b[$3] - a[$3])) -ge "$4" ] || { echo "$3: ${a[$3]} -> ${b[$3]}, want +$4 or more"; return 1; }
}
# same S0 S1 KEY0 [KEY1]: S0's KEY0 equals S1's KEY1 (default KEY0).
same() {
	local -n a=$1 b=$2
	[ -n "${a[$3]-}" ] && [ "${a[$3]}" = "${b[${4:-$3}]-}" ] || { echo "$3 ${a[$3]-absent} vs ${4:-$3} ${b[${4:-$3}]-absent}"; return 1; }
}
# delta S0 S1 KEY: how much KEY grew.
delta() { local -n a=$1 b=$2; echo $((b[$3] - a[$3])); }

ok "hb0 over veth0, the peer behind a bridge" setup
ok "enslave sim0" ip -n $A link set sim0 master hb0
ip -n $A addr add 192.0.2.1/24 dev hb0
ip -n $A link set hb0 up
ok "veth0 made the active slave" ip -n $A link set hb0 type hbond active_slave veth0
ok "the peer answers through hb0" wait_for 10 "nsx $A ping -c 1 -W 1 192.0.2.2"
ok "SAs offloaded to hb0, software on the peer" sas
ok "outbound SA offloaded to hb0" offloaded_to_hb0 0x2501

declare -A S0 S1
snap S0
ok "before: sim0's engine counters in netlink, sysfs and hbondctl" \
	bash -c "[ '${S0[nl/engine_requests]-}' != '' ] && [ '${S0[sys/engine_requests]-}' != '' ] && [ '${S0[cli/requests]-}' != '' ]"
ok "before: both SAs listed in hbond_esp/sas" \
	bash -c "[ '${S0[sa/$OUT_SA/dir]-}' = out ] && [ '${S0[sa/$IN_SA/dir]-}' = in ]"
ok "ping -c $PINGS through hb0 (every reply within the deadline)" \
	nsx $A ping -q -c $PINGS -i 0.05 -w 20 192.0.2.2
snap S1

# Each echo request was encrypted and each reply decrypted on sim0's
# engine: two requests per ping.
want=$((2 * PINGS))
ok "netlink: engine_requests grew by $want or more ($(delta S0 S1 nl/engine_requests))" grew S0 S1 nl/engine_requests $want
ok "netlink: engine_completed grew by $want or more" grew S0 S1 nl/engine_completed $want
ok "netlink: engine_request_bytes grew by 100 bytes a request or more" grew S0 S1 nl/engine_request_bytes $((want * 100))
ok "netlink: every byte issued was completed" \
	test "$(delta S0 S1 nl/engine_completed_bytes)" = "$(delta S0 S1 nl/engine_request_bytes)"
ok "netlink: no engine errors" test "$(delta S0 S1 nl/engine_errors)" = 0
ok "netlink: nothing in flight after the traffic" \
	bash -c "[ '${S1[nl/engine_in_flight]}' = 0 ] && [ '${S1[nl/engine_in_flight_bytes]}' = 0 ]"
ok "sysfs: engine_requests grew by $want or more" grew S0 S1 sys/engine_requests $want
ok "sysfs: engine_completed grew by $want or more" grew S0 S1 sys/engine_completed $want
bad=
for k in $STATS; do same S1 S1 nl/$k sys/$k > /dev/null || bad+=" $k"; done
ok "sysfs agrees with netlink on every engine counter" test -z "$bad"
ok "hbondctl -j: requests grew by $want or more" grew S0 S1 cli/requests $want
ok "hbondctl -j: completed grew by $want or more" grew S0 S1 cli/completed $want
ok "hbondctl -j: sim0's engine is the one sysfs names (${S1[sys/engine]-})" same S1 S1 cli/engine sys/engine
bad=
for k in $STATS; do same S1 S1 cli/${k#engine_} nl/$k > /dev/null || bad+=" $k"; done
ok "hbondctl -j agrees with netlink on every engine counter" test -z "$bad"
text=$(ctl show hb0)
printf '# %s\n' "hbondctl show hb0, after:" "${text//$'\n'/$'\n'# }"
row=$(awk '/^  engines/ { e = 1; next } e && $1 == "sim0" { print; exit }' <<< "$text")
read -r -a r <<< "$row"
ok "hbondctl text: the engines table has sim0's requests and completed" \
	bash -c "[ '${r[2]-}' = '${S1[cli/requests]}' ] && [ '${r[4]-}' = '${S1[cli/completed]}' ]"

# The SAs: engine work, no inline work, homed on sim0.
ok "sas: the outbound SA's engine_packets grew by $PINGS or more" grew S0 S1 sa/$OUT_SA/engine_packets $PINGS
ok "sas: the inbound SA's engine_packets grew by $PINGS or more" grew S0 S1 sa/$IN_SA/engine_packets $PINGS
ok "sas: neither SA did inline work (veth0 active)" \
	bash -c "[ $(delta S0 S1 sa/$OUT_SA/inline_packets) = 0 ] && [ $(delta S0 S1 sa/$IN_SA/inline_packets) = 0 ]"
ok "sas: nor host software work, nor drops" \
	bash -c "[ $(( $(delta S0 S1 sa/$OUT_SA/host_packets) + $(delta S0 S1 sa/$IN_SA/host_packets) )) = 0 ] &&
		[ $(( $(delta S0 S1 sa/$OUT_SA/dropped_packets) + $(delta S0 S1 sa/$IN_SA/dropped_packets) )) = 0 ]"
ok "sas: both SAs are homed on sim0" \
	bash -c "[ '${S1[sa/$OUT_SA/home]-}' = sim0 ] && [ '${S1[sa/$IN_SA/home]-}' = sim0 ]"
ok "sas: addresses and directions" \
	bash -c "[ '${S1[sa/$OUT_SA/daddr]-}/${S1[sa/$OUT_SA/dir]-}' = 192.0.2.2/out ] && [ '${S1[sa/$IN_SA/daddr]-}/${S1[sa/$IN_SA/dir]-}' = 192.0.2.1/in ]"
ok "the engine completed exactly the SAs' engine packets" \
	test "$(delta S0 S1 nl/engine_completed)" = $(( $(delta S0 S1 sa/$OUT_SA/engine_packets) + $(delta S0 S1 sa/$IN_SA/engine_packets) ))

# The team's totals: ethtool -S's counters, engine work both ways.
bad=
for k in inline_packets inline_bytes engine_packets engine_bytes host_packets host_bytes dropped_packets \
	dropped_bytes drop_no_engine drop_queue_full drop_engine_error drop_icv; do
	same S1 S1 tot/out/$k eth/tx_esp_$k > /dev/null || bad+=" out/$k"
	same S1 S1 tot/in/$k eth/rx_esp_$k > /dev/null || bad+=" in/$k"
done
ok "totals are ethtool -S hb0's ESP counters, all 24" test -z "$bad"
ok "totals: transmit engine_packets grew by $PINGS or more" grew S0 S1 tot/out/engine_packets $PINGS
ok "totals: receive engine_packets grew by $PINGS or more" grew S0 S1 tot/in/engine_packets $PINGS
ok "totals: no inline work grew" \
	bash -c "[ $(delta S0 S1 tot/out/inline_packets) = 0 ] && [ $(delta S0 S1 tot/in/inline_packets) = 0 ]"
ok "sas lists every SA (no '... more' line)" test -z "${S1[sa/more]-}"

# More SAs than a page holds (a line is about 55 bytes): the file lists
# whole lines, then says how many it left out; hbondctl reports the same.
MANY=150
batch=/tmp/hbt-cnt-sas.$$
key=$(sim_key "$KEY128")
for ((i = 0; i < MANY; i++)); do
	printf 'xfrm state add src 192.0.2.1 dst 192.0.2.9 proto esp spi 0x%x mode transport aead rfc4106(gcm(aes)) %s 128 offload dev hb0 dir out\n' \
		$((0x2600 + i)) "$key"
done > $batch
ok "$MANY more SAs offloaded to hb0 (one ip batch)" ip -n $A -batch $batch
# sas_read: SAS_TEXT (the file), SAS_LISTED (its SA lines), SAS_MORE (the
# last line's count, empty without one), SAS_BAD (lines that are not the
# header's 16 columns, or follow the last line), SAS_LAST (the last line).
sas_read() {
	local l first=1
	SAS_TEXT=$(in_a bash -c 'while IFS= read -r l; do printf "%s\n" "$l"; done < /sys/class/net/hb0/hbond_esp/sas')
	SAS_MORE= SAS_LISTED=0 SAS_BAD=0 SAS_LAST=${SAS_TEXT##*$'\n'}
	while read -r -a l; do
		if [ $first = 1 ]; then
			first=0
			[ ${#l[@]} = 16 ] || SAS_BAD=$((SAS_BAD + 1))
		elif [ "${l[0]}" = ... ]; then
			SAS_MORE=${l[1]}
		else
			SAS_LISTED=$((SAS_LISTED + 1))
			[ -z "$SAS_MORE" ] && [ ${#l[@]} = 16 ] || SAS_BAD=$((SAS_BAD + 1))
		fi
	done <<< "$SAS_TEXT"
}
truncated() {
	[[ $SAS_LAST =~ ^\.\.\.\ [0-9]+\ more\ SAs\ not\ listed$ ]] && [ "${SAS_MORE:-0}" -gt 0 ]
}
sas_read
ok "sas (${#SAS_TEXT} bytes) ends with '... N more SAs not listed' (N ${SAS_MORE:-absent})" truncated
ok "sas: listed ($SAS_LISTED) and not listed add up to every SA ($((MANY + 2)))" \
	test $((SAS_LISTED + ${SAS_MORE:-0})) = $((MANY + 2))
ok "sas: every line is whole (16 columns), none after the last" test "$SAS_BAD" = 0
read -r n more < <(ctl show hb0 -j | jq -r '.[0].esp | "\(.sas | length) \(.sas_not_listed)"')
ok "hbondctl -j: the same SAs listed ($n) and not listed ($more)" \
	test "$n/$more" = "$SAS_LISTED/${SAS_MORE:-0}"
# (One batch: ip's deleteall stops at a buffer's worth of states.)
for ((i = 0; i < MANY; i++)); do
	printf 'xfrm state delete src 192.0.2.1 dst 192.0.2.9 proto esp spi 0x%x\n' $((0x2600 + i))
done > $batch
ok "the extra SAs deleted (one ip batch)" ip -n $A -batch $batch
rm -f $batch
# A deleted SA leaves the registry when the stack frees it (its state
# garbage collection, then a grace period per transform): soon, not at once.
ok "sas lists the two SAs again, without a last line" wait_for 30 \
	'sas_read; [ "$SAS_LISTED/${SAS_MORE:-none}/$SAS_BAD" = 2/none/0 ]'
tap_done
