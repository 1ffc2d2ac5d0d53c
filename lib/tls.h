/* SPDX-License-Identifier: ISC */
#ifndef CL_TLS_H
#define CL_TLS_H

/*
 * TLS contexts for clearli's internal interfaces (X1, X2/X3): TLS 1.3
 * only, mutual certificate authentication, peers verified against a
 * configured CA bundle.  There is no mode without verification; a daemon
 * that must speak in clear does so without TLS at all, and says so.
 */

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

/*
 * Roles.  Every certificate of a clearli deployment carries exactly one
 * role in its extended key usage, as a private object identifier under
 * the UUID arc CL_ROLE_OID_ARC (X.667): CL_ROLE_OID_ARC.1 is a POI, .2
 * the MDF, .3 a LEMF, .4 the ADMF.  Each listener and each client says
 * which role its peer must hold; one CA may then sign every certificate
 * of the deployment without a LEMF's certificate passing for a POI's.
 * docs/PKI.md shows how to make them.
 */
enum cl_role {
	CL_ROLE_POI = 1,
	CL_ROLE_MDF,
	CL_ROLE_LEMF,
	CL_ROLE_ADMF,
};
#define CL_ROLE_MAX     CL_ROLE_ADMF
#define CL_ROLE_OID_ARC "2.25.131590801250638971518579131844847102469"

/* "poi", "mdf", "lemf", "admf"; "?" for anything else. */
const char *cl_role_name(enum cl_role r);

/* The role named s ("poi" ...).  Returns 0, or CL_ERR_INVALID_ARG. */
int cl_role_parse(const char *s, enum cl_role *out);

/*
 * The roles cert holds, as a mask of (1u << role); 0 when it has no
 * extended key usage or no clearli role in it.
 */
unsigned cl_tls_cert_roles(X509 *cert);

/*
 * Checks that cert holds exactly the role want (one role, and that one).
 * Returns 0, or CL_ERR_PERM with a sentence for the log in why, naming
 * the certificate by its common name, what it holds and what was wanted:
 * "certificate /CN=lemf holds role lemf, this listener requires poi"
 * (listener) or "certificate /CN=poi holds role poi, expected mdf".
 */
int cl_tls_check_role(
    X509 *cert, enum cl_role want, bool listener, char *why, size_t len);

/*
 * The TLS material of one side of a connection.  cert, key and ca are
 * PEM files (cert may hold the chain).  crl, if set, is a PEM file of
 * certificate revocation lists, each signed by a CA of ca: the peer's
 * certificate is then checked against it (X509_V_FLAG_CRL_CHECK: the
 * peer's own certificate; a certificate whose CA has no list in the file
 * is refused).  The file is read again when its inode, size or time of
 * modification changes, looked at when a handshake verifies a peer and at
 * most once a second; a replacement that cannot be read or is not signed
 * by a CA of ca is refused with a warning and the last good lists stay in
 * force.  An expired list (or one not yet valid) is still applied, with a
 * warning at most once an hour: revocations it holds stay revoked, and an
 * operator who lets it lapse is told, not locked out.
 *
 * Our own certificate must hold the role self; the peer's must hold peer.
 */
struct cl_tls_cfg {
	const char *cert, *key, *ca;
	const char *crl; /* NULL: no revocation list */
	enum cl_role self, peer;
};

/*
 * A client context (TLS 1.3 only) presenting cfg->cert and cfg->key,
 * trusting only cfg->ca, and refusing a server whose certificate does not
 * hold the role cfg->peer or is revoked.  Returns NULL and writes a reason
 * into err on failure (missing files, a certificate of another role than
 * cfg->self, an unreadable CRL).  The caller frees it with SSL_CTX_free().
 * A context's handshakes must run in one thread at a time (the CRL is
 * reloaded inside them).
 */
SSL_CTX *cl_tls_client_ctx(
    const struct cl_tls_cfg *cfg, char *err, size_t errlen);

/* A server context: the same, and the client must present a certificate. */
SSL_CTX *cl_tls_server_ctx(
    const struct cl_tls_cfg *cfg, char *err, size_t errlen);

/*
 * For a process that cannot read the CRL file any more (a role in an
 * empty root directory): from now on ctx's revocation lists are never
 * read from the file again, only replaced by cl_tls_crl_set().  Returns
 * 0, or CL_ERR_INVALID_ARG if ctx has no CRL.
 */
int cl_tls_crl_pushed(SSL_CTX *ctx);

/*
 * Replaces ctx's revocation lists with the PEM text pem[0..len) (the
 * CRL file's contents, read by another process), checked as a reload of
 * the file is, and logs the same "read again" line.  Returns 0, or an
 * error described in err; the last good lists then stay in force.
 */
int cl_tls_crl_set(
    SSL_CTX *ctx, const void *pem, size_t len, char *err, size_t errlen);

/*
 * For a client: the server's certificate must also name name, as a DNS
 * name or IP address in its subject alternative names or as its common
 * name; name is sent as SNI unless it is an IP address.  Call it after
 * SSL_new(), before the handshake.  Returns 0, or CL_ERR_INVALID_ARG.
 */
int cl_tls_expect_name(SSL *ssl, const char *name);

/*
 * After a failed handshake: true if it failed because the peer's
 * certificate was refused (role, revocation, CA, validity, name), with
 * the reason for the log in why (the certificate named by its common
 * name, escaped); false otherwise (why is then "").
 */
bool cl_tls_refusal(SSL *ssl, char *why, size_t len);

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
 * How clearli names a peer, in every daemon's logs and in the MDF's
 * per-POI state: the peer certificate's common name (the first), escaped
 * with cl_esc(), into name[len].  Returns 0, or -1 if there is no certificate
 * or no non-empty common name.  The escaping is reversible, so the
 * escaped name identifies the peer as well as the raw one.
 */
int cl_tls_peer_cn(SSL *ssl, char *name, size_t len);

#endif /* CL_TLS_H */
