/*
 * decode_tunnel: packets inside packets.  GRE (with ERSPAN I-III, Aruba 802.11,
 * PPTP), UDP tunnels by port or content (VXLAN, VXLAN-GPE, Geneve, GTP-U, Teredo,
 * AYIYA, GRE in UDP) and IP in IP are taken off, up to SM_MAX_OUTER layers, the
 * carrying datagrams kept as the packet's outer layers.
 */
#include "decode_int.h"

#include <string.h>

enum sm_dec
decap(struct sm_decoder *d, enum sm_tunnel kind, enum inner what, struct cur inner,
      struct sm_packet *pkt, int depth)
{
	if (depth >= MAX_TUNNEL_DEPTH) {
		d->count[R_TUNNEL_TOO_DEEP]++;
		return DEC_OK;
	}
	struct sm_packet outer = *pkt;
	memset(pkt, 0, sizeof(*pkt));
	pkt->ts_ns = outer.ts_ns;
	pkt->source = outer.source;
	pkt->vlan = pkt->inner_vlan = SM_VLAN_NONE;
	d->last_fail = R_NONE;
	enum sm_dec rc;
	if (what == IN_80211) {
		rc = decode_80211(d, inner, pkt, depth + 1);
	} else if (what == IN_ETHERNET) {
		uint16_t type;
		if (!cur_u16(&inner, 12, &type) || !cur_skip(&inner, 14))
			rc = DEC_TRUNCATED;
		else
			rc = decode_ethertype(d, type, inner, pkt, depth + 1);
	} else {
		rc = decode_ip(d, inner, pkt, depth + 1);
	}
	/* An inner packet whose addresses were read but whose transport header the
	 * snap length cut is that: its pair counts as cut (audit.c), its carriers
	 * as carriers. */
	bool cut = rc == DEC_TRUNCATED && pkt->src.family != 0 &&
	           (pkt->proto == SM_PROTO_TCP || pkt->proto == SM_PROTO_UDP ||
	            pkt->proto == SM_PROTO_ICMP || pkt->proto == SM_PROTO_ICMP6);
	if ((rc == DEC_OK || rc == DEC_HELD || cut) && pkt->nouter < SM_MAX_OUTER) {
		if (outer.tunnel == TUN_NONE) {
			pkt->tunnel = kind;
			pkt->outer_src = outer.src;
			pkt->outer_dst = outer.dst;
		} else {
			pkt->tunnel = outer.tunnel;
			pkt->outer_src = outer.outer_src;
			pkt->outer_dst = outer.outer_dst;
		}
		memmove(&pkt->outer[1], &pkt->outer[0], pkt->nouter * sizeof(pkt->outer[0]));
		pkt->nouter++;
		struct sm_outer *o = &pkt->outer[0];
		o->kind = kind;
		o->src = outer.src;
		o->dst = outer.dst;
		o->proto = outer.proto;
		o->ttl = outer.ttl;
		o->sport = outer.proto == SM_PROTO_UDP ? outer.sport : 0;
		o->dport = outer.proto == SM_PROTO_UDP ? outer.dport : 0;
		o->ip_len = outer.ip_len;
		o->held_pkts = outer.held_pkts;
		o->held_bytes = outer.held_bytes;
		o->vlan = outer.vlan;
		o->inner_vlan = outer.inner_vlan;
		return rc;
	}
	/* The carrier was decoded (its flow counts it), what it carries not: one
	 * reason for the packet, this one, in place of the inner packet's. */
	*pkt = outer;
	if (d->last_fail != R_NONE && d->count[d->last_fail] > 0)
		d->count[d->last_fail]--;
	d->count[R_TUNNEL_INNER]++;
	return DEC_OK;
}

enum sm_dec
decode_gre(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	uint8_t flags, ver;
	uint16_t proto;
	if (!cur_u8(&c, 0, &flags) || !cur_u8(&c, 1, &ver) || !cur_u16(&c, 2, &proto))
		return DEC_OK; /* a GRE session of its own */
	size_t hl = 4;
	if ((ver & 7) == 0) {
		if (flags & 0x40) { /* source routing (RFC 1701) */
			d->count[R_GRE_UNSUPPORTED]++;
			return DEC_OK;
		}
		if (flags & 0x80)
			hl += 4;
		if (flags & 0x20)
			hl += 4;
		if (flags & 0x10)
			hl += 4;
		struct cur in = c;
		if (!cur_skip(&in, hl))
			return DEC_OK;
		switch (proto) {
		case SM_ETHERTYPE_IPV4:
		case SM_ETHERTYPE_IPV6:
			return decap(d, TUN_GRE, IN_IP, in, pkt, depth);
		case SM_ETHERTYPE_TEB:
			return decap(d, TUN_GRE, IN_ETHERNET, in, pkt, depth);
		case SM_ETHERTYPE_ERSPAN:
			if (flags & 0x10) { /* ERSPAN type II: 8-byte header */
				if (!cur_skip(&in, 8))
					return DEC_OK;
				return decap(d, TUN_ERSPAN2, IN_ETHERNET, in, pkt, depth);
			}
			return decap(d, TUN_ERSPAN1, IN_ETHERNET, in, pkt, depth);
		case SM_ETHERTYPE_ERSPAN3: { /* ERSPAN type III: 12 bytes, 8 more if O is set */
			uint8_t last;
			if (!cur_u8(&in, 11, &last))
				return DEC_OK;
			if (!cur_skip(&in, (last & 1) ? 20 : 12))
				return DEC_OK;
			return decap(d, TUN_ERSPAN3, IN_ETHERNET, in, pkt, depth);
		}
		default:
			/* Aruba access points: 802.11 frames */
			if ((((proto & 0xff00) == SM_ETHERTYPE_ARUBA_82X0 ||
			      (proto >= SM_ETHERTYPE_ARUBA_83X0 &&
			       proto <= SM_ETHERTYPE_ARUBA_83X0_MAX)) &&
			     (proto & 0x0f) == 0) ||
			    proto == SM_ETHERTYPE_ARUBA_80211)
				return decap(d, TUN_GRE, IN_80211, in, pkt, depth);
			d->count[R_GRE_UNSUPPORTED]++;
			return DEC_OK;
		}
	}
	if ((ver & 7) == 1 && proto == SM_ETHERTYPE_PPP) { /* PPTP enhanced GRE carrying PPP */
		hl = 8;
		if (flags & 0x10)
			hl += 4;
		if (ver & 0x80)
			hl += 4;
		struct cur in = c;
		uint8_t b0, b1;
		if (!cur_skip(&in, hl) || !cur_u8(&in, 0, &b0))
			return DEC_OK;
		if (b0 == 0xff && cur_u8(&in, 1, &b1) && b1 == 0x03 && !cur_skip(&in, 2))
			return DEC_OK;
		uint16_t pp;
		if (!cur_u8(&in, 0, &b0))
			return DEC_OK;
		if (b0 & 1) {
			pp = b0;
			cur_skip(&in, 1);
		} else if (cur_u16(&in, 0, &pp)) {
			cur_skip(&in, 2);
		} else {
			return DEC_OK;
		}
		if (pp == PPP_IPV4 || pp == PPP_IPV6)
			return decap(d, TUN_GRE, IN_IP, in, pkt, depth);
		return DEC_OK;
	}
	d->count[R_GRE_UNSUPPORTED]++;
	return DEC_OK;
}

bool
is_tunnel_port(const struct sm_decoder *d, uint16_t p)
{
	switch (p) {
	case SM_PORT_VXLAN:
	case SM_PORT_VXLAN_GPE:
		return d->opts.vxlan;
	case SM_PORT_GTPU:
	case SM_PORT_TEREDO:
	case SM_PORT_GRE_UDP:
	case SM_PORT_AYIYA:
	case SM_PORT_GENEVE:
		return true;
	default:
		return false;
	}
}

/* VXLAN (RFC 7348) or VXLAN-GPE: the I flag, or the P flag and what follows.  A
 * datagram whose destination is not the VXLAN port (the port was the sender's)
 * must also keep the reserved bits zero. */
static enum sm_dec
decode_vxlan(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	uint8_t b0, next, last;
	struct cur in = c;
	if (!cur_u8(&c, 0, &b0) || !cur_u8(&c, 3, &next) || !cur_u8(&c, 7, &last) ||
	    !cur_skip(&in, 8))
		return DEC_OK;
	bool std = pkt->dport == SM_PORT_VXLAN || pkt->dport == SM_PORT_VXLAN_GPE;
	if (!std && ((b0 & ~0x0c) != 0 || last != 0))
		return DEC_OK;
	if (b0 & 0x04) { /* GPE: next protocol 1 IPv4, 2 IPv6, 3 Ethernet */
		if (next == 1 || next == 2)
			return decap(d, TUN_VXLAN_GPE, IN_IP, in, pkt, depth);
		if (next == 3)
			return decap(d, TUN_VXLAN_GPE, IN_ETHERNET, in, pkt, depth);
		return DEC_OK;
	}
	if (b0 & 0x08)
		return decap(d, TUN_VXLAN, IN_ETHERNET, in, pkt, depth);
	return DEC_OK;
}

/* GTP-U v1 G-PDU: 8 bytes, 4 more if E/S/PN, then extension headers. */
static enum sm_dec
decode_gtp(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	uint8_t b0, b1;
	struct cur in = c;
	if (!cur_u8(&c, 0, &b0) || !cur_u8(&c, 1, &b1) || (b0 >> 5) != 1 || !(b0 & 0x10) ||
	    b1 != 0xff)
		return DEC_OK;
	size_t off = 8;
	if (b0 & 0x07) {
		uint8_t next;
		if (!cur_u8(&c, 11, &next))
			return DEC_OK;
		off = 12;
		for (int i = 0; (b0 & 0x04) && next != 0 && i < 16; i++) {
			uint8_t units;
			if (!cur_u8(&c, off, &units) || units == 0)
				return DEC_OK;
			off += (size_t)units * 4;
			if (!cur_u8(&c, off - 1, &next))
				return DEC_OK;
		}
	}
	if (cur_skip(&in, off))
		return decap(d, TUN_GTP, IN_IP, in, pkt, depth);
	return DEC_OK;
}

/* Teredo (RFC 4380): an optional authentication and origin indication, then an
 * IPv6 packet exactly as long as the rest of the datagram.  A bubble (no next
 * header, nothing in it) keeps the NAT mapping open: it stays UDP. */
static enum sm_dec
decode_teredo(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	uint8_t b0, b1, idlen, aulen, nh;
	uint16_t plen;
	size_t len = pkt->payload_len; /* per the UDP header */
	if (cur_u8(&c, 0, &b0) && cur_u8(&c, 1, &b1) && b0 == 0 && b1 == 1) {
		if (!cur_u8(&c, 2, &idlen) || !cur_u8(&c, 3, &aulen))
			return DEC_OK;
		size_t n = 4 + (size_t)idlen + aulen + 8 + 1;
		if (n > len || !cur_skip(&c, n))
			return DEC_OK;
		len -= n;
	}
	if (cur_u8(&c, 0, &b0) && cur_u8(&c, 1, &b1) && b0 == 0 && b1 == 0) {
		if (len < 8 || !cur_skip(&c, 8))
			return DEC_OK;
		len -= 8;
	}
	if (!cur_u8(&c, 0, &b0) || (b0 >> 4) != 6 || !cur_u16(&c, 4, &plen) ||
	    !cur_u8(&c, 6, &nh) || (size_t)plen + 40 != len || (nh == SM_PROTO_NONE && plen == 0))
		return DEC_OK;
	return decap(d, TUN_TEREDO, IN_IP, c, pkt, depth);
}

/* AYIYA: identity (2^idlen bytes) and signature (4 * siglen) after 8 bytes;
 * opcode 1 forwards the IPv4 or IPv6 packet that follows. */
static enum sm_dec
decode_ayiya(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	uint8_t b0, b1, b2, next, v;
	if (!cur_u8(&c, 0, &b0) || !cur_u8(&c, 1, &b1) || !cur_u8(&c, 2, &b2) ||
	    !cur_u8(&c, 3, &next) || (b2 & 0x0f) != 1 ||
	    (next != SM_PROTO_IPIP && next != SM_PROTO_IPV6))
		return DEC_OK;
	size_t n = 8 + ((size_t)1 << (b0 >> 4)) + (size_t)(b1 >> 4) * 4;
	if (!cur_skip(&c, n) || !cur_u8(&c, 0, &v) || (v >> 4) != (next == SM_PROTO_IPIP ? 4 : 6))
		return DEC_OK;
	return decap(d, TUN_AYIYA, IN_IP, c, pkt, depth);
}

/* UDP that carries whole packets, by either port (a port seen only as the
 * source is the sender's choice, as in VXLAN from 4789 to 4790); c is the UDP
 * payload.  Anything else, or a header that does not parse, stays UDP. */
enum sm_dec
decode_udp_tunnel(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	uint16_t sp = pkt->sport, dp = pkt->dport;
	if (!is_tunnel_port(d, sp) && !is_tunnel_port(d, dp)) {
		/* Teredo and AYIYA relays use other ports too: known by content, an
		 * IPv6 packet to or from the Teredo prefix 2001::/32 filling the
		 * datagram, or AYIYA's forward opcode followed by IPv6 */
		uint8_t b0, b2, b3;
		const uint8_t *a, *b;
		if (!cur_u8(&c, 0, &b0))
			return DEC_OK;
		if ((b0 >> 4) == 6 && cur_bytes(&c, 8, 4, &a) && cur_bytes(&c, 24, 4, &b) &&
		    ((a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0) ||
		     (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0)))
			return decode_teredo(d, c, pkt, depth);
		if (cur_u8(&c, 2, &b2) && cur_u8(&c, 3, &b3) && b2 == 0x11 && b3 == SM_PROTO_IPV6)
			return decode_ayiya(d, c, pkt, depth);
		return DEC_OK;
	}
	enum sm_dec rc = DEC_OK;
	uint8_t before = pkt->nouter; /* grows when a layer was taken off */
#define PORT(n) (sp == (n) || dp == (n))
#define TRY(call)                                                                                  \
	do {                                                                                       \
		rc = (call);                                                                       \
		if (rc != DEC_OK || pkt->nouter != before)                                         \
			return rc;                                                                 \
	} while (0)
	if (d->opts.vxlan && (PORT(SM_PORT_VXLAN) || PORT(SM_PORT_VXLAN_GPE)))
		TRY(decode_vxlan(d, c, pkt, depth));
	if (PORT(SM_PORT_GENEVE)) {
		uint8_t b0;
		uint16_t proto;
		struct cur in = c;
		if (cur_u8(&c, 0, &b0) && (b0 >> 6) == 0 && cur_u16(&c, 2, &proto) &&
		    cur_skip(&in, 8 + (size_t)(b0 & 0x3f) * 4)) {
			if (proto == SM_ETHERTYPE_TEB)
				TRY(decap(d, TUN_GENEVE, IN_ETHERNET, in, pkt, depth));
			else if (proto == SM_ETHERTYPE_IPV4 || proto == SM_ETHERTYPE_IPV6)
				TRY(decap(d, TUN_GENEVE, IN_IP, in, pkt, depth));
		}
	}
	if (PORT(SM_PORT_GTPU))
		TRY(decode_gtp(d, c, pkt, depth));
	if (PORT(SM_PORT_TEREDO))
		TRY(decode_teredo(d, c, pkt, depth));
	if (PORT(SM_PORT_AYIYA))
		TRY(decode_ayiya(d, c, pkt, depth));
	if (PORT(SM_PORT_GRE_UDP))
		TRY(decode_gre(d, c, pkt, depth));
#undef TRY
#undef PORT
	return rc;
}
