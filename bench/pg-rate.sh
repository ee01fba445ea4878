#!/usr/bin/env bash
# How fast audits write sessions into PostgreSQL, against SQLite: one audit into
# an SQLite file, one into PostgreSQL, two at once into one PostgreSQL database
# (sessions stored per second of wall-clock time, both together for two), and an
# audit into memory for what parsing alone costs.  The server is started here
# (tests/scripts/pgserver.sh) with its default settings (fsync on).
# usage: bench/pg-rate.sh [SESSIONS]   (from the repository root; default 100000)
set -eu
n=${1:-100000}
. tests/scripts/pgserver.sh
pg_have || { echo "no PostgreSQL server binaries: scripts/deps.sh --test"; exit 77; }
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSMAUDIT_TESTS=OFF >/dev/null
cmake --build build-bench -j2 >/dev/null
bin=$PWD/build-bench/smaudit
mkdir -p bench/data
cap=bench/data/rate-$n.pcap
[ -s "$cap" ] || python3 bench/gen.py "$cap" --sessions "$n" --concurrency 2000 \
	--bulk-segments 2 --pps 200000 --seed 7
work=$(mktemp -d)
trap 'pg_stop; rm -rf "$work"' EXIT
pg_start "$work"
pg_createdb one
pg_createdb two
now() { date +%s.%N; }
rate() { # label sessions start end
	awk -v l="$1" -v s="$2" -v a="$3" -v b="$4" \
		'BEGIN { printf "%-34s %8d sessions %7.2f s %9.0f sessions/s\n", l, s, b - a, s / (b - a) }'
}
audit() { "$bin" audit -q -s pcaps/site.conf "$@" "$cap" >/dev/null || [ $? = 1 ]; }
t0=$(now); audit; t1=$(now)
rate "in memory (no -d)" "$n" "$t0" "$t1"
t0=$(now); audit -d "$work/one.db"; t1=$(now)
rate "SQLite file" "$(sqlite3 "$work/one.db" 'SELECT count(*) FROM sessions')" "$t0" "$t1"
t0=$(now); audit -d "$(pg_uri one)"; t1=$(now)
rate "PostgreSQL, one audit" "$(pg_psql one -c 'SELECT count(*) FROM sessions')" "$t0" "$t1"
twice() { # label database, counted by the command after it
	local label=$1 db=$2 a b t0 t1
	shift 2
	t0=$(now)
	audit -d "$db" &
	a=$!
	audit -d "$db" &
	b=$!
	wait $a
	wait $b
	t1=$(now)
	rate "$label" "$("$@" 'SELECT count(*) FROM sessions')" "$t0" "$t1"
}
twice "PostgreSQL, two audits at once" "$(pg_uri two)" pg_psql two -c
twice "SQLite file, two audits at once" "$work/two.db" sqlite3 "$work/two.db"
