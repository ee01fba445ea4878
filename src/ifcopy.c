/*
 * ifcopy: the second copy of a packet in a Linux "any" capture (ifcopy.h).
 */
#include "ifcopy.h"

#include <stdlib.h>
#include <string.h>

/* No interface named (SLL): the same packet again so soon is a copy. */
#define IFINDEX_NONE UINT32_MAX

struct slot {
	uint64_t key; /* 0: empty */
	int64_t ts_ns;
	uint32_t ifindex;
};

struct sm_ifcopy {
	struct slot slot[SM_IFCOPY_SLOTS];
	uint64_t copies;
};

void
sm_ifcopy_free(struct sm_ifcopy *c)
{
	free(c);
}

uint64_t
sm_ifcopy_count(const struct sm_ifcopy *c)
{
	return c != NULL ? c->copies : 0;
}

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/* What two copies of one packet share: all but the TTL (and the checksum it
 * changes) and the link layer. */
static uint64_t
packet_key(const struct sm_packet *p)
{
	uint64_t h = mix(0x5eed, (uint64_t)p->sensor << 8 | p->src.family);
	uint64_t a[4];
	memcpy(a, p->src.a, 16);
	memcpy(a + 2, p->dst.a, 16);
	for (int i = 0; i < 4; i++)
		h = mix(h, a[i]);
	h = mix(h, (uint64_t)p->proto << 48 | (uint64_t)p->ip_id << 32 | p->ip_len);
	h = mix(h, (uint64_t)p->sport << 48 | (uint64_t)p->dport << 32 | p->payload_len);
	h = mix(h, (uint64_t)p->seq << 32 | p->ack);
	h = mix(h, (uint64_t)p->tcp_flags << 40 | (uint64_t)p->icmp_type << 32 |
	               (uint64_t)p->icmp_code << 16 | p->icmp_id);
	return h != 0 ? h : 1;
}

bool
sm_ifcopy_packet(struct sm_ifcopy **cp, const struct sm_raw_packet *raw,
                 const struct sm_packet *pkt)
{
	const uint8_t *d = raw->data;
	uint32_t ifindex;
	if (raw->linktype == SM_DLT_LINUX_SLL && raw->caplen >= 16) {
		ifindex = IFINDEX_NONE;
	} else if (raw->linktype == SM_DLT_LINUX_SLL2 && raw->caplen >= 20) {
		ifindex = (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 | (uint32_t)d[6] << 8 | d[7];
	} else {
		return false;
	}
	if (*cp == NULL && (*cp = calloc(1, sizeof(**cp))) == NULL)
		return false;
	struct sm_ifcopy *c = *cp;
	uint64_t key = packet_key(pkt);
	struct slot *s = &c->slot[key & (SM_IFCOPY_SLOTS - 1)];
	if (s->key == key && raw->ts_ns >= s->ts_ns &&
	    raw->ts_ns - s->ts_ns <= SM_IFCOPY_WINDOW_NS &&
	    (ifindex == IFINDEX_NONE || ifindex != s->ifindex)) {
		c->copies++; /* the first copy stays: a third interface may see it too */
		return true;
	}
	*s = (struct slot){.key = key, .ts_ns = raw->ts_ns, .ifindex = ifindex};
	return false;
}
