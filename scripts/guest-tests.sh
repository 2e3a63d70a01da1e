#!/usr/bin/env bash
# Runs inside the guest: every tests/guest/[0-9]*.sh in order (or only the
# NAMEs given), each writing TAP to OUT/tests/NAME.tap. Each script runs in
# a fresh set of namespaces that it creates and removes itself.
#   guest-tests.sh OUT [NAME...]
set -u
out=$1
shift
top=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$out/tests"
# cpu_times: the guest's busy and idle CPU time so far, in clock ticks
# (/proc/stat): whether a guest's half is bound by its vCPU or waits.
cpu_times() {
	local _c u n s i w q sq rest
	read -r _c u n s i w q sq rest < /proc/stat
	echo "$((u + n + s + q + sq)) $((i + w))"
}
hz=$(getconf CLK_TCK)
read -r busy0 idle0 < <(cpu_times)
# Where a script declares the known kernel bugs it provokes (see
# scripts/check-dmesg.sh).
export HBOND_GUEST_OUT=$out
mkdir -p "$out/tests"
# The NAMEs, matched by this shell (a process start is slow under TCG).
declare -A wanted=()
for name; do wanted[$name]=1; done
for t in "$top"/tests/guest/[0-9]*.sh; do
	name=${t##*/} name=${name%.sh}
	[ $# -eq 0 ] || [ -n "${wanted[$name]:-}" ] || continue
	echo "=== $name"
	start=${EPOCHREALTIME/./}
	read -r b0 i0 < <(cpu_times)
	bash "$t" > >(tee "$out/tests/$name.tap") 2>&1
	echo "$?" > "$out/tests/$name.rc"
	wait
	read -r b1 i1 < <(cpu_times)
	el=$((${EPOCHREALTIME/./} - start))
	# Wall time last: the balancing in scripts/test.sh is by it.
	printf '=== %s: busy %d s, idle %d s: %ss\n' "$name" $(((b1 - b0) / hz)) $(((i1 - i0) / hz)) "$((el / 1000000)).$((el / 100000 % 10))"
done
read -r busy1 idle1 < <(cpu_times)
echo "=== guest CPU during the scripts: busy $(((busy1 - busy0) / hz)) s, idle $(((idle1 - idle0) / hz)) s"
exit 0
