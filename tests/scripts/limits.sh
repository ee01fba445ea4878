#!/usr/bin/env bash
# audit -c COUNT and --from/--until, query --since/--until (ISO 8601 or UNIX seconds) and
# query --format text|json|csv, as a user sees them: the packets and sessions counted (checked
# against the capture's own timestamps, read here with Python), the report header, the
# stored sessions, the error pointing at the option.   usage: limits.sh SMAUDIT
set -u
bin=$(readlink -f "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/check.sh"
S=pcaps/site.conf
P=pcaps/healthy.pcap

# Packet times of a classic pcap (UNIX seconds, as text with 9 decimals), one a line.
python3 - $P >"$work/times" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
magic = struct.unpack("<I", d[:4])[0]
e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
nano = struct.unpack(e + "I", d[:4])[0] in (0xa1b23c4d,) or magic == 0x4d3cb2a1
off = 24
while off + 16 <= len(d):
    s, f, cl, _ = struct.unpack(e + "IIII", d[off:off + 16])
    print("%d.%09d" % (s, f if nano else f * 1000))
    off += 16 + cl
PY
total=$(wc -l <"$work/times")
# A window over the middle of the capture: from the 100th packet's second to 4 s later.
from=$(sed -n 100p "$work/times" | cut -d. -f1)
until=$((from + 4))
inside=$(awk -v a=$from -v b=$until '$1 >= a && $1 <= b' "$work/times" | wc -l)
iso_from=$(date -u -d @$from +%Y-%m-%dT%H:%M:%SZ)
# the same instants written with a +01:00 offset and with the report's space and fraction
off_until=$(date -u -d @$((until + 3600)) +%Y-%m-%dT%H:%M:%S+01:00)
sp_from=$(date -u -d @$from '+%Y-%m-%d %H:%M:%S.000Z')

# --- -c COUNT ---
n=$((total / 3))
check "-c: the report counts COUNT packets" 1 "^  traffic  $n packets" "$bin" audit -q -s $S -c $n $P
check "-c: the report says it stopped early" 1 "WARNING  stopped after $n packets \(-c\)" "$bin" audit -q -s $S -c $n $P
check "-c: the source counts the COUNT packets taken, not the one after" 1 "^  source   .*\($n packets\)" "$bin" audit -q -s $S -c $n $P
"$bin" audit -q -s $S -c $n --format json $P >"$work/c.json"
python3 - "$work/c.json" $n <<'PY' && pass=$((pass + 1)) || { echo "FAIL -c: JSON run"; fail=$((fail + 1)); }
import json, sys
r = json.load(open(sys.argv[1]))["run"]
assert r["packets"] == int(sys.argv[2]) and r["stopped_at"] == int(sys.argv[2]), r
PY
"$bin" audit -q -s $S -c $total $P >"$work/all.txt" 2>&1
diff -q "$work/all.txt" tests/golden/healthy.txt >/dev/null && pass=$((pass + 1)) ||
	{ echo "FAIL -c at the capture's size: report differs from the golden one"; fail=$((fail + 1)); }
check "-c 0 is refused" 2 "^smaudit: -c '0': expected a number of packets" "$bin" audit -q -s $S -c 0 $P
check "-c belongs to audit" 2 "does not apply to 'report'" "$bin" report -d "$work/none.db" -c 5
check "--from of audit and of extract" 2 "--from does not apply to 'report' \(it is an option of: audit, extract\)" "$bin" report -d "$work/none.db" --from 2026-12-02T04:17:00Z

# --- --from/--until: every form of the same window gives the same report ---
for args in "--from $from --until $until" "--from $iso_from --until $off_until" \
	"--from $from.0 --until $off_until"; do
	"$bin" audit -q -s $S $args --format json $P >"$work/w.json" 2>&1
	python3 - "$work/w.json" $inside $from $until <<'PY' && pass=$((pass + 1)) || { echo "FAIL window ($args)"; fail=$((fail + 1)); }
import json, sys
d = json.load(open(sys.argv[1]))
r = d["run"]
assert r["packets"] == int(sys.argv[2]), (r["packets"], sys.argv[2])
assert r["window"] == {"from": float(sys.argv[3]), "until": float(sys.argv[4])}, r["window"]
assert float(sys.argv[3]) <= r["first_ts"] and r["last_ts"] <= float(sys.argv[4]), r
PY
done
"$bin" audit -q -s $S --from "$sp_from" --until $until $P >"$work/w.txt" 2>&1
grep -q "^  window   $(date -u -d @$from '+%Y-%m-%d %H:%M:%S').000Z .. $(date -u -d @$until '+%Y-%m-%d %H:%M:%S').000Z" "$work/w.txt" &&
	pass=$((pass + 1)) || { echo "FAIL window: the header does not state it"; head -5 "$work/w.txt"; fail=$((fail + 1)); }
# sessions outside the window are not stored: every stored session lies inside it
"$bin" audit -q -s $S -d "$work/w.db" --from $from --until $until $P >/dev/null 2>&1
"$bin" audit -q -s $S -d "$work/w.db" $P >/dev/null 2>&1
out=$(sqlite3 "$work/w.db" "SELECT run_id, count(*), sum(first_ts < $from OR last_ts > $until) FROM sessions GROUP BY run_id ORDER BY run_id")
echo "$out" | { read -r a; read -r b
	IFS='|' read -r _ nw outw <<<"$a"; IFS='|' read -r _ nall _ <<<"$b"
	[ "$outw" = 0 ] && [ "$nw" -gt 0 ] && [ "$nw" -lt "$nall" ]; } && pass=$((pass + 1)) ||
	{ echo "FAIL window: stored sessions outside it (run|sessions|outside): $out"; fail=$((fail + 1)); }
check "empty window: exit 3 naming it" 3 "no packet of $P falls in the --from/--until window" "$bin" audit -q -s $S --from 2099-01-01T00:00:00Z $P

# --- malformed times point at the option ---
check "--from without a zone" 2 "^smaudit: --from '2026-12-02T04:17:00': no time zone: add Z" "$bin" audit -q -s $S --from 2026-12-02T04:17:00 $P
check "--until month 13" 2 "^smaudit: --until '2026-13-02T04:17:00Z': month out of range" "$bin" audit -q -s $S --until 2026-13-02T04:17:00Z $P
check "--from 31 November" 2 "^smaudit: --from '2026-11-31T00:00Z': day out of range" "$bin" audit -q -s $S --from 2026-11-31T00:00Z $P
check "--from words" 2 "^smaudit: --from 'yesterday': expected ISO 8601" "$bin" audit -q -s $S --from yesterday $P
check "--from after --until" 2 "--from is after --until" "$bin" audit -q -s $S --from 2026-12-02T05:00Z --until 2026-12-02T04:00Z $P
check "query --since malformed" 2 "^smaudit: --since '12/02/2026': expected ISO 8601" "$bin" query -d "$work/w.db" --since 12/02/2026

# --- query --since/--until: ISO and UNIX seconds select the same sessions ---
a=$("$bin" query -d "$work/w.db" --run 2 --since $from --until $until 2>&1)
b=$("$bin" query -d "$work/w.db" --run 2 --since "$iso_from" --until "$off_until" 2>&1)
[ "$a" = "$b" ] && echo "$a" | grep -q "^[1-9][0-9]* session(s) in run 2" && pass=$((pass + 1)) ||
	{ echo "FAIL query --since ISO vs UNIX: differ or empty"; echo "$b" | tail -2; fail=$((fail + 1)); }

# --- query --format text|json|csv list the same sessions ---
"$bin" query -d "$work/w.db" --run 2 --port 11104 --format json >"$work/q.json" 2>"$work/q.err"
"$bin" query -d "$work/w.db" --run 2 --port 11104 --format csv >"$work/q.csv" 2>&1
"$bin" query -d "$work/w.db" --run 2 --port 11104 >"$work/q.txt" 2>/dev/null
python3 - "$work/q.json" "$work/q.csv" "$work/q.txt" "$work/w.db" <<'PY' && pass=$((pass + 1)) || { echo "FAIL query formats disagree"; fail=$((fail + 1)); }
import csv, json, re, sqlite3, sys
j = json.load(open(sys.argv[1]))
rows = list(csv.DictReader(open(sys.argv[2], newline="")))
txt = [l.split()[0] for l in open(sys.argv[3]) if re.match(r"^\d+\s", l)]
db = sqlite3.connect(sys.argv[4])
want = [r[0] for r in db.execute("SELECT id FROM sessions WHERE run_id = 2 AND (sport = 11104 OR dport = 11104) ORDER BY id")]
assert j["run"] == 2 and want, (j["run"], want)
assert sorted(s["id"] for s in j["sessions"]) == want, ([s["id"] for s in j["sessions"]], want)
assert sorted(int(r["id"]) for r in rows) == want
assert sorted(int(t) for t in txt) == want
for s in j["sessions"]:
    src, dst, pf, st = db.execute("SELECT src, dst, pkts_fwd, state FROM sessions WHERE id = ?", (s["id"],)).fetchone()
    assert (s["src"], s["dst"], s["pkts_fwd"], s["state"]) == (src, dst, pf, st), s
    assert s["dport"] == 11104 or s["sport"] == 11104, s
    assert s["vlan"] is None, s
PY
[ ! -s "$work/q.err" ] && pass=$((pass + 1)) || { echo "FAIL query --format json wrote to stderr: $(cat "$work/q.err")"; fail=$((fail + 1)); }
out=$("$bin" query -d "$work/w.db" --run 2 --port 1 --format json 2>&1)
[ "$out" = '{"run": 2, "sessions": []}' ] && pass=$((pass + 1)) || { echo "FAIL query json, no session: $out"; fail=$((fail + 1)); }
check "query --format html is refused" 2 "query does not write html; it writes text, json or csv" "$bin" query -d "$work/w.db" --format html

echo "limits: $pass passed, $fail failed"
[ $fail -eq 0 ]
