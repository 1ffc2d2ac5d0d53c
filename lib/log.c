/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char *log_prog = "clearli";
static enum cl_log_level log_level = CL_LOG_INFO;
static bool log_syslog;

void
cl_log_init(const char *prog, enum cl_log_level level, bool use_syslog)
{
	log_prog = prog;
	log_level = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
cl_log_set_level(enum cl_log_level level)
{
	log_level = level;
}

void
cl_vlog(enum cl_log_level level, const char *fmt, va_list ap)
{
	static const char *names[] = {"error", "warning", "info", "debug"};
	static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	char msg[1024], ts[96];
	struct timespec now;
	struct tm tm;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	/* Not strftime(): without TZ, glibc opens /etc/localtime on every
	 * call, which a sandboxed role may not do. */
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
	fprintf(stderr, "%s.%03ldZ %s %s: %s\n", ts, now.tv_nsec / 1000000,
	    log_prog, names[level], msg);
	if (log_syslog)
		syslog(prio[level], "%s", msg);
}

void
cl_log(enum cl_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cl_vlog(level, fmt, ap);
	va_end(ap);
}

void
cl_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cl_vlog(CL_LOG_ERR, fmt, ap);
	va_end(ap);
	/* _exit: no atexit handler runs (there is none; a process under a
	 * seccomp filter could not run a leak checker's). */
	fflush(NULL);
	_exit(1);
}

const char *
cl_esc(const void *p, size_t n, char *buf, size_t blen, unsigned flags)
{
	static const char hx[] = "0123456789ABCDEF";
	const uint8_t *s = p;
	size_t i, o = 0;
	bool plain;

	if (blen == 0)
		return buf;
	for (i = 0; i < n; i++) {
		uint8_t c = s[i];

		if (flags & CL_ESC_NAME)
			plain = (c >= 'A' && c <= 'Z') ||
			    (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			    c == '.' || c == '_' || c == '-';
		else
			plain = c >= 0x20 && c < 0x7f && c != '%';
		if (o + (plain ? 1 : 3) + 1 > blen) {
			/* Cut whole units ("%XX" or one character) until
			 * "..." fits. */
			while (o > 0 && o + 4 > blen)
				o -= o >= 3 && buf[o - 3] == '%' ? 3 : 1;
			if (o + 4 <= blen) {
				memcpy(buf + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (plain) {
			buf[o++] = (char)c;
		} else {
			buf[o++] = '%';
			buf[o++] = hx[c >> 4];
			buf[o++] = hx[c & 15];
		}
	}
	buf[o] = '\0';
	return buf;
}

const char *
cl_esc_str(const char *s, char *buf, size_t blen)
{
	return cl_esc(s, strlen(s), buf, blen, 0);
}

static void
rl_roll(struct cl_log_rl *rl, uint64_t now_ms)
{
	if (now_ms - rl->since < rl->interval_ms && rl->since != 0)
		return;
	if (rl->suppressed > 0)
		cl_log(rl->level,
		    "%llu similar lines left out in the last %llu s",
		    (unsigned long long)rl->suppressed,
		    (unsigned long long)((now_ms - rl->since + 999) / 1000));
	rl->since = now_ms == 0 ? 1 : now_ms;
	rl->n = 0;
	rl->suppressed = 0;
}

bool
cl_log_rl(struct cl_log_rl *rl, uint64_t now_ms, enum cl_log_level level,
    const char *fmt, ...)
{
	va_list ap;

	rl_roll(rl, now_ms);
	if (level > log_level)
		return false;
	if (rl->n >= rl->burst) {
		rl->suppressed++;
		rl->level = level;
		return false;
	}
	rl->n++;
	va_start(ap, fmt);
	cl_vlog(level, fmt, ap);
	va_end(ap);
	return true;
}

void
cl_log_rl_flush(struct cl_log_rl *rl, uint64_t now_ms)
{
	if (rl->suppressed > 0)
		rl_roll(rl, now_ms);
}
