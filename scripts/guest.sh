#!/usr/bin/env bash
# Run a command in a QEMU guest booted from the test kernel, with the host's
# userland (virtme-ng), and hbond.ko / ipsecsim.ko loaded.
#
#   scripts/guest.sh [options] -- CMD [ARGS...]   exit status and output of CMD
#   scripts/guest.sh --shell                      interactive shell
#
# Options:
#   --out DIR       where the guest writes dmesg.txt and rc (default: out/guest)
#   --no-modules    do not load the modules
#   --test          test mode: unload the modules after CMD and scan for leaks
#   --timeout SECS  kill the guest after SECS (default 1200)
#   --no-kunit      run no KUnit suite (the kernel's nor the modules'): for
#                   a second guest of a run whose first one ran them
#
# The kernel log of the run is saved in DIR/dmesg.txt and checked for splats
# (WARNING, BUG, lockdep, KASAN, kmemleak, Rust panics); a splat fails the run.
# HBOND_KVM=1 uses KVM where it works (it does not on nested hosts).
set -euo pipefail
. "$(dirname "$0")/env.sh"

out=$HBOND_TOP/out/guest
shell=0 modules=1 testmode=0 timeout=1200 kunit=1
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=$2; shift 2 ;;
	--shell) shell=1; shift ;;
	--no-modules) modules=0; shift ;;
	--test) testmode=1; shift ;;
	--timeout) timeout=$2; shift 2 ;;
	--no-kunit) kunit=0; shift ;;
	--) shift; break ;;
	*) echo "guest.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || [ "$shell" = 1 ] || { echo "usage: guest.sh [options] -- CMD..." >&2; exit 2; }

kdir=$(hbond_kdir)
# vng runs its helpers (virtme-run) from PATH.
export PATH="$(dirname "$HBOND_VNG"):$PATH"
[ -f "$kdir/arch/x86/boot/bzImage" ] || { echo "guest.sh: no kernel image in $kdir; run 'make setup'" >&2; exit 1; }
if [ "$modules" = 1 ]; then
	for m in hbond.ko ipsecsim.ko; do
		[ -f "$HBOND_TOP/$m" ] || { echo "guest.sh: $m not built; run 'make'" >&2; exit 1; }
	done
fi

mkdir -p "$out"
rm -f "$out/rc" "$out/dmesg.txt" "$out/expected-splats"
out=$(cd "$out" && pwd)

# The project tree is shared explicitly, writable for the results: a guest
# does not see every host directory (/var/tmp, for one).
vng_args=(--run "$kdir" --cpus "${HBOND_GUEST_CPUS:-2}" --memory 2G --rwdir "$HBOND_TOP" --cwd "$HBOND_TOP"
	--append "panic=-1 oops=panic log_buf_len=8M no5lvl")
# no5lvl: TCG's `-cpu max` has LA57. While identify_cpu() rebuilds the boot
# CPU's capabilities, pgtable_l5_enabled() reads false for a moment, and an
# interrupt taken then makes KASAN call every 5-level direct-map address
# "wild" (seen as "KASAN: wild-memory-access in do_raw_spin_lock" from
# handle_edge_irq at ~0.005 s, more often when the host is loaded). With
# 4-level paging that window does not exist; nothing under test needs LA57.
# The host's root filesystem with the page cache (cache=loose; virtme-ng
# mounts it uncached): it is read-only and does not change under a run, and
# every program start then reads its binary and libraries from guest memory
# instead of over 9p. Measured in a TCG guest: ip 0.38 -> 0.31 s, ip netns
# exec + ethtool 0.53 -> 0.41 s, python3 1.33 -> 0.82 s per start. The
# other flags are virtme-ng's own (the last rootflags= counts). The project
# tree is a separate 9p mount, uncached: it is written during a run.
vng_args+=(--append "rootflags=version=9p2000.L,trans=virtio,access=any,msize=524288,cache=loose")
# A filter glob that matches no suite (lib/kunit/executor.c).
[ "$kunit" = 1 ] || vng_args+=(--append "kunit.filter_glob=none-in-this-guest")
case "$out/" in "$HBOND_TOP"/*) ;; *) vng_args+=(--rwdir "$out") ;; esac
[ "${HBOND_KVM:-0}" = 1 ] || vng_args+=(--disable-kvm)

inner=("$HBOND_TOP/scripts/guest-init.sh" "$out" "$modules" "$testmode")
if [ "$shell" = 1 ]; then
	exec "$HBOND_VNG" "${vng_args[@]}" --exec "$(printf '%q ' "${inner[@]}") bash -i"
fi

set +e
timeout --foreground "$timeout" "$HBOND_VNG" "${vng_args[@]}" \
	--exec "$(printf '%q ' "${inner[@]}" "$@")" </dev/null
vng_rc=$?
set -e

if [ ! -f "$out/rc" ]; then
	echo "guest.sh: the guest did not finish (vng exit $vng_rc); kernel log in $out/dmesg.txt" >&2
	[ -f "$out/dmesg.txt" ] && tail -n 40 "$out/dmesg.txt" >&2
	exit 125
fi
rc=$(cat "$out/rc")
if ! "$HBOND_TOP/scripts/check-dmesg.sh" "$out/dmesg.txt"; then
	[ "$rc" != 0 ] || rc=124
fi
exit "$rc"
