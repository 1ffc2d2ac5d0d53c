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
