/*
 * store_backend: what a database backend implements behind src/store_db.h.
 * store_db.c holds what both share (choosing the backend from the -d string,
 * the parameters bound to a statement, the wording of errors); a backend
 * (store_sqlite.c, the only sqlite3.h; store_pg.c, the only libpq-fe.h) runs
 * statements and reads their columns.  Internal to the store module.
 */
#ifndef SMAUDIT_STORE_BACKEND_H
#define SMAUDIT_STORE_BACKEND_H

#include "store_db.h"

/* The most parameters one statement takes (a session row has 43). */
#define SM_DB_MAX_PARAMS 64

enum sm_param_type { SM_P_NULL, SM_P_INT, SM_P_DOUBLE, SM_P_TEXT };

/* A bound value, kept until the statement runs: a backend passes them on at
 * its first step after a reset. */
struct sm_param {
	enum sm_param_type type;
	int64_t i;
	double d;
	const char *t; /* borrowed, see sm_bind_text */
};

struct sm_db_ops {
	void (*close)(struct sm_db *db);
	const char *(*errmsg)(struct sm_db *db);
	/* false on an error; *msg (malloc'd, may stay NULL) says why */
	bool (*exec)(struct sm_db *db, const char *sql, char **msg);
	bool (*in_transaction)(struct sm_db *db);
	int64_t (*last_insert_id)(struct sm_db *db);
	int64_t (*changes)(struct sm_db *db);
	void (*busy_timeout)(struct sm_db *db, int ms);
	struct sm_stmt *(*prepare)(struct sm_db *db, const char *sql, bool persistent);
	bool (*finalize)(struct sm_stmt *s);
	void (*reset)(struct sm_stmt *s);
	enum sm_db_step (*step)(struct sm_stmt *s);
	const char *(*col_text)(struct sm_stmt *s, int i);
	int64_t (*col_int64)(struct sm_stmt *s, int i);
	double (*col_double)(struct sm_stmt *s, int i);
	bool (*col_is_null)(struct sm_stmt *s, int i);
	int (*col_count)(struct sm_stmt *s);
};

/* The head of every backend's connection. */
struct sm_db {
	const struct sm_db_ops *ops;
	enum sm_db_kind kind;
	bool readonly;
	char path[1024]; /* named in every error message (no password in it) */
};

/* The head of every backend's statement. */
struct sm_stmt {
	struct sm_db *db;
	int nparams; /* the highest parameter number the SQL uses */
	struct sm_param p[SM_DB_MAX_PARAMS];
};

/* The backends' openers: *out is set on success; an error names db->path,
 * which sm_db_open filled in. */
enum sm_err sm_sqlite_open(struct sm_db **out, const char *path, bool create, struct sm_errbuf *eb);
enum sm_err sm_pg_open(struct sm_db **out, const char *uri, struct sm_errbuf *eb);

/* Copies what names the database into path: a URI without its password. */
void sm_db_shown_name(char *path, size_t len, const char *name);

#endif
