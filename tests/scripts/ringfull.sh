#!/usr/bin/env bash
# Ring files (live -w DIR) on a full disk: run_sources may claim only the packets
# that are in the file (issue 17, section 5).  A network namespace made here with
# UDP on its loopback (198.18.7.1 -> 198.18.7.2, no route out), and a 64 kB tmpfs
# mounted in a private mount namespace (unshare -m) as the ring directory:
#  - full before the run: the ring file stays 0 bytes, so it must claim 0 packets;
#  - filling during the run: the packets claimed are the packets the file holds.
# Either way the source records "write failed: No space left on device" and the
# run itself completes.   usage: ringfull.sh SMAUDIT   (root; from the repository root)
set -u
BIN=$(readlink -f "$1")
N=smrf-a
. "$(dirname "$0")/netns.sh"
net_need unshare mount python3 sqlite3
net_work ringfull
net_ns $N
ip -n $N addr add 198.18.7.1/32 dev lo
ip -n $N addr add 198.18.7.2/32 dev lo
unshare -m true 2>/dev/null || skip "mount namespaces are not permitted here"
printf 'role ic-a 198.18.7.1\nrole ic-b 198.18.7.2\n' >"$W/site.conf"


# run CASE FILL: a live run of 4 s with 3000 UDP datagrams of 200 bytes; FILL=1
# fills the tmpfs first.  Inside the mount namespace, after the run, each ring
# file's name, size and the packets it really holds go to $W/CASE.files.
run() {
	local c=$1 fill=$2
	mkdir -p "$W/$c.ring"
	ip netns exec $N unshare -m --propagation private bash -s "$BIN" "$W" "$c" "$fill" <<'SH'
BIN=$1 W=$2 c=$3 fill=$4
mount -t tmpfs -o size=64k tmpfs "$W/$c.ring" || exit 1
[ "$fill" = 1 ] && dd if=/dev/zero of="$W/$c.ring/filler" bs=4k 2>/dev/null
"$BIN" live -s "$W/site.conf" -i lo -d "$W/$c.db" --duration 4 -Z root -w "$W/$c.ring" \
	-o "$W/$c.txt" >/dev/null 2>"$W/$c.err" &
live=$!
sleep 1
python3 - <<'PY'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.7.1", 40000))
for i in range(3000):
    s.sendto(bytes(200), ("198.18.7.2", 11104))
    if i % 100 == 0:
        time.sleep(0.01)
PY
wait $live
echo $? >"$W/$c.rc"
python3 - "$W/$c.ring" >"$W/$c.files" <<'PY'
import os, struct, sys
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    if not name.startswith("smaudit-"):
        continue
    b = open(os.path.join(d, name), "rb").read()
    n, off = 0, 24
    while len(b) >= 24 and off + 16 <= len(b):
        incl = struct.unpack("<I", b[off + 8:off + 12])[0]
        if off + 16 + incl > len(b):
            break
        n, off = n + 1, off + 16 + incl
    print(name, len(b), n)
PY
SH
}

for c in full filling; do
	run $c $([ $c = full ] && echo 1 || echo 0)
	rc=$(cat "$W/$c.rc" 2>/dev/null)
	check "$c: the live run ends normally on a full ring disk (exit 0 or 1, got $rc)" \
		test "$rc" = 0 -o "$rc" = 1
	check "$c: the run is stored complete" \
		test "$(sqlite3 "$W/$c.db" 'SELECT status FROM runs')" = complete
	check "$c: stderr says the ring could not be written" \
		grep -q "write failed: No space left on device" "$W/$c.err"
	sed 's/^/     ring file: /' "$W/$c.files"
	n=$(wc -l <"$W/$c.files")
	check "$c: the ring directory holds $n ring file(s)" test "$n" -ge 1
	while read -r name size held; do
		claimed=$(sqlite3 "$W/$c.db" "SELECT packets FROM run_sources WHERE path LIKE '%/$name'")
		check "$c: $name ($size bytes, $held packets in it) is claimed with $held packets (got $claimed)" \
			test "$claimed" = "$held"
		err=$(sqlite3 "$W/$c.db" "SELECT error FROM run_sources WHERE path LIKE '%/$name'")
		check "$c: $name records the write error (got '$err')" \
			test "$err" = "write failed: No space left on device"
	done <"$W/$c.files"
	live=$(sqlite3 "$W/$c.db" "SELECT packets FROM run_sources WHERE path = 'live:lo'")
	check "$c: the interface itself still counts every datagram ($live >= 3000)" test "${live:-0}" -ge 3000
done
check "full: the ring file is 0 bytes" test "$(awk '{print $2}' "$W/full.files" | head -1)" = 0
held=$(awk '{print $3}' "$W/filling.files" | head -1)
check "filling: the ring file holds some packets, not all ($held)" test "${held:-0}" -gt 0 -a "${held:-0}" -lt 3000
echo "$fails failure(s)"
[ $fails = 0 ]
