# shellcheck shell=bash
# Allocation-failure sweeps (18, 19): each request is repeated with its 1st,
# 2nd, ... allocation failing (the kernel's /proc/PID/fail-nth of one
# `ip -batch` process, failslab filtered to allocations with the module's
# code near the top of the stack), until it runs without reaching the
# failing one. A script sets N (its namespace), sources lib.sh and this,
# sets the module's range (module_range) and calls `check` per request.
# Sourcing this re-runs the script inside namespace N (ip netns exec mounts
# a sysfs of the namespace: /sys/class/net is its).
top=$(cd "$(dirname "$0")/../.." && pwd)
export IP_LIB_DIR=$top/tools/iproute2

if [ "${1:-}" != inner ]; then
	ip netns del $N 2>/dev/null
	ip netns add $N || exit 1
	# ip netns exec mounts a sysfs of the namespace: /sys/class/net is its.
	ip netns exec $N bash "$0" inner
	rc=$?
	ip netns del $N
	exit $rc
fi

FS=/sys/kernel/debug/failslab
[ -d $FS ] || mount -t debugfs none /sys/kernel/debug
if [ ! -d $FS ]; then
	echo "ok 1 - allocation failures # SKIP no failslab in this kernel"
	tap_done
	exit
fi

# One ip process for the whole script (each process start is slow under
# TCG), its messages line by line through FIFOs. fail-nth counts in that
# process only. ip exits on some refusals (xfrm): then it is restarted.
fifo=/tmp/hbond-fault.$$
mkfifo "$fifo.in" "$fifo.out" || exit 1
start_ip() {
	stdbuf -oL ip -force -batch - < "$fifo.in" > "$fifo.out" 2>&1 &
	IPB_PID=$!
	exec {IPW}> "$fifo.in" {IPR}< "$fifo.out"
	batch_line=0
}
stop_ip() {
	exec {IPW}>&- {IPR}<&-
	wait "$IPB_PID" 2>/dev/null
}
start_ip

# run CMD: CMD in the batch; OUT its messages, FAILED 1 if ip refused it,
# DIED 1 if ip exited on it. Each command is followed by a marker (a
# lookup that fails with a known message) so that its end is seen.
run() {
	local op=$((batch_line + 1)) mk=fim$((batch_line + 2)) l st
	batch_line=$((batch_line + 2))
	printf '%s\nlink show dev %s\n' "$1" "$mk" >&$IPW
	OUT= FAILED=0 DIED=0
	while :; do
		IFS= read -r -t 60 l <&$IPR
		st=$?
		if [ $st -gt 128 ]; then
			echo "ip -batch stopped answering after: $1"
			return 1
		elif [ $st != 0 ]; then
			FAILED=1 DIED=1
			stop_ip
			start_ip
			return 0
		fi
		case $l in
		"Device \"$mk\" does not exist.") return 0 ;;
		"Command failed -:$op") FAILED=1 ;;
		"Command failed -:"*) ;;
		*) OUT+=$l$'\n' ;;
		esac
	done
}
# quiet CMD: CMD must work.
quiet() { run "$1" && [ $FAILED = 0 ] || { echo "failed: $1: $OUT"; return 1; }; }

# inject NTH CMD: CMD with its NTH allocation under the module failing;
# INJECTED 1 if it got that far, REFUSED_NOW 1 if CMD was refused (its
# messages in OUT_NOW; the checks after it may run other commands).
inject() {
	echo "$1" > /proc/$IPB_PID/fail-nth || return 1
	run "$2" || return 1
	REFUSED_NOW=$FAILED OUT_NOW=$OUT
	# An ip that exited on the command was refused: only an injected
	# failure refuses these commands.
	[ "$DIED" = 1 ] && { INJECTED=1; return 0; }
	local left
	left=$(< /proc/$IPB_PID/fail-nth)
	echo 0 > /proc/$IPB_PID/fail-nth
	INJECTED=$((left == 0))
}

# module_range MODULE: failslab counts only allocations with MODULE's
# memory on the stack (its text is in the range /proc/modules gives).
module_range() {
	local name size refs deps state base
	while read -r name size refs deps state base _; do
		[ "$name" = "$1" ] || continue
		[ "$((base))" != 0 ] || { echo "no module addresses in /proc/modules"; return 1; }
		echo "$base" > $FS/require-start &&
			printf '0x%x\n' $((base + size)) > $FS/require-end
		return
	done < /proc/modules
	return 1
}

# sweep NAME PRE CMD POST: for n = 1, 2, ...: PRE, CMD with its nth
# allocation failing, POST (sees FAILED, OUT), until CMD ran through.
SITES=0 REFUSED=0
sweep() {
	local name=$1 pre=$2 cmd=$3 post=$4 n
	SITES=0 REFUSED=0
	for ((n = 1; n <= 300; n++)); do
		$pre || { echo "$name: setup before attempt $n failed"; return 1; }
		inject $n "$cmd" || return 1
		$post || { echo "$name: attempt $n (refused: $REFUSED_NOW): ${OUT_NOW:-no message}"; return 1; }
		if [ "$INJECTED" = 0 ]; then
			SITES=$((n - 1))
			[ "$REFUSED_NOW" = 0 ] || { echo "$name: refused without an injected failure: $OUT_NOW"; return 1; }
			return 0
		fi
		[ "$REFUSED_NOW" = 1 ] && REFUSED=$((REFUSED + 1))
	done
	echo "$name: more than 300 allocations"
	return 1
}

# check DESC NAME PRE CMD POST: one TAP result for a sweep.
check() {
	local desc=$1 rc log t0=$SECONDS
	shift
	_tap_n=$((_tap_n + 1))
	# Not in a subshell: the batch's line count must go on.
	sweep "$@" > "$fifo.log" 2>&1
	rc=$?
	log=$(< "$fifo.log")
	log+="${log:+$'\n'}$SITES allocations, $REFUSED refusals, $((SECONDS - t0)) s"
	if [ "$rc" = 0 ]; then
		echo "ok $_tap_n - $desc"
	else
		echo "not ok $_tap_n - $desc"
		_tap_failed=1
	fi
	printf '#   %s\n' "${log//$'\n'/$'\n'#   }"
}

there() { [ -e "/sys/class/net/$1" ]; }
absent() { [ ! -e "/sys/class/net/$1" ]; }
addr() { echo "$(< "/sys/class/net/$1/address")"; }
# unslaved DEV: no master, no hbond slave attributes.
unslaved() { [ ! -e "/sys/class/net/$1/master" ] && [ ! -e "/sys/class/net/$1/hbond_slave" ]; }
slave_of() { [ -e "/sys/class/net/$1/upper_$2" ] && [ -d "/sys/class/net/$1/hbond_slave" ]; }

old0=$(< $FS/ignore-gfp-wait) oldv=$(< $FS/verbose) oldd=$(< $FS/stacktrace-depth)
restore() {
	echo 0 > $FS/require-start
	printf '0x%x\n' -1 > $FS/require-end
	echo "$old0" > $FS/ignore-gfp-wait
	echo "$oldv" > $FS/verbose
	echo "$oldd" > $FS/stacktrace-depth
}
trap 'restore; kill $IPB_PID 2>/dev/null; rm -f "$fifo".*' EXIT
echo N > $FS/ignore-gfp-wait
echo "${FI_VERBOSE:-0}" > $FS/verbose
# Allocations of the module and of the kernel functions it calls directly
# (register_netdevice's own, say) fail; deeper ones are the core's to test
# (about 7 frames from a module's allocation to should_fail_ex's trace:
# should_fail_ex, should_failslab, the allocator, krealloc, the Rust
# allocator glue, the module's function). Each level deeper multiplies the
# sweeps' length.
echo 8 > $FS/stacktrace-depth

