/*
 * sitegen: the site being generated (src/sitegen_int.h) and the guess from
 * traffic: who talks 11104/11105/3260/31784 to whom.  The reader of ONTAP's
 * command output is src/sitegen_ontap.c.
 */
#include "sitegen_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "smaudit/capture.h"
#include "smaudit/decode.h"
#include "smaudit/session.h"

static const char *const gen_role_name[GR_COUNT] = {"ic", "cluster-mgmt", "node-mgmt", "mediator",
                                                    "admin"};

bool
gen_add(struct gen *g, enum gen_role role, int cluster, const char *addr, const char *why)
{
	struct sm_addr a;
	if (!sm_addr_parse(addr, &a))
		return false;
	struct gen_entry x = {role, cluster, "", ""};
	sm_addr_str(&a, x.addr, sizeof(x.addr));
	sm_strlcpy(x.why, why, sizeof(x.why));
	for (size_t i = 0; i < g->n; i++) {
		if (strcmp(g->e[i].addr, x.addr) != 0)
			continue;
		if (g->e[i].role == role && g->e[i].cluster == cluster)
			return true; /* the same LIF again */
		/* the first role found keeps the address */
		struct gen_left_out l = {x, i};
		if (!sm_grow((void **)&g->left, &g->nleft, &g->capleft, sizeof(l), &l))
			g->oom = true;
		return true;
	}
	if (!sm_grow((void **)&g->e, &g->n, &g->cap, sizeof(x), &x))
		g->oom = true;
	return true;
}

const struct gen_entry *
gen_clash(const struct gen *g, enum gen_role role, int cluster, const char *addr)
{
	struct sm_addr a;
	char text[SM_ADDRSTRLEN];
	if (!sm_addr_parse(addr, &a))
		return NULL;
	sm_addr_str(&a, text, sizeof(text));
	for (size_t i = 0; i < g->n; i++)
		if (g->e[i].role == role && g->e[i].cluster != cluster &&
		    strcmp(g->e[i].addr, text) == 0)
			return &g->e[i];
	return NULL;
}

const char *
gen_role_str(enum gen_role r, int cluster, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", gen_role_name[r], cluster < 0 ? "" : cluster ? "-b" : "-a");
	return buf;
}

void
gen_free(struct gen *g)
{
	free(g->e);
	free(g->left);
}

void
gen_write(const struct gen *g, FILE *out)
{
	char name[64], kept[64];
	for (int r = 0; r < GR_COUNT; r++)
		for (int c = -1; c < 2; c++) {
			bool clustered = r <= GR_NODE_MGMT;
			if (clustered != (c >= 0))
				continue;
			size_t n = 0;
			for (size_t i = 0; i < g->n; i++)
				if (g->e[i].role == (enum gen_role)r && g->e[i].cluster == c)
					fprintf(out, "# %s\n", g->e[i].why), n++;
			if (n == 0)
				continue;
			fprintf(out, "role %s",
			        gen_role_str((enum gen_role)r, c, name, sizeof(name)));
			for (size_t i = 0; i < g->n; i++)
				if (g->e[i].role == (enum gen_role)r && g->e[i].cluster == c)
					fprintf(out, " %s", g->e[i].addr);
			fputs("\n\n", out);
		}
	for (size_t i = 0; i < g->nleft; i++) {
		const struct gen_entry *x = &g->left[i].entry, *k = &g->e[g->left[i].kept];
		fprintf(
		    out,
		    "# left out: %s as %s (%s): it is already %s, and an address has one role\n",
		    x->addr, gen_role_str(x->role, x->cluster, name, sizeof(name)), x->why,
		    gen_role_str(k->role, k->cluster, kept, sizeof(kept)));
	}
}

/* ---- ONTAP command output ---- */

/* ---- guessed from traffic ---- */

struct guess_flow {
	struct sm_addr src, dst;
	uint16_t dport;
	bool established;
};

struct guess {
	struct guess_flow *f;
	size_t n, cap;
	bool oom;
};

static void
guess_session(void *ctx, const struct sm_session *s, enum sm_session_end why)
{
	struct guess *gs = ctx;
	(void)why;
	if (s->proto != SM_PROTO_TCP)
		return;
	uint16_t p = s->dport;
	if (p != 11104 && p != 11105 && p != 3260 && p != 31784 && p != 22)
		return;
	struct guess_flow f = {s->src, s->dst, p, sm_session_established(s)};
	if (!sm_grow((void **)&gs->f, &gs->n, &gs->cap, sizeof(f), &f))
		gs->oom = true;
}

static size_t
common_bits(const struct sm_addr *x, const struct sm_addr *y)
{
	if (x->family != y->family)
		return 0;
	size_t n = 0;
	for (size_t i = 0; i < 16; i++) {
		uint8_t d = x->a[i] ^ y->a[i];
		if (d == 0) {
			n += 8;
			continue;
		}
		while (!(d & 0x80))
			d = (uint8_t)(d << 1), n++;
		break;
	}
	return n;
}

#define SIDE_UNKNOWN (-2)

static int
gen_side(const struct gen *g, const struct sm_addr *a, enum gen_role role)
{
	/* the side whose intercluster LIFs share the longest prefix with a; a tie
	 * between the sides (a management network of its own per site, or one for
	 * both) says nothing: SIDE_UNKNOWN */
	size_t best = 0;
	int side = -1;
	for (size_t i = 0; i < g->n; i++) {
		struct sm_addr ic;
		if (g->e[i].role != role || !sm_addr_parse(g->e[i].addr, &ic))
			continue;
		size_t b = common_bits(a, &ic);
		if (b > best)
			best = b, side = g->e[i].cluster;
		else if (b == best && b > 0 && side >= 0 && g->e[i].cluster != side)
			side = SIDE_UNKNOWN;
	}
	return side;
}

static bool
gen_has(const struct gen *g, enum gen_role r, const struct sm_addr *a)
{
	char t[SM_ADDRSTRLEN];
	sm_addr_str(a, t, sizeof(t));
	for (size_t i = 0; i < g->n; i++)
		if (g->e[i].role == r && strcmp(g->e[i].addr, t) == 0)
			return true;
	return false;
}

/* Two sides from the 11104/11105 sessions: each session joins opposite sides. */
static void
guess_intercluster(struct gen *g, const struct guess *gs)
{
	char s[SM_ADDRSTRLEN], d[SM_ADDRSTRLEN], why[160];
	/* pass 0 places sessions touching a known address; pass 1 places the rest */
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < gs->n; i++) {
			const struct guess_flow *f = &gs->f[i];
			if (!f->established || (f->dport != 11104 && f->dport != 11105))
				continue;
			sm_addr_str(&f->src, s, sizeof(s));
			sm_addr_str(&f->dst, d, sizeof(d));
			int ss = -1, ds = -1;
			for (size_t k = 0; k < g->n; k++) {
				if (strcmp(g->e[k].addr, s) == 0)
					ss = g->e[k].cluster;
				if (strcmp(g->e[k].addr, d) == 0)
					ds = g->e[k].cluster;
			}
			if (ss < 0 && ds < 0 && g->n > 0 && round == 0)
				continue; /* a later round places it once a neighbour is known */
			if (ss < 0)
				ss = ds < 0 ? 0 : 1 - ds;
			if (ds < 0)
				ds = 1 - ss;
			snprintf(why, sizeof(why), "%s: opened SnapMirror tcp/%u to %s (answered)",
			         s, f->dport, d);
			gen_add(g, GR_IC, ss, s, why);
			snprintf(why, sizeof(why), "%s: answered SnapMirror tcp/%u from %s", d,
			         f->dport, s);
			gen_add(g, GR_IC, ds, d, why);
		}
}

/* A management LIF as near one cluster's intercluster LIFs as the other's: left out,
 * and said so once (done: the addresses said so already). */
#define UNSIDED_MAX 64
struct unsided {
	char addr[UNSIDED_MAX][SM_ADDRSTRLEN];
	size_t n;
};

static void
warn_no_side(struct unsided *done, const struct sm_addr *a, sm_warn_fn warn, void *warn_ctx)
{
	char s[SM_ADDRSTRLEN], msg[512];
	sm_addr_str(a, s, sizeof(s));
	for (size_t i = 0; i < done->n; i++)
		if (strcmp(done->addr[i], s) == 0)
			return;
	if (done->n < UNSIDED_MAX)
		sm_strlcpy(done->addr[done->n++], s, SM_ADDRSTRLEN);
	if (warn == NULL)
		return;
	snprintf(msg, sizeof(msg),
	         "site --guess: %s speaks to the Mediator but is as near cluster a's "
	         "intercluster LIFs as cluster b's: its side is unknown, left out; add it to "
	         "the cluster it belongs to (network interface show) as its cluster-mgmt or "
	         "node-mgmt",
	         s);
	warn(warn_ctx, msg);
}

static void
guess_mediator(struct gen *g, const struct guess *gs, sm_warn_fn warn, void *warn_ctx)
{
	struct unsided done = {.n = 0};
	char s[SM_ADDRSTRLEN], d[SM_ADDRSTRLEN], why[160];
	for (size_t i = 0; i < gs->n; i++) {
		const struct guess_flow *f = &gs->f[i];
		if (f->dport != 31784)
			continue;
		sm_addr_str(&f->dst, d, sizeof(d));
		snprintf(why, sizeof(why), "%s: listens on tcp/31784 (Mediator service)", d);
		gen_add(g, GR_MEDIATOR, -1, d, why);
	}
	for (size_t i = 0; i < gs->n; i++) {
		const struct guess_flow *f = &gs->f[i];
		if (!gen_has(g, GR_MEDIATOR, &f->dst) || gen_has(g, GR_IC, &f->src))
			continue;
		sm_addr_str(&f->src, s, sizeof(s));
		int side = gen_side(g, &f->src, GR_IC);
		if (side == SIDE_UNKNOWN && f->dport != 22) {
			warn_no_side(&done, &f->src, warn, warn_ctx);
			continue;
		}
		if (f->dport == 22) {
			snprintf(why, sizeof(why), "%s: SSH to the Mediator (an admin host?)", s);
			gen_add(g, GR_ADMIN, -1, s, why);
		} else if (f->dport == 3260 && side >= 0) {
			snprintf(why, sizeof(why),
			         "%s: iSCSI to the Mediator (node management LIF; side by address)",
			         s);
			gen_add(g, GR_NODE_MGMT, side, s, why);
		}
	}
	/* 31784 without 3260: the cluster management LIF */
	for (size_t i = 0; i < gs->n; i++) {
		const struct guess_flow *f = &gs->f[i];
		int side = gen_side(g, &f->src, GR_IC);
		if (f->dport != 31784 || side < 0 || gen_has(g, GR_NODE_MGMT, &f->src))
			continue;
		sm_addr_str(&f->src, s, sizeof(s));
		snprintf(why, sizeof(why),
		         "%s: Mediator REST API only (cluster management LIF; side by address)", s);
		gen_add(g, GR_CLUSTER_MGMT, side, s, why);
	}
}

/* A cluster has one cluster management LIF: more on one side, and some of them are
 * node management LIFs whose iSCSI to the Mediator was not seen (blocked, say). */
static void
warn_cluster_mgmt(const struct gen *g, sm_warn_fn warn, void *warn_ctx)
{
	for (int side = 0; side < 2 && warn != NULL; side++) {
		char list[256] = "", msg[768];
		size_t n = 0, at = 0;
		for (size_t i = 0; i < g->n; i++)
			if (g->e[i].role == GR_CLUSTER_MGMT && g->e[i].cluster == side &&
			    at < sizeof(list))
				at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s",
				                       n++ ? ", " : "", g->e[i].addr);
		if (n < 2)
			continue;
		snprintf(
		    msg, sizeof(msg),
		    "site --guess: %zu addresses of side %c speak to the Mediator on tcp/31784 "
		    "without iSCSI (%s), proposed as cluster-mgmt-%c; a cluster has one cluster "
		    "management LIF, and a node management LIF whose iSCSI to the Mediator is "
		    "blocked looks the same: tell them apart (network interface show) before "
		    "auditing, or that failure is hidden",
		    n, 'a' + side, list, 'a' + side);
		warn(warn_ctx, msg);
	}
}

enum sm_err
sm_site_guess(const char *const *captures, size_t ncaptures, FILE *out, sm_warn_fn warn,
              void *warn_ctx, struct sm_errbuf *eb)
{
	struct sm_capture *cap;
	enum sm_err e = sm_capture_open(&cap, captures, ncaptures, NULL, warn, warn_ctx, eb);
	if (e != SM_OK)
		return e;
	struct guess gs;
	memset(&gs, 0, sizeof(gs));
	struct sm_decoder_opts dopts;
	memset(&dopts, 0, sizeof(dopts));
	struct sm_session_opts so;
	memset(&so, 0, sizeof(so));
	struct sm_decoder *dec = sm_decoder_new(&dopts);
	struct sm_session_table *tab = sm_session_table_new(&so, guess_session, &gs);
	struct sm_raw_packet raw;
	while (dec && tab && !gs.oom && sm_capture_next(cap, &raw) == SM_CAPTURE_PACKET) {
		struct sm_packet p;
		if (sm_decode(dec, &raw, &p) == DEC_OK && sm_session_packet(tab, &p, NULL) != SM_OK)
			gs.oom = true;
	}
	if (tab)
		sm_session_flush(tab);
	if (dec == NULL || tab == NULL || gs.oom)
		e = sm_error(eb, SM_ERR_NOMEM, "out of memory reading the captures");
	sm_session_table_free(tab);
	sm_decoder_free(dec);
	sm_capture_close(cap);
	struct gen g;
	memset(&g, 0, sizeof(g));
	if (e == SM_OK) {
		guess_intercluster(&g, &gs);
		guess_mediator(&g, &gs, warn, warn_ctx);
		warn_cluster_mgmt(&g, warn, warn_ctx);
		if (g.oom)
			e = sm_error(eb, SM_ERR_NOMEM, "out of memory");
	}
	if (e == SM_OK && g.n == 0)
		e = sm_error(eb, SM_ERR_CONFIG,
		             "%s: no SM-as traffic (tcp 11104/11105/3260/31784) to guess from",
		             captures[0]);
	if (e == SM_OK) {
		fprintf(out,
		        "# PROPOSED by smaudit site --guess from %zu capture(s): review every "
		        "line.\n# Sides a and b are arbitrary; mgmt LIFs are placed by "
		        "address, roles never seen are absent.\n\n",
		        ncaptures);
		gen_write(&g, out);
	}
	gen_free(&g);
	free(gs.f);
	return e;
}
