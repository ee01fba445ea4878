/*
 * store_db: the database behind our own types.  The other store files (store.c
 * writes, store_read.c reads, store_schema.c creates) reach a database only
 * through these functions: open, run a script, prepare, bind, step, read
 * columns, last id.  Two backends implement them (src/store_backend.h): SQLite
 * (store_sqlite.c, the only file that includes sqlite3.h), the default, and
 * PostgreSQL (store_pg.c, the only libpq-fe.h), chosen by sm_db_open when the
 * -d string is a postgresql:// or postgres:// URI.  Internal to the store
 * module: not part of include/smaudit/store.h.
 *
 * The callers' SQL is written once, in the subset both understand: "?" and
 * "?N" parameters (store_pg.c numbers them $N, outside string literals), a text
 * parameter tested as "CAST(?N AS TEXT) IS NULL" (PostgreSQL needs its type), "a IS
 * NOT DISTINCT FROM b", no "LIMIT -1", subqueries in FROM named, every column
 * of a GROUP BY grouped or aggregated (no bare columns), dates made in C
 * and bound, ids from sm_db_last_insert_id(), text sorted by its bytes (the
 * PostgreSQL schema gives every text column the "C" collation).  What still
 * differs is said once: the column types and the schema version (store_schema.c,
 * by sm_db_kind), "ORDER BY rowid" of the tables without an id (PostgreSQL:
 * ctid, store_pg.c), and the aggregate sm_latest(state, last_ts, id), the
 * state of a group's session that ended last, which each backend defines.
 */
#ifndef SMAUDIT_STORE_DB_H
#define SMAUDIT_STORE_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "smaudit/err.h"

enum sm_db_kind { SM_DB_SQLITE, SM_DB_POSTGRES };

struct sm_db;   /* one connection, used by one thread at a time */
struct sm_stmt; /* a prepared statement of one connection */

enum sm_db_step {
	SM_DB_ROW,   /* a result row is there to read */
	SM_DB_DONE,  /* the statement has run to its end */
	SM_DB_BUSY,  /* another connection held the lock past the busy wait */
	SM_DB_ERROR, /* anything else: sm_db_errmsg() says what */
};

/* path NULL = an in-memory SQLite database; a PostgreSQL URI connects to that
 * server (an error: "URI: could not connect: ...", the URI without its
 * password).  SQLite: create makes the file if missing.  A
 * reader (!create) without write access gets the file read-only, as it was
 * last committed.  Waits up to 5 s for another process's lock; a file database
 * that can be written is switched to WAL.  *out owned by the caller, freed by
 * sm_db_close (NULL after an error, which names path). */
enum sm_err sm_db_open(struct sm_db **out, const char *path, bool create, struct sm_errbuf *eb);
void sm_db_close(struct sm_db *db);
/* The -d string names a PostgreSQL database: a postgresql:// or postgres:// URI. */
bool sm_db_is_uri(const char *path);
enum sm_db_kind sm_db_kind(const struct sm_db *db);
/* The path named in every error message (":memory:" for an in-memory database,
 * a URI without its password). */
const char *sm_db_path(const struct sm_db *db);
/* Opened read-only: nothing may be written, not even a schema upgrade. */
bool sm_db_readonly(const struct sm_db *db);
/* How long a statement waits for another process's lock (SQLite; PostgreSQL's
 * writers do not lock each other out). */
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
