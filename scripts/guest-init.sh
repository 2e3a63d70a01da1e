#!/usr/bin/env bash
# Runs inside the guest (see guest.sh): load the modules, run the command,
# optionally unload and scan for leaks, and leave dmesg and rc for the host.
set -u
out=$1 modules=$2 testmode=$3
shift 3
top=$(cd "$(dirname "$0")/.." && pwd)

# No address space randomisation for the guest's programs: TCG keys its
# translated code on virtual addresses, so with ld.so and the libraries at
# new addresses in every process each program start translates them anew.
# Measured in a one-vCPU TCG guest of the test kernel (20 starts each):
# /bin/true 2.29 -> 1.66 s, ip link show 4.78 -> 3.69 s, ethtool -k 3.30 ->
# 2.51 s; scripts 21 and 27 together 73.5 -> 61.7 s. Nothing under test is
# a user-space program.
echo 0 > /proc/sys/kernel/randomize_va_space
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
mountpoint -q /sys/kernel/tracing || mount -t tracefs none /sys/kernel/tracing 2>/dev/null
# Stream the kernel log to the host, so a crash still leaves a trace.
dmesg -w > "$out/dmesg.txt" 2>&1 &
dmesg_pid=$!

fail() { echo "guest: $*" >&2; echo 1 > "$out/rc.pending"; }
# phase WHAT: the guest's uptime at the end of a phase, into OUT/phases.txt
# (where a run spends its time besides the command).
phase() { local up _; read -r up _ < /proc/uptime; echo "guest: $1 at $up s" >> "$out/phases.txt"; }
rm -f "$out/phases.txt"
phase "init started"
rc=0
if [ "$modules" = 1 ]; then
	insmod "$top/ipsecsim.ko" || fail "insmod ipsecsim.ko failed"
	insmod "$top/hbond.ko" || fail "insmod hbond.ko failed"
fi
# KUnit runs a module's suites at every load (lib/kunit/test.c,
# kunit_module_init); the loads above ran them. In test mode, later loads
# (scripts that reload a module) run none: a filter that matches no suite.
# (Seen in one run on a loaded host: hbond's suites took 4-15 s a load,
# ipsecsim's 1-8 s; 16-teardown-torture alone reloads both twice.)
kunit_glob=/sys/module/kunit/parameters/filter_glob
if [ "$testmode" = 1 ] && [ -w "$kunit_glob" ]; then
	printf 'none-after-the-first-load' > "$kunit_glob" || fail "cannot set $kunit_glob"
fi

phase "modules loaded"
if [ $# -gt 0 ]; then
	"$@"
	rc=$?
fi

if [ "$testmode" = 1 ]; then
	phase "command done"
	if [ "$modules" = 1 ]; then
		rmmod hbond || fail "rmmod hbond failed"
		rmmod ipsecsim || fail "rmmod ipsecsim failed"
	fi
	if [ -w /sys/kernel/debug/kmemleak ]; then
		# Objects must be older than 5 s before kmemleak reports them.
		sleep 6
		echo scan > /sys/kernel/debug/kmemleak
		echo scan > /sys/kernel/debug/kmemleak
		cat /sys/kernel/debug/kmemleak > "$out/kmemleak.txt"
	fi
	phase "modules unloaded, leaks scanned"
fi
[ -f "$out/rc.pending" ] && { [ "$rc" != 0 ] || rc=1; rm -f "$out/rc.pending"; }
sleep 0.2
kill "$dmesg_pid" 2>/dev/null
wait "$dmesg_pid" 2>/dev/null
dmesg > "$out/dmesg.txt"
echo "$rc" > "$out/rc"
exit "$rc"
