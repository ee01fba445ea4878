/*
 * capture_pcap: the only file that includes pcap.h.  Thin wrappers that turn
 * libpcap's handles, headers, filters and dumpers into the types of
 * src/capture_pcap.h; no policy of its own (what to open, when to hand over, how
 * to rotate a ring is decided by the files that call these).
 */
#include "capture_pcap.h"

#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(LPCAP_ERRBUF_SIZE >= PCAP_ERRBUF_SIZE, "libpcap's error buffer grew");
/* The link types capture.h names must be libpcap's. */
_Static_assert(SM_DLT_NULL == DLT_NULL && SM_DLT_EN10MB == DLT_EN10MB && SM_DLT_RAW == DLT_RAW &&
                   SM_DLT_LOOP == DLT_LOOP && SM_DLT_LINUX_SLL == DLT_LINUX_SLL &&
                   SM_DLT_IPV4 == DLT_IPV4 && SM_DLT_IPV6 == DLT_IPV6 &&
                   SM_DLT_LINUX_SLL2 == DLT_LINUX_SLL2,
               "link type values differ from pcap/dlt.h");

struct lpcap {
	pcap_t *p;
	lpcap_packet_fn fn; /* lpcap_dispatch's callback and its context */
	void *ctx;
};

struct lpcap_bpf {
	struct bpf_program prog;
};

struct lpcap_dump {
	pcap_dumper_t *d;
};

static struct lpcap *
wrap(pcap_t *p)
{
	if (p == NULL)
		return NULL;
	struct lpcap *h = calloc(1, sizeof(*h));
	if (h == NULL) {
		pcap_close(p);
		return NULL;
	}
	h->p = p;
	return h;
}

/* A file libpcap opened (or err says why it did not, "out of memory" if it did not
 * say). */
static struct lpcap *
wrap_offline(pcap_t *p, char err[LPCAP_ERRBUF_SIZE])
{
	struct lpcap *h = wrap(p);
	if (h == NULL && *err == '\0')
		snprintf(err, LPCAP_ERRBUF_SIZE, "out of memory");
	return h;
}

struct lpcap *
lpcap_open_file(const char *path, char err[LPCAP_ERRBUF_SIZE])
{
	return wrap_offline(
	    pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err), err);
}

struct lpcap *
lpcap_open_stream(FILE *f, char err[LPCAP_ERRBUF_SIZE])
{
	return wrap_offline(
	    pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err), err);
}

struct lpcap *
lpcap_open_dead(int linktype, int snaplen, bool nano)
{
	return wrap(nano ? pcap_open_dead_with_tstamp_precision(linktype, snaplen,
	                                                        PCAP_TSTAMP_PRECISION_NANO)
	                 : pcap_open_dead(linktype, snaplen));
}

/* Opened with nanosecond precision: tv_usec holds nanoseconds. */
static void
hdr_from(struct lpcap_hdr *out, const struct pcap_pkthdr *h)
{
	out->ts_ns = (int64_t)h->ts.tv_sec * 1000000000 + (int64_t)h->ts.tv_usec;
	out->caplen = h->caplen;
	out->len = h->len;
}

enum lpcap_next
lpcap_next(struct lpcap *h, struct lpcap_hdr *hdr, const uint8_t **data)
{
	struct pcap_pkthdr *ph;
	int rc = pcap_next_ex(h->p, &ph, data);
	if (rc == 1) {
		hdr_from(hdr, ph);
		return LPCAP_PACKET;
	}
	return rc == PCAP_ERROR ? LPCAP_ERROR : LPCAP_END;
}

int
lpcap_linktype(struct lpcap *h)
{
	return pcap_datalink(h->p);
}

int
lpcap_snaplen(struct lpcap *h)
{
	return pcap_snapshot(h->p);
}

FILE *
lpcap_file(struct lpcap *h)
{
	return pcap_file(h->p);
}

const char *
lpcap_geterr(struct lpcap *h)
{
	return pcap_geterr(h->p);
}

void
lpcap_close(struct lpcap *h)
{
	if (h == NULL)
		return;
	pcap_close(h->p);
	free(h);
}

struct lpcap_bpf *
lpcap_compile(struct lpcap *h, int linktype, const char *bpf, char err[LPCAP_ERRBUF_SIZE])
{
	struct lpcap_bpf *prog = malloc(sizeof(*prog));
	pcap_t *p = h != NULL ? h->p : NULL;
	/* pcapng's LINKTYPE_RAW is DLT_RAW to libpcap's compiler */
	if (p == NULL)
		p = pcap_open_dead(linktype == SM_LINKTYPE_RAW ? DLT_RAW : linktype, 262144);
	if (prog == NULL || p == NULL ||
	    pcap_compile(p, &prog->prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		if (err != NULL)
			snprintf(err, LPCAP_ERRBUF_SIZE, "%s",
			         prog != NULL && p != NULL ? pcap_geterr(p) : "out of memory");
		free(prog);
		prog = NULL;
	}
	if (p != NULL && (h == NULL || p != h->p))
		pcap_close(p);
	return prog;
}

bool
lpcap_bpf_match(const struct lpcap_bpf *prog, const uint8_t *data, uint32_t caplen, uint32_t len)
{
	struct pcap_pkthdr h;
	memset(&h, 0, sizeof(h));
	h.caplen = caplen;
	h.len = len;
	return pcap_offline_filter(&prog->prog, &h, data) != 0;
}

void
lpcap_bpf_free(struct lpcap_bpf *prog)
{
	if (prog == NULL)
		return;
	pcap_freecode(&prog->prog);
	free(prog);
}

enum sm_err
lpcap_open_live(struct lpcap **out, const struct sm_live_opts *lo, char warn[LPCAP_ERRBUF_SIZE],
                struct sm_errbuf *eb)
{
	char perr[PCAP_ERRBUF_SIZE] = "";
	*out = NULL;
	*warn = '\0';
	pcap_t *p = pcap_create(lo->iface, perr);
	if (p == NULL)
		return sm_error(eb, SM_ERR_IO, "%s: %s", lo->iface, perr);
	pcap_set_snaplen(p, lo->snaplen ? lo->snaplen : 262144);
	pcap_set_promisc(p, !lo->no_promisc);
	pcap_set_timeout(p, lo->timeout_ms ? lo->timeout_ms : 250);
	pcap_set_buffer_size(p, (lo->buffer_mb ? lo->buffer_mb : SM_LIVE_BUFFER_MB) << 20);
	pcap_set_immediate_mode(p, lo->immediate);
	pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
	int rc = pcap_activate(p);
	if (rc < 0) {
		const char *hint =
		    rc == PCAP_ERROR_PERM_DENIED
		        ? " (run as root or give the binary cap_net_raw,cap_net_admin)"
		    : rc == PCAP_ERROR_NO_SUCH_DEVICE ? " (see 'ip link' for names)"
		                                      : "";
		const char *msg = pcap_geterr(p);
		enum sm_err e = sm_error(eb, SM_ERR_IO, "%s: cannot capture: %s%s", lo->iface,
		                         *msg ? msg : pcap_statustostr(rc), hint);
		pcap_close(p);
		return e;
	}
	if (rc > 0)
		snprintf(warn, LPCAP_ERRBUF_SIZE, "%s", pcap_geterr(p));
	if ((*out = wrap(p)) == NULL)
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	return SM_OK;
}

enum sm_err
lpcap_set_filter(struct lpcap *h, const char *iface, const char *bpf, struct sm_errbuf *eb)
{
	char perr[PCAP_ERRBUF_SIZE];
	bpf_u_int32 net = 0, mask = PCAP_NETMASK_UNKNOWN;
	if (pcap_lookupnet(iface, &net, &mask, perr) != 0)
		mask = PCAP_NETMASK_UNKNOWN;
	struct bpf_program prog;
	if (pcap_compile(h->p, &prog, bpf, 1, mask) != 0)
		return sm_error(eb, SM_ERR_USAGE, "filter '%s': %s", bpf, pcap_geterr(h->p));
	int rc = pcap_setfilter(h->p, &prog);
	pcap_freecode(&prog);
	if (rc != 0)
		return sm_error(eb, SM_ERR_IO, "%s: cannot set the filter: %s", iface,
		                pcap_geterr(h->p));
	return SM_OK;
}

int
lpcap_pollable_fd(struct lpcap *h)
{
	char perr[PCAP_ERRBUF_SIZE];
	int fd = pcap_get_selectable_fd(h->p);
	if (fd >= 0 && pcap_setnonblock(h->p, 1, perr) != 0)
		fd = -1;
	return fd;
}

static void
dispatch_one(u_char *user, const struct pcap_pkthdr *ph, const u_char *data)
{
	struct lpcap *h = (struct lpcap *)user;
	struct lpcap_hdr hdr;
	hdr_from(&hdr, ph);
	h->fn(h->ctx, &hdr, data);
}

enum lpcap_dispatch
lpcap_dispatch(struct lpcap *h, lpcap_packet_fn fn, void *ctx, int *n)
{
	h->fn = fn;
	h->ctx = ctx;
	*n = pcap_dispatch(h->p, -1, dispatch_one, (u_char *)h);
	if (*n == PCAP_ERROR_BREAK)
		return LPCAP_DISPATCH_BREAK;
	return *n < 0 ? LPCAP_DISPATCH_ERROR : LPCAP_DISPATCH_OK;
}

void
lpcap_breakloop(struct lpcap *h)
{
	pcap_breakloop(h->p);
}

bool
lpcap_stats(struct lpcap *h, struct lpcap_stats *st)
{
	struct pcap_stat ps;
	if (pcap_stats(h->p, &ps) != 0)
		return false;
	st->recv = ps.ps_recv;
	st->drop = ps.ps_drop;
	st->ifdrop = ps.ps_ifdrop;
	return true;
}

struct lpcap_dump *
lpcap_dump_open(struct lpcap *h, FILE *f)
{
	struct lpcap_dump *d = malloc(sizeof(*d));
	if (d == NULL)
		return NULL;
	d->d = pcap_dump_fopen(h->p, f);
	if (d->d == NULL) {
		free(d);
		return NULL;
	}
	return d;
}

void
lpcap_dump_write(struct lpcap_dump *d, const struct lpcap_hdr *hdr, const uint8_t *data)
{
	struct pcap_pkthdr h;
	h.ts.tv_sec = (time_t)(hdr->ts_ns / 1000000000);
	/* with nanosecond precision libpcap takes tv_usec as nanoseconds */
	h.ts.tv_usec = (suseconds_t)(hdr->ts_ns % 1000000000);
	h.caplen = hdr->caplen;
	h.len = hdr->len;
	pcap_dump((u_char *)d->d, &h, data);
}

bool
lpcap_dump_flush(struct lpcap_dump *d)
{
	return pcap_dump_flush(d->d) == 0;
}

void
lpcap_dump_close(struct lpcap_dump *d)
{
	if (d == NULL)
		return;
	pcap_dump_close(d->d);
	free(d);
}
