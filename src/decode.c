#include "smaudit/decode.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Linktype values used here (pcap/dlt.h); kept local so only capture.c includes libpcap. */
enum {
	LT_NULL = 0,
	LT_EN10MB = 1,
	LT_PPP = 9,
	LT_RAW_LINUX = 12,
	LT_RAW_BSD = 14,
	LT_PPP_SERIAL = 50,
	LT_PPP_ETHER = 51,
	LT_RAW = 101,
	LT_C_HDLC = 104,
	LT_LOOP = 108,
	LT_LINUX_SLL = 113,
	LT_IPV4 = 228,
	LT_IPV6 = 229,
	LT_LINUX_SLL2 = 276,
	LT_IEEE802_11 = 105,
	LT_RADIOTAP = 127,
	LT_PPI = 192,
	LT_NFLOG = 239,
};

#define MAX_VLAN_DEPTH   4
#define MAX_TUNNEL_DEPTH SM_MAX_OUTER
#define MAX_FRAG_BUFS    64 /* tunnel datagrams reassembled at once: 64 x 66 KB at most */
#define MAX_EXT_HEADERS  8
#define MAX_EXT_WALK     512 /* each header is >= 8 bytes: the packet ends the walk first */

/* A bounds-checked view of packet bytes; every read goes through cur_*(). */
struct cur {
	const uint8_t *p;
	size_t len;
};

static bool
cur_u8(const struct cur *c, size_t off, uint8_t *v)
{
	if (off >= c->len)
		return false;
	*v = c->p[off];
	return true;
}

static bool
cur_u16(const struct cur *c, size_t off, uint16_t *v)
{
	if (c->len < 2 || off > c->len - 2)
		return false;
	*v = (uint16_t)((c->p[off] << 8) | c->p[off + 1]);
	return true;
}

static bool
cur_u32(const struct cur *c, size_t off, uint32_t *v)
{
	if (c->len < 4 || off > c->len - 4)
		return false;
	*v = ((uint32_t)c->p[off] << 24) | ((uint32_t)c->p[off + 1] << 16) |
	     ((uint32_t)c->p[off + 2] << 8) | c->p[off + 3];
	return true;
}

static bool
cur_le16(const struct cur *c, size_t off, uint16_t *v)
{
	if (c->len < 2 || off > c->len - 2)
		return false;
	*v = (uint16_t)(c->p[off] | (c->p[off + 1] << 8));
	return true;
}

/* Advances the cursor by n bytes; false (cursor unchanged) if fewer remain. */
static bool
cur_skip(struct cur *c, size_t n)
{
	if (n > c->len)
		return false;
	c->p += n;
	c->len -= n;
	return true;
}

/* Points *out at n bytes at off; false if they are not all captured. */
static bool
cur_bytes(const struct cur *c, size_t off, size_t n, const uint8_t **out)
{
	if (off > c->len || n > c->len - off)
		return false;
	*out = c->p + off;
	return true;
}

/* The bytes of a fragmented UDP datagram that may carry a tunnel, kept until it
 * is whole and then decoded as one: the tunnel header is in the first fragment,
 * the packet it carries spans them all. */
struct frag_buf {
	uint32_t total;  /* bytes of the datagram, known once its last fragment came */
	uint32_t blocks; /* 8-byte blocks received */
	uint8_t map[65536 / 64];
	uint8_t data[65536];
};

struct frag_entry {
	uint8_t used;
	uint8_t ports_known;
	uint8_t no_buf; /* not a tunnel, too many at once, or done: keep no bytes */
	uint8_t proto;
	int32_t vlan;
	uint32_t id;
	uint32_t next; /* hash chain, UINT32_MAX = end */
	struct sm_addr src, dst;
	uint16_t sport, dport;
	uint32_t held_pkts, held_bytes;
	int64_t ts_ns;
	struct frag_buf *buf;
};

struct sm_decoder {
	struct sm_decoder_opts opts;
	uint64_t count[R_COUNT];
	uint64_t frag_evictions;
	struct frag_entry *frags;
	uint32_t *frag_buckets;
	uint32_t frag_nbuckets;
	uint32_t frag_ring; /* next slot to reuse: slots are taken in creation order */
	uint32_t nbufs;
	struct frag_buf *done_buf; /* the last datagram reassembled: the packet points into it */
};

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
	free(d->frags);
	free(d->frag_buckets);
	free(d);
}

/* A failure of the given kind, counted under reason r. */
static enum sm_dec
fail(struct sm_decoder *d, enum sm_dec kind, enum sm_dec_reason r)
{
	d->count[r]++;
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

static uint32_t
frag_hash(const struct sm_addr *src, const struct sm_addr *dst, uint32_t id, uint8_t proto)
{
	uint32_t h = sm_addr_hash(src, 2166136261u);
	h = sm_addr_hash(dst, h);
	h ^= id * 2654435761u;
	h ^= proto;
	return h;
}

static bool
frag_alloc(struct sm_decoder *d)
{
	if (d->frags != NULL)
		return true;
	uint32_t nb = 1;
	while (nb < d->opts.max_frags * 2)
		nb <<= 1;
	d->frags = calloc(d->opts.max_frags, sizeof(*d->frags));
	d->frag_buckets = malloc(nb * sizeof(*d->frag_buckets));
	if (d->frags == NULL || d->frag_buckets == NULL) {
		free(d->frags);
		free(d->frag_buckets);
		d->frags = NULL;
		d->frag_buckets = NULL;
		return false;
	}
	memset(d->frag_buckets, 0xff, nb * sizeof(*d->frag_buckets));
	d->frag_nbuckets = nb;
	return true;
}

static void
frag_unlink(struct sm_decoder *d, uint32_t idx)
{
	struct frag_entry *e = &d->frags[idx];
	uint32_t b = frag_hash(&e->src, &e->dst, e->id, e->proto) & (d->frag_nbuckets - 1);
	uint32_t *link = &d->frag_buckets[b];
	while (*link != UINT32_MAX) {
		if (*link == idx) {
			*link = e->next;
			break;
		}
		link = &d->frags[*link].next;
	}
	e->used = 0;
}

static void
frag_buf_free(struct sm_decoder *d, struct frag_entry *e)
{
	if (e->buf != NULL) {
		free(e->buf);
		e->buf = NULL;
		d->nbufs--;
	}
}

/* Keeps the bytes of one fragment (data: its payload, off: where it goes in the
 * datagram, len: its length per the IP header, more: MF); a fragment not
 * captured whole, or the bound on datagrams kept, ends the keeping. */
static void
frag_buf_add(struct sm_decoder *d, struct frag_entry *e, struct cur data, uint32_t off,
             uint32_t len, bool more)
{
	if (e->no_buf)
		return;
	if (data.len < len || (size_t)off + len > sizeof(e->buf->data) || (more && len % 8 != 0) ||
	    (e->buf == NULL && d->nbufs >= MAX_FRAG_BUFS)) {
		frag_buf_free(d, e);
		e->no_buf = 1;
		return;
	}
	if (e->buf == NULL) {
		e->buf = malloc(sizeof(*e->buf));
		if (e->buf == NULL) {
			e->no_buf = 1;
			return;
		}
		d->nbufs++;
		e->buf->total = 0;
		e->buf->blocks = 0;
		memset(e->buf->map, 0, sizeof(e->buf->map));
	}
	struct frag_buf *b = e->buf;
	memcpy(b->data + off, data.p, len);
	for (uint32_t k = off / 8; k < (off + len + 7) / 8; k++) {
		if (!(b->map[k / 8] & (1u << (k % 8)))) {
			b->map[k / 8] |= (uint8_t)(1u << (k % 8));
			b->blocks++;
		}
	}
	if (!more)
		b->total = off + len;
}

static bool
frag_buf_whole(const struct frag_entry *e)
{
	const struct frag_buf *b = e->buf;
	return b != NULL && b->total != 0 && b->blocks == (b->total + 7) / 8;
}

/* Forgets an entry; fragments it still holds are counted as lost. */
static void
frag_drop(struct sm_decoder *d, uint32_t idx, enum sm_dec_reason why)
{
	struct frag_entry *e = &d->frags[idx];
	d->count[why] += e->held_pkts;
	frag_buf_free(d, e);
	frag_unlink(d, idx);
}

/* Finds or creates the entry of a datagram; NULL when out of memory. */
static struct frag_entry *
frag_lookup(struct sm_decoder *d, const struct sm_packet *pkt, uint32_t id)
{
	if (!frag_alloc(d))
		return NULL;
	uint32_t b = frag_hash(&pkt->src, &pkt->dst, id, pkt->proto) & (d->frag_nbuckets - 1);
	for (uint32_t i = d->frag_buckets[b]; i != UINT32_MAX; i = d->frags[i].next) {
		struct frag_entry *e = &d->frags[i];
		if (e->id == id && e->proto == pkt->proto && e->vlan == pkt->vlan &&
		    sm_addr_eq(&e->src, &pkt->src) && sm_addr_eq(&e->dst, &pkt->dst)) {
			if (pkt->ts_ns - e->ts_ns > d->opts.frag_timeout_ns) {
				/* A stale datagram with a reused id: start over. */
				d->count[R_FRAG_ORPHAN] += e->held_pkts;
				e->held_pkts = e->held_bytes = 0;
				e->ports_known = 0;
				e->no_buf = 0;
				frag_buf_free(d, e);
			}
			e->ts_ns = pkt->ts_ns;
			return e;
		}
	}
	uint32_t slot = d->frag_ring;
	d->frag_ring = (d->frag_ring + 1) % d->opts.max_frags;
	if (d->frags[slot].used) {
		bool expired = pkt->ts_ns - d->frags[slot].ts_ns > d->opts.frag_timeout_ns;
		if (!expired)
			d->frag_evictions++;
		frag_drop(d, slot, expired ? R_FRAG_ORPHAN : R_FRAG_TABLE_FULL);
	}
	struct frag_entry *e = &d->frags[slot];
	memset(e, 0, sizeof(*e));
	e->used = 1;
	e->src = pkt->src;
	e->dst = pkt->dst;
	e->id = id;
	e->proto = pkt->proto;
	e->vlan = pkt->vlan;
	e->ts_ns = pkt->ts_ns;
	e->next = d->frag_buckets[b];
	d->frag_buckets[b] = slot;
	return e;
}

void
sm_decoder_finish(struct sm_decoder *d)
{
	if (d->frags == NULL)
		return;
	for (uint32_t i = 0; i < d->opts.max_frags; i++)
		if (d->frags[i].used)
			frag_drop(d, i, R_FRAG_ORPHAN);
}

/* ---- transport ---- */

static enum sm_dec decode_80211(struct sm_decoder *d, struct cur c, struct sm_packet *pkt,
                                int depth);
static enum sm_dec decode_ethertype(struct sm_decoder *d, uint16_t type, struct cur c,
                                    struct sm_packet *pkt, int depth);
static enum sm_dec decode_ip(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth);

/* Reads the addresses and ports of a packet quoted by an ICMP error. */
static bool
parse_quote(struct cur c, struct sm_quote *q)
{
	uint8_t vhl;
	memset(q, 0, sizeof(*q));
	if (!cur_u8(&c, 0, &vhl))
		return false;
	size_t l4off;
	uint16_t frag = 0;
	const uint8_t *a;
	if ((vhl >> 4) == 4) {
		size_t ihl = (size_t)(vhl & 0x0f) * 4;
		if (ihl < 20 || !cur_u8(&c, 9, &q->proto) || !cur_u16(&c, 6, &frag))
			return false;
		if (!cur_bytes(&c, 12, 4, &a))
			return false;
		sm_addr_v4(&q->src, a);
		if (!cur_bytes(&c, 16, 4, &a))
			return false;
		sm_addr_v4(&q->dst, a);
		l4off = ihl;
	} else if ((vhl >> 4) == 6) {
		uint8_t nh;
		if (!cur_u8(&c, 6, &nh))
			return false;
		if (!cur_bytes(&c, 8, 16, &a))
			return false;
		sm_addr_v6(&q->src, a);
		if (!cur_bytes(&c, 24, 16, &a))
			return false;
		sm_addr_v6(&q->dst, a);
		l4off = 40;
		for (int i = 0; i < MAX_EXT_HEADERS; i++) {
			uint8_t nn, hl;
			if (nh != 0 && nh != 43 && nh != 60 && nh != 44)
				break;
			if (!cur_u8(&c, l4off, &nn) || !cur_u8(&c, l4off + 1, &hl))
				return true; /* addresses known, ports not */
			if (nh == 44) {
				uint16_t off;
				if (!cur_u16(&c, l4off + 2, &off))
					return true;
				frag = (uint16_t)(off >> 3);
				l4off += 8;
			} else {
				l4off += ((size_t)hl + 1) * 8;
			}
			nh = nn;
		}
		q->proto = nh;
	} else {
		return false;
	}
	if ((frag & 0x1fff) != 0)
		return true; /* a non-first fragment carries no ports */
	if (q->proto == SM_PROTO_TCP || q->proto == SM_PROTO_UDP || q->proto == 132) {
		if (cur_u16(&c, l4off, &q->sport) && cur_u16(&c, l4off + 2, &q->dport))
			q->ports_known = true;
	} else if (q->proto == SM_PROTO_ICMP || q->proto == SM_PROTO_ICMP6) {
		uint8_t type;
		uint16_t id;
		if (cur_u8(&c, l4off, &type) && cur_u16(&c, l4off + 4, &id)) {
			bool echo = q->proto == SM_PROTO_ICMP ? (type == 8 || type == 0)
			                                      : (type == 128 || type == 129);
			q->sport = q->dport = echo ? id : type;
			q->ports_known = echo;
		}
	}
	return true;
}

static bool
icmp_is_error(uint8_t proto, uint8_t type)
{
	if (proto == SM_PROTO_ICMP)
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	return type >= 1 && type <= 4;
}

/* Decapsulates an inner packet; on failure the outer packet is kept as it was.
 * The carrying datagram becomes the packet's outermost layer. */
enum inner { IN_IP, IN_ETHERNET, IN_80211 };

static enum sm_dec
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
	if ((rc == DEC_OK || rc == DEC_HELD) && pkt->nouter < SM_MAX_OUTER) {
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
	*pkt = outer;
	d->count[R_TUNNEL_INNER]++;
	return DEC_OK;
}

static enum sm_dec
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
		case 0x0800:
		case 0x86dd:
			return decap(d, TUN_GRE, IN_IP, in, pkt, depth);
		case 0x6558:
			return decap(d, TUN_GRE, IN_ETHERNET, in, pkt, depth);
		case 0x88be:
			if (flags & 0x10) { /* ERSPAN type II: 8-byte header */
				if (!cur_skip(&in, 8))
					return DEC_OK;
				return decap(d, TUN_ERSPAN2, IN_ETHERNET, in, pkt, depth);
			}
			return decap(d, TUN_ERSPAN1, IN_ETHERNET, in, pkt, depth);
		case 0x22eb: { /* ERSPAN type III: 12 bytes, 8 more if O is set */
			uint8_t last;
			if (!cur_u8(&in, 11, &last))
				return DEC_OK;
			if (!cur_skip(&in, (last & 1) ? 20 : 12))
				return DEC_OK;
			return decap(d, TUN_ERSPAN3, IN_ETHERNET, in, pkt, depth);
		}
		default:
			/* Aruba access points: 802.11 frames, types 0x82x0, 0x8300-0x8370, 0x9000
			 */
			if ((((proto & 0xff00) == 0x8200 || (proto >= 0x8300 && proto <= 0x8370)) &&
			     (proto & 0x0f) == 0) ||
			    proto == 0x9000)
				return decap(d, TUN_GRE, IN_80211, in, pkt, depth);
			d->count[R_GRE_UNSUPPORTED]++;
			return DEC_OK;
		}
	}
	if ((ver & 7) == 1 && proto == 0x880b) { /* PPTP enhanced GRE carrying PPP */
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
		if (pp == 0x21 || pp == 0x57)
			return decap(d, TUN_GRE, IN_IP, in, pkt, depth);
		return DEC_OK;
	}
	d->count[R_GRE_UNSUPPORTED]++;
	return DEC_OK;
}

static bool
is_tunnel_port(const struct sm_decoder *d, uint16_t p)
{
	switch (p) {
	case 4789:
	case 4790:
		return d->opts.vxlan;
	case 2152: /* GTP-U */
	case 3544: /* Teredo */
	case 4754: /* GRE in UDP (RFC 8086) */
	case 5072: /* AYIYA */
	case 6081: /* Geneve */
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
	bool std = pkt->dport == 4789 || pkt->dport == 4790;
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
	    !cur_u8(&c, 6, &nh) || (size_t)plen + 40 != len || (nh == 59 && plen == 0))
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
	    !cur_u8(&c, 3, &next) || (b2 & 0x0f) != 1 || (next != 4 && next != 41))
		return DEC_OK;
	size_t n = 8 + ((size_t)1 << (b0 >> 4)) + (size_t)(b1 >> 4) * 4;
	if (!cur_skip(&c, n) || !cur_u8(&c, 0, &v) || (v >> 4) != (next == 4 ? 4 : 6))
		return DEC_OK;
	return decap(d, TUN_AYIYA, IN_IP, c, pkt, depth);
}

static enum sm_dec decode_gre(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth);

/* UDP that carries whole packets, by either port (a port seen only as the
 * source is the sender's choice, as in VXLAN from 4789 to 4790); c is the UDP
 * payload.  Anything else, or a header that does not parse, stays UDP. */
static enum sm_dec
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
		if (cur_u8(&c, 2, &b2) && cur_u8(&c, 3, &b3) && b2 == 0x11 && b3 == 41)
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
	if (d->opts.vxlan && (PORT(4789) || PORT(4790)))
		TRY(decode_vxlan(d, c, pkt, depth));
	if (PORT(6081)) {
		uint8_t b0;
		uint16_t proto;
		struct cur in = c;
		if (cur_u8(&c, 0, &b0) && (b0 >> 6) == 0 && cur_u16(&c, 2, &proto) &&
		    cur_skip(&in, 8 + (size_t)(b0 & 0x3f) * 4)) {
			if (proto == 0x6558)
				TRY(decap(d, TUN_GENEVE, IN_ETHERNET, in, pkt, depth));
			else if (proto == 0x0800 || proto == 0x86dd)
				TRY(decap(d, TUN_GENEVE, IN_IP, in, pkt, depth));
		}
	}
	if (PORT(2152))
		TRY(decode_gtp(d, c, pkt, depth));
	if (PORT(3544))
		TRY(decode_teredo(d, c, pkt, depth));
	if (PORT(5072))
		TRY(decode_ayiya(d, c, pkt, depth));
	if (PORT(4754))
		TRY(decode_gre(d, c, pkt, depth));
#undef TRY
#undef PORT
	return rc;
}

static enum sm_dec
decode_l4(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	switch (pkt->proto) {
	case SM_PROTO_TCP: {
		uint8_t off;
		if (!cur_u16(&c, 0, &pkt->sport) || !cur_u16(&c, 2, &pkt->dport) ||
		    !cur_u32(&c, 4, &pkt->seq) || !cur_u32(&c, 8, &pkt->ack) ||
		    !cur_u8(&c, 12, &off) || !cur_u8(&c, 13, &pkt->tcp_flags))
			return fail(d, DEC_TRUNCATED, R_L4_TRUNCATED);
		size_t hl = (size_t)(off >> 4) * 4;
		if (hl < 20)
			return fail(d, DEC_INVALID, R_L4_INVALID);
		pkt->payload_len = pkt->payload_len > hl ? (uint32_t)(pkt->payload_len - hl) : 0;
		if (cur_skip(&c, hl)) {
			pkt->payload = c.p;
			pkt->payload_caplen =
			    (uint32_t)(c.len < pkt->payload_len ? c.len : pkt->payload_len);
		}
		break;
	}
	case SM_PROTO_UDP:
	case 132: /* SCTP: ports only */
		if (!cur_u16(&c, 0, &pkt->sport) || !cur_u16(&c, 2, &pkt->dport))
			return fail(d, DEC_TRUNCATED, R_L4_TRUNCATED);
		if (pkt->proto == SM_PROTO_UDP) {
			pkt->payload_len = pkt->payload_len > 8 ? pkt->payload_len - 8 : 0;
			if (cur_skip(&c, 8)) {
				pkt->payload = c.p;
				pkt->payload_caplen =
				    (uint32_t)(c.len < pkt->payload_len ? c.len : pkt->payload_len);
			}
			if (!pkt->fragment && pkt->payload != NULL)
				return decode_udp_tunnel(d, c, pkt, depth);
		}
		break;
	case SM_PROTO_ICMP:
	case SM_PROTO_ICMP6: {
		if (!cur_u8(&c, 0, &pkt->icmp_type) || !cur_u8(&c, 1, &pkt->icmp_code))
			return fail(d, DEC_TRUNCATED, R_L4_TRUNCATED);
		bool v4 = pkt->proto == SM_PROTO_ICMP;
		uint8_t t = pkt->icmp_type;
		pkt->icmp_echo = v4 ? (t == 8 || t == 0) : (t == 128 || t == 129);
		if (pkt->icmp_echo) {
			if (!cur_u16(&c, 4, &pkt->icmp_id))
				return fail(d, DEC_TRUNCATED, R_L4_TRUNCATED);
			pkt->sport = pkt->dport = pkt->icmp_id;
		} else {
			pkt->sport = t;
			pkt->dport = pkt->icmp_code;
		}
		if (icmp_is_error(pkt->proto, t)) {
			struct cur q = c;
			if (cur_skip(&q, 8) && parse_quote(q, &pkt->quote))
				pkt->icmp_error = true;
		}
		break;
	}
	case 47:
		if (!pkt->fragment)
			return decode_gre(d, c, pkt, depth);
		break;
	case 4:
	case 41:
		if (!pkt->fragment)
			return decap(d, TUN_IPIP, IN_IP, c, pkt, depth);
		break;
	default:
		break;
	}
	return DEC_OK;
}

/* A tunnel datagram made whole: decoded from the kept bytes as the current
 * fragment's packet, so that the frame counts once on the carrying flow and the
 * packet inside goes to its own. */
static enum sm_dec
frag_buf_decode(struct sm_decoder *d, struct frag_entry *e, struct sm_packet *pkt, int depth)
{
	struct frag_buf *b = e->buf;
	e->buf = NULL;
	e->no_buf = 1; /* duplicates of it are plain fragments */
	d->nbufs--;
	free(d->done_buf);
	d->done_buf = b; /* the packet points into it until the next call */
	struct cur c = {b->data, b->total};
	uint16_t ulen;
	if (!cur_u16(&c, 4, &ulen) || ulen < 8 || ulen > b->total || !cur_skip(&c, 8))
		return DEC_OK;
	c.len = (size_t)ulen - 8;
	pkt->payload = c.p;
	pkt->payload_len = pkt->payload_caplen = (uint32_t)c.len;
	return decode_udp_tunnel(d, c, pkt, depth);
}

/* Fragments: the first one names the flow; the others borrow its ports.  The
 * bytes of a UDP datagram to or from a tunnel port are kept (and those of UDP
 * fragments that come before their first, which names the port) until the
 * datagram is whole.  off: the fragment's place in bytes; len: its payload per
 * the IP header; keep: its bytes start the fragmentable part (no IPv6 header
 * after the fragment header). */
static enum sm_dec
handle_fragment(struct sm_decoder *d, struct cur l4, struct sm_packet *pkt, uint32_t id,
                uint32_t off, bool more, bool keep, int depth)
{
	bool first = off == 0;
	uint32_t len = pkt->payload_len;
	pkt->fragment = true;
	struct frag_entry *e = frag_lookup(d, pkt, id);
	if (e == NULL)
		return fail(d, DEC_INVALID, R_FRAG_TABLE_FULL);
	if (!keep || pkt->proto != SM_PROTO_UDP)
		e->no_buf = 1;
	if (first) {
		pkt->l4_header = true;
		enum sm_dec rc = decode_l4(d, l4, pkt, depth);
		if (rc != DEC_OK)
			return rc;
		e->ports_known = 1;
		e->sport = pkt->sport;
		e->dport = pkt->dport;
		pkt->held_pkts = e->held_pkts;
		pkt->held_bytes = e->held_bytes;
		e->held_pkts = e->held_bytes = 0;
		if (!is_tunnel_port(d, pkt->sport) && !is_tunnel_port(d, pkt->dport)) {
			frag_buf_free(d, e);
			e->no_buf = 1;
			return DEC_OK;
		}
		frag_buf_add(d, e, l4, 0, len, more);
		return frag_buf_whole(e) ? frag_buf_decode(d, e, pkt, depth) : DEC_OK;
	}
	pkt->l4_header = false;
	frag_buf_add(d, e, l4, off, len, more);
	if (!e->ports_known) {
		e->held_pkts++;
		e->held_bytes += pkt->ip_len;
		return DEC_HELD;
	}
	pkt->sport = e->sport;
	pkt->dport = e->dport;
	return frag_buf_whole(e) ? frag_buf_decode(d, e, pkt, depth) : DEC_OK;
}

static enum sm_dec
decode_ipv4(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	uint8_t vhl, ttl, proto;
	uint16_t tot, fragw, id;
	const uint8_t *a;
	if (!cur_u8(&c, 0, &vhl) || !cur_u16(&c, 2, &tot) || !cur_u16(&c, 4, &id) ||
	    !cur_u16(&c, 6, &fragw) || !cur_u8(&c, 8, &ttl) || !cur_u8(&c, 9, &proto))
		return fail(d, DEC_TRUNCATED, R_IPV4_TRUNCATED);
	size_t ihl = (size_t)(vhl & 0x0f) * 4;
	if (ihl < 20)
		return fail(d, DEC_INVALID, R_IPV4_INVALID);
	if (!cur_bytes(&c, 12, 4, &a))
		return fail(d, DEC_TRUNCATED, R_IPV4_TRUNCATED);
	sm_addr_v4(&pkt->src, a);
	if (!cur_bytes(&c, 16, 4, &a))
		return fail(d, DEC_TRUNCATED, R_IPV4_TRUNCATED);
	sm_addr_v4(&pkt->dst, a);
	if (c.len < ihl)
		return fail(d, DEC_TRUNCATED, R_IPV4_TRUNCATED);
	size_t total = tot;
	if (total == 0) /* TSO/LRO captures leave it zero */
		total = c.len;
	else if (total < ihl)
		return fail(d, DEC_INVALID, R_IPV4_INVALID);
	pkt->proto = proto;
	pkt->ttl = ttl;
	pkt->ip_len = (uint32_t)total;
	pkt->payload_len = (uint32_t)(total - ihl);
	if (c.len > total)
		c.len = total; /* drop Ethernet padding */
	pkt->l3 = c.p;
	pkt->l3_caplen = (uint32_t)c.len;
	cur_skip(&c, ihl);
	if (proto == 51) { /* AH: authenticates, does not hide, the next header */
		uint8_t nh, hl;
		if (cur_u8(&c, 0, &nh) && cur_u8(&c, 1, &hl) &&
		    cur_skip(&c, ((size_t)hl + 2) * 4)) {
			size_t ahlen = ((size_t)hl + 2) * 4;
			pkt->proto = proto = nh;
			pkt->payload_len =
			    pkt->payload_len > ahlen ? (uint32_t)(pkt->payload_len - ahlen) : 0;
		}
	}
	uint16_t off = fragw & 0x1fff;
	bool more = (fragw & 0x2000) != 0;
	if (off != 0 || more)
		return handle_fragment(d, c, pkt, id, (uint32_t)off * 8, more, true, depth);
	pkt->l4_header = true;
	return decode_l4(d, c, pkt, depth);
}

static enum sm_dec
decode_ipv6(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	uint16_t plen;
	uint8_t nh, hlim;
	const uint8_t *a;
	pkt->l3 = NULL; /* an IPv6 (inner) packet: libnids cannot follow it */
	pkt->l3_caplen = 0;
	if (!cur_u16(&c, 4, &plen) || !cur_u8(&c, 6, &nh) || !cur_u8(&c, 7, &hlim))
		return fail(d, DEC_TRUNCATED, R_IPV6_TRUNCATED);
	if (!cur_bytes(&c, 8, 16, &a))
		return fail(d, DEC_TRUNCATED, R_IPV6_TRUNCATED);
	sm_addr_v6(&pkt->src, a);
	if (!cur_bytes(&c, 24, 16, &a))
		return fail(d, DEC_TRUNCATED, R_IPV6_TRUNCATED);
	sm_addr_v6(&pkt->dst, a);
	cur_skip(&c, 40);
	size_t payload = plen ? plen : c.len; /* 0: jumbogram or offload */
	pkt->ttl = hlim;
	pkt->ip_len = (uint32_t)(40 + payload);
	if (c.len > payload)
		c.len = payload;
	size_t remaining = payload;
	bool fragmented = false, first = true, frag_more = false;
	uint32_t id = 0, frag_off = 0;
	size_t frag_rest = 0; /* bytes after the fragment header */
	for (int i = 0;; i++) {
		if (i > MAX_EXT_WALK)
			return fail(d, DEC_INVALID, R_IPV6_INVALID);
		uint8_t nn, hl;
		size_t len;
		switch (nh) {
		case 0:   /* hop-by-hop */
		case 43:  /* routing */
		case 60:  /* destination options */
		case 135: /* mobility */
		case 139: /* HIP */
		case 140: /* shim6 */
			if (!cur_u8(&c, 0, &nn) || !cur_u8(&c, 1, &hl))
				return fail(d, DEC_TRUNCATED, R_EXTHDR_TRUNCATED);
			len = ((size_t)hl + 1) * 8;
			break;
		case 51: /* AH */
			if (!cur_u8(&c, 0, &nn) || !cur_u8(&c, 1, &hl))
				return fail(d, DEC_TRUNCATED, R_EXTHDR_TRUNCATED);
			len = ((size_t)hl + 2) * 4;
			break;
		case 44: { /* fragment */
			uint16_t offw;
			if (!cur_u8(&c, 0, &nn) || !cur_u16(&c, 2, &offw) || !cur_u32(&c, 4, &id))
				return fail(d, DEC_TRUNCATED, R_EXTHDR_TRUNCATED);
			len = 8;
			uint16_t off = offw >> 3;
			bool more = (offw & 1) != 0;
			if (off != 0 || more) {
				fragmented = true;
				first = off == 0;
				frag_off = (uint32_t)off * 8;
				frag_more = more;
				frag_rest = remaining > 8 ? remaining - 8 : 0;
			}
			break;
		}
		default:
			goto done;
		}
		if (!cur_skip(&c, len))
			return fail(d, DEC_TRUNCATED, R_EXTHDR_TRUNCATED);
		remaining = remaining > len ? remaining - len : 0;
		nh = nn;
		if (fragmented && !first)
			break; /* the rest belongs to the first fragment */
	}
done:
	pkt->proto = nh;
	pkt->payload_len = (uint32_t)remaining;
	if (fragmented)
		return handle_fragment(d, c, pkt, id, frag_off, frag_more, remaining == frag_rest,
		                       depth);
	pkt->l4_header = true;
	return decode_l4(d, c, pkt, depth);
}

static enum sm_dec
decode_ip(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	uint8_t v;
	if (!cur_u8(&c, 0, &v))
		return fail(d, DEC_TRUNCATED, R_IPV4_TRUNCATED);
	if ((v >> 4) == 4)
		return decode_ipv4(d, c, pkt, depth);
	if ((v >> 4) == 6)
		return decode_ipv6(d, c, pkt, depth);
	return fail(d, DEC_UNSUPPORTED, R_NOT_IP);
}

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
		return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
	if (b0 & 1) {
		proto = b0;
		cur_skip(&c, 1);
	} else {
		if (!cur_u16(&c, 0, &proto))
			return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		cur_skip(&c, 2);
	}
	if (proto == 0x21 || proto == 0x57)
		return decode_ip(d, c, pkt, depth);
	return fail(d, DEC_UNSUPPORTED, R_NOT_IP);
}

static enum sm_dec
decode_ethertype(struct sm_decoder *d, uint16_t type, struct cur c, struct sm_packet *pkt,
                 int depth)
{
	for (int tags = 0;; tags++) {
		switch (type) {
		case 0x0800:
		case 0x86dd:
			return decode_ip(d, c, pkt, depth);
		case 0x8100:
		case 0x88a8:
		case 0x9100:
		case 0x9200: {
			uint16_t tci, next;
			if (tags >= MAX_VLAN_DEPTH)
				return fail(d, DEC_UNSUPPORTED, R_VLAN_TOO_DEEP);
			if (!cur_u16(&c, 0, &tci) || !cur_u16(&c, 2, &next))
				return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
			if (pkt->vlan == SM_VLAN_NONE)
				pkt->vlan = tci & 0x0fff;
			else if (pkt->inner_vlan == SM_VLAN_NONE)
				pkt->inner_vlan = tci & 0x0fff;
			cur_skip(&c, 4);
			type = next;
			continue;
		}
		case 0x8847:
		case 0x8848: { /* MPLS: pop labels, then guess IP from the version nibble */
			for (int i = 0; i < 8; i++) {
				uint8_t b2;
				if (!cur_u8(&c, 2, &b2) || !cur_skip(&c, 4))
					return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
				if (b2 & 1)
					return decode_ip(d, c, pkt, depth);
			}
			return fail(d, DEC_UNSUPPORTED, R_NOT_IP);
		}
		case 0x88e7: /* 802.1ah (PBB): I-TAG, then the customer's Ethernet header */
			if (tags >= MAX_VLAN_DEPTH || !cur_u16(&c, 16, &type) || !cur_skip(&c, 18))
				return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
			tags++;
			continue;
		case 0x8926: /* VN-Tag: 4 bytes, then the next type */
			if (tags >= MAX_VLAN_DEPTH || !cur_u16(&c, 4, &type) || !cur_skip(&c, 6))
				return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
			tags++;
			continue;
		case 0x8864: /* PPPoE session */
			if (!cur_skip(&c, 6))
				return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
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
			return fail(d, DEC_UNSUPPORTED, R_NOT_IP);
		}
	}
}

/* An 802.11 data frame carrying LLC/SNAP (the first subframe of an A-MSDU);
 * management, control and protected frames carry no IP we can read. */
static enum sm_dec
decode_80211(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	uint8_t fc, flags, qos = 0;
	if (!cur_u8(&c, 0, &fc) || !cur_u8(&c, 1, &flags))
		return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
	if (((fc >> 2) & 3) != 2 || (flags & 0x40) || ((fc >> 4) & 0x4))
		return fail(d, DEC_UNSUPPORTED, R_NOT_IP); /* not data, protected, or null data */
	size_t hl = (flags & 3) == 3 ? 30 : 24;
	if ((fc >> 4) & 0x8) {
		if (!cur_u8(&c, hl, &qos))
			return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		hl += 2; /* QoS control */
		if (flags & 0x80)
			hl += 4; /* HT control */
	}
	if ((qos & 0x80) && !cur_skip(&c, 14)) /* A-MSDU: DA, SA, length of the first */
		return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
	uint8_t a, b, ctl;
	uint16_t type;
	if (!cur_skip(&c, hl) || !cur_u8(&c, 0, &a) || !cur_u8(&c, 1, &b) || !cur_u8(&c, 2, &ctl) ||
	    !cur_u16(&c, 6, &type))
		return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
	if (a != 0xaa || b != 0xaa || ctl != 0x03)
		return fail(d, DEC_UNSUPPORTED, R_NOT_IP);
	cur_skip(&c, 8);
	return decode_ethertype(d, type, c, pkt, depth);
}

/* Linux NFLOG: a 4-byte header, then TLVs; type 9 holds the packet. */
static enum sm_dec
decode_nflog(struct sm_decoder *d, struct cur c, struct sm_packet *pkt)
{
	if (!cur_skip(&c, 4))
		return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
	for (;;) {
		uint16_t len, type;
		if (!cur_le16(&c, 0, &len) || !cur_le16(&c, 2, &type) || len < 4)
			return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		if ((type & 0x7fff) == 9) {
			struct cur in = c;
			cur_skip(&in, 4);
			if (in.len > (size_t)len - 4)
				in.len = (size_t)len - 4;
			return decode_ip(d, in, pkt, 0);
		}
		if (!cur_skip(&c, ((size_t)len + 3) & ~(size_t)3))
			return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
	}
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
	case LT_EN10MB:
		if (!cur_u16(&c, 12, &type) || !cur_skip(&c, 14))
			return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		return decode_ethertype(d, type, c, pkt, 0);
	case LT_LINUX_SLL:
		if (!cur_u16(&c, 14, &type) || !cur_skip(&c, 16))
			return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		return decode_ethertype(d, type, c, pkt, 0);
	case LT_LINUX_SLL2:
		if (!cur_u16(&c, 0, &type) || !cur_skip(&c, 20))
			return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		return decode_ethertype(d, type, c, pkt, 0);
	case LT_RAW_LINUX:
	case LT_RAW_BSD:
	case LT_RAW:
	case LT_IPV4:
	case LT_IPV6:
		return decode_ip(d, c, pkt, 0);
	case LT_NULL:
	case LT_LOOP:
		if (!cur_u32(&c, 0, &fam) || !cur_skip(&c, 4))
			return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		if (raw->linktype == LT_NULL && fam > 0xffff) /* written in little endian */
			fam = __builtin_bswap32(fam);
		if (fam == 2 || fam == 10 || fam == 24 || fam == 28 || fam == 30)
			return decode_ip(d, c, pkt, 0);
		return fail(d, DEC_UNSUPPORTED, R_NOT_IP);
	case LT_PPP:
	case LT_PPP_SERIAL:
		return decode_ppp(d, c, pkt, 0);
	case LT_PPP_ETHER:
		if (!cur_skip(&c, 6))
			return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		return decode_ppp(d, c, pkt, 0);
	case LT_C_HDLC:
		if (!cur_u16(&c, 2, &type) || !cur_skip(&c, 4))
			return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		return decode_ethertype(d, type, c, pkt, 0);
	case LT_IEEE802_11:
		return decode_80211(d, c, pkt, 0);
	case LT_RADIOTAP: {
		uint16_t hl;
		if (!cur_le16(&c, 2, &hl) || !cur_skip(&c, hl))
			return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		return decode_80211(d, c, pkt, 0);
	}
	case LT_PPI: {
		uint16_t hl, dlt;
		if (!cur_le16(&c, 2, &hl) || !cur_le16(&c, 4, &dlt) || !cur_skip(&c, hl))
			return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
		if (dlt == LT_IEEE802_11)
			return decode_80211(d, c, pkt, 0);
		if (dlt == LT_EN10MB) {
			if (!cur_u16(&c, 12, &type) || !cur_skip(&c, 14))
				return fail(d, DEC_TRUNCATED, R_LINK_TRUNCATED);
			return decode_ethertype(d, type, c, pkt, 0);
		}
		return fail(d, DEC_UNSUPPORTED, R_LINKTYPE_UNSUPPORTED);
	}
	case LT_NFLOG:
		return decode_nflog(d, c, pkt);
	default:
		return fail(d, DEC_UNSUPPORTED, R_LINKTYPE_UNSUPPORTED);
	}
}
