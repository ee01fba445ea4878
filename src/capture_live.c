/*
 * capture_live: a live interface.  A thread of its own takes packets off the
 * kernel ring into a queue and does nothing else; sm_capture_next() hands them
 * out in the caller's thread, counts them against the kernel's counters (widened
 * to 64 bits), and keeps the raw packets in a ring of rotating pcap files (-w DIR)
 * when asked.  libpcap is reached through src/capture_pcap.h.
 */
#include "capture_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The ring of raw capture files kept by a live run (-w DIR). */
#define RING_BUF (64u << 10)
struct ring {
	int dirfd; /* opened before privileges are dropped: works after chroot too */
	char *dir;
	uint64_t max_bytes;
	unsigned max_files;
	struct lpcap_dump *dump;
	FILE *f;
	uint64_t size; /* bytes written to the current file (no ftell per packet) */
	/* Packets reach the file when the stdio buffer is flushed, which ring_flush
	 * does before the buffer is full: only packets a flush got into the file
	 * are counted in files[], the ones in the buffer wait in pending_*. */
	char *buf; /* RING_BUF bytes, the current file's stdio buffer */
	size_t buffered;
	uint64_t pending_packets, pending_bytes;
	unsigned seq;
	struct lpcap *dead; /* the interface's link type and snap length, for the dump: the
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
	bool final;              /* the counters are the last ones: undelivered packets are lost */
	struct lpcap_stats last; /* capture thread: the previous counters */
	char error[LPCAP_ERRBUF_SIZE + 64]; /* why the capture stopped; set before done */
};

static void
ring_close_file(struct ring *r)
{
	if (r->dump != NULL) {
		lpcap_dump_close(r->dump); /* closes r->f too */
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
	capture_warnf(c, "%s: %s; no more raw packets are kept (%llu packet(s) in the file)",
	              fi->path, fi->error, (unsigned long long)fi->packets);
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
ring_rotate(struct sm_capture *c, struct ring *r, struct lpcap *p)
{
	if (r->dump != NULL && !ring_flush(c, r))
		return false;
	ring_close_file(r);
	while (r->nfiles >= r->max_files) {
		const char *base = strrchr(r->files[0].path, '/');
		if (unlinkat(r->dirfd, base ? base + 1 : r->files[0].path, 0) != 0 &&
		    errno != ENOENT)
			capture_warnf(c, "%s: cannot delete the oldest ring file: %s",
			              r->files[0].path, strerror(errno));
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
	r->dump = r->f ? lpcap_dump_open(p, r->f) : NULL;
	if (r->dump == NULL) {
		capture_warnf(c, "%s: cannot write the ring file, no more raw packets are kept: %s",
		              path, fd < 0 ? strerror(errno) : lpcap_geterr(p));
		if (r->f != NULL)
			fclose(r->f);
		else if (fd >= 0)
			close(fd);
		r->f = NULL;
		free(path);
		r->failed = true;
		return false;
	}
	r->size = 24; /* the file header lpcap_dump_open wrote */
	r->buffered = 24;
	memset(&r->files[r->nfiles], 0, sizeof(r->files[0]));
	r->files[r->nfiles].path = path;
	r->files[r->nfiles].opened = true;
	r->nfiles++;
	return true;
}

static void
ring_write(struct sm_capture *c, struct ring *r, struct lpcap *p, const struct lpcap_hdr *h,
           const uint8_t *data)
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
	lpcap_dump_write(r->dump, h, data);
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
	lpcap_close(r->dead);
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
	r->dead = lpcap_open_dead(c->src[0].linktype, lpcap_snaplen(c->src[0].pcap), true);
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

static enum sm_err reader_new(struct sm_capture *c, const struct sm_live_opts *lo,
                              struct sm_errbuf *eb);

enum sm_err
live_open(struct sm_capture *c, const struct sm_live_opts *lo, const char *bpf,
          struct sm_errbuf *eb)
{
	c->live = true;
	c->live_fd = -1;
	struct source *s = &c->src[0];
	size_t plen = strlen(lo->iface) + 6;
	s->info.path = malloc(plen);
	enum sm_err err = SM_OK;
	char activate_warning[LPCAP_ERRBUF_SIZE];
	if (s->info.path == NULL) {
		err = sm_error(eb, SM_ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(s->info.path, plen, "live:%s", lo->iface);
	err = lpcap_open_live(&s->pcap, lo, activate_warning, eb);
	if (err != SM_OK)
		goto out;
	if (*activate_warning != '\0')
		capture_warnf(c, "%s: %s", lo->iface, activate_warning);
	/* Linux TPACKET_V3 does not wake a blocking read on a silent link, so the read
	 * is non-blocking and we wait on the descriptor with our own timeout. */
	c->live_wait = lo->timeout_ms ? lo->timeout_ms : 250;
	c->live_fd = lpcap_pollable_fd(s->pcap);
	s->linktype = lpcap_linktype(s->pcap);
	s->linktype_known = true;
	s->info.opened = true;
	if (bpf != NULL && *bpf != '\0') {
		err = lpcap_set_filter(s->pcap, lo->iface, bpf, eb);
		if (err != SM_OK)
			goto out;
		if ((c->bpf = strdup(bpf)) == NULL) {
			err = sm_error(eb, SM_ERR_NOMEM, "out of memory");
			goto out;
		}
	}
	err = reader_new(c, lo, eb);
	if (err == SM_OK && lo->ring_dir != NULL)
		err = ring_open(c, lo, eb);
out:
	return err;
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
queue_push(struct live_reader *r, const struct lpcap_hdr *h, const uint8_t *data)
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
			struct qslot sl = {h->ts_ns, h->caplen, h->len};
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
reader_packet(void *ctx, const struct lpcap_hdr *h, const uint8_t *data)
{
	struct sm_capture *c = ctx;
	struct live_reader *r = c->reader;
	if (atomic_load(&r->stop) && h->ts_ns > atomic_load(&r->stop_ns)) {
		/* the ring is in arrival order: everything from here on came after */
		r->past_stop = true;
		lpcap_breakloop(c->src[0].pcap);
		return;
	}
	if (!queue_push(r, h, data)) {
		lpcap_breakloop(c->src[0].pcap);
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
	struct lpcap_stats ps;
	bool ok = lpcap_stats(c->src[0].pcap, &ps);
	pthread_mutex_lock(&r->q.mu);
	if (ok) {
		r->recv += (uint32_t)(ps.recv - r->last.recv);
		r->kdrop += (uint32_t)(ps.drop - r->last.drop);
		r->ifdrop += (uint32_t)(ps.ifdrop - r->last.ifdrop);
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

enum reader_read { READ_SOME, READ_NOTHING, READ_FAILED };

/* Reads what the ring holds (non-blocking), else waits up to ms for more:
 * READ_NOTHING when nothing came within ms (or a stop broke the loop). */
static enum reader_read
reader_read(struct sm_capture *c, int ms)
{
	struct live_reader *r = c->reader;
	struct lpcap *p = c->src[0].pcap;
	int n;
	enum lpcap_dispatch rc = lpcap_dispatch(p, reader_packet, c, &n);
	if (rc == LPCAP_DISPATCH_OK && n == 0 && c->live_fd >= 0) {
		struct pollfd pfd = {c->live_fd, POLLIN, 0};
		if (poll(&pfd, 1, ms) > 0)
			rc = lpcap_dispatch(p, reader_packet, c, &n);
	}
	if (rc == LPCAP_DISPATCH_BREAK)
		return atomic_load(&r->abort) ? READ_FAILED : READ_NOTHING;
	if (rc == LPCAP_DISPATCH_ERROR) {
		snprintf(r->error, sizeof(r->error), "%s", lpcap_geterr(p));
		return READ_FAILED;
	}
	return n > 0 ? READ_SOME : READ_NOTHING;
}

static void *
reader_main(void *arg)
{
	struct sm_capture *c = arg;
	struct live_reader *r = c->reader;
	double next_stats = sm_monotonic_s() + 1;
	bool failed = false;
	while (!atomic_load(&r->stop) && !atomic_load(&r->abort)) {
		if (reader_read(c, 100) == READ_FAILED) {
			failed = true;
			break;
		}
		double now = sm_monotonic_s();
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
		enum reader_read rc = reader_read(c, quiet);
		if (rc != READ_SOME) {
			failed = rc == READ_FAILED;
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

enum sm_capture_status
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
					capture_warnf(c, "%s: %s", s->info.path, s->info.error);
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
		shape_note(c, s->linktype, pkt->data, pkt->caplen);
	s->info.packets++;
	s->info.bytes += pkt->len;
	if (c->ring != NULL) {
		struct lpcap_hdr h = {pkt->ts_ns, pkt->caplen, pkt->len};
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
		struct lpcap_stats ps;
		if (c->src[0].pcap == NULL || !lpcap_stats(c->src[0].pcap, &ps))
			return false;
		*received = ps.recv;
		*dropped = (uint64_t)ps.drop + ps.ifdrop;
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

/* Ends the capture thread (before its handle closes) and closes the ring. */
void
live_free(struct sm_capture *c)
{
	reader_free(c->reader);
	c->reader = NULL;
	ring_free(c->ring);
	c->ring = NULL;
}
