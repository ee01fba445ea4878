/* verdict: the names reports and the database spell, read both ways, and the
 * findings policy makes from them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smaudit/policy.h"
#include "smaudit/verdict.h"

/* The names of docs/json.md, in enum order: a renamed one changes every report. */
static void
names_are_the_documented_ones(void **state)
{
	(void)state;
	static const char *const v[] = {"ok",       "no-answer", "rejected", "one-way",
	                                "not-seen", "n/a",       "filtered"};
	for (int i = 0; i < 7; i++) {
		enum sm_verdict back = V_NONE;
		assert_string_equal(sm_verdict_name((enum sm_verdict)i), v[i]);
		assert_true(sm_verdict_parse(v[i], &back));
		assert_int_equal(back, i);
	}
	static const char *const k[] = {"missing", "intermittent", "unexpected",
	                                "protocol-mismatch"};
	for (int i = 0; i < 4; i++) {
		enum sm_finding_kind back = FK_MISSING;
		assert_string_equal(sm_finding_kind_name((enum sm_finding_kind)i), k[i]);
		assert_true(sm_finding_kind_parse(k[i], &back));
		assert_int_equal(back, i);
	}
	static const char *const c[] = {"expected", "optional", "allowed", "unexpected",
	                                "unmonitored"};
	for (int i = 0; i < 5; i++) {
		enum sm_class back = CL_EXPECTED;
		assert_string_equal(sm_class_name((enum sm_class)i), c[i]);
		assert_true(sm_class_parse(c[i], &back));
		assert_int_equal(back, i);
	}
	assert_string_equal(sm_severity_name(SEV_ERROR), "error");
	assert_string_equal(sm_severity_name(SEV_WARNING), "warning");
	assert_string_equal(sm_severity_name(SEV_INFO), "info");
	assert_string_equal(sm_rule_kind_name(RK_EXPECT), "expect");
	assert_string_equal(sm_rule_kind_name(RK_OPTIONAL), "optional");
	assert_string_equal(sm_rule_kind_name(RK_ALLOW), "allow");
	assert_string_equal(sm_run_status_name(RUN_INTERRUPTED), "interrupted");
}

/* No verdict is null in the database and JSON; an unknown name is refused. */
static void
none_and_unknown(void **state)
{
	(void)state;
	enum sm_verdict v = V_OK;
	assert_null(sm_verdict_name(V_NONE));
	assert_true(sm_verdict_parse(NULL, &v));
	assert_int_equal(v, V_NONE);
	v = V_OK;
	assert_true(sm_verdict_parse("", &v));
	assert_int_equal(v, V_NONE);
	v = V_OK;
	assert_false(sm_verdict_parse("na", &v));
	assert_int_equal(v, V_OK);
	enum sm_class c = CL_ALLOWED;
	assert_false(sm_class_parse("Expected", &c));
	assert_int_equal(c, CL_ALLOWED);
	assert_true(sm_verdict_failed(V_NO_ANSWER) && sm_verdict_failed(V_NOT_SEEN));
	assert_false(sm_verdict_failed(V_OK) || sm_verdict_failed(V_NA) ||
	             sm_verdict_failed(V_FILTERED));
}

/* A group of unexpected sessions is one error finding with its counts. */
static void
unexpected_group_is_an_error(void **state)
{
	(void)state;
	struct sm_unexpected_row g;
	struct sm_finding_row f;
	memset(&g, 0, sizeof(g));
	sm_strlcpy(g.proto, "tcp", sizeof(g.proto));
	sm_strlcpy(g.src, "10.0.1.1", sizeof(g.src));
	sm_strlcpy(g.dst, "10.0.2.1", sizeof(g.dst));
	sm_strlcpy(g.state, "S0", sizeof(g.state));
	g.port = 23;
	g.sessions = 3;
	g.packets = 9;
	assert_true(sm_policy_unexpected_finding(NULL, &g, &f));
	assert_int_equal(f.kind, FK_UNEXPECTED);
	assert_int_equal(f.severity, SEV_ERROR);
	assert_int_equal(f.verdict, V_NONE);
	assert_int_equal(f.port, 23);
	assert_string_equal(f.detail, "3 session(s), 9 packets, last state S0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(names_are_the_documented_ones),
	    cmocka_unit_test(none_and_unknown),
	    cmocka_unit_test(unexpected_group_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
