/* SPDX-License-Identifier: ISC */
#ifndef CL_ERR_H
#define CL_ERR_H

/*
 * Error codes shared by the library and the daemons.  Functions return 0 on
 * success or one of these (negative) values; cl_err_str() gives the text.
 */
#define CL_OK              0
#define CL_ERR_INTERNAL    -1  /* broken invariant inside clearli */
#define CL_ERR_NOMEM       -2  /* allocation failed */
#define CL_ERR_TRUNCATED   -3  /* input ended inside a field */
#define CL_ERR_FORMAT      -4  /* input is not of the expected form */
#define CL_ERR_TOOBIG      -5  /* input or buffer exceeds its limit */
#define CL_ERR_TRAILING    -6  /* unexpected bytes after the end */
#define CL_ERR_RANGE       -7  /* number outside the allowed range */
#define CL_ERR_UNSUPPORTED -8  /* valid but not handled by clearli */
#define CL_ERR_SYSTEM      -9  /* a system call failed; see errno */
#define CL_ERR_INVALID_ARG -10 /* caller passed a bad argument */
#define CL_ERR_EXISTS      -11 /* an entry with that key exists */
#define CL_ERR_NOT_FOUND   -12 /* no such entry */
#define CL_ERR_FULL        -13 /* a bounded table or queue is full */
#define CL_ERR_TLS         -14 /* TLS library error */
#define CL_ERR_AGAIN       -15 /* would block; try again later */
#define CL_ERR_CLOSED      -16 /* peer closed the connection */
#define CL_ERR_PERM        -17 /* unsafe owner or mode: refused */

/* Returns a static, human-readable description of an error code. */
const char *cl_err_str(int r);

/*
 * CL_ALWAYS(x)/CL_NEVER(x): "cannot happen" conditions, as in SQLite.  They
 * abort in debug builds and evaluate to x in release builds, so the caller
 * keeps a safe branch for the impossible case.
 */
#ifdef NDEBUG
#define CL_ALWAYS(x) (x)
#define CL_NEVER(x)  (x)
#else
void cl_assert_fail(const char *expr, const char *file, int line)
    __attribute__((noreturn));
#define CL_ALWAYS(x) ((x) ? 1 : (cl_assert_fail(#x, __FILE__, __LINE__), 0))
#define CL_NEVER(x)  ((x) ? (cl_assert_fail(#x, __FILE__, __LINE__), 1) : 0)
#endif

#endif /* CL_ERR_H */
