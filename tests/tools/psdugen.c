/* SPDX-License-Identifier: ISC */
/*
 * psdugen: writes TS 102 232 PS-PDUs made by lib/psdu.c from fixed inputs,
 * for tests/integration/0100-psdu-asn1c.sh, which decodes them with an
 * asn1c-generated decoder and compares the fields with the same inputs.
 *
 * usage: psdugen OUT HEXPACKET...
 *
 * OUT gets, back to back: one HI3 IPCC PDU per packet (directions
 * alternate fromTarget, toTarget; sequence numbers 0, 1, ...), then three
 * HI2 IPIRI PDUs (IRI-Begin, IRI-Report, IRI-End) and a keep-alive.  The
 * fixed values are listed below and repeated in the test script.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "psdu.h"
#include "util.h"

int
main(int argc, char **argv)
{
	static const uint8_t v6[16] = {
	    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
	static uint8_t pkt[65536];
	static const char user[] = "alice@example.net";
	static const char aaa[] = "raw-radius";
	struct cl_psh_ids ids = {
	    .liid = (const uint8_t *)"LIID-H5-0001",
	    .liid_len = 12,
	    .country = "DE",
	    .operator_id = (const uint8_t *)"clearli",
	    .operator_id_len = 7,
	    .ne_id = (const uint8_t *)"mdf-1",
	    .ne_id_len = 5,
	    .cin = 4242,
	    .ipid = "poi01",
	};
	struct cl_psheader h;
	struct cl_psdu_ipiri iri;
	struct cl_buf *b = NULL;
	FILE *f = NULL;
	size_t n;
	uint32_t seq = 0;
	int i, r, rc = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: psdugen OUT HEXPACKET...\n");
		return 2;
	}
	if ((b = cl_buf_new(16u * 1024 * 1024)) == NULL ||
	    (r = cl_psheader_init(&h, &ids)) != 0) {
		fprintf(stderr, "psdugen: init failed\n");
		goto out;
	}
	h.sec = 1700000000; /* 2023-11-14T22:13:20Z */
	h.usec = 123456;
	for (i = 2; i < argc; i++) {
		/* An empty packet is "". */
		n = 0;
		if (argv[i][0] != '\0' &&
		    cl_parse_hex(argv[i], pkt, sizeof(pkt), &n) != 0) {
			fprintf(stderr, "psdugen: bad hex packet %d\n", i - 1);
			goto out;
		}
		h.seq = seq++;
		if ((r = cl_psdu_hi3_ipcc(b, &h, pkt, n,
			 i % 2 == 0 ? CL_PSDU_DIR_FROM_TARGET
				    : CL_PSDU_DIR_TO_TARGET)) != 0)
			goto fail;
	}

	cl_psdu_ipiri_init(&iri);
	iri.access_event = 1; /* accessAccept */
	iri.username = (const uint8_t *)user;
	iri.username_len = strlen(user);
	iri.access_type = 2; /* xDSL */
	iri.ip_version = 1;  /* iPV4 */
	iri.target.family = 4;
	memcpy(iri.target.addr, "\x0a\x01\x02\x03", 4); /* 10.1.2.3 */
	iri.target.assignment = 2;
	iri.has_start = true;
	iri.start_sec = 1700000000;
	iri.auth_type = 2; /* radiusAAA */
	iri.raw_aaa = (const uint8_t *)aaa;
	iri.raw_aaa_len = strlen(aaa);
	h.seq = seq++;
	if ((r = cl_psdu_hi2_ipiri(b, &h, CL_PSDU_IRI_BEGIN, &iri)) != 0)
		goto fail;

	iri.access_event = 6; /* interimUpdate */
	iri.has_octets = true;
	iri.octets_rx = 18446744073709551615u;
	iri.octets_tx = 1000;
	h.seq = seq++;
	if ((r = cl_psdu_hi2_ipiri(b, &h, CL_PSDU_IRI_REPORT, &iri)) != 0)
		goto fail;

	iri.access_event = 8; /* accessEnd */
	iri.ip_version = 2;   /* iPV6 */
	iri.target.family = 6;
	memcpy(iri.target.addr, v6, 16);
	iri.target.prefix_len = 64;
	iri.has_end = true;
	iri.end_sec = 1700003600;
	iri.end_usec = 500000;
	iri.end_reason = 1; /* regularLogoff */
	h.seq = seq++;
	if ((r = cl_psdu_hi2_ipiri(b, &h, CL_PSDU_IRI_END, &iri)) != 0)
		goto fail;

	h.seq = seq++;
	if ((r = cl_psdu_tri(b, &h, CL_PSDU_TRI_KEEPALIVE)) != 0)
		goto fail;

	if ((f = fopen(argv[1], "wb")) == NULL ||
	    fwrite(b->d, 1, b->len, f) != b->len || fclose(f) != 0) {
		f = NULL;
		fprintf(stderr, "psdugen: cannot write %s\n", argv[1]);
		goto out;
	}
	f = NULL;
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "psdugen: encoding failed: %s\n", cl_err_str(r));
out:
	if (f != NULL)
		fclose(f);
	cl_buf_free(b);
	return rc;
}
