#!/usr/bin/env python3
"""Splits a sampled profile of `smaudit audit` into its stages.

  perf script -F tid,period,ip,sym -i perf.data | stages.py PACKETS CPU_SECONDS WALL_SECONDS

Each sample goes to the stage of the innermost frame of its call chain that
belongs to a stage (a sample in malloc called by libnids called by the payload
checks is a payload sample; one in SQLite under the writer thread is store).
A chain that passes through the set-up of the run (libnids' tables, the
database) is "setup"; what matches no stage (the audit loop itself, the
loader) is "other".  Prints per stage the share of the samples and the nanoseconds a packet it
stands for: its share of CPU_SECONDS (user + system of an unprofiled run),
divided by PACKETS.
"""
import re
import sys

# stage, then the functions (exact names, or prefixes ending in '*') that open it;
# the first match walking a chain from its leaf decides
# (a link-time optimised build inlines the public entries of a stage into the
# loop: the stage's own static functions name it too)
STAGES = [
    ("store", ["store_one", "writer_main", "sm_store_*", "sm_policy_*", "store_results",
               "classify", "session_record", "stage_done", "on_session"]),
    ("payload checks", ["sm_reasm_*", "sm_payload_*", "on_stream", "sm_app_*", "nids_*",
                        "process_tcp", "find_stream", "mkhash", "watch_switch",
                        "check_first_bytes", "first_bytes_*"]),
    ("session", ["sm_session_*", "sm_tcp_*", "sm_sight*", "account", "lookup", "carriers",
                 "expire", "finish", "create", "alloc_slot", "evict_one", "list_*", "clock_to"]),
    ("decode", ["sm_decode*", "sm_defrag*", "decode_*"]),
    ("read", ["sm_capture_next", "sm_capture_peek", "classic_*", "pcapng_*", "merge_*",
              "source_read*"]),
]
# a chain with one of these anywhere is setting up (libnids' tables, the database)
SETUP = ["sm_pipeline_open", "sm_capture_open", "sm_store_open"]


def matcher(names):
    exact = {n for n in names if not n.endswith("*")}
    prefixes = tuple(n[:-1] for n in names if n.endswith("*"))
    return lambda s: s in exact or (prefixes and s.startswith(prefixes))


MATCH = [(name, matcher(fns)) for name, fns in STAGES]
IS_SETUP = matcher(SETUP)


def stage_of(chain):
    chain = [re.sub(r"(\.(lto_priv|constprop|isra|part|cold)\.\d+)+$", "", s) for s in chain]
    if any(IS_SETUP(s) for s in chain):
        return "setup"
    for sym in chain:  # leaf first
        for name, m in MATCH:
            if m(sym):
                return name
    return "other"


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: stages.py PACKETS CPU_SECONDS WALL_SECONDS < perf-script-output")
    packets, cpu, wall = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    weight = {}
    total = 0
    chain, period = [], 0
    lines = sys.stdin.read().split("\n") + [""]
    for line in lines:
        if not line.strip():
            if period:
                st = stage_of(chain)
                weight[st] = weight.get(st, 0) + period
                total += period
            chain, period = [], 0
            continue
        if not line.startswith("\t"):
            f = line.split()
            period = int(f[-1]) if f and f[-1].isdigit() else 1
            continue
        parts = line.split(None, 1)
        if len(parts) == 2:
            chain.append(parts[1].split(" (")[0].split("+")[0])
    if total == 0:
        sys.exit("stages.py: no samples in the input")
    print("%-16s %8s %10s" % ("stage", "samples", "ns/packet"))
    order = ["read", "decode", "session", "payload checks", "store", "setup", "other"]
    for name in order:
        share = weight.get(name, 0) / total
        print("%-16s %7.1f%% %10.0f" % (name, 100 * share, share * cpu * 1e9 / packets))
    print("%-16s %7.1f%% %10.0f  (CPU; wall %.0f ns a packet)" %
          ("all", 100.0, cpu * 1e9 / packets, wall * 1e9 / packets))


if __name__ == "__main__":
    main()
