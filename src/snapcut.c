#include "snapcut.h"

#include <stdlib.h>

#define SLOTS (2 * SM_SNAPCUT_MAX) /* open addressing, at most half full */

struct sm_snapcut {
	struct slot {
		uint8_t proto;       /* 0: empty */
		struct sm_addr a, b; /* a sorts first */
		uint64_t n;
	} slot[SLOTS];
	size_t used;
};

struct sm_snapcut *
sm_snapcut_new(void)
{
	return calloc(1, sizeof(struct sm_snapcut));
}

void
sm_snapcut_free(struct sm_snapcut *c)
{
	free(c);
}

void
sm_snapcut_add(struct sm_snapcut *c, uint8_t proto, const struct sm_addr *a,
               const struct sm_addr *b)
{
	if (proto == 0)
		return;
	if (sm_addr_cmp(a, b) > 0) {
		const struct sm_addr *t = a;
		a = b;
		b = t;
	}
	uint32_t h = (sm_addr_hash(a, proto) * 31u + sm_addr_hash(b, proto)) % SLOTS;
	for (;;) {
		struct slot *s = &c->slot[h];
		if (s->proto == 0) {
			if (c->used == SM_SNAPCUT_MAX)
				return;
			*s = (struct slot){proto, *a, *b, 1};
			c->used++;
			return;
		}
		if (s->proto == proto && sm_addr_eq(&s->a, a) && sm_addr_eq(&s->b, b)) {
			s->n++;
			return;
		}
		h = (h + 1) % SLOTS;
	}
}

bool
sm_snapcut_each(const struct sm_snapcut *c,
                bool (*fn)(void *ctx, uint8_t proto, const struct sm_addr *a,
                           const struct sm_addr *b, uint64_t n),
                void *ctx)
{
	for (size_t i = 0; i < SLOTS; i++)
		if (c->slot[i].proto != 0 &&
		    !fn(ctx, c->slot[i].proto, &c->slot[i].a, &c->slot[i].b, c->slot[i].n))
			return false;
	return true;
}
