#!/usr/bin/env bash
# Every example capture of pcaps/ carried otherwise (tests/scripts/wrap.py), as a
# capture point between two tunnel endpoints, or behind a router of a small MTU,
# sees it.  The conversations are the same, so every verdict and protocol
# mismatch must be those of the capture as taken:
#  - through GRE, Ethernet in GRE, ERSPAN II, IP in IP and VXLAN, whole;
#  - the same with the outer datagram cut into fragments (MTU 68: a SYN's carrier
#    too), and again with one IP ID for every datagram and the fragments last
#    first (a datagram whole is done: the next one with its ID is another);
#  - the packets themselves cut into fragments (MTU 28: 8-byte fragments, the TCP
#    header spread over three; MTU 60), in order, last first, one ID; with AH
#    before the TCP header; IPv6 ones behind a Destination Options header;
#  - a snap length that keeps the inner IP header and cuts the transport header,
#    as a plain Ethernet capture cut at the same inner byte: 'filtered' where it
#    is, never missing, never "wrong site file".
# And a run's undecoded packets never outnumber its packets; a segment sent in
# fragments is not capture loss.
# usage: carried.sh SMAUDIT     (from the repository root)
set -u
bin=$(readlink -f "$1")
for t in editcap sqlite3; do
	command -v $t >/dev/null || { echo "SKIP: needs $t (scripts/deps.sh --test)"; exit 77; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. tests/scripts/examples.sh
pass=0 fail=0
# bytes before the inner IP header: outer Ethernet, IP, then GRE (4; 8 with a
# sequence number), ERSPAN II (8), inner Ethernet (14), UDP + VXLAN (16)
declare -A over=([eth]=14 [gre]=38 [teb]=52 [erspan2]=64 [ipip]=34 [vxlan]=64)

same() { # NAME WANT GOT
	if cmp -s "$2" "$3"; then
		pass=$((pass + 1))
	else
		echo "FAIL $1 (< as taken, > carried):"
		diff "$2" "$3" | head -6
		fail=$((fail + 1))
	fi
}
undecoded_le_packets() { # (after a judge that wrote a report)
	[ -s "$work/json" ] || return 0
	python3 - "$work/json" <<'PY' && pass=$((pass + 1)) || { echo "FAIL $1: more undecoded than packets"; fail=$((fail + 1)); }
import json, sys
r = json.load(open(sys.argv[1]))["run"]
sys.exit(r["undecoded"] > r["packets"])
PY
}

for cap in pcaps/*.pcap; do
	name=$(basename "$cap" .pcap)
	site=$(example_site "$cap")
	[ -n "$site" ] || continue
	inner=22 # an IPv4 header and 2 bytes of what follows; IPv6's 40 and 2
	[ "$site" = pcaps/site6.conf ] && inner=42
	judge "$work/taken" "$site" "$cap" -- --mismatches
	missed=$(sqlite3 "$work/db" "SELECT missed_bytes FROM runs")
	python3 tests/scripts/wrap.py "$cap" "$work/eth.pcap" eth
	judge "$work/got" "$site" "$work/eth.pcap" -- --mismatches
	same "$name in Ethernet frames" "$work/taken" "$work/got"
	undecoded=$(sqlite3 "$work/db" "SELECT undecoded FROM runs")
	for kind in gre teb erspan2 ipip vxlan; do
		for how in "" "--mtu 68" "--mtu 68 --same-id --reverse"; do
			# shellcheck disable=SC2086
			python3 tests/scripts/wrap.py "$cap" "$work/w.pcap" $kind $how
			judge "$work/got" "$site" "$work/w.pcap" -- --mismatches
			same "$name through $kind $how" "$work/taken" "$work/got"
			undecoded_le_packets "$name through $kind $how"
		done
		# the inner IP header and 2 bytes of what follows
		editcap -s $((${over[eth]} + inner)) "$work/eth.pcap" "$work/cut.pcap"
		judge "$work/want" "$site" "$work/cut.pcap"
		python3 tests/scripts/wrap.py "$cap" "$work/w.pcap" $kind
		editcap -s $((${over[$kind]} + inner)) "$work/w.pcap" "$work/cut.pcap"
		judge "$work/got" "$site" "$work/cut.pcap"
		same "$name through $kind, cut after its inner IP header" "$work/want" "$work/got"
		undecoded_le_packets "$name through $kind, cut"
	done
	for how in "frag --mtu 28" "frag --mtu 28 --reverse" "frag --mtu 60 --same-id" \
		"frag --mtu 60 --same-id --reverse" "ahfrag --mtu 100" \
		"frag6 --mtu 80" "frag6 --mtu 80 --reverse"; do
		# shellcheck disable=SC2086
		python3 tests/scripts/wrap.py "$cap" "$work/w.pcap" $how
		judge "$work/got" "$site" "$work/w.pcap" -- --mismatches
		same "$name in fragments $how" "$work/taken" "$work/got"
		# a segment in fragments is no capture loss (its first fragment's TCP
		# header cannot say how long it is)
		got=$(sqlite3 "$work/db" "SELECT missed_bytes FROM runs")
		[ "$got" = "$missed" ] && pass=$((pass + 1)) ||
			{ echo "FAIL $name in fragments $how: $got bytes missed by the capture, as taken $missed"; fail=$((fail + 1)); }
		# every fragment in its flow: none undecoded that was not so whole
		got=$(sqlite3 "$work/db" "SELECT undecoded FROM runs")
		[ "$got" = "$undecoded" ] && pass=$((pass + 1)) ||
			{ echo "FAIL $name in fragments $how: $got packets undecoded, as taken $undecoded"; fail=$((fail + 1)); }
	done
done
echo "carried: $pass passed, $fail failed"
[ "$fail" = 0 ]
