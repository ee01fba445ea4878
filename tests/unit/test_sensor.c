/* sensor: clock offsets of capture points, estimated from the same packets seen at
 * two of them (pcaps/sensors/, made by pcaps/make-sensors.sh with real TCP stacks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "files.h"
#include "pkt.h"
#include "smaudit/capture.h"
#include "smaudit/sensor.h"

#define PCAPS SMAUDIT_SOURCE_DIR "/pcaps/"
#define MS    1000000LL

static void
clocks(const char *const *in, const uint32_t *of, size_t n, size_t nsensors,
       struct sm_sensor_clock *out)
{
	struct sm_errbuf eb = {""};
	memset(out, 0xa5, nsensors * sizeof(*out)); /* every field must be written */
	enum sm_err e = sm_sensor_clocks(in, of, n, nsensors, out, &eb);
	if (e != SM_OK)
		fail_msg("sm_sensor_clocks: %s", eb.msg);
	assert_true(out[0].known);
	assert_int_equal(out[0].offset_ns, 0);
}

/* Sensor 0 captured a, sensor 1 captured b. */
static void
two_sensors(const char *a, const char *b, struct sm_sensor_clock c[2])
{
	const char *in[] = {a, b};
	const uint32_t of[] = {0, 1};
	clocks(in, of, 2, 2, c);
}

static void
test_site_b_clock_ahead_by_2_5_s_is_measured(void **state)
{
	(void)state;
	const char *a = PCAPS "sensors/clock-site-a.pcap", *b = PCAPS "sensors/clock-site-b.pcap";
	struct sm_sensor_clock c[2];
	two_sensors(a, b, c);
	assert_true(c[1].known);
	assert_true(c[1].matched > 0);
	assert_int_equal(c[1].placed_via, 0);
	if (llabs(c[1].offset_ns - (-2500 * MS)) >= MS)
		fail_msg("offset %lld ns, want -2.5 s", (long long)c[1].offset_ns);
	if (c[1].spread_ns < 0 || c[1].spread_ns >= MS)
		fail_msg("spread %lld ns", (long long)c[1].spread_ns);
	/* the other way round: site-a is 2.5 s behind site-b */
	two_sensors(b, a, c);
	assert_true(c[1].known);
	if (llabs(c[1].offset_ns - 2500 * MS) >= MS)
		fail_msg("offset %lld ns, want +2.5 s", (long long)c[1].offset_ns);
}

/* Writes one TCP packet of 10.0.0.1:1000 <-> 10.0.0.2:2000 (IP ID id) to w. */
static void
write_tcp(struct sm_capture_writer *w, int64_t ts_ns, bool a_to_b, unsigned id, unsigned ttl)
{
	struct buf b = {.n = 0};
	eth(&b, 0x0800);
	ipv4(&b, a_to_b ? "10.0.0.1" : "10.0.0.2", a_to_b ? "10.0.0.2" : "10.0.0.1", 6, 40, id, 0,
	     ttl);
	tcp(&b, a_to_b ? 1000 : 2000, a_to_b ? 2000 : 1000, 1000 + id, 5000 + id, 0x10);
	struct sm_raw_packet p = {ts_ns, (uint32_t)b.n, (uint32_t)b.n, SM_DLT_EN10MB, 0, b.b};
	struct sm_errbuf eb;
	assert_int_equal(sm_capture_write(w, &p, &eb), SM_OK);
}

/* Site b's clock 1 s ahead, 10 ms of transit each way, and three times more packets
 * from a to b than back: the median of all estimates would be 10 ms off, the mean of
 * each direction's median is not. */
static void
test_transit_time_cancels_between_directions(void **state)
{
	(void)state;
	char a[64], b[64];
	snprintf(a, sizeof(a), "/tmp/smaudit-sensor-a-%d.pcap", (int)getpid());
	snprintf(b, sizeof(b), "/tmp/smaudit-sensor-b-%d.pcap", (int)getpid());
	struct sm_capture_writer *wa, *wb;
	struct sm_errbuf eb;
	assert_int_equal(sm_capture_writer_open(&wa, a, SM_DLT_EN10MB, &eb), SM_OK);
	assert_int_equal(sm_capture_writer_open(&wb, b, SM_DLT_EN10MB, &eb), SM_OK);
	const int64_t t0 = 1700000000LL * 1000000000, ahead = 1000 * MS, transit = 10 * MS;
	for (unsigned i = 0; i < 40; i++) {
		bool a_to_b = i % 4 != 3;
		int64_t sent = t0 + (int64_t)i * 100 * MS; /* on a's clock */
		if (a_to_b) {
			write_tcp(wa, sent, true, i + 1, 64);
			write_tcp(wb, sent + transit + ahead, true, i + 1, 62);
		} else {
			write_tcp(wb, sent + ahead, false, i + 1, 64);
			write_tcp(wa, sent + transit, false, i + 1, 62);
		}
	}
	assert_int_equal(sm_capture_writer_close(wa, &eb), SM_OK);
	assert_int_equal(sm_capture_writer_close(wb, &eb), SM_OK);
	struct sm_sensor_clock c[2];
	two_sensors(a, b, c);
	assert_true(c[1].known);
	assert_int_equal(c[1].matched, 40);
	if (llabs(c[1].offset_ns + ahead) >= MS)
		fail_msg("offset %lld ns, want -1 s", (long long)c[1].offset_ns);
	unlink(a);
	unlink(b);
}

static void
test_agreeing_clocks_give_no_offset(void **state)
{
	(void)state;
	const char *scen[] = {"healthy", "wan-drop", "edge-drop", "wan-rst"};
	for (size_t k = 0; k < sizeof(scen) / sizeof(scen[0]); k++) {
		char a[512], b[512];
		snprintf(a, sizeof(a), PCAPS "sensors/%s-site-a.pcap", scen[k]);
		snprintf(b, sizeof(b), PCAPS "sensors/%s-site-b.pcap", scen[k]);
		struct sm_sensor_clock c[2];
		two_sensors(a, b, c);
		assert_true(c[1].known);
		assert_true(c[1].matched > 0);
		if (llabs(c[1].offset_ns) >= MS || c[1].spread_ns >= MS)
			fail_msg("%s: offset %lld ns, spread %lld ns", scen[k],
			         (long long)c[1].offset_ns, (long long)c[1].spread_ns);
	}
}

/* pcaps/healthy.pcap is another lab run: none of its packets is in the sensors' */
static void
test_sensor_sharing_no_packet_is_not_known(void **state)
{
	(void)state;
	struct sm_sensor_clock c[2];
	two_sensors(PCAPS "sensors/healthy-site-a.pcap", PCAPS "healthy.pcap", c);
	assert_false(c[1].known);
	assert_int_equal(c[1].matched, 0);
	assert_int_equal(c[1].placed_via, -1);
}

/* The same packets reframed with 802.1ad + 802.1Q tags (pcaps/retag.py) match the
 * Linux cooked capture they came from: the IP packet is compared, not the frame. */
static void
test_vlan_tags_do_not_hide_the_same_packet(void **state)
{
	(void)state;
	struct sm_sensor_clock c[2];
	two_sensors(PCAPS "healthy.pcap", PCAPS "qinq.pcap", c);
	assert_true(c[1].known);
	assert_true(c[1].matched > 10);
	assert_int_equal(c[1].offset_ns, 0);
}

/* Sensor 2 shares packets only with sensor 1 (pcaps/dropped.pcap, unshifted), and
 * sensor 1 is 2.5 s ahead of sensor 0: sensor 2 is placed through sensor 1. */
static void
test_sensor_matched_only_through_another_is_chained(void **state)
{
	(void)state;
	const char *in[] = {PCAPS "sensors/clock-site-a.pcap", PCAPS "sensors/clock-site-b.pcap",
	                    PCAPS "dropped.pcap", PCAPS "dropped.pcap"};
	const uint32_t of[] = {0, 1, 1, 2};
	struct sm_sensor_clock c[3];
	clocks(in, of, 4, 3, c);
	assert_true(c[1].known);
	assert_int_equal(c[1].placed_via, 0);
	assert_true(c[2].known);
	assert_int_equal(c[2].placed_via, 1);
	assert_true(c[2].matched > 0);
	if (llabs(c[2].offset_ns - (-2500 * MS)) >= MS)
		fail_msg("offset %lld ns, want -2.5 s through sensor 1", (long long)c[2].offset_ns);
	/* order does not matter: the chained sensor may come first */
	const char *in2[] = {PCAPS "sensors/clock-site-a.pcap", PCAPS "dropped.pcap",
	                     PCAPS "sensors/clock-site-b.pcap", PCAPS "dropped.pcap"};
	const uint32_t of2[] = {0, 1, 2, 2};
	clocks(in2, of2, 4, 3, c);
	assert_true(c[1].known);
	assert_int_equal(c[1].placed_via, 2);
	if (llabs(c[1].offset_ns - (-2500 * MS)) >= MS)
		fail_msg("offset %lld ns, want -2.5 s through sensor 2", (long long)c[1].offset_ns);
}

/* Every packet twice at sensor 1 (a copy of its capture given too; the same file
 * twice is read once): each is ambiguous there, as a retransmission would be, and
 * none may be matched. */
static void
test_packets_seen_twice_at_a_sensor_are_not_matched(void **state)
{
	(void)state;
	char copy[64];
	snprintf(copy, sizeof(copy), "/tmp/smaudit-sensor-copy-%d.pcap", (int)getpid());
	assert_true(copy_file(PCAPS "sensors/clock-site-b.pcap", copy));
	const char *in[] = {PCAPS "sensors/clock-site-a.pcap", PCAPS "sensors/clock-site-b.pcap",
	                    copy};
	const uint32_t of[] = {0, 1, 1};
	struct sm_sensor_clock c[2];
	clocks(in, of, 3, 2, c);
	unlink(copy);
	assert_false(c[1].known);
	assert_int_equal(c[1].matched, 0);
}

static void
test_unreadable_or_empty_sensor_is_not_known(void **state)
{
	(void)state;
	char empty[64];
	snprintf(empty, sizeof(empty), "/tmp/smaudit-sensor-%d.pcap", (int)getpid());
	FILE *f = fopen(empty, "wb");
	assert_non_null(f);
	fclose(f);
	const char *in[] = {PCAPS "sensors/clock-site-a.pcap", "/nonexistent/x.pcap", empty,
	                    PCAPS "site.conf"};
	const uint32_t of[] = {0, 1, 2, 3};
	struct sm_sensor_clock c[5];
	clocks(in, of, 4, 5, c); /* sensor 4 has no input at all */
	for (int i = 1; i < 5; i++) {
		assert_false(c[i].known);
		assert_int_equal(c[i].matched, 0);
	}
	/* the reference itself unreadable: nobody can be placed */
	two_sensors("/nonexistent/x.pcap", PCAPS "sensors/clock-site-b.pcap", c);
	assert_false(c[1].known);
	unlink(empty);
}

static void
test_bad_arguments_are_usage_errors(void **state)
{
	(void)state;
	const char *in[] = {PCAPS "sensors/clock-site-a.pcap"};
	const uint32_t of[] = {3};
	struct sm_sensor_clock c[SM_SENSORS_MAX + 1];
	struct sm_errbuf eb = {""};
	assert_int_equal(sm_sensor_clocks(in, of, 1, 2, c, &eb), SM_ERR_USAGE);
	assert_non_null(strstr(eb.msg, "sensor"));
	const uint32_t of0[] = {0};
	assert_int_equal(sm_sensor_clocks(in, of0, 1, 0, c, &eb), SM_ERR_USAGE);
	assert_int_equal(sm_sensor_clocks(in, of0, 1, SM_SENSORS_MAX + 1, c, &eb), SM_ERR_USAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_site_b_clock_ahead_by_2_5_s_is_measured),
	    cmocka_unit_test(test_transit_time_cancels_between_directions),
	    cmocka_unit_test(test_agreeing_clocks_give_no_offset),
	    cmocka_unit_test(test_sensor_sharing_no_packet_is_not_known),
	    cmocka_unit_test(test_vlan_tags_do_not_hide_the_same_packet),
	    cmocka_unit_test(test_sensor_matched_only_through_another_is_chained),
	    cmocka_unit_test(test_packets_seen_twice_at_a_sensor_are_not_matched),
	    cmocka_unit_test(test_unreadable_or_empty_sensor_is_not_known),
	    cmocka_unit_test(test_bad_arguments_are_usage_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
