#!/usr/bin/env bash
# The capability query (issue 9 item 2): per slave, inline ESP offload and
# its crypto engine. Discovered on an ipsecsim slave (its ethtool bus-info
# names the engine), nothing on a veth; the slave option engine set through
# ip, sysfs and hbondctl, validated by allocating the transform (bad names
# refused with a message, nothing changed), none and back to auto;
# ethtool -K esp-hw-offload updates inline_esp.
. "$(dirname "$0")/lib.sh"

A=hbt-eng-a B=hbt-eng-b
. "$(dirname "$0")/tools-lib.sh"
cleanup() { ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null; true; }
trap cleanup EXIT
cleanup
ip netns add $A && ip netns add $B
ip -n $A link add sim0 type ipsecsim peer name sim1 netns $B
ip -n $A link add veth0 type veth peer name peer0 netns $B

SIMSYS=/sys/class/net/sim0/ipsecsim
ENGINE=$(in_a cat $SIMSYS/engine)
DRV=$ENGINE-rfc4106-gcm-aes
GCM_DRV=$ENGINE-gcm-aes
# The host's own gcm(aes) implementation (an AEAD of another algorithm).
HOST_GCM=$(awk 'BEGIN { RS = ""; FS = "\n" }
	$1 ~ /^name *: gcm\(aes\)$/ && !/ipsecsim/ {
		for (i = 1; i <= NF; i++) if ($i ~ /^driver/) { sub(/^driver *: /, "", $i); print $i; exit }
	}' /proc/crypto)
ok "ipsecsim reports its engine ($ENGINE) and its rfc4106 driver" \
	in_a grep -qx "$DRV" $SIMSYS/engine_drivers
ok "ethtool -i sim0 names the engine as bus-info" \
	bash -c "nsx $A ethtool -i sim0 | grep -qx 'bus-info: $ENGINE'"

ok "create the team and enslave sim0 and veth0" bash -c \
	"ip -n $A link add hb0 type hbond && ip -n $A link set sim0 master hb0 && ip -n $A link set veth0 master hb0"

# snapshot: engine and inline_esp of every slave of hb0 as sysfs, ip -d -j
# and hbondctl -j show them (few processes: each exec is slow under TCG).
snapshot() {
	declare -gA SNAP
	SNAP=()
	local src dev key value
	while IFS=$'\t' read -r src dev key value; do
		SNAP[$src/$dev/$key]=$value
	done < <(
		ip -n $A -d -j link show master hb0 |
			jq -r '.[] | . as $l | .linkinfo.info_slave_data | to_entries[] |
				select(.key == "engine" or .key == "inline_esp") |
				"ip\t\($l.ifname)\t\(.key)\t\(.value)"'
		ctl show hb0 --json |
			jq -r '.[0].slaves[] | . as $s | to_entries[] |
				select(.key == "engine" or .key == "inline_esp") |
				"cli\t\($s.ifname)\t\(.key)\t\(.value)"'
		# shellcheck disable=SC2016
		in_a bash -c 'for d in sim0 veth0; do for f in engine inline_esp; do
			printf "sysfs\t%s\t%s\t%s\n" $d $f "$(< /sys/class/net/$d/hbond_slave/$f)"
		done; done')
}
# state_is DEV NAME INLINE(0|1): the last snapshot agrees everywhere.
state_is() {
	local dev=$1 want=$2 inline=$3 json=false src bad=
	[ "$inline" = 1 ] && json=true
	for src in sysfs ip cli; do
		[ "${SNAP[$src/$dev/engine]-absent}" = "$want" ] ||
			bad+=" $src engine ${SNAP[$src/$dev/engine]-absent} (want $want)"
	done
	[ "${SNAP[sysfs/$dev/inline_esp]-absent}" = "$inline" ] ||
		bad+=" sysfs inline_esp ${SNAP[sysfs/$dev/inline_esp]-absent}"
	for src in ip cli; do
		[ "${SNAP[$src/$dev/inline_esp]-absent}" = "$json" ] ||
			bad+=" $src inline_esp ${SNAP[$src/$dev/inline_esp]-absent}"
	done
	[ -z "$bad" ] || { echo "$dev:$bad"; return 1; }
}
# engine_is DEV NAME INLINE: a fresh snapshot agrees.
engine_is() { snapshot; state_is "$@"; }
# sys_is DEV NAME INLINE: sysfs only (one process; the cheap check).
sys_is() {
	local got
	got=$(in_a cat "/sys/class/net/$1/hbond_slave/engine" "/sys/class/net/$1/hbond_slave/inline_esp" | tr '\n' ' ')
	[ "$got" = "$2 $3 " ] || { echo "sysfs engine, inline_esp of $1: $got, want $2 $3"; return 1; }
}
# sys_engine DEV: the sysfs engine file.
sys_engine() { in_a cat "/sys/class/net/$1/hbond_slave/engine"; }
sys_set() { in_a bash -c "echo '$2' > /sys/class/net/$1/hbond_slave/engine"; }
ipset() { ip -n $A link set "$1" type hbond_slave engine "$2"; }
# refused_in_log PATTERN: the kernel logged a refusal of veth0's engine.
refused_in_log() { dmesg | tail -n 20 | grep -qF "hb0: veth0: engine refused: $1"; }

snapshot
ok "sim0: engine discovered ($DRV), inline ESP" state_is sim0 "$DRV" 1
ok "veth0: no engine, no inline ESP" state_is veth0 none 0
ok "the kernel log says what sim0 can do" \
	bash -c "dmesg | grep -q 'hb0: sim0: inline ESP yes, engine $DRV'"

# Setting the engine of veth0 to sim0's engine, through each interface.
ok "ip sets veth0's engine to sim0's engine" ipset veth0 "$DRV"
ok "veth0: engine $DRV everywhere, still no inline ESP" engine_is veth0 "$DRV" 0
ok "sysfs sets veth0's engine to none" sys_set veth0 none
ok "veth0: engine none" sys_is veth0 none 0
ok "sysfs sets veth0's engine to $DRV" sys_set veth0 "$DRV"
ok "veth0: engine $DRV after the sysfs write" test "$(sys_engine veth0)" = "$DRV"
ok "hbondctl sets veth0's engine to none" ctl set-slave veth0 engine none
ok "veth0: engine none after hbondctl" test "$(sys_engine veth0)" = none
ok "hbondctl sets veth0's engine to $DRV" ctl set-slave veth0 engine "$DRV"
ok "veth0: engine $DRV after hbondctl" sys_is veth0 "$DRV" 0

# Bad input: refused with a reason, nothing changed.
fails_with "ip: an unknown driver name is refused" "no AEAD crypto driver of that name" \
	ipset veth0 nosuch-engine-rfc4106
ok "veth0 keeps $DRV" test "$(sys_engine veth0)" = "$DRV"
fails_with "ip: sim0's gcm(aes) driver is refused" "does not implement rfc4106\(gcm\(aes\)\)" \
	ipset veth0 "$GCM_DRV"
ok "veth0 keeps $DRV" test "$(sys_engine veth0)" = "$DRV"
if [ -n "$HOST_GCM" ]; then
	# A template instance's driver name: refused before any lookup.
	fails_with "ip: the host's gcm(aes) driver ($HOST_GCM) is refused" \
		"engine must be a crypto driver name, not an algorithm name" ipset veth0 "$HOST_GCM"
else
	ok "the host has a gcm(aes) driver in /proc/crypto" false
fi
fails_with "ip: an algorithm name is refused (engines are drivers)" \
	"engine must be a crypto driver name, not an algorithm name" ipset veth0 'rfc4106(gcm(aes))'
fails_with "ip: a driver that is not an AEAD is refused" "no AEAD crypto driver of that name" \
	ipset veth0 sha256-generic
fails_with "ip: a malformed name is refused" "malformed engine name" ipset veth0 "two words"
fails_with "sysfs: an unknown driver name fails the write" "No such file or directory" \
	sys_set veth0 nosuch-engine-rfc4106
ok "sysfs: the kernel log says why" refused_in_log "no AEAD crypto driver of that name"
fails_with "sysfs: sim0's gcm(aes) driver fails the write" "Invalid argument" \
	sys_set veth0 "$GCM_DRV"
ok "sysfs: the kernel log says why" refused_in_log "crypto driver does not implement rfc4106(gcm(aes))"
fails_with "hbondctl: sim0's gcm(aes) driver is refused with the kernel's message" \
	"setting slave attributes of veth0: hbond: crypto driver does not implement rfc4106\(gcm\(aes\)\)" \
	ctl set-slave veth0 engine "$GCM_DRV"
fails_with "hbondctl: a malformed name is refused before sending" "malformed engine name" \
	ctl set-slave veth0 engine "$(printf 'x%.0s' {1..128})"
fails_with "hbondctl: a device that is not a slave is refused" "not a slave of an hbond team" \
	ctl set-slave lo engine none
ok "veth0 still has $DRV after every refusal" engine_is veth0 "$DRV" 0

# none and back to auto.
ok "ip: sim0's engine none" ipset sim0 none
ok "sim0: engine none, inline ESP unchanged" sys_is sim0 none 1
ok "ip: sim0's engine auto" ipset sim0 auto
ok "sim0: the discovered engine is back" engine_is sim0 "$DRV" 1
ok "sysfs: an empty write is auto too (veth0: nothing to discover)" sys_set veth0 ""
ok "veth0: engine none under auto" sys_is veth0 none 0

# A feature change of the slave.
ok "ethtool -K sim0 esp-hw-offload off" nsx $A ethtool -K sim0 esp-hw-offload off
ok "sim0: inline_esp 0, the engine stays" engine_is sim0 "$DRV" 0
ok "ethtool -K sim0 esp-hw-offload on" nsx $A ethtool -K sim0 esp-hw-offload on
ok "sim0: inline_esp 1 again" sys_is sim0 "$DRV" 1

show_has_engine() { ctl show hb0 | grep -qE "^    engine +$1\$"; }
ok "hbondctl show prints sim0's engine" show_has_engine "$DRV"
ok "release sim0 and veth0, delete the team" bash -c \
	"ip -n $A link set sim0 nomaster && ip -n $A link set veth0 nomaster && ip -n $A link del hb0"
tap_done
