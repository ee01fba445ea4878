/*
 * digest: the only user of OpenSSL's libcrypto.
 * SHA-256 of evidence files (smaudit extract) through the EVP interface, a
 * vetted implementation: the digests are what a chain of custody rests on.
 * Streaming: new, update any number of times, final, free.
 */
#ifndef SMAUDIT_DIGEST_H
#define SMAUDIT_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "smaudit/err.h"

struct sm_sha256;

/* A new digest; NULL when out of memory.  Freed with sm_sha256_free(). */
struct sm_sha256 *sm_sha256_new(void);
/* false if libcrypto failed (the digest is then unusable). */
bool sm_sha256_update(struct sm_sha256 *c, const void *data, size_t len);
/* Writes the digest as 64 lowercase hex digits and a NUL; false if libcrypto failed. */
bool sm_sha256_final(struct sm_sha256 *c, char hex[65]);
void sm_sha256_free(struct sm_sha256 *c);
/* Digest of a whole file; SM_ERR_IO naming the path when it cannot be read. */
enum sm_err sm_sha256_file(const char *path, char hex[65], struct sm_errbuf *eb);

#endif
