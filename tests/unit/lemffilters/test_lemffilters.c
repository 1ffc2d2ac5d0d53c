/* SPDX-License-Identifier: ISC */
/*
 * The seccomp filters of clearli-lemf's processes (lemf/filters.c).  Each
 * is installed in a child that holds the descriptors of its role: the
 * role's own calls must work, the calls it must not make kill the child
 * with SIGSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "err.h"
#include "filters.h"
#include "fsutil.h"
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
#include "../../../lemf/out.h" /* poi/ has an out.h too */
#include "recv.h"
#include "sandbox.h"

typedef int filter_fn(char *, size_t);
typedef void probe_fn(void);

static char tmpdir[] = "/tmp/clearli-lemffilters.XXXXXX";

/* The descriptors of each role, made in the child before its filter. */
static void
front_fds(void)
{
	struct sockaddr_in sin;
	int l, sv[2];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0 ||
	    bind(l, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(l, 4) != 0 || dup2(l, LEMF_FRONT_LISTEN) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
	    dup2(sv[0], LEMF_FRONT_WRITER) < 0)
		_exit(80);
}

static void
writer_fds(void)
{
	int d, sv[2];

	if ((d = open(tmpdir, O_RDONLY | O_DIRECTORY)) < 0 ||
	    dup2(d, LEMF_WRITER_DIR) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
	    dup2(sv[0], LEMF_WRITER_LINK) < 0)
		_exit(80);
	{
		/* As the writer's prepare(): the JSON reader's first use
		 * reads /dev/urandom. */
		struct lemf_jline jl;
		char e[128];

		(void)lemf_jline_parse(
		    (const uint8_t *)"{}", 2, &jl, e, sizeof(e));
	}
}

static void
no_fds(void)
{
}

/* Forks; the child gets a socketpair end on CL_SANDBOX_SOCK and its
 * role's descriptors (fds), installs filter and runs fn, then _exit(0).
 * Returns the wait status. */
static int
in_child(filter_fn *filter, probe_fn *fds, probe_fn *fn)
{
	int sv[2], st = 0;
	pid_t p;

	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fflush(NULL);
	CHECK((p = fork()) >= 0);
	if (p == 0) {
		char err[256];

		close(sv[0]);
		if (dup2(sv[1], CL_SANDBOX_SOCK) < 0)
			_exit(90);
		fds();
		if (filter(err, sizeof(err)) != 0) {
			fprintf(stderr, "filter: %s\n", err);
			_exit(91);
		}
		fn();
		_exit(0);
	}
	close(sv[1]);
	CHECK(waitpid(p, &st, 0) == p);
	close(sv[0]);
	return st;
}

static bool
killed_by_sigsys(int st)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS;
}

static void
ok(int st, const char *what)
{
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		cl_test_fail(
		    __FILE__, __LINE__, "%s: child status 0x%x", what, st);
}

/* An event loop, as each process runs one. */
static void
loop_calls(void)
{
	struct cl_loop *l;
	struct cl_loop_timer *t;

	if (cl_loop_new(&l) != 0)
		_exit(20);
	if ((t = cl_loop_timer_new(l, NULL, NULL)) == NULL ||
	    cl_loop_timer_after(t, 1000) != 0)
		_exit(21);
	cl_loop_timer_free(t);
	cl_loop_free(l);
}

/* ---- own calls ---- */

static void
front_own(void)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int one = 1, fd;
	char c = 'x';

	loop_calls();
	/* its listener: nothing waits, so EAGAIN */
	fd = accept4(LEMF_FRONT_LISTEN, NULL, NULL, SOCK_NONBLOCK);
	if (fd >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
		_exit(10);
	if (getsockname(LEMF_FRONT_LISTEN, (struct sockaddr *)&ss, &sl) != 0)
		_exit(11);
	if (setsockopt(LEMF_FRONT_WRITER, SOL_SOCKET, SO_KEEPALIVE, &one,
		sizeof(one)) != 0)
		_exit(12);
	if (fcntl(LEMF_FRONT_WRITER, F_SETFL, O_NONBLOCK) != 0)
		_exit(13);
	if (send(LEMF_FRONT_WRITER, &c, 1, MSG_NOSIGNAL) != 1 ||
	    write(CL_SANDBOX_SOCK, &c, 1) != 1)
		_exit(14);
	cl_info("a log line from inside the front's filter");
	close(LEMF_FRONT_WRITER);
}

static int
count_restore(void *arg, int kind, const uint8_t *liid, size_t liid_len,
    uint32_t cin, uint32_t seq, const uint8_t hash[static 32])
{
	(void)kind;
	(void)liid;
	(void)liid_len;
	(void)cin;
	(void)seq;
	(void)hash;
	(*(int *)arg)++;
	return 0;
}

static void
writer_own(void)
{
	struct lemf_out *o;
	struct lemf_counts c;
	char err[512];
	int n = 0;

	loop_calls();
	/* its output, the way the role opens, writes and syncs it */
	if (lemf_out_open_with(LEMF_WRITER_DIR, tmpdir, count_restore, &n, &o,
		err, sizeof(err)) != 0) {
		fprintf(stderr, "open: %s\n", err);
		_exit(10);
	}
	if (lemf_out_keep_raw(o, tmpdir, err, sizeof(err)) != 0)
		_exit(11);
	memset(&c, 0, sizeof(c));
	c.pdus = 3;
	if (lemf_out_summary(o, &c) != 0) /* openat, fsync, renameat */
		_exit(12);
	if (lemf_out_sync(o) != 0)
		_exit(13);
	if (lemf_out_close(o) != 0)
		_exit(14);
	if (write(LEMF_WRITER_LINK, "k", 1) != 1)
		_exit(15);
}

static void
parent_own(void)
{
	int st;
	char c = 'p';

	loop_calls();
	if (kill(getpid(), 0) != 0)
		_exit(10);
	if (waitpid(-1, &st, WNOHANG) != -1 || errno != ECHILD)
		_exit(11);
	if (write(CL_SANDBOX_SOCK, &c, 1) != 1)
		_exit(12);
}

/* The parent with --tls-crl: also reads a file (the CRL) when it
 * changes. */
static void
parent_crl_own(void)
{
	struct cl_file_seen seen = {0};
	uint8_t *b = NULL;
	size_t n = 0;
	char err[128];

	parent_own();
	if (cl_file_reread("/etc/passwd", &seen, 1u << 20, &b, &n, err,
		sizeof(err)) != 1 ||
	    n == 0)
		_exit(20);
	free(b);
	/* unchanged: looked at, not read */
	if (cl_file_reread(
		"/etc/passwd", &seen, 1u << 20, &b, &n, err, sizeof(err)) != 0)
		_exit(21);
}

CL_TEST(own_calls)
{
	struct stat st;
	char path[128];

	ok(in_child(lemf_filter_front, front_fds, front_own), "front");
	ok(in_child(lemf_filter_writer, writer_fds, writer_own), "writer");
	/* what the writer wrote is there */
	snprintf(path, sizeof(path), "%s/summary.json", tmpdir);
	CHECK(stat(path, &st) == 0 && st.st_size > 0);
	ok(in_child(lemf_filter_parent, no_fds, parent_own), "parent");
	ok(in_child(lemf_filter_parent_crl, no_fds, parent_crl_own),
	    "parent with --tls-crl");
}

/* ---- what each must not do ---- */

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
do_openat_other_dir(void)
{
	/* a descriptor of a directory, not the output's */
	syscall(SYS_openat, CL_SANDBOX_SOCK, "x", O_RDONLY);
}
static void
do_openat_write(void)
{
	syscall(SYS_openat, AT_FDCWD, "/tmp/clearli-filter-probe", O_WRONLY);
}
static void
do_openat_rdwr(void)
{
	syscall(SYS_openat, AT_FDCWD, "/etc/passwd", O_RDWR);
}
static void
do_openat_creat(void)
{
	syscall(SYS_openat, AT_FDCWD, "/tmp/clearli-filter-probe",
	    O_RDONLY | O_CREAT, 0600);
}
static void
do_openat_trunc(void)
{
	syscall(SYS_openat, AT_FDCWD, "/tmp/clearli-filter-probe",
	    O_RDONLY | O_TRUNC);
}
static void
do_renameat_cwd(void)
{
	syscall(SYS_renameat, AT_FDCWD, "/tmp/a", AT_FDCWD, "/tmp/b");
}
static void
do_socket(void)
{
	socket(AF_INET, SOCK_STREAM, 0);
}
static void
do_connect(void)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(9);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	connect(CL_SANDBOX_SOCK, (struct sockaddr *)&sin, sizeof(sin));
}
static void
do_bind(void)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	bind(CL_SANDBOX_SOCK, (struct sockaddr *)&sin, sizeof(sin));
}
static void
do_accept_other(void)
{
	/* accept4 on a descriptor other than the front's listener */
	syscall(SYS_accept4, CL_SANDBOX_SOCK, NULL, NULL, 0);
}
static void
do_listen(void)
{
	syscall(SYS_listen, CL_SANDBOX_SOCK, 1);
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
do_chdir(void)
{
	syscall(SYS_chdir, "/");
}
static void
do_unlink_cwd(void)
{
	syscall(SYS_unlinkat, AT_FDCWD, "/tmp/clearli-no-such-file", 0);
}

struct probe {
	const char *name;
	probe_fn *fn;
};

static void
kills(const char *role, filter_fn *filter, probe_fn *fds, const struct probe *p,
    size_t n)
{
	size_t i;
	int st;

	for (i = 0; i < n; i++) {
		st = in_child(filter, fds, p[i].fn);
		if (!killed_by_sigsys(st))
			cl_test_fail(__FILE__, __LINE__,
			    "%s: %s: not killed by SIGSYS (status 0x%x)", role,
			    p[i].name, st);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

CL_TEST(front_kills_the_rest)
{
	static const struct probe p[] = {
	    {"open", do_open},
	    {"openat", do_openat},
	    {"openat on a descriptor", do_openat_other_dir},
	    {"socket", do_socket},
	    {"connect", do_connect},
	    {"bind", do_bind},
	    {"listen", do_listen},
	    {"accept4 on another descriptor", do_accept_other},
	    {"execve", do_execve},
	    {"ptrace", do_ptrace},
	    {"clone (fork)", do_fork},
	    {"kill", do_kill},
	    {"mmap PROT_EXEC", do_mmap_exec},
	    {"setuid", do_setuid},
	    {"chdir", do_chdir},
	    {"unlinkat", do_unlink_cwd},
	};

	kills("front", lemf_filter_front, front_fds, p, N(p));
}

CL_TEST(writer_kills_the_rest)
{
	static const struct probe p[] = {
	    {"open", do_open},
	    {"openat AT_FDCWD", do_openat},
	    {"openat on another descriptor", do_openat_other_dir},
	    {"renameat AT_FDCWD", do_renameat_cwd},
	    {"unlinkat AT_FDCWD", do_unlink_cwd},
	    {"socket", do_socket},
	    {"connect", do_connect},
	    {"bind", do_bind},
	    {"listen", do_listen},
	    {"accept4", do_accept_other},
	    {"execve", do_execve},
	    {"ptrace", do_ptrace},
	    {"clone (fork)", do_fork},
	    {"kill", do_kill},
	    {"mmap PROT_EXEC", do_mmap_exec},
	    {"setuid", do_setuid},
	    {"chdir", do_chdir},
	};

	kills("writer", lemf_filter_writer, writer_fds, p, N(p));
}

CL_TEST(parent_kills_the_rest)
{
	static const struct probe p[] = {
	    {"open", do_open},
	    {"openat", do_openat},
	    {"socket", do_socket},
	    {"connect", do_connect},
	    {"bind", do_bind},
	    {"accept4", do_accept_other},
	    {"execve", do_execve},
	    {"ptrace", do_ptrace},
	    {"clone (fork)", do_fork},
	    {"mmap PROT_EXEC", do_mmap_exec},
	    {"setuid", do_setuid},
	    {"chdir", do_chdir},
	    {"unlinkat", do_unlink_cwd},
	};

	kills("parent", lemf_filter_parent, no_fds, p, N(p));
}

CL_TEST(parent_crl_kills_the_rest)
{
	static const struct probe p[] = {
	    {"openat O_WRONLY", do_openat_write},
	    {"openat O_RDWR", do_openat_rdwr},
	    {"openat O_CREAT", do_openat_creat},
	    {"openat O_TRUNC", do_openat_trunc},
	    {"socket", do_socket},
	    {"connect", do_connect},
	    {"bind", do_bind},
	    {"accept4", do_accept_other},
	    {"execve", do_execve},
	    {"ptrace", do_ptrace},
	    {"clone (fork)", do_fork},
	    {"mmap PROT_EXEC", do_mmap_exec},
	    {"setuid", do_setuid},
	    {"chdir", do_chdir},
	    {"unlinkat", do_unlink_cwd},
	    {"renameat", do_renameat_cwd},
	};

	kills("parent with --tls-crl", lemf_filter_parent_crl, no_fds, p, N(p));
}

int
main(void)
{
	char cmd[128];
	int r;

	cl_log_init("test-lemffilters", CL_LOG_INFO, false);
	if (RUNNING_ON_VALGRIND) {
		printf("skipped under valgrind: it does not run seccomp "
		       "filters\n");
		return cl_test_done();
	}
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	CL_RUN(own_calls);
	CL_RUN(front_kills_the_rest);
	CL_RUN(writer_kills_the_rest);
	CL_RUN(parent_kills_the_rest);
	CL_RUN(parent_crl_kills_the_rest);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	r = system(cmd);
	(void)r;
	return cl_test_done();
}
