/* SPDX-License-Identifier: ISC */
/*
 * Fuzz target for the LEMF's reader of pdus.jsonl lines (lemf/out.c),
 * which rebuilds the receive state at start-up from a file a crash or a
 * disk fault may have corrupted.  The input is cut at newlines, as the
 * LEMF cuts the file, and each line is read.  Checks:
 *
 *  - a refusal comes with a message;
 *  - an accepted line's LIID, CIN and sequence number are within their
 *    ranges.
 *
 * A failed check aborts, which libFuzzer (or the replay driver) reports.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "json.h"
/* poi/ has an out.h too: name ours by path. */
#include "../../../lemf/out.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CL_JSON_ERR_MAX];
	struct lemf_jline l;
	const uint8_t *nl;
	size_t n;

	while (size > 0) {
		nl = memchr(data, '\n', size);
		n = nl != NULL ? (size_t)(nl - data) : size;
		if (lemf_jline_parse(data, n, &l, err, sizeof(err)) != 0) {
			if (err[0] == '\0')
				abort();
		} else if ((l.has_liid &&
			       (l.liid_len < 1 ||
				   l.liid_len > CL_PSDU_LIID_MAX)) ||
		    l.cin > UINT32_MAX || l.seq > UINT32_MAX || l.kind < -1 ||
		    l.kind > LEMF_KIND_INTEGRITY)
			abort();
		if (nl == NULL)
			break;
		data += n + 1;
		size -= n + 1;
	}
	return 0;
}
