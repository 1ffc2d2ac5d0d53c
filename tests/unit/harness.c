/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include <errno.h>

#include "err.h"
#include "harness.h"

#ifndef CL_SHARED_DIR
#define CL_SHARED_DIR "../shared"
#endif

jmp_buf cl_test_jmp;
static int npass, nfail;

void
cl_test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "  FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	longjmp(cl_test_jmp, 1);
}

void
cl_test_run(const char *name, void (*fn)(void))
{
	if (setjmp(cl_test_jmp) == 0) {
		fn();
		npass++;
		printf("ok   %s\n", name);
	} else {
		nfail++;
		printf("FAIL %s\n", name);
	}
	fflush(stdout);
}

int
cl_test_done(void)
{
	printf("%d passed, %d failed\n", npass, nfail);
	return nfail == 0 ? 0 : 1;
}

const char *
cl_test_path(const char *rel)
{
	static char buf[4096];
	const char *dir = getenv("CL_SHARED");

	snprintf(buf, sizeof(buf), "%s/%s", dir ? dir : CL_SHARED_DIR, rel);
	return buf;
}

void
cl_test_read_file(const char *path, uint8_t **out, size_t *len)
{
	FILE *f;
	long n;
	uint8_t *p;

	if ((f = fopen(path, "rb")) == NULL)
		cl_test_fail(__FILE__, __LINE__, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (n < 0 || (p = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		cl_test_fail(__FILE__, __LINE__, "cannot read %s", path);
	}
	if (n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		fclose(f);
		cl_test_fail(__FILE__, __LINE__, "short read %s", path);
	}
	fclose(f);
	*out = p;
	*len = (size_t)n;
}

/* ---- allocation failures ---- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__real_reallocarray(void *p, size_t k, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_reallocarray(void *p, size_t k, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static unsigned long alloc_fail_at, alloc_count;
static bool alloc_failed;

/* True if this allocation is the one to fail. */
static bool
alloc_fails(void)
{
	if (alloc_fail_at == 0)
		return false;
	if (++alloc_count != alloc_fail_at)
		return false;
	alloc_failed = true;
	errno = ENOMEM;
	return true;
}

void *
__wrap_malloc(size_t n)
{
	return alloc_fails() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t k, size_t n)
{
	return alloc_fails() ? NULL : __real_calloc(k, n);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return alloc_fails() ? NULL : __real_realloc(p, n);
}

void *
__wrap_reallocarray(void *p, size_t k, size_t n)
{
	return alloc_fails() ? NULL : __real_reallocarray(p, k, n);
}

char *
__wrap_strdup(const char *s)
{
	return alloc_fails() ? NULL : __real_strdup(s);
}

char *
__wrap_strndup(const char *s, size_t n)
{
	return alloc_fails() ? NULL : __real_strndup(s, n);
}

void
cl_test_alloc_arm(unsigned long n)
{
	alloc_fail_at = n;
	alloc_count = 0;
	alloc_failed = false;
}

bool
cl_test_alloc_disarm(void)
{
	bool f = alloc_failed;

	alloc_fail_at = 0;
	alloc_count = 0;
	alloc_failed = false;
	return f;
}

unsigned long
cl_test_alloc_loop(const char *what, int (*fn)(void *), void *arg)
{
	unsigned long n;
	bool failed;
	int r;

	for (n = 1; n < 1000000; n++) {
		cl_test_alloc_arm(n);
		r = fn(arg);
		failed = cl_test_alloc_disarm();
		if (!failed) {
			if (r != 0)
				cl_test_fail(__FILE__, __LINE__,
				    "%s: %d without a failed allocation", what,
				    r);
			return n;
		}
		if (r != 0 && r != CL_ERR_NOMEM)
			cl_test_fail(__FILE__, __LINE__,
			    "%s: allocation %lu failed: returned %d, not "
			    "CL_ERR_NOMEM",
			    what, n, r);
	}
	cl_test_fail(
	    __FILE__, __LINE__, "%s: no end after %lu allocations", what, n);
}
