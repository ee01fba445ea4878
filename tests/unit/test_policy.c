/* policy: verdicts from sessions, each-pair expansion, classes, n/a. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smaudit/policy.h"

static struct sm_rules rules;
static struct sm_site site;

static int
setup(void **state)
{
	(void)state;
	struct sm_errbuf eb;
	if (sm_rules_parse("expect tcp/11104 ic-a <-> ic-b each-pair \"sessions\"\n"
	                   "optional icmp/echo ic-a <-> ic-b any \"ping\"\n"
	                   "expect tcp/31784 node-mgmt-a -> mediator each-member \"quorum\"\n"
	                   "allow tcp/22 admin -> ic-a \"ssh\"\n",
	                   "t.rules", &rules, &eb) != SM_OK)
		return -1;
	return sm_site_parse("role ic-a 10.0.1.1 10.0.1.2\nrole ic-b 10.0.2.1\n"
	                     "role admin 10.9.0.0/24\n",
	                     "site.conf", &site, NULL, NULL, &eb) == SM_OK
	           ? 0
	           : -1;
}

static int
teardown(void **state)
{
	(void)state;
	sm_rules_free(&rules);
	sm_site_free(&site);
	return 0;
}

static struct sm_session
sess(const char *src, const char *dst, unsigned dport, uint64_t fwd, uint64_t rev)
{
	struct sm_session s;
	memset(&s, 0, sizeof(s));
	sm_addr_parse(src, &s.src);
	sm_addr_parse(dst, &s.dst);
	s.proto = SM_PROTO_TCP;
	s.sport = 40000;
	s.dport = (uint16_t)dport;
	s.pkts[0] = fwd;
	s.pkts[1] = rev;
	s.first_ns = 1000000000LL;
	s.last_ns = 2000000000LL;
	return s;
}

static const struct sm_expect_entry *
find(const struct sm_policy *p, const char *rule_src, const char *src, const char *dst,
     unsigned port)
{
	for (size_t i = 0; i < sm_policy_entry_count(p); i++) {
		const struct sm_expect_entry *e = sm_policy_entry(p, i);
		char s[64], d[64];
		sm_entry_src(e, s, sizeof(s));
		sm_entry_dst(e, d, sizeof(d));
		if (e->rule->port == port && strcmp(e->rule->src_role, rule_src) == 0 &&
		    strcmp(s, src) == 0 && strcmp(d, dst) == 0)
			return e;
	}
	return NULL;
}

static void
test_verdicts_per_pair(void **state)
{
	(void)state;
	struct sm_policy *p = sm_policy_new(&rules, &site);
	struct sm_classification c;
	/* ok: handshake answered */
	struct sm_session ok = sess("10.0.1.1", "10.0.2.1", 11104, 3, 2);
	ok.resp_answer = true;
	sm_policy_classify(p, &ok, &c);
	assert_string_equal(c.class_name, "expected");
	assert_string_equal(c.rule, "t.rules:1");
	/* no-answer: SYNs only */
	struct sm_session na = sess("10.0.1.2", "10.0.2.1", 11104, 3, 0);
	na.syn_seen = true;
	na.syn_count = 3;
	na.history_seen = SM_HIST_ORIG_BIT(SM_HIST_SYN);
	sm_policy_classify(p, &na, &c);
	/* rejected: RST from the responder */
	struct sm_session rj = sess("10.0.2.1", "10.0.1.1", 11104, 1, 1);
	rj.rst_from = 2;
	sm_policy_classify(p, &rj, &c);
	/* one-way: data from the initiator, nothing back */
	struct sm_session ow = sess("10.0.2.1", "10.0.1.2", 11104, 5, 0);
	ow.history_seen = SM_HIST_ORIG_BIT(SM_HIST_DATA) | SM_HIST_ORIG_BIT(SM_HIST_ACK);
	ow.orig_past_syn = true;
	sm_policy_classify(p, &ow, &c);
	sm_policy_finish(p);
	assert_int_equal(find(p, "ic-a", "10.0.1.1", "10.0.2.1", 11104)->verdict, V_OK);
	assert_int_equal(find(p, "ic-a", "10.0.1.2", "10.0.2.1", 11104)->verdict, V_NO_ANSWER);
	assert_int_equal(find(p, "ic-b", "10.0.2.1", "10.0.1.1", 11104)->verdict, V_REJECTED);
	assert_int_equal(find(p, "ic-b", "10.0.2.1", "10.0.1.2", 11104)->verdict, V_ONE_WAY);
	sm_policy_free(p);
}

/* The entry of an "any" rule names the pair its verdict is about (docs/verdicts.md). */
static void
test_any_rule_names_the_pair_of_its_verdict(void **state)
{
	(void)state;
	struct sm_policy *p = sm_policy_new(&rules, &site);
	struct sm_classification c;
	struct sm_session unanswered = sess("10.0.1.1", "10.0.2.1", 0, 2, 0);
	unanswered.proto = SM_PROTO_ICMP;
	unanswered.icmp_type = 8;
	sm_policy_classify(p, &unanswered, &c);
	struct sm_session refused = unanswered; /* a later, worse attempt decides */
	sm_addr_parse("10.0.1.2", &refused.src);
	refused.icmp_errors = 1;
	sm_policy_classify(p, &refused, &c);
	sm_policy_finish(p);
	const struct sm_expect_entry *fwd = NULL, *rev = NULL;
	for (size_t i = 0; i < sm_policy_entry_count(p); i++) {
		const struct sm_expect_entry *e = sm_policy_entry(p, i);
		if (e->rule->proto == 1 && strcmp(e->rule->src_role, "ic-a") == 0)
			fwd = e;
		else if (e->rule->proto == 1)
			rev = e;
	}
	char s[64], d[64];
	assert_non_null(fwd);
	assert_int_equal(fwd->verdict, V_REJECTED);
	sm_entry_src(fwd, s, sizeof(s));
	sm_entry_dst(fwd, d, sizeof(d));
	assert_string_equal(s, "10.0.1.2");
	assert_string_equal(d, "10.0.2.1");
	/* nothing seen: ic-b's one address is named, ic-a's two are not */
	assert_non_null(rev);
	assert_int_equal(rev->verdict, V_NOT_SEEN);
	sm_entry_src(rev, s, sizeof(s));
	sm_entry_dst(rev, d, sizeof(d));
	assert_string_equal(s, "10.0.2.1");
	assert_string_equal(d, "");
	sm_policy_free(p);
}

static void
test_undefined_role_is_na_and_classes(void **state)
{
	(void)state;
	struct sm_policy *p = sm_policy_new(&rules, &site);
	struct sm_classification c;
	struct sm_session tel = sess("10.0.1.1", "192.0.2.7", 23, 1, 0);
	sm_policy_classify(p, &tel, &c);
	assert_string_equal(c.class_name, "unexpected");
	struct sm_session ssh = sess("10.9.0.5", "10.0.1.1", 22, 4, 4);
	ssh.resp_answer = true;
	sm_policy_classify(p, &ssh, &c);
	assert_string_equal(c.class_name, "allowed");
	struct sm_session other = sess("192.0.2.1", "192.0.2.2", 80, 4, 4);
	sm_policy_classify(p, &other, &c);
	assert_string_equal(c.class_name, "unmonitored");
	/* wrong direction on an allowed port is unexpected */
	struct sm_session back = sess("10.0.1.1", "10.9.0.5", 22, 4, 4);
	sm_policy_classify(p, &back, &c);
	assert_string_equal(c.class_name, "unexpected");
	sm_policy_finish(p);
	bool saw_na = false;
	for (size_t i = 0; i < sm_policy_entry_count(p); i++)
		if (sm_policy_entry(p, i)->rule->port == 31784) {
			assert_int_equal(sm_policy_entry(p, i)->verdict, V_NA);
			saw_na = true;
		}
	assert_true(saw_na);
	/* each-pair: 2 x 1 addresses, both directions */
	size_t pairs = 0;
	for (size_t i = 0; i < sm_policy_entry_count(p); i++)
		pairs += sm_policy_entry(p, i)->rule->port == 11104;
	assert_int_equal(pairs, 4);
	sm_policy_free(p);
}

/* A SYN retransmitted after the session table ended the attempt (5 s without
 * an answer, as Zeek) goes on with the same attempt: counted once, with the
 * outcome of its last part. */
static void
test_attempt_split_by_the_table_counts_once(void **state)
{
	(void)state;
	struct sm_policy *p = sm_policy_new(&rules, &site);
	struct sm_classification c;
	struct sm_session part = sess("10.0.1.1", "10.0.2.1", 11104, 3, 0);
	part.syn_seen = true;
	part.syn_seq = 555;
	part.syn_count = 3;
	part.history_seen = SM_HIST_ORIG_BIT(SM_HIST_SYN);
	sm_policy_classify(p, &part, &c);
	part.pkts[0] = part.syn_count = 1;
	sm_policy_classify(p, &part, &c);
	sm_policy_classify(p, &part, &c);
	/* a second connect() (another ISN) is another attempt */
	part.syn_seq = 9999;
	sm_policy_classify(p, &part, &c);
	/* on the other pair the retransmission after 7 s is answered */
	struct sm_session late = sess("10.0.1.2", "10.0.2.1", 11104, 3, 0);
	late.syn_seen = true;
	late.syn_seq = 777;
	late.syn_count = 3;
	late.history_seen = SM_HIST_ORIG_BIT(SM_HIST_SYN);
	sm_policy_classify(p, &late, &c);
	late.pkts[0] = 3;
	late.pkts[1] = 2;
	late.syn_count = 1;
	late.resp_answer = true;
	late.orig_past_syn = true;
	late.state[0] = late.state[1] = EP_ESTABLISHED;
	late.history_seen = SM_HIST_ORIG_BIT(SM_HIST_SYN) | SM_HIST_ORIG_BIT(SM_HIST_ACK) |
	                    SM_HIST_RESP_BIT(SM_HIST_SYN_ACK);
	sm_policy_classify(p, &late, &c);
	sm_policy_finish(p);
	const struct sm_expect_entry *na = find(p, "ic-a", "10.0.1.1", "10.0.2.1", 11104);
	assert_int_equal(na->verdict, V_NO_ANSWER);
	assert_int_equal(na->no_answer, 2);
	assert_int_equal(na->sessions, 4);
	assert_int_equal(na->syns, 6);
	assert_non_null(strstr(na->detail, "2 attempt(s)"));
	assert_non_null(strstr(na->detail, "(6 SYN sent)"));
	const struct sm_expect_entry *ok = find(p, "ic-a", "10.0.1.2", "10.0.2.1", 11104);
	assert_int_equal(ok->verdict, V_OK);
	assert_int_equal(ok->no_answer, 0);
	assert_null(strstr(ok->detail, "intermittent"));
	sm_policy_free(p);
}

/* An attempt whose session a full table pushed out before the rest came: the
 * SYN alone, no answer in it. */
static struct sm_session
pushed_out_attempt(const char *src, uint32_t isn)
{
	struct sm_session a = sess(src, "10.0.2.1", 11104, 1, 0);
	a.syn_seen = true;
	a.syn_seq = isn;
	a.syn_count = 1;
	a.history_seen = SM_HIST_ORIG_BIT(SM_HIST_SYN);
	return a;
}

/* The session of what followed it, opened past it (session_tcp.c sets
 * after_attempt and the ISN from the opening segment). */
static struct sm_session
opened_past(const char *src, uint32_t isn, uint64_t fwd, uint64_t rev)
{
	struct sm_session s = sess(src, "10.0.2.1", 11104, fwd, rev);
	s.after_attempt = true;
	s.syn_seq = isn;
	return s;
}

/* opened_past with the SYN-ACK, the handshake then completed */
static struct sm_session
answered_past(const char *src, uint32_t isn)
{
	struct sm_session s = opened_past(src, isn, 3, 2);
	s.flipped = true;
	s.resp_answer = true;
	s.state[0] = s.state[1] = EP_ESTABLISHED;
	s.history_seen = SM_HIST_RESP_BIT(SM_HIST_SYN_ACK) | SM_HIST_ORIG_BIT(SM_HIST_ACK);
	s.orig_past_syn = true;
	return s;
}

/* Under a flood that fills the session table, the SYN's session is pushed out
 * and its answer opens another session.  The flow is judged by what the
 * attempt met: a SYN-ACK and a completed handshake are ok (not "intermittent,
 * 1 unanswered"); a RST or an ICMP error quoting the flow are a rejection, not
 * no-answer; an answer to another ISN leaves the attempt unanswered. */
static void
test_attempt_pushed_out_before_its_answer(void **state)
{
	(void)state;
	struct sm_policy *p = sm_policy_new(&rules, &site);
	struct sm_classification c;
	struct sm_session a = pushed_out_attempt("10.0.1.1", 100);
	sm_policy_classify(p, &a, &c);
	struct sm_session answered = answered_past("10.0.1.1", 100);
	sm_policy_classify(p, &answered, &c);

	struct sm_session b = pushed_out_attempt("10.0.1.2", 200);
	sm_policy_classify(p, &b, &c);
	struct sm_session reset = opened_past("10.0.1.2", 200, 0, 1);
	reset.flipped = true;
	reset.rst_from = 2;
	reset.history_seen = SM_HIST_RESP_BIT(SM_HIST_RST);
	sm_policy_classify(p, &reset, &c);
	sm_policy_finish(p);

	const struct sm_expect_entry *ok = find(p, "ic-a", "10.0.1.1", "10.0.2.1", 11104);
	assert_int_equal(ok->verdict, V_OK);
	assert_int_equal(ok->no_answer, 0);
	assert_null(strstr(ok->detail, "intermittent"));
	const struct sm_expect_entry *rej = find(p, "ic-a", "10.0.1.2", "10.0.2.1", 11104);
	assert_int_equal(rej->verdict, V_REJECTED);
	assert_int_equal(rej->no_answer, 0);
	assert_int_equal(rej->rejected, 1);
	sm_policy_free(p);

	/* an ICMP error quoting the flow, and an answer to another ISN */
	p = sm_policy_new(&rules, &site);
	a = pushed_out_attempt("10.0.1.1", 100);
	sm_policy_classify(p, &a, &c);
	struct sm_session error = opened_past("10.0.1.1", 0, 0, 0);
	error.icmp_errors = 1;
	error.icmp_err_type = 3;
	error.icmp_err_code = 13;
	sm_policy_classify(p, &error, &c);
	b = pushed_out_attempt("10.0.1.2", 200);
	sm_policy_classify(p, &b, &c);
	struct sm_session other = answered_past("10.0.1.2", 201);
	sm_policy_classify(p, &other, &c);
	sm_policy_finish(p);
	rej = find(p, "ic-a", "10.0.1.1", "10.0.2.1", 11104);
	assert_int_equal(rej->verdict, V_REJECTED);
	assert_int_equal(rej->no_answer, 0);
	const struct sm_expect_entry *na = find(p, "ic-a", "10.0.1.2", "10.0.2.1", 11104);
	assert_int_equal(na->no_answer, 1);
	assert_non_null(strstr(na->detail, "intermittent"));
	sm_policy_free(p);
}

/* An iSCSI initiator opens its connections to a target at once (8 here), and a
 * flood pushes all eight SYNs' sessions out before the SYN-ACKs come: each
 * answer finds its own attempt, none is left counted unanswered. */
static void
test_many_attempts_pushed_out_at_once(void **state)
{
	(void)state;
	struct sm_policy *p = sm_policy_new(&rules, &site);
	struct sm_classification c;
	enum { N = 8 };
	for (unsigned i = 0; i < N; i++) {
		struct sm_session a = pushed_out_attempt("10.0.1.1", 1000 + i);
		a.sport = (uint16_t)(40000 + i);
		sm_policy_classify(p, &a, &c);
	}
	for (unsigned i = 0; i < N; i++) {
		struct sm_session s = answered_past("10.0.1.1", 1000 + i);
		s.sport = (uint16_t)(40000 + i);
		sm_policy_classify(p, &s, &c);
	}
	sm_policy_finish(p);
	const struct sm_expect_entry *e = find(p, "ic-a", "10.0.1.1", "10.0.2.1", 11104);
	assert_int_equal(e->verdict, V_OK);
	assert_int_equal(e->no_answer, 0);
	assert_null(strstr(e->detail, "intermittent"));
	sm_policy_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verdicts_per_pair),
	    cmocka_unit_test(test_any_rule_names_the_pair_of_its_verdict),
	    cmocka_unit_test(test_undefined_role_is_na_and_classes),
	    cmocka_unit_test(test_attempt_split_by_the_table_counts_once),
	    cmocka_unit_test(test_attempt_pushed_out_before_its_answer),
	    cmocka_unit_test(test_many_attempts_pushed_out_at_once),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
