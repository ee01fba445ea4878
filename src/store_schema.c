/*
 * store_schema: the tables of docs/schema.md, written once (SCHEMA) for both
 * backends, which spell four column types each their own way.  An SQLite file
 * is created and upgraded one step per schema version (PRAGMA user_version), so
 * every file a past smaudit wrote can still be read; a PostgreSQL database is
 * created at the current version, kept in the table schema_version.
 */
#include <stdio.h>

#include "store_int.h"

/* Step 1 creates the tables of version 1, step N upgrades version N-1 to N.
 * ID is an id given by the database, INT a 64-bit integer, REAL a double, TEXT
 * text compared by its bytes. */
/* clang-format off: one line per table, the types are the macro's arguments */
/* the schema reads as a table, one step per version */
// clang-format off
#define SCHEMA(ID, INT, REAL, TEXT) {                                                              \
    [1] = "CREATE TABLE runs(id " ID ", started " TEXT ", finished " TEXT ", mode " TEXT ","    \
          " sources " TEXT ", packets " INT ", bytes " INT ", dropped " INT ", status " TEXT "," \
          " first_ts " REAL ", last_ts " REAL ", sessions " INT ", undecoded " INT ","          \
          " evicted " INT ", read_errors " INT ", site " TEXT ", rules " TEXT ");"               \
          "CREATE TABLE run_sources(run_id " INT ", idx " INT ", path " TEXT ","                 \
          " packets " INT ", bytes " INT ", error " TEXT ");"                                    \
          "CREATE TABLE run_counters(run_id " INT ", name " TEXT ", value " INT ");"             \
          "CREATE TABLE sessions(id " ID ", run_id " INT ", proto " TEXT ", src " TEXT ","       \
          " sport " INT ", dst " TEXT ", dport " INT ", vlan " INT ", first_ts " REAL ","        \
          " last_ts " REAL ", state " TEXT ", pkts_fwd " INT ", pkts_rev " INT ","               \
          " bytes_fwd " INT ", bytes_rev " INT ", class " TEXT ", rule " TEXT ","                \
          " inner_vlan " INT ", history " TEXT ", established " INT ", syn_count " INT ","       \
          " rst_from " TEXT ", rst_ttl " INT ", icmp_errors " INT ", icmp_err_type " INT ","     \
          " icmp_err_code " INT ", icmp_err_from " TEXT ", icmp_err_ttl " INT ","                \
          " ttl_fwd " INT ", ttl_rev " INT ", tunnel " TEXT ", outer_src " TEXT ","              \
          " outer_dst " TEXT ", source " TEXT ", src_role " TEXT ", dst_role " TEXT ","          \
          " app " TEXT ");"                                                                      \
          "CREATE INDEX sessions_run ON sessions(run_id, class);"                                \
          "CREATE TABLE findings(id " ID ", run_id " INT ", kind " TEXT ", severity " TEXT ","   \
          " rule " TEXT ", proto " TEXT ", src " TEXT ", dst " TEXT ", port " INT ","            \
          " verdict " TEXT ", detail " TEXT ");"                                                 \
          "CREATE TABLE expected(id " ID ", run_id " INT ", rule " TEXT ", kind " TEXT ","       \
          " proto " TEXT ", port " INT ", src_role " TEXT ", dst_role " TEXT ", src " TEXT ","   \
          " dst " TEXT ", verdict " TEXT ", sessions " INT ", failed " INT ","                   \
          " first_ts " REAL ", last_ts " REAL ", purpose " TEXT ", detail " TEXT ","             \
          " hint_src " TEXT ", hint_dst " TEXT ");"                                              \
          "CREATE TABLE role_coverage(run_id " INT ", role " TEXT ", member " TEXT ","            \
          " seen " INT ");",                                                                     \
    [2] = "ALTER TABLE sessions ADD COLUMN open " INT " NOT NULL DEFAULT 0;"                      \
          "CREATE INDEX sessions_open ON sessions(run_id) WHERE open = 1;",                      \
    [3] = "ALTER TABLE sessions ADD COLUMN app_detail " TEXT ";"                                 \
          "ALTER TABLE sessions ADD COLUMN missed_bytes " INT ";"                                \
          "ALTER TABLE runs ADD COLUMN missed_bytes " INT " NOT NULL DEFAULT 0;"                 \
          "ALTER TABLE runs ADD COLUMN gap_sessions " INT " NOT NULL DEFAULT 0;",                \
    [4] = "ALTER TABLE sessions ADD COLUMN idle_from " REAL ";"                                  \
          "ALTER TABLE sessions ADD COLUMN idle_max " REAL ";"                                   \
          "CREATE TABLE evidence(id " ID ", run_id " INT ", finding_id " INT ","                 \
          " session_id " INT ", path " TEXT ", sha256 " TEXT ", packets " INT ","                \
          " bytes " INT ", created " TEXT ");",                                                  \
    [5] = "ALTER TABLE expected ADD COLUMN finding_id " INT ";"                                  \
          "ALTER TABLE run_sources ADD COLUMN given " TEXT ";"                                   \
          "ALTER TABLE runs ADD COLUMN pid " INT ";"                                             \
          "ALTER TABLE runs ADD COLUMN host " TEXT ";"                                           \
          "ALTER TABLE runs ADD COLUMN heartbeat " TEXT ";"                                      \
          "ALTER TABLE runs ADD COLUMN filter " TEXT ";"                                         \
          "ALTER TABLE runs ADD COLUMN strict " INT " NOT NULL DEFAULT 0;",                      \
    [6] = "ALTER TABLE sessions ADD COLUMN uid " INT ";"                                         \
          "ALTER TABLE sessions ADD COLUMN tunnel_parent " INT ";",                              \
    /* the unexpected traffic is grouped (and looked up by its finding) by walking             \
     * these indexes, never by sorting a run's sessions in memory */                           \
    [7] = "CREATE INDEX sessions_unexpected ON sessions(run_id, proto, src, dst,"                \
          " (" STORE_UNEXPECTED_PORT("") ")) WHERE class = " SM_SQL_NAME(SM_CLASS_UNEXPECTED_NAME) ";"                       \
          "CREATE INDEX findings_unexpected ON findings(run_id, proto, src, dst, port)"          \
          " WHERE kind = " SM_SQL_NAME(SM_FK_UNEXPECTED_NAME) ";",                                                         \
    /* several capture points (sensors): what each saw of every session, and where a           \
     * failing expected flow's packets stopped */                                              \
    [8] = "CREATE TABLE sensors(run_id " INT ", idx " INT ", name " TEXT ","                     \
          " clock_offset " REAL ", clock_spread " REAL ", clock_matched " INT ","                \
          " clock_known " INT ", packets " INT ");"                                              \
          "CREATE TABLE sightings(run_id " INT ", session_id " INT ", sensor " TEXT ","          \
          " dir " TEXT ", packets " INT ", bytes " INT ", first_ts " REAL ", last_ts " REAL ","  \
          " ttl_min " INT ", ttl_max " INT ");"                                                  \
          "CREATE INDEX sightings_session ON sightings(session_id);"                             \
          "ALTER TABLE expected ADD COLUMN path " TEXT ";"                                       \
          "ALTER TABLE expected ADD COLUMN lost_between " TEXT ";",                              \
}
// clang-format on
/* clang-format on */

static const char *const lite_steps[] = SCHEMA("INTEGER PRIMARY KEY", "INTEGER", "REAL", "TEXT");
static const char *const pg_steps[] = SCHEMA("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
                                             "BIGINT", "DOUBLE PRECISION", "TEXT COLLATE \"C\"");

/* What else differs between the backends' schemas. */
struct dialect {
	const char *const *steps;
	const char *tables;  /* counts the tables of the database */
	const char *version; /* reads the schema version */
	const char *lock;    /* begins the transaction that creates or upgrades */
	const char *set;     /* records the version, which follows it */
	const char *created; /* run once after the last step of a new database */
	const char *what;    /* "SQLite file", named when a database is not ours */
};

static const struct dialect dialects[] = {
    [SM_DB_SQLITE] = {lite_steps, "SELECT count(*) FROM sqlite_master", "PRAGMA user_version",
                      "BEGIN IMMEDIATE", "PRAGMA user_version = ", "", "SQLite file"},
    /* sm_latest(state, last_ts, id): the state of the row with the latest
     * last_ts, the highest id among equals (store_db.h) */
    [SM_DB_POSTGRES] =
        {pg_steps,
         "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
         "SELECT max(version) FROM schema_version",
         /* two writers creating the same new database take turns */
         "BEGIN; SELECT pg_advisory_xact_lock(20260020)", "UPDATE schema_version SET version = ",
         "CREATE TABLE schema_version(version INTEGER);"
         "INSERT INTO schema_version VALUES (1);"
         "CREATE TYPE sm_latest_t AS (state TEXT, ts DOUBLE PRECISION, id BIGINT);"
         "CREATE FUNCTION sm_latest_step(sm_latest_t, TEXT, DOUBLE PRECISION, BIGINT)"
         " RETURNS sm_latest_t LANGUAGE sql IMMUTABLE AS 'SELECT CASE WHEN $1 IS NULL"
         " OR ($3, $4) > (($1).ts, ($1).id) THEN ROW($2, $3, $4)::sm_latest_t ELSE $1 END';"
         "CREATE FUNCTION sm_latest_final(sm_latest_t) RETURNS TEXT LANGUAGE sql IMMUTABLE"
         " AS 'SELECT ($1).state';"
         "CREATE AGGREGATE sm_latest(TEXT, DOUBLE PRECISION, BIGINT) (SFUNC = sm_latest_step,"
         " STYPE = sm_latest_t, FINALFUNC = sm_latest_final);",
         "database"},
};

/* One number the database answers, or -1 on an error. */
static int
read_int(struct sm_db *db, const char *sql)
{
	struct sm_stmt *q;
	int v = -1;
	if (sm_db_prepare(db, sql, false, &q) && sm_stmt_step(q) == SM_DB_ROW)
		v = sm_col_int(q, 0);
	if (!sm_stmt_finalize(q))
		v = -1;
	return v;
}

/* Runs step v of the schema and records the version it makes. */
static enum sm_err
step_to(struct sm_db *db, const struct dialect *d, int v, struct sm_errbuf *eb)
{
	char set[64];
	snprintf(set, sizeof(set), "%s%d", d->set, v);
	enum sm_err e = sm_db_exec(db, d->steps[v], "upgrading the schema", eb);
	if (e == SM_OK && v == 1)
		e = sm_db_exec(db, d->created, "creating the schema", eb);
	if (e == SM_OK)
		e = sm_db_exec(db, set, "upgrading the schema", eb);
	return e;
}

/*
 * Reads the schema version and creates or upgrades the schema, all in one
 * transaction that writers take in turn: two processes creating the same new
 * database at once take turns (the busy wait of sm_db_open, PostgreSQL's
 * advisory lock), and the second finds the schema the first committed.
 */
static enum sm_err
check_schema_locked(struct sm_db *db, struct sm_errbuf *eb)
{
	const struct dialect *d = &dialects[sm_db_kind(db)];
	int tables = read_int(db, d->tables);
	if (tables < 0)
		return sm_db_fail(db, eb, "reading the schema (is this an smaudit database?)");
	int version = tables == 0 ? 0 : read_int(db, d->version);
	if (version <= 0 && tables > 0)
		return sm_error(eb, SM_ERR_DB,
		                "%s: this %s was not written by smaudit (no schema version)",
		                sm_db_path(db), d->what);
	if (version > SM_SCHEMA_VERSION)
		return sm_error(
		    eb, SM_ERR_DB,
		    "%s: database schema version %d is newer than this smaudit understands "
		    "(%d): upgrade smaudit",
		    sm_db_path(db), version, SM_SCHEMA_VERSION);
	enum sm_err e = SM_OK;
	for (int v = version + 1; e == SM_OK && v <= SM_SCHEMA_VERSION; v++)
		e = step_to(db, d, v, eb);
	return e;
}

enum sm_err
store_check_schema(struct sm_db *db, struct sm_errbuf *eb)
{
	if (sm_db_readonly(db)) /* changes nothing: a reader only checks the version */
		return check_schema_locked(db, eb);
	/* up to date: no write lock taken (a live run may be writing the database) */
	const struct dialect *d = &dialects[sm_db_kind(db)];
	if (read_int(db, d->version) == SM_SCHEMA_VERSION)
		return SM_OK;
	enum sm_err e = sm_db_exec(db, d->lock, "reading the schema", eb);
	if (e != SM_OK)
		return e;
	e = check_schema_locked(db, eb);
	if (e == SM_OK)
		e = sm_db_exec(db, "COMMIT", "creating the schema", eb);
	if (e != SM_OK)
		sm_db_exec(db, "ROLLBACK", NULL, NULL);
	return e;
}
