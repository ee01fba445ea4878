#!/usr/bin/env bash
# Where the time of `smaudit audit` goes, stage by stage, in nanoseconds a packet:
#
#   bench/profile.sh CAPTURE [AUDIT OPTIONS...]      (from the repository root)
#
# Times one unprofiled run (user + system CPU, wall), then samples a second run
# with perf (call chains by DWARF unwinding, 499 samples a second) and hands the
# samples to bench/stages.py, which gives each sample to the innermost stage of
# its call chain: read, decode, session, payload checks (libnids and the
# recognisers), store (policy, the database and its writer thread), setup.
# Uses build-bench/ (bench/run.sh builds it) and needs perf (Debian package
# linux-perf) with access to the CPU's counters (as root, or
# kernel.perf_event_paranoid <= 1); exits 77 when it has neither.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/profile.sh CAPTURE [AUDIT OPTIONS...]" >&2; exit 2; }
cap=$1; shift
command -v perf >/dev/null || { echo "SKIP: no perf (apt-get install linux-perf)"; exit 77; }
[ -x /usr/bin/time ] || { echo "bench/profile.sh: needs GNU time: apt-get install time" >&2; exit 2; }
[ -x build-bench/smaudit ] && [ -x build-bench/floor ] ||
	{ echo "bench/profile.sh: build-bench/ is missing: run bench/run.sh --quick once" >&2; exit 2; }
tmp=$(mktemp -d /tmp/smaudit-profile.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if ! perf record -q -o "$tmp/probe" -- true >/dev/null 2>&1; then
	echo "SKIP: perf cannot sample here (run as root or lower kernel.perf_event_paranoid)"
	exit 77
fi
pkts=$(build-bench/floor "$cap" | awk '{print $1}')
cat "$cap" >/dev/null # a warm page cache, as bench/run.sh measures
# exit 1 is "findings": the run's status is not what is measured here
/usr/bin/time -o "$tmp/time" -f "%U %S %e" \
	build-bench/smaudit audit -q -s pcaps/site.conf -d "$tmp/db" "$@" "$cap" >/dev/null 2>&1 || true
read -r user sys wall < <(tail -1 "$tmp/time")
cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
rm -f "$tmp"/db*
perf record -q -F 499 --call-graph dwarf,16384 -o "$tmp/perf.data" -- \
	build-bench/smaudit audit -q -s pcaps/site.conf -d "$tmp/db" "$@" "$cap" >/dev/null 2>&1 || true
echo "profile of smaudit audit $* on $cap: $pkts packets, CPU $cpu s, wall $wall s"
perf script -F tid,period,ip,sym -i "$tmp/perf.data" 2>/dev/null |
	python3 bench/stages.py "$pkts" "$cpu" "$wall"
