/*
 * capture_pcap: libpcap behind our own types.  src/capture_pcap.c is the only
 * file that includes pcap.h; the other capture files (the merged timeline, the
 * classic-pcap and pcapng readers, live capture, the writer, the -f probes) reach
 * libpcap only through these functions, so swapping the library touches one file.
 * Internal to the capture module: not part of include/smaudit/capture.h.
 */
#ifndef SMAUDIT_CAPTURE_PCAP_H
#define SMAUDIT_CAPTURE_PCAP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "smaudit/capture.h"
#include "smaudit/err.h"

/* Room for any libpcap error message (PCAP_ERRBUF_SIZE, checked where pcap.h is). */
#define LPCAP_ERRBUF_SIZE 256

/* A packet's record header: what libpcap's struct pcap_pkthdr says, time in ns. */
struct lpcap_hdr {
	int64_t ts_ns;
	uint32_t caplen;
	uint32_t len;
};

struct lpcap;      /* a libpcap handle: a file, a live interface or a "dead" one */
struct lpcap_bpf;  /* a compiled -f program */
struct lpcap_dump; /* a pcap file being written */

/* Kernel counters of a live handle, as wide as libpcap keeps them (they wrap). */
struct lpcap_stats {
	uint32_t recv, drop, ifdrop;
};

enum lpcap_next {
	LPCAP_PACKET, /* *hdr and *data hold the next packet */
	LPCAP_END,    /* end of the file */
	LPCAP_ERROR,  /* a read error: lpcap_geterr() says which */
};

/* Opens a capture file (or the stream f, owned from then on) with nanosecond
 * timestamps; NULL with libpcap's reason in err. */
struct lpcap *lpcap_open_file(const char *path, char err[LPCAP_ERRBUF_SIZE]);
struct lpcap *lpcap_open_stream(FILE *f, char err[LPCAP_ERRBUF_SIZE]);
/* A handle only for compiling filters and writing files of a link type. */
struct lpcap *lpcap_open_dead(int linktype, int snaplen, bool nano);
enum lpcap_next lpcap_next(struct lpcap *h, struct lpcap_hdr *hdr, const uint8_t **data);
int lpcap_linktype(struct lpcap *h);
int lpcap_snaplen(struct lpcap *h);
FILE *lpcap_file(struct lpcap *h); /* the file libpcap reads; NULL live */
const char *lpcap_geterr(struct lpcap *h);
void lpcap_close(struct lpcap *h);

/* Compiles bpf for handle h (NULL: a dead handle of linktype, pcapng's LINKTYPE_RAW
 * taken as DLT_RAW); NULL with the compiler's message in err (when not NULL). */
struct lpcap_bpf *lpcap_compile(struct lpcap *h, int linktype, const char *bpf,
                                char err[LPCAP_ERRBUF_SIZE]);
bool lpcap_bpf_match(const struct lpcap_bpf *prog, const uint8_t *data, uint32_t caplen,
                     uint32_t len);
void lpcap_bpf_free(struct lpcap_bpf *prog);

/* A live interface opened, configured from lo and activated; a warning libpcap
 * gave while activating lands in warn ("" if none). */
enum sm_err lpcap_open_live(struct lpcap **out, const struct sm_live_opts *lo,
                            char warn[LPCAP_ERRBUF_SIZE], struct sm_errbuf *eb);
/* The kernel filter on a live handle (netmask of the interface when known). */
enum sm_err lpcap_set_filter(struct lpcap *h, const char *iface, const char *bpf,
                             struct sm_errbuf *eb);
/* A descriptor to poll, the handle made non-blocking; -1 if there is none. */
int lpcap_pollable_fd(struct lpcap *h);

typedef void (*lpcap_packet_fn)(void *ctx, const struct lpcap_hdr *h, const uint8_t *data);
enum lpcap_dispatch {
	LPCAP_DISPATCH_OK,    /* *n packets were handed to fn (maybe 0) */
	LPCAP_DISPATCH_BREAK, /* lpcap_breakloop() ended it */
	LPCAP_DISPATCH_ERROR, /* the capture failed: lpcap_geterr() */
};
/* Hands every packet the kernel ring holds now to fn. */
enum lpcap_dispatch lpcap_dispatch(struct lpcap *h, lpcap_packet_fn fn, void *ctx, int *n);
void lpcap_breakloop(struct lpcap *h);
bool lpcap_stats(struct lpcap *h, struct lpcap_stats *st);

/* Writes a pcap file on f (owned from then on) for dead handle h's link type. */
struct lpcap_dump *lpcap_dump_open(struct lpcap *h, FILE *f);
void lpcap_dump_write(struct lpcap_dump *d, const struct lpcap_hdr *hdr, const uint8_t *data);
bool lpcap_dump_flush(struct lpcap_dump *d); /* false on a write error */
void lpcap_dump_close(struct lpcap_dump *d); /* closes its file too */

#endif
