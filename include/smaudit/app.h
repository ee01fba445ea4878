/*
 * app: what protocol a TCP stream really speaks, from the first bytes each
 * side sent: iSCSI (an RFC 7143 Login with key=value text, or two PDUs whose
 * framing lines up; names from a Login
 * request), TLS (record and handshake headers; version and SNI of a
 * ClientHello), SSH (banner) and HTTP.  Pure functions over a byte range;
 * the callers (reasm for IPv4 via libnids, payload for the rest) feed them.
 * Own recognisers, not nDPI (libndpi in Debian): four protocols judged from their
 * first bytes with the version and names they carry, bounds-checked and fuzzed here;
 * nDPI's per-flow heuristics over hundreds of protocols change between its releases,
 * which would change verdicts with no change to smaudit.
 */
#ifndef SMAUDIT_APP_H
#define SMAUDIT_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sm_app {
	APP_NONE = 0,   /* no payload looked at */
	APP_MORE,       /* not enough bytes yet to say */
	APP_UNKNOWN,    /* payload seen, none of the protocols below */
	APP_UNVERIFIED, /* payload seen mid-stream (no handshake): not checked */
	/* the recognised protocols, each a line of the recognisers table of app.c
	 * (their order here means nothing: sm_app_is_protocol() says which is one) */
	APP_ISCSI,
	APP_TLS,
	APP_SSH,
	APP_HTTP,
};

/* Whether a side's answer is in: any value but APP_NONE and APP_MORE. */
static inline bool
sm_app_answered(enum sm_app a)
{
	return a != APP_NONE && a != APP_MORE;
}

/* A protocol's name from the recognisers table ("iscsi", "tls", ...),
 * "unknown", "unverified"; NULL for none/more.  Rules (app=NAME), the
 * database and the reports all use these names. */
const char *sm_app_name(enum sm_app a);
/* The longest of those names, with its NUL (the database row keeps it). */
#define SM_APP_NAME_MAX 16
/* Parses a recognised protocol's name (a rule's app=); APP_NONE if unknown. */
enum sm_app sm_app_parse(const char *name);
/* The i-th recognised protocol, in the order they are asked; APP_NONE past
 * the last.  How callers list them (e.g. in an error message). */
enum sm_app sm_app_at(size_t i);
/* Whether a is a recognised protocol, not none, more, unknown or unverified. */
bool sm_app_is_protocol(enum sm_app a);

/*
 * Recognises the first len bytes one side of a stream sent (client = the
 * initiator).  Returns APP_MORE while a longer prefix could still change the
 * answer and len < SM_APP_WANT, or for a TLS hello until its whole handshake
 * message arrived and len < SM_APP_TLS_WANT.  detail (may be NULL) receives what
 * was read: "InitiatorName=... TargetName=...", "TLS ClientHello offers up to 1.3,
 * SNI example.com" (the highest version in supported_versions, else the legacy
 * one), "TLS ServerHello chose 1.2", the SSH banner or the HTTP request/status
 * line, printable ASCII only.
 */
#define SM_APP_WANT       1024
#define SM_APP_TLS_WANT   (5 + 16384) /* a record header and 16 KB of hello */
#define SM_APP_DETAIL_MAX 512         /* the longest detail, with its NUL */
enum sm_app sm_app_detect(const uint8_t *p, size_t len, bool client, char *detail, size_t dlen);
/* The same when no more bytes will come (the stream ended, a gap came, or a
 * limit was reached): never APP_MORE.  A TLS hello cut short is TLS, with what
 * arrived of it; any other prefix that more bytes could still have made a
 * protocol is APP_UNVERIFIED (APP_UNKNOWN stays for bytes that name none). */
enum sm_app sm_app_decide(const uint8_t *p, size_t len, bool client, char *detail, size_t dlen);

/* What a server whose client sent a TLS hello answered, a: what its first bytes
 * p were recognised as.  TLS is records from the first byte (RFC 8446 5.1), none
 * of which starts with text: a text answer that recognises as no protocol (an
 * HTML page with no status line, an SMTP banner on 465) is APP_UNKNOWN, the port
 * runs something else, even where a recogniser would still wait; detail: its
 * printable start.  A binary answer that names no protocol is APP_UNVERIFIED,
 * not read to a decision (an SSL 2.0 record, a server's own error bytes).  A
 * protocol's answer is a. */
enum sm_app sm_app_answer_to_tls(enum sm_app a, const uint8_t *p, size_t len, char *detail,
                                 size_t dlen);

/* A client side that may still switch to TLS after what it sent first: one
 * that named no protocol (STARTTLS, STLS, AUTH TLS, SSLRequest) or an HTTP
 * CONNECT through a proxy. */
bool sm_app_may_switch(enum sm_app a, const char *detail);
/* How many more deliveries (segments) of such a client are looked at for it. */
#define SM_APP_SWITCH_WATCH 32
/* Looks for a whole TLS ClientHello starting anywhere in p: true and its
 * detail when found (*at: where); false with *at where a hello that is not yet
 * whole starts, or len when there is none. */
bool sm_app_find_hello(const uint8_t *p, size_t len, size_t *at, char *detail, size_t dlen);

#endif
