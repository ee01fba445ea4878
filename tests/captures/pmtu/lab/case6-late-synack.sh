#!/bin/bash
# Case 6: the answer comes too late.  r2 rejects B's SYN-ACKs (ICMP admin-prohibited)
# for 6 s; A's connect() times out after 4 s; then r2's rule goes, B's next SYN-ACK
# retransmission reaches A, which has no such connection any more and resets it.
# The connection never worked (the client says "timed out", the server got nothing).
cd "$(dirname "$0")"; . ./net.sh; C=../caps/case6-late-synack; mkdir -p $C; rm -f $C/*
net_up; trap net_down EXIT
ip netns exec p11b timeout 60 python3 peer.py serve 198.18.3.11 11104 > $C/srv4.log 2>&1 &
ip netns exec p11b timeout 60 python3 peer.py serve fd00:3::11 11104 > $C/srv6.log 2>&1 &
ip netns exec p11r2 nft -f - <<'NFT'
table inet p11 {
  chain pfwd {
    type filter hook forward priority 0;
    tcp sport 11104 tcp flags & (syn|ack) == syn|ack counter reject with icmpx type admin-prohibited
  }
}
NFT
sleep 1
cap_start p11a a0 $C/a.pcap; cap_start p11b b0 $C/b.pcap
ip netns exec p11a timeout 20 python3 peer.py send 198.18.1.11 198.18.3.11 11104 100 --timeout 4 | sed "s/^/client v4: /" &
P1=$!
ip netns exec p11a timeout 20 python3 peer.py send fd00:1::11 fd00:3::11 11104 100 --timeout 4 | sed "s/^/client v6: /" &
P2=$!
sleep 6; ip netns exec p11r2 nft delete table inet p11; wait $P1 $P2
sleep 10
cap_stop
cat $C/srv4.log $C/srv6.log
