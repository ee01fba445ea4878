/* LD_PRELOAD shim: malloc, calloc and realloc fail (return NULL, errno ENOMEM) from
 * the FAIL_AFTER-th call on; with FAIL_COUNT_FILE set, the number of calls made is
 * written there at exit (to choose FAIL_AFTER values).  For tests/scripts/faults.sh. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static unsigned long calls, fail_after;
static int ready;

static int
should_fail(void)
{
	if (!ready) {
		const char *v = getenv("FAIL_AFTER");
		fail_after = v ? strtoul(v, NULL, 10) : 0;
		ready = 1;
	}
	/* atomic: the audit's threads (writer, --threads 2) allocate at once */
	return __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED) >= fail_after && fail_after > 0;
}

void *
malloc(size_t n)
{
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
	if (should_fail()) {
		errno = ENOMEM;
		return NULL;
	}
	return __libc_realloc(p, n);
}

static void __attribute__((destructor)) report(void)
{
	const char *f = getenv("FAIL_COUNT_FILE");
	FILE *o = f ? fopen(f, "w") : NULL;
	if (o != NULL) {
		fprintf(o, "%lu\n", calls);
		fclose(o);
	}
}
