/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the DHCPv6 parser.  Input: one UDP payload.  Checks
 * that whatever parses yields a binding whose spans stay inside the input
 * and whose addresses are well-formed.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/dhcp6.h"

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_dhcp6 m;
	struct cl_binding b;
	unsigned i;
	int r;

	r = cl_dhcp6_parse(data, size, &m);
	if (r != 0) {
		if (m.msgtype != 0 || m.nleases != 0 || m.client_duid.len != 0)
			abort();
		return 0;
	}
	if (m.msgtype == 0 || m.msgtype == CL_DHCP6_RELAY_FORW ||
	    m.msgtype == CL_DHCP6_RELAY_REPL || m.xid > 0xffffff ||
	    m.nleases > CL_DHCP6_MAX_LEASES)
		abort();
	check_span(m.client_duid, data, size);
	check_span(m.server_duid, data, size);
	if ((m.client_duid.len != 0 && m.client_duid.len < 3) ||
	    m.client_duid.len > 130)
		abort();
	for (i = 0; i < m.nleases; i++)
		if (m.leases[i].a.addr.family != 6 ||
		    m.leases[i].a.plen > 128 ||
		    (!m.leases[i].pd && m.leases[i].a.plen != 128))
			abort();

	cl_dhcp6_binding(&m, &b);
	if (b.src != CL_SRC_DHCP6 || b.naddrs > CL_BIND_MAX_ADDRS ||
	    b.naddrs > m.nleases)
		abort();
	check_span(b.duid, data, size);
	switch (b.op) {
	case CL_BIND_NONE:
		if (b.naddrs != 0 || b.duid.len != 0)
			abort();
		break;
	case CL_BIND_START:
		if (m.msgtype != CL_DHCP6_REPLY || b.naddrs == 0)
			abort();
		break;
	case CL_BIND_STOP:
		if (b.naddrs == 0)
			abort();
		break;
	default:
		abort();
	}
	if (b.op != CL_BIND_NONE && b.duid.len == 0)
		abort();
	for (i = 0; i < b.naddrs; i++)
		if (b.addrs[i].addr.family != 6 || b.addrs[i].plen == 0 ||
		    b.addrs[i].plen > 128)
			abort();
	return 0;
}
