/*
 * session: the bounded table of conversations.
 * Groups decoded packets into sessions as docs/verdicts.md says (TCP from
 * first packet to close, port reuse is a new session, UDP/ICMP by key with
 * an idle timeout, VLANs in the key), keeps Zeek's conn_state and history,
 * and hands every session to the emit callback when it leaves the table
 * (close, idle timeout, eviction, flush).  Memory follows the number of
 * concurrent sessions: the table never holds more than max_sessions.
 */
#ifndef SMAUDIT_SESSION_H
#define SMAUDIT_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "smaudit/addr.h"
#include "smaudit/decode.h"

enum sm_ep_state {
	EP_INACTIVE = 0,
	EP_SYN_SENT,
	EP_SYN_ACK_SENT,
	EP_PARTIAL,
	EP_ESTABLISHED,
	EP_CLOSED,
	EP_RESET,
};

enum sm_session_end {
	END_CLOSED,  /* TCP close seen, then the close delay passed or the port was reused */
	END_IDLE,    /* idle timeout */
	END_EVICTED, /* table full: the least recently active session made room */
	END_FLUSH,   /* end of input */
};

/* Direction index: 0 = from the initiator ("fwd"), 1 = from the responder ("rev"). */
/* Holes in a direction's sequence space tracked at once (reordering). */
#define SM_SESSION_HOLES 4

struct sm_session {
	/* table internals and the key first: a lookup reads one cache line */
	uint32_t hnext, lprev, lnext;
	uint8_t list;
	bool in_use;
	uint8_t proto;
	uint16_t sport, dport; /* ICMP echo: identifier in both; other ICMP: type, code */
	int32_t vlan, inner_vlan;
	struct sm_addr src, dst; /* src is the initiator */
	int64_t touch_ns, moved_ns;

	int64_t first_ns, last_ns;
	int64_t idle_max_ns, idle_from_ns; /* longest silence between two packets, its start */
	uint64_t pkts[2], bytes[2];
	uint64_t payload[2];
	uint8_t state[2];      /* enum sm_ep_state per direction (TCP) */
	bool rst_after_fin[2]; /* this side's RST followed its own FIN */
	bool did_close[2];     /* this side sent a FIN or RST */
	int64_t close_ns;      /* when the close was complete (Zeek's close_complete), 0 if not */
	char history[24];
	uint16_t history_seen;
	bool flipped;  /* initiator chosen against the first packet's direction */
	bool syn_seen; /* initiator's SYN seen */
	uint32_t syn_seq;
	uint32_t syn_count; /* SYNs (with retransmissions) sent by the initiator */
	bool resp_answer;   /* responder sent a non-RST packet */
	uint8_t ttl[2];     /* TTL of the first packet in each direction */
	uint8_t rst_from;   /* 0 none, 1 initiator, 2 responder */
	uint8_t rst_ttl;
	uint16_t icmp_id;
	uint8_t icmp_type, icmp_code; /* first message, for display */
	/* ICMP errors quoting this session (e.g. destination unreachable) */
	uint32_t icmp_errors;
	uint8_t icmp_err_type, icmp_err_code, icmp_err_ttl;
	struct sm_addr icmp_err_from;
	enum sm_tunnel tunnel;
	struct sm_addr outer_src, outer_dst;
	/* uid: this session's number in the table, in creation order from 1;
	 * tunnel_parent: the uid of the session that carried its first packet
	 * (the UDP, GRE or IP-in-IP flow of the tunnel), 0 if none */
	uint64_t uid, tunnel_parent;
	int64_t syn_ns;  /* when the initiator's first SYN was seen */
	uint32_t source; /* capture source of the first packet */
	/* what the payload is (enum sm_app per direction) and what was read of it */
	uint8_t app[2];
	bool app_checked;  /* payload checks ran on this session */
	uint8_t tls_watch; /* initiator segments still looked at for a switch to TLS */
	/* what was read of it (NULL: nothing), up to SM_APP_DETAIL_MAX bytes; kept
	 * out of the slot: owned by whoever set it, valid while s is in the table */
	const char *app_detail;
	/* capture loss: bytes of sequence space never seen, per direction */
	uint64_t missed[2];
	uint32_t next_seq[2];
	/* holes not yet filled, oldest first: [lo, hi) holding hole_missing bytes
	 * never seen (less than hi - lo once two holes were merged into one) */
	uint32_t hole_lo[2][SM_SESSION_HOLES], hole_hi[2][SM_SESSION_HOLES];
	uint32_t hole_missing[2][SM_SESSION_HOLES];
	uint8_t nholes[2];
	bool seq_known[2];
};

/* The protocol the session speaks ("tls", "unknown", "unverified", ...), NULL if
 * no payload was looked at; from the initiator's side first. */
const char *sm_session_app(const struct sm_session *s);
/* Zeek's conn_state name: S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH. */
const char *sm_session_state(const struct sm_session *s);
/* A completed handshake or replies seen (docs/verdicts.md "established"). */
bool sm_session_established(const struct sm_session *s);
const char *sm_proto_name(uint8_t proto, char *buf, size_t len);

typedef void (*sm_session_emit_fn)(void *ctx, const struct sm_session *s, enum sm_session_end why);

struct sm_session_opts {
	uint32_t max_sessions;
	int64_t tcp_timeout_ns; /* idle timeout of an open TCP session */
	int64_t tcp_close_ns;   /* how long a closed TCP session waits for stragglers */
	int64_t udp_timeout_ns;
	int64_t other_timeout_ns; /* ICMP and other protocols */
	/* Ports a server listens on (bit per port), used to pick the initiator of a
	 * session picked up mid-stream; may be NULL. */
	const uint8_t *service_ports;
};

struct sm_session_stats {
	uint64_t created, emitted, evicted, active, peak;
	uint64_t icmp_errors_attached;
};

struct sm_session_table;

/* Returns NULL when out of memory.  Defaults fill fields left zero. */
struct sm_session_table *sm_session_table_new(const struct sm_session_opts *opts,
                                              sm_session_emit_fn emit, void *ctx);
void sm_session_table_free(struct sm_session_table *t);
/* Accounts one decoded packet: first each datagram that carried it through a
 * tunnel (pkt->outer, a session of its own), then the packet itself, in the
 * session linked to its carrier.  Returns false only when out of memory. */
bool sm_session_packet(struct sm_session_table *t, const struct sm_packet *pkt);
/* Accounts only the carrying datagrams of a packet the decoder holds (an inner
 * fragment waiting for its first): they were on the wire all the same. */
bool sm_session_carriers(struct sm_session_table *t, const struct sm_packet *pkt);
/* Moves the clock on without a packet (live capture on a quiet link): sessions
 * idle longer than their timeout leave the table. */
void sm_session_advance(struct sm_session_table *t, int64_t now_ns);
/* Emits every session still open (END_FLUSH). */
void sm_session_flush(struct sm_session_table *t);
/* Calls fn for every session still open, leaving them in the table. */
void sm_session_foreach(struct sm_session_table *t, sm_session_emit_fn fn, void *ctx);
void sm_session_stats(const struct sm_session_table *t, struct sm_session_stats *out);
/* The session the last packet went to (NULL if none) and its direction. */
struct sm_session *sm_session_last(struct sm_session_table *t, int *dir);

#endif
