/*
 * audit: wires the pipeline of one run:
 * capture -> decode -> session -> policy -> store,
 * for capture files (sm_audit_run) and, through sm_pipeline_*, for live mode.
 * Owns nothing beyond the run; the store it returns holds everything the
 * report needs.  A stop request (Ctrl-C) ends reading early and the run is
 * stored as "interrupted" with everything read so far.
 */
#ifndef SMAUDIT_AUDIT_H
#define SMAUDIT_AUDIT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "smaudit/capture.h"
#include "smaudit/decode.h"
#include "smaudit/err.h"
#include "smaudit/policy.h"
#include "smaudit/rules.h"
#include "smaudit/session.h"
#include "smaudit/site.h"
#include "smaudit/store.h"

/* ---- the pipeline of one run, shared by audit and live ---- */

/* Called with every session that leaves the table, after it was classified. */
typedef void (*sm_pipeline_session_fn)(void *ctx, const struct sm_session *s,
                                       const struct sm_classification *c);

/* The time window packets are read in (audit --from/--until): a packet outside
 * it counts for nothing.  An end not given (has_from/has_until false) is open. */
struct sm_window {
	bool has_from, has_until;
	int64_t from_ns, until_ns; /* UNIX time in nanoseconds */
};

struct sm_pipeline_opts {
	const char *mode;    /* runs.mode: "audit" or "live" */
	const char *db_path; /* NULL = in-memory */
	const struct sm_rules *rules;
	const struct sm_site *site;
	const char *rules_path; /* for the run record */
	struct sm_session_opts sessions;
	struct sm_decoder_opts decoder;
	sm_pipeline_session_fn on_session; /* may be NULL */
	void *ctx;
	bool no_payload; /* skip stream reassembly and protocol checks */
	/* Threads of an offline run: 2 or more puts the payload checks, policy and
	 * store on a thread of their own (stage.h), with the same results; 0 or 1:
	 * everything on the caller's.  Live runs and checkpoints use one. */
	unsigned threads;
	const char *filter; /* -f as given, for the run record (the capture applies it) */
	bool strict;        /* intermittent failures are findings */
	/* The time window packets were read in, recorded with the run (counters
	 * SM_COUNTER_WINDOW_*) for the report to show. */
	struct sm_window window;
	/* Closed sessions kept in memory while the database is unavailable (live);
	 * 0 = a database error ends the run.  db_busy_ms: how long one try waits for
	 * another process's lock (0 = 5000 ms). */
	size_t db_backlog;
	int db_busy_ms;
	/* Sensors (capture points, SPEC section 7): their names, the sensor of each
	 * capture input (sm_source_info.input; NULL = all sensor 0) and their clocks
	 * (NULL = not estimated).  nsensors 0 or 1: one, no sightings. */
	const char *const *sensor_names;
	size_t nsensors;
	const uint8_t *sensor_of_input;
	const struct sm_sensor_row *sensor_clocks;
};

struct sm_pipeline;

/* Opens the store and starts run rows for packets of cap (borrowed: it must
 * outlive the pipeline).  *out is freed with sm_pipeline_free(). */
enum sm_err sm_pipeline_open(struct sm_pipeline **out, const struct sm_pipeline_opts *o,
                             struct sm_capture *cap, struct sm_errbuf *eb);
/* Accounts one packet; an error (out of memory, database) ends the run. */
enum sm_err sm_pipeline_packet(struct sm_pipeline *pl, const struct sm_raw_packet *raw,
                               struct sm_errbuf *eb);
/* Moves the session clock to now_ns without a packet (a quiet live link). */
void sm_pipeline_tick(struct sm_pipeline *pl, int64_t now_ns);
/* Writes what the run knows so far, open sessions included, as one transaction
 * (status stays "running"); the next checkpoint or the end replaces it.  A
 * database error (SM_ERR_DB) rolls it back; with opts.db_backlog the closed
 * sessions waiting are kept and the next checkpoint tries them again. */
enum sm_err sm_pipeline_checkpoint(struct sm_pipeline *pl, struct sm_errbuf *eb);
/* Ends the run: every session leaves the table, verdicts and findings are
 * stored and the run is marked complete or interrupted.  After a database
 * error (SM_ERR_DB) it may be called again: the sessions left the table once. */
enum sm_err sm_pipeline_finish(struct sm_pipeline *pl, bool interrupted, struct sm_errbuf *eb);
/* Database errors the run waited out, and for how long in all (stored with the
 * run's counters by the next checkpoint or the end). */
void sm_pipeline_set_db_fault(struct sm_pipeline *pl, uint64_t faults, uint64_t unavailable_ms);
void sm_pipeline_set_dropped(struct sm_pipeline *pl, uint64_t dropped);
/* The run stopped at -c COUNT packets with more to read (SM_COUNTER_STOPPED_AT). */
void sm_pipeline_set_stopped_at(struct sm_pipeline *pl, uint64_t count);
int64_t sm_pipeline_run_id(const struct sm_pipeline *pl);
const struct sm_run_row *sm_pipeline_totals(const struct sm_pipeline *pl);
struct sm_session_table *sm_pipeline_sessions(struct sm_pipeline *pl);
const struct sm_policy *sm_pipeline_policy(const struct sm_pipeline *pl);
struct sm_store *sm_pipeline_store(struct sm_pipeline *pl);
/* Hands the store to the caller (who closes it); the pipeline no longer uses it. */
struct sm_store *sm_pipeline_take_store(struct sm_pipeline *pl);
void sm_pipeline_free(struct sm_pipeline *pl);

/* ---- offline audit of capture files ---- */

struct sm_audit_opts {
	const char *const *inputs;
	size_t ninputs;
	const char *bpf;
	struct sm_pipeline_opts pipeline; /* mode is set by the audit */
	bool progress;                    /* a progress line on stderr */
	uint64_t count;                   /* -c: stop after this many packets; 0 = all */
	const char *mode;                 /* runs.mode: NULL = "audit" ("combine") */
	volatile sig_atomic_t *stop;
	sm_warn_fn warn;
	void *warn_ctx;
};

/* Packets outside o->pipeline.window are skipped:
 * they count for nothing, neither packets nor sessions.
 * On success *store (owned by the caller) holds run *run_id. */
enum sm_err sm_audit_run(const struct sm_audit_opts *o, struct sm_store **store, int64_t *run_id,
                         struct sm_errbuf *eb);

#endif
