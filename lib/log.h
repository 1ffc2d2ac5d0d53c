/* SPDX-License-Identifier: ISC */
#ifndef CL_LOG_H
#define CL_LOG_H

/*
 * Logging for daemons and tools: one line per event on stderr, prefixed
 * with an RFC 3339 UTC timestamp, the program name and the level, and
 * optionally also to syslog.  Not thread-safe with respect to cl_log_init().
 */

#include <stdarg.h>
#include <stdbool.h>

enum cl_log_level {
	CL_LOG_ERR = 0,
	CL_LOG_WARN = 1,
	CL_LOG_INFO = 2,
	CL_LOG_DEBUG = 3,
};

/* Sets the program name (borrowed, must outlive logging) and level. */
void cl_log_init(const char *prog, enum cl_log_level level, bool use_syslog);
void cl_log_set_level(enum cl_log_level level);

void cl_log(enum cl_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cl_vlog(enum cl_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Logs at CL_LOG_ERR and exits with status 1. */
void cl_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)))
__attribute__((noreturn));

#define cl_err(...)   cl_log(CL_LOG_ERR, __VA_ARGS__)
#define cl_warn(...)  cl_log(CL_LOG_WARN, __VA_ARGS__)
#define cl_info(...)  cl_log(CL_LOG_INFO, __VA_ARGS__)
#define cl_debug(...) cl_log(CL_LOG_DEBUG, __VA_ARGS__)

#endif /* CL_LOG_H */
