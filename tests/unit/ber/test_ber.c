/* SPDX-License-Identifier: ISC */
/*
 * BER encoder and decoder.  Expected bytes are worked out by hand from
 * X.690 (tags 8.1.2, lengths 8.1.3, INTEGER 8.3, OID 8.19, RELATIVE-OID
 * 8.20); the expected GeneralizedTime strings come from `date -u -d @N`.
 */
#include <stdlib.h>

#include "ber.h"
#include "buf.h"
#include "err.h"
#include "harness.h"

static struct cl_buf *
newbuf(void)
{
	struct cl_buf *b = cl_buf_new(1u << 20);

	CHECK(b != NULL);
	return b;
}

#define CHECK_BYTES(b, ...)                                                    \
	do {                                                                   \
		static const uint8_t want_[] = {__VA_ARGS__};                  \
		CHECK_INT_EQ((b)->len, sizeof(want_));                         \
		CHECK_MEM_EQ((b)->d, want_, sizeof(want_));                    \
	} while (0)

CL_TEST(integers)
{
	static const struct {
		int64_t v;
		uint8_t len;
		uint8_t c[8];
	} kat[] = {
	    {0, 1, {0x00}},
	    {1, 1, {0x01}},
	    {127, 1, {0x7f}},
	    {128, 2, {0x00, 0x80}},
	    {255, 2, {0x00, 0xff}},
	    {256, 2, {0x01, 0x00}},
	    {-1, 1, {0xff}},
	    {-128, 1, {0x80}},
	    {-129, 2, {0xff, 0x7f}},
	    {-32768, 2, {0x80, 0x00}},
	    {-32769, 3, {0xff, 0x7f, 0xff}},
	    {INT64_MAX, 8, {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	    {INT64_MIN, 8, {0x80, 0, 0, 0, 0, 0, 0, 0}},
	};
	struct cl_buf *b = newbuf();
	struct cl_rd rd;
	struct cl_span v;
	int64_t got;
	size_t i;

	for (i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		cl_buf_reset(b);
		CHECK_INT_EQ(cl_ber_put_int(b, CL_BER_UNIVERSAL,
				 CL_BER_TAG_INTEGER, kat[i].v),
		    0);
		CHECK_INT_EQ(b->len, 2 + kat[i].len);
		CHECK_INT_EQ(b->d[0], 0x02);
		CHECK_INT_EQ(b->d[1], kat[i].len);
		CHECK_MEM_EQ(b->d + 2, kat[i].c, kat[i].len);
		CHECK_INT_EQ(cl_ber_int_size(kat[i].v), kat[i].len);
		cl_rd_init(&rd, b->d, b->len);
		CHECK_INT_EQ(cl_ber_expect(&rd, 0, CL_BER_UNIVERSAL,
				 CL_BER_TAG_INTEGER, &v),
		    0);
		CHECK_INT_EQ(cl_ber_get_int64(v, &got), 0);
		CHECK(got == kat[i].v);
	}
	cl_buf_free(b);
}

CL_TEST(unsigned_integers)
{
	struct cl_buf *b = newbuf();
	struct cl_span v;
	uint64_t got;

	CHECK_INT_EQ(cl_ber_put_uint(b, CL_BER_CONTEXT, 13, UINT64_MAX), 0);
	CHECK_BYTES(b, 0x8d, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff);
	v.p = b->d + 2;
	v.len = 9;
	CHECK_INT_EQ(cl_ber_get_uint64(v, &got), 0);
	CHECK(got == UINT64_MAX);
	cl_buf_reset(b);
	CHECK_INT_EQ(cl_ber_put_uint(b, CL_BER_CONTEXT, 4, 4294967295u), 0);
	CHECK_BYTES(b, 0x84, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff);
	cl_buf_reset(b);
	CHECK_INT_EQ(cl_ber_put_uint(b, CL_BER_CONTEXT, 4, 1u << 31), 0);
	CHECK_BYTES(b, 0x84, 0x05, 0x00, 0x80, 0x00, 0x00, 0x00);
	cl_buf_reset(b);
	CHECK_INT_EQ(cl_ber_put_uint(b, CL_BER_CONTEXT, 4, 0), 0);
	CHECK_BYTES(b, 0x84, 0x01, 0x00);
	cl_buf_reset(b);
	CHECK_INT_EQ(cl_ber_put_uint(b, CL_BER_CONTEXT, 4, 128), 0);
	CHECK_BYTES(b, 0x84, 0x02, 0x00, 0x80);
	CHECK_INT_EQ(cl_ber_uint_size(127), 1);
	CHECK_INT_EQ(cl_ber_uint_size((uint64_t)1 << 63), 9);
	cl_buf_free(b);
}

CL_TEST(integer_decoding_rejects)
{
	static const uint8_t nonmin_pos[] = {0x00, 0x7f};
	static const uint8_t nonmin_neg[] = {0xff, 0x80};
	static const uint8_t nine[] = {0x01, 0, 0, 0, 0, 0, 0, 0, 0};
	static const uint8_t neg[] = {0x80};
	static const uint8_t ok9[] = {0x00, 0x80, 0, 0, 0, 0, 0, 0, 0};
	struct cl_span v;
	int64_t i;
	uint64_t u;

	v.p = nonmin_pos;
	v.len = 0;
	CHECK_INT_EQ(cl_ber_get_int64(v, &i), CL_ERR_FORMAT); /* empty */
	v.len = 2;
	CHECK_INT_EQ(cl_ber_get_int64(v, &i), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_ber_get_uint64(v, &u), CL_ERR_FORMAT);
	v.p = nonmin_neg;
	CHECK_INT_EQ(cl_ber_get_int64(v, &i), CL_ERR_FORMAT);
	v.p = nine;
	v.len = sizeof(nine);
	CHECK_INT_EQ(cl_ber_get_int64(v, &i), CL_ERR_RANGE);
	CHECK_INT_EQ(cl_ber_get_uint64(v, &u), CL_ERR_RANGE);
	v.p = neg;
	v.len = 1;
	CHECK_INT_EQ(cl_ber_get_uint64(v, &u), CL_ERR_RANGE);
	CHECK_INT_EQ(cl_ber_get_int64(v, &i), 0);
	CHECK_INT_EQ(i, -128);
	v.p = ok9;
	v.len = sizeof(ok9);
	CHECK_INT_EQ(cl_ber_get_uint64(v, &u), 0);
	CHECK(u == (uint64_t)1 << 63);
	CHECK_INT_EQ(cl_ber_get_int64(v, &i), CL_ERR_RANGE);
}

CL_TEST(integer_round_trip)
{
	struct cl_buf *b = newbuf();
	struct cl_rd rd;
	struct cl_span v;
	uint64_t x = 0x9e3779b97f4a7c15u, u;
	int64_t s;
	int i;

	for (i = 0; i < 2000; i++) {
		/* xorshift; shift by i % 64 to cover every size */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		cl_buf_reset(b);
		CHECK_INT_EQ(cl_ber_put_int(b, CL_BER_UNIVERSAL, 2,
				 (int64_t)x >> (i % 64)),
		    0);
		CHECK_INT_EQ(
		    cl_ber_put_uint(b, CL_BER_UNIVERSAL, 2, x >> (i % 64)), 0);
		cl_rd_init(&rd, b->d, b->len);
		CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0, 2, &v), 0);
		CHECK_INT_EQ(cl_ber_get_int64(v, &s), 0);
		CHECK(s == (int64_t)x >> (i % 64));
		CHECK_INT_EQ(cl_ber_expect(&rd, CL_BER_DER, 0, 2, &v), 0);
		CHECK_INT_EQ(cl_ber_get_uint64(v, &u), 0);
		CHECK(u == x >> (i % 64));
		CHECK_INT_EQ(cl_rd_end(&rd), 0);
	}
	cl_buf_free(b);
}

CL_TEST(tags_and_lengths)
{
	struct cl_buf *b = newbuf();
	struct cl_rd rd;
	struct cl_ber_tlv t;

	CHECK_INT_EQ(cl_ber_put_tl(b, CL_BER_CONTEXT, 30, 0), 0);
	CHECK_INT_EQ(cl_ber_put_tl(b, CL_BER_CONTEXT, 31, 0), 0);
	CHECK_INT_EQ(cl_ber_put_tl(b, CL_BER_CONTEXT, 127, 0), 0);
	CHECK_INT_EQ(cl_ber_put_tl(b, CL_BER_CONTEXT, 128, 0), 0);
	CHECK_INT_EQ(cl_ber_put_tl(b, CL_BER_CONTEXT, 16383, 0), 0);
	CHECK_INT_EQ(cl_ber_put_tl(b, CL_BER_CONTEXT, 16384, 0), 0);
	CHECK_INT_EQ(
	    cl_ber_put_tl(b, CL_BER_APPLICATION | CL_BER_CONSTRUCTED, 200, 0),
	    0);
	CHECK_BYTES(b, 0x9e, 0x00, 0x9f, 0x1f, 0x00, 0x9f, 0x7f, 0x00, 0x9f,
	    0x81, 0x00, 0x00, 0x9f, 0xff, 0x7f, 0x00, 0x9f, 0x81, 0x80, 0x00,
	    0x00, 0x7f, 0x81, 0x48, 0x00);
	cl_rd_init(&rd, b->d, b->len);
	CHECK_INT_EQ(cl_ber_get_tlv(&rd, CL_BER_DER, &t), 0);
	CHECK_INT_EQ(t.tag, 30);
	CHECK_INT_EQ(cl_ber_get_tlv(&rd, CL_BER_DER, &t), 0);
	CHECK_INT_EQ(t.tag, 31);
	CHECK_INT_EQ(cl_ber_get_tlv(&rd, CL_BER_DER, &t), 0);
	CHECK_INT_EQ(t.tag, 127);
	CHECK_INT_EQ(cl_ber_get_tlv(&rd, CL_BER_DER, &t), 0);
	CHECK_INT_EQ(t.tag, 128);
	CHECK_INT_EQ(cl_ber_get_tlv(&rd, CL_BER_DER, &t), 0);
	CHECK_INT_EQ(t.tag, 16383);
	CHECK_INT_EQ(cl_ber_get_tlv(&rd, CL_BER_DER, &t), 0);
	CHECK_INT_EQ(t.tag, 16384);
	CHECK_INT_EQ(t.hdrlen, 5);
	CHECK_INT_EQ(cl_ber_get_tlv(&rd, CL_BER_DER, &t), 0);
	CHECK_INT_EQ(t.tag, 200);
	CHECK_INT_EQ(t.cls, CL_BER_APPLICATION);
	CHECK(t.cons);
	CHECK_INT_EQ(cl_rd_end(&rd), 0);

	/* Length forms. */
	cl_buf_reset(b);
	CHECK_INT_EQ(cl_ber_put_tl(b, 0x80, 0, 127), 0);
	CHECK_INT_EQ(cl_ber_put_tl(b, 0x80, 0, 128), 0);
	CHECK_INT_EQ(cl_ber_put_tl(b, 0x80, 0, 255), 0);
	CHECK_INT_EQ(cl_ber_put_tl(b, 0x80, 0, 256), 0);
	CHECK_INT_EQ(cl_ber_put_tl(b, 0x80, 0, 65535), 0);
	CHECK_INT_EQ(cl_ber_put_tl(b, 0x80, 0, 65536), 0);
	CHECK_INT_EQ(cl_ber_put_tl(b, 0x80, 0, 16777216), 0);
	CHECK_BYTES(b, 0x80, 0x7f, 0x80, 0x81, 0x80, 0x80, 0x81, 0xff, 0x80,
	    0x82, 0x01, 0x00, 0x80, 0x82, 0xff, 0xff, 0x80, 0x83, 0x01, 0x00,
	    0x00, 0x80, 0x84, 0x01, 0x00, 0x00, 0x00);
	CHECK_INT_EQ(cl_ber_tl_size(31, 128), 4);
	CHECK_INT_EQ(cl_ber_tlv_size(0, 256), 260);

	/* Bad arguments. */
	CHECK_INT_EQ(
	    cl_ber_put_tl(b, 0x80, CL_BER_TAG_MAX + 1, 0), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(cl_ber_put_tl(b, 0x81, 1, 0), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(cl_ber_put_null(b, 0xa0, 1), CL_ERR_INVALID_ARG);
	cl_buf_free(b);
}

CL_TEST(primitives)
{
	static const uint32_t domain[] = {0, 4, 0, 2, 2, 5, 1, 43};
	static const uint32_t rsa[] = {1, 2, 840, 113549};
	static const uint32_t big[] = {2, 999, 3};
	static const uint32_t max[] = {0, 0, 4294967295u};
	static const uint32_t rel[] = {5, 3, 18, 2};
	static const uint32_t bad1[] = {3, 1};
	static const uint32_t bad2[] = {1, 40};
	struct cl_buf *b = newbuf();

	CHECK_INT_EQ(cl_ber_put_oid(b, 0, CL_BER_TAG_OID, domain, 8), 0);
	CHECK_BYTES(b, 0x06, 0x07, 0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x2b);
	cl_buf_reset(b);
	CHECK_INT_EQ(cl_ber_put_oid(b, 0, CL_BER_TAG_OID, rsa, 4), 0);
	CHECK_BYTES(b, 0x06, 0x06, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d);
	cl_buf_reset(b);
	CHECK_INT_EQ(cl_ber_put_oid(b, 0, CL_BER_TAG_OID, big, 3), 0);
	CHECK_BYTES(b, 0x06, 0x03, 0x88, 0x37, 0x03);
	cl_buf_reset(b);
	CHECK_INT_EQ(cl_ber_put_oid(b, 0, CL_BER_TAG_OID, max, 3), 0);
	CHECK_BYTES(b, 0x06, 0x06, 0x00, 0x8f, 0xff, 0xff, 0xff, 0x7f);
	cl_buf_reset(b);
	CHECK_INT_EQ(cl_ber_put_reloid(b, 0x80, 0, rel, 4), 0);
	CHECK_BYTES(b, 0x80, 0x04, 0x05, 0x03, 0x12, 0x02);
	CHECK_INT_EQ(cl_ber_put_oid(b, 0, 6, bad1, 2), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(cl_ber_put_oid(b, 0, 6, bad2, 2), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(cl_ber_put_oid(b, 0, 6, domain, 1), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(cl_ber_put_reloid(b, 0, 13, rel, 0), CL_ERR_INVALID_ARG);

	cl_buf_reset(b);
	CHECK_INT_EQ(cl_ber_put_bool(b, 0, CL_BER_TAG_BOOLEAN, true), 0);
	CHECK_INT_EQ(cl_ber_put_bool(b, 0x80, 6, false), 0);
	CHECK_INT_EQ(cl_ber_put_null(b, 0x80, 3), 0);
	CHECK_INT_EQ(cl_ber_put_enum(b, 0x80, 22, 2), 0);
	CHECK_INT_EQ(
	    cl_ber_put_octets(b, 0, CL_BER_TAG_OCTETSTRING, "ab", 2), 0);
	CHECK_INT_EQ(cl_ber_put_octets(b, 0x80, 1, NULL, 0), 0);
	CHECK_BYTES(b, 0x01, 0x01, 0xff, 0x86, 0x01, 0x00, 0x83, 0x00, 0x96,
	    0x01, 0x02, 0x04, 0x02, 'a', 'b', 0x81, 0x00);
	CHECK_INT_EQ(
	    cl_ber_put_octets(b, 0x80, 1, NULL, 1), CL_ERR_INVALID_ARG);
	cl_buf_free(b);
}

CL_TEST(oid_decoding)
{
	static const uint8_t dom[] = {0x04, 0x00, 0x02, 0x02, 0x05, 0x01, 0x2b};
	static const uint8_t big[] = {0x88, 0x37, 0x03};
	static const uint8_t lead80[] = {0x2b, 0x80, 0x01};
	static const uint8_t open[] = {0x2b, 0x86};
	static const uint8_t huge[] = {0x2b, 0x90, 0x80, 0x80, 0x80, 0x00};
	static const uint8_t two_big[] = {0x8f, 0xff, 0xff, 0xff, 0x7f};
	uint32_t arcs[CL_BER_OID_MAX_ARCS];
	struct cl_span v;
	size_t n;

	v.p = dom;
	v.len = sizeof(dom);
	CHECK_INT_EQ(cl_ber_get_oid(v, arcs, CL_BER_OID_MAX_ARCS, &n), 0);
	CHECK_INT_EQ(n, 8);
	CHECK_INT_EQ(arcs[0], 0);
	CHECK_INT_EQ(arcs[1], 4);
	CHECK_INT_EQ(arcs[7], 43);
	CHECK_INT_EQ(cl_ber_get_oid(v, arcs, 7, &n), CL_ERR_TOOBIG);
	CHECK_INT_EQ(cl_ber_get_reloid(v, arcs, CL_BER_OID_MAX_ARCS, &n), 0);
	CHECK_INT_EQ(n, 7);
	CHECK_INT_EQ(arcs[0], 4);
	v.p = big;
	v.len = sizeof(big);
	CHECK_INT_EQ(cl_ber_get_oid(v, arcs, CL_BER_OID_MAX_ARCS, &n), 0);
	CHECK_INT_EQ(n, 3);
	CHECK_INT_EQ(arcs[0], 2);
	CHECK_INT_EQ(arcs[1], 999);
	CHECK_INT_EQ(arcs[2], 3);
	/* 2.(2^32 - 1 - 80): the first subidentifier may exceed 2^32 - 1
	 * only by the 80 the first two arcs add. */
	v.p = two_big;
	v.len = sizeof(two_big);
	CHECK_INT_EQ(cl_ber_get_oid(v, arcs, CL_BER_OID_MAX_ARCS, &n), 0);
	CHECK_INT_EQ(arcs[0], 2);
	CHECK_INT_EQ(arcs[1], 4294967295u - 80);
	v.p = lead80;
	v.len = sizeof(lead80);
	CHECK_INT_EQ(
	    cl_ber_get_oid(v, arcs, CL_BER_OID_MAX_ARCS, &n), CL_ERR_FORMAT);
	v.p = open;
	v.len = sizeof(open);
	CHECK_INT_EQ(
	    cl_ber_get_oid(v, arcs, CL_BER_OID_MAX_ARCS, &n), CL_ERR_FORMAT);
	v.p = huge;
	v.len = sizeof(huge);
	CHECK_INT_EQ(
	    cl_ber_get_oid(v, arcs, CL_BER_OID_MAX_ARCS, &n), CL_ERR_RANGE);
	v.len = 0;
	CHECK_INT_EQ(
	    cl_ber_get_oid(v, arcs, CL_BER_OID_MAX_ARCS, &n), CL_ERR_FORMAT);
}

CL_TEST(bool_null)
{
	static const uint8_t one[] = {0x01}, two[] = {0x01, 0x00};
	struct cl_span v = {one, 1};
	bool x;

	CHECK_INT_EQ(cl_ber_get_bool(v, 0, &x), 0);
	CHECK(x);
	CHECK_INT_EQ(cl_ber_get_bool(v, CL_BER_DER, &x), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_ber_get_null(v), CL_ERR_FORMAT);
	v.p = two;
	v.len = 2;
	CHECK_INT_EQ(cl_ber_get_bool(v, 0, &x), CL_ERR_FORMAT);
	v.len = 0;
	CHECK_INT_EQ(cl_ber_get_null(v), 0);
	CHECK_INT_EQ(cl_ber_get_bool(v, 0, &x), CL_ERR_FORMAT);
}

static void
check_time(int64_t sec, uint32_t usec, const char *want)
{
	char s[CL_BER_GENTIME_MAX + 1];
	struct cl_span v;
	int64_t gs;
	uint32_t gu;
	int n;

	n = cl_ber_fmt_gentime(s, sec, usec);
	CHECK_INT_EQ(n, strlen(want));
	CHECK_INT_EQ(cl_ber_gentime_size(usec), n);
	s[n] = '\0';
	CHECK_STR_EQ(s, want);
	v.p = (const uint8_t *)s;
	v.len = (size_t)n;
	CHECK_INT_EQ(cl_ber_get_gentime(v, &gs, &gu), 0);
	CHECK(gs == sec);
	CHECK_INT_EQ(gu, usec);
}

static int
parse_time(const char *s, int64_t *sec, uint32_t *usec)
{
	struct cl_span v = {(const uint8_t *)s, strlen(s)};

	return cl_ber_get_gentime(v, sec, usec);
}

CL_TEST(generalized_time)
{
	char s[CL_BER_GENTIME_MAX];
	int64_t sec;
	uint32_t usec;

	/* Expected strings from `date -u -d @N +%Y%m%d%H%M%S`. */
	check_time(0, 0, "19700101000000Z");
	check_time(1700000000, 0, "20231114221320Z");
	check_time(1700000000, 123456, "20231114221320.123456Z");
	check_time(1700003600, 500000, "20231114231320.5Z");
	check_time(1700003600, 1, "20231114231320.000001Z");
	check_time(951782400, 120, "20000229000000.00012Z");
	check_time(253402300799, 999999, "99991231235959.999999Z");
	CHECK_INT_EQ(cl_ber_fmt_gentime(s, -1, 0), CL_ERR_RANGE);
	CHECK_INT_EQ(cl_ber_fmt_gentime(s, 253402300800, 0), CL_ERR_RANGE);
	CHECK_INT_EQ(cl_ber_fmt_gentime(s, 0, 1000000), CL_ERR_RANGE);

	CHECK_INT_EQ(parse_time("20231114221320.1234567891Z", &sec, &usec),
	    CL_ERR_FORMAT);
	CHECK_INT_EQ(parse_time("20231114221320.123456789Z", &sec, &usec), 0);
	CHECK_INT_EQ(usec, 123456);
	CHECK_INT_EQ(parse_time("20230229000000Z", &sec, &usec), CL_ERR_RANGE);
	CHECK_INT_EQ(parse_time("20231314000000Z", &sec, &usec), CL_ERR_RANGE);
	CHECK_INT_EQ(parse_time("20231114246000Z", &sec, &usec), CL_ERR_RANGE);
	CHECK_INT_EQ(
	    parse_time("20231114221320", &sec, &usec), CL_ERR_UNSUPPORTED);
	CHECK_INT_EQ(
	    parse_time("20231114221320+0100", &sec, &usec), CL_ERR_UNSUPPORTED);
	CHECK_INT_EQ(
	    parse_time("20231114221320.Z", &sec, &usec), CL_ERR_FORMAT);
	CHECK_INT_EQ(
	    parse_time("20231114221320ZZ", &sec, &usec), CL_ERR_TRAILING);
	CHECK_INT_EQ(parse_time("2023111422132Z", &sec, &usec), CL_ERR_FORMAT);
	CHECK_INT_EQ(parse_time("2023-114221320Z", &sec, &usec), CL_ERR_FORMAT);
	/* libtrace writes UTCTime-like two-digit years into timeStamp. */
	CHECK_INT_EQ(
	    parse_time("210526012853.615Z", &sec, &usec), CL_ERR_FORMAT);
}

CL_TEST(open_close)
{
	struct cl_buf *b = newbuf(), *c = newbuf();
	uint8_t pay[300];
	size_t m1, m2, n;

	memset(pay, 0x5a, sizeof(pay));
	for (n = 0; n <= sizeof(pay); n += (n < 130 ? 1 : 37)) {
		cl_buf_reset(b);
		cl_buf_reset(c);
		/* Patched: 30 { A2 { 80 pay } } */
		CHECK_INT_EQ(cl_ber_open(b, 0x20, 16, &m1), 0);
		CHECK_INT_EQ(cl_ber_open(b, 0xa0, 2, &m2), 0);
		CHECK_INT_EQ(cl_ber_put_octets(b, 0x80, 0, pay, n), 0);
		CHECK_INT_EQ(cl_ber_close(b, m2), 0);
		CHECK_INT_EQ(cl_ber_close(b, m1), 0);
		/* Size first. */
		CHECK_INT_EQ(cl_ber_put_tl(c, 0x20, 16,
				 cl_ber_tlv_size(2, cl_ber_tlv_size(0, n))),
		    0);
		CHECK_INT_EQ(
		    cl_ber_put_tl(c, 0xa0, 2, cl_ber_tlv_size(0, n)), 0);
		CHECK_INT_EQ(cl_ber_put_octets(c, 0x80, 0, pay, n), 0);
		CHECK_INT_EQ(b->len, c->len);
		CHECK_MEM_EQ(b->d, c->d, b->len);
		CHECK_INT_EQ(
		    cl_ber_walk(b->d, b->len, CL_BER_DER, 4, NULL, NULL), 0);
	}
	CHECK_INT_EQ(cl_ber_close(b, 0), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(cl_ber_close(b, b->len + 1), CL_ERR_INVALID_ARG);
	cl_buf_free(b);
	cl_buf_free(c);
}

CL_TEST(buffer_limit)
{
	struct cl_buf *b = cl_buf_new(4);

	CHECK(b != NULL);
	CHECK_INT_EQ(cl_ber_put_octets(b, 0x80, 0, "abc", 3), CL_ERR_TOOBIG);
	CHECK_INT_EQ(cl_ber_put_octets(b, 0x80, 0, "ab", 2), 0);
	CHECK_INT_EQ(cl_ber_put_uint(b, 0x80, 0, 1000), CL_ERR_TOOBIG);
	cl_buf_free(b);
}

static int
decode1(const uint8_t *p, size_t n, unsigned flags)
{
	struct cl_ber_tlv t;
	struct cl_rd rd;
	int r;

	cl_rd_init(&rd, p, n);
	r = cl_ber_get_tlv(&rd, flags, &t);
	/* A failed read consumes nothing and clears the TLV. */
	if (r != 0 && (rd.off != 0 || t.v.p != NULL || t.tag != 0))
		return 99;
	return r;
}

CL_TEST(decoder_rejects)
{
	static const uint8_t indef[] = {0x30, 0x80, 0x00, 0x00};
	static const uint8_t resv[] = {0x04, 0xff, 0x00};
	static const uint8_t past[] = {0x04, 0x05, 0x01, 0x02};
	static const uint8_t fivelen[] = {0x04, 0x85, 0, 0, 0, 0, 1, 0};
	static const uint8_t nm81[] = {0x04, 0x81, 0x01, 0xaa};
	static const uint8_t nm82[] = {0x04, 0x82, 0x00, 0x01, 0xaa};
	static const uint8_t tag80[] = {0x9f, 0x80, 0x1f, 0x00};
	static const uint8_t tagsmall[] = {0x9f, 0x05, 0x00};
	static const uint8_t tagbig[] = {
	    0x9f, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00};
	static const uint8_t tagmax[] = {0x9f, 0xff, 0xff, 0xff, 0x7f, 0x00};
	static const uint8_t tagopen[] = {0x9f, 0x81};
	static const uint8_t lenopen[] = {0x04, 0x82, 0x01};
	static const uint8_t empty[] = {0x00};
	uint8_t big[4 + 200];

	CHECK_INT_EQ(decode1(indef, sizeof(indef), 0), CL_ERR_FORMAT);
	CHECK_INT_EQ(decode1(resv, sizeof(resv), 0), CL_ERR_FORMAT);
	CHECK_INT_EQ(decode1(past, sizeof(past), 0), CL_ERR_TRUNCATED);
	CHECK_INT_EQ(decode1(fivelen, sizeof(fivelen), 0), CL_ERR_TOOBIG);
	CHECK_INT_EQ(decode1(nm81, sizeof(nm81), 0), 0);
	CHECK_INT_EQ(decode1(nm81, sizeof(nm81), CL_BER_DER), CL_ERR_FORMAT);
	CHECK_INT_EQ(decode1(nm82, sizeof(nm82), 0), 0);
	CHECK_INT_EQ(decode1(nm82, sizeof(nm82), CL_BER_DER), CL_ERR_FORMAT);
	CHECK_INT_EQ(decode1(tag80, sizeof(tag80), 0), CL_ERR_FORMAT);
	CHECK_INT_EQ(decode1(tagsmall, sizeof(tagsmall), 0), CL_ERR_FORMAT);
	CHECK_INT_EQ(decode1(tagbig, sizeof(tagbig), 0), CL_ERR_TOOBIG);
	CHECK_INT_EQ(decode1(tagmax, sizeof(tagmax), 0), 0);
	CHECK_INT_EQ(decode1(tagopen, sizeof(tagopen), 0), CL_ERR_TRUNCATED);
	CHECK_INT_EQ(decode1(lenopen, sizeof(lenopen), 0), CL_ERR_TRUNCATED);
	CHECK_INT_EQ(decode1(empty, 0, 0), CL_ERR_TRUNCATED);
	/* 0x82 with a leading zero octet: BER yes, DER no. */
	memset(big, 0, sizeof(big));
	big[0] = 0x04;
	big[1] = 0x82;
	big[2] = 0x00;
	big[3] = 200;
	CHECK_INT_EQ(decode1(big, sizeof(big), 0), 0);
	CHECK_INT_EQ(decode1(big, sizeof(big), CL_BER_DER), CL_ERR_FORMAT);
	big[1] = 0x81;
	big[2] = 200;
	CHECK_INT_EQ(decode1(big, 3 + 200, CL_BER_DER), 0);
}

CL_TEST(expect_optional)
{
	static const uint8_t in[] = {0x80, 0x01, 0x07, 0xa1, 0x00};
	struct cl_rd rd;
	struct cl_span v;
	bool present;

	cl_rd_init(&rd, in, sizeof(in));
	CHECK_INT_EQ(cl_ber_expect(&rd, 0, 0x80, 1, &v), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_ber_expect(&rd, 0, 0xa0, 0, &v), CL_ERR_FORMAT);
	CHECK_INT_EQ(rd.off, 0);
	CHECK_INT_EQ(cl_ber_optional(&rd, 0, 0x80, 5, &v, &present), 0);
	CHECK(!present);
	CHECK_INT_EQ(cl_ber_optional(&rd, 0, 0x80, 0, &v, &present), 0);
	CHECK(present);
	CHECK_INT_EQ(v.len, 1);
	CHECK_INT_EQ(v.p[0], 7);
	CHECK_INT_EQ(cl_ber_expect(&rd, 0, 0xa0, 1, &v), 0);
	CHECK_INT_EQ(v.len, 0);
	CHECK_INT_EQ(cl_ber_optional(&rd, 0, 0x80, 0, &v, &present), 0);
	CHECK(!present);
	CHECK_INT_EQ(cl_rd_end(&rd), 0);
}

static int
count_visit(const struct cl_ber_tlv *t, unsigned depth, void *arg)
{
	unsigned *n = arg;

	(void)t;
	(void)depth;
	(*n)++;
	return *n == 1000 ? CL_ERR_FULL : 0;
}

CL_TEST(walk_depth_and_truncation)
{
	struct cl_buf *b = newbuf();
	size_t marks[40], i, n;
	unsigned count = 0;
	int r;

	/* 33 nested SEQUENCEs around an INTEGER: 34 levels. */
	for (i = 0; i < 33; i++)
		CHECK_INT_EQ(cl_ber_open(b, 0x20, 16, &marks[i]), 0);
	CHECK_INT_EQ(cl_ber_put_int(b, 0, 2, 5), 0);
	for (i = 33; i > 0; i--)
		CHECK_INT_EQ(cl_ber_close(b, marks[i - 1]), 0);
	CHECK_INT_EQ(cl_ber_walk(b->d, b->len, 0, 34, count_visit, &count), 0);
	CHECK_INT_EQ(count, 34);
	CHECK_INT_EQ(
	    cl_ber_walk(b->d, b->len, 0, 33, NULL, NULL), CL_ERR_TOOBIG);
	CHECK_INT_EQ(cl_ber_walk(b->d, b->len, 0, CL_BER_DEPTH_MAX, NULL, NULL),
	    CL_ERR_TOOBIG);
	/* Every proper prefix is truncated; so is the content of any
	 * constructed value cut short. */
	for (n = 1; n < b->len; n++)
		CHECK_INT_EQ(
		    cl_ber_walk(b->d, n, 0, 64, NULL, NULL), CL_ERR_TRUNCATED);
	/* A constructed value whose content is not whole TLVs. */
	b->d[b->len - 2] = 0x03; /* INTEGER length 1 -> 3 */
	CHECK_INT_EQ(
	    cl_ber_walk(b->d, b->len, 0, 64, NULL, NULL), CL_ERR_TRUNCATED);
	b->d[b->len - 2] = 0x01;
	CHECK_INT_EQ(cl_ber_walk(b->d, b->len, 0, 64, NULL, NULL), 0);
	/* The visitor stops the walk. */
	cl_buf_reset(b);
	for (i = 0; i < 1200; i++)
		CHECK_INT_EQ(cl_ber_put_null(b, 0, 5), 0);
	count = 0;
	r = cl_ber_walk(b->d, b->len, 0, 4, count_visit, &count);
	CHECK_INT_EQ(r, CL_ERR_FULL);
	CHECK_INT_EQ(count, 1000);
	cl_buf_free(b);
}

/* Every one-octet identifier with every short length: the header is
 * read as X.690 says, whole TLVs are consumed, cut ones are not. */
CL_TEST(short_form_headers)
{
	static uint8_t buf[2 + 127 + 1];
	struct cl_ber_tlv t;
	struct cl_rd rd;
	unsigned id, len;
	int r;

	for (id = 0; id < 256; id++) {
		if ((id & 0x1f) == 0x1f)
			continue;
		for (len = 0; len < 128; len++) {
			buf[0] = (uint8_t)id;
			buf[1] = (uint8_t)len;
			/* whole, with one octet after it */
			cl_rd_init(&rd, buf, len + 3);
			CHECK_INT_EQ(cl_ber_get_tlv(&rd, CL_BER_DER, &t), 0);
			CHECK_INT_EQ(t.cls, id & 0xc0);
			CHECK_INT_EQ(t.cons, (id & 0x20) != 0);
			CHECK_INT_EQ(t.tag, id & 0x1f);
			CHECK_INT_EQ(t.hdrlen, 2);
			CHECK(t.v.p == buf + 2);
			CHECK_INT_EQ(t.v.len, len);
			CHECK_INT_EQ(rd.off, len + 2);
			/* one octet short: nothing consumed */
			cl_rd_init(&rd, buf, len + 1);
			r = cl_ber_get_tlv(&rd, 0, &t);
			CHECK_INT_EQ(r, CL_ERR_TRUNCATED);
			CHECK_INT_EQ(rd.off, 0);
			CHECK_INT_EQ(t.v.len, 0);
			CHECK_INT_EQ(t.hdrlen, 0);
		}
	}
}

static int
walk_once(void *arg)
{
	/* SEQUENCE { INTEGER 5, [1] { OCTET STRING "A" } } */
	static const uint8_t der[] = {
	    0x30, 0x08, 0x02, 0x01, 0x05, 0xa1, 0x03, 0x04, 0x01, 0x41};

	(void)arg;
	return cl_ber_walk(
	    der, sizeof(der), CL_BER_DER, CL_BER_DEPTH_MAX, NULL, NULL);
}

/* With each allocation failing in turn (it makes none), the walk is the
 * same. */
CL_TEST(alloc_failures)
{
	CHECK_INT_EQ(cl_test_alloc_loop("cl_ber_walk", walk_once, NULL), 1);
}

int
main(void)
{
	CL_RUN(integers);
	CL_RUN(unsigned_integers);
	CL_RUN(integer_decoding_rejects);
	CL_RUN(integer_round_trip);
	CL_RUN(tags_and_lengths);
	CL_RUN(short_form_headers);
	CL_RUN(primitives);
	CL_RUN(oid_decoding);
	CL_RUN(bool_null);
	CL_RUN(generalized_time);
	CL_RUN(open_close);
	CL_RUN(buffer_limit);
	CL_RUN(decoder_rejects);
	CL_RUN(expect_optional);
	CL_RUN(walk_depth_and_truncation);
	CL_RUN(alloc_failures);
	return cl_test_done();
}
