/*
 * decode: the decoder object (options, counters per reason, names) and the link
 * layers: Ethernet with its tags (VLAN, QinQ, MPLS, PBB, VN-Tag, LLC/SNAP, PPPoE),
 * Linux cooked, raw IP, BSD loopback, PPP and Cisco HDLC, 802.11 (radiotap, PPI),
 * NFLOG.  What is above IP is in decode_ip.c and decode_tunnel.c.
 */
#include "decode_int.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static const char *const reason_names[R_COUNT] = {
    [R_NONE] = "none",
    [R_LINK_TRUNCATED] = "link-truncated",
    [R_LINKTYPE_UNSUPPORTED] = "linktype-unsupported",
    [R_NOT_IP] = "not-ip",
    [R_VLAN_TOO_DEEP] = "vlan-too-deep",
    [R_TUNNEL_TOO_DEEP] = "tunnel-too-deep",
    [R_IPV4_TRUNCATED] = "ipv4-truncated",
    [R_IPV4_INVALID] = "ipv4-invalid",
    [R_IPV6_TRUNCATED] = "ipv6-truncated",
    [R_IPV6_INVALID] = "ipv6-invalid",
    [R_EXTHDR_TRUNCATED] = "ipv6-exthdr-truncated",
    [R_L4_TRUNCATED] = "transport-truncated",
    [R_L4_INVALID] = "transport-invalid",
    [R_FRAG_ORPHAN] = "fragment-orphan",
    [R_FRAG_TABLE_FULL] = "fragment-table-full",
    [R_GRE_UNSUPPORTED] = "gre-unsupported",
    [R_TUNNEL_INNER] = "tunnel-inner-undecoded",
};

const char *
sm_dec_reason_name(enum sm_dec_reason r)
{
	return r < R_COUNT ? reason_names[r] : "unknown";
}

const char *
sm_tunnel_name(enum sm_tunnel t)
{
	switch (t) {
	case TUN_NONE:
		return "";
	case TUN_GRE:
		return "gre";
	case TUN_ERSPAN1:
		return "erspan1";
	case TUN_ERSPAN2:
		return "erspan2";
	case TUN_ERSPAN3:
		return "erspan3";
	case TUN_VXLAN:
		return "vxlan";
	case TUN_IPIP:
		return "ipip";
	case TUN_GENEVE:
		return "geneve";
	case TUN_GTP:
		return "gtp-u";
	case TUN_VXLAN_GPE:
		return "vxlan-gpe";
	case TUN_TEREDO:
		return "teredo";
	case TUN_AYIYA:
		return "ayiya";
	}
	return "";
}

struct sm_decoder *
sm_decoder_new(const struct sm_decoder_opts *opts)
{
	struct sm_decoder *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->opts = *opts;
	if (d->opts.max_frags == 0)
		d->opts.max_frags = 8192;
	if (d->opts.frag_timeout_ns <= 0)
		d->opts.frag_timeout_ns = 30LL * 1000000000;
	return d;
}

void
sm_decoder_free(struct sm_decoder *d)
{
	if (d == NULL)
		return;
	for (uint32_t i = 0; d->frags != NULL && i < d->opts.max_frags; i++)
		free(d->frags[i].buf);
	free(d->done_buf);
	free(d->whole_ip);
	free(d->frags);
	free(d->frag_buckets);
	free(d);
}

enum sm_dec
dec_fail(struct sm_decoder *d, enum sm_dec kind, enum sm_dec_reason r)
{
	d->count[r]++;
	d->last_fail = r;
	return kind;
}

uint64_t
sm_decoder_count(const struct sm_decoder *d, enum sm_dec_reason r)
{
	return r < R_COUNT ? d->count[r] : 0;
}

uint64_t
sm_decoder_undecoded(const struct sm_decoder *d)
{
	uint64_t n = 0;
	for (int r = 1; r < R_COUNT; r++)
		n += d->count[r];
	return n;
}

uint64_t
sm_decoder_frag_evictions(const struct sm_decoder *d)
{
	return d->frag_evictions;
}

/* ---- fragment table ---- */
/* PPP protocol field (1 or 2 bytes) then IP. */
static enum sm_dec
decode_ppp(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	uint8_t b0, b1;
	uint16_t proto;
	if (cur_u8(&c, 0, &b0) && (b0 == 0x0f || b0 == 0x8f) && cur_u8(&c, 1, &b1) && b1 == 0 &&
	    cur_u16(&c, 2, &proto)) { /* Cisco HDLC framing on a PPP link type */
		cur_skip(&c, 4);
		return decode_ethertype(d, proto, c, pkt, depth);
	}
	if (cur_u8(&c, 0, &b0) && b0 == 0xff && cur_u8(&c, 1, &b1) && b1 == 0x03)
		cur_skip(&c, 2);
	if (!cur_u8(&c, 0, &b0))
		return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
	if (b0 & 1) {
		proto = b0;
		cur_skip(&c, 1);
	} else {
		if (!cur_u16(&c, 0, &proto))
			return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		cur_skip(&c, 2);
	}
	if (proto == PPP_IPV4 || proto == PPP_IPV6)
		return decode_ip(d, c, pkt, depth);
	return dec_fail(d, DEC_UNSUPPORTED, R_NOT_IP);
}

enum sm_dec
decode_ethertype(struct sm_decoder *d, uint16_t type, struct cur c, struct sm_packet *pkt,
                 int depth)
{
	for (int tags = 0;; tags++) {
		switch (type) {
		case SM_ETHERTYPE_IPV4:
		case SM_ETHERTYPE_IPV6:
			return decode_ip(d, c, pkt, depth);
		case SM_ETHERTYPE_VLAN:
		case SM_ETHERTYPE_QINQ:
		case SM_ETHERTYPE_QINQ_9100:
		case SM_ETHERTYPE_QINQ_9200: {
			uint16_t tci, next;
			if (tags >= MAX_VLAN_DEPTH)
				return dec_fail(d, DEC_UNSUPPORTED, R_VLAN_TOO_DEEP);
			if (!cur_u16(&c, 0, &tci) || !cur_u16(&c, 2, &next))
				return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
			if (pkt->vlan == SM_VLAN_NONE)
				pkt->vlan = tci & 0x0fff;
			else if (pkt->inner_vlan == SM_VLAN_NONE)
				pkt->inner_vlan = tci & 0x0fff;
			cur_skip(&c, 4);
			type = next;
			continue;
		}
		case SM_ETHERTYPE_MPLS:
		case SM_ETHERTYPE_MPLS_MCAST: { /* MPLS: pop labels, then guess IP from the version
			                           nibble */
			for (int i = 0; i < 8; i++) {
				uint8_t b2;
				if (!cur_u8(&c, 2, &b2) || !cur_skip(&c, 4))
					return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
				if (b2 & 1)
					return decode_ip(d, c, pkt, depth);
			}
			return dec_fail(d, DEC_UNSUPPORTED, R_NOT_IP);
		}
		case SM_ETHERTYPE_PBB: /* 802.1ah (PBB): I-TAG, then the customer's Ethernet header
		                        */
			if (tags >= MAX_VLAN_DEPTH || !cur_u16(&c, 16, &type) || !cur_skip(&c, 18))
				return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
			tags++;
			continue;
		case SM_ETHERTYPE_VNTAG: /* VN-Tag: 4 bytes, then the next type */
			if (tags >= MAX_VLAN_DEPTH || !cur_u16(&c, 4, &type) || !cur_skip(&c, 6))
				return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
			tags++;
			continue;
		case SM_ETHERTYPE_PPPOE: /* PPPoE session */
			if (!cur_skip(&c, 6))
				return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
			return decode_ppp(d, c, pkt, depth);
		default:
			if (type < 0x0600) { /* 802.3 length: LLC, maybe SNAP */
				uint8_t dsap, ssap, ctl;
				if (cur_u8(&c, 0, &dsap) && cur_u8(&c, 1, &ssap) &&
				    cur_u8(&c, 2, &ctl) && dsap == 0xaa && ssap == 0xaa &&
				    ctl == 0x03 && cur_u16(&c, 6, &type) && tags < MAX_VLAN_DEPTH) {
					cur_skip(&c, 8);
					continue;
				}
			}
			return dec_fail(d, DEC_UNSUPPORTED, R_NOT_IP);
		}
	}
}

/* An 802.11 data frame carrying LLC/SNAP (the first subframe of an A-MSDU);
 * management, control and protected frames carry no IP we can read. */
enum sm_dec
decode_80211(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	uint8_t fc, flags, qos = 0;
	if (!cur_u8(&c, 0, &fc) || !cur_u8(&c, 1, &flags))
		return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
	if (((fc >> 2) & 3) != 2 || (flags & 0x40) || ((fc >> 4) & 0x4))
		return dec_fail(d, DEC_UNSUPPORTED,
		                R_NOT_IP); /* not data, protected, or null data */
	size_t hl = (flags & 3) == 3 ? 30 : 24;
	if ((fc >> 4) & 0x8) {
		if (!cur_u8(&c, hl, &qos))
			return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		hl += 2; /* QoS control */
		if (flags & 0x80)
			hl += 4; /* HT control */
	}
	if ((qos & 0x80) && !cur_skip(&c, 14)) /* A-MSDU: DA, SA, length of the first */
		return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
	uint8_t a, b, ctl;
	uint16_t type;
	if (!cur_skip(&c, hl) || !cur_u8(&c, 0, &a) || !cur_u8(&c, 1, &b) || !cur_u8(&c, 2, &ctl) ||
	    !cur_u16(&c, 6, &type))
		return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
	if (a != 0xaa || b != 0xaa || ctl != 0x03)
		return dec_fail(d, DEC_UNSUPPORTED, R_NOT_IP);
	cur_skip(&c, 8);
	return decode_ethertype(d, type, c, pkt, depth);
}

/* Linux NFLOG: a 4-byte header, then TLVs; type 9 holds the packet. */
static enum sm_dec
decode_nflog(struct sm_decoder *d, struct cur c, struct sm_packet *pkt)
{
	if (!cur_skip(&c, 4))
		return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
	for (;;) {
		uint16_t len, type;
		if (!cur_le16(&c, 0, &len) || !cur_le16(&c, 2, &type) || len < 4)
			return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		if ((type & 0x7fff) == 9) {
			struct cur in = c;
			cur_skip(&in, 4);
			if (in.len > (size_t)len - 4)
				in.len = (size_t)len - 4;
			return decode_ip(d, in, pkt, 0);
		}
		if (!cur_skip(&c, ((size_t)len + 3) & ~(size_t)3))
			return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
	}
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

bool
sm_decode_hint(const struct sm_raw_packet *raw, struct sm_flow_key *out)
{
	const uint8_t *p = raw->data;
	size_t n = raw->caplen, at = 0;
	out->vlan = out->inner_vlan = SM_VLAN_NONE;
	uint16_t type;
	if (raw->linktype == SM_DLT_EN10MB) {
		if (n < 14)
			return false;
		type = be16(p + 12);
		at = 14;
		for (int tags = 0; type == SM_ETHERTYPE_VLAN || type == SM_ETHERTYPE_QINQ ||
		                   type == SM_ETHERTYPE_QINQ_9100 || type == SM_ETHERTYPE_QINQ_9200;
		     tags++) {
			if (tags == 2 || n < at + 4)
				return false;
			int32_t id = be16(p + at) & 0x0fff;
			if (tags == 0)
				out->vlan = id;
			else
				out->inner_vlan = id;
			type = be16(p + at + 2);
			at += 4;
		}
	} else if (raw->linktype == SM_DLT_RAW || raw->linktype == SM_LINKTYPE_RAW) {
		type = n > 0 && p[0] >> 4 == 6 ? SM_ETHERTYPE_IPV6 : SM_ETHERTYPE_IPV4;
	} else {
		return false;
	}
	size_t l4;
	if (type == SM_ETHERTYPE_IPV4) {
		if (n < at + 20 || p[at] >> 4 != 4)
			return false;
		if ((be16(p + at + 6) & 0x3fff) != 0)
			return false; /* a fragment: the decoder's to put together */
		out->proto = p[at + 9];
		sm_addr_v4(&out->src, p + at + 12);
		sm_addr_v4(&out->dst, p + at + 16);
		l4 = at + (size_t)(p[at] & 15) * 4;
	} else if (type == SM_ETHERTYPE_IPV6) {
		if (n < at + 40 || p[at] >> 4 != 6)
			return false;
		out->proto = p[at + 6];
		sm_addr_v6(&out->src, p + at + 8);
		sm_addr_v6(&out->dst, p + at + 24);
		l4 = at + 40;
	} else {
		return false;
	}
	if ((out->proto != SM_PROTO_TCP && out->proto != SM_PROTO_UDP) || n < l4 + 4)
		return false;
	out->sport = be16(p + l4);
	out->dport = be16(p + l4 + 2);
	return true;
}

enum sm_dec
sm_decode(struct sm_decoder *d, const struct sm_raw_packet *raw, struct sm_packet *pkt)
{
	if (d->done_buf != NULL) {
		free(d->done_buf);
		d->done_buf = NULL;
	}
	memset(pkt, 0, offsetof(struct sm_packet, outer));
	pkt->ts_ns = raw->ts_ns;
	pkt->source = raw->source;
	pkt->vlan = pkt->inner_vlan = SM_VLAN_NONE;
	struct cur c = {raw->data, raw->caplen};
	uint16_t type;
	uint32_t fam;
	switch (raw->linktype) {
	case SM_DLT_EN10MB:
		if (!cur_u16(&c, 12, &type) || !cur_skip(&c, 14))
			return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		return decode_ethertype(d, type, c, pkt, 0);
	case SM_DLT_LINUX_SLL:
		if (!cur_u16(&c, 14, &type) || !cur_skip(&c, 16))
			return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		return decode_ethertype(d, type, c, pkt, 0);
	case SM_DLT_LINUX_SLL2:
		if (!cur_u16(&c, 0, &type) || !cur_skip(&c, 20))
			return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		return decode_ethertype(d, type, c, pkt, 0);
	case SM_DLT_RAW:
	case SM_DLT_RAW_BSD:
	case SM_LINKTYPE_RAW:
	case SM_DLT_IPV4:
	case SM_DLT_IPV6:
		return decode_ip(d, c, pkt, 0);
	case SM_DLT_NULL:
	case SM_DLT_LOOP:
		if (!cur_u32(&c, 0, &fam) || !cur_skip(&c, 4))
			return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		if (raw->linktype == SM_DLT_NULL && fam > 0xffff) /* written in little endian */
			fam = __builtin_bswap32(fam);
		if (fam == SM_LOOP_AF_INET || fam == SM_LOOP_AF_INET6_LINUX ||
		    fam == SM_LOOP_AF_INET6_BSD || fam == SM_LOOP_AF_INET6_FREEBSD ||
		    fam == SM_LOOP_AF_INET6_DARWIN)
			return decode_ip(d, c, pkt, 0);
		return dec_fail(d, DEC_UNSUPPORTED, R_NOT_IP);
	case SM_DLT_PPP:
	case SM_DLT_PPP_SERIAL:
		return decode_ppp(d, c, pkt, 0);
	case SM_DLT_PPP_ETHER:
		if (!cur_skip(&c, 6))
			return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		return decode_ppp(d, c, pkt, 0);
	case SM_DLT_C_HDLC:
		if (!cur_u16(&c, 2, &type) || !cur_skip(&c, 4))
			return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		return decode_ethertype(d, type, c, pkt, 0);
	case SM_DLT_IEEE802_11:
		return decode_80211(d, c, pkt, 0);
	case SM_DLT_IEEE802_11_RADIO: {
		uint16_t hl;
		if (!cur_le16(&c, 2, &hl) || !cur_skip(&c, hl))
			return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		return decode_80211(d, c, pkt, 0);
	}
	case SM_DLT_PPI: {
		uint16_t hl, dlt;
		if (!cur_le16(&c, 2, &hl) || !cur_le16(&c, 4, &dlt) || !cur_skip(&c, hl))
			return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		if (dlt == SM_DLT_IEEE802_11)
			return decode_80211(d, c, pkt, 0);
		if (dlt == SM_DLT_EN10MB) {
			if (!cur_u16(&c, 12, &type) || !cur_skip(&c, 14))
				return dec_fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
			return decode_ethertype(d, type, c, pkt, 0);
		}
		return dec_fail(d, DEC_UNSUPPORTED, R_LINKTYPE_UNSUPPORTED);
	}
	case SM_DLT_NFLOG:
		return decode_nflog(d, c, pkt);
	default:
		return dec_fail(d, DEC_UNSUPPORTED, R_LINKTYPE_UNSUPPORTED);
	}
}
