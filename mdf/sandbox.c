/* SPDX-License-Identifier: ISC */
/*
 * The seccomp filter of clearli-mdf's own process (mediation, the spool
 * and delivery to the LEMFs), installed once its roles run and its setup
 * is done.  It is wide, as that process does much (the spool's files,
 * the LEMF connections, name lookups for them, the metrics listener,
 * reloads of the task file), but it holds what an intruder would want
 * first: no exec, no process of its own (threads only), no ptrace, no
 * raw or netlink sockets, no change of user, root or mounts, no kernel
 * interfaces (bpf, modules, keyrings, io_uring, perf).
 */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/socket.h>

#include "err.h"
#include "mdfsandbox.h"
#include "sandbox.h"

int
mdf_sandbox_parent(char *err, size_t errlen)
{
	static const int any[] = {
	    /* descriptors and files: the spool, the task file, the CRLs */
	    SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	    SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(lseek),
	    SCMP_SYS(close), SCMP_SYS(fcntl), SCMP_SYS(dup), SCMP_SYS(dup3),
	    SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
	    SCMP_SYS(openat), SCMP_SYS(getdents64), SCMP_SYS(fsync),
	    SCMP_SYS(fdatasync), SCMP_SYS(syncfs), SCMP_SYS(ftruncate),
	    SCMP_SYS(fallocate), SCMP_SYS(unlinkat), SCMP_SYS(renameat),
	    SCMP_SYS(renameat2), SCMP_SYS(mkdirat), SCMP_SYS(flock),
	    SCMP_SYS(fchmod), SCMP_SYS(umask), SCMP_SYS(readlinkat),
	    SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
	    /* the same, by the older calls the C library may use */
	    SCMP_SYS(open), SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(rename),
	    SCMP_SYS(unlink), SCMP_SYS(mkdir), SCMP_SYS(rmdir),
	    SCMP_SYS(access), SCMP_SYS(readlink), SCMP_SYS(dup2),
	    SCMP_SYS(pipe),
	    /* sockets: the LEMFs, their names, the metrics, the roles */
	    SCMP_SYS(connect), SCMP_SYS(accept), SCMP_SYS(accept4),
	    SCMP_SYS(bind), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt),
	    SCMP_SYS(getsockname), SCMP_SYS(getpeername), SCMP_SYS(sendto),
	    SCMP_SYS(recvfrom), SCMP_SYS(sendmsg), SCMP_SYS(recvmsg),
	    SCMP_SYS(sendmmsg), SCMP_SYS(shutdown), SCMP_SYS(poll),
	    SCMP_SYS(ppoll), SCMP_SYS(ioctl),
	    /* the event loop */
	    SCMP_SYS(epoll_create1), SCMP_SYS(epoll_create),
	    SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),
	    SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime),
	    SCMP_SYS(timerfd_gettime), SCMP_SYS(eventfd2), SCMP_SYS(pipe2),
	    /* signals, its roles, its threads */
	    SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(kill),
	    SCMP_SYS(tgkill), SCMP_SYS(wait4), SCMP_SYS(waitid),
	    SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(gettid),
	    SCMP_SYS(sched_yield), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	    SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getppid),
	    SCMP_SYS(uname), SCMP_SYS(sysinfo), SCMP_SYS(getrlimit),
	    SCMP_SYS(prlimit64), SCMP_SYS(nanosleep), SCMP_SYS(clock_getres)};
	static const int domains[] = {AF_UNIX, AF_INET, AF_INET6};
	struct cl_sandbox *sb = NULL;
	size_t i;
	int r;

	if ((r = cl_sandbox_begin(&sb, err, errlen)) != 0)
		return r;
	for (i = 0; i < sizeof(any) / sizeof(any[0]); i++)
		(void)cl_sandbox_allow(sb, any[i], -1);
	for (i = 0; i < sizeof(domains) / sizeof(domains[0]); i++)
		(void)cl_sandbox_allow_masked(
		    sb, SCMP_SYS(socket), 0, 0xffffffff, (uint64_t)domains[i]);
	/* Threads only (a worker queue may start one), never a process:
	 * clone with CLONE_THREAD; clone3, whose flags a filter cannot
	 * see, fails so that the C library falls back to clone. */
	(void)cl_sandbox_allow_masked(
	    sb, SCMP_SYS(clone), 0, CLONE_THREAD, CLONE_THREAD);
	(void)cl_sandbox_errno(sb, SCMP_SYS(clone3), ENOSYS);
	return cl_sandbox_load(sb, err, errlen);
}
