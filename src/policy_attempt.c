/*
 * policy_attempt: what one session says about the path it tried (its outcome),
 * and the attempts of an expected flow.  An unanswered attempt is remembered, so
 * that a later session that goes on with it counts it once: the same SYN sent
 * again, or its answer after the attempt's session was pushed out of a full
 * table.  Internal to the policy module (policy.c).
 */
#include "policy_attempt.h"

#include <string.h>

/* A TCP handshake answered and never acknowledged: the initiator sent only SYNs
 * (no ACK, no data, no reset) and the responder a SYN-ACK.  The answer did not
 * reach the initiator (dropped on its way back, or an asymmetric route). */
bool
sm_outcome_answer_lost(const struct sm_session *s)
{
	return sm_session_synack_unheard(s) &&
	       (s->history_seen & SM_HIST_ORIG_BIT(SM_HIST_RST)) == 0;
}

/* A TCP handshake answered whose initiator, having sent its SYN again (the
 * SYN-ACKs did not reach it), reset the SYN-ACK instead of acknowledging it: its
 * connect() had given up before an answer got through (a route back after a
 * flap).  One SYN answered and reset at once is a port check: answered. */
bool
sm_outcome_answer_reset(const struct sm_session *s)
{
	return sm_session_synack_unheard(s) &&
	       (s->history_seen & SM_HIST_ORIG_BIT(SM_HIST_RST)) != 0;
}

/* A TCP handshake the responder answered only with what the initiator, still
 * sending SYNs, does not take for an answer: bare ACKs, resets that do not
 * acknowledge its SYN. */
static bool
unheard(const struct sm_session *s)
{
	return s->proto == SM_PROTO_TCP && s->syn_seen && !s->resp_answer && s->pkts[1] > 0 &&
	       ((s->history_seen & SM_HIST_RESP_BIT(SM_HIST_RST)) == 0 || s->rst_ignored);
}

bool
sm_outcome_bare_acked(const struct sm_session *s)
{
	return unheard(s) && (s->history_seen & SM_HIST_RESP_BIT(SM_HIST_RST)) == 0;
}

bool
sm_outcome_rst_ignored(const struct sm_session *s)
{
	return unheard(s) && s->rst_ignored;
}

bool
sm_outcome_under_way(const struct sm_session *s)
{
	uint16_t resets = SM_HIST_ORIG_BIT(SM_HIST_RST) | SM_HIST_RESP_BIT(SM_HIST_RST);
	return s->proto == SM_PROTO_TCP && !s->syn_seen && (s->history_seen & resets) != 0 &&
	       !s->rst_refusal && s->icmp_errors == 0;
}

/* (a connect() timed out while the SYN-ACKs were held back: nothing was opened) */
bool
sm_outcome_answer_refused(const struct sm_session *s)
{
	return s->proto == SM_PROTO_TCP && !s->syn_seen &&
	       (s->history_seen & SM_HIST_RESP_BIT(SM_HIST_SYN_ACK)) != 0 &&
	       (s->history_seen & SM_HIST_ORIG_ALL) == SM_HIST_ORIG_BIT(SM_HIST_RST) &&
	       s->payload[0] == 0 && s->payload[1] == 0;
}

/* What one session says about the path it tried. */
enum sm_outcome
sm_outcome_of(const struct sm_session *s)
{
	if (sm_outcome_answer_refused(s) || sm_session_synack_unheard(s))
		return SM_OUTCOME_NO_ANSWER;
	if (sm_session_established(s))
		return SM_OUTCOME_OK;
	if (s->icmp_errors > 0 || (s->proto == SM_PROTO_TCP && s->rst_from == 2 && !s->rst_ignored))
		return SM_OUTCOME_REJECTED;
	if (s->pkts[0] == 0)
		return SM_OUTCOME_ONE_WAY; /* only the responder's half is visible */
	if (s->pkts[1] == 0 || unheard(s)) {
		if (s->proto != SM_PROTO_TCP)
			return SM_OUTCOME_NO_ANSWER;
		/* An initiator that went on past its SYNs (ACKs, data, a FIN) had an
		 * answer: the connection works, the capture sees one half. */
		return s->syn_seen && !s->orig_past_syn ? SM_OUTCOME_NO_ANSWER : SM_OUTCOME_ONE_WAY;
	}
	return SM_OUTCOME_REJECTED; /* the responder sent only RSTs */
}

/* An attempt that can be answered in a later session: a TCP handshake (its SYN),
 * a UDP request (its reply may come after --udp-timeout ended its session) or an
 * ICMP echo request (its identifier is the session's port). */
static bool
is_attempt(const struct sm_session *s)
{
	if (s->proto == SM_PROTO_TCP)
		return s->syn_seen;
	if (s->proto == SM_PROTO_UDP)
		return s->pkts[0] > 0;
	return (s->proto == SM_PROTO_ICMP || s->proto == SM_PROTO_ICMP6) && s->icmp_id != 0 &&
	       !s->after_attempt;
}

/* Whether s goes on with an unanswered attempt already counted: the same SYN
 * sent again, or s opened past it (the attempt's session was pushed out of a
 * full table before the rest came): with a SYN-ACK acknowledging its ISN when
 * the handshake then completed (*o is ok), with the initiator's next segment
 * (ok, or one-way in a capture of one direction), with an echo reply of its
 * identifier (the request and its reply: *o becomes ok), or with a refusal (*o
 * is rejected: a RST acknowledging its ISN, an ICMP error quoting its flow).
 * The attempt is forgotten (and uncounted) then, and s counts with outcome *o. */
bool
sm_attempt_continues(struct sm_expect_entry *e, const struct sm_session *s, enum sm_outcome *o)
{
	bool tcp = s->proto == SM_PROTO_TCP;
	bool error_only = s->pkts[0] + s->pkts[1] == 0; /* an ICMP error, no ISN known */
	bool past = false;
	if (s->after_attempt && *o == SM_OUTCOME_REJECTED)
		past = true;
	else if (s->after_attempt && tcp)
		past = *o == SM_OUTCOME_OK || (!s->flipped && *o == SM_OUTCOME_ONE_WAY);
	else if (s->proto == SM_PROTO_UDP) /* a reply after its request's session ended */
		past = *o == SM_OUTCOME_ONE_WAY && s->pkts[0] == 0;
	else if (s->after_attempt)
		past = s->icmp_id != 0 && *o == SM_OUTCOME_ONE_WAY;
	if (!(tcp && s->syn_seen && !s->flipped) && !past)
		return false;
	for (uint8_t i = 0; i < e->nunanswered; i++) {
		const struct sm_attempt *a = &e->unanswered[i];
		if ((!tcp || error_only || a->isn == s->syn_seq) && a->sport == s->sport &&
		    sm_addr_eq(&a->src, &s->src) && sm_addr_eq(&a->dst, &s->dst)) {
			e->answer_lost -= a->answer_lost;
			e->bare_acked -= a->bare_acked;
			e->unanswered[i] = e->unanswered[--e->nunanswered];
			e->no_answer--;
			if (past && !tcp && *o == SM_OUTCOME_ONE_WAY)
				*o = SM_OUTCOME_OK; /* the request (echo, datagram) and its reply */
			return true;
		}
	}
	return false;
}

void
sm_attempt_remember(struct sm_expect_entry *e, const struct sm_session *s)
{
	if (!is_attempt(s))
		return;
	const size_t n = sizeof(e->unanswered) / sizeof(e->unanswered[0]);
	if (e->nunanswered == n) { /* forget the oldest */
		memmove(&e->unanswered[0], &e->unanswered[1], (n - 1) * sizeof(e->unanswered[0]));
		e->nunanswered--;
	}
	struct sm_attempt *a = &e->unanswered[e->nunanswered++];
	a->src = s->src;
	a->dst = s->dst;
	a->sport = s->sport;
	a->isn = s->syn_seq;
	a->answer_lost = sm_outcome_answer_lost(s);
	a->bare_acked = sm_outcome_bare_acked(s);
}
