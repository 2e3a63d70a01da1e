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
# Known bugs of the test kernel that a script provokes on purpose: the
# script names, in DIR/expected-splats, a function that must appear in the
# report's call trace (e.g. bond_ipsec_del_sa: 6.12's bonding sleeps in
# atomic context when an offloaded SA is deleted). Only whole report blocks
# (from the report's first line to the end of its call trace) through that
# function are set aside; any other report, and every report of a run that
# declared nothing, fails.
expected=$(dirname "$log")/expected-splats
scan=$log
if [ -s "$expected" ]; then
	scan=$(mktemp)
	trap 'rm -f "$scan"' EXIT
	awk -v pat="$pattern" -v expf="$expected" '
		BEGIN { while ((getline l < expf) > 0) if (l != "") want[l] = 1 }
		function flush(   f, keep) {
			keep = 1
			for (f in want) if (index(buf, " " f "+0x")) { keep = 0; hit[f]++ }
			if (keep) printf "%s", buf
			buf = ""; n = 0; inblk = 0
		}
		{
			if (!inblk && $0 ~ pat) { inblk = 1; buf = ""; n = 0 }
			if (inblk) {
				buf = buf $0 "\n"; n++
				if ($0 ~ /<\/TASK>/ || n > 400) flush()
				next
			}
			print
		}
		END {
			if (inblk) flush()
			for (f in want) printf "check-dmesg: %d expected report(s) through %s set aside\n", hit[f], f > "/dev/stderr"
		}' "$log" > "$scan"
fi
# Self-tests that deliberately provoke warnings are not run; anything here is real.
hits=$(grep -E "$pattern" "$scan" | grep -vE 'lockdep: (fixing|ok)|KASAN: (initialized|.*enabled)|kmemleak: Kernel memory leak detector initialized|kmemleak: Automatic' )
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
