/* decode: every link type and tunnel the issue names, fragments, ICMP quotes, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "pkt.h"
#include "smaudit/decode.h"

static struct sm_decoder *dec;

static int
setup(void **state)
{
	(void)state;
	struct sm_decoder_opts o = {.max_frags = 16, .vxlan = true};
	dec = sm_decoder_new(&o);
	return dec ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	sm_decoder_free(dec);
	return 0;
}

static enum sm_dec
run(const struct buf *w, int linktype, struct sm_packet *p)
{
	struct sm_raw_packet raw = {1000000000LL, (uint32_t)w->n, (uint32_t)w->n, linktype, 0,
	                            w->b};
	return sm_decode(dec, &raw, p);
}

static void
addr_is(const struct sm_addr *a, const char *want)
{
	char buf[SM_ADDRSTRLEN];
	assert_string_equal(sm_addr_str(a, buf, sizeof(buf)), want);
}

static void
syn_v4(struct buf *w)
{
	ipv4(w, "10.0.0.1", "10.0.0.2", 6, 40, 1, 0x4000, 64);
	tcp(w, 40000, 11104, 1000, 0, 0x02);
}

static void
test_ethernet_tcp_syn(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	eth(&w, 0x0800);
	syn_v4(&w);
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	addr_is(&p.src, "10.0.0.1");
	addr_is(&p.dst, "10.0.0.2");
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 11104);
	assert_int_equal(p.tcp_flags, TH_SYN);
	assert_int_equal(p.seq, 1000);
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.vlan, SM_VLAN_NONE);
	assert_int_equal(p.ip_len, 40);
}

static void
test_vlan_and_qinq(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	eth(&w, 0x8100);
	put16(&w, 0x2000 | 100); /* priority bits must not leak into the id */
	put16(&w, 0x0800);
	syn_v4(&w);
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.vlan, 100);
	assert_int_equal(p.inner_vlan, SM_VLAN_NONE);

	w.n = 0;
	eth(&w, 0x88a8);
	put16(&w, 200);
	put16(&w, 0x8100);
	put16(&w, 110);
	put16(&w, 0x0800);
	syn_v4(&w);
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.vlan, 200);
	assert_int_equal(p.inner_vlan, 110);
	assert_int_equal(p.dport, 11104);
}

static void
test_linux_cooked_sll2_and_sll(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	put16(&w, 0x0800);
	for (int i = 0; i < 18; i++)
		put8(&w, 0);
	syn_v4(&w);
	assert_int_equal(run(&w, 276, &p), DEC_OK);
	assert_int_equal(p.dport, 11104);
	w.n = 0;
	for (int i = 0; i < 14; i++)
		put8(&w, 0);
	put16(&w, 0x0800);
	syn_v4(&w);
	assert_int_equal(run(&w, 113, &p), DEC_OK);
	assert_int_equal(p.dport, 11104);
}

static void
test_bsd_loopback_both_byte_orders(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	put32(&w, 0x02000000); /* AF_INET written little-endian (DLT_NULL) */
	syn_v4(&w);
	assert_int_equal(run(&w, 0, &p), DEC_OK);
	w.n = 0;
	put32(&w, 2); /* DLT_LOOP: network order */
	syn_v4(&w);
	assert_int_equal(run(&w, 108, &p), DEC_OK);
	assert_int_equal(p.dport, 11104);
}

static void
test_raw_ipv6_with_extension_header(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	put32(&w, 0x60000000);
	put16(&w, 8 + 20); /* payload: hop-by-hop + tcp */
	put8(&w, 0);       /* next: hop-by-hop */
	put8(&w, 64);
	uint8_t a[16] = {0xfd, 0, 0, 1}, b[16] = {0xfd, 0, 0, 2};
	a[15] = 0x11;
	b[15] = 0x11;
	putn(&w, a, 16);
	putn(&w, b, 16);
	put8(&w, 6); /* hop-by-hop: next tcp, length 0 (8 bytes) */
	put8(&w, 0);
	for (int i = 0; i < 6; i++)
		put8(&w, 0);
	tcp(&w, 50000, 3260, 7, 0, 0x02);
	assert_int_equal(run(&w, 101, &p), DEC_OK);
	addr_is(&p.src, "fd00:1::11");
	addr_is(&p.dst, "fd00:2::11");
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.dport, 3260);
}

static void
test_truncated_ipv4_is_counted_not_decoded(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	eth(&w, 0x0800);
	put8(&w, 0x45);
	put8(&w, 0);
	put16(&w, 40);
	uint64_t before = sm_decoder_count(dec, R_IPV4_TRUNCATED);
	assert_int_equal(run(&w, 1, &p), DEC_TRUNCATED);
	assert_int_equal(sm_decoder_count(dec, R_IPV4_TRUNCATED), before + 1);
}

static void
test_lying_header_length_never_reads_past_caplen(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	eth(&w, 0x0800);
	ipv4(&w, "10.0.0.1", "10.0.0.2", 6, 1500, 1, 0, 64);
	w.b[14] = 0x4f; /* IHL 60 bytes, but only 20 captured */
	assert_int_equal(run(&w, 1, &p), DEC_TRUNCATED);
	w.b[14] = 0x43; /* IHL 12: impossible */
	assert_int_equal(run(&w, 1, &p), DEC_INVALID);
}

static void
test_snaplen_cut_packet_keeps_wire_length(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	eth(&w, 0x0800);
	ipv4(&w, "10.0.0.1", "10.0.0.2", 6, 1500, 1, 0x4000, 64);
	tcp(&w, 40000, 11105, 1, 1, 0x18);
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.ip_len, 1500);
	assert_int_equal(p.payload_len, 1460);
}

static void
test_fragments_in_any_order_join_their_flow(void **state)
{
	(void)state;
	struct buf first = {.n = 0}, second = {.n = 0};
	struct sm_packet p;
	eth(&first, 0x0800);
	ipv4(&first, "10.0.0.1", "10.0.0.2", 17, 20 + 16, 77, 0x2000, 64);
	put16(&first, 5000);
	put16(&first, 6000);
	put16(&first, 100);
	put16(&first, 0);
	put32(&first, 0);
	put32(&first, 0);
	eth(&second, 0x0800);
	ipv4(&second, "10.0.0.1", "10.0.0.2", 17, 20 + 8, 77, 2, 64);
	put32(&second, 0);
	put32(&second, 0);
	/* in order */
	assert_int_equal(run(&first, 1, &p), DEC_OK);
	assert_int_equal(p.dport, 6000);
	assert_int_equal(run(&second, 1, &p), DEC_OK);
	assert_false(p.l4_header);
	assert_int_equal(p.sport, 5000);
	assert_int_equal(p.dport, 6000);
	/* reversed, another datagram id: the tail is held until the head names the flow */
	first.b[14 + 5] = 78;
	second.b[14 + 5] = 78;
	assert_int_equal(run(&second, 1, &p), DEC_HELD);
	assert_int_equal(run(&first, 1, &p), DEC_OK);
	assert_int_equal(p.held_pkts, 1);
	assert_int_equal(p.held_bytes, 28);
}

static void
test_orphan_fragment_counted_at_finish(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	eth(&w, 0x0800);
	ipv4(&w, "10.0.0.9", "10.0.0.2", 17, 28, 99, 5, 64);
	put32(&w, 0);
	put32(&w, 0);
	assert_int_equal(run(&w, 1, &p), DEC_HELD);
	uint64_t before = sm_decoder_count(dec, R_FRAG_ORPHAN);
	sm_decoder_finish(dec);
	assert_int_equal(sm_decoder_count(dec, R_FRAG_ORPHAN), before + 1);
}

static void
test_icmp_unreachable_quotes_the_attempt(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	eth(&w, 0x0800);
	ipv4(&w, "10.0.9.2", "10.0.0.1", 1, 20 + 8 + 28, 5, 0, 63);
	put8(&w, 3);
	put8(&w, 13);
	put16(&w, 0);
	put32(&w, 0);
	ipv4(&w, "10.0.0.1", "10.0.0.2", 6, 40, 1, 0x4000, 63);
	put16(&w, 40000);
	put16(&w, 3260);
	put32(&w, 1000);
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_true(p.icmp_error);
	assert_int_equal(p.icmp_type, 3);
	assert_int_equal(p.icmp_code, 13);
	addr_is(&p.quote.src, "10.0.0.1");
	addr_is(&p.quote.dst, "10.0.0.2");
	assert_int_equal(p.quote.proto, 6);
	assert_int_equal(p.quote.sport, 40000);
	assert_int_equal(p.quote.dport, 3260);
}

static void
test_vxlan_inner_packet_with_outer_recorded(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	eth(&w, 0x0800);
	ipv4(&w, "192.0.2.1", "192.0.2.2", 17, 20 + 8 + 8 + 14 + 40, 3, 0, 64);
	put16(&w, 33333);
	put16(&w, 4789);
	put16(&w, 8 + 8 + 14 + 40);
	put16(&w, 0);
	put32(&w, 0x08000000);
	put32(&w, 0x00006400);
	eth(&w, 0x0800);
	syn_v4(&w);
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.tunnel, TUN_VXLAN);
	addr_is(&p.src, "10.0.0.1");
	assert_int_equal(p.dport, 11104);
	addr_is(&p.outer_src, "192.0.2.1");
	addr_is(&p.outer_dst, "192.0.2.2");
}

static void
test_erspan2_and_erspan3(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	eth(&w, 0x0800);
	ipv4(&w, "192.0.2.1", "192.0.2.2", 47, 20 + 8 + 8 + 14 + 40, 3, 0, 64);
	put16(&w, 0x1000); /* S bit */
	put16(&w, 0x88be);
	put32(&w, 1);          /* sequence */
	put32(&w, 0x10000001); /* ERSPAN II header */
	put32(&w, 0);
	eth(&w, 0x0800);
	syn_v4(&w);
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.tunnel, TUN_ERSPAN2);
	assert_int_equal(p.dport, 11104);

	w.n = 0;
	eth(&w, 0x0800);
	ipv4(&w, "192.0.2.1", "192.0.2.2", 47, 20 + 4 + 12 + 14 + 40, 3, 0, 64);
	put16(&w, 0);
	put16(&w, 0x22eb);
	put32(&w, 0x20000001);
	put32(&w, 0);
	put32(&w, 0); /* O bit clear: no platform sub-header */
	eth(&w, 0x0800);
	syn_v4(&w);
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.tunnel, TUN_ERSPAN3);
	addr_is(&p.src, "10.0.0.1");
}

static void
test_unknown_linktype_and_non_ip(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	eth(&w, 0x0806);
	put32(&w, 0);
	assert_int_equal(run(&w, 1, &p), DEC_UNSUPPORTED);
	assert_int_equal(run(&w, 147, &p), DEC_UNSUPPORTED);
	assert_true(sm_decoder_count(dec, R_NOT_IP) >= 1);
	assert_true(sm_decoder_count(dec, R_LINKTYPE_UNSUPPORTED) >= 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ethernet_tcp_syn),
	    cmocka_unit_test(test_vlan_and_qinq),
	    cmocka_unit_test(test_linux_cooked_sll2_and_sll),
	    cmocka_unit_test(test_bsd_loopback_both_byte_orders),
	    cmocka_unit_test(test_raw_ipv6_with_extension_header),
	    cmocka_unit_test(test_truncated_ipv4_is_counted_not_decoded),
	    cmocka_unit_test(test_lying_header_length_never_reads_past_caplen),
	    cmocka_unit_test(test_snaplen_cut_packet_keeps_wire_length),
	    cmocka_unit_test(test_fragments_in_any_order_join_their_flow),
	    cmocka_unit_test(test_orphan_fragment_counted_at_finish),
	    cmocka_unit_test(test_icmp_unreachable_quotes_the_attempt),
	    cmocka_unit_test(test_vxlan_inner_packet_with_outer_recorded),
	    cmocka_unit_test(test_erspan2_and_erspan3),
	    cmocka_unit_test(test_unknown_linktype_and_non_ip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
