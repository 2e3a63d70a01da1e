#!/usr/bin/env bash
# scripts/bench.sh NAME [VAR=VALUE...]: runs tools/bench-NAME.sh in one
# guest on the bench kernel (kernel/hbond-bench.config: the test kernel
# without KASAN, kmemleak, lockdep and fault injection), with VAR=VALUE in
# its environment. The kernel is built on first use (as long as `make
# setup`'s) and cached like the test kernel; the modules are built against
# it in a copy of the tree (out/bench-tree), so the checkout's stay built
# for the test kernel.
#
#   scripts/bench.sh esp              tools/bench-esp.sh on the bench kernel
#   scripts/bench.sh esp SECS=20
#
# The tests never use this kernel: they need its debugging options.
set -euo pipefail
. "$(dirname "$0")/env.sh"
[ $# -ge 1 ] || { echo "usage: scripts/bench.sh NAME [VAR=VALUE...]" >&2; exit 2; }
name=$1; shift
[ -f "$HBOND_TOP/tools/bench-$name.sh" ] || { echo "no tools/bench-$name.sh" >&2; exit 2; }
export HBOND_KERNEL_FLAVOR=bench
"$HBOND_TOP/scripts/build-kernel.sh"
kdir=$(hbond_cached_kdir)
tree=$HBOND_TOP/out/bench-tree
mkdir -p "$tree"
# The tree as it is (tracked and untracked files, not the ignored build
# products); what the copy built last time stays for make to reuse.
(cd "$HBOND_TOP" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$tree"
make -s -C "$tree" KDIR="$kdir" modules
make -s -C "$tree/tools/iproute2"
echo "bench kernel: $kdir"
cd "$tree"
HBOND_KDIR=$kdir exec scripts/guest.sh --no-kunit --out "$tree/out/bench" -- \
	env HBOND_REPRODUCE="scripts/bench.sh $name" "$@" bash "tools/bench-$name.sh"
