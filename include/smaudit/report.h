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
#include "smaudit/store.h"

enum sm_format { FMT_TEXT, FMT_JSON, FMT_CSV, FMT_HTML };

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
/* Writes s as a JSON string literal.  The reports write JSON in one pass with keys in
 * a fixed order, so a small writer serves; a JSON library (json-c, jansson) would build
 * the whole document in memory first and parse nothing. */
void sm_json_string(FILE *out, const char *s);
/* Writes s as one CSV field (quoted when it holds a comma, quote or newline). */
void sm_csv_field(FILE *out, const char *s);
/* Writes a UNIX time with up to microsecond precision, or null for 0. */
void sm_json_ts(FILE *out, double ts);
/* "2026-12-01 12:03:10.250Z" (UTC, milliseconds), or "-" for 0. */
void sm_report_time(double ts, char *buf, size_t len);
bool sm_parse_format(const char *s, enum sm_format *out);
/* "tcp/11104  ic-a 10.10.1.11 -> ic-b 10.20.1.11" ("/echo" for ICMP; "*" for a side
 * the row names no address of, as its JSON says null). */
void sm_report_flow_name(const struct sm_expected_row *r, char *buf, size_t len);

#endif
