/*
 * audit: wires the pipeline for one offline run:
 * capture -> decode -> session -> policy -> store.
 * Owns nothing beyond the run; the store it returns holds everything the
 * report needs.  A stop request (Ctrl-C) ends reading early and the run is
 * stored as "interrupted" with everything read so far.
 */
#ifndef SMAUDIT_AUDIT_H
#define SMAUDIT_AUDIT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "smaudit/decode.h"
#include "smaudit/err.h"
#include "smaudit/rules.h"
#include "smaudit/session.h"
#include "smaudit/site.h"
#include "smaudit/store.h"

struct sm_audit_opts {
	const char *const *inputs;
	size_t ninputs;
	const char *bpf;
	const char *db_path; /* NULL = in-memory */
	const struct sm_rules *rules;
	const struct sm_site *site;
	const char *rules_path; /* for the run record */
	struct sm_session_opts sessions;
	struct sm_decoder_opts decoder;
	bool progress; /* a progress line on stderr */
	volatile sig_atomic_t *stop;
	sm_warn_fn warn;
	void *warn_ctx;
};

/* On success *store (owned by the caller) holds run *run_id. */
enum sm_err sm_audit_run(const struct sm_audit_opts *o, struct sm_store **store, int64_t *run_id,
                         struct sm_errbuf *eb);

#endif
