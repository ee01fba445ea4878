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
pass=0 fail=0
judge() { # OUT SITE CAPTURE -> OUT: the verdicts, then the mismatches
	rm -f "$work/db" "$work/db-wal" "$work/db-shm"
	"$bin" audit -q -s "$2" -d "$work/db" --format json "$3" >"$work/json" 2>"$work/err"
	local rc=$?
	: >"$1"
	[ $rc -le 1 ] || echo "exit status $rc" >"$1"
	python3 tests/scripts/verdicts.py "$work/json" --mismatches >>"$1" ||
		echo "no JSON report: $(head -3 "$work/err")" >>"$1"
}
for cap in pcaps/*.pcap; do
	name=$(basename "$cap" .pcap)
	case $name in
	tls-split6) continue ;; # no address of a site file in it
	ipv6) site=pcaps/site6.conf ;;
	iscsi-real) site=pcaps/iscsi-real.conf ;;
	*) site=pcaps/site.conf ;;
	esac
	judge "$work/whole" "$site" "$cap"
	grep -v '^mismatch' "$work/whole" >"$work/whole.verdicts"
	for snap in 96 128 200; do
		editcap -s $snap "$cap" "$work/cut.pcap" || exit 1
		judge "$work/cut" "$site" "$work/cut.pcap"
		grep -v '^mismatch' "$work/cut" >"$work/cut.verdicts"
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
