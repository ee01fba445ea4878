#!/usr/bin/env bash
# --threads 2 against --threads 1: policy and store of the sessions that end, on a
# thread of their own, must change nothing a user sees.  Compared: the text report and
# messages, the exit status, `report --format json` and every database row
# (tests/scripts/dbrows.sh)
#   - on every bundled capture, the two-sensor captures included;
#   - on a generated capture of 3,000 short sessions (bench/gen.py: payloads of
#     every recognised kind, VLANs, IPv6, UDP), with the default table and with
#     --max-sessions 200, where sessions are evicted and their slots used again
#     while the second thread still stores them;
# and, built with ThreadSanitizer (build-tsan/), the same captures must show no
# data race.
# With --corpus DIR instead: every capture of ../shared/corpus (JSON report, exit
# status and rows), with a Release build of its own (build-threads/) for speed;
# exit 77 with a message where the corpus is missing.
# usage: tests/scripts/threads.sh SMAUDIT | --corpus DIR   (from the repository root)
set -u
. "$(dirname "$0")/dbrows.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

corpus_part() {
	local corpus=$1 rb=build-threads
	if [ ! -d "$corpus" ]; then
		echo "SKIP: no capture corpus at $corpus (it ships beside the repository in CI only)"
		exit 77
	fi
	cmake -S . -B $rb -DCMAKE_BUILD_TYPE=Release -DSMAUDIT_TESTS=OFF >/dev/null &&
		cmake --build $rb -j2 >/dev/null || { echo "FAIL: Release build"; exit 1; }
	printf 'role ic-a 0.0.0.0/1 ::/1\nrole ic-b 128.0.0.0/1 8000::/1\n' >"$work/site.conf"
	one() {
		local f=$1 w t
		w=$(mktemp -d -p "$work")
		for t in 1 2; do
			timeout 60 "$rbin" audit -q --threads $t -s "$work/site.conf" -d "$w/$t.db" \
				--format json "$f" >"$w/$t.json" 2>/dev/null
			echo "exit $?" >>"$w/$t.json"
			rows "$w/$t.db" >"$w/$t.rows" 2>/dev/null
		done
		if cmp -s "$w/1.json" "$w/2.json" && cmp -s "$w/1.rows" "$w/2.rows"; then
			echo "OK $f"
		else
			echo "DIFF $f"
		fi
		rm -rf "$w"
	}
	export -f one rows
	export work rbin=$rb/smaudit
	find "$corpus" -type f | sort | xargs -d '\n' -P 2 -n 1 bash -c 'one "$0"' >"$work/corpus"
	local total diffs
	total=$(wc -l <"$work/corpus")
	diffs=$(grep -c '^DIFF' "$work/corpus")
	grep '^DIFF' "$work/corpus" | head -20
	echo "threads: corpus: $total files, $((total - diffs)) the same, $diffs different"
	[ "$diffs" -eq 0 ] && [ "$total" -gt 0 ]
	exit
}
[ "$1" = --corpus ] && corpus_part "${2:-}"

bin=$1
pass=0 fail=0
# same NAME ARGS...: both thread counts, every output compared
same() {
	local name=$1 t f
	shift
	for t in 1 2; do
		rm -f "$work/t$t.db"*
		"$bin" audit -q --threads $t -d "$work/t$t.db" "$@" >"$work/t$t.txt" 2>"$work/t$t.err"
		echo "exit $?" >>"$work/t$t.txt"
		"$bin" report -d "$work/t$t.db" --format json >"$work/t$t.json" 2>&1
		rows "$work/t$t.db" >"$work/t$t.rows"
	done
	for f in txt err json rows; do
		if ! cmp -s "$work/t1.$f" "$work/t2.$f"; then
			echo "FAIL $name: $f differs between --threads 1 and --threads 2"
			diff "$work/t1.$f" "$work/t2.$f" | head -6
			fail=$((fail + 1))
			return
		fi
	done
	pass=$((pass + 1))
}
site_of() {
	case $1 in
	*ipv6*) echo pcaps/site6.conf ;;
	*iscsi-real*) echo pcaps/iscsi-real.conf ;;
	*) echo pcaps/site.conf ;;
	esac
}
for p in pcaps/*.pcap; do
	same "$p" -s "$(site_of "$p")" "$p"
done
for s in pcaps/sensors/*-site-a.pcap; do
	same "$s (two sensors)" -s pcaps/site.conf --sensor "site-a=$s" \
		--sensor "site-b=${s%-site-a.pcap}-site-b.pcap"
done
python3 bench/gen.py "$work/gen.pcap" --sessions 3000 --concurrency 600 --bulk-segments 8 \
	--payload 330 --vlan-share 0.12 --udp-share 0.09 --pps 200000 --seed 5 >/dev/null || exit 1
same "generated" -s pcaps/site.conf "$work/gen.pcap"
same "generated, --max-sessions 200" -s pcaps/site.conf --max-sessions 200 "$work/gen.pcap"
# the sessions really left the table early there: the comparison saw evictions
ev=$(sqlite3 "$work/t2.db" "SELECT evicted FROM runs")
if [ "${ev:-0}" -lt 1000 ]; then
	echo "FAIL generated: only ${ev:-0} sessions evicted with --max-sessions 200"
	fail=$((fail + 1))
fi
echo "threads: bundled and generated captures: $pass the same, $fail different"

# the default: a second thread where the process may use two cores or more, none
# on one (taskset) or with --threads 1.  A capture from a FIFO holds the run open
# (its header and first packet written, the writer still open) while the
# process's threads are named.
stage_threads() { # ARGS... -> how many threads named smaudit-stage the run had
	local fifo=$work/hold.pcap pid n i
	rm -f "$fifo" "$work/hold.db"*
	mkfifo "$fifo"
	"$@" audit -q -s pcaps/site.conf -d "$work/hold.db" "$fifo" >/dev/null 2>&1 &
	pid=$!
	exec 3>"$fifo"
	head -c 116 pcaps/rejected.pcap >&3 # the header and the first packet
	for i in $(seq 50); do              # up to 5 s for the run to open: the
		[ "$(ls /proc/$pid/task 2>/dev/null | wc -l)" -ge 2 ] && break # writer thread
		sleep 0.1
	done
	sleep 0.3 # the second thread starts right after the writer
	n=$(cat /proc/$pid/task/*/comm 2>/dev/null | grep -c '^smaudit-stage$')
	exec 3>&-
	wait $pid
	echo "$n"
}
cores=$(nproc)
want=$([ "$cores" -ge 2 ] && echo 1 || echo 0)
got=$(stage_threads "$bin")
if [ "$got" = "$want" ]; then pass=$((pass + 1)); else
	echo "FAIL default on $cores cores: $got policy and store threads, want $want"
	fail=$((fail + 1))
fi
got=$(stage_threads taskset -c 0 "$bin")
if [ "$got" = 0 ]; then pass=$((pass + 1)); else
	echo "FAIL default on one core (taskset -c 0): $got policy and store threads, want 0"
	fail=$((fail + 1))
fi
echo "threads: the default on $cores cores and on one checked"

# data races: a ThreadSanitizer build over the same captures
tb=build-tsan
cmake -S . -B $tb -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMAUDIT_TESTS=OFF \
	-DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null &&
	cmake --build $tb -j2 >/dev/null || { echo "FAIL: ThreadSanitizer build"; exit 1; }
races=0 runs=0
for c in "$work/gen.pcap" pcaps/*.pcap; do
	rm -f "$work/tsan.db"*
	TSAN_OPTIONS="halt_on_error=0 exitcode=0" $tb/smaudit audit -q --threads 2 \
		-s "$(site_of "$c")" -d "$work/tsan.db" --max-sessions 500 "$c" >/dev/null 2>"$work/tsan.err"
	runs=$((runs + 1))
	if grep -q "ThreadSanitizer" "$work/tsan.err"; then
		echo "FAIL $c: $(grep -m1 -A4 "WARNING: ThreadSanitizer" "$work/tsan.err")"
		races=$((races + 1))
	fi
done
echo "threads: ThreadSanitizer: $runs runs, $races with a data race"
[ $fail -eq 0 ] && [ $races -eq 0 ]
