#!/usr/bin/env bash
# A directory of rotated captures (tcpdump -C / -G: hundreds or thousands of files,
# one after the other in time) is audited as the one capture they were cut from:
# the same sessions, findings and report, with fewer files open than there are
# files and whatever the soft limit of open files is.  Files whose times overlap
# must all be open at once: past the hard limit they are counted as unreadable,
# never dropped in silence.   usage: rotated.sh SMAUDIT  (from the repository root)
set -u
bin=$(readlink -f "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/dbrows.sh"
pass=0 fail=0
S=pcaps/site.conf
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

# The rows of a database with the file names left out (each session names its file).
anon_rows() {
	local copy="$1.anon"
	cp "$1" "$copy"
	sqlite3 "$copy" "UPDATE sessions SET source = ''; UPDATE runs SET sources = ''; DELETE FROM run_sources;"
	rows "$copy"
}

# --- 631 files of one packet each, 48 files open at the most ---
cap=pcaps/outage.pcap
n=$(python3 "$(dirname "$0")/pcap-split.py" $cap 1 "$work/rot")
files=$(ls "$work/rot" | wc -l)
[ "$files" = "$n" ] && [ "$files" -gt 600 ] && ok || bad "split made $files files of $n packets"
"$bin" audit -q -s $S -d "$work/one.db" $cap >"$work/one.txt" 2>"$work/one.err"
want=$?
(
	ulimit -n 48 # soft and hard: the old way opened every file at once and failed
	"$bin" audit -q -s $S -d "$work/rot.db" "$work/rot" >"$work/rot.txt" 2>"$work/rot.err"
)
got=$?
[ "$got" = "$want" ] && [ "$want" -le 1 ] && ok || bad "rotated: exit status $got, one file $want"
[ ! -s "$work/rot.err" ] && ok || bad "rotated: warnings: $(head -3 "$work/rot.err")"
anon_rows "$work/one.db" >"$work/one.rows"
anon_rows "$work/rot.db" >"$work/rot.rows"
[ "$(grep -c '^[0-9]*|1|tcp|' "$work/one.rows")" -gt 20 ] && ok || bad "one capture: too few sessions stored"
if diff "$work/one.rows" "$work/rot.rows" >"$work/rows.diff"; then ok; else
	bad "rotated: rows differ from the one capture: $(head -5 "$work/rows.diff")"
fi
# the report's sections, its lines naming the files aside
strip() { grep -v -e '^ *source' -e "$work" -e "$cap" "$1"; }
diff <(strip "$work/one.txt") <(strip "$work/rot.txt") >/dev/null && ok || bad "rotated: report differs"
r=$(sqlite3 "$work/rot.db" "SELECT count(*), sum(packets), count(NULLIF(error, '')) FROM run_sources")
[ "$r" = "$files|$n|0" ] && ok || bad "rotated: run_sources files|packets|errors = $r, want $files|$n|0"

# --- the same with some files compressed: a parked gzip or zstd file starts over too ---
for f in "$work"/rot/part-000[0-4]*.pcap; do gzip "$f"; done
for f in "$work"/rot/part-002[0-4]*.pcap; do zstd -q --rm "$f" 2>/dev/null || gzip "$f"; done
(
	ulimit -n 48
	"$bin" audit -q -s $S -d "$work/gz.db" "$work/rot" >/dev/null 2>"$work/gz.err"
)
anon_rows "$work/gz.db" >"$work/gz.rows"
[ ! -s "$work/gz.err" ] && diff -q "$work/one.rows" "$work/gz.rows" >/dev/null && ok ||
	bad "rotated, partly compressed: rows differ or warnings: $(head -3 "$work/gz.err")"

# --- two sensors, each a directory of rotated files: clocks matched, sightings kept ---
P=pcaps/sensors
for x in a b; do python3 "$(dirname "$0")/pcap-split.py" $P/wan-drop-site-$x.pcap 3 "$work/site-$x" >/dev/null; done
"$bin" audit -q -s $S -d "$work/s1.db" --sensor site-a=$P/wan-drop-site-a.pcap \
	--sensor site-b=$P/wan-drop-site-b.pcap >/dev/null 2>&1
want=$?
(
	ulimit -n 48
	"$bin" audit -q -s $S -d "$work/s2.db" --sensor site-a="$work/site-a" \
		--sensor site-b="$work/site-b" >/dev/null 2>"$work/s2.err"
)
got=$?
anon_rows "$work/s1.db" >"$work/s1.rows"
anon_rows "$work/s2.db" >"$work/s2.rows"
[ "$got" = "$want" ] && [ ! -s "$work/s2.err" ] && [ "$(grep -c . "$work/s1.rows")" -gt 100 ] &&
	diff -q "$work/s1.rows" "$work/s2.rows" >/dev/null && ok ||
	bad "two sensors of rotated files: exit $got (want $want) or rows differ: $(head -3 "$work/s2.err")"

# --- overlapping files past a low soft limit: the limit is raised to the hard one ---
mkdir "$work/same"
for i in $(seq 1 120); do cp pcaps/healthy.pcap "$work/same/copy-$i.pcap"; done # copies: a link is read once
(
	ulimit -Sn 64
	"$bin" audit -q -s $S -d "$work/same.db" "$work/same" >/dev/null 2>"$work/same.err"
)
[ ! -s "$work/same.err" ] && ok || bad "soft limit: warnings: $(head -3 "$work/same.err")"
r=$(sqlite3 "$work/same.db" "SELECT count(*), count(NULLIF(error, '')), sum(packets) FROM run_sources")
[ "$r" = "120|0|$((120 * 334))" ] && ok || bad "soft limit: files|errors|packets = $r"

# --- past the hard limit: the files that cannot be opened are counted, with a warning ---
(
	ulimit -n 64
	"$bin" audit -s $S -d "$work/hard.db" "$work/same" >"$work/hard.txt" 2>"$work/hard.err"
)
got=$?
[ "$got" = 0 ] || [ "$got" = 1 ] && ok || bad "hard limit: exit status $got"
e=$(sqlite3 "$work/hard.db" "SELECT read_errors FROM runs")
w=$(grep -c "cannot open it again:.*Too many open files" "$work/hard.err")
[ "${e:-0}" -gt 0 ] && [ "$w" = "$e" ] && ok || bad "hard limit: read_errors=$e, warnings=$w"
grep -q "$e .*could not" "$work/hard.txt" && ok || bad "hard limit: report does not say $e files went unread: $(grep -i error "$work/hard.txt" | head -2)"

echo "rotated: $pass passed, $fail failed"
[ "$fail" = 0 ]
