#include "smaudit/extract.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smaudit/capture.h"
#include "smaudit/decode.h"
#include "smaudit/digest.h"

#define MAX_SESSIONS 100000
#define SLACK_NS     2000000000LL /* ICMP errors quoting a session come up to this late */
#define TOL_NS       2000LL       /* times stored as REAL seconds: 0.5 us apart, rounded */

struct match {
	uint8_t proto;
	struct sm_addr a, b; /* initiator, responder */
	uint16_t pa, pb;
	bool ports;             /* TCP/UDP: ports are part of the match */
	int64_t from_ns, to_ns; /* the session's packets: its first and last */
	int64_t err_to_ns;      /* ICMP errors quoting it: up to SLACK_NS after its last */
	uint32_t next;          /* chain in the hash, index + 1 */
};

#define MATCH_HASH 65536

struct selection {
	struct match *m;
	size_t n, cap;
	uint32_t *hash; /* MATCH_HASH heads, index + 1 */
	int64_t run_id;
	const char *initiator; /* a finding's flow: only sessions it initiated */
	bool oom;
	/* the run's sources */
	char **paths;
	size_t npaths;
};

static uint8_t
proto_number(const char *p)
{
	if (strcmp(p, "tcp") == 0)
		return SM_PROTO_TCP;
	if (strcmp(p, "udp") == 0)
		return SM_PROTO_UDP;
	if (strcmp(p, "icmp") == 0)
		return SM_PROTO_ICMP;
	if (strcmp(p, "icmp6") == 0)
		return SM_PROTO_ICMP6;
	return (uint8_t)atoi(p);
}

/* Unordered pair of addresses and the protocol. */
static uint32_t
pair_hash(uint8_t proto, const struct sm_addr *x, const struct sm_addr *y)
{
	return (sm_addr_hash(x, proto) ^ sm_addr_hash(y, proto)) % MATCH_HASH;
}

static bool
add_session(void *ctx, const struct sm_session_row *r)
{
	struct selection *s = ctx;
	struct match m;
	memset(&m, 0, sizeof(m));
	if (!sm_addr_parse(r->src, &m.a) || !sm_addr_parse(r->dst, &m.b))
		return true;
	if (s->initiator != NULL && strcmp(r->src, s->initiator) != 0)
		return true;
	if (s->n >= MAX_SESSIONS)
		return false;
	m.proto = proto_number(r->proto);
	m.ports = m.proto == SM_PROTO_TCP || m.proto == SM_PROTO_UDP;
	m.pa = (uint16_t)r->sport;
	m.pb = (uint16_t)r->dport;
	/* its own packets exactly: the same 4-tuple may carry another session just
	 * before or after (a port reused, a retry after a refusal) */
	m.from_ns = (int64_t)(r->first_ts * 1e9) - TOL_NS;
	m.to_ns = (int64_t)(r->last_ts * 1e9) + TOL_NS;
	m.err_to_ns = (int64_t)(r->last_ts * 1e9) + SLACK_NS;
	uint32_t h = pair_hash(m.proto, &m.a, &m.b);
	m.next = s->hash[h];
	if (!sm_grow((void **)&s->m, &s->n, &s->cap, sizeof(m), &m)) {
		s->oom = true;
		return false;
	}
	s->hash[h] = (uint32_t)s->n;
	s->run_id = r->run_id;
	return true;
}

static bool
tuple_matches(const struct match *m, uint8_t proto, const struct sm_addr *src,
              const struct sm_addr *dst, uint16_t sport, uint16_t dport, bool ports_known)
{
	if (m->proto != proto)
		return false;
	bool fwd = sm_addr_eq(src, &m->a) && sm_addr_eq(dst, &m->b);
	bool rev = sm_addr_eq(src, &m->b) && sm_addr_eq(dst, &m->a);
	if (!fwd && !rev)
		return false;
	if (!m->ports || !ports_known)
		return true;
	return fwd ? sport == m->pa && dport == m->pb : sport == m->pb && dport == m->pa;
}

/* error: pkt is an ICMP error quoting the tuple, which comes after what it quotes */
static bool
tuple_selected(const struct selection *s, int64_t ts, uint8_t proto, const struct sm_addr *src,
               const struct sm_addr *dst, uint16_t sport, uint16_t dport, bool ports, bool error)
{
	for (uint32_t i = s->hash[pair_hash(proto, src, dst)]; i != 0; i = s->m[i - 1].next) {
		const struct match *m = &s->m[i - 1];
		if (ts >= m->from_ns && ts <= (error ? m->err_to_ns : m->to_ns) &&
		    tuple_matches(m, proto, src, dst, sport, dport, ports))
			return true;
	}
	return false;
}

/* Is pkt part of a selected session, an ICMP error quoting one, or a datagram
 * carrying a selected tunnel session? */
static bool
selected(const struct selection *s, const struct sm_packet *p)
{
	if (tuple_selected(s, p->ts_ns, p->proto, &p->src, &p->dst, p->sport, p->dport,
	                   p->l4_header, false))
		return true;
	const struct sm_quote *q = &p->quote;
	if (p->icmp_error && tuple_selected(s, p->ts_ns, q->proto, &q->src, &q->dst, q->sport,
	                                    q->dport, q->ports_known, true))
		return true;
	for (uint8_t i = 0; i < p->nouter && i < SM_MAX_OUTER; i++) {
		const struct sm_outer *o = &p->outer[i];
		if (tuple_selected(s, p->ts_ns, o->proto, &o->src, &o->dst, o->sport, o->dport,
		                   true, false))
			return true;
	}
	return false;
}

static void
selection_free(struct selection *s)
{
	for (size_t i = 0; i < s->npaths; i++)
		free(s->paths[i]);
	free(s->paths);
	free(s->m);
	free(s->hash);
}

/* The sessions behind the finding or the session asked for. */
static enum sm_err
select_sessions(struct sm_store *st, const struct sm_extract_opts *o, struct selection *s,
                struct sm_extract_result *res, struct sm_errbuf *eb)
{
	struct sm_query q;
	struct sm_finding_row f; /* q points into it */
	memset(&q, 0, sizeof(q));
	q.port = -1;
	if (o->session_id > 0) {
		q.session_id = o->session_id;
	} else {
		enum sm_err e = sm_store_load_finding(st, o->finding_id, &f, eb);
		if (e != SM_OK)
			return e;
		res->run_id = f.run_id;
		if (f.src[0] == '\0' || f.dst[0] == '\0') {
			snprintf(res->why_empty, sizeof(res->why_empty),
			         "finding %lld (%s, %s) names no address pair: no packet of it was "
			         "captured",
			         (long long)f.id, sm_finding_kind_name(f.kind),
			         f.verdict != V_NONE ? sm_verdict_name(f.verdict) : "-");
			return SM_OK;
		}
		q.run_id = f.run_id;
		q.host = f.src;
		q.peer = f.dst;
		s->initiator = f.src;
		q.proto = f.proto;
		q.dport = f.port > 0 ? f.port : 0;
	}
	q.last_copy = true; /* the last packet's copy at a later sensor is evidence too */
	enum sm_err e = sm_store_each_session(st, &q, add_session, s, eb);
	if (e == SM_OK && s->oom)
		e = sm_error(eb, SM_ERR_NOMEM, "out of memory selecting sessions");
	if (e != SM_OK)
		return e;
	if (s->n == 0 && o->session_id > 0)
		return sm_error(eb, SM_ERR_USAGE,
		                "no session %lld in this database (smaudit query "
		                "lists them with their ids)",
		                (long long)o->session_id);
	if (s->n == 0)
		snprintf(res->why_empty, sizeof(res->why_empty),
		         "finding %lld has no session in the run: no packet of it was captured",
		         (long long)o->finding_id);
	if (s->n >= MAX_SESSIONS && o->warn)
		o->warn(o->warn_ctx,
		        "more than 100000 sessions: only the first 100000 are extracted");
	res->sessions = s->n;
	if (o->session_id > 0)
		res->run_id = s->run_id;
	return SM_OK;
}

/* Each session's window ends where the run's packets ended (ICMP errors after an
 * --until or -c end were never read).  With several sensors, a file's packets carry
 * its sensor's own clock, which the run corrected by up to its largest clock offset
 * (the run does not keep which file is whose): each window then widens by that
 * much. */
static enum sm_err
bound_windows(struct sm_store *st, struct selection *s, struct sm_errbuf *eb)
{
	struct sm_run_row run;
	enum sm_err e = sm_store_load_run(st, s->run_id, &run, eb);
	if (e != SM_OK)
		return e;
	int64_t run_last = (int64_t)(run.last_ts * 1e9) + TOL_NS;
	sm_run_row_free(&run);
	for (size_t i = 0; run_last > TOL_NS && i < s->n; i++)
		if (s->m[i].err_to_ns > run_last)
			s->m[i].err_to_ns = run_last;
	struct sm_sensor_row *rows = NULL;
	size_t n = 0;
	e = sm_store_load_sensors(st, s->run_id, &rows, &n, eb);
	if (e != SM_OK) {
		free(rows);
		return e;
	}
	double most = 0;
	for (size_t i = 0; i < n; i++) {
		double off =
		    rows[i].clock_offset < 0 ? -rows[i].clock_offset : rows[i].clock_offset;
		if (rows[i].clock_known && off > most)
			most = off;
	}
	free(rows);
	int64_t w = (int64_t)(most * 1e9) + 1;
	for (size_t i = 0; most > 0 && i < s->n; i++) {
		s->m[i].from_ns -= w;
		s->m[i].to_ns += w;
		s->m[i].err_to_ns += w;
	}
	return SM_OK;
}

/* Inputs: the files the user named, else the run's sources that still exist. */
static enum sm_err
select_inputs(struct sm_store *st, const struct sm_extract_opts *o, struct selection *s,
              const char ***inputs, size_t *n, struct sm_errbuf *eb)
{
	*n = 0;
	if (o->nfrom > 0) {
		*inputs = (const char **)o->from;
		*n = o->nfrom;
		return SM_OK;
	}
	struct sm_source_row *src = NULL;
	size_t nsrc = 0;
	enum sm_err e = sm_store_load_sources(st, s->run_id, false, &src, &nsrc, eb);
	if (e == SM_OK && (s->paths = calloc(nsrc + 1, sizeof(*s->paths))) == NULL)
		e = sm_error(eb, SM_ERR_NOMEM, "out of memory");
	for (size_t i = 0; e == SM_OK && i < nsrc; i++) { /* the paths change owner */
		s->paths[s->npaths++] = src[i].path;
		src[i].path = NULL;
	}
	sm_source_rows_free(src, nsrc);
	if (e != SM_OK)
		return e;
	size_t keep = 0;
	for (size_t i = 0; i < s->npaths; i++) {
		struct stat sb;
		errno = 0;
		if (strcmp(s->paths[i], "-") != 0 && stat(s->paths[i], &sb) == 0 &&
		    !S_ISDIR(sb.st_mode)) {
			s->paths[keep++] = s->paths[i];
			continue;
		}
		char msg[700];
		snprintf(msg, sizeof(msg), "%s: %s; its packets are not in the evidence",
		         s->paths[i],
		         strcmp(s->paths[i], "-") == 0 ? "the run read standard input"
		         : errno == ENOENT             ? "no longer exists (moved? give --from)"
		                           : "is not a capture file (a live interface?)");
		if (o->warn)
			o->warn(o->warn_ctx, msg);
		free(s->paths[i]);
	}
	s->npaths = keep;
	if (keep == 0)
		return sm_error(eb, SM_ERR_IO,
		                "none of run %lld's capture files can be read any more: give them "
		                "with --from FILE|DIR",
		                (long long)s->run_id);
	*inputs = (const char **)s->paths;
	*n = keep;
	return SM_OK;
}

static void
capture_warning(void *ctx, const char *msg)
{
	const struct sm_extract_opts *o = ctx;
	if (o->warn)
		o->warn(o->warn_ctx, msg);
}

/* Reads the inputs once and writes the selected packets to tmp. */
static enum sm_err
copy_packets(const struct sm_extract_opts *o, const struct selection *s, const char **inputs,
             size_t ninputs, const char *tmp, struct sm_extract_result *res, struct sm_errbuf *eb)
{
	struct sm_capture *cap;
	enum sm_err e =
	    sm_capture_open(&cap, inputs, ninputs, NULL, capture_warning, (void *)o, eb);
	if (e != SM_OK)
		return e;
	struct sm_decoder_opts dopts;
	memset(&dopts, 0, sizeof(dopts));
	dopts.vxlan = true; /* decoded as the audit decodes them */
	struct sm_decoder *dec = sm_decoder_new(&dopts);
	if (dec == NULL) {
		sm_capture_close(cap);
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	}
	struct sm_capture_writer *w = NULL;
	struct sm_raw_packet raw;
	int linktype = -1;
	while (e == SM_OK && sm_capture_next(cap, &raw) == SM_CAPTURE_PACKET) {
		struct sm_packet p;
		if (sm_decode(dec, &raw, &p) != DEC_OK || !selected(s, &p))
			continue;
		if (w == NULL) {
			linktype = raw.linktype;
			e = sm_capture_writer_open(&w, tmp, linktype, eb);
			if (e != SM_OK)
				break;
		}
		if (raw.linktype != linktype) {
			res->other_linktype++;
			continue;
		}
		e = sm_capture_write(w, &raw, eb);
		res->packets++;
		res->bytes += raw.caplen;
	}
	if (w != NULL) {
		enum sm_err ce = sm_capture_writer_close(w, eb);
		if (e == SM_OK)
			e = ce;
	}
	sm_decoder_free(dec);
	sm_capture_close(cap);
	return e;
}

enum sm_err
sm_extract(struct sm_store *st, const struct sm_extract_opts *o, struct sm_extract_result *res,
           struct sm_errbuf *eb)
{
	memset(res, 0, sizeof(*res));
	/* evidence is a file its digest stands for: renaming over a device or a FIFO
	 * would replace it, and /dev/null would be recorded with the digest of nothing */
	struct stat ost;
	if (stat(o->output, &ost) == 0 && !S_ISREG(ost.st_mode))
		return sm_error(
		    eb, SM_ERR_USAGE,
		    "%s: not a regular file: extract writes evidence to a file of its own",
		    o->output);
	struct selection s;
	memset(&s, 0, sizeof(s));
	s.hash = calloc(MATCH_HASH, sizeof(uint32_t));
	if (s.hash == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	enum sm_err e = select_sessions(st, o, &s, res, eb);
	const char **inputs = NULL;
	size_t ninputs = 0;
	if (e == SM_OK && res->sessions > 0) {
		s.run_id = res->run_id;
		e = bound_windows(st, &s, eb);
	}
	if (e == SM_OK && res->sessions > 0)
		e = select_inputs(st, o, &s, &inputs, &ninputs, eb);
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", o->output, (long)getpid());
	if (e == SM_OK && res->sessions > 0)
		e = copy_packets(o, &s, inputs, ninputs, tmp, res, eb);
	if (e == SM_OK && res->sessions > 0 && res->packets == 0) {
		snprintf(res->why_empty, sizeof(res->why_empty),
		         "none of the %llu session(s)' packets are in the capture files read "
		         "(were they replaced?)",
		         (unsigned long long)res->sessions);
		res->sessions = 0;
	}
	if (e == SM_OK && res->packets > 0 && rename(tmp, o->output) != 0)
		e = sm_error(eb, SM_ERR_IO, "%s: cannot write: %s", o->output, strerror(errno));
	if (e != SM_OK || res->packets == 0)
		unlink(tmp);
	if (e == SM_OK && res->packets > 0)
		e = sm_sha256_file(o->output, res->sha256, eb);
	if (e == SM_OK && res->packets > 0) {
		char *abs = realpath(o->output, NULL); /* the record outlives the cwd */
		struct sm_evidence_row ev = {
		    res->run_id, o->finding_id, o->session_id, abs ? abs : o->output,
		    "",          res->packets,  res->bytes};
		sm_strlcpy(ev.sha256, res->sha256, sizeof(ev.sha256));
		e = sm_store_evidence(st, &ev, &res->evidence_id, eb);
		free(abs);
	}
	selection_free(&s);
	return e;
}
