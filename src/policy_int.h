/*
 * policy_int: what the files of the policy module share, behind include/smaudit/
 * policy.h.  policy.c classifies sessions and counts what they say of each expected
 * flow; policy_describe.c writes the detail a verdict carries; policy_attempt.c is
 * the outcome of one session.
 */
#ifndef SMAUDIT_POLICY_INT_H
#define SMAUDIT_POLICY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "smaudit/policy.h"

struct rule_ref {
	const struct sm_role *src, *dst;
	size_t first, count; /* its entries */
};

struct sm_policy {
	const struct sm_rules *rules;
	const struct sm_site *site;
	struct rule_ref *refs;
	struct sm_expect_entry *entries;
	size_t nentries;
	/* per role, per member: whether it appears in the capture, and the TTL its
	 * packets arrive with in TCP conversations that worked (one sensor),
	 * TTL_UNKNOWN or TTL_VARIES */
	struct member_note {
		bool seen;
		uint16_t ttl;
	} * *members;
	const struct sm_role **monitored;
	size_t nmonitored;
	uint8_t service_ports[8192];
	sm_flow_visible_fn visible;
	void *visible_ctx;
	struct sm_locate *locate; /* several sensors; NULL with one */
	struct snap_cut {
		uint8_t proto;
		struct sm_addr a, b;
		uint64_t n;
	} * cuts; /* sm_policy_snap_cut */
	size_t ncuts, cap_cuts;
};

/* Whether member m of role r (any member: m < 0) appears in the capture. */
bool policy_member_seen(const struct sm_policy *p, const struct sm_role *r, int m);

/* The TTL packets of address a arrive with in TCP conversations that worked (one
 * sensor), plus 1; TTL_UNKNOWN when none was seen, TTL_VARIES when they differ. */
#define TTL_UNKNOWN 0
#define TTL_VARIES  0xffff
uint16_t policy_ttl_of(const struct sm_policy *p, const struct sm_addr *a);

/* Writes e->detail for e's verdict: the attempts, who answered them and how, the
 * cautions (capture edges). */
void policy_describe(const struct sm_policy *p, struct sm_expect_entry *e);

#endif
