/*
 * locate: where a failing flow's packets stopped (see locate.h).
 */
#include "locate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Site addresses kept pairwise: a site file names a few dozen. */
#define LOCATE_MAX_MEMBERS 512

struct sm_locate {
	const struct sm_site *site;
	const char *const *names;
	size_t nsensors;
	size_t nmembers;
	size_t *base; /* per role: the flat number of its first member */
	/* per ordered pair of members (a -> b) and sensor: the highest TTL of a's
	 * packets to b seen there, 0 = none */
	uint8_t *ttl;
	int64_t first_ns[SM_SENSORS_MAX], last_ns[SM_SENSORS_MAX]; /* what each captured */
	const struct sm_role *near[SM_SENSORS_MAX]; /* `sensor NAME near ROLE`; NULL = none */
};

struct sm_locate *
sm_locate_new(const struct sm_site *site, const char *const *names, size_t nsensors)
{
	struct sm_locate *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->site = site;
	l->names = names;
	l->nsensors = nsensors;
	l->base = calloc(site->nroles + 1, sizeof(*l->base));
	for (size_t i = 0; l->base != NULL && i < site->nroles; i++) {
		l->base[i] = l->nmembers;
		l->nmembers += site->roles[i].nmembers;
	}
	for (size_t k = 0; k < nsensors; k++)
		for (size_t i = 0; i < site->nsensors; i++)
			if (strcmp(site->sensors[i].name, names[k]) == 0)
				l->near[k] = sm_site_role(site, site->sensors[i].role);
	if (l->base == NULL || l->nmembers > LOCATE_MAX_MEMBERS ||
	    (l->ttl = calloc(l->nmembers * l->nmembers * nsensors + 1, 1)) == NULL) {
		sm_locate_free(l);
		return NULL;
	}
	return l;
}

struct sm_locate *
sm_locate_clone(const struct sm_locate *l)
{
	struct sm_locate *c = sm_locate_new(l->site, l->names, l->nsensors);
	if (c != NULL) {
		memcpy(c->ttl, l->ttl, l->nmembers * l->nmembers * l->nsensors);
		memcpy(c->first_ns, l->first_ns, sizeof(c->first_ns));
		memcpy(c->last_ns, l->last_ns, sizeof(c->last_ns));
	}
	return c;
}

void
sm_locate_span(struct sm_locate *l, size_t k, int64_t first_ns, int64_t last_ns)
{
	if (l == NULL || k >= l->nsensors)
		return;
	l->first_ns[k] = first_ns;
	l->last_ns[k] = last_ns;
}

void
sm_locate_free(struct sm_locate *l)
{
	if (l == NULL)
		return;
	free(l->base);
	free(l->ttl);
	free(l);
}

/* The flat number of the first site member holding a, or -1. */
static long
member_of(const struct sm_locate *l, const struct sm_addr *a)
{
	for (size_t i = 0; i < l->site->nroles; i++) {
		int m = sm_role_member(&l->site->roles[i], a);
		if (m >= 0)
			return (long)(l->base[i] + (size_t)m);
	}
	return -1;
}

static uint8_t *
pair_ttl(const struct sm_locate *l, long a, long b)
{
	return &l->ttl[((size_t)a * l->nmembers + (size_t)b) * l->nsensors];
}

void
sm_locate_session(struct sm_locate *l, const struct sm_session *s)
{
	/* only conversations that worked: a forged reset must not teach the path */
	if (l == NULL || s->sight == NULL || !sm_session_established(s))
		return;
	long a = member_of(l, &s->src), b = member_of(l, &s->dst);
	if (a < 0 || b < 0)
		return;
	uint8_t *ab = pair_ttl(l, a, b), *ba = pair_ttl(l, b, a);
	for (size_t k = 0; k < l->nsensors; k++) {
		const struct sm_sighting *f = &s->sight->at[k * 2], *r = &s->sight->at[k * 2 + 1];
		if (f->pkts > 0 && f->ttl_max > ab[k])
			ab[k] = f->ttl_max;
		if (r->pkts > 0 && r->ttl_max > ba[k])
			ba[k] = r->ttl_max;
	}
}

void
sm_locate_evidence(const struct sm_locate *l, struct sm_expect_entry *e, const struct sm_session *s)
{
	if (l == NULL || s->sight == NULL)
		return;
	for (size_t k = 0; k < l->nsensors; k++) {
		const struct sm_sighting *f = &s->sight->at[k * 2], *r = &s->sight->at[k * 2 + 1];
		struct sm_entry_sensor *x = &e->at[k];
		x->fwd += f->pkts;
		x->rev += r->pkts;
		x->syns += f->syns;
		x->synacks += r->syns;
		x->rsts += r->rsts;
		x->icmp += f->icmp_errors;
		if (f->pkts > 0 && f->ttl_max > x->ttl_fwd)
			x->ttl_fwd = f->ttl_max;
		if (r->rsts > 0 && x->rst_ttl == 0)
			x->rst_ttl = r->rst_ttl;
	}
}

/* Where the site file puts sensor k on the path e->try_src -> e->try_dst: -1 near
 * the initiator, 1 near the responder, 0 not said. */
static int
side_of(const struct sm_locate *l, const struct sm_expect_entry *e, size_t k)
{
	if (l->near[k] == NULL)
		return 0;
	if (sm_role_member(l->near[k], &e->try_src) >= 0)
		return -1;
	return sm_role_member(l->near[k], &e->try_dst) >= 0 ? 1 : 0;
}

/* Whether sensor i stands nearer the initiator a than sensor j on the path a -> b:
 * the site file says so (side), or it sees a higher TTL of a's packets (ta: of
 * conversations that worked, else of the failing attempts), or a lower one of b's. */
static bool
nearer(const int *side, const uint8_t *ta, const uint8_t *ba, size_t i, size_t j)
{
	if (side[i] != side[j])
		return side[i] < side[j];
	if (ta[i] && ta[j] && ta[i] != ta[j])
		return ta[i] > ta[j];
	if (ba[i] && ba[j] && ba[i] != ba[j])
		return ba[i] < ba[j];
	return i < j;
}

/* The sensors on the path of e's pair, nearest the initiator first: those that
 * saw packets between the two addresses (of any flow).  Returns how many. */
static size_t
path_of(const struct sm_locate *l, const struct sm_expect_entry *e, size_t *order,
        const uint8_t **ab_out, const uint8_t **ba_out)
{
	long a = member_of(l, &e->try_src), b = member_of(l, &e->try_dst);
	if (a < 0 || b < 0)
		return 0;
	const uint8_t *ab = pair_ttl(l, a, b), *ba = pair_ttl(l, b, a);
	*ab_out = ab;
	*ba_out = ba;
	int side[SM_SENSORS_MAX];
	uint8_t ta[SM_SENSORS_MAX];
	size_t n = 0;
	for (size_t k = 0; k < l->nsensors; k++) {
		side[k] = side_of(l, e, k);
		ta[k] = ab[k] ? ab[k] : e->at[k].fwd > 0 ? e->at[k].ttl_fwd : 0;
		if (!ab[k] && !ba[k] && !e->at[k].fwd && !e->at[k].rev && side[k] == 0)
			continue; /* not on this path: nothing counts against it */
		if (!e->at[k].fwd && !e->at[k].rev &&
		    (l->first_ns[k] > e->fail_last_ns || l->last_ns[k] < e->fail_first_ns))
			continue; /* not capturing while any of the attempts were made */
		size_t at = n++;
		while (at > 0 && nearer(side, ta, ba, k, order[at - 1])) {
			order[at] = order[at - 1];
			at--;
		}
		order[at] = k;
	}
	return n;
}

static void append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	if (used + 1 >= len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static void
set_between(struct sm_expect_entry *e, const char *x, const char *y)
{
	/* sensor names are letters, digits, '.', '_' and '-' (cli.c), addresses too */
	snprintf(e->lost_between, sizeof(e->lost_between), "[\"%s\", \"%s\"]", x, y);
}

/* The path as JSON: each sensor on it, what it saw of the failing attempts. */
static void
path_json(const struct sm_locate *l, struct sm_expect_entry *e, const size_t *order, size_t n)
{
	snprintf(e->path, sizeof(e->path), "[");
	for (size_t i = 0; i < n; i++) {
		const struct sm_entry_sensor *x = &e->at[order[i]];
		char ttl[8] = "null";
		if (x->fwd > 0)
			snprintf(ttl, sizeof(ttl), "%u", x->ttl_fwd);
		append(e->path, sizeof(e->path),
		       "%s{\"sensor\": \"%s\", \"seen\": %llu, \"ttl\": %s, \"answers\": %llu, "
		       "\"resets\": %u}",
		       i ? ", " : "", l->names[order[i]], (unsigned long long)x->fwd, ttl,
		       (unsigned long long)x->rev, x->rsts);
	}
	append(e->path, sizeof(e->path), "]");
}

/* An ICMP error about the attempts: where the device that sent it stands, from the
 * sensors that saw the error and the next one towards the responder that did not. */
static void
icmp_located(const struct sm_locate *l, struct sm_expect_entry *e, const size_t *order, size_t n)
{
	const struct sm_entry_sensor *at = e->at;
	size_t last = n;
	for (size_t i = 0; i < n; i++)
		if (at[order[i]].icmp > 0)
			last = i;
	if (last == n)
		return;
	char b[SM_ADDRSTRLEN], from[SM_ADDRSTRLEN];
	sm_addr_str(&e->try_dst, b, sizeof(b));
	sm_addr_str(&e->icmp_from, from, sizeof(from));
	bool claims_dst = sm_addr_eq(&e->icmp_from, &e->try_dst);
	const char *x = l->names[order[last]];
	if (last + 1 == n) {
		if (!claims_dst) {
			append(e->detail, sizeof(e->detail),
			       "; the ICMP error from %s was seen at %s, the sensor nearest %s: %s "
			       "stands between %s and %s",
			       from, x, b, from, x, b);
			set_between(e, x, b);
		}
		return;
	}
	const char *y = l->names[order[last + 1]];
	if (claims_dst)
		append(e->detail, sizeof(e->detail),
		       "; the ICMP error was seen at %s, never at %s, which is nearer %s: made "
		       "between %s and %s, not by %s",
		       x, y, b, x, y, b);
	else
		append(e->detail, sizeof(e->detail),
		       "; the ICMP error from %s was seen at %s, never at %s: %s stands between "
		       "%s and %s",
		       from, x, y, from, x, y);
	set_between(e, x, y);
}

void
sm_locate_entry(const struct sm_locate *l, struct sm_expect_entry *e)
{
	e->path[0] = e->lost_between[0] = '\0';
	if (l == NULL || (e->verdict != V_NO_ANSWER && e->verdict != V_REJECTED))
		return;
	size_t order[SM_SENSORS_MAX];
	const uint8_t *ab = NULL, *ba = NULL;
	size_t n = path_of(l, e, order, &ab, &ba);
	if (n == 0)
		return;
	path_json(l, e, order, n);
	char a[SM_ADDRSTRLEN], b[SM_ADDRSTRLEN];
	sm_addr_str(&e->try_src, a, sizeof(a));
	sm_addr_str(&e->try_dst, b, sizeof(b));
	const char *what = e->rule->proto == SM_PROTO_TCP ? "SYN" : "request";
	const struct sm_entry_sensor *at = e->at;
	size_t d = sizeof(e->detail);
	if (e->verdict == V_REJECTED && e->rst_seen) {
		/* the reset claims the responder: the sensor nearest it must see it too */
		size_t last = n;
		for (size_t i = 0; i < n; i++)
			if (at[order[i]].rsts > 0)
				last = i;
		if (last == n || last + 1 == n)
			return; /* no sensor saw it, or the one nearest the responder did */
		size_t x = order[last], y = order[last + 1];
		char ttl[96] = "";
		if (ba[x] && ba[x] != at[x].rst_ttl)
			snprintf(ttl, sizeof(ttl), ", where %s's packets arrive with TTL %u", b,
			         ba[x]);
		append(e->detail, d,
		       "; the RST was seen at %s (TTL %u%s), never at %s, which is nearer %s%s: "
		       "made between %s and %s, not by %s",
		       l->names[x], at[x].rst_ttl, ttl, l->names[y], b,
		       at[y].fwd > 0 ? " and saw the attempt" : " (the attempt never reached it)",
		       l->names[x], l->names[y], b);
		set_between(e, l->names[x], l->names[y]);
		return;
	}
	if (e->verdict == V_REJECTED && e->icmp_seen) {
		icmp_located(l, e, order, n);
		return;
	}
	if (e->verdict != V_NO_ANSWER)
		return;
	/* From the initiator: the last sensor that saw the attempt, the next that did
	 * not.  A sensor that saw the pair's packets one way only, the responder's, does
	 * not see the way the attempt goes (a span of one direction): it says nothing
	 * of it, and leaves the path. */
	size_t kept = 0;
	for (size_t k = 0; k < n; k++)
		if (at[order[k]].fwd > 0 || ab[order[k]] || !ba[order[k]])
			order[kept++] = order[k];
	bool half = kept < n; /* some sensors see the other way only */
	n = kept;
	if (n == 0)
		return;
	size_t i = 0;
	while (i < n && at[order[i]].fwd > 0)
		i++;
	if (i == 0) {
		append(e->detail, d, "; no sensor saw the %s although %s is on its path", what,
		       l->names[order[0]]);
		set_between(e, a, l->names[order[0]]);
		return;
	}
	const char *seen = l->names[order[i - 1]];
	if (i < n) {
		size_t k = order[i];
		const char *missed = l->names[k];
		char why[160];
		if (ab[k] || ba[k])
			snprintf(why, sizeof(why), "saw other packets between %s and %s", a, b);
		else /* on the path by the site file's word alone */
			snprintf(why, sizeof(why), "stands near %s (site file: sensor %s near %s)",
			         b, missed, l->near[k] ? l->near[k]->name : "?");
		append(e->detail, d,
		       "; %s seen at %s (TTL %u, %u sent), never at %s, which %s: lost "
		       "between %s and %s",
		       what, seen, at[order[i - 1]].ttl_fwd, at[order[i - 1]].syns, missed, why,
		       seen, missed);
		set_between(e, seen, missed);
		return;
	}
	/* every sensor saw it: did an answer come back part of the way? */
	size_t j = n;
	while (j > 0 && at[order[j - 1]].synacks + at[order[j - 1]].rev > 0)
		j--;
	if (j < n && j > 0) {
		const char *last = l->names[order[j]], *lost = l->names[order[j - 1]];
		append(e->detail, d,
		       "; %s seen at every sensor; the answer from %s was seen at %s, never at "
		       "%s: lost between %s and %s",
		       what, b, last, lost, last, lost);
		set_between(e, last, lost);
		return;
	}
	if (j == n) {
		if (n == 1)
			append(e->detail, d,
			       "; %s seen at %s (TTL %u), the only sensor %s, no answer seen: lost "
			       "between %s and %s, or %s does not answer",
			       what, seen, at[order[0]].ttl_fwd,
			       half ? "that sees this way of its path"
			            : "capturing on its path then",
			       seen, b, b);
		else
			append(
			    e->detail, d,
			    "; %s seen at every sensor up to %s (TTL %u), no answer seen at any: "
			    "lost between %s and %s, or %s does not answer",
			    what, seen, at[order[n - 1]].ttl_fwd, seen, b, b);
		set_between(e, seen, b);
	}
}
