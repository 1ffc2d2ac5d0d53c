/* SPDX-License-Identifier: ISC */
/*
 * Forking roles and dropping their privileges (privsep.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "log.h"
#include "privsep.h"

#define ROLES_MAX  32
#define KEEP_MAX   16
#define EMPTY_BASE "/tmp"

static struct {
	pid_t pid;
	const char *name;
} roles[ROLES_MAX];

/* How the last roles ended (cl_privsep_status()), a ring. */
static struct {
	pid_t pid;
	int status;
} ends[ROLES_MAX];
static size_t nends;

/* The user's ids, looked up before the fork (NSS may need files the
 * role will not see). */
static int
lookup_user(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	struct passwd *pw = NULL;

	if (user == NULL) {
		if ((pw = getpwnam(CL_PRIVSEP_USER)) == NULL)
			pw = getpwnam(user = "nobody");
	} else
		pw = getpwnam(user);
	if (pw == NULL) {
		snprintf(err, errlen, "no user '%s'",
		    user == NULL ? CL_PRIVSEP_USER : user);
		return CL_ERR_NOT_FOUND;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(
		    err, errlen, "user '%s' has uid or gid 0", pw->pw_name);
		return CL_ERR_INVALID_ARG;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int
cl_privsep_user(
    const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	return lookup_user(user, uid, gid, err, errlen);
}

/* chroot into a fresh empty directory and remove it: nothing can be
 * created in a removed directory, not even by root. */
static int
chroot_empty(char *err, size_t errlen)
{
	char path[] = EMPTY_BASE "/clearli-empty.XXXXXX";
	int dfd = -1, r = CL_ERR_SYSTEM;

	if ((dfd = open(EMPTY_BASE, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "%s: %s", EMPTY_BASE, strerror(errno));
		return CL_ERR_SYSTEM;
	}
	if (mkdtemp(path) == NULL) {
		snprintf(err, errlen, "mkdtemp %s: %s", path, strerror(errno));
		goto out;
	}
	if (chroot(path) != 0 || chdir("/") != 0) {
		snprintf(err, errlen, "chroot %s: %s", path, strerror(errno));
		(void)rmdir(path);
		goto out;
	}
	if (unlinkat(dfd, path + sizeof(EMPTY_BASE), AT_REMOVEDIR) != 0) {
		snprintf(err, errlen, "rmdir %s: %s", path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	close(dfd);
	return r;
}

static int drop_caps(bool bounding, char *err, size_t errlen);

int
cl_privsep_drop_caps(char *err, size_t errlen)
{
	/* Without CAP_SETPCAP the bounding set stays (EPERM); the sets
	 * cleared below are what a process can use. */
	(void)drop_caps(true, err, errlen);
	return drop_caps(false, err, errlen);
}

static int
drop_caps(bool bounding, char *err, size_t errlen)
{
	struct __user_cap_header_struct h;
	struct __user_cap_data_struct d[2];
	int cap;

	if (bounding) {
		/* Needs CAP_SETPCAP: before the user changes. */
		for (cap = 0; cap <= 63; cap++)
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
				if (errno == EINVAL)
					break;
				snprintf(err, errlen,
				    "dropping capability %d from the bounding "
				    "set: %s",
				    cap, strerror(errno));
				return CL_ERR_SYSTEM;
			}
		return 0; /* the user change clears the rest */
	}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(&h, 0, sizeof(h));
	memset(d, 0, sizeof(d));
	h.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capset, &h, d) != 0) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return CL_ERR_SYSTEM;
	}
	return 0;
}

static int
drop(const struct cl_privsep_role *role, bool root, uid_t uid, gid_t gid,
    char *err, size_t errlen)
{
	struct rlimit zero = {0, 0};
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (root && (role->flags & CL_PRIVSEP_KEEPID) != 0) {
		if (drop_caps(true, err, errlen) != 0)
			return CL_ERR_SYSTEM;
	} else if (root) {
		if (role->root != NULL) {
			if (chroot(role->root) != 0 || chdir("/") != 0) {
				snprintf(err, errlen, "chroot %s: %s",
				    role->root, strerror(errno));
				return CL_ERR_SYSTEM;
			}
		} else if (chroot_empty(err, errlen) != 0)
			return CL_ERR_SYSTEM;
		if (drop_caps(true, err, errlen) != 0)
			return CL_ERR_SYSTEM;
		if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
		    setresuid(uid, uid, uid) != 0) {
			snprintf(err, errlen, "changing to uid %u gid %u: %s",
			    (unsigned)uid, (unsigned)gid, strerror(errno));
			return CL_ERR_SYSTEM;
		}
		if (getresuid(&ru, &eu, &su) != 0 ||
		    getresgid(&rg, &eg, &sg) != 0 || ru != uid || eu != uid ||
		    su != uid || rg != gid || eg != gid || sg != gid ||
		    setuid(0) == 0) {
			snprintf(err, errlen, "the user change did not hold");
			return CL_ERR_SYSTEM;
		}
	} else
		cl_info("%s role: not running as root: it keeps uid %u and the "
			"file system root (no chroot, no user change)",
		    role->name, (unsigned)getuid());
	if (setrlimit(RLIMIT_NPROC, &zero) != 0 ||
	    setrlimit(RLIMIT_CORE, &zero) != 0 ||
	    ((role->flags & CL_PRIVSEP_NOWRITE) != 0 &&
		setrlimit(RLIMIT_FSIZE, &zero) != 0)) {
		snprintf(err, errlen, "setrlimit: %s", strerror(errno));
		return CL_ERR_SYSTEM;
	}
	if (drop_caps(false, err, errlen) != 0)
		return CL_ERR_SYSTEM;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		snprintf(err, errlen, "prctl: %s", strerror(errno));
		return CL_ERR_SYSTEM;
	}
	if (role->sandbox != NULL && role->sandbox(err, errlen) != 0)
		return CL_ERR_SYSTEM;
	return 0;
}

int
cl_privsep_drop(const struct cl_privsep_role *role, const char *user, char *err,
    size_t errlen)
{
	uid_t uid = 0;
	gid_t gid = 0;
	bool root = geteuid() == 0;
	int r;

	if (root && (r = lookup_user(user, &uid, &gid, err, errlen)) != 0)
		return r;
	return drop(role, root, uid, gid, err, errlen);
}

/* In the child: descriptors src[0..n) become 3..3+n, all others but
 * 0, 1 and 2 are closed. */
static int
arrange_fds(const int *src, size_t n)
{
	int tmp[KEEP_MAX + 1], base = 3 + (int)n;
	size_t i;

	for (i = 0; i < n; i++)
		if (src[i] >= base)
			base = src[i] + 1;
	for (i = 0; i < n; i++)
		if ((tmp[i] = fcntl(src[i], F_DUPFD_CLOEXEC, base)) < 0)
			return -1;
	for (i = 0; i < n; i++)
		if (dup2(tmp[i], 3 + (int)i) < 0)
			return -1;
	return (int)syscall(SYS_close_range, 3 + (unsigned)n, ~0U, 0);
}

int
cl_privsep_start(const struct cl_privsep_role *role, void *arg, const int *keep,
    size_t nkeep, const char *user, pid_t *pid, int *sock, char *err,
    size_t errlen)
{
	int sv[2], fds[KEEP_MAX + 1];
	uid_t uid = 0;
	gid_t gid = 0;
	bool root = geteuid() == 0;
	size_t i, slot;
	pid_t p;
	int r;

	*pid = -1;
	*sock = -1;
	if (nkeep > KEEP_MAX) {
		snprintf(
		    err, errlen, "%s role: too many descriptors", role->name);
		return CL_ERR_INVALID_ARG;
	}
	for (slot = 0; slot < ROLES_MAX && roles[slot].pid > 0; slot++)
		;
	if (slot == ROLES_MAX) {
		snprintf(err, errlen, "%s role: too many roles", role->name);
		return CL_ERR_FULL;
	}
	if (root && (r = lookup_user(user, &uid, &gid, err, errlen)) != 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		return CL_ERR_SYSTEM;
	}
	fflush(NULL);
	if ((p = fork()) < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return CL_ERR_SYSTEM;
	}
	if (p == 0) {
		struct sigaction sa;
		sigset_t all;
		char e[512];
		int s;

		/* The parent decides when a role ends: it stops at the end
		 * of its socket, or by SIGKILL. */
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		for (s = 1; s < NSIG; s++)
			if (s != SIGKILL && s != SIGSTOP)
				(void)sigaction(s, &sa, NULL);
		sa.sa_handler = SIG_IGN;
		(void)sigaction(SIGTERM, &sa, NULL);
		(void)sigaction(SIGINT, &sa, NULL);
		(void)sigaction(SIGHUP, &sa, NULL);
		(void)sigaction(SIGPIPE, &sa, NULL);
		sigemptyset(&all);
		(void)sigprocmask(SIG_SETMASK, &all, NULL);
		close(sv[0]);
		/* ps, top and /proc/PID/comm show the role (15 octets). */
		(void)prctl(PR_SET_NAME, role->name, 0, 0, 0);
		fds[0] = sv[1];
		for (i = 0; i < nkeep; i++)
			fds[i + 1] = keep[i];
		if (arrange_fds(fds, nkeep + 1) != 0) {
			cl_err("%s role: descriptors: %s", role->name,
			    strerror(errno));
			_exit(1);
		}
		if (role->prepare != NULL && role->prepare(arg, 3) != 0)
			_exit(1);
		if (drop(role, root, uid, gid, e, sizeof(e)) != 0) {
			cl_err("%s role: %s", role->name, e);
			_exit(1);
		}
		/* _exit: no atexit handler (a leak checker would need
		 * calls the filter refuses). */
		_exit(role->main(arg, 3));
	}
	close(sv[1]);
	roles[slot].pid = p;
	roles[slot].name = role->name;
	*pid = p;
	*sock = sv[0];
	return 0;
}

/* Logs how role i (pid p) ended and forgets it. */
static void
ended(size_t i, pid_t p, int st)
{
	if (WIFSIGNALED(st))
		cl_err("%s role (pid %ld) died: signal %d%s", roles[i].name,
		    (long)p, WTERMSIG(st),
		    WTERMSIG(st) == SIGSYS ? " (a system call its filter "
					     "refuses)"
					   : "");
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		cl_info("%s role (pid %ld) exited", roles[i].name, (long)p);
	else
		cl_err("%s role (pid %ld) exited with status %d", roles[i].name,
		    (long)p, WEXITSTATUS(st));
	roles[i].pid = 0;
	ends[nends % ROLES_MAX].pid = p;
	ends[nends % ROLES_MAX].status = st;
	nends++;
}

static size_t
find_role(pid_t p)
{
	size_t i;

	for (i = 0; i < ROLES_MAX && (p <= 0 || roles[i].pid != p); i++)
		;
	return i;
}

int
cl_privsep_reap(void)
{
	int n = 0, st;
	size_t i;
	pid_t p;

	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if ((i = find_role(p)) == ROLES_MAX)
			continue;
		ended(i, p, st);
		n++;
	}
	return n;
}

int
cl_privsep_wait(pid_t pid)
{
	size_t i;
	int st;
	pid_t p;

	if ((i = find_role(pid)) == ROLES_MAX)
		return 0;
	do
		p = waitpid(pid, &st, 0);
	while (p < 0 && errno == EINTR);
	if (p != pid)
		return CL_ERR_SYSTEM;
	ended(i, p, st);
	return 0;
}

bool
cl_privsep_status(pid_t pid, int *status)
{
	size_t i;

	for (i = 0; i < ROLES_MAX; i++)
		if (pid > 0 && ends[i].pid == pid) {
			*status = ends[i].status;
			return true;
		}
	return false;
}

bool
cl_privsep_alive(pid_t pid)
{
	return find_role(pid) < ROLES_MAX;
}
