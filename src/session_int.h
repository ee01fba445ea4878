/*
 * session_int: what the files of the session table share, behind include/smaudit/
 * session.h.  session.c keeps the table (hash, chunks, LRU lists, timeouts) and
 * accounts each packet in its session; session_icmp.c attaches ICMP errors to the
 * sessions they quote; session_tcp.c, session_vlan.c and session_sight.c are a TCP
 * conversation, the VLAN tags of one and its sightings at several sensors.
 */
#ifndef SMAUDIT_SESSION_INT_H
#define SMAUDIT_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "session_vlan.h"
#include "smaudit/session.h"

#define NIL         UINT32_MAX
#define CHUNK_SHIFT 12
#define CHUNK_SIZE  (1u << CHUNK_SHIFT)

enum list_id { L_TCP_OPEN, L_TCP_CLOSED, L_UDP, L_OTHER, L_COUNT };

struct lru {
	uint32_t head, tail;
};

#define EXPIRE_EVERY (10 * 1000000) /* ns: timeouts are seconds long */
/* An ICMP error about a flow without a session waits this long (packet time) for
 * the packet it quotes, read out of time order (several NICs flushed in turn, or
 * files of millisecond clocks merged), before it counts alone; at most
 * ERROR_HOLD_MAX wait at once. */
#define ERROR_HOLD_NS  (10 * 1000000)
#define ERROR_HOLD_MAX 32
#define LRU_SLACK      (1000 * 1000000) /* ns: expiry may come up to 1 s late */

struct sm_session_table {
	struct sm_session_opts opts;
	sm_session_emit_fn emit;
	void *ctx;
	struct sm_session **chunks; /* sessions live in chunks of CHUNK_SIZE */
	void **chunk_base;          /* what each chunk's memory is freed by */
	uint32_t nchunks, maxchunks;
	uint32_t nslots;    /* slots handed out so far */
	uint32_t free_head; /* free list through hnext */
	uint32_t *buckets;
	uint32_t nbuckets;
	struct lru lists[L_COUNT];
	int64_t now;
	int64_t first_ns; /* the first packet's time (INT64_MAX: none yet) */
	struct sm_session_stats st;
	int64_t next_expire; /* timeouts are looked at every EXPIRE_EVERY of packet time */
	uint64_t next_uid;
	struct sm_vlan_keys vkeys; /* the tags sessions were created with */
	/* ICMP errors quoting a flow that has no session yet, oldest first: the packet
	 * they quote may be read after them (held_errors()) */
	struct held_error {
		struct sm_packet pkt;
		uint64_t parent;
		uint8_t payload[16]; /* the first bytes of the quote (a copy's signature) */
	} held[ERROR_HOLD_MAX];
	uint8_t nheld;
	bool releasing;
	/* the initiator -> responder keys of TCP sessions ended while their
	 * connection may go on (idle, evicted): the next session of the same ports
	 * keeps that orientation (orient_key(); NULL until one ends so) */
	uint64_t *orient;
};
#define ORIENT_SLOTS 4096

/* Whether later comes less than w after earlier (or before it), for any two times:
 * a damaged capture's may be far apart. */
static inline bool
before(int64_t later, int64_t earlier, int64_t w)
{
	int64_t d;
	return !__builtin_sub_overflow(later, earlier, &d) ? d < w : later < earlier;
}

static inline struct sm_session *
at(const struct sm_session_table *t, uint32_t idx)
{
	return &t->chunks[idx >> CHUNK_SHIFT][idx & (CHUNK_SIZE - 1)];
}

/* A packet of another flow seen with pkt (a carrier of it, the flow an ICMP error
 * quotes): its time and capture point, nothing else set. */
static inline void
packet_beside(struct sm_packet *op, const struct sm_packet *pkt)
{
	memset(op, 0, offsetof(struct sm_packet, outer));
	op->ts_ns = pkt->ts_ns;
	op->source = pkt->source;
	op->sensor = pkt->sensor;
}

/* session.c: a new session for pkt (flip: pkt comes from its responder), linked to
 * the carrier whose uid is parent; NIL when the table is full and nothing can go. */
uint32_t session_create(struct sm_session_table *t, const struct sm_packet *pkt, bool flip,
                        uint64_t parent);

/* session_icmp.c */
/* Counts the ICMP error pkt in s, the session it quotes (dir: the side of the packet
 * it quotes); a redirect or source quench is advice, no refusal. */
void session_attach_icmp_error(struct sm_session_table *t, const struct sm_packet *pkt,
                               struct sm_session *s, int dir);
/* A redirect, source quench, "fragmentation needed" or "packet too big": advice
 * about the quoted flow, no refusal of it. */
bool session_icmp_advisory(const struct sm_packet *pkt);
/* An ICMP error about a flow without a session (its attempt unseen): a session of
 * the quoted flow, the error attached.  False when out of room. */
bool session_refused_flow(struct sm_session_table *t, const struct sm_packet *pkt, uint64_t parent);
/* Keeps pkt, an ICMP error whose quoted flow has no session, for ERROR_HOLD_NS;
 * false when ERROR_HOLD_MAX wait already. */
bool session_hold_error(struct sm_session_table *t, const struct sm_packet *pkt, uint64_t parent);
/* The TCP attempt an ICMP error whose quote was cut before the ports refuses, NIL
 * if none. */
uint32_t session_quoted_attempt(const struct sm_session_table *t, const struct sm_packet *pkt);

#endif
