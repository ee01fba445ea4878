#!/usr/bin/env bash
# Captures taken with a snap length (tcpdump -s 96, -s 128, ...: headers and the first
# bytes of each frame only, a common way to keep captures small).  Each example
# capture of pcaps/ is cut by Wireshark's editcap -s N; audited, every expected
# flow must keep the verdict of the whole capture, and no protocol-mismatch may
# appear that the whole capture does not have: payload cut short is unverified,
# never "unknown".
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
	for snap in 96 128 200; do
		editcap -s $snap "$cap" "$work/cut.pcap" || exit 1
		judge "$work/cut" "$site" "$work/cut.pcap" -- --mismatches
		grep -v -e '^mismatch' -e '^exit [01]$' "$work/cut" >"$work/cut.verdicts"
		extra=$(comm -13 <(grep '^mismatch' "$work/whole" | sort) <(grep '^mismatch' "$work/cut" | sort))
		if ! cmp -s "$work/whole.verdicts" "$work/cut.verdicts"; then
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
echo "snaplen: $pass captures cut keep their verdicts, $fail failed"
[ $fail -eq 0 ] && [ $pass -ge 30 ]
