#!/usr/bin/env bash
# ipsecsim pairs created with veth's syntax (the iproute2 plugin
# link_ipsecsim.so and the kernel's IPSECSIM_INFO_PEER):
#   ip link add sim0 type ipsecsim peer name sim1 [netns NS] [address ...] [mtu ...]
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ipsecsim-lib.sh"
trap sim_cleanup EXIT

# newlink_raw NS NAME PEER_NAME: RTM_NEWLINK in NS for NAME of kind
# ipsecsim with IPSECSIM_INFO_PEER naming the peer PEER_NAME, sent without
# ip (which refuses bad names itself); prints the kernel's error and extack
# message.
newlink_raw() {
	ip netns exec "$1" python3 - "$2" "$3" <<'PY'
import socket, struct, sys

def attr(kind, payload):
    n = 4 + len(payload)
    return struct.pack("HH", n, kind) + payload + b"\0" * (-n % 4)

ifinfomsg = struct.pack("BxHiII", 0, 0, 0, 0, 0)
peer = ifinfomsg + attr(3, sys.argv[2].encode() + b"\0")          # IFLA_IFNAME
info = attr(1, b"ipsecsim\0") + attr(2, attr(1, peer))           # KIND, DATA{PEER}
body = ifinfomsg + attr(3, sys.argv[1].encode() + b"\0") + attr(18, info)  # IFLA_LINKINFO
flags = 0x1 | 0x4 | 0x200 | 0x400     # REQUEST, ACK, EXCL, CREATE
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
s.setsockopt(270, 10, 1)               # SOL_NETLINK, NETLINK_CAP_ACK
s.setsockopt(270, 11, 1)               # NETLINK_EXT_ACK
s.send(struct.pack("IHHII", 16 + len(body), 16, flags, 1, 0) + body)
r = s.recv(65536)
length, kind, rflags = struct.unpack_from("IHH", r)
err = struct.unpack_from("i", r, 16)[0] if kind == 2 else 0
msg, off = "", 16 + 4 + 16
while rflags & 0x200 and off + 4 <= length:                       # NLM_F_ACK_TLVS
    n, t = struct.unpack_from("HH", r, off)
    if t == 1:                                                     # NLMSGERR_ATTR_MSG
        msg = r[off + 4:off + n].rstrip(b"\0").decode()
    off += (n + 3) & ~3
print(f"error {err} {msg}")
sys.exit(1 if err else 0)
PY
}

# sims NS: the names of the ipsecsim devices in NS, sorted, on one line.
sims() {
	local names
	mapfile -t names < <(link_names "$1" type ipsecsim | LC_ALL=C sort)
	echo "${names[*]}"
}

# field NS DEV REGEX: the first group of REGEX in `ip -o link show`.
field() { link_field "$2" "$1" "$3"; }
# is_up NS DEV: true or false, the device's UP flag.
is_up() {
	local flags
	flags=$(field "$1" "$2" '<([^>]*)>')
	if [[ ,$flags, == *,UP,* ]]; then echo true; else echo false; fi
}

ok "iproute2 plugin is built" test -f "$IP_LIB_DIR/link_ipsecsim.so"
sim_cleanup
ok "namespaces" bash -c "ip netns add $A && ip netns add $B"

ok "peer name sim1" ip -n $A link add sim0 type ipsecsim peer name sim1
ok "both ends in A" test "$(sims $A)" = "sim0 sim1"
# show_d NS DEV: `ip -d link show` names the kind and prints no error.
show_d() {
	local out err
	err=$(ip -n "$1" -d link show "$2" 2>&1 >/dev/null) || return 1
	out=$(ip -n "$1" -d link show "$2") && echo "$out" && [ -z "$err" ] && grep -q ' ipsecsim ' <<< "$out"
}
ok "ip -d link show prints the kind" show_d $A sim1
ok "the ends differ in address" test "$(mac_of sim0 $A)" != "$(mac_of sim1 $A)"
ok "deleting sim0 deletes sim1" bash -c "ip -n $A link del sim0 && test -z \"\$(ip -n $A -o link show dev sim1 2>/dev/null)\""

ok "peer name sim1 netns B" ip -n $A link add sim0 type ipsecsim peer name sim1 netns $B
ok "sim0 in A, sim1 in B" test "$(sims $A)/$(sims $B)" = "sim0/sim1"
ok "traffic crosses the namespaces" bash -c "
	ip -n $A addr add 192.0.2.1/24 dev sim0 && ip -n $B addr add 192.0.2.2/24 dev sim1 &&
	ip -n $A link set sim0 up && ip -n $B link set sim1 up &&
	nsx $A ping -q -c 2 -i 0.2 -W 2 192.0.2.2"
# (Not in bash -c, where sims is not defined: that check always passed.)
del_sim1() { ip -n $B link del sim1 && test -z "$(sims $A)" && test -z "$(sims $B)"; }
ok "deleting sim1 (in B) deletes sim0 (in A)" del_sim1

ok "peer address and mtu" ip -n $A link add sim0 type ipsecsim peer name sim1 address 02:00:00:00:23:01 mtu 1400
ok "peer has the address" test "$(mac_of sim1 $A)" = 02:00:00:00:23:01
ok "peer has the mtu" test "$(field $A sim1 ' mtu ([0-9]+) ')" = 1400
ok "sim0 keeps its own address" test "$(mac_of sim0 $A)" != 02:00:00:00:23:01
ok "sim0 mtu is the default" test "$(field $A sim0 ' mtu ([0-9]+) ')" = 1500
ok "delete" ip -n $A link del sim1

ok "peer up and index" ip -n $A link add sim0 type ipsecsim peer name sim1 index 4242 up
ok "peer is up, sim0 is not" test "$(is_up $A sim1)/$(is_up $A sim0)" = "true/false"
ok "peer has the index" test "$(field $A sim1 '^([0-9]+):')" = 4242
ok "delete" ip -n $A link del sim0

ok "without peer: automatic name" ip -n $A link add sim0 type ipsecsim
auto_named() { [[ "$(sims $A)" =~ ^ipsecsim[0-9]+\ sim0$ ]]; }
ok "peer is ipsecsimN" auto_named
ok "delete" ip -n $A link del sim0

# Bad peer attributes fail cleanly: an error message, nothing created --
# no device and no crypto algorithm of an engine (a failed creation's engines
# go like a deleted device's: unregistered as soon as the crypto manager's
# self-test, which runs in the background after registration, lets go).
engine_algs() { awk '$1 == "driver" && $3 ~ /^ipsecsim-engine-/ { print $3 }' /proc/crypto; }
no_engine_algs() {
	local deadline=$((SECONDS + 10 * HBOND_WAIT_SCALE))
	while [ -n "$(engine_algs)" ]; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "still registered:" $(engine_algs)
			return 1
		fi
		nap 0.2
	done
}
nothing_in_a() { test -z "$(sims $A)" && test -z "$(sims $B)" && no_engine_algs; }
fails_with "too long peer name (kernel check)" "^error -22 .+" newlink_raw $A sim0 sim1-name-far-too-long
ok "nothing created" nothing_in_a
ok "raw request with a good name works" newlink_raw $A sim0 sim1
ok "it made the pair" test "$(sims $A)" = "sim0 sim1"
ok "delete" ip -n $A link del sim0
ok "nothing left" nothing_in_a
fails_with "multicast peer address" "peer: invalid address" ip -n $A link add sim0 type ipsecsim peer name sim1 address 01:00:5e:00:00:01
ok "nothing created" nothing_in_a
fails_with "peer mtu below the minimum" "mtu less than device minimum" ip -n $A link add sim0 type ipsecsim peer name sim1 mtu 10
ok "nothing created" nothing_in_a
fails_with "peer named like the device" "exists" ip -n $A link add sim0 type ipsecsim peer name sim0
ok "nothing created" nothing_in_a
fails_with "unknown option" "unknown option" ip -n $A link add sim0 type ipsecsim color blue
ok "nothing created" nothing_in_a

# The peer's namespace needs CAP_NET_ADMIN over it: root of a new user
# namespace may not put the peer into the initial namespace (pid 1's).
if unshare -U -r -n true 2>/dev/null; then
	fails_with "peer netns without CAP_NET_ADMIN there" "no permission" \
		unshare -U -r -n ip link add sim0 type ipsecsim peer name simperm netns 1
	ok "nothing created in the initial namespace" test -z "$(ip -o link show dev simperm 2>/dev/null)"
else
	ok "peer netns without CAP_NET_ADMIN there # SKIP no user namespaces" true
fi

# After failed creations the module unloads cleanly and nothing of it is
# left in the crypto API (a leaked registration made `cat /proc/crypto` walk
# freed module memory after rmmod).
TOP=$(cd "$(dirname "$0")/../.." && pwd)
sim_cleanup
fails_with "peer named like the device, again" "exists" ip link add sim0 type ipsecsim peer name sim0
unload() {
	local i
	for i in $(seq $((50 * HBOND_WAIT_SCALE))); do rmmod ipsecsim 2>/dev/null && return 0; sleep 0.2; done
	rmmod ipsecsim
}
ok "unload ipsecsim" unload
ok "/proc/crypto readable, no engine left" bash -c "cat /proc/crypto > /tmp/crypto.out && ! grep -q ipsecsim-engine /tmp/crypto.out"
ok "reload ipsecsim" insmod "$TOP/ipsecsim.ko"

tap_done
