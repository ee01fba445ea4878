/*
 * capture: the only user of libpcap.
 * Opens any number of pcap/pcapng files and directories (or "-" for stdin)
 * and yields their packets as ONE timeline ordered by packet time, even when
 * the files' time ranges interleave.  Damaged or truncated files are read as
 * far as possible; what could not be read is recorded per source, never fatal.
 */
#ifndef SMAUDIT_CAPTURE_H
#define SMAUDIT_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "smaudit/err.h"

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
	bool opened;
	uint64_t packets;
	uint64_t bytes;
	char error[512]; /* why it could not be opened or read to the end; "" if fine */
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

/* Next packet of the merged timeline: 1 = got one, 0 = all sources done. */
int sm_capture_next(struct sm_capture *c, struct sm_raw_packet *pkt);

size_t sm_capture_source_count(const struct sm_capture *c);
const struct sm_source_info *sm_capture_source(const struct sm_capture *c, size_t i);

/* Closes every source and frees c. */
void sm_capture_close(struct sm_capture *c);

#endif
