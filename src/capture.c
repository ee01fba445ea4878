/*
 * capture: many inputs as one timeline.  Lists the files (directories in name
 * order, "-" for stdin), opens each with the reader its first bytes call for
 * (capture_pcapng.c, capture_classic.c, libpcap through capture_pcap.c; compressed
 * files and pipes through src/inflate.c), and merges their packets by time with a
 * min-heap of the sources that hold a pending packet.  What could not be read is
 * recorded per source, never fatal.
 */
#define _GNU_SOURCE /* fopencookie */
#include "capture_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static enum sm_err
add_path(struct sm_capture *c, const char *path, size_t input, struct sm_errbuf *eb)
{
	/* a file given twice (or through a link, or in a directory given too) is read
	 * once: read twice, every conversation would count double */
	struct stat st;
	bool regular = strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode);
	for (size_t i = 0; regular && i < c->nsrc; i++)
		if (c->src[i].file_known && c->src[i].dev == st.st_dev &&
		    c->src[i].ino == st.st_ino) {
			capture_warnf(c, "%s: the same file as %s: read once", path,
			              c->src[i].info.path);
			return SM_OK;
		}
	if (c->nsrc == c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : 8;
		struct source *n = realloc(c->src, ncap * sizeof(*n));
		if (n == NULL)
			return sm_error(eb, SM_ERR_NOMEM, "out of memory listing captures");
		c->src = n;
		c->cap = ncap;
	}
	struct source *s = &c->src[c->nsrc];
	memset(s, 0, sizeof(*s));
	s->cap = c;
	s->file_known = regular;
	if (regular) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	s->last_ns = INT64_MIN;
	s->info.input = input;
	s->info.path = strdup(path);
	if (s->info.path == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory listing captures");
	c->nsrc++;
	return SM_OK;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds every regular file below dir, in name order, descending into subdirectories. */
static enum sm_err
add_dir(struct sm_capture *c, const char *dir, size_t input, int depth, struct sm_errbuf *eb)
{
	if (depth > 16)
		return SM_OK;
	DIR *d = opendir(dir);
	if (d == NULL) {
		capture_warnf(c, "%s: cannot read directory: %s", dir, strerror(errno));
		return SM_OK;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	enum sm_err err = SM_OK;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof(*nn));
			if (nn == NULL) {
				err = sm_error(eb, SM_ERR_NOMEM, "out of memory reading %s", dir);
				break;
			}
			names = nn;
		}
		size_t len = strlen(dir) + strlen(de->d_name) + 2;
		names[n] = malloc(len);
		if (names[n] == NULL) {
			err = sm_error(eb, SM_ERR_NOMEM, "out of memory reading %s", dir);
			break;
		}
		snprintf(names[n], len, "%s/%s", dir, de->d_name);
		n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (err == SM_OK && stat(names[i], &st) == 0) {
			if (S_ISDIR(st.st_mode))
				err = add_dir(c, names[i], input, depth + 1, eb);
			else if (S_ISREG(st.st_mode))
				err = add_path(c, names[i], input, eb);
		}
		free(names[i]);
	}
	free(names);
	return err;
}

static bool
heap_less(const struct sm_capture *c, uint32_t x, uint32_t y)
{
	if (c->src[x].hdr.ts_ns != c->src[y].hdr.ts_ns)
		return c->src[x].hdr.ts_ns < c->src[y].hdr.ts_ns;
	return x < y; /* equal times: keep command-line order */
}

static void
heap_push(struct sm_capture *c, uint32_t idx)
{
	size_t i = c->nheap++;
	c->heap[i] = idx;
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!heap_less(c, c->heap[i], c->heap[parent]))
			break;
		uint32_t t = c->heap[i];
		c->heap[i] = c->heap[parent];
		c->heap[parent] = t;
		i = parent;
	}
}

static uint32_t
heap_pop(struct sm_capture *c)
{
	uint32_t top = c->heap[0];
	c->heap[0] = c->heap[--c->nheap];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < c->nheap && heap_less(c, c->heap[l], c->heap[m]))
			m = l;
		if (r < c->nheap && heap_less(c, c->heap[r], c->heap[m]))
			m = r;
		if (m == i)
			break;
		uint32_t t = c->heap[i];
		c->heap[i] = c->heap[m];
		c->heap[m] = t;
		i = m;
	}
	return top;
}

/* Whether the -f filter keeps the packet just read (classic pcap sources). */
static bool
source_keeps(struct source *s)
{
	if (s->prog == NULL)
		return true;
	shape_note(s->cap, s->linktype, s->data, s->hdr.caplen);
	return lpcap_bpf_match(s->prog, s->data, s->hdr.caplen, s->hdr.len);
}

/* Bytes of s's file read so far, as stored on disk (progress). */
static uint64_t
source_bytes_read(const struct source *s)
{
	if (s->finished)
		return s->read_at_end;
	if (s->in != NULL)
		return sm_instream_consumed(s->in);
	if (s->classic != NULL)
		return classic_bytes_read(s->classic);
	FILE *f = s->ng != NULL ? pcapng_file(s->ng) : s->pcap != NULL ? lpcap_file(s->pcap) : NULL;
	off_t at = f != NULL ? ftello(f) : -1;
	return at > 0 ? (uint64_t)at : 0;
}

/* Closes what reads s: for good, or (park) until the merge reaches it, its pending
 * packet kept in hdr. */
static void
source_close(struct source *s, bool park)
{
	if (!park && !s->finished) {
		s->read_at_end = s->size > 0 ? s->size : source_bytes_read(s);
		s->finished = true;
	}
	lpcap_bpf_free(s->prog);
	s->prog = NULL;
	classic_free(s->classic);
	s->classic = NULL;
	lpcap_close(s->pcap);
	s->pcap = NULL;
	if (s->ng != NULL) /* reopened after parking, it reads from the start again */
		s->info.dropped = pcapng_dropped(s->ng);
	pcapng_free(s->ng);
	s->ng = NULL;
	s->in = NULL; /* closed with the pcap or ng stream above */
	s->has_pkt = park;
	s->parked = park;
}

void
source_finish(struct source *s)
{
	source_close(s, false);
}

/* Records and reports why s stopped before its end: the decompressor's reason when
 * it is what failed (the reader then only saw a short read), else why. */
static void
read_stopped(struct sm_capture *c, struct source *s, const char *why)
{
	if (s->in != NULL && *sm_instream_error(s->in) != '\0')
		why = sm_instream_error(s->in);
	snprintf(s->info.error, sizeof(s->info.error), "read stopped after %llu packets: %s",
	         (unsigned long long)s->info.packets, why);
	capture_warnf(c, "%s: %s", s->info.path, s->info.error);
}

/* Reads the next packet of source s; a read error ends the source and is recorded. */
static void
source_read_one(struct sm_capture *c, struct source *s)
{
	s->has_pkt = false;
	if (s->ng != NULL) {
		const char *why = NULL;
		enum cap_read rc = pcapng_next(s, &why);
		if (rc == CAP_READ_PACKET) {
			s->has_pkt = true;
			return;
		}
		if (rc != CAP_READ_END || (s->in != NULL && *sm_instream_error(s->in) != '\0'))
			read_stopped(c, s, why != NULL ? why : "read error");
		source_finish(s);
		return;
	}
	if (s->classic != NULL) {
		char why[160];
		enum cap_read rc = classic_next(s->classic, &s->hdr, &s->data, why, sizeof(why));
		if (rc == CAP_READ_PACKET) {
			s->has_pkt = true;
			return;
		}
		if (rc == CAP_READ_ERROR)
			read_stopped(c, s, why);
		if (rc != CAP_READ_HAND_OVER || !classic_hand_over(s)) {
			source_finish(s);
			return;
		}
	}
	if (s->pcap == NULL)
		return;
	enum lpcap_next rc = lpcap_next(s->pcap, &s->hdr, &s->data);
	if (rc == LPCAP_PACKET) {
		s->has_pkt = true;
		return;
	}
	if (rc == LPCAP_ERROR)
		read_stopped(c, s, lpcap_geterr(s->pcap));
	source_finish(s);
}

/* The next packet of s in the order of its file that the -f filter keeps, on the
 * common clock. */
static void
source_read_raw(struct sm_capture *c, struct source *s)
{
	do
		source_read_one(c, s);
	while (s->has_pkt && !source_keeps(s));
	if (s->has_pkt)
		s->hdr.ts_ns += s->offset_ns;
}

/* s's records came out of time order: from the packet just read on, they are
 * sorted (capture_order.c).  Without memory for it, they stay in file order. */
static bool
order_start(struct sm_capture *c, struct source *s)
{
	s->order = order_new();
	if (s->order == NULL || !order_push(s->order, &s->hdr, s->data)) {
		order_free(s->order);
		s->order = NULL;
		return false;
	}
	capture_warnf(c,
	              "%s: records out of time order (a packet comes %.3f ms after one taken later,"
	              " as in a capture of several NICs): sorted from here on, within %.1f s",
	              s->info.path, ((double)s->last_ns - (double)s->hdr.ts_ns) / 1e6,
	              (double)ORDER_WINDOW_NS / 1e9);
	return true;
}

/* The next packet of s the -f filter keeps, on the common clock, in time order
 * once its records showed they are not. */
static void
source_read(struct sm_capture *c, struct source *s)
{
	if (s->order == NULL) {
		source_read_raw(c, s);
		if (!s->has_pkt || s->hdr.ts_ns >= s->last_ns) {
			if (s->has_pkt)
				s->last_ns = s->hdr.ts_ns;
			return;
		}
		s->info.late++; /* the packet before it was handed on already */
		if (!order_start(c, s))
			return;
	}
	/* read on until the oldest packet held can no longer be preceded */
	while (!s->read_end && !order_full(s->order)) {
		source_read_raw(c, s);
		if (!s->has_pkt) {
			s->read_end = true;
			break;
		}
		if (s->hdr.ts_ns < s->last_ns)
			s->info.late++;
		else if (s->hdr.ts_ns < order_newest(s->order))
			s->info.reordered++;
		if (!order_push(s->order, &s->hdr, s->data)) {
			read_stopped(c, s, "out of memory sorting packets out of time order");
			source_finish(s);
			s->read_end = true;
		}
	}
	s->has_pkt = order_pop(s->order, &s->hdr, &s->data);
	if (s->has_pkt && s->hdr.ts_ns > s->last_ns)
		s->last_ns = s->hdr.ts_ns;
}

/* The compression a regular file's first bytes show. */
static enum sm_compression
file_compression(const char *path)
{
	uint8_t magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SM_COMP_NONE; /* libpcap's open reports why */
	ssize_t n = read(fd, magic, sizeof(magic));
	close(fd);
	return sm_compression_detect(magic, n > 0 ? (size_t)n : 0);
}

/*
 * A compressed file, a FIFO or standard input: read once, through the stream
 * src/inflate.c makes of it (decompressed, its first bytes peeked and handed
 * back), so that both libpcap and our pcapng reader get the whole capture.
 */
static enum sm_err
source_open_stream(struct source *s, char *perr, struct sm_errbuf *eb)
{
	bool std_in = strcmp(s->info.path, "-") == 0;
	int fd = std_in ? STDIN_FILENO : open(s->info.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(s->info.error, sizeof(s->info.error), "cannot open capture: %s",
		         strerror(errno));
		return SM_OK;
	}
	FILE *f = sm_instream_open(fd, &s->in);
	if (f == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "%s: out of memory opening the capture",
		                s->info.path);
	uint8_t magic[4] = {0};
	size_t n = sm_instream_peek(s->in, magic, sizeof(magic));
	const char *kind = sm_compression_name(sm_instream_kind(s->in));
	if (*sm_instream_error(s->in) != '\0') {
		snprintf(s->info.error, sizeof(s->info.error), "cannot open capture: %s",
		         sm_instream_error(s->in));
	} else if (n == 4 && pcapng_magic(magic)) {
		return pcapng_attach(s, f, eb);
	} else {
		s->pcap = lpcap_open_stream(f, perr);
		if (s->pcap != NULL)
			return SM_OK;
		if (sm_instream_kind(s->in) == SM_COMP_NONE)
			snprintf(s->info.error, sizeof(s->info.error), "cannot open capture: %s",
			         perr);
		else
			snprintf(s->info.error, sizeof(s->info.error),
			         "cannot open capture: %s (in the %s-decompressed data)", perr,
			         kind);
	}
	fclose(f);
	s->in = NULL;
	return SM_OK;
}

/* A source our pcapng reader took: finished at once when it was refused. */
static enum sm_err
pcapng_opened(struct source *s, enum sm_err e)
{
	if (!s->info.opened)
		source_finish(s);
	return e;
}

/* With more inputs than this, a regular file waits for its turn in the merge closed
 * (its first packet read): rotated captures of a day are thousands of files, more than
 * a process may open, each holding read buffers. */
#define PARK_AFTER 8

/* Raises the process's limit of open files towards its hard limit when n inputs
 * could all be open at once (files whose times overlap are). */
static void
files_allowed(size_t n)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return;
	rlim_t want = (rlim_t)n + 64; /* the database, the report, libraries */
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static enum sm_err
source_open(struct source *s, const char *bpf, struct sm_errbuf *eb)
{
	char perr[LPCAP_ERRBUF_SIZE] = "";
	s->bpf = bpf;
	enum sm_err ng_err = SM_OK;
	struct stat st;
	bool regular =
	    strcmp(s->info.path, "-") != 0 && stat(s->info.path, &st) == 0 && S_ISREG(st.st_mode);
	if (regular)
		s->size = (uint64_t)st.st_size;
	if (!regular || file_compression(s->info.path) != SM_COMP_NONE) {
		enum sm_err e = source_open_stream(s, perr, eb);
		if (s->ng != NULL)
			return pcapng_opened(s, e);
		if (e != SM_OK || s->pcap == NULL)
			return e;
	} else if (pcapng_try_open(s, &ng_err, eb)) {
		return pcapng_opened(s, ng_err);
	} else {
		s->pcap = lpcap_open_file(s->info.path, perr);
		if (s->pcap == NULL) {
			snprintf(s->info.error, sizeof(s->info.error), "cannot open capture: %s",
			         perr);
			return SM_OK;
		}
	}
	s->linktype = lpcap_linktype(s->pcap);
	s->linktype_known = true;
	if (bpf != NULL && *bpf != '\0') {
		/* applied by source_read, which also sees the frames it drops */
		s->prog = lpcap_compile(s->pcap, s->linktype, bpf, perr);
		if (s->prog == NULL) {
			enum sm_err e =
			    sm_error(eb, SM_ERR_USAGE, "invalid filter -f '%s': %s", bpf, perr);
			source_finish(s);
			return e;
		}
	}
	if (s->in == NULL) /* a plain regular file */
		classic_try_open(s);
	s->info.opened = true;
	return SM_OK;
}

enum sm_err
sm_capture_open(struct sm_capture **out, const char *const *inputs, size_t ninputs, const char *bpf,
                sm_capture_warn_fn warn, void *warn_ctx, struct sm_errbuf *eb)
{
	*out = NULL;
	struct sm_capture *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	c->warn = warn;
	c->warn_ctx = warn_ctx;
	c->advance = -1;
	enum sm_err err = SM_OK;
	if (bpf != NULL && *bpf != '\0' && (c->bpf = strdup(bpf)) == NULL)
		err = sm_error(eb, SM_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < ninputs && err == SM_OK; i++) {
		struct stat st;
		if (strcmp(inputs[i], "-") != 0 && stat(inputs[i], &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			size_t before = c->nsrc;
			err = add_dir(c, inputs[i], i, 0, eb);
			if (err == SM_OK && c->nsrc == before)
				capture_warnf(c, "%s: directory holds no files", inputs[i]);
		} else {
			err = add_path(c, inputs[i], i, eb);
		}
	}
	if (err == SM_OK && c->nsrc > PARK_AFTER)
		files_allowed(c->nsrc);
	if (err == SM_OK && c->nsrc > 0) {
		c->heap = calloc(c->nsrc, sizeof(*c->heap));
		if (c->heap == NULL)
			err = sm_error(eb, SM_ERR_NOMEM, "out of memory");
	}
	size_t opened = 0;
	for (size_t i = 0; i < c->nsrc && err == SM_OK; i++) {
		struct source *s = &c->src[i];
		err = source_open(s, bpf, eb);
		if (err != SM_OK)
			break;
		if (!s->info.opened)
			continue;
		opened++;
		source_read(c, s);
		if (s->has_pkt)
			heap_push(c, (uint32_t)i);
		if (s->has_pkt && c->nsrc > PARK_AFTER && s->size > 0)
			source_close(s, true); /* opened again when its turn comes */
	}
	if (err == SM_OK && opened == 0) {
		if (c->nsrc == 1)
			err = sm_error(eb, SM_ERR_IO, "%s: %s", c->src[0].info.path,
			               c->src[0].info.error);
		else if (c->nsrc == 0)
			err = sm_error(eb, SM_ERR_IO, "no capture files found in the given inputs");
		else
			err =
			    sm_error(eb, SM_ERR_IO,
			             "none of the %zu inputs could be opened as a capture (first: "
			             "%s: %s)",
			             c->nsrc, c->src[0].info.path, c->src[0].info.error);
	} else if (err == SM_OK) {
		for (size_t i = 0; i < c->nsrc; i++)
			if (!c->src[i].info.opened)
				capture_warnf(c, "%s: skipped: %s", c->src[i].info.path,
				              c->src[i].info.error);
	}
	if (err != SM_OK) {
		sm_capture_close(c);
		return err;
	}
	*out = c;
	return SM_OK;
}

/* A parked source's turn: its file is opened again and read up to the packet it held.
 * false when it cannot be, or that packet changed (the file did): then it has ended
 * with a warning, or is back in the heap at its new place. */
static bool
source_unpark(struct sm_capture *c, uint32_t idx)
{
	struct source *s = &c->src[idx];
	int64_t ts = s->hdr.ts_ns;
	s->parked = false;
	struct sm_errbuf eb = {""};
	s->info.opened = false;
	enum sm_err e = source_open(s, c->bpf, &eb);
	if (e != SM_OK || !s->info.opened) {
		char why[sizeof(s->info.error)];
		snprintf(why, sizeof(why), "%s", e != SM_OK ? eb.msg : s->info.error);
		snprintf(s->info.error, sizeof(s->info.error), "cannot open it again: %.*s",
		         (int)sizeof(s->info.error) - 32, why);
		capture_warnf(c, "%s: %s", s->info.path, s->info.error);
		s->info.opened = true; /* its first packet was read */
		source_finish(s);
		return false;
	}
	source_read(c, s);
	if (s->has_pkt && s->hdr.ts_ns != ts)
		heap_push(c, idx);
	return s->has_pkt && s->hdr.ts_ns == ts;
}

enum sm_capture_status
sm_capture_next(struct sm_capture *c, struct sm_raw_packet *pkt)
{
	if (c->live)
		return live_next(c, pkt);
	c->started = true;
	long next = -1;
	if (c->advance >= 0) {
		uint32_t adv = (uint32_t)c->advance;
		source_read(c, &c->src[adv]);
		/* still first (always, with one source): no trip through the heap */
		if (c->src[adv].has_pkt && (c->nheap == 0 || heap_less(c, adv, c->heap[0])))
			next = (long)adv;
		else if (c->src[adv].has_pkt)
			heap_push(c, adv);
		c->advance = -1;
	}
	uint32_t idx = (uint32_t)next; /* just read: not parked */
	while (next < 0) {
		if (c->nheap == 0)
			return SM_CAPTURE_END;
		idx = heap_pop(c);
		if (!c->src[idx].parked || source_unpark(c, idx))
			break; /* else it ended, or took its new place: the next one */
	}
	struct source *s = &c->src[idx];
	pkt->ts_ns = s->hdr.ts_ns;
	pkt->caplen = s->hdr.caplen;
	pkt->len = s->hdr.len;
	pkt->linktype = s->linktype;
	pkt->source = idx;
	pkt->data = s->data;
	s->info.packets++;
	s->info.bytes += s->hdr.len;
	c->advance = (long)idx;
	return SM_CAPTURE_PACKET;
}

void
sm_capture_unread(struct sm_capture *c)
{
	if (c->live || c->advance < 0)
		return;
	struct source *s = &c->src[c->advance];
	s->info.packets--;
	s->info.bytes -= s->hdr.len;
}

bool
sm_capture_peek(const struct sm_capture *c, unsigned ahead, struct sm_raw_packet *pkt)
{
	if (c->live || c->advance < 0 || ahead == 0)
		return false;
	const struct source *s = &c->src[c->advance];
	if (s->classic == NULL || s->order != NULL ||
	    !classic_peek(s->classic, ahead, &pkt->caplen, &pkt->data))
		return false;
	pkt->ts_ns = 0;
	pkt->len = pkt->caplen;
	pkt->linktype = s->linktype;
	pkt->source = (uint32_t)c->advance;
	return true;
}

enum sm_err
sm_capture_set_offset(struct sm_capture *c, size_t i, int64_t offset_ns)
{
	if (c->live || c->started || i >= c->nsrc)
		return SM_ERR_USAGE;
	struct source *s = &c->src[i];
	if (s->has_pkt) { /* its first packet, read by sm_capture_open, is in the heap */
		s->hdr.ts_ns += offset_ns - s->offset_ns;
		s->last_ns = s->hdr.ts_ns;
	}
	s->offset_ns = offset_ns;
	/* that packet's place in the heap changed: rebuild it (one entry per source) */
	c->nheap = 0;
	for (size_t k = 0; k < c->nsrc; k++)
		if (c->src[k].has_pkt)
			heap_push(c, (uint32_t)k);
	return SM_OK;
}

void
sm_capture_progress(const struct sm_capture *c, struct sm_capture_progress *p)
{
	memset(p, 0, sizeof(*p));
	p->nfiles = c->nsrc;
	if (c->advance >= 0) {
		p->file = (size_t)c->advance;
		p->path = c->src[c->advance].info.path;
	}
	bool sizes_known = true;
	for (size_t i = 0; i < c->nsrc; i++) {
		const struct source *s = &c->src[i];
		if (!s->info.opened)
			continue;
		p->done += source_bytes_read(s);
		p->total += s->size;
		sizes_known = sizes_known && s->size > 0;
	}
	if (!sizes_known)
		p->total = 0;
}

size_t
sm_capture_source_count(const struct sm_capture *c)
{
	return c->nsrc;
}

const struct sm_source_info *
sm_capture_source(const struct sm_capture *c, size_t i)
{
	return i < c->nsrc ? &c->src[i].info : NULL;
}

enum sm_err
sm_capture_open_live(struct sm_capture **out, const struct sm_live_opts *lo, const char *bpf,
                     sm_capture_warn_fn warn, void *warn_ctx, struct sm_errbuf *eb)
{
	*out = NULL;
	struct sm_capture *c = calloc(1, sizeof(*c));
	if (c == NULL || (c->src = calloc(1, sizeof(*c->src))) == NULL) {
		free(c);
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	}
	c->warn = warn;
	c->warn_ctx = warn_ctx;
	c->advance = -1;
	c->nsrc = c->cap = 1;
	enum sm_err err = live_open(c, lo, bpf, eb);
	if (err != SM_OK) {
		sm_capture_close(c);
		return err;
	}
	*out = c;
	return SM_OK;
}

void
sm_capture_close(struct sm_capture *c)
{
	if (c == NULL)
		return;
	live_free(c); /* ends the capture thread before its handle closes */
	for (size_t i = 0; i < c->nsrc; i++) {
		source_finish(&c->src[i]);
		order_free(c->src[i].order);
		free(c->src[i].info.path);
	}
	free(c->src);
	free(c->heap);
	probes_free(c);
	free(c->bpf);
	free(c->shapes);
	free(c->shape_slot);
	free(c);
}
