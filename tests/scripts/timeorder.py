#!/usr/bin/env python3
"""Writes a capture (classic pcap: Ethernet, Linux cooked SLL or SLL2) over as it
comes from capture points whose records are not in time order, each packet with
its time as taken.  A packet's side: the lower address (IPv4/IPv6 source sorts
before the destination) is side A, the other side B.

timeorder.py jitter IN OUT [US]  one file, written the way a capture of two NICs
                                 (a TAP's two ports) flushes them: side A on one,
                                 side B on the other, each NIC's packets written
                                 every US microseconds (default 2000), B's half a
                                 period after A's: a packet can come up to US us
                                 after packets taken later
timeorder.py ms IN OUTA OUTB     side A to OUTA, side B to OUTB, pcapng with
                                 millisecond times (if_tsresol 3): packets of the
                                 two files taken in the same millisecond have
                                 equal times, and no order between them is known
"""
import struct
import sys


def read(path):
    data = open(path, "rb").read()
    magic = data[:4]
    e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    snap, link = struct.unpack(e + "II", data[16:24])
    off, pkts = 24, []
    while off + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack(e + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        ns = sec * 10**9 + (frac if nano else frac * 1000)
        pkts.append((ns, frame, wirelen, side(link, frame)))
    return snap, link, pkts


def side(link, frame):
    if link == 276:  # SLL2
        proto, off = frame[0:2], 20
    elif link == 113:  # SLL
        proto, off = frame[14:16], 16
    elif link == 1:
        proto, off = frame[12:14], 14
        while proto in (b"\x81\x00", b"\x88\xa8"):
            proto, off = frame[off + 2:off + 4], off + 4
    else:
        sys.exit("timeorder.py: link type %d not handled" % link)
    ip = frame[off:]
    if proto == b"\x08\x00":
        return "A" if ip[12:16] < ip[16:20] else "B"
    if proto == b"\x86\xdd":
        return "A" if ip[8:24] < ip[24:40] else "B"
    return "A"


def jitter(src, dst, us="2000"):
    snap, link, pkts = read(src)
    period = int(us) * 1000
    # written at the flush after it was taken: A's at multiples of the period, B's half
    # a period later (the original order kept within a flush)
    def written(i):
        ns, _, _, s = pkts[i]
        shift = 0 if s == "A" else period // 2
        return ((ns - shift) // period + 1) * period + shift, i
    out = [struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, snap, link)]
    for i in sorted(range(len(pkts)), key=written):
        ns, frame, wirelen, _ = pkts[i]
        out.append(struct.pack("<IIII", ns // 10**9, ns % 10**9, len(frame), wirelen) + frame)
    open(dst, "wb").write(b"".join(out))


def block(kind, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", kind, n) + body + struct.pack("<I", n)


def ms(src, dst_a, dst_b):
    snap, link, pkts = read(src)
    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    # interface: link type, snap length, option if_tsresol (9) = 3: milliseconds
    idb = block(1, struct.pack("<HHI", link, 0, snap) + struct.pack("<HHB3x", 9, 1, 3) +
                struct.pack("<HH", 0, 0))
    for want, dst in (("A", dst_a), ("B", dst_b)):
        out = [shb, idb]
        for ns, frame, wirelen, s in pkts:
            if s == want:
                t = ns // 10**6
                out.append(block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, len(frame),
                                                wirelen) + frame))
        open(dst, "wb").write(b"".join(out))


if __name__ == "__main__":
    if len(sys.argv) in (4, 5) and sys.argv[1] == "jitter":
        jitter(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "ms":
        ms(*sys.argv[2:])
    else:
        sys.exit(__doc__)
