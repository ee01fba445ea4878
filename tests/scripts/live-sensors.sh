#!/usr/bin/env bash
# Two live sensors, one on each site's router of the two-site lab (pcaps/sensors-lab.sh:
# real Linux TCP stacks in network namespaces, the WAN router dropping tcp/11105),
# write their runs into one database at once; `smaudit combine` of the two runs then
# says where the SYNs died: between site-a and site-b.  The database is a SQLite file,
# or the PostgreSQL server of $SMAUDIT_TEST_PG (a libpq URI) when set.
# usage: live-sensors.sh SMAUDIT      (run from the repository root; needs root)
set -u
bin=$(realpath "$1")
root=$PWD
. tests/scripts/netns.sh
net_need nft python3
LAB_SUFFIX=$$
T="python3 $root/pcaps/traffic.py"
. pcaps/sensors-lab.sh
S=$root/pcaps/site.conf
lab_setup # first: it clears what an earlier lab left, the work directory too
net_work live-sensors
db=${SMAUDIT_TEST_PG:-$W/central.db}
lab_listeners
wan_drop
# each router's sensor: its WAN link (as a span port of the site's uplink: each packet
# once), its packets kept in a ring for combine
sensor() { # router interface name
	ip netns exec "$1" "$bin" live -q -s "$S" -i "$2" --sensor "$3" -Z root \
		-w "$W/ring-$3" -d "$db" --duration 120 -o "$W/$3.txt" 2>"$W/$3.err" &
}
sensor "$RA" w0 site-a
pa=$!
sensor "$RB" b0 site-b
pb=$!
sleep 2
(sm_as_flows) >/dev/null 2>&1
sleep 1
kill -INT $pa $pb # as Ctrl-C: each stores its run and prints its report
wait $pa
ra=$?
wait $pb
rb=$?
check "site-a's live run ends with findings (exit $ra)" test $ra -eq 1
check "site-b's live run ends with findings (exit $rb)" test $rb -eq 1
grep -hv "NO-ANSWER\|listening on" "$W/site-a.err" "$W/site-b.err" | head -5
runs=$("$bin" report -d "$db" --list 2>&1)
echo "$runs"
ids=$(awk '$2 == "live" {print $1}' <<<"$runs" | tail -2 | tr '\n' ' ')
check "two live runs in one database ($ids)" test "$(wc -w <<<"$ids")" -eq 2
set -- $ids
out=$("$bin" combine -s "$S" -d "$db" --run "$1" --run "$2" 2>&1)
echo "$out" | grep -E '^  sensor|^MISSING|lost between' | head -12
check "combined: each site's sensor named" grep -q "sensor   site-a: .*packets" <<<"$out"
check "combined: each site's sensor named" grep -q "sensor   site-b: .*packets" <<<"$out"
n=$(grep -c "no-answer tcp/11105" <<<"$out")
m=$(grep -cE "never at site-[ab].*lost between site-a and site-b|never at site-[ab].*lost between site-b and site-a" <<<"$out")
check "combined: the 8 dropped 11105 flows located in the WAN ($m of $n)" test "$n" -eq 8 -a "$m" -eq 8
check "combined: nothing else missing" grep -q "^MISSING EXPECTED FLOWS (8)" <<<"$out"
echo "live-sensors: $fails failed"
[ $fails -eq 0 ]
