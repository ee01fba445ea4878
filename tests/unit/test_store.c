/* store: schema, rows users query, interrupted runs, foreign or newer databases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "smaudit/store.h"

static char path[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/smaudit-test-%d.db", (int)getpid());
	unlink(path);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	char p[80];
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	return 0;
}

static bool
count_session(void *ctx, const struct sm_session_row *r)
{
	int *n = ctx;
	assert_string_equal(r->src, "fd00:1::11");
	assert_string_equal(r->state, "S0");
	assert_string_equal(r->class_name, "expected");
	(*n)++;
	return true;
}

static void
test_session_row_and_unfinished_run(void **state)
{
	(void)state;
	struct sm_store *st;
	struct sm_errbuf eb = {""};
	assert_int_equal(sm_store_open(&st, path, true, &eb), SM_OK);
	int64_t run;
	assert_int_equal(sm_store_run_begin(st, "audit", "[\"x'y.pcap\"]", "s", "r", &run, &eb),
	                 SM_OK);
	struct sm_session_record s;
	memset(&s, 0, sizeof(s));
	sm_strlcpy(s.proto, "tcp", sizeof(s.proto));
	sm_strlcpy(s.src, "fd00:1::11", sizeof(s.src));
	sm_strlcpy(s.dst, "fd00:2::11", sizeof(s.dst));
	s.sport = 40000;
	s.dport = 11104;
	s.vlan = s.inner_vlan = s.rst_ttl = s.ttl_rev = -1; /* none */
	sm_strlcpy(s.state, "S0", sizeof(s.state));
	s.pkts_fwd = 2;
	sm_strlcpy(s.class_name, "expected", sizeof(s.class_name));
	sm_strlcpy(s.rule, "sm-as.rules:1", sizeof(s.rule));
	sm_strlcpy(s.src_role, "ic-a", sizeof(s.src_role));
	sm_strlcpy(s.dst_role, "ic-b", sizeof(s.dst_role));
	s.source = "it's \"quoted\".pcap";
	assert_int_equal(sm_store_session(st, run, &s, &eb), SM_OK);
	assert_int_equal(sm_store_commit(st, &eb), SM_OK);
	sm_store_close(st); /* never ended: its process (this one) still runs */

	assert_int_equal(sm_store_open(&st, path, false, &eb), SM_OK);
	struct sm_run_row r;
	assert_int_equal(sm_store_load_run(st, run, &r, &eb), SM_OK);
	assert_int_equal(r.status, RUN_RUNNING);
	sm_run_row_free(&r);
	sm_store_close(st);

	/* the process that wrote it is gone: like a killed run */
	pid_t gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	sqlite3 *w;
	char sql[96];
	snprintf(sql, sizeof(sql), "UPDATE runs SET pid = %ld", (long)gone);
	assert_int_equal(sqlite3_open(path, &w), SQLITE_OK);
	assert_int_equal(sqlite3_exec(w, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(w);
	assert_int_equal(sm_store_open(&st, path, false, &eb), SM_OK);
	assert_int_equal(sm_store_load_run(st, run, &r, &eb), SM_OK);
	assert_int_equal(r.status, RUN_INTERRUPTED);
	assert_string_equal(r.sources, "[\"x'y.pcap\"]");
	sm_run_row_free(&r);
	int n = 0;
	struct sm_query q = {
	    .run_id = run, .host = "fd00:1::11", .port = 11104, .class_name = "expected"};
	assert_int_equal(sm_store_each_session(st, &q, count_session, &n, &eb), SM_OK);
	assert_int_equal(n, 1);
	sm_store_close(st);

	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_stmt *q2;
	sqlite3_prepare_v2(db, "SELECT source, vlan FROM sessions", -1, &q2, NULL);
	assert_int_equal(sqlite3_step(q2), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q2, 0), "it's \"quoted\".pcap");
	assert_int_equal(sqlite3_column_type(q2, 1), SQLITE_NULL);
	sqlite3_finalize(q2);
	sqlite3_close(db);
}

/* A run whose stored status is none of verdict.h's names is an error naming it, not
 * a status passed on as text. */
static void
test_unknown_run_status_is_refused(void **state)
{
	(void)state;
	struct sm_store *st;
	struct sm_errbuf eb = {""};
	assert_int_equal(sm_store_open(&st, path, true, &eb), SM_OK);
	int64_t run;
	assert_int_equal(sm_store_run_begin(st, "audit", "[]", "s", "r", &run, &eb), SM_OK);
	assert_int_equal(sm_store_commit(st, &eb), SM_OK);
	sm_store_close(st);
	sqlite3 *w;
	assert_int_equal(sqlite3_open(path, &w), SQLITE_OK);
	assert_int_equal(sqlite3_exec(w, "UPDATE runs SET status = 'halted'", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(w);
	assert_int_equal(sm_store_open(&st, path, false, &eb), SM_OK);
	struct sm_run_row r;
	assert_int_equal(sm_store_load_run(st, run, &r, &eb), SM_ERR_DB);
	assert_non_null(strstr(eb.msg, "unknown status 'halted'"));
	sm_store_close(st);
}

static void
test_foreign_and_newer_databases_are_refused(void **state)
{
	(void)state;
	sqlite3 *db;
	sqlite3_open(path, &db);
	sqlite3_exec(db, "CREATE TABLE other(x)", NULL, NULL, NULL);
	sqlite3_close(db);
	struct sm_store *st;
	struct sm_errbuf eb = {""};
	assert_int_equal(sm_store_open(&st, path, true, &eb), SM_ERR_DB);
	assert_non_null(strstr(eb.msg, "not written by smaudit"));
	sqlite3_open(path, &db);
	sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL);
	sqlite3_close(db);
	assert_int_equal(sm_store_open(&st, path, true, &eb), SM_ERR_DB);
	assert_non_null(strstr(eb.msg, "newer than this smaudit"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_session_row_and_unfinished_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_run_status_is_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_and_newer_databases_are_refused, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
