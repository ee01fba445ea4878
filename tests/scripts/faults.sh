#!/usr/bin/env bash
# Allocation failures: every Nth malloc/calloc/realloc fails (LD_PRELOAD shim
# tests/fault/failmalloc.c) at points spread over a whole audit with a database.
# Each run must end with exit 0/1 and the same report as without faults, or exit 3
# with a message; never a crash or a different report presented as a result.
# Builds its own binary without sanitizers (they replace malloc) in build-fault/.
# usage: tests/scripts/faults.sh [POINTS [CAPTURE [AUDIT-OPTION...]]]
#   (from the repository root; default 150 points over pcaps/rejected.pcap)
# With PARTS=N in the environment, CAPTURE is first cut into N rotated files and the
# audit reads their directory (more than 8 files wait for their turn closed).
set -u
points=${1:-150}
capture=${2:-pcaps/rejected.pcap}
shift 2 2>/dev/null || shift $#
extra=("$@")
b=build-fault
cmake -S . -B $b -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMAUDIT_TESTS=OFF >/dev/null &&
	cmake --build $b -j2 >/dev/null || { echo "FAIL: build"; exit 1; }
cc -shared -fPIC -O2 -o $b/failmalloc.so tests/fault/failmalloc.c || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "${PARTS:-}" ]; then
	python3 tests/scripts/pcap-split.py "$capture" --parts "$PARTS" "$work/parts" >/dev/null ||
		{ echo "FAIL: cannot cut $capture into $PARTS files"; exit 1; }
	capture=$work/parts
fi
run() { # FAIL_AFTER -> exit status; report in $work/out, messages in $work/err
	rm -f "$work/db" "$work/db-wal" "$work/db-shm"
	FAIL_AFTER=$1 FAIL_COUNT_FILE=$work/count timeout 30 \
		env LD_PRELOAD=$PWD/$b/failmalloc.so $b/smaudit audit -q -s pcaps/site.conf -d "$work/db" "${extra[@]}" "$capture" >"$work/out" 2>"$work/err"
}
run 0
total=$(cat "$work/count")
grep -v '^  source' "$work/out" >"$work/ref"
# the first allocations belong to the loader and the libraries' own start-up (GLib
# through libnids, GnuTLS through libpq), which abort by design: they are those of a run
# that ends as soon as main starts (--version), and no failure is injected there
FAIL_AFTER=0 FAIL_COUNT_FILE=$work/count env LD_PRELOAD=$PWD/$b/failmalloc.so $b/smaudit --version >/dev/null
first=$(($(cat "$work/count") + 1))
step=$(((total - first) / points + 1))
ok=0 oom=0 bad=0
for n in $(seq $first $step "$total"); do
	run "$n"
	rc=$?
	case $rc in
	0 | 1)
		if cmp -s <(grep -v '^  source' "$work/out") "$work/ref"; then ok=$((ok + 1)); else
			bad=$((bad + 1)); echo "FAIL n=$n: exit $rc but the report differs"; fi ;;
	3)
		if [ -s "$work/err" ]; then oom=$((oom + 1)); else
			bad=$((bad + 1)); echo "FAIL n=$n: exit 3 without a message"; fi ;;
	*)
		bad=$((bad + 1)); echo "FAIL n=$n: exit $rc: $(tail -2 "$work/err")" ;;
	esac
done
echo "faults: $total allocations in a clean run; failure injected at $((ok + oom + bad)) points: $ok unaffected (same report), $oom exit 3 with a message, $bad wrong"
[ $bad -eq 0 ]
