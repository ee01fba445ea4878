#!/usr/bin/env bash
# Verdicts under a flood that fills the session table.  Each example capture of
# pcaps/ (real Linux TCP stacks in network namespaces, pcaps/make-captures.sh) is
# copied with 100 new sessions inserted right after every SYN and echo request
# (tests/scripts/flood-between.py), and audited with --max-sessions 64: every
# attempt's session is pushed out of the full table before its answer arrives.
# Every expected flow must keep the verdict of the capture without the flood
# (ok stays ok, not intermittent; no-answer and rejected stay so), with the same
# exit status, and the report must say that sessions were evicted, with a caution
# beside each no-answer, one-way or not-seen verdict.
# usage: flood-verdicts.sh SMAUDIT     (from the repository root)
set -u
bin=$(readlink -f "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. tests/scripts/examples.sh
pass=0 fail=0
flooded=0
for cap in pcaps/*.pcap; do
	name=$(basename "$cap" .pcap)
	site=$(example_site "$cap")
	[ -n "$site" ] || continue
	n=$(python3 tests/scripts/flood-between.py "$cap" "$work/flood.pcap" 100) || exit 1
	[ "$n" -gt 0 ] || continue # no IPv4 attempt to flood after (ipv6)
	judge "$work/plain" "$site" "$cap" -- --summary
	judge "$work/flooded" "$site" --max-sessions 64 "$work/flood.pcap" -- --summary
	"$bin" report -d "$work/db" >"$work/text" 2>&1
	failing=$(grep -cE '^  (no-answer|one-way|not-seen) ' "$work/text")
	cautions=$(grep -cE '^      CAUTION: [0-9]+ session\(s\) were evicted from the full session table' "$work/text")
	if ! grep -q "evicted (table full)" "$work/text"; then
		echo "FAIL $name: the report does not say that sessions were evicted"
		fail=$((fail + 1))
	elif [ "$cautions" -ne "$failing" ]; then
		echo "FAIL $name: $failing verdict(s) that evictions could explain, $cautions with a caution"
		fail=$((fail + 1))
	elif cmp -s "$work/plain" "$work/flooded"; then
		pass=$((pass + 1))
	else
		echo "FAIL $name: verdicts change under a flood of $n sessions (< alone, > flooded):"
		diff "$work/plain" "$work/flooded" | head -12
		fail=$((fail + 1))
	fi
	flooded=$((flooded + 1))
done
[ $flooded -ge 8 ] || { echo "FAIL: only $flooded captures flooded"; fail=$((fail + 1)); }
echo "flood-verdicts: $pass of $flooded captures keep their verdicts, $fail failed"
[ $fail -eq 0 ]
