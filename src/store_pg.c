/*
 * store_pg: the PostgreSQL backend of src/store_db.h, the only file that
 * includes libpq-fe.h.  The callers' SQL is the same as on SQLite (store_db.h);
 * here "?" and "?N" become "$N" and "rowid" becomes "ctid", outside string
 * literals and quoted names.  Values go as text with their type (bigint,
 * double precision, text); a result is read whole into memory and stepped
 * through row by row.  A persistent statement is prepared on the server once,
 * at its first step; ids come from the session's own sequence value (lastval()),
 * so several writers at once never share one.
 */
#include "store_backend.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The types of pg_type that values are sent as (catalog/pg_type_d.h). */
#define OID_INT8   20
#define OID_TEXT   25
#define OID_FLOAT8 701

struct pg_db {
	struct sm_db base;
	PGconn *conn;
	char err[512];
	int64_t changes;
	unsigned names; /* of the statements prepared on the server */
};

struct pg_stmt {
	struct sm_stmt base;
	char *sql;     /* in PostgreSQL's spelling */
	char name[24]; /* persistent: the server's name for it, "" until prepared */
	bool persistent;
	PGresult *res; /* of the last run, NULL before it */
	int row;       /* the current row of res */
};

static struct pg_db *
pg(struct sm_db *db)
{
	return (struct pg_db *)(void *)db;
}

static struct pg_stmt *
ps(struct sm_stmt *s)
{
	return (struct pg_stmt *)(void *)s;
}

static const struct sm_db_ops pg_ops;

/* Keeps the server's message, on one line, for sm_db_errmsg(). */
static void
set_err(struct pg_db *db, const char *msg)
{
	sm_strlcpy(db->err, msg && *msg ? msg : "unknown error", sizeof(db->err));
	db->err[strcspn(db->err, "\n")] = '\0';
}

/* NOTICEs (e.g. "relation already exists, skipping") are not for the user. */
static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

enum sm_err
sm_pg_open(struct sm_db **out, const char *uri, struct sm_errbuf *eb)
{
	struct pg_db *db = calloc(1, sizeof(*db));
	if (db == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	db->base.ops = &pg_ops;
	db->base.kind = SM_DB_POSTGRES;
	sm_db_shown_name(db->base.path, sizeof(db->base.path), uri);
	db->conn = PQconnectdb(uri);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		set_err(db, db->conn ? PQerrorMessage(db->conn) : "out of memory");
		enum sm_err e =
		    sm_error(eb, SM_ERR_DB, "%s: could not connect: %s", db->base.path, db->err);
		sm_db_close(&db->base);
		return e;
	}
	PQsetNoticeProcessor(db->conn, quiet, NULL);
	*out = &db->base;
	return SM_OK;
}

static void
pg_close(struct sm_db *db)
{
	PQfinish(pg(db)->conn);
	free(db);
}

static const char *
pg_errmsg(struct sm_db *db)
{
	return pg(db)->err;
}

static void
pg_busy_timeout(struct sm_db *db, int ms)
{
	(void)db;
	(void)ms;
}

/* The result of a command: true if it ran; the rows it changed are kept. */
static bool
result_ok(struct pg_db *db, PGresult *r)
{
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		db->changes = strtoll(PQcmdTuples(r), NULL, 10);
		return true;
	}
	set_err(db, r ? PQresultErrorMessage(r) : PQerrorMessage(db->conn));
	return false;
}

static bool
pg_exec(struct sm_db *db, const char *sql, char **msg)
{
	(void)msg; /* the message is kept for sm_db_errmsg() */
	PGresult *r = PQexec(pg(db)->conn, sql);
	bool ok = result_ok(pg(db), r);
	PQclear(r);
	return ok;
}

static bool
pg_in_transaction(struct sm_db *db)
{
	return PQtransactionStatus(pg(db)->conn) != PQTRANS_IDLE;
}

/* The value the connection's last insert took from a sequence: no other
 * writer's. */
static int64_t
pg_last_insert_id(struct sm_db *db)
{
	PGresult *r = PQexec(pg(db)->conn, "SELECT lastval()");
	int64_t id = 0;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return id;
}

static int64_t
pg_changes(struct sm_db *db)
{
	return pg(db)->changes;
}

static bool
name_char(char c)
{
	return c == '_' || c == '.' || (c >= '0' && c <= '9') ||
	       ((c | 32) >= 'a' && (c | 32) <= 'z');
}

/* sql in PostgreSQL's spelling: "?N" is "$N", a bare "?" the next number after
 * the highest so far (as SQLite counts), "rowid" is "ctid"; string literals
 * and quoted names are copied as they are.  *nparams: the highest number. */
static char *
translate(const char *sql, int *nparams)
{
	size_t len = strlen(sql);
	char *out = malloc(len * 3 + 1); /* "?" -> "$NN" at most */
	if (out == NULL)
		return NULL;
	size_t o = 0;
	int high = 0;
	for (const char *c = sql; *c;) {
		if (*c == '\'' || *c == '"') {
			const char *end = strchr(c + 1, *c);
			size_t n = end ? (size_t)(end - c) + 1 : strlen(c);
			memcpy(out + o, c, n);
			o += n;
			c += n;
		} else if (*c == '?') {
			int n = 0;
			for (c++; *c >= '0' && *c <= '9'; c++)
				n = n * 10 + (*c - '0');
			if (n == 0)
				n = high + 1;
			if (n > high)
				high = n;
			o += (size_t)sprintf(out + o, "$%d", n);
		} else if (strncmp(c, "rowid", 5) == 0 && (c == sql || !name_char(c[-1])) &&
		           !name_char(c[5])) {
			memcpy(out + o, "ctid", 4);
			o += 4;
			c += 5;
		} else
			out[o++] = *c++;
	}
	out[o] = '\0';
	*nparams = high;
	return out;
}

static struct sm_stmt *
pg_prepare(struct sm_db *db, const char *sql, bool persistent)
{
	struct pg_stmt *s = calloc(1, sizeof(*s));
	if (s == NULL || (s->sql = translate(sql, &s->base.nparams)) == NULL) {
		set_err(pg(db), "out of memory");
		free(s);
		return NULL;
	}
	if (s->base.nparams > SM_DB_MAX_PARAMS) {
		set_err(pg(db), "too many parameters");
		free(s->sql);
		free(s);
		return NULL;
	}
	s->persistent = persistent;
	return &s->base;
}

static bool
pg_finalize(struct sm_stmt *s)
{
	struct pg_stmt *p = ps(s);
	if (p->name[0] != '\0') {
		char sql[64];
		snprintf(sql, sizeof(sql), "DEALLOCATE %s", p->name);
		PQclear(PQexec(pg(s->db)->conn, sql));
	}
	PQclear(p->res);
	free(p->sql);
	free(p);
	return true;
}

static void
pg_reset(struct sm_stmt *s)
{
	PQclear(ps(s)->res);
	ps(s)->res = NULL;
}

/* Runs the statement with its bound values, as text of their type. */
static PGresult *
run(struct pg_stmt *s)
{
	struct pg_db *db = pg(s->base.db);
	int n = s->base.nparams;
	const char *values[SM_DB_MAX_PARAMS];
	Oid types[SM_DB_MAX_PARAMS];
	char num[SM_DB_MAX_PARAMS][32];
	for (int i = 0; i < n; i++) {
		const struct sm_param *p = &s->base.p[i];
		types[i] = 0; /* NULL: the server infers the type */
		values[i] = NULL;
		if (p->type == SM_P_INT) {
			types[i] = OID_INT8;
			snprintf(num[i], sizeof(num[i]), "%lld", (long long)p->i);
			values[i] = num[i];
		} else if (p->type == SM_P_DOUBLE) {
			types[i] = OID_FLOAT8;
			snprintf(num[i], sizeof(num[i]), "%.17g", p->d);
			values[i] = num[i];
		} else if (p->type == SM_P_TEXT) {
			types[i] = OID_TEXT;
			values[i] = p->t;
		}
	}
	if (!s->persistent)
		return PQexecParams(db->conn, s->sql, n, types, values, NULL, NULL, 0);
	if (s->name[0] == '\0') {
		char name[sizeof(s->name)];
		snprintf(name, sizeof(name), "sm_%u", ++db->names);
		PGresult *r = PQprepare(db->conn, name, s->sql, n, types);
		bool ok = result_ok(db, r);
		PQclear(r);
		if (!ok)
			return NULL;
		sm_strlcpy(s->name, name, sizeof(s->name));
	}
	return PQexecPrepared(db->conn, s->name, n, values, NULL, NULL, 0);
}

static enum sm_db_step
pg_step(struct sm_stmt *s)
{
	struct pg_stmt *p = ps(s);
	if (p->res == NULL) {
		p->res = run(p);
		if (p->res == NULL || !result_ok(pg(s->db), p->res)) {
			PQclear(p->res);
			p->res = NULL;
			return SM_DB_ERROR;
		}
		p->row = -1;
	}
	if (PQresultStatus(p->res) != PGRES_TUPLES_OK || ++p->row >= PQntuples(p->res))
		return SM_DB_DONE;
	return SM_DB_ROW;
}

/* The current row's column i, NULL if SQL NULL or out of range. */
static const char *
value(struct sm_stmt *s, int i)
{
	struct pg_stmt *p = ps(s);
	if (p->res == NULL || p->row < 0 || p->row >= PQntuples(p->res) || i < 0 ||
	    i >= PQnfields(p->res) || PQgetisnull(p->res, p->row, i))
		return NULL;
	return PQgetvalue(p->res, p->row, i);
}

static const char *
pg_col_text(struct sm_stmt *s, int i)
{
	return value(s, i);
}

/* An integer column, or a number with a fraction read as SQLite does: truncated. */
static int64_t
pg_col_int64(struct sm_stmt *s, int i)
{
	const char *v = value(s, i);
	if (v == NULL)
		return 0;
	if (v[strcspn(v, ".eEnN")] != '\0')
		return (int64_t)strtod(v, NULL);
	return strtoll(v, NULL, 10);
}

static double
pg_col_double(struct sm_stmt *s, int i)
{
	const char *v = value(s, i);
	return v ? strtod(v, NULL) : 0.0;
}

static bool
pg_col_is_null(struct sm_stmt *s, int i)
{
	return value(s, i) == NULL;
}

static int
pg_col_count(struct sm_stmt *s)
{
	return ps(s)->res ? PQnfields(ps(s)->res) : 0;
}

static const struct sm_db_ops pg_ops = {
    .close = pg_close,
    .errmsg = pg_errmsg,
    .exec = pg_exec,
    .in_transaction = pg_in_transaction,
    .last_insert_id = pg_last_insert_id,
    .changes = pg_changes,
    .busy_timeout = pg_busy_timeout,
    .prepare = pg_prepare,
    .finalize = pg_finalize,
    .reset = pg_reset,
    .step = pg_step,
    .col_text = pg_col_text,
    .col_int64 = pg_col_int64,
    .col_double = pg_col_double,
    .col_is_null = pg_col_is_null,
    .col_count = pg_col_count,
};
