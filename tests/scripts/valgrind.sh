#!/usr/bin/env bash
# Every capture in pcaps/ and a sample of ../shared/corpus (every VALGRIND_EVERY-th
# file, default 40) through `smaudit audit -d` under valgrind memcheck, built without
# sanitizers (build-fault/): no invalid read or write, no use of uninitialised
# memory, no definite leak.   usage: valgrind.sh [CORPUS_DIR]  (from the repository root)
set -u
corpus=${1:-../shared/corpus}
every=${VALGRIND_EVERY:-40}
command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed"; exit 77; }
b=build-fault
cmake -S . -B $b -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMAUDIT_TESTS=OFF >/dev/null &&
	cmake --build $b -j2 >/dev/null || { echo "FAIL: build"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
files=$(ls pcaps/*.pcap)
[ -d "$corpus" ] && files="$files $(find "$corpus" -type f ! -name '*.md' | sort | awk -v e="$every" 'NR % e == 0')"
n=0 bad=0
for f in $files; do
	rm -f "$work/db"*
	site=pcaps/site.conf
	case $f in *ipv6*) site=pcaps/site6.conf ;; esac
	timeout 300 valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		--log-file="$work/vg" $b/smaudit audit -q -s $site -d "$work/db" "$f" >/dev/null 2>&1
	rc=$?
	n=$((n + 1))
	if [ $rc -eq 99 ] || [ $rc -gt 3 ] || [ -s "$work/vg" ]; then
		bad=$((bad + 1))
		echo "FAIL $f: exit $rc"
		head -30 "$work/vg"
	fi
done
echo "valgrind: $n captures, $bad with errors or definite leaks"
[ $bad -eq 0 ]
