/*
 * session: the table of sessions.  Finds a packet's session by its key (hash
 * buckets that grow with the sessions open), keeps the sessions in chunks of
 * slots and in LRU lists per timeout, creates, expires and evicts them, and
 * follows tunnels to the sessions that carried a packet.  What a TCP
 * conversation does with its segments is session_tcp.c's, which session an ICMP
 * error counts in session_icmp.c's.
 */
#include "smaudit/session.h"

#include "session_int.h"
#include "session_sight.h"
#include "session_tcp.h"
#include "session_vlan.h"

#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static bool account(struct sm_session_table *t, const struct sm_packet *pkt, uint64_t parent,
                    uint32_t *hit, int *dir_out, bool *copy);
static bool release_errors(struct sm_session_table *t, int64_t now);

struct sm_session_table *
sm_session_table_new(const struct sm_session_opts *opts, sm_session_emit_fn emit, void *ctx)
{
	struct sm_session_table *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->opts = *opts;
	t->first_ns = INT64_MAX;
	if (t->opts.max_sessions == 0)
		t->opts.max_sessions = 262144;
	if (t->opts.tcp_timeout_ns <= 0)
		t->opts.tcp_timeout_ns = 3600 * SM_SEC;
	if (t->opts.tcp_close_ns <= 0)
		t->opts.tcp_close_ns = 5 * SM_SEC;
	if (t->opts.udp_timeout_ns <= 0)
		t->opts.udp_timeout_ns = 60 * SM_SEC;
	if (t->opts.other_timeout_ns <= 0)
		t->opts.other_timeout_ns = 60 * SM_SEC;
	t->emit = emit;
	t->ctx = ctx;
	t->maxchunks = (t->opts.max_sessions + CHUNK_SIZE - 1) / CHUNK_SIZE;
	t->chunks = calloc(t->maxchunks, sizeof(*t->chunks));
	t->chunk_base = calloc(t->maxchunks, sizeof(*t->chunk_base));
	/* Buckets grow with the sessions actually open: a small array stays in the
	 * CPU cache, where a bucket array sized for the maximum would miss on every
	 * packet. */
	t->nbuckets = 4096;
	t->buckets = malloc((size_t)t->nbuckets * sizeof(*t->buckets));
	if (t->chunks == NULL || t->chunk_base == NULL || t->buckets == NULL) {
		sm_session_table_free(t);
		return NULL;
	}
	memset(t->buckets, 0xff, (size_t)t->nbuckets * sizeof(*t->buckets));
	t->free_head = NIL;
	for (int i = 0; i < L_COUNT; i++)
		t->lists[i].head = t->lists[i].tail = NIL;
	return t;
}

void
sm_session_table_free(struct sm_session_table *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; i < t->nslots; i++)
		if (at(t, i)->in_use) {
			free(at(t, i)->app_detail);
			free(at(t, i)->sight);
		}
	for (uint32_t i = 0; i < t->nchunks; i++)
		free(t->chunk_base[i]);
	free(t->chunks);
	free(t->chunk_base);
	free(t->buckets);
	free(t->orient);
	free(t);
}

/* ---- naming ---- */

const char *
sm_proto_name(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case SM_PROTO_TCP:
		return "tcp";
	case SM_PROTO_UDP:
		return "udp";
	case SM_PROTO_ICMP:
		return "icmp";
	case SM_PROTO_ICMP6:
		return "icmp6";
	default:
		snprintf(buf, len, "%u", proto);
		return buf;
	}
}

/* ---- hashing and lists ---- */

static uint64_t
endpoint_hash(const struct sm_addr *a, uint16_t port)
{
	uint64_t w0, w1;
	memcpy(&w0, a->a, 8);
	memcpy(&w1, a->a + 8, 8);
	uint64_t h = (w0 ^ (uint64_t)port << 48 ^ a->family) * 0xff51afd7ed558ccdull;
	h ^= h >> 29;
	h = (h ^ w1) * 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 32);
}

/* The endpoints' hash h with the rest of a session's key mixed in. */
static uint64_t
key_rest(uint64_t h, uint8_t proto, int32_t vlan, int32_t inner_vlan)
{
	h ^= (uint64_t)proto << 56 ^ (uint64_t)(uint32_t)(vlan + 1) << 20 ^
	     (uint64_t)(uint32_t)(inner_vlan + 1);
	return h * 0x9e3779b97f4a7c15ull;
}

static uint32_t
key_hash(const struct sm_addr *a, uint16_t pa, const struct sm_addr *b, uint16_t pb, uint8_t proto,
         int32_t vlan, int32_t inner_vlan)
{
	/* The same for both directions: the endpoints' hashes are added. */
	uint64_t h = key_rest(endpoint_hash(a, pa) + endpoint_hash(b, pb), proto, vlan, inner_vlan);
	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* One direction of a conversation (never 0): initiator a, responder b. */
static uint64_t
orient_key(const struct sm_addr *a, uint16_t pa, const struct sm_addr *b, uint16_t pb,
           uint8_t proto, int32_t vlan, int32_t inner_vlan)
{
	uint64_t h = key_rest(endpoint_hash(a, pa) * 0xff51afd7ed558ccdull + endpoint_hash(b, pb),
	                      proto, vlan, inner_vlan);
	return (h ^ (h >> 31)) | 1;
}

/* Remembers the orientation of s, ended while its conversation may go on. */
static void
orient_keep(struct sm_session_table *t, const struct sm_session *s)
{
	if (s->proto != SM_PROTO_TCP) /* a UDP session is an exchange of its own */
		return;
	if (t->orient == NULL && (t->orient = calloc(ORIENT_SLOTS, sizeof(uint64_t))) == NULL)
		return; /* without memory: the next session is oriented by its first packet */
	uint64_t k =
	    orient_key(&s->src, s->sport, &s->dst, s->dport, s->proto, s->vlan, s->inner_vlan);
	t->orient[k & (ORIENT_SLOTS - 1)] = k;
}

/* 1: pkt goes from the initiator of an ended session of its ports, -1: from its
 * responder, 0: none remembered. */
static int
orient_of(const struct sm_session_table *t, const struct sm_packet *pkt)
{
	if (t->orient == NULL)
		return 0;
	uint64_t f = orient_key(&pkt->src, pkt->sport, &pkt->dst, pkt->dport, pkt->proto, pkt->vlan,
	                        pkt->inner_vlan),
	         r = orient_key(&pkt->dst, pkt->dport, &pkt->src, pkt->sport, pkt->proto, pkt->vlan,
	                        pkt->inner_vlan);
	return t->orient[f & (ORIENT_SLOTS - 1)] == f   ? 1
	       : t->orient[r & (ORIENT_SLOTS - 1)] == r ? -1
	                                                : 0;
}

static uint32_t
session_hash(const struct sm_session *s)
{
	return key_hash(&s->src, s->sport, &s->dst, s->dport, s->proto, s->vlan, s->inner_vlan);
}

/* Direction of (src,sport -> dst,dport) in s: 0 fwd, 1 rev, -1 not this session. */
static int
session_dir(const struct sm_session *s, const struct sm_addr *src, uint16_t sport,
            const struct sm_addr *dst, uint16_t dport)
{
	if (s->sport == sport && s->dport == dport && sm_addr_eq(&s->src, src) &&
	    sm_addr_eq(&s->dst, dst))
		return 0;
	if (s->sport == dport && s->dport == sport && sm_addr_eq(&s->src, dst) &&
	    sm_addr_eq(&s->dst, src))
		return 1;
	return -1;
}

static uint32_t
lookup(const struct sm_session_table *t, uint8_t proto, int32_t vlan, int32_t inner_vlan,
       const struct sm_addr *src, uint16_t sport, const struct sm_addr *dst, uint16_t dport,
       int *dir)
{
	uint32_t b = key_hash(src, sport, dst, dport, proto, vlan, inner_vlan) & (t->nbuckets - 1);
	for (uint32_t i = t->buckets[b]; i != NIL; i = at(t, i)->hnext) {
		const struct sm_session *s = at(t, i);
		if (s->proto != proto || s->vlan != vlan || s->inner_vlan != inner_vlan)
			continue;
		int d = session_dir(s, src, sport, dst, dport);
		if (d >= 0) {
			*dir = d;
			return i;
		}
	}
	return NIL;
}

static void
list_unlink(struct sm_session_table *t, uint32_t idx)
{
	struct sm_session *s = at(t, idx);
	struct lru *l = &t->lists[s->list];
	if (s->lprev != NIL)
		at(t, s->lprev)->lnext = s->lnext;
	else
		l->head = s->lnext;
	if (s->lnext != NIL)
		at(t, s->lnext)->lprev = s->lprev;
	else
		l->tail = s->lprev;
}

static void
list_append(struct sm_session_table *t, uint32_t idx, uint8_t list)
{
	struct sm_session *s = at(t, idx);
	struct lru *l = &t->lists[list];
	s->list = list;
	s->lnext = NIL;
	s->lprev = l->tail;
	if (l->tail != NIL)
		at(t, l->tail)->lnext = idx;
	else
		l->head = idx;
	l->tail = idx;
}

static uint8_t
list_for(const struct sm_session *s)
{
	if (s->proto == SM_PROTO_TCP)
		return sm_tcp_closed(s) ? L_TCP_CLOSED : L_TCP_OPEN;
	return s->proto == SM_PROTO_UDP ? L_UDP : L_OTHER;
}

static int64_t
timeout_of(const struct sm_session_table *t, uint8_t list)
{
	switch (list) {
	case L_TCP_OPEN:
		return t->opts.tcp_timeout_ns;
	case L_TCP_CLOSED:
		return t->opts.tcp_close_ns;
	case L_UDP:
		return t->opts.udp_timeout_ns;
	default:
		return t->opts.other_timeout_ns;
	}
}

/* Removes a session from the table after handing it to the done and emit
 * callbacks. */
static void
finish(struct sm_session_table *t, uint32_t idx, enum sm_session_end why)
{
	struct sm_session *s = at(t, idx);
	if (t->opts.done != NULL)
		t->opts.done(t->ctx, s);
	t->emit(t->ctx, s, why);
	if (why == END_IDLE || why == END_EVICTED)
		orient_keep(t, s);
	free(s->app_detail);
	s->app_detail = NULL;
	free(s->sight);
	s->sight = NULL;
	t->st.emitted++;
	if (why == END_EVICTED)
		t->st.evicted++;
	uint32_t b = session_hash(s) & (t->nbuckets - 1);
	uint32_t *link = &t->buckets[b];
	while (*link != NIL) {
		if (*link == idx) {
			*link = s->hnext;
			break;
		}
		link = &at(t, *link)->hnext;
	}
	list_unlink(t, idx);
	s->in_use = false;
	s->hnext = t->free_head;
	t->free_head = idx;
	t->st.active--;
}

static void
expire(struct sm_session_table *t)
{
	for (uint8_t l = 0; l < L_COUNT; l++) {
		int64_t to = timeout_of(t, l);
		while (t->lists[l].head != NIL) {
			uint32_t idx = t->lists[l].head;
			if (at(t, idx)->touch_ns + to >= t->now)
				break;
			finish(t, idx, l == L_TCP_CLOSED ? END_CLOSED : END_IDLE);
		}
	}
}

void
sm_session_advance(struct sm_session_table *t, int64_t now_ns)
{
	if (now_ns > t->now)
		t->now = now_ns;
	/* errors held long enough count now: time passes without packets (live) */
	if (t->nheld > 0)
		(void)release_errors(t, now_ns);
	expire(t);
}

/* Makes room by evicting the session idle the longest. */
static void
evict_one(struct sm_session_table *t)
{
	uint32_t victim = NIL;
	for (uint8_t l = 0; l < L_COUNT; l++) {
		uint32_t h = t->lists[l].head;
		if (h != NIL && (victim == NIL || at(t, h)->touch_ns < at(t, victim)->touch_ns))
			victim = h;
	}
	if (victim != NIL)
		finish(t, victim, END_EVICTED);
}

/* Doubles the bucket array and re-links every session; keeps the old array if
 * memory is short (chains get longer, nothing is lost). */
static void
grow_buckets(struct sm_session_table *t)
{
	uint32_t n = t->nbuckets * 2;
	if (n == 0 || n > (1u << 30))
		return;
	uint32_t *b = malloc((size_t)n * sizeof(*b));
	if (b == NULL)
		return;
	memset(b, 0xff, (size_t)n * sizeof(*b));
	for (uint32_t i = 0; i < t->nslots; i++) {
		struct sm_session *s = at(t, i);
		if (!s->in_use)
			continue;
		uint32_t k = session_hash(s) & (n - 1);
		s->hnext = b[k];
		b[k] = i;
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

/* A whole chunk of slots goes on one huge page where the system gives them: a
 * packet's session is anywhere in tens of megabytes, and with small pages
 * nearly every lookup would also miss the TLB.  A smaller chunk (a small
 * table) stays on ordinary pages.  *base is what to free (malloc's, so that
 * allocation failures stay testable). */
#define HUGE_PAGE ((size_t)2 << 20)
_Static_assert(sizeof(struct sm_session) * CHUNK_SIZE <= HUGE_PAGE,
               "a chunk of sessions fills one huge page: a byte more a session takes two");
static struct sm_session *
chunk_alloc(size_t size, void **base)
{
	*base = NULL;
#ifdef MADV_HUGEPAGE
	if (size > HUGE_PAGE / 2) {
		size_t rounded = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
		char *p = malloc(rounded + HUGE_PAGE);
		if (p == NULL)
			return NULL;
		*base = p;
		p += (HUGE_PAGE - (uintptr_t)p % HUGE_PAGE) % HUGE_PAGE;
		(void)madvise(p, rounded, MADV_HUGEPAGE); /* a hint: fine if refused */
		return (struct sm_session *)(void *)p;
	}
#endif
	*base = malloc(size);
	return *base;
}

static uint32_t
alloc_slot(struct sm_session_table *t)
{
	if (t->st.active >= t->opts.max_sessions)
		evict_one(t);
	if (t->free_head != NIL) {
		uint32_t idx = t->free_head;
		t->free_head = at(t, idx)->hnext;
		return idx;
	}
	if (t->nslots == t->nchunks * CHUNK_SIZE) {
		if (t->nchunks == t->maxchunks)
			return NIL;
		/* a table smaller than a chunk gets only what it can hold */
		size_t n = t->opts.max_sessions < CHUNK_SIZE ? t->opts.max_sessions : CHUNK_SIZE;
		t->chunks[t->nchunks] =
		    chunk_alloc(n * sizeof(struct sm_session), &t->chunk_base[t->nchunks]);
		if (t->chunks[t->nchunks] == NULL)
			return NIL;
		t->nchunks++;
	}
	return t->nslots++;
}

/* A TCP SYN without ACK: the first packet of a conversation, never part of one
 * seen before under other VLAN tags at the same sensor. */
static bool
opens(const struct sm_packet *pkt)
{
	return pkt->proto == SM_PROTO_TCP && pkt->l4_header &&
	       (pkt->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN;
}

/* The session under other VLAN tags that a packet of (src,sport -> dst,dport)
 * tagged vlan/inner_vlan at sensor belongs to (*dir its side), NIL if none;
 * join: make the alias that says so.  Out of line: asked only when a packet's
 * own tags hold no session, it keeps account() small on every other packet. */
static __attribute__((noinline, cold)) uint32_t
lookup_other_vlan(struct sm_session_table *t, uint8_t proto, int32_t vlan, int32_t inner_vlan,
                  uint8_t sensor, const struct sm_addr *src, uint16_t sport,
                  const struct sm_addr *dst, uint16_t dport, int *dir, bool join)
{
	const struct sm_vlan_keys *k = &t->vkeys;
	for (uint8_t i = 0; i < k->n; i++) {
		if (k->key[i].vlan == vlan && k->key[i].inner_vlan == inner_vlan)
			continue;
		int d;
		uint32_t idx = lookup(t, proto, k->key[i].vlan, k->key[i].inner_vlan, src, sport,
		                      dst, dport, &d);
		if (idx != NIL && sm_vlan_takes(at(t, idx), d, vlan, inner_vlan, sensor, join)) {
			*dir = d;
			return idx;
		}
	}
	return NIL;
}

uint32_t
session_create(struct sm_session_table *t, const struct sm_packet *pkt, bool flip, uint64_t parent)
{
	uint32_t idx = alloc_slot(t);
	if (idx == NIL)
		return NIL;
	struct sm_session *s = at(t, idx);
	memset(s, 0, sizeof(*s));
	if (t->opts.nsensors > 1 && (s->sight = sm_sight_new(t->opts.nsensors)) == NULL) {
		s->hnext = t->free_head; /* back to the free list */
		t->free_head = idx;
		return NIL;
	}
	s->in_use = true;
	s->slot = idx;
	/* flip: the first packet came from the responder */
	s->proto = pkt->proto;
	s->vlan = pkt->vlan;
	s->inner_vlan = pkt->inner_vlan;
	s->src = flip ? pkt->dst : pkt->src;
	s->dst = flip ? pkt->src : pkt->dst;
	s->sport = flip ? pkt->dport : pkt->sport;
	s->dport = flip ? pkt->sport : pkt->dport;
	s->flipped = flip;
	sm_vlan_keys_note(&t->vkeys, pkt->vlan, pkt->inner_vlan);
	s->first_ns = s->last_ns = pkt->ts_ns;
	s->source = pkt->source;
	s->tunnel = pkt->tunnel;
	s->outer_src = pkt->outer_src;
	s->outer_dst = pkt->outer_dst;
	s->uid = ++t->next_uid;
	s->tunnel_parent = parent;
	if (flip)
		s->history[s->history[0] = '^', 1] = '\0';
	/* opened without its opening packet (a SYN; a request), at the start */
	if ((pkt->proto == SM_PROTO_TCP ? !opens(pkt) : flip) &&
	    before(pkt->ts_ns, t->first_ns, SM_EDGE_NS))
		s->edge |= SM_EDGE_START;
	uint32_t b = session_hash(s) & (t->nbuckets - 1);
	s->hnext = t->buckets[b];
	t->buckets[b] = idx;
	list_append(t, idx, list_for(s));
	s->moved_ns = t->now;
	t->st.created++;
	t->st.active++;
	if (t->st.active > t->st.peak)
		t->st.peak = t->st.active;
	if (t->st.active > t->nbuckets)
		grow_buckets(t);
	return idx;
}

static bool
is_service_port(const struct sm_session_table *t, uint16_t port)
{
	switch (port) {
	case 0:  /* no port at all */
	case 68: /* DHCP client */
		return false;
	/* tunnels' ports (decode.h): whichever side uses one serves the tunnel */
	case SM_PORT_TEREDO:
	case SM_PORT_GRE_UDP:
	case SM_PORT_VXLAN:
	case SM_PORT_VXLAN_GPE:
	case SM_PORT_AYIYA:
	case SM_PORT_GENEVE:
		return true;
	default:
		break;
	}
	if (t->opts.service_ports != NULL &&
	    (t->opts.service_ports[port >> 3] & (1u << (port & 7))))
		return true;
	return port < 1024;
}

/* Picks the initiator of a new session from its first packet. */
static bool
should_flip(const struct sm_session_table *t, const struct sm_packet *pkt)
{
	if (pkt->proto == SM_PROTO_TCP && pkt->l4_header) {
		uint8_t f = pkt->tcp_flags;
		if ((f & TH_SYN) && !(f & TH_ACK))
			return false;
		if ((f & TH_SYN) && (f & TH_ACK))
			return true; /* SYN-ACK: the receiver initiated */
	}
	if ((pkt->proto == SM_PROTO_ICMP && pkt->icmp_type == SM_ICMP_ECHO_REPLY) ||
	    (pkt->proto == SM_PROTO_ICMP6 && pkt->icmp_type == SM_ICMP6_ECHO_REPLY))
		return true; /* echo reply first */
	/* a broadcast is never the initiator (a DHCP offer seen alone) */
	static const uint8_t bcast[4] = {255, 255, 255, 255};
	if (pkt->dst.family == 4 && memcmp(pkt->dst.a, bcast, 4) == 0)
		return false;
	if (pkt->proto != SM_PROTO_TCP && pkt->proto != SM_PROTO_UDP)
		return false;
	int o = pkt->proto == SM_PROTO_TCP ? orient_of(t, pkt) : 0;
	if (o != 0) /* the connection of a session ended idle goes on */
		return o < 0;
	return is_service_port(t, pkt->sport) && !is_service_port(t, pkt->dport);
}

/* Zeek's DNS analyzer ends a UDP DNS conversation on a timer: every 10 s from
 * its start, once it has been quiet for 9 s of them. */
#define DNS_EVERY_NS (10 * SM_SEC)
#define DNS_QUIET_NS (9 * SM_SEC)

static bool
dns_over(const struct sm_session *s, int64_t now)
{
	if (s->proto != SM_PROTO_UDP ||
	    !(s->dport == 53 || s->sport == 53 || s->dport == 5353 || s->dport == 5355))
		return false;
	int64_t due = s->last_ns + DNS_QUIET_NS - s->first_ns; /* first tick at or after it */
	int64_t k = due <= DNS_EVERY_NS ? 1 : (due + DNS_EVERY_NS - 1) / DNS_EVERY_NS;
	return s->first_ns + k * DNS_EVERY_NS <= now;
}

/* Counts the held errors taken ERROR_HOLD_NS or more before now (all: INT64_MAX):
 * attached to the session of the flow they quote if it came meanwhile, else as
 * they would have counted at once.  False only when out of memory. */
static bool
release_errors(struct sm_session_table *t, int64_t now)
{
	uint8_t n = 0;
	while (n < t->nheld && !before(now, t->held[n].pkt.ts_ns, ERROR_HOLD_NS))
		n++;
	if (n == 0)
		return true;
	bool ok = true;
	t->releasing = true;
	for (uint8_t i = 0; i < n && ok; i++) {
		uint32_t idx;
		int dir;
		bool copy;
		ok = account(t, &t->held[i].pkt, t->held[i].parent, &idx, &dir, &copy);
	}
	t->releasing = false;
	t->nheld -= n;
	for (uint8_t i = 0; i < t->nheld; i++) {
		t->held[i] = t->held[i + n];
		t->held[i].pkt.payload = t->held[i].payload;
	}
	return ok;
}

/* Whether pkt starts another conversation than s, its side dir, which ends
 * first (*why): a new SYN on a closed one or another ISN (port reuse), a
 * straggler after the close delay, a SYN after an attempt left unanswered for
 * ATTEMPT_NS, a DNS query after its quiet timer. */
static bool
ends_before(const struct sm_session_table *t, const struct sm_session *s, int dir,
            const struct sm_packet *pkt, enum sm_session_end *why)
{
	/* A packet taken before the session's last one is part of it, read out of
	 * time order (a capture of two NICs flushed in turn): it cannot open the
	 * conversation that comes after. */
	if (pkt->ts_ns < s->last_ns)
		return false;
	*why = END_CLOSED;
	if (pkt->proto == SM_PROTO_TCP && sm_tcp_port_reuse(s, dir, pkt))
		return true;
	if (s->close_ns != 0 && pkt->ts_ns - s->close_ns >= t->opts.tcp_close_ns)
		return true;
	*why = END_IDLE;
	return sm_tcp_attempt_over(s, pkt->ts_ns) || dns_over(s, pkt->ts_ns);
}

/* Accounts pkt in its session (created linked to parent when new): *hit is
 * where it went (NIL: no session, an ICMP error counted in the one it quotes),
 * *copy whether another sensor saw it first (then only its sighting counts).
 * False only when out of memory. */
static bool
account(struct sm_session_table *t, const struct sm_packet *pkt, uint64_t parent, uint32_t *hit,
        int *dir_out, bool *copy)
{
	*hit = NIL;
	*copy = false;
	int dir;
	if (pkt->icmp_error && pkt->quote.ports_known) {
		const struct sm_quote *q = &pkt->quote;
		uint32_t qi = lookup(t, q->proto, pkt->vlan, pkt->inner_vlan, &q->src, q->sport,
		                     &q->dst, q->dport, &dir);
		int edir; /* the side it comes from under other tags: the quoted side's peer */
		if (qi == NIL && (qi = lookup_other_vlan(t, q->proto, pkt->vlan, pkt->inner_vlan,
		                                         pkt->sensor, &q->dst, q->dport, &q->src,
		                                         q->sport, &edir, false)) != NIL)
			dir = 1 - edir;
		if (qi != NIL) {
			session_attach_icmp_error(t, pkt, at(t, qi), dir);
			return true;
		}
		if (!t->releasing && session_hold_error(t, pkt, parent))
			return true;
		/* advice about a flow not seen (no refusal) is a conversation of its own */
		if ((q->proto == SM_PROTO_TCP || q->proto == SM_PROTO_UDP) &&
		    (t->st.evicted > 0 || !session_icmp_advisory(pkt)))
			return session_refused_flow(t, pkt, parent);
	} else if (pkt->icmp_error) {
		uint32_t qi = session_quoted_attempt(t, pkt);
		if (qi != NIL) {
			session_attach_icmp_error(t, pkt, at(t, qi), 0);
			return true;
		}
	}

	uint32_t idx = lookup(t, pkt->proto, pkt->vlan, pkt->inner_vlan, &pkt->src, pkt->sport,
	                      &pkt->dst, pkt->dport, &dir);
	if (idx == NIL && (t->opts.nsensors > 1 || !opens(pkt)))
		idx = lookup_other_vlan(t, pkt->proto, pkt->vlan, pkt->inner_vlan, pkt->sensor,
		                        &pkt->src, pkt->sport, &pkt->dst, pkt->dport, &dir, true);
	enum sm_session_end why;
	if (idx != NIL && ends_before(t, at(t, idx), dir, pkt, &why)) {
		finish(t, idx, why);
		idx = NIL;
	}
	if (idx == NIL) {
		bool flip = should_flip(t, pkt);
		idx = session_create(t, pkt, flip, parent);
		if (idx == NIL)
			return false;
		dir = flip ? 1 : 0;
	}
	struct sm_session *s = at(t, idx);
	*hit = idx;
	*dir_out = dir;
	if (s->sight != NULL && sm_sight_packet(s->sight, dir, pkt)) {
		s->touch_ns = t->now;
		*copy = true;
		return true;
	}
	uint32_t n = 1 + pkt->held_pkts;
	if (s->pkts[dir] == 0)
		s->ttl[dir] = pkt->ttl;
	else if (pkt->ttl != s->ttl[dir])
		s->dir_flags[dir] |= SM_DIR_TTL_VARIES;
	s->pkts[dir] += n;
	s->bytes[dir] += pkt->ip_len + pkt->held_bytes;
	s->payload[dir] += pkt->payload_len;
	if (pkt->ts_ns < s->first_ns)
		s->first_ns = pkt->ts_ns;
	/* a silence is one side's: the other may go on (retransmissions unanswered) */
	int64_t prev = s->side_last_ns[dir] != 0 ? s->side_last_ns[dir] : s->first_ns;
	if (pkt->ts_ns - prev > s->idle_max_ns) {
		s->idle_max_ns = pkt->ts_ns - prev;
		s->idle_from_ns = prev;
	}
	if (pkt->ts_ns > s->side_last_ns[dir])
		s->side_last_ns[dir] = pkt->ts_ns;
	if (pkt->ts_ns > s->last_ns)
		s->last_ns = pkt->ts_ns;
	if (pkt->proto == SM_PROTO_TCP && pkt->l4_header)
		sm_tcp_packet(s, dir, pkt);
	else if (pkt->icmp_echo && s->icmp_id == 0) {
		s->icmp_id = pkt->icmp_id;
		s->after_attempt = dir == 1 && s->pkts[0] + s->pkts[1] == n; /* a reply first */
	}
	if ((pkt->proto == SM_PROTO_ICMP || pkt->proto == SM_PROTO_ICMP6) &&
	    s->pkts[0] + s->pkts[1] == n) {
		/* Shown Zeek-style: type and code of the first message (the request of a
		 * reply seen first). */
		s->icmp_type = pkt->icmp_type;
		if (dir == 1 && pkt->icmp_echo)
			s->icmp_type = pkt->proto == SM_PROTO_ICMP ? 8 : 128;
		s->icmp_code = pkt->icmp_code;
	}
	s->touch_ns = t->now;
	uint8_t l = list_for(s);
	/* Moving to the tail touches the neighbours (cache misses); within
	 * LRU_SLACK of the last move the order is close enough for timeouts of
	 * seconds. */
	if (l != s->list || t->now - s->moved_ns >= LRU_SLACK) {
		list_unlink(t, idx);
		list_append(t, idx, l);
		s->moved_ns = t->now;
	}
	return true;
}

static void
clock_to(struct sm_session_table *t, int64_t ts_ns)
{
	if (ts_ns > t->now)
		t->now = ts_ns;
	if (ts_ns < t->first_ns)
		t->first_ns = ts_ns;
	if (t->now >= t->next_expire) {
		expire(t);
		t->next_expire = t->now + EXPIRE_EVERY;
	}
}

/* The carrying datagrams of pkt, outermost first, each linked to the one
 * outside it; *parent ends as the innermost carrier's uid. */
static bool
carriers(struct sm_session_table *t, const struct sm_packet *pkt, uint64_t *parent)
{
	*parent = 0;
	for (uint8_t i = 0; i < pkt->nouter && i < SM_MAX_OUTER; i++) {
		const struct sm_outer *o = &pkt->outer[i];
		struct sm_packet op;
		packet_beside(&op, pkt);
		/* a carrier's copy at another sensor is known by what it carries */
		op.ip_id = pkt->ip_id;
		op.seq = pkt->seq;
		op.ack = pkt->ack;
		op.payload = pkt->payload;
		op.payload_caplen = pkt->payload_caplen;
		op.vlan = o->vlan;
		op.inner_vlan = o->inner_vlan;
		op.src = o->src;
		op.dst = o->dst;
		op.proto = o->proto;
		op.ttl = o->ttl;
		op.ip_len = o->ip_len;
		op.held_pkts = o->held_pkts;
		op.held_bytes = o->held_bytes;
		op.l4_header = true;
		op.sport = o->sport;
		op.dport = o->dport;
		if (i > 0) {
			op.tunnel = pkt->outer[0].kind;
			op.outer_src = pkt->outer[0].src;
			op.outer_dst = pkt->outer[0].dst;
		}
		uint32_t idx;
		int dir;
		bool copy;
		if (!account(t, &op, *parent, &idx, &dir, &copy))
			return false;
		*parent = at(t, idx)->uid; /* a carrier is never an ICMP error: idx is set */
	}
	return true;
}

enum sm_err
sm_session_packet(struct sm_session_table *t, const struct sm_packet *pkt,
                  struct sm_session_hit *hit)
{
	clock_to(t, pkt->ts_ns);
	uint64_t parent;
	uint32_t idx = NIL;
	int dir = 0;
	bool copy = false;
	bool ok = (t->nheld == 0 || release_errors(t, pkt->ts_ns)) && carriers(t, pkt, &parent) &&
	          account(t, pkt, parent, &idx, &dir, &copy);
	if (hit != NULL) {
		hit->s = idx != NIL ? at(t, idx) : NULL;
		hit->dir = dir;
		hit->copy = copy;
	}
	return ok ? SM_OK : SM_ERR_NOMEM;
}

static uint32_t
hint_bucket(const struct sm_session_table *t, const struct sm_flow_key *k)
{
	return key_hash(&k->src, k->sport, &k->dst, k->dport, k->proto, k->vlan, k->inner_vlan) &
	       (t->nbuckets - 1);
}

uint32_t
sm_session_prefetch_bucket(const struct sm_session_table *t, const struct sm_flow_key *k)
{
	uint32_t b = hint_bucket(t, k);
	__builtin_prefetch(&t->buckets[b]);
	return b;
}

void
sm_session_prefetch(const struct sm_session_table *t, uint32_t bucket)
{
	uint32_t i = t->buckets[bucket & (t->nbuckets - 1)];
	if (i == NIL)
		return;
	const char *p = (const char *)at(t, i);
	for (size_t off = 0; off < sizeof(struct sm_session); off += 64)
		__builtin_prefetch(p + off);
}

enum sm_err
sm_session_carriers(struct sm_session_table *t, const struct sm_packet *pkt)
{
	clock_to(t, pkt->ts_ns);
	uint64_t parent;
	return carriers(t, pkt, &parent) ? SM_OK : SM_ERR_NOMEM;
}

/* Whether s, open in list l at the table's clock, may get its answer after it:
 * begun less than SM_EDGE_NS before; a refusal (a reset closed it, an ICMP error
 * came) is whole. */
static bool
awaits_answer(const struct sm_session_table *t, const struct sm_session *s, uint8_t l)
{
	return l != L_TCP_CLOSED && s->icmp_errors == 0 && before(t->now, s->first_ns, SM_EDGE_NS);
}

void
sm_session_flush(struct sm_session_table *t)
{
	(void)release_errors(t, INT64_MAX);
	for (uint8_t l = 0; l < L_COUNT; l++)
		while (t->lists[l].head != NIL) {
			struct sm_session *s = at(t, t->lists[l].head);
			if (awaits_answer(t, s, l))
				s->edge |= SM_EDGE_END;
			finish(t, t->lists[l].head, END_FLUSH);
		}
}

void
sm_session_foreach(struct sm_session_table *t, sm_session_emit_fn fn, void *ctx)
{
	for (uint8_t l = 0; l < L_COUNT; l++)
		for (uint32_t i = t->lists[l].head; i != NIL; i = at(t, i)->lnext) {
			const struct sm_session *s = at(t, i);
			if (!awaits_answer(t, s, l)) {
				fn(ctx, s, END_FLUSH);
				continue;
			}
			struct sm_session cut = *s; /* as the end would leave it, here and now */
			cut.edge |= SM_EDGE_END;
			fn(ctx, &cut, END_FLUSH);
		}
}

void
sm_session_stats(const struct sm_session_table *t, struct sm_session_stats *out)
{
	*out = t->st;
}

int64_t
sm_session_silence(const struct sm_session *s, int64_t *from)
{
	int64_t len = s->idle_max_ns;
	*from = s->idle_from_ns;
	for (int d = 0; d < 2; d++)
		if (s->side_last_ns[d] != 0 && s->last_ns - s->side_last_ns[d] > len) {
			len = s->last_ns - s->side_last_ns[d];
			*from = s->side_last_ns[d];
		}
	return len;
}
