/*
 * stage: the second half of an offline run on a thread of its own.
 * The reading thread decodes packets, keeps the session table and runs the
 * payload checks (libnids stays on that one thread); this thread runs, for
 * every session that leaves the table, policy and the store, in the very order
 * one thread would.  A session crosses as a copy (all of it, its sightings and
 * its payload detail) in a bounded set of buffers, so nothing the reading
 * thread owns is shared, and no packet crosses: where cores share little
 * cache, moving packets to another core costs more than working on them (the
 * README's performance section has the measurements).  The report, JSON and
 * database rows are those of one thread (tests/scripts/threads.sh).
 *
 * One producer (the reading thread) and one consumer (the stage).
 */
#ifndef SMAUDIT_STAGE_H
#define SMAUDIT_STAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "smaudit/err.h"
#include "smaudit/session.h"

/* Session s left the table, the payload checks done with it; s (its sightings
 * and detail too) is valid during the call only.  Returns what the run should
 * stop at (SM_OK: go on), with its message in eb. */
typedef enum sm_err (*sm_stage_done_fn)(void *ctx, struct sm_session *s, struct sm_errbuf *eb);

struct sm_stage_opts {
	uint8_t nsensors; /* for the size of a session's sightings (0 or 1: none) */
	sm_stage_done_fn done;
	void *ctx;
};

struct sm_stage;

/* Starts the thread.  *out is stopped and freed by sm_stage_stop(). */
enum sm_err sm_stage_start(struct sm_stage **out, const struct sm_stage_opts *o,
                           struct sm_errbuf *eb);
/* Queues s, which leaves the table now. */
void sm_stage_done(struct sm_stage *st, const struct sm_session *s);
/* The first error of the stage's thread (SM_OK while none): the reading thread
 * stops at it.  The message is in the errbuf sm_stage_stop() fills. */
enum sm_err sm_stage_error(const struct sm_stage *st);
/* Waits until everything queued is done, ends the thread and frees st (NULL:
 * nothing).  Returns the stage's first error with its message in eb. */
enum sm_err sm_stage_stop(struct sm_stage *st, struct sm_errbuf *eb);

#endif
