#!/bin/sh
# Installs what smaudit needs from Debian's packages, only what is missing.
#   scripts/deps.sh          build and run:  compiler, cmake, libpcap, libnids, SQLite, libpq (PostgreSQL),
#                            zlib, libzstd, liblz4 (compressed captures), OpenSSL libcrypto (SHA-256),
#                            libcap-ng and libseccomp (live: privileges, sandbox)
#   scripts/deps.sh --test   also the test tools: cmocka, tshark, sqlite3, tcpdump, clang, GNU time,
#                            setcap (libcap2-bin: live_priv's file-capabilities start),
#                            tgt and libiscsi-bin (real iSCSI: tests/scripts/make-iscsi-capture.sh),
#                            man-db, zsh and file (the install test: man page, completions, .deb),
#                            gzip, zstd and lz4 (compressed copies of pcaps/ in tests/scripts/compressed.sh),
#                            tcpreplay (the live_flood test), postgresql (the pg test's own server)
set -e
pkgs="build-essential cmake pkg-config libpcap-dev libnids-dev libsqlite3-dev libpq-dev zlib1g-dev libzstd-dev liblz4-dev libssl-dev libcap-ng-dev libseccomp-dev"
[ "${1:-}" = "--test" ] && pkgs="$pkgs libcmocka-dev tshark sqlite3 tcpdump nftables iproute2 procps libcap2-bin clang time python3 chromium tgt libiscsi-bin man-db zsh file gzip zstd lz4 tcpreplay postgresql"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
