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

const char *
sm_addr_str(const struct sm_addr *a, char *buf, size_t len)
{
	if (a->family == 4 && len >= 16) {
		/* every session stores two addresses: skip inet_ntop's sprintf */
		char *o = buf;
		for (int i = 0; i < 4; i++) {
			unsigned v = a->a[i];
			if (v >= 100)
				*o++ = (char)('0' + v / 100);
			if (v >= 10)
				*o++ = (char)('0' + v / 10 % 10);
			*o++ = (char)('0' + v % 10);
			*o++ = i < 3 ? '.' : '\0';
		}
	} else if (a->family == 4)
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
