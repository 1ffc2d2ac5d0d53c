/* SPDX-License-Identifier: ISC */
/* Tests for lib/seqwin: repeat, conflict and new; growth; the bound. */
#include <string.h>

#include "err.h"
#include "harness.h"
#include "seqwin.h"

static void
hash_of(uint32_t seq, uint8_t tag, uint8_t h[16])
{
	memset(h, tag, 16);
	h[0] = (uint8_t)seq;
	h[1] = (uint8_t)(seq >> 8);
}

CL_TEST(repeat_conflict_new)
{
	struct cl_seqwin w;
	uint8_t h[16], o[16];

	cl_seqwin_init(&w, 0);
	CHECK_INT_EQ(w.max, CL_SEQWIN_MIN);
	hash_of(7, 1, h);
	hash_of(7, 2, o);
	CHECK_INT_EQ(cl_seqwin_check(&w, 7, h), CL_SEQWIN_NEW);
	CHECK_INT_EQ(cl_seqwin_put(&w, 7, h), 0);
	CHECK_INT_EQ(cl_seqwin_check(&w, 7, h), CL_SEQWIN_REPEAT);
	CHECK_INT_EQ(cl_seqwin_check(&w, 7, o), CL_SEQWIN_CONFLICT);
	CHECK_INT_EQ(cl_seqwin_check(&w, 8, h), CL_SEQWIN_NEW);
	/* the same slot, another number: not seen */
	CHECK_INT_EQ(cl_seqwin_check(&w, 7 + CL_SEQWIN_MIN, h), CL_SEQWIN_NEW);
	/* a conflict replaces the content */
	CHECK_INT_EQ(cl_seqwin_put(&w, 7, o), 0);
	CHECK_INT_EQ(cl_seqwin_check(&w, 7, o), CL_SEQWIN_REPEAT);
	CHECK_INT_EQ(cl_seqwin_check(&w, 7, h), CL_SEQWIN_CONFLICT);
	cl_seqwin_release(&w);
}

/* A run of consecutive numbers: the last max are all held, older ones
 * are not, and the table never passes max slots. */
CL_TEST(bounded_run)
{
	struct cl_seqwin w;
	const struct cl_seqwin_ent *e;
	uint8_t h[16];
	uint32_t i, pos = 0, n = 0;

	cl_seqwin_init(&w, 1000); /* rounded up to 1024 */
	CHECK_INT_EQ(w.max, 1024);
	for (i = 0; i < 5000; i++) {
		hash_of(i, 3, h);
		CHECK_INT_EQ(cl_seqwin_put(&w, i, h), 0);
		CHECK(w.cap <= w.max);
	}
	CHECK_INT_EQ(w.cap, 1024);
	for (i = 5000 - 1024; i < 5000; i++) {
		hash_of(i, 3, h);
		CHECK_INT_EQ(cl_seqwin_check(&w, i, h), CL_SEQWIN_REPEAT);
	}
	hash_of(5000 - 1025, 3, h);
	CHECK_INT_EQ(cl_seqwin_check(&w, 5000 - 1025, h), CL_SEQWIN_NEW);
	while ((e = cl_seqwin_next(&w, &pos)) != NULL) {
		CHECK(e->seq >= 5000 - 1024 && e->seq < 5000);
		n++;
	}
	CHECK_INT_EQ(n, 1024);
	CHECK_INT_EQ(w.n, 1024);
	cl_seqwin_release(&w);
	/* the bound of the bound */
	cl_seqwin_init(&w, UINT32_MAX);
	CHECK_INT_EQ(w.max, CL_SEQWIN_MAX);
}

/* Growing keeps what was there, also around the 32-bit wrap. */
CL_TEST(growth_keeps_entries)
{
	struct cl_seqwin w;
	uint8_t h[16];
	uint32_t i, base = UINT32_MAX - 100;

	cl_seqwin_init(&w, 4096);
	for (i = 0; i < 300; i++) {
		hash_of(base + i, 4, h);
		CHECK_INT_EQ(cl_seqwin_put(&w, base + i, h), 0);
	}
	CHECK(w.cap >= 512);
	for (i = 0; i < 300; i++) {
		hash_of(base + i, 4, h);
		CHECK_INT_EQ(
		    cl_seqwin_check(&w, base + i, h), CL_SEQWIN_REPEAT);
	}
	cl_seqwin_release(&w);
	CHECK_INT_EQ(cl_seqwin_check(&w, 1, h), CL_SEQWIN_NEW);
}

int
main(void)
{
	CL_RUN(repeat_conflict_new);
	CL_RUN(bounded_run);
	CL_RUN(growth_keeps_entries);
	return cl_test_done();
}
