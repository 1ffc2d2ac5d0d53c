/* SPDX-License-Identifier: ISC */
/*
 * lib/tls: certificate roles and revocation lists.  The certificates,
 * keys and lists are made here, at run time, with the OpenSSL API, into a
 * temporary directory; handshakes run between two contexts over a
 * socketpair.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "harness.h"
#include "log.h"
#include "tls.h"

#define ARC   CL_ROLE_OID_ARC
#define AUTH  "serverAuth,clientAuth,"
#define R_POI AUTH ARC ".1"
#define R_MDF AUTH ARC ".2"
#define R_LEM AUTH ARC ".3"

static char dir[64];

/* dir/name, in a static buffer (one of four, for several in a call). */
static const char *
path(const char *name)
{
	static char b[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(b[i], sizeof(b[i]), "%s/%s", dir, name);
	return b[i];
}

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&v);
	X509V3_set_ctx(&v, issuer, x, NULL, NULL, 0);
	CHECK((e = X509V3_EXT_conf_nid(NULL, &v, nid, value)) != NULL);
	CHECK(X509_add_ext(x, e, -1) == 1);
	X509_EXTENSION_free(e);
}

struct id {
	EVP_PKEY *key;
	X509 *cert;
};

/*
 * A certificate for cn with the extended key usage eku (NULL: none),
 * signed by ca (NULL: self-signed CA).  Written to dir/file.pem and
 * dir/file.key.
 */
static struct id
mkid(const char *file, const char *cn, const char *eku, const struct id *ca,
    long serial)
{
	struct id r;
	X509_NAME *n;
	char name[64];
	FILE *f;
	int fd;

	CHECK((r.key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) != NULL);
	CHECK((r.cert = X509_new()) != NULL);
	CHECK(X509_set_version(r.cert, 2) == 1);
	CHECK(ASN1_INTEGER_set(X509_get_serialNumber(r.cert), serial) == 1);
	CHECK(X509_gmtime_adj(X509_getm_notBefore(r.cert), -3600) != NULL);
	CHECK(X509_gmtime_adj(X509_getm_notAfter(r.cert), 86400) != NULL);
	CHECK(X509_set_pubkey(r.cert, r.key) == 1);
	n = X509_get_subject_name(r.cert);
	CHECK(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
		  (const unsigned char *)cn, -1, -1, 0) == 1);
	CHECK(X509_set_issuer_name(r.cert,
		  ca != NULL ? X509_get_subject_name(ca->cert) : n) == 1);
	if (ca == NULL) {
		add_ext(
		    r.cert, r.cert, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(r.cert, r.cert, NID_key_usage,
		    "critical,keyCertSign,cRLSign");
	} else {
		add_ext(r.cert, ca->cert, NID_basic_constraints, "CA:FALSE");
		add_ext(r.cert, ca->cert, NID_key_usage,
		    "critical,digitalSignature");
		add_ext(r.cert, ca->cert, NID_subject_alt_name,
		    "IP:127.0.0.1,DNS:localhost");
		if (eku != NULL)
			add_ext(r.cert, ca->cert, NID_ext_key_usage, eku);
	}
	CHECK(X509_sign(r.cert, ca != NULL ? ca->key : r.key, NULL) > 0);
	snprintf(name, sizeof(name), "%s.pem", file);
	CHECK((f = fopen(path(name), "w")) != NULL);
	CHECK(PEM_write_X509(f, r.cert) == 1);
	CHECK(fclose(f) == 0);
	snprintf(name, sizeof(name), "%s.key", file);
	CHECK((fd = open(path(name), O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	CHECK((f = fdopen(fd, "w")) != NULL);
	CHECK(PEM_write_PrivateKey(f, r.key, NULL, NULL, 0, NULL, NULL) == 1);
	CHECK(fclose(f) == 0);
	return r;
}

static void
freeid(struct id *i)
{
	EVP_PKEY_free(i->key);
	X509_free(i->cert);
	i->key = NULL;
	i->cert = NULL;
}

/*
 * Writes to dir/file a CRL of ca listing the serials (n of them), last
 * updated at now+last_s and next at now+next_s; by rename, so that the
 * file is replaced whole with a new inode.  bad: garbage instead.
 */
static void
mkcrl(const char *file, const struct id *ca, const long *serials, int n,
    long last_s, long next_s, bool bad)
{
	X509_CRL *c;
	ASN1_TIME *t;
	char tmp[256];
	FILE *f;
	int i;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path(file));
	CHECK((f = fopen(tmp, "w")) != NULL);
	if (bad) {
		fputs("-----BEGIN X509 CRL-----\nnot base64 !!\n"
		      "-----END X509 CRL-----\n",
		    f);
		CHECK(fclose(f) == 0);
		CHECK(rename(tmp, path(file)) == 0);
		return;
	}
	CHECK((c = X509_CRL_new()) != NULL);
	CHECK(X509_CRL_set_version(c, 1) == 1);
	CHECK(
	    X509_CRL_set_issuer_name(c, X509_get_subject_name(ca->cert)) == 1);
	CHECK((t = X509_gmtime_adj(NULL, last_s)) != NULL);
	CHECK(X509_CRL_set1_lastUpdate(c, t) == 1);
	ASN1_TIME_free(t);
	CHECK((t = X509_gmtime_adj(NULL, next_s)) != NULL);
	CHECK(X509_CRL_set1_nextUpdate(c, t) == 1);
	ASN1_TIME_free(t);
	for (i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();
		ASN1_INTEGER *s = ASN1_INTEGER_new();

		CHECK(r != NULL && s != NULL);
		CHECK(ASN1_INTEGER_set(s, serials[i]) == 1);
		CHECK(X509_REVOKED_set_serialNumber(r, s) == 1);
		CHECK((t = X509_gmtime_adj(NULL, last_s)) != NULL);
		CHECK(X509_REVOKED_set_revocationDate(r, t) == 1);
		ASN1_TIME_free(t);
		ASN1_INTEGER_free(s);
		CHECK(X509_CRL_add0_revoked(c, r) == 1);
	}
	CHECK(X509_CRL_sort(c) == 1);
	CHECK(X509_CRL_sign(c, ca->key, NULL) > 0);
	CHECK(PEM_write_X509_CRL(f, c) == 1);
	X509_CRL_free(c);
	CHECK(fclose(f) == 0);
	CHECK(rename(tmp, path(file)) == 0);
}

/* The test PKI: one CA and a certificate per role, and a stranger. */
static struct id ca, ca2, poi, poi2, mdf, lemf, norole, both, stranger;

static void
mkpki(void)
{
	FILE *f, *g;
	int ch;

	ca = mkid("ca", "clearli test CA", NULL, NULL, 1);
	ca2 = mkid("ca2", "other CA", NULL, NULL, 1);
	poi = mkid("poi", "poi", R_POI, &ca, 10);
	poi2 = mkid("poi2", "poi2", R_POI, &ca, 11);
	mdf = mkid("mdf", "mdf", R_MDF, &ca, 12);
	lemf = mkid("lemf", "lemf", R_LEM, &ca, 13);
	norole = mkid("norole", "norole", "serverAuth,clientAuth", &ca, 14);
	both = mkid("both", "both", R_POI "," ARC ".2", &ca, 15);
	stranger = mkid("stranger", "stranger", R_POI, &ca2, 10);
	/* A bundle of both CAs. */
	CHECK((f = fopen(path("cas.pem"), "w")) != NULL);
	CHECK((g = fopen(path("ca.pem"), "r")) != NULL);
	while ((ch = fgetc(g)) != EOF)
		fputc(ch, f);
	fclose(g);
	CHECK((g = fopen(path("ca2.pem"), "r")) != NULL);
	while ((ch = fgetc(g)) != EOF)
		fputc(ch, f);
	fclose(g);
	CHECK(fclose(f) == 0);
}

/* A context of role self for peer, with file.pem/file.key. */
static SSL_CTX *
ctx(bool server, const char *file, enum cl_role self, enum cl_role peer,
    const char *cafile, const char *crl)
{
	struct cl_tls_cfg c;
	char cert[256], key[256], err[512];
	SSL_CTX *x;

	snprintf(cert, sizeof(cert), "%s/%s.pem", dir, file);
	snprintf(key, sizeof(key), "%s/%s.key", dir, file);
	memset(&c, 0, sizeof(c));
	c.cert = cert;
	c.key = key;
	c.ca = path(cafile != NULL ? cafile : "ca.pem");
	c.crl = crl != NULL ? path(crl) : NULL;
	c.self = self;
	c.peer = peer;
	x = server ? cl_tls_server_ctx(&c, err, sizeof(err))
		   : cl_tls_client_ctx(&c, err, sizeof(err));
	if (x == NULL)
		cl_test_fail(__FILE__, __LINE__, "context: %s", err);
	return x;
}

/*
 * A client context made without lib/tls, presenting any certificate (one
 * without a role, or with two), as a peer of another make would.
 */
static SSL_CTX *
raw_client(const char *file)
{
	char cert[256], key[256];
	SSL_CTX *x;

	snprintf(cert, sizeof(cert), "%s/%s.pem", dir, file);
	snprintf(key, sizeof(key), "%s/%s.key", dir, file);
	CHECK((x = SSL_CTX_new(TLS_client_method())) != NULL);
	CHECK(SSL_CTX_use_certificate_file(x, cert, SSL_FILETYPE_PEM) == 1);
	CHECK(SSL_CTX_use_PrivateKey_file(x, key, SSL_FILETYPE_PEM) == 1);
	SSL_CTX_set_verify(x, SSL_VERIFY_NONE, NULL);
	return x;
}

struct hs {
	bool srv_ok, cli_ok;
	char srv_why[512], cli_why[512];
};

/* One handshake between a server and a client context. */
static struct hs
handshake(SSL_CTX *sctx, SSL_CTX *cctx, const char *name)
{
	struct hs h;
	SSL *s, *c;
	int sv[2], i, r, e;
	bool sdone = false, cdone = false;

	memset(&h, 0, sizeof(h));
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	CHECK((s = SSL_new(sctx)) != NULL && (c = SSL_new(cctx)) != NULL);
	CHECK(SSL_set_fd(s, sv[0]) == 1 && SSL_set_fd(c, sv[1]) == 1);
	if (name != NULL)
		CHECK(cl_tls_expect_name(c, name) == 0);
	for (i = 0; i < 1000 && (!sdone || !cdone); i++) {
		if (!cdone) {
			ERR_clear_error();
			if ((r = SSL_connect(c)) == 1)
				cdone = h.cli_ok = true;
			else if ((e = SSL_get_error(c, r)) !=
				SSL_ERROR_WANT_READ &&
			    e != SSL_ERROR_WANT_WRITE) {
				cdone = true;
				cl_tls_refusal(c, h.cli_why, sizeof(h.cli_why));
				/* The server hears of it as a close. */
				shutdown(sv[1], SHUT_RDWR);
			}
		}
		if (!sdone) {
			ERR_clear_error();
			if ((r = SSL_accept(s)) == 1)
				sdone = h.srv_ok = true;
			else if ((e = SSL_get_error(s, r)) !=
				SSL_ERROR_WANT_READ &&
			    e != SSL_ERROR_WANT_WRITE) {
				sdone = true;
				cl_tls_refusal(s, h.srv_why, sizeof(h.srv_why));
			}
		}
	}
	ERR_clear_error();
	CHECK(sdone && cdone);
	SSL_free(s);
	SSL_free(c);
	close(sv[0]);
	close(sv[1]);
	return h;
}

/* stderr into a file while the log is watched. */
static int saved_fd = -1;

static void
log_watch(void)
{
	int fd;

	fflush(stderr);
	CHECK(
	    (fd = open(path("log"), O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	CHECK((saved_fd = dup(2)) >= 0);
	CHECK(dup2(fd, 2) == 2);
	close(fd);
}

/* What was logged since log_watch(), into buf. */
static void
log_take(char *buf, size_t len)
{
	FILE *f;
	size_t n;

	fflush(stderr);
	CHECK(dup2(saved_fd, 2) == 2);
	close(saved_fd);
	saved_fd = -1;
	CHECK((f = fopen(path("log"), "r")) != NULL);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

CL_TEST(role_names)
{
	enum cl_role r;

	CHECK_STR_EQ(cl_role_name(CL_ROLE_POI), "poi");
	CHECK_STR_EQ(cl_role_name(CL_ROLE_MDF), "mdf");
	CHECK_STR_EQ(cl_role_name(CL_ROLE_LEMF), "lemf");
	CHECK_STR_EQ(cl_role_name(CL_ROLE_ADMF), "admf");
	CHECK_STR_EQ(cl_role_name((enum cl_role)0), "?");
	CHECK_STR_EQ(cl_role_name((enum cl_role)5), "?");
	CHECK(cl_role_parse("lemf", &r) == 0 && r == CL_ROLE_LEMF);
	CHECK(cl_role_parse("admf", &r) == 0 && r == CL_ROLE_ADMF);
	CHECK(cl_role_parse("LEMF", &r) == CL_ERR_INVALID_ARG);
	CHECK(cl_role_parse("", &r) == CL_ERR_INVALID_ARG);
	CHECK(cl_role_parse("poi ", &r) == CL_ERR_INVALID_ARG);
}

CL_TEST(cert_roles)
{
	char why[512];

	CHECK_INT_EQ(cl_tls_cert_roles(poi.cert), 1u << CL_ROLE_POI);
	CHECK_INT_EQ(cl_tls_cert_roles(mdf.cert), 1u << CL_ROLE_MDF);
	CHECK_INT_EQ(cl_tls_cert_roles(lemf.cert), 1u << CL_ROLE_LEMF);
	CHECK_INT_EQ(cl_tls_cert_roles(norole.cert), 0);
	CHECK_INT_EQ(cl_tls_cert_roles(ca.cert), 0); /* no EKU at all */
	CHECK_INT_EQ(cl_tls_cert_roles(both.cert),
	    (1u << CL_ROLE_POI) | (1u << CL_ROLE_MDF));
	CHECK_INT_EQ(cl_tls_cert_roles(NULL), 0);

	CHECK(cl_tls_check_role(
		  poi.cert, CL_ROLE_POI, true, why, sizeof(why)) == 0);
	CHECK_STR_EQ(why, "");
	CHECK(cl_tls_check_role(lemf.cert, CL_ROLE_POI, true, why,
		  sizeof(why)) == CL_ERR_PERM);
	CHECK_STR_EQ(why,
	    "certificate /CN=lemf holds role lemf, this "
	    "listener requires poi");
	CHECK(cl_tls_check_role(poi.cert, CL_ROLE_MDF, false, why,
		  sizeof(why)) == CL_ERR_PERM);
	CHECK_STR_EQ(why, "certificate /CN=poi holds role poi, expected mdf");
	CHECK(cl_tls_check_role(norole.cert, CL_ROLE_POI, true, why,
		  sizeof(why)) == CL_ERR_PERM);
	CHECK_STR_EQ(why,
	    "certificate /CN=norole holds no clearli role, "
	    "this listener requires poi");
	/* Two roles: not even one of them is enough. */
	CHECK(cl_tls_check_role(both.cert, CL_ROLE_POI, true, why,
		  sizeof(why)) == CL_ERR_PERM);
	CHECK_STR_EQ(why,
	    "certificate /CN=both holds roles poi,mdf (one "
	    "role per certificate), this listener requires poi");
	CHECK(cl_tls_check_role(both.cert, CL_ROLE_MDF, false, why,
		  sizeof(why)) == CL_ERR_PERM);
	/* A tiny buffer is cut, never overrun. */
	CHECK(cl_tls_check_role(lemf.cert, CL_ROLE_POI, true, why, 8) ==
	    CL_ERR_PERM);
	CHECK_STR_EQ(why, "certifi");
}

CL_TEST(escaped_name)
{
	struct id evil;
	char why[512];

	evil = mkid("evilname", "lemf\nFORGED\033[2J", R_LEM, &ca, 30);
	CHECK(cl_tls_check_role(evil.cert, CL_ROLE_POI, true, why,
		  sizeof(why)) == CL_ERR_PERM);
	CHECK(strchr(why, '\n') == NULL && strchr(why, '\033') == NULL);
	CHECK(strstr(why, "/CN=lemf%0AFORGED%1B[2J holds role lemf") != NULL);
	freeid(&evil);
}

CL_TEST(own_role)
{
	struct cl_tls_cfg c = {0};
	char err[512], cert[256], key[256], ca_[256], crl[256];
	SSL_CTX *x;

	c.cert = cert;
	c.key = key;
	c.ca = ca_;
	snprintf(cert, sizeof(cert), "%s", path("lemf.pem"));
	snprintf(key, sizeof(key), "%s", path("lemf.key"));
	snprintf(ca_, sizeof(ca_), "%s", path("ca.pem"));
	c.self = CL_ROLE_POI;
	c.peer = CL_ROLE_MDF;
	CHECK(cl_tls_client_ctx(&c, err, sizeof(err)) == NULL);
	CHECK(strstr(err,
		  "holds role lemf; this side must hold exactly "
		  "role poi") != NULL);
	snprintf(cert, sizeof(cert), "%s", path("both.pem"));
	snprintf(key, sizeof(key), "%s", path("both.key"));
	CHECK(cl_tls_client_ctx(&c, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "holds roles poi,mdf;") != NULL);
	/* No role for the peer: refused, never "anyone". */
	snprintf(cert, sizeof(cert), "%s", path("poi.pem"));
	snprintf(key, sizeof(key), "%s", path("poi.key"));
	c.peer = (enum cl_role)0;
	CHECK(cl_tls_client_ctx(&c, err, sizeof(err)) == NULL);
	c.peer = (enum cl_role)9;
	CHECK(cl_tls_server_ctx(&c, err, sizeof(err)) == NULL);
	c.peer = CL_ROLE_MDF;
	if ((x = cl_tls_client_ctx(&c, err, sizeof(err))) == NULL)
		cl_test_fail(__FILE__, __LINE__, "%s", err);
	SSL_CTX_free(x);
	/* A CRL that is not there, or not a CRL: refused at start. */
	c.crl = crl;
	snprintf(crl, sizeof(crl), "%s", path("nonexistent.crl"));
	CHECK(cl_tls_client_ctx(&c, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "nonexistent.crl") != NULL);
	snprintf(crl, sizeof(crl), "%s", path("poi.pem"));
	CHECK(cl_tls_client_ctx(&c, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "no revocation list") != NULL);
	/* A list of a CA the context does not trust. */
	mkcrl("ca2.crl", &ca2, NULL, 0, -60, 86400, false);
	snprintf(crl, sizeof(crl), "%s", path("ca2.crl"));
	CHECK(cl_tls_client_ctx(&c, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not signed by a CA of") != NULL);
}

CL_TEST(roles_in_handshakes)
{
	SSL_CTX *srv, *cli;
	struct hs h;

	/* The MDF's listener for POIs. */
	srv = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI, NULL, NULL);

	cli = ctx(false, "poi", CL_ROLE_POI, CL_ROLE_MDF, NULL, NULL);
	h = handshake(srv, cli, "127.0.0.1");
	CHECK(h.srv_ok && h.cli_ok);
	CHECK_STR_EQ(h.srv_why, "");
	SSL_CTX_free(cli);

	/* A LEMF's certificate, and the MDF's own, presented as a POI. */
	cli = ctx(false, "lemf", CL_ROLE_LEMF, CL_ROLE_MDF, NULL, NULL);
	h = handshake(srv, cli, NULL);
	CHECK(!h.srv_ok);
	CHECK_STR_EQ(h.srv_why,
	    "certificate /CN=lemf holds role lemf, this "
	    "listener requires poi");
	SSL_CTX_free(cli);
	cli = ctx(false, "mdf", CL_ROLE_MDF, CL_ROLE_MDF, NULL, NULL);
	h = handshake(srv, cli, NULL);
	CHECK(!h.srv_ok);
	CHECK_STR_EQ(h.srv_why,
	    "certificate /CN=mdf holds role mdf, this "
	    "listener requires poi");
	SSL_CTX_free(cli);
	SSL_CTX_free(srv);

	/* A certificate without a role, or with two, is no POI either. */
	srv = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI, NULL, NULL);
	cli = raw_client("norole");
	h = handshake(srv, cli, NULL);
	CHECK(!h.srv_ok);
	CHECK_STR_EQ(h.srv_why,
	    "certificate /CN=norole holds no clearli "
	    "role, this listener requires poi");
	SSL_CTX_free(cli);
	cli = raw_client("both");
	h = handshake(srv, cli, NULL);
	CHECK(!h.srv_ok);
	CHECK_STR_EQ(h.srv_why,
	    "certificate /CN=both holds roles poi,mdf "
	    "(one role per certificate), this listener "
	    "requires poi");
	SSL_CTX_free(cli);
	SSL_CTX_free(srv);

	/* The LEMF's listener, for the MDF: a POI's certificate. */
	srv = ctx(true, "lemf", CL_ROLE_LEMF, CL_ROLE_MDF, NULL, NULL);
	cli = ctx(false, "poi", CL_ROLE_POI, CL_ROLE_LEMF, NULL, NULL);
	h = handshake(srv, cli, NULL);
	CHECK(!h.srv_ok);
	CHECK_STR_EQ(h.srv_why,
	    "certificate /CN=poi holds role poi, this "
	    "listener requires mdf");
	SSL_CTX_free(srv);

	SSL_CTX_free(cli);

	/* The POI refuses an "MDF" presenting a POI's certificate. */
	srv = ctx(true, "poi2", CL_ROLE_POI, CL_ROLE_POI, NULL, NULL);
	cli = ctx(false, "poi", CL_ROLE_POI, CL_ROLE_MDF, NULL, NULL);
	h = handshake(srv, cli, NULL);
	CHECK(!h.cli_ok);
	CHECK_STR_EQ(
	    h.cli_why, "certificate /CN=poi2 holds role poi, expected mdf");
	SSL_CTX_free(srv);

	/* A stranger's CA: refused before any role is looked at. */
	srv = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI, "cas.pem", NULL);
	SSL_CTX_free(cli);
	cli = ctx(false, "stranger", CL_ROLE_POI, CL_ROLE_MDF, "cas.pem", NULL);
	h = handshake(srv, cli, NULL);
	CHECK(h.srv_ok); /* both CAs trusted: the role is right */
	SSL_CTX_free(srv);
	srv = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI, NULL, NULL);
	SSL_CTX_free(cli);
	/* (Trusting only ca.pem, it does not send the other CA along.) */
	cli = ctx(false, "stranger", CL_ROLE_POI, CL_ROLE_MDF, NULL, NULL);
	h = handshake(srv, cli, NULL);
	CHECK(!h.srv_ok);
	if (strstr(h.srv_why,
		"certificate /CN=stranger: unable to get local "
		"issuer") != h.srv_why)
		cl_test_fail(__FILE__, __LINE__, "%s", h.srv_why);
	SSL_CTX_free(cli);
	SSL_CTX_free(srv);
}

CL_TEST(expected_name)
{
	SSL_CTX *srv, *cli;
	struct hs h;

	srv = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI, NULL, NULL);
	cli = ctx(false, "poi", CL_ROLE_POI, CL_ROLE_MDF, NULL, NULL);
	/* A DNS name and an IP address in the SAN; the common name does
	 * not count beside DNS names (RFC 6125). */
	h = handshake(srv, cli, "mdf");
	CHECK(!h.cli_ok);
	CHECK_STR_EQ(h.cli_why, "certificate /CN=mdf: hostname mismatch");
	CHECK(handshake(srv, cli, "localhost").cli_ok);
	CHECK(handshake(srv, cli, "127.0.0.1").cli_ok);
	h = handshake(srv, cli, "mdf.example");
	CHECK(!h.cli_ok);
	CHECK_STR_EQ(h.cli_why, "certificate /CN=mdf: hostname mismatch");
	h = handshake(srv, cli, "127.0.0.2");
	CHECK(!h.cli_ok);
	CHECK(strstr(h.cli_why, "IP address mismatch") != NULL);
	SSL_CTX_free(cli);
	SSL_CTX_free(srv);
}

/*
 * Handshakes (each may look at the CRL file, at most once a second) until
 * the log holds needle; up to 5 s.
 */
static bool
wait_log(SSL_CTX *srv, SSL_CTX *cli, const char *needle)
{
	struct timespec ts = {0, 50 * 1000 * 1000};
	char buf[8192];
	size_t n;
	FILE *f;
	int i;

	for (i = 0; i < 100; i++) {
		(void)handshake(srv, cli, NULL);
		fflush(stderr);
		CHECK((f = fopen(path("log"), "r")) != NULL);
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		if (strstr(buf, needle) != NULL)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

CL_TEST(revocation)
{
	const long revoked[] = {11, 99};
	SSL_CTX *srv, *cli, *cli2;
	char log[8192];
	struct hs h;

	cl_log_init("test-tls", CL_LOG_INFO, false);
	mkcrl("ca.crl", &ca, revoked, 2, -60, 86400, false);
	srv = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI, NULL, "ca.crl");
	cli = ctx(false, "poi", CL_ROLE_POI, CL_ROLE_MDF, NULL, NULL);
	cli2 = ctx(false, "poi2", CL_ROLE_POI, CL_ROLE_MDF, NULL, NULL);
	CHECK(handshake(srv, cli, NULL).srv_ok);
	h = handshake(srv, cli2, NULL);
	CHECK(!h.srv_ok);
	CHECK(strstr(h.srv_why,
		  "certificate /CN=poi2 (serial 0B) is revoked "
		  "(CRL ") == h.srv_why);
	CHECK(strstr(h.srv_why, "ca.crl)") != NULL);

	/* A replacement that no longer lists poi2, without a restart. */
	log_watch();
	mkcrl("ca.crl", &ca, NULL, 0, -60, 86400, false);
	CHECK(wait_log(srv, cli2,
	    "ca.crl: read again: 1 lists, 0 revoked "
	    "certificates"));
	CHECK(handshake(srv, cli2, NULL).srv_ok);
	CHECK(handshake(srv, cli, NULL).srv_ok);
	/* Listing it again. */
	mkcrl("ca.crl", &ca, revoked, 2, -60, 86400, false);
	CHECK(wait_log(srv, cli2, "ca.crl: read again: 1 lists, 2 revoked"));
	CHECK(!handshake(srv, cli2, NULL).srv_ok);
	/* A bad replacement, one signed by a stranger's CA, none at all: the
	 * last good list stays in force (poi2 refused, poi let in), with a
	 * warning. */
	mkcrl("ca.crl", &ca, NULL, 0, 0, 0, true);
	CHECK(wait_log(srv, cli2, "ca.crl: not a PEM revocation list"));
	CHECK(!handshake(srv, cli2, NULL).srv_ok);
	CHECK(handshake(srv, cli, NULL).srv_ok);
	mkcrl("ca.crl", &ca2, NULL, 0, -60, 86400, false);
	CHECK(wait_log(srv, cli2, "is not signed by a CA of"));
	CHECK(!handshake(srv, cli2, NULL).srv_ok);
	CHECK(handshake(srv, cli, NULL).srv_ok);
	CHECK(unlink(path("ca.crl")) == 0);
	CHECK(wait_log(srv, cli2,
	    "ca.crl: No such file or directory; the "
	    "lists read before stay in force"));
	CHECK(!handshake(srv, cli2, NULL).srv_ok);
	CHECK(handshake(srv, cli, NULL).srv_ok);
	log_take(log, sizeof(log));
	/* Each bad state is reported once, not at every look. */
	CHECK(strstr(strstr(log, "not a PEM") + 1, "not a PEM") == NULL);
	CHECK(strstr(strstr(log, "No such file") + 1, "No such file") == NULL);
	SSL_CTX_free(srv);

	/* An expired list is still applied, with a warning. */
	mkcrl("old.crl", &ca, revoked, 2, -7200, -3600, false);
	log_watch();
	srv = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI, NULL, "old.crl");
	h = handshake(srv, cli2, NULL);
	CHECK(!h.srv_ok);
	CHECK(strstr(h.srv_why, "is revoked") != NULL);
	CHECK(handshake(srv, cli, NULL).srv_ok);
	CHECK(handshake(srv, cli, NULL).srv_ok);
	log_take(log, sizeof(log));
	CHECK(strstr(log, "old.crl: expired on") != NULL);
	CHECK(strstr(log, "still applied") != NULL);
	/* Once an hour, not once per connection. */
	CHECK(strstr(strstr(log, "expired on") + 1, "expired on") == NULL);
	SSL_CTX_free(srv);

	/* Two CAs trusted, a list for one: the other's certificates are
	 * refused, never let through unchecked. */
	mkcrl("ca.crl", &ca, NULL, 0, -60, 86400, false);
	srv = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI, "cas.pem", "ca.crl");
	SSL_CTX_free(cli2);
	cli2 =
	    ctx(false, "stranger", CL_ROLE_POI, CL_ROLE_MDF, "cas.pem", NULL);
	h = handshake(srv, cli2, NULL);
	CHECK(!h.srv_ok);
	CHECK(strstr(h.srv_why, "certificate /CN=stranger: CRL ") != NULL);
	CHECK(strstr(h.srv_why, "has no list of its CA") != NULL);
	SSL_CTX_free(cli);
	cli = ctx(false, "poi", CL_ROLE_POI, CL_ROLE_MDF, "cas.pem", NULL);
	CHECK(handshake(srv, cli, NULL).srv_ok);
	SSL_CTX_free(cli);
	SSL_CTX_free(cli2);
	SSL_CTX_free(srv);
}

/*
 * The lists handed over in memory (cl_tls_crl_set(), for a process that
 * opens no file) are checked as the file's are and applied at once, with
 * the file frozen; a bad set leaves the lists in force.
 */
CL_TEST(revocation_in_memory)
{
	const long revoked[] = {11};
	SSL_CTX *srv, *cli, *cli2, *plain;
	char err[256], *pem;
	long n;
	FILE *f;

	cl_log_init("test-tls", CL_LOG_INFO, false);
	mkcrl("ca.crl", &ca, NULL, 0, -60, 86400, false);
	srv = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI, NULL, "ca.crl");
	cli = ctx(false, "poi", CL_ROLE_POI, CL_ROLE_MDF, NULL, NULL);
	cli2 = ctx(false, "poi2", CL_ROLE_POI, CL_ROLE_MDF, NULL, NULL);
	CHECK(cl_tls_crl_freeze(srv));
	CHECK(handshake(srv, cli2, NULL).srv_ok);
	/* The file changes; frozen, the context does not look at it. */
	mkcrl("ca.crl", &ca, revoked, 1, -60, 86400, false);
	CHECK(handshake(srv, cli2, NULL).srv_ok);
	/* Handed over: poi2 is revoked now. */
	CHECK((f = fopen(path("ca.crl"), "r")) != NULL);
	CHECK(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0);
	rewind(f);
	CHECK((pem = malloc((size_t)n)) != NULL);
	CHECK(fread(pem, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	CHECK_INT_EQ(cl_tls_crl_set(srv, pem, (size_t)n, err, sizeof(err)), 0);
	CHECK(!handshake(srv, cli2, NULL).srv_ok);
	CHECK(handshake(srv, cli, NULL).srv_ok);
	/* Garbage, a truncated list, nothing: refused, the lists stay. */
	CHECK_INT_EQ(
	    cl_tls_crl_set(srv, "garbage", 7, err, sizeof(err)), CL_ERR_FORMAT);
	CHECK(strstr(err, "no revocation list") != NULL ||
	    strstr(err, "not a PEM") != NULL);
	CHECK_INT_EQ(cl_tls_crl_set(srv, pem, (size_t)n / 2, err, sizeof(err)),
	    CL_ERR_FORMAT);
	CHECK_INT_EQ(
	    cl_tls_crl_set(srv, pem, 0, err, sizeof(err)), CL_ERR_FORMAT);
	CHECK(!handshake(srv, cli2, NULL).srv_ok);
	CHECK(handshake(srv, cli, NULL).srv_ok);
	/* One signed by a stranger's CA. */
	free(pem);
	mkcrl("ca2.crl", &ca2, NULL, 0, -60, 86400, false);
	CHECK((f = fopen(path("ca2.crl"), "r")) != NULL);
	CHECK(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0);
	rewind(f);
	CHECK((pem = malloc((size_t)n)) != NULL);
	CHECK(fread(pem, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	CHECK_INT_EQ(cl_tls_crl_set(srv, pem, (size_t)n, err, sizeof(err)),
	    CL_ERR_FORMAT);
	CHECK(strstr(err, "is not signed by a CA of") != NULL);
	CHECK(!handshake(srv, cli2, NULL).srv_ok);
	/* A context without a list has none to replace. */
	plain = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI, NULL, NULL);
	CHECK_INT_EQ(cl_tls_crl_set(plain, pem, (size_t)n, err, sizeof(err)),
	    CL_ERR_INVALID_ARG);
	free(pem);
	SSL_CTX_free(plain);
	SSL_CTX_free(cli);
	SSL_CTX_free(cli2);
	SSL_CTX_free(srv);
}

/* The whole of file, into buf (at most len octets); its length. */
static size_t
slurp(const char *file, char *buf, size_t len)
{
	FILE *f;
	size_t n;

	CHECK((f = fopen(path(file), "r")) != NULL);
	n = fread(buf, 1, len, f);
	fclose(f);
	CHECK(n > 0 && n < len);
	return n;
}

/*
 * A process without a file system (the MDF's front role) gets the lists
 * as text from one that reads the file (cl_tls_crl_set): checked as the
 * file is, with the same log line, and the file is not looked at again.
 */
CL_TEST(crl_pushed)
{
	const long revoked[] = {11, 99};
	SSL_CTX *srv, *cli, *cli2, *plain;
	char err[512], log[8192], pem[16384];
	size_t len;

	cl_log_init("test-tls", CL_LOG_INFO, false);
	mkcrl("ca.crl", &ca, revoked, 2, -60, 86400, false);
	srv = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI, NULL, "ca.crl");
	cli = ctx(false, "poi", CL_ROLE_POI, CL_ROLE_MDF, NULL, NULL);
	cli2 = ctx(false, "poi2", CL_ROLE_POI, CL_ROLE_MDF, NULL, NULL);
	plain = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI, NULL, NULL);
	CHECK(!cl_tls_crl_freeze(plain));
	CHECK(cl_tls_crl_set(plain, "x", 1, err, sizeof(err)) != 0);
	CHECK(cl_tls_crl_freeze(srv));
	/* The file gone: not looked at (the first handshake of a context
	 * would), the lists stay, and nothing is said. */
	CHECK(unlink(path("ca.crl")) == 0);
	log_watch();
	CHECK(!handshake(srv, cli2, NULL).srv_ok);
	CHECK(handshake(srv, cli, NULL).srv_ok);
	log_take(log, sizeof(log));
	CHECK(strstr(log, "No such file") == NULL);
	/* New lists as text. */
	mkcrl("new.crl", &ca, NULL, 0, -60, 86400, false);
	len = slurp("new.crl", pem, sizeof(pem));
	log_watch();
	CHECK(cl_tls_crl_set(srv, pem, len, err, sizeof(err)) == 0);
	log_take(log, sizeof(log));
	CHECK(strstr(log,
		  "ca.crl: read again: 1 lists, 0 revoked "
		  "certificates") != NULL);
	CHECK(handshake(srv, cli2, NULL).srv_ok);
	/* Refused text leaves the last good lists in force. */
	CHECK_INT_EQ(
	    cl_tls_crl_set(srv, "junk", 4, err, sizeof(err)), CL_ERR_FORMAT);
	CHECK(strstr(err, "no revocation list") != NULL);
	mkcrl("new.crl", &ca2, NULL, 0, -60, 86400, false);
	len = slurp("new.crl", pem, sizeof(pem));
	CHECK_INT_EQ(
	    cl_tls_crl_set(srv, pem, len, err, sizeof(err)), CL_ERR_FORMAT);
	CHECK(strstr(err, "is not signed by a CA of") != NULL);
	CHECK(handshake(srv, cli2, NULL).srv_ok);
	mkcrl("new.crl", &ca, revoked, 2, -60, 86400, false);
	len = slurp("new.crl", pem, sizeof(pem));
	CHECK(cl_tls_crl_set(srv, pem, len, err, sizeof(err)) == 0);
	CHECK(!handshake(srv, cli2, NULL).srv_ok);
	CHECK(handshake(srv, cli, NULL).srv_ok);
	unlink(path("new.crl"));
	SSL_CTX_free(plain);
	SSL_CTX_free(cli);
	SSL_CTX_free(cli2);
	SSL_CTX_free(srv);
}

static void
cleanup(void)
{
	const char *f[] = {"ca", "ca2", "poi", "poi2", "mdf", "lemf", "norole",
	    "both", "stranger", "evilname"};
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		snprintf(name, sizeof(name), "%s.pem", f[i]);
		unlink(path(name));
		snprintf(name, sizeof(name), "%s.key", f[i]);
		unlink(path(name));
	}
	unlink(path("cas.pem"));
	unlink(path("ca.crl"));
	unlink(path("ca2.crl"));
	unlink(path("old.crl"));
	unlink(path("new.crl"));
	unlink(path("log"));
	if (rmdir(dir) != 0)
		fprintf(stderr, "rmdir %s: %s\n", dir, strerror(errno));
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test-tls.XXXXXX",
	    tmp != NULL && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	CL_RUN(mkpki);
	CL_RUN(role_names);
	CL_RUN(cert_roles);
	CL_RUN(escaped_name);
	CL_RUN(own_role);
	CL_RUN(roles_in_handshakes);
	CL_RUN(expected_name);
	CL_RUN(revocation);
	CL_RUN(revocation_in_memory);
	CL_RUN(crl_pushed);
	freeid(&ca);
	freeid(&ca2);
	freeid(&poi);
	freeid(&poi2);
	freeid(&mdf);
	freeid(&lemf);
	freeid(&norole);
	freeid(&both);
	freeid(&stranger);
	cleanup();
	return cl_test_done();
}
