/* SPDX-License-Identifier: ISC */
/*
 * poi/pdurec.c: a PDU written into the PDU ring by the match role comes
 * out of it, in the output role, encoding to the very same octets; a
 * record whose lengths do not add up, or with unknown flags, is refused.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "harness.h"
#include "roles.h"
#include "x2x3.h"

static void
sample(struct cl_x2x3_pdu *p, uint8_t *payload, size_t plen)
{
	static const char mti[] = "ip:10.9.0.1", ipid[] = "poi-1";
	size_t i;

	memset(p, 0, sizeof(*p));
	p->type = CL_X2X3_X3;
	p->pformat = CL_X2X3_PF_IPV4;
	p->pdir = CL_X2X3_DIR_FROM_TARGET;
	for (i = 0; i < CL_UUID_LEN; i++)
		p->xid[i] = (uint8_t)(0x11 + i);
	p->xid[6] = 0x41; /* version 4 */
	p->xid[8] = 0x81;
	p->has_seqno = true;
	p->seqno = 77;
	p->has_ts = true;
	p->ts_sec = 1700000000;
	p->ts_nsec = 123456789;
	p->src.family = 4;
	p->src.a[0] = 10;
	p->src.a[3] = 1;
	p->dst.family = 4;
	p->dst.a[0] = 192;
	p->dst.a[3] = 7;
	p->has_sport = p->has_dport = p->has_ipproto = true;
	p->sport = 61000;
	p->dport = 61001;
	p->ipproto = 17;
	p->mti.p = (const uint8_t *)mti;
	p->mti.len = strlen(mti);
	p->ipid.p = (const uint8_t *)ipid;
	p->ipid.len = strlen(ipid);
	for (i = 0; i < plen; i++)
		payload[i] = (uint8_t)i;
	p->payload.p = payload;
	p->payload.len = plen;
}

CL_TEST(round_trip_encodes_the_same)
{
	struct cl_x2x3_pdu in, out;
	struct cl_buf a, b;
	uint8_t payload[300], *rec;
	size_t len;

	sample(&in, payload, sizeof(payload));
	len = poi_pdurec_len(&in);
	CHECK(len <= POI_PDUREC_MAX);
	CHECK((rec = malloc(len)) != NULL);
	poi_pdurec_put(&in, rec);
	CHECK(poi_pdurec_get(rec, len, &out) == 0);
	cl_buf_init(&a, 1 << 20);
	cl_buf_init(&b, 1 << 20);
	CHECK(cl_x2x3_encode(&a, &in) == 0);
	CHECK(cl_x2x3_encode(&b, &out) == 0);
	CHECK(a.len == b.len && memcmp(a.d, b.d, a.len) == 0);
	/* the spans point into the record, not into the writer's memory */
	CHECK(out.payload.p >= rec && out.payload.p < rec + len);
	cl_buf_release(&a);
	cl_buf_release(&b);
	free(rec);
}

CL_TEST(lengths_must_add_up)
{
	struct cl_x2x3_pdu in, out;
	uint8_t payload[40], *rec;
	size_t len;

	sample(&in, payload, sizeof(payload));
	len = poi_pdurec_len(&in);
	CHECK((rec = malloc(len + 1)) != NULL);
	poi_pdurec_put(&in, rec);
	CHECK(poi_pdurec_get(rec, len - 1, &out) == CL_ERR_FORMAT);
	CHECK(poi_pdurec_get(rec, len + 1, &out) == CL_ERR_FORMAT);
	CHECK(poi_pdurec_get(rec, 10, &out) == CL_ERR_FORMAT);
	/* a payload length beyond the record (the last field of the fixed
	 * part, before the strings) */
	rec[len - in.mti.len - in.ipid.len - sizeof(payload) - 1] = 0x7f;
	CHECK(poi_pdurec_get(rec, len, &out) == CL_ERR_FORMAT);
	free(rec);
}

CL_TEST(unknown_flags_refused)
{
	struct cl_x2x3_pdu in, out;
	uint8_t payload[4], *rec;
	size_t len;

	sample(&in, payload, sizeof(payload));
	len = poi_pdurec_len(&in);
	CHECK((rec = malloc(len)) != NULL);
	poi_pdurec_put(&in, rec);
	rec[6] |= 0x80; /* flags follow the three u16 */
	CHECK(poi_pdurec_get(rec, len, &out) == CL_ERR_FORMAT);
	free(rec);
}

CL_TEST(encoder_refuses_a_made_up_pdu)
{
	struct cl_x2x3_pdu in, out;
	struct cl_buf b;
	uint8_t payload[4], *rec;
	size_t len;

	sample(&in, payload, sizeof(payload));
	in.pformat = 200; /* no such payload format */
	in.src.family = 5;
	len = poi_pdurec_len(&in);
	CHECK((rec = malloc(len)) != NULL);
	poi_pdurec_put(&in, rec);
	CHECK(poi_pdurec_get(rec, len, &out) == 0);
	cl_buf_init(&b, 1 << 20);
	CHECK(cl_x2x3_encode(&b, &out) == CL_ERR_INVALID_ARG);
	cl_buf_release(&b);
	free(rec);
}

int
main(void)
{
	CL_RUN(round_trip_encodes_the_same);
	CL_RUN(lengths_must_add_up);
	CL_RUN(unknown_flags_refused);
	CL_RUN(encoder_refuses_a_made_up_pdu);
	return cl_test_done();
}
