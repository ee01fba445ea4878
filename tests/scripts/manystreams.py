#!/usr/bin/env python3
"""Writes a classic pcap (Ethernet, IPv4) of many TCP streams open at once, more
than libnids' stream table holds (16,383 with smaudit's defaults), as a busy span
port shows them:

  manystreams.py OUT.pcap [--first N] [--idle M] [--ipv6]

1. N iSCSI sessions 198.18.1.11 -> 198.18.2.11:3260 (source ports 10000 on): each
   handshake, then the header of the client's Login request (a PDU whose text
   is still to come);
2. M sessions 198.18.1.12 -> 198.18.2.12:3260 (source ports 10000 on): a handshake
   and nothing else, so far;
3. the N sessions go on: the rest of the Login request, a Login response, the close;
4. the M sessions close without having sent a byte.

Each stream opens with a handshake and all of them are open at once: with N + M
above the table's size, opening the later ones pushes the earliest ones out of
libnids while their first PDU is half read.  --ipv6: the same between fd00:1::11
-> fd00:2::11 and fd00:1::12 -> fd00:2::12 (pcaps/site6.conf), streams that
smaudit checks without libnids, keeping each side's first bytes until its PDU is
whole.  Checksums are left zero (offload); times advance 10 us a frame."""
import argparse
import ipaddress
import struct

ENDS = {4: ("198.18.1.11", "198.18.2.11", "198.18.1.12", "198.18.2.12"),
        6: ("fd00:1::11", "fd00:2::11", "fd00:1::12", "fd00:2::12")}
SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def login_request(i):
    text = ("InitiatorName=iqn.1992-08.com.netapp:sn.%d\0TargetName=iqn.1992-08.com.netapp:"
            "sn.target\0SessionType=Normal\0AuthMethod=None\0" % i).encode()
    text += b"\0" * (-len(text) % 4)
    bhs = bytes([0x43, 0x87, 0, 0, 0]) + len(text).to_bytes(3, "big") + bytes(8)
    bhs += struct.pack("!I", i)  # the initiator task tag
    return bhs + bytes(48 - len(bhs)) + text


def login_response(i):
    text = b"TargetPortalGroupTag=1\0AuthMethod=None\0"
    text += b"\0" * (-len(text) % 4)
    bhs = bytes([0x23, 0x87, 0, 0, 0]) + len(text).to_bytes(3, "big") + bytes(8)
    bhs += struct.pack("!I", i)
    return bhs + bytes(48 - len(bhs)) + text


class Writer:
    def __init__(self, f):
        self.f, self.t = f, 1800000000 * 1000000
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))

    def frame(self, src, dst, sport, dport, seq, ack, flags, data=b""):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 64240, 0, 0)
        if len(src) == 4:
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(data), 0, 0x4000, 64,
                             6, 0, src, dst)
            ethertype = "0800"
        else:
            ip = struct.pack("!IHBB16s16s", 6 << 28, len(tcp) + len(data), 6, 64, src, dst)
            ethertype = "86dd"
        frame = bytes.fromhex("020000000002" "020000000001" + ethertype) + ip + tcp + data
        frame += b"\0" * (60 - len(frame)) if len(frame) < 60 else b""
        self.f.write(struct.pack("<IIII", self.t // 1000000, self.t % 1000000, len(frame),
                                 len(frame)))
        self.f.write(frame)
        self.t += 10


class Stream:
    """One TCP session: sequence numbers of client (0) and server (1)."""

    def __init__(self, w, client, server, sport):
        self.w, self.ends, self.sport = w, (client, server), sport
        self.seq = [1000 + sport * 7, 5000 + sport * 11]

    def send(self, side, flags, data=b""):
        src, dst = self.ends[side], self.ends[side ^ 1]
        sp, dp = (self.sport, 3260) if side == 0 else (3260, self.sport)
        ack = 0 if flags == SYN else self.seq[side ^ 1]
        self.w.frame(src, dst, sp, dp, self.seq[side], ack, flags, data)
        self.seq[side] += len(data) + (1 if flags & (SYN | FIN) else 0)

    def handshake(self):
        self.send(0, SYN)
        self.send(1, SYN | ACK)
        self.send(0, ACK)

    def close(self):
        self.send(0, FIN | ACK)
        self.send(1, FIN | ACK)
        self.send(0, ACK)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--first", type=int, default=16000)
    ap.add_argument("--idle", type=int, default=2000)
    ap.add_argument("--ipv6", action="store_true")
    a = ap.parse_args()
    a_client, a_server, b_client, b_server = (ipaddress.ip_address(x).packed
                                              for x in ENDS[6 if a.ipv6 else 4])
    with open(a.out, "wb") as f:
        w = Writer(f)
        first = [Stream(w, a_client, a_server, 10000 + i) for i in range(a.first)]
        idle = [Stream(w, b_client, b_server, 10000 + i) for i in range(a.idle)]
        for i, s in enumerate(first):
            s.handshake()
            s.send(0, ACK | PSH, login_request(i)[:48])
        for s in idle:
            s.handshake()
        for i, s in enumerate(first):
            s.send(0, ACK | PSH, login_request(i)[48:])
            s.send(1, ACK | PSH, login_response(i))
            s.close()
        for s in idle:
            s.close()


if __name__ == "__main__":
    main()
