#!/usr/bin/env python3
"""Derives tests/zeek/conn-reference.tsv from a checkout of zeek/zeek.

Takes every btest baseline conn.log with Zeek's #fields header (the others
carry no conn_state) of a test that reads exactly one trace, runs once, and
changes neither which packets Zeek sees nor when it ends a connection (no
capture or dynamic filter, no NetControl, no skipped processing, no changed
timeouts or server ports), and whose trace is in the capture corpus; writes
one line per connection:
    trace  proto  orig_h  orig_p  resp_h  resp_p  conn_state
ordered by trace, then by Zeek's ts (conn.log's own order where the baseline
hides the times).  A trace several tests log keeps the rows most of them
agree on, from tests that run Zeek with its default scripts when there are
some (bare mode, -b, knows fewer server ports, so it orients flows seen
without their SYN otherwise).  Only the facts are kept: no Zeek code.

usage: derive-reference.py ZEEK-GIT-DIR CORPUS-ZEEK-DIR > conn-reference.tsv
(ZEEK-GIT-DIR may be a bare repository: files are read with git show.)
"""
import os
import re
import subprocess
import sys

# settings under which conn.log no longer shows the trace as Zeek's defaults would
ALTERS = re.compile(r"zeek\b[^\n]* -f |install_\w*filter|NetControl|skip_further_processing|"
                    r"PacketAnalyzer::SKIP|likely_server_ports|inactivity_timeout|size_threshold")
WANT = ["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "conn_state"]


def git(repo, *args):
    return subprocess.run(["git", "-C", repo] + list(args), check=True,
                          capture_output=True, text=True, errors="replace").stdout


def test_file(files, name):
    """The test a baseline directory belongs to: dots are folders."""
    base = "testing/btest/" + name.replace(".", "/")
    for ext in (".zeek", ".test", ".sh", ".spicy", ".bro", ""):
        if base + ext in files:
            return base + ext
    return None


def traces_of(text):
    return sorted(set(m.group(1) for m in re.finditer(r"\$\{?TRACES\}?/([^\s\"')]+)", text)))


def rows_of(text):
    fields, out = None, []
    for line in text.splitlines():
        if line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif fields is not None and line.strip() and not line.startswith("#"):
            v = line.split("\t")
            if len(v) != len(fields):
                return None
            out.append(dict(zip(fields, v)))
    return out


def ts_key(row):
    try:
        return float(row.get("ts", ""))
    except ValueError:
        return 0.0  # canonified ("XXXXXXXXXX.XXXXXX"): the sort keeps log order


def main():
    repo, corpus = sys.argv[1], sys.argv[2]
    files = set(git(repo, "ls-tree", "-r", "--name-only", "HEAD", "testing/btest").split("\n"))
    cands, skipped = {}, {}
    for path in sorted(files):
        m = re.match(r"testing/btest/Baseline/([^/]+)/conn\.log$", path)
        if not m:
            continue
        test = test_file(files, m.group(1))
        text = git(repo, "show", "HEAD:" + test) if test else ""
        tr = traces_of(text)
        rows = None
        if test is None:
            why = "no test file (a second run of a test)"
        elif "@TEST-START-NEXT" in text:
            why = "several test runs"
        elif len(tr) != 1:
            why = "not one trace"
        elif ALTERS.search(text):
            why = "settings change what Zeek sees"
        elif not os.path.isfile(os.path.join(corpus, tr[0])):
            why = "trace not in corpus"
        else:
            rows = rows_of(git(repo, "show", "HEAD:" + path))
            why = None if rows and all(c in rows[0] for c in WANT) else "no conn_state column"
        if why is not None:
            skipped[why] = skipped.get(why, 0) + 1
            continue
        lines = tuple("\t".join([tr[0], r["proto"], r["id.orig_h"], r["id.orig_p"],
                                 r["id.resp_h"], r["id.resp_p"], r["conn_state"]])
                      for r in sorted(rows, key=ts_key))
        bare = re.search(r"zeek\b[^\n]* -b", text) is not None
        cands.setdefault(tr[0], []).append((bare, lines))
    lines = []
    for trace in sorted(cands):
        c = [rows for bare, rows in cands[trace] if not bare] or [rows for _, rows in cands[trace]]
        lines.extend(max(c, key=lambda rows: (c.count(rows), -c.index(rows))))
    print("# trace\tproto\torig_h\torig_p\tresp_h\tresp_p\tconn_state")
    print("# derived by tests/zeek/derive-reference.py from zeek/zeek %s"
          % git(repo, "rev-parse", "HEAD").strip())
    print("\n".join(lines))
    print("%d traces, %d rows; baselines skipped: %s" % (len(cands), len(lines), skipped),
          file=sys.stderr)


if __name__ == "__main__":
    main()
