/* SPDX-License-Identifier: ISC */
/*
 * The roles' seccomp filters and the privilege drop.  Each filter is
 * installed in a child: the role's own calls must work, every other
 * call must kill the child with SIGSYS.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

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
#include "privsep.h"
#include "sandbox.h"

typedef void probe_fn(void);

/* Forks; the child puts one end of a socketpair on CL_SANDBOX_SOCK,
 * installs filter and runs fn, then _exit(0).  Returns the wait
 * status; *peer is the other end (closed if peer is NULL). */
static int
in_child(int (*filter)(char *, size_t), probe_fn *fn, int *peer)
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
		if (filter(err, sizeof(err)) != 0) {
			fprintf(stderr, "filter: %s\n", err);
			_exit(91);
		}
		fn();
		_exit(0);
	}
	close(sv[1]);
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

/* ---- the signer's filter ---- */

static EVP_PKEY *key;

static void
signer_own_calls(void)
{
	uint8_t buf[64], sig[64];
	size_t sl = sizeof(sig);
	struct timespec ts;
	EVP_MD_CTX *md;
	char *big;
	int i;

	/* its socket: read, write, recvmsg, sendmsg */
	if (read(CL_SANDBOX_SOCK, buf, 32) != 32)
		_exit(10);
	{
		struct iovec iov = {buf + 32, 32};
		struct msghdr mh;

		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (recvmsg(CL_SANDBOX_SOCK, &mh, 0) != 32)
			_exit(11);
		iov.iov_base = buf;
		iov.iov_len = 8;
		if (sendmsg(CL_SANDBOX_SOCK, &mh, MSG_NOSIGNAL) != 8)
			_exit(12);
	}
	/* memory, small and large (mmap), clocks, its log */
	for (i = 0; i < 4; i++) {
		if ((big = malloc(8u << 20)) == NULL)
			_exit(13);
		memset(big, i, 8u << 20);
		free(big);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)getpid();
	cl_info("a log line from inside the filter");
	/* what it is there for */
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(md, sig, &sl, buf, 64) != 1)
		_exit(14);
	EVP_MD_CTX_free(md);
	if (write(CL_SANDBOX_SOCK, sig, 64) != 64)
		_exit(15);
}

CL_TEST(signer_allows_its_own)
{
	uint8_t req[64], sig[64], hdr[8];
	EVP_MD_CTX *md;
	int fd, st;
	pid_t p;

	CHECK((key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) != NULL);
	/* warm up as the role does: OpenSSL's first use may open files */
	{
		size_t sl = sizeof(sig);

		CHECK((md = EVP_MD_CTX_new()) != NULL);
		CHECK(EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1);
		CHECK(EVP_DigestSign(md, sig, &sl, req, 64) == 1);
		EVP_MD_CTX_free(md);
	}
	memset(req, 0x5a, sizeof(req));
	p = in_child(cl_sandbox_signer, signer_own_calls, &fd);
	CHECK(write(fd, req, 64) == 64);
	CHECK(read(fd, hdr, 8) == 8);
	CHECK(read(fd, sig, 64) == 64);
	CHECK(waitpid(p, &st, 0) == p);
	close(fd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		cl_test_fail(__FILE__, __LINE__, "child status 0x%x", st);
	CHECK((md = EVP_MD_CTX_new()) != NULL);
	CHECK(EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) == 1);
	CHECK(EVP_DigestVerify(md, sig, 64, req, 64) == 1);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	key = NULL;
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
do_creat_tmp(void)
{
	syscall(SYS_openat, AT_FDCWD, "/tmp/clearli-sandbox-test",
	    O_WRONLY | O_CREAT, 0600);
}
static void
do_socket(void)
{
	socket(AF_INET, SOCK_STREAM, 0);
}
static void
do_socketpair(void)
{
	int sv[2];

	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
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
	connect(CL_SANDBOX_SOCK, (struct sockaddr *)&sin, sizeof(sin));
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
do_mmap_exec(void)
{
	syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}
static void
do_mprotect_exec(void)
{
	static char page[8192] __attribute__((aligned(4096)));

	syscall(SYS_mprotect, page, 4096, PROT_READ | PROT_EXEC);
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
#if defined(__x86_64__)
/* getpid through the i386 ABI: the architecture check kills it. */
static void
do_i386_abi(void)
{
	long r = 20; /* __NR_getpid on i386 */

	__asm__ volatile("int $0x80" : "+a"(r) : : "memory");
}
/* getpid through the x32 ABI */
static void
do_x32_abi(void)
{
	syscall(0x40000000 | SYS_getpid);
}
#endif

CL_TEST(signer_kills_the_rest)
{
	static const struct {
		const char *name;
		probe_fn *fn;
	} probes[] = {
		{"open", do_open},
		{"openat", do_openat},
		{"openat O_CREAT", do_creat_tmp},
		{"socket", do_socket},
		{"socketpair", do_socketpair},
		{"connect", do_connect},
		{"execve", do_execve},
		{"ptrace", do_ptrace},
		{"clone (fork)", do_fork},
		{"kill", do_kill},
		{"write on 1", do_write_stdout},
		{"read on 0", do_read_stdin},
		{"mmap PROT_EXEC", do_mmap_exec},
		{"mprotect PROT_EXEC", do_mprotect_exec},
		{"setuid", do_setuid},
		{"unlinkat", do_unlink},
		{"chdir", do_chdir},
		{"dup", do_dup},
#if defined(__x86_64__)
		{"i386 getpid", do_i386_abi},
		{"x32 getpid", do_x32_abi},
#endif
	};
	size_t i;
	int st;

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		st = in_child(cl_sandbox_signer, probes[i].fn, NULL);
		if (!killed_by_sigsys(st))
			cl_test_fail(__FILE__, __LINE__,
			    "%s: not killed by SIGSYS (status 0x%x)",
			    probes[i].name, st);
	}
	/* and nothing was created */
	CHECK(access("/tmp/clearli-sandbox-test", F_OK) != 0);
}

/* ---- the privilege drop ---- */

static int
probe_main(void *arg, int sock)
{
	char c;
	int fd, extra = 0;

	(void)arg;
	/* 3 is the socket, 4 the descriptor handed over; nothing else */
	for (fd = 5; fd < 256; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			extra++;
	c = (char)('0' + (extra > 9 ? 9 : extra));
	if (fcntl(4, F_GETFD) < 0)
		c = 'n';
	if (write(4, "k", 1) != 1)
		c = 'w';
	/* the file system is gone when root: no /etc here */
	if (geteuid() != 0 && access("/etc/passwd", F_OK) == 0 &&
	    getenv("CL_TEST_NOT_ROOT") == NULL)
		c = 'f';
	if (write(sock, &c, 1) != 1)
		return 2;
	/* wait for the end of the socket */
	return read(sock, &c, 1) == 0 ? 0 : 3;
}

static int
probe_sandbox(char *err, size_t errlen)
{
	struct cl_sandbox *sb = NULL;

	if (cl_sandbox_new(&sb) != 0)
		return CL_ERR_NOMEM;
	(void)cl_sandbox_allow(sb, SYS_read, CL_SANDBOX_SOCK);
	(void)cl_sandbox_allow(sb, SYS_write, CL_SANDBOX_SOCK);
	(void)cl_sandbox_allow(sb, SYS_write, 4);
	(void)cl_sandbox_allow(sb, SYS_fcntl, -1);
	(void)cl_sandbox_allow(sb, SYS_geteuid, -1);
	(void)cl_sandbox_allow(sb, SYS_access, -1);
	(void)cl_sandbox_allow(sb, SYS_faccessat, -1);
	(void)cl_sandbox_allow(sb, SYS_faccessat2, -1);
	return cl_sandbox_load(sb, err, errlen);
}

/* The value of field in /proc/pid/status, in out. */
static void
status_field(pid_t pid, const char *field, char *out, size_t len)
{
	char path[64], line[256];
	FILE *f;
	size_t fl = strlen(field);

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	CHECK((f = fopen(path, "r")) != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			char *v = line + fl + 1;

			while (*v == ' ' || *v == '\t')
				v++;
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, len, "%s", v);
		}
	fclose(f);
}

CL_TEST(privsep_start)
{
	static const struct cl_privsep_role probe = {
	    .name = "probe",
	    .sandbox = probe_sandbox,
	    .main = probe_main,
	};
	char err[256], v[128], path[64], root[256];
	int pp[2], sock, stray;
	ssize_t n;
	pid_t pid;
	char c;

	CHECK(pipe(pp) == 0);
	/* a descriptor the role must not get */
	CHECK((stray = open("/dev/null", O_RDONLY)) >= 0);
	CHECK_INT_EQ(cl_privsep_start(&probe, NULL, &pp[1], 1, NULL, &pid,
			 &sock, err, sizeof(err)),
	    0);
	close(pp[1]);
	CHECK(read(sock, &c, 1) == 1);
	if (c != '0')
		cl_test_fail(__FILE__, __LINE__, "role says '%c'", c);
	CHECK(read(pp[0], &c, 1) == 1 && c == 'k');
	CHECK(cl_privsep_alive(pid));
	status_field(pid, "Seccomp", v, sizeof(v));
	CHECK_STR_EQ(v, "2");
	status_field(pid, "NoNewPrivs", v, sizeof(v));
	CHECK_STR_EQ(v, "1");
	status_field(pid, "CapEff", v, sizeof(v));
	CHECK_STR_EQ(v, "0000000000000000");
	status_field(pid, "CapPrm", v, sizeof(v));
	CHECK_STR_EQ(v, "0000000000000000");
	if (geteuid() == 0) {
		status_field(pid, "CapBnd", v, sizeof(v));
		CHECK_STR_EQ(v, "0000000000000000");
		status_field(pid, "Uid", v, sizeof(v));
		CHECK(strncmp(v, "0\t", 2) != 0);
		CHECK(strstr(v, "\t0") == NULL);
		status_field(pid, "Gid", v, sizeof(v));
		CHECK(strncmp(v, "0\t", 2) != 0);
		snprintf(path, sizeof(path), "/proc/%ld/root", (long)pid);
		CHECK((n = readlink(path, root, sizeof(root) - 1)) > 0);
		root[n] = '\0';
		/* an empty directory, already removed */
		CHECK(strcmp(root, "/") != 0);
		CHECK(strstr(root, "(deleted)") != NULL);
	}
	close(sock);
	CHECK_INT_EQ(cl_privsep_wait(pid), 0);
	CHECK(!cl_privsep_alive(pid));
	close(pp[0]);
	close(stray);
}

/* A role killed: the reaper names it. */
CL_TEST(privsep_reap)
{
	static const struct cl_privsep_role probe = {
	    .name = "probe",
	    .sandbox = probe_sandbox,
	    .main = probe_main,
	};
	char err[256], c;
	int pp[2], sock, n = 0, i;
	pid_t pid;

	CHECK(pipe(pp) == 0);
	CHECK_INT_EQ(cl_privsep_start(&probe, NULL, &pp[1], 1, NULL, &pid,
			 &sock, err, sizeof(err)),
	    0);
	close(pp[1]);
	CHECK(read(sock, &c, 1) == 1);
	CHECK(kill(pid, SIGKILL) == 0);
	for (i = 0; i < 2000 && n == 0; i++) {
		n = cl_privsep_reap();
		if (n == 0)
			usleep(5000);
	}
	CHECK_INT_EQ(n, 1);
	CHECK(!cl_privsep_alive(pid));
	close(sock);
	close(pp[0]);
}

/* A user that does not exist: nothing starts. */
CL_TEST(privsep_bad_user)
{
	static const struct cl_privsep_role probe = {
	    .name = "probe",
	    .sandbox = probe_sandbox,
	    .main = probe_main,
	};
	char err[256];
	int sock;
	pid_t pid;

	if (geteuid() != 0)
		return; /* the user is looked up only as root */
	CHECK_INT_EQ(cl_privsep_start(&probe, NULL, NULL, 0,
			 "no-such-user-clearli", &pid, &sock, err, sizeof(err)),
	    CL_ERR_NOT_FOUND);
	CHECK(strstr(err, "no-such-user-clearli") != NULL);
	CHECK_INT_EQ(pid, -1);
	CHECK_INT_EQ(cl_privsep_start(&probe, NULL, NULL, 0, "root", &pid,
			 &sock, err, sizeof(err)),
	    CL_ERR_INVALID_ARG);
}

int
main(void)
{
	cl_log_init("test-sandbox", CL_LOG_INFO, false);
	if (RUNNING_ON_VALGRIND) {
		/* valgrind runs no seccomp(2) (syscall 317): there is no
		 * filter to test, and the roles cannot start. */
		printf("skipped under valgrind: it does not run seccomp "
		       "filters\n");
		return cl_test_done();
	}
	CL_RUN(signer_allows_its_own);
	CL_RUN(signer_kills_the_rest);
	CL_RUN(privsep_start);
	CL_RUN(privsep_reap);
	CL_RUN(privsep_bad_user);
	return cl_test_done();
}
