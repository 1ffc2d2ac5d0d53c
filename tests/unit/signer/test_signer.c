/* SPDX-License-Identifier: ISC */
/*
 * The MDF's signer role: it signs lists of hashes with a key only it
 * holds, refuses other lengths, runs sandboxed, and its death is seen.
 */
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

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
#include "signer.h"

static char dir[64];
static char keypath[128];
static EVP_PKEY *key;

static void
write_key(EVP_PKEY *k, const char *path)
{
	FILE *f;

	CHECK((f = fopen(path, "w")) != NULL);
	CHECK(chmod(path, 0600) == 0);
	CHECK(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1);
	CHECK(fclose(f) == 0);
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/clearli-signer.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(keypath, sizeof(keypath), "%s/ic.key", dir);
	CHECK((key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) != NULL);
	write_key(key, keypath);
}

static void
teardown(void)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/ec.key", dir);
	unlink(p);
	unlink(keypath);
	rmdir(dir);
	EVP_PKEY_free(key);
	key = NULL;
}

static bool
verifies(const uint8_t *msg, size_t len, const uint8_t sig[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok;

	CHECK(md != NULL);
	ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestVerify(md, sig, 64, msg, len) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

static void
status_field(pid_t pid, const char *field, char *out, size_t len)
{
	char path[64], line[256];
	size_t fl = strlen(field);
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	CHECK((f = fopen(path, "r")) != NULL);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
			char *v = line + fl + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = '\0';
			snprintf(out, len, "%s", v);
		}
	fclose(f);
}

CL_TEST(signs_hashes)
{
	struct mdf_signer *s = NULL;
	uint8_t raw[32], sig[64], *h;
	size_t rl = sizeof(raw), n;
	char err[256];

	setup();
	CHECK_INT_EQ(mdf_signer_start(keypath, NULL, &s, err, sizeof(err)), 0);
	CHECK(mdf_signer_pid(s) > 0);
	CHECK(EVP_PKEY_get_raw_public_key(key, raw, &rl) == 1);
	CHECK_MEM_EQ(mdf_signer_pubkey(s), raw, 32);
	CHECK((h = malloc(32 * MDF_SIGNER_HASHES_MAX + 32)) != NULL);
	for (n = 0; n < 32 * MDF_SIGNER_HASHES_MAX + 32; n++)
		h[n] = (uint8_t)(n * 13);
	for (n = 1; n <= MDF_SIGNER_HASHES_MAX; n = n * 4 + 1) {
		CHECK_INT_EQ(mdf_signer_sign(s, h, 32 * n, sig), 0);
		CHECK(verifies(h, 32 * n, sig));
	}
	CHECK_INT_EQ(mdf_signer_sign(s, h, 32 * MDF_SIGNER_HASHES_MAX, sig), 0);
	CHECK(verifies(h, 32 * MDF_SIGNER_HASHES_MAX, sig));
	/* lengths that are no list of hashes */
	CHECK_INT_EQ(mdf_signer_sign(s, h, 0, sig), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(mdf_signer_sign(s, h, 31, sig), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(mdf_signer_sign(s, h, 33, sig), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(
	    mdf_signer_sign(s, h, 32 * MDF_SIGNER_HASHES_MAX + 32, sig),
	    CL_ERR_INVALID_ARG);
	/* still there */
	CHECK_INT_EQ(mdf_signer_sign(s, h, 64, sig), 0);
	CHECK(verifies(h, 64, sig));
	free(h);
	mdf_signer_free(s);
	teardown();
}

/* The signer's process: sandboxed, without privileges, with its socket
 * and the log only. */
CL_TEST(separated)
{
	struct mdf_signer *s = NULL;
	char err[256], v[128], path[64], link[256];
	struct dirent *de;
	DIR *d;
	int nfd = 0;
	pid_t pid;

	setup();
	CHECK_INT_EQ(mdf_signer_start(keypath, NULL, &s, err, sizeof(err)), 0);
	pid = mdf_signer_pid(s);
	status_field(pid, "Seccomp", v, sizeof(v));
	CHECK_STR_EQ(v, "2");
	status_field(pid, "NoNewPrivs", v, sizeof(v));
	CHECK_STR_EQ(v, "1");
	status_field(pid, "CapEff", v, sizeof(v));
	CHECK_STR_EQ(v, "0000000000000000");
	if (geteuid() == 0) {
		status_field(pid, "Uid", v, sizeof(v));
		CHECK(strncmp(v, "0\t", 2) != 0);
		snprintf(path, sizeof(path), "/proc/%ld/root", (long)pid);
		CHECK(readlink(path, link, sizeof(link)) > 0);
		CHECK(strncmp(link, "/\0", 2) != 0);
	}
	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	CHECK((d = opendir(path)) != NULL);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		nfd++;
		/* 0, 1, 2 and its socket (3) */
		CHECK(strlen(de->d_name) == 1 && de->d_name[0] <= '3');
	}
	closedir(d);
	CHECK_INT_EQ(nfd, 4);
	mdf_signer_free(s);
	teardown();
}

/* Killed, the signer is gone for good: the MDF is told, not hung. */
CL_TEST(killed)
{
	struct mdf_signer *s = NULL;
	uint8_t h[64], sig[64];
	char err[256];
	pid_t pid;

	setup();
	CHECK_INT_EQ(mdf_signer_start(keypath, NULL, &s, err, sizeof(err)), 0);
	pid = mdf_signer_pid(s);
	memset(h, 7, sizeof(h));
	CHECK_INT_EQ(mdf_signer_sign(s, h, sizeof(h), sig), 0);
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK_INT_EQ(mdf_signer_sign(s, h, sizeof(h), sig), CL_ERR_CLOSED);
	CHECK_INT_EQ(mdf_signer_pid(s), -1);
	CHECK(!cl_privsep_alive(pid));
	CHECK(kill(pid, 0) != 0); /* reaped */
	CHECK_INT_EQ(mdf_signer_sign(s, h, sizeof(h), sig), CL_ERR_CLOSED);
	mdf_signer_free(s);
	teardown();
}

/* A key it cannot use: nothing starts, and the caller is told. */
CL_TEST(bad_keys)
{
	struct mdf_signer *s = NULL;
	char err[256], p[160];
	EVP_PKEY *ec;

	setup();
	snprintf(p, sizeof(p), "%s/none.key", dir);
	CHECK(mdf_signer_start(p, NULL, &s, err, sizeof(err)) != 0);
	CHECK(s == NULL);
	CHECK(strstr(err, "signer role did not start") != NULL);
	CHECK((ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")) != NULL);
	snprintf(p, sizeof(p), "%s/ec.key", dir);
	write_key(ec, p);
	EVP_PKEY_free(ec);
	CHECK(mdf_signer_start(p, NULL, &s, err, sizeof(err)) != 0);
	CHECK(s == NULL);
	/* readable by others: refused */
	CHECK(chmod(keypath, 0644) == 0);
	CHECK(mdf_signer_start(keypath, NULL, &s, err, sizeof(err)) != 0);
	CHECK(s == NULL);
	teardown();
}

int
main(void)
{
	cl_log_init("test-signer", CL_LOG_INFO, false);
	if (RUNNING_ON_VALGRIND) {
		/* valgrind runs no seccomp(2) (syscall 317): there is no
		 * filter to test, and the roles cannot start. */
		printf("skipped under valgrind: it does not run seccomp "
		       "filters\n");
		return cl_test_done();
	}
	CL_RUN(signs_hashes);
	CL_RUN(separated);
	CL_RUN(killed);
	CL_RUN(bad_keys);
	return cl_test_done();
}
