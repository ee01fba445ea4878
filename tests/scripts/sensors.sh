#!/usr/bin/env bash
# Several capture points (SPEC section 7) on the two-sensor captures of
# pcaps/make-sensors.sh (real Linux TCP stacks, site A - WAN - site B, a capture at
# each site's router): what each sensor saw against tshark's reading of the same
# file, one session per conversation, located verdicts (where packets stopped),
# clocks, time coverage, bad input, and `combine` of stored runs.
# usage: sensors.sh SMAUDIT      (run from the repository root)
set -u
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/check.sh" # check NAME EXIT PATTERN COMMAND...; pass, fail
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
S=pcaps/site.conf
P=pcaps/sensors
two() { # scenario [first second]: --sensor arguments of both sites
	echo "--sensor ${2:-site-a}=$P/$1-${2:-site-a}.pcap --sensor ${3:-site-b}=$P/$1-${3:-site-b}.pcap"
}

# 1. What each sensor saw of each conversation is what tshark reads in its file.
"$bin" audit -q -s $S -d "$work/h.db" $(two healthy) >/dev/null
if command -v tshark >/dev/null; then
	for s in site-a site-b; do
		tshark -r $P/healthy-$s.pcap -Y tcp -T fields -e ip.src -e tcp.srcport -e ip.dst \
			-e tcp.dstport >"$work/tshark-$s" 2>/dev/null
		sqlite3 -separator ' ' "$work/h.db" "SELECT s.src, s.sport, s.dst, s.dport, g.dir,
			g.packets FROM sessions s JOIN sightings g ON g.session_id = s.id
			WHERE s.proto = 'tcp' AND g.sensor = '$s'" >"$work/ours-$s"
		python3 - "$work/tshark-$s" "$work/ours-$s" <<'PY' && ok || bad "sightings at $s differ from tshark"
import collections, sys
want = collections.Counter(tuple(l.split()) for l in open(sys.argv[1]) if l.strip())
have = collections.Counter()
for l in open(sys.argv[2]):
    src, sp, dst, dp, d, n = l.split()
    have[(src, sp, dst, dp) if d == "fwd" else (dst, dp, src, sp)] += int(n)
if want != have or not want:
    print("tshark", sorted(want.items())[:5], "ours", sorted(have.items())[:5])
    sys.exit(1)
PY
	done
else
	echo "SKIP tshark comparison: tshark is not installed (scripts/deps.sh --test)"
fi
# one session per conversation, its packets counted once: each direction as many
# as the sensor that saw most of it (nothing was lost in the healthy run)
n=$(sqlite3 "$work/h.db" "SELECT count(*) FROM sessions s WHERE s.pkts_fwd <>
	(SELECT max(packets) FROM sightings g WHERE g.session_id = s.id AND g.dir = 'fwd')")
[ "$n" = 0 ] && ok || bad "$n sessions count their packets more than once"
one=$("$bin" audit -q -s $S -d "$work/a.db" $P/healthy-site-a.pcap >/dev/null;
	sqlite3 "$work/a.db" "SELECT count(*) FROM sessions")
both=$(sqlite3 "$work/h.db" "SELECT count(*) FROM sessions WHERE id IN
	(SELECT session_id FROM sightings WHERE sensor = 'site-a')")
[ "$one" = "$both" ] && ok || bad "site-a alone has $one sessions, $both with both sensors"

# 2. Located verdicts, read from the JSON report.
located() { # scenario expect-exit python-check [sensor order]
	local sc=$1 want=$2 code=$3
	"$bin" audit -q -s $S --format json $(two $sc ${4:-} ${5:-}) >"$work/$sc.json"
	local rc=$?
	[ $rc -eq "$want" ] || bad "$sc: exit $rc, expected $want"
	python3 - "$work/$sc.json" "$code" <<'PY' && ok || bad "$sc ($4 $5): located verdicts"
import json, sys
r = json.load(open(sys.argv[1]))
side = lambda a: "site-a" if a.startswith("198.18.1.") else "site-b"
failing = [e for e in r["expected"] if e["verdict"] in ("no-answer", "rejected")]
for e in failing:
    ok = eval(sys.argv[2], {"e": e, "side": side})
    if not ok:
        print("wrong:", e.get("verdict"), e.get("src"), e.get("dst"), e.get("port"),
              e.get("lost_between"), e.get("path"))
        sys.exit(1)
if not failing and "healthy" not in sys.argv[1] and "clock" not in sys.argv[1]:
    sys.exit(1)
PY
}
# the WAN drops tcp/11105: seen at the initiator's site, never at the other
located wan-drop 1 'e["port"] == 11105 and e["lost_between"] == [side(e["src"]), side(e["dst"])]'
located wan-drop 1 'e["port"] == 11105 and e["lost_between"] == [side(e["src"]), side(e["dst"])]' site-b site-a
# B's edge drops tcp/11105 towards B: seen at both sensors, lost after site-b
located edge-drop 1 'e["src"].startswith("198.18.1.") and e["lost_between"] == ["site-b", e["dst"]]'
# the WAN resets 11104 towards B in B's name: made between the sensors
located wan-rst 1 'e["verdict"] == "rejected" and e["lost_between"] == ["site-a", "site-b"] and [p["resets"] for p in e["path"]] == [1, 0]'
# the WAN drops B's SYN-ACKs on 11105: the answer seen at site-b, never at site-a
located answer-drop 1 'e["port"] == 11105 and e["src"].startswith("198.18.1.") and e["lost_between"] == ["site-b", "site-a"]'
# the WAN refuses 3260 towards B with ICMP from its own address: between the sensors
located wan-icmp 1 'e["port"] == 3260 and e["verdict"] == "rejected" and e["lost_between"] == ["site-a", "site-b"]'
located healthy 0 'False'
located clock 0 'False'
check "a forged reset is named" 1 "made between site-a and site-b, not by 198\.18\.2\.1[12]" \
	"$bin" audit -q -s $S $(two wan-rst)
check "the WAN drop is named" 1 "SYN seen at site-a \(TTL 64, 3 sent\), never at site-b.*lost between site-a and site-b" \
	"$bin" audit -q -s $S $(two wan-drop)

check "HTML names the sensors" 1 "<dt>sensors</dt>" "$bin" audit -q -s $S --format html $(two wan-drop)
check "HTML locates the loss" 1 "lost between <span class=\"nw\">site-a</span> and" "$bin" audit -q -s $S --format html $(two wan-drop)
check "CSV locates the loss" 1 "^expected,.*,no-answer,.*lost between site-a and site-b" "$bin" audit -q -s $S --format csv $(two wan-drop)

# one sensor alone: a SYN-ACK never acknowledged is no answer (it used to pass for ok)
check "an unacknowledged SYN-ACK is no answer" 1 "no-answer tcp/11105 .*ic-a 198\.18\.1\.11 -> ic-b" \
	"$bin" audit -q -s $S $P/answer-drop-site-b.pcap
check "an unacknowledged SYN-ACK is explained" 1 "answered with SYN-ACK, never acknowledged \([0-9]+ SYN sent\): the answer does not reach 198\.18\.1\.1[12]" \
	"$bin" audit -q -s $S $P/answer-drop-site-b.pcap

# 3. Clocks: site-b 2.5 s ahead is corrected, and the verdicts are the healthy run's.
check "clock offset measured" 0 "site-b: 299 packets, clock corrected by -2\.50000[0-9] s" \
	"$bin" audit -q -s $S $(two clock)
diff <("$bin" audit -q -s $S $(two clock) | sed -n '/^COVERAGE/,$p') \
	<("$bin" audit -q -s $S $(two healthy) | sed -n '/^COVERAGE/,$p') >/dev/null &&
	ok || bad "2.5 s apart, the verdicts differ from the healthy run's"
# a sensor whose capture shares no packet with the other: said, never silently mixed
check "unmatched clock warned" 0 "warning: sensor other: no packet also seen by another sensor" \
	"$bin" audit -q -s $S --sensor site-a=$P/healthy-site-a.pcap --sensor other=pcaps/healthy.pcap
check "unmatched clock in the report" 0 "other: 334 packets, CLOCK NOT MATCHED" \
	"$bin" audit -q -s $S --sensor site-a=$P/healthy-site-a.pcap --sensor other=pcaps/healthy.pcap
check "unmatched clock in JSON" 0 '"name": "other", "packets": 334, "clock_known": false' \
	"$bin" audit -q -s $S --format json --sensor site-a=$P/healthy-site-a.pcap --sensor other=pcaps/healthy.pcap

# 4. A sensor that was not capturing when the attempts were made is not counted
# against them: site-b's capture ends before the 11105 attempts.
if command -v tcpdump >/dev/null; then
	tcpdump -r $P/wan-drop-site-b.pcap -c 150 -w "$work/short-b.pcap" 2>/dev/null
	out=$("$bin" audit -q -s $S --sensor site-a=$P/wan-drop-site-a.pcap --sensor site-b="$work/short-b.pcap")
	if grep -q "lost between site-a and site-b" <<<"$out" || ! grep -q "the only sensor capturing on its path then" <<<"$out"; then
		bad "a sensor that had stopped capturing is blamed"; grep -m2 11105 <<<"$out"
	else
		ok
	fi
	# a sensor that saw nothing at all between a pair is off its path, unless the site
	# file places it: `sensor site-b near ic-b`
	tcpdump -r $P/wan-drop-site-b.pcap -w "$work/no-11.pcap" 'not host 198.18.1.11' 2>/dev/null
	{ cat $S; echo "sensor site-b near ic-b"; } >"$work/near.conf"
	flow="no-answer tcp/11105  ic-a 198.18.1.11 -> ic-b 198.18.2.11"
	check "without 'near' the blind sensor is not blamed" 0 "the only sensor capturing on its path then" \
		bash -c "'$bin' audit -q -s $S --sensor site-a=$P/wan-drop-site-a.pcap --sensor site-b='$work/no-11.pcap' | grep -A2 '$flow'"
	check "'sensor site-b near ic-b' places it" 0 "never at site-b, which stands near 198\.18\.2\.11 \(site file: sensor site-b near ic-b\): lost between site-a and site-b" \
		bash -c "'$bin' audit -q -s '$work/near.conf' --sensor site-a=$P/wan-drop-site-a.pcap --sensor site-b='$work/no-11.pcap' | grep -A2 '$flow'"
else
	echo "SKIP time coverage: tcpdump is not installed (scripts/deps.sh --test)"
fi
check "one capture given to two sensors" 2 "wan-drop-site-a.pcap is the capture of sensor site-a and of sensor site-b: each sensor reads its own" \
	"$bin" audit -q -s $S --sensor site-a=$P/wan-drop-site-a.pcap --sensor site-b=$P/wan-drop-site-a.pcap
{ cat $S; echo "sensor site-b near nowhere"; } >"$work/bad1.conf"
check "'near' an undefined role" 2 "bad1.conf:10:20: sensor site-b is near role 'nowhere', which the file does not define" \
	"$bin" check -s "$work/bad1.conf"
{ cat $S; echo "sensor site-b beside ic-b"; } >"$work/bad2.conf"
check "'sensor' line checked" 2 "bad2.conf:10:1: expected 'sensor NAME near ROLE'" "$bin" check -s "$work/bad2.conf"

# 5. Bad input.
check "sensor name checked" 2 "a sensor's name is 1 to 63 letters" "$bin" audit -s $S --sensor 'a b=x.pcap'
check "sensor without a capture" 2 "expected NAME=CAPTURE" "$bin" audit -s $S --sensor site-a
check "stdin is no sensor's capture" 2 "stdin \(-\) cannot be a sensor's capture" \
	"$bin" audit -s $S --sensor a=- --sensor b=$P/healthy-site-b.pcap
check "live takes a name only" 2 "live takes only the sensor's name" "$bin" live -s $S -i lo --sensor a=x
check "one named sensor: named in the report" 1 "sensor   site-a: 299 packets, its clock is the reference" "$bin" audit -q -s $S --sensor site-a=$P/healthy-site-a.pcap
check "nine sensors" 2 "at most 8 sensors" "$bin" audit -s $S $(for i in 1 2 3 4 5 6 7 8 9; do echo --sensor s$i=$P/healthy-site-a.pcap; done)

# 5b. Where a loss is put when what the sensors saw is partial (sensorshapes.py): the
# sensor that saw the attempts is nearer its initiator than one that saw other
# conversations of the pair but not them; a sensor that sees only the responder's
# direction is not blamed for missing the initiator's SYNs.
python3 "$(dirname "$0")/sensorshapes.py" "$work/shapes" || bad "sensorshapes.py"
sh() { echo "--sensor site-a=$work/shapes/$1-site-a.pcap --sensor site-b=$work/shapes/$1-site-b.pcap"; }
check "loss placed by the sensor that saw the attempts" 1 \
	"SYN seen at site-b \(TTL 64, 3 sent\), never at site-a, which saw other packets between 198\.18\.2\.11 and 198\.18\.1\.12: lost between site-b and site-a" \
	"$bin" audit -q -s $S $(sh nearer-by-attempt)
check "a sensor of one direction is not blamed" 1 \
	"SYN seen at site-a \(TTL 64\), the only sensor that sees this way of its path, no answer seen: lost between site-a and 198\.18\.2\.12" \
	"$bin" audit -q -s $S $(sh one-way-sensor)
check "a sensor that began after the first attempt, capturing for the later ones, is on the path" 1 \
	"SYN seen at site-a \(TTL 64, 9 sent\), never at site-b, which saw other packets between 198\.18\.1\.11 and 198\.18\.2\.11: lost between site-a and site-b" \
	"$bin" audit -q -s $S $(sh late-sensor)

# 5c. extract of a session seen at both sensors, site-b's clock 2.5 s ahead: every
# packet its sightings count, on both sensors' clocks, none left out.
rm -f "$work/clk.db"
"$bin" audit -q -s $S -d "$work/clk.db" $(two clock) >/dev/null
want=$(sqlite3 "$work/clk.db" "SELECT sum(packets) FROM sightings WHERE session_id = 1")
check "extract across sensor clocks" 0 "^$want packet\(s\) of 1 session" \
	"$bin" extract -d "$work/clk.db" --session 1 -o "$work/clk1.pcap"

# 5d. extract of a finding seen at two sensors: every copy, the later sensor's copy of
# the last SYN too (the session's last_ts is the first sensor's)
rm -f "$work/edge.db"
"$bin" audit -q -s $S -d "$work/edge.db" --sensor site-a=$P/edge-drop-site-a.pcap \
	--sensor site-b=$P/edge-drop-site-b.pcap >/dev/null
if command -v tshark >/dev/null; then
	want=$(for s in a b; do tshark -r $P/edge-drop-site-$s.pcap -Y 'ip.src==198.18.1.11 && ip.dst==198.18.2.11 && tcp.dstport==11105' 2>/dev/null; done | wc -l)
	check "extract of a two-sensor finding: every sensor's copies ($want)" 0 "^$want packet\(s\) of 1 session" \
		"$bin" extract -d "$work/edge.db" --finding 1 -o "$work/edge1.pcap"
else
	echo "SKIP extract of a two-sensor finding against tshark: tshark is not installed"
fi

# 6. combine: runs of one sensor each, stored apart, give the audit's verdicts.
db=$work/central.db
"$bin" audit -q -s $S -d "$db" --sensor site-a=$P/wan-rst-site-a.pcap >/dev/null
"$bin" audit -q -s $S -d "$db" --sensor site-b=$P/wan-rst-site-b.pcap >/dev/null
check "combine of two runs" 1 "^smaudit report, run 3 \(combine, complete\)" \
	"$bin" combine -s $S -d "$db" --run 1 --run 2
strip() { sed -E -e '/^ *source /d' -e 's/run [0-9]+ \((audit|combine)/run N (x/' -e 's/\[finding [0-9]+\]//'; }
diff <("$bin" report -d "$db" --run 3 | strip) <("$bin" audit -q -s $S $(two wan-rst) | strip) &&
	ok || bad "combine and audit --sensor disagree"
check "combine needs two runs" 2 "combine needs two runs or more" "$bin" combine -s $S -d "$db" --run 1
check "combine refuses a combined run" 2 "run 3 already combines 2 sensors" \
	"$bin" combine -s $S -d "$db" --run 3 --run 1
check "combine refuses one sensor twice" 2 "runs name the sensor 'site-a' twice" \
	"$bin" combine -s $S -d "$db" --run 1 --run 1
cp $P/healthy-site-a.pcap "$work/gone.pcap"
"$bin" audit -q -s $S -d "$db" "$work/gone.pcap" >/dev/null
rm "$work/gone.pcap"
check "combine of a run whose files are gone" 3 "run 4 kept no capture file that can be read" \
	"$bin" combine -s $S -d "$db" --run 1 --run 4

# a run limited by -f or --until: combine reads its files whole, and says so
"$bin" audit -q -s $S -d "$work/lim.db" -f 'not port 11105' --sensor site-a=$P/wan-rst-site-a.pcap >/dev/null
"$bin" audit -q -s $S -d "$work/lim.db" --until 1796000000 --sensor site-b=$P/wan-rst-site-b.pcap >/dev/null 2>&1
"$bin" combine -s $S -d "$work/lim.db" --run 1 --run 2 >/dev/null 2>"$work/lim.err"
grep -q "run 1 was audited with -f 'not port 11105': combine reads every packet" "$work/lim.err" &&
	grep -q "run 2 read part of its files (--from, --until or -c): combine reads them whole" "$work/lim.err" &&
	ok || bad "combine of runs limited by -f or --until does not say it reads their files whole: $(cat "$work/lim.err")"

echo "sensors: $pass passed, $fail failed"
[ $fail -eq 0 ]
