#!/usr/bin/env bash
# More TCP streams open at once than libnids' table holds (16,383): 16,000 iSCSI
# sessions between the intercluster LIFs whose Login requests are half sent when
# 2,000 more sessions open and stay silent (tests/scripts/manystreams.py).  libnids
# pushes the oldest streams out, and says so while it reads the newer ones' SYNs.
# What a user must see, with tshark's iSCSI dissector as the judge of what the
# streams carry:
# - no protocol-mismatch finding: every stream tshark finds a Login request in is
#   iscsi or unverified (its bytes were never read), none "unknown";
# - no protocol at all for the 2,000 sessions in which tshark sees no payload;
# - the report's WARNING says the table was full and sessions went unverified, and
#   the unverified sessions are no more than the streams it pushed out.
# usage: reasm-full.sh SMAUDIT     (from the repository root)
set -u
bin=$(readlink -f "$1")
command -v tshark >/dev/null || { echo "SKIP: needs tshark (apt-get install tshark)"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/check.sh"
cap=$work/streams.pcap
python3 tests/scripts/manystreams.py "$cap" --first 16000 --idle 2000 || exit 1
db=$work/db
"$bin" audit -q -s pcaps/site.conf -d "$db" "$cap" >"$work/report" 2>&1
rc=$?
[ $rc -le 1 ] || { echo "FAIL: audit exit $rc"; cat "$work/report"; exit 1; }
q() { sqlite3 -batch -noheader "$db" "$1"; }

# tshark's view: client ports of the streams with an iSCSI Login command, and the
# payload bytes of the silent ones (3260 decoded as iSCSI whatever the client port)
tshark -r "$cap" -d tcp.port==3260,iscsi -Y "iscsi.opcode == 0x03" -T fields \
	-E separator=: -e ip.src -e tcp.srcport 2>/dev/null | sort -u >"$work/logins"
silent_bytes=$(tshark -r "$cap" -Y "ip.addr == 198.18.1.12 && tcp.len > 0" 2>/dev/null | wc -l)
logins=$(wc -l <"$work/logins")
if [ "$logins" -eq 16000 ] && [ "$silent_bytes" -eq 0 ]; then pass=$((pass + 1)); else
	echo "FAIL: tshark finds $logins Login requests (16000) and $silent_bytes silent payloads (0)"
	fail=$((fail + 1))
fi

# our view of the same streams: CLIENT:PORT APP, joined to tshark's
q "SELECT src || ':' || sport || ' ' || coalesce(app, '-') FROM sessions WHERE dport = 3260" |
	sort >"$work/apps"
bad=$(join "$work/logins" "$work/apps" | awk '$2 != "iscsi" && $2 != "unverified"' | wc -l)
seen=$(q "SELECT count(*) FROM sessions WHERE src = '198.18.1.11' AND app IN ('iscsi', 'unverified')")
if [ "$bad" -eq 0 ] && [ "$seen" -eq 16000 ]; then pass=$((pass + 1)); else
	echo "FAIL: of tshark's 16000 iSCSI streams, $seen are iscsi or unverified, $bad are something else:"
	q "SELECT app, count(*) FROM sessions WHERE src = '198.18.1.11' GROUP BY 1"
	fail=$((fail + 1))
fi
named=$(q "SELECT count(*) FROM sessions WHERE src = '198.18.1.12' AND app IS NOT NULL")
if [ "$named" -eq 0 ]; then pass=$((pass + 1)); else
	echo "FAIL: $named of the 2000 sessions that sent no byte were given a protocol:"
	q "SELECT app, count(*) FROM sessions WHERE src = '198.18.1.12' GROUP BY 1"
	fail=$((fail + 1))
fi
mismatch=$(q "SELECT count(*) FROM findings WHERE kind = 'protocol-mismatch'")
if [ "$mismatch" -eq 0 ]; then pass=$((pass + 1)); else
	echo "FAIL: $mismatch protocol-mismatch finding(s) where every stream speaks iSCSI:"
	q "SELECT src, dst, detail FROM findings WHERE kind = 'protocol-mismatch'"
	fail=$((fail + 1))
fi
full=$(q "SELECT value FROM run_counters WHERE name = 'reassembly-table-full'")
unverified=$(q "SELECT count(*) FROM sessions WHERE app = 'unverified'")
if [ "${full:-0}" -gt 0 ] && [ "$unverified" -gt 0 ] && [ "$unverified" -le "$full" ]; then
	pass=$((pass + 1))
else
	echo "FAIL: table full ${full:-0} time(s), $unverified unverified session(s)"
	fail=$((fail + 1))
fi
check "the report says the table was full" 0 \
	"WARNING  the stream reassembly table was full $full time\(s\): some sessions' protocols were not checked \(unverified\)" \
	cat "$work/report"
# the same from the JSON report: no mismatch among its findings
"$bin" report -d "$db" --format json >"$work/json" 2>&1
if python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
sys.exit(r["summary"]["protocol_mismatches"] != 0 or len(r.get("protocol_mismatches", [])) != 0)
' "$work/json"; then
	pass=$((pass + 1))
else
	echo "FAIL: the JSON report has protocol mismatches: $(grep -c '"rule"' "$work/json") rows"
	fail=$((fail + 1))
fi
echo "reasm-full: $pass passed, $fail failed"
[ $fail -eq 0 ]
