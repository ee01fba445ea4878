/*
 * stage: policy and store of an offline run on a second thread (stage.h).
 * Buffers of copies carry the sessions that leave the table from the reading
 * thread, their only producer, one lock and one wake-up a buffer.  A session
 * crosses whole, with its sightings and what the payload checks read of it.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "smaudit/stage.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum item_type { IT_DONE, IT_END };

struct item {
	uint32_t type, size; /* size: of the whole item, a multiple of 8 */
};

/* A session leaving the table; its sightings, then its detail (with its NUL),
 * follow. */
struct item_done {
	struct item h;
	uint32_t sight_len, detail_len;
	struct sm_session s;
};

/* Work crosses in whole buffers: one lock and one wake-up per buffer, not per
 * item.  Small enough to stay in the caches; a buffer grows for an item larger
 * than it. */
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
				         "out of memory queueing a session");
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
sm_stage_done(struct sm_stage *st, const struct sm_session *s)
{
	uint32_t sight = s->sight != NULL ? (uint32_t)st->sight_len : 0;
	uint32_t detail = s->app_detail != NULL ? (uint32_t)strlen(s->app_detail) + 1 : 0;
	size_t size = round8(sizeof(struct item_done) + sight + detail);
	struct item_done *it = (struct item_done *)reserve(st, size);
	if (it == NULL)
		return;
	it->h.type = IT_DONE;
	it->h.size = (uint32_t)size;
	it->sight_len = sight;
	it->detail_len = detail;
	memcpy(&it->s, s, sizeof(*s));
	if (sight > 0)
		memcpy(it + 1, s->sight, sight);
	if (detail > 0)
		memcpy((char *)(it + 1) + sight, s->app_detail, detail);
	publish(st, size);
}

/* ---- the stage ---- */

static enum sm_err
fail(struct sm_stage *st, enum sm_err e)
{
	int none = SM_OK;
	atomic_compare_exchange_strong(&st->err, &none, (int)e);
	return e;
}

static void
on_done(struct sm_stage *st, struct item_done *it)
{
	struct sm_session *s = &it->s;
	char *after = (char *)(it + 1);
	s->sight = it->sight_len > 0 ? (struct sm_sightings *)(void *)after : NULL;
	s->app_detail = it->detail_len > 0 ? after + it->sight_len : NULL;
	if (atomic_load(&st->err) == SM_OK) {
		enum sm_err e = st->o.done(st->o.ctx, s, &st->eb);
		if (e != SM_OK)
			fail(st, e);
	}
}

/* Works through one buffer; false after the end item. */
static bool
work(struct sm_stage *st, const struct buf *b)
{
	for (size_t at = 0; at < b->used;) {
		struct item *it = (struct item *)(b->data + at);
		if (it->type == IT_DONE)
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
		return sm_error(eb, SM_ERR_NOMEM,
		                "out of memory starting the policy and store thread");
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
		return sm_error(eb, SM_ERR_NOMEM,
		                "out of memory starting the policy and store thread");
	}
	/* The stage's allocations come from an arena of their own, which glibc
	 * shrinks and grows again with every session otherwise: keep what is freed. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	int rc = pthread_create(&st->thread, NULL, run, st);
	if (rc != 0) {
		sm_stage_stop(st, NULL);
		return sm_error(eb, SM_ERR_NOMEM, "cannot start the policy and store thread: %s",
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
	pthread_mutex_destroy(&st->mu);
	pthread_cond_destroy(&st->filled_cv);
	pthread_cond_destroy(&st->free_cv);
	for (size_t i = 0; i < NBUFS; i++)
		free(st->bufs[i].data);
	free(st);
	return e;
}
