/* Test helpers: build packets byte by byte, the way they appear on the wire. */
#ifndef TEST_PKT_H
#define TEST_PKT_H

#include <stdint.h>
#include <string.h>

struct buf {
	uint8_t b[2048];
	size_t n;
};

static inline void
put8(struct buf *w, unsigned v)
{
	w->b[w->n++] = (uint8_t)v;
}

static inline void
put16(struct buf *w, unsigned v)
{
	put8(w, v >> 8);
	put8(w, v & 0xff);
}

static inline void
put32(struct buf *w, uint32_t v)
{
	put16(w, v >> 16);
	put16(w, v & 0xffff);
}

static inline void
putn(struct buf *w, const void *p, size_t n)
{
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static inline void
eth(struct buf *w, unsigned type)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1};
	putn(w, macs, 12);
	put16(w, type);
}

/* IPv4 header; total is the IP total length (header + payload). */
static inline void
ipv4(struct buf *w, const char *src, const char *dst, unsigned proto, unsigned total, unsigned id,
     unsigned frag, unsigned ttl)
{
	unsigned s[4], d[4];
	sscanf(src, "%u.%u.%u.%u", &s[0], &s[1], &s[2], &s[3]);
	sscanf(dst, "%u.%u.%u.%u", &d[0], &d[1], &d[2], &d[3]);
	put8(w, 0x45);
	put8(w, 0);
	put16(w, total);
	put16(w, id);
	put16(w, frag);
	put8(w, ttl);
	put8(w, proto);
	put16(w, 0); /* checksum: never checked, like offloaded captures */
	for (int i = 0; i < 4; i++)
		put8(w, s[i]);
	for (int i = 0; i < 4; i++)
		put8(w, d[i]);
}

static inline void
tcp(struct buf *w, unsigned sport, unsigned dport, uint32_t seq, uint32_t ack, unsigned flags)
{
	put16(w, sport);
	put16(w, dport);
	put32(w, seq);
	put32(w, ack);
	put8(w, 0x50);
	put8(w, flags);
	put16(w, 65535);
	put16(w, 0);
	put16(w, 0);
}

#endif
