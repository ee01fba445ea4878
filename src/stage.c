/*
 * stage: the payload checks, policy and store of an offline run on a second
 * thread (stage.h).  A byte ring of copies carries the work from the reading
 * thread, which is its only producer; items never wrap (a pad item fills the
 * ring's end).  Each side waits for the other by spinning a little, then on a
 * condition variable.  The stage keeps a copy of every session it was given a
 * packet of, with the payload results, until the session leaves.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "smaudit/stage.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum item_type { IT_PAD, IT_PACKET, IT_DONE, IT_END };

struct item {
	uint32_t type, size; /* size: of the whole item, a multiple of 8 */
};

/* A packet: what the payload checks read of it and of its session as it stood
 * after it (sm_payload_packet: the key, packet counts, whether the SYN was seen),
 * then its bytes. */
struct item_packet {
	struct item h;
	uint64_t uid;
	uint32_t slot;
	uint64_t pkts[2];
	int64_t ts_ns;
	struct sm_flow_key key; /* the session's */
	uint8_t dir, family;    /* family: the packet's */
	bool syn_seen;
	uint32_t seq, payload_len, payload_caplen;
	uint32_t l3_len, pl_len; /* bytes that follow: the IP datagram, then the payload */
	int32_t pl_off;          /* the payload inside the datagram's bytes, or -1 */
};

/* A session leaving the table; its sightings follow. */
struct item_done {
	struct item h;
	uint32_t sight_len;
	struct sm_session s;
};

/* The stage's copy of a session it was given packets of. */
struct mirror {
	struct mirror *next;
	struct sm_session s;
};

#define SETTLED_SLOTS 32768u
/* Work crosses in whole buffers: one lock and one wake-up per buffer, not per
 * item.  Small enough to stay in the caches, and to keep the stage close behind
 * (settled sessions are said back sooner); a buffer grows for an item larger
 * than it (a packet of a large snap length). */
#define BUF_BYTES ((size_t)64 << 10)
#define NBUFS     8

struct buf {
	uint8_t *data;
	size_t used, cap;
};

struct sm_stage {
	struct sm_stage_opts o;
	struct buf bufs[NBUFS];
	struct buf *cur; /* the producer's, being filled */
	/* under mu: buffers filled (in order, a ring of indices) and free */
	pthread_mutex_t mu;
	pthread_cond_t filled_cv, free_cv;
	size_t filled[NBUFS], nfilled, first_filled;
	struct buf *free_bufs[NBUFS];
	size_t nfree;
	_Atomic int err;            /* the first error, of either side */
	struct sm_errbuf eb;        /* its message, when the stage's */
	struct sm_errbuf reader_eb; /* its message, when the reading thread's */
	bool err_is_reader;         /* written by the side that set err, read after */
	pthread_t thread;
	bool started;
	size_t sight_len;
	/* the stage's own: copies of sessions by their slot in the reading thread's
	 * table (a slot is used again only after its session's done item) */
	struct mirror **by_slot;
	size_t nslots;
	struct mirror *spare; /* copies of sessions that left, to use again */
	_Atomic uint64_t settled[SETTLED_SLOTS];
};

static size_t
round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* ---- the producer ---- */

/* Hands the buffer being filled to the stage and takes a free one (waiting for
 * the stage to give one back). */
static void
hand_over(struct sm_stage *st)
{
	pthread_mutex_lock(&st->mu);
	st->filled[(st->first_filled + st->nfilled++) % NBUFS] = (size_t)(st->cur - st->bufs);
	pthread_cond_signal(&st->filled_cv);
	while (st->nfree == 0)
		pthread_cond_wait(&st->free_cv, &st->mu);
	st->cur = st->free_bufs[--st->nfree];
	pthread_mutex_unlock(&st->mu);
	st->cur->used = 0;
}

/* Room for an item of size bytes (8-aligned); NULL when out of memory (the
 * stage's error, which the reading thread stops at). */
static uint8_t *
reserve(struct sm_stage *st, size_t size)
{
	if (st->cur->used + size > st->cur->cap && st->cur->used > 0)
		hand_over(st);
	if (size > st->cur->cap) {
		uint8_t *d = realloc(st->cur->data, size);
		if (d == NULL) {
			int none = SM_OK;
			if (atomic_compare_exchange_strong(&st->err, &none, SM_ERR_NOMEM)) {
				sm_error(&st->reader_eb, SM_ERR_NOMEM,
				         "out of memory queueing a packet");
				st->err_is_reader = true;
			}
			return NULL;
		}
		st->cur->data = d;
		st->cur->cap = size;
	}
	return st->cur->data + st->cur->used;
}

static void
publish(struct sm_stage *st, size_t size)
{
	st->cur->used += size;
}

void
sm_stage_packet(struct sm_stage *st, const struct sm_session *s, int dir,
                const struct sm_packet *pkt)
{
	if (atomic_load_explicit(&st->settled[s->uid % SETTLED_SLOTS], memory_order_relaxed) ==
	    s->uid)
		return; /* the checks would ignore it */
	uint32_t l3 = pkt->l3 != NULL ? pkt->l3_caplen : 0, pl = 0;
	int32_t off = -1;
	if (pkt->payload != NULL && pkt->payload_caplen > 0) {
		if (l3 > 0 && pkt->payload >= pkt->l3 &&
		    pkt->payload + pkt->payload_caplen <= pkt->l3 + l3)
			off = (int32_t)(pkt->payload - pkt->l3);
		else
			pl = pkt->payload_caplen;
	}
	size_t size = round8(sizeof(struct item_packet) + l3 + pl);
	struct item_packet *it = (struct item_packet *)reserve(st, size);
	if (it == NULL)
		return;
	it->h.type = IT_PACKET;
	it->h.size = (uint32_t)size;
	it->uid = s->uid;
	it->slot = s->slot;
	it->pkts[0] = s->pkts[0];
	it->pkts[1] = s->pkts[1];
	it->ts_ns = pkt->ts_ns;
	sm_session_key(s, &it->key);
	it->dir = (uint8_t)dir;
	it->family = pkt->src.family;
	it->syn_seen = s->syn_seen;
	it->seq = pkt->seq;
	it->payload_len = pkt->payload_len;
	it->payload_caplen = pkt->payload_caplen;
	it->l3_len = l3;
	it->pl_len = pl;
	it->pl_off = off;
	uint8_t *bytes = (uint8_t *)(it + 1);
	if (l3 > 0)
		memcpy(bytes, pkt->l3, l3);
	if (pl > 0)
		memcpy(bytes + l3, pkt->payload, pl);
	publish(st, size);
}

void
sm_stage_done(struct sm_stage *st, const struct sm_session *s)
{
	uint32_t sight = s->sight != NULL ? (uint32_t)st->sight_len : 0;
	size_t size = round8(sizeof(struct item_done) + sight);
	struct item_done *it = (struct item_done *)reserve(st, size);
	if (it == NULL)
		return;
	it->h.type = IT_DONE;
	it->h.size = (uint32_t)size;
	it->sight_len = sight;
	memcpy(&it->s, s, sizeof(*s));
	if (sight > 0)
		memcpy(it + 1, s->sight, sight);
	publish(st, size);
}

/* ---- the stage ---- */

static struct mirror **
mirror_slot(struct sm_stage *st, uint32_t slot)
{
	if (slot >= st->nslots) {
		size_t n = st->nslots * 2 > slot ? st->nslots * 2 : (size_t)slot + 1024;
		struct mirror **b = realloc(st->by_slot, n * sizeof(*b));
		if (b == NULL)
			return NULL;
		memset(b + st->nslots, 0, (n - st->nslots) * sizeof(*b));
		st->by_slot = b;
		st->nslots = n;
	}
	return &st->by_slot[slot];
}

static enum sm_err
fail(struct sm_stage *st, enum sm_err e)
{
	int none = SM_OK;
	atomic_compare_exchange_strong(&st->err, &none, (int)e);
	return e;
}

/* Takes the state s stood in from the reading thread, keeping the payload
 * results the stage holds in m. */
static void
mirror_update(struct mirror *m, const struct sm_session *s)
{
	struct sm_session now = *s;
	sm_session_move_payload(&now, &m->s);
	now.sight = NULL;
	m->s = now;
}

/* A session's copy, made at its first packet: its key, and the payload results
 * as a new session has them (none). */
static struct mirror *
mirror_new(struct sm_stage *st, const struct item_packet *it)
{
	struct mirror *m = st->spare;
	if (m != NULL)
		st->spare = m->next;
	else if ((m = malloc(sizeof(*m))) == NULL)
		return NULL;
	memset(m, 0, sizeof(*m));
	m->s.uid = it->uid;
	sm_session_set_key(&m->s, &it->key);
	struct mirror **slot = mirror_slot(st, it->slot);
	if (slot == NULL) {
		m->next = st->spare;
		st->spare = m;
		return NULL;
	}
	*slot = m;
	return m;
}

static void
on_packet(struct sm_stage *st, struct item_packet *it)
{
	struct mirror *m = it->slot < st->nslots ? st->by_slot[it->slot] : NULL;
	if (m == NULL && (m = mirror_new(st, it)) == NULL) {
		sm_error(&st->eb, SM_ERR_NOMEM, "out of memory in the payload checks");
		fail(st, SM_ERR_NOMEM);
		return;
	}
	if (m->s.uid != it->uid) { /* a slot taken again before its session left */
		sm_error(&st->eb, SM_ERR_INTERNAL,
		         "payload thread: session %llu in slot %u of %llu",
		         (unsigned long long)it->uid, it->slot, (unsigned long long)m->s.uid);
		fail(st, SM_ERR_INTERNAL);
		return;
	}
	m->s.pkts[0] = it->pkts[0];
	m->s.pkts[1] = it->pkts[1];
	m->s.syn_seen = it->syn_seen;
	struct sm_packet p;
	memset(&p, 0, offsetof(struct sm_packet, nouter));
	p.ts_ns = it->ts_ns;
	p.src.family = it->family;
	p.seq = it->seq;
	p.payload_len = it->payload_len;
	p.payload_caplen = it->payload_caplen;
	const uint8_t *bytes = (const uint8_t *)(it + 1);
	p.l3 = it->l3_len > 0 ? bytes : NULL;
	p.l3_caplen = it->l3_len;
	if (it->pl_off >= 0)
		p.payload = bytes + it->pl_off;
	else if (it->pl_len > 0)
		p.payload = bytes + it->l3_len;
	if (st->o.packet(st->o.ctx, &m->s, it->dir, &p))
		atomic_store_explicit(&st->settled[it->uid % SETTLED_SLOTS], it->uid,
		                      memory_order_relaxed);
}

static void
on_done(struct sm_stage *st, struct item_done *it)
{
	struct mirror **slot = it->s.slot < st->nslots ? &st->by_slot[it->s.slot] : NULL;
	struct mirror *m = slot != NULL ? *slot : NULL;
	struct sm_session *s = &it->s;
	if (m != NULL) { /* its payload results, where they were worked on */
		mirror_update(m, &it->s);
		s = &m->s;
	} else {
		s->app_detail = NULL; /* the reading thread's stays its own */
	}
	s->sight = it->sight_len > 0 ? (struct sm_sightings *)(it + 1) : NULL;
	if (atomic_load(&st->err) == SM_OK) {
		enum sm_err e = st->o.done(st->o.ctx, s, &st->eb);
		if (e != SM_OK)
			fail(st, e);
	}
	if (m != NULL) {
		*slot = NULL;
		free(m->s.app_detail);
		m->next = st->spare;
		st->spare = m;
	}
}

/* Works through one buffer; false after the end item. */
static bool
work(struct sm_stage *st, const struct buf *b)
{
	for (size_t at = 0; at < b->used;) {
		struct item *it = (struct item *)(b->data + at);
		if (it->type == IT_PACKET && atomic_load(&st->err) == SM_OK)
			on_packet(st, (struct item_packet *)it);
		else if (it->type == IT_DONE)
			on_done(st, (struct item_done *)it);
		else if (it->type == IT_END)
			return false;
		at += it->size;
	}
	return true;
}

static void *
run(void *arg)
{
	struct sm_stage *st = arg;
	for (bool more = true; more;) {
		pthread_mutex_lock(&st->mu);
		while (st->nfilled == 0)
			pthread_cond_wait(&st->filled_cv, &st->mu);
		struct buf *b = &st->bufs[st->filled[st->first_filled]];
		st->first_filled = (st->first_filled + 1) % NBUFS;
		st->nfilled--;
		pthread_mutex_unlock(&st->mu);
		more = work(st, b);
		pthread_mutex_lock(&st->mu);
		st->free_bufs[st->nfree++] = b;
		pthread_cond_signal(&st->free_cv);
		pthread_mutex_unlock(&st->mu);
	}
	return NULL;
}

enum sm_err
sm_stage_start(struct sm_stage **out, const struct sm_stage_opts *o, struct sm_errbuf *eb)
{
	*out = NULL;
	struct sm_stage *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory starting the payload thread");
	st->o = *o;
	st->sight_len = o->nsensors > 1 ? sizeof(struct sm_sightings) +
	                                      (size_t)o->nsensors * 2 * sizeof(struct sm_sighting)
	                                : 0;
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->filled_cv, NULL);
	pthread_cond_init(&st->free_cv, NULL);
	bool ok = true;
	for (size_t i = 0; i < NBUFS; i++) {
		ok = ok && (st->bufs[i].data = malloc(BUF_BYTES)) != NULL;
		st->bufs[i].cap = BUF_BYTES;
		if (i > 0)
			st->free_bufs[st->nfree++] = &st->bufs[i];
	}
	st->cur = &st->bufs[0];
	if (!ok) {
		sm_stage_stop(st, NULL);
		return sm_error(eb, SM_ERR_NOMEM, "out of memory starting the payload thread");
	}
	/* The stage's allocations come from an arena of their own, which glibc
	 * shrinks and grows again with every session otherwise: keep what is freed. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	int rc = pthread_create(&st->thread, NULL, run, st);
	if (rc != 0) {
		sm_stage_stop(st, NULL);
		return sm_error(eb, SM_ERR_NOMEM, "cannot start the payload thread: %s",
		                strerror(rc));
	}
	pthread_setname_np(st->thread, "smaudit-stage");
	st->started = true;
	*out = st;
	return SM_OK;
}

enum sm_err
sm_stage_error(const struct sm_stage *st)
{
	return (enum sm_err)atomic_load_explicit(&st->err, memory_order_relaxed);
}

enum sm_err
sm_stage_stop(struct sm_stage *st, struct sm_errbuf *eb)
{
	if (st == NULL)
		return SM_OK;
	if (st->started) {
		struct item *it = (struct item *)reserve(st, sizeof(struct item));
		it->type = IT_END;
		it->size = sizeof(struct item);
		publish(st, sizeof(struct item));
		hand_over(st);
		pthread_join(st->thread, NULL);
	}
	enum sm_err e = (enum sm_err)atomic_load(&st->err);
	if (e != SM_OK && eb != NULL)
		*eb = st->err_is_reader ? st->reader_eb : st->eb;
	for (size_t i = 0; i < st->nslots; i++)
		if (st->by_slot[i] != NULL) {
			free(st->by_slot[i]->s.app_detail);
			free(st->by_slot[i]);
		}
	for (struct mirror *m = st->spare, *next; m != NULL; m = next) {
		next = m->next;
		free(m);
	}
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->filled_cv);
	pthread_cond_destroy(&st->free_cv);
	for (size_t i = 0; i < NBUFS; i++)
		free(st->bufs[i].data);
	free(st->by_slot);
	free(st);
	return e;
}
