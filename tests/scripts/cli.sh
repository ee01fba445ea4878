#!/usr/bin/env bash
# What a user sees at the command line: exit statuses, error messages, stored
# runs re-rendered, damaged and multiple inputs.   usage: cli.sh SMAUDIT
set -u
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/check.sh"
S=pcaps/site.conf
check "no command" 2 "missing command" "$bin"
check "help" 0 "exit status: 0 no finding" "$bin" --help
check "version" 0 "^smaudit [0-9]" "$bin" --version
check "unknown command" 2 "unknown command 'frobnicate'" "$bin" frobnicate
check "audit without site" 2 "-s SITE is required" "$bin" audit pcaps/healthy.pcap
check "audit without capture" 2 "at least one capture" "$bin" audit -s $S
check "bad option value" 2 "--format 'xml': expected text, json, csv or html" "$bin" audit -s $S --format xml pcaps/healthy.pcap
printf 'role ic-a 10.0.0.1\nrole ic-b 10.0.0.999\n' >"$work/bad.conf"
check "site error has file:line:col" 2 "bad.conf:2:11: '10.0.0.999': not an IPv4 or IPv6 address" "$bin" audit -s "$work/bad.conf" pcaps/healthy.pcap
printf 'expect tcp/11104 ic-a -> ic-b\n' >"$work/bad.rules"
check "rules error has file:line:col" 2 "bad.rules:1:30: missing purpose" "$bin" check -s $S --rules "$work/bad.rules"
check "check -r RULES (the same as --rules)" 2 "bad.rules:1:30: missing purpose" "$bin" check -s $S -r "$work/bad.rules"
check "missing site file" 2 "nope.conf: cannot open" "$bin" audit -s "$work/nope.conf" pcaps/healthy.pcap
check "unreadable capture is exit 3" 3 "nothing.pcap: cannot open capture" "$bin" audit -q -s $S "$work/nothing.pcap"
echo "not a capture" >"$work/junk.pcap"
check "junk capture is exit 3" 3 "junk.pcap: cannot open capture" "$bin" audit -q -s $S "$work/junk.pcap"
check "bad file beside a good one is a warning" 0 "warning: .*junk.pcap: skipped" "$bin" audit -q -s $S pcaps/healthy.pcap "$work/junk.pcap"
check "report --list in a format it does not write" 2 "--list takes no --run and --format text or json" "$bin" report -d "$work/none.db" --list --format csv
check "report --list with --run" 2 "--list takes no --run and --format text or json" "$bin" report -d "$work/none.db" --list --run 1
check "bad BPF is a usage error" 2 "invalid filter -f 'port port'" "$bin" audit -q -s $S -f "port port" pcaps/healthy.pcap
# -f: flows the filter excludes are 'filtered' (not missing, not a finding); the header says the filter
check "filter: excluded flows are filtered, not missing" 0 "0 missing, 0 optional missing, 0 unexpected, 0 protocol mismatches, 27 filtered" "$bin" audit -q -s $S -f "tcp port 11105" pcaps/healthy.pcap
check "filter: the header states it" 0 "^  filter   tcp port 11105" "$bin" audit -q -s $S -f "tcp port 11105" pcaps/healthy.pcap
"$bin" audit -q -s $S -f "tcp port 11105" --format json pcaps/healthy.pcap >"$work/f.json"
if python3 - "$work/f.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["run"]["filter"] == "tcp port 11105", d["run"]
assert d["summary"]["missing"] == 0 and d["summary"]["filtered"] == 27, d["summary"]
for e in d["expected"]:
    want = "ok" if e["port"] == 11105 else ("n/a" if e["verdict"] == "n/a" else "filtered")
    assert e["verdict"] == want, e
PY
then pass=$((pass + 1)); else echo "FAIL filter: JSON verdicts"; fail=$((fail + 1)); fi
check "filter: coverage says the filter may hide addresses" 0 "the capture filter may be what hides them" "$bin" audit -q -s $S -f "tcp port 11105" pcaps/healthy.pcap
check "filter: the HTML header states it" 0 '<p class="warn" id="filter">Capture filter: <code>tcp port 11105</code>' "$bin" audit -q -s $S -f "tcp port 11105" --format html pcaps/healthy.pcap
check "filter does not hide real failures" 1 "no-answer tcp/11105  ic-a 198.18.1.11 -> ic-b 198.18.2.11" "$bin" audit -q -s $S -f "tcp port 11105" pcaps/dropped.pcap
check "filter: one host" 0 "14 ok, 0 missing.*19 filtered" "$bin" audit -q -s $S -f "host 198.18.1.11" pcaps/healthy.pcap
# VLAN-tagged frames: without 'vlan' the filter matches none of them (libpcap's rule)
check "filter on tagged frames without 'vlan' keeps nothing" 3 "through the filter 'tcp port 11105'" "$bin" audit -q -s $S -f "tcp port 11105" pcaps/vlan.pcap
check "filter with 'vlan' on tagged frames" 0 "8 ok, 0 missing.*27 filtered" "$bin" audit -q -s $S -f "vlan and tcp port 11105" pcaps/vlan.pcap
# a filter passing SYNs only: unanswered SYNs stay missing; a SYN-ACK is no proof that the
# answer arrived (the initiator's ACK says so, and the filter drops it): filtered, not ok
check "filter keeping SYNs: unanswered SYNs stay missing, answered ones are filtered" 1 "0 ok, 4 missing.*29 filtered" "$bin" audit -q -s $S -f "tcp[tcpflags] & tcp-syn != 0 or icmp" pcaps/dropped.pcap
check "filter: a pass for SYNs only claims nothing works" 0 "0 ok, 0 missing.*33 filtered" "$bin" audit -q -s $S -f "tcp[tcpflags] & tcp-syn != 0 or icmp" pcaps/healthy.pcap
# a filter dropping ICMP: unanswered SYNs stay missing, saying ICMP refusals would look
# the same; one on a field that varies packet to packet (TTL, size) hides part of every flow
check "filter dropping ICMP: no-answer says refusals could hide" 1 "never answered \(1 SYN sent\): typical of a firewall that silently drops; but the capture filter \(-f\) drops ICMP errors about this flow" "$bin" audit -q -s $S -f tcp pcaps/rejected.pcap
check "filter on the IPv4 identification: nothing judged" 0 "0 missing, 0 optional missing, 0 unexpected, 0 protocol mismatches" "$bin" audit -q -s $S -f "ip[4:2] & 1 = 0" pcaps/healthy.pcap
check "filter on the TTL: nothing judged" 0 "0 missing, 0 optional missing, 0 unexpected, 0 protocol mismatches" "$bin" audit -q -s $S -f "ip[8] == 64" pcaps/healthy.pcap
check "filter on the size: pings not judged" 0 "filtered  icmp/echo  ic-a \* -> ic-b \*" "$bin" audit -s $S --color never -f "greater 100" pcaps/healthy.pcap
if command -v editcap >/dev/null; then
	editcap -F pcapng pcaps/vlan.pcap "$work/vlan.pcapng"
	check "filter on pcapng" 0 "8 ok, 0 missing.*27 filtered" "$bin" audit -q -s $S -f "vlan and tcp port 11105" "$work/vlan.pcapng"
	check "filter on tagged pcapng without 'vlan'" 3 "no IP packet was read" "$bin" audit -q -s $S -f "tcp port 11105" "$work/vlan.pcapng"
fi
# the filter is probed in the capture's own link type: a real failure stays a failure in each
for lt in 0 1 101 108 113; do
	python3 tests/scripts/relink.py pcaps/dropped.pcap "$work/dropped-$lt.pcap" $lt
	check "filter probed on link type $lt" 1 "0 ok, 8 missing.*27 filtered" "$bin" audit -q -s $S -f "tcp port 11105" "$work/dropped-$lt.pcap"
done
# evidence read through the filter decides where its packets pass: a trunk filtered to one VLAN
python3 tests/scripts/relink.py pcaps/mediator-down.pcap "$work/md-v20.pcap" 1 20
python3 tests/scripts/relink.py pcaps/healthy.pcap "$work/h-v110.pcap" 1 110
check "filter to one VLAN of a trunk keeps its failures" 1 "26 ok, 6 missing.*1 filtered" "$bin" audit -q -s $S -f "vlan 20" "$work/md-v20.pcap" "$work/h-v110.pcap"
check "filter to the other VLAN of the trunk" 0 "32 ok, 0 missing" "$bin" audit -q -s $S -f "vlan 110" "$work/md-v20.pcap" "$work/h-v110.pcap"
# MAC filters are probed with the capture's own link headers (the Mediator's MAC: aa:bb:cc:12:03:05)
python3 tests/scripts/relink.py pcaps/mediator-down.pcap "$work/md-eth.pcap" 1
check "ether host: unanswered SYNs to the Mediator stay missing" 1 "0 ok, 6 missing.*29 filtered" "$bin" audit -q -s $S -f "ether host aa:bb:cc:12:03:05" "$work/md-eth.pcap"
check "ether dst: their answers could be filtered" 0 "0 missing.*35 filtered" "$bin" audit -q -s $S -f "ether dst aa:bb:cc:12:03:05" "$work/md-eth.pcap"
"$bin" audit -q -s $S -f "ether dst aa:bb:cc:12:03:05" --format json "$work/md-eth.pcap" >"$work/f2.json"
if python3 - "$work/f2.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
f = [e for e in d["expected"] if e["verdict"] == "filtered"]
assert f and all("finding" not in e for e in f), "a filtered entry carries a finding"
assert any(e["port"] == 31784 and e["src"] == "198.18.1.21" and e["dst"] == "198.18.3.5" for e in f), f
PY
then pass=$((pass + 1)); else echo "FAIL filter: filtered entries must name their pair and carry no finding"; fail=$((fail + 1)); fi
# a prefix member is probed at an address inside it, and the report never names its network address
sed 's/^role mediator .*/role mediator      198.18.3.4\/30/' $S >"$work/pfx.conf"
check "prefix member under a host filter" 1 "no-answer tcp/31784  node-mgmt-a 198.18.1.21 -> mediator 198.18.3.5" "$bin" audit -q -s "$work/pfx.conf" -f "host 198.18.3.5" pcaps/mediator-down.pcap
# IPv6 probes (the longest packets built)
sed 's/^role mediator .*/role mediator fd00:3::99/' pcaps/site6.conf >"$work/site6b.conf"
check "IPv6 flows under a filter" 1 "missing" "$bin" audit -q -s "$work/site6b.conf" -f ip6 pcaps/ipv6.pcap
# --strict: an intermittent failure is a finding (outage.pcap: 4 of 17 Mediator sessions unanswered)
check "intermittent without --strict" 0 "intermittent: 4 of 17 sessions failed" "$bin" audit -q -s $S pcaps/outage.pcap
check "intermittent with --strict" 1 "INTERMITTENT FAILURES OF EXPECTED FLOWS \(1\)" "$bin" audit -q -s $S --strict -d "$work/strict.db" pcaps/outage.pcap
check "report of a --strict run keeps its exit status" 1 "1 intermittent" "$bin" report -d "$work/strict.db"
check "--strict JSON" 1 '"strict": true' "$bin" report -d "$work/strict.db" --format json
# a site file and a capture that have nothing in common: exit 3, the busiest addresses named
printf 'role ic-a 10.1.1.1\nrole ic-b 10.2.2.2\nrole mediator 10.3.3.3\n' >"$work/elsewhere.conf"
check "no site address in the capture" 3 "none of the 3 site addresses of .*elsewhere.conf appears in pcaps/healthy.pcap; the busiest addresses in it are 198.18.1.11 \(144 packets\), 198.18.2.11 \(144 packets\)" "$bin" audit -q -s "$work/elsewhere.conf" pcaps/healthy.pcap
check "no site address: report says the same" 3 "none of the 3 site addresses" sh -c "'$bin' audit -q -s '$work/elsewhere.conf' -d '$work/else.db' pcaps/healthy.pcap; '$bin' report -d '$work/else.db'"
check "some site addresses: still a report" 1 "MISSING EXPECTED FLOWS" "$bin" audit -q -s $S pcaps/mediator-down.pcap
head -c 20037 pcaps/healthy.pcap >"$work/cut.pcap"
check "truncated capture: read what can be read" 1 "could not be read to the end" "$bin" audit -q -s $S "$work/cut.pcap"
check "stdin capture" 0 "source   -" sh -c "'$bin' audit -q -s $S - < pcaps/healthy.pcap"
mkdir "$work/dir" && cp pcaps/dropped.pcap pcaps/unexpected.pcap "$work/dir/"
check "directory is every file in it" 1 "2 unexpected" "$bin" audit -q -s $S "$work/dir"
check "check prints the matrix" 0 "tcp/31784 +node-mgmt-a 198.18.1.21" "$bin" check -s $S
# database: two runs, re-render, query
db="$work/runs.db"
"$bin" audit -q -s $S -d "$db" --format json pcaps/rejected.pcap >"$work/run1.json"
"$bin" audit -q -s $S -d "$db" pcaps/healthy.pcap >/dev/null
check "report re-renders run 1" 1 "" "$bin" report -d "$db" --run 1 --format json -o "$work/again.json"
if cmp -s "$work/run1.json" "$work/again.json"; then pass=$((pass + 1)); else echo "FAIL report --run 1 differs from the audit's own JSON"; fail=$((fail + 1)); fi
check "report defaults to the latest run" 0 "run 2 \(audit, complete\)" "$bin" report -d "$db"
check "report of a missing run" 2 "no run 7" "$bin" report -d "$db" --run 7
check "query by port" 0 "198.18.1.11 .* 198.18.2.11 +11104" "$bin" query -d "$db" --run 1 --port 11104 --host 198.18.1.11
check "query by class" 0 "1 session\(s\)|0 session\(s\)" "$bin" query -d "$db" --class unexpected
# --format, command by command: each renders the formats its --help lists, each one
# differently from text, and refuses every other with exit 2, naming the command, the
# format and the formats it writes; never renders one it does not know as text.  The
# formats are those of any command's --help (they all come from one table).
help_formats() { # the formats COMMAND --help lists, one a line, sorted
	"$bin" "$1" --help | sed -n 's/^ *--format FMT  *//p' | sed 's/ ([^)]*)//g; s/,/ /g; s/ or / /g' | tr ' ' '\n' | grep . | sort
}
cp "$db" "$work/combine.db"
declare -A fmt_args=(
	[audit]="audit -q -s $S pcaps/rejected.pcap"
	[live]="live -q -s $S -i smaudit-nosuch0 --duration 1"
	[combine]="combine -q -s $S -d $work/combine.db --run 1 --run 2"
	[report]="report -d $db --run 1"
	[query]="query -d $db --run 1"
	[timeline]="timeline -d $db --run 1"
	[diff]="diff -d $db 1 2")
fmt_cmds=$(for c in $("$bin" --complete); do "$bin" --complete "$c" | grep -q '^--format ' && echo "$c"; done)
all_formats=$(for c in $fmt_cmds; do help_formats "$c"; done | sort -u)
[ -n "$all_formats" ] && [ "$(wc -w <<<"$fmt_cmds")" -ge 7 ] && pass=$((pass + 1)) ||
	{ echo "FAIL --format: no formats ('$all_formats') or commands ('$fmt_cmds') found"; fail=$((fail + 1)); }
for c in $fmt_cmds; do
	[ -n "${fmt_args[$c]:-}" ] || { echo "FAIL --format: cli.sh has no example of '$c' to try its formats on"; fail=$((fail + 1)); continue; }
	mine=$(help_formats "$c")
	list=$(sed ':a;N;$!ba;s/\n/, /g' <<<"$mine" | sed 's/\(.*\), /\1 or /') # "csv, json or text"
	text=$("$bin" ${fmt_args[$c]} --format text 2>/dev/null)
	for f in $all_formats; do
		got=$("$bin" ${fmt_args[$c]} --format "$f" 2>"$work/fmt.err")
		rc=$?
		out="$(cat "$work/fmt.err")"
		if grep -qx "$f" <<<"$mine"; then
			if [ $rc -eq 2 ] || grep -q -- "--format" <<<"$out"; then
				echo "FAIL $c --format $f: its --help lists $f, yet exit $rc:"; echo "$out" | head -3; fail=$((fail + 1))
			elif [ "$f" != text ] && [ "$c" != live ] && [ "$got" = "$text" ]; then
				echo "FAIL $c --format $f: rendered as text"; fail=$((fail + 1))
			else
				pass=$((pass + 1))
			fi
		else
			want="--format $f: $c does not write $f; it writes "
			said=$(grep -F -- "$want" <<<"$out" | sed 's/.*it writes //; s/ (.*//; s/,/ /g; s/ or / /' | tr ' ' '\n' | grep . | sort)
			if [ $rc -eq 2 ] && [ "$said" = "$mine" ]; then
				pass=$((pass + 1))
			else
				echo "FAIL $c --format $f: not in its --help ($(echo $mine)): want exit 2 and '$want$list'; got exit $rc:"; echo "$out" | head -3; fail=$((fail + 1))
			fi
		fi
	done
done
check "an unknown --format names the command's formats" 2 "--format 'xml': expected text or json$" "$bin" timeline -d "$db" --format xml
check "report with a bare argument" 2 "report: unexpected argument '1'" "$bin" report -d "$db" 1
check "query with a bare argument" 2 "query: unexpected argument '198.18.1.11'" "$bin" query -d "$db" 198.18.1.11
check "query bad class" 2 "--class 'bogus': the classes are expected, optional, allowed, unexpected or unmonitored" "$bin" query -d "$db" --class bogus
n=$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status='complete'" 2>/dev/null || echo 2)
if [ "$n" = 2 ]; then pass=$((pass + 1)); else echo "FAIL runs table: $n complete runs"; fail=$((fail + 1)); fi
check "csv report" 1 "^section,rule,kind,proto,port" "$bin" report -d "$db" --run 1 --format csv
# capture drops reported by a live run are shown beside the verdicts they could falsify
"$bin" audit -q -s $S -d "$work/drops.db" pcaps/dropped.pcap >/dev/null
sqlite3 "$work/drops.db" "UPDATE runs SET dropped = 7"
check "drops beside a no-answer verdict" 1 "7 DROPPED by the capture" "$bin" report -d "$work/drops.db"
check "drops caution on the verdict" 1 "CAUTION: the capture dropped 7 packet\(s\) in this run" "$bin" report -d "$work/drops.db"
# capture loss: the requests on 11104 are cut out of a capture, the FINs after them show the gap
python3 - pcaps/healthy.pcap "$work/gap.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
out, o = [d[:24]], 24
while o + 16 <= len(d):
    n = struct.unpack_from("<I", d, o + 8)[0]
    rec = d[o:o + 16 + n]
    o += 16 + n
    pkt = rec[16:]
    ip = pkt.find(b"\x45\x00")  # SLL2 header, then IPv4
    if ip >= 0 and pkt[ip + 9] == 6:
        tcp = ip + (pkt[ip] & 15) * 4
        dport = struct.unpack_from("!H", pkt, tcp + 2)[0]
        if dport == 11104 and len(pkt) > tcp + (pkt[tcp + 12] >> 4) * 4:
            continue  # a data segment to 11104: "lost"
    out.append(rec)
open(sys.argv[2], "wb").write(b"".join(out))
PY
check "capture loss is counted per run" 0 "bytes MISSED by the capture in 8 TCP session" "$bin" audit -q -s $S "$work/gap.pcap"
"$bin" audit -q -s $S -d "$work/gap.db" "$work/gap.pcap" >/dev/null
n=$(sqlite3 "$work/gap.db" "SELECT count(*) FROM sessions WHERE dport = 11104 AND missed_bytes > 0")
if [ "$n" = 8 ]; then pass=$((pass + 1)); else echo "FAIL missed_bytes per session: $n sessions, expected 8"; fail=$((fail + 1)); fi
# a full stream reassembly table is said, not hidden among undecoded packets
python3 bench/gen.py "$work/busy.pcap" --sessions 400 --concurrency 200 --bulk-segments 2 >/dev/null
check "full reassembly table is a warning" 1 "stream reassembly table was full [0-9]+ time" "$bin" audit -q -s $S --max-sessions 40 "$work/busy.pcap"
# -o onto what is no regular file is written in place: a FIFO stays a FIFO and its
# reader gets the report; a device node (here a private /dev/null) stays a device;
# extract refuses one (evidence is a file its digest stands for)
mkfifo "$work/out.fifo"
timeout 20 cat "$work/out.fifo" >"$work/fifo.txt" & # the old way left it no writer: bounded
reader=$!
check "-o onto a FIFO" 0 "" "$bin" audit -q -s $S -o "$work/out.fifo" pcaps/healthy.pcap
wait $reader
if [ -p "$work/out.fifo" ] && grep -q "^smaudit report" "$work/fifo.txt"; then pass=$((pass + 1)); else
	echo "FAIL -o onto a FIFO: replaced, or its reader got no report"; fail=$((fail + 1)); fi
nodes=$work/node
if mknod "$nodes" c 1 3 2>/dev/null; then
	check "-o onto a device" 0 "" "$bin" audit -q -s $S -o "$nodes" pcaps/healthy.pcap
	if [ -c "$nodes" ]; then pass=$((pass + 1)); else echo "FAIL -o onto a device: replaced by a file"; fail=$((fail + 1)); fi
	check "extract onto a device" 2 "not a regular file: extract writes evidence to a file of its own" \
		"$bin" extract -d "$work/drops.db" --finding 1 -o "$nodes"
fi
for n in 1 2 3; do # the smallest tables the option allows: a report, every session evicted but one
	check "--max-sessions $n" 1 "[0-9]+ evicted \(table full\)" "$bin" audit -s $S --max-sessions $n "$work/busy.pcap"
done
# an older (version 1) database is upgraded in place and its runs stay readable
cp "$work/drops.db" "$work/v1.db"
sqlite3 "$work/v1.db" "DROP INDEX sessions_open; DROP INDEX sessions_unexpected; DROP INDEX findings_unexpected; ALTER TABLE sessions DROP COLUMN open; ALTER TABLE sessions DROP COLUMN app_detail; ALTER TABLE sessions DROP COLUMN missed_bytes; ALTER TABLE runs DROP COLUMN missed_bytes; ALTER TABLE runs DROP COLUMN gap_sessions; ALTER TABLE sessions DROP COLUMN idle_from; ALTER TABLE sessions DROP COLUMN idle_max; DROP TABLE evidence; ALTER TABLE expected DROP COLUMN finding_id; ALTER TABLE run_sources DROP COLUMN given; ALTER TABLE runs DROP COLUMN pid; ALTER TABLE runs DROP COLUMN host; ALTER TABLE runs DROP COLUMN heartbeat; ALTER TABLE runs DROP COLUMN filter; ALTER TABLE runs DROP COLUMN strict; ALTER TABLE sessions DROP COLUMN uid; ALTER TABLE sessions DROP COLUMN tunnel_parent; DROP TABLE sensors; DROP TABLE sightings; ALTER TABLE expected DROP COLUMN path; ALTER TABLE expected DROP COLUMN lost_between; PRAGMA user_version = 1"
check "version 1 database reads after the upgrade" 1 "run 1 \(audit, complete\)" "$bin" report -d "$work/v1.db"
check "version 1 database takes new runs" 0 "run 2 \(audit, complete\)" "$bin" audit -q -s $S -d "$work/v1.db" pcaps/healthy.pcap
check "live without an interface" 2 "live needs -i IFACE" "$bin" live -s $S
check "live with files" 2 "use 'smaudit audit' for captures" "$bin" live -s $S -i lo pcaps/healthy.pcap
check "live --report-every without -o" 2 "--report-every needs -o FILE" "$bin" live -s $S -i lo --report-every 5
check "live on a missing interface" 3 "nosuchif0: cannot capture" "$bin" live -q -s $S -i nosuchif0 --duration 1
check "missing database" 3 "no such database" "$bin" report -d "$work/none.db"
echo "not a database at all, just text that is long enough to be a header......." >"$work/text.db"
check "non-SQLite database" 3 "text.db" "$bin" report -d "$work/text.db"
# Ctrl-C while reading: the run is kept, marked interrupted
( (cat pcaps/healthy.pcap; sleep 3) | "$bin" audit -q -s $S -d "$work/int.db" - >"$work/int.out" 2>&1 ) &
sleep 1.5
pkill -INT -f "audit -q -s $S -d $work/int.db" || true
wait
if grep -q "run 1 (audit, interrupted)" "$work/int.out" && [ "$(sqlite3 "$work/int.db" "SELECT status FROM runs")" = interrupted ]; then
	pass=$((pass + 1))
else
	echo "FAIL Ctrl-C: run not stored as interrupted"; head -5 "$work/int.out"; fail=$((fail + 1))
fi
# every option belongs to its commands; -r reads a capture, --rules names the policy
check "-r reads a capture" 0 "SUMMARY: 32 expected, 32 ok" "$bin" audit -q -s $S -r pcaps/healthy.pcap
check "-r twice and a bare capture" 1 "source   pcaps/dropped.pcap" "$bin" audit -q -s $S -r pcaps/dropped.pcap -r pcaps/unexpected.pcap pcaps/healthy.pcap
check "--rules with -r" 0 "SUMMARY: 32 expected" "$bin" audit -q -s $S --rules rules/sm-as.rules -r pcaps/healthy.pcap
check "audit --session is refused" 2 "option --session does not apply to 'audit' \(it is an option of: extract\)" "$bin" audit -q -s $S --session 5 pcaps/healthy.pcap
check "live --port is refused" 2 "option --port does not apply to 'live'" "$bin" live -s $S -i lo --port 5
check "site --from is refused (no abbreviation of --from-ontap)" 2 "option --from does not apply to 'site'" "$bin" site --from tests/ontap/cluster-a.txt
check "abbreviated option is refused" 2 "unknown option '--form'" "$bin" audit -q -s $S --form json pcaps/healthy.pcap
check "unknown short option" 2 "unknown option '-x'" "$bin" audit -q -s $S -x pcaps/healthy.pcap
check "an argument to a flag" 2 "option '--strict' takes no argument" "$bin" audit -q -s $S --strict=1 pcaps/healthy.pcap
check "a rules file given with -r (the old habit)" 2 "rules/sm-as.rules is a rules or site file, not a capture \(rules are given with --rules FILE" "$bin" audit -q -s $S -r rules/sm-as.rules pcaps/healthy.pcap
check "live on a link that never shows the site" 3 "none of the 10 site addresses of pcaps/site.conf appears in live:lo" "$bin" live -q -s $S -i lo --duration 1
check "missing option argument" 2 "option -s needs an argument" "$bin" audit -s
check "audit --help is audit's" 0 "usage: smaudit audit .*--strict" "$bin" audit --help
# each command's --help gives its own exit statuses (docs/exit-status.md): check never
# exits 1, timeline does when it finds a silence, diff when the runs differ
for c in check query site; do
	check "$c --help: its exit statuses" 0 "exit status: 0 done, 2 usage or configuration error" "$bin" $c --help
done
check "extract --help: its exit statuses" 0 "exit status: 0 done, 1 nothing to extract" "$bin" extract --help
check "timeline --help: its exit statuses" 0 "exit status: 0 no silence, 1 a silence of --gap seconds or more" "$bin" timeline --help
check "diff --help: its exit statuses" 0 "exit status: 0 the runs agree, 1 they differ" "$bin" diff --help
out=$("$bin" audit --help)
if grep -q -- "--interface\|--finding\|--ring-dir" <<<"$out" || ! grep -q "^examples:" <<<"$out" || [ "$(wc -l <<<"$out")" -gt 50 ]; then
	echo "FAIL audit --help shows other commands' options or no examples"; fail=$((fail + 1))
else pass=$((pass + 1)); fi
check "help COMMAND" 0 "usage: smaudit extract .*--finding" "$bin" help extract
check "overview names every command" 0 "timeline" "$bin" --help
# outputs are checked before the first packet: a capture that never ends cannot delay the error
# (a FIFO whose writer keeps it open: reading it to the end would take 20 s)
for what in "-o /missing/dir/r.txt:cannot write the report" "-d /missing/dir/r.db:cannot open database"; do
	opt=${what%%:*}
	mkfifo "$work/slow.fifo"
	(cat pcaps/healthy.pcap; sleep 20) >"$work/slow.fifo" &
	writer=$!
	check "$opt fails before the first packet" 3 "${what#*:}" timeout 5 "$bin" audit -q -s $S $opt "$work/slow.fifo"
	pkill -P $writer 2>/dev/null; kill $writer 2>/dev/null; wait $writer 2>/dev/null
	rm -f "$work/slow.fifo"
done
check "--chroot that is not a directory" 3 "--chroot /etc/passwd: not a directory" "$bin" live -q -s $S -i lo --chroot /etc/passwd --duration 1
check "--chroot that is missing" 3 "--chroot $work/no-jail: No such file or directory" "$bin" live -q -s $S -i lo --chroot "$work/no-jail" -d "$work/jail.db" -o "$work/jail.txt" --duration 1
if [ -e "$work/jail.db" ] || [ -e "$work/jail.txt" ]; then
	echo "FAIL --chroot that is missing: the database or the report was created first"; fail=$((fail + 1))
else
	pass=$((pass + 1))
fi
check "-w that cannot be made" 3 "/missing/ring: cannot create the ring directory" "$bin" live -q -s $S -i lo -w /missing/ring --duration 1
# per-command help, from the one command table: '-h', '--help' and 'help COMMAND' print the
# same page, with the command's usage line, options and examples of that command
commands=$("$bin" --complete)
for c in $commands; do
	out=$("$bin" "$c" --help)
	if [ "$out" = "$("$bin" "$c" -h)" ] && [ "$out" = "$("$bin" help "$c")" ] &&
		grep -q "^usage: smaudit $c " <<<"$out" && grep -q "^options:" <<<"$out" &&
		grep -q "^  -h, --help  *this help" <<<"$out" && grep -q "^examples:" <<<"$out" &&
		[ -z "$(sed -n '/^examples:/,/^$/p' <<<"$out" | grep '^  smaudit' | grep -v "^  smaudit $c ")" ]; then
		pass=$((pass + 1))
	else
		echo "FAIL $c --help: not the same page from -h and 'help $c', or no usage, options or examples of $c"; fail=$((fail + 1))
	fi
done
check "live --help gives the defaults" 0 "--checkpoint SEC +write open sessions to the database this often" "$bin" live --help
check "live --help: default of --checkpoint" 0 "\(default 10\): a killed run loses at most that much" "$bin" live --help
# the exact option set: every option a command's --help lists is taken by it; every option
# of any command is refused, naming the commands that take it, by a command that does not
# (each option once and each command at least once: one run per pair would take minutes
# under ASan)
for c in $commands; do "$bin" --complete "$c"; done | sort -u >"$work/all-options"
declare -A refused_somewhere=()
for c in $commands; do
	"$bin" "$c" --help | sed -n '/^options:/,/^examples:/p' | grep -oE -- '--[a-z][a-z-]*' | sort -u >"$work/listed"
	bad="" refused_here=0
	while read -r long short arg; do
		listed=0
		grep -qx -- "$long" "$work/listed" && listed=1
		[ $listed = 0 ] && [ -n "${refused_somewhere[$long]:-}" ] && [ $refused_here = 1 ] && continue
		for o in $long $short; do
			[ "$o" = - ] && continue
			if [ "$arg" = - ]; then out=$("$bin" "$c" "$o" --help 2>&1); else out=$("$bin" "$c" "$o" 1 --help 2>&1); fi
			if [ $listed = 1 ]; then
				grep -q "does not apply\|unknown option" <<<"$out" && bad="$bad $o(refused)"
			else
				grep -q "option $o does not apply to '$c' (it is an option of: [a-z, ]*)" <<<"$out" || bad="$bad $o(taken)"
				refused_somewhere[$long]=1 refused_here=1
			fi
		done
	done <"$work/all-options"
	if [ -z "$bad" ]; then pass=$((pass + 1)); else echo "FAIL $c: options taken or refused unlike its --help:$bad"; fail=$((fail + 1)); fi
done
check "an option of another command names it" 2 "option --interface does not apply to 'report' \(it is an option of: live\)" "$bin" report -d "$db" --interface eth0
check "a short option of other commands names them" 2 "option -d does not apply to 'check' \(it is an option of: audit, live, combine, report, query, timeline, diff, extract\)" "$bin" check -s $S -d "$db"
check "a foreign option is refused before anything runs" 2 "option --run does not apply to 'diff' \(it is an option of: report, query, timeline, combine\)" "$bin" diff -d "$db" --run 1 1 2
echo "cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
