/*
 * inflate: the only user of zlib, libzstd and liblz4.
 * Turns a file descriptor into a stdio stream of the capture it carries: a
 * gzip, zstd or lz4-frame stream (recognised by its first bytes, never by its
 * name) is decompressed on the fly, anything else is passed through.  The
 * first bytes of the result can be peeked without consuming them, so a pipe
 * or standard input is read once.  Corrupt or truncated data ends the stream
 * with a read error whose reason sm_instream_error() gives.
 */
#ifndef SMAUDIT_INFLATE_H
#define SMAUDIT_INFLATE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum sm_compression { SM_COMP_NONE, SM_COMP_GZIP, SM_COMP_ZSTD, SM_COMP_LZ4 };

/* The compression whose magic number starts p (n bytes available). */
enum sm_compression sm_compression_detect(const uint8_t *p, size_t n);
/* "gzip", "zstd", "lz4" or "none". */
const char *sm_compression_name(enum sm_compression c);

struct sm_instream;

/*
 * Opens a stream over fd, which it owns from now on (closed by fclose(),
 * except standard input).  *h is valid until that fclose().  NULL when out of
 * memory or the decompressor cannot start (fd is then closed).
 */
FILE *sm_instream_open(int fd, struct sm_instream **h);
enum sm_compression sm_instream_kind(const struct sm_instream *h);
/* Copies up to n of the first decompressed bytes to buf without consuming
 * them; fewer at the end of the data or on an error (see sm_instream_error).
 * Call before the first read from the stream. */
size_t sm_instream_peek(struct sm_instream *h, uint8_t *buf, size_t n);
/* Why the stream stopped early ("gzip data truncated ..."), "" if it did not. */
const char *sm_instream_error(const struct sm_instream *h);
/* From now on a read that a signal interrupts ends every stream (as the end of its
 * data) once *flag is set (Ctrl-C while a pipe is quiet); NULL (the default):
 * the read is made again. */
void sm_instream_stop_on(volatile sig_atomic_t *flag);
/* Bytes read from fd so far (the compressed size, for progress). */
uint64_t sm_instream_consumed(const struct sm_instream *h);

#endif
