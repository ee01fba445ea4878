#!/usr/bin/env python3
"""Seeds for the fuzz targets from classic pcap files (pcaps/ and ../shared/corpus).

seeds.py OUTDIR CAPTURE...   writes OUTDIR/decode/* (one packet each, with the link
type selector fuzz_decode.c expects), OUTDIR/session/* (runs of packets in the
record format of fuzz_session.c), and the files' first 4 KB as they are in
OUTDIR/pcap/* (classic pcap) and OUTDIR/pcapng/* (pcapng) for fuzz_pcap.c and
fuzz_pcapng.c.  Other files are skipped.
"""
import os, struct, sys

LINKTYPES = [1, 0, 9, 12, 14, 50, 51, 101, 104, 105, 108, 113, 119, 127, 192, 228, 229,
             239, 276, 147, 999]

def packets(path, limit):
    try:
        d = open(path, "rb").read(4 << 20)
    except OSError:
        return None, []
    if len(d) < 24:
        return None, []
    magic = d[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return None, []
    lt = struct.unpack(e + "I", d[20:24])[0] & 0xFFFF
    out, o = [], 24
    while o + 16 <= len(d) and len(out) < limit:
        caplen = struct.unpack(e + "I", d[o + 8:o + 12])[0]
        if caplen > 65535 or o + 16 + caplen > len(d):
            break
        out.append(d[o + 16:o + 16 + caplen])
        o += 16 + caplen
    return lt, out

def main():
    outdir = sys.argv[1]
    os.makedirs(outdir + "/decode", exist_ok=True)
    os.makedirs(outdir + "/session", exist_ok=True)
    os.makedirs(outdir + "/pcap", exist_ok=True)
    os.makedirs(outdir + "/pcapng", exist_ok=True)
    n = 0
    for i, path in enumerate(sys.argv[2:]):
        try:
            head = open(path, "rb").read(4096)
        except OSError:
            head = b""
        kind = "pcapng" if head[:4] == b"\x0a\x0d\x0d\x0a" else "pcap"
        if len(head) >= 24 and (kind == "pcapng" or head[:4] in (
                b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d")):
            open("%s/%s/%d" % (outdir, kind, i), "wb").write(head)
            n += 1
        lt, pkts = packets(path, 64)
        if lt is None or not pkts:
            continue
        sel = LINKTYPES.index(lt) if lt in LINKTYPES else len(LINKTYPES) - 1
        for k, p in enumerate(pkts[:8]):
            open("%s/decode/%d-%d" % (outdir, i, k), "wb").write(struct.pack("<H", sel) + p)
            n += 1
        if lt == 1:
            rec = b"".join(struct.pack("<HH", len(p), 1) + p for p in pkts)
            open("%s/session/%d" % (outdir, i), "wb").write(rec)
    print("%d seeds in %s" % (n, outdir))

main()
