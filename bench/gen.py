#!/usr/bin/env python3
"""Writes a synthetic span-port capture for the benchmark (pcap, Ethernet).

gen.py OUT.pcap [--sessions N] [--concurrency C] [--seed S]
Sessions are TCP handshakes, a few data segments each way and a close, on the
SM-as ports (iSCSI Login on 3260, TLS ClientHello on 443/31784, opaque on
11104/11105) among background ports, between addresses of pcaps/site.conf and
198.19.0.0/16; every 50th SYN is never answered.  C sessions are open at once.
"""
import argparse, random, struct

def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF); s += s >> 16
    return ~s & 0xFFFF

def ip4(a): return bytes(int(x) for x in a.split("."))

def frame(src, dst, sport, dport, seq, ack, flags, payload, ttl=64):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, ttl, 6, 0, ip4(src), ip4(dst))
    iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + iph + tcp

LIFS_A = ["198.18.1.11", "198.18.1.12"]; LIFS_B = ["198.18.2.11", "198.18.2.12"]
def payload_for(port, rnd):
    if port == 3260:
        text = b"InitiatorName=iqn.1992-08.com.netapp:sn.1\0TargetName=iqn.1992-08.com.netapp:sn.2\0"
        return bytes([0x43, 0x87, 0, 0, 0]) + len(text).to_bytes(3, "big") + bytes(40) + text
    if port in (443, 31784):
        return b"\x16\x03\x01\x00\x2d\x01\x00\x00\x29\x03\x03" + bytes(32) + b"\x00\x00\x02\x13\x01\x01\x00"
    return bytes(rnd.getrandbits(8) for _ in range(64))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out"); ap.add_argument("--sessions", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=1000); ap.add_argument("--seed", type=int, default=1)
    o = ap.parse_args()
    rnd = random.Random(o.seed)
    f = open(o.out, "wb")
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    t = 1_800_000_000.0
    def write(fr):
        nonlocal t
        t += 0.00002
        s = int(t); us = int((t - s) * 1e6)
        f.write(struct.pack("<IIII", s, us, len(fr), len(fr)) + fr)
    open_ = []  # per open session: generator of frames
    def session(i):
        sm = rnd.random() < 0.3
        if sm:
            src, dst = rnd.choice(LIFS_A), rnd.choice(LIFS_B)
            port = rnd.choice([3260, 11104, 11105, 443])
        else:
            src = "198.19.%d.%d" % (rnd.randrange(256), rnd.randrange(1, 255))
            dst = "198.19.%d.%d" % (rnd.randrange(256), rnd.randrange(1, 255))
            port = rnd.choice([80, 8080, 5432, 6379, 9200])
        sport = 1024 + (i * 7919) % 60000
        a, b = rnd.getrandbits(32), rnd.getrandbits(32)
        yield frame(src, dst, sport, port, a, 0, 0x02, b"")
        if i % 50 == 0:
            return
        yield frame(dst, src, port, sport, b, a + 1, 0x12, b"")
        yield frame(src, dst, sport, port, a + 1, b + 1, 0x10, b"")
        a += 1; b += 1
        for k in range(rnd.randrange(2, 8)):
            p = payload_for(port, rnd) if k == 0 else bytes(200)
            yield frame(src, dst, sport, port, a, b, 0x18, p); a += len(p)
            q = bytes(400)
            yield frame(dst, src, port, sport, b, a, 0x18, q); b += len(q)
        yield frame(src, dst, sport, port, a, b, 0x11, b"")
        yield frame(dst, src, port, sport, b, a + 1, 0x11, b"")
        yield frame(src, dst, sport, port, a + 1, b + 1, 0x10, b"")
    started = 0
    while started < o.sessions or open_:
        while len(open_) < o.concurrency and started < o.sessions:
            open_.append(session(started)); started += 1
        k = rnd.randrange(len(open_))
        try:
            write(next(open_[k]))
        except StopIteration:
            open_[k] = open_[-1]; open_.pop()
    f.close()

main()
