/* SPDX-License-Identifier: ISC */
/*
 * pcapread: the benchmark's baseline.  Reads a capture with libpcap's
 * offline reader and touches each packet as little as possible (it sums
 * the first captured octet), so that the POI's cost can be put
 * next to the cost of just getting the packets off the file.
 *
 *   pcapread CAPTURE
 *
 * Prints "packets N bytes B sum S" (S only keeps the reads from being
 * optimised away).
 */
#include <stdint.h>
#include <stdio.h>

#include <pcap/pcap.h>

int
main(int argc, char **argv)
{
	char eb[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	uint64_t n = 0, bytes = 0, sum = 0;
	pcap_t *p;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: pcapread CAPTURE\n");
		return 2;
	}
	if ((p = pcap_open_offline(argv[1], eb)) == NULL) {
		fprintf(stderr, "pcapread: %s\n", eb);
		return 1;
	}
	while ((r = pcap_next_ex(p, &h, &d)) == 1) {
		n++;
		bytes += h->caplen;
		if (h->caplen > 0)
			sum += d[0];
	}
	if (r != PCAP_ERROR_BREAK) {
		fprintf(stderr, "pcapread: %s\n", pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	printf("packets %llu bytes %llu sum %llu\n", (unsigned long long)n,
	    (unsigned long long)bytes, (unsigned long long)sum);
	return 0;
}
