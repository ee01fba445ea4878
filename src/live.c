#include "smaudit/live.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "smaudit/fmt.h"
#include "smaudit/policy.h"
#include "smaudit/priv.h"
#include "smaudit/store.h"

/* While the database is unavailable the checkpoint is tried again after 1 s,
 * then twice as long each time up to DB_RETRY_MAX_S; one try waits DB_BUSY_MS
 * for another process's lock, so capture never stalls long.  At the end of the
 * run it is tried for DB_END_GRACE_S more. */
#define DB_RETRY_MAX_S 30.0
#define DB_BUSY_MS     250
#define DB_END_GRACE_S 6.0

/* Problems are logged once per (kind, proto, src, dst, port); the set is bounded. */
#define ALERT_SLOTS 65536
#define ALERT_MAX   (ALERT_SLOTS / 4 * 3)

enum alert_kind { A_NO_ANSWER, A_REJECTED, A_UNEXPECTED, A_COUNT };

static const enum sm_verdict alert_verdict[A_COUNT] = {V_NO_ANSWER, V_REJECTED, V_NONE};
static const char *const alert_label[A_COUNT] = {"NO-ANSWER", "REJECTED", "UNEXPECTED"};

struct live {
	const struct sm_live_run_opts *o;
	struct sm_pipeline *pl;
	struct sm_capture *cap;
	uint64_t *keys; /* open addressing; 0 = empty */
	size_t nkeys;
	bool keys_full;
	uint64_t alerts[A_COUNT];
	uint64_t dropped, dropped_logged;
	double dropped_log_at;
	bool status_shown;
	int report_fd; /* -1 = stdout */
	/* the database: unavailable since down_at (monotonic s), tried again at
	 * retry_at; faults and down_s (earlier faults) are stored with the run */
	bool db_down;
	double down_at, down_s, retry_at, backoff;
	uint64_t faults;
	struct sm_report_db_fault fault; /* for a run the database never took */
	bool report_down;                /* the last interim report could not be written */
};

static int64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* True when this problem was logged before (or the set is full). */
static bool
logged_before(struct live *l, enum alert_kind k, const struct sm_session *s)
{
	uint64_t h = fnv(0xcbf29ce484222325ull, &k, sizeof(k));
	h = fnv(h, &s->proto, 1);
	h = fnv(h, &s->src, sizeof(s->src));
	h = fnv(h, &s->dst, sizeof(s->dst));
	h = fnv(h, &s->dport, sizeof(s->dport));
	if (h == 0)
		h = 1;
	size_t i = (size_t)h & (ALERT_SLOTS - 1);
	while (l->keys[i] != 0) {
		if (l->keys[i] == h)
			return true;
		i = (i + 1) & (ALERT_SLOTS - 1);
	}
	if (l->nkeys >= ALERT_MAX) {
		if (!l->keys_full && l->o->warn)
			l->o->warn(l->o->warn_ctx, "too many distinct problems to log each: "
			                           "the rest are only in the report");
		l->keys_full = true;
		return true;
	}
	l->keys[i] = h;
	l->nkeys++;
	return false;
}

static void
clear_status(struct live *l)
{
	if (l->status_shown) {
		fputs("\r\033[K", stderr);
		l->status_shown = false;
	}
}

static void
endpoint(const struct sm_addr *a, int port, char *buf, size_t len)
{
	char t[SM_ADDRSTRLEN];
	sm_addr_str(a, t, sizeof(t));
	if (port < 0)
		snprintf(buf, len, "%s", t);
	else if (a->family == 6)
		snprintf(buf, len, "[%s]:%d", t, port);
	else
		snprintf(buf, len, "%s:%d", t, port);
}

static void
alert_detail(enum alert_kind k, const struct sm_session *s, double age, char *buf, size_t len)
{
	char from[SM_ADDRSTRLEN];
	if (k == A_NO_ANSWER && s->proto == SM_PROTO_TCP)
		snprintf(buf, len, "%u SYN(s) unanswered for %.0f s", s->syn_count, age);
	else if (k == A_NO_ANSWER)
		snprintf(buf, len, "%llu packet(s) unanswered for %.0f s",
		         (unsigned long long)s->pkts[0], age);
	else if (k == A_REJECTED && s->icmp_errors > 0)
		snprintf(buf, len, "ICMP type %u code %u from %s (TTL %u)", s->icmp_err_type,
		         s->icmp_err_code, sm_addr_str(&s->icmp_err_from, from, sizeof(from)),
		         s->icmp_err_ttl);
	else if (k == A_REJECTED)
		snprintf(buf, len, "TCP reset from %s (TTL %u)",
		         sm_addr_str(&s->dst, from, sizeof(from)), s->rst_ttl);
	else
		snprintf(buf, len, "not in the policy for these roles (state %s, %llu packets)",
		         sm_session_state(s), (unsigned long long)(s->pkts[0] + s->pkts[1]));
}

static void
alert(struct live *l, enum alert_kind k, const struct sm_session *s,
      const struct sm_classification *c, int64_t now)
{
	if (logged_before(l, k, s))
		return;
	l->alerts[k]++;
	bool icmp = s->proto == SM_PROTO_ICMP || s->proto == SM_PROTO_ICMP6;
	char src[80], dst[80], detail[256], when[40], pbuf[8];
	endpoint(&s->src, icmp ? -1 : s->sport, src, sizeof(src));
	endpoint(&s->dst, icmp ? -1 : s->dport, dst, sizeof(dst));
	double age = (double)(now - s->first_ns) / 1e9;
	alert_detail(k, s, age, detail, sizeof(detail));
	sm_fmt_time((double)now / 1e9, when, sizeof(when));
	const char *proto = sm_proto_name(s->proto, pbuf, sizeof(pbuf));
	clear_status(l);
	fprintf(stderr, "smaudit: %s %-10s %s %s -> %s (%s -> %s%s%s): %s\n", when, alert_label[k],
	        proto, src, dst, c->src_role ? c->src_role : "?", c->dst_role ? c->dst_role : "?",
	        c->rule ? ", " : "", c->rule ? c->rule : "", detail);
	if (!l->o->json_lines)
		return;
	char a[SM_ADDRSTRLEN], b[SM_ADDRSTRLEN];
	printf("{\"event\": \"finding\", \"time\": ");
	sm_json_ts(stdout, (double)now / 1e9);
	printf(", \"kind\": \"%s\", \"verdict\": ",
	       sm_finding_kind_name(k == A_UNEXPECTED ? FK_UNEXPECTED : FK_MISSING));
	sm_json_string(stdout, sm_verdict_name(alert_verdict[k]));
	printf(", \"class\": ");
	sm_json_string(stdout, c->class_name);
	printf(", \"rule\": ");
	sm_json_string(stdout, c->rule);
	printf(", \"proto\": \"%s\", \"src\": \"%s\", \"sport\": ", proto,
	       sm_addr_str(&s->src, a, sizeof(a)));
	if (icmp)
		printf("null, \"dst\": \"%s\", \"port\": null", sm_addr_str(&s->dst, b, sizeof(b)));
	else
		printf("%u, \"dst\": \"%s\", \"port\": %u", s->sport,
		       sm_addr_str(&s->dst, b, sizeof(b)), s->dport);
	printf(", \"src_role\": ");
	sm_json_string(stdout, c->src_role);
	printf(", \"dst_role\": ");
	sm_json_string(stdout, c->dst_role);
	printf(", \"first_seen\": ");
	sm_json_ts(stdout, (double)s->first_ns / 1e9);
	printf(", \"detail\": ");
	sm_json_string(stdout, detail);
	printf("}\n");
	fflush(stdout);
}

/* Logs what a session shows, closed (done) or still open. */
static void
examine(struct live *l, const struct sm_session *s, const struct sm_classification *c, bool done)
{
	int64_t now = now_ns();
	bool expected = c->cls == CL_EXPECTED || c->cls == CL_OPTIONAL;
	if (c->cls == CL_UNEXPECTED) {
		alert(l, A_UNEXPECTED, s, c, now);
		return;
	}
	if (!expected)
		return;
	enum sm_verdict v = sm_policy_session_verdict(s);
	if (v == V_REJECTED)
		alert(l, A_REJECTED, s, c, now);
	else if (v == V_NO_ANSWER &&
	         (done || now - s->first_ns >= (int64_t)l->o->alert_after_s * 1000000000))
		alert(l, A_NO_ANSWER, s, c, now);
}

static void
on_closed(void *ctx, const struct sm_session *s, const struct sm_classification *c)
{
	examine(ctx, s, c, true);
}

static void
on_open(void *ctx, const struct sm_session *s, enum sm_session_end why)
{
	struct live *l = ctx;
	(void)why;
	struct sm_classification c;
	sm_policy_peek(sm_pipeline_policy(l->pl), s, &c);
	examine(l, s, &c, false);
}

static void
check_drops(struct live *l, double now)
{
	uint64_t recv, dropped;
	if (!sm_capture_stats(l->cap, &recv, &dropped) || dropped <= l->dropped)
		return;
	l->dropped = dropped;
	sm_pipeline_set_dropped(l->pl, dropped);
	if (now - l->dropped_log_at < 10)
		return;
	clear_status(l);
	fprintf(stderr,
	        "smaudit: WARNING the capture dropped %llu packet(s) so far (kernel/libpcap): "
	        "no-answer, one-way and not-seen verdicts may be capture loss; try a larger "
	        "--buffer or a narrower -f filter\n",
	        (unsigned long long)dropped);
	if (l->o->json_lines) {
		printf("{\"event\": \"drops\", \"time\": ");
		sm_json_ts(stdout, (double)now_ns() / 1e9);
		printf(", \"dropped\": %llu, \"received\": %llu}\n", (unsigned long long)dropped,
		       (unsigned long long)recv);
		fflush(stdout);
	}
	l->dropped_logged = dropped;
	l->dropped_log_at = now;
}

static uint64_t
unavailable_ms(const struct live *l, double now)
{
	double s = l->down_s + (l->db_down ? now - l->down_at : 0);
	return (uint64_t)(s * 1000);
}

/* A change of the run's state (the database, the interim report) is one line on
 * stderr and, with --json-lines, one JSON line: this gives the stderr line its
 * time (the status line cleared first) and opens the JSON line, {"event": EVENT,
 * "time": ..., "state": STATE, to which the caller adds its fields before
 * state_event_end().  False: no JSON line. */
static bool
state_event(struct live *l, const char *event, const char *state, char *when, size_t len)
{
	double t = (double)now_ns() / 1e9;
	sm_fmt_time(t, when, len);
	clear_status(l);
	if (!l->o->json_lines)
		return false;
	printf("{\"event\": \"%s\", \"time\": ", event);
	sm_json_ts(stdout, t);
	printf(", \"state\": \"%s\"", state);
	return true;
}

static void
state_event_end(void)
{
	printf("}\n");
	fflush(stdout);
}

/* A checkpoint failed on a database error: logged once, then tried again with backoff. */
static void
db_unavailable(struct live *l, const struct sm_errbuf *eb, double now)
{
	if (l->db_down) {
		l->backoff = l->backoff * 2 < DB_RETRY_MAX_S ? l->backoff * 2 : DB_RETRY_MAX_S;
		l->retry_at = now + l->backoff;
		return;
	}
	l->db_down = true;
	l->down_at = now;
	l->faults++;
	l->backoff = 1;
	l->retry_at = now + l->backoff;
	sm_strlcpy(l->fault.error, eb->msg, sizeof(l->fault.error));
	struct sm_store_backlog bl;
	sm_store_backlog(sm_pipeline_store(l->pl), &bl);
	char when[40];
	bool json = state_event(l, "database", "unavailable", when, sizeof(when));
	fprintf(stderr,
	        "smaudit: %s DATABASE UNAVAILABLE: %s; capture goes on, closed sessions wait in "
	        "memory (up to %llu, --max-sessions) and the checkpoint is tried again\n",
	        when, eb->msg, (unsigned long long)bl.limit);
	if (json) {
		printf(", \"error\": ");
		sm_json_string(stdout, eb->msg);
		state_event_end();
	}
}

/* A checkpoint got through after a database error. */
static void
db_back(struct live *l, double now)
{
	if (!l->db_down)
		return;
	double down = now - l->down_at;
	l->down_s += down;
	l->db_down = false;
	struct sm_store_backlog bl;
	sm_store_backlog(sm_pipeline_store(l->pl), &bl);
	char when[40];
	bool json = state_event(l, "database", "back", when, sizeof(when));
	fprintf(stderr,
	        "smaudit: %s DATABASE BACK after %.1f s: the sessions that waited are stored%s\n",
	        when, down, bl.not_stored ? ", but some could not wait (see the report)" : "");
	if (json) {
		printf(", \"unavailable_s\": %.3f, \"not_stored\": %llu", down,
		       (unsigned long long)bl.not_stored);
		state_event_end();
	}
}

/* A checkpoint, or while the database is unavailable the next try when due. */
static enum sm_err
checkpoint(struct live *l, double now, struct sm_errbuf *eb)
{
	if (l->db_down && now < l->retry_at)
		return SM_OK;
	sm_pipeline_set_db_fault(l->pl, l->faults, unavailable_ms(l, now));
	enum sm_err e = sm_pipeline_checkpoint(l->pl, eb);
	if (e == SM_ERR_DB) {
		db_unavailable(l, eb, now);
		return SM_OK;
	}
	if (e == SM_OK)
		db_back(l, now);
	return e;
}

static void
show_status(struct live *l)
{
	struct sm_session_stats ss;
	sm_session_stats(sm_pipeline_sessions(l->pl), &ss);
	const struct sm_run_row *t = sm_pipeline_totals(l->pl);
	fprintf(stderr,
	        "\rsmaudit live %s: %llu packets, %llu sessions (%llu open), %llu dropped | "
	        "%llu no-answer, %llu rejected, %llu unexpected\033[K",
	        l->o->capture.iface, (unsigned long long)t->packets, (unsigned long long)ss.created,
	        (unsigned long long)ss.active, (unsigned long long)l->dropped,
	        (unsigned long long)l->alerts[A_NO_ANSWER],
	        (unsigned long long)l->alerts[A_REJECTED],
	        (unsigned long long)l->alerts[A_UNEXPECTED]);
	l->status_shown = true;
}

/* Replaces the report file's content with buf (or prints it). */
static enum sm_err
put_report(struct live *l, const char *buf, size_t len, struct sm_errbuf *eb)
{
	if (l->report_fd < 0 && l->o->json_lines)
		return SM_OK; /* stdout carries JSON lines: the summary alone is wanted */
	if (l->report_fd < 0) {
		clear_status(l);
		if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0)
			return sm_error(eb, SM_ERR_IO, "cannot write the report to stdout: %s",
			                strerror(errno));
		return SM_OK;
	}
	size_t off = 0;
	if (ftruncate(l->report_fd, 0) != 0)
		off = len + 1;
	while (off < len) {
		ssize_t n = pwrite(l->report_fd, buf + off, len - off, (off_t)off);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (off != len)
		return sm_error(eb, SM_ERR_IO, "%s: cannot write the report: %s", l->o->output,
		                strerror(errno));
	return SM_OK;
}

/* Renders the run and replaces the report file's content (or prints it). */
static enum sm_err
write_report(struct live *l, struct sm_report_summary *sum, struct sm_errbuf *eb)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (m == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory rendering the report");
	struct sm_report_style style = {l->o->pipeline.db_path, false, NULL};
	if (l->fault.never_back)
		style.db = &l->fault;
	enum sm_err e = sm_report_render(sm_pipeline_store(l->pl), sm_pipeline_run_id(l->pl),
	                                 l->o->format, &style, m, sum, eb);
	if (fclose(m) != 0 && e == SM_OK)
		e = sm_error(eb, SM_ERR_NOMEM, "out of memory rendering the report");
	if (e == SM_OK)
		e = put_report(l, buf, len, eb);
	free(buf);
	return e;
}

/* The report of a run the database never took: rendered from what the last
 * checkpoint stored, or when even that cannot be read, the error alone. */
static void
write_failed_report(struct live *l)
{
	struct sm_errbuf reb = {""};
	struct sm_report_summary ignored;
	if (write_report(l, &ignored, &reb) == SM_OK)
		return;
	clear_status(l);
	fprintf(stderr, "smaudit: the report cannot be read from the database either: %s\n",
	        reb.msg);
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (m == NULL)
		return;
	switch (l->o->format) {
	case FMT_JSON:
		fprintf(
		    m,
		    "{\n  \"version\": 1,\n  \"run\": {\"id\": %lld, \"status\": \"not stored\", "
		    "\"database\": {\"faults\": %llu, \"unavailable_s\": %.3f, \"not_stored\": "
		    "%llu, "
		    "\"stored\": false, \"error\": ",
		    (long long)sm_pipeline_run_id(l->pl), (unsigned long long)l->fault.faults,
		    l->fault.unavailable_s, (unsigned long long)l->fault.not_stored);
		sm_json_string(m, l->fault.error);
		fputs("}}\n}\n", m);
		break;
	case FMT_TEXT:
	case FMT_CSV:   /* no rows to write: the run was not stored */
	case FMT_HTML:  /* the same: a page would say no more than these lines */
	case FMT_COUNT: /* no format */
		fprintf(m,
		        "smaudit report, run %lld (live, not stored)\n"
		        "  ERROR    the database failed and did not come back: %s\n"
		        "           the run is not stored and its report cannot be read: %s\n",
		        (long long)sm_pipeline_run_id(l->pl), l->fault.error, reb.msg);
		break;
	}
	if (fclose(m) == 0)
		put_report(l, buf, len, &reb);
	free(buf);
}

/*
 * Opens everything that needs root: the ring directory, capture, database,
 * report file.  Files are checked and created by priv (no symbolic link
 * followed, no other user's file taken over, given to the user by descriptor)
 * before SQLite or the report writes them.
 */
static enum sm_err
open_all(struct live *l, const struct sm_priv *priv, struct sm_errbuf *eb)
{
	const struct sm_live_run_opts *o = l->o;
	enum sm_err e = SM_OK;
	if (o->capture.ring_dir != NULL &&
	    (e = sm_priv_ring_dir(priv, o->capture.ring_dir, eb)) != SM_OK)
		return e;
	e = sm_capture_open_live(&l->cap, &o->capture, o->bpf, o->warn, o->warn_ctx, eb);
	if (e != SM_OK)
		return e;
	const char *db = o->pipeline.db_path;
	if (db != NULL && !sm_store_is_uri(db)) { /* a file; a server is reached by its URI */
		int fd;
		if ((e = sm_priv_open_file(priv, db, "database", &fd, eb)) != SM_OK)
			return e;
		close(fd); /* SQLite opens it by name; as root it gives -wal and -shm its owner */
	}
	if (o->output != NULL && strcmp(o->output, "-") != 0 &&
	    (e = sm_priv_open_file(priv, o->output, "report", &l->report_fd, eb)) != SM_OK)
		return e;
	struct sm_pipeline_opts po = o->pipeline;
	po.mode = "live";
	po.on_session = on_closed;
	po.ctx = l;
	/* a database error does not stop the capture: closed sessions wait */
	po.db_backlog = po.sessions.max_sessions ? po.sessions.max_sessions : 262144;
	po.db_busy_ms = DB_BUSY_MS;
	e = sm_pipeline_open(&l->pl, &po, l->cap, eb);
	if (e != SM_OK)
		return e;
	return sm_pipeline_checkpoint(l->pl, eb); /* creates the WAL files while root */
}

/* One line on stderr, and a JSON line, for an interim report that could not be
 * written (a full disk, say) and for the first one written again: the capture
 * goes on either way; only the final report decides the exit status. */
static void
report_state(struct live *l, bool written, const struct sm_errbuf *eb)
{
	if (written == !l->report_down)
		return;
	l->report_down = !written;
	char when[40];
	bool json = state_event(l, "report", written ? "written" : "failed", when, sizeof(when));
	if (written)
		fprintf(stderr, "smaudit: %s REPORT WRITTEN again to %s\n", when, l->o->output);
	else
		fprintf(stderr,
		        "smaudit: %s INTERIM REPORT NOT WRITTEN: %s; capture goes on and the "
		        "report is tried again every %u s\n",
		        when, eb->msg, l->o->report_every_s);
	if (json) {
		if (!written) {
			printf(", \"error\": ");
			sm_json_string(stdout, eb->msg);
		}
		state_event_end();
	}
}

static enum sm_err
run_loop(struct live *l, bool *interrupted, struct sm_errbuf *eb)
{
	const struct sm_live_run_opts *o = l->o;
	double start = sm_monotonic_s();
	double cp_every = o->checkpoint_s ? o->checkpoint_s : 10;
	double next_scan = start + 1, next_cp = start + cp_every, next_status = start + 1;
	double next_report = o->report_every_s ? start + o->report_every_s : 0;
	struct sm_raw_packet raw;
	enum sm_err e = SM_OK;
	bool stopping = false;
	for (;;) {
		double now = sm_monotonic_s();
		if (!stopping && ((o->stop != NULL && *o->stop) ||
		                  (o->duration_s > 0 && now - start >= o->duration_s))) {
			/* Ctrl-C, SIGTERM or --duration: the normal end of a live run.  Every
			 * packet that arrived before now is still read; the capture counts
			 * what of it could not be as dropped. */
			sm_capture_stop(l->cap);
			stopping = true;
		}
		int rc = sm_capture_next(l->cap, &raw);
		if (rc == SM_CAPTURE_END) {
			*interrupted = !stopping; /* else the interface went away */
			break;
		}
		if (rc == SM_CAPTURE_PACKET && (e = sm_pipeline_packet(l->pl, &raw, eb)) != SM_OK)
			break;
		if (now < next_scan)
			continue;
		next_scan = now + 1;
		sm_pipeline_tick(l->pl, now_ns());
		sm_session_foreach(sm_pipeline_sessions(l->pl), on_open, l);
		check_drops(l, now);
		if (now >= next_cp || (l->db_down && now >= l->retry_at)) {
			next_cp = now + cp_every;
			if ((e = checkpoint(l, now, eb)) != SM_OK)
				break;
		}
		if (next_report > 0 && now >= next_report && !l->db_down) {
			struct sm_report_summary sum;
			next_report = now + o->report_every_s;
			if ((e = checkpoint(l, now, eb)) != SM_OK)
				break;
			if (!l->db_down) {
				struct sm_errbuf reb = {""};
				report_state(l, write_report(l, &sum, &reb) == SM_OK, &reb);
			}
		}
		if (o->status && now >= next_status) {
			next_status = now + 2;
			show_status(l);
		}
	}
	clear_status(l);
	return e;
}

/* Ends the run; a database still (or newly) unavailable is tried again for
 * DB_END_GRACE_S.  If it never comes back the waiting sessions are dropped so
 * the report can read what the last checkpoint stored, and the error says what
 * was lost. */
static enum sm_err
finish(struct live *l, bool interrupted, struct sm_errbuf *eb)
{
	double start = sm_monotonic_s(), wait = 0.5;
	for (;;) {
		double now = sm_monotonic_s();
		sm_pipeline_set_db_fault(l->pl, l->faults, unavailable_ms(l, now));
		enum sm_err e = sm_pipeline_finish(l->pl, interrupted, eb);
		if (e == SM_OK)
			db_back(l, sm_monotonic_s());
		if (e != SM_ERR_DB)
			return e;
		db_unavailable(l, eb, now);
		if (now - start >= DB_END_GRACE_S)
			break;
		struct timespec ts = {0, (long)(wait * 1e9)};
		nanosleep(&ts, NULL);
		wait = wait * 2 < 2 ? wait * 2 : 2;
	}
	l->fault.never_back = true;
	l->fault.faults = l->faults;
	l->fault.unavailable_s = (double)unavailable_ms(l, sm_monotonic_s()) / 1000;
	l->fault.not_stored = sm_store_give_up(sm_pipeline_store(l->pl));
	sm_strlcpy(l->fault.error, eb->msg, sizeof(l->fault.error));
	return sm_error(eb, SM_ERR_DB,
	                "%s; the database did not come back: the run is not stored complete "
	                "(%llu session(s) lost; the report shows the last checkpoint)",
	                l->fault.error, (unsigned long long)l->fault.not_stored);
}

enum sm_err
sm_live_run(const struct sm_live_run_opts *o, int64_t *run_id, struct sm_report_summary *sum,
            struct sm_errbuf *eb)
{
	struct live l;
	memset(&l, 0, sizeof(l));
	memset(sum, 0, sizeof(*sum));
	l.o = o;
	l.report_fd = -1;
	l.keys = calloc(ALERT_SLOTS, sizeof(*l.keys));
	if (l.keys == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	struct sm_priv priv;
	enum sm_err e = sm_priv_resolve(o->user, &priv, eb);
	if (e == SM_OK)
		e = open_all(&l, &priv, eb);
	if (e == SM_OK)
		e = sm_priv_drop(&priv, o->chroot_dir, eb);
	if (e != SM_OK)
		goto out;
	*run_id = sm_pipeline_run_id(l.pl);
	fprintf(stderr, "smaudit: listening on %s, run %lld%s%s (uid %d); Ctrl-C ends the run\n",
	        o->capture.iface, (long long)*run_id, priv.drop ? ", parsing as user " : "",
	        priv.drop ? priv.user : "", (int)geteuid());
	if (o->json_lines) {
		printf("{\"event\": \"start\", \"time\": ");
		sm_json_ts(stdout, (double)now_ns() / 1e9);
		printf(", \"run\": %lld, \"interface\": ", (long long)*run_id);
		sm_json_string(stdout, o->capture.iface);
		printf("}\n");
		fflush(stdout);
	}
	bool interrupted = false;
	/* from here on, hostile packets are parsed */
	e = sm_priv_confine(sm_store_is_uri(o->pipeline.db_path), eb);
	if (e == SM_OK)
		e = run_loop(&l, &interrupted, eb);
	if (e != SM_OK) {
		/* keep what the last checkpoint wrote; the run stays marked running */
		goto out;
	}
	check_drops(&l, sm_monotonic_s() + 3600);
	sm_pipeline_set_dropped(l.pl, l.dropped);
	e = finish(&l, interrupted, eb);
	if (e == SM_ERR_DB) { /* never came back: the report says so, exit 3 */
		write_failed_report(&l);
		goto out;
	}
	if (e == SM_OK) /* a link that never showed the site: wrong site file or port */
		e = sm_report_check_site_seen(sm_pipeline_store(l.pl), *run_id, eb);
	if (e == SM_OK)
		e = write_report(&l, sum, eb);
	if (e == SM_OK && o->json_lines) {
		const struct sm_run_row *t = sm_pipeline_totals(l.pl);
		printf("{\"event\": \"end\", \"time\": ");
		sm_json_ts(stdout, (double)now_ns() / 1e9);
		printf(", \"run\": %lld, \"status\": \"%s\", \"packets\": %llu, \"dropped\": %llu, "
		       "\"missing\": %llu, \"unexpected\": %llu}\n",
		       (long long)*run_id, sm_run_status_name(t->status),
		       (unsigned long long)t->packets, (unsigned long long)t->dropped,
		       (unsigned long long)sum->missing, (unsigned long long)sum->unexpected);
		fflush(stdout);
	}
out:
	if (l.report_fd >= 0)
		close(l.report_fd);
	sm_pipeline_free(l.pl);
	sm_capture_close(l.cap);
	free(l.keys);
	return e;
}
