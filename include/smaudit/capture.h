/*
 * capture: the only user of libpcap.
 * Opens any number of pcap/pcapng files, plain or compressed (gzip, zstd, lz4:
 * src/inflate.c), and directories (or "-" for stdin)
 * and yields their packets as ONE timeline ordered by packet time, even when
 * the files' time ranges interleave.  Damaged or truncated files are read as
 * far as possible; what could not be read is recorded per source, never fatal.
 * Also: live capture with a ring of raw files, what a -f filter keeps of a flow,
 * and pcap files written as evidence.  The files behind this contract are listed
 * in src/capture_int.h; only src/capture_pcap.c includes pcap.h.
 */
#ifndef SMAUDIT_CAPTURE_H
#define SMAUDIT_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "smaudit/addr.h"
#include "smaudit/err.h"

/* Link types (pcap/dlt.h values on Linux, and pcapng's LINKTYPE_RAW where it
 * differs), named here so that no file but src/capture_pcap.c needs libpcap's
 * headers; that file checks them against libpcap's at compile time. */
enum sm_linktype {
	SM_DLT_NULL = 0,
	SM_DLT_EN10MB = 1,
	SM_DLT_PPP = 9,
	SM_DLT_RAW = 12, /* Linux */
	SM_DLT_RAW_BSD = 14,
	SM_DLT_PPP_SERIAL = 50,
	SM_DLT_PPP_ETHER = 51,
	SM_LINKTYPE_RAW = 101, /* in files; libpcap calls it DLT_RAW */
	SM_DLT_C_HDLC = 104,
	SM_DLT_IEEE802_11 = 105,
	SM_DLT_LOOP = 108,
	SM_DLT_LINUX_SLL = 113,
	SM_DLT_IEEE802_11_RADIO = 127,
	SM_DLT_PPI = 192,
	SM_DLT_IPV4 = 228,
	SM_DLT_IPV6 = 229,
	SM_DLT_NFLOG = 239,
	SM_DLT_LINUX_SLL2 = 276,
};

/* One packet as read; data stays valid until the next sm_capture_next(). */
struct sm_raw_packet {
	int64_t ts_ns; /* UNIX time in nanoseconds */
	uint32_t caplen;
	uint32_t len;    /* length on the wire */
	int linktype;    /* DLT_* value */
	uint32_t source; /* index into the source list */
	const uint8_t *data;
};

struct sm_source_info {
	char *path;
	size_t input; /* the input (of sm_capture_open's list) it was found in */
	bool opened;
	uint64_t packets;
	uint64_t bytes;
	/* records out of time order: put back in place (reordered), or found after a
	 * packet taken later had been handed on (late: read in the order found) */
	uint64_t reordered, late;
	uint64_t dropped; /* packets the file says the capture dropped (pcapng statistics) */
	char error[512];  /* why it could not be opened or read to the end; "" if fine */
};

/* Called for each non-fatal problem (a source that cannot be opened or read). */
typedef void (*sm_capture_warn_fn)(void *ctx, const char *msg);

struct sm_capture;

/*
 * Opens every input.  A directory means every file below it, in name order.
 * Fails with SM_ERR_IO only if no input could be opened at all, and with
 * SM_ERR_USAGE for a BPF filter that does not compile.
 * *out is owned by the caller and freed with sm_capture_close().
 */
enum sm_err sm_capture_open(struct sm_capture **out, const char *const *inputs, size_t ninputs,
                            const char *bpf, sm_capture_warn_fn warn, void *warn_ctx,
                            struct sm_errbuf *eb);

/* The default kernel buffer: 128 MB, about 100 ms of a saturated 10 GbE span port
 * (Zeek's AF_PACKET default), or 860,000 minimum-size frames. */
#define SM_LIVE_BUFFER_MB 128

/* A live interface (libpcap) instead of files. */
struct sm_live_opts {
	const char *iface;    /* "any" = every interface (Linux cooked headers) */
	int snaplen;          /* bytes kept of each packet; 0 = 262144 */
	int buffer_mb;        /* kernel buffer; 0 = SM_LIVE_BUFFER_MB */
	int timeout_ms;       /* longest wait before sm_capture_next() returns idle; 0 = 250 */
	bool immediate;       /* deliver each packet at once (more CPU, less latency) */
	bool no_promisc;      /* leave the interface out of promiscuous mode */
	const char *ring_dir; /* keep the raw packets in rotating pcap files there; NULL = none */
	uint64_t ring_bytes;  /* size of one ring file; 0 = 100 MB */
	unsigned ring_files;  /* files kept; 0 = 10 */
};

/*
 * Opens a live interface (and the ring directory, which is created if missing)
 * with the BPF filter applied in the kernel.  Its packets are taken off the
 * kernel ring by a thread of its own, started by the first sm_capture_next(),
 * that copies them into a queue (an eighth of the kernel buffer, 4-16 MB) and
 * does nothing else; sm_capture_next() and everything after it stay in the
 * calling thread.  SM_ERR_IO when the interface
 * cannot be opened (no such device, not permitted), SM_ERR_USAGE for a filter
 * that does not compile.  Call before dropping privileges.
 */
enum sm_err sm_capture_open_live(struct sm_capture **out, const struct sm_live_opts *lo,
                                 const char *bpf, sm_capture_warn_fn warn, void *warn_ctx,
                                 struct sm_errbuf *eb);

enum sm_capture_status { SM_CAPTURE_END = 0, SM_CAPTURE_PACKET = 1, SM_CAPTURE_IDLE = 2 };

/* Next packet of the merged timeline: SM_CAPTURE_PACKET, SM_CAPTURE_END when all
 * sources are done (or a live capture failed: see the source's error), or
 * SM_CAPTURE_IDLE when a live capture had nothing within its timeout. */
enum sm_capture_status sm_capture_next(struct sm_capture *c, struct sm_raw_packet *pkt);
/* The packet sm_capture_next returned last was not taken (the run stopped before it,
 * -c): its source does not count it.  Only right after sm_capture_next, offline. */
void sm_capture_unread(struct sm_capture *c);

/* A look at what likely comes next, to fetch its session into the CPU cache
 * early: the ahead-th following packet (1: the next) of the file that gave the
 * last one, when its bytes are already read (classic pcap files only; no time
 * stamp; valid until the next sm_capture_next()).  False when there is no such
 * look to have.  Never changes what sm_capture_next() returns. */
bool sm_capture_peek(const struct sm_capture *c, unsigned ahead, struct sm_raw_packet *pkt);

/*
 * Shifts every packet of source i by offset_ns (a sensor's clock offset: see
 * sensor.h), in the merge order and in the ts_ns handed out.  Only before the
 * first sm_capture_next() (a later call, a live capture or no such source:
 * SM_ERR_USAGE); the last call for a source counts.
 */
enum sm_err sm_capture_set_offset(struct sm_capture *c, size_t i, int64_t offset_ns);

/* Ends a live capture now: the capture thread reads every packet that arrived
 * before this call (up to the first later one, or until the ring is empty; a
 * busy link cannot hold it), reads the final counters and ends;
 * sm_capture_next() then returns the queued packets, then SM_CAPTURE_END.
 * Packets that arrived after the call belong to no run.  Nothing for files. */
void sm_capture_stop(struct sm_capture *c);

/* Live capture counters, 64-bit: received = what reached the capture (passed the
 * filter), dropped = what the kernel (ring full) or the interface dropped.  Once
 * stopped and read to SM_CAPTURE_END, received is what arrived before the stop
 * and dropped also counts what of it was never read (the capture failed), so
 * packets read + dropped = received + interface drops.  False for files. */
bool sm_capture_stats(struct sm_capture *c, uint64_t *received, uint64_t *dropped);

/* Flushes the ring file so it holds every packet read so far. */
void sm_capture_sync(struct sm_capture *c);

/* Ring files written so far that still exist, oldest first. */
size_t sm_capture_ring_count(const struct sm_capture *c);
const struct sm_source_info *sm_capture_ring_file(const struct sm_capture *c, size_t i);

/* How far reading the files is, for a progress line. */
struct sm_capture_progress {
	size_t file, nfiles; /* the source of the last packet: number file+1 of nfiles */
	const char *path;    /* its name as given; NULL before the first packet */
	uint64_t done;       /* bytes of the opened files read so far (as stored: compressed
	                      * bytes for a compressed file) */
	uint64_t total;      /* their sizes summed; 0 when one is unknown (stdin, a pipe) */
};
void sm_capture_progress(const struct sm_capture *c, struct sm_capture_progress *p);

size_t sm_capture_source_count(const struct sm_capture *c);
const struct sm_source_info *sm_capture_source(const struct sm_capture *c, size_t i);

/* Closes every source and frees c. */
void sm_capture_close(struct sm_capture *c);

/* A flow whose packets the -f filter is asked about (initiator src, responder dst). */
struct sm_flow_probe {
	uint8_t proto; /* 6, 17, or 1 for ICMP echo (ICMPv6 echo for IPv6 addresses) */
	struct sm_addr src, dst;
	uint16_t dport;
};
/* What sm_capture_filter_keeps() asks of a flow. */
enum sm_filter_probe {
	SM_FILTER_FLOW,      /* all its packets, wherever it may travel */
	SM_FILTER_HANDSHAKE, /* its first packet and the answer, where they were read */
	SM_FILTER_REFUSAL,   /* an ICMP error refusing it, where its first packet passes */
	SM_FILTER_RESET,     /* TCP: the responder's reset refusing it, the same way */
};
/* Whether the -f filter keeps the packets of f, built on every frame shape the capture
 * held (link type, MAC addresses, VLAN tags, cooked header; offline the frames the
 * filter dropped too, live those it kept), each packet built the ways real ones vary
 * (TTL 1/64/255, DF or not, DSCP, IPv4 identification, 1 to 1400 bytes of payload: a filter that
 * keeps some of them keeps the flow only in part).  SM_FILTER_FLOW: SYN, SYN-ACK and data both ways
 * (else request and answer) in every shape, as the flow may travel in any. SM_FILTER_HANDSHAKE
 * (attempts of f were read through the filter): the first packet and its answer, in every shape
 * where either passes, and there must be one. SM_FILTER_REFUSAL: an ICMP destination unreachable
 * from the responder's side, quoting the first packet, in every shape where that passes;
 * SM_FILTER_RESET: the responder's RST+ACK of a TCP flow the same way (true for other protocols).
 * True without a filter; false where the filter cannot be tested (or, for the flow, where the
 * capture held more shapes than it keeps). */
bool sm_capture_filter_keeps(struct sm_capture *c, const struct sm_flow_probe *f,
                             enum sm_filter_probe what);

/* A pcap file being written (nanosecond timestamps, one link type). */
struct sm_capture_writer;

/* Creates path (replacing it); *out is freed by sm_capture_writer_close. */
enum sm_err sm_capture_writer_open(struct sm_capture_writer **out, const char *path, int linktype,
                                   struct sm_errbuf *eb);
enum sm_err sm_capture_write(struct sm_capture_writer *w, const struct sm_raw_packet *pkt,
                             struct sm_errbuf *eb);
/* Flushes the file to disk (fsync) and frees w; SM_ERR_IO if anything written was lost. */
enum sm_err sm_capture_writer_close(struct sm_capture_writer *w, struct sm_errbuf *eb);

#endif
