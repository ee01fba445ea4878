#!/usr/bin/env bash
# A flood of new sessions into `smaudit live`, stopped the moment it ends
# (issue 17, 1 and 2).  N SYNs of distinct sessions (synflood.py) are replayed
# with tcpreplay --topspeed over a veth pair between two network namespaces made
# here (no address, no route: nothing leaves them) into smaudit -Z nobody on the
# far end, SIGTERM following the replay at once.  Checks, from the `end` JSON
# line and the report: packets counted + packets reported dropped = packets that
# reached the interface (its rx counter), with the default buffer, and with
# --buffer 1 and smaudit paused (SIGSTOP) during the replay, so that drops are
# certain; the drops show in the report.  tcpdump -w /dev/null takes the same
# replay; both drop figures are printed (tcpdump's: what reached the interface
# and it did not write) and smaudit may not drop more than tcpdump + 1% of N.
# Usage: live-flood.sh SMAUDIT_BINARY SYNFLOOD_PY   (FLOOD_N=packets, default 200000)
set -u
BIN=$(readlink -f "$1")
GEN=$(readlink -f "$2")
N=${FLOOD_N:-200000}
A=smfl-a$$ B=smfl-b$$
. "$(dirname "$0")/netns.sh"
net_need python3 tcpdump tcpreplay
net_work flood
net_ns $A $B
net_quiet $A $B # only the replay crosses the link
net_veth $A fa $B fb
python3 "$GEN" "$N" "$W/flood.pcap" || { echo "FAIL - cannot write the flood capture"; exit 1; }
cat > "$W/site.conf" <<EOS
role ic-a 198.19.0.1
role ic-b 198.19.0.2
EOS

rx() { ip netns exec $B cat /sys/class/net/fb/statistics/rx_packets; }
replay() { # the flood at top speed; prints tcpreplay's rate line
	net_replay $A fa "$W/flood.pcap"
	grep -E "Actual:|Rated:" "$W/replay.txt" | sed 's/^ */     tcpreplay: /'
}

# --- tcpdump on the same replay: the drops to beat ---
net_tcpdump_start $B fb || echo "FAIL - tcpdump did not start"
before=$(rx)
replay
net_tcpdump_stop
td_kern=$NET_TD_DROPPED td_capt=$NET_TD_CAPTURED
td_reached=$(( $(rx) - before ))
# what tcpdump did not write: its kernel drops, and what it left in the ring at the
# signal (tcpdump counts that as neither captured nor dropped)
td_drop=$((td_reached - td_capt))
echo "     tcpdump -w /dev/null: $td_capt captured, $td_kern dropped by kernel, $td_reached reached fb: $td_drop lost"

flood() { # name, extra smaudit options: one run stopped as the replay ends
	local name=$1; shift
	ip netns exec $B "$BIN" live -s "$W/site.conf" -i fb -d "$W/$name.db" --json-lines \
		-o "$W/$name.txt" -Z nobody "$@" >"$W/$name.lines" 2>"$W/$name.err" &
	local pid=$!
	net_wait_for "$W/$name.lines" '"event": "start"' || echo "FAIL - smaudit live did not start"
	local before=$(rx)
	[ "$name" = paused ] && kill -STOP $pid
	replay
	[ "$name" = paused ] && kill -CONT $pid
	kill -TERM $pid
	wait $pid
	local rc=$? reached=$(( $(rx) - before ))
	read -r packets dropped status <<<"$(python3 -c '
import json, sys
end = [e for e in map(json.loads, open(sys.argv[1])) if e["event"] == "end"]
print(end[0]["packets"], end[0]["dropped"], end[0]["status"]) if end else print("- - -")
' "$W/$name.lines")"
	echo "     smaudit live $*: $packets counted, $dropped dropped, $reached reached fb (exit $rc)"
	check "$name: the run ends complete on SIGTERM (got $status)" test "$status" = complete
	check "$name: counted $packets + dropped $dropped = $reached that reached the interface" \
		test "$((packets + dropped))" = "$reached"
	if [ "$dropped" != - ] && [ "$dropped" -gt 0 ]; then
		check "$name: the report says $dropped DROPPED by the capture" \
			grep -q "$dropped DROPPED by the capture" "$W/$name.txt"
		check "$name: the missing flows carry the CAUTION about $dropped dropped packets" \
			grep -q "CAUTION: the capture dropped $dropped packet" "$W/$name.txt"
	fi
	eval "${name}_dropped=\$dropped"
}

flood default
check "the default buffer drops no more than tcpdump + 1% (smaudit $default_dropped, tcpdump $td_drop)" \
	test "$default_dropped" -le $((td_drop + N / 100))
# stopped (SIGSTOP) for the whole replay: a 1 MB kernel buffer overflows for sure
flood paused --buffer 1
check "paused with a 1 MB buffer, smaudit drops packets of the flood and counts them ($paused_dropped)" \
	test "$paused_dropped" -gt 0

echo "$fails failure(s)"
[ $fails = 0 ]
