/* SPDX-License-Identifier: ISC */
/*
 * The seccomp filters of the POI's processes (poi/sandbox.c): capture,
 * match, output and the parent.  Each is
 * installed in a child: the calls of that process work, and the calls
 * it must never make kill it with SIGSYS.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
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
#include "log.h"
#include "loop.h"
#include "roles.h"
#include "sandbox.h"

typedef int filter_fn(char *, size_t);
typedef void probe_fn(void);

static struct cl_loop *loop;
static int listen_fd = -1, task_fd = -1;
static uint16_t listen_port;
static char tmpfile_path[64];

/* Out of the way of the role's descriptors (3 to 9). */
static int
high(int fd)
{
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 20);

	close(fd);
	return h;
}

static void
stop_loop(void *arg)
{
	cl_loop_stop(arg);
}

/* What every role does: its loop with a timer (epoll, timerfd). */
static void
run_loop(void)
{
	struct cl_loop_timer *t;

	if ((t = cl_loop_timer_new(loop, stop_loop, loop)) == NULL ||
	    cl_loop_timer_after(t, 5) != 0 || cl_loop_run(loop) != 0)
		_exit(20);
	cl_loop_timer_free(t);
}

/* Forks; the child holds the role's descriptors (3: a socketpair,
 * 5, 6, 8, 9: eventfds), makes its loop, installs filter, runs fn and
 * exits 0.  Returns the wait status. */
static int
in_child(filter_fn *filter, probe_fn *fn)
{
	int sv[2], st = 0, fd;
	pid_t p;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fflush(NULL);
	CHECK((p = fork()) >= 0);
	if (p == 0) {
		char err[256];

		close(sv[0]);
		if (dup2(sv[1], CL_SANDBOX_SOCK) < 0)
			_exit(90);
		for (fd = 4; fd <= 9; fd++) {
			int e = eventfd(0, EFD_NONBLOCK);

			if (e < 0 || dup2(e, fd) < 0)
				_exit(90);
			if (e != fd)
				close(e);
		}
		if (cl_loop_new(&loop) != 0)
			_exit(92);
		if (filter(err, sizeof(err)) != 0) {
			fprintf(stderr, "filter: %s\n", err);
			_exit(91);
		}
		fn();
		_exit(0);
	}
	close(sv[1]);
	/* the role's peer: answer what it writes, then close */
	{
		char b[16];
		ssize_t n = read(sv[0], b, sizeof(b));

		if (n > 0)
			(void)!write(sv[0], b, (size_t)n);
	}
	close(sv[0]);
	CHECK(waitpid(p, &st, 0) == p);
	return st;
}

static void
check_ok(int st, const char *what)
{
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		cl_test_fail(__FILE__, __LINE__,
		    "%s: its own calls failed (status 0x%x%s)", what, st,
		    WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS
			? ", SIGSYS: a call the filter refuses"
			: "");
}

/* Its socket to the parent and its eventfds. */
static void
sock_and_efds(const int *efds, size_t n)
{
	uint64_t one = 1, v;
	char b[4];
	size_t i;

	if (write(CL_SANDBOX_SOCK, "ping", 4) != 4 ||
	    read(CL_SANDBOX_SOCK, b, 4) != 4)
		_exit(10);
	for (i = 0; i < n; i++)
		if (write(efds[i], &one, 8) != 8 || read(efds[i], &v, 8) != 8)
			_exit(11);
}

static void
memory_and_log(void)
{
	struct timespec ts;
	char *big;

	if ((big = malloc(8u << 20)) == NULL)
		_exit(12);
	memset(big, 1, 8u << 20);
	free(big);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	cl_info("a log line from inside the filter");
}

/* ---- capture ---- */

static void
capture_own(void)
{
	static const int efds[] = {5, 6};
	struct pollfd pf = {listen_fd, POLLIN, 0};
	char b[8];
	int v = 0;
	socklen_t vl = sizeof(v);

	sock_and_efds(efds, 2);
	memory_and_log();
	run_loop();
	/* what libpcap does on its open socket (a UDP one here) */
	if (poll(&pf, 1, 1) < 0 ||
	    getsockopt(listen_fd, SOL_SOCKET, SO_RCVBUF, &v, &vl) != 0 ||
	    recvfrom(listen_fd, b, sizeof(b), MSG_DONTWAIT, NULL, NULL) != -1 ||
	    errno != EAGAIN)
		_exit(13);
}

CL_TEST(capture_allows_its_own)
{
	CHECK((listen_fd = high(socket(AF_INET, SOCK_DGRAM, 0))) >= 0);
	check_ok(in_child(poi_sandbox_capture, capture_own), "capture");
	close(listen_fd);
}

/* ---- match ---- */

static void
match_own(void)
{
	static const int efds[] = {5, 6, 8, 9};
	struct pollfd pf = {5, POLLIN, 0};
	void *m;

	sock_and_efds(efds, 4);
	memory_and_log();
	run_loop();
	/* poll() while the PDU ring is full */
	if (poll(&pf, 1, 1) < 0)
		_exit(13);
	/* the task file the parent hands over */
	m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, task_fd, 0);
	if (m == MAP_FAILED || memcmp(m, "task", 4) != 0)
		_exit(14);
	munmap(m, 4096);
	close(task_fd);
}

CL_TEST(match_allows_its_own)
{
	CHECK((task_fd = high(memfd_create("tasks", 0))) >= 0);
	CHECK(write(task_fd, "task", 4) == 4);
	check_ok(in_child(poi_sandbox_match, match_own), "match");
	close(task_fd);
}

/* ---- output ---- */

static void
output_own(void)
{
	static const int efds[] = {5, 6};
	struct sockaddr_in sin;
	char b[8];
	int fd, on = 1, e = 0;
	socklen_t el = sizeof(e);

	sock_and_efds(efds, 2);
	memory_and_log();
	run_loop();
	/* its one connection to the MDF */
	if ((fd = socket(
		 AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		_exit(13);
	(void)setsockopt(fd, IPPROTO_TCP, 1 /* TCP_NODELAY */, &on, sizeof(on));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(listen_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 &&
	    errno != EINPROGRESS)
		_exit(14);
	{
		struct pollfd pf = {fd, POLLOUT, 0};

		if (poll(&pf, 1, 5000) != 1)
			_exit(15);
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0 ||
	    write(fd, "x2x3", 4) != 4 || send(fd, "x2x3", 4, MSG_NOSIGNAL) != 4)
		_exit(16);
	close(fd);
	/* the spool file, opened before the filter */
	if (pwrite(task_fd, "spool", 5, 4096) != 5 ||
	    pread(task_fd, b, 5, 4096) != 5 || memcmp(b, "spool", 5) != 0 ||
	    ftruncate(task_fd, 0) != 0)
		_exit(17);
}

CL_TEST(output_allows_its_own)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int c;
	char b[8];

	CHECK((listen_fd = high(socket(AF_INET, SOCK_STREAM, 0))) >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(listen_fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CHECK(listen(listen_fd, 4) == 0);
	CHECK(getsockname(listen_fd, (struct sockaddr *)&sin, &sl) == 0);
	listen_port = ntohs(sin.sin_port);
	snprintf(tmpfile_path, sizeof(tmpfile_path),
	    "/tmp/clearli-poisandbox.XXXXXX");
	CHECK((task_fd = high(mkstemp(tmpfile_path))) >= 0);
	unlink(tmpfile_path);
	check_ok(in_child(poi_sandbox_output, output_own), "output");
	/* the MDF end got the octets */
	CHECK((c = accept(listen_fd, NULL, NULL)) >= 0);
	CHECK(read(c, b, 8) > 0);
	close(c);
	close(task_fd);
	close(listen_fd);
}

/* ---- parent ---- */

static void
parent_own(void)
{
	char b[8];
	int fd, st;

	memory_and_log();
	run_loop();
	/* the task file on SIGHUP */
	if ((fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)) < 0 ||
	    read(fd, b, sizeof(b)) <= 0)
		_exit(13);
	close(fd);
	/* the metrics listener: nobody waiting */
	if (accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK) >= 0 ||
	    errno != EAGAIN)
		_exit(14);
	/* its roles: reaped */
	if (waitpid(-1, &st, WNOHANG) > 0)
		_exit(15);
	/* the ring of a reloaded task file */
	if ((fd = memfd_create("tasks", MFD_CLOEXEC)) < 0 ||
	    write(fd, "x", 1) != 1)
		_exit(16);
	close(fd);
	if (write(1, "", 0) != 0) /* the summary */
		_exit(17);
}

CL_TEST(parent_allows_its_own)
{
	CHECK((listen_fd = high(
		   socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0))) >= 0);
	CHECK(listen(listen_fd, 4) == 0);
	check_ok(in_child(poi_sandbox_parent, parent_own), "parent");
	close(listen_fd);
}

/* ---- what none may do ---- */

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
do_openat_write(void)
{
	syscall(SYS_openat, AT_FDCWD, "/tmp/clearli-poisandbox-w", O_WRONLY);
}
static void
do_openat_creat(void)
{
	syscall(SYS_openat, AT_FDCWD, "/tmp/clearli-poisandbox-c",
	    O_RDONLY | O_CREAT, 0600);
}
static void
do_openat_trunc(void)
{
	syscall(SYS_openat, AT_FDCWD, "/tmp/clearli-poisandbox-t",
	    O_RDONLY | O_TRUNC);
}
static void
do_openat_rdwr(void)
{
	syscall(SYS_openat, AT_FDCWD, "/tmp/clearli-poisandbox-w", O_RDWR);
}
static void
do_socket(void)
{
	syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
}
static void
do_connect(void)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(9);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	syscall(SYS_connect, CL_SANDBOX_SOCK, &sin, sizeof(sin));
}
static void
do_bind(void)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	syscall(SYS_bind, CL_SANDBOX_SOCK, &sin, sizeof(sin));
}
static void
do_listen(void)
{
	syscall(SYS_listen, CL_SANDBOX_SOCK, 1);
}
static void
do_accept(void)
{
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
do_write_stdout(void)
{
	syscall(SYS_write, 1, "x", 1);
}
static void
do_read_stdin(void)
{
	char c;

	syscall(SYS_read, 0, &c, 0);
}
static void
do_write_other(void)
{
	syscall(SYS_write, 4, "x", 1);
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
do_memfd(void)
{
	syscall(SYS_memfd_create, "x", 0);
}
static void
do_unlink(void)
{
	syscall(SYS_unlinkat, AT_FDCWD, "/tmp/clearli-no-such-file", 0);
}
static void
do_chroot(void)
{
	syscall(SYS_chroot, "/");
}
static void
do_mount(void)
{
	syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL);
}

struct probe {
	const char *name;
	probe_fn *fn;
};

static void
all_killed(
    filter_fn *filter, const char *role, const struct probe *pr, size_t n)
{
	size_t i;
	int st;

	for (i = 0; i < n; i++) {
		st = in_child(filter, pr[i].fn);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSYS)
			cl_test_fail(__FILE__, __LINE__,
			    "%s: %s not killed by SIGSYS (status 0x%x)", role,
			    pr[i].name, st);
	}
}

CL_TEST(capture_kills_the_rest)
{
	static const struct probe pr[] = {{"open", do_open},
	    {"openat", do_openat}, {"socket", do_socket},
	    {"connect", do_connect}, {"bind", do_bind}, {"listen", do_listen},
	    {"accept", do_accept}, {"execve", do_execve}, {"ptrace", do_ptrace},
	    {"clone (fork)", do_fork}, {"kill", do_kill},
	    {"write on 1", do_write_stdout}, {"write on 4", do_write_other},
	    {"mmap PROT_EXEC", do_mmap_exec}, {"setuid", do_setuid},
	    {"memfd_create", do_memfd}, {"unlinkat", do_unlink},
	    {"chroot", do_chroot}, {"mount", do_mount}};

	all_killed(
	    poi_sandbox_capture, "capture", pr, sizeof(pr) / sizeof(pr[0]));
}

CL_TEST(match_kills_the_rest)
{
	static const struct probe pr[] = {{"open", do_open},
	    {"openat", do_openat}, {"socket", do_socket},
	    {"connect", do_connect}, {"bind", do_bind}, {"listen", do_listen},
	    {"accept", do_accept}, {"execve", do_execve}, {"ptrace", do_ptrace},
	    {"clone (fork)", do_fork}, {"kill", do_kill},
	    {"write on 1", do_write_stdout}, {"read on 0", do_read_stdin},
	    {"write on 4", do_write_other}, {"mmap PROT_EXEC", do_mmap_exec},
	    {"setuid", do_setuid}, {"memfd_create", do_memfd},
	    {"unlinkat", do_unlink}, {"chroot", do_chroot},
	    {"mount", do_mount}};

	all_killed(poi_sandbox_match, "match", pr, sizeof(pr) / sizeof(pr[0]));
}

CL_TEST(output_kills_the_rest)
{
	static const struct probe pr[] = {{"open", do_open},
	    {"openat", do_openat}, {"openat O_WRONLY", do_openat_write},
	    {"openat O_RDWR", do_openat_rdwr},
	    {"openat O_CREAT", do_openat_creat},
	    {"openat O_TRUNC", do_openat_trunc}, {"bind", do_bind},
	    {"listen", do_listen}, {"accept", do_accept}, {"execve", do_execve},
	    {"ptrace", do_ptrace}, {"clone (fork)", do_fork}, {"kill", do_kill},
	    {"mmap PROT_EXEC", do_mmap_exec}, {"setuid", do_setuid},
	    {"memfd_create", do_memfd}, {"chroot", do_chroot},
	    {"mount", do_mount}};

	all_killed(
	    poi_sandbox_output, "output", pr, sizeof(pr) / sizeof(pr[0]));
	CHECK(access("/tmp/clearli-poisandbox-c", F_OK) != 0);
}

CL_TEST(parent_kills_the_rest)
{
	static const struct probe pr[] = {{"socket", do_socket},
	    {"connect", do_connect}, {"bind", do_bind}, {"listen", do_listen},
	    {"execve", do_execve}, {"ptrace", do_ptrace},
	    {"clone (fork)", do_fork}, {"mmap PROT_EXEC", do_mmap_exec},
	    {"setuid", do_setuid}, {"unlinkat", do_unlink},
	    {"chroot", do_chroot}, {"mount", do_mount}};

	all_killed(
	    poi_sandbox_parent, "parent", pr, sizeof(pr) / sizeof(pr[0]));
}

int
main(void)
{
	cl_log_init("test-poisandbox", CL_LOG_INFO, false);
	if (RUNNING_ON_VALGRIND) {
		/* valgrind runs no seccomp(2): there is no filter to test. */
		printf("skipped under valgrind: it does not run seccomp "
		       "filters\n");
		return cl_test_done();
	}
	CL_RUN(capture_allows_its_own);
	CL_RUN(match_allows_its_own);
	CL_RUN(output_allows_its_own);
	CL_RUN(parent_allows_its_own);
	CL_RUN(capture_kills_the_rest);
	CL_RUN(match_kills_the_rest);
	CL_RUN(output_kills_the_rest);
	CL_RUN(parent_kills_the_rest);
	return cl_test_done();
}
