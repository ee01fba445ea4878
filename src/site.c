#include "smaudit/site.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smaudit/conf.h"

bool
sm_role_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= SM_ROLE_NAME_MAX || !isalpha((unsigned char)name[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
			return false;
	return true;
}

void
sm_site_free(struct sm_site *s)
{
	for (size_t i = 0; i < s->nroles; i++)
		free(s->roles[i].members);
	free(s->roles);
	free(s->sensors);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

const struct sm_role *
sm_site_role(const struct sm_site *s, const char *name)
{
	for (size_t i = 0; i < s->nroles; i++)
		if (strcmp(s->roles[i].name, name) == 0)
			return &s->roles[i];
	return NULL;
}

int
sm_role_member(const struct sm_role *r, const struct sm_addr *a)
{
	for (size_t i = 0; i < r->nmembers; i++)
		if (sm_prefix_contains(&r->members[i].prefix, a))
			return (int)i;
	return -1;
}

/*
 * An address in two roles would count its traffic for both, silently changing
 * verdicts: an error naming both places.  Checks member k of role j against the
 * roles written before it.
 */
static enum sm_err
check_overlaps_before(const struct sm_site *s, size_t j, size_t k, struct sm_errbuf *eb)
{
	const struct sm_member *y = &s->roles[j].members[k];
	for (size_t i = 0; i < j; i++) {
		const struct sm_role *r = &s->roles[i];
		for (size_t m = 0; m < r->nmembers; m++) {
			const struct sm_member *x = &r->members[m];
			if (sm_prefix_overlap(&x->prefix, &y->prefix))
				return sm_error(eb, SM_ERR_CONFIG,
				                "%s:%d:%d: %s (role %s) overlaps %s of role %s at "
				                "%s:%d:%d",
				                s->path, y->line, y->col, y->text, s->roles[j].name,
				                x->text, r->name, s->path, x->line, x->col);
		}
	}
	return SM_OK;
}

/* In file order, so the error reported is the earliest line. */
static enum sm_err
check_overlaps(const struct sm_site *s, struct sm_errbuf *eb)
{
	enum sm_err e = SM_OK;
	for (size_t j = 0; j < s->nroles && e == SM_OK; j++)
		for (size_t k = 0; k < s->roles[j].nmembers && e == SM_OK; k++)
			e = check_overlaps_before(s, j, k, eb);
	return e;
}

/*
 * Appends p to r.  A repeat within the role is only a warning, and a prefix
 * inside an earlier one is left out: no address could ever match it, so its
 * expected flows would all be "not-seen".
 */
static enum sm_err
add_member(const struct sm_site *s, struct sm_role *r, const struct sm_prefix *p, int line, int col,
           sm_warn_fn warn, void *ctx, struct sm_errbuf *eb)
{
	struct sm_member m = {.prefix = *p, .line = line, .col = col};
	char buf[SM_ADDRSTRLEN];
	sm_addr_str(&p->addr, buf, sizeof(buf));
	unsigned full = p->addr.family == 4 ? 32 : 128;
	if (p->len == full)
		sm_strlcpy(m.text, buf, sizeof(m.text));
	else
		snprintf(m.text, sizeof(m.text), "%s/%u", buf, p->len);
	bool covered = false;
	for (size_t i = 0; i < r->nmembers; i++) {
		const struct sm_member *x = &r->members[i];
		if (!sm_prefix_overlap(&x->prefix, p))
			continue;
		covered = covered || x->prefix.len <= p->len;
		if (warn == NULL)
			continue;
		char msg[512];
		snprintf(msg, sizeof(msg),
		         "%s:%d:%d: %s (role %s) overlaps %s of the same role at %s:%d:%d; listing "
		         "it once is enough",
		         s->path, line, col, m.text, r->name, x->text, s->path, x->line, x->col);
		warn(ctx, msg);
	}
	if (covered)
		return SM_OK;
	struct sm_member *n = realloc(r->members, (r->nmembers + 1) * sizeof(*n));
	if (n == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	r->members = n;
	n[r->nmembers++] = m;
	return SM_OK;
}

/* `sensor NAME near ROLE` (the role may be defined later in the file). */
static enum sm_err
parse_sensor(struct sm_site *out, const struct sm_tok *tok, int n, const char *fname, int lineno,
             struct sm_errbuf *eb)
{
	if (n != 4 || strcmp(tok[2].s, "near") != 0)
		return sm_error(eb, SM_ERR_CONFIG,
		                "%s:%d:%d: expected 'sensor NAME near ROLE', as in 'sensor site-b "
		                "near ic-b'",
		                fname, lineno, tok[0].col);
	size_t len = strlen(tok[1].s);
	bool ok = len > 0 && len < sizeof(out->sensors->name);
	for (size_t i = 0; ok && i < len; i++)
		ok = isalnum((unsigned char)tok[1].s[i]) || strchr("._-", tok[1].s[i]) != NULL;
	if (!ok)
		return sm_error(eb, SM_ERR_CONFIG,
		                "%s:%d:%d: invalid sensor name '%s': 1 to %d letters, digits, '.', "
		                "'_' or '-' (as --sensor takes it)",
		                fname, lineno, tok[1].col, tok[1].s, SM_SENSOR_NAME_MAX - 1);
	for (size_t i = 0; i < out->nsensors; i++)
		if (strcmp(out->sensors[i].name, tok[1].s) == 0)
			return sm_error(eb, SM_ERR_CONFIG,
			                "%s:%d:%d: sensor %s is already placed on line %d", fname,
			                lineno, tok[1].col, tok[1].s, out->sensors[i].line);
	struct sm_site_sensor *ns = realloc(out->sensors, (out->nsensors + 1) * sizeof(*ns));
	if (ns == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	out->sensors = ns;
	struct sm_site_sensor *x = &ns[out->nsensors++];
	sm_strlcpy(x->name, tok[1].s, sizeof(x->name));
	sm_strlcpy(x->role, tok[3].s, sizeof(x->role));
	x->line = lineno;
	x->col = tok[3].col;
	return SM_OK;
}

enum sm_err
sm_site_parse(const char *text, const char *fname, struct sm_site *out, sm_warn_fn warn, void *ctx,
              struct sm_errbuf *eb)
{
	memset(out, 0, sizeof(*out));
	char *copy = strdup(text);
	out->path = strdup(fname);
	if (copy == NULL || out->path == NULL) {
		free(copy);
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	}
	char *cursor = copy, *line;
	enum sm_err e = SM_OK;
	for (int lineno = 1; e == SM_OK && (line = sm_conf_next_line(&cursor)) != NULL; lineno++) {
		struct sm_tok tok[SM_CONF_MAX_TOKENS];
		int n;
		if ((e = sm_conf_tokenize(line, fname, lineno, tok, SM_CONF_MAX_TOKENS,
		                          "continue on another line 'role NAME ADDRESS...' of the "
		                          "same role",
		                          &n, eb)) != SM_OK)
			break;
		if (n == 0)
			continue;
		if (strcmp(tok[0].s, "sensor") == 0) {
			e = parse_sensor(out, tok, n, fname, lineno, eb);
			continue;
		}
		if (strcmp(tok[0].s, "role") != 0) {
			e = sm_error(
			    eb, SM_ERR_CONFIG,
			    "%s:%d:%d: unknown keyword '%s': expected 'role NAME ADDRESS...' "
			    "or 'sensor NAME near ROLE'",
			    fname, lineno, tok[0].col, tok[0].s);
			break;
		}
		if (n < 2) {
			e = sm_error(eb, SM_ERR_CONFIG,
			             "%s:%d:%d: 'role' needs a name and at least one address",
			             fname, lineno, tok[0].col + 4);
			break;
		}
		if (!sm_role_name_valid(tok[1].s)) {
			e = sm_error(eb, SM_ERR_CONFIG,
			             "%s:%d:%d: invalid role name '%s': expected a letter then "
			             "letters, digits, '-' or '_' (at most %d characters)",
			             fname, lineno, tok[1].col, tok[1].s, SM_ROLE_NAME_MAX - 1);
			break;
		}
		if (n < 3) {
			e = sm_error(eb, SM_ERR_CONFIG,
			             "%s:%d:%d: role '%s' lists no address: expected IPv4/IPv6 "
			             "addresses or CIDR prefixes after the name",
			             fname, lineno, tok[1].col + (int)strlen(tok[1].s), tok[1].s);
			break;
		}
		/* A role named again goes on: a site of hundreds of LIFs, one line each or
		 * one line per node, lists them all; the role keeps its first line. */
		struct sm_role *r = NULL;
		for (size_t i = 0; i < out->nroles && r == NULL; i++)
			if (strcmp(out->roles[i].name, tok[1].s) == 0)
				r = &out->roles[i];
		if (r == NULL) {
			struct sm_role *nr = realloc(out->roles, (out->nroles + 1) * sizeof(*nr));
			if (nr == NULL) {
				e = sm_error(eb, SM_ERR_NOMEM, "out of memory");
				break;
			}
			out->roles = nr;
			r = &nr[out->nroles++];
			memset(r, 0, sizeof(*r));
			sm_strlcpy(r->name, tok[1].s, sizeof(r->name));
			r->line = lineno;
			r->col = tok[1].col;
		}
		for (int i = 2; i < n && e == SM_OK; i++) {
			struct sm_prefix p;
			const char *why;
			if (!sm_prefix_parse(tok[i].s, &p, &why)) {
				e = sm_error(eb, SM_ERR_CONFIG,
				             "%s:%d:%d: '%s': %s (expected e.g. 10.10.1.11, "
				             "fd00:20::11 or 10.99.0.0/24)",
				             fname, lineno, tok[i].col, tok[i].s, why);
				break;
			}
			e = add_member(out, r, &p, lineno, tok[i].col, warn, ctx, eb);
		}
	}
	free(copy);
	for (size_t i = 0; e == SM_OK && i < out->nsensors; i++)
		if (sm_site_role(out, out->sensors[i].role) == NULL)
			e = sm_error(
			    eb, SM_ERR_CONFIG,
			    "%s:%d:%d: sensor %s is near role '%s', which the file does not "
			    "define",
			    fname, out->sensors[i].line, out->sensors[i].col, out->sensors[i].name,
			    out->sensors[i].role);
	if (e == SM_OK && out->nroles == 0) /* an empty file, or every line commented out */
		e = sm_error(eb, SM_ERR_CONFIG,
		             "%s:1:1: no role defined: a site file names who is who, a line 'role "
		             "NAME ADDR|CIDR...' a role (docs/site-file.md)",
		             fname);
	if (e == SM_OK)
		e = check_overlaps(out, eb);
	if (e != SM_OK)
		sm_site_free(out);
	return e;
}

enum sm_err
sm_site_load(const char *path, struct sm_site *out, sm_warn_fn warn, void *ctx,
             struct sm_errbuf *eb)
{
	char *text;
	memset(out, 0, sizeof(*out));
	enum sm_err e = sm_conf_read_file(path, &text, eb);
	if (e != SM_OK)
		return e;
	e = sm_site_parse(text, path, out, warn, ctx, eb);
	free(text);
	return e;
}
