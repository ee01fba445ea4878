#define _GNU_SOURCE /* fopencookie */
#include "smaudit/inflate.h"

#include <errno.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#define IN_BUF   (128u << 10)
#define PEEK_MAX 64

struct sm_instream {
	int fd;
	enum sm_compression kind;
	uint8_t *in;
	size_t in_len, in_off; /* bytes in `in`, next one to decode */
	bool in_eof;
	uint64_t consumed;
	uint8_t peek[PEEK_MAX]; /* decompressed bytes peeked, served first */
	size_t npeek, peek_used;
	bool done;       /* clean end of the data */
	bool failed;     /* error[] says why */
	bool frame_open; /* inside a gzip member or zstd/lz4 frame: its end is due */
	char error[256];
	z_stream z;
	bool z_init;
	ZSTD_DStream *zs;
	LZ4F_dctx *lz;
};

enum sm_compression
sm_compression_detect(const uint8_t *p, size_t n)
{
	if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return SM_COMP_GZIP;
	if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		return SM_COMP_ZSTD;
	if (n >= 4 && p[0] == 0x04 && p[1] == 0x22 && p[2] == 0x4d && p[3] == 0x18)
		return SM_COMP_LZ4;
	return SM_COMP_NONE;
}

const char *
sm_compression_name(enum sm_compression c)
{
	switch (c) {
	case SM_COMP_GZIP:
		return "gzip";
	case SM_COMP_ZSTD:
		return "zstd";
	case SM_COMP_LZ4:
		return "lz4";
	case SM_COMP_NONE:
		break;
	}
	return "none";
}

static ssize_t __attribute__((format(printf, 2, 3)))
fail(struct sm_instream *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->error, sizeof(h->error), fmt, ap);
	va_end(ap);
	h->failed = true;
	errno = EIO;
	return -1;
}

/* The decompressor refused the data at the current input position: false. */
static bool
corrupt(struct sm_instream *h, const char *why)
{
	fail(h, "%s data corrupt after %llu compressed bytes: %s", sm_compression_name(h->kind),
	     (unsigned long long)(h->consumed - (h->in_len - h->in_off)), why);
	return false;
}

static volatile sig_atomic_t *stop_flag;

void
sm_instream_stop_on(volatile sig_atomic_t *flag)
{
	stop_flag = flag;
}

/* read(2), again when a signal interrupts it, unless that signal asked to stop:
 * then 0, the end of the data (a quiet pipe would otherwise hold Ctrl-C until its
 * writer wrote or closed). */
static ssize_t
read_some(int fd, void *buf, size_t len)
{
	ssize_t r;
	do {
		if (stop_flag != NULL && *stop_flag)
			return 0;
		r = read(fd, buf, len);
	} while (r < 0 && errno == EINTR);
	return r;
}

/* Refills the input buffer once it is used up; false on a read error. */
static bool
fill_in(struct sm_instream *h)
{
	if (h->in_off < h->in_len || h->in_eof)
		return true;
	h->in_off = h->in_len = 0;
	ssize_t r = read_some(h->fd, h->in, IN_BUF);
	if (r < 0) {
		fail(h, "read error after %llu bytes: %s", (unsigned long long)h->consumed,
		     strerror(errno));
		return false;
	}
	if (r == 0)
		h->in_eof = true;
	h->in_len = (size_t)r;
	h->consumed += (uint64_t)r;
	return true;
}

static bool
gzip_step(struct sm_instream *h, uint8_t *out, size_t n, size_t *got)
{
	size_t avail = h->in_len - h->in_off;
	if (!h->frame_open) {
		if (avail == 0)
			return true;
		/* Not another member: what gzip calls trailing garbage, ignored as gzip
		 * does (tar-style zero padding, for one). */
		if (h->in[h->in_off] != 0x1f) {
			h->done = true;
			return true;
		}
		inflateReset(&h->z);
		h->frame_open = true;
	}
	h->z.next_in = h->in + h->in_off;
	h->z.avail_in = (uInt)avail;
	h->z.next_out = out;
	h->z.avail_out = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
	uInt out_before = h->z.avail_out;
	int rc = inflate(&h->z, Z_NO_FLUSH);
	h->in_off += avail - h->z.avail_in;
	*got = out_before - h->z.avail_out;
	if (rc == Z_STREAM_END)
		h->frame_open = false; /* a concatenated member may follow (pigz, cat a.gz b.gz) */
	else if (rc != Z_OK && rc != Z_BUF_ERROR)
		return corrupt(h, h->z.msg ? h->z.msg : zError(rc));
	return true;
}

static bool
zstd_step(struct sm_instream *h, uint8_t *out, size_t n, size_t *got)
{
	ZSTD_inBuffer ib = {h->in + h->in_off, h->in_len - h->in_off, 0};
	ZSTD_outBuffer ob = {out, n, 0};
	size_t r = ZSTD_decompressStream(h->zs, &ob, &ib);
	h->in_off += ib.pos;
	*got = ob.pos;
	if (ZSTD_isError(r))
		return corrupt(h, ZSTD_getErrorName(r));
	if (ib.pos > 0 || ob.pos > 0)   /* idle calls between frames hint at the next one */
		h->frame_open = r != 0; /* 0: a frame ended and was flushed */
	return true;
}

static bool
lz4_step(struct sm_instream *h, uint8_t *out, size_t n, size_t *got)
{
	size_t src = h->in_len - h->in_off, dst = n;
	size_t r = LZ4F_decompress(h->lz, out, &dst, h->in + h->in_off, &src, NULL);
	h->in_off += src;
	*got = dst;
	if (LZ4F_isError(r))
		return corrupt(h, LZ4F_getErrorName(r));
	if (src > 0 || dst > 0)         /* idle calls between frames hint at the next one */
		h->frame_open = r != 0; /* 0: the frame is complete; the next starts another */
	return true;
}

/* Up to n decompressed bytes into out: the count, 0 at the end, -1 on an error. */
static ssize_t
produce(struct sm_instream *h, uint8_t *out, size_t n)
{
	if (n == 0)
		return 0;
	for (;;) {
		if (h->failed)
			return -1;
		if (h->done)
			return 0;
		if (!fill_in(h))
			return -1;
		size_t got = 0, avail = h->in_len - h->in_off;
		bool ok = true;
		switch (h->kind) {
		case SM_COMP_NONE:
			got = avail < n ? avail : n;
			memcpy(out, h->in + h->in_off, got);
			h->in_off += got;
			break;
		case SM_COMP_GZIP:
			ok = gzip_step(h, out, n, &got);
			break;
		case SM_COMP_ZSTD:
			ok = zstd_step(h, out, n, &got);
			break;
		case SM_COMP_LZ4:
			ok = lz4_step(h, out, n, &got);
			break;
		}
		if (!ok)
			return -1;
		if (got > 0)
			return (ssize_t)got;
		if (h->in_off == h->in_len && h->in_eof) {
			if (h->frame_open)
				return fail(
				    h,
				    "%s data truncated: the file ends after %llu compressed "
				    "bytes, inside a compressed frame",
				    sm_compression_name(h->kind), (unsigned long long)h->consumed);
			h->done = true;
			return 0;
		}
	}
}

static ssize_t
instream_read(void *cookie, char *buf, size_t n)
{
	struct sm_instream *h = cookie;
	if (h->peek_used < h->npeek) {
		size_t k = h->npeek - h->peek_used < n ? h->npeek - h->peek_used : n;
		memcpy(buf, h->peek + h->peek_used, k);
		h->peek_used += k;
		return (ssize_t)k;
	}
	return produce(h, (uint8_t *)buf, n);
}

static void
instream_free(struct sm_instream *h)
{
	if (h->z_init)
		inflateEnd(&h->z);
	ZSTD_freeDStream(h->zs);
	LZ4F_freeDecompressionContext(h->lz);
	if (h->fd >= 0 && h->fd != STDIN_FILENO)
		close(h->fd);
	free(h->in);
	free(h);
}

static int
instream_close(void *cookie)
{
	instream_free(cookie);
	return 0;
}

/* Starts the decompressor for the kind the first input bytes show. */
static bool
start_decoder(struct sm_instream *h)
{
	h->kind = sm_compression_detect(h->in, h->in_len);
	switch (h->kind) {
	case SM_COMP_NONE:
		return true;
	case SM_COMP_GZIP:
		if (inflateInit2(&h->z, 15 + 32) != Z_OK) /* +32: gzip or zlib header */
			return false;
		h->z_init = true;
		h->frame_open = true;
		return true;
	case SM_COMP_ZSTD:
		h->zs = ZSTD_createDStream();
		h->frame_open = true;
		return h->zs != NULL && !ZSTD_isError(ZSTD_initDStream(h->zs));
	case SM_COMP_LZ4:
		h->frame_open = true;
		return !LZ4F_isError(LZ4F_createDecompressionContext(&h->lz, LZ4F_VERSION));
	}
	return false;
}

FILE *
sm_instream_open(int fd, struct sm_instream **out)
{
	*out = NULL;
	struct sm_instream *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		if (fd != STDIN_FILENO)
			close(fd);
		return NULL;
	}
	h->fd = fd;
	h->in = malloc(IN_BUF);
	if (h->in == NULL) {
		instream_free(h);
		return NULL;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL); /* fails harmlessly on a pipe */
	/* The magic numbers: a pipe may deliver them in pieces. */
	while (h->in_len < 4 && !h->in_eof && !h->failed) {
		ssize_t r = read_some(fd, h->in + h->in_len, IN_BUF - h->in_len);
		if (r < 0)
			fail(h, "read error: %s", strerror(errno));
		else if (r == 0)
			h->in_eof = true;
		else {
			h->in_len += (size_t)r;
			h->consumed += (uint64_t)r;
		}
	}
	if (!start_decoder(h)) {
		instream_free(h);
		return NULL;
	}
	cookie_io_functions_t io = {instream_read, NULL, NULL, instream_close};
	FILE *f = fopencookie(h, "rb", io);
	if (f == NULL) {
		instream_free(h);
		return NULL;
	}
	/* Readers take a record at a time: a large buffer saves decompressor calls. */
	setvbuf(f, NULL, _IOFBF, 256u << 10);
	*out = h;
	return f;
}

enum sm_compression
sm_instream_kind(const struct sm_instream *h)
{
	return h->kind;
}

size_t
sm_instream_peek(struct sm_instream *h, uint8_t *buf, size_t n)
{
	if (n > PEEK_MAX)
		n = PEEK_MAX;
	while (h->npeek < n) {
		ssize_t r = produce(h, h->peek + h->npeek, n - h->npeek);
		if (r <= 0)
			break;
		h->npeek += (size_t)r;
	}
	size_t k = h->npeek < n ? h->npeek : n;
	memcpy(buf, h->peek, k);
	return k;
}

const char *
sm_instream_error(const struct sm_instream *h)
{
	return h->error;
}

uint64_t
sm_instream_consumed(const struct sm_instream *h)
{
	return h->consumed;
}
