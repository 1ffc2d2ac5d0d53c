/* SPDX-License-Identifier: ISC */
#include <stdlib.h>

#include "err.h"
#include "harness.h"
#include "udpwalk.h"
#include "capfile.h"
#include "decode.h"
#include "proto/dhcp.h"
#include "reasm.h"
#include "util.h"

/* A DHCP message under construction. */
struct msg {
	uint8_t b[1024];
	size_t n;
};

static const uint8_t mac1[6] = {0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42};

/* BOOTP header (op, Ethernet chaddr, xid), magic cookie, option 53. */
static void
msg_start(struct msg *m, uint8_t op, uint8_t type)
{
	memset(m, 0, sizeof(*m));
	m->b[0] = op;
	m->b[1] = 1; /* Ethernet */
	m->b[2] = 6;
	cl_store_u32(m->b + 4, 0x00003d1e);
	memcpy(m->b + 28, mac1, 6);
	cl_store_u32(m->b + 236, 0x63825363);
	m->n = 240;
	if (type != 0) {
		m->b[m->n++] = 53;
		m->b[m->n++] = 1;
		m->b[m->n++] = type;
	}
}

static void
msg_opt(struct msg *m, uint8_t code, const void *v, size_t len)
{
	m->b[m->n++] = code;
	m->b[m->n++] = (uint8_t)len;
	memcpy(m->b + m->n, v, len);
	m->n += len;
}

static void
msg_end(struct msg *m)
{
	m->b[m->n++] = 255;
}

static void
set_ip(struct msg *m, size_t off, uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	m->b[off] = a;
	m->b[off + 1] = b;
	m->b[off + 2] = c;
	m->b[off + 3] = d;
}

#define CIADDR 12
#define YIADDR 16

static const char *
fmt_bind(const struct cl_bind_addr *a)
{
	static char buf[CL_ADDR_STRLEN + 8];
	char ab[CL_ADDR_STRLEN];

	cl_format_addr(&a->addr, ab, sizeof(ab));
	snprintf(buf, sizeof(buf), "%s/%u", ab, a->plen);
	return buf;
}

/* An ACK with a lease time, client id and hostname. */
static void
full_ack(struct msg *m)
{
	static const uint8_t cid[7] = {1, 0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42};
	static const uint8_t lease[4] = {0, 0, 0x0e, 0x10};

	msg_start(m, 2, CL_DHCP_ACK);
	set_ip(m, YIADDR, 192, 168, 0, 10);
	set_ip(m, 20, 192, 168, 0, 1); /* siaddr */
	m->b[m->n++] = 0;              /* a Pad option */
	msg_opt(m, 51, lease, 4);
	msg_opt(m, 61, cid, sizeof(cid));
	msg_opt(m, 12, "host", 4);
	msg_opt(m, 82, "\1\4abcd", 6); /* relay agent info: skipped */
	msg_end(m);
}

CL_TEST(ack_binds)
{
	struct msg m;
	struct cl_dhcp d;
	struct cl_binding b;

	full_ack(&m);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.op, 2);
	CHECK_INT_EQ(d.msgtype, CL_DHCP_ACK);
	CHECK_INT_EQ(d.xid, 0x3d1e);
	CHECK(d.has_mac);
	CHECK_MEM_EQ(d.mac, mac1, 6);
	CHECK_INT_EQ(d.lease_time, 3600);
	CHECK_INT_EQ(d.client_id.len, 7);
	CHECK_INT_EQ(d.client_id.p[0], 1);
	CHECK_INT_EQ(d.hostname.len, 4);
	CHECK_MEM_EQ(d.hostname.p, "host", 4);
	CHECK_MEM_EQ(d.siaddr, ((uint8_t[]){192, 168, 0, 1}), 4);
	CHECK(!d.has_requested_ip);

	cl_dhcp_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_START);
	CHECK_INT_EQ(b.src, CL_SRC_DHCP);
	CHECK(b.has_mac);
	CHECK_MEM_EQ(b.mac, mac1, 6);
	CHECK(b.client_id.p == d.client_id.p && b.client_id.len == 7);
	CHECK_INT_EQ(b.naddrs, 1);
	CHECK_STR_EQ(fmt_bind(&b.addrs[0]), "192.168.0.10/32");
	CHECK_INT_EQ(b.lifetime, 3600);
	CHECK_INT_EQ(b.username.len, 0);
}

CL_TEST(infinite_lease_has_no_expiry)
{
	struct msg m;
	struct cl_dhcp d;
	struct cl_binding b;

	msg_start(&m, 2, CL_DHCP_ACK);
	set_ip(&m, YIADDR, 10, 0, 0, 5);
	msg_opt(&m, 51, "\xff\xff\xff\xff", 4);
	msg_end(&m);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), 0);
	CHECK(d.lease_time == UINT32_MAX);
	cl_dhcp_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_START);
	CHECK_INT_EQ(b.lifetime, 0);
	CHECK_INT_EQ(b.client_id.len, 0);
}

/* Binding op of a message; *addr gets the first bound address. */
static enum cl_bind_op
op_of(const struct msg *m, char *addr, size_t addrlen)
{
	struct cl_dhcp d;
	struct cl_binding b;

	if (cl_dhcp_parse(m->b, m->n, &d) != 0)
		cl_test_fail(__FILE__, __LINE__, "parse failed");
	cl_dhcp_binding(&d, &b);
	snprintf(
	    addr, addrlen, "%s", b.naddrs > 0 ? fmt_bind(&b.addrs[0]) : "");
	if (b.op == CL_BIND_NONE && b.naddrs != 0)
		cl_test_fail(__FILE__, __LINE__, "NONE with addresses");
	return b.op;
}

CL_TEST(binding_rules)
{
	static const uint8_t types[] = {CL_DHCP_DISCOVER, CL_DHCP_OFFER,
	    CL_DHCP_REQUEST, CL_DHCP_NAK, CL_DHCP_INFORM, 9, 13, 0};
	struct msg m;
	char a[64];
	size_t i;

	/* Only ACK, RELEASE and DECLINE bind or unbind, whatever the
	 * addresses. */
	for (i = 0; i < sizeof(types); i++) {
		msg_start(&m, types[i] == CL_DHCP_OFFER ? 2 : 1, types[i]);
		set_ip(&m, YIADDR, 10, 1, 1, 1);
		set_ip(&m, CIADDR, 10, 1, 1, 2);
		msg_opt(&m, 50, "\12\1\1\3", 4);
		msg_end(&m);
		CHECK_INT_EQ(op_of(&m, a, sizeof(a)), CL_BIND_NONE);
	}

	/* ACK: yiaddr must be set and usable, op must be BOOTREPLY. */
	msg_start(&m, 2, CL_DHCP_ACK);
	msg_end(&m);
	CHECK_INT_EQ(op_of(&m, a, sizeof(a)), CL_BIND_NONE); /* INFORM ack */
	set_ip(&m, YIADDR, 255, 255, 255, 255);
	CHECK_INT_EQ(op_of(&m, a, sizeof(a)), CL_BIND_NONE);
	set_ip(&m, YIADDR, 10, 2, 3, 4);
	CHECK_INT_EQ(op_of(&m, a, sizeof(a)), CL_BIND_START);
	CHECK_STR_EQ(a, "10.2.3.4/32");
	m.b[0] = 1;
	CHECK_INT_EQ(op_of(&m, a, sizeof(a)), CL_BIND_NONE);

	/* RELEASE unbinds ciaddr. */
	msg_start(&m, 1, CL_DHCP_RELEASE);
	set_ip(&m, YIADDR, 10, 9, 9, 9);
	msg_opt(&m, 50, "\12\1\1\3", 4);
	msg_end(&m);
	CHECK_INT_EQ(op_of(&m, a, sizeof(a)), CL_BIND_NONE); /* ciaddr 0 */
	set_ip(&m, CIADDR, 10, 1, 1, 2);
	CHECK_INT_EQ(op_of(&m, a, sizeof(a)), CL_BIND_STOP);
	CHECK_STR_EQ(a, "10.1.1.2/32");
	m.b[0] = 2;
	CHECK_INT_EQ(op_of(&m, a, sizeof(a)), CL_BIND_NONE);

	/* DECLINE unbinds the requested address. */
	msg_start(&m, 1, CL_DHCP_DECLINE);
	set_ip(&m, CIADDR, 10, 1, 1, 2);
	msg_end(&m);
	CHECK_INT_EQ(op_of(&m, a, sizeof(a)), CL_BIND_NONE); /* no opt 50 */
	msg_start(&m, 1, CL_DHCP_DECLINE);
	msg_opt(&m, 50, "\12\1\1\3", 4);
	msg_end(&m);
	CHECK_INT_EQ(op_of(&m, a, sizeof(a)), CL_BIND_STOP);
	CHECK_STR_EQ(a, "10.1.1.3/32");
}

CL_TEST(plain_bootp)
{
	struct msg m;
	struct cl_dhcp d;
	struct cl_binding b;

	/* No cookie: the vendor area is not parsed, even if it would
	 * not parse as options. */
	msg_start(&m, 2, CL_DHCP_ACK);
	set_ip(&m, YIADDR, 10, 0, 0, 1);
	m.b[236] = 99;
	m.b[237] = 130;
	m.b[238] = 83;
	m.b[239] = 98;
	m.b[m.n++] = 51;
	m.b[m.n++] = 200;
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.msgtype, 0);
	CHECK(d.has_mac);
	cl_dhcp_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_NONE);
	/* Exactly the fixed header, and 1..3 bytes of a cookie. */
	CHECK_INT_EQ(cl_dhcp_parse(m.b, 236, &d), 0);
	CHECK_INT_EQ(d.msgtype, 0);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, 239, &d), 0);
	CHECK_INT_EQ(d.msgtype, 0);
}

CL_TEST(header_checks)
{
	struct msg m;
	struct cl_dhcp d;

	full_ack(&m);
	m.b[0] = 3;
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	m.b[0] = 0;
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	m.b[0] = 2;
	m.b[2] = 17; /* hlen past chaddr */
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	CHECK_INT_EQ(d.msgtype, 0);
	/* Not Ethernet: no MAC, but the message parses. */
	m.b[2] = 16;
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), 0);
	CHECK(!d.has_mac);
	m.b[1] = 6; /* IEEE 802 */
	m.b[2] = 6;
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), 0);
	CHECK(!d.has_mac);
}

CL_TEST(truncated_at_every_length)
{
	struct msg m;
	struct cl_dhcp d;
	size_t i;
	int rc;

	full_ack(&m);
	for (i = 0; i < m.n; i++) {
		memset(&d, 0xa5, sizeof(d));
		rc = cl_dhcp_parse(m.b, i, &d);
		if (i >= 236 && i < 240) {
			/* Cut inside the cookie: plain BOOTP. */
			CHECK_INT_EQ(rc, 0);
			CHECK_INT_EQ(d.msgtype, 0);
			CHECK_INT_EQ(d.lease_time, 0);
			continue;
		}
		CHECK(rc < 0);
		CHECK_INT_EQ(d.msgtype, 0);
		CHECK_INT_EQ(d.client_id.len, 0);
		CHECK(!d.has_mac);
	}
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), 0);
	CHECK(cl_dhcp_parse(NULL, 0, &d) < 0);
}

CL_TEST(option_framing)
{
	struct msg m;
	struct cl_dhcp d;

	/* Padding after End is ignored. */
	full_ack(&m);
	memset(m.b + m.n, 0, 20);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n + 20, &d), 0);
	CHECK_INT_EQ(d.msgtype, CL_DHCP_ACK);

	/* No End option. */
	full_ack(&m);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n - 1, &d), CL_ERR_TRUNCATED);
	/* Only pads, no End. */
	msg_start(&m, 2, 0);
	memset(m.b + m.n, 0, 10);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n + 10, &d), CL_ERR_TRUNCATED);
	/* Cookie then End: a DHCP message with no type. */
	msg_start(&m, 2, 0);
	msg_end(&m);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.msgtype, 0);

	/* Option length running past the message. */
	msg_start(&m, 2, CL_DHCP_ACK);
	m.b[m.n++] = 12;
	m.b[m.n++] = 10;
	memcpy(m.b + m.n, "abc", 3);
	m.n += 3;
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), CL_ERR_TRUNCATED);
	/* Length byte missing. */
	msg_start(&m, 2, CL_DHCP_ACK);
	m.b[m.n++] = 12;
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), CL_ERR_TRUNCATED);
	/* Option swallowing the End byte. */
	msg_start(&m, 2, CL_DHCP_ACK);
	m.b[m.n++] = 12;
	m.b[m.n++] = 2;
	m.b[m.n++] = 'a';
	msg_end(&m);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), CL_ERR_TRUNCATED);
}

/* Parses cookie + option 53 ACK + the given option + End. */
static int
with_option(uint8_t code, const void *v, size_t len, struct cl_dhcp *d)
{
	struct msg m;

	msg_start(&m, 2, CL_DHCP_ACK);
	msg_opt(&m, code, v, len);
	msg_end(&m);
	return cl_dhcp_parse(m.b, m.n, d);
}

CL_TEST(option_values)
{
	struct cl_dhcp d;
	struct msg m;

	CHECK_INT_EQ(with_option(50, "\1\2\3", 3, &d), CL_ERR_FORMAT);
	CHECK_INT_EQ(with_option(50, "\1\2\3\4\5", 5, &d), CL_ERR_FORMAT);
	CHECK_INT_EQ(with_option(50, "\1\2\3\4", 4, &d), 0);
	CHECK(d.has_requested_ip);
	CHECK_MEM_EQ(d.requested_ip, "\1\2\3\4", 4);
	CHECK_INT_EQ(with_option(51, "\1\2\3", 3, &d), CL_ERR_FORMAT);
	CHECK_INT_EQ(with_option(52, "\4", 1, &d), CL_ERR_FORMAT);
	CHECK_INT_EQ(with_option(52, "\0", 1, &d), CL_ERR_FORMAT);
	CHECK_INT_EQ(with_option(52, "\1\1", 2, &d), CL_ERR_FORMAT);
	CHECK_INT_EQ(with_option(61, "\1", 1, &d), CL_ERR_FORMAT);
	CHECK_INT_EQ(with_option(61, "\0x", 2, &d), 0);
	CHECK_INT_EQ(d.client_id.len, 2);
	CHECK_INT_EQ(with_option(12, "", 0, &d), CL_ERR_FORMAT);
	/* Duplicates of interpreted options: the message is ambiguous. */
	CHECK_INT_EQ(with_option(53, "\5", 1, &d), CL_ERR_FORMAT);
	msg_start(&m, 2, CL_DHCP_ACK);
	msg_opt(&m, 61, "\1abcdef", 7);
	msg_opt(&m, 61, "\1ghijkl", 7);
	msg_end(&m);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	msg_start(&m, 2, 0);
	msg_opt(&m, 53, "", 0);
	msg_end(&m);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	msg_start(&m, 2, 0);
	msg_opt(&m, 53, "\0", 1);
	msg_end(&m);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	/* An uninterpreted option may repeat and be empty. */
	msg_start(&m, 2, CL_DHCP_ACK);
	msg_opt(&m, 82, "", 0);
	msg_opt(&m, 82, "x", 1);
	msg_end(&m);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), 0);
}

/* An ACK whose options continue in file (1), sname (2) or both (3). */
static void
overload_ack(struct msg *m, uint8_t which)
{
	msg_start(m, 2, CL_DHCP_ACK);
	set_ip(m, YIADDR, 10, 100, 0, 50);
	msg_opt(m, 52, &which, 1);
	msg_end(m);
	if (which & 1) {                                     /* file at 108 */
		memcpy(m->b + 108, "\63\4\0\0\1\54\377", 7); /* lease 300 */
	}
	if (which & 2) {                              /* sname at 44 */
		memcpy(m->b + 44, "\14\3abc\377", 6); /* hostname */
	}
}

CL_TEST(overload)
{
	struct msg m;
	struct cl_dhcp d;
	struct cl_binding b;

	overload_ack(&m, 3);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.lease_time, 300);
	CHECK_INT_EQ(d.hostname.len, 3);
	CHECK(d.hostname.p == m.b + 46);
	cl_dhcp_binding(&d, &b);
	CHECK_INT_EQ(b.op, CL_BIND_START);
	CHECK_INT_EQ(b.lifetime, 300);

	overload_ack(&m, 1);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.lease_time, 300);
	CHECK_INT_EQ(d.hostname.len, 0);
	overload_ack(&m, 2);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.lease_time, 0);
	CHECK_INT_EQ(d.hostname.len, 3);

	/* Without option 52 the fields are not options. */
	overload_ack(&m, 3);
	memset(m.b + 243, 0, 3); /* option 52 becomes three Pads */
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.lease_time, 0);
	CHECK_INT_EQ(d.hostname.len, 0);

	/* The overloaded field must end with End. */
	overload_ack(&m, 2);
	m.b[44 + 5] = 0;
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), CL_ERR_TRUNCATED);
	/* An option in sname may not run past sname into file. */
	overload_ack(&m, 2);
	memset(m.b + 44, 0, 64);
	m.b[44 + 60] = 12;
	m.b[44 + 61] = 10;
	memset(m.b + 108, 255, 128);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), CL_ERR_TRUNCATED);
	/* Option 52 inside an overloaded field. */
	overload_ack(&m, 1);
	memcpy(m.b + 108, "\64\1\2\377", 4);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	/* A duplicate across areas is still a duplicate. */
	overload_ack(&m, 1);
	memcpy(m.b + 108, "\65\1\5\377", 4);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), CL_ERR_FORMAT);
	/* Message type only in file is fine. */
	overload_ack(&m, 1);
	m.b[240] = 0;
	m.b[241] = 0;
	m.b[242] = 0;
	memcpy(m.b + 108, "\65\1\7\377", 4);
	CHECK_INT_EQ(cl_dhcp_parse(m.b, m.n, &d), 0);
	CHECK_INT_EQ(d.msgtype, CL_DHCP_RELEASE);
}

CL_TEST(ports)
{
	CHECK(cl_dhcp_port(68, 67));
	CHECK(cl_dhcp_port(67, 68));
	CHECK(cl_dhcp_port(67, 67));
	CHECK(!cl_dhcp_port(68, 68));
	CHECK(!cl_dhcp_port(546, 547));
}

/* What came out of one capture, copied out of the mapped file. */
#define MAX_MSGS 32
struct seen {
	bool all_ports;
	unsigned n, nok, nbind;
	unsigned frame[MAX_MSGS];
	int rc[MAX_MSGS];
	uint8_t msgtype[MAX_MSGS];
	uint32_t xid[MAX_MSGS];
	char host[MAX_MSGS][64];
	size_t cidlen[MAX_MSGS];
	uint8_t cid[MAX_MSGS][64];
	bool has_req[MAX_MSGS];
	uint8_t req[MAX_MSGS][4];
	struct cl_binding b[MAX_MSGS];
};

static void
visit(unsigned frame, const struct cl_pkt *pkt, void *arg)
{
	struct seen *s = arg;
	struct cl_dhcp d;
	size_t n;
	unsigned i;

	if (!s->all_ports && !cl_dhcp_port(pkt->sport, pkt->dport))
		return;
	if (s->n == MAX_MSGS)
		cl_test_fail(__FILE__, __LINE__, "too many messages");
	i = s->n++;
	s->frame[i] = frame;
	s->rc[i] = cl_dhcp_parse(pkt->l4data, pkt->l4data_len, &d);
	cl_dhcp_binding(&d, &s->b[i]);
	if (s->rc[i] == 0)
		s->nok++;
	else
		s->b[i].op = CL_BIND_NONE;
	if (s->b[i].op != CL_BIND_NONE)
		s->nbind++;
	s->msgtype[i] = d.msgtype;
	s->xid[i] = d.xid;
	n = d.hostname.len < 63 ? d.hostname.len : 63;
	if (n > 0)
		memcpy(s->host[i], d.hostname.p, n);
	s->host[i][n] = '\0';
	s->cidlen[i] = d.client_id.len < 64 ? d.client_id.len : 64;
	if (s->cidlen[i] > 0)
		memcpy(s->cid[i], d.client_id.p, s->cidlen[i]);
	s->has_req[i] = d.has_requested_ip;
	memcpy(s->req[i], d.requested_ip, 4);
	memset(&s->b[i].client_id, 0, sizeof(struct cl_span));
}

static struct seen *
walk_dhcp(const char *rel, bool all_ports)
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
	cl_test_fail(__FILE__, __LINE__, "no DHCP in frame %u", f);
}

static const char *
fmt_mac(const uint8_t mac[6])
{
	static char buf[18];

	cl_format_mac(mac, buf);
	return buf;
}

/* Checks that message i is an ACK binding mac -> addr for life seconds. */
static void
check_ack(const struct seen *s, unsigned i, const char *mac, const char *addr,
    uint32_t life)
{
	CHECK_INT_EQ(s->rc[i], 0);
	CHECK_INT_EQ(s->msgtype[i], CL_DHCP_ACK);
	CHECK_INT_EQ(s->b[i].op, CL_BIND_START);
	CHECK(s->b[i].has_mac);
	CHECK_STR_EQ(fmt_mac(s->b[i].mac), mac);
	CHECK_INT_EQ(s->b[i].naddrs, 1);
	CHECK_STR_EQ(fmt_bind(&s->b[i].addrs[0]), addr);
	CHECK_INT_EQ(s->b[i].lifetime, life);
}

/* Expected values below are from tshark 4.0 and pcaps/README.md. */

CL_TEST(cap_wireshark_dora)
{
	struct seen *s = walk_dhcp("pcaps/dhcp/arkime__wireshark-dhcp.pcap", 0);
	static const uint8_t types[] = {1, 2, 3, 5};
	static const uint8_t cid[] = {1, 0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42};
	unsigned i;

	CHECK_INT_EQ(s->n, 4);
	CHECK_INT_EQ(s->nok, 4);
	for (i = 0; i < 4; i++)
		CHECK_INT_EQ(s->msgtype[i], types[i]);
	CHECK_INT_EQ(s->nbind, 1);
	check_ack(s, 3, "00:0b:82:01:fc:42", "192.168.0.10/32", 3600);
	CHECK_INT_EQ(s->xid[3], 0x3d1e);
	/* REQUEST: client-id type 1 + MAC, requested 192.168.0.10. */
	CHECK_INT_EQ(s->cidlen[2], sizeof(cid));
	CHECK_MEM_EQ(s->cid[2], cid, sizeof(cid));
	CHECK(s->has_req[2]);
	CHECK_MEM_EQ(s->req[2], "\xc0\xa8\x00\x0a", 4);
}

CL_TEST(cap_rfc3004)
{
	struct seen *s = walk_dhcp("pcaps/dhcp/tcpdump__dhcp-rfc3004.pcap", 0);

	CHECK_INT_EQ(s->n, 4);
	CHECK_INT_EQ(s->nok, 4);
	CHECK_INT_EQ(s->nbind, 1);
	check_ack(
	    s, at_frame(s, 4), "00:0c:29:1f:74:06", "192.168.1.4/32", 86400);
	CHECK_INT_EQ(s->xid[0], 0x06e32864);
}

CL_TEST(cap_zeek_nak_decline_release)
{
	struct seen *s = walk_dhcp("pcaps/dhcp/zeek__dhcp.pcap", 0);
	static const uint8_t types[] = {1, 2, 3, 6, 3, 5, 4, 7, 8};
	unsigned i;

	CHECK_INT_EQ(s->n, 9);
	CHECK_INT_EQ(s->nok, 9);
	for (i = 0; i < 9; i++)
		CHECK_INT_EQ(s->msgtype[i], types[i]);
	CHECK_STR_EQ(s->host[0], "btest.is.cool");
	CHECK(s->has_req[0]);
	CHECK_MEM_EQ(s->req[0], "\xc0\xa8\xd3\xc2", 4); /* .211.194 */
	/* The NAK for 192.168.211.194 binds nothing. */
	CHECK_INT_EQ(s->b[3].op, CL_BIND_NONE);
	check_ack(s, 5, "90:b1:1c:99:49:29", "128.2.6.189/32", 900);
	/*
	 * tshark: the DECLINE has no requested address (option 50) and the
	 * RELEASE has ciaddr 0.0.0.0, so neither names an address to unbind.
	 */
	CHECK(!s->has_req[6]);
	CHECK_INT_EQ(s->b[6].op, CL_BIND_NONE);
	CHECK_INT_EQ(s->b[7].op, CL_BIND_NONE);
	CHECK_INT_EQ(s->xid[7], 0x79c);
	CHECK_INT_EQ(s->b[8].op, CL_BIND_NONE); /* INFORM */
	CHECK_INT_EQ(s->nbind, 1);
}

CL_TEST(cap_overload)
{
	struct seen *s = walk_dhcp(
	    "pcaps/dhcp/suricata-verify__dhcp-option-52-overload.pcap", 0);
	static const uint8_t types[] = {1, 1, 2, 2, 3, 3, 5, 5};
	unsigned i;

	CHECK_INT_EQ(s->n, 8);
	CHECK_INT_EQ(s->nok, 8);
	for (i = 0; i < 8; i++)
		CHECK_INT_EQ(s->msgtype[i], types[i]);
	CHECK_INT_EQ(s->nbind, 2);
	/* Frame 7 uses option 52 (sname). */
	check_ack(
	    s, at_frame(s, 7), "92:dd:a4:8d:5f:de", "10.100.0.50/32", 300);
	check_ack(
	    s, at_frame(s, 8), "92:dd:a4:8d:5f:de", "10.100.0.50/32", 300);
	CHECK_INT_EQ(s->xid[0], 0x24593b3e);
}

CL_TEST(cap_agent_remote_id)
{
	struct seen *s = walk_dhcp(
	    "pcaps/dhcp/zeek__dhcp_ack_subscriber_id_and_agent_remote_id.pcap",
	    0);

	CHECK_INT_EQ(s->n, 1);
	CHECK_INT_EQ(s->nbind, 1);
	check_ack(s, 0, "00:0a:28:00:fa:42", "192.168.0.10/32", 3600);
	CHECK_INT_EQ(s->xid[0], 0x3d11);
}

CL_TEST(cap_offer_only)
{
	struct seen *s =
	    walk_dhcp("pcaps/dhcp/tcpdump__dhcp-option-108.pcapng", 0);

	CHECK_INT_EQ(s->n, 2);
	CHECK_INT_EQ(s->nok, 2);
	CHECK_INT_EQ(s->msgtype[0], CL_DHCP_DISCOVER);
	CHECK_INT_EQ(s->msgtype[1], CL_DHCP_OFFER);
	CHECK_STR_EQ(s->host[0], "MacBookPro");
	CHECK_STR_EQ(s->host[1], "macbookpro");
	CHECK_INT_EQ(s->nbind, 0);
}

CL_TEST(cap_v4v6)
{
	struct seen *s =
	    walk_dhcp("pcaps/dhcp/tcpdump__dhcpv4v6-rfc5970-rfc8572.pcap", 0);

	CHECK_INT_EQ(s->n, 4);
	CHECK_INT_EQ(s->nok, 4);
	CHECK_INT_EQ(s->nbind, 1);
	check_ack(
	    s, at_frame(s, 9), "00:00:44:01:00:00", "10.10.0.4/32", 28800);
}

CL_TEST(cap_bad_cookie)
{
	struct seen *s = walk_dhcp(
	    "pcaps/dhcp/zeek__dhcp_bad_cookie_option_retention.pcap", 0);
	static const uint8_t types[] = {1, 0, 0, 0, 1};
	unsigned i;

	/* A bad cookie makes plain BOOTP: no options, none retained. */
	CHECK_INT_EQ(s->n, 5);
	CHECK_INT_EQ(s->nok, 5);
	for (i = 0; i < 5; i++)
		CHECK_INT_EQ(s->msgtype[i], types[i]);
	CHECK_INT_EQ(s->xid[2], 0x2001);
	CHECK_INT_EQ(s->nbind, 0);
}

CL_TEST(cap_asan_survived)
{
	static const char *files[] = {
	    "pcaps/dhcp/tcpdump__bootp_asan.pcap",
	    "pcaps/dhcp/tcpdump__dhcp6_reconf_asan.pcap",
	    "pcaps/dhcp/arkime__wireshark-dhcpv6.pcap",
	    "pcaps/dhcp/pcapplusplus__dhcpv6.pcap",
	};
	struct seen *s;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		s = walk_dhcp(files[i], 1);
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
	struct cl_dhcp d;
	int r;

	if ((r = cl_dhcp_parse(m->b, m->n, &d)) != 0)
		return r;
	return d.xid == 0x3d1e && d.lease_time == 3600 ? 0 : CL_ERR_INTERNAL;
}

/* With each allocation failing in turn (it makes none), the parse is the
 * same. */
CL_TEST(alloc_failures)
{
	struct msg m;

	full_ack(&m);
	CHECK_INT_EQ(cl_test_alloc_loop("cl_dhcp_parse", parse_once, &m), 1);
}

int
main(void)
{
	CL_RUN(ack_binds);
	CL_RUN(infinite_lease_has_no_expiry);
	CL_RUN(binding_rules);
	CL_RUN(plain_bootp);
	CL_RUN(header_checks);
	CL_RUN(truncated_at_every_length);
	CL_RUN(option_framing);
	CL_RUN(option_values);
	CL_RUN(overload);
	CL_RUN(ports);
	CL_RUN(cap_wireshark_dora);
	CL_RUN(cap_rfc3004);
	CL_RUN(cap_zeek_nak_decline_release);
	CL_RUN(cap_overload);
	CL_RUN(cap_agent_remote_id);
	CL_RUN(cap_offer_only);
	CL_RUN(cap_v4v6);
	CL_RUN(cap_bad_cookie);
	CL_RUN(cap_asan_survived);
	CL_RUN(alloc_failures);
	return cl_test_done();
}
