/* SPDX-License-Identifier: ISC */
/* Connections until their peer has authenticated.  See front.h. */
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "err.h"
#include "front.h"
#include "log.h"
#include "net.h"
#include "tls.h"

#define ACCEPT_PAUSE_MS 100 /* out of descriptors: stop accepting a while */
#define FAIL_BURST      3   /* handshake failures named per interval */

struct pend {
	int fd; /* -1: free */
	SSL *ssl;
	uint64_t since;
	struct cl_addr addr;
	char peer[64];
};

struct cl_front {
	struct cl_front_opts o;
	int lfd;
	cl_front_up_fn *up;
	void *arg;
	struct cl_admit *adm;
	struct pend *p; /* o.admit.full entries */
	size_t np;      /* entries in use (any order) */
	int *map;       /* pollfd index -> entry, for cl_front_handle() */
	size_t nmap;
	uint64_t accept_pause; /* until then the listener is not polled */
	uint64_t since;        /* start of the summary interval */
	struct {
		uint64_t timeouts, failures, no_slot, accept_errors;
	} iv; /* this interval */
	struct cl_front_stats st;
	struct cl_log_rl fail_rl, err_rl;
};

void
cl_front_defaults(struct cl_front_opts *o)
{
	o->handshake_ms = CL_FRONT_HANDSHAKE_S * 1000;
	(void)cl_admit_parse(CL_FRONT_STARTUPS, CL_FRONT_FULL_MAX, &o->admit);
	o->admit.per_source = CL_FRONT_PER_SOURCE;
}

int
cl_front_option(struct cl_front_opts *o, const char *k, const char *v,
    char *err, size_t errlen)
{
	uint64_t n;
	int r;

	if (strcmp(k, "handshake-timeout") == 0) {
		if ((r = cl_parse_u64(v, 1, 600, &n)) != 0)
			snprintf(err, errlen,
			    "'%s' is not a number of seconds from 1 to 600", v);
		else
			o->handshake_ms = (unsigned)n * 1000;
		return r;
	}
	if (strcmp(k, "max-startups") == 0) {
		if ((r = cl_admit_parse(v, CL_FRONT_FULL_MAX, &o->admit)) != 0)
			snprintf(err, errlen,
			    "'%s' is not START:RATE:FULL (1 <= START <= FULL "
			    "<= %d, RATE <= 100) or FULL",
			    v, CL_FRONT_FULL_MAX);
		return r;
	}
	if (strcmp(k, "per-source-max-startups") == 0) {
		if ((r = cl_parse_u64(v, 0, CL_FRONT_FULL_MAX, &n)) != 0)
			snprintf(err, errlen,
			    "'%s' is not a number from 0 to %d", v,
			    CL_FRONT_FULL_MAX);
		else
			o->admit.per_source = (unsigned)n;
		return r;
	}
	return CL_ERR_NOT_FOUND;
}

bool
cl_front_fit(struct cl_front_opts *o, uint64_t nofile, unsigned reserve)
{
	uint64_t room = nofile > reserve + 16 ? nofile - reserve : 16;

	if (o->admit.full <= room)
		return false;
	o->admit.full = (unsigned)room;
	if (o->admit.start > o->admit.full)
		o->admit.start = o->admit.full;
	return true;
}

int
cl_front_new(int lfd, const struct cl_front_opts *o, cl_front_up_fn *up,
    void *arg, struct cl_front **out)
{
	struct cl_front *f = NULL;
	size_t i;
	int r = CL_ERR_NOMEM;

	*out = NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		goto out;
	f->lfd = lfd;
	lfd = -1;
	f->o = *o;
	if (f->o.report_ms == 0)
		f->o.report_ms = 10000;
	f->up = up;
	f->arg = arg;
	if ((r = cl_admit_new(&o->admit, &f->adm)) != 0)
		goto out;
	r = CL_ERR_NOMEM;
	if ((f->p = calloc(o->admit.full, sizeof(*f->p))) == NULL)
		goto out;
	/* Before anything can fail: cl_front_free() closes every fd. */
	for (i = 0; i < o->admit.full; i++)
		f->p[i].fd = -1;
	if ((f->map = calloc(o->admit.full + 1, sizeof(*f->map))) == NULL)
		goto out;
	f->fail_rl =
	    (struct cl_log_rl)CL_LOG_RL_INIT(f->o.report_ms, FAIL_BURST);
	f->err_rl = (struct cl_log_rl)CL_LOG_RL_INIT(f->o.report_ms, 1);
	*out = f;
	f = NULL;
	r = 0;
out:
	if (lfd != -1)
		close(lfd);
	cl_front_free(f);
	return r;
}

static void
pend_close(struct cl_front *f, struct pend *p)
{
	if (p->ssl != NULL)
		SSL_free(p->ssl);
	if (p->fd != -1)
		close(p->fd);
	cl_admit_release(f->adm, &p->addr);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	f->np--;
}

void
cl_front_stop(struct cl_front *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->o.admit.full; i++)
		if (f->p[i].fd != -1)
			pend_close(f, &f->p[i]);
	if (f->lfd != -1)
		close(f->lfd);
	f->lfd = -1;
}

void
cl_front_free(struct cl_front *f)
{
	if (f == NULL)
		return;
	if (f->p != NULL)
		cl_front_stop(f);
	else if (f->lfd != -1)
		close(f->lfd);
	free(f->p);
	free(f->map);
	cl_admit_free(f->adm);
	free(f);
}

size_t
cl_front_npollfds(const struct cl_front *f)
{
	return 1 + f->o.admit.full;
}

unsigned
cl_front_pending(const struct cl_front *f)
{
	return (unsigned)f->np;
}

void
cl_front_stats(const struct cl_front *f, struct cl_front_stats *st)
{
	*st = f->st;
}

size_t
cl_front_pollfds(struct cl_front *f, struct pollfd *pfd, size_t max,
    uint64_t now_ms, uint64_t *next_ms)
{
	size_t i, n = 0, seen = 0;
	uint64_t t;

	if (f->lfd != -1 && n < max) {
		if (f->accept_pause <= now_ms) {
			pfd[n].fd = f->lfd;
			pfd[n].events = POLLIN;
			pfd[n].revents = 0;
			f->map[n++] = -1;
		} else if (f->accept_pause < *next_ms)
			*next_ms = f->accept_pause;
	}
	for (i = 0; i < f->o.admit.full && seen < f->np && n < max; i++) {
		struct pend *p = &f->p[i];

		if (p->fd == -1)
			continue;
		seen++;
		pfd[n].fd = p->fd;
		pfd[n].events = POLLIN;
		if (p->ssl != NULL && SSL_want_write(p->ssl))
			pfd[n].events |= POLLOUT;
		pfd[n].revents = 0;
		f->map[n++] = (int)i;
		t = p->since + f->o.handshake_ms;
		if (t < *next_ms)
			*next_ms = t;
	}
	if (f->since != 0 && f->since + f->o.report_ms < *next_ms)
		*next_ms = f->since + f->o.report_ms;
	f->nmap = n;
	return n;
}

/* The TLS error of a failed handshake, for the log (escaped). */
static void
tls_reason(SSL *ssl, int e, char *out, size_t outlen)
{
	char err[512] = "";
	long v;

	if ((v = SSL_get_verify_result(ssl)) != X509_V_OK)
		snprintf(err, sizeof(err), "certificate: %s; ",
		    X509_verify_cert_error_string(v));
	cl_tls_errors(err, sizeof(err));
	if (err[0] == '\0')
		snprintf(err, sizeof(err), "%s",
		    e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN
			? "connection closed by the peer"
			: "TLS error");
	cl_esc_str(err, out, outlen);
}

/* Hands p over once authenticated.  Frees the entry either way. */
static void
promote(struct cl_front *f, struct pend *p, uint64_t now_ms)
{
	struct cl_front_conn c;

	memset(&c, 0, sizeof(c));
	c.fd = p->fd;
	c.ssl = p->ssl;
	c.addr = p->addr;
	memcpy(c.peer, p->peer, sizeof(c.peer));
	c.elapsed_ms = now_ms - p->since;
	if (f->up(f->arg, &c) == 0) {
		f->st.authenticated++;
		p->fd = -1;
		p->ssl = NULL;
	} else {
		f->st.no_slot++;
		f->iv.no_slot++;
	}
	pend_close(f, p);
}

/* Advances the handshake of p. */
static void
handshake(struct cl_front *f, struct pend *p, uint64_t now_ms)
{
	char why[600];
	int r, e;

	if (p->ssl == NULL) {
		/* Created only now: an idle connection costs no TLS state. */
		if ((p->ssl = SSL_new(f->o.ctx)) == NULL ||
		    SSL_set_fd(p->ssl, p->fd) != 1) {
			ERR_clear_error();
			cl_log_rl(&f->err_rl, now_ms, CL_LOG_ERR,
			    "%s %s: cannot create a TLS session (out of "
			    "memory?)",
			    f->o.what, p->peer);
			pend_close(f, p);
			return;
		}
		SSL_set_accept_state(p->ssl);
	}
	ERR_clear_error();
	if ((r = SSL_accept(p->ssl)) == 1) {
		promote(f, p, now_ms);
		return;
	}
	e = SSL_get_error(p->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return;
	f->st.failures++;
	f->iv.failures++;
	if (cl_tls_refusal(p->ssl, why, sizeof(why))) {
		/* The certificate: its role, revocation, CA, validity. */
		ERR_clear_error();
		cl_log_rl(&f->fail_rl, now_ms, CL_LOG_WARN,
		    "refused %s connection from %s: %s", f->o.what, p->peer,
		    why);
		pend_close(f, p);
		return;
	}
	tls_reason(p->ssl, e, why, sizeof(why));
	ERR_clear_error();
	cl_log_rl(&f->fail_rl, now_ms, CL_LOG_WARN,
	    "%s %s: TLS handshake failed: %s", f->o.what, p->peer, why);
	pend_close(f, p);
}

static void
accept_all(struct cl_front *f, uint64_t now_ms)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	struct pend *p;
	struct cl_addr a;
	char peer[64];
	size_t i;
	int fd;

	for (;;) {
		sl = sizeof(ss);
		fd = accept4(f->lfd, (struct sockaddr *)&ss, &sl,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				/* EMFILE and the like: the listener would stay
				 * readable and spin the loop. */
				f->iv.accept_errors++;
				f->accept_pause = now_ms + ACCEPT_PAUSE_MS;
				cl_log_rl(&f->err_rl, now_ms, CL_LOG_ERR,
				    "accepting %s connections: %s; pausing "
				    "%d ms",
				    f->o.what, strerror(errno),
				    ACCEPT_PAUSE_MS);
			}
			return;
		}
		f->st.accepted++;
		if (cl_net_addr(
			(struct sockaddr *)&ss, &a, peer, sizeof(peer)) != 0 ||
		    cl_admit(f->adm, &a) != CL_ADMIT_OK) {
			/* At once, before any TLS work or allocation. */
			f->st.refused++;
			close(fd);
			continue;
		}
		for (i = 0; i < f->o.admit.full && f->p[i].fd != -1; i++)
			;
		if (CL_NEVER(i == f->o.admit.full)) {
			cl_admit_release(f->adm, &a);
			close(fd);
			continue;
		}
		p = &f->p[i];
		p->fd = fd;
		p->ssl = NULL;
		p->since = now_ms;
		p->addr = a;
		memcpy(p->peer, peer, sizeof(p->peer));
		f->np++;
		if (f->o.ctx == NULL)
			promote(f, p, now_ms);
	}
}

static void
report(struct cl_front *f, uint64_t now_ms)
{
	struct cl_admit_stats as;
	uint64_t refused;

	if (f->since == 0)
		f->since = now_ms;
	if (now_ms < f->since + f->o.report_ms)
		return;
	cl_admit_take_stats(f->adm, &as);
	refused = as.full + as.source + as.early;
	if (refused > 0)
		cl_warn("%s port: refused %llu connections from %s%llu "
			"sources in the last %llu s (%llu past the limit of "
			"%u unauthenticated, %llu past %u per source, %llu at "
			"random from %u on); %u unauthenticated now",
		    f->o.what, (unsigned long long)refused,
		    as.sources_capped ? "more than " : "",
		    (unsigned long long)as.sources,
		    (unsigned long long)((now_ms - f->since + 500) / 1000),
		    (unsigned long long)as.full, f->o.admit.full,
		    (unsigned long long)as.source, f->o.admit.per_source,
		    (unsigned long long)as.early, f->o.admit.start,
		    cl_admit_count(f->adm));
	if (f->iv.timeouts + f->iv.failures + f->iv.no_slot +
		f->iv.accept_errors >
	    0)
		cl_warn("%s port: in the last %llu s, %llu connections "
			"closed for not authenticating within %u ms, %llu "
			"failed TLS handshakes, %llu authenticated peers "
			"refused for want of a free slot, %llu accept errors",
		    f->o.what,
		    (unsigned long long)((now_ms - f->since + 500) / 1000),
		    (unsigned long long)f->iv.timeouts, f->o.handshake_ms,
		    (unsigned long long)f->iv.failures,
		    (unsigned long long)f->iv.no_slot,
		    (unsigned long long)f->iv.accept_errors);
	cl_log_rl_flush(&f->fail_rl, now_ms);
	cl_log_rl_flush(&f->err_rl, now_ms);
	memset(&f->iv, 0, sizeof(f->iv));
	f->since = now_ms;
}

void
cl_front_handle(
    struct cl_front *f, const struct pollfd *pfd, size_t n, uint64_t now_ms)
{
	bool lready = false;
	size_t j, i, seen = 0, np = f->np;

	if (n > f->nmap)
		n = f->nmap;
	for (j = 0; j < n; j++) {
		struct pend *p;

		if (f->map[j] < 0) {
			lready = (pfd[j].revents & POLLIN) != 0;
			continue;
		}
		p = &f->p[f->map[j]];
		if (p->fd == -1 || p->fd != pfd[j].fd || pfd[j].revents == 0)
			continue;
		if (f->o.ctx != NULL)
			handshake(f, p, now_ms);
	}
	f->nmap = 0;
	/* Deadlines. */
	for (i = 0; i < f->o.admit.full && seen < np; i++) {
		struct pend *p = &f->p[i];

		if (p->fd == -1)
			continue;
		seen++;
		if (now_ms < p->since + f->o.handshake_ms)
			continue;
		f->st.timeouts++;
		f->iv.timeouts++;
		pend_close(f, p);
	}
	if (lready && f->lfd != -1)
		accept_all(f, now_ms);
	report(f, now_ms);
}
