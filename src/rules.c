#include "smaudit/rules.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smaudit/conf.h"

const char *
sm_coverage_name(enum sm_coverage c)
{
	return c == COV_EACH_PAIR ? "each-pair" : c == COV_EACH_MEMBER ? "each-member" : "any";
}

void
sm_rules_free(struct sm_rules *r)
{
	free(r->rules);
	free(r->path);
	memset(r, 0, sizeof(*r));
}

bool
sm_rules_monitors(const struct sm_rules *r, const char *role)
{
	for (size_t i = 0; i < r->nmonitor; i++)
		if (strcmp(r->monitor[i], role) == 0)
			return true;
	return false;
}

struct parse {
	const char *fname;
	int line;
	struct sm_errbuf *eb;
};

static enum sm_err __attribute__((format(printf, 3, 4)))
perr(const struct parse *p, int col, const char *fmt, ...)
{
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return sm_error(p->eb, SM_ERR_CONFIG, "%s:%d:%d: %s", p->fname, p->line, col, what);
}

/* "tls, http, ssh or iscsi": the protocols app=NAME takes, from app.c's table. */
static void
app_names(char *buf, size_t len)
{
	buf[0] = '\0';
	for (size_t i = 0; sm_app_at(i) != APP_NONE; i++) {
		if (i > 0)
			sm_strlcat(buf, sm_app_at(i + 1) != APP_NONE ? ", " : " or ", len);
		sm_strlcat(buf, sm_app_name(sm_app_at(i)), len);
	}
}

const char *
sm_rule_flow(const struct sm_rule *r, char *buf, size_t len)
{
	if (r->proto == 1)
		snprintf(buf, len, "icmp/echo");
	else
		snprintf(buf, len, "%s/%u", r->proto == 6 ? "tcp" : "udp", r->port);
	return buf;
}

/* Appends r from src to dst (roles with their columns): a line of the rules file
 * makes one rule per source and destination role, and with <-> its reverse too.
 * A flow an earlier rule already names is an error: policy would make each of its
 * entries, and each finding, twice. */
static enum sm_err
push_rule(const struct parse *p, struct sm_rules *out, const struct sm_rule *r, const char *src,
          int src_col, const char *dst, int dst_col, bool reverse)
{
	for (size_t i = 0; i < out->nrules; i++) {
		const struct sm_rule *o = &out->rules[i];
		if (o->proto != r->proto || o->port != r->port || strcmp(o->src_role, src) != 0 ||
		    strcmp(o->dst_role, dst) != 0)
			continue;
		char pp[16];
		return perr(p, src_col,
		            "%s %s -> %s is already a rule at %s:%d:%d: write each flow once (a "
		            "repeat would count its entries and findings twice)",
		            sm_rule_flow(r, pp, sizeof(pp)), src, dst, p->fname, o->line,
		            o->src_col);
	}
	struct sm_errbuf *eb = p->eb;
	struct sm_rule *n = realloc(out->rules, (out->nrules + 1) * sizeof(*n));
	if (n == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	out->rules = n;
	struct sm_rule *x = &n[out->nrules++];
	*x = *r;
	sm_strlcpy(x->src_role, src, sizeof(x->src_role));
	sm_strlcpy(x->dst_role, dst, sizeof(x->dst_role));
	x->src_col = src_col;
	x->dst_col = dst_col;
	x->reverse = reverse;
	return SM_OK;
}

/* Splits "a,b,c" in place into role names with their columns; checks each. */
static enum sm_err
split_roles(const struct parse *p, struct sm_tok *t, char names[][SM_ROLE_NAME_MAX], int cols[],
            int *count)
{
	*count = 0;
	char *s = t->s;
	char whole[160]; /* the list as written, for messages: the loop cuts it at commas */
	sm_strlcpy(whole, t->s, sizeof(whole));
	for (;;) {
		char *comma = strchr(s, ',');
		if (comma)
			*comma = '\0';
		if (!sm_role_name_valid(s))
			return perr(p, t->col + (int)(s - t->s),
			            "invalid role name '%s': expected a role name such as ic-a "
			            "(several joined by commas)",
			            s);
		if (*count == SM_MAX_MONITOR)
			return perr(p, t->col, "too many roles in '%s'", t->s);
		for (int k = 0; k < *count; k++)
			if (strcmp(names[k], s) == 0) {
				return perr(p, t->col + (int)(s - t->s),
				            "role '%s' is listed twice in '%s'", s, whole);
			}
		cols[*count] = t->col + (int)(s - t->s);
		sm_strlcpy(names[(*count)++], s, SM_ROLE_NAME_MAX);
		if (!comma)
			return SM_OK;
		s = comma + 1;
	}
}

static enum sm_err
parse_proto_port(const struct parse *p, const struct sm_tok *t, struct sm_rule *r)
{
	char *slash = strchr(t->s, '/');
	if (slash == NULL)
		return perr(p, t->col,
		            "'%s': expected PROTO/PORT such as tcp/11104, udp/53 or icmp/echo",
		            t->s);
	*slash = '\0';
	const char *port = slash + 1;
	int pcol = t->col + (int)(port - t->s);
	if (strcmp(t->s, "icmp") == 0) {
		if (strcmp(port, "echo") != 0)
			return perr(p, pcol, "'%s': ICMP rules take 'echo' (icmp/echo)", port);
		r->proto = 1;
		r->port = 0;
		return SM_OK;
	}
	if (strcmp(t->s, "tcp") == 0)
		r->proto = 6;
	else if (strcmp(t->s, "udp") == 0)
		r->proto = 17;
	else
		return perr(p, t->col, "unknown protocol '%s': expected tcp, udp or icmp", t->s);
	char *end;
	long v = strtol(port, &end, 10);
	if (*port < '0' || *port > '9' || *end != '\0' || v < 1 || v > 65535)
		return perr(p, pcol, "'%s': expected a port number from 1 to 65535", port);
	r->port = (uint16_t)v;
	return SM_OK;
}

static enum sm_err
parse_monitor(const struct parse *p, struct sm_tok *tok, int n, struct sm_rules *out)
{
	if (n < 2)
		return perr(p, tok[0].col, "'%s' needs at least one role name", tok[0].s);
	if (out->monitor_set)
		return perr(p, tok[0].col,
		            "'%s' given twice: list every monitored role on one line", tok[0].s);
	out->monitor_set = true;
	out->monitor_line = p->line;
	for (int i = 1; i < n; i++) {
		char names[SM_MAX_MONITOR][SM_ROLE_NAME_MAX];
		int cols[SM_MAX_MONITOR], cnt;
		enum sm_err e = split_roles(p, &tok[i], names, cols, &cnt);
		if (e != SM_OK)
			return e;
		for (int k = 0; k < cnt; k++) {
			if (out->nmonitor == SM_MAX_MONITOR)
				return perr(p, tok[i].col, "too many monitored roles at '%s'",
				            tok[i].s);
			out->monitor_col[out->nmonitor] = cols[k];
			sm_strlcpy(out->monitor[out->nmonitor++], names[k], SM_ROLE_NAME_MAX);
		}
	}
	return SM_OK;
}

static enum sm_err
parse_rule(const struct parse *p, struct sm_tok *tok, int n, struct sm_rules *out)
{
	struct sm_rule r;
	memset(&r, 0, sizeof(r));
	r.line = p->line;
	snprintf(r.id, sizeof(r.id), "%s:%d", out->name, p->line);
	if (!sm_rule_kind_parse(tok[0].s, &r.kind))
		return perr(p, tok[0].col,
		            "unknown keyword '%s': expected expect, optional, allow or monitor",
		            tok[0].s);
	if (n < 5)
		return perr(p, tok[n - 1].col + (int)strlen(tok[n - 1].s),
		            "incomplete rule: expected '%s PROTO/PORT SRC-ROLES -> DST-ROLES "
		            "[COVERAGE] \"purpose\"'",
		            tok[0].s);
	enum sm_err e = parse_proto_port(p, &tok[1], &r);
	if (e != SM_OK)
		return e;
	char srcs[SM_MAX_MONITOR][SM_ROLE_NAME_MAX], dsts[SM_MAX_MONITOR][SM_ROLE_NAME_MAX];
	int scols[SM_MAX_MONITOR], dcols[SM_MAX_MONITOR], nsrc, ndst;
	if ((e = split_roles(p, &tok[2], srcs, scols, &nsrc)) != SM_OK)
		return e;
	if (strcmp(tok[3].s, "->") == 0)
		r.both = false;
	else if (strcmp(tok[3].s, "<->") == 0)
		r.both = true;
	else
		return perr(p, tok[3].col, "'%s': expected a direction, -> or <->", tok[3].s);
	if ((e = split_roles(p, &tok[4], dsts, dcols, &ndst)) != SM_OK)
		return e;
	bool have_purpose = false, have_cov = false;
	int app_col = 0; /* where the first app= stands; a second would replace it */
	for (int i = 5; i < n; i++) {
		if (tok[i].quoted) {
			if (have_purpose)
				return perr(p, tok[i].col, "second purpose string \"%s\"",
				            tok[i].s);
			sm_strlcpy(r.purpose, tok[i].s, sizeof(r.purpose));
			have_purpose = true;
		} else if (strncmp(tok[i].s, "app=", 4) == 0) {
			if (app_col != 0)
				return perr(p, tok[i].col,
				            "second app= '%s': the rule already requires app=%s "
				            "(column %d); a port carries one protocol",
				            tok[i].s, sm_app_name(r.app), app_col);
			app_col = tok[i].col;
			r.app = sm_app_parse(tok[i].s + 4);
			if (r.app == APP_NONE) {
				char names[128];
				app_names(names, sizeof(names));
				return perr(p, tok[i].col + 4, "unknown app '%s': expected %s",
				            tok[i].s + 4, names);
			}
		} else if (!have_cov &&
		           (strcmp(tok[i].s, "any") == 0 || strcmp(tok[i].s, "each-pair") == 0 ||
		            strcmp(tok[i].s, "each-member") == 0)) {
			r.coverage = tok[i].s[0] == 'a'   ? COV_ANY
			             : tok[i].s[5] == 'p' ? COV_EACH_PAIR
			                                  : COV_EACH_MEMBER;
			have_cov = true;
		} else {
			return perr(p, tok[i].col,
			            "unexpected '%s': expected any, each-pair, each-member, "
			            "app=NAME or a \"purpose\" in double quotes",
			            tok[i].s);
		}
	}
	if (!have_purpose)
		return perr(p, tok[n - 1].col + (int)strlen(tok[n - 1].s),
		            "missing purpose: expected a \"quoted text\" saying what the flow is "
		            "for%s",
		            "");
	for (int s = 0; s < nsrc; s++)
		for (int d = 0; d < ndst; d++) {
			e = push_rule(p, out, &r, srcs[s], scols[s], dsts[d], dcols[d], false);
			/* ic-a <-> ic-a: the reverse is the same flow */
			if (e == SM_OK && r.both && strcmp(srcs[s], dsts[d]) != 0)
				e = push_rule(p, out, &r, dsts[d], dcols[d], srcs[s], scols[s],
				              true);
			if (e != SM_OK)
				return e;
		}
	return SM_OK;
}

enum sm_err
sm_rules_parse(const char *text, const char *fname, struct sm_rules *out, struct sm_errbuf *eb)
{
	memset(out, 0, sizeof(*out));
	const char *base = strrchr(fname, '/');
	sm_strlcpy(out->name, base ? base + 1 : fname, sizeof(out->name));
	out->builtin = text == sm_default_rules;
	out->path = strdup(fname);
	char *copy = strdup(text);
	if (copy == NULL || out->path == NULL) {
		free(copy);
		sm_rules_free(out);
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	}
	char *cursor = copy, *line;
	struct parse p = {fname, 0, eb};
	enum sm_err e = SM_OK;
	while (e == SM_OK && (line = sm_conf_next_line(&cursor)) != NULL) {
		p.line++;
		struct sm_tok tok[SM_CONF_MAX_TOKENS];
		int n;
		e = sm_conf_tokenize(line, fname, p.line, tok, SM_CONF_MAX_TOKENS, NULL, &n, eb);
		if (e != SM_OK)
			break;
		if (n > 0 && strcmp(tok[0].s, "monitor") == 0)
			e = parse_monitor(&p, tok, n, out);
		else if (n > 0)
			e = parse_rule(&p, tok, n, out);
	}
	free(copy);
	if (e == SM_OK && out->nrules == 0)
		e = sm_error(eb, SM_ERR_CONFIG, "%s:%d:1: the rules file defines no rule", fname,
		             p.line > 0 ? p.line : 1);
	if (e == SM_OK && !out->monitor_set) {
		sm_strlcpy(out->monitor[0], "ic-a", SM_ROLE_NAME_MAX);
		sm_strlcpy(out->monitor[1], "ic-b", SM_ROLE_NAME_MAX);
		out->nmonitor = 2;
	}
	if (e != SM_OK)
		sm_rules_free(out);
	return e;
}

enum sm_err
sm_rules_load(const char *path, struct sm_rules *out, struct sm_errbuf *eb)
{
	char *text;
	memset(out, 0, sizeof(*out));
	enum sm_err e = sm_conf_read_file(path, &text, eb);
	if (e != SM_OK)
		return e;
	e = sm_rules_parse(text, path, out, eb);
	free(text);
	return e;
}

static bool
rules_use(const struct sm_rules *r, const char *role)
{
	for (size_t i = 0; i < r->nrules; i++)
		if (!strcmp(r->rules[i].src_role, role) || !strcmp(r->rules[i].dst_role, role))
			return true;
	return sm_rules_monitors(r, role);
}

/* A role the rules use and where it is first written (line 0: by default). */
struct role_use {
	const char *name;
	int line, col;
	bool monitored;
};

/* Roles the rules use that the site lacks, monitored ones first, each once; *n
 * is at most max. */
static void
roles_missing(const struct sm_rules *r, const struct sm_site *s, struct role_use *out, size_t max,
              size_t *n)
{
	*n = 0;
	for (size_t i = 0; i < r->nmonitor && *n < max; i++)
		if (sm_site_role(s, r->monitor[i]) == NULL)
			out[(*n)++] =
			    (struct role_use){r->monitor[i], r->monitor_line,
			                      r->monitor_line ? r->monitor_col[i] : 1, true};
	for (size_t i = 0; i < 2 * r->nrules && *n < max; i++) {
		const struct sm_rule *x = &r->rules[i / 2];
		const char *name = i % 2 ? x->dst_role : x->src_role;
		bool seen = sm_site_role(s, name) != NULL;
		for (size_t k = 0; k < *n && !seen; k++)
			seen = !out[k].monitored && strcmp(out[k].name, name) == 0;
		if (!seen)
			out[(*n)++] = (struct role_use){name, x->line,
			                                i % 2 ? x->dst_col : x->src_col, false};
	}
}

/* The missing role nearest to name among its near misses (the first of equals), or NULL. */
static const char *
meant_role(const char *name, const struct role_use *missing, size_t n)
{
	const char *best = NULL;
	int best_d = 0;
	for (size_t i = 0; i < n; i++) {
		int d = sm_conf_edit_distance(name, missing[i].name);
		if (sm_conf_near_miss(name, missing[i].name) && (best == NULL || d < best_d)) {
			best = missing[i].name;
			best_d = d;
		}
	}
	return best;
}

/* A rule's protocol as its messages name it (with its port: "tcp/3260"). */
static const char *
rule_proto(const struct sm_rule *x)
{
	return x->proto == 6 ? "tcp" : x->proto == 17 ? "udp" : "icmp";
}

/* The address families of a role's members: bit 0 IPv4, bit 1 IPv6. */
static unsigned
families(const struct sm_role *role)
{
	unsigned f = 0;
	for (size_t i = 0; i < role->nmembers; i++)
		f |= role->members[i].prefix.addr.family == 6 ? 2u : 1u;
	return f;
}

/* A rule whose two roles share no address family pairs nothing: no packet can
 * show it, and an each-pair rule has no entry at all (a verdict lost without a
 * word), so it is an error; a role with a family the other lacks is a warning (its
 * addresses of that family are checked by no entry of the rule). */
static enum sm_err
check_families(const struct sm_rules *r, const struct sm_site *s, sm_warn_fn warn, void *ctx,
               struct sm_errbuf *eb)
{
	char msg[512];
	for (size_t i = 0; i < r->nrules; i++) {
		const struct sm_rule *x = &r->rules[i];
		const struct sm_role *a = sm_site_role(s, x->src_role),
		                     *b = sm_site_role(s, x->dst_role);
		if (x->reverse || a == NULL || b == NULL)
			continue;
		unsigned fa = families(a), fb = families(b);
		if ((fa & fb) == 0)
			return sm_error(
			    eb, SM_ERR_CONFIG,
			    "%s:%d:%d: %s and %s have no address family in common (%s has only "
			    "%s addresses, %s only %s): rule %s/%u pairs none of them",
			    s->path, b->line, b->col, a->name, b->name, a->name,
			    fa == 1 ? "IPv4" : "IPv6", b->name, fb == 1 ? "IPv4" : "IPv6",
			    rule_proto(x), (unsigned)x->port);
		if (fa != fb && warn != NULL && x->coverage == COV_EACH_PAIR) {
			const struct sm_role *wide = (fa & ~fb) ? a : b,
			                     *narrow = wide == a ? b : a;
			snprintf(
			    msg, sizeof(msg),
			    "%s:%d:%d: %s has %s addresses and %s none: the each-pair rule %s/%u "
			    "checks none of them",
			    s->path, wide->line, wide->col, wide->name,
			    ((fa | fb) & ~(fa & fb)) == 1 ? "IPv4" : "IPv6", narrow->name,
			    rule_proto(x), (unsigned)x->port);
			warn(ctx, msg);
		}
	}
	return SM_OK;
}

/* A prefix in a role that an each-pair rule (either side) or an each-member rule
 * (its initiators) checks address by address: the rule cannot list the addresses
 * inside it, so the prefix is one member, which any address in it satisfies.
 * Said once per prefix, with the rules, so that nobody reads an 'ok' of it as
 * every LIF's. */
static void
warn_prefixes(const struct sm_rules *r, const struct sm_site *s, sm_warn_fn warn, void *ctx)
{
	for (size_t i = 0; i < s->nroles; i++) {
		const struct sm_role *role = &s->roles[i];
		for (size_t m = 0; m < role->nmembers; m++) {
			const struct sm_member *mb = &role->members[m];
			if (mb->prefix.len == (mb->prefix.addr.family == 6 ? 128 : 32))
				continue;
			char rules[256] = "";
			size_t nr = 0;
			for (size_t k = 0; k < r->nrules; k++) {
				const struct sm_rule *x = &r->rules[k];
				bool per_address =
				    !x->reverse && ((x->coverage == COV_EACH_PAIR &&
				                     (strcmp(x->src_role, role->name) == 0 ||
				                      strcmp(x->dst_role, role->name) == 0)) ||
				                    (x->coverage == COV_EACH_MEMBER &&
				                     strcmp(x->src_role, role->name) == 0));
				if (!per_address)
					continue;
				size_t n = strlen(rules);
				snprintf(rules + n, sizeof(rules) - n, "%s%s/%u", nr++ ? ", " : "",
				         rule_proto(x), (unsigned)x->port);
			}
			if (nr == 0)
				continue;
			char msg[1024];
			snprintf(
			    msg, sizeof(msg),
			    "%s:%d:%d: %s %s is a prefix: the rule(s) %s, which check each "
			    "address, take it as one address that any address in it satisfies; "
			    "list the addresses one by one to check each",
			    s->path, mb->line, mb->col, role->name, mb->text, rules);
			warn(ctx, msg);
		}
	}
}

enum sm_err
sm_rules_check_site(const struct sm_rules *r, const struct sm_site *s, sm_warn_fn warn, void *ctx,
                    struct sm_errbuf *eb)
{
	/* at most every monitored role and both roles of every rule */
	size_t max = r->nmonitor + 2 * r->nrules, nmissing;
	struct role_use *missing = calloc(max ? max : 1, sizeof(*missing));
	if (missing == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	roles_missing(r, s, missing, max, &nmissing);
	enum sm_err e = SM_OK;
	for (size_t i = 0; i < s->nroles && e == SM_OK; i++) {
		const struct sm_role *role = &s->roles[i];
		const char *meant =
		    rules_use(r, role->name) ? NULL : meant_role(role->name, missing, nmissing);
		if (meant != NULL)
			e = sm_error(eb, SM_ERR_CONFIG,
			             "%s:%d:%d: role '%s' is used by no rule; did you mean '%s'?",
			             s->path, role->line, role->col, role->name, meant);
	}
	char msg[512];
	for (size_t i = 0; i < s->nroles && e == SM_OK && warn != NULL; i++)
		if (!rules_use(r, s->roles[i].name)) {
			snprintf(msg, sizeof(msg),
			         "%s:%d:%d: role '%s' is used by no rule of %s; its addresses are "
			         "checked only as unexpected traffic",
			         s->path, s->roles[i].line, s->roles[i].col, s->roles[i].name,
			         r->name);
			warn(ctx, msg);
		}
	for (size_t i = 0; i < nmissing && e == SM_OK && warn != NULL; i++) {
		const struct role_use *u = &missing[i];
		if (u->monitored)
			snprintf(msg, sizeof(msg),
			         "%s:%d:%d: monitored role '%s'%s is not defined in %s; no "
			         "unexpected traffic can be found on it",
			         r->path, u->line ? u->line : 1, u->col, u->name,
			         u->line ? "" : " (by default: no 'monitor' line)", s->path);
		else if (!r->builtin)
			snprintf(msg, sizeof(msg),
			         "%s:%d:%d: role '%s' is not defined in %s; the rules that use it "
			         "are n/a",
			         r->path, u->line, u->col, u->name, s->path);
		else
			continue; /* the report shows the built-in rules it makes n/a */
		warn(ctx, msg);
	}
	free(missing);
	if (e == SM_OK && warn != NULL)
		warn_prefixes(r, s, warn, ctx);
	return e == SM_OK ? check_families(r, s, warn, ctx, eb) : e;
}
