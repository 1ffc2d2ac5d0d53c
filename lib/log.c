/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	char msg[1024], ts[32];
	struct timespec now;
	struct tm tm;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
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
	exit(1);
}
