#!/usr/bin/env bash
# Tunnels kept whole, on real tunnelled captures of ../shared/corpus: every
# session inside a tunnel names its carrying session (sessions.tunnel_parent =
# the carrier's uid, in the same run), the carrier is the UDP, GRE or IP-in-IP
# flow between the tunnel endpoints, the outermost carrier is the one
# outer_src/outer_dst name, and `smaudit extract --session` gives back exactly
# the packets counted for an inner and for a carrying session.  Skips (77)
# without the corpus.
# usage: tunnels.sh SMAUDIT CORPUS-DIR
set -u
bin=$1 corpus=$2
if [ ! -d "$corpus/zeek/tunnels" ]; then
	echo "SKIP: no capture corpus at $corpus (it ships beside the repository in CI only)"
	exit 77
fi
for tool in sqlite3 tcpdump; do
	command -v $tool >/dev/null || { echo "SKIP: $tool is not installed (scripts/deps.sh --test installs it)"; exit 77; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS=detect_leaks=0
printf 'role ic-a 10.0.0.1\nrole ic-b 10.0.0.2\n' >"$work/site.conf"
pass=0 fail=0 n=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
q() { sqlite3 "$db" "$1"; }

# capture, tunnel kinds that must be seen
while read -r cap kinds; do
	f=$corpus/$cap
	[ -f "$f" ] || { bad "$cap is missing from the corpus"; continue; }
	n=$((n + 1))
	db=$work/$n.db
	"$bin" audit -q -s "$work/site.conf" -d "$db" "$f" >/dev/null 2>&1
	for k in $kinds; do
		[ "$(q "SELECT count(*) FROM sessions WHERE tunnel = '$k'")" -gt 0 ] && ok ||
			bad "$cap: no session inside a $k tunnel"
	done
	# every tunnelled session names a carrier of the same run, between tunnel endpoints
	orphans=$(q "SELECT count(*) FROM sessions i WHERE i.tunnel_parent IS NOT NULL AND NOT EXISTS
		(SELECT 1 FROM sessions o WHERE o.run_id = i.run_id AND o.uid = i.tunnel_parent
		 AND o.proto IN ('udp', '47', '4', '41'))")
	linked=$(q "SELECT count(*) FROM sessions WHERE tunnel_parent IS NOT NULL")
	unlinked=$(q "SELECT count(*) FROM sessions WHERE tunnel IS NOT NULL AND tunnel_parent IS NULL
		AND proto NOT IN ('udp', '47', '4', '41')")
	[ "$orphans" = 0 ] && [ "$linked" -gt 0 ] && [ "$unlinked" = 0 ] && ok ||
		bad "$cap: $linked linked sessions, $orphans without their carrier, $unlinked inner without a link"
	# the outermost carrier is the flow outer_src/outer_dst name
	wrong=$(q "WITH RECURSIVE up(id, top) AS (
		  SELECT i.id, i.tunnel_parent FROM sessions i WHERE i.tunnel_parent IS NOT NULL
		  UNION ALL SELECT up.id, o.tunnel_parent FROM up JOIN sessions o ON o.uid = up.top
		  WHERE o.tunnel_parent IS NOT NULL)
		SELECT count(*) FROM sessions i JOIN up ON up.id = i.id
		JOIN sessions o ON o.uid = up.top AND o.tunnel_parent IS NULL
		WHERE NOT ((o.src = i.outer_src AND o.dst = i.outer_dst) OR
		           (o.src = i.outer_dst AND o.dst = i.outer_src))")
	[ "$wrong" = 0 ] && ok || bad "$cap: $wrong sessions whose outermost carrier is not outer_src/outer_dst"
	# extract gives back the packets counted, for the busiest inner and carrying sessions
	for who in "tunnel_parent IS NOT NULL" "uid IN (SELECT tunnel_parent FROM sessions)"; do
		read -r id pk < <(q "SELECT id, pkts_fwd + pkts_rev FROM sessions WHERE $who
			ORDER BY pkts_fwd + pkts_rev DESC, id LIMIT 1" | tr '|' ' ')
		"$bin" extract -d "$db" --session "$id" -o "$work/s.pcap" >/dev/null 2>&1
		got=$(tcpdump -nr "$work/s.pcap" 2>/dev/null | grep -c "^[0-9]")
		[ "$got" = "$pk" ] && ok || bad "$cap: extract --session $id ($who) wrote $got packets, the session has $pk"
	done
done <<'EOF'
zeek/tunnels/vxlan.pcap vxlan
zeek/tunnels/geneve.pcap geneve
zeek/tunnels/gtp/gtp1_gn_normal_incl_fragmentation.pcap gtp-u
zeek/tunnels/gtp/gtp8_teredo.pcap gtp-u
zeek/tunnels/Teredo.pcap teredo
zeek/tunnels/ayiya3.pcap ayiya
zeek/tunnels/gre-sample.pcap gre
arkime/gre-erspan-vxlan.pcap erspan2
EOF
# the fragmented GTP-U capture: tshark and Zeek count 27 and 41 packets in the TCP inside
db=$work/gtp.db
"$bin" audit -q -s "$work/site.conf" -d "$db" "$corpus/zeek/tunnels/gtp/gtp1_gn_normal_incl_fragmentation.pcap" >/dev/null 2>&1
[ "$(q "SELECT pkts_fwd || '/' || pkts_rev FROM sessions WHERE proto = 'tcp'")" = "27/41" ] && ok ||
	bad "gtp1_gn_normal_incl_fragmentation: inner TCP is not 27/41 packets"
# Zeek's ERSPAN capture, whose carriers are IP fragments (GRE over a 1500-byte
# path): each TCP conversation inside has tshark's frames each way
db=$work/erspan.db
"$bin" audit -q -s "$work/site.conf" -d "$db" "$corpus/zeek/erspan.pcap" >/dev/null 2>&1
tshark -r "$corpus/zeek/erspan.pcap" -q -z conv,tcp 2>/dev/null |
	awk '/<->/ { split($1, a, ":"); split($3, b, ":"); print a[2], b[2], $7, $4 }' | sort >"$work/want"
q "SELECT sport, dport, pkts_fwd, pkts_rev FROM sessions WHERE proto = 'tcp' ORDER BY 1" | tr '|' ' ' | sort >"$work/got"
[ -s "$work/want" ] && cmp -s "$work/want" "$work/got" && ok ||
	bad "zeek/erspan.pcap: TCP frames each way differ from tshark's: $(diff "$work/want" "$work/got" | head -4 | tr '\n' ' ')"
echo "tunnels: $pass passed, $fail failed"
[ "$fail" = 0 ]
