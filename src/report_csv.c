/*
 * report_csv: the CSV report, one row an expected flow, unexpected group or
 * protocol mismatch, with one header for every section.
 */
#include "report_impl.h"

#include <stdlib.h>
#include <string.h>

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

void
report_render_csv(FILE *out, const struct rows *w)
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
	if (w->unx_total > w->nunx) { /* the busiest are listed; the rest are findings */
		char more[96];
		snprintf(more, sizeof(more), "%zu more unexpected flows not listed",
		         w->unx_total - w->nunx);
		const char *col[C_COUNT] = {
		    [C_SECTION] = "unexpected-not-listed", [C_DETAIL] = more};
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
