/* SPDX-License-Identifier: ISC */
/*
 * The seccomp filter of clearli-mdf's own process (mdf/sandbox.c),
 * installed in a child.  Its own calls must work: files in a directory
 * (create, write, sync, rename, remove: the spool), a TCP connection and
 * a UDP socket (the LEMFs, name lookups), accepting on a listener (the
 * metrics), the event loop, a thread (the spool's worker), clone3
 * failing with ENOSYS (the C library falls back to clone).  A process
 * (fork), exec, ptrace, a raw, packet or netlink socket, a user, root or
 * mount change, bpf, memfd_create, and mapping executable memory must
 * kill it with SIGSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "harness.h"
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif
#include "log.h"
#include "mdfsandbox.h"

typedef void probe_fn(void);

static char dir[64];
static uint16_t lport;
static int lfd = -1;

/* Forks; the child installs the filter and runs fn, then _exit(0).
 * Returns the wait status. */
static int
in_child(probe_fn *fn)
{
	int st = 0;
	pid_t p;

	fflush(NULL);
	CHECK((p = fork()) >= 0);
	if (p == 0) {
		char err[256];

		if (mdf_sandbox_parent(err, sizeof(err)) != 0) {
			fprintf(stderr, "filter: %s\n", err);
			_exit(91);
		}
		fn();
		_exit(0);
	}
	CHECK(waitpid(p, &st, 0) == p);
	return st;
}

static void *
worker(void *arg)
{
	return arg;
}

static void
own_calls(void)
{
	char path[128], path2[128], b[16];
	struct sockaddr_in sin;
	struct epoll_event ev;
	pthread_t t;
	int fd, s, a, ep, tf, dfd;

	/* the spool: files in its directory */
	snprintf(path, sizeof(path), "%s/seg", dir);
	snprintf(path2, sizeof(path2), "%s/seg2", dir);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		_exit(10);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) < 0 ||
	    write(fd, "record", 6) != 6 || pwrite(fd, "x", 1, 100) != 1 ||
	    pread(fd, b, 6, 0) != 6 || fdatasync(fd) != 0 || fsync(fd) != 0 ||
	    ftruncate(fd, 6) != 0 || syncfs(fd) != 0)
		_exit(11);
	close(fd);
	if (rename(path, path2) != 0 || unlinkat(dfd, "seg2", 0) != 0)
		_exit(12);
	close(dfd);
	/* a LEMF: TCP; a name lookup: UDP */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(lport);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0 ||
	    (connect(s, (struct sockaddr *)&sin, sizeof(sin)) != 0 &&
		errno != EINPROGRESS))
		_exit(13);
	if ((a = socket(AF_INET6, SOCK_DGRAM, 0)) < 0)
		_exit(14);
	close(a);
	/* the metrics: accept */
	{
		struct pollfd pf = {lfd, POLLIN, 0};

		if (poll(&pf, 1, 5000) != 1 ||
		    (a = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) < 0)
			_exit(15);
		close(a);
	}
	close(s);
	/* the event loop */
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (tf = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC)) < 0)
		_exit(16);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tf, &ev) != 0 ||
	    epoll_wait(ep, &ev, 1, 0) < 0)
		_exit(17);
	/* a thread, and clone3 refused softly */
	if (pthread_create(&t, NULL, worker, NULL) != 0 ||
	    pthread_join(t, NULL) != 0)
		_exit(18);
	if (syscall(SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
		_exit(19);
	cl_info("a log line from inside the filter");
}

CL_TEST(allows_its_own)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int st;

	CHECK((lfd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CHECK(listen(lfd, 8) == 0);
	CHECK(getsockname(lfd, (struct sockaddr *)&sin, &sl) == 0);
	lport = ntohs(sin.sin_port);
	st = in_child(own_calls);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		cl_test_fail(__FILE__, __LINE__, "own calls: status 0x%x", st);
}

/* ---- what it must not do ---- */

static void
do_execve(void)
{
	char *argv[] = {"/bin/true", NULL};

	execve("/bin/true", argv, NULL);
}
static void
do_ptrace(void)
{
	ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}
static void
do_fork(void)
{
	syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}
static void
do_fork_call(void)
{
	syscall(SYS_fork);
}
static void
do_vfork(void)
{
	syscall(SYS_vfork);
}
static void
do_packet(void)
{
	socket(AF_PACKET, SOCK_RAW, 0);
}
static void
do_netlink(void)
{
	socket(AF_NETLINK, SOCK_RAW, 0);
}
static void
do_setuid(void)
{
	if (setuid(0) != 0)
		_exit(1);
}
static void
do_chroot(void)
{
	syscall(SYS_chroot, "/");
}
static void
do_mount(void)
{
	mount("none", "/", "tmpfs", 0, NULL);
}
static void
do_bpf(void)
{
	syscall(SYS_bpf, 0, NULL, 0);
}
static void
do_memfd(void)
{
	syscall(SYS_memfd_create, "x", 0);
}
static void
do_mmap_exec(void)
{
	mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	    0);
}
static void
do_process_vm(void)
{
	syscall(SYS_process_vm_readv, 1, NULL, 0, NULL, 0, 0);
}
static void
do_execveat(void)
{
	syscall(SYS_execveat, AT_FDCWD, "/bin/true", NULL, NULL, 0);
}

CL_TEST(kills_the_rest)
{
	static const struct {
		const char *name;
		probe_fn *fn;
	} probes[] = {
	    {"execve", do_execve},
	    {"execveat", do_execveat},
	    {"ptrace", do_ptrace},
	    {"clone without CLONE_THREAD", do_fork},
	    {"fork", do_fork_call},
	    {"vfork", do_vfork},
	    {"socket AF_PACKET", do_packet},
	    {"socket AF_NETLINK", do_netlink},
	    {"setuid", do_setuid},
	    {"chroot", do_chroot},
	    {"mount", do_mount},
	    {"bpf", do_bpf},
	    {"memfd_create", do_memfd},
	    {"mmap PROT_EXEC", do_mmap_exec},
	    {"process_vm_readv", do_process_vm},
	};
	size_t i;
	int st;

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		st = in_child(probes[i].fn);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
			cl_test_fail(__FILE__, __LINE__,
			    "%s: not killed by SIGSYS (status 0x%x)",
			    probes[i].name, st);
	}
}

int
main(void)
{
	cl_log_init("test-mdfparent", CL_LOG_INFO, false);
	signal(SIGPIPE, SIG_IGN);
	if (RUNNING_ON_VALGRIND) {
		printf("skipped under valgrind: it does not run seccomp "
		       "filters\n");
		return cl_test_done();
	}
	snprintf(dir, sizeof(dir), "/tmp/clearli-mdfparent.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	CL_RUN(allows_its_own);
	CL_RUN(kills_the_rest);
	rmdir(dir);
	if (lfd >= 0)
		close(lfd);
	return cl_test_done();
}
