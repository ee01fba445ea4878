#!/usr/bin/env bash
# The verdict of a connection that fails in the ways a span port shows (written
# by tcpshapes.py, each beside a healthy control conversation): a retry from the
# same port with a new ISN, a SYN answered only by a bare ACK (RFC 5961), an ICMP
# redirect or source quench (no refusal: RFC 792, RFC 6633), TCP Fast Open SYNs
# carrying data, resets an initiator in SYN-SENT drops (RFC 9293 3.10.7.3).  What the report must say of 198.18.1.11 -> 198.18.2.12:11104.
# usage: tcp-shapes.sh SMAUDIT     (from the repository root)
set -u
bin=$(readlink -f "$1")
command -v tshark >/dev/null || { echo "SKIP: needs tshark (apt-get install tshark)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 tests/scripts/tcpshapes.py "$work" || exit 1
pass=0 fail=0
want() { # SHAPE PATTERN: the report's line of the flow matches PATTERN
	local shape=$1 pattern=$2 line
	"$bin" audit -s pcaps/site.conf --color never "$work/$shape.pcap" >"$work/$shape.txt" 2>&1
	line=$(grep -E '^  [a-z-]+ +tcp/11104  ic-a 198\.18\.1\.11 -> ic-b 198\.18\.2\.12 ' "$work/$shape.txt")
	if ! grep -qE '^  ok  tcp/11104  ic-a 198\.18\.1\.11 -> ic-b 198\.18\.2\.11  1 session\(s\)$' "$work/$shape.txt"; then
		echo "FAIL $shape: the healthy control is not plain ok"
		fail=$((fail + 1))
	elif ! echo "$line" | grep -qE "$pattern"; then
		echo "FAIL $shape: want /$pattern/, got: ${line:-no line}"
		fail=$((fail + 1))
	elif grep -q "MISSED by the capture" "$work/$shape.txt"; then
		echo "FAIL $shape: capture loss reported where none is: $(grep -m1 MISSED "$work/$shape.txt")"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
}
failed_once='^  ok .* 2 session\(s\); intermittent: 1 of 2 sessions failed \(0 rejected, 1 unanswered\)'
want new-isn-after-drop "$failed_once"
want new-isn-after-lost "$failed_once"
want challenge-ack '^  no-answer '
want ack-only '^  no-answer '
want redirect '^  no-answer '
want source-quench '^  no-answer '
want tfo-dropped '^  no-answer '
want tfo-answer-lost '^  no-answer '
want ping-unanswered '^  not-seen ' # no TCP on the shape's pair: its pings are below
want tfo-ok '^  ok .*  1 session\(s\)$'
want unreachable '^  rejected '
want reset '^  rejected '
want reset-without-ack '^  no-answer '
want blind-reset-then-ok '^  ok .*  2 session\(s\)$'
want last-syn '^  no-answer '
want ok-then-last-syn '^  ok .*  2 session\(s\)$'
want first-reset '^  not-seen ' # its RST's sequence number is no refusal's (0)
want first-ack-then-ok '^  ok .*  2 session\(s\)$'
# a connection opened before the capture and reset in it (a span port joined while
# SnapMirror runs): no attempt refused, and no failure of a flow that works
want under-way-reset '^  not-seen '
want under-way-reset-then-ok '^  ok .*  2 session\(s\)$'
want under-way-client-reset '^  not-seen '
want unseen-syn-refused '^  rejected '
want unseen-syn-icmp-refused '^  rejected '
want answers-lost-then-reset '^  no-answer '
grep -q "a SYN-ACK came only after the initiator had given up (it reset it)" "$work/answers-lost-then-reset.txt" &&
	pass=$((pass + 1)) || { echo "FAIL answers-lost-then-reset: the late answer is not named"; fail=$((fail + 1)); }
# timeline: a SYN-ACK that never reached the initiator is an attempt that failed, as
# the report counts it, not answered traffic
for shape in tfo-answer-lost answers-lost-then-reset; do
	rm -f "$work/tl.db"
	"$bin" audit -q -s pcaps/site.conf -d "$work/tl.db" "$work/$shape.pcap" >/dev/null 2>&1
	"$bin" timeline -d "$work/tl.db" --pair 198.18.1.11 198.18.2.12 >"$work/tl.txt" 2>&1
	grep -q "^tcp/11104  ic-a 198.18.1.11 -> ic-b 198.18.2.12  (1 session(s), 1 failed)" "$work/tl.txt" &&
		pass=$((pass + 1)) || { echo "FAIL timeline $shape: $(grep -m1 '^tcp/11104' "$work/tl.txt")"; fail=$((fail + 1)); }
done
want two-hops-forged-reset '^  rejected '
grep -A2 -E '^  rejected  tcp/11104  ic-a 198\.18\.1\.11 -> ic-b 198\.18\.2\.12 ' "$work/two-hops-forged-reset.txt" |
	grep -q "answered by TCP RST from 198.18.2.12 (TTL 64): nothing listens on the port, or a firewall resets in its name" &&
	pass=$((pass + 1)) || { echo "FAIL two-hops-forged-reset: $(grep -A2 -m1 '^  rejected  tcp/11104' "$work/two-hops-forged-reset.txt" | tail -1)"; fail=$((fail + 1)); }
want half-open-check '^  ok  tcp/11104  ic-a 198\.18\.1\.11 -> ic-b 198\.18\.2\.12  1 session\(s\)$'
grep -q "^UNEXPECTED TRAFFIC ON MONITORED ROLES (0)" "$work/unseen-syn-icmp-refused.txt" &&
	pass=$((pass + 1)) || { echo "FAIL unseen-syn-icmp-refused: $(grep -A1 '^UNEXPECTED' "$work/unseen-syn-icmp-refused.txt")"; fail=$((fail + 1)); }
want keepalive-under-way '^  ok ' # and no byte missed: a keepalive is one below the next byte
# a refusal among the last packets is whole (its RST came): not cut by the capture's end
want refused-at-end '^  rejected '
want ok-then-refused-at-end '^  ok .* 2 session\(s\); intermittent: 1 of 2 sessions failed \(1 rejected, 0 unanswered\)'
# a receiver that stopped reading (zero window): its window probes are no stalled path
want zero-window '^  ok  tcp/11104  ic-a 198\.18\.1\.11 -> ic-b 198\.18\.2\.12  1 session\(s\)$'
# what the report says of them, beyond the verdict
grep -q "answered with SYN-ACK, never acknowledged" "$work/tfo-answer-lost.txt" &&
	pass=$((pass + 1)) || { echo "FAIL tfo-answer-lost: not told the answer was lost"; fail=$((fail + 1)); }
grep -q "do not acknowledge the SYN, so the initiator ignores them" "$work/reset-without-ack.txt" &&
	pass=$((pass + 1)) || { echo "FAIL reset-without-ack: not told the reset was ignored"; fail=$((fail + 1)); }
grep -q "but the capture ended less than 1 s after these attempts began" "$work/last-syn.txt" &&
	pass=$((pass + 1)) || { echo "FAIL last-syn: not told the capture ended right after it"; fail=$((fail + 1)); }
grep -q "no attempt of this flow was seen: only 1 connection(s) opened before the capture" "$work/first-reset.txt" &&
	pass=$((pass + 1)) || { echo "FAIL first-reset: not told the capture began under way"; fail=$((fail + 1)); }
grep -q "but the capture ended" "$work/new-isn-after-drop.txt" "$work/ack-only.txt" "$work/tfo-dropped.txt" \
	"$work/refused-at-end.txt" &&
	{ echo "FAIL: a caution about the capture's end where the attempts lasted seconds"; fail=$((fail + 1)); } ||
	pass=$((pass + 1))
# a session after an idle timeout keeps the orientation its SYN gave (both ports are
# rule ports: by port alone, the server's keepalive would open tcp/11105 from it)
want idle-then-server-first '^  ok .* 3 session\(s\)$'
grep -qE '^  ok +tcp/11105  ic-b 198\.18\.2\.12 -> ic-a' "$work/idle-then-server-first.txt" &&
	{ echo "FAIL idle-then-server-first: $(grep -E 'tcp/11105  ic-b 198\.18\.2\.12' "$work/idle-then-server-first.txt")"; fail=$((fail + 1)); } ||
	pass=$((pass + 1))
# the SYNs an unanswered attempt sent, not those of a session beside it
want unanswered-beside-one-way '^  no-answer '
grep -q "1 attempt(s) from 198.18.1.11 to 198.18.2.12 never answered (3 SYN sent)" "$work/unanswered-beside-one-way.txt" &&
	pass=$((pass + 1)) || { echo "FAIL unanswered-beside-one-way: $(grep -m1 'never answered' "$work/unanswered-beside-one-way.txt")"; fail=$((fail + 1)); }
# 1.2 GB of a stream never captured (tshark: "previous segment not captured"): every byte
# counted, however far the next segment is
"$bin" audit -s pcaps/site.conf --color never "$work/big-hole.pcap" >"$work/big-hole.txt" 2>&1
grep -q "1200000000 bytes MISSED by the capture in 1 TCP session(s)" "$work/big-hole.txt" &&
	pass=$((pass + 1)) || { echo "FAIL big-hole: $(grep -m1 traffic "$work/big-hole.txt")"; fail=$((fail + 1)); }
# a filter that keeps SYNs and SYN-ACKs only (no resets): a refusal by reset would look
# as unanswered, and the detail says so (the ICMP errors it keeps are no caution)
"$bin" audit -s pcaps/site.conf --color never -f 'tcp[tcpflags] & tcp-syn != 0 or icmp' \
	"$work/reset.pcap" >"$work/reset-f.txt" 2>&1
grep -A2 -E '^  no-answer tcp/11104  ic-a 198\.18\.1\.11 -> ic-b 198\.18\.2\.12 ' "$work/reset-f.txt" |
	grep -q "but the capture filter (-f) drops the TCP resets of this flow: a refusal (rejected) would look the same;" &&
	! grep -q "drops ICMP errors" "$work/reset-f.txt" && pass=$((pass + 1)) ||
	{ echo "FAIL reset hidden by -f: $(grep -A2 -m1 '^  no-answer tcp/11104' "$work/reset-f.txt" | tail -1)"; fail=$((fail + 1)); }
# an audit window (--until) ending between a SYN and its answer: the caution too
syn=$(tshark -r pcaps/healthy.pcap -Y 'tcp.flags == 0x002 && tcp.dstport == 3260' -T fields \
	-e frame.time_epoch -e ip.src -e ip.dst 2>/dev/null | head -1)
set -- $syn
"$bin" audit -s pcaps/site.conf --color never --until "$1" pcaps/healthy.pcap >"$work/until.txt" 2>&1
if grep -A2 -E "^  no-answer tcp/3260  ic-[ab] ${2//./\\.} -> ic-[ab] ${3//./\\.} " "$work/until.txt" |
	grep -q "but the capture ended less than 1 s after"; then pass=$((pass + 1)); else
	echo "FAIL --until $1: the SYN $2 -> $3 cut from its answer is not said to be cut"
	grep -A2 -E "tcp/3260  ic-[ab] ${2//./\\.} " "$work/until.txt" | head -4
	fail=$((fail + 1))
fi
grep -A2 -E "^  no-answer icmp/echo  ic-a 198\.18\.1\.11 -> ic-b 198\.18\.2\.12 " "$work/ping-unanswered.txt" |
	grep -q "never answered (3 echo request(s) sent)" && pass=$((pass + 1)) ||
	{ echo "FAIL ping-unanswered: not told of 3 echo requests"; fail=$((fail + 1)); }
# a UDP attempt sends datagrams, not SYNs
printf 'monitor ic-a ic-b\nexpect udp/5001 ic-a -> ic-b each-pair "udp test"\n' >"$work/udp.rules"
"$bin" audit -s pcaps/site.conf --rules "$work/udp.rules" --color never "$work/udp-unanswered.pcap" \
	>"$work/udp-unanswered.txt" 2>&1
grep -A2 -E "^  no-answer udp/5001  ic-a 198\.18\.1\.11 -> ic-b 198\.18\.2\.12 " "$work/udp-unanswered.txt" |
	grep -q "1 attempt(s) from 198.18.1.11 to 198.18.2.12 never answered (2 datagram(s) sent)" &&
	pass=$((pass + 1)) ||
	{ echo "FAIL udp-unanswered: not told of 2 datagrams: $(grep -m1 'never answered' "$work/udp-unanswered.txt")"; fail=$((fail + 1)); }
# a reply that came after its request's session ended (--udp-timeout 1): answered
"$bin" audit -s pcaps/site.conf --rules "$work/udp.rules" --color never --udp-timeout 1 \
	"$work/udp-late-reply.pcap" >"$work/udp-late-reply.txt" 2>&1
grep -qE "^  ok  udp/5001  ic-a 198\.18\.1\.11 -> ic-b 198\.18\.2\.12  2 session\(s\)$" "$work/udp-late-reply.txt" &&
	pass=$((pass + 1)) ||
	{ echo "FAIL udp-late-reply: $(grep -E -m1 '^  [a-z-]+ +udp/5001' "$work/udp-late-reply.txt")"; fail=$((fail + 1)); }
grep -q "only 1 connection(s) opened before the capture (no SYN seen), ended by a reset from 198.18.2.12 (the responder" \
	"$work/under-way-reset.txt" && pass=$((pass + 1)) ||
	{ echo "FAIL under-way-reset: not told a connection opened before was reset"; fail=$((fail + 1)); }
grep -q "bare ACK" "$work/ack-only.txt" &&
	pass=$((pass + 1)) || { echo "FAIL ack-only: not told of the bare ACKs"; fail=$((fail + 1)); }
# the report's time range is the first and last frames' times, as tshark reads them
# (to the millisecond, cut, not a microsecond early)
for cap in "$work"/*.pcap; do
	want=$(tshark -r "$cap" -T fields -e frame.time_epoch 2>/dev/null | sed -n '1p;$p' |
		python3 -c 'import sys, datetime as d
t = [d.datetime.fromtimestamp(int(l.split(".")[0]), d.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.") + l.split(".")[1][:3] + "Z" for l in sys.stdin]
print("  time     %s .. %s" % (t[0], t[1]))')
	got=$(grep -m1 '^  time ' "${cap%.pcap}.txt")
	if [ "$got" = "$want" ]; then pass=$((pass + 1)); else
		echo "FAIL $(basename "$cap"): the report's times differ from tshark's: '$got', want '$want'"
		fail=$((fail + 1))
	fi
done
echo "tcp-shapes: $pass passed, $fail failed"
[ $fail -eq 0 ]
