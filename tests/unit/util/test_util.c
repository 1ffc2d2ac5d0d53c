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

/* HOST:PORT as every option that names an address takes it. */
static void
split_ok(const char *spec, unsigned flags, const char *host, unsigned port)
{
	char h[64], err[200];
	uint16_t p = 1;

	if (cl_net_split(
		"--x", spec, flags, h, sizeof(h), &p, err, sizeof(err)) != 0)
		cl_test_fail(__FILE__, __LINE__, "%s: %s", spec, err);
	CHECK_STR_EQ(h, host);
	CHECK_INT_EQ(p, port);
}

static void
split_bad(const char *spec, unsigned flags, size_t hostlen, const char *why)
{
	char h[64] = "unchanged", err[200];
	uint16_t p = 7;

	CHECK(hostlen <= sizeof(h));
	CHECK_INT_EQ(
	    cl_net_split("--x", spec, flags, h, hostlen, &p, err, sizeof(err)),
	    CL_ERR_FORMAT);
	if (strncmp(err, "--x: ", 5) != 0 || strstr(err, why) == NULL)
		cl_test_fail(__FILE__, __LINE__, "%s: \"%s\" lacks \"%s\"",
		    spec, err, why);
	CHECK_STR_EQ(h, "unchanged");
	CHECK_INT_EQ(p, 7);
}

CL_TEST(net_split)
{
	char h[16], err[200];
	uint16_t p;

	split_ok("127.0.0.1:8080", 0, "127.0.0.1", 8080);
	split_ok("mdf.example:1", 0, "mdf.example", 1);
	split_ok("[::1]:65535", 0, "::1", 65535);
	split_ok("[2001:db8::1]:443", 0, "2001:db8::1", 443);
	split_ok("[::ffff:127.0.0.1]:80", 0, "::ffff:127.0.0.1", 80);
	split_ok("[::1]:0", CL_NET_PORT_ANY, "::1", 0);
	split_ok("0.0.0.0:0", CL_NET_PORT_ANY, "0.0.0.0", 0);
	/* port 1..65535, canonical, 0 only for a listener */
	split_bad("1.2.3.4:0", 0, 64, "port '0' is not 1..65535");
	split_bad("1.2.3.4:65536", 0, 64, "is not 1..65535");
	split_bad("1.2.3.4:65536", CL_NET_PORT_ANY, 64, "is not 0..65535");
	split_bad("1.2.3.4:08", 0, 64, "port '08'");
	split_bad("1.2.3.4:+8", 0, 64, "port '+8'");
	split_bad("1.2.3.4:-1", 0, 64, "port '-1'");
	split_bad("1.2.3.4:", 0, 64, "port ''");
	split_bad("1.2.3.4:80x", 0, 64, "port '80x'");
	split_bad("1.2.3.4:99999999999999999999", 0, 64, "port");
	/* forms */
	split_bad("127.0.0.1", 0, 64, "is not HOST:PORT");
	split_bad("", 0, 64, "is not HOST:PORT");
	split_bad(":80", 0, 64, "has no host");
	split_bad("a]:80", 0, 64, "has no host");
	split_bad("::1:80", 0, 64, "in brackets");
	split_bad("2001:db8::1:80", 0, 64, "in brackets");
	split_bad("[::1]80", 0, 64, "expected ':PORT' after the ']'");
	split_bad("[::1]", 0, 64, "expected ':PORT'");
	split_bad("[::1:80", 0, 64, "lacks the ']'");
	split_bad("[]:80", 0, 64, "brackets hold no IPv6 address");
	split_bad("[[::1]]:80", 0, 64, "expected ':PORT' after the ']'");
	split_bad("[[::1]:80", 0, 64, "brackets hold no IPv6 address");
	split_bad("[127.0.0.1]:80", 0, 64, "is not an IPv6 address");
	split_bad("[localhost]:80", 0, 64, "is not an IPv6 address");
	split_bad("[fe80::1%eth0]:80", 0, 64, "is not an IPv6 address");
	split_bad("[::1]:80:81", 0, 64, "port '80:81'");
	split_bad("host name:80", 0, 64, "space or a control character");
	split_bad("host:80\n", 0, 64, "space or a control character");
	/* the host and its NUL must fit */
	split_ok("123.123.123.123:1", 0, "123.123.123.123", 1);
	split_bad("123.123.123.123:1", 0, 15, "host longer than 14 bytes");
	CHECK_INT_EQ(cl_net_split(NULL, "123.123.123.123:1", 0, h, sizeof(h),
			 &p, err, sizeof(err)),
	    0);
	/* Without an option name the message is the cause alone. */
	CHECK_INT_EQ(
	    cl_net_split(NULL, "x", 0, h, sizeof(h), &p, err, sizeof(err)),
	    CL_ERR_FORMAT);
	CHECK_STR_EQ(err, "'x' is not HOST:PORT");
}

CL_TEST(hex_helpers)
{
	uint8_t b[4];
	size_t n = 99;
	char s[9];

	CHECK_INT_EQ(cl_hex_decode("00fFa9", 6, b, sizeof(b), &n), 0);
	CHECK_INT_EQ(n, 3);
	CHECK(b[0] == 0 && b[1] == 0xff && b[2] == 0xa9);
	/* not NUL-terminated: only n bytes are read */
	CHECK_INT_EQ(cl_hex_decode("0102zz", 4, b, sizeof(b), &n), 0);
	CHECK_INT_EQ(n, 2);
	n = 99;
	CHECK_INT_EQ(cl_hex_decode("", 0, b, sizeof(b), &n), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_hex_decode("abc", 3, b, sizeof(b), &n), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_hex_decode("0g", 2, b, sizeof(b), &n), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_hex_decode("0 ", 2, b, sizeof(b), &n), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_hex_decode("0\0", 2, b, sizeof(b), &n), CL_ERR_FORMAT);
	CHECK_INT_EQ(
	    cl_hex_decode("0102030405", 10, b, sizeof(b), &n), CL_ERR_TOOBIG);
	CHECK_INT_EQ(n, 99);
	CHECK_INT_EQ(cl_hex_digit('F'), 15);
	CHECK_INT_EQ(cl_hex_digit('g'), -1);
	CHECK_INT_EQ(cl_hex_digit(0xc0), -1);
	cl_format_hex((const uint8_t *)"\x00\xab\xff\x10", 4, s);
	CHECK_STR_EQ(s, "00abff10");
}

CL_TEST(utf8_seq)
{
	static const struct {
		const char *s;
		size_t n, want;
	} t[] = {
	    {"a", 1, 1}, {"\xc3\xa9", 2, 2}, {"\xe2\x82\xac", 3, 3},
	    {"\xf0\x9f\x98\x80", 4, 4},
	    {"\xf4\x8f\xbf\xbf", 4, 4},     /* U+10FFFF */
	    {"\xc3", 1, 0},                 /* cut */
	    {"\xe2\x82", 2, 0},             /* cut */
	    {"\x80", 1, 0},                 /* continuation byte */
	    {"\xc0\x80", 2, 0},             /* overlong */
	    {"\xe0\x9f\xbf", 3, 0},         /* overlong */
	    {"\xf0\x8f\xbf\xbf", 4, 0},     /* overlong */
	    {"\xed\xa0\x80", 3, 0},         /* surrogate */
	    {"\xf4\x90\x80\x80", 4, 0},     /* past U+10FFFF */
	    {"\xf8\x88\x80\x80\x80", 5, 0}, /* five bytes */
	    {"\xc3\x28", 2, 0},             /* bad continuation */
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (cl_utf8_seq((const uint8_t *)t[i].s, t[i].n) != t[i].want)
			cl_test_fail(__FILE__, __LINE__, "case %zu", i);
	/* C1 controls are valid UTF-8 but not clean */
	CHECK(cl_utf8_seq((const uint8_t *)"\xc2\x85", 2) == 2);
	CHECK(!cl_utf8_clean((const uint8_t *)"\xc2\x85", 2));
	CHECK(cl_utf8_clean((const uint8_t *)"\xc2\xa0", 2));
}

CL_TEST(hashes)
{
	uint64_t a, b;

	/* FNV-1a 64 known answers (draft-eastlake-fnv) */
	CHECK(cl_fnv1a64(CL_FNV1A64_INIT, "", 0) == 0xcbf29ce484222325ULL);
	CHECK(cl_fnv1a64(CL_FNV1A64_INIT, "a", 1) == 0xaf63dc4c8601ec8cULL);
	CHECK(
	    cl_fnv1a64(CL_FNV1A64_INIT, "foobar", 6) == 0x85944171f73967e8ULL);
	/* continuing gives the hash of the concatenation */
	CHECK(cl_fnv1a64(cl_fnv1a64(CL_FNV1A64_INIT, "foo", 3), "bar", 3) ==
	    0x85944171f73967e8ULL);
	/* keyed: the seed changes the hash; the length counts */
	a = cl_hash_keyed(1, "key", 3);
	b = cl_hash_keyed(2, "key", 3);
	CHECK(a != b);
	CHECK(a == cl_hash_keyed(1, "key", 3));
	CHECK(cl_hash_keyed(1, "\0", 1) != cl_hash_keyed(1, "", 0));
	CHECK(cl_hash_keyed(1, "0123456789abcdef", 16) !=
	    cl_hash_keyed(1, "0123456789abcdeg", 16));
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
	CL_RUN(hex_helpers);
	CL_RUN(utf8_seq);
	CL_RUN(hashes);
	return cl_test_done();
}
