#!/usr/bin/env bash
# Session counts against tshark: for every corpus capture, the number of distinct
# unordered (address, port) pairs per protocol in smaudit's `sessions` table must
# equal the pairs `tshark -q -z conv,tcp -z conv,udp` lists.  Tunnelled captures
# too: both list the carrying UDP flow (VXLAN, Geneve, GTP-U, Teredo) and the
# conversations inside it.
# usage: tshark-compare.sh SMAUDIT CORPUS-DIR [REPORT-FILE]
# Passes when the match rate is at least $TSHARK_MIN_RATE (default 0.95).
set -u
bin=$1 corpus=$2 report=${3:-}
if [ ! -d "$corpus" ]; then
	echo "SKIP: no capture corpus at $corpus (it ships beside the repository in CI only)"
	exit 77
fi
for tool in tshark sqlite3; do
	command -v $tool >/dev/null || { echo "SKIP: $tool is not installed (scripts/deps.sh --test installs it)"; exit 77; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'role ic-a 10.0.0.1\nrole ic-b 10.0.0.2\n' >"$work/site.conf"
export ASAN_OPTIONS=detect_leaks=0
one() {
	f=$1
	tag=$(echo "$f" | md5sum | cut -c1-16)
	db="$work/$tag.db"
	timeout 120 "$bin" audit -q -s "$work/site.conf" -d "$db" "$f" >/dev/null 2>&1
	rc=$?
	# exit 3 (no site address in the capture) still stores the run and its sessions
	if [ $rc -gt 1 ] && [ $rc -ne 3 ] || ! sqlite3 "$db" 'SELECT 1 FROM sessions LIMIT 1' >/dev/null 2>&1; then
		rm -f "$db"*; echo "SKIP-OURS $f"; return
	fi
	pairs() {
		sqlite3 "$db" "SELECT count(*) FROM (SELECT DISTINCT CASE WHEN src||'|'||sport < dst||'|'||dport THEN src||'|'||sport||'-'||dst||'|'||dport ELSE dst||'|'||dport||'-'||src||'|'||sport END FROM sessions WHERE proto='$1')"
	}
	ot=$(pairs tcp) ou=$(pairs udp)
	rm -f "$db"*
	if ! timeout 120 tshark -n -r "$f" -q -z conv,tcp -z conv,udp >"$work/$tag.ts" 2>/dev/null; then
		rm -f "$work/$tag.ts"; echo "SKIP-TSHARK $f"; return
	fi
	read -r tt tu < <(awk '
		/^TCP Conversations/ {s="t"} /^UDP Conversations/ {s="u"}
		/<->/ { a=$1; b=$3; k=(a<b)? a" "b : b" "a; if (!(s k in seen)) { seen[s k]=1; n[s]++ } }
		END { printf "%d %d\n", n["t"]+0, n["u"]+0 }' "$work/$tag.ts")
	rm -f "$work/$tag.ts"
	if [ "$ot" = "$tt" ] && [ "$ou" = "$tu" ]; then
		echo "MATCH $f tcp $ot udp $ou"
	else
		echo "DIFF $f tcp ours $ot tshark $tt udp ours $ou tshark $tu"
	fi
}
export -f one
export bin work
# TSHARK_SAMPLE=N compares every Nth capture only (CI uses 4: a quarter of the time, still about 560 captures).
find "$corpus" -type f | sort | awk -v n="${TSHARK_SAMPLE:-1}" 'NR % n == 0' | xargs -d '\n' -P 2 -n 1 bash -c 'one "$0"' >"$work/results"
[ -n "$report" ] && cp "$work/results" "$report"
m=$(grep -c '^MATCH' "$work/results"); d=$(grep -c '^DIFF' "$work/results")
so=$(grep -c '^SKIP-OURS' "$work/results")
sk=$(grep -c '^SKIP-TSHARK' "$work/results")
grep '^DIFF' "$work/results" | head -40
rate=$(awk -v m="$m" -v d="$d" 'BEGIN { if (m + d == 0) print 0; else printf "%.4f", m / (m + d) }')
echo "tshark: $((m + d)) captures compared, $m match, $d differ (rate $rate); skipped: $so unreadable by smaudit, $sk unreadable by tshark"
min=${TSHARK_MIN_RATE:-0.95}
if awk -v r="$rate" -v m="$min" 'BEGIN { exit !(r >= m) }'; then
	echo "tshark: 1 passed, 0 failed"
else
	echo "tshark: match rate $rate is below $min"
	echo "tshark: 0 passed, 1 failed"
	exit 1
fi
