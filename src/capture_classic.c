/*
 * capture_classic: classic pcap files, read with large read()s into one buffer
 * and parsed in place: no per-packet copy, no stdio.  libpcap opens the file first
 * (so what it refuses, we refuse, and its link type and snap length are used); a
 * record libpcap would treat specially (caplen beyond the snap length or the
 * maximum) hands the rest of the file to libpcap, which skips what was already
 * read.  Compressed files and pipes are read by libpcap alone (capture.c).
 */
#include "capture_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A source's first read is CLASSIC_FIRST bytes (one waiting for its turn in the merge
 * holds no more), later reads CLASSIC_BUF; a record is at most
 * CLASSIC_RECORD_MAX (its header and the largest packet). */
#define CLASSIC_BUF        (4u << 20)
#define CLASSIC_FIRST      (64u << 10)
#define CLASSIC_RECORD_MAX (16u + 262144u)

struct classic {
	int fd;
	uint8_t *buf;
	size_t size;     /* of buf: CLASSIC_FIRST, then CLASSIC_BUF or the record it must hold */
	size_t len, off; /* bytes in buf, parse position */
	uint64_t pos;    /* file offset of buf + len */
	uint64_t opened; /* the file's size when opened: beyond it, no reason to grow */
	bool eof, swap, nano;
	uint32_t snaplen;
	uint64_t delivered;
};

void
classic_free(struct classic *m)
{
	if (m == NULL)
		return;
	free(m->buf);
	free(m);
}

static uint32_t
classic_u32(const struct classic *m, size_t off)
{
	uint32_t v;
	memcpy(&v, m->buf + off, 4);
	return m->swap ? __builtin_bswap32(v) : v;
}

/* Makes m's buffer CLASSIC_BUF bytes, or hold need bytes; false when memory runs
 * out. */
static bool
classic_grow(struct classic *m, size_t need)
{
	size_t size = CLASSIC_BUF;
	if (size < need)
		size = need;
	uint8_t *buf = realloc(m->buf, size);
	if (buf == NULL)
		return false;
	m->buf = buf;
	m->size = size;
	return true;
}

/* Makes need bytes from off available; false at the end of the file (or an error). */
static bool
classic_fill(struct classic *m, size_t need)
{
	while (m->len - m->off < need && !m->eof) {
		if (m->off > 0) { /* keep the partial record, drop what was parsed */
			memmove(m->buf, m->buf + m->off, m->len - m->off);
			m->len -= m->off;
			m->off = 0;
		}
		/* read before and more to come: the source is being read, in large reads */
		bool more = m->pos > 24 && m->pos < m->opened;
		if ((need > m->size || (more && m->size < CLASSIC_BUF)) && !classic_grow(m, need))
			break;
		ssize_t n = pread(m->fd, m->buf + m->len, m->size - m->len, (off_t)m->pos);
		if (n <= 0) {
			m->eof = true;
			break;
		}
		m->len += (size_t)n;
		m->pos += (uint64_t)n;
	}
	return m->len - m->off >= need;
}

/* Whether need bytes from off are available, read if not yet. */
static inline bool
classic_have(struct classic *m, size_t need)
{
	return m->len - m->off >= need || classic_fill(m, need);
}

/* The next record; the packet stays valid until the next call. */
enum cap_read
classic_next(struct classic *m, struct lpcap_hdr *hdr, const uint8_t **data, char *why,
             size_t whylen)
{
	if (!classic_have(m, 16)) {
		if (m->len == m->off)
			return CAP_READ_END;
		snprintf(why, whylen,
		         "truncated dump file; tried to read 16 header bytes, only got %zu",
		         m->len - m->off);
		return CAP_READ_ERROR;
	}
	uint32_t sec = classic_u32(m, m->off), frac = classic_u32(m, m->off + 4);
	uint32_t caplen = classic_u32(m, m->off + 8), len = classic_u32(m, m->off + 12);
	if (caplen > m->snaplen || 16 + (size_t)caplen > CLASSIC_RECORD_MAX)
		return CAP_READ_HAND_OVER;
	if (!classic_have(m, 16 + (size_t)caplen)) {
		snprintf(why, whylen,
		         "truncated dump file; tried to read %u captured bytes, only got %zu",
		         caplen, m->len - m->off - 16);
		return CAP_READ_ERROR;
	}
	hdr->caplen = caplen;
	hdr->len = len;
	hdr->ts_ns = (int64_t)sec * 1000000000 + (int64_t)frac * (m->nano ? 1 : 1000);
	*data = m->buf + m->off + 16;
	m->off += 16 + (size_t)caplen;
	m->delivered++;
	return CAP_READ_PACKET;
}

/* The ahead-th record (1: the next) after the one classic_next() returned last,
 * when its bytes are already in the buffer (nothing is read, nothing moves);
 * valid until the next classic_next(). */
bool
classic_peek(const struct classic *m, unsigned ahead, uint32_t *caplen, const uint8_t **data)
{
	size_t off = m->off;
	for (;;) {
		if (m->len - off < 16)
			return false;
		uint32_t n = classic_u32(m, off + 8);
		if (n > m->len - off - 16)
			return false;
		if (--ahead == 0) {
			*caplen = n;
			*data = m->buf + off + 16;
			return true;
		}
		off += 16 + (size_t)n;
	}
}

/* Bytes of the file parsed so far (progress). */
uint64_t
classic_bytes_read(const struct classic *m)
{
	return m->pos - (m->len - m->off);
}

/* Reads a classic pcap file libpcap accepted ourselves; false to let libpcap read it. */
bool
classic_try_open(struct source *s)
{
	FILE *f = lpcap_file(s->pcap);
	struct stat st;
	if (f == NULL || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 24)
		return false;
	uint32_t magic;
	if (pread(fileno(f), &magic, 4, 0) != 4)
		return false;
	struct classic *m = calloc(1, sizeof(*m));
	/* the buffer grows as the file is read: a small file keeps a small one */
	size_t size = (uint64_t)st.st_size < CLASSIC_FIRST ? (size_t)st.st_size : CLASSIC_FIRST;
	if (m == NULL || (m->buf = malloc(size)) == NULL) {
		free(m);
		return false;
	}
	m->size = size;
	m->fd = fileno(f); /* stays open as long as libpcap's handle */
	m->pos = 24;
	m->opened = (uint64_t)st.st_size;
	m->snaplen = (uint32_t)lpcap_snaplen(s->pcap);
	if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
		m->nano = magic == 0xa1b23c4d;
	} else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
		m->swap = true;
		m->nano = magic == 0x4d3cb2a1;
	} else { /* modified formats with longer record headers: libpcap knows them */
		classic_free(m);
		return false;
	}
	posix_fadvise(m->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	s->classic = m;
	return true;
}

/* The rest of the file through libpcap, after the packets already handed out. */
bool
classic_hand_over(struct source *s)
{
	char perr[LPCAP_ERRBUF_SIZE] = "";
	uint64_t skip = s->classic->delivered;
	classic_free(s->classic);
	s->classic = NULL;
	lpcap_close(s->pcap);
	s->pcap = lpcap_open_file(s->info.path, perr);
	if (s->pcap == NULL) {
		snprintf(s->info.error, sizeof(s->info.error), "cannot reopen capture: %s", perr);
		return false;
	}
	for (uint64_t i = 0; i < skip; i++)
		if (lpcap_next(s->pcap, &s->hdr, &s->data) != LPCAP_PACKET)
			return false;
	return true;
}
