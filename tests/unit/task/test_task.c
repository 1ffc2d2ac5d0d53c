/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "harness.h"
#include "task.h"

#define XID1 "8c292fa1-5831-46ec-86be-bd85f2083299"
#define XID2 "00000000-0000-4000-8000-000000000002"
#define WIN  "start=2020-01-01T00:00:00Z end=2030-01-01T00:00:00Z"

static struct cl_taskset *
parse_ok(const char *text)
{
	struct cl_taskset *ts = NULL;
	char err[256];
	int r;

	r = cl_taskset_parse(text, strlen(text), &ts, err, sizeof(err));
	if (r != 0)
		cl_test_fail(__FILE__, __LINE__, "parse: %s", err);
	return ts;
}

static void
parse_bad(const char *text, const char *want_err)
{
	struct cl_taskset *ts = NULL;
	char err[256];
	int r;

	r = cl_taskset_parse(text, strlen(text), &ts, err, sizeof(err));
	CHECK(r != 0);
	CHECK(ts == NULL);
	if (strstr(err, want_err) == NULL)
		cl_test_fail(
		    __FILE__, __LINE__, "error '%s' lacks '%s'", err, want_err);
}

CL_TEST(parse_and_lookup)
{
	struct cl_taskset *ts;
	const struct cl_matchlist *ml[8];
	struct cl_addr a;
	uint8_t mac[6];
	size_t n;

	ts = parse_ok("# comment\n\n"
		      "task " XID1 " liid=LIID-1 deliver=iri+cc " WIN
		      " target=ip:10.0.0.3 target=user:xxxxxxxxx\n"
		      "task " XID2 " liid=LIID-2 deliver=cc " WIN
		      "  target=ip:10.0.0.0/24\ttarget=mac:90:b1:1c:99:49:29 "
		      "target=ip:2a00:1:1:100::/56 target=user:J%c3%bcrgen%20X "
		      "target=duid:00030001000102030405 # trailing\n");
	CHECK_INT_EQ(cl_taskset_count(ts), 2);
	CHECK(cl_taskset_has_identities(ts));

	CHECK_INT_EQ(cl_parse_addr("10.0.0.3", &a), 0);
	n = cl_taskset_lookup_addr(ts, &a, 128, ml, 8);
	CHECK_INT_EQ(n, 2); /* the /32 of task 1 and the /24 of task 2 */
	CHECK_STR_EQ(ml[0]->hits[0].task->liid, "LIID-1");
	CHECK_STR_EQ(ml[0]->hits[0].target->text, "10.0.0.3");
	CHECK_STR_EQ(ml[1]->hits[0].task->liid, "LIID-2");
	/* Prefix lookups can be limited to shorter task prefixes. */
	CHECK_INT_EQ(cl_taskset_lookup_addr(ts, &a, 24, ml, 8), 1);

	CHECK_INT_EQ(cl_parse_addr("10.0.1.3", &a), 0);
	CHECK_INT_EQ(cl_taskset_lookup_addr(ts, &a, 128, ml, 8), 0);
	CHECK_INT_EQ(cl_parse_addr("2a00:1:1:1ff::1", &a), 0);
	CHECK_INT_EQ(cl_taskset_lookup_addr(ts, &a, 128, ml, 8), 1);
	CHECK_INT_EQ(cl_parse_addr("2a00:1:1:200::1", &a), 0);
	CHECK_INT_EQ(cl_taskset_lookup_addr(ts, &a, 128, ml, 8), 0);

	CHECK(cl_taskset_lookup_id(
		  ts, CL_TGT_USER, (const uint8_t *)"xxxxxxxxx", 9) != NULL);
	CHECK(cl_taskset_lookup_id(ts, CL_TGT_USER,
		  (const uint8_t *)"J\xc3\xbcrgen X", 9) != NULL);
	CHECK(cl_taskset_lookup_id(
		  ts, CL_TGT_USER, (const uint8_t *)"xxxxxxxx", 8) == NULL);
	CHECK_INT_EQ(cl_parse_mac("90:b1:1c:99:49:29", mac), 0);
	CHECK(cl_taskset_lookup_id(ts, CL_TGT_MAC, mac, 6) != NULL);
	/* A MAC is not a user name with the same bytes. */
	CHECK(cl_taskset_lookup_id(ts, CL_TGT_USER, mac, 6) == NULL);
	CHECK(cl_taskset_lookup_id(ts, CL_TGT_DUID,
		  (const uint8_t *)"\x00\x03\x00\x01\x00\x01\x02\x03\x04\x05",
		  10) != NULL);
	cl_taskset_free(ts);
}

CL_TEST(time_window)
{
	struct cl_taskset *ts;
	struct cl_task *t;
	int64_t s, e;

	ts = parse_ok("task " XID1 " liid=L deliver=cc "
		      "start=2026-01-01T00:00:00Z end=2026-01-02T00:00:00Z "
		      "target=ip:192.0.2.1\n");
	t = cl_taskset_task(ts, 0);
	CHECK_INT_EQ(cl_parse_time("2026-01-01T00:00:00Z", &s), 0);
	CHECK_INT_EQ(cl_parse_time("2026-01-02T00:00:00Z", &e), 0);
	CHECK(!cl_task_active(t, s - 1));
	CHECK(cl_task_active(t, s));
	CHECK(cl_task_active(t, e - 1));
	CHECK(!cl_task_active(t, e)); /* the end is exclusive */
	cl_taskset_free(ts);
}

CL_TEST(reject_whole_file)
{
	parse_bad("task " XID1 " liid=L deliver=cc " WIN " target=ip:1.2.3.4\n"
		  "task " XID2 " liid=L deliver=cc " WIN " target=ip:1.2.3\n",
	    "line 2:");
	parse_bad("task " XID1 " liid=L deliver=cc " WIN " target=ip:1.2.3.4\n"
		  "task " XID1 " liid=M deliver=cc " WIN " target=ip:1.2.3.5\n",
	    "more than one task");
	parse_bad("task " XID1 " liid=L deliver=cc " WIN "\n", "no target");
	parse_bad("task " XID1 " deliver=cc " WIN " target=ip:1.2.3.4\n",
	    "needs liid");
	parse_bad("task " XID1 " liid=L deliver=cc start=2030-01-01T00:00:00Z "
		  "end=2020-01-01T00:00:00Z target=ip:1.2.3.4\n",
	    "not before end");
	parse_bad("task " XID1 " liid=L deliver=all " WIN
		  " target=ip:1.2.3.4\n",
	    "deliver must be");
	parse_bad("task " XID1
		  " liid=ABCDEFGHIJKLMNOPQRSTUVWXYZ deliver=cc " WIN
		  " target=ip:1.2.3.4\n",
	    "liid");
	parse_bad("task " XID1 " liid=L deliver=cc " WIN
		  " target=ip:10.0.0.1/8\n",
	    "host bits");
	parse_bad("task " XID1 " liid=L deliver=cc " WIN " target=imsi:123\n",
	    "unknown target type");
	parse_bad("task " XID1 " liid=L deliver=cc " WIN " target=user:a%2\n",
	    "bad user name");
	parse_bad("task " XID1 " liid=L deliver=cc " WIN " target=duid:0g\n",
	    "bad DUID");
	parse_bad("task " XID1 " liid=L deliver=cc " WIN " target=mac:1:2:3\n",
	    "bad MAC");
	parse_bad("task " XID1 " liid=L deliver=cc " WIN
		  " target=ip:1.2.3.4 x\n",
	    "key=value");
	parse_bad("task " XID1 " liid=L liid=M deliver=cc " WIN
		  " target=ip:1.2.3.4\n",
	    "repeated");
	parse_bad("task not-a-uuid liid=L deliver=cc " WIN
		  " target=ip:1.2.3.4\n",
	    "not a UUID");
	parse_bad("tusk " XID1 "\n", "expected 'task'");
	parse_bad("task " XID1 " liid=L deliver=cc " WIN
		  " target=ip:1.2.3.4\r\n",
	    "control character");
	parse_bad("task " XID1 " liid=L deliver=cc start=2020-01-01 "
		  "end=2030-01-01T00:00:00Z target=ip:1.2.3.4\n",
	    "start");
}

CL_TEST(inherit_state)
{
	struct cl_taskset *a, *b;

	a = parse_ok(
	    "task " XID1 " liid=L deliver=cc " WIN " target=ip:1.2.3.4\n");
	cl_taskset_task(a, 0)->seqno = 42;
	b = parse_ok(
	    "task " XID2 " liid=M deliver=cc " WIN " target=ip:1.2.3.5\n"
	    "task " XID1 " liid=L deliver=iri+cc " WIN
	    " target=ip:1.2.3.4 target=ip:1.2.3.6\n");
	cl_taskset_inherit(b, a);
	CHECK_INT_EQ(cl_taskset_task(b, 0)->seqno, 0);
	CHECK_INT_EQ(cl_taskset_task(b, 1)->seqno, 42);
	cl_taskset_free(a);
	cl_taskset_free(b);
}

/* 100 000 tasks must load in well under a second. */
CL_TEST(many_tasks_load_fast)
{
	struct cl_taskset *ts;
	const struct cl_matchlist *ml[8];
	struct cl_addr a;
	size_t i, n = 100000, cap = n * 160, len = 0;
	char *text = malloc(cap), err[256];
	struct timespec t0, t1;
	double secs;

	CHECK(text != NULL);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len,
		    "task %08zx-0000-4000-8000-000000000000 liid=L%zu "
		    "deliver=cc " WIN " target=ip:10.%zu.%zu.%zu\n",
		    i, i, (i >> 16) & 255, (i >> 8) & 255, i & 255);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT_EQ(cl_taskset_parse(text, len, &ts, err, sizeof(err)), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("     100000 tasks parsed in %.3f s\n", secs);
	CHECK_INT_EQ(cl_taskset_count(ts), n);
	CHECK_INT_EQ(cl_parse_addr("10.1.134.159", &a), 0);
	CHECK_INT_EQ(cl_taskset_lookup_addr(ts, &a, 128, ml, 8), 1);
	CHECK_STR_EQ(ml[0]->hits[0].task->liid, "L99999");
	cl_taskset_free(ts);
	free(text);
}

CL_TEST(malformed_inputs_never_crash)
{
	static const char base[] =
	    "task " XID1 " liid=L deliver=iri+cc " WIN
	    " target=ip:2001:db8::/32 target=user:a%41b\n";
	struct cl_taskset *ts;
	char err[256];
	size_t i;

	/* Every prefix of a valid file is either valid or rejected. */
	for (i = 0; i <= sizeof(base) - 1; i++) {
		ts = NULL;
		if (cl_taskset_parse(base, i, &ts, err, sizeof(err)) == 0)
			CHECK(ts != NULL);
		else
			CHECK(ts == NULL && err[0] != '\0');
		cl_taskset_free(ts);
	}
	ts = NULL;
	CHECK(cl_taskset_parse("task\0x", 6, &ts, err, sizeof(err)) != 0);
	CHECK(ts == NULL);
}

CL_TEST(load_file_errors)
{
	struct cl_taskset *ts = NULL;
	char err[256];

	CHECK_INT_EQ(
	    cl_taskset_load("/nonexistent/tasks", &ts, err, sizeof(err)),
	    CL_ERR_SYSTEM);
	CHECK(strstr(err, "/nonexistent/tasks") != NULL);
	CHECK(cl_taskset_load("/", &ts, err, sizeof(err)) != 0);
	CHECK(ts == NULL);
}

static int
task_parse_once(void *arg)
{
	const char *text = arg;
	struct cl_taskset *ts = NULL, *old = NULL;
	struct cl_addr a;
	char err[256];
	int r;

	if ((r = cl_taskset_parse(text, strlen(text), &ts, err, sizeof(err))) !=
	    0)
		return r;
	/* inheriting state from a second copy allocates too */
	if ((r = cl_taskset_parse(
		 text, strlen(text), &old, err, sizeof(err))) != 0)
		goto out;
	cl_taskset_inherit(ts, old);
	r = CL_ERR_INTERNAL;
	if (cl_taskset_count(ts) != 2 || cl_parse_addr("10.0.0.3", &a) != 0)
		goto out;
	{
		const struct cl_matchlist *ml[8];

		if (cl_taskset_lookup_addr(ts, &a, 128, ml, 8) != 2 ||
		    cl_taskset_lookup_id(ts, CL_TGT_USER,
			(const uint8_t *)"J\xc3\xbcrgen X", 9) == NULL)
			goto out;
	}
	r = 0;
out:
	cl_taskset_free(old);
	cl_taskset_free(ts);
	return r;
}

/* Each allocation of the parser fails in turn: an error, never a crash. */
CL_TEST(alloc_failures)
{
	static const char text[] =
	    "task " XID1 " liid=LIID-1 deliver=iri+cc " WIN
	    " target=ip:10.0.0.3 target=user:xxxxxxxxx\n"
	    "task " XID2 " liid=LIID-2 deliver=cc " WIN
	    "  target=ip:10.0.0.0/24\ttarget=mac:90:b1:1c:99:49:29 "
	    "target=ip:2a00:1:1:100::/56 target=user:J%c3%bcrgen%20X "
	    "target=duid:00030001000102030405\n";

	CHECK(cl_test_alloc_loop("cl_taskset_parse", task_parse_once,
		  (void *)(uintptr_t)text) > 2);
}

int
main(void)
{
	CL_RUN(parse_and_lookup);
	CL_RUN(time_window);
	CL_RUN(reject_whole_file);
	CL_RUN(inherit_state);
	CL_RUN(many_tasks_load_fast);
	CL_RUN(malformed_inputs_never_crash);
	CL_RUN(load_file_errors);
	CL_RUN(alloc_failures);
	return cl_test_done();
}
