#!/usr/bin/env bash
# Database faults a user meets: a database they may not write, one another process
# holds locked, a corrupt file, a full disk, a schema from a newer smaudit.  Each must
# give a clear message and exit 3, leave earlier runs intact, and never present a
# half-written run as complete.   usage: dbfaults.sh SMAUDIT   (from the repository root)
set -u
bin=$(readlink -f "$1")
work=$(mktemp -d)
chmod 755 "$work"
mnt=""
cleanup() { [ -n "$mnt" ] && umount "$mnt" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
pass=0 fail=0 skip=0
S=pcaps/site.conf
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
expect() { # name want-exit pattern command...
	local name=$1 want=$2 pat=$3
	shift 3
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -ne "$want" ]; then bad "$name: exit $rc, expected $want: $(echo "$out" | head -2)"
	elif ! grep -qE -- "$pat" <<<"$out"; then bad "$name: output lacks /$pat/: $(echo "$out" | head -2)"
	else ok; fi
}
runs() { sqlite3 "$1" "SELECT group_concat(id || ':' || status, ' ') FROM runs"; }

# --- a database the user may not write (root ignores permissions, so run as nobody) ---
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	db=$work/ro.db
	"$bin" audit -q -s $S -d "$db" pcaps/healthy.pcap >/dev/null
	chmod 644 "$db"
	as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }
	expect "read-only database: audit exits 3" 3 "ro.db: .*(readonly|read-only|unable to open)" \
		as_nobody "$bin" audit -q -s $S -d "$db" pcaps/healthy.pcap
	expect "read-only database: report still reads it" 0 "run 1 \(audit, complete\)" \
		as_nobody "$bin" report -d "$db"
	[ "$(runs "$db")" = "1:complete" ] && ok || bad "read-only database: runs now $(runs "$db")"
else
	echo "note: not root (or no setpriv): read-only database case skipped"; skip=$((skip + 1))
fi

# hold_lock DB SECONDS: another process keeps an exclusive lock (sets $holder)
hold_lock() {
	rm -f "$1.held"
	python3 - "$1" "$2" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[1] + ".held", "w").close()
time.sleep(float(sys.argv[2]))
c.execute("COMMIT")
PY
	holder=$!
	for _ in $(seq 50); do [ -e "$1.held" ] && break; sleep 0.1; done
}

# --- locked by another writer: waits up to 5 s, then gives up with exit 3 ---
db=$work/locked.db
"$bin" audit -q -s $S -d "$db" pcaps/healthy.pcap >/dev/null
hold_lock "$db" 8
expect "locked database: exit 3 after the busy timeout" 3 "locked.db: .*database is locked" \
	"$bin" audit -q -s $S -d "$db" pcaps/healthy.pcap
wait $holder
hold_lock "$db" 2
expect "briefly locked database: waits and succeeds" 0 "run 2 \(audit, complete\)" \
	"$bin" audit -q -s $S -d "$db" pcaps/healthy.pcap
wait $holder
[ "$(runs "$db")" = "1:complete 2:complete" ] && ok || bad "locked database: runs now $(runs "$db")"

# --- a corrupt file ---
db=$work/corrupt.db
"$bin" audit -q -s $S -d "$db" pcaps/healthy.pcap >/dev/null
size=$(stat -c %s "$db")
python3 - "$db" <<'PY'
import sys
f = open(sys.argv[1], "r+b")
for page in range(1, 6):  # the headers of the b-tree pages after the first
    f.seek(4096 * page)
    f.write(b"\xde\xad\xbe\xef" * 4)
PY
expect "corrupt database: audit exits 3" 3 "corrupt.db: .*(malformed|corrupt|not a database)" \
	"$bin" audit -q -s $S -d "$db" pcaps/healthy.pcap
expect "corrupt database: report exits 3" 3 "corrupt.db: .*(malformed|corrupt|not a database)" \
	"$bin" report -d "$db"

# --- a schema from a newer smaudit ---
db=$work/newer.db
"$bin" audit -q -s $S -d "$db" pcaps/healthy.pcap >/dev/null
sqlite3 "$db" "PRAGMA user_version = 99"
expect "newer schema: exit 3 and says so" 3 "schema version 99 is newer than this smaudit" \
	"$bin" audit -q -s $S -d "$db" pcaps/healthy.pcap

# --- a full disk: a 1 MB tmpfs ---
mnt=$work/full
mkdir "$mnt"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=1m tmpfs "$mnt" 2>/dev/null; then
	db=$mnt/full.db
	"$bin" audit -q -s $S -d "$db" pcaps/healthy.pcap >/dev/null
	python3 bench/gen.py "$work/many.pcap" --sessions 20000 --concurrency 500 --bulk-segments 1 >/dev/null
	expect "full disk: exit 3 with the reason" 3 "full.db: .*(disk is full|disk I/O error|no space)" \
		"$bin" audit -q -s $S -d "$db" "$work/many.pcap"
	st=$(runs "$db")
	case "$st" in
	"1:complete" | "1:complete 2:running") ok ;;
	*) bad "full disk: runs now '$st' (run 1 must stay complete, run 2 must not be complete)" ;;
	esac
	[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] && ok || bad "full disk: integrity_check fails"
	expect "full disk: the failed run reads as interrupted, exit 3 (nothing judged)" 3 "run 2 \(audit, interrupted\)" \
		"$bin" report -d "$db" --run 2
	umount "$mnt"
	mnt=""
else
	echo "note: tmpfs cannot be mounted here (needs root): full-disk case skipped"; skip=$((skip + 1))
fi
echo "dbfaults: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
