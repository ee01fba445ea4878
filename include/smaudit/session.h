/*
 * session: the bounded table of conversations.
 * Groups decoded packets into sessions as docs/verdicts.md says (TCP from
 * first packet to close, port reuse is a new session, UDP/ICMP by key with
 * an idle timeout, VLANs in the key), keeps Zeek's conn_state and history,
 * and hands every session to the emit callback when it leaves the table
 * (close, idle timeout, eviction, flush).  Memory follows the number of
 * concurrent sessions: the table never holds more than max_sessions.
 * session.c is the table (hash, chunks, LRU, eviction), session_tcp.c the
 * TCP conversation (endpoint states, history, gaps) and what the payload
 * checks found; what they learn goes in through sm_session_set_app().
 */
#ifndef SMAUDIT_SESSION_H
#define SMAUDIT_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "smaudit/addr.h"
#include "smaudit/app.h"
#include "smaudit/decode.h"
#include "smaudit/err.h"
#include "smaudit/sensor.h" /* SM_SENSORS_MAX */

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

/* Letters of a TCP history, each recorded once per direction in history_seen:
 * bit SM_HIST_<x> for the initiator, that bit + SM_HIST_RESP for the responder. */
enum sm_history_bit {
	SM_HIST_RST = 0, /* R */
	SM_HIST_SYN,     /* S: a SYN without ACK */
	SM_HIST_SYN_ACK, /* H */
	SM_HIST_DATA,    /* D: a segment with payload */
	SM_HIST_ACK,     /* A: a bare ACK */
	SM_HIST_FIN,     /* F */
};
#define SM_HIST_RESP        8
#define SM_HIST_ORIG_BIT(b) ((uint16_t)(1u << (b)))
#define SM_HIST_RESP_BIT(b) ((uint16_t)(1u << ((b) + SM_HIST_RESP)))
#define SM_HIST_ORIG_ALL    ((uint16_t)0xff) /* every letter of the initiator */

/* The longest history text, with its NUL: six letters a side (S H A D F R) and
 * the flip mark ("^ShADadFfRr" and more). */
#define SM_HISTORY_MAX 16

/* Capture points (sensors) of one run.  With more than one, each session keeps
 * what every sensor saw of it (struct sm_sightings), and a packet seen again at
 * another sensor (the same packet, further along its path) counts there only:
 * the conversation itself is one session, its packets counted once. */
/* What one sensor saw of one direction of a session. */
struct sm_sighting {
	uint64_t pkts, bytes;
	int64_t first_ns, last_ns;
	uint32_t syns;        /* from the initiator: SYNs; from the responder: SYN-ACKs */
	uint32_t rsts;        /* RSTs sent this way */
	uint32_t icmp_errors; /* ICMP errors quoting this direction's packets */
	uint8_t ttl_min, ttl_max, rst_ttl;
};
/* Recent packets of a direction, to know a copy seen at another sensor. */
#define SM_SIGHT_RECENT 8
struct sm_sightings {
	struct {
		uint32_t sig;
		uint8_t sensors; /* bit per sensor that saw it */
		int64_t ts_ns;
	} recent[2][SM_SIGHT_RECENT];
	uint8_t next[2];
	struct sm_sighting at[]; /* [sensor * 2 + dir], nsensors * 2 of them */
};

/* A session cut by an edge of the capture (struct sm_session edge): it began
 * within SM_EDGE_NS of the first packet without its opening (a TCP SYN, a
 * request), so what came before is unseen; or it was still open at the end and
 * began within SM_EDGE_NS of the last packet, so its answer may have come after.
 * One second: a SYN's first retransmission, and a hundred times the round trip
 * SnapMirror active sync allows. */
#define SM_EDGE_START 1
#define SM_EDGE_END   2
#define SM_EDGE_NS    1000000000LL

/* Other VLAN tags one session may be seen with, and the sensor of an alias that
 * holds at every sensor. */
#define SM_SESSION_ALIASES  2
#define SM_ALIAS_ANY_SENSOR 0xff

/* Holes in a direction's sequence space tracked at once (reordering). */
#define SM_SESSION_HOLES 4

/* Direction index of the [2] arrays: 0 = from the initiator ("fwd"), 1 = from the
 * responder ("rev"). */
struct sm_session {
	/* table internals and the key first: a lookup reads one cache line */
	uint32_t hnext, lprev, lnext;
	uint8_t list;
	bool in_use;
	uint8_t proto;
	uint8_t edge;          /* SM_EDGE_* bits */
	uint16_t sport, dport; /* ICMP echo: identifier in both; other ICMP: type, code */
	int32_t vlan, inner_vlan;
	struct sm_addr src, dst; /* src is the initiator */
	/* a stall's resent segments (ack_hi below); a window probe is none */
	uint8_t stall_rtx[2];
	int64_t touch_ns, moved_ns;

	int64_t first_ns, last_ns;
	/* the longest time one side sent nothing (the other may have: retransmissions
	 * unanswered), its start; after the last packet too: sm_session_silence() */
	int64_t idle_max_ns, idle_from_ns;
	int64_t side_last_ns[2]; /* each side's last packet (0: none yet) */
	uint64_t pkts[2], bytes[2];
	uint64_t payload[2];
	uint8_t state[2];      /* enum sm_ep_state per direction (TCP) */
	bool rst_after_fin[2]; /* this side's RST followed its own FIN */
	bool did_close[2];     /* this side sent a FIN or RST */
	uint8_t dir_flags[2];  /* SM_DIR_* bits of each direction */
	int64_t close_ns;      /* when the close was complete (Zeek's close_complete), 0 if not */
	char history[SM_HISTORY_MAX];
	uint16_t history_seen; /* SM_HIST_* bits */
	bool flipped;          /* initiator chosen against the first packet's direction */
	bool syn_seen;         /* initiator's SYN seen */
	/* it opened past an attempt made in no packet of it (the attempt's session
	 * was pushed out of a full table, or began before the capture): with the
	 * answer, a SYN-ACK or a RST (syn_seq: the ISN it acknowledges), an echo
	 * reply, an ICMP error quoting the flow (no packet of its own then); or with
	 * the initiator's next segment (syn_seq: its sequence number - 1) */
	bool after_attempt;
	uint8_t nalias;    /* of alias[] below */
	bool seq_known[2]; /* next_seq[] below is known */
	uint32_t syn_seq;
	uint32_t syn_count; /* SYNs (with retransmissions) sent by the initiator */
	/* the initiator sent a segment that is neither a SYN (with or without data:
	 * TCP Fast Open) nor a RST: it went on past its handshake */
	bool orig_past_syn;
	/* the responder answered: a packet that is not a RST, nor a bare ACK to an
	 * initiator that sent only SYNs (a challenge ACK, RFC 5961: no SYN-ACK) */
	bool resp_answer;
	uint8_t ttl[2];   /* TTL of the first packet in each direction */
	uint8_t rst_from; /* 0 none, 1 initiator, 2 responder */
	/* the responder's resets all came while the initiator sent only SYNs, and
	 * none acknowledged its SYN (no ACK, or another number): the initiator, in
	 * SYN-SENT, drops them (RFC 9293 3.10.7.3): no refusal */
	bool rst_ignored;
	/* a reset from the responder shaped as the refusal of a SYN (RFC 9293
	 * 3.10.7.1: RST and ACK, sequence number 0), not the end of a connection */
	bool rst_refusal;
	uint8_t rst_ttl;
	uint16_t icmp_id;
	uint8_t icmp_type, icmp_code; /* first message, for display */
	/* ICMP errors quoting this session (e.g. destination unreachable) */
	uint32_t icmp_errors;
	uint8_t icmp_err_type, icmp_err_code, icmp_err_ttl;
	struct sm_addr icmp_err_from;
	enum sm_tunnel tunnel;
	struct sm_addr outer_src, outer_dst;
	/* start_seq[] below is known: the side's first packet was its SYN */
	bool start_known[2];
	/* the side's last segment came in IP fragments: how long it was, its first
	 * fragment did not say (the next segment's sequence number does) */
	bool frag_open[2];
	/* next_seq was taken from a segment without data (picked up mid-stream): a
	 * keepalive's sequence number is one below the next byte (RFC 9293 3.8.4) */
	bool seq_from_bare[2];
	/* uid: this session's number in the table, in creation order from 1;
	 * tunnel_parent: the uid of the session that carried its first packet
	 * (the UDP, GRE or IP-in-IP flow of the tunnel), 0 if none */
	uint64_t uid, tunnel_parent;
	int64_t syn_ns;  /* when the initiator's first SYN was seen */
	uint32_t source; /* capture source of the first packet */
	uint32_t slot;   /* its place in the table, unique among the sessions in it */
	/* what the payload is (enum sm_app per direction) and what was read of it,
	 * set through sm_session_set_app() and sm_session_set_switch() */
	uint8_t app[2];
	bool app_checked; /* payload checks ran on this session */
	/* sm_app_may_switch() of app[0] and app_detail, kept with them: the
	 * payload checks ask on every packet, without reading the detail; false
	 * once the watch for a switch ended (found, or nothing in its segments) */
	bool app_may_switch;
	uint8_t tls_watch; /* the payload checks' own count of initiator segments
	                    * still looked at for a switch to TLS */
	bool hello_kept;   /* and they keep the start of a hello for its rest */
	uint8_t nholes[2]; /* of hole_lo[] below */
	/* what was read of it (NULL: nothing), up to SM_APP_DETAIL_MAX bytes; kept
	 * out of the slot: owned by the session, freed when it leaves the table */
	char *app_detail;
	/* capture loss: bytes of sequence space never seen, per direction */
	uint64_t missed[2];
	uint32_t next_seq[2];
	/* holes not yet filled, oldest first: [lo, hi) holding hole_missing bytes
	 * never seen (less than hi - lo once two holes were merged into one) */
	uint32_t hole_lo[2][SM_SESSION_HOLES], hole_hi[2][SM_SESSION_HOLES];
	uint32_t hole_missing[2][SM_SESSION_HOLES];
	/* the sequence number of a side's first byte of data (its SYN's + 1), when
	 * the side's first packet was its SYN (start_known): where its first bytes
	 * start */
	uint32_t start_seq[2];
	/* a stall (sm_session_stalled): the highest acknowledgement each side sent,
	 * and how often a side resent the first byte its peer had not acknowledged
	 * since that acknowledgement last moved (at most 255), its longest segment */
	uint32_t ack_hi[2];
	uint16_t stall_len[2];
	/* Other VLAN tags it is seen with (docs/verdicts.md "Sessions"): packets
	 * tagged vlan/inner_vlan from its side dirs (bit 0: the initiator's, bit 1:
	 * the responder's) at sensor (SM_ALIAS_ANY_SENSOR: any) are its packets too:
	 * a span of a routed hop shows each direction on the VLAN it came in on, and
	 * another sensor the conversation on that site's VLAN. */
	struct sm_vlan_alias {
		int16_t vlan, inner_vlan;
		uint8_t dirs, sensor;
	} alias[SM_SESSION_ALIASES];
	/* per sensor, with several (NULL with one): owned, freed when it leaves */
	struct sm_sightings *sight;
};

/* The protocol the session speaks: a recognised one (sm_app_is_protocol), from
 * the initiator's side first, else APP_UNKNOWN or APP_UNVERIFIED; APP_NONE if no
 * payload was looked at. */
enum sm_app sm_session_app_kind(const struct sm_session *s);
/* Its name (sm_app_name: "tls", "unknown", "unverified", ...), NULL for APP_NONE. */
const char *sm_session_app(const struct sm_session *s);
/* A TCP session one side of which resent the first byte its peer had not
 * acknowledged SM_STALL_RESENT times or more, and that byte was never
 * acknowledged (by the session's end, or the capture's): its data did not get
 * through (a path MTU black hole drops its large segments; or the receiver went
 * away).  A window probe, sent into a zero window, is no resend.  *len: the
 * longest segment resent so. */
#define SM_STALL_RESENT 3
/* dir_flags[]: ack_hi[] is known; the last ACK of that number offered a zero
 * window; the direction's packets came with more than one TTL (ttl[] is the
 * first's): seen at two hops (a span of both ports of a router), or by two paths */
#define SM_DIR_ACK_KNOWN  1
#define SM_DIR_WIN_ZERO   2
#define SM_DIR_TTL_VARIES 4
bool sm_session_stalled(const struct sm_session *s, uint32_t *len);
/* Zeek's conn_state name: S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH. */
const char *sm_session_state(const struct sm_session *s);
/* The longest time one side of s sent nothing while s lasted (its last packets
 * included: a side silent to the end), and in *from when that began; 0: none. */
int64_t sm_session_silence(const struct sm_session *s, int64_t *from);
/* A completed handshake or replies seen (docs/verdicts.md "established"); not a
 * SYN-ACK that did not reach the initiator (sm_session_synack_unheard). */
bool sm_session_established(const struct sm_session *s);
/* A TCP handshake the responder answered with a SYN-ACK that never reached the
 * initiator: it sent only SYNs, and either nothing more (the answer was dropped on
 * its way back) or, having sent its SYN again, a reset of the SYN-ACK when one got
 * through at last (its connect() had given up).  One SYN answered and reset at once
 * is a port check, answered. */
bool sm_session_synack_unheard(const struct sm_session *s);
const char *sm_proto_name(uint8_t proto, char *buf, size_t len);

/* ---- what the payload checks learn (payload.c, through reasm for libnids) ---- */

/* Payload checks looked at s: payload nobody recognised is then "unknown" or
 * "unverified" rather than nothing. */
void sm_session_mark_checked(struct sm_session *s);
/* Side dir of s speaks app; detail (NULL or "" = none) is what was read of it.
 * The initiator's detail is the one kept; a TLS ServerHello's choice joins the
 * ClientHello's offer ("...; ServerHello chose 1.2").  Out of memory keeps the
 * detail s had. */
void sm_session_set_app(struct sm_session *s, int dir, enum sm_app app, const char *detail);
/* The initiator switched to TLS after what it sent first (STARTTLS, CONNECT):
 * hello (NULL: none read) joins the detail as "...; then <hello>". */
void sm_session_set_switch(struct sm_session *s, const char *hello);

typedef void (*sm_session_emit_fn)(void *ctx, const struct sm_session *s, enum sm_session_end why);
/* A session about to leave the table (before emit): the last moment to decide
 * what it still waits for (the payload checks). */
typedef void (*sm_session_done_fn)(void *ctx, struct sm_session *s);

struct sm_session_opts {
	uint32_t max_sessions;
	int64_t tcp_timeout_ns; /* idle timeout of an open TCP session */
	int64_t tcp_close_ns;   /* how long a closed TCP session waits for stragglers */
	int64_t udp_timeout_ns;
	int64_t other_timeout_ns; /* ICMP and other protocols */
	/* Ports a server listens on (bit per port), used to pick the initiator of a
	 * session picked up mid-stream; may be NULL. */
	const uint8_t *service_ports;
	sm_session_done_fn done; /* may be NULL; called with the emit callback's ctx */
	/* Sensors of the run (pkt->sensor < nsensors); 0 or 1: one, no sightings. */
	uint8_t nsensors;
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
/* Where a packet went: its session (NULL when none: an ICMP error counted in
 * the session it quotes) and its direction there (0 from the initiator).  s is
 * the table's: valid until the next call on the table. */
struct sm_session_hit {
	struct sm_session *s;
	int dir;
	bool copy; /* the packet was already seen at another sensor: counted there only */
};
/* Accounts one decoded packet: first each datagram that carried it through a
 * tunnel (pkt->outer, a session of its own), then the packet itself, in the
 * session linked to its carrier.  *hit (may be NULL) says where it went.
 * SM_ERR_NOMEM when a new session could not be made (the caller words it). */
enum sm_err sm_session_packet(struct sm_session_table *t, const struct sm_packet *pkt,
                              struct sm_session_hit *hit);
/* Accounts only the carrying datagrams of a packet the decoder holds (an inner
 * fragment waiting for its first): they were on the wire all the same.
 * SM_ERR_NOMEM as sm_session_packet. */
enum sm_err sm_session_carriers(struct sm_session_table *t, const struct sm_packet *pkt);
/* Ask the CPU for what a packet with this key will read, so that it arrives
 * while the packets before it are worked on; they change nothing.  Two steps,
 * a packet apart: the hash bucket (two packets ahead), whose number it returns,
 * then the session that bucket leads to (one packet ahead; the key is not hashed
 * again, and a bucket the table has since moved only fetches the wrong lines). */
uint32_t sm_session_prefetch_bucket(const struct sm_session_table *t, const struct sm_flow_key *k);
void sm_session_prefetch(const struct sm_session_table *t, uint32_t bucket);
/* Moves the clock on without a packet (live capture on a quiet link): sessions
 * idle longer than their timeout leave the table. */
void sm_session_advance(struct sm_session_table *t, int64_t now_ns);
/* Emits every session still open (END_FLUSH). */
void sm_session_flush(struct sm_session_table *t);
/* Calls fn for every session still open, leaving them in the table, each as the
 * end of the capture now would leave it (a checkpoint: cut by the end, SM_EDGE_END,
 * if its answer may still come). */
void sm_session_foreach(struct sm_session_table *t, sm_session_emit_fn fn, void *ctx);
void sm_session_stats(const struct sm_session_table *t, struct sm_session_stats *out);

#endif
