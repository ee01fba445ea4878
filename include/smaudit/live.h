/*
 * live: audits a live interface (span/mirror port) for minutes to days.
 * Opens the interface, the database, the report file and the raw-packet ring
 * as root, drops privileges, then runs the pipeline until --duration or a stop
 * request.  Meanwhile it logs each problem once as soon as it shows (an
 * expected SYN unanswered, a reject, unexpected traffic, capture drops),
 * checkpoints open sessions to SQLite and writes interim reports.
 */
#ifndef SMAUDIT_LIVE_H
#define SMAUDIT_LIVE_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "smaudit/audit.h"
#include "smaudit/capture.h"
#include "smaudit/err.h"
#include "smaudit/report.h"

struct sm_live_run_opts {
	struct sm_live_opts capture;
	const char *bpf;
	struct sm_pipeline_opts pipeline; /* mode, on_session and ctx are set by live */
	double duration_s;                /* 0 = until stopped */
	unsigned checkpoint_s;            /* open sessions to SQLite this often; 0 = 10 */
	unsigned report_every_s;          /* 0 = only the final report */
	unsigned alert_after_s;           /* an expected SYN unanswered this long is logged */
	const char *output;               /* report file; NULL = stdout */
	enum sm_format format;
	bool status;            /* a status line on stderr (a terminal) */
	bool json_lines;        /* findings as JSON lines on stdout, no report there */
	const char *user;       /* -Z; NULL = default */
	const char *chroot_dir; /* NULL = none */
	volatile sig_atomic_t *stop;
	sm_warn_fn warn;
	void *warn_ctx;
};

/* Runs until the duration ends or *stop is set; the final report is written
 * (to output, or stdout unless json_lines) and *sum says what it found. */
enum sm_err sm_live_run(const struct sm_live_run_opts *o, int64_t *run_id,
                        struct sm_report_summary *sum, struct sm_errbuf *eb);

#endif
