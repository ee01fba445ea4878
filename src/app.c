#define _GNU_SOURCE /* memmem */
#include "smaudit/app.h"

#include <stdio.h>
#include <string.h>

#include "smaudit/err.h"

const char *
sm_app_name(enum sm_app a)
{
	switch (a) {
	case APP_UNKNOWN:
		return "unknown";
	case APP_UNVERIFIED:
		return "unverified";
	case APP_ISCSI:
		return "iscsi";
	case APP_TLS:
		return "tls";
	case APP_SSH:
		return "ssh";
	case APP_HTTP:
		return "http";
	default:
		return NULL;
	}
}

enum sm_app
sm_app_parse(const char *name)
{
	for (int a = APP_ISCSI; a <= APP_HTTP; a++)
		if (strcmp(name, sm_app_name((enum sm_app)a)) == 0)
			return (enum sm_app)a;
	return APP_NONE;
}

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

static enum sm_app
iscsi(const uint8_t *p, size_t len, bool client, char *detail, size_t dlen)
{
	uint8_t op = p[0] & 0x3f;
	static const uint8_t init_ops[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10};
	static const uint8_t target_ops[] = {0x20, 0x21, 0x22, 0x23, 0x24,
	                                     0x25, 0x26, 0x31, 0x32, 0x3f};
	const uint8_t *ops = client ? init_ops : target_ops;
	size_t nops = client ? sizeof(init_ops) : sizeof(target_ops);
	if ((p[0] & 0x80) != 0 || (!client && (p[0] & 0x40) != 0) || memchr(ops, op, nops) == NULL)
		return APP_UNKNOWN;
	if (len < 48)
		return APP_MORE;
	uint32_t dsl = be24(p + 5);
	if (p[4] > 64 || dsl > (1u << 24) - 1)
		return APP_UNKNOWN;
	bool login = op == 0x03 || op == 0x23;
	if (login && (p[2] != 0 || p[3] != 0)) /* version-max/min (active): only 0 exists */
		return APP_UNKNOWN;
	if (detail && dlen)
		snprintf(detail, dlen, "%s",
		         client ? (login ? "Login request" : "iSCSI PDU")
		                : (login ? "Login response" : "iSCSI PDU"));
	if (op == 0x03) {
		size_t seg = 48 + (size_t)p[4] * 4;
		size_t n = seg < len ? len - seg : 0;
		if (n > dsl)
			n = dsl;
		iscsi_key(p + seg, n, "InitiatorName", detail, dlen);
		iscsi_key(p + seg, n, "TargetName", detail, dlen);
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
ssh(const uint8_t *p, size_t len, char *detail, size_t dlen)
{
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

enum sm_app
sm_app_detect(const uint8_t *p, size_t len, bool client, char *detail, size_t dlen)
{
	if (detail && dlen)
		detail[0] = '\0';
	if (len == 0)
		return APP_MORE;
	enum sm_app (*const text[])(const uint8_t *, size_t, bool, char *, size_t) = {tls, http};
	bool more = false;
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		enum sm_app a = text[i](p, len, client, detail, dlen);
		if (a == APP_MORE && text[i] == tls && len >= SM_APP_WANT)
			return a; /* a hello longer than SM_APP_WANT: tls() bounds its wait */
		if (a == APP_MORE)
			more = true;
		else if (a != APP_UNKNOWN)
			return a;
	}
	enum sm_app a = ssh(p, len, detail, dlen);
	if (a == APP_MORE)
		more = true;
	else if (a != APP_UNKNOWN)
		return a;
	a = iscsi(p, len, client, detail, dlen);
	if (a == APP_MORE)
		more = true;
	else if (a != APP_UNKNOWN)
		return a;
	if (detail && dlen)
		detail[0] = '\0';
	return more && len < SM_APP_WANT ? APP_MORE : APP_UNKNOWN;
}
