/* SPDX-License-Identifier: ISC */
/*
 * The IntegrityCheck signer role (signer.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "err.h"
#include "imsg.h"
#include "log.h"
#include "privsep.h"
#include "sandbox.h"
#include "signer.h"
#include "tls.h"

struct mdf_signer {
	pid_t pid;
	int fd;
	struct cl_imsgbuf *ib;
	uint8_t pub[32];
};

/* What each side accepts. */
static const struct cl_imsg_type to_signer[] = {
    {MDF_SIGNER_SIGN, "sign", 32, 32 * MDF_SIGNER_HASHES_MAX, 32, false},
};
static const struct cl_imsg_type to_mdf[] = {
    {MDF_SIGNER_READY, "ready", 32, 32, 0, false, CL_IMSG_T_ONCE},
    /* only as the answer to a request */
    {MDF_SIGNER_SIG, "signature", MDF_SIGNER_SIG_LEN, MDF_SIGNER_SIG_LEN, 0,
	false, CL_IMSG_T_OFF},
};

/* ---- the role ---- */

struct role_arg {
	const char *path;
	EVP_PKEY *key;
};

static int
sign(EVP_PKEY *key, const uint8_t *p, size_t len,
    uint8_t sig[MDF_SIGNER_SIG_LEN])
{
	EVP_MD_CTX *md;
	size_t siglen = MDF_SIGNER_SIG_LEN;
	int r = CL_ERR_SYSTEM;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return CL_ERR_NOMEM;
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(md, sig, &siglen, p, len) == 1 &&
	    siglen == MDF_SIGNER_SIG_LEN)
		r = 0;
	EVP_MD_CTX_free(md);
	return r;
}

/* With the file system still there: the key, and one signature so that
 * OpenSSL has done whatever it does on first use (it may open files). */
static int
role_prepare(void *arg, int sock)
{
	struct role_arg *a = arg;
	uint8_t h[32], sig[MDF_SIGNER_SIG_LEN];
	char err[1024];

	(void)sock;
	if ((a->key = cl_tls_load_key(a->path, err, sizeof(err))) == NULL) {
		cl_err("signer role: integrity-key: %s", err);
		return -1;
	}
	if (EVP_PKEY_get_base_id(a->key) != EVP_PKEY_ED25519) {
		cl_err("signer role: %s: not an Ed25519 private key (PEM)",
		    a->path);
		return -1;
	}
	memset(h, 0, sizeof(h));
	if (sign(a->key, h, sizeof(h), sig) != 0) {
		cl_err("signer role: the key does not sign");
		return -1;
	}
	return 0;
}

static int
role_main(void *arg, int sock)
{
	struct role_arg *a = arg;
	struct cl_imsgbuf *ib = NULL;
	struct cl_imsg m;
	uint8_t pub[32], sig[MDF_SIGNER_SIG_LEN];
	size_t pl = sizeof(pub);
	char err[256];
	int r, ret = 1;

	if (cl_imsg_new(sock, to_signer, 1, &ib) != 0) {
		cl_err("signer role: out of memory");
		goto out;
	}
	if (EVP_PKEY_get_raw_public_key(a->key, pub, &pl) != 1 || pl != 32) {
		cl_err("signer role: no public key");
		goto out;
	}
	if (cl_imsg_compose(ib, MDF_SIGNER_READY, -1, pub, sizeof(pub)) != 0 ||
	    cl_imsg_flush(ib) != 0)
		goto out;
	for (;;) {
		r = cl_imsg_wait(ib, &m, err, sizeof(err));
		if (r == CL_ERR_CLOSED) {
			ret = 0; /* the MDF ended */
			break;
		}
		if (r != 1) {
			cl_err("signer role: request refused: %s", err);
			break;
		}
		/* m.type is MDF_SIGNER_SIGN: the table admits no other. */
		if (sign(a->key, m.data, m.len, sig) != 0) {
			cl_err("signer role: signing failed");
			break;
		}
		if (cl_imsg_compose(ib, MDF_SIGNER_SIG, -1, sig, sizeof(sig)) !=
		    0)
			break;
	}
out:
	cl_imsg_free(ib);
	EVP_PKEY_free(a->key);
	a->key = NULL;
	return ret;
}

static const struct cl_privsep_role signer_role = {
    .name = "signer",
    .flags = 0, /* it writes its log: stderr may be a file */
    .root = NULL,
    .prepare = role_prepare,
    .sandbox = cl_sandbox_signer,
    .main = role_main,
};

/* ---- the MDF's side ---- */

/* The signer failed us: make sure it is gone and say how it ended. */
static void
gone(struct mdf_signer *s)
{
	if (s->pid <= 0)
		return;
	(void)kill(s->pid, SIGKILL);
	(void)cl_privsep_wait(s->pid);
	s->pid = -1;
}

int
mdf_signer_start(const char *keypath, const char *user, struct mdf_signer **out,
    char *err, size_t errlen)
{
	struct role_arg a = {keypath, NULL};
	struct mdf_signer *s;
	struct cl_imsg m;
	char e[256];
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return CL_ERR_NOMEM;
	s->pid = -1;
	s->fd = -1;
	if ((r = cl_privsep_start(&signer_role, &a, NULL, 0, user, &s->pid,
		 &s->fd, err, errlen)) != 0)
		goto fail;
	if ((r = cl_imsg_new(s->fd, to_mdf, 2, &s->ib)) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((r = cl_imsg_wait(s->ib, &m, e, sizeof(e))) != 1 ||
	    m.type != MDF_SIGNER_READY) {
		snprintf(err, errlen, "signer role did not start: %s",
		    r == 1 ? "no ready message"
			: r == CL_ERR_CLOSED
			? "it ended (its log line says why)"
			: e);
		r = CL_ERR_CLOSED;
		goto fail;
	}
	memcpy(s->pub, m.data, sizeof(s->pub));
	*out = s;
	return 0;
fail:
	if (s->fd >= 0)
		gone(s);
	mdf_signer_free(s);
	return r;
}

int
mdf_signer_sign(struct mdf_signer *s, const uint8_t *hashes, size_t len,
    uint8_t sig[MDF_SIGNER_SIG_LEN])
{
	struct cl_imsg m;
	char err[256];
	int r;

	if (len == 0 || len % 32 != 0 || len > 32 * MDF_SIGNER_HASHES_MAX)
		return CL_ERR_INVALID_ARG;
	if (s->pid <= 0)
		return CL_ERR_CLOSED;
	if ((r = cl_imsg_compose(s->ib, MDF_SIGNER_SIGN, -1, hashes, len)) != 0)
		return r;
	(void)cl_imsg_permit(s->ib, MDF_SIGNER_SIG, true);
	r = cl_imsg_wait(s->ib, &m, err, sizeof(err));
	(void)cl_imsg_permit(s->ib, MDF_SIGNER_SIG, false);
	if (r == 1 && m.type == MDF_SIGNER_SIG) {
		memcpy(sig, m.data, MDF_SIGNER_SIG_LEN);
		return 0;
	}
	cl_err("signer role (pid %ld): %s", (long)s->pid,
	    r == 1 ? "an answer out of turn" : err);
	gone(s);
	return CL_ERR_CLOSED;
}

pid_t
mdf_signer_pid(const struct mdf_signer *s)
{
	return s->pid;
}

const uint8_t *
mdf_signer_pubkey(const struct mdf_signer *s)
{
	return s->pub;
}

void
mdf_signer_free(struct mdf_signer *s)
{
	if (s == NULL)
		return;
	cl_imsg_free(s->ib);
	if (s->fd >= 0)
		close(s->fd);
	/* At the end of its socket the signer exits. */
	if (s->pid > 0)
		(void)cl_privsep_wait(s->pid);
	free(s);
}
