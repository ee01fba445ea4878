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

/* The most payload a probe carries: a full Ethernet frame's worth. */
#define PROBE_PAYLOAD 1400
#define PROBE_MAX     (40 + 40 + 8 + 40 + 20 + PROBE_PAYLOAD) /* link, IP, ICMP, IP, TCP */

/* Probe kinds: the flow's packets, an ICMP error refusing its first one, and (TCP)
 * the responder's reset refusing it. */
enum { K_SYN, K_SYN_ACK, K_DATA, K_DATA_BACK, K_REFUSAL, K_RESET };

/* What real packets of a flow vary in, which a filter may test (ip[8], ip[4:2],
 * less, ...): each probe is built three ways, and only a filter keeping all three
 * keeps it. */
static const struct variant {
	uint8_t ttl, tos;
	bool df;
	uint16_t payload; /* of data and datagrams (ICMP: of the echo) */
	uint16_t id;      /* IPv4 identification */
} variants[] = {
    {64, 0, true, 64, 0}, {1, 0xb8, false, 1, 0x8001}, {255, 0, true, PROBE_PAYLOAD, 0x7ffe}};
#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

/* An IP header for l4len bytes of proto from src to dst, as variant v; its length. */
static size_t
ip_header(uint8_t *ip, bool v6, uint8_t proto, const struct sm_addr *src, const struct sm_addr *dst,
          size_t l4len, const struct variant *v)
{
	if (v6) {
		memset(ip, 0, 40);
		ip[0] = (uint8_t)(0x60 | v->tos >> 4), ip[1] = (uint8_t)(v->tos << 4);
		ip[4] = (uint8_t)(l4len >> 8), ip[5] = (uint8_t)l4len;
		ip[6] = proto;
		ip[7] = v->ttl;
		memcpy(ip + 8, src->a, 16);
		memcpy(ip + 24, dst->a, 16);
		return 40;
	}
	size_t tot = 20 + l4len;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[1] = v->tos;
	ip[2] = (uint8_t)(tot >> 8), ip[3] = (uint8_t)tot;
	ip[4] = (uint8_t)(v->id >> 8), ip[5] = (uint8_t)v->id;
	ip[6] = v->df ? 0x40 : 0;
	ip[8] = v->ttl;
	ip[9] = proto;
	memcpy(ip + 12, src->a, 4);
	memcpy(ip + 16, dst->a, 4);
	return 20;
}

/* The IP packet (no link header) of a probe of kind K_SYN..K_DATA_BACK or K_RESET
 * (ICMP: request, reply; UDP: a datagram either way), variant v, at ip; its length. */
static size_t
probe_ip(const struct sm_flow_probe *f, int kind, const struct variant *v, uint8_t *ip)
{
	bool v6 = f->src.family == 6,
	     back = kind == K_SYN_ACK || kind == K_DATA_BACK || kind == K_RESET;
	const struct sm_addr *src = back ? &f->dst : &f->src, *dst = back ? &f->src : &f->dst;
	uint16_t sport = back ? f->dport : 49152, dport = back ? 49152 : f->dport;
	uint8_t l4[20 + PROBE_PAYLOAD];
	size_t l4len;
	uint8_t proto = f->proto;
	memset(l4, 0, sizeof(l4));
	if (f->proto == SM_PROTO_TCP) {
		static const uint8_t flags[] = {
		    [K_SYN] = 0x02,       [K_SYN_ACK] = 0x12, [K_DATA] = 0x18,
		    [K_DATA_BACK] = 0x18, [K_REFUSAL] = 0,    [K_RESET] = 0x14};
		l4[0] = (uint8_t)(sport >> 8), l4[1] = (uint8_t)sport;
		l4[2] = (uint8_t)(dport >> 8), l4[3] = (uint8_t)dport;
		l4[7] = kind == K_RESET ? 0 : 1, l4[11] = kind == 0 ? 0 : 1;
		l4[12] = 5 << 4;
		l4[13] = flags[kind];
		l4[14] = kind == K_RESET ? 0 : 0xff, l4[15] = kind == K_RESET ? 0 : 0xff;
		l4len = kind < K_DATA || kind == K_RESET ? 20 : 20 + (size_t)v->payload;
	} else if (f->proto == SM_PROTO_UDP) {
		l4[0] = (uint8_t)(sport >> 8), l4[1] = (uint8_t)sport;
		l4[2] = (uint8_t)(dport >> 8), l4[3] = (uint8_t)dport;
		l4len = 8 + (size_t)v->payload;
		l4[4] = (uint8_t)(l4len >> 8), l4[5] = (uint8_t)l4len;
	} else { /* ICMP echo request and reply */
		proto = v6 ? SM_PROTO_ICMP6 : SM_PROTO_ICMP;
		l4[0] = v6 ? (back ? SM_ICMP6_ECHO_REPLY : SM_ICMP6_ECHO_REQUEST)
		           : (back ? SM_ICMP_ECHO_REPLY : SM_ICMP_ECHO_REQUEST);
		l4[5] = 1, l4[7] = 1;
		l4len = 8 + (size_t)v->payload;
	}
	size_t n = ip_header(ip, v6, proto, src, dst, l4len, v);
	memcpy(ip + n, l4, l4len);
	return n + l4len;
}

/* A probe in frames of shape sh: one packet of the flow (kind K_SYN..K_DATA_BACK),
 * or K_REFUSAL, an ICMP destination unreachable (administratively prohibited)
 * from the responder's side quoting its first packet.  Its length, 0 if
 * unbuildable. */
static size_t
probe_packet(const struct frame_shape *sh, const struct sm_flow_probe *f, int kind,
             const struct variant *v, uint8_t b[PROBE_MAX])
{
	bool v6 = f->src.family == 6;
	bool back =
	    kind == K_SYN_ACK || kind == K_DATA_BACK || kind == K_REFUSAL || kind == K_RESET;
	size_t n;
	if (!probe_link(sh, v6, back, b, &n))
		return 0;
	if (kind != K_REFUSAL)
		return n + probe_ip(f, kind, v, b + n);
	/* the quote: the first packet's IP header and 8 bytes after it */
	static const struct variant plain = {64, 0, true, 0, 0};
	uint8_t first[40 + 20 + PROBE_PAYLOAD];
	size_t qlen = probe_ip(f, K_SYN, &plain, first);
	qlen = (v6 ? 40 : 20) + 8 < qlen ? (size_t)(v6 ? 40 : 20) + 8 : qlen;
	uint8_t icmp[8 + 48];
	memset(icmp, 0, 8);
	icmp[0] = v6 ? 1 : 3;  /* destination unreachable */
	icmp[1] = v6 ? 1 : 13; /* administratively prohibited */
	memcpy(icmp + 8, first, qlen);
	uint8_t proto = v6 ? SM_PROTO_ICMP6 : SM_PROTO_ICMP;
	size_t h = ip_header(b + n, v6, proto, &f->dst, &f->src, 8 + qlen, v);
	memcpy(b + n + h, icmp, 8 + qlen);
	return n + h + 8 + qlen;
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

/* Whether the filter keeps probe kind of flow f in frames of shape sh, built
 * every way real packets vary (variants): 1 all, 0 none, -1 some (the filter tests
 * what varies: a TTL, a size, a flag), -2 when it cannot be built or tested. */
static int
kind_kept(struct sm_capture *c, const struct frame_shape *sh, const struct sm_flow_probe *f,
          int kind)
{
	const struct lpcap_bpf *prog = probe_prog(c, sh->linktype);
	if (prog == NULL)
		return -2;
	unsigned kept = 0;
	for (size_t v = 0; v < NVARIANTS; v++) {
		uint8_t buf[PROBE_MAX];
		size_t len = probe_packet(sh, f, kind, &variants[v], buf);
		if (len == 0)
			return -2;
		kept += lpcap_bpf_match(prog, buf, (uint32_t)len, (uint32_t)len) != 0;
	}
	return kept == NVARIANTS ? 1 : kept == 0 ? 0 : -1;
}

/* How many of flow f's probe packets in frames of shape sh the filter keeps, of *total
 * (0 kept when the shape cannot be probed); *some: the filter keeps part of a
 * packet's variants.  handshake: only the first packet and its answer (SYN and
 * SYN-ACK, request and reply). */
static int
shape_kept(struct sm_capture *c, const struct frame_shape *sh, const struct sm_flow_probe *f,
           bool handshake, int *total, bool *some)
{
	*total = f->proto == SM_PROTO_TCP && !handshake ? 4 : 2;
	*some = false;
	int kept = 0;
	for (int k = 0; k < *total; k++) {
		int r = kind_kept(c, sh, f,
		                  f->proto == SM_PROTO_TCP ? k
		                  : k == 0                 ? K_SYN
		                                           : K_SYN_ACK);
		if (r == -2)
			return 0;
		*some |= r == -1;
		kept += r == 1;
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

/* SM_FILTER_REFUSAL, SM_FILTER_RESET: in every shape where f's first packet passes
 * (each way it varies), the refusal of kind (K_REFUSAL, K_RESET) passes too. */
static bool
refusals_kept(struct sm_capture *c, const struct sm_flow_probe *f, int kind)
{
	size_t counted = 0;
	for (size_t i = 0; i < c->nshapes; i++) {
		if (kind_kept(c, &c->shapes[i], f, K_SYN) != 1)
			continue;
		if (kind_kept(c, &c->shapes[i], f, kind) != 1)
			return false;
		counted++;
	}
	return counted > 0;
}

bool
sm_capture_filter_keeps(struct sm_capture *c, const struct sm_flow_probe *f,
                        enum sm_filter_probe what)
{
	if (c->bpf == NULL)
		return true;
	if (what == SM_FILTER_REFUSAL)
		return refusals_kept(c, f, K_REFUSAL);
	if (what == SM_FILTER_RESET)
		return f->proto != SM_PROTO_TCP || refusals_kept(c, f, K_RESET);
	bool seen = what == SM_FILTER_HANDSHAKE;
	if (!seen && c->shapes_lost)
		return false; /* a shape not kept could hide the flow */
	size_t counted = 0;
	struct frame_shape dflt;
	bool some;
	for (size_t i = 0; i < c->nshapes; i++) {
		int total, kept = shape_kept(c, &c->shapes[i], f, seen, &total, &some);
		if (!seen && kept < total)
			return false; /* the flow may travel in this shape, hidden */
		if (seen && (kept > 0 || some) && kept < total)
			return false; /* where its packets pass, some of them do not */
		counted += kept == total;
	}
	/* no frame read at all: the link types the sources declared, plain headers */
	for (size_t i = 0; c->nshapes == 0 && i < c->nsrc; i++) {
		const struct source *s = &c->src[i];
		if (!s->info.opened || !s->linktype_known || !default_shape(s->linktype, &dflt))
			continue;
		int total, kept = shape_kept(c, &dflt, f, seen, &total, &some);
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
