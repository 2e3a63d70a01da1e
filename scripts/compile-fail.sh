#!/usr/bin/env bash
# Compile-fail tests of the safe API: rules that the types of rust/ enforce
# (a delayed work's owner, device lifetimes in newlink) must keep code that
# breaks them from compiling. Each tests/compile-fail/CASE.rs is compiled
# like the modules' crates (tests/compile-fail/Kbuild), twice:
#   - as written, it must fail with the error its `//~ ERROR TEXT` comment
#     names, reported at that line (as the error's location or the macro
#     invocation it comes from): a case failing for another reason fails;
#   - with `--cfg hbond_cf_fixed` (the rule followed), it must compile: the
#     positive control, so that the case can fail at all.
# With an argument, appends "pass|fail NAME" lines to that file.
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$HBOND_TOP"
results=${1:-/dev/null}
status=0
record() {
	echo "$1 $2" >> "$results"
	if [ "$1" = pass ]; then echo "$2: ok"; else echo "$2: FAILED" >&2; status=1; fi
}
dir=tests/compile-fail
kdir=$(hbond_kdir)

# The cases include rust/, which includes the generated bindings.
if [ ! -f rust/bindings/generated.rs ] && ! make -s modules; then
	record fail "compile-fail tests (module build for the bindings)"
	exit 1
fi
rm -f "$dir"/*.log
if ! make -s -C "$kdir" M="$HBOND_TOP/$dir" "${HBOND_KMAKE_ARGS[@]}" -j2 > out/compile-fail.txt 2>&1; then
	cat out/compile-fail.txt >&2
	record fail "compile-fail tests (kbuild)"
	exit 1
fi

for src in "$dir"/*.rs; do
	case=$(basename "$src" .rs)
	# check.py LOG SRC: the expected error at its line, or the reason not.
	why=$(python3 - "$dir/${case}_fail.log" "$src" <<'EOF'
import re, sys
log, src = open(sys.argv[1]).read(), sys.argv[2]
name = src.rsplit("/", 1)[-1]
expect = [(n, m.group(1).strip()) for n, line in enumerate(open(src), 1)
          for m in [re.search(r"//~ ERROR (.*)", line)] if m]
if len(expect) != 1:
    sys.exit(f"{name}: needs exactly one //~ ERROR line, has {len(expect)}")
line, text = expect[0]
if not log.rstrip().endswith("exit 1"):
    sys.exit(f"compiled (or the compiler crashed): {log.strip().splitlines()[-1:]}")
# One block per diagnostic: its first line, and the places it names.
for block in re.split(r"\n(?=error|warning)", log):
    head = block.split("\n", 1)[0]
    places = re.findall(r"(?:-->|:::) (\S+):(\d+):\d+", block)
    if (head.startswith("error") and text in head
            and any(p.endswith("/" + name) and int(l) == line for p, l in places)):
        print(f"line {line}: {head}")
        sys.exit(0)
errors = [b.split("\n", 1)[0] for b in re.split(r"\n(?=error)", log) if b.startswith("error")]
sys.exit(f"expected at line {line}: {text!r}; got: {errors[:4]}")
EOF
	)
	if [ $? = 0 ]; then
		record pass "compile-fail $case: refused ($why)"
	else
		echo "$why" >&2
		record fail "compile-fail $case: not refused as expected (see $dir/${case}_fail.log)"
	fi
	if tail -n 1 "$dir/${case}_ok.log" | grep -qx "exit 0"; then
		record pass "compile-fail $case: compiles when the rule is followed"
	else
		grep -E '^error' "$dir/${case}_ok.log" | head -n 5 >&2
		record fail "compile-fail $case: does not compile when the rule is followed (see $dir/${case}_ok.log)"
	fi
done
exit "$status"
