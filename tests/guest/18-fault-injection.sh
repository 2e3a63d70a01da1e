#!/usr/bin/env bash
# Allocation failures in hbond, systematically (fault-lib.sh): team
# creation and deletion, enslaving a first and a second slave, releasing,
# an SA offloaded to the team added and deleted, its home slave released.
# A refused request must have changed nothing and a teardown must always
# complete. The guest runner checks the kernel log (KASAN, lockdep,
# WARNING) and kmemleak afterwards.
. "$(dirname "$0")/lib.sh"
N=hb-fault
. "$(dirname "$0")/fault-lib.sh"

ok "hbond's address range for failslab" module_range hbond
quiet "link set lo up"

# --- Team creation and deletion.
c_pre() { absent fi1; }
c_post() { if [ $REFUSED_NOW = 1 ]; then absent fi1; else there fi1 && quiet "link del fi1"; fi; }
check "creating a team: refused or complete" create c_pre "link add fi1 type hbond mode alb miimon 50" c_post
d_pre() { quiet "link add fi1 type hbond mode alb" && quiet "link add fv0 type veth peer name fw0" &&
	quiet "link set fv0 master fi1"; }
d_post() { [ $REFUSED_NOW = 0 ] && absent fi1 && unslaved fv0 && quiet "link del fv0"; }
check "deleting a team with a slave: always complete" delete d_pre "link del fi1" d_post

# --- Enslaving and releasing (the team adopts its first slave's MAC).
quiet "link add fi0 type hbond mode aft miimon 50"
quiet "link add fv0 type veth peer name fw0"
quiet "link add fv1 type veth peer name fw1"
quiet "link set fw0 up"
quiet "link set fi0 up"
# The state before each attempt (a completed attempt changes it: the team
# keeps the address it took from its first slave, as bonding does).
before() { team_mac=$(addr fi0) dev_mac=$(addr "$1") dev_flags=$(< "/sys/class/net/$1/flags"); }
# unchanged DEV: as before the attempt.
unchanged() {
	local now="$(addr fi0) $(addr "$1") $(< "/sys/class/net/$1/flags")"
	[ "$now" = "$team_mac $dev_mac $dev_flags" ] ||
		{ echo "team address, $1 address, $1 flags: $now, before: $team_mac $dev_mac $dev_flags"; return 1; }
}
e_pre() { unslaved fv0 && before fv0; }
e_post() {
	if [ $REFUSED_NOW = 1 ]; then
		unslaved fv0 && unchanged fv0
	else
		slave_of fv0 fi0 && quiet "link set fv0 nomaster" && unslaved fv0 && [ "$(addr fv0)" = "$dev_mac" ]
	fi
}
check "enslaving the first slave: refused and undone, or complete" enslave e_pre "link set fv0 master fi0" e_post
# A second slave into a team with one (the list, the team's maps).
quiet "link set fv0 master fi0"
e2_pre() { unslaved fv1 && before fv1; }
e2_post() {
	if [ $REFUSED_NOW = 1 ]; then
		unslaved fv1 && unchanged fv1
	else
		slave_of fv1 fi0 && quiet "link set fv1 nomaster" && unslaved fv1
	fi
}
check "enslaving a second slave: refused and undone, or complete" enslave2 e2_pre "link set fv1 master fi0" e2_post
r_pre() { quiet "link set fv1 master fi0"; }
r_post() { [ $REFUSED_NOW = 0 ] && unslaved fv1 && slave_of fv0 fi0; }
check "releasing a slave: always complete" release r_pre "link set fv1 nomaster" r_post

# --- SAs offloaded to the team (hbond's registry, the home slave's driver).
quiet "link add fs0 type ipsecsim peer name fs1"
quiet "link set fs1 up"
quiet "link set fs0 master fi0"
quiet "addr add 192.0.2.1/24 dev fi0"
KEY=0x18181818181818181818181818181818deadbe18
sa="xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1801 reqid 1 mode transport aead rfc4106(gcm(aes)) $KEY 128 offload dev fi0 dir out"
s_pre() { quiet "xfrm state flush"; }
# listed: 0 if the SA is in the SAD, 1 if not (ip exits after a list).
listed() { run "xfrm state list" || return 2; [[ $OUT == *"spi 0x00001801"* ]]; }
s_post() {
	local st
	listed
	st=$?
	if [ $REFUSED_NOW = 1 ]; then [ $st = 1 ]; else [ $st = 0 ]; fi
}
check "adding an SA offloaded to the team: refused or complete" sa-add s_pre "$sa" s_post
sd_pre() { quiet "xfrm state flush" && quiet "$sa"; }
sd_post() { [ $REFUSED_NOW = 0 ] && { listed; [ $? = 1 ]; }; }
check "deleting it: always complete" sa-del sd_pre "xfrm state delete src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1801" sd_post
# Releasing the SA's home slave moves its SAs off it.
rh_pre() { unslaved fs0 || quiet "link set fs0 nomaster"; quiet "link set fs0 master fi0" && quiet "xfrm state flush" && quiet "$sa"; }
rh_post() { [ $REFUSED_NOW = 0 ] && unslaved fs0; }
check "releasing the home slave of an SA: always complete" release-home rh_pre "link set fs0 nomaster" rh_post
quiet "xfrm state flush"
quiet "link del fi0"
restore
stop_ip
tap_done
