#!/usr/bin/env bash
# Every capture in pcaps/ (each with a database) and every file of ../shared/corpus
# (in batches of VALGRIND_BATCH files per audit, default 40, two at a time) through
# `smaudit audit` under valgrind memcheck, built without sanitizers (build-fault/):
# no invalid read or write, no use of uninitialised memory, no definite leak.  A
# failing batch is re-run file by file to name the capture.
# usage: valgrind.sh [CORPUS_DIR]   (from the repository root)
set -u
corpus=${1:-../shared/corpus}
batch=${VALGRIND_BATCH:-40}
command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed"; exit 77; }
b=build-fault
cmake -S . -B $b -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMAUDIT_TESTS=OFF >/dev/null &&
	cmake --build $b -j2 >/dev/null || { echo "FAIL: build"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export VG="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
export BIN=$b/smaudit WORK=$work
# one_run LOG FILES...: exit 0 when valgrind is silent and smaudit ended normally (0, 1, 3)
cat >"$work/one.sh" <<'SH'
log=$1; shift
timeout 1200 $VG --log-file="$log" $BIN audit -q -s pcaps/site.conf "$@" >/dev/null 2>&1
rc=$?
[ $rc -le 3 ] && [ ! -s "$log" ]
SH
bad=0 n=0
for f in pcaps/*.pcap; do
	site=pcaps/site.conf
	n=$((n + 1))
	rm -f "$work/db"*
	bash "$work/one.sh" "$work/vg" -d "$work/db" "$f" || { bad=$((bad + 1)); echo "FAIL $f"; head -30 "$work/vg"; }
done
if [ -d "$corpus" ]; then
	find "$corpus" -type f ! -name '*.md' | sort >"$work/files"
	n=$((n + $(wc -l <"$work/files")))
	split -l "$batch" "$work/files" "$work/batch."
	ls "$work"/batch.* | xargs -P2 -I{} bash -c 'bash "$WORK/one.sh" "{}.vg" $(cat "{}") || echo "{}" >>"$WORK/failed"'
	if [ -s "$work/failed" ]; then
		for bf in $(cat "$work/failed"); do
			for f in $(cat "$bf"); do
				bash "$work/one.sh" "$work/vg1" "$f" && continue
				bad=$((bad + 1)); echo "FAIL $f"; head -30 "$work/vg1"
			done
		done
	fi
fi
echo "valgrind: $n captures, $bad with errors or definite leaks"
[ $bad -eq 0 ]
