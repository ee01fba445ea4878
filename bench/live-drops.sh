#!/usr/bin/env bash
# Does `smaudit live` drop more than tcpdump would on the same link?  Each
# capture given is replayed by tcpreplay --topspeed over a veth pair between two
# network namespaces made here (nothing leaves them), ROUNDS times into
# `tcpdump -w /dev/null` and ROUNDS times into `smaudit live`, taking turns, both
# with a 128 MB kernel buffer.  Prints per capture and contender the rate the
# replay reached and the packets captured and dropped (tcpdump's own count at
# exit; smaudit's end event), and one line per capture:
#   live-drops CAPTURE smaudit-dropped tcpdump-dropped slowest-rate
# (the most each dropped in a round, the slowest replay into smaudit in packets/s)
# for bench/run.sh --check.  With BLAST set to
# a build of bench/blast.c, that replays instead of tcpreplay: batched sends, for
# rates tcpreplay does not reach (400,000 new sessions a second and more).
# usage: [BLAST=PROGRAM] bench/live-drops.sh SMAUDIT ROUNDS CAPTURE...
#        (root; exit 77 when it cannot run here)
set -u
BIN=$(readlink -f "$1")
ROUNDS=$2
shift 2
A=smld-a$$ B=smld-b$$
. "$(dirname "$0")/../tests/scripts/netns.sh"
net_need python3 tcpreplay tcpdump
NET_BLAST=${BLAST:+$(readlink -f "$BLAST")}
how=${NET_BLAST:+", sent by bench/blast.c"}
net_work livedrops
net_ns $A $B
net_quiet $A $B # only the replay crosses the link
net_veth $A fa $B fb
SITE=$(readlink -f "$(dirname "$0")/../pcaps/site.conf")

with_tcpdump() { # capture -> "rate captured dropped"
	net_tcpdump_start $B fb -B 131072
	net_replay $A fa "$1"
	sleep 1
	net_tcpdump_stop
	echo "$NET_RATE $NET_TD_CAPTURED $NET_TD_DROPPED"
}

with_smaudit() { # capture -> "rate captured dropped"
	rm -f "$W"/live.db*
	ip netns exec $B "$BIN" live -s "$SITE" -i fb -d "$W/live.db" --json-lines -o "$W/report.txt" \
		--buffer 128 -Z nobody >"$W/lines" 2>"$W/err" &
	local pid=$!
	net_wait_for "$W/lines" '"event": "start"'
	net_replay $A fa "$1"
	sleep 1
	kill -TERM $pid
	wait $pid
	python3 -c '
import json, sys
end = [e for e in map(json.loads, open(sys.argv[1])) if e["event"] == "end"]
print(sys.argv[2], *((end[0]["packets"], end[0]["dropped"]) if end else ("?", "?")))
' "$W/lines" "$NET_RATE"
}

for cap in "$@"; do
	worst_s=0 worst_t=0 slowest=
	for r in $(seq "$ROUNDS"); do
		read -r rate got drop <<<"$(with_tcpdump "$cap")"
		echo "live: $cap round $r: tcpdump -w /dev/null at $rate packets/s$how: $got captured, $drop dropped"
		[ "$drop" != "?" ] && [ "$drop" -gt "$worst_t" ] && worst_t=$drop
		read -r rate got drop <<<"$(with_smaudit "$cap")"
		echo "live: $cap round $r: smaudit live at $rate packets/s$how: $got captured, $drop dropped"
		if [ "$drop" = "?" ]; then worst_s=999999999; elif [ "$drop" -gt "$worst_s" ]; then worst_s=$drop; fi
		slowest=$(awk -v a="${slowest:-$rate}" -v b="${rate:-0}" 'BEGIN { print (b + 0 < a + 0) ? b + 0 : a + 0 }')
	done
	echo "live-drops $cap $worst_s $worst_t $slowest"
done
