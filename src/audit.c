#include "smaudit/audit.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smaudit/app.h"
#include "smaudit/capture.h"
#include "smaudit/policy.h"
#include "smaudit/reasm.h"
#include "smaudit/fmt.h"

/* The first bytes of one side of a session checked without libnids (IPv6, or
 * an IPv4 stream captured in one direction), kept across in-order segments
 * until sm_app_detect decides.  While a side is kept its app is APP_MORE.  At
 * most FIRST_BYTES_MAX sides at once, each up to SM_APP_TLS_WANT bytes; a side
 * that finds no free slot is decided on its first segment. */
#define FIRST_BYTES_MAX 256
struct first_bytes {
	const struct sm_session *s; /* NULL: free; freed before s leaves the table */
	int dir;
	bool midway; /* the session was picked up mid-way: not recognised is unverified */
	uint32_t next_seq;
	size_t len;
	uint8_t *buf; /* owned, SM_APP_TLS_WANT bytes */
};

struct sm_pipeline {
	struct sm_store *store;
	struct sm_policy *policy;
	struct sm_capture *capture; /* borrowed */
	struct sm_decoder *dec;
	struct sm_session_table *tab;
	const struct sm_site *site;
	sm_pipeline_session_fn on_session;
	void *ctx;
	int64_t run_id;
	enum sm_err err; /* first store error; the run stops at it */
	struct sm_errbuf *eb;
	struct sm_run_row totals;
	int64_t first, last;
	/* while a checkpoint writes the open sessions */
	struct sm_policy *snapshot;
	uint64_t missed[2], gaps[2]; /* capture loss of stored sessions: closed, open */
	struct sm_reasm *reasm;      /* NULL with no_payload */
	struct sm_session *current;  /* the session of the packet libnids is given */
	struct first_bytes pending[FIRST_BYTES_MAX]; /* sides checked without libnids */
	struct app_detail *details;                  /* owned: details of sessions in the table */
	/* Absolute paths of the sources, resolved when the run opens (before a live
	 * run may chroot), so extract finds them from any directory later. */
	char **abs_paths;         /* per capture source; NULL entry = keep the path as given */
	bool has_from, has_until; /* the window, stored as run counters */
	int64_t from_ns, until_ns;
	uint64_t stopped_at; /* -c count the run stopped at, 0 = read to the end */
	uint64_t db_faults, db_unavailable_ms; /* database errors waited out (live) */
	bool flushed;                          /* sm_pipeline_finish closed every session */
	size_t nabs;
	char cwd[PATH_MAX];
};

/* The absolute path of capture source i (or ring file i - nsrc) into buf. */
static const char *
absolute_source(const struct sm_pipeline *pl, size_t i, const char *given, char *buf, size_t len)
{
	if (i < sm_capture_source_count(pl->capture))
		return pl->abs_paths[i] != NULL ? pl->abs_paths[i] : given;
	if (given[0] == '/' || pl->cwd[0] == '\0')
		return given;
	snprintf(buf, len, "%s/%s", pl->cwd, given);
	return buf;
}

/* Resolves the capture sources' paths now; "-" and live interfaces stay as they are. */
static bool
resolve_sources(struct sm_pipeline *pl)
{
	size_t n = sm_capture_source_count(pl->capture);
	pl->abs_paths = calloc(n + 1, sizeof(*pl->abs_paths));
	if (pl->abs_paths == NULL)
		return false;
	pl->nabs = n;
	if (getcwd(pl->cwd, sizeof(pl->cwd)) == NULL)
		pl->cwd[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *p = sm_capture_source(pl->capture, i)->path;
		if (strcmp(p, "-") != 0 && strncmp(p, "live:", 5) != 0)
			pl->abs_paths[i] = realpath(p, NULL); /* NULL: unreadable, keep as given */
	}
	return true;
}

/* Details read from payloads: a session points at the text of its node, the
 * pipeline owns the node and frees it when the session leaves the table (or
 * with the pipeline).  At most one node of at most SM_APP_DETAIL_MAX bytes per
 * session in the table. */
struct app_detail {
	struct app_detail *prev, *next;
	char text[];
};

static struct app_detail *
app_detail_node(const char *text)
{
	return (struct app_detail *)(uintptr_t)(text - offsetof(struct app_detail, text));
}

/* Frees the node of a detail set by set_detail (NULL: nothing). */
static void
app_detail_free(struct sm_pipeline *pl, const char *text)
{
	if (text == NULL)
		return;
	struct app_detail *d = app_detail_node(text);
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		pl->details = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	free(d);
}

/* Replaces the detail of s; out of memory keeps the one it had. */
static void
set_detail(struct sm_pipeline *pl, struct sm_session *s, const char *text)
{
	size_t n = strnlen(text, SM_APP_DETAIL_MAX - 1);
	struct app_detail *d = malloc(sizeof(*d) + n + 1);
	if (d == NULL)
		return;
	memcpy(d->text, text, n);
	d->text[n] = '\0';
	d->prev = NULL;
	d->next = pl->details;
	if (d->next != NULL)
		d->next->prev = d;
	pl->details = d;
	app_detail_free(pl, s->app_detail);
	s->app_detail = d->text;
}

/* A TLS ServerHello's choice follows the ClientHello's offer in one detail:
 * "TLS ClientHello offers up to 1.3, SNI x; ServerHello chose 1.2". */
static bool
join_tls_detail(struct sm_pipeline *pl, struct sm_session *s, int dir, const char *detail)
{
	static const char client[] = "TLS ClientHello", server[] = "TLS ServerHello";
	const char *have = s->app_detail ? s->app_detail : "";
	const char *cl = dir == 0 ? detail : have, *sv = dir == 0 ? have : detail;
	if (s->app[0] != APP_TLS || s->app[1] != APP_TLS ||
	    strncmp(cl, client, sizeof(client) - 1) != 0 ||
	    strncmp(sv, server, sizeof(server) - 1) != 0)
		return false;
	char joined[2 * SM_APP_DETAIL_MAX + 2]; /* cut to SM_APP_DETAIL_MAX by set_detail */
	snprintf(joined, sizeof(joined), "%s; %s", cl, sv + 4);
	set_detail(pl, s, joined);
	return true;
}

/* What one side of s speaks; the initiator's detail is the one kept (for TLS,
 * with the version the server chose). */
static void
note_app(struct sm_pipeline *pl, struct sm_session *s, int dir, enum sm_app app, const char *detail)
{
	s->app[dir] = (uint8_t)app;
	if (detail == NULL || detail[0] == '\0' || join_tls_detail(pl, s, dir, detail))
		return;
	if (dir == 0 || s->app_detail == NULL)
		set_detail(pl, s, detail);
}

/* The initiator switched to TLS after what it sent first (STARTTLS, CONNECT):
 * "EHLO x; then TLS ClientHello offers up to 1.3, SNI y". */
static void
note_switch(struct sm_pipeline *pl, struct sm_session *s, const char *hello)
{
	char joined[2 * SM_APP_DETAIL_MAX + 16];
	snprintf(joined, sizeof(joined), "%s%sthen %s", s->app_detail ? s->app_detail : "",
	         s->app_detail ? "; " : "", hello ? hello : "TLS");
	set_detail(pl, s, joined);
}

/* Our own watch for a switch to TLS where libnids does not follow the stream:
 * a hello in one of the initiator's next segments (one cut at the segment's
 * end is read as far as it goes). */
static void
watch_switch(struct sm_pipeline *pl, struct sm_session *s, const struct sm_packet *pkt)
{
	char detail[SM_APP_DETAIL_MAX];
	size_t at, n = pkt->payload_caplen;
	bool found = sm_app_find_hello(pkt->payload, n, &at, detail, sizeof(detail));
	if (!found && at < n)
		found = sm_app_decide(pkt->payload + at, n - at, true, detail, sizeof(detail)) ==
		        APP_TLS;
	if (found) {
		note_switch(pl, s, detail);
		s->tls_watch = 0;
	} else {
		s->tls_watch--;
	}
}

/* libnids recognised one side of the current packet's stream. */
static void
on_app(void *ctx, const struct sm_reasm_result *r)
{
	struct sm_pipeline *pl = ctx;
	struct sm_session *s = pl->current;
	if (s == NULL)
		return;
	bool client_is_src = sm_addr_eq(&s->src, &r->client) && s->sport == r->client_port;
	if (r->upgrade) {
		note_switch(pl, s, r->detail);
		return;
	}
	note_app(pl, s, (r->from_client == client_is_src) ? 0 : 1, r->app, r->detail);
}

static struct first_bytes *
first_bytes_find(struct sm_pipeline *pl, const struct sm_session *s, int dir)
{
	for (size_t i = 0; i < FIRST_BYTES_MAX; i++)
		if (pl->pending[i].s == s && pl->pending[i].dir == dir)
			return &pl->pending[i];
	return NULL;
}

static void
first_bytes_release(struct first_bytes *fb)
{
	free(fb->buf);
	memset(fb, 0, sizeof(*fb));
}

/* Decides a kept side with the bytes it has (the session ends or a gap came). */
/* What a side that showed no protocol is: unknown, or unverified when its first
 * bytes need not be the start of the stream (no detail then). */
static enum sm_app
not_recognised(bool midway, char *detail)
{
	if (midway)
		detail[0] = '\0';
	return midway ? APP_UNVERIFIED : APP_UNKNOWN;
}

static enum sm_app
first_bytes_decide(struct first_bytes *fb, char *detail, size_t dlen)
{
	enum sm_app a = sm_app_decide(fb->buf, fb->len, fb->dir == 0, detail, dlen);
	bool midway = fb->midway;
	first_bytes_release(fb);
	return a == APP_UNKNOWN ? not_recognised(midway, detail) : a;
}

/* Starts keeping the first segment of a side; false when no slot or memory is
 * free (the caller decides on this segment alone). */
static bool
first_bytes_keep(struct sm_pipeline *pl, const struct sm_session *s, int dir,
                 const struct sm_packet *pkt)
{
	if (pkt->payload_caplen < pkt->payload_len)
		return false; /* cut by the snap length: nothing follows in order */
	struct first_bytes *fb = first_bytes_find(pl, NULL, 0);
	if (fb == NULL || (fb->buf = malloc(SM_APP_TLS_WANT)) == NULL)
		return false;
	fb->s = s;
	fb->dir = dir;
	fb->midway = !s->syn_seen;
	fb->len = pkt->payload_caplen < SM_APP_TLS_WANT ? pkt->payload_caplen : SM_APP_TLS_WANT;
	memcpy(fb->buf, pkt->payload, fb->len);
	fb->next_seq = pkt->seq + (uint32_t)pkt->payload_caplen;
	return true;
}

/* Adds a following segment; false when it cannot follow on (a gap, a cut
 * segment): then the side is decided with what it has. */
static bool
first_bytes_append(struct first_bytes *fb, const struct sm_packet *pkt)
{
	int32_t ahead = (int32_t)(pkt->seq - fb->next_seq);
	if (ahead > 0 || pkt->payload_caplen < pkt->payload_len)
		return false;
	size_t skip = (size_t) - (int64_t)ahead; /* retransmitted bytes already kept */
	if (skip >= pkt->payload_caplen)
		return true;
	size_t n = pkt->payload_caplen - skip;
	if (n > SM_APP_TLS_WANT - fb->len)
		n = SM_APP_TLS_WANT - fb->len;
	memcpy(fb->buf + fb->len, pkt->payload + skip, n);
	fb->len += n;
	fb->next_seq += (uint32_t)(pkt->payload_caplen - skip);
	return true;
}

/* Our own check of one side from its first segments, for what libnids does not
 * follow. */
static void
check_first_bytes(struct sm_pipeline *pl, struct sm_session *s, int dir,
                  const struct sm_packet *pkt)
{
	char detail[SM_APP_DETAIL_MAX];
	struct first_bytes *fb = s->app[dir] == APP_MORE ? first_bytes_find(pl, s, dir) : NULL;
	if (fb != NULL) {
		if (!first_bytes_append(fb, pkt)) {
			note_app(pl, s, dir, first_bytes_decide(fb, detail, sizeof(detail)),
			         detail);
			return;
		}
		enum sm_app a = sm_app_detect(fb->buf, fb->len, dir == 0, detail, sizeof(detail));
		if (a != APP_MORE || fb->len >= SM_APP_TLS_WANT) {
			bool midway = fb->midway;
			first_bytes_release(fb);
			if (a == APP_MORE || a == APP_UNKNOWN)
				a = not_recognised(midway, detail);
			note_app(pl, s, dir, a, detail);
		}
		return;
	}
	if (s->app[dir] != APP_NONE)
		return;
	enum sm_app a =
	    sm_app_detect(pkt->payload, pkt->payload_caplen, dir == 0, detail, sizeof(detail));
	if (a == APP_MORE && first_bytes_keep(pl, s, dir, pkt))
		s->app[dir] = APP_MORE;
	else if (a == APP_MORE || a == APP_UNKNOWN)
		note_app(pl, s, dir, not_recognised(!s->syn_seen, detail), detail);
	else
		note_app(pl, s, dir, a, detail);
	if (dir == 0 &&
	    (s->app[0] == APP_UNVERIFIED ||
	     sm_app_may_switch((enum sm_app)s->app[0], s->app_detail ? s->app_detail : ""))) {
		s->tls_watch = SM_APP_SWITCH_WATCH;
		watch_switch(pl, s, pkt); /* a hello after a PROXY line in the same segment */
	}
}

/* A session leaving the table: its kept sides are decided with what arrived. */
static const struct sm_session *
first_bytes_flush(struct sm_pipeline *pl, const struct sm_session *s, struct sm_session *copy)
{
	if (s->app[0] != APP_MORE && s->app[1] != APP_MORE)
		return s;
	*copy = *s;
	for (int dir = 0; dir < 2; dir++) {
		struct first_bytes *fb = first_bytes_find(pl, s, dir);
		char detail[SM_APP_DETAIL_MAX];
		if (fb != NULL)
			note_app(pl, copy, dir, first_bytes_decide(fb, detail, sizeof(detail)),
			         detail);
		else if (copy->app[dir] == APP_MORE)
			copy->app[dir] = s->syn_seen ? APP_UNKNOWN : APP_UNVERIFIED;
	}
	return copy;
}

/* What the payload is: libnids for IPv4 streams it follows, our own check of
 * the first segments for IPv6 and for streams captured in one direction only. */
static void
check_payload(struct sm_pipeline *pl, const struct sm_packet *pkt)
{
	int dir;
	struct sm_session *s = sm_session_last(pl->tab, &dir);
	if (s == NULL)
		return;
	s->app_checked = true;
	if (dir == 0 && s->tls_watch > 0 && pkt->payload_caplen > 0) {
		watch_switch(pl, s, pkt);
		return;
	}
	/* Both sides known: nothing left to look at, but for a client whose first
	 * bytes named no protocol, which libnids watches for a switch to TLS
	 * (STARTTLS) over its next deliveries. */
	if (s->app[0] > APP_MORE && s->app[1] > APP_MORE &&
	    !(pkt->l3 != NULL && s->pkts[0] + s->pkts[1] <= 96 &&
	      sm_app_may_switch((enum sm_app)s->app[0], s->app_detail ? s->app_detail : "")))
		return;
	if (!s->syn_seen) {
		/* Picked up mid-way: its first bytes are a protocol's only when they
		 * open one (a TLS hello, an SSH banner, an HTTP request or status line,
		 * an iSCSI login); anything else leaves it unverified. */
		if (pkt->payload_caplen > 0)
			check_first_bytes(pl, s, dir, pkt);
		return;
	}
	/* libnids follows a stream once it saw the handshake: one that shows one
	 * direction only (a one-sided capture) never gets there. */
	bool one_sided = s->pkts[dir ^ 1] == 0;
	if (pkt->l3 != NULL && !(one_sided && pkt->payload_caplen > 0) && s->app[dir] != APP_MORE) {
		pl->current = s;
		sm_reasm_packet(pl->reasm, pkt);
		pl->current = NULL;
		return;
	}
	if (pkt->payload_caplen > 0)
		check_first_bytes(pl, s, dir, pkt);
}

static void
store_one(struct sm_pipeline *pl, struct sm_policy *policy, const struct sm_session *s, bool open)
{
	if (pl->err != SM_OK)
		return;
	struct sm_classification c;
	sm_policy_classify(policy, s, &c);
	const struct sm_source_info *src = sm_capture_source(pl->capture, s->source);
	struct sm_session_class cls = {c.class_name,           c.rule, c.src_role, c.dst_role,
	                               src ? src->path : NULL, open};
	pl->err = sm_store_session(pl->store, pl->run_id, s, &cls, pl->eb);
	uint64_t missed = s->missed[0] + s->missed[1];
	pl->missed[open] += missed;
	pl->gaps[open] += missed > 0;
	if (!open && pl->on_session != NULL)
		pl->on_session(pl->ctx, s, &c);
}

/* A session leaving the table whose stream libnids still holds undecided: its
 * sides are decided with what arrived. */
static const struct sm_session *
reasm_flush(struct sm_pipeline *pl, const struct sm_session *s, struct sm_session *copy)
{
	bool waiting = false;
	for (int dir = 0; dir < 2; dir++)
		waiting |= s->app[dir] <= APP_MORE && s->payload[dir] > 0;
	if (pl->reasm == NULL || s->proto != SM_PROTO_TCP || s->src.family != 4 || !waiting ||
	    !s->syn_seen)
		return s;
	*copy = *s;
	pl->current = copy;
	sm_reasm_end(pl->reasm, &copy->src, copy->sport, &copy->dst, copy->dport);
	pl->current = NULL;
	return copy;
}

static void
on_session(void *ctx, const struct sm_session *s, enum sm_session_end why)
{
	struct sm_pipeline *pl = ctx;
	(void)why;
	struct sm_session copy, copy2;
	const struct sm_session *done = first_bytes_flush(pl, s, &copy);
	done = reasm_flush(pl, done, &copy2);
	store_one(pl, pl->policy, done, false);
	app_detail_free(pl, done->app_detail);
}

static void
on_open_session(void *ctx, const struct sm_session *s, enum sm_session_end why)
{
	struct sm_pipeline *pl = ctx;
	(void)why;
	store_one(pl, pl->snapshot, s, true);
}

/* The inputs as a JSON array, for runs.sources. */
static char *
sources_json(const struct sm_capture *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return NULL;
	fputc('[', f);
	for (size_t i = 0; i < sm_capture_source_count(c); i++) {
		if (i)
			fputs(", ", f);
		sm_json_string(f, sm_capture_source(c, i)->path);
	}
	fputc(']', f);
	fclose(f);
	return buf;
}

/* The policy asks whether the capture filter lets a flow be seen. */
static bool
flow_visible(void *ctx, uint8_t proto, const struct sm_addr *src, const struct sm_addr *dst,
             uint16_t dport, bool seen)
{
	struct sm_pipeline *pl = ctx;
	struct sm_flow_probe f = {proto, *src, *dst, dport};
	return sm_capture_filter_keeps(pl->capture, &f, seen);
}

/* Sources, counters, verdicts, findings and coverage of the run, from policy. */
static enum sm_err
store_results(struct sm_pipeline *pl, struct sm_policy *policy)
{
	enum sm_err e = SM_OK;
	int64_t run = pl->run_id;
	struct sm_store *st = pl->store;
	size_t nsrc = sm_capture_source_count(pl->capture);
	for (size_t i = 0; e == SM_OK && i < nsrc + sm_capture_ring_count(pl->capture); i++) {
		const struct sm_source_info *s = i < nsrc
		                                     ? sm_capture_source(pl->capture, i)
		                                     : sm_capture_ring_file(pl->capture, i - nsrc);
		char buf[PATH_MAX + 256];
		const char *abs = absolute_source(pl, i, s->path, buf, sizeof(buf));
		e = sm_store_source(st, run, (int)i, abs, s->path, s->packets, s->bytes, s->error,
		                    pl->eb);
	}
	for (int r = 1; e == SM_OK && r < R_COUNT; r++)
		if (sm_decoder_count(pl->dec, (enum sm_dec_reason)r) > 0)
			e = sm_store_counter(st, run, sm_dec_reason_name((enum sm_dec_reason)r),
			                     sm_decoder_count(pl->dec, (enum sm_dec_reason)r),
			                     pl->eb);
	if (e == SM_OK && pl->has_from)
		e = sm_store_counter(st, run, SM_COUNTER_WINDOW_FROM, (uint64_t)pl->from_ns,
		                     pl->eb);
	if (e == SM_OK && pl->has_until)
		e = sm_store_counter(st, run, SM_COUNTER_WINDOW_UNTIL, (uint64_t)pl->until_ns,
		                     pl->eb);
	if (e == SM_OK && pl->stopped_at > 0)
		e = sm_store_counter(st, run, SM_COUNTER_STOPPED_AT, pl->stopped_at, pl->eb);
	struct sm_store_backlog bl;
	sm_store_backlog(st, &bl);
	if (e == SM_OK && pl->db_faults > 0)
		e = sm_store_counter(st, run, SM_COUNTER_DB_FAULTS, pl->db_faults, pl->eb);
	if (e == SM_OK && pl->db_faults > 0)
		e = sm_store_counter(st, run, SM_COUNTER_DB_UNAVAILABLE_MS, pl->db_unavailable_ms,
		                     pl->eb);
	if (e == SM_OK && bl.not_stored > 0)
		e = sm_store_counter(st, run, SM_COUNTER_NOT_STORED, bl.not_stored, pl->eb);
	sm_policy_finish(policy);
	for (size_t i = 0; e == SM_OK && i < sm_policy_entry_count(policy); i++) {
		const struct sm_expect_entry *x = sm_policy_entry(policy, i);
		struct sm_expected_row row;
		struct sm_finding_row f;
		char pbuf[8];
		memset(&row, 0, sizeof(row));
		sm_strlcpy(row.rule, x->rule->id, sizeof(row.rule));
		row.kind = x->rule->kind;
		sm_strlcpy(row.proto, sm_proto_name(x->rule->proto, pbuf, sizeof(pbuf)),
		           sizeof(row.proto));
		row.port = x->rule->proto == SM_PROTO_ICMP ? -1 : x->rule->port;
		sm_strlcpy(row.src_role, x->rule->src_role, sizeof(row.src_role));
		sm_strlcpy(row.dst_role, x->rule->dst_role, sizeof(row.dst_role));
		sm_entry_src(x, row.src, sizeof(row.src));
		sm_entry_dst(x, row.dst, sizeof(row.dst));
		row.verdict = x->verdict;
		row.sessions = x->sessions;
		row.failed = sm_entry_failed(x);
		row.first_ts = (double)x->first_ns / 1e9;
		row.last_ts = (double)x->last_ns / 1e9;
		sm_strlcpy(row.purpose, x->rule->purpose, sizeof(row.purpose));
		sm_strlcpy(row.detail, x->detail, sizeof(row.detail));
		if (sm_policy_entry_finding(x, &f))
			e = sm_store_finding(st, run, &f, &row.finding_id, pl->eb);
		if (e == SM_OK)
			e = sm_store_expected(st, run, &row, pl->eb);
	}
	for (size_t r = 0; e == SM_OK && r < pl->site->nroles; r++) {
		const struct sm_role *role = &pl->site->roles[r];
		for (size_t m = 0; e == SM_OK && m < role->nmembers; m++) {
			struct sm_coverage_row c;
			sm_strlcpy(c.role, role->name, sizeof(c.role));
			sm_strlcpy(c.member, role->members[m].text, sizeof(c.member));
			c.seen = sm_policy_member_seen(policy, role, m);
			e = sm_store_coverage(st, run, &c, pl->eb);
		}
	}
	if (e == SM_OK)
		e = sm_store_unexpected_findings(st, run, sm_policy_unexpected_finding, NULL,
		                                 pl->eb);
	for (size_t i = 0; e == SM_OK && i < sm_policy_entry_count(policy); i++) {
		struct sm_finding_row f;
		if (sm_policy_mismatch_finding(sm_policy_entry(policy, i), &f))
			e = sm_store_finding(st, run, &f, NULL, pl->eb);
	}
	if (e == SM_OK && pl->reasm != NULL) {
		struct sm_reasm_stats rs;
		sm_reasm_stats(pl->reasm, &rs);
		if (rs.table_full > 0)
			e = sm_store_counter(st, run, SM_COUNTER_REASM_FULL, rs.table_full, pl->eb);
	}
	return e;
}

enum sm_err
sm_pipeline_open(struct sm_pipeline **out, const struct sm_pipeline_opts *o, struct sm_capture *cap,
                 struct sm_errbuf *eb)
{
	*out = NULL;
	struct sm_pipeline *pl = calloc(1, sizeof(*pl));
	if (pl == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory setting up the run");
	pl->capture = cap;
	pl->site = o->site;
	pl->on_session = o->on_session;
	pl->has_from = o->has_from;
	pl->has_until = o->has_until;
	pl->from_ns = o->from_ns;
	pl->until_ns = o->until_ns;
	pl->ctx = o->ctx;
	pl->eb = eb;
	char *srcjson = NULL;
	enum sm_err e = sm_store_open(&pl->store, o->db_path, true, eb);
	if (e != SM_OK)
		goto out;
	pl->policy = sm_policy_new(o->rules, o->site);
	struct sm_session_opts so = o->sessions;
	if (pl->policy != NULL) {
		so.service_ports = sm_policy_service_ports(pl->policy);
		sm_policy_set_visibility(pl->policy, flow_visible, pl);
	}
	pl->dec = sm_decoder_new(&o->decoder);
	pl->tab = pl->policy ? sm_session_table_new(&so, on_session, pl) : NULL;
	srcjson = sources_json(cap);
	if (pl->policy == NULL || pl->dec == NULL || pl->tab == NULL || srcjson == NULL ||
	    !resolve_sources(pl)) {
		e = sm_error(eb, SM_ERR_NOMEM, "out of memory setting up the run");
		goto out;
	}
	if (!o->no_payload)
		e = sm_reasm_new(&pl->reasm, so.max_sessions < 16384 ? so.max_sessions : 16384,
		                 on_app, pl, eb);
	if (e == SM_OK)
		e = sm_store_run_begin(pl->store, o->mode, srcjson, o->site->path, o->rules_path,
		                       &pl->run_id, eb);
	if (e == SM_OK)
		e = sm_store_run_options(pl->store, pl->run_id, o->filter, o->strict, eb);
	pl->totals.id = pl->run_id;
	if (e == SM_OK)
		e = sm_store_write_behind(pl->store, o->db_backlog, eb);
	if (e == SM_OK && o->db_busy_ms > 0)
		sm_store_busy_timeout(pl->store, o->db_busy_ms);
out:
	free(srcjson);
	if (e != SM_OK) {
		sm_pipeline_free(pl);
		return e;
	}
	*out = pl;
	return SM_OK;
}

enum sm_err
sm_pipeline_packet(struct sm_pipeline *pl, const struct sm_raw_packet *raw, struct sm_errbuf *eb)
{
	struct sm_packet pkt;
	pl->totals.packets++;
	pl->totals.bytes += raw->len;
	if (pl->first == 0 || raw->ts_ns < pl->first)
		pl->first = raw->ts_ns;
	if (raw->ts_ns > pl->last)
		pl->last = raw->ts_ns;
	enum sm_dec rc = sm_decode(pl->dec, raw, &pkt);
	if (rc == DEC_HELD && pkt.nouter > 0 && !sm_session_carriers(pl->tab, &pkt))
		return sm_error(eb, SM_ERR_NOMEM, "out of memory in the session table");
	if (rc != DEC_OK)
		return pl->err;
	if (!sm_session_packet(pl->tab, &pkt))
		return sm_error(eb, SM_ERR_NOMEM, "out of memory in the session table");
	if (pl->reasm != NULL && pkt.proto == SM_PROTO_TCP)
		check_payload(pl, &pkt);
	return pl->err;
}

void
sm_pipeline_tick(struct sm_pipeline *pl, int64_t now_ns)
{
	sm_session_advance(pl->tab, now_ns);
}

/* The run row's totals as of now, with the given status. */
static void
fill_totals(struct sm_pipeline *pl, const char *status, uint64_t open_sessions)
{
	struct sm_session_stats ss;
	sm_session_stats(pl->tab, &ss);
	struct sm_run_row *t = &pl->totals;
	t->sessions = ss.emitted + open_sessions;
	t->evicted = ss.evicted;
	t->undecoded = sm_decoder_undecoded(pl->dec);
	t->missed_bytes = pl->missed[0] + pl->missed[1];
	t->gap_sessions = pl->gaps[0] + pl->gaps[1];
	t->first_ts = (double)pl->first / 1e9;
	t->last_ts = (double)pl->last / 1e9;
	t->read_errors = 0;
	for (size_t i = 0; i < sm_capture_source_count(pl->capture); i++) {
		const struct sm_source_info *s = sm_capture_source(pl->capture, i);
		if (s->opened && s->error[0])
			t->read_errors++;
	}
	sm_strlcpy(t->status, status, sizeof(t->status));
}

/* A database error in a checkpoint or the end: what it wrote is rolled back; the
 * sessions waiting in the store are tried again by the next one (live). */
static enum sm_err
store_failed(struct sm_pipeline *pl, enum sm_err e, struct sm_errbuf *eb)
{
	if (e == SM_ERR_DB)
		sm_store_abort(pl->store, e, eb);
	return e;
}

enum sm_err
sm_pipeline_checkpoint(struct sm_pipeline *pl, struct sm_errbuf *eb)
{
	if (pl->err != SM_OK)
		return pl->err;
	sm_capture_sync(pl->capture);
	enum sm_err e = sm_store_run_reset(pl->store, pl->run_id, eb);
	if (e != SM_OK)
		return store_failed(pl, e, eb);
	pl->snapshot = sm_policy_clone(pl->policy);
	if (pl->snapshot == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory writing a checkpoint");
	struct sm_session_stats ss;
	sm_session_stats(pl->tab, &ss);
	pl->missed[1] = pl->gaps[1] = 0;
	sm_session_foreach(pl->tab, on_open_session, pl);
	e = pl->err;
	if (e == SM_OK)
		e = store_results(pl, pl->snapshot);
	sm_policy_free(pl->snapshot);
	pl->snapshot = NULL;
	if (e != SM_OK)
		return store_failed(pl, e, eb);
	fill_totals(pl, "running", ss.active);
	e = sm_store_run_end(pl->store, &pl->totals, eb);
	return e == SM_OK ? e : store_failed(pl, e, eb);
}

enum sm_err
sm_pipeline_finish(struct sm_pipeline *pl, bool interrupted, struct sm_errbuf *eb)
{
	sm_capture_sync(pl->capture);
	enum sm_err e = pl->err;
	if (e != SM_OK)
		return e;
	if (!pl->flushed) { /* once: a database error lets the caller try again */
		pl->flushed = true;
		pl->missed[1] = pl->gaps[1] = 0;
		sm_session_flush(pl->tab);
		sm_decoder_finish(pl->dec);
		if (pl->err != SM_OK)
			return pl->err;
	}
	e = sm_store_run_reset(pl->store, pl->run_id, eb);
	if (e == SM_OK)
		e = store_results(pl, pl->policy);
	if (e != SM_OK)
		return store_failed(pl, e, eb);
	fill_totals(pl, interrupted ? "interrupted" : "complete", 0);
	e = sm_store_run_end(pl->store, &pl->totals, eb);
	return e == SM_OK ? e : store_failed(pl, e, eb);
}

void
sm_pipeline_set_db_fault(struct sm_pipeline *pl, uint64_t faults, uint64_t unavailable_ms)
{
	pl->db_faults = faults;
	pl->db_unavailable_ms = unavailable_ms;
}

void
sm_pipeline_set_dropped(struct sm_pipeline *pl, uint64_t dropped)
{
	pl->totals.dropped = dropped;
}

void
sm_pipeline_set_stopped_at(struct sm_pipeline *pl, uint64_t count)
{
	pl->stopped_at = count;
}

int64_t
sm_pipeline_run_id(const struct sm_pipeline *pl)
{
	return pl->run_id;
}

const struct sm_run_row *
sm_pipeline_totals(const struct sm_pipeline *pl)
{
	return &pl->totals;
}

struct sm_session_table *
sm_pipeline_sessions(struct sm_pipeline *pl)
{
	return pl->tab;
}

const struct sm_policy *
sm_pipeline_policy(const struct sm_pipeline *pl)
{
	return pl->policy;
}

struct sm_store *
sm_pipeline_store(struct sm_pipeline *pl)
{
	return pl->store;
}

struct sm_store *
sm_pipeline_take_store(struct sm_pipeline *pl)
{
	struct sm_store *st = pl->store;
	pl->store = NULL;
	return st;
}

void
sm_pipeline_free(struct sm_pipeline *pl)
{
	if (pl == NULL)
		return;
	sm_session_table_free(pl->tab);
	for (size_t i = 0; i < FIRST_BYTES_MAX; i++)
		free(pl->pending[i].buf);
	while (pl->details != NULL)
		app_detail_free(pl, pl->details->text);
	sm_reasm_free(pl->reasm);
	sm_decoder_free(pl->dec);
	sm_policy_free(pl->policy);
	sm_store_close(pl->store);
	for (size_t i = 0; i < pl->nabs; i++)
		free(pl->abs_paths[i]);
	free(pl->abs_paths);
	free(pl);
}

/* "1.2 GB", "85.3 MB", "512 kB" */
static void
human_bytes(double b, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "kB", "MB", "GB", "TB"};
	size_t u = 0;
	while (b >= 1000 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		b /= 1000;
		u++;
	}
	snprintf(buf, len, u == 0 ? "%.0f %s" : "%.1f %s", b, unit[u]);
}

/* One progress line on stderr (a terminal): the file being read, k of n, the
 * percentage of the bytes of all files, the rate and the time left. */
static void
show_progress(struct sm_pipeline *pl, struct sm_capture *cap, double elapsed)
{
	struct sm_capture_progress p;
	sm_capture_progress(cap, &p);
	struct sm_session_stats ss;
	sm_session_stats(pl->tab, &ss);
	const char *name = p.path ? strrchr(p.path, '/') : NULL;
	name = name ? name + 1 : p.path ? p.path : "";
	char done[32], total[32], rate[32], left[32] = "";
	human_bytes((double)p.done, done, sizeof(done));
	human_bytes((double)p.total, total, sizeof(total));
	double bps = elapsed > 0 ? (double)p.done / elapsed : 0;
	human_bytes(bps, rate, sizeof(rate));
	fprintf(stderr, "\r\033[Ksmaudit: file %zu/%zu %.40s", p.file + 1, p.nfiles, name);
	if (p.total > 0) {
		double frac = (double)p.done / (double)p.total;
		if (bps > 0 && p.done < p.total) {
			unsigned long secs = (unsigned long)((double)(p.total - p.done) / bps);
			snprintf(left, sizeof(left), ", %lu:%02lu:%02lu left", secs / 3600,
			         secs / 60 % 60, secs % 60);
		}
		fprintf(stderr, ", %.0f%% of %s", frac > 1 ? 100.0 : frac * 100, total);
	} else {
		fprintf(stderr, ", %s read", done);
	}
	fprintf(stderr, ", %s/s%s, %llu packets, %llu sessions", rate, left,
	        (unsigned long long)pl->totals.packets, (unsigned long long)ss.created);
}

static bool
in_window(const struct sm_pipeline_opts *o, int64_t ts_ns)
{
	return (!o->has_from || ts_ns >= o->from_ns) && (!o->has_until || ts_ns <= o->until_ns);
}

enum sm_err
sm_audit_run(const struct sm_audit_opts *o, struct sm_store **store_out, int64_t *run_id,
             struct sm_errbuf *eb)
{
	*store_out = NULL;
	struct sm_capture *cap = NULL;
	struct sm_pipeline *pl = NULL;
	enum sm_err e =
	    sm_capture_open(&cap, o->inputs, o->ninputs, o->bpf, o->warn, o->warn_ctx, eb);
	if (e != SM_OK)
		return e;
	struct sm_pipeline_opts po = o->pipeline;
	po.mode = "audit";
	e = sm_pipeline_open(&pl, &po, cap, eb);
	if (e != SM_OK)
		goto out;
	struct sm_raw_packet raw;
	double started = sm_monotonic_s(), next_progress = started + 1.0;
	bool interrupted = false;
	uint64_t n = 0, taken = 0;
	while (sm_capture_next(cap, &raw) == SM_CAPTURE_PACKET) {
		if (in_window(&po, raw.ts_ns)) {
			if (o->count > 0 &&
			    taken == o->count) { /* one more to read: stopped early */
				sm_pipeline_set_stopped_at(pl, taken);
				break;
			}
			taken++;
			e = sm_pipeline_packet(pl, &raw, eb);
			if (e != SM_OK)
				goto out;
		}
		if ((++n & 4095) == 0) {
			if (o->stop != NULL && *o->stop) {
				interrupted = true;
				break;
			}
			if (o->progress && sm_monotonic_s() >= next_progress) {
				show_progress(pl, cap, sm_monotonic_s() - started);
				next_progress = sm_monotonic_s() + 1.0;
			}
		}
	}
	if (o->stop != NULL && *o->stop)
		interrupted = true;
	if (o->progress)
		fputs("\r\033[K", stderr);
	e = sm_pipeline_finish(pl, interrupted, eb);
	if (e == SM_OK) {
		*run_id = pl->run_id;
		*store_out = sm_pipeline_take_store(pl);
	}
out:
	sm_pipeline_free(pl);
	sm_capture_close(cap);
	return e;
}
