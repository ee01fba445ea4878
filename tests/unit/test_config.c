/* site and rules files: what parses, and every error message a user can get. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smaudit/rules.h"
#include "smaudit/addr.h"
#include "smaudit/app.h"
#include "smaudit/conf.h"
#include "smaudit/site.h"

static char warnings[2048];

static void
warn(void *ctx, const char *msg)
{
	(void)ctx;
	sm_strlcat(warnings, msg, sizeof(warnings));
	sm_strlcat(warnings, "\n", sizeof(warnings));
}

static void
site_error(const char *text, const char *want)
{
	struct sm_site s;
	struct sm_errbuf eb = {""};
	assert_int_equal(sm_site_parse(text, "site.conf", &s, warn, NULL, &eb), SM_ERR_CONFIG);
	assert_string_equal(eb.msg, want);
}

static void
rules_error(const char *text, const char *want)
{
	struct sm_rules r;
	struct sm_errbuf eb = {""};
	assert_int_equal(sm_rules_parse(text, "my.rules", &r, &eb), SM_ERR_CONFIG);
	assert_string_equal(eb.msg, want);
}

static void
test_site_parses_v4_v6_cidr_and_comments(void **state)
{
	(void)state;
	struct sm_site s;
	struct sm_errbuf eb = {""};
	warnings[0] = '\0';
	const char *text = "# who is who\n\nrole ic-a 10.10.1.11 10.10.1.12 # two LIFs\n"
	                   "role ic-b 10.20.1.11 fd00:20::11\nrole admin 10.99.0.0/24\n";
	assert_int_equal(sm_site_parse(text, "site.conf", &s, warn, NULL, &eb), SM_OK);
	assert_int_equal(s.nroles, 3);
	const struct sm_role *b = sm_site_role(&s, "ic-b");
	assert_non_null(b);
	assert_int_equal(b->nmembers, 2);
	assert_string_equal(b->members[1].text, "fd00:20::11");
	struct sm_addr a;
	sm_addr_parse("10.99.0.77", &a);
	assert_int_equal(sm_role_member(sm_site_role(&s, "admin"), &a), 0);
	assert_string_equal(warnings, "");
	sm_site_free(&s);
}

/* A role named on a second line goes on with the addresses of that line. */
static void
test_site_role_continues_on_another_line(void **state)
{
	(void)state;
	struct sm_site s;
	struct sm_errbuf eb = {""};
	warnings[0] = '\0';
	const char *text = "role a 10.0.0.1\nrole b 10.0.1.1\nrole a 10.0.0.2 10.0.0.1\n";
	assert_int_equal(sm_site_parse(text, "site.conf", &s, warn, NULL, &eb), SM_OK);
	assert_int_equal(s.nroles, 2);
	const struct sm_role *a = sm_site_role(&s, "a");
	assert_int_equal(a->nmembers, 2);
	assert_int_equal(a->line, 1);
	assert_int_equal(a->members[1].line, 3);
	assert_string_equal(warnings, "site.conf:3:17: 10.0.0.1 (role a) overlaps 10.0.0.1 of the "
	                              "same role at site.conf:1:8; listing it once is enough\n");
	sm_site_free(&s);
}

static void
test_site_errors_name_file_line_column(void **state)
{
	(void)state;
	site_error("role ic-a 10.0.0.1\nrole ic-b 10.0.0.300\n",
	           "site.conf:2:11: '10.0.0.300': not an IPv4 or IPv6 address (expected e.g. "
	           "10.10.1.11, fd00:20::11 or 10.99.0.0/24)");
	site_error("rol ic-a 10.0.0.1\n",
	           "site.conf:1:1: unknown keyword 'rol': expected 'role NAME ADDRESS...' or "
	           "'sensor NAME near ROLE'");
	site_error("role ic-a\n", "site.conf:1:10: role 'ic-a' lists no address: expected "
	                          "IPv4/IPv6 addresses or CIDR prefixes after the name");
	site_error("role 9x 10.0.0.1\n",
	           "site.conf:1:6: invalid role name '9x': expected a letter then letters, digits, "
	           "'-' or '_' (at most 39 characters)");
	site_error("role a 10.0.0.0/33\n", "site.conf:1:8: '10.0.0.0/33': IPv4 prefix length must "
	                                   "be 0-32 (expected e.g. 10.10.1.11, fd00:20::11 or "
	                                   "10.99.0.0/24)");
	site_error("role a 10.0.0.1/24\n",
	           "site.conf:1:8: '10.0.0.1/24': address has bits set beyond the prefix length "
	           "(expected e.g. 10.10.1.11, fd00:20::11 or 10.99.0.0/24)");
}

static void
test_site_address_in_two_roles_is_an_error_naming_both_lines(void **state)
{
	(void)state;
	site_error("role ic-a  198.18.1.11 198.18.1.12\nrole ic-b  198.18.1.11\n",
	           "site.conf:2:12: 198.18.1.11 (role ic-b) overlaps 198.18.1.11 of role ic-a at "
	           "site.conf:1:12");
}

static void
test_site_overlapping_prefixes_in_two_roles_are_an_error(void **state)
{
	(void)state;
	site_error("role a 10.0.0.0/24\n# b is inside a\nrole b 10.0.0.128/25\n",
	           "site.conf:3:8: 10.0.0.128/25 (role b) overlaps 10.0.0.0/24 of role a at "
	           "site.conf:1:8");
}

static void
test_site_same_address_twice_in_one_role_is_a_warning(void **state)
{
	(void)state;
	struct sm_site s;
	struct sm_errbuf eb = {""};
	warnings[0] = '\0';
	assert_int_equal(sm_site_parse("role a 10.0.0.0/24 10.0.0.5\nrole b 10.0.1.1\n",
	                               "site.conf", &s, warn, NULL, &eb),
	                 SM_OK);
	assert_string_equal(warnings, "site.conf:1:20: 10.0.0.5 (role a) overlaps 10.0.0.0/24 of "
	                              "the same role at site.conf:1:8; listing it once is "
	                              "enough\n");
	/* kept once: a second member for the same address would be expected to
	 * talk on its own and could only be "not-seen" */
	assert_int_equal(s.roles[0].nmembers, 1);
	sm_site_free(&s);
}

static void
test_default_rules_compile_to_the_spec_policy(void **state)
{
	(void)state;
	struct sm_rules r;
	struct sm_errbuf eb = {""};
	assert_int_equal(sm_rules_parse(sm_default_rules, SM_DEFAULT_RULES_NAME, &r, &eb), SM_OK);
	/* 4 ic rules both ways, icmp both ways, 10000 4 roles both ways, 22, 31784 x4, 3260 x2 */
	assert_int_equal(r.nrules, 4 * 2 + 2 + 4 * 2 + 1 + 4 + 2);
	assert_int_equal(r.nmonitor, 2);
	assert_string_equal(r.monitor[0], "ic-a");
	const struct sm_rule *first = &r.rules[0];
	assert_int_equal(first->port, 3260);
	assert_int_equal(first->coverage, COV_EACH_PAIR);
	assert_int_equal(first->app, APP_ISCSI);
	assert_string_equal(r.rules[1].src_role, "ic-b"); /* <-> made the reverse rule */
	assert_true(r.rules[1].reverse);
	sm_rules_free(&r);
}

/* Rules take app=NAME from the recognisers' table of app.c: each name there
 * loads as its protocol, and the error for another name lists them all. */
static void
test_rules_take_app_names_from_the_recognisers(void **state)
{
	(void)state;
	char want[256] = "my.rules:1:25: unknown app 'smb': expected ";
	size_t n = 0;
	while (sm_app_at(n) != APP_NONE)
		n++;
	assert_true(n >= 4);
	for (size_t i = 0; i < n; i++) {
		enum sm_app a = sm_app_at(i);
		char text[128];
		snprintf(text, sizeof(text), "expect tcp/1 a -> b app=%s \"x\"\n", sm_app_name(a));
		struct sm_rules r;
		struct sm_errbuf eb = {""};
		assert_int_equal(sm_rules_parse(text, "my.rules", &r, &eb), SM_OK);
		assert_int_equal(r.nrules, 1);
		assert_int_equal(r.rules[0].app, a);
		sm_rules_free(&r);
		if (i > 0)
			sm_strlcat(want, i + 1 < n ? ", " : " or ", sizeof(want));
		sm_strlcat(want, sm_app_name(a), sizeof(want));
	}
	rules_error("expect tcp/1 a -> b app=smb \"x\"\n", want);
}

static void
test_rules_errors_name_file_line_column(void **state)
{
	(void)state;
	rules_error("expect tcp/99999 a -> b \"x\"\n",
	            "my.rules:1:12: '99999': expected a port number from 1 to 65535");
	rules_error("expect sctp/1 a -> b \"x\"\n",
	            "my.rules:1:8: unknown protocol 'sctp': expected tcp, udp or icmp");
	rules_error("expect tcp/1 a => b \"x\"\n",
	            "my.rules:1:16: '=>': expected a direction, -> or <->");
	rules_error("expect tcp/1 a -> b\n", "my.rules:1:20: missing purpose: expected a \"quoted "
	                                     "text\" saying what the flow is for");
	rules_error("expect tcp/1 a -> b each \"x\"\n",
	            "my.rules:1:21: unexpected 'each': expected any, each-pair, each-member, "
	            "app=NAME or a \"purpose\" in double quotes");
	rules_error("permit tcp/1 a -> b \"x\"\n",
	            "my.rules:1:1: unknown keyword 'permit': expected expect, optional, allow or "
	            "monitor");
	rules_error("expect tcp/1 a -> b \"x\n",
	            "my.rules:1:21: unterminated quoted string: expected a closing '\"'");
	rules_error("expect tcp/1 a,,b -> c \"x\"\n",
	            "my.rules:1:16: invalid role name '': expected a role name such as ic-a "
	            "(several joined by commas)");
	rules_error("# nothing\n", "my.rules:1:1: the rules file defines no rule");
	rules_error("expect icmp/redirect a -> b \"x\"\n",
	            "my.rules:1:13: 'redirect': ICMP rules take 'echo' (icmp/echo)");
}

/* sm_rules_check_site on a site and rules text (NULL: the built-in rules);
 * warnings land in the global buffer. */
static enum sm_err
check_site(const char *rules_text, const char *site_text, struct sm_errbuf *eb)
{
	struct sm_rules r;
	struct sm_site s;
	warnings[0] = '\0';
	if (rules_text == NULL)
		assert_int_equal(sm_rules_parse(sm_default_rules, SM_DEFAULT_RULES_NAME, &r, eb),
		                 SM_OK);
	else
		assert_int_equal(sm_rules_parse(rules_text, "conf/my.rules", &r, eb), SM_OK);
	assert_int_equal(sm_site_parse(site_text, "conf/site.conf", &s, warn, NULL, eb), SM_OK);
	enum sm_err e = sm_rules_check_site(&r, &s, warn, NULL, eb);
	sm_site_free(&s);
	sm_rules_free(&r);
	return e;
}

static void
test_site_role_close_to_a_missing_rule_role_is_an_error(void **state)
{
	(void)state;
	struct sm_errbuf eb = {""};
	assert_int_equal(check_site(NULL,
	                            "role ic-a 10.0.0.1\nrole ic-b 10.0.0.2\n\n  role mediatr "
	                            "10.0.0.5\n",
	                            &eb),
	                 SM_ERR_CONFIG);
	assert_string_equal(eb.msg, "conf/site.conf:4:8: role 'mediatr' is used by no rule; did "
	                            "you mean 'mediator'?");
	assert_int_equal(
	    check_site(NULL, "role ic-a 10.0.0.1\nrole ic-bb 10.0.0.2\nrole mediator 10.0.0.5\n",
	               &eb),
	    SM_ERR_CONFIG);
	assert_string_equal(eb.msg, "conf/site.conf:2:6: role 'ic-bb' is used by no rule; did you "
	                            "mean 'ic-b'?");
	/* a transposition is one edit; case does not count */
	assert_int_equal(check_site(NULL,
	                            "role ic-a 10.0.0.1\nrole ic-b 10.0.0.2\nrole Mediaotr "
	                            "10.0.0.5\n",
	                            &eb),
	                 SM_ERR_CONFIG);
	assert_string_equal(eb.msg, "conf/site.conf:3:6: role 'Mediaotr' is used by no rule; did "
	                            "you mean 'mediator'?");
}

static void
test_site_role_close_to_no_missing_rule_role_is_a_warning(void **state)
{
	(void)state;
	struct sm_errbuf eb = {""};
	/* far from every role */
	assert_int_equal(
	    check_site(NULL, "role ic-a 10.0.0.1\nrole ic-b 10.0.0.2\nrole backup 10.9.9.9\n", &eb),
	    SM_OK);
	assert_string_equal(warnings, "conf/site.conf:3:6: role 'backup' is used by no rule of "
	                              "sm-as.rules; its addresses are checked only as unexpected "
	                              "traffic\n");
	/* close to ic-b, which the site defines: not a typo */
	assert_int_equal(
	    check_site(NULL, "role ic-a 10.0.0.1\nrole ic-b 10.0.0.2\nrole ic-bb 10.0.0.3\n", &eb),
	    SM_OK);
	assert_string_equal(warnings, "conf/site.conf:3:6: role 'ic-bb' is used by no rule of "
	                              "sm-as.rules; its addresses are checked only as unexpected "
	                              "traffic\n");
	/* two edits from a four-letter name is too far to guess */
	assert_int_equal(check_site("expect tcp/1 ic-a -> ic-b \"x\"\n",
	                            "role ic-a 10.0.0.1\nrole ic 10.0.0.2\n", &eb),
	                 SM_OK);
	assert_null(strstr(warnings, "did you mean"));
}

static void
test_rule_role_missing_from_site_is_a_warning_at_the_rules_line(void **state)
{
	(void)state;
	struct sm_errbuf eb = {""};
	assert_int_equal(check_site("monitor ic-a\n"
	                            "expect tcp/1 ic-a -> ic-a,backup \"x\"\n"
	                            "expect tcp/2 ic-a -> backup \"y\"\n",
	                            "role ic-a 10.0.0.1\n", &eb),
	                 SM_OK);
	assert_string_equal(warnings, "conf/my.rules:2:27: role 'backup' is not defined in "
	                              "conf/site.conf; the rules that use it are n/a\n");
	assert_int_equal(check_site("monitor ic-a ic-b\nexpect tcp/1 ic-a -> ic-a \"x\"\n",
	                            "role ic-a 10.0.0.1\n", &eb),
	                 SM_OK);
	assert_string_equal(warnings, "conf/my.rules:1:14: monitored role 'ic-b' is not defined in "
	                              "conf/site.conf; no unexpected traffic can be found on it\n");
	/* without a monitor line, ic-a and ic-b are monitored: the place is the file */
	assert_int_equal(
	    check_site("expect tcp/1 ic-a -> ic-a \"x\"\n", "role ic-a 10.0.0.1\n", &eb), SM_OK);
	assert_string_equal(warnings, "conf/my.rules:1:1: monitored role 'ic-b' (by default: no "
	                              "'monitor' line) is not defined in conf/site.conf; no "
	                              "unexpected traffic can be found on it\n");
}

static void
test_builtin_rules_leave_optional_roles_to_the_report(void **state)
{
	(void)state;
	struct sm_errbuf eb = {""};
	/* no aiqum, admin or mediator: their rules are n/a in the report, no warning */
	assert_int_equal(check_site(NULL, "role ic-a 10.0.0.1\nrole ic-b 10.0.0.2\n", &eb), SM_OK);
	assert_string_equal(warnings, "");
}

static void
test_edit_distance(void **state)
{
	(void)state;
	assert_int_equal(sm_conf_edit_distance("mediator", "mediator"), 0);
	assert_int_equal(sm_conf_edit_distance("mediatr", "mediator"), 1);
	assert_int_equal(sm_conf_edit_distance("mediaotr", "mediator"), 1);
	assert_int_equal(sm_conf_edit_distance("MEDIATOR", "mediator"), 0);
	assert_int_equal(sm_conf_edit_distance("", "ic-b"), 4);
	/* optimal string alignment: a transposed pair is not edited again */
	assert_int_equal(sm_conf_edit_distance("ca", "abc"), 3);
	assert_true(sm_conf_near_miss("ic-bb", "ic-b"));
	assert_false(sm_conf_near_miss("ic", "ic-b"));
	assert_true(sm_conf_near_miss("medator", "mediator"));
	assert_true(sm_conf_near_miss("mdiatr", "mediator"));
	assert_false(sm_conf_near_miss("backup", "aiqum"));
}

/* IPv6 text is inet_ntop()'s to the letter (the reports, rows and evidence
 * names of earlier runs used it): every shape of zero runs (each group zero,
 * one, all ones or other), IPv4-compatible and IPv4-mapped forms among them. */
static void
test_ipv6_text_is_inet_ntops(void **state)
{
	(void)state;
	static const unsigned kinds[][4] = {{0, 1, 0xffff, 0x0a0b}, {0, 0x100, 0xffff, 0xfd00}};
	char ours[SM_ADDRSTRLEN], theirs[INET6_ADDRSTRLEN];
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		for (unsigned shape = 0; shape < 65536; shape++) {
			struct sm_addr a = {.family = 6};
			for (int g = 0; g < 8; g++) {
				unsigned v = kinds[k][shape >> (2 * g) & 3];
				if (v == 0x0a0b || v == 0xfd00)
					v += (unsigned)g * 0x111;
				a.a[2 * g] = (uint8_t)(v >> 8);
				a.a[2 * g + 1] = (uint8_t)v;
			}
			assert_non_null(inet_ntop(AF_INET6, a.a, theirs, sizeof(theirs)));
			sm_addr_str(&a, ours, sizeof(ours));
			if (strcmp(ours, theirs) != 0)
				fail_msg("shape %u: %s, inet_ntop %s", shape, ours, theirs);
		}
}

/* Text forms and prefix matches the reports and roles rely on. */
static void
test_addresses_print_and_match(void **state)
{
	(void)state;
	static const char *const v4[] = {"0.0.0.0", "9.10.99.100", "255.255.255.255",
	                                 "198.18.1.11"};
	char buf[SM_ADDRSTRLEN];
	struct sm_addr a;
	for (size_t i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		assert_true(sm_addr_parse(v4[i], &a));
		assert_string_equal(sm_addr_str(&a, buf, sizeof(buf)), v4[i]);
	}
	assert_true(sm_addr_parse("fd00:1::11", &a));
	assert_string_equal(sm_addr_str(&a, buf, sizeof(buf)), "fd00:1::11");
	struct sm_prefix p;
	const char *why;
	assert_true(sm_prefix_parse("198.18.0.0/15", &p, &why));
	assert_true(sm_addr_parse("198.19.255.1", &a));
	assert_true(sm_prefix_contains(&p, &a));
	assert_true(sm_addr_parse("198.20.0.1", &a));
	assert_false(sm_prefix_contains(&p, &a));
	assert_true(sm_prefix_parse("fd00::/8", &p, &why));
	assert_true(sm_addr_parse("fd12::1", &a));
	assert_true(sm_prefix_contains(&p, &a));
	assert_true(sm_addr_parse("fe00::1", &a));
	assert_false(sm_prefix_contains(&p, &a));
	assert_true(sm_prefix_parse("198.18.1.11", &p, &why)); /* a host is a /32 */
	assert_true(sm_addr_parse("198.18.1.11", &a));
	assert_true(sm_prefix_contains(&p, &a));
	assert_true(sm_addr_parse("198.18.1.12", &a));
	assert_false(sm_prefix_contains(&p, &a));
	assert_true(sm_prefix_parse("0.0.0.0/0", &p, &why));
	assert_true(sm_prefix_contains(&p, &a));
	assert_true(sm_addr_parse("::1", &a));
	assert_false(sm_prefix_contains(&p, &a)); /* another family */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_addresses_print_and_match),
	    cmocka_unit_test(test_ipv6_text_is_inet_ntops),
	    cmocka_unit_test(test_site_parses_v4_v6_cidr_and_comments),
	    cmocka_unit_test(test_site_errors_name_file_line_column),
	    cmocka_unit_test(test_site_address_in_two_roles_is_an_error_naming_both_lines),
	    cmocka_unit_test(test_site_overlapping_prefixes_in_two_roles_are_an_error),
	    cmocka_unit_test(test_site_same_address_twice_in_one_role_is_a_warning),
	    cmocka_unit_test(test_default_rules_compile_to_the_spec_policy),
	    cmocka_unit_test(test_site_role_close_to_a_missing_rule_role_is_an_error),
	    cmocka_unit_test(test_site_role_close_to_no_missing_rule_role_is_a_warning),
	    cmocka_unit_test(test_rule_role_missing_from_site_is_a_warning_at_the_rules_line),
	    cmocka_unit_test(test_builtin_rules_leave_optional_roles_to_the_report),
	    cmocka_unit_test(test_edit_distance),
	    cmocka_unit_test(test_rules_errors_name_file_line_column),
	    cmocka_unit_test(test_site_role_continues_on_another_line),
	    cmocka_unit_test(test_rules_take_app_names_from_the_recognisers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
