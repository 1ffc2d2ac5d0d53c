/* SPDX-License-Identifier: ISC */
/* Listening sockets and port files, shared by the daemons.  See net.h. */
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "fsutil.h"
#include "log.h"
#include "net.h"
#include "util.h"

int
cl_net_split(const char *opt, const char *spec, unsigned flags, char *host,
    size_t hostlen, uint16_t *port, char *err, size_t errlen)
{
	struct in6_addr a6;
	const char *h, *colon, *ps;
	uint64_t p;
	size_t hl, i;
	char v6[INET6_ADDRSTRLEN];
	const char *o = opt != NULL ? opt : "", *sep = opt != NULL ? ": " : "";

	for (i = 0; spec[i] != '\0'; i++)
		if ((unsigned char)spec[i] <= ' ' || spec[i] == 0x7f) {
			snprintf(err, errlen,
			    "%s%s'%s' holds a space or a control character", o,
			    sep, spec);
			return CL_ERR_FORMAT;
		}
	if (spec[0] == '[') {
		const char *rb = strchr(spec, ']');

		if (rb == NULL) {
			snprintf(err, errlen, "%s%s'%s' lacks the ']'", o, sep,
			    spec);
			return CL_ERR_FORMAT;
		}
		h = spec + 1;
		hl = (size_t)(rb - h);
		if (rb[1] != ':') {
			snprintf(err, errlen,
			    "%s%s'%s': expected ':PORT' after the ']'", o, sep,
			    spec);
			return CL_ERR_FORMAT;
		}
		ps = rb + 2;
		if (hl == 0 || hl >= sizeof(v6) || memchr(h, '[', hl) != NULL) {
			snprintf(err, errlen,
			    "%s%s'%s': brackets hold no IPv6 address", o, sep,
			    spec);
			return CL_ERR_FORMAT;
		}
		memcpy(v6, h, hl);
		v6[hl] = '\0';
		if (inet_pton(AF_INET6, v6, &a6) != 1) {
			snprintf(err, errlen,
			    "%s%s'%s': '%s' is not an IPv6 address", o, sep,
			    spec, v6);
			return CL_ERR_FORMAT;
		}
	} else {
		if ((colon = strchr(spec, ':')) == NULL) {
			snprintf(err, errlen, "%s%s'%s' is not HOST:PORT", o,
			    sep, spec);
			return CL_ERR_FORMAT;
		}
		if (strchr(colon + 1, ':') != NULL) {
			snprintf(err, errlen,
			    "%s%s'%s': an IPv6 address goes in brackets, as "
			    "in [::1]:PORT",
			    o, sep, spec);
			return CL_ERR_FORMAT;
		}
		h = spec;
		hl = (size_t)(colon - spec);
		ps = colon + 1;
		if (hl == 0 || memchr(h, ']', hl) != NULL) {
			snprintf(
			    err, errlen, "%s%s'%s' has no host", o, sep, spec);
			return CL_ERR_FORMAT;
		}
	}
	if (hl >= hostlen) {
		snprintf(err, errlen, "%s%s'%s': host longer than %zu bytes", o,
		    sep, spec, hostlen - 1);
		return CL_ERR_FORMAT;
	}
	if (cl_parse_u64(ps, (flags & CL_NET_PORT_ANY) ? 0 : 1, 65535, &p) !=
	    0) {
		snprintf(err, errlen, "%s%s'%s': port '%s' is not %s..65535", o,
		    sep, spec, ps, (flags & CL_NET_PORT_ANY) ? "0" : "1");
		return CL_ERR_FORMAT;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int
cl_net_listen(const char *spec, unsigned *port)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], pstr[8], err[300];
	uint16_t p;
	int fd = -1, on = 1, e;

	if (cl_net_split("listen", spec, CL_NET_PORT_ANY, host, sizeof(host),
		&p, err, sizeof(err)) != 0) {
		cl_err("%s", err);
		return -1;
	}
	snprintf(pstr, sizeof(pstr), "%u", (unsigned)p);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
	if ((e = getaddrinfo(host, pstr, &hints, &ai)) != 0) {
		cl_err("listen: %s: %s", host, gai_strerror(e));
		return -1;
	}
	fd = socket(
	    ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
	    listen(fd, SOMAXCONN) != 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
		cl_err("listen on %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	*port = ntohs(ss.ss_family == AF_INET
		? ((struct sockaddr_in *)&ss)->sin_port
		: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

int
cl_net_port_file(const char *path, unsigned port)
{
	char dir[PATH_MAX], base[NAME_MAX + 1], tmp[NAME_MAX + 1], txt[16];
	int dfd = -1, fd = -1, n, e, r = -1;

	if (cl_path_split(path, dir, sizeof(dir), base, sizeof(base)) != 0)
		return -1;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", base) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	n = snprintf(txt, sizeof(txt), "%u\n", port);
	/* Written in its directory, never through a planted link. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (fd = cl_openat_nofollow(
		 dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0 ||
	    write(fd, txt, (size_t)n) != n)
		goto out;
	e = close(fd);
	fd = -1;
	if (e != 0 || renameat(dfd, tmp, dfd, base) != 0)
		goto out;
	r = 0;
out:
	e = errno;
	if (fd >= 0)
		(void)close(fd);
	if (dfd >= 0)
		(void)close(dfd);
	errno = e;
	return r;
}

int
cl_net_addr(
    const struct sockaddr *sa, struct cl_addr *a, char *peer, size_t peerlen)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	char h[CL_ADDR_STRLEN] = "?";
	unsigned port = 0;

	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		a->family = 4;
		memcpy(a->a, &s4->sin_addr, 4);
		port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		port = ntohs(s6->sin6_port);
		if (memcmp(&s6->sin6_addr, mapped, 12) == 0) {
			a->family = 4;
			memcpy(a->a, (const uint8_t *)&s6->sin6_addr + 12, 4);
		} else {
			a->family = 6;
			memcpy(a->a, &s6->sin6_addr, 16);
		}
	} else {
		snprintf(peer, peerlen, "?");
		return CL_ERR_UNSUPPORTED;
	}
	cl_format_addr(a, h, sizeof(h));
	snprintf(peer, peerlen, a->family == 6 ? "[%s]:%u" : "%s:%u", h, port);
	return 0;
}

uint64_t
cl_net_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1024;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX
					    : (uint64_t)rl.rlim_cur;
}
