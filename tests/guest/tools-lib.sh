# shellcheck shell=bash
# Helpers for the tests of hbondctl and the iproute2 plugin. Sourced after
# lib.sh, with $A set to the namespace of the teams. Each helper reads one
# interface once into an associative array of compact JSON values, so the
# checks after it start no process (every exec is slow in the TCG guest).

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CTL=$top/target/debug/hbondctl
export IP_LIB_DIR=$top/tools/iproute2

in_a() { ip netns exec "$A" "$@"; }
ctl() { in_a "$CTL" "$@"; }

# _fill ARRAY < "KEY<TAB>VALUE" lines
_fill() {
	local -n _into=$1
	local key value
	_into=()
	while IFS=$'\t' read -r key value; do
		_into[$key]=$value
	done
}

# read_ip_options TEAM: IP[option] = value in `ip -d -j link show`.
read_ip_options() {
	declare -gA IP
	_fill IP < <(ip -n "$A" -d -j link show "$1" |
		jq -r '.[0].linkinfo.info_data // {} | to_entries[] | "\(.key)\t\(.value | tojson)"')
}

# read_cli_options TEAM: CLI[option] = value in `hbondctl show --json`.
read_cli_options() {
	declare -gA CLI
	_fill CLI < <(ctl show "$1" --json |
		jq -r '.[0].options // {} | to_entries[] | "\(.key)\t\(.value | tojson)"')
}

# read_ip_slave DEV: IP[attribute] = value of info_slave_data.
read_ip_slave() {
	declare -gA IP
	_fill IP < <(ip -n "$A" -d -j link show "$1" |
		jq -r '.[0].linkinfo.info_slave_data // {} | to_entries[] | "\(.key)\t\(.value | tojson)"')
}

# read_cli_slave TEAM DEV: CLI[attribute] = value for slave DEV.
read_cli_slave() {
	declare -gA CLI
	_fill CLI < <(ctl show "$1" --json |
		jq -r --arg dev "$2" '.[0].slaves[] | select(.ifname == $dev) | to_entries[] | "\(.key)\t\(.value | tojson)"')
}

# read_sysfs DIR: SYSFS[file] = first line of every file in DIR (in $A).
read_sysfs() {
	declare -gA SYSFS
	# shellcheck disable=SC2016
	_fill SYSFS < <(in_a bash -c 'for f in "$1"/*; do
		[ -f "$f" ] || continue
		v=; { read -r v || :; } < "$f"
		printf "%s\t%s\n" "${f##*/}" "$v"
	done' _ "$1")
}

# is ARRAY KEY VALUE: the array holds VALUE at KEY; says what it holds if not.
is() {
	local -n _in=$1
	if [ "${_in[$2]+set}" != set ]; then
		echo "$1[$2] is absent, want $3"
		return 1
	fi
	[ "${_in[$2]}" = "$3" ] || { echo "$1[$2] is ${_in[$2]}, want $3"; return 1; }
}
