#include "smaudit/capture.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct source {
	struct sm_source_info info;
	pcap_t *pcap;
	int linktype;
	bool has_pkt; /* hdr/data hold the source's next packet */
	int64_t ts_ns;
	struct pcap_pkthdr *hdr;
	const u_char *data;
};

struct sm_capture {
	struct source *src;
	size_t nsrc, cap;
	/* Min-heap of indices of sources that have a pending packet. */
	uint32_t *heap;
	size_t nheap;
	long advance; /* source whose packet was handed out last, -1 if none */
	sm_capture_warn_fn warn;
	void *warn_ctx;
};

static void __attribute__((format(printf, 2, 3))) warnf(struct sm_capture *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->warn)
		c->warn(c->warn_ctx, msg);
}

static enum sm_err
add_path(struct sm_capture *c, const char *path, struct sm_errbuf *eb)
{
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
add_dir(struct sm_capture *c, const char *dir, int depth, struct sm_errbuf *eb)
{
	if (depth > 16)
		return SM_OK;
	DIR *d = opendir(dir);
	if (d == NULL) {
		warnf(c, "%s: cannot read directory: %s", dir, strerror(errno));
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
				err = add_dir(c, names[i], depth + 1, eb);
			else if (S_ISREG(st.st_mode))
				err = add_path(c, names[i], eb);
		}
		free(names[i]);
	}
	free(names);
	return err;
}

static bool
heap_less(const struct sm_capture *c, uint32_t x, uint32_t y)
{
	if (c->src[x].ts_ns != c->src[y].ts_ns)
		return c->src[x].ts_ns < c->src[y].ts_ns;
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

static void
source_finish(struct source *s)
{
	if (s->pcap != NULL) {
		pcap_close(s->pcap);
		s->pcap = NULL;
	}
	s->has_pkt = false;
}

/* Reads the next packet of source s; a read error ends the source and is recorded. */
static void
source_read(struct sm_capture *c, struct source *s)
{
	s->has_pkt = false;
	if (s->pcap == NULL)
		return;
	int rc = pcap_next_ex(s->pcap, &s->hdr, &s->data);
	if (rc == 1) {
		s->has_pkt = true;
		/* Opened with nanosecond precision: tv_usec holds nanoseconds. */
		s->ts_ns = (int64_t)s->hdr->ts.tv_sec * 1000000000 + (int64_t)s->hdr->ts.tv_usec;
		return;
	}
	if (rc == PCAP_ERROR) {
		snprintf(s->info.error, sizeof(s->info.error),
		         "read stopped after %llu packets: %s", (unsigned long long)s->info.packets,
		         pcap_geterr(s->pcap));
		warnf(c, "%s: %s", s->info.path, s->info.error);
	}
	source_finish(s);
}

static enum sm_err
source_open(struct sm_capture *c, struct source *s, const char *bpf, struct sm_errbuf *eb)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	s->pcap =
	    pcap_open_offline_with_tstamp_precision(s->info.path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (s->pcap == NULL) {
		snprintf(s->info.error, sizeof(s->info.error), "cannot open capture: %s", perr);
		return SM_OK;
	}
	s->linktype = pcap_datalink(s->pcap);
	if (bpf != NULL && *bpf != '\0') {
		struct bpf_program prog;
		if (pcap_compile(s->pcap, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			enum sm_err e = sm_error(eb, SM_ERR_USAGE, "invalid filter -f '%s': %s",
			                         bpf, pcap_geterr(s->pcap));
			source_finish(s);
			return e;
		}
		int rc = pcap_setfilter(s->pcap, &prog);
		pcap_freecode(&prog);
		if (rc != 0) {
			enum sm_err e =
			    sm_error(eb, SM_ERR_USAGE, "cannot apply filter -f '%s': %s", bpf,
			             pcap_geterr(s->pcap));
			source_finish(s);
			return e;
		}
	}
	s->info.opened = true;
	(void)c;
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
	for (size_t i = 0; i < ninputs && err == SM_OK; i++) {
		struct stat st;
		if (strcmp(inputs[i], "-") != 0 && stat(inputs[i], &st) == 0 &&
		    S_ISDIR(st.st_mode)) {
			size_t before = c->nsrc;
			err = add_dir(c, inputs[i], 0, eb);
			if (err == SM_OK && c->nsrc == before)
				warnf(c, "%s: directory holds no files", inputs[i]);
		} else {
			err = add_path(c, inputs[i], eb);
		}
	}
	if (err == SM_OK && c->nsrc > 0) {
		c->heap = calloc(c->nsrc, sizeof(*c->heap));
		if (c->heap == NULL)
			err = sm_error(eb, SM_ERR_NOMEM, "out of memory");
	}
	size_t opened = 0;
	for (size_t i = 0; i < c->nsrc && err == SM_OK; i++) {
		struct source *s = &c->src[i];
		err = source_open(c, s, bpf, eb);
		if (err != SM_OK)
			break;
		if (!s->info.opened)
			continue;
		opened++;
		source_read(c, s);
		if (s->has_pkt)
			heap_push(c, (uint32_t)i);
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
				warnf(c, "%s: skipped: %s", c->src[i].info.path,
				      c->src[i].info.error);
	}
	if (err != SM_OK) {
		sm_capture_close(c);
		return err;
	}
	*out = c;
	return SM_OK;
}

int
sm_capture_next(struct sm_capture *c, struct sm_raw_packet *pkt)
{
	if (c->advance >= 0) {
		struct source *s = &c->src[c->advance];
		source_read(c, s);
		if (s->has_pkt)
			heap_push(c, (uint32_t)c->advance);
		c->advance = -1;
	}
	if (c->nheap == 0)
		return 0;
	uint32_t idx = heap_pop(c);
	struct source *s = &c->src[idx];
	pkt->ts_ns = s->ts_ns;
	pkt->caplen = s->hdr->caplen;
	pkt->len = s->hdr->len;
	pkt->linktype = s->linktype;
	pkt->source = idx;
	pkt->data = s->data;
	s->info.packets++;
	s->info.bytes += s->hdr->len;
	c->advance = (long)idx;
	return 1;
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

void
sm_capture_close(struct sm_capture *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nsrc; i++) {
		source_finish(&c->src[i]);
		free(c->src[i].info.path);
	}
	free(c->src);
	free(c->heap);
	free(c);
}
