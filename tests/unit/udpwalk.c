/* SPDX-License-Identifier: ISC */
#include <stdint.h>

#include "capfile.h"
#include "decode.h"
#include "harness.h"
#include "reasm.h"
#include "udpwalk.h"

unsigned
walk(const char *rel, bool frags, visit_fn fn, void *arg)
{
	struct cl_cap *cap = NULL;
	struct cl_reasm *ra;
	struct cl_cap_pkt cp;
	struct cl_pkt pkt;
	const uint8_t *dg;
	size_t dglen;
	unsigned frame = 0, nudp = 0;
	uint64_t now;
	int r;

	if (cl_cap_open_file(cl_test_path(rel), &cap) != 0)
		cl_test_fail(__FILE__, __LINE__, "cannot open %s", rel);
	if ((ra = cl_reasm_new(64, 30ull * 1000000000)) == NULL)
		cl_test_fail(__FILE__, __LINE__, "reasm");
	while ((r = cl_cap_next(cap, &cp)) == 1) {
		frame++;
		if (cl_decode_frame(cp.linktype, cp.data, cp.caplen, &pkt) != 0)
			continue;
		if (pkt.is_frag) {
			/* Fuzzer-made captures: let the parser see what a
			 * first fragment holds, too. */
			if (frags && pkt.proto == 17 && pkt.has_ports) {
				nudp++;
				fn(frame, &pkt, arg);
			}
			now = (uint64_t)cp.ts_sec * 1000000000 + cp.ts_nsec;
			if (cl_reasm_add(ra, &pkt, now, &dg, &dglen) != 1 ||
			    cl_decode_ip(dg, dglen, &pkt) != 0)
				continue;
		}
		if (pkt.proto != 17 || !pkt.has_ports)
			continue;
		nudp++;
		fn(frame, &pkt, arg);
	}
	cl_reasm_free(ra);
	cl_cap_free(cap);
	if (r != 0)
		cl_test_fail(
		    __FILE__, __LINE__, "%s: capture error %d", rel, r);
	return nudp;
}
