/*
 * sha256: FIPS 180-4 SHA-256, for the digests of evidence files
 * (smaudit extract).  Streaming: init, update any number of times, final.
 */
#ifndef SMAUDIT_SHA256_H
#define SMAUDIT_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "smaudit/err.h"

struct sm_sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed */
	uint8_t block[64];
	size_t used;
};

void sm_sha256_init(struct sm_sha256 *c);
void sm_sha256_update(struct sm_sha256 *c, const void *data, size_t len);
/* Writes the digest as 64 lowercase hex digits and a NUL. */
void sm_sha256_final(struct sm_sha256 *c, char hex[65]);
/* Digest of a whole file; SM_ERR_IO naming the path when it cannot be read. */
enum sm_err sm_sha256_file(const char *path, char hex[65], struct sm_errbuf *eb);

#endif
