/* SPDX-License-Identifier: ISC */
#include <stdlib.h>

#include "err.h"
#include "harness.h"
#include "udpwalk.h"
#include "capfile.h"
#include "decode.h"
#include "proto/radius.h"
#include "reasm.h"
#include "util.h"

/* A RADIUS message under construction. */
struct msg {
	uint8_t b[4200];
	size_t n;
};

static void
msg_start(struct msg *m, uint8_t code)
{
	memset(m, 0, sizeof(*m));
	m->b[0] = code;
	m->b[1] = 0x42;
	m->n = 20; /* the authenticator stays zero */
}

static void
msg_attr(struct msg *m, uint8_t type, const void *v, size_t len)
{
	m->b[m->n++] = type;
	m->b[m->n++] = (uint8_t)(len + 2);
	memcpy(m->b + m->n, v, len);
	m->n += len;
}

static void
msg_str(struct msg *m, uint8_t type, const char *s)
{
	msg_attr(m, type, s, strlen(s));
}

static void
msg_u32(struct msg *m, uint8_t type, uint32_t v)
{
	uint8_t x[4] = {v >> 24, v >> 16, v >> 8, v};

	msg_attr(m, type, x, 4);
}

/* Sets the Length field to the bytes written so far. */
static void
msg_end(struct msg *m)
{
	m->b[2] = (uint8_t)(m->n >> 8);
	m->b[3] = (uint8_t)m->n;
}

static bool
span_is(struct cl_span s, const char *str)
{
	return s.len == strlen(str) && memcmp(s.p, str, s.len) == 0;
}

/* Formats a bound address as "addr/plen". */
static const char *
fmt_bind(const struct cl_bind_addr *a)
{
	static char buf[CL_ADDR_STRLEN + 8];
	char ab[CL_ADDR_STRLEN];

	cl_format_addr(&a->addr, ab, sizeof(ab));
	snprintf(buf, sizeof(buf), "%s/%u", ab, a->plen);
	return buf;
}

static const uint8_t pfx64[] = {
    0, 64, 0x20, 0x01, 0x0d, 0xb8, 0x0a, 0x0b, 0x12, 0xf0};
static const uint8_t v6addr[16] = {
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};

/* An Access-Accept with every attribute the parser interprets. */
static void
full_accept(struct msg *m)
{
	static const uint8_t ip[4] = {10, 1, 40, 34};
	static const uint8_t dpfx[] = {
	    0, 56, 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56};

	msg_start(m, CL_RADIUS_ACCESS_ACCEPT);
	msg_str(m, 1, "alice");
	msg_attr(m, 8, ip, 4);
	msg_u32(m, 27, 3600);
	msg_str(m, 31, "00-02-6F-21-EC-5F");
	msg_str(m, 44, "sess-1");
	msg_attr(m, 97, pfx64, sizeof(pfx64));
	msg_attr(m, 123, dpfx, sizeof(dpfx));
	msg_attr(m, 168, v6addr, 16);
	msg_str(m, 18, "Welcome"); /* Reply-Message: skipped */
	msg_end(m);
}

CL_TEST(accept_binds_everything)
{
	struct msg m;
	struct cl_radius r;
	struct cl_binding b;

	full_accept(&m);
	CHECK_INT_EQ(cl_radius_parse(m.b, m.n, &r), 0);
	CHECK_INT_EQ(r.code, 2);
	CHECK_INT_EQ(r.id, 0x42);
	CHECK_INT_EQ(r.length, m.n);
	CHECK_INT_EQ(r.bad_attrs, 0);
	CHECK(span_is(r.user_name, "alice"));
	CHECK(span_is(r.calling_station_id, "00-02-6F-21-EC-5F"));
	CHECK(span_is(r.acct_session_id, "sess-1"));
	CHECK_INT_EQ(r.session_timeout, 3600);
	CHECK(r.has_framed_ip && r.has_framed_prefix &&
	    r.has_delegated_prefix && r.has_framed_ipv6);

	cl_radius_binding(&r, &b);
	CHECK_INT_EQ(b.op, CL_BIND_START);
	CHECK_INT_EQ(b.src, CL_SRC_RADIUS);
	CHECK(span_is(b.username, "alice"));
	CHECK(span_is(b.calling_station_id, "00-02-6F-21-EC-5F"));
	CHECK(span_is(b.acct_session_id, "sess-1"));
	CHECK_INT_EQ(b.lifetime, 3600);
	CHECK_INT_EQ(b.naddrs, 4);
	CHECK_STR_EQ(fmt_bind(&b.addrs[0]), "10.1.40.34/32");
	CHECK_STR_EQ(fmt_bind(&b.addrs[1]), "2001:db8:a0b:12f0::/64");
	CHECK_STR_EQ(fmt_bind(&b.addrs[2]), "2001:db8:1234:5600::/56");
	CHECK_STR_EQ(fmt_bind(&b.addrs[3]), "2001:db8::7/128");
	CHECK(!b.has_mac);
	CHECK_INT_EQ(b.client_id.len, 0);
	CHECK_INT_EQ(b.duid.len, 0);
}

static enum cl_bind_op
acct_op(int status)
{
	static const uint8_t ip[4] = {192, 0, 2, 9};
	struct msg m;
	struct cl_radius r;
	struct cl_binding b;

	msg_start(&m, CL_RADIUS_ACCOUNTING_REQUEST);
	msg_str(&m, 1, "bob");
	if (status >= 0)
		msg_u32(&m, 40, (uint32_t)status);
	msg_attr(&m, 8, ip, 4);
	msg_end(&m);
	if (cl_radius_parse(m.b, m.n, &r) != 0)
		cl_test_fail(__FILE__, __LINE__, "parse failed");
	cl_radius_binding(&r, &b);
	if (b.op != CL_BIND_NONE && b.naddrs != 1)
		cl_test_fail(__FILE__, __LINE__, "naddrs %u", b.naddrs);
	if (b.op == CL_BIND_NONE && (b.naddrs != 0 || b.username.len != 0))
		cl_test_fail(__FILE__, __LINE__, "NONE carries data");
	return b.op;
}

CL_TEST(accounting_status_gives_op)
{
	CHECK_INT_EQ(acct_op(1), CL_BIND_START);
	CHECK_INT_EQ(acct_op(3), CL_BIND_UPDATE);
	CHECK_INT_EQ(acct_op(2), CL_BIND_STOP);
	CHECK_INT_EQ(acct_op(7), CL_BIND_NONE); /* Accounting-On */
	CHECK_INT_EQ(acct_op(8), CL_BIND_NONE); /* Accounting-Off */
	CHECK_INT_EQ(acct_op(-1), CL_BIND_NONE);
}

CL_TEST(other_codes_bind_nothing)
{
	static const uint8_t codes[] = {
	    1, 3, 5, 11, 12, 13, 40, 41, 42, 43, 44, 45, 0, 255};
	static const uint8_t ip[4] = {10, 0, 0, 3};
	struct msg m;
	struct cl_radius r;
	struct cl_binding b;
	size_t i;

	for (i = 0; i < sizeof(codes); i++) {
		msg_start(&m, codes[i]);
		msg_str(&m, 1, "carol");
		msg_attr(&m, 8, ip, 4);
		msg_u32(&m, 40, 1);
		msg_end(&m);
		CHECK_INT_EQ(cl_radius_parse(m.b, m.n, &r), 0);
		cl_radius_binding(&r, &b);
		CHECK_INT_EQ(b.op, CL_BIND_NONE);
		CHECK_INT_EQ(b.naddrs, 0);
	}
}

CL_TEST(special_v4_never_bound)
{
	static const uint8_t bad[][4] = {
	    {255, 255, 255, 254}, {255, 255, 255, 255}, {0, 0, 0, 0}};
	struct msg m;
	struct cl_radius r;
	struct cl_binding b;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg_start(&m, CL_RADIUS_ACCESS_ACCEPT);
		msg_str(&m, 1, "dave");
		msg_attr(&m, 8, bad[i], 4);
		msg_end(&m);
		CHECK_INT_EQ(cl_radius_parse(m.b, m.n, &r), 0);
		CHECK(r.has_framed_ip);
		cl_radius_binding(&r, &b);
		/* Still a session start: the identity is kept. */
		CHECK_INT_EQ(b.op, CL_BIND_START);
		CHECK_INT_EQ(b.naddrs, 0);
		CHECK(span_is(b.username, "dave"));
	}
}

/* Parses an Access-Accept holding one attribute of the given value. */
static int
one_attr(uint8_t type, const void *v, size_t len, struct cl_radius *r)
{
	struct msg m;

	msg_start(&m, CL_RADIUS_ACCESS_ACCEPT);
	msg_attr(&m, type, v, len);
	msg_end(&m);
	return cl_radius_parse(m.b, m.n, r);
}

CL_TEST(prefix_values)
{
	struct {
		uint8_t v[20];
		size_t len;
		const char *want; /* NULL: malformed */
	} cases[] = {
	    {{0, 64, 0x20, 0x01, 0x0d, 0xb8, 0x0a, 0x0b, 0x12, 0xf0}, 10,
		"2001:db8:a0b:12f0::/64"},
	    {{0, 64, 0x20, 0x01, 0x0d, 0xb8, 0x0a, 0x0b, 0x12, 0xf0}, 18,
		"2001:db8:a0b:12f0::/64"},
	    {{0, 0}, 2, "::/0"},
	    {{0, 128, 0x20, 0x01, 0x0d, 0xb8, [17] = 1}, 18, "2001:db8::1/128"},
	    {{0, 3, 0xe0}, 3, "e000::/3"},
	    {{0x55, 3, 0xe0}, 3, "e000::/3"}, /* reserved not checked */
	    {{0}, 1, NULL},                   /* no prefix-length */
	    {{0}, 0, NULL},
	    {{0, 0, [18] = 0}, 19, NULL},   /* 17 prefix bytes */
	    {{0, 129, [17] = 0}, 18, NULL}, /* over 128 */
	    {{0, 255, [17] = 0}, 18, NULL}, /* over 128 */
	    {{0, 64, 0x20, 0x01}, 4, NULL}, /* bytes do not cover it */
	    {{0, 1}, 2, NULL},              /* no byte for 1 bit */
	    {{0, 3, 0xf0}, 3, NULL},        /* bit past the prefix */
	    {{0, 64, 0x20, 0x01, 0x0d, 0xb8, 0x0a, 0x0b, 0x12, 0xf0, 0, 0, 0, 0,
		 0, 0, 0, 1},
		18, NULL}, /* host bits set */
	    {{0, 0, 0x80}, 3, NULL},
	};
	struct cl_radius r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* The same value in both prefix attributes. */
		CHECK_INT_EQ(one_attr(97, cases[i].v, cases[i].len, &r), 0);
		if (cases[i].want == NULL) {
			CHECK(!r.has_framed_prefix);
			CHECK_INT_EQ(r.bad_attrs, 1);
		} else {
			CHECK(r.has_framed_prefix);
			CHECK_INT_EQ(r.bad_attrs, 0);
			CHECK_STR_EQ(fmt_bind(&r.framed_prefix), cases[i].want);
		}
		CHECK_INT_EQ(one_attr(123, cases[i].v, cases[i].len, &r), 0);
		if (cases[i].want == NULL) {
			CHECK(!r.has_delegated_prefix);
			CHECK_INT_EQ(r.bad_attrs, 1);
		} else {
			CHECK(r.has_delegated_prefix);
			CHECK_STR_EQ(
			    fmt_bind(&r.delegated_prefix), cases[i].want);
		}
	}
}

CL_TEST(zero_prefix_not_bound)
{
	static const uint8_t zero[] = {0, 0};
	struct msg m;
	struct cl_radius r;
	struct cl_binding b;

	msg_start(&m, CL_RADIUS_ACCESS_ACCEPT);
	msg_str(&m, 1, "erin");
	msg_attr(&m, 97, zero, 2);
	msg_attr(&m, 123, zero, 2);
	msg_attr(&m, 168, (uint8_t[16]){0}, 16);
	msg_end(&m);
	CHECK_INT_EQ(cl_radius_parse(m.b, m.n, &r), 0);
	CHECK(
	    r.has_framed_prefix && r.has_delegated_prefix && r.has_framed_ipv6);
	cl_radius_binding(&r, &b);
	CHECK_INT_EQ(b.op, CL_BIND_START);
	CHECK_INT_EQ(b.naddrs, 0);
}

CL_TEST(bad_values_ignored_and_counted)
{
	static const uint8_t ip[4] = {10, 0, 0, 1};
	struct msg m;
	struct cl_radius r;
	struct cl_binding b;

	msg_start(&m, CL_RADIUS_ACCOUNTING_REQUEST);
	msg_attr(&m, 1, "", 0);              /* empty User-Name */
	msg_str(&m, 1, "frank");             /* kept */
	msg_str(&m, 1, "mallory");           /* duplicate */
	msg_attr(&m, 8, ip, 3);              /* short Framed-IP */
	msg_attr(&m, 8, ip, 4);              /* kept */
	msg_attr(&m, 8, (uint8_t[5]){0}, 5); /* long Framed-IP */
	msg_attr(&m, 27, "\0\1", 2);         /* short Session-Timeout */
	msg_u32(&m, 27, 60);                 /* kept */
	msg_u32(&m, 27, 90);                 /* duplicate */
	msg_attr(&m, 40, "\0\0\0\0\3", 5);   /* long Acct-Status-Type */
	msg_u32(&m, 40, 3);                  /* kept */
	msg_attr(&m, 44, "", 0);             /* empty Acct-Session-Id */
	msg_attr(&m, 31, "", 0);             /* empty Calling-Station */
	msg_attr(&m, 168, v6addr, 15);       /* short Framed-IPv6-Addr */
	msg_end(&m);
	CHECK_INT_EQ(cl_radius_parse(m.b, m.n, &r), 0);
	CHECK_INT_EQ(r.bad_attrs, 10);
	CHECK(span_is(r.user_name, "frank"));
	CHECK(r.has_framed_ip);
	CHECK_MEM_EQ(r.framed_ip, ip, 4);
	CHECK_INT_EQ(r.session_timeout, 60);
	CHECK_INT_EQ(r.acct_status, 3);
	CHECK_INT_EQ(r.acct_session_id.len, 0);
	CHECK_INT_EQ(r.calling_station_id.len, 0);
	CHECK(!r.has_framed_ipv6);
	cl_radius_binding(&r, &b);
	CHECK_INT_EQ(b.op, CL_BIND_UPDATE);
	CHECK_INT_EQ(b.naddrs, 1);
	CHECK_STR_EQ(fmt_bind(&b.addrs[0]), "10.0.0.1/32");
	CHECK_INT_EQ(b.lifetime, 60);
}

CL_TEST(first_prefix_kept)
{
	static const uint8_t other[] = {0, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 1};
	struct msg m;
	struct cl_radius r;

	msg_start(&m, CL_RADIUS_ACCESS_ACCEPT);
	msg_attr(&m, 97, (uint8_t[]){0, 200}, 2); /* bad: skipped */
	msg_attr(&m, 97, pfx64, sizeof(pfx64));
	msg_attr(&m, 97, other, sizeof(other));
	msg_end(&m);
	CHECK_INT_EQ(cl_radius_parse(m.b, m.n, &r), 0);
	CHECK_INT_EQ(r.bad_attrs, 1);
	CHECK_STR_EQ(fmt_bind(&r.framed_prefix), "2001:db8:a0b:12f0::/64");
}

CL_TEST(truncated_at_every_length)
{
	struct msg m;
	struct cl_radius r;
	size_t i;
	int rc;

	full_accept(&m);
	for (i = 0; i < m.n; i++) {
		memset(&r, 0xa5, sizeof(r));
		rc = cl_radius_parse(m.b, i, &r);
		CHECK(rc < 0);
		/* Out-param cleared even on failure. */
		CHECK_INT_EQ(r.code, 0);
		CHECK_INT_EQ(r.user_name.len, 0);
		CHECK(!r.has_framed_ip);
	}
	CHECK_INT_EQ(cl_radius_parse(m.b, m.n, &r), 0);
	/* NULL with length 0 is just an empty message. */
	CHECK(cl_radius_parse(NULL, 0, &r) < 0);
}

CL_TEST(length_field_checked)
{
	struct msg m;
	struct cl_radius r;
	size_t n;

	full_accept(&m);
	n = m.n;
	/* Padding after Length is ignored (RFC 2865 section 3). */
	memset(m.b + n, 0xee, 30);
	CHECK_INT_EQ(cl_radius_parse(m.b, n + 30, &r), 0);
	CHECK_INT_EQ(r.length, n);
	CHECK(span_is(r.user_name, "alice"));

	/* Length past the datagram. */
	m.b[2] = (uint8_t)((n + 1) >> 8);
	m.b[3] = (uint8_t)(n + 1);
	CHECK_INT_EQ(cl_radius_parse(m.b, n, &r), CL_ERR_TRUNCATED);
	/* Length cutting an attribute in two. */
	m.b[2] = (uint8_t)((n - 1) >> 8);
	m.b[3] = (uint8_t)(n - 1);
	CHECK(cl_radius_parse(m.b, n, &r) < 0);
	/* Below the header and above 4096. */
	m.b[2] = 0;
	m.b[3] = 19;
	CHECK_INT_EQ(cl_radius_parse(m.b, n, &r), CL_ERR_FORMAT);
	m.b[2] = 0x10;
	m.b[3] = 0x01;
	memset(m.b + 4, 0, sizeof(m.b) - 4);
	m.b[20] = 18;
	m.b[21] = 2;
	CHECK_INT_EQ(cl_radius_parse(m.b, 4097, &r), CL_ERR_FORMAT);
}

CL_TEST(max_length_message)
{
	struct msg m;
	struct cl_radius r;
	uint8_t filler[253];

	memset(filler, 'x', sizeof(filler));
	msg_start(&m, CL_RADIUS_ACCESS_ACCEPT);
	while (m.n + 255 <= 4096 - 40)
		msg_attr(&m, 18, filler, sizeof(filler));
	msg_attr(&m, 18, filler, 4096 - 6 - 2 - m.n);
	msg_str(&m, 1, "gina");
	msg_end(&m);
	CHECK_INT_EQ(m.n, 4096);
	CHECK_INT_EQ(cl_radius_parse(m.b, m.n, &r), 0);
	CHECK(span_is(r.user_name, "gina"));
}

CL_TEST(attribute_framing)
{
	struct msg m;
	struct cl_radius r;

	/* Attribute length 0 and 1 cannot hold their own header. */
	msg_start(&m, CL_RADIUS_ACCESS_ACCEPT);
	msg_str(&m, 1, "hank");
	m.b[m.n++] = 18;
	m.b[m.n++] = 0;
	msg_end(&m);
	CHECK_INT_EQ(cl_radius_parse(m.b, m.n, &r), CL_ERR_FORMAT);
	CHECK_INT_EQ(r.user_name.len, 0);
	m.b[m.n - 1] = 1;
	CHECK_INT_EQ(cl_radius_parse(m.b, m.n, &r), CL_ERR_FORMAT);
	/* Length 2 (empty value) of an uninterpreted type is fine. */
	m.b[m.n - 1] = 2;
	CHECK_INT_EQ(cl_radius_parse(m.b, m.n, &r), 0);
	/* An attribute running past the message. */
	m.b[m.n - 1] = 3;
	CHECK_INT_EQ(cl_radius_parse(m.b, m.n, &r), CL_ERR_FORMAT);
	CHECK_INT_EQ(r.user_name.len, 0);
	/* A lone type byte at the end. */
	m.n--;
	msg_end(&m);
	CHECK_INT_EQ(cl_radius_parse(m.b, m.n, &r), CL_ERR_FORMAT);
	CHECK_INT_EQ(r.user_name.len, 0);
	/* Message ends exactly at the header: no attributes. */
	msg_start(&m, CL_RADIUS_ACCESS_ACCEPT);
	msg_end(&m);
	CHECK_INT_EQ(cl_radius_parse(m.b, m.n, &r), 0);
}

/*
 * Exact malformed messages seen as X2 payloads: the parse fails as a
 * whole, so that nothing of them (an empty user name, a half-read
 * address) reaches an IRI.
 */
CL_TEST(malformed_x2_payloads)
{
	/* Access-Request, 30 octets, whose Length field says 1028. */
	static const uint8_t len1028[30] = {0x01, 0x07, 0x04, 0x04, 0xa0, 0xa1,
	    0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac,
	    0xad, 0xae, 0xaf, 0x01, 0x08, 'm', 'a', 'l', 'l', 'o', 'r', 0x00,
	    0x00};
	/* Accounting-Request of 32 octets: User-Name "mallory", then a
	 * User-Name whose length 200 runs past Length. */
	static const uint8_t attr_past[32] = {0x04, 0x07, 0x00, 0x20, 0xa0,
	    0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
	    0xac, 0xad, 0xae, 0xaf, 0x01, 0x09, 'm', 'a', 'l', 'l', 'o', 'r',
	    'y', 0x01, 0xc8, 'x'};
	/* The same, 30 octets, ending in a lone type octet. */
	static const uint8_t lone_type[30] = {0x04, 0x07, 0x00, 0x1e, 0xa0,
	    0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
	    0xac, 0xad, 0xae, 0xaf, 0x01, 0x09, 'm', 'a', 'l', 'l', 'o', 'r',
	    'y', 0x01};
	/* Access-Accept: Framed-IP-Address of length 1, then 4 octets. */
	static const uint8_t attr_len1[26] = {0x02, 0x07, 0x00, 0x1a, 0xa0,
	    0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
	    0xac, 0xad, 0xae, 0xaf, 0x08, 0x01, 100, 64, 1, 42};
	struct cl_radius r;

	CHECK(cl_radius_parse(len1028, sizeof(len1028), &r) != 0);
	CHECK_INT_EQ(r.user_name.len, 0);
	CHECK_INT_EQ(r.code, 0);
	CHECK_INT_EQ(
	    cl_radius_parse(attr_past, sizeof(attr_past), &r), CL_ERR_FORMAT);
	CHECK_INT_EQ(r.user_name.len, 0);
	CHECK_INT_EQ(
	    cl_radius_parse(lone_type, sizeof(lone_type), &r), CL_ERR_FORMAT);
	CHECK_INT_EQ(r.user_name.len, 0);
	CHECK_INT_EQ(
	    cl_radius_parse(attr_len1, sizeof(attr_len1), &r), CL_ERR_FORMAT);
	CHECK(!r.has_framed_ip);
}

CL_TEST(ports)
{
	CHECK(cl_radius_port(40000, 1812));
	CHECK(cl_radius_port(1813, 40000));
	CHECK(cl_radius_port(1645, 1645));
	CHECK(cl_radius_port(1646, 5));
	CHECK(!cl_radius_port(3799, 12345));
	CHECK(!cl_radius_port(53, 1814));
}

/* What came out of one capture: the binding of every RADIUS message. */
#define MAX_MSGS 64
struct seen {
	bool all_ports; /* parse every UDP payload, not just RADIUS ports */
	unsigned n, nok, nbind;
	unsigned frame[MAX_MSGS];
	int rc[MAX_MSGS];
	struct cl_radius m[MAX_MSGS];
	struct cl_binding b[MAX_MSGS];
	/* Copies, since the capture is unmapped when the walk ends. */
	char user[MAX_MSGS][64], sess[MAX_MSGS][64], csid[MAX_MSGS][64];
};

static void
copy_span(char *dst, struct cl_span s)
{
	size_t n = s.len < 63 ? s.len : 63;

	if (n > 0)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
}

static void
visit(unsigned frame, const struct cl_pkt *pkt, void *arg)
{
	struct seen *s = arg;
	unsigned i;

	if (!s->all_ports && !cl_radius_port(pkt->sport, pkt->dport))
		return;
	if (s->n == MAX_MSGS)
		cl_test_fail(__FILE__, __LINE__, "too many messages");
	i = s->n++;
	s->frame[i] = frame;
	s->rc[i] = cl_radius_parse(pkt->l4data, pkt->l4data_len, &s->m[i]);
	cl_radius_binding(&s->m[i], &s->b[i]);
	if (s->rc[i] == 0)
		s->nok++;
	else
		s->b[i].op = CL_BIND_NONE;
	if (s->b[i].op != CL_BIND_NONE)
		s->nbind++;
	copy_span(s->user[i], s->b[i].username);
	copy_span(s->sess[i], s->b[i].acct_session_id);
	copy_span(s->csid[i], s->b[i].calling_station_id);
	/* Spans must not outlive the walk. */
	memset(&s->m[i].user_name, 0, sizeof(s->m[i].user_name));
	memset(&s->m[i].acct_session_id, 0, sizeof(struct cl_span));
	memset(&s->m[i].calling_station_id, 0, sizeof(struct cl_span));
	memset(&s->b[i].username, 0, sizeof(struct cl_span));
	memset(&s->b[i].acct_session_id, 0, sizeof(struct cl_span));
	memset(&s->b[i].calling_station_id, 0, sizeof(struct cl_span));
}

static struct seen *
walk_radius(const char *rel, bool all_ports)
{
	static struct seen s;

	memset(&s, 0, sizeof(s));
	s.all_ports = all_ports;
	walk(rel, all_ports, visit, &s);
	return &s;
}

/* Index of the message in frame f. */
static unsigned
at_frame(const struct seen *s, unsigned f)
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		if (s->frame[i] == f)
			return i;
	cl_test_fail(__FILE__, __LINE__, "no RADIUS in frame %u", f);
}

/* Expected values below are from tshark 4.0 and pcaps/README.md. */

CL_TEST(cap_libtrace)
{
	struct seen *s = walk_radius("pcaps/radius/libtrace__radius.pcap", 0);
	unsigned i;

	CHECK_INT_EQ(s->n, 34);
	CHECK_INT_EQ(s->nok, 34);
	/* Access-Accept, frames 14 and 32: user test -> 10.1.40.34. */
	for (i = 0; i < 2; i++) {
		unsigned k = at_frame(s, i == 0 ? 14 : 32);

		CHECK_INT_EQ(s->m[k].code, 2);
		CHECK_INT_EQ(s->b[k].op, CL_BIND_START);
		CHECK_STR_EQ(s->user[k], "test");
		CHECK_INT_EQ(s->b[k].naddrs, 1);
		CHECK_STR_EQ(fmt_bind(&s->b[k].addrs[0]), "10.1.40.34/32");
	}
	/* Accounting Start / Stop / Start, no Framed-IP-Address. */
	i = at_frame(s, 15);
	CHECK_INT_EQ(s->b[i].op, CL_BIND_START);
	CHECK_INT_EQ(s->b[i].naddrs, 0);
	CHECK_STR_EQ(s->user[i], "test");
	CHECK_STR_EQ(s->sess[i], "451859ED-00000005");
	CHECK_STR_EQ(s->csid[i], "00-02-6F-21-EC-5F");
	i = at_frame(s, 17);
	CHECK_INT_EQ(s->b[i].op, CL_BIND_STOP);
	CHECK_INT_EQ(s->b[i].naddrs, 0);
	CHECK_STR_EQ(s->sess[i], "451859ED-00000005");
	i = at_frame(s, 33);
	CHECK_INT_EQ(s->b[i].op, CL_BIND_START);
	CHECK_STR_EQ(s->sess[i], "451859ED-00000006");
	/* The 12 Challenges carry the address too but bind nothing. */
	CHECK_INT_EQ(s->nbind, 5);
	CHECK_INT_EQ(s->m[at_frame(s, 2)].code, 11);
	CHECK(s->m[at_frame(s, 2)].has_framed_ip);
}

CL_TEST(cap_arkime_vlan)
{
	struct seen *s = walk_radius("pcaps/radius/arkime__radius.pcap", 0);
	unsigned i;

	CHECK_INT_EQ(s->n, 2);
	CHECK_INT_EQ(s->nok, 2);
	CHECK_INT_EQ(s->nbind, 1);
	i = at_frame(s, 1);
	CHECK_INT_EQ(s->m[i].acct_status, 3);
	CHECK_INT_EQ(s->b[i].op, CL_BIND_UPDATE);
	CHECK_STR_EQ(s->user[i], "xxxxxxxxx");
	CHECK_STR_EQ(s->sess[i], "xxxxxxxx985AEB898000-57361300");
	CHECK_STR_EQ(s->csid[i], "985AEB898000");
	CHECK_INT_EQ(s->b[i].naddrs, 1);
	CHECK_STR_EQ(fmt_bind(&s->b[i].addrs[0]), "10.0.0.3/32");
	CHECK_INT_EQ(s->m[at_frame(s, 2)].code, 5);
}

CL_TEST(cap_zeek_loopback)
{
	struct seen *s =
	    walk_radius("pcaps/radius/zeek__radius_localhost.pcap", 0);
	static const unsigned accepts[] = {8, 10, 12, 19};
	unsigned i, k;

	CHECK_INT_EQ(s->n, 19);
	CHECK_INT_EQ(s->nok, 19);
	CHECK_INT_EQ(s->nbind, 4);
	for (i = 0; i < 4; i++) {
		k = at_frame(s, accepts[i]);
		CHECK_INT_EQ(s->b[k].op, CL_BIND_START);
		CHECK_INT_EQ(s->b[k].naddrs, 1);
		CHECK_STR_EQ(fmt_bind(&s->b[k].addrs[0]), "172.16.3.33/32");
	}
	CHECK_STR_EQ(s->user[at_frame(s, 8)], "steve");
	/* The other Accepts have no User-Name. */
	CHECK_STR_EQ(s->user[at_frame(s, 10)], "");
}

CL_TEST(cap_nas_selects)
{
	struct seen *s = walk_radius("pcaps/radius/tcpdump__RADIUS.pcap", 0);
	unsigned i;

	CHECK_INT_EQ(s->n, 4);
	CHECK_INT_EQ(s->nok, 4);
	CHECK_INT_EQ(s->nbind, 1);
	i = at_frame(s, 4);
	CHECK_INT_EQ(s->m[i].code, 2);
	CHECK(s->m[i].has_framed_ip);
	CHECK_MEM_EQ(s->m[i].framed_ip, "\xff\xff\xff\xfe", 4);
	CHECK_INT_EQ(s->b[i].op, CL_BIND_START);
	CHECK_STR_EQ(s->user[i], "John.McGuirk");
	CHECK_INT_EQ(s->b[i].naddrs, 0);
}

CL_TEST(cap_rfc3162)
{
	struct seen *s =
	    walk_radius("pcaps/radius/tcpdump__RADIUS-RFC3162.pcap", 0);

	CHECK_INT_EQ(s->n, 1);
	CHECK_INT_EQ(s->rc[0], 0);
	/* An Access-Request: it asks, it does not assign. */
	CHECK_INT_EQ(s->m[0].code, 1);
	CHECK_INT_EQ(s->b[0].op, CL_BIND_NONE);
	CHECK(s->m[0].has_framed_prefix);
	CHECK_STR_EQ(
	    fmt_bind(&s->m[0].framed_prefix), "2001:db8:a0b:12f0::/64");
	/* AVP length 3, length 21, prefix-length over 128. */
	CHECK_INT_EQ(s->m[0].bad_attrs, 3);
}

CL_TEST(cap_no_binding)
{
	static const char *files[] = {
	    "pcaps/radius/tcpdump__RADIUS-RFC5176.pcap",
	    "pcaps/radius/tcpdump__radius_attr_asan.pcap",
	    "pcaps/radius/tcpdump__radius_rfc5447_invalid_length.pcap",
	    "pcaps/radius/pcapplusplus__radius_wrong.pcap",
	    "pcaps/radius/ndpi__radius_false_positive.pcapng",
	};
	struct seen *s;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		/* Every UDP payload, whatever its port. */
		s = walk_radius(files[i], 1);
		CHECK_INT_EQ(s->nbind, 0);
		if (i == 0) {
			CHECK_INT_EQ(s->n, 6);
			CHECK_INT_EQ(s->nok, 6);
			CHECK_INT_EQ(s->m[0].code, 40);
			CHECK_INT_EQ(s->m[5].code, 45);
		}
		if (i == 1 || i == 2 || i == 3)
			CHECK_INT_EQ(s->n, 1);
		if (i == 2)
			CHECK_INT_EQ(s->m[0].code, 0); /* rejected */
		if (i == 4)
			CHECK_INT_EQ(s->n, 10);
	}
}

static int
parse_once(void *arg)
{
	const struct msg *m = arg;
	struct cl_radius rad;
	int r;

	if ((r = cl_radius_parse(m->b, m->n, &rad)) != 0)
		return r;
	return rad.code == 2 && rad.id == 0x42 ? 0 : CL_ERR_INTERNAL;
}

/* With each allocation failing in turn (it makes none), the parse is the
 * same. */
CL_TEST(alloc_failures)
{
	struct msg m;

	full_accept(&m);
	CHECK_INT_EQ(cl_test_alloc_loop("cl_radius_parse", parse_once, &m), 1);
}

int
main(void)
{
	CL_RUN(accept_binds_everything);
	CL_RUN(accounting_status_gives_op);
	CL_RUN(other_codes_bind_nothing);
	CL_RUN(special_v4_never_bound);
	CL_RUN(prefix_values);
	CL_RUN(zero_prefix_not_bound);
	CL_RUN(bad_values_ignored_and_counted);
	CL_RUN(first_prefix_kept);
	CL_RUN(truncated_at_every_length);
	CL_RUN(length_field_checked);
	CL_RUN(max_length_message);
	CL_RUN(attribute_framing);
	CL_RUN(malformed_x2_payloads);
	CL_RUN(ports);
	CL_RUN(cap_libtrace);
	CL_RUN(cap_arkime_vlan);
	CL_RUN(cap_zeek_loopback);
	CL_RUN(cap_nas_selects);
	CL_RUN(cap_rfc3162);
	CL_RUN(cap_no_binding);
	CL_RUN(alloc_failures);
	return cl_test_done();
}
