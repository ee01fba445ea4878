#!/usr/bin/env python3
"""Cuts a classic pcap file into files of N records each, as tcpdump -C or -G leaves
a capture: DIR/part-00000.pcap, part-00001.pcap, ... in time order.  Prints the
number of records.   usage: pcap-split.py CAPTURE (N | --parts P) DIR"""
import os
import struct
import sys


def records(f, end):
    """Counts the records of f from its first record on (their headers only)."""
    count = 0
    while True:
        rec = f.read(16)
        if len(rec) < 16:
            return count
        f.seek(struct.unpack(end + "I", rec[8:12])[0], os.SEEK_CUR)
        count += 1


src, out = sys.argv[1], sys.argv[-1]
os.makedirs(out, exist_ok=True)
with open(src, "rb") as f:
    head = f.read(24)
    end = "<" if head[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    if sys.argv[2] == "--parts":
        n = max(1, -(-records(f, end) // int(sys.argv[3])))
        f.seek(24)
    else:
        n = int(sys.argv[2])
    total, part, dst = 0, 0, None
    while True:
        rec = f.read(16)
        if len(rec) < 16:
            break
        caplen = struct.unpack(end + "I", rec[8:12])[0]
        if total % n == 0:
            if dst:
                dst.close()
            dst = open(os.path.join(out, "part-%05d.pcap" % part), "wb")
            dst.write(head)
            part += 1
        dst.write(rec + f.read(caplen))
        total += 1
    if dst:
        dst.close()
print(total)
