#!/usr/bin/env bash
# What the reports say about a failing flow is the same in every format: the
# addresses of the pair (text, JSON, CSV and the findings table agree), the
# finding id that `smaudit extract --finding` takes, the list of runs, the
# coverage note, and runs that stored nothing or are still going.
# usage: tests/scripts/report-facts.sh SMAUDIT    (run from the repository root)
set -u
bin=$(readlink -f "$1")
S=pcaps/site.conf
work=$(mktemp -d /tmp/smaudit-facts.XXXXXX)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

db=$work/a.db
"$bin" audit -q -s $S -d "$db" pcaps/mediator-down.pcap >/dev/null
"$bin" audit -q -s $S -d "$db" pcaps/dropped.pcap >/dev/null
"$bin" audit -q -s $S -d "$db" pcaps/unexpected.pcap >/dev/null
"$bin" audit -q -s $S -d "$db" pcaps/mismatch.pcap >/dev/null

# Each entry of a run: JSON facts checked against the text, CSV and SQLite.
facts() { # run, label
	local run=$1 label=$2
	"$bin" report -d "$db" --run "$run" --format json >"$work/r$run.json"
	"$bin" report -d "$db" --run "$run" >"$work/r$run.txt"
	"$bin" report -d "$db" --run "$run" --format csv >"$work/r$run.csv"
	sqlite3 -separator ' ' "$db" "SELECT id, coalesce(src, ''), coalesce(dst, '') FROM findings WHERE run_id = $run" >"$work/f$run.txt"
	python3 - "$work/r$run.json" "$work/r$run.txt" "$work/r$run.csv" "$work/f$run.txt" "$label" <<'PY'
import csv, json, sys
doc = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read().splitlines()
rows = list(csv.DictReader(open(sys.argv[3])))
db = {}
for line in open(sys.argv[4]):
    fid, *addr = line.rstrip("\n").split(" ")
    db[int(fid)] = (addr + ["", ""])[:2]
label, errors = sys.argv[5], []
def fail(msg):
    errors.append(f"{label}: {msg}")
ids = set()
for e in doc["expected"]:
    name = f'{e["proto"]}/{e["port"] if e["port"] is not None else "echo"}'
    if e["verdict"] == "n/a":
        continue
    failing = e["verdict"] != "ok"
    if failing and e["kind"] == "expect":
        if e["src"] is None or e["dst"] is None:
            fail(f'{name} {e["src_role"]} -> {e["dst_role"]} ({e["verdict"]}): src {e["src"]}, dst {e["dst"]} in JSON')
    if failing and "finding" not in e:
        fail(f'{name} {e["src_role"]} -> {e["dst_role"]} ({e["verdict"]}) has no "finding"')
    want = f'{name}  {e["src_role"]} {e["src"] or "*"} -> {e["dst_role"]} {e["dst"] or "*"}'
    lines = [l for l in text if want in l]
    if not lines:
        fail(f"text has no line with '{want}' (the JSON's addresses)")
    if "finding" in e:
        fid = e["finding"]
        ids.add(fid)
        if not any(f"[finding {fid}]" in l for l in lines):
            fail(f"text does not show finding {fid} on '{want}'")
        if db.get(fid) != [e["src"] or "", e["dst"] or ""]:
            fail(f"findings table row {fid} is {db.get(fid)}, JSON says {e['src']} -> {e['dst']}")
        if not any(r["finding"] == str(fid) and r["src"] == (e["src"] or "") and r["dst"] == (e["dst"] or "") for r in rows):
            fail(f"CSV has no row of finding {fid} with {e['src']} -> {e['dst']}")
for key in ("unexpected", "protocol_mismatches"):
    for u in doc[key]:
        if "finding" not in u:
            fail(f"{key} entry {u['src']} -> {u['dst']} has no \"finding\"")
        elif db.get(u["finding"]) != [u["src"], u["dst"]]:
            fail(f"{key} finding {u['finding']} is {db.get(u['finding'])} in the database")
        else:
            ids.add(u["finding"])
            if not any(f"[finding {u['finding']}]" in l for l in text):
                fail(f"text does not show finding {u['finding']} ({key})")
if ids != set(db):
    fail(f"findings in the database {sorted(db)} but in the JSON {sorted(ids)}")
print("\n".join(errors))
sys.exit(1 if errors else 0)
PY
	[ $? = 0 ] && ok || bad "$label: the formats disagree (above)"
}
facts 1 mediator-down
facts 2 dropped
facts 3 unexpected
facts 4 mismatch

# The optional SSH rule: the Mediator has one address, shown although nothing was seen.
python3 - "$work/r1.json" <<'PY' && ok || bad "optional tcp/22 to the Mediator: dst must be its one address"
import json, sys
e = [e for e in json.load(open(sys.argv[1]))["expected"] if e["port"] == 22][0]
sys.exit(0 if e["dst"] == "198.18.3.5" and e["src"] is None else 1)
PY

# The id the JSON shows is the one extract takes, from any directory.
fid=$(python3 -c 'import json,sys; print([e["finding"] for e in json.load(open(sys.argv[1]))["expected"] if e["verdict"] == "no-answer"][0])' "$work/r1.json")
(cd /tmp && "$bin" extract -d "$db" --finding "$fid" -o "$work/ev.pcap" >"$work/ev.out" 2>&1)
rc=$?
if [ $rc = 0 ] && [ "$(tcpdump -nr "$work/ev.pcap" 2>/dev/null | wc -l)" -gt 0 ]; then ok; else
	bad "extract --finding $fid from /tmp: exit $rc"; cat "$work/ev.out"; fi
case "$(sqlite3 "$db" "SELECT path FROM run_sources WHERE run_id = 1")" in
/*/pcaps/mediator-down.pcap) ok ;;
*) bad "run_sources.path is not absolute: $(sqlite3 "$db" "SELECT path FROM run_sources WHERE run_id = 1")" ;;
esac
(cd /tmp && "$bin" report -d "$db" --run 1) | grep -q "^  source   pcaps/mediator-down.pcap (290 packets)" && ok ||
	bad "the report does not show the source as given"

# report --list: one line a run, newest last; JSON an array
"$bin" report -d "$db" --list >"$work/list.txt"; rc=$?
if [ $rc = 0 ] && [ "$(wc -l <"$work/list.txt")" = 4 ] && tail -1 "$work/list.txt" | grep -Eq "^4 +audit +complete .*mismatch.pcap" &&
	head -1 "$work/list.txt" | grep -Eq "^1 .*290 packets, 36 sessions, 7 findings \(6 errors\)"; then ok; else
	bad "report --list (exit $rc):"; cat "$work/list.txt"; fi
"$bin" report -d "$db" --list --format json | python3 -c '
import json, sys
runs = json.load(sys.stdin)
assert [r["id"] for r in runs] == [1, 2, 3, 4], runs
r = runs[0]
assert (r["mode"], r["status"], r["packets"], r["sessions"], r["findings"], r["errors"]) == ("audit", "complete", 290, 36, 7, 6), r
# every finding of the run is counted, as the findings table holds them
assert r["sources"] == ["pcaps/mediator-down.pcap"] and r["first_ts"] > 0 and r["last_ts"] >= r["first_ts"], r
' && ok || bad "report --list --format json"

# Coverage comes before the missing flows when some addresses were never seen.
awk '/^COVERAGE/ {c = NR} /^MISSING EXPECTED/ {m = NR} END {exit !(c && m && c < m)}' "$work/r1.txt" && ok ||
	bad "the coverage note is not above MISSING EXPECTED FLOWS"
python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))["coverage"]
assert (c["seen"], c["total"]) == (9, 10) and c["never_seen"] == [{"role": "admin", "member": "198.18.9.0/30"}], c
' "$work/r1.json" && ok || bad "JSON coverage"

# A live run that stored nothing but its first (empty) checkpoint and died.
sqlite3 "$db" "INSERT INTO runs(id, started, mode, sources, status, packets, bytes, dropped)
	VALUES (5, '2026-12-01T00:00:00Z', 'live', '[\"live:eth9\"]', 'running', 0, 0, 0);
	INSERT INTO expected(run_id, rule, kind, proto, port, src_role, dst_role, verdict, sessions)
	SELECT 5, rule, kind, proto, port, src_role, dst_role, 'not-seen', 0 FROM expected WHERE run_id = 1;"
"$bin" report -d "$db" --run 5 >"$work/r5.txt" 2>"$work/r5.err"; rc=$?
if [ $rc = 3 ] && grep -q "run 5 (live, interrupted)" "$work/r5.txt" && grep -q "INCOMPLETE" "$work/r5.txt" &&
	! grep -q "^MISSING" "$work/r5.txt" && grep -q "run 5 stored no packet" "$work/r5.err"; then ok; else
	bad "a run that stored nothing: exit $rc"; cat "$work/r5.txt" "$work/r5.err"; fi
"$bin" report -d "$db" --run 5 --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["run"]["status"] == "interrupted" and d["expected"] == [], d["run"]
' && ok || bad "a run that stored nothing: JSON"
"$bin" report -d "$db" --run 5 --format html >"$work/r5.html" 2>/dev/null
grep -q "Nothing was judged: run 5 stored no packet" "$work/r5.html" && ! grep -q "No expected flow is missing" "$work/r5.html" &&
	ok || bad "a run that stored nothing: the HTML report does not say nothing was judged"
# A run still going (its process is alive on this host) is running, not interrupted.
sleep 60 &
alive=$!
sqlite3 "$db" "UPDATE runs SET pid = $alive, host = '$(hostname)' WHERE id = 5"
"$bin" report -d "$db" --run 5 2>/dev/null | grep -q "run 5 (live, running)" && ok || bad "a live run still going is not shown running"
kill $alive
wait $alive 2>/dev/null
"$bin" report -d "$db" --run 5 2>/dev/null | grep -q "run 5 (live, interrupted)" && ok || bad "a run whose process is gone is not interrupted"

# A scan from more sources than a report lists (10,000): the busiest are listed,
# the rest counted in every format; the total and the exit status stay whole.
python3 tests/scripts/synflood.py 12000 "$work/scan.pcap" --dst 198.18.1.11 --distinct --pps 100000
sdb=$work/scan.db
"$bin" audit -q -s $S -d "$sdb" "$work/scan.pcap" >"$work/scan.txt"
rc=$?
[ $rc = 1 ] && ok || bad "a scan: exit $rc, expected 1"
grep -q "^UNEXPECTED TRAFFIC ON MONITORED ROLES (12000)" "$work/scan.txt" && ok || bad "a scan: the text does not count 12000"
[ "$(grep -c '(no role) -> 198.18.1.11 (ic-a)' "$work/scan.txt")" = 10000 ] && ok || bad "a scan: the text does not list 10000"
grep -q "^  ... and 2000 more not listed here (these are the 10000 with the most sessions)" "$work/scan.txt" &&
	ok || bad "a scan: the text does not say 2000 more"
"$bin" report -d "$sdb" --format json >"$work/scan.json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(not (len(d["unexpected"]) == 10000 and d["unexpected_not_listed"] == 2000 and d["summary"]["unexpected"] == 12000))
' "$work/scan.json" && ok || bad "a scan: JSON unexpected / unexpected_not_listed / summary"
"$bin" report -d "$sdb" --format csv | grep -q "^unexpected-not-listed,.*2000 more unexpected flows not listed" &&
	ok || bad "a scan: the CSV has no unexpected-not-listed row"
"$bin" report -d "$sdb" --format html | grep -q "Unexpected traffic on monitored roles (12000)" && ok || bad "a scan: HTML count"
[ "$(sqlite3 "$sdb" "SELECT count(*) FROM findings WHERE kind = 'unexpected'")" = 12000 ] && ok || bad "a scan: not 12000 findings stored"

# A failing flow's detail is in the JSON as in the text; an intermittent one says
# how many sessions failed
"$bin" audit -q -s $S --format json pcaps/dropped.pcap >"$work/dropped.json" 2>/dev/null
"$bin" audit -q -s $S --color never pcaps/dropped.pcap >"$work/dropped.txt" 2>/dev/null
"$bin" audit -q -s $S --format json pcaps/outage.pcap >"$work/outage.json" 2>/dev/null
python3 - "$work/dropped.json" "$work/dropped.txt" "$work/outage.json" <<'PY' && ok || bad "JSON detail or failed of a failing or intermittent flow"
import json, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
failing = [e for e in d["expected"] if e["verdict"] == "no-answer"]
assert failing and all("never answered" in e["detail"] and e["detail"] in text for e in failing)
o = json.load(open(sys.argv[3]))
inter = [e for e in o["expected"] if e["verdict"] == "ok" and e.get("failed")]
assert inter and all("intermittent" in e["detail"] for e in inter), inter
assert all("failed" not in e for e in o["expected"] if e not in inter)
PY

# rejected.pcap: a firewall between the sites (nftables 'reject with tcp reset',
# pcaps/make-captures.sh) refuses tcp/11104 in the responders' name; their own
# packets arrive one hop further (TTL 63, the resets 64): the report says so
"$bin" audit -q -s $S --color never pcaps/rejected.pcap >"$work/rej.txt" 2>/dev/null
n=$(grep -c "TCP RST from 198.18.2.1[12] (TTL 64): but 198.18.2.1[12]'s own packets arrive with TTL 63: a device in the path" "$work/rej.txt")
[ "$n" = 4 ] && ok || bad "rejected.pcap: $n of the 4 resets made by the firewall are told apart from their hosts"
# the firewall 198.18.9.2 (in admin's 198.18.9.0/30) sends the ICMP errors the report
# names: it is in the capture, as its coverage must say
grep -q "^COVERAGE: 10 of 10 site addresses seen" "$work/rej.txt" && ok ||
	bad "rejected.pcap: the sender of the ICMP errors is said never seen"

# The run's bytes are IP bytes, as tshark's ip.len (IPv4) and 40 + ipv6.plen (IPv6)
# sum, whatever the link layer (SPEC section 6): Linux cooked, 802.1Q, QinQ.
if command -v tshark >/dev/null; then
	for cap in pcaps/healthy.pcap pcaps/vlan.pcap pcaps/qinq.pcap pcaps/ipv6.pcap pcaps/iscsi-real.pcap; do
		want=$(tshark -r "$cap" -T fields -E separator=, -e ip.len -e ipv6.plen 2>/dev/null |
			awk -F, '{ split($1, v4, ";"); split($2, v6, ";")
				if (v4[1] != "") s += v4[1]; else if (v6[1] != "") s += 40 + v6[1] } END { print s + 0 }')
		got=$("$bin" audit -q -s "$(case $cap in *ipv6*) echo pcaps/site6.conf ;; *iscsi*) echo pcaps/iscsi-real.conf ;; *) echo $S ;; esac)" \
			--format json "$cap" 2>/dev/null | python3 -c 'import json, sys; print(json.load(sys.stdin)["run"]["bytes"])')
		[ "$got" = "$want" ] && ok || bad "$cap: run bytes $got, tshark's IP bytes $want"
	done
fi

# --no-payload: the protocols were not checked, and every report says so (not "none"),
# also a report rendered later from the database; a checked run's reports do not
np=$work/np.db
"$bin" audit -q -s $S --no-payload -d "$np" pcaps/mismatch.pcap >"$work/np.txt" 2>&1
"$bin" report -d "$np" >"$work/np-later.txt"
for t in "$work/np.txt" "$work/np-later.txt"; do
	grep -A1 '^PROTOCOL MISMATCHES' "$t" >"$work/np-section.txt"
	if [ "$(cat "$work/np-section.txt")" = "PROTOCOL MISMATCHES (not checked)
  not checked (--no-payload): what each port carries was not verified" ] &&
		grep -q '^  payload  not checked (--no-payload)' "$t" &&
		grep -q '^SUMMARY: .*, protocols not checked (--no-payload)$' "$t"; then ok; else
		bad "--no-payload text report: $(cat "$work/np-section.txt") / $(grep '^SUMMARY' "$t")"
	fi
done
"$bin" report -d "$np" --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["run"].get("protocols_checked") is False, d["run"]
assert d["protocol_mismatches"] == []' && ok || bad "--no-payload JSON: run.protocols_checked is not false"
"$bin" report -d "$np" --format html | grep -q '<p[^>]* id="protocols">Protocol mismatches: not checked (--no-payload)' &&
	ok || bad "--no-payload HTML: no 'not checked (--no-payload)'"
"$bin" audit -q -s $S --format json pcaps/mismatch.pcap | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert "protocols_checked" not in d["run"] and len(d["protocol_mismatches"]) > 0' &&
	ok || bad "a checked run: protocols_checked or no mismatch"
"$bin" audit -q -s $S pcaps/mismatch.pcap | grep -q 'not checked' &&
	bad "a checked run says 'not checked'" || ok

echo "report-facts: $pass passed, $fail failed"
[ $fail -eq 0 ]
