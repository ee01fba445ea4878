#!/usr/bin/env python3
"""serve ADDR PORT...: accept, count bytes until EOF, answer "got N\n", close.
   send SRC DST PORT NBYTES [--timeout S] [--mss N] [--linger0]: connect, send, shutdown(WR),
   read the answer.  Prints one line: ok N / failed: REASON (sent N)."""
import socket, sys, threading, time, argparse, struct
def serve(addr, ports):
    fam = socket.AF_INET6 if ':' in addr else socket.AF_INET
    def talk(c):
        c.settimeout(30); n = 0
        try:
            while True:
                d = c.recv(65536)
                if not d: break
                n += len(d)
            c.sendall(b"got %d\n" % n)
        except OSError as e:
            print("server: %s after %d" % (e, n), flush=True)
        print("server got %d" % n, flush=True)
        c.close()
    def acc(s):
        while True:
            c, _ = s.accept(); threading.Thread(target=talk, args=(c,), daemon=True).start()
    for p in ports:
        s = socket.socket(fam); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, p)); s.listen(16); threading.Thread(target=acc, args=(s,), daemon=True).start()
    print("listening", flush=True)
    while True: time.sleep(1)
def send(a):
    fam = socket.AF_INET6 if ':' in a.dst else socket.AF_INET
    s = socket.socket(fam); s.settimeout(a.timeout)
    if a.mss: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, a.mss)
    if a.ttl:
        if fam == socket.AF_INET6: s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, a.ttl)
        else: s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, a.ttl)
    s.bind((a.src, 0)); sent = 0
    try:
        s.connect((a.dst, a.port))
        buf = b"x" * 65536; deadline = time.time() + a.timeout
        while sent < a.nbytes:
            if time.time() > deadline: raise OSError("deadline")
            sent += s.send(buf[:min(65536, a.nbytes - sent)])
        s.shutdown(socket.SHUT_WR)
        r = s.recv(100)
        print("ok sent %d answer %r" % (sent, r.decode().strip()), flush=True)
    except OSError as e:
        print("failed: %s (sent %d to socket)" % (e.strerror or e, sent), flush=True)
        if a.linger0: s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
def ping(src, dst, count):
    """ICMP echo over a raw socket: prints what came back for each request."""
    v6 = ':' in dst
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW,
                      socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP)
    s.bind((src, 0)); s.settimeout(1); ident = 0x1234
    def csum(b):
        if len(b) % 2: b += b"\0"
        t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
        return ~t & 0xffff
    for seq in range(count):
        hdr = struct.pack("!BBHHH", 128 if v6 else 8, 0, 0, ident, seq) + b"p11ping" * 4
        if not v6: hdr = hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
        s.sendto(hdr, (dst, 0)); end = time.time() + 1; got = "no reply"
        while time.time() < end:
            try: d, fr = s.recvfrom(2000)
            except OSError: break
            if not v6: d = d[(d[0] & 15) * 4:]
            if d[0] in (0, 129): got = "echo reply from %s" % fr[0]; break
            if d[0] in (3, 11, 1, 2, 4): got = "ICMP error type %d code %d from %s" % (d[0], d[1], fr[0]); break
        print("ping %s seq %d: %s" % (dst, seq, got), flush=True); time.sleep(0.2)
if __name__ == "__main__":
    if sys.argv[1] == "ping":
        ping(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "serve":
        serve(sys.argv[2], [int(x) for x in sys.argv[3:]])
    else:
        p = argparse.ArgumentParser(); p.add_argument("cmd"); p.add_argument("src"); p.add_argument("dst")
        p.add_argument("port", type=int); p.add_argument("nbytes", type=int)
        p.add_argument("--timeout", type=float, default=10); p.add_argument("--mss", type=int, default=0)
        p.add_argument("--linger0", action="store_true"); p.add_argument("--ttl", type=int, default=0)
        send(p.parse_args())
