/*
 * capture_order: a source's records put back in time order.  A capture of two
 * NICs (a TAP's two ports) is written as each NIC's buffer is flushed, so a
 * packet can come after packets taken later.  Once a source shows that, its
 * packets are copied into a queue sorted by time and handed on only when the
 * source has been read ORDER_WINDOW_NS past them, or the queue holds
 * ORDER_MAX_BYTES; an in-order source never comes here and costs no copy.
 */
#include "capture_int.h"

#include <stdlib.h>
#include <string.h>

struct held {
	struct lpcap_hdr hdr;
	uint8_t data[];
};

struct order {
	struct held **q; /* circular, sorted by time (equal times in reading order) */
	size_t head, n, cap;
	size_t bytes;
	int64_t newest;   /* the latest time read */
	struct held *out; /* handed on last: alive until the next pop */
};

struct order *
order_new(void)
{
	struct order *o = calloc(1, sizeof(*o));
	if (o != NULL)
		o->newest = INT64_MIN;
	return o;
}

void
order_free(struct order *o)
{
	if (o == NULL)
		return;
	for (size_t i = 0; i < o->n; i++)
		free(o->q[(o->head + i) % o->cap]);
	free(o->q);
	free(o->out);
	free(o);
}

static struct held **
slot(const struct order *o, size_t i)
{
	return &o->q[(o->head + i) % o->cap];
}

static bool
grow(struct order *o)
{
	size_t cap = o->cap ? o->cap * 2 : 256;
	struct held **q = malloc(cap * sizeof(*q));
	if (q == NULL)
		return false;
	for (size_t i = 0; i < o->n; i++)
		q[i] = *slot(o, i);
	free(o->q);
	o->q = q;
	o->cap = cap;
	o->head = 0;
	return true;
}

bool
order_push(struct order *o, const struct lpcap_hdr *hdr, const uint8_t *data)
{
	if (o->n == o->cap && !grow(o))
		return false;
	struct held *h = malloc(sizeof(*h) + hdr->caplen);
	if (h == NULL)
		return false;
	h->hdr = *hdr;
	memcpy(h->data, data, hdr->caplen);
	/* from the newest end: a late packet is seldom far from its place */
	size_t i = o->n;
	while (i > 0 && (*slot(o, i - 1))->hdr.ts_ns > hdr->ts_ns) {
		*slot(o, i) = *slot(o, i - 1);
		i--;
	}
	*slot(o, i) = h;
	o->n++;
	o->bytes += hdr->caplen;
	if (hdr->ts_ns > o->newest)
		o->newest = hdr->ts_ns;
	return true;
}

bool
order_full(const struct order *o)
{
	if (o->n == 0)
		return false;
	int64_t held; /* how long the queue spans; times from a damaged file may be far apart */
	if (__builtin_sub_overflow(o->newest, (*slot(o, 0))->hdr.ts_ns, &held))
		return true;
	return held >= ORDER_WINDOW_NS || o->bytes >= ORDER_MAX_BYTES;
}

int64_t
order_newest(const struct order *o)
{
	return o->newest;
}

bool
order_pop(struct order *o, struct lpcap_hdr *hdr, const uint8_t **data)
{
	free(o->out);
	o->out = NULL;
	if (o->n == 0)
		return false;
	o->out = *slot(o, 0);
	o->head = (o->head + 1) % o->cap;
	o->n--;
	o->bytes -= o->out->hdr.caplen;
	*hdr = o->out->hdr;
	*data = o->out->data;
	return true;
}
