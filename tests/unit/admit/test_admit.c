/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include "admit.h"
#include "err.h"
#include "harness.h"

static struct cl_addr
v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct cl_addr x;

	memset(&x, 0, sizeof(x));
	x.family = 4;
	x.a[0] = a;
	x.a[1] = b;
	x.a[2] = c;
	x.a[3] = d;
	return x;
}

CL_TEST(parse_forms)
{
	struct cl_admit_opts o;

	memset(&o, 0, sizeof(o));
	CHECK_INT_EQ(cl_admit_parse("10:30:100", 1000, &o), 0);
	CHECK_INT_EQ(o.start, 10);
	CHECK_INT_EQ(o.rate, 30);
	CHECK_INT_EQ(o.full, 100);
	CHECK_INT_EQ(cl_admit_parse("50", 1000, &o), 0);
	CHECK_INT_EQ(o.start, 50);
	CHECK_INT_EQ(o.full, 50);
	CHECK_INT_EQ(cl_admit_parse("10:30", 1000, &o), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_admit_parse("10:30:100:4", 1000, &o), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_admit_parse("", 1000, &o), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_admit_parse("10::100", 1000, &o), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_admit_parse("010:30:100", 1000, &o), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_admit_parse("101:30:100", 1000, &o), CL_ERR_RANGE);
	CHECK_INT_EQ(cl_admit_parse("10:101:100", 1000, &o), CL_ERR_RANGE);
	CHECK_INT_EQ(cl_admit_parse("0:30:100", 1000, &o), CL_ERR_RANGE);
	CHECK_INT_EQ(cl_admit_parse("10:30:1001", 1000, &o), CL_ERR_RANGE);
	CHECK_INT_EQ(o.start, 50); /* unchanged by failures */
}

CL_TEST(new_rejects_bad_options)
{
	struct cl_admit_opts o = {.start = 5, .rate = 30, .full = 4};
	struct cl_admit *a = (void *)1;

	CHECK_INT_EQ(cl_admit_new(&o, &a), CL_ERR_INVALID_ARG);
	CHECK(a == NULL);
	o.start = 0;
	o.full = 0;
	CHECK_INT_EQ(cl_admit_new(&o, &a), CL_ERR_INVALID_ARG);
	o.full = 4;
	o.v4_bits = 33;
	CHECK_INT_EQ(cl_admit_new(&o, &a), CL_ERR_INVALID_ARG);
}

/* Below start everything is admitted; at full everything is refused. */
CL_TEST(full_limit)
{
	struct cl_admit_opts o = {.start = 8, .rate = 0, .full = 8};
	struct cl_admit_stats st;
	struct cl_admit *a;
	struct cl_addr x;
	unsigned i;

	CHECK_INT_EQ(cl_admit_new(&o, &a), 0);
	for (i = 0; i < 8; i++) {
		x = v4(10, 0, 0, (uint8_t)i);
		CHECK_INT_EQ(cl_admit(a, &x), CL_ADMIT_OK);
	}
	CHECK_INT_EQ(cl_admit_count(a), 8);
	x = v4(10, 0, 1, 1);
	CHECK_INT_EQ(cl_admit(a, &x), CL_ADMIT_FULL);
	CHECK_INT_EQ(cl_admit(a, &x), CL_ADMIT_FULL);
	x = v4(10, 0, 1, 2);
	CHECK_INT_EQ(cl_admit(a, &x), CL_ADMIT_FULL);
	cl_admit_take_stats(a, &st);
	CHECK_INT_EQ(st.full, 3);
	CHECK_INT_EQ(st.sources, 2);
	CHECK_INT_EQ(st.early + st.source, 0);
	cl_admit_take_stats(a, &st);
	CHECK_INT_EQ(st.full + st.sources, 0);
	/* Releasing one makes room for one. */
	x = v4(10, 0, 0, 3);
	cl_admit_release(a, &x);
	CHECK_INT_EQ(cl_admit_count(a), 7);
	x = v4(10, 0, 1, 1);
	CHECK_INT_EQ(cl_admit(a, &x), CL_ADMIT_OK);
	CHECK_INT_EQ(cl_admit(a, &x), CL_ADMIT_FULL);
	cl_admit_free(a);
}

CL_TEST(per_source_and_netblock)
{
	struct cl_admit_opts o = {
	    .start = 100, .rate = 30, .full = 100, .per_source = 2};
	struct cl_admit *a;
	struct cl_addr x = v4(192, 0, 2, 1), y = v4(192, 0, 2, 2);
	struct cl_admit_stats st;
	struct cl_addr z;

	CHECK_INT_EQ(cl_admit_new(&o, &a), 0);
	CHECK_INT_EQ(cl_admit(a, &x), CL_ADMIT_OK);
	CHECK_INT_EQ(cl_admit(a, &x), CL_ADMIT_OK);
	CHECK_INT_EQ(cl_admit(a, &x), CL_ADMIT_SOURCE);
	CHECK_INT_EQ(cl_admit(a, &y), CL_ADMIT_OK); /* another address */
	cl_admit_release(a, &x);
	CHECK_INT_EQ(cl_admit(a, &x), CL_ADMIT_OK);
	cl_admit_take_stats(a, &st);
	CHECK_INT_EQ(st.source, 1);
	CHECK_INT_EQ(st.sources, 1);
	cl_admit_free(a);

	/* A /24 netblock counts as one source; IPv6 per /64. */
	o.v4_bits = 24;
	o.v6_bits = 64;
	CHECK_INT_EQ(cl_admit_new(&o, &a), 0);
	CHECK_INT_EQ(cl_admit(a, &x), CL_ADMIT_OK);
	CHECK_INT_EQ(cl_admit(a, &y), CL_ADMIT_OK);
	z = v4(192, 0, 2, 200);
	CHECK_INT_EQ(cl_admit(a, &z), CL_ADMIT_SOURCE);
	z = v4(192, 0, 3, 1);
	CHECK_INT_EQ(cl_admit(a, &z), CL_ADMIT_OK);
	memset(&z, 0, sizeof(z));
	z.family = 6;
	z.a[0] = 0x20;
	z.a[1] = 0x01;
	z.a[15] = 1;
	CHECK_INT_EQ(cl_admit(a, &z), CL_ADMIT_OK);
	z.a[15] = 2;
	CHECK_INT_EQ(cl_admit(a, &z), CL_ADMIT_OK);
	z.a[8] = 0xff; /* same /64 */
	CHECK_INT_EQ(cl_admit(a, &z), CL_ADMIT_SOURCE);
	z.a[7] = 1; /* another /64 */
	CHECK_INT_EQ(cl_admit(a, &z), CL_ADMIT_OK);
	cl_admit_free(a);
}

/*
 * Random early refusal: none below start; between start and full a share
 * that rises from rate % to 100 %; the same seed gives the same choices.
 */
static unsigned
early_refusals(uint64_t seed, unsigned start, unsigned rate, unsigned full,
    unsigned held, unsigned tries)
{
	struct cl_admit_opts o = {.start = start, .rate = rate, .full = full};
	struct cl_admit *a;
	struct cl_addr x;
	unsigned i, n = 0;

	o.seed = seed;
	if (cl_admit_new(&o, &a) != 0)
		return ~0u;
	for (i = 0; i < held; i++) {
		x = v4(10, 1, (uint8_t)(i >> 8), (uint8_t)i);
		if (cl_admit(a, &x) == CL_ADMIT_OK)
			continue;
		if (i < start)
			n += 1000000; /* must not happen below start */
		while (cl_admit(a, &x) != CL_ADMIT_OK)
			;
	}
	/* Each try is admitted and released at once: count stays at held. */
	for (i = 0; i < tries; i++) {
		x = v4(10, 2, (uint8_t)(i >> 8), (uint8_t)i);
		if (cl_admit(a, &x) == CL_ADMIT_EARLY)
			n++;
		else
			cl_admit_release(a, &x);
	}
	cl_admit_free(a);
	return n;
}

CL_TEST(random_early_refusal)
{
	unsigned n;

	/* Below start: never. */
	CHECK_INT_EQ(early_refusals(42, 100, 30, 200, 50, 10000), 0);
	/* At start: about rate %. */
	n = early_refusals(42, 100, 30, 200, 100, 10000);
	CHECK(n > 2700 && n < 3300);
	/* Half-way: about 30 + 70 * 50 / 101 = 64.7 %. */
	n = early_refusals(42, 100, 30, 200, 150, 10000);
	CHECK(n > 6100 && n < 6800);
	/* Just below full: nearly all. */
	n = early_refusals(42, 100, 30, 200, 199, 10000);
	CHECK(n > 9800);
	/* rate 0 at start: none yet. */
	CHECK_INT_EQ(early_refusals(7, 100, 0, 200, 100, 1000), 0);
	/* Deterministic for a seed, different for another. */
	CHECK_INT_EQ(early_refusals(42, 100, 30, 200, 150, 1000),
	    early_refusals(42, 100, 30, 200, 150, 1000));
	CHECK(early_refusals(1, 10, 50, 1000, 10, 64) !=
		early_refusals(2, 10, 50, 1000, 10, 64) ||
	    early_refusals(3, 10, 50, 1000, 10, 64) !=
		early_refusals(4, 10, 50, 1000, 10, 64));
}

/* Many sources come and go: the per-source table stays consistent. */
CL_TEST(churn)
{
	struct cl_admit_opts o = {
	    .start = 64, .rate = 100, .full = 64, .per_source = 3, .seed = 9};
	struct cl_addr held[64];
	struct cl_admit *a;
	unsigned i, k, nheld = 0;
	uint64_t r = 88172645463325252ULL;

	CHECK_INT_EQ(cl_admit_new(&o, &a), 0);
	for (i = 0; i < 200000; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		if (nheld > 0 && (r & 1)) {
			k = (unsigned)(r >> 8) % nheld;
			cl_admit_release(a, &held[k]);
			held[k] = held[--nheld];
		} else {
			struct cl_addr x =
			    v4(10, 3, 0, (uint8_t)(r >> 20) % 40);

			if (cl_admit(a, &x) == CL_ADMIT_OK)
				held[nheld++] = x;
		}
		CHECK_INT_EQ(cl_admit_count(a), nheld);
	}
	while (nheld > 0)
		cl_admit_release(a, &held[--nheld]);
	CHECK_INT_EQ(cl_admit_count(a), 0);
	cl_admit_free(a);
}

CL_TEST(refused_sources_capped)
{
	struct cl_admit_opts o = {.start = 1, .rate = 0, .full = 1};
	struct cl_admit_stats st;
	struct cl_admit *a;
	struct cl_addr x;
	unsigned i;

	CHECK_INT_EQ(cl_admit_new(&o, &a), 0);
	x = v4(10, 9, 9, 9);
	CHECK_INT_EQ(cl_admit(a, &x), CL_ADMIT_OK);
	for (i = 0; i < 3000; i++) {
		x = v4(10, 8, (uint8_t)(i >> 8), (uint8_t)i);
		CHECK_INT_EQ(cl_admit(a, &x), CL_ADMIT_FULL);
	}
	cl_admit_take_stats(a, &st);
	CHECK_INT_EQ(st.full, 3000);
	CHECK_INT_EQ(st.sources, 1024);
	CHECK(st.sources_capped);
	cl_admit_free(a);
}

int
main(void)
{
	CL_RUN(parse_forms);
	CL_RUN(new_rejects_bad_options);
	CL_RUN(full_limit);
	CL_RUN(per_source_and_netblock);
	CL_RUN(random_early_refusal);
	CL_RUN(churn);
	CL_RUN(refused_sources_capped);
	return cl_test_done();
}
