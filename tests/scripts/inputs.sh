#!/usr/bin/env bash
# Hostile and odd inputs: names with quotes, spaces and newlines reach SQLite and the
# JSON report intact (bound parameters, escaped strings); an SQL-looking rule purpose
# stays text; a FIFO or stdin carries pcap and pcapng; huge snap lengths and pcapng
# blocks are refused without a crash.   usage: inputs.sh SMAUDIT  (from the repository root)
set -u
bin=$(readlink -f "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
S=pcaps/site.conf
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

# --- a capture, a site file and a database whose names need quoting everywhere ---
odd="$work/it's a \"cap\"
ture; DROP TABLE runs;--.pcap"
cp pcaps/rejected.pcap "$odd"
site="$work/my site 'A'.conf"
cp $S "$site"
db="$work/odd \"name\".db"
"$bin" audit -q -s "$site" -d "$db" --format json "$odd" >"$work/odd.json"
[ $? = 1 ] && ok || bad "odd names: audit exit status"
python3 - "$work/odd.json" "$odd" "$db" "$site" <<'PY' && ok || bad "odd names: JSON or database lost the names"
import json, sqlite3, sys
rep, name, db, site = sys.argv[1:5]
r = json.load(open(rep))
assert r["run"]["sources"] == [name], r["run"]["sources"]
c = sqlite3.connect(db)
assert c.execute("SELECT path FROM run_sources").fetchone()[0] == name
assert c.execute("SELECT site FROM runs").fetchone()[0] == site
assert json.loads(c.execute("SELECT sources FROM runs").fetchone()[0]) == [name]
assert c.execute("SELECT count(*) FROM sessions WHERE source = ?", (name,)).fetchone()[0] > 0
PY
"$bin" report -d "$db" --format csv >"$work/odd.csv"
python3 - "$work/odd.csv" <<'PY' && ok || bad "odd names: CSV report does not parse"
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows and rows[0][0] == "section", rows[:1]
PY

# --- a rule purpose that looks like SQL stays text ---
sed 's/"iSCSI LUN consensus"/"iSCSI'"'"'); DELETE FROM runs; -- it'"'"'s \\\\ fine"/' rules/sm-as.rules >"$work/odd.rules"
"$bin" audit -q -s $S --rules "$work/odd.rules" -d "$work/rules.db" pcaps/healthy.pcap >/dev/null
n=$(sqlite3 "$work/rules.db" "SELECT count(*) FROM runs")
p=$(sqlite3 "$work/rules.db" "SELECT DISTINCT purpose FROM expected WHERE port = 3260 AND src_role = 'ic-a'")
[ "$n" = 1 ] && [ "$p" = "iSCSI'); DELETE FROM runs; -- it's \\\\ fine" ] && ok || bad "SQL-looking purpose: runs=$n purpose=[$p]"

# --- a FIFO and stdin carry pcap and pcapng ---
want=$("$bin" audit -q -s $S pcaps/rejected.pcap 2>&1 | grep -v "source ")
ng="$work/rejected.pcapng"
if command -v editcap >/dev/null; then editcap -F pcapng pcaps/rejected.pcap "$ng"; fi
for f in pcaps/rejected.pcap "$ng"; do
	[ -s "$f" ] || { echo "note: editcap missing: pcapng FIFO case skipped"; continue; }
	rm -f "$work/fifo"
	mkfifo "$work/fifo"
	cat "$f" >"$work/fifo" &
	got=$(timeout 20 "$bin" audit -q -s $S "$work/fifo" 2>&1 | grep -v "source ")
	wait
	[ "$got" = "$want" ] && ok || bad "FIFO carrying $(basename "$f"): report differs"
	got=$(timeout 20 "$bin" audit -q -s $S - <"$f" 2>&1 | grep -v "source ")
	[ "$got" = "$want" ] && ok || bad "stdin carrying $(basename "$f"): report differs"
done

# --- huge snap length and caplen, huge pcapng block: refused, no crash ---
python3 - "$work" <<'PY'
import struct, sys
w = sys.argv[1]
hdr = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 0xFFFFFFFF, 1)
pkt = bytes(60)
with open(w + "/hugesnap.pcap", "wb") as f:  # snaplen 2^32-1, one sane packet, one caplen of 1 GB
    f.write(hdr + struct.pack("<IIII", 1, 0, 60, 60) + pkt)
    f.write(struct.pack("<IIII", 2, 0, 1 << 30, 1 << 30) + pkt)
shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
idb = struct.pack("<IIHHI", 1, 20, 1, 0, 0) + struct.pack("<I", 20)
huge = struct.pack("<II", 6, 0x7FFFFFF0) + bytes(64)  # an EPB claiming 2 GB
with open(w + "/hugeblock.pcapng", "wb") as f:
    f.write(shb + idb + huge)
PY
for f in "$work/hugesnap.pcap" "$work/hugeblock.pcapng"; do
	out=$(timeout 20 "$bin" audit -q -s $S "$f" 2>&1)
	rc=$?
	case $rc in
	0 | 1 | 3) ok ;;
	*) bad "$(basename "$f"): exit $rc (crash?): $(echo "$out" | head -3)" ;;
	esac
done
# --- one file given twice, or through a link in a directory given: read once ---
"$bin" audit -q -s $S --format json pcaps/dropped.pcap >"$work/once.json" 2>/dev/null
mkdir "$work/twice" && cp pcaps/dropped.pcap "$work/twice/a.pcap" && ln -s a.pcap "$work/twice/b.pcap"
for args in "pcaps/dropped.pcap pcaps/dropped.pcap" "$work/twice" "pcaps/dropped.pcap ./pcaps/../pcaps/dropped.pcap"; do
	"$bin" audit -q -s $S --format json $args >"$work/twice.json" 2>"$work/twice.err"
	python3 - "$work/once.json" "$work/twice.json" <<'PY' && grep -q "the same file as .*: read once" "$work/twice.err" && ok ||
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a["run"]["packets"] == b["run"]["packets"], (a["run"]["packets"], b["run"]["packets"])
assert a["summary"] == b["summary"] and a["expected"] == b["expected"]
PY
		bad "the same file twice ($args): counted twice, or no warning"
done

# --- a pcapng file that declares capture loss (dumpcap's interface statistics, drop
# counts of packet blocks): the run counts it as dropped, and every verdict that
# rests on a missing packet carries the caution; tshark reads the EPB counts too ---
for mode in isb epb pb; do
	python3 tests/scripts/ngdrops.py $mode pcaps/dropped.pcap "$work/$mode.pcapng" || exit 1
	case $mode in
	isb) want=5000 ;;
	epb) want=$(tshark -r "$work/$mode.pcapng" -T fields -e frame.drop_count 2>/dev/null | awk '{s += $1} END {print s + 0}') ;;
	pb) want=$((3 * ($(tshark -r pcaps/dropped.pcap 2>/dev/null | wc -l) / 50))) ;;
	esac
	"$bin" audit -q -s $S --format json "$work/$mode.pcapng" >"$work/$mode.json" 2>/dev/null
	"$bin" audit -q -s $S --color never "$work/$mode.pcapng" >"$work/$mode.txt" 2>/dev/null
	got=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["run"]["dropped"])' "$work/$mode.json")
	# a caution under every verdict that a lost packet could explain
	lossy=$(python3 -c 'import json, sys
print(sum(e["verdict"] in ("no-answer", "one-way", "not-seen") for e in json.load(open(sys.argv[1]))["expected"]))' "$work/$mode.json")
	[ "$got" = "$want" ] && [ "$want" -gt 0 ] && [ "$lossy" -ge 4 ] &&
		[ "$(grep -c "CAUTION: the capture dropped $want packet(s)" "$work/$mode.txt")" = "$lossy" ] && ok ||
		bad "pcapng declaring $want dropped packets ($mode): the run says $got, with $(grep -c CAUTION "$work/$mode.txt") caution(s)"
done

echo "inputs: $pass passed, $fail failed"
[ $fail -eq 0 ]
