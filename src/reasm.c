#include "smaudit/reasm.h"

#include <nids.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Per stream: which sides are decided.  Linked into the reassembler so what
 * libnids frees without telling (nids_exit) is freed too. */
struct stream_state {
	bool done[2]; /* 0 = client, 1 = server */
	/* a client whose first bytes named no protocol may switch to TLS later
	 * (STARTTLS): its next SM_APP_SWITCH_WATCH deliveries are looked at for a hello */
	uint8_t watch;
	bool hello_kept; /* the start of a hello is kept in libnids for its rest */
	bool client_tls; /* the client's first bytes were a TLS hello */
	struct stream_state *prev, *next;
};

struct sm_reasm {
	pcap_t *dead;
	sm_reasm_fn fn;
	void *ctx;
	struct sm_reasm_stats st;
	struct stream_state *states;
	struct sm_session *session; /* the session of the call libnids runs in, or NULL */
	struct tuple4 fed;          /* the stream of that call's packet (or of sm_reasm_end) */
};

/* Whether ts is the stream of the packet being fed.  libnids also calls back about
 * others meanwhile: the oldest stream, pushed out of a full table by this packet's
 * SYN, and streams whose closing timed out; what they say is not this session's. */
static bool
is_fed(const struct sm_reasm *r, const struct tcp_stream *ts)
{
	const struct tuple4 *a = &ts->addr, *f = &r->fed;
	return (a->saddr == f->saddr && a->source == f->source && a->daddr == f->daddr &&
	        a->dest == f->dest) ||
	       (a->saddr == f->daddr && a->source == f->dest && a->daddr == f->saddr &&
	        a->dest == f->source);
}

static void
state_free(struct sm_reasm *r, struct stream_state *ss)
{
	if (ss->prev != NULL)
		ss->prev->next = ss->next;
	else
		r->states = ss->next;
	if (ss->next != NULL)
		ss->next->prev = ss->prev;
	free(ss);
}

/* libnids keeps its state in globals and calls back without a context. */
static struct sm_reasm *current;

/*
 * libnids finds a stream by mkhash() for every packet it is given (twice for a
 * server's): twelve byte-wise steps, each taking a remainder, a division per
 * byte.  Defined here, the program's mkhash() is the one libnids' own calls
 * reach (they go through its procedure linkage table; unit_payload checks that
 * the process resolves it here), and costs a few multiplications.  Keyed with
 * random bits, as libnids' own is, so that traffic cannot be made to collide
 * on purpose.
 */
static uint64_t hash_key[2];

static uint64_t
mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

unsigned int mkhash(unsigned int src, unsigned short sport, unsigned int dest,
                    unsigned short dport);
/* used: nothing here calls it, and link-time optimisation must keep it */
__attribute__((used)) unsigned int
mkhash(unsigned int src, unsigned short sport, unsigned int dest, unsigned short dport)
{
	uint64_t h = mix64(((uint64_t)src << 32 | dest) ^ hash_key[0]);
	h = mix64((h + ((uint64_t)sport << 16 | dport)) ^ hash_key[1]);
	return (unsigned int)(h >> 33); /* libnids takes it as an int: never negative */
}

static void
hash_keys(void)
{
	if (getrandom(hash_key, sizeof(hash_key), GRND_NONBLOCK) == (ssize_t)sizeof(hash_key))
		return;
	struct timespec ts; /* no entropy yet (early boot): what differs between runs */
	clock_gettime(CLOCK_REALTIME, &ts);
	hash_key[0] = mix64((uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32);
	hash_key[1] = mix64(hash_key[0] ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&ts);
}

static void
nids_log(int type, int err, void *iph, void *data)
{
	(void)iph;
	(void)data;
	if (current != NULL && type == NIDS_WARN_TCP && err == NIDS_WARN_TCP_TOOMUCH)
		current->st.table_full++;
}

/* libnids cannot go on after an allocation failed (it would exit(1), which reads
 * as "findings"): the one place smaudit ends outside main, with the runtime-error
 * status.  The run stays marked running, so a later report shows it interrupted. */
static void
nids_oom(char *where)
{
	static const char msg[] = "smaudit: out of memory in stream reassembly (libnids)\n";
	(void)where;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do */
	}
	_exit(SM_EXIT_RUNTIME);
}

static void
result_init(struct sm_reasm_result *r, const struct tcp_stream *ts)
{
	memset(r, 0, sizeof(*r));
	uint32_t sa = ts->addr.saddr, da = ts->addr.daddr; /* network order */
	sm_addr_v4(&r->client, (const uint8_t *)&sa);
	sm_addr_v4(&r->server, (const uint8_t *)&da);
	r->client_port = ts->addr.source;
	r->server_port = ts->addr.dest;
}

static void
report_as(struct tcp_stream *ts, bool from_client, enum sm_app app, const char *detail,
          bool upgrade)
{
	struct sm_reasm_result r;
	result_init(&r, ts);
	r.upgrade = upgrade;
	r.from_client = from_client;
	r.app = app;
	r.detail = detail;
	if (current->session != NULL)
		current->fn(current->ctx, current->session, &r);
}

static void
report(struct tcp_stream *ts, bool from_client, enum sm_app app, const char *detail)
{
	report_as(ts, from_client, app, detail, false);
}

/* Lets go of a stream both sides of which are decided.  A client still watched
 * for a switch to TLS is watched on by the payload checks, segment by segment,
 * for the deliveries left (handed over in the result); but a hello begun and
 * kept for its rest keeps the stream here until it is whole. */
static void
maybe_finish(struct tcp_stream *ts, struct stream_state *ss)
{
	if (!ss->done[0] || !ss->done[1])
		return;
	if (ss->watch > 0) {
		if (ss->hello_kept)
			return; /* the start of a hello waits here for its rest */
		ts->server.collect--;
	}
	struct sm_reasm_result r;
	result_init(&r, ts);
	r.let_go = true;
	r.watch = ss->watch;
	if (current->session != NULL)
		current->fn(current->ctx, current->session, &r);
	/* No side collects any more: libnids frees the stream itself after this
	 * callback, without calling back again. */
	state_free(current, ss);
	ts->user = NULL;
	current->st.finished++;
}

/* Looks for a TLS ClientHello starting anywhere in what the client sent after
 * its first bytes named no protocol or an HTTP CONNECT: the switch to TLS
 * (STARTTLS, AUTH TLS, STLS, a proxy tunnel).  A hello not yet whole is kept
 * for the next delivery. */
static void
look_for_hello(struct tcp_stream *ts, struct stream_state *ss, struct half_stream *h)
{
	const uint8_t *p = (const uint8_t *)h->data;
	size_t n = (size_t)(h->count - h->offset), at;
	char detail[SM_APP_DETAIL_MAX];
	ss->hello_kept = false;
	if (sm_app_find_hello(p, n, &at, detail, sizeof(detail))) {
		report_as(ts, true, APP_TLS, detail, true);
		ss->watch = 1; /* found: the last look */
	} else if (at < n && n - at < SM_APP_TLS_WANT) {
		nids_discard(ts, (int)at); /* keep the hello for the next delivery */
		ss->hello_kept = true;
		return;
	}
	if (--ss->watch == 0)
		h->collect--;
	maybe_finish(ts, ss);
}

/* The stream ends: a side still waiting for more bytes is decided with what it
 * sent (a hello cut short is still TLS). */
static void
decide_rest(struct tcp_stream *ts, struct stream_state *ss)
{
	for (int side = 0; side < 2; side++) {
		struct half_stream *h = side == 0 ? &ts->server : &ts->client;
		if (ss->done[side] || h->data == NULL || h->count <= h->offset)
			continue;
		char detail[SM_APP_DETAIL_MAX];
		const uint8_t *p = (const uint8_t *)h->data;
		size_t n = (size_t)(h->count - h->offset);
		enum sm_app a = sm_app_decide(p, n, side == 0, detail, sizeof(detail));
		if (side == 1 && ss->client_tls)
			a = sm_app_answer_to_tls(a, p, n, detail, sizeof(detail));
		ss->done[side] = true;
		report(ts, side == 0, a, detail);
	}
}

static void
on_stream(struct tcp_stream *ts, void **param)
{
	(void)param;
	struct stream_state *ss = ts->user;
	switch (ts->nids_state) {
	case NIDS_JUST_EST:
		ss = calloc(1, sizeof(*ss));
		if (ss == NULL)
			return; /* not followed: the session stays unverified */
		ts->user = ss;
		ss->next = current->states;
		if (ss->next != NULL)
			ss->next->prev = ss;
		current->states = ss;
		ts->client.collect++;
		ts->server.collect++;
		current->st.streams++;
		return;
	case NIDS_DATA: {
		if (ss == NULL)
			return;
		/* libnids names the half by who receives: server.data came from the client */
		bool from_client = ts->server.count_new > 0;
		struct half_stream *h = from_client ? &ts->server : &ts->client;
		int side = from_client ? 0 : 1;
		if (ss->done[side]) {
			if (side == 0 && ss->watch > 0)
				look_for_hello(ts, ss, h);
			return;
		}
		size_t n = (size_t)(h->count - h->offset);
		char detail[SM_APP_DETAIL_MAX];
		const uint8_t *p = (const uint8_t *)h->data;
		enum sm_app a = sm_app_detect(p, n, from_client, detail, sizeof(detail));
		if (!from_client && ss->client_tls)
			a = sm_app_answer_to_tls(a, p, n, detail, sizeof(detail));
		if (a == APP_MORE) {
			nids_discard(ts, 0); /* keep the bytes: the next segment completes them */
			return;
		}
		ss->done[side] = true;
		ss->client_tls |= side == 0 && a == APP_TLS;
		report(ts, from_client, a, detail);
		if (side == 0 && sm_app_may_switch(a, detail)) {
			ss->watch = SM_APP_SWITCH_WATCH; /* keeps collecting the client's bytes */
			look_for_hello(ts, ss, h);
			return;
		}
		h->collect--;
		maybe_finish(ts, ss);
		return;
	}
	default: /* closed, reset, timed out, evicted */
		if (ss == NULL)
			return;
		/* Another stream's: its session is not at hand, so its sides stay
		 * undecided and that session ends unverified, its bytes unread. */
		if (is_fed(current, ts))
			decide_rest(ts, ss);
		else
			current->st.lost++;
		state_free(current, ss);
		ts->user = NULL;
		return;
	}
}

/* libnids declares its callbacks as void *: pass ours through without a cast
 * that ISO C forbids. */
static void *
callback_ptr(void)
{
	void (*f)(struct tcp_stream *, void **) = on_stream;
	void *p;
	memcpy(&p, &f, sizeof(p));
	return p;
}

enum sm_err
sm_reasm_new(struct sm_reasm **out, uint32_t max_streams, sm_reasm_fn fn, void *ctx,
             struct sm_errbuf *eb)
{
	*out = NULL;
	if (current != NULL)
		return sm_error(eb, SM_ERR_USAGE, "one stream reassembler per process (libnids)");
	struct sm_reasm *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	r->fn = fn;
	r->ctx = ctx;
	r->dead = pcap_open_dead(DLT_RAW, 262144);
	if (r->dead == NULL) {
		free(r);
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	}
	nids_params.pcap_desc = r->dead;
	nids_params.filename = NULL;
	nids_params.device = NULL;
	nids_params.syslog = nids_log;
	nids_params.no_mem = nids_oom;
	nids_params.scan_num_hosts = 0; /* no port scan detection */
	/* Streams live only until both sides are recognised (a few packets), so a
	 * small table suffices and stays in the CPU cache. */
	if (max_streams == 0)
		max_streams = 16384;
	/* libnids holds 3/4 of its table, at least one stream (a table of 0 divides
	 * by zero) */
	nids_params.n_tcp_streams = (int)(max_streams < 3 ? 3 : max_streams) / 3 * 4;
	nids_params.n_hosts = 1024;
	nids_params.multiproc = 0;
	nids_params.tcp_workarounds = 1;
	nids_params.tcp_flow_timeout = 3600;
	hash_keys();
	if (!nids_init()) {
		enum sm_err e = sm_error(eb, SM_ERR_IO, "libnids: %s", nids_errbuf);
		pcap_close(r->dead);
		free(r);
		return e;
	}
	/* captures see offloaded checksums: never verify them */
	static struct nids_chksum_ctl none = {0, 0, NIDS_DONT_CHKSUM, 0};
	nids_register_chksum_ctl(&none, 1);
	nids_register_tcp(callback_ptr());
	current = r;
	*out = r;
	return SM_OK;
}

void
sm_reasm_packet(struct sm_reasm *r, const struct sm_packet *pkt, struct sm_session *s)
{
	if (pkt->l3 == NULL || pkt->l3_caplen < 20 || pkt->src.family != 4)
		return;
	struct pcap_pkthdr h;
	h.ts.tv_sec = (time_t)(pkt->ts_ns / 1000000000);
	h.ts.tv_usec = (suseconds_t)(pkt->ts_ns % 1000000000 / 1000);
	h.caplen = pkt->l3_caplen;
	h.len = pkt->l3_caplen;
	r->st.packets++;
	r->session = s;
	memcpy(&r->fed.saddr, pkt->src.a, 4);
	memcpy(&r->fed.daddr, pkt->dst.a, 4);
	r->fed.source = pkt->sport;
	r->fed.dest = pkt->dport;
	nids_pcap_handler(NULL, &h, (u_char *)(uintptr_t)pkt->l3);
	r->session = NULL;
}

void
sm_reasm_end(struct sm_reasm *r, const struct sm_addr *client, uint16_t client_port,
             const struct sm_addr *server, uint16_t server_port, struct sm_session *s)
{
	if (client->family != 4 || server->family != 4)
		return;
	struct tuple4 t;
	memcpy(&t.saddr, client->a, 4);
	memcpy(&t.daddr, server->a, 4);
	t.source = client_port;
	t.dest = server_port;
	struct tcp_stream *ts = nids_find_tcp_stream(&t);
	if (ts != NULL && ts->user != NULL && r == current) {
		r->session = s;
		r->fed = t;
		decide_rest(ts, ts->user);
		r->session = NULL;
	}
}

void
sm_reasm_stats(const struct sm_reasm *r, struct sm_reasm_stats *out)
{
	*out = r->st;
}

void
sm_reasm_free(struct sm_reasm *r)
{
	if (r == NULL)
		return;
	nids_unregister_tcp(callback_ptr());
	nids_exit(); /* frees its streams without calling back */
	while (r->states != NULL)
		state_free(r, r->states);
	pcap_close(r->dead);
	if (current == r)
		current = NULL;
	free(r);
}
