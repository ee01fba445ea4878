#!/usr/bin/env bash
# Golden reports: every capture in pcaps/ audited as text and JSON, compared with
# the files checked in here, and its exit status checked; the database rows the
# same audit writes (every table, less the run's clock, pid and host) too.
# usage: tests/golden/run.sh SMAUDIT [--update]    (run from the repository root)
set -u
bin=$1
update=${2:-}
dir=$(dirname "$0")
fail=0 pass=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../scripts/dbrows.sh"
# name site exit captures...
cases=(
	"healthy pcaps/site.conf 0 pcaps/healthy.pcap"
	"dropped pcaps/site.conf 1 pcaps/dropped.pcap"
	"rejected pcaps/site.conf 1 pcaps/rejected.pcap"
	"unexpected pcaps/site.conf 1 pcaps/unexpected.pcap"
	"mediator-down pcaps/site.conf 1 pcaps/mediator-down.pcap"
	"vlan pcaps/site.conf 0 pcaps/vlan.pcap"
	"qinq pcaps/site.conf 0 pcaps/qinq.pcap"
	"ipv6 pcaps/site6.conf 0 pcaps/ipv6.pcap"
	"two-files pcaps/site.conf 1 pcaps/dropped.pcap pcaps/unexpected.pcap"
	"mismatch pcaps/site.conf 1 pcaps/mismatch.pcap"
	"mismatch-no-payload pcaps/site.conf 0 --no-payload pcaps/mismatch.pcap"
	"outage pcaps/site.conf 0 pcaps/outage.pcap"
	"iscsi-real pcaps/iscsi-real.conf 1 pcaps/iscsi-real.pcap"
	# two sensors (pcaps/make-sensors.sh): one verdict that says where packets stopped
	"sensors-healthy pcaps/site.conf 0 --sensor site-a=pcaps/sensors/healthy-site-a.pcap --sensor site-b=pcaps/sensors/healthy-site-b.pcap"
	"sensors-wan-drop pcaps/site.conf 1 --sensor site-a=pcaps/sensors/wan-drop-site-a.pcap --sensor site-b=pcaps/sensors/wan-drop-site-b.pcap"
	"sensors-edge-drop pcaps/site.conf 1 --sensor site-a=pcaps/sensors/edge-drop-site-a.pcap --sensor site-b=pcaps/sensors/edge-drop-site-b.pcap"
	"sensors-wan-rst pcaps/site.conf 1 --sensor site-a=pcaps/sensors/wan-rst-site-a.pcap --sensor site-b=pcaps/sensors/wan-rst-site-b.pcap"
	"sensors-answer-drop pcaps/site.conf 1 --sensor site-a=pcaps/sensors/answer-drop-site-a.pcap --sensor site-b=pcaps/sensors/answer-drop-site-b.pcap"
	"sensors-wan-icmp pcaps/site.conf 1 --sensor site-a=pcaps/sensors/wan-icmp-site-a.pcap --sensor site-b=pcaps/sensors/wan-icmp-site-b.pcap"
	"sensors-clock pcaps/site.conf 0 --sensor site-b=pcaps/sensors/clock-site-b.pcap --sensor site-a=pcaps/sensors/clock-site-a.pcap"
)
for c in "${cases[@]}"; do
	set -- $c
	name=$1 site=$2 want=$3
	shift 3
	for fmt in txt json rows; do
		f=$fmt
		[ $fmt = txt ] && f=text
		if [ $fmt = rows ]; then
			rm -f "$tmp/db"
			"$bin" audit -q -s "$site" -d "$tmp/db" "$@" >/dev/null 2>&1
			rc=$?
			out=$(rows "$tmp/db")
		else
			out=$("$bin" audit -q -s "$site" --format $f "$@" 2>&1)
			rc=$?
		fi
		if [ "$update" = --update ]; then
			printf '%s\n' "$out" >"$dir/$name.$fmt"
			continue
		fi
		if [ $rc -ne "$want" ]; then
			echo "FAIL $name ($fmt): exit $rc, expected $want"
			fail=$((fail + 1))
		elif ! diff -u "$dir/$name.$fmt" <(printf '%s\n' "$out"); then
			echo "FAIL $name ($fmt): report differs from $dir/$name.$fmt"
			fail=$((fail + 1))
		else
			pass=$((pass + 1))
		fi
	done
done
[ "$update" = --update ] && { echo "golden files updated"; exit 0; }
echo "golden: $pass passed, $fail failed"
[ $fail -eq 0 ]
