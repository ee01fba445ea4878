#!/usr/bin/env python3
"""Protocols against tshark's dissectors, for one capture.

Reads the per-frame fields tshark printed for a capture (see FIELDS in
tshark-compare.sh) and smaudit's sessions table for the same capture, and
prints one line per TCP conversation in which tshark dissects TLS, SSH or HTTP
from the first payload (a TLS record, an HTTP request or response line, an SSH
banner: not a dissector chosen by port that reads nothing) and whose SYN is in
the capture:
    APP-SAME capture sport-dport tshark-name ours
    APP-DIFF capture ...
and one line per ClientHello tshark reads an SNI from:
    SNI-SAME capture name    (smaudit's app_detail names it)
    SNI-DIFF capture name ours-detail

usage: apps_tshark.py CAPTURE FIELDS-FILE DATABASE
"""
import sqlite3
import sys

WANT = {"tls": "tls", "ssl": "tls", "ssh": "ssh", "http": "http"}


def last(v):
    """The innermost value of a field tshark repeats per layer (tunnels)."""
    return v.split(",")[-1] if v else ""


def main():
    capture, fields, dbpath = sys.argv[1], sys.argv[2], sys.argv[3]
    streams = {}
    hellos = []
    for line in open(fields, errors="replace"):
        v = line.rstrip("\n").split("\t")
        if len(v) < 17 or not v[1]:
            continue
        ts, stream = float(v[0] or 0), last(v[1])
        # the innermost IP layer's addresses: IPv6 inside IPv4 (Teredo, AYIYA) too
        layers = v[11].split(":")
        v6 = "ipv6" in layers and ("ip" not in layers or
                                   layers[::-1].index("ipv6") < layers[::-1].index("ip"))
        src, dst = (last(v[3]), last(v[6])) if v6 else (last(v[2]), last(v[5]))
        sport, dport = last(v[4]), last(v[7])
        syn, ack, tlen, protos, sni = last(v[8]), last(v[9]), last(v[10]), v[11], v[12]
        # what tshark really read, not what it guessed from a port: a TLS record,
        # an HTTP request or response line, an SSH banner
        read = {"tls": v[13], "ssl": v[13], "http": v[14] or v[15], "ssh": v[16]}
        st = streams.setdefault(stream, {"syn": False, "app": None, "first": None,
                                         "key": None, "ts": ts})
        if syn in ("1", "True") and ack in ("0", "False"):
            st["syn"] = True
            st["key"] = (src, sport, dst, dport)
        if st["key"] is None:
            st["key"] = (src, sport, dst, dport)
        if tlen and tlen != "0" and st["first"] is None:
            layers = protos.split(":")
            above = layers[len(layers) - layers[::-1].index("tcp"):] if "tcp" in layers else []
            if above:
                st["first"] = above[0] if read.get(above[0], "x") else "guessed"
        if sni:
            hellos.append((ts, (src, sport, dst, dport), sni.split(",")[0]))
    try:
        db = sqlite3.connect(dbpath)
        rows = db.execute("SELECT src, sport, dst, dport, first_ts, last_ts, app, app_detail"
                          " FROM sessions WHERE proto = 'tcp'").fetchall()
    except sqlite3.Error:
        rows = []

    def session(key, ts):
        a, ap, b, bp = key
        best = None
        for r in rows:
            pair = (r[0], str(r[1]), r[2], str(r[3]))
            if pair not in ((a, ap, b, bp), (b, bp, a, ap)):
                continue
            if r[4] - 1e-6 <= ts <= r[5] + 1e-6:
                return r
            best = best or r
        return best

    for st in streams.values():
        name = WANT.get(st["first"] or "")
        if name is None or not st["syn"]:
            continue
        r = session(st["key"], st["ts"])
        ours = (r[6] if r else None) or "-"
        tag = "APP-SAME" if ours == name else "APP-DIFF"
        print("%s %s %s:%s-%s:%s %s %s" % (tag, capture, st["key"][0], st["key"][1],
                                          st["key"][2], st["key"][3], name, ours))
    for ts, key, sni in hellos:
        r = session(key, ts)
        detail = (r[7] if r else None) or ""
        if "SNI " + sni in detail:
            print("SNI-SAME %s %s" % (capture, sni))
        else:
            print("SNI-DIFF %s %s ours: %s" % (capture, sni, detail or "-"))


if __name__ == "__main__":
    main()
