#!/usr/bin/env bash
# Sessions against Zeek's conn.log: tests/zeek/conn-reference.tsv holds the rows
# Zeek's own test baselines log for the Zeek test traces in the corpus (derived
# by tests/zeek/derive-reference.py).  Each trace is audited into a database and
# every Zeek row looked for among its sessions: the same protocol and endpoint
# pair ("found", either way round, paired in time order when a pair repeats),
# then the same initiator and conn_state ("state equal").
# usage: zeek-compare.sh SMAUDIT CORPUS-DIR [REPORT-FILE]
# Fails when fewer rows are found or have equal states than ZEEK_MIN_FOUND and
# ZEEK_MIN_STATE (today's figures, so that they cannot regress).
set -u
bin=$1 corpus=$2 report=${3:-}
here=$(cd "$(dirname "$0")/.." && pwd)
ref=$here/zeek/conn-reference.tsv
if [ ! -d "$corpus/zeek" ]; then
	echo "SKIP: no capture corpus at $corpus (it ships beside the repository in CI only)"
	exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'role ic-a 10.0.0.1\nrole ic-b 10.0.0.2\n' >"$work/site.conf"
export ASAN_OPTIONS=detect_leaks=0
grep -v '^#' "$ref" | cut -f1 | sort -u >"$work/traces"
n=0
while read -r t; do
	n=$((n + 1))
	timeout 120 "$bin" audit -q -s "$work/site.conf" -d "$work/$n.db" "$corpus/zeek/$t" \
		>/dev/null 2>&1
	printf '%s\t%s\n' "$t" "$work/$n.db" >>"$work/dbs"
done <"$work/traces"
python3 - "$ref" "$work/dbs" "${ZEEK_MIN_FOUND:-401}" "${ZEEK_MIN_STATE:-395}" "$report" <<'PY'
import sqlite3, sys

ref, dbs, min_found, min_state, report = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
db_of = dict(l.rstrip("\n").split("\t") for l in open(dbs))
rows = [l.rstrip("\n").split("\t") for l in open(ref) if not l.startswith("#")]
def proto(p):
    """Zeek's names: one "icmp" for both versions, "unknown_transport" for
    protocols without ports (we store their number)."""
    if p == "icmp6":
        return "icmp"
    return "unknown_transport" if p.isdigit() else p
sessions = {}
for trace, path in db_of.items():
    try:
        c = sqlite3.connect(path)
        sessions[trace] = [list(r) + [False] for r in c.execute(
            "SELECT proto, src, sport, dst, dport, state FROM sessions ORDER BY first_ts, id")]
        c.close()
    except sqlite3.Error:
        sessions[trace] = []
found = same_way = equal = 0
out = []
for trace, p, oh, op, rh, rp, st in rows:
    # ICMP: Zeek's resp_p is the type of the answer (or the code), ours the
    # code; other protocols without ports: Zeek logs 0, we keep SCTP's ports
    icmp, portless = p == "icmp", p == "unknown_transport"
    def take(way):
        for s in sessions.get(trace, []):
            if s[6] or proto(s[0]) != p:
                continue
            ours = (s[1], "" if portless else str(s[2]), s[3],
                    "" if icmp or portless else str(s[4]))
            zeek = (oh, "" if portless else op, rh, "" if icmp or portless else rp)
            if way == 0 and ours == zeek or \
               way == 1 and not icmp and ours == (zeek[2], zeek[3], zeek[0], zeek[1]):
                s[6] = True
                return s
        return None
    s, way = take(0), 0
    if s is None:
        s, way = take(1), 1
    row = "%s %s %s:%s -> %s:%s %s" % (trace, p, oh, op, rh, rp, st)
    if s is None:
        out.append("MISSING " + row)
        continue
    found += 1
    if way == 1:
        out.append("FLIPPED %s (ours %s)" % (row, s[5]))
        continue
    same_way += 1
    if s[5] == st:
        equal += 1
    else:
        out.append("STATE %s (ours %s)" % (row, s[5]))
if report:
    open(report, "w").write("\n".join(out) + "\n")
print("\n".join(out))
n = len(rows)
pct = lambda a, b: 100.0 * a / b if b else 0.0
print("zeek: %d rows of %d traces; found %d (%.1f%%), same initiator %d, state equal %d (%.1f%% of found)"
      % (n, len(db_of), found, pct(found, n), same_way, equal, pct(equal, found)))
if found < min_found or equal < min_state:
    print("zeek: below the floor (found %d, state equal %d)" % (min_found, min_state))
    print("zeek: 0 passed, 1 failed")
    sys.exit(1)
print("zeek: 1 passed, 0 failed")
PY
[ $? -eq 0 ] || exit 1
# Conversations Zeek logs as one connection while their directions come on two VLANs
# (tests/zeek/one-connection.tsv): one session with both directions here too.
fail=0
while IFS=$'\t' read -r t proto oh rh rp conns; do
	case $t in '#'* | '') continue ;; esac
	rm -f "$work/one.db"
	timeout 120 "$bin" audit -q -s "$work/site.conf" -d "$work/one.db" "$corpus/zeek/$t" >/dev/null 2>&1
	got=$(sqlite3 "$work/one.db" "SELECT count(*), coalesce(min(pkts_fwd > 0 AND pkts_rev > 0), 0)
		FROM sessions WHERE proto = '$proto' AND src = '$oh' AND dst = '$rh' AND dport = $rp")
	if [ "$got" != "$conns|1" ]; then
		echo "FAIL $t: Zeek logs $conns connection(s) $oh -> $rh:$rp with both directions; ours (sessions|both ways): $got"
		fail=1
	fi
done <"$here/zeek/one-connection.tsv"
[ $fail -eq 0 ] && echo "zeek: the conversations of one-connection.tsv are one session each"
exit $fail
