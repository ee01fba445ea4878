#!/usr/bin/env bash
# Live memory under a flood of new unexpected sessions (issue 17, section 5):
# N SYNs of distinct sessions to an intercluster LIF (tests/scripts/synflood.py)
# replayed by tcpreplay --topspeed over a veth pair between two network
# namespaces made here (nothing leaves them) into `smaudit live --max-sessions
# 10000 -Z nobody`, stopped by SIGTERM as the replay ends.  Prints the peak RSS
# (VmHWM, sampled every 0.1 s until the process ends), the part of it that is the
# kernel's capture ring mapped into the process (sized by --buffer, resident from
# the start, as tcpdump's would be), and smaudit's own: the peak less the ring.
# The last line is "live-own-kb KB" for bench/run.sh --check.
# usage: bench/live-mem.sh SMAUDIT N      (root; exit 77 when it cannot run here)
set -u
BIN=$(readlink -f "$1")
N=$2
GEN=$(readlink -f "$(dirname "$0")/../tests/scripts/synflood.py")
A=smbm-a$$ B=smbm-b$$
. "$(dirname "$0")/../tests/scripts/netns.sh"
net_need python3 tcpreplay
net_work livemem
net_ns $A $B
net_quiet $A $B # only the replay crosses the link
net_veth $A fa $B fb
python3 "$GEN" "$N" "$W/flood.pcap" --dst 198.19.0.1 || { echo "cannot write the flood capture"; exit 1; }
printf 'role ic-a 198.19.0.1\nrole ic-b 198.19.0.2\n' >"$W/site.conf"

ip netns exec $B "$BIN" live -s "$W/site.conf" -i fb -d "$W/live.db" --json-lines -o "$W/report.txt" \
	--max-sessions 10000 -Z nobody >"$W/lines" 2>"$W/err" &
pid=$!
net_wait_for "$W/lines" '"event": "start"'
ring_kb=$(awk '/^[0-9a-f]+-/ { m = ($6 ~ /^socket:/) } m && /^Rss:/ { k += $2 } END { print k + 0 }' /proc/$pid/smaps)
(while [ -e /proc/$pid/status ]; do
	awk '/^VmHWM/ { print $2 }' /proc/$pid/status >"$W/hwm.tmp" 2>/dev/null && mv "$W/hwm.tmp" "$W/hwm"
	sleep 0.1
done) &
sampler=$!
net_replay $A fa "$W/flood.pcap"
rate=$NET_RATE
kill -TERM $pid
wait $pid
wait $sampler
hwm=$(cat "$W/hwm")
read -r packets dropped <<<"$(python3 -c '
import json, sys
end = [e for e in map(json.loads, open(sys.argv[1])) if e["event"] == "end"]
print(end[0]["packets"], end[0]["dropped"]) if end else print("- -")
' "$W/lines")"
own=$((hwm - ring_kb))
echo "live: $N SYNs of new sessions at ${rate:-?} packets/s, --max-sessions 10000: $packets counted, $dropped dropped;" \
	"peak RSS $((hwm / 1024)) MB = kernel capture ring $((ring_kb / 1024)) MB + smaudit's own $((own / 1024)) MB"
echo "live-own-kb $own"
