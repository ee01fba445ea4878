/* Recognisers of app.c on byte strings: what they accept, what they refuse,
 * when they wait for more, and that lengths in the data are never trusted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smaudit/app.h"

static enum sm_app
detect(const void *p, size_t n, bool client, char *detail)
{
	return sm_app_detect(p, n, client, detail, 96);
}

static void
iscsi_login_names(void **state)
{
	(void)state;
	uint8_t b[48 + 64];
	memset(b, 0, sizeof(b));
	const char text[] = "InitiatorName=iqn.a:1\0TargetName=iqn.b:2\0";
	b[0] = 0x43;
	b[1] = 0x87;
	b[7] = sizeof(text) - 1;
	memcpy(b + 48, text, sizeof(text) - 1);
	char d[96];
	assert_int_equal(detect(b, 48 + sizeof(text) - 1, true, d), APP_ISCSI);
	assert_string_equal(d, "Login request InitiatorName=iqn.a:1 TargetName=iqn.b:2");
	assert_int_equal(detect(b, 20, true, d), APP_MORE); /* a BHS is 48 bytes */
	b[0] = 0x23;                                        /* a login response */
	assert_int_equal(detect(b, 48, false, d), APP_ISCSI);
	assert_int_equal(detect(b, 48, true, d), APP_UNKNOWN); /* not from an initiator */
	b[0] = 0x43;
	b[2] = 7; /* version 7 does not exist */
	assert_int_equal(detect(b, 48, true, d), APP_UNKNOWN);
}

static void
iscsi_data_length_not_trusted(void **state)
{
	(void)state;
	uint8_t b[60];
	memset(b, 0, sizeof(b));
	b[0] = 0x43;
	b[5] = 0xff; /* claims 16 MB of text; only 12 bytes are there */
	b[6] = 0xff;
	b[7] = 0xff;
	memcpy(b + 48, "InitiatorNam", 12);
	char d[96];
	assert_int_equal(detect(b, sizeof(b), true, d), APP_ISCSI);
	assert_string_equal(d, "Login request");
}

static const uint8_t hello[] = {
    0x16, 0x03, 0x01, 0x00, 0x3d, /* record: handshake, TLS 1.0, 61 */
    0x01, 0x00, 0x00, 0x39,       /* ClientHello, 57 */
    0x03, 0x03, 0,    0,    0,    0,    0,    0,    0,    0,   0,   0,   0,   0, /* version,
                                                                                    random... */
    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,   0,   0,   0,   0,  0,
    0,    0,    0,    0,    0,    0x00, /* session id */
    0x00, 0x02, 0x13, 0x01,             /* cipher suites */
    0x01, 0x00,                         /* compression */
    0x00, 0x0e,                         /* extensions: 14 */
    0x00, 0x00, 0x00, 0x0a, 0x00, 0x08, 0x00, 0x00, 0x05, 'm', 'e', 'd', '.', 'x'};

static void
tls_client_hello_sni(void **state)
{
	(void)state;
	char d[96];
	assert_int_equal(detect(hello, sizeof(hello), true, d), APP_TLS);
	assert_string_equal(d, "TLS ClientHello offers up to 1.2, SNI med.x");
	/* the record is longer than what arrived: wait for the rest (SNI) */
	assert_int_equal(detect(hello, 30, true, d), APP_MORE);
	uint8_t bad[sizeof(hello)];
	memcpy(bad, hello, sizeof(hello));
	bad[1] = 0x02; /* record version 2.x is not TLS */
	assert_int_equal(detect(bad, sizeof(bad), true, d), APP_UNKNOWN);
	memcpy(bad, hello, sizeof(hello));
	bad[sizeof(hello) - 6] = 0x40; /* name length beyond the data */
	assert_int_equal(detect(bad, sizeof(bad), true, d), APP_TLS);
	assert_string_equal(d, "TLS ClientHello offers up to 1.2");
}

/* A ClientHello body: legacy version 1.2, no session id, one suite, then exts. */
static size_t
client_hello(uint8_t *b, size_t cap, const uint8_t *ext, size_t elen)
{
	size_t hl = 2 + 32 + 1 + 4 + 2 + 2 + elen;
	size_t n = 9 + hl;
	assert_true(n <= cap);
	memset(b, 0, n);
	b[0] = 0x16, b[1] = 3, b[2] = 1;
	b[3] = (uint8_t)((hl + 4) >> 8), b[4] = (uint8_t)(hl + 4);
	b[5] = 1, b[6] = (uint8_t)(hl >> 16), b[7] = (uint8_t)(hl >> 8), b[8] = (uint8_t)hl;
	b[9] = 3, b[10] = 3;
	uint8_t *q = b + 9 + 2 + 32 + 1;
	q[0] = 0, q[1] = 2, q[2] = 0x13, q[3] = 0x01, q[4] = 1, q[5] = 0;
	q[6] = (uint8_t)(elen >> 8), q[7] = (uint8_t)elen;
	memcpy(q + 8, ext, elen);
	return n;
}

static void
tls_offers_supported_versions(void **state)
{
	(void)state;
	/* GREASE, 1.3, 1.2 in supported_versions; then the SNI */
	static const uint8_t ext[] = {0x00, 0x2b, 0x00, 0x07, 0x06, 0x0a, 0x0a, 0x03, 0x04,
	                              0x03, 0x03, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x08, 0x00,
	                              0x00, 0x05, 'm',  'e',  'd',  '.',  'x'};
	uint8_t b[128];
	size_t n = client_hello(b, sizeof(b), ext, sizeof(ext));
	char d[96];
	assert_int_equal(detect(b, n, true, d), APP_TLS);
	assert_string_equal(d, "TLS ClientHello offers up to 1.3, SNI med.x");
}

static void
tls_server_hello_chooses(void **state)
{
	(void)state;
	static const uint8_t sh[] = {
	    0x16, 0x03, 0x03, 0x00, 0x3a, /* record: handshake, 58 */
	    0x02, 0x00, 0x00, 0x36,       /* ServerHello, 54 */
	    0x03, 0x03, 0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0,    0,    0,    0,    0,    0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0, /* random */
	    0x00,                                           /* session id */
	    0x13, 0x01,                                     /* cipher suite */
	    0x00,                                           /* compression */
	    0x00, 0x0e,                                     /* extensions: 14 */
	    0x00, 0x33, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x00, /* key_share (truncated) */
	    0x00, 0x2b, 0x00, 0x02, 0x03, 0x04};            /* supported_versions: 1.3 */
	char d[96];
	assert_int_equal(detect(sh, sizeof(sh), false, d), APP_TLS);
	assert_string_equal(d, "TLS ServerHello chose 1.3");
	uint8_t legacy[sizeof(sh)];
	memcpy(legacy, sh, sizeof(sh));
	legacy[sizeof(sh) - 5] = 0x2c; /* supported_versions becomes another extension */
	assert_int_equal(detect(legacy, sizeof(legacy), false, d), APP_TLS);
	assert_string_equal(d, "TLS ServerHello chose 1.2");
}

/* Old clients open with an SSL 2.0-format ClientHello that offers TLS (RFC 5246
 * appendix E.2); tshark reads its version. */
static void
tls_sslv2_format_client_hello(void **state)
{
	(void)state;
	static const uint8_t v2[] = {0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00,
	                             0x00, 0x10, 0x00, 0x00, 0x39, 0x00, 0x00, 0x38};
	char d[96];
	assert_int_equal(detect(v2, sizeof(v2), true, d), APP_TLS);
	assert_string_equal(d, "TLS ClientHello (SSL 2.0 format) offers up to 1.0");
	assert_int_equal(detect(v2, 3, true, d), APP_MORE);
	assert_int_equal(detect(v2, sizeof(v2), false, d), APP_UNKNOWN); /* servers answer in TLS */
	uint8_t ssl2[sizeof(v2)];
	memcpy(ssl2, v2, sizeof(v2));
	ssl2[3] = 0x00, ssl2[4] = 0x02; /* SSL 2.0 itself (zeek/tls/ssl-v2.pcap) */
	assert_int_equal(detect(ssl2, sizeof(ssl2), true, d), APP_TLS);
	assert_string_equal(d, "TLS ClientHello (SSL 2.0 format) offers up to SSL 2.0");
}

/* Post-quantum key shares make 1.5-2 KB ClientHellos: the SNI after them is read
 * once the whole handshake message arrived, up to 16 KB. */
static void
tls_client_hello_many_segments(void **state)
{
	(void)state;
	static uint8_t ext[1800], b[2000];
	ext[0] = 0x00, ext[1] = 0x33; /* key_share of 1,760 bytes */
	ext[2] = (uint8_t)(1760 >> 8), ext[3] = (uint8_t)1760;
	static const uint8_t sni[] = {0x00, 0x00, 0x00, 0x0a, 0x00, 0x08, 0x00,
	                              0x00, 0x05, 'm',  'e',  'd',  '.',  'x'};
	memcpy(ext + 4 + 1760, sni, sizeof(sni));
	size_t n = client_hello(b, sizeof(b), ext, 4 + 1760 + sizeof(sni));
	char d[96];
	assert_int_equal(detect(b, 1024, true, d), APP_MORE);
	assert_int_equal(detect(b, 1500, true, d), APP_MORE);
	assert_int_equal(detect(b, n, true, d), APP_TLS);
	assert_string_equal(d, "TLS ClientHello offers up to 1.2, SNI med.x");
}

static void
ssh_banner(void **state)
{
	(void)state;
	char d[96];
	const char b[] = "SSH-2.0-OpenSSH_9.2p1 Debian\r\nrest";
	assert_int_equal(detect(b, sizeof(b) - 1, false, d), APP_SSH);
	assert_string_equal(d, "SSH-2.0-OpenSSH_9.2p1 Debian");
	assert_int_equal(detect("SSH-2.0-Open", 12, true, d), APP_MORE); /* no end of line yet */
	assert_int_equal(detect("SS", 2, true, d), APP_MORE);
	assert_int_equal(detect("\xff\x02\x03\x04", 4, true, d), APP_UNKNOWN);
}

static void
http_lines(void **state)
{
	(void)state;
	char d[96];
	const char req[] = "GET /api HTTP/1.1\r\nHost: x\r\n\r\n";
	assert_int_equal(detect(req, sizeof(req) - 1, true, d), APP_HTTP);
	assert_string_equal(d, "GET /api HTTP/1.1");
	const char resp[] = "HTTP/1.1 200 OK\r\n";
	assert_int_equal(detect(resp, sizeof(resp) - 1, false, d), APP_HTTP);
	assert_int_equal(detect("GETTING\r\n", 9, true, d), APP_UNKNOWN);
	assert_int_equal(detect("GE", 2, true, d), APP_MORE);
}

static void
opaque_is_unknown(void **state)
{
	(void)state;
	char d[96];
	uint8_t b[64];
	memset(b, 0xa5, sizeof(b));
	assert_int_equal(detect(b, sizeof(b), true, d), APP_UNKNOWN);
	assert_string_equal(d, "");
	assert_int_equal(sm_app_parse("tls"), APP_TLS);
	assert_int_equal(sm_app_parse("smb"), APP_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(iscsi_login_names),
	    cmocka_unit_test(iscsi_data_length_not_trusted),
	    cmocka_unit_test(tls_client_hello_sni),
	    cmocka_unit_test(tls_offers_supported_versions),
	    cmocka_unit_test(tls_server_hello_chooses),
	    cmocka_unit_test(tls_sslv2_format_client_hello),
	    cmocka_unit_test(tls_client_hello_many_segments),
	    cmocka_unit_test(ssh_banner),
	    cmocka_unit_test(http_lines),
	    cmocka_unit_test(opaque_is_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
