#!/usr/bin/env python3
"""Re-frames a Linux cooked (SLL/SLL2) or Ethernet pcap as Ethernet with VLAN tags.

retag.py IN OUT VID [INNER_VID]   one VID: 802.1Q; two: 802.1ad outer + 802.1Q inner
"""
import struct, sys

def main(src, dst, vids):
    data = open(src, "rb").read()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    ver_major, ver_minor, zone, sigfigs, snap, link = struct.unpack(endian + "HHiIII", data[4:24])
    out = [magic + struct.pack(endian + "HHiIII", ver_major, ver_minor, zone, sigfigs, snap + 8, 1)]
    off = 24
    while off + 16 <= len(data):
        sec, frac, caplen, wirelen = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if link == 276:      # SLL2: protocol first, 20 bytes
            proto, payload = pkt[0:2], pkt[20:]
        elif link == 113:    # SLL: protocol at 14, 16 bytes
            proto, payload = pkt[14:16], pkt[16:]
        else:                # Ethernet
            proto, payload = pkt[12:14], pkt[14:]
        frame = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01"
        for i, vid in enumerate(vids):
            tpid = b"\x88\xa8" if (len(vids) == 2 and i == 0) else b"\x81\x00"
            frame += tpid + struct.pack("!H", vid)
        frame += proto + payload
        out.append(struct.pack(endian + "IIII", sec, frac, len(frame), wirelen - len(pkt) + len(frame)) + frame)
    open(dst, "wb").write(b"".join(out))

if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(v) for v in sys.argv[3:]])
