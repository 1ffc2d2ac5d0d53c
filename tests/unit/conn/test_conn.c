/* SPDX-License-Identifier: ISC */
/*
 * lib/conn: real sockets on 127.0.0.1 (ports the kernel chooses), a
 * server made of lib/front and cl_conn_from_front(), and the reconnecting
 * client.  The certificates are made here, at run time, with the OpenSSL
 * API, into a temporary directory.
 *
 * Covered: a handshake with the right roles and names on both sides and
 * data both ways; a server of the wrong role and a wrong expected name
 * refused, with the reason logged once; the close policy (close_notify,
 * an end without it, plain TCP); writes that would block and resume, with
 * every byte arriving in order; back-off that grows to its cap with
 * jitter, one log line for many failures and one more when their reason
 * changes, "up after N attempts" and the reset; allocation failures in
 * cl_client_new().
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "err.h"
#include "front.h"
#include "harness.h"
#include "log.h"
#include "net.h"
#include "tls.h"
#include "util.h"

#define ARC     CL_ROLE_OID_ARC
#define AUTH    "serverAuth,clientAuth,"
#define WAIT_MS 10000 /* real time allowed for any one condition */

static char dir[64];

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

/* A certificate for cn with role eku, signed by ca (NULL: the CA). */
static struct id
mkid(const char *file, const char *cn, const char *eku, const struct id *ca)
{
	static long serial = 10;
	struct id r;
	X509_NAME *n;
	char name[64];
	FILE *f;
	int fd;

	CHECK((r.key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) != NULL);
	CHECK((r.cert = X509_new()) != NULL);
	CHECK(X509_set_version(r.cert, 2) == 1);
	CHECK(ASN1_INTEGER_set(X509_get_serialNumber(r.cert), serial++) == 1);
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

static struct id ca, poi, mdf, lemf;

CL_TEST(mkpki)
{
	ca = mkid("ca", "clearli test CA", NULL, NULL);
	poi = mkid("poi", "poi", AUTH ARC ".1", &ca);
	mdf = mkid("mdf", "mdf", AUTH ARC ".2", &ca);
	lemf = mkid("lemf", "lemf", AUTH ARC ".3", &ca);
}

/* A context presenting file.pem, of role self, for a peer of role peer. */
static SSL_CTX *
ctx(bool server, const char *file, enum cl_role self, enum cl_role peer)
{
	struct cl_tls_cfg c;
	char cert[256], key[256], err[512];
	SSL_CTX *x;

	snprintf(cert, sizeof(cert), "%s/%s.pem", dir, file);
	snprintf(key, sizeof(key), "%s/%s.key", dir, file);
	memset(&c, 0, sizeof(c));
	c.cert = cert;
	c.key = key;
	c.ca = path("ca.pem");
	c.self = self;
	c.peer = peer;
	x = server ? cl_tls_server_ctx(&c, err, sizeof(err))
		   : cl_tls_client_ctx(&c, err, sizeof(err));
	if (x == NULL)
		cl_test_fail(__FILE__, __LINE__, "context: %s", err);
	return x;
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

/* What was logged since log_watch(), in a static buffer. */
static const char *
log_take(void)
{
	static char buf[16384];
	FILE *f;
	size_t n;

	fflush(stderr);
	CHECK(dup2(saved_fd, 2) == 2);
	close(saved_fd);
	saved_fd = -1;
	CHECK((f = fopen(path("log"), "r")) != NULL);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	fputs(buf, stderr); /* still seen in the test's output */
	return buf;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* ---- a server: lib/front and the connections it hands over ---- */

struct server {
	struct cl_front *front;
	char port[8];
	struct cl_conn conn; /* the last authenticated; fd -1 if none */
	size_t ups;
};

static int
server_up(void *arg, struct cl_front_conn *fc)
{
	struct server *s = arg;

	if (s->conn.fd != -1)
		return -1;
	if (cl_conn_from_front(&s->conn, fc, "POI") != 0)
		return -1;
	s->ups++;
	return 0;
}

static void
server_start(struct server *s, SSL_CTX *sctx)
{
	struct cl_front_opts o;
	unsigned port;
	int lfd;

	memset(s, 0, sizeof(*s));
	s->conn.fd = -1;
	CHECK((lfd = cl_net_listen("127.0.0.1:0", &port)) != -1);
	snprintf(s->port, sizeof(s->port), "%u", port);
	memset(&o, 0, sizeof(o));
	cl_front_defaults(&o);
	o.what = "POI";
	o.ctx = sctx;
	CHECK_INT_EQ(cl_front_new(lfd, &o, server_up, s, &s->front), 0);
}

static void
server_stop(struct server *s)
{
	cl_conn_close(&s->conn);
	cl_front_free(s->front);
	s->front = NULL;
}

/*
 * One turn: polls the server's front and the client's attempt for up to
 * 10 ms, then runs both; the client at clock *now (NULL: real time).
 * Returns the client's event.
 */
static enum cl_client_event
turn(struct server *s, struct cl_client *c, const uint64_t *now)
{
	struct pollfd p[64];
	size_t nf = 0, n;
	uint64_t t = cl_mono_ms(), next = t + 10;
	nfds_t ic;

	if (s != NULL && s->front != NULL)
		nf = cl_front_pollfds(s->front, p, 63, t, &next);
	n = nf;
	ic = (nfds_t)n;
	if (c != NULL)
		(void)cl_client_pollfd(c, &p[n++]);
	CHECK(poll(p, (nfds_t)n, 10) >= 0);
	if (s != NULL && s->front != NULL)
		cl_front_handle(s->front, p, nf, cl_mono_ms());
	if (c == NULL)
		return CL_CLIENT_NONE;
	return cl_client_run(
	    c, p[ic].fd != -1 ? p[ic].revents : 0, now ? *now : cl_mono_ms());
}

#define UNTIL(cond, step)                                                      \
	do {                                                                   \
		uint64_t end_ = cl_mono_ms() + WAIT_MS;                        \
		while (!(cond)) {                                              \
			if (cl_mono_ms() > end_)                               \
				cl_test_fail(__FILE__, __LINE__,               \
				    "timed out waiting for %s", #cond);        \
			step;                                                  \
		}                                                              \
	} while (0)

static struct cl_client *
client_new(const char *port, SSL_CTX *cctx, const char *name)
{
	struct cl_client_cfg cfg;
	struct cl_client *c = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.what = "MDF";
	cfg.host = "127.0.0.1";
	cfg.port = port;
	cfg.ctx = cctx;
	cfg.name = name;
	CHECK_INT_EQ(cl_client_new(&cfg, &c), 0);
	return c;
}

/* Reads from conn into b until it holds want bytes or the read ends. */
static enum cl_conn_res
read_until(struct cl_conn *conn, struct cl_buf *b, size_t want)
{
	enum cl_conn_res r = CL_CONN_AGAIN;
	uint64_t end = cl_mono_ms() + WAIT_MS;
	struct pollfd p;
	size_t n;

	while (b->len < want && cl_mono_ms() < end) {
		r = cl_conn_read(conn, b, b->max - b->len, &n);
		if (r == CL_CONN_DATA)
			continue;
		if (r != CL_CONN_AGAIN)
			return r;
		p.fd = conn->fd;
		p.events = cl_conn_events(conn);
		CHECK(p.events != 0);
		(void)poll(&p, 1, 10);
	}
	return r;
}

/* ---- tests ---- */

/* The right roles, the right name: up on both sides, data both ways. */
CL_TEST(handshake_ok)
{
	SSL_CTX *sctx = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI);
	SSL_CTX *cctx = ctx(false, "poi", CL_ROLE_POI, CL_ROLE_MDF);
	struct server s;
	struct cl_client *c;
	struct cl_conn *cc;
	struct cl_buf b;
	size_t n;

	server_start(&s, sctx);
	c = client_new(s.port, cctx, "localhost");
	CHECK(cl_client_state(c) == CL_CLIENT_DOWN);
	CHECK(cl_client_conn(c) == NULL);
	log_watch();
	UNTIL(cl_client_state(c) == CL_CLIENT_UP && s.ups == 1,
	    (void)turn(&s, c, NULL));
	CHECK(strstr(log_take(), "connected to MDF 127.0.0.1:") != NULL);
	CHECK((cc = cl_client_conn(c)) != NULL);
	CHECK_STR_EQ(cc->peer, "mdf");
	CHECK(strncmp(cc->addrstr, "127.0.0.1:", 10) == 0);
	CHECK_STR_EQ(s.conn.peer, "poi");
	CHECK(strncmp(s.conn.addrstr, "127.0.0.1:", 10) == 0);
	CHECK_INT_EQ(s.conn.addr.family, 4);
	CHECK_INT_EQ(cl_client_attempts(c), 0);
	CHECK(cl_client_next_ms(c) == UINT64_MAX);

	cl_buf_init(&b, 1024);
	CHECK(cl_conn_write(cc, "hello", 5, &n) == CL_CONN_DATA);
	CHECK_INT_EQ(n, 5);
	CHECK(read_until(&s.conn, &b, 5) == CL_CONN_DATA);
	CHECK_MEM_EQ(b.d, "hello", 5);
	cl_buf_reset(&b);
	CHECK(cl_conn_write(&s.conn, "olleh", 5, &n) == CL_CONN_DATA);
	CHECK(read_until(cc, &b, 5) == CL_CONN_DATA);
	CHECK_MEM_EQ(b.d, "olleh", 5);
	cl_buf_release(&b);
	cl_client_free(c);
	server_stop(&s);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

/*
 * A server whose certificate holds another role, or does not carry the
 * expected name, is refused: no connection, the reason in the log once
 * however many attempts fail, each attempt counted.
 */
static void
refused(SSL_CTX *sctx, const char *name, const char *reason)
{
	SSL_CTX *cctx = ctx(false, "poi", CL_ROLE_POI, CL_ROLE_MDF);
	struct server s;
	struct cl_client *c;
	uint64_t now = 1000;
	unsigned failures = 0;
	const char *log;
	char want[512];

	server_start(&s, sctx);
	c = client_new(s.port, cctx, name);
	log_watch();
	while (failures < 3) {
		uint64_t end = cl_mono_ms() + WAIT_MS;
		enum cl_client_event ev = CL_CLIENT_NONE;

		while (ev == CL_CLIENT_NONE && cl_mono_ms() < end)
			ev = turn(&s, c, &now);
		if (ev != CL_CLIENT_FAILED) {
			(void)log_take();
			cl_test_fail(__FILE__, __LINE__, "event %d", (int)ev);
		}
		failures++;
		now = cl_client_next_ms(c);
	}
	log = log_take();
	snprintf(want, sizeof(want), "MDF 127.0.0.1:%s: refused: %s; retrying",
	    s.port, reason);
	if (strstr(log, want) == NULL)
		cl_test_fail(__FILE__, __LINE__, "no \"%s\" in the log", want);
	CHECK_INT_EQ(count(log, "retrying with back-off"), 1);
	CHECK(cl_client_state(c) == CL_CLIENT_DOWN);
	CHECK_INT_EQ(cl_client_attempts(c), 3);
	CHECK_INT_EQ(s.ups, 0);
	cl_client_free(c);
	server_stop(&s);
	SSL_CTX_free(cctx);
}

CL_TEST(wrong_role)
{
	SSL_CTX *sctx = ctx(true, "lemf", CL_ROLE_LEMF, CL_ROLE_POI);

	refused(sctx, "localhost",
	    "certificate /CN=lemf holds role lemf, expected mdf");
	SSL_CTX_free(sctx);
}

CL_TEST(wrong_name)
{
	SSL_CTX *sctx = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI);

	refused(sctx, "mdf.example", "certificate /CN=mdf: hostname mismatch");
	SSL_CTX_free(sctx);
}

/* Brings a client up against s; returns its connection. */
static struct cl_conn *
up(struct server *s, struct cl_client **c, SSL_CTX *cctx)
{
	*c = client_new(s->port, cctx, "localhost");
	UNTIL(cl_client_state(*c) == CL_CLIENT_UP && s->ups == 1,
	    (void)turn(s, *c, NULL));
	return cl_client_conn(*c);
}

/*
 * The close policy: close_notify is "closed by the MDF"; a TLS stream
 * that ends without it is "closed by the MDF without close_notify"; a
 * plain TCP end is "closed by the MDF".  All are CL_CONN_CLOSED; what was
 * sent before the end is read first.
 */
static void
close_case(SSL_CTX *sctx, SSL_CTX *cctx, bool notify, const char *why)
{
	struct server s;
	struct cl_client *c;
	struct cl_conn *cc;
	struct cl_buf b;
	size_t n;

	server_start(&s, sctx);
	cc = up(&s, &c, cctx);
	CHECK(cl_conn_write(&s.conn, "last", 4, &n) == CL_CONN_DATA);
	if (notify) {
		cl_conn_close(&s.conn);
	} else {
		/* A peer that dies: the socket closes under the session. */
		CHECK(shutdown(s.conn.fd, SHUT_RDWR) == 0);
		s.conn.broken = true;
		cl_conn_close(&s.conn);
	}
	cl_buf_init(&b, 1024);
	CHECK(read_until(cc, &b, 4) == CL_CONN_DATA);
	CHECK_MEM_EQ(b.d, "last", 4);
	CHECK(read_until(cc, &b, 5) == CL_CONN_CLOSED);
	CHECK_STR_EQ(cl_conn_why(cc), why);
	CHECK_INT_EQ(b.len, 4);
	cl_buf_release(&b);
	/* The caller drops it; the client tries again after the minimum
	 * back-off, +-25 %. */
	{
		uint64_t now = cl_mono_ms(), t;

		cl_client_drop(c, now);
		CHECK(cl_client_state(c) == CL_CLIENT_DOWN);
		CHECK(cl_client_conn(c) == NULL);
		t = cl_client_next_ms(c) - now;
		CHECK(t >= 75 && t < 125);
	}
	cl_client_free(c);
	server_stop(&s);
}

CL_TEST(close_policy)
{
	SSL_CTX *sctx = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI);
	SSL_CTX *cctx = ctx(false, "poi", CL_ROLE_POI, CL_ROLE_MDF);

	close_case(sctx, cctx, true, "closed by the MDF");
	close_case(sctx, cctx, false, "closed by the MDF without close_notify");
	close_case(NULL, NULL, true, "closed by the MDF");
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

/*
 * Writes to a peer that does not read would block (with POLLOUT to wait
 * for), resume when it reads, and every byte arrives once, in order.
 */
static void
blocked_case(SSL_CTX *sctx, SSL_CTX *cctx)
{
	const size_t total = 16u * 1024 * 1024;
	struct server s;
	struct cl_client *c;
	struct cl_conn *cc;
	struct cl_buf in;
	uint8_t *data;
	size_t sent = 0, n, i, chunk;
	bool blocked = false;
	uint64_t end = cl_mono_ms() + 4 * WAIT_MS;

	CHECK((data = malloc(total)) != NULL);
	for (i = 0; i < total; i++)
		data[i] = (uint8_t)(i * 7 + i / 65536);
	server_start(&s, sctx);
	cc = up(&s, &c, cctx);
	cl_buf_init(&in, total);
	/* Nobody reads: the socket buffers fill. */
	while (!blocked) {
		enum cl_conn_res r;

		chunk = total - sent > 1000003 ? 1000003 : total - sent;
		CHECK(chunk > 0);
		r = cl_conn_write(cc, data + sent, chunk, &n);
		if (r == CL_CONN_AGAIN) {
			blocked = true;
			CHECK(cl_conn_events(cc) & POLLOUT);
			break;
		}
		CHECK(r == CL_CONN_DATA);
		CHECK(n > 0 && n <= chunk);
		sent += n;
	}
	CHECK(sent < total);
	/* The server reads; the client goes on from where it stopped. */
	while (in.len < total && cl_mono_ms() < end) {
		struct pollfd p[2];
		enum cl_conn_res r;

		if (sent < total) {
			chunk = total - sent > 1000003 ? 1000003 : total - sent;
			r = cl_conn_write(cc, data + sent, chunk, &n);
			CHECK(r == CL_CONN_DATA || r == CL_CONN_AGAIN);
			if (r == CL_CONN_DATA)
				sent += n;
		}
		r = cl_conn_read(&s.conn, &in,
		    in.max - in.len > 65536 ? 65536 : in.max - in.len, &n);
		CHECK(r == CL_CONN_DATA || r == CL_CONN_AGAIN);
		if (r == CL_CONN_AGAIN) {
			p[0].fd = s.conn.fd;
			p[0].events = cl_conn_events(&s.conn);
			p[1].fd = sent < total ? cc->fd : -1;
			p[1].events = POLLOUT;
			(void)poll(p, 2, 10);
		}
	}
	CHECK_INT_EQ(sent, total);
	CHECK_INT_EQ(in.len, total);
	CHECK(memcmp(in.d, data, total) == 0);
	cl_buf_release(&in);
	free(data);
	cl_client_free(c);
	server_stop(&s);
}

CL_TEST(would_block)
{
	SSL_CTX *sctx = ctx(true, "mdf", CL_ROLE_MDF, CL_ROLE_POI);
	SSL_CTX *cctx = ctx(false, "poi", CL_ROLE_POI, CL_ROLE_MDF);

	blocked_case(sctx, cctx);
	blocked_case(NULL, NULL);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

/* A read into a full buffer is an error, not a busy loop. */
CL_TEST(buffer_full)
{
	struct server s;
	struct cl_client *c;
	struct cl_conn *cc;
	struct cl_buf b;
	size_t n;

	server_start(&s, NULL);
	cc = up(&s, &c, NULL);
	cl_buf_init(&b, 16);
	CHECK(cl_conn_write(&s.conn, "x", 1, &n) == CL_CONN_DATA);
	CHECK(cl_conn_read(cc, &b, 64, &n) == CL_CONN_ERROR);
	CHECK_STR_EQ(cl_conn_why(cc), "buffer full");
	CHECK_INT_EQ(b.len, 0);
	cl_buf_release(&b);
	cl_client_free(c);
	server_stop(&s);
}

/*
 * Against a port that refuses connections, on the test's clock: each wait
 * is the back-off +-25 %, doubling to the cap; no attempt before it is
 * due; one log line for all the failures.  Then the port listens: "up
 * after N attempts", and the back-off is back at its minimum.
 */
/* True if the accepted socket a is the other end of c's connection. */
static bool
peer_of(int a, struct cl_client *c)
{
	struct sockaddr_storage x, y;
	socklen_t xl = sizeof(x), yl = sizeof(y);

	if (getpeername(a, (struct sockaddr *)&x, &xl) != 0 ||
	    getsockname(cl_client_conn(c)->fd, (struct sockaddr *)&y, &yl) != 0)
		return false;
	return xl == yl && memcmp(&x, &y, xl) == 0;
}

CL_TEST(backoff)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct cl_client_cfg cfg;
	struct cl_client *c = NULL;
	struct server s;
	uint64_t now = 5000000, b = 100, t;
	char port[8];
	const char *log;
	int fd, i;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) != -1);
	CHECK(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&sin, &sl) == 0);
	snprintf(port, sizeof(port), "%u", ntohs(sin.sin_port));

	memset(&cfg, 0, sizeof(cfg));
	cfg.what = "MDF";
	cfg.host = "127.0.0.1";
	cfg.port = port;
	cfg.backoff_min_ms = 100;
	cfg.backoff_max_ms = 3200;
	CHECK_INT_EQ(cl_client_new(&cfg, &c), 0);
	CHECK(cl_client_next_ms(c) <= now); /* the first attempt at once */
	log_watch();
	for (i = 0; i < 10; i++) {
		uint64_t end = cl_mono_ms() + WAIT_MS;
		enum cl_client_event ev = CL_CLIENT_NONE;

		while (ev == CL_CLIENT_NONE && cl_mono_ms() < end)
			ev = turn(NULL, c, &now);
		CHECK(ev == CL_CLIENT_FAILED);
		CHECK_INT_EQ(cl_client_attempts(c), i + 1);
		t = cl_client_next_ms(c) - now;
		if (t < b * 3 / 4 || t >= b * 5 / 4)
			cl_test_fail(__FILE__, __LINE__,
			    "attempt %d: retry in %llu ms, back-off %llu", i,
			    (unsigned long long)t, (unsigned long long)b);
		/* Nothing before it is due. */
		now += t - 1;
		CHECK(cl_client_run(c, 0, now) == CL_CLIENT_NONE);
		CHECK(cl_client_state(c) == CL_CLIENT_DOWN);
		now += 1;
		b = b * 2 > 3200 ? 3200 : b * 2;
	}
	CHECK_INT_EQ(cl_client_backoff_ms(c), 3200);
	/* The port listens now. */
	CHECK(listen(fd, 4) == 0);
	memset(&s, 0, sizeof(s));
	{
		uint64_t end = cl_mono_ms() + WAIT_MS;

		while (cl_client_state(c) != CL_CLIENT_UP && cl_mono_ms() < end)
			(void)turn(NULL, c, &now);
	}
	log = log_take();
	CHECK(cl_client_state(c) == CL_CLIENT_UP);
	CHECK_INT_EQ(count(log, "retrying with back-off"), 1);
	{
		char want[128];

		snprintf(want, sizeof(want),
		    "MDF 127.0.0.1:%s: Connection refused; retrying", port);
		CHECK(strstr(log, want) != NULL);
	}
	CHECK(strstr(log, "without TLS; up after 11 attempts") != NULL);
	CHECK_INT_EQ(cl_client_attempts(c), 0);
	CHECK_INT_EQ(cl_client_up_ms(c), now);
	/* Dropped before the peer said a thing: still backing off. */
	CHECK_INT_EQ(cl_client_backoff_ms(c), 3200);
	cl_client_drop(c, now);
	t = cl_client_next_ms(c) - now;
	CHECK(t >= 2400 && t < 4000);
	/* Up again, and this time the peer sends a byte: a drop then
	 * retries after the minimum. */
	now += t;
	{
		uint64_t end = cl_mono_ms() + WAIT_MS;

		while (cl_client_state(c) != CL_CLIENT_UP && cl_mono_ms() < end)
			(void)turn(NULL, c, &now);
	}
	CHECK(cl_client_state(c) == CL_CLIENT_UP);
	{
		struct cl_buf in;
		int a = -1;

		/* Two connections wait in the backlog: the one dropped, which
		 * reads as ended, and this one. */
		while (a == -1 || !peer_of(a, c)) {
			if (a != -1)
				close(a);
			UNTIL((a = accept(fd, NULL, NULL)) != -1,
			    (void)poll(NULL, 0, 5));
		}
		CHECK(write(a, "x", 1) == 1);
		cl_buf_init(&in, 64);
		CHECK(read_until(cl_client_conn(c), &in, 1) == CL_CONN_DATA);
		cl_buf_release(&in);
		close(a);
	}
	cl_client_drop(c, now);
	t = cl_client_next_ms(c) - now;
	CHECK(t >= 75 && t < 125);
	CHECK_INT_EQ(cl_client_backoff_ms(c), 200);
	cl_client_free(c);
	close(fd);
}

/*
 * Failures are logged when their reason changes: three refused connects
 * give one line, then the port listens with a server of the wrong role,
 * and its refusals give one more.
 */
CL_TEST(log_on_change)
{
	SSL_CTX *sctx = ctx(true, "lemf", CL_ROLE_LEMF, CL_ROLE_POI);
	SSL_CTX *cctx = ctx(false, "poi", CL_ROLE_POI, CL_ROLE_MDF);
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	struct cl_front_opts o;
	struct server s;
	struct cl_client *c;
	uint64_t now = 1000;
	const char *log;
	int fd, i;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) != -1);
	CHECK(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&sin, &sl) == 0);
	memset(&s, 0, sizeof(s));
	s.conn.fd = -1;
	snprintf(s.port, sizeof(s.port), "%u", ntohs(sin.sin_port));
	c = client_new(s.port, cctx, "localhost");
	log_watch();
	for (i = 0; i < 6; i++) {
		uint64_t end = cl_mono_ms() + WAIT_MS;
		enum cl_client_event ev = CL_CLIENT_NONE;

		if (i == 3) {
			CHECK(listen(fd, 4) == 0);
			memset(&o, 0, sizeof(o));
			cl_front_defaults(&o);
			o.what = "POI";
			o.ctx = sctx;
			CHECK_INT_EQ(
			    cl_front_new(fd, &o, server_up, &s, &s.front), 0);
		}
		while (ev == CL_CLIENT_NONE && cl_mono_ms() < end)
			ev = turn(&s, c, &now);
		CHECK(ev == CL_CLIENT_FAILED);
		now = cl_client_next_ms(c);
	}
	log = log_take();
	CHECK_INT_EQ(count(log, "retrying with back-off"), 2);
	CHECK_INT_EQ(count(log, "Connection refused; retrying"), 1);
	CHECK_INT_EQ(count(log, "holds role lemf, expected mdf; retrying"), 1);
	CHECK_INT_EQ(cl_client_attempts(c), 6);
	cl_client_free(c);
	server_stop(&s);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
}

/* A connect that is not answered in time fails at the deadline. */
CL_TEST(handshake_timeout)
{
	SSL_CTX *cctx = ctx(false, "poi", CL_ROLE_POI, CL_ROLE_MDF);
	struct cl_client_cfg cfg;
	struct cl_client *c = NULL;
	uint64_t now = 1000;
	unsigned port;
	char ps[8];
	const char *log;
	int lfd, i;

	/* A listener that never accepts: TCP connects, TLS never answers. */
	CHECK((lfd = cl_net_listen("127.0.0.1:0", &port)) != -1);
	snprintf(ps, sizeof(ps), "%u", port);
	memset(&cfg, 0, sizeof(cfg));
	cfg.label = "MDF test";
	cfg.host = "127.0.0.1";
	cfg.port = ps;
	cfg.ctx = cctx;
	cfg.timeout_ms = 2000;
	CHECK_INT_EQ(cl_client_new(&cfg, &c), 0);
	UNTIL(cl_client_state(c) == CL_CLIENT_HANDSHAKE,
	    (void)turn(NULL, c, &now));
	for (i = 0; i < 5; i++)
		CHECK(turn(NULL, c, &now) == CL_CLIENT_NONE);
	CHECK_INT_EQ(cl_client_next_ms(c), 3000);
	log_watch();
	now = 3000;
	CHECK(turn(NULL, c, &now) == CL_CLIENT_FAILED);
	log = log_take();
	CHECK(strstr(log,
		  "MDF test: TLS handshake timed out; retrying with "
		  "back-off") != NULL);
	cl_client_free(c);
	close(lfd);
	SSL_CTX_free(cctx);
}

static int
client_alloc(void *arg)
{
	struct cl_client_cfg cfg;
	struct cl_client *c = NULL;
	int r;

	(void)arg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.what = "MDF";
	cfg.host = "127.0.0.1";
	cfg.port = "9";
	cfg.name = "localhost";
	if ((r = cl_client_new(&cfg, &c)) != 0)
		return r;
	if (c == NULL || cl_client_state(c) != CL_CLIENT_DOWN) {
		cl_client_free(c);
		return CL_ERR_INVALID_ARG;
	}
	cl_client_free(c);
	return 0;
}

CL_TEST(alloc_failures)
{
	CHECK(cl_test_alloc_loop("cl_client_new", client_alloc, NULL) > 1);
}

CL_TEST(bad_config)
{
	struct cl_client_cfg cfg;
	struct cl_client *c = (struct cl_client *)&cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.host = "127.0.0.1";
	CHECK_INT_EQ(cl_client_new(&cfg, &c), CL_ERR_INVALID_ARG);
	CHECK(c == NULL);
}

static void
cleanup(void)
{
	const char *f[] = {"ca", "poi", "mdf", "lemf"};
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		snprintf(name, sizeof(name), "%s.pem", f[i]);
		unlink(path(name));
		snprintf(name, sizeof(name), "%s.key", f[i]);
		unlink(path(name));
	}
	unlink(path("log"));
	if (rmdir(dir) != 0)
		fprintf(stderr, "rmdir %s: %s\n", dir, strerror(errno));
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test-conn.XXXXXX",
	    tmp != NULL && strlen(tmp) < 40 ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	cl_log_init("test-conn", CL_LOG_DEBUG, false);
	CL_RUN(mkpki);
	CL_RUN(handshake_ok);
	CL_RUN(wrong_role);
	CL_RUN(wrong_name);
	CL_RUN(close_policy);
	CL_RUN(would_block);
	CL_RUN(buffer_full);
	CL_RUN(backoff);
	CL_RUN(log_on_change);
	CL_RUN(handshake_timeout);
	CL_RUN(alloc_failures);
	CL_RUN(bad_config);
	EVP_PKEY_free(ca.key);
	X509_free(ca.cert);
	EVP_PKEY_free(poi.key);
	X509_free(poi.cert);
	EVP_PKEY_free(mdf.key);
	X509_free(mdf.cert);
	EVP_PKEY_free(lemf.key);
	X509_free(lemf.cert);
	cleanup();
	return cl_test_done();
}
