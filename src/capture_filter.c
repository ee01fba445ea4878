/*
 * capture_filter: what the -f filter keeps of a flow.  Records the shape of the
 * frames read (link type and link header below IP), then builds probe packets of
 * a flow on every shape and asks the compiled filter about them, so that a flow
 * the filter would hide is never judged missing.
 */
#include "capture_int.h"
#include "smaudit/decode.h" /* protocol numbers, EtherTypes, ICMP echo types */

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHAPES 1024

/* The link header of frame d as a shape; false for link types probes cannot model. */
static bool
shape_of(int linktype, const uint8_t *d, uint32_t caplen, struct frame_shape *f)
{
	memset(f, 0, sizeof(*f));
	f->linktype = linktype == SM_LINKTYPE_RAW ? SM_DLT_RAW : linktype;
	uint32_t len, proto = 0; /* where the protocol field is, zeroed in the sample */
	switch (f->linktype) {
	case SM_DLT_EN10MB:
		len = 12;
		while (len + 4 <= caplen && len < 12 + 8) {
			unsigned type = (unsigned)d[len] << 8 | d[len + 1];
			if (type != SM_ETHERTYPE_VLAN && type != SM_ETHERTYPE_QINQ &&
			    type != SM_ETHERTYPE_QINQ_9100)
				break;
			len += 4;
		}
		proto = len;
		len += 2;
		break;
	case SM_DLT_LINUX_SLL:
		len = 16, proto = 14;
		break;
	case SM_DLT_LINUX_SLL2:
		len = 20, proto = 0;
		break;
	case SM_DLT_NULL:
	case SM_DLT_LOOP:
		len = 4, proto = 0;
		break;
	case SM_DLT_RAW:
	case SM_DLT_IPV4:
	case SM_DLT_IPV6:
		return true;
	default:
		return false;
	}
	if (len > caplen || len > sizeof(f->link))
		return false;
	f->linklen = (uint8_t)len;
	memcpy(f->link, d, len);
	memset(f->link + proto, 0,
	       f->linktype == SM_DLT_NULL || f->linktype == SM_DLT_LOOP ? 4 : 2);
	return true;
}

/* Bytes of the sample that count (none for a shape probes cannot build). */
static size_t
shape_bytes(const struct frame_shape *f)
{
	return f->linklen == 0xff ? 0 : f->linklen;
}

static bool
shape_eq(const struct frame_shape *x, const struct frame_shape *y)
{
	return x->linktype == y->linktype && x->linklen == y->linklen &&
	       memcmp(x->link, y->link, shape_bytes(x)) == 0;
}

static uint32_t
shape_hash(const struct frame_shape *f)
{
	uint32_t h = 2166136261u ^ (uint32_t)f->linktype;
	h = (h ^ f->linklen) * 16777619u;
	for (size_t i = 0; i < shape_bytes(f); i++)
		h = (h ^ f->link[i]) * 16777619u;
	return h;
}

/* Records the shape of one frame: a comparison with the frame before, else a look
 * in a hash of the shapes seen.  Past MAX_SHAPES (or out of memory) the capture
 * notes that it lost count: flows never seen are then not judged under -f. */
void
shape_note(struct sm_capture *c, int linktype, const uint8_t *d, uint32_t caplen)
{
	struct frame_shape f;
	if (!shape_of(linktype, d, caplen, &f)) {
		memset(&f, 0, sizeof(f)); /* a shape probes cannot build */
		f.linktype = linktype;
		f.linklen = 0xff;
	}
	if (c->nshapes > 0 && shape_eq(&c->shapes[c->last_shape], &f))
		return;
	if (c->shapes == NULL) {
		c->shapes = calloc(MAX_SHAPES, sizeof(*c->shapes));
		c->shape_slot = calloc(2 * MAX_SHAPES, sizeof(*c->shape_slot));
		if (c->shapes == NULL || c->shape_slot == NULL) {
			c->shapes_lost = true;
			return;
		}
	}
	uint32_t k = shape_hash(&f) & (2 * MAX_SHAPES - 1);
	for (; c->shape_slot[k] != 0; k = (k + 1) & (2 * MAX_SHAPES - 1))
		if (shape_eq(&c->shapes[c->shape_slot[k] - 1], &f)) {
			c->last_shape = c->shape_slot[k] - 1u;
			return;
		}
	if (c->nshapes == MAX_SHAPES) {
		c->shapes_lost = true;
		return;
	}
	c->last_shape = c->nshapes;
	c->shapes[c->nshapes++] = f;
	c->shape_slot[k] = (uint16_t)c->nshapes;
}

/* The link header of shape sh for an IP packet of family v6, the way back (back:
 * MAC addresses swapped, a cooked header's direction turned); false where it cannot
 * be built. */
static bool
probe_link(const struct frame_shape *sh, bool v6, bool back, uint8_t *b, size_t *n)
{
	uint16_t etype = v6 ? SM_ETHERTYPE_IPV6 : SM_ETHERTYPE_IPV4;
	if (sh->linklen == 0xff)
		return false;
	memcpy(b, sh->link, sh->linklen);
	*n = sh->linklen;
	switch (sh->linktype) {
	case SM_DLT_EN10MB:
		if (back) {
			uint8_t mac[6];
			memcpy(mac, b, 6);
			memmove(b, b + 6, 6);
			memcpy(b + 6, mac, 6);
		}
		b[*n - 2] = (uint8_t)(etype >> 8);
		b[*n - 1] = (uint8_t)etype;
		return true;
	case SM_DLT_LINUX_SLL: /* packet type 0 (to us) and 4 (sent by us) turn round */
		if (back && (b[1] == 0 || b[1] == 4))
			b[1] = b[1] == 0 ? 4 : 0;
		b[14] = (uint8_t)(etype >> 8);
		b[15] = (uint8_t)etype;
		return true;
	case SM_DLT_LINUX_SLL2:
		if (back && (b[10] == 0 || b[10] == 4))
			b[10] = b[10] == 0 ? 4 : 0;
		b[0] = (uint8_t)(etype >> 8);
		b[1] = (uint8_t)etype;
		return true;
	case SM_DLT_NULL:   /* address family in the writer's byte order (taken as ours) */
	case SM_DLT_LOOP: { /* in network byte order */
		uint32_t af = v6 ? 24 : 2; /* AF_INET6 as BSD numbers it; libpcap takes 24/28/30 */
		if (sh->linktype == SM_DLT_LOOP)
			af = htonl(af);
		memcpy(b, &af, 4);
		return true;
	}
	case SM_DLT_RAW:
		return true;
	case SM_DLT_IPV4:
	case SM_DLT_IPV6:
		return (sh->linktype == SM_DLT_IPV6) == v6;
	default:
		return false;
	}
}

#define PROBE_MAX (40 + 40 + 20 + 64) /* link header, IPv6, TCP, payload */

/* One packet of the flow: kind 0 = SYN, 1 = SYN-ACK, 2 = data, 3 = data back (ICMP:
 * request, reply; UDP: a datagram either way).  Returns its length, 0 if unbuildable. */
static size_t
probe_packet(const struct frame_shape *sh, const struct sm_flow_probe *f, int kind,
             uint8_t b[PROBE_MAX])
{
	bool v6 = f->src.family == 6, back = kind == 1 || kind == 3;
	const struct sm_addr *src = back ? &f->dst : &f->src, *dst = back ? &f->src : &f->dst;
	uint16_t sport = back ? f->dport : 49152, dport = back ? 49152 : f->dport;
	size_t n;
	if (!probe_link(sh, v6, back, b, &n))
		return 0;
	uint8_t l4[20 + 64];
	size_t l4len;
	uint8_t proto = f->proto;
	memset(l4, 0, sizeof(l4));
	if (f->proto == SM_PROTO_TCP) {
		static const uint8_t flags[4] = {0x02, 0x12, 0x18, 0x18};
		l4[0] = (uint8_t)(sport >> 8), l4[1] = (uint8_t)sport;
		l4[2] = (uint8_t)(dport >> 8), l4[3] = (uint8_t)dport;
		l4[7] = 1, l4[11] = kind == 0 ? 0 : 1;
		l4[12] = 5 << 4;
		l4[13] = flags[kind];
		l4[14] = 0xff, l4[15] = 0xff;
		l4len = kind < 2 ? 20 : 20 + 64;
	} else if (f->proto == SM_PROTO_UDP) {
		l4[0] = (uint8_t)(sport >> 8), l4[1] = (uint8_t)sport;
		l4[2] = (uint8_t)(dport >> 8), l4[3] = (uint8_t)dport;
		l4len = 8 + 64;
		l4[4] = 0, l4[5] = (uint8_t)l4len;
	} else { /* ICMP echo request and reply */
		proto = v6 ? SM_PROTO_ICMP6 : SM_PROTO_ICMP;
		l4[0] = v6 ? (back ? SM_ICMP6_ECHO_REPLY : SM_ICMP6_ECHO_REQUEST)
		           : (back ? SM_ICMP_ECHO_REPLY : SM_ICMP_ECHO_REQUEST);
		l4[5] = 1, l4[7] = 1;
		l4len = 8 + 56;
	}
	uint8_t *ip = b + n;
	if (v6) {
		memset(ip, 0, 40);
		ip[0] = 0x60;
		ip[4] = (uint8_t)(l4len >> 8), ip[5] = (uint8_t)l4len;
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, src->a, 16);
		memcpy(ip + 24, dst->a, 16);
		n += 40;
	} else {
		size_t tot = 20 + l4len;
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[2] = (uint8_t)(tot >> 8), ip[3] = (uint8_t)tot;
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, src->a, 4);
		memcpy(ip + 16, dst->a, 4);
		n += 20;
	}
	memcpy(b + n, l4, l4len);
	return n + l4len;
}

/* The -f program for a link type, compiled once; NULL if it does not compile there. */
static const struct lpcap_bpf *
probe_prog(struct sm_capture *c, int linktype)
{
	for (size_t i = 0; i < c->nprobe; i++)
		if (c->probe[i].linktype == linktype)
			return c->probe[i].prog;
	if (c->nprobe == sizeof(c->probe) / sizeof(c->probe[0]))
		return NULL;
	struct probe_prog *p = &c->probe[c->nprobe++];
	p->linktype = linktype;
	p->prog = lpcap_compile(NULL, linktype, c->bpf, NULL);
	return p->prog;
}

/* How many of flow f's probe packets in frames of shape sh the filter keeps, of *total
 * (0 kept when the shape cannot be probed); handshake: only the first packet and its
 * answer (SYN and SYN-ACK, request and reply). */
static int
shape_kept(struct sm_capture *c, const struct frame_shape *sh, const struct sm_flow_probe *f,
           bool handshake, int *total)
{
	const struct lpcap_bpf *prog = probe_prog(c, sh->linktype);
	*total = f->proto == SM_PROTO_TCP && !handshake ? 4 : 2;
	int kept = 0;
	for (int k = 0; prog != NULL && k < *total; k++) {
		uint8_t buf[PROBE_MAX];
		size_t len = probe_packet(sh, f,
		                          f->proto == SM_PROTO_TCP ? k
		                          : k == 0                 ? 0
		                                                   : 1,
		                          buf);
		if (len == 0)
			return 0;
		kept += lpcap_bpf_match(prog, buf, (uint32_t)len, (uint32_t)len);
	}
	return kept;
}

/* A shape for a source that read no frame: its declared link type, a plain header. */
static bool
default_shape(int linktype, struct frame_shape *sh)
{
	static const uint8_t eth[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0};
	static const uint8_t sll2[20] = {8, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6};
	static const uint8_t sll[16] = {0, 0, 0, 1, 0, 6};
	const uint8_t *frame = linktype == SM_DLT_EN10MB       ? eth
	                       : linktype == SM_DLT_LINUX_SLL2 ? sll2
	                       : linktype == SM_DLT_LINUX_SLL  ? sll
	                                                      : eth; /* 4-byte headers: any bytes */
	return shape_of(linktype, frame, 20, sh);
}

bool
sm_capture_filter_keeps(struct sm_capture *c, const struct sm_flow_probe *f, bool seen)
{
	if (c->bpf == NULL)
		return true;
	if (!seen && c->shapes_lost)
		return false; /* a shape not kept could hide the flow */
	size_t counted = 0;
	struct frame_shape dflt;
	for (size_t i = 0; i < c->nshapes; i++) {
		int total, kept = shape_kept(c, &c->shapes[i], f, seen, &total);
		if (!seen && kept < total)
			return false; /* the flow may travel in this shape, hidden */
		if (seen && kept > 0 && kept < total)
			return false; /* where its packets pass, some of them do not */
		counted += kept == total;
	}
	/* no frame read at all: the link types the sources declared, plain headers */
	for (size_t i = 0; c->nshapes == 0 && i < c->nsrc; i++) {
		const struct source *s = &c->src[i];
		if (!s->info.opened || !s->linktype_known || !default_shape(s->linktype, &dflt))
			continue;
		int total, kept = shape_kept(c, &dflt, f, seen, &total);
		if (kept < total)
			return false;
		counted++;
	}
	return counted > 0;
}

/* ---- writing evidence files ---- */

void
probes_free(struct sm_capture *c)
{
	for (size_t i = 0; i < c->nprobe; i++)
		lpcap_bpf_free(c->probe[i].prog);
	c->nprobe = 0;
}
