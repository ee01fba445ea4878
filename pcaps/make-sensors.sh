#!/usr/bin/env bash
# Makes the two-sensor example captures in pcaps/sensors/ from real TCP stacks
# (issue 20: several capture points, one verdict that says where packets die).
#
# Topology (network namespaces made here, addresses from 198.18.0.0/15, no default
# route; nothing leaves these namespaces):
#
#   ssa (site A LIFs) -- sra (router A) -- swan (WAN router) -- srb (router B) -- ssb (site B LIFs)
#                        capture site-a        |                capture site-b
#                                             ssm (ONTAP Mediator, a third site)
#
# Each router captures with tcpdump on every interface, inbound only (each packet
# once, before the router forwards it, like a span port at the site's edge): the
# same packet is seen at both sensors, one TTL lower at the far one.
# Scenarios (pcaps/sensors/NAME-site-a.pcap and NAME-site-b.pcap):
#   healthy    every SM-as flow answered
#   wan-drop   the WAN router drops tcp/11105: SYNs seen at site-a, never at site-b
#   edge-drop  router B drops tcp/11105 as it leaves for site B: seen at both, never answered
#   wan-rst    the WAN router answers tcp/11104 towards site B with a reset in B's name:
#              the RST is seen at site-a only
#   clock      healthy, and site-b's clock 2.5 s ahead (its timestamps shifted after the capture)
# Needs root, iproute2, nftables, tcpdump and python3.  Usage: pcaps/make-sensors.sh [SCENARIO]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/sensors
T="python3 $here/traffic.py"
ONLY=${1:-}
NS="ssa sra swan srb ssb ssm"
. "$here/../tests/scripts/netns.sh" # namespaces, veth pairs, cleanup at exit
net_need tcpdump nft python3

setup() {
	net_cleanup # the previous scenario's namespaces and what runs in them
	net_ns $NS
	net_quiet $NS
	for n in sra swan srb; do ip netns exec $n sysctl -qw net.ipv4.ip_forward=1; done
	net_veth ssa a0 sra a1
	net_veth sra w0 swan w1
	net_veth swan w2 srb b0
	net_veth srb b1 ssb b2
	net_veth swan m0 ssm m1
	# site A: ic-a .11 .12, cluster-mgmt-a .20, node-mgmt-a .21
	for a in 11 12 20 21; do ip -n ssa addr add 198.18.1.$a/24 dev a0; done
	ip -n sra addr add 198.18.1.1/24 dev a1
	ip -n ssa route add 198.18.0.0/15 via 198.18.1.1
	# A <-> WAN <-> B, and the Mediator on the WAN router
	ip -n sra addr add 198.18.9.1/30 dev w0; ip -n swan addr add 198.18.9.2/30 dev w1
	ip -n swan addr add 198.18.9.5/30 dev w2; ip -n srb addr add 198.18.9.6/30 dev b0
	ip -n sra route add 198.18.0.0/15 via 198.18.9.2
	ip -n srb route add 198.18.0.0/15 via 198.18.9.5
	ip -n swan route add 198.18.1.0/24 via 198.18.9.1
	ip -n swan route add 198.18.2.0/24 via 198.18.9.6
	# site B: ic-b .11 .12, cluster-mgmt-b .20, node-mgmt-b .21
	ip -n srb addr add 198.18.2.1/24 dev b1
	for a in 11 12 20 21; do ip -n ssb addr add 198.18.2.$a/24 dev b2; done
	ip -n ssb route add 198.18.0.0/15 via 198.18.2.1
	# Mediator
	ip -n swan addr add 198.18.3.1/24 dev m0; ip -n ssm addr add 198.18.3.5/24 dev m1
	ip -n ssm route add 198.18.0.0/15 via 198.18.3.1
	for n in swan srb; do
		ip netns exec $n nft add table inet fw
		ip netns exec $n nft add chain inet fw forward_filter '{ type filter hook forward priority 0; policy accept; }'
	done
	sleep 1
}

listeners() { # ns ports...
	local ns=$1
	shift
	ip netns exec "$ns" $T listen "$@" >/dev/null 2>&1 &
}

CAPS=""
capture_start() { # scenario
	ip netns exec sra tcpdump -Q in -i any -s 1500 -U -w "$out/$1-site-a.pcap" 2>/dev/null &
	CAPS="$!"
	ip netns exec srb tcpdump -Q in -i any -s 1500 -U -w "$out/$1-site-b.pcap" 2>/dev/null &
	CAPS="$CAPS $!"
	sleep 1
}

capture_stop() {
	sleep 1
	kill -INT $CAPS
	wait $CAPS 2>/dev/null || true
}

conn() { ip netns exec "$1" $T connect "$2" "$3" "$4" ${5:-} || true; }

# The flows SM-as needs, per rules/sm-as.rules.
sm_as_flows() {
	local m=198.18.3.5
	for port in 3260 11104 11105; do
		for x in 11 12; do for y in 11 12; do
			conn ssa 198.18.1.$x 198.18.2.$y $port &
			conn ssb 198.18.2.$y 198.18.1.$x $port &
		done; done
		wait
	done
	conn ssa 198.18.1.11 198.18.2.11 443 & conn ssb 198.18.2.11 198.18.1.11 443 & wait
	ip netns exec ssa $T ping 198.18.1.11 198.18.2.11 & ip netns exec ssb $T ping 198.18.2.11 198.18.1.11 & wait
	conn ssa 198.18.1.20 $m 31784 & conn ssb 198.18.2.20 $m 31784 &
	conn ssa 198.18.1.21 $m 31784 & conn ssb 198.18.2.21 $m 31784 &
	conn ssa 198.18.1.21 $m 3260 & conn ssb 198.18.2.21 $m 3260 &
	wait
}

scenario() { # name hook
	local name=$1 hook=$2
	[ -z "$ONLY" ] || [ "$ONLY" = "$name" ] || return 0
	echo "== $name"
	setup
	listeners ssa 3260 11104 11105 443
	listeners ssb 3260 11104 11105 443
	listeners ssm 31784 3260
	sleep 1
	$hook
	capture_start "$name"
	(sm_as_flows) >/dev/null 2>&1 # a subshell: its waits are for its own clients
	capture_stop
}

nothing() { :; }
wan_drop() { ip netns exec swan nft add rule inet fw forward_filter tcp dport 11105 drop; }
edge_drop() { ip netns exec srb nft add rule inet fw forward_filter oifname b1 tcp dport 11105 drop; }
# The WAN router resets what goes to site B on 11104, in B's name (nftables'
# reject answers with the destination's address): site-b never sees those SYNs.
wan_rst() { ip netns exec swan nft add rule inet fw forward_filter ip daddr 198.18.2.0/24 tcp dport 11104 reject with tcp reset; }

mkdir -p "$out"
scenario healthy nothing
scenario wan-drop wan_drop
scenario edge-drop edge_drop
scenario wan-rst wan_rst
if [ -z "$ONLY" ] || [ "$ONLY" = clock ]; then
	echo "== clock"
	cp "$out/healthy-site-a.pcap" "$out/clock-site-a.pcap"
	# site-b's clock runs 2.5 s ahead: every timestamp of its capture moves
	python3 - "$out/healthy-site-b.pcap" "$out/clock-site-b.pcap" 2.5 <<'PY'
import struct, sys
src, dst, shift = sys.argv[1], sys.argv[2], float(sys.argv[3])
data = open(src, "rb").read()
magic = struct.unpack("<I", data[:4])[0]
scale = 1000000 if magic == 0xA1B2C3D4 else 1000000000
out, off = bytearray(data[:24]), 24
while off + 16 <= len(data):
    sec, frac, incl, orig = struct.unpack("<IIII", data[off:off + 16])
    t = sec * scale + frac + int(round(shift * scale))
    out += struct.pack("<IIII", t // scale, t % scale, incl, orig) + data[off + 16:off + 16 + incl]
    off += 16 + incl
open(dst, "wb").write(out)
PY
fi
ls -l "$out"
