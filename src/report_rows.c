/*
 * report_rows: what the renderers of every format (report_<format>.c) read of
 * a run's rows besides the rows themselves: the summary's counts and their
 * words, the run's counters by name, a sensor's line, the sources as JSON.
 * It calls no renderer and nothing of report.c, so the report's files call
 * one way: report.c -> report_<format>.c -> report_rows.c.
 */
#include "report_impl.h"

#include <stddef.h>
#include <string.h>

void
report_sensor_line(FILE *out, const struct sm_sensor_row *s, const char *prefix)
{
	fprintf(out, "%s%s: %llu packets, ", prefix, s->name, (unsigned long long)s->packets);
	if (s->idx == 0)
		fputs("its clock is the reference\n", out);
	else if (s->clock_known)
		fprintf(out, "clock corrected by %+.6f s (spread %.6f s, %llu packets matched)\n",
		        s->clock_offset, s->clock_spread, (unsigned long long)s->clock_matched);
	else
		fputs("CLOCK NOT MATCHED: no packet also seen by another sensor; its times are "
		      "taken as they are\n",
		      out);
}

/* Whether the run's stored status is st. */
bool
report_run_is(const struct sm_run_row *run, enum sm_run_status st)
{
	return run->status == st;
}

bool
report_is_missing(const struct sm_expected_row *r)
{
	return sm_verdict_failed(r->verdict);
}

#define COUNT(key, words, field, bold)                                                             \
	{                                                                                          \
		key, words, offsetof(struct sm_report_summary, field), bold                        \
	}
const struct report_summary_count report_summary_counts[REPORT_SUMMARY_COUNTS] = {
    COUNT("expected", "expected", expected, false),
    COUNT("ok", "ok", ok, false),
    COUNT("missing", "missing", missing, true),
    COUNT("optional_missing", "optional missing", optional_missing, false),
    COUNT("unexpected", "unexpected", unexpected, true),
    COUNT("protocol_mismatches", "protocol mismatches", mismatched, false),
    COUNT("filtered", "filtered", filtered, false),
    COUNT("intermittent", "intermittent", intermittent, false),
};
#undef COUNT

uint64_t
report_summary_value(const struct sm_report_summary *sum, size_t i)
{
	return *(const uint64_t *)((const char *)sum + report_summary_counts[i].off);
}

void
report_summary_line(FILE *out, const struct sm_report_summary *sum, bool html)
{
	for (size_t i = 0; i < REPORT_SUMMARY_LINE; i++) {
		bool bold = html && report_summary_counts[i].bold;
		fprintf(out, "%s%s%llu %s%s", i ? ", " : "", bold ? "<b>" : "",
		        (unsigned long long)report_summary_value(sum, i),
		        report_summary_counts[i].words, bold ? "</b>" : "");
	}
}

size_t
report_unseen_count(const struct rows *w)
{
	size_t unseen = 0;
	for (size_t i = 0; i < w->ncov; i++)
		unseen += !w->cov[i].seen;
	return unseen;
}

void
report_json_sources(FILE *out, const struct sm_source_row *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", out);
		sm_json_string(out, src[i].path);
	}
}

/* The run counter called name, if the run has one. */
const struct sm_counter_row *
report_counter(const struct rows *w, const char *name)
{
	for (size_t i = 0; i < w->nctr; i++)
		if (strcmp(w->ctr[i].name, name) == 0)
			return &w->ctr[i];
	return NULL;
}

/* Whether counter name counts undecoded packets (the others record how the run went). */
bool
report_counter_is_reason(const char *name)
{
	static const char *const how_it_went[] = {
	    SM_COUNTER_REASM_FULL,   SM_COUNTER_WINDOW_FROM,        SM_COUNTER_WINDOW_UNTIL,
	    SM_COUNTER_STOPPED_AT,   SM_COUNTER_DB_FAULTS,          SM_COUNTER_DB_UNAVAILABLE_MS,
	    SM_COUNTER_NOT_STORED,   SM_COUNTER_OUT_OF_ORDER,       SM_COUNTER_LATE,
	    SM_COUNTER_IFACE_COPIES, SM_COUNTER_PROTOCOLS_UNCHECKED};
	for (size_t i = 0; i < sizeof(how_it_went) / sizeof(how_it_went[0]); i++)
		if (strcmp(name, how_it_went[i]) == 0)
			return false;
	return true;
}

/* A window end stored in nanoseconds, as report seconds (0 = none). */
double
report_counter_ts(const struct rows *w, const char *name)
{
	const struct sm_counter_row *c = report_counter(w, name);
	return c != NULL ? (double)c->value / 1e9 : 0;
}
