/*
 * payload: what a TCP session speaks.  IPv4 streams whose handshake was seen
 * go to libnids (reasm); what libnids does not follow (IPv6, a stream
 * captured in one direction, one picked up mid-way) is checked here from its
 * first in-order segments; a client whose first bytes named no protocol is
 * watched for a switch to TLS.  Results go into the session through
 * sm_session_set_app(); sm_payload_done() decides what is left when a session
 * leaves the table.
 */
#include "smaudit/payload.h"

#include <stdlib.h>
#include <string.h>

#include "smaudit/app.h"

/* The first bytes of one side of a session checked without libnids (IPv6, or
 * an IPv4 stream captured in one direction), kept across segments until
 * sm_app_detect decides.  While a side is kept its app is APP_MORE.  At most
 * FIRST_BYTES_MAX sides at once, each up to SM_APP_TLS_WANT bytes; a side that
 * finds no free slot is decided on its first segment.  Segments that come
 * before the bytes ahead of them (reordered, or those bytes lost) are held at
 * their place, up to FIRST_BYTES_HELD runs of them: what is read is only ever
 * the side's bytes in order from its first. */
#define FIRST_BYTES_MAX  256
#define FIRST_BYTES_HELD 4
struct first_bytes {
	const struct sm_session *s; /* NULL: free; freed before s leaves the table */
	int dir;
	bool midway;   /* the session was picked up mid-way: not recognised is unverified */
	uint32_t base; /* sequence number of buf[0] */
	size_t len;    /* bytes in order from buf[0] */
	/* runs [lo, hi) of buf held past a gap, offsets from buf[0], in no order */
	uint32_t held_lo[FIRST_BYTES_HELD], held_hi[FIRST_BYTES_HELD];
	uint8_t nheld;
	uint8_t *buf; /* owned, SM_APP_TLS_WANT bytes */
};

struct sm_payload {
	struct sm_reasm *reasm;                      /* borrowed; NULL: no payload checks */
	struct first_bytes pending[FIRST_BYTES_MAX]; /* sides checked without libnids */
};

/* The end of the watch for a switch to TLS: found (hello: its detail) or not. */
static void
watch_ends(struct sm_session *s, const char *hello)
{
	if (hello != NULL)
		sm_session_set_switch(s, hello);
	s->tls_watch = 0;
	s->app_may_switch = false;
}

void
sm_payload_reasm_result(void *ctx, struct sm_session *s, const struct sm_reasm_result *r)
{
	(void)ctx;
	bool client_is_src = sm_addr_eq(&s->src, &r->client) && s->sport == r->client_port;
	if (r->let_go) {
		if (r->watch > 0)
			s->tls_watch = (uint8_t)r->watch; /* ours from here */
		else
			watch_ends(s, NULL);
		return;
	}
	if (r->upgrade) {
		sm_session_set_switch(s, r->detail);
		return;
	}
	sm_session_set_app(s, (r->from_client == client_is_src) ? 0 : 1, r->app, r->detail);
}

static struct first_bytes *
first_bytes_find(struct sm_payload *pc, const struct sm_session *s, int dir)
{
	for (size_t i = 0; i < FIRST_BYTES_MAX; i++)
		if (pc->pending[i].s == s && pc->pending[i].dir == dir)
			return &pc->pending[i];
	return NULL;
}

static void
first_bytes_release(struct first_bytes *fb)
{
	free(fb->buf);
	memset(fb, 0, sizeof(*fb));
}

/* What a side that showed no protocol is: unknown, or unverified when its first
 * bytes need not be the start of the stream (no detail then). */
static enum sm_app
not_recognised(bool midway, char *detail)
{
	if (midway)
		detail[0] = '\0';
	return midway ? APP_UNVERIFIED : APP_UNKNOWN;
}

/* Decides a kept side with the bytes it has in order (the session ends, or what
 * came next cannot be held); none: its first bytes were never captured. */
static enum sm_app
first_bytes_decide(struct first_bytes *fb, char *detail, size_t dlen)
{
	detail[0] = '\0';
	enum sm_app a = fb->len == 0 ? APP_UNVERIFIED
	                             : sm_app_decide(fb->buf, fb->len, fb->dir == 0, detail, dlen);
	bool midway = fb->midway;
	first_bytes_release(fb);
	return a == APP_UNKNOWN ? not_recognised(midway, detail) : a;
}

/* The sequence number of a segment's first byte of payload (a SYN takes one). */
static uint32_t
payload_seq(const struct sm_packet *pkt)
{
	return pkt->seq + ((pkt->tcp_flags & TH_SYN) ? 1u : 0u);
}

/* Places n bytes at sequence number seq; false when they cannot be kept (past
 * the buffer, or past a gap with no run free): the side is decided with what
 * it has in order. */
static bool
first_bytes_put(struct first_bytes *fb, uint32_t seq, const uint8_t *p, size_t n)
{
	int64_t off = (int32_t)(seq - fb->base);
	if (off < 0) { /* bytes before the first: retransmitted, or before the base */
		if ((uint64_t)-off >= n)
			return true;
		p += -off;
		n -= (size_t)-off;
		off = 0;
	}
	if (off >= SM_APP_TLS_WANT)
		return fb->len == SM_APP_TLS_WANT;
	if (n > SM_APP_TLS_WANT - (size_t)off)
		n = SM_APP_TLS_WANT - (size_t)off;
	uint32_t lo = (uint32_t)off, hi = (uint32_t)(off + (int64_t)n);
	if (lo > fb->len) { /* past a gap: held until the gap fills */
		uint8_t k = 0;
		while (k < fb->nheld && (hi < fb->held_lo[k] || lo > fb->held_hi[k]))
			k++;
		if (k == fb->nheld) {
			if (fb->nheld == FIRST_BYTES_HELD)
				return false;
			fb->held_lo[k] = lo;
			fb->held_hi[k] = hi;
			fb->nheld++;
		}
		memcpy(fb->buf + lo, p, n);
		fb->held_lo[k] = lo < fb->held_lo[k] ? lo : fb->held_lo[k];
		fb->held_hi[k] = hi > fb->held_hi[k] ? hi : fb->held_hi[k];
		return true;
	}
	if (hi > fb->len) {
		memcpy(fb->buf + fb->len, p + (fb->len - lo), hi - fb->len);
		fb->len = hi;
	}
	/* held runs the bytes in order now reach */
	for (bool grew = true; grew;) {
		grew = false;
		for (uint8_t k = 0; k < fb->nheld; k++)
			if (fb->held_lo[k] <= fb->len) {
				if (fb->held_hi[k] > fb->len)
					fb->len = fb->held_hi[k];
				fb->held_lo[k] = fb->held_lo[fb->nheld - 1];
				fb->held_hi[k] = fb->held_hi[fb->nheld - 1];
				fb->nheld--;
				grew = true;
				break;
			}
	}
	return true;
}

/* Starts keeping a side's bytes, buf[0] at sequence number base (the side's
 * first byte, or the start of a hello), with this segment's; false when no slot
 * or memory is free (the caller decides on this segment alone). */
static bool
first_bytes_keep(struct sm_payload *pc, const struct sm_session *s, int dir,
                 const struct sm_packet *pkt, uint32_t base)
{
	if (pkt->payload_caplen < pkt->payload_len)
		return false; /* cut by the snap length: nothing follows in order */
	struct first_bytes *fb = first_bytes_find(pc, NULL, 0);
	if (fb == NULL || (fb->buf = malloc(SM_APP_TLS_WANT)) == NULL)
		return false;
	fb->s = s;
	fb->dir = dir;
	fb->midway = !s->syn_seen;
	fb->base = base;
	if (!first_bytes_put(fb, payload_seq(pkt), pkt->payload, pkt->payload_caplen)) {
		first_bytes_release(fb);
		return false;
	}
	return true;
}

/* Adds a following segment; false when it cannot be kept (a segment cut by the
 * snap length, or past what can be held): then the side is decided with what
 * it has in order. */
static bool
first_bytes_append(struct first_bytes *fb, const struct sm_packet *pkt)
{
	if (pkt->payload_caplen < pkt->payload_len)
		return false;
	return first_bytes_put(fb, payload_seq(pkt), pkt->payload, pkt->payload_caplen);
}

/* Our own watch for a switch to TLS, one initiator segment at a time, where
 * libnids does not follow the stream or has let go of it: a hello in one of
 * the next segments.  A hello cut at a segment's end is kept (a slot of its
 * own while the side's first bytes are decided) and completed by the segments
 * that follow in order; with no slot, or a gap, it is read as far as it goes. */
static void
watch_switch(struct sm_payload *pc, struct sm_session *s, const struct sm_packet *pkt)
{
	char detail[SM_APP_DETAIL_MAX];
	struct first_bytes *fb = s->hello_kept ? first_bytes_find(pc, s, 0) : NULL;
	enum sm_app a;
	if (fb != NULL) {
		s->hello_kept = false;
		if (first_bytes_append(fb, pkt)) {
			a = sm_app_detect(fb->buf, fb->len, true, detail, sizeof(detail));
			if (a == APP_MORE && fb->len < SM_APP_TLS_WANT) {
				s->hello_kept = true;
				return;
			}
		} else {
			a = sm_app_decide(fb->buf, fb->len, true, detail, sizeof(detail));
		}
		first_bytes_release(fb);
	} else {
		size_t at, n = pkt->payload_caplen;
		if (sm_app_find_hello(pkt->payload, n, &at, detail, sizeof(detail))) {
			watch_ends(s, detail);
			return;
		}
		if (at < n && first_bytes_keep(pc, s, 0, pkt, payload_seq(pkt) + (uint32_t)at)) {
			s->hello_kept = true; /* the rest of the hello is in the next segments */
			return;
		}
		a = at < n ? sm_app_decide(pkt->payload + at, n - at, true, detail, sizeof(detail))
		           : APP_UNKNOWN;
	}
	if (a == APP_TLS)
		watch_ends(s, detail);
	else if (--s->tls_watch == 0)
		watch_ends(s, NULL);
}

/* What a side's first bytes p (read from the stream's start) are, a as
 * recognised: a server answering a TLS hello in no TLS record is unknown
 * (detail: SM_APP_DETAIL_MAX bytes). */
static enum sm_app
answer(const struct sm_session *s, int dir, const uint8_t *p, size_t len, char *detail,
       enum sm_app a)
{
	if (dir == 1 && s->app[0] == APP_TLS && s->syn_seen)
		return sm_app_answer_to_tls(a, p, len, detail, SM_APP_DETAIL_MAX);
	return a;
}

/* Our own check of one side from its first segments, for what libnids does not
 * follow. */
static void
check_first_bytes(struct sm_payload *pc, struct sm_session *s, int dir, const struct sm_packet *pkt)
{
	char detail[SM_APP_DETAIL_MAX];
	struct first_bytes *fb = s->app[dir] == APP_MORE ? first_bytes_find(pc, s, dir) : NULL;
	if (fb != NULL) {
		if (!first_bytes_append(fb, pkt)) {
			sm_session_set_app(s, dir, first_bytes_decide(fb, detail, sizeof(detail)),
			                   detail);
			return;
		}
		enum sm_app a =
		    answer(s, dir, fb->buf, fb->len, detail,
		           sm_app_detect(fb->buf, fb->len, dir == 0, detail, sizeof(detail)));
		if (a != APP_MORE || fb->len >= SM_APP_TLS_WANT) {
			bool midway = fb->midway;
			first_bytes_release(fb);
			if (a == APP_MORE) /* 16 KB kept and still not whole */
				a = APP_UNVERIFIED;
			else if (a == APP_UNKNOWN)
				a = not_recognised(midway, detail);
			sm_session_set_app(s, dir, a, detail);
		}
		return;
	}
	if (s->app[dir] != APP_NONE)
		return;
	if (s->start_known[dir] && payload_seq(pkt) != s->start_seq[dir]) {
		/* not the side's first bytes (those came late, or never): this segment
		 * is held at its place until they come */
		sm_session_set_app(s, dir,
		                   first_bytes_keep(pc, s, dir, pkt, s->start_seq[dir])
		                       ? APP_MORE
		                       : APP_UNVERIFIED,
		                   NULL);
		return;
	}
	enum sm_app a = answer(
	    s, dir, pkt->payload, pkt->payload_caplen, detail,
	    sm_app_detect(pkt->payload, pkt->payload_caplen, dir == 0, detail, sizeof(detail)));
	if (a == APP_MORE && first_bytes_keep(pc, s, dir, pkt, payload_seq(pkt)))
		sm_session_set_app(s, dir, APP_MORE, NULL);
	else if (a == APP_MORE) /* no room to keep them, or cut by the snap length */
		sm_session_set_app(s, dir, APP_UNVERIFIED, NULL);
	else if (a == APP_UNKNOWN)
		sm_session_set_app(s, dir, not_recognised(!s->syn_seen, detail), detail);
	else
		sm_session_set_app(s, dir, a, detail);
	if (dir == 0 &&
	    (s->app[0] == APP_UNVERIFIED ||
	     sm_app_may_switch((enum sm_app)s->app[0], s->app_detail ? s->app_detail : ""))) {
		s->tls_watch = SM_APP_SWITCH_WATCH;
		watch_switch(pc, s, pkt); /* a hello after a PROXY line in the same segment */
	}
}

/* A session leaving the table: its kept sides are decided with what arrived. */
static void
first_bytes_flush(struct sm_payload *pc, struct sm_session *s)
{
	struct first_bytes *hello = s->hello_kept ? first_bytes_find(pc, s, 0) : NULL;
	if (hello != NULL) { /* a hello cut short is still TLS */
		s->hello_kept = false;
		char detail[SM_APP_DETAIL_MAX];
		if (sm_app_decide(hello->buf, hello->len, true, detail, sizeof(detail)) == APP_TLS)
			watch_ends(s, detail);
		first_bytes_release(hello);
	}
	if (s->app[0] != APP_MORE && s->app[1] != APP_MORE)
		return;
	for (int dir = 0; dir < 2; dir++) {
		struct first_bytes *fb = first_bytes_find(pc, s, dir);
		char detail[SM_APP_DETAIL_MAX];
		if (fb != NULL)
			sm_session_set_app(s, dir, first_bytes_decide(fb, detail, sizeof(detail)),
			                   detail);
		else if (s->app[dir] == APP_MORE)
			sm_session_set_app(s, dir, APP_UNVERIFIED, NULL);
	}
}

/* What the payload is: libnids for IPv4 streams it follows, our own check of
 * the first segments for IPv6 and for streams captured in one direction only. */
void
sm_payload_packet(struct sm_payload *pc, struct sm_session *s, int dir, const struct sm_packet *pkt)
{
	sm_session_mark_checked(s);
	if (dir == 0 && s->tls_watch > 0 && pkt->payload_caplen > 0) {
		watch_switch(pc, s, pkt);
		return;
	}
	/* Both sides known: nothing left to look at, but for a client whose first
	 * bytes named no protocol, watched for a switch to TLS (STARTTLS) over its
	 * next segments: by us (tls_watch), or by libnids until it lets go (a hello
	 * it keeps for its rest). */
	if (sm_app_answered((enum sm_app)s->app[0]) && sm_app_answered((enum sm_app)s->app[1]) &&
	    !(pkt->l3 != NULL && s->pkts[0] + s->pkts[1] <= 96 && s->app_may_switch &&
	      s->tls_watch == 0))
		return;
	if (!s->syn_seen) {
		/* Picked up mid-way: its first bytes are a protocol's only when they
		 * open one (a TLS hello, an SSH banner, an HTTP request or status line,
		 * an iSCSI login); anything else leaves it unverified. */
		if (pkt->payload_caplen > 0)
			check_first_bytes(pc, s, dir, pkt);
		return;
	}
	/* libnids follows a stream once it saw the handshake: one that shows one
	 * direction only (a one-sided capture) never gets there. */
	bool one_sided = s->pkts[dir ^ 1] == 0;
	if (pkt->l3 != NULL && !(one_sided && pkt->payload_caplen > 0) && s->app[dir] != APP_MORE) {
		sm_reasm_packet(pc->reasm, pkt, s);
		return;
	}
	if (pkt->payload_caplen > 0)
		check_first_bytes(pc, s, dir, pkt);
}

bool
sm_payload_settled(const struct sm_session *s)
{
	return sm_app_answered((enum sm_app)s->app[0]) && sm_app_answered((enum sm_app)s->app[1]) &&
	       s->tls_watch == 0 && !s->app_may_switch && s->app_checked;
}

/* A session leaving the table whose stream libnids still holds undecided: its
 * sides are decided with what arrived. */
static void
reasm_flush(struct sm_payload *pc, struct sm_session *s)
{
	bool waiting = false;
	for (int dir = 0; dir < 2; dir++)
		waiting |= !sm_app_answered((enum sm_app)s->app[dir]) && s->payload[dir] > 0;
	if (pc->reasm == NULL || s->proto != SM_PROTO_TCP || s->src.family != 4 || !waiting ||
	    !s->syn_seen)
		return;
	sm_reasm_end(pc->reasm, &s->src, s->sport, &s->dst, s->dport, s);
}

struct sm_payload *
sm_payload_new(struct sm_reasm *reasm)
{
	struct sm_payload *pc = calloc(1, sizeof(*pc));
	if (pc != NULL)
		pc->reasm = reasm;
	return pc;
}

void
sm_payload_done(struct sm_payload *pc, struct sm_session *s)
{
	first_bytes_flush(pc, s);
	reasm_flush(pc, s);
}

void
sm_payload_free(struct sm_payload *pc)
{
	if (pc == NULL)
		return;
	for (size_t i = 0; i < FIRST_BYTES_MAX; i++)
		free(pc->pending[i].buf);
	free(pc);
}
