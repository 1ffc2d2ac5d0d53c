/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for GTP-U decapsulation and fragment reassembly.
 *
 * The input is a UDP payload for port 2152, possibly several GTP-U
 * messages back to back (each one's length field says where the next
 * starts).  Each is wrapped in a minimal IPv4/UDP packet and decoded with
 * cl_decode_ip(); inner packets that are fragments go to one reassembler,
 * and every datagram it completes is decoded again.  Each whole message
 * also goes through cl_gtpu_decap(), as the MDF decapsulates X3 format 12.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "decode.h"
#include "err.h"
#include "gtpu.h"
#include "reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HDR      28 /* IPv4 + UDP */
#define MAX_MSGS 64

static uint8_t pkt[65535];

static size_t
wrap(const uint8_t *p, size_t n)
{
	memset(pkt, 0, HDR);
	pkt[0] = 0x45;
	cl_store_u16(pkt + 2, (uint16_t)(HDR + n));
	pkt[8] = 64;
	pkt[9] = 17;
	cl_store_u32(pkt + 12, 0xc0000201);
	cl_store_u32(pkt + 16, 0xc0000202);
	cl_store_u16(pkt + 20, 40000);
	cl_store_u16(pkt + 22, 2152);
	cl_store_u16(pkt + 24, (uint16_t)(8 + n));
	memcpy(pkt + HDR, p, n);
	return HDR + n;
}

static void
check(const uint8_t *p, size_t len, const struct cl_pkt *d)
{
	if (d->ip < p || d->ip_len > (size_t)(p + len - d->ip) ||
	    d->ip_len > d->ip_total || (d->ipver != 4 && d->ipver != 6))
		abort();
	if (d->has_ports &&
	    d->l4data_len > (size_t)(d->ip + d->ip_len - d->l4data))
		abort();
	if (d->is_frag && d->frag_payload_off > d->ip_len)
		abort();
}

/* The MDF's strict decapsulation of one whole message (X3 format 12):
 * a success is one IP packet ending where the message ends. */
static void
decap(const uint8_t *p, size_t len)
{
	struct cl_span in;
	int v;

	if (cl_gtpu_decap(p, len, &in, &v) != 0)
		return;
	if (in.p < p || in.p + in.len != p + len || in.len < 20 ||
	    (v != 4 && v != 6) || in.p[0] >> 4 != v)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_reasm *ra;
	struct cl_pkt d, rd;
	const uint8_t *dg;
	size_t off = 0, n, dlen, next;
	unsigned i;

	if (size > sizeof(pkt) - HDR)
		return 0;
	if ((ra = cl_reasm_new(4, 1000)) == NULL)
		return 0;
	for (i = 0; i < MAX_MSGS && off < size; i++) {
		n = wrap(data + off, size - off);
		if (cl_decode_ip(pkt, n, &d) != 0)
			abort(); /* the wrapper is always a valid packet */
		check(pkt, n, &d);
		if (d.gtpu && d.is_frag &&
		    cl_reasm_add(ra, &d, i * 100, &dg, &dlen) == 1) {
			if (dlen > 65535 + 40)
				abort();
			if (cl_decode_ip(dg, dlen, &rd) == 0)
				check(dg, dlen, &rd);
		}
		if (size - off < 8)
			break;
		next = 8 + (size_t)cl_load_u16(data + off + 2);
		if (next > size - off)
			break;
		decap(data + off, next);
		off += next;
	}
	cl_reasm_free(ra);
	return 0;
}
