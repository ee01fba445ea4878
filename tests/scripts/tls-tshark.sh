#!/usr/bin/env bash
# TLS facts against tshark's dissector, on TLS captures of ../shared/corpus: for
# every ClientHello tshark reads in a session whose SYN was captured, smaudit
# must say tls, and the SNI and the highest version offered (supported_versions,
# else the hello's version) must be the ones in sessions.app_detail.  Prints the figures; skips (77) without
# the corpus or tshark.
# usage: tls-tshark.sh SMAUDIT CORPUS_DIR [CAPTURE...]
set -u
bin=$1
corpus=$2
shift 2
if [ ! -d "$corpus" ] || ! command -v tshark >/dev/null; then
	echo "tls-tshark: corpus or tshark absent: skipped"
	exit 77
fi
[ $# -gt 0 ] || set -- arkime/tls-split-client-hello.pcap arkime/openssl-tls1.pcap \
	arkime/openssl-ssl3.pcap arkime/ssl-selfsign.pcap ndpi/tls_long_cert.pcap \
	ndpi/http_ipv6.pcap ndpi/tls_with_huge_ch.pcapng ndpi/tls_ech.pcapng \
	ndpi/tls_esni_sni_both.pcap ndpi/google_ssl.pcap ndpi/tls_1.3_unidirectional_client.pcapng \
	ndpi/tls_1.2_unidirectional_client.pcapng ndpi/tls_2_reasms.pcapng
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in "$@"; do
	[ -f "$corpus/$f" ] || continue
	db="$work/$(basename "$f").db"
	"$bin" audit -q -s pcaps/site.conf -d "$db" "$corpus/$f" >/dev/null 2>&1
	sqlite3 -separator '|' "$db" "SELECT '$f', src, sport, dport, app, app_detail FROM sessions WHERE proto = 'tcp' AND history LIKE 'S%'" >>"$work/smaudit"
	tshark -r "$corpus/$f" -Y 'tls.handshake.type == 1' -T fields -E occurrence=f \
		-E separator='|' -e ip.src -e ipv6.src -e tcp.srcport -e tcp.dstport \
		-e tls.handshake.extensions_server_name -e tls.handshake.version 2>/dev/null |
		sed "s#^#$f|#" >"$work/t1"
	tshark -r "$corpus/$f" -Y 'tls.handshake.type == 1' -T fields -E occurrence=a \
		-E aggregator=, -e tls.handshake.extensions.supported_version 2>/dev/null >"$work/t2"
	paste -d '|' "$work/t1" "$work/t2" >>"$work/tshark"
done
python3 - "$work/smaudit" "$work/tshark" <<'PY'
import sys
ses = {}
for line in open(sys.argv[1]):
    f, src, sport, dport, app, detail = (line.rstrip("\n").split("|", 5) + [""] * 6)[:6]
    ses[(f, src, sport, dport)] = (app, detail)
def rank(v):
    return 2 * (v - 0x300) if 0x300 <= v <= 0x304 else 7 if v >> 8 == 0x7F else -1
def name(v):
    if v in (0x2, 0x300): return "SSL %d.0" % (2 if v == 0x2 else 3)
    if 0x301 <= v <= 0x304: return "1.%d" % (v - 0x301)
    if v >> 8 == 0x7F: return "1.3 draft %d" % (v & 0xFF)
    return "0x%04x" % v
hellos = with_syn = tls = sni_ok = sni_n = ver_ok = 0
by_ver = {}
bad = []
seen = set()
for line in open(sys.argv[2]):
    f, ip4, ip6, sport, dport, sni, legacy, sv = (line.rstrip("\n").split("|") + [""] * 8)[:8]
    key = (f, ip4 or ip6, sport, dport)
    if key in seen:
        continue  # a retransmitted hello
    seen.add(key)
    hellos += 1
    if key not in ses:
        continue  # no SYN captured: smaudit leaves it unverified by design
    with_syn += 1
    app, detail = ses[key]
    if app != "tls":
        bad.append("%s %s:%s->%s: smaudit says %s" % (f, key[1], sport, dport, app or "nothing"))
        continue
    tls += 1
    offered = [int(x, 16) for x in sv.split(",") if x and rank(int(x, 16)) >= 0]
    best = max(offered, key=rank) if offered else int(legacy.split(",")[0] or "0", 16)
    want = "offers up to %s" % name(best)
    by_ver[name(best)] = by_ver.get(name(best), 0) + 1
    if want in detail:
        ver_ok += 1
    else:
        bad.append("%s %s:%s: tshark %s, smaudit '%s'" % (f, key[1], sport, want, detail))
    if sni:
        sni_n += 1
        if ("SNI " + sni) in detail:
            sni_ok += 1
        else:
            bad.append("%s %s:%s: tshark SNI %s, smaudit '%s'" % (f, key[1], sport, sni, detail))
print("tls-tshark: %d ClientHellos, %d with their SYN captured, %d of those in sessions "
      "smaudit names tls" % (hellos, with_syn, tls))
print("  version agrees %d/%d (tshark: %s)" % (ver_ok, tls, ", ".join(
    "%s %d" % kv for kv in sorted(by_ver.items()))))
print("  SNI agrees %d/%d" % (sni_ok, sni_n))
for b in bad:
    print("  " + b)
sys.exit(0 if tls == with_syn and ver_ok == tls and sni_ok == sni_n else 1)
PY
