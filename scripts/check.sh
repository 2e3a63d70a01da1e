#!/usr/bin/env bash
# Style checks with the kernel's Rust toolchain: rustfmt, clippy (host crates
# and modules), the compile-fail tests of the safe API
# (scripts/compile-fail.sh), no refcount operation in the transmit path
# (scripts/check-xmit.sh), and a `// SAFETY:` comment above every unsafe
# block.
# With an argument, appends "pass|fail NAME" lines to that file.
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$HBOND_TOP"
# cargo finds clippy and rustfmt on PATH: take Debian's, matching /usr/bin/cargo.
export PATH=/usr/bin:$PATH
results=${1:-/dev/null}
status=0
record() {
	echo "$1 $2" >> "$results"
	if [ "$1" = pass ]; then echo "check: $2: ok"; else echo "check: $2: FAILED" >&2; status=1; fi
}

mapfile -t rs < <(git ls-files '*.rs')
if /usr/bin/rustfmt --check --edition 2021 --config-path .rustfmt.toml "${rs[@]}"; then
	record pass "rustfmt"
else
	record fail "rustfmt"
fi

if "$HBOND_CARGO" clippy --workspace --all-targets -q -- -D warnings; then
	record pass "clippy (host crates)"
else
	record fail "clippy (host crates)"
fi

mkdir -p out
if make -s clippy > out/clippy.txt 2>&1 && ! grep -qE '^(warning|error)' out/clippy.txt; then
	record pass "clippy and rustc lints (modules)"
else
	cat out/clippy.txt >&2
	record fail "clippy and rustc lints (modules)"
fi

# Code breaking the rules the safe API's types enforce must not compile
# (after the module build above: the cases need the generated bindings).
scripts/compile-fail.sh "$results" || status=1
# No reference count operation per packet in the team's transmit path (in
# the object code of the module build above).
scripts/check-xmit.sh "$results" || status=1

# The comment block right above an unsafe block (or the line itself) must
# contain SAFETY; multi-line comments count as one block.
missing=$(awk 'FNR==1{safety=0}
	/^[[:space:]]*\/\// { if ($0 ~ /SAFETY/) safety=1; next }
	/unsafe[[:space:]]*\{/ && !/unsafe fn/ && !/SAFETY/ && !safety { print FILENAME":"FNR }
	{ safety=0 }' "${rs[@]}")
if [ -z "$missing" ]; then
	record pass "SAFETY comment on every unsafe block"
else
	echo "$missing" >&2
	record fail "SAFETY comment on every unsafe block"
fi
exit "$status"
