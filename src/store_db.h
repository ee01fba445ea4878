/*
 * store_db: the database behind our own types.  src/store_db.c is the only file
 * that includes sqlite3.h; the other store files (store.c writes, store_read.c
 * reads) reach SQLite only through these functions: open with the busy wait and
 * the pragmas, run a script, prepare, bind, step, read columns, last id.
 * Internal to the store module: not part of include/smaudit/store.h.
 *
 * A second backend (PostgreSQL through libpq, issue 20) would implement this
 * same interface in its own file.  What the callers' SQL still takes from SQLite:
 * - parameters are numbered "?" and "?N" (libpq wants "$N"), a number may be
 *   used twice ("?1 ... ?1"), and "?N IS NULL" tests a text bound to NULL
 *   (PostgreSQL needs its type); "LIMIT -1" is no limit; "a IS b" compares
 *   with NULL equal to NULL (IS NOT DISTINCT FROM);
 * - PRAGMA user_version holds the schema version, "SELECT count(*) FROM
 *   sqlite_master" tells an empty file; the WAL pragmas are set by sm_db_open;
 * - ids come from INTEGER PRIMARY KEY and sm_db_last_insert_id() (last_insert_rowid),
 *   not INSERT ... RETURNING; "ORDER BY rowid" keeps insertion order;
 * - dates are made by strftime('%Y-%m-%dT%H:%M:%SZ', 'now') and julianday();
 * - BEGIN IMMEDIATE takes the write lock at once; ALTER TABLE ADD COLUMN and
 *   partial indexes (CREATE INDEX ... WHERE) are in the migrations.
 */
#ifndef SMAUDIT_STORE_DB_H
#define SMAUDIT_STORE_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "smaudit/err.h"

struct sm_db;   /* one connection, used by one thread at a time */
struct sm_stmt; /* a prepared statement of one connection */

enum sm_db_step {
	SM_DB_ROW,   /* a result row is there to read */
	SM_DB_DONE,  /* the statement has run to its end */
	SM_DB_BUSY,  /* another connection held the lock past the busy wait */
	SM_DB_ERROR, /* anything else: sm_db_errmsg() says what */
};

/* path NULL = an in-memory database.  create: make the file if missing.  A
 * reader (!create) without write access gets the file read-only, as it was
 * last committed.  Waits up to 5 s for another process's lock; a file database
 * that can be written is switched to WAL.  *out owned by the caller, freed by
 * sm_db_close (NULL after an error, which names path). */
enum sm_err sm_db_open(struct sm_db **out, const char *path, bool create, struct sm_errbuf *eb);
void sm_db_close(struct sm_db *db);
/* The path named in every error message (":memory:" for an in-memory database). */
const char *sm_db_path(const struct sm_db *db);
/* Opened read-only: nothing may be written, not even a schema upgrade. */
bool sm_db_readonly(const struct sm_db *db);
/* How long a statement waits for another process's lock. */
void sm_db_busy_timeout(struct sm_db *db, int ms);
/* The last error of the connection, as the database says it. */
const char *sm_db_errmsg(struct sm_db *db);
/* "PATH: database error while WHAT: MESSAGE" in eb; returns SM_ERR_DB. */
enum sm_err sm_db_fail(struct sm_db *db, struct sm_errbuf *eb, const char *what);

/* Runs a script of statements without results (DDL, BEGIN, COMMIT, ...); an
 * error is worded as sm_db_fail does.  eb NULL: the error is only returned. */
enum sm_err sm_db_exec(struct sm_db *db, const char *sql, const char *what, struct sm_errbuf *eb);
/* A transaction is open on the connection (also one an error left behind). */
bool sm_db_in_transaction(struct sm_db *db);
/* The id given to the row the connection inserted last. */
int64_t sm_db_last_insert_id(struct sm_db *db);
/* Rows changed by the last INSERT, UPDATE or DELETE. */
int64_t sm_db_changes(struct sm_db *db);

/* false on an error (sm_db_errmsg says which).  persistent: the statement is
 * kept for the life of the connection and reused (reset after each step). */
bool sm_db_prepare(struct sm_db *db, const char *sql, bool persistent, struct sm_stmt **out);
/* false if the statement's last step failed; NULL is allowed. */
bool sm_stmt_finalize(struct sm_stmt *s);
/* Makes the statement ready to run again; the bindings stay. */
void sm_stmt_reset(struct sm_stmt *s);
/* Unbinds every parameter (NULL). */
void sm_stmt_clear(struct sm_stmt *s);
enum sm_db_step sm_stmt_step(struct sm_stmt *s);

/* Parameters are numbered from 1.  Text is borrowed, not copied: the caller
 * steps and resets (or finalizes) the statement before v goes away.  NULL and ""
 * both bind SQL NULL (the store keeps no empty text). */
void sm_bind_text(struct sm_stmt *s, int i, const char *v);
void sm_bind_int(struct sm_stmt *s, int i, int v);
void sm_bind_int64(struct sm_stmt *s, int i, int64_t v);
void sm_bind_double(struct sm_stmt *s, int i, double v);
void sm_bind_null(struct sm_stmt *s, int i);

/* Columns of the current row, numbered from 0; NULL reads as 0, 0.0 or NULL. */
const char *sm_col_text(struct sm_stmt *s, int i); /* valid until the next step */
int sm_col_int(struct sm_stmt *s, int i);
int64_t sm_col_int64(struct sm_stmt *s, int i);
double sm_col_double(struct sm_stmt *s, int i);
bool sm_col_is_null(struct sm_stmt *s, int i);
int sm_col_count(struct sm_stmt *s);

#endif
