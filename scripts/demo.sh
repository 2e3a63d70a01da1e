#!/usr/bin/env bash
# make run: build what is missing, boot the guest and show hbond at work.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$HBOND_TOP"
[ -f "$(hbond_kdir)/arch/x86/boot/bzImage" ] || scripts/setup.sh
make -s modules
# iproute2's plugins for hbond and ipsecsim (the demo's ip commands).
make -s -C tools/iproute2
echo "booting the test kernel in QEMU (TCG) ..."
exec scripts/guest.sh --no-kunit --out "$HBOND_TOP/out/demo" -- "$HBOND_TOP/scripts/demo-guest.sh"
