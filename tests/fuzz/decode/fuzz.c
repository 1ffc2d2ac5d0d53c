/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the packet decoder.  The first input byte picks
 * the link type from a small table, the rest is the frame.  A successful
 * decode must describe bytes inside the frame with consistent lengths;
 * a failed one must leave the result cleared.
 */
#include <stdint.h>
#include <stdlib.h>

#include "capfile.h"
#include "decode.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t linktypes[] = {
    CL_LINKTYPE_ETHERNET,
    CL_LINKTYPE_RAW,
    CL_LINKTYPE_NULL,
    CL_LINKTYPE_LOOP,
    CL_LINKTYPE_LINUX_SLL,
    CL_LINKTYPE_LINUX_SLL2,
    CL_LINKTYPE_IPV4,
    CL_LINKTYPE_IPV6,
    CL_LINKTYPE_PPP,
    CL_LINKTYPE_PPP_HDLC,
    CL_LINKTYPE_PPP_ETHER,
    CL_LINKTYPE_C_HDLC,
    CL_LINKTYPE_ERF,
    CL_LINKTYPE_NFLOG,
};

static void
check(const uint8_t *p, size_t len, const struct cl_pkt *d)
{
	const uint8_t *end = p + len;

	if (d->ip == NULL || d->ip < p || d->ip_len > (size_t)(end - d->ip) ||
	    d->ip_len > d->ip_total ||
	    d->truncated != (d->ip_len < d->ip_total) ||
	    (d->ipver != 4 && d->ipver != 6) ||
	    d->ip_len < (d->ipver == 4 ? 20u : 40u))
		abort();
	if (d->is_frag && d->frag_payload_off > d->ip_len)
		abort();
	if (d->has_ports &&
	    (d->l4data < d->ip || d->l4data > d->ip + d->ip_len ||
		d->l4data_len > (size_t)(d->ip + d->ip_len - d->l4data)))
		abort();
	if (d->gtpu &&
	    (d->outer_ip < p || d->outer_ip_len > (size_t)(end - d->outer_ip) ||
		d->ip <= d->outer_ip ||
		d->ip + d->ip_len > d->outer_ip + d->outer_ip_len))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_pkt d;
	uint32_t lt;
	int r;

	if (size < 1)
		return 0;
	lt = linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))];
	r = cl_decode_frame(lt, data + 1, size - 1, &d);
	if (r == 0)
		check(data + 1, size - 1, &d);
	else if (d.ip != NULL || d.ipver != 0 || r > 0)
		abort();
	/* The same bytes as a bare IP packet. */
	if (cl_decode_ip(data + 1, size - 1, &d) == 0)
		check(data + 1, size - 1, &d);
	return 0;
}
