/*
 * blast: replays a classic pcap file's frames out of a network interface as fast
 * as the kernel takes them, for rates tcpreplay does not reach (it sends one frame a
 * system call).  The file is read into memory first; frames go out in batches of
 * BATCH with sendmmsg() on an AF_PACKET socket, past the queueing discipline.
 * Timestamps are ignored.  Prints what it sent and the rate, in tcpreplay's words
 * ("N packets ... P pps") so that tests/scripts/netns.sh reads either.
 *
 *   blast IFACE CAPTURE          (as root, or with CAP_NET_RAW; bench/live-drops.sh)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 256

static double
now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: blast IFACE CAPTURE\n");
		return 2;
	}
	FILE *f = fopen(argv[2], "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0) {
		perror(argv[2]);
		return 1;
	}
	long size = ftell(f);
	uint8_t *buf = malloc(size > 0 ? (size_t)size : 1);
	rewind(f);
	if (size < 24 || buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "blast: %s: cannot read it\n", argv[2]);
		return 1;
	}
	fclose(f);
	uint32_t magic;
	memcpy(&magic, buf, 4);
	int swap = magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1;
	if (!swap && magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) {
		fprintf(stderr, "blast: %s: not a classic pcap file\n", argv[2]);
		return 1;
	}
	/* the frames, in file order */
	size_t n = 0, cap = 1024;
	struct iovec *iov = malloc(cap * sizeof(*iov));
	for (size_t off = 24; off + 16 <= (size_t)size && iov != NULL;) {
		uint32_t caplen;
		memcpy(&caplen, buf + off + 8, 4);
		if (swap)
			caplen = __builtin_bswap32(caplen);
		if (caplen > (size_t)size - off - 16)
			break;
		if (n == cap && (iov = realloc(iov, (cap *= 2) * sizeof(*iov))) == NULL)
			break;
		iov[n].iov_base = buf + off + 16;
		iov[n].iov_len = caplen;
		n++;
		off += 16 + caplen;
	}
	if (iov == NULL) {
		fprintf(stderr, "blast: out of memory\n");
		return 1;
	}
	int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
	                          .sll_protocol = htons(ETH_P_ALL),
	                          .sll_ifindex = (int)if_nametoindex(argv[1])};
	int one = 1;
	if (fd < 0 || sll.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		fprintf(stderr, "blast: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	static struct mmsghdr msg[BATCH];
	double start = now();
	size_t sent = 0, waits = 0;
	while (sent < n) {
		unsigned k = n - sent < BATCH ? (unsigned)(n - sent) : BATCH;
		for (unsigned i = 0; i < k; i++) {
			memset(&msg[i], 0, sizeof(msg[i]));
			msg[i].msg_hdr.msg_iov = &iov[sent + i];
			msg[i].msg_hdr.msg_iovlen = 1;
		}
		int r = sendmmsg(fd, msg, k, 0);
		if (r > 0) {
			sent += (size_t)r;
		} else if (r < 0 && (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			poll(&p, 1, 1); /* the device is full: let it drain */
			waits++;
		} else {
			fprintf(stderr, "blast: sending on %s: %s\n", argv[1], strerror(errno));
			return 1;
		}
	}
	double secs = now() - start;
	printf("Actual: %zu packets sent in %.3f seconds (%zu waits for the device)\n", sent, secs,
	       waits);
	printf("Rated: %.2f pps\n", secs > 0 ? (double)sent / secs : 0.0);
	return 0;
}
