/* SPDX-License-Identifier: ISC */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "front.h"
#include "harness.h"
#include "net.h"

static int ups, refuse_up;

static int
up(void *arg, struct cl_front_conn *c)
{
	(void)arg;
	ups++;
	if (refuse_up)
		return -1;
	close(c->fd);
	return 0;
}

static int
dial(unsigned port, const char *src)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	inet_pton(AF_INET, src, &sa.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	sa.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	return fd;
}

/* One round of a daemon's loop at time now. */
static void
round_at(struct cl_front *f, uint64_t now)
{
	struct pollfd pfd[64];
	uint64_t next = UINT64_MAX;
	size_t n;

	n = cl_front_pollfds(f, pfd, 64, now, &next);
	(void)poll(pfd, (nfds_t)n, 20);
	cl_front_handle(f, pfd, n, now);
}

/* true if the server closed fd (EOF or reset) within about 1 s */
static bool
closed_by_server(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;

	return poll(&p, 1, 1000) == 1 && read(fd, &c, 1) <= 0;
}

static struct cl_front *
start(const struct cl_front_opts *o, unsigned *port)
{
	struct cl_front *f;
	int lfd;

	if ((lfd = cl_net_listen("127.0.0.1:0", port)) < 0 ||
	    cl_front_new(lfd, o, up, NULL, &f) != 0)
		return NULL;
	return f;
}

CL_TEST(plain_admission_and_refusal)
{
	struct cl_front_opts o;
	struct cl_front_stats st;
	struct cl_front *f;
	unsigned port;
	int a, b;

	memset(&o, 0, sizeof(o));
	cl_front_defaults(&o);
	o.what = "test";
	CHECK((f = start(&o, &port)) != NULL);
	ups = 0;
	CHECK((a = dial(port, "127.0.0.2")) >= 0);
	round_at(f, 1000);
	CHECK_INT_EQ(ups, 1); /* plain TCP: handed over at once */
	CHECK_INT_EQ(cl_front_pending(f), 0);
	/* The daemon refuses it (no slot): closed, counted. */
	refuse_up = 1;
	CHECK((b = dial(port, "127.0.0.2")) >= 0);
	round_at(f, 1001);
	CHECK(closed_by_server(b));
	refuse_up = 0;
	cl_front_stats(f, &st);
	CHECK_INT_EQ(st.accepted, 2);
	CHECK_INT_EQ(st.authenticated, 1);
	CHECK_INT_EQ(st.no_slot, 1);
	close(a);
	close(b);
	cl_front_free(f);
}

CL_TEST(tls_deadline_and_limits)
{
	struct cl_front_opts o;
	struct cl_front_stats st;
	struct cl_front *f;
	unsigned port;
	int fd[4], i;

	memset(&o, 0, sizeof(o));
	cl_front_defaults(&o);
	o.what = "test";
	o.handshake_ms = 3000;
	o.admit.start = o.admit.full = 3;
	o.admit.per_source = 2;
	/* A context is enough: nobody here completes a handshake. */
	CHECK((o.ctx = SSL_CTX_new(TLS_server_method())) != NULL);
	CHECK((f = start(&o, &port)) != NULL);
	ups = 0;
	/* Two from .2 are admitted, a third from .2 is refused (per
	 * source), one from .3 fills the total, one from .4 is refused. */
	CHECK((fd[0] = dial(port, "127.0.0.2")) >= 0);
	CHECK((fd[1] = dial(port, "127.0.0.2")) >= 0);
	round_at(f, 1000);
	CHECK_INT_EQ(cl_front_pending(f), 2);
	CHECK((fd[2] = dial(port, "127.0.0.2")) >= 0);
	round_at(f, 1000);
	CHECK(closed_by_server(fd[2]));
	close(fd[2]);
	CHECK((fd[2] = dial(port, "127.0.0.3")) >= 0);
	round_at(f, 1000);
	CHECK_INT_EQ(cl_front_pending(f), 3);
	CHECK((fd[3] = dial(port, "127.0.0.4")) >= 0);
	round_at(f, 1000);
	CHECK(closed_by_server(fd[3]));
	CHECK_INT_EQ(cl_front_pending(f), 3);
	cl_front_stats(f, &st);
	CHECK_INT_EQ(st.refused, 2);
	CHECK_INT_EQ(ups, 0);
	/* Nothing authenticates: all closed at the deadline, not before. */
	round_at(f, 3999);
	CHECK_INT_EQ(cl_front_pending(f), 3);
	round_at(f, 4000);
	CHECK_INT_EQ(cl_front_pending(f), 0);
	for (i = 0; i < 3; i++)
		CHECK(closed_by_server(fd[i]));
	cl_front_stats(f, &st);
	CHECK_INT_EQ(st.timeouts, 3);
	/* Garbage instead of a ClientHello: a failed handshake. */
	for (i = 0; i < 4; i++)
		close(fd[i]);
	CHECK((fd[0] = dial(port, "127.0.0.5")) >= 0);
	round_at(f, 5000);
	CHECK(write(fd[0], "GET / HTTP/1.0\r\n\r\n", 18) == 18);
	for (i = 0; i < 10 && cl_front_pending(f) > 0; i++)
		round_at(f, 5001);
	CHECK_INT_EQ(cl_front_pending(f), 0);
	cl_front_stats(f, &st);
	CHECK_INT_EQ(st.failures, 1);
	close(fd[0]);
	cl_front_free(f);
	SSL_CTX_free(o.ctx);
}

CL_TEST(options)
{
	struct cl_front_opts o;
	char err[256];

	memset(&o, 0, sizeof(o));
	cl_front_defaults(&o);
	CHECK_INT_EQ(o.handshake_ms, 5000);
	CHECK_INT_EQ(o.admit.full, 4000);
	CHECK_INT_EQ(
	    cl_front_option(&o, "max-startups", "10:30:100", err, sizeof(err)),
	    0);
	CHECK_INT_EQ(o.admit.start, 10);
	CHECK(cl_front_option(
		  &o, "max-startups", "100:30:10", err, sizeof(err)) != 0);
	CHECK(cl_front_option(&o, "handshake-timeout", "0", err, sizeof(err)) !=
	    0);
	CHECK_INT_EQ(
	    cl_front_option(&o, "handshake-timeout", "7", err, sizeof(err)), 0);
	CHECK_INT_EQ(o.handshake_ms, 7000);
	CHECK_INT_EQ(cl_front_option(
			 &o, "per-source-max-startups", "0", err, sizeof(err)),
	    0);
	CHECK_INT_EQ(cl_front_option(&o, "listen", "x", err, sizeof(err)),
	    CL_ERR_NOT_FOUND);
	/* Fitted into the descriptors there are. */
	CHECK(cl_front_fit(&o, 300, 250));
	CHECK_INT_EQ(o.admit.full, 50);
	CHECK_INT_EQ(o.admit.start, 10);
	CHECK(cl_front_fit(&o, 262, 250));
	CHECK_INT_EQ(o.admit.full, 16); /* never below 16 */
	CHECK_INT_EQ(o.admit.start, 10);
	CHECK(!cl_front_fit(&o, 100000, 400));
}

int
main(void)
{
	CL_RUN(plain_admission_and_refusal);
	CL_RUN(tls_deadline_and_limits);
	CL_RUN(options);
	return cl_test_done();
}
