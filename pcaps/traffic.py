#!/usr/bin/env python3
"""Real TCP/ICMP traffic for the example captures (run inside network namespaces).

listen PORT...            accept on every local address, answer, close (runs until killed)
connect SRC DST PORT [AS] one TCP connection from SRC, a request and its answer; the
                          request speaks the port's protocol (iSCSI Login on 3260, a TLS
                          ClientHello on 443/31784, an SSH banner on 22) or AS
                          (iscsi, tls, ssh, http, opaque) to make a protocol mismatch
ping SRC DST              one ICMP echo from SRC
Every socket operation is bounded by a timeout; nothing loops forever.
"""
import socket, struct, sys, threading, time, os

PROTO_OF_PORT = {3260: "iscsi", 443: "tls", 31784: "tls", 22: "ssh"}

def iscsi_login(src, dst):
    text = ("InitiatorName=iqn.1992-08.com.netapp:sn.%s\0TargetName=iqn.1992-08.com.netapp:sn.%s"
            "\0SessionType=Normal\0AuthMethod=None\0" % (src, dst)).encode()
    text += b"\0" * (-len(text) % 4)
    bhs = bytes([0x43, 0x87, 0, 0, 0]) + len(text).to_bytes(3, "big") + bytes(40)
    return bhs + text

def iscsi_login_response():
    return bytes([0x23, 0x87, 0, 0, 0, 0, 0, 0]) + bytes(40)

def tls_client_hello(sni):
    name = sni.encode()
    sni_ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    body = b"\x03\x03" + bytes(32) + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00"
    body += struct.pack("!H", len(sni_ext)) + sni_ext
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs

def tls_server_hello():
    body = b"\x03\x03" + bytes(32) + b"\x00" + b"\x13\x01" + b"\x00" + b"\x00\x00"
    hs = b"\x02" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x03" + struct.pack("!H", len(hs)) + hs

def request(proto, src, dst):
    return {"iscsi": lambda: iscsi_login(src, dst),
            "tls": lambda: tls_client_hello(dst),
            "ssh": lambda: b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
            "http": lambda: b"GET /api/cluster HTTP/1.1\r\nHost: %s\r\n\r\n" % dst.encode(),
            }.get(proto, lambda: b"smaudit-test-request\n")()

def reply(port):
    proto = PROTO_OF_PORT.get(port)
    return {"iscsi": iscsi_login_response, "tls": tls_server_hello,
            "ssh": lambda: b"SSH-2.0-OpenSSH_9.2p1\r\n"}.get(proto, lambda: b"smaudit-test-reply\n")()

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
                c.sendall(reply(port))
            except OSError:
                pass
            c.close()
    for p in ports:
        for fam in (socket.AF_INET, socket.AF_INET6):
            threading.Thread(target=serve, args=(int(p), fam), daemon=True).start()
    time.sleep(120)  # bounded: the generator kills us long before

def connect(src, dst, port, proto=None):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(2.5)
    try:
        s.connect((dst, int(port)))
        s.sendall(request(proto or PROTO_OF_PORT.get(int(port), "opaque"), src, dst))
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
        connect(*sys.argv[2:6])
    elif cmd == "ping":
        ping(*sys.argv[2:4])
