/*
 * policy_attempt: the outcome of one session (what it says about the path it
 * tried) and the unanswered attempts an expected flow remembers
 * (struct sm_attempt in policy.h).  Internal to the policy module.
 */
#ifndef SMAUDIT_POLICY_ATTEMPT_H
#define SMAUDIT_POLICY_ATTEMPT_H

#include <stdbool.h>

#include "smaudit/policy.h"
#include "smaudit/session.h"

enum sm_outcome { SM_OUTCOME_OK, SM_OUTCOME_REJECTED, SM_OUTCOME_NO_ANSWER, SM_OUTCOME_ONE_WAY };

/* A TCP handshake answered and never acknowledged: the initiator sent only SYNs
 * (no ACK, no data, no reset) and the responder a SYN-ACK. */
bool sm_outcome_answer_lost(const struct sm_session *s);
/* A SYN-ACK of a SYN not in the session, the initiator's reset its only answer
 * (^hR): the answer came after the initiator had given up its attempt. */
bool sm_outcome_answer_refused(const struct sm_session *s);
/* A TCP handshake answered, whose initiator sent its SYN more than once and then
 * reset the SYN-ACK, never acknowledging it: the answer came too late. */
bool sm_outcome_answer_reset(const struct sm_session *s);
/* A TCP handshake answered only by bare ACKs (no SYN-ACK, no reset): a challenge
 * ACK (RFC 5961) from the responder or a firewall holding an older connection. */
bool sm_outcome_bare_acked(const struct sm_session *s);
/* A TCP handshake whose responder sent resets that do not acknowledge the SYN (no
 * ACK, or another number), which the initiator in SYN-SENT drops (RFC 9293
 * 3.10.7.3), and no answer. */
bool sm_outcome_rst_ignored(const struct sm_session *s);
/* What s says about the path it tried. */
enum sm_outcome sm_outcome_of(const struct sm_session *s);
/* A TCP conversation opened before the capture (no SYN of it seen) that a reset
 * ended, from either side, none of them shaped as the refusal of a SYN: no
 * attempt, so no refused or one-way one, whatever sm_outcome_of says. */
bool sm_outcome_under_way(const struct sm_session *s);
/* Whether s goes on with an unanswered attempt e remembers: then the attempt is
 * forgotten and uncounted, and s counts with outcome *o (which a reply, echo or
 * UDP, after its request's session ended turns to ok). */
bool sm_attempt_continues(struct sm_expect_entry *e, const struct sm_session *s,
                          enum sm_outcome *o);
/* Remembers s, an unanswered attempt of e (the oldest goes when all are taken). */
void sm_attempt_remember(struct sm_expect_entry *e, const struct sm_session *s);

#endif
