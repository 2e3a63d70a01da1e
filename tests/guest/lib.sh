# shellcheck shell=bash
# TAP helpers for the guest integration scripts. Sourced.

_tap_n=0
_tap_failed=0
# Each result is followed by a comment with its command's time and the time
# since the previous result (setup between checks), when either is at least
# a second: where a slow script spends its time.
_tap_last=$EPOCHREALTIME

# _tap_time START: the timing comment for a result whose command began at START.
_tap_time() {
	local now=$EPOCHREALTIME
	local step=$(( (${now/./} - ${1/./}) / 100000 )) gap=$(( (${1/./} - ${_tap_last/./}) / 100000 ))
	_tap_last=$now
	if [ "$step" -ge 10 ] || [ "$gap" -ge 10 ]; then
		printf '# time: %d.%ds, %d.%ds before it\n' $((step / 10)) $((step % 10)) $((gap / 10)) $((gap % 10))
	fi
}

# ok DESCRIPTION CMD...: one TAP result from a command's exit status.
ok() {
	local desc=$1; shift
	_tap_n=$((_tap_n + 1))
	local output t0=$EPOCHREALTIME
	if output=$("$@" 2>&1); then
		echo "ok $_tap_n - $desc"
	else
		echo "not ok $_tap_n - $desc"
		printf '#   %s\n' "\$ $*" "${output//$'\n'/$'\n'#   }"
		_tap_failed=1
	fi
	_tap_time "$t0"
}

# fails_with DESCRIPTION PATTERN CMD...: the command must fail and print PATTERN.
fails_with() {
	local desc=$1 pattern=$2; shift 2
	_tap_n=$((_tap_n + 1))
	local output t0=$EPOCHREALTIME
	if output=$("$@" 2>&1); then
		echo "not ok $_tap_n - $desc"
		echo "#   succeeded unexpectedly: $*"
		_tap_failed=1
	elif grep -qE -- "$pattern" <<< "$output"; then
		echo "ok $_tap_n - $desc"
	else
		echo "not ok $_tap_n - $desc"
		printf '#   expected /%s/, got: %s\n' "$pattern" "$output"
		_tap_failed=1
	fi
	_tap_time "$t0"
}

tap_done() {
	echo "1..$_tap_n"
	return "$_tap_failed"
}

# link_field DEV NETNS REGEX: the first group of REGEX in the device's
# one-line `ip -o link show`, or nothing (no device, no match). One process:
# jq takes about a second to start in the TCG guest, ip a fraction of that.
link_field() {
	local line
	line=$(ip ${2:+-n "$2"} -o link show dev "$1") || return 0
	[[ $line =~ $3 ]] && echo "${BASH_REMATCH[1]}"
	return 0
}

# master_of DEV [NETNS]: the master's name, or nothing.
master_of() { link_field "$1" "${2:-}" ' master ([^ ]+) '; }

# mac_of DEV [NETNS]: the device's MAC address.
mac_of() { link_field "$1" "${2:-}" ' link/[a-z0-9]+ ([0-9a-f:]+)'; }

# link_names NETNS [SELECTOR...]: the names of the devices that
# `ip -n NETNS link show SELECTOR...` lists, one a line (type KIND: the
# devices of a kind; master DEV: its slaves). NETNS "" is this namespace.
link_names() {
	local ns=$1 line
	shift
	while IFS= read -r line; do
		[[ $line =~ ^[0-9]+:\ ([^:@]+) ]] && echo "${BASH_REMATCH[1]}"
	done < <(ip ${ns:+-n "$ns"} -o link show "$@")
}

# nap SECONDS: sleep without starting a process (a read that times out on
# a pipe nobody writes to).
exec {_nap_fd}<> <(:)
nap() { read -r -t "$1" -u "$_nap_fd" _ || true; }

# Deadlines of the waits below are multiplied by HBOND_WAIT_SCALE (default
# 4): they bound how long a check waits for something that should happen,
# and a CI machine has run the guests 3.5 times slower than the one the
# deadlines were chosen on (session 8: a guest timed out, holders took over
# 30 s to start). A wait that succeeds returns as soon as its condition
# holds, so a generous deadline costs nothing when all is well.
HBOND_WAIT_SCALE=${HBOND_WAIT_SCALE:-4}

# wait_for SECONDS SHELL-CONDITION: poll until the condition holds (in a
# subshell of this shell: a fork, not the start of a new bash and a sleep
# each time).
wait_for() {
	local deadline=$((SECONDS + $1 * HBOND_WAIT_SCALE))
	until (eval "$2") >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		nap 0.1
	done
}

# Program starts are the bulk of a script's time in the TCG guest, and
# `ip netns exec` is the dearest: it also makes a mount namespace and
# mounts a sysfs. Measured there (20 runs each): ip netns exec NS true
# 250 ms a run, nsenter --net NS true 170 ms, /bin/true 80 ms; a sysfs
# read with ip netns exec NS cat 260 ms, with a shell builtin 9 ms.

# nsx NETNS CMD...: CMD in NETNS's network namespace only (its devices,
# sockets and netlink; /sys stays this namespace's): for programs that do
# not read /sys (ethtool, ping).
nsx() { local ns=$1; shift; nsenter --net="/run/netns/$ns" "$@"; }

# A sysfs shows the network devices of the namespace of the process that
# mounts it: ns_sys NETNS mounts one of NETNS at $NS_SYS_DIR/NETNS (nsenter
# enters the network namespace only, so the mount lands in this shell's
# mount namespace) unless it is there; ns_cat and ns_write then read and
# write its files with shell builtins. ns_sys_drop unmounts them all: call
# it before the namespaces go (a sysfs mount keeps showing the namespace it
# was made in, so a new namespace of the same name needs a new mount).
NS_SYS_DIR=/run/hbt-sys
ns_sys() {
	local d=$NS_SYS_DIR/$1
	[ -e "$d/class/net/lo" ] && return 0
	# (One without lo shows a namespace that is gone.)
	[ -d "$d/class" ] && umount "$d"
	mkdir -p "$d" && nsenter --net="/run/netns/$1" mount -t sysfs sysfs "$d"
}
# ns_cat NETNS FILE: FILE, a path under /sys, as NETNS sees it.
ns_cat() {
	local v
	ns_sys "$1" || return 1
	v=$(< "$NS_SYS_DIR/$1/${2#/sys/}") || return 1
	printf '%s\n' "$v"
}
# ns_write NETNS FILE VALUE: writes VALUE (a line) to FILE, a path under /sys.
ns_write() { ns_sys "$1" && echo "$3" > "$NS_SYS_DIR/$1/${2#/sys/}"; }
ns_sys_drop() {
	local d
	for d in "$NS_SYS_DIR"/*; do
		[ -d "$d" ] || continue
		[ -d "$d/class" ] && umount "$d"
		rmdir "$d"
	done
	return 0
}
# (An earlier script's, should it have left one.)
ns_sys_drop
# For the checks that run a `bash -c` command line too (a function that is
# not there is "command not found": under `!` a check would pass).
export NS_SYS_DIR
export -f nsx ns_sys ns_cat ns_write
