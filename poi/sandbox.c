/* SPDX-License-Identifier: ISC */
/*
 * The seccomp filters of the POI's processes (roles.h), one function
 * each, on lib/sandbox.  Beyond the base list of sandbox.h:
 *
 *   capture its socket to the parent (3) and the eventfds of its ring
 *           (5, 6); its event loop; what libpcap does on an open
 *           packet socket (poll, recvfrom, getsockopt).  The interface
 *           or the file was opened before the filter: no open, no
 *           socket, no connect.
 *   match   its socket to the parent (3) and the eventfds of its two
 *           rings (5, 6, 8, 9); its event loop; poll() while the PDU
 *           ring is full; mmap of the task file the parent hands over.
 *           No open, no socket, no connect.
 *   output  its socket to the parent (3), the eventfds of its ring (5,
 *           6), one TCP connection to the MDF (socket, connect, socket
 *           options), the spool file (pread, pwrite, ftruncate, unlink
 *           in its directory), and opening a file read-only (the
 *           revocation list, read again when it changes, where it can
 *           see it).  No other open: the spool file and the key were
 *           opened before the filter.
 *   parent  the task file on SIGHUP (open, read, a memfd to hand it
 *           over), the metrics listener (accept), its roles' sockets,
 *           and waiting for the roles.  No socket, no connect, no exec,
 *           no fork.
 */
#include <seccomp.h>
#include <stdio.h>

#include "err.h"
#include "roles.h"
#include "sandbox.h"

static int
new_filter(struct cl_sandbox **sb, char *err, size_t errlen)
{
	int r;

	if ((r = cl_sandbox_begin(sb, err, errlen)) != 0)
		return r;
	return 0;
}

/* libevent's epoll backend with precise timers (lib/loop). */
static void
allow_loop(struct cl_sandbox *sb)
{
	static const int calls[] = {SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
	    SCMP_SYS(epoll_ctl), SCMP_SYS(timerfd_settime),
	    SCMP_SYS(timerfd_gettime)};
	size_t i;

	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		(void)cl_sandbox_allow(sb, calls[i], -1);
}

static void
allow_sock(struct cl_sandbox *sb, int fd)
{
	(void)cl_sandbox_allow(sb, SCMP_SYS(read), fd);
	(void)cl_sandbox_allow(sb, SCMP_SYS(recvmsg), fd);
	(void)cl_sandbox_allow(sb, SCMP_SYS(write), fd);
	(void)cl_sandbox_allow(sb, SCMP_SYS(sendmsg), fd);
}

static void
allow_efd(struct cl_sandbox *sb, int fd)
{
	(void)cl_sandbox_allow(sb, SCMP_SYS(read), fd);
	(void)cl_sandbox_allow(sb, SCMP_SYS(write), fd);
}

int
poi_sandbox_capture(char *err, size_t errlen)
{
	static const int calls[] = {SCMP_SYS(poll), SCMP_SYS(ppoll),
	    SCMP_SYS(recvfrom), SCMP_SYS(getsockopt)};
	struct cl_sandbox *sb = NULL;
	size_t i;
	int r;

	if ((r = new_filter(&sb, err, errlen)) != 0)
		return r;
	allow_loop(sb);
	allow_sock(sb, CL_SANDBOX_SOCK);
	allow_efd(sb, POI_CAPTURE_PKT_FD + 1);
	allow_efd(sb, POI_CAPTURE_PKT_FD + 2);
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		(void)cl_sandbox_allow(sb, calls[i], -1);
	return cl_sandbox_load(sb, err, errlen);
}

int
poi_sandbox_match(char *err, size_t errlen)
{
	struct cl_sandbox *sb = NULL;
	int r;

	if ((r = new_filter(&sb, err, errlen)) != 0)
		return r;
	allow_loop(sb);
	allow_sock(sb, CL_SANDBOX_SOCK);
	allow_efd(sb, POI_MATCH_PKT_FD + 1);
	allow_efd(sb, POI_MATCH_PKT_FD + 2);
	allow_efd(sb, POI_MATCH_PDU_FD + 1);
	allow_efd(sb, POI_MATCH_PDU_FD + 2);
	(void)cl_sandbox_allow(sb, SCMP_SYS(poll), -1);
	(void)cl_sandbox_allow(sb, SCMP_SYS(ppoll), -1);
	(void)cl_sandbox_allow(sb, SCMP_SYS(close), -1);
	return cl_sandbox_load(sb, err, errlen);
}

int
poi_sandbox_output(char *err, size_t errlen)
{
	static const int calls[] = {SCMP_SYS(socket), SCMP_SYS(connect),
	    SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(getsockname),
	    SCMP_SYS(getpeername), SCMP_SYS(read), SCMP_SYS(write),
	    SCMP_SYS(sendto), SCMP_SYS(recvfrom), SCMP_SYS(sendmsg),
	    SCMP_SYS(recvmsg), SCMP_SYS(shutdown), SCMP_SYS(close),
	    SCMP_SYS(fcntl), SCMP_SYS(pread64), SCMP_SYS(pwrite64),
	    SCMP_SYS(ftruncate), SCMP_SYS(unlinkat), SCMP_SYS(fstat),
	    SCMP_SYS(newfstatat), SCMP_SYS(poll), SCMP_SYS(ppoll)};
	struct cl_sandbox *sb = NULL;
	size_t i;
	int r;

	if ((r = new_filter(&sb, err, errlen)) != 0)
		return r;
	allow_loop(sb);
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		(void)cl_sandbox_allow(sb, calls[i], -1);
	return cl_sandbox_load(sb, err, errlen);
}

int
poi_sandbox_parent(char *err, size_t errlen)
{
	static const int calls[] = {SCMP_SYS(read), SCMP_SYS(write),
	    SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64),
	    SCMP_SYS(lseek), SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(close),
	    SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
	    SCMP_SYS(fcntl), SCMP_SYS(memfd_create), SCMP_SYS(accept),
	    SCMP_SYS(accept4), SCMP_SYS(recvfrom), SCMP_SYS(sendto),
	    SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(setsockopt),
	    SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(shutdown),
	    SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(wait4),
	    SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask)};
	struct cl_sandbox *sb = NULL;
	size_t i;
	int r;

	if ((r = new_filter(&sb, err, errlen)) != 0)
		return r;
	allow_loop(sb);
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		(void)cl_sandbox_allow(sb, calls[i], -1);
	return cl_sandbox_load(sb, err, errlen);
}
