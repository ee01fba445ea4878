/*
 * store_sqlite: the SQLite backend of src/store_db.h, the only file that
 * includes sqlite3.h.  Thin wrappers that turn an SQLite connection and its
 * prepared statements into the operations of src/store_backend.h; no SQL of its
 * own beyond the pragmas every connection gets and the aggregate sm_latest (what
 * to store, when to commit, how to read it back is decided by store.c and
 * store_read.c).
 */
#include "store_backend.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lite_db {
	struct sm_db base;
	sqlite3 *db;
};

struct lite_stmt {
	struct sm_stmt base;
	sqlite3_stmt *s;
	bool bound; /* the parameters were passed on since the last reset */
};

static sqlite3 *
conn(struct sm_db *db)
{
	return ((struct lite_db *)(void *)db)->db;
}

static sqlite3_stmt *
raw(struct sm_stmt *s)
{
	return ((struct lite_stmt *)(void *)s)->s;
}

static const struct sm_db_ops lite_ops;

/* sm_latest(state, last_ts, id): the state of the group's row with the latest
 * last_ts, the highest id among equals (store_db.h). */
struct latest {
	double ts;
	int64_t id;
	char *state;
	bool set;
};

static void
latest_step(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	struct latest *l = sqlite3_aggregate_context(ctx, sizeof(*l));
	if (l == NULL)
		return;
	double ts = sqlite3_value_double(argv[1]);
	int64_t id = sqlite3_value_int64(argv[2]);
	if (l->set && (ts < l->ts || (ts == l->ts && id <= l->id)))
		return;
	const unsigned char *t = sqlite3_value_text(argv[0]);
	free(l->state);
	l->state = t ? strdup((const char *)t) : NULL;
	l->ts = ts;
	l->id = id;
	l->set = true;
}

static void
latest_final(sqlite3_context *ctx)
{
	struct latest *l = sqlite3_aggregate_context(ctx, 0);
	if (l == NULL || l->state == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_text(ctx, l->state, -1, free);
}

/* A reader without write access: open it read-only, change nothing.  A WAL
 * database needs its -shm file, which this reader may not create: immutable=1
 * reads the file as it is (what was committed). */
static int
reopen_readonly(struct lite_db *db, const char *name)
{
	sqlite3_close(db->db);
	db->db = NULL;
	db->base.readonly = true;
	char uri[3200] = "file:";
	size_t o = strlen(uri);
	for (const char *c = name; *c && o + 4 < sizeof(uri) - 16; c++) {
		if (*c == '?' || *c == '#' || *c == '%' || (unsigned char)*c < 0x20)
			o +=
			    (size_t)snprintf(uri + o, sizeof(uri) - o, "%%%02X", (unsigned char)*c);
		else
			uri[o++] = *c;
	}
	snprintf(uri + o, sizeof(uri) - o, "?immutable=1");
	return sqlite3_open_v2(uri, &db->db,
	                       SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, NULL);
}

enum sm_err
sm_sqlite_open(struct sm_db **out, const char *path, bool create, struct sm_errbuf *eb)
{
	struct lite_db *db = calloc(1, sizeof(*db));
	if (db == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	db->base.ops = &lite_ops;
	db->base.kind = SM_DB_SQLITE;
	/* one thread at a time uses the connection (see the store's drain): no
	 * SQLite mutexes */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	const char *name = path ? path : ":memory:";
	sm_strlcpy(db->base.path, name, sizeof(db->base.path));
	int rc = sqlite3_open_v2(name, &db->db, flags, NULL);
	if (rc == SQLITE_OK && !create && sqlite3_db_readonly(db->db, "main") == 1)
		rc = reopen_readonly(db, name);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db->db, "sm_latest", 3,
		                             SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, NULL,
		                             latest_step, latest_final);
	if (rc != SQLITE_OK) {
		enum sm_err e = sm_error(eb, SM_ERR_DB, "%s: cannot open database: %s", name,
		                         db->db ? sqlite3_errmsg(db->db) : "out of memory");
		sm_db_close(&db->base);
		return e;
	}
	sqlite3_busy_timeout(db->db, 5000);
	enum sm_err e = SM_OK;
	/* Switching to WAL does not wait for a process creating the same database:
	 * it is retried for as long as the busy wait above (5 s). */
	for (int tries = 0; path != NULL && !db->base.readonly; tries++) {
		e = sm_db_exec(&db->base,
		               "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		               /* no temporary files: a live run may be chrooted */
		               " PRAGMA temp_store=MEMORY;",
		               "setting WAL mode", eb);
		if (e == SM_OK || sqlite3_errcode(db->db) != SQLITE_BUSY || tries >= 500)
			break;
		sqlite3_sleep(10);
	}
	if (e != SM_OK) {
		sm_db_close(&db->base);
		return e;
	}
	*out = &db->base;
	return SM_OK;
}

static void
lite_close(struct sm_db *db)
{
	sqlite3_close(conn(db));
	free(db);
}

static void
lite_busy_timeout(struct sm_db *db, int ms)
{
	sqlite3_busy_timeout(conn(db), ms);
}

static const char *
lite_errmsg(struct sm_db *db)
{
	return sqlite3_errmsg(conn(db));
}

static bool
lite_exec(struct sm_db *db, const char *sql, char **msg)
{
	char *m = NULL;
	if (sqlite3_exec(conn(db), sql, NULL, NULL, &m) == SQLITE_OK)
		return true;
	*msg = m ? strdup(m) : NULL;
	sqlite3_free(m);
	return false;
}

static bool
lite_in_transaction(struct sm_db *db)
{
	return !sqlite3_get_autocommit(conn(db));
}

static int64_t
lite_last_insert_id(struct sm_db *db)
{
	return sqlite3_last_insert_rowid(conn(db));
}

static int64_t
lite_changes(struct sm_db *db)
{
	return sqlite3_changes64(conn(db));
}

static struct sm_stmt *
lite_prepare(struct sm_db *db, const char *sql, bool persistent)
{
	struct lite_stmt *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	int rc = persistent
	             ? sqlite3_prepare_v3(conn(db), sql, -1, SQLITE_PREPARE_PERSISTENT, &s->s, NULL)
	             : sqlite3_prepare_v2(conn(db), sql, -1, &s->s, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(s->s);
		free(s);
		return NULL;
	}
	s->base.nparams = sqlite3_bind_parameter_count(s->s);
	return &s->base;
}

static bool
lite_finalize(struct sm_stmt *s)
{
	bool ok = sqlite3_finalize(raw(s)) == SQLITE_OK;
	free(s);
	return ok;
}

static void
lite_reset(struct sm_stmt *s)
{
	sqlite3_reset(raw(s));
	((struct lite_stmt *)(void *)s)->bound = false;
}

/* The values bound since the last reset, passed on before the first step. */
static void
bind_all(struct sm_stmt *s)
{
	sqlite3_stmt *r = raw(s);
	for (int i = 1; i <= s->nparams && i <= SM_DB_MAX_PARAMS; i++) {
		const struct sm_param *p = &s->p[i - 1];
		switch (p->type) {
		case SM_P_NULL:
			sqlite3_bind_null(r, i);
			break;
		case SM_P_INT:
			sqlite3_bind_int64(r, i, (sqlite3_int64)p->i);
			break;
		case SM_P_DOUBLE:
			sqlite3_bind_double(r, i, p->d);
			break;
		case SM_P_TEXT:
			/* Every caller steps (and clears or finalizes) the statement
			 * before the text goes out of scope: SQLite need not copy it. */
			sqlite3_bind_text(r, i, p->t, -1, SQLITE_STATIC);
			break;
		}
	}
}

static enum sm_db_step
lite_step(struct sm_stmt *s)
{
	struct lite_stmt *l = (struct lite_stmt *)(void *)s;
	if (!l->bound) {
		bind_all(s);
		l->bound = true;
	}
	switch (sqlite3_step(l->s)) {
	case SQLITE_ROW:
		return SM_DB_ROW;
	case SQLITE_DONE:
		return SM_DB_DONE;
	case SQLITE_BUSY:
		return SM_DB_BUSY;
	default:
		return SM_DB_ERROR;
	}
}

static const char *
lite_col_text(struct sm_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(raw(s), i);
}

static int64_t
lite_col_int64(struct sm_stmt *s, int i)
{
	return sqlite3_column_int64(raw(s), i);
}

static double
lite_col_double(struct sm_stmt *s, int i)
{
	return sqlite3_column_double(raw(s), i);
}

static bool
lite_col_is_null(struct sm_stmt *s, int i)
{
	return sqlite3_column_type(raw(s), i) == SQLITE_NULL;
}

static int
lite_col_count(struct sm_stmt *s)
{
	return sqlite3_column_count(raw(s));
}

static const struct sm_db_ops lite_ops = {
    .close = lite_close,
    .errmsg = lite_errmsg,
    .exec = lite_exec,
    .in_transaction = lite_in_transaction,
    .last_insert_id = lite_last_insert_id,
    .changes = lite_changes,
    .busy_timeout = lite_busy_timeout,
    .prepare = lite_prepare,
    .finalize = lite_finalize,
    .reset = lite_reset,
    .step = lite_step,
    .col_text = lite_col_text,
    .col_int64 = lite_col_int64,
    .col_double = lite_col_double,
    .col_is_null = lite_col_is_null,
    .col_count = lite_col_count,
};
