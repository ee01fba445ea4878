# sourced: topology  p11a (ic-a, MTU 9000) -- p11r1 (9000 | 1500) -- p11r2 (1500 | 9000) -- p11b (ic-b, MTU 9000)
# a:  198.18.1.11 fd00:1::11     r1: 198.18.1.1 fd00:1::1 / 198.18.2.1 fd00:2::1
# r2: 198.18.2.2 fd00:2::2 / 198.18.3.1 fd00:3::1      b: 198.18.3.11 fd00:3::11
NS="p11a p11r1 p11r2 p11b"
net_down() { for n in $NS; do ip netns pids $n 2>/dev/null | xargs -r kill 2>/dev/null; ip netns del $n 2>/dev/null; done; true; }
net_up() {
  net_down
  for n in $NS; do ip netns add $n; ip -n $n link set lo up; done
  ip link add a0 netns p11a type veth peer name r1a netns p11r1
  ip link add r1b netns p11r1 type veth peer name r2a netns p11r2
  ip link add r2b netns p11r2 type veth peer name b0 netns p11b
  for x in "p11a a0 9000" "p11r1 r1a 9000" "p11r1 r1b 1500" "p11r2 r2a 1500" "p11r2 r2b 9000" "p11b b0 9000"; do
    set -- $x; ip -n $1 link set $2 mtu $3 up
    ip netns exec $1 ethtool -K $2 tso off gso off gro off >/dev/null 2>&1
    ip netns exec $1 sysctl -qw net.ipv6.conf.$2.accept_dad=0 2>/dev/null
  done
  ip -n p11a addr add 198.18.1.11/24 dev a0; ip -n p11a addr add fd00:1::11/64 dev a0 nodad
  ip -n p11r1 addr add 198.18.1.1/24 dev r1a; ip -n p11r1 addr add fd00:1::1/64 dev r1a nodad
  ip -n p11r1 addr add 198.18.2.1/24 dev r1b; ip -n p11r1 addr add fd00:2::1/64 dev r1b nodad
  ip -n p11r2 addr add 198.18.2.2/24 dev r2a; ip -n p11r2 addr add fd00:2::2/64 dev r2a nodad
  ip -n p11r2 addr add 198.18.3.1/24 dev r2b; ip -n p11r2 addr add fd00:3::1/64 dev r2b nodad
  ip -n p11b addr add 198.18.3.11/24 dev b0; ip -n p11b addr add fd00:3::11/64 dev b0 nodad
  for r in p11r1 p11r2; do ip netns exec $r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1; done
  ip -n p11a route add 198.18.0.0/15 via 198.18.1.1; ip -n p11a route add fd00::/16 via fd00:1::1
  ip -n p11r1 route add 198.18.3.0/24 via 198.18.2.2; ip -n p11r1 route add fd00:3::/64 via fd00:2::2
  ip -n p11r2 route add 198.18.1.0/24 via 198.18.2.1; ip -n p11r2 route add fd00:1::/64 via fd00:2::1
  ip -n p11b route add 198.18.0.0/15 via 198.18.3.1; ip -n p11b route add fd00::/16 via fd00:3::1
  sleep 1
}
CAPS=()
cap_start() { # NS IF FILE
  ip netns exec $1 timeout 120 tcpdump -n -s 200 -U -i $2 -w $3 2>$3.err &
  CAPS+=($!); for i in $(seq 50); do grep -q listening $3.err 2>/dev/null && break; sleep 0.1; done
}
cap_stop() { sleep 1.5; for p in "${CAPS[@]}"; do kill -INT $p 2>/dev/null; done; wait "${CAPS[@]}" 2>/dev/null; CAPS=(); }
