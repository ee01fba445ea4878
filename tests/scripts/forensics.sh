#!/usr/bin/env bash
# Post-incident commands against databases built from pcaps/: timeline (silences),
# diff (before/after), extract (evidence pcap + SHA-256 in the database) and the
# HTML report loaded in headless Chromium (cells checked, screenshot kept).
# usage: forensics.sh SMAUDIT [SCREENSHOT.png]      (run from the repository root)
set -u
bin=$1
shot=${2:-$PWD/report-screenshot.png}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
check() { # name expected-exit grep-pattern command...
	local name=$1 want=$2 pat=$3
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne "$want" ]; then
		bad "$name: exit $rc, expected $want"; echo "$out" | head -8
	elif [ -n "$pat" ] && ! grep -qE -- "$pat" <<<"$out"; then
		bad "$name: output lacks /$pat/"; echo "$out" | head -8
	else
		ok
	fi
}
S=pcaps/site.conf
db=$work/incident.db
for f in healthy dropped outage rejected; do
	"$bin" audit -q -s $S -d "$db" pcaps/$f.pcap >/dev/null
done # runs 1..4

# timeline: the Mediator outage in outage.pcap is a silence with failed attempts
check "timeline shows the Mediator silence" 1 \
	"SILENT .*\(([4-9]|1[0-9])\.[0-9] s\), [0-9]+ attempt\(s\) unanswered" \
	"$bin" timeline -d "$db" --run 3 --port 31784 --gap 3
out=$("$bin" timeline -d "$db" --run 3 --port 31784 --gap 3)
grep -A2 "^tcp/31784  node-mgmt-a 198.18.1.21 -> mediator 198.18.3.5" <<<"$out" | grep -q "x" &&
	ok || bad "timeline: node-mgmt-a -> mediator has no failed-attempt bucket"
check "timeline of a healthy run has no silence" 0 "SUMMARY: [0-9]+ flow\(s\), 0 silence" \
	"$bin" timeline -d "$db" --run 1
check "timeline --pair" 1 "^tcp/11104  ic-a 198.18.1.11 -> ic-b 198.18.2.11" \
	"$bin" timeline -d "$db" --run 3 --pair 198.18.2.11 198.18.1.11 --gap 3
"$bin" timeline -d "$db" --run 3 --pair 198.18.1.21,198.18.3.5 --gap 3 --format json >"$work/tl.json"
python3 - "$work/tl.json" <<'PY' && ok || bad "timeline json"
import json, sys
d = json.load(open(sys.argv[1]))
f = [x for x in d["flows"] if x["port"] == 31784]
assert len(f) == 1 and f[0]["failed"] >= 2, f
assert any(s["attempts"] >= 2 and not s["edge"] for s in f[0]["silences"]), f[0]["silences"]
assert len(f[0]["activity"]) == 60 and "x" in f[0]["activity"]
PY
# a silence is one side's: the server silent 14.3 s while the client retransmits, the
# replies of a ping stopped for 9 s while its requests go on (tests/scripts/silences.py)
python3 tests/scripts/silences.py "$work/sil" || bad "silences.py"
for f in outage ping; do
	"$bin" audit -q -s $S -d "$work/sil/$f.db" "$work/sil/$f.pcap" >/dev/null
done
check "timeline: the server silent while its client retransmits" 1 \
	"SILENT 2027-01-15 08:00:05\.010Z \.\. 08:00:19\.340Z \(14\.3 s\)" \
	"$bin" timeline -d "$work/sil/outage.db" --gap 10
check "timeline: a ping's replies stopped, its requests going on" 1 \
	"SILENT 2027-01-15 08:00:05\.500Z \.\. 08:00:14\.500Z \(9\.0 s\)" \
	"$bin" timeline -d "$work/sil/ping.db" --gap 5
check "timeline: bad --pair" 2 "--pair: expected two addresses" "$bin" timeline -d "$db" --pair 1.2.3.4
check "timeline: no such run" 2 "" "$bin" timeline -d "$db" --run 99

# diff: healthy (run 1) -> 11105 dropped (run 2)
check "diff names the verdict change" 1 "tcp/11105  ic-a 198.18.1.11 -> ic-b 198.18.2.12: ok -> no-answer" \
	"$bin" diff -d "$db" 1 2
check "diff lists flows now failing" 1 "4 flow\(s\) now failing" "$bin" diff -d "$db" 1 2
check "diff of a run with itself" 0 "SUMMARY: 0 verdict" "$bin" diff -d "$db" 2 2
# healthy (run 1) -> outage (run 3): the Mediator flow still works, some attempts failed
check "diff names a flow become intermittent" 1 \
	"tcp/31784  node-mgmt-a 198.18.1.21 -> mediator 198.18.3.5: ok -> ok \(intermittent\)" \
	"$bin" diff -d "$db" 1 3
check "diff: one run id" 2 "expected two run ids" "$bin" diff -d "$db" 1
"$bin" diff -d "$db" 2 1 --format json >"$work/diff.json"
python3 - "$work/diff.json" <<'PY' && ok || bad "diff json"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["verdict_changed"]) == 8, d["verdict_changed"]
assert all(x["after"] == "ok" for x in d["verdict_changed"])
assert len(d["now_answered"]) == 4 and d["differences"] > 0
PY
# the same capture audited with another site (ic-b's 198.18.2.12 became 198.18.2.13):
# no verdict changed; the flows of .12 are in the first run only, those of .13 in the
# second, and the traffic of .12, expected before, is unexpected now
sdb=$work/site.db
sed 's/198\.18\.2\.12/198.18.2.13/' pcaps/site.conf >"$work/site2.conf"
"$bin" audit -q -s pcaps/site.conf -d "$sdb" pcaps/healthy.pcap >/dev/null
"$bin" audit -q -s "$work/site2.conf" -d "$sdb" pcaps/healthy.pcap >/dev/null
"$bin" diff -d "$sdb" 1 2 --format json >"$work/sitediff.json"
python3 - "$work/sitediff.json" <<'PY' && ok || bad "diff across a site change pairs flows of other addresses"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict_changed"] == [], d["verdict_changed"]
a, b = d["expected_only_a"], d["expected_only_b"]
assert len(a) == 12 and all("198.18.2.12" in x["flow"] and x["before"] == "ok" for x in a), a
assert len(b) == 12 and all("198.18.2.13" in x["flow"] and x["after"] == "not-seen" for x in b), b
c = d["class_changed"]
assert len(c) == 12 and all(x["before"] == "expected" and x["after"] == "unexpected" for x in c), c
PY
# a run killed before it stored a verdict (an audit reading a pipe that stays open):
# nothing to compare, exit 3, never a crash or every flow "gone"; a run stopped by
# Ctrl-C is compared, with a warning that it did not finish
kdb=$work/killed.db
cp "$db" "$kdb"
mkfifo "$work/fifo"
"$bin" audit -q -s $S -d "$kdb" -r - <"$work/fifo" >/dev/null 2>&1 &
kpid=$!
exec 9>"$work/fifo"
cat pcaps/healthy.pcap >&9
for _ in $(seq 100); do
	"$bin" report -d "$kdb" --list 2>/dev/null | grep -qE "^ *5 " && break
	sleep 0.1
done
kill -9 $kpid
wait $kpid 2>/dev/null
exec 9>&-
check "diff with a killed run (second)" 3 "run 5 stopped before it stored a verdict" \
	"$bin" diff -d "$kdb" 1 5
check "diff with a killed run (first, JSON)" 3 "run 5 stopped before it stored a verdict" \
	"$bin" diff -d "$kdb" 5 1 --format json
# SIG PATTERN: an audit of a pipe that stays open and quiet after the capture, stopped
# by SIG, ends at once (within 10 s) and stores what it read
stop_quiet_pipe() {
	"$bin" audit -q -s $S -d "$kdb" -r - <"$work/fifo" >"$work/stop.txt" 2>&1 &
	kpid=$!
	exec 9>"$work/fifo"
	cat pcaps/healthy.pcap >&9
	sleep 1
	kill -$1 $kpid
	for _ in $(seq 100); do kill -0 $kpid 2>/dev/null || break; sleep 0.1; done
	if kill -0 $kpid 2>/dev/null; then
		bad "SIG$1 does not end an audit reading a quiet pipe"
		kill -9 $kpid
	elif grep -q "$2" "$work/stop.txt"; then ok; else
		bad "SIG$1: the audit of a quiet pipe lacks /$2/"; head -3 "$work/stop.txt"
	fi
	wait $kpid
	exec 9>&-
}
stop_quiet_pipe INT "smaudit report, run 6 (audit, interrupted)"
stop_quiet_pipe HUP "smaudit report, run 7 (audit, interrupted)"
check "diff with an interrupted run" 0 "WARNING  run 6 did not finish \(interrupted\)" \
	"$bin" diff -d "$kdb" 1 6
"$bin" diff -d "$kdb" 1 6 --format json >"$work/idiff.json"
# a run whose capture holds no site address (the wrong site file) judged nothing:
# diff refuses it as report does, not 34 verdict changes
"$bin" audit -q -s pcaps/site6.conf -d "$kdb" pcaps/healthy.pcap >/dev/null 2>&1
check "diff with a run of the wrong site" 3 "run 8 is stored, but it says nothing about this site" \
	"$bin" diff -d "$kdb" 1 8
check "timeline of a killed run" 3 "run 5 stopped before it stored a verdict" \
	"$bin" timeline -d "$kdb" --run 5
check "timeline of an interrupted run says so" 0 "WARNING  run 6 did not finish \(interrupted\)" \
	"$bin" timeline -d "$kdb" --run 6
check "query of a killed run says so" 0 "warning: run 5 did not finish \(interrupted\)" \
	"$bin" query -d "$kdb" --run 5 --format csv
python3 - "$work/idiff.json" <<'PY' && ok || bad "diff json: the run status"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["run_a_status"] == "complete" and d["run_b_status"] == "interrupted", d
PY

# extract: the SYNs behind a no-answer finding, hashed and recorded
fid=$(sqlite3 "$db" "SELECT id FROM findings WHERE run_id = 2 AND verdict = 'no-answer' ORDER BY id LIMIT 1")
check "extract a finding" 0 "^[0-9a-f]{64}  $work/ev.pcap" "$bin" extract -d "$db" --finding "$fid" -o "$work/ev.pcap"
sum=$(sha256sum "$work/ev.pcap" | cut -d' ' -f1)
[ "$(sqlite3 "$db" "SELECT sha256 FROM evidence WHERE finding_id = $fid")" = "$sum" ] && ok ||
	bad "extract: evidence row lacks the file's SHA-256 $sum"
n=$(tcpdump -nr "$work/ev.pcap" 2>/dev/null | grep -c "\.11105: Flags \[S\]")
[ "$n" -ge 2 ] && [ "$n" = "$(tcpdump -nr "$work/ev.pcap" 2>/dev/null | wc -l)" ] && ok ||
	bad "extract: $n SYNs to 11105, expected only the retransmitted SYNs"
nf=$(sqlite3 "$db" "SELECT id FROM findings WHERE run_id = 2 AND verdict = 'not-seen' LIMIT 1")
check "extract: nothing to extract" 1 "nothing to extract" "$bin" extract -d "$db" --finding "$nf" -o "$work/x.pcap"
[ ! -e "$work/x.pcap" ] && ok || bad "extract wrote a file with nothing in it"
sid=$(sqlite3 "$db" "SELECT id FROM sessions WHERE run_id = 3 AND dport = 31784 AND established = 1 LIMIT 1")
check "extract a session" 0 "^[0-9a-f]{64} " "$bin" extract -d "$db" --session "$sid" -o "$work/s.pcap"
[ "$(tcpdump -nr "$work/s.pcap" 2>/dev/null | wc -l)" = "$(sqlite3 "$db" "SELECT pkts_fwd + pkts_rev FROM sessions WHERE id = $sid")" ] &&
	ok || bad "extract: session packet count differs from the database"
# the capture moved: the user is told, and --from finds it
cp pcaps/dropped.pcap "$work/moved.pcap"
"$bin" audit -q -s $S -d "$work/moved.db" "$work/moved.pcap" >/dev/null
mv "$work/moved.pcap" "$work/elsewhere.pcap"
f2=$(sqlite3 "$work/moved.db" "SELECT id FROM findings WHERE verdict = 'no-answer' LIMIT 1")
check "extract: moved capture" 3 "give them with --from" "$bin" extract -d "$work/moved.db" --finding "$f2" -o "$work/m.pcap"
check "extract --from" 0 "^[0-9a-f]{64} " "$bin" extract -d "$work/moved.db" --finding "$f2" --from "$work/elsewhere.pcap" -o "$work/m.pcap"
check "extract: both ids" 2 "give one of --finding" "$bin" extract -d "$db" --finding 1 --session 1 -o "$work/y.pcap"
check "extract: no such finding" 2 "no finding 9999" "$bin" extract -d "$db" --finding 9999 -o "$work/y.pcap"
# extract a session whose 4-tuple carries another just after it: a SYN refused by a
# RST, then 0.5 s later the same ports again, answered (tcpshapes.py's writer): the
# evidence is the refused session's 2 packets, not the 8 of the next
python3 - "$work/reuse.pcap" <<'PY'
import sys
sys.path.insert(0, "tests/scripts")
from tcpshapes import Capture, T0, A1, B1, SYN, RST, ACK
c = Capture(sys.argv[1])
c.tcp(T0, A1, B1, 40000, 11104, 1000, 0, SYN)
c.tcp(T0 + .0003, B1, A1, 11104, 40000, 0, 1001, RST | ACK)
c.conversation(T0 + .5, A1, B1, 40000, 11104, 900000, 50000)
c.write()
PY
"$bin" audit -q -s $S -d "$work/reuse.db" "$work/reuse.pcap" >/dev/null
rid=$(sqlite3 "$work/reuse.db" "SELECT id FROM sessions WHERE state = 'REJ'")
"$bin" extract -d "$work/reuse.db" --session "$rid" -o "$work/rej.pcap" >/dev/null 2>&1
n=$(tcpdump -nr "$work/rej.pcap" 2>/dev/null | wc -l)
[ "$n" = 2 ] && ok || bad "extract --session of a refused attempt: $n packets, want its 2 (the next session's are not its evidence)"
# extract after an audit window (--until): no packet the run did not read; tshark
# counts the flow's packets inside the window
"$bin" audit -q -s $S -d "$work/win.db" --from 1796185025 --until 1796185036 pcaps/outage.pcap >/dev/null
wf=$(sqlite3 "$work/win.db" "SELECT id FROM findings WHERE kind = 'intermittent' AND port = 31784 LIMIT 1")
"$bin" extract -d "$work/win.db" --finding "$wf" -o "$work/win.pcap" >/dev/null 2>&1
src=$(sqlite3 "$work/win.db" "SELECT src FROM findings WHERE id = $wf")
want=$(tshark -r pcaps/outage.pcap -Y "frame.time_epoch >= 1796185025 && frame.time_epoch <= 1796185036 && ip.addr == $src && (tcp.port == 31784 || icmp)" 2>/dev/null | wc -l)
got=$(tcpdump -nr "$work/win.pcap" 2>/dev/null | wc -l)
[ "$got" = "$want" ] && [ "$got" -gt 0 ] && ok || bad "extract after --until: $got packets, tshark counts $want in the window"

# HTML: self-contained, and what a browser shows
check "html report" 1 "" "$bin" report -d "$db" --run 4 --format html -o "$work/r.html"
if grep -qiE "(src|href)=|https?://|@import|url\(" "$work/r.html"; then
	bad "html report refers to something outside itself"
else ok; fi
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
	echo "SKIP browser checks: no chromium (scripts/deps.sh --test installs it)"
else
	flags="--headless --no-sandbox --disable-gpu --no-first-run --user-data-dir=$work/chrome"
	timeout 120 "$browser" $flags --dump-dom "file://$work/r.html" >"$work/dom.html" 2>/dev/null
	python3 - "$work/dom.html" <<'PY' && ok || bad "html: matrix in the browser's DOM"
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(s):
        super().__init__(); s.cells = []; s.row = None; s.col = 0; s.heads = []; s.th = False; s.cur = None
    def handle_starttag(s, t, a):
        a = dict(a)
        if t == "tr": s.row = None; s.col = 0
        if t == "th": s.th = True; s.cur = ""
        if t == "td":
            s.col += 1
            if "data-verdict" in a: s.cells.append((s.row, s.heads[s.col], a["data-verdict"], a.get("title", "")))
    def handle_endtag(s, t):
        if t == "th":
            s.th = False
            if s.row is None and s.cur is not None:
                if s.cur.startswith("tcp/") or s.cur.startswith("icmp") or s.cur.startswith("initiator"): s.heads.append(s.cur)
                else: s.row = s.cur
    def handle_data(s, d):
        if s.th: s.cur += d
p = P(); p.feed(open(sys.argv[1]).read())
cells = {(r, c): (v, t) for r, c, v, t in p.cells}
v, t = cells[("ic-a \u2192 ic-b", "tcp/3260")]
assert v == "rejected" and "ICMP" in t, (v, t)
v, t = cells[("ic-a \u2192 ic-b", "tcp/11104")]
assert v == "rejected" and "RST" in t.upper(), (v, t)
assert cells[("ic-a \u2192 ic-b", "tcp/11105")][0] == "ok"
assert cells[("node-mgmt-a \u2192 mediator", "tcp/31784")][0] == "ok"
print("browser DOM: %d matrix cells" % len(cells))
PY
	rm -f "$shot"
	timeout 120 "$browser" $flags --window-size=1400,1000 --screenshot="$shot" "file://$work/r.html" >/dev/null 2>&1
	if [ -s "$shot" ] && [ "$(head -c 4 "$shot" | od -An -c | tr -d ' ')" = "211PNG" ]; then
		echo "screenshot of the HTML report: $shot"; ok
	else bad "html: no screenshot from $browser"; fi
fi
# site files from ONTAP output (tests/ontap: both output forms) and guessed from traffic
check "site --from-ontap" 0 "^role ic-b 198.18.2.11 198.18.2.12$" \
	"$bin" site --from-ontap tests/ontap/cluster-a.txt tests/ontap/cluster-b.txt
"$bin" site --from-ontap tests/ontap/cluster-a.txt tests/ontap/cluster-b.txt -o "$work/ontap.conf"
check "site --from-ontap output audits like pcaps/site.conf" 0 "SUMMARY: 32 expected, 32 ok, 0 missing" \
	"$bin" audit -q -s "$work/ontap.conf" pcaps/healthy.pcap
check "site --guess" 0 "" "$bin" site --guess pcaps/healthy.pcap -o "$work/guess.conf"
python3 - "$work/guess.conf" pcaps/site.conf "$work/ontap.conf" <<'PY' && ok || bad "guessed/ONTAP site differs from pcaps/site.conf"
import sys
def roles(p):
    r = {}
    for l in open(p):
        w = l.split("#")[0].split()
        if w and w[0] == "role": r[w[1]] = set(w[2:])
    return r
want = roles(sys.argv[2]); want.pop("admin")
for f in sys.argv[1], sys.argv[3]:
    got = roles(f)
    assert got == want, (f, got, want)
PY
check "site --from-ontap: not ONTAP output" 2 "no LIF or Mediator found" "$bin" site --from-ontap pcaps/site.conf
check "site --from-ontap: missing file" 3 "cannot read" "$bin" site --from-ontap "$work/nope.txt"
check "site --guess: no SM-as traffic" 2 "no SM-as traffic" "$bin" site --guess "$work/ev.pcap"
check "site: no mode" 2 "smaudit site --from-ontap FILE" "$bin" site pcaps/healthy.pcap
# --guess: per cluster a management LIF speaking to the Mediator on 31784 only (cluster
# management), one on 31784 and 3260 (node management), one on 31784 whose iSCSI is
# blocked: the last two look alike and the guess says so
python3 - "$work/blocked.pcap" <<'PY' || bad "writing blocked.pcap"
import sys
sys.path.insert(0, "tests/scripts")
from tcpshapes import Capture
c = Capture(sys.argv[1])
t, port = 1800000000.0, 40000
def conv(cli, srv, dport):
    global t, port
    port += 1
    t += 0.01
    c.conversation(t, cli, srv, port, dport, 1000, 5000)
for side in "12":
    conv("198.18.%s.11" % side, "198.18.%s.11" % ("2" if side == "1" else "1"), 11104)
    conv("198.18.%s.20" % side, "198.18.3.5", 31784)
    for dport in (31784, 3260):
        conv("198.18.%s.21" % side, "198.18.3.5", dport)
    conv("198.18.%s.22" % side, "198.18.3.5", 31784)
c.write()
PY
check "site --guess: two cluster management LIFs on a side are doubted" 0 \
	"site --guess: 2 addresses of side a speak to the Mediator on tcp/31784 without iSCSI \(198.18.1.20, 198.18.1.22\)" \
	"$bin" site --guess "$work/blocked.pcap" -o "$work/blocked.conf"
# --guess: management LIFs on a network of their own per site (198.19.1.x, 198.19.2.x)
# are as near one cluster's intercluster LIFs (198.18.1.x) as the other's (198.18.2.x):
# their side is unknown, said so and left for the user, never put on side a
python3 - "$work/mgmtnet.pcap" <<'PY' || bad "writing mgmtnet.pcap"
import sys
sys.path.insert(0, "tests/scripts")
from tcpshapes import Capture
c = Capture(sys.argv[1])
c.conversation(1800000000.0, "198.18.1.11", "198.18.2.11", 40001, 11104, 1000, 5000)
c.conversation(1800000000.1, "198.19.1.20", "198.19.3.5", 40002, 31784, 1000, 5000)
c.conversation(1800000000.2, "198.19.2.20", "198.19.3.5", 40003, 31784, 1000, 5000)
c.write()
PY
check "site --guess: a management LIF as near both clusters is not given a side" 0 \
	"site --guess: 198.19.2.20 speaks to the Mediator but is as near cluster a's intercluster LIFs as cluster b's" \
	"$bin" site --guess "$work/mgmtnet.pcap" -o "$work/mgmtnet.conf"
grep -q "198.19.2.20" "$work/mgmtnet.conf" && grep -E "^role " "$work/mgmtnet.conf" | grep -q "198.19.2.20" &&
	bad "site --guess: 198.19.2.20 was given a side: $(grep -E '^role .*198.19.2.20' "$work/mgmtnet.conf")" || ok
# an output that cannot be written (a full disk: /dev/full) is exit 3 naming the output
# and the reason; an export that looks done but is empty would be lost data
full_stdout() { "$@" >/dev/full; }
for fmt in text csv json; do
	check "query --format $fmt to a full disk" 3 \
		"^smaudit: stdout: cannot write: No space left on device$" \
		full_stdout "$bin" query -d "$db" --format $fmt
done
for fmt in text html; do
	check "report --format $fmt to a full stdout" 3 \
		"^smaudit: stdout: cannot write the report: No space left on device$" \
		full_stdout "$bin" report -d "$db" --format $fmt
done
check "report -o a full disk" 3 "^smaudit: /dev/full: cannot write the report: No space left on device$" \
	"$bin" report -d "$db" -o /dev/full
check "report --list to a full stdout" 3 \
	"^smaudit: stdout: cannot write the list of runs: No space left on device$" \
	full_stdout "$bin" report --list -d "$db"
check "audit -o a full disk" 3 "^smaudit: /dev/full: cannot write the report: No space left on device$" \
	"$bin" audit -q -s $S pcaps/healthy.pcap -o /dev/full
# the HTML report's extract hint, pasted into a shell, runs as shown: a database whose
# name holds '&', '?' or a space (a PostgreSQL URI's '?host=...&port=...') is quoted
qdb="$work/it's a&b?.db"
"$bin" audit -q -s $S -d "$qdb" --format html -o "$work/q.html" pcaps/rejected.pcap
hint=$(python3 -c '
import html, re, sys
m = re.search(r"<p id=\"extract\">.*?<code>(.*?)</code>", open(sys.argv[1]).read(), re.S)
print(html.unescape(re.sub("<[^>]*>", "", m.group(1))) if m else "")' "$work/q.html")
hint=${hint//finding-N/$work/hint-1}
hint=${hint//--finding N/--finding 1}
if [ "${hint#smaudit extract }" = "$hint" ]; then
	bad "extract hint: none in the HTML report"
else
	check "the HTML report's extract hint runs in a shell" 0 "$work/hint-1.pcap" \
		env SMAUDIT="$bin" bash -c "smaudit() { \"\$SMAUDIT\" \"\$@\"; } && $hint"
fi
echo "forensics: $pass passed, $fail failed"
[ $fail -eq 0 ]
