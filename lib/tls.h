/* SPDX-License-Identifier: ISC */
#ifndef CL_TLS_H
#define CL_TLS_H

/*
 * TLS contexts for clearli's internal interfaces (X1, X2/X3): TLS 1.3
 * only, mutual certificate authentication, peers verified against a
 * configured CA bundle.  There is no mode without verification; a daemon
 * that must speak in clear does so without TLS at all, and says so.
 */

#include <stddef.h>

#include <openssl/ssl.h>

/*
 * Client context presenting cert/key and trusting only ca.  Returns NULL
 * and writes a reason into err on failure.
 */
SSL_CTX *cl_tls_client_ctx(const char *cert, const char *key, const char *ca,
    char *err, size_t errlen);

/* Server context that requires a client certificate signed by ca. */
SSL_CTX *cl_tls_server_ctx(const char *cert, const char *key, const char *ca,
    char *err, size_t errlen);

/*
 * Keeps key material out of core dumps; every daemon calls it first thing
 * in main(), before it reads any key:
 *   - prctl(PR_SET_DUMPABLE, 0): no core dump, and no ptrace or
 *     /proc/PID/mem access by other processes of the same user;
 *   - the OpenSSL secure heap (CRYPTO_secure_malloc_init), where OpenSSL
 *     keeps private key components (Ed25519 and X25519 keys, the secret
 *     BIGNUMs of EC and RSA keys, decoded PEM): mapped apart, locked in
 *     memory where RLIMIT_MEMLOCK allows, MADV_DONTDUMP, and wiped on
 *     free.  The keys live inside OpenSSL's own objects, which we cannot
 *     madvise(); the secure heap is the one way to reach them, and it
 *     still holds if the process is made dumpable again (a setuid()).
 * A daemon that changes its user later calls it again (only the prctl is
 * repeated).  Returns 0, or CL_ERR_SYSTEM with err set.
 */
int cl_tls_secure_init(char *err, size_t errlen);

/*
 * Loads a PEM private key from path after cl_keyfile_read() has checked
 * the file (owner, mode 0600 or stricter); the bytes read are wiped
 * before return.  Returns the key (the caller frees it with
 * EVP_PKEY_free()) or NULL with err set.
 */
EVP_PKEY *cl_tls_load_key(const char *path, char *err, size_t errlen);

/* Appends the OpenSSL error queue to buf (emptying the queue). */
void cl_tls_errors(char *buf, size_t len);

/*
 * The peer certificate's common name (the first), escaped with cl_esc()
 * for logs, into name[len].  Returns 0, or -1 if there is no certificate
 * or no non-empty common name.  The escaping is reversible, so the
 * escaped name identifies the peer as well as the raw one.
 */
int cl_tls_peer_cn(SSL *ssl, char *name, size_t len);

/*
 * The peer certificate's subject as "/SN=value/SN=value" with every value
 * escaped with cl_esc(), into buf[len] ("?" without a certificate).
 */
void cl_tls_peer_subject(SSL *ssl, char *buf, size_t len);

#endif /* CL_TLS_H */
