#!/usr/bin/env bash
# Runs each libFuzzer target for a bounded time (FUZZ_SECONDS, default 60; run it
# longer by hand), seeded from pcaps/, the rules and site files, and ../shared/corpus
# when present.  Anything that crashes is copied to tests/fuzz/regress/TARGET/
# (commit it: the fuzz_regress test then runs it in every build) and the test fails.
# usage: tests/scripts/fuzz.sh [CORPUS_DIR]     (from the repository root; needs clang)
set -u
corpus=${1:-../shared/corpus}
secs=${FUZZ_SECONDS:-60}
command -v clang >/dev/null || { echo "SKIP: clang is not installed (scripts/deps.sh --test)"; exit 77; }
b=build-fuzz
CC=clang cmake -S . -B $b -DSMAUDIT_FUZZ=ON -DSMAUDIT_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null &&
	cmake --build $b -j2 >/dev/null || { echo "FAIL: the fuzz build failed"; exit 1; }
seeds=$b/seeds
rm -rf "$seeds"
caps=$(ls pcaps/*.pcap)
[ -d "$corpus" ] && caps="$caps $(find "$corpus" -type f -name '*.pcap' | sort | awk 'NR % 4 == 0')"
[ -d "$corpus" ] && caps="$caps $(find "$corpus" -type f -name '*.pcapng' | sort | awk 'NR % 2 == 0')"
python3 tests/fuzz/seeds.py "$seeds" $caps
mkdir -p "$seeds/config"
i=0
for r in rules/sm-as.rules; do
	for s in pcaps/site.conf pcaps/site6.conf; do
		{ cat "$r"; printf '\0'; cat "$s"; } >"$seeds/config/$i"
		i=$((i + 1))
	done
done
fail=0
for t in decode session config pcap pcapng; do
	mkdir -p tests/fuzz/regress/$t "$b/work-$t"
	dir=$seeds/$t
	echo "== fuzz_$t for $secs s"
	(cd "$b/work-$t" && ../fuzz_$t -max_total_time="$secs" -max_len=4096 -timeout=10 \
		-rss_limit_mb=1024 -print_final_stats=1 "../../$dir" ../../tests/fuzz/regress/$t \
		>log 2>&1)
	rc=$?
	grep -E "^stat::(number_of_executed_units|peak_rss_mb)|cov: " "$b/work-$t/log" | tail -3
	if [ $rc -ne 0 ]; then
		fail=1
		for c in "$b/work-$t"/crash-* "$b/work-$t"/leak-* "$b/work-$t"/timeout-* "$b/work-$t"/oom-*; do
			[ -e "$c" ] && cp "$c" tests/fuzz/regress/$t/ && echo "FAIL: $t: $c kept in tests/fuzz/regress/$t"
		done
		grep -A15 "ERROR\|==ERROR" "$b/work-$t/log" | head -30
	fi
done
exit $fail
