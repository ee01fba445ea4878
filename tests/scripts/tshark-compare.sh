#!/usr/bin/env bash
# Session counts against tshark: for every corpus capture, the number of distinct
# unordered (address, port) pairs per protocol in smaudit's `sessions` table must
# equal the pairs `tshark -q -z conv,tcp -z conv,udp` lists.  Tunnelled captures
# too: both list the carrying UDP flow (VXLAN, Geneve, GTP-U, Teredo) and the
# conversations inside it.
# usage: tshark-compare.sh SMAUDIT CORPUS-DIR [REPORT-FILE]
# Passes when the match rate is at least $TSHARK_MIN_RATE (default 0.95).
# The same pass compares protocols (apps_tshark.py): where tshark dissects TLS,
# SSH or HTTP from a conversation's first payload and its SYN was captured,
# sessions.app must agree on $TSHARK_APP_MIN_RATE (0.98) of them, and every SNI
# tshark reads must be in sessions.app_detail.
set -u
bin=$1 corpus=$2 report=${3:-}
if [ ! -d "$corpus" ]; then
	echo "SKIP: no capture corpus at $corpus (it ships beside the repository in CI only)"
	exit 77
fi
for tool in tshark sqlite3 python3; do
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
	# one pass of tshark: the fields of every frame (for apps_tshark.py), then the
	# conversation tables
	if ! timeout 120 tshark -n -r "$f" -T fields -e frame.time_epoch -e tcp.stream \
		-e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst -e tcp.dstport \
		-e tcp.flags.syn -e tcp.flags.ack -e tcp.len -e frame.protocols \
		-e tls.handshake.extensions_server_name -e tls.record.content_type \
		-e http.request.method -e http.response.code -e ssh.protocol \
		-z conv,tcp -z conv,udp >"$work/$tag.ts" 2>/dev/null; then
		rm -f "$work/$tag.ts" "$db"*; echo "SKIP-TSHARK $f"; return
	fi
	python3 "$here/apps_tshark.py" "$f" "$work/$tag.ts" "$db"
	rm -f "$db"*
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
here=$(cd "$(dirname "$0")" && pwd)
export bin work here
# TSHARK_SAMPLE=N compares every Nth capture only (CI uses 4: a quarter of the time, still about 560 captures).
find "$corpus" -type f | sort | awk -v n="${TSHARK_SAMPLE:-1}" 'NR % n == 0' | xargs -d '\n' -P 2 -n 1 bash -c 'one "$0"' >"$work/results"
[ -n "$report" ] && cp "$work/results" "$report"
m=$(grep -c '^MATCH' "$work/results"); d=$(grep -c '^DIFF' "$work/results")
so=$(grep -c '^SKIP-OURS' "$work/results")
sk=$(grep -c '^SKIP-TSHARK' "$work/results")
grep '^DIFF' "$work/results" | head -40
rate=$(awk -v m="$m" -v d="$d" 'BEGIN { if (m + d == 0) print 0; else printf "%.4f", m / (m + d) }')
echo "tshark: $((m + d)) captures compared, $m match, $d differ (rate $rate); skipped: $so unreadable by smaudit, $sk unreadable by tshark"
as=$(grep -c '^APP-SAME' "$work/results"); ad=$(grep -c '^APP-DIFF' "$work/results")
ss=$(grep -c '^SNI-SAME' "$work/results"); sd=$(grep -c '^SNI-DIFF' "$work/results")
grep -E '^(APP|SNI)-DIFF' "$work/results" | head -40
arate=$(awk -v m="$as" -v d="$ad" 'BEGIN { if (m + d == 0) print 1; else printf "%.4f", m / (m + d) }')
echo "tshark: TLS/SSH/HTTP from the first payload with the SYN captured: $as of $((as + ad)) agree (rate $arate); SNI named $ss of $((ss + sd))"
min=${TSHARK_MIN_RATE:-0.95}
amin=${TSHARK_APP_MIN_RATE:-0.98}
if ! awk -v r="$arate" -v m="$amin" 'BEGIN { exit !(r >= m) }' || [ "$sd" -gt "${TSHARK_SNI_MAX_DIFF:-0}" ]; then
	echo "tshark: protocol agreement $arate is below $amin, or $sd SNI not named"
	echo "tshark: 0 passed, 1 failed"
	exit 1
fi
if awk -v r="$rate" -v m="$min" 'BEGIN { exit !(r >= m) }'; then
	echo "tshark: 1 passed, 0 failed"
else
	echo "tshark: match rate $rate is below $min"
	echo "tshark: 0 passed, 1 failed"
	exit 1
fi
