/* What fuzz_pcap.c and fuzz_pcapng.c share: the input becomes a capture file (an
 * in-memory file, read through its /proc/self/fd path as a user's file would be),
 * read to its end through the capture API, once as it is and once under a -f
 * filter (frame shapes, the per-interface filter programs, the flow probes). */
#ifndef FUZZ_CAPTURE_H
#define FUZZ_CAPTURE_H

#define _GNU_SOURCE /* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "smaudit/capture.h"

static void
fuzz_capture_read(const char *path, const char *bpf)
{
	struct sm_capture *c;
	struct sm_errbuf eb = {""};
	if (sm_capture_open(&c, &path, 1, bpf, NULL, NULL, &eb) != SM_OK)
		return;
	struct sm_raw_packet pkt;
	struct sm_capture_progress prog;
	uint64_t sum = 0;
	for (int n = 0; n < 100000 && sm_capture_next(c, &pkt) == SM_CAPTURE_PACKET; n++) {
		for (uint32_t i = 0; i < pkt.caplen; i++) /* every byte handed out is readable */
			sum += pkt.data[i];
		sm_capture_progress(c, &prog);
	}
	if (bpf != NULL) {
		struct sm_flow_probe f;
		memset(&f, 0, sizeof(f));
		f.proto = 6;
		f.src.family = f.dst.family = 4;
		f.dport = 11104;
		(void)sm_capture_filter_keeps(c, &f, false);
		f.proto = 1;
		(void)sm_capture_filter_keeps(c, &f, true);
	}
	(void)sum;
	sm_capture_close(c);
}

static int
fuzz_capture(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-capture", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		fuzz_capture_read(path, NULL);
		fuzz_capture_read(path, "tcp or icmp");
	}
	close(fd);
	return 0;
}

#endif
