/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

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
