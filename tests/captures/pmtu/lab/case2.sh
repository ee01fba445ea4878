#!/bin/bash
# Case 2: PMTU black hole. As case 1, but router r1 drops its own ICMP frag-needed /
# ICMPv6 packet-too-big (nft, output chain).  Handshake works, full-size segments die.
# MODE=rst (default): the sender gives up after 6 s and resets (SO_LINGER 0);
# MODE=fin: it closes normally (FIN queued behind the stuck data).
cd "$(dirname "$0")"; . ./net.sh; MODE=${MODE:-rst}; C=../caps/case2-$MODE; mkdir -p $C; rm -f $C/*
net_up; trap net_down EXIT
ip netns exec p11r1 nft -f - <<'NFT'
table inet p11 {
  chain out {
    type filter hook output priority 0;
    icmp type destination-unreachable icmp code frag-needed counter drop
    icmpv6 type packet-too-big counter drop
  }
}
NFT
ip netns exec p11b timeout 60 python3 peer.py serve 198.18.3.11 11104 11105 > $C/srv4.log 2>&1 &
ip netns exec p11b timeout 60 python3 peer.py serve fd00:3::11 11104 11105 > $C/srv6.log 2>&1 &
sleep 1
cap_start p11a a0 $C/a.pcap; cap_start p11r1 r1a $C/r1.pcap; cap_start p11b b0 $C/b.pcap
L=; [ $MODE = rst ] && L=--linger0
for d in 198.18.3.11 fd00:3::11; do
  s=198.18.1.11; [[ $d == *:* ]] && s=fd00:1::11
  ip netns exec p11a timeout 30 python3 peer.py send $s $d 11104 100 --timeout 6 $L | sed "s/^/client $d:11104 (100 B): /"
  ip netns exec p11a timeout 30 python3 peer.py send $s $d 11105 1000000 --timeout 6 $L | sed "s/^/client $d:11105 (1 MB): /"
done
sleep 2
cap_stop
cat $C/srv4.log $C/srv6.log; ip netns exec p11r1 nft list ruleset | grep counter
