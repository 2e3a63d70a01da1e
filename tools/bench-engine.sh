#!/usr/bin/env bash
# Engine benchmark: the throughput an ipsecsim engine delivers to a crypto
# API user, against its configured capacity, at several settings. Prints
# one line per setting and exits non-zero if a measurement is more than 10%
# off its setting.
#
# Reproduce:  scripts/guest.sh -- bash tools/bench-engine.sh
#             RATES="500000 1500000" SECS=6 SIZE=16384 JOBS=4 (defaults)
#
# The load is JOBS AF_ALG request sockets, each encrypting SIZE-byte
# requests back to back (tools/afalg-aead.py bench) through the engine's
# rfc4106(gcm(aes)) driver, so the engine always has work queued. "unlimited" is measured first: the rates must stay below it, or
# the host's CPU, not the engine's setting, is measured.
set -u
RATES=${RATES:-"500000 1500000"}
SECS=${SECS:-6}
SIZE=${SIZE:-16384}
JOBS=${JOBS:-4}
top=$(cd "$(dirname "$0")/.." && pwd)
AFALG="python3 $top/tools/afalg-aead.py"

ip link del bench-sim 2>/dev/null
ip link add bench-sim type ipsecsim || exit 1
trap 'ip link del bench-sim 2>/dev/null' EXIT
sys=/sys/class/net/bench-sim/ipsecsim
drv="$(cat $sys/engine)-rfc4106-gcm-aes"
for _ in $(seq 200); do
	[ "$(cat $sys/engine_selftest)" = passed ] && break
	sleep 0.1
done

measure() { # measure RATE: prints bytes/s measured
	echo "$1" > $sys/engine_rate
	$AFALG bench "$drv" "$SECS" "$SIZE" "$JOBS" | awk '{ print $3 }'
}

printf '%-12s %14s %14s %8s\n' setting "configured B/s" "measured B/s" ratio
raw=$(measure 0)
printf '%-12s %14s %14s %8s\n' unlimited - "$raw" -
status=0
for rate in $RATES; do
	got=$(measure "$rate")
	ratio=$(echo "scale=3; $got / $rate" | bc)
	printf '%-12s %14s %14s %8s\n' "$rate" "$rate" "$got" "$ratio"
	if [ "$(echo "$ratio < 0.9 || $ratio > 1.1" | bc)" = 1 ]; then
		echo "  more than 10% off the setting" >&2
		status=1
	fi
	if [ "$(echo "$rate * 1.25 > $raw" | bc)" = 1 ]; then
		echo "  setting is close to the unlimited throughput: CPU-bound" >&2
	fi
done
exit $status
