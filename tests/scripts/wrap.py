#!/usr/bin/env python3
"""Carries every IP packet of a classic pcap (Ethernet, Linux cooked SLL or SLL2)
through a tunnel, as a capture point between the tunnel's endpoints sees it:

  wrap.py IN OUT KIND [--mtu N] [--same-id] [--reverse]

KIND: gre (IP in GRE), teb (Ethernet in GRE), erspan2 (ERSPAN type II, Ethernet in
GRE), ipip (IPv4 or IPv6 in IPv4), vxlan (Ethernet in UDP 4789).  The outer
datagram goes from 198.19.99.1 to 198.19.99.2 (no site's addresses).  Two kinds
carry no tunnel: eth (each packet in an Ethernet frame as it is), frag (each
IPv4 packet itself cut into fragments by --mtu; IPv6 ones as they are), ahfrag (the
same with an AH header before the transport header, RFC 4302) and frag6 (each IPv6
packet cut into fragments whose fragmentable part starts with a Destination Options
header, RFC 8200 4.5; IPv4 ones as they are).
--mtu N     the outer IPv4 datagram is cut into fragments of at most N bytes (IP
            header included) where it is larger, as a router on a path of that MTU
--same-id   every outer datagram has IP ID 7 (a device that repeats IDs, or IDs
            that wrapped): a datagram's fragments are told apart by time only
--reverse   the fragments of a datagram are written last first
Frames that are not IP (ARP) stay as they are, for the link kinds; ipip drops them.
"""
import struct, sys

def records(path):
    d = open(path, "rb").read()
    le = d[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1")
    end = "<" if le else ">"
    link = struct.unpack(end + "I", d[20:24])[0]
    out, off = [], 24
    while off + 16 <= len(d):
        ts, frac, cl, ol = struct.unpack(end + "IIII", d[off:off + 16])
        out.append((ts, frac, d[off + 16:off + 16 + cl]))
        off += 16 + cl
    return d[:24], end, link, out

def ethertype_payload(link, frame):
    if link == 1:
        et, p = struct.unpack("!H", frame[12:14])[0], frame[14:]
        while et in (0x8100, 0x88A8):
            et, p = struct.unpack("!H", p[2:4])[0], p[4:]
        return et, p
    if link == 113:
        return struct.unpack("!H", frame[14:16])[0], frame[16:]
    if link == 276:
        return struct.unpack("!H", frame[0:2])[0], frame[20:]
    sys.exit("wrap.py: link type %d not handled" % link)

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF

OUTER = (bytes([198, 19, 99, 1]), bytes([198, 19, 99, 2]))

def ipv4(proto, payload, ident, off8=0, more=False, ttl=64, addrs=OUTER):
    h = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident,
                              (0x2000 if more else 0) | off8, ttl, proto, 0,
                              addrs[0], addrs[1]))
    h[10:12] = struct.pack("!H", csum(bytes(h)))
    return bytes(h) + payload

ETH = b"\x02\x00\x00\x00\x99\x02" + b"\x02\x00\x00\x00\x99\x01"

def carrier(kind, et, ip, seq):
    """(outer IP protocol, outer payload) of one inner packet."""
    inner_eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01" + struct.pack("!H", et) + ip
    if kind == "gre":
        return 47, struct.pack("!HH", 0, et) + ip
    if kind == "teb":
        return 47, struct.pack("!HH", 0, 0x6558) + inner_eth
    if kind == "erspan2":  # GRE with a sequence number, then the 8-byte ERSPAN II header
        return 47, struct.pack("!HHI", 0x1000, 0x88BE, seq) + struct.pack("!II", 0x10000001, 0) + inner_eth
    if kind == "ipip":
        return (4 if et == 0x0800 else 41), ip
    if kind == "vxlan":
        vx = struct.pack("!II", 0x08000000, 42 << 8) + inner_eth
        return 17, struct.pack("!HHHH", 40000 + seq % 1000, 4789, 8 + len(vx), 0) + vx
    sys.exit("wrap.py: unknown kind " + kind)

def frag6(ip, mtu, ident, reverse):
    """An IPv6 packet cut into fragments of at most mtu bytes, its fragmentable part
    a Destination Options header (8 bytes of padding) and then its payload."""
    nh, rest = ip[6], ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
    part = bytes([nh, 0, 1, 4, 0, 0, 0, 0]) + rest  # PadN of 4 bytes
    step = max(8, (mtu - 48) // 8 * 8)
    frags = []
    for o in range(0, len(part), step):
        chunk = part[o:o + step]
        fh = struct.pack("!BBHI", 60, 0, o | (1 if o + step < len(part) else 0), ident)
        hdr = bytearray(ip[:40])
        hdr[4:6] = struct.pack("!H", 8 + len(chunk))
        hdr[6] = 44
        frags.append(bytes(hdr) + fh + chunk)
    return frags[::-1] if reverse else frags

def main():
    src, dst, kind = sys.argv[1:4]
    opts = sys.argv[4:]
    mtu = int(opts[opts.index("--mtu") + 1]) if "--mtu" in opts else 0
    same_id, reverse = "--same-id" in opts, "--reverse" in opts
    head, end, link, recs = records(src)
    out = []
    for n, (ts, frac, frame) in enumerate(recs):
        et, ip = ethertype_payload(link, frame)
        if et not in (0x0800, 0x86DD):
            if kind != "ipip":
                out.append((ts, frac, ETH + struct.pack("!H", et) + ip))
            continue
        if kind == "eth" or (kind in ("frag", "ahfrag") and et != 0x0800) or \
                (kind == "frag6" and et != 0x86DD):
            out.append((ts, frac, ETH + struct.pack("!H", et) + ip))
            continue
        if kind == "frag6":
            for fr in frag6(ip, mtu, 7 if same_id else n * 37 + 1, reverse):
                out.append((ts, frac, ETH + b"\x86\xdd" + fr))
            continue
        ident = 7 if same_id else (n * 37 + 1) & 0xFFFF
        addrs, ttl = OUTER, 64
        if kind in ("frag", "ahfrag"):  # the packet's own datagram (options dropped), cut
            ihl = (ip[0] & 15) * 4
            total = struct.unpack("!H", ip[2:4])[0]
            proto, pay, ttl, addrs = ip[9], ip[ihl:total], ip[8], (ip[12:16], ip[16:20])
            if kind == "ahfrag":  # next header, length (4-byte words - 2), SPI, sequence, ICV
                pay = struct.pack("!BBHII", proto, 4, 0, 0x1000, n) + bytes(12) + pay
                proto = 51
        else:
            proto, pay = carrier(kind, et, ip, n)
        if mtu == 0 or 20 + len(pay) <= mtu:
            frags = [ipv4(proto, pay, ident, ttl=ttl, addrs=addrs)]
        else:
            step = (mtu - 20) // 8 * 8
            frags = [ipv4(proto, pay[o:o + step], ident, o // 8, o + step < len(pay), ttl, addrs)
                     for o in range(0, len(pay), step)]
            if reverse:
                frags.reverse()
        for f in frags:
            out.append((ts, frac, ETH + b"\x08\x00" + f))
    with open(dst, "wb") as f:
        f.write(head[:20] + struct.pack(end + "I", 1))
        for ts, frac, fr in out:
            f.write(struct.pack(end + "IIII", ts, frac, len(fr), len(fr)) + fr)

main()
