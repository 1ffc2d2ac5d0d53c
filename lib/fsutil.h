/* SPDX-License-Identifier: ISC */
#ifndef CL_FSUTIL_H
#define CL_FSUTIL_H

/*
 * Safe handling of the files the daemons keep: state and output
 * directories checked as OpenSSH's StrictModes checks a home directory,
 * files opened relative to a directory descriptor without following
 * symbolic links, and private key files refused when others could read
 * them.  Everything here is plain POSIX: no event loop, no OpenSSL.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* Largest private key file cl_keyfile_read() accepts. */
#define CL_KEYFILE_MAX (64 * 1024)

/*
 * Opens name, a plain file name (no '/', not "." or ".."), inside the
 * directory dirfd, like openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC,
 * mode), and refuses what a planted entry could turn into a write
 * elsewhere:
 *   - a symbolic link (ELOOP), whatever the flags;
 *   - anything but a regular file (EINVAL), without blocking on a FIFO;
 *   - for write access, a file with more than one hard link (EMLINK).
 * O_TRUNC is applied only after these checks, so a refused file is never
 * truncated.  Returns the descriptor, or -1 with errno set (EINVAL too for
 * a name that is not plain).  cl_fs_strerror() words these errors.
 */
int cl_openat_nofollow(int dirfd, const char *name, int flags, mode_t mode);

/*
 * Text for an errno from the functions here: for ELOOP, EMLINK and EINVAL
 * it says what was refused and why; otherwise strerror(e).  The returned
 * string is static or strerror()'s.
 */
const char *cl_fs_strerror(int e);

/*
 * Splits path into its directory (dir, dirlen bytes: "." for a bare name,
 * "/" for a name in /) and its last component (base, baselen bytes).
 * Returns 0, or -1 with errno EINVAL if the last component is empty, "."
 * or "..", ENAMETOOLONG if a part does not fit.
 */
int cl_path_split(
    const char *path, char *dir, size_t dirlen, char *base, size_t baselen);

/*
 * Checks that path is a directory fit to hold the daemon's state, as
 * OpenSSH's StrictModes (safe_path()) does:
 *   - path itself is not a symbolic link, is a directory, is owned by the
 *     effective user or by root, and is not writable by group or others;
 *   - every parent of its real path up to / is owned by the effective
 *     user or root and is not writable by group or others, unless it has
 *     the sticky bit (as /tmp): there only the owner of our directory,
 *     already checked, can rename or remove it.  safe_path() has no such
 *     exception; we allow it so that a directory may live under /tmp.
 * On failure err gets the fault, naming the path (or the parent) and the
 * mode or owner found.  Returns 0 or CL_ERR_PERM (refused) or
 * CL_ERR_SYSTEM (a call failed; err says which, with errno's text).
 */
int cl_dir_check_private(const char *path, char *err, size_t errlen);

/*
 * cl_dir_check_private(), then opens path with O_DIRECTORY | O_NOFOLLOW
 * and checks the opened directory again through its descriptor (so that
 * what is used is what was checked).  *dfd gets the descriptor (-1 on
 * failure).  Returns as cl_dir_check_private().
 */
int cl_dir_open_private(const char *path, int *dfd, char *err, size_t errlen);

/* cl_dir_open_private() of a directory that may also belong to owner
 * (the user a role of the daemon runs as), not only to the effective
 * user or root. */
int cl_dir_open_private_owner(
    const char *path, uid_t owner, int *dfd, char *err, size_t errlen);

/*
 * Checks the private key file open on fd (named path in messages), as ssh
 * checks an identity file: a regular file owned by the effective user with
 * no permission for group or others (mode 0600 or 0400).  On failure err
 * names the file and the mode or owner found.  Returns 0, CL_ERR_PERM or
 * CL_ERR_SYSTEM.
 */
int cl_keyfile_check_fd(int fd, const char *path, char *err, size_t errlen);

/* cl_keyfile_check_fd() on the file at path. */
int cl_keyfile_check(const char *path, char *err, size_t errlen);

/*
 * Reads the private key file at path after cl_keyfile_check_fd(): *p gets
 * a NUL-terminated copy of its bytes (at most CL_KEYFILE_MAX), *len their
 * number.  The caller owns *p and must release it with cl_keyfile_free(),
 * which wipes it.  Returns 0, CL_ERR_PERM, CL_ERR_TOOBIG, CL_ERR_NOMEM or
 * CL_ERR_SYSTEM, with err set.
 */
int cl_keyfile_read(
    const char *path, uint8_t **p, size_t *len, char *err, size_t errlen);

/* Wipes len bytes at p (explicit_bzero) and frees p; NULL is fine. */
void cl_keyfile_free(uint8_t *p, size_t len);

/* A file as last read by cl_file_reread(). */
struct cl_file_seen {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	bool ok; /* the fields hold a file read */
};

/*
 * Reads path (a regular file of at most max octets) into *out (malloc'd,
 * *len octets) if it is not the file seen last (inode, size or time of
 * modification differ), and records it in *seen.  Returns 1 (read), 0
 * (unchanged: nothing read) or -1 with a reason in err (missing,
 * unreadable, not a regular file, too large); *seen is then unchanged.
 * For a process that hands an operator's file (a CRL) to one that opens
 * none.
 */
int cl_file_reread(const char *path, struct cl_file_seen *seen, size_t max,
    uint8_t **out, size_t *len, char *err, size_t errlen);

#endif /* CL_FSUTIL_H */
