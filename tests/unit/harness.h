/* SPDX-License-Identifier: ISC */
#ifndef CL_TEST_HARNESS_H
#define CL_TEST_HARNESS_H

/*
 * A small unit-test harness.  A test file defines functions with
 * CL_TEST(name) and lists them in main() with cl_test_run(); main ends with
 * "return cl_test_done();", which prints "N passed, N failed".  A failed
 * check prints where and why and ends that test, not the program.
 *
 * CL_SHARED is the path of the shared test data (../shared), passed in by
 * the build as -DCL_SHARED_DIR; tests that need it use cl_test_path().
 */

#include <inttypes.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

extern jmp_buf cl_test_jmp;

void cl_test_run(const char *name, void (*fn)(void));
int cl_test_done(void);
void cl_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4))) __attribute__((noreturn));
/* Returns "<shared>/<rel>" in a static buffer. */
const char *cl_test_path(const char *rel);
/* Reads a whole file; the caller frees *out.  Fails the test on error. */
void cl_test_read_file(const char *path, uint8_t **out, size_t *len);

/*
 * Allocation-failure injection, as curl's torture mode and SQLite's OOM
 * tests do.  Unit executables are linked with -Wl,--wrap for malloc,
 * calloc, realloc, reallocarray, strdup and strndup; while armed, the
 * allocation numbered n (counting from 1 at arming) returns NULL with
 * errno ENOMEM, and every other one succeeds.  Libraries outside the
 * executable are reached only where our code hands them its allocator
 * (lib/json does so for jansson).
 */
void cl_test_alloc_arm(unsigned long n);
/* Disarms; returns true if the failure was injected. */
bool cl_test_alloc_disarm(void);

/*
 * Runs fn(arg) with allocation 1, 2, 3, ... failing in turn, until a run
 * makes no failing allocation; that run must return 0.  Each run with a
 * failure must return 0 (the failure was survived, and fn checked the
 * result) or CL_ERR_NOMEM, and must free what it allocated (ASan and
 * valgrind report a leak).  fn must not fail the test itself on
 * CL_ERR_NOMEM.  Fails the test, naming n and the return, otherwise.
 * Returns the number of runs.
 */
unsigned long cl_test_alloc_loop(
    const char *what, int (*fn)(void *), void *arg);

#define CL_TEST(name) static void name(void)
#define CL_RUN(name)  cl_test_run(#name, name)

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c))                                                      \
			cl_test_fail(__FILE__, __LINE__, "%s", #c);            \
	} while (0)
#define CHECK_INT_EQ(a, b)                                                     \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (a_ != b_)                                                  \
			cl_test_fail(__FILE__, __LINE__,                       \
			    "%s == %s: %lld != %lld", #a, #b, a_, b_);         \
	} while (0)
#define CHECK_STR_EQ(a, b)                                                     \
	do {                                                                   \
		const char *a_ = (a), *b_ = (b);                               \
		if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)           \
			cl_test_fail(__FILE__, __LINE__,                       \
			    "%s == %s: \"%s\" != \"%s\"", #a, #b,              \
			    a_ ? a_ : "(null)", b_ ? b_ : "(null)");           \
	} while (0)
#define CHECK_MEM_EQ(a, b, n)                                                  \
	do {                                                                   \
		if (memcmp((a), (b), (n)) != 0)                                \
			cl_test_fail(                                          \
			    __FILE__, __LINE__, "%s and %s differ", #a, #b);   \
	} while (0)

#endif
