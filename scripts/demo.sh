#!/usr/bin/env bash
# make run: build what is missing, boot the guest and show hbond at work.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$HBOND_TOP"
[ -f "$(hbond_kdir)/arch/x86/boot/bzImage" ] || scripts/setup.sh
make -s modules
echo "booting the test kernel in QEMU (TCG) ..."
exec scripts/guest.sh --out "$HBOND_TOP/out/demo" -- "$HBOND_TOP/scripts/demo-guest.sh"
