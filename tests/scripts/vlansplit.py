#!/usr/bin/env python3
"""Re-frames a capture (Ethernet, Linux cooked SLL or SLL2, classic pcap) as Ethernet
with VLAN tags given by the direction of each packet, as a span port of a routed hop
shows it: the two directions of a conversation on different VLANs.

vlansplit.py split A B IN OUT   packets from the lower address (IPv4/IPv6 source
                                sorts before the destination) tagged A, the others B
vlansplit.py copy A B IN OUT    every packet twice, on the VLAN it comes in on and
                                1 us later on the one it leaves on (A then B from the
                                lower address, B then A from the other): a span of
                                both VLANs, both ways
A tag is a VLAN ID (802.1Q), OUTER.INNER (802.1ad + 802.1Q) or 'none' (untagged)."""
import struct
import sys


def tags(spec):
    if spec == "none":
        return b""
    vids = [int(v) for v in spec.split(".")]
    out = b""
    for i, vid in enumerate(vids):
        tpid = b"\x88\xa8" if len(vids) == 2 and i == 0 else b"\x81\x00"
        out += tpid + struct.pack("!H", vid)
    return out


def main(mode, a, b, src, dst):
    data = open(src, "rb").read()
    magic = data[:4]
    e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    vmaj, vmin, zone, sig, snap, link = struct.unpack(e + "HHiIII", data[4:24])
    out = [magic + struct.pack(e + "HHiIII", vmaj, vmin, zone, sig, snap + 8, 1)]
    ta, tb = tags(a), tags(b)
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack(e + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if link == 276:  # SLL2
            proto, payload = pkt[0:2], pkt[20:]
        elif link == 113:  # SLL
            proto, payload = pkt[14:16], pkt[16:]
        elif link == 1:
            proto, payload = pkt[12:14], pkt[14:]
        else:
            sys.exit("vlansplit.py: link type %d not handled" % link)
        if proto == b"\x08\x00":
            low = payload[12:16] < payload[16:20]
        elif proto == b"\x86\xdd":
            low = payload[8:24] < payload[24:40]
        else:
            low = True
        first, second = (ta, tb) if low else (tb, ta)
        copies = [(first, 0)] if mode == "split" else [(first, 0), (second, 1)]
        for tag, later in copies:
            frame = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01" + tag + proto + payload
            s, f = sec, frac + later * (1000 if nano else 1)
            if f >= (10**9 if nano else 10**6):
                s, f = s + 1, f - (10**9 if nano else 10**6)
            out.append(struct.pack(e + "IIII", s, f, len(frame),
                                   wirelen - len(pkt) + len(frame)) + frame)
    open(dst, "wb").write(b"".join(out))


if __name__ == "__main__":
    if len(sys.argv) != 6 or sys.argv[1] not in ("split", "copy"):
        sys.exit(__doc__)
    main(*sys.argv[1:])
