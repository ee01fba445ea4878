#include "smaudit/store.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smaudit/app.h"

/* A run marked running on another host is still going if its last checkpoint
 * (heartbeat) is at most this old; on this host its process id decides. */
#define HEARTBEAT_FRESH_S 120

#define BATCH_ROWS 20000

enum stmt_id { ST_SESSION, ST_SOURCE, ST_COUNTER, ST_EXPECTED, ST_FINDING, ST_COVERAGE, ST_COUNT };

/*
 * Write-behind of sessions: sm_store_session() copies the row into a ring and a
 * writer thread inserts it, so SQLite runs beside packet processing.  Every
 * other call first waits until every row is inserted (drain), so only one
 * thread uses the connection at a time.
 *
 * A row leaves the ring only when the transaction holding it commits: after a
 * database error (locked, disk full) the transaction is rolled back and every
 * row not committed is still there to be written again.  With a backlog
 * (sm_store_write_behind) the writer then waits for a retry (the next call
 * that drains) and the ring grows up to the backlog meanwhile; rows beyond it
 * are counted, not kept.  Without one the error is returned by every call.
 */
#define RING_ROWS 4096

struct ring_row {
	int64_t run_id;
	struct sm_session_record rec;
};

struct writer {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t nonempty, space, idle;
	struct ring_row *ring;
	size_t cap, backlog; /* rows the ring holds now, and may grow to */
	size_t head, count;  /* the rows not committed, oldest at head */
	size_t written;      /* of them, inserted into the open transaction */
	bool busy, stop, retry;
	enum sm_err err; /* the database error the writer waits out (or stops at) */
	struct sm_errbuf eb;
	uint64_t not_stored; /* rows dropped: the backlog was full during an error */
};

struct sm_store {
	sqlite3 *db;
	char path[1024]; /* named in every error message */
	bool readonly;
	struct writer *w; /* NULL: sessions are written at once */
	sqlite3_stmt *stmt[ST_COUNT];
	bool in_txn;
	uint64_t batch;
	int64_t run_id;
};

/* Every call but sm_store_session() first lets the writer finish. */
#define DRAIN(st, eb)                                                                              \
	do {                                                                                       \
		enum sm_err drained_ = drain((st), (eb));                                          \
		if (drained_ != SM_OK)                                                             \
			return drained_;                                                           \
	} while (0)

static enum sm_err drain(struct sm_store *st, struct sm_errbuf *eb);
static void writer_stop(struct sm_store *st);

static const char *const schema_v1 =
    "CREATE TABLE runs(id INTEGER PRIMARY KEY, started TEXT, finished TEXT, mode TEXT,"
    " sources TEXT, packets INTEGER, bytes INTEGER, dropped INTEGER, status TEXT,"
    " first_ts REAL, last_ts REAL, sessions INTEGER, undecoded INTEGER, evicted INTEGER,"
    " read_errors INTEGER, site TEXT, rules TEXT);"
    "CREATE TABLE run_sources(run_id INTEGER, idx INTEGER, path TEXT, packets INTEGER,"
    " bytes INTEGER, error TEXT);"
    "CREATE TABLE run_counters(run_id INTEGER, name TEXT, value INTEGER);"
    "CREATE TABLE sessions(id INTEGER PRIMARY KEY, run_id INTEGER, proto TEXT, src TEXT,"
    " sport INTEGER, dst TEXT, dport INTEGER, vlan INTEGER, first_ts REAL, last_ts REAL,"
    " state TEXT, pkts_fwd INTEGER, pkts_rev INTEGER, bytes_fwd INTEGER, bytes_rev INTEGER,"
    " class TEXT, rule TEXT, inner_vlan INTEGER, history TEXT, established INTEGER,"
    " syn_count INTEGER, rst_from TEXT, rst_ttl INTEGER, icmp_errors INTEGER,"
    " icmp_err_type INTEGER, icmp_err_code INTEGER, icmp_err_from TEXT, icmp_err_ttl INTEGER,"
    " ttl_fwd INTEGER, ttl_rev INTEGER, tunnel TEXT, outer_src TEXT, outer_dst TEXT,"
    " source TEXT, src_role TEXT, dst_role TEXT, app TEXT);"
    "CREATE INDEX sessions_run ON sessions(run_id, class);"
    "CREATE TABLE findings(id INTEGER PRIMARY KEY, run_id INTEGER, kind TEXT, severity TEXT,"
    " rule TEXT, proto TEXT, src TEXT, dst TEXT, port INTEGER, verdict TEXT, detail TEXT);"
    "CREATE TABLE expected(id INTEGER PRIMARY KEY, run_id INTEGER, rule TEXT, kind TEXT,"
    " proto TEXT, port INTEGER, src_role TEXT, dst_role TEXT, src TEXT, dst TEXT,"
    " verdict TEXT, sessions INTEGER, failed INTEGER, first_ts REAL, last_ts REAL,"
    " purpose TEXT, detail TEXT, hint_src TEXT, hint_dst TEXT);"
    "CREATE TABLE role_coverage(run_id INTEGER, role TEXT, member TEXT, seen INTEGER);"
    "PRAGMA user_version = 1;";

/* Upgrades from version N-1 to N, applied in order to older databases. */
static const char *const migrations[] = {
    [2] = "ALTER TABLE sessions ADD COLUMN open INTEGER NOT NULL DEFAULT 0;"
          "CREATE INDEX sessions_open ON sessions(run_id) WHERE open = 1;"
          "PRAGMA user_version = 2;",
    [3] = "ALTER TABLE sessions ADD COLUMN app_detail TEXT;"
          "ALTER TABLE sessions ADD COLUMN missed_bytes INTEGER;"
          "ALTER TABLE runs ADD COLUMN missed_bytes INTEGER NOT NULL DEFAULT 0;"
          "ALTER TABLE runs ADD COLUMN gap_sessions INTEGER NOT NULL DEFAULT 0;"
          "PRAGMA user_version = 3;",
    [4] = "ALTER TABLE sessions ADD COLUMN idle_from REAL;"
          "ALTER TABLE sessions ADD COLUMN idle_max REAL;"
          "CREATE TABLE evidence(id INTEGER PRIMARY KEY, run_id INTEGER, finding_id INTEGER,"
          " session_id INTEGER, path TEXT, sha256 TEXT, packets INTEGER, bytes INTEGER,"
          " created TEXT);"
          "PRAGMA user_version = 4;",
    [5] = "ALTER TABLE expected ADD COLUMN finding_id INTEGER;"
          "ALTER TABLE run_sources ADD COLUMN given TEXT;"
          "ALTER TABLE runs ADD COLUMN pid INTEGER;"
          "ALTER TABLE runs ADD COLUMN host TEXT;"
          "ALTER TABLE runs ADD COLUMN heartbeat TEXT;"
          "ALTER TABLE runs ADD COLUMN filter TEXT;"
          "ALTER TABLE runs ADD COLUMN strict INTEGER NOT NULL DEFAULT 0;"
          "PRAGMA user_version = 5;",
    [6] = "ALTER TABLE sessions ADD COLUMN uid INTEGER;"
          "ALTER TABLE sessions ADD COLUMN tunnel_parent INTEGER;"
          "PRAGMA user_version = 6;",
    /* the unexpected traffic is grouped (and looked up by its finding) by walking
     * these indexes, never by sorting a run's sessions in memory */
    [7] = "CREATE INDEX sessions_unexpected ON sessions(run_id, proto, src, dst,"
          " (CASE WHEN proto IN ('icmp','icmp6') THEN NULL ELSE dport END))"
          " WHERE class = 'unexpected';"
          "CREATE INDEX findings_unexpected ON findings(run_id, proto, src, dst, port)"
          " WHERE kind = 'unexpected';"
          "PRAGMA user_version = 7;",
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_SESSION] =
        "INSERT INTO sessions(run_id, proto, src, sport, dst, dport, vlan, first_ts, last_ts,"
        " state, pkts_fwd, pkts_rev, bytes_fwd, bytes_rev, class, rule, inner_vlan, history,"
        " established, syn_count, rst_from, rst_ttl, icmp_errors, icmp_err_type, icmp_err_code,"
        " icmp_err_from, icmp_err_ttl, ttl_fwd, ttl_rev, tunnel, outer_src, outer_dst, source,"
        " src_role, dst_role, open, app, app_detail, missed_bytes, idle_from, idle_max, uid,"
        " tunnel_parent) VALUES"
        " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_SOURCE] = "INSERT INTO run_sources(run_id, idx, path, packets, bytes, error, given)"
                  " VALUES (?,?,?,?,?,?,?)",
    [ST_COUNTER] = "INSERT INTO run_counters VALUES (?,?,?)",
    [ST_EXPECTED] = "INSERT INTO expected(run_id, rule, kind, proto, port, src_role, dst_role,"
                    " src, dst, verdict, sessions, failed, first_ts, last_ts, purpose, detail,"
                    " finding_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_FINDING] = ("INSERT INTO findings(run_id, kind, severity, rule, proto, src, dst, port,"
                    " verdict, detail) VALUES (?,?,?,?,?,?,?,?,?,?)"),
    [ST_COVERAGE] = "INSERT INTO role_coverage VALUES (?,?,?,?)",
};

static enum sm_err
db_fail(struct sm_store *st, struct sm_errbuf *eb, const char *what)
{
	return sm_error(eb, SM_ERR_DB, "%s: database error while %s: %s", st->path, what,
	                sqlite3_errmsg(st->db));
}

static enum sm_err
exec(struct sm_store *st, const char *sql, const char *what, struct sm_errbuf *eb)
{
	char *msg = NULL;
	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		enum sm_err e = sm_error(eb, SM_ERR_DB, "%s: database error while %s: %s", st->path,
		                         what, msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return e;
	}
	return SM_OK;
}

/*
 * Reads the schema version and creates or upgrades the schema, all in one
 * immediate transaction: two processes creating the same new database at once
 * take turns (the busy wait of sm_store_open), and the second finds the schema
 * the first committed.
 */
static enum sm_err
check_schema_locked(struct sm_store *st, struct sm_errbuf *eb)
{
	sqlite3_stmt *q;
	int version = -1, tables = 0;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK)
		return db_fail(st, eb, "reading the schema version");
	if (sqlite3_step(q) == SQLITE_ROW)
		version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(st->db, "SELECT count(*) FROM sqlite_master", -1, &q, NULL) !=
	    SQLITE_OK)
		return db_fail(st, eb, "reading the schema (is this an SQLite database?)");
	if (sqlite3_step(q) == SQLITE_ROW)
		tables = sqlite3_column_int(q, 0);
	int rc = sqlite3_finalize(q);
	if (rc != SQLITE_OK)
		return db_fail(st, eb, "reading the schema (is this an SQLite database?)");
	enum sm_err e = SM_OK;
	if (version == 0 && tables == 0) {
		e = exec(st, schema_v1, "creating the schema", eb);
		version = 1;
	} else if (version == 0)
		return sm_error(eb, SM_ERR_DB,
		                "this SQLite file was not written by smaudit (no schema version)");
	if (version > SM_SCHEMA_VERSION)
		return sm_error(
		    eb, SM_ERR_DB,
		    "%s: database schema version %d is newer than this smaudit understands "
		    "(%d): upgrade smaudit",
		    st->path, version, SM_SCHEMA_VERSION);
	for (int v = version + 1; e == SM_OK && v <= SM_SCHEMA_VERSION; v++)
		e = exec(st, migrations[v], "upgrading the schema", eb);
	return e;
}

static enum sm_err
check_schema(struct sm_store *st, struct sm_errbuf *eb)
{
	if (st->readonly) /* changes nothing: a reader only checks the version */
		return check_schema_locked(st, eb);
	/* up to date: no write lock taken (a live run may be writing the database) */
	sqlite3_stmt *q;
	int version = -1;
	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	if (version == SM_SCHEMA_VERSION)
		return SM_OK;
	enum sm_err e = exec(st, "BEGIN IMMEDIATE", "reading the schema", eb);
	if (e != SM_OK)
		return e;
	e = check_schema_locked(st, eb);
	if (e == SM_OK)
		e = exec(st, "COMMIT", "creating the schema", eb);
	if (e != SM_OK)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return e;
}

enum sm_err
sm_store_open(struct sm_store **out, const char *path, bool create, struct sm_errbuf *eb)
{
	*out = NULL;
	struct sm_store *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	/* one thread at a time uses the connection (see drain): no SQLite mutexes */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	const char *name = path ? path : ":memory:";
	sm_strlcpy(st->path, name, sizeof(st->path));
	int rc = sqlite3_open_v2(name, &st->db, flags, NULL);
	if (rc == SQLITE_OK && !create && sqlite3_db_readonly(st->db, "main") == 1) {
		/* a reader without write access: open it read-only, change nothing */
		sqlite3_close(st->db);
		st->readonly = true;
		/* A WAL database needs its -shm file, which this reader may not create:
		 * immutable=1 reads the file as it is (what was committed). */
		char uri[3200] = "file:";
		size_t o = strlen(uri);
		for (const char *c = name; *c && o + 4 < sizeof(uri) - 16; c++) {
			if (*c == '?' || *c == '#' || *c == '%' || (unsigned char)*c < 0x20)
				o += (size_t)snprintf(uri + o, sizeof(uri) - o, "%%%02X",
				                      (unsigned char)*c);
			else
				uri[o++] = *c;
		}
		snprintf(uri + o, sizeof(uri) - o, "?immutable=1");
		rc = sqlite3_open_v2(uri, &st->db,
		                     SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI,
		                     NULL);
	}
	if (rc != SQLITE_OK) {
		enum sm_err e = sm_error(eb, SM_ERR_DB, "%s: cannot open database: %s", name,
		                         st->db ? sqlite3_errmsg(st->db) : "out of memory");
		sm_store_close(st);
		return e;
	}
	sqlite3_busy_timeout(st->db, 5000);
	enum sm_err e = SM_OK;
	/* Switching to WAL does not wait for a process creating the same database:
	 * it is retried for as long as the busy wait above (5 s). */
	for (int tries = 0; path != NULL && !st->readonly; tries++) {
		e = exec(st,
		         "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		         /* no temporary files: a live run may be chrooted */
		         " PRAGMA temp_store=MEMORY;",
		         "setting WAL mode", eb);
		if (e == SM_OK || sqlite3_errcode(st->db) != SQLITE_BUSY || tries >= 500)
			break;
		sqlite3_sleep(10);
	}
	if (e == SM_OK)
		e = check_schema(st, eb);
	for (int i = 0; e == SM_OK && i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                       &st->stmt[i], NULL) != SQLITE_OK)
			e = db_fail(st, eb, "preparing statements");
	if (e != SM_OK) {
		sm_store_close(st);
		return e;
	}
	*out = st;
	return SM_OK;
}

void
sm_store_close(struct sm_store *st)
{
	if (st == NULL)
		return;
	writer_stop(st); /* writes what is queued */
	if (st->in_txn)
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	sqlite3_close(st->db);
	free(st);
}

static enum sm_err
begin(struct sm_store *st, struct sm_errbuf *eb)
{
	if (st->in_txn)
		return SM_OK;
	enum sm_err e = exec(st, "BEGIN", "starting a transaction", eb);
	if (e == SM_OK)
		st->in_txn = true;
	return e;
}

/* Rolls the open transaction back after an error: the writer's rows in it are
 * written again later.  Called by the thread using the connection. */
static void
rollback_now(struct sm_store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_txn = false;
	st->batch = 0;
	if (st->w != NULL) {
		pthread_mutex_lock(&st->w->mu);
		st->w->written = 0;
		pthread_mutex_unlock(&st->w->mu);
	}
}

/* Commits the current batch; the writer's rows in it leave the ring.  The
 * writer thread uses it too, so no drain here. */
static enum sm_err
commit_now(struct sm_store *st, struct sm_errbuf *eb)
{
	if (!st->in_txn)
		return SM_OK;
	enum sm_err e = exec(st, "COMMIT", "committing", eb);
	if (e != SM_OK) {
		rollback_now(st);
		return e;
	}
	st->in_txn = false;
	st->batch = 0;
	struct writer *w = st->w;
	if (w != NULL) {
		pthread_mutex_lock(&w->mu);
		w->head = (w->head + w->written) % w->cap;
		w->count -= w->written;
		w->written = 0;
		pthread_cond_broadcast(&w->space);
		pthread_mutex_unlock(&w->mu);
	}
	return SM_OK;
}

enum sm_err
sm_store_commit(struct sm_store *st, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	return commit_now(st, eb);
}

static void
now_text(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL || *v == '\0')
		sqlite3_bind_null(s, i);
	else
		/* Every caller steps (and clears or finalizes) the statement before v
		 * goes out of scope, so SQLite need not copy it. */
		sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static void
bind_port(sqlite3_stmt *s, int i, int port)
{
	if (port < 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int(s, i, port);
}

static void
bind_ts(sqlite3_stmt *s, int i, double ts)
{
	if (ts <= 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_double(s, i, ts);
}

/* Runs a bound insert in the open transaction (the writer commits on its own). */
static enum sm_err
step_row(struct sm_store *st, sqlite3_stmt *s, const char *what, struct sm_errbuf *eb)
{
	enum sm_err e = begin(st, eb);
	if (e != SM_OK) {
		sqlite3_reset(s);
		return e;
	}
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return db_fail(st, eb, what);
	st->batch++;
	return SM_OK;
}

/* Runs a bound insert; rows are batched into transactions of BATCH_ROWS. */
static enum sm_err
step_insert(struct sm_store *st, sqlite3_stmt *s, const char *what, struct sm_errbuf *eb)
{
	enum sm_err e = step_row(st, s, what, eb);
	if (e == SM_OK && st->batch >= BATCH_ROWS)
		return commit_now(st, eb);
	return e;
}

enum sm_err
sm_store_run_begin(struct sm_store *st, const char *mode, const char *sources_json,
                   const char *site, const char *rules, int64_t *run_id, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	char started[32];
	now_text(started, sizeof(started));
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
	                       "INSERT INTO runs(started, mode, sources, status, packets, bytes,"
	                       " dropped, site, rules, pid, host, heartbeat)"
	                       " VALUES (?,?,?,'running',0,0,0,?,?,?,?,?1)",
	                       -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, eb, "recording the run");
	bind_text(s, 1, started);
	bind_text(s, 2, mode);
	bind_text(s, 3, sources_json);
	bind_text(s, 4, site);
	bind_text(s, 5, rules);
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)getpid());
	bind_text(s, 7, host);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return db_fail(st, eb, "recording the run");
	*run_id = sqlite3_last_insert_rowid(st->db);
	st->run_id = *run_id;
	return SM_OK;
}

enum sm_err
sm_store_run_options(struct sm_store *st, int64_t run_id, const char *filter, bool strict,
                     struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "UPDATE runs SET filter = ?, strict = ? WHERE id = ?", -1,
	                       &s, NULL) != SQLITE_OK)
		return db_fail(st, eb, "recording the run");
	bind_text(s, 1, filter != NULL && *filter ? filter : NULL);
	sqlite3_bind_int(s, 2, strict);
	sqlite3_bind_int64(s, 3, run_id);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? SM_OK : db_fail(st, eb, "recording the run");
}

/* Binds one session row: the caller formatted every field. */
static enum sm_err
write_session(struct sm_store *st, int64_t run_id, const struct sm_session_record *r,
              struct sm_errbuf *eb)
{
	sqlite3_stmt *s = st->stmt[ST_SESSION];
	int i = 1;
	sqlite3_bind_int64(s, i++, run_id);
	bind_text(s, i++, r->proto);
	bind_text(s, i++, r->src);
	sqlite3_bind_int(s, i++, r->sport);
	bind_text(s, i++, r->dst);
	sqlite3_bind_int(s, i++, r->dport);
	bind_port(s, i++, r->vlan);
	sqlite3_bind_double(s, i++, r->first_ts);
	sqlite3_bind_double(s, i++, r->last_ts);
	bind_text(s, i++, r->state);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->pkts_fwd);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->pkts_rev);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->bytes_fwd);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->bytes_rev);
	bind_text(s, i++, r->class_name);
	bind_text(s, i++, r->rule);
	bind_port(s, i++, r->inner_vlan);
	bind_text(s, i++, r->history);
	sqlite3_bind_int(s, i++, r->established);
	sqlite3_bind_int(s, i++, (int)r->syn_count);
	bind_text(s, i++, r->rst_from);
	bind_port(s, i++, r->rst_ttl);
	sqlite3_bind_int(s, i++, (int)r->icmp_errors);
	if (r->icmp_errors) {
		sqlite3_bind_int(s, i++, r->icmp_err_type);
		sqlite3_bind_int(s, i++, r->icmp_err_code);
		bind_text(s, i++, r->icmp_err_from);
		sqlite3_bind_int(s, i++, r->icmp_err_ttl);
	} else {
		for (int k = 0; k < 4; k++)
			sqlite3_bind_null(s, i++);
	}
	bind_port(s, i++, r->ttl_fwd);
	bind_port(s, i++, r->ttl_rev);
	bind_text(s, i++, r->tunnel);
	bind_text(s, i++, r->outer_src);
	bind_text(s, i++, r->outer_dst);
	bind_text(s, i++, r->source);
	bind_text(s, i++, r->src_role);
	bind_text(s, i++, r->dst_role);
	sqlite3_bind_int(s, i++, r->open);
	bind_text(s, i++, r->app);
	bind_text(s, i++, r->app_detail);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->missed_bytes);
	if (r->idle_max > 0) {
		sqlite3_bind_double(s, i++, r->idle_from);
		sqlite3_bind_double(s, i++, r->idle_max);
	} else {
		sqlite3_bind_null(s, i++);
		sqlite3_bind_null(s, i++);
	}
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->uid);
	if (r->tunnel_parent)
		sqlite3_bind_int64(s, i++, (sqlite3_int64)r->tunnel_parent);
	else
		sqlite3_bind_null(s, i++);
	return step_row(st, s, "storing a session", eb);
}

/* The writer has rows to insert now. */
static bool
writer_has_work(const struct writer *w)
{
	return w->retry || (w->err == SM_OK && w->count > w->written);
}

static void *
writer_main(void *arg)
{
	struct sm_store *st = arg;
	struct writer *w = st->w;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!writer_has_work(w) && !w->stop)
			pthread_cond_wait(&w->nonempty, &w->mu);
		if (!writer_has_work(w))
			break;
		/* the rows up to the end of the ring: the producer never touches them
		 * while count includes them */
		size_t first = (w->head + w->written) % w->cap, todo = w->count - w->written;
		size_t n = first + todo > w->cap ? w->cap - first : todo;
		bool retry = w->retry;
		w->busy = true;
		pthread_mutex_unlock(&w->mu);
		enum sm_err e = SM_OK;
		struct sm_errbuf eb = {""};
		for (size_t i = first; e == SM_OK && i < first + n; i++) {
			e = write_session(st, w->ring[i].run_id, &w->ring[i].rec, &eb);
		}
		pthread_mutex_lock(&w->mu);
		bool caught_up = false, commit = false;
		if (e == SM_OK) {
			w->written += n;
			caught_up = w->written == w->count;
			/* a retry commits to prove the database is back; otherwise
			 * often enough to free the ring */
			commit = (retry && caught_up) || st->batch >= BATCH_ROWS ||
			         w->written >= w->cap / 2;
		}
		pthread_mutex_unlock(&w->mu);
		if (e == SM_OK && commit)
			e = commit_now(st, &eb);
		else if (e != SM_OK)
			rollback_now(st);
		pthread_mutex_lock(&w->mu);
		if (e != SM_OK) {
			w->err = e;
			w->eb = eb;
		}
		if (e != SM_OK || caught_up)
			w->retry = false;
		w->busy = false;
		pthread_cond_broadcast(&w->space);
		if (!writer_has_work(w))
			pthread_cond_broadcast(&w->idle);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Waits until every queued session is inserted; after a database error the
 * writer first tries again (with a backlog).  Returns the writer's error. */
static enum sm_err
drain(struct sm_store *st, struct sm_errbuf *eb)
{
	struct writer *w = st->w;
	if (w == NULL)
		return SM_OK;
	pthread_mutex_lock(&w->mu);
	if (w->err != SM_OK && w->backlog > 0) {
		w->err = SM_OK;
		w->retry = true;
		pthread_cond_signal(&w->nonempty);
	}
	while (writer_has_work(w) || w->busy)
		pthread_cond_wait(&w->idle, &w->mu);
	enum sm_err e = w->err;
	if (e != SM_OK)
		*eb = w->eb;
	pthread_mutex_unlock(&w->mu);
	return e;
}

static void
writer_stop(struct sm_store *st)
{
	struct writer *w = st->w;
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->nonempty);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->nonempty);
	pthread_cond_destroy(&w->space);
	pthread_cond_destroy(&w->idle);
	free(w->ring);
	free(w);
	st->w = NULL;
}

enum sm_err
sm_store_write_behind(struct sm_store *st, size_t backlog, struct sm_errbuf *eb)
{
	if (st->w != NULL)
		return SM_OK;
	struct writer *w = calloc(1, sizeof(*w));
	if (w == NULL || (w->ring = malloc(RING_ROWS * sizeof(*w->ring))) == NULL) {
		free(w);
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	}
	w->cap = RING_ROWS;
	w->backlog = backlog > 0 && backlog < RING_ROWS ? RING_ROWS : backlog;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->nonempty, NULL);
	pthread_cond_init(&w->space, NULL);
	pthread_cond_init(&w->idle, NULL);
	st->w = w;
	if (pthread_create(&w->thread, NULL, writer_main, st) != 0) {
		free(w->ring);
		free(w);
		st->w = NULL; /* sessions are then written at once: slower, not wrong */
	}
	return SM_OK;
}

/* Doubles the ring (up to the backlog) while the writer waits out an error:
 * it is idle then, so the rows can move. */
static bool
ring_grow(struct writer *w)
{
	size_t cap = w->cap * 2 < w->backlog ? w->cap * 2 : w->backlog;
	if (cap <= w->cap || w->busy)
		return false;
	struct ring_row *ring = malloc(cap * sizeof(*ring));
	if (ring == NULL)
		return false;
	for (size_t i = 0; i < w->count; i++)
		ring[i] = w->ring[(w->head + i) % w->cap];
	free(w->ring);
	w->ring = ring;
	w->cap = cap;
	w->head = 0;
	return true;
}

enum sm_err
sm_store_session(struct sm_store *st, int64_t run_id, const struct sm_session_record *rec,
                 struct sm_errbuf *eb)
{
	struct writer *w = st->w;
	if (w == NULL) {
		enum sm_err e = write_session(st, run_id, rec, eb);
		if (e == SM_OK && st->batch >= BATCH_ROWS)
			e = commit_now(st, eb);
		return e;
	}
	pthread_mutex_lock(&w->mu);
	while (w->count == w->cap && w->err == SM_OK)
		pthread_cond_wait(&w->space, &w->mu);
	enum sm_err e = w->err;
	if (e != SM_OK && w->backlog == 0) {
		*eb = w->eb;
		pthread_mutex_unlock(&w->mu);
		return e;
	}
	if (w->count == w->cap && !ring_grow(w)) {
		w->not_stored++; /* the database is away and the backlog full */
		pthread_mutex_unlock(&w->mu);
		return SM_OK;
	}
	struct ring_row *r = &w->ring[(w->head + w->count) % w->cap];
	r->run_id = run_id;
	r->rec = *rec;
	w->count++;
	if (writer_has_work(w) && !w->busy)
		pthread_cond_signal(&w->nonempty); /* a busy writer looks again when done */
	pthread_mutex_unlock(&w->mu);
	return SM_OK;
}

void
sm_store_abort(struct sm_store *st, enum sm_err e, const struct sm_errbuf *eb)
{
	struct writer *w = st->w;
	if (w != NULL) { /* the error first, so the writer starts nothing meanwhile */
		pthread_mutex_lock(&w->mu);
		while (w->busy)
			pthread_cond_wait(&w->idle, &w->mu);
		if (w->err == SM_OK) {
			w->err = e;
			w->eb = *eb;
		}
		pthread_mutex_unlock(&w->mu);
	}
	rollback_now(st);
}

void
sm_store_backlog(struct sm_store *st, struct sm_store_backlog *out)
{
	memset(out, 0, sizeof(*out));
	struct writer *w = st->w;
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	out->waiting = w->count;
	out->not_stored = w->not_stored;
	out->limit = w->backlog;
	out->failing = w->err != SM_OK;
	pthread_mutex_unlock(&w->mu);
}

uint64_t
sm_store_give_up(struct sm_store *st)
{
	struct writer *w = st->w;
	if (w == NULL)
		return 0;
	pthread_mutex_lock(&w->mu);
	while (w->busy)
		pthread_cond_wait(&w->idle, &w->mu);
	uint64_t lost = w->count + w->not_stored;
	w->head = w->count = w->written = 0;
	w->err = SM_OK;
	pthread_mutex_unlock(&w->mu);
	return lost;
}

enum sm_err
sm_store_source(struct sm_store *st, int64_t run_id, int idx, const char *path, const char *given,
                uint64_t packets, uint64_t bytes, const char *error, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	sqlite3_stmt *s = st->stmt[ST_SOURCE];
	sqlite3_bind_int64(s, 1, run_id);
	sqlite3_bind_int(s, 2, idx);
	bind_text(s, 3, path);
	sqlite3_bind_int64(s, 4, (sqlite3_int64)packets);
	sqlite3_bind_int64(s, 5, (sqlite3_int64)bytes);
	bind_text(s, 6, error);
	bind_text(s, 7, given);
	return step_insert(st, s, "storing a source", eb);
}

enum sm_err
sm_store_counter(struct sm_store *st, int64_t run_id, const char *name, uint64_t value,
                 struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	sqlite3_stmt *s = st->stmt[ST_COUNTER];
	sqlite3_bind_int64(s, 1, run_id);
	bind_text(s, 2, name);
	sqlite3_bind_int64(s, 3, (sqlite3_int64)value);
	return step_insert(st, s, "storing a counter", eb);
}

enum sm_err
sm_store_expected(struct sm_store *st, int64_t run_id, const struct sm_expected_row *r,
                  struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	sqlite3_stmt *s = st->stmt[ST_EXPECTED];
	int i = 1;
	sqlite3_bind_int64(s, i++, run_id);
	bind_text(s, i++, r->rule);
	bind_text(s, i++, sm_rule_kind_name(r->kind));
	bind_text(s, i++, r->proto);
	bind_port(s, i++, r->port);
	bind_text(s, i++, r->src_role);
	bind_text(s, i++, r->dst_role);
	bind_text(s, i++, r->src);
	bind_text(s, i++, r->dst);
	bind_text(s, i++, sm_verdict_name(r->verdict));
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->sessions);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->failed);
	bind_ts(s, i++, r->first_ts);
	bind_ts(s, i++, r->last_ts);
	bind_text(s, i++, r->purpose);
	bind_text(s, i++, r->detail);
	if (r->finding_id > 0)
		sqlite3_bind_int64(s, i++, r->finding_id);
	else
		sqlite3_bind_null(s, i++);
	return step_insert(st, s, "storing an expected flow", eb);
}

/* The finding insert with f bound, to be stepped. */
static sqlite3_stmt *
bind_finding(struct sm_store *st, int64_t run_id, const struct sm_finding_row *f)
{
	sqlite3_stmt *s = st->stmt[ST_FINDING];
	int i = 1;
	sqlite3_bind_int64(s, i++, run_id);
	bind_text(s, i++, sm_finding_kind_name(f->kind));
	bind_text(s, i++, sm_severity_name(f->severity));
	bind_text(s, i++, f->rule);
	bind_text(s, i++, f->proto);
	bind_text(s, i++, f->src);
	bind_text(s, i++, f->dst);
	bind_port(s, i++, f->port);
	bind_text(s, i++, sm_verdict_name(f->verdict));
	bind_text(s, i++, f->detail);
	return s;
}

enum sm_err
sm_store_finding(struct sm_store *st, int64_t run_id, const struct sm_finding_row *f, int64_t *id,
                 struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	enum sm_err e = step_insert(st, bind_finding(st, run_id, f), "storing a finding", eb);
	if (id != NULL)
		*id = e == SM_OK ? sqlite3_last_insert_rowid(st->db) : 0;
	return e;
}

enum sm_err
sm_store_coverage(struct sm_store *st, int64_t run_id, const struct sm_coverage_row *c,
                  struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	sqlite3_stmt *s = st->stmt[ST_COVERAGE];
	sqlite3_bind_int64(s, 1, run_id);
	bind_text(s, 2, c->role);
	bind_text(s, 3, c->member);
	sqlite3_bind_int(s, 4, c->seen);
	return step_insert(st, s, "storing coverage", eb);
}

/* Unexpected traffic aggregated per SPEC section 5: (proto, src, dst, port), the
 * state of the latest session.  The report and the findings both read this. */
#define UNEXPECTED_PORT "CASE WHEN proto IN ('icmp','icmp6') THEN NULL ELSE dport END"
static const char unexpected_sql[] =
    "SELECT proto, src, dst, " UNEXPECTED_PORT " AS port, src_role, dst_role, count(*) AS"
    " sessions, sum(pkts_fwd + pkts_rev) AS packets, sum(bytes_fwd + bytes_rev), min(first_ts),"
    " max(last_ts), state FROM sessions WHERE run_id = ?1 AND class = 'unexpected'"
    " GROUP BY proto, src, dst, port ORDER BY proto, src, dst, port";

static void decode_unexpected(sqlite3_stmt *s, void *row);

enum sm_err
sm_store_unexpected_findings(struct sm_store *st, int64_t run_id, sm_unexpected_decide_fn decide,
                             void *ctx, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	static const char what[] = "aggregating unexpected traffic";
	sqlite3_stmt *s;
	enum sm_err e = begin(st, eb);
	if (e != SM_OK)
		return e;
	if (sqlite3_prepare_v2(st->db, unexpected_sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, eb, what);
	sqlite3_bind_int64(s, 1, run_id);
	int rc = SQLITE_DONE;
	while (e == SM_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct sm_unexpected_row g;
		struct sm_finding_row f;
		memset(&g, 0, sizeof(g));
		memset(&f, 0, sizeof(f));
		decode_unexpected(s, &g);
		/* no commit while the groups are read: they are one transaction, as
		 * when SQL made them in one statement */
		if (decide(ctx, &g, &f))
			e = step_row(st, bind_finding(st, run_id, &f), "storing a finding", eb);
	}
	sqlite3_finalize(s);
	if (e == SM_OK && rc != SQLITE_DONE)
		return db_fail(st, eb, what);
	return e;
}

enum sm_err
sm_store_run_reset(struct sm_store *st, int64_t run_id, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	static const char *const sql[] = {
	    "DELETE FROM sessions WHERE run_id = ?1 AND open = 1",
	    "DELETE FROM expected WHERE run_id = ?1",
	    "DELETE FROM findings WHERE run_id = ?1",
	    "DELETE FROM role_coverage WHERE run_id = ?1",
	    "DELETE FROM run_counters WHERE run_id = ?1",
	    "DELETE FROM run_sources WHERE run_id = ?1",
	};
	enum sm_err e = begin(st, eb);
	for (size_t i = 0; e == SM_OK && i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *s;
		if (sqlite3_prepare_v2(st->db, sql[i], -1, &s, NULL) != SQLITE_OK)
			return db_fail(st, eb, "replacing the last checkpoint");
		sqlite3_bind_int64(s, 1, run_id);
		int rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			e = db_fail(st, eb, "replacing the last checkpoint");
	}
	return e;
}

enum sm_err
sm_store_run_end(struct sm_store *st, const struct sm_run_row *r, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	char finished[32];
	now_text(finished, sizeof(finished));
	enum sm_run_status status;
	if (sm_run_status_parse(r->status, &status) && status == RUN_RUNNING)
		finished[0] = '\0'; /* a checkpoint: the run goes on */
	enum sm_err e = begin(st, eb);
	if (e != SM_OK)
		return e;
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(
	        st->db,
	        "UPDATE runs SET finished=?, status=?, packets=?, bytes=?, dropped=?,"
	        " first_ts=?, last_ts=?, sessions=?, undecoded=?, evicted=?,"
	        " read_errors=?, missed_bytes=?, gap_sessions=?,"
	        " heartbeat=strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id=?",
	        -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, eb, "finishing the run");
	int i = 1;
	bind_text(s, i++, finished);
	bind_text(s, i++, r->status);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->packets);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->bytes);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->dropped);
	bind_ts(s, i++, r->first_ts);
	bind_ts(s, i++, r->last_ts);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->sessions);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->undecoded);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->evicted);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->read_errors);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->missed_bytes);
	sqlite3_bind_int64(s, i++, (sqlite3_int64)r->gap_sessions);
	sqlite3_bind_int64(s, i++, r->id);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return db_fail(st, eb, "finishing the run");
	return sm_store_commit(st, eb);
}

/* ---- reading ---- */

static void
col_text(sqlite3_stmt *s, int i, char *buf, size_t len)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	sm_strlcpy(buf, t ? (const char *)t : "", len);
}

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? strdup((const char *)t) : NULL;
}

static int
col_port(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 : sqlite3_column_int(s, i);
}

enum sm_err
sm_store_latest_run(struct sm_store *st, int64_t *run_id, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, "SELECT max(id) FROM runs", -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, eb, "finding the latest run");
	*run_id = 0;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*run_id = sqlite3_column_int64(s, 0);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		enum sm_err e = db_fail(st, eb, "finding the latest run");
		sqlite3_finalize(s);
		return e;
	}
	sqlite3_finalize(s);
	if (*run_id == 0)
		return sm_error(eb, SM_ERR_USAGE, "the database holds no run yet");
	return SM_OK;
}

/* What the run was asked to do: its -f filter and --strict. */
static enum sm_err
load_run_options(struct sm_store *st, struct sm_run_row *r, struct sm_errbuf *eb)
{
	sqlite3_stmt *s;
	(void)eb;
	if (sqlite3_prepare_v2(st->db, "SELECT filter, strict FROM runs WHERE id = ?", -1, &s,
	                       NULL) != SQLITE_OK)
		return SM_OK; /* an older database a reader cannot upgrade: neither was used */
	sqlite3_bind_int64(s, 1, r->id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		r->filter = col_dup(s, 0);
		r->strict = sqlite3_column_int(s, 1) != 0;
	}
	sqlite3_finalize(s);
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
 * or (another host) its last checkpoint is recent.  The connection writing the
 * run does not ask (an interim report of a live run is running). */
static bool
still_running(sqlite3_stmt *s, int pid_col, int host_col, int age_col)
{
	char host[256] = "", here[256] = "";
	col_text(s, host_col, host, sizeof(host));
	gethostname(here, sizeof(here) - 1);
	if (sqlite3_column_type(s, pid_col) == SQLITE_NULL || host[0] == '\0')
		return false; /* written before schema 5: nothing says it still runs */
	if (strcmp(host, here) == 0)
		return process_alive((pid_t)sqlite3_column_int64(s, pid_col));
	return sqlite3_column_type(s, age_col) != SQLITE_NULL &&
	       sqlite3_column_double(s, age_col) <= HEARTBEAT_FRESH_S;
}

enum sm_err
sm_store_load_run(struct sm_store *st, int64_t run_id, struct sm_run_row *r, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	memset(r, 0, sizeof(*r));
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(
	        st->db,
	        "SELECT id, started, finished, mode, status, sources, site, rules,"
	        " packets, bytes, dropped, sessions, undecoded, evicted, read_errors,"
	        " first_ts, last_ts, missed_bytes, gap_sessions, pid, host,"
	        " (julianday('now') - julianday(heartbeat)) * 86400 FROM runs WHERE id = ?",
	        -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, eb, "reading the run");
	sqlite3_bind_int64(s, 1, run_id);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(s);
		if (rc == SQLITE_DONE)
			return sm_error(eb, SM_ERR_USAGE, "no run %lld in the database",
			                (long long)run_id);
		return db_fail(st, eb, "reading the run");
	}
	int i = 0;
	r->id = sqlite3_column_int64(s, i++);
	col_text(s, i++, r->started, sizeof(r->started));
	col_text(s, i++, r->finished, sizeof(r->finished));
	col_text(s, i++, r->mode, sizeof(r->mode));
	col_text(s, i++, r->status, sizeof(r->status));
	r->sources = col_dup(s, i++);
	r->site = col_dup(s, i++);
	r->rules = col_dup(s, i++);
	r->packets = (uint64_t)sqlite3_column_int64(s, i++);
	r->bytes = (uint64_t)sqlite3_column_int64(s, i++);
	r->dropped = (uint64_t)sqlite3_column_int64(s, i++);
	r->sessions = (uint64_t)sqlite3_column_int64(s, i++);
	r->undecoded = (uint64_t)sqlite3_column_int64(s, i++);
	r->evicted = (uint64_t)sqlite3_column_int64(s, i++);
	r->read_errors = (uint64_t)sqlite3_column_int64(s, i++);
	r->first_ts = sqlite3_column_double(s, i++);
	r->last_ts = sqlite3_column_double(s, i++);
	r->missed_bytes = (uint64_t)sqlite3_column_int64(s, i++);
	r->gap_sessions = (uint64_t)sqlite3_column_int64(s, i++);
	enum sm_run_status status;
	if (sm_run_status_parse(r->status, &status) && status == RUN_RUNNING &&
	    run_id != st->run_id && !still_running(s, i, i + 1, i + 2))
		sm_strlcpy(r->status, sm_run_status_name(RUN_INTERRUPTED), sizeof(r->status));
	sqlite3_finalize(s);
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
each_row(struct sm_store *st, const char *sql, int64_t run_id, bool (*row)(sqlite3_stmt *, void *),
         void *ctx, const char *what, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, eb, what);
	sqlite3_bind_int64(s, 1, run_id);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (!row(s, ctx))
			break;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, eb, what);
	return SM_OK;
}

/* Fills one row struct from the current result row. */
typedef void (*decode_fn)(sqlite3_stmt *s, void *row);

/* The one way rows become an array: each is decoded in place at the end of v. */
struct collect {
	decode_fn decode;
	size_t size; /* of one row */
	void *v;
	size_t n, cap;
	bool oom;
};

static bool
collect_row(sqlite3_stmt *s, void *p)
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
	c->decode(s, row);
	c->n++;
	return true;
}

/* Runs sql (run id as ?1) and returns its rows, decoded, as one array. */
static enum sm_err
load_rows(struct sm_store *st, const char *sql, int64_t run_id, decode_fn decode, size_t size,
          void **rows, size_t *n, const char *what, struct sm_errbuf *eb)
{
	struct collect c = {decode, size, NULL, 0, 0, false};
	enum sm_err e = each_row(st, sql, run_id, collect_row, &c, what, eb);
	if (e == SM_OK && c.oom)
		e = sm_error(eb, SM_ERR_NOMEM, "%s: out of memory %s", st->path, what);
	*rows = c.v;
	*n = c.n;
	return e;
}

#define FINDING_COLS "id, run_id, kind, severity, rule, proto, src, dst, port, verdict, detail"

/* A name the database holds that no enum knows: a database this version did not
 * write.  Read as the first value of its enum, as close as a report can get. */
#define COL_ENUM(parse, s, i, out)                                                                 \
	do {                                                                                       \
		const unsigned char *t_ = sqlite3_column_text((s), (i));                           \
		if (!parse(t_ ? (const char *)t_ : NULL, (out)))                                   \
			*(out) = 0;                                                                \
	} while (0)

static void
decode_expected(sqlite3_stmt *s, void *row)
{
	struct sm_expected_row *r = row;
	int i = 0;
	col_text(s, i++, r->rule, sizeof(r->rule));
	COL_ENUM(sm_rule_kind_parse, s, i++, &r->kind);
	col_text(s, i++, r->proto, sizeof(r->proto));
	r->port = col_port(s, i++);
	col_text(s, i++, r->src_role, sizeof(r->src_role));
	col_text(s, i++, r->dst_role, sizeof(r->dst_role));
	col_text(s, i++, r->src, sizeof(r->src));
	col_text(s, i++, r->dst, sizeof(r->dst));
	COL_ENUM(sm_verdict_parse, s, i++, &r->verdict);
	r->sessions = (uint64_t)sqlite3_column_int64(s, i++);
	r->failed = (uint64_t)sqlite3_column_int64(s, i++);
	r->first_ts = sqlite3_column_double(s, i++);
	r->last_ts = sqlite3_column_double(s, i++);
	col_text(s, i++, r->purpose, sizeof(r->purpose));
	col_text(s, i++, r->detail, sizeof(r->detail));
	r->finding_id = sqlite3_column_int64(s, i++);
}

enum sm_err
sm_store_load_expected(struct sm_store *st, int64_t run_id, struct sm_expected_row **rows,
                       size_t *n, struct sm_errbuf *eb)
{
	return load_rows(st,
	                 /* before schema 5 the pair that tried was a hint beside a null */
	                 "SELECT rule, kind, proto, port, src_role, dst_role,"
	                 " coalesce(src, hint_src), coalesce(dst, hint_dst), verdict, sessions,"
	                 " failed, first_ts, last_ts, purpose, detail, finding_id"
	                 " FROM expected WHERE run_id = ?1 ORDER BY id",
	                 run_id, decode_expected, sizeof(**rows), (void **)rows, n,
	                 "reading expected flows", eb);
}

/* A row of unexpected_sql, with the id of its finding as a 13th column if any. */
static void
decode_unexpected(sqlite3_stmt *s, void *row)
{
	struct sm_unexpected_row *r = row;
	int i = 0;
	col_text(s, i++, r->proto, sizeof(r->proto));
	col_text(s, i++, r->src, sizeof(r->src));
	col_text(s, i++, r->dst, sizeof(r->dst));
	r->port = col_port(s, i++);
	col_text(s, i++, r->src_role, sizeof(r->src_role));
	col_text(s, i++, r->dst_role, sizeof(r->dst_role));
	r->sessions = (uint64_t)sqlite3_column_int64(s, i++);
	r->packets = (uint64_t)sqlite3_column_int64(s, i++);
	r->bytes = (uint64_t)sqlite3_column_int64(s, i++);
	r->first_ts = sqlite3_column_double(s, i++);
	r->last_ts = sqlite3_column_double(s, i++);
	col_text(s, i++, r->state, sizeof(r->state));
	r->finding_id = i < sqlite3_column_count(s) ? sqlite3_column_int64(s, i) : 0;
}

static bool
count_row(sqlite3_stmt *s, void *p)
{
	*(size_t *)p = (size_t)sqlite3_column_int64(s, 0);
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
	"SELECT proto, src, dst, " UNEXPECTED_PORT " AS port, src_role, dst_role, count(*) AS n,"  \
	" sum(pkts_fwd + pkts_rev), sum(bytes_fwd + bytes_rev), min(first_ts), max(last_ts),"      \
	" state, (SELECT min(f.id) FROM findings f WHERE f.run_id = ?1 AND f.kind ="               \
	" 'unexpected' AND f.proto = s.proto AND f.src = s.src AND f.dst = s.dst AND f.port IS"    \
	" (CASE WHEN s.proto IN ('icmp','icmp6') THEN NULL ELSE s.dport END)) FROM sessions s"     \
	" WHERE run_id = ?1 AND class = 'unexpected' GROUP BY proto, src, dst, port"
	*rows = NULL;
	*n = *total = 0;
	enum sm_err e =
	    each_row(st,
	             "SELECT count(*) FROM (SELECT 1 FROM sessions WHERE run_id = ?1 AND"
	             " class = 'unexpected' GROUP BY proto, src, dst, " UNEXPECTED_PORT ")",
	             run_id, count_row, total, "counting unexpected traffic", eb);
	if (e != SM_OK)
		return e;
	char sql[sizeof(UNEXPECTED_GROUPS) + 200];
	if (max == 0 || *total <= max)
		snprintf(sql, sizeof(sql), "%s ORDER BY proto, src, dst, port", UNEXPECTED_GROUPS);
	else /* the busiest max, by a bounded sort; then in the usual order */
		snprintf(sql, sizeof(sql),
		         "SELECT * FROM (%s ORDER BY n DESC, proto, src, dst, port LIMIT %zu)"
		         " ORDER BY proto, src, dst, port",
		         UNEXPECTED_GROUPS, max);
#undef UNEXPECTED_GROUPS
	return load_rows(st, sql, run_id, decode_unexpected, sizeof(**rows), (void **)rows, n,
	                 "reading unexpected traffic", eb);
}

static void
decode_coverage(sqlite3_stmt *s, void *row)
{
	struct sm_coverage_row *r = row;
	col_text(s, 0, r->role, sizeof(r->role));
	col_text(s, 1, r->member, sizeof(r->member));
	r->seen = sqlite3_column_int(s, 2) != 0;
}

enum sm_err
sm_store_load_coverage(struct sm_store *st, int64_t run_id, struct sm_coverage_row **rows,
                       size_t *n, struct sm_errbuf *eb)
{
	return load_rows(st,
	                 "SELECT role, member, seen FROM role_coverage WHERE run_id = ?1"
	                 " ORDER BY rowid",
	                 run_id, decode_coverage, sizeof(**rows), (void **)rows, n,
	                 "reading coverage", eb);
}

static void
decode_counter(sqlite3_stmt *s, void *row)
{
	struct sm_counter_row *r = row;
	col_text(s, 0, r->name, sizeof(r->name));
	r->value = (uint64_t)sqlite3_column_int64(s, 1);
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
source_row(sqlite3_stmt *s, void *p)
{
	struct cb *c = p;
	const unsigned char *path = sqlite3_column_text(s, 0);
	const unsigned char *err = sqlite3_column_text(s, 2);
	return c->fn.src(c->ctx, path ? (const char *)path : "",
	                 (uint64_t)sqlite3_column_int64(s, 1), err ? (const char *)err : "");
}

enum sm_err
sm_store_each_source(struct sm_store *st, int64_t run_id, bool as_given,
                     bool (*fn)(void *, const char *, uint64_t, const char *), void *ctx,
                     struct sm_errbuf *eb)
{
	struct cb c = {.ctx = ctx};
	c.fn.src = fn;
	return each_row(st,
	                as_given ? "SELECT coalesce(given, path), packets, error FROM run_sources"
	                           " WHERE run_id = ?1 ORDER BY idx"
	                         : "SELECT path, packets, error FROM run_sources WHERE run_id = ?1"
	                           " ORDER BY idx",
	                run_id, source_row, &c, "reading sources", eb);
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
	                " pkts_rev FROM sessions WHERE run_id = ?1) GROUP BY addr"
	                " ORDER BY 2 DESC, addr LIMIT 5",
	                run_id, source_row, &c, "reading sessions", eb);
}

enum sm_err
sm_store_each_session(struct sm_store *st, const struct sm_query *q,
                      bool (*fn)(void *, const struct sm_session_row *), void *ctx,
                      struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	sqlite3_stmt *s;
	const char *sql =
	    "SELECT id, proto, src, sport, dst, dport, vlan, first_ts, last_ts, state, pkts_fwd,"
	    " pkts_rev, bytes_fwd, bytes_rev, class, rule, history, run_id, src_role, dst_role,"
	    " established, idle_from, idle_max, source FROM sessions"
	    " WHERE (?8 > 0 AND id = ?8 OR ?8 <= 0 AND run_id = ?1)"
	    " AND (?2 IS NULL OR (?9 IS NULL AND (src = ?2 OR dst = ?2))"
	    "      OR (src = ?2 AND dst = ?9) OR (src = ?9 AND dst = ?2))"
	    " AND (?3 < 0 OR dport = ?3 OR sport = ?3)"
	    " AND (?4 <= 0 OR last_ts >= ?4) AND (?5 <= 0 OR first_ts <= ?5)"
	    " AND (?6 IS NULL OR class = ?6) AND (?10 IS NULL OR proto = ?10)"
	    " AND (?11 <= 0 OR dport = ?11) AND (?12 = 0 OR class IN ('expected', 'optional'))"
	    " ORDER BY first_ts, id LIMIT ?7";
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, eb, "querying sessions");
	sqlite3_bind_int64(s, 1, q->run_id);
	bind_text(s, 2, q->host);
	sqlite3_bind_int(s, 3, q->port);
	sqlite3_bind_double(s, 4, q->since);
	sqlite3_bind_double(s, 5, q->until);
	bind_text(s, 6, q->class_name);
	sqlite3_bind_int64(s, 7, q->limit ? (sqlite3_int64)q->limit : -1);
	sqlite3_bind_int64(s, 8, q->session_id);
	bind_text(s, 9, q->peer);
	bind_text(s, 10, q->proto);
	sqlite3_bind_int(s, 11, q->dport);
	sqlite3_bind_int(s, 12, q->policy_only);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct sm_session_row r;
		memset(&r, 0, sizeof(r));
		int i = 0;
		r.id = sqlite3_column_int64(s, i++);
		col_text(s, i++, r.proto, sizeof(r.proto));
		col_text(s, i++, r.src, sizeof(r.src));
		r.sport = sqlite3_column_int(s, i++);
		col_text(s, i++, r.dst, sizeof(r.dst));
		r.dport = sqlite3_column_int(s, i++);
		r.vlan = col_port(s, i++);
		r.first_ts = sqlite3_column_double(s, i++);
		r.last_ts = sqlite3_column_double(s, i++);
		col_text(s, i++, r.state, sizeof(r.state));
		r.pkts_fwd = (uint64_t)sqlite3_column_int64(s, i++);
		r.pkts_rev = (uint64_t)sqlite3_column_int64(s, i++);
		r.bytes_fwd = (uint64_t)sqlite3_column_int64(s, i++);
		r.bytes_rev = (uint64_t)sqlite3_column_int64(s, i++);
		col_text(s, i++, r.class_name, sizeof(r.class_name));
		col_text(s, i++, r.rule, sizeof(r.rule));
		col_text(s, i++, r.history, sizeof(r.history));
		r.run_id = sqlite3_column_int64(s, i++);
		col_text(s, i++, r.src_role, sizeof(r.src_role));
		col_text(s, i++, r.dst_role, sizeof(r.dst_role));
		r.established = sqlite3_column_int(s, i++) != 0;
		r.idle_from = sqlite3_column_double(s, i++);
		r.idle_max = sqlite3_column_double(s, i++);
		col_text(s, i++, r.source, sizeof(r.source));
		if (!fn(ctx, &r))
			break;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail(st, eb, "querying sessions");
	return SM_OK;
}

static void
decode_finding(sqlite3_stmt *s, void *row)
{
	struct sm_finding_row *r = row;
	int i = 0;
	r->id = sqlite3_column_int64(s, i++);
	r->run_id = sqlite3_column_int64(s, i++);
	COL_ENUM(sm_finding_kind_parse, s, i++, &r->kind);
	COL_ENUM(sm_severity_parse, s, i++, &r->severity);
	col_text(s, i++, r->rule, sizeof(r->rule));
	col_text(s, i++, r->proto, sizeof(r->proto));
	col_text(s, i++, r->src, sizeof(r->src));
	col_text(s, i++, r->dst, sizeof(r->dst));
	r->port = col_port(s, i++);
	COL_ENUM(sm_verdict_parse, s, i++, &r->verdict);
	col_text(s, i++, r->detail, sizeof(r->detail));
}

static bool
finding_row(sqlite3_stmt *s, void *p)
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
	                 " AND kind = 'protocol-mismatch' ORDER BY id",
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

static void
decode_flow(sqlite3_stmt *s, void *row)
{
	struct sm_flow_row *r = row;
	int i = 0;
	col_text(s, i++, r->proto, sizeof(r->proto));
	col_text(s, i++, r->src, sizeof(r->src));
	col_text(s, i++, r->dst, sizeof(r->dst));
	r->port = sqlite3_column_int(s, i++);
	COL_ENUM(sm_class_parse, s, i++, &r->cls);
	col_text(s, i++, r->src_role, sizeof(r->src_role));
	col_text(s, i++, r->dst_role, sizeof(r->dst_role));
	r->sessions = (uint64_t)sqlite3_column_int64(s, i++);
	r->established = (uint64_t)sqlite3_column_int64(s, i++);
	r->packets = (uint64_t)sqlite3_column_int64(s, i++);
	r->first_ts = sqlite3_column_double(s, i++);
	r->last_ts = sqlite3_column_double(s, i++);
}

enum sm_err
sm_store_load_flows(struct sm_store *st, int64_t run_id, struct sm_flow_row **rows, size_t *n,
                    struct sm_errbuf *eb)
{
	return load_rows(st,
	                 "SELECT proto, src, dst, CASE WHEN proto IN ('icmp', 'icmp6') THEN -1"
	                 " ELSE dport END AS p, max(class), max(src_role), max(dst_role), count(*),"
	                 " sum(established), sum(pkts_fwd + pkts_rev), min(first_ts), max(last_ts)"
	                 " FROM sessions WHERE run_id = ?1 GROUP BY proto, src, dst, p"
	                 " ORDER BY proto, src, dst, p",
	                 run_id, decode_flow, sizeof(**rows), (void **)rows, n, "reading flows",
	                 eb);
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
		                "%s: no finding %lld (see the report's finding ids)", st->path,
		                (long long)id);
	return e;
}

static bool
run_id_row(sqlite3_stmt *s, void *p)
{
	struct cb *c = p;
	return c->fn.run(c->ctx, sqlite3_column_int64(s, 0));
}

enum sm_err
sm_store_each_run(struct sm_store *st, bool (*fn)(void *, int64_t), void *ctx, struct sm_errbuf *eb)
{
	struct cb c = {.ctx = ctx};
	c.fn.run = fn;
	return each_row(st, "SELECT id FROM runs WHERE ?1 = ?1 ORDER BY id", 0, run_id_row, &c,
	                "reading runs", eb);
}

enum sm_err
sm_store_evidence(struct sm_store *st, const struct sm_evidence_row *ev, int64_t *id,
                  struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(st->db,
	                       "INSERT INTO evidence(run_id, finding_id, session_id, path, sha256,"
	                       " packets, bytes, created) VALUES (?,?,?,?,?,?,?,"
	                       " strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
	                       -1, &s, NULL) != SQLITE_OK)
		return db_fail(st, eb, "recording evidence");
	sqlite3_bind_int64(s, 1, ev->run_id);
	if (ev->finding_id)
		sqlite3_bind_int64(s, 2, ev->finding_id);
	else
		sqlite3_bind_null(s, 2);
	if (ev->session_id)
		sqlite3_bind_int64(s, 3, ev->session_id);
	else
		sqlite3_bind_null(s, 3);
	bind_text(s, 4, ev->path);
	bind_text(s, 5, ev->sha256);
	sqlite3_bind_int64(s, 6, (sqlite3_int64)ev->packets);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)ev->bytes);
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return db_fail(st, eb, "recording evidence");
	*id = sqlite3_last_insert_rowid(st->db);
	return sm_store_commit(st, eb);
}

void
sm_store_busy_timeout(struct sm_store *st, int ms)
{
	sqlite3_busy_timeout(st->db, ms);
}
