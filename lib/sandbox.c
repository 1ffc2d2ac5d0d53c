/* SPDX-License-Identifier: ISC */
/*
 * seccomp allowlists (sandbox.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define CL_SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CL_SANDBOX_ASAN 1
#endif
#endif

static char stdout_buf[BUFSIZ];

struct cl_sandbox {
	scmp_filter_ctx ctx;
	int err; /* the first failed rule's -errno, or 0 */
	int err_nr;
};

int
cl_sandbox_allow(struct cl_sandbox *sb, int nr, int fd)
{
	int r;

	if (fd >= 0)
		r = seccomp_rule_add(sb->ctx, SCMP_ACT_ALLOW, nr, 1,
		    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fd));
	else
		r = seccomp_rule_add(sb->ctx, SCMP_ACT_ALLOW, nr, 0);
	if (r != 0 && sb->err == 0) {
		sb->err = r;
		sb->err_nr = nr;
	}
	return r == 0 ? 0 : CL_ERR_SYSTEM;
}

int
cl_sandbox_allow_masked(
    struct cl_sandbox *sb, int nr, unsigned arg, uint64_t mask, uint64_t value)
{
	struct scmp_arg_cmp cmp = {
	    arg, SCMP_CMP_MASKED_EQ, (scmp_datum_t)mask, (scmp_datum_t)value};
	int r;

	r = arg <= 5
	    ? seccomp_rule_add_array(sb->ctx, SCMP_ACT_ALLOW, nr, 1, &cmp)
	    : -EINVAL;
	if (r != 0 && sb->err == 0) {
		sb->err = r;
		sb->err_nr = nr;
	}
	return r == 0 ? 0 : CL_ERR_SYSTEM;
}

int
cl_sandbox_errno(struct cl_sandbox *sb, int nr, int e)
{
	int r;

	r = seccomp_rule_add(sb->ctx, SCMP_ACT_ERRNO((uint16_t)e), nr, 0);
	if (r != 0 && sb->err == 0) {
		sb->err = r;
		sb->err_nr = nr;
	}
	return r == 0 ? 0 : CL_ERR_SYSTEM;
}

int
cl_sandbox_allow_open_rdonly(struct cl_sandbox *sb)
{
	const scmp_datum_t bad =
	    O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | O_TMPFILE;
	int r;

	r = seccomp_rule_add(sb->ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, bad, 0));
#ifdef __NR_open
	if (r == 0)
		r = seccomp_rule_add(sb->ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, bad, 0));
#endif
	if (r != 0 && sb->err == 0) {
		sb->err = r;
		sb->err_nr = SCMP_SYS(openat);
	}
	return r == 0 ? 0 : CL_ERR_SYSTEM;
}

/* nr allowed only without PROT_EXEC in its third argument. */
static void
allow_noexec(struct cl_sandbox *sb, int nr)
{
	int r;

	r = seccomp_rule_add(sb->ctx, SCMP_ACT_ALLOW, nr, 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
	if (r != 0 && sb->err == 0) {
		sb->err = r;
		sb->err_nr = nr;
	}
}

void
cl_sandbox_allow_read_files(struct cl_sandbox *sb)
{
	static const int stat_calls[] = {
	    SCMP_SYS(fstat), SCMP_SYS(newfstatat), SCMP_SYS(statx)};
	size_t i;

	(void)cl_sandbox_allow_open_rdonly(sb);
	for (i = 0; i < sizeof(stat_calls) / sizeof(stat_calls[0]); i++)
		(void)cl_sandbox_allow(sb, stat_calls[i], -1);
}

int
cl_sandbox_new(struct cl_sandbox **out)
{
	static const int base[] = {SCMP_SYS(exit), SCMP_SYS(exit_group),
	    SCMP_SYS(rt_sigreturn), SCMP_SYS(brk), SCMP_SYS(munmap),
	    SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(futex),
	    SCMP_SYS(clock_gettime), SCMP_SYS(clock_nanosleep),
	    SCMP_SYS(gettimeofday), SCMP_SYS(getpid), SCMP_SYS(getrandom),
	    SCMP_SYS(restart_syscall)};
#ifdef CL_SANDBOX_ASAN
	/* What the AddressSanitizer run-time calls by itself (stacks of
	 * threads, reports, the allocator's quarantine). */
	static const int asan[] = {SCMP_SYS(sigaltstack),
	    SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(gettid),
	    SCMP_SYS(sched_yield), SCMP_SYS(prctl), SCMP_SYS(getrlimit),
	    SCMP_SYS(prlimit64), SCMP_SYS(sched_getaffinity), SCMP_SYS(tgkill)};
#endif
	struct cl_sandbox *sb;
	size_t i;

	*out = NULL;
	if ((sb = calloc(1, sizeof(*sb))) == NULL)
		return CL_ERR_NOMEM;
	/* NULL also when the kernel (or valgrind) has no seccomp. */
	if ((sb->ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL) {
		free(sb);
		return CL_ERR_UNSUPPORTED;
	}
	/* A call of another ABI (i386 on x86-64, x32) kills as well. */
	if (seccomp_attr_set(
		sb->ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0 &&
	    sb->err == 0)
		sb->err = -EINVAL;
	/* Every thread of the process gets the filter: a role may start a
	 * worker before its privileges go (RLIMIT_NPROC 0 forbids it after). */
	if (seccomp_attr_set(sb->ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0 &&
	    sb->err == 0)
		sb->err = -EINVAL;
	for (i = 0; i < sizeof(base) / sizeof(base[0]); i++)
		(void)cl_sandbox_allow(sb, base[i], -1);
	allow_noexec(sb, SCMP_SYS(mmap));
	allow_noexec(sb, SCMP_SYS(mprotect));
	(void)cl_sandbox_allow(sb, SCMP_SYS(write), 2);
#ifdef CL_SANDBOX_ASAN
	for (i = 0; i < sizeof(asan) / sizeof(asan[0]); i++)
		(void)cl_sandbox_allow(sb, asan[i], -1);
#endif
	*out = sb;
	return 0;
}

int
cl_sandbox_begin(struct cl_sandbox **out, char *err, size_t errlen)
{
	int r;

	if ((r = cl_sandbox_new(out)) != 0)
		snprintf(err, errlen, "seccomp: %s",
		    r == CL_ERR_NOMEM ? "out of memory"
				      : "no seccomp filter can be installed "
					"(not in this kernel, or under "
					"valgrind)");
	return r;
}

void
cl_sandbox_free(struct cl_sandbox *sb)
{
	if (sb == NULL)
		return;
	seccomp_release(sb->ctx);
	free(sb);
}

int
cl_sandbox_load(struct cl_sandbox *sb, char *err, size_t errlen)
{
	int r = CL_ERR_SYSTEM;

	if (sb->err != 0) {
		char *name = seccomp_syscall_resolve_num_arch(
		    SCMP_ARCH_NATIVE, sb->err_nr);

		snprintf(err, errlen, "seccomp rule for %s: %s",
		    name != NULL ? name : "?", strerror(-sb->err));
		free(name);
		goto out;
	}
	/* gmtime_r() reads the zone file on its first call: here, not
	 * under the filter. */
	tzset();
	/* stdout's buffer now: the C library allocates it at the first
	 * output, with fstat and, on a character device (a terminal,
	 * /dev/null), an ioctl that the filter refuses. */
	if (fflush(stdout) != 0 ||
	    setvbuf(stdout, stdout_buf, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF,
		sizeof(stdout_buf)) != 0) {
		snprintf(err, errlen, "standard output: %s", strerror(errno));
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		snprintf(
		    err, errlen, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
		goto out;
	}
	if ((r = seccomp_load(sb->ctx)) != 0) {
		snprintf(err, errlen, "seccomp_load: %s", strerror(-r));
		r = CL_ERR_SYSTEM;
		goto out;
	}
	r = 0;
out:
	cl_sandbox_free(sb);
	return r;
}

int
cl_sandbox_signer(char *err, size_t errlen)
{
	struct cl_sandbox *sb = NULL;
	int r;

	if ((r = cl_sandbox_begin(&sb, err, errlen)) != 0)
		return r;
	(void)cl_sandbox_allow(sb, SCMP_SYS(read), CL_SANDBOX_SOCK);
	(void)cl_sandbox_allow(sb, SCMP_SYS(recvmsg), CL_SANDBOX_SOCK);
	(void)cl_sandbox_allow(sb, SCMP_SYS(write), CL_SANDBOX_SOCK);
	(void)cl_sandbox_allow(sb, SCMP_SYS(sendmsg), CL_SANDBOX_SOCK);
	return cl_sandbox_load(sb, err, errlen);
}
