/*
 * store_read: the store's readers.  Loads a run, its expected-flow verdicts,
 * unexpected traffic, coverage, counters, findings, flows and sessions back for
 * report, query, timeline, diff and extract, as arrays (load) or through a
 * callback (each).  Reaches the database only through src/store_db.h; every
 * reader first lets the writer thread finish (DRAIN).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_int.h"

/* A run marked running on another host is still going if its last checkpoint
 * (heartbeat) is at most this old; on this host its process id decides. */
#define HEARTBEAT_FRESH_S 120

const char store_unexpected_sql[] =
    "SELECT " STORE_UNEXPECTED_COLS STORE_UNEXPECTED_FROM " ORDER BY proto, src, dst, port";

static void
col_text(struct sm_stmt *s, int i, char *buf, size_t len)
{
	const char *t = sm_col_text(s, i);
	sm_strlcpy(buf, t ? t : "", len);
}

static char *
col_dup(struct sm_stmt *s, int i)
{
	const char *t = sm_col_text(s, i);
	return t ? strdup(t) : NULL;
}

enum sm_err
sm_store_latest_run(struct sm_store *st, int64_t *run_id, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	struct sm_stmt *s;
	if (!sm_db_prepare(st->db, "SELECT max(id) FROM runs", false, &s))
		return sm_db_fail(st->db, eb, "finding the latest run");
	*run_id = 0;
	enum sm_db_step rc = sm_stmt_step(s);
	if (rc == SM_DB_ROW)
		*run_id = sm_col_int64(s, 0);
	if (rc != SM_DB_ROW && rc != SM_DB_DONE) {
		enum sm_err e = sm_db_fail(st->db, eb, "finding the latest run");
		sm_stmt_finalize(s);
		return e;
	}
	sm_stmt_finalize(s);
	if (*run_id == 0)
		return sm_error(eb, SM_ERR_USAGE, "the database holds no run yet");
	return SM_OK;
}

/* What the run was asked to do: its -f filter and --strict. */
static enum sm_err
load_run_options(struct sm_store *st, struct sm_run_row *r, struct sm_errbuf *eb)
{
	struct sm_stmt *s;
	(void)eb;
	if (!sm_db_prepare(st->db, "SELECT filter, strict FROM runs WHERE id = ?", false, &s))
		return SM_OK; /* an older database a reader cannot upgrade: neither was used */
	sm_bind_int64(s, 1, r->id);
	if (sm_stmt_step(s) == SM_DB_ROW) {
		r->filter = col_dup(s, 0);
		r->strict = sm_col_int(s, 1) != 0;
	}
	sm_stmt_finalize(s);
	return SM_OK;
}

/* A killed process whose parent has not reaped it yet (a zombie) is gone. */
static bool
process_alive(pid_t pid)
{
	if (pid <= 0 || (kill(pid, 0) != 0 && errno != EPERM))
		return false;
	char path[64], stat[512];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return true; /* no procfs: kill() is all there is */
	size_t n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	const char *state = strrchr(stat, ')'); /* "pid (comm) S ...": comm may hold ')' */
	return state == NULL || (state[1] != '\0' && state[2] != 'Z' && state[2] != 'X');
}

/* Whether a run marked running still goes on: its process is alive on this host,
 * or (another host) its last checkpoint is recent (heartbeat, UTC in ISO 8601,
 * compared as text).  The connection writing the run does not ask (an interim
 * report of a live run is running). */
static bool
still_running(struct sm_stmt *s, int pid_col, int host_col, int heartbeat_col)
{
	char host[256] = "", here[256] = "";
	col_text(s, host_col, host, sizeof(host));
	gethostname(here, sizeof(here) - 1);
	if (sm_col_is_null(s, pid_col) || host[0] == '\0')
		return false; /* written before schema 5: nothing says it still runs */
	if (strcmp(host, here) == 0)
		return process_alive((pid_t)sm_col_int64(s, pid_col));
	char fresh[32];
	time_t t = time(NULL) - HEARTBEAT_FRESH_S;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(fresh, sizeof(fresh), "%Y-%m-%dT%H:%M:%SZ", &tm);
	const char *heartbeat = sm_col_text(s, heartbeat_col);
	return heartbeat != NULL && strcmp(heartbeat, fresh) >= 0;
}

enum sm_err
sm_store_load_run(struct sm_store *st, int64_t run_id, struct sm_run_row *r, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	memset(r, 0, sizeof(*r));
	struct sm_stmt *s;
	if (!sm_db_prepare(st->db,
	                   "SELECT id, started, finished, mode, status, sources, site, rules,"
	                   " packets, bytes, dropped, sessions, undecoded, evicted, read_errors,"
	                   " first_ts, last_ts, missed_bytes, gap_sessions, pid, host,"
	                   " heartbeat FROM runs WHERE id = ?",
	                   false, &s))
		return sm_db_fail(st->db, eb, "reading the run");
	sm_bind_int64(s, 1, run_id);
	enum sm_db_step rc = sm_stmt_step(s);
	if (rc != SM_DB_ROW) {
		sm_stmt_finalize(s);
		if (rc == SM_DB_DONE)
			return sm_error(eb, SM_ERR_USAGE, "no run %lld in the database",
			                (long long)run_id);
		return sm_db_fail(st->db, eb, "reading the run");
	}
	int i = 0;
	r->id = sm_col_int64(s, i++);
	col_text(s, i++, r->started, sizeof(r->started));
	col_text(s, i++, r->finished, sizeof(r->finished));
	col_text(s, i++, r->mode, sizeof(r->mode));
	char status[16];
	col_text(s, i++, status, sizeof(status));
	r->sources = col_dup(s, i++);
	r->site = col_dup(s, i++);
	r->rules = col_dup(s, i++);
	store_decode_cols(s, i, store_run_cols, STORE_RUN_COLS, r);
	i += STORE_RUN_COLS;
	if (!sm_run_status_parse(status, &r->status)) {
		sm_stmt_finalize(s);
		sm_run_row_free(r);
		return sm_error(eb, SM_ERR_DB, "run %lld: unknown status '%s'", (long long)run_id,
		                status);
	}
	if (r->status == RUN_RUNNING && run_id != st->run_id && !still_running(s, i, i + 1, i + 2))
		r->status = RUN_INTERRUPTED;
	sm_stmt_finalize(s);
	return load_run_options(st, r, eb);
}

void
sm_run_row_free(struct sm_run_row *r)
{
	free(r->sources);
	free(r->site);
	free(r->rules);
	free(r->filter);
	r->sources = r->site = r->rules = r->filter = NULL;
}

/* Prepares sql with the run id bound as ?1 and calls row() for each result. */
static enum sm_err
each_row(struct sm_store *st, const char *sql, int64_t run_id,
         bool (*row)(struct sm_stmt *, void *), void *ctx, const char *what, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	struct sm_stmt *s;
	if (!sm_db_prepare(st->db, sql, false, &s))
		return sm_db_fail(st->db, eb, what);
	sm_bind_int64(s, 1, run_id);
	enum sm_db_step rc;
	while ((rc = sm_stmt_step(s)) == SM_DB_ROW)
		if (!row(s, ctx))
			break;
	sm_stmt_finalize(s);
	if (rc != SM_DB_ROW && rc != SM_DB_DONE)
		return sm_db_fail(st->db, eb, what);
	return SM_OK;
}

/* Fills one row struct from the current result row. */
typedef void (*decode_fn)(struct sm_stmt *s, void *row);

/* The one way rows become an array: each is decoded in place at the end of v. */
struct collect {
	decode_fn decode;             /* or NULL: by the column map cols */
	const struct store_col *cols; /* from the first column */
	size_t ncols;
	size_t size; /* of one row */
	void *v;
	size_t n, cap;
	bool oom;
};

static bool
collect_row(struct sm_stmt *s, void *p)
{
	struct collect *c = p;
	if (c->n == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 16;
		void *nv = realloc(c->v, ncap * c->size);
		if (nv == NULL) {
			c->oom = true;
			return false;
		}
		c->v = nv;
		c->cap = ncap;
	}
	void *row = (char *)c->v + c->n * c->size;
	memset(row, 0, c->size);
	if (c->decode != NULL)
		c->decode(s, row);
	else
		store_decode_cols(s, 0, c->cols, c->ncols, row);
	c->n++;
	return true;
}

/* Runs sql (run id as ?1) and returns its rows, decoded as c says, as one array. */
static enum sm_err
collect_rows(struct sm_store *st, const char *sql, int64_t run_id, struct collect *c, void **rows,
             size_t *n, const char *what, struct sm_errbuf *eb)
{
	enum sm_err e = each_row(st, sql, run_id, collect_row, c, what, eb);
	if (e == SM_OK && c->oom)
		e = sm_error(eb, SM_ERR_NOMEM, "%s: out of memory %s", sm_db_path(st->db), what);
	*rows = c->v;
	*n = c->n;
	return e;
}

/* The rows of sql, each decoded by decode. */
static enum sm_err
load_rows(struct sm_store *st, const char *sql, int64_t run_id, decode_fn decode, size_t size,
          void **rows, size_t *n, const char *what, struct sm_errbuf *eb)
{
	struct collect c = {decode, NULL, 0, size, NULL, 0, 0, false};
	return collect_rows(st, sql, run_id, &c, rows, n, what, eb);
}

/* The rows of sql, whose columns are the ncols of the column map cols. */
static enum sm_err
load_mapped(struct sm_store *st, const char *sql, int64_t run_id, const struct store_col *cols,
            size_t ncols, size_t size, void **rows, size_t *n, const char *what,
            struct sm_errbuf *eb)
{
	struct collect c = {NULL, cols, ncols, size, NULL, 0, 0, false};
	return collect_rows(st, sql, run_id, &c, rows, n, what, eb);
}

#define FINDING_COLS "id, run_id, kind, severity, rule, proto, src, dst, port, verdict, detail"

enum sm_err
sm_store_load_expected(struct sm_store *st, int64_t run_id, struct sm_expected_row **rows,
                       size_t *n, struct sm_errbuf *eb)
{
	return load_mapped(st,
	                   /* before schema 5 the pair that tried was a hint beside a null */
	                   "SELECT rule, kind, proto, port, src_role, dst_role,"
	                   " coalesce(src, hint_src), coalesce(dst, hint_dst), verdict, sessions,"
	                   " failed, first_ts, last_ts, purpose, detail, finding_id, path,"
	                   " lost_between FROM expected WHERE run_id = ?1 ORDER BY id",
	                   run_id, store_expected_cols, STORE_EXPECTED_COLS, sizeof(**rows),
	                   (void **)rows, n, "reading expected flows", eb);
}

/* A row of unexpected_sql, with the id of its finding as a 13th column if any. */
void
store_decode_unexpected(struct sm_stmt *s, void *row)
{
	struct sm_unexpected_row *r = row;
	store_decode_cols(s, 0, store_unexpected_cols, STORE_UNEXPECTED_NCOLS, r);
	int i = STORE_UNEXPECTED_NCOLS;
	r->finding_id = i < sm_col_count(s) ? sm_col_int64(s, i) : 0;
}

static bool
count_row(struct sm_stmt *s, void *p)
{
	*(size_t *)p = (size_t)sm_col_int64(s, 0);
	return true;
}

enum sm_err
sm_store_load_unexpected(struct sm_store *st, int64_t run_id, size_t max,
                         struct sm_unexpected_row **rows, size_t *n, size_t *total,
                         struct sm_errbuf *eb)
{
	/* each aggregate with the id of the finding made from it, looked up through
	 * the findings_unexpected index (a run may hold a million of both) */
#define UNEXPECTED_GROUPS                                                                          \
	"SELECT " STORE_UNEXPECTED_COLS ", (SELECT min(f.id) FROM findings f WHERE f.run_id = ?1"  \
	" AND f.kind = " SM_SQL_NAME(                                                              \
	    SM_FK_UNEXPECTED_NAME) " AND f.proto = s.proto AND f.src = s.src AND f.dst = s.dst"    \
	                           " AND f.port IS NOT DISTINCT FROM max(" STORE_UNEXPECTED_PORT(  \
	                               "s.") "))" STORE_UNEXPECTED_FROM
	char sql[sizeof(UNEXPECTED_GROUPS) + 200];
	/* In the usual order, up to one more than max: when they fit, as they
	 * mostly do, this is the only walk of the index. */
	if (max == 0)
		snprintf(sql, sizeof(sql), "%s ORDER BY proto, src, dst, port", UNEXPECTED_GROUPS);
	else
		snprintf(sql, sizeof(sql), "%s ORDER BY proto, src, dst, port LIMIT %zu",
		         UNEXPECTED_GROUPS, max + 1);
	enum sm_err e = load_rows(st, sql, run_id, store_decode_unexpected, sizeof(**rows),
	                          (void **)rows, n, "reading unexpected traffic", eb);
	*total = *n;
	if (e != SM_OK || max == 0 || *n <= max)
		return e;
	/* More: count them, and take the busiest max by a bounded sort, then in the
	 * usual order. */
	free(*rows);
	*rows = NULL;
	*n = 0;
	e = each_row(st,
	             "SELECT count(*) FROM (SELECT 1 FROM sessions WHERE run_id = ?1 AND"
	             " class = " SM_SQL_NAME(
	                 SM_CLASS_UNEXPECTED_NAME) " GROUP BY proto, src, "
	                                           "dst, " STORE_UNEXPECTED_PORT("") ") AS g",
	             run_id, count_row, total, "counting unexpected traffic", eb);
	if (e != SM_OK)
		return e;
	snprintf(sql, sizeof(sql),
	         "SELECT * FROM (%s ORDER BY sessions DESC, proto, src, dst, port LIMIT %zu)"
	         " AS g ORDER BY proto, src, dst, port",
	         UNEXPECTED_GROUPS, max);
	e = load_rows(st, sql, run_id, store_decode_unexpected, sizeof(**rows), (void **)rows, n,
	              "reading unexpected traffic", eb);
#undef UNEXPECTED_GROUPS
	return e;
}

enum sm_err
sm_store_load_coverage(struct sm_store *st, int64_t run_id, struct sm_coverage_row **rows,
                       size_t *n, struct sm_errbuf *eb)
{
	return load_mapped(st,
	                   "SELECT role, member, seen FROM role_coverage WHERE run_id = ?1"
	                   " ORDER BY rowid",
	                   run_id, store_coverage_cols, STORE_COVERAGE_COLS, sizeof(**rows),
	                   (void **)rows, n, "reading coverage", eb);
}

static void
decode_sensor(struct sm_stmt *s, void *row)
{
	struct sm_sensor_row *r = row;
	int i = 0;
	r->idx = sm_col_int(s, i++);
	col_text(s, i++, r->name, sizeof(r->name));
	r->clock_offset = sm_col_double(s, i++);
	r->clock_spread = sm_col_double(s, i++);
	r->clock_matched = (uint64_t)sm_col_int64(s, i++);
	r->clock_known = sm_col_int(s, i++) != 0;
	r->packets = (uint64_t)sm_col_int64(s, i++);
}

enum sm_err
sm_store_load_sensors(struct sm_store *st, int64_t run_id, struct sm_sensor_row **rows, size_t *n,
                      struct sm_errbuf *eb)
{
	return load_rows(st,
	                 "SELECT idx, name, clock_offset, clock_spread, clock_matched, clock_known,"
	                 " packets FROM sensors WHERE run_id = ?1 ORDER BY idx",
	                 run_id, decode_sensor, sizeof(**rows), (void **)rows, n, "reading sensors",
	                 eb);
}

static void
decode_counter(struct sm_stmt *s, void *row)
{
	struct sm_counter_row *r = row;
	col_text(s, 0, r->name, sizeof(r->name));
	r->value = (uint64_t)sm_col_int64(s, 1);
}

enum sm_err
sm_store_load_counters(struct sm_store *st, int64_t run_id, struct sm_counter_row **rows, size_t *n,
                       struct sm_errbuf *eb)
{
	return load_rows(
	    st, "SELECT name, value FROM run_counters WHERE run_id = ?1 ORDER BY rowid", run_id,
	    decode_counter, sizeof(**rows), (void **)rows, n, "reading counters", eb);
}

struct cb {
	union {
		bool (*src)(void *, const char *, uint64_t, const char *);
		bool (*fnd)(void *, const struct sm_finding_row *);
		bool (*run)(void *, int64_t);
	} fn;
	void *ctx;
};

static bool
source_row(struct sm_stmt *s, void *p)
{
	struct cb *c = p;
	const char *path = sm_col_text(s, 0);
	const char *err = sm_col_text(s, 2);
	return c->fn.src(c->ctx, path ? path : "", (uint64_t)sm_col_int64(s, 1), err ? err : "");
}

/* A source row with its texts copied (NULL path: out of memory, seen by the loader). */
static void
decode_source(struct sm_stmt *s, void *row)
{
	struct sm_source_row *r = row;
	const char *path = sm_col_text(s, 0), *err = sm_col_text(s, 2);
	r->path = strdup(path ? path : "");
	r->packets = (uint64_t)sm_col_int64(s, 1);
	r->error = strdup(err ? err : "");
	if (r->error == NULL) {
		free(r->path);
		r->path = NULL;
	}
}

enum sm_err
sm_store_load_sources(struct sm_store *st, int64_t run_id, bool as_given,
                      struct sm_source_row **rows, size_t *n, struct sm_errbuf *eb)
{
	enum sm_err e = load_rows(st,
	                          as_given ? "SELECT coalesce(given, path), packets, error FROM"
	                                     " run_sources WHERE run_id = ?1 ORDER BY idx"
	                                   : "SELECT path, packets, error FROM run_sources"
	                                     " WHERE run_id = ?1 ORDER BY idx",
	                          run_id, decode_source, sizeof(**rows), (void **)rows, n,
	                          "reading sources", eb);
	for (size_t i = 0; e == SM_OK && i < *n; i++)
		if ((*rows)[i].path == NULL)
			e = sm_error(eb, SM_ERR_NOMEM, "%s: out of memory reading sources",
			             sm_db_path(st->db));
	return e;
}

void
sm_source_rows_free(struct sm_source_row *rows, size_t n)
{
	for (size_t i = 0; rows != NULL && i < n; i++) {
		free(rows[i].path);
		free(rows[i].error);
	}
	free(rows);
}

enum sm_err
sm_store_each_busiest(struct sm_store *st, int64_t run_id,
                      bool (*fn)(void *, const char *, uint64_t, const char *), void *ctx,
                      struct sm_errbuf *eb)
{
	struct cb c = {.ctx = ctx};
	c.fn.src = fn;
	return each_row(st,
	                "SELECT addr, sum(p), NULL FROM (SELECT src AS addr, pkts_fwd + pkts_rev"
	                " AS p FROM sessions WHERE run_id = ?1 UNION ALL SELECT dst, pkts_fwd +"
	                " pkts_rev FROM sessions WHERE run_id = ?1) AS a GROUP BY addr"
	                " ORDER BY 2 DESC, addr LIMIT 5",
	                run_id, source_row, &c, "reading sessions", eb);
}

enum sm_err
sm_store_each_session(struct sm_store *st, const struct sm_query *q,
                      bool (*fn)(void *, const struct sm_session_row *), void *ctx,
                      struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	struct sm_stmt *s;
	const char *sql =
	    "SELECT id, proto, src, sport, dst, dport, vlan, first_ts, CASE WHEN ?15 = 0 THEN "
	    "last_ts"
	    " ELSE COALESCE((SELECT max(g.last_ts) FROM sightings g WHERE g.session_id ="
	    " sessions.id AND g.last_ts > sessions.last_ts), last_ts) END, state, pkts_fwd,"
	    " pkts_rev, bytes_fwd, bytes_rev, class, rule, history, run_id, src_role, dst_role,"
	    " established, idle_from, idle_max, source FROM sessions"
	    " WHERE (?8 > 0 AND id = ?8 OR ?8 <= 0 AND run_id = ?1)"
	    " AND (CAST(?2 AS TEXT) IS NULL OR (CAST(?9 AS TEXT) IS NULL AND (src = ?2 OR dst = "
	    "?2))"
	    "      OR (src = ?2 AND dst = ?9) OR (src = ?9 AND dst = ?2))"
	    " AND (?3 < 0 OR dport = ?3 OR sport = ?3)"
	    " AND (?4 <= 0 OR last_ts >= ?4) AND (?5 <= 0 OR first_ts <= ?5)"
	    " AND (CAST(?6 AS TEXT) IS NULL OR class = ?6) AND (CAST(?10 AS TEXT) IS NULL OR proto "
	    "= ?10)"
	    " AND (?11 <= 0 OR dport = ?11) AND (?12 = 0 OR class IN (?13, ?14))"
	    " ORDER BY first_ts, id LIMIT ?7";
	if (!sm_db_prepare(st->db, sql, false, &s))
		return sm_db_fail(st->db, eb, "querying sessions");
	sm_bind_int64(s, 1, q->run_id);
	sm_bind_text(s, 2, q->host);
	sm_bind_int(s, 3, q->port);
	sm_bind_double(s, 4, q->since);
	sm_bind_double(s, 5, q->until);
	sm_bind_text(s, 6, q->class_name);
	sm_bind_int64(s, 7, q->limit ? (int64_t)q->limit : INT64_MAX);
	sm_bind_int64(s, 8, q->session_id);
	sm_bind_text(s, 9, q->peer);
	sm_bind_text(s, 10, q->proto);
	sm_bind_int(s, 11, q->dport);
	sm_bind_int(s, 12, q->policy_only);
	sm_bind_text(s, 13, sm_class_name(CL_EXPECTED));
	sm_bind_text(s, 14, sm_class_name(CL_OPTIONAL));
	sm_bind_int(s, 15, q->last_copy);
	enum sm_db_step rc;
	while ((rc = sm_stmt_step(s)) == SM_DB_ROW) {
		struct sm_session_row r;
		memset(&r, 0, sizeof(r));
		store_decode_cols(s, 0, store_session_row_cols, STORE_SESSION_ROW_COLS, &r);
		if (!fn(ctx, &r))
			break;
	}
	sm_stmt_finalize(s);
	if (rc != SM_DB_ROW && rc != SM_DB_DONE)
		return sm_db_fail(st->db, eb, "querying sessions");
	return SM_OK;
}

static void
decode_finding(struct sm_stmt *s, void *row)
{
	struct sm_finding_row *r = row;
	r->id = sm_col_int64(s, 0);
	r->run_id = sm_col_int64(s, 1);
	store_decode_cols(s, 2, store_finding_cols, STORE_FINDING_COLS, r);
}

static bool
finding_row(struct sm_stmt *s, void *p)
{
	struct cb *c = p;
	struct sm_finding_row r;
	memset(&r, 0, sizeof(r));
	decode_finding(s, &r);
	return c->fn.fnd(c->ctx, &r);
}

enum sm_err
sm_store_load_mismatches(struct sm_store *st, int64_t run_id, struct sm_finding_row **rows,
                         size_t *n, struct sm_errbuf *eb)
{
	return load_rows(st,
	                 "SELECT " FINDING_COLS " FROM findings WHERE run_id = ?1"
	                 " AND kind = " SM_SQL_NAME(SM_FK_PROTOCOL_MISMATCH_NAME) " ORDER BY id",
	                 run_id, decode_finding, sizeof(**rows), (void **)rows, n,
	                 "reading findings", eb);
}

enum sm_err
sm_store_each_finding(struct sm_store *st, int64_t run_id,
                      bool (*fn)(void *, const struct sm_finding_row *), void *ctx,
                      struct sm_errbuf *eb)
{
	struct cb c = {.ctx = ctx};
	c.fn.fnd = fn;
	return each_row(st, "SELECT " FINDING_COLS " FROM findings WHERE run_id = ?1 ORDER BY id",
	                run_id, finding_row, &c, "reading findings", eb);
}

enum sm_err
sm_store_load_flows(struct sm_store *st, int64_t run_id, struct sm_flow_row **rows, size_t *n,
                    struct sm_errbuf *eb)
{
	return load_mapped(
	    st,
	    "SELECT proto, src, dst, CASE WHEN proto IN ('icmp', 'icmp6') THEN -1"
	    " ELSE dport END AS p, max(class), max(src_role), max(dst_role), count(*),"
	    " sum(established), sum(pkts_fwd + pkts_rev), min(first_ts), max(last_ts)"
	    " FROM sessions WHERE run_id = ?1 GROUP BY proto, src, dst, p"
	    " ORDER BY proto, src, dst, p",
	    run_id, store_flow_cols, STORE_FLOW_COLS, sizeof(**rows), (void **)rows, n,
	    "reading flows", eb);
}

static bool
copy_finding(void *ctx, const struct sm_finding_row *r)
{
	*(struct sm_finding_row *)ctx = *r;
	return false;
}

enum sm_err
sm_store_load_finding(struct sm_store *st, int64_t id, struct sm_finding_row *out,
                      struct sm_errbuf *eb)
{
	struct cb c = {.ctx = out};
	c.fn.fnd = copy_finding;
	out->id = 0;
	enum sm_err e = each_row(st, "SELECT " FINDING_COLS " FROM findings WHERE id = ?1", id,
	                         finding_row, &c, "reading findings", eb);
	if (e == SM_OK && out->id == 0)
		return sm_error(eb, SM_ERR_USAGE,
		                "%s: no finding %lld (see the report's finding ids)",
		                sm_db_path(st->db), (long long)id);
	return e;
}

static bool
run_id_row(struct sm_stmt *s, void *p)
{
	struct cb *c = p;
	return c->fn.run(c->ctx, sm_col_int64(s, 0));
}

enum sm_err
sm_store_each_run(struct sm_store *st, bool (*fn)(void *, int64_t), void *ctx, struct sm_errbuf *eb)
{
	struct cb c = {.ctx = ctx};
	c.fn.run = fn;
	return each_row(st, "SELECT id FROM runs WHERE ?1 = ?1 ORDER BY id", 0, run_id_row, &c,
	                "reading runs", eb);
}
