/*
 * store_int: what the files of the store module share, behind the contract of
 * include/smaudit/store.h.  store.c opens the database and writes runs and
 * sessions (through the writer thread); store_schema.c creates and upgrades the
 * tables; store_read.c reads them back; src/store_db.h is the database, SQLite
 * or PostgreSQL.
 */
#ifndef SMAUDIT_STORE_INT_H
#define SMAUDIT_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smaudit/store.h"
#include "store_db.h"

/* The inserts prepared once when the store opens (store.c). */
enum store_stmt {
	ST_SESSION,
	ST_SOURCE,
	ST_COUNTER,
	ST_EXPECTED,
	ST_FINDING,
	ST_COVERAGE,
	ST_SIGHTING,
	ST_SENSOR,
	ST_COUNT
};

struct store_writer; /* the write-behind thread and its ring (store.c) */

struct sm_store {
	struct sm_db *db;
	struct store_writer *w; /* NULL: sessions are written at once */
	struct sm_stmt *stmt[ST_COUNT];
	bool in_txn;
	uint64_t batch;
	int64_t run_id; /* the run this connection writes (0: none) */
};

/* Creates the schema of a new database or upgrades an older one (store_schema.c);
 * a read-only connection is only checked: its version must not be newer. */
enum sm_err store_check_schema(struct sm_db *db, struct sm_errbuf *eb);

/* Waits until the writer thread has inserted every queued session; returns
 * its database error.  Every call but sm_store_session() does this first, so
 * only one thread uses the connection at a time. */
enum sm_err store_drain(struct sm_store *st, struct sm_errbuf *eb);

#define DRAIN(st, eb)                                                                              \
	do {                                                                                       \
		enum sm_err drained_ = store_drain((st), (eb));                                    \
		if (drained_ != SM_OK)                                                             \
			return drained_;                                                           \
	} while (0)

/* How a field of a row is kept in a column (store_cols.c). */
enum store_col_type {
	COL_TEXT,         /* a char array; NULL reads back as "" */
	COL_INT,          /* an int */
	COL_BOOL,         /* a bool, as 0 or 1 */
	COL_PORT,         /* an int, NULL when negative (ICMP has no port) */
	COL_U32,          /* a uint32_t */
	COL_U64,          /* a uint64_t */
	COL_DOUBLE,       /* a double */
	COL_TS,           /* a double UNIX time, NULL when 0 */
	COL_ID,           /* an int64_t id, NULL when 0 (none) */
	COL_RULE_KIND,    /* the enums, by their names in verdict.h; a name this */
	COL_VERDICT,      /* version does not know reads back as the first value */
	COL_FINDING_KIND, /* of its enum */
	COL_SEVERITY,
	COL_CLASS,
};
struct store_col {
	enum store_col_type type;
	size_t off, size; /* of the field in its row */
};
/* The columns of a row type, in the order its insert binds them and its select
 * reads them: an expected flow and a finding after their ids, an unexpected
 * aggregate as STORE_UNEXPECTED_COLS, a flow of sm_store_load_flows, a role's
 * coverage after its run id, the counters of a run, a session record after its
 * run id (then its ICMP error, when it has one), a session as
 * sm_store_query_sessions reads it. */
#define STORE_EXPECTED_COLS     18
#define STORE_FINDING_COLS      9
#define STORE_COVERAGE_COLS     3
#define STORE_UNEXPECTED_NCOLS  12
#define STORE_FLOW_COLS         12
#define STORE_RUN_COLS          11
#define STORE_SESSION_COLS      34
#define STORE_SESSION_ICMP_COLS 4
#define STORE_SESSION_ROW_COLS  24
extern const struct store_col store_expected_cols[STORE_EXPECTED_COLS];
extern const struct store_col store_finding_cols[STORE_FINDING_COLS];
extern const struct store_col store_unexpected_cols[STORE_UNEXPECTED_NCOLS];
extern const struct store_col store_flow_cols[STORE_FLOW_COLS];
extern const struct store_col store_coverage_cols[STORE_COVERAGE_COLS];
extern const struct store_col store_run_cols[STORE_RUN_COLS];
extern const struct store_col store_session_cols[STORE_SESSION_COLS];
extern const struct store_col store_session_icmp_cols[STORE_SESSION_ICMP_COLS];
extern const struct store_col store_session_row_cols[STORE_SESSION_ROW_COLS];
/* v at parameter i, or NULL where known is false (no port, time, id or clock). */
void store_bind_int_or_null(struct sm_stmt *s, int i, bool known, int64_t v);
void store_bind_double_or_null(struct sm_stmt *s, int i, bool known, double v);
/* Binds the n fields c of row to the parameters first, first + 1, ... */
void store_bind_cols(struct sm_stmt *s, int first, const struct store_col *c, size_t n,
                     const void *row);
/* Reads the columns first, first + 1, ... of the current row into the n fields c of row. */
void store_decode_cols(struct sm_stmt *s, int first, const struct store_col *c, size_t n,
                       void *row);

/* Unexpected traffic aggregated per SPEC section 5: (proto, src, dst, port), the
 * state of the session that ended last (sm_latest).  The port of an aggregate, with T the table's
 * qualifier ("" or "s."): the schema's partial index sessions_unexpected is on
 * this very expression, so that grouping walks it instead of sorting. */
#define STORE_UNEXPECTED_PORT(T)                                                                   \
	"CASE WHEN " T "proto IN ('icmp','icmp6') THEN NULL ELSE " T "dport END"
/* The aggregate's columns, as store_decode_unexpected reads them (a caller may
 * add its own after them), and the rest of the query up to its ORDER BY; the run
 * id is ?1. */
#define STORE_UNEXPECTED_COLS                                                                      \
	"proto, src, dst, " STORE_UNEXPECTED_PORT(                                                 \
	    "") " AS port, max(src_role), max(dst_role), count(*) AS"                              \
	        " sessions, sum(pkts_fwd + pkts_rev) AS packets, sum(bytes_fwd + bytes_rev),"      \
	        " min(first_ts), max(last_ts), sm_latest(state, last_ts, id)"
#define STORE_UNEXPECTED_FROM                                                                      \
	" FROM sessions s WHERE run_id = ?1 AND class = " SM_SQL_NAME(                             \
	    SM_CLASS_UNEXPECTED_NAME) " GROUP BY proto, src, dst, port"
/* The aggregates in (proto, src, dst, port) order (store_read.c). */
extern const char store_unexpected_sql[];
void store_decode_unexpected(struct sm_stmt *s, void *row);

#endif
