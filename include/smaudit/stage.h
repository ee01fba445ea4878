/*
 * stage: the second half of an offline run on a thread of its own.
 * The reading thread decodes packets and keeps the session table; this thread
 * runs what follows, in the very order one thread would: the payload checks of
 * TCP packets (libnids and the recognisers) and, for every session that leaves
 * the table, the last payload decisions, policy and the store.  Work crosses in
 * a bounded set of buffers of copies (of a packet: its bytes and what the checks
 * read of it and of its session; of a session that leaves: all of it), so nothing
 * the reading thread owns is shared; the stage keeps its own copy of each
 * session's payload results (sm_session_move_payload), by the session's slot in
 * the table, and joins them to the session's last state when it leaves.  The report, JSON and
 * database rows are those of one thread (tests/scripts/threads.sh).
 *
 * One producer (the reading thread) and one consumer (the stage).  A session
 * whose payload checks are settled (sm_payload_settled) is said so back through
 * a table of uids, and the reading thread stops copying its packets: the checks
 * would ignore them.
 */
#ifndef SMAUDIT_STAGE_H
#define SMAUDIT_STAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "smaudit/decode.h"
#include "smaudit/err.h"
#include "smaudit/session.h"

/* A TCP packet of session s (the stage's copy, stable until s leaves) from side
 * dir; returns true when s needs no more packets (its checks are settled). */
typedef bool (*sm_stage_packet_fn)(void *ctx, struct sm_session *s, int dir,
                                   const struct sm_packet *pkt);
/* Session s left the table, its payload results joined in; s is valid during the
 * call only.  Returns what the run should stop at (SM_OK: go on), with its
 * message in eb. */
typedef enum sm_err (*sm_stage_done_fn)(void *ctx, struct sm_session *s, struct sm_errbuf *eb);

struct sm_stage_opts {
	uint8_t nsensors; /* for the size of a session's sightings (0 or 1: none) */
	sm_stage_packet_fn packet;
	sm_stage_done_fn done;
	void *ctx;
};

struct sm_stage;

/* Starts the thread.  *out is stopped and freed by sm_stage_stop(). */
enum sm_err sm_stage_start(struct sm_stage **out, const struct sm_stage_opts *o,
                           struct sm_errbuf *eb);
/* Queues a TCP packet of s for the payload checks (nothing when s is settled). */
void sm_stage_packet(struct sm_stage *st, const struct sm_session *s, int dir,
                     const struct sm_packet *pkt);
/* Queues s, which leaves the table now. */
void sm_stage_done(struct sm_stage *st, const struct sm_session *s);
/* The first error of the stage's thread (SM_OK while none): the reading thread
 * stops at it.  The message is in the errbuf sm_stage_stop() fills. */
enum sm_err sm_stage_error(const struct sm_stage *st);
/* Waits until everything queued is done, ends the thread and frees st (NULL:
 * nothing).  Returns the stage's first error with its message in eb. */
enum sm_err sm_stage_stop(struct sm_stage *st, struct sm_errbuf *eb);

#endif
