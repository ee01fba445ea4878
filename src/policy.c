#include "smaudit/policy.h"

#include "locate.h"
#include "policy_attempt.h"
#include "policy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
push_entry(struct sm_policy *p, size_t *cap, const struct sm_expect_entry *e)
{
	if (p->nentries == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		struct sm_expect_entry *n = realloc(p->entries, ncap * sizeof(*n));
		if (n == NULL)
			return false;
		p->entries = n;
		*cap = ncap;
	}
	p->entries[p->nentries++] = *e;
	return true;
}

static bool
expand_rule(struct sm_policy *p, size_t ri, size_t *cap)
{
	const struct sm_rule *r = &p->rules->rules[ri];
	struct rule_ref *ref = &p->refs[ri];
	struct sm_expect_entry e;
	memset(&e, 0, sizeof(e));
	e.rule = r;
	e.src_role = ref->src;
	e.dst_role = ref->dst;
	e.src_member = e.dst_member = -1;
	e.verdict = V_NOT_SEEN;
	ref->first = p->nentries;
	if (r->kind == RK_ALLOW)
		return true;
	if (ref->src == NULL || ref->dst == NULL) {
		e.verdict = V_NA;
		ref->count = 1;
		return push_entry(p, cap, &e);
	}
	size_t ns = r->coverage == COV_ANY ? 1 : ref->src->nmembers;
	size_t nd = r->coverage == COV_EACH_PAIR ? ref->dst->nmembers : 1;
	for (size_t s = 0; s < ns; s++)
		for (size_t d = 0; d < nd; d++) {
			e.src_member = r->coverage == COV_ANY ? -1 : (int)s;
			e.dst_member = r->coverage == COV_EACH_PAIR ? (int)d : -1;
			if (e.src_member >= 0 && e.dst_member >= 0 &&
			    ref->src->members[s].prefix.addr.family !=
			        ref->dst->members[d].prefix.addr.family)
				continue; /* IPv4 never reaches IPv6: not a pair */
			if (e.src_member >= 0 && e.dst_member >= 0 &&
			    sm_prefix_overlap(&ref->src->members[s].prefix,
			                      &ref->dst->members[d].prefix))
				continue; /* an address does not talk to itself */
			if (!push_entry(p, cap, &e))
				return false;
		}
	ref->count = p->nentries - ref->first;
	return true;
}

struct sm_policy *
sm_policy_new(const struct sm_rules *rules, const struct sm_site *site)
{
	struct sm_policy *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->rules = rules;
	p->site = site;
	p->refs = calloc(rules->nrules ? rules->nrules : 1, sizeof(*p->refs));
	p->members = calloc(site->nroles ? site->nroles : 1, sizeof(*p->members));
	p->monitored = calloc(rules->nmonitor ? rules->nmonitor : 1, sizeof(*p->monitored));
	if (p->refs == NULL || p->members == NULL || p->monitored == NULL)
		goto oom;
	for (size_t i = 0; i < site->nroles; i++) {
		p->members[i] = calloc(site->roles[i].nmembers + 1, sizeof(**p->members));
		if (p->members[i] == NULL)
			goto oom;
	}
	for (size_t i = 0; i < rules->nmonitor; i++) {
		const struct sm_role *r = sm_site_role(site, rules->monitor[i]);
		if (r != NULL)
			p->monitored[p->nmonitored++] = r;
	}
	size_t cap = 0;
	for (size_t i = 0; i < rules->nrules; i++) {
		const struct sm_rule *r = &rules->rules[i];
		p->refs[i].src = sm_site_role(site, r->src_role);
		p->refs[i].dst = sm_site_role(site, r->dst_role);
		if (r->proto != 1)
			p->service_ports[r->port >> 3] |= (uint8_t)(1u << (r->port & 7));
		if (!expand_rule(p, i, &cap))
			goto oom;
	}
	return p;
oom:
	sm_policy_free(p);
	return NULL;
}

void
sm_policy_free(struct sm_policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; p->members != NULL && i < p->site->nroles; i++)
		free(p->members[i]);
	free(p->members);
	free(p->refs);
	free(p->entries);
	free(p->monitored);
	free(p->cuts);
	sm_locate_free(p->locate);
	free(p);
}

void
sm_policy_sensor_span(struct sm_policy *p, size_t k, int64_t first_ns, int64_t last_ns)
{
	sm_locate_span(p->locate, k, first_ns, last_ns);
}

bool
sm_policy_set_sensors(struct sm_policy *p, const char *const *names, size_t n)
{
	if (n < 2 || n > SM_SENSORS_MAX)
		return true;
	p->locate = sm_locate_new(p->site, names, n);
	return p->locate != NULL;
}

const uint8_t *
sm_policy_service_ports(const struct sm_policy *p)
{
	return p->service_ports;
}

enum sm_verdict
sm_policy_session_verdict(const struct sm_session *s)
{
	static const enum sm_verdict v[] = {[SM_OUTCOME_OK] = V_OK,
	                                    [SM_OUTCOME_REJECTED] = V_REJECTED,
	                                    [SM_OUTCOME_NO_ANSWER] = V_NO_ANSWER,
	                                    [SM_OUTCOME_ONE_WAY] = V_ONE_WAY};
	enum sm_outcome o = sm_outcome_of(s);
	if (o != SM_OUTCOME_OK && sm_outcome_under_way(s))
		return V_NOT_SEEN; /* a connection opened before, reset: no attempt */
	return v[o];
}

static bool
proto_matches(const struct sm_rule *r, const struct sm_session *s)
{
	if (r->proto == 1) {
		if (s->proto == SM_PROTO_ICMP)
			return s->icmp_type == SM_ICMP_ECHO_REQUEST;
		if (s->proto == SM_PROTO_ICMP6)
			return s->icmp_type == SM_ICMP6_ECHO_REQUEST;
		return false;
	}
	return r->proto == s->proto && r->port == s->dport;
}

/* A rule naming a protocol and a session that showed another one. */
static void
note_protocol(struct sm_expect_entry *e, const struct sm_session *s)
{
	enum sm_app app = sm_session_app_kind(s);
	/* the responder speaks the rule's protocol, a client another one (SSH sent
	 * to a TLS port): a mismatch still, of that client */
	if (app == e->rule->app && sm_app_is_protocol((enum sm_app)s->app[0]))
		app = (enum sm_app)s->app[0];
	if (e->rule->app != APP_NONE && app == APP_UNVERIFIED)
		e->app_unverified++;
	else if (e->rule->app != APP_NONE && app != APP_NONE)
		e->app_read++;
	if (e->rule->app == APP_NONE || app == APP_NONE || app == APP_UNVERIFIED ||
	    app == e->rule->app)
		return;
	if (e->mismatched++ == 0) {
		e->mismatch_app = app;
		e->mismatch_src = s->src;
		e->mismatch_dst = s->dst;
		sm_strlcpy(e->mismatch_detail, s->app_detail ? s->app_detail : "",
		           sizeof(e->mismatch_detail));
		return;
	}
	if (!sm_addr_eq(&s->src, &e->mismatch_src) || !sm_addr_eq(&s->dst, &e->mismatch_dst))
		e->mismatch_elsewhere++;
	if (app != e->mismatch_app)
		e->mismatch_other_app++;
}

static void
note_evidence(const struct sm_policy *p, struct sm_expect_entry *e, const struct sm_session *s,
              enum sm_outcome o)
{
	bool continues = sm_attempt_continues(e, s, &o);
	note_protocol(e, s);
	e->sessions++;
	if (e->first_ns == 0 || s->first_ns < e->first_ns)
		e->first_ns = s->first_ns;
	if (s->last_ns > e->last_ns)
		e->last_ns = s->last_ns;
	if (o != SM_OUTCOME_OK && !continues && sm_outcome_under_way(s)) {
		/* a connection reset, not an attempt refused: no failure (or the late
		 * answer to an attempt of an earlier session, reset by its initiator) */
		e->answer_late += sm_outcome_answer_refused(s);
		if (e->under_way++ == 0) {
			e->under_way_by_responder = s->rst_from == 2;
			e->under_way_rst = s->rst_from == 2 ? s->dst : s->src;
			e->under_way_ttl = s->rst_ttl;
		}
		return;
	}
	e->rst_ignored += sm_outcome_rst_ignored(s);
	/* The pair a failing verdict is about: the first session with the outcome
	 * that decides the verdict (rejected over no-answer over one-way). */
	static const uint8_t rank[] = {[SM_OUTCOME_OK] = 0,
	                               [SM_OUTCOME_ONE_WAY] = 1,
	                               [SM_OUTCOME_NO_ANSWER] = 2,
	                               [SM_OUTCOME_REJECTED] = 3};
	if (o != SM_OUTCOME_OK && (!e->tried || rank[o] >= e->try_rank)) {
		/* what the sensors saw of the attempts of the outcome that decides */
		if (!e->tried || rank[o] > e->try_rank) {
			memset(e->at, 0, sizeof(e->at));
			e->fail_first_ns = s->first_ns;
			e->fail_last_ns = s->last_ns;
		}
		if (s->first_ns < e->fail_first_ns)
			e->fail_first_ns = s->first_ns;
		if (s->last_ns > e->fail_last_ns)
			e->fail_last_ns = s->last_ns;
		sm_locate_evidence(p->locate, e, s);
	}
	if (!e->tried || rank[o] > e->try_rank) {
		e->tried = true;
		e->try_rank = rank[o];
		e->try_src = s->src;
		e->try_dst = s->dst;
	}
	/* an attempt cut by an edge of the capture, not one going on from before */
	bool cut = s->edge != 0 && !continues && o != SM_OUTCOME_OK;
	uint32_t len;
	if (cut)
		e->cut_edges |= s->edge;
	switch (o) {
	case SM_OUTCOME_OK:
		e->ok++;
		if (sm_session_stalled(s, &len)) {
			e->stalled++;
			if (len > e->stall_len)
				e->stall_len = len;
		}
		if (!e->satisfied) {
			e->satisfied = true;
			e->sat_src = s->src;
			e->sat_dst = s->dst;
		}
		break;
	case SM_OUTCOME_REJECTED:
		e->rejected++;
		e->cut_rejected += cut;
		if (s->icmp_errors > 0 && !e->icmp_seen) {
			e->icmp_seen = true;
			e->icmp_from = s->icmp_err_from;
			e->icmp_type = s->icmp_err_type;
			e->icmp_code = s->icmp_err_code;
			e->icmp_ttl = s->icmp_err_ttl;
		}
		if (s->rst_from == 2 && !s->rst_ignored && !e->rst_seen) {
			e->rst_seen = true;
			e->rst_from = s->dst;
			e->rst_ttl = s->rst_ttl;
		}
		break;
	case SM_OUTCOME_NO_ANSWER: /* what the unanswered attempts sent */
		e->syns += s->syn_count;
		if (s->proto != SM_PROTO_TCP) /* echo requests, UDP datagrams */
			e->requests += s->pkts[0];
		e->no_answer++;
		e->cut_no_answer += cut;
		e->answer_lost += sm_outcome_answer_lost(s);
		e->answer_late += sm_outcome_answer_reset(s);
		e->bare_acked += sm_outcome_bare_acked(s);
		sm_attempt_remember(e, s);
		break;
	case SM_OUTCOME_ONE_WAY:
		e->one_way++;
		e->cut_one_way += cut;
		break;
	}
}

/* Which member of each role one address is, each role read at most once for a
 * session (a session asks the same roles again and again: seen, its role, the
 * rules, monitored).  Roles past the first MEMO_ROLES are read each time. */
#define MEMO_ROLES 64
struct memo {
	const struct sm_site *site;
	const struct sm_addr *a;
	uint64_t known; /* bit i: m[i] is read */
	int m[MEMO_ROLES];
};

static struct memo
memo_for(const struct sm_policy *p, const struct sm_addr *a)
{
	return (struct memo){.site = p->site, .a = a};
}

/* Which member of role i the address is, -1 none. */
static int
memo_member(struct memo *mo, size_t i)
{
	if (i >= MEMO_ROLES)
		return sm_role_member(&mo->site->roles[i], mo->a);
	if (!(mo->known >> i & 1u)) {
		mo->m[i] = sm_role_member(&mo->site->roles[i], mo->a);
		mo->known |= (uint64_t)1 << i;
	}
	return mo->m[i];
}

/* The same for role r, one of the site's. */
static int
memo_role(struct memo *mo, const struct sm_role *r)
{
	return memo_member(mo, (size_t)(r - mo->site->roles));
}

/* The TTL the packets of the address of mo arrive with: noted from conversations
 * that worked, to tell a reset made in its name by a device in the path. */
static void
note_ttl(struct sm_policy *p, struct memo *mo, uint8_t ttl, bool varies)
{
	for (size_t i = 0; i < p->site->nroles; i++) {
		int m = memo_member(mo, i);
		if (m < 0)
			continue;
		uint16_t *t = &p->members[i][m].ttl;
		if (varies) /* within one session: no one TTL to compare a reset with */
			*t = TTL_VARIES;
		else if (*t == TTL_UNKNOWN)
			*t = (uint16_t)(ttl + 1);
		else if (*t != ttl + 1)
			*t = TTL_VARIES;
	}
}

uint16_t
policy_ttl_of(const struct sm_policy *p, const struct sm_addr *a)
{
	struct memo mo = memo_for(p, a);
	for (size_t i = 0; i < p->site->nroles; i++) {
		int m = memo_member(&mo, i);
		if (m >= 0 && p->members[i][m].ttl != TTL_UNKNOWN)
			return p->members[i][m].ttl;
	}
	return TTL_UNKNOWN;
}

static void
mark_seen(struct sm_policy *p, struct memo *mo)
{
	for (size_t i = 0; i < p->site->nroles; i++) {
		int m = memo_member(mo, i);
		if (m >= 0)
			p->members[i][m].seen = true;
	}
}

static const char *
role_of(const struct sm_policy *p, struct memo *mo)
{
	for (size_t i = 0; i < p->site->nroles; i++)
		if (memo_member(mo, i) >= 0)
			return p->site->roles[i].name;
	return NULL;
}

static bool
monitored(const struct sm_policy *p, struct memo *mo)
{
	for (size_t i = 0; i < p->nmonitored; i++)
		if (memo_role(mo, p->monitored[i]) >= 0)
			return true;
	return false;
}

/* Classifies s; with record, its evidence counts towards the verdicts. */
static void
classify(struct sm_policy *p, const struct sm_session *s, struct sm_classification *out,
         bool record)
{
	struct memo src = memo_for(p, &s->src), dst = memo_for(p, &s->dst);
	if (record) {
		mark_seen(p, &src);
		mark_seen(p, &dst);
		if (s->icmp_errors >
		    0) { /* the sender of an ICMP error about it is in the capture */
			struct memo err = memo_for(p, &s->icmp_err_from);
			mark_seen(p, &err);
		}
		sm_locate_session(p->locate, s);
		if (p->locate == NULL && s->proto == SM_PROTO_TCP && s->syn_seen &&
		    sm_session_established(s)) {
			note_ttl(p, &src, s->ttl[0], s->dir_flags[0] & SM_DIR_TTL_VARIES);
			note_ttl(p, &dst, s->ttl[1], s->dir_flags[1] & SM_DIR_TTL_VARIES);
		}
	}
	out->src_role = role_of(p, &src);
	out->dst_role = role_of(p, &dst);
	out->rule = NULL;
	int best = -1; /* lowest kind wins: expect < optional < allow */
	enum sm_outcome o = sm_outcome_of(s);
	for (size_t i = 0; i < p->rules->nrules; i++) {
		const struct sm_rule *r = &p->rules->rules[i];
		const struct rule_ref *ref = &p->refs[i];
		if (ref->src == NULL || ref->dst == NULL || !proto_matches(r, s))
			continue;
		int sm = memo_role(&src, ref->src);
		int dm = sm < 0 ? -1 : memo_role(&dst, ref->dst);
		if (sm < 0 || dm < 0)
			continue;
		if (best < 0 || (int)r->kind < best) {
			best = (int)r->kind;
			out->rule = r->id;
			out->src_role = r->src_role;
			out->dst_role = r->dst_role;
		}
		for (size_t k = ref->first; record && k < ref->first + ref->count; k++) {
			struct sm_expect_entry *e = &p->entries[k];
			if ((e->src_member < 0 || e->src_member == sm) &&
			    (e->dst_member < 0 || e->dst_member == dm))
				note_evidence(p, e, s, o);
		}
	}
	static const enum sm_class kind_class[] = {
	    [RK_EXPECT] = CL_EXPECTED, [RK_OPTIONAL] = CL_OPTIONAL, [RK_ALLOW] = CL_ALLOWED};
	bool infra =
	    s->proto == SM_PROTO_ICMP6 &&
	    ((s->icmp_type >= SM_ICMP6_MLD_QUERY && s->icmp_type <= SM_ICMP6_ND_REDIRECT) ||
	     s->icmp_type == SM_ICMP6_MLD2_REPORT);
	if (best >= 0) {
		out->cls = kind_class[best];
	} else if (infra) {
		/* Neighbour discovery and MLD: IPv6 cannot work without them. */
		out->cls = CL_ALLOWED;
		out->rule = "builtin:icmp6-nd";
	} else if (monitored(p, &src) || monitored(p, &dst)) {
		out->cls = CL_UNEXPECTED;
	} else {
		out->cls = CL_UNMONITORED;
	}
	out->class_name = sm_class_name(out->cls);
}

void
sm_policy_classify(struct sm_policy *p, const struct sm_session *s, struct sm_classification *out)
{
	classify(p, s, out, true);
}

void
sm_policy_peek(const struct sm_policy *p, const struct sm_session *s, struct sm_classification *out)
{
	classify((struct sm_policy *)p, s, out, false);
}

struct sm_policy *
sm_policy_clone(const struct sm_policy *p)
{
	struct sm_policy *c = sm_policy_new(p->rules, p->site);
	if (c == NULL)
		return NULL;
	memcpy(c->entries, p->entries, p->nentries * sizeof(*p->entries));
	c->visible = p->visible;
	c->visible_ctx = p->visible_ctx;
	if (p->locate != NULL && (c->locate = sm_locate_clone(p->locate)) == NULL) {
		sm_policy_free(c);
		return NULL;
	}
	for (size_t i = 0; i < p->site->nroles; i++) {
		memcpy(c->members[i], p->members[i],
		       (p->site->roles[i].nmembers + 1) * sizeof(**p->members));
	}
	for (size_t i = 0; i < p->ncuts; i++)
		if (!sm_grow((void **)&c->cuts, &c->ncuts, &c->cap_cuts, sizeof(*c->cuts),
		             &p->cuts[i])) {
			sm_policy_free(c);
			return NULL;
		}
	return c;
}

bool
policy_member_seen(const struct sm_policy *p, const struct sm_role *r, int m)
{
	size_t ri = (size_t)(r - p->site->roles);
	if (m >= 0)
		return p->members[ri][m].seen;
	for (size_t i = 0; i < r->nmembers; i++)
		if (p->members[ri][i].seen)
			return true;
	return false;
}

void
sm_policy_set_visibility(struct sm_policy *p, sm_flow_visible_fn fn, void *ctx)
{
	p->visible = fn;
	p->visible_ctx = ctx;
}

/* An address of member m to probe the filter with: the address itself, or the first
 * host of a prefix (its network address may be one no packet ever carries). */
static struct sm_addr
probe_address(const struct sm_member *m)
{
	struct sm_addr a = m->prefix.addr;
	unsigned bits = a.family == 6 ? 128 : 32;
	if (m->prefix.len + 1u < bits) {
		int last = a.family == 6 ? 15 : 3;
		while (last >= 0 && ++a.a[last] == 0) /* network + 1 */
			last--;
	}
	return a;
}

/* Whether the capture filter lets the capture judge entry e.  Attempts seen (no
 * answer, one way): their own pair, where their packets pass, must show the answers
 * too.  Nothing seen: every address pair the entry stands for must be visible in
 * every frame shape (the flow could travel in any).  The pair it cannot show is kept
 * in hidden_src/hidden_dst for the detail. */
static bool
entry_visible(const struct sm_policy *p, struct sm_expect_entry *e)
{
	uint8_t proto = e->rule->proto;
	if (e->verdict == V_NO_ANSWER || e->verdict == V_ONE_WAY) {
		/* a SYN-ACK never acknowledged: whether the acknowledgement passes */
		bool lost = e->verdict == V_NO_ANSWER && e->answer_lost == e->no_answer;
		if (p->visible(p->visible_ctx, proto, &e->try_src, &e->try_dst, e->rule->port,
		               lost ? SM_VISIBLE_FLOW : SM_VISIBLE_HANDSHAKE))
			return true;
		sm_addr_str(&e->try_src, e->hidden_src, sizeof(e->hidden_src));
		sm_addr_str(&e->try_dst, e->hidden_dst, sizeof(e->hidden_dst));
		return false;
	}
	const struct sm_role *sr = e->src_role, *dr = e->dst_role;
	size_t s0 = e->src_member >= 0 ? (size_t)e->src_member : 0;
	size_t s1 = e->src_member >= 0 ? s0 + 1 : sr->nmembers;
	size_t d0 = e->dst_member >= 0 ? (size_t)e->dst_member : 0;
	size_t d1 = e->dst_member >= 0 ? d0 + 1 : dr->nmembers;
	for (size_t i = s0; i < s1; i++)
		for (size_t j = d0; j < d1; j++) {
			struct sm_addr x = probe_address(&sr->members[i]);
			struct sm_addr y = probe_address(&dr->members[j]);
			if (x.family != y.family)
				continue; /* not a pair */
			if (!p->visible(p->visible_ctx, proto, &x, &y, e->rule->port,
			                SM_VISIBLE_FLOW)) {
				sm_strlcpy(e->hidden_src, sr->members[i].text,
				           sizeof(e->hidden_src));
				sm_strlcpy(e->hidden_dst, dr->members[j].text,
				           sizeof(e->hidden_dst));
				return false;
			}
		}
	return true;
}

bool
sm_policy_snap_cut(struct sm_policy *p, uint8_t proto, const struct sm_addr *a,
                   const struct sm_addr *b, uint64_t n)
{
	struct memo ma = memo_for(p, a), mb = memo_for(p, b);
	mark_seen(p, &ma);
	mark_seen(p, &mb);
	struct snap_cut c = {proto, *a, *b, n};
	return sm_grow((void **)&p->cuts, &p->ncuts, &p->cap_cuts, sizeof(c), &c);
}

/* Whether a is member m of role r (any member: m < 0). */
static bool
is_member(const struct sm_role *r, int m, const struct sm_addr *a)
{
	int k = sm_role_member(r, a);
	return k >= 0 && (m < 0 || k == m);
}

/* Packets of e's flow (its protocol, its addresses, either way) whose ports the
 * snap length cut. */
static uint64_t
snap_cut_of(const struct sm_policy *p, const struct sm_expect_entry *e)
{
	uint64_t n = 0;
	for (size_t i = 0; i < p->ncuts; i++) {
		const struct snap_cut *c = &p->cuts[i];
		uint8_t proto = c->proto == SM_PROTO_ICMP6 ? SM_PROTO_ICMP : c->proto;
		if (proto != e->rule->proto)
			continue;
		if ((is_member(e->src_role, e->src_member, &c->a) &&
		     is_member(e->dst_role, e->dst_member, &c->b)) ||
		    (is_member(e->src_role, e->src_member, &c->b) &&
		     is_member(e->dst_role, e->dst_member, &c->a)))
			n += c->n;
	}
	return n;
}

void
sm_policy_finish(struct sm_policy *p)
{
	for (size_t i = 0; i < p->nentries; i++) {
		struct sm_expect_entry *e = &p->entries[i];
		/* Sessions cut by an edge of the capture are no evidence where others
		 * are: a working flow is not failing for them, and the failures seen
		 * whole decide.  Alone, they decide and say so (describe). */
		uint64_t cut = e->cut_rejected + e->cut_no_answer + e->cut_one_way;
		if (cut > 0 && (e->ok > 0 || e->rejected + e->no_answer + e->one_way > cut)) {
			e->rejected -= e->cut_rejected;
			e->no_answer -= e->cut_no_answer;
			e->one_way -= e->cut_one_way;
			e->cut_rejected = e->cut_no_answer = e->cut_one_way = 0;
			e->cut_edges = 0;
		}
		if (e->verdict == V_NA)
			;
		else if (e->ok > 0)
			e->verdict = V_OK;
		else if (e->rejected > 0)
			e->verdict = V_REJECTED;
		else if (e->no_answer > 0)
			e->verdict = V_NO_ANSWER;
		else if (e->one_way > 0)
			e->verdict = V_ONE_WAY;
		else
			e->verdict = V_NOT_SEEN;
		if (e->verdict == V_NOT_SEEN && (e->snap_cut = snap_cut_of(p, e)) > 0)
			e->verdict = V_FILTERED;
		/* a reset or ICMP error seen is evidence whatever the filter hides */
		if (e->verdict != V_OK && e->verdict != V_NA && e->verdict != V_REJECTED &&
		    p->visible != NULL && !entry_visible(p, e))
			e->verdict = V_FILTERED;
		policy_describe(p, e);
		sm_locate_entry(p->locate, e);
	}
}

size_t
sm_policy_entry_count(const struct sm_policy *p)
{
	return p->nentries;
}

const struct sm_expect_entry *
sm_policy_entry(const struct sm_policy *p, size_t i)
{
	return i < p->nentries ? &p->entries[i] : NULL;
}

bool
sm_policy_member_seen(const struct sm_policy *p, const struct sm_role *r, size_t m)
{
	return policy_member_seen(p, r, (int)m);
}

/* The address of one side of an entry (docs/verdicts.md): the pair that satisfied
 * it, else the attempts its verdict is about, else the member it names, else
 * the role's only address; "" when nothing was seen and the role has several,
 * and for a rule that does not apply (it is about no pair). */
static void
side_text(const struct sm_expect_entry *e, const struct sm_role *role, int member,
          const struct sm_addr *sat, const struct sm_addr *tried, char *buf, size_t len)
{
	if (len == 0)
		return;
	buf[0] = '\0';
	if (e->verdict == V_NA)
		return;
	if (e->satisfied) {
		sm_addr_str(sat, buf, len);
	} else if (e->tried) {
		sm_addr_str(tried, buf, len);
	} else if (role != NULL && member >= 0) {
		sm_strlcpy(buf, role->members[member].text, len);
	} else if (role != NULL && role->nmembers == 1) {
		const struct sm_prefix *p = &role->members[0].prefix;
		if (p->len == (p->addr.family == 6 ? 128 : 32))
			sm_addr_str(&p->addr, buf, len);
	}
}

void
sm_entry_src(const struct sm_expect_entry *e, char *buf, size_t len)
{
	side_text(e, e->src_role, e->src_member, &e->sat_src, &e->try_src, buf, len);
}

void
sm_entry_dst(const struct sm_expect_entry *e, char *buf, size_t len)
{
	side_text(e, e->dst_role, e->dst_member, &e->sat_dst, &e->try_dst, buf, len);
}

uint64_t
sm_entry_failed(const struct sm_expect_entry *e)
{
	return e->verdict == V_OK ? e->rejected + e->no_answer + e->stalled : 0;
}

/* What every finding about entry e says of its flow. */
static void
entry_finding_flow(const struct sm_expect_entry *e, struct sm_finding_row *f)
{
	char pbuf[8];
	memset(f, 0, sizeof(*f));
	sm_strlcpy(f->rule, e->rule->id, sizeof(f->rule));
	sm_strlcpy(f->proto, sm_proto_name(e->rule->proto, pbuf, sizeof(pbuf)), sizeof(f->proto));
	f->port = e->rule->proto == SM_PROTO_ICMP ? -1 : e->rule->port;
	f->verdict = V_NONE;
}

bool
sm_policy_entry_finding(const struct sm_expect_entry *e, struct sm_finding_row *f)
{
	bool missing = sm_verdict_failed(e->verdict);
	if ((!missing && sm_entry_failed(e) == 0) || e->rule->kind == RK_ALLOW)
		return false;
	entry_finding_flow(e, f);
	f->kind = missing ? FK_MISSING : FK_INTERMITTENT;
	f->severity = !missing ? SEV_WARNING : e->rule->kind == RK_EXPECT ? SEV_ERROR : SEV_INFO;
	if (!missing && e->try_rank > 0) { /* intermittent: the pair that failed */
		sm_addr_str(&e->try_src, f->src, sizeof(f->src));
		sm_addr_str(&e->try_dst, f->dst, sizeof(f->dst));
	} else {
		sm_entry_src(e, f->src, sizeof(f->src));
		sm_entry_dst(e, f->dst, sizeof(f->dst));
	}
	f->verdict = e->verdict;
	sm_strlcpy(f->detail, e->detail, sizeof(f->detail));
	return true;
}

bool
sm_policy_mismatch_finding(const struct sm_expect_entry *e, struct sm_finding_row *f)
{
	if (e->mismatched == 0)
		return false;
	entry_finding_flow(e, f);
	f->kind = FK_PROTOCOL_MISMATCH;
	f->severity = SEV_ERROR;
	sm_strlcpy(f->proto, "tcp", sizeof(f->proto)); /* app= is read from TCP streams */
	f->port = e->rule->port;
	sm_addr_str(&e->mismatch_src, f->src, sizeof(f->src));
	sm_addr_str(&e->mismatch_dst, f->dst, sizeof(f->dst));
	int n = snprintf(f->detail, sizeof(f->detail),
	                 "%llu session(s) speak %s, not %s as the rule requires%s%s%s",
	                 (unsigned long long)e->mismatched, sm_app_name(e->mismatch_app),
	                 sm_app_name(e->rule->app), e->mismatch_detail[0] ? " (first bytes: " : "",
	                 e->mismatch_detail, e->mismatch_detail[0] ? ")" : "");
	size_t at = n < 0 ? 0 : (size_t)n < sizeof(f->detail) ? (size_t)n : sizeof(f->detail) - 1;
	if (e->mismatch_other_app > 0)
		at += (size_t)snprintf(f->detail + at, sizeof(f->detail) - at,
		                       "; %llu of them another protocol than %s",
		                       (unsigned long long)e->mismatch_other_app,
		                       sm_app_name(e->mismatch_app));
	if (e->mismatch_elsewhere > 0 && at < sizeof(f->detail))
		snprintf(f->detail + at, sizeof(f->detail) - at,
		         "; %llu of them between other addresses than these (smaudit query --port "
		         "%u lists them)",
		         (unsigned long long)e->mismatch_elsewhere, (unsigned)e->rule->port);
	return true;
}

bool
sm_policy_unexpected_finding(void *ctx, const struct sm_unexpected_row *g, struct sm_finding_row *f)
{
	(void)ctx;
	memset(f, 0, sizeof(*f));
	f->kind = FK_UNEXPECTED;
	f->severity = SEV_ERROR;
	sm_strlcpy(f->proto, g->proto, sizeof(f->proto));
	sm_strlcpy(f->src, g->src, sizeof(f->src));
	sm_strlcpy(f->dst, g->dst, sizeof(f->dst));
	f->port = g->port;
	f->verdict = V_NONE;
	snprintf(f->detail, sizeof(f->detail), "%llu session(s), %llu packets, last state %s",
	         (unsigned long long)g->sessions, (unsigned long long)g->packets, g->state);
	return true;
}
