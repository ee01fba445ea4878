/*
 * session_tcp: the TCP conversation inside a session, apart from the table
 * that holds it (session.c), as Zeek keeps its TCP analyzer apart from its
 * session manager.  Private to the session module: the table hands every TCP
 * segment to sm_tcp_packet() and asks whether a session is over.
 */
#ifndef SMAUDIT_SESSION_TCP_H
#define SMAUDIT_SESSION_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "smaudit/session.h"

#define SM_SEC 1000000000LL

/* Moves the conversation on with one segment of direction dir: endpoint
 * states, history, close, RST, gaps in the sequence space. */
void sm_tcp_packet(struct sm_session *s, int dir, const struct sm_packet *pkt);
/* A SYN that opens a new conversation on the 4-tuple of a finished one. */
bool sm_tcp_port_reuse(const struct sm_session *s, int dir, const struct sm_packet *pkt);
/* An attempt the responder left unanswered for Zeek's tcp_attempt_delay. */
bool sm_tcp_attempt_over(const struct sm_session *s, int64_t now);
/* A RST from either side, or a FIN from both. */
bool sm_tcp_closed(const struct sm_session *s);

#endif
