/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the RADIUS parser.  Input: one UDP payload.  Checks
 * that whatever parses yields a binding whose spans stay inside the input
 * and whose addresses are well-formed.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/radius.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_span(struct cl_span s, const uint8_t *data, size_t size)
{
	if (s.len == 0)
		return;
	if (s.p < data || s.len > size ||
	    s.p - data > (ptrdiff_t)(size - s.len))
		abort();
}

static void
check_addr(const struct cl_bind_addr *a)
{
	if (a->addr.family == 4) {
		if (a->plen != 32)
			abort();
	} else if (a->addr.family == 6) {
		if (a->plen > 128 || a->plen == 0)
			abort();
	} else
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_radius m;
	struct cl_binding b;
	unsigned i;
	int r;

	r = cl_radius_parse(data, size, &m);
	if (r != 0) {
		/* A failed parse leaves nothing behind. */
		if (m.code != 0 || m.user_name.len != 0 || m.has_framed_ip)
			abort();
		return 0;
	}
	if (m.length < 20 || m.length > 4096 || m.length > size)
		abort();
	check_span(m.user_name, data, m.length);
	check_span(m.acct_session_id, data, m.length);
	check_span(m.calling_station_id, data, m.length);
	if (m.has_framed_prefix && m.framed_prefix.plen > 128)
		abort();
	if (m.has_delegated_prefix && m.delegated_prefix.plen > 128)
		abort();

	cl_radius_binding(&m, &b);
	if (b.src != CL_SRC_RADIUS || b.naddrs > CL_BIND_MAX_ADDRS)
		abort();
	if (b.op == CL_BIND_NONE && (b.naddrs != 0 || b.username.len != 0))
		abort();
	if (b.op != CL_BIND_NONE && b.op != CL_BIND_START &&
	    b.op != CL_BIND_UPDATE && b.op != CL_BIND_STOP)
		abort();
	check_span(b.username, data, size);
	check_span(b.acct_session_id, data, size);
	check_span(b.calling_station_id, data, size);
	if (b.client_id.len != 0 || b.duid.len != 0 || b.has_mac)
		abort();
	for (i = 0; i < b.naddrs; i++) {
		check_addr(&b.addrs[i]);
		/* The RFC 2865 special values are never bound. */
		if (b.addrs[i].addr.family == 4 &&
		    b.addrs[i].addr.a[0] == 255 &&
		    b.addrs[i].addr.a[1] == 255 &&
		    b.addrs[i].addr.a[2] == 255 && b.addrs[i].addr.a[3] >= 254)
			abort();
	}
	return 0;
}
