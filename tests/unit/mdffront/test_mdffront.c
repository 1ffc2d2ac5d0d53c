/* SPDX-License-Identifier: ISC */
/*
 * The MDF's front role's seccomp filter (mdf/frontrole.c): installed in a
 * child that holds, as the role does, its socket to the MDF (3), a
 * listening socket (4), an epoll instance and a timerfd.  Its own calls
 * (accept4 on the listener, reads and writes on a POI connection and on
 * its socket, the event loop, closing) must work; open, socket, connect,
 * execve, ptrace and the rest must kill it with SIGSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
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
#include "frontrole.h"
#include "log.h"
#include "sandbox.h"

#define LFD 4 /* the listener, where lib/privsep puts it */

typedef void probe_fn(void);

static int epfd = -1, tfd = -1;
static uint16_t lport;

/* A listening socket on 127.0.0.1 (its port in lport). */
static int
listener(void)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd;

	CHECK((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CHECK(listen(fd, 8) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&sin, &sl) == 0);
	lport = ntohs(sin.sin_port);
	return fd;
}

static int
connect_to_listener(void)
{
	struct sockaddr_in sin;
	int fd;

	CHECK((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(lport);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	return fd;
}

/*
 * Forks; the child has a socketpair's end on CL_SANDBOX_SOCK, a listener
 * on LFD, an epoll instance and a timerfd (made before the filter, as
 * the role's prepare() does), installs the filter and runs fn, then
 * _exit(0).  Returns the pid with *peer (the other end), or the wait
 * status if peer is NULL.
 */
static int
in_child(probe_fn *fn, int *peer)
{
	int sv[2], st = 0, lfd;
	pid_t p;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	lfd = listener();
	fflush(NULL);
	CHECK((p = fork()) >= 0);
	if (p == 0) {
		char err[256];

		close(sv[0]);
		if (dup2(sv[1], CL_SANDBOX_SOCK) < 0 || dup2(lfd, LFD) < 0)
			_exit(90);
		if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
		    (tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC)) < 0)
			_exit(92);
		if (mdf_front_sandbox(err, sizeof(err)) != 0) {
			fprintf(stderr, "filter: %s\n", err);
			_exit(91);
		}
		fn();
		_exit(0);
	}
	close(sv[1]);
	close(lfd);
	if (peer != NULL) {
		*peer = sv[0];
		return p;
	}
	close(sv[0]);
	CHECK(waitpid(p, &st, 0) == p);
	return st;
}

static bool
killed_by_sigsys(int st)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

/* The role's own calls.  The parent connects to the listener and sends
 * "hello" on the connection and "mdf!" on the socket. */
static void
front_own_calls(void)
{
	struct epoll_event ev, evs[4];
	struct itimerspec its;
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct timespec ts;
	char buf[64], *big;
	int c, one = 1, i, fl;

	/* the event loop: the listener becomes readable */
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = LFD;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, LFD, &ev) != 0)
		_exit(10);
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = 5;
	if (timerfd_settime(tfd, 0, &its, NULL) != 0)
		_exit(11);
	if (epoll_wait(epfd, evs, 4, 5000) != 1)
		_exit(12);
	/* accept4 on the listener, and what lib/front and lib/conn do */
	if ((c = accept4(LFD, (struct sockaddr *)&sin, &sl,
		 SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		_exit(13);
	if (setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    getpeername(c, (struct sockaddr *)&sin, &sl) != 0 ||
	    getsockname(c, (struct sockaddr *)&sin, &sl) != 0 ||
	    (fl = fcntl(c, F_GETFL)) < 0 || fcntl(c, F_SETFL, fl) != 0)
		_exit(14);
	ev.data.fd = c;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c, &ev) != 0 ||
	    epoll_wait(epfd, evs, 4, 5000) < 1)
		_exit(15);
	/* a POI's bytes: read (TLS) and recv (plain TCP), then the answer */
	if (read(c, buf, 2) != 2 || recv(c, buf + 2, 3, 0) != 3 ||
	    memcmp(buf, "hello", 5) != 0)
		_exit(16);
	if (write(c, "ack", 3) != 3 || send(c, "!", 1, MSG_NOSIGNAL) != 1)
		_exit(17);
	/* the MDF's socket: recvmsg and sendmsg (lib/imsg) */
	{
		struct iovec iov = {buf, 4};
		struct msghdr mh;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (recvmsg(CL_SANDBOX_SOCK, &mh, 0) != 4 ||
		    memcmp(buf, "mdf!", 4) != 0)
			_exit(18);
		if (sendmsg(CL_SANDBOX_SOCK, &mh, MSG_NOSIGNAL) != 4)
			_exit(19);
	}
	/* memory, clocks, the log */
	for (i = 0; i < 4; i++) {
		if ((big = malloc(8u << 20)) == NULL)
			_exit(20);
		memset(big, i, 8u << 20);
		free(big);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	cl_info("a log line from inside the front's filter");
	/* the end of a POI connection */
	if (epoll_ctl(epfd, EPOLL_CTL_DEL, c, &ev) != 0 ||
	    shutdown(c, SHUT_WR) != 0 || close(c) != 0)
		_exit(21);
}

CL_TEST(front_allows_its_own)
{
	char buf[8];
	int fd, c, st;
	pid_t p;

	p = in_child(front_own_calls, &fd);
	c = connect_to_listener();
	CHECK(write(c, "hello", 5) == 5);
	CHECK(write(fd, "mdf!", 4) == 4);
	CHECK(read(fd, buf, 4) == 4);
	CHECK(memcmp(buf, "mdf!", 4) == 0);
	CHECK(read(c, buf, 4) == 4);
	CHECK(memcmp(buf, "ack!", 4) == 0);
	CHECK(waitpid(p, &st, 0) == p);
	close(fd);
	close(c);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		cl_test_fail(__FILE__, __LINE__, "child status 0x%x", st);
}

static void
do_open(void)
{
#ifdef SYS_open
	syscall(SYS_open, "/etc/passwd", O_RDONLY);
#else
	syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
#endif
}
static void
do_openat(void)
{
	syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDONLY);
}
static void
do_stat(void)
{
	syscall(SYS_newfstatat, AT_FDCWD, "/etc/passwd", NULL, 0);
}
static void
do_socket(void)
{
	syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
}
static void
do_socketpair(void)
{
	int sv[2];

	syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, sv);
}
static void
do_connect(void)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(9);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* even on its own socket */
	syscall(SYS_connect, CL_SANDBOX_SOCK, &sin, sizeof(sin));
}
static void
do_bind(void)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	syscall(SYS_bind, LFD, &sin, sizeof(sin));
}
static void
do_listen(void)
{
	syscall(SYS_listen, LFD, 8);
}
static void
do_accept_other(void)
{
	/* accept4 on anything but its listener */
	syscall(SYS_accept4, CL_SANDBOX_SOCK, NULL, NULL, 0);
}
static void
do_execve(void)
{
	char *argv[] = {"/bin/true", NULL}, *envp[] = {NULL};

	syscall(SYS_execve, "/bin/true", argv, envp);
}
static void
do_ptrace(void)
{
	syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL);
}
static void
do_fork(void)
{
	syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
}
static void
do_kill(void)
{
	syscall(SYS_kill, getppid(), 0);
}
static void
do_mmap_exec(void)
{
	syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static void
do_setuid(void)
{
	syscall(SYS_setuid, 0);
}
static void
do_unlink(void)
{
	syscall(SYS_unlinkat, AT_FDCWD, "/tmp/clearli-no-such-file", 0);
}
static void
do_chdir(void)
{
	syscall(SYS_chdir, "/");
}
static void
do_dup(void)
{
	syscall(SYS_dup, CL_SANDBOX_SOCK);
}
static void
do_epoll_create(void)
{
	syscall(SYS_epoll_create1, 0);
}
static void
do_ioctl(void)
{
	syscall(SYS_ioctl, CL_SANDBOX_SOCK, 0x541b /* FIONREAD */, NULL);
}

CL_TEST(front_kills_the_rest)
{
	static const struct {
		const char *name;
		probe_fn *fn;
	} probes[] = {
	    {"open", do_open},
	    {"openat", do_openat},
	    {"newfstatat", do_stat},
	    {"socket", do_socket},
	    {"socketpair", do_socketpair},
	    {"connect", do_connect},
	    {"bind", do_bind},
	    {"listen", do_listen},
	    {"accept4 on its MDF socket", do_accept_other},
	    {"execve", do_execve},
	    {"ptrace", do_ptrace},
	    {"clone (fork)", do_fork},
	    {"kill", do_kill},
	    {"mmap PROT_EXEC", do_mmap_exec},
	    {"setuid", do_setuid},
	    {"unlinkat", do_unlink},
	    {"chdir", do_chdir},
	    {"dup", do_dup},
	    {"epoll_create1", do_epoll_create},
	    {"ioctl", do_ioctl},
	};
	size_t i;
	int st;

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		st = in_child(probes[i].fn, NULL);
		if (!killed_by_sigsys(st))
			cl_test_fail(__FILE__, __LINE__,
			    "%s: not killed by SIGSYS (status 0x%x)",
			    probes[i].name, st);
	}
}

int
main(void)
{
	cl_log_init("test-mdffront", CL_LOG_INFO, false);
	signal(SIGPIPE, SIG_IGN);
	if (RUNNING_ON_VALGRIND) {
		/* valgrind runs no seccomp(2): there is no filter to test. */
		printf("skipped under valgrind: it does not run seccomp "
		       "filters\n");
		return cl_test_done();
	}
	CL_RUN(front_allows_its_own);
	CL_RUN(front_kills_the_rest);
	return cl_test_done();
}
