#!/usr/bin/env python3
"""Real TCP/ICMP traffic for the example captures (run inside network namespaces).

listen PORT...            accept on every local address, answer, close (runs until killed)
connect SRC DST PORT      one TCP connection from SRC, a request and its answer
ping SRC DST              one ICMP echo from SRC
Every socket operation is bounded by a timeout; nothing loops forever.
"""
import socket, struct, sys, threading, time, os

def listen(ports):
    def serve(port, fam):
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(("::" if fam == socket.AF_INET6 else "0.0.0.0", port))
        s.listen(64)
        while True:
            c, _ = s.accept()
            c.settimeout(3)
            try:
                c.recv(4096)
                c.sendall(b"smaudit-test-reply\n")
            except OSError:
                pass
            c.close()
    for p in ports:
        for fam in (socket.AF_INET, socket.AF_INET6):
            threading.Thread(target=serve, args=(int(p), fam), daemon=True).start()
    time.sleep(120)  # bounded: the generator kills us long before

def connect(src, dst, port):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(2.5)
    try:
        s.connect((dst, int(port)))
        s.sendall(b"smaudit-test-request\n")
        s.recv(4096)
        print("ok", src, dst, port)
    except OSError as e:
        print("fail", src, dst, port, e)
    s.close()

def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF

def ping(src, dst):
    v6 = ":" in dst
    if v6:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        s.bind((src, 0))
        pkt = struct.pack("!BBHHH", 128, 0, 0, os.getpid() & 0xFFFF, 1) + b"smaudit"
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        s.bind((src, 0))
        hdr = struct.pack("!BBHHH", 8, 0, 0, os.getpid() & 0xFFFF, 1) + b"smaudit"
        pkt = hdr[:2] + struct.pack("!H", checksum(hdr)) + hdr[4:]
    s.settimeout(1.5)
    s.sendto(pkt, (dst, 0))
    try:
        s.recv(2048)
    except OSError:
        pass
    s.close()

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "listen":
        listen(sys.argv[2:])
    elif cmd == "connect":
        connect(*sys.argv[2:5])
    elif cmd == "ping":
        ping(*sys.argv[2:4])
