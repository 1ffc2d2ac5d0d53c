/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>

#include "err.h"

const char *
cl_err_str(int r)
{
	switch (r) {
	case CL_OK:
		return "success";
	case CL_ERR_INTERNAL:
		return "internal error";
	case CL_ERR_NOMEM:
		return "out of memory";
	case CL_ERR_TRUNCATED:
		return "input truncated";
	case CL_ERR_FORMAT:
		return "invalid format";
	case CL_ERR_TOOBIG:
		return "too large";
	case CL_ERR_TRAILING:
		return "trailing data";
	case CL_ERR_RANGE:
		return "value out of range";
	case CL_ERR_UNSUPPORTED:
		return "unsupported";
	case CL_ERR_SYSTEM:
		return "system call failed";
	case CL_ERR_INVALID_ARG:
		return "invalid argument";
	case CL_ERR_EXISTS:
		return "already exists";
	case CL_ERR_NOT_FOUND:
		return "not found";
	case CL_ERR_FULL:
		return "table or queue full";
	case CL_ERR_TLS:
		return "TLS error";
	case CL_ERR_AGAIN:
		return "try again";
	case CL_ERR_CLOSED:
		return "connection closed";
	case CL_ERR_PERM:
		return "unsafe owner or permissions";
	}
	return "unknown error";
}

#ifndef NDEBUG
void
cl_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "clearli: assertion failed: %s at %s:%d\n", expr, file,
	    line);
	abort();
}
#endif
