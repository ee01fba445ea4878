/*
 * capture_int: what the files of the capture module share, behind the contract of
 * include/smaudit/capture.h.  capture.c merges the sources into one timeline;
 * capture_classic.c and capture_pcapng.c read files; capture_live.c reads an
 * interface and keeps its ring; capture_filter.c answers what -f keeps;
 * capture_writer.c writes evidence files; capture_pcap.c is libpcap.
 */
#ifndef SMAUDIT_CAPTURE_INT_H
#define SMAUDIT_CAPTURE_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "capture_pcap.h"
#include "smaudit/capture.h"
#include "smaudit/inflate.h"

/* How a reader's attempt at the next packet went. */
enum cap_read {
	CAP_READ_PACKET,    /* the source holds its next packet */
	CAP_READ_END,       /* clean end of the file */
	CAP_READ_ERROR,     /* damaged or truncated: the reason is in why */
	CAP_READ_HAND_OVER, /* a record only libpcap reads: it takes the rest */
};

struct classic; /* capture_classic.c */
struct order;   /* capture_order.c */
struct ng;      /* capture_pcapng.c */
struct live_reader;
struct ring; /* capture_live.c */

/* One input file (or the live interface) and its pending packet. */
struct source {
	struct sm_source_info info;
	struct lpcap *pcap;
	struct ng *ng;
	struct classic *classic;
	struct sm_instream *in; /* compressed file or pipe: the stream pcap or ng reads (it
	                         * owns it); NULL for a plain file */
	uint64_t size;          /* bytes of a regular file, 0 unknown (progress) */
	bool finished;          /* read to its end (or stopped): all its bytes count as read */
	uint64_t read_at_end;   /* bytes read when it finished */
	const char *bpf;
	struct lpcap_bpf *prog; /* -f for a classic pcap source, applied here; NULL without */
	struct sm_capture *cap; /* the capture it belongs to (its frame shapes) */
	int linktype;
	bool linktype_known;  /* declared by the file or interface (not pcapng) */
	bool has_pkt;         /* hdr/data hold the source's next packet */
	bool parked;          /* hdr holds its first packet, its file is closed until the
	                       * merge reaches it (many inputs); data is not valid */
	struct lpcap_hdr hdr; /* ts_ns already shifted by offset_ns */
	const uint8_t *data;
	int64_t offset_ns; /* its sensor's clock offset (sm_capture_set_offset) */
	int64_t last_ns;   /* time of the packet read last (INT64_MIN: none yet) */
	bool file_known;   /* a regular file: dev and ino say which (a file is read once) */
	dev_t dev;
	ino_t ino;
	struct order *order; /* its records came out of time order: sorted from then on */
	bool read_end;       /* sorted: the reader has nothing more, the queue the rest */
};

/* How a capture's frames look below IP: the link type and the link header of the
 * first frame that looked so (MAC addresses, VLAN tags, cooked header), with its
 * protocol field zeroed.  The -f filter is probed with packets built on every shape
 * the capture held. */
struct frame_shape {
	int linktype;
	uint8_t linklen; /* bytes before the IP header; 0xff: a shape probes cannot build */
	uint8_t link[40];
};

struct probe_prog {
	int linktype;
	struct lpcap_bpf *prog; /* NULL: -f does not compile for the link type */
};

struct sm_capture {
	struct source *src;
	size_t nsrc, cap;
	/* Min-heap of indices of sources that have a pending packet. */
	uint32_t *heap;
	size_t nheap;
	long advance; /* source whose packet was handed out last, -1 if none */
	bool started; /* sm_capture_next was called: offsets are fixed */
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
	uint16_t *shape_slot;       /* hash of shapes: index + 1, 0 = empty */
	bool shapes_lost;           /* more shapes than kept (or no memory for them) */
	struct probe_prog probe[8]; /* -f compiled for each link type probed */
	size_t nprobe;
};

/* A warning for the caller's warn function (none: dropped), from every file of
 * the module. */
static inline void capture_warnf(struct sm_capture *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void
capture_warnf(struct sm_capture *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->warn)
		c->warn(c->warn_ctx, msg);
}

/* capture.c */
void source_finish(struct source *s);

/* capture_classic.c: classic pcap files libpcap opened, read in place. */
bool classic_try_open(struct source *s);
bool classic_peek(const struct classic *m, unsigned ahead, uint32_t *caplen, const uint8_t **data);
enum cap_read classic_next(struct classic *m, struct lpcap_hdr *hdr, const uint8_t **data,
                           char *why, size_t whylen);
bool classic_hand_over(struct source *s);
uint64_t classic_bytes_read(const struct classic *m);
void classic_free(struct classic *m);

/* capture_order.c: a source's packets sorted by time, handed on once the source
 * was read ORDER_WINDOW_NS past them or ORDER_MAX_BYTES are held. */
#define ORDER_WINDOW_NS (1000000000LL / 2)
#define ORDER_MAX_BYTES ((size_t)32 << 20)
struct order *order_new(void);
void order_free(struct order *o);
/* Copies the packet in at its place; false when out of memory. */
bool order_push(struct order *o, const struct lpcap_hdr *hdr, const uint8_t *data);
/* Whether the oldest packet held may be handed on before the source is read further. */
bool order_full(const struct order *o);
int64_t order_newest(const struct order *o);
/* The oldest packet held, valid until the next call; false when none is. */
bool order_pop(struct order *o, struct lpcap_hdr *hdr, const uint8_t **data);

/* capture_pcapng.c */
bool pcapng_magic(const uint8_t m[4]);
bool pcapng_try_open(struct source *s, enum sm_err *err, struct sm_errbuf *eb);
enum sm_err pcapng_attach(struct source *s, FILE *f, struct sm_errbuf *eb);
enum cap_read pcapng_next(struct source *s, const char **why);
FILE *pcapng_file(const struct ng *ng);
/* The packets the file declares dropped, so far (statistics and packet blocks). */
uint64_t pcapng_dropped(const struct ng *ng);
void pcapng_free(struct ng *ng);

/* capture_live.c */
/* Opens the interface of lo as c's one source (c made by sm_capture_open_live,
 * which closes it when this fails). */
enum sm_err live_open(struct sm_capture *c, const struct sm_live_opts *lo, const char *bpf,
                      struct sm_errbuf *eb);
enum sm_capture_status live_next(struct sm_capture *c, struct sm_raw_packet *pkt);
void live_free(struct sm_capture *c);

/* capture_filter.c */
void shape_note(struct sm_capture *c, int linktype, const uint8_t *d, uint32_t caplen);
void probes_free(struct sm_capture *c);

#endif
