/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "log.h"
#include "err.h"
#include "fsutil.h"
#include "tls.h"

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

static SSL_CTX *
make_ctx(const SSL_METHOD *m, const char *cert, const char *key, const char *ca,
    char *err, size_t errlen)
{
	SSL_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (errlen > 0)
		err[0] = '\0';
	if (cert == NULL || key == NULL || ca == NULL) {
		snprintf(err, errlen,
		    "TLS needs a certificate, a key and a CA file");
		return NULL;
	}
	if ((ctx = SSL_CTX_new(m)) == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		goto fail;
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		snprintf(err, errlen, "certificate %s: ", cert);
		goto fail;
	}
	if ((pkey = cl_tls_load_key(key, err, errlen)) == NULL) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "key %s: ", key);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		snprintf(err, errlen, "CA %s: ", ca);
		goto fail;
	}
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
	EVP_PKEY_free(pkey);
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
cl_tls_client_ctx(
    const char *cert, const char *key, const char *ca, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = make_ctx(TLS_client_method(), cert, key, ca, err, errlen)) ==
	    NULL)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

SSL_CTX *
cl_tls_server_ctx(
    const char *cert, const char *key, const char *ca, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = make_ctx(TLS_server_method(), cert, key, ca, err, errlen)) ==
	    NULL)
		return NULL;
	SSL_CTX_set_verify(
	    ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	return ctx;
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

void
cl_tls_peer_subject(SSL *ssl, char *buf, size_t len)
{
	const X509_NAME_ENTRY *e;
	const ASN1_STRING *d;
	X509_NAME *sn;
	X509 *cert;
	size_t o = 0;
	char v[256];
	int i, n;

	if (len == 0)
		return;
	snprintf(buf, len, "?");
	if ((cert = SSL_get1_peer_certificate(ssl)) == NULL)
		return;
	sn = X509_get_subject_name(cert);
	buf[0] = '\0';
	for (i = 0; i < X509_NAME_entry_count(sn) && o + 1 < len; i++) {
		e = X509_NAME_get_entry(sn, i);
		d = X509_NAME_ENTRY_get_data(e);
		cl_esc(ASN1_STRING_get0_data(d), (size_t)ASN1_STRING_length(d),
		    v, sizeof(v), 0);
		n = snprintf(buf + o, len - o, "/%s=%s",
		    OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e))), v);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	X509_free(cert);
}
