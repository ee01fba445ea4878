#!/usr/bin/env bash
# Regenerates the example captures in pcaps/ from real TCP stacks.
#
# Topology (network namespaces made here, addresses from 198.18.0.0/15 and
# fd00::/8, no default route; nothing leaves these namespaces):
#
#   sma (site A LIFs) --- smr (router, capture point) --- smfw (firewall) --- smb (site B LIFs)
#                               |
#                              smm (ONTAP Mediator host)
#
# The capture is tcpdump in the router on every interface, inbound only, so each
# packet is recorded once, like a span port.  DROP/REJECT rules are nftables in
# the firewall namespace, so its ICMP errors and resets cross the router too.
# Needs root, iproute2, nftables, tcpdump and python3.  Usage: pcaps/make-captures.sh [SCENARIO]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
T="python3 $here/traffic.py"
ONLY=${1:-} # optional: one scenario name
NS="sma smb smr smfw smm"

cleanup() {
	for n in $NS; do ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null || true; done
	sleep 0.2
	for n in $NS; do ip netns del $n 2>/dev/null || true; done
}
trap cleanup EXIT

link() { # ns1 if1 ns2 if2
	ip link add "$2" netns "$1" type veth peer name "$4" netns "$3"
	ip -n "$1" link set "$2" up
	ip -n "$3" link set "$4" up
}

setup() { # vlan-mode: none | vlan | qinq
	cleanup
	for n in $NS; do ip netns add $n; ip -n $n link set lo up; done
	for n in smr smfw; do
		ip netns exec $n sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	done
	for n in $NS; do ip netns exec $n sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0; done
	link sma ra smr ar
	local aif=ra rif=ar
	if [ "$1" = vlan ]; then
		ip -n sma link add link ra name ra.110 type vlan id 110; ip -n sma link set ra.110 up
		ip -n smr link add link ar name ar.110 type vlan id 110; ip -n smr link set ar.110 up
		aif=ra.110; rif=ar.110
	elif [ "$1" = qinq ]; then
		ip -n sma link add link ra name ra.s type vlan proto 802.1ad id 200; ip -n sma link set ra.s up
		ip -n sma link add link ra.s name ra.c type vlan id 110; ip -n sma link set ra.c up
		ip -n smr link add link ar name ar.s type vlan proto 802.1ad id 200; ip -n smr link set ar.s up
		ip -n smr link add link ar.s name ar.c type vlan id 110; ip -n smr link set ar.c up
		aif=ra.c; rif=ar.c
	fi
	link smr rf smfw fr
	link smfw fb smb bf
	link smr rm smm mr
	# site A: ic-a .11 .12, cluster-mgmt-a .20, node-mgmt-a .21
	for a in 11 12 20 21; do ip -n sma addr add 198.18.1.$a/24 dev $aif; ip -n sma addr add fd00:1::$a/64 dev $aif nodad; done
	ip -n smr addr add 198.18.1.1/24 dev $rif; ip -n smr addr add fd00:1::1/64 dev $rif nodad
	ip -n sma route add 198.18.0.0/15 via 198.18.1.1; ip -n sma route add fd00::/16 via fd00:1::1
	# router <-> firewall
	ip -n smr addr add 198.18.9.1/30 dev rf; ip -n smfw addr add 198.18.9.2/30 dev fr
	ip -n smr addr add fd00:9::1/64 dev rf nodad; ip -n smfw addr add fd00:9::2/64 dev fr nodad
	ip -n smr route add 198.18.2.0/24 via 198.18.9.2; ip -n smr route add fd00:2::/64 via fd00:9::2
	ip -n smfw route add 198.18.0.0/15 via 198.18.9.1; ip -n smfw route add fd00::/16 via fd00:9::1
	# site B: ic-b .11 .12, cluster-mgmt-b .20, node-mgmt-b .21
	ip -n smfw addr add 198.18.2.1/24 dev fb; ip -n smfw addr add fd00:2::1/64 dev fb nodad
	for a in 11 12 20 21; do ip -n smb addr add 198.18.2.$a/24 dev bf; ip -n smb addr add fd00:2::$a/64 dev bf nodad; done
	ip -n smb route add 198.18.0.0/15 via 198.18.2.1; ip -n smb route add fd00::/16 via fd00:2::1
	# Mediator
	ip -n smr addr add 198.18.3.1/24 dev rm; ip -n smm addr add 198.18.3.5/24 dev mr
	ip -n smr addr add fd00:3::1/64 dev rm nodad; ip -n smm addr add fd00:3::5/64 dev mr nodad
	ip -n smm route add 198.18.0.0/15 via 198.18.3.1; ip -n smm route add fd00::/16 via fd00:3::1
	ip netns exec smfw nft add table inet fw
	ip netns exec smfw nft add chain inet fw forward_filter '{ type filter hook forward priority 0; policy accept; }'
	sleep 1
}

listeners() { # ns ports...
	local ns=$1; shift
	ip netns exec "$ns" $T listen "$@" >/dev/null 2>&1 &
}

capture_start() { # file [iface]
	local ifc=${2:-any}
	if [ "$ifc" = any ]; then
		ip netns exec smr tcpdump -Q in -i any -s 1500 -U -w "$1" 2>/dev/null &
	else
		ip netns exec smr tcpdump -i "$ifc" -s 1500 -U -w "$1" 2>/dev/null &
	fi
	CAP=$!
	sleep 1
}

capture_stop() { sleep 1; kill -INT $CAP; wait $CAP 2>/dev/null || true; }

conn() { ip netns exec "$1" $T connect "$2" "$3" "$4" ${5:-}; }

# The flows SM-as needs, per rules/sm-as.rules (fam 4 or 6).
sm_as_flows() {
	local fam=$1 pa pb
	if [ "$fam" = 6 ]; then pa=fd00:1::; pb=fd00:2::; m=fd00:3::5; else pa=198.18.1.; pb=198.18.2.; m=198.18.3.5; fi
	for port in 3260 11104 11105; do
		for x in 11 12; do for y in 11 12; do
			conn sma ${pa}$x ${pb}$y $port &
			conn smb ${pb}$y ${pa}$x $port &
		done; done
		wait
	done
	conn sma ${pa}11 ${pb}11 443 & conn smb ${pb}11 ${pa}11 443 & wait
	ip netns exec sma $T ping ${pa}11 ${pb}11 & ip netns exec smb $T ping ${pb}11 ${pa}11 & wait
	conn sma ${pa}20 $m 31784 & conn smb ${pb}20 $m 31784 &
	conn sma ${pa}21 $m 31784 & conn smb ${pb}21 $m 31784 &
	conn sma ${pa}21 $m 3260 & conn smb ${pb}21 $m 3260 &
	wait
}

scenario() { # name vlan-mode fam setup-hook
	local name=$1 mode=$2 fam=$3 hook=$4
	[ -z "$ONLY" ] || [ "$ONLY" = "$name" ] || return 0
	echo "== $name"
	setup "$mode"
	listeners sma 3260 11104 11105 443
	listeners smb 3260 11104 11105 443
	listeners smm 31784 3260 22
	sleep 1
	$hook
	if [ "$mode" = none ]; then capture_start "$here/$name.pcap"; else capture_start "$here/$name.pcap" ar; fi
	sm_as_flows "$fam" | sort | uniq -c | sed 's/^/   /' | grep -c ok >/dev/null || true
	[ "$name" = unexpected ] && { conn sma 198.18.1.11 198.18.2.11 23 || true; conn smb 198.18.2.12 198.18.1.11 8080 || true; }
	# an SSH tunnel on the HTTPS port and a web client on the iSCSI port
	[ "$name" = mismatch ] && { conn sma 198.18.1.12 198.18.2.12 443 ssh || true; conn smb 198.18.2.11 198.18.1.11 3260 http || true; }
	[ "$name" = outage ] && heartbeats
	capture_stop
}

# Mediator and 11104 heartbeats once a second; the Mediator host drops them
# for a few seconds in the middle (the silence `smaudit timeline` shows).
heartbeats() {
	local pids=""
	for i in $(seq 1 16); do
		[ "$i" = 6 ] && mediator_down
		[ "$i" = 12 ] && ip netns exec smm nft delete table inet m
		conn sma 198.18.1.21 198.18.3.5 31784 >/dev/null & pids="$pids $!"
		conn sma 198.18.1.11 198.18.2.11 11104 >/dev/null & pids="$pids $!"
		sleep 1
	done
	wait $pids # not the listeners or tcpdump
}

nothing() { :; }
drop_11105() { ip netns exec smfw nft add rule inet fw forward_filter tcp dport 11105 drop; }
reject_ports() {
	ip netns exec smfw nft add rule inet fw forward_filter tcp dport 11104 reject with tcp reset
	ip netns exec smfw nft add rule inet fw forward_filter tcp dport 3260 ip daddr 198.18.0.0/16 ip saddr 198.18.1.0/24 reject with icmp type admin-prohibited
	ip netns exec smfw nft add rule inet fw forward_filter tcp dport 3260 ip daddr 198.18.1.0/24 reject with icmp type admin-prohibited
}
mediator_down() { ip netns exec smm nft add table inet m; ip netns exec smm nft add chain inet m input_filter '{ type filter hook input priority 0; policy accept; }'; ip netns exec smm nft add rule inet m input_filter tcp dport '{31784, 3260}' drop; }

scenario healthy none 4 nothing
scenario dropped none 4 drop_11105
scenario rejected none 4 reject_ports
scenario unexpected none 4 nothing
scenario mediator-down none 4 mediator_down
scenario ipv6 none 6 nothing
scenario mismatch none 4 nothing
scenario outage none 4 nothing
# This kernel class has no 802.1Q module, so the tagged captures are the healthy
# one re-framed as Ethernet with tags (the only crafted part).
[ -n "$ONLY" ] || python3 "$here/retag.py" "$here/healthy.pcap" "$here/vlan.pcap" 110
[ -n "$ONLY" ] || python3 "$here/retag.py" "$here/healthy.pcap" "$here/qinq.pcap" 200 110
ls -l "$here"/*.pcap
