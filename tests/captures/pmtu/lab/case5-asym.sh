#!/bin/bash
# Case 5: asymmetric routing + PMTUD that works.  A->B goes through r1 (1500 hop,
# r1 sends frag-needed / packet-too-big); B->A comes back over a direct jumbo link
# (a1<->b1) that the capture points a0 / r1a do not see.  Every transfer completes.
cd "$(dirname "$0")"; . ./net.sh; C=../caps/case5-asym; mkdir -p $C; rm -f $C/*
net_up; trap net_down EXIT
ip link add a1 netns p11a type veth peer name b1 netns p11b
ip -n p11a link set a1 mtu 9000 up; ip -n p11b link set b1 mtu 9000 up
for x in "p11a a1" "p11b b1"; do set -- $x; ip netns exec $1 ethtool -K $2 tso off gso off gro off >/dev/null 2>&1; done
ip -n p11a addr add 198.18.6.11/24 dev a1; ip -n p11a addr add fd00:6::11/64 dev a1 nodad
ip -n p11b addr add 198.18.6.12/24 dev b1; ip -n p11b addr add fd00:6::12/64 dev b1 nodad
ip netns exec p11a sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.a1.rp_filter=0 net.ipv4.conf.a0.rp_filter=0
ip -n p11b route add 198.18.1.11/32 via 198.18.6.11; ip -n p11b route add fd00:1::11/128 via fd00:6::11
sleep 1
ip netns exec p11b timeout 60 python3 peer.py serve 198.18.3.11 11104 11105 > $C/srv4.log 2>&1 &
ip netns exec p11b timeout 60 python3 peer.py serve fd00:3::11 11104 11105 > $C/srv6.log 2>&1 &
sleep 1
cap_start p11a a0 $C/a.pcap; cap_start p11r1 r1a $C/r1.pcap; cap_start p11b b0 $C/b.pcap
for d in 198.18.3.11 fd00:3::11; do
  s=198.18.1.11; [[ $d == *:* ]] && s=fd00:1::11
  ip netns exec p11a timeout 30 python3 peer.py send $s $d 11104 300 --timeout 10 | sed "s/^/client $d:11104 (300 B): /"
  ip netns exec p11a timeout 30 python3 peer.py send $s $d 11105 300000 --timeout 10 | sed "s/^/client $d:11105 (300 kB): /"
done
cap_stop
cat $C/srv4.log $C/srv6.log
