#!/usr/bin/env python3
"""Writes a synthetic span-port capture for the benchmark (classic pcap, Ethernet).

  gen.py OUT.pcap [--sessions N] [--concurrency C] [--bulk-segments K] [--pps P] [--seed S]
                 [--payload B] [--vlan-share F] [--udp-share F]

What is in it, like a span port next to an SM-as cluster pair:
- SnapMirror replication between the intercluster LIFs of pcaps/site.conf on
  11104/11105 and iSCSI (a Login first) on 3260: long sessions of full-size
  segments (about K each way on average) with delayed ACKs;
- the Mediator: TLS ClientHellos with SNI from the node-management LIFs to 31784;
- background traffic among 198.19.0.0/16 (web, database, cache ports): short;
- every 50th SYN unanswered, every 70th answered with a reset;
- a fifth of the sessions 802.1Q-tagged (--vlan-share), a tenth over IPv6 (fd00::/8);
- with --udp-share F, that part of the sessions are UDP: DNS queries and answers
  (53) and NTP (123) among the background hosts;
- --payload B: the bulk segments carry B bytes (1448, full-size, by default; the
  small-frame capture of the benchmark uses 300, as iSCSI commands, Mediator polls
  and many short transfers make a span port's traffic);
- C sessions open at any time, their packets interleaved at random; each opens
  with a handshake and ends with FIN/FIN/ACK, so the session table holds about C.
"""
import argparse
import random
import struct

LIFS_A = ["198.18.1.11", "198.18.1.12"]
LIFS_B = ["198.18.2.11", "198.18.2.12"]
LIFS6_A = ["fd00:1::11", "fd00:1::12"]
LIFS6_B = ["fd00:2::11", "fd00:2::12"]
NODE_MGMT = ["198.18.1.21", "198.18.2.21"]
MEDIATOR = "198.18.3.5"
MSS = 1448


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ip6(a):
    import socket
    return socket.inet_pton(socket.AF_INET6, a)


def csum(b):
    s = sum(struct.unpack("!10H", b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


class Flow:
    """One TCP session's frames; checksums of TCP are left zero (offload)."""

    def __init__(self, src, dst, sport, dport, vlan):
        self.v6 = ":" in src
        self.src, self.dst = (ip6(src), ip6(dst)) if self.v6 else (ip4(src), ip4(dst))
        self.sport, self.dport = sport, dport
        eth = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02"
        if vlan:
            eth += struct.pack("!HH", 0x8100, vlan)
        self.eth = eth + (b"\x86\xdd" if self.v6 else b"\x08\x00")

    def frame(self, fwd, seq, ack, flags, payload):
        sport, dport = (self.sport, self.dport) if fwd else (self.dport, self.sport)
        src, dst = (self.src, self.dst) if fwd else (self.dst, self.src)
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0)
        n = len(tcp) + len(payload)
        if self.v6:
            ip = struct.pack("!IHBB", 6 << 28, n, 6, 64) + src + dst
        else:
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + n, 0, 0x4000, 64, 6, 0, src, dst)
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        return self.eth + ip + tcp + payload

    def udp(self, fwd, payload):
        sport, dport = (self.sport, self.dport) if fwd else (self.dport, self.sport)
        src, dst = (self.src, self.dst) if fwd else (self.dst, self.src)
        udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        if self.v6:
            ip = struct.pack("!IHBB", 6 << 28, len(udp), 17, 64) + src + dst
        else:
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, src, dst)
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        return self.eth + ip + udp


def dns(i, answer):
    q = struct.pack("!HHHHHH", i & 0xFFFF, 0x8180 if answer else 0x0100, 1, 1 if answer else 0, 0, 0)
    q += b"\x03svc\x07example\x00\x00\x01\x00\x01"
    if answer:
        q += b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc6\x13\x00\x01"
    return q


def background_pair(rnd, v6):
    """Two hosts of the background traffic (198.19.0.0/16, fd00:19::/32)."""
    if v6:
        return ("fd00:19:%x::%x" % (rnd.randrange(256), rnd.randrange(1, 65535)),
                "fd00:19:%x::%x" % (rnd.randrange(256), rnd.randrange(1, 65535)))
    return ("198.19.%d.%d" % (rnd.randrange(256), rnd.randrange(1, 255)),
            "198.19.%d.%d" % (rnd.randrange(256), rnd.randrange(1, 255)))


def udp_session(i, rnd, o):
    """A DNS or NTP exchange between background hosts."""
    v6 = rnd.random() < 0.1
    vlan = 110 if rnd.random() < o.vlan_share else 0
    src, dst = background_pair(rnd, v6)
    f = Flow(src, dst, 1024 + (i * 7919) % 60000, rnd.choice([53, 53, 123]), vlan)
    for _ in range(rnd.randrange(1, 3)):
        if f.dport == 53:
            yield f.udp(True, dns(i, False))
            yield f.udp(False, dns(i, True))
        else:
            yield f.udp(True, b"\x23" + bytes(47))
            yield f.udp(False, b"\x24" + bytes(47))


def iscsi_login():
    text = (b"InitiatorName=iqn.1992-08.com.netapp:sn.4082368507\0"
            b"TargetName=iqn.1992-08.com.netapp:sn.4082368511:vs.3\0")
    return bytes([0x43, 0x87, 0, 0, 0]) + len(text).to_bytes(3, "big") + bytes(40) + text


def client_hello(sni):
    name = sni.encode()
    ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    body = b"\x03\x03" + bytes(32) + b"\x00\x00\x02\x13\x01\x01\x00" + struct.pack("!H", len(ext)) + ext
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs


def session(i, rnd, o):
    """Yields the frames of session i in order."""
    if o.udp_share and rnd.random() < o.udp_share:
        yield from udp_session(i, rnd, o)
        return
    bulk, full = o.bulk_segments, bytes(o.payload)
    kind = rnd.random()
    v6 = rnd.random() < 0.1
    vlan = 110 if rnd.random() < o.vlan_share else 0
    if kind < 0.35:  # replication / iSCSI between the intercluster LIFs
        src, dst = (rnd.choice(LIFS6_A), rnd.choice(LIFS6_B)) if v6 else (rnd.choice(LIFS_A), rnd.choice(LIFS_B))
        if rnd.random() < 0.5:
            src, dst = dst, src
        port = rnd.choice([11104, 11105, 11105, 3260])
        first = iscsi_login() if port == 3260 else bytes(rnd.getrandbits(8) for _ in range(96))
        segs = max(1, int(rnd.expovariate(1.0 / bulk)))
    elif kind < 0.40:  # Mediator
        src, dst, port, v6 = rnd.choice(NODE_MGMT), MEDIATOR, 31784, False
        first, segs = client_hello(MEDIATOR), 3
    else:  # background
        src, dst = background_pair(rnd, v6)
        port = rnd.choice([80, 8080, 5432, 6379, 9200, 443])
        first = (client_hello("svc%d.example" % rnd.randrange(100)) if port == 443
                 else b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
        segs = rnd.randrange(1, 12)
    f = Flow(src, dst, 1024 + (i * 7919) % 60000, port, vlan)
    a, b = rnd.getrandbits(32), rnd.getrandbits(32)
    yield f.frame(True, a, 0, 0x02, b"")
    if i % 50 == 0:
        return  # no answer
    if i % 70 == 0:
        yield f.frame(False, 0, a + 1, 0x14, b"")  # reset
        return
    yield f.frame(False, b, a + 1, 0x12, b"")
    a += 1
    b += 1
    yield f.frame(True, a, b, 0x10, b"")
    yield f.frame(True, a, b, 0x18, first)
    a += len(first)
    yield f.frame(False, b, a, 0x18, b"\x00" * 48)
    b += 48
    # the bulk: one side sends, the other ACKs every second segment
    sender_fwd = rnd.random() < 0.5
    for k in range(segs):
        if sender_fwd:
            yield f.frame(True, a, b, 0x10, full)
            a += len(full)
            if k % 2:
                yield f.frame(False, b, a, 0x10, b"")
        else:
            yield f.frame(False, b, a, 0x10, full)
            b += len(full)
            if k % 2:
                yield f.frame(True, a, b, 0x10, b"")
    yield f.frame(True, a, b, 0x11, b"")
    yield f.frame(False, b, a + 1, 0x11, b"")
    yield f.frame(True, a + 1, b + 1, 0x10, b"")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--sessions", type=int, default=20000)
    ap.add_argument("--concurrency", type=int, default=2000)
    ap.add_argument("--bulk-segments", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pps", type=int, default=80000,
                    help="packets per second of capture time (80000: a busy 1 Gb/s link)")
    ap.add_argument("--payload", type=int, default=MSS, help="bytes of a bulk segment")
    ap.add_argument("--vlan-share", type=float, default=0.2)
    ap.add_argument("--udp-share", type=float, default=0.0)
    o = ap.parse_args()
    rnd = random.Random(o.seed)
    out = open(o.out, "wb", buffering=1 << 20)
    out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    t_ns = 1_800_000_000 * 1_000_000_000
    step_ns = 1_000_000_000 // o.pps
    open_flows = []
    started = packets = wire = 0
    pack = struct.Struct("<IIII").pack
    while started < o.sessions or open_flows:
        while len(open_flows) < o.concurrency and started < o.sessions:
            open_flows.append(session(started, rnd, o))
            started += 1
        k = rnd.randrange(len(open_flows))
        try:
            fr = next(open_flows[k])
        except StopIteration:
            open_flows[k] = open_flows[-1]
            open_flows.pop()
            continue
        t_ns += step_ns
        t_us = t_ns // 1000
        out.write(pack(t_us // 1_000_000, t_us % 1_000_000, len(fr), len(fr)))
        out.write(fr)
        packets += 1
        wire += len(fr)
    out.close()
    print("%s: %d sessions, %d packets, %.0f bytes a frame" % (o.out, o.sessions, packets, wire / max(packets, 1)))


main()
