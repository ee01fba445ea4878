#!/usr/bin/env python3
"""Writes two captures (tcpshapes.py's frames) of flows that go silent while one
side keeps sending, for the timeline's silences (forensics.sh):

  silences.py DIR

outage.pcap   198.18.1.11 -> 198.18.2.11:11104, a request and its answer every 0.5 s;
              from 6 s the answers stop and the client retransmits its request with
              TCP's backoff (6.2, 6.6, 7.4, 9.0, 12.2, 18.6 s) until the server answers
              at 19.34 s; then requests and answers again until 25 s, and the close.
              The server is silent for 13.84 s (5.5 to 19.34 s)
ping.pcap     198.18.1.11 -> 198.18.2.11 echo requests every 0.5 s for 20 s, one
              identifier; no reply from 6 to 14 s (replies silent for 8.5 s)
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tcpshapes import ACK, FIN, PSH, SYN, T0, A1, B1, Capture, csum, ipv4  # noqa: E402


def outage(path):
    c = Capture(path)
    t, cs, ss = T0, 1000, 50000
    c.tcp(t, A1, B1, 40000, 11104, cs, 0, SYN)
    c.tcp(t + .001, B1, A1, 11104, 40000, ss, cs + 1, SYN | ACK)
    cs, ss = cs + 1, ss + 1
    c.tcp(t + .002, A1, B1, 40000, 11104, cs, ss, ACK)
    k = 0
    while .01 + .5 * k < 25:
        at = t + .01 + .5 * k
        k += 1
        if 5.6 < at - t < 19.3:
            continue
        c.tcp(at, A1, B1, 40000, 11104, cs, ss, ACK | PSH, b"req")
        if abs(at - t - 5.51) < .01:  # the answer never comes: retransmitted
            for dt in (6.2, 6.6, 7.4, 9.0, 12.2, 18.6):
                c.tcp(t + dt, A1, B1, 40000, 11104, cs, ss, ACK | PSH, b"req")
            at = t + 19.34
        cs += 3
        c.tcp(at + .0003, B1, A1, 11104, 40000, ss, cs, ACK | PSH, b"ans")
        ss += 3
    end = t + 25.5
    c.tcp(end, A1, B1, 40000, 11104, cs, ss, FIN | ACK)
    c.tcp(end + .001, B1, A1, 11104, 40000, ss, cs + 1, FIN | ACK)
    c.tcp(end + .002, A1, B1, 40000, 11104, cs + 1, ss + 1, ACK)
    c.write()


def ping(path):
    c = Capture(path)
    for i in range(40):
        at = T0 + .5 * i
        for typ, src, dst in ((8, A1, B1), (0, B1, A1)):
            if typ == 0 and 6 <= at - T0 <= 14:
                continue
            echo = struct.pack("!BBHHH", typ, 0, 0, 0x4242, i + 1) + b"smaudit-ping"
            echo = echo[:2] + struct.pack("!H", csum(echo)) + echo[4:]
            c.raw(at + (.0004 if typ == 0 else 0), ipv4(src, dst, 1, echo))
    c.write()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    os.makedirs(sys.argv[1], exist_ok=True)
    outage(os.path.join(sys.argv[1], "outage.pcap"))
    ping(os.path.join(sys.argv[1], "ping.pcap"))
