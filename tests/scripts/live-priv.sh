#!/usr/bin/env bash
# What is left to misuse once `smaudit live` parses packets (issue 17, section 4),
# on a veth pair between two network namespaces made here (198.18.0.0/15, no
# default route).  The parsing process holds no capability (root start with and
# without -Z, a non-root start with file capabilities), has no_new_privs and a
# seccomp filter, and still ends its run with the right report.  Files opened as
# root: a symbolic link or another user's file is refused, not written through;
# an existing ring directory the user cannot write is an error before capture.
# Usage: live-priv.sh SMAUDIT_BINARY TRAFFIC_PY
set -u
BIN=$(readlink -f "$1")
T="python3 $(readlink -f "$2")"
A=smlp-a$$ B=smlp-b$$
. "$(dirname "$0")/netns.sh"
net_need python3 setpriv sqlite3
id nobody >/dev/null 2>&1 || skip "no user nobody"
NOGROUP=$(id -gn nobody)

net_work priv
net_ns $A $B
net_veth $A pa $B pb
ip -n $A addr add 198.18.2.11/24 dev pa; ip -n $B addr add 198.18.2.21/24 dev pb
printf 'role ic-a 198.18.2.11\nrole ic-b 198.18.2.21\n' >"$W/site.conf"
ip netns exec $B timeout 280 $T listen 11104 >/dev/null 2>&1 &
sleep 1

# A field of /proc/PID/status over every thread (the SQLite writer too): the
# distinct values, space-separated.
field() { cat /proc/$2/task/*/status 2>/dev/null | awk -v k="$1:" '$1 == k {print $2}' | sort -u | xargs; }

# One live run of 4 s with one ok connection on 11104: while it runs, what
# /proc says of the parsing process; then its exit status and report.
# Usage: audited NAME REPORT PREFIX... -- OPTIONS...  (PREFIX runs smaudit, e.g. setpriv)
audited() {
	local name=$1 rep=$2; shift 2
	local pre=()
	while [ "$1" != -- ]; do pre+=("$1"); shift; done
	shift
	ip netns exec $A "${pre[@]}" live -s "$W/site.conf" -i pa --duration 4 -o "$rep" "$@" \
		>"$W/$name.out" 2>"$W/$name.err" &
	local pid=$!
	net_wait_for "$W/$name.err" "listening on" # privileges are dropped before it says so
	sleep 0.5
	local cap prm nnp sec threads
	cap=$(field CapEff $pid) prm=$(field CapPrm $pid) nnp=$(field NoNewPrivs $pid) sec=$(field Seccomp $pid)
	threads=$(ls /proc/$pid/task 2>/dev/null | wc -l)
	ip netns exec $A $T connect 198.18.2.11 198.18.2.21 11104 >/dev/null 2>&1
	wait $pid
	local rc=$?
	check "$name: no effective capability in any of its $threads threads (CapEff $cap)" test "$cap" = 0000000000000000
	check "$name: no permitted capability either (CapPrm $prm)" test "$prm" = 0000000000000000
	check "$name: no_new_privs is set ($nnp)" test "$nnp" = 1
	check "$name: a seccomp filter confines it (Seccomp $sec)" test "$sec" = 2
	check "$name: the run ends normally under the filter (exit 0 or 1, got $rc)" test $rc -le 1
	check "$name: the report is complete" grep -q "(live, complete)" "$rep"
	check "$name: the report has the connection on 11104 as ok" \
		grep -q "ok  tcp/11104  ic-a 198.18.2.11 -> ic-b 198.18.2.21" "$rep"
	[ $rc -le 1 ] || sed 's/^/     stderr: /' "$W/$name.err"
}

# --- capabilities, no_new_privs, seccomp: four ways to start ---
audited root-Z "$W/root-Z.report" "$BIN" -- -Z nobody -d "$W/z.db"
check "root-Z: the database and the report belong to nobody" \
	test "$(stat -c %U "$W/z.db" "$W/z.db-wal" "$W/root-Z.report" | sort -u)" = nobody
audited root-default "$W/root-default.report" "$BIN" --
audited root-kept "$W/root-kept.report" "$BIN" -- -Z root
mkdir "$W/bin" "$W/mine"
chown nobody "$W/mine"
cp "$BIN" "$W/bin/smaudit-caps"
chmod 755 "$W/bin/smaudit-caps"
if command -v setcap >/dev/null && setcap cap_net_raw,cap_net_admin+ep "$W/bin/smaudit-caps" 2>/dev/null; then
	audited file-caps "$W/mine/file-caps.report" setpriv --reuid=nobody --regid="$NOGROUP" \
		--clear-groups "$W/bin/smaudit-caps" -- -d "$W/mine/caps.db"
else
	echo "ok   - file-capabilities start not tried: setcap unavailable or refused here # SKIP"
fi

# --- files opened as root: never through a symbolic link, never another user's file ---
# The site is seen (a connection while it runs): a run that is not refused
# writes its report and database.
refused() { # description, expected message, options...
	local what=$1 msg=$2; shift 2
	(sleep 1; ip netns exec $A $T connect 198.18.2.11 198.18.2.21 11104) >/dev/null 2>&1 &
	ip netns exec $A "$BIN" live -q -s "$W/site.conf" -i pa --duration 2.5 -Z nobody "$@" \
		>/dev/null 2>"$W/refused.err"
	local rc=$?
	wait
	if [ $rc = 3 ] && grep -q -- "$msg" "$W/refused.err"; then
		echo "ok   - $what"
	else
		echo "FAIL - $what: exit $rc, wanted 3 and '$msg'"; sed 's/^/     /' "$W/refused.err"
		fails=$((fails + 1))
	fi
}
echo "precious" >"$W/victim"
ln -s "$W/victim" "$W/report-link.txt"
refused "-o through a symbolic link is refused" "report-link.txt: is a symbolic link" -o "$W/report-link.txt"
check "... and the file it points to is untouched" test "$(cat "$W/victim")" = precious
ln -s "$W/victim" "$W/db-link.db"
refused "-d through a symbolic link is refused" "db-link.db: is a symbolic link" -d "$W/db-link.db"
check "... and the file it points to is untouched" test "$(cat "$W/victim")" = precious
mkdir "$W/elsewhere"
ln -s "$W/elsewhere" "$W/ring-link"
refused "-w through a symbolic link is refused" "ring-link: is a symbolic link" -w "$W/ring-link"
check "... and the directory it points to is still root's and empty" \
	test "$(stat -c %U "$W/elsewhere")-$(ls "$W/elsewhere" | wc -l)" = root-0
ln "$W/victim" "$W/report-hard.txt"
refused "-o naming a file with other hard links is refused" "report-hard.txt: .*other hard links" -o "$W/report-hard.txt"
check "... and its content is untouched" test "$(cat "$W/victim")" = precious
echo "daemon's" >"$W/report-daemon.txt"
chown daemon "$W/report-daemon.txt"
refused "-o naming another user's file is refused" "report-daemon.txt: belongs to daemon" -o "$W/report-daemon.txt"
check "... and its content is untouched" test "$(cat "$W/report-daemon.txt")" = "daemon's"

# --- an existing ring directory the user cannot write: an error before capture ---
mkdir -m 755 "$W/root-ring"
refused "-w of root (mode 755) with -Z nobody is an error before capture" \
	"root-ring: user nobody could not write the ring files there" -w "$W/root-ring" -d "$W/ring.db"
check "... and no database was created" test ! -e "$W/ring.db"
ip netns exec $A "$BIN" live -q -s "$W/site.conf" -i pa --duration 1 -Z nobody -w "$W/new-ring" \
	>/dev/null 2>&1
check "a ring directory smaudit creates is given to nobody" test "$(stat -c %U "$W/new-ring")" = nobody

# --- the interface goes away mid-run: libpcap's own checks pass the filter ---
ip netns exec $A "$BIN" live -q -s "$W/site.conf" -i pa --duration 10 -Z nobody -d "$W/gone.db" \
	>/dev/null 2>"$W/gone.err" &
LIVE=$!
sleep 2
ip netns exec $A $T connect 198.18.2.11 198.18.2.21 11104 >/dev/null 2>&1
ip -n $A link del pa
wait $LIVE
check "an interface that disappears ends the capture with libpcap's message" \
	grep -q "capture stopped after .*The interface disappeared" "$W/gone.err"
check "... not with a system call the sandbox refused" \
	test "$(grep -c "refused system call" "$W/gone.err")" = 0
status=$(sqlite3 "$W/gone.db" "SELECT status FROM runs" 2>&1)
check "... and the run is stored interrupted (got $status)" test "$status" = interrupted

echo "$fails failure(s)"
[ $fails = 0 ]
