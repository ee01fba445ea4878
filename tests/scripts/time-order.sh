#!/usr/bin/env bash
# Captures whose records are not in time order (tests/scripts/timeorder.py): one
# file written the way a capture of two NICs flushes them (a TAP's two ports,
# each NIC's packets every 2 ms, so packets come up to 2 ms after packets taken
# later; Wireshark's reordercap must find records out of order), and the two
# directions in two files with millisecond times (packets of both taken in the
# same millisecond have equal times), given in either order.  Every example
# capture of pcaps/ (real Linux TCP stacks) made over so must keep the verdicts,
# protocol mismatches and summary counts of the capture as taken: SPEC section 3
# reads captures as one timeline, ordered by packet time.
# usage: time-order.sh SMAUDIT [CORPUS-DIR]     (from the repository root)
set -u
bin=$(readlink -f "$1")
corpus_dir=${2:-../shared/corpus}
command -v reordercap >/dev/null || { echo "SKIP: needs reordercap (apt-get install wireshark-common)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. tests/scripts/examples.sh
pass=0 fail=0 disordered=0
same() { # WHAT: $work/asis and $work/made must be equal
	if cmp -s "$work/asis" "$work/made"; then
		pass=$((pass + 1))
	else
		echo "FAIL $1: verdicts change (< in time order, > $2):"
		diff "$work/asis" "$work/made" | head -8
		fail=$((fail + 1))
	fi
}
for cap in pcaps/*.pcap; do
	name=$(basename "$cap" .pcap)
	site=$(example_site "$cap")
	[ -n "$site" ] || continue
	judge "$work/asis" "$site" "$cap" -- --mismatches --summary
	python3 tests/scripts/timeorder.py jitter "$cap" "$work/j.pcap" || exit 1
	# the oracle that the records are out of order: reordercap counts them
	n=$(reordercap "$work/j.pcap" "$work/sorted.pcap" 2>&1 | sed -n 's/.* \([0-9]*\) out of order.*/\1/p')
	[ "${n:-0}" -gt 0 ] && disordered=$((disordered + 1))
	judge "$work/made" "$site" "$work/j.pcap" -- --mismatches --summary
	same "$name, two NICs flushed every 2 ms ($n records out of order)" "records out of order"
	# equal times across files: the verdicts (the order of a stream's bytes within a
	# millisecond is unknown there, so its protocol check is not compared)
	judge "$work/asis" "$site" "$cap"
	python3 tests/scripts/timeorder.py ms "$cap" "$work/a.pcapng" "$work/b.pcapng" || exit 1
	judge "$work/made" "$site" "$work/a.pcapng" "$work/b.pcapng"
	same "$name, directions in two files, ms times, A first" "two files, ms times"
	judge "$work/made" "$site" "$work/b.pcapng" "$work/a.pcapng"
	same "$name, directions in two files, ms times, B first" "two files given B first"
done
# what the report says of a capture out of order
python3 tests/scripts/timeorder.py jitter pcaps/healthy.pcap "$work/j.pcap" || exit 1
"$bin" audit -s pcaps/site.conf --color never "$work/j.pcap" >"$work/j.txt" 2>"$work/j.err"
if grep -q "packet(s) were out of time order in the capture files" "$work/j.txt" &&
	grep -q "records out of time order" "$work/j.err"; then pass=$((pass + 1)); else
	echo "FAIL: the report of a capture out of order does not say so"
	fail=$((fail + 1))
fi
# A capture from Zeek's test suite whose SYN-ACK record comes before its SYN (taken
# 30 us earlier, as tshark's frame times show): one session opened by the SYN
corpus=$corpus_dir/zeek/ipv6-http-atomic-frag.pcap
if [ -f "$corpus" ]; then
	printf 'role ic-a 2001:db8:1::2\nrole ic-b 2001:db8:1::1\n' >"$work/site6.conf"
	rm -f "$work/z.db"
	"$bin" audit -q -s "$work/site6.conf" -d "$work/z.db" "$corpus" >/dev/null 2>&1
	syn_first=$(tshark -r "$corpus" -Y 'tcp.flags.syn == 1' -T fields -e tcp.flags.ack 2>/dev/null |
		head -1)
	got=$(python3 -c 'import sqlite3, sys
print(" ".join(r[0] for r in sqlite3.connect(sys.argv[1]).execute(
    "select history from sessions where proto = \"tcp\" and dport = 80")))' "$work/z.db")
	if [ "$syn_first" = 0 ]; then
		echo "FAIL: tshark should read the SYN-ACK record of $corpus first"
		fail=$((fail + 1))
	elif [ "${got:0:3}" = ShA ]; then pass=$((pass + 1)); else
		echo "FAIL $corpus: the conversation's history is '$got', want it opened by the SYN (ShA...)"
		fail=$((fail + 1))
	fi
else
	echo "note: no capture corpus at $corpus (it ships beside the repository in CI only): its check is left out"
fi
echo "time-order: $pass made-over captures keep their verdicts, $fail failed;" \
	"$disordered captures out of order as reordercap counts"
[ $fail -eq 0 ] && [ $pass -ge 34 ] && [ $disordered -ge 8 ]
