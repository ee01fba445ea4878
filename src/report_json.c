/*
 * report_json: the JSON report of docs/json.md, written in one pass with its
 * keys in a fixed order.
 */
#include "report_impl.h"

#include <stdlib.h>
#include <string.h>

/* `, "finding": ID` on an entry that is a finding (SPEC section 5). */
static void
json_finding(FILE *out, int64_t id)
{
	if (id > 0)
		fprintf(out, ", \"finding\": %lld", (long long)id);
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

enum sm_err
report_render_json(FILE *out, struct sm_store *st, const struct sm_run_row *run,
                   const struct rows *w, const struct sm_report_summary *sum, struct sm_errbuf *eb)
{
	fprintf(out,
	        "{\n  \"version\": 1,\n  \"run\": {\"id\": %lld, \"status\": ", (long long)run->id);
	sm_json_string(out, run->status);
	fputs(", \"sources\": [", out);
	struct src_ctx sc = {out, 0, false};
	enum sm_err e = sm_store_each_source(st, run->id, true, report_json_source, &sc, eb);
	if (e != SM_OK)
		return e;
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
	json_limits(out, w);
	json_db_fault(out, w);
	json_sensors(out, w);
	fputs("},\n", out);
	fputs("  \"expected\": [", out);
	for (size_t i = 0; i < w->nexp; i++) {
		const struct sm_expected_row *r = &w->exp[i];
		fputs(i ? ",\n    {" : "\n    {", out);
		fputs("\"rule\": ", out);
		sm_json_string(out, r->rule);
		fputs(", \"kind\": ", out);
		sm_json_string(out, sm_rule_kind_name(r->kind));
		fputs(", \"proto\": ", out);
		sm_json_string(out, r->proto);
		fputs(", \"port\": ", out);
		sm_json_count(out, r->port);
		fputs(",\n     \"src_role\": ", out);
		sm_json_string(out, r->src_role);
		fputs(", \"dst_role\": ", out);
		sm_json_string(out, r->dst_role);
		fputs(", \"src\": ", out);
		sm_json_opt(out, r->src);
		fputs(", \"dst\": ", out);
		sm_json_opt(out, r->dst);
		fputs(",\n     \"verdict\": ", out);
		sm_json_string(out, sm_verdict_name(r->verdict));
		fprintf(out,
		        ", \"sessions\": %llu, \"first_ts\": ", (unsigned long long)r->sessions);
		sm_json_ts(out, r->first_ts);
		fputs(", \"last_ts\": ", out);
		sm_json_ts(out, r->last_ts);
		fputs(",\n     \"purpose\": ", out);
		sm_json_string(out, r->purpose);
		json_finding(out, r->finding_id);
		if (r->path[0]) /* JSON as stored (policy made it) */
			fprintf(out, ",\n     \"path\": %s", r->path);
		if (r->lost_between[0])
			fprintf(out, ", \"lost_between\": %s", r->lost_between);
		fputs("}", out);
	}
	fputs(w->nexp ? "\n  ],\n" : "],\n", out);
	fputs("  \"unexpected\": [", out);
	for (size_t i = 0; i < w->nunx; i++) {
		const struct sm_unexpected_row *u = &w->unx[i];
		fputs(i ? ",\n    {" : "\n    {", out);
		fputs("\"proto\": ", out);
		sm_json_string(out, u->proto);
		fputs(", \"src\": ", out);
		sm_json_string(out, u->src);
		fputs(", \"dst\": ", out);
		sm_json_string(out, u->dst);
		fputs(", \"port\": ", out);
		sm_json_count(out, u->port);
		fputs(",\n     \"src_role\": ", out);
		sm_json_opt(out, u->src_role);
		fputs(", \"dst_role\": ", out);
		sm_json_opt(out, u->dst_role);
		fprintf(out,
		        ", \"sessions\": %llu, \"packets\": %llu, \"bytes\": %llu,\n     "
		        "\"first_ts\": ",
		        (unsigned long long)u->sessions, (unsigned long long)u->packets,
		        (unsigned long long)u->bytes);
		sm_json_ts(out, u->first_ts);
		fputs(", \"last_ts\": ", out);
		sm_json_ts(out, u->last_ts);
		fputs(", \"state\": ", out);
		sm_json_opt(out, u->state);
		json_finding(out, u->finding_id);
		fputs("}", out);
	}
	fputs(w->nunx ? "\n  ],\n" : "],\n", out);
	if (w->unx_total > w->nunx) /* the busiest are listed; the rest are findings */
		fprintf(out, "  \"unexpected_not_listed\": %zu,\n", w->unx_total - w->nunx);
	fputs("  \"protocol_mismatches\": [", out);
	for (size_t i = 0; i < w->nmis; i++) {
		const struct sm_finding_row *f = &w->mis[i];
		fputs(i ? ",\n    {" : "\n    {", out);
		fputs("\"rule\": ", out);
		sm_json_string(out, f->rule);
		fputs(", \"proto\": ", out);
		sm_json_string(out, f->proto);
		fputs(", \"port\": ", out);
		sm_json_count(out, f->port);
		fputs(", \"src\": ", out);
		sm_json_opt(out, f->src);
		fputs(", \"dst\": ", out);
		sm_json_opt(out, f->dst);
		fputs(",\n     \"detail\": ", out);
		sm_json_string(out, f->detail);
		json_finding(out, f->id);
		fputs("}", out);
	}
	fputs(w->nmis ? "\n  ],\n" : "],\n", out);
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
	fprintf(out,
	        "  \"summary\": {\"expected\": %llu, \"ok\": %llu, \"missing\": %llu, "
	        "\"optional_missing\": %llu, \"unexpected\": %llu, \"protocol_mismatches\": "
	        "%llu, \"filtered\": %llu, \"intermittent\": %llu}\n}\n",
	        (unsigned long long)sum->expected, (unsigned long long)sum->ok,
	        (unsigned long long)sum->missing, (unsigned long long)sum->optional_missing,
	        (unsigned long long)sum->unexpected, (unsigned long long)sum->mismatched,
	        (unsigned long long)sum->filtered, (unsigned long long)sum->intermittent);
	return SM_OK;
}
