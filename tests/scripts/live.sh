#!/usr/bin/env bash
# Integration test of `smaudit live` on a veth pair between two network
# namespaces made here (198.18.0.0/15 and fd00::/8, no default route; nothing
# leaves them).  Site A runs real clients, site B real listeners on the SM-as
# ports behind nftables: 11105 dropped, 3260 rejected with a TCP reset.
# smaudit captures on A's end of the veth.  Checks the verdicts ok / no-answer /
# rejected and one unexpected flow, JSON lines, interim report, the ring files,
# the dropped user id of the parsing process, and a kill -9 mid-run.
# Usage: live.sh SMAUDIT_BINARY TRAFFIC_PY
set -u
BIN=$(readlink -f "$1")
T="python3 $(readlink -f "$2")"
A=smlt-a$$ B=smlt-b$$
. "$(dirname "$0")/netns.sh"
net_need nft python3 sqlite3
net_work live
net_ns $A $B
net_veth $A va $B vb
ip -n $A addr add 198.18.1.11/24 dev va; ip -n $B addr add 198.18.1.21/24 dev vb
ip netns exec $B nft add table inet fw || skip "nftables is not usable in a namespace here"
ip netns exec $B nft add chain inet fw input_filter '{ type filter hook input priority 0; policy accept; }'
ip netns exec $B nft add rule inet fw input_filter tcp dport 11105 drop
ip netns exec $B nft add rule inet fw input_filter tcp dport 3260 reject with tcp reset
cat > "$W/site.conf" <<EOS
role ic-a 198.18.1.11
role ic-b 198.18.1.21
EOS
ip netns exec $B timeout 60 $T listen 3260 11104 11105 443 >/dev/null 2>&1 &
ip netns exec $A timeout 60 $T listen 11104 443 >/dev/null 2>&1 &
sleep 1


traffic() { # waits for its own clients only, never for smaudit
	local pids
	for i in 1 2; do
		pids=""
		ip netns exec $A $T connect 198.18.1.11 198.18.1.21 11104 & pids="$pids $!"
		ip netns exec $B $T connect 198.18.1.21 198.18.1.11 11104 & pids="$pids $!"
		ip netns exec $A $T connect 198.18.1.11 198.18.1.21 443 & pids="$pids $!"
		ip netns exec $A $T connect 198.18.1.11 198.18.1.21 3260 & pids="$pids $!"
		ip netns exec $A $T connect 198.18.1.11 198.18.1.21 11105 & pids="$pids $!"
		wait $pids
	done
	ip netns exec $A $T connect 198.18.1.11 198.18.1.21 23 || true # unexpected
}

# --- a full run: verdicts, JSON lines, interim report, ring, dropped uid ---
ip netns exec $A "$BIN" live -s "$W/site.conf" -i va -d "$W/live.db" --duration 24 \
	--alert-after 2 --checkpoint 1 --report-every 2 -o "$W/report.json" --format json \
	--json-lines -w "$W/ring" --ring-size 1 -Z nobody >"$W/lines" 2>"$W/err" &
LIVE=$!
sleep 2
uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' /proc/$LIVE/status 2>/dev/null)
nobody=$(id -u nobody)
check "the parsing process runs as nobody (uid $nobody): /proc says '$uid'" \
	test "$uid" = "$nobody $nobody $nobody $nobody"
traffic >/dev/null 2>&1
sleep 3
interim() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["run"]; sys.exit(r["packets"] == 0)' "$1"; }
check "an interim report with the packets so far is written while the run goes on" interim "$W/report.json"
wait $LIVE
rc=$?
check "live exits 1 (findings), got $rc" test $rc = 1
cat "$W/err" | sed 's/^/     stderr: /' | head -20
python3 - "$W/report.json" "$W/lines" <<'PY' || fails=$((fails + 1))
import json, sys
rep = json.load(open(sys.argv[1]))
want = {
    ("198.18.1.11", "198.18.1.21", 11104): "ok",
    ("198.18.1.21", "198.18.1.11", 11104): "ok",
    ("198.18.1.11", "198.18.1.21", 11105): "no-answer",
    ("198.18.1.11", "198.18.1.21", 3260): "rejected",
}
got = {}
for e in rep["expected"]:
    key = (e["src"] or e.get("hint_src"), e["dst"] or e.get("hint_dst"), e["port"])
    got[key] = e["verdict"]
bad = 0
for k, v in want.items():
    ok = got.get(k) == v
    print(("ok  " if ok else "FAIL") + " - verdict %s -> %s:%d is %s (got %s)" % (k[0], k[1], k[2], v, got.get(k)))
    bad += not ok
unx = [u for u in rep["unexpected"] if u["port"] == 23]
print(("ok  " if unx else "FAIL") + " - telnet attempt listed as unexpected traffic")
bad += not unx
src = rep["run"]["sources"]
ok = src[0] == "live:va" and len(src) >= 2 and "/ring/smaudit-" in src[1]
print(("ok  " if ok else "FAIL") + " - the run's sources are live:va and its ring files: %s" % src)
bad += not ok
events = [json.loads(l) for l in open(sys.argv[2])]
kinds = {(e.get("verdict"), e.get("port")) for e in events if e["event"] == "finding"}
for need in [("no-answer", 11105), ("rejected", 3260), (None, 23)]:
    ok = need in kinds
    print(("ok  " if ok else "FAIL") + " - JSON line for %s on port %d" % (need[0] or "unexpected", need[1]))
    bad += not ok
ok = events[0]["event"] == "start" and events[-1]["event"] == "end"
print(("ok  " if ok else "FAIL") + " - JSON lines start with a start event and end with an end event")
bad += not ok
sys.exit(1 if bad else 0)
PY
check "the log names the no-answer as it happened" grep -q "NO-ANSWER.*11105" "$W/err"
check "the log names the reject as it happened" grep -q "REJECTED.*3260.*TCP reset" "$W/err"
n=$(ls "$W/ring" 2>/dev/null | wc -l)
check "the ring directory holds capture files ($n)" test "$n" -ge 1
"$BIN" audit -q -s "$W/site.conf" "$W/ring" >"$W/ring.txt" 2>&1
check "the ring files read back with smaudit audit and show the reject" grep -q "rejected.*3260" "$W/ring.txt"
check "the database is owned by nobody after the run" test "$(stat -c %U "$W/live.db")" = nobody
status=$(sqlite3 "$W/live.db" "SELECT status FROM runs ORDER BY id DESC LIMIT 1")
check "the run is stored complete (got $status)" test "$status" = complete

# --- SIGTERM is the normal end: flushed database, final report, exit status; a
# SIGINT 50 ms after it (a supervisor's TERM beside the terminal's Ctrl-C, or Ctrl-C
# pressed twice) is the same request, not a reason to drop what the end stores ---
ip netns exec $A "$BIN" live -s "$W/site.conf" -i va -d "$W/term.db" --checkpoint 60 \
	>"$W/term.txt" 2>"$W/err3" &
LIVE=$!
sleep 1.5
traffic >/dev/null 2>&1
sleep 1
kill -TERM $LIVE
sleep 0.05
kill -INT $LIVE
wait $LIVE
rc=$?
check "SIGTERM ends the run with exit 1 (findings), got $rc" test $rc = 1
check "SIGTERM prints the final report" grep -q "smaudit report, run 1 (live, complete)" "$W/term.txt"
check "the final report has the verdicts" grep -q "no-answer.*11105" "$W/term.txt"
n=$(sqlite3 "$W/term.db" "SELECT count(*) FROM sessions WHERE open = 0 AND dport = 11104")
check "every session is stored closed at the end ($n with port 11104)" test "$n" -ge 4
check "the default user as root is not root" grep -q "parsing as user" "$W/err3"

# --- --chroot: everything opened before, the run ends normally inside the jail ---
mkdir -p "$W/jail"
ip netns exec $A "$BIN" live -s "$W/site.conf" -i va -d "$W/jail.db" --duration 5 -Z nobody \
	--chroot "$W/jail" -o "$W/jail.txt" >/dev/null 2>"$W/err4" &
LIVE=$!
sleep 1.5
traffic >/dev/null 2>&1
wait $LIVE
rc=$?
check "a chrooted run ends with exit 1 (findings), got $rc" test $rc = 1
check "a chrooted run writes its final report" grep -q "smaudit report, run 1 (live, complete)" "$W/jail.txt"
status=$(sqlite3 "$W/jail.db" "SELECT status FROM runs")
check "a chrooted run is stored complete (got $status)" test "$status" = complete

# --- kill -9 mid-run: the last checkpoint survives ---
ip netns exec $A "$BIN" live -s "$W/site.conf" -i va -d "$W/kill.db" --checkpoint 1 -Z nobody \
	>/dev/null 2>"$W/err2" &
LIVE=$!
sleep 1.5
(ip netns exec $A timeout 20 python3 - <<'PY' &
import socket, time
s = socket.create_connection(("198.18.1.21", 11104), timeout=5)
s.sendall(b"held open\n")
time.sleep(15)
PY
) >/dev/null 2>&1
traffic >/dev/null 2>&1
sleep 3
kill -9 $LIVE
wait $LIVE 2>/dev/null
check "a killed database passes integrity_check" \
	test "$(sqlite3 "$W/kill.db" 'PRAGMA integrity_check')" = ok
n=$(sqlite3 "$W/kill.db" "SELECT count(*) FROM sessions WHERE dport IN (11104, 3260, 11105)")
check "sessions up to the last checkpoint are stored ($n of 9)" test "$n" -ge 9
n=$(sqlite3 "$W/kill.db" "SELECT count(*) FROM sessions WHERE open = 1")
check "sessions still open at the kill are stored as open ($n)" test "$n" -ge 1
"$BIN" report -d "$W/kill.db" >"$W/kill.txt" 2>&1
check "smaudit report marks the killed run interrupted" grep -q "live, interrupted" "$W/kill.txt"
check "the killed run still shows the reject" grep -q "rejected.*3260" "$W/kill.txt"

# --- killed before its first checkpoint: incomplete, exit 3, not 'not-seen' findings ---
# killed once its run is in the database (a busy machine may take more than a second
# to get there), seconds before its first checkpoint (10 s by default)
ip netns exec $A "$BIN" live --site "$W/site.conf" -i va -d "$W/early.db" >/dev/null 2>&1 &
EARLY=$!
for _ in $(seq 100); do
	[ -s "$W/early.db" ] && [ "$(sqlite3 "$W/early.db" 'SELECT count(*) FROM runs' 2>/dev/null)" = 1 ] && break
	sleep 0.1
done
kill -9 $EARLY
wait $EARLY 2>/dev/null
"$BIN" report -d "$W/early.db" >"$W/early.txt" 2>&1
rc=$?
check "a run killed before it stored a packet exits 3 (got $rc)" test $rc = 3
check "... and reads as interrupted and incomplete" grep -q "live, interrupted.*INCOMPLETE" <(tr '\n' ' ' <"$W/early.txt")

# --- killed right after a checkpoint that fell half a second after a SYN: that
# attempt's answer may have come after the checkpoint, so its no-answer (11105 is
# dropped: it never comes) says the end cut it, as the end of an audit would ---
packets() { sqlite3 "$W/late.db" 'SELECT packets FROM runs' 2>/dev/null; }
next_checkpoint() { # waits (up to 6 s) for runs.packets to differ from $1
	for _ in $(seq 120); do
		[ "$(packets)" != "$1" ] && [ -n "$(packets)" ] && return 0
		sleep 0.05
	done
	return 1
}
late_ok=0
for try in 1 2 3; do
	rm -f "$W/late.db"*
	ip netns exec $A "$BIN" live -q -s "$W/site.conf" -i va -d "$W/late.db" --checkpoint 2 \
		-Z nobody >/dev/null 2>&1 &
	LATE=$!
	for _ in $(seq 100); do [ -n "$(packets)" ] && break; sleep 0.1; done
	ip netns exec $A python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"m", ("198.18.1.21", 9))'
	next_checkpoint "$(packets)" # the checkpoint that holds the marker
	before=$(packets)
	sleep 1.5
	t_syn=$(date +%s.%N)
	ip netns exec $A timeout 5 $T connect 198.18.1.11 198.18.1.21 11105 >/dev/null 2>&1 &
	SYN=$!
	next_checkpoint "$before"
	kill -9 $LATE
	t_cp=$(date +%s.%N)
	wait $LATE 2>/dev/null
	wait $SYN 2>/dev/null
	# what the test is about: the last checkpoint holds the SYN, less than 1 s old
	# then (at most the time from before the SYN was sent to the kill)
	n=$(sqlite3 "$W/late.db" "SELECT count(*) FROM sessions WHERE dport = 11105")
	if [ "$n" = 1 ] && python3 -c "import sys; sys.exit(not float(sys.argv[2]) - float(sys.argv[1]) < 0.9)" "$t_syn" "$t_cp"; then
		late_ok=1
		break
	fi
	echo "     (try $try: $n SYN session(s) stored, $t_syn .. $t_cp; again)"
done
check "a SYN half a second before the last checkpoint of a killed run was caught there" test $late_ok = 1
"$BIN" report -d "$W/late.db" >"$W/late.txt" 2>&1
check "... its no-answer says the capture ended right after it, no firm drop" \
	grep -q "never answered (1 SYN sent): typical of a firewall that silently drops; but the capture ended less than 1 s after these attempts began" "$W/late.txt"

echo "$fails failure(s)"
[ $fails = 0 ]
