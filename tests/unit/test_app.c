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

/* The Login request libiscsi's iscsi-inq sent to tgtd and tgtd's Login
 * response (pcaps/iscsi-real.pcap): BHS, then the text without its padding. */
static const uint8_t libiscsi_login_bhs[48] = {
    0x43, 0x87, 0x00, 0x00, 0x00, 0x00, 0x01, 0x96, 0x80, 0xf6, 0x59, 0x29, 0x00, 0x00, 0x00, 0x00,
    0x03, 0x17, 0x91, 0x39, 0x00, 0x00, 0x00, 0x00, 0x6d, 0xc0, 0xf2, 0xb4, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
static const char libiscsi_login_text[] =
    "InitiatorName=iqn.2026-12.test:smis-a\0TargetName=iqn.2026-12.test:lun0\0"
    "SessionType=Normal\0HeaderDigest=None,CRC32C\0DataDigest=None\0InitialR2T=No\0"
    "ImmediateData=Yes\0MaxBurstLength=262144\0FirstBurstLength=262144\0"
    "DefaultTime2Wait=2\0DefaultTime2Retain=0\0MaxOutstandingR2T=1\0"
    "ErrorRecoveryLevel=0\0IFMarker=No\0OFMarker=No\0MaxConnections=1\0"
    "MaxRecvDataSegmentLength=262144\0DataPDUInOrder=Yes\0DataSequenceInOrder=Yes";
static const uint8_t tgtd_login_bhs[48] = {
    0x23, 0x87, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2c, 0x80, 0xf6, 0x59, 0x29, 0x00, 0x00, 0x01, 0x00,
    0x03, 0x17, 0x91, 0x39, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6d, 0xc0, 0xf2, 0xb4,
    0x6d, 0xc0, 0xf2, 0xb5, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
static const char tgtd_login_text[] =
    "TargetPortalGroupTag=1\0HeaderDigest=None\0DataDigest=None\0InitialR2T=Yes\0"
    "ImmediateData=Yes\0MaxBurstLength=262144\0FirstBurstLength=65536\0"
    "DefaultTime2Wait=2\0DefaultTime2Retain=0\0MaxOutstandingR2T=1\0"
    "ErrorRecoveryLevel=0\0IFMarker=No\0OFMarker=No\0MaxConnections=1\0"
    "DataPDUInOrder=Yes\0DataSequenceInOrder=Yes";
/* libiscsi's TEST UNIT READY and tgtd's answer: a SCSI Response with 20
 * bytes of sense data, then a Good one. */
static const uint8_t libiscsi_tur[48] = {
    0x01, 0x81, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x03, 0x17, 0x91, 0x3a, 0x00, 0x00, 0x00, 0x00, 0x6d, 0xc0, 0xf2, 0xb4, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
static const uint8_t tgtd_check_condition[68] = {
    0x21, 0x80, 0x00, 0x02, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x03, 0x17, 0x91, 0x3a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x6d, 0xc0, 0xf2, 0xb5, 0x6d, 0xc0, 0xf3, 0x35, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x70, 0x00, 0x06, 0x00, 0x00, 0x00,
    0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x29, 0x00, 0x00, 0x00, 0x00, 0x00};
static const uint8_t tgtd_good[48] = {
    0x21, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x03, 0x17, 0x91, 0x3b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x6d, 0xc0, 0xf2, 0xb6,
    0x6d, 0xc0, 0xf3, 0x36, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

/* A Login PDU in out: bhs, text with its final NUL, padding; its length. */
static size_t
login_pdu(uint8_t *out, const uint8_t bhs[48], const char *text, size_t text_size)
{
	size_t padded = (text_size + 3) & ~(size_t)3;
	memcpy(out, bhs, 48);
	memset(out + 48, 0, padded);
	memcpy(out + 48, text, text_size);
	return 48 + padded;
}

static void
iscsi_real_login_request(void **state)
{
	(void)state;
	uint8_t b[512];
	size_t n =
	    login_pdu(b, libiscsi_login_bhs, libiscsi_login_text, sizeof(libiscsi_login_text));
	char d[96];
	assert_int_equal(n, 456); /* as on the wire */
	assert_int_equal(detect(b, n, true, d), APP_ISCSI);
	assert_string_equal(
	    d,
	    "Login request InitiatorName=iqn.2026-12.test:smis-a TargetName=iqn.2026-12.test:lun0");
	assert_int_equal(detect(b, 20, true, d), APP_MORE);       /* a BHS is 48 bytes */
	assert_int_equal(detect(b, 48 + 100, true, d), APP_MORE); /* the text goes on */
	assert_int_equal(detect(b, n, false, d), APP_UNKNOWN);    /* not from a target */
}

/* A server's answer to a TLS hello: text that names no protocol is another
 * service on the port (unknown, its start in the detail); binary bytes that do
 * not are not read to a decision; a protocol's answer stays what it is. */
static void
answer_to_tls_hello(void **state)
{
	(void)state;
	static const uint8_t page[] = "<!DOCTYPE HTML>\n<html lang=\"en\">";
	static const uint8_t smtp[] = "220-mx.example ESMTP Exim 4.96\r\n";
	static const uint8_t ssl2[] = {0x83, 0xb4, 0x04, 0x00, 0x01, 0x00, 0x02, 0x03, 0x87};
	static const uint8_t odd[] = {0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x28};
	static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
	char d[96];
	d[0] = '\0';
	assert_int_equal(sm_app_answer_to_tls(APP_MORE, page, sizeof(page) - 1, d, sizeof(d)),
	                 APP_UNKNOWN);
	assert_string_equal(d, "<!DOCTYPE HTML>?<html lang=\"en\">");
	assert_int_equal(sm_app_answer_to_tls(APP_UNKNOWN, smtp, sizeof(smtp) - 1, d, sizeof(d)),
	                 APP_UNKNOWN);
	assert_int_equal(sm_app_answer_to_tls(APP_UNKNOWN, ssl2, sizeof(ssl2), d, sizeof(d)),
	                 APP_UNVERIFIED);
	assert_int_equal(sm_app_answer_to_tls(APP_UNKNOWN, odd, sizeof(odd), d, sizeof(d)),
	                 APP_UNVERIFIED);
	assert_int_equal(sm_app_answer_to_tls(APP_TLS, alert, sizeof(alert), d, sizeof(d)),
	                 APP_TLS);
	assert_int_equal(sm_app_answer_to_tls(APP_HTTP, smtp, sizeof(smtp) - 1, d, sizeof(d)),
	                 APP_HTTP);
	assert_int_equal(sm_app_answer_to_tls(APP_MORE, page, 1, d, sizeof(d)), APP_MORE);
}

static void
iscsi_real_login_response(void **state)
{
	(void)state;
	uint8_t b[512];
	size_t n = login_pdu(b, tgtd_login_bhs, tgtd_login_text, sizeof(tgtd_login_text));
	char d[96];
	assert_int_equal(n, 348);
	assert_int_equal(detect(b, n, false, d), APP_ISCSI);
	assert_string_equal(d, "Login response");
	assert_int_equal(detect(b, n, true, d), APP_UNKNOWN); /* not from an initiator */
}

/* One field of the real Login request changed: not a Login any more. */
static void
iscsi_login_fields_checked(void **state)
{
	(void)state;
	static const struct {
		size_t at;
		uint8_t value;
		const char *what;
	} bad[] = {
	    {0, 0x83, "reserved bit 7 of byte 0"},
	    {1, 0xc7, "Transit and Continue together"},
	    {1, 0x8b, "stage 2 (reserved)"},
	    {1, 0xa7, "reserved bits of byte 1"},
	    {2, 0x01, "version-max 1"},
	    {3, 0x01, "version-min 1"},
	    {22, 0x01, "reserved bytes 22-23"},
	    {40, 0x01, "reserved bytes 32-47"},
	    {5, 0xff, "a data segment longer than login text may be"},
	    {48 + 13, ' ', "a key without '='"},
	    {48 + 3, '\n', "a control character in a key"},
	    {48 + 20, '\r', "a control character in a value"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t b[512];
		size_t n = login_pdu(b, libiscsi_login_bhs, libiscsi_login_text,
		                     sizeof(libiscsi_login_text));
		b[bad[i].at] = bad[i].value;
		char d[96];
		enum sm_app a = detect(b, n, true, d);
		if (a != APP_UNKNOWN)
			fail_msg("%s: app %d, want unknown", bad[i].what, (int)a);
	}
	uint8_t b[48];
	memcpy(b, libiscsi_login_bhs, 48);
	b[6] = b[7] = 0; /* a Login without text */
	char d[96];
	assert_int_equal(detect(b, 48, true, d), APP_UNKNOWN);
}

/* A target's Login response with no keys, as a reject carries them (status 2/3,
 * "target not found"): its header alone is iSCSI, not "unknown", which a rule
 * with app=iscsi would report as a mismatch when the request was not read (a
 * capture cut at 128 bytes a frame).  A reserved byte set: not a Login. */
static void
iscsi_login_response_without_keys(void **state)
{
	(void)state;
	uint8_t b[48];
	memcpy(b, tgtd_login_bhs, 48);
	b[5] = b[6] = b[7] = 0;
	b[1] = 0x80; /* Transit, from the security stage: refused there */
	b[36] = 0x02;
	b[37] = 0x03;
	char d[96];
	assert_int_equal(detect(b, 48, false, d), APP_ISCSI);
	assert_string_equal(d, "Login response");
	b[44] = 0x01;
	assert_int_equal(detect(b, 48, false, d), APP_UNKNOWN);
}

static void
iscsi_data_length_not_trusted(void **state)
{
	(void)state;
	uint8_t b[SM_APP_WANT];
	memset(b, 'x', sizeof(b));
	memcpy(b, libiscsi_login_bhs, 48);
	b[6] = 0x1f; /* claims 8000 bytes of text; SM_APP_WANT have arrived */
	b[7] = 0x40;
	const char first[] = "InitiatorName=iqn.a:1\0X=";
	memcpy(b + 48, first, sizeof(first) - 1);
	char d[96];
	assert_int_equal(detect(b, 100, true, d), APP_MORE);
	assert_int_equal(detect(b, sizeof(b), true, d), APP_ISCSI);
	assert_string_equal(d, "Login request InitiatorName=iqn.a:1");
	b[48 + 4] = '#'; /* no key has a '#' */
	assert_int_equal(detect(b, sizeof(b), true, d), APP_UNKNOWN);
}

/* Other first PDUs: only a second BHS where the first one's framing ends. */
static void
iscsi_two_pdus_in_a_row(void **state)
{
	(void)state;
	uint8_t b[160];
	char d[96];
	memcpy(b, libiscsi_tur, 48);
	memcpy(b + 48, libiscsi_tur, 48);
	assert_int_equal(detect(b, 48, true, d), APP_MORE);
	assert_int_equal(detect(b, 96, true, d), APP_ISCSI);
	assert_string_equal(d, "iSCSI PDU");
	memcpy(b + 48, "GET / HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n", 48);
	assert_int_equal(detect(b, 96, true, d), APP_UNKNOWN);
	/* with a header digest (CRC32C) after each BHS */
	memset(b + 48, 0x5a, 4);
	memcpy(b + 52, libiscsi_tur, 48);
	assert_int_equal(detect(b, 100, true, d), APP_ISCSI);
	/* the target: 48 + 20 bytes of sense data, then the next response */
	memcpy(b, tgtd_check_condition, 68);
	memcpy(b + 68, tgtd_good, 48);
	assert_int_equal(detect(b, 116, false, d), APP_ISCSI);
	assert_int_equal(detect(b, 116, true, d), APP_UNKNOWN);
	/* vendor-specific opcodes fix no field: two of them are no evidence */
	memset(b, 0, sizeof(b));
	b[0] = 0x1c;
	b[48] = 0x5c;
	assert_int_equal(detect(b, 96, true, d), APP_UNKNOWN);
	memcpy(b + 48, libiscsi_tur, 48);
	assert_int_equal(detect(b, 96, true, d), APP_ISCSI);
}

/* Oracle TNS Connect (nDPI oracle12.pcapng), client */
static const uint8_t tns_connect[] = {
    0x00, 0xd4, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x3b, 0x01, 0x2c, 0x0c, 0x41, 0x20, 0x00,
    0xff, 0xff, 0x7f, 0x08, 0x00, 0x00, 0x01, 0x00, 0x00, 0x8e, 0x00, 0x46, 0x00, 0x00, 0x08, 0x00,
    0x41, 0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x20,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, 0x44, 0x45, 0x53, 0x43, 0x52, 0x49, 0x50, 0x54, 0x49};

/* Sybase TDS 5 login (Arkime tds5.pcap), client */
static const uint8_t tds5_login[] = {
    0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x55, 0x53, 0x45, 0x52, 0x5f, 0x5f, 0x5f, 0x55, 0x53,
    0x45, 0x52, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x50, 0x41, 0x53, 0x53, 0x57, 0x4f, 0x52, 0x44, 0x48, 0x45};

/* MS SQL TDS 7 prelogin (Arkime tds7.pcap), client */
static const uint8_t tds7_prelogin[] = {
    0x12, 0x01, 0x00, 0x34, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x15, 0x00, 0x06,
    0x01, 0x00, 0x1b, 0x00, 0x01, 0x02, 0x00, 0x1c, 0x00, 0x0c, 0x03, 0x00, 0x28,
    0x00, 0x04, 0xff, 0x08, 0x00, 0x01, 0x55, 0x00, 0x00, 0x00, 0x4d, 0x53, 0x53,
    0x51, 0x4c, 0x53, 0x65, 0x72, 0x76, 0x65, 0x72, 0x00, 0xd8, 0x03, 0x00, 0x00};

/* MySQL 5.7 greeting (Arkime mysql-tls.pcap), server */
static const uint8_t mysql_greeting[] = {
    0x4a, 0x00, 0x00, 0x00, 0x0a, 0x35, 0x2e, 0x37, 0x2e, 0x31, 0x36, 0x00, 0x4d, 0x68, 0x20, 0x00,
    0x09, 0x37, 0x52, 0x2b, 0x2f, 0x25, 0x46, 0x29, 0x00, 0xff, 0xff, 0x08, 0x02, 0x00, 0xff, 0xc1,
    0x15, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x69, 0x64, 0x78, 0x44, 0x63,
    0x7e, 0x23, 0x66, 0x54, 0x08, 0x2b, 0x1b, 0x00, 0x6d, 0x79, 0x73, 0x71, 0x6c, 0x5f, 0x6e, 0x61,
    0x74, 0x69, 0x76, 0x65, 0x5f, 0x70, 0x61, 0x73, 0x73, 0x77, 0x6f, 0x72, 0x64, 0x00};

/* First bytes of streams in ../shared/corpus that the opcode check alone
 * called iSCSI, each with what the same side sent next. */
static void
iscsi_corpus_false_positives(void **state)
{
	(void)state;
	static const uint8_t pg_ssl[] = {0x00, 0x00, 0x00, 0x08, 0x04, 0xd2, 0x16, 0x2f,
	                                 0x16, 0x03, 0x01, 0x01, 0x1c, 0x01, 0x00, 0x01};
	static const uint8_t pg_startup[] = "\x00\x00\x00\x26\x00\x03\x00\x00user\0oryx\0"
	                                    "database\0mails\0\0";
	static const uint8_t socks5[] = "\x05\x01\x00" /* greeting; the request after */
	                                "\x05\x01\x00\x03\x0b"
	                                "example.com\x00\x50"
	                                "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
	static const uint8_t socks4a[] = "\x04\x01\x01\xbb\x00\x00\x00\x01"
	                                 "fd7bcf7b5c9e1d\0login.live.com\0"
	                                 "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	static const uint8_t h2[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	                            "\x00\x00\x12\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64"
	                            "\x00\x04\x40\x00\x00\x00\x00\x02\x00\x00\x00\x00";
	static const char smtp[] =
	    "EHLO example.com\r\nMAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\n";
	static const char ftp_banner[] =
	    "220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------\r\n"
	    "220-You are user number 1 of 50 allowed.\r\n";
	static const char auth_tls[] = "AUTH TLS\r\n\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
	                               "0123456789abcdef0123456789abcdef0123456789";
	static const struct {
		const char *what;
		const void *p;
		size_t n;
		bool client;
	} fp[] = {
	    {"SMTP EHLO", smtp, sizeof(smtp) - 1, true},
	    {"FTP banner", ftp_banner, sizeof(ftp_banner) - 1, false},
	    {"FTP AUTH TLS", auth_tls, sizeof(auth_tls) - 1, true},
	    {"PostgreSQL SSLRequest", pg_ssl, sizeof(pg_ssl), true},
	    {"PostgreSQL StartupMessage", pg_startup, sizeof(pg_startup) - 1, true},
	    {"SOCKS5", socks5, sizeof(socks5) - 1, true},
	    {"SOCKS4a", socks4a, sizeof(socks4a) - 1, true},
	    {"HTTP/2 preface", h2, sizeof(h2) - 1, true},
	    {"MySQL greeting", mysql_greeting, sizeof(mysql_greeting), false},
	    {"TDS 7 prelogin", tds7_prelogin, sizeof(tds7_prelogin), true},
	    {"TDS 5 login", tds5_login, sizeof(tds5_login), true},
	    {"TNS Connect", tns_connect, sizeof(tns_connect), true},
	};
	for (size_t i = 0; i < sizeof(fp) / sizeof(fp[0]); i++) {
		char d[96];
		enum sm_app a = detect(fp[i].p, fp[i].n, fp[i].client, d);
		if (a != APP_UNKNOWN)
			fail_msg("%s: app %d, want unknown", fp[i].what, (int)a);
	}
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

/* A stream that ends inside its hello (the capture stopped, the peer reset) is
 * TLS with what arrived.  Any other prefix that more bytes could have made a
 * protocol (an SSH banner cut before its end of line, four bytes of a TLS record)
 * was not read to a decision: unverified, never unknown, which a rule naming the
 * protocol reports as a mismatch.  Bytes that open no protocol stay unknown. */
static void
tls_hello_cut_by_the_end_of_the_stream(void **state)
{
	(void)state;
	char d[96];
	assert_int_equal(detect(hello, 30, true, d), APP_MORE);
	assert_int_equal(sm_app_decide(hello, 30, true, d, sizeof(d)), APP_TLS);
	assert_string_equal(d, "TLS ClientHello offers up to 1.2");
	assert_int_equal(sm_app_decide(hello, sizeof(hello), true, d, sizeof(d)), APP_TLS);
	assert_string_equal(d, "TLS ClientHello offers up to 1.2, SNI med.x");
	assert_int_equal(sm_app_decide((const uint8_t *)"SSH-2.0-Open", 12, true, d, sizeof(d)),
	                 APP_UNVERIFIED);
	assert_int_equal(sm_app_decide(hello, 4, true, d, sizeof(d)), APP_UNVERIFIED);
	assert_int_equal(sm_app_decide((const uint8_t *)"\x01\x02 opaque", 9, true, d, sizeof(d)),
	                 APP_UNKNOWN);
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

/* Every protocol of the recognisers' table is one (and nothing else is), and its
 * name parses back and fits the database row: what rules and the store rely on. */
static void
table_names_parse_back_and_fit(void **state)
{
	(void)state;
	size_t n = 0;
	for (; sm_app_at(n) != APP_NONE; n++) {
		enum sm_app a = sm_app_at(n);
		assert_true(sm_app_is_protocol(a));
		assert_non_null(sm_app_name(a));
		assert_true(strlen(sm_app_name(a)) < SM_APP_NAME_MAX);
		assert_int_equal(sm_app_parse(sm_app_name(a)), a);
	}
	assert_true(n >= 4); /* iscsi, tls, ssh, http and any added since */
	const enum sm_app others[] = {APP_NONE, APP_MORE, APP_UNKNOWN, APP_UNVERIFIED};
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		assert_false(sm_app_is_protocol(others[i]));
		assert_int_equal(sm_app_answered(others[i]), i >= 2); /* unknown, unverified */
	}
	assert_true(strlen(sm_app_name(APP_UNVERIFIED)) < SM_APP_NAME_MAX);
	assert_int_equal(sm_app_parse("unknown"), APP_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(iscsi_real_login_request),
	    cmocka_unit_test(iscsi_real_login_response),
	    cmocka_unit_test(answer_to_tls_hello),
	    cmocka_unit_test(iscsi_login_fields_checked),
	    cmocka_unit_test(iscsi_login_response_without_keys),
	    cmocka_unit_test(iscsi_data_length_not_trusted),
	    cmocka_unit_test(iscsi_two_pdus_in_a_row),
	    cmocka_unit_test(iscsi_corpus_false_positives),
	    cmocka_unit_test(tls_client_hello_sni),
	    cmocka_unit_test(tls_offers_supported_versions),
	    cmocka_unit_test(tls_server_hello_chooses),
	    cmocka_unit_test(tls_sslv2_format_client_hello),
	    cmocka_unit_test(tls_client_hello_many_segments),
	    cmocka_unit_test(tls_hello_cut_by_the_end_of_the_stream),
	    cmocka_unit_test(ssh_banner),
	    cmocka_unit_test(http_lines),
	    cmocka_unit_test(opaque_is_unknown),
	    cmocka_unit_test(table_names_parse_back_and_fit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
