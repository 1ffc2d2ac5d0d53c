/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the capture-file reader: the input is a whole
 * pcap or pcapng file.  Every packet returned must lie inside the input,
 * and an error must stick.
 */
#include <stdint.h>
#include <stdlib.h>

#include "capfile.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_cap_pkt pkt;
	struct cl_cap *c;
	int r;

	if (cl_cap_open_mem(data, size, &c) != 0) {
		if (c != NULL)
			abort();
		return 0;
	}
	while ((r = cl_cap_next(c, &pkt)) == 1) {
		if (pkt.caplen > CL_CAP_MAX_SNAPLEN ||
		    (pkt.caplen > 0 &&
			(pkt.data < data ||
			    pkt.caplen > (size_t)(data + size - pkt.data))) ||
		    pkt.ts_nsec >= 1000000000u)
			abort();
	}
	if (r > 0 || cl_cap_next(c, &pkt) != r || cl_cap_error_offset(c) > size)
		abort();
	cl_cap_free(c);
	return 0;
}
