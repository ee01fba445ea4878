#!/usr/bin/env python3
"""Writes a classic pcap (Ethernet, Linux cooked SLL2, ...) over as pcapng that
declares capture loss, as dumpcap writes it:

ngdrops.py isb IN OUT   interface statistics blocks after the packets: isb_ifdrop 3000
                        then 4000 and isb_osdrop 1000 (counters since the start: the
                        capture dropped 5000)
ngdrops.py epb IN OUT   every 50th enhanced packet block with epb_dropcount 7 (packets
                        lost before it)
ngdrops.py pb IN OUT    obsolete packet blocks, every 50th with drops_count 3
"""
import struct
import sys


def block(kind, body):
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", kind, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


def opt(code, value):
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def main(mode, src, dst):
    d = open(src, "rb").read()
    assert d[:4] == b"\xd4\xc3\xb2\xa1", "a little-endian microsecond pcap"
    snap, link = struct.unpack("<II", d[16:24])
    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)),
           block(1, struct.pack("<HHI", link, 0, snap))]
    off, i, last = 24, 0, 0
    while off + 16 <= len(d):
        sec, us, caplen, wirelen = struct.unpack("<IIII", d[off:off + 16])
        frame = d[off + 16:off + 16 + caplen]
        off += 16 + caplen
        t = sec * 1000000 + us
        last = t
        body_opts = b""
        if mode == "epb" and i % 50 == 49:
            body_opts = opt(4, struct.pack("<Q", 7)) + opt(0, b"")
        data = frame + b"\0" * (-len(frame) % 4)
        if mode == "pb":
            drops = 3 if i % 50 == 49 else 0
            out.append(block(2, struct.pack("<HHIIII", 0, drops, t >> 32, t & 0xFFFFFFFF, caplen,
                                            wirelen) + data))
        else:
            out.append(block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, caplen, wirelen)
                             + data + body_opts))
        i += 1
    if mode == "isb":
        for ifdrop, osdrop in ((3000, 0), (4000, 1000)):
            out.append(block(5, struct.pack("<III", 0, last >> 32, last & 0xFFFFFFFF) +
                             opt(5, struct.pack("<Q", ifdrop)) + opt(7, struct.pack("<Q", osdrop)) +
                             opt(0, b"")))
    open(dst, "wb").write(b"".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("isb", "epb", "pb"):
        sys.exit(__doc__)
    main(*sys.argv[1:])
