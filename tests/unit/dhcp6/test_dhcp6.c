/* SPDX-License-Identifier: ISC */
#include <stdlib.h>

#include "err.h"
#include "harness.h"
#include "udpwalk.h"
#include "capfile.h"
#include "decode.h"
#include "proto/dhcp6.h"
#include "reasm.h"
#include "util.h"

/*
 * A DHCPv6 message under construction.  Options nest: opt_open() writes an
 * option header and remembers where its length goes, opt_close() fills
 * it in.
 */
struct msg {
	uint8_t b[2048];
	size_t n;
	size_t open[16];
	int depth;
};

static void
put(struct msg *m, const void *p, size_t n)
{
	if (n > 0)
		memcpy(m->b + m->n, p, n);
	m->n += n;
}

static void
put16(struct msg *m, uint16_t v)
{
	cl_store_u16(m->b + m->n, v);
	m->n += 2;
}

static void
put32(struct msg *m, uint32_t v)
{
	cl_store_u32(m->b + m->n, v);
	m->n += 4;
}

static void
msg_start(struct msg *m, uint8_t type, uint32_t xid)
{
	memset(m, 0, sizeof(*m));
	m->b[0] = type;
	m->b[1] = (uint8_t)(xid >> 16);
	m->b[2] = (uint8_t)(xid >> 8);
	m->b[3] = (uint8_t)xid;
	m->n = 4;
}

static void
opt_open(struct msg *m, uint16_t code)
{
	put16(m, code);
	m->open[m->depth++] = m->n;
	put16(m, 0);
}

static void
opt_close(struct msg *m)
{
	size_t at = m->open[--m->depth];

	cl_store_u16(m->b + at, (uint16_t)(m->n - at - 2));
}

static void
opt(struct msg *m, uint16_t code, const void *v, size_t len)
{
	put16(m, code);
	put16(m, (uint16_t)len);
	put(m, v, len);
}

static const uint8_t duid_c[10] = {0, 3, 0, 1, 0, 1, 2, 3, 4, 5};
static const uint8_t duid_s[14] = {
    0, 1, 0, 1, 0x18, 0x46, 0x48, 0x8c, 0, 0x11, 0x22, 0x33, 0x44, 0x55};
static const uint8_t addr1[16] = {
    0x2a, 0, 0, 1, 0, 1, 2, 0, 0x38, 0xe6, 0xb2, 0x2e, 0xc4, 0x40, 0xac, 0xdf};
static const uint8_t pfx56[16] = {0x2a, 0, 0, 1, 0, 1, 1, 0};

static void
iaaddr(struct msg *m, const uint8_t a[16], uint32_t pref, uint32_t valid,
    int status)
{
	opt_open(m, 5);
	put(m, a, 16);
	put32(m, pref);
	put32(m, valid);
	if (status >= 0) {
		opt_open(m, 13);
		put16(m, (uint16_t)status);
		put(m, "msg", 3);
		opt_close(m);
	}
	opt_close(m);
}

static void
iaprefix(struct msg *m, const uint8_t p[16], uint8_t plen, uint32_t pref,
    uint32_t valid)
{
	opt_open(m, 26);
	put32(m, pref);
	put32(m, valid);
	m->b[m->n++] = plen;
	put(m, p, 16);
	opt_close(m);
}

static void
ia_open(struct msg *m, uint16_t type, uint32_t iaid)
{
	opt_open(m, type);
	put32(m, iaid);
	if (type != 4) {
		put32(m, 3600); /* T1 */
		put32(m, 5400); /* T2 */
	}
}

static void
status_opt(struct msg *m, uint16_t code)
{
	opt_open(m, 13);
	put16(m, code);
	opt_close(m);
}

/* A REPLY with an IA_NA address and an IA_PD prefix. */
static void
full_reply(struct msg *m, uint8_t type)
{
	msg_start(m, type, 0x2ffdd1);
	opt(m, 1, duid_c, sizeof(duid_c));
	opt(m, 2, duid_s, sizeof(duid_s));
	ia_open(m, 3, 1);
	iaaddr(m, addr1, 3600, 7200, 0);
	opt_close(m);
	opt(m, 23, addr1, 16); /* DNS servers: skipped */
	ia_open(m, 25, 2);
	iaprefix(m, pfx56, 56, 1800, 3600);
	opt_close(m);
}

static const char *
fmt_bind(const struct cl_bind_addr *a)
{
	static char buf[CL_ADDR_STRLEN + 8];
	char ab[CL_ADDR_STRLEN];

	cl_format_addr(&a->addr, ab, sizeof(ab));
	snprintf(buf, sizeof(buf), "%s/%u", ab, a->plen);
	return buf;
}

CL_TEST(reply_binds)
{
	struct msg m;
	struct cl_dhcp6 d;
	struct cl_binding b;

	full_reply(&m, CL_DHCP6_REPLY);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.msgtype, CL_DHCP6_REPLY);
	CHECK_INT_EQ(d.xid, 0x2ffdd1);
	CHECK_INT_EQ(d.client_duid.len, sizeof(duid_c));
	CHECK_MEM_EQ(d.client_duid.p, duid_c, sizeof(duid_c));
	CHECK_INT_EQ(d.server_duid.len, sizeof(duid_s));
	CHECK_MEM_EQ(d.server_duid.p, duid_s, sizeof(duid_s));
	CHECK_INT_EQ(d.status, 0);
	CHECK_INT_EQ(d.nleases, 2);
	CHECK_STR_EQ(
	    fmt_bind(&d.leases[0].a), "2a00:1:1:200:38e6:b22e:c440:acdf/128");
	CHECK_INT_EQ(d.leases[0].valid_lifetime, 7200);
	CHECK(!d.leases[0].pd);
	CHECK_STR_EQ(fmt_bind(&d.leases[1].a), "2a00:1:1:100::/56");
	CHECK_INT_EQ(d.leases[1].valid_lifetime, 3600);
	CHECK(d.leases[1].pd);

	cl_dhcp6_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_START);
	CHECK_INT_EQ(b.src, CL_SRC_DHCP6);
	CHECK(b.duid.p == d.client_duid.p && b.duid.len == d.client_duid.len);
	CHECK_INT_EQ(b.naddrs, 2);
	CHECK_STR_EQ(
	    fmt_bind(&b.addrs[0]), "2a00:1:1:200:38e6:b22e:c440:acdf/128");
	CHECK_STR_EQ(fmt_bind(&b.addrs[1]), "2a00:1:1:100::/56");
	CHECK_INT_EQ(b.lifetime, 3600); /* the shorter lease */
	CHECK(!b.has_mac);
	CHECK_INT_EQ(b.username.len, 0);
}

CL_TEST(other_types_bind_nothing)
{
	static const uint8_t types[] = {CL_DHCP6_SOLICIT, CL_DHCP6_ADVERTISE,
	    CL_DHCP6_REQUEST, CL_DHCP6_CONFIRM, CL_DHCP6_RENEW, CL_DHCP6_REBIND,
	    10, 11, 200};
	struct msg m;
	struct cl_dhcp6 d;
	struct cl_binding b;
	size_t i;

	for (i = 0; i < sizeof(types); i++) {
		full_reply(&m, types[i]);
		CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
		CHECK_INT_EQ(d.nleases, 2);
		cl_dhcp6_binding(&d, &b);
		CHECK_INT_EQ(b.op, CL_BIND_NONE);
		CHECK_INT_EQ(b.naddrs, 0);
		CHECK_INT_EQ(b.duid.len, 0);
	}
	/* Message type 0 does not exist. */
	full_reply(&m, 0);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);
}

CL_TEST(release_unbinds)
{
	struct msg m;
	struct cl_dhcp6 d;
	struct cl_binding b;

	msg_start(&m, CL_DHCP6_RELEASE, 0xc789b0);
	opt(&m, 1, duid_c, sizeof(duid_c));
	opt(&m, 2, duid_s, sizeof(duid_s));
	ia_open(&m, 25, 2);
	iaprefix(&m, pfx56, 56, 0, 0);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	cl_dhcp6_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_STOP);
	CHECK_INT_EQ(b.naddrs, 1);
	CHECK_STR_EQ(fmt_bind(&b.addrs[0]), "2a00:1:1:100::/56");
	CHECK_MEM_EQ(b.duid.p, duid_c, sizeof(duid_c));

	/* DECLINE too. */
	m.b[0] = CL_DHCP6_DECLINE;
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	cl_dhcp6_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_STOP);

	/* A RELEASE naming no lease ends nothing. */
	msg_start(&m, CL_DHCP6_RELEASE, 1);
	opt(&m, 1, duid_c, sizeof(duid_c));
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	cl_dhcp6_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_NONE);
}

CL_TEST(reply_zero_lifetime_unbinds)
{
	struct msg m;
	struct cl_dhcp6 d;
	struct cl_binding b;

	msg_start(&m, CL_DHCP6_REPLY, 1);
	opt(&m, 1, duid_c, sizeof(duid_c));
	ia_open(&m, 3, 1);
	iaaddr(&m, addr1, 0, 0, -1);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	cl_dhcp6_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_STOP);
	CHECK_INT_EQ(b.naddrs, 1);
	CHECK_STR_EQ(
	    fmt_bind(&b.addrs[0]), "2a00:1:1:200:38e6:b22e:c440:acdf/128");

	/* Mixed: the live lease binds, the withdrawn one is not bound. */
	ia_open(&m, 25, 2);
	iaprefix(&m, pfx56, 56, 0xffffffff, 0xffffffff);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	cl_dhcp6_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_START);
	CHECK_INT_EQ(b.naddrs, 1);
	CHECK_STR_EQ(fmt_bind(&b.addrs[0]), "2a00:1:1:100::/56");
	CHECK_INT_EQ(b.lifetime, 0); /* infinite */
}

CL_TEST(status_codes)
{
	struct msg m;
	struct cl_dhcp6 d;
	struct cl_binding b;

	/* A top-level failure binds nothing. */
	full_reply(&m, CL_DHCP6_REPLY);
	status_opt(&m, 5); /* UseMulticast */
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.status, 5);
	cl_dhcp6_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_NONE);
	/* Top-level success is fine; twice is not. */
	full_reply(&m, CL_DHCP6_REPLY);
	status_opt(&m, 0);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	cl_dhcp6_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_START);
	status_opt(&m, 0);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);

	/* An IA with a failure status contributes no lease. */
	msg_start(&m, CL_DHCP6_REPLY, 1);
	opt(&m, 1, duid_c, sizeof(duid_c));
	ia_open(&m, 3, 1);
	iaaddr(&m, addr1, 100, 200, -1);
	status_opt(&m, 2); /* NoAddrsAvail */
	opt_close(&m);
	ia_open(&m, 25, 2);
	iaprefix(&m, pfx56, 56, 100, 200);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.nleases, 1);
	CHECK(d.leases[0].pd);

	/* An address with a failure status is skipped; success is fine. */
	msg_start(&m, CL_DHCP6_REPLY, 1);
	opt(&m, 1, duid_c, sizeof(duid_c));
	ia_open(&m, 3, 1);
	iaaddr(&m, addr1, 100, 200, 3); /* NoBinding */
	iaaddr(&m, pfx56, 100, 200, 0);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.nleases, 1);
	CHECK_STR_EQ(fmt_bind(&d.leases[0].a), "2a00:1:1:100::/128");

	/* Status option too short for its code. */
	msg_start(&m, CL_DHCP6_REPLY, 1);
	opt(&m, 13, "\0", 1);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_TRUNCATED);
}

CL_TEST(lease_values)
{
	struct msg m;
	struct cl_dhcp6 d;
	struct cl_binding b;
	uint8_t bad[16];

	/* Preferred over valid: discarded (RFC 8415 21.6). */
	msg_start(&m, CL_DHCP6_REPLY, 1);
	opt(&m, 1, duid_c, sizeof(duid_c));
	ia_open(&m, 3, 1);
	iaaddr(&m, addr1, 201, 200, -1);
	opt_close(&m);
	ia_open(&m, 25, 2);
	iaprefix(&m, pfx56, 56, 301, 300);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.nleases, 0);

	/* Prefix length over 128, host bits set: malformed. */
	msg_start(&m, CL_DHCP6_REPLY, 1);
	ia_open(&m, 25, 2);
	iaprefix(&m, pfx56, 129, 1, 2);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	memcpy(bad, pfx56, 16);
	bad[7] = 1;
	msg_start(&m, CL_DHCP6_REPLY, 1);
	ia_open(&m, 25, 2);
	iaprefix(&m, bad, 56, 1, 2);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	msg_start(&m, CL_DHCP6_REPLY, 1);
	ia_open(&m, 25, 2);
	iaprefix(&m, bad, 64, 1, 2);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.nleases, 1);
	CHECK_INT_EQ(d.leases[0].a.plen, 64);

	/* ::/0 and :: parse but are never bound. */
	memset(bad, 0, 16);
	msg_start(&m, CL_DHCP6_REPLY, 1);
	opt(&m, 1, duid_c, sizeof(duid_c));
	ia_open(&m, 25, 2);
	iaprefix(&m, bad, 0, 1, 2);
	opt_close(&m);
	ia_open(&m, 3, 1);
	iaaddr(&m, bad, 1, 2, -1);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.nleases, 2);
	cl_dhcp6_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_NONE);
	CHECK_INT_EQ(b.naddrs, 0);

	/* IAADDR belongs in IA_NA/IA_TA, IAPREFIX in IA_PD. */
	msg_start(&m, CL_DHCP6_REPLY, 1);
	ia_open(&m, 25, 2);
	iaaddr(&m, addr1, 1, 2, -1);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	msg_start(&m, CL_DHCP6_REPLY, 1);
	ia_open(&m, 3, 2);
	iaprefix(&m, pfx56, 56, 1, 2);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);
}

CL_TEST(ia_ta_and_many_leases)
{
	struct msg m;
	struct cl_dhcp6 d;
	struct cl_binding b;
	uint8_t a[16];
	int i;

	msg_start(&m, CL_DHCP6_REPLY, 1);
	opt(&m, 1, duid_c, sizeof(duid_c));
	ia_open(&m, 4, 9);
	memcpy(a, addr1, 16);
	iaaddr(&m, a, 10, 20, -1);
	opt_close(&m);
	ia_open(&m, 3, 1);
	for (i = 0; i < 10; i++) {
		a[15] = (uint8_t)i;
		iaaddr(&m, a, 10, 1000 + (uint32_t)i, -1);
	}
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.nleases, CL_DHCP6_MAX_LEASES);
	CHECK_STR_EQ(
	    fmt_bind(&d.leases[0].a), "2a00:1:1:200:38e6:b22e:c440:acdf/128");
	CHECK_INT_EQ(d.leases[0].valid_lifetime, 20);
	CHECK_INT_EQ(d.leases[7].valid_lifetime, 1006);
	cl_dhcp6_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_START);
	CHECK_INT_EQ(b.naddrs, CL_BIND_MAX_ADDRS);
	CHECK_INT_EQ(b.lifetime, 20);
}

CL_TEST(duid_rules)
{
	struct msg m;
	struct cl_dhcp6 d;
	struct cl_binding b;
	uint8_t big[131];

	memset(big, 7, sizeof(big));
	msg_start(&m, CL_DHCP6_REPLY, 1);
	opt(&m, 1, duid_c, 2);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	msg_start(&m, CL_DHCP6_REPLY, 1);
	opt(&m, 2, big, 131);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	msg_start(&m, CL_DHCP6_REPLY, 1);
	opt(&m, 1, big, 130);
	opt(&m, 2, duid_c, 3);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.client_duid.len, 130);
	CHECK_INT_EQ(d.server_duid.len, 3);
	opt(&m, 1, duid_c, sizeof(duid_c));
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	CHECK_INT_EQ(d.client_duid.len, 0);
	msg_start(&m, CL_DHCP6_REPLY, 1);
	opt(&m, 2, duid_c, 3);
	opt(&m, 2, duid_c, 3);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);

	/* A REPLY without a client DUID binds nobody. */
	msg_start(&m, CL_DHCP6_REPLY, 1);
	opt(&m, 2, duid_s, sizeof(duid_s));
	ia_open(&m, 3, 1);
	iaaddr(&m, addr1, 1, 2, -1);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.nleases, 1);
	cl_dhcp6_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_NONE);
}

/* Wraps the message in n relay headers; the outermost is type. */
static void
wrap(struct msg *m, int n, uint8_t type)
{
	struct msg w;
	int i;

	for (i = 0; i < n; i++) {
		memset(&w, 0, sizeof(w));
		w.b[0] = type;
		w.b[1] = (uint8_t)i; /* hop count */
		w.b[2] = 0x20;       /* link-address */
		w.b[18] = 0xfe;      /* peer-address */
		w.b[19] = 0x80;
		w.n = 34;
		opt(&w, 18, "eth0", 4); /* Interface-Id, before the message */
		opt(&w, 9, m->b, m->n);
		*m = w;
	}
}

CL_TEST(relay)
{
	struct msg m, inner;
	struct cl_dhcp6 d;
	struct cl_binding b;
	int n;

	for (n = 1; n <= 8; n++) {
		full_reply(&m, CL_DHCP6_REPLY);
		wrap(&m, n, CL_DHCP6_RELAY_REPL);
		CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
		CHECK_INT_EQ(d.msgtype, CL_DHCP6_REPLY);
		CHECK_INT_EQ(d.xid, 0x2ffdd1);
		CHECK_INT_EQ(d.nleases, 2);
		cl_dhcp6_binding(&d, &b);
		CHECK_INT_EQ(b.op, CL_BIND_START);
		CHECK_INT_EQ(b.naddrs, 2);
	}
	/* Nine levels is too deep. */
	full_reply(&m, CL_DHCP6_REPLY);
	wrap(&m, 9, CL_DHCP6_RELAY_REPL);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_TOOBIG);
	CHECK_INT_EQ(d.msgtype, 0);
	/* RELAY-FORW wrapping a RELEASE. */
	msg_start(&m, CL_DHCP6_RELEASE, 7);
	opt(&m, 1, duid_c, sizeof(duid_c));
	ia_open(&m, 3, 1);
	iaaddr(&m, addr1, 0, 0, -1);
	opt_close(&m);
	wrap(&m, 2, CL_DHCP6_RELAY_FORW);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.msgtype, CL_DHCP6_RELEASE);
	cl_dhcp6_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_STOP);

	/* A relay message without, or with two, Relay Message options. */
	memset(&m, 0, sizeof(m));
	m.b[0] = CL_DHCP6_RELAY_FORW;
	m.n = 34;
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	opt(&m, 18, "x", 1);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	full_reply(&inner, CL_DHCP6_REPLY);
	opt(&m, 9, inner.b, inner.n);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);
	opt(&m, 9, inner.b, inner.n);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	/* An empty Relay Message. */
	memset(&m, 0, sizeof(m));
	m.b[0] = CL_DHCP6_RELAY_REPL;
	m.n = 34;
	opt(&m, 9, NULL, 0);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_TRUNCATED);
	/* A Relay Message option in a client/server message. */
	full_reply(&m, CL_DHCP6_REPLY);
	opt(&m, 9, inner.b, inner.n);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	/* A relay header cut short. */
	memset(&m, 0, sizeof(m));
	m.b[0] = CL_DHCP6_RELAY_REPL;
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, 33, &d), CL_ERR_TRUNCATED);
}

CL_TEST(truncated_at_every_length)
{
	struct msg m;
	struct cl_dhcp6 d;
	size_t i;
	int rc;

	/* Relayed, every cut breaks the Relay Message option. */
	full_reply(&m, CL_DHCP6_REPLY);
	wrap(&m, 2, CL_DHCP6_RELAY_REPL);
	for (i = 0; i < m.n; i++) {
		memset(&d, 0xa5, sizeof(d));
		rc = cl_dhcp6_parse(m.b, i, &d);
		CHECK(rc < 0);
		CHECK_INT_EQ(d.msgtype, 0);
		CHECK_INT_EQ(d.nleases, 0);
		CHECK_INT_EQ(d.client_duid.len, 0);
	}
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), 0);

	/* Bare, a cut between top-level options leaves a shorter valid
	 * message; any other cut fails. */
	full_reply(&m, CL_DHCP6_REPLY);
	for (i = 0; i < m.n; i++) {
		rc = cl_dhcp6_parse(m.b, i, &d);
		if (i == 4 || i == 18 || i == 36 || i == 89 || i == 109)
			CHECK_INT_EQ(rc, 0);
		else
			CHECK(rc < 0);
	}
	CHECK(cl_dhcp6_parse(NULL, 0, &d) < 0);
}

CL_TEST(nested_framing)
{
	struct msg m;
	struct cl_dhcp6 d;
	size_t at;

	/* An IAADDR claiming more than its IA holds. */
	full_reply(&m, CL_DHCP6_REPLY);
	at = 4 + 14 + 18 + 4 + 12; /* the IAADDR header inside IA_NA */
	CHECK_INT_EQ(cl_load_u16(m.b + at), 5);
	CHECK_INT_EQ(cl_load_u16(m.b + at + 2), 33);
	cl_store_u16(m.b + at + 2, 34);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_TRUNCATED);
	/* One less leaves a stray byte in the IA. */
	cl_store_u16(m.b + at + 2, 32);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_TRUNCATED);
	/* IAADDR too short for its fixed part. */
	msg_start(&m, CL_DHCP6_REPLY, 1);
	ia_open(&m, 3, 1);
	opt(&m, 5, addr1, 16);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_TRUNCATED);
	/* IA_NA too short for IAID/T1/T2, IA_PD likewise. */
	msg_start(&m, CL_DHCP6_REPLY, 1);
	opt(&m, 3, "12345678901", 11);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_TRUNCATED);
	msg_start(&m, CL_DHCP6_REPLY, 1);
	opt(&m, 25, "12345678901", 11);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_TRUNCATED);
	msg_start(&m, CL_DHCP6_REPLY, 1);
	opt(&m, 4, "123", 3);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_TRUNCATED);
	/* IAPREFIX one byte short. */
	msg_start(&m, CL_DHCP6_REPLY, 1);
	ia_open(&m, 25, 1);
	opt(&m, 26, pfx56, 16);
	put(&m, "123456789", 8);
	cl_store_u16(m.b + m.n - 24 - 2, 24);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_TRUNCATED);
	/* Top-level option header cut: 3 bytes left. */
	full_reply(&m, CL_DHCP6_REPLY);
	put(&m, "\0\1\0", 3);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_TRUNCATED);
	/* A duplicate status inside an IA or a lease. */
	msg_start(&m, CL_DHCP6_REPLY, 1);
	ia_open(&m, 3, 1);
	status_opt(&m, 0);
	status_opt(&m, 0);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	msg_start(&m, CL_DHCP6_REPLY, 1);
	ia_open(&m, 3, 1);
	opt_open(&m, 5);
	put(&m, addr1, 16);
	put32(&m, 1);
	put32(&m, 2);
	status_opt(&m, 0);
	status_opt(&m, 0);
	opt_close(&m);
	opt_close(&m);
	CHECK_INT_EQ(cl_dhcp6_parse(m.b, m.n, &d), CL_ERR_FORMAT);
}

CL_TEST(ports)
{
	CHECK(cl_dhcp6_port(546, 547));
	CHECK(cl_dhcp6_port(547, 546));
	CHECK(cl_dhcp6_port(547, 547));
	CHECK(!cl_dhcp6_port(67, 68));
	CHECK(!cl_dhcp6_port(545, 548));
	/* A server answering from an ephemeral port to the client's. */
	CHECK(cl_dhcp6_port(49152, 546));
	CHECK(cl_dhcp6_port(546, 49152));
	CHECK(cl_dhcp6_port(546, 546));
	/* Anything goes with 547 on one side (servers, relays). */
	CHECK(cl_dhcp6_direction_ok(546, 547, CL_DHCP6_REPLY));
	CHECK(cl_dhcp6_direction_ok(547, 547, CL_DHCP6_RELAY_REPL));
	/* Without 547: server messages only to 546, client messages only
	 * from it, and no relay message at all. */
	CHECK(cl_dhcp6_direction_ok(49152, 546, CL_DHCP6_REPLY));
	CHECK(cl_dhcp6_direction_ok(49152, 546, CL_DHCP6_ADVERTISE));
	CHECK(cl_dhcp6_direction_ok(49152, 546, CL_DHCP6_RECONFIGURE));
	CHECK(!cl_dhcp6_direction_ok(49152, 546, CL_DHCP6_REQUEST));
	CHECK(!cl_dhcp6_direction_ok(546, 49152, CL_DHCP6_REPLY));
	CHECK(cl_dhcp6_direction_ok(546, 49152, CL_DHCP6_RELEASE));
	CHECK(!cl_dhcp6_direction_ok(546, 546, CL_DHCP6_REPLY));
	CHECK(!cl_dhcp6_direction_ok(546, 546, CL_DHCP6_SOLICIT));
	CHECK(!cl_dhcp6_direction_ok(49152, 546, CL_DHCP6_RELAY_REPL));
	CHECK(!cl_dhcp6_direction_ok(49152, 546, 0));
	CHECK(!cl_dhcp6_direction_ok(49152, 546, 255));
}

/* What came out of one capture, copied out of the mapped file. */
#define MAX_MSGS 32
struct seen {
	bool all_ports;
	unsigned n, nok, nbind;
	unsigned frame[MAX_MSGS];
	int rc[MAX_MSGS];
	struct cl_dhcp6 d[MAX_MSGS];
	struct cl_binding b[MAX_MSGS];
	char cduid[MAX_MSGS][300], sduid[MAX_MSGS][300], bduid[MAX_MSGS][300];
};

static void
hex_span(char *dst, struct cl_span s)
{
	if (s.len > 140)
		cl_test_fail(__FILE__, __LINE__, "DUID too long");
	cl_format_hex(s.p, s.len, dst);
}

static void
visit(unsigned frame, const struct cl_pkt *pkt, void *arg)
{
	struct seen *s = arg;
	unsigned i;

	if (!s->all_ports && !cl_dhcp6_port(pkt->sport, pkt->dport))
		return;
	if (s->n == MAX_MSGS)
		cl_test_fail(__FILE__, __LINE__, "too many messages");
	i = s->n++;
	s->frame[i] = frame;
	s->rc[i] = cl_dhcp6_parse(pkt->l4data, pkt->l4data_len, &s->d[i]);
	cl_dhcp6_binding(&s->d[i], &s->b[i]);
	if (s->rc[i] == 0)
		s->nok++;
	else
		s->b[i].op = CL_BIND_NONE;
	if (s->b[i].op != CL_BIND_NONE)
		s->nbind++;
	hex_span(s->cduid[i], s->d[i].client_duid);
	hex_span(s->sduid[i], s->d[i].server_duid);
	hex_span(s->bduid[i], s->b[i].duid);
	memset(&s->d[i].client_duid, 0, sizeof(struct cl_span));
	memset(&s->d[i].server_duid, 0, sizeof(struct cl_span));
	memset(&s->b[i].duid, 0, sizeof(struct cl_span));
}

static struct seen *
walk_dhcp6(const char *rel, bool all_ports)
{
	static struct seen s;

	memset(&s, 0, sizeof(s));
	s.all_ports = all_ports;
	walk(rel, all_ports, visit, &s);
	return &s;
}

static unsigned
at_frame(const struct seen *s, unsigned f)
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		if (s->frame[i] == f)
			return i;
	cl_test_fail(__FILE__, __LINE__, "no DHCPv6 in frame %u", f);
}

/* Checks message i binds (op) duid -> one addr for life seconds. */
static void
check_bind(const struct seen *s, unsigned i, enum cl_bind_op op,
    const char *duid, const char *addr, uint32_t life)
{
	CHECK_INT_EQ(s->rc[i], 0);
	CHECK_INT_EQ(s->b[i].op, op);
	CHECK_STR_EQ(s->bduid[i], duid);
	CHECK_INT_EQ(s->b[i].naddrs, 1);
	CHECK_STR_EQ(fmt_bind(&s->b[i].addrs[0]), addr);
	CHECK_INT_EQ(s->b[i].lifetime, life);
}

/* Expected values below are from tshark 4.0 and pcaps/README.md. */

CL_TEST(cap_ia_na)
{
	struct seen *s = walk_dhcp6("pcaps/dhcp/tcpdump__dhcpv6-ia-na.pcap", 0);
	static const uint8_t types[] = {1, 2, 3, 7};
	unsigned i;

	CHECK_INT_EQ(s->n, 4);
	CHECK_INT_EQ(s->nok, 4);
	for (i = 0; i < 4; i++) {
		CHECK_INT_EQ(s->d[i].msgtype, types[i]);
		CHECK_STR_EQ(s->cduid[i], "00030001000102030405");
	}
	CHECK_INT_EQ(s->nbind, 1);
	check_bind(s, 3, CL_BIND_START, "00030001000102030405",
	    "2a00:1:1:200:38e6:b22e:c440:acdf/128", 7200);
	CHECK_INT_EQ(s->d[3].xid, 0x2ffdd1);
	CHECK_STR_EQ(s->sduid[3], "000100011846488c001122334455");
	CHECK_INT_EQ(s->d[0].xid, 0x90b45c);
	/* The REQUEST lists the address too, with its own lifetime. */
	CHECK_INT_EQ(s->d[2].nleases, 1);
	CHECK_INT_EQ(s->d[2].leases[0].valid_lifetime, 7500);
}

CL_TEST(cap_ia_pd)
{
	struct seen *s = walk_dhcp6("pcaps/dhcp/tcpdump__dhcpv6-ia-pd.pcap", 0);

	CHECK_INT_EQ(s->n, 4);
	CHECK_INT_EQ(s->nok, 4);
	CHECK_INT_EQ(s->nbind, 1);
	check_bind(s, 3, CL_BIND_START, "00030001000102030405",
	    "2a00:1:1:100::/56", 7200);
	CHECK(s->d[3].leases[0].pd);
	CHECK_INT_EQ(s->d[3].xid, 0x12b08a);
	CHECK_STR_EQ(s->sduid[3], "0001000118464999001122334455");
}

CL_TEST(cap_wireshark_pd_release)
{
	struct seen *s =
	    walk_dhcp6("pcaps/dhcp/arkime__wireshark-dhcpv6.pcap", 0);
	static const char duid[] = "000100011c39cf88080027fe8f95";
	unsigned i;

	CHECK_INT_EQ(s->n, 6);
	CHECK_INT_EQ(s->nok, 6);
	CHECK_INT_EQ(s->nbind, 2);
	i = at_frame(s, 8);
	CHECK_INT_EQ(s->d[i].msgtype, CL_DHCP6_REPLY);
	check_bind(s, i, CL_BIND_START, duid, "2001:0:0:fe00::/64", 7200);
	CHECK_STR_EQ(s->sduid[i], "000100011c3825e8080027d410bb");
	i = at_frame(s, 11);
	CHECK_INT_EQ(s->d[i].msgtype, CL_DHCP6_RELEASE);
	CHECK_INT_EQ(s->d[i].xid, 0xc789b0);
	check_bind(s, i, CL_BIND_STOP, duid, "2001:0:0:fe00::/64", 0);
	/* The REPLY to the RELEASE: Success, no lease, nothing to do. */
	i = at_frame(s, 12);
	CHECK_INT_EQ(s->d[i].msgtype, CL_DHCP6_REPLY);
	CHECK_INT_EQ(s->d[i].status, 0);
	CHECK_INT_EQ(s->d[i].nleases, 0);
	CHECK_INT_EQ(s->b[i].op, CL_BIND_NONE);
	/* The ADVERTISE offers the prefix but binds nothing. */
	i = at_frame(s, 5);
	CHECK_INT_EQ(s->d[i].nleases, 1);
	CHECK_INT_EQ(s->d[i].leases[0].valid_lifetime, 7200);
	CHECK_INT_EQ(s->b[i].op, CL_BIND_NONE);
}

CL_TEST(cap_advertise_only)
{
	struct seen *s = walk_dhcp6("pcaps/dhcp/pcapplusplus__dhcpv6.pcap", 0);

	CHECK_INT_EQ(s->n, 2);
	CHECK_INT_EQ(s->nok, 2);
	CHECK_INT_EQ(s->nbind, 0);
	CHECK_INT_EQ(s->d[0].msgtype, CL_DHCP6_SOLICIT);
	CHECK_STR_EQ(s->cduid[0], "000200000009464745313934373134515300");
	CHECK_INT_EQ(s->d[1].msgtype, CL_DHCP6_ADVERTISE);
	CHECK_INT_EQ(s->d[1].xid, 0x9a0006);
	CHECK_INT_EQ(s->d[1].nleases, 1);
	CHECK_STR_EQ(fmt_bind(&s->d[1].leases[0].a), "2001:dba:100::30/128");
	CHECK_INT_EQ(s->d[1].leases[0].valid_lifetime, 600);
}

CL_TEST(cap_v4v6)
{
	struct seen *s =
	    walk_dhcp6("pcaps/dhcp/tcpdump__dhcpv4v6-rfc5970-rfc8572.pcap", 0);

	CHECK_INT_EQ(s->n, 10);
	CHECK_INT_EQ(s->nok, 10);
	CHECK_INT_EQ(s->nbind, 2);
	check_bind(s, at_frame(s, 5), CL_BIND_START,
	    "0001000129d08193000001010000", "1234:5678::4/128", 28800);
	check_bind(s, at_frame(s, 13), CL_BIND_START,
	    "0001000129d47f66000001010000", "1234:5678::4/128", 28800);
	CHECK_INT_EQ(s->d[at_frame(s, 14)].msgtype, 11);
	CHECK_STR_EQ(s->cduid[at_frame(s, 14)], "00030001000044010000");
}

CL_TEST(cap_asan_survived)
{
	static const char *files[] = {
	    "pcaps/dhcp/tcpdump__dhcp6_reconf_asan.pcap",
	    "pcaps/dhcp/tcpdump__bootp_asan.pcap",
	    "pcaps/dhcp/arkime__wireshark-dhcp.pcap",
	    "pcaps/dhcp/zeek__dhcp.pcap",
	};
	struct seen *s;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		s = walk_dhcp6(files[i], 1);
		CHECK_INT_EQ(s->nbind, 0);
		if (i < 2) {
			/* A truncated first fragment, handed over as is. */
			CHECK_INT_EQ(s->n, 1);
			CHECK(s->rc[0] < 0);
		}
	}
}

static int
parse_once(void *arg)
{
	const struct msg *m = arg;
	struct cl_dhcp6 d;
	int r;

	if ((r = cl_dhcp6_parse(m->b, m->n, &d)) != 0)
		return r;
	return d.xid == 0x2ffdd1 ? 0 : CL_ERR_INTERNAL;
}

/* With each allocation failing in turn (it makes none), the parse is the
 * same. */
CL_TEST(alloc_failures)
{
	struct msg m;

	full_reply(&m, CL_DHCP6_REPLY);
	CHECK_INT_EQ(cl_test_alloc_loop("cl_dhcp6_parse", parse_once, &m), 1);
}

int
main(void)
{
	CL_RUN(reply_binds);
	CL_RUN(other_types_bind_nothing);
	CL_RUN(release_unbinds);
	CL_RUN(reply_zero_lifetime_unbinds);
	CL_RUN(status_codes);
	CL_RUN(lease_values);
	CL_RUN(ia_ta_and_many_leases);
	CL_RUN(duid_rules);
	CL_RUN(relay);
	CL_RUN(truncated_at_every_length);
	CL_RUN(nested_framing);
	CL_RUN(ports);
	CL_RUN(cap_ia_na);
	CL_RUN(cap_ia_pd);
	CL_RUN(cap_wireshark_pd_release);
	CL_RUN(cap_advertise_only);
	CL_RUN(cap_v4v6);
	CL_RUN(cap_asan_survived);
	CL_RUN(alloc_failures);
	return cl_test_done();
}
