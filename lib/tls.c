/* SPDX-License-Identifier: ISC */
#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "err.h"
#include "fsutil.h"
#include "tls.h"
#include "util.h"

/*
 * Secure heap size: a few keys of the daemon itself plus one X25519 share
 * for each TLS handshake in progress (32 bytes each, rounded to MINSIZE);
 * 1 MiB holds tens of thousands.  When it is full OpenSSL fails the
 * allocation (a handshake fails), it never falls back to the plain heap.
 */
#define SECURE_HEAP_SIZE    (1024 * 1024)
#define SECURE_HEAP_MINSIZE 32

void
cl_tls_errors(char *buf, size_t len)
{
	unsigned long e;
	size_t o = strlen(buf);
	char one[256];

	while ((e = ERR_get_error()) != 0 && o + 3 < len) {
		ERR_error_string_n(e, one, sizeof(one));
		snprintf(buf + o, len - o, "%s%s", o > 0 ? "; " : "", one);
		o = strlen(buf);
	}
}

int
cl_tls_secure_init(char *err, size_t errlen)
{
	if (errlen > 0)
		err[0] = '\0';
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
		snprintf(err, errlen, "prctl(PR_SET_DUMPABLE, 0): %s",
		    strerror(errno));
		return CL_ERR_SYSTEM;
	}
	/* 1: locked; 2: not locked (RLIMIT_MEMLOCK), still not dumped. */
	if (CRYPTO_secure_malloc_initialized() == 0 &&
	    CRYPTO_secure_malloc_init(SECURE_HEAP_SIZE, SECURE_HEAP_MINSIZE) ==
		0) {
		snprintf(err, errlen,
		    "OpenSSL secure heap (%d bytes): ", SECURE_HEAP_SIZE);
		cl_tls_errors(err, errlen);
		return CL_ERR_SYSTEM;
	}
	return 0;
}

EVP_PKEY *
cl_tls_load_key(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *k = NULL;
	uint8_t *p = NULL;
	size_t len = 0;
	BIO *bio = NULL;

	if (errlen > 0)
		err[0] = '\0';
	if (cl_keyfile_read(path, &p, &len, err, errlen) != 0)
		goto out;
	/* A read-only memory BIO: no copy of the bytes is made. */
	if ((bio = BIO_new_mem_buf(p, (int)len)) == NULL ||
	    (k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL) {
		snprintf(err, errlen,
		    "private key %s: not a PEM private key: ", path);
		cl_tls_errors(err, errlen);
	}
out:
	BIO_free(bio);
	cl_keyfile_free(p, len);
	return k;
}

/* ---- Roles ------------------------------------------------------------ */

static const char *const role_names[CL_ROLE_MAX + 1] = {
    NULL, "poi", "mdf", "lemf", "admf"};
static const char *const role_sn[CL_ROLE_MAX + 1] = {
    NULL, "clearliPOI", "clearliMDF", "clearliLEMF", "clearliADMF"};

static CRYPTO_ONCE tls_once = CRYPTO_ONCE_STATIC_INIT;
static int role_nid[CL_ROLE_MAX + 1];
static int store_idx = -1; /* X509_STORE ex_data: struct policy */
static int ssl_idx = -1;   /* SSL ex_data: why the peer was refused */
static int tls_ready;

#define WHY_LEN 512

/*
 * What a context checks beyond the CA: the roles, and the revocation
 * lists.  It hangs off the context's X509_STORE (ex_data), which frees it.
 */
struct policy {
	enum cl_role self, peer;
	char *ca_path, *crl_path;
	STACK_OF(X509) * cas;      /* of ca_path: the CRLs' possible issuers */
	STACK_OF(X509_CRL) * crls; /* the last good lists */
	struct stat seen;          /* the file as last looked at */
	bool seen_ok;              /* seen is valid (stat() worked) */
	bool missing_warned;       /* the file is gone, and we said so */
	uint64_t checked_ms;       /* last look at the file */
	uint64_t stale_warned_ms;  /* last "expired" warning */
	bool stale_warned;
	bool pushed; /* lists come from cl_tls_crl_set(), not the file */
};

static void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	sk_X509_pop_free(p->cas, X509_free);
	sk_X509_CRL_pop_free(p->crls, X509_CRL_free);
	free(p->ca_path);
	free(p->crl_path);
	free(p);
}

static void
policy_free_cb(
    void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	policy_free(ptr);
}

static void
why_free_cb(
    void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static void
tls_init(void)
{
	char oid[64];
	int r;

	for (r = 1; r <= CL_ROLE_MAX; r++) {
		snprintf(oid, sizeof(oid), "%s.%d", CL_ROLE_OID_ARC, r);
		/* Another library in the process may have made it first. */
		if ((role_nid[r] = OBJ_txt2nid(oid)) == NID_undef &&
		    (role_nid[r] = OBJ_create(oid, role_sn[r], role_sn[r])) ==
			NID_undef)
			return;
	}
	store_idx =
	    X509_STORE_get_ex_new_index(0, NULL, NULL, NULL, policy_free_cb);
	ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, why_free_cb);
	tls_ready = store_idx >= 0 && ssl_idx >= 0;
}

static bool
ready(void)
{
	return CRYPTO_THREAD_run_once(&tls_once, tls_init) == 1 && tls_ready;
}

const char *
cl_role_name(enum cl_role r)
{
	return r >= CL_ROLE_POI && r <= CL_ROLE_MAX ? role_names[r] : "?";
}

int
cl_role_parse(const char *s, enum cl_role *out)
{
	int r;

	for (r = 1; r <= CL_ROLE_MAX; r++)
		if (strcmp(s, role_names[r]) == 0) {
			*out = (enum cl_role)r;
			return 0;
		}
	return CL_ERR_INVALID_ARG;
}

unsigned
cl_tls_cert_roles(X509 *cert)
{
	EXTENDED_KEY_USAGE *eku;
	unsigned mask = 0;
	int i, r, nid;

	if (cert == NULL || !ready())
		return 0;
	if ((eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL)) ==
	    NULL) {
		ERR_clear_error();
		return 0;
	}
	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));
		for (r = 1; r <= CL_ROLE_MAX; r++)
			if (nid != NID_undef && nid == role_nid[r])
				mask |= 1u << r;
	}
	EXTENDED_KEY_USAGE_free(eku);
	return mask;
}

/* "/CN=NAME" with NAME escaped: how a certificate is named in logs. */
static void
cert_name(X509 *cert, char *buf, size_t len)
{
	const ASN1_STRING *d;
	X509_NAME *sn;
	char v[256];
	int i;

	sn = cert != NULL ? X509_get_subject_name(cert) : NULL;
	if (sn != NULL &&
	    (i = X509_NAME_get_index_by_NID(sn, NID_commonName, -1)) >= 0 &&
	    (d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(sn, i))) !=
		NULL &&
	    ASN1_STRING_length(d) > 0) {
		/* Peer-chosen bytes: never raw into a log line. */
		cl_esc(ASN1_STRING_get0_data(d), (size_t)ASN1_STRING_length(d),
		    v, sizeof(v), 0);
		snprintf(buf, len, "/CN=%s", v);
	} else
		snprintf(buf, len, "without a common name");
}

/* "role poi", "roles poi,mdf" or "no clearli role". */
static void
roles_str(unsigned mask, char *buf, size_t len)
{
	size_t o = 0;
	int r, n = 0;

	for (r = 1; r <= CL_ROLE_MAX; r++)
		if (mask & (1u << r))
			n++;
	if (n == 0) {
		snprintf(buf, len, "no clearli role");
		return;
	}
	o = (size_t)snprintf(buf, len, "%s ", n == 1 ? "role" : "roles");
	for (r = 1; r <= CL_ROLE_MAX && o < len; r++)
		if (mask & (1u << r))
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
			    buf[o - 1] == ' ' ? "" : ",", role_names[r]);
}

int
cl_tls_check_role(
    X509 *cert, enum cl_role want, bool listener, char *why, size_t len)
{
	char name[300], held[64];
	unsigned mask;

	if (len > 0)
		why[0] = '\0';
	mask = cl_tls_cert_roles(cert);
	if (want >= CL_ROLE_POI && want <= CL_ROLE_MAX && mask == 1u << want)
		return 0;
	cert_name(cert, name, sizeof(name));
	roles_str(mask, held, sizeof(held));
	/* Two roles in one certificate would let a stolen POI key speak as
	 * the MDF: refused as well. */
	snprintf(why, len, "certificate %s holds %s%s, %s %s", name, held,
	    (mask & (mask - 1)) != 0 ? " (one role per certificate)" : "",
	    listener ? "this listener requires" : "expected",
	    cl_role_name(want));
	return CL_ERR_PERM;
}

/* ---- Revocation lists -------------------------------------------------- */

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The certificates of a PEM file (the CA bundle). */
static STACK_OF(X509) * read_certs(const char *path, char *err, size_t errlen)
{
	STACK_OF(X509) *sk = NULL;
	X509 *x;
	BIO *bio;

	if ((bio = BIO_new_file(path, "r")) == NULL) {
		snprintf(err, errlen, "CA %s: ", path);
		cl_tls_errors(err, errlen);
		return NULL;
	}
	if ((sk = sk_X509_new_null()) == NULL)
		goto fail;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (sk_X509_push(sk, x) == 0) {
			X509_free(x);
			goto fail;
		}
	ERR_clear_error(); /* the end of the file */
	BIO_free(bio);
	return sk;
fail:
	snprintf(err, errlen, "CA %s: out of memory", path);
	sk_X509_pop_free(sk, X509_free);
	BIO_free(bio);
	return NULL;
}

/*
 * Reads the revocation lists of the open file f: at least one, each
 * signed by a CA of p->cas.  Returns them, or NULL with err set.
 */
static STACK_OF(X509_CRL) *
    read_crls(struct policy *p, FILE *f, char *err, size_t errlen)
{
	STACK_OF(X509_CRL) *sk = NULL;
	X509_CRL *crl = NULL;
	unsigned long e;
	BIO *bio = NULL;
	EVP_PKEY *pk;
	char nm[256];
	bool signed_ok;
	int i;

	if ((bio = BIO_new_fp(f, BIO_NOCLOSE)) == NULL ||
	    (sk = sk_X509_CRL_new_null()) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	ERR_clear_error();
	while ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		signed_ok = false;
		for (i = 0; i < sk_X509_num(p->cas) && !signed_ok; i++) {
			X509 *ca = sk_X509_value(p->cas, i);

			if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
				X509_get_subject_name(ca)) == 0 &&
			    (pk = X509_get0_pubkey(ca)) != NULL &&
			    X509_CRL_verify(crl, pk) == 1)
				signed_ok = true;
		}
		if (!signed_ok) {
			X509_NAME_oneline(
			    X509_CRL_get_issuer(crl), nm, sizeof(nm));
			snprintf(err, errlen,
			    "a list issued by %s is not signed by a CA of %s",
			    cl_esc_str(nm, nm, sizeof(nm)), p->ca_path);
			goto fail;
		}
		if (sk_X509_CRL_push(sk, crl) == 0) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		crl = NULL;
	}
	/* The end of the file is "no start line"; anything else is not. */
	e = ERR_peek_last_error();
	if (e != 0 &&
	    !(ERR_GET_LIB(e) == ERR_LIB_PEM &&
		ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
		snprintf(err, errlen, "not a PEM revocation list: ");
		cl_tls_errors(err, errlen);
		goto fail;
	}
	ERR_clear_error();
	if (sk_X509_CRL_num(sk) == 0) {
		snprintf(err, errlen, "no revocation list in it");
		goto fail;
	}
	BIO_free(bio);
	return sk;
fail:
	ERR_clear_error();
	X509_CRL_free(crl);
	sk_X509_CRL_pop_free(sk, X509_CRL_free);
	BIO_free(bio);
	return NULL;
}

static int
count_revoked(STACK_OF(X509_CRL) * sk)
{
	int i, k, n = 0;

	/* A list with no entry has no stack: -1. */
	for (i = 0; i < sk_X509_CRL_num(sk); i++)
		if ((k = sk_X509_REVOKED_num(
			 X509_CRL_get_REVOKED(sk_X509_CRL_value(sk, i)))) > 0)
			n += k;
	return n;
}

/*
 * Reads p->crl_path if it changed since it was last looked at.  At start
 * (first) a failure is an error; later it is a warning and the last good
 * lists stay.  Returns 0 or CL_ERR_FORMAT (err set).
 */
static int
crl_load(struct policy *p, bool first, char *err, size_t errlen)
{
	STACK_OF(X509_CRL) *sk = NULL;
	struct stat st;
	FILE *f = NULL;
	int r = CL_ERR_FORMAT;

	err[0] = '\0';
	if ((f = fopen(p->crl_path, "re")) == NULL ||
	    fstat(fileno(f), &st) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto out;
	}
	p->missing_warned = false;
	if (!first && p->seen_ok && same_file(&st, &p->seen)) {
		r = 0;
		goto out;
	}
	p->seen = st;
	p->seen_ok = true;
	if ((sk = read_crls(p, f, err, errlen)) == NULL)
		goto out;
	sk_X509_CRL_pop_free(p->crls, X509_CRL_free);
	p->crls = sk;
	p->stale_warned = false;
	if (!first)
		cl_info("CRL %s: read again: %d lists, %d revoked "
			"certificates",
		    p->crl_path, sk_X509_CRL_num(sk), count_revoked(sk));
	r = 0;
out:
	if (f != NULL)
		fclose(f);
	return r;
}

/* At most once a second: reads the CRL file again if it changed. */
static void
crl_refresh(struct policy *p)
{
	uint64_t now = cl_mono_ms();
	struct stat st;
	char err[512];

	if (p->pushed || (p->checked_ms != 0 && now - p->checked_ms < 1000))
		return;
	p->checked_ms = now;
	if (stat(p->crl_path, &st) != 0) {
		if (!p->missing_warned)
			cl_warn("CRL %s: %s; the lists read before stay in "
				"force",
			    p->crl_path, strerror(errno));
		p->missing_warned = true;
		return;
	}
	p->missing_warned = false;
	if (p->seen_ok && same_file(&st, &p->seen))
		return;
	if (crl_load(p, false, err, sizeof(err)) != 0)
		cl_warn("CRL %s: %s; the lists read before stay in force",
		    p->crl_path, err);
}

/* X509_STORE lookup_crls: the current lists of the CA named nm. */
static STACK_OF(X509_CRL) *
    lookup_crls(const X509_STORE_CTX *xs, const X509_NAME *nm)
{
	STACK_OF(X509_CRL) *out = NULL;
	struct policy *p;
	X509_CRL *c;
	int i;

	p = X509_STORE_get_ex_data(X509_STORE_CTX_get0_store(xs), store_idx);
	if (p == NULL || p->crl_path == NULL)
		return NULL;
	crl_refresh(p);
	if ((out = sk_X509_CRL_new_null()) == NULL)
		return NULL;
	for (i = 0; i < sk_X509_CRL_num(p->crls); i++) {
		c = sk_X509_CRL_value(p->crls, i);
		if (X509_NAME_cmp(X509_CRL_get_issuer(c), nm) != 0)
			continue;
		/* OpenSSL frees the stack and what it holds. */
		if (X509_CRL_up_ref(c) != 1)
			continue;
		if (sk_X509_CRL_push(out, c) == 0)
			X509_CRL_free(c);
	}
	return out;
}

/* An expired (or not yet valid) list is applied; the operator is told. */
static void
crl_stale(struct policy *p, X509_STORE_CTX *xs, int e)
{
	const ASN1_TIME *t = NULL;
	X509_CRL *crl = X509_STORE_CTX_get0_current_crl(xs);
	uint64_t now = cl_mono_ms();
	char when[64] = "?";
	BIO *b;

	if (p->stale_warned && now - p->stale_warned_ms < 3600 * 1000)
		return;
	p->stale_warned = true;
	p->stale_warned_ms = now;
	if (crl != NULL)
		t = e == X509_V_ERR_CRL_HAS_EXPIRED
		    ? X509_CRL_get0_nextUpdate(crl)
		    : X509_CRL_get0_lastUpdate(crl);
	if (t != NULL && (b = BIO_new(BIO_s_mem())) != NULL) {
		if (ASN1_TIME_print(b, t) == 1) {
			int n = BIO_read(b, when, (int)sizeof(when) - 1);

			when[n > 0 ? n : 0] = '\0';
		}
		BIO_free(b);
	}
	cl_warn("CRL %s: %s %s; its revocations are still applied: "
		"replace it with a current list",
	    p->crl_path,
	    e == X509_V_ERR_CRL_HAS_EXPIRED ? "expired on"
					    : "is not valid until",
	    when);
}

/* ---- Verification ------------------------------------------------------ */

/* Keeps why ssl's peer was refused, for cl_tls_refusal(). */
static void
refuse(SSL *ssl, const char *why)
{
	char *b;

	if ((b = SSL_get_ex_data(ssl, ssl_idx)) == NULL) {
		if ((b = malloc(WHY_LEN)) == NULL)
			return;
		if (SSL_set_ex_data(ssl, ssl_idx, b) != 1) {
			free(b);
			return;
		}
	}
	snprintf(b, WHY_LEN, "%s", why);
}

bool
cl_tls_refusal(SSL *ssl, char *why, size_t len)
{
	const char *b;

	if (len > 0)
		why[0] = '\0';
	if (ssl == NULL || !ready() ||
	    (b = SSL_get_ex_data(ssl, ssl_idx)) == NULL)
		return false;
	snprintf(why, len, "%s", b);
	return true;
}

/*
 * The verify callback of every context: the CA chain and the CRL as
 * OpenSSL checks them, then the role of the peer's own certificate.  A
 * refusal is kept for cl_tls_refusal() in words that name the cause.
 */
static int
verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl;
	struct policy *p;
	X509 *cert;
	char why[WHY_LEN], name[300], serial[80] = "?";
	int e;

	ssl = X509_STORE_CTX_get_ex_data(
	    xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	p = X509_STORE_get_ex_data(X509_STORE_CTX_get0_store(xs), store_idx);
	if (ssl == NULL || p == NULL)
		return 0; /* not a context of ours: fail closed */
	cert = X509_STORE_CTX_get_current_cert(xs);
	e = X509_STORE_CTX_get_error(xs);
	if (!ok) {
		if (p->crl_path != NULL &&
		    (e == X509_V_ERR_CRL_HAS_EXPIRED ||
			e == X509_V_ERR_CRL_NOT_YET_VALID)) {
			crl_stale(p, xs, e);
			return 1;
		}
		cert_name(cert, name, sizeof(name));
		if (e == X509_V_ERR_CERT_REVOKED) {
			const ASN1_INTEGER *sn = X509_get0_serialNumber(cert);
			BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
			char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

			if (hex != NULL)
				snprintf(serial, sizeof(serial), "%s", hex);
			OPENSSL_free(hex);
			BN_free(bn);
			snprintf(why, sizeof(why),
			    "certificate %s (serial %s) is revoked (CRL %s)",
			    name, serial, p->crl_path);
		} else if (e == X509_V_ERR_UNABLE_TO_GET_CRL)
			snprintf(why, sizeof(why),
			    "certificate %s: CRL %s has no list of its CA",
			    name, p->crl_path);
		else
			snprintf(why, sizeof(why), "certificate %s: %s", name,
			    X509_verify_cert_error_string(e));
		refuse(ssl, why);
		return 0;
	}
	if (X509_STORE_CTX_get_error_depth(xs) == 0 &&
	    cl_tls_check_role(cert, p->peer, SSL_is_server(ssl) == 1, why,
		sizeof(why)) != 0) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_INVALID_PURPOSE);
		refuse(ssl, why);
		return 0;
	}
	return 1;
}

static SSL_CTX *
make_ctx(
    const SSL_METHOD *m, const struct cl_tls_cfg *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	struct policy *p = NULL;
	X509_STORE *store;
	char why[WHY_LEN];

	if (errlen > 0)
		err[0] = '\0';
	if (cfg->cert == NULL || cfg->key == NULL || cfg->ca == NULL) {
		snprintf(err, errlen,
		    "TLS needs a certificate, a key and a CA file");
		return NULL;
	}
	if (cfg->self < CL_ROLE_POI || cfg->self > CL_ROLE_MAX ||
	    cfg->peer < CL_ROLE_POI || cfg->peer > CL_ROLE_MAX) {
		snprintf(err, errlen, "TLS: no role for this side or its peer");
		return NULL;
	}
	if (!ready()) {
		snprintf(err, errlen, "cannot register the role identifiers: ");
		goto fail;
	}
	if ((ctx = SSL_CTX_new(m)) == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		goto fail;
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1) {
		snprintf(err, errlen, "certificate %s: ", cfg->cert);
		goto fail;
	}
	/* A certificate of another role is a mistake better found now than
	 * by every peer. */
	if (cl_tls_check_role(SSL_CTX_get0_certificate(ctx), cfg->self, false,
		why, sizeof(why)) != 0) {
		char held[64];

		roles_str(cl_tls_cert_roles(SSL_CTX_get0_certificate(ctx)),
		    held, sizeof(held));
		snprintf(err, errlen,
		    "certificate %s holds %s; this side must hold exactly role "
		    "%s (see docs/PKI.md)",
		    cfg->cert, held, cl_role_name(cfg->self));
		SSL_CTX_free(ctx);
		return NULL;
	}
	if ((pkey = cl_tls_load_key(cfg->key, err, errlen)) == NULL) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "key %s: ", cfg->key);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, cfg->ca, NULL) != 1) {
		snprintf(err, errlen, "CA %s: ", cfg->ca);
		goto fail;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->ca_path = strdup(cfg->ca)) == NULL ||
	    (cfg->crl != NULL && (p->crl_path = strdup(cfg->crl)) == NULL)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	p->self = cfg->self;
	p->peer = cfg->peer;
	store = SSL_CTX_get_cert_store(ctx);
	if (X509_STORE_set_ex_data(store, store_idx, p) != 1) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* From here the store owns p. */
	if (cfg->crl != NULL) {
		if ((p->cas = read_certs(cfg->ca, err, errlen)) == NULL) {
			p = NULL;
			goto fail;
		}
		if (crl_load(p, true, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "CRL %s: %s", cfg->crl, why);
			p = NULL;
			goto fail;
		}
		X509_STORE_set_lookup_crls(store, lookup_crls);
		X509_VERIFY_PARAM_set_flags(
		    SSL_CTX_get0_param(ctx), X509_V_FLAG_CRL_CHECK);
	}
	p = NULL;
	SSL_CTX_set_mode(ctx,
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
		SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* No session tickets: every connection authenticates in full. */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	EVP_PKEY_free(pkey); /* the context holds its own reference */
	return ctx;
fail:
	cl_tls_errors(err, errlen);
	policy_free(p);
	EVP_PKEY_free(pkey);
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
cl_tls_client_ctx(const struct cl_tls_cfg *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = make_ctx(TLS_client_method(), cfg, err, errlen)) == NULL)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	return ctx;
}

SSL_CTX *
cl_tls_server_ctx(const struct cl_tls_cfg *cfg, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = make_ctx(TLS_server_method(), cfg, err, errlen)) == NULL)
		return NULL;
	SSL_CTX_set_verify(
	    ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	return ctx;
}

int
cl_tls_expect_name(SSL *ssl, const char *name)
{
	X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
	char sni[256];

	if (name == NULL || name[0] == '\0')
		return CL_ERR_INVALID_ARG;
	/* An IP address must be in the certificate as one. */
	if (X509_VERIFY_PARAM_set1_ip_asc(vp, name) == 1)
		return 0;
	ERR_clear_error();
	/* The common name counts only in a certificate without DNS
	 * names (RFC 6125): one that has them is held to them. */
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	/* A copy: the SNI macro takes a void *. */
	if ((size_t)snprintf(sni, sizeof(sni), "%s", name) >= sizeof(sni) ||
	    SSL_set1_host(ssl, name) != 1 ||
	    SSL_set_tlsext_host_name(ssl, sni) != 1) {
		ERR_clear_error();
		return CL_ERR_INVALID_ARG;
	}
	return 0;
}

int
cl_tls_peer_cn(SSL *ssl, char *name, size_t len)
{
	const ASN1_STRING *d;
	X509_NAME *sn;
	X509 *cert;
	int i, r = -1;

	if ((cert = SSL_get1_peer_certificate(ssl)) == NULL)
		return -1;
	sn = X509_get_subject_name(cert);
	if ((i = X509_NAME_get_index_by_NID(sn, NID_commonName, -1)) >= 0 &&
	    (d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(sn, i))) !=
		NULL &&
	    ASN1_STRING_length(d) > 0) {
		/* Peer-chosen bytes: never raw into a log line. */
		cl_esc(ASN1_STRING_get0_data(d), (size_t)ASN1_STRING_length(d),
		    name, len, 0);
		r = 0;
	}
	X509_free(cert);
	return r;
}

static struct policy *
ctx_policy(SSL_CTX *ctx)
{
	if (ctx == NULL || store_idx < 0)
		return NULL;
	return X509_STORE_get_ex_data(SSL_CTX_get_cert_store(ctx), store_idx);
}

int
cl_tls_crl_pushed(SSL_CTX *ctx)
{
	struct policy *p = ctx_policy(ctx);

	if (p == NULL || p->crl_path == NULL)
		return CL_ERR_INVALID_ARG;
	p->pushed = true;
	return 0;
}

int
cl_tls_crl_set(
    SSL_CTX *ctx, const void *pem, size_t len, char *err, size_t errlen)
{
	struct policy *p = ctx_policy(ctx);
	STACK_OF(X509_CRL) * sk;
	FILE *f;

	if (p == NULL || p->crl_path == NULL || len == 0) {
		snprintf(err, errlen, "no revocation list in it");
		return CL_ERR_INVALID_ARG;
	}
	if ((f = fmemopen((void *)(uintptr_t)pem, len, "r")) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return CL_ERR_NOMEM;
	}
	sk = read_crls(p, f, err, errlen);
	fclose(f);
	if (sk == NULL)
		return CL_ERR_FORMAT;
	sk_X509_CRL_pop_free(p->crls, X509_CRL_free);
	p->crls = sk;
	p->stale_warned = false;
	cl_info("CRL %s: read again: %d lists, %d revoked certificates",
	    p->crl_path, sk_X509_CRL_num(sk), count_revoked(sk));
	return 0;
}
