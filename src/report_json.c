/*
 * report_json: the JSON report of docs/json.md, written in one pass with its
 * keys in a fixed order.
 */
#include "report_impl.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The members of each entry, in the order of docs/json.md, each named as its field
 * (NL: on a new line); `"finding": ID` only on an entry that is a finding (SPEC
 * section 5). */
#define M(type, field)  SM_JSON_MEMBER(#field, type, ROW, field, false)
#define NL(type, field) SM_JSON_MEMBER(#field, type, ROW, field, true)
#define FINDING(field)  SM_JSON_MEMBER("finding", SM_JSON_ID, ROW, field, false)
#define ROW             struct sm_expected_row
static const struct sm_json_member expected_members[] = {
    M(SM_JSON_STR, rule),
    M(SM_JSON_RULE_KIND, kind),
    M(SM_JSON_STR, proto),
    M(SM_JSON_COUNT, port),
    NL(SM_JSON_STR, src_role),
    M(SM_JSON_STR, dst_role),
    M(SM_JSON_OPT, src),
    M(SM_JSON_OPT, dst),
    NL(SM_JSON_VERDICT, verdict),
    M(SM_JSON_U64, sessions),
    M(SM_JSON_TS, first_ts),
    M(SM_JSON_TS, last_ts),
    NL(SM_JSON_STR, purpose),
    FINDING(finding_id),
    /* what the text says of a failing or intermittent flow: the attempts, who
     * answered and with what TTL, the cautions */
    M(SM_JSON_U64_SOME, failed),
    NL(SM_JSON_STR_SOME, detail),
    /* several sensors: where a failing flow's packets were seen, JSON as policy made it */
    NL(SM_JSON_RAW, path),
    M(SM_JSON_RAW, lost_between),
};
#undef ROW
#define ROW struct sm_unexpected_row
static const struct sm_json_member unexpected_members[] = {
    M(SM_JSON_STR, proto),    M(SM_JSON_STR, src),       M(SM_JSON_STR, dst),
    M(SM_JSON_COUNT, port),   NL(SM_JSON_OPT, src_role), M(SM_JSON_OPT, dst_role),
    M(SM_JSON_U64, sessions), M(SM_JSON_U64, packets),   M(SM_JSON_U64, bytes),
    NL(SM_JSON_TS, first_ts), M(SM_JSON_TS, last_ts),    M(SM_JSON_OPT, state),
    FINDING(finding_id),
};
#undef ROW
#define ROW struct sm_finding_row
static const struct sm_json_member mismatch_members[] = {
    M(SM_JSON_STR, rule), M(SM_JSON_STR, proto), M(SM_JSON_COUNT, port),
    M(SM_JSON_OPT, src),  M(SM_JSON_OPT, dst),   NL(SM_JSON_STR, detail),
    FINDING(id),
};
#undef ROW
#undef M
#undef NL
#undef FINDING

/* `  "name": [` the n rows of size bytes each as objects of members m, `],`. */
static void
json_rows(FILE *out, const char *name, const void *rows, size_t n, size_t size,
          const struct sm_json_member *m, size_t nm)
{
	fprintf(out, "  \"%s\": [", name);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n    {" : "\n    {", out);
		sm_json_members(out, m, nm, (const char *)rows + i * size, ",\n     ");
		fputc('}', out);
	}
	fputs(n ? "\n  ],\n" : "],\n", out);
}

/* "database" of the JSON run object, present only when the run met database errors. */
static void
json_db_fault(FILE *out, const struct rows *w)
{
	if (!w->has_db)
		return;
	fprintf(out,
	        ",\n          \"database\": {\"faults\": %llu, \"unavailable_s\": %.3f, "
	        "\"not_stored\": %llu, \"stored\": %s, \"error\": ",
	        (unsigned long long)w->db.faults, w->db.unavailable_s,
	        (unsigned long long)w->db.not_stored, w->db.never_back ? "false" : "true");
	if (w->db.never_back)
		sm_json_string(out, w->db.error);
	else
		fputs("null", out);
	fputc('}', out);
}
/* "window" and "stopped_at" of the JSON run object, present only when the run was
 * limited by --from/--until or stopped by -c. */
static void
json_limits(FILE *out, const struct rows *w)
{
	const struct sm_counter_row *from = report_counter(w, SM_COUNTER_WINDOW_FROM),
	                            *until = report_counter(w, SM_COUNTER_WINDOW_UNTIL),
	                            *stop = report_counter(w, SM_COUNTER_STOPPED_AT);
	if (from != NULL || until != NULL) {
		fputs(",\n          \"window\": {\"from\": ", out);
		if (from != NULL)
			sm_json_ts(out, (double)from->value / 1e9);
		else
			fputs("null", out);
		fputs(", \"until\": ", out);
		if (until != NULL)
			sm_json_ts(out, (double)until->value / 1e9);
		else
			fputs("null", out);
		fputc('}', out);
	}
	if (stop != NULL)
		fprintf(out, ", \"stopped_at\": %llu", (unsigned long long)stop->value);
}

/* What the run could not see whole, present only when it happened: capture files
 * not read to the end, sessions evicted from the full table, packets out of time
 * order (and those read after later ones). */
static void
json_cautions(FILE *out, const struct sm_run_row *run, const struct rows *w)
{
	const struct sm_counter_row *disorder = report_counter(w, SM_COUNTER_OUT_OF_ORDER),
	                            *late = report_counter(w, SM_COUNTER_LATE),
	                            *copies = report_counter(w, SM_COUNTER_IFACE_COPIES);
	if (run->read_errors > 0)
		fprintf(out, ", \"read_errors\": %llu", (unsigned long long)run->read_errors);
	if (run->evicted > 0)
		fprintf(out, ", \"evicted\": %llu", (unsigned long long)run->evicted);
	if (disorder != NULL)
		fprintf(out, ", \"out_of_order\": %llu, \"read_late\": %llu",
		        (unsigned long long)disorder->value,
		        late != NULL ? (unsigned long long)late->value : 0ULL);
	if (copies != NULL)
		fprintf(out, ", \"interface_copies\": %llu", (unsigned long long)copies->value);
}

/* The run's sensors and their clocks (several capture points only). */
static void
json_sensors(FILE *out, const struct rows *w)
{
	if (w->nsensors == 0)
		return;
	fputs(",\n          \"sensors\": [", out);
	for (size_t i = 0; i < w->nsensors; i++) {
		const struct sm_sensor_row *s = &w->sensors[i];
		fputs(i ? ", {\"name\": " : "{\"name\": ", out);
		sm_json_string(out, s->name);
		fprintf(out, ", \"packets\": %llu, \"clock_known\": %s",
		        (unsigned long long)s->packets,
		        s->clock_known || s->idx == 0 ? "true" : "false");
		if (s->clock_known || s->idx == 0)
			fprintf(out,
			        ", \"clock_offset\": %.6f, \"clock_spread\": %.6f, "
			        "\"clock_matched\": %llu",
			        s->clock_offset, s->clock_spread,
			        (unsigned long long)s->clock_matched);
		fputs("}", out);
	}
	fputs("]", out);
}

void
report_render_json(FILE *out, const struct sm_run_row *run, const struct rows *w,
                   const struct sm_report_summary *sum)
{
	fprintf(out,
	        "{\n  \"version\": 1,\n  \"run\": {\"id\": %lld, \"status\": ", (long long)run->id);
	sm_json_string(out, sm_run_status_name(run->status));
	fputs(", \"sources\": [", out);
	report_json_sources(out, w->src, w->nsrc);
	fprintf(out, "], \"packets\": %llu, \"bytes\": %llu,\n          \"first_ts\": ",
	        (unsigned long long)run->packets, (unsigned long long)run->bytes);
	sm_json_ts(out, run->first_ts);
	fputs(", \"last_ts\": ", out);
	sm_json_ts(out, run->last_ts);
	fprintf(out, ",\n          \"sessions\": %llu, \"undecoded\": %llu, \"dropped\": %llu",
	        (unsigned long long)run->sessions, (unsigned long long)run->undecoded,
	        (unsigned long long)run->dropped);
	fputs(", \"filter\": ", out);
	if (run->filter != NULL)
		sm_json_string(out, run->filter);
	else
		fputs("null", out);
	fprintf(out, ", \"strict\": %s", run->strict ? "true" : "false");
	if (report_counter(w, SM_COUNTER_PROTOCOLS_UNCHECKED) != NULL) /* --no-payload */
		fputs(", \"protocols_checked\": false", out);
	json_limits(out, w);
	json_cautions(out, run, w);
	json_db_fault(out, w);
	json_sensors(out, w);
	fputs("},\n", out);
	json_rows(out, "expected", w->exp, w->nexp, sizeof(*w->exp), expected_members,
	          sizeof(expected_members) / sizeof(expected_members[0]));
	json_rows(out, "unexpected", w->unx, w->nunx, sizeof(*w->unx), unexpected_members,
	          sizeof(unexpected_members) / sizeof(unexpected_members[0]));
	if (w->unx_total > w->nunx) /* the busiest are listed; the rest are findings */
		fprintf(out, "  \"unexpected_not_listed\": %zu,\n", w->unx_total - w->nunx);
	json_rows(out, "protocol_mismatches", w->mis, w->nmis, sizeof(*w->mis), mismatch_members,
	          sizeof(mismatch_members) / sizeof(mismatch_members[0]));
	size_t unseen = report_unseen_count(w), n = 0;
	fprintf(out, "  \"coverage\": {\"seen\": %zu, \"total\": %zu, \"never_seen\": [",
	        w->ncov - unseen, w->ncov);
	for (size_t i = 0; i < w->ncov; i++) {
		if (w->cov[i].seen)
			continue;
		fputs(n++ ? ",\n      {\"role\": " : "\n      {\"role\": ", out);
		sm_json_string(out, w->cov[i].role);
		fputs(", \"member\": ", out);
		sm_json_string(out, w->cov[i].member);
		fputc('}', out);
	}
	fputs(n ? "\n  ]},\n" : "]},\n", out);
	fputs("  \"summary\": {", out);
	for (size_t i = 0; i < REPORT_SUMMARY_COUNTS; i++)
		fprintf(out, "%s\"%s\": %llu", i ? ", " : "", report_summary_counts[i].key,
		        (unsigned long long)report_summary_value(sum, i));
	fputs("}\n}\n", out);
}
