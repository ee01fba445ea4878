/* session: Zeek states, port reuse, retransmissions, ICMP evidence, bounds and timeouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "smaudit/session.h"

#define SEC 1000000000LL

static struct sm_session got[64];
static enum sm_session_end why[64];
static int ngot;

static void
collect(void *ctx, const struct sm_session *s, enum sm_session_end w)
{
	(void)ctx;
	if (ngot < 64) {
		why[ngot] = w;
		got[ngot++] = *s;
	}
}

static struct sm_session_table *
table(uint32_t max)
{
	ngot = 0;
	struct sm_session_opts o = {.max_sessions = max};
	return sm_session_table_new(&o, collect, NULL);
}

static struct sm_packet
tcp_pkt(int64_t t, const char *src, unsigned sport, const char *dst, unsigned dport, unsigned flags,
        uint32_t seq, uint32_t len)
{
	struct sm_packet p;
	memset(&p, 0, sizeof(p));
	p.ts_ns = t;
	p.vlan = p.inner_vlan = SM_VLAN_NONE;
	sm_addr_parse(src, &p.src);
	sm_addr_parse(dst, &p.dst);
	p.proto = SM_PROTO_TCP;
	p.sport = (uint16_t)sport;
	p.dport = (uint16_t)dport;
	p.tcp_flags = (uint8_t)flags;
	p.seq = seq;
	p.payload_len = len;
	p.ip_len = 40 + len;
	p.ttl = 64;
	p.l4_header = true;
	return p;
}

#define A "198.18.1.11"
#define B "198.18.2.11"

static void
feed(struct sm_session_table *t, struct sm_packet p)
{
	assert_int_equal(sm_session_packet(t, &p, NULL), SM_OK);
}

/* SYN, SYN-ACK, ACK at 1 s between A:sport and B:dport (A at 100, B at 900). */
static void
handshake(struct sm_session_table *t, unsigned sport, unsigned dport)
{
	feed(t, tcp_pkt(1 * SEC, A, sport, B, dport, TH_SYN, 100, 0));
	feed(t, tcp_pkt(1 * SEC + 1, B, dport, A, sport, TH_SYN | TH_ACK, 900, 0));
	feed(t, tcp_pkt(1 * SEC + 2, A, sport, B, dport, TH_ACK, 101, 0));
}

static void
test_handshake_and_close_is_sf(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	handshake(t, 40000, 11104);
	feed(t, tcp_pkt(1 * SEC + 3, A, 40000, B, 11104, TH_ACK | TH_PSH, 101, 10));
	feed(t, tcp_pkt(1 * SEC + 4, B, 11104, A, 40000, TH_ACK | TH_FIN, 901, 5));
	feed(t, tcp_pkt(1 * SEC + 5, A, 40000, B, 11104, TH_ACK | TH_FIN, 111, 0));
	assert_int_equal(ngot, 0);
	/* the close delay passes: the session leaves the table as closed */
	feed(t, tcp_pkt(20 * SEC, "10.9.9.9", 1, "10.9.9.8", 2, TH_SYN, 1, 0));
	assert_int_equal(ngot, 1);
	assert_int_equal(why[0], END_CLOSED);
	assert_string_equal(sm_session_state(&got[0]), "SF");
	assert_true(sm_session_established(&got[0]));
	assert_int_equal(got[0].pkts[0], 4);
	assert_int_equal(got[0].pkts[1], 2);
	assert_string_equal(got[0].history, "ShADdfF");
	sm_session_table_free(t);
}

static void
test_retransmitted_syns_are_one_s0_session(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	for (int i = 0; i < 3; i++)
		feed(t, tcp_pkt((1 + i) * SEC, A, 40001, B, 11105, TH_SYN, 555, 0));
	sm_session_flush(t);
	assert_int_equal(ngot, 1);
	assert_string_equal(sm_session_state(&got[0]), "S0");
	assert_int_equal(got[0].syn_count, 3);
	assert_false(sm_session_established(&got[0]));
	sm_session_table_free(t);
}

static void
test_syn_answered_by_rst_is_rej(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	feed(t, tcp_pkt(1 * SEC, A, 40002, B, 11104, TH_SYN, 1, 0));
	struct sm_packet rst = tcp_pkt(1 * SEC + 5, B, 11104, A, 40002, TH_RST | TH_ACK, 0, 0);
	rst.ttl = 62;
	feed(t, rst);
	sm_session_flush(t);
	assert_int_equal(ngot, 1);
	assert_string_equal(sm_session_state(&got[0]), "REJ");
	assert_int_equal(got[0].rst_from, 2);
	assert_int_equal(got[0].rst_ttl, 62);
	assert_false(sm_session_established(&got[0]));
	sm_session_table_free(t);
}

static void
test_port_reuse_after_close_is_a_new_session(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	feed(t, tcp_pkt(1 * SEC, A, 40003, B, 3260, TH_SYN, 1, 0));
	feed(t, tcp_pkt(1 * SEC + 1, B, 3260, A, 40003, TH_RST | TH_ACK, 0, 0));
	feed(t, tcp_pkt(2 * SEC, A, 40003, B, 3260, TH_SYN, 7777, 0));
	feed(t, tcp_pkt(2 * SEC + 1, B, 3260, A, 40003, TH_SYN | TH_ACK, 1, 0));
	feed(t, tcp_pkt(2 * SEC + 2, A, 40003, B, 3260, TH_ACK, 7778, 0));
	sm_session_flush(t);
	assert_int_equal(ngot, 2);
	assert_string_equal(sm_session_state(&got[0]), "REJ");
	assert_true(sm_session_established(&got[1]));
	sm_session_table_free(t);
}

static void
test_midstream_pickup_both_ways_is_established(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	static uint8_t ports[8192];
	ports[11104 >> 3] |= (uint8_t)(1u << (11104 & 7));
	ngot = 0;
	struct sm_session_opts o = {.max_sessions = 16, .service_ports = ports};
	sm_session_table_free(t);
	t = sm_session_table_new(&o, collect, NULL);
	/* the server speaks first in the capture: the client is still the initiator */
	feed(t, tcp_pkt(1 * SEC, B, 11104, A, 45000, TH_ACK | TH_PSH, 1, 100));
	feed(t, tcp_pkt(1 * SEC + 1, A, 45000, B, 11104, TH_ACK | TH_PSH, 1, 100));
	sm_session_flush(t);
	assert_int_equal(ngot, 1);
	assert_true(got[0].flipped);
	assert_int_equal(got[0].dport, 11104);
	assert_string_equal(sm_session_state(&got[0]), "OTH");
	assert_true(sm_session_established(&got[0]));
	sm_session_table_free(t);
}

/* An ICMP port unreachable from a router quoting A:sport -> B:dport (TCP). */
static struct sm_packet
icmp_error_quoting(int64_t t, unsigned sport, unsigned dport)
{
	struct sm_packet icmp;
	memset(&icmp, 0, sizeof(icmp));
	icmp.ts_ns = t;
	icmp.vlan = icmp.inner_vlan = SM_VLAN_NONE;
	sm_addr_parse("198.18.9.2", &icmp.src);
	sm_addr_parse(A, &icmp.dst);
	icmp.proto = SM_PROTO_ICMP;
	icmp.icmp_type = 3;
	icmp.icmp_code = 13;
	icmp.ttl = 63;
	icmp.icmp_error = true;
	sm_addr_parse(A, &icmp.quote.src);
	sm_addr_parse(B, &icmp.quote.dst);
	icmp.quote.proto = SM_PROTO_TCP;
	icmp.quote.sport = (uint16_t)sport;
	icmp.quote.dport = (uint16_t)dport;
	icmp.quote.ports_known = true;
	return icmp;
}

/* sm_session_packet says where each packet went: its session and its side. */
static void
test_packet_tells_its_session_and_side(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	struct sm_session_hit syn, synack, ack, err;
	struct sm_packet p = tcp_pkt(1 * SEC, A, 40010, B, 3260, TH_SYN, 100, 0);
	assert_int_equal(sm_session_packet(t, &p, &syn), SM_OK);
	p = tcp_pkt(1 * SEC + 1, B, 3260, A, 40010, TH_SYN | TH_ACK, 900, 0);
	assert_int_equal(sm_session_packet(t, &p, &synack), SM_OK);
	p = tcp_pkt(1 * SEC + 2, A, 40010, B, 3260, TH_ACK, 101, 0);
	assert_int_equal(sm_session_packet(t, &p, &ack), SM_OK);
	assert_non_null(syn.s);
	assert_ptr_equal(synack.s, syn.s);
	assert_ptr_equal(ack.s, syn.s);
	assert_int_equal(syn.dir, 0);
	assert_int_equal(synack.dir, 1);
	assert_int_equal(ack.dir, 0);
	assert_int_equal(ack.s->pkts[0], 2);
	/* an ICMP error is counted in the session it quotes, not one of its own */
	p = icmp_error_quoting(1 * SEC + 3, 40010, 3260);
	assert_int_equal(sm_session_packet(t, &p, &err), SM_OK);
	assert_null(err.s);
	sm_session_flush(t);
	assert_int_equal(ngot, 1);
	assert_int_equal(got[0].icmp_errors, 1);
	sm_session_table_free(t);
}

static char left_app[16], left_detail[SM_APP_DETAIL_MAX];

/* The emit callback: what the session speaks as it leaves. */
static void
collect_app(void *ctx, const struct sm_session *s, enum sm_session_end w)
{
	const char *app = sm_session_app(s);
	snprintf(left_app, sizeof(left_app), "%s", app ? app : "");
	snprintf(left_detail, sizeof(left_detail), "%s", s->app_detail ? s->app_detail : "");
	collect(ctx, s, w);
}

/* The done callback: a side still undecided is decided as the session leaves. */
static void
decide_server(void *ctx, struct sm_session *s)
{
	(void)ctx;
	if (s->app[1] == APP_NONE)
		sm_session_set_app(s, 1, APP_TLS, "TLS ServerHello chose 1.2");
}

/* What payload checks learn goes in through the session's functions; the done
 * callback runs before emit; a ServerHello's choice joins the ClientHello. */
static void
test_payload_results_go_in_through_the_session(void **state)
{
	(void)state;
	ngot = 0;
	struct sm_session_opts o = {.max_sessions = 16, .done = decide_server};
	struct sm_session_table *t = sm_session_table_new(&o, collect_app, NULL);
	handshake(t, 40020, 443);
	struct sm_session_hit hit;
	struct sm_packet p = tcp_pkt(1 * SEC + 3, A, 40020, B, 443, TH_ACK | TH_PSH, 101, 200);
	assert_int_equal(sm_session_packet(t, &p, &hit), SM_OK);
	sm_session_mark_checked(hit.s);
	sm_session_set_app(hit.s, hit.dir, APP_TLS, "TLS ClientHello offers up to 1.3, SNI x");
	sm_session_flush(t);
	assert_int_equal(ngot, 1);
	assert_string_equal(left_app, "tls");
	assert_string_equal(left_detail,
	                    "TLS ClientHello offers up to 1.3, SNI x; ServerHello chose 1.2");
	sm_session_table_free(t);
}

static void
test_icmp_error_attaches_to_quoted_session(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	feed(t, tcp_pkt(1 * SEC, A, 40004, B, 3260, TH_SYN, 1, 0));
	feed(t, icmp_error_quoting(1 * SEC + 10, 40004, 3260));
	sm_session_flush(t);
	assert_int_equal(ngot, 1); /* no session of its own */
	assert_int_equal(got[0].icmp_errors, 1);
	assert_int_equal(got[0].icmp_err_code, 13);
	assert_int_equal(got[0].icmp_err_ttl, 63);
	char buf[SM_ADDRSTRLEN];
	assert_string_equal(sm_addr_str(&got[0].icmp_err_from, buf, sizeof(buf)), "198.18.9.2");
	sm_session_table_free(t);
}

static void
test_table_is_bounded_and_counts_evictions(void **state)
{
	(void)state;
	struct sm_session_table *t = table(4);
	for (unsigned i = 0; i < 10; i++) {
		struct sm_packet p = tcp_pkt(SEC + i, A, 30000 + i, B, 11105, TH_SYN, i, 0);
		feed(t, p);
	}
	struct sm_session_stats st;
	sm_session_stats(t, &st);
	assert_int_equal(st.peak, 4);
	assert_int_equal(st.evicted, 6);
	assert_int_equal(why[0], END_EVICTED);
	assert_int_equal(got[0].sport, 30000); /* the oldest went first */
	sm_session_table_free(t);
}

/* Three SYNs pushed out of a table of 2 by newer ones, then what answers each:
 * a SYN-ACK, a RST and an ICMP error.  The session each answer opens says it
 * opened past an attempt, and which (the ISN acknowledged), so that the policy
 * judges the attempt by its answer; the error, with no session of its flow left,
 * opens one of that flow with the error attached and no packet of its own. */
static void
test_answers_to_pushed_out_attempts_open_sessions_past_them(void **state)
{
	(void)state;
	static uint8_t services[8192]; /* the policy's ports: 3260 is served */
	services[3260 >> 3] |= 1u << (3260 & 7);
	ngot = 0;
	struct sm_session_opts o = {.max_sessions = 2, .service_ports = services};
	struct sm_session_table *t = sm_session_table_new(&o, collect, NULL);
	for (unsigned i = 0; i < 3; i++)
		feed(t, tcp_pkt(SEC + i, A, 41000 + i, B, 3260, TH_SYN, 500 + i, 0));
	for (unsigned i = 0; i < 2; i++) /* push them all out */
		feed(t, tcp_pkt(SEC + 10 + i, "198.19.0.9", 50000 + i, B, 443, TH_SYN, 1, 0));
	struct sm_packet synack = tcp_pkt(SEC + 20, B, 3260, A, 41000, TH_SYN | TH_ACK, 900, 0);
	synack.ack = 501;
	feed(t, synack);
	struct sm_packet rst = tcp_pkt(SEC + 21, B, 3260, A, 41001, TH_RST | TH_ACK, 0, 0);
	rst.ack = 502;
	feed(t, rst);
	feed(t, icmp_error_quoting(SEC + 22, 41002, 3260));
	sm_session_flush(t);
	int found = 0;
	for (int i = 0; i < ngot; i++) {
		const struct sm_session *s = &got[i];
		if (s->dport != 3260 || s->syn_seen) /* the attempts themselves */
			continue;
		assert_true(s->after_attempt);
		char b1[SM_ADDRSTRLEN], b2[SM_ADDRSTRLEN];
		assert_string_equal(sm_addr_str(&s->src, b1, sizeof(b1)), A);
		assert_string_equal(sm_addr_str(&s->dst, b2, sizeof(b2)), B);
		if (s->sport == 41000 || s->sport == 41001)
			assert_int_equal(s->syn_seq, 500 + (s->sport - 41000));
		else {
			assert_int_equal(s->sport, 41002);
			assert_int_equal(s->icmp_errors, 1);
			assert_int_equal(s->pkts[0] + s->pkts[1], 0);
		}
		found++;
	}
	assert_int_equal(found, 3);
	sm_session_table_free(t);
}

static void
test_udp_idle_timeout_and_vlan_key(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	struct sm_packet u = tcp_pkt(1 * SEC, A, 5353, B, 53, 0, 0, 0);
	u.proto = SM_PROTO_UDP;
	u.l4_header = true;
	feed(t, u);
	u.vlan = 7; /* same tuple, other VLAN: another session */
	feed(t, u);
	u.vlan = SM_VLAN_NONE;
	u.ts_ns = 200 * SEC; /* past the 60 s UDP timeout */
	feed(t, u);
	sm_session_flush(t);
	assert_int_equal(ngot, 3);
	assert_int_equal(why[0], END_IDLE);
	assert_string_equal(sm_session_state(&got[0]), "S0");
	sm_session_table_free(t);
}

static struct sm_packet
tagged(struct sm_packet p, int32_t vlan)
{
	p.vlan = vlan;
	return p;
}

/* A span of a routed hop copies what each VLAN receives: the initiator's side of
 * a conversation on VLAN 10, the responder's on VLAN 20.  It is one session, with
 * both sides; a second SYN on VLAN 20 (a span of both ways: every packet twice)
 * is a conversation of its own there, and an ICMP error on VLAN 20 about a SYN
 * seen on VLAN 10 is its answer. */
static void
test_directions_on_two_vlans_are_one_session(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	feed(t, tagged(tcp_pkt(1 * SEC, A, 40020, B, 3260, TH_SYN, 100, 0), 10));
	feed(t, tagged(tcp_pkt(1 * SEC + 1, B, 3260, A, 40020, TH_SYN | TH_ACK, 900, 0), 20));
	feed(t, tagged(tcp_pkt(1 * SEC + 2, A, 40020, B, 3260, TH_ACK, 101, 0), 10));
	feed(t, tagged(tcp_pkt(1 * SEC + 3, A, 40020, B, 3260, TH_ACK | TH_PSH, 101, 48), 10));
	feed(t, tagged(tcp_pkt(1 * SEC + 4, B, 3260, A, 40020, TH_ACK | TH_PSH, 901, 48), 20));
	/* both ways spanned: the same SYN on each VLAN, two sessions */
	feed(t, tagged(tcp_pkt(2 * SEC, A, 40021, B, 3260, TH_SYN, 500, 0), 10));
	feed(t, tagged(tcp_pkt(2 * SEC + 1, A, 40021, B, 3260, TH_SYN, 500, 0), 20));
	/* refused on its way: the error comes back on the other VLAN */
	feed(t, tagged(tcp_pkt(3 * SEC, A, 40022, B, 3260, TH_SYN, 700, 0), 10));
	feed(t, tagged(icmp_error_quoting(3 * SEC + 1, 40022, 3260), 20));
	sm_session_flush(t);
	assert_int_equal(ngot, 4);
	assert_int_equal(got[0].sport, 40020);
	assert_true(sm_session_established(&got[0]));
	assert_int_equal(got[0].pkts[0], 3);
	assert_int_equal(got[0].pkts[1], 2);
	assert_int_equal(got[0].vlan, 10);
	assert_int_equal(got[0].nalias, 1);
	assert_int_equal(got[0].alias[0].vlan, 20);
	assert_int_equal(got[1].sport, 40021);
	assert_int_equal(got[2].sport, 40021);
	assert_int_equal(got[1].pkts[0] + got[2].pkts[0], 2);
	assert_int_equal(got[3].sport, 40022);
	assert_int_equal(got[3].icmp_errors, 1);
	sm_session_table_free(t);
}

/* Two capture points, each on its site's VLAN: sensor 1 sees the conversation
 * sensor 0 saw, tagged otherwise.  One session, seen at both, its packets counted
 * once. */
static void
test_sensors_on_other_vlans_see_one_session(void **state)
{
	(void)state;
	ngot = 0;
	struct sm_session_opts o = {.max_sessions = 16, .nsensors = 2};
	struct sm_session_table *t = sm_session_table_new(&o, collect, NULL);
	struct sm_packet p[3] = {tcp_pkt(1 * SEC, A, 40030, B, 3260, TH_SYN, 100, 0),
	                         tcp_pkt(1 * SEC + 1, B, 3260, A, 40030, TH_SYN | TH_ACK, 900, 0),
	                         tcp_pkt(1 * SEC + 2, A, 40030, B, 3260, TH_ACK, 101, 0)};
	for (int i = 0; i < 3; i++) {
		struct sm_packet a = tagged(p[i], 10), b = tagged(p[i], 20);
		b.sensor = 1;
		b.ts_ns += 1000;
		feed(t, a);
		feed(t, b);
	}
	sm_session_flush(t);
	assert_int_equal(ngot, 1);
	assert_true(sm_session_established(&got[0]));
	assert_int_equal(got[0].pkts[0], 2);
	assert_int_equal(got[0].pkts[1], 1);
	sm_session_table_free(t);
}

/* Zeek leaves a connection whose FINs both went out closed when a RST follows
 * (a client aborting after the close, as STARTTLS clients of imap, pop3, xmpp
 * and irc do): SF, not RSTO. */
static void
test_rst_after_both_fins_is_sf(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	handshake(t, 40010, 143);
	feed(t, tcp_pkt(1 * SEC + 3, B, 143, A, 40010, TH_ACK | TH_PSH, 901, 20));
	feed(t, tcp_pkt(1 * SEC + 4, A, 40010, B, 143, TH_ACK | TH_FIN, 101, 0));
	feed(t, tcp_pkt(1 * SEC + 5, B, 143, A, 40010, TH_ACK | TH_FIN, 921, 0));
	feed(t, tcp_pkt(1 * SEC + 6, A, 40010, B, 143, TH_RST, 102, 0));
	sm_session_flush(t);
	assert_int_equal(ngot, 1);
	assert_string_equal(sm_session_state(&got[0]), "SF");
	assert_string_equal(got[0].history, "ShAdFfR");
	sm_session_table_free(t);
}

/* A SYN with a new ISN from the same port after an attempt of SYNs only: the
 * application tried again (a session of its own) once 200 ms have passed since
 * the first SYN; sooner it is a middlebox's copy with its own ISN.  TCP Fast
 * Open data on the SYNs keeps them an attempt; a bare ACK answering them is no
 * answer (a challenge ACK, RFC 5961), not an established session. */
static void
test_new_isn_after_an_attempt_is_a_new_session(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	feed(t, tcp_pkt(1 * SEC, A, 40040, B, 11104, TH_SYN, 1000, 0));
	feed(t, tcp_pkt(1 * SEC + 100, A, 40040, B, 11104, TH_SYN, 777777, 0)); /* a copy */
	feed(t, tcp_pkt(1 * SEC + SEC / 2, A, 40040, B, 11104, TH_SYN, 1000, 0));
	feed(t, tcp_pkt(2 * SEC, A, 40040, B, 11104, TH_SYN, 4000000, 0)); /* a retry */
	feed(t, tcp_pkt(2 * SEC + 1, B, 11104, A, 40040, TH_SYN | TH_ACK, 900, 0));
	feed(t, tcp_pkt(2 * SEC + 2, A, 40040, B, 11104, TH_ACK, 4000001, 0));
	feed(t, tcp_pkt(3 * SEC, A, 40041, B, 11104, TH_SYN, 1000, 13)); /* Fast Open */
	feed(t, tcp_pkt(3 * SEC + 1, B, 11104, A, 40041, TH_ACK, 123456, 0));
	feed(t, tcp_pkt(4 * SEC, A, 40041, B, 11104, TH_SYN, 1000, 13));
	sm_session_flush(t);
	assert_int_equal(ngot, 3);
	assert_int_equal(got[0].syn_count, 3);
	assert_int_equal(got[0].syn_seq, 1000);
	assert_false(sm_session_established(&got[0]));
	assert_int_equal(got[1].syn_seq, 4000000);
	assert_true(sm_session_established(&got[1]));
	assert_int_equal(got[1].missed[0] + got[1].missed[1], 0);
	assert_int_equal(got[2].sport, 40041);
	assert_int_equal(got[2].syn_count, 2);
	assert_false(got[2].orig_past_syn);
	assert_false(sm_session_established(&got[2]));
	sm_session_table_free(t);
}

/* A FIN, then a RST from the same side, then the peer's FIN: Zeek takes it back
 * to a normal close. */
static void
test_fin_rst_then_peer_fin_is_sf(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	handshake(t, 40011, 110);
	feed(t, tcp_pkt(1 * SEC + 3, A, 40011, B, 110, TH_ACK | TH_FIN, 101, 0));
	feed(t, tcp_pkt(1 * SEC + 4, A, 40011, B, 110, TH_RST, 102, 0));
	feed(t, tcp_pkt(1 * SEC + 5, B, 110, A, 40011, TH_ACK | TH_FIN, 901, 0));
	sm_session_flush(t);
	assert_int_equal(ngot, 1);
	assert_string_equal(sm_session_state(&got[0]), "SF");
	sm_session_table_free(t);
}

/* A RST before the peer's FIN is still an abort. */
static void
test_rst_after_one_fin_is_rsto(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	handshake(t, 40012, 993);
	feed(t, tcp_pkt(1 * SEC + 3, B, 993, A, 40012, TH_ACK | TH_FIN, 901, 0));
	feed(t, tcp_pkt(1 * SEC + 4, A, 40012, B, 993, TH_RST, 101, 0));
	sm_session_flush(t);
	assert_int_equal(ngot, 1);
	assert_string_equal(sm_session_state(&got[0]), "RSTO");
	sm_session_table_free(t);
}

/* The SYN went by before the capture started, the SYN-ACK did not: Zeek counts
 * the handshake as done (both endpoints established) and says S1, not OTH. */
static void
test_synack_without_syn_then_data_is_s1(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	feed(t, tcp_pkt(1 * SEC, B, 3260, A, 40020, TH_SYN | TH_ACK, 900, 0));
	feed(t, tcp_pkt(1 * SEC + 1, A, 40020, B, 3260, TH_ACK, 101, 0));
	feed(t, tcp_pkt(1 * SEC + 2, A, 40020, B, 3260, TH_ACK | TH_PSH, 101, 48));
	feed(t, tcp_pkt(1 * SEC + 3, B, 3260, A, 40020, TH_ACK | TH_PSH, 901, 48));
	sm_session_flush(t);
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0].history, "^hADd");
	assert_true(sm_session_established(&got[0]));
	assert_string_equal(sm_session_state(&got[0]), "S1");
	sm_session_table_free(t);
}

/* Zeek's handshake completes on the SYN-ACK: a missing last ACK still leaves S1. */
static void
test_syn_synack_without_last_ack_is_s1(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	feed(t, tcp_pkt(1 * SEC, A, 40021, B, 3260, TH_SYN, 100, 0));
	feed(t, tcp_pkt(1 * SEC + 1, B, 3260, A, 40021, TH_SYN | TH_ACK, 900, 0));
	sm_session_flush(t);
	assert_int_equal(ngot, 1);
	assert_string_equal(got[0].history, "Sh");
	assert_string_equal(sm_session_state(&got[0]), "S1");
	sm_session_table_free(t);
}

/* A client that retries its SYN with the same sequence number after the RST
 * (Windows does, twice) makes a new attempt: a new session, as Zeek logs it. */
static void
test_same_syn_after_rst_is_a_new_session(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	for (int i = 0; i < 3; i++) {
		feed(t, tcp_pkt((1 + i) * SEC, A, 40030, B, 110, TH_SYN, 4242, 0));
		feed(t, tcp_pkt((1 + i) * SEC + 1, B, 110, A, 40030, TH_RST | TH_ACK, 0, 0));
	}
	sm_session_flush(t);
	assert_int_equal(ngot, 3);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(sm_session_state(&got[i]), "REJ");
		assert_int_equal(got[i].syn_count, 1);
	}
	sm_session_table_free(t);
}

/* RSTOS0 is Zeek's name for a SYN then the initiator's RST with nothing from
 * the responder; an ACK between them (history SAR) makes it OTH. */
static void
test_syn_ack_rst_without_answer_is_oth(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	feed(t, tcp_pkt(1 * SEC, A, 40040, B, 443, TH_SYN, 100, 0));
	feed(t, tcp_pkt(1 * SEC + 1, A, 40040, B, 443, TH_RST, 101, 0));
	feed(t, tcp_pkt(2 * SEC, A, 40041, B, 443, TH_SYN, 200, 0));
	feed(t, tcp_pkt(2 * SEC + 1, A, 40041, B, 443, TH_ACK, 201, 0));
	feed(t, tcp_pkt(2 * SEC + 2, A, 40041, B, 443, TH_RST, 201, 0));
	sm_session_flush(t);
	assert_int_equal(ngot, 2);
	assert_string_equal(got[0].history, "SR");
	assert_string_equal(sm_session_state(&got[0]), "RSTOS0");
	assert_string_equal(got[1].history, "SAR");
	assert_string_equal(sm_session_state(&got[1]), "OTH");
	sm_session_table_free(t);
}

static void
test_syn_unanswered_for_5s_ends_the_attempt_as_zeek_does(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	/* a connect() retrying: SYNs at 0, 1, 3, 7 and 15 s, never answered */
	const int at[] = {0, 1, 3, 7, 15};
	for (int i = 0; i < 5; i++)
		feed(t, tcp_pkt(100 * SEC + at[i] * SEC, A, 40001, B, 11105, TH_SYN, 555, 0));
	sm_session_flush(t);
	assert_int_equal(ngot, 3);
	assert_int_equal(got[0].syn_count, 3);
	assert_int_equal(got[1].syn_count, 1);
	assert_int_equal(got[2].syn_count, 1);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(sm_session_state(&got[i]), "S0");
		assert_int_equal(got[i].syn_seq, 555);
	}
	sm_session_table_free(t);
}

static void
test_half_duplex_client_is_s0_then_sh(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	/* only the client's side is captured: SYN, data for 3.4 s, then 1.7 s later
	 * more data and its FIN (Zeek's ssh.client-side-half-duplex) */
	feed(t, tcp_pkt(0, A, 51880, B, 22, TH_SYN, 10, 0));
	feed(t, tcp_pkt(SEC / 10, A, 51880, B, 22, TH_ACK, 11, 0));
	feed(t, tcp_pkt(3 * SEC, A, 51880, B, 22, TH_ACK | TH_PSH, 11, 100));
	feed(t, tcp_pkt(5 * SEC + SEC / 10, A, 51880, B, 22, TH_ACK | TH_PSH, 111, 100));
	feed(t, tcp_pkt(5 * SEC + SEC / 2, A, 51880, B, 22, TH_ACK, 211, 0));
	feed(t, tcp_pkt(6 * SEC, A, 51880, B, 22, TH_ACK | TH_FIN, 211, 0));
	sm_session_flush(t);
	assert_int_equal(ngot, 2);
	assert_string_equal(sm_session_state(&got[0]), "S0");
	assert_string_equal(got[0].history, "SAD");
	assert_string_equal(sm_session_state(&got[1]), "SH");
	assert_string_equal(got[1].history, "DAF");
	sm_session_table_free(t);
}

static void
test_straggler_after_the_close_delay_is_a_new_session(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	/* the server's FIN is the first thing seen (the client never spoke): the
	 * close is complete; the client's RST 10 s later is another conversation */
	feed(t, tcp_pkt(SEC, B, 80, A, 1576, TH_ACK | TH_FIN, 900, 0));
	feed(t, tcp_pkt(SEC + 1000, A, 1576, B, 80, TH_ACK, 100, 0));
	feed(t, tcp_pkt(11 * SEC, A, 1576, B, 80, TH_ACK | TH_RST, 100, 0));
	sm_session_flush(t);
	assert_int_equal(ngot, 2);
	assert_string_equal(sm_session_state(&got[0]), "SHR");
	assert_int_equal(got[0].pkts[0] + got[0].pkts[1], 2);
	assert_int_equal(got[1].pkts[0] + got[1].pkts[1], 1);
	sm_session_table_free(t);
}

static struct sm_packet
udp_pkt(int64_t ts, const char *src, unsigned sport, const char *dst, unsigned dport)
{
	struct sm_packet p = tcp_pkt(ts, src, sport, dst, dport, 0, 0, 20);
	p.proto = SM_PROTO_UDP;
	p.ip_len = 48;
	return p;
}

static void
test_dns_ends_after_its_quiet_timer_and_servers_answer_first(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	feed(t, udp_pkt(11 * SEC, A, 1920, B, 53));
	feed(t, udp_pkt(11 * SEC + SEC / 10, B, 53, A, 1920));
	feed(t, udp_pkt(27 * SEC, A, 1920, B, 53)); /* 16 s later: a new one */
	feed(t, udp_pkt(27 * SEC + SEC / 10, B, 53, A, 1920));
	/* a Teredo server's packet seen first: the client is the initiator */
	feed(t, udp_pkt(30 * SEC, B, 3544, A, 3797));
	/* a DHCP offer seen alone: from the server to the client's port 68 */
	feed(t, udp_pkt(31 * SEC, B, 67, A, 68));
	sm_session_flush(t);
	assert_int_equal(ngot, 4);
	int dns = 0;
	for (int i = 0; i < ngot; i++) {
		if (got[i].dport == 53) {
			dns++;
			assert_string_equal(sm_session_state(&got[i]), "SF");
		} else {
			assert_true(got[i].flipped);
			assert_string_equal(sm_session_state(&got[i]), "SHR");
			assert_true(got[i].dport == 3544 || got[i].dport == 67);
		}
	}
	assert_int_equal(dns, 2);
	sm_session_table_free(t);
}

static void
test_tunnel_carriers_are_sessions_linked_to_the_inner(void **state)
{
	(void)state;
	struct sm_session_table *t = table(16);
	struct sm_packet p = tcp_pkt(SEC, A, 40000, B, 11104, TH_SYN, 1, 0);
	p.nouter = 2;
	p.tunnel = TUN_GTP;
	p.outer[0] = (struct sm_outer){.kind = TUN_GTP,
	                               .proto = 17,
	                               .ttl = 60,
	                               .sport = 2152,
	                               .dport = 2152,
	                               .ip_len = 100,
	                               .held_pkts = 1,
	                               .held_bytes = 576,
	                               .vlan = 20,
	                               .inner_vlan = SM_VLAN_NONE};
	sm_addr_parse("192.0.2.1", &p.outer[0].src);
	sm_addr_parse("192.0.2.2", &p.outer[0].dst);
	p.outer[1] = (struct sm_outer){.kind = TUN_TEREDO,
	                               .proto = 17,
	                               .ttl = 50,
	                               .sport = 3797,
	                               .dport = 3544,
	                               .ip_len = 80,
	                               .vlan = SM_VLAN_NONE,
	                               .inner_vlan = SM_VLAN_NONE};
	sm_addr_parse("10.1.1.1", &p.outer[1].src);
	sm_addr_parse("10.2.2.2", &p.outer[1].dst);
	feed(t, p);
	p.ts_ns += 1000;
	feed(t, p);
	sm_session_flush(t);
	assert_int_equal(ngot, 3);
	const struct sm_session *gtp = NULL, *teredo = NULL, *inner = NULL;
	for (int i = 0; i < ngot; i++) {
		if (got[i].dport == 2152)
			gtp = &got[i];
		else if (got[i].dport == 3544)
			teredo = &got[i];
		else
			inner = &got[i];
	}
	assert_non_null(gtp);
	assert_non_null(teredo);
	assert_non_null(inner);
	assert_int_equal(gtp->tunnel_parent, 0);
	assert_int_equal(gtp->tunnel, TUN_NONE);
	assert_int_equal(gtp->vlan, 20);
	assert_int_equal(gtp->pkts[0], 4); /* two frames, each after one held fragment */
	assert_int_equal(gtp->bytes[0], 2 * (100 + 576));
	assert_int_equal(teredo->tunnel_parent, gtp->uid);
	assert_int_equal(teredo->tunnel, TUN_GTP);
	assert_int_equal(teredo->pkts[0], 2);
	assert_int_equal(inner->tunnel_parent, teredo->uid);
	assert_int_equal(inner->pkts[0], 2);
	assert_int_equal(inner->syn_count, 2);
	assert_true(gtp->uid != teredo->uid && teredo->uid != inner->uid);
	sm_session_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_handshake_and_close_is_sf),
	    cmocka_unit_test(test_retransmitted_syns_are_one_s0_session),
	    cmocka_unit_test(test_syn_answered_by_rst_is_rej),
	    cmocka_unit_test(test_port_reuse_after_close_is_a_new_session),
	    cmocka_unit_test(test_midstream_pickup_both_ways_is_established),
	    cmocka_unit_test(test_icmp_error_attaches_to_quoted_session),
	    cmocka_unit_test(test_packet_tells_its_session_and_side),
	    cmocka_unit_test(test_payload_results_go_in_through_the_session),
	    cmocka_unit_test(test_table_is_bounded_and_counts_evictions),
	    cmocka_unit_test(test_answers_to_pushed_out_attempts_open_sessions_past_them),
	    cmocka_unit_test(test_udp_idle_timeout_and_vlan_key),
	    cmocka_unit_test(test_directions_on_two_vlans_are_one_session),
	    cmocka_unit_test(test_sensors_on_other_vlans_see_one_session),
	    cmocka_unit_test(test_rst_after_both_fins_is_sf),
	    cmocka_unit_test(test_fin_rst_then_peer_fin_is_sf),
	    cmocka_unit_test(test_new_isn_after_an_attempt_is_a_new_session),
	    cmocka_unit_test(test_rst_after_one_fin_is_rsto),
	    cmocka_unit_test(test_synack_without_syn_then_data_is_s1),
	    cmocka_unit_test(test_syn_synack_without_last_ack_is_s1),
	    cmocka_unit_test(test_same_syn_after_rst_is_a_new_session),
	    cmocka_unit_test(test_syn_ack_rst_without_answer_is_oth),
	    cmocka_unit_test(test_syn_unanswered_for_5s_ends_the_attempt_as_zeek_does),
	    cmocka_unit_test(test_half_duplex_client_is_s0_then_sh),
	    cmocka_unit_test(test_straggler_after_the_close_delay_is_a_new_session),
	    cmocka_unit_test(test_dns_ends_after_its_quiet_timer_and_servers_answer_first),
	    cmocka_unit_test(test_tunnel_carriers_are_sessions_linked_to_the_inner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
