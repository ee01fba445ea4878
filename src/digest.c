#include "smaudit/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* The EVP context is the digest: struct sm_sha256 only names it for callers. */
struct sm_sha256 *
sm_sha256_new(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	return (struct sm_sha256 *)ctx;
}

bool
sm_sha256_update(struct sm_sha256 *c, const void *data, size_t len)
{
	return EVP_DigestUpdate((EVP_MD_CTX *)c, data, len) == 1;
}

bool
sm_sha256_final(struct sm_sha256 *c, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	hex[0] = '\0';
	if (EVP_DigestFinal_ex((EVP_MD_CTX *)c, md, &n) != 1 || n != 32)
		return false;
	for (unsigned int i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return true;
}

void
sm_sha256_free(struct sm_sha256 *c)
{
	EVP_MD_CTX_free((EVP_MD_CTX *)c);
}

enum sm_err
sm_sha256_file(const char *path, char hex[65], struct sm_errbuf *eb)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return sm_error(eb, SM_ERR_IO, "%s: cannot read: %s", path, strerror(errno));
	struct sm_sha256 *c = sm_sha256_new();
	if (c == NULL) {
		fclose(f);
		return sm_error(eb, SM_ERR_NOMEM, "%s: cannot start a SHA-256 digest", path);
	}
	uint8_t buf[65536];
	size_t n;
	bool ok = true;
	while (ok && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		ok = sm_sha256_update(c, buf, n);
	int bad = ferror(f);
	fclose(f);
	enum sm_err e = SM_OK;
	if (bad)
		e = sm_error(eb, SM_ERR_IO, "%s: read error", path);
	else if (!ok || !sm_sha256_final(c, hex))
		e = sm_error(eb, SM_ERR_INTERNAL, "%s: libcrypto failed to compute SHA-256", path);
	sm_sha256_free(c);
	return e;
}
