/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "err.h"
#include "harness.h"
#include "net.h"
#include "util.h"

CL_TEST(parse_u64_canonical_only)
{
	uint64_t v = 7;

	CHECK_INT_EQ(cl_parse_u64("0", 0, 10, &v), 0);
	CHECK_INT_EQ(v, 0);
	CHECK_INT_EQ(
	    cl_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	CHECK(v == UINT64_MAX);
	CHECK_INT_EQ(cl_parse_u64("18446744073709551616", 0, UINT64_MAX, &v),
	    CL_ERR_RANGE);
	CHECK_INT_EQ(cl_parse_u64("01", 0, 10, &v), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_parse_u64("+1", 0, 10, &v), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_parse_u64(" 1", 0, 10, &v), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_parse_u64("1 ", 0, 10, &v), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_parse_u64("", 0, 10, &v), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_parse_u64("11", 0, 10, &v), CL_ERR_RANGE);
	CHECK_INT_EQ(cl_parse_u64("4", 5, 10, &v), CL_ERR_RANGE);
	CHECK(v == UINT64_MAX); /* untouched by failures */
}

CL_TEST(uuid_roundtrip)
{
	uint8_t u[16];
	char s[37];

	CHECK_INT_EQ(
	    cl_parse_uuid("8C292FA1-5831-46ec-86be-bd85f2083299", u), 0);
	cl_format_uuid(u, s);
	CHECK_STR_EQ(s, "8c292fa1-5831-46ec-86be-bd85f2083299");
	CHECK(cl_parse_uuid("8c292fa1583146ec86bebd85f2083299", u) != 0);
	CHECK(cl_parse_uuid("8c292fa1-5831-46ec-86be-bd85f208329g", u) != 0);
	CHECK(cl_parse_uuid("8c292fa1-5831-46ec-86be_bd85f2083299", u) != 0);
}

CL_TEST(prefix_rules)
{
	struct cl_addr a;
	unsigned plen;
	char buf[CL_ADDR_STRLEN];

	CHECK_INT_EQ(cl_parse_prefix("10.0.0.0/8", &a, &plen), 0);
	CHECK_INT_EQ(a.family, 4);
	CHECK_INT_EQ(plen, 8);
	CHECK_INT_EQ(cl_parse_prefix("10.0.0.1", &a, &plen), 0);
	CHECK_INT_EQ(plen, 32);
	CHECK_INT_EQ(cl_parse_prefix("10.0.0.1/8", &a, &plen), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_parse_prefix("10.0.0.0/33", &a, &plen), CL_ERR_RANGE);
	CHECK_INT_EQ(cl_parse_prefix("10.0.0.0/08", &a, &plen), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_parse_prefix("2a00:1:1:100::/56", &a, &plen), 0);
	CHECK_INT_EQ(a.family, 6);
	CHECK_INT_EQ(plen, 56);
	CHECK_STR_EQ(cl_format_addr(&a, buf, sizeof(buf)), "2a00:1:1:100::");
	CHECK(cl_parse_prefix("2a00::/129", &a, &plen) != 0);
	CHECK(cl_parse_prefix("host.example", &a, &plen) != 0);
}

CL_TEST(mac_hex_time)
{
	uint8_t m[6], h[4];
	char s[18];
	size_t n;
	int64_t t;
	char ts[21];

	CHECK_INT_EQ(cl_parse_mac("90:B1:1c:99:49:29", m), 0);
	cl_format_mac(m, s);
	CHECK_STR_EQ(s, "90:b1:1c:99:49:29");
	CHECK(cl_parse_mac("90-b1-1c-99-49-29", m) != 0);
	CHECK(cl_parse_mac("90:b1:1c:99:49", m) != 0);
	CHECK_INT_EQ(cl_parse_hex("00010203", h, sizeof(h), &n), 0);
	CHECK_INT_EQ(n, 4);
	CHECK_INT_EQ(
	    cl_parse_hex("0001020304", h, sizeof(h), &n), CL_ERR_TOOBIG);
	CHECK_INT_EQ(cl_parse_hex("0", h, sizeof(h), &n), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_parse_time("2026-11-22T23:33:08Z", &t), 0);
	cl_format_time(t, ts);
	CHECK_STR_EQ(ts, "2026-11-22T23:33:08Z");
	CHECK_INT_EQ(cl_parse_time("2026-02-29T00:00:00Z", &t), CL_ERR_RANGE);
	CHECK_INT_EQ(cl_parse_time("2024-02-29T00:00:00Z", &t), 0);
	CHECK(cl_parse_time("2026-11-22 23:33:08Z", &t) != 0);
	CHECK(cl_parse_time("2026-11-22T23:33:08+00:00", &t) != 0);
}

CL_TEST(utf8_clean)
{
	CHECK(cl_utf8_clean((const uint8_t *)"user@example", 12));
	CHECK(cl_utf8_clean((const uint8_t *)"J\xc3\xbcrgen", 7));
	CHECK(!cl_utf8_clean((const uint8_t *)"a\0b", 3));
	CHECK(!cl_utf8_clean((const uint8_t *)"a\nb", 3));
	CHECK(!cl_utf8_clean((const uint8_t *)"\xc0\x80", 2)); /* overlong */
	CHECK(!cl_utf8_clean((const uint8_t *)"\xed\xa0\x80", 3)); /* UTF-16 */
	CHECK(!cl_utf8_clean((const uint8_t *)"\xe2\x82", 2));     /* cut */
}

/* The 8-bytes-at-a-time path: a bad byte anywhere in a long string. */
CL_TEST(utf8_clean_long)
{
	static const uint8_t bad[] = {0x00, 0x01, 0x1f, 0x7f, 0xff, 0xc0};
	uint8_t s[40];
	size_t pos, b;

	memset(s, 'a', sizeof(s));
	CHECK(cl_utf8_clean(s, sizeof(s)));
	for (pos = 0; pos < sizeof(s); pos++) {
		for (b = 0; b < sizeof(bad); b++) {
			memset(s, 'a', sizeof(s));
			s[pos] = bad[b];
			if (cl_utf8_clean(s, sizeof(s)))
				cl_test_fail(__FILE__, __LINE__,
				    "0x%02x at %zu accepted", bad[b], pos);
		}
		/* Edge values that are fine. */
		s[pos] = 0x20;
		CHECK(cl_utf8_clean(s, sizeof(s)));
		s[pos] = 0x7e;
		CHECK(cl_utf8_clean(s, sizeof(s)));
	}
	memcpy(s,
	    "abcdefgh\xc3\xbc"
	    "abcdefgh",
	    18);
	CHECK(cl_utf8_clean(s, 18));
}

/* FIPS 180-2 vectors, repeated calls (the context is reused), and a
 * large input. */
CL_TEST(sha256)
{
	static const char *abc =
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
	static const char *empty =
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	static const char *two =
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
	static const char *million_a =
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	uint8_t h[32], *m;
	char x[65];
	int i;

	for (i = 0; i < 3; i++) {
		CHECK_INT_EQ(cl_sha256("abc", 3, h), 0);
		cl_format_hex(h, 32, x);
		CHECK(strcmp(x, abc) == 0);
		CHECK_INT_EQ(cl_sha256("", 0, h), 0);
		cl_format_hex(h, 32, x);
		CHECK(strcmp(x, empty) == 0);
	}
	CHECK_INT_EQ(cl_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmn"
			       "lmnomnopnopq",
			 56, h),
	    0);
	cl_format_hex(h, 32, x);
	CHECK(strcmp(x, two) == 0);
	CHECK((m = malloc(1000000)) != NULL);
	memset(m, 'a', 1000000);
	CHECK_INT_EQ(cl_sha256(m, 1000000, h), 0);
	cl_format_hex(h, 32, x);
	CHECK(strcmp(x, million_a) == 0);
	free(m);
}

/* ADDR:PORT as the listening options take it. */
CL_TEST(net_split)
{
	char h[16];
	uint64_t p;

	CHECK_INT_EQ(cl_net_split("127.0.0.1:8080", h, sizeof(h), &p), 0);
	CHECK(strcmp(h, "127.0.0.1") == 0 && p == 8080);
	CHECK_INT_EQ(cl_net_split("[::1]:0", h, sizeof(h), &p), 0);
	CHECK(strcmp(h, "::1") == 0 && p == 0);
	CHECK_INT_EQ(cl_net_split("::1:65535", h, sizeof(h), &p), 0);
	CHECK(strcmp(h, "::1") == 0 && p == 65535);
	CHECK_INT_EQ(
	    cl_net_split("127.0.0.1", h, sizeof(h), &p), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_net_split(":80", h, sizeof(h), &p), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_net_split("[]:80", h, sizeof(h), &p), CL_ERR_FORMAT);
	CHECK_INT_EQ(
	    cl_net_split("1.2.3.4:65536", h, sizeof(h), &p), CL_ERR_FORMAT);
	CHECK_INT_EQ(
	    cl_net_split("1.2.3.4:08", h, sizeof(h), &p), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_net_split("1.2.3.4:", h, sizeof(h), &p), CL_ERR_FORMAT);
	/* the address and its NUL must fit in 16 octets */
	CHECK_INT_EQ(cl_net_split("123.123.123.123:1", h, sizeof(h), &p), 0);
	CHECK(strcmp(h, "123.123.123.123") == 0);
	CHECK_INT_EQ(cl_net_split("1234.123.123.123:1", h, sizeof(h), &p),
	    CL_ERR_FORMAT);
}

int
main(void)
{
	CL_RUN(parse_u64_canonical_only);
	CL_RUN(uuid_roundtrip);
	CL_RUN(prefix_rules);
	CL_RUN(mac_hex_time);
	CL_RUN(utf8_clean);
	CL_RUN(utf8_clean_long);
	CL_RUN(sha256);
	CL_RUN(net_split);
	return cl_test_done();
}
