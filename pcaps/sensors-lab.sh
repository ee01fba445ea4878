# The two-site lab of pcaps/make-sensors.sh and tests/scripts/live-sensors.sh, sourced
# after tests/scripts/netns.sh:
#
#   $NA (site A LIFs) -- $RA (router A) -- $WAN (WAN router) -- $RB (router B) -- $NB (site B LIFs)
#                        sensor site-a         |                 sensor site-b
#                                             $MED (ONTAP Mediator, a third site)
#
# Namespaces are named ssa, sra, swan, srb, ssb, ssm followed by $LAB_SUFFIX (empty by
# default; a test sets its PID so that two runs never share one).  Addresses from
# 198.18.0.0/15, no default route: nothing leaves the namespaces.
#   lab_setup            the namespaces, links, addresses, routes; nftables filter
#                        chains (empty) on the WAN router and router B
#   lab_listeners        the SM-as services listening at both sites and the Mediator
#   sm_as_flows          every SM-as flow opened once (in a subshell: its waits are its own)
#   wan_drop, edge_drop, wan_rst, nothing   the scenarios' nftables rules
# Needs $T, the traffic tool: python3 pcaps/traffic.py.
NA=ssa${LAB_SUFFIX:-} RA=sra${LAB_SUFFIX:-} WAN=swan${LAB_SUFFIX:-}
RB=srb${LAB_SUFFIX:-} NB=ssb${LAB_SUFFIX:-} MED=ssm${LAB_SUFFIX:-}
LAB_NS="$NA $RA $WAN $RB $NB $MED"

lab_setup() {
	net_cleanup # the previous scenario's namespaces and what runs in them
	net_ns $LAB_NS
	net_quiet $LAB_NS
	for n in $RA $WAN $RB; do ip netns exec $n sysctl -qw net.ipv4.ip_forward=1; done
	net_veth $NA a0 $RA a1
	net_veth $RA w0 $WAN w1
	net_veth $WAN w2 $RB b0
	net_veth $RB b1 $NB b2
	net_veth $WAN m0 $MED m1
	# site A: ic-a .11 .12, cluster-mgmt-a .20, node-mgmt-a .21
	for a in 11 12 20 21; do ip -n $NA addr add 198.18.1.$a/24 dev a0; done
	ip -n $RA addr add 198.18.1.1/24 dev a1
	ip -n $NA route add 198.18.0.0/15 via 198.18.1.1
	# A <-> WAN <-> B, and the Mediator on the WAN router
	ip -n $RA addr add 198.18.9.1/30 dev w0; ip -n $WAN addr add 198.18.9.2/30 dev w1
	ip -n $WAN addr add 198.18.9.5/30 dev w2; ip -n $RB addr add 198.18.9.6/30 dev b0
	ip -n $RA route add 198.18.0.0/15 via 198.18.9.2
	ip -n $RB route add 198.18.0.0/15 via 198.18.9.5
	ip -n $WAN route add 198.18.1.0/24 via 198.18.9.1
	ip -n $WAN route add 198.18.2.0/24 via 198.18.9.6
	# site B: ic-b .11 .12, cluster-mgmt-b .20, node-mgmt-b .21
	ip -n $RB addr add 198.18.2.1/24 dev b1
	for a in 11 12 20 21; do ip -n $NB addr add 198.18.2.$a/24 dev b2; done
	ip -n $NB route add 198.18.0.0/15 via 198.18.2.1
	# Mediator
	ip -n $WAN addr add 198.18.3.1/24 dev m0; ip -n $MED addr add 198.18.3.5/24 dev m1
	ip -n $MED route add 198.18.0.0/15 via 198.18.3.1
	for n in $WAN $RB; do
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

conn() { ip netns exec "$1" $T connect "$2" "$3" "$4" ${5:-} || true; }

# The flows SM-as needs, per rules/sm-as.rules.
sm_as_flows() {
	local m=198.18.3.5
	# first a ping each way, as a running cluster always has traffic: each sensor is
	# seen capturing before the flows under test begin
	ip netns exec $NA $T ping 198.18.1.11 198.18.2.11 & ip netns exec $NB $T ping 198.18.2.11 198.18.1.11 & wait
	for port in 3260 11104 11105; do
		for x in 11 12; do for y in 11 12; do
			conn $NA 198.18.1.$x 198.18.2.$y $port &
			conn $NB 198.18.2.$y 198.18.1.$x $port &
		done; done
		wait
	done
	conn $NA 198.18.1.11 198.18.2.11 443 & conn $NB 198.18.2.11 198.18.1.11 443 & wait
	ip netns exec $NA $T ping 198.18.1.11 198.18.2.11 & ip netns exec $NB $T ping 198.18.2.11 198.18.1.11 & wait
	conn $NA 198.18.1.20 $m 31784 & conn $NB 198.18.2.20 $m 31784 &
	conn $NA 198.18.1.21 $m 31784 & conn $NB 198.18.2.21 $m 31784 &
	conn $NA 198.18.1.21 $m 3260 & conn $NB 198.18.2.21 $m 3260 &
	wait
}

lab_listeners() {
	listeners $NA 3260 11104 11105 443
	listeners $NB 3260 11104 11105 443
	listeners $MED 31784 3260
	sleep 1
}

nothing() { :; }
wan_drop() { ip netns exec $WAN nft add rule inet fw forward_filter tcp dport 11105 drop; }
edge_drop() { ip netns exec $RB nft add rule inet fw forward_filter oifname b1 tcp dport 11105 drop; }
# The WAN router resets what goes to site B on 11104, in B's name (nftables'
# reject answers with the destination's address): site-b never sees those SYNs.
wan_rst() { ip netns exec $WAN nft add rule inet fw forward_filter ip daddr 198.18.2.0/24 tcp dport 11104 reject with tcp reset; }

# The WAN router drops site B's answers on 11105 (SYN-ACKs from B): the SYN reaches
# B, the SYN-ACK is seen at site-b and never at site-a.
answer_drop() { ip netns exec $WAN nft add rule inet fw forward_filter ip saddr 198.18.2.0/24 tcp sport 11105 drop; }
# The WAN router refuses 3260 towards B with ICMP admin-prohibited from its own
# address: seen at site-a, never at site-b.
wan_icmp() { ip netns exec $WAN nft add rule inet fw forward_filter ip daddr 198.18.2.0/24 tcp dport 3260 reject with icmp type admin-prohibited; }
