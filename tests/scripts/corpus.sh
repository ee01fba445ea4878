#!/usr/bin/env bash
# Runs smaudit (built with ASan/UBSan) over every capture of ../shared/corpus:
# no crash, no sanitizer report, no hang, no session labelled iscsi (the corpus
# holds none); exit 0 or 1, or 3 only when libpcap
# itself cannot open the file or it holds no IP packet.  The site puts every
# address in a monitored role, so each file's whole report is rendered (a site
# none of whose addresses appears would end at exit 3 before the report).
# usage: corpus.sh SMAUDIT CORPUS-DIR
set -u
bin=$1 corpus=$2
if [ ! -d "$corpus" ]; then
	echo "SKIP: no capture corpus at $corpus (it ships beside the repository in CI only)"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'role ic-a 0.0.0.0/1 ::/1\nrole ic-b 128.0.0.0/1 8000::/1\n' >"$work/site.conf"
export ASAN_OPTIONS=exitcode=86:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:exitcode=87:print_stacktrace=1
one() {
	f=$1
	err="$work/$(echo "$f" | md5sum | cut -c1-16).err"
	db="$work/$(echo "$f" | md5sum | cut -c1-16).db"
	timeout 60 "$bin" audit -q -s "$work/site.conf" -d "$db" "$f" >/dev/null 2>"$err"
	rc=$?
	# the corpus holds no iSCSI (tshark finds no frame): no session may claim it
	iscsi=$(sqlite3 "$db" "SELECT count(*) FROM sessions WHERE app = 'iscsi'" 2>/dev/null || echo 0)
	rm -f "$db" "$db-wal" "$db-shm"
	if [ $rc -eq 124 ]; then echo "HANG $f"
	elif [ $rc -ne 0 ] && [ $rc -ne 1 ] && ! { [ $rc -eq 3 ] && grep -qE "cannot open capture|no IP packet was read" "$err"; }; then
		echo "BAD exit $rc $f: $(head -c 300 "$err")"
	elif [ "${iscsi:-0}" != 0 ]; then
		echo "ISCSI $f: $iscsi session(s) labelled iscsi"
	elif grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$err"; then
		echo "SANITIZER $f: $(grep -m1 -E 'AddressSanitizer|runtime error|LeakSanitizer' "$err")"
	else
		echo "OK $rc $f"
	fi
	rm -f "$err"
}
export -f one
export bin work
find "$corpus" -type f | sort | xargs -d '\n' -P 2 -n 1 bash -c 'one "$0"' >"$work/results"
total=$(wc -l <"$work/results")
bad=$(grep -vc '^OK ' "$work/results")
e0=$(grep -c '^OK 0 ' "$work/results"); e1=$(grep -c '^OK 1 ' "$work/results"); e3=$(grep -c '^OK 3 ' "$work/results")
grep -v '^OK ' "$work/results"
echo "corpus: $total files: exit 0: $e0, exit 1: $e1, exit 3 (libpcap cannot open, or no IP packet): $e3, failures: $bad"
echo "corpus: $((total - bad)) passed, $bad failed"
[ "$bad" -eq 0 ]
