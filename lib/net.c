/* SPDX-License-Identifier: ISC */
/* Listening sockets and port files, shared by the daemons.  See net.h. */
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
cl_net_split(const char *spec, char *host, size_t hostlen, uint64_t *port)
{
	const char *colon = strrchr(spec, ':');
	size_t hl;

	if (colon == NULL || cl_parse_u64(colon + 1, 0, 65535, port) != 0)
		return CL_ERR_FORMAT;
	hl = (size_t)(colon - spec);
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl == 0 || hl >= hostlen)
		return CL_ERR_FORMAT;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	return 0;
}

int
cl_net_listen(const char *spec, unsigned *port)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[256], pstr[8];
	uint64_t p;
	int fd = -1, on = 1, e;

	if (cl_net_split(spec, host, sizeof(host), &p) != 0) {
		cl_err("listen: '%s' is not ADDR:PORT", spec);
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
