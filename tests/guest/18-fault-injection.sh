#!/usr/bin/env bash
# Allocation failures, systematically: each request below is repeated with
# its 1st, 2nd, ... allocation failing (the kernel's /proc/PID/fail-nth,
# failslab filtered to allocations with the module on the call stack),
# until it runs without reaching the failing one. Each time, a refused
# request must have changed nothing and a teardown (release, delete) must
# still have been done completely. The guest runner checks the kernel log
# (KASAN, lockdep, WARNING) and kmemleak afterwards.
#   18-fault-injection.sh           (creates the namespace, runs itself in it)
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
export IP_LIB_DIR=$top/tools/iproute2
N=hb-fault

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

ok "hbond's address range for failslab" module_range hbond
quiet "link set lo up"

# --- Team creation and deletion.
c_pre() { absent fi1; }
c_post() { if [ $REFUSED_NOW = 1 ]; then absent fi1; else there fi1 && quiet "link del fi1"; fi; }
check "creating a team: refused or complete" create c_pre "link add fi1 type hbond mode alb miimon 50" c_post
d_pre() { quiet "link add fi1 type hbond mode alb" && quiet "link add fv0 type veth peer name fw0" &&
	quiet "link set fv0 master fi1"; }
d_post() { [ $REFUSED_NOW = 0 ] && absent fi1 && unslaved fv0 && quiet "link del fv0"; }
check "deleting a team with a slave: always complete" delete d_pre "link del fi1" d_post

# --- Enslaving and releasing (the team adopts its first slave's MAC).
quiet "link add fi0 type hbond mode aft miimon 50"
quiet "link add fv0 type veth peer name fw0"
quiet "link add fv1 type veth peer name fw1"
quiet "link set fw0 up"
quiet "link set fi0 up"
# The state before each attempt (a completed attempt changes it: the team
# keeps the address it took from its first slave, as bonding does).
before() { team_mac=$(addr fi0) dev_mac=$(addr "$1") dev_flags=$(< "/sys/class/net/$1/flags"); }
# unchanged DEV: as before the attempt.
unchanged() {
	local now="$(addr fi0) $(addr "$1") $(< "/sys/class/net/$1/flags")"
	[ "$now" = "$team_mac $dev_mac $dev_flags" ] ||
		{ echo "team address, $1 address, $1 flags: $now, before: $team_mac $dev_mac $dev_flags"; return 1; }
}
e_pre() { unslaved fv0 && before fv0; }
e_post() {
	if [ $REFUSED_NOW = 1 ]; then
		unslaved fv0 && unchanged fv0
	else
		slave_of fv0 fi0 && quiet "link set fv0 nomaster" && unslaved fv0 && [ "$(addr fv0)" = "$dev_mac" ]
	fi
}
check "enslaving the first slave: refused and undone, or complete" enslave e_pre "link set fv0 master fi0" e_post
# A second slave into a team with one (the list, the team's maps).
quiet "link set fv0 master fi0"
e2_pre() { unslaved fv1 && before fv1; }
e2_post() {
	if [ $REFUSED_NOW = 1 ]; then
		unslaved fv1 && unchanged fv1
	else
		slave_of fv1 fi0 && quiet "link set fv1 nomaster" && unslaved fv1
	fi
}
check "enslaving a second slave: refused and undone, or complete" enslave2 e2_pre "link set fv1 master fi0" e2_post
r_pre() { quiet "link set fv1 master fi0"; }
r_post() { [ $REFUSED_NOW = 0 ] && unslaved fv1 && slave_of fv0 fi0; }
check "releasing a slave: always complete" release r_pre "link set fv1 nomaster" r_post

# --- SAs offloaded to the team (hbond's registry, the home slave's driver).
quiet "link add fs0 type ipsecsim peer name fs1"
quiet "link set fs1 up"
quiet "link set fs0 master fi0"
quiet "addr add 192.0.2.1/24 dev fi0"
KEY=0x18181818181818181818181818181818deadbe18
sa="xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1801 reqid 1 mode transport aead rfc4106(gcm(aes)) $KEY 128 offload dev fi0 dir out"
s_pre() { quiet "xfrm state flush"; }
# listed: 0 if the SA is in the SAD, 1 if not (ip exits after a list).
listed() { run "xfrm state list" || return 2; [[ $OUT == *"spi 0x00001801"* ]]; }
s_post() {
	local st
	listed
	st=$?
	if [ $REFUSED_NOW = 1 ]; then [ $st = 1 ]; else [ $st = 0 ]; fi
}
check "adding an SA offloaded to the team: refused or complete" sa-add s_pre "$sa" s_post
sd_pre() { quiet "xfrm state flush" && quiet "$sa"; }
sd_post() { [ $REFUSED_NOW = 0 ] && { listed; [ $? = 1 ]; }; }
check "deleting it: always complete" sa-del sd_pre "xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1801" sd_post
# Releasing the SA's home slave moves its SAs off it.
rh_pre() { unslaved fs0 || quiet "link set fs0 nomaster"; quiet "link set fs0 master fi0" && quiet "xfrm state flush" && quiet "$sa"; }
rh_post() { [ $REFUSED_NOW = 0 ] && unslaved fs0; }
check "releasing the home slave of an SA: always complete" release-home rh_pre "link set fs0 nomaster" rh_post
quiet "xfrm state flush"
quiet "link del fi0"

# --- ipsecsim: a pair and its engine (crypto API algorithms).
ok "ipsecsim's address range for failslab" module_range ipsecsim
p_pre() { absent fs2 && absent fs3; }
p_post() { if [ $REFUSED_NOW = 1 ]; then absent fs2 && absent fs3; else there fs2 && there fs3 && quiet "link del fs2"; fi; }
check "creating an ipsecsim pair: refused and undone, or complete" sim-create p_pre "link add fs2 type ipsecsim peer name fs3" p_post
pd_pre() { quiet "link add fs2 type ipsecsim peer name fs3"; }
pd_post() { [ $REFUSED_NOW = 0 ] && absent fs2 && absent fs3; }
check "deleting an ipsecsim pair: always complete" sim-delete pd_pre "link del fs2" pd_post
quiet "link del fs0"
quiet "link del fv0"
quiet "link del fv1"
restore
stop_ip

# Algorithms of failed and deleted devices are orphans until unused; once
# the module is gone, /proc/crypto must still be readable and name none.
ok "ipsecsim unloads (once the orphans' self-tests let go)" wait_for 20 "rmmod ipsecsim"
no_sim_alg() { [[ $(< /proc/crypto) != *ipsecsim* ]]; }
ok "/proc/crypto is readable and names no ipsecsim algorithm" no_sim_alg
ok "ipsecsim reloads" insmod "$top/ipsecsim.ko"
tap_done
