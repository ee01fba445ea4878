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
#include "smaudit/payload.h"
#include "smaudit/policy.h"
#include "smaudit/reasm.h"
#include "smaudit/stage.h"
#include "smaudit/fmt.h"
#include "smaudit/inflate.h"
#include "ifcopy.h"
#include "record.h"
#include "snapcut.h"

struct sm_pipeline {
	struct sm_store *store;
	struct sm_policy *policy;
	struct sm_capture *capture; /* borrowed */
	struct sm_decoder *dec;
	struct sm_session_table *tab;
	struct sm_snapcut *cuts;  /* pairs of packets cut before their ports; NULL: none */
	struct sm_ifcopy *ifcopy; /* a Linux "any" capture's copies; NULL: none yet */
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
	struct sm_payload *payload;  /* the payload checks, using reasm */
	/* With threads: policy and store of the sessions that leave run there (stage.h) */
	struct sm_stage *stage;
	/* Absolute paths of the sources, resolved when the run opens (before a live
	 * run may chroot), so extract finds them from any directory later. */
	char **abs_paths;        /* per capture source; NULL entry = keep the path as given */
	struct sm_window window; /* stored as run counters */
	uint64_t stopped_at;     /* -c count the run stopped at, 0 = read to the end */
	uint64_t db_faults, db_unavailable_ms; /* database errors waited out (live) */
	bool flushed;                          /* sm_pipeline_finish closed every session */
	size_t nabs;
	char cwd[PATH_MAX];
	/* several sensors: per capture source, its sensor; names and clocks (borrowed) */
	uint8_t *sensor_of_source;
	const char *const *sensor_names;
	size_t nsensors;
	const struct sm_sensor_row *sensor_clocks;
	uint64_t sensor_packets[SM_SENSORS_MAX];
	int64_t sensor_first[SM_SENSORS_MAX], sensor_last[SM_SENSORS_MAX];
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

/* Classifies s, stores its row and what it adds to the run's totals. */
static enum sm_err
store_one(struct sm_pipeline *pl, struct sm_policy *policy, const struct sm_session *s, bool open,
          struct sm_errbuf *eb)
{
	struct sm_classification c;
	sm_policy_classify(policy, s, &c);
	const struct sm_source_info *src = sm_capture_source(pl->capture, s->source);
	struct sm_session_record rec;
	sm_session_record(s, &c, src ? src->path : NULL, open, pl->sensor_names, pl->nsensors,
	                  &rec);
	enum sm_err e = sm_store_session(pl->store, pl->run_id, &rec, eb);
	uint64_t missed = s->missed[0] + s->missed[1];
	pl->missed[open] += missed;
	pl->gaps[open] += missed > 0;
	if (!open && pl->on_session != NULL)
		pl->on_session(pl->ctx, s, &c);
	return e;
}

/* A session about to leave the table: the payload checks decide what it
 * still waits for. */
static void
on_session_done(void *ctx, struct sm_session *s)
{
	struct sm_pipeline *pl = ctx;
	sm_payload_done(pl->payload, s);
}

static void
on_session(void *ctx, const struct sm_session *s, enum sm_session_end why)
{
	struct sm_pipeline *pl = ctx;
	(void)why;
	if (pl->stage != NULL)
		sm_stage_done(pl->stage, s);
	else if (pl->err == SM_OK)
		pl->err = store_one(pl, pl->policy, s, false, pl->eb);
}

static void
on_open_session(void *ctx, const struct sm_session *s, enum sm_session_end why)
{
	struct sm_pipeline *pl = ctx;
	(void)why;
	if (pl->err == SM_OK)
		pl->err = store_one(pl, pl->snapshot, s, true, pl->eb);
}

/* The stage's thread (stage.h): a session that left the table, as on_session
 * stores it with one thread. */
static enum sm_err
stage_done(void *ctx, struct sm_session *s, struct sm_errbuf *eb)
{
	struct sm_pipeline *pl = ctx;
	return store_one(pl, pl->policy, s, false, eb);
}

/* Ends the stage's thread after what was queued; its first error is the run's. */
static enum sm_err
stage_end(struct sm_pipeline *pl, struct sm_errbuf *eb)
{
	enum sm_err e = sm_stage_stop(pl->stage, eb);
	pl->stage = NULL;
	if (e != SM_OK && pl->err == SM_OK)
		pl->err = e;
	return pl->err;
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
             uint16_t dport, enum sm_visible what)
{
	struct sm_pipeline *pl = ctx;
	struct sm_flow_probe f = {proto, *src, *dst, dport};
	return sm_capture_filter_keeps(pl->capture, &f,
	                               what == SM_VISIBLE_FLOW        ? SM_FILTER_FLOW
	                               : what == SM_VISIBLE_HANDSHAKE ? SM_FILTER_HANDSHAKE
	                               : what == SM_VISIBLE_RESET     ? SM_FILTER_RESET
	                                                              : SM_FILTER_REFUSAL);
}

/* A packet whose transport header the capture cut: its address pair is kept for
 * the policy (snapcut.h); without memory for that, it is only undecoded. */
static __attribute__((cold, noinline)) void
note_snap_cut(struct sm_pipeline *pl, const struct sm_packet *pkt)
{
	if (pl->cuts == NULL && (pl->cuts = sm_snapcut_new()) == NULL)
		return;
	sm_snapcut_add(pl->cuts, pkt->proto, &pkt->src, &pkt->dst);
}

static bool
policy_snap_cut(void *ctx, uint8_t proto, const struct sm_addr *a, const struct sm_addr *b,
                uint64_t n)
{
	return sm_policy_snap_cut(ctx, proto, a, b, n);
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
	uint64_t out_of_order = 0, late = 0;
	for (size_t i = 0; i < nsrc; i++) {
		out_of_order += sm_capture_source(pl->capture, i)->reordered;
		late += sm_capture_source(pl->capture, i)->late;
	}
	if (e == SM_OK && out_of_order + late > 0)
		e = sm_store_counter(st, run, SM_COUNTER_OUT_OF_ORDER, out_of_order + late, pl->eb);
	if (e == SM_OK && late > 0)
		e = sm_store_counter(st, run, SM_COUNTER_LATE, late, pl->eb);
	if (e == SM_OK && sm_ifcopy_count(pl->ifcopy) > 0)
		e = sm_store_counter(st, run, SM_COUNTER_IFACE_COPIES, sm_ifcopy_count(pl->ifcopy),
		                     pl->eb);
	for (int r = 1; e == SM_OK && r < R_COUNT; r++)
		if (sm_decoder_count(pl->dec, (enum sm_dec_reason)r) > 0)
			e = sm_store_counter(st, run, sm_dec_reason_name((enum sm_dec_reason)r),
			                     sm_decoder_count(pl->dec, (enum sm_dec_reason)r),
			                     pl->eb);
	if (e == SM_OK && pl->window.has_from)
		e = sm_store_counter(st, run, SM_COUNTER_WINDOW_FROM, (uint64_t)pl->window.from_ns,
		                     pl->eb);
	if (e == SM_OK && pl->window.has_until)
		e = sm_store_counter(st, run, SM_COUNTER_WINDOW_UNTIL,
		                     (uint64_t)pl->window.until_ns, pl->eb);
	if (e == SM_OK && pl->stopped_at > 0)
		e = sm_store_counter(st, run, SM_COUNTER_STOPPED_AT, pl->stopped_at, pl->eb);
	if (e == SM_OK && pl->reasm == NULL) /* --no-payload */
		e = sm_store_counter(st, run, SM_COUNTER_PROTOCOLS_UNCHECKED, 1, pl->eb);
	struct sm_store_backlog bl;
	sm_store_backlog(st, &bl);
	if (e == SM_OK && pl->db_faults > 0)
		e = sm_store_counter(st, run, SM_COUNTER_DB_FAULTS, pl->db_faults, pl->eb);
	if (e == SM_OK && pl->db_faults > 0)
		e = sm_store_counter(st, run, SM_COUNTER_DB_UNAVAILABLE_MS, pl->db_unavailable_ms,
		                     pl->eb);
	if (e == SM_OK && bl.not_stored > 0)
		e = sm_store_counter(st, run, SM_COUNTER_NOT_STORED, bl.not_stored, pl->eb);
	for (size_t k = 0; e == SM_OK && pl->sensor_names != NULL && k < pl->nsensors; k++) {
		struct sm_sensor_row r;
		memset(&r, 0, sizeof(r));
		if (pl->sensor_clocks != NULL)
			r = pl->sensor_clocks[k];
		r.idx = (int)k;
		sm_strlcpy(r.name, pl->sensor_names[k], sizeof(r.name));
		r.packets = pl->nsensors > 1 ? pl->sensor_packets[k] : pl->totals.packets;
		e = sm_store_sensor(st, run, &r, pl->eb);
		sm_policy_sensor_span(policy, k, pl->sensor_first[k], pl->sensor_last[k]);
	}
	if (pl->cuts != NULL && !sm_snapcut_each(pl->cuts, policy_snap_cut, policy) && e == SM_OK)
		e = sm_error(pl->eb, SM_ERR_NOMEM, "out of memory");
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
		sm_strlcpy(row.path, x->path, sizeof(row.path));
		sm_strlcpy(row.lost_between, x->lost_between, sizeof(row.lost_between));
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
	pl->window = o->window;
	pl->ctx = o->ctx;
	pl->eb = eb;
	char *srcjson = NULL;
	enum sm_err e = sm_store_open(&pl->store, o->db_path, true, eb);
	if (e != SM_OK)
		goto out;
	pl->policy = sm_policy_new(o->rules, o->site);
	struct sm_session_opts so = o->sessions;
	pl->nsensors = o->nsensors;
	pl->sensor_names = o->sensor_names;
	if (o->nsensors > 1) {
		size_t nsrc = sm_capture_source_count(cap);
		pl->sensor_clocks = o->sensor_clocks;
		so.nsensors = (uint8_t)o->nsensors;
		pl->sensor_of_source = calloc(nsrc + 1, 1);
		for (size_t i = 0; pl->sensor_of_source != NULL && i < nsrc; i++)
			pl->sensor_of_source[i] =
			    o->sensor_of_input
			        ? o->sensor_of_input[sm_capture_source(cap, i)->input]
			        : 0;
		if (pl->sensor_of_source == NULL ||
		    (pl->policy != NULL &&
		     !sm_policy_set_sensors(pl->policy, o->sensor_names, o->nsensors))) {
			e = sm_error(eb, SM_ERR_NOMEM, "out of memory setting up the run");
			goto out;
		}
	}
	if (pl->policy != NULL) {
		so.service_ports = sm_policy_service_ports(pl->policy);
		so.done = on_session_done;
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
		                 sm_payload_reasm_result, NULL, eb);
	if (e == SM_OK && (pl->payload = sm_payload_new(pl->reasm)) == NULL)
		e = sm_error(eb, SM_ERR_NOMEM, "out of memory setting up the run");
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
	if (e == SM_OK && o->threads > 1) {
		struct sm_stage_opts sto = {.nsensors = so.nsensors, .done = stage_done, .ctx = pl};
		e = sm_stage_start(&pl->stage, &sto, eb);
	}
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
	if (pl->first == 0 || raw->ts_ns < pl->first)
		pl->first = raw->ts_ns;
	if (raw->ts_ns > pl->last)
		pl->last = raw->ts_ns;
	enum sm_dec rc = sm_decode(pl->dec, raw, &pkt);
	/* IP bytes, as tshark's ip.len sums: the outermost datagram's, 0 for no IP */
	pl->totals.bytes += pkt.nouter > 0 ? pkt.outer[0].ip_len : pkt.ip_len;
	if (pl->sensor_of_source != NULL) {
		uint8_t k = pkt.sensor = pl->sensor_of_source[raw->source];
		if (pl->sensor_packets[k]++ == 0 || raw->ts_ns < pl->sensor_first[k])
			pl->sensor_first[k] = raw->ts_ns;
		if (raw->ts_ns > pl->sensor_last[k])
			pl->sensor_last[k] = raw->ts_ns;
	}
	/* a packet held (a fragment) or cut (its transport header) inside a tunnel:
	 * its carriers count it all the same */
	if ((rc == DEC_HELD || rc == DEC_TRUNCATED) && pkt.nouter > 0 &&
	    sm_session_carriers(pl->tab, &pkt) != SM_OK)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory in the session table");
	if (rc != DEC_OK) {
		if (rc == DEC_TRUNCATED && pkt.src.family != 0 &&
		    (pkt.proto == SM_PROTO_TCP || pkt.proto == SM_PROTO_UDP ||
		     pkt.proto == SM_PROTO_ICMP || pkt.proto == SM_PROTO_ICMP6))
			note_snap_cut(pl, &pkt);
		return pl->err;
	}
	if (sm_ifcopy_packet(&pl->ifcopy, raw, &pkt))
		return pl->err; /* seen on another interface already */
	struct sm_session_hit hit;
	if (sm_session_packet(pl->tab, &pkt, &hit) != SM_OK)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory in the session table");
	if (pl->reasm != NULL && pkt.proto == SM_PROTO_TCP && hit.s != NULL && !hit.copy)
		sm_payload_packet(pl->payload, hit.s, hit.dir, &pkt);
	if (pl->stage != NULL && sm_stage_error(pl->stage) != SM_OK)
		return stage_end(pl, eb);
	return pl->err;
}

void
sm_pipeline_tick(struct sm_pipeline *pl, int64_t now_ns)
{
	sm_session_advance(pl->tab, now_ns);
}

/* The run row's totals as of now, with the given status. */
static void
fill_totals(struct sm_pipeline *pl, enum sm_run_status status, uint64_t open_sessions)
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
	uint64_t declared = 0; /* drops the capture files declare (a live run has none) */
	for (size_t i = 0; i < sm_capture_source_count(pl->capture); i++) {
		const struct sm_source_info *s = sm_capture_source(pl->capture, i);
		if (s->opened && s->error[0])
			t->read_errors++;
		declared += s->dropped;
	}
	if (declared > 0)
		t->dropped = declared;
	t->status = status;
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
	if (pl->stage != NULL) /* the stage's thread holds the policy while it runs */
		return sm_error(eb, SM_ERR_INTERNAL, "a checkpoint needs a run on one thread");
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
	fill_totals(pl, RUN_RUNNING, ss.active);
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
		if (pl->stage != NULL)
			stage_end(pl, eb);
		if (pl->err != SM_OK)
			return pl->err;
	}
	e = sm_store_run_reset(pl->store, pl->run_id, eb);
	if (e == SM_OK)
		e = store_results(pl, pl->policy);
	if (e != SM_OK)
		return store_failed(pl, e, eb);
	fill_totals(pl, interrupted ? RUN_INTERRUPTED : RUN_COMPLETE, 0);
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
	sm_stage_stop(pl->stage, NULL); /* its thread uses all that follows */
	sm_session_table_free(pl->tab);
	sm_payload_free(pl->payload);
	sm_reasm_free(pl->reasm);
	sm_decoder_free(pl->dec);
	sm_snapcut_free(pl->cuts);
	sm_ifcopy_free(pl->ifcopy);
	sm_policy_free(pl->policy);
	sm_store_close(pl->store);
	for (size_t i = 0; i < pl->nabs; i++)
		free(pl->abs_paths[i]);
	free(pl->abs_paths);
	free(pl->sensor_of_source);
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

/* Each sensor's clock against sensor 0's, from packets two sensors saw (sensor.h);
 * every capture source is shifted onto the common clock.  A sensor that cannot be
 * matched is said so (a warning now, its row in the report) and read as it is. */
static enum sm_err
sensor_clocks(const struct sm_audit_opts *o, struct sm_capture *cap, struct sm_sensor_row *rows,
              struct sm_errbuf *eb)
{
	const struct sm_pipeline_opts *po = &o->pipeline;
	uint32_t *of = calloc(o->ninputs + 1, sizeof(*of));
	if (of == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory matching the sensors' clocks");
	for (size_t i = 0; i < o->ninputs; i++)
		of[i] = po->sensor_of_input ? po->sensor_of_input[i] : 0;
	struct sm_sensor_clock ck[SM_SENSORS_MAX];
	enum sm_err e = sm_sensor_clocks(o->inputs, of, o->ninputs, po->nsensors, ck, eb);
	free(of);
	if (e != SM_OK)
		return e;
	memset(rows, 0, po->nsensors * sizeof(*rows));
	for (size_t k = 0; k < po->nsensors; k++) {
		rows[k].clock_known = ck[k].known;
		/* in microseconds, what a capture's timestamps hold (and no "-0") */
		rows[k].clock_offset =
		    (double)((ck[k].offset_ns + (ck[k].offset_ns < 0 ? -500 : 500)) / 1000) / 1e6;
		rows[k].clock_spread = (double)((ck[k].spread_ns + 500) / 1000) / 1e6;
		rows[k].clock_matched = ck[k].matched;
		if (!ck[k].known && o->warn != NULL) {
			char msg[256];
			snprintf(msg, sizeof(msg),
			         "sensor %s: no packet also seen by another sensor, so its clock "
			         "cannot be matched: its times are taken as they are",
			         po->sensor_names[k]);
			o->warn(o->warn_ctx, msg);
		}
	}
	for (size_t i = 0; i < sm_capture_source_count(cap); i++) {
		size_t k = po->sensor_of_input[sm_capture_source(cap, i)->input];
		if (ck[k].known && ck[k].offset_ns != 0 &&
		    (e = sm_capture_set_offset(cap, i, ck[k].offset_ns)) != SM_OK)
			return sm_error(eb, e, "cannot shift %s onto the common clock",
			                sm_capture_source(cap, i)->path);
	}
	return SM_OK;
}

static bool
window_holds(const struct sm_window *w, int64_t ts_ns)
{
	return (!w->has_from || ts_ns >= w->from_ns) && (!w->has_until || ts_ns <= w->until_ns);
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
	po.mode = o->mode ? o->mode : "audit";
	struct sm_sensor_row clocks[SM_SENSORS_MAX];
	if (po.nsensors > 1) {
		e = sensor_clocks(o, cap, clocks, eb);
		if (e != SM_OK)
			goto out;
		po.sensor_clocks = clocks;
	}
	e = sm_pipeline_open(&pl, &po, cap, eb);
	if (e != SM_OK)
		goto out;
	sm_instream_stop_on(o->stop); /* Ctrl-C ends a read from a quiet pipe */
	struct sm_raw_packet raw;
	double started = sm_monotonic_s(), next_progress = started + 1.0;
	bool interrupted = false;
	uint64_t n = 0, taken = 0;
	/* the hash bucket of the packet after the current one, found a round earlier */
	uint32_t bucket = 0;
	bool hinted = false;
	while (sm_capture_next(cap, &raw) == SM_CAPTURE_PACKET) {
		struct sm_raw_packet ahead;
		struct sm_flow_key hint;
		if (hinted)
			sm_session_prefetch(pl->tab, bucket);
		hinted = sm_capture_peek(cap, 2, &ahead) && sm_decode_hint(&ahead, &hint);
		if (hinted)
			bucket = sm_session_prefetch_bucket(pl->tab, &hint);
		if (window_holds(&po.window, raw.ts_ns)) {
			if (o->count > 0 &&
			    taken == o->count) { /* one more to read: stopped early */
				sm_pipeline_set_stopped_at(pl, taken);
				sm_capture_unread(cap);
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
	sm_instream_stop_on(NULL);
	sm_pipeline_free(pl);
	sm_capture_close(cap);
	return e;
}
