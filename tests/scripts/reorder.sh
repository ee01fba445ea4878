#!/usr/bin/env bash
# Reordered TCP segments are not capture loss (issue 17, section 5).  Captures made
# here: one 1,000,200-byte stream (198.18.1.11 -> 198.18.2.11:11105, handshake and
# close seen) whose data segments arrive shuffled, the first bytes of the stream
# among them; every byte is present, so missed_bytes must be 0 and the report must
# not caution about capture loss.  The same stream with 3 segments taken out must
# still count exactly their 3,000 bytes missed.
# usage: reorder.sh SMAUDIT   (from the repository root)
set -u
bin=$(readlink -f "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fails=0
check() { # description, then a command that must succeed
	local what=$1; shift
	if "$@"; then echo "ok   - $what"; else echo "FAIL - $what"; fails=$((fails + 1)); fi
}

python3 - "$work" <<'PY'
import random, struct, sys

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def ip4(a):
    return bytes(int(x) for x in a.split("."))

def tcp(src, dst, sp, dp, seq, ack, flags, data=b""):
    t = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0) + data
    c = csum(ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6, len(t)) + t)
    t = t[:16] + struct.pack("!H", c) + t[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(t), 1, 0, 64, 6, 0, ip4(src), ip4(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return bytes(6) + b"\x02" + bytes(5) + b"\x08\x00" + ip + t

C, S, cp, sp, ci, si = "198.18.1.11", "198.18.2.11", 40000, 11105, 1000, 5000

def capture(path, lose):
    pk = [tcp(C, S, cp, sp, ci, 0, 0x02), tcp(S, C, sp, cp, si, ci + 1, 0x12),
          tcp(C, S, cp, sp, ci + 1, si + 1, 0x10)]
    data = [b"\x16\x03\x01" + bytes(197)] + [bytes([i % 251]) * 1000 for i in range(1000)]
    segs, off = [], 0
    for d in data:
        segs.append(tcp(C, S, cp, sp, ci + 1 + off, si + 1, 0x18, d))
        off += len(d)
    segs = [s for i, s in enumerate(segs) if i not in lose]  # never captured
    random.Random(1).shuffle(segs)
    pk += segs
    pk += [tcp(S, C, sp, cp, si + 1, ci + 1 + off, 0x10),
           tcp(C, S, cp, sp, ci + 1 + off, si + 1, 0x11),
           tcp(S, C, sp, cp, si + 1, ci + 2 + off, 0x11),
           tcp(C, S, cp, sp, ci + 2 + off, si + 2, 0x10)]
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, p in enumerate(pk):
            f.write(struct.pack("<IIII", 1700000000, i * 100, len(p), len(p)) + p)

capture(sys.argv[1] + "/shuffled.pcap", set())
capture(sys.argv[1] + "/lost.pcap", {10, 500, 900})  # 1000-byte segments
PY
for c in shuffled lost; do
	"$bin" audit -s pcaps/site.conf -d "$work/$c.db" -o "$work/$c.txt" "$work/$c.pcap" 2>"$work/$c.err"
	rc=$?
	check "$c: audit exits 1 (the site's other flows are missing), got $rc" test $rc = 1
done
n=$(sqlite3 "$work/shuffled.db" "SELECT missed_bytes FROM runs")
check "shuffled segments: runs.missed_bytes is 0 (got $n)" test "$n" = 0
n=$(sqlite3 "$work/shuffled.db" "SELECT missed_bytes FROM sessions WHERE dport = 11105")
check "shuffled segments: the session's missed_bytes is 0 (got $n)" test "$n" = 0
check "shuffled segments: the report shows no bytes missed by the capture" \
	bash -c "! grep -q 'MISSED' '$work/shuffled.txt'"
check "shuffled segments: the report shows no capture-loss caution" \
	bash -c "! grep -q 'CAUTION' '$work/shuffled.txt'"
n=$(sqlite3 "$work/lost.db" "SELECT missed_bytes FROM runs")
check "3 segments of 1000 bytes never captured: missed_bytes is 3000 (got $n)" test "$n" = 3000
check "... and the report says so" grep -q "3000 bytes MISSED by the capture in 1 TCP session" "$work/lost.txt"
check "... with the capture-loss caution" grep -q "CAUTION: the capture missed 3000 bytes" "$work/lost.txt"
echo "$fails failure(s)"
[ $fails = 0 ]
