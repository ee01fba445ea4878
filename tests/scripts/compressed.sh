#!/usr/bin/env bash
# Compressed captures: gzip, zstd and lz4 copies of captures in pcaps/ (made here with the
# command-line tools) give the golden reports of the plain files, text and JSON, whether
# given as a file, inside a directory or on standard input (-r -), pcap or pcapng inside;
# a truncated or corrupt compressed file is named in a clear message, never a crash.
#   usage: compressed.sh SMAUDIT   (from the repository root; needs gzip, zstd, lz4:
#   scripts/deps.sh --test; editcap for the pcapng case)
set -u
bin=$(readlink -f "$1")
for tool in gzip zstd lz4; do
	command -v $tool >/dev/null || {
		echo "SKIP: $tool is missing (scripts/deps.sh --test installs it)"
		exit 77
	}
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

compress() { # TOOL IN OUT
	case $1 in
	gzip) gzip -c "$2" >"$3" ;;
	zstd) zstd -q -c "$2" >"$3" ;;
	lz4) lz4 -q -c "$2" >"$3" ;;
	esac
}

# The report of a compressed copy, its name written back to the plain one's.
report() { # FMT SITE NAME_SHOWN NAME_WANTED ARGS...
	local fmt=$1 site=$2 shown=$3 wanted=$4
	shift 4
	"$bin" audit -q -s "$site" --format "$fmt" "$@" 2>&1 | sed "s#$shown#$wanted#g"
}

# name site exit (as in tests/golden/run.sh)
cases=("healthy pcaps/site.conf 0" "rejected pcaps/site.conf 1" "ipv6 pcaps/site6.conf 0")
for c in "${cases[@]}"; do
	set -- $c
	name=$1 site=$2 want=$3
	plain=pcaps/$name.pcap
	for tool in gzip zstd lz4; do
		z="$work/$name.pcap.$tool"
		compress $tool $plain "$z"
		for fmt in text json; do
			g=tests/golden/$name.txt
			[ $fmt = json ] && g=tests/golden/$name.json
			out=$(report $fmt $site "$z" $plain "$z")
			rc=$(
				"$bin" audit -q -s $site --format $fmt "$z" >/dev/null 2>&1
				echo $?
			)
			[ "$rc" = "$want" ] || bad "$name.$tool ($fmt): exit $rc, expected $want"
			diff -u "$g" <(printf '%s\n' "$out") >/dev/null && ok ||
				bad "$name.$tool ($fmt): report differs from $g: $(diff "$g" <(printf '%s\n' "$out") | head -5)"
		done
		# in a directory, and on standard input (against the plain file on stdin)
		mkdir -p "$work/dir-$tool"
		cp "$z" "$work/dir-$tool/"
		out=$(report text $site "$work/dir-$tool/$(basename "$z")" $plain "$work/dir-$tool")
		diff tests/golden/$name.txt <(printf '%s\n' "$out") >/dev/null && ok ||
			bad "$name.$tool in a directory: report differs"
		rm -rf "$work/dir-$tool"
		want_stdin=$("$bin" audit -q -s $site --format json -r - <$plain 2>&1)
		got_stdin=$("$bin" audit -q -s $site --format json -r - <"$z" 2>&1)
		[ "$got_stdin" = "$want_stdin" ] && ok || bad "$name.$tool on stdin: report differs"
	done
done

# pcapng inside gzip and zstd (editcap writes the pcapng)
if command -v editcap >/dev/null; then
	editcap -F pcapng pcaps/rejected.pcap "$work/rejected.pcapng"
	for tool in gzip zstd; do
		z="$work/rejected.pcapng.$tool"
		compress $tool "$work/rejected.pcapng" "$z"
		out=$(report json pcaps/site.conf "$z" pcaps/rejected.pcap "$z")
		diff tests/golden/rejected.json <(printf '%s\n' "$out") >/dev/null && ok ||
			bad "rejected.pcapng.$tool: report differs from tests/golden/rejected.json"
	done
else
	echo "note: editcap missing: pcapng-inside cases skipped"
fi

# -f on a compressed capture: the verdicts of the plain file under the same filter
lz4 -q -c pcaps/healthy.pcap >"$work/f.pcap.lz4"
want=$("$bin" audit -q -s pcaps/site.conf -f "tcp port 11105" --format json pcaps/healthy.pcap 2>&1)
got=$(report json pcaps/site.conf "$work/f.pcap.lz4" pcaps/healthy.pcap -f "tcp port 11105" "$work/f.pcap.lz4")
[ -n "$want" ] && [ "$got" = "$want" ] && ok || bad "-f on an lz4 capture: report differs from the plain file's"

# extract reads the run's compressed capture again: the same packets as from the plain file
for src in pcaps/dropped.pcap "$work/dropped.pcap.zstd"; do
	zstd -q -c pcaps/dropped.pcap >"$work/dropped.pcap.zstd"
	db="$work/ex-$(basename "$src").db"
	"$bin" audit -q -s pcaps/site.conf -d "$db" "$src" >/dev/null 2>&1
	fid=$(sqlite3 "$db" "SELECT min(id) FROM findings")
	"$bin" extract -d "$db" --finding "$fid" -o "$db.pcap" >/dev/null 2>&1
done
[ -s "$work/ex-dropped.pcap.db.pcap" ] && cmp -s "$work/ex-dropped.pcap.db.pcap" "$work/ex-dropped.pcap.zstd.db.pcap" &&
	ok || bad "extract from a zstd capture differs from extract from the plain one"

# Truncated: what could be read is reported, the file named with why it stopped (not exit 3).
z="$work/cut.pcap.gz"
gzip -c pcaps/healthy.pcap >"$work/full.gz"
head -c $(($(stat -c %s "$work/full.gz") * 2 / 3)) "$work/full.gz" >"$z"
out=$("$bin" audit -q -s pcaps/site.conf "$z" 2>&1)
rc=$?
[ $rc = 0 ] || [ $rc = 1 ] || bad "truncated gzip: exit $rc (expected 0 or 1): $out"
echo "$out" | grep -q "^smaudit: warning: $z: read stopped after [1-9][0-9]* packets: gzip data truncated" &&
	ok || bad "truncated gzip: no clear warning naming the file: $(echo "$out" | head -3)"
# zstd and lz4 keep this capture in one block: cut, nothing can be read (exit 3, named).
for tool in zstd lz4; do
	z="$work/cut.pcap.$tool"
	compress $tool pcaps/healthy.pcap "$work/full.$tool"
	head -c 2000 "$work/full.$tool" >"$z"
	out=$("$bin" audit -q -s pcaps/site.conf "$z" 2>&1)
	rc=$?
	[ $rc = 3 ] && echo "$out" | grep -q "^smaudit: $z: cannot open capture: $tool data truncated" &&
		ok || bad "truncated $tool: exit $rc: $out"
done

# Corrupt: a gzip header followed by garbage, a zstd frame with a damaged block.
printf '\037\213garbage that is not deflate at all' >"$work/bad.pcap.gz"
out=$("$bin" audit -q -s pcaps/site.conf "$work/bad.pcap.gz" 2>&1)
rc=$?
[ $rc = 3 ] && echo "$out" | grep -q "^smaudit: $work/bad.pcap.gz: cannot open capture: gzip data corrupt" &&
	ok || bad "corrupt gzip: exit $rc: $out"
zstd -q -c pcaps/healthy.pcap >"$work/bad.pcap.zst"
size=$(stat -c %s "$work/bad.pcap.zst")
printf '\377\377\377\377\377\377\377\377' | dd of="$work/bad.pcap.zst" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
out=$("$bin" audit -q -s pcaps/site.conf "$work/bad.pcap.zst" 2>&1)
rc=$?
case $rc in
0 | 1 | 3)
	echo "$out" | grep -q "$work/bad.pcap.zst: .*zstd data corrupt" && ok ||
		bad "corrupt zstd: no message naming the file: $(echo "$out" | head -3)"
	;;
*) bad "corrupt zstd: exit $rc (crash?): $(echo "$out" | head -3)" ;;
esac

echo "compressed: $pass passed, $fail failed"
[ $fail -eq 0 ]
