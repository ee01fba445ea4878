#!/usr/bin/env python3
"""Copies a classic pcap capture, inserting a burst of new sessions right after every
attempt it holds, the way a flood on the same span port mixes with real traffic:

  flood-between.py IN.pcap OUT.pcap K

After every IPv4 TCP SYN (without ACK) and every ICMP echo request, K copies of that
frame whose addresses are changed to 198.19.X.Y -> 198.19.0.1, a new session each,
with the attempt's own timestamp, so they come before its answer.  With
`--max-sessions` below K, the attempt's session is the one idle the longest when the
table is full, and is pushed out before its answer arrives.  Link types: Ethernet
(with 802.1Q tags), Linux cooked SLL and SLL2, raw IPv4."""
import struct
import sys

LINK_HEADER = {1: 14, 113: 16, 276: 20, 101: 0, 228: 0}


def ip_offset(linktype, frame):
    off = LINK_HEADER[linktype]
    if linktype == 1:
        while frame[off - 2:off] in (b"\x81\x00", b"\x88\xa8"):
            off += 4
    return off


def main():
    src, out, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
    data = open(src, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype not in LINK_HEADER:
        sys.exit("flood-between.py: link type %d not handled" % linktype)
    n = 0
    with open(out, "wb") as f:
        f.write(data[:24])
        off = 24
        while off + 16 <= len(data):
            sec, frac, caplen, wirelen = struct.unpack(end + "IIII", data[off:off + 16])
            frame = data[off + 16:off + 16 + caplen]
            f.write(data[off:off + 16 + caplen])
            off += 16 + caplen
            ip = ip_offset(linktype, frame)
            if len(frame) < ip + 24 or frame[ip] >> 4 != 4:
                continue
            l4 = ip + (frame[ip] & 15) * 4
            proto = frame[ip + 9]
            attempt = (proto == 6 and len(frame) > l4 + 13 and frame[l4 + 13] & 0x12 == 0x02) or \
                      (proto == 1 and len(frame) > l4 and frame[l4] == 8)
            if not attempt:
                continue
            for i in range(k):
                n += 1
                copy = bytearray(frame)
                copy[ip + 12:ip + 16] = bytes([198, 19, 1 + (n >> 8) % 250, n & 255])
                copy[ip + 16:ip + 20] = bytes([198, 19, 0, 1])
                f.write(struct.pack(end + "IIII", sec, frac, len(copy), wirelen) + bytes(copy))
    print(n)


if __name__ == "__main__":
    main()
