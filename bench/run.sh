#!/usr/bin/env bash
# Benchmark: is auditing a capture hardly more than reading it, and does memory
# stay bounded by what is active?  Run from the repository root:
#
#   bench/run.sh [--quick] [--runs N] [--no-tshark]
#
# Builds a Release smaudit (build-bench/) and the pcap-read floor (bench/floor.c),
# generates captures with bench/gen.py into bench/data/ (kept for later runs),
# then times, in one run and on a warm page cache:
#   floor            a libpcap loop that only counts packets and bytes
#   smaudit          `smaudit audit` with the SQLite database on disk, payload checks on
#   smaudit-nopay    the same with --no-payload (no libnids, no recognisers)
#   tshark           `tshark -q -z conv,tcp`, the anchor users would otherwise reach for
# and prints seconds (median of N runs), the ratio to the floor, packets/s, MB/s and
# peak RSS; then the memory check: peak RSS on a capture with 4x the sessions at the
# same concurrency.  Needs GNU time (/usr/bin/time, Debian package "time").
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0 RUNS=3 TSHARK=1
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--runs) RUNS=$2; shift ;;
	--no-tshark) TSHARK=0 ;;
	*) echo "usage: bench/run.sh [--quick] [--runs N] [--no-tshark]" >&2; exit 2 ;;
	esac
	shift
done
[ -x /usr/bin/time ] || { echo "bench: needs GNU time: apt-get install time" >&2; exit 2; }

cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSMAUDIT_TESTS=OFF >/dev/null
cmake --build build-bench -j2 >/dev/null
cc -O2 -o build-bench/floor bench/floor.c $(pkg-config --cflags --libs libpcap)
BIN=build-bench/smaudit
mkdir -p bench/data
if [ $QUICK = 1 ]; then
	BIG_SESSIONS=8000 MEM_SESSIONS=10000
else
	BIG_SESSIONS=40000 MEM_SESSIONS=50000
fi
gen() { # file sessions bulk-segments packets/s
	[ -s "$1" ] || python3 bench/gen.py "$1" --sessions "$2" --concurrency 2000 \
		--bulk-segments "$3" --pps "$4" --seed 7
}
BIG=bench/data/big-$BIG_SESSIONS.pcap
MEM1=bench/data/mem-$MEM_SESSIONS.pcap
MEM4=bench/data/mem-$((MEM_SESSIONS * 4)).pcap
# The memory captures run at 10,000 packets/s so that they last longer than the
# 5 s a closed TCP session waits for stragglers: then the table holds what is
# active (open plus lingering), not the whole capture.
gen "$BIG" $BIG_SESSIONS 40 80000
gen "$MEM1" $MEM_SESSIONS 2 10000
gen "$MEM4" $((MEM_SESSIONS * 4)) 2 10000

db=$(mktemp -u /tmp/smaudit-bench.XXXXXX.db)
trap 'rm -f "$db" "$db"-wal "$db"-shm "$db.time"' EXIT

# measure NAME CMD...: median wall seconds of RUNS runs, and the peak RSS (KB)
measure() {
	local name=$1; shift
	local times=() rss=0 out
	for _ in $(seq "$RUNS"); do
		rm -f "$db" "$db"-wal "$db"-shm
		/usr/bin/time -o "$db.time" -f "%e %M" "$@" >/dev/null 2>&1 || true # exit 1 = findings
		out=$(tail -1 "$db.time")
		times+=("${out% *}")
		[ "${out#* }" -gt "$rss" ] && rss=${out#* }
	done
	local med
	med=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	echo "$name $med $rss"
}

cap_stats=$(build-bench/floor "$BIG")
pkts=${cap_stats%% packets*}
bytes=$(echo "$cap_stats" | awk '{print $3}')
echo "capture: $BIG, $pkts packets, $((bytes / 1000000)) MB (wire bytes), $(($(stat -c %s "$BIG") / 1000000)) MB file"
cat "$BIG" >/dev/null # warm the page cache for every contender alike
results=()
results+=("$(measure floor build-bench/floor "$BIG")")
results+=("$(measure smaudit $BIN audit -q -s pcaps/site.conf -d "$db" "$BIG")")
results+=("$(measure smaudit-nopay $BIN audit -q --no-payload -s pcaps/site.conf -d "$db" "$BIG")")
if [ $TSHARK = 1 ] && command -v tshark >/dev/null; then
	results+=("$(RUNS=1 measure tshark tshark -n -q -z conv,tcp -r "$BIG")")
fi
floor=$(echo "${results[0]}" | awk '{print $2}')
printf '\n%-14s %9s %8s %12s %9s %9s\n' contender seconds "x floor" packets/s MB/s "peak RSS"
for r in "${results[@]}"; do
	set -- $r
	awk -v n="$1" -v t="$2" -v m="$3" -v f="$floor" -v p="$pkts" -v b="$bytes" 'BEGIN {
		if (t <= 0) t = 0.01
		printf "%-14s %9.2f %8.2f %12.0f %9.1f %7.1f MB\n", n, t, t / f, p / t, b / 1e6 / t, m / 1024 }'
done

echo
m1=$(measure mem1 $BIN audit -q -s pcaps/site.conf -d "$db" "$MEM1")
m4=$(measure mem4 $BIN audit -q -s pcaps/site.conf -d "$db" "$MEM4")
r1=$(echo "$m1" | awk '{print $3}')
r4=$(echo "$m4" | awk '{print $3}')
awk -v a="$r1" -v b="$r4" -v s="$MEM_SESSIONS" 'BEGIN {
	printf "memory: %d sessions -> %.1f MB peak, %d sessions (same concurrency 2000) -> %.1f MB peak: x%.2f\n",
	s, a / 1024, s * 4, b / 1024, b / a }'
