#!/usr/bin/env bash
# Path MTU on real Linux stacks (tests/captures/pmtu/README.md), tshark as the oracle:
#   PMTU discovery seen from one side of an asymmetric path: "fragmentation needed" /
#     "packet too big" is no refusal (RFC 1191, RFC 8201): one-way, as a flow without them
#   a PMTU black hole (the router's ICMP dropped): the handshake works, the data never
#     arrives: ok by the handshake, but intermittent, its sessions stalled (a finding;
#     --strict exits 1)
#   a SYN-ACK that comes after the client gave up, reset by it: no answer, not ok
# usage: pmtu.sh SMAUDIT      (from the repository root)
set -u
bin=$(readlink -f "$1")
command -v tshark >/dev/null || { echo "SKIP: needs tshark (apt-get install tshark)"; exit 77; }
C=tests/captures/pmtu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
check() { # WHAT CMD...
	if "${@:2}"; then pass=$((pass + 1)); else echo "FAIL $1"; fail=$((fail + 1)); fi
}
n() { tshark -r "$C/$1" -Y "$2" 2>/dev/null | wc -l; }
audit() { # NAME CAPTURE FAMILY [OPTION...]
	"$bin" audit -s "$C/site$3.conf" --rules "$C/ab.rules" --color never "${@:4}" "$C/$2" >"$work/$1.txt" 2>&1
	echo $? >"$work/$1.rc"
}
line() { grep -E "^  [a-z-]+ +tcp/$2  ic-a " "$work/$1.txt"; }
has() { line "$1" "$2" | grep -qE -- "$3"; }

# 1. PMTU discovery, one direction seen
check "tshark: fragmentation needed in asym-pmtud" [ "$(n asym-pmtud.pcap 'icmp.type==3 && icmp.code==4')" -ge 1 ]
check "tshark: packet too big in asym-pmtud" [ "$(n asym-pmtud.pcap 'icmpv6.type==2')" -ge 1 ]
check "tshark: no packet from B in asym-pmtud" [ "$(n asym-pmtud.pcap 'tcp.srcport==11105')" -eq 0 ]
for f in 4 6; do
	audit asym$f asym-pmtud.pcap $f
	check "asym IPv$f: 11105 one-way, as 11104 (no refusal)" has asym$f 11105 '^  one-way '
	check "asym IPv$f: 11104 one-way" has asym$f 11104 '^  one-way '
	check "asym IPv$f: no 'rejected'" bash -c "! grep -q 'rejected by ICMP' '$work/asym$f.txt'"
done

# 2. the black hole
for m in rst fin; do
	f=blackhole-$m.pcap
	check "tshark: $m: 11105 data retransmitted, never acknowledged" \
		[ "$(n $f 'tcp.dstport==11105 && tcp.analysis.retransmission && tcp.len>1448')" -ge 3 ]
	check "tshark: $m: no byte of 11105 acknowledged" \
		[ "$(n $f 'tcp.srcport==11105 && tcp.ack>1')" -eq 0 ]
	for fam in 4 6; do
		audit bh$m$fam $f $fam
		check "black hole $m IPv$fam: 11105 ok by its handshake, its session stalled" \
			has bh$m$fam 11105 '^  ok .*intermittent: 1 of 1 sessions failed \(0 rejected, 0 unanswered, 1 stalled: .*89[0-9][0-9] bytes.*path MTU'
		check "black hole $m IPv$fam: 11104 (100 bytes) plain ok" has bh$m$fam 11104 '^  ok .*1 session\(s\)$'
		audit bhs$m$fam $f $fam --strict
		check "black hole $m IPv$fam: --strict exits 1" [ "$(cat "$work/bhs$m$fam.rc")" = 1 ]
	done
done

# 3. an answer after the client gave up
check "tshark: late-synack: the client resets the SYN-ACK" \
	[ "$(n late-synack.pcap 'ip && tcp.flags==0x004 && tcp.srcport!=11104')" -eq 1 ]
audit late4 late-synack.pcap 4
check "late SYN-ACK IPv4: no-answer, not ok" has late4 11104 '^  no-answer '
check "late SYN-ACK IPv4: the detail says the answer came after the client gave up" \
	grep -q "a SYN-ACK came only after the initiator had given up (it reset it)" "$work/late4.txt"
audit late6 late-synack.pcap 6
check "late SYN-ACK IPv6: no-answer" has late6 11104 '^  no-answer '

[ $fail -eq 0 ] || for f in "$work"/*.txt; do echo "== $f"; grep -A2 -E '^  [a-z-]+ +tcp/1110' "$f" | head -8; done
echo "pmtu: $pass passed, $fail failed"
[ $fail -eq 0 ]
