#!/usr/bin/env bash
# The progress line of a long audit, on a terminal (script(1) gives smaudit a pty): file k
# of n with its name, the percentage of the bytes of all files, the rate and the time
# left; on stdin the bytes read instead of a percentage; none with -q or when stderr is
# not a terminal.   usage: progress.sh SMAUDIT   (from the repository root; needs script(1))
set -u
bin=$(readlink -f "$1")
command -v script >/dev/null || { echo "SKIP: script(1) (util-linux) is missing"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
S=$(readlink -f pcaps/site.conf)

# About 65 MB and 85,000 packets a file (bench/gen.py).
python3 bench/gen.py "$work/span-a.pcap" --sessions 3000 --concurrency 500 --bulk-segments 30 \
	--pps 20000 --seed 7 >/dev/null
gzip -1 -c "$work/span-a.pcap" >"$work/span-b.pcap.gz"
cp "$work/span-a.pcap" "$work/span-c.pcap" # a third file (a link to the first would be read once)

on_tty() { # COMMAND: its terminal output, carriage returns as new lines
	script -qec "$1" /dev/null </dev/null | tr '\r' '\n'
}
# The files on a terminal, smaudit stopped (SIGSTOP) for 1.2 s three times, 0.1 s apart:
# the line is due once a second, so even a fast build shows it before the end.
script -qec "'$bin' audit -s '$S' $work/span-?.pcap* >/dev/null & echo \$! >'$work/pid'; wait \$!" \
	/dev/null </dev/null >"$work/tty" &
sp=$!
for _ in 1 2 3; do
	kill -0 $sp 2>/dev/null || break
	sleep 0.1
	pid=$(cat "$work/pid" 2>/dev/null) || continue
	[ -n "$pid" ] && kill -STOP "$pid" 2>/dev/null && sleep 1.2 && kill -CONT "$pid" 2>/dev/null
done
wait $sp
out=$(tr '\r' '\n' <"$work/tty")
line='smaudit: file [1-3]/3 span-[abc]\.pcap(\.gz)?, [0-9]+% of [0-9.]+ MB, [0-9.]+ [kMG]?B/s(, [0-9]+:[0-9]{2}:[0-9]{2} left)?, [0-9]+ packets, [0-9]+ sessions'
echo "$out" | grep -Eq "$line" && ok || bad "no progress line like /$line/ on a terminal: $(echo "$out" | head -c 600)"
echo "$out" | grep -Eq ' left, ' && ok || bad "the progress line never says the time left: $(echo "$out" | grep smaudit: | head -3)"
# the percentage grows and stays within 0..100 (files are read in time order, and these
# three hold the same times: the line may name any of them)
echo "$out" | grep -Eo ', [0-9]+% of' | tr -dc '0-9\n' | awk 'NR > 1 && $1 < prev {bad = 1} $1 > 100 {bad = 1} {prev = $1} END {exit bad}' &&
	ok || bad "percentages go backwards or past 100: $(echo "$out" | grep -Eo '[0-9]+% of' | tr '\n' ' ')"

# stdin fed slowly (a capture arriving over two seconds), so that the line shows
cat >"$work/slow.py" <<'PY'
import sys, time
d = open(sys.argv[1], "rb").read()
for i in range(0, len(d), len(d) // 40 + 1):
    sys.stdout.buffer.write(d[i:i + len(d) // 40 + 1])
    sys.stdout.buffer.flush()
    time.sleep(0.05)
PY
out=$(on_tty "python3 '$work/slow.py' '$work/span-b.pcap.gz' | '$bin' audit -s '$S' -r - >/dev/null")
echo "$out" | grep -Eq 'smaudit: file 1/1 -, [0-9.]+ [kMG]?B read, [0-9.]+ [kMG]?B/s, [0-9]+ packets' && ok ||
	bad "stdin: no progress line with the bytes read: $(echo "$out" | head -c 400)"

out=$(on_tty "'$bin' audit -q -s '$S' '$work/span-a.pcap' >/dev/null")
echo "$out" | grep -q 'smaudit: file' && bad "-q still shows progress" || ok
"$bin" audit -s "$S" "$work/span-a.pcap" >/dev/null 2>"$work/err"
grep -q 'smaudit: file' "$work/err" && bad "progress written to a stderr that is not a terminal" || ok

echo "progress: $pass passed, $fail failed"
[ $fail -eq 0 ]
