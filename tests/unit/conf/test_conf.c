/* SPDX-License-Identifier: ISC */
#include <string.h>

#include "conf.h"
#include "err.h"
#include "harness.h"

struct got {
	char keys[8][64], vals[8][128];
	int n;
};

static int
set(void *arg, const char *k, const char *v, char *err, size_t errlen)
{
	struct got *g = arg;

	if (strcmp(k, "bad") == 0) {
		snprintf(err, errlen, "no such thing");
		return CL_ERR_NOT_FOUND;
	}
	if (g->n == 8)
		return CL_ERR_FULL;
	snprintf(g->keys[g->n], sizeof(g->keys[0]), "%s", k);
	snprintf(g->vals[g->n], sizeof(g->vals[0]), "%s", v);
	g->n++;
	return 0;
}

CL_TEST(parses_pairs)
{
	static const char t[] = "# comment\n\n  mdf = 127.0.0.1:4000 \n"
				"ipid=poi 1\n\tspool-max\t=\t1048576\n";
	struct got g = {0};
	char err[256];

	CHECK_INT_EQ(
	    cl_conf_parse("f", t, sizeof(t) - 1, set, &g, err, sizeof(err)), 0);
	CHECK_INT_EQ(g.n, 3);
	CHECK_STR_EQ(g.keys[0], "mdf");
	CHECK_STR_EQ(g.vals[0], "127.0.0.1:4000");
	CHECK_STR_EQ(g.vals[1], "poi 1");
	CHECK_STR_EQ(g.keys[2], "spool-max");
}

static void
bad(const char *t, const char *want)
{
	struct got g = {0};
	char err[256];

	CHECK(cl_conf_parse("f", t, strlen(t), set, &g, err, sizeof(err)) != 0);
	if (strstr(err, want) == NULL)
		cl_test_fail(__FILE__, __LINE__, "'%s' lacks '%s'", err, want);
}

CL_TEST(rejects_malformed)
{
	bad("mdf\n", "f:1: expected key = value");
	bad("\n\nMDF = x\n", "f:3: bad key");
	bad("mdf =\n", "empty");
	bad("= x\n", "empty");
	bad("a = b\r\n", "control character");
	bad("bad = 1\n", "f:1: bad: no such thing");
	{
		struct got g = {0};
		char err[256];

		CHECK(cl_conf_parse("f", "a = b\0c\n", 8, set, &g, err,
			  sizeof(err)) != 0);
	}
}

static int
conf_parse_once(void *arg)
{
	static const char t[] = "# comment\n\n  mdf = 127.0.0.1:4000 \n"
				"ipid=poi 1\n\tspool-max\t=\t1048576\n";
	struct got *g = arg;
	char err[256];
	int r;

	memset(g, 0, sizeof(*g));
	if ((r = cl_conf_parse(
		 "f", t, sizeof(t) - 1, set, g, err, sizeof(err))) != 0)
		return r;
	return g->n == 3 && strcmp(g->vals[1], "poi 1") == 0 ? 0
							     : CL_ERR_INTERNAL;
}

/* Each allocation of the parser fails in turn: an error, never a crash. */
CL_TEST(alloc_failures)
{
	struct got g;

	CHECK(cl_test_alloc_loop("cl_conf_parse", conf_parse_once, &g) >= 1);
}

int
main(void)
{
	CL_RUN(parses_pairs);
	CL_RUN(rejects_malformed);
	CL_RUN(alloc_failures);
	return cl_test_done();
}
