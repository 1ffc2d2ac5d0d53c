/* SPDX-License-Identifier: ISC */
/*
 * Decodes back-to-back BER PS-PDUs from a file with the decoder asn1c
 * generated from the ETSI modules, and prints each as XER inside one
 * <pdus> element, for tests/integration/0100-psdu-asn1c.sh.
 *
 * usage: driver FILE [partial-ok]
 *
 * Exit status 0 if every byte was decoded into whole PDUs (with
 * "partial-ok", a trailing partial PDU, as a TCP capture may end with, is
 * allowed and reported on stderr), 1 on a decoding error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "PS-PDU.h"

int
main(int argc, char **argv)
{
	unsigned char *data = NULL, *nd;
	size_t len = 0, cap = 0, n, off = 0, npdu = 0;
	int partial_ok = argc > 2 && strcmp(argv[2], "partial-ok") == 0;
	FILE *f;

	if (argc < 2 || (f = fopen(argv[1], "rb")) == NULL) {
		fprintf(stderr, "usage: driver FILE [partial-ok]\n");
		return 2;
	}
	/* The whole file, however long (a LEMF's pdus.ber grows). */
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			if ((nd = realloc(data, cap)) == NULL) {
				fprintf(stderr, "driver: out of memory\n");
				return 2;
			}
			data = nd;
		}
		n = fread(data + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		fprintf(stderr, "driver: cannot read %s\n", argv[1]);
		return 2;
	}
	fclose(f);
	printf("<pdus>\n");
	while (off < len) {
		PS_PDU_t *pdu = NULL;
		asn_dec_rval_t rv;

		rv = ber_decode(NULL, &asn_DEF_PS_PDU, (void **)&pdu,
		    data + off, len - off);
		if (rv.code == RC_WMORE && partial_ok) {
			fprintf(stderr,
			    "driver: %zu trailing octets of a "
			    "partial PDU\n",
			    len - off);
			ASN_STRUCT_FREE(asn_DEF_PS_PDU, pdu);
			break;
		}
		if (rv.code != RC_OK) {
			fprintf(stderr,
			    "driver: PDU %zu at offset %zu: "
			    "decoding failed (%s)\n",
			    npdu, off,
			    rv.code == RC_WMORE ? "truncated" : "invalid");
			ASN_STRUCT_FREE(asn_DEF_PS_PDU, pdu);
			printf("</pdus>\n");
			return 1;
		}
		if (xer_fprint(stdout, &asn_DEF_PS_PDU, pdu) != 0) {
			ASN_STRUCT_FREE(asn_DEF_PS_PDU, pdu);
			return 1;
		}
		ASN_STRUCT_FREE(asn_DEF_PS_PDU, pdu);
		off += rv.consumed;
		npdu++;
	}
	printf("</pdus>\n");
	fprintf(stderr, "driver: %zu PDUs\n", npdu);
	return 0;
}
