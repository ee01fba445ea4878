/*
 * report: loads a run's rows from the store, sums them into the summary the
 * exit status is made from, and hands them to the renderer of the asked format
 * (report_text.c, report_json.c, report_csv.c, report_html.c, which share the
 * helpers of report_rows.c); also the list of runs and the check that a
 * capture shows the site at all.
 */
#include "report_impl.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static void
rows_free(struct rows *w)
{
	free(w->mis);
	free(w->exp);
	free(w->unx);
	free(w->cov);
	free(w->ctr);
	free(w->sensors);
	sm_source_rows_free(w->src, w->nsrc);
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
		if (report_is_missing(r) && expect)
			sum->missing++;
		else if (report_is_missing(r))
			sum->optional_missing++;
	}
	sum->unexpected = w->unx_total;
	sum->mismatched = w->nmis;
}

/* What the report says of database errors the run met (see struct rows). */
static void
db_fault_of(struct rows *w, const struct sm_report_style *style)
{
	const struct sm_counter_row *f = report_counter(w, SM_COUNTER_DB_FAULTS),
	                            *ms = report_counter(w, SM_COUNTER_DB_UNAVAILABLE_MS),
	                            *lost = report_counter(w, SM_COUNTER_NOT_STORED);
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

/* ---- a capture that shows none of the site ---- */

struct seen_ctx {
	size_t addresses, seen;
	char list[512]; /* sources, then busiest addresses */
	int n;
};

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
	bool windowed = report_counter(&w, SM_COUNTER_WINDOW_FROM) ||
	                report_counter(&w, SM_COUNTER_WINDOW_UNTIL);
	/* IP headers cut by the capture's snap length: the addresses may be there */
	const struct sm_counter_row *cut4 = report_counter(&w, "ipv4-truncated"),
	                            *cut6 = report_counter(&w, "ipv6-truncated");
	unsigned long long cut = (cut4 ? cut4->value : 0) + (cut6 ? cut6->value : 0);
	rows_free(&w);
	struct sm_source_row *src = NULL;
	size_t nsrc = 0;
	e = sm_store_load_sources(st, run_id, true, &src, &nsrc, eb);
	for (size_t i = 0; e == SM_OK && i < nsrc && i < 4; i++) {
		sm_strlcat(c.list, i ? ", " : "", sizeof(c.list));
		sm_strlcat(c.list, i < 3 ? src[i].path : "...", sizeof(c.list));
	}
	sm_source_rows_free(src, nsrc);
	if (e == SM_OK && windowed && run.packets == 0) {
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
		if (e == SM_OK && c.n == 0 && cut > 0)
			e = sm_error(
			    eb, SM_ERR_IO,
			    "none of the %zu site addresses of %s appears in %s; no IP packet "
			    "was read whole: the IP headers of %llu packet(s) are cut short (a "
			    "snap length too short to hold the addresses, or damage): if it was "
			    "short, capture again with a larger one (tcpdump -s 0) (run %lld is "
			    "stored, but it says nothing about this site)",
			    c.addresses, site, sources, cut, (long long)run_id);
		else if (e == SM_OK)
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

/* Every finding of a run ([0]) and its errors ([1]). */
static bool
count_finding(void *ctx, const struct sm_finding_row *f)
{
	uint64_t *n = ctx;
	n[0]++;
	n[1] += f->severity == SEV_ERROR;
	return true;
}

static bool
list_run(void *ctx, int64_t id)
{
	struct list_ctx *c = ctx;
	struct sm_run_row r;
	uint64_t findings[2] = {0, 0};
	c->err = sm_store_load_run(c->st, id, &r, c->eb);
	if (c->err != SM_OK)
		return false;
	bool nothing_read = r.finished[0] == '\0' && r.packets == 0;
	if (!nothing_read)
		c->err = sm_store_each_finding(c->st, id, count_finding, findings, c->eb);
	FILE *out = c->out;
	struct sm_source_row *src = NULL;
	size_t nsrc = 0;
	if (c->err == SM_OK)
		c->err = sm_store_load_sources(c->st, id, true, &src, &nsrc, c->eb);
	if (c->err == SM_OK && c->json) {
		fprintf(out, "%s\n  {\"id\": %lld, \"mode\": ", c->n ? "," : "", (long long)id);
		sm_json_string(out, r.mode);
		fputs(", \"status\": ", out);
		sm_json_string(out, sm_run_status_name(r.status));
		fputs(", \"sources\": [", out);
		report_json_sources(out, src, nsrc);
		fputs("],\n   \"first_ts\": ", out);
		sm_json_ts(out, r.first_ts);
		fputs(", \"last_ts\": ", out);
		sm_json_ts(out, r.last_ts);
		fprintf(out,
		        ", \"packets\": %llu, \"sessions\": %llu, \"findings\": %llu, \"errors\": "
		        "%llu}",
		        (unsigned long long)r.packets, (unsigned long long)r.sessions,
		        (unsigned long long)findings[0], (unsigned long long)findings[1]);
	} else if (c->err == SM_OK) {
		char t0[40], t1[40];
		sm_fmt_time(r.first_ts, t0, sizeof(t0));
		sm_fmt_time(r.last_ts, t1, sizeof(t1));
		fprintf(out,
		        "%-4lld %-6s %-11s %s .. %s  %llu packets, %llu sessions, %llu findings "
		        "(%llu errors)",
		        (long long)id, r.mode, sm_run_status_name(r.status), t0, t1,
		        (unsigned long long)r.packets, (unsigned long long)r.sessions,
		        (unsigned long long)findings[0], (unsigned long long)findings[1]);
		for (size_t i = 0; i < nsrc; i++)
			fprintf(out, "%s%s", i ? ", " : "  ", src[i].path);
		fputc('\n', out);
	}
	sm_source_rows_free(src, nsrc);
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
		e = sm_error(eb, SM_ERR_IO, "cannot write the list of runs: %s", strerror(errno));
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
		e = sm_store_load_unexpected(st, run_id, SM_REPORT_UNEXPECTED_MAX, &w.unx, &w.nunx,
		                             &w.unx_total, eb);
	if (e == SM_OK)
		e = sm_store_load_coverage(st, run_id, &w.cov, &w.ncov, eb);
	if (e == SM_OK)
		e = sm_store_load_counters(st, run_id, &w.ctr, &w.nctr, eb);
	if (e == SM_OK)
		e = sm_store_load_mismatches(st, run_id, &w.mis, &w.nmis, eb);
	if (e == SM_OK)
		e = sm_store_load_sensors(st, run_id, &w.sensors, &w.nsensors, eb);
	if (e == SM_OK)
		e = sm_store_load_sources(st, run_id, true, &w.src, &w.nsrc, eb);
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
		switch (
		    fmt) { /* no default: a format added to fmt.h without its branch is a warning */
		case FMT_JSON:
			report_render_json(out, &run, &w, sum);
			break;
		case FMT_HTML:
			e = report_render_html(out, st, &run, &w, sum,
			                       style ? style->db_path : NULL, eb);
			break;
		case FMT_CSV:
			report_render_csv(out, &w);
			break;
		case FMT_TEXT:
			report_render_text(out, &run, &w, sum, style && style->color);
			break;
		case FMT_COUNT:
			e = sm_error(eb, SM_ERR_INTERNAL, "no such report format");
			break;
		}
		if (e == SM_OK && (fflush(out) != 0 || ferror(out)))
			e = sm_error(eb, SM_ERR_IO, "cannot write the report: %s", strerror(errno));
	}
	rows_free(&w);
	sm_run_row_free(&run);
	return e;
}
