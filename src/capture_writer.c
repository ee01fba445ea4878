/*
 * capture_writer: pcap files written as evidence (extract): one link type,
 * nanosecond timestamps, fsync'ed on close so that a file reported written is on
 * disk.  The format itself is libpcap's (src/capture_pcap.c).
 */
#include "capture_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sm_capture_writer {
	struct lpcap *dead;
	struct lpcap_dump *dump;
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
	w->dead = lpcap_open_dead(linktype, 262144, true);
	w->f = fopen(path, "wb");
	if (w->dead == NULL || w->f == NULL) {
		enum sm_err e = sm_error(eb, SM_ERR_IO, "%s: cannot create: %s", path,
		                         w->f == NULL ? strerror(errno) : "out of memory");
		if (w->f != NULL)
			fclose(w->f);
		lpcap_close(w->dead);
		free(w);
		return e;
	}
	w->dump = lpcap_dump_open(w->dead, w->f);
	if (w->dump == NULL) {
		enum sm_err e =
		    sm_error(eb, SM_ERR_IO, "%s: cannot write: %s", path, lpcap_geterr(w->dead));
		fclose(w->f);
		lpcap_close(w->dead);
		free(w);
		return e;
	}
	*out = w;
	return SM_OK;
}

enum sm_err
sm_capture_write(struct sm_capture_writer *w, const struct sm_raw_packet *pkt, struct sm_errbuf *eb)
{
	struct lpcap_hdr h = {pkt->ts_ns, pkt->caplen, pkt->len};
	lpcap_dump_write(w->dump, &h, pkt->data);
	if (ferror(w->f))
		return sm_error(eb, SM_ERR_IO, "%s: write error: %s", w->path, strerror(errno));
	return SM_OK;
}

enum sm_err
sm_capture_writer_close(struct sm_capture_writer *w, struct sm_errbuf *eb)
{
	enum sm_err e = SM_OK;
	if (!lpcap_dump_flush(w->dump) || ferror(w->f) || fsync(fileno(w->f)) != 0)
		e = sm_error(eb, SM_ERR_IO, "%s: write error: %s", w->path, strerror(errno));
	lpcap_dump_close(w->dump); /* closes w->f */
	lpcap_close(w->dead);
	free(w);
	return e;
}
