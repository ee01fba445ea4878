#!/usr/bin/env bash
# The PostgreSQL store (issue 20, SPEC section 7): a real server from Debian's
# postgresql package, started in a temporary directory (as nobody when run as
# root), on a Unix socket only with trust auth, stopped and removed at the end.
# - every golden capture audited into SQLite and into PostgreSQL: the audit's
#   report, report (text, JSON, HTML), query (text, JSON, CSV), timeline, diff
#   and extract give the same output on both;
# - two audits at once into one PostgreSQL database: both runs and all their
#   sessions are there, with distinct ids;
# - a server that cannot be reached: "URI: could not connect: ...", the exit
#   status of a database error, no password printed.
# usage: pg.sh SMAUDIT   (from the repository root)
set -u
bin=$(readlink -f "$1")
. "$(dirname "$0")/pgserver.sh"
if ! pg_have; then
	echo "SKIP: no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb, postgres):" \
		"install the postgresql package (scripts/deps.sh --test)"
	exit 77
fi
work=$(mktemp -d)
trap 'pg_stop; rm -rf "$work"' EXIT
pg_start "$work" -c fsync=off || exit 1
pg_createdb golden
pg=$(pg_uri golden)
lite=$work/golden.db
fail=0 pass=0
# same NAME: runs CMD... on both databases (DB in CMD stands for the database)
# and compares standard output and exit status; the database's name and the
# extract's output file are the only differences allowed.
same() {
	local name=$1 a b ra rb
	shift
	a=$("${@//DB/"$lite"}" 2>&1)
	ra=$?
	b=$("${@//DB/"$pg"}" 2>&1)
	rb=$?
	a=${a//"$lite"/DB}
	b=${b//"$pg"/DB}
	b=${b//"${pg//&/"&amp;"}"/DB} # in HTML
	b=${b//"'DB'"/DB}                # quoted for a shell (the URI's ? and &), in HTML's hints
	if [ $ra != $rb ]; then
		echo "FAIL $name: exit $ra on SQLite, $rb on PostgreSQL"
		printf '%s\n' "$b" | head -5
		fail=$((fail + 1))
	elif [ -z "$a" ] || ! diff -u <(printf '%s\n' "$a") <(printf '%s\n' "$b") >"$work/diff"; then
		echo "FAIL $name: output differs between SQLite and PostgreSQL (or is empty)"
		head -20 "$work/diff"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
}
cases=(
	"pcaps/site.conf pcaps/healthy.pcap"
	"pcaps/site.conf pcaps/dropped.pcap"
	"pcaps/site.conf pcaps/rejected.pcap"
	"pcaps/site.conf pcaps/unexpected.pcap"
	"pcaps/site.conf pcaps/mediator-down.pcap"
	"pcaps/site.conf pcaps/vlan.pcap"
	"pcaps/site.conf pcaps/qinq.pcap"
	"pcaps/site6.conf pcaps/ipv6.pcap"
	"pcaps/site.conf pcaps/dropped.pcap pcaps/unexpected.pcap"
	"pcaps/site.conf pcaps/mismatch.pcap"
	"pcaps/site.conf pcaps/outage.pcap"
	"pcaps/iscsi-real.conf pcaps/iscsi-real.pcap"
	# two sensors: sightings, sensors and the located verdicts
	"pcaps/site.conf --sensor site-a=pcaps/sensors/wan-drop-site-a.pcap --sensor site-b=pcaps/sensors/wan-drop-site-b.pcap"
	"pcaps/site.conf --sensor site-b=pcaps/sensors/clock-site-b.pcap --sensor site-a=pcaps/sensors/clock-site-a.pcap"
)
run=0
for c in "${cases[@]}"; do
	set -- $c
	site=$1
	shift
	run=$((run + 1))
	same "audit $*" "$bin" audit -q -s "$site" -d DB "$@"
	for f in text json html; do
		same "report --run $run --format $f" "$bin" report -d DB --run $run --format $f
	done
	for f in text json csv; do
		same "query --run $run --format $f" "$bin" query -d DB --run $run --format $f
	done
	same "query --run $run --class unexpected" "$bin" query -d DB --run $run --class unexpected --format csv
	same "timeline --run $run" "$bin" timeline -d DB --run $run --gap 1
	[ $run -gt 1 ] && same "diff $((run - 1)) $run" "$bin" diff -d DB $((run - 1)) $run
done
# combine: runs of one sensor each, stored apart, made one located verdict
P=pcaps/sensors
same "audit site-a alone" "$bin" audit -q -s pcaps/site.conf -d DB --sensor site-a=$P/wan-rst-site-a.pcap
same "audit site-b alone" "$bin" audit -q -s pcaps/site.conf -d DB --sensor site-b=$P/wan-rst-site-b.pcap
same "combine" "$bin" combine -s pcaps/site.conf -d DB --run $((run + 1)) --run $((run + 2))
same "report of the combined run" "$bin" report -d DB --run $((run + 3)) --format json
same "report --list" "$bin" report -d DB --list
same "query --host" "$bin" query -d DB --run 2 --host 198.18.1.11 --port 11104 --format csv
# extract: the same packets into the same file, and the same evidence row
for f in 1 2 3; do
	same "extract --finding $f" bash -c "rm -f '$work/x.pcap'; '$bin' extract -d 'DB' --finding $f -o '$work/x.pcap' --from pcaps/ >/dev/null 2>&1; echo \$?; cksum <'$work/x.pcap'"
done
same "report after extract" "$bin" report -d DB --format json

# Two audits at once into one database: runs and session ids never collide.
pg_createdb conc
python3 bench/gen.py "$work/many.pcap" --sessions 20000 --concurrency 500 --seed 7 >/dev/null
"$bin" audit -q -s pcaps/site.conf -d "$work/many.db" "$work/many.pcap" >/dev/null 2>&1
want=$(sqlite3 "$work/many.db" "SELECT count(*) FROM sessions")
for r in 1 2; do
	"$bin" audit -q -s pcaps/site.conf -d "$(pg_uri conc)" "$work/many.pcap" >/dev/null 2>"$work/a.err" &
	a=$!
	"$bin" audit -q -s pcaps/site.conf -d "$(pg_uri conc)" "$work/many.pcap" >/dev/null 2>"$work/b.err" &
	b=$!
	wait $a
	ra=$?
	wait $b
	rb=$?
	[ $ra -le 1 ] && [ $rb -le 1 ] || { echo "FAIL concurrent audits, round $r: exits $ra, $rb"; cat "$work/a.err" "$work/b.err" | head; fail=$((fail + 1)); }
done
got=$(pg_psql conc -c "SELECT count(*), count(DISTINCT run_id), count(DISTINCT id) FROM sessions")
runs=$(pg_psql conc -c "SELECT count(*), count(DISTINCT id) FROM runs WHERE status = 'complete'")
per=$(pg_psql conc -c "SELECT DISTINCT count(*) FROM sessions GROUP BY run_id")
if [ "$got" = "$((4 * want))|4|$((4 * want))" ] && [ "$runs" = "4|4" ] && [ "$per" = "$want" ]; then
	pass=$((pass + 1))
else
	echo "FAIL concurrent audits: sessions, runs, ids = $got (want $((4 * want))|4|$((4 * want))), complete runs $runs, per run $per (want $want)"
	fail=$((fail + 1))
fi
# the same report as SQLite's but for the clock, the run and the finding ids
clean() { sed -E 's/"(started|finished)": *"[^"]*"//g; s/"(run|id|finding)": *[0-9]+//g; s/(run|finding) [0-9]+//g'; }
a=$("$bin" report -d "$work/many.db" --format json | clean)
b=$("$bin" report -d "$(pg_uri conc)" --run 3 --format json | clean)
[ "$a" = "$b" ] && pass=$((pass + 1)) || { echo "FAIL the report of a concurrent run differs from SQLite's"; diff <(echo "$a") <(echo "$b") | head; fail=$((fail + 1)); }

# A server that is not there: a clear error, a database error's exit, no password.
bad="postgresql://auditor:s3cret@127.0.0.1:1/smaudit"
out=$("$bin" report -d "$bad" 2>&1)
rc=$?
lite_rc=$(
	echo junk >"$work/junk.db"
	"$bin" report -d "$work/junk.db" >/dev/null 2>&1
	echo $?
)
if [ $rc = "$lite_rc" ] && [[ $out == *"postgresql://auditor@127.0.0.1:1/smaudit: could not connect: "* ]] &&
	[[ $out != *s3cret* ]]; then
	pass=$((pass + 1))
else
	echo "FAIL unreachable server: exit $rc (a database error exits $lite_rc): $out"
	fail=$((fail + 1))
fi
# live writes to PostgreSQL (tests/scripts/live-sensors.sh --pg): an unreachable
# server ends it at once, before any capture, with the password hidden
out=$("$bin" live -s pcaps/site.conf -i lo -d "$bad" --duration 1 2>&1)
rc=$?
if [ $rc = 3 ] && [[ $out == *"postgresql://auditor@127.0.0.1:1/smaudit: could not connect: "* ]] &&
	[[ $out != *s3cret* ]] && [[ $out != *"listening on"* ]]; then
	pass=$((pass + 1))
else
	echo "FAIL live -d URI: exit $rc: $out"
	fail=$((fail + 1))
fi
echo "pg: $pass passed, $fail failed"
[ $fail = 0 ]
