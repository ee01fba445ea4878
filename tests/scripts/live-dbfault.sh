#!/usr/bin/env bash
# A database fault must not stop a live capture (issue 17, section 3).  A veth
# pair between two network namespaces made here (198.18.61.0/24, no default
# route); site A opens a TCP session to B's 11104 every 0.1 s while `smaudit
# live --checkpoint 1` captures on A's end.  Another process holds a write lock
# on the run's database (BEGIN EXCLUSIVE, as sqlite3 or a backup tool would):
#  1. taken mid-run, released 8 s later (longer than SQLite's busy wait of 5 s):
#     capture went on (an unexpected telnet attempt made during the lock is
#     logged during the lock, the sessions opened during the lock are all
#     stored), one JSON line and one stderr line for the fault and one for the
#     recovery, the run is complete with every session and its report mentions
#     the fault;
#  2. never released (taken before the first checkpoint with a packet): the run
#     ends with exit 3, the error in the report (-o);
#  3. more closed sessions during the lock than may wait in memory: the rest are
#     counted and reported as not stored.
# usage: live-dbfault.sh SMAUDIT TRAFFIC_PY   (root)
set -u
BIN=$(readlink -f "$1")
T="python3 $(readlink -f "$2")"
A=smdf-a B=smdf-b
. "$(dirname "$0")/netns.sh"
net_need python3 sqlite3
HOLDER=""
on_exit() { [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null; }
net_work dbfault
net_ns $A $B
net_veth $A va $B vb
ip -n $A addr add 198.18.61.11/24 dev va; ip -n $B addr add 198.18.61.21/24 dev vb
printf 'role ic-a 198.18.61.11\nrole ic-b 198.18.61.21\n' >"$W/site.conf"
ip netns exec $B timeout 120 $T listen 11104 >/dev/null 2>&1 &
sleep 1


# sessions SECONDS LOG: a session every 0.1 s; LOG gets "unix-time local-port" of each
sessions() {
	ip netns exec $A timeout $(($1 + 10)) python3 - "$1" "$2" <<'PY'
import socket, sys, time
end, log = time.time() + float(sys.argv[1]), open(sys.argv[2], "w")
while time.time() < end:
    t = time.time()
    try:
        s = socket.create_connection(("198.18.61.21", 11104), timeout=2, source_address=("198.18.61.11", 0))
        port = s.getsockname()[1]
        s.sendall(b"hello\n")
        s.recv(100)
        s.close()
        log.write("%.6f %d\n" % (t, port)); log.flush()
    except OSError:
        pass
    time.sleep(max(0, 0.1 - (time.time() - t)))
PY
}

# hold_lock DB SECONDS: another process holds the write lock; "$DB.held" and
# "$DB.freed" get the times it took and released it
hold_lock() {
	python3 - "$1" "$2" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[1] + ".held", "w").write("%.6f" % time.time())
time.sleep(float(sys.argv[2]))
c.execute("COMMIT")
open(sys.argv[1] + ".freed", "w").write("%.6f" % time.time())
PY
	HOLDER=$!
}

# --- 1. a lock taken mid-run and released: capture goes on, every session stored ---
db=$W/lock.db
ip netns exec $A "$BIN" live -s "$W/site.conf" -i va -d "$db" --checkpoint 1 --duration 20 \
	--json-lines -o "$W/lock.txt" -Z nobody >"$W/lock.lines" 2>"$W/lock.err" &
LIVE=$!
sleep 1.5
sessions 15 "$W/lock.log" &
GEN=$!
sleep 2.5
hold_lock "$db" 8
for _ in $(seq 50); do [ -e "$db.held" ] && break; sleep 0.1; done
sleep 1
ip netns exec $A timeout 5 $T connect 198.18.61.11 198.18.61.21 23 >/dev/null 2>&1 # refused
wait $HOLDER; HOLDER=""
wait $GEN
wait $LIVE
rc=$?
sed 's/^/     stderr: /' "$W/lock.err" | head -8
check "the run ends with exit 1 (the other expected flows are missing), got $rc" test $rc = 1
held=$(cat "$db.held" 2>/dev/null || echo 0) freed=$(cat "$db.freed" 2>/dev/null || echo 0)
made=$(wc -l <"$W/lock.log")
during=$(awk -v a="$held" -v b="$freed" '$1 > a + 0.3 && $1 < b - 0.3' "$W/lock.log" | wc -l)
check "the traffic made sessions while the lock was held ($during of $made)" test "$during" -ge 20
stored=$(sqlite3 "$db" "SELECT count(*) FROM sessions WHERE dport = 11104 AND open = 0
	AND first_ts > $held + 0.3 AND first_ts < $freed - 0.3")
check "capture went on during the lock: its $during sessions are stored (got $stored)" \
	test "$stored" = "$during"
stored=$(sqlite3 "$db" "SELECT count(*) FROM sessions WHERE dport = 11104 AND open = 0")
check "every session of the run is stored, closed ($made made, got $stored)" test "$stored" = "$made"
sqlite3 "$db" "SELECT sport FROM sessions WHERE dport = 11104" | sort -n >"$W/got"
awk '{print $2}' "$W/lock.log" | sort -n >"$W/made"
check "... each once: the stored client ports are those the traffic used" cmp -s "$W/made" "$W/got"
check "the run is stored complete" test "$(sqlite3 "$db" 'SELECT status FROM runs')" = complete
check "the capture dropped nothing" test "$(sqlite3 "$db" 'SELECT dropped FROM runs')" = 0
check "stderr names the fault once" test "$(grep -c 'DATABASE UNAVAILABLE: .*database is locked' "$W/lock.err")" = 1
check "stderr names the recovery once" test "$(grep -c 'DATABASE BACK after' "$W/lock.err")" = 1
python3 - "$W/lock.lines" "$held" "$freed" <<'PY' || fails=$((fails + 1))
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
db = [e for e in ev if e["event"] == "database"]
bad = 0
def check(what, ok):
    global bad
    print(("ok  " if ok else "FAIL") + " - " + what)
    bad += not ok
held, freed = float(sys.argv[2]), float(sys.argv[3])
t23 = [e["time"] for e in ev if e["event"] == "finding" and e.get("port") == 23]
check("capture went on: the telnet attempt made during the lock was logged during it "
      "(%s in %.1f .. %.1f)" % (t23, held, freed), len(t23) == 1 and held < t23[0] < freed)
check("JSON lines: one 'unavailable' then one 'back' database event (got %s)" % [e["state"] for e in db],
      [e["state"] for e in db] == ["unavailable", "back"])
if len(db) == 2:
    check("... the fault event names the lock: %s" % db[0]["error"], "locked" in db[0]["error"])
    down = db[1]["unavailable_s"]
    check("... the database was away about as long as the lock (%.1f s)" % down, 6 <= down <= 16)
end = ev[-1]
check("JSON lines end with the end event of a complete run", end["event"] == "end" and end["status"] == "complete")
sys.exit(1 if bad else 0)
PY
check "the report mentions the fault" \
	grep -q "WARNING  the database was unavailable 1 time(s), .* s in all: capture went on" "$W/lock.txt"
check "the report is of a complete run" grep -q "smaudit report, run 1 (live, complete)" "$W/lock.txt"
"$BIN" report -d "$db" --format json >"$W/lock.json" 2>&1
check "smaudit report --format json shows the fault as run.database" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["run"]["database"]
sys.exit(not (d["faults"] == 1 and d["stored"] and d["not_stored"] == 0 and d["unavailable_s"] > 2))' "$W/lock.json"

# --- 3. more closed sessions than may wait in memory: counted, reported, not kept ---
# 6000 UDP sessions (one datagram each, source ports 20000-25999) during the lock,
# closed by --udp-timeout 1 while it is held; at most 4096 rows wait
# (--max-sessions 2000 is below the ring's own 4096).
db=$W/bound.db
ip netns exec $A "$BIN" live -s "$W/site.conf" -i va -d "$db" --checkpoint 1 --duration 16 \
	--max-sessions 2000 --udp-timeout 1 --json-lines -o "$W/bound.txt" -Z nobody \
	>"$W/bound.lines" 2>"$W/bound.err" &
LIVE=$!
sleep 1.5
hold_lock "$db" 8
for _ in $(seq 50); do [ -e "$db.held" ] && break; sleep 0.1; done
ip netns exec $A python3 - <<'PY'
import socket
for i in range(6000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.61.11", 20000 + i))
    s.sendto(b"x", ("198.18.61.21", 9999))
    s.close()
PY
wait $HOLDER; HOLDER=""
wait $LIVE
rc=$?
check "a bounded backlog: the run ends normally (exit 1), got $rc" test $rc = 1
rows=$(sqlite3 "$db" "SELECT count(*) FROM sessions WHERE proto = 'udp' AND dport = 9999")
lost=$(sqlite3 "$db" "SELECT value FROM run_counters WHERE name = 'sessions-not-stored'")
dropped=$(sqlite3 "$db" "SELECT dropped FROM runs")
echo "     6000 UDP sessions: $rows stored, ${lost:-0} not stored, $dropped packets dropped"
check "... at most 4096 of them waited in memory, the rest counted as not stored" \
	test "${lost:-0}" -ge $((6000 - 4096 - dropped)) -a $((rows + ${lost:-0} + dropped)) -ge 6000
n=$(sqlite3 "$db" "SELECT count(DISTINCT sport) FROM sessions WHERE proto = 'udp' AND dport = 9999")
check "... none of those stored is stored twice ($n distinct of $rows)" test "$n" = "$rows"
check "... the report says how many sessions are not stored" \
	grep -q "WARNING  ${lost:-x} session(s) closed while the database was unavailable could not wait" "$W/bound.txt"
check "... the recovery line says some could not wait" grep -q "DATABASE BACK .*some could not wait" "$W/bound.err"

# --- 2. a lock never released: exit 3, the error in the report ---
db=$W/never.db
ip netns exec $A "$BIN" live -s "$W/site.conf" -i va -d "$db" --checkpoint 1 --duration 6 \
	-o "$W/never.txt" -Z nobody >/dev/null 2>"$W/never.err" &
LIVE=$!
sleep 0.5 # before the first checkpoint after the start: the last one stored holds no packet
hold_lock "$db" 60
sessions 4 "$W/never.log" &
GEN=$!
start=$(date +%s)
wait $LIVE
rc=$?
took=$(($(date +%s) - start))
wait $GEN
sed 's/^/     stderr: /' "$W/never.err" | head -8
check "a database that never comes back: exit 3, got $rc" test $rc = 3
check "... within the end grace (ended ${took} s after the lock)" test "$took" -le 20
check "... stderr says the run is not stored" grep -q "database did not come back: the run is not stored complete" "$W/never.err"
check "... the report says the database failed and did not come back" \
	grep -q "ERROR    the database failed and did not come back: .*database is locked" "$W/never.txt"
check "... and that it shows the last checkpoint" grep -q "this report is its last checkpoint" "$W/never.txt"
grep -q "this report is its last checkpoint" "$W/never.txt" || sed 's/^/     report: /' "$W/never.txt" | head -12
kill $HOLDER 2>/dev/null; wait $HOLDER 2>/dev/null; HOLDER=""

echo "$fails failure(s)"
[ $fails = 0 ]
