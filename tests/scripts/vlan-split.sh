#!/usr/bin/env bash
# A span port of a routed hop: the two directions of each conversation come on
# different VLANs (the span copies what each VLAN receives), or every packet comes
# twice, once on each VLAN (it copies both ways).  Each example capture of pcaps/
# (real Linux TCP stacks) is re-tagged so by tests/scripts/vlansplit.py: 802.1Q
# 10/20, untagged one way and tagged the other, and 802.1ad 200.10/200.20.  Every
# expected flow must keep the verdict of the capture as taken, and no protocol
# mismatch may appear or vanish; split, the summary's counts are the same too (a
# conversation is one session, its directions on two VLANs).  Two sensors, each
# on its site's VLAN, give the report of the captures as taken.
# usage: vlan-split.sh SMAUDIT     (from the repository root)
set -u
bin=$(readlink -f "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. tests/scripts/examples.sh
pass=0 fail=0
for cap in pcaps/*.pcap; do
	name=$(basename "$cap" .pcap)
	site=$(example_site "$cap")
	[ -n "$site" ] || continue
	judge "$work/asis" "$site" "$cap" -- --mismatches --summary
	grep -v '^summary' "$work/asis" >"$work/asis.verdicts"
	for shape in "split 10 20" "split none 30" "split 200.10 200.20" "copy 10 20"; do
		python3 tests/scripts/vlansplit.py $shape "$cap" "$work/tagged.pcap" || exit 1
		if [ "${shape%% *}" = split ]; then
			judge "$work/tagged" "$site" "$work/tagged.pcap" -- --mismatches --summary
			want=$work/asis
		else
			# every packet on two VLANs: two conversations (SPEC section 4) of one
			# TCP stream for libnids, which follows one per address/port 4-tuple and
			# reports each side's first bytes to whichever VLAN's session fed it
			# last: a mismatch row quotes the client's bytes, the server's answer
			# ("; answered: ...") may be the other session's
			judge "$work/tagged" "$site" "$work/tagged.pcap" -- --mismatches
			sed -i 's/; answered: [^)]*)/)/' "$work/tagged"
			sed 's/; answered: [^)]*)/)/' "$work/asis.verdicts" >"$work/asis.copy"
			want=$work/asis.copy
		fi
		if cmp -s "$want" "$work/tagged"; then
			pass=$((pass + 1))
		else
			echo "FAIL $name, $shape: verdicts change (< as taken, > re-tagged):"
			diff "$want" "$work/tagged" | head -8
			fail=$((fail + 1))
		fi
	done
done
# Two capture points, each on its own site's VLAN (pcaps/sensors: site A, WAN,
# site B): site A's capture tagged 10, site B's 20.  The report (sessions counted,
# verdicts, where packets stopped) must be the one of the captures as taken.
for a in pcaps/sensors/*-site-a.pcap; do
	name=$(basename "$a" -site-a.pcap)
	b=pcaps/sensors/$name-site-b.pcap
	python3 tests/scripts/vlansplit.py split 10 10 "$a" "$work/a.pcap" || exit 1
	python3 tests/scripts/vlansplit.py split 20 20 "$b" "$work/b.pcap" || exit 1
	"$bin" audit -s pcaps/site.conf --color never --sensor site-a="$a" --sensor site-b="$b" |
		sed -e '/^  source /d' -e 's/, [0-9]* bytes,/,/' >"$work/asis"
	"$bin" audit -s pcaps/site.conf --color never --sensor site-a="$work/a.pcap" \
		--sensor site-b="$work/b.pcap" | sed -e '/^  source /d' -e 's/, [0-9]* bytes,/,/' >"$work/tagged"
	if cmp -s "$work/asis" "$work/tagged"; then
		pass=$((pass + 1))
	else
		echo "FAIL sensors $name, each on its site's VLAN: the report changes (< as taken, > tagged):"
		diff "$work/asis" "$work/tagged" | head -8
		fail=$((fail + 1))
	fi
done
echo "vlan-split: $pass re-tagged captures keep their verdicts, $fail failed"
[ $fail -eq 0 ] && [ $pass -ge 45 ]
