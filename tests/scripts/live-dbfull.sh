#!/usr/bin/env bash
# A full disk under the database must not stop a live capture (issue 17, section 3).
# In a network namespace made here (UDP on its loopback, 198.18.62.1 -> .2, no route
# out) and a private mount namespace (unshare -m), the database lives on a 2 MB
# tmpfs; 2 s into `smaudit live --checkpoint 1` a filler file takes all its space,
# 3000 UDP sessions (source ports 40000-42999) pass, and the filler is deleted:
# the fault and the recovery are logged once each, every session is stored, the
# run is complete and its report names the fault.  Then the same with the disk of
# the report (-o, --report-every 1) full for a while: interim reports fail, the
# capture goes on, the failure and the recovery are logged once each, and the
# final report is written.
# usage: live-dbfull.sh SMAUDIT   (root)
set -u
BIN=$(readlink -f "$1")
N=smdb-full
. "$(dirname "$0")/netns.sh"
net_need unshare mount python3 sqlite3
net_work dbfull
net_ns $N
ip -n $N addr add 198.18.62.1/32 dev lo
ip -n $N addr add 198.18.62.2/32 dev lo
unshare -m true 2>/dev/null || skip "mount namespaces are not permitted here"
printf 'role ic-a 198.18.62.1\nrole ic-b 198.18.62.2\n' >"$W/site.conf"
mkdir "$W/db"

ip netns exec $N unshare -m --propagation private bash -s "$BIN" "$W" <<'SH'
BIN=$1 W=$2
mount -t tmpfs -o size=2m tmpfs "$W/db" || exit 1
"$BIN" live -s "$W/site.conf" -i lo -d "$W/db/f.db" --checkpoint 1 --duration 14 --udp-timeout 1 \
	-Z root -o "$W/f.txt" --json-lines >"$W/f.lines" 2>"$W/f.err" &
live=$!
sleep 2
dd if=/dev/zero of="$W/db/filler" bs=4k 2>/dev/null
python3 - <<'PY'
import socket, time
for i in range(3000):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.62.1", 40000 + i))
    s.sendto(bytes(100), ("198.18.62.2", 9999))
    s.close()
    if i % 300 == 0:
        time.sleep(0.3)
PY
sleep 3
rm -f "$W/db/filler"
wait $live
echo $? >"$W/rc"
sqlite3 "$W/db/f.db" "SELECT status FROM runs" >"$W/status"
sqlite3 "$W/db/f.db" "SELECT count(DISTINCT sport) FROM sessions WHERE dport = 9999 AND sport BETWEEN 40000 AND 42999" >"$W/n"
sqlite3 "$W/db/f.db" "SELECT value FROM run_counters WHERE name = 'database-faults'" >"$W/faults"
SH
sed 's/^/     stderr: /' "$W/f.err" | grep -v UNEXPECTED | cut -c1-200
rc=$(cat "$W/rc" 2>/dev/null)
check "the run ends normally (exit 1: unexpected UDP, missing flows), got $rc" test "$rc" = 1
check "stderr names the full disk once" test "$(grep -c 'DATABASE UNAVAILABLE: .*disk is full' "$W/f.err")" = 1
check "stderr names the recovery once" test "$(grep -c 'DATABASE BACK after' "$W/f.err")" = 1
check "JSON lines: an unavailable and a back event" \
	test "$(grep -o '"state": "[a-z]*"' "$W/f.lines" | tr '\n' ' ')" = '"state": "unavailable" "state": "back" '
check "every one of the 3000 sessions is stored (got $(cat "$W/n"))" test "$(cat "$W/n")" = 3000
check "the run is stored complete" test "$(cat "$W/status")" = complete
check "the run counts one database fault" test "$(cat "$W/faults")" = 1
check "the report names the fault" grep -q "WARNING  the database was unavailable 1 time(s)" "$W/f.txt"

# --- the report's disk full: interim reports fail, the capture goes on ---
mkdir "$W/out"
ip netns exec $N unshare -m --propagation private bash -s "$BIN" "$W" <<'SH'
BIN=$1 W=$2
mount -t tmpfs -o size=1m tmpfs "$W/out" || exit 1
"$BIN" live -s "$W/site.conf" -i lo -d "$W/r.db" --checkpoint 1 --report-every 1 --duration 12 \
	--udp-timeout 1 -Z root -o "$W/out/r.txt" --json-lines >"$W/r.lines" 2>"$W/r.err" &
live=$!
sleep 2
dd if=/dev/zero of="$W/out/filler" bs=4k 2>/dev/null
python3 - <<'PY'
import socket, time
for i in range(1000):  # a destination port each: the report grows past the disk
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.62.1", 50000 + i))
    s.sendto(bytes(100), ("198.18.62.2", 20000 + i))
    s.close()
    if i % 100 == 0:
        time.sleep(0.2)
PY
sleep 3
rm -f "$W/out/filler"
wait $live
echo $? >"$W/r.rc"
cp "$W/out/r.txt" "$W/r.final"
sqlite3 "$W/r.db" "SELECT status FROM runs" >"$W/r.status"
sqlite3 "$W/r.db" "SELECT count(DISTINCT dport) FROM sessions WHERE dport BETWEEN 20000 AND 20999" >"$W/r.n"
SH
sed 's/^/     stderr: /' "$W/r.err" | grep -v UNEXPECTED | cut -c1-200
rc=$(cat "$W/r.rc" 2>/dev/null)
check "report disk full: the run ends normally (exit 1), got $rc" test "$rc" = 1
check "report disk full: stderr names the failed interim report once" \
	test "$(grep -c 'INTERIM REPORT NOT WRITTEN: .*No space left on device' "$W/r.err")" = 1
check "report disk full: stderr names the report written again once" \
	test "$(grep -c 'REPORT WRITTEN again' "$W/r.err")" = 1
check "report disk full: JSON lines: a failed and a written report event" \
	test "$(grep '"event": "report"' "$W/r.lines" | grep -o '"state": "[a-z]*"' | tr '\n' ' ')" = '"state": "failed" "state": "written" '
check "report disk full: all 1000 sessions stored (got $(cat "$W/r.n"))" test "$(cat "$W/r.n")" = 1000
check "report disk full: the run is stored complete" test "$(cat "$W/r.status")" = complete
check "report disk full: the final report is whole" grep -q "UNEXPECTED TRAFFIC ON MONITORED ROLES (1000)" "$W/r.final"
# loopback: libpcap's received count holds every packet twice; nothing is lost
check "nothing is reported dropped on loopback ($(grep -o '"dropped": [0-9]*' "$W/r.lines"))" \
	grep -q '"event": "end".*"dropped": 0,' "$W/r.lines"
check "... and the report says no DROPPED" test "$(grep -c DROPPED "$W/r.final")" = 0

echo "$fails failure(s)"
[ $fails = 0 ]
