#!/usr/bin/env bash
# Real Linux TCP stacks (two network namespaces on a veth pair, nftables, TCP Fast
# Open on) make the connection shapes of tcp-shapes.sh, captured by tcpdump at the
# client's end; tshark says each shape really happened, and smaudit must judge the
# flows as the clients lived them:
#   .11 -> .11:11104  a plain connection                                   ok
#   .11 -> .12:11104  Fast Open: a cookie, then a request in the SYN           ok
#   .11 -> .12:11105  a Fast Open SYN with data (then SYNs), dropped by the server's nftables  no-answer
#   .12 -> .11:11104  a Fast Open cookie                                       ok
#   .12 -> .11:11105  Fast Open SYN answered, the SYN-ACK dropped in the client  no-answer
#   .12 -> .12:11104  connect() from port 40000 fails (dropped), the same port again
#                     succeeds (a new ISN)        ok, intermittent 1 of 2 (1 unanswered)
#   .11 -> .11:11105  a connection whose client vanished (its reset dropped) and
#                     that comes back from the same port: the server's challenge
#                     ACK, the client's reset, the SYN again, answered    ok, not intermittent
#   .12 -> .12:11105  a connection opened before the capture, aborted by its server
#                     (a reset, no SYN in the capture), then a new one    ok, not intermittent
# usage: tcp-realstack.sh SMAUDIT      (root; from the repository root)
set -u
bin=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"
net_need nft tcpdump tshark python3 timeout
net_work tcprs
C=smaudit-tcprs-c S=smaudit-tcprs-s
net_ns $C $S
net_quiet $C $S
net_veth $C c0 $S s0
for a in 11 12; do
	ip -n $C addr add 198.18.1.$a/16 dev c0
	ip -n $S addr add 198.18.2.$a/16 dev s0
done
for n in $C $S; do
	ip netns exec $n sysctl -qw net.ipv4.tcp_fastopen=3 || skip "TCP Fast Open cannot be set in a namespace here"
done
ip netns exec $S nft -f - <<'NFT' || skip "nftables is not usable in a namespace here"
table inet srv {
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr 198.18.1.11 tcp dport 11105 ip daddr 198.18.2.12 drop
	}
}
NFT
ip netns exec $C nft -f - <<'NFT' || skip "nftables is not usable in a namespace here"
table inet cli {
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr 198.18.2.11 tcp sport 11105 ip daddr 198.18.1.12 drop
	}
}
NFT
peer() { timeout 60 ip netns exec "$1" python3 "$here/tcppeer.py" "${@:2}"; }
peer $S serve 198.18.2.11 198.18.2.12 -p 11104 11105 >"$W/serve.out" 2>&1 &
net_wait_for "$W/serve.out" listening || skip "the server did not start: $(cat "$W/serve.out")"
# a connection opened before the capture begins (a span port joined while SnapMirror
# runs), aborted by its server during it (SO_LINGER 0: a reset), then the flow again
peer $C connect 198.18.1.12 198.18.2.12 11105 --sport 40002 --abort-when "$W/go2" \
	--server-resets >"$W/before.out" 2>&1 &
before=$!
net_wait_for "$W/before.out" answered || check "the connection opened before the capture was answered" false
ip netns exec $C tcpdump -n -U -i c0 -w "$W/cap.pcap" tcp 2>"$W/tcpdump.err" &
td=$!
net_wait_for "$W/tcpdump.err" "listening on" || skip "tcpdump did not start"

outcome() { # WANT PEER-ARGS...: what the client says
	local got
	got=$(peer $C connect "${@:2}" 2>&1 | tail -1)
	check "client ${*:2}: $1 (it says: $got)" [ "${got%%:*}" = "$1" ]
}
outcome ok 198.18.1.11 198.18.2.11 11104
outcome ok 198.18.1.11 198.18.2.12 11104 --fastopen
outcome ok 198.18.1.11 198.18.2.12 11104 --fastopen
outcome failed 198.18.1.11 198.18.2.12 11105 --fastopen --syncnt 1
outcome ok 198.18.1.12 198.18.2.11 11104 --fastopen
outcome failed 198.18.1.12 198.18.2.11 11105 --fastopen --syncnt 1
ip netns exec $S nft add rule inet srv input ip saddr 198.18.1.12 tcp dport 11104 ip daddr 198.18.2.12 drop
outcome failed 198.18.1.12 198.18.2.12 11104 --sport 40000 --syncnt 1
ip netns exec $S nft flush chain inet srv input
outcome ok 198.18.1.12 198.18.2.12 11104 --sport 40000
# the client vanishes: its reset never leaves; then it comes back from that port
peer $C connect 198.18.1.11 198.18.2.11 11105 --sport 40001 --abort-when "$W/go" >"$W/abort.out" 2>&1 &
net_wait_for "$W/abort.out" answered || check "the connection to vanish was answered" false
ip netns exec $C nft add chain inet cli output '{ type filter hook output priority 0; policy accept; }'
ip netns exec $C nft add rule inet cli output tcp sport 40001 tcp flags rst drop
touch "$W/go"
wait $!
ip netns exec $C nft flush chain inet cli output
outcome ok 198.18.1.11 198.18.2.11 11105 --sport 40001
sleep 1.5 # past the capture's first second: no edge of it
touch "$W/go2"
wait $before
outcome ok 198.18.1.12 198.18.2.12 11105
sleep 1.5 # a last connection more than 1 s after the reset: no edge of the end either
outcome ok 198.18.1.12 198.18.2.11 11104
sleep 1.5 # tcpdump without --immediate-mode hands packets on by the block
kill -INT $td
wait $td

# tshark: the shapes happened
n() { tshark -r "$W/cap.pcap" -Y "$1" 2>/dev/null | wc -l; }
check "tshark: a Fast Open SYN with data to .12:11105, dropped" [ "$(n 'tcp.dstport==11105 && ip.dst==198.18.2.12 && tcp.flags.syn==1 && tcp.len>0')" -ge 1 ]
check "tshark: SYN-ACKs from .11:11105 to .12, never acknowledged" [ "$(n 'tcp.srcport==11105 && ip.dst==198.18.1.12 && tcp.flags.syn==1 && tcp.flags.ack==1')" -ge 2 ]
check "tshark: two ISNs from .12:40000" [ "$(tshark -r "$W/cap.pcap" -Y 'tcp.srcport==40000 && tcp.flags.syn==1 && tcp.flags.ack==0' -o tcp.relative_sequence_numbers:FALSE -T fields -e tcp.seq 2>/dev/null | sort -u | wc -l)" -eq 2 ]
check "tshark: the server's reset to .12:40002, no SYN of it" [ "$(n 'tcp.dstport==40002 && tcp.flags.reset==1')" -ge 1 ] && [ "$(n 'tcp.port==40002 && tcp.flags.syn==1')" -eq 0 ]
check "tshark: a bare ACK answering a SYN from .11:40001 (challenge ACK)" [ "$(tshark -r "$W/cap.pcap" -Y 'tcp.dstport==40001 && tcp.flags==0x010' -T fields -e frame.number 2>/dev/null | wc -l)" -ge 1 ]

cp pcaps/site.conf "$W/site.conf"
"$bin" audit -s "$W/site.conf" --color never "$W/cap.pcap" >"$W/report.txt" 2>&1
line() { grep -E "^  [a-z-]+ +tcp/$3  ic-a 198\.18\.1\.$1 -> ic-b 198\.18\.2\.$2 " "$W/report.txt"; }
matches() { echo "$1" | grep -qE -- "$2"; }
verdict() { # SRC DST PORT PATTERN
	local l
	l=$(line "$1" "$2" "$3")
	check "smaudit .$1 -> .$2:$3: /$4/ (${l:-no line})" matches "$l" "$4"
}
verdict 11 11 11104 '^  ok .*1 session\(s\)$'
verdict 11 12 11104 '^  ok .*2 session\(s\)$'
verdict 11 12 11105 '^  no-answer '
verdict 12 11 11104 '^  ok '
verdict 12 11 11105 '^  no-answer '
verdict 12 12 11104 '^  ok .*intermittent: 1 of 2 sessions failed \(0 rejected, 1 unanswered\)'
verdict 11 11 11105 '^  ok [^;]*$'
verdict 12 12 11105 '^  ok .*2 session\(s\)$' # the reset of the connection opened before: no failure
check "smaudit: no capture loss claimed" bash -c "! grep -q 'MISSED by the capture' '$W/report.txt'"
[ $fails -eq 0 ] || { echo "report:"; sed -n '/MISSING/,/^NOT APPLICABLE/p' "$W/report.txt" | head -40; }
echo "tcp-realstack: $fails failed"
[ $fails -eq 0 ]
