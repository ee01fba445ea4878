/*
 * decode_ip: IPv4 and IPv6 (extension headers, AH), the fragment table (the
 * first fragment names the flow, the others borrow its ports; tunnel datagrams
 * are kept until whole), and TCP, UDP, SCTP ports and ICMP with the packet an
 * ICMP error quotes.  Every read goes through the cursor of decode_int.h.
 */
#include "decode_int.h"

#include <stdlib.h>
#include <string.h>

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
frag_lookup(struct sm_decoder *d, const struct sm_packet *pkt, uint32_t id, uint8_t key)
{
	if (!frag_alloc(d))
		return NULL;
	uint32_t b = frag_hash(&pkt->src, &pkt->dst, id, key) & (d->frag_nbuckets - 1);
	for (uint32_t i = d->frag_buckets[b]; i != UINT32_MAX; i = d->frags[i].next) {
		struct frag_entry *e = &d->frags[i];
		if (e->id == id && e->proto == key && e->vlan == pkt->vlan &&
		    sm_addr_eq(&e->src, &pkt->src) && sm_addr_eq(&e->dst, &pkt->dst)) {
			if (pkt->ts_ns - e->ts_ns > d->opts.frag_timeout_ns) {
				/* A stale datagram with a reused id: start over. */
				d->count[R_FRAG_ORPHAN] += e->held_pkts;
				e->held_pkts = e->held_bytes = 0;
				e->ports_known = e->l4_known = e->seq_known = 0;
				e->no_buf = 0;
				e->nruns = e->has_end = e->runs_lost = 0;
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
	e->proto = key;
	e->vlan = pkt->vlan;
	e->ts_ns = pkt->ts_ns;
	e->next = d->frag_buckets[b];
	d->frag_buckets[b] = slot;
	return e;
}

/* Notes bytes [off, off + len) of a datagram seen; true once every byte of it
 * was (then its entry is retired: a later datagram with the same id is another
 * one, as for Linux and tshark, not a duplicate of this). */
static bool
frag_seen(struct frag_entry *e, uint32_t off, uint32_t len, bool more)
{
	if (!more) {
		e->has_end = 1;
		e->end = off + len;
	}
	if (e->runs_lost)
		return false;
	uint32_t lo = off, hi = off + len;
	for (uint8_t k = 0; k < e->nruns;) {
		if (hi < e->run_lo[k] || lo > e->run_hi[k]) {
			k++;
			continue;
		}
		lo = e->run_lo[k] < lo ? e->run_lo[k] : lo;
		hi = e->run_hi[k] > hi ? e->run_hi[k] : hi;
		e->nruns--;
		e->run_lo[k] = e->run_lo[e->nruns];
		e->run_hi[k] = e->run_hi[e->nruns];
		k = 0; /* the wider run may now join one already passed */
	}
	if (e->nruns == FRAG_RUNS) {
		e->runs_lost = 1;
		return false;
	}
	e->run_lo[e->nruns] = lo;
	e->run_hi[e->nruns] = hi;
	e->nruns++;
	return e->has_end && e->nruns == 1 && e->run_lo[0] == 0 && e->run_hi[0] >= e->end;
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

/* Reads the source and destination addresses of the IPv4 (version 4) or IPv6 header
 * at the cursor; false if they are not all captured. */
static bool
ip_addrs(const struct cur *c, int version, struct sm_addr *src, struct sm_addr *dst)
{
	size_t off = version == 4 ? 12 : 8, n = version == 4 ? 4 : 16;
	const uint8_t *s, *d;
	if (!cur_bytes(c, off, n, &s) || !cur_bytes(c, off + n, n, &d))
		return false;
	if (version == 4) {
		sm_addr_v4(src, s);
		sm_addr_v4(dst, d);
	} else {
		sm_addr_v6(src, s);
		sm_addr_v6(dst, d);
	}
	return true;
}

/* A quote cut inside its IP header (a short snap length): its source when that
 * much is there (q->dst stays unset); the protocol is known. */
static bool
quote_cut(const struct cur *c, int version, struct sm_quote *q)
{
	const uint8_t *a;
	memset(&q->dst, 0, sizeof(q->dst));
	memset(&q->src, 0, sizeof(q->src));
	if (version == 4 && cur_bytes(c, 12, 4, &a))
		sm_addr_v4(&q->src, a);
	else if (version == 6 && cur_bytes(c, 8, 16, &a))
		sm_addr_v6(&q->src, a);
	return true;
}

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
	if ((vhl >> 4) == 4) {
		size_t ihl = (size_t)(vhl & 0x0f) * 4;
		if (ihl < 20 || !cur_u8(&c, 9, &q->proto) || !cur_u16(&c, 6, &frag))
			return false;
		if (!ip_addrs(&c, 4, &q->src, &q->dst))
			return quote_cut(&c, 4, q);
		l4off = ihl;
	} else if ((vhl >> 4) == 6) {
		uint8_t nh;
		if (!cur_u8(&c, 6, &nh))
			return false;
		if (!ip_addrs(&c, 6, &q->src, &q->dst)) {
			q->proto = nh; /* what follows the fixed header, when no extension header */
			return quote_cut(&c, 6, q);
		}
		l4off = 40;
		for (int i = 0; i < MAX_EXT_HEADERS; i++) {
			uint8_t nn, hl;
			if (nh != SM_PROTO_HOPOPTS && nh != SM_PROTO_ROUTING &&
			    nh != SM_PROTO_DSTOPTS && nh != SM_PROTO_FRAGMENT)
				break;
			if (!cur_u8(&c, l4off, &nn) || !cur_u8(&c, l4off + 1, &hl))
				return true; /* addresses known, ports not */
			if (nh == SM_PROTO_FRAGMENT) {
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
	if (q->proto == SM_PROTO_TCP || q->proto == SM_PROTO_UDP || q->proto == SM_PROTO_SCTP) {
		if (cur_u16(&c, l4off, &q->sport) && cur_u16(&c, l4off + 2, &q->dport))
			q->ports_known = true;
	} else if (q->proto == SM_PROTO_ICMP || q->proto == SM_PROTO_ICMP6) {
		uint8_t type;
		uint16_t id;
		if (cur_u8(&c, l4off, &type) && cur_u16(&c, l4off + 4, &id)) {
			bool echo =
			    q->proto == SM_PROTO_ICMP
			        ? (type == SM_ICMP_ECHO_REQUEST || type == SM_ICMP_ECHO_REPLY)
			        : (type == SM_ICMP6_ECHO_REQUEST || type == SM_ICMP6_ECHO_REPLY);
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
		return type == SM_ICMP_UNREACH || type == SM_ICMP_SOURCE_QUENCH ||
		       type == SM_ICMP_REDIRECT || type == SM_ICMP_TIME_EXCEEDED ||
		       type == SM_ICMP_PARAM_PROBLEM;
	return type >= SM_ICMP6_UNREACH && type <= SM_ICMP6_PARAM_PROBLEM;
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
			return dec_fail(d, DEC_TRUNCATED, R_L4_TRUNCATED);
		size_t hl = (size_t)(off >> 4) * 4;
		if (!cur_u16(&c, 14, &pkt->tcp_win))
			pkt->tcp_win = 1;
		if (hl < 20)
			return dec_fail(d, DEC_INVALID, R_L4_INVALID);
		pkt->payload_len = pkt->payload_len > hl ? (uint32_t)(pkt->payload_len - hl) : 0;
		if (cur_skip(&c, hl)) {
			pkt->payload = c.p;
			pkt->payload_caplen =
			    (uint32_t)(c.len < pkt->payload_len ? c.len : pkt->payload_len);
		}
		break;
	}
	case SM_PROTO_UDP:
	case SM_PROTO_SCTP: /* ports only */
		if (!cur_u16(&c, 0, &pkt->sport) || !cur_u16(&c, 2, &pkt->dport))
			return dec_fail(d, DEC_TRUNCATED, R_L4_TRUNCATED);
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
			return dec_fail(d, DEC_TRUNCATED, R_L4_TRUNCATED);
		bool v4 = pkt->proto == SM_PROTO_ICMP;
		uint8_t t = pkt->icmp_type;
		pkt->icmp_echo = v4 ? (t == SM_ICMP_ECHO_REQUEST || t == SM_ICMP_ECHO_REPLY)
		                    : (t == SM_ICMP6_ECHO_REQUEST || t == SM_ICMP6_ECHO_REPLY);
		if (pkt->icmp_echo) {
			if (!cur_u16(&c, 4, &pkt->icmp_id))
				return dec_fail(d, DEC_TRUNCATED, R_L4_TRUNCATED);
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
	case SM_PROTO_GRE:
		if (!pkt->fragment)
			return decode_gre(d, c, pkt, depth);
		break;
	case SM_PROTO_IPIP:
	case SM_PROTO_IPV6:
		if (!pkt->fragment)
			return decap(d, TUN_IPIP, IN_IP, c, pkt, depth);
		break;
	default:
		break;
	}
	return DEC_OK;
}

/* pkt, decoded with its transport header, names its datagram's flow: the
 * fragments held until then count with it. */
static void
ports_named(struct frag_entry *e, struct sm_packet *pkt)
{
	e->ports_known = 1;
	e->sport = pkt->sport;
	e->dport = pkt->dport;
	pkt->held_pkts = e->held_pkts;
	pkt->held_bytes = e->held_bytes;
	e->held_pkts = e->held_bytes = 0;
}

/* pkt waits for its datagram to name the flow (ports_named counts it then). */
static enum sm_dec
hold(struct frag_entry *e, const struct sm_packet *pkt)
{
	e->held_pkts++;
	e->held_bytes += pkt->ip_len;
	return DEC_HELD;
}

/* IP protocols that carry a tunnel, whose datagrams are kept until whole. */
static bool
carries_tunnel(const struct sm_decoder *d, const struct sm_packet *pkt)
{
	switch (pkt->proto) {
	case SM_PROTO_GRE:
	case SM_PROTO_IPIP:
	case SM_PROTO_IPV6:
		return true;
	case SM_PROTO_UDP:
		return is_tunnel_port(d, pkt->sport) || is_tunnel_port(d, pkt->dport);
	default:
		return false;
	}
}

/* The reassembled IPv4 datagram of a TCP segment, for libnids (it follows the
 * stream from l3): the header of the fragment that completed it, without
 * options or fragment fields, then the bytes.  Unchanged where no memory. */
static void
whole_ipv4(struct sm_decoder *d, struct sm_packet *pkt, const struct frag_buf *b)
{
	if (pkt->l3 == NULL || pkt->l3_caplen < 20 || pkt->src.family != 4 || b->total > 65535 - 20)
		return;
	if (d->whole_ip == NULL && (d->whole_ip = malloc(20 + 65536)) == NULL)
		return;
	uint8_t *w = d->whole_ip;
	uint32_t total = 20 + b->total;
	memcpy(w, pkt->l3, 20);
	w[0] = 0x45;
	w[2] = (uint8_t)(total >> 8);
	w[3] = (uint8_t)total;
	w[6] = w[7] = 0;
	w[10] = w[11] = 0;
	uint32_t sum = 0;
	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(w[i] << 8 | w[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	w[10] = (uint8_t)(~sum >> 8);
	w[11] = (uint8_t)~sum;
	memcpy(w + 20, b->data, b->total);
	pkt->l3 = w;
	pkt->l3_caplen = total;
}

/* A datagram made whole: decoded from the kept bytes as the current fragment's
 * packet, so that the frame counts once on the carrying flow and the packet
 * inside goes to its own; or, when its first fragment was too short for the
 * transport header, as the packet that names the flow (the fragments held so
 * far counted with it). */
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
	if (!e->ports_known) {
		pkt->l4_header = true;
		pkt->proto = e->l4proto;
		pkt->payload_len = b->total;
		enum sm_dec rc = decode_l4(d, c, pkt, depth);
		if (rc != DEC_OK)
			return rc;
		ports_named(e, pkt);
		if (pkt->proto == SM_PROTO_TCP)
			whole_ipv4(d, pkt, b);
		if (!carries_tunnel(d, pkt))
			return DEC_OK;
	}
	switch (pkt->proto) {
	case SM_PROTO_UDP: {
		uint16_t ulen;
		if (!cur_u16(&c, 4, &ulen) || ulen < 8 || ulen > b->total || !cur_skip(&c, 8))
			return DEC_OK;
		c.len = (size_t)ulen - 8;
		pkt->payload = c.p;
		pkt->payload_len = pkt->payload_caplen = (uint32_t)c.len;
		return decode_udp_tunnel(d, c, pkt, depth);
	}
	case SM_PROTO_GRE:
		return decode_gre(d, c, pkt, depth);
	default: /* IP in IP */
		return decap(d, TUN_IPIP, IN_IP, c, pkt, depth);
	}
}

/* The least of a transport header a first fragment must hold to name its flow
 * (an ICMP error: its quote of an IP header and 8 bytes). */
static uint32_t
l4_needed(uint8_t proto, struct cur l4)
{
	uint8_t type;
	switch (proto) {
	case SM_PROTO_TCP:
		return 20;
	case SM_PROTO_UDP:
		return 8;
	case SM_PROTO_ICMP:
	case SM_PROTO_ICMP6:
		if (!cur_u8(&l4, 0, &type) || !icmp_is_error(proto, type))
			return 8;
		return proto == SM_PROTO_ICMP ? 8 + 20 + 8 : 8 + 40 + 8;
	default:
		return 0;
	}
}

static enum sm_dec
fragment_step(struct sm_decoder *d, struct frag_entry *e, struct cur l4, struct sm_packet *pkt,
              uint32_t off, bool more, int depth)
{
	uint32_t len = pkt->payload_len;
	if (off == 0) {
		pkt->l4_header = true;
		e->l4proto = pkt->proto; /* past AH or extension headers: the flow's */
		e->l4_known = 1;
		/* A first fragment too short for its transport header (RFC 1858's tiny
		 * fragment), or for the quote of an ICMP error, names its flow only once
		 * its datagram is whole: kept until then, up to MAX_FRAG_BUFS datagrams
		 * at once.  So is a TCP segment or ICMP message whose later fragments
		 * came first (held, their bytes kept): read whole, as its receiver reads
		 * it, where libnids could not put it together from what it is given. */
		bool tiny = len < l4_needed(pkt->proto, l4);
		bool behind = e->held_pkts > 0 && e->buf != NULL &&
		              (pkt->proto == SM_PROTO_TCP || pkt->proto == SM_PROTO_ICMP ||
		               pkt->proto == SM_PROTO_ICMP6);
		if (more && (tiny || behind) && l4.len >= len && !e->no_buf) {
			frag_buf_add(d, e, l4, 0, len, more);
			if (!e->no_buf && frag_buf_whole(e))
				return frag_buf_decode(d, e, pkt, depth);
			if (!e->no_buf)
				return hold(e, pkt);
		}
		enum sm_dec rc = decode_l4(d, l4, pkt, depth);
		if (rc != DEC_OK)
			return rc;
		ports_named(e, pkt);
		if (!carries_tunnel(d, pkt)) {
			frag_buf_free(d, e);
			e->no_buf = 1;
			return DEC_OK;
		}
		frag_buf_add(d, e, l4, 0, len, more);
		return frag_buf_whole(e) ? frag_buf_decode(d, e, pkt, depth) : DEC_OK;
	}
	pkt->l4_header = false;
	if (e->l4_known)
		pkt->proto = e->l4proto;
	frag_buf_add(d, e, l4, off, len, more);
	if (!e->ports_known) {
		if (frag_buf_whole(e)) /* after a first fragment too short for its header */
			return frag_buf_decode(d, e, pkt, depth);
		return hold(e, pkt);
	}
	pkt->sport = e->sport;
	pkt->dport = e->dport;
	return frag_buf_whole(e) ? frag_buf_decode(d, e, pkt, depth) : DEC_OK;
}

/* A TCP segment's bytes in its later fragments have sequence numbers too: from
 * its first fragment's (e->seq0 at byte e->l4hdr of the fragmentable part), so
 * that a first-bytes check (payload.c) reads them in their place. */
static void
tcp_fragment_seq(struct frag_entry *e, struct cur l4, struct sm_packet *pkt, uint32_t off,
                 uint32_t skip)
{
	if (off == 0) {
		e->seq_known = pkt->payload != NULL;
		e->seq0 = pkt->seq + ((pkt->tcp_flags & TH_SYN) ? 1u : 0u);
		e->l4hdr = skip + (uint32_t)(pkt->payload != NULL ? pkt->payload - l4.p : 0);
		return;
	}
	if (!e->seq_known || off < e->l4hdr)
		return;
	pkt->seq = e->seq0 + (off - e->l4hdr);
	pkt->payload = l4.p;
	pkt->payload_caplen = (uint32_t)(l4.len < pkt->payload_len ? l4.len : pkt->payload_len);
}

/* Fragments: the first one names the flow; the others borrow its ports.  The
 * bytes of a datagram are kept until its first fragment shows it needs them
 * no more (a transport header whole, no tunnel), or until it is whole (a
 * tunnel's).  An entry is retired once its datagram is whole.  key: the protocol
 * the IP (fragment) header names; off: the fragment's place in bytes; skip: the
 * bytes before l4 in the fragmentable part (AH, extension headers after the
 * fragment header), whose datagrams are not kept: their offsets are not l4's. */
static enum sm_dec
handle_fragment(struct sm_decoder *d, struct cur l4, struct sm_packet *pkt, uint32_t id,
                uint8_t key, uint32_t off, bool more, uint32_t skip, int depth)
{
	bool keep = skip == 0;
	pkt->fragment = true;
	struct frag_entry *e = frag_lookup(d, pkt, id, key);
	if (e == NULL)
		return dec_fail(d, DEC_INVALID, R_FRAG_TABLE_FULL);
	if (!keep)
		e->no_buf = 1;
	bool whole = frag_seen(e, off, (off == 0 ? skip : 0) + pkt->payload_len, more);
	enum sm_dec rc = fragment_step(d, e, l4, pkt, off, more, depth);
	if (rc == DEC_OK && pkt->proto == SM_PROTO_TCP && pkt->fragment)
		tcp_fragment_seq(e, l4, pkt, off, skip);
	/* (unless the carried packet's own fragments took its slot meanwhile) */
	if (whole && e->used && e->id == id && e->proto == key)
		frag_drop(d, (uint32_t)(e - d->frags), R_FRAG_ORPHAN);
	return rc;
}

static enum sm_dec
decode_ipv4(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	uint8_t vhl, ttl, proto;
	uint16_t tot, fragw, id;
	if (!cur_u8(&c, 0, &vhl) || !cur_u16(&c, 2, &tot) || !cur_u16(&c, 4, &id) ||
	    !cur_u16(&c, 6, &fragw) || !cur_u8(&c, 8, &ttl) || !cur_u8(&c, 9, &proto))
		return dec_fail(d, DEC_TRUNCATED, R_IPV4_TRUNCATED);
	size_t ihl = (size_t)(vhl & 0x0f) * 4;
	if (ihl < 20)
		return dec_fail(d, DEC_INVALID, R_IPV4_INVALID);
	if (!ip_addrs(&c, 4, &pkt->src, &pkt->dst))
		return dec_fail(d, DEC_TRUNCATED, R_IPV4_TRUNCATED);
	if (c.len < ihl)
		return dec_fail(d, DEC_TRUNCATED, R_IPV4_TRUNCATED);
	size_t total = tot;
	if (total == 0) /* TSO/LRO captures leave it zero */
		total = c.len;
	else if (total < ihl)
		return dec_fail(d, DEC_INVALID, R_IPV4_INVALID);
	pkt->proto = proto;
	pkt->ttl = ttl;
	pkt->ip_id = id;
	pkt->ip_len = (uint32_t)total;
	pkt->payload_len = (uint32_t)(total - ihl);
	if (c.len > total)
		c.len = total; /* drop Ethernet padding */
	pkt->l3 = c.p;
	pkt->l3_caplen = (uint32_t)c.len;
	cur_skip(&c, ihl);
	uint8_t key = proto; /* what a fragment's datagram is known by */
	uint16_t off = fragw & 0x1fff;
	bool more = (fragw & 0x2000) != 0;
	/* AH (in the first fragment only): authenticates, does not hide, the next header */
	size_t ahlen = 0;
	if (proto == SM_PROTO_AH) {
		uint8_t nh, hl;
		if (off == 0 && cur_u8(&c, 0, &nh) && cur_u8(&c, 1, &hl) &&
		    cur_skip(&c, ((size_t)hl + 2) * 4)) {
			ahlen = ((size_t)hl + 2) * 4;
			pkt->proto = proto = nh;
			pkt->payload_len =
			    pkt->payload_len > ahlen ? (uint32_t)(pkt->payload_len - ahlen) : 0;
		}
		pkt->l3 = NULL;     /* libnids follows TCP right after the IP header only: */
		pkt->l3_caplen = 0; /* checked by payload.c, as IPv6 */
	}
	if (off != 0 || more) /* (after AH the bytes are not the fragmentable part's first) */
		return handle_fragment(d, c, pkt, id, key, (uint32_t)off * 8, more, (uint32_t)ahlen,
		                       depth);
	pkt->l4_header = true;
	return decode_l4(d, c, pkt, depth);
}

static enum sm_dec
decode_ipv6(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	uint16_t plen;
	uint8_t nh, hlim;
	pkt->l3 = NULL; /* an IPv6 (inner) packet: libnids cannot follow it */
	pkt->l3_caplen = 0;
	if (!cur_u16(&c, 4, &plen) || !cur_u8(&c, 6, &nh) || !cur_u8(&c, 7, &hlim))
		return dec_fail(d, DEC_TRUNCATED, R_IPV6_TRUNCATED);
	if (!ip_addrs(&c, 6, &pkt->src, &pkt->dst))
		return dec_fail(d, DEC_TRUNCATED, R_IPV6_TRUNCATED);
	cur_skip(&c, 40);
	size_t payload = plen ? plen : c.len; /* 0: jumbogram or offload */
	pkt->ttl = hlim;
	pkt->ip_len = (uint32_t)(40 + payload);
	if (c.len > payload)
		c.len = payload;
	size_t remaining = payload;
	bool fragmented = false, first = true, frag_more = false;
	uint8_t frag_nh = 0; /* the fragment header's next header: what the datagram is known by */
	uint32_t id = 0, frag_off = 0;
	size_t frag_rest = 0; /* bytes after the fragment header */
	for (int i = 0;; i++) {
		if (i > MAX_EXT_WALK)
			return dec_fail(d, DEC_INVALID, R_IPV6_INVALID);
		uint8_t nn, hl;
		size_t len;
		switch (nh) {
		case SM_PROTO_HOPOPTS:
		case SM_PROTO_ROUTING:
		case SM_PROTO_DSTOPTS:
		case SM_PROTO_MOBILITY:
		case SM_PROTO_HIP:
		case SM_PROTO_SHIM6:
			if (!cur_u8(&c, 0, &nn) || !cur_u8(&c, 1, &hl))
				return dec_fail(d, DEC_TRUNCATED, R_EXTHDR_TRUNCATED);
			len = ((size_t)hl + 1) * 8;
			break;
		case SM_PROTO_AH:
			if (!cur_u8(&c, 0, &nn) || !cur_u8(&c, 1, &hl))
				return dec_fail(d, DEC_TRUNCATED, R_EXTHDR_TRUNCATED);
			len = ((size_t)hl + 2) * 4;
			break;
		case SM_PROTO_FRAGMENT: {
			uint16_t offw;
			if (!cur_u8(&c, 0, &nn) || !cur_u16(&c, 2, &offw) || !cur_u32(&c, 4, &id))
				return dec_fail(d, DEC_TRUNCATED, R_EXTHDR_TRUNCATED);
			len = 8;
			uint16_t off = offw >> 3;
			bool more = (offw & 1) != 0;
			if (off != 0 || more) {
				fragmented = true;
				frag_nh = nn;
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
			return dec_fail(d, DEC_TRUNCATED, R_EXTHDR_TRUNCATED);
		remaining = remaining > len ? remaining - len : 0;
		nh = nn;
		if (fragmented && !first)
			break; /* the rest belongs to the first fragment */
	}
done:
	pkt->proto = nh;
	pkt->payload_len = (uint32_t)remaining;
	if (fragmented)
		return handle_fragment(d, c, pkt, id, frag_nh, frag_off, frag_more,
		                       first ? (uint32_t)(frag_rest - remaining) : 0, depth);
	pkt->l4_header = true;
	return decode_l4(d, c, pkt, depth);
}

enum sm_dec
decode_ip(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth)
{
	uint8_t v;
	if (!cur_u8(&c, 0, &v))
		return dec_fail(d, DEC_TRUNCATED, R_IPV4_TRUNCATED);
	if ((v >> 4) == 4)
		return decode_ipv4(d, c, pkt, depth);
	if ((v >> 4) == 6)
		return decode_ipv6(d, c, pkt, depth);
	return dec_fail(d, DEC_UNSUPPORTED, R_NOT_IP);
}
