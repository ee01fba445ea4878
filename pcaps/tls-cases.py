#!/usr/bin/env python3
"""Writes the TLS captures the apps test reads (no traffic needed: the cases are
about segmentation and what a capture point saw, not about a stack):

tls-split6.pcap   IPv6: a 1.9 KB ClientHello (a post-quantum-sized key share before
                  the SNI) in two segments, the second one first retransmitted in
                  part, and a ServerHello choosing 1.3 through supported_versions
tls-onesided.pcap IPv4: only the client's direction captured (SYN, ACK, a
                  ClientHello offering 1.3, FIN): no SYN-ACK for libnids
usage: tls-cases.py OUTDIR
"""
import os, struct, sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp(src, dst, sport, dport, seq, ack, flags, payload, v6):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0)
    seg = hdr + payload
    if v6:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), 6)
    else:
        pseudo = src + dst + struct.pack("!xBH", 6, len(seg))
    c = csum(pseudo + seg)
    seg = seg[:16] + struct.pack("!H", c) + seg[18:]
    if v6:
        ip = struct.pack("!IHBB", 6 << 28, len(seg), 6, 64) + src + dst
        return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x86\xdd" + ip + seg
    ip = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(seg), 1, 0x4000, 64, 6, 0) + src + dst
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + seg


def ext(t, body):
    return struct.pack("!HH", t, len(body)) + body


def hello(hs_type, legacy, body_after_random, record=b"\x03\x01"):
    body = legacy + bytes(32) + body_after_random
    hs = bytes([hs_type]) + len(body).to_bytes(3, "big") + body
    return b"\x16" + record + struct.pack("!H", len(hs)) + hs


def client_hello(sni, key_share_len):
    name = sni.encode()
    exts = ext(43, b"\x04\x03\x04\x03\x03")  # supported_versions: 1.3, 1.2
    exts += ext(51, bytes(key_share_len))
    exts += ext(0, struct.pack("!HBH", len(name) + 3, 0, len(name)) + name)
    rest = b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00" + struct.pack("!H", len(exts)) + exts
    return hello(1, b"\x03\x03", rest)


def server_hello():
    exts = ext(43, b"\x03\x04")
    rest = b"\x00" + b"\x13\x01" + b"\x00" + struct.pack("!H", len(exts)) + exts
    return hello(2, b"\x03\x03", rest, b"\x03\x03")


def write(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, i * 1000, len(fr), len(fr)) + fr)


def split6(path):
    c = bytes.fromhex("fd000000000000000000000000000011")
    s = bytes.fromhex("fd000000000000000000000000000022")
    cp, sp, ci, si = 50123, 443, 1000, 9000
    ch = client_hello("split.example.net", 1800)
    sh = server_hello()
    A, S, F, P = 0x10, 0x02, 0x01, 0x18
    fr = [tcp(c, s, cp, sp, ci, 0, S, b"", 1),
          tcp(s, c, sp, cp, si, ci + 1, S | A, b"", 1),
          tcp(c, s, cp, sp, ci + 1, si + 1, A, b"", 1),
          tcp(c, s, cp, sp, ci + 1, si + 1, P, ch[:1200], 1),
          tcp(c, s, cp, sp, ci + 1 + 1100, si + 1, P, ch[1100:1300], 1),  # overlaps
          tcp(c, s, cp, sp, ci + 1 + 1300, si + 1, P, ch[1300:], 1),
          tcp(s, c, sp, cp, si + 1, ci + 1 + len(ch), P, sh, 1),
          tcp(c, s, cp, sp, ci + 1 + len(ch), si + 1 + len(sh), F | A, b"", 1),
          tcp(s, c, sp, cp, si + 1 + len(sh), ci + 2 + len(ch), F | A, b"", 1),
          tcp(c, s, cp, sp, ci + 2 + len(ch), si + 2 + len(sh), A, b"", 1)]
    write(path, fr)


def onesided(path):
    c = bytes([198, 18, 1, 11])
    s = bytes([198, 18, 2, 11])
    cp, sp, ci = 40123, 443, 5000
    ch = client_hello("one-side.example.net", 32)
    A, S, F, P = 0x10, 0x02, 0x01, 0x18
    fr = [tcp(c, s, cp, sp, ci, 0, S, b"", 0),
          tcp(c, s, cp, sp, ci + 1, 7001, A, b"", 0),
          tcp(c, s, cp, sp, ci + 1, 7001, P, ch, 0),
          tcp(c, s, cp, sp, ci + 1 + len(ch), 7001, F | A, b"", 0)]
    write(path, fr)


out = sys.argv[1] if len(sys.argv) > 1 else "."
split6(os.path.join(out, "tls-split6.pcap"))
onesided(os.path.join(out, "tls-onesided.pcap"))
