/* SPDX-License-Identifier: ISC */
/*
 * Fuzz target for the X2/X3 decoder and encoder.  The input is a stream:
 * PDUs are decoded one after the other until the decoder fails or the
 * input ends.  For each decoded PDU:
 *
 *  - it must decode the same without the bytes after it, and every proper
 *    prefix of it (we try the longest) must be CL_ERR_TRUNCATED;
 *  - the encoder must accept it (clearli accepts only what it could send)
 *    and write cl_x2x3_encoded_len() octets;
 *  - if its attributes were in increasing type order and none was of an
 *    opaque type (1-4, 18-22, which the decoder only counts), the
 *    re-encoding must equal the input bytes: the format is canonical in
 *    that case.  Otherwise the encoder writes the attributes in type order
 *    and drops the opaque ones, so the bytes legitimately differ; then the
 *    re-encoding must itself decode, to a PDU that re-encodes to the very
 *    same bytes (a fixed point).
 *
 * The framing check (cl_x2x3_frame(), the POI's output role) is run on
 * the whole input and on each decoded PDU: it never reads past the input,
 * what it accepts has lengths that fill the input exactly, and every X2
 * or X3 PDU the decoder takes whole passes it (it is the weaker check).
 *
 * A failed check aborts, which libFuzzer (or the replay driver) reports.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "x2x3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True if the TLVs of a decoded PDU are in strictly increasing type order. */
static bool
in_type_order(const uint8_t *p)
{
	uint32_t hlen = cl_load_u32(p + 4), off;
	uint16_t prev = 0, type;

	for (off = CL_X2X3_FIXED_LEN; off < hlen;
	     off += 4 + cl_load_u16(p + off + 2)) {
		type = cl_load_u16(p + off);
		if (type <= prev)
			return false;
		prev = type;
	}
	return true;
}

static void
check_pdu(const uint8_t *p, size_t consumed, const struct cl_x2x3_pdu *pdu,
    struct cl_buf *b, struct cl_buf *b2)
{
	struct cl_x2x3_pdu again;
	size_t n;

	if (consumed < CL_X2X3_FIXED_LEN ||
	    consumed > CL_X2X3_MAX_HEADER + CL_X2X3_MAX_PAYLOAD)
		abort();
	if (cl_x2x3_decode(p, consumed, &again, &n, NULL) != 0 || n != consumed)
		abort();
	if (cl_x2x3_decode(p, consumed - 1, &again, &n, NULL) !=
	    CL_ERR_TRUNCATED)
		abort();

	cl_buf_reset(b);
	if (cl_x2x3_encode(b, pdu) != 0 || b->len != cl_x2x3_encoded_len(pdu))
		abort();
	if (pdu->other_attrs == 0 && in_type_order(p)) {
		if (b->len != consumed || memcmp(b->d, p, consumed) != 0)
			abort();
		return;
	}
	if (b->len > consumed)
		abort();
	if (cl_x2x3_decode(b->d, b->len, &again, &n, NULL) != 0 ||
	    n != b->len || again.other_attrs != 0)
		abort();
	cl_buf_reset(b2);
	if (cl_x2x3_encode(b2, &again) != 0 || b2->len != b->len ||
	    memcmp(b2->d, b->d, b->len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_x2x3_pdu pdu;
	struct cl_buf b, b2;
	const char *why;
	size_t off = 0, consumed;
	uint32_t plen;
	int r;

	if (cl_x2x3_frame(data, size, &plen, &why) == 0 &&
	    (size < CL_X2X3_FIXED_LEN || plen > size ||
		cl_load_u32(data + 4) + plen != size))
		abort();
	cl_buf_init(&b, CL_X2X3_MAX_HEADER + CL_X2X3_MAX_PAYLOAD);
	cl_buf_init(&b2, CL_X2X3_MAX_HEADER + CL_X2X3_MAX_PAYLOAD);
	while (off < size) {
		r = cl_x2x3_decode(
		    data + off, size - off, &pdu, &consumed, &why);
		if (r != 0) {
			if (r > 0 || why == NULL || consumed != 0)
				abort();
			break;
		}
		if (consumed > size - off)
			abort();
		check_pdu(data + off, consumed, &pdu, &b, &b2);
		if ((pdu.type == CL_X2X3_X2 || pdu.type == CL_X2X3_X3) &&
		    (cl_x2x3_frame(data + off, consumed, &plen, &why) != 0 ||
			plen != pdu.payload.len))
			abort();
		off += consumed;
	}
	cl_buf_release(&b);
	cl_buf_release(&b2);
	return 0;
}
