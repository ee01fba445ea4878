/*
 * report_impl: what the report's files share and nothing outside them sees:
 * the rows of a run as loaded from the store, helpers over them, and one
 * renderer per format (report_<format>.c).
 */
#ifndef SMAUDIT_REPORT_IMPL_H
#define SMAUDIT_REPORT_IMPL_H

#include "smaudit/fmt.h"
#include "smaudit/forensic.h"
#include "smaudit/report.h"

/* Every row of a run a report shows; arrays owned, from the store's readers. */
struct rows {
	struct sm_expected_row *exp;
	size_t nexp;
	struct sm_unexpected_row *unx;
	size_t nunx;      /* listed: at most SM_REPORT_UNEXPECTED_MAX */
	size_t unx_total; /* all of the run's unexpected aggregates */
	struct sm_coverage_row *cov;
	size_t ncov;
	struct sm_counter_row *ctr;
	size_t nctr;
	struct sm_finding_row *mis;
	size_t nmis;
	struct sm_sensor_row *sensors; /* several capture points; none with one */
	size_t nsensors;
	struct sm_source_row *src; /* the capture files, as given */
	size_t nsrc;
	/* database errors of a live run: from its counters, or from the run itself
	 * when the database never came back (nothing of that could be stored) */
	bool has_db;
	struct sm_report_db_fault db;
};

/* ---- report_rows.c: what the renderers share ---- */

/* Capture files' paths as JSON strings separated by ", ". */
void report_json_sources(FILE *out, const struct sm_source_row *src, size_t n);
/* One line on a sensor and its clock, after prefix: "site-b: 299 packets, clock
 * -2.500000 s from site-a's (spread 0.000012 s, 40 packets matched)". */
void report_sensor_line(FILE *out, const struct sm_sensor_row *s, const char *prefix);
/* Whether the run's stored status is st. */
bool report_run_is(const struct sm_run_row *run, enum sm_run_status st);
/* An expected flow whose verdict is a failure. */
bool report_is_missing(const struct sm_expected_row *r);
/* Site addresses the capture never showed. */
size_t report_unseen_count(const struct rows *w);
/* The run counter called name, if the run has one. */
const struct sm_counter_row *report_counter(const struct rows *w, const char *name);
/* Whether counter name counts undecoded packets (the others record how the run went). */
bool report_counter_is_reason(const char *name);
/* A window end stored in nanoseconds, as report seconds (0 = none). */
double report_counter_ts(const struct rows *w, const char *name);

/* The counts of a run's summary in the order every format writes them: the JSON key,
 * the words of the text and HTML summary lines, and the count in the summary.  The
 * summary lines show the first REPORT_SUMMARY_LINE of them. */
struct report_summary_count {
	const char *key, *words;
	size_t off; /* of a uint64_t in struct sm_report_summary */
	bool bold;  /* in bold on the HTML summary line */
};
#define REPORT_SUMMARY_COUNTS 8
#define REPORT_SUMMARY_LINE   6
extern const struct report_summary_count report_summary_counts[REPORT_SUMMARY_COUNTS];
uint64_t report_summary_value(const struct sm_report_summary *sum, size_t i);
/* "N expected, N ok, N missing, N optional missing, N unexpected, N protocol
 * mismatches", as the text and HTML reports write them (html: with <b>). */
void report_summary_line(FILE *out, const struct sm_report_summary *sum, bool html);

/* The lines under an expected flow's line (report_text.c). */
void report_expected_notes(FILE *out, const struct sm_run_row *run, const struct sm_expected_row *r,
                           bool with_advice);

void report_render_json(FILE *out, const struct sm_run_row *run, const struct rows *w,
                        const struct sm_report_summary *sum);
void report_render_text(FILE *out, const struct sm_run_row *run, const struct rows *w,
                        const struct sm_report_summary *sum, bool color);
void report_render_csv(FILE *out, const struct rows *w);
enum sm_err report_render_html(FILE *out, struct sm_store *st, const struct sm_run_row *run,
                               const struct rows *w, const struct sm_report_summary *sum,
                               const char *db_path, struct sm_errbuf *eb);

#endif
