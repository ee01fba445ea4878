/*
 * ifcopy: the second copy of a packet in a Linux "any" capture (ifcopy.h).
 */
#include "ifcopy.h"

#include <stdlib.h>
#include <string.h>

/* No interface named (SLL): the same packet again so soon is a copy. */
#define IFINDEX_NONE UINT32_MAX
/* SLL's and SLL2's packet type of a packet the host sent (PACKET_OUTGOING). */
#define SLL_OUTGOING 4
/* Bytes of the IP packet a copy shares with its first. */
#define KEY_BYTES 96

struct slot {
	uint64_t key; /* 0: empty */
	int64_t ts_ns;
	uint32_t ifindex;
	bool out; /* sent by the host (the loopback device shows a packet so, then received) */
};

struct sm_ifcopy {
	struct slot slot[SM_IFCOPY_SLOTS];
	uint64_t copies;
};

void
sm_ifcopy_free(struct sm_ifcopy *c)
{
	free(c);
}

uint64_t
sm_ifcopy_count(const struct sm_ifcopy *c)
{
	return c != NULL ? c->copies : 0;
}

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/* What two copies of one packet share: its first KEY_BYTES bytes (to its IP
 * length) but the TTL (hop limit) and the IP and transport checksums; the bytes
 * after the headers tell apart packets of one length and IPv4 ID 0 (a UDP media
 * stream, an SCTP association).  0: no IP packet at off. */
static uint64_t
packet_key(const struct sm_raw_packet *raw, size_t off, uint16_t type, uint8_t sensor)
{
	const uint8_t *d = raw->data;
	while ((type == SM_ETHERTYPE_VLAN || type == SM_ETHERTYPE_QINQ) && off + 4 <= raw->caplen) {
		type = (uint16_t)(d[off + 2] << 8 | d[off + 3]);
		off += 4;
	}
	if ((type != SM_ETHERTYPE_IPV4 && type != SM_ETHERTYPE_IPV6) || off + 20 > raw->caplen)
		return 0;
	/* to the end of the IP packet: an Ethernet frame's padding is captured as it
	 * arrives, not as it leaves */
	const uint8_t *ip = d + off;
	size_t len = type == SM_ETHERTYPE_IPV4 ? (size_t)(ip[2] << 8 | ip[3])
	                                       : 40 + (size_t)(ip[4] << 8 | ip[5]);
	size_t n = raw->caplen - off;
	if (len < n)
		n = len;
	if (n > KEY_BYTES)
		n = KEY_BYTES;
	uint8_t b[KEY_BYTES] = {0};
	memcpy(b, ip, n);
	size_t l4; /* the transport header: its checksum, of a packet the host sent,
	            * is the NIC's to fill (offload), and a capture sees it before */
	uint8_t proto;
	if (type == SM_ETHERTYPE_IPV4) {
		b[8] = 0;          /* TTL */
		b[10] = b[11] = 0; /* header checksum */
		l4 = (size_t)(b[0] & 0x0f) * 4;
		proto = b[9];
	} else {
		b[7] = 0; /* hop limit */
		l4 = 40;
		proto = b[6];
	}
	size_t sum = proto == SM_PROTO_TCP                               ? 16
	             : proto == SM_PROTO_UDP                             ? 6
	             : proto == SM_PROTO_ICMP || proto == SM_PROTO_ICMP6 ? 2
	                                                                 : 0;
	if (sum != 0 && l4 + sum + 2 <= KEY_BYTES)
		b[l4 + sum] = b[l4 + sum + 1] = 0;
	uint64_t h = mix(0x5eed, (uint64_t)sensor << 16 | n);
	for (size_t k = 0; k < KEY_BYTES; k += 8) {
		uint64_t w;
		memcpy(&w, b + k, 8);
		h = mix(h, w);
	}
	return h != 0 ? h : 1;
}

bool
sm_ifcopy_packet(struct sm_ifcopy **cp, const struct sm_raw_packet *raw,
                 const struct sm_packet *pkt)
{
	const uint8_t *d = raw->data;
	uint32_t ifindex;
	bool out;
	uint64_t key;
	if (raw->linktype == SM_DLT_LINUX_SLL && raw->caplen >= 16) {
		ifindex = IFINDEX_NONE;
		out = d[0] == 0 && d[1] == SLL_OUTGOING;
		key = packet_key(raw, 16, (uint16_t)(d[14] << 8 | d[15]), pkt->sensor);
	} else if (raw->linktype == SM_DLT_LINUX_SLL2 && raw->caplen >= 20) {
		out = d[10] == SLL_OUTGOING;
		ifindex = (uint32_t)d[4] << 24 | (uint32_t)d[5] << 16 | (uint32_t)d[6] << 8 | d[7];
		key = packet_key(raw, 20, (uint16_t)(d[0] << 8 | d[1]), pkt->sensor);
	} else {
		return false;
	}
	if (key == 0 || (*cp == NULL && (*cp = calloc(1, sizeof(**cp))) == NULL))
		return false;
	struct sm_ifcopy *c = *cp;
	struct slot *s = &c->slot[key & (SM_IFCOPY_SLOTS - 1)];
	if (s->key == key && raw->ts_ns >= s->ts_ns &&
	    raw->ts_ns - s->ts_ns <= SM_IFCOPY_WINDOW_NS &&
	    (ifindex == IFINDEX_NONE || ifindex != s->ifindex || out != s->out)) {
		c->copies++; /* the first copy stays: a third interface may see it too */
		return true;
	}
	*s = (struct slot){.key = key, .ts_ns = raw->ts_ns, .ifindex = ifindex, .out = out};
	return false;
}
