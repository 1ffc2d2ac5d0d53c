/* SPDX-License-Identifier: ISC */
/*
 * Fuzz target for the BER decoder (lib/ber.c), which the reference LEMF
 * uses on bytes from the network.  The input is walked as a sequence of
 * TLVs, as BER and as DER, descending into every constructed value; each
 * primitive value goes through every content decoder.  Checks:
 *
 *  - whatever DER accepts, BER accepts;
 *  - when DER accepts, re-encoding each identifier and length with the
 *    encoder gives back the input octets (DER headers are canonical), and
 *    every value that decodes as INTEGER or OBJECT IDENTIFIER re-encodes
 *    to the same content octets;
 *  - a walk never visits bytes outside the input.
 *
 * A failed check aborts, which libFuzzer (or the replay driver) reports.
 */
#include <stdlib.h>
#include <string.h>

#include "ber.h"
#include "buf.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct ctx {
	const uint8_t *base;
	size_t size;
	bool der;
	struct cl_buf *b;
};

static void
reencode_content(const struct cl_ber_tlv *t, struct cl_buf *b)
{
	uint32_t arcs[CL_BER_OID_MAX_ARCS];
	int64_t i;
	uint64_t u;
	size_t n;

	if (cl_ber_get_int64(t->v, &i) == 0) {
		cl_buf_reset(b);
		if (cl_ber_put_int(b, 0x80, 0, i) != 0 ||
		    b->len != 2 + t->v.len ||
		    memcmp(b->d + 2, t->v.p, t->v.len) != 0)
			abort();
	}
	if (cl_ber_get_uint64(t->v, &u) == 0) {
		cl_buf_reset(b);
		if (cl_ber_put_uint(b, 0x80, 0, u) != 0 ||
		    b->len != 2 + t->v.len ||
		    memcmp(b->d + 2, t->v.p, t->v.len) != 0)
			abort();
	}
	if (cl_ber_get_oid(t->v, arcs, CL_BER_OID_MAX_ARCS, &n) == 0) {
		cl_buf_reset(b);
		if (cl_ber_put_oid(b, 0x80, 0, arcs, n) != 0 ||
		    b->len != cl_ber_tlv_size(0, t->v.len) ||
		    memcmp(b->d + b->len - t->v.len, t->v.p, t->v.len) != 0)
			abort();
	}
	if (cl_ber_get_reloid(t->v, arcs, CL_BER_OID_MAX_ARCS, &n) == 0) {
		cl_buf_reset(b);
		if (cl_ber_put_reloid(b, 0x80, 0, arcs, n) != 0 ||
		    b->len != cl_ber_tlv_size(0, t->v.len) ||
		    memcmp(b->d + b->len - t->v.len, t->v.p, t->v.len) != 0)
			abort();
	}
}

static int
visit(const struct cl_ber_tlv *t, unsigned depth, void *arg)
{
	struct ctx *c = arg;
	int64_t sec;
	uint32_t usec;
	bool x;

	(void)depth;
	if (t->v.p < c->base || t->v.len > c->size ||
	    (size_t)(t->v.p - c->base) > c->size - t->v.len ||
	    t->hdrlen > (size_t)(t->v.p - c->base))
		abort();
	if (c->der) {
		/* The header just before the value, re-encoded. */
		cl_buf_reset(c->b);
		if (cl_ber_put_tl(c->b,
			(uint8_t)(t->cls | (t->cons ? CL_BER_CONSTRUCTED : 0)),
			t->tag, t->v.len) != 0 ||
		    c->b->len != t->hdrlen ||
		    memcmp(c->b->d, t->v.p - t->hdrlen, t->hdrlen) != 0)
			abort();
	}
	if (t->cons)
		return 0;
	if (cl_ber_get_gentime(t->v, &sec, &usec) == 0 && usec > 999999)
		abort();
	(void)cl_ber_get_bool(t->v, c->der ? CL_BER_DER : 0, &x);
	(void)cl_ber_get_null(t->v);
	if (c->der)
		reencode_content(t, c->b);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctx c = {data, size, false, NULL};
	int rber, rder;

	if ((c.b = cl_buf_new(1u << 16)) == NULL)
		abort();
	rber = cl_ber_walk(data, size, 0, CL_BER_DEPTH_MAX, visit, &c);
	c.der = true;
	rder = cl_ber_walk(data, size, CL_BER_DER, CL_BER_DEPTH_MAX, visit, &c);
	if (rder == 0 && rber != 0)
		abort();
	if (rber > 0 || rder > 0)
		abort();
	cl_buf_free(c.b);
	return 0;
}
