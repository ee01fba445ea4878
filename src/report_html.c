/*
 * report_html: the HTML report, one self-contained file (no script, no
 * external resource): failing flows first, the matrix of role pairs and
 * ports, the timeline, then the text report.
 */
#include "report_impl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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
		report_expected_notes(t, run, r, true);
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
		if (report_is_missing(&w->exp[i]) && w->exp[i].kind == RK_EXPECT) {
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
		        w->unx_total);
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
		if (w->unx_total > w->nunx)
			fprintf(
			    out,
			    "<li>... and %zu more not listed here (these are the %zu with the most "
			    "sessions); each is a finding in the database</li>\n",
			    w->unx_total - w->nunx, w->nunx);
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
		char cmd[4200], word[4100];
		/* pasted into a shell: a URI's '&' and '?' or a space in a path quoted */
		sm_fmt_shell_word(db_path, word, sizeof(word));
		snprintf(cmd, sizeof(cmd), "smaudit extract -d %s --finding N -o finding-N.pcap",
		         word);
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
	long long us = (long long)(ts * 1e6 + 0.5); /* as sm_fmt_time (ts > 0) */
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char hms[16];
	strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
	if (tenths)
		snprintf(buf, len, "%s.%d", hms, (int)(us % 1000000 / 100000));
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

/* The capture files, one a line, with what could not be read. */
static void
html_sources(FILE *out, const struct rows *w)
{
	for (size_t i = 0; i < w->nsrc; i++) {
		fputs(i ? "<br>" : "", out);
		html_text(out, w->src[i].path);
		fprintf(out, " (%llu packets)", (unsigned long long)w->src[i].packets);
		if (w->src[i].error[0]) {
			fputs(": <span class=\"warn\">", out);
			html_text(out, w->src[i].error);
			fputs("</span>", out);
		}
	}
}

/* The run's sensors and their clocks, as the text report words them. */
static void
html_sensors(FILE *out, const struct rows *w)
{
	if (w->nsensors == 0)
		return;
	fputs("</dd>\n<dt>sensors</dt>\n<dd>", out);
	for (size_t i = 0; i < w->nsensors; i++) {
		char *line = NULL;
		size_t len = 0;
		FILE *m = open_memstream(&line, &len);
		if (m == NULL)
			return;
		report_sensor_line(m, &w->sensors[i], "");
		fclose(m);
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		fputs(i ? "<br>" : "", out);
		html_text(out, line);
		free(line);
	}
}

static void
html_header(FILE *out, const struct sm_run_row *run, const struct rows *w,
            const struct sm_report_summary *sum, const char *db_path)
{
	/* the first capture's file name, for the title */
	const char *name = "no capture";
	if (w->nsrc > 0) {
		const char *slash = strrchr(w->src[0].path, '/');
		name = slash && slash[1] ? slash + 1 : w->src[0].path;
	}
	char more[32] = "", t0[40], t1[40];
	if (w->nsrc > 1)
		snprintf(more, sizeof(more), " + %zu more", w->nsrc - 1);
	sm_fmt_time(run->first_ts, t0, sizeof(t0));
	sm_fmt_time(run->last_ts, t1, sizeof(t1));
	fputs("<title>", out);
	html_text(out, name);
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
	html_text(out, name);
	fprintf(out, "%s</span></h1>\n<dl id=\"run\">\n<dt>capture%s</dt>\n<dd>", more,
	        w->nsrc > 1 ? "s" : "");
	html_sources(out, w);
	html_sensors(out, w);
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
	        sm_run_status_name(run->status));
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
	fputs("</dd>\n</dl>\n<p id=\"summary\">", out);
	report_summary_line(out, sum, true);
	fputs("</p>\n</header>\n", out);
}

enum sm_err
report_render_html(FILE *out, struct sm_store *st, const struct sm_run_row *run,
                   const struct rows *w, const struct sm_report_summary *sum, const char *db_path,
                   struct sm_errbuf *eb)
{
	char *text = NULL;
	size_t len = 0;
	FILE *t = open_memstream(&text, &len);
	if (t == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory rendering the report");
	report_render_text(t, run, w, sum, false);
	fclose(t);
	enum sm_err e = SM_OK;
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
	      out);
	html_header(out, run, w, sum, db_path);
	if (run->filter != NULL) {
		fputs("<p class=\"warn\" id=\"filter\">Capture filter: <code>", out);
		html_text(out, run->filter);
		fprintf(out,
		        "</code>. Only matching packets were read: %llu expected flow(s) it "
		        "excludes are 'filtered' (the capture cannot say), not missing.</p>\n",
		        (unsigned long long)sum->filtered);
	}
	if (run->filter == NULL && sum->filtered > 0)
		fprintf(out,
		        "<p class=\"warn\" id=\"snapcut\">The capture's snap length cut packets "
		        "before their ports: %llu expected flow(s) of their addresses are "
		        "'filtered' (the capture cannot say), not missing.</p>\n",
		        (unsigned long long)sum->filtered);
	if (!report_run_is(run, RUN_COMPLETE))
		fprintf(out,
		        "<p class=\"warn\" id=\"status\">This run did not finish (%s): verdicts "
		        "cover only what was read.</p>\n",
		        sm_run_status_name(run->status));
	if (report_counter(w, SM_COUNTER_PROTOCOLS_UNCHECKED) != NULL)
		fputs("<p class=\"warn\" id=\"protocols\">Protocol mismatches: not checked "
		      "(--no-payload): what each port carries was not verified.</p>\n",
		      out);
	if (run->strict)
		fprintf(out,
		        "<p class=\"warn\" id=\"strict\">--strict: %llu intermittent failure(s) "
		        "of expected flows count as findings.</p>\n",
		        (unsigned long long)sum->intermittent);
	size_t unseen = report_unseen_count(w);
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
