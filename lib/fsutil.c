/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fsutil.h"

static bool
plain_name(const char *name)
{
	return name[0] != '\0' && strchr(name, '/') == NULL &&
	    strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int
cl_openat_nofollow(int dirfd, const char *name, int flags, mode_t mode)
{
	struct stat st;
	int fd, e, want = flags & ~O_TRUNC;

	if (name == NULL || !plain_name(name)) {
		errno = EINVAL;
		return -1;
	}
	/* O_NONBLOCK: a FIFO planted here must not hang the open. */
	fd = openat(
	    dirfd, name, want | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, mode);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	/* A second hard link may be someone else's file. */
	if ((flags & O_ACCMODE) != O_RDONLY && st.st_nlink > 1) {
		errno = EMLINK;
		goto fail;
	}
	if ((flags & O_NONBLOCK) == 0 &&
	    fcntl(fd, F_SETFL, want & ~(O_CREAT | O_EXCL | O_NOCTTY)) != 0)
		goto fail;
	if ((flags & O_TRUNC) != 0 && (flags & O_ACCMODE) != O_RDONLY &&
	    ftruncate(fd, 0) != 0)
		goto fail;
	return fd;
fail:
	e = errno;
	(void)close(fd);
	errno = e;
	return -1;
}

const char *
cl_fs_strerror(int e)
{
	switch (e) {
	case ELOOP:
		return "a symbolic link, not followed (ELOOP)";
	case EMLINK:
		return "has more than one hard link, refused (EMLINK)";
	case EINVAL:
		return "not a regular file, refused (EINVAL)";
	default:
		return strerror(e);
	}
}

int
cl_path_split(
    const char *path, char *dir, size_t dirlen, char *base, size_t baselen)
{
	const char *slash, *b;
	size_t dl;

	if ((slash = strrchr(path, '/')) == NULL) {
		b = path;
		dl = 0;
	} else {
		b = slash + 1;
		dl = slash == path ? 1 : (size_t)(slash - path);
	}
	if (!plain_name(b)) {
		errno = EINVAL;
		return -1;
	}
	if (strlen(b) >= baselen || (dl == 0 ? 2 : dl + 1) > dirlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (dl == 0)
		memcpy(dir, ".", 2);
	else {
		memcpy(dir, path, dl);
		dir[dl] = '\0';
	}
	memcpy(base, b, strlen(b) + 1);
	return 0;
}

/* Owner and write bits of one directory; what names it in messages. */
/* The directory itself may also belong to owner ((uid_t)-1: nobody
 * else). */
static int
check_dir_st(const struct stat *st, const char *what, const char *path,
    bool parent, uid_t owner, char *err, size_t errlen)
{
	uid_t uid = geteuid();
	unsigned m = (unsigned)st->st_mode & 07777;
	const char *who;

	if (!S_ISDIR(st->st_mode)) {
		snprintf(err, errlen, "%s%s: not a directory", what, path);
		return CL_ERR_PERM;
	}
	if (st->st_uid != uid && st->st_uid != 0 &&
	    (owner == (uid_t)-1 || st->st_uid != owner)) {
		snprintf(err, errlen,
		    "%s%s: owned by uid %u, not by uid %u (this daemon's user) "
		    "or root",
		    what, path, (unsigned)st->st_uid, (unsigned)uid);
		return CL_ERR_PERM;
	}
	if ((m & 022) != 0 && !(parent && (m & S_ISVTX) != 0)) {
		if ((m & 022) == 022)
			who = "group and others";
		else
			who = (m & 020) != 0 ? "group" : "others";
		snprintf(err, errlen, "%s%s: mode %04o: writable by %s%s", what,
		    path, m, who, parent ? ", without the sticky bit" : "");
		return CL_ERR_PERM;
	}
	return 0;
}

static int
check_private(const char *path, uid_t owner, char *err, size_t errlen)
{
	char buf[PATH_MAX], *slash;
	struct stat st;
	int r;

	if (errlen > 0)
		err[0] = '\0';
	if (lstat(path, &st) != 0) {
		snprintf(err, errlen, "directory %s: cannot stat: %s", path,
		    strerror(errno));
		return CL_ERR_SYSTEM;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(err, errlen,
		    "directory %s: a symbolic link, refused (use the real "
		    "path)",
		    path);
		return CL_ERR_PERM;
	}
	if ((r = check_dir_st(
		 &st, "directory ", path, false, owner, err, errlen)) != 0)
		return r;
	if (realpath(path, buf) == NULL) {
		snprintf(err, errlen, "directory %s: realpath: %s", path,
		    strerror(errno));
		return CL_ERR_SYSTEM;
	}
	/* Every parent of the real path, up to and including /. */
	while (strcmp(buf, "/") != 0) {
		if ((slash = strrchr(buf, '/')) == NULL)
			break;
		if (slash == buf)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(buf, &st) != 0) {
			snprintf(err, errlen,
			    "directory %s: parent %s: cannot stat: %s", path,
			    buf, strerror(errno));
			return CL_ERR_SYSTEM;
		}
		if ((r = check_dir_st(&st, "parent directory ", buf, true,
			 (uid_t)-1, err, errlen)) != 0)
			return r;
	}
	return 0;
}

int
cl_dir_check_private(const char *path, char *err, size_t errlen)
{
	return check_private(path, (uid_t)-1, err, errlen);
}

int
cl_dir_open_private(const char *path, int *dfd, char *err, size_t errlen)
{
	return cl_dir_open_private_owner(path, (uid_t)-1, dfd, err, errlen);
}

int
cl_dir_open_private_owner(
    const char *path, uid_t owner, int *dfd, char *err, size_t errlen)
{
	struct stat st;
	int fd, r;

	*dfd = -1;
	if ((r = check_private(path, owner, err, errlen)) != 0)
		return r;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
	    0) {
		snprintf(err, errlen, "directory %s: cannot open: %s", path,
		    cl_fs_strerror(errno));
		return CL_ERR_SYSTEM;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "directory %s: fstat: %s", path,
		    strerror(errno));
		(void)close(fd);
		return CL_ERR_SYSTEM;
	}
	/* It may have been replaced between the check and the open. */
	if ((r = check_dir_st(
		 &st, "directory ", path, false, owner, err, errlen)) != 0) {
		(void)close(fd);
		return r;
	}
	*dfd = fd;
	return 0;
}

int
cl_keyfile_check_fd(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;
	uid_t uid = geteuid();
	unsigned m;

	if (errlen > 0)
		err[0] = '\0';
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "private key %s: fstat: %s", path,
		    strerror(errno));
		return CL_ERR_SYSTEM;
	}
	m = (unsigned)st.st_mode & 07777;
	if (!S_ISREG(st.st_mode)) {
		snprintf(
		    err, errlen, "private key %s: not a regular file", path);
		return CL_ERR_PERM;
	}
	if (st.st_uid != uid) {
		snprintf(err, errlen,
		    "private key %s: owned by uid %u, not by uid %u (this "
		    "daemon's user): refused",
		    path, (unsigned)st.st_uid, (unsigned)uid);
		return CL_ERR_PERM;
	}
	if ((m & 077) != 0) {
		snprintf(err, errlen,
		    "private key %s: mode %04o is too open (group or others "
		    "may read or write it): refused; it must be 0600 or "
		    "stricter",
		    path, m);
		return CL_ERR_PERM;
	}
	return 0;
}

int
cl_keyfile_check(const char *path, char *err, size_t errlen)
{
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) <
	    0) {
		snprintf(err, errlen, "private key %s: cannot open: %s", path,
		    strerror(errno));
		return CL_ERR_SYSTEM;
	}
	r = cl_keyfile_check_fd(fd, path, err, errlen);
	(void)close(fd);
	return r;
}

int
cl_keyfile_read(
    const char *path, uint8_t **p, size_t *len, char *err, size_t errlen)
{
	uint8_t *b = NULL;
	size_t n = 0;
	ssize_t k;
	int fd = -1, r;

	*p = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) <
	    0) {
		snprintf(err, errlen, "private key %s: cannot open: %s", path,
		    strerror(errno));
		r = CL_ERR_SYSTEM;
		goto out;
	}
	if ((r = cl_keyfile_check_fd(fd, path, err, errlen)) != 0)
		goto out;
	if ((b = malloc(CL_KEYFILE_MAX + 1)) == NULL) {
		snprintf(err, errlen, "private key %s: out of memory", path);
		r = CL_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		k = read(fd, b + n, CL_KEYFILE_MAX + 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(err, errlen, "private key %s: read: %s", path,
			    strerror(errno));
			r = CL_ERR_SYSTEM;
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > CL_KEYFILE_MAX) {
			snprintf(err, errlen,
			    "private key %s: larger than %d bytes", path,
			    CL_KEYFILE_MAX);
			r = CL_ERR_TOOBIG;
			goto out;
		}
	}
	b[n] = '\0';
	*p = b;
	*len = n;
	b = NULL;
	r = 0;
out:
	cl_keyfile_free(b, CL_KEYFILE_MAX + 1);
	if (fd >= 0)
		(void)close(fd);
	return r;
}

void
cl_keyfile_free(uint8_t *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

int
cl_file_reread(const char *path, struct cl_file_seen *seen, size_t max,
    uint8_t **out, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd;

	*out = NULL;
	*len = 0;
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (seen->ok && st.st_dev == seen->dev && st.st_ino == seen->ino &&
	    st.st_size == seen->size &&
	    st.st_mtim.tv_sec == seen->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == seen->mtime.tv_nsec)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		goto fail;
	}
	if ((uint64_t)st.st_size > max) {
		snprintf(err, errlen, "larger than %zu octets", max);
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* One more octet than its size: a file that grew meanwhile is read
	 * again on the next look (its size differs). */
	while (got <= (size_t)st.st_size &&
	    (n = read(fd, buf + got, (size_t)st.st_size + 1 - got)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s", strerror(errno));
			goto fail;
		}
		got += (size_t)n;
	}
	if (got != (size_t)st.st_size) {
		snprintf(err, errlen, "changed while being read");
		goto fail;
	}
	close(fd);
	seen->dev = st.st_dev;
	seen->ino = st.st_ino;
	seen->size = st.st_size;
	seen->mtime = st.st_mtim;
	seen->ok = true;
	*out = buf;
	*len = got;
	return 1;
fail:
	free(buf);
	close(fd);
	return -1;
}
