/*
 * addr: IPv4/IPv6 addresses and prefixes as plain values.
 * An address is 16 bytes plus a family; IPv4 lives in the first 4 bytes,
 * the rest zero, so two addresses compare with memcmp.  Text form is the
 * canonical inet_ntop form used in the database and reports.
 */
#ifndef SMAUDIT_ADDR_H
#define SMAUDIT_ADDR_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define SM_ADDRSTRLEN 46

struct sm_addr {
	uint8_t family; /* 4 or 6, 0 = unset */
	uint8_t a[16];
};

struct sm_prefix {
	struct sm_addr addr;
	uint8_t len; /* prefix length in bits */
};

void sm_addr_v4(struct sm_addr *out, const uint8_t b[4]);
void sm_addr_v6(struct sm_addr *out, const uint8_t b[16]);
int sm_addr_cmp(const struct sm_addr *x, const struct sm_addr *y);
bool sm_addr_eq(const struct sm_addr *x, const struct sm_addr *y);
/* Writes the canonical text of a into buf (at least SM_ADDRSTRLEN bytes). */
const char *sm_addr_str(const struct sm_addr *a, char *buf, size_t len);
/* Parses "1.2.3.4" or "fd00::1"; returns false if it is not an address. */
bool sm_addr_parse(const char *s, struct sm_addr *out);
/* Parses an address or "addr/len"; false with a reason in *why otherwise. */
bool sm_prefix_parse(const char *s, struct sm_prefix *out, const char **why);
bool sm_prefix_contains(const struct sm_prefix *p, const struct sm_addr *a);
/* True if the two prefixes share at least one address. */
bool sm_prefix_overlap(const struct sm_prefix *x, const struct sm_prefix *y);
uint32_t sm_addr_hash(const struct sm_addr *a, uint32_t seed);

#endif
