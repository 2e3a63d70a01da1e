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

# master_of DEV [NETNS]: the master's name, or nothing.
master_of() {
	ip ${2:+-n "$2"} -j link show dev "$1" | jq -r '.[0].master // empty'
}

# mac_of DEV [NETNS]: the device's MAC address.
mac_of() {
	ip ${2:+-n "$2"} -j link show dev "$1" | jq -r '.[0].address'
}

# wait_for SECONDS SHELL-CONDITION: poll until the condition holds.
wait_for() {
	local deadline=$((SECONDS + $1))
	until bash -c "$2" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}
