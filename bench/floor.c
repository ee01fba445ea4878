/*
 * The read floors smaudit is measured against:
 *   floor FILE...        libpcap: pcap_next_ex() in a loop, counting packets and bytes
 *   floor --raw FILE...  no libpcap: read() in 4 MB blocks, walking the classic pcap
 *                        record headers (the least any reader of the file can do)
 */
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUF (4u << 20)

static int
raw(const char *path, unsigned long long *pkts, unsigned long long *bytes)
{
	int fd = open(path, O_RDONLY);
	uint8_t *b = malloc(BUF);
	if (fd < 0 || b == NULL) {
		perror(path);
		return 3;
	}
	ssize_t n = read(fd, b, 24); /* the file header */
	if (n != 24) {
		fprintf(stderr, "floor: %s: not a pcap file\n", path);
		return 3;
	}
	size_t len = 0, off = 0;
	for (;;) {
		if (len - off < 16 ||
		    len - off < 16 + (size_t)(b[off + 8] | b[off + 9] << 8 | b[off + 10] << 16 |
		                              (uint32_t)b[off + 11] << 24)) {
			memmove(b, b + off, len - off);
			len -= off;
			off = 0;
			n = read(fd, b + len, BUF - len);
			if (n <= 0)
				break;
			len += (size_t)n;
			continue;
		}
		uint32_t caplen, wire;
		memcpy(&caplen, b + off + 8, 4);
		memcpy(&wire, b + off + 12, 4);
		(*pkts)++;
		*bytes += wire;
		off += 16 + caplen;
	}
	close(fd);
	free(b);
	return 0;
}

int
main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	unsigned long long pkts = 0, bytes = 0;
	int first = 1;
	if (argc > 1 && strcmp(argv[1], "--raw") == 0) {
		for (int i = 2; i < argc; i++)
			if (raw(argv[i], &pkts, &bytes) != 0)
				return 3;
		printf("%llu packets %llu bytes\n", pkts, bytes);
		return 0;
	}
	for (int i = first; i < argc; i++) {
		pcap_t *p = pcap_open_offline(argv[i], err);
		if (p == NULL) {
			fprintf(stderr, "floor: %s\n", err);
			return 3;
		}
		struct pcap_pkthdr *h;
		const u_char *d;
		while (pcap_next_ex(p, &h, &d) == 1) {
			pkts++;
			bytes += h->len;
		}
		pcap_close(p);
	}
	printf("%llu packets %llu bytes\n", pkts, bytes);
	return 0;
}
