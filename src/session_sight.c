/*
 * session_sight: per-sensor sightings of a session and the copies of one packet
 * that several sensors saw (see session_sight.h).
 */
#include "session_sight.h"

#include <stdlib.h>
#include <string.h>

#include "smaudit/decode.h"

struct sm_sightings *
sm_sight_new(uint8_t nsensors)
{
	return calloc(1, sizeof(struct sm_sightings) +
	                     (size_t)nsensors * 2 * sizeof(struct sm_sighting));
}

static uint32_t
mix(uint32_t h, uint32_t v)
{
	h ^= v;
	h *= 0x01000193u; /* FNV-1a prime */
	return h ^ (h >> 15);
}

/* What identifies one packet on its way: never the TTL, which each hop lowers. */
static uint32_t
signature(const struct sm_packet *pkt)
{
	uint32_t h = mix(0x811c9dc5u, pkt->ip_len);
	h = mix(h, pkt->ip_id);
	h = mix(h, pkt->seq); /* a tunnel's carrier: those of the packet it carries */
	h = mix(h, pkt->ack);
	if (pkt->proto == SM_PROTO_TCP && pkt->l4_header)
		return mix(h, (uint32_t)pkt->tcp_flags << 16 | (pkt->payload_len & 0xffff));
	uint32_t n = pkt->payload_caplen < 16 ? pkt->payload_caplen : 16;
	for (uint32_t i = 0; i < n; i++)
		h = mix(h, pkt->payload[i]);
	return mix(h, (uint32_t)pkt->icmp_type << 8 | pkt->icmp_code);
}

/* Whether a sensor other than bit's saw this packet within the window and bit's
 * has not: then it is that packet's copy, and bit joins the sensors that saw it. */
static bool
seen_elsewhere(struct sm_sightings *g, int dir, uint32_t sig, uint8_t bit, int64_t ts)
{
	for (int k = 0; k < SM_SIGHT_RECENT; k++) {
		int i =
		    (g->next[dir] + SM_SIGHT_RECENT - 1 - k) % SM_SIGHT_RECENT; /* newest first */
		if (g->recent[dir][i].sensors == 0 || g->recent[dir][i].sig != sig)
			continue;
		int64_t d = ts - g->recent[dir][i].ts_ns;
		if (d > SM_SIGHT_WINDOW_NS || d < -SM_SIGHT_WINDOW_NS)
			continue;
		if (g->recent[dir][i].sensors & bit)
			continue; /* a retransmission at this sensor, unless an older copy fits */
		g->recent[dir][i].sensors |= bit;
		return true;
	}
	int i = g->next[dir];
	g->recent[dir][i].sig = sig;
	g->recent[dir][i].sensors = bit;
	g->recent[dir][i].ts_ns = ts;
	g->next[dir] = (uint8_t)((i + 1) % SM_SIGHT_RECENT);
	return false;
}

bool
sm_sight_packet(struct sm_sightings *g, int dir, const struct sm_packet *pkt)
{
	struct sm_sighting *a = &g->at[pkt->sensor * 2 + dir];
	uint32_t n = 1 + pkt->held_pkts;
	if (a->pkts == 0) {
		a->first_ns = pkt->ts_ns;
		a->ttl_min = a->ttl_max = pkt->ttl;
	}
	a->pkts += n;
	a->bytes += pkt->ip_len + pkt->held_bytes;
	if (pkt->ts_ns < a->first_ns)
		a->first_ns = pkt->ts_ns;
	if (pkt->ts_ns > a->last_ns)
		a->last_ns = pkt->ts_ns;
	if (pkt->ttl < a->ttl_min)
		a->ttl_min = pkt->ttl;
	if (pkt->ttl > a->ttl_max)
		a->ttl_max = pkt->ttl;
	if (pkt->proto == SM_PROTO_TCP && pkt->l4_header) {
		uint8_t f = pkt->tcp_flags;
		if (f & TH_RST) {
			if (a->rsts++ == 0)
				a->rst_ttl = pkt->ttl;
		} else if ((f & TH_SYN) && ((dir == 0) == !(f & TH_ACK))) {
			a->syns++;
		}
	}
	return seen_elsewhere(g, dir, signature(pkt), (uint8_t)(1u << pkt->sensor), pkt->ts_ns);
}

bool
sm_sight_icmp_error(struct sm_sightings *g, uint8_t nsensors, int dir, const struct sm_packet *pkt)
{
	uint32_t most = 0;
	for (uint8_t k = 0; k < nsensors; k++)
		if (k != pkt->sensor && g->at[k * 2 + dir].icmp_errors > most)
			most = g->at[k * 2 + dir].icmp_errors;
	return ++g->at[pkt->sensor * 2 + dir].icmp_errors > most;
}
