#!/usr/bin/env bash
# The team's transmit path takes no reference per packet (issue 8, item
# 13): in the object code of hbond's ndo_start_xmit and every function of
# hbond_main.o it calls, directly or not, there is no call to a reference
# count operation (Arc clone/drop: rust_helper_refcount_inc and
# rust_helper_refcount_dec_and_test; ARef<Device>: hbond_helper_dev_hold
# and hbond_helper_dev_put). Reads drivers/net/hbond/hbond_main.o, built
# before. With an argument, appends "pass|fail NAME" lines to that file.
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$HBOND_TOP"
results=${1:-/dev/null}
name="hbond transmit path: no reference count operation per packet"
obj=drivers/net/hbond/hbond_main.o
if ! dis=$(llvm-objdump -dr --no-show-raw-insn "$obj" 2>&1); then
	echo "$dis" >&2
	echo "fail $name (no $obj)" >> "$results"
	exit 1
fi
# "FUNCTION TARGET" for every call or jump relocation, then the functions
# reachable from the start_xmit callback, and the refcount calls in them.
out=$(awk '/^[0-9a-f]+ <.*>:$/ { f = substr($2, 2, length($2) - 3) }
	/R_X86_64_(PLT32|PC32)/ { t = $NF; sub(/[-+]0x[0-9a-f]+$/, "", t); print f, t }' <<< "$dis" |
	python3 -c '
import sys
calls = {}
for line in sys.stdin:
    f, t = line.split()
    calls.setdefault(f, set()).add(t)
roots = [f for f in calls if "start_xmit_callback" in f and "6master5Hbond" in f]
if len(roots) != 1:
    sys.exit(f"expected one hbond start_xmit callback, found {roots}")
bad = {"rust_helper_refcount_inc", "rust_helper_refcount_dec_and_test",
       "hbond_helper_dev_hold", "hbond_helper_dev_put"}
seen, todo, hits = set(), list(roots), []
while todo:
    f = todo.pop()
    if f in seen:
        continue
    seen.add(f)
    for t in calls.get(f, ()):
        if t in bad:
            hits.append(f"{f} calls {t}")
        elif t in calls:
            todo.append(t)
print(f"{len(seen)} functions on the path")
if hits:
    sys.exit("\n".join(hits))
')
rc=$?
echo "check-xmit: $out"
if [ $rc = 0 ]; then
	echo "pass $name" >> "$results"
else
	echo "fail $name" >> "$results"
	echo "check-xmit: FAILED" >&2
fi
exit $rc
