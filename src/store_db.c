/*
 * store_db: what the backends of src/store_db.h share.  Keeps the parameters
 * bound to a statement until it runs, words the errors, and passes everything
 * else to the backend's functions (src/store_backend.h), which use it too; the
 * backend is chosen in store_open.c.  No SQL and no database header of its own.
 */
#include "store_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Copies one piece of name, [from, to), into path at *o. */
static void
shown_copy(char *path, size_t len, size_t *o, const char *from, const char *to)
{
	for (; from < to && *o + 1 < len; from++)
		path[(*o)++] = *from;
	path[*o] = '\0';
}

/* "postgresql://USER:PASSWORD@HOST/DB?password=P&..." is shown without either
 * password: an error message or a report may be pasted anywhere. */
void
sm_db_shown_name(char *path, size_t len, const char *name)
{
	size_t o = 0;
	path[0] = '\0';
	const char *auth = strstr(name, "://") + 3;
	const char *end = auth + strcspn(auth, "/?");
	const char *at = NULL;
	for (const char *c = auth; c < end; c++)
		if (*c == '@')
			at = c;
	const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	shown_copy(path, len, &o, name, colon ? colon : end);
	if (colon != NULL)
		shown_copy(path, len, &o, at, end);
	/* the path and each parameter, from its '/', '?' or '&' to the next */
	for (const char *p = end; *p != '\0';) {
		const char *next = p + 1 + strcspn(p + 1, "?&");
		if (*p != '/' && strncmp(p + 1, "password=", 9) == 0)
			shown_copy(path, len, &o, p, p + 1); /* "?" or "&" alone */
		else
			shown_copy(path, len, &o, p, next);
		p = next;
	}
}

void
sm_db_close(struct sm_db *db)
{
	if (db != NULL)
		db->ops->close(db);
}

enum sm_db_kind
sm_db_kind(const struct sm_db *db)
{
	return db->kind;
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
	db->ops->busy_timeout(db, ms);
}

const char *
sm_db_errmsg(struct sm_db *db)
{
	return db->ops->errmsg(db);
}

enum sm_err
sm_db_fail(struct sm_db *db, struct sm_errbuf *eb, const char *what)
{
	return sm_error(eb, SM_ERR_DB, "%s: database error while %s: %s", db->path, what,
	                db->ops->errmsg(db));
}

enum sm_err
sm_db_exec(struct sm_db *db, const char *sql, const char *what, struct sm_errbuf *eb)
{
	char *msg = NULL;
	if (db->ops->exec(db, sql, &msg))
		return SM_OK;
	enum sm_err e = sm_error(eb, SM_ERR_DB, "%s: database error while %s: %s", db->path,
	                         what ? what : "", msg ? msg : db->ops->errmsg(db));
	free(msg);
	return e;
}

bool
sm_db_in_transaction(struct sm_db *db)
{
	return db->ops->in_transaction(db);
}

int64_t
sm_db_last_insert_id(struct sm_db *db)
{
	return db->ops->last_insert_id(db);
}

int64_t
sm_db_changes(struct sm_db *db)
{
	return db->ops->changes(db);
}

bool
sm_db_prepare(struct sm_db *db, const char *sql, bool persistent, struct sm_stmt **out)
{
	*out = db->ops->prepare(db, sql, persistent);
	if (*out == NULL)
		return false;
	(*out)->db = db;
	return true;
}

bool
sm_stmt_finalize(struct sm_stmt *s)
{
	return s == NULL || s->db->ops->finalize(s);
}

void
sm_stmt_reset(struct sm_stmt *s)
{
	s->db->ops->reset(s);
}

void
sm_stmt_clear(struct sm_stmt *s)
{
	for (int i = 0; i < SM_DB_MAX_PARAMS; i++)
		s->p[i].type = SM_P_NULL;
}

enum sm_db_step
sm_stmt_step(struct sm_stmt *s)
{
	return s->db->ops->step(s);
}

/* Sets parameter i (from 1) to v; past the last one a statement can take, nothing.
 * A backend reads only the field of v's type. */
static void
set_param(struct sm_stmt *s, int i, struct sm_param v)
{
	if (i >= 1 && i <= SM_DB_MAX_PARAMS)
		s->p[i - 1] = v;
}

void
sm_bind_text(struct sm_stmt *s, int i, const char *v)
{
	enum sm_param_type type = v == NULL || *v == '\0' ? SM_P_NULL : SM_P_TEXT;
	set_param(s, i, (struct sm_param){.type = type, .t = v});
}

void
sm_bind_int(struct sm_stmt *s, int i, int v)
{
	sm_bind_int64(s, i, v);
}

void
sm_bind_int64(struct sm_stmt *s, int i, int64_t v)
{
	set_param(s, i, (struct sm_param){.type = SM_P_INT, .i = v});
}

void
sm_bind_double(struct sm_stmt *s, int i, double v)
{
	set_param(s, i, (struct sm_param){.type = SM_P_DOUBLE, .d = v});
}

void
sm_bind_null(struct sm_stmt *s, int i)
{
	set_param(s, i, (struct sm_param){.type = SM_P_NULL});
}

const char *
sm_col_text(struct sm_stmt *s, int i)
{
	return s->db->ops->col_text(s, i);
}

int
sm_col_int(struct sm_stmt *s, int i)
{
	return (int)s->db->ops->col_int64(s, i);
}

int64_t
sm_col_int64(struct sm_stmt *s, int i)
{
	return s->db->ops->col_int64(s, i);
}

double
sm_col_double(struct sm_stmt *s, int i)
{
	return s->db->ops->col_double(s, i);
}

bool
sm_col_is_null(struct sm_stmt *s, int i)
{
	return s->db->ops->col_is_null(s, i);
}

int
sm_col_count(struct sm_stmt *s)
{
	return s->db->ops->col_count(s);
}
