#include "smaudit/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smaudit/capture.h"
#include "smaudit/policy.h"
#include "smaudit/report.h"

struct run_ctx {
	struct sm_store *store;
	struct sm_policy *policy;
	struct sm_capture *capture;
	int64_t run_id;
	enum sm_err err; /* first store error; reading stops at it */
	struct sm_errbuf *eb;
	uint64_t stored;
};

static void
on_session(void *ctx, const struct sm_session *s, enum sm_session_end why)
{
	struct run_ctx *rc = ctx;
	(void)why;
	if (rc->err != SM_OK)
		return;
	struct sm_classification c;
	sm_policy_classify(rc->policy, s, &c);
	const struct sm_source_info *src = sm_capture_source(rc->capture, s->source);
	struct sm_session_class cls = {c.class_name, c.rule, c.src_role, c.dst_role,
	                               src ? src->path : NULL};
	rc->err = sm_store_session(rc->store, rc->run_id, s, &cls, rc->eb);
	rc->stored++;
}

/* The inputs as a JSON array, for runs.sources. */
static char *
sources_json(const struct sm_capture *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return NULL;
	fputc('[', f);
	for (size_t i = 0; i < sm_capture_source_count(c); i++) {
		if (i)
			fputs(", ", f);
		sm_json_string(f, sm_capture_source(c, i)->path);
	}
	fputc(']', f);
	fclose(f);
	return buf;
}

static double
wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum sm_err
store_results(struct run_ctx *rc, const struct sm_audit_opts *o, struct sm_decoder *dec)
{
	enum sm_err e = SM_OK;
	int64_t run = rc->run_id;
	for (size_t i = 0; e == SM_OK && i < sm_capture_source_count(rc->capture); i++) {
		const struct sm_source_info *s = sm_capture_source(rc->capture, i);
		e = sm_store_source(rc->store, run, (int)i, s->path, s->packets, s->bytes, s->error,
		                    rc->eb);
	}
	for (int r = 1; e == SM_OK && r < R_COUNT; r++)
		if (sm_decoder_count(dec, (enum sm_dec_reason)r) > 0)
			e = sm_store_counter(rc->store, run,
			                     sm_dec_reason_name((enum sm_dec_reason)r),
			                     sm_decoder_count(dec, (enum sm_dec_reason)r), rc->eb);
	sm_policy_finish(rc->policy);
	for (size_t i = 0; e == SM_OK && i < sm_policy_entry_count(rc->policy); i++) {
		const struct sm_expect_entry *x = sm_policy_entry(rc->policy, i);
		struct sm_expected_row row;
		memset(&row, 0, sizeof(row));
		sm_strlcpy(row.rule, x->rule->id, sizeof(row.rule));
		sm_strlcpy(row.kind, sm_rule_kind_name(x->rule->kind), sizeof(row.kind));
		if (x->rule->proto == 1)
			sm_strlcpy(row.proto, "icmp", sizeof(row.proto));
		else
			sm_strlcpy(row.proto, x->rule->proto == 6 ? "tcp" : "udp",
			           sizeof(row.proto));
		row.port = x->rule->proto == 1 ? -1 : x->rule->port;
		sm_strlcpy(row.src_role, x->rule->src_role, sizeof(row.src_role));
		sm_strlcpy(row.dst_role, x->rule->dst_role, sizeof(row.dst_role));
		sm_entry_src(x, row.src, sizeof(row.src));
		sm_entry_dst(x, row.dst, sizeof(row.dst));
		sm_strlcpy(row.verdict, sm_verdict_name(x->verdict), sizeof(row.verdict));
		row.sessions = x->sessions;
		row.failed = x->verdict == V_OK ? x->rejected + x->no_answer : 0;
		row.first_ts = (double)x->first_ns / 1e9;
		row.last_ts = (double)x->last_ns / 1e9;
		sm_strlcpy(row.purpose, x->rule->purpose, sizeof(row.purpose));
		sm_strlcpy(row.detail, x->detail, sizeof(row.detail));
		if (x->tried) {
			sm_addr_str(&x->try_src, row.hint_src, sizeof(row.hint_src));
			sm_addr_str(&x->try_dst, row.hint_dst, sizeof(row.hint_dst));
		}
		e = sm_store_expected(rc->store, run, &row, rc->eb);
		bool missing = x->verdict != V_OK && x->verdict != V_NA;
		if (e == SM_OK && (missing || row.failed > 0) && x->rule->kind != RK_ALLOW) {
			struct sm_finding_row f;
			memset(&f, 0, sizeof(f));
			sm_strlcpy(f.kind, missing ? "missing" : "intermittent", sizeof(f.kind));
			sm_strlcpy(f.severity,
			           !missing                     ? "warning"
			           : x->rule->kind == RK_EXPECT ? "error"
			                                        : "info",
			           sizeof(f.severity));
			sm_strlcpy(f.rule, row.rule, sizeof(f.rule));
			sm_strlcpy(f.proto, row.proto, sizeof(f.proto));
			sm_strlcpy(f.src, row.src[0] ? row.src : row.hint_src, sizeof(f.src));
			sm_strlcpy(f.dst, row.dst[0] ? row.dst : row.hint_dst, sizeof(f.dst));
			f.port = row.port;
			sm_strlcpy(f.verdict, row.verdict, sizeof(f.verdict));
			sm_strlcpy(f.detail, row.detail, sizeof(f.detail));
			e = sm_store_finding(rc->store, run, &f, rc->eb);
		}
	}
	for (size_t r = 0; e == SM_OK && r < o->site->nroles; r++) {
		const struct sm_role *role = &o->site->roles[r];
		for (size_t m = 0; e == SM_OK && m < role->nmembers; m++) {
			struct sm_coverage_row c;
			sm_strlcpy(c.role, role->name, sizeof(c.role));
			sm_strlcpy(c.member, role->members[m].text, sizeof(c.member));
			c.seen = sm_policy_member_seen(rc->policy, role, m);
			e = sm_store_coverage(rc->store, run, &c, rc->eb);
		}
	}
	if (e == SM_OK)
		e = sm_store_unexpected_findings(rc->store, run, rc->eb);
	return e;
}

enum sm_err
sm_audit_run(const struct sm_audit_opts *o, struct sm_store **store_out, int64_t *run_id,
             struct sm_errbuf *eb)
{
	struct run_ctx rc;
	memset(&rc, 0, sizeof(rc));
	rc.eb = eb;
	*store_out = NULL;
	struct sm_decoder *dec = NULL;
	struct sm_session_table *tab = NULL;
	char *srcjson = NULL;

	enum sm_err e =
	    sm_capture_open(&rc.capture, o->inputs, o->ninputs, o->bpf, o->warn, o->warn_ctx, eb);
	if (e != SM_OK)
		return e;
	e = sm_store_open(&rc.store, o->db_path, true, eb);
	if (e != SM_OK)
		goto out;
	rc.policy = sm_policy_new(o->rules, o->site);
	struct sm_session_opts so = o->sessions;
	if (rc.policy != NULL)
		so.service_ports = sm_policy_service_ports(rc.policy);
	dec = sm_decoder_new(&o->decoder);
	tab = rc.policy ? sm_session_table_new(&so, on_session, &rc) : NULL;
	srcjson = sources_json(rc.capture);
	if (rc.policy == NULL || dec == NULL || tab == NULL || srcjson == NULL) {
		e = sm_error(eb, SM_ERR_NOMEM, "out of memory setting up the run");
		goto out;
	}
	e = sm_store_run_begin(rc.store, "audit", srcjson, o->site->path, o->rules_path, &rc.run_id,
	                       eb);
	if (e != SM_OK)
		goto out;

	struct sm_run_row totals;
	memset(&totals, 0, sizeof(totals));
	totals.id = rc.run_id;
	struct sm_raw_packet raw;
	struct sm_packet pkt;
	int64_t first = 0, last = 0;
	double next_progress = wall() + 1.0;
	bool interrupted = false;
	while (rc.err == SM_OK && sm_capture_next(rc.capture, &raw) == 1) {
		totals.packets++;
		totals.bytes += raw.len;
		if (first == 0 || raw.ts_ns < first)
			first = raw.ts_ns;
		if (raw.ts_ns > last)
			last = raw.ts_ns;
		if (sm_decode(dec, &raw, &pkt) == DEC_OK && !sm_session_packet(tab, &pkt)) {
			e = sm_error(eb, SM_ERR_NOMEM, "out of memory in the session table");
			goto out;
		}
		if ((totals.packets & 4095) == 0) {
			if (o->stop != NULL && *o->stop) {
				interrupted = true;
				break;
			}
			if (o->progress && wall() >= next_progress) {
				struct sm_session_stats ss;
				sm_session_stats(tab, &ss);
				fprintf(stderr,
				        "\rsmaudit: %llu packets, %.1f MB, %llu sessions (%llu "
				        "open)   ",
				        (unsigned long long)totals.packets,
				        (double)totals.bytes / 1e6, (unsigned long long)ss.created,
				        (unsigned long long)ss.active);
				next_progress = wall() + 1.0;
			}
		}
	}
	if (o->stop != NULL && *o->stop)
		interrupted = true;
	if (o->progress)
		fputs("\r\033[K", stderr);
	sm_session_flush(tab);
	sm_decoder_finish(dec);
	if (rc.err != SM_OK) {
		e = rc.err;
		goto out;
	}
	e = store_results(&rc, o, dec);
	if (e != SM_OK)
		goto out;
	struct sm_session_stats ss;
	sm_session_stats(tab, &ss);
	totals.sessions = ss.emitted;
	totals.evicted = ss.evicted;
	totals.undecoded = sm_decoder_undecoded(dec);
	totals.first_ts = (double)first / 1e9;
	totals.last_ts = (double)last / 1e9;
	for (size_t i = 0; i < sm_capture_source_count(rc.capture); i++) {
		const struct sm_source_info *s = sm_capture_source(rc.capture, i);
		if (s->opened && s->error[0])
			totals.read_errors++;
	}
	sm_strlcpy(totals.status, interrupted ? "interrupted" : "complete", sizeof(totals.status));
	e = sm_store_run_end(rc.store, &totals, eb);
	if (e == SM_OK) {
		*store_out = rc.store;
		*run_id = rc.run_id;
		rc.store = NULL;
	}
out:
	free(srcjson);
	sm_session_table_free(tab);
	sm_decoder_free(dec);
	sm_policy_free(rc.policy);
	sm_store_close(rc.store);
	sm_capture_close(rc.capture);
	return e;
}
