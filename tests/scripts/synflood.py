#!/usr/bin/env python3
"""Writes a classic pcap of N TCP SYNs of distinct sessions (Ethernet, IPv4).
Usage: synflood.py N OUT.pcap [--dst ADDR] [--distinct] [--ports K] [--pps R]
Sources walk 198.18.128.0/17 and source ports so that no two SYNs share a
session (--distinct: every SYN from a source of its own, walking 100.64.0.0/10);
the destination is ADDR (198.19.0.1) on ports 443 .. 443+K-1 (K = 1), and the
SYNs are R per second of capture time (1,000,000).  Each frame is 60 bytes (the
Ethernet minimum), as a SYN scan or storm on a span port looks."""
import argparse
import ipaddress
import struct


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--dst", default="198.19.0.1")
    ap.add_argument("--distinct", action="store_true")
    ap.add_argument("--ports", type=int, default=1)
    ap.add_argument("--pps", type=int, default=1000000)
    a = ap.parse_args()
    n, out = a.n, a.out
    dst = ipaddress.IPv4Address(a.dst).packed
    eth = bytes.fromhex("020000000002" "020000000001" "0800")
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(n):
            if a.distinct:
                src = struct.pack("!I", (100 << 24 | 64 << 16) + i % (1 << 22))
                sport = 40000
            else:
                host, port = divmod(i, 60000)
                src = bytes([198, 18, 128 + (host >> 8) % 128, host & 0xFF])
                sport = 1024 + port
            dport = 443 + i % a.ports
            tcp = struct.pack("!HHIIBBHHH", sport, dport, i, 0, 5 << 4, 0x02, 64240, 0, 0)
            pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
            tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xFFFF, 0, 64, 6, 0, src, dst)
            ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
            frame = eth + ip + tcp
            frame += b"\0" * (60 - len(frame))
            t = i * 1000000 // a.pps
            f.write(struct.pack("<IIII", t // 1000000, t % 1000000, len(frame), len(frame)))
            f.write(frame)


if __name__ == "__main__":
    main()
