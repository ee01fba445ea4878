/* SHA-256 (src/digest.c, OpenSSL EVP) against the FIPS 180-4 / NIST example vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smaudit/digest.h"

static void
digest(const char *msg, size_t repeat, char hex[65])
{
	struct sm_sha256 *c = sm_sha256_new();
	assert_non_null(c);
	for (size_t i = 0; i < repeat; i++)
		assert_true(sm_sha256_update(c, msg, strlen(msg)));
	assert_true(sm_sha256_final(c, hex));
	sm_sha256_free(c);
}

static void
test_vectors(void **state)
{
	(void)state;
	char hex[65];
	digest("", 1, hex);
	assert_string_equal(hex,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest("abc", 1, hex);
	assert_string_equal(hex,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1, hex);
	assert_string_equal(hex,
	                    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* one million 'a', fed in pieces that straddle blocks */
	digest("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 20000, hex);
	assert_string_equal(hex,
	                    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_vectors)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
