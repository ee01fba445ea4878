#define _GNU_SOURCE /* memmem */
#include "smaudit/app.h"

#include <stdio.h>
#include <string.h>

#include "smaudit/err.h"

/* Appends printable text of p[0..n) to detail. */
static void
put_text(char *detail, size_t dlen, const char *prefix, const uint8_t *p, size_t n)
{
	if (detail == NULL || dlen == 0)
		return;
	size_t o = strlen(detail);
	if (*prefix)
		o += (size_t)snprintf(detail + o, o < dlen ? dlen - o : 0, "%s", prefix);
	for (size_t i = 0; i < n && o + 1 < dlen; i++)
		detail[o++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	if (o < dlen)
		detail[o] = '\0';
}

static uint32_t
be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A key=value from an iSCSI login text segment ("key=value\0..."). */
static void
iscsi_key(const uint8_t *seg, size_t n, const char *key, char *detail, size_t dlen)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < n;) {
		size_t e = i;
		while (e < n && seg[e] != 0)
			e++;
		if (e - i > kl && memcmp(seg + i, key, kl) == 0 && seg[i + kl] == '=') {
			put_text(detail, dlen, detail && *detail ? " " : "", seg + i, e - i);
			return;
		}
		i = e + 1;
	}
}

/*
 * iSCSI as RFC 7143 frames it.  A stream opens with a Login request (the
 * initiator) or a Login response (the target): a Basic Header Segment of 48
 * bytes whose reserved fields are zero, version 0, and a data segment of
 * "key=value\0" pairs.  Any other first PDU counts only when a second valid
 * BHS starts exactly where the first PDU's framing ends.  Many protocols'
 * first bytes pass an opcode check alone (SMTP's "EHLO" is a Data-Out).
 */
enum { BHS_LEN = 48, LOGIN_TEXT_MAX = 8192, ISCSI_KEY_MAX = 63 };

#define BHS_BYTE(i)     (UINT64_C(1) << (i))
#define BHS_BYTES(a, b) ((BHS_BYTE((b) + 1) - 1) & ~(BHS_BYTE(a) - 1))

/* What one opcode's BHS allows (RFC 7143 section 11). */
struct bhs_rule {
	uint8_t op;
	bool immediate; /* the I bit may be set: a request numbered by CmdSN */
	uint8_t set;    /* bits of byte 1 that must be set (F of single-PDU opcodes) */
	uint8_t free;   /* bits of byte 1 that may be either */
	uint64_t zero;  /* reserved bytes: bit i set = byte i is 0 */
};

static const struct bhs_rule initiator_bhs[] = {
    {0x00, true, 0x80, 0x00, BHS_BYTES(2, 3) | BHS_BYTES(32, 47)}, /* NOP-Out */
    {0x01, true, 0x00, 0xe7, BHS_BYTES(2, 3)},                     /* SCSI Command */
    {0x02, true, 0x80, 0x7f, BHS_BYTES(2, 7) | BHS_BYTES(40, 47)}, /* Task Management */
    {0x03, true, 0x00, 0xcf,
     BHS_BYTES(2, 3) | BHS_BYTES(22, 23) | BHS_BYTES(32, 47)},     /* Login: version 0 */
    {0x04, true, 0x00, 0xc0, BHS_BYTES(2, 3) | BHS_BYTES(32, 47)}, /* Text */
    {0x05, false, 0x00, 0x80,
     BHS_BYTES(2, 3) | BHS_BYTES(24, 27) | BHS_BYTES(32, 35) | BHS_BYTES(44, 47)}, /* Data-Out */
    {0x06, true, 0x80, 0x7f, BHS_BYTES(2, 15) | BHS_BYTES(22, 23) | BHS_BYTES(32, 47)}, /* Logout */
    {0x10, false, 0x80, 0x0f, BHS_BYTES(2, 3) | BHS_BYTES(24, 27) | BHS_BYTES(32, 39)}, /* SNACK */
    {0x1c, true, 0x00, 0xff, 0}, /* vendor specific */
};

static const struct bhs_rule target_bhs[] = {
    {0x20, false, 0x80, 0x00, BHS_BYTES(2, 3) | BHS_BYTES(36, 47)}, /* NOP-In */
    {0x21, false, 0x80, 0x1e, BHS_BYTES(8, 15)},                    /* SCSI Response */
    {0x22, false, 0x80, 0x00,
     BHS_BYTES(3, 15) | BHS_BYTES(20, 23) | BHS_BYTES(36, 47)}, /* Task Management */
    {0x23, false, 0x00, 0xcf,
     BHS_BYTES(2, 3) | BHS_BYTES(20, 23) | BHS_BYTES(38, 47)},      /* Login: version 0 */
    {0x24, false, 0x00, 0xc0, BHS_BYTES(2, 3) | BHS_BYTES(36, 47)}, /* Text */
    {0x25, false, 0x00, 0xc7, BHS_BYTE(2)},                         /* SCSI Data-In */
    {0x26, false, 0x80, 0x00,
     BHS_BYTES(3, 15) | BHS_BYTES(20, 23) | BHS_BYTES(36, 39) | BHS_BYTES(44, 47)}, /* Logout */
    {0x31, false, 0x80, 0x00, BHS_BYTES(2, 7)},                                     /* R2T */
    {0x32, false, 0x80, 0x00,
     BHS_BYTES(2, 3) | BHS_BYTES(20, 23) | BHS_BYTES(44, 47)}, /* Asynchronous Message */
    {0x3c, false, 0x00, 0xff, 0},                              /* vendor specific */
    {0x3f, false, 0x80, 0x00,
     BHS_BYTE(3) | BHS_BYTES(8, 15) | BHS_BYTES(20, 23) | BHS_BYTES(40, 47)}, /* Reject */
};

enum bhs_check { BHS_BAD, BHS_PART, BHS_OK };

/* Checks the len bytes of a BHS that have arrived (all 48 or fewer). */
static enum bhs_check
bhs_check(const uint8_t *p, size_t len, bool initiator)
{
	const struct bhs_rule *rules = initiator ? initiator_bhs : target_bhs;
	size_t nrules = initiator ? sizeof(initiator_bhs) / sizeof(initiator_bhs[0])
	                          : sizeof(target_bhs) / sizeof(target_bhs[0]);
	const struct bhs_rule *r = NULL;
	if (len == 0)
		return BHS_PART;
	for (size_t i = 0; i < nrules; i++)
		if (rules[i].op == (p[0] & 0x3f))
			r = &rules[i];
	if (r == NULL || (p[0] & 0x80) != 0 || ((p[0] & 0x40) != 0 && !r->immediate))
		return BHS_BAD;
	size_t n = len < BHS_LEN ? len : BHS_LEN;
	if (n > 1 && (p[1] & ~r->free) != r->set)
		return BHS_BAD;
	for (size_t i = 2; i < n; i++)
		if ((r->zero >> i & 1) != 0 && p[i] != 0)
			return BHS_BAD;
	if (n > 1 && (r->op == 0x03 || r->op == 0x23)) {
		/* Transit and Continue together, or the reserved stage 2 */
		bool transit = p[1] & 0x80, cont = p[1] & 0x40;
		if ((transit && cont) || (p[1] >> 2 & 3) == 2 || (transit && (p[1] & 3) == 2))
			return BHS_BAD;
	}
	if (n > 1 && (r->op == 0x04 || r->op == 0x24) && (p[1] & 0xc0) == 0xc0)
		return BHS_BAD; /* Final and Continue together */
	return len < BHS_LEN ? BHS_PART : BHS_OK;
}

/* Where the PDU whose BHS is at p ends, with or without digests. */
static size_t
pdu_len(const uint8_t *p, bool header_digest, bool data_digest)
{
	size_t data = be24(p + 5);
	return BHS_LEN + (size_t)p[4] * 4 + (header_digest ? 4 : 0) + ((data + 3) & ~(size_t)3) +
	       (data_digest && data > 0 ? 4 : 0);
}

static bool
iscsi_key_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '+' || c == '@' || c == '_';
}

/*
 * A login data segment: t[0..n) of its dsl bytes have arrived.  BHS_OK when
 * it is whole and made of key=value pairs each ending in a NUL (zero bytes
 * after the last pair are tolerated), BHS_PART while what arrived is such a
 * prefix (*pairs complete ones), BHS_BAD otherwise.
 */
static enum bhs_check
login_text(const uint8_t *t, size_t n, size_t dsl, size_t *pairs)
{
	*pairs = 0;
	size_t i = 0;
	while (i < n) {
		if (t[i] == 0) { /* padding counted in the length: only zeros may follow */
			if (*pairs == 0)
				return BHS_BAD;
			while (i < n && t[i] == 0)
				i++;
			if (i < n)
				return BHS_BAD;
			break;
		}
		size_t k = i;
		while (k < n && iscsi_key_char(t[k]))
			k++;
		if (k == n)
			return k - i <= ISCSI_KEY_MAX && n < dsl ? BHS_PART : BHS_BAD;
		if (t[k] != '=' || k == i || k - i > ISCSI_KEY_MAX)
			return BHS_BAD;
		size_t v = k + 1;
		while (v < n && t[v] >= 0x20 && t[v] != 0x7f)
			v++;
		if (v == n)
			return n < dsl ? BHS_PART : BHS_BAD;
		if (t[v] != 0)
			return BHS_BAD;
		(*pairs)++;
		i = v + 1;
	}
	if (n < dsl)
		return BHS_PART;
	return *pairs > 0 ? BHS_OK : BHS_BAD;
}

/* A Login request or response: its BHS is valid; the text decides. */
static enum sm_app
iscsi_login(const uint8_t *p, size_t len)
{
	size_t dsl = be24(p + 5), seg = BHS_LEN + (size_t)p[4] * 4, pairs;
	/* A response with no keys (a login reject, or nothing left to negotiate) is
	 * its header alone, valid with its sixteen reserved zero bytes; a first
	 * request always names its initiator. */
	if (dsl == 0)
		return (p[0] & 0x3f) == 0x23 ? APP_ISCSI : APP_UNKNOWN;
	if (dsl > LOGIN_TEXT_MAX)
		return APP_UNKNOWN;
	if (len <= seg)
		return len < SM_APP_WANT ? APP_MORE : APP_UNKNOWN;
	switch (login_text(p + seg, len - seg < dsl ? len - seg : dsl, dsl, &pairs)) {
	case BHS_OK:
		return APP_ISCSI;
	case BHS_PART:
		if (len < SM_APP_WANT)
			return APP_MORE;
		return pairs > 0 ? APP_ISCSI : APP_UNKNOWN;
	default:
		return APP_UNKNOWN;
	}
}

/* Vendor-specific opcodes fix no field: two of them in a row prove nothing. */
static bool
bhs_vendor(uint8_t b0)
{
	return (b0 & 0x3f) == 0x1c || (b0 & 0x3f) == 0x3c;
}

/* Any other first PDU: a second valid BHS where its framing ends, with header
 * and data digests (negotiated at login, unseen here) or without. */
static enum sm_app
iscsi_framing(const uint8_t *p, size_t len, bool client)
{
	bool more = false;
	for (int digests = 0; digests < 4; digests++) {
		size_t next = pdu_len(p, digests & 1, digests & 2);
		if (next >= len) {
			more = true;
			continue;
		}
		enum bhs_check c = bhs_check(p + next, len - next, client);
		if (c == BHS_OK && !(bhs_vendor(p[0]) && bhs_vendor(p[next])))
			return APP_ISCSI;
		more = more || c == BHS_PART;
	}
	return more && len < SM_APP_WANT ? APP_MORE : APP_UNKNOWN;
}

static enum sm_app
iscsi(const uint8_t *p, size_t len, bool client, char *detail, size_t dlen)
{
	enum bhs_check c = bhs_check(p, len, client);
	if (c != BHS_OK)
		return c == BHS_PART ? APP_MORE : APP_UNKNOWN;
	uint8_t op = p[0] & 0x3f;
	bool login = op == 0x03 || op == 0x23;
	enum sm_app a = login ? iscsi_login(p, len) : iscsi_framing(p, len, client);
	if (a != APP_ISCSI)
		return a;
	if (detail && dlen)
		snprintf(detail, dlen, "%s",
		         login ? (client ? "Login request" : "Login response") : "iSCSI PDU");
	if (op == 0x03) {
		size_t seg = BHS_LEN + (size_t)p[4] * 4, dsl = be24(p + 5);
		size_t n = seg < len ? len - seg : 0;
		iscsi_key(p + seg, n < dsl ? n : dsl, "InitiatorName", detail, dlen);
		iscsi_key(p + seg, n < dsl ? n : dsl, "TargetName", detail, dlen);
	}
	return APP_ISCSI;
}

/* "1.3", "SSL 3.0", "SSL 2.0", "1.3 draft 28" or the number. */
static void
tls_version(uint16_t v, char *buf, size_t len)
{
	if (v == 0x0002 || v == 0x0300)
		snprintf(buf, len, "SSL %d.0", v == 0x0002 ? 2 : 3);
	else if (v >= 0x0301 && v <= 0x0304)
		snprintf(buf, len, "1.%d", v - 0x0301);
	else if ((v >> 8) == 0x7f)
		snprintf(buf, len, "1.3 draft %u", v & 0xffu);
	else
		snprintf(buf, len, "0x%04x", v);
}

/* Order of versions for "highest": drafts of 1.3 sit between 1.2 and 1.3;
 * GREASE (RFC 8701) and unknown values rank below everything. */
static int
tls_version_rank(uint16_t v)
{
	if (v >= 0x0300 && v <= 0x0304)
		return 2 * (v - 0x0300);
	if ((v >> 8) == 0x7f)
		return 2 * (0x0303 - 0x0300) + 1;
	return -1;
}

/* What a ClientHello or ServerHello says: legacy version, supported_versions
 * (highest offered or the one chosen), SNI. */
struct tls_hello {
	uint16_t legacy, version; /* version: 0 without supported_versions */
	const uint8_t *sni;
	size_t sni_len;
};

/* supported_versions: a list in a ClientHello, the choice in a ServerHello. */
static void
tls_supported_versions(const uint8_t *e, size_t n, bool client, struct tls_hello *h)
{
	if (!client) {
		if (n >= 2)
			h->version = be16(e);
		return;
	}
	if (n < 1)
		return;
	size_t end = 1 + (size_t)e[0] < n ? 1 + (size_t)e[0] : n;
	for (size_t o = 1; o + 2 <= end; o += 2) {
		uint16_t v = be16(e + o);
		if (tls_version_rank(v) >= 0 &&
		    (h->version == 0 || tls_version_rank(v) > tls_version_rank(h->version)))
			h->version = v;
	}
}

/* Parses a hello body b[0..n) (after the 4-byte handshake header); what is cut
 * off is simply not reported. */
static void
tls_hello(const uint8_t *b, size_t n, bool client, struct tls_hello *h)
{
	memset(h, 0, sizeof(*h));
	if (n < 2)
		return;
	h->legacy = be16(b);
	size_t o = 2 + 32; /* version, random */
	if (o + 1 > n)
		return;
	o += 1 + b[o]; /* session id */
	if (client) {
		if (o + 2 > n)
			return;
		o += 2 + be16(b + o); /* cipher suites */
		if (o + 1 > n)
			return;
		o += 1 + b[o]; /* compression methods */
	} else {
		o += 2 + 1; /* the cipher suite and compression method chosen */
	}
	if (o + 2 > n)
		return;
	size_t end = o + 2 + be16(b + o);
	o += 2;
	if (end > n)
		end = n;
	while (o + 4 <= end) {
		uint16_t type = be16(b + o), elen = be16(b + o + 2);
		o += 4;
		size_t avail = o + elen <= end ? elen : end - o;
		if (type == 0 && client && avail >= 5 && b[o + 2] == 0) {
			size_t nl = be16(b + o + 3);
			if (5 + nl <= avail) {
				h->sni = b + o + 5;
				h->sni_len = nl;
			}
		} else if (type == 43) {
			tls_supported_versions(b + o, avail, client, h);
		}
		o += elen;
	}
}

/* "TLS ClientHello offers up to 1.3, SNI example.com", "TLS ServerHello chose 1.2". */
static void
tls_hello_detail(const struct tls_hello *h, bool client, char *detail, size_t dlen)
{
	if (detail == NULL || dlen == 0)
		return;
	char ver[24];
	tls_version(h->version ? h->version : h->legacy, ver, sizeof(ver));
	snprintf(detail, dlen, "TLS %s %s",
	         client ? "ClientHello offers up to" : "ServerHello chose", ver);
	if (h->sni != NULL)
		put_text(detail, dlen, ", SNI ", h->sni, h->sni_len);
}

/* An SSL 2.0-format ClientHello offering SSL 2.0, or SSL 3.0 to TLS 1.2 (RFC
 * 5246 appendix E.2): a 2-byte record header with the top bit set, CLIENT-HELLO, the version. */
static enum sm_app
tls_sslv2_client_hello(const uint8_t *p, size_t len, char *detail, size_t dlen)
{
	if (len < 5)
		return len < 3 || p[2] == 1 ? APP_MORE : APP_UNKNOWN;
	uint16_t v = be16(p + 3);
	if (p[2] != 1 || (v != 0x0002 && (v < 0x0300 || v > 0x0303)) ||
	    (((p[0] & 0x7fu) << 8) | p[1]) < 9)
		return APP_UNKNOWN;
	if (detail && dlen) {
		char ver[24];
		tls_version(v, ver, sizeof(ver));
		snprintf(detail, dlen, "TLS ClientHello (SSL 2.0 format) offers up to %s", ver);
	}
	return APP_TLS;
}

static enum sm_app
tls(const uint8_t *p, size_t len, bool client, char *detail, size_t dlen)
{
	if (client && (p[0] & 0x80) != 0)
		return tls_sslv2_client_hello(p, len, detail, dlen);
	if (p[0] < 0x14 || p[0] > 0x17 || (len > 1 && p[1] != 3) || (len > 2 && p[2] > 4))
		return APP_UNKNOWN;
	if (len < 6)
		return APP_MORE;
	if (p[0] < 0x14 || p[0] > 0x17 || p[1] != 3 || p[2] > 4 || be16(p + 3) > 16384 + 2048)
		return APP_UNKNOWN;
	if (p[0] != 0x16) { /* alert, change cipher spec or data first: still TLS */
		char ver[24];
		tls_version(be16(p + 1), ver, sizeof(ver));
		if (detail && dlen)
			snprintf(detail, dlen, "TLS %s record type %u", ver, p[0]);
		return APP_TLS;
	}
	uint8_t hs = p[5];
	if (hs != 1 && hs != 2)
		return APP_UNKNOWN;
	/* The hello ends with the handshake message or the record, whichever is
	 * first; its extensions (versions, SNI) may be anywhere in it. */
	size_t rec = be16(p + 3);
	size_t end = 5 + rec;
	if (len >= 9 && 9 + (size_t)be24(p + 6) < end)
		end = 9 + (size_t)be24(p + 6);
	if (len < end && len < SM_APP_TLS_WANT)
		return APP_MORE;
	size_t have = len < end ? len : end;
	struct tls_hello h;
	tls_hello(have > 9 ? p + 9 : p, have > 9 ? have - 9 : 0, hs == 1, &h);
	tls_hello_detail(&h, hs == 1, detail, dlen);
	return APP_TLS;
}

/* The length of the first line without its CR LF in *n; false while no end of line
 * has arrived and fewer than limit bytes have (more may complete it). */
static bool
first_line(const uint8_t *p, size_t len, size_t limit, size_t *n)
{
	const uint8_t *eol = memchr(p, '\n', len);
	if (eol == NULL && len < limit)
		return false;
	*n = eol ? (size_t)(eol - p) : len;
	if (*n > 0 && p[*n - 1] == '\r')
		(*n)--;
	return true;
}

static enum sm_app
ssh(const uint8_t *p, size_t len, bool client, char *detail, size_t dlen)
{
	(void)client; /* both sides send the banner */
	if (len < 4)
		return memcmp(p, "SSH-", len) == 0 ? APP_MORE : APP_UNKNOWN;
	if (memcmp(p, "SSH-", 4) != 0)
		return APP_UNKNOWN;
	size_t n;
	if (!first_line(p, len, 255, &n))
		return APP_MORE;
	if (detail && dlen)
		detail[0] = '\0';
	put_text(detail, dlen, "", p, n);
	return APP_SSH;
}

static enum sm_app
http(const uint8_t *p, size_t len, bool client, char *detail, size_t dlen)
{
	static const char *const methods[] = {"GET ",     "POST ",  "PUT ",     "DELETE ", "HEAD ",
	                                      "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};
	bool start = false;
	if (client) {
		for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
			size_t ml = strlen(methods[i]);
			if (len < ml && memcmp(p, methods[i], len) == 0)
				return APP_MORE;
			if (len >= ml && memcmp(p, methods[i], ml) == 0)
				start = true;
		}
	} else {
		if (len < 8)
			return memcmp(p, "HTTP/1.", len < 7 ? len : 7) == 0 ? APP_MORE
			                                                    : APP_UNKNOWN;
		start = memcmp(p, "HTTP/1.", 7) == 0 || memcmp(p, "HTTP/2 ", 7) == 0;
	}
	if (!start)
		return APP_UNKNOWN;
	size_t n;
	if (!first_line(p, len, 512, &n))
		return APP_MORE;
	if (client && (n < 9 || memmem(p, n, " HTTP/", 6) == NULL))
		return APP_UNKNOWN;
	if (detail && dlen)
		detail[0] = '\0';
	put_text(detail, dlen, "", p, n > 120 ? 120 : n);
	return APP_HTTP;
}

/*
 * The recognisers, in the order they are asked: the first that says what the
 * bytes are wins.  Each takes one side's first bytes and answers its protocol,
 * APP_MORE (a longer prefix could still say yes) or APP_UNKNOWN, filling
 * detail when it recognises.  A new protocol is an enum sm_app value (app.h),
 * its function above and one line here.
 */
static const struct recogniser {
	enum sm_app app;
	const char *name; /* in rules (app=NAME), the database and reports */
	enum sm_app (*detect)(const uint8_t *p, size_t len, bool client, char *detail, size_t dlen);
	bool own_wait; /* may want more than SM_APP_WANT bytes: bounds its wait itself */
} recognisers[] = {
    {APP_TLS, "tls", tls, true},
    {APP_HTTP, "http", http, false},
    {APP_SSH, "ssh", ssh, false},
    {APP_ISCSI, "iscsi", iscsi, false},
};
#define NRECOGNISERS (sizeof(recognisers) / sizeof(recognisers[0]))

const char *
sm_app_name(enum sm_app a)
{
	if (a == APP_UNKNOWN)
		return "unknown";
	if (a == APP_UNVERIFIED)
		return "unverified";
	for (size_t i = 0; i < NRECOGNISERS; i++)
		if (recognisers[i].app == a)
			return recognisers[i].name;
	return NULL;
}

enum sm_app
sm_app_parse(const char *name)
{
	for (size_t i = 0; i < NRECOGNISERS; i++)
		if (strcmp(name, recognisers[i].name) == 0)
			return recognisers[i].app;
	return APP_NONE;
}

enum sm_app
sm_app_at(size_t i)
{
	return i < NRECOGNISERS ? recognisers[i].app : APP_NONE;
}

bool
sm_app_is_protocol(enum sm_app a)
{
	for (size_t i = 0; i < NRECOGNISERS; i++)
		if (recognisers[i].app == a)
			return true;
	return false;
}

enum sm_app
sm_app_detect(const uint8_t *p, size_t len, bool client, char *detail, size_t dlen)
{
	if (detail && dlen)
		detail[0] = '\0';
	if (len == 0)
		return APP_MORE;
	bool more = false;
	for (size_t i = 0; i < NRECOGNISERS; i++) {
		enum sm_app a = recognisers[i].detect(p, len, client, detail, dlen);
		if (a == APP_MORE && recognisers[i].own_wait && len >= SM_APP_WANT)
			return a; /* e.g. a TLS hello longer than SM_APP_WANT */
		if (a == APP_MORE)
			more = true;
		else if (a != APP_UNKNOWN)
			return a;
	}
	if (detail && dlen)
		detail[0] = '\0';
	return more && len < SM_APP_WANT ? APP_MORE : APP_UNKNOWN;
}

enum sm_app
sm_app_decide(const uint8_t *p, size_t len, bool client, char *detail, size_t dlen)
{
	enum sm_app a = sm_app_detect(p, len, client, detail, dlen);
	if (a != APP_MORE)
		return a;
	/* a hello cut short by the end of the stream is TLS all the same: read
	 * what arrived of it */
	if (len >= 6 && p[0] == 0x16 && p[1] == 3 && p[2] <= 4 && (p[5] == 1 || p[5] == 2)) {
		struct tls_hello h;
		tls_hello(len > 9 ? p + 9 : p, len > 9 ? len - 9 : 0, p[5] == 1, &h);
		tls_hello_detail(&h, p[5] == 1, detail, dlen);
		return APP_TLS;
	}
	/* bytes that could still have been a protocol's, had more come: not read to
	 * a decision, so not "unknown" (which a rule naming a protocol reports) */
	if (detail && dlen)
		detail[0] = '\0';
	return APP_UNVERIFIED;
}

/* Whether the first bytes of p are text (printable ASCII, tabs, line ends). */
static bool
text_start(const uint8_t *p, size_t len)
{
	size_t n = len < 8 ? len : 8;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\t' || p[i] == '\r' ||
		      p[i] == '\n'))
			return false;
	return n > 0;
}

enum sm_app
sm_app_answer_to_tls(enum sm_app a, const uint8_t *p, size_t len, char *detail, size_t dlen)
{
	if (sm_app_is_protocol(a) || len < 2)
		return a;
	if (!text_start(p, len)) /* binary: an SSL 2.0 record, a server's own error bytes */
		return a == APP_UNKNOWN ? APP_UNVERIFIED : a;
	if (detail != NULL && dlen > 0) {
		detail[0] = '\0';
		put_text(detail, dlen, "", p, len < 40 ? len : 40);
	}
	return APP_UNKNOWN;
}

bool
sm_app_may_switch(enum sm_app a, const char *detail)
{
	return a == APP_UNKNOWN || (a == APP_HTTP && strncmp(detail, "CONNECT ", 8) == 0);
}

bool
sm_app_find_hello(const uint8_t *p, size_t len, size_t *at, char *detail, size_t dlen)
{
	for (size_t i = 0; i + 6 <= len; i++) {
		/* a handshake record's first byte, found by memchr (it reads a word
		 * at a time): most of what is scanned is bulk data */
		const uint8_t *h = memchr(p + i, 0x16, len - 5 - i);
		if (h == NULL)
			break;
		i = (size_t)(h - p);
		if (p[i + 1] != 3 || p[i + 2] > 4 || p[i + 5] != 1)
			continue;
		enum sm_app a = sm_app_detect(p + i, len - i, true, detail, dlen);
		*at = i;
		if (a == APP_TLS)
			return true;
		if (a == APP_MORE)
			return false; /* *at: where a hello not yet whole starts */
	}
	*at = len;
	return false;
}
