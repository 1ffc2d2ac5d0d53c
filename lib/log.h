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
#include <stddef.h>
#include <stdint.h>

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

/*
 * Escapes untrusted bytes (a certificate name, an address or string a
 * peer sent) for a log line: printable ASCII (0x20-0x7e) is copied except
 * '%', and every other byte, '%' included, becomes %XX (upper-case hex),
 * so that no peer can end a line, forge one, or send terminal escape
 * sequences, and the original bytes can be read back exactly.  With
 * CL_ESC_NAME only [A-Za-z0-9._-] is copied (file names, LIIDs).  buf
 * (blen > 0) always gets a NUL-terminated string; when it is too small
 * (3 * n + 1 is always enough) the text is cut before a whole escape and
 * ends in "...".  Returns buf.
 */
#define CL_ESC_NAME 0x1u
const char *cl_esc(
    const void *p, size_t n, char *buf, size_t blen, unsigned flags);
/* cl_esc() of a NUL-terminated string with flags 0. */
const char *cl_esc_str(const char *s, char *buf, size_t blen);

/*
 * A rate limit for one kind of log line: at most burst lines per interval;
 * the lines past it are counted, and the first line let through after the
 * interval (or cl_log_rl_flush()) says how many were left out.  now_ms is
 * any monotonic clock in milliseconds.  Initialise with CL_LOG_RL_INIT.
 */
struct cl_log_rl {
	uint64_t interval_ms;
	unsigned burst;
	unsigned n;          /* lines in this interval */
	uint64_t since;      /* start of this interval */
	uint64_t suppressed; /* lines left out in this interval */
	enum cl_log_level level;
};
#define CL_LOG_RL_INIT(interval_ms, burst)                                     \
	{                                                                      \
		(interval_ms), (burst), 0, 0, 0, CL_LOG_INFO                   \
	}

/* Logs a line through rl; returns true if it was written. */
bool cl_log_rl(struct cl_log_rl *rl, uint64_t now_ms, enum cl_log_level level,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* At the end of an interval with lines left out, logs how many. */
void cl_log_rl_flush(struct cl_log_rl *rl, uint64_t now_ms);

#define cl_err(...)   cl_log(CL_LOG_ERR, __VA_ARGS__)
#define cl_warn(...)  cl_log(CL_LOG_WARN, __VA_ARGS__)
#define cl_info(...)  cl_log(CL_LOG_INFO, __VA_ARGS__)
#define cl_debug(...) cl_log(CL_LOG_DEBUG, __VA_ARGS__)

#endif /* CL_LOG_H */
