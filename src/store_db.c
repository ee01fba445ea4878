/*
 * store_db: the only file that includes sqlite3.h.  Thin wrappers that turn an
 * SQLite connection and its prepared statements into the types of
 * src/store_db.h; no SQL of its own beyond the pragmas every connection gets
 * (what to store, when to commit, how to read it back is decided by store.c and
 * store_read.c).
 */
#include "store_db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sm_db {
	sqlite3 *db;
	char path[1024]; /* named in every error message */
	bool readonly;
};

/* struct sm_stmt is never defined: it is SQLite's statement under our name. */
static sqlite3_stmt *
raw(struct sm_stmt *s)
{
	return (sqlite3_stmt *)(void *)s;
}

/* A reader without write access: open it read-only, change nothing.  A WAL
 * database needs its -shm file, which this reader may not create: immutable=1
 * reads the file as it is (what was committed). */
static int
reopen_readonly(struct sm_db *db, const char *name)
{
	sqlite3_close(db->db);
	db->db = NULL;
	db->readonly = true;
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
sm_db_open(struct sm_db **out, const char *path, bool create, struct sm_errbuf *eb)
{
	*out = NULL;
	struct sm_db *db = calloc(1, sizeof(*db));
	if (db == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	/* one thread at a time uses the connection (see the store's drain): no
	 * SQLite mutexes */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	const char *name = path ? path : ":memory:";
	sm_strlcpy(db->path, name, sizeof(db->path));
	int rc = sqlite3_open_v2(name, &db->db, flags, NULL);
	if (rc == SQLITE_OK && !create && sqlite3_db_readonly(db->db, "main") == 1)
		rc = reopen_readonly(db, name);
	if (rc != SQLITE_OK) {
		enum sm_err e = sm_error(eb, SM_ERR_DB, "%s: cannot open database: %s", name,
		                         db->db ? sqlite3_errmsg(db->db) : "out of memory");
		sm_db_close(db);
		return e;
	}
	sqlite3_busy_timeout(db->db, 5000);
	enum sm_err e = SM_OK;
	/* Switching to WAL does not wait for a process creating the same database:
	 * it is retried for as long as the busy wait above (5 s). */
	for (int tries = 0; path != NULL && !db->readonly; tries++) {
		e = sm_db_exec(db,
		               "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
		               /* no temporary files: a live run may be chrooted */
		               " PRAGMA temp_store=MEMORY;",
		               "setting WAL mode", eb);
		if (e == SM_OK || sqlite3_errcode(db->db) != SQLITE_BUSY || tries >= 500)
			break;
		sqlite3_sleep(10);
	}
	if (e != SM_OK) {
		sm_db_close(db);
		return e;
	}
	*out = db;
	return SM_OK;
}

void
sm_db_close(struct sm_db *db)
{
	if (db == NULL)
		return;
	sqlite3_close(db->db);
	free(db);
}

const char *
sm_db_path(const struct sm_db *db)
{
	return db->path;
}

bool
sm_db_readonly(const struct sm_db *db)
{
	return db->readonly;
}

void
sm_db_busy_timeout(struct sm_db *db, int ms)
{
	sqlite3_busy_timeout(db->db, ms);
}

const char *
sm_db_errmsg(struct sm_db *db)
{
	return sqlite3_errmsg(db->db);
}

enum sm_err
sm_db_fail(struct sm_db *db, struct sm_errbuf *eb, const char *what)
{
	return sm_error(eb, SM_ERR_DB, "%s: database error while %s: %s", db->path, what,
	                sqlite3_errmsg(db->db));
}

enum sm_err
sm_db_exec(struct sm_db *db, const char *sql, const char *what, struct sm_errbuf *eb)
{
	char *msg = NULL;
	if (sqlite3_exec(db->db, sql, NULL, NULL, eb != NULL ? &msg : NULL) != SQLITE_OK) {
		enum sm_err e = sm_error(eb, SM_ERR_DB, "%s: database error while %s: %s", db->path,
		                         what, msg ? msg : sqlite3_errmsg(db->db));
		sqlite3_free(msg);
		return e;
	}
	return SM_OK;
}

bool
sm_db_in_transaction(struct sm_db *db)
{
	return !sqlite3_get_autocommit(db->db);
}

int64_t
sm_db_last_insert_id(struct sm_db *db)
{
	return sqlite3_last_insert_rowid(db->db);
}

int64_t
sm_db_changes(struct sm_db *db)
{
	return sqlite3_changes64(db->db);
}

bool
sm_db_prepare(struct sm_db *db, const char *sql, bool persistent, struct sm_stmt **out)
{
	sqlite3_stmt *s = NULL;
	int rc = persistent
	             ? sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL)
	             : sqlite3_prepare_v2(db->db, sql, -1, &s, NULL);
	*out = (struct sm_stmt *)(void *)s;
	return rc == SQLITE_OK;
}

bool
sm_stmt_finalize(struct sm_stmt *s)
{
	return sqlite3_finalize(raw(s)) == SQLITE_OK;
}

void
sm_stmt_reset(struct sm_stmt *s)
{
	sqlite3_reset(raw(s));
}

void
sm_stmt_clear(struct sm_stmt *s)
{
	sqlite3_clear_bindings(raw(s));
}

enum sm_db_step
sm_stmt_step(struct sm_stmt *s)
{
	switch (sqlite3_step(raw(s))) {
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

void
sm_bind_text(struct sm_stmt *s, int i, const char *v)
{
	if (v == NULL || *v == '\0')
		sqlite3_bind_null(raw(s), i);
	else
		/* Every caller steps (and clears or finalizes) the statement before v
		 * goes out of scope, so SQLite need not copy it. */
		sqlite3_bind_text(raw(s), i, v, -1, SQLITE_STATIC);
}

void
sm_bind_int(struct sm_stmt *s, int i, int v)
{
	sqlite3_bind_int(raw(s), i, v);
}

void
sm_bind_int64(struct sm_stmt *s, int i, int64_t v)
{
	sqlite3_bind_int64(raw(s), i, (sqlite3_int64)v);
}

void
sm_bind_double(struct sm_stmt *s, int i, double v)
{
	sqlite3_bind_double(raw(s), i, v);
}

void
sm_bind_null(struct sm_stmt *s, int i)
{
	sqlite3_bind_null(raw(s), i);
}

const char *
sm_col_text(struct sm_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(raw(s), i);
}

int
sm_col_int(struct sm_stmt *s, int i)
{
	return sqlite3_column_int(raw(s), i);
}

int64_t
sm_col_int64(struct sm_stmt *s, int i)
{
	return sqlite3_column_int64(raw(s), i);
}

double
sm_col_double(struct sm_stmt *s, int i)
{
	return sqlite3_column_double(raw(s), i);
}

bool
sm_col_is_null(struct sm_stmt *s, int i)
{
	return sqlite3_column_type(raw(s), i) == SQLITE_NULL;
}

int
sm_col_count(struct sm_stmt *s)
{
	return sqlite3_column_count(raw(s));
}
