#!/usr/bin/env bash
# The protocol check against what real clients and servers did (tests/captures/,
# README there), with tshark's dissectors as the oracle:
#  1. a TLS client whose server answers in another protocol (an HTTP server's 400 on
#     the Mediator port, an SSH server's banner on 443), or in none (an HTML page),
#     is a protocol mismatch naming the server's protocol and its first bytes: a
#     port that does not run TLS;
#  2. a TLS 1.3 hello over 100-byte segments, IPv4 and IPv6, whose first data
#     segment of each side the capture holds late (after the second), or not at all,
#     or whose capture shows the client's side only: late is still TLS with the SNI
#     and version tshark reads; lost is unverified, never a mismatch, and the flow's
#     report line says its protocol was not verified.
# usage: app-peers.sh SMAUDIT     (from the repository root)
set -u
bin=$(readlink -f "$1")
command -v tshark >/dev/null || { echo "SKIP: needs tshark (scripts/deps.sh --test)"; exit 77; }
command -v sqlite3 >/dev/null || { echo "SKIP: needs sqlite3 (scripts/deps.sh --test)"; exit 77; }
caps=tests/captures
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

printf 'role ic-a 198.19.8.1 fd00:8::1\nrole ic-b 198.19.8.2 fd00:8::2\n' >"$work/ic.conf"
printf 'role node-mgmt-a 198.19.8.1 fd00:8::1\nrole mediator 198.19.8.2 fd00:8::2\n' >"$work/med.conf"

# audit NAME SITE CAPTURE: $work/NAME.json, .txt, .db
audit() {
	rm -f "$work/$1.db"
	"$bin" audit -q -s "$2" -d "$work/$1.db" --format json -o "$work/$1.json" "$3" 2>"$work/$1.err"
	"$bin" report -d "$work/$1.db" >"$work/$1.txt" 2>>"$work/$1.err"
}
# app_of NAME CLIENT_PORT: the app column of that session
app_of() { sqlite3 "$work/$1.db" "SELECT app FROM sessions WHERE proto = 'tcp' AND sport = $2"; }
detail_of() { sqlite3 "$work/$1.db" "SELECT app_detail FROM sessions WHERE proto = 'tcp' AND sport = $2"; }
# mismatches NAME PORT: "SESSIONS APP" summed over the JSON rows of that port, and their details
mismatches() {
	python3 - "$work/$1.json" "$2" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
rows = [m for m in d["protocol_mismatches"] if m["port"] == int(sys.argv[2])]
n, apps = 0, set()
for m in rows:
    g = re.match(r"(\d+) session\(s\) speak (\S+), not", m["detail"])
    n += int(g.group(1)); apps.add(g.group(2))
print(n, ",".join(sorted(apps)) or "-")
for m in rows:
    print(m["detail"])
PY
}

# 1. servers that answer a ClientHello in another protocol
check_server() { # NAME SITE CAPTURE PORT DISSECTOR FILTER FIELD APP
	local name=$1 site=$2 cap=$3 port=$4 dis=$5 filter=$6 field=$7 app=$8
	audit "$name" "$site" "$cap"
	# (the 400 ends in a reset: HTTP headers are read without waiting for a body)
	tshark -r "$cap" $( [ "$dis" = http ] && echo -o http.desegment_body:FALSE) -d "tcp.port==$port,$dis" -Y "tcp.srcport == $port && $filter" \
		-T fields -E occurrence=f -e tcp.dstport -e "$field" 2>/dev/null | sort -u -k1,1n >"$work/$name.oracle"
	local streams
	streams=$(wc -l <"$work/$name.oracle")
	[ "$streams" -ge 2 ] || { bad "$name: tshark finds $streams stream(s) whose server speaks $app"; return; }
	while read -r cport first; do
		local got
		got=$(app_of "$name" "$cport")
		[ "$got" = "$app" ] && ok || bad "$name: session from port $cport: app '$got', tshark reads $app from its server ($first)"
	done <"$work/$name.oracle"
	mismatches "$name" "$port" >"$work/$name.mis"
	read -r n apps <"$work/$name.mis"
	[ "$n" = "$streams" ] && [ "$apps" = "$app" ] && ok ||
		bad "$name: mismatch rows count $n session(s) speaking '$apps'; tshark: $streams speak $app"
	# the server's first bytes are what the row quotes
	local first
	first=$(head -1 "$work/$name.oracle" | cut -f2 | tr -d '\r')
	grep -qF -- "${first%% *}" "$work/$name.mis" && ok ||
		bad "$name: no mismatch row quotes the server's first bytes ($first): $(tail -n +2 "$work/$name.mis")"
	grep -q "speak $app, not tls" "$work/$name.txt" && ok || bad "$name: text report has no mismatch '$app, not tls'"
	# a row names one pair: the sessions it counts between other addresses are said
	python3 - "$work/$name.json" "$work/$name.db" "$port" <<'PY' && ok || bad "$name: a mismatch row does not say how many of its sessions are between other addresses"
import json, re, sqlite3, sys
rows = [m for m in json.load(open(sys.argv[1]))["protocol_mismatches"] if m["port"] == int(sys.argv[3])]
db = sqlite3.connect(sys.argv[2])
def count(rule, app, pair=None):
    q = "SELECT count(*) FROM sessions WHERE rule = ? AND app = ?"
    a = (rule, app)
    if pair:
        q += " AND src = ? AND dst = ?"
        a += pair
    return db.execute(q, a).fetchone()[0]
for m in rows:
    app = re.search(r"speak (\S+), not", m["detail"]).group(1)
    # the rule's sessions of that protocol, less this row's pair and the other rows' pairs
    other = count(m["rule"], app) - sum(count(m["rule"], app, (r["src"], r["dst"]))
                                        for r in rows if r["rule"] == m["rule"])
    said = re.search(r"(\d+) of them between other addresses", m["detail"])
    if other != (int(said.group(1)) if said else 0):
        print(m["detail"], "- other pairs:", other); sys.exit(1)
PY
}
check_server http "$work/med.conf" $caps/tls-client-http-server.pcap 31784 http http.response http.response.version http
check_server ssh "$work/ic.conf" $caps/tls-client-ssh-server.pcap 443 ssh ssh.protocol ssh.protocol ssh

# ... and one that answers in no protocol at all (an HTML page): a TLS server
# answers only in TLS records, so the port runs something else ('unknown')
cap=$caps/tls-client-http09-server.pcap
audit http09 "$work/ic.conf" "$cap"
# tshark: streams whose client sent a ClientHello and whose server sent data, no TLS record
tshark -r "$cap" -Y 'tcp.len > 0' -T fields -e tcp.stream -e tcp.srcport -e tcp.dstport \
	-e tls.handshake.type -e tls.record.content_type 2>/dev/null | python3 -c '
import sys
hello, srv_data, srv_tls, port = set(), set(), set(), {}
for line in sys.stdin:
    st, sp, dp, hs, ct = (line.rstrip("\n").split("\t") + [""] * 5)[:5]
    if dp == "443":
        port[st] = sp
        if "1" in hs.split(","): hello.add(st)
    else:
        srv_data.add(st)
        if ct: srv_tls.add(st)
for st in sorted(hello & srv_data - srv_tls): print(port[st])' >"$work/http09.oracle"
[ "$(wc -l <"$work/http09.oracle")" -ge 2 ] || bad "http09: tshark finds no TLS client answered without TLS records"
while read -r cport; do
	got=$(app_of http09 "$cport")
	[ "$got" = unknown ] && ok || bad "http09: session from port $cport: app '$got'; tshark reads no TLS record from its server"
	case $(detail_of http09 "$cport") in *"answered: <!DOCTYPE"*) ok ;; *) bad "http09: session from port $cport: detail lacks the server's first bytes" ;; esac
done <"$work/http09.oracle"
read -r n apps < <(mismatches http09 443)
[ "$n" = "$(wc -l <"$work/http09.oracle")" ] && [ "$apps" = unknown ] && ok ||
	bad "http09: mismatch rows count $n session(s) speaking '$apps'; tshark: $(wc -l <"$work/http09.oracle") answered without TLS"

# 2. the first data segments late, lost, or the client's side alone
for v in v4 v6; do
	cap=$caps/tls13-mss100-$v.pcap
	cport=$(tshark -r "$cap" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -T fields -e tcp.srcport 2>/dev/null | head -1)
	sni=$(tshark -r "$cap" -Y 'tls.handshake.type == 1' -T fields -e tls.handshake.extensions_server_name 2>/dev/null | head -1)
	vers=$(tshark -r "$cap" -Y 'tls.handshake.type == 1' -T fields -e tls.handshake.extensions.supported_version 2>/dev/null | head -1)
	case $vers in *0x0304*) hi=1.3 ;; *) hi=1.2 ;; esac
	[ -n "$sni" ] && [ -n "$cport" ] || { bad "$v: tshark reads no ClientHello in $cap"; continue; }
	audit whole-$v "$work/ic.conf" "$cap"
	whole=$(detail_of whole-$v "$cport")
	[ "$(app_of whole-$v "$cport")" = tls ] && case $whole in *"offers up to $hi, SNI $sni"*) true ;; *) false ;; esac && ok ||
		bad "$v whole: app $(app_of whole-$v "$cport") '$whole'; tshark: TLS up to $hi, SNI $sni"
	for how in late lost client; do
		python3 tests/scripts/firstseg.py "$cap" "$work/$how.pcap" $how
		audit $how-$v "$work/ic.conf" "$work/$how.pcap"
		app=$(app_of $how-$v "$cport")
		det=$(detail_of $how-$v "$cport")
		read -r n _ < <(mismatches $how-$v 443)
		case $how in
		late)
			[ "$app" = tls ] && [ "$det" = "$whole" ] && ok ||
				bad "$v $how: app $app '$det'; the capture in order: tls '$whole'" ;;
		client)
			[ "$app" = tls ] && [ "$det" = "TLS ClientHello offers up to $hi, SNI $sni" ] && ok ||
				bad "$v $how: app $app '$det'; tshark: TLS ClientHello up to $hi, SNI $sni" ;;
		lost)
			[ "$app" = unverified ] && ok || bad "$v $how: app $app '$det'; its first bytes are not in the capture"
			python3 - "$work/$how-$v.json" <<'PY' && ok || bad "$v $how: the tcp/443 entry does not say its protocol was not verified"
import json, sys
e = [x for x in json.load(open(sys.argv[1]))["expected"] if x["port"] == 443 and x["verdict"] == "ok"]
sys.exit(not e or "not verified" not in (e[0].get("detail") or ""))
PY
			grep -E "^  ok  tcp/443 .*not verified" "$work/$how-$v.txt" >/dev/null && ok ||
				bad "$v $how: the text's WORKING line of tcp/443 does not say its protocol was not verified" ;;
		esac
		[ "$n" = 0 ] && ok || bad "$v $how: $n session(s) in protocol mismatches (none: it is TLS)"
	done
done

echo "app_peers: $pass passed, $fail failed"
[ "$fail" = 0 ]
