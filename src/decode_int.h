/*
 * decode_int: what the decoder's files share.  decode.c owns the decoder object,
 * its counters and the link layers; decode_ip.c IPv4, IPv6, fragments, TCP, UDP
 * and ICMP; decode_tunnel.c every tunnel taken off (GRE, ERSPAN, VXLAN, Geneve,
 * GTP-U, Teredo, AYIYA, IP in IP).  Internal to the decoder: include/smaudit/
 * decode.h is the contract.
 */
#ifndef SMAUDIT_DECODE_INT_H
#define SMAUDIT_DECODE_INT_H

#include "smaudit/decode.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

static inline bool
cur_u8(const struct cur *c, size_t off, uint8_t *v)
{
	if (off >= c->len)
		return false;
	*v = c->p[off];
	return true;
}

static inline bool
cur_u16(const struct cur *c, size_t off, uint16_t *v)
{
	if (c->len < 2 || off > c->len - 2)
		return false;
	*v = (uint16_t)((c->p[off] << 8) | c->p[off + 1]);
	return true;
}

static inline bool
cur_u32(const struct cur *c, size_t off, uint32_t *v)
{
	if (c->len < 4 || off > c->len - 4)
		return false;
	*v = ((uint32_t)c->p[off] << 24) | ((uint32_t)c->p[off + 1] << 16) |
	     ((uint32_t)c->p[off + 2] << 8) | c->p[off + 3];
	return true;
}

static inline bool
cur_le16(const struct cur *c, size_t off, uint16_t *v)
{
	if (c->len < 2 || off > c->len - 2)
		return false;
	*v = (uint16_t)(c->p[off] | (c->p[off + 1] << 8));
	return true;
}

/* Advances the cursor by n bytes; false (cursor unchanged) if fewer remain. */
static inline bool
cur_skip(struct cur *c, size_t n)
{
	if (n > c->len)
		return false;
	c->p += n;
	c->len -= n;
	return true;
}

/* Points *out at n bytes at off; false if they are not all captured. */
static inline bool
cur_bytes(const struct cur *c, size_t off, size_t n, const uint8_t **out)
{
	if (off > c->len || n > c->len - off)
		return false;
	*out = c->p + off;
	return true;
}

/* The bytes of a fragmented datagram kept until it is whole and then decoded as
 * one: a tunnel's (UDP to a tunnel port, GRE, IP in IP), whose header is in the
 * first fragment and the packet it carries spans them all; a datagram whose first
 * fragment has not come, or was too short for the transport header. */
struct frag_buf {
	uint32_t total;  /* bytes of the datagram, known once its last fragment came */
	uint32_t blocks; /* 8-byte blocks received */
	uint8_t map[65536 / 64];
	uint8_t data[65536];
};

/* Runs of a datagram's bytes seen, tracked per entry to know when it is whole. */
#define FRAG_RUNS 4

struct frag_entry {
	uint8_t used;
	uint8_t ports_known;
	uint8_t no_buf; /* not a tunnel, too many at once, or done: keep no bytes */
	/* [run_lo, run_hi) of the datagram seen (merged); has_end: its last fragment
	 * came (end: its length); runs_lost: more runs than FRAG_RUNS, not tracked */
	uint8_t nruns, has_end, runs_lost;
	/* the transport protocol its first fragment named (past AH or extension
	 * headers; proto, the key, is the IP header's or the fragment header's) */
	uint8_t l4proto, l4_known;
	/* TCP: the sequence number of the first payload byte, at byte l4hdr of the
	 * fragmentable part (what comes before: AH, extension headers, TCP header) */
	uint8_t seq_known;
	uint32_t seq0, l4hdr;
	uint32_t run_lo[FRAG_RUNS], run_hi[FRAG_RUNS], end;
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
	enum sm_dec_reason last_fail; /* the reason dec_fail counted last */
	struct frag_buf *done_buf;    /* the last datagram reassembled: the packet points into it */
	/* an IPv4 TCP datagram reassembled, header and all, as libnids is given it
	 * (its l3); allocated at the first, 20 + 65536 bytes */
	uint8_t *whole_ip;
};

/* PPP protocol numbers of IP (PPP, PPPoE, PPTP). */
#define PPP_IPV4 0x21
#define PPP_IPV6 0x57

/* A failure of the given kind, counted under reason r. */
enum sm_dec dec_fail(struct sm_decoder *d, enum sm_dec kind, enum sm_dec_reason r);

/* decode.c: the link layers a tunnel may carry */
enum sm_dec decode_ethertype(struct sm_decoder *d, uint16_t type, struct cur c,
                             struct sm_packet *pkt, int depth);
enum sm_dec decode_80211(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth);

/* decode_ip.c */
enum sm_dec decode_ip(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth);

/* decode_tunnel.c.  decap: decodes an inner packet (what it starts with) as the
 * packet, the carrying datagram becoming its outermost layer; on failure the
 * outer packet is kept as it was. */
enum inner { IN_IP, IN_ETHERNET, IN_80211 };
enum sm_dec decap(struct sm_decoder *d, enum sm_tunnel kind, enum inner what, struct cur inner,
                  struct sm_packet *pkt, int depth);
enum sm_dec decode_gre(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth);
enum sm_dec decode_udp_tunnel(struct sm_decoder *d, struct cur c, struct sm_packet *pkt, int depth);
bool is_tunnel_port(const struct sm_decoder *d, uint16_t p);

#endif
