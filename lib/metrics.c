/* SPDX-License-Identifier: ISC */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "metrics.h"
#include "net.h"
#include "util.h"

int
cl_metrics_listen(
    const char *spec, unsigned *port_out, char *err, size_t errlen)
{
	char host[CL_ADDR_STRLEN + 2];
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct cl_addr a;
	socklen_t sl;
	uint16_t port;
	int fd, on = 1;

	if (cl_net_split(NULL, spec, CL_NET_PORT_ANY, host, sizeof(host), &port,
		err, errlen) != 0)
		return -1;
	if (cl_parse_addr(host, &a) != 0) {
		snprintf(err, errlen, "'%s' is not an IP address", host);
		return -1;
	}
	memset(&ss, 0, sizeof(ss));
	if (a.family == 4) {
		if (a.a[0] != 127) {
			snprintf(err, errlen,
			    "%s is not a loopback address (127.0.0.0/8)", host);
			return -1;
		}
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a.a, 4);
		s4->sin_port = htons(port);
		sl = sizeof(*s4);
	} else {
		static const uint8_t lo6[16] = {[15] = 1};

		if (memcmp(a.a, lo6, 16) != 0) {
			snprintf(err, errlen, "%s is not ::1", host);
			return -1;
		}
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a.a, 16);
		s6->sin6_port = htons(port);
		sl = sizeof(*s6);
	}
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(fd, 16) == -1) {
		snprintf(err, errlen, "bind %s: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		*port_out = ntohs(a.family == 4 ? s4->sin_port : s6->sin6_port);
	return fd;
}

void
cl_metric(struct cl_buf *b, const char *name, const char *type,
    const char *help, unsigned long long value)
{
	char line[512];
	int n;

	n = snprintf(line, sizeof(line),
	    "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type,
	    name, value);
	if (n > 0 && (size_t)n < sizeof(line))
		(void)cl_buf_put(b, line, (size_t)n);
}

struct client {
	int fd;         /* -1: free */
	bool answering; /* request read, answer being written */
	uint64_t deadline;
	size_t got;
	char req[CL_METRICS_REQ_MAX + 1];
	struct cl_buf resp;
	size_t off; /* of resp written */
};

struct cl_metrics {
	int lfd;
	cl_metrics_render_fn *render;
	void *arg;
	struct client c[CL_METRICS_CLIENTS];
};

int
cl_metrics_new(
    int lfd, cl_metrics_render_fn *render, void *arg, struct cl_metrics **out)
{
	struct cl_metrics *m;
	size_t i;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		close(lfd);
		return CL_ERR_NOMEM;
	}
	m->lfd = lfd;
	m->render = render;
	m->arg = arg;
	for (i = 0; i < CL_METRICS_CLIENTS; i++)
		m->c[i].fd = -1;
	*out = m;
	return 0;
}

static void
client_close(struct client *c)
{
	if (c->fd != -1)
		close(c->fd);
	cl_buf_release(&c->resp);
	c->fd = -1;
}

void
cl_metrics_free(struct cl_metrics *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < CL_METRICS_CLIENTS; i++)
		client_close(&m->c[i]);
	if (m->lfd != -1)
		close(m->lfd);
	free(m);
}

size_t
cl_metrics_clients(const struct cl_metrics *m)
{
	size_t i, n = 0;

	for (i = 0; i < CL_METRICS_CLIENTS; i++)
		n += m->c[i].fd != -1;
	return n;
}

size_t
cl_metrics_pollfds(struct cl_metrics *m, struct pollfd *pfd, size_t max,
    uint64_t now_ms, uint64_t *next_ms)
{
	size_t i, n = 0;

	(void)now_ms;
	if (n < max) {
		pfd[n].fd = m->lfd;
		pfd[n].events = POLLIN;
		pfd[n++].revents = 0;
	}
	for (i = 0; i < CL_METRICS_CLIENTS && n < max; i++) {
		struct client *c = &m->c[i];

		if (c->fd == -1)
			continue;
		pfd[n].fd = c->fd;
		pfd[n].events = c->answering ? POLLOUT : POLLIN;
		pfd[n++].revents = 0;
		if (c->deadline < *next_ms)
			*next_ms = c->deadline;
	}
	return n;
}

/* The request is complete (or as complete as it will get): the answer. */
static int
prepare(struct cl_metrics *m, struct client *c)
{
	static const char notfound[] = "HTTP/1.0 404 Not Found\r\n"
				       "Content-Length: 0\r\n"
				       "Connection: close\r\n\r\n";
	struct cl_buf body;
	char hdr[256];
	int hl, r;

	c->answering = true;
	c->off = 0;
	cl_buf_init(&c->resp, 4u * 1024 * 1024 + 256);
	if (strncmp(c->req, "GET /metrics ", 13) != 0 &&
	    strncmp(c->req, "GET / ", 6) != 0)
		return cl_buf_put(&c->resp, notfound, sizeof(notfound) - 1);
	cl_buf_init(&body, 4u * 1024 * 1024);
	m->render(m->arg, &body);
	hl = snprintf(hdr, sizeof(hdr),
	    "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    body.len);
	r = CL_ERR_INTERNAL;
	if (hl > 0 && (size_t)hl < sizeof(hdr) &&
	    (r = cl_buf_put(&c->resp, hdr, (size_t)hl)) == 0)
		r = cl_buf_put(&c->resp, body.d, body.len);
	cl_buf_release(&body);
	return r;
}

/* One step of a client; false when it is finished (to be closed). */
static bool
step(struct cl_metrics *m, struct client *c, short rev)
{
	ssize_t k;

	if (!c->answering) {
		if (!(rev & (POLLIN | POLLHUP | POLLERR)))
			return true;
		k = read(c->fd, c->req + c->got, CL_METRICS_REQ_MAX - c->got);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (k < 0)
			return false;
		c->got += (size_t)k;
		c->req[c->got] = '\0';
		/* The end of the headers, the end of the input, or as much
		 * as we read: answer what we have. */
		if (k > 0 && c->got < CL_METRICS_REQ_MAX &&
		    strstr(c->req, "\r\n\r\n") == NULL &&
		    strstr(c->req, "\n\n") == NULL)
			return true;
		if (prepare(m, c) != 0)
			return false;
		rev = POLLOUT; /* usually writable at once */
	}
	if (!(rev & (POLLOUT | POLLHUP | POLLERR)))
		return true;
	while (c->off < c->resp.len) {
		k = send(c->fd, c->resp.d + c->off, c->resp.len - c->off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (k <= 0)
			return false;
		c->off += (size_t)k;
	}
	return false;
}

void
cl_metrics_handle(
    struct cl_metrics *m, const struct pollfd *pfd, size_t n, uint64_t now_ms)
{
	size_t i, j;
	short lrev = 0;
	int fd;

	for (j = 0; j < n; j++) {
		if (pfd[j].fd == m->lfd) {
			lrev = pfd[j].revents;
			continue;
		}
		for (i = 0; i < CL_METRICS_CLIENTS; i++)
			if (m->c[i].fd != -1 && m->c[i].fd == pfd[j].fd)
				break;
		if (i == CL_METRICS_CLIENTS)
			continue;
		if (!step(m, &m->c[i], pfd[j].revents))
			client_close(&m->c[i]);
	}
	for (i = 0; i < CL_METRICS_CLIENTS; i++)
		if (m->c[i].fd != -1 && now_ms >= m->c[i].deadline)
			client_close(&m->c[i]);
	/* New clients last, so that a descriptor number closed above and
	 * reused here is not mistaken for the old client. */
	if (!(lrev & POLLIN))
		return;
	while ((fd = accept4(
		    m->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) != -1) {
		for (i = 0; i < CL_METRICS_CLIENTS && m->c[i].fd != -1; i++)
			;
		if (i == CL_METRICS_CLIENTS) {
			close(fd); /* busy: the scraper tries again */
			continue;
		}
		memset(&m->c[i], 0, sizeof(m->c[i]));
		m->c[i].fd = fd;
		m->c[i].deadline = now_ms + CL_METRICS_DEADLINE_MS;
	}
}
