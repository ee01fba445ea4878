#!/usr/bin/env python3
"""Writes one classic pcap (Ethernet, IPv4, correct checksums) per TCP/ICMP shape a
span port shows around a failing connection, each beside a healthy control
conversation 198.18.1.11 -> 198.18.2.11:11104; the shape is on 198.18.1.11 ->
198.18.2.12:11104 (pcaps/site.conf).  tcp-shapes.sh says what each must give.

  tcpshapes.py DIR

new-isn-after-drop  SYN (ISN 1000) at 0 s and 1 s unanswered, then the same
                    4-tuple with a new ISN at 3 s, answered: the application
                    retried from the same port (RFC 9293: not a retransmission)
new-isn-after-lost  SYN answered by SYN-ACK, never acknowledged, twice; then a
                    new ISN from the same port at 3 s, answered
challenge-ack       SYN answered by a bare ACK (stale state in the responder or a
                    firewall: RFC 5961 challenge ACK), the client's RST, the SYN
                    again at 1 s and 3 s, unanswered
ack-only            SYN answered only by bare ACKs, three times
redirect            SYN, an ICMP redirect from the gateway (the packet was
                    forwarded), the SYN again at 1 s and 3 s, unanswered
source-quench       the same with an ICMP source quench (RFC 6633: ignored)
tfo-dropped         a TCP Fast Open SYN carrying data, sent three times, unanswered
tfo-answer-lost     a TCP Fast Open SYN answered by SYN-ACK, never acknowledged
tfo-ok              a TCP Fast Open SYN, answered, the conversation completes
unreachable         SYN refused by an ICMP administratively prohibited (control:
                    an ICMP error that is a refusal)
reset               SYN refused by a RST+ACK acknowledging it (control)
reset-without-ack   SYN answered by a RST without ACK, which the initiator in
                    SYN-SENT drops (RFC 9293 3.10.7.3); the SYN again at 1 s and 3 s
blind-reset-then-ok SYN answered by a RST+ACK of another number (dropped by the
                    initiator), the same SYN at 1 s answered, the conversation
                    completes
last-syn            a lone SYN, the capture's last packet (its answer would come
                    after the capture ended)
ok-then-last-syn    a whole conversation, then a lone SYN as the capture's last packet
first-reset         the capture's first packet: a RST+ACK from 198.18.2.12 of sequence
                    number 50000 (a conversation under way: a refusal's would be 0)
ping-unanswered     three ICMP echo requests, no reply
udp-unanswered      two UDP datagrams to 198.18.2.12:5001 from one port, no reply
udp-late-reply      a UDP datagram to 198.18.2.12:5001, its reply 2 s later
first-ack-then-ok   the capture's first packet: a bare ACK of 198.18.1.11 (the end of
                    a conversation), then a whole conversation
under-way-reset     2 s in, data of a connection opened before the capture (no SYN),
                    and the responder's RST ending it (sequence number in the
                    conversation, no ACK): a connection reset, no attempt refused
under-way-reset-then-ok
                    the same, then a new connection from another port, answered
under-way-client-reset
                    2 s in, the initiator's RST+ACK ending a connection opened
                    before the capture: no packet of the responder
keepalive-under-way 2 s in, keepalive probes of a connection opened before the capture
                    (sequence number one below the next byte, no data) answered by
                    ACKs, then its close: no byte of it is missed
unseen-syn-refused  2 s in, a RST+ACK of sequence number 0 acknowledging ISN 1000 + 1
                    from the responder, no SYN seen (RFC 9293 3.10.7.1: a refused
                    SYN's reset; the SYN went by another path)
unseen-syn-icmp-refused
                    2 s in, an ICMP administratively prohibited from 198.18.2.12
                    quoting the SYN, no SYN seen (a filter or the capture's start hid
                    it): the refusal of that flow, no ICMP traffic of ic-b's
answers-lost-then-reset
                    seen near the responder: SYNs at 0, 1 and 3 s each answered by a
                    SYN-ACK that never arrived (the SYN is sent again), at 7 s the
                    route is back, the initiator had given up and resets the SYN-ACK:
                    no connection was made
two-hops-forged-reset
                    a span of both ports of a router (each packet twice, TTL 64 and
                    63): a conversation with 198.18.2.12:3260, then a SYN to
                    198.18.2.12:11104 reset with TTL 64 on A's port only: 198.18.2.12's
                    own packets come with two TTLs, so no TTL says who reset
half-open-check     SYN, SYN-ACK, the initiator's RST 0.3 ms later (a port check or SYN
                    scan): answered
refused-at-end      the capture's last packets: a SYN and, 10 us later, the RST+ACK
                    refusing it (a refusal is whole: nothing of it is cut by the end)
ok-then-refused-at-end
                    a whole conversation, then that refusal at the end
unanswered-beside-one-way
                    SYNs at 0, 1 and 3 s unanswered, and another connection from
                    port 40005 whose SYN-ACK the capture misses (one-way): 3 SYN sent
                    by the unanswered attempt
idle-then-server-first
                    a connection from client port 11105 to 11104, idle past the TCP
                    timeout (3700 s), then the server's keepalive first, twice: the
                    same connection (never 11105 from 198.18.2.12)
big-hole            a whole conversation; then on tcp/11105 a handshake, 100 bytes,
                    and the next segment 1.2 GB further (a span port overrun for a
                    second at 10 Gb/s), acknowledged
zero-window         a conversation whose receiver stopped reading: its ACKs advertise a
                    zero window, the sender's 1-byte window probes (RFC 9293 3.8.6.1)
                    at 1, 2, 4, 8 and 16 s are never acknowledged: no stall of the path
Every shape from under-way-reset on ends with a working tcp/11105 conversation 3 s
later, so that none is cut by the capture's end.
"""
import ipaddress
import os
import struct
import sys

SYN, ACK, PSH, FIN, RST = 0x02, 0x10, 0x08, 0x01, 0x04
T0 = 1800000000.0
A1, B1, B2, GW = "198.18.1.11", "198.18.2.11", "198.18.2.12", "198.18.1.1"
TFO_COOKIE = bytes([34, 10]) + b"\x11" * 8  # TCP option 34, an 8-byte cookie


def csum(data):
    data += b"\0" * (len(data) % 2)
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip(a):
    return ipaddress.ip_address(a).packed


def tcp(src, dst, sport, dport, seq, ack, flags, data=b"", opts=b"", win=64240):
    opts += b"\0" * (-len(opts) % 4)
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (20 + len(opts)) // 4 << 4, flags, win, 0, 0) + opts
    pseudo = ip(src) + ip(dst) + struct.pack("!BBH", 0, 6, len(hdr) + len(data))
    c = csum(pseudo + hdr + data)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + data


def ipv4(src, dst, proto, payload, ttl=64):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, ttl, proto, 0,
                    ip(src), ip(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def icmp(typ, code, quoted, rest=0):
    h = struct.pack("!BBHI", typ, code, 0, rest) + quoted[:28]
    return h[:2] + struct.pack("!H", csum(h)) + h[4:]


class Capture:
    """ttl: the TTL packets of each source address arrive with (64 unless named);
    keep: which packets it records (a sensor that sees part of the traffic)."""
    def __init__(self, path, ttl=None, keep=None):
        self.path, self.frames = path, []
        self.ttl, self.keep = ttl or {}, keep

    def raw(self, t, packet):
        frame = bytes.fromhex("020000000002020000000001" "0800") + packet
        frame += b"\0" * (60 - len(frame))
        self.frames.append((int(round(t * 1e6)), len(self.frames), frame))

    def tcp(self, t, src, dst, sport, dport, seq, ack, flags, data=b"", opts=b"", win=64240):
        if self.keep is None or self.keep(src, dst):
            self.raw(t, ipv4(src, dst, 6, tcp(src, dst, sport, dport, seq, ack, flags, data, opts,
                                              win),
                             self.ttl.get(src, 64)))

    def conversation(self, t, cli, srv, sport, dport, cisn, sisn, first=b"", opts=b""):
        """A whole conversation (first: data on the SYN, Fast Open)."""
        c, s = cisn, sisn
        self.tcp(t, cli, srv, sport, dport, c, 0, SYN, first, opts)
        c += 1 + len(first)
        self.tcp(t + .001, srv, cli, dport, sport, s, c, SYN | ACK)
        s += 1
        self.tcp(t + .002, cli, srv, sport, dport, c, s, ACK)
        self.tcp(t + .003, cli, srv, sport, dport, c, s, ACK | PSH, b"request")
        c += 7
        self.tcp(t + .004, srv, cli, dport, sport, s, c, ACK | PSH, b"reply")
        s += 5
        self.tcp(t + .005, cli, srv, sport, dport, c, s, FIN | ACK)
        self.tcp(t + .006, srv, cli, dport, sport, s, c + 1, FIN | ACK)
        self.tcp(t + .007, cli, srv, sport, dport, c + 1, s + 1, ACK)

    def write(self):
        with open(self.path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
            for us, _, frame in sorted(self.frames):
                f.write(struct.pack("<IIII", us // 1000000, us % 1000000, len(frame), len(frame)))
                f.write(frame)


def shapes():
    t = T0 + 1
    syn = lambda c, dt, isn=1000, data=b"", opts=b"": c.tcp(t + dt, A1, B2, 40001, 11104, isn, 0,
                                                        SYN, data, opts)
    synack = lambda c, dt, ack: c.tcp(t + dt, B2, A1, 11104, 40001, 50000, ack, SYN | ACK)
    bare_ack = lambda c, dt: c.tcp(t + dt, B2, A1, 11104, 40001, 123456789, 3000000000, ACK)
    syn_ip = ipv4(A1, B2, 6, tcp(A1, B2, 40001, 11104, 1000, 0, SYN))

    def new_isn_after_drop(c):
        syn(c, 0), syn(c, 1)
        c.conversation(t + 3, A1, B2, 40001, 11104, 4000000, 8000000)

    def new_isn_after_lost(c):
        for dt in (0, 1):
            syn(c, dt), synack(c, dt + .0003, 1001)
        c.conversation(t + 3, A1, B2, 40001, 11104, 3000000, 8000000)

    def challenge_ack(c):
        syn(c, 0), bare_ack(c, .0003)
        c.tcp(t + .0006, A1, B2, 40001, 11104, 3000000000, 0, RST)
        syn(c, 1), syn(c, 3)

    def ack_only(c):
        for dt in (0, 1, 3):
            syn(c, dt), bare_ack(c, dt + .0003)

    def advisory(typ, code, rest):
        def shape(c):
            c.raw(t, syn_ip)
            c.raw(t + .0004, ipv4(GW, A1, 1, icmp(typ, code, syn_ip, rest)))
            c.raw(t + 1, syn_ip), c.raw(t + 3, syn_ip)
        return shape

    def tfo_dropped(c):
        for dt in (0, 1, 3):
            syn(c, dt, data=b"fast-open-req", opts=TFO_COOKIE)

    def tfo_answer_lost(c):
        for dt in (0, 1, 3):
            syn(c, dt, data=b"fast-open-req", opts=TFO_COOKIE), synack(c, dt + .0003, 1014)

    def tfo_ok(c):
        c.conversation(t, A1, B2, 40001, 11104, 1000, 50000, b"fast-open-req", TFO_COOKIE)

    def unreachable(c):
        c.raw(t, syn_ip)
        c.raw(t + .0004, ipv4(GW, A1, 1, icmp(3, 13, syn_ip)))
        c.raw(t + 1, syn_ip)
        c.raw(t + 1.0004, ipv4(GW, A1, 1, icmp(3, 13, syn_ip)))

    def reset(ack, flags):
        def shape(c):
            syn(c, 0)
            c.tcp(t + .0003, B2, A1, 11104, 40001, 0, ack, flags)
            if flags != RST | ACK or ack != 1001:
                syn(c, 1), syn(c, 3)
        return shape

    def blind_reset_then_ok(c):
        syn(c, 0)
        c.tcp(t + .0003, B2, A1, 11104, 40001, 0, 77777, RST | ACK)
        c.conversation(t + 1, A1, B2, 40001, 11104, 1000, 50000)

    def last_syn(c):
        syn(c, 4)  # after every other packet

    def ok_then_last_syn(c):
        c.conversation(t, A1, B2, 40002, 11104, 1000, 50000)
        syn(c, 4)

    def first_reset(c):  # before the control conversation, T0 - 0.5 s
        c.tcp(T0 - .5, B2, A1, 11104, 40001, 50000, 1001, RST | ACK)

    def first_ack_then_ok(c):
        c.tcp(T0 - .5, A1, B2, 40001, 11104, 5000, 9000, ACK)
        c.conversation(t, A1, B2, 40002, 11104, 1000, 50000)

    def ping_unanswered(c):
        for i in range(3):
            echo = struct.pack("!BBHHH", 8, 0, 0, 0x1234, i + 1) + b"smaudit-ping"
            echo = echo[:2] + struct.pack("!H", csum(echo)) + echo[4:]
            c.raw(t + i, ipv4(A1, B2, 1, echo))

    def udp_unanswered(c):
        for i in range(2):
            data = b"smaudit-udp"
            c.raw(t + i, ipv4(A1, B2, 17, struct.pack("!HHHH", 40100, 5001, 8 + len(data), 0) + data))

    def udp_late_reply(c):  # the reply 2 s after the request (a --udp-timeout of 1 s ends it)
        data = b"smaudit-udp"
        c.raw(t, ipv4(A1, B2, 17, struct.pack("!HHHH", 40100, 5001, 8 + len(data), 0) + data))
        c.raw(t + 2, ipv4(B2, A1, 17, struct.pack("!HHHH", 5001, 40100, 8 + len(data), 0) + data))
        later(c)

    def later(c):  # a working conversation after the shape: no edge of the capture
        c.conversation(t + 5, A1, B1, 40009, 11105, 7000, 9000)

    def under_way_reset(c):
        c.tcp(t + 2, A1, B2, 40001, 11104, 1008, 50006, ACK | PSH, b"more")
        c.tcp(t + 2.0003, B2, A1, 11104, 40001, 50006, 0, RST)
        later(c)

    def under_way_reset_then_ok(c):
        under_way_reset(c)
        c.conversation(t + 3, A1, B2, 40002, 11104, 1000, 50000)

    def under_way_client_reset(c):
        c.tcp(t + 2, A1, B2, 40001, 11104, 1008, 50006, RST | ACK)
        later(c)

    def keepalive_under_way(c):
        for dt in (2, 3):
            c.tcp(t + dt, A1, B2, 40001, 11104, 1007, 50006, ACK)
            c.tcp(t + dt + .0003, B2, A1, 11104, 40001, 50006, 1008, ACK)
        c.tcp(t + 4, A1, B2, 40001, 11104, 1008, 50006, FIN | ACK)
        c.tcp(t + 4.0003, B2, A1, 11104, 40001, 50006, 1009, FIN | ACK)
        c.tcp(t + 4.0006, A1, B2, 40001, 11104, 1009, 50007, ACK)
        later(c)

    def big_hole(c):  # a span port overrun for a second at 10 Gb/s: 1.2 GB of a stream unseen
        c.conversation(t, A1, B2, 40002, 11104, 1000, 50000)
        cs, ss = 3000, 90000
        c.tcp(t + 1, A1, B2, 40003, 11105, cs, 0, SYN)
        c.tcp(t + 1.0001, B2, A1, 11105, 40003, ss, cs + 1, SYN | ACK)
        c.tcp(t + 1.0002, A1, B2, 40003, 11105, cs + 1, ss + 1, ACK | PSH, b"x" * 100)
        gap = 1200000000
        c.tcp(t + 2, A1, B2, 40003, 11105, (cs + 101 + gap) % 2**32, ss + 1, ACK | PSH, b"y" * 100)
        c.tcp(t + 2.0001, B2, A1, 11105, 40003, ss + 1, (cs + 201 + gap) % 2**32, ACK)

    def unanswered_beside_one_way(c):  # and a session whose answers the span misses
        syn(c, 0), syn(c, 1), syn(c, 3)
        c.tcp(t + .2, A1, B2, 40005, 11104, 7000, 0, SYN)
        c.tcp(t + .202, A1, B2, 40005, 11104, 7001, 9001, ACK)
        c.tcp(t + .203, A1, B2, 40005, 11104, 7001, 9001, ACK | PSH, b"data")

    def idle_then_server_first(c):
        # from client port 11105 (FreeBSD's ephemeral ports start at 10000), idle past
        # --tcp-timeout (an hour), then the server's keepalive first: the same connection
        c.tcp(t, A1, B2, 11105, 11104, 1000, 0, SYN)
        c.tcp(t + .001, B2, A1, 11104, 11105, 50000, 1001, SYN | ACK)
        c.tcp(t + .002, A1, B2, 11105, 11104, 1001, 50001, ACK)
        c.tcp(t + .003, A1, B2, 11105, 11104, 1001, 50001, ACK | PSH, b"request")
        c.tcp(t + .004, B2, A1, 11104, 11105, 50001, 1008, ACK | PSH, b"reply")
        c.tcp(t + .005, A1, B2, 11105, 11104, 1008, 50006, ACK)
        for k in (1, 2):
            at = t + 3700 * k
            c.tcp(at, B2, A1, 11104, 11105, 50005, 1008, ACK)
            c.tcp(at + .0003, A1, B2, 11105, 11104, 1008, 50006, ACK)
        c.conversation(t + 7500, A1, B1, 40009, 11105, 7000, 9000)

    def zero_window(c):  # a receiver that stopped reading: RFC 9293 3.8.6.1's probes
        cs, ss = 2000, 60000
        c.tcp(t, A1, B2, 40002, 11104, cs, 0, SYN)
        c.tcp(t + .001, B2, A1, 11104, 40002, ss, cs + 1, SYN | ACK)
        c.tcp(t + .002, A1, B2, 40002, 11104, cs + 1, ss + 1, ACK)
        for k in range(3):
            c.tcp(t + .003 + k / 1e4, A1, B2, 40002, 11104, cs + 1 + 1000 * k, ss + 1, ACK | PSH,
                  b"d" * 1000)
        c.tcp(t + .004, B2, A1, 11104, 40002, ss + 1, cs + 3001, ACK, win=0)
        for dt in (1, 2, 4, 8, 16):
            c.tcp(t + dt, A1, B2, 40002, 11104, cs + 3001, ss + 1, ACK, b"d")
            c.tcp(t + dt + .0003, B2, A1, 11104, 40002, ss + 1, cs + 3001, ACK, win=0)
        c.conversation(t + 20, A1, B1, 40009, 11105, 7000, 9000)

    def refused_at_end(c):  # the last packets: a refusal is whole, nothing of it is cut
        syn(c, 4)
        c.tcp(t + 4.00001, B2, A1, 11104, 40001, 0, 1001, RST | ACK)

    def ok_then_refused_at_end(c):
        c.conversation(t, A1, B2, 40002, 11104, 1000, 50000)
        refused_at_end(c)

    def unseen_syn_refused(c):
        c.tcp(t + 2, B2, A1, 11104, 40001, 0, 1001, RST | ACK)
        later(c)

    def answers_lost_then_reset(c):  # seen near the responder: its SYN-ACKs did not arrive
        for dt in (0, 1, 3):
            syn(c, dt)
            synack(c, dt + .0005, 1001)
        synack(c, 7, 1001)  # the route is back: the initiator's connect() had timed out
        c.tcp(t + 7.0003, A1, B2, 40001, 11104, 1001, 0, RST)
        later(c)

    def half_open_check(c):  # SYN, SYN-ACK, RST: a port check or a SYN scan, answered
        syn(c, 0)
        synack(c, .0005, 1001)
        c.tcp(t + .0008, A1, B2, 40001, 11104, 1001, 0, RST)
        later(c)

    def two_hops_forged_reset(c):  # a span of both ports of a router: each packet twice
        def both(dt, src, dst, sport, dport, seq, ack, flags):
            for k, ttl in enumerate((64, 63)):  # at the sender's port, then past the router
                c.raw(t + dt + k * 1e-5, ipv4(src, dst, 6, tcp(src, dst, sport, dport, seq, ack,
                                                               flags), ttl))
        both(0, A1, B2, 40002, 3260, 2000, 0, SYN)
        both(.001, B2, A1, 3260, 40002, 60000, 2001, SYN | ACK)
        both(.002, A1, B2, 40002, 3260, 2001, 60001, ACK)
        both(.003, A1, B2, 40002, 3260, 2001, 60001, FIN | ACK)
        both(.004, B2, A1, 3260, 40002, 60001, 2002, FIN | ACK)
        both(.005, A1, B2, 40002, 3260, 2002, 60002, ACK)
        c.raw(t + 1, ipv4(A1, B2, 6, tcp(A1, B2, 40001, 11104, 1000, 0, SYN)))  # A's port
        # the router's reset in 198.18.2.12's name, on A's port only: TTL 64 as B2's own there
        c.raw(t + 1.0001, ipv4(B2, A1, 6, tcp(B2, A1, 11104, 40001, 0, 1001, RST | ACK)))
        later(c)

    def unseen_syn_icmp_refused(c):  # the refusal names the flow: no ICMP conversation
        c.raw(t + 2, ipv4(B2, A1, 1, icmp(3, 13, syn_ip)))
        later(c)

    return {"under-way-reset": under_way_reset, "under-way-reset-then-ok": under_way_reset_then_ok,
            "under-way-client-reset": under_way_client_reset,
            "unseen-syn-refused": unseen_syn_refused,
            "unseen-syn-icmp-refused": unseen_syn_icmp_refused,
            "answers-lost-then-reset": answers_lost_then_reset,
            "two-hops-forged-reset": two_hops_forged_reset, "half-open-check": half_open_check, "idle-then-server-first": idle_then_server_first, "unanswered-beside-one-way": unanswered_beside_one_way, "big-hole": big_hole, "zero-window": zero_window, "refused-at-end": refused_at_end,
            "ok-then-refused-at-end": ok_then_refused_at_end, "keepalive-under-way": keepalive_under_way,
            "ping-unanswered": ping_unanswered, "udp-unanswered": udp_unanswered,
            "udp-late-reply": udp_late_reply, "last-syn": last_syn, "ok-then-last-syn": ok_then_last_syn,
            "first-reset": first_reset, "first-ack-then-ok": first_ack_then_ok,
            "reset": reset(1001, RST | ACK), "reset-without-ack": reset(0, RST),
            "blind-reset-then-ok": blind_reset_then_ok,
            "new-isn-after-drop": new_isn_after_drop, "new-isn-after-lost": new_isn_after_lost,
            "challenge-ack": challenge_ack, "ack-only": ack_only,
            "redirect": advisory(5, 1, int.from_bytes(ip("198.18.1.254"), "big")),
            "source-quench": advisory(4, 0, 0), "tfo-dropped": tfo_dropped,
            "tfo-answer-lost": tfo_answer_lost, "tfo-ok": tfo_ok, "unreachable": unreachable}


def main(out):
    os.makedirs(out, exist_ok=True)
    for name, shape in shapes().items():
        c = Capture(os.path.join(out, name + ".pcap"))
        c.conversation(T0, A1, B1, 40000, 11104, 1000, 50000)  # the healthy control
        shape(c)
        c.write()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
