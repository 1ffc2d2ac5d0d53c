/* SPDX-License-Identifier: ISC */
/* lib/json: strict parsing, limits, accessors, allocation failures. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "harness.h"
#include "json.h"

#define MAXLEN (16u * 1024 * 1024)

static int
parse(const char *s, unsigned flags, struct cl_json **doc, char *err,
    size_t errlen)
{
	return cl_json_parse(
	    (const uint8_t *)s, strlen(s), MAXLEN, flags, doc, err, errlen);
}

/* Checks that s is refused with r, and that the message holds want. */
static void
refused(const char *s, size_t len, unsigned flags, int r, const char *want)
{
	struct cl_json *doc = (struct cl_json *)1;
	char err[CL_JSON_ERR_MAX];

	CHECK_INT_EQ(cl_json_parse((const uint8_t *)s, len, MAXLEN, flags, &doc,
			 err, sizeof(err)),
	    r);
	CHECK(doc == NULL);
	if (strstr(err, want) == NULL)
		cl_test_fail(__FILE__, __LINE__, "message \"%s\" lacks \"%s\"",
		    err, want);
}

CL_TEST(accessors)
{
	struct cl_json *doc;
	const struct cl_json_val *r, *a;
	char err[CL_JSON_ERR_MAX];
	const char *s;
	uint64_t u;
	size_t n;
	bool b;

	CHECK_INT_EQ(parse("{\"s\":\"h\\u00e9\\\"\", \"n\":42, \"b\":true,\n"
			   " \"a\":[1,\"x\",null,[]], \"o\":{}, \"neg\":-1, "
			   "\"r\":1.5, \"max\":9223372036854775807}",
			 0, &doc, err, sizeof(err)),
	    0);
	r = cl_json_root(doc);
	CHECK(cl_json_is_object(r));
	CHECK_INT_EQ(cl_json_size(r), 8);
	CHECK_INT_EQ(cl_json_str(cl_json_get(r, "s"), &s, &n), 0);
	CHECK_INT_EQ(n, 4);
	CHECK_MEM_EQ(s, "h\xc3\xa9\"", 4);
	CHECK_INT_EQ(cl_json_u64(doc, cl_json_get(r, "n"), 0, 100, &u), 0);
	CHECK_INT_EQ(u, 42);
	CHECK_INT_EQ(
	    cl_json_u64(doc, cl_json_get(r, "n"), 43, 100, &u), CL_ERR_RANGE);
	CHECK_INT_EQ(cl_json_u64(doc, cl_json_get(r, "neg"), 0, UINT64_MAX, &u),
	    CL_ERR_RANGE);
	CHECK_INT_EQ(cl_json_u64(doc, cl_json_get(r, "r"), 0, UINT64_MAX, &u),
	    CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_json_u64(doc, cl_json_get(r, "s"), 0, UINT64_MAX, &u),
	    CL_ERR_FORMAT);
	CHECK_INT_EQ(
	    cl_json_u64(doc, cl_json_get(r, "max"), 0, UINT64_MAX, &u), 0);
	CHECK(u == 9223372036854775807ULL);
	CHECK_INT_EQ(cl_json_bool(cl_json_get(r, "b"), &b), 0);
	CHECK(b);
	CHECK_INT_EQ(cl_json_bool(cl_json_get(r, "n"), &b), CL_ERR_FORMAT);
	a = cl_json_get(r, "a");
	CHECK(cl_json_is_array(a));
	CHECK_INT_EQ(cl_json_size(a), 4);
	CHECK(cl_json_is_string(cl_json_at(a, 1)));
	CHECK(cl_json_is_null(cl_json_at(a, 2)));
	CHECK(cl_json_is_array(cl_json_at(a, 3)));
	CHECK(cl_json_at(a, 4) == NULL);
	CHECK(cl_json_at(r, 0) == NULL);
	CHECK(cl_json_is_object(cl_json_get(r, "o")));
	CHECK(cl_json_get(r, "missing") == NULL);
	CHECK(cl_json_get(a, "s") == NULL);
	CHECK_INT_EQ(cl_json_str(NULL, &s, &n), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_json_u64(doc, NULL, 0, 1, &u), CL_ERR_FORMAT);
	cl_json_free(doc);
	cl_json_free(NULL);
}

CL_TEST(strict)
{
	refused("{\"a\":1,\"a\":2}", 13, 0, CL_ERR_FORMAT, "duplicate");
	refused("{\"a\":1,\n \"b\":{\"c\":1,\"c\":1}}", 27, 0, CL_ERR_FORMAT,
	    "line 2, column");
	refused("{\"a\":\"x\\u0000y\"}", 16, 0, CL_ERR_FORMAT, "line 1");
	refused("{\"a\":\"x\0y\"}", 11, 0, CL_ERR_FORMAT, "line 1");
	refused("{\"a\":1}\0", 8, 0, CL_ERR_FORMAT, "line 1");
	refused("{\"a\":1} x", 9, 0, CL_ERR_FORMAT, "end of file expected");
	refused("{\"a\":1}{}", 9, 0, CL_ERR_FORMAT, "line 1");
	refused("42", 2, 0, CL_ERR_FORMAT, "line 1");
	refused("", 0, 0, CL_ERR_FORMAT, "line 1");
	refused("{'a':1}", 7, 0, CL_ERR_FORMAT, "line 1");
	refused("{\"a\":01}", 8, 0, CL_ERR_FORMAT, "line 1");
	refused("{\"a\":1,}", 8, 0, CL_ERR_FORMAT, "line 1");
	refused("{\"a\":\"\\x\"}", 10, 0, CL_ERR_FORMAT, "line 1");
	refused("{\"a\":\"\\ud800\"}", 14, 0, CL_ERR_FORMAT, "line 1");
	refused("{\"a\":\"\t\"}", 9, 0, CL_ERR_FORMAT, "line 1");
	refused(
	    "{\"a\":18446744073709551616}", 26, 0, CL_ERR_FORMAT, "too big");
}

CL_TEST(nul_allowed)
{
	struct cl_json *doc;
	char err[CL_JSON_ERR_MAX];
	const char *s;
	size_t n;

	CHECK_INT_EQ(cl_json_parse((const uint8_t *)"[\"x\\u0000y\"]", 12,
			 MAXLEN, CL_JSON_ALLOW_NUL, &doc, err, sizeof(err)),
	    0);
	CHECK_INT_EQ(cl_json_str(cl_json_at(cl_json_root(doc), 0), &s, &n), 0);
	CHECK_INT_EQ(n, 3);
	CHECK_MEM_EQ(s, "x\0y", 3);
	cl_json_free(doc);
	/* A raw NUL stays refused. */
	refused("[\"x\0y\"]", 7, CL_JSON_ALLOW_NUL, CL_ERR_FORMAT, "line 1");
}

CL_TEST(big_int)
{
	struct cl_json *doc;
	const struct cl_json_val *r;
	char err[CL_JSON_ERR_MAX];
	uint64_t u;

	CHECK_INT_EQ(parse("{\"big\":18446744073709551615,\"n\":7}",
			 CL_JSON_BIG_INT, &doc, err, sizeof(err)),
	    0);
	r = cl_json_root(doc);
	CHECK_INT_EQ(cl_json_u64(doc, cl_json_get(r, "n"), 0, 10, &u), 0);
	CHECK_INT_EQ(u, 7);
	CHECK_INT_EQ(cl_json_u64(doc, cl_json_get(r, "big"), 0, UINT64_MAX, &u),
	    CL_ERR_RANGE);
	cl_json_free(doc);
	/* A fraction anywhere: no double of the document is an integer. */
	CHECK_INT_EQ(parse("{\"big\":18446744073709551615,\"n\":7,\"r\":2.5}",
			 CL_JSON_BIG_INT, &doc, err, sizeof(err)),
	    0);
	r = cl_json_root(doc);
	CHECK_INT_EQ(
	    cl_json_u64(doc, cl_json_get(r, "n"), 0, 10, &u), CL_ERR_FORMAT);
	CHECK_INT_EQ(
	    cl_json_u64(doc, cl_json_get(r, "r"), 0, 10, &u), CL_ERR_FORMAT);
	cl_json_free(doc);
	/* Read as doubles, 9.0 and 9e0 are still no integers. */
	CHECK_INT_EQ(parse("{\"big\":18446744073709551615,\"n\":9.0}",
			 CL_JSON_BIG_INT, &doc, err, sizeof(err)),
	    0);
	CHECK_INT_EQ(
	    cl_json_u64(doc, cl_json_get(cl_json_root(doc), "n"), 0, 10, &u),
	    CL_ERR_FORMAT);
	cl_json_free(doc);
	CHECK_INT_EQ(parse("{\"n\":9e0,\"big\":18446744073709551615}",
			 CL_JSON_BIG_INT, &doc, err, sizeof(err)),
	    0);
	CHECK_INT_EQ(
	    cl_json_u64(doc, cl_json_get(cl_json_root(doc), "n"), 0, 10, &u),
	    CL_ERR_FORMAT);
	cl_json_free(doc);
	/* Other errors are not retried. */
	refused("{\"big\":18446744073709551615,\"big\":1}", 36, CL_JSON_BIG_INT,
	    CL_ERR_FORMAT, "duplicate");
}

CL_TEST(deep_nesting)
{
	size_t n = 100000, i;
	char *s = malloc(2 * n + 8);
	struct cl_json *doc;
	char err[CL_JSON_ERR_MAX];

	CHECK(s != NULL);
	memset(s, '[', n);
	refused(s, n, 0, CL_ERR_TOOBIG, "nested deeper than 512");
	memset(s, '{', n);
	refused(s, n, 0, CL_ERR_TOOBIG, "nested deeper than 512");
	/* Exactly the limit is read; one more is not. */
	for (i = 0; i < CL_JSON_DEPTH_MAX; i++) {
		s[i] = '[';
		s[CL_JSON_DEPTH_MAX + i] = ']';
	}
	CHECK_INT_EQ(cl_json_parse((const uint8_t *)s, 2 * CL_JSON_DEPTH_MAX,
			 MAXLEN, 0, &doc, err, sizeof(err)),
	    0);
	cl_json_free(doc);
	memmove(s + 1, s, 2 * CL_JSON_DEPTH_MAX);
	s[0] = '[';
	s[2 * CL_JSON_DEPTH_MAX + 1] = ']';
	refused(s, 2 * CL_JSON_DEPTH_MAX + 2, 0, CL_ERR_TOOBIG,
	    "line 1, column 513");
	/* Brackets inside a string are no nesting. */
	s[0] = '[';
	s[1] = '"';
	memset(s + 2, '[', n);
	memcpy(s + 2 + n, "\"]", 2);
	CHECK_INT_EQ(cl_json_parse((const uint8_t *)s, n + 4, MAXLEN, 0, &doc,
			 err, sizeof(err)),
	    0);
	cl_json_free(doc);
	/* An escaped quote does not end the string. */
	memcpy(s + 2, "\\\"", 2);
	CHECK_INT_EQ(cl_json_parse((const uint8_t *)s, n + 4, MAXLEN, 0, &doc,
			 err, sizeof(err)),
	    0);
	cl_json_free(doc);
	free(s);
}

CL_TEST(huge_strings)
{
	size_t n = 8u * 1024 * 1024, len;
	char *s = malloc(n + 8);
	struct cl_json *doc;
	char err[CL_JSON_ERR_MAX];
	const char *v;

	CHECK(s != NULL);
	s[0] = '[';
	s[1] = '"';
	memset(s + 2, 'a', n);
	memcpy(s + 2 + n, "\"]", 2);
	CHECK_INT_EQ(cl_json_parse((const uint8_t *)s, n + 4, n + 4, 0, &doc,
			 err, sizeof(err)),
	    0);
	CHECK_INT_EQ(
	    cl_json_str(cl_json_at(cl_json_root(doc), 0), &v, &len), 0);
	CHECK_INT_EQ(len, n);
	cl_json_free(doc);
	/* One byte over the caller's limit is refused unread. */
	CHECK_INT_EQ(cl_json_parse((const uint8_t *)s, n + 4, n + 3, 0, &doc,
			 err, sizeof(err)),
	    CL_ERR_TOOBIG);
	CHECK(strstr(err, "more than the") != NULL);
	/* Unterminated. */
	CHECK_INT_EQ(cl_json_parse((const uint8_t *)s, n + 2, MAXLEN, 0, &doc,
			 err, sizeof(err)),
	    CL_ERR_FORMAT);
	CHECK(strstr(err, "premature end of input") != NULL);
	free(s);
}

CL_TEST(bad_utf8)
{
	static const char *bad[] = {
	    "[\"\xff\"]",             /* not a lead byte */
	    "[\"\xc0\x80\"]",         /* overlong NUL */
	    "[\"\xe0\x80\xaf\"]",     /* overlong '/' */
	    "[\"\xed\xa0\x80\"]",     /* surrogate */
	    "[\"\xf4\x90\x80\x80\"]", /* above U+10FFFF */
	    "[\"\xc3\"]",             /* cut sequence */
	    "[\"\xe2\x82\"]",         /* cut sequence */
	    "[\x80]",                 /* outside a string */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i], strlen(bad[i]), 0, CL_ERR_FORMAT, "line 1");
}

CL_TEST(truncation)
{
	static const char s[] = "{\"kind\":\"cc\",\"liid\":\"L\\u00ff\","
				"\"a\":[1,[2,{\"b\":null}],true,false,-3e2],"
				"\"sha256\":\"00ff\"}";
	struct cl_json *doc;
	char err[CL_JSON_ERR_MAX];
	size_t n;

	CHECK_INT_EQ(cl_json_parse((const uint8_t *)s, sizeof(s) - 1, MAXLEN, 0,
			 &doc, err, sizeof(err)),
	    0);
	cl_json_free(doc);
	/* Every shorter prefix, each copied so that a read past its end is
	 * seen by ASan. */
	for (n = 0; n < sizeof(s) - 1; n++) {
		char *p = malloc(n + 1);
		int r;

		CHECK(p != NULL);
		memcpy(p, s, n);
		r = cl_json_parse(
		    (const uint8_t *)p, n, MAXLEN, 0, &doc, err, sizeof(err));
		free(p);
		if (r != CL_ERR_FORMAT)
			cl_test_fail(__FILE__, __LINE__,
			    "prefix of %zu bytes: %d", n, r);
		CHECK(doc == NULL);
		CHECK(strncmp(err, "line 1, column ", 15) == 0);
	}
}

static int
parse_check(void *arg)
{
	const char *s = arg;
	const struct cl_json_val *r;
	struct cl_json *doc;
	char err[CL_JSON_ERR_MAX];
	const char *v;
	uint64_t u;
	size_t n;
	int e;

	if ((e = cl_json_parse((const uint8_t *)s, strlen(s), MAXLEN,
		 CL_JSON_BIG_INT, &doc, err, sizeof(err))) != 0) {
		if (e == CL_ERR_NOMEM && strstr(err, "out of memory") == NULL)
			return CL_ERR_INTERNAL;
		return e;
	}
	r = cl_json_root(doc);
	e = CL_ERR_INTERNAL;
	if (cl_json_str(cl_json_get(r, "liid"), &v, &n) != 0 || n != 5 ||
	    memcmp(v, "LIID1", 5) != 0 ||
	    cl_json_u64(doc, cl_json_get(r, "seq"), 0, 10, &u) != 0 || u != 9 ||
	    cl_json_size(cl_json_get(r, "a")) != 3)
		goto out;
	e = 0;
out:
	cl_json_free(doc);
	return e;
}

CL_TEST(alloc_failures)
{
	char s[] = "{\"liid\":\"LIID1\",\"seq\":9,\"a\":[1,\"two\",{\"x\":[]}],"
		   "\"big\":18446744073709551615,\"long key for a new "
		   "allocation\":\"and a long string value too\"}";
	unsigned long runs;

	/* jansson allocates through lib/json, whose malloc() is the
	 * harness's. */
	runs = cl_test_alloc_loop("cl_json_parse", parse_check, s);
	/* The document allocates: the loop did inject failures. */
	CHECK(runs > 10);
}

int
main(void)
{
	CL_RUN(accessors);
	CL_RUN(strict);
	CL_RUN(nul_allowed);
	CL_RUN(big_int);
	CL_RUN(deep_nesting);
	CL_RUN(huge_strings);
	CL_RUN(bad_utf8);
	CL_RUN(truncation);
	CL_RUN(alloc_failures);
	return cl_test_done();
}
