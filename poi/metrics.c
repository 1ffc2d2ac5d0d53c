/* SPDX-License-Identifier: ISC */
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
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
	uint64_t port;
	int fd, on = 1;

	if (cl_net_split(spec, host, sizeof(host), &port) != 0 ||
	    cl_parse_addr(host, &a) != 0) {
		snprintf(err, errlen, "'%s' is not ADDR:PORT", spec);
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
		s4->sin_port = htons((uint16_t)port);
		sl = sizeof(*s4);
	} else {
		static const uint8_t lo6[16] = {[15] = 1};

		if (memcmp(a.a, lo6, 16) != 0) {
			snprintf(err, errlen, "%s is not ::1", host);
			return -1;
		}
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a.a, 16);
		s6->sin6_port = htons((uint16_t)port);
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

void
cl_metrics_serve(int lfd, void (*render)(void *, struct cl_buf *), void *arg)
{
	static const char notfound[] = "HTTP/1.0 404 Not Found\r\n"
				       "Content-Length: 0\r\n\r\n";
	struct timeval tv = {0, 200000};
	struct cl_buf body, resp;
	char req[2048], hdr[256];
	size_t got = 0, off;
	ssize_t n;
	int fd, hl;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	/* XXX a local client can hold the loop for up to the timeouts. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (got < sizeof(req) - 1) {
		n = read(fd, req + got, sizeof(req) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL ||
		    strstr(req, "\n\n") != NULL)
			break;
	}
	req[got] = '\0';
	if (strncmp(req, "GET /metrics ", 13) != 0 &&
	    strncmp(req, "GET / ", 6) != 0) {
		if (write(fd, notfound, sizeof(notfound) - 1) < 0) {
			/* nothing more to tell that client */
		}
		close(fd);
		return;
	}
	cl_buf_init(&body, 4u * 1024 * 1024);
	cl_buf_init(&resp, 4u * 1024 * 1024 + 256);
	render(arg, &body);
	hl = snprintf(hdr, sizeof(hdr),
	    "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	    body.len);
	if (hl > 0 && cl_buf_put(&resp, hdr, (size_t)hl) == 0 &&
	    cl_buf_put(&resp, body.d, body.len) == 0) {
		for (off = 0; off < resp.len; off += (size_t)n) {
			n = write(fd, resp.d + off, resp.len - off);
			if (n <= 0)
				break;
		}
	}
	cl_buf_release(&body);
	cl_buf_release(&resp);
	close(fd);
}
