/*
 * store_cols: the column maps of the store's rows.  One table a row type says
 * which field goes in which column and how (text, port, time, enum by name), so
 * the insert that binds a row and the select that reads it back cannot disagree.
 */
#include <stddef.h>

#include "store_int.h"

#define COL(type, row, field)                                                                      \
	{                                                                                          \
		(type), offsetof(row, field), sizeof(((row *)0)->field)                            \
	}

/* After run_id in the insert of store.c, and so in the select of store_read.c. */
#define E(type, field) COL(type, struct sm_expected_row, field)
const struct store_col store_expected_cols[STORE_EXPECTED_COLS] = {
    E(COL_TEXT, rule),       E(COL_RULE_KIND, kind),    E(COL_TEXT, proto),  E(COL_PORT, port),
    E(COL_TEXT, src_role),   E(COL_TEXT, dst_role),     E(COL_TEXT, src),    E(COL_TEXT, dst),
    E(COL_VERDICT, verdict), E(COL_U64, sessions),      E(COL_U64, failed),  E(COL_TS, first_ts),
    E(COL_TS, last_ts),      E(COL_TEXT, purpose),      E(COL_TEXT, detail), E(COL_ID, finding_id),
    E(COL_TEXT, path),       E(COL_TEXT, lost_between),
};
#undef E

/* After id and run_id. */
#define F(type, field) COL(type, struct sm_finding_row, field)
const struct store_col store_finding_cols[STORE_FINDING_COLS] = {
    F(COL_FINDING_KIND, kind), F(COL_SEVERITY, severity), F(COL_TEXT, rule),
    F(COL_TEXT, proto),        F(COL_TEXT, src),          F(COL_TEXT, dst),
    F(COL_PORT, port),         F(COL_VERDICT, verdict),   F(COL_TEXT, detail),
};
#undef F

/* STORE_UNEXPECTED_COLS. */
#define U(type, field) COL(type, struct sm_unexpected_row, field)
const struct store_col store_unexpected_cols[STORE_UNEXPECTED_NCOLS] = {
    U(COL_TEXT, proto),    U(COL_TEXT, src),      U(COL_TEXT, dst),     U(COL_PORT, port),
    U(COL_TEXT, src_role), U(COL_TEXT, dst_role), U(COL_U64, sessions), U(COL_U64, packets),
    U(COL_U64, bytes),     U(COL_TS, first_ts),   U(COL_TS, last_ts),   U(COL_TEXT, state),
};
#undef U

/* The flows of sm_store_load_flows (its port is -1 for ICMP already, not NULL). */
#define W(type, field) COL(type, struct sm_flow_row, field)
const struct store_col store_flow_cols[STORE_FLOW_COLS] = {
    W(COL_TEXT, proto),      W(COL_TEXT, src),      W(COL_TEXT, dst),      W(COL_INT, port),
    W(COL_CLASS, cls),       W(COL_TEXT, src_role), W(COL_TEXT, dst_role), W(COL_U64, sessions),
    W(COL_U64, established), W(COL_U64, packets),   W(COL_TS, first_ts),   W(COL_TS, last_ts),
};
#undef W

/* After run_id. */
#define C(type, field) COL(type, struct sm_coverage_row, field)
const struct store_col store_coverage_cols[STORE_COVERAGE_COLS] = {
    C(COL_TEXT, role),
    C(COL_TEXT, member),
    C(COL_BOOL, seen),
};
#undef C

/* The counters of a run, as sm_store_run_end writes them and sm_store_load_run
 * reads them back. */
#define R(type, field) COL(type, struct sm_run_row, field)
const struct store_col store_run_cols[STORE_RUN_COLS] = {
    R(COL_U64, packets),   R(COL_U64, bytes),        R(COL_U64, dropped),      R(COL_U64, sessions),
    R(COL_U64, undecoded), R(COL_U64, evicted),      R(COL_U64, read_errors),  R(COL_TS, first_ts),
    R(COL_TS, last_ts),    R(COL_U64, missed_bytes), R(COL_U64, gap_sessions),
};
#undef R

/* A session as written: after run_id in the insert of store.c; its ICMP error
 * follows, NULL when it has none. */
#define S(type, field) COL(type, struct sm_session_record, field)
const struct store_col store_session_cols[STORE_SESSION_COLS] = {
    S(COL_TEXT, proto),      S(COL_TEXT, src),        S(COL_INT, sport),
    S(COL_TEXT, dst),        S(COL_INT, dport),       S(COL_PORT, vlan),
    S(COL_DOUBLE, first_ts), S(COL_DOUBLE, last_ts),  S(COL_TEXT, state),
    S(COL_U64, pkts_fwd),    S(COL_U64, pkts_rev),    S(COL_U64, bytes_fwd),
    S(COL_U64, bytes_rev),   S(COL_TEXT, class_name), S(COL_TEXT, rule),
    S(COL_PORT, inner_vlan), S(COL_TEXT, history),    S(COL_BOOL, established),
    S(COL_U32, syn_count),   S(COL_TEXT, rst_from),   S(COL_PORT, rst_ttl),
    S(COL_U32, icmp_errors), S(COL_PORT, ttl_fwd),    S(COL_PORT, ttl_rev),
    S(COL_TEXT, tunnel),     S(COL_TEXT, outer_src),  S(COL_TEXT, outer_dst),
    S(COL_TEXT, src_role),   S(COL_TEXT, dst_role),   S(COL_BOOL, open),
    S(COL_TEXT, app),        S(COL_TEXT, app_detail), S(COL_U64, missed_bytes),
    S(COL_U64, uid),
};
const struct store_col store_session_icmp_cols[STORE_SESSION_ICMP_COLS] = {
    S(COL_INT, icmp_err_type),
    S(COL_INT, icmp_err_code),
    S(COL_TEXT, icmp_err_from),
    S(COL_INT, icmp_err_ttl),
};
#undef S

/* A session as sm_store_query_sessions selects it. */
#define Q(type, field) COL(type, struct sm_session_row, field)
const struct store_col store_session_row_cols[STORE_SESSION_ROW_COLS] = {
    Q(COL_ID, id),
    Q(COL_TEXT, proto),
    Q(COL_TEXT, src),
    Q(COL_INT, sport),
    Q(COL_TEXT, dst),
    Q(COL_INT, dport),
    Q(COL_PORT, vlan),
    Q(COL_DOUBLE, first_ts),
    Q(COL_DOUBLE, last_ts),
    Q(COL_TEXT, state),
    Q(COL_U64, pkts_fwd),
    Q(COL_U64, pkts_rev),
    Q(COL_U64, bytes_fwd),
    Q(COL_U64, bytes_rev),
    Q(COL_TEXT, class_name),
    Q(COL_TEXT, rule),
    Q(COL_TEXT, history),
    Q(COL_ID, run_id),
    Q(COL_TEXT, src_role),
    Q(COL_TEXT, dst_role),
    Q(COL_BOOL, established),
    Q(COL_DOUBLE, idle_from),
    Q(COL_DOUBLE, idle_max),
    Q(COL_TEXT, source),
};
#undef Q

void
store_bind_int_or_null(struct sm_stmt *s, int i, bool known, int64_t v)
{
	if (known)
		sm_bind_int64(s, i, v);
	else
		sm_bind_null(s, i);
}

void
store_bind_double_or_null(struct sm_stmt *s, int i, bool known, double v)
{
	if (known)
		sm_bind_double(s, i, v);
	else
		sm_bind_null(s, i);
}

void
store_bind_cols(struct sm_stmt *s, int first, const struct store_col *c, size_t n, const void *row)
{
	for (size_t k = 0; k < n; k++) {
		const void *v = (const char *)row + c[k].off;
		int i = first + (int)k;
		switch (c[k].type) {
		case COL_TEXT:
			sm_bind_text(s, i, v);
			break;
		case COL_INT:
			sm_bind_int(s, i, *(const int *)v);
			break;
		case COL_BOOL:
			sm_bind_int(s, i, *(const bool *)v);
			break;
		case COL_PORT:
			store_bind_int_or_null(s, i, *(const int *)v >= 0, *(const int *)v);
			break;
		case COL_U32:
			sm_bind_int(s, i, (int)*(const uint32_t *)v);
			break;
		case COL_U64:
			sm_bind_int64(s, i, (int64_t) * (const uint64_t *)v);
			break;
		case COL_DOUBLE:
			sm_bind_double(s, i, *(const double *)v);
			break;
		case COL_TS:
			store_bind_double_or_null(s, i, *(const double *)v > 0, *(const double *)v);
			break;
		case COL_ID:
			store_bind_int_or_null(s, i, *(const int64_t *)v > 0, *(const int64_t *)v);
			break;
		case COL_RULE_KIND:
			sm_bind_text(s, i, sm_rule_kind_name(*(const enum sm_rule_kind *)v));
			break;
		case COL_VERDICT:
			sm_bind_text(s, i, sm_verdict_name(*(const enum sm_verdict *)v));
			break;
		case COL_FINDING_KIND:
			sm_bind_text(s, i, sm_finding_kind_name(*(const enum sm_finding_kind *)v));
			break;
		case COL_SEVERITY:
			sm_bind_text(s, i, sm_severity_name(*(const enum sm_severity *)v));
			break;
		case COL_CLASS:
			sm_bind_text(s, i, sm_class_name(*(const enum sm_class *)v));
			break;
		}
	}
}

/* A name the database holds that no enum knows: a database this version did not
 * write.  Read as the first value of its enum, as close as a report can get. */
#define COL_ENUM(parse, type, t, v)                                                                \
	do {                                                                                       \
		if (!parse((t), (type *)(v)))                                                      \
			*(type *)(v) = (type)0;                                                    \
	} while (0)

void
store_decode_cols(struct sm_stmt *s, int first, const struct store_col *c, size_t n, void *row)
{
	for (size_t k = 0; k < n; k++) {
		void *v = (char *)row + c[k].off;
		int i = first + (int)k;
		const char *t;
		switch (c[k].type) {
		case COL_TEXT:
			t = sm_col_text(s, i);
			sm_strlcpy(v, t ? t : "", c[k].size);
			break;
		case COL_INT:
			*(int *)v = sm_col_int(s, i);
			break;
		case COL_BOOL:
			*(bool *)v = sm_col_int(s, i) != 0;
			break;
		case COL_PORT:
			*(int *)v = sm_col_is_null(s, i) ? -1 : sm_col_int(s, i);
			break;
		case COL_U32:
			*(uint32_t *)v = (uint32_t)sm_col_int64(s, i);
			break;
		case COL_U64:
			*(uint64_t *)v = (uint64_t)sm_col_int64(s, i);
			break;
		case COL_DOUBLE:
			*(double *)v = sm_col_double(s, i);
			break;
		case COL_TS:
			*(double *)v = sm_col_double(s, i);
			break;
		case COL_ID:
			*(int64_t *)v = sm_col_int64(s, i);
			break;
		case COL_RULE_KIND:
			COL_ENUM(sm_rule_kind_parse, enum sm_rule_kind, sm_col_text(s, i), v);
			break;
		case COL_VERDICT:
			COL_ENUM(sm_verdict_parse, enum sm_verdict, sm_col_text(s, i), v);
			break;
		case COL_FINDING_KIND:
			COL_ENUM(sm_finding_kind_parse, enum sm_finding_kind, sm_col_text(s, i), v);
			break;
		case COL_SEVERITY:
			COL_ENUM(sm_severity_parse, enum sm_severity, sm_col_text(s, i), v);
			break;
		case COL_CLASS:
			COL_ENUM(sm_class_parse, enum sm_class, sm_col_text(s, i), v);
			break;
		}
	}
}
