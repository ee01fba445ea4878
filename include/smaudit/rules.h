/*
 * rules: the policy language.  One rule a line:
 *   KIND PROTO/PORT SRC-ROLES DIR DST-ROLES [COVERAGE] [app=NAME] "purpose"
 *   monitor ROLE...
 * KIND is expect, optional or allow; DIR is -> or <-> (each side must be
 * seen initiating); COVERAGE is any (default), each-pair or each-member;
 * role lists are comma-separated.  Rules are expanded at parse time into
 * one directional rule per (initiator role, responder role, direction).
 * Errors are FILE:LINE:COL messages.  The shipped policy is compiled in.
 */
#ifndef SMAUDIT_RULES_H
#define SMAUDIT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smaudit/app.h"
#include "smaudit/err.h"
#include "smaudit/site.h"
#include "smaudit/verdict.h"

extern const char sm_default_rules[];
#define SM_DEFAULT_RULES_NAME "sm-as.rules"

enum sm_coverage { COV_ANY, COV_EACH_PAIR, COV_EACH_MEMBER };

struct sm_rule {
	char id[SM_RULE_ID_MAX]; /* "sm-as.rules:12" */
	int line;
	enum sm_rule_kind kind;
	uint8_t proto; /* 6, 17, or 1 for ICMP echo (v4 and v6) */
	uint16_t port; /* responder port; 0 for ICMP */
	char src_role[SM_ROLE_NAME_MAX], dst_role[SM_ROLE_NAME_MAX];
	bool both;    /* written with <-> */
	bool reverse; /* the second direction of a <-> rule */
	enum sm_coverage coverage;
	enum sm_app app; /* app=NAME; APP_NONE when the rule names none */
	char purpose[160];
	int src_col, dst_col; /* where each role name stands, for warnings */
};

#define SM_MAX_MONITOR 16

struct sm_rules {
	struct sm_rule *rules;
	size_t nrules;
	char monitor[SM_MAX_MONITOR][SM_ROLE_NAME_MAX];
	int monitor_col[SM_MAX_MONITOR];
	size_t nmonitor;
	bool monitor_set;
	int monitor_line; /* 0 when monitoring the default roles */
	char name[64];    /* file name used in rule ids */
	char *path;       /* as the caller named it, for messages; owned */
	bool builtin;     /* parsed from sm_default_rules */
};

enum sm_err sm_rules_parse(const char *text, const char *fname, struct sm_rules *out,
                           struct sm_errbuf *eb);
enum sm_err sm_rules_load(const char *path, struct sm_rules *out, struct sm_errbuf *eb);
void sm_rules_free(struct sm_rules *r);
const char *sm_coverage_name(enum sm_coverage c);
/* The flow r names as written in a rules file: "tcp/11104", "udp/53", "icmp/echo". */
const char *sm_rule_flow(const struct sm_rule *r, char *buf, size_t len);
bool sm_rules_monitors(const struct sm_rules *r, const char *role);
/*
 * Checks the site against the rules.  A site role no rule uses whose name is a
 * near miss (sm_conf_near_miss) of a role the rules use and the site lacks is
 * SM_ERR_CONFIG with "SITE:LINE:COL: ... did you mean ...?" in eb.  Otherwise
 * warns (warn may be NULL) about the other unused site roles, at the site's
 * line, and about roles a rules file uses that the site lacks (their rules are
 * n/a; for the built-in rules only monitored ones), at the rules' line.
 */
enum sm_err sm_rules_check_site(const struct sm_rules *r, const struct sm_site *s, sm_warn_fn warn,
                                void *ctx, struct sm_errbuf *eb);

#endif
