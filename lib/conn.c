/* SPDX-License-Identifier: ISC */
/*
 * One connection layer for TLS and plain TCP.  See conn.h.
 */
#include <sys/random.h>
#include <sys/socket.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "conn.h"
#include "err.h"
#include "log.h"
#include "net.h"
#include "tls.h"

#define TIMEOUT_MS     10000
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 30000

static void
conn_init(struct cl_conn *c, const char *what)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->what, sizeof(c->what), "%s", what != NULL ? what : "peer");
}

int
cl_conn_from_front(
    struct cl_conn *c, struct cl_front_conn *fc, const char *what)
{
	conn_init(c, what);
	if (fc->ssl != NULL &&
	    cl_tls_peer_cn(fc->ssl, c->peer, sizeof(c->peer)) != 0)
		return CL_ERR_PERM;
	if (fc->ssl == NULL)
		snprintf(c->peer, sizeof(c->peer), "%s", fc->peer);
	snprintf(c->addrstr, sizeof(c->addrstr), "%s", fc->peer);
	c->addr = fc->addr;
	c->fd = fc->fd;
	c->ssl = fc->ssl;
	fc->fd = -1;
	fc->ssl = NULL;
	return 0;
}

/* Records why the connection ended; the session is not shut down. */
static enum cl_conn_res ended(struct cl_conn *c, enum cl_conn_res res,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static enum cl_conn_res
ended(struct cl_conn *c, enum cl_conn_res res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	c->broken = true;
	c->events = 0;
	return res;
}

/* The result of a failed SSL_read() or SSL_write() returning r. */
static enum cl_conn_res
tls_fail(struct cl_conn *c, int r, bool reading)
{
	char te[400] = "";
	unsigned long top;
	int e, saved = errno;

	e = SSL_get_error(c->ssl, r);
	switch (e) {
	case SSL_ERROR_WANT_READ:
		c->events = POLLIN;
		return CL_CONN_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->events = POLLOUT;
		return CL_CONN_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		c->broken = false; /* answering close_notify is sound */
		snprintf(c->why, sizeof(c->why), "closed by the %s", c->what);
		c->events = 0;
		return CL_CONN_CLOSED;
	default:
		break;
	}
	top = ERR_peek_error();
	if ((e == SSL_ERROR_SYSCALL && top == 0 && saved == 0) ||
	    (e == SSL_ERROR_SSL &&
		ERR_GET_REASON(top) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
		ERR_clear_error();
		return ended(c, CL_CONN_CLOSED,
		    "closed by the %s without close_notify", c->what);
	}
	if (e == SSL_ERROR_SYSCALL && top == 0) {
		ERR_clear_error();
		return ended(c, CL_CONN_ERROR, "%s", strerror(saved));
	}
	cl_tls_errors(te, sizeof(te));
	return ended(c, CL_CONN_ERROR, "TLS %s error%s%s",
	    reading ? "read" : "write", te[0] != '\0' ? ": " : "", te);
}

enum cl_conn_res
cl_conn_read(struct cl_conn *c, struct cl_buf *b, size_t max, size_t *n)
{
	uint8_t *w;
	ssize_t k;
	int r;

	*n = 0;
	if (c->fd == -1)
		return ended(c, CL_CONN_ERROR, "not connected");
	if (max > INT32_MAX)
		max = INT32_MAX;
	if (cl_buf_reserve(b, max, &w) != 0)
		return ended(c, CL_CONN_ERROR, "buffer full");
	b->len -= max;
	if (c->ssl != NULL) {
		ERR_clear_error(); /* for SSL_get_error() */
		errno = 0;
		if ((r = SSL_read(c->ssl, w, (int)max)) <= 0)
			return tls_fail(c, r, true);
		k = r;
	} else {
		do
			k = read(c->fd, w, max);
		while (k == -1 && errno == EINTR);
		if (k == -1 && errno == EAGAIN) {
			c->events = POLLIN;
			return CL_CONN_AGAIN;
		}
		if (k == 0)
			return ended(
			    c, CL_CONN_CLOSED, "closed by the %s", c->what);
		if (k < 0)
			return ended(c, CL_CONN_ERROR, "%s", strerror(errno));
	}
	b->len += (size_t)k;
	*n = (size_t)k;
	c->nread += (uint64_t)k;
	return CL_CONN_DATA;
}

enum cl_conn_res
cl_conn_write(struct cl_conn *c, const void *p, size_t len, size_t *n)
{
	ssize_t k;
	int r;

	*n = 0;
	if (c->fd == -1)
		return ended(c, CL_CONN_ERROR, "not connected");
	if (len > INT32_MAX)
		len = INT32_MAX;
	if (c->ssl != NULL) {
		ERR_clear_error(); /* for SSL_get_error() */
		errno = 0;
		if ((r = SSL_write(c->ssl, p, (int)len)) <= 0)
			return tls_fail(c, r, false);
		k = r;
	} else {
		do
			k = send(c->fd, p, len, MSG_NOSIGNAL);
		while (k == -1 && errno == EINTR);
		if (k == -1 && errno == EAGAIN) {
			c->events = POLLOUT;
			return CL_CONN_AGAIN;
		}
		if (k <= 0)
			return ended(c, CL_CONN_ERROR, "%s",
			    k == 0 ? "wrote nothing" : strerror(errno));
	}
	*n = (size_t)k;
	return CL_CONN_DATA;
}

enum cl_conn_res
cl_conn_flush(struct cl_conn *c, struct cl_buf *b)
{
	enum cl_conn_res res = CL_CONN_DATA;
	size_t n, off = 0;

	while (off < b->len) {
		res = cl_conn_write(c, b->d + off, b->len - off, &n);
		if (res != CL_CONN_DATA)
			break;
		off += n;
	}
	(void)cl_buf_consume(b, off);
	return res;
}

short
cl_conn_events(const struct cl_conn *c)
{
	return c->events;
}

bool
cl_conn_pending(const struct cl_conn *c)
{
	return c->ssl != NULL && SSL_has_pending(c->ssl) == 1;
}

const char *
cl_conn_why(const struct cl_conn *c)
{
	return c->why;
}

void
cl_conn_close(struct cl_conn *c)
{
	if (c->ssl != NULL) {
		/* One try: close_notify goes out if the socket takes it; a
		 * peer that does not read it loses nothing it was owed. */
		if (!c->broken && SSL_is_init_finished(c->ssl)) {
			ERR_clear_error();
			(void)SSL_shutdown(c->ssl);
		}
		ERR_clear_error();
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->events = 0;
}

/* ---- the reconnecting client ---- */

struct cl_client {
	char *label, *what, *host, *port, *name;
	SSL_CTX *ctx;
	uint64_t timeout_ms, backoff_min_ms, backoff_max_ms;

	enum cl_client_state state;
	struct cl_conn conn;
	bool want_read, want_write;
	uint64_t attempt_ms, next_attempt_ms, up_ms;
	uint64_t backoff_ms;
	unsigned attempts; /* since the last connection was up */
	char logged[512];  /* the failure last logged ("" after an up) */
	uint64_t rng;
};

static char *
dup_or_null(const char *s, bool *ok)
{
	char *d;

	if (s == NULL)
		return NULL;
	if ((d = strdup(s)) == NULL)
		*ok = false;
	return d;
}

int
cl_client_new(const struct cl_client_cfg *cfg, struct cl_client **out)
{
	struct cl_client *c;
	bool ok = true;

	*out = NULL;
	if (cfg->host == NULL || cfg->port == NULL)
		return CL_ERR_INVALID_ARG;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return CL_ERR_NOMEM;
	c->host = dup_or_null(cfg->host, &ok);
	c->port = dup_or_null(cfg->port, &ok);
	c->name = dup_or_null(cfg->name != NULL ? cfg->name : cfg->host, &ok);
	c->what = dup_or_null(cfg->what != NULL ? cfg->what : "peer", &ok);
	if (cfg->label != NULL)
		c->label = dup_or_null(cfg->label, &ok);
	else if (ok) {
		size_t len =
		    strlen(c->what) + strlen(cfg->host) + strlen(cfg->port) + 3;

		if ((c->label = malloc(len)) != NULL)
			snprintf(c->label, len, "%s %s:%s", c->what, cfg->host,
			    cfg->port);
		else
			ok = false;
	}
	if (!ok) {
		cl_client_free(c);
		return CL_ERR_NOMEM;
	}
	c->ctx = cfg->ctx;
	c->timeout_ms = cfg->timeout_ms != 0 ? cfg->timeout_ms : TIMEOUT_MS;
	c->backoff_min_ms =
	    cfg->backoff_min_ms != 0 ? cfg->backoff_min_ms : BACKOFF_MIN_MS;
	c->backoff_max_ms =
	    cfg->backoff_max_ms != 0 ? cfg->backoff_max_ms : BACKOFF_MAX_MS;
	if (c->backoff_max_ms < c->backoff_min_ms)
		c->backoff_max_ms = c->backoff_min_ms;
	c->backoff_ms = c->backoff_min_ms;
	conn_init(&c->conn, c->what);
	if (getrandom(&c->rng, sizeof(c->rng), GRND_NONBLOCK) !=
	    (ssize_t)sizeof(c->rng))
		c->rng = (uint64_t)(uintptr_t)c ^ cl_mono_ms();
	c->rng |= 1;
	*out = c;
	return 0;
}

void
cl_client_free(struct cl_client *c)
{
	if (c == NULL)
		return;
	cl_conn_close(&c->conn);
	free(c->label);
	free(c->what);
	free(c->host);
	free(c->port);
	free(c->name);
	free(c);
}

enum cl_client_state
cl_client_state(const struct cl_client *c)
{
	return c->state;
}

struct cl_conn *
cl_client_conn(struct cl_client *c)
{
	return c->state == CL_CLIENT_UP ? &c->conn : NULL;
}

uint64_t
cl_client_backoff_ms(const struct cl_client *c)
{
	return c->backoff_ms;
}

unsigned
cl_client_attempts(const struct cl_client *c)
{
	return c->attempts;
}

uint64_t
cl_client_up_ms(const struct cl_client *c)
{
	return c->up_ms;
}

/* xorshift64: the jitter need not be unpredictable, only spread. */
static uint64_t
rnd(struct cl_client *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

/* Closes the attempt's socket and waits the back-off, +-25 %. */
static void
schedule(struct cl_client *c, uint64_t now_ms)
{
	uint64_t b = c->backoff_ms, span = b / 2;

	cl_conn_close(&c->conn);
	conn_init(&c->conn, c->what);
	c->state = CL_CLIENT_DOWN;
	c->want_read = c->want_write = false;
	c->next_attempt_ms =
	    now_ms + b - b / 4 + (span > 0 ? rnd(c) % span : 0);
	c->backoff_ms = b * 2 > c->backoff_max_ms ? c->backoff_max_ms : b * 2;
}

static enum cl_client_event
attempt_failed(struct cl_client *c, uint64_t now_ms, const char *why)
{
	/* A failure is logged when it is news: the first, or one for
	 * another reason than the last logged. */
	if (strcmp(c->logged, why) != 0) {
		cl_warn("%s: %s; retrying with back-off", c->label, why);
		snprintf(c->logged, sizeof(c->logged), "%s", why);
	}
	schedule(c, now_ms);
	return CL_CLIENT_FAILED;
}

static enum cl_client_event
went_up(struct cl_client *c, uint64_t now_ms)
{
	char after[64] = "";

	c->state = CL_CLIENT_UP;
	c->up_ms = now_ms;
	c->want_read = c->want_write = false;
	if (c->attempts > 1)
		snprintf(after, sizeof(after), "; up after %u attempts",
		    c->attempts);
	if (c->conn.ssl != NULL) {
		if (cl_tls_peer_cn(
			c->conn.ssl, c->conn.peer, sizeof(c->conn.peer)) != 0)
			snprintf(c->conn.peer, sizeof(c->conn.peer), "%s",
			    c->conn.addrstr);
		cl_info("connected to %s: %s, %s; connect and handshake in "
			"%llu ms%s",
		    c->label, SSL_get_version(c->conn.ssl),
		    SSL_get_cipher_name(c->conn.ssl),
		    (unsigned long long)(now_ms - c->attempt_ms), after);
	} else {
		snprintf(
		    c->conn.peer, sizeof(c->conn.peer), "%s", c->conn.addrstr);
		cl_info("connected to %s without TLS%s", c->label, after);
	}
	c->attempts = 0;
	c->logged[0] = '\0';
	/* The back-off starts again only once the peer has said something
	 * (cl_client_drop()). */
	return CL_CLIENT_WENT_UP;
}

static enum cl_client_event
start(struct cl_client *c, uint64_t now_ms)
{
	struct addrinfo hints, *res = NULL;
	int fd, on = 1, r;

	c->attempts++;
	c->attempt_ms = now_ms;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(c->host, c->port, &hints, &res)) != 0)
		return attempt_failed(c, now_ms, gai_strerror(r));
	fd = socket(
	    res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		freeaddrinfo(res);
		return attempt_failed(c, now_ms, strerror(errno));
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	c->conn.fd = fd;
	if (cl_net_addr(res->ai_addr, &c->conn.addr, c->conn.addrstr,
		sizeof(c->conn.addrstr)) != 0)
		snprintf(c->conn.addrstr, sizeof(c->conn.addrstr), "%s:%s",
		    c->host, c->port);
	r = connect(fd, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	if (r == -1 && errno != EINPROGRESS)
		return attempt_failed(c, now_ms, strerror(errno));
	c->state = CL_CLIENT_CONNECTING;
	c->want_write = true;
	return CL_CLIENT_NONE;
}

static enum cl_client_event
handshake(struct cl_client *c, uint64_t now_ms)
{
	char err[512] = "", msg[600];
	int r, e;

	c->want_read = c->want_write = false;
	ERR_clear_error(); /* for SSL_get_error() */
	errno = 0;
	if ((r = SSL_connect(c->conn.ssl)) == 1)
		return went_up(c, now_ms);
	e = SSL_get_error(c->conn.ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		c->want_read = true;
		return CL_CLIENT_NONE;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		c->want_write = true;
		return CL_CLIENT_NONE;
	}
	c->conn.broken = true;
	if (cl_tls_refusal(c->conn.ssl, err, sizeof(err))) {
		snprintf(msg, sizeof(msg), "refused: %s", err);
		ERR_clear_error();
		return attempt_failed(c, now_ms, msg);
	}
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		snprintf(err, sizeof(err), "TLS handshake failed: %s",
		    errno != 0 ? strerror(errno)
			       : "connection closed by the server");
	else {
		snprintf(err, sizeof(err), "TLS handshake failed: ");
		cl_tls_errors(err, sizeof(err));
	}
	return attempt_failed(c, now_ms, err);
}

static enum cl_client_event
connected(struct cl_client *c, uint64_t now_ms)
{
	socklen_t sl = sizeof(int);
	int soerr = 0;

	if (getsockopt(c->conn.fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1 ||
	    soerr != 0)
		return attempt_failed(
		    c, now_ms, strerror(soerr != 0 ? soerr : errno));
	if (c->ctx == NULL)
		return went_up(c, now_ms);
	if ((c->conn.ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->conn.ssl, c->conn.fd) != 1) {
		ERR_clear_error();
		c->conn.broken = true;
		return attempt_failed(c, now_ms, "cannot create TLS session");
	}
	/* The server's certificate must name the configured name (DNS name
	 * or IP address); its role is checked by the context. */
	if (cl_tls_expect_name(c->conn.ssl, c->name) != 0) {
		c->conn.broken = true;
		return attempt_failed(c, now_ms, "bad server name");
	}
	c->state = CL_CLIENT_HANDSHAKE;
	return handshake(c, now_ms);
}

bool
cl_client_pollfd(const struct cl_client *c, struct pollfd *p)
{
	p->fd = -1;
	p->events = 0;
	p->revents = 0;
	if (c->state != CL_CLIENT_CONNECTING && c->state != CL_CLIENT_HANDSHAKE)
		return false;
	p->fd = c->conn.fd;
	p->events = (short)((c->want_read ? POLLIN : 0) |
	    (c->want_write ? POLLOUT : 0));
	return true;
}

uint64_t
cl_client_next_ms(const struct cl_client *c)
{
	switch (c->state) {
	case CL_CLIENT_DOWN:
		return c->next_attempt_ms;
	case CL_CLIENT_CONNECTING:
	case CL_CLIENT_HANDSHAKE:
		return c->attempt_ms + c->timeout_ms;
	default:
		return UINT64_MAX;
	}
}

enum cl_client_event
cl_client_run(struct cl_client *c, short revents, uint64_t now_ms)
{
	switch (c->state) {
	case CL_CLIENT_DOWN:
		if (now_ms < c->next_attempt_ms)
			return CL_CLIENT_NONE;
		return start(c, now_ms);
	case CL_CLIENT_CONNECTING:
	case CL_CLIENT_HANDSHAKE:
		if (now_ms >= c->attempt_ms + c->timeout_ms) {
			c->conn.broken = true;
			return attempt_failed(c, now_ms,
			    c->state == CL_CLIENT_CONNECTING
				? "connect timed out"
				: "TLS handshake timed out");
		}
		if (c->state == CL_CLIENT_CONNECTING &&
		    (revents & (POLLOUT | POLLERR | POLLHUP)))
			return connected(c, now_ms);
		if (c->state == CL_CLIENT_HANDSHAKE && revents != 0)
			return handshake(c, now_ms);
		return CL_CLIENT_NONE;
	default:
		return CL_CLIENT_NONE;
	}
}

void
cl_client_drop(struct cl_client *c, uint64_t now_ms)
{
	if (c->state != CL_CLIENT_UP)
		return;
	/* A peer that completed the handshake but then dropped the
	 * connection before sending a byte (a certificate revoked, a server
	 * that refuses this client after the handshake) is retried with a
	 * growing back-off, like one that cannot be reached. */
	if (c->conn.nread > 0)
		c->backoff_ms = c->backoff_min_ms;
	schedule(c, now_ms);
}
