#!/usr/bin/env bash
# Allocation failures in ipsecsim, systematically (fault-lib.sh): pair
# creation (its engine's crypto API algorithms) and deletion. A failed
# creation leaves no device, and its algorithms go to the same orphan
# handling as a deleted device's: after rmmod, /proc/crypto is readable and
# names none.
. "$(dirname "$0")/lib.sh"
N=hb-fault-sim
. "$(dirname "$0")/fault-lib.sh"

quiet "link set lo up"
# --- ipsecsim: a pair and its engine (crypto API algorithms).
ok "ipsecsim's address range for failslab" module_range ipsecsim
p_pre() { absent fs2 && absent fs3; }
p_post() { if [ $REFUSED_NOW = 1 ]; then absent fs2 && absent fs3; else there fs2 && there fs3 && quiet "link del fs2"; fi; }
check "creating an ipsecsim pair: refused and undone, or complete" sim-create p_pre "link add fs2 type ipsecsim peer name fs3" p_post
pd_pre() { quiet "link add fs2 type ipsecsim peer name fs3"; }
pd_post() { [ $REFUSED_NOW = 0 ] && absent fs2 && absent fs3; }
check "deleting an ipsecsim pair: always complete" sim-delete pd_pre "link del fs2" pd_post
restore
stop_ip

# Algorithms of failed and deleted devices are orphans until unused; once
# the module is gone, /proc/crypto must still be readable and name none.
ok "ipsecsim unloads (once the orphans' self-tests let go)" wait_for 20 "rmmod ipsecsim"
no_sim_alg() { [[ $(< /proc/crypto) != *ipsecsim* ]]; }
ok "/proc/crypto is readable and names no ipsecsim algorithm" no_sim_alg
ok "ipsecsim reloads" insmod "$top/ipsecsim.ko"
tap_done
