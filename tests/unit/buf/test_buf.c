/* SPDX-License-Identifier: ISC */
#include <stdlib.h>

#include "buf.h"
#include "harness.h"

CL_TEST(getters_consume_or_fail)
{
	static const uint8_t in[] = {1, 0x02, 0x03, 0, 0, 0, 4, 9};
	struct cl_rd rd;
	struct cl_span s;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;

	cl_rd_init(&rd, in, sizeof(in));
	CHECK_INT_EQ(cl_rd_u8(&rd, &u8), 0);
	CHECK_INT_EQ(u8, 1);
	CHECK_INT_EQ(cl_rd_u16(&rd, &u16), 0);
	CHECK_INT_EQ(u16, 0x0203);
	CHECK_INT_EQ(cl_rd_u32(&rd, &u32), 0);
	CHECK_INT_EQ(u32, 4);
	CHECK_INT_EQ(cl_rd_end(&rd), CL_ERR_TRAILING);
	/* A failed getter consumes nothing. */
	CHECK_INT_EQ(cl_rd_u16(&rd, &u16), CL_ERR_TRUNCATED);
	CHECK_INT_EQ(cl_rd_left(&rd), 1);
	CHECK_INT_EQ(cl_rd_span(&rd, 2, &s), CL_ERR_TRUNCATED);
	CHECK_INT_EQ(cl_rd_span(&rd, 1, &s), 0);
	CHECK_INT_EQ(s.p[0], 9);
	CHECK_INT_EQ(cl_rd_end(&rd), 0);
}

CL_TEST(huge_length_does_not_wrap)
{
	static const uint8_t in[4] = {0};
	struct cl_rd rd;
	struct cl_span s;

	cl_rd_init(&rd, in, sizeof(in));
	CHECK_INT_EQ(cl_rd_skip(&rd, 1), 0);
	CHECK_INT_EQ(cl_rd_span(&rd, SIZE_MAX, &s), CL_ERR_TRUNCATED);
	CHECK_INT_EQ(cl_rd_skip(&rd, SIZE_MAX - 1), CL_ERR_TRUNCATED);
	CHECK_INT_EQ(cl_rd_left(&rd), 3);
}

CL_TEST(little_endian)
{
	static const uint8_t in[] = {0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00};
	struct cl_rd rd;
	uint32_t v;
	uint16_t w;

	cl_rd_init(&rd, in, sizeof(in));
	CHECK_INT_EQ(cl_rd_u32le(&rd, &v), 0);
	CHECK_INT_EQ(v, 0xa1b2c3d4);
	CHECK_INT_EQ(cl_rd_u16le(&rd, &w), 0);
	CHECK_INT_EQ(w, 2);
}

CL_TEST(buf_max_is_enforced)
{
	struct cl_buf *b;
	uint8_t *w;

	CHECK((b = cl_buf_new(10)) != NULL);
	CHECK_INT_EQ(cl_buf_put_u64(b, 0x0102030405060708ULL), 0);
	CHECK_INT_EQ(cl_buf_put_u16(b, 0x090a), 0);
	CHECK_INT_EQ(b->len, 10);
	CHECK_INT_EQ(cl_buf_put_u8(b, 1), CL_ERR_TOOBIG);
	CHECK_INT_EQ(cl_buf_reserve(b, SIZE_MAX, &w), CL_ERR_TOOBIG);
	CHECK(w == NULL);
	CHECK_INT_EQ(b->len, 10);
	CHECK_INT_EQ(b->d[0], 1);
	CHECK_INT_EQ(b->d[9], 0x0a);
	CHECK_INT_EQ(cl_buf_consume(b, 11), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(cl_buf_consume(b, 8), 0);
	CHECK_INT_EQ(b->len, 2);
	CHECK_INT_EQ(b->d[0], 9);
	cl_buf_free(b);
	cl_buf_free(NULL);
}

int
main(void)
{
	CL_RUN(getters_consume_or_fail);
	CL_RUN(huge_length_does_not_wrap);
	CL_RUN(little_endian);
	CL_RUN(buf_max_is_enforced);
	return cl_test_done();
}
