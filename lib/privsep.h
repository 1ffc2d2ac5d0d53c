/* SPDX-License-Identifier: ISC */
#ifndef CL_PRIVSEP_H
#define CL_PRIVSEP_H

/*
 * Roles: child processes of a daemon, each with only the descriptors it
 * needs, on the model of relayd's proc.c and OpenSSH's privsep.  A role
 * is described by a struct cl_privsep_role; cl_privsep_start() forks it and, in
 * the child, in this order:
 *
 *   1. closes every descriptor but 0, 1, 2, its end of a new socketpair
 *      (descriptor 3) and the role's own (4, 5, ... in the order given);
 *   2. runs the role's prepare() (load a key while the file system is
 *      still there);
 *   3. chroots into an empty directory (a fresh one, removed at once, so
 *      that nothing can be created in it) or the role's own;
 *   4. drops the capability bounding set, then setgroups, setresgid,
 *      setresuid to the unprivileged user;
 *   5. rlimits: RLIMIT_NPROC 0 (no fork), RLIMIT_FSIZE 0 for a role that
 *      must not write files (CL_PRIVSEP_NOWRITE), RLIMIT_CORE 0;
 *   6. clears every capability (capset), PR_SET_NO_NEW_PRIVS,
 *      PR_SET_DUMPABLE 0;
 *   7. installs the role's seccomp filter (sandbox.h);
 *   8. calls the role's main(), and _exit()s with its result.
 *
 * Not run as root, steps 3 and 4 cannot be taken: the role keeps the
 * caller's user and file system root, says so in a log line, and does
 * all the rest.  A failed step ends the child before main() runs.
 *
 * The parent learns of a role's end through SIGCHLD: it calls
 * cl_privsep_reap(), which names the role and its status in the log.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CL_PRIVSEP_NOWRITE 0x01 /* RLIMIT_FSIZE 0: the role writes no file */
/* Started as root, keeps uid 0 and the file system root (no chroot, no
 * user change) but loses every capability and the bounding set: for a
 * parent that must re-read an operator's root-owned files (a CRL). */
#define CL_PRIVSEP_KEEPID 0x02

#define CL_PRIVSEP_USER "_clearli" /* default user; else "nobody" */

struct cl_privsep_role {
	const char *name; /* "signer": for logs, and the process name
			     (/proc/PID/comm, 15 octets) */
	unsigned flags;   /* CL_PRIVSEP_* */
	const char *root; /* directory to chroot into; NULL: an empty one */
	/* Runs before the privileges go; nonzero ends the role.  arg is
	 * cl_privsep_start()'s.  May be NULL. */
	int (*prepare)(void *arg, int sock);
	/* Installs the role's seccomp filter (sandbox.h); 0 or an error
	 * described in err. */
	int (*sandbox)(char *err, size_t errlen);
	/* The role's work, on socket sock; returns the exit status. */
	int (*main)(void *arg, int sock);
};

/*
 * Forks role.  keep[0..nkeep) are descriptors the role keeps (as 4, 5,
 * ...); user is the account to run as when started as root (NULL:
 * CL_PRIVSEP_USER if it exists, else "nobody").  The parent gets the
 * child's pid and its end of the socketpair (close-on-exec, blocking).
 * Returns 0, or an error described in err (nothing was started).
 */
int cl_privsep_start(const struct cl_privsep_role *role, void *arg,
    const int *keep, size_t nkeep, const char *user, pid_t *pid, int *sock,
    char *err, size_t errlen);

/*
 * In the child, the privilege drop of steps 3 to 7 alone (for tests and
 * roles started otherwise).  Returns 0 or an error described in err.
 */
int cl_privsep_drop(const struct cl_privsep_role *role, const char *user,
    char *err, size_t errlen);

/*
 * Clears every capability of the calling process: the ambient, permitted,
 * effective and inheritable sets (the bounding set too where CAP_SETPCAP
 * allows).  For a process that needed one only to start, such as the
 * POI's CAP_NET_RAW until its capture socket is open.  Returns 0 or
 * CL_ERR_SYSTEM with err set.
 */
int cl_privsep_drop_caps(char *err, size_t errlen);

/*
 * Reaps every child that ended (waitpid WNOHANG) and logs, for a role
 * started here, "NAME role (pid N) died: signal S" or "... exited with
 * status S" (an error; status 0 is an info line).  Returns the number of roles
 * that ended.
 */
int cl_privsep_reap(void);

/* Waits for role pid to end and logs how, as cl_privsep_reap() (an exit
 * with status 0 is an info line).  Returns 0 (also if pid is no role
 * started here, or reaped already) or CL_ERR_SYSTEM. */
int cl_privsep_wait(pid_t pid);

/* Whether pid is a role started here and still running. */
bool cl_privsep_alive(pid_t pid);

/* How role pid ended (its wait status), once cl_privsep_reap() or
 * cl_privsep_wait() saw it: true with *status, or false. */
bool cl_privsep_status(pid_t pid, int *status);

/* The ids of the user roles run as (NULL: CL_PRIVSEP_USER if it exists,
 * else "nobody"), as cl_privsep_start() looks them up: for files a role
 * must own.  Returns 0, or CL_ERR_NOT_FOUND or CL_ERR_INVALID_ARG (uid
 * or gid 0) described in err. */
int cl_privsep_user(
    const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen);

#endif /* CL_PRIVSEP_H */
