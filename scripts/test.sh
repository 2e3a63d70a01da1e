#!/usr/bin/env bash
# The whole test run: setup if needed, style checks, host tests, module
# build, KUnit suites and integration scripts in the guest, kernel log
# check. Ends with one line "N passed, N failed".
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$HBOND_TOP"

results=$HBOND_TOP/out/results.txt
mkdir -p out
: > "$results"
record() { # record pass|fail NAME
	echo "$1 $2" >> "$results"
	[ "$1" = pass ] || echo "FAILED: $2" >&2
}
step() { echo; echo "##### $*"; }
t0=$(date +%s)

step setup
scripts/setup.sh || { record fail setup; }

step "style: rustfmt, clippy"
scripts/check.sh "$results"

step "host tests (cargo test)"
if "$HBOND_CARGO" test --workspace 2>&1 | tee out/cargo-test.txt; then :; fi
while read -r p f; do
	for _ in $(seq 1 "$p"); do record pass "host-test"; done
	for _ in $(seq 1 "$f"); do record fail "host-test"; done
done < <(sed -nE 's/^test result: [a-zA-Z]+\. ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/p' out/cargo-test.txt)
grep -q '^test result:' out/cargo-test.txt || record fail "host tests did not run"

step "module build"
if make -s modules 2>&1 | tee out/build.txt; then
	record pass "module build"
else
	record fail "module build"
fi

step "tools build (hbondctl, iproute2 plugin)"
if make -s tools 2>&1 | tee out/tools.txt; then
	record pass "tools build"
else
	record fail "tools build"
fi

step "guest: KUnit suites and integration tests"
guest_out=$HBOND_TOP/out/guest
if [ -f hbond.ko ] && [ -f ipsecsim.ko ]; then
	scripts/guest.sh --test --out "$guest_out" -- "$HBOND_TOP/scripts/guest-tests.sh" "$guest_out"
	guest_rc=$?
	scripts/collect-results.py "$guest_out" "$HBOND_TOP" >> "$results"
	if [ "$guest_rc" = 0 ]; then
		record pass "guest run, module unload and kernel log clean"
	else
		record fail "guest run, module unload and kernel log clean (rc $guest_rc)"
	fi
else
	record fail "guest run (modules missing)"
fi

passed=$(grep -c '^pass ' "$results")
failed=$(grep -c '^fail ' "$results")
echo
grep '^fail ' "$results" | sed 's/^fail /FAILED: /'
echo "test time: $(( $(date +%s) - t0 ))s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
