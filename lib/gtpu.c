/* SPDX-License-Identifier: ISC */
/* GTP-U T-PDU headers: see gtpu.h. */
#include <string.h>

#include "buf.h"
#include "err.h"
#include "gtpu.h"

int
cl_gtpu_tpdu(const uint8_t *p, size_t caplen, size_t msglen, uint32_t *teid,
    struct cl_span *inner)
{
	struct cl_rd rd;
	uint8_t flags, type, next, elen;
	uint16_t glen;
	uint32_t t;
	unsigned n;
	int r;

	*teid = 0;
	memset(inner, 0, sizeof(*inner));
	if (caplen > msglen)
		caplen = msglen;
	cl_rd_init(&rd, p, caplen);
	if ((r = cl_rd_u8(&rd, &flags)) != 0 ||
	    (r = cl_rd_u8(&rd, &type)) != 0 ||
	    (r = cl_rd_u16(&rd, &glen)) != 0 || (r = cl_rd_u32(&rd, &t)) != 0)
		return r;
	/* Version 1, protocol type GTP (not GTP'). */
	if ((flags & 0xf0) != 0x30 || type != CL_GTPU_TPDU)
		return CL_ERR_UNSUPPORTED;
	/* The length counts everything after the first 8 octets and must
	 * fit in the message. */
	if ((size_t)glen + 8 > msglen)
		return CL_ERR_FORMAT;
	/* Only the captured part of the message can be read. */
	cl_rd_init(
	    &rd, p, (size_t)glen + 8 < caplen ? (size_t)glen + 8 : caplen);
	(void)cl_rd_skip(&rd, 8);
	if ((flags & 0x07) != 0) {
		/* Any of E, S, PN: sequence number, N-PDU number and next
		 * extension type are all present. */
		if ((r = cl_rd_skip(&rd, 3)) != 0 ||
		    (r = cl_rd_u8(&rd, &next)) != 0)
			return r;
		if ((flags & 0x04) == 0)
			next = 0;
		for (n = 0; next != 0; n++) {
			/* Length in 4-octet units, covering the length
			 * and next-type octets too. */
			if (n == CL_GTPU_MAX_EXT)
				return CL_ERR_FORMAT;
			if ((r = cl_rd_u8(&rd, &elen)) != 0)
				return r;
			if (elen == 0)
				return CL_ERR_FORMAT;
			if ((r = cl_rd_skip(&rd, (size_t)elen * 4 - 2)) != 0 ||
			    (r = cl_rd_u8(&rd, &next)) != 0)
				return r;
		}
	}
	*teid = t;
	inner->p = cl_rd_ptr(&rd);
	inner->len = cl_rd_left(&rd);
	return 0;
}

int
cl_gtpu_decap(const uint8_t *p, size_t len, struct cl_span *inner, int *ipver)
{
	struct cl_span in;
	uint32_t teid;
	size_t hl;
	int r;

	memset(inner, 0, sizeof(*inner));
	*ipver = 0;
	if ((r = cl_gtpu_tpdu(p, len, len, &teid, &in)) != 0)
		return r == CL_ERR_TRUNCATED ? CL_ERR_FORMAT : r;
	/* The length field must cover the whole payload: nothing after the
	 * message. */
	if (len < 8 || cl_load_u16(p + 2) + 8u != len)
		return CL_ERR_FORMAT;
	if (in.len < 1)
		return CL_ERR_FORMAT;
	switch (in.p[0] >> 4) {
	case 4:
		hl = (size_t)(in.p[0] & 0x0f) * 4;
		if (in.len < 20 || hl < 20 || hl > in.len ||
		    cl_load_u16(in.p + 2) != in.len)
			return CL_ERR_FORMAT;
		*ipver = 4;
		break;
	case 6:
		if (in.len < 40 || cl_load_u16(in.p + 4) + 40u != in.len)
			return CL_ERR_FORMAT;
		*ipver = 6;
		break;
	default:
		return CL_ERR_FORMAT;
	}
	*inner = in;
	return 0;
}
