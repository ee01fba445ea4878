#!/usr/bin/env bash
# Captures taken with a snap length (tcpdump -s 64, -s 96, ...: headers and the first
# bytes of each frame only, a common way to keep captures small).  Each example
# capture of pcaps/ is cut by Wireshark's editcap -s N; audited, every expected
# flow must keep the verdict of the whole capture, and no protocol-mismatch may
# appear that the whole capture does not have: payload cut short is unverified,
# never "unknown".  At 64 bytes an ICMP error keeps the addresses it quotes but not
# the ports: it still refuses the attempt it follows; a flow whose packets lost
# their ports may only become 'filtered' (the capture cannot say), and says why.
# usage: snaplen.sh SMAUDIT     (from the repository root)
set -u
bin=$(readlink -f "$1")
command -v editcap >/dev/null || { echo "SKIP: needs editcap (apt-get install wireshark-common)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. tests/scripts/examples.sh
pass=0 fail=0
for cap in pcaps/*.pcap; do
	name=$(basename "$cap" .pcap)
	site=$(example_site "$cap")
	[ -n "$site" ] || continue
	judge "$work/whole" "$site" "$cap" -- --mismatches
	grep -v -e '^mismatch' -e '^exit [01]$' "$work/whole" >"$work/whole.verdicts"
	for snap in 64 96 128 200; do
		editcap -s $snap "$cap" "$work/cut.pcap" || exit 1
		judge "$work/cut" "$site" "$work/cut.pcap" -- --mismatches
		grep -v -e '^mismatch' -e '^exit [01]$' "$work/cut" >"$work/cut.verdicts"
		extra=$(comm -13 <(grep '^mismatch' "$work/whole" | sort) <(grep '^mismatch' "$work/cut" | sort))
		# where the snap length cut packets before their ports (IPv6 under a cooked
		# header at 64 bytes), a flow may become 'filtered': the capture cannot say
		if ! python3 - "$work/whole.verdicts" "$work/cut.verdicts" <<'PY'; then
import sys
a, b = (open(f).read().split("\n") for f in sys.argv[1:3])
# the same entry (rule, protocol, port; an 'any' entry names no pair when filtered)
sys.exit(len(a) != len(b) or any(x != y and not (y.endswith(" filtered") and
         x.split()[:3] == y.split()[:3]) for x, y in zip(a, b)))
PY
			echo "FAIL $name -s $snap: verdicts change (< whole, > cut):"
			diff "$work/whole.verdicts" "$work/cut.verdicts" | head -8
			fail=$((fail + 1))
		elif [ -n "$extra" ]; then
			echo "FAIL $name -s $snap: protocol mismatches the whole capture does not have:"
			echo "$extra" | head -4
			fail=$((fail + 1))
		else
			pass=$((pass + 1))
		fi
	done
done
# IPv6 under Linux cooked headers at 64 bytes: every TCP header is cut.  No flow may
# be called missing ("the span port may not see it"): they are filtered, and say why.
editcap -s 64 pcaps/ipv6.pcap "$work/v6.pcap" || exit 1
"$bin" audit -q -s pcaps/site6.conf --color never "$work/v6.pcap" >"$work/v6.txt" 2>&1
if grep -q "^MISSING EXPECTED FLOWS (0)" "$work/v6.txt" &&
	grep -q "cut before their ports by the capture's snap length" "$work/v6.txt" &&
	grep -q "^COVERAGE: 9 of 9" "$work/v6.txt"; then pass=$((pass + 1)); else
	echo "FAIL ipv6 -s 64: flows whose packets lost their ports are called missing, or coverage misses their addresses:"
	grep -A2 -E "^(MISSING|COVERAGE)" "$work/v6.txt" | head -6
	fail=$((fail + 1))
fi
# 38 bytes under Linux cooked headers cut the IP header itself: not "a wrong site
# file", but a snap length too short to hold the addresses
editcap -s 38 pcaps/healthy.pcap "$work/h38.pcap" || exit 1
"$bin" audit -q -s pcaps/site.conf "$work/h38.pcap" >/dev/null 2>"$work/h38.err"
if [ $? = 3 ] && grep -q "a snap length too short to hold the addresses" "$work/h38.err"; then
	pass=$((pass + 1))
else
	echo "FAIL healthy -s 38: IP headers cut, but the message is: $(tail -1 "$work/h38.err")"
	fail=$((fail + 1))
fi
echo "snaplen: $pass captures cut keep their verdicts, $fail failed"
[ $fail -eq 0 ] && [ $pass -ge 40 ]
