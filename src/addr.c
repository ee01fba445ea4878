#include "smaudit/addr.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

void
sm_addr_v4(struct sm_addr *out, const uint8_t b[4])
{
	memset(out, 0, sizeof(*out));
	out->family = 4;
	memcpy(out->a, b, 4);
}

void
sm_addr_v6(struct sm_addr *out, const uint8_t b[16])
{
	out->family = 6;
	memcpy(out->a, b, 16);
}

int
sm_addr_cmp(const struct sm_addr *x, const struct sm_addr *y)
{
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->a, y->a, 16);
}

bool
sm_addr_eq(const struct sm_addr *x, const struct sm_addr *y)
{
	return sm_addr_cmp(x, y) == 0;
}

/* a's four bytes in dotted decimal, then a NUL; where the NUL went */
static char *
put_v4(char *o, const uint8_t *a)
{
	for (int i = 0; i < 4; i++) {
		unsigned v = a[i];
		if (v >= 100)
			*o++ = (char)('0' + v / 100);
		if (v >= 10)
			*o++ = (char)('0' + v / 10 % 10);
		*o++ = (char)('0' + v % 10);
		*o++ = i < 3 ? '.' : '\0';
	}
	return o - 1;
}

/* inet_ntop()'s text of an IPv6 address, to the letter (unit_config holds the two
 * to each other): the longest run of two or more zero groups (the first of equal
 * ones) as "::", groups in lower-case hex, and an IPv4 address in the last 32 bits
 * in dotted form where the first 80 bits are zero and the next 16 all zero
 * (IPv4-compatible) or all ones (IPv4-mapped). */
static void
put_v6(char *o, const uint8_t *a)
{
	static const char hex[] = "0123456789abcdef";
	unsigned w[8];
	for (int i = 0; i < 8; i++)
		w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
	int best = -1, blen = 0;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && w[j] == 0)
			j++;
		if (j - i > blen) {
			best = i;
			blen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	if (blen < 2)
		best = -1;
	for (int i = 0; i < 8; i++) {
		if (best >= 0 && i >= best && i < best + blen) {
			if (i == best)
				*o++ = ':';
			continue;
		}
		if (i != 0)
			*o++ = ':';
		if (i == 6 && best == 0 && (blen == 6 || (blen == 5 && w[5] == 0xffff))) {
			put_v4(o, a + 12);
			return;
		}
		for (int shift = 12; shift >= 0; shift -= 4)
			if (shift == 0 || w[i] >> shift != 0)
				*o++ = hex[w[i] >> shift & 15];
	}
	if (best >= 0 && best + blen == 8)
		*o++ = ':';
	*o = '\0';
}

const char *
sm_addr_str(const struct sm_addr *a, char *buf, size_t len)
{
	/* every session stores two addresses: skip inet_ntop's sprintf */
	if (a->family == 4 && len >= 16)
		put_v4(buf, a->a);
	else if (a->family == 6 && len >= 46)
		put_v6(buf, a->a);
	else if (a->family == 4)
		inet_ntop(AF_INET, a->a, buf, (socklen_t)len);
	else if (a->family == 6)
		inet_ntop(AF_INET6, a->a, buf, (socklen_t)len);
	else if (len > 0)
		buf[0] = '\0';
	return buf;
}

bool
sm_addr_parse(const char *s, struct sm_addr *out)
{
	uint8_t b[16];
	if (inet_pton(AF_INET, s, b) == 1) {
		sm_addr_v4(out, b);
		return true;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		sm_addr_v6(out, b);
		return true;
	}
	return false;
}

static void
prefix_mask(struct sm_addr *a, unsigned len)
{
	unsigned bits = a->family == 4 ? 32 : 128;
	for (unsigned i = 0; i < bits / 8; i++) {
		unsigned keep = len >= (i + 1) * 8 ? 8 : (len > i * 8 ? len - i * 8 : 0);
		a->a[i] &= (uint8_t)(0xff00u >> keep);
	}
}

bool
sm_prefix_parse(const char *s, struct sm_prefix *out, const char **why)
{
	char tmp[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(tmp)) {
		*why = "not an IPv4 or IPv6 address";
		return false;
	}
	memcpy(tmp, s, alen);
	tmp[alen] = '\0';
	if (!sm_addr_parse(tmp, &out->addr)) {
		*why = "not an IPv4 or IPv6 address";
		return false;
	}
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (out->addr.family == 6 && memcmp(out->addr.a, mapped, sizeof(mapped)) == 0) {
		/* ::ffff:a.b.c.d (RFC 4291 2.5.5.2) stands for an IPv4 host inside a
		 * dual-stack socket; on the wire it is plain IPv4 */
		*why = "an IPv4-mapped IPv6 address: write the IPv4 address (packets carry it as "
		       "IPv4)";
		return false;
	}
	unsigned max = out->addr.family == 4 ? 32 : 128;
	out->len = (uint8_t)max;
	if (slash) {
		const char *d = slash + 1;
		char *end;
		if (*d < '0' || *d > '9') {
			*why = "prefix length must be a number after '/'";
			return false;
		}
		unsigned long n = strtoul(d, &end, 10);
		if (*end != '\0' || n > max) {
			*why = out->addr.family == 4 ? "IPv4 prefix length must be 0-32"
			                             : "IPv6 prefix length must be 0-128";
			return false;
		}
		out->len = (uint8_t)n;
		struct sm_addr masked = out->addr;
		prefix_mask(&masked, out->len);
		if (!sm_addr_eq(&masked, &out->addr)) {
			*why = "address has bits set beyond the prefix length";
			return false;
		}
	}
	return true;
}

bool
sm_prefix_contains(const struct sm_prefix *p, const struct sm_addr *a)
{
	if (p->addr.family != a->family)
		return false;
	unsigned full = p->len / 8u, rest = p->len % 8u;
	for (unsigned i = 0; i < full; i++) /* a few bytes: no call to memcmp */
		if (a->a[i] != p->addr.a[i])
			return false;
	return rest == 0 || ((a->a[full] ^ p->addr.a[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

bool
sm_prefix_overlap(const struct sm_prefix *x, const struct sm_prefix *y)
{
	if (x->addr.family != y->addr.family)
		return false;
	return x->len <= y->len ? sm_prefix_contains(x, &y->addr) : sm_prefix_contains(y, &x->addr);
}

uint32_t
sm_addr_hash(const struct sm_addr *a, uint32_t h)
{
	/* FNV-1a over the bytes that matter for the family. */
	size_t n = a->family == 4 ? 4 : 16;
	for (size_t i = 0; i < n; i++) {
		h ^= a->a[i];
		h *= 16777619u;
	}
	return h;
}
