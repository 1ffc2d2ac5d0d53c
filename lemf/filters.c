/* SPDX-License-Identifier: ISC */
/*
 * The seccomp filters of clearli-lemf's processes (filters.h).
 */
#include <stdio.h>
#include <sys/syscall.h>

#include "err.h"
#include "filters.h"
#include "sandbox.h"

#define NR(x) __NR_##x

/* What an event loop on libevent (lib/loop) calls once running. */
static const int loop_calls[] = {NR(epoll_create1), NR(timerfd_create),
    NR(timerfd_settime), NR(timerfd_gettime), NR(eventfd2), NR(pipe2),
    NR(epoll_wait), NR(epoll_pwait), NR(epoll_ctl), NR(poll), NR(ppoll),
    NR(read), NR(write), NR(readv), NR(writev), NR(close), NR(fcntl),
    NR(recvmsg), NR(sendmsg), NR(recvfrom), NR(sendto), NR(rt_sigprocmask),
    NR(getrlimit), NR(prlimit64), NR(getuid), NR(geteuid), NR(getgid),
    NR(getegid)};

static int
start(struct cl_sandbox **sb, char *err, size_t errlen)
{
	int r;

	if ((r = cl_sandbox_begin(sb, err, errlen)) != 0)
		return r;
	return 0;
}

static void
allow(struct cl_sandbox *sb, const int *nr, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		(void)cl_sandbox_allow(sb, nr[i], -1);
}

int
lemf_filter_front(char *err, size_t errlen)
{
	static const int calls[] = {NR(getsockname), NR(getpeername),
	    NR(setsockopt), NR(getsockopt), NR(shutdown)};
	struct cl_sandbox *sb;
	int r;

	if ((r = start(&sb, err, errlen)) != 0)
		return r;
	allow(sb, loop_calls, sizeof(loop_calls) / sizeof(loop_calls[0]));
	allow(sb, calls, sizeof(calls) / sizeof(calls[0]));
	(void)cl_sandbox_allow(sb, NR(accept4), LEMF_FRONT_LISTEN);
	(void)cl_sandbox_allow(sb, NR(accept), LEMF_FRONT_LISTEN);
	return cl_sandbox_load(sb, err, errlen);
}

int
lemf_filter_writer(char *err, size_t errlen)
{
	/* rseq and set_robust_list: the start of the sync worker's
	 * thread, which prepare() made and may start to run only now. */
	static const int calls[] = {NR(pread64), NR(pwrite64), NR(lseek),
	    NR(fsync), NR(fdatasync), NR(syncfs), NR(ftruncate), NR(fstat),
	    NR(newfstatat), NR(rseq), NR(set_robust_list)};
	struct cl_sandbox *sb;
	int r;

	if ((r = start(&sb, err, errlen)) != 0)
		return r;
	allow(sb, loop_calls, sizeof(loop_calls) / sizeof(loop_calls[0]));
	allow(sb, calls, sizeof(calls) / sizeof(calls[0]));
	/* Files in the output directory only, by names relative to it. */
	(void)cl_sandbox_allow(sb, NR(openat), LEMF_WRITER_DIR);
	(void)cl_sandbox_allow(sb, NR(renameat), LEMF_WRITER_DIR);
	(void)cl_sandbox_allow(sb, NR(renameat2), LEMF_WRITER_DIR);
	(void)cl_sandbox_allow(sb, NR(unlinkat), LEMF_WRITER_DIR);
	return cl_sandbox_load(sb, err, errlen);
}

int
lemf_filter_parent(char *err, size_t errlen)
{
	static const int calls[] = {
	    NR(kill), NR(wait4), NR(waitid), NR(rt_sigaction)};
	struct cl_sandbox *sb;
	int r;

	if ((r = start(&sb, err, errlen)) != 0)
		return r;
	allow(sb, loop_calls, sizeof(loop_calls) / sizeof(loop_calls[0]));
	allow(sb, calls, sizeof(calls) / sizeof(calls[0]));
	return cl_sandbox_load(sb, err, errlen);
}

int
lemf_filter_parent_crl(char *err, size_t errlen)
{
	static const int calls[] = {
	    NR(kill), NR(wait4), NR(waitid), NR(rt_sigaction)};
	struct cl_sandbox *sb;
	int r;

	if ((r = start(&sb, err, errlen)) != 0)
		return r;
	allow(sb, loop_calls, sizeof(loop_calls) / sizeof(loop_calls[0]));
	allow(sb, calls, sizeof(calls) / sizeof(calls[0]));
	/* It reads the --tls-crl file when it changes. */
	cl_sandbox_allow_read_files(sb);
	return cl_sandbox_load(sb, err, errlen);
}
