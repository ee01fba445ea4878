/*
 * store_open: which backend a -d string names (a postgresql:// or postgres://
 * URI is PostgreSQL, anything else an SQLite file) and opening it.  Apart from
 * store_db.c so that the shared layer calls no backend: store.c -> store_open.c
 * -> store_<backend>.c -> store_db.c.
 */
#include "store_backend.h"

#include <string.h>

bool
sm_db_is_uri(const char *path)
{
	return path != NULL &&
	       (strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0);
}

enum sm_err
sm_db_open(struct sm_db **out, const char *path, bool create, struct sm_errbuf *eb)
{
	*out = NULL;
	if (sm_db_is_uri(path))
		return sm_pg_open(out, path, eb);
	return sm_sqlite_open(out, path, create, eb);
}
