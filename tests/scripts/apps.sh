#!/usr/bin/env bash
# What protocol really runs on a port, checked on captures other projects made
# (../shared/corpus) and on pcaps/: the app and app_detail columns of sessions.
# IPv4 streams go through libnids, IPv6 and one-sided streams through our
# first-segments check.  pcaps/tls-*.pcap come from pcaps/tls-cases.py.
# usage: apps.sh SMAUDIT CORPUS_DIR
set -u
bin=$1
corpus=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
expect() { # capture, SQL condition on sessions, description[, site]
	local db="$work/$(basename "$1").db"
	rm -f "$db"
	"$bin" audit -q -s "${4:-pcaps/site.conf}" -d "$db" "$1" >/dev/null 2>&1
	local n
	n=$(sqlite3 "$db" "SELECT count(*) FROM sessions WHERE $2" 2>&1)
	if [ "$n" -ge 1 ] 2>/dev/null; then
		pass=$((pass + 1))
	else
		echo "FAIL $3: no session with $2 in $1 ($n)"
		sqlite3 "$db" "SELECT dport, app, app_detail FROM sessions WHERE app IS NOT NULL LIMIT 5"
		fail=$((fail + 1))
	fi
}
expect pcaps/healthy.pcap "dport = 3260 AND app = 'iscsi' AND app_detail LIKE 'Login request InitiatorName=iqn.1992-08.com.netapp:%'" "iSCSI login names"
expect pcaps/healthy.pcap "dport = 3260 AND app_detail GLOB 'Login request InitiatorName=iqn.1992-08.com.netapp:sn.198.18.*.* TargetName=iqn.1992-08.com.netapp:sn.198.18.*.*'" "iSCSI TargetName whole (past 96 bytes)"
expect pcaps/healthy.pcap "dport = 31784 AND app = 'tls' AND app_detail LIKE 'TLS ClientHello offers up to 1._, SNI 198.18.3.5%'" "TLS SNI"
expect pcaps/healthy.pcap "dport = 11104 AND app = 'unknown'" "NetApp's own protocol is recorded as unknown"
expect pcaps/ipv6.pcap "dport = 3260 AND app = 'iscsi' AND src LIKE 'fd00:%'" "iSCSI over IPv6 (own check)"
# Real implementations (tests/scripts/make-iscsi-capture.sh): libiscsi's tools log in
# to tgtd four times; every session is iSCSI and keeps both names whole.
expect pcaps/iscsi-real.pcap "dport = 3260 AND app = 'iscsi' AND app_detail = 'Login request InitiatorName=iqn.2026-12.test:smis-a TargetName=iqn.2026-12.test:lun0' AND (SELECT count(*) FROM sessions WHERE dport = 3260 AND app = 'iscsi') = 4" "iSCSI of libiscsi and tgtd, names whole" pcaps/iscsi-real.conf
# a client speaking another protocol than the server that answers it: the session is
# what runs on the port (the server's), its detail has both first bytes
expect pcaps/mismatch.pcap "dport = 443 AND app = 'tls' AND app_detail LIKE 'SSH-2.0-OpenSSH%; answered: TLS ServerHello chose 1.2'" "SSH on the HTTPS port"
expect pcaps/mismatch.pcap "dport = 3260 AND app = 'iscsi' AND app_detail = 'GET /api/cluster HTTP/1.1; answered: Login response'" "HTTP on the iSCSI port"
expect pcaps/tls-split6.pcap "dport = 443 AND app = 'tls' AND app_detail = 'TLS ClientHello offers up to 1.3, SNI split.example.net; ServerHello chose 1.3'" "TLS ClientHello over IPv6 in several segments (own check)"
expect pcaps/tls-onesided.pcap "dport = 443 AND app = 'tls' AND app_detail = 'TLS ClientHello offers up to 1.3, SNI one-side.example.net'" "TLS from a capture of the client's direction only"
if [ -d "$corpus" ]; then
	expect "$corpus/arkime/tls-split-client-hello.pcap" "dport = 443 AND app = 'tls' AND app_detail LIKE '%SNI clients2.google.com%'" "TLS SNI after 1 KB of ClientHello (arkime corpus)"
	expect "$corpus/tcpdump/ssh.pcap" "dport = 22 AND app = 'ssh' AND app_detail = 'SSH-2.0-OpenSSH_7.8'" "SSH banner (tcpdump corpus)"
	expect "$corpus/ndpi/tls_long_cert.pcap" "dport = 443 AND app = 'tls' AND app_detail = 'TLS ClientHello offers up to 1.3, SNI www.repubblica.it; ServerHello chose 1.2'" "TLS SNI over IPv4 (nDPI corpus)"
	expect "$corpus/ndpi/http_ipv6.pcap" "dport = 443 AND app = 'tls' AND app_detail LIKE 'TLS ClientHello offers up to 1.2, SNI www.ntop.org%'" "TLS SNI over IPv6 (nDPI corpus)"
	expect "$corpus/ndpi/http_connect.pcap" "dport = 8080 AND app = 'http' AND app_detail = 'CONNECT apache.org:443 HTTP/1.1; then TLS ClientHello offers up to 1.3, SNI apache.org'" "HTTP request line, then the TLS through the proxy (nDPI corpus)"
	expect "$corpus/ndpi/smtp-starttls.pcap" "sport = 7562 AND app = 'unknown' AND app_detail = 'then TLS ClientHello offers up to 1.2, SNI dovecot.weberlab.de'" "STARTTLS over IPv6 (our own check of the first segments)"
	expect "$corpus/ndpi/haproxy.pcap" "dport = 443 AND app = 'unverified' AND app_detail = 'then TLS ClientHello offers up to 1.3, SNI aaaaaaaaaaaaaaaa.xx'" "a hello after a PROXY protocol header, picked up mid-way"
	expect "$corpus/tcpdump/ipv4_tcp_http_xml.pcap" "dport = 80 AND app = 'http' AND app_detail = 'HTTP/1.1 200 OK'" "mid-stream pickup named by what opens a protocol (an HTTP status line)"
	expect "$corpus/ndpi/pop3_stls.pcap" "dport = 110 AND app = 'unknown' AND app_detail = 'then TLS ClientHello offers up to 1.0, SNI pop.lavabit.com'" "STARTTLS: the ClientHello after POP3's STLS, with its SNI (the session stays what it began as)"
	expect "$corpus/ndpi/imap-starttls.pcap" "dport = 143 AND app = 'unknown' AND app_detail LIKE 'then TLS ClientHello offers up to 1.2%'" "STARTTLS after IMAP's commands"
	expect "$corpus/tcpdump/bgp-addpath.pcap" "dport = 179 AND app = 'unverified'" "mid-stream pickup opening no protocol is unverified, not a failure"
else
	echo "note: $corpus absent (a user's clone): corpus captures skipped"
fi
echo "apps: $pass passed, $fail failed"
[ $fail -eq 0 ]
