#define _GNU_SOURCE /* fopencookie */
#include "smaudit/capture.h"
#include "smaudit/inflate.h"

#include <dirent.h>
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdarg.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NG_MAX_BLOCK (16u << 20)

/* An interface of a pcapng section: its own link type and clock. */
struct ng_if {
	int linktype;
	uint64_t units; /* timestamp units per second */
	int64_t offset_s;
	struct bpf_program prog;
	bool has_prog;
};

/*
 * Our own pcapng reader: libpcap (1.10, Debian 12) rejects files whose interfaces
 * differ in link type or snap length, which multi-interface captures do (tshark's
 * "any" plus a VLAN trunk, dumpcap -i a -i b); it also keeps each interface's
 * clock (if_tsresol, if_tsoffset).
 */
struct ng {
	FILE *f;
	bool swap;
	struct ng_if *ifs; /* grows with the section's interface blocks */
	size_t nifs, ifcap;
	uint8_t *buf;
	size_t cap;
	struct pcap_pkthdr hdr;
	int64_t last_ts_ns;
};

/*
 * Classic pcap files are read with large read()s into one buffer and parsed in
 * place: no per-packet copy, no stdio.  libpcap opens the file first (so what
 * it refuses, we refuse, and its link type and snap length are used); a record
 * libpcap would treat specially (caplen beyond the snap length or the maximum)
 * hands the rest of the file to libpcap, which skips what was already read.
 */
#define MM_BUF (4u << 20) /* more than the largest record (16 + 262144) */

struct mm {
	int fd;
	uint8_t *buf;
	size_t len, off; /* bytes in buf, parse position */
	uint64_t pos;    /* file offset of buf + len */
	bool eof, swap, nano;
	uint32_t snaplen;
	uint64_t delivered;
	struct pcap_pkthdr hdr;
};

/* How a capture's frames look below IP: the link type and the link header of the
 * first frame that looked so (MAC addresses, VLAN tags, cooked header), with its
 * protocol field zeroed.  The -f filter is probed with packets built on every shape
 * the capture held. */
struct frame_shape {
	int linktype;
	uint8_t linklen; /* bytes before the IP header */
	uint8_t link[40];
};

#define MAX_SHAPES   1024
#define LINKTYPE_RAW 101 /* in pcapng files; libpcap calls it DLT_RAW */

struct source {
	struct sm_source_info info;
	pcap_t *pcap;
	struct ng *ng;
	struct mm *mm;
	struct sm_instream *in; /* compressed file or pipe: the stream pcap or ng reads (it
	                         * owns it); NULL for a plain file */
	uint64_t size;          /* bytes of a regular file, 0 unknown (progress) */
	bool finished;          /* read to its end (or stopped): all its bytes count as read */
	uint64_t read_at_end;   /* bytes read when it finished */
	const char *bpf;
	struct bpf_program prog; /* -f for a classic pcap source, applied here */
	bool has_prog;
	struct sm_capture *cap; /* the capture it belongs to (its frame shapes) */
	int linktype;
	bool linktype_known; /* declared by the file or interface (not pcapng) */
	bool has_pkt;        /* hdr/data hold the source's next packet */
	int64_t ts_ns;
	struct pcap_pkthdr *hdr;
	const u_char *data;
};

/* The ring of raw capture files kept by a live run (-w DIR). */
#define RING_BUF (64u << 10)
struct ring {
	int dirfd; /* opened before privileges are dropped: works after chroot too */
	char *dir;
	uint64_t max_bytes;
	unsigned max_files;
	pcap_dumper_t *dump;
	FILE *f;
	uint64_t size; /* bytes written to the current file (no ftell per packet) */
	/* Packets reach the file when the stdio buffer is flushed, which ring_flush
	 * does before the buffer is full: only packets a flush got into the file
	 * are counted in files[], the ones in the buffer wait in pending_*. */
	char *buf; /* RING_BUF bytes, the current file's stdio buffer */
	size_t buffered;
	uint64_t pending_packets, pending_bytes;
	unsigned seq;
	pcap_t *dead; /* the interface's link type and snap length, for pcap_dump: the
	               * live handle belongs to the capture thread */
	struct sm_source_info *files; /* the files that still exist, oldest first */
	size_t nfiles;
	bool failed;
};

/*
 * A live capture is read by its own thread, which does nothing but take packets
 * off the kernel ring and copy them into this queue: a preallocated ring of
 * variable-size slots (header, then the bytes, 8-aligned), one producer (the
 * capture thread), one consumer (sm_capture_next).  When the queue is full the
 * capture thread waits, so the kernel ring fills behind it: both buffers absorb
 * a burst before the kernel drops.  Positions only grow; offset = pos % size.
 */
struct qslot {
	int64_t ts_ns;
	uint32_t caplen; /* QSLOT_WRAP: the rest of the buffer is unused, go to 0 */
	uint32_t len;
};
#define QSLOT_WRAP UINT32_MAX

struct live_queue {
	uint8_t *buf;
	size_t size;
	_Atomic uint64_t head;  /* bytes published by the capture thread */
	_Atomic uint64_t tail;  /* bytes released by the consumer */
	uint64_t held;          /* consumer: end of the slot handed out last */
	_Atomic bool c_waiting; /* the consumer sleeps on nonempty */
	_Atomic bool p_waiting; /* the capture thread sleeps on nonfull */
	pthread_mutex_t mu;
	pthread_cond_t nonempty, nonfull;
};

/* The capture thread and what it shares with the consumer (under q.mu). */
struct live_reader {
	pthread_t thread;
	bool started;
	struct live_queue q;
	_Atomic bool stop;       /* drain the kernel ring, read the final counters, end */
	_Atomic int64_t stop_ns; /* when the stop was asked (packet clock): later packets
	                          * are not the run's */
	bool past_stop;          /* capture thread: a packet after stop_ns was seen */
	_Atomic bool abort;      /* end at once (the consumer is gone) */
	_Atomic bool done;       /* the thread ended: nothing more will be queued */
	uint64_t delivered;      /* packets queued (capture thread) */
	/* under q.mu: kernel counters widened to 64 bits, and the delivered count */
	uint64_t recv, kdrop, ifdrop, delivered_pub;
	bool final;            /* the counters are the last ones: undelivered packets are lost */
	struct pcap_stat last; /* capture thread: the previous pcap_stats */
	char error[PCAP_ERRBUF_SIZE + 64]; /* why the capture stopped; set before done */
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
	bool live;
	int live_fd;                /* pollable descriptor of the live capture, -1 if none */
	int live_wait;              /* ms to wait for a packet before reporting idle */
	struct live_reader *reader; /* live: the capture thread and its queue */
	struct ring *ring;
	char *bpf; /* -f, NULL without */
	/* the frame shapes read (offline: kept or dropped by -f; live: kept) */
	struct frame_shape *shapes;
	size_t nshapes, last_shape;
	uint16_t *shape_slot; /* hash of shapes: index + 1, 0 = empty */
	bool shapes_lost;     /* more shapes than kept (or no memory for them) */
	struct probe_prog {
		int linktype;
		bool ok;
		struct bpf_program prog;
	} probe[8]; /* -f compiled for each link type probed */
	size_t nprobe;
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
	s->cap = c;
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
ng_free(struct ng *ng)
{
	if (ng == NULL)
		return;
	for (size_t i = 0; i < ng->nifs; i++)
		if (ng->ifs[i].has_prog)
			pcap_freecode(&ng->ifs[i].prog);
	free(ng->ifs);
	if (ng->f != NULL)
		fclose(ng->f);
	free(ng->buf);
	free(ng);
}

static void
mm_free(struct mm *m)
{
	if (m == NULL)
		return;
	free(m->buf);
	free(m);
}

static uint32_t
mm_u32(const struct mm *m, size_t off)
{
	uint32_t v;
	memcpy(&v, m->buf + off, 4);
	return m->swap ? __builtin_bswap32(v) : v;
}

/* Makes need bytes from off available; false at the end of the file (or an error). */
static bool
mm_fill(struct mm *m, size_t need)
{
	while (m->len - m->off < need && !m->eof) {
		if (m->off > 0) { /* keep the partial record, drop what was parsed */
			memmove(m->buf, m->buf + m->off, m->len - m->off);
			m->len -= m->off;
			m->off = 0;
		}
		ssize_t n = pread(m->fd, m->buf + m->len, MM_BUF - m->len, (off_t)m->pos);
		if (n <= 0) {
			m->eof = true;
			break;
		}
		m->len += (size_t)n;
		m->pos += (uint64_t)n;
	}
	return m->len - m->off >= need;
}

/* 1 = a packet, 0 = end of file, -1 = truncated (why set), -2 = hand over to libpcap.
 * The packet stays valid until the next call. */
static int
mm_next(struct mm *m, int64_t *ts_ns, const u_char **data, char *why, size_t whylen)
{
	if (!mm_fill(m, 16)) {
		if (m->len == m->off)
			return 0;
		snprintf(why, whylen,
		         "truncated dump file; tried to read 16 header bytes, only got %zu",
		         m->len - m->off);
		return -1;
	}
	uint32_t sec = mm_u32(m, m->off), frac = mm_u32(m, m->off + 4);
	uint32_t caplen = mm_u32(m, m->off + 8), len = mm_u32(m, m->off + 12);
	if (caplen > m->snaplen || caplen > 262144)
		return -2;
	if (!mm_fill(m, 16 + (size_t)caplen)) {
		snprintf(why, whylen,
		         "truncated dump file; tried to read %u captured bytes, only got %zu",
		         caplen, m->len - m->off - 16);
		return -1;
	}
	m->hdr.caplen = caplen;
	m->hdr.len = len;
	*ts_ns = (int64_t)sec * 1000000000 + (int64_t)frac * (m->nano ? 1 : 1000);
	*data = m->buf + m->off + 16;
	m->off += 16 + (size_t)caplen;
	m->delivered++;
	return 1;
}

/* Reads a classic pcap file libpcap accepted ourselves; false to let libpcap read it. */
static bool
mm_try_open(struct source *s)
{
	FILE *f = pcap_file(s->pcap);
	struct stat st;
	if (f == NULL || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 24)
		return false;
	uint32_t magic;
	if (pread(fileno(f), &magic, 4, 0) != 4)
		return false;
	struct mm *m = calloc(1, sizeof(*m));
	if (m == NULL || (m->buf = malloc(MM_BUF)) == NULL) {
		free(m);
		return false;
	}
	m->fd = fileno(f); /* stays open as long as libpcap's handle */
	m->pos = 24;
	m->snaplen = (uint32_t)pcap_snapshot(s->pcap);
	if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
		m->nano = magic == 0xa1b23c4d;
	} else if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
		m->swap = true;
		m->nano = magic == 0x4d3cb2a1;
	} else { /* modified formats with longer record headers: libpcap knows them */
		mm_free(m);
		return false;
	}
	posix_fadvise(m->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	s->mm = m;
	return true;
}

/* The rest of the file through libpcap, after the packets already handed out. */
static bool
mm_hand_over(struct source *s)
{
	char perr[PCAP_ERRBUF_SIZE];
	uint64_t skip = s->mm->delivered;
	mm_free(s->mm);
	s->mm = NULL;
	pcap_close(s->pcap);
	s->pcap =
	    pcap_open_offline_with_tstamp_precision(s->info.path, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (s->pcap == NULL) {
		snprintf(s->info.error, sizeof(s->info.error), "cannot reopen capture: %s", perr);
		return false;
	}
	for (uint64_t i = 0; i < skip; i++)
		if (pcap_next_ex(s->pcap, &s->hdr, &s->data) != 1)
			return false;
	return true;
}

/* The link header of frame d as a shape; false for link types probes cannot model. */
static bool
shape_of(int linktype, const uint8_t *d, uint32_t caplen, struct frame_shape *f)
{
	memset(f, 0, sizeof(*f));
	f->linktype = linktype == LINKTYPE_RAW ? DLT_RAW : linktype;
	uint32_t len, proto = 0; /* where the protocol field is, zeroed in the sample */
	switch (f->linktype) {
	case DLT_EN10MB:
		len = 12;
		while (len + 4 <= caplen && len < 12 + 8) {
			unsigned type = (unsigned)d[len] << 8 | d[len + 1];
			if (type != 0x8100 && type != 0x88a8 && type != 0x9100)
				break;
			len += 4;
		}
		proto = len;
		len += 2;
		break;
	case DLT_LINUX_SLL:
		len = 16, proto = 14;
		break;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
		len = 20, proto = 0;
		break;
#endif
	case DLT_NULL:
	case DLT_LOOP:
		len = 4, proto = 0;
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return true;
	default:
		return false;
	}
	if (len > caplen || len > sizeof(f->link))
		return false;
	f->linklen = (uint8_t)len;
	memcpy(f->link, d, len);
	memset(f->link + proto, 0, f->linktype == DLT_NULL || f->linktype == DLT_LOOP ? 4 : 2);
	return true;
}

/* Bytes of the sample that count (none for a shape probes cannot build). */
static size_t
shape_bytes(const struct frame_shape *f)
{
	return f->linklen == 0xff ? 0 : f->linklen;
}

static bool
shape_eq(const struct frame_shape *x, const struct frame_shape *y)
{
	return x->linktype == y->linktype && x->linklen == y->linklen &&
	       memcmp(x->link, y->link, shape_bytes(x)) == 0;
}

static uint32_t
shape_hash(const struct frame_shape *f)
{
	uint32_t h = 2166136261u ^ (uint32_t)f->linktype;
	h = (h ^ f->linklen) * 16777619u;
	for (size_t i = 0; i < shape_bytes(f); i++)
		h = (h ^ f->link[i]) * 16777619u;
	return h;
}

/* Records the shape of one frame: a comparison with the frame before, else a look
 * in a hash of the shapes seen.  Past MAX_SHAPES (or out of memory) the capture
 * notes that it lost count: flows never seen are then not judged under -f. */
static void
note_shape(struct sm_capture *c, int linktype, const uint8_t *d, uint32_t caplen)
{
	struct frame_shape f;
	if (!shape_of(linktype, d, caplen, &f)) {
		memset(&f, 0, sizeof(f)); /* a shape probes cannot build */
		f.linktype = linktype;
		f.linklen = 0xff;
	}
	if (c->nshapes > 0 && shape_eq(&c->shapes[c->last_shape], &f))
		return;
	if (c->shapes == NULL) {
		c->shapes = calloc(MAX_SHAPES, sizeof(*c->shapes));
		c->shape_slot = calloc(2 * MAX_SHAPES, sizeof(*c->shape_slot));
		if (c->shapes == NULL || c->shape_slot == NULL) {
			c->shapes_lost = true;
			return;
		}
	}
	uint32_t k = shape_hash(&f) & (2 * MAX_SHAPES - 1);
	for (; c->shape_slot[k] != 0; k = (k + 1) & (2 * MAX_SHAPES - 1))
		if (shape_eq(&c->shapes[c->shape_slot[k] - 1], &f)) {
			c->last_shape = c->shape_slot[k] - 1u;
			return;
		}
	if (c->nshapes == MAX_SHAPES) {
		c->shapes_lost = true;
		return;
	}
	c->last_shape = c->nshapes;
	c->shapes[c->nshapes++] = f;
	c->shape_slot[k] = (uint16_t)c->nshapes;
}

/* Whether the -f filter keeps the packet just read (classic pcap sources). */
static bool
source_keeps(struct source *s)
{
	if (!s->has_prog)
		return true;
	note_shape(s->cap, s->linktype, s->data, s->hdr->caplen);
	return pcap_offline_filter(&s->prog, s->hdr, s->data) != 0;
}

/* Bytes of s's file read so far, as stored on disk (progress). */
static uint64_t
source_bytes_read(const struct source *s)
{
	if (s->finished)
		return s->read_at_end;
	if (s->in != NULL)
		return sm_instream_consumed(s->in);
	if (s->mm != NULL)
		return s->mm->pos - (s->mm->len - s->mm->off);
	FILE *f = s->ng != NULL ? s->ng->f : s->pcap != NULL ? pcap_file(s->pcap) : NULL;
	off_t at = f != NULL ? ftello(f) : -1;
	return at > 0 ? (uint64_t)at : 0;
}

static void
source_finish(struct source *s)
{
	if (!s->finished) {
		s->read_at_end = s->size > 0 ? s->size : source_bytes_read(s);
		s->finished = true;
	}
	if (s->has_prog)
		pcap_freecode(&s->prog);
	s->has_prog = false;
	mm_free(s->mm);
	s->mm = NULL;
	if (s->pcap != NULL) {
		pcap_close(s->pcap);
		s->pcap = NULL;
	}
	ng_free(s->ng);
	s->ng = NULL;
	s->in = NULL; /* closed with the pcap or ng stream above */
	s->has_pkt = false;
}

static uint32_t
ng_u32(const struct ng *ng, const uint8_t *p)
{
	uint32_t v =
	    (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return ng->swap ? __builtin_bswap32(v) : v;
}

static uint16_t
ng_u16(const struct ng *ng, const uint8_t *p)
{
	uint16_t v = (uint16_t)(p[0] | p[1] << 8);
	return ng->swap ? __builtin_bswap16(v) : v;
}

static bool
host_is_little(void)
{
	const uint16_t one = 1;
	return *(const uint8_t *)&one == 1;
}

/* Reads one whole block into ng->buf; 1 = got one, 0 = clean end, -1 = error in why. */
static int
ng_block(struct ng *ng, uint32_t *type, uint32_t *len, const char **why)
{
	uint8_t head[12];
	size_t n = fread(head, 1, 8, ng->f);
	if (n == 0)
		return 0;
	if (n < 8) {
		*why = "truncated block header";
		return -1;
	}
	uint32_t t = ng_u32(ng, head);
	if (t == 0x0a0d0d0a) { /* a new section may change the byte order */
		if (fread(head + 8, 1, 4, ng->f) != 4) {
			*why = "truncated section header";
			return -1;
		}
		uint32_t magic;
		memcpy(&magic, head + 8, 4);
		if (magic == 0x1a2b3c4d)
			ng->swap = false;
		else if (magic == 0x4d3c2b1a)
			ng->swap = true;
		else {
			*why = "bad byte-order magic in a section header";
			return -1;
		}
	}
	uint32_t l = ng_u32(ng, head + 4);
	if (l < 12 || l % 4 != 0 || l > NG_MAX_BLOCK) {
		*why = "block length out of range";
		return -1;
	}
	if (l > ng->cap) {
		uint8_t *nb = realloc(ng->buf, l);
		if (nb == NULL) {
			*why = "out of memory";
			return -1;
		}
		ng->buf = nb;
		ng->cap = l;
	}
	size_t have = t == 0x0a0d0d0a ? 12 : 8;
	memcpy(ng->buf, head, have);
	if (fread(ng->buf + have, 1, l - have, ng->f) != l - have) {
		*why = "truncated block";
		return -1;
	}
	*type = t;
	*len = l;
	return 1;
}

/* Options from off to the block's trailing length must chain exactly. */
static bool
ng_options_ok(const struct ng *ng, uint32_t off, uint32_t len)
{
	while (off + 4 <= len - 4) {
		uint16_t code = ng_u16(ng, ng->buf + off), olen = ng_u16(ng, ng->buf + off + 2);
		if (code == 0)
			return true;
		off += 4 + (((uint32_t)olen + 3) & ~3u);
		if (off > len - 4)
			return false;
	}
	return off == len - 4;
}

/* Adds the interface an interface block describes; false when out of memory.
 * A section may describe any number of interfaces: the table doubles. */
static bool
ng_idb(struct ng *ng, const uint8_t *b, uint32_t len)
{
	if (len < 20)
		return true;
	if (ng->nifs == ng->ifcap) {
		size_t n = ng->ifcap ? ng->ifcap * 2 : 8;
		struct ng_if *ifs = reallocarray(ng->ifs, n, sizeof(*ifs));
		if (ifs == NULL)
			return false;
		ng->ifs = ifs;
		ng->ifcap = n;
	}
	struct ng_if *i = &ng->ifs[ng->nifs++];
	memset(i, 0, sizeof(*i));
	i->linktype = ng_u16(ng, b + 8);
	i->units = 1000000;
	for (uint32_t off = 16; off + 4 <= len - 4;) {
		uint16_t code = ng_u16(ng, b + off), olen = ng_u16(ng, b + off + 2);
		if (code == 0 || off + 4 + olen > len - 4)
			break;
		const uint8_t *v = b + off + 4;
		if (code == 9 && olen >= 1) { /* if_tsresol */
			uint64_t u = 1;
			unsigned e = v[0] & 0x7f;
			if (e <= 19 && !(v[0] & 0x80))
				for (unsigned k = 0; k < e; k++)
					u *= 10;
			else if (e <= 63 && (v[0] & 0x80))
				u = (uint64_t)1 << e;
			i->units = u;
		} else if (code == 14 && olen >= 8) { /* if_tsoffset */
			uint64_t lo = ng_u32(ng, v), hi = ng_u32(ng, v + 4);
			i->offset_s = (int64_t)(host_is_little() != ng->swap ? (hi << 32 | lo)
			                                                     : (lo << 32 | hi));
		}
		off += 4 + (((uint32_t)olen + 3) & ~3u);
	}
	return true;
}

static int64_t
ng_time(const struct ng_if *i, uint64_t ts)
{
	uint64_t sec = ts / i->units, frac = ts % i->units;
	int64_t ns = i->units <= 1000000000u
	                 ? (int64_t)(frac * 1000000000u / i->units)
	                 : (int64_t)((long double)frac * 1e9L / (long double)i->units);
	return (int64_t)sec * 1000000000 + ns + i->offset_s * 1000000000;
}

/* Compiles the source's filter for an interface's link type, once. */
static bool
ng_filter_ok(struct source *s, struct ng_if *i, const uint8_t *data)
{
	if (s->bpf == NULL || *s->bpf == '\0')
		return true;
	note_shape(s->cap, i->linktype, data, s->ng->hdr.caplen);
	if (!i->has_prog) {
		/* pcapng's LINKTYPE_RAW is DLT_RAW to libpcap's compiler */
		pcap_t *dead =
		    pcap_open_dead(i->linktype == LINKTYPE_RAW ? DLT_RAW : i->linktype, 262144);
		if (dead == NULL ||
		    pcap_compile(dead, &i->prog, s->bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			if (dead)
				pcap_close(dead);
			return false; /* a filter that does not fit this link type matches nothing
			               */
		}
		pcap_close(dead);
		i->has_prog = true;
	}
	return pcap_offline_filter(&i->prog, &s->ng->hdr, data) != 0;
}

/* Next packet of a pcapng source: 1 got one, 0 end, -1 error in why. */
static int
ng_next(struct source *s, int64_t *ts_ns, int *linktype, const u_char **data, const char **why)
{
	struct ng *ng = s->ng;
	for (;;) {
		uint32_t type, len;
		int rc = ng_block(ng, &type, &len, why);
		if (rc <= 0)
			return rc;
		const uint8_t *b = ng->buf;
		if (type == 0x0a0d0d0a) {
			for (size_t k = 0; k < ng->nifs; k++)
				if (ng->ifs[k].has_prog)
					pcap_freecode(&ng->ifs[k].prog);
			ng->nifs = 0;
			continue;
		}
		if (type == 1) {
			if (!ng_idb(ng, b, len)) {
				*why = "out of memory";
				return -1;
			}
			continue;
		}
		uint32_t ifid, caplen, origlen, hdrlen;
		uint64_t ts;
		if (type == 6 && len >= 32) { /* enhanced packet */
			ifid = ng_u32(ng, b + 8);
			ts = (uint64_t)ng_u32(ng, b + 12) << 32 | ng_u32(ng, b + 16);
			caplen = ng_u32(ng, b + 20);
			origlen = ng_u32(ng, b + 24);
			hdrlen = 28;
		} else if (type == 2 && len >= 32) { /* obsolete packet block */
			ifid = ng_u16(ng, b + 8);
			ts = (uint64_t)ng_u32(ng, b + 12) << 32 | ng_u32(ng, b + 16);
			caplen = ng_u32(ng, b + 20);
			origlen = ng_u32(ng, b + 24);
			hdrlen = 28;
		} else if (type == 3 && len >= 16) { /* simple packet: no time, interface 0 */
			ifid = 0;
			ts = 0;
			origlen = ng_u32(ng, b + 8);
			caplen = len - 16 < origlen ? len - 16 : origlen;
			hdrlen = 12;
		} else {
			continue;
		}
		if (ifid >= ng->nifs) {
			*why = "packet names an interface that was not described";
			return -1;
		}
		if (caplen > len - hdrlen - 4) {
			*why = "captured length larger than its block";
			return -1;
		}
		struct ng_if *i = &ng->ifs[ifid];
		*ts_ns = type == 3 ? ng->last_ts_ns : ng_time(i, ts);
		ng->last_ts_ns = *ts_ns;
		ng->hdr.caplen = caplen;
		ng->hdr.len = origlen < caplen ? caplen : origlen;
		*linktype = i->linktype;
		*data = b + hdrlen;
		if (ng_filter_ok(s, i, *data))
			return 1;
	}
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
	warnf(c, "%s: %s", s->info.path, s->info.error);
}

/* Reads the next packet of source s; a read error ends the source and is recorded. */
static void
source_read_one(struct sm_capture *c, struct source *s)
{
	s->has_pkt = false;
	if (s->ng != NULL) {
		const char *why = NULL;
		int rc = ng_next(s, &s->ts_ns, &s->linktype, &s->data, &why);
		if (rc == 1) {
			s->hdr = &s->ng->hdr;
			s->has_pkt = true;
			return;
		}
		if (rc < 0 || (s->in != NULL && *sm_instream_error(s->in) != '\0'))
			read_stopped(c, s, why != NULL ? why : "read error");
		source_finish(s);
		return;
	}
	if (s->mm != NULL) {
		char why[160];
		int rc = mm_next(s->mm, &s->ts_ns, &s->data, why, sizeof(why));
		if (rc == 1) {
			s->hdr = &s->mm->hdr;
			s->has_pkt = true;
			return;
		}
		if (rc == -1)
			read_stopped(c, s, why);
		if (rc != -2 || !mm_hand_over(s)) {
			source_finish(s);
			return;
		}
	}
	if (s->pcap == NULL)
		return;
	int rc = pcap_next_ex(s->pcap, &s->hdr, &s->data);
	if (rc == 1) {
		s->has_pkt = true;
		/* Opened with nanosecond precision: tv_usec holds nanoseconds. */
		s->ts_ns = (int64_t)s->hdr->ts.tv_sec * 1000000000 + (int64_t)s->hdr->ts.tv_usec;
		return;
	}
	if (rc == PCAP_ERROR)
		read_stopped(c, s, pcap_geterr(s->pcap));
	source_finish(s);
}

/* The next packet of s that the -f filter keeps. */
static void
source_read(struct sm_capture *c, struct source *s)
{
	do
		source_read_one(c, s);
	while (s->has_pkt && !source_keeps(s));
}

static bool
ng_magic(const uint8_t m[4])
{
	return m[0] == 0x0a && m[1] == 0x0d && m[2] == 0x0d && m[3] == 0x0a;
}

static bool ng_attach(struct source *s, FILE *f, enum sm_err *err, struct sm_errbuf *eb);

/* Opens s with our pcapng reader if the file is pcapng; false if it is not. */
static bool
ng_try_open(struct source *s, enum sm_err *err, struct sm_errbuf *eb)
{
	FILE *f = fopen(s->info.path, "rb");
	uint8_t magic[4];
	if (f == NULL)
		return false;
	if (fread(magic, 1, 4, f) != 4 || !ng_magic(magic)) {
		fclose(f);
		return false;
	}
	rewind(f);
	return ng_attach(s, f, err, eb);
}

/* Reads pcapng from f (positioned at its start; owned from now on). */
static bool
ng_attach(struct source *s, FILE *f, enum sm_err *err, struct sm_errbuf *eb)
{
	s->ng = calloc(1, sizeof(*s->ng));
	if (s->ng == NULL) {
		fclose(f);
		*err = sm_error(eb, SM_ERR_NOMEM, "out of memory");
		return true;
	}
	s->ng->f = f;
	if (s->bpf != NULL && *s->bpf != '\0') { /* reject a bad filter up front */
		struct bpf_program prog;
		pcap_t *dead = pcap_open_dead(1, 262144);
		if (dead == NULL ||
		    pcap_compile(dead, &prog, s->bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			*err = sm_error(eb, SM_ERR_USAGE, "invalid filter -f '%s': %s", s->bpf,
			                dead ? pcap_geterr(dead) : "out of memory");
			source_finish(s);
		} else {
			pcap_freecode(&prog);
		}
		if (dead)
			pcap_close(dead);
		if (*err != SM_OK)
			return true;
	}
	/* The first block must be a section header libpcap would accept. */
	uint32_t type, len;
	const char *why = "not a section header";
	if (ng_block(s->ng, &type, &len, &why) != 1 || type != 0x0a0d0d0a || len < 28 ||
	    ng_u16(s->ng, s->ng->buf + 12) != 1 || !ng_options_ok(s->ng, 24, len)) {
		if (why == NULL || type == 0x0a0d0d0a)
			why = "unsupported pcapng version or malformed section header";
		snprintf(s->info.error, sizeof(s->info.error), "cannot open capture: %s", why);
		source_finish(s);
		return true;
	}
	s->info.opened = true;
	return true;
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
	} else if (n == 4 && ng_magic(magic)) {
		enum sm_err ng_err = SM_OK;
		ng_attach(s, f, &ng_err, eb);
		return ng_err;
	} else {
		s->pcap =
		    pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, perr);
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

static enum sm_err
source_open(struct sm_capture *c, struct source *s, const char *bpf, struct sm_errbuf *eb)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	s->bpf = bpf;
	enum sm_err ng_err = SM_OK;
	struct stat st;
	bool regular =
	    strcmp(s->info.path, "-") != 0 && stat(s->info.path, &st) == 0 && S_ISREG(st.st_mode);
	if (regular)
		s->size = (uint64_t)st.st_size;
	if (!regular || file_compression(s->info.path) != SM_COMP_NONE) {
		enum sm_err e = source_open_stream(s, perr, eb);
		if (e != SM_OK || s->ng != NULL || s->pcap == NULL)
			return e;
	} else if (ng_try_open(s, &ng_err, eb)) {
		return ng_err;
	} else {
		s->pcap = pcap_open_offline_with_tstamp_precision(s->info.path,
		                                                  PCAP_TSTAMP_PRECISION_NANO, perr);
		if (s->pcap == NULL) {
			snprintf(s->info.error, sizeof(s->info.error), "cannot open capture: %s",
			         perr);
			return SM_OK;
		}
	}
	s->linktype = pcap_datalink(s->pcap);
	s->linktype_known = true;
	if (bpf != NULL && *bpf != '\0') {
		/* applied by source_read, which also sees the frames it drops */
		if (pcap_compile(s->pcap, &s->prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
			enum sm_err e = sm_error(eb, SM_ERR_USAGE, "invalid filter -f '%s': %s",
			                         bpf, pcap_geterr(s->pcap));
			source_finish(s);
			return e;
		}
		s->has_prog = true;
	}
	if (s->in == NULL) /* a plain regular file */
		mm_try_open(s);
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
	if (bpf != NULL && *bpf != '\0' && (c->bpf = strdup(bpf)) == NULL)
		err = sm_error(eb, SM_ERR_NOMEM, "out of memory");
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

/* ---- live capture ---- */

static enum sm_err reader_new(struct sm_capture *c, const struct sm_live_opts *lo,
                              struct sm_errbuf *eb);

static void
ring_close_file(struct ring *r)
{
	if (r->dump != NULL) {
		pcap_dump_close(r->dump); /* closes r->f too */
		r->dump = NULL;
		r->f = NULL;
	}
	r->buffered = 0;
	r->pending_packets = r->pending_bytes = 0;
}

/* The ring cannot be written (a full disk): the packets not yet in the file are
 * not counted, the file records why, and no more raw packets are kept. */
static void
ring_fail(struct sm_capture *c, struct ring *r, int err)
{
	struct sm_source_info *fi = &r->files[r->nfiles - 1];
	snprintf(fi->error, sizeof(fi->error), "write failed: %s", strerror(err));
	warnf(c, "%s: %s; no more raw packets are kept (%llu packet(s) in the file)", fi->path,
	      fi->error, (unsigned long long)fi->packets);
	ring_close_file(r);
	r->failed = true;
}

/* Writes the buffer to the current file; its packets are then counted. */
static bool
ring_flush(struct sm_capture *c, struct ring *r)
{
	if (r->f == NULL)
		return false;
	errno = 0;
	if (fflush(r->f) != 0 || ferror(r->f)) {
		ring_fail(c, r, errno ? errno : EIO);
		return false;
	}
	struct sm_source_info *fi = &r->files[r->nfiles - 1];
	fi->packets += r->pending_packets;
	fi->bytes += r->pending_bytes;
	r->pending_packets = r->pending_bytes = 0;
	r->buffered = 0;
	return true;
}

/* Starts the next ring file, deleting the oldest beyond the count limit. */
static bool
ring_rotate(struct sm_capture *c, struct ring *r, pcap_t *p)
{
	if (r->dump != NULL && !ring_flush(c, r))
		return false;
	ring_close_file(r);
	while (r->nfiles >= r->max_files) {
		const char *base = strrchr(r->files[0].path, '/');
		if (unlinkat(r->dirfd, base ? base + 1 : r->files[0].path, 0) != 0 &&
		    errno != ENOENT)
			warnf(c, "%s: cannot delete the oldest ring file: %s", r->files[0].path,
			      strerror(errno));
		free(r->files[0].path);
		memmove(&r->files[0], &r->files[1], (r->nfiles - 1) * sizeof(r->files[0]));
		r->nfiles--;
	}
	char name[64], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(name, sizeof(name), "smaudit-%s-%04u.pcap", stamp, ++r->seq);
	size_t plen = strlen(r->dir) + strlen(name) + 2;
	char *path = malloc(plen);
	struct sm_source_info *n = realloc(r->files, (r->nfiles + 1) * sizeof(*n));
	if (r->buf == NULL)
		r->buf = malloc(RING_BUF);
	if (path == NULL || n == NULL || r->buf == NULL) {
		free(path);
		if (n != NULL)
			r->files = n;
		return false;
	}
	r->files = n;
	snprintf(path, plen, "%s/%s", r->dir, name);
	int fd =
	    openat(r->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0640);
	r->f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (r->f != NULL && setvbuf(r->f, r->buf, _IOFBF, RING_BUF) != 0) {
		fclose(r->f); /* closes fd */
		r->f = NULL;
		fd = -1;
		errno = ENOMEM;
	}
	r->dump = r->f ? pcap_dump_fopen(p, r->f) : NULL;
	if (r->dump == NULL) {
		warnf(c, "%s: cannot write the ring file, no more raw packets are kept: %s", path,
		      fd < 0 ? strerror(errno) : pcap_geterr(p));
		if (r->f != NULL)
			fclose(r->f);
		else if (fd >= 0)
			close(fd);
		r->f = NULL;
		free(path);
		r->failed = true;
		return false;
	}
	r->size = 24; /* the file header pcap_dump_fopen wrote */
	r->buffered = 24;
	memset(&r->files[r->nfiles], 0, sizeof(r->files[0]));
	r->files[r->nfiles].path = path;
	r->files[r->nfiles].opened = true;
	r->nfiles++;
	return true;
}

static void
ring_write(struct sm_capture *c, struct ring *r, pcap_t *p, const struct pcap_pkthdr *h,
           const u_char *data)
{
	if (r->failed)
		return;
	if (r->dump == NULL || r->size >= r->max_bytes) {
		if (!ring_rotate(c, r, p))
			return;
	}
	size_t rec = 16 + (size_t)h->caplen;
	/* flushed before stdio would: a packet is counted once it is in the file */
	if (r->buffered + rec > RING_BUF && !ring_flush(c, r))
		return;
	pcap_dump((u_char *)r->dump, h, data);
	r->size += rec;
	r->buffered += rec;
	r->pending_packets++;
	r->pending_bytes += h->len;
	if (r->buffered >= RING_BUF || ferror(r->f))
		ring_flush(c, r); /* a record larger than the buffer went straight out */
}

static void
ring_free(struct ring *r)
{
	if (r == NULL)
		return;
	ring_close_file(r);
	if (r->dead != NULL)
		pcap_close(r->dead);
	for (size_t i = 0; i < r->nfiles; i++)
		free(r->files[i].path);
	free(r->files);
	free(r->buf);
	if (r->dirfd >= 0)
		close(r->dirfd);
	free(r->dir);
	free(r);
}

static enum sm_err
ring_open(struct sm_capture *c, const struct sm_live_opts *lo, struct sm_errbuf *eb)
{
	struct ring *r = calloc(1, sizeof(*r));
	if (r == NULL || (r->dir = strdup(lo->ring_dir)) == NULL) {
		free(r);
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	}
	r->dirfd = -1;
	c->ring = r;
	r->dead = pcap_open_dead_with_tstamp_precision(
	    c->src[0].linktype, pcap_snapshot(c->src[0].pcap), PCAP_TSTAMP_PRECISION_NANO);
	if (r->dead == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	r->max_bytes = lo->ring_bytes ? lo->ring_bytes : 100u << 20;
	r->max_files = lo->ring_files ? lo->ring_files : 10;
	if (mkdir(r->dir, 0750) != 0 && errno != EEXIST)
		return sm_error(eb, SM_ERR_IO, "%s: cannot create the ring directory: %s", r->dir,
		                strerror(errno));
	r->dirfd = open(r->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (r->dirfd < 0)
		return sm_error(eb, SM_ERR_IO, "%s: cannot open the ring directory: %s", r->dir,
		                strerror(errno));
	return SM_OK;
}

enum sm_err
sm_capture_open_live(struct sm_capture **out, const struct sm_live_opts *lo, const char *bpf,
                     sm_capture_warn_fn warn, void *warn_ctx, struct sm_errbuf *eb)
{
	*out = NULL;
	char perr[PCAP_ERRBUF_SIZE] = "";
	struct sm_capture *c = calloc(1, sizeof(*c));
	if (c == NULL || (c->src = calloc(1, sizeof(*c->src))) == NULL) {
		free(c);
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	}
	c->warn = warn;
	c->warn_ctx = warn_ctx;
	c->advance = -1;
	c->live = true;
	c->live_fd = -1;
	c->nsrc = c->cap = 1;
	struct source *s = &c->src[0];
	size_t plen = strlen(lo->iface) + 6;
	s->info.path = malloc(plen);
	enum sm_err err = SM_OK;
	if (s->info.path == NULL) {
		err = sm_error(eb, SM_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(s->info.path, plen, "live:%s", lo->iface);
	s->pcap = pcap_create(lo->iface, perr);
	if (s->pcap == NULL) {
		err = sm_error(eb, SM_ERR_IO, "%s: %s", lo->iface, perr);
		goto out;
	}
	pcap_set_snaplen(s->pcap, lo->snaplen ? lo->snaplen : 262144);
	pcap_set_promisc(s->pcap, !lo->no_promisc);
	pcap_set_timeout(s->pcap, lo->timeout_ms ? lo->timeout_ms : 250);
	pcap_set_buffer_size(s->pcap, (lo->buffer_mb ? lo->buffer_mb : SM_LIVE_BUFFER_MB) << 20);
	pcap_set_immediate_mode(s->pcap, lo->immediate);
	pcap_set_tstamp_precision(s->pcap, PCAP_TSTAMP_PRECISION_NANO);
	int rc = pcap_activate(s->pcap);
	if (rc < 0) {
		const char *hint =
		    rc == PCAP_ERROR_PERM_DENIED
		        ? " (run as root or give the binary cap_net_raw,cap_net_admin)"
		    : rc == PCAP_ERROR_NO_SUCH_DEVICE ? " (see 'ip link' for names)"
		                                      : "";
		const char *msg = pcap_geterr(s->pcap);
		err = sm_error(eb, SM_ERR_IO, "%s: cannot capture: %s%s", lo->iface,
		               *msg ? msg : pcap_statustostr(rc), hint);
		goto out;
	}
	if (rc > 0)
		warnf(c, "%s: %s", lo->iface, pcap_geterr(s->pcap));
	/* Linux TPACKET_V3 does not wake a blocking read on a silent link, so the read
	 * is non-blocking and we wait on the descriptor with our own timeout. */
	c->live_wait = lo->timeout_ms ? lo->timeout_ms : 250;
	c->live_fd = pcap_get_selectable_fd(s->pcap);
	if (c->live_fd >= 0 && pcap_setnonblock(s->pcap, 1, perr) != 0)
		c->live_fd = -1;
	s->linktype = pcap_datalink(s->pcap);
	s->linktype_known = true;
	s->info.opened = true;
	if (bpf != NULL && *bpf != '\0') {
		bpf_u_int32 net = 0, mask = PCAP_NETMASK_UNKNOWN;
		if (pcap_lookupnet(lo->iface, &net, &mask, perr) != 0)
			mask = PCAP_NETMASK_UNKNOWN;
		struct bpf_program prog;
		if (pcap_compile(s->pcap, &prog, bpf, 1, mask) != 0) {
			err = sm_error(eb, SM_ERR_USAGE, "filter '%s': %s", bpf,
			               pcap_geterr(s->pcap));
			goto out;
		}
		rc = pcap_setfilter(s->pcap, &prog);
		pcap_freecode(&prog);
		if (rc != 0) {
			err = sm_error(eb, SM_ERR_IO, "%s: cannot set the filter: %s", lo->iface,
			               pcap_geterr(s->pcap));
			goto out;
		}
		if ((c->bpf = strdup(bpf)) == NULL) {
			err = sm_error(eb, SM_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	err = reader_new(c, lo, eb);
	if (err == SM_OK && lo->ring_dir != NULL)
		err = ring_open(c, lo, eb);
out:
	if (err != SM_OK) {
		sm_capture_close(c);
		return err;
	}
	*out = c;
	return SM_OK;
}

/* ---- the capture thread ---- */

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

static void
queue_wake(pthread_mutex_t *mu, pthread_cond_t *cv)
{
	pthread_mutex_lock(mu);
	pthread_cond_broadcast(cv);
	pthread_mutex_unlock(mu);
}

/* Sleeps on cv until ready() or ms pass; waiting is the flag the other side checks
 * after it publishes (both sides use sequentially consistent atomics: either it sees
 * the flag or we see its work). */
static void
queue_sleep(struct live_queue *q, pthread_cond_t *cv, _Atomic bool *waiting,
            bool (*ready)(struct live_reader *), struct live_reader *r, int ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)ms * 1000000;
	until.tv_sec += until.tv_nsec / 1000000000;
	until.tv_nsec %= 1000000000;
	pthread_mutex_lock(&q->mu);
	atomic_store(waiting, true);
	if (!ready(r))
		pthread_cond_timedwait(cv, &q->mu, &until);
	atomic_store(waiting, false);
	pthread_mutex_unlock(&q->mu);
}

static bool
queue_has_data(struct live_reader *r)
{
	return atomic_load(&r->q.head) != atomic_load(&r->q.tail) || atomic_load(&r->done);
}

static bool
queue_has_half_free(struct live_reader *r)
{
	return atomic_load(&r->abort) ||
	       r->q.size - (atomic_load(&r->q.head) - atomic_load(&r->q.tail)) >= r->q.size / 2;
}

/* Copies one packet into the queue, waiting while it is full.  False: abort. */
static bool
queue_push(struct live_reader *r, const struct pcap_pkthdr *h, const u_char *data)
{
	struct live_queue *q = &r->q;
	size_t need = ALIGN8(sizeof(struct qslot) + h->caplen);
	for (;;) {
		uint64_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
		uint64_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
		size_t off = (size_t)(head % q->size), room = q->size - off;
		size_t total = room < need ? room + need : need;
		if (q->size - (head - tail) >= total) {
			if (room < need) { /* skip the end of the buffer */
				if (room >= sizeof(struct qslot)) {
					struct qslot wrap = {0, QSLOT_WRAP, 0};
					memcpy(q->buf + off, &wrap, sizeof(wrap));
				}
				off = 0;
			}
			struct qslot sl = {(int64_t)h->ts.tv_sec * 1000000000 +
			                       (int64_t)h->ts.tv_usec,
			                   h->caplen, h->len};
			memcpy(q->buf + off, &sl, sizeof(sl));
			memcpy(q->buf + off + sizeof(sl), data, h->caplen);
			atomic_store(&q->head, head + total);
			if (atomic_load(&q->c_waiting))
				queue_wake(&q->mu, &q->nonempty);
			return true;
		}
		if (atomic_load(&r->abort))
			return false;
		/* full: let the consumer free half of it (fewer wake-ups than one slot) */
		queue_sleep(q, &q->nonfull, &q->p_waiting, queue_has_half_free, r, 100);
	}
}

static void
reader_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct sm_capture *c = (struct sm_capture *)user;
	struct live_reader *r = c->reader;
	if (atomic_load(&r->stop) && (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec >
	                                 atomic_load(&r->stop_ns)) {
		/* the ring is in arrival order: everything from here on came after */
		r->past_stop = true;
		pcap_breakloop(c->src[0].pcap);
		return;
	}
	if (!queue_push(r, h, data)) {
		pcap_breakloop(c->src[0].pcap);
		return;
	}
	r->delivered++;
}

/* Widens libpcap's 32-bit counters (they wrap after 2^32 packets, hours at a
 * high rate) and publishes them; called at least once a second. */
static void
reader_stats(struct sm_capture *c, bool final, bool clean, uint64_t kdrop_at_stop)
{
	struct live_reader *r = c->reader;
	struct pcap_stat ps;
	bool ok = pcap_stats(c->src[0].pcap, &ps) == 0;
	pthread_mutex_lock(&r->q.mu);
	if (ok) {
		r->recv += (uint32_t)(ps.ps_recv - r->last.ps_recv);
		r->kdrop += (uint32_t)(ps.ps_drop - r->last.ps_drop);
		r->ifdrop += (uint32_t)(ps.ps_ifdrop - r->last.ps_ifdrop);
		r->last = ps;
	}
	r->delivered_pub = r->delivered;
	if (final && clean) {
		/* every packet up to the stop was read (the ring was drained up to a
		 * later packet, or found empty) or dropped by the kernel before it
		 * (drops are counted as packets arrive); the later ones are not the
		 * run's, so a busy link does not show drops at every stop.  ps_recv is
		 * not used here: on loopback it counts every packet twice (libpcap
		 * discards the outgoing copy), and it counts what a userland filter
		 * rejects. */
		r->kdrop = kdrop_at_stop;
		r->recv = r->delivered + kdrop_at_stop;
	} else if (final && r->recv < r->delivered + r->kdrop) {
		r->recv = r->delivered + r->kdrop; /* the counters lag; never below */
	}
	if (final) /* from now on, what was received and not read counts as dropped */
		r->final = true;
	pthread_mutex_unlock(&r->q.mu);
}

static double
mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads what the ring holds (non-blocking), else waits up to ms for more.
 * Returns the packets read, 0 for none within ms, -1 when the capture failed. */
static int
reader_read(struct sm_capture *c, int ms)
{
	struct live_reader *r = c->reader;
	pcap_t *p = c->src[0].pcap;
	int n = pcap_dispatch(p, -1, reader_packet, (u_char *)c);
	if (n == 0 && c->live_fd >= 0) {
		struct pollfd pfd = {c->live_fd, POLLIN, 0};
		if (poll(&pfd, 1, ms) > 0)
			n = pcap_dispatch(p, -1, reader_packet, (u_char *)c);
	}
	if (n == PCAP_ERROR_BREAK)
		return atomic_load(&r->abort) ? -1 : 0;
	if (n < 0) {
		snprintf(r->error, sizeof(r->error), "%s", pcap_geterr(p));
		return -1;
	}
	return n;
}

static void *
reader_main(void *arg)
{
	struct sm_capture *c = arg;
	struct live_reader *r = c->reader;
	double next_stats = mono_s() + 1;
	bool failed = false;
	while (!atomic_load(&r->stop) && !atomic_load(&r->abort)) {
		if (reader_read(c, 100) < 0) {
			failed = true;
			break;
		}
		double now = mono_s();
		if (now >= next_stats) {
			next_stats = now + 1;
			reader_stats(c, false, false, 0);
		}
	}
	/* Stopped: read every packet that arrived before the stop (the ring keeps
	 * arrival order, so up to the first later one), while the consumer works
	 * through the queue; a link busier than we read cannot keep us here.  A
	 * half-filled TPACKET_V3 block is handed over only when its timeout
	 * expires, so a wait longer than that which brings nothing means the ring
	 * is empty.  What the kernel received and we did not read counts as
	 * dropped (sm_capture_stats). */
	reader_stats(c, false, false, 0); /* after stop_ns: its drops include all before */
	pthread_mutex_lock(&r->q.mu);
	uint64_t kdrop_at_stop = r->kdrop;
	pthread_mutex_unlock(&r->q.mu);
	int quiet = c->live_wait + 100;
	while (!failed && !atomic_load(&r->abort) && !r->past_stop) {
		int n = reader_read(c, quiet);
		if (n <= 0) {
			failed = n < 0;
			break;
		}
	}
	reader_stats(c, true, !failed && !atomic_load(&r->abort), kdrop_at_stop);
	atomic_store(&r->done, true);
	queue_wake(&r->q.mu, &r->q.nonempty);
	return NULL;
}

static void
reader_free(struct live_reader *r)
{
	if (r == NULL)
		return;
	if (r->started) {
		atomic_store(&r->abort, true);
		queue_wake(&r->q.mu, &r->q.nonfull);
		pthread_join(r->thread, NULL);
	}
	pthread_mutex_destroy(&r->q.mu);
	pthread_cond_destroy(&r->q.nonempty);
	pthread_cond_destroy(&r->q.nonfull);
	free(r->q.buf);
	free(r);
}

/* The queue: an eighth of the kernel buffer, 4-16 MB (the kernel ring holds the
 * burst; the queue only lets the capture thread hand over without waiting for
 * each packet's processing; both count in the process's RSS), and room for 4
 * packets of the snap length whatever it is. */
static enum sm_err
reader_new(struct sm_capture *c, const struct sm_live_opts *lo, struct sm_errbuf *eb)
{
	struct live_reader *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	size_t kernel = (size_t)(lo->buffer_mb ? lo->buffer_mb : SM_LIVE_BUFFER_MB) << 20;
	size_t size = kernel / 8;
	size = size < (4u << 20) ? 4u << 20 : size > (16u << 20) ? 16u << 20 : size;
	size_t slot = ALIGN8(sizeof(struct qslot) + (size_t)(lo->snaplen ? lo->snaplen : 262144));
	if (size < 4 * slot)
		size = 4 * slot;
	r->q.size = size;
	r->q.buf = malloc(size);
	pthread_mutex_init(&r->q.mu, NULL);
	pthread_cond_init(&r->q.nonempty, NULL);
	pthread_cond_init(&r->q.nonfull, NULL);
	c->reader = r;
	if (r->q.buf == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory for the %zu MB packet queue",
		                size >> 20);
	return SM_OK;
}

/* Started at the first read, after privileges are dropped: the thread inherits
 * the process's final credentials and confinement.  Stop signals stay with the
 * main thread. */
static bool
reader_start(struct sm_capture *c)
{
	struct live_reader *r = c->reader;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&r->thread, NULL, reader_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(r->error, sizeof(r->error), "cannot start the capture thread: %s",
		         strerror(rc));
		atomic_store(&r->done, true);
		return false;
	}
	r->started = true;
	return true;
}

static int
live_next(struct sm_capture *c, struct sm_raw_packet *pkt)
{
	struct source *s = &c->src[0];
	struct live_reader *r = c->reader;
	struct live_queue *q = &r->q;
	if (s->pcap == NULL)
		return SM_CAPTURE_END;
	if (!r->started && !atomic_load(&r->done))
		reader_start(c);
	if (q->held != atomic_load_explicit(&q->tail, memory_order_relaxed)) {
		atomic_store(&q->tail, q->held); /* the previous packet's slot is free */
		if (atomic_load(&q->p_waiting) && queue_has_half_free(r))
			queue_wake(&q->mu, &q->nonfull);
	}
	for (;;) {
		uint64_t tail = q->held,
		         head = atomic_load_explicit(&q->head, memory_order_acquire);
		if (head == tail) {
			if (atomic_load(&r->done)) {
				if (atomic_load(&q->head) != tail)
					continue; /* queued just before the end */
				if (r->error[0] != '\0' && s->info.error[0] == '\0') {
					snprintf(s->info.error, sizeof(s->info.error),
					         "capture stopped after %llu packets: %s",
					         (unsigned long long)s->info.packets, r->error);
					warnf(c, "%s: %s", s->info.path, s->info.error);
				}
				return SM_CAPTURE_END;
			}
			queue_sleep(q, &q->nonempty, &q->c_waiting, queue_has_data, r,
			            c->live_wait);
			if (atomic_load(&q->head) == tail && !atomic_load(&r->done))
				return SM_CAPTURE_IDLE;
			continue;
		}
		size_t off = (size_t)(tail % q->size), room = q->size - off;
		struct qslot sl;
		if (room >= sizeof(sl))
			memcpy(&sl, q->buf + off, sizeof(sl));
		if (room < sizeof(sl) || sl.caplen == QSLOT_WRAP) {
			q->held = tail + room;
			atomic_store(&q->tail, q->held);
			continue;
		}
		q->held = tail + ALIGN8(sizeof(sl) + sl.caplen);
		pkt->ts_ns = sl.ts_ns;
		pkt->caplen = sl.caplen;
		pkt->len = sl.len;
		pkt->data = q->buf + off + sizeof(sl);
		break;
	}
	pkt->linktype = s->linktype;
	pkt->source = 0;
	if (c->bpf != NULL) /* the kernel drops the rest: only kept frames are seen */
		note_shape(c, s->linktype, pkt->data, pkt->caplen);
	s->info.packets++;
	s->info.bytes += pkt->len;
	if (c->ring != NULL) {
		struct pcap_pkthdr h;
		h.ts.tv_sec = (time_t)(pkt->ts_ns / 1000000000);
		h.ts.tv_usec = (suseconds_t)(pkt->ts_ns % 1000000000); /* nanosecond pcap */
		h.caplen = pkt->caplen;
		h.len = pkt->len;
		ring_write(c, c->ring, c->ring->dead, &h, pkt->data);
	}
	return SM_CAPTURE_PACKET;
}

void
sm_capture_stop(struct sm_capture *c)
{
	if (c->reader == NULL)
		return;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now); /* the clock of packet timestamps */
	atomic_store(&c->reader->stop_ns, (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
	atomic_store(&c->reader->stop, true);
	if (!c->reader->started)
		atomic_store(&c->reader->done, true);
}

bool
sm_capture_stats(struct sm_capture *c, uint64_t *received, uint64_t *dropped)
{
	struct live_reader *r = c->reader;
	if (!c->live || r == NULL)
		return false;
	if (!r->started) { /* no thread reads the handle: ask libpcap here */
		struct pcap_stat ps;
		if (c->src[0].pcap == NULL || pcap_stats(c->src[0].pcap, &ps) != 0)
			return false;
		*received = ps.ps_recv;
		*dropped = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
		return true;
	}
	pthread_mutex_lock(&r->q.mu);
	*received = r->recv;
	*dropped = r->kdrop + r->ifdrop;
	if (r->final) /* what the kernel kept but was never read is lost too */
		*dropped = r->recv - r->delivered_pub + r->ifdrop;
	pthread_mutex_unlock(&r->q.mu);
	return true;
}

void
sm_capture_sync(struct sm_capture *c)
{
	if (c->ring != NULL && c->ring->dump != NULL)
		ring_flush(c, c->ring);
}

size_t
sm_capture_ring_count(const struct sm_capture *c)
{
	return c->ring ? c->ring->nfiles : 0;
}

const struct sm_source_info *
sm_capture_ring_file(const struct sm_capture *c, size_t i)
{
	return c->ring && i < c->ring->nfiles ? &c->ring->files[i] : NULL;
}

int
sm_capture_next(struct sm_capture *c, struct sm_raw_packet *pkt)
{
	if (c->live)
		return live_next(c, pkt);
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

void
sm_capture_close(struct sm_capture *c)
{
	if (c == NULL)
		return;
	reader_free(c->reader); /* ends the capture thread before its handle closes */
	for (size_t i = 0; i < c->nsrc; i++) {
		source_finish(&c->src[i]);
		free(c->src[i].info.path);
	}
	free(c->src);
	free(c->heap);
	ring_free(c->ring);
	for (size_t i = 0; i < c->nprobe; i++)
		if (c->probe[i].ok)
			pcap_freecode(&c->probe[i].prog);
	free(c->bpf);
	free(c->shapes);
	free(c->shape_slot);
	free(c);
}

/* ---- what the -f filter keeps of a flow ---- */

/* The link header of shape sh for an IP packet of family v6, the way back (back:
 * MAC addresses swapped, a cooked header's direction turned); false where it cannot
 * be built. */
static bool
probe_link(const struct frame_shape *sh, bool v6, bool back, uint8_t *b, size_t *n)
{
	uint16_t etype = v6 ? 0x86dd : 0x0800;
	if (sh->linklen == 0xff)
		return false;
	memcpy(b, sh->link, sh->linklen);
	*n = sh->linklen;
	switch (sh->linktype) {
	case DLT_EN10MB:
		if (back) {
			uint8_t mac[6];
			memcpy(mac, b, 6);
			memmove(b, b + 6, 6);
			memcpy(b + 6, mac, 6);
		}
		b[*n - 2] = (uint8_t)(etype >> 8);
		b[*n - 1] = (uint8_t)etype;
		return true;
	case DLT_LINUX_SLL: /* packet type 0 (to us) and 4 (sent by us) turn round */
		if (back && (b[1] == 0 || b[1] == 4))
			b[1] = b[1] == 0 ? 4 : 0;
		b[14] = (uint8_t)(etype >> 8);
		b[15] = (uint8_t)etype;
		return true;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
		if (back && (b[10] == 0 || b[10] == 4))
			b[10] = b[10] == 0 ? 4 : 0;
		b[0] = (uint8_t)(etype >> 8);
		b[1] = (uint8_t)etype;
		return true;
#endif
	case DLT_NULL:   /* address family in the writer's byte order (taken as ours) */
	case DLT_LOOP: { /* in network byte order */
		uint32_t af = v6 ? 24 : 2; /* AF_INET6 as BSD numbers it; libpcap takes 24/28/30 */
		if (sh->linktype == DLT_LOOP)
			af = htonl(af);
		memcpy(b, &af, 4);
		return true;
	}
	case DLT_RAW:
		return true;
	case DLT_IPV4:
	case DLT_IPV6:
		return (sh->linktype == DLT_IPV6) == v6;
	default:
		return false;
	}
}

#define PROBE_MAX (40 + 40 + 20 + 64) /* link header, IPv6, TCP, payload */

/* One packet of the flow: kind 0 = SYN, 1 = SYN-ACK, 2 = data, 3 = data back (ICMP:
 * request, reply; UDP: a datagram either way).  Returns its length, 0 if unbuildable. */
static size_t
probe_packet(const struct frame_shape *sh, const struct sm_flow_probe *f, int kind,
             uint8_t b[PROBE_MAX])
{
	bool v6 = f->src.family == 6, back = kind == 1 || kind == 3;
	const struct sm_addr *src = back ? &f->dst : &f->src, *dst = back ? &f->src : &f->dst;
	uint16_t sport = back ? f->dport : 49152, dport = back ? 49152 : f->dport;
	size_t n;
	if (!probe_link(sh, v6, back, b, &n))
		return 0;
	uint8_t l4[20 + 64];
	size_t l4len;
	uint8_t proto = f->proto;
	memset(l4, 0, sizeof(l4));
	if (f->proto == 6) {
		static const uint8_t flags[4] = {0x02, 0x12, 0x18, 0x18};
		l4[0] = (uint8_t)(sport >> 8), l4[1] = (uint8_t)sport;
		l4[2] = (uint8_t)(dport >> 8), l4[3] = (uint8_t)dport;
		l4[7] = 1, l4[11] = kind == 0 ? 0 : 1;
		l4[12] = 5 << 4;
		l4[13] = flags[kind];
		l4[14] = 0xff, l4[15] = 0xff;
		l4len = kind < 2 ? 20 : 20 + 64;
	} else if (f->proto == 17) {
		l4[0] = (uint8_t)(sport >> 8), l4[1] = (uint8_t)sport;
		l4[2] = (uint8_t)(dport >> 8), l4[3] = (uint8_t)dport;
		l4len = 8 + 64;
		l4[4] = 0, l4[5] = (uint8_t)l4len;
	} else { /* ICMP echo request and reply */
		proto = v6 ? 58 : 1;
		l4[0] = v6 ? (back ? 129 : 128) : (back ? 0 : 8);
		l4[5] = 1, l4[7] = 1;
		l4len = 8 + 56;
	}
	uint8_t *ip = b + n;
	if (v6) {
		memset(ip, 0, 40);
		ip[0] = 0x60;
		ip[4] = (uint8_t)(l4len >> 8), ip[5] = (uint8_t)l4len;
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, src->a, 16);
		memcpy(ip + 24, dst->a, 16);
		n += 40;
	} else {
		size_t tot = 20 + l4len;
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[2] = (uint8_t)(tot >> 8), ip[3] = (uint8_t)tot;
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, src->a, 4);
		memcpy(ip + 16, dst->a, 4);
		n += 20;
	}
	memcpy(b + n, l4, l4len);
	return n + l4len;
}

/* The -f program for a link type, compiled once; NULL if it does not compile there. */
static const struct bpf_program *
probe_prog(struct sm_capture *c, int linktype)
{
	for (size_t i = 0; i < c->nprobe; i++)
		if (c->probe[i].linktype == linktype)
			return c->probe[i].ok ? &c->probe[i].prog : NULL;
	if (c->nprobe == sizeof(c->probe) / sizeof(c->probe[0]))
		return NULL;
	struct probe_prog *p = &c->probe[c->nprobe++];
	p->linktype = linktype;
	pcap_t *dead = pcap_open_dead(linktype, 262144);
	p->ok = dead != NULL && pcap_compile(dead, &p->prog, c->bpf, 1, PCAP_NETMASK_UNKNOWN) == 0;
	if (dead != NULL)
		pcap_close(dead);
	return p->ok ? &p->prog : NULL;
}

/* How many of flow f's probe packets in frames of shape sh the filter keeps, of *total
 * (0 kept when the shape cannot be probed); handshake: only the first packet and its
 * answer (SYN and SYN-ACK, request and reply). */
static int
shape_kept(struct sm_capture *c, const struct frame_shape *sh, const struct sm_flow_probe *f,
           bool handshake, int *total)
{
	const struct bpf_program *prog = probe_prog(c, sh->linktype);
	*total = f->proto == 6 && !handshake ? 4 : 2;
	int kept = 0;
	for (int k = 0; prog != NULL && k < *total; k++) {
		uint8_t buf[PROBE_MAX];
		size_t len = probe_packet(sh, f, f->proto == 6 ? k : k == 0 ? 0 : 1, buf);
		if (len == 0)
			return 0;
		struct pcap_pkthdr h;
		memset(&h, 0, sizeof(h));
		h.caplen = h.len = (bpf_u_int32)len;
		kept += pcap_offline_filter(prog, &h, buf) != 0;
	}
	return kept;
}

/* A shape for a source that read no frame: its declared link type, a plain header. */
static bool
default_shape(int linktype, struct frame_shape *sh)
{
	static const uint8_t eth[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0};
	static const uint8_t sll2[20] = {8, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6};
	static const uint8_t sll[16] = {0, 0, 0, 1, 0, 6};
	const uint8_t *frame = linktype == DLT_EN10MB ? eth
#ifdef DLT_LINUX_SLL2
	                       : linktype == DLT_LINUX_SLL2 ? sll2
#endif
	                       : linktype == DLT_LINUX_SLL ? sll
	                                                   : eth; /* 4-byte headers: any bytes */
	return shape_of(linktype, frame, 20, sh);
}

bool
sm_capture_filter_keeps(struct sm_capture *c, const struct sm_flow_probe *f, bool seen)
{
	if (c->bpf == NULL)
		return true;
	if (!seen && c->shapes_lost)
		return false; /* a shape not kept could hide the flow */
	size_t counted = 0;
	struct frame_shape dflt;
	for (size_t i = 0; i < c->nshapes; i++) {
		int total, kept = shape_kept(c, &c->shapes[i], f, seen, &total);
		if (!seen && kept < total)
			return false; /* the flow may travel in this shape, hidden */
		if (seen && kept > 0 && kept < total)
			return false; /* where its packets pass, some of them do not */
		counted += kept == total;
	}
	/* no frame read at all: the link types the sources declared, plain headers */
	for (size_t i = 0; c->nshapes == 0 && i < c->nsrc; i++) {
		const struct source *s = &c->src[i];
		if (!s->info.opened || !s->linktype_known || !default_shape(s->linktype, &dflt))
			continue;
		int total, kept = shape_kept(c, &dflt, f, seen, &total);
		if (kept < total)
			return false;
		counted++;
	}
	return counted > 0;
}

/* ---- writing evidence files ---- */

struct sm_capture_writer {
	pcap_t *dead;
	pcap_dumper_t *dump;
	FILE *f;
	char path[4096];
};

enum sm_err
sm_capture_writer_open(struct sm_capture_writer **out, const char *path, int linktype,
                       struct sm_errbuf *eb)
{
	*out = NULL;
	struct sm_capture_writer *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	sm_strlcpy(w->path, path, sizeof(w->path));
	w->dead =
	    pcap_open_dead_with_tstamp_precision(linktype, 262144, PCAP_TSTAMP_PRECISION_NANO);
	w->f = fopen(path, "wb");
	if (w->dead == NULL || w->f == NULL) {
		enum sm_err e = sm_error(eb, SM_ERR_IO, "%s: cannot create: %s", path,
		                         w->f == NULL ? strerror(errno) : "out of memory");
		if (w->f != NULL)
			fclose(w->f);
		if (w->dead != NULL)
			pcap_close(w->dead);
		free(w);
		return e;
	}
	w->dump = pcap_dump_fopen(w->dead, w->f);
	if (w->dump == NULL) {
		enum sm_err e =
		    sm_error(eb, SM_ERR_IO, "%s: cannot write: %s", path, pcap_geterr(w->dead));
		fclose(w->f);
		pcap_close(w->dead);
		free(w);
		return e;
	}
	*out = w;
	return SM_OK;
}

enum sm_err
sm_capture_write(struct sm_capture_writer *w, const struct sm_raw_packet *pkt, struct sm_errbuf *eb)
{
	struct pcap_pkthdr h;
	h.ts.tv_sec = (time_t)(pkt->ts_ns / 1000000000);
	/* with nanosecond precision libpcap takes tv_usec as nanoseconds */
	h.ts.tv_usec = (suseconds_t)(pkt->ts_ns % 1000000000);
	h.caplen = pkt->caplen;
	h.len = pkt->len;
	pcap_dump((u_char *)w->dump, &h, pkt->data);
	if (ferror(w->f))
		return sm_error(eb, SM_ERR_IO, "%s: write error: %s", w->path, strerror(errno));
	return SM_OK;
}

enum sm_err
sm_capture_writer_close(struct sm_capture_writer *w, struct sm_errbuf *eb)
{
	enum sm_err e = SM_OK;
	if (pcap_dump_flush(w->dump) != 0 || ferror(w->f) || fsync(fileno(w->f)) != 0)
		e = sm_error(eb, SM_ERR_IO, "%s: write error: %s", w->path, strerror(errno));
	pcap_dump_close(w->dump); /* closes w->f */
	pcap_close(w->dead);
	free(w);
	return e;
}
