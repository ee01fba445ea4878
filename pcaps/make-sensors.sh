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
#   answer-drop  the WAN router drops B's SYN-ACKs on 11105: seen at site-b, never at site-a
#   wan-icmp   the WAN router refuses 3260 towards B with ICMP admin-prohibited
#   clock      healthy, and site-b's clock 2.5 s ahead (its timestamps shifted after the capture)
# Needs root, iproute2, nftables, tcpdump and python3.  Usage: pcaps/make-sensors.sh [SCENARIO]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/sensors
T="python3 $here/traffic.py"
ONLY=${1:-}
. "$here/../tests/scripts/netns.sh" # namespaces, veth pairs, cleanup at exit
net_need tcpdump nft python3
. "$here/sensors-lab.sh" # the topology, services, flows and scenarios

CAPS=""
capture_start() { # scenario
	ip netns exec $RA tcpdump -Q in -i any -s 1500 -U -w "$out/$1-site-a.pcap" 2>/dev/null &
	CAPS="$!"
	ip netns exec $RB tcpdump -Q in -i any -s 1500 -U -w "$out/$1-site-b.pcap" 2>/dev/null &
	CAPS="$CAPS $!"
	sleep 1
}

capture_stop() {
	sleep 1
	kill -INT $CAPS
	wait $CAPS 2>/dev/null || true
}

scenario() { # name hook
	local name=$1 hook=$2
	[ -z "$ONLY" ] || [ "$ONLY" = "$name" ] || return 0
	echo "== $name"
	lab_setup
	lab_listeners
	$hook
	capture_start "$name"
	(sm_as_flows) >/dev/null 2>&1 # a subshell: its waits are for its own clients
	capture_stop
}

mkdir -p "$out"
scenario healthy nothing
scenario wan-drop wan_drop
scenario edge-drop edge_drop
scenario wan-rst wan_rst
scenario answer-drop answer_drop
scenario wan-icmp wan_icmp
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
