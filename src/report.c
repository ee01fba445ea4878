#include "smaudit/report.h"

#include "smaudit/forensic.h"
#include "smaudit/fmt.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rows {
	struct sm_expected_row *exp;
	size_t nexp;
	struct sm_unexpected_row *unx;
	size_t nunx;
	struct sm_coverage_row *cov;
	size_t ncov;
	struct sm_counter_row *ctr;
	size_t nctr;
	struct sm_finding_row *mis;
	size_t nmis;
	/* database errors of a live run: from its counters, or from the run itself
	 * when the database never came back (nothing of that could be stored) */
	bool has_db;
	struct sm_report_db_fault db;
};

static void
rows_free(struct rows *w)
{
	free(w->mis);
	free(w->exp);
	free(w->unx);
	free(w->cov);
	free(w->ctr);
}

/* Whether the run's stored status is st. */
static bool
run_is(const struct sm_run_row *run, enum sm_run_status st)
{
	enum sm_run_status have;
	return sm_run_status_parse(run->status, &have) && have == st;
}

int
sm_report_exit(const struct sm_report_summary *sum)
{
	if (sum->nothing_read ||
	    (sum->unfinished && sum->expected + sum->optional_missing + sum->not_applicable == 0))
		return SM_EXIT_RUNTIME;
	bool findings = sum->missing > 0 || sum->unexpected > 0 || sum->mismatched > 0 ||
	                (sum->strict && sum->intermittent > 0);
	return findings ? SM_EXIT_FINDINGS : SM_EXIT_CLEAN;
}

/* `, "finding": ID` on an entry that is a finding (SPEC section 5). */
static void
json_finding(FILE *out, int64_t id)
{
	if (id > 0)
		fprintf(out, ", \"finding\": %lld", (long long)id);
}

static bool
is_missing(const struct sm_expected_row *r)
{
	return sm_verdict_failed(r->verdict);
}

static void
summarize(const struct rows *w, struct sm_report_summary *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (size_t i = 0; i < w->nexp; i++) {
		const struct sm_expected_row *r = &w->exp[i];
		bool expect = r->kind == RK_EXPECT;
		if (expect)
			sum->expected++;
		if (r->verdict == V_OK && expect)
			sum->ok++;
		if (r->verdict == V_NA)
			sum->not_applicable++;
		if (r->verdict == V_FILTERED)
			sum->filtered++;
		if (expect && r->failed > 0)
			sum->intermittent++;
		if (is_missing(r) && expect)
			sum->missing++;
		else if (is_missing(r))
			sum->optional_missing++;
	}
	sum->unexpected = w->nunx;
	sum->mismatched = w->nmis;
}

static size_t
unseen_count(const struct rows *w)
{
	size_t unseen = 0;
	for (size_t i = 0; i < w->ncov; i++)
		unseen += !w->cov[i].seen;
	return unseen;
}

/* ANSI colours of the text report on a terminal; "" when off, so the text is the same. */
enum tone { TONE_HEAD, TONE_BAD, TONE_WARN, TONE_GOOD, TONE_DIM };

static const char *
tone(bool color, enum tone t)
{
	static const char *const sgr[] = {"\033[1m", "\033[1;31m", "\033[33m", "\033[32m",
	                                  "\033[2m"};
	return color ? sgr[t] : "";
}

static const char *
tone_end(bool color)
{
	return color ? "\033[0m" : "";
}

/* A heading: red when it counts something wrong, else bold. */
static const char *
tone_head(bool color, uint64_t bad)
{
	return tone(color, bad ? TONE_BAD : TONE_HEAD);
}

static enum tone
verdict_tone(enum sm_verdict v)
{
	if (v == V_OK)
		return TONE_GOOD;
	if (v == V_NO_ANSWER || v == V_REJECTED)
		return TONE_BAD;
	if (v == V_FILTERED || v == V_NA)
		return TONE_DIM;
	return TONE_WARN;
}

static void
text_coverage(FILE *out, const struct sm_run_row *run, const struct rows *w, bool color)
{
	size_t unseen = unseen_count(w);
	fprintf(out, "\n%sCOVERAGE: %zu of %zu site addresses seen in the capture%s\n",
	        tone_head(color, unseen), w->ncov - unseen, w->ncov, tone_end(color));
	for (size_t i = 0; i < w->ncov; i++)
		if (!w->cov[i].seen)
			fprintf(out, "  never seen: %s %s\n", w->cov[i].role, w->cov[i].member);
	if (unseen && run->filter != NULL)
		fputs("  (the capture filter may be what hides them: their flows are 'filtered' "
		      "where it excludes them, else 'not-seen', not proof that they are blocked)\n",
		      out);
	else if (unseen)
		fputs("  (flows of addresses never seen are 'not-seen' because the span port may "
		      "not see them, not proof that they are blocked)\n",
		      out);
}

struct src_ctx {
	FILE *out;
	int n;
	bool text;
};

static bool
json_source(void *ctx, const char *path, uint64_t packets, const char *error)
{
	struct src_ctx *c = ctx;
	(void)packets;
	(void)error;
	fputs(c->n++ ? ", " : "", c->out);
	sm_json_string(c->out, path);
	return true;
}

/* The run counter called name, if the run has one. */
static const struct sm_counter_row *
counter(const struct rows *w, const char *name)
{
	for (size_t i = 0; i < w->nctr; i++)
		if (strcmp(w->ctr[i].name, name) == 0)
			return &w->ctr[i];
	return NULL;
}

/* Whether counter name counts undecoded packets (the others record how the run went). */
static bool
counter_is_reason(const char *name)
{
	return strcmp(name, SM_COUNTER_REASM_FULL) != 0 &&
	       strcmp(name, SM_COUNTER_WINDOW_FROM) != 0 &&
	       strcmp(name, SM_COUNTER_WINDOW_UNTIL) != 0 &&
	       strcmp(name, SM_COUNTER_STOPPED_AT) != 0 &&
	       strcmp(name, SM_COUNTER_DB_FAULTS) != 0 &&
	       strcmp(name, SM_COUNTER_DB_UNAVAILABLE_MS) != 0 &&
	       strcmp(name, SM_COUNTER_NOT_STORED) != 0;
}

/* What the report says of database errors the run met (see struct rows). */
static void
db_fault_of(struct rows *w, const struct sm_report_style *style)
{
	const struct sm_counter_row *f = counter(w, SM_COUNTER_DB_FAULTS),
	                            *ms = counter(w, SM_COUNTER_DB_UNAVAILABLE_MS),
	                            *lost = counter(w, SM_COUNTER_NOT_STORED);
	memset(&w->db, 0, sizeof(w->db));
	w->has_db = true;
	if (style != NULL && style->db != NULL)
		w->db = *style->db;
	else if (f != NULL || lost != NULL) {
		w->db.faults = f ? f->value : 0;
		w->db.unavailable_s = ms ? (double)ms->value / 1000 : 0;
		w->db.not_stored = lost ? lost->value : 0;
	} else
		w->has_db = false;
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

/* The lines of the text report about database errors the run met. */
static void
text_db_fault(FILE *out, const struct rows *w, const char *warn, const char *end)
{
	if (!w->has_db)
		return;
	if (w->db.never_back)
		fprintf(out,
		        "  %sERROR%s    the database failed and did not come back: %s\n"
		        "           the run is not stored complete: this report is its last "
		        "checkpoint; %llu session(s) closed since are lost\n",
		        warn, end, w->db.error, (unsigned long long)w->db.not_stored);
	else if (w->db.faults > 0)
		fprintf(out,
		        "  %sWARNING%s  the database was unavailable %llu time(s), %.1f s in all: "
		        "capture went on, the sessions of that time waited in memory and were "
		        "stored when it came back\n",
		        warn, end, (unsigned long long)w->db.faults, w->db.unavailable_s);
	if (!w->db.never_back && w->db.not_stored > 0)
		fprintf(
		    out,
		    "  %sWARNING%s  %llu session(s) closed while the database was unavailable "
		    "could not wait in memory (--max-sessions) and are not stored: the sessions "
		    "table and the unexpected traffic miss them; expected-flow verdicts count "
		    "them\n",
		    warn, end, (unsigned long long)w->db.not_stored);
}

/* A window end stored in nanoseconds, as report seconds (0 = none). */
static double
counter_ts(const struct rows *w, const char *name)
{
	const struct sm_counter_row *c = counter(w, name);
	return c != NULL ? (double)c->value / 1e9 : 0;
}

/* "window" and "stopped_at" of the JSON run object, present only when the run was
 * limited by --from/--until or stopped by -c. */
static void
json_limits(FILE *out, const struct rows *w)
{
	const struct sm_counter_row *from = counter(w, SM_COUNTER_WINDOW_FROM),
	                            *until = counter(w, SM_COUNTER_WINDOW_UNTIL),
	                            *stop = counter(w, SM_COUNTER_STOPPED_AT);
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

static enum sm_err
render_json(FILE *out, struct sm_store *st, const struct sm_run_row *run, const struct rows *w,
            const struct sm_report_summary *sum, struct sm_errbuf *eb)
{
	fprintf(out,
	        "{\n  \"version\": 1,\n  \"run\": {\"id\": %lld, \"status\": ", (long long)run->id);
	sm_json_string(out, run->status);
	fputs(", \"sources\": [", out);
	struct src_ctx sc = {out, 0, false};
	enum sm_err e = sm_store_each_source(st, run->id, true, json_source, &sc, eb);
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
		sm_json_port(out, r->port);
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
		sm_json_port(out, u->port);
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
	fputs("  \"protocol_mismatches\": [", out);
	for (size_t i = 0; i < w->nmis; i++) {
		const struct sm_finding_row *f = &w->mis[i];
		fputs(i ? ",\n    {" : "\n    {", out);
		fputs("\"rule\": ", out);
		sm_json_string(out, f->rule);
		fputs(", \"proto\": ", out);
		sm_json_string(out, f->proto);
		fputs(", \"port\": ", out);
		sm_json_port(out, f->port);
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
	size_t unseen = unseen_count(w), n = 0;
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

/* The columns of the CSV report, one list for every section. */
enum csv_col {
	C_SECTION,
	C_RULE,
	C_KIND,
	C_PROTO,
	C_PORT,
	C_SRC_ROLE,
	C_DST_ROLE,
	C_SRC,
	C_DST,
	C_VERDICT,
	C_SESSIONS,
	C_PACKETS,
	C_BYTES,
	C_FIRST_TS,
	C_LAST_TS,
	C_STATE,
	C_PURPOSE,
	C_DETAIL,
	C_FINDING,
	C_COUNT
};

/* Numbers of a row as text ("" = empty field). */
struct csv_nums {
	char port[16], sessions[24], packets[24], bytes[24], first[32], last[32], finding[24];
};

static void
csv_numbers(struct csv_nums *n, int port, const uint64_t *counts, double first, double last,
            int64_t finding)
{
	memset(n, 0, sizeof(*n));
	if (port >= 0)
		snprintf(n->port, sizeof(n->port), "%d", port);
	char *dst[3] = {n->sessions, n->packets, n->bytes};
	for (int i = 0; i < 3; i++)
		if (counts[i] != UINT64_MAX)
			snprintf(dst[i], sizeof(n->sessions), "%llu",
			         (unsigned long long)counts[i]);
	sm_fmt_ts(first, n->first, sizeof(n->first));
	sm_fmt_ts(last, n->last, sizeof(n->last));
	if (finding > 0)
		snprintf(n->finding, sizeof(n->finding), "%lld", (long long)finding);
}

/* One line; NULL columns are empty. */
static void
csv_row(FILE *out, const char *const col[C_COUNT])
{
	for (int i = 0; i < C_COUNT; i++) {
		if (i)
			fputc(',', out);
		sm_csv_field(out, col[i]);
	}
	fputc('\n', out);
}

static void
render_csv(FILE *out, const struct rows *w)
{
	fputs("section,rule,kind,proto,port,src_role,dst_role,src,dst,verdict,sessions,packets,"
	      "bytes,first_ts,last_ts,state,purpose,detail,finding\n",
	      out);
	struct csv_nums n;
	for (size_t i = 0; i < w->nexp; i++) {
		const struct sm_expected_row *r = &w->exp[i];
		uint64_t counts[3] = {r->sessions, UINT64_MAX, UINT64_MAX};
		csv_numbers(&n, r->port, counts, r->first_ts, r->last_ts, r->finding_id);
		const char *col[C_COUNT] = {[C_SECTION] = "expected",
		                            [C_RULE] = r->rule,
		                            [C_KIND] = sm_rule_kind_name(r->kind),
		                            [C_PROTO] = r->proto,
		                            [C_PORT] = n.port,
		                            [C_SRC_ROLE] = r->src_role,
		                            [C_DST_ROLE] = r->dst_role,
		                            [C_SRC] = r->src,
		                            [C_DST] = r->dst,
		                            [C_VERDICT] = sm_verdict_name(r->verdict),
		                            [C_SESSIONS] = n.sessions,
		                            [C_FIRST_TS] = n.first,
		                            [C_LAST_TS] = n.last,
		                            [C_PURPOSE] = r->purpose,
		                            [C_DETAIL] = r->detail,
		                            [C_FINDING] = n.finding};
		csv_row(out, col);
	}
	for (size_t i = 0; i < w->nunx; i++) {
		const struct sm_unexpected_row *u = &w->unx[i];
		uint64_t counts[3] = {u->sessions, u->packets, u->bytes};
		csv_numbers(&n, u->port, counts, u->first_ts, u->last_ts, u->finding_id);
		const char *col[C_COUNT] = {
		    [C_SECTION] = "unexpected", [C_PROTO] = u->proto,       [C_PORT] = n.port,
		    [C_SRC_ROLE] = u->src_role, [C_DST_ROLE] = u->dst_role, [C_SRC] = u->src,
		    [C_DST] = u->dst,           [C_SESSIONS] = n.sessions,  [C_PACKETS] = n.packets,
		    [C_BYTES] = n.bytes,        [C_FIRST_TS] = n.first,     [C_LAST_TS] = n.last,
		    [C_STATE] = u->state,       [C_FINDING] = n.finding};
		csv_row(out, col);
	}
	for (size_t i = 0; i < w->nmis; i++) {
		const struct sm_finding_row *f = &w->mis[i];
		uint64_t counts[3] = {UINT64_MAX, UINT64_MAX, UINT64_MAX};
		csv_numbers(&n, f->port, counts, 0, 0, f->id);
		const char *col[C_COUNT] = {[C_SECTION] = "protocol-mismatch",
		                            [C_RULE] = f->rule,
		                            [C_PROTO] = f->proto,
		                            [C_PORT] = n.port,
		                            [C_SRC] = f->src,
		                            [C_DST] = f->dst,
		                            [C_DETAIL] = f->detail,
		                            [C_FINDING] = n.finding};
		csv_row(out, col);
	}
}

/* ---- text ---- */

/* What to check and which ONTAP command tests the path, per flow and verdict. */
static void
advice(FILE *out, const struct sm_expected_row *r)
{
	const char *dst = r->dst[0] ? r->dst : "<peer LIF>";
	const char *src = r->src[0] ? r->src : "<LIF>";
	char what[64];
	if (r->port >= 0)
		snprintf(what, sizeof(what), "%s/%d", r->proto, r->port);
	else
		sm_strlcpy(what, "ICMP echo", sizeof(what));
	if (r->verdict == V_NO_ANSWER)
		fprintf(out,
		        "      check: a firewall or ACL between %s and %s that drops %s (no "
		        "permit, or an explicit DROP)\n",
		        src, dst, what);
	else if (r->verdict == V_REJECTED)
		fprintf(out,
		        "      check: a REJECT rule for %s on the device named above; if the "
		        "destination itself answered, the service is not listening there "
		        "(network interface service-policy show)\n",
		        what);
	else if (r->verdict == V_ONE_WAY)
		fprintf(out, "      check: the span/mirror session: it must copy both directions "
		             "(and every VLAN) of this path before this verdict can be trusted\n");
	else if (r->verdict == V_NOT_SEEN)
		fprintf(out, "      check: that the capture point sees this path at all, then "
		             "whether the initiator was configured to use it\n");
	else
		return;
	bool mediator = strcmp(r->dst_role, "mediator") == 0;
	if (mediator)
		fprintf(out,
		        "      test:  snapmirror mediator show; network interface "
		        "service-policy show; network connections active show -remote-ip "
		        "%s\n",
		        dst);
	else if (r->port < 0)
		fprintf(out, "      test:  cluster peer ping; cluster peer health show\n");
	else if (strncmp(r->src_role, "ic-", 3) == 0)
		fprintf(out,
		        "      test:  cluster peer ping; network test-path -source-node <node> "
		        "-destination-cluster <peer> -destination-network-address %s; network "
		        "connections active show -remote-ip %s\n",
		        dst, dst);
	else
		fprintf(out,
		        "      test:  network connections active show -remote-ip %s; network "
		        "interface service-policy show\n",
		        dst);
}

/* "  [finding N]" after the line of an entry that is a finding, else "". */
static const char *
finding_tag(int64_t id, char *buf, size_t len)
{
	if (id <= 0)
		return "";
	snprintf(buf, len, "  [finding %lld]", (long long)id);
	return buf;
}

/* The lines under an expected flow's line: sessions, detail, capture loss and, with
 * advice, what to check; each indented by 6 spaces (the HTML report lists them). */
static void
expected_notes(FILE *out, const struct sm_run_row *run, const struct sm_expected_row *r,
               bool with_advice)
{
	char t0[40], t1[40];
	if (r->sessions > 0) {
		sm_fmt_time(r->first_ts, t0, sizeof(t0));
		sm_fmt_time(r->last_ts, t1, sizeof(t1));
		fprintf(out, "      %llu session(s), %s .. %s\n", (unsigned long long)r->sessions,
		        t0, t1);
	}
	if (r->detail[0])
		fprintf(out, "      %s\n", r->detail);
	bool loss_sensitive =
	    r->verdict == V_NO_ANSWER || r->verdict == V_ONE_WAY || r->verdict == V_NOT_SEEN;
	if (run->dropped > 0 && loss_sensitive)
		fprintf(out,
		        "      CAUTION: the capture dropped %llu packet(s) in this run; what is "
		        "missing here may be capture loss\n",
		        (unsigned long long)run->dropped);
	else if (run->missed_bytes > 0 && loss_sensitive)
		fprintf(out,
		        "      CAUTION: the capture missed %llu bytes inside TCP streams in this "
		        "run; what is missing here may be capture loss\n",
		        (unsigned long long)run->missed_bytes);
	if (with_advice)
		advice(out, r);
}

static void
text_expected(FILE *out, const struct sm_run_row *run, const struct sm_expected_row *r,
              bool with_advice, bool color)
{
	char name[256], id[32];
	sm_fmt_flow_name(r, name, sizeof(name));
	fprintf(out, "  %s%-9s%s %s  (%s)%s\n", tone(color, verdict_tone(r->verdict)),
	        sm_verdict_name(r->verdict), tone_end(color), name, r->purpose,
	        finding_tag(r->finding_id, id, sizeof(id)));
	expected_notes(out, run, r, with_advice);
}

static bool
text_source(void *ctx, const char *path, uint64_t packets, const char *error)
{
	struct src_ctx *c = ctx;
	fprintf(c->out, "  source   %s (%llu packets)%s%s\n", path, (unsigned long long)packets,
	        error[0] ? ": " : "", error);
	return true;
}

static enum sm_err
render_text(FILE *out, struct sm_store *st, const struct sm_run_row *run, const struct rows *w,
            const struct sm_report_summary *sum, bool color, struct sm_errbuf *eb)
{
	const char *end = tone_end(color), *warn = tone(color, TONE_WARN);
	char t0[40], t1[40];
	sm_fmt_time(run->first_ts, t0, sizeof(t0));
	sm_fmt_time(run->last_ts, t1, sizeof(t1));
	fprintf(out, "%ssmaudit report, run %lld (%s, %s)%s\n", tone(color, TONE_HEAD),
	        (long long)run->id, run->mode, run->status, end);
	struct src_ctx sc = {out, 0, true};
	enum sm_err e = sm_store_each_source(st, run->id, true, text_source, &sc, eb);
	if (e != SM_OK)
		return e;
	fprintf(out, "  time     %s .. %s\n", t0, t1);
	if (counter(w, SM_COUNTER_WINDOW_FROM) || counter(w, SM_COUNTER_WINDOW_UNTIL)) {
		char w0[40] = "(start)", w1[40] = "(end)";
		if (counter(w, SM_COUNTER_WINDOW_FROM))
			sm_fmt_time(counter_ts(w, SM_COUNTER_WINDOW_FROM), w0, sizeof(w0));
		if (counter(w, SM_COUNTER_WINDOW_UNTIL))
			sm_fmt_time(counter_ts(w, SM_COUNTER_WINDOW_UNTIL), w1, sizeof(w1));
		fprintf(out,
		        "  window   %s .. %s (--from/--until: packets outside were not "
		        "counted)\n",
		        w0, w1);
	}
	fprintf(out, "  traffic  %llu packets, %llu bytes, %llu sessions, %llu undecoded",
	        (unsigned long long)run->packets, (unsigned long long)run->bytes,
	        (unsigned long long)run->sessions, (unsigned long long)run->undecoded);
	if (run->dropped)
		fprintf(out, ", %llu DROPPED by the capture", (unsigned long long)run->dropped);
	if (run->evicted)
		fprintf(out, ", %llu evicted (table full)", (unsigned long long)run->evicted);
	if (run->missed_bytes)
		fprintf(out, ", %llu bytes MISSED by the capture in %llu TCP session(s)",
		        (unsigned long long)run->missed_bytes,
		        (unsigned long long)run->gap_sessions);
	fputc('\n', out);
	if (run->filter != NULL)
		fprintf(out,
		        "  filter   %s (only matching packets were read: flows it excludes are "
		        "'filtered', not missing)\n",
		        run->filter);
	if (run->strict)
		fputs("  strict   intermittent failures of expected flows are findings\n", out);
	if (!run_is(run, RUN_COMPLETE))
		fprintf(out,
		        "  %sWARNING%s  this run did not finish (%s): verdicts cover only what "
		        "was read\n",
		        warn, end, run->status);
	const struct sm_counter_row *stop = counter(w, SM_COUNTER_STOPPED_AT);
	if (stop != NULL)
		fprintf(out,
		        "  %sWARNING%s  stopped after %llu packets (-c): the capture holds more; "
		        "verdicts cover only what was read\n",
		        warn, end, (unsigned long long)stop->value);
	for (size_t i = 0; i < w->nctr; i++)
		if (strcmp(w->ctr[i].name, SM_COUNTER_REASM_FULL) == 0)
			fprintf(out,
			        "  %sWARNING%s  the stream reassembly table was full %llu time(s): "
			        "some sessions' protocols were not checked (unverified)\n",
			        warn, end, (unsigned long long)w->ctr[i].value);
	text_db_fault(out, w, warn, end);
	if (run->read_errors)
		fprintf(out,
		        "  %sWARNING%s  %llu capture file(s) could not be read to the end: "
		        "flows after the damage may show as not-seen\n",
		        warn, end, (unsigned long long)run->read_errors);
	if (unseen_count(w) > 0)
		text_coverage(out, run, w,
		              color); /* before any 'missing': the capture did not see it all */
	if (sum->nothing_read) {
		if (run_is(run, RUN_RUNNING))
			fprintf(out,
			        "\nINCOMPLETE: run %lld is still running and has stored no packet "
			        "yet: nothing is judged so far\n",
			        (long long)run->id);
		else
			fprintf(out,
			        "\nINCOMPLETE: run %lld stored no packet before it stopped (killed "
			        "before its first checkpoint, or it failed to start): nothing was "
			        "judged\n",
			        (long long)run->id);
		return SM_OK;
	}

	fprintf(out, "\n%sMISSING EXPECTED FLOWS (%llu)%s\n", tone_head(color, sum->missing),
	        (unsigned long long)sum->missing, end);
	for (size_t i = 0; i < w->nexp; i++)
		if (w->exp[i].kind == RK_EXPECT && is_missing(&w->exp[i]))
			text_expected(out, run, &w->exp[i], true, color);
	if (sum->missing == 0)
		fputs("  none\n", out);

	if (run->strict) {
		fprintf(out, "\n%sINTERMITTENT FAILURES OF EXPECTED FLOWS (%llu)%s\n",
		        tone_head(color, sum->intermittent), (unsigned long long)sum->intermittent,
		        end);
		for (size_t i = 0; i < w->nexp; i++)
			if (w->exp[i].kind == RK_EXPECT && w->exp[i].failed > 0)
				text_expected(out, run, &w->exp[i], true, color);
		if (sum->intermittent == 0)
			fputs("  none\n", out);
	}

	fprintf(out, "\n%sUNEXPECTED TRAFFIC ON MONITORED ROLES (%llu)%s\n",
	        tone_head(color, sum->unexpected), (unsigned long long)sum->unexpected, end);
	for (size_t i = 0; i < w->nunx; i++) {
		const struct sm_unexpected_row *u = &w->unx[i];
		char port[16] = "";
		if (u->port >= 0)
			snprintf(port, sizeof(port), "/%d", u->port);
		sm_fmt_time(u->first_ts, t0, sizeof(t0));
		char id[32];
		fprintf(out,
		        "  %s%s  %s (%s) -> %s (%s)  %llu session(s), %llu packets, state %s, "
		        "first %s%s\n",
		        u->proto, port, u->src, u->src_role[0] ? u->src_role : "no role", u->dst,
		        u->dst_role[0] ? u->dst_role : "no role", (unsigned long long)u->sessions,
		        (unsigned long long)u->packets, u->state, t0,
		        finding_tag(u->finding_id, id, sizeof(id)));
	}
	if (sum->unexpected == 0)
		fputs("  none\n", out);

	fprintf(out, "\n%sPROTOCOL MISMATCHES (%zu)%s\n", tone_head(color, w->nmis), w->nmis, end);
	for (size_t i = 0; i < w->nmis; i++) {
		const struct sm_finding_row *f = &w->mis[i];
		char id[32];
		fprintf(out, "  %s/%d  %s -> %s  [%s]%s\n      %s\n", f->proto, f->port, f->src,
		        f->dst, f->rule, finding_tag(f->id, id, sizeof(id)), f->detail);
	}
	if (w->nmis == 0)
		fputs("  none\n", out);

	fprintf(out, "\n%sOPTIONAL FLOWS NOT SEEN WORKING (%llu)%s\n", tone(color, TONE_HEAD),
	        (unsigned long long)sum->optional_missing, end);
	for (size_t i = 0; i < w->nexp; i++)
		if (w->exp[i].kind == RK_OPTIONAL && is_missing(&w->exp[i]))
			text_expected(out, run, &w->exp[i], false, color);
	if (sum->optional_missing == 0)
		fputs("  none\n", out);

	if (run->filter != NULL) {
		fprintf(out, "\n%sHIDDEN BY THE CAPTURE FILTER (%llu)%s: the capture cannot say\n",
		        tone(color, TONE_HEAD), (unsigned long long)sum->filtered, end);
		for (size_t i = 0; i < w->nexp; i++)
			if (w->exp[i].verdict == V_FILTERED) {
				char name[256];
				sm_fmt_flow_name(&w->exp[i], name, sizeof(name));
				fprintf(out, "  filtered  %s  (%s)\n", name,
				        sm_rule_kind_name(w->exp[i].kind));
			}
		if (sum->filtered == 0)
			fputs("  none\n", out);
	}

	fprintf(out, "\n%sWORKING%s\n", tone(color, TONE_HEAD), end);
	size_t nok = 0;
	for (size_t i = 0; i < w->nexp; i++)
		if (w->exp[i].verdict == V_OK) {
			char name[256], id[32];
			sm_fmt_flow_name(&w->exp[i], name, sizeof(name));
			fprintf(out, "  %sok%s  %s  %llu session(s)%s%s%s\n",
			        tone(color, TONE_GOOD), end, name,
			        (unsigned long long)w->exp[i].sessions,
			        w->exp[i].detail[0] ? "; " : "", w->exp[i].detail,
			        finding_tag(w->exp[i].finding_id, id, sizeof(id)));
			nok++;
		}
	if (nok == 0)
		fputs("  none\n", out);

	if (sum->not_applicable) {
		fprintf(out, "\n%sNOT APPLICABLE (role not in the site file)%s\n",
		        tone(color, TONE_HEAD), end);
		for (size_t i = 0; i < w->nexp; i++)
			if (w->exp[i].verdict == V_NA)
				fprintf(out, "  %s %s/%d %s -> %s: %s\n", w->exp[i].rule,
				        w->exp[i].proto, w->exp[i].port, w->exp[i].src_role,
				        w->exp[i].dst_role, w->exp[i].detail);
	}

	if (unseen_count(w) == 0)
		text_coverage(out, run, w, color);

	size_t nundecoded = 0;
	for (size_t i = 0; i < w->nctr; i++)
		nundecoded += counter_is_reason(w->ctr[i].name);
	if (nundecoded) {
		fprintf(out, "\n%sUNDECODED PACKETS BY REASON%s\n", tone(color, TONE_HEAD), end);
		for (size_t i = 0; i < w->nctr; i++)
			if (counter_is_reason(w->ctr[i].name))
				fprintf(out, "  %-26s %llu\n", w->ctr[i].name,
				        (unsigned long long)w->ctr[i].value);
	}
	bool findings = sum->missing || sum->unexpected || sum->mismatched;
	fprintf(out,
	        "\n%sSUMMARY%s: %llu expected, %llu ok, %llu missing, %llu optional missing, %llu "
	        "unexpected, %llu protocol mismatches",
	        tone(color, findings ? TONE_BAD : TONE_GOOD), end,
	        (unsigned long long)sum->expected, (unsigned long long)sum->ok,
	        (unsigned long long)sum->missing, (unsigned long long)sum->optional_missing,
	        (unsigned long long)sum->unexpected, (unsigned long long)sum->mismatched);
	if (run->filter != NULL)
		fprintf(out, ", %llu filtered", (unsigned long long)sum->filtered);
	if (run->strict)
		fprintf(out, ", %llu intermittent", (unsigned long long)sum->intermittent);
	fputc('\n', out);
	return SM_OK;
}

/* ---- html: one self-contained file (no script, no external resource) ---- */

static void
html_text_n(FILE *out, const char *s, size_t n)
{
	for (; s && n > 0 && *s; s++, n--) {
		if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '>')
			fputs("&gt;", out);
		else if (*s == '&')
			fputs("&amp;", out);
		else if (*s == '"')
			fputs("&quot;", out);
		else
			fputc(*s, out);
	}
}

static void
html_text(FILE *out, const char *s)
{
	html_text_n(out, s, SIZE_MAX);
}

/* Text whose hyphenated words (dates, role names, verdicts, ONTAP options) are never
 * broken at their hyphens: a browser may wrap there, which splits "cluster-mgmt-a". */
static void
html_words(FILE *out, const char *s)
{
	while (s && *s) {
		size_t n = strcspn(s, " ");
		bool keep = memchr(s, '-', n) != NULL && n <= 32;
		fputs(keep ? "<span class=\"nw\">" : "", out);
		html_text_n(out, s, n);
		fputs(keep ? "</span>" : "", out);
		s += n;
		for (; *s == ' '; s++)
			fputc(' ', out);
	}
}

/* A command as code, wrapped only between its words. */
static void
html_code(FILE *out, const char *cmd)
{
	fputs("<code>", out);
	html_words(out, cmd);
	fputs("</code>", out);
}

/* How bad a verdict is in the matrix: a cell shows its worst flow's. */
static int
verdict_rank(enum sm_verdict v)
{
	static const int rank[] = {
	    [V_NA] = 0,      [V_OK] = 1,        [V_FILTERED] = 2, [V_NOT_SEEN] = 3,
	    [V_ONE_WAY] = 4, [V_NO_ANSWER] = 5, [V_REJECTED] = 6, [V_NONE] = 0};
	return rank[v];
}

/* The page reads at 1400 px and on a phone (400 px): below 700 px the matrix becomes
 * one block per role pair, the timeline one bar per line; names never break inside. */
static const char html_style[] =
    "<style>\n"
    "*{box-sizing:border-box}\n"
    "body{font-family:sans-serif;margin:0 auto;padding:1em 1.5em;max-width:1400px;color:#222;"
    "line-height:1.4;overflow-wrap:break-word}\n"
    "h1{font-size:1.5em;margin:.2em 0 .4em}h2{font-size:1.25em;margin:1.4em 0 .5em;"
    "border-bottom:1px solid #ddd}h3{font-size:1.05em;margin:1em 0 .4em}\n"
    "header dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.1em .8em;"
    "margin:.5em 0}header dt{color:#666}header dd{margin:0}\n"
    ".role,.addr,.flow,.fid,.nw{white-space:nowrap}\n"
    "h1 .file{display:inline-block;max-width:100%;overflow:hidden;text-overflow:ellipsis;"
    "white-space:nowrap;vertical-align:bottom}\n"
    ".addr,code{font-family:monospace,monospace;font-size:.9em}\n"
    "code{background:#f0f0f0;padding:0 .2em}\n"
    ".badge{display:inline-block;padding:0 .4em;border-radius:3px;font-weight:bold}\n"
    ".finding{border-left:6px solid #e69138;padding:.4em .8em;margin:.6em 0;"
    "background:#fafafa}\n.finding.bad{border-color:#d33}\n"
    ".finding p{margin:.1em 0}.finding ul,ul.items{margin:.3em 0;padding-left:1.2em}"
    ".finding li,ul.items li{margin:.2em 0}\n.fid,.purpose{color:#555}\n"
    "table{border-collapse:collapse;margin:.5em 0}\n"
    "td,th{border:1px solid #bbb;padding:.3em .6em;font-size:90%;vertical-align:top}\n"
    "th{background:#eee}#matrix tr>th:first-child{text-align:left}\n"
    ".cell{text-align:center;font-weight:bold;cursor:help;white-space:nowrap}\n"
    ".v-ok{background:#b7e4b0}.v-no-answer{background:#f4a6a6}.v-rejected{background:#e06666;"
    "color:#fff}\n.v-one-way{background:#ffd27f}.v-not-seen{background:#d9d9d9}"
    ".v-na{background:#fff;color:#999}.v-filtered{background:#cfe2f3}\n"
    ".intermittent{outline:3px dashed #e69138;outline-offset:-3px}\n"
    "pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap;overflow-wrap:anywhere}\n"
    ".warn{color:#a00;font-weight:bold}summary{cursor:pointer}\n"
    ".tl{display:grid;grid-template-columns:minmax(16em,34%) minmax(0,1fr);gap:.2em .8em;"
    "font-size:90%}\n.tl svg{display:block;width:100%;height:14px;background:#f3f3f3;"
    "border:1px solid #ccc}\n.tl .gap{color:#a00}\n"
    ".axis{position:relative;height:1.4em;font-size:90%;color:#555}\n"
    ".axis span{position:absolute;transform:translateX(-50%);white-space:nowrap}\n"
    ".axis span:first-child{transform:none}.axis span:last-child{transform:translateX(-100%)}\n"
    "@media (max-width:700px){body{padding:.6em .7em}\n"
    "#matrix,#matrix tbody,#matrix tr,#matrix tr>th{display:block}\n"
    "#matrix tr:first-child{display:none}#matrix tr{margin:.5em 0;border:1px solid #bbb}\n"
    "#matrix tr>th{border:0;padding:.2em .4em}\n"
    "#matrix td{display:inline-block;border:0;margin:.15em .2em;border-radius:3px}\n"
    "#matrix td:empty{display:none}\n"
    "#matrix td.cell::before{content:attr(data-col) \" \";font-weight:normal}\n"
    ".tl{grid-template-columns:minmax(0,1fr)}.tl .pad{display:none}.tl .name{margin-top:.4em}\n"
    ".axis span:nth-child(2n){display:none}}\n"
    "</style>\n";

/* "tcp/11104 ic-a 10.0.0.1 -> ic-b 10.0.0.2" with names that do not break inside; a
 * NULL role is left out, "" is "no role"; an address "" is left out. */
static void
html_flow(FILE *out, const char *proto, int port, const char *src_role, const char *src,
          const char *dst_role, const char *dst)
{
	if (port >= 0)
		fprintf(out, "<span class=\"flow\">%s/%d</span> ", proto, port);
	else
		fprintf(out, "<span class=\"flow\">%s/echo</span> ", proto);
	const char *role[2] = {src_role, dst_role}, *addr[2] = {src, dst};
	for (int k = 0; k < 2; k++) {
		fputs(k ? " \xe2\x86\x92 " : "", out);
		if (role[k] != NULL) { /* NULL: not known (protocol mismatches) */
			fputs("<span class=\"role\">", out);
			html_text(out, role[k][0] ? role[k] : "no role");
			fputs(addr[k][0] ? "</span> " : "</span>", out);
		}
		if (addr[k][0]) { /* none for a flow of a role without address (n/a) */
			fputs("<span class=\"addr\">", out);
			html_text(out, addr[k]);
			fputs("</span>", out);
		}
	}
}

static void
html_finding_id(FILE *out, int64_t id)
{
	if (id > 0)
		fprintf(out, " <span class=\"fid\">[finding %lld]</span>", (long long)id);
}

/* The notes of the text report under a flow, one item a line; "test:" commands as code. */
static void
html_notes(FILE *out, const char *txt)
{
	fputs("<ul>", out);
	for (const char *line = txt; line && *line;) {
		size_t len = strcspn(line, "\n");
		char buf[1024];
		snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
		line += len + (line[len] == '\n');
		char *s = buf + strspn(buf, " ");
		if (strncmp(s, "check:", 6) == 0) {
			fputs("<li><b>check</b> ", out);
			html_words(out, s + 6 + strspn(s + 6, " "));
		} else if (strncmp(s, "test:", 5) == 0) {
			fputs("<li><b>test</b>", out);
			for (char *cmd = s + 5, *next; cmd != NULL; cmd = next) {
				cmd += strspn(cmd, " ");
				next = strstr(cmd, "; ");
				if (next != NULL)
					*next = '\0', next += 2;
				fputc(' ', out);
				html_code(out, cmd);
				fputs(next != NULL ? ";" : "", out);
			}
		} else {
			fprintf(out, "<li%s>",
			        strncmp(s, "CAUTION", 7) == 0 ? " class=\"warn\"" : "");
			html_words(out, s);
		}
		fputs("</li>", out);
	}
	fputs("</ul>\n", out);
}

/* One failing expected flow: what failed, when, and what to check next. */
static void
html_expected_card(FILE *out, const struct sm_run_row *run, const struct sm_expected_row *r,
                   bool partial)
{
	bool bad = r->verdict == V_NO_ANSWER || r->verdict == V_REJECTED;
	const char *v = sm_verdict_name(r->verdict);
	fprintf(out, "<div class=\"finding%s%s\"><p><span class=\"badge v-%s\">%s</span> ",
	        bad ? " bad" : "", partial ? " partial" : "", v, v);
	html_flow(out, r->proto, r->port, r->src_role, r->src, r->dst_role, r->dst);
	html_finding_id(out, r->finding_id);
	fputs("</p>\n<p class=\"purpose\">", out);
	html_words(out, r->purpose);
	fputs("</p>\n", out);
	char *txt = NULL;
	size_t len = 0;
	FILE *t = open_memstream(&txt, &len);
	if (t != NULL) {
		expected_notes(t, run, r, true);
		fclose(t);
		html_notes(out, txt);
	}
	free(txt);
	fputs("</div>\n", out);
}

/* Finds key in tab (n used of max), adding it if missing; max when tab is full. */
static size_t
html_key(char (*tab)[96], size_t *n, size_t max, const char *key)
{
	size_t k;
	for (k = 0; k < *n && strcmp(tab[k], key) != 0; k++)
		;
	if (k == *n && *n < max)
		sm_strlcpy(tab[(*n)++], key, sizeof(tab[0]));
	return k < *n ? k : max;
}

/* One cell of the matrix: the worst verdict of its flows, each flow and why on hover. */
static void
html_cell(FILE *out, const struct rows *w, size_t (*cell)[2], size_t col, size_t row,
          const char *colname)
{
	enum sm_verdict worst = V_NONE;
	bool intermittent = false;
	char *tip = NULL;
	size_t tiplen = 0;
	FILE *t = open_memstream(&tip, &tiplen);
	for (size_t i = 0; t != NULL && i < w->nexp; i++) {
		const struct sm_expected_row *r = &w->exp[i];
		if (cell[i][0] != col || cell[i][1] != row)
			continue;
		if (worst == V_NONE || verdict_rank(r->verdict) > verdict_rank(worst))
			worst = r->verdict;
		intermittent |= r->failed > 0;
		char name[256];
		sm_fmt_flow_name(r, name, sizeof(name));
		fprintf(t, "%s %s: %s (%s, %llu session(s))%s%s\n", sm_verdict_name(r->verdict),
		        name, r->purpose, sm_rule_kind_name(r->kind),
		        (unsigned long long)r->sessions, r->detail[0] ? "; " : "", r->detail);
	}
	if (t != NULL)
		fclose(t);
	if (worst == V_NONE) {
		fputs("<td></td>", out);
	} else {
		const char *v = sm_verdict_name(worst);
		fprintf(out,
		        "<td class=\"cell v-%s%s\" data-verdict=\"%s\" data-col=\"%s\" title=\"",
		        worst == V_NA ? "na" : v, intermittent ? " intermittent" : "", v, colname);
		html_text(out, tip);
		fprintf(out, "\">%s%s</td>", v, intermittent ? "*" : "");
	}
	free(tip);
}

/* Role pairs x ports; pairs whose every flow is n/a are one collapsed line below. */
static bool
html_matrix(FILE *out, const struct rows *w)
{
	enum { MAX_COLS = 64, MAX_ROWS = 128 };
	char cols[MAX_COLS][96], rws[MAX_ROWS][96];
	bool applies[MAX_ROWS + 1] = {false};
	size_t ncol = 0, nrow = 0, nna = 0;
	bool intermittent = false;
	size_t(*cell)[2] = calloc(w->nexp + 1, sizeof(*cell)); /* column, row of each flow */
	if (cell == NULL)
		return false;
	for (size_t i = 0; i < w->nexp; i++) {
		const struct sm_expected_row *r = &w->exp[i];
		char p[96];
		snprintf(p, sizeof(p), "%s\t%s", r->src_role, r->dst_role);
		cell[i][1] = html_key(rws, &nrow, MAX_ROWS, p);
		applies[cell[i][1]] |= r->verdict != V_NA;
		nna += r->verdict == V_NA;
		intermittent |= r->failed > 0;
	}
	for (size_t i = 0; i < w->nexp; i++) {
		const struct sm_expected_row *r = &w->exp[i];
		char c[96];
		if (r->port >= 0)
			snprintf(c, sizeof(c), "%s/%d", r->proto, r->port);
		else
			snprintf(c, sizeof(c), "%s/echo", r->proto);
		cell[i][0] = applies[cell[i][1]] ? html_key(cols, &ncol, MAX_COLS, c) : MAX_COLS;
	}
	fputs("<section id=\"expected\"><h2>Expected flows</h2>\n<p>Each cell is the worst "
	      "verdict of the flows between the two roles on that port; hover over it for each "
	      "flow and why.</p>\n<table id=\"matrix\"><tr><th>initiator \xe2\x86\x92 "
	      "responder</th>",
	      out);
	for (size_t k = 0; k < ncol; k++)
		fprintf(out, "<th>%s</th>", cols[k]);
	fputs("</tr>\n", out);
	for (size_t j = 0; j < nrow; j++) {
		if (!applies[j])
			continue;
		size_t tab = strcspn(rws[j], "\t");
		fputs("<tr><th><span class=\"role\">", out);
		html_text_n(out, rws[j], tab);
		fputs("</span> \xe2\x86\x92 <span class=\"role\">", out);
		html_text(out, rws[j] + tab + (rws[j][tab] != '\0'));
		fputs("</span></th>", out);
		for (size_t k = 0; k < ncol; k++)
			html_cell(out, w, cell, k, j, cols[k]);
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
	if (intermittent)
		fputs("<p>* intermittent: some sessions failed while others worked.</p>\n", out);
	if (nna > 0) {
		fprintf(out,
		        "<details id=\"na\"><summary>%zu flows not applicable: a role of theirs "
		        "is not in the site file</summary>\n<ul class=\"items\">\n",
		        nna);
		for (size_t i = 0; i < w->nexp; i++) {
			const struct sm_expected_row *r = &w->exp[i];
			if (r->verdict != V_NA)
				continue;
			fputs("<li>", out);
			html_flow(out, r->proto, r->port, r->src_role, r->src, r->dst_role, r->dst);
			fputs(": ", out);
			html_words(out, r->detail);
			fputs("</li>\n", out);
		}
		fputs("</ul></details>\n", out);
	}
	fputs("</section>\n", out);
	free(cell);
	return true;
}

/* The first section: what fails, what else talks to the monitored roles, what to do. */
static void
html_failing(FILE *out, const struct sm_run_row *run, const struct rows *w,
             const struct sm_report_summary *sum, const char *db_path)
{
	fprintf(out, "<section id=\"failing\"><h2>Failing flows (%llu)</h2>\n",
	        (unsigned long long)sum->missing);
	bool any_finding = false;
	for (size_t i = 0; i < w->nexp; i++)
		if (is_missing(&w->exp[i]) && w->exp[i].kind == RK_EXPECT) {
			html_expected_card(out, run, &w->exp[i], false);
			any_finding |= w->exp[i].finding_id > 0;
		}
	if (sum->nothing_read)
		fprintf(
		    out,
		    "<p class=\"warn\">Nothing was judged: run %lld stored no packet (still "
		    "running, killed before its first checkpoint, or it failed to start).</p>\n",
		    (long long)run->id);
	else if (sum->missing == 0)
		fputs("<p>No expected flow is missing.</p>\n", out);
	if (sum->intermittent > 0) {
		fprintf(out, "<h3>Intermittent failures of expected flows (%llu)%s</h3>\n",
		        (unsigned long long)sum->intermittent,
		        run->strict ? "" : ": working, not findings without --strict");
		for (size_t i = 0; i < w->nexp; i++)
			if (w->exp[i].kind == RK_EXPECT && w->exp[i].failed > 0) {
				html_expected_card(out, run, &w->exp[i], true);
				any_finding |= w->exp[i].finding_id > 0;
			}
	}
	if (w->nunx > 0) {
		fprintf(out,
		        "<h3>Unexpected traffic on monitored roles (%zu)</h3>\n<ul class=\"items\" "
		        "id=\"unexpected\">\n",
		        w->nunx);
		for (size_t i = 0; i < w->nunx; i++) {
			const struct sm_unexpected_row *u = &w->unx[i];
			char t0[40];
			sm_fmt_time(u->first_ts, t0, sizeof(t0));
			fputs("<li>", out);
			html_flow(out, u->proto, u->port, u->src_role, u->src, u->dst_role, u->dst);
			fprintf(out,
			        ": %llu session(s), %llu packets, state %s, first <span "
			        "class=\"nw\">%s</span>",
			        (unsigned long long)u->sessions, (unsigned long long)u->packets,
			        u->state, t0);
			html_finding_id(out, u->finding_id);
			fputs("</li>\n", out);
			any_finding |= u->finding_id > 0;
		}
		fputs("</ul>\n", out);
	}
	if (w->nmis > 0) {
		fprintf(out, "<h3>Protocol mismatches (%zu)</h3>\n<ul class=\"items\">\n", w->nmis);
		for (size_t i = 0; i < w->nmis; i++) {
			const struct sm_finding_row *f = &w->mis[i];
			fputs("<li>", out);
			html_flow(out, f->proto, f->port, NULL, f->src, NULL, f->dst);
			html_finding_id(out, f->id);
			fputs(": ", out);
			html_words(out, f->detail);
			fputs("</li>\n", out);
			any_finding |= f->id > 0;
		}
		fputs("</ul>\n", out);
	}
	if (db_path != NULL && any_finding) {
		char cmd[4200];
		snprintf(cmd, sizeof(cmd), "smaudit extract -d %s --finding N -o finding-N.pcap",
		         db_path);
		fputs("<p id=\"extract\">The packets behind a finding, for the firewall team: ",
		      out);
		html_code(out, cmd);
		fprintf(out, " (N as in [finding N], run %lld).</p>\n", (long long)run->id);
	}
	fputs("</section>\n", out);
}

/* "04:17:09" (".8" added when the ticks are less than 10 s apart). */
static void
html_axis_label(double ts, bool tenths, char *buf, size_t len)
{
	time_t t = (time_t)ts;
	struct tm tm;
	gmtime_r(&t, &tm);
	char hms[16];
	strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	if (tenths)
		snprintf(buf, len, "%s.%d", hms, (int)((ts - (double)t) * 10));
	else
		snprintf(buf, len, "%s", hms);
}

enum { AXIS_TICKS = 4 };

static void
html_axis(FILE *out, const struct sm_timeline *tl)
{
	double span = tl->t1 - tl->t0;
	fputs("<div class=\"pad\"></div><div class=\"axis\">", out);
	for (int k = 0; k <= AXIS_TICKS; k++) {
		char label[32];
		html_axis_label(tl->t0 + span * k / AXIS_TICKS, span / AXIS_TICKS < 10, label,
		                sizeof(label));
		fprintf(out, "<span style=\"left:%d%%\">%s</span>", 100 * k / AXIS_TICKS, label);
	}
	fputs("</div>\n", out);
}

static enum sm_err
html_timeline(FILE *out, struct sm_store *st, const struct sm_run_row *run, struct sm_errbuf *eb)
{
	struct sm_timeline_opts o = {run->id, NULL, NULL, -1, 30, 120};
	struct sm_timeline tl;
	enum sm_err e = sm_timeline_build(st, &o, &tl, eb);
	if (e != SM_OK) {
		sm_timeline_free(&tl);
		return e;
	}
	char t0[40], t1[40];
	sm_fmt_time(tl.t0, t0, sizeof(t0));
	sm_fmt_time(tl.t1, t1, sizeof(t1));
	fprintf(
	    out,
	    "<section id=\"timeline\"><h2>Timeline per flow</h2>\n<p>%s .. %s (UTC, %.1f s); "
	    "green: answered traffic, red: attempts only, grey: nothing. Silences of %g s or "
	    "more are listed (smaudit timeline --gap SEC for others).</p>\n<div class=\"tl\">\n",
	    t0, t1, tl.t1 - tl.t0, tl.gap);
	html_axis(out, &tl);
	for (size_t i = 0; i < tl.nflows; i++) {
		const struct sm_tl_flow *f = &tl.flows[i];
		fputs("<div class=\"name\">", out);
		html_flow(out, f->proto, f->port, f->src_role, f->src, f->dst_role, f->dst);
		fprintf(out,
		        "</div><div><svg viewBox=\"0 0 %zu 12\" preserveAspectRatio=\"none\" "
		        "role=\"img\">",
		        tl.nbuckets);
		for (int k = 1; k < AXIS_TICKS; k++)
			fprintf(out,
			        "<line x1=\"%g\" x2=\"%g\" y1=\"0\" y2=\"12\" stroke=\"#bbb\" "
			        "vector-effect=\"non-scaling-stroke\"/>",
			        (double)tl.nbuckets * k / AXIS_TICKS,
			        (double)tl.nbuckets * k / AXIS_TICKS);
		for (size_t k = 0; k < tl.nbuckets; k++)
			if (f->marks[k])
				fprintf(out,
				        "<rect x=\"%zu\" y=\"1\" width=\"1\" height=\"10\" "
				        "fill=\"%s\"/>",
				        k, f->marks[k] == TL_ANSWERED ? "#4caf50" : "#e53935");
		fputs("</svg>", out);
		for (size_t g = 0; g < f->ngaps; g++) {
			sm_fmt_time(f->gaps[g].from, t0, sizeof(t0));
			sm_fmt_time(f->gaps[g].to, t1, sizeof(t1));
			fprintf(out, "<div class=\"gap\">silent %s .. %s (%.1f s)%s</div>", t0, t1,
			        f->gaps[g].to - f->gaps[g].from,
			        f->gaps[g].attempts ? ", attempts failed" : "");
		}
		fputs("</div>\n", out);
	}
	if (tl.nflows > 8)
		html_axis(out, &tl);
	fputs("</div></section>\n", out);
	sm_timeline_free(&tl);
	return SM_OK;
}

/* Title and header: which captures, when, against which site file, through which filter. */
struct html_src {
	FILE *out;
	size_t n;
	char first[128]; /* the first capture's file name, for the title */
};

static bool
html_source(void *ctx, const char *path, uint64_t packets, const char *error)
{
	struct html_src *c = ctx;
	if (c->n++ == 0) {
		const char *slash = strrchr(path, '/');
		sm_strlcpy(c->first, slash && slash[1] ? slash + 1 : path, sizeof(c->first));
	}
	fputs(c->n > 1 ? "<br>" : "", c->out);
	html_text(c->out, path);
	fprintf(c->out, " (%llu packets)", (unsigned long long)packets);
	if (error[0]) {
		fputs(": <span class=\"warn\">", c->out);
		html_text(c->out, error);
		fputs("</span>", c->out);
	}
	return true;
}

static enum sm_err
html_header(FILE *out, struct sm_store *st, const struct sm_run_row *run,
            const struct sm_report_summary *sum, const char *db_path, struct sm_errbuf *eb)
{
	char *srcs = NULL;
	size_t len = 0;
	struct html_src c = {open_memstream(&srcs, &len), 0, ""};
	enum sm_err e = SM_OK;
	if (c.out != NULL) {
		e = sm_store_each_source(st, run->id, true, html_source, &c, eb);
		fclose(c.out);
	}
	if (e != SM_OK) {
		free(srcs);
		return e;
	}
	char more[32] = "", t0[40], t1[40];
	if (c.n > 1)
		snprintf(more, sizeof(more), " + %zu more", c.n - 1);
	sm_fmt_time(run->first_ts, t0, sizeof(t0));
	sm_fmt_time(run->last_ts, t1, sizeof(t1));
	fputs("<title>", out);
	html_text(out, c.first[0] ? c.first : "no capture");
	fprintf(out, "%s: ", more);
	if (sum->nothing_read)
		fputs("nothing judged", out);
	else if (sum->missing + sum->unexpected + sum->mismatched == 0)
		fputs("no failing flow", out);
	else {
		const uint64_t n[3] = {sum->missing, sum->unexpected, sum->mismatched};
		static const char *const what[3] = {"failing flow(s)", "unexpected",
		                                    "protocol mismatch(es)"};
		for (int k = 0, first = 1; k < 3; k++)
			if (n[k] > 0) {
				fprintf(out, "%s%llu %s", first ? "" : ", ",
				        (unsigned long long)n[k], what[k]);
				first = 0;
			}
	}
	fprintf(out, " (smaudit, %s)</title>\n", t0);
	fputs(html_style, out);
	fputs("</head><body>\n<header>\n<h1>smaudit report: <span class=\"file\">", out);
	html_text(out, c.first[0] ? c.first : "no capture");
	fprintf(out, "%s</span></h1>\n<dl id=\"run\">\n<dt>capture%s</dt>\n<dd>", more,
	        c.n > 1 ? "s" : "");
	fputs(srcs ? srcs : "", out);
	/* the end without its date when it is the same day */
	const char *t1_short = strncmp(t0, t1, 11) == 0 && strlen(t1) > 11 ? t1 + 11 : t1;
	fprintf(out,
	        "</dd>\n<dt>time</dt>\n<dd><span class=\"nw\">%s</span> .. <span "
	        "class=\"nw\">%s</span> (%.1f s)</dd>\n<dt>site</dt>\n<dd>",
	        t0, t1_short, run->last_ts > run->first_ts ? run->last_ts - run->first_ts : 0.0);
	html_text(out, run->site ? run->site : "-");
	fputs("</dd>\n<dt>rules</dt>\n<dd>", out);
	html_text(out, run->rules ? run->rules : "-");
	fputs("</dd>\n<dt>filter</dt>\n<dd>", out);
	if (run->filter != NULL) {
		fputs("<code>", out);
		html_text(out, run->filter);
		fputs("</code>", out);
	} else {
		fputs("none", out);
	}
	fprintf(out, "</dd>\n<dt>run</dt>\n<dd>%lld (%s, %s), ", (long long)run->id, run->mode,
	        run->status);
	if (db_path != NULL) {
		fputs("database <code>", out);
		html_text(out, db_path);
		fputs("</code>", out);
	} else {
		fputs("not stored (no <span class=\"nw\">-d DB</span>)", out);
	}
	fprintf(out, "</dd>\n<dt>traffic</dt>\n<dd>%llu packets, %llu sessions, %llu undecoded",
	        (unsigned long long)run->packets, (unsigned long long)run->sessions,
	        (unsigned long long)run->undecoded);
	if (run->dropped)
		fprintf(out, ", <span class=\"warn\">%llu dropped by the capture</span>",
		        (unsigned long long)run->dropped);
	fprintf(out,
	        "</dd>\n</dl>\n<p id=\"summary\">%llu expected, %llu ok, <b>%llu missing</b>, "
	        "%llu optional missing, <b>%llu unexpected</b>, %llu protocol mismatches</p>\n"
	        "</header>\n",
	        (unsigned long long)sum->expected, (unsigned long long)sum->ok,
	        (unsigned long long)sum->missing, (unsigned long long)sum->optional_missing,
	        (unsigned long long)sum->unexpected, (unsigned long long)sum->mismatched);
	free(srcs);
	return SM_OK;
}

static enum sm_err
render_html(FILE *out, struct sm_store *st, const struct sm_run_row *run, const struct rows *w,
            const struct sm_report_summary *sum, const char *db_path, struct sm_errbuf *eb)
{
	char *text = NULL;
	size_t len = 0;
	FILE *t = open_memstream(&text, &len);
	if (t == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory rendering the report");
	enum sm_err e = render_text(t, st, run, w, sum, false, eb);
	fclose(t);
	if (e != SM_OK) {
		free(text);
		return e;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
	      out);
	if ((e = html_header(out, st, run, sum, db_path, eb)) != SM_OK) {
		free(text);
		return e;
	}
	if (run->filter != NULL) {
		fputs("<p class=\"warn\" id=\"filter\">Capture filter: <code>", out);
		html_text(out, run->filter);
		fprintf(out,
		        "</code>. Only matching packets were read: %llu expected flow(s) it "
		        "excludes are 'filtered' (the capture cannot say), not missing.</p>\n",
		        (unsigned long long)sum->filtered);
	}
	if (!run_is(run, RUN_COMPLETE))
		fprintf(out,
		        "<p class=\"warn\" id=\"status\">This run did not finish (%s): verdicts "
		        "cover only what was read.</p>\n",
		        run->status);
	if (run->strict)
		fprintf(out,
		        "<p class=\"warn\" id=\"strict\">--strict: %llu intermittent failure(s) "
		        "of expected flows count as findings.</p>\n",
		        (unsigned long long)sum->intermittent);
	size_t unseen = unseen_count(w);
	if (unseen > 0) {
		fprintf(out,
		        "<p class=\"warn\" id=\"coverage\">Coverage: %zu of %zu site addresses "
		        "never appear in the capture:",
		        unseen, w->ncov);
		for (size_t i = 0; i < w->ncov; i++)
			if (!w->cov[i].seen) {
				fputs(" <span class=\"role\">", out);
				html_text(out, w->cov[i].role);
				fputs("</span> <span class=\"addr\">", out);
				html_text(out, w->cov[i].member);
				fputs("</span>", out);
			}
		fputs(". Their flows are 'not-seen' because the span port may not see them, "
		      "not proof that they are blocked.</p>\n",
		      out);
	}
	html_failing(out, run, w, sum, db_path);
	if (!html_matrix(out, w)) {
		free(text);
		return sm_error(eb, SM_ERR_NOMEM, "out of memory rendering the report");
	}
	e = html_timeline(out, st, run, eb);
	fputs("<section id=\"text-report\"><h2>Full text report</h2>\n<details><summary>Coverage, "
	      "capture loss and every flow, as <code>smaudit report</code> prints them</summary>\n"
	      "<pre id=\"text\">",
	      out);
	html_text(out, text);
	fputs("</pre></details></section>\n</body></html>\n", out);
	free(text);
	return e;
}

/* ---- a capture that shows none of the site ---- */

struct seen_ctx {
	size_t addresses, seen;
	char list[512]; /* sources, then busiest addresses */
	int n;
};

static bool
name_source(void *ctx, const char *path, uint64_t packets, const char *error)
{
	struct seen_ctx *c = ctx;
	(void)packets;
	(void)error;
	if (c->n++ == 3) {
		sm_strlcat(c->list, ", ...", sizeof(c->list));
		return false;
	}
	if (c->n > 1)
		sm_strlcat(c->list, ", ", sizeof(c->list));
	sm_strlcat(c->list, path, sizeof(c->list));
	return true;
}

static bool
list_busiest(void *ctx, const char *addr, uint64_t packets, const char *unused)
{
	struct seen_ctx *c = ctx;
	char item[96];
	(void)unused;
	snprintf(item, sizeof(item), "%s%s (%llu packets)", c->n++ ? ", " : "", addr,
	         (unsigned long long)packets);
	sm_strlcat(c->list, item, sizeof(c->list));
	return true;
}

enum sm_err
sm_report_check_site_seen(struct sm_store *st, int64_t run_id, struct sm_errbuf *eb)
{
	struct seen_ctx c;
	memset(&c, 0, sizeof(c));
	struct sm_coverage_row *cov;
	enum sm_err e = sm_store_load_coverage(st, run_id, &cov, &c.addresses, eb);
	for (size_t i = 0; e == SM_OK && i < c.addresses; i++)
		c.seen += cov[i].seen;
	free(cov);
	if (e != SM_OK || c.addresses == 0 || c.seen > 0)
		return e;
	struct sm_run_row run;
	if ((e = sm_store_load_run(st, run_id, &run, eb)) != SM_OK)
		return e;
	if (run.finished[0] == '\0' && run.packets == 0) {
		sm_run_row_free(&run); /* stored nothing: the report says it is incomplete */
		return SM_OK;
	}
	struct rows w;
	memset(&w, 0, sizeof(w));
	if ((e = sm_store_load_counters(st, run_id, &w.ctr, &w.nctr, eb)) != SM_OK) {
		rows_free(&w);
		sm_run_row_free(&run);
		return e;
	}
	bool windowed = counter(&w, SM_COUNTER_WINDOW_FROM) || counter(&w, SM_COUNTER_WINDOW_UNTIL);
	rows_free(&w);
	if ((e = sm_store_each_source(st, run_id, true, name_source, &c, eb)) == SM_OK &&
	    windowed && run.packets == 0) {
		e = sm_error(eb, SM_ERR_IO,
		             "no packet of %s falls in the --from/--until window: nothing to judge "
		             "(run %lld is stored, empty)",
		             c.list, (long long)run_id);
	} else if (e == SM_OK) {
		char sources[512], site[256];
		sm_strlcpy(sources, c.list, sizeof(sources));
		sm_strlcpy(site, run.site ? run.site : "the site file", sizeof(site));
		c.list[0] = '\0';
		c.n = 0;
		e = sm_store_each_busiest(st, run_id, list_busiest, &c, eb);
		if (e == SM_OK)
			e = sm_error(
			    eb, SM_ERR_IO,
			    "none of the %zu site addresses of %s appears in %s%s%s%s; %s%s: "
			    "wrong site file, %s (run %lld is stored, but it says nothing "
			    "about this site)",
			    c.addresses, site, sources, run.filter ? " through the filter '" : "",
			    run.filter ? run.filter : "", run.filter ? "'" : "",
			    c.n ? "the busiest addresses in it are " : "no IP packet was read",
			    c.list,
			    run.filter ? "wrong capture, or a filter (-f) that excludes the site"
			               : "or a capture from another place",
			    (long long)run_id);
	}
	sm_run_row_free(&run);
	return e;
}

/* ---- the list of runs ---- */

struct list_ctx {
	struct sm_store *st;
	FILE *out;
	bool json;
	size_t n;
	enum sm_err err;
	struct sm_errbuf *eb;
};

static bool
count_finding(void *ctx, const struct sm_finding_row *f)
{
	if (f->severity == SEV_ERROR)
		(*(uint64_t *)ctx)++;
	return true;
}

static bool
list_source(void *ctx, const char *path, uint64_t packets, const char *error)
{
	struct src_ctx *c = ctx;
	if (!c->text)
		return json_source(ctx, path, packets, error);
	fprintf(c->out, "%s%s", c->n++ ? ", " : "  ", path);
	return true;
}

static bool
list_run(void *ctx, int64_t id)
{
	struct list_ctx *c = ctx;
	struct sm_run_row r;
	uint64_t findings = 0;
	c->err = sm_store_load_run(c->st, id, &r, c->eb);
	if (c->err != SM_OK)
		return false;
	bool nothing_read = r.finished[0] == '\0' && r.packets == 0;
	if (!nothing_read)
		c->err = sm_store_each_finding(c->st, id, count_finding, &findings, c->eb);
	FILE *out = c->out;
	struct src_ctx sc = {out, 0, !c->json};
	if (c->err == SM_OK && c->json) {
		fprintf(out, "%s\n  {\"id\": %lld, \"mode\": ", c->n ? "," : "", (long long)id);
		sm_json_string(out, r.mode);
		fputs(", \"status\": ", out);
		sm_json_string(out, r.status);
		fputs(", \"sources\": [", out);
		c->err = sm_store_each_source(c->st, id, true, list_source, &sc, c->eb);
		fputs("],\n   \"first_ts\": ", out);
		sm_json_ts(out, r.first_ts);
		fputs(", \"last_ts\": ", out);
		sm_json_ts(out, r.last_ts);
		fprintf(out, ", \"packets\": %llu, \"sessions\": %llu, \"findings\": %llu}",
		        (unsigned long long)r.packets, (unsigned long long)r.sessions,
		        (unsigned long long)findings);
	} else if (c->err == SM_OK) {
		char t0[40], t1[40];
		sm_fmt_time(r.first_ts, t0, sizeof(t0));
		sm_fmt_time(r.last_ts, t1, sizeof(t1));
		fprintf(out,
		        "%-4lld %-6s %-11s %s .. %s  %llu packets, %llu sessions, %llu findings",
		        (long long)id, r.mode, r.status, t0, t1, (unsigned long long)r.packets,
		        (unsigned long long)r.sessions, (unsigned long long)findings);
		c->err = sm_store_each_source(c->st, id, true, list_source, &sc, c->eb);
		fputc('\n', out);
	}
	sm_run_row_free(&r);
	c->n++;
	return c->err == SM_OK;
}

enum sm_err
sm_report_list(struct sm_store *st, enum sm_format fmt, FILE *out, struct sm_errbuf *eb)
{
	struct list_ctx c = {st, out, fmt == FMT_JSON, 0, SM_OK, eb};
	if (c.json)
		fputc('[', out);
	enum sm_err e = sm_store_each_run(st, list_run, &c, eb);
	if (e == SM_OK)
		e = c.err;
	if (c.json)
		fputs(c.n ? "\n]\n" : "]\n", out);
	if (e == SM_OK && (fflush(out) != 0 || ferror(out)))
		e = sm_error(eb, SM_ERR_IO, "cannot write the list of runs");
	return e;
}

enum sm_err
sm_report_render(struct sm_store *st, int64_t run_id, enum sm_format fmt,
                 const struct sm_report_style *style, FILE *out, struct sm_report_summary *sum,
                 struct sm_errbuf *eb)
{
	struct sm_run_row run;
	struct rows w;
	memset(&w, 0, sizeof(w));
	enum sm_err e = sm_store_load_run(st, run_id, &run, eb);
	if (e != SM_OK)
		return e;
	if (e == SM_OK)
		e = sm_store_load_expected(st, run_id, &w.exp, &w.nexp, eb);
	if (e == SM_OK)
		e = sm_store_load_unexpected(st, run_id, &w.unx, &w.nunx, eb);
	if (e == SM_OK)
		e = sm_store_load_coverage(st, run_id, &w.cov, &w.ncov, eb);
	if (e == SM_OK)
		e = sm_store_load_counters(st, run_id, &w.ctr, &w.nctr, eb);
	if (e == SM_OK)
		e = sm_store_load_mismatches(st, run_id, &w.mis, &w.nmis, eb);
	if (e == SM_OK && run.finished[0] == '\0' && run.packets == 0) {
		/* The verdicts of a run that stopped before it stored a packet (its first
		 * checkpoint, written at start) judge nothing: none is shown. */
		rows_free(&w);
		memset(&w, 0, sizeof(w));
	}
	if (e == SM_OK) /* after the rows a run that judged nothing shows are dropped */
		db_fault_of(&w, style);
	if (e == SM_OK) {
		summarize(&w, sum);
		sum->unfinished = run.finished[0] == '\0';
		sum->strict = run.strict;
		sum->nothing_read = sum->unfinished && run.packets == 0;
		if (fmt == FMT_JSON)
			e = render_json(out, st, &run, &w, sum, eb);
		else if (fmt == FMT_HTML)
			e = render_html(out, st, &run, &w, sum, style ? style->db_path : NULL, eb);
		else if (fmt == FMT_CSV)
			render_csv(out, &w);
		else
			e = render_text(out, st, &run, &w, sum, style && style->color, eb);
		if (e == SM_OK && (fflush(out) != 0 || ferror(out)))
			e = sm_error(eb, SM_ERR_IO, "cannot write the report");
	}
	rows_free(&w);
	sm_run_row_free(&run);
	return e;
}
