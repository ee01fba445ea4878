/*
 * store: opens the database, creates and upgrades its schema, and writes runs,
 * sessions, verdicts, findings, coverage, counters and evidence in batched
 * transactions; sessions go through a writer thread and its ring, which keep
 * rows through database faults.  Reaches the database only through
 * src/store_db.h; the schema is in store_schema.c, the readers in store_read.c.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_int.h"

#define BATCH_ROWS 20000

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

struct store_writer {
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

static void writer_stop(struct sm_store *st);

static const char *const stmt_sql[ST_COUNT] = {
    [ST_SESSION] =
        "INSERT INTO sessions(run_id, proto, src, sport, dst, dport, vlan, first_ts, last_ts,"
        " state, pkts_fwd, pkts_rev, bytes_fwd, bytes_rev, class, rule, inner_vlan, history,"
        " established, syn_count, rst_from, rst_ttl, icmp_errors, ttl_fwd, ttl_rev, tunnel,"
        " outer_src, outer_dst, src_role, dst_role, open, app, app_detail, missed_bytes, uid,"
        " icmp_err_type, icmp_err_code, icmp_err_from, icmp_err_ttl, source, idle_from,"
        " idle_max, tunnel_parent) VALUES"
        " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_SOURCE] = "INSERT INTO run_sources(run_id, idx, path, packets, bytes, error, given)"
                  " VALUES (?,?,?,?,?,?,?)",
    [ST_COUNTER] = "INSERT INTO run_counters VALUES (?,?,?)",
    [ST_EXPECTED] = "INSERT INTO expected(run_id, rule, kind, proto, port, src_role, dst_role,"
                    " src, dst, verdict, sessions, failed, first_ts, last_ts, purpose, detail,"
                    " finding_id, path, lost_between)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
    [ST_FINDING] = ("INSERT INTO findings(run_id, kind, severity, rule, proto, src, dst, port,"
                    " verdict, detail) VALUES (?,?,?,?,?,?,?,?,?,?)"),
    [ST_COVERAGE] = "INSERT INTO role_coverage VALUES (?,?,?,?)",
    [ST_SIGHTING] = "INSERT INTO sightings(run_id, session_id, sensor, dir, packets, bytes,"
                    " first_ts, last_ts, ttl_min, ttl_max) VALUES (?,?,?,?,?,?,?,?,?,?)",
    [ST_SENSOR] = "INSERT INTO sensors(run_id, idx, name, clock_offset, clock_spread,"
                  " clock_matched, clock_known, packets) VALUES (?,?,?,?,?,?,?,?)",
};

enum sm_err
sm_store_open(struct sm_store **out, const char *path, bool create, struct sm_errbuf *eb)
{
	*out = NULL;
	struct sm_store *st = calloc(1, sizeof(*st));
	if (st == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	enum sm_err e = sm_db_open(&st->db, path, create, eb);
	if (e == SM_OK)
		e = store_check_schema(st->db, eb);
	for (int i = 0; e == SM_OK && i < ST_COUNT; i++)
		if (!sm_db_prepare(st->db, stmt_sql[i], true, &st->stmt[i]))
			e = sm_db_fail(st->db, eb, "preparing statements");
	if (e != SM_OK) {
		sm_store_close(st);
		return e;
	}
	*out = st;
	return SM_OK;
}

bool
sm_store_is_uri(const char *path)
{
	return sm_db_is_uri(path);
}

void
sm_store_close(struct sm_store *st)
{
	if (st == NULL)
		return;
	writer_stop(st); /* writes what is queued */
	if (st->in_txn)
		sm_db_exec(st->db, "COMMIT", NULL, NULL);
	for (int i = 0; i < ST_COUNT; i++)
		sm_stmt_finalize(st->stmt[i]);
	sm_db_close(st->db);
	free(st);
}

static enum sm_err
begin(struct sm_store *st, struct sm_errbuf *eb)
{
	if (st->in_txn)
		return SM_OK;
	enum sm_err e = sm_db_exec(st->db, "BEGIN", "starting a transaction", eb);
	if (e == SM_OK)
		st->in_txn = true;
	return e;
}

/* Rolls the open transaction back after an error: the writer's rows in it are
 * written again later.  Called by the thread using the connection. */
static void
rollback_now(struct sm_store *st)
{
	if (sm_db_in_transaction(st->db))
		sm_db_exec(st->db, "ROLLBACK", NULL, NULL);
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
	enum sm_err e = sm_db_exec(st->db, "COMMIT", "committing", eb);
	if (e != SM_OK) {
		rollback_now(st);
		return e;
	}
	st->in_txn = false;
	st->batch = 0;
	struct store_writer *w = st->w;
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

/* Runs a one-off statement to its end and finalizes it; what says what failed. */
static enum sm_err
step_once(struct sm_store *st, struct sm_stmt *s, const char *what, struct sm_errbuf *eb)
{
	enum sm_db_step rc = sm_stmt_step(s);
	sm_stmt_finalize(s);
	return rc == SM_DB_DONE ? SM_OK : sm_db_fail(st->db, eb, what);
}

/* Runs a bound insert in the open transaction (the writer commits on its own). */
static enum sm_err
step_row(struct sm_store *st, struct sm_stmt *s, const char *what, struct sm_errbuf *eb)
{
	enum sm_err e = begin(st, eb);
	if (e != SM_OK) {
		sm_stmt_reset(s);
		return e;
	}
	enum sm_db_step rc = sm_stmt_step(s);
	sm_stmt_reset(s);
	sm_stmt_clear(s);
	if (rc != SM_DB_DONE)
		return sm_db_fail(st->db, eb, what);
	st->batch++;
	return SM_OK;
}

/* Runs a bound insert; rows are batched into transactions of BATCH_ROWS. */
static enum sm_err
step_insert(struct sm_store *st, struct sm_stmt *s, const char *what, struct sm_errbuf *eb)
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
	struct sm_stmt *s;
	if (!sm_db_prepare(st->db,
	                   "INSERT INTO runs(started, mode, sources, status, packets, bytes,"
	                   " dropped, site, rules, pid, host, heartbeat)"
	                   " VALUES (?1,?2,?3,?8,0,0,0,?4,?5,?6,?7,?1)",
	                   false, &s))
		return sm_db_fail(st->db, eb, "recording the run");
	sm_bind_text(s, 1, started);
	sm_bind_text(s, 2, mode);
	sm_bind_text(s, 3, sources_json);
	sm_bind_text(s, 4, site);
	sm_bind_text(s, 5, rules);
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	sm_bind_int64(s, 6, (int64_t)getpid());
	sm_bind_text(s, 7, host);
	sm_bind_text(s, 8, sm_run_status_name(RUN_RUNNING));
	enum sm_err e = step_once(st, s, "recording the run", eb);
	if (e != SM_OK)
		return e;
	*run_id = sm_db_last_insert_id(st->db);
	st->run_id = *run_id;
	return SM_OK;
}

enum sm_err
sm_store_run_options(struct sm_store *st, int64_t run_id, const char *filter, bool strict,
                     struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	struct sm_stmt *s;
	if (!sm_db_prepare(st->db, "UPDATE runs SET filter = ?, strict = ? WHERE id = ?", false,
	                   &s))
		return sm_db_fail(st->db, eb, "recording the run");
	sm_bind_text(s, 1, filter != NULL && *filter ? filter : NULL);
	sm_bind_int(s, 2, strict);
	sm_bind_int64(s, 3, run_id);
	return step_once(st, s, "recording the run", eb);
}

/* Binds one session row: the caller formatted every field. */
static enum sm_err
write_session(struct sm_store *st, int64_t run_id, const struct sm_session_record *r,
              struct sm_errbuf *eb)
{
	struct sm_stmt *s = st->stmt[ST_SESSION];
	int i = 1;
	sm_bind_int64(s, i++, run_id);
	store_bind_cols(s, i, store_session_cols, STORE_SESSION_COLS, r);
	i += STORE_SESSION_COLS;
	if (r->icmp_errors)
		store_bind_cols(s, i, store_session_icmp_cols, STORE_SESSION_ICMP_COLS, r);
	else
		for (int k = 0; k < STORE_SESSION_ICMP_COLS; k++)
			sm_bind_null(s, i + k);
	i += STORE_SESSION_ICMP_COLS;
	sm_bind_text(s, i++, r->source);
	store_bind_double_or_null(s, i++, r->idle_max > 0, r->idle_from);
	store_bind_double_or_null(s, i++, r->idle_max > 0, r->idle_max);
	store_bind_int_or_null(s, i++, r->tunnel_parent != 0, (int64_t)r->tunnel_parent);
	enum sm_err e = step_row(st, s, "storing a session", eb);
	int64_t id = r->nsight > 0 ? sm_db_last_insert_id(st->db) : 0;
	for (uint8_t k = 0; e == SM_OK && k < r->nsight; k++) {
		const struct sm_sighting_row *g = &r->sight[k];
		s = st->stmt[ST_SIGHTING];
		i = 1;
		sm_bind_int64(s, i++, run_id);
		sm_bind_int64(s, i++, id);
		sm_bind_text(s, i++, g->sensor);
		sm_bind_text(s, i++, g->rev ? "rev" : "fwd");
		sm_bind_int64(s, i++, (int64_t)g->pkts);
		sm_bind_int64(s, i++, (int64_t)g->bytes);
		sm_bind_double(s, i++, g->first_ts);
		sm_bind_double(s, i++, g->last_ts);
		sm_bind_int(s, i++, g->ttl_min);
		sm_bind_int(s, i++, g->ttl_max);
		e = step_row(st, s, "storing a sighting", eb);
	}
	return e;
}

/* The writer has rows to insert now. */
static bool
writer_has_work(const struct store_writer *w)
{
	return w->retry || (w->err == SM_OK && w->count > w->written);
}

static void *
writer_main(void *arg)
{
	struct sm_store *st = arg;
	struct store_writer *w = st->w;
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
enum sm_err
store_drain(struct sm_store *st, struct sm_errbuf *eb)
{
	struct store_writer *w = st->w;
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
	struct store_writer *w = st->w;
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
	struct store_writer *w = calloc(1, sizeof(*w));
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
ring_grow(struct store_writer *w)
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
	struct store_writer *w = st->w;
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
	struct store_writer *w = st->w;
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
	struct store_writer *w = st->w;
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
	struct store_writer *w = st->w;
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

/* The insert which with the run id as ?1 and the n columns cols of row after it,
 * to be stepped. */
static struct sm_stmt *
bind_row(struct sm_store *st, enum store_stmt which, int64_t run_id, const struct store_col *cols,
         size_t n, const void *row)
{
	struct sm_stmt *s = st->stmt[which];
	sm_bind_int64(s, 1, run_id);
	store_bind_cols(s, 2, cols, n, row);
	return s;
}

/* Inserts row as bind_row binds it. */
static enum sm_err
insert_row(struct sm_store *st, enum store_stmt which, int64_t run_id, const struct store_col *cols,
           size_t n, const void *row, const char *what, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	return step_insert(st, bind_row(st, which, run_id, cols, n, row), what, eb);
}

enum sm_err
sm_store_source(struct sm_store *st, int64_t run_id, int idx, const char *path, const char *given,
                uint64_t packets, uint64_t bytes, const char *error, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	struct sm_stmt *s = st->stmt[ST_SOURCE];
	sm_bind_int64(s, 1, run_id);
	sm_bind_int(s, 2, idx);
	sm_bind_text(s, 3, path);
	sm_bind_int64(s, 4, (int64_t)packets);
	sm_bind_int64(s, 5, (int64_t)bytes);
	sm_bind_text(s, 6, error);
	sm_bind_text(s, 7, given);
	return step_insert(st, s, "storing a source", eb);
}

enum sm_err
sm_store_counter(struct sm_store *st, int64_t run_id, const char *name, uint64_t value,
                 struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	struct sm_stmt *s = st->stmt[ST_COUNTER];
	sm_bind_int64(s, 1, run_id);
	sm_bind_text(s, 2, name);
	sm_bind_int64(s, 3, (int64_t)value);
	return step_insert(st, s, "storing a counter", eb);
}

enum sm_err
sm_store_expected(struct sm_store *st, int64_t run_id, const struct sm_expected_row *r,
                  struct sm_errbuf *eb)
{
	return insert_row(st, ST_EXPECTED, run_id, store_expected_cols, STORE_EXPECTED_COLS, r,
	                  "storing an expected flow", eb);
}

/* The finding insert with f bound, to be stepped. */
static struct sm_stmt *
bind_finding(struct sm_store *st, int64_t run_id, const struct sm_finding_row *f)
{
	return bind_row(st, ST_FINDING, run_id, store_finding_cols, STORE_FINDING_COLS, f);
}

enum sm_err
sm_store_finding(struct sm_store *st, int64_t run_id, const struct sm_finding_row *f, int64_t *id,
                 struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	enum sm_err e = step_insert(st, bind_finding(st, run_id, f), "storing a finding", eb);
	if (id != NULL)
		*id = e == SM_OK ? sm_db_last_insert_id(st->db) : 0;
	return e;
}

enum sm_err
sm_store_coverage(struct sm_store *st, int64_t run_id, const struct sm_coverage_row *c,
                  struct sm_errbuf *eb)
{
	return insert_row(st, ST_COVERAGE, run_id, store_coverage_cols, STORE_COVERAGE_COLS, c,
	                  "storing coverage", eb);
}

enum sm_err
sm_store_sensor(struct sm_store *st, int64_t run_id, const struct sm_sensor_row *r,
                struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	struct sm_stmt *s = st->stmt[ST_SENSOR];
	int i = 1;
	sm_bind_int64(s, i++, run_id);
	sm_bind_int(s, i++, r->idx);
	sm_bind_text(s, i++, r->name);
	store_bind_double_or_null(s, i++, r->clock_known, r->clock_offset);
	store_bind_double_or_null(s, i++, r->clock_known, r->clock_spread);
	sm_bind_int64(s, i++, (int64_t)r->clock_matched);
	sm_bind_int(s, i++, r->clock_known);
	sm_bind_int64(s, i++, (int64_t)r->packets);
	return step_insert(st, s, "storing a sensor", eb);
}

enum sm_err
sm_store_unexpected_findings(struct sm_store *st, int64_t run_id, sm_unexpected_decide_fn decide,
                             void *ctx, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	static const char what[] = "aggregating unexpected traffic";
	struct sm_stmt *s;
	enum sm_err e = begin(st, eb);
	if (e != SM_OK)
		return e;
	if (!sm_db_prepare(st->db, store_unexpected_sql, false, &s))
		return sm_db_fail(st->db, eb, what);
	sm_bind_int64(s, 1, run_id);
	enum sm_db_step rc = SM_DB_DONE;
	while (e == SM_OK && (rc = sm_stmt_step(s)) == SM_DB_ROW) {
		struct sm_unexpected_row g;
		struct sm_finding_row f;
		memset(&g, 0, sizeof(g));
		memset(&f, 0, sizeof(f));
		store_decode_unexpected(s, &g);
		/* no commit while the groups are read: they are one transaction, as
		 * when SQL made them in one statement */
		if (decide(ctx, &g, &f))
			e = step_row(st, bind_finding(st, run_id, &f), "storing a finding", eb);
	}
	sm_stmt_finalize(s);
	if (e == SM_OK && rc != SM_DB_DONE)
		return sm_db_fail(st->db, eb, what);
	return e;
}

enum sm_err
sm_store_run_reset(struct sm_store *st, int64_t run_id, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	static const char *const sql[] = {
	    "DELETE FROM sightings WHERE run_id = ?1 AND session_id IN"
	    " (SELECT id FROM sessions WHERE run_id = ?1 AND open = 1)",
	    "DELETE FROM sessions WHERE run_id = ?1 AND open = 1",
	    "DELETE FROM sensors WHERE run_id = ?1",
	    "DELETE FROM expected WHERE run_id = ?1",
	    "DELETE FROM findings WHERE run_id = ?1",
	    "DELETE FROM role_coverage WHERE run_id = ?1",
	    "DELETE FROM run_counters WHERE run_id = ?1",
	    "DELETE FROM run_sources WHERE run_id = ?1",
	};
	enum sm_err e = begin(st, eb);
	for (size_t i = 0; e == SM_OK && i < sizeof(sql) / sizeof(sql[0]); i++) {
		struct sm_stmt *s;
		if (!sm_db_prepare(st->db, sql[i], false, &s))
			return sm_db_fail(st->db, eb, "replacing the last checkpoint");
		sm_bind_int64(s, 1, run_id);
		e = step_once(st, s, "replacing the last checkpoint", eb);
	}
	return e;
}

enum sm_err
sm_store_run_end(struct sm_store *st, const struct sm_run_row *r, struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	char finished[32];
	now_text(finished, sizeof(finished));
	if (r->status == RUN_RUNNING)
		finished[0] = '\0'; /* a checkpoint: the run goes on */
	enum sm_err e = begin(st, eb);
	if (e != SM_OK)
		return e;
	struct sm_stmt *s;
	if (!sm_db_prepare(st->db,
	                   "UPDATE runs SET finished=?, status=?, packets=?, bytes=?, dropped=?,"
	                   " sessions=?, undecoded=?, evicted=?, read_errors=?, first_ts=?,"
	                   " last_ts=?, missed_bytes=?, gap_sessions=?,"
	                   " heartbeat=? WHERE id=?",
	                   false, &s))
		return sm_db_fail(st->db, eb, "finishing the run");
	int i = 1;
	sm_bind_text(s, i++, finished);
	sm_bind_text(s, i++, sm_run_status_name(r->status));
	store_bind_cols(s, i, store_run_cols, STORE_RUN_COLS, r);
	i += STORE_RUN_COLS;
	char now[32];
	now_text(now, sizeof(now));
	sm_bind_text(s, i++, now);
	sm_bind_int64(s, i++, r->id);
	e = step_once(st, s, "finishing the run", eb);
	if (e != SM_OK)
		return e;
	return sm_store_commit(st, eb);
}

enum sm_err
sm_store_evidence(struct sm_store *st, const struct sm_evidence_row *ev, int64_t *id,
                  struct sm_errbuf *eb)
{
	DRAIN(st, eb);
	struct sm_stmt *s;
	if (!sm_db_prepare(st->db,
	                   "INSERT INTO evidence(run_id, finding_id, session_id, path, sha256,"
	                   " packets, bytes, created) VALUES (?,?,?,?,?,?,?,?)",
	                   false, &s))
		return sm_db_fail(st->db, eb, "recording evidence");
	sm_bind_int64(s, 1, ev->run_id);
	store_bind_int_or_null(s, 2, ev->finding_id != 0, ev->finding_id);
	store_bind_int_or_null(s, 3, ev->session_id != 0, ev->session_id);
	sm_bind_text(s, 4, ev->path);
	sm_bind_text(s, 5, ev->sha256);
	sm_bind_int64(s, 6, (int64_t)ev->packets);
	sm_bind_int64(s, 7, (int64_t)ev->bytes);
	char created[32];
	now_text(created, sizeof(created));
	sm_bind_text(s, 8, created);
	enum sm_err e = step_once(st, s, "recording evidence", eb);
	if (e != SM_OK)
		return e;
	*id = sm_db_last_insert_id(st->db);
	return sm_store_commit(st, eb);
}

void
sm_store_busy_timeout(struct sm_store *st, int ms)
{
	sm_db_busy_timeout(st->db, ms);
}
