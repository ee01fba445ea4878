/*
 * decode: link layer, tunnels, IP and transport headers, by our own code.
 * Every read goes through a bounds-checked cursor; no length field is
 * trusted.  The decoder owns a bounded IP fragment table so that every
 * fragment is attributed to its flow.  Packets that cannot be decoded are
 * counted by reason (see sm_dec_reason_name) and never crash the decoder.
 */
#ifndef SMAUDIT_DECODE_H
#define SMAUDIT_DECODE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "smaudit/addr.h"
#include "smaudit/capture.h"

enum sm_dec {
	DEC_OK = 0,
	DEC_TRUNCATED,
	DEC_UNSUPPORTED,
	DEC_INVALID,
	DEC_HELD, /* a fragment kept until its first fragment names the flow */
};

/* Why a packet was not decoded; counted per run. */
enum sm_dec_reason {
	R_NONE = 0,
	R_LINK_TRUNCATED,
	R_LINKTYPE_UNSUPPORTED,
	R_NOT_IP,
	R_VLAN_TOO_DEEP,
	R_TUNNEL_TOO_DEEP,
	R_IPV4_TRUNCATED,
	R_IPV4_INVALID,
	R_IPV6_TRUNCATED,
	R_IPV6_INVALID,
	R_EXTHDR_TRUNCATED,
	R_L4_TRUNCATED,
	R_L4_INVALID,
	R_FRAG_ORPHAN,
	R_FRAG_TABLE_FULL,
	R_GRE_UNSUPPORTED,
	R_TUNNEL_INNER,
	R_COUNT
};

const char *sm_dec_reason_name(enum sm_dec_reason r);

enum sm_tunnel {
	TUN_NONE = 0,
	TUN_GRE,
	TUN_ERSPAN1,
	TUN_ERSPAN2,
	TUN_ERSPAN3,
	TUN_VXLAN,
	TUN_IPIP,
	TUN_GENEVE,
	TUN_GTP,
	TUN_VXLAN_GPE,
	TUN_TEREDO,
	TUN_AYIYA,
};

const char *sm_tunnel_name(enum sm_tunnel t);

#define SM_VLAN_NONE (-1)

/* Tunnels inside tunnels the decoder follows; deeper ones stay the outer packet. */
#define SM_MAX_OUTER 3

/* One tunnel layer a packet came through: the datagram that carried it, which is
 * a conversation of its own on the wire (a UDP flow between VTEPs, a GRE flow
 * between routers). */
struct sm_outer {
	enum sm_tunnel kind; /* the tunnel this datagram carries */
	struct sm_addr src, dst;
	uint8_t proto; /* 17 for UDP tunnels, 47 GRE, 4/41 IP in IP */
	uint8_t ttl;
	uint16_t sport, dport; /* UDP ports; 0 for GRE and IP in IP */
	uint32_t ip_len;       /* bytes of the carrying IP datagram (this frame's) */
	uint32_t held_pkts;    /* earlier fragments of the carrying datagram, counted now */
	uint32_t held_bytes;
	int32_t vlan, inner_vlan;
};

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20

/* IP protocol numbers (IPv6 next headers) the decoder reads. */
#define SM_PROTO_HOPOPTS  0
#define SM_PROTO_ICMP     1
#define SM_PROTO_IPIP     4 /* IPv4 in IP */
#define SM_PROTO_TCP      6
#define SM_PROTO_UDP      17
#define SM_PROTO_IPV6     41 /* IPv6 in IP */
#define SM_PROTO_ROUTING  43
#define SM_PROTO_FRAGMENT 44
#define SM_PROTO_GRE      47
#define SM_PROTO_AH       51
#define SM_PROTO_ICMP6    58
#define SM_PROTO_NONE     59 /* IPv6: no next header */
#define SM_PROTO_DSTOPTS  60
#define SM_PROTO_SCTP     132
#define SM_PROTO_MOBILITY 135
#define SM_PROTO_HIP      139
#define SM_PROTO_SHIM6    140

/* ICMP echo types, for the decoder, the session table, the policy and the -f probes. */
#define SM_ICMP_ECHO_REPLY    0
#define SM_ICMP_ECHO_REQUEST  8
#define SM_ICMP6_ECHO_REQUEST 128
#define SM_ICMP6_ECHO_REPLY   129

/* ICMP errors: each quotes the packet it is about. */
#define SM_ICMP_UNREACH         3
#define SM_ICMP_FRAG_NEEDED     4 /* the code of SM_ICMP_UNREACH (path MTU discovery) */
#define SM_ICMP_SOURCE_QUENCH   4
#define SM_ICMP_REDIRECT        5
#define SM_ICMP_TIME_EXCEEDED   11
#define SM_ICMP_PARAM_PROBLEM   12
#define SM_ICMP6_UNREACH        1
#define SM_ICMP6_PACKET_TOO_BIG 2
#define SM_ICMP6_TIME_EXCEEDED  3
#define SM_ICMP6_PARAM_PROBLEM  4

/* ICMPv6 that IPv6 cannot work without: MLD (RFC 2710: 130 query, 131 report,
 * 132 done; RFC 3810: 143 version 2 report) and neighbour discovery (RFC 4861:
 * 133-137 router and neighbour solicitation and advertisement, redirect). */
#define SM_ICMP6_MLD_QUERY   130 /* the first of 130-137 */
#define SM_ICMP6_ND_REDIRECT 137 /* the last */
#define SM_ICMP6_MLD2_REPORT 143

/* UDP ports of the tunnels the decoder takes off (either port of a datagram);
 * the session table's service ports name them too (all but GTP-U's). */
#define SM_PORT_GTPU      2152
#define SM_PORT_TEREDO    3544
#define SM_PORT_GRE_UDP   4754 /* RFC 8086 */
#define SM_PORT_VXLAN     4789
#define SM_PORT_VXLAN_GPE 4790
#define SM_PORT_AYIYA     5072
#define SM_PORT_GENEVE    6081

/* The address family in the 4-byte header of DLT_NULL and DLT_LOOP (BSD
 * loopback): IPv4 is 2 everywhere, IPv6 is the writing system's AF_INET6. */
#define SM_LOOP_AF_INET          2
#define SM_LOOP_AF_INET6_LINUX   10
#define SM_LOOP_AF_INET6_BSD     24 /* NetBSD, OpenBSD, BSD/OS */
#define SM_LOOP_AF_INET6_FREEBSD 28 /* FreeBSD, DragonFly BSD */
#define SM_LOOP_AF_INET6_DARWIN  30 /* macOS, iOS */

/* EtherTypes the decoder reads (also GRE and Geneve protocol types). */
#define SM_ETHERTYPE_IPV4        0x0800
#define SM_ETHERTYPE_IPV6        0x86dd
#define SM_ETHERTYPE_VLAN        0x8100
#define SM_ETHERTYPE_QINQ        0x88a8 /* 802.1ad */
#define SM_ETHERTYPE_QINQ_9100   0x9100 /* pre-802.1ad stacked tags */
#define SM_ETHERTYPE_QINQ_9200   0x9200
#define SM_ETHERTYPE_MPLS        0x8847
#define SM_ETHERTYPE_MPLS_MCAST  0x8848
#define SM_ETHERTYPE_PBB         0x88e7 /* 802.1ah I-TAG */
#define SM_ETHERTYPE_VNTAG       0x8926
#define SM_ETHERTYPE_PPPOE       0x8864 /* session stage */
#define SM_ETHERTYPE_TEB         0x6558 /* transparent Ethernet bridging */
#define SM_ETHERTYPE_ERSPAN      0x88be /* types I and II */
#define SM_ETHERTYPE_ERSPAN3     0x22eb
#define SM_ETHERTYPE_PPP         0x880b /* PPTP's enhanced GRE */
#define SM_ETHERTYPE_ARUBA_80211 0x9000 /* Aruba access points (and the two ranges below) */
/* Aruba's other GRE types for 802.11 frames: 0x82x0, and 0x8300 to 0x8370, low
 * nibble zero */
#define SM_ETHERTYPE_ARUBA_82X0     0x8200
#define SM_ETHERTYPE_ARUBA_83X0     0x8300
#define SM_ETHERTYPE_ARUBA_83X0_MAX 0x8370

/* A packet quoted inside an ICMP error. */
struct sm_quote {
	struct sm_addr src, dst;
	uint8_t proto;
	uint16_t sport, dport; /* ICMP echo: identifier in both */
	bool ports_known;
};

struct sm_packet {
	int64_t ts_ns;
	uint32_t source;
	uint8_t sensor; /* the capture point that saw it (0 with one sensor), set by the caller */
	int32_t vlan;   /* outermost 802.1Q/ad tag, SM_VLAN_NONE if none */
	int32_t inner_vlan;

	struct sm_addr src, dst;
	uint8_t proto;   /* IP protocol of the transport header */
	uint8_t ttl;     /* TTL / hop limit */
	uint16_t ip_id;  /* IPv4 identification (0 for IPv6) */
	uint32_t ip_len; /* bytes of the IP datagram on the wire */
	const uint8_t
	    *l3; /* innermost IPv4 header as captured (stream reassembly); NULL for IPv6 */
	uint32_t l3_caplen;

	bool fragment;      /* part of a fragmented datagram */
	bool l4_header;     /* transport header present (false for non-first fragments) */
	uint32_t held_pkts; /* earlier fragments of this datagram, counted now */
	uint32_t held_bytes;

	uint16_t sport, dport;
	uint8_t tcp_flags;
	uint16_t tcp_win; /* the window field as sent (unscaled); 1 if not captured */
	uint32_t seq, ack;
	uint32_t payload_len; /* transport payload length per the headers */
	uint32_t payload_caplen;
	const uint8_t *payload;

	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id;
	bool icmp_echo;
	bool icmp_error; /* quote is valid */
	struct sm_quote quote;

	enum sm_tunnel tunnel; /* outermost tunnel the packet came through */
	struct sm_addr outer_src, outer_dst;

	/* The layers that carried it, outermost first (nouter 0: not tunnelled).  Set
	 * for DEC_HELD too: the carrying datagrams were seen although the inner
	 * fragment waits.  Kept last: sm_decode clears only up to here. */
	uint8_t nouter;
	struct sm_outer outer[SM_MAX_OUTER];
};

struct sm_decoder_opts {
	uint32_t max_frags; /* fragment table bound */
	int64_t frag_timeout_ns;
	bool vxlan; /* decapsulate udp/4789 and udp/4790 (VXLAN-GPE) */
};

struct sm_decoder;

struct sm_decoder *sm_decoder_new(const struct sm_decoder_opts *opts);
void sm_decoder_free(struct sm_decoder *d);

/* Decodes raw into out.  Returns DEC_OK, DEC_HELD or a failure, counted by reason.
 * out->payload and out->l3 point into raw or into the decoder (an outer datagram
 * it reassembled from IP fragments): valid until the next call. */
enum sm_dec sm_decode(struct sm_decoder *d, const struct sm_raw_packet *raw, struct sm_packet *out);

/* A session's key: protocol, VLAN tags, both ends (a session's src is its
 * initiator; a packet's, its sender). */
struct sm_flow_key {
	uint8_t proto;
	int32_t vlan, inner_vlan;
	struct sm_addr src, dst;
	uint16_t sport, dport;
};
/* The key of the plain case only (Ethernet with up to two VLAN tags or raw IP;
 * an unfragmented IPv4 or IPv6 datagram carrying TCP or UDP), read without the
 * decoder's state: a hint to fetch the packet's session early, which
 * sm_decode() may contradict (a tunnel, say).  False for anything else. */
bool sm_decode_hint(const struct sm_raw_packet *raw, struct sm_flow_key *out);

/* Counts per reason; fragments still held when called are counted as orphans. */
void sm_decoder_finish(struct sm_decoder *d);
uint64_t sm_decoder_count(const struct sm_decoder *d, enum sm_dec_reason r);
uint64_t sm_decoder_undecoded(const struct sm_decoder *d);
uint64_t sm_decoder_frag_evictions(const struct sm_decoder *d);

#endif
