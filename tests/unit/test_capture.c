/* capture: pcapng with several sections and interfaces (own link type and clock each),
 * classic pcap in micro and nanoseconds, and many files merged into one timeline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "files.h"
#include "smaudit/capture.h"

static char dir[64];

static void
w32(FILE *f, uint32_t v)
{
	fwrite(&v, 4, 1, f);
}

static void
w16(FILE *f, uint16_t v)
{
	fwrite(&v, 2, 1, f);
}

static void
shb(FILE *f)
{
	w32(f, 0x0a0d0d0a);
	w32(f, 28);
	w32(f, 0x1a2b3c4d);
	w16(f, 1);
	w16(f, 0);
	w32(f, 0xffffffff);
	w32(f, 0xffffffff);
	w32(f, 28);
}

/* An interface block; tsresol 0 = default microseconds. */
static void
idb(FILE *f, uint16_t linktype, uint8_t tsresol)
{
	uint32_t len = tsresol ? 32 : 20;
	w32(f, 1);
	w32(f, len);
	w16(f, linktype);
	w16(f, 0);
	w32(f, tsresol ? 65535 : 1500); /* snap lengths differ: libpcap refuses this */
	if (tsresol) {
		w16(f, 9);
		w16(f, 1);
		uint8_t opt[4] = {tsresol, 0, 0, 0};
		fwrite(opt, 4, 1, f);
		w32(f, 0); /* opt_endofopt */
	}
	w32(f, len);
}

static void
epb(FILE *f, uint32_t ifid, uint64_t ts, uint32_t caplen)
{
	uint32_t padded = (caplen + 3) & ~3u, len = 32 + padded;
	w32(f, 6);
	w32(f, len);
	w32(f, ifid);
	w32(f, (uint32_t)(ts >> 32));
	w32(f, (uint32_t)ts);
	w32(f, caplen);
	w32(f, caplen);
	for (uint32_t i = 0; i < padded; i++)
		fputc(i < 2 ? 0x45 : 0, f);
	w32(f, len);
}

/* A classic pcap file at path, its header written (Ethernet): magic says micro-
 * or nanoseconds. */
static FILE *
classic_create(const char *path, uint32_t magic, uint32_t snaplen)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	w32(f, magic);
	w16(f, 2);
	w16(f, 4);
	w32(f, 0);
	w32(f, 0);
	w32(f, snaplen);
	w32(f, 1);
	return f;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/smaudit-cap-%d", (int)getpid());
	char p[128];
	snprintf(p, sizeof(p), "mkdir -p %s", dir);
	if (system(p) != 0)
		return -1;
	/* pcapng: section 1 has Ethernet (us) and raw IP (ns); section 2 has loopback (us). */
	snprintf(p, sizeof(p), "%s/a.pcapng", dir);
	FILE *f = fopen(p, "wb");
	shb(f);
	idb(f, 1, 0);
	idb(f, 101, 9);
	epb(f, 0, 1000000ULL * 10, 60);        /* t = 10 s */
	epb(f, 1, 1000000000ULL * 12 + 5, 40); /* t = 12 s + 5 ns */
	shb(f);
	idb(f, 0, 0);
	epb(f, 0, 1000000ULL * 14, 44); /* t = 14 s */
	fclose(f);
	/* classic pcap, nanosecond magic, times between those above */
	snprintf(p, sizeof(p), "%s/b.pcap", dir);
	f = classic_create(p, 0xa1b23c4d, 65535);
	uint32_t secs[2] = {11, 13};
	for (int i = 0; i < 2; i++) {
		w32(f, secs[i]);
		w32(f, 7);
		w32(f, 60);
		w32(f, 60);
		for (int k = 0; k < 60; k++)
			fputc(0, f);
	}
	fclose(f);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	char p[128];
	snprintf(p, sizeof(p), "rm -rf %s", dir);
	return system(p) == 0 ? 0 : -1;
}

static void
test_merged_timeline_across_formats_and_interfaces(void **state)
{
	(void)state;
	struct sm_capture *c;
	struct sm_errbuf eb = {""};
	const char *in[] = {dir};
	assert_int_equal(sm_capture_open(&c, in, 1, NULL, NULL, NULL, &eb), SM_OK);
	struct sm_raw_packet p;
	const int64_t want_ts[] = {10000000000LL, 11000000007LL, 12000000005LL, 13000000007LL,
	                           14000000000LL};
	const int want_lt[] = {1, 1, 101, 1, 0};
	const uint32_t want_len[] = {60, 60, 40, 60, 44};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(sm_capture_next(c, &p), 1);
		assert_int_equal(p.ts_ns, want_ts[i]);
		assert_int_equal(p.linktype, want_lt[i]);
		assert_int_equal(p.caplen, want_len[i]);
	}
	assert_int_equal(sm_capture_next(c, &p), 0);
	assert_int_equal(sm_capture_source_count(c), 2);
	assert_string_equal(sm_capture_source(c, 0)->error, "");
	assert_int_equal(sm_capture_source(c, 0)->packets, 3);
	sm_capture_close(c);
}

static void
test_truncated_pcapng_reads_what_it_can(void **state)
{
	(void)state;
	char p[128], q[400];
	snprintf(p, sizeof(p), "%s/a.pcapng", dir);
	snprintf(q, sizeof(q), "head -c 180 %s > %s/cut.pcapng", p, dir);
	assert_int_equal(system(q), 0);
	snprintf(p, sizeof(p), "%s/cut.pcapng", dir);
	const char *in[] = {p};
	struct sm_capture *c;
	struct sm_errbuf eb = {""};
	assert_int_equal(sm_capture_open(&c, in, 1, NULL, NULL, NULL, &eb), SM_OK);
	struct sm_raw_packet pkt;
	int n = 0;
	while (sm_capture_next(c, &pkt) == 1)
		n++;
	assert_int_equal(n, 1);
	assert_non_null(strstr(sm_capture_source(c, 0)->error, "truncated block"));
	sm_capture_close(c);
	unlink(p);
}

static void
test_unopenable_input_is_an_error_naming_it(void **state)
{
	(void)state;
	const char *in[] = {"/nonexistent/x.pcap"};
	struct sm_capture *c;
	struct sm_errbuf eb = {""};
	assert_int_equal(sm_capture_open(&c, in, 1, NULL, NULL, NULL, &eb), SM_ERR_IO);
	assert_non_null(strstr(eb.msg, "/nonexistent/x.pcap: cannot open capture"));
}

/* Reads up to 8 packets of path through filter bpf (may be NULL): how many,
 * and the link type of each in linktypes; the read must end without error. */
static int
count_packets(const char *path, const char *bpf, int *linktypes)
{
	const char *in[] = {path};
	struct sm_capture *c;
	struct sm_errbuf eb = {""};
	assert_int_equal(sm_capture_open(&c, in, 1, bpf, NULL, NULL, &eb), SM_OK);
	struct sm_raw_packet pkt;
	int n = 0;
	while (n < 8 && sm_capture_next(c, &pkt) == 1)
		linktypes[n++] = pkt.linktype;
	assert_string_equal(sm_capture_source(c, 0)->error, "");
	sm_capture_close(c);
	return n;
}

/* pcapng names raw IP LINKTYPE_RAW (101), libpcap's compiler DLT_RAW: a filter
 * on a raw IP interface still keeps its IPv4 packets. */
static void
test_filter_keeps_ip_on_a_raw_pcapng_interface(void **state)
{
	(void)state;
	char p[128];
	snprintf(p, sizeof(p), "/tmp/smaudit-cap-raw-%d.pcapng", (int)getpid());
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	shb(f);
	idb(f, 101, 0);
	epb(f, 0, 1000000ULL * 10, 40);
	fclose(f);
	int lt[8];
	assert_int_equal(count_packets(p, "ip", lt), 1);
	assert_int_equal(lt[0], 101);
	unlink(p);
}

/* A pcapng section with 1,000 interfaces, Ethernet and raw IP in turn, and a
 * packet on the first, a middle and the last one. */
static void
write_many_interfaces(const char *path)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	shb(f);
	for (int k = 0; k < 1000; k++)
		idb(f, k % 2 ? 101 : 1, 0);
	epb(f, 0, 1000000ULL * 10, 60);
	epb(f, 501, 1000000ULL * 11, 40);
	epb(f, 999, 1000000ULL * 12, 40);
	fclose(f);
}

static void
test_pcapng_with_a_thousand_interfaces_reads_whole(void **state)
{
	(void)state;
	char p[128];
	snprintf(p, sizeof(p), "/tmp/smaudit-cap-many-%d.pcapng", (int)getpid());
	write_many_interfaces(p);
	int lt[8];
	assert_int_equal(count_packets(p, NULL, lt), 3);
	assert_int_equal(lt[0], 1);
	assert_int_equal(lt[1], 101);
	assert_int_equal(lt[2], 101);
	/* each interface keeps the filter compiled for its own link type: "ip"
	 * matches the raw IPv4 packets, not the Ethernet frame without type 0x0800 */
	assert_int_equal(count_packets(p, "ip", lt), 2);
	assert_int_equal(lt[0], 101);
	assert_int_equal(lt[1], 101);
	unlink(p);
}

static void
count_warning(void *ctx, const char *msg)
{
	(void)msg;
	++*(int *)ctx;
}

/* A sensor's clock offset shifts its packets in the merged timeline: b.pcap's packets
 * (11 s and 13 s) 2.5 s later fall after a.pcapng's 12 s and 14 s ones. */
static void
test_source_offset_moves_its_packets_in_the_timeline(void **state)
{
	(void)state;
	struct sm_capture *c;
	struct sm_errbuf eb = {""};
	const char *in[] = {dir};
	assert_int_equal(sm_capture_open(&c, in, 1, NULL, NULL, NULL, &eb), SM_OK);
	assert_int_equal(sm_capture_source(c, 1)->input, 0);
	assert_non_null(strstr(sm_capture_source(c, 1)->path, "b.pcap"));
	assert_int_equal(sm_capture_set_offset(c, 1, 2500000000LL), SM_OK);
	assert_int_equal(sm_capture_set_offset(c, 0, -1), SM_OK);
	assert_int_equal(sm_capture_set_offset(c, 0, 0), SM_OK); /* the last one counts */
	assert_int_equal(sm_capture_set_offset(c, 2, 1), SM_ERR_USAGE);
	struct sm_raw_packet p;
	const int64_t want_ts[] = {10000000000LL, 12000000005LL, 13500000007LL, 14000000000LL,
	                           15500000007LL};
	const uint32_t want_src[] = {0, 0, 1, 0, 1};
	for (int i = 0; i < 5; i++) {
		assert_int_equal(sm_capture_next(c, &p), 1);
		assert_int_equal(p.ts_ns, want_ts[i]);
		assert_int_equal(p.source, want_src[i]);
	}
	assert_int_equal(sm_capture_next(c, &p), 0);
	/* too late once packets were handed out */
	assert_int_equal(sm_capture_set_offset(c, 1, 0), SM_ERR_USAGE);
	sm_capture_close(c);
	/* inputs are numbered as given: a file after a directory is input 1 */
	char b[128], b2[128];
	snprintf(b, sizeof(b), "%s/b.pcap", dir);
	snprintf(b2, sizeof(b2), "%s-b2.pcap", dir);
	assert_true(copy_file(b, b2));
	const char *in2[] = {dir, b2};
	assert_int_equal(sm_capture_open(&c, in2, 2, NULL, NULL, NULL, &eb), SM_OK);
	assert_int_equal(sm_capture_source_count(c), 3);
	assert_int_equal(sm_capture_source(c, 1)->input, 0);
	assert_int_equal(sm_capture_source(c, 2)->input, 1);
	sm_capture_close(c);
	unlink(b2);
	/* a file of the directory named again is read once, with a warning */
	const char *in3[] = {dir, b};
	int warnings = 0;
	assert_int_equal(sm_capture_open(&c, in3, 2, NULL, count_warning, &warnings, &eb), SM_OK);
	assert_int_equal(sm_capture_source_count(c), 2);
	assert_int_equal(warnings, 1);
	sm_capture_close(c);
}

/* Sizes of the records of the large file: every boundary of the reader's buffers
 * falls somewhere else in a record, the largest records included. */
static uint32_t
big_caplen(uint32_t i)
{
	static const uint32_t sizes[] = {262144, 1, 60, 1514, 9000, 65535, 14, 200000, 777};
	return sizes[(i * 7u + i / 5u) % (sizeof(sizes) / sizeof(sizes[0]))];
}

static uint8_t
big_byte(uint32_t i, uint32_t j)
{
	return (uint8_t)(i * 31u + j * 7u + (j >> 8));
}

/* Writes a classic pcap of n records (snap length 262144) to path; its size. */
static long
write_big_pcap(const char *path, uint32_t n)
{
	FILE *f = classic_create(path, 0xa1b2c3d4, 262144);
	static uint8_t buf[262144];
	for (uint32_t i = 0; i < n; i++) {
		uint32_t caplen = big_caplen(i);
		w32(f, 1700000000u + i / 1000u);
		w32(f, (i % 1000u) * 1000u);
		w32(f, caplen);
		w32(f, caplen + i % 3u);
		for (uint32_t j = 0; j < caplen; j++)
			buf[j] = big_byte(i, j);
		fwrite(buf, 1, caplen, f);
	}
	long size = ftell(f);
	fclose(f);
	return size;
}

/* Reads path: the records must be those write_big_pcap() wrote, in order; how
 * many, and the source's error ("" if none) in error. */
static uint32_t
read_big_pcap(const char *path, char *error, size_t errlen)
{
	const char *in[] = {path};
	struct sm_capture *c;
	struct sm_errbuf eb = {""};
	assert_int_equal(sm_capture_open(&c, in, 1, NULL, NULL, NULL, &eb), SM_OK);
	struct sm_raw_packet pkt;
	uint32_t i = 0;
	while (sm_capture_next(c, &pkt) == 1) {
		uint32_t caplen = big_caplen(i);
		assert_int_equal(pkt.caplen, caplen);
		assert_int_equal(pkt.len, caplen + i % 3u);
		assert_true(pkt.ts_ns == (int64_t)(1700000000u + i / 1000u) * 1000000000 +
		                             (int64_t)(i % 1000u) * 1000000);
		for (uint32_t j = 0; j < caplen; j++)
			if (pkt.data[j] != big_byte(i, j))
				fail_msg("record %u: byte %u differs", i, j);
		i++;
	}
	snprintf(error, errlen, "%s", sm_capture_source(c, 0)->error);
	sm_capture_close(c);
	return i;
}

/* A classic pcap many times the reader's buffer (capture_classic.c refills it,
 * keeping the record it ended in): every record arrives whole and in order,
 * whatever refill it straddles, the largest records included, and a file cut
 * inside a record stops at the last whole one with libpcap's words. */
static void
test_large_classic_pcap_is_read_record_for_record(void **state)
{
	(void)state;
	char p[128], q[400], why[512];
	snprintf(p, sizeof(p), "%s/big.pcap", dir);
	const uint32_t n = 600; /* about 35 MB: eight refills and more */
	long size = write_big_pcap(p, n);
	assert_int_equal(read_big_pcap(p, why, sizeof(why)), n);
	assert_string_equal(why, "");

	/* cut 100 bytes into record 400 */
	long cut = 24;
	for (uint32_t i = 0; i < 400; i++)
		cut += 16 + (long)big_caplen(i);
	assert_true(cut + 116 < size);
	snprintf(q, sizeof(q), "head -c %ld %s > %s/bigcut.pcap", cut + 116, p, dir);
	assert_int_equal(system(q), 0);
	unlink(p);
	snprintf(p, sizeof(p), "%s/bigcut.pcap", dir);
	assert_int_equal(read_big_pcap(p, why, sizeof(why)), 400);
	assert_non_null(strstr(why, "truncated dump file; tried to read"));
	unlink(p);
}

/* A classic pcap at path whose packets have these times (seconds) and caplens. */
static void
write_times(const char *path, const uint32_t *secs, const uint32_t *caplens, int n)
{
	FILE *f = classic_create(path, 0xa1b2c3d4, 65535);
	for (int i = 0; i < n; i++) {
		w32(f, secs[i]);
		w32(f, 0);
		w32(f, caplens[i]);
		w32(f, caplens[i]);
		for (uint32_t k = 0; k < caplens[i]; k++)
			fputc(0, f);
	}
	fclose(f);
}

/* Files merged into one timeline: each next packet is the earliest of what the
 * files hold next, equal times in command-line order, whether the file handed
 * out last stays first (no trip through the merge) or another one takes over. */
static void
test_equal_times_across_files_keep_command_line_order(void **state)
{
	(void)state;
	char x[128], y[128], z[128];
	snprintf(x, sizeof(x), "%s/tx.pcap", dir);
	snprintf(y, sizeof(y), "%s/ty.pcap", dir);
	snprintf(z, sizeof(z), "%s/tz.pcap", dir);
	/* after y's first, its next ties with x's: x's goes first; then y's last two
	 * tie with z's: y stays first */
	write_times(x, (uint32_t[]){1, 3, 4, 4}, (uint32_t[]){20, 21, 22, 23}, 4);
	write_times(y, (uint32_t[]){2, 3, 3}, (uint32_t[]){30, 31, 32}, 3);
	write_times(z, (uint32_t[]){0, 3, 6}, (uint32_t[]){40, 41, 42}, 3);
	const char *in[] = {x, y, z};
	struct sm_capture *c;
	struct sm_errbuf eb = {""};
	assert_int_equal(sm_capture_open(&c, in, 3, NULL, NULL, NULL, &eb), SM_OK);
	static const uint32_t want[] = {40, 20, 30, 21, 31, 32, 41, 22, 23, 42};
	struct sm_raw_packet pkt;
	size_t n = 0;
	while (sm_capture_next(c, &pkt) == 1) {
		assert_true(n < sizeof(want) / sizeof(want[0]));
		assert_int_equal(pkt.caplen, want[n]);
		assert_int_equal(pkt.source, want[n] / 10 - 2);
		n++;
	}
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	sm_capture_close(c);
	unlink(x);
	unlink(y);
	unlink(z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_merged_timeline_across_formats_and_interfaces),
	    cmocka_unit_test(test_truncated_pcapng_reads_what_it_can),
	    cmocka_unit_test(test_unopenable_input_is_an_error_naming_it),
	    cmocka_unit_test(test_filter_keeps_ip_on_a_raw_pcapng_interface),
	    cmocka_unit_test(test_pcapng_with_a_thousand_interfaces_reads_whole),
	    cmocka_unit_test(test_source_offset_moves_its_packets_in_the_timeline),
	    cmocka_unit_test(test_large_classic_pcap_is_read_record_for_record),
	    cmocka_unit_test(test_equal_times_across_files_keep_command_line_order),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
