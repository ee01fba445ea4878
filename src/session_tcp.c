/*
 * session_tcp: the TCP conversation of a session and what its payload is.
 * Zeek's endpoint states and conn_state names, the history letters, the
 * close, and the holes in each direction's sequence space (capture loss);
 * then the protocol results the payload checks put in (sm_session_set_app),
 * with the detail text each session owns.  The table (session.c) calls in.
 */
#include "session_tcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- naming the conversation ---- */

/* Zeek's test for RSTOS0: the history opens with the initiator's SYN ('^'
 * aside) and reaches its RST with no handshake, ACK, FIN or odd flags on the
 * way (letters H A F G I Q). */
static bool
syn_then_rst_only(const char *h)
{
	if (*h == '^')
		h++;
	if (*h++ != 'S')
		return false;
	for (; *h != '\0'; h++) {
		if (*h == 'R')
			return true;
		if (strchr("HAFGIQ", *h) != NULL)
			return false;
	}
	return false;
}

const char *
sm_session_state(const struct sm_session *s)
{
	if (s->proto == SM_PROTO_UDP) {
		if (s->pkts[0] > 0)
			return s->pkts[1] > 0 ? "SF" : "S0";
		return s->pkts[1] > 0 ? "SHR" : "OTH";
	}
	if (s->proto != SM_PROTO_TCP)
		return "OTH";
	/* Zeek's conn_state() over the endpoint states. */
	uint8_t os = s->state[0], rs = s->state[1];
	bool o_inactive = os == EP_INACTIVE || os == EP_PARTIAL;
	bool r_inactive = rs == EP_INACTIVE || rs == EP_PARTIAL;
	if (rs == EP_RESET) {
		if (os == EP_SYN_SENT || os == EP_SYN_ACK_SENT ||
		    (os == EP_RESET && s->payload[0] == 0 && s->payload[1] == 0))
			return "REJ";
		return o_inactive ? "RSTRH" : "RSTR";
	}
	if (os == EP_RESET) {
		if (!r_inactive)
			return "RSTO";
		if (syn_then_rst_only(s->history))
			return "RSTOS0";
		return "OTH";
	}
	if (rs == EP_CLOSED && os == EP_CLOSED)
		return "SF";
	if (os == EP_CLOSED)
		return r_inactive ? "SH" : "S2";
	if (rs == EP_CLOSED)
		return o_inactive ? "SHR" : "S3";
	if (os == EP_SYN_SENT && rs == EP_INACTIVE)
		return "S0";
	if (os == EP_ESTABLISHED && rs == EP_ESTABLISHED)
		return "S1";
	return "OTH";
}

bool
sm_session_synack_unheard(const struct sm_session *s)
{
	if (s->proto != SM_PROTO_TCP || !s->syn_seen || s->orig_past_syn ||
	    (s->history_seen & SM_HIST_RESP_BIT(SM_HIST_SYN_ACK)) == 0)
		return false;
	if ((s->history_seen & SM_HIST_ORIG_BIT(SM_HIST_RST)) == 0)
		return true; /* only SYNs: the SYN-ACK never came */
	return s->syn_count > 1 && s->payload[0] == 0 && s->payload[1] == 0;
}

bool
sm_session_established(const struct sm_session *s)
{
	if (s->pkts[0] == 0 || s->pkts[1] == 0)
		return false;
	if (s->proto == SM_PROTO_TCP)
		return s->resp_answer && !sm_session_synack_unheard(s);
	return true;
}

/* ---- one segment ---- */

/* Records a history letter once per direction (upper case from the initiator). */
static void
history_add(struct sm_session *s, int dir, char letter, enum sm_history_bit bit)
{
	uint16_t mask = (uint16_t)(dir ? SM_HIST_RESP_BIT(bit) : SM_HIST_ORIG_BIT(bit));
	if (s->history_seen & mask)
		return;
	s->history_seen |= mask;
	size_t n = strlen(s->history);
	if (n + 1 < sizeof(s->history)) {
		s->history[n] = dir ? (char)(letter - 'A' + 'a') : letter;
		s->history[n + 1] = '\0';
	}
}

/* Removes hole k of direction dir. */
static void
hole_remove(struct sm_session *s, int dir, uint8_t k)
{
	for (uint8_t i = k; i + 1 < s->nholes[dir]; i++) {
		s->hole_lo[dir][i] = s->hole_lo[dir][i + 1];
		s->hole_hi[dir][i] = s->hole_hi[dir][i + 1];
		s->hole_missing[dir][i] = s->hole_missing[dir][i + 1];
	}
	s->nholes[dir]--;
}

/* Opens the hole [lo, hi) of direction dir.  With every slot taken, the two
 * neighbours closest together become one hole spanning both (the bytes between
 * them were seen: the merged hole still counts only its own missing bytes), so
 * heavy reordering never leaves bytes counted missed that arrive later. */
static void
hole_open(struct sm_session *s, int dir, uint32_t lo, uint32_t hi)
{
	uint8_t n = s->nholes[dir];
	if (n == SM_SESSION_HOLES) {
		uint8_t best = (uint8_t)(n - 1); /* the last hole with the new one */
		uint32_t gap = lo - s->hole_hi[dir][n - 1];
		for (uint8_t i = 0; i + 1 < n; i++)
			if (s->hole_lo[dir][i + 1] - s->hole_hi[dir][i] < gap) {
				gap = s->hole_lo[dir][i + 1] - s->hole_hi[dir][i];
				best = i;
			}
		if (best == n - 1) {
			s->hole_hi[dir][best] = hi;
			s->hole_missing[dir][best] += hi - lo;
			return;
		}
		s->hole_hi[dir][best] = s->hole_hi[dir][best + 1];
		s->hole_missing[dir][best] += s->hole_missing[dir][best + 1];
		hole_remove(s, dir, (uint8_t)(best + 1));
		n = s->nholes[dir];
	}
	s->hole_lo[dir][n] = lo;
	s->hole_hi[dir][n] = hi;
	s->hole_missing[dir][n] = hi - lo;
	s->nholes[dir] = (uint8_t)(n + 1);
}

/* Holes in one direction's sequence space: a segment beyond the highest byte
 * seen opens one, a later segment inside it fills it (reordering).  Bytes of a
 * hole are counted missed until they arrive. */
static void
track_gaps(struct sm_session *s, int dir, const struct sm_packet *pkt)
{
	uint32_t seq = pkt->seq + ((pkt->tcp_flags & TH_SYN) ? 1u : 0u);
	uint32_t end = seq + pkt->payload_len;
	if (!s->seq_known[dir]) {
		s->seq_known[dir] = true;
		s->next_seq[dir] = end;
		s->start_known[dir] = (pkt->tcp_flags & TH_SYN) != 0;
		s->frag_open[dir] = pkt->fragment;
		s->start_seq[dir] = seq;
		s->seq_from_bare[dir] =
		    pkt->payload_len == 0 && !(pkt->tcp_flags & (TH_SYN | TH_FIN));
		return;
	}
	if (pkt->payload_len == 0 && !(pkt->tcp_flags & TH_FIN))
		return; /* a FIN marks the end of the data: bytes before it missing are missed */
	int32_t ahead = (int32_t)(seq - s->next_seq[dir]);
	if (s->seq_from_bare[dir] && ahead == 1)
		ahead = 0; /* the first segment seen was a keepalive probe */
	s->seq_from_bare[dir] = false;
	if (s->frag_open[dir] && ahead > 0)
		ahead = 0; /* the rest of a segment sent in IP fragments: no TCP header tells its
		              length */
	s->frag_open[dir] = pkt->fragment;
	if (ahead > 0) { /* as tshark's "previous segment not captured", however far */
		s->missed[dir] += (uint64_t)ahead;
		hole_open(s, dir, s->next_seq[dir], seq);
	} else if (ahead < 0) {
		for (uint8_t k = 0; k < s->nholes[dir];) {
			uint32_t lo = s->hole_lo[dir][k], hi = s->hole_hi[dir][k];
			if ((int32_t)(end - lo) <= 0 || (int32_t)(hi - seq) <= 0) {
				k++;
				continue; /* no overlap */
			}
			uint32_t a = (int32_t)(seq - lo) > 0 ? seq : lo;
			uint32_t b = (int32_t)(hi - end) > 0 ? end : hi;
			uint32_t got =
			    b - a < s->hole_missing[dir][k] ? b - a : s->hole_missing[dir][k];
			s->missed[dir] -= got;
			s->hole_missing[dir][k] -= got;
			if (a == lo)
				s->hole_lo[dir][k] = b;
			else if (b == hi)
				s->hole_hi[dir][k] = a;
			/* a fill in the middle: the hole keeps its ends, fewer bytes missing */
			if (s->hole_missing[dir][k] == 0 ||
			    s->hole_lo[dir][k] == s->hole_hi[dir][k])
				hole_remove(s, dir, k);
			else
				k++;
		}
	}
	if ((int32_t)(end - s->next_seq[dir]) > 0)
		s->next_seq[dir] = end;
}

/* Moves the sending endpoint (and at times its peer) through Zeek's TCP
 * endpoint states, state by state as Zeek's TCP analyzer does, so that
 * sm_session_state() names the connection as Zeek's conn.log would. */
static void
endpoint_update(struct sm_session *s, int dir, uint8_t f, uint32_t payload_len)
{
	uint8_t *me = &s->state[dir], *peer = &s->state[!dir];
	bool syn = f & TH_SYN, ack = f & TH_ACK, fin = f & TH_FIN, rst = f & TH_RST;
	switch (*me) {
	case EP_INACTIVE:
		if (syn && dir == 0) {
			*me = ack ? EP_SYN_ACK_SENT : EP_SYN_SENT;
		} else if (syn) {
			/* the responder's SYN(-ACK) completes the handshake for both */
			if (*peer == EP_SYN_SENT)
				*peer = EP_ESTABLISHED;
			*me = EP_ESTABLISHED;
		}
		if (fin)
			*me = EP_CLOSED;
		if (rst)
			*me = EP_RESET;
		if (*me != EP_INACTIVE)
			break;
		if (dir == 1 && payload_len == 0 && *peer == EP_SYN_SENT)
			break; /* a bare ACK ahead of the SYN-ACK forms nothing */
		/* An ACK answering a SYN-ACK whose SYN was missed completes the
		 * handshake; anything else joins a conversation under way. */
		*me = ack && *peer == EP_ESTABLISHED ? EP_ESTABLISHED : EP_PARTIAL;
		break;
	case EP_SYN_SENT:
	case EP_SYN_ACK_SENT:
		if (fin)
			*me = EP_CLOSED;
		if (rst)
			*me = EP_RESET;
		break;
	case EP_ESTABLISHED:
	case EP_PARTIAL:
		if (syn && !ack && *me == EP_PARTIAL && *peer == EP_INACTIVE)
			*me = EP_SYN_SENT;
		if (fin && !rst) {
			/* a FIN answering a peer that sent FIN then RST makes that RST
			 * part of a normal close */
			if (*peer == EP_RESET && s->rst_after_fin[!dir])
				*peer = EP_CLOSED;
			*me = EP_CLOSED;
		}
		if (rst)
			*me = EP_RESET;
		break;
	case EP_CLOSED:
		/* Once both sides sent their FIN the connection closed normally; a RST
		 * after that (a client aborting its half-closed socket) changes
		 * nothing. */
		if (rst && *peer != EP_CLOSED) {
			*me = EP_RESET;
			s->rst_after_fin[dir] = true;
		}
		break;
	default: /* EP_RESET is final */
		break;
	}
}

/* Zeek's close_complete: a side's first FIN or RST completes the close when it
 * is a RST, when the other side closed before, or when the other side never
 * sent anything; the conversation then ends tcp_close_ns later. */
static void
note_close(struct sm_session *s, int dir, uint8_t f, int64_t ts_ns)
{
	if (!(f & (TH_FIN | TH_RST)) || s->did_close[dir])
		return;
	s->did_close[dir] = true;
	if (s->close_ns == 0 &&
	    ((f & TH_RST) || s->did_close[!dir] || s->state[!dir] == EP_INACTIVE))
		s->close_ns = ts_ns;
}

/* A session that opens past an attempt made before it (after_attempt in
 * session.h): with the responder's SYN-ACK or RST, which acknowledge the
 * attempt's ISN + 1, or with the initiator's next segment, sequence ISN + 1. */
static void
note_opening(struct sm_session *s, int dir, const struct sm_packet *pkt)
{
	uint8_t f = pkt->tcp_flags;
	if (s->history_seen != 0 || !(f & TH_ACK))
		return;
	bool answer = dir == 1 && (f & (TH_SYN | TH_RST));
	bool next = dir == 0 && !(f & (TH_SYN | TH_RST));
	if (answer || next) {
		s->after_attempt = true;
		s->syn_seq = (answer ? pkt->ack : pkt->seq) - 1;
	}
}

/* A reset from the responder: rst_ignored in session.h.  What an initiator in
 * SYN-SENT accepts acknowledges its SYN: ISN + 1, up to the Fast Open data its
 * SYNs carried. */
static void
note_reset(struct sm_session *s, const struct sm_packet *pkt)
{
	bool first = (s->history_seen & SM_HIST_RESP_BIT(SM_HIST_RST)) == 0;
	bool syn_sent = s->syn_seen && !s->orig_past_syn;
	bool acceptable = (pkt->tcp_flags & TH_ACK) && pkt->ack - (s->syn_seq + 1) <= s->payload[0];
	if (!syn_sent || acceptable)
		s->rst_ignored = false;
	else if (first)
		s->rst_ignored = true;
}

/* A side's acknowledgements and the window they offer, and its segments that
 * resend the first byte its peer has not acknowledged (before track_gaps moves
 * next_seq past them).  A segment sent into a zero window is a window probe (RFC
 * 9293 3.8.6.1: one byte, resent until the receiver reads again), no stall. */
static void
note_stall(struct sm_session *s, int dir, const struct sm_packet *pkt)
{
	uint8_t f = pkt->tcp_flags;
	if ((f & (TH_ACK | TH_RST)) == TH_ACK) {
		int32_t ahead = (int32_t)(pkt->ack - s->ack_hi[dir]);
		if (ahead > 0 || !(s->dir_flags[dir] & SM_DIR_ACK_KNOWN)) {
			s->ack_hi[dir] = pkt->ack;
			ahead = 0;
			if (s->stall_rtx[!dir] != 0) { /* the peer's data goes through */
				s->stall_rtx[!dir] = 0;
				s->stall_len[!dir] = 0;
			}
		}
		if (ahead == 0) /* the window the latest acknowledgement offers */
			s->dir_flags[dir] =
			    (uint8_t)((s->dir_flags[dir] & SM_DIR_TTL_VARIES) | SM_DIR_ACK_KNOWN |
			              (pkt->tcp_win == 0 ? SM_DIR_WIN_ZERO : 0));
	}
	if (pkt->payload_len == 0 || pkt->seq != s->ack_hi[!dir] ||
	    (s->dir_flags[!dir] & (SM_DIR_ACK_KNOWN | SM_DIR_WIN_ZERO)) != SM_DIR_ACK_KNOWN ||
	    (f & (TH_SYN | TH_RST)) || !s->seq_known[dir] ||
	    (int32_t)(pkt->seq - s->next_seq[dir]) >= 0)
		return;
	if (s->stall_rtx[dir] < UINT8_MAX)
		s->stall_rtx[dir]++;
	if (pkt->payload_len > s->stall_len[dir])
		s->stall_len[dir] =
		    pkt->payload_len < UINT16_MAX ? (uint16_t)pkt->payload_len : UINT16_MAX;
}

bool
sm_session_stalled(const struct sm_session *s, uint32_t *len)
{
	for (int d = 0; s->proto == SM_PROTO_TCP && d < 2; d++)
		if (s->stall_rtx[d] >= SM_STALL_RESENT && (s->dir_flags[!d] & SM_DIR_ACK_KNOWN) &&
		    (int32_t)(s->next_seq[d] - s->ack_hi[!d]) > 0) {
			*len = s->stall_len[d];
			return true;
		}
	return false;
}

void
sm_tcp_packet(struct sm_session *s, int dir, const struct sm_packet *pkt)
{
	note_opening(s, dir, pkt);
	note_stall(s, dir, pkt);
	track_gaps(s, dir, pkt);
	uint8_t f = pkt->tcp_flags;
	endpoint_update(s, dir, f, pkt->payload_len);
	note_close(s, dir, f, pkt->ts_ns);
	if (f & TH_RST) {
		if (dir == 1) {
			note_reset(s, pkt);
			s->rst_refusal |= (f & TH_ACK) && pkt->seq == 0;
		}
		history_add(s, dir, 'R', SM_HIST_RST);
		if (s->rst_from == 0) {
			s->rst_from = (uint8_t)(dir + 1);
			s->rst_ttl = pkt->ttl;
		}
		return;
	}
	if (dir == 0 && !(f & TH_SYN))
		s->orig_past_syn = true;
	bool bare_ack = !(f & (TH_SYN | TH_FIN)) && pkt->payload_len == 0;
	if (dir == 1 && !(bare_ack && s->syn_seen && !s->orig_past_syn))
		s->resp_answer = true;
	if ((f & TH_SYN) && !(f & TH_ACK)) {
		history_add(s, dir, 'S', SM_HIST_SYN);
		if (dir == 0) {
			s->syn_count++;
			if (!s->syn_seen) {
				s->syn_seen = true;
				s->syn_seq = pkt->seq;
				s->syn_ns = pkt->ts_ns;
			}
		}
	} else if ((f & TH_SYN) && (f & TH_ACK)) {
		history_add(s, dir, 'H', SM_HIST_SYN_ACK);
	}
	if (pkt->payload_len > 0)
		history_add(s, dir, 'D', SM_HIST_DATA);
	else if ((f & (TH_SYN | TH_FIN | TH_RST)) == 0 && (f & TH_ACK))
		history_add(s, dir, 'A', SM_HIST_ACK);
	if (f & TH_FIN)
		history_add(s, dir, 'F', SM_HIST_FIN);
}

/* The soonest a new ISN from the same port is a new attempt, not a copy. */
#define RETRY_NS (SM_SEC / 5)

bool
sm_tcp_port_reuse(const struct sm_session *s, int dir, const struct sm_packet *pkt)
{
	uint8_t f = pkt->tcp_flags;
	if (!pkt->l4_header || !(f & TH_SYN) || (f & TH_ACK))
		return false;
	/* The SYN the session's first answer acknowledged, taken no later than the
	 * session's last packet: its own opening, read after the rest (records of
	 * two directions in two files of millisecond times, equal at a tie). */
	if (dir == 0 && !s->syn_seen && s->after_attempt && pkt->seq == s->syn_seq &&
	    pkt->ts_ns <= s->last_ns)
		return false;
	bool closed = s->state[0] == EP_RESET || s->state[1] == EP_RESET ||
	              s->state[0] == EP_CLOSED || s->state[1] == EP_CLOSED;
	/* After a close any SYN is a new attempt, even with the sequence number of
	 * the last one (a client retrying after a RST), as Zeek counts them. */
	if (closed)
		return true;
	if (dir != 0 || !s->syn_seen || s->syn_seq == pkt->seq)
		return false; /* a retransmitted SYN */
	/* A new ISN on a session that carried data: the old one ended unseen.  On
	 * one whose initiator sent only SYNs: the attempt failed, and the
	 * application tries again from the same port (RFC 9293: a new ISN is no
	 * retransmission), unless it comes so soon after the first SYN that it is
	 * a middlebox's copy with its own ISN (a firewall randomising sequence
	 * numbers, both sides spanned). */
	return s->payload[0] > 0 || s->payload[1] > 0 ||
	       (!s->orig_past_syn && pkt->ts_ns - s->syn_ns >= RETRY_NS);
}

bool
sm_tcp_closed(const struct sm_session *s)
{
	return s->state[0] == EP_RESET || s->state[1] == EP_RESET ||
	       (s->state[0] == EP_CLOSED && s->state[1] == EP_CLOSED);
}

/* Zeek's tcp_attempt_delay: an initiator whose SYN the responder left without
 * any answer for this long has made an attempt that ended; what it sends next
 * starts another session (a SYN retransmitted later too). */
#define ATTEMPT_NS (5 * SM_SEC)

bool
sm_tcp_attempt_over(const struct sm_session *s, int64_t now)
{
	return s->proto == SM_PROTO_TCP && s->syn_seen && s->state[1] == EP_INACTIVE &&
	       (s->state[0] == EP_SYN_SENT || s->state[0] == EP_SYN_ACK_SENT) &&
	       now - s->syn_ns >= ATTEMPT_NS;
}

/* ---- what the payload is ---- */

/* Protocols whose servers answer only in kind (RFC 8446 5: TLS is records from
 * the first byte; an iSCSI target sends PDUs), so that a server whose first bytes
 * name nothing runs something else on the port.  Not SSH: a server may send
 * lines before its version string (RFC 4253 4.2). */
static bool
answered_in_kind(enum sm_app client)
{
	return client == APP_TLS || client == APP_ISCSI;
}

enum sm_app
sm_session_app_kind(const struct sm_session *s)
{
	/* The responder's side first: it is what runs on the port.  A TLS client
	 * answered by an SSH banner or an HTTP 400 speaks to a port that does not
	 * run TLS (a Mediator started without it). */
	if (s->app[1] == APP_UNKNOWN && answered_in_kind((enum sm_app)s->app[0]))
		return APP_UNKNOWN; /* a TLS or iSCSI client answered in no protocol */
	for (int d = 1; d >= 0; d--)
		if (sm_app_is_protocol((enum sm_app)s->app[d]))
			return (enum sm_app)s->app[d];
	if (s->app[0] == APP_UNKNOWN || s->app[1] == APP_UNKNOWN)
		return APP_UNKNOWN;
	if (!s->app_checked || s->payload[0] + s->payload[1] == 0 || s->proto != SM_PROTO_TCP)
		return APP_NONE;
	/* Payload whose first bytes nobody read: a side read and recognised as nothing
	 * is APP_UNKNOWN above.  Here they were not in the capture (picked up mid-way,
	 * lost before they were reassembled) or their stream was dropped undecided
	 * (a full reassembly table): not verified, not a different protocol. */
	return APP_UNVERIFIED;
}

const char *
sm_session_app(const struct sm_session *s)
{
	return sm_app_name(sm_session_app_kind(s));
}

void
sm_session_mark_checked(struct sm_session *s)
{
	s->app_checked = true;
}

/* Replaces the detail of s; out of memory keeps the one it had. */
static void
set_detail(struct sm_session *s, const char *text)
{
	size_t n = strnlen(text, SM_APP_DETAIL_MAX - 1);
	char *d = malloc(n + 1);
	if (d == NULL)
		return;
	memcpy(d, text, n);
	d[n] = '\0';
	free(s->app_detail);
	s->app_detail = d;
}

/* A TLS ServerHello's choice follows the ClientHello's offer in one detail:
 * "TLS ClientHello offers up to 1.3, SNI x; ServerHello chose 1.2". */
static bool
join_tls_detail(struct sm_session *s, int dir, const char *detail)
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
	set_detail(s, joined);
	return true;
}

static void
recheck_switch(struct sm_session *s)
{
	s->app_may_switch =
	    sm_app_may_switch((enum sm_app)s->app[0], s->app_detail ? s->app_detail : "");
}

/* Two sides naming two protocols (or a server answering a TLS or iSCSI client in
 * none): both first bytes, the client's first, in one
 * detail: "TLS ClientHello offers up to 1.3; answered: SSH-2.0-dropbear". */
static bool
join_other_detail(struct sm_session *s, int dir, const char *detail)
{
	enum sm_app mine = (enum sm_app)s->app[dir], other = (enum sm_app)s->app[dir ^ 1];
	enum sm_app client = dir == 0 ? mine : other, server = dir == 0 ? other : mine;
	bool two = sm_app_is_protocol(mine) && sm_app_is_protocol(other) && other != mine;
	bool unanswered = server == APP_UNKNOWN && answered_in_kind(client);
	if (!(two || unanswered) || s->app_detail == NULL)
		return false;
	const char *cl = dir == 0 ? detail : s->app_detail, *sv = dir == 0 ? s->app_detail : detail;
	char joined[2 * SM_APP_DETAIL_MAX + 16]; /* cut to SM_APP_DETAIL_MAX by set_detail */
	snprintf(joined, sizeof(joined), "%s; answered: %s", cl, sv);
	set_detail(s, joined);
	return true;
}

void
sm_session_set_app(struct sm_session *s, int dir, enum sm_app app, const char *detail)
{
	s->app[dir] = (uint8_t)app;
	if (detail != NULL && detail[0] != '\0' && !join_tls_detail(s, dir, detail) &&
	    !join_other_detail(s, dir, detail) && (dir == 0 || s->app_detail == NULL))
		set_detail(s, detail);
	recheck_switch(s);
}

void
sm_session_set_switch(struct sm_session *s, const char *hello)
{
	char joined[2 * SM_APP_DETAIL_MAX + 16];
	snprintf(joined, sizeof(joined), "%s%sthen %s", s->app_detail ? s->app_detail : "",
	         s->app_detail ? "; " : "", hello ? hello : "TLS");
	set_detail(s, joined);
	s->app_may_switch = false; /* switched: nothing more to watch for */
}
