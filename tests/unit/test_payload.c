/* payload: what a TCP session speaks, through libnids (reasm) and our own look
 * at a client's next segments, fed real frames: decoder, session table,
 * reassembler and payload checks as the pipeline joins them. */
#define _GNU_SOURCE /* dladdr, RTLD_DEFAULT */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pkt.h"
#include "smaudit/capture.h"
#include "smaudit/decode.h"
#include "smaudit/payload.h"
#include "smaudit/reasm.h"
#include "smaudit/session.h"

#define C     "198.18.1.11"
#define S     "198.18.2.11"
#define CPORT 40000
#define SPORT 25

struct rig {
	struct sm_decoder *dec;
	struct sm_session_table *tab;
	struct sm_reasm *reasm;
	struct sm_payload *pl;
	unsigned cport;  /* the client's port */
	uint32_t seq[2]; /* next sequence number of client (0) and server (1) */
	int64_t ts;
	struct sm_session *s; /* the session of the last frame */
};

static struct rig the_rig;

/* setup: cmocka runs the teardown even when a test fails, so that the next
 * test may make libnids' one reassembler again.  streams: how many sessions and
 * libnids streams the rig holds at once. */
static int
rig_open_for(void **state, uint32_t streams)
{
	struct rig *r = &the_rig;
	*state = r;
	memset(r, 0, sizeof(*r));
	struct sm_decoder_opts dopt = {.max_frags = 64, .frag_timeout_ns = 1000000000LL};
	struct sm_session_opts sopt = {.max_sessions = streams};
	struct sm_errbuf eb;
	r->dec = sm_decoder_new(&dopt);
	r->tab = sm_session_table_new(&sopt, NULL, NULL);
	assert_int_equal(sm_reasm_new(&r->reasm, streams, sm_payload_reasm_result, NULL, &eb),
	                 SM_OK);
	r->pl = sm_payload_new(r->reasm);
	assert_non_null(r->dec);
	assert_non_null(r->tab);
	assert_non_null(r->pl);
	r->cport = CPORT;
	r->seq[0] = 1000;
	r->seq[1] = 9000;
	r->ts = 1800000000LL * 1000000000LL;
	return 0;
}

static int
rig_open(void **state)
{
	return rig_open_for(state, 64);
}

static int
rig_close(void **state)
{
	struct rig *r = *state;
	sm_session_table_free(r->tab);
	sm_payload_free(r->pl);
	sm_reasm_free(r->reasm);
	sm_decoder_free(r->dec);
	return 0;
}

/* One frame from the client (dir 0) or the server, through the pipeline's steps. */
static void
send_frame(struct rig *r, int dir, unsigned flags, const void *data, size_t len)
{
	struct buf w = {.n = 0};
	eth(&w, 0x0800);
	ipv4(&w, dir == 0 ? C : S, dir == 0 ? S : C, 6, (unsigned)(40 + len), 1, 0, 64);
	tcp(&w, dir == 0 ? r->cport : SPORT, dir == 0 ? SPORT : r->cport, r->seq[dir],
	    r->seq[dir ^ 1], flags);
	if (len > 0)
		putn(&w, data, len);
	r->seq[dir] += (uint32_t)len + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
	r->ts += 1000000;
	struct sm_raw_packet raw = {.ts_ns = r->ts,
	                            .caplen = (uint32_t)w.n,
	                            .len = (uint32_t)w.n,
	                            .linktype = 1,
	                            .data = w.b};
	struct sm_packet pkt;
	assert_int_equal(sm_decode(r->dec, &raw, &pkt), DEC_OK);
	struct sm_session_hit hit;
	assert_int_equal(sm_session_packet(r->tab, &pkt, &hit), SM_OK);
	assert_non_null(hit.s);
	r->s = hit.s;
	sm_payload_packet(r->pl, hit.s, hit.dir, &pkt);
}

static void
say(struct rig *r, int dir, const char *text)
{
	send_frame(r, dir, TH_ACK | TH_PSH, text, strlen(text));
}

/* The three-way handshake of the rig's current stream. */
static void
handshake(struct rig *r)
{
	send_frame(r, 0, TH_SYN, NULL, 0);
	send_frame(r, 1, TH_SYN | TH_ACK, NULL, 0);
	send_frame(r, 0, TH_ACK, NULL, 0);
}

/* A new stream from client port `port`, the i-th of a test (its own sequence
 * numbers), up to its handshake. */
static void
open_stream(struct rig *r, unsigned port, unsigned i)
{
	r->cport = port;
	r->seq[0] = 1000 + i * 7919u;
	r->seq[1] = 9000 + i * 104729u;
	handshake(r);
}

static uint64_t
fed(const struct rig *r)
{
	struct sm_reasm_stats st;
	sm_reasm_stats(r->reasm, &st);
	return st.packets;
}

/* An SMTP session up to the point where it switches to TLS: both sides named
 * no protocol, so the client is watched for a hello. */
static void
smtp_until_starttls(struct rig *r)
{
	handshake(r);
	say(r, 1, "220 mx.example ESMTP\r\n");
	say(r, 0, "EHLO client.example\r\n");
	say(r, 1, "250 STARTTLS\r\n");
	say(r, 0, "STARTTLS\r\n");
	say(r, 1, "220 go ahead\r\n");
}

/* A ClientHello offering TLS 1.2 with SNI "mediator.example". */
static size_t
client_hello(uint8_t *b)
{
	static const char name[] = "mediator.example";
	size_t nl = sizeof(name) - 1, elen = 9 + nl;
	size_t hl = 2 + 32 + 1 + 4 + 2 + 2 + elen, n = 9 + hl;
	memset(b, 0, n);
	b[0] = 0x16, b[1] = 3, b[2] = 1;
	b[3] = (uint8_t)((hl + 4) >> 8), b[4] = (uint8_t)(hl + 4);
	b[5] = 1, b[6] = 0, b[7] = (uint8_t)(hl >> 8), b[8] = (uint8_t)hl;
	b[9] = 3, b[10] = 3;
	uint8_t *q = b + 9 + 2 + 32 + 1;
	q[0] = 0, q[1] = 2, q[2] = 0x13, q[3] = 0x01, q[4] = 1, q[5] = 0;
	q[6] = (uint8_t)(elen >> 8), q[7] = (uint8_t)elen;
	uint8_t *e = q + 8;
	e[0] = 0, e[1] = 0, e[2] = 0, e[3] = (uint8_t)(nl + 5); /* server_name */
	e[4] = 0, e[5] = (uint8_t)(nl + 3), e[6] = 0, e[7] = 0, e[8] = (uint8_t)nl;
	memcpy(e + 9, name, nl);
	return n;
}

#define SWITCHED "then TLS ClientHello offers up to 1.2, SNI mediator.example"

/* SMTP up to STARTTLS, then the client's hello, in two segments cut at byte
 * `cut` (0: one segment): the session stays unknown and gains the hello. */
static void
starttls_hello_in_segments(struct rig *r, size_t cut)
{
	smtp_until_starttls(r);
	uint8_t hello[128];
	size_t n = client_hello(hello);
	if (cut > 0)
		send_frame(r, 0, TH_ACK, hello, cut);
	send_frame(r, 0, TH_ACK | TH_PSH, hello + cut, n - cut);
	assert_int_equal(sm_session_app_kind(r->s), APP_UNKNOWN);
	assert_non_null(r->s->app_detail);
	assert_string_equal(r->s->app_detail, SWITCHED);
}

static void
test_starttls_is_found(void **state)
{
	starttls_hello_in_segments(*state, 0);
}

/* A hello cut across two segments (a large one, or a small MSS) is read whole:
 * its SNI is in the second. */
static void
test_starttls_hello_across_segments_is_read_whole(void **state)
{
	starttls_hello_in_segments(*state, 30);
}

/* Once both sides are decided libnids lets go of the stream: the watch for a
 * switch goes on in the payload checks, and the rest of the session (bulk data,
 * acknowledgements, the close) is not fed to libnids. */
static void
test_decided_stream_is_not_fed_to_libnids(void **state)
{
	struct rig *r = *state;
	handshake(r);
	say(r, 0, "\x01\x02 opaque replication\r\n");
	say(r, 1, "\x03\x04 opaque answer\r\n");
	assert_int_equal(r->s->app[0], APP_UNKNOWN);
	assert_int_equal(r->s->app[1], APP_UNKNOWN);
	uint64_t before = fed(r);
	for (int i = 0; i < 40; i++) {
		say(r, 0, "\x05 more opaque bytes");
		send_frame(r, 1, TH_ACK, NULL, 0);
	}
	assert_int_equal(fed(r), before);
	/* a hello after the watch ended is not a switch */
	uint8_t hello[128];
	size_t n = client_hello(hello);
	send_frame(r, 0, TH_ACK | TH_PSH, hello, n);
	assert_true(r->s->app_detail == NULL || strstr(r->s->app_detail, "then TLS") == NULL);
	assert_true(sm_payload_settled(r->s));
}

static int
rig_open_many(void **state)
{
	return rig_open_for(state, 4096);
}

/* Thousands of streams open at once, each found again by libnids when its data
 * comes, long after its handshake: libnids hashes them with the program's own
 * mkhash() (reasm.c), which the process resolves in place of libnids' own. */
static void
test_many_open_streams_are_each_found_again(void **state)
{
	void *hash = dlsym(RTLD_DEFAULT, "mkhash");
	Dl_info where;
	assert_non_null(hash);
	assert_true(dladdr(hash, &where) != 0);
	assert_null(strstr(where.dli_fname, "libnids"));

	struct rig *r = *state;
	enum { N = 3000 };
	static uint32_t seq[N][2];
	for (unsigned i = 0; i < N; i++) { /* every handshake first */
		open_stream(r, 20000 + i, i);
		memcpy(seq[i], r->seq, sizeof(seq[i]));
	}
	for (unsigned i = 0; i < N; i++) { /* then what each speaks */
		r->cport = 20000 + i;
		memcpy(r->seq, seq[i], sizeof(seq[i]));
		say(r, 0, "GET /status HTTP/1.1\r\nHost: mediator\r\n\r\n");
		say(r, 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
		if (r->s->app[0] != APP_HTTP || r->s->app[1] != APP_HTTP)
			fail_msg("stream %u (client port %u): %d/%d, not HTTP", i, r->cport,
			         r->s->app[0], r->s->app[1]);
	}
}

/* libnids' table of 6 streams (8 slots) beside a session table of 64: the rig of
 * a span port with more streams open than libnids holds. */
static int
rig_open_small_reasm(void **state)
{
	rig_open_for(state, 64);
	struct rig *r = *state;
	struct sm_errbuf eb;
	sm_payload_free(r->pl);
	sm_reasm_free(r->reasm);
	assert_int_equal(sm_reasm_new(&r->reasm, 6, sm_payload_reasm_result, NULL, &eb), SM_OK);
	r->pl = sm_payload_new(r->reasm);
	assert_non_null(r->pl);
	return 0;
}

/* The first 20 bytes of an iSCSI Login request: a header not yet whole. */
static const uint8_t login_start[20] = {0x43, 0x87, 0, 0, 0, 0, 0, 64};

/* A stream pushed out of libnids' full table while its first PDU waits for its
 * rest: libnids says so while it reads another stream's SYN.  That session
 * learns nothing from it (it showed no payload: no protocol), and the pushed-out
 * one, its bytes never read, ends unverified: not "unknown", which a rule that
 * names a protocol reports as a mismatch. */
static void
test_stream_pushed_out_of_a_full_table_is_unverified(void **state)
{
	struct rig *r = *state;
	handshake(r);
	send_frame(r, 0, TH_ACK | TH_PSH, login_start, sizeof(login_start));
	struct sm_session *first = r->s;
	uint32_t first_seq[2];
	memcpy(first_seq, r->seq, sizeof(first_seq));
	assert_int_equal(first->app[0], APP_NONE); /* libnids keeps the 20 bytes */
	struct sm_session *idle[12];
	for (unsigned i = 0; i < 12; i++) { /* handshakes only: they fill the table */
		open_stream(r, CPORT + 1 + i, i);
		idle[i] = r->s;
	}
	for (unsigned i = 0; i < 12; i++) {
		if (idle[i]->app[0] != APP_NONE || idle[i]->app[1] != APP_NONE)
			fail_msg("session of client port %u, which sent no byte, was given %d/%d",
			         CPORT + 1 + i, idle[i]->app[0], idle[i]->app[1]);
		assert_int_equal(sm_session_app_kind(idle[i]), APP_NONE);
	}
	struct sm_reasm_stats st;
	sm_reasm_stats(r->reasm, &st);
	assert_true(st.table_full > 0);
	assert_true(st.lost > 0);
	r->cport = CPORT; /* the first stream goes on: libnids no longer follows it */
	memcpy(r->seq, first_seq, sizeof(first_seq));
	say(r, 0, "InitiatorName=iqn.1992-08.com.netapp:sn.a");
	assert_ptr_equal(r->s, first);
	sm_payload_done(r->pl, first);
	assert_int_equal(sm_session_app_kind(first), APP_UNVERIFIED);
}

/* Streams captured in one direction (a span port that sees one way) are checked
 * from their first segments by smaudit itself, which keeps the first bytes of at
 * most 256 sides at once until their PDU is whole.  With 300 such streams, each
 * halfway through its first PDU, the sides that find no room were decided on
 * their half PDU: "unknown", which a rule naming a protocol reports as a
 * mismatch.  Their bytes were not read to a decision: unverified. */
static void
test_first_bytes_with_no_room_left_are_unverified(void **state)
{
	struct rig *r = *state;
	enum { N = 300 };
	for (unsigned i = 0; i < N; i++) { /* the client's SYN and half a PDU */
		r->cport = 20000 + i;
		r->seq[0] = 1000 + i * 7919u;
		send_frame(r, 0, TH_SYN, NULL, 0);
		send_frame(r, 0, TH_ACK | TH_PSH, login_start, sizeof(login_start));
		enum sm_app a = (enum sm_app)r->s->app[0];
		if (a != APP_MORE && a != APP_UNVERIFIED)
			fail_msg("stream %u, half a Login request so far: %d", i, a);
		sm_payload_done(r->pl, r->s);
		if (sm_session_app_kind(r->s) == APP_UNKNOWN)
			fail_msg("stream %u ends unknown on half a Login request", i);
	}
}

/* A client's hello in one-direction capture (checked from its first bytes by
 * smaudit itself), its segments taken in `order` (indexes of 4 parts; a part
 * named twice is a retransmission; -1 ends the list; a part never named was
 * lost by the capture).  The first bytes are read in sequence order, wherever
 * their segments stand in the capture. */
static void
hello_in_order(struct rig *r, unsigned port, const int *order)
{
	r->cport = port;
	r->seq[0] = 1000 + port * 7919u;
	send_frame(r, 0, TH_SYN, NULL, 0);
	uint32_t isn1 = r->seq[0];
	uint8_t hello[128];
	size_t n = client_hello(hello), cut[5] = {0, 7, 30, 61, n};
	for (const int *k = order; *k >= 0; k++) {
		r->seq[0] = isn1 + (uint32_t)cut[*k];
		send_frame(r, 0, TH_ACK, hello + cut[*k], cut[*k + 1] - cut[*k]);
	}
	sm_payload_done(r->pl, r->s);
}

static void
test_first_bytes_out_of_order_are_read_in_order(void **state)
{
	struct rig *r = *state;
	static const int orders[][8] = {
	    {0, 1, 2, 3, -1}, {1, 0, 2, 3, -1},    {2, 1, 3, 0, -1},
	    {3, 2, 1, 0, -1}, {1, 2, 1, 3, 0, -1}, {2, 3, 0, 0, 1, -1},
	};
	for (unsigned i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		hello_in_order(r, 30000 + i, orders[i]);
		if (sm_session_app_kind(r->s) != APP_TLS || r->s->app_detail == NULL ||
		    strcmp(r->s->app_detail,
		           "TLS ClientHello offers up to 1.2, SNI mediator.example") != 0)
			fail_msg("order %u: app %d, detail '%s'", i, sm_session_app_kind(r->s),
			         r->s->app_detail ? r->s->app_detail : "");
	}
}

/* Without its first segment, a side's first bytes were never read: unverified,
 * not whatever the later segments look like (unknown, or a switch to TLS). */
static void
test_first_bytes_never_captured_are_unverified(void **state)
{
	struct rig *r = *state;
	static const int orders[][8] = {{1, 2, 3, -1}, {3, 2, 1, -1}, {2, 3, -1}};
	for (unsigned i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		hello_in_order(r, 31000 + i, orders[i]);
		if (sm_session_app_kind(r->s) != APP_UNVERIFIED)
			fail_msg("order %u: app %d, detail '%s'", i, sm_session_app_kind(r->s),
			         r->s->app_detail ? r->s->app_detail : "");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_starttls_is_found, rig_open, rig_close),
	    cmocka_unit_test_setup_teardown(test_first_bytes_out_of_order_are_read_in_order,
	                                    rig_open, rig_close),
	    cmocka_unit_test_setup_teardown(test_first_bytes_never_captured_are_unverified,
	                                    rig_open, rig_close),
	    cmocka_unit_test_setup_teardown(test_starttls_hello_across_segments_is_read_whole,
	                                    rig_open, rig_close),
	    cmocka_unit_test_setup_teardown(test_decided_stream_is_not_fed_to_libnids, rig_open,
	                                    rig_close),
	    cmocka_unit_test_setup_teardown(test_many_open_streams_are_each_found_again,
	                                    rig_open_many, rig_close),
	    cmocka_unit_test_setup_teardown(test_first_bytes_with_no_room_left_are_unverified,
	                                    rig_open_many, rig_close),
	    cmocka_unit_test_setup_teardown(test_stream_pushed_out_of_a_full_table_is_unverified,
	                                    rig_open_small_reasm, rig_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
