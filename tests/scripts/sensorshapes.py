#!/usr/bin/env python3
"""Writes the captures of two sensors, site-a (near 198.18.1.x) and site-b (near
198.18.2.x), for shapes where what each saw must put the loss in the right place
(pcaps/site.conf; TTL 64 where a host sends, 62 two routers on).  sensors.sh says
what the report must conclude.

  sensorshapes.py DIR      writes DIR/SHAPE-site-a.pcap and DIR/SHAPE-site-b.pcap

nearer-by-attempt  site-a saw a working 198.18.1.12 <-> 198.18.2.11 conversation
                   before site-b captured; then 198.18.2.11's SYNs to 198.18.1.12:11105,
                   seen at site-b only (TTL 64): lost between site-b and site-a
one-way-sensor     site-b records only packets from 198.18.2.x (a span of one
                   direction); 198.18.1.11's SYNs to 198.18.2.12:11104, unanswered,
                   seen at site-a: site-b cannot have seen them and is not to blame
late-sensor        198.18.1.11's SYNs to 198.18.2.11:11105 at 0, 1, 3 s, again at 10,
                   11, 13 s and 20, 21, 23 s, dropped between the sites, seen at site-a;
                   site-b started capturing at 5 s (after the first attempt) and saw
                   other packets of the pair, none of the later attempts: lost between
                   site-a and site-b
"""
import os
import sys

from tcpshapes import SYN, T0, Capture

A1, A2, B1, B2 = "198.18.1.11", "198.18.1.12", "198.18.2.11", "198.18.2.12"
NEAR_A = {A1: 64, A2: 64, B1: 62, B2: 62}
NEAR_B = {A1: 62, A2: 62, B1: 64, B2: 64}


def nearer_by_attempt(a, b):
    a.conversation(T0, A2, B1, 40000, 3260, 1000, 50000)  # site-b not capturing yet
    for c in (a, b):
        c.conversation(T0 + 3, A1, B1, 40001, 11104, 2000, 60000)
    for dt in (4, 5, 7):
        b.tcp(T0 + dt, B1, A2, 45000, 11105, 7000, 0, SYN)
    for c in (a, b):
        c.conversation(T0 + 9, A1, B1, 40002, 11104, 3000, 70000)


def one_way_sensor(a, b):
    for c in (a, b):
        c.conversation(T0, A1, B2, 40000, 3260, 1000, 50000)
    for dt in (1, 2, 4):
        for c in (a, b):
            c.tcp(T0 + dt, A1, B2, 40001, 11104, 7000, 0, SYN)
    for c in (a, b):  # site-b captures all along
        c.conversation(T0 + 6, A1, B2, 40002, 3260, 2000, 60000)


def late_sensor(a, b):
    a.conversation(T0, A1, B1, 40000, 3260, 1000, 50000)  # site-b not capturing yet
    for k, at in enumerate((T0 + 1, T0 + 11, T0 + 21)):
        for dt in (0, 1, 3):
            a.tcp(at + dt, A1, B1, 41000 + k, 11105, 7000 + k, 0, SYN)
    for c in (a, b):  # both capture from 5 s on
        c.conversation(T0 + 5, A1, B1, 40001, 3260, 2000, 60000)
        c.conversation(T0 + 30, A1, B1, 40002, 3260, 3000, 70000)


def main(out):
    os.makedirs(out, exist_ok=True)
    shapes = {"nearer-by-attempt": (nearer_by_attempt, None),
              "one-way-sensor": (one_way_sensor, lambda src, dst: src.startswith("198.18.2.")),
              "late-sensor": (late_sensor, None)}
    for name, (shape, keep_b) in shapes.items():
        a = Capture(os.path.join(out, name + "-site-a.pcap"), NEAR_A)
        b = Capture(os.path.join(out, name + "-site-b.pcap"), NEAR_B, keep_b)
        shape(a, b)
        a.write()
        b.write()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
