#!/usr/bin/env python3
"""Linux TCP endpoints for tcp-realstack.sh (run inside its network namespaces).

serve ADDR... -p PORT...    accept on each ADDR:PORT (TCP Fast Open allowed), read a
                            request, answer it, then read until the peer closes or
                            resets (a side that vanishes leaves the connection open)
connect SRC DST PORT [--sport N] [--fastopen] [--syncnt N] [--abort-when FILE]
                            one connection: a request and its answer, then a close;
                            --fastopen sends the request in the SYN when a cookie is
                            cached (MSG_FASTOPEN); --syncnt: SYN retransmissions
                            before connect fails (TCP_SYNCNT); --abort-when: after the
                            answer, wait for FILE, then reset (SO_LINGER 0)
Prints one line: "ok", or "failed: REASON".  Every socket call is bounded by a
timeout and serve by the caller's `timeout`: nothing runs forever."""
import argparse
import os
import socket
import struct
import sys
import threading
import time

def serve(addrs, ports):
    def talk(c):
        c.settimeout(30)
        try:
            if c.recv(4096):
                c.sendall(b"reply\n")
            while True:
                d = c.recv(4096)
                if not d:
                    break
                if b"abort" in d:  # the client asks the server to reset the connection
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    break
        except OSError:
            pass
        c.close()

    def accept(s):
        while True:
            c, _ = s.accept()
            threading.Thread(target=talk, args=(c,), daemon=True).start()

    for a in addrs:
        for p in ports:
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
            s.bind((a, p))
            s.listen(64)
            threading.Thread(target=accept, args=(s,), daemon=True).start()
    print("listening", flush=True)
    while True:
        time.sleep(1)


def connect(a):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.syncnt:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, a.syncnt)
    s.settimeout(20)
    s.bind((a.src, a.sport))
    try:
        if a.fastopen:  # blocking: without a cookie yet it waits for the handshake
            s.settimeout(None)
            s.sendto(b"request\n", socket.MSG_FASTOPEN, (a.dst, a.port))
            s.settimeout(20)
        else:
            s.connect((a.dst, a.port))
            s.sendall(b"request\n")
        if not s.recv(4096):
            raise OSError("closed without an answer")
    except OSError as e:
        print("failed: %s" % (e.strerror or e), flush=True)
        return
    if a.abort_when:
        print("answered", flush=True)
        for _ in range(200):
            if os.path.exists(a.abort_when):
                break
            time.sleep(0.1)
        if a.server_resets:  # the server aborts: its reset ends the connection
            s.sendall(b"abort\n")
            try:
                s.recv(4096)
            except OSError:
                pass
        else:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("ok", flush=True)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        p = argparse.ArgumentParser()
        p.add_argument("addrs", nargs="+")
        p.add_argument("-p", dest="ports", type=int, nargs="+", required=True)
        a = p.parse_args(sys.argv[2:])
        serve(a.addrs, a.ports)
    elif len(sys.argv) > 1 and sys.argv[1] == "connect":
        p = argparse.ArgumentParser()
        p.add_argument("src")
        p.add_argument("dst")
        p.add_argument("port", type=int)
        p.add_argument("--sport", type=int, default=0)
        p.add_argument("--fastopen", action="store_true")
        p.add_argument("--syncnt", type=int, default=0)
        p.add_argument("--abort-when")
        p.add_argument("--server-resets", action="store_true")
        connect(p.parse_args(sys.argv[2:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
