/*
 * report: renders a stored run as text, JSON (docs/json.md), CSV or HTML.
 * Reads everything from the store, so `smaudit audit` and a later
 * `smaudit report --run N` print the same document.  Returns the summary
 * counts the exit status is made from.
 */
#ifndef SMAUDIT_REPORT_H
#define SMAUDIT_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "smaudit/err.h"
#include "smaudit/fmt.h"
#include "smaudit/store.h"

/* The most unexpected-traffic aggregates a report lists: beyond, the ones with the
 * most sessions, and a line saying how many more there are (each is a finding in
 * the database), so a scan from a million sources renders in bounded memory. */
#define SM_REPORT_UNEXPECTED_MAX 10000

struct sm_report_summary {
	uint64_t expected, ok, missing, optional_missing, unexpected, not_applicable;
	uint64_t mismatched;   /* protocol-mismatch findings */
	uint64_t filtered;     /* expected entries the capture filter hides */
	uint64_t intermittent; /* expect entries ok with some failed attempts */
	bool strict;           /* the run counts intermittent failures as findings */
	bool unfinished;       /* the run stopped without storing its end (killed, disk full) */
	bool nothing_read;     /* unfinished with no packet stored: nothing was judged */
};

/* A live run whose database failed and never came back (the run's stored
 * counters say the same of faults it waited out). */
struct sm_report_db_fault {
	bool never_back;
	uint64_t faults;
	double unavailable_s;
	uint64_t not_stored; /* closed sessions lost */
	char error[512];
};

/* What a report says beyond the stored run; NULL = neither. */
struct sm_report_style {
	const char *db_path; /* the database the run is in (HTML: the extract hint names
	                      * it), NULL = kept in memory: no hint */
	bool color;          /* text: ANSI colours for a terminal */
	const struct sm_report_db_fault *db; /* NULL: from the run's counters */
};

enum sm_err sm_report_render(struct sm_store *st, int64_t run_id, enum sm_format fmt,
                             const struct sm_report_style *style, FILE *out,
                             struct sm_report_summary *sum, struct sm_errbuf *eb);
/* An error (exit 3) naming the busiest addresses when the run's capture shows not
 * one address of the site: the site file or the capture is the wrong one. */
enum sm_err sm_report_check_site_seen(struct sm_store *st, int64_t run_id, struct sm_errbuf *eb);
/* Every run of the database, oldest first: one line a run (text) or a JSON array
 * of {id, mode, status, sources, first_ts, last_ts, packets, sessions, findings}.
 * findings counts those of severity error (what makes the exit status 1, not the
 * optional flows or intermittent ones); a run that stored no packet counts none,
 * as its report shows none. */
enum sm_err sm_report_list(struct sm_store *st, enum sm_format fmt, FILE *out,
                           struct sm_errbuf *eb);
/* Exit status of a rendered run: 1 with any finding (with --strict, intermittent
 * failures too), else 0; 3 for a run that never finished and stored no verdict or
 * no packet (nothing was judged: such a run is rendered as incomplete, without
 * verdicts). */
int sm_report_exit(const struct sm_report_summary *sum);

#endif
