/* SPDX-License-Identifier: ISC */
/*
 * Fuzz target for the PS-PDU decoder (lib/psdu_dec.c), which the
 * reference LEMF runs on bytes from the network.  The input is decoded
 * as a TCP stream would be: PDU after PDU until the end or an error.
 * For each PDU every helper that reads its spans runs too
 * (cl_psdu_payload_at, cl_psdu_ic_seqs, the LEMF's JSON writer).  Checks:
 *
 *  - a decoded PDU lies inside the input and its spans inside the PDU;
 *  - the first PDU cut one octet short is CL_ERR_TRUNCATED ("read
 *    more"), never a hard error, and decodes again whole;
 *  - a failure names its reason and clears the outputs;
 *  - the helpers succeed on what the decoder accepted.
 *
 * A failed check aborts, which libFuzzer (or the replay driver) reports.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "../../../lemf/out.h" /* poi/ has an out.h too */
#include "psdu_dec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(struct cl_span s, struct cl_span pdu)
{
	if (s.len == 0)
		return;
	if (s.p < pdu.p || s.len > pdu.len ||
	    (size_t)(s.p - pdu.p) > pdu.len - s.len)
		abort();
}

static void
check(const struct cl_psdu_info *in, struct cl_buf *json)
{
	static uint32_t seqs[CL_PSDU_DEC_MAX / 3];
	static const uint8_t h[32];
	struct cl_psdu_info one;
	size_t i, n;

	inside(in->liid, in->pdu);
	inside(in->operator_id, in->pdu);
	inside(in->ne_id, in->pdu);
	inside(in->country, in->pdu);
	inside(in->ipid, in->pdu);
	inside(in->other, in->pdu);
	inside(in->seqof, in->pdu);
	inside(in->cc.ip, in->pdu);
	inside(in->iri.user, in->pdu);
	inside(in->iri.aaa, in->pdu);
	inside(in->iri.target.value, in->pdu);
	inside(in->tri.seqs, in->pdu);
	inside(in->tri.value, in->pdu);
	if (in->liid.len < 1 || in->liid.len > 25)
		abort();
	for (i = 0; i < in->npayloads; i++)
		if (cl_psdu_payload_at(in, i, &one) != 0)
			abort();
	if (in->kind == CL_PSDU_KIND_TRI && in->tri.which == 0) {
		if (cl_psdu_ic_seqs(
			in, seqs, sizeof(seqs) / sizeof(seqs[0]), &n) != 0 ||
		    n != in->tri.nseqs || n == 0)
			abort();
	}
	cl_buf_reset(json);
	if (lemf_json_pdu(json, in, h, NULL, true, NULL) != 0 ||
	    json->len == 0 || json->d[json->len - 1] != '\n' ||
	    memchr(json->d, '\n', json->len) != json->d + json->len - 1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_psdu_info in;
	struct cl_buf *json;
	const char *why;
	size_t off = 0, used;
	bool first = true;
	int r;

	if ((json = cl_buf_new(16u * 1024 * 1024)) == NULL)
		abort();
	while (off < size) {
		r = cl_psdu_decode(data + off, size - off, &in, &used, &why);
		if (why == NULL || (r != 0 && why[0] == '\0'))
			abort();
		if (r != 0) {
			if (used != 0 || in.kind != 0)
				abort();
			break;
		}
		if (used == 0 || used > size - off || in.pdu.p != data + off ||
		    in.pdu.len != used)
			abort();
		check(&in, json);
		if (first) {
			first = false;
			if (cl_psdu_decode(data + off, used - 1, &in, &used,
				&why) != CL_ERR_TRUNCATED)
				abort();
			if (cl_psdu_decode(
				data + off, size - off, &in, &used, &why) != 0)
				abort();
		}
		off += used;
	}
	cl_buf_free(json);
	return 0;
}
