#!/usr/bin/env bash
# ipsecsim control plane and failure handling: unsupported SAs stay in
# software with a clear message, the offload can be switched off and on,
# authentication failures are reported to the stack as an inline NIC
# reports them (xfrm drops and counts them, as for software ESP). The
# plaintext detector of test 20 (sim_only_esp) catches plaintext.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ipsecsim-lib.sh"
trap sim_cleanup EXIT

ok "set up the pair in two namespaces" sim_setup

refused() {
	local spi=$1; shift
	local before out
	before=$(stat sim0 $A ipsec_sa_refused)
	out=$(ip -n $A xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi "$spi" mode transport "$@" offload dev sim0 dir out 2>&1) || return 1
	echo "$out"
	! sim_offloaded $A "$spi" && [ "$(stat sim0 $A ipsec_sa_refused)" = $((before + 1)) ]
}
ok "64-bit ICV stays in software" refused 0x2001 aead 'rfc4106(gcm(aes))' $(sim_key $KEY128) 64
ok "cbc/hmac stays in software" refused 0x2002 enc 'cbc(aes)' 0x0123456789abcdef0123456789abcdef auth 'hmac(sha256)' 0xfedcba9876543210fedcba9876543210
ok "192-bit key stays in software" refused 0x2003 aead 'rfc4106(gcm(aes))' $(sim_key 0x0123456789abcdef0123456789abcdef0123456789abcdef01020304) 128
ok "UDP encapsulation stays in software" refused 0x2004 encap espinudp 4500 4500 0.0.0.0 aead 'rfc4106(gcm(aes))' $(sim_key $KEY128) 128
# The SA is added (in software); ip prints the device's reason as a warning.
ok "the refusal is explained" bash -c "ip -n $A xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x2005 mode transport aead 'rfc4106(gcm(aes))' $(sim_key $KEY128) 96 offload dev sim0 dir out 2>&1 | grep 'ipsecsim: only a 128-bit ICV'"
ok "supported SA is offloaded" bash -c "ip -n $A xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x2007 mode transport aead 'rfc4106(gcm(aes))' $(sim_key $KEY128) 128 offload dev sim0 dir out && $(declare -f sim_offloaded); sim_offloaded $A 0x2007"
ok "SA count" test "$(stat sim0 $A ipsec_sa_added)" -ge 1

ok "traffic SAs" sim_sas 4 transport $KEY128 no no
ok "ping with offload" sim_ping $A 192.0.2.2 3
tx0=$(stat sim0 $A ipsec_tx_packets)
ok "switch esp-hw-offload off" nsx $A ethtool -K sim0 esp-hw-offload off
ok "feature is off" bash -c "nsx $A ethtool -k sim0 | grep -q '^esp-hw-offload: off'"
ok "ping with offload off (software fallback)" sim_ping $A 192.0.2.2 3
ok "no inline work while off" test "$(stat sim0 $A ipsec_tx_packets)" = "$tx0"
ok "switch esp-hw-offload on" nsx $A ethtool -K sim0 esp-hw-offload on
ok "ping with offload on again" sim_ping $A 192.0.2.2 3
ok "inline work resumed" test "$(stat sim0 $A ipsec_tx_packets)" -gt "$tx0"

# B encrypts towards A with a wrong key: sim0's engine finds the tag wrong
# and passes the packet up marked as failed (CRYPTO_TRANSPORT_ESP_AUTH_FAILED),
# so xfrm drops it and counts it as its own ESP does.
ip -n $B xfrm state del src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x1002
ip -n $B xfrm state add src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x1002 reqid 2 mode transport \
	aead 'rfc4106(gcm(aes))' "$(sim_key $KEY128)" 128
# xfrm_stat NAME: a counter of namespace A's /proc/net/xfrm_stat.
xfrm_stat() { ip netns exec $A awk -v n="$1" '$1 == n { print $2 }' /proc/net/xfrm_stat; }
# sa_failed: the SA's integrity failures (ip -s xfrm state: "failed N").
sa_failed() { ip -n $A -s xfrm state get src 192.0.2.2 dst 192.0.2.1 proto esp spi 0x1002 | sed -n 's/.* failed \([0-9]*\).*/\1/p'; }
fail0=$(stat sim0 $A ipsec_rx_auth_failed) proto0=$(xfrm_stat XfrmInStateProtoError) safail0=$(sa_failed)
ok "ping with a wrong key fails" bash -c "! nsx $B ping -q -c 3 -i 0.2 -W 1 192.0.2.1"
ok "authentication failures counted by sim0" test "$(stat sim0 $A ipsec_rx_auth_failed)" -ge $((fail0 + 3))
ok "xfrm counted them: XfrmInStateProtoError $proto0 -> $(xfrm_stat XfrmInStateProtoError)" test "$(xfrm_stat XfrmInStateProtoError)" -ge $((proto0 + 3))
ok "the SA counted integrity failures: $safail0 -> $(sa_failed)" test "$(sa_failed)" -ge $((safail0 + 3))
ok "no receive errors beyond them" test "$(stat sim0 $A ipsec_rx_errors)" = 0
ok "restore the right key" sim_sas 4 transport $KEY128 no no
ok "traffic recovers" sim_ping $B 192.0.2.1 3

# Negative controls of sim_only_esp, which test 20 relies on to show that
# the device encrypts: it must catch the ping payload in clear inside ESP
# (ESP with the null cipher, in software, authenticates but does not
# encrypt) and pings between the protected addresses outside ESP (no SAs).
null_sas() { # A -> B only: what the capture on sim1 sees
	local ns auth
	auth=0x$(head -c 32 /dev/urandom | od -An -v -tx1 | tr -d ' \n')
	for ns in $A $B; do
		ip -n $ns xfrm state flush; ip -n $ns xfrm policy flush
		ip -n $ns xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x3001 reqid 31 \
			mode transport enc 'ecb(cipher_null)' "" auth 'hmac(sha256)' "$auth" || return 1
	done
	ip -n $A xfrm policy add src 192.0.2.1 dst 192.0.2.2 dir out tmpl proto esp reqid 31 mode transport &&
		ip -n $B xfrm policy add src 192.0.2.1 dst 192.0.2.2 dir in tmpl proto esp reqid 31 mode transport
}
# caught FILE REGEX: sim_only_esp rejects the capture, and its counts match
# REGEX (so that it rejects it for that reason).
caught() {
	local out
	if out=$(sim_only_esp "$1" 192.0.2.1 192.0.2.2 transport); then
		echo "not caught: $out"
		return 1
	fi
	echo "$out"
	grep -qE "$2" <<< "$out"
}
t_neg=$SECONDS cap=$(mktemp -d)/cap.pcap
ok "null-cipher ESP SAs (software)" null_sas
sim_capture $B sim1 "$cap"
ok "null cipher: ping A -> B" sim_ping_pattern $A 192.0.2.2 3
sim_capture_stop
ok "the detector catches the payload in clear inside ESP" caught "$cap" 'esp=[1-9][0-9]* .*payload in clear=[1-9]'
for ns in $A $B; do ip -n $ns xfrm state flush; ip -n $ns xfrm policy flush; done
sim_capture $B sim1 "$cap"
ok "no SAs: ping A -> B" sim_ping_pattern $A 192.0.2.2 3
sim_capture_stop
ok "the detector catches pings outside ESP" caught "$cap" 'esp=0 clear=[1-9]'
rm -rf "$(dirname "$cap")"
echo "# negative controls: $((SECONDS - t_neg)) s"

tap_done
