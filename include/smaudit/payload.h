/*
 * payload: what each TCP session speaks, from the first bytes of each side.
 * Feeds IPv4 streams to reasm (libnids), checks what libnids does not follow
 * itself (IPv6, one-sided captures, streams picked up mid-way) and watches
 * for a switch to TLS; writes the results into the session through
 * sm_session_set_app().  One checker per session table: not thread-safe.
 */
#ifndef SMAUDIT_PAYLOAD_H
#define SMAUDIT_PAYLOAD_H

#include "smaudit/decode.h"
#include "smaudit/reasm.h"
#include "smaudit/session.h"

struct sm_payload;

/* reasm: borrowed, outlives the checker; created with sm_payload_reasm_result
 * as its callback.  Returns NULL when out of memory. */
struct sm_payload *sm_payload_new(struct sm_reasm *reasm);
void sm_payload_free(struct sm_payload *pc);
/* One TCP packet of session s, sent from side dir (sm_session_packet's hit). */
void sm_payload_packet(struct sm_payload *pc, struct sm_session *s, int dir,
                       const struct sm_packet *pkt);
/* True when sm_payload_packet() would change nothing for any later packet of
 * s: both sides decided, no switch to TLS watched for.  It stays true. */
bool sm_payload_settled(const struct sm_session *s);
/* s leaves the table (the table's done callback): what its sides still wait
 * for is decided with what arrived. */
void sm_payload_done(struct sm_payload *pc, struct sm_session *s);
/* The sm_reasm_fn that puts what libnids recognised into the session. */
void sm_payload_reasm_result(void *ctx, struct sm_session *s, const struct sm_reasm_result *r);

#endif
