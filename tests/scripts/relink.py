#!/usr/bin/env python3
import struct, sys
# relink.py IN OUT LINKTYPE [VLAN]: rewrites an SLL2 capture's link headers (20 bytes) for
# another link type.  Ethernet frames get MAC addresses made of their IP addresses
# (aa:bb:cc and the address's last three bytes) and, with VLAN, an 802.1Q tag.
src, dst, lt = sys.argv[1], sys.argv[2], int(sys.argv[3])
vlan = int(sys.argv[4]) if len(sys.argv) > 4 else None
d = open(src, "rb").read()
magic, vmaj, vmin, tz, sig, snap, inlt = struct.unpack_from("<IHHiIII", d, 0)
assert inlt == 276, inlt
out = [struct.pack("<IHHiIII", magic, vmaj, vmin, tz, sig, snap, lt)]
o = 24
while o + 16 <= len(d):
    s, us, cl, ln = struct.unpack_from("<IIII", d, o)
    pkt = d[o + 16:o + 16 + cl]
    o += 16 + cl
    proto = struct.unpack_from("!H", pkt, 0)[0]
    body = pkt[20:]
    if proto not in (0x0800, 0x86DD):
        continue
    v6 = proto == 0x86DD
    if lt == 0:
        hdr = struct.pack("<I", 24 if v6 else 2)
    elif lt == 108:
        hdr = struct.pack("!I", 24 if v6 else 2)
    elif lt == 101:
        hdr = b""
    elif lt == 113:
        hdr = struct.pack("!HHH8sH", 0, 1, 6, b"\2\0\0\0\0\1\0\0", proto)
    elif lt == 1:
        sa, da = (body[8:24], body[24:40]) if v6 else (body[12:16], body[16:20])
        hdr = b"\xaa\xbb\xcc" + da[-3:] + b"\xaa\xbb\xcc" + sa[-3:]
        if vlan is not None:
            hdr += struct.pack("!HH", 0x8100, vlan)
        hdr += struct.pack("!H", proto)
    else:
        raise SystemExit("unsupported link type")
    p = hdr + body
    out.append(struct.pack("<IIII", s, us, len(p), ln - 20 + len(hdr)) + p)
open(dst, "wb").write(b"".join(out))
