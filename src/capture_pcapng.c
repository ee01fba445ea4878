/*
 * capture_pcapng: our own pcapng reader.  libpcap (1.10, Debian 12) rejects files
 * whose interfaces differ in link type or snap length, which multi-interface
 * captures do (tshark's "any" plus a VLAN trunk, dumpcap -i a -i b); this reader
 * takes them, keeps each interface's clock (if_tsresol, if_tsoffset), and applies
 * -f per interface, compiled for that interface's link type.  Every length in the
 * file is checked against the block that holds it.
 */
#include "capture_int.h"

#include <stdlib.h>
#include <string.h>

#define NG_MAX_BLOCK (16u << 20)

enum {
	NG_SECTION_HEADER = 0x0a0d0d0a,
	NG_INTERFACE = 1,
	NG_OBSOLETE_PACKET = 2,
	NG_SIMPLE_PACKET = 3,
	NG_INTERFACE_STATS = 5,
	NG_ENHANCED_PACKET = 6,
	NG_OPT_END = 0,
	NG_OPT_EPB_DROPCOUNT = 4, /* packets lost between this one and the one before */
	NG_OPT_ISB_IFDROP = 5,    /* dropped by the interface, since the capture began */
	NG_OPT_ISB_OSDROP = 7,    /* dropped by the operating system, the same */
	NG_OPT_TSRESOL = 9,
	NG_OPT_TSOFFSET = 14,
};

/* An interface of a pcapng section: its own link type and clock. */
struct ng_if {
	int linktype;
	uint64_t units; /* timestamp units per second */
	int64_t offset_s;
	struct lpcap_bpf *prog; /* -f for its link type (NULL: it does not fit, nothing
	                         * passes) */
	bool compiled;          /* prog was tried */
	uint64_t stat_drops;    /* the drops its statistics blocks declare, the latest */
};

struct ng {
	FILE *f;
	bool swap;
	struct ng_if *ifs; /* grows with the section's interface blocks */
	size_t nifs, ifcap;
	uint8_t *buf;
	size_t cap;
	int64_t last_ts_ns;
	/* drops the file declares: packet blocks' drop counts, and the statistics of the
	 * interfaces of sections already read */
	uint64_t counted_drops, past_sections_drops;
};

/* A new section forgets the interfaces of the one before. */
static void
ng_forget_interfaces(struct ng *ng)
{
	for (size_t i = 0; i < ng->nifs; i++) {
		lpcap_bpf_free(ng->ifs[i].prog);
		ng->past_sections_drops += ng->ifs[i].stat_drops;
	}
	ng->nifs = 0;
}

uint64_t
pcapng_dropped(const struct ng *ng)
{
	uint64_t n = ng->counted_drops + ng->past_sections_drops;
	for (size_t i = 0; i < ng->nifs; i++)
		n += ng->ifs[i].stat_drops;
	return n;
}

void
pcapng_free(struct ng *ng)
{
	if (ng == NULL)
		return;
	ng_forget_interfaces(ng);
	free(ng->ifs);
	if (ng->f != NULL)
		fclose(ng->f);
	free(ng->buf);
	free(ng);
}

FILE *
pcapng_file(const struct ng *ng)
{
	return ng->f;
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

/* Reads one whole block into ng->buf. */
static enum cap_read
ng_block(struct ng *ng, uint32_t *type, uint32_t *len, const char **why)
{
	uint8_t head[12];
	size_t n = fread(head, 1, 8, ng->f);
	if (n == 0)
		return CAP_READ_END;
	if (n < 8) {
		*why = "truncated block header";
		return CAP_READ_ERROR;
	}
	uint32_t t = ng_u32(ng, head);
	if (t == NG_SECTION_HEADER) { /* a new section may change the byte order */
		if (fread(head + 8, 1, 4, ng->f) != 4) {
			*why = "truncated section header";
			return CAP_READ_ERROR;
		}
		uint32_t magic;
		memcpy(&magic, head + 8, 4);
		if (magic == 0x1a2b3c4d)
			ng->swap = false;
		else if (magic == 0x4d3c2b1a)
			ng->swap = true;
		else {
			*why = "bad byte-order magic in a section header";
			return CAP_READ_ERROR;
		}
	}
	uint32_t l = ng_u32(ng, head + 4);
	if (l < 12 || l % 4 != 0 || l > NG_MAX_BLOCK) {
		*why = "block length out of range";
		return CAP_READ_ERROR;
	}
	if (l > ng->cap) {
		uint8_t *nb = realloc(ng->buf, l);
		if (nb == NULL) {
			*why = "out of memory";
			return CAP_READ_ERROR;
		}
		ng->buf = nb;
		ng->cap = l;
	}
	size_t have = t == NG_SECTION_HEADER ? 12 : 8;
	memcpy(ng->buf, head, have);
	if (fread(ng->buf + have, 1, l - have, ng->f) != l - have) {
		*why = "truncated block";
		return CAP_READ_ERROR;
	}
	*type = t;
	*len = l;
	return CAP_READ_PACKET;
}

/* Options from off to the block's trailing length must chain exactly. */
static bool
ng_options_ok(const struct ng *ng, uint32_t off, uint32_t len)
{
	while (off + 4 <= len - 4) {
		uint16_t code = ng_u16(ng, ng->buf + off), olen = ng_u16(ng, ng->buf + off + 2);
		if (code == NG_OPT_END)
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
		if (code == NG_OPT_END || off + 4 + olen > len - 4)
			break;
		const uint8_t *v = b + off + 4;
		if (code == NG_OPT_TSRESOL && olen >= 1) {
			uint64_t u = 1;
			unsigned e = v[0] & 0x7f;
			if (e <= 19 && !(v[0] & 0x80))
				for (unsigned k = 0; k < e; k++)
					u *= 10;
			else if (e <= 63 && (v[0] & 0x80))
				u = (uint64_t)1 << e;
			i->units = u;
		} else if (code == NG_OPT_TSOFFSET && olen >= 8) {
			uint64_t lo = ng_u32(ng, v), hi = ng_u32(ng, v + 4);
			i->offset_s = (int64_t)(host_is_little() != ng->swap ? (hi << 32 | lo)
			                                                     : (lo << 32 | hi));
		}
		off += 4 + (((uint32_t)olen + 3) & ~3u);
	}
	return true;
}

static uint64_t
ng_u64(const struct ng *ng, const uint8_t *v)
{
	uint64_t lo = ng_u32(ng, v), hi = ng_u32(ng, v + 4);
	return host_is_little() != ng->swap ? (hi << 32 | lo) : (lo << 32 | hi);
}

/* The sum of the 64-bit options code and code2 (0: none) of a block whose options
 * start at off. */
static uint64_t
ng_option_u64(const struct ng *ng, const uint8_t *b, uint32_t len, uint64_t off, uint16_t code,
              uint16_t code2)
{
	uint64_t n = 0;
	while (off + 4 <= (uint64_t)len - 4) {
		uint16_t c = ng_u16(ng, b + off), olen = ng_u16(ng, b + off + 2);
		if (c == NG_OPT_END || off + 4 + olen > (uint64_t)len - 4)
			break;
		if ((c == code || (code2 != 0 && c == code2)) && olen >= 8)
			n += ng_u64(ng, b + off + 4);
		off += 4 + (((uint32_t)olen + 3) & ~3u);
	}
	return n;
}

/* An interface statistics block: its drop counters (since the capture began, so
 * the latest block of an interface holds them all). */
static void
ng_isb(struct ng *ng, const uint8_t *b, uint32_t len)
{
	if (len < 24)
		return;
	uint32_t ifid = ng_u32(ng, b + 8);
	if (ifid >= ng->nifs)
		return;
	uint64_t drops = ng_option_u64(ng, b, len, 20, NG_OPT_ISB_IFDROP, NG_OPT_ISB_OSDROP);
	if (drops > ng->ifs[ifid].stat_drops)
		ng->ifs[ifid].stat_drops = drops;
}

static int64_t
ng_time(const struct ng_if *i, uint64_t ts)
{
	uint64_t sec = ts / i->units, frac = ts % i->units;
	int64_t ns = i->units <= 1000000000u
	                 ? (int64_t)(frac * 1000000000u / i->units)
	                 : (int64_t)((long double)frac * 1e9L / (long double)i->units);
	/* A clock no file could hold (seconds past 2262, from a tiny resolution or a
	 * huge offset) wraps as the machine's arithmetic does instead of overflowing:
	 * the packet keeps the time it always got, without undefined behaviour. */
	uint64_t t = sec * 1000000000u + (uint64_t)ns + (uint64_t)i->offset_s * 1000000000u;
	return (int64_t)t;
}

/* Whether the source's filter keeps the packet in s->hdr/s->data, compiled for
 * the interface's link type once; a filter that does not fit it matches nothing. */
static bool
ng_filter_ok(struct source *s, struct ng_if *i)
{
	if (s->bpf == NULL || *s->bpf == '\0')
		return true;
	shape_note(s->cap, i->linktype, s->data, s->hdr.caplen);
	if (!i->compiled) {
		i->prog = lpcap_compile(NULL, i->linktype, s->bpf, NULL);
		i->compiled = true;
	}
	return i->prog != NULL && lpcap_bpf_match(i->prog, s->data, s->hdr.caplen, s->hdr.len);
}

/* Next packet of a pcapng source (the ones -f keeps) into s->hdr, s->linktype and
 * s->data. */
enum cap_read
pcapng_next(struct source *s, const char **why)
{
	struct ng *ng = s->ng;
	for (;;) {
		uint32_t type, len;
		enum cap_read rc = ng_block(ng, &type, &len, why);
		if (rc != CAP_READ_PACKET)
			return rc;
		const uint8_t *b = ng->buf;
		if (type == NG_SECTION_HEADER) {
			ng_forget_interfaces(ng);
			continue;
		}
		if (type == NG_INTERFACE) {
			if (!ng_idb(ng, b, len)) {
				*why = "out of memory";
				return CAP_READ_ERROR;
			}
			continue;
		}
		if (type == NG_INTERFACE_STATS) {
			ng_isb(ng, b, len);
			continue;
		}
		uint32_t ifid, caplen, origlen, hdrlen;
		uint64_t ts;
		if ((type == NG_ENHANCED_PACKET || type == NG_OBSOLETE_PACKET) && len >= 32) {
			/* the obsolete block has a 16-bit interface and 16-bit drop count */
			ifid = type == NG_ENHANCED_PACKET ? ng_u32(ng, b + 8) : ng_u16(ng, b + 8);
			if (type == NG_OBSOLETE_PACKET && ng_u16(ng, b + 10) != 0xffff)
				ng->counted_drops += ng_u16(ng, b + 10); /* 0xffff: unknown */
			else if (type == NG_ENHANCED_PACKET)
				ng->counted_drops +=
				    ng_option_u64(ng, b, len, 28 + ((ng_u32(ng, b + 20) + 3) & ~3u),
				                  NG_OPT_EPB_DROPCOUNT, 0);
			ts = (uint64_t)ng_u32(ng, b + 12) << 32 | ng_u32(ng, b + 16);
			caplen = ng_u32(ng, b + 20);
			origlen = ng_u32(ng, b + 24);
			hdrlen = 28;
		} else if (type == NG_SIMPLE_PACKET && len >= 16) { /* no time, interface 0 */
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
			return CAP_READ_ERROR;
		}
		if (caplen > len - hdrlen - 4) {
			*why = "captured length larger than its block";
			return CAP_READ_ERROR;
		}
		struct ng_if *i = &ng->ifs[ifid];
		s->hdr.ts_ns = type == NG_SIMPLE_PACKET ? ng->last_ts_ns : ng_time(i, ts);
		ng->last_ts_ns = s->hdr.ts_ns;
		s->hdr.caplen = caplen;
		s->hdr.len = origlen < caplen ? caplen : origlen;
		s->linktype = i->linktype;
		s->data = b + hdrlen;
		if (ng_filter_ok(s, i))
			return CAP_READ_PACKET;
	}
}

bool
pcapng_magic(const uint8_t m[4])
{
	return m[0] == 0x0a && m[1] == 0x0d && m[2] == 0x0d && m[3] == 0x0a;
}

/* Opens s with our pcapng reader if the file is pcapng (*err: how that went);
 * false if it is not pcapng. */
bool
pcapng_try_open(struct source *s, enum sm_err *err, struct sm_errbuf *eb)
{
	FILE *f = fopen(s->info.path, "rb");
	uint8_t magic[4];
	if (f == NULL)
		return false;
	if (fread(magic, 1, 4, f) != 4 || !pcapng_magic(magic)) {
		fclose(f);
		return false;
	}
	rewind(f);
	*err = pcapng_attach(s, f, eb);
	return true;
}

/* Reads pcapng from f (positioned at its start; owned from now on).  A file that is
 * refused is no error: s->info.error says why and s is not opened; the caller
 * finishes a source not opened (source_finish), this one as any other. */
enum sm_err
pcapng_attach(struct source *s, FILE *f, struct sm_errbuf *eb)
{
	s->ng = calloc(1, sizeof(*s->ng));
	if (s->ng == NULL) {
		fclose(f);
		return sm_error(eb, SM_ERR_NOMEM, "out of memory");
	}
	s->ng->f = f;
	if (s->bpf != NULL && *s->bpf != '\0') { /* reject a bad filter up front */
		char perr[LPCAP_ERRBUF_SIZE] = "";
		struct lpcap_bpf *prog = lpcap_compile(NULL, SM_DLT_EN10MB, s->bpf, perr);
		if (prog == NULL)
			return sm_error(eb, SM_ERR_USAGE, "invalid filter -f '%s': %s", s->bpf,
			                perr);
		lpcap_bpf_free(prog);
	}
	/* The first block must be a section header libpcap would accept. */
	uint32_t type = 0, len;
	const char *why = "not a section header";
	if (ng_block(s->ng, &type, &len, &why) != CAP_READ_PACKET || type != NG_SECTION_HEADER ||
	    len < 28 || ng_u16(s->ng, s->ng->buf + 12) != 1 || !ng_options_ok(s->ng, 24, len)) {
		if (why == NULL || type == NG_SECTION_HEADER)
			why = "unsupported pcapng version or malformed section header";
		snprintf(s->info.error, sizeof(s->info.error), "cannot open capture: %s", why);
		return SM_OK;
	}
	s->info.opened = true;
	return SM_OK;
}
