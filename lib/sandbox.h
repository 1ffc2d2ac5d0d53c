/* SPDX-License-Identifier: ISC */
#ifndef CL_SANDBOX_H
#define CL_SANDBOX_H

/*
 * seccomp allowlists for the roles (privsep.h), on libseccomp, as in
 * OpenSSH's sandbox-seccomp-filter.c.  Every filter first checks the
 * architecture (a system call of another ABI, x32 included, kills the
 * process), then allows a list of calls, some only on given
 * descriptors, and kills the process (SCMP_ACT_KILL_PROCESS, SIGSYS) on
 * anything else.
 *
 * Every filter allows what any role needs to live: exit, memory (mmap
 * and mprotect never with PROT_EXEC), futex, clocks, getrandom, and
 * write on descriptor 2 (the log).  A build with AddressSanitizer
 * (__SANITIZE_ADDRESS__, or clang's __has_feature(address_sanitizer))
 * also allows what its run-time calls on its own (sigaltstack,
 * sigaction, sigprocmask, gettid, sched_yield, prctl, madvise, ...):
 * only in such a build, never in a release one.
 *
 * A role's socket to its parent is descriptor CL_SANDBOX_SOCK
 * (privsep.h puts it there).
 */

#include <stddef.h>
#include <stdint.h>

#define CL_SANDBOX_SOCK 3

struct cl_sandbox;

/* A filter with the base allowlist.  Returns 0, CL_ERR_NOMEM or
 * CL_ERR_UNSUPPORTED (no seccomp here: old kernel, or valgrind). */
int cl_sandbox_new(struct cl_sandbox **out);

/* cl_sandbox_new(), with the reason of a failure in err ("seccomp: no
 * seccomp filter can be installed (...)"). */
int cl_sandbox_begin(struct cl_sandbox **out, char *err, size_t errlen);

/* Allows system call nr (__NR_*): with fd >= 0 only when its first
 * argument is fd.  Returns 0 or CL_ERR_SYSTEM. */
int cl_sandbox_allow(struct cl_sandbox *sb, int nr, int fd);

/*
 * Allows nr only when its argument arg (0 to 5) has, under mask, the value
 * value: (argN & mask) == value.  Returns 0 or CL_ERR_SYSTEM.
 */
int cl_sandbox_allow_masked(
    struct cl_sandbox *sb, int nr, unsigned arg, uint64_t mask, uint64_t value);

/* Makes nr fail with errno e instead of killing (a call the C library
 * falls back from, such as clone3 to clone).  Returns 0 or
 * CL_ERR_SYSTEM. */
int cl_sandbox_errno(struct cl_sandbox *sb, int nr, int e);

/* Allows opening a file for reading only: openat (and open where the
 * architecture has it) without O_WRONLY, O_RDWR, O_CREAT, O_TRUNC or
 * O_APPEND or O_TMPFILE; any other open still kills.  Returns 0 or
 * CL_ERR_SYSTEM. */
int cl_sandbox_allow_open_rdonly(struct cl_sandbox *sb);

/* The same, and fstat, newfstatat and statx: for a process that
 * re-reads an operator's file when it changes (cl_file_reread()). */
void cl_sandbox_allow_read_files(struct cl_sandbox *sb);

/* Installs the filter in the calling process (with PR_SET_NO_NEW_PRIVS)
 * and frees it.  Returns 0 or an error described in err. */
int cl_sandbox_load(struct cl_sandbox *sb, char *err, size_t errlen);

/* Frees a filter not loaded; sb may be NULL. */
void cl_sandbox_free(struct cl_sandbox *sb);

/*
 * The MDF's signer (mdf/signer.c): reads requests and writes signatures
 * on its socket (read, write, recvmsg, sendmsg on CL_SANDBOX_SOCK
 * only), nothing else: no file, no socket, no process.  Returns 0 or an
 * error described in err.
 */
int cl_sandbox_signer(char *err, size_t errlen);

#endif /* CL_SANDBOX_H */
