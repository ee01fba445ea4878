#!/usr/bin/env bash
# Benchmark: is auditing a capture hardly more than reading it, and does memory
# stay bounded by what is active?  Run from the repository root:
#
#   bench/run.sh [--quick] [--runs N] [--no-tshark] [--check | --check-memory]
#
# --check fails (exit 1) when a goal of speed or memory is missed.  Speed: the best
# `smaudit audit` at most 1.0x the best libpcap floor on large frames and 1.5x on
# small frames, at least 50x faster than tshark where tshark ran, and (as root)
# `smaudit live` dropping no more than `tcpdump -w /dev/null` on the same link at
# the fastest replay (bench/live-drops.sh: tcpreplay, then bench/blast.c, which must
# reach 400,000 new sessions a second).  --check-memory checks memory alone
# (ctest's bench_memory: speed on a shared CI machine says little).  Memory: peak
# RSS over 128 MB, or more
# than 1.2x when the capture has 4x the sessions or is cut into 200 rotated files; for a flood of unexpected SYNs
# with --max-sessions 10000, audit and report over 64 MB or more than 1.2x for 4x
# the flood, or over 64 MB for a scan from as many sources; as root, `live` under such a flood over 128 MB of its own memory, the
# kernel's capture ring aside: bench/live-mem.sh).
#
# Builds a Release smaudit (build-bench/) and the pcap-read floor (bench/floor.c),
# generates captures with bench/gen.py into bench/data/ (kept for later runs),
# then times, in one run and on a warm page cache, on a capture of large frames
# (replication) and one of small frames (many short sessions, 225 bytes a frame):
#   floor            a libpcap loop that only counts packets and bytes
#   raw-read         read() in 4 MB blocks walking the record headers, no libpcap:
#                    the least any reader of the file can do
#   smaudit          `smaudit audit` with the SQLite database on disk, payload checks on,
#                    its default threads (policy and store on a second thread with two
#                    cores or more)
#   smaudit-nopay    the same with --no-payload (no libnids, no recognisers)
#   smaudit-1thr     the same as smaudit with --threads 1 (everything on one thread)
#   tshark           `tshark -q -z conv,tcp`, the anchor users would otherwise reach for
# and prints seconds (median of N runs), the ratio to the floor, packets/s, MB/s,
# ns a packet and peak RSS; where perf can sample, where that time goes, stage by
# stage in ns a packet (bench/profile.sh); then the memory checks: peak RSS on a capture with 4x
# the sessions at the same concurrency, on floods of unexpected sessions, live.  Needs GNU time (/usr/bin/time, Debian package "time").
set -euo pipefail
cd "$(dirname "$0")/.."
QUICK=0 RUNS=5 TSHARK=1 CHECK=0 CHECK_TIME=0
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--runs) RUNS=$2; shift ;;
	--no-tshark) TSHARK=0 ;;
	--check) CHECK=1 CHECK_TIME=1 ;;
	--check-memory) CHECK=1 ;;
	*) echo "usage: bench/run.sh [--quick] [--runs N] [--no-tshark] [--check | --check-memory]" >&2; exit 2 ;;
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
	BIG_SESSIONS=8000 MEM_SESSIONS=10000 FLOOD=100000 SMALL_SESSIONS=20000
else
	BIG_SESSIONS=40000 MEM_SESSIONS=50000 FLOOD=250000 SMALL_SESSIONS=143000
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
# Small frames, the shape of a span port's everyday traffic: about 225 bytes a
# frame, 25 packets a session, up to 10,000 sessions open, 12% VLAN-tagged, 10%
# IPv6, 9% UDP (DNS, NTP).
SMALL=bench/data/small-$SMALL_SESSIONS.pcap
[ -s "$SMALL" ] || python3 bench/gen.py "$SMALL" --sessions $SMALL_SESSIONS --concurrency 10000 \
	--bulk-segments 32 --payload 330 --vlan-share 0.12 --udp-share 0.09 --pps 200000 --seed 11
gen "$MEM1" $MEM_SESSIONS 2 10000
gen "$MEM4" $((MEM_SESSIONS * 4)) 2 10000
# Unexpected traffic: SYNs to an intercluster LIF from ever new source ports, 7
# destination ports, 100,000 a second (a scan or SYN storm on a span port).
FLOOD1=bench/data/flood-$FLOOD.pcap
FLOOD4=bench/data/flood-$((FLOOD * 4)).pcap
flood() {
	[ -s "$1" ] || python3 tests/scripts/synflood.py "$2" "$1" --dst 198.18.1.11 --ports 7 \
		--pps 100000
}
flood "$FLOOD1" $FLOOD
flood "$FLOOD4" $((FLOOD * 4))
# a scan: every SYN from a source of its own, so every session is an aggregate
SCAN=bench/data/scan-$((FLOOD * 4)).pcap
[ -s "$SCAN" ] || python3 tests/scripts/synflood.py $((FLOOD * 4)) "$SCAN" --dst 198.18.1.11 \
	--distinct --pps 100000

db=$(mktemp -u /tmp/smaudit-bench.XXXXXX.db)
keep=$(mktemp -u /tmp/smaudit-bench.XXXXXX.db)
trap 'rm -f "$db" "$db"-wal "$db"-shm "$db.time" "$db.all" "$db.goals" "$keep" "$keep"-wal "$keep"-shm' EXIT
: >"$db.goals"

# once NAME CMD...: one timed run; appends "NAME seconds rssKB" to $db.all
once() {
	local name=$1; shift
	rm -f "$db" "$db"-wal "$db"-shm
	/usr/bin/time -o "$db.time" -f "%e %M" "$@" >/dev/null 2>&1 || true # exit 1 = findings
	echo "$name $(tail -1 "$db.time")" >>"$db.all"
}

# timing FILE GOAL: every contender on one capture, interleaved, then the table;
# appends to $db.goals whether smaudit kept within GOAL x the libpcap floor and
# 1/50 of tshark's time
timing() {
	local cap=$1 goal=$2 cap_stats pkts bytes
	cap_stats=$(build-bench/floor "$cap")
	pkts=${cap_stats%% packets*}
	bytes=$(echo "$cap_stats" | awk '{print $3}')
	echo "capture: $cap, $pkts packets, $((bytes / 1000000)) MB (wire bytes), $((bytes / pkts)) bytes a frame, $(($(stat -c %s "$cap") / 1000000)) MB file"
	cat "$cap" >/dev/null # warm the page cache for every contender alike
	: >"$db.all"
	# Contenders take turns, so a slower or faster moment of the machine hits all alike.
	for _ in $(seq "$RUNS"); do
		once floor build-bench/floor "$cap"
		once raw-read build-bench/floor --raw "$cap"
		once smaudit $BIN audit -q -s pcaps/site.conf -d "$db" "$cap"
		once smaudit-nopay $BIN audit -q --no-payload -s pcaps/site.conf -d "$db" "$cap"
		once smaudit-1thr $BIN audit -q --threads 1 -s pcaps/site.conf -d "$db" "$cap"
	done
	if [ $TSHARK = 1 ] && command -v tshark >/dev/null; then
		once tshark tshark -n -q -z conv,tcp -r "$cap"
	fi
	echo "best of $RUNS runs (median in brackets); ratios against the best of each floor:"
	awk -v p="$pkts" -v b="$bytes" -v goal="$goal" -v cap="$cap" -v goals="$db.goals" '
	{ n[$1]++; t[$1, n[$1]] = $2; if ($3 > m[$1]) m[$1] = $3; if (!($1 in order)) { order[$1] = ++k; name[k] = $1 } }
	END {
		printf "%-14s %8s %10s %8s %6s %12s %9s %7s %9s\n", "contender", "seconds", "(median)", "x floor", "x raw", "packets/s", "MB/s", "ns/pkt", "peak RSS"
		for (i = 1; i <= k; i++) {
			c = name[i]; best = 1e9
			for (x = 1; x <= n[c]; x++) if (t[c, x] < best) best = t[c, x]
			if (best <= 0) best = 0.01
			if (c == "floor") f = best
			if (c == "raw-read") r = best
		}
		for (i = 1; i <= k; i++) {
			c = name[i]; cnt = n[c]
			for (x = 1; x <= cnt; x++) v[x] = t[c, x]
			for (x = 1; x <= cnt; x++) for (y = x + 1; y <= cnt; y++) if (v[y] < v[x]) { z = v[x]; v[x] = v[y]; v[y] = z }
			best = v[1] > 0 ? v[1] : 0.01; med = v[int((cnt + 1) / 2)]
			printf "%-14s %8.2f %10s %8.2f %6.2f %12.0f %9.1f %7.0f %6.1f MB\n", c, best, "(" med ")", best / f, best / r, p / best, b / 1e6 / best, best * 1e9 / p, m[c] / 1024
			bestof[c] = best
		}
		s = bestof["smaudit"]
		ok = (s / f <= goal) ? "met" : "MISSED"
		printf("speed goal %s: smaudit %.2fx the libpcap floor on %s (goal %.1fx)\n", ok, s / f, cap, goal) >> goals
		if ("tshark" in bestof) {
			ok = (bestof["tshark"] / s >= 50) ? "met" : "MISSED"
			printf("speed goal %s: smaudit %.0fx faster than tshark on %s (goal 50x)\n", ok, bestof["tshark"] / s, cap) >> goals
		}
	}' "$db.all"
	if [ -x bench/profile.sh ]; then
		bench/profile.sh "$cap" || true # exit 77: no perf here, said on its own line
	fi
}

echo "== large frames (replication, full-size segments)"
timing "$BIG" 1.0
echo
echo "== small frames (many short sessions: ACKs, commands, polls, DNS)"
timing "$SMALL" 1.5
echo

# measure NAME CMD...: the peak RSS (KB) of one run
measure() {
	local name=$1; shift
	rm -f "$db" "$db"-wal "$db"-shm
	/usr/bin/time -o "$db.time" -f "%e %M" "$@" >/dev/null 2>&1 || true
	echo "$name $(tail -1 "$db.time")"
}

echo
m1=$(measure mem1 $BIN audit -q -s pcaps/site.conf -d "$db" "$MEM1")
m4=$(measure mem4 $BIN audit -q -s pcaps/site.conf -d "$db" "$MEM4")
r1=$(echo "$m1" | awk '{print $3}')
r4=$(echo "$m4" | awk '{print $3}')
awk -v a="$r1" -v b="$r4" -v s="$MEM_SESSIONS" 'BEGIN {
	printf "memory: %d sessions -> %.1f MB peak, %d sessions (same concurrency 2000) -> %.1f MB peak: x%.2f\n",
	s, a / 1024, s * 4, b / 1024, b / a }'
# the same capture rotated into 200 files (tcpdump -C): memory must not grow with files
ROT=bench/data/rotated-$MEM_SESSIONS
# (the stamp beside the directory says its cut was complete: a run stopped while
# cutting makes it again)
if [ ! -e "$ROT.done" ]; then
	rm -rf "$ROT"
	python3 tests/scripts/pcap-split.py "$MEM1" --parts 200 "$ROT" >/dev/null && touch "$ROT.done"
fi
nrot=$(find "$ROT" -type f | wc -l)
mr=$(measure rotated $BIN audit -q -s pcaps/site.conf -d "$db" "$ROT")
rr=$(echo "$mr" | awk '{print $3}')
awk -v a="$r1" -v b="$rr" -v n="$nrot" 'BEGIN {
	printf "memory: the same capture in %d rotated files -> %.1f MB peak: x%.2f of one file\n", n, b / 1024, b / a }'
# the flood: audit into a database kept for the report
flood_rss() { # capture -> "auditKB reportKB"
	rm -f "$keep" "$keep"-wal "$keep"-shm
	/usr/bin/time -o "$db.time" -f "%M" $BIN audit -q -s pcaps/site.conf --max-sessions 10000 \
		-d "$keep" "$1" >/dev/null 2>&1 || true
	local a; a=$(tail -1 "$db.time")
	/usr/bin/time -o "$db.time" -f "%M" $BIN report -d "$keep" >/dev/null 2>&1 || true
	echo "$a $(tail -1 "$db.time")"
	rm -f "$keep" "$keep"-wal "$keep"-shm
}
f1=$(flood_rss "$FLOOD1")
f4=$(flood_rss "$FLOOD4")
fs=$(flood_rss "$SCAN")
awk -v a="$f1" -v b="$f4" -v c="$fs" -v s="$FLOOD" 'BEGIN { split(a, x, " "); split(b, y, " "); split(c, z, " ")
	printf "unexpected flood (--max-sessions 10000): %d sessions -> audit %.1f MB, report %.1f MB; %d sessions -> audit %.1f MB, report %.1f MB: x%.2f\n",
	s, x[1] / 1024, x[2] / 1024, s * 4, y[1] / 1024, y[2] / 1024, y[1] / x[1]
	printf "a scan of %d sources, one session each: audit %.1f MB, report %.1f MB\n", s * 4, z[1] / 1024, z[2] / 1024 }'
live_kb=0 lrc=0
live_out=$(bash bench/live-mem.sh $BIN $((FLOOD * 3)) 2>&1) || lrc=$?
if [ $lrc = 0 ]; then
	echo "$live_out" | grep '^live:'
	live_kb=$(echo "$live_out" | awk '/^live-own-kb/ { print $2 }')
elif [ $lrc = 77 ]; then
	echo "live: not measured ($(echo "$live_out" | sed -n 's/^SKIP: //p'); run bench/run.sh as root)"
else
	echo "$live_out"
	echo "live: bench/live-mem.sh failed (exit $lrc)"
	live_kb=999999999
fi
# live drops against tcpdump's on the same link: a flood of new sessions and the
# small-frame capture, replayed as fast as tcpreplay goes (bench/live-drops.sh), then
# the flood and the small frames again as fast as bench/blast.c sends them (batched:
# past 400,000 new sessions a second where tcpreplay stops near 300,000)
cc -O2 -o build-bench/blast bench/blast.c
live_drops() { # label goal-rate live-drops arguments...
	local label=$1 goal=$2 drc=0 out
	shift 2
	out=$(bash bench/live-drops.sh "$@" 2>&1) || drc=$?
	if [ $drc = 0 ]; then
		echo "$out" | grep '^live:'
		echo "$out" | awk -v l="$label" -v g="$goal" '/^live-drops/ {
			ok = $3 <= $4 && $5 >= g
			printf("speed goal %s: live drops on %s (%s, slowest replay %d packets/s%s): smaudit %d, tcpdump %d (goal: no more than tcpdump)\n",
			ok ? "met" : "MISSED", $2, l, $5, g > 0 ? ", goal " g : "", $3, $4) }' >>"$db.goals"
	elif [ $drc = 77 ]; then
		echo "live drops ($label): not measured ($(echo "$out" | sed -n 's/^SKIP: //p'); run bench/run.sh as root)"
	else
		echo "$out"
		echo "speed goal MISSED: bench/live-drops.sh ($label) failed (exit $drc)" >>"$db.goals"
	fi
}
ROUNDS=$((QUICK == 1 ? 1 : 2))
live_drops tcpreplay 0 $BIN $ROUNDS "$FLOOD1" "$SMALL"
BLAST=build-bench/blast live_drops blast $((QUICK == 1 ? 0 : 400000)) $BIN $ROUNDS "$FLOOD4" "$SMALL"
if [ $CHECK = 1 ]; then
	awk -v a="$r1" -v b="$r4" -v r="$rr" -v f1="$f1" -v f4="$f4" -v fs="$fs" -v l="$live_kb" 'BEGIN { bad = b / a > 1.2 || a > 131072 || b > 131072 || r / a > 1.2
		split(f1, x, " "); split(f4, y, " "); split(fs, z, " ")
		floodbad = y[1] / x[1] > 1.2 || y[1] > 65536 || y[2] > 65536 || z[1] > 65536 || z[2] > 65536
		livebad = l > 131072
		print bad ? "memory goal MISSED" : "memory goal met"
		print floodbad ? "flood memory goal MISSED" : "flood memory goal met"
		print livebad ? "live memory goal MISSED" : "live memory goal met"
		exit bad || floodbad || livebad }' || CHECK=failed
	if [ $CHECK_TIME = 1 ]; then
		cat "$db.goals"
		if grep -q MISSED "$db.goals"; then CHECK=failed; fi
	fi
	if [ $CHECK = failed ]; then exit 1; fi
fi
