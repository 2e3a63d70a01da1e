#!/usr/bin/env bash
# Fail (exit 1) if a kernel log holds a splat: warnings, bugs, lockdep,
# KASAN, kmemleak, UBSAN, Rust panics, hung tasks, refcount leaks.
# Prints the offending lines.
set -u
log=$1
[ -f "$log" ] || { echo "check-dmesg: no log $log" >&2; exit 1; }
pattern='WARNING:|BUG:|Oops|Kernel panic|general protection fault|'
pattern+='possible circular locking|possible recursive locking|inconsistent lock state|'
pattern+='suspicious RCU usage|KASAN|UBSAN|kmemleak: [0-9]+ new suspected|'
pattern+='rust_panic|panicked at|refcount_t:|unregister_netdevice: waiting|'
pattern+='blocked for more than|sleeping function called from invalid context|'
pattern+='scheduling while atomic|list_add corruption|list_del corruption'
# Self-tests that deliberately provoke warnings are not run; anything here is real.
hits=$(grep -E "$pattern" "$log" | grep -vE 'lockdep: (fixing|ok)|KASAN: (initialized|.*enabled)|kmemleak: Kernel memory leak detector initialized|kmemleak: Automatic' )
kleak=$(dirname "$log")/kmemleak.txt
if [ -s "$kleak" ]; then
	hits+=$'\n'"kmemleak report:"$'\n'$(head -n 40 "$kleak")
fi
if [ -n "${hits//[$'\n']/}" ]; then
	echo "check-dmesg: kernel log of $log has splats:" >&2
	echo "$hits" | head -n 60 >&2
	exit 1
fi
exit 0
