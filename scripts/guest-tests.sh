#!/usr/bin/env bash
# Runs inside the guest: every tests/guest/*.sh in order, each writing TAP
# to OUT/tests/NAME.tap. Each script runs in a fresh set of namespaces that
# it creates and removes itself.
set -u
out=$1
top=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$out/tests"
mkdir -p "$out/tests"
for t in "$top"/tests/guest/[0-9]*.sh; do
	name=$(basename "$t" .sh)
	echo "=== $name"
	start=$(date +%s.%N)
	bash "$t" > >(tee "$out/tests/$name.tap") 2>&1
	echo "$?" > "$out/tests/$name.rc"
	wait
	printf '=== %s: %.1fs\n' "$name" "$(echo "$(date +%s.%N) - $start" | bc)"
done
exit 0
