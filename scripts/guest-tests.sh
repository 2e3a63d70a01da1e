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
# Where a script declares the known kernel bugs it provokes (see
# scripts/check-dmesg.sh).
export HBOND_GUEST_OUT=$out
mkdir -p "$out/tests"
for t in "$top"/tests/guest/[0-9]*.sh; do
	name=$(basename "$t" .sh)
	if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then
		continue
	fi
	echo "=== $name"
	start=$(date +%s.%N)
	bash "$t" > >(tee "$out/tests/$name.tap") 2>&1
	echo "$?" > "$out/tests/$name.rc"
	wait
	printf '=== %s: %.1fs\n' "$name" "$(echo "$(date +%s.%N) - $start" | bc)"
done
exit 0
