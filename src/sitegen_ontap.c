/*
 * sitegen_ontap: a site from the text of ONTAP's `network interface show -fields
 * address,role,service-policy,vserver` (table, rows wrapped or not, or -instance),
 * its default view when the command line names the role, and `snapmirror mediator
 * show`.  A LIF is never classified by its name: what cannot be read is an error
 * or a warning with its FILE:LINE, never dropped silently.
 */
#include "sitegen_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The LIF command smaudit reads best; every message that asks for output names it. */
#define ONTAP_LIF_COMMAND "network interface show -fields address,role,service-policy,vserver"
#define ONTAP_READS                                                                                \
	"'" ONTAP_LIF_COMMAND "' (or -instance), 'network interface show -role intercluster' and " \
	"'snapmirror mediator show'"

struct lif {
	char vserver[64], name[96], role[32], addr[64], policy[64];
	/* the cluster whose prompt ("clusterA::>") the output came under; "" when the
	 * paste has no command line: then its vserver names it (an intercluster LIF of
	 * a custom IPspace has the IPspace's SVM for vserver, not the cluster) */
	char cluster[64];
	const char *path; /* the file it was read from; not owned */
	char where[128];  /* "FILE:LINE" */
};

static int
gen_cluster(struct gen *g, const char *vserver, const char *path)
{
	for (size_t i = 0; i < g->nclusters; i++)
		if (strcmp(g->clusters[i], vserver) == 0)
			return (int)i;
	if (g->nclusters == 2)
		return -1;
	sm_strlcpy(g->clusters[g->nclusters], vserver, sizeof(g->clusters[0]));
	g->cluster_file[g->nclusters] = path;
	return (int)g->nclusters++;
}

/* Service policies of LIFs that play no part in SM-as ports (data, cluster). */
static bool
policy_not_smas(const char *policy)
{
	return strncmp(policy, "default-data-", 13) == 0 ||
	       strcmp(policy, "default-cluster") == 0 ||
	       strcmp(policy, "default-route-announce") == 0;
}

/* Classifies one LIF; data and cluster LIFs play no part in SM-as ports and are skipped.
 * An unreadable address or a third cluster is an error naming the LIF's line; a LIF
 * whose role is not shown and whose policy does not say it (*left: why) is left out. */
static enum sm_err
gen_lif(struct gen *g, const struct lif *l, const char **left, struct sm_errbuf *eb)
{
	enum gen_role r;
	*left = NULL;
	if (strcmp(l->role, "intercluster") == 0 ||
	    (l->role[0] == '\0' && strstr(l->policy, "intercluster") != NULL))
		r = GR_IC;
	else if (strcmp(l->role, "cluster-mgmt") == 0)
		r = GR_CLUSTER_MGMT;
	else if (strcmp(l->role, "node-mgmt") == 0)
		r = GR_NODE_MGMT;
	else if (l->role[0] != '\0' || policy_not_smas(l->policy))
		return SM_OK;
	else {
		*left = strstr(l->policy, "management") != NULL
		            ? "a management service policy is that of cluster, node and SVM "
		              "management LIFs alike"
		            : "its service policy names no service smaudit knows (as "
		              "default-intercluster does)";
		return SM_OK;
	}
	struct sm_addr a;
	if (!sm_addr_parse(l->addr, &a))
		return sm_error(eb, SM_ERR_CONFIG, "%s: LIF %s %s: '%s' is not an IP address",
		                l->where, l->vserver, l->name, l->addr);
	const char *cluster = l->cluster[0] ? l->cluster : l->vserver;
	int c = gen_cluster(g, cluster, l->path);
	if (c < 0)
		return sm_error(eb, SM_ERR_CONFIG,
		                "%s: a third cluster (%s): give the outputs of the two SM-as "
		                "clusters only%s",
		                l->where, cluster,
		                l->cluster[0] ? ""
		                              : " (without its command line, a LIF's cluster is "
		                                "its vserver: an intercluster LIF of a custom "
		                                "IPspace names the IPspace; paste the command "
		                                "lines, 'clusterA::> ...', too)");
	const struct gen_entry *other = gen_clash(g, r, c, l->addr);
	if (other != NULL)
		return sm_error(
		    eb, SM_ERR_CONFIG,
		    "%s: LIF %s %s: %s is already a LIF of cluster %s (%s): one address "
		    "cannot be both clusters'; a site file gives an address one role",
		    l->where, l->vserver, l->name, l->addr, g->clusters[other->cluster],
		    other->why);
	char why[512];
	snprintf(why, sizeof(why), "%s: %s %s (%s%s%s)", l->where, l->vserver, l->name,
	         l->role[0] ? l->role : "", l->role[0] && l->policy[0] ? ", " : "", l->policy);
	gen_add(g, r, c, l->addr, why);
	return SM_OK;
}

static char *
trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Where the reader is in a file that may hold the output of several commands. */
enum ontap_section {
	SEC_NONE,     /* between outputs: only a header, a record or a command line fits */
	SEC_OTHER,    /* the output of a command smaudit does not read */
	SEC_FIELDS,   /* network interface show -fields ...: one LIF a row */
	SEC_DEFAULT,  /* network interface show (default view) filtered on one role */
	SEC_MEDIATOR, /* snapmirror mediator show */
	SEC_INSTANCE, /* -instance: "Key: value" records */
};

#define MAX_COLS 12
/* The default view: Vserver, Logical Interface, Status Admin/Oper, Network Address/Mask,
 * Current Node, Current Port, Is Home. */
#define DEFAULT_VIEW_COLS 7

struct ontap_reader {
	struct gen *g;
	const char *path; /* not owned */
	sm_warn_fn warn;
	void *warn_ctx;
	struct sm_errbuf *eb;
	int lineno;
	enum ontap_section sec;
	/* the last command line ("cluster1::> ...") and the role its filter names */
	char cmd[128];
	int cmd_line;
	char cmd_role[32];
	char prompt_cluster[64]; /* the cluster of the last command line's prompt */
	/* the default view being read: the role its command named, and that line */
	char table_role[32];
	int table_role_line;
	/* rows read of the table being read, for its "N entries were displayed" */
	size_t rows;
	/* ONTAP's pager prompt, with no row after it yet: the paste may stop there */
	int pager_line;
	/* the table being read: column names (-fields) and count, header line */
	char cols[MAX_COLS][32];
	size_t ncols;
	int header_line;
	size_t base_indent; /* of the header: rows indented more are wrapped */
	/* the row being read; ONTAP wraps a row whose value overflows its column onto
	 * indented lines, so a row ends when it has ncols values */
	char cells[MAX_COLS][96];
	size_t ncells;
	int row_line;
	char group[64]; /* default view: the Vserver heading the rows below it */
	/* -instance record */
	struct lif rec;
	bool in_record, rec_key_read;
	/* a run of lines not read, reported as one warning */
	int ign_first, ign_last;
	char ign_text[80];
};

static void ontap_warn(struct ontap_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
ontap_warn(struct ontap_reader *r, const char *fmt, ...)
{
	if (r->warn == NULL)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->warn(r->warn_ctx, msg);
}

/* The paste stops at ONTAP's pager prompt: the rows after it are missing. */
static void
pager_cut(struct ontap_reader *r)
{
	ontap_warn(r,
	           "%s:%d: the output stops at ONTAP's pager prompt: the LIFs after it are "
	           "missing and in no role (run 'rows 0' before the command to print it whole)",
	           r->path, r->pager_line);
}

/* One LIF read (a row or a record): classified, or a warning why it is left out. */
static enum sm_err
reader_lif(struct ontap_reader *r, const struct lif *l)
{
	const char *left;
	enum sm_err e = gen_lif(r->g, l, &left, r->eb);
	r->rows++;
	if (e == SM_OK && left != NULL)
		ontap_warn(r,
		           "%s: LIF %s %s (%s) left out: its role is not shown, and %s: give the "
		           "role column ('" ONTAP_LIF_COMMAND "') or add it to the site file "
		           "by hand",
		           l->where, l->vserver, l->name, l->addr, left);
	return e;
}

/* A line smaudit does not read: joins the current run of such lines. */
static void
ignore_line(struct ontap_reader *r, int lineno, const char *text)
{
	if (r->ign_first == 0) {
		r->ign_first = lineno;
		sm_strlcpy(r->ign_text, text, sizeof(r->ign_text));
	}
	r->ign_last = lineno;
}

static void
report_ignored(struct ontap_reader *r)
{
	if (r->ign_first == 0)
		return;
	char lines[48];
	if (r->ign_first == r->ign_last)
		snprintf(lines, sizeof(lines), "line %d", r->ign_first);
	else
		snprintf(lines, sizeof(lines), "lines %d-%d", r->ign_first, r->ign_last);
	ontap_warn(r, "%s:%d: %s not read ('%s'): smaudit reads %s", r->path, r->ign_first, lines,
	           r->ign_text, ONTAP_READS);
	r->ign_first = r->ign_last = 0;
}

static void
lif_init(struct ontap_reader *r, struct lif *l, int lineno)
{
	memset(l, 0, sizeof(*l));
	l->path = r->path;
	sm_strlcpy(l->cluster, r->prompt_cluster, sizeof(l->cluster));
	snprintf(l->where, sizeof(l->where), "%s:%d", r->path, lineno);
}

/* ONTAP shows an empty value as "-". */
static void
copy_value(char *dst, const char *val, size_t size)
{
	sm_strlcpy(dst, strcmp(val, "-") == 0 ? "" : val, size);
}

static enum sm_err
gen_mediator(struct ontap_reader *r, const char *addr, int lineno)
{
	struct sm_addr a, any;
	if (!sm_addr_parse(addr, &a))
		return sm_error(r->eb, SM_ERR_CONFIG,
		                "%s:%d: Mediator address '%s' is not an IP address", r->path,
		                lineno, addr);
	sm_addr_parse("0.0.0.0", &any);
	if (sm_addr_eq(&a, &any)) {
		/* the ONTAP Cloud Mediator: reached over HTTPS 443, no mediator host to name */
		ontap_warn(r,
		           "%s:%d: the ONTAP Cloud Mediator (0.0.0.0): no role mediator (the "
		           "clusters reach it over HTTPS 443 from their management LIFs)",
		           r->path, lineno);
		return SM_OK;
	}
	char why[160];
	snprintf(why, sizeof(why), "%s:%d: snapmirror mediator show", r->path, lineno);
	gen_add(r->g, GR_MEDIATOR, -1, addr, why);
	return SM_OK;
}

/* A complete row of the current table. */
static enum sm_err
table_row(struct ontap_reader *r)
{
	struct lif l;
	lif_init(r, &l, r->row_line);
	if (r->sec == SEC_MEDIATOR)
		return gen_mediator(r, r->cells[0], r->row_line);
	if (r->sec == SEC_DEFAULT) {
		sm_strlcpy(l.vserver, r->cells[0], sizeof(l.vserver));
		sm_strlcpy(l.name, r->cells[1], sizeof(l.name));
		sm_strlcpy(l.addr, r->cells[3], sizeof(l.addr));
		l.addr[strcspn(l.addr, "/")] = '\0'; /* Address/Mask */
		sm_strlcpy(l.role, r->table_role, sizeof(l.role));
		snprintf(l.policy, sizeof(l.policy), "role from the command on line %d",
		         r->table_role_line);
		return reader_lif(r, &l);
	}
	for (size_t k = 0; k < r->ncols; k++) {
		const char *c = r->cols[k], *v = r->cells[k];
		if (strcmp(c, "vserver") == 0)
			copy_value(l.vserver, v, sizeof(l.vserver));
		else if (strcmp(c, "lif") == 0)
			copy_value(l.name, v, sizeof(l.name));
		else if (strcmp(c, "address") == 0)
			copy_value(l.addr, v, sizeof(l.addr));
		else if (strcmp(c, "role") == 0)
			copy_value(l.role, v, sizeof(l.role));
		else if (strcmp(c, "service-policy") == 0)
			copy_value(l.policy, v, sizeof(l.policy));
	}
	return reader_lif(r, &l);
}

/* The row being read cannot continue: it must be complete (or, in the default view,
 * a Vserver heading). */
static enum sm_err
row_end(struct ontap_reader *r)
{
	size_t n = r->ncells;
	r->ncells = 0;
	if (n == 0 || (r->sec == SEC_DEFAULT && n == 1))
		return SM_OK;
	return sm_error(r->eb, SM_ERR_CONFIG,
	                "%s:%d: this row has %zu of the %zu columns of the table on line %d",
	                r->path, r->row_line, n, r->ncols, r->header_line);
}

/* One line of a table: a row, or the rest of a row ONTAP wrapped (indented). */
static enum sm_err
table_line(struct ontap_reader *r, char *s, bool indented)
{
	enum sm_err e = SM_OK;
	if (!indented) {
		if ((e = row_end(r)) != SM_OK)
			return e;
	} else if (r->ncells == 0) {
		/* the default view lists a Vserver's LIFs below it */
		if (r->sec != SEC_DEFAULT || r->group[0] == '\0')
			return sm_error(r->eb, SM_ERR_CONFIG,
			                "%s:%d: an indented line, but no row of the table on "
			                "line %d to continue",
			                r->path, r->lineno, r->header_line);
		sm_strlcpy(r->cells[0], r->group, sizeof(r->cells[0]));
		r->ncells = 1;
	}
	/* a row is named by its first line; in the default view, by its LIF's */
	if (r->ncells == 0 || (r->sec == SEC_DEFAULT && r->ncells == 1))
		r->row_line = r->lineno;
	if (r->ncols == 0)
		return sm_error(r->eb, SM_ERR_CONFIG,
		                "%s:%d: a row before the separator line (----) of the table on "
		                "line %d",
		                r->path, r->lineno, r->header_line);
	for (char *t = strtok(s, " \t"); t != NULL; t = strtok(NULL, " \t")) {
		if (r->ncells == r->ncols)
			return sm_error(r->eb, SM_ERR_CONFIG,
			                "%s:%d: more values than the %zu columns of the table on "
			                "line %d",
			                r->path, r->lineno, r->ncols, r->header_line);
		if (sm_strlcpy(r->cells[r->ncells], t, sizeof(r->cells[0])) >= sizeof(r->cells[0]))
			return sm_error(r->eb, SM_ERR_CONFIG, "%s:%d: value too long: '%.40s...'",
			                r->path, r->lineno, t);
		r->ncells++;
	}
	if (r->sec == SEC_DEFAULT && !indented)
		sm_strlcpy(r->group, r->cells[0], sizeof(r->group));
	if (r->ncells < r->ncols)
		return SM_OK;
	e = table_row(r);
	r->ncells = 0;
	return e;
}

/* The current output ends (a blank line, a trailer, a new command or header, the end). */
static enum sm_err
section_end(struct ontap_reader *r)
{
	enum sm_err e = row_end(r);
	if (e == SM_OK && r->in_record)
		e = reader_lif(r, &r->rec);
	r->in_record = false;
	return e;
}

/* "cluster1::> cmd" or "cluster1::*> cmd" (advanced privilege), or typed in a
 * command directory, "cluster1::network interface> cmd": the command, whole
 * ("network interface cmd"), in buf. */
static char *
command_line(const char *low, char *buf, size_t size)
{
	const char *p = strstr(low, "::");
	if (p == NULL)
		return NULL;
	p += 2;
	size_t dir = strspn(p, "abcdefghijklmnopqrstuvwxyz- ");
	const char *gt = p + dir;
	if (*gt == '*')
		gt++;
	if (*gt != '>' || (dir > 0 && p[0] == ' '))
		return NULL;
	snprintf(buf, size, "%.*s %s", (int)dir, p, gt + 1);
	return trim(buf);
}

/* True if cmd is the command want, each word possibly abbreviated ("net int show"). */
static bool
command_is(const char *cmd, const char *want)
{
	while (*want != '\0') {
		cmd += strspn(cmd, " \t");
		size_t n = strcspn(cmd, " \t"), w = strcspn(want, " ");
		if (n == 0 || n > w || strncmp(cmd, want, n) != 0)
			return false;
		cmd += n;
		want += w + strspn(want + w, " ");
	}
	return true;
}

/* The one LIF role a command's filter names ("-role intercluster", or the service
 * policy of intercluster LIFs), "" when it names none or several. */
static void
command_role(const char *cmd, char *role, size_t size)
{
	static const char *const roles[] = {"cluster", "data", "node-mgmt", "cluster-mgmt",
	                                    "intercluster"};
	role[0] = '\0';
	char word[2][64] = {"", ""};
	for (const char *p = cmd + strspn(cmd, " \t"); *p != '\0'; p += strspn(p, " \t")) {
		size_t n = strcspn(p, " \t");
		sm_strlcpy(word[0], word[1], sizeof(word[0]));
		snprintf(word[1], sizeof(word[1]), "%.*s", (int)n, p);
		p += n;
		if (strcmp(word[0], "-service-policy") == 0 &&
		    strcmp(word[1], "default-intercluster") == 0)
			sm_strlcpy(role, "intercluster", size);
		if (strcmp(word[0], "-role") != 0)
			continue;
		for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
			if (strcmp(word[1], roles[i]) == 0)
				sm_strlcpy(role, roles[i], size);
	}
}

static bool
is_separator(const char *s)
{
	return s[0] == '-' && s[strspn(s, "- ")] == '\0';
}

static size_t
count_words(const char *s)
{
	size_t n = 0;
	for (s += strspn(s, " \t"); *s != '\0'; s += strspn(s, " \t"), n++)
		s += strcspn(s, " \t");
	return n;
}

/* What kind of table a header line opens; SEC_NONE if it is no header smaudit knows. */
static enum ontap_section
header_kind(const char *low)
{
	char first[32] = "", second[32] = "";
	if (strchr(low, ':') != NULL)
		return SEC_NONE;
	if (strncmp(low, "mediator address", 16) == 0)
		return SEC_MEDIATOR;
	sscanf(low, "%31s %31s", first, second);
	if (strcmp(first, "vserver") != 0)
		return SEC_NONE;
	if (strstr(low, "address/mask") != NULL)
		return SEC_DEFAULT;
	return strcmp(second, "lif") == 0 ? SEC_FIELDS : SEC_NONE;
}

/* Starts reading the table whose header is line low (a header_kind). */
static enum sm_err
open_table(struct ontap_reader *r, enum ontap_section kind, const char *low, size_t indent)
{
	r->sec = kind;
	r->rows = 0;
	r->header_line = r->lineno;
	r->base_indent = indent;
	r->ncells = 0;
	r->group[0] = '\0';
	if (kind == SEC_MEDIATOR) {
		r->ncols = 0; /* counted on the separator line: the names have spaces */
		return SM_OK;
	}
	if (kind == SEC_DEFAULT) {
		r->ncols = DEFAULT_VIEW_COLS;
		/* the role names this table only: a later default view needs its own
		 * command line (typed at a prompt smaudit reads, and pasted) */
		sm_strlcpy(r->table_role, r->cmd_role, sizeof(r->table_role));
		r->table_role_line = r->cmd_line;
		r->cmd_role[0] = '\0';
		if (r->table_role[0] != '\0')
			return SM_OK;
		return sm_error(r->eb, SM_ERR_CONFIG,
		                "%s:%d: the default view of 'network interface show' has no role "
		                "column, and telling intercluster from management LIFs by name "
		                "would be a guess: run '" ONTAP_LIF_COMMAND "' and give its output "
		                "(a default view is read only when its command line names the "
		                "role, e.g. 'network interface show -role intercluster')",
		                r->path, r->lineno);
	}
	bool address = false, role = false;
	r->ncols = 0;
	for (const char *p = low; *p != '\0' && r->ncols < MAX_COLS; p += strspn(p, " \t")) {
		size_t n = strcspn(p, " \t");
		char *col = r->cols[r->ncols++];
		snprintf(col, sizeof(r->cols[0]), "%.*s", (int)n, p);
		address |= strcmp(col, "address") == 0;
		role |= strcmp(col, "role") == 0 || strcmp(col, "service-policy") == 0;
		p += n;
	}
	if (!address) {
		/* a LIF table of other fields (home-port, ...): nothing in it to read */
		r->sec = SEC_OTHER;
		ignore_line(r, r->lineno, low);
		return SM_OK;
	}
	if (role)
		return SM_OK;
	return sm_error(r->eb, SM_ERR_CONFIG,
	                "%s:%d: this table has neither a role nor a service-policy column, so "
	                "its LIFs cannot be told apart: run '" ONTAP_LIF_COMMAND "' and give "
	                "its output",
	                r->path, r->lineno);
}

/* One "Key: value" line of -instance output. */
static enum sm_err
instance_line(struct ontap_reader *r, char *s, char *colon)
{
	char text[128]; /* the line as it was, for a warning */
	sm_strlcpy(text, s, sizeof(text));
	*colon = '\0';
	char *key = trim(s), *val = trim(colon + 1);
	lower(key);
	enum sm_err e = SM_OK;
	r->rec_key_read = true;
	if (strcmp(key, "vserver name") == 0 || strcmp(key, "vserver") == 0) {
		e = section_end(r);
		lif_init(r, &r->rec, r->lineno);
		r->in_record = true;
		sm_strlcpy(r->rec.vserver, val, sizeof(r->rec.vserver));
	} else if (strcmp(key, "mediator address") == 0 ||
	           strcmp(key, "mediator ip address") == 0) {
		if ((e = section_end(r)) == SM_OK)
			e = gen_mediator(r, val, r->lineno);
		lif_init(r, &r->rec, r->lineno); /* its other keys belong to no LIF */
		r->in_record = true;
	} else if (!r->in_record || strcmp(key, "error") == 0 || strcmp(key, "warning") == 0) {
		ignore_line(r, r->lineno, text);
		return SM_OK;
	} else if (strcmp(key, "logical interface name") == 0 ||
	           strcmp(key, "logical interface") == 0) {
		copy_value(r->rec.name, val, sizeof(r->rec.name));
	} else if (strcmp(key, "role") == 0 || strcmp(key, "(deprecated)-role") == 0) {
		copy_value(r->rec.role, val, sizeof(r->rec.role));
	} else if (strcmp(key, "network address") == 0 || strcmp(key, "address") == 0) {
		copy_value(r->rec.addr, val, sizeof(r->rec.addr));
	} else if (strcmp(key, "service policy") == 0) {
		copy_value(r->rec.policy, val, sizeof(r->rec.policy));
	} else {
		r->rec_key_read = false; /* a field smaudit does not need */
	}
	r->sec = SEC_INSTANCE;
	report_ignored(r);
	return e;
}

static bool
is_trailer(const char *low)
{
	return strstr(low, "entries were displayed") != NULL ||
	       strstr(low, "entry was displayed") != NULL ||
	       strstr(low, "there are no entries matching your query") != NULL ||
	       strstr(low, "this table is currently empty") != NULL;
}

static enum sm_err
ontap_line(struct ontap_reader *r, char *s, size_t indent)
{
	char low[1024];
	sm_strlcpy(low, s, sizeof(low));
	lower(low);
	enum sm_err e = SM_OK;
	bool in_table = r->sec == SEC_FIELDS || r->sec == SEC_DEFAULT || r->sec == SEC_MEDIATOR;
	char *cmd, cmdbuf[1100];
	enum ontap_section kind;
	if (*s == '\0') {
		if (r->sec == SEC_OTHER)
			return SM_OK;
		e = section_end(r);
		if (r->sec != SEC_INSTANCE)
			r->sec = SEC_NONE;
		return e;
	}
	if (strncmp(low, "press <space> to page down", 26) == 0) {
		r->pager_line = r->lineno;
		return SM_OK;
	}
	if (r->pager_line != 0) { /* the output goes on, unless a new command comes */
		if (command_line(low, cmdbuf, sizeof(cmdbuf)) != NULL)
			pager_cut(r);
		r->pager_line = 0;
	}
	if ((cmd = command_line(low, cmdbuf, sizeof(cmdbuf))) != NULL) {
		e = section_end(r);
		report_ignored(r);
		r->cmd_line = r->lineno;
		r->rows = 0;
		snprintf(r->prompt_cluster, sizeof(r->prompt_cluster), "%.*s",
		         (int)(strstr(s, "::") - s), s);
		sm_strlcpy(r->cmd, s, sizeof(r->cmd));
		command_role(cmd, r->cmd_role, sizeof(r->cmd_role));
		r->sec = *cmd == '\0' || command_is(cmd, "network interface show") ||
		                 command_is(cmd, "snapmirror mediator show")
		             ? SEC_NONE
		             : SEC_OTHER;
		return e;
	}
	if ((kind = header_kind(low)) != SEC_NONE) {
		if ((e = section_end(r)) != SM_OK)
			return e;
		report_ignored(r);
		return open_table(r, kind, low, indent);
	}
	/* the first header line of the default view: its second line decides */
	if (!in_table && strncmp(low, "logical", 7) == 0 && strstr(low, "status") != NULL) {
		e = section_end(r);
		report_ignored(r);
		r->sec = SEC_NONE;
		return e;
	}
	if (r->sec == SEC_OTHER) {
		/* the output of a command not read: the run starts at its command line */
		ignore_line(r, r->cmd_line ? r->cmd_line : r->lineno, r->cmd_line ? r->cmd : s);
		ignore_line(r, r->lineno, s);
		return SM_OK;
	}
	if (is_trailer(low)) {
		enum ontap_section was = r->sec;
		e = section_end(r);
		report_ignored(r);
		r->sec = SEC_NONE;
		unsigned long said = strtoul(low, NULL, 10);
		if (e == SM_OK &&
		    (was == SEC_FIELDS || was == SEC_DEFAULT || was == SEC_INSTANCE) && said > 0 &&
		    said != r->rows)
			ontap_warn(
			    r,
			    "%s:%d: ONTAP says %lu LIF(s), smaudit read %zu: the output above "
			    "is not whole (cut at the pager, a line lost in the paste); the LIFs "
			    "missing from it are in no role",
			    r->path, r->lineno, said, r->rows);
		return e;
	}
	if (in_table) {
		report_ignored(r);
		if (!is_separator(s))
			return table_line(r, s, indent > r->base_indent);
		if (r->ncols == 0) {
			r->ncols = count_words(s);
			if (r->ncols > MAX_COLS)
				return sm_error(
				    r->eb, SM_ERR_CONFIG,
				    "%s:%d: a table of %zu columns, more than any ONTAP output "
				    "smaudit reads (%d)",
				    r->path, r->lineno, r->ncols, MAX_COLS);
		}
		return SM_OK;
	}
	char *colon = strchr(s, ':');
	if (colon != NULL)
		return instance_line(r, s, colon);
	if (r->sec == SEC_INSTANCE && r->in_record && indent > 0) {
		/* a value ONTAP wrapped onto the next line */
		if (!r->rec_key_read)
			return SM_OK;
		return sm_error(r->eb, SM_ERR_CONFIG,
		                "%s:%d: a wrapped value of a field smaudit reads: give the "
		                "table output ('" ONTAP_LIF_COMMAND "') instead",
		                r->path, r->lineno);
	}
	ignore_line(r, r->lineno, s);
	return SM_OK;
}

/* Columns of leading white space (tabs to the next multiple of 8). */
static size_t
indentation(const char *line)
{
	size_t n = 0;
	for (; *line == ' ' || *line == '\t'; line++)
		n = *line == '\t' ? (n / 8 + 1) * 8 : n + 1;
	return n;
}

static enum sm_err
ontap_file(struct gen *g, const char *path, sm_warn_fn warn, void *warn_ctx, struct sm_errbuf *eb)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return sm_error(eb, SM_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
	struct ontap_reader *r = calloc(1, sizeof(*r));
	if (r == NULL) {
		fclose(f);
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	}
	*r = (struct ontap_reader){
	    .g = g, .path = path, .warn = warn, .warn_ctx = warn_ctx, .eb = eb};
	char line[1024];
	enum sm_err e = SM_OK;
	while (e == SM_OK && fgets(line, sizeof(line), f) != NULL) {
		r->lineno++;
		if (r->lineno == 1 && memcmp(line, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 BOM */
			memmove(line, line + 3, strlen(line + 3) + 1);
		if (strchr(line, '\n') == NULL && !feof(f))
			e = sm_error(eb, SM_ERR_CONFIG, "%s:%d: line longer than %zu characters",
			             path, r->lineno, sizeof(line) - 2);
		else
			e = ontap_line(r, trim(line), indentation(line));
	}
	if (e == SM_OK)
		e = section_end(r);
	if (r->pager_line != 0)
		pager_cut(r);
	report_ignored(r);
	if (e == SM_OK && ferror(f))
		e = sm_error(eb, SM_ERR_IO, "%s: read error", path);
	fclose(f);
	free(r);
	return e;
}

/* A site without one side's intercluster LIFs leaves every intercluster rule n/a. */
static void
warn_missing_side(const struct gen *g, const char *first_file, sm_warn_fn warn, void *warn_ctx)
{
	bool ic[2] = {false, false};
	for (size_t i = 0; i < g->n; i++)
		if (g->e[i].role == GR_IC && g->e[i].cluster >= 0)
			ic[g->e[i].cluster] = true;
	if ((ic[0] && ic[1]) || warn == NULL)
		return;
	char msg[512];
	if (!ic[0] && !ic[1]) {
		snprintf(msg, sizeof(msg),
		         "%s: no intercluster LIFs: give the output of '" ONTAP_LIF_COMMAND
		         "' of both clusters, or roles ic-a and ic-b stay undefined and every "
		         "intercluster rule is n/a",
		         first_file);
	} else {
		int have = ic[0] ? 0 : 1;
		snprintf(msg, sizeof(msg),
		         "%s: only cluster '%s' has intercluster LIFs (role ic-%c); give the "
		         "output of the peer cluster too, or role ic-%c stays undefined and every "
		         "intercluster rule is n/a",
		         g->cluster_file[have], g->clusters[have], "ab"[have], "ab"[1 - have]);
	}
	warn(warn_ctx, msg);
}

enum sm_err
sm_site_from_ontap(const char *const *files, size_t nfiles, FILE *out, sm_warn_fn warn,
                   void *warn_ctx, struct sm_errbuf *eb)
{
	struct gen g;
	memset(&g, 0, sizeof(g));
	enum sm_err e = SM_OK;
	for (size_t i = 0; e == SM_OK && i < nfiles; i++)
		e = ontap_file(&g, files[i], warn, warn_ctx, eb);
	if (e == SM_OK && g.oom)
		e = sm_error(eb, SM_ERR_NOMEM, "out of memory");
	if (e == SM_OK && g.n == 0)
		e = sm_error(eb, SM_ERR_CONFIG, "%s: no LIF or Mediator found: expected %s",
		             files[0], ONTAP_READS);
	if (e == SM_OK) {
		warn_missing_side(&g, files[0], warn, warn_ctx);
		fprintf(out,
		        "# Site file made by smaudit site --from-ontap; cluster a = %s, b = %s.\n"
		        "# Add the admin hosts (role admin) and check every line.\n\n",
		        g.clusters[0][0] ? g.clusters[0] : "?",
		        g.clusters[1][0] ? g.clusters[1] : "?");
		gen_write(&g, out);
	}
	gen_free(&g);
	return e;
}
