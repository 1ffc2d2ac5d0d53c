/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "harness.h"
#include "htab.h"

struct ent {
	uint32_t k;
};

static bool
eq(const void *v, const void *key, size_t len)
{
	return len == 4 && memcmp(&((const struct ent *)v)->k, key, 4) == 0;
}

CL_TEST(put_get_del_many)
{
	struct cl_htab t;
	struct ent *e = calloc(20000, sizeof(*e));
	uint32_t i, k;
	size_t pos = 0, seen = 0;

	CHECK(e != NULL);
	CHECK_INT_EQ(cl_htab_init(&t, 20000, eq), 0);
	for (i = 0; i < 20000; i++) {
		e[i].k = i * 7919u;
		CHECK_INT_EQ(cl_htab_put(&t, &e[i].k, 4, &e[i]), 0);
	}
	CHECK_INT_EQ(cl_htab_put(&t, &e[5].k, 4, &e[5]), CL_ERR_EXISTS);
	k = 123456789;
	CHECK_INT_EQ(cl_htab_put(&t, &k, 4, &e[0]), CL_ERR_FULL);
	/* Delete every third entry; the rest must stay reachable
	 * (backward-shift deletion keeps probe chains intact). */
	for (i = 0; i < 20000; i += 3)
		CHECK(cl_htab_del(&t, &e[i].k, 4) == &e[i]);
	for (i = 0; i < 20000; i++) {
		void *v = cl_htab_get(&t, &e[i].k, 4);

		if (i % 3 == 0)
			CHECK(v == NULL);
		else
			CHECK(v == &e[i]);
	}
	while (cl_htab_next(&t, &pos) != NULL)
		seen++;
	CHECK_INT_EQ(seen, t.n);
	CHECK_INT_EQ(t.n, 20000 - 6667);
	cl_htab_release(&t);
	free(e);
}

CL_TEST(delete_while_iterating)
{
	struct cl_htab t;
	struct ent e[1000];
	struct ent *v;
	size_t pos = 0;
	uint32_t i;

	CHECK_INT_EQ(cl_htab_init(&t, 1000, eq), 0);
	for (i = 0; i < 1000; i++) {
		e[i].k = i;
		CHECK_INT_EQ(cl_htab_put(&t, &e[i].k, 4, &e[i]), 0);
	}
	while ((v = cl_htab_next(&t, &pos)) != NULL)
		if (v->k % 2 == 0)
			cl_htab_del_at(&t, &pos);
	CHECK_INT_EQ(t.n, 500);
	for (i = 0; i < 1000; i++)
		CHECK((cl_htab_get(&t, &i, 4) != NULL) == (i % 2 == 1));
	cl_htab_release(&t);
}

int
main(void)
{
	CL_RUN(put_get_del_many);
	CL_RUN(delete_while_iterating);
	return cl_test_done();
}
