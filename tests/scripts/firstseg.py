#!/usr/bin/env python3
"""Edits a classic pcap (Ethernet, IPv4/IPv6, TCP) the way a capture point can
spoil a stream's first bytes, moving or dropping whole records only:

  firstseg.py IN OUT late     the first data segment of each side of each TCP stream
                              is written after that side's second one (a reordering
                              switch, two NICs)
  firstseg.py IN OUT lost     the first data segment of each side is dropped
  firstseg.py IN OUT client   only the initiator's packets (a one-sided span), with
                              its first data segment late as above
"""
import struct, sys

def records(path):
    d = open(path, "rb").read()
    end = "<" if d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    out, off = [], 24
    while off + 16 <= len(d):
        cl = struct.unpack(end + "I", d[off + 8:off + 12])[0]
        out.append(bytearray(d[off:off + 16 + cl]))
        off += 16 + cl
    return d[:24], end, out

def tcp_of(rec):
    """(src, sport, dst, dport, flags, payload length) of an Ethernet TCP record, or None."""
    p = bytes(rec[16:])
    et, l3 = struct.unpack("!H", p[12:14])[0], 14
    if et == 0x0800 and p[l3 + 9] == 6:
        ihl = (p[l3] & 15) * 4
        total = struct.unpack("!H", p[l3 + 2:l3 + 4])[0]
        src, dst, l4, iplen = p[l3 + 12:l3 + 16], p[l3 + 16:l3 + 20], l3 + ihl, total - ihl
    elif et == 0x86DD and p[l3 + 6] == 6:
        src, dst, l4 = p[l3 + 8:l3 + 24], p[l3 + 24:l3 + 40], l3 + 40
        iplen = struct.unpack("!H", p[l3 + 4:l3 + 6])[0]
    else:
        return None
    sport, dport = struct.unpack("!HH", p[l4:l4 + 4])
    doff, flags = (p[l4 + 12] >> 4) * 4, p[l4 + 13]
    return src, sport, dst, dport, flags, iplen - doff

def main():
    src_path, dst_path, how = sys.argv[1:4]
    head, end, recs = records(src_path)
    initiator = {}   # stream key -> (src, sport) of its SYN sender
    data = {}        # (stream key, side) -> indexes of data segments
    for i, r in enumerate(recs):
        t = tcp_of(r)
        if t is None:
            continue
        src, sport, dst, dport, flags, n = t
        key = tuple(sorted([(src, sport), (dst, dport)]))
        if flags & 0x12 == 0x02:
            initiator.setdefault(key, (src, sport))
        if n > 0:
            data.setdefault((key, (src, sport)), []).append(i)
    drop, after = set(), {}
    for (key, side), idx in data.items():
        if how == "lost":
            drop.add(idx[0])
        elif len(idx) > 1:
            drop.add(idx[0])
            after[idx[1]] = idx[0]
    out = []
    for i, r in enumerate(recs):
        t = tcp_of(r)
        if how == "client" and t is not None:
            key = tuple(sorted([(t[0], t[1]), (t[2], t[3])]))
            if initiator.get(key) != (t[0], t[1]):
                continue
        if i not in drop:
            out.append(r)
        if i in after:
            late = bytearray(recs[after[i]])
            late[0:8] = r[0:8]  # taken when the segment it follows was
            out.append(late)
    with open(dst_path, "wb") as f:
        f.write(head)
        for r in out:
            f.write(r)

main()
