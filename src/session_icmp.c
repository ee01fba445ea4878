/*
 * session_icmp: ICMP errors and the sessions they quote.  An error is counted in
 * the session of the packet it quotes; while that packet may still come (read out
 * of time order) it waits; a quote cut before its ports by a short snap length
 * refuses the latest attempt between its addresses.
 */
#include "session_int.h"
#include "session_sight.h"
#include "session_tcp.h" /* SM_SEC */

/* A redirect says the packet was forwarded, a source quench is ignored by hosts
 * (RFC 6633), "fragmentation needed" and "packet too big" are path MTU discovery
 * (RFC 1191, RFC 8201: the sender sends smaller, and no SYN is ever too big):
 * advice about the flow, no refusal of it. */
bool
session_icmp_advisory(const struct sm_packet *pkt)
{
	if (pkt->proto == SM_PROTO_ICMP6)
		return pkt->icmp_type == SM_ICMP6_PACKET_TOO_BIG;
	return pkt->icmp_type == SM_ICMP_REDIRECT || pkt->icmp_type == SM_ICMP_SOURCE_QUENCH ||
	       (pkt->icmp_type == SM_ICMP_UNREACH && pkt->icmp_code == SM_ICMP_FRAG_NEEDED);
}

void
session_attach_icmp_error(struct sm_session_table *t, const struct sm_packet *pkt,
                          struct sm_session *s, int dir)
{
	if (session_icmp_advisory(pkt)) {
		t->st.icmp_errors_attached++;
		return;
	}
	if (s->sight != NULL && !sm_sight_icmp_error(s->sight, t->opts.nsensors, dir, pkt))
		return; /* another sensor's copy of an error already counted */
	if (s->icmp_errors++ == 0) {
		s->icmp_err_type = pkt->icmp_type;
		s->icmp_err_code = pkt->icmp_code;
		s->icmp_err_ttl = pkt->ttl;
		s->icmp_err_from = pkt->src;
	}
	t->st.icmp_errors_attached++;
}

/* An ICMP error about a flow that has no session (its attempt unseen: a filter,
 * the capture's start, a sensor of one direction, or its session pushed out of
 * the full table) still names the packet it refuses.  It opens a session of the
 * quoted flow, with no packet of its own and the error attached (the policy then
 * judges that attempt rejected, never an ICMP conversation of the refuser's). */
bool
session_refused_flow(struct sm_session_table *t, const struct sm_packet *pkt, uint64_t parent)
{
	if (session_icmp_advisory(pkt))
		return true; /* refuses nothing: no session of its own */
	struct sm_packet flow;
	packet_beside(&flow, pkt);
	flow.vlan = pkt->vlan;
	flow.inner_vlan = pkt->inner_vlan;
	flow.proto = pkt->quote.proto;
	flow.src = pkt->quote.src;
	flow.dst = pkt->quote.dst;
	flow.sport = pkt->quote.sport;
	flow.dport = pkt->quote.dport;
	uint32_t idx = session_create(t, &flow, false, parent);
	if (idx == NIL)
		return false;
	struct sm_session *s = at(t, idx);
	s->after_attempt = true;
	s->touch_ns = t->now;
	session_attach_icmp_error(t, pkt, s, 1);
	return true;
}

/* Keeps an ICMP error whose quoted flow has no session for ERROR_HOLD_NS: false
 * when ERROR_HOLD_MAX wait already. */
bool
session_hold_error(struct sm_session_table *t, const struct sm_packet *pkt, uint64_t parent)
{
	if (t->nheld == ERROR_HOLD_MAX)
		return false;
	struct held_error *h = &t->held[t->nheld++];
	h->pkt = *pkt;
	h->parent = parent;
	uint32_t n = pkt->payload_caplen < sizeof(h->payload) ? pkt->payload_caplen
	                                                      : (uint32_t)sizeof(h->payload);
	if (n > 0)
		memcpy(h->payload, pkt->payload, n);
	h->pkt.payload = h->payload; /* what pkt pointed into is the reader's */
	h->pkt.payload_caplen = n;
	return true;
}

/* The attempt an ICMP error refuses whose quote was cut before the ports (a short
 * snap length: 64 bytes of Ethernet keep the quoted addresses, not the ports; of
 * Linux cooked headers, not even the destination): the latest TCP attempt from the
 * quoted source (the error's destination, RFC 792, when cut) to the quoted
 * destination if known, still without an answer, whose last SYN came at most 1 s
 * before the error, among the QUOTED_SCAN open TCP sessions touched last.  NIL if
 * none. */
#define QUOTED_SCAN 256
uint32_t
session_quoted_attempt(const struct sm_session_table *t, const struct sm_packet *pkt)
{
	const struct sm_quote *q = &pkt->quote;
	if (q->proto != SM_PROTO_TCP)
		return NIL;
	const struct sm_addr *src = q->src.family != 0 ? &q->src : &pkt->dst;
	uint32_t best = NIL;
	int n = 0;
	for (uint32_t i = t->lists[L_TCP_OPEN].tail; i != NIL && n < QUOTED_SCAN;
	     i = at(t, i)->lprev, n++) {
		const struct sm_session *s = at(t, i);
		if (!s->syn_seen || s->orig_past_syn || s->resp_answer ||
		    !sm_addr_eq(&s->src, src) ||
		    (q->dst.family != 0 && !sm_addr_eq(&s->dst, &q->dst)) ||
		    s->last_ns > pkt->ts_ns || !before(pkt->ts_ns, s->last_ns, SM_SEC + 1))
			continue;
		if (best == NIL || s->last_ns > at(t, best)->last_ns)
			best = i;
	}
	return best;
}
