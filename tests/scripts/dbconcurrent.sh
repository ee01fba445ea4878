#!/usr/bin/env bash
# Two audits that create the same new database at the same moment: both runs must be
# stored (no "not written by smaudit", "table runs already exists" or "duplicate column
# name").  Tried ROUNDS times (default 25), each on a fresh file.
# usage: dbconcurrent.sh SMAUDIT   (from the repository root)
set -u
bin=$(readlink -f "$1")
rounds=${ROUNDS:-25}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 is not installed (scripts/deps.sh --test)"; exit 77; }
S=pcaps/site.conf
fail=0
for i in $(seq "$rounds"); do
	db=$work/new-$i.db
	"$bin" audit -q -s $S -d "$db" pcaps/healthy.pcap >/dev/null 2>"$work/a.err" &
	a=$!
	"$bin" audit -q -s $S -d "$db" pcaps/dropped.pcap >/dev/null 2>"$work/b.err" &
	b=$!
	wait $a; ra=$?
	wait $b; rb=$?
	n=$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status = 'complete'" 2>&1)
	if [ $ra -gt 1 ] || [ $rb -gt 1 ] || [ "$n" != 2 ]; then
		echo "FAIL round $i: exits $ra and $rb, $n complete run(s) stored"
		sed 's/^/     /' "$work/a.err" "$work/b.err" | head -6
		fail=$((fail + 1))
	fi
done
echo "dbconcurrent: $((rounds - fail)) of $rounds rounds stored both runs"
[ $fail = 0 ]
