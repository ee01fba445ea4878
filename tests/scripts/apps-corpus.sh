#!/usr/bin/env bash
# No protocol claim the wire does not support, over every capture of
# ../shared/corpus (third-party captures; tshark finds no iSCSI frame in any):
# zero sessions labelled iscsi.  The site puts every address in a monitored
# role, as corpus.sh does, so every session is classified and stored.
# usage: apps-corpus.sh SMAUDIT CORPUS-DIR
set -u
bin=$1 corpus=$2
if [ ! -d "$corpus" ]; then
	echo "SKIP: no capture corpus at $corpus (it ships beside the repository in CI only)"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'role ic-a 0.0.0.0/1 ::/1\nrole ic-b 128.0.0.0/1 8000::/1\n' >"$work/site.conf"
one() {
	f=$1
	db="$work/$(echo "$f" | md5sum | cut -c1-16).db"
	timeout 60 "$bin" audit -q -s "$work/site.conf" -d "$db" "$f" >/dev/null 2>&1
	if [ -f "$db" ]; then
		sqlite3 -separator ' ' "$db" \
		    "SELECT '$f', dport, app_detail FROM sessions WHERE app = 'iscsi'" 2>/dev/null
	fi
	rm -f "$db" "$db-wal" "$db-shm"
}
export -f one
export bin work
find "$corpus" -type f | sort | xargs -d '\n' -P 2 -n 1 bash -c 'one "$0"' >"$work/iscsi"
n=$(wc -l <"$work/iscsi")
head -n 40 "$work/iscsi"
echo "apps-corpus: $(find "$corpus" -type f | wc -l) files, $n sessions labelled iscsi (want 0)"
[ "$n" -eq 0 ]
