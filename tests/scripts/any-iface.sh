#!/usr/bin/env bash
# A Linux host that routes between the two clusters, with a firewall of its own
# (nftables), captured on it with `tcpdump -i any`: every packet it forwards is in
# the capture twice (arriving, leaving), three times on its B side, a bridge (the
# bridge's copy and its port's).  smaudit must count each packet once (tshark's
# frames on the router's A-side interface are the oracle), say that the capture
# holds such copies, and the recipe the note names (each interface as a --sensor,
# split with tshark) must say where the firewall acted:
#   198.18.1.2 -> 198.18.2.2:11104  forwarded                 ok
#   198.18.1.2 -> 198.18.2.2:11105  dropped by the router     no-answer, lost between its interfaces
#   198.18.1.2 -> 198.18.2.2:3260   reset by the router       rejected, not by 198.18.2.2
# Both cooked headers: SLL2 (tcpdump's default for 'any') and SLL (-y LINUX_SLL,
# no interface index: the same packet again within 50 ms is a copy).
# usage: any-iface.sh SMAUDIT      (root; from the repository root)
set -u
bin=$(readlink -f "$1")
here=$(cd "$(dirname "$0")" && pwd)
. "$here/netns.sh"
# first, a router's own 'any' capture from elsewhere (nDPI's rtsp.pcap, SLL): each packet
# is there four times (arriving on a bridge port and on the bridge, leaving, seen on the
# far port), and arrives at the host once (packet type 0): tshark counts those
rtsp=${CORPUS:-../shared/corpus}/ndpi/rtsp.pcap
if [ -f "$rtsp" ] && command -v tshark >/dev/null; then
	cw=$(mktemp -d)
	printf 'role ic-a 10.1.1.10\nrole ic-b 10.2.2.2\n' >"$cw/site.conf"
	"$bin" audit -q -s "$cw/site.conf" -d "$cw/r.db" "$rtsp" >/dev/null 2>&1
	got=$(sqlite3 "$cw/r.db" "SELECT sport, sum(pkts_fwd + pkts_rev) FROM sessions WHERE proto = 'tcp' GROUP BY 1 ORDER BY 1" 2>/dev/null ||
		python3 -c "import sqlite3,sys; [print('%d|%d' % r) for r in sqlite3.connect(sys.argv[1]).execute(\"SELECT sport, sum(pkts_fwd + pkts_rev) FROM sessions WHERE proto = 'tcp' GROUP BY 1 ORDER BY 1\")]" "$cw/r.db")
	want=$(tshark -r "$rtsp" -Y 'sll.pkttype == 0 && tcp' -T fields -e tcp.srcport -e tcp.dstport 2>/dev/null |
		awk '{n[$1 == 8554 ? $2 : $1]++} END {for (p in n) print p "|" n[p]}' | sort -n)
	check "rtsp.pcap (a router's SLL capture): each packet once, as tshark's arriving copies" \
		[ "$got" = "$want" ]
	[ "$got" = "$want" ] || { echo "smaudit:"; echo "$got"; echo "tshark:"; echo "$want"; }
	rm -rf "$cw"
else
	echo "SKIP rtsp.pcap: the shared corpus (../shared/corpus) is not here"
fi
net_need nft tcpdump tshark python3 timeout
net_work anyif
A=smaudit-anyif-a R=smaudit-anyif-r B=smaudit-anyif-b
net_ns $A $R $B
net_quiet $A $R $B
net_veth $A a0 $R r0
net_veth $R r1 $B b1
ip -n $R link add rbr type bridge || skip "bridges are not permitted here"
ip -n $R link set r1 master rbr
ip -n $R link set rbr up
ip -n $A addr add 198.18.1.2/24 dev a0
ip -n $R addr add 198.18.1.1/24 dev r0
ip -n $R addr add 198.18.2.1/24 dev rbr
ip -n $B addr add 198.18.2.2/24 dev b1
ip -n $A route add 198.18.2.0/24 via 198.18.1.1
ip -n $B route add 198.18.1.0/24 via 198.18.2.1
ip netns exec $R sysctl -qw net.ipv4.ip_forward=1
ip netns exec $R nft -f - <<'NFT' || skip "nftables is not usable in a namespace here"
table inet fw {
	chain forward {
		type filter hook forward priority 0; policy accept;
		tcp dport 11105 drop
		tcp dport 3260 reject with tcp reset
	}
}
NFT
peer() { timeout 60 ip netns exec "$1" python3 "$here/tcppeer.py" "${@:2}"; }
peer $B serve 198.18.2.2 -p 11104 11105 3260 >"$W/serve.out" 2>&1 &
net_wait_for "$W/serve.out" listening || skip "the server did not start: $(cat "$W/serve.out")"
ip netns exec $R tcpdump -n -U -i any -w "$W/any2.pcap" tcp 2>"$W/td2.err" &
ip netns exec $R tcpdump -n -U -i any -y LINUX_SLL -w "$W/any1.pcap" tcp 2>"$W/td1.err" &
net_wait_for "$W/td2.err" "listening on" || skip "tcpdump did not start"
net_wait_for "$W/td1.err" "listening on" || skip "tcpdump -y LINUX_SLL did not start"
# 11104 last too: each interface's capture spans the failures (a sensor that saw
# nothing after a failure may have stopped capturing before it)
for port in 11104 11105 3260 11104; do
	peer $A connect 198.18.1.2 198.18.2.2 $port --syncnt 1 >>"$W/connect.out" 2>&1
done
sleep 1.5
ip netns pids $R | xargs -r kill -INT 2>/dev/null # both tcpdumps (the router runs nothing else)
wait 2>/dev/null

r0=$(ip -n $R -o link show r0 | cut -d: -f1)
n() { tshark -r "$W/any2.pcap" -Y "$1" 2>/dev/null | wc -l; }
check "tshark: SLL2 capture" bash -c "capinfos -E '$W/any2.pcap' 2>/dev/null | grep -q 'cooked-mode capture v2'"
check "tshark: packets of 11104 forwarded through the bridge and its port (3 copies)" \
	[ "$(n 'tcp.port==11104')" -eq $((3 * $(n "tcp.port==11104 && sll.ifindex==$r0"))) ]
check "tshark: SYNs to 11105 only on the arriving interface" \
	[ "$(n 'tcp.dstport==11105 && tcp.flags.syn==1')" -eq "$(n "tcp.dstport==11105 && sll.ifindex==$r0")" ]
check "tshark: resets of 3260 only on the arriving interface" \
	[ "$(n 'tcp.srcport==3260 && tcp.flags.reset==1')" -ge 1 ]

cat >"$W/site.conf" <<'SITE'
role ic-a 198.18.1.2
role ic-b 198.18.2.2
SITE
# the oracle: every conversation's frames on the router's A side (A's arriving, B's
# answers leaving), one copy each
at_r0() { tshark -r "$W/any2.pcap" -Y "sll.ifindex==$r0 $1" -T fields -e tcp.srcport -e tcp.dstport 2>/dev/null |
	awk '{p = $1 < $2 ? $2 : $1; n[p]++} END {for (p in n) print p, n[p]}' | sort; }
smaudit_pkts() { # CAPTURE COLUMNS
	rm -f "$W/$1.db"
	"$bin" audit -q -s "$W/site.conf" -d "$W/$1.db" --format json -o "$W/$1.json" "$W/$1.pcap" 2>"$W/$1.err"
	python3 - "$W/$1.db" "$2" <<'PY'
import sqlite3, sys
for sport, n in sqlite3.connect(sys.argv[1]).execute(
        "SELECT sport, %s FROM sessions WHERE proto = 'tcp'" % sys.argv[2]):
    print(sport, n)
PY
}
at_r0 "" >"$W/any2.oracle"
cp "$W/any2.oracle" "$W/any1.oracle"
for cap in any2 any1; do
	cols=pkts_fwd+pkts_rev
	smaudit_pkts $cap $cols | sort >"$W/$cap.pkts"
	check "$cap: every session's packets ($cols) counted once (tshark on one interface)" \
		diff "$W/$cap.oracle" "$W/$cap.pkts"
	check "$cap: JSON says how many copies were left out" \
		python3 -c "import json,sys; assert json.load(open(sys.argv[1]))['run']['interface_copies'] > 0" "$W/$cap.json"
	"$bin" audit -s "$W/site.conf" --color never "$W/$cap.pcap" >"$W/$cap.txt" 2>&1
	syns=$(n 'tcp.dstport==11105 && tcp.flags.syn==1')
	check "$cap: 11105 no-answer with $syns SYN sent (tshark)" grep -q "never answered ($syns SYN sent)" "$W/$cap.txt"
	check "$cap: 11104 ok" grep -qE '^  ok +tcp/11104  ic-a 198.18.1.2 -> ic-b 198.18.2.2' "$W/$cap.txt"
	check "$cap: 3260 rejected" grep -qE '^  rejected +tcp/3260  ic-a 198.18.1.2 -> ic-b' "$W/$cap.txt"
	check "$cap: the note names the copies and the recipe" grep -q "seen again on another interface of the capturing host.*--sensor" "$W/$cap.txt"
done

# the recipe (docs/verdicts.md): one capture file an interface, each a sensor
ifs=$(tshark -r "$W/any2.pcap" -T fields -e sll.ifindex 2>/dev/null | sort -un)
args=()
for i in $ifs; do
	tshark -r "$W/any2.pcap" -Y "sll.ifindex==$i" -w "$W/if$i.pcap" 2>/dev/null
	args+=(--sensor "if$i=$W/if$i.pcap")
done
"$bin" audit -s "$W/site.conf" --color never "${args[@]}" >"$W/sensors.txt" 2>&1
check "sensors: 11105 lost between two interfaces of the router" \
	grep -qE "never answered.*lost between if[0-9]+ and if[0-9]+" "$W/sensors.txt"
check "sensors: the 3260 reset made at the router, not by 198.18.2.2" \
	grep -qE "made between if[0-9]+ and if[0-9]+, not by 198.18.2.2" "$W/sensors.txt"
check "sensors: no copies noted (each sensor its own interface)" bash -c "! grep -q 'seen again on another interface' '$W/sensors.txt'"
[ $fails -eq 0 ] || { head "$W"/*.oracle "$W"/*.pkts; sed -n '/MISSING/,/^NOT APPLICABLE/p' "$W/any2.txt" | head -30; cat "$W/sensors.txt" | grep -A3 'tcp/11105\|tcp/3260' | head; }
echo "any-iface: $fails failed"
[ $fails -eq 0 ]
