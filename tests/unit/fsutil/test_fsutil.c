/* SPDX-License-Identifier: ISC */
/*
 * Tests for lib/fsutil: opening inside a directory without following a
 * planted symbolic link (the target untouched, ELOOP named), hard links
 * and FIFOs refused for writing, the StrictModes-like directory check
 * (group- or world-writable, symbolic link, foreign owner, unsafe parent,
 * sticky parent), private key files by mode and owner, and
 * cl_tls_load_key() on top of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "err.h"
#include "fsutil.h"
#include "harness.h"
#include "tls.h"

static char base[PATH_MAX];

/* A fresh directory (mode 0700) in base, removed at the end. */
static const char *
newdir(void)
{
	static char tmpl[PATH_MAX + 16];

	snprintf(tmpl, sizeof(tmpl), "%s/d-XXXXXX", base);
	if (mkdtemp(tmpl) == NULL)
		cl_test_fail(
		    __FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
	return tmpl;
}

/* Copies a path into dst (n bytes); fails the test if it does not fit. */
static void
cpy(char *dst, size_t n, const char *src)
{
	size_t l = strlen(src);

	if (l >= n)
		cl_test_fail(__FILE__, __LINE__, "path too long: %s", src);
	memcpy(dst, src, l + 1);
}

static const char *
pathof(const char *dir, const char *name)
{
	static char p[PATH_MAX + NAME_MAX + 2];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void
put_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	CHECK(fd >= 0);
	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	CHECK(close(fd) == 0);
	CHECK(chmod(path, mode) == 0);
}

static void
check_content(const char *path, const char *text)
{
	uint8_t *p;
	size_t n;

	cl_test_read_file(path, &p, &n);
	CHECK_INT_EQ(n, strlen(text));
	CHECK_MEM_EQ(p, text, n);
	free(p);
}

static int
opendir_fd(const char *d)
{
	int fd = open(d, O_RDONLY | O_DIRECTORY);

	CHECK(fd >= 0);
	return fd;
}

/* cl_file_reread(): read when the file is new or changed, not when it
 * is the one seen; refusals leave what was seen. */
CL_TEST(file_reread)
{
	const char *d = newdir();
	struct cl_file_seen seen = {0};
	char p[PATH_MAX + NAME_MAX + 2], q[PATH_MAX + NAME_MAX + 2];
	char err[256];
	uint8_t *b = NULL;
	size_t n = 0;
	FILE *f;

	cpy(p, sizeof(p), pathof(d, "crl.pem"));
	cpy(q, sizeof(q), pathof(d, "crl.new"));
	CHECK_INT_EQ(
	    cl_file_reread(p, &seen, 64, &b, &n, err, sizeof(err)), -1);
	CHECK(strstr(err, "No such file") != NULL && b == NULL && !seen.ok);
	CHECK((f = fopen(p, "w")) != NULL && fputs("one", f) >= 0);
	fclose(f);
	CHECK_INT_EQ(cl_file_reread(p, &seen, 64, &b, &n, err, sizeof(err)), 1);
	CHECK(n == 3 && memcmp(b, "one", 3) == 0 && seen.ok);
	free(b);
	CHECK_INT_EQ(cl_file_reread(p, &seen, 64, &b, &n, err, sizeof(err)), 0);
	CHECK(b == NULL && n == 0);
	/* Replaced by rename, as an operator does: read again. */
	CHECK((f = fopen(q, "w")) != NULL && fputs("two!", f) >= 0);
	fclose(f);
	CHECK(rename(q, p) == 0);
	CHECK_INT_EQ(cl_file_reread(p, &seen, 64, &b, &n, err, sizeof(err)), 1);
	CHECK(n == 4 && memcmp(b, "two!", 4) == 0);
	free(b);
	/* Too large: refused, the last seen stays (and so it is tried
	 * again). */
	CHECK((f = fopen(q, "w")) != NULL && fputs("0123456789", f) >= 0);
	fclose(f);
	CHECK(rename(q, p) == 0);
	CHECK_INT_EQ(cl_file_reread(p, &seen, 8, &b, &n, err, sizeof(err)), -1);
	CHECK(strstr(err, "larger than 8") != NULL && b == NULL);
	CHECK_INT_EQ(cl_file_reread(p, &seen, 64, &b, &n, err, sizeof(err)), 1);
	CHECK(n == 10);
	free(b);
	/* Not a regular file. */
	CHECK(unlink(p) == 0 && mkfifo(p, 0600) == 0);
	CHECK_INT_EQ(
	    cl_file_reread(p, &seen, 64, &b, &n, err, sizeof(err)), -1);
	CHECK(strstr(err, "not a regular file") != NULL);
	CHECK(unlink(p) == 0);
	CHECK(rmdir(d) == 0);
}

CL_TEST(open_plain_file)
{
	const char *d = newdir();
	int dfd = opendir_fd(d), fd;
	struct stat st;

	fd = cl_openat_nofollow(dfd, "a", O_RDWR | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, "hello", 5) == 5);
	CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	CHECK((fcntl(fd, F_GETFL) & O_NONBLOCK) == 0);
	close(fd);
	/* O_TRUNC still empties a file of our own. */
	fd = cl_openat_nofollow(dfd, "a", O_WRONLY | O_TRUNC, 0);
	CHECK(fd >= 0);
	CHECK(fstat(fd, &st) == 0);
	CHECK_INT_EQ(st.st_size, 0);
	close(fd);
	/* O_EXCL on an existing file. */
	CHECK_INT_EQ(
	    cl_openat_nofollow(dfd, "a", O_WRONLY | O_CREAT | O_EXCL, 0600),
	    -1);
	CHECK_INT_EQ(errno, EEXIST);
	close(dfd);
}

CL_TEST(symlink_refused)
{
	const char *d = newdir();
	char victim[PATH_MAX];
	int dfd = opendir_fd(d);
	const char *flags_names[] = {"trunc", "append", "rdonly", "excl"};
	int flags[] = {O_WRONLY | O_CREAT | O_TRUNC,
	    O_RDWR | O_CREAT | O_APPEND, O_RDONLY, O_WRONLY | O_CREAT | O_EXCL};
	size_t i;

	cpy(victim, sizeof(victim), pathof(d, "victim"));
	put_file(victim, "precious\n", 0600);
	CHECK(symlink(victim, pathof(d, "link")) == 0);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		errno = 0;
		if (cl_openat_nofollow(dfd, "link", flags[i], 0600) != -1)
			cl_test_fail(__FILE__, __LINE__,
			    "%s: a symbolic link was opened", flags_names[i]);
		/* O_EXCL reports EEXIST; everything else ELOOP. */
		CHECK(errno == (i == 3 ? EEXIST : ELOOP));
	}
	check_content(victim, "precious\n");
	CHECK(strstr(cl_fs_strerror(ELOOP), "symbolic link") != NULL);
	CHECK(strstr(cl_fs_strerror(ELOOP), "ELOOP") != NULL);
	/* A dangling link is not created through either. */
	cpy(victim, sizeof(victim), pathof(d, "nowhere"));
	CHECK(symlink(victim, pathof(d, "dangling")) == 0);
	CHECK_INT_EQ(cl_openat_nofollow(
			 dfd, "dangling", O_WRONLY | O_CREAT | O_TRUNC, 0600),
	    -1);
	CHECK_INT_EQ(errno, ELOOP);
	CHECK(access(victim, F_OK) != 0);
	close(dfd);
}

CL_TEST(hardlink_fifo_and_names_refused)
{
	const char *d = newdir();
	char victim[PATH_MAX];
	int dfd = opendir_fd(d), fd;

	cpy(victim, sizeof(victim), pathof(d, "victim"));
	put_file(victim, "precious\n", 0600);
	CHECK(link(victim, pathof(d, "hard")) == 0);
	CHECK_INT_EQ(
	    cl_openat_nofollow(dfd, "hard", O_WRONLY | O_CREAT | O_TRUNC, 0600),
	    -1);
	CHECK_INT_EQ(errno, EMLINK);
	check_content(victim, "precious\n");
	/* Reading through a second link is harmless. */
	fd = cl_openat_nofollow(dfd, "hard", O_RDONLY, 0);
	CHECK(fd >= 0);
	close(fd);
	/* A FIFO neither blocks nor is accepted. */
	CHECK(mkfifo(pathof(d, "fifo"), 0600) == 0);
	CHECK_INT_EQ(cl_openat_nofollow(dfd, "fifo", O_RDONLY, 0), -1);
	CHECK_INT_EQ(errno, EINVAL);
	CHECK_INT_EQ(cl_openat_nofollow(dfd, "fifo", O_WRONLY, 0), -1);
	CHECK(errno == EINVAL || errno == ENXIO);
	/* Only plain names: no path through other directories. */
	CHECK_INT_EQ(cl_openat_nofollow(dfd, "../x", O_RDONLY, 0), -1);
	CHECK_INT_EQ(errno, EINVAL);
	CHECK_INT_EQ(cl_openat_nofollow(dfd, "..", O_RDONLY, 0), -1);
	CHECK_INT_EQ(cl_openat_nofollow(dfd, "", O_RDONLY, 0), -1);
	close(dfd);
}

CL_TEST(path_split)
{
	char dir[PATH_MAX], b[NAME_MAX + 1], small[4];

	CHECK_INT_EQ(
	    cl_path_split("/a/b/c", dir, sizeof(dir), b, sizeof(b)), 0);
	CHECK_STR_EQ(dir, "/a/b");
	CHECK_STR_EQ(b, "c");
	CHECK_INT_EQ(cl_path_split("c", dir, sizeof(dir), b, sizeof(b)), 0);
	CHECK_STR_EQ(dir, ".");
	CHECK_STR_EQ(b, "c");
	CHECK_INT_EQ(cl_path_split("/c", dir, sizeof(dir), b, sizeof(b)), 0);
	CHECK_STR_EQ(dir, "/");
	CHECK_INT_EQ(cl_path_split("/a/", dir, sizeof(dir), b, sizeof(b)), -1);
	CHECK_INT_EQ(
	    cl_path_split("/a/..", dir, sizeof(dir), b, sizeof(b)), -1);
	CHECK_INT_EQ(
	    cl_path_split("/a/long", dir, sizeof(dir), small, sizeof(small)),
	    -1);
	CHECK_INT_EQ(errno, ENAMETOOLONG);
}

CL_TEST(dir_private)
{
	const char *d = newdir();
	char dir[PATH_MAX], err[512], link[PATH_MAX + 16];
	int fd = -1;

	cpy(dir, sizeof(dir), d);
	CHECK_INT_EQ(cl_dir_check_private(dir, err, sizeof(err)), 0);
	CHECK_INT_EQ(cl_dir_open_private(dir, &fd, err, sizeof(err)), 0);
	CHECK(fd >= 0);
	close(fd);
	/* 0750 and 0755 are fine: others may read, not write. */
	CHECK(chmod(dir, 0755) == 0);
	CHECK_INT_EQ(cl_dir_check_private(dir, err, sizeof(err)), 0);

	CHECK(chmod(dir, 0770) == 0);
	CHECK_INT_EQ(cl_dir_check_private(dir, err, sizeof(err)), CL_ERR_PERM);
	CHECK(strstr(err, dir) != NULL);
	CHECK(strstr(err, "0770") != NULL);
	CHECK(strstr(err, "writable by group") != NULL);
	CHECK_INT_EQ(
	    cl_dir_open_private(dir, &fd, err, sizeof(err)), CL_ERR_PERM);
	CHECK_INT_EQ(fd, -1);

	CHECK(chmod(dir, 0702) == 0);
	CHECK_INT_EQ(cl_dir_check_private(dir, err, sizeof(err)), CL_ERR_PERM);
	CHECK(strstr(err, "writable by others") != NULL);
	/* The sticky bit is no excuse for the directory itself. */
	CHECK(chmod(dir, 01777) == 0);
	CHECK_INT_EQ(cl_dir_check_private(dir, err, sizeof(err)), CL_ERR_PERM);
	CHECK(chmod(dir, 0700) == 0);

	/* A symbolic link to a good directory is refused, by name. */
	snprintf(link, sizeof(link), "%s.link", dir);
	CHECK(symlink(dir, link) == 0);
	CHECK_INT_EQ(cl_dir_check_private(link, err, sizeof(err)), CL_ERR_PERM);
	CHECK(strstr(err, link) != NULL);
	CHECK(strstr(err, "symbolic link") != NULL);
	CHECK_INT_EQ(
	    cl_dir_open_private(link, &fd, err, sizeof(err)), CL_ERR_PERM);
	CHECK(unlink(link) == 0);

	/* Missing: a system error naming it. */
	CHECK_INT_EQ(
	    cl_dir_check_private(pathof(dir, "none"), err, sizeof(err)),
	    CL_ERR_SYSTEM);
	CHECK(strstr(err, "none") != NULL);
	CHECK(strstr(err, strerror(ENOENT)) != NULL);
	/* A file is not a directory. */
	put_file(pathof(dir, "f"), "x", 0600);
	CHECK_INT_EQ(cl_dir_check_private(pathof(dir, "f"), err, sizeof(err)),
	    CL_ERR_PERM);
	CHECK(strstr(err, "not a directory") != NULL);
}

CL_TEST(dir_parents)
{
	char top[PATH_MAX], sub[PATH_MAX + 16], err[512];

	cpy(top, sizeof(top), newdir());
	snprintf(sub, sizeof(sub), "%s/state", top);
	CHECK(mkdir(sub, 0700) == 0);
	CHECK_INT_EQ(cl_dir_check_private(sub, err, sizeof(err)), 0);
	/* A parent others can write to: they could swap our directory. */
	CHECK(chmod(top, 0777) == 0);
	CHECK_INT_EQ(cl_dir_check_private(sub, err, sizeof(err)), CL_ERR_PERM);
	CHECK(strstr(err, top) != NULL);
	CHECK(strstr(err, "parent") != NULL);
	CHECK(strstr(err, "0777") != NULL);
	/* With the sticky bit (as /tmp) they cannot. */
	CHECK(chmod(top, 01777) == 0);
	CHECK_INT_EQ(cl_dir_check_private(sub, err, sizeof(err)), 0);
	CHECK(chmod(top, 0770) == 0);
	CHECK_INT_EQ(cl_dir_check_private(sub, err, sizeof(err)), CL_ERR_PERM);
	CHECK(strstr(err, "writable by group") != NULL);
	CHECK(chmod(top, 0700) == 0);
}

/* Ownership checks need root (chown); as root they apply to root too. */
CL_TEST(dir_and_key_owner)
{
	char dir[PATH_MAX], key[PATH_MAX + 16], err[512];

	if (geteuid() != 0) {
		printf("  (not root: ownership cases skipped)\n");
		return;
	}
	cpy(dir, sizeof(dir), newdir());
	CHECK(chown(dir, 12345, 12345) == 0);
	CHECK_INT_EQ(cl_dir_check_private(dir, err, sizeof(err)), CL_ERR_PERM);
	CHECK(strstr(err, "owned by uid 12345") != NULL);
	CHECK(chown(dir, 0, 0) == 0);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	put_file(key, "key", 0600);
	CHECK(chown(key, 12345, 0) == 0);
	CHECK_INT_EQ(cl_keyfile_check(key, err, sizeof(err)), CL_ERR_PERM);
	CHECK(strstr(err, key) != NULL);
	CHECK(strstr(err, "owned by uid 12345") != NULL);
}

CL_TEST(keyfile_mode)
{
	const char *d = newdir();
	char key[PATH_MAX], err[512];
	static const mode_t bad[] = {0644, 0640, 0604, 0660, 0610, 0601};
	uint8_t *p;
	size_t n, i;

	cpy(key, sizeof(key), pathof(d, "k.pem"));
	put_file(key, "-----BEGIN PRIVATE KEY-----\n", 0644);
	CHECK_INT_EQ(cl_keyfile_check(key, err, sizeof(err)), CL_ERR_PERM);
	CHECK(strstr(err, key) != NULL);
	CHECK(strstr(err, "0644") != NULL);
	CHECK(strstr(err, "too open") != NULL);
	CHECK_INT_EQ(
	    cl_keyfile_read(key, &p, &n, err, sizeof(err)), CL_ERR_PERM);
	CHECK(p == NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(chmod(key, bad[i]) == 0);
		CHECK_INT_EQ(
		    cl_keyfile_check(key, err, sizeof(err)), CL_ERR_PERM);
	}
	CHECK(chmod(key, 0600) == 0);
	CHECK_INT_EQ(cl_keyfile_check(key, err, sizeof(err)), 0);
	CHECK(chmod(key, 0400) == 0);
	CHECK_INT_EQ(cl_keyfile_check(key, err, sizeof(err)), 0);
	CHECK_INT_EQ(cl_keyfile_read(key, &p, &n, err, sizeof(err)), 0);
	CHECK_INT_EQ(n, 28);
	CHECK_MEM_EQ(p, "-----BEGIN PRIVATE KEY-----\n", n);
	CHECK_INT_EQ(p[n], 0);
	cl_keyfile_free(p, n);
	cl_keyfile_free(NULL, 0);
	/* Missing: named, with errno's text. */
	CHECK_INT_EQ(cl_keyfile_check(pathof(d, "none"), err, sizeof(err)),
	    CL_ERR_SYSTEM);
	CHECK(strstr(err, strerror(ENOENT)) != NULL);
	/* Not a regular file. */
	CHECK_INT_EQ(cl_keyfile_check(d, err, sizeof(err)), CL_ERR_PERM);
}

CL_TEST(keyfile_too_big)
{
	const char *d = newdir();
	char key[PATH_MAX], err[512];
	uint8_t *p;
	size_t n;
	char *big;
	int fd;

	cpy(key, sizeof(key), pathof(d, "big.pem"));
	CHECK((big = calloc(1, CL_KEYFILE_MAX + 2)) != NULL);
	memset(big, 'A', CL_KEYFILE_MAX + 1);
	CHECK((fd = open(key, O_WRONLY | O_CREAT, 0600)) >= 0);
	CHECK(write(fd, big, CL_KEYFILE_MAX + 1) == CL_KEYFILE_MAX + 1);
	close(fd);
	free(big);
	CHECK_INT_EQ(
	    cl_keyfile_read(key, &p, &n, err, sizeof(err)), CL_ERR_TOOBIG);
	CHECK(p == NULL);
}

CL_TEST(tls_load_key)
{
	const char *d = newdir();
	char key[PATH_MAX], err[1024];
	EVP_PKEY *k, *l;
	FILE *f;

	CHECK((k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) != NULL);
	cpy(key, sizeof(key), pathof(d, "ed.pem"));
	CHECK((f = fopen(key, "w")) != NULL);
	CHECK(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1);
	CHECK(fclose(f) == 0);
	CHECK(chmod(key, 0644) == 0);
	CHECK((l = cl_tls_load_key(key, err, sizeof(err))) == NULL);
	CHECK(strstr(err, "0644") != NULL);
	CHECK(chmod(key, 0600) == 0);
	CHECK((l = cl_tls_load_key(key, err, sizeof(err))) != NULL);
	CHECK(EVP_PKEY_eq(k, l) == 1);
	EVP_PKEY_free(l);
	EVP_PKEY_free(k);
	/* Not PEM: refused with the file's name. */
	put_file(key, "not a key\n", 0600);
	CHECK(cl_tls_load_key(key, err, sizeof(err)) == NULL);
	CHECK(strstr(err, key) != NULL);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int
main(void)
{
	const char *t = getenv("TMPDIR");
	int r;

	snprintf(base, sizeof(base), "%s/fsutil-test-XXXXXX",
	    t != NULL && t[0] != '\0' ? t : "/tmp");
	if (mkdtemp(base) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	CL_RUN(open_plain_file);
	CL_RUN(file_reread);
	CL_RUN(symlink_refused);
	CL_RUN(hardlink_fifo_and_names_refused);
	CL_RUN(path_split);
	CL_RUN(dir_private);
	CL_RUN(dir_parents);
	CL_RUN(dir_and_key_owner);
	CL_RUN(keyfile_mode);
	CL_RUN(keyfile_too_big);
	CL_RUN(tls_load_key);
	r = cl_test_done();
	(void)nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return r;
}
