#include "smaudit/forensic.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- timeline ---- */

#define TL_HASH 4096 /* > 2 * SM_TL_MAX_FLOWS */

struct tl_build {
	struct sm_timeline *tl;
	const struct sm_timeline_opts *o;
	uint32_t hash[TL_HASH]; /* flow index + 1, 0 = empty */
	bool oom;
};

static uint32_t
flow_hash(const char *proto, const char *src, const char *dst, int port)
{
	uint32_t h = 2166136261u;
	const char *parts[] = {proto, src, dst};
	for (size_t k = 0; k < 3; k++) {
		for (const char *c = parts[k]; *c; c++)
			h = (h ^ (uint8_t)*c) * 16777619u;
		h = (h ^ '|') * 16777619u;
	}
	return (h ^ (uint32_t)(port + 1)) * 16777619u;
}

static size_t
tl_index(const struct sm_timeline *tl, double ts)
{
	if (tl->nbuckets == 0 || ts <= tl->t0)
		return 0;
	double i = floor((ts - tl->t0) / tl->bucket);
	return i >= (double)tl->nbuckets ? tl->nbuckets - 1 : (size_t)i;
}

static void
tl_mark(const struct sm_timeline *tl, struct sm_tl_flow *f, double from, double to,
        enum sm_tl_mark m)
{
	for (size_t i = tl_index(tl, from); i <= tl_index(tl, to) && i < tl->nbuckets; i++)
		if (f->marks[i] < m)
			f->marks[i] = (uint8_t)m;
}

static struct sm_tl_flow *
tl_flow(struct tl_build *b, const struct sm_session_row *r, int port)
{
	struct sm_timeline *tl = b->tl;
	uint32_t h = flow_hash(r->proto, r->src, r->dst, port) % TL_HASH;
	for (;; h = (h + 1) % TL_HASH) {
		uint32_t i = b->hash[h];
		if (i == 0)
			break;
		struct sm_tl_flow *f = &tl->flows[i - 1];
		if (f->port == port && strcmp(f->proto, r->proto) == 0 &&
		    strcmp(f->src, r->src) == 0 && strcmp(f->dst, r->dst) == 0)
			return f;
	}
	if (tl->nflows >= SM_TL_MAX_FLOWS) {
		tl->truncated = true;
		return NULL;
	}
	struct sm_tl_flow nf;
	memset(&nf, 0, sizeof(nf));
	sm_strlcpy(nf.proto, r->proto, sizeof(nf.proto));
	sm_strlcpy(nf.src, r->src, sizeof(nf.src));
	sm_strlcpy(nf.dst, r->dst, sizeof(nf.dst));
	sm_strlcpy(nf.src_role, r->src_role, sizeof(nf.src_role));
	sm_strlcpy(nf.dst_role, r->dst_role, sizeof(nf.dst_role));
	nf.port = port;
	nf.first_ts = r->first_ts;
	nf.marks = calloc(tl->nbuckets ? tl->nbuckets : 1, 1);
	size_t n = tl->nflows;
	if (nf.marks == NULL ||
	    !sm_grow((void **)&tl->flows, &tl->nflows, &tl->capflows, sizeof(nf), &nf)) {
		free(nf.marks);
		b->oom = true;
		return NULL;
	}
	b->hash[h] = (uint32_t)tl->nflows;
	return &tl->flows[n];
}

static void
tl_interval(struct tl_build *b, struct sm_tl_flow *f, double from, double to)
{
	double iv[2] = {from, to};
	if (!sm_grow((void **)&f->iv, &f->niv, &f->capiv, sizeof(iv), iv))
		b->oom = true;
	tl_mark(b->tl, f, from, to, TL_ANSWERED);
}

static bool
tl_session(void *ctx, const struct sm_session_row *r)
{
	struct tl_build *b = ctx;
	bool icmp = strncmp(r->proto, "icmp", 4) == 0;
	struct sm_tl_flow *f = tl_flow(b, r, icmp ? -1 : r->dport);
	if (f == NULL)
		return !b->oom;
	f->sessions++;
	if (r->first_ts < f->first_ts)
		f->first_ts = r->first_ts;
	if (r->last_ts > f->last_ts)
		f->last_ts = r->last_ts;
	if (f->src_role[0] == '\0')
		sm_strlcpy(f->src_role, r->src_role, sizeof(f->src_role));
	if (f->dst_role[0] == '\0')
		sm_strlcpy(f->dst_role, r->dst_role, sizeof(f->dst_role));
	if (r->established) {
		if (r->idle_max >= b->o->gap && r->idle_max > 0) {
			tl_interval(b, f, r->first_ts, r->idle_from);
			tl_interval(b, f, r->idle_from + r->idle_max, r->last_ts);
		} else {
			tl_interval(b, f, r->first_ts, r->last_ts);
		}
	} else {
		f->failed++;
		tl_mark(b->tl, f, r->first_ts, r->last_ts, TL_FAILED);
		if (!sm_grow((void **)&f->fails, &f->nfails, &f->capfails, sizeof(double),
		             &r->first_ts))
			b->oom = true;
	}
	return !b->oom;
}

static int
cmp_iv(const void *a, const void *b)
{
	const double *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

static bool
tl_gap(struct sm_tl_flow *f, double from, double to, bool edge)
{
	struct sm_tl_gap g = {from, to, 0, edge};
	for (size_t i = 0; i < f->nfails; i++)
		g.attempts += f->fails[i] >= from && f->fails[i] <= to;
	return sm_grow((void **)&f->gaps, &f->ngaps, &f->capgaps, sizeof(g), &g);
}

/* Silences between the answered intervals of f.  A silence at the capture's edges is
 * shown only when it says something: attempts failed in it, or a recurring flow
 * (answered more than once) stopped before the capture ended. */
static bool
tl_find_gaps(const struct sm_timeline *tl, struct sm_tl_flow *f)
{
	if (f->niv > 1)
		qsort(f->iv, f->niv, sizeof(*f->iv), cmp_iv);
	double end = tl->t0;
	size_t merged = 0;
	for (size_t i = 0; i < f->niv; i++) {
		bool edge = i == 0;
		if (f->iv[i][0] - end >= tl->gap) {
			if (!tl_gap(f, end, f->iv[i][0], edge))
				return false;
			if (edge && f->gaps[f->ngaps - 1].attempts == 0)
				f->ngaps--;
		}
		if (i == 0 || f->iv[i][0] > end)
			merged++;
		if (f->iv[i][1] > end)
			end = f->iv[i][1];
	}
	if (tl->t1 - end >= tl->gap || (f->niv == 0 && tl->gap <= tl->t1 - tl->t0)) {
		if (!tl_gap(f, end, tl->t1, true))
			return false;
		if (f->gaps[f->ngaps - 1].attempts == 0 && merged < 2)
			f->ngaps--;
	}
	return true;
}

/* A run that stopped before it stored its first checkpoint (killed, or still
 * running) has no verdict nor time range: nothing to `what` (compare, draw); an
 * error naming it.  judged: the run stored verdicts. */
static enum sm_err
run_unjudged(const struct sm_run_row *r, bool judged, const char *what, struct sm_errbuf *eb)
{
	if (r->finished[0] != '\0' || (r->packets > 0 && judged))
		return SM_OK;
	if (r->status == RUN_RUNNING)
		return sm_error(eb, SM_ERR_DB,
		                "run %lld is still running and has stored no verdict yet: %s it "
		                "when it has finished",
		                (long long)r->id, what);
	return sm_error(eb, SM_ERR_DB,
	                "run %lld stopped before it stored a verdict (killed, or it failed to "
	                "start): nothing to %s ('smaudit report --run %lld' shows what it "
	                "stored)",
	                (long long)r->id, what, (long long)r->id);
}

enum sm_err
sm_timeline_build(struct sm_store *st, const struct sm_timeline_opts *o, struct sm_timeline *tl,
                  struct sm_errbuf *eb)
{
	memset(tl, 0, sizeof(*tl));
	struct sm_run_row run;
	enum sm_err e = sm_store_load_run(st, o->run_id, &run, eb);
	if (e != SM_OK)
		return e;
	e = run_unjudged(&run, true, "draw", eb);
	if (e != SM_OK) {
		sm_run_row_free(&run);
		return e;
	}
	tl->status = run.status;
	tl->run_id = run.id;
	tl->t0 = run.first_ts;
	tl->t1 = run.last_ts > run.first_ts ? run.last_ts : run.first_ts;
	sm_run_row_free(&run);
	tl->gap = o->gap;
	tl->nbuckets = o->buckets ? o->buckets : 60;
	tl->bucket = tl->t1 > tl->t0 ? (tl->t1 - tl->t0) / (double)tl->nbuckets : 1;

	struct tl_build *b = calloc(1, sizeof(*b));
	if (b == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory building the timeline");
	b->tl = tl;
	b->o = o;
	struct sm_query q;
	memset(&q, 0, sizeof(q));
	q.run_id = tl->run_id;
	q.port = -1;
	q.host = o->pair_a;
	q.peer = o->pair_b;
	q.dport = o->port;
	q.policy_only = o->pair_a == NULL && o->port < 0;
	e = sm_store_each_session(st, &q, tl_session, b, eb);
	for (size_t i = 0; e == SM_OK && !b->oom && i < tl->nflows; i++)
		if (!tl_find_gaps(tl, &tl->flows[i]))
			b->oom = true;
	if (e == SM_OK && b->oom)
		e = sm_error(eb, SM_ERR_NOMEM, "out of memory building the timeline");
	free(b);
	return e;
}

void
sm_timeline_free(struct sm_timeline *tl)
{
	for (size_t i = 0; i < tl->nflows; i++) {
		free(tl->flows[i].marks);
		free(tl->flows[i].gaps);
		free(tl->flows[i].iv);
		free(tl->flows[i].fails);
	}
	free(tl->flows);
	memset(tl, 0, sizeof(*tl));
}

size_t
sm_timeline_gaps(const struct sm_timeline *tl)
{
	size_t n = 0;
	for (size_t i = 0; i < tl->nflows; i++)
		n += tl->flows[i].ngaps;
	return n;
}

/* "tcp/31784", or "icmp" (any message) */
static void
flow_proto_port(const char *proto, int port, char *buf, size_t len)
{
	if (port < 0)
		snprintf(buf, len, "%s", proto);
	else
		snprintf(buf, len, "%s/%d", proto, port);
}

static void
role_addr(const char *role, const char *addr, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", role, role[0] ? " " : "", addr);
}

/* The time of day only when ts falls on the same day as ref. */
static void
short_time(double ts, double ref, char *buf, size_t len)
{
	char full[40], rfull[40];
	sm_fmt_time(ts, full, sizeof(full));
	sm_fmt_time(ref, rfull, sizeof(rfull));
	if (strncmp(full, rfull, 11) == 0 && strlen(full) > 11)
		sm_strlcpy(buf, full + 11, len);
	else
		sm_strlcpy(buf, full, len);
}

/* The activity line of flow f: a character a bucket, '#' answered traffic, 'x' attempts
 * only, '.' nothing (text between |...|, JSON as the "activity" string). */
static void
tl_activity(FILE *out, const struct sm_timeline *tl, const struct sm_tl_flow *f)
{
	static const char tl_chars[] = ".x#";
	for (size_t k = 0; k < tl->nbuckets; k++)
		fputc(tl_chars[f->marks[k] % 3], out);
}

void
sm_timeline_text(FILE *out, const struct sm_timeline *tl)
{
	char t0[40], t1[40], a[120], b[120], pp[24];
	sm_fmt_time(tl->t0, t0, sizeof(t0));
	short_time(tl->t1, tl->t0, t1, sizeof(t1));
	fprintf(out, "smaudit timeline, run %lld\n", (long long)tl->run_id);
	fprintf(out, "  time     %s .. %s (%.1f s)\n", t0, t1, tl->t1 - tl->t0);
	fprintf(out, "  buckets  %zu of %.3g s; silences of %g s or more are listed\n",
	        tl->nbuckets, tl->bucket, tl->gap);
	fprintf(out, "  legend   '#' answered traffic, 'x' attempts only (unanswered or "
	             "refused), '.' nothing\n");
	if (tl->status != RUN_COMPLETE)
		fprintf(out,
		        "  WARNING  run %lld did not finish (%s): its sessions are those stored "
		        "before it stopped, what came after is not drawn\n",
		        (long long)tl->run_id, sm_run_status_name(tl->status));
	if (tl->nflows == 0)
		fputs("\n  no session matches\n", out);
	for (size_t i = 0; i < tl->nflows; i++) {
		const struct sm_tl_flow *f = &tl->flows[i];
		flow_proto_port(f->proto, f->port, pp, sizeof(pp));
		role_addr(f->src_role, f->src, a, sizeof(a));
		role_addr(f->dst_role, f->dst, b, sizeof(b));
		fprintf(out, "\n%s  %s -> %s  (%llu session(s), %llu failed)\n  |", pp, a, b,
		        (unsigned long long)f->sessions, (unsigned long long)f->failed);
		tl_activity(out, tl, f);
		fputs("|\n", out);
		for (size_t g = 0; g < f->ngaps; g++) {
			const struct sm_tl_gap *gp = &f->gaps[g];
			sm_fmt_time(gp->from, t0, sizeof(t0));
			short_time(gp->to, gp->from, t1, sizeof(t1));
			fprintf(out, "  SILENT %s .. %s (%.1f s)", t0, t1, gp->to - gp->from);
			if (gp->attempts)
				fprintf(out, ", %llu attempt(s) unanswered or refused",
				        (unsigned long long)gp->attempts);
			if (gp->edge && f->niv == 0)
				fputs(", never answered in this capture", out);
			else if (gp->edge && gp->from <= tl->t0)
				fputs(", from the start of the capture", out);
			else if (gp->edge)
				fputs(", to the end of the capture", out);
			fputc('\n', out);
		}
	}
	if (tl->truncated)
		fprintf(out,
		        "\n  (only the first %d flows are shown: narrow with --pair or --port)\n",
		        SM_TL_MAX_FLOWS);
	fprintf(out, "\nSUMMARY: %zu flow(s), %zu silence(s) of %g s or more\n", tl->nflows,
	        sm_timeline_gaps(tl), tl->gap);
}

#define TLF(type, field) SM_JSON_MEMBER(#field, type, struct sm_tl_flow, field, false)
static const struct sm_json_member tl_flow_members[] = {
    TLF(SM_JSON_STR, proto),    TLF(SM_JSON_COUNT, port),   TLF(SM_JSON_STR, src),
    TLF(SM_JSON_STR, dst),      TLF(SM_JSON_OPT, src_role), TLF(SM_JSON_OPT, dst_role),
    TLF(SM_JSON_U64, sessions), TLF(SM_JSON_U64, failed),
};
#undef TLF

void
sm_timeline_json(FILE *out, const struct sm_timeline *tl)
{
	fprintf(out,
	        "{\"run\": %lld, \"run_status\": \"%s\", \"first_ts\": ", (long long)tl->run_id,
	        sm_run_status_name(tl->status));
	sm_json_ts(out, tl->t0);
	fputs(", \"last_ts\": ", out);
	sm_json_ts(out, tl->t1);
	fprintf(out, ", \"bucket\": %.6f, \"gap\": %g, \"flows\": [", tl->bucket, tl->gap);
	for (size_t i = 0; i < tl->nflows; i++) {
		const struct sm_tl_flow *f = &tl->flows[i];
		fputs(i ? ",\n  {" : "\n  {", out);
		sm_json_members(out, tl_flow_members,
		                sizeof(tl_flow_members) / sizeof(tl_flow_members[0]), f, "");
		fputs(", \"activity\": \"", out);
		tl_activity(out, tl, f);
		fputs("\", \"silences\": [", out);
		for (size_t g = 0; g < f->ngaps; g++) {
			const struct sm_tl_gap *gp = &f->gaps[g];
			fputs(g ? ", {\"from\": " : "{\"from\": ", out);
			sm_json_ts(out, gp->from);
			fputs(", \"to\": ", out);
			sm_json_ts(out, gp->to);
			fprintf(out, ", \"seconds\": %.3f, \"attempts\": %llu, \"edge\": %s}",
			        gp->to - gp->from, (unsigned long long)gp->attempts,
			        gp->edge ? "true" : "false");
		}
		fputs("]}", out);
	}
	fputs(tl->nflows ? "\n]}\n" : "]}\n", out);
}

/* ---- diff ---- */

struct diff_side {
	struct sm_expected_row *exp;
	size_t nexp;
	bool *matched;
	struct sm_flow_row *flows;
	size_t nflows;
};

static bool
same_rule_dir(const struct sm_expected_row *x, const struct sm_expected_row *y)
{
	return x->port == y->port && strcmp(x->proto, y->proto) == 0 &&
	       strcmp(x->src_role, y->src_role) == 0 && strcmp(x->dst_role, y->dst_role) == 0;
}

static int
cmp_flow(const struct sm_flow_row *x, const struct sm_flow_row *y)
{
	int c = strcmp(x->proto, y->proto);
	if (c == 0)
		c = strcmp(x->src, y->src);
	if (c == 0)
		c = strcmp(x->dst, y->dst);
	if (c == 0)
		c = (x->port > y->port) - (x->port < y->port);
	return c;
}

static void
flow_name(const struct sm_flow_row *f, char *buf, size_t len)
{
	char pp[24];
	flow_proto_port(f->proto, f->port, pp, sizeof(pp));
	snprintf(buf, len, "%s  %s -> %s [%s]", pp, f->src, f->dst, sm_class_name(f->cls));
}

/* Entries of side d of x's rule direction. */
static size_t
rule_dir_entries(const struct diff_side *d, const struct sm_expected_row *x)
{
	size_t n = 0;
	for (size_t k = 0; k < d->nexp; k++)
		n += same_rule_dir(&d->exp[k], x);
	return n;
}

/* Whether x and y may be the same expected flow with another address pair: a
 * rule direction of one entry in each run (an 'any' rule, whose satisfying pair
 * may change between runs), or an entry whose addresses were not known.  Entries
 * of an each-pair or each-member rule are known by their addresses: one with
 * another pair is another flow, in one run only. */
static bool
may_pair(const struct diff_side *a, const struct diff_side *b, const struct sm_expected_row *x,
         const struct sm_expected_row *y)
{
	if (x->src[0] == '\0' || x->dst[0] == '\0' || y->src[0] == '\0' || y->dst[0] == '\0')
		return true;
	return rule_dir_entries(a, x) == 1 && rule_dir_entries(b, y) == 1;
}

/* Pairs each expected row of a with one of b: same flow and addresses first, then
 * the same rule direction where may_pair() allows. */
static void
diff_match_expected(struct diff_side *a, struct diff_side *b, size_t *pair)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < a->nexp; i++) {
			if (a->matched[i])
				continue;
			for (size_t k = 0; k < b->nexp; k++) {
				const struct sm_expected_row *x = &a->exp[i], *y = &b->exp[k];
				if (b->matched[k] || !same_rule_dir(x, y))
					continue;
				if (pass == 0 &&
				    (strcmp(x->src, y->src) != 0 || strcmp(x->dst, y->dst) != 0))
					continue;
				if (pass == 1 && !may_pair(a, b, x, y))
					continue;
				a->matched[i] = b->matched[k] = true;
				pair[i] = k;
				break;
			}
		}
}

/* An expected flow's verdict as diff compares it: an ok flow some of whose sessions
 * failed is "ok (intermittent)", a change as much as one of verdict. */
static void
verdict_text(const struct sm_expected_row *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", sm_verdict_name(r->verdict),
	         r->verdict == V_OK && r->failed > 0 ? " (intermittent)" : "");
}

enum diff_kind {
	DK_VERDICT,
	DK_FAILING,
	DK_ANSWERED,
	DK_GONE,
	DK_NEW,
	DK_CLASS,
	DK_EXP_A,
	DK_EXP_B,
	DK_N
};

static const char *const diff_title[DK_N] = {
    "VERDICTS CHANGED",
    "FLOWS NOW FAILING (answered before, not after)",
    "FLOWS NOW ANSWERED (failing before)",
    "FLOWS THAT DISAPPEARED (in the first run only; expected, optional or unexpected)",
    "FLOWS THAT APPEARED (in the second run only; expected, optional or unexpected)",
    "FLOWS CLASSED OTHERWISE (the site or rules differ: e.g. expected before, unexpected now)",
    "EXPECTED FLOWS ONLY IN THE FIRST RUN (the site or rules differ)",
    "EXPECTED FLOWS ONLY IN THE SECOND RUN (the site or rules differ)",
};
static const char *const diff_key[DK_N] = {
    "verdict_changed", "now_failing",   "now_answered",    "disappeared",
    "appeared",        "class_changed", "expected_only_a", "expected_only_b",
};

struct diff_out {
	FILE *out;
	bool json;
	size_t count[DK_N];
	bool open[DK_N];
};

/* One line (text) or one object (JSON) of section k. */
static void
diff_item(struct diff_out *d, enum diff_kind k, const char *name, const char *before,
          const char *after, const struct sm_flow_row *f)
{
	d->count[k]++;
	if (!d->json) {
		fprintf(d->out, "  %s: %s -> %s\n", name, before, after);
		return;
	}
	fputs(d->count[k] > 1 ? ",\n    {" : "\n    {", d->out);
	fputs("\"flow\": ", d->out);
	sm_json_string(d->out, name);
	if (f != NULL) {
		fputs(", \"proto\": ", d->out);
		sm_json_string(d->out, f->proto);
		fputs(", \"src\": ", d->out);
		sm_json_string(d->out, f->src);
		fputs(", \"dst\": ", d->out);
		sm_json_string(d->out, f->dst);
		fputs(", \"port\": ", d->out);
		sm_json_count(d->out, f->port);
	}
	fputs(", \"before\": ", d->out);
	sm_json_string(d->out, before);
	fputs(", \"after\": ", d->out);
	sm_json_string(d->out, after);
	fputc('}', d->out);
}

static void
diff_section(struct diff_out *d, enum diff_kind k)
{
	if (d->json)
		fprintf(d->out, "%s  \"%s\": [", k ? ",\n" : "", diff_key[k]);
	else
		fprintf(d->out, "\n%s\n", diff_title[k]);
}

static void
diff_section_end(struct diff_out *d, enum diff_kind k)
{
	if (d->json)
		fputs(d->count[k] ? "\n  ]" : "]", d->out);
	else if (d->count[k] == 0)
		fputs("  none\n", d->out);
}

static void
flow_status(const struct sm_flow_row *f, char *buf, size_t len)
{
	if (f == NULL)
		sm_strlcpy(buf, "absent", len);
	else if (f->established)
		snprintf(buf, len, "%llu of %llu session(s) answered",
		         (unsigned long long)f->established, (unsigned long long)f->sessions);
	else
		snprintf(buf, len, "%llu session(s), none answered",
		         (unsigned long long)f->sessions);
}

/* Walks the two sorted flow lists and reports section k's entries. */
static void
diff_flows(struct diff_out *d, enum diff_kind k, const struct diff_side *a,
           const struct diff_side *b)
{
	size_t i = 0, j = 0;
	char name[200], s0[64], s1[64];
	while (i < a->nflows || j < b->nflows) {
		int c = i == a->nflows   ? 1
		        : j == b->nflows ? -1
		                         : cmp_flow(&a->flows[i], &b->flows[j]);
		const struct sm_flow_row *x = c <= 0 ? &a->flows[i] : NULL;
		const struct sm_flow_row *y = c >= 0 ? &b->flows[j] : NULL;
		/* ND, MLD and other traffic away from the monitored roles is not the story */
		const struct sm_flow_row *any = x ? x : y;
		bool relevant = any->cls != CL_ALLOWED && any->cls != CL_UNMONITORED;
		if (k == DK_CLASS && x && y && x->cls != y->cls &&
		    (relevant || (y->cls != CL_ALLOWED && y->cls != CL_UNMONITORED))) {
			char pp[24];
			flow_proto_port(x->proto, x->port, pp, sizeof(pp));
			snprintf(name, sizeof(name), "%s  %s -> %s", pp, x->src, x->dst);
			diff_item(d, k, name, sm_class_name(x->cls), sm_class_name(y->cls), x);
		}
		bool hit =
		    relevant && ((k == DK_GONE && y == NULL) || (k == DK_NEW && x == NULL) ||
		                 (k == DK_FAILING && x && y && x->established && !y->established) ||
		                 (k == DK_ANSWERED && x && y && !x->established && y->established));
		if (hit) {
			flow_name(x ? x : y, name, sizeof(name));
			flow_status(x, s0, sizeof(s0));
			flow_status(y, s1, sizeof(s1));
			diff_item(d, k, name, s0, s1, x ? x : y);
		}
		i += c <= 0;
		j += c >= 0;
	}
}

static enum sm_err
diff_load(struct sm_store *st, int64_t run, struct diff_side *d, struct sm_errbuf *eb)
{
	enum sm_err e = sm_store_load_expected(st, run, &d->exp, &d->nexp, eb);
	if (e == SM_OK)
		e = sm_store_load_flows(st, run, &d->flows, &d->nflows, eb);
	if (e == SM_OK && (d->matched = calloc(d->nexp + 1, sizeof(bool))) == NULL)
		e = sm_error(eb, SM_ERR_NOMEM, "out of memory comparing runs");
	return e;
}

static void
diff_free(struct diff_side *d)
{
	free(d->exp);
	free(d->matched);
	free(d->flows);
}

static void
diff_header(FILE *out, bool json, const struct sm_run_row *ra, const struct sm_run_row *rb)
{
	if (json) {
		fprintf(out,
		        "{\"run_a\": %lld, \"run_b\": %lld, \"run_a_status\": \"%s\", "
		        "\"run_b_status\": \"%s\",\n",
		        (long long)ra->id, (long long)rb->id, sm_run_status_name(ra->status),
		        sm_run_status_name(rb->status));
		return;
	}
	char t0[40], t1[40];
	fprintf(out, "smaudit diff: run %lld -> run %lld\n", (long long)ra->id, (long long)rb->id);
	const struct sm_run_row *r[2] = {ra, rb};
	for (int i = 0; i < 2; i++) {
		sm_fmt_time(r[i]->first_ts, t0, sizeof(t0));
		sm_fmt_time(r[i]->last_ts, t1, sizeof(t1));
		fprintf(out, "  run %lld  %s .. %s  %s\n", (long long)r[i]->id, t0, t1,
		        r[i]->sources ? r[i]->sources : "");
	}
	for (int i = 0; i < 2; i++)
		if (r[i]->status != RUN_COMPLETE)
			fprintf(
			    out,
			    "  WARNING  run %lld did not finish (%s): its verdicts cover only what "
			    "was read, and flows after that read as gone or appeared\n",
			    (long long)r[i]->id, sm_run_status_name(r[i]->status));
}

enum sm_err
sm_diff_runs(struct sm_store *st, int64_t run_a, int64_t run_b, bool json, FILE *out,
             uint64_t *ndiff, struct sm_errbuf *eb)
{
	struct sm_run_row ra, rb;
	struct diff_side a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	enum sm_err e = sm_store_load_run(st, run_a, &ra, eb);
	if (e != SM_OK)
		return e;
	e = sm_store_load_run(st, run_b, &rb, eb);
	if (e != SM_OK) {
		sm_run_row_free(&ra);
		return e;
	}
	e = diff_load(st, run_a, &a, eb);
	if (e == SM_OK)
		e = diff_load(st, run_b, &b, eb);
	if (e == SM_OK)
		e = run_unjudged(&ra, a.nexp > 0, "compare", eb);
	if (e == SM_OK)
		e = run_unjudged(&rb, b.nexp > 0, "compare", eb);
	size_t *pair = e == SM_OK ? calloc(a.nexp + 1, sizeof(size_t)) : NULL;
	if (e == SM_OK && pair == NULL)
		e = sm_error(eb, SM_ERR_NOMEM, "out of memory comparing runs");
	if (e == SM_OK) {
		struct diff_out d = {out, json, {0}, {false}};
		char name[200];
		diff_match_expected(&a, &b, pair);
		diff_header(out, json, &ra, &rb);
		diff_section(&d, DK_VERDICT);
		for (size_t i = 0; i < a.nexp; i++) {
			if (!a.matched[i])
				continue; /* pair[i] names none of b */
			const struct sm_expected_row *x = &a.exp[i], *y = &b.exp[pair[i]];
			char v0[64], v1[64];
			verdict_text(x, v0, sizeof(v0));
			verdict_text(y, v1, sizeof(v1));
			if (strcmp(v0, v1) == 0)
				continue;
			sm_fmt_flow_name(y, name, sizeof(name));
			diff_item(&d, DK_VERDICT, name, v0, v1, NULL);
		}
		diff_section_end(&d, DK_VERDICT);
		for (enum diff_kind k = DK_FAILING; k <= DK_CLASS; k++) {
			diff_section(&d, k);
			diff_flows(&d, k, &a, &b);
			diff_section_end(&d, k);
		}
		for (enum diff_kind k = DK_EXP_A; k <= DK_EXP_B; k++) {
			const struct diff_side *s = k == DK_EXP_A ? &a : &b;
			diff_section(&d, k);
			for (size_t i = 0; i < s->nexp; i++)
				if (!s->matched[i]) {
					const char *v = sm_verdict_name(s->exp[i].verdict);
					sm_fmt_flow_name(&s->exp[i], name, sizeof(name));
					diff_item(&d, k, name, k == DK_EXP_A ? v : "absent",
					          k == DK_EXP_A ? "absent" : v, NULL);
				}
			diff_section_end(&d, k);
		}
		*ndiff = 0;
		for (int k = 0; k < DK_N; k++)
			*ndiff += d.count[k];
		if (json)
			fprintf(out, ",\n  \"differences\": %llu\n}\n", (unsigned long long)*ndiff);
		else
			fprintf(
			    out,
			    "\nSUMMARY: %zu verdict(s) changed, %zu flow(s) now failing, %zu now "
			    "answered, %zu disappeared, %zu appeared, %zu classed otherwise, %zu "
			    "expected flow(s) in one run only\n",
			    d.count[DK_VERDICT], d.count[DK_FAILING], d.count[DK_ANSWERED],
			    d.count[DK_GONE], d.count[DK_NEW], d.count[DK_CLASS],
			    d.count[DK_EXP_A] + d.count[DK_EXP_B]);
	}
	free(pair);
	diff_free(&a);
	diff_free(&b);
	sm_run_row_free(&ra);
	sm_run_row_free(&rb);
	return e;
}

/* ---- sessions (smaudit query) ---- */

void
sm_session_list_begin(struct sm_session_list *l)
{
	l->n = 0;
	switch (l->format) {
	case FMT_CSV:
		fputs("id,proto,src,sport,dst,dport,first_ts,last_ts,state,pkts_fwd,pkts_rev,"
		      "bytes_fwd,bytes_rev,class,rule,history,src_role,dst_role\n",
		      l->out);
		break;
	case FMT_JSON:
		fprintf(l->out, "{\"run\": %lld, \"sessions\": [", (long long)l->run_id);
		break;
	case FMT_TEXT:
	case FMT_HTML:  /* not query's: cli.c refuses it */
	case FMT_COUNT: /* no format */
		fprintf(l->out, "%-7s %-5s %39s %-5s    %39s %-5s %-6s %-12s %13s %s\n", "ID",
		        "PROTO", "SRC", "SPORT", "DST", "DPORT", "STATE", "CLASS", "PKTS FWD/REV",
		        "HISTORY");
		break;
	}
}

static void
csv_session(FILE *out, const struct sm_session_row *r)
{
	fprintf(out, "%lld,", (long long)r->id);
	sm_csv_field(out, r->proto);
	fputc(',', out);
	sm_csv_field(out, r->src);
	fprintf(out, ",%d,", r->sport);
	sm_csv_field(out, r->dst);
	fprintf(out, ",%d,%.6f,%.6f,", r->dport, r->first_ts, r->last_ts);
	sm_csv_field(out, r->state);
	fprintf(out, ",%llu,%llu,%llu,%llu,", (unsigned long long)r->pkts_fwd,
	        (unsigned long long)r->pkts_rev, (unsigned long long)r->bytes_fwd,
	        (unsigned long long)r->bytes_rev);
	const char *const rest[] = {r->class_name, r->rule, r->history, r->src_role, r->dst_role};
	for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++) {
		if (i)
			fputc(',', out);
		sm_csv_field(out, rest[i]);
	}
	fputc('\n', out);
}

/* A string member, null when empty. */
static void
json_member(FILE *out, const char *name, const char *value)
{
	fprintf(out, ", \"%s\": ", name);
	sm_json_opt(out, value);
}

static void
json_session(FILE *out, const struct sm_session_row *r, bool first)
{
	fprintf(out, "%s\n  {\"id\": %lld", first ? "" : ",", (long long)r->id);
	json_member(out, "proto", r->proto);
	json_member(out, "src", r->src);
	fprintf(out, ", \"sport\": %d", r->sport);
	json_member(out, "dst", r->dst);
	fprintf(out, ", \"dport\": %d, \"vlan\": ", r->dport);
	sm_json_count(out, r->vlan);
	fputs(", \"first_ts\": ", out);
	sm_json_ts(out, r->first_ts);
	fputs(", \"last_ts\": ", out);
	sm_json_ts(out, r->last_ts);
	json_member(out, "state", r->state);
	fprintf(out,
	        ", \"pkts_fwd\": %llu, \"pkts_rev\": %llu, \"bytes_fwd\": %llu, \"bytes_rev\": "
	        "%llu",
	        (unsigned long long)r->pkts_fwd, (unsigned long long)r->pkts_rev,
	        (unsigned long long)r->bytes_fwd, (unsigned long long)r->bytes_rev);
	json_member(out, "class", r->class_name);
	json_member(out, "rule", r->rule);
	json_member(out, "history", r->history);
	json_member(out, "src_role", r->src_role);
	json_member(out, "dst_role", r->dst_role);
	json_member(out, "source", r->source);
	fputc('}', out);
}

bool
sm_session_list_row(void *list, const struct sm_session_row *r)
{
	struct sm_session_list *l = list;
	switch (l->format) {
	case FMT_CSV:
		csv_session(l->out, r);
		break;
	case FMT_JSON:
		json_session(l->out, r, l->n == 0);
		break;
	case FMT_TEXT:
	case FMT_HTML:  /* not query's: cli.c refuses it */
	case FMT_COUNT: /* no format */
		fprintf(l->out, "%-7lld %-5s %39s %-5d -> %39s %-5d %-6s %-12s %6llu/%-6llu %s\n",
		        (long long)r->id, r->proto, r->src, r->sport, r->dst, r->dport, r->state,
		        r->class_name, (unsigned long long)r->pkts_fwd,
		        (unsigned long long)r->pkts_rev, r->history);
		break;
	}
	l->n++;
	return true;
}

void
sm_session_list_end(struct sm_session_list *l)
{
	if (l->format == FMT_JSON)
		fprintf(l->out, "%s]}\n", l->n ? "\n" : "");
}
