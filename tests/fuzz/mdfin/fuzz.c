/* SPDX-License-Identifier: ISC */
/*
 * Fuzz target for what the MDF builds from POI input, without files or
 * sockets: the input is (a) an X2/X3 byte stream, decoded PDU by PDU; each
 * X2 PDU goes through mdf_x2_ipiri() and the IPIRI it gives must always
 * encode (cl_psdu_hi2_ipiri()) into a PS-PDU that is well-formed BER and
 * that mdf_tri_peek() reads as a non-TRI PDU of exactly its length; each
 * X3 GTP-U PDU through cl_gtpu_decap(), whose packet must be the tail of
 * the payload; and
 * (b) a spool record and a PS-PDU from a LEMF, for mdf_meta_parse() and
 * mdf_tri_peek().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ber.h"
#include "buf.h"
#include "gtpu.h"
#include "mdf.h"
#include "psdu.h"
#include "psdu_dec.h"
#include "spool.h"
#include "stream.h"
#include "x2x3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cl_psheader psh;
static struct cl_buf out;
static bool ready;

static void
setup(void)
{
	struct cl_psh_ids ids;

	memset(&ids, 0, sizeof(ids));
	ids.liid = (const uint8_t *)"LIID-FUZZ";
	ids.liid_len = 9;
	ids.country = "DE";
	ids.operator_id = (const uint8_t *)"clearli-op";
	ids.operator_id_len = 10;
	ids.cin = 12345;
	ids.ipid = "poi-1";
	if (cl_psheader_init(&psh, &ids) != 0)
		abort();
	cl_buf_init(&out, CL_SPOOL_REC_HARD_MAX);
	ready = true;
}

/* What the core does with an X2 PDU, up to the encoded PS-PDU. */
static void
one_x2(const struct cl_x2x3_pdu *pdu)
{
	struct cl_psdu_ipiri iri;
	int op, alt, type;
	bool reject, acc;
	size_t used;

	(void)mdf_x2_ipiri(pdu, &iri, &op, &reject);
	if (iri.access_event < 0 || iri.access_event > 10 ||
	    iri.ip_version < 1 || iri.ip_version > 3)
		abort();
	/* Every IRI type, time stamps as the core sets them. */
	type = (int)(pdu->seqno % 4) + 1;
	psh.seq = pdu->seqno;
	psh.sec = pdu->has_ts ? (int64_t)pdu->ts_sec : 1700000000;
	psh.usec = pdu->has_ts ? pdu->ts_nsec / 1000 : 0;
	psh.tsq =
	    pdu->has_ts ? CL_PSDU_TSQ_INTERCEPTION : CL_PSDU_TSQ_MEDIATION;
	if (op == 1 || type == CL_PSDU_IRI_BEGIN) {
		iri.has_start = true;
		iri.start_sec = psh.sec;
		iri.start_usec = psh.usec;
	}
	if (reject || type == CL_PSDU_IRI_END) {
		iri.has_end = true;
		iri.end_sec = psh.sec;
		iri.end_usec = psh.usec;
	}
	cl_buf_reset(&out);
	if (cl_psdu_hi2_ipiri(&out, &psh, type, &iri) != 0)
		abort(); /* the core's IPIRI must always encode */
	if (cl_ber_walk(
		out.d, out.len, CL_BER_DER, CL_BER_DEPTH_MAX, NULL, NULL) != 0)
		abort();
	if (mdf_tri_peek(out.d, out.len, &alt, &acc, &used) != 0 || alt != -1 ||
	    used != out.len)
		abort();
}

/* X3 GTP-U: what the core would deliver lies inside the payload and is
 * one whole IP packet of the version it says. */
static void
one_gtpu(const struct cl_x2x3_pdu *pdu)
{
	struct cl_span in;
	int v;

	if (cl_gtpu_decap(pdu->payload.p, pdu->payload.len, &in, &v) != 0) {
		if (in.p != NULL || in.len != 0 || v != 0)
			abort();
		return;
	}
	if (in.p < pdu->payload.p ||
	    in.p + in.len != pdu->payload.p + pdu->payload.len || in.len < 20 ||
	    (v != 4 && v != 6) || in.p[0] >> 4 != v)
		abort();
}

static void
x2x3_stream(const uint8_t *data, size_t size)
{
	struct cl_x2x3_pdu pdu;
	size_t off = 0, used;

	while (off < size) {
		if (cl_x2x3_decode(data + off, size - off, &pdu, &used, NULL) !=
		    0)
			break;
		if (used == 0 || used > size - off)
			abort();
		off += used;
		if (pdu.type == CL_X2X3_X2)
			one_x2(&pdu);
		else if (pdu.type == CL_X2X3_X3 &&
		    pdu.pformat == CL_X2X3_PF_GTPU)
			one_gtpu(&pdu);
	}
}

static void
peek(const uint8_t *data, size_t size)
{
	int alt, r;
	bool acc;
	size_t used;

	r = mdf_tri_peek(data, size, &alt, &acc, &used);
	if (r == 0 &&
	    (used == 0 || used > size || alt < -1 ||
		(acc && alt != CL_PSDU_TRI_OPTION_RESP)))
		abort();
	if (r != 0 && r != CL_ERR_TRUNCATED && r != CL_ERR_FORMAT)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mdf_meta m;
	struct cl_span pdu;

	if (!ready)
		setup();
	x2x3_stream(data, size);
	peek(data, size);
	if (mdf_meta_parse(data, size, &m, &pdu) == 0) {
		if (m.liid_len < 1 || m.liid_len > CL_PSDU_LIID_MAX ||
		    m.liid[m.liid_len] != '\0' || pdu.len == 0 ||
		    pdu.p < data || pdu.p + pdu.len != data + size)
			abort();
		peek(pdu.p, pdu.len);
	}
	return 0;
}
