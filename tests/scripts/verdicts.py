#!/usr/bin/env python3
"""Prints what a JSON report (smaudit --format json) says of each expected flow, one
line each in a fixed order (rule, proto, port, src, dst, verdict), for tests that
compare the verdicts of two runs.
usage: verdicts.py REPORT.json [--summary] [--mismatches]
--summary adds the summary's counts (but the unexpected ones); --mismatches adds
each protocol mismatch as a JSON line."""
import json
import sys

r = json.load(open(sys.argv[1]))
for e in sorted(r["expected"], key=lambda e: tuple(str(e[k]) for k in ("rule", "src", "dst", "port"))):
    print(e["rule"], e["proto"], e["port"], e["src"], e["dst"], e["verdict"])
if "--summary" in sys.argv:
    print("summary", {k: v for k, v in r["summary"].items() if k != "unexpected"})
if "--mismatches" in sys.argv:
    for m in r.get("protocol_mismatches", []):
        print("mismatch", json.dumps(m, sort_keys=True))
