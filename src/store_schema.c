/*
 * store_schema: the tables of docs/schema.md.  Creates them in a new database
 * and upgrades an older one, one migration per schema version (PRAGMA
 * user_version), so every file a past smaudit wrote can still be read.  The SQL
 * is SQLite's (see src/store_db.h).
 */
#include "store_int.h"

static const char *const schema_v1 =
    "CREATE TABLE runs(id INTEGER PRIMARY KEY, started TEXT, finished TEXT, mode TEXT,"
    " sources TEXT, packets INTEGER, bytes INTEGER, dropped INTEGER, status TEXT,"
    " first_ts REAL, last_ts REAL, sessions INTEGER, undecoded INTEGER, evicted INTEGER,"
    " read_errors INTEGER, site TEXT, rules TEXT);"
    "CREATE TABLE run_sources(run_id INTEGER, idx INTEGER, path TEXT, packets INTEGER,"
    " bytes INTEGER, error TEXT);"
    "CREATE TABLE run_counters(run_id INTEGER, name TEXT, value INTEGER);"
    "CREATE TABLE sessions(id INTEGER PRIMARY KEY, run_id INTEGER, proto TEXT, src TEXT,"
    " sport INTEGER, dst TEXT, dport INTEGER, vlan INTEGER, first_ts REAL, last_ts REAL,"
    " state TEXT, pkts_fwd INTEGER, pkts_rev INTEGER, bytes_fwd INTEGER, bytes_rev INTEGER,"
    " class TEXT, rule TEXT, inner_vlan INTEGER, history TEXT, established INTEGER,"
    " syn_count INTEGER, rst_from TEXT, rst_ttl INTEGER, icmp_errors INTEGER,"
    " icmp_err_type INTEGER, icmp_err_code INTEGER, icmp_err_from TEXT, icmp_err_ttl INTEGER,"
    " ttl_fwd INTEGER, ttl_rev INTEGER, tunnel TEXT, outer_src TEXT, outer_dst TEXT,"
    " source TEXT, src_role TEXT, dst_role TEXT, app TEXT);"
    "CREATE INDEX sessions_run ON sessions(run_id, class);"
    "CREATE TABLE findings(id INTEGER PRIMARY KEY, run_id INTEGER, kind TEXT, severity TEXT,"
    " rule TEXT, proto TEXT, src TEXT, dst TEXT, port INTEGER, verdict TEXT, detail TEXT);"
    "CREATE TABLE expected(id INTEGER PRIMARY KEY, run_id INTEGER, rule TEXT, kind TEXT,"
    " proto TEXT, port INTEGER, src_role TEXT, dst_role TEXT, src TEXT, dst TEXT,"
    " verdict TEXT, sessions INTEGER, failed INTEGER, first_ts REAL, last_ts REAL,"
    " purpose TEXT, detail TEXT, hint_src TEXT, hint_dst TEXT);"
    "CREATE TABLE role_coverage(run_id INTEGER, role TEXT, member TEXT, seen INTEGER);"
    "PRAGMA user_version = 1;";

/* Upgrades from version N-1 to N, applied in order to older databases. */
static const char *const migrations[] = {
    [2] = "ALTER TABLE sessions ADD COLUMN open INTEGER NOT NULL DEFAULT 0;"
          "CREATE INDEX sessions_open ON sessions(run_id) WHERE open = 1;"
          "PRAGMA user_version = 2;",
    [3] = "ALTER TABLE sessions ADD COLUMN app_detail TEXT;"
          "ALTER TABLE sessions ADD COLUMN missed_bytes INTEGER;"
          "ALTER TABLE runs ADD COLUMN missed_bytes INTEGER NOT NULL DEFAULT 0;"
          "ALTER TABLE runs ADD COLUMN gap_sessions INTEGER NOT NULL DEFAULT 0;"
          "PRAGMA user_version = 3;",
    [4] = "ALTER TABLE sessions ADD COLUMN idle_from REAL;"
          "ALTER TABLE sessions ADD COLUMN idle_max REAL;"
          "CREATE TABLE evidence(id INTEGER PRIMARY KEY, run_id INTEGER, finding_id INTEGER,"
          " session_id INTEGER, path TEXT, sha256 TEXT, packets INTEGER, bytes INTEGER,"
          " created TEXT);"
          "PRAGMA user_version = 4;",
    [5] = "ALTER TABLE expected ADD COLUMN finding_id INTEGER;"
          "ALTER TABLE run_sources ADD COLUMN given TEXT;"
          "ALTER TABLE runs ADD COLUMN pid INTEGER;"
          "ALTER TABLE runs ADD COLUMN host TEXT;"
          "ALTER TABLE runs ADD COLUMN heartbeat TEXT;"
          "ALTER TABLE runs ADD COLUMN filter TEXT;"
          "ALTER TABLE runs ADD COLUMN strict INTEGER NOT NULL DEFAULT 0;"
          "PRAGMA user_version = 5;",
    [6] = "ALTER TABLE sessions ADD COLUMN uid INTEGER;"
          "ALTER TABLE sessions ADD COLUMN tunnel_parent INTEGER;"
          "PRAGMA user_version = 6;",
    /* the unexpected traffic is grouped (and looked up by its finding) by walking
     * these indexes, never by sorting a run's sessions in memory */
    [7] = "CREATE INDEX sessions_unexpected ON sessions(run_id, proto, src, dst,"
          " (" STORE_UNEXPECTED_PORT(
              "") "))"
                  " WHERE class = 'unexpected';"
                  "CREATE INDEX findings_unexpected ON findings(run_id, proto, src, dst, port)"
                  " WHERE kind = 'unexpected';"
                  "PRAGMA user_version = 7;",
    /* several capture points (sensors): what each saw of every session, and where a
     * failing expected flow's packets stopped */
    [8] = "CREATE TABLE sensors(run_id INTEGER, idx INTEGER, name TEXT, clock_offset REAL,"
          " clock_spread REAL, clock_matched INTEGER, clock_known INTEGER, packets INTEGER);"
          "CREATE TABLE sightings(run_id INTEGER, session_id INTEGER, sensor TEXT, dir TEXT,"
          " packets INTEGER, bytes INTEGER, first_ts REAL, last_ts REAL, ttl_min INTEGER,"
          " ttl_max INTEGER);"
          "CREATE INDEX sightings_session ON sightings(session_id);"
          "ALTER TABLE expected ADD COLUMN path TEXT;"
          "ALTER TABLE expected ADD COLUMN lost_between TEXT;"
          "PRAGMA user_version = 8;",
};

/*
 * Reads the schema version and creates or upgrades the schema, all in one
 * immediate transaction: two processes creating the same new database at once
 * take turns (the busy wait of sm_db_open), and the second finds the schema
 * the first committed.
 */
static enum sm_err
check_schema_locked(struct sm_db *db, struct sm_errbuf *eb)
{
	struct sm_stmt *q;
	int version = -1, tables = 0;
	if (!sm_db_prepare(db, "PRAGMA user_version", false, &q))
		return sm_db_fail(db, eb, "reading the schema version");
	if (sm_stmt_step(q) == SM_DB_ROW)
		version = sm_col_int(q, 0);
	sm_stmt_finalize(q);
	if (!sm_db_prepare(db, "SELECT count(*) FROM sqlite_master", false, &q))
		return sm_db_fail(db, eb, "reading the schema (is this an SQLite database?)");
	if (sm_stmt_step(q) == SM_DB_ROW)
		tables = sm_col_int(q, 0);
	if (!sm_stmt_finalize(q))
		return sm_db_fail(db, eb, "reading the schema (is this an SQLite database?)");
	enum sm_err e = SM_OK;
	if (version == 0 && tables == 0) {
		e = sm_db_exec(db, schema_v1, "creating the schema", eb);
		version = 1;
	} else if (version == 0)
		return sm_error(eb, SM_ERR_DB,
		                "this SQLite file was not written by smaudit (no schema version)");
	if (version > SM_SCHEMA_VERSION)
		return sm_error(
		    eb, SM_ERR_DB,
		    "%s: database schema version %d is newer than this smaudit understands "
		    "(%d): upgrade smaudit",
		    sm_db_path(db), version, SM_SCHEMA_VERSION);
	for (int v = version + 1; e == SM_OK && v <= SM_SCHEMA_VERSION; v++)
		e = sm_db_exec(db, migrations[v], "upgrading the schema", eb);
	return e;
}

enum sm_err
store_check_schema(struct sm_db *db, struct sm_errbuf *eb)
{
	if (sm_db_readonly(db)) /* changes nothing: a reader only checks the version */
		return check_schema_locked(db, eb);
	/* up to date: no write lock taken (a live run may be writing the database) */
	struct sm_stmt *q;
	int version = -1;
	if (sm_db_prepare(db, "PRAGMA user_version", false, &q) && sm_stmt_step(q) == SM_DB_ROW)
		version = sm_col_int(q, 0);
	sm_stmt_finalize(q);
	if (version == SM_SCHEMA_VERSION)
		return SM_OK;
	enum sm_err e = sm_db_exec(db, "BEGIN IMMEDIATE", "reading the schema", eb);
	if (e != SM_OK)
		return e;
	e = check_schema_locked(db, eb);
	if (e == SM_OK)
		e = sm_db_exec(db, "COMMIT", "creating the schema", eb);
	if (e != SM_OK)
		sm_db_exec(db, "ROLLBACK", NULL, NULL);
	return e;
}
