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

/* A UDP header (the length covers the header and n payload bytes). */
static void
udp_hdr(struct buf *w, unsigned sport, unsigned dport, unsigned n)
{
	put16(w, sport);
	put16(w, dport);
	put16(w, 8 + n);
	put16(w, 0);
}

static void
outer_is(const struct sm_packet *p, int i, enum sm_tunnel kind, const char *src, unsigned sport,
         const char *dst, unsigned dport)
{
	assert_true(p->nouter > i);
	assert_int_equal(p->outer[i].kind, kind);
	addr_is(&p->outer[i].src, src);
	addr_is(&p->outer[i].dst, dst);
	assert_int_equal(p->outer[i].sport, sport);
	assert_int_equal(p->outer[i].dport, dport);
}

static void
test_vxlan_from_its_port_and_vxlan_gpe(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	/* VXLAN sent from 4789 to 4790 (as an ERSPAN'd Arista capture has it) */
	eth(&w, 0x0800);
	ipv4(&w, "192.0.2.1", "192.0.2.2", 17, 20 + 8 + 8 + 14 + 40, 3, 0, 64);
	udp_hdr(&w, 4789, 4790, 8 + 14 + 40);
	put32(&w, 0x08000000);
	put32(&w, 0x00006400);
	eth(&w, 0x0800);
	syn_v4(&w);
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.tunnel, TUN_VXLAN);
	assert_int_equal(p.nouter, 1);
	outer_is(&p, 0, TUN_VXLAN, "192.0.2.1", 4789, "192.0.2.2", 4790);
	assert_int_equal(p.outer[0].proto, 17);
	assert_int_equal(p.outer[0].ip_len, 20 + 8 + 8 + 14 + 40);
	assert_int_equal(p.dport, 11104);

	/* VXLAN-GPE carrying IPv4 without an Ethernet header */
	w.n = 0;
	eth(&w, 0x0800);
	ipv4(&w, "192.0.2.1", "192.0.2.2", 17, 20 + 8 + 8 + 40, 3, 0, 64);
	udp_hdr(&w, 40000, 4790, 8 + 40);
	put32(&w, 0x0c000001); /* I and P flags, next protocol 1: IPv4 */
	put32(&w, 0x00006400);
	syn_v4(&w);
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.tunnel, TUN_VXLAN_GPE);
	addr_is(&p.src, "10.0.0.1");

	/* a source port of 4789 with a header that is not VXLAN's stays UDP */
	w.n = 0;
	eth(&w, 0x0800);
	ipv4(&w, "192.0.2.1", "192.0.2.2", 17, 20 + 8 + 8 + 14 + 40, 3, 0, 64);
	udp_hdr(&w, 4789, 53, 8 + 14 + 40);
	put32(&w, 0x08010000); /* reserved bits set: a DNS id, not VXLAN */
	put32(&w, 0x00006401);
	eth(&w, 0x0800);
	syn_v4(&w);
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.nouter, 0);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.dport, 53);
}

/* A GTP-U G-PDU carrying the SYN, split into two IPv4 fragments at 24 bytes of
 * UDP payload. */
static void
gtp_fragments(struct buf *a, struct buf *b, unsigned id)
{
	struct buf all = {.n = 0};
	put8(&all, 0x30); /* version 1, PT, no options */
	put8(&all, 0xff); /* G-PDU */
	put16(&all, 40);
	put32(&all, 1);
	syn_v4(&all); /* 40 bytes */
	/* first fragment: UDP header + 16 bytes; second: the other 32 */
	eth(a, 0x0800);
	ipv4(a, "192.0.2.10", "192.0.2.20", 17, 20 + 8 + 16, id, 0x2000, 64);
	udp_hdr(a, 2152, 2152, (unsigned)all.n);
	putn(a, all.b, 16);
	eth(b, 0x0800);
	ipv4(b, "192.0.2.10", "192.0.2.20", 17, 20 + (unsigned)all.n - 16, id, 3, 64);
	putn(b, all.b + 16, all.n - 16);
}

static void
test_gtp_in_ip_fragments_is_decapsulated_once_whole(void **state)
{
	(void)state;
	struct buf a = {.n = 0}, b = {.n = 0};
	struct sm_packet p;
	gtp_fragments(&a, &b, 500);
	/* in order: the head is the carrying flow's, the tail brings the inner SYN */
	assert_int_equal(run(&a, 1, &p), DEC_OK);
	assert_int_equal(p.nouter, 0);
	assert_int_equal(p.dport, 2152);
	assert_int_equal(run(&b, 1, &p), DEC_OK);
	assert_int_equal(p.tunnel, TUN_GTP);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.dport, 11104);
	assert_int_equal(p.tcp_flags, TH_SYN);
	outer_is(&p, 0, TUN_GTP, "192.0.2.10", 2152, "192.0.2.20", 2152);
	assert_int_equal(p.outer[0].ip_len, 20 + 32);
	/* reversed: the tail waits, the head completes the datagram */
	a.n = b.n = 0;
	gtp_fragments(&a, &b, 501);
	assert_int_equal(run(&b, 1, &p), DEC_HELD);
	assert_int_equal(run(&a, 1, &p), DEC_OK);
	assert_int_equal(p.tunnel, TUN_GTP);
	assert_int_equal(p.dport, 11104);
	assert_int_equal(p.outer[0].held_pkts, 1);
	assert_int_equal(p.outer[0].held_bytes, 20 + 32);
}

/* An IPv6 TCP SYN, 2001::1 (Teredo prefix) to 2001:db8::2. */
static void
syn_v6(struct buf *w, const char *src)
{
	put32(w, 0x60000000);
	put16(w, 20);
	put8(w, 6);
	put8(w, 64);
	struct sm_addr a;
	sm_addr_parse(src, &a);
	putn(w, a.a, 16);
	sm_addr_parse("2001:db8::2", &a);
	putn(w, a.a, 16);
	tcp(w, 50000, 80, 7, 0, 0x02);
}

static void
test_teredo_and_ayiya_on_any_port(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	/* Teredo to a relay's own port: known by the Teredo prefix */
	eth(&w, 0x0800);
	ipv4(&w, "192.0.2.1", "198.51.100.7", 17, 20 + 8 + 60, 3, 0, 64);
	udp_hdr(&w, 3797, 32900, 60);
	syn_v6(&w, "2001:0:4137:9e50::1");
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.tunnel, TUN_TEREDO);
	addr_is(&p.src, "2001:0:4137:9e50::1");
	assert_int_equal(p.dport, 80);
	outer_is(&p, 0, TUN_TEREDO, "192.0.2.1", 3797, "198.51.100.7", 32900);
	/* the same IPv6 packet outside the prefix on that port is just UDP */
	w.n = 0;
	eth(&w, 0x0800);
	ipv4(&w, "192.0.2.1", "198.51.100.7", 17, 20 + 8 + 60, 3, 0, 64);
	udp_hdr(&w, 3797, 32900, 60);
	syn_v6(&w, "2001:db8::1");
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.nouter, 0);
	assert_int_equal(p.dport, 32900);
	/* a Teredo bubble (no next header, nothing in it) stays UDP */
	w.n = 0;
	eth(&w, 0x0800);
	ipv4(&w, "192.0.2.1", "198.51.100.7", 17, 20 + 8 + 40, 3, 0, 64);
	udp_hdr(&w, 3797, 3544, 40);
	put32(&w, 0x60000000);
	put16(&w, 0);
	put8(&w, 59);
	put8(&w, 21);
	for (int i = 0; i < 32; i++)
		put8(&w, i == 0 ? 0x20 : i == 1 ? 0x01 : 0);
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.nouter, 0);
	assert_int_equal(p.dport, 3544);
	/* AYIYA: 16-byte identity, 20-byte signature, forward, IPv6 */
	w.n = 0;
	eth(&w, 0x0800);
	ipv4(&w, "192.0.2.1", "198.51.100.9", 17, 20 + 8 + 44 + 60, 3, 0, 64);
	udp_hdr(&w, 40000, 5072, 44 + 60);
	put8(&w, 0x41);
	put8(&w, 0x52);
	put8(&w, 0x11);
	put8(&w, 41);
	put32(&w, 0);
	for (int i = 0; i < 36; i++)
		put8(&w, 0xab);
	syn_v6(&w, "2001:db8::1");
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.tunnel, TUN_AYIYA);
	assert_int_equal(p.dport, 80);
}

static void
test_pbb_vntag_and_aruba_gre(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	struct sm_packet p;
	eth(&w, 0x88e7); /* 802.1ah I-TAG, then the customer's addresses and type */
	put32(&w, 0x00000100);
	eth(&w, 0x0800);
	syn_v4(&w);
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.dport, 11104);
	w.n = 0;
	eth(&w, 0x8926); /* VN-Tag */
	put32(&w, 0x80010000);
	put16(&w, 0x0800);
	syn_v4(&w);
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.dport, 11104);
	/* Aruba GRE 0x8240: an 802.11 QoS data frame with an A-MSDU */
	w.n = 0;
	eth(&w, 0x0800);
	ipv4(&w, "192.0.2.1", "192.0.2.2", 47, 20 + 4 + 26 + 14 + 8 + 40, 3, 0, 64);
	put16(&w, 0);
	put16(&w, 0x8240);
	put8(&w, 0x88); /* QoS data */
	put8(&w, 0x02); /* from DS */
	for (int i = 0; i < 22; i++)
		put8(&w, 0);
	put8(&w, 0x80); /* QoS control: A-MSDU present */
	put8(&w, 0);
	for (int i = 0; i < 12; i++) /* A-MSDU subframe: DA, SA */
		put8(&w, 2);
	put16(&w, 48);
	put32(&w, 0xaaaa0300);
	put16(&w, 0);
	put16(&w, 0x0800);
	syn_v4(&w);
	assert_int_equal(run(&w, 1, &p), DEC_OK);
	assert_int_equal(p.tunnel, TUN_GRE);
	assert_int_equal(p.dport, 11104);
	outer_is(&p, 0, TUN_GRE, "192.0.2.1", 0, "192.0.2.2", 0);
	assert_int_equal(p.outer[0].proto, 47);
}

/* The prefetch hint: where it answers, the decoder's key; where the decoder
 * must do more (fragments, extension headers, other link types, cut frames), no
 * answer. */
static void
hint_agrees(const struct buf *w, int linktype)
{
	struct sm_raw_packet raw = {1000000000LL, (uint32_t)w->n, (uint32_t)w->n, linktype, 0,
	                            w->b};
	struct sm_flow_key h;
	struct sm_packet p;
	assert_true(sm_decode_hint(&raw, &h));
	assert_int_equal(sm_decode(dec, &raw, &p), DEC_OK);
	assert_int_equal(h.proto, p.proto);
	assert_int_equal(h.vlan, p.vlan);
	assert_int_equal(h.inner_vlan, p.inner_vlan);
	assert_true(sm_addr_eq(&h.src, &p.src));
	assert_true(sm_addr_eq(&h.dst, &p.dst));
	assert_int_equal(h.sport, p.sport);
	assert_int_equal(h.dport, p.dport);
}

static bool
hint_of(const struct buf *w, int linktype, size_t caplen)
{
	struct sm_raw_packet raw = {1000000000LL, (uint32_t)caplen, (uint32_t)w->n, linktype, 0,
	                            w->b};
	struct sm_flow_key h;
	return sm_decode_hint(&raw, &h);
}

static void
test_flow_hint_is_the_decoders_key_or_nothing(void **state)
{
	(void)state;
	struct buf w = {.n = 0};
	eth(&w, 0x0800);
	syn_v4(&w);
	hint_agrees(&w, 1);
	/* cut before the ports: no answer (nothing read past the cut) */
	for (size_t cut = 0; cut < 14 + 20 + 4; cut++)
		assert_false(hint_of(&w, 1, cut));
	assert_true(hint_of(&w, 1, 14 + 20 + 4));

	w.n = 0;
	eth(&w, 0x88a8);
	put16(&w, 0x2000 | 200);
	put16(&w, 0x8100);
	put16(&w, 110);
	put16(&w, 0x0800);
	ipv4(&w, "10.0.0.1", "10.0.0.2", 17, 28, 1, 0, 64);
	put16(&w, 5353);
	put16(&w, 53);
	put16(&w, 8);
	put16(&w, 0);
	hint_agrees(&w, 1);

	w.n = 0; /* raw IPv6, TCP right after the header */
	put32(&w, 0x60000000);
	put16(&w, 20);
	put8(&w, 6);
	put8(&w, 64);
	uint8_t a[16] = {0xfd, 0, 0, 1}, b[16] = {0xfd, 0, 0, 2};
	putn(&w, a, 16);
	putn(&w, b, 16);
	tcp(&w, 50000, 3260, 7, 0, 0x02);
	hint_agrees(&w, 101);

	w.n = 0; /* a fragment: the decoder's to join */
	eth(&w, 0x0800);
	ipv4(&w, "10.0.0.1", "10.0.0.2", 6, 40, 1, 0x2000, 64);
	tcp(&w, 40000, 11104, 1000, 0, 0x02);
	assert_false(hint_of(&w, 1, w.n));

	w.n = 0; /* three VLAN tags, ICMP, a link type it does not read */
	eth(&w, 0x8100);
	for (int i = 0; i < 3; i++) {
		put16(&w, 100 + i);
		put16(&w, i < 2 ? 0x8100 : 0x0800);
	}
	syn_v4(&w);
	assert_false(hint_of(&w, 1, w.n));
	w.n = 0;
	eth(&w, 0x0800);
	ipv4(&w, "10.0.0.1", "10.0.0.2", 1, 28, 1, 0, 64);
	put32(&w, 0x08000000);
	put32(&w, 0);
	assert_false(hint_of(&w, 1, w.n));
	w.n = 0;
	put32(&w, 2);
	syn_v4(&w);
	assert_false(hint_of(&w, 0, w.n));
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
	    cmocka_unit_test(test_vxlan_from_its_port_and_vxlan_gpe),
	    cmocka_unit_test(test_gtp_in_ip_fragments_is_decapsulated_once_whole),
	    cmocka_unit_test(test_teredo_and_ayiya_on_any_port),
	    cmocka_unit_test(test_pbb_vntag_and_aruba_gre),
	    cmocka_unit_test(test_unknown_linktype_and_non_ip),
	    cmocka_unit_test(test_flow_hint_is_the_decoders_key_or_nothing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
