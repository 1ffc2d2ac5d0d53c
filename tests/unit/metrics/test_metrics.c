/* SPDX-License-Identifier: ISC */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "metrics.h"

static unsigned renders;

static void
render(void *arg, struct cl_buf *b)
{
	(void)arg;
	renders++;
	cl_metric(b, "test_total", "counter", "A test.", 42);
}

static uint64_t
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct cl_metrics *
start(unsigned *port)
{
	struct cl_metrics *m;
	char err[256];
	int fd;

	fd = cl_metrics_listen("127.0.0.1:0", port, err, sizeof(err));
	if (fd < 0 || cl_metrics_new(fd, render, NULL, &m) != 0)
		return NULL;
	return m;
}

static int
dial(unsigned port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	return fd;
}

/* One round of the daemon's loop: poll (at most wait ms), then handle.
 * Returns how long it took. */
static uint64_t
round_at(struct cl_metrics *m, int wait, uint64_t now)
{
	struct pollfd pfd[CL_METRICS_POLLFDS];
	uint64_t next = UINT64_MAX, t0 = mono();
	size_t n;

	n = cl_metrics_pollfds(m, pfd, CL_METRICS_POLLFDS, now, &next);
	(void)poll(pfd, (nfds_t)n, wait);
	cl_metrics_handle(m, pfd, n, now);
	return mono() - t0;
}

static uint64_t
round1(struct cl_metrics *m, int wait)
{
	return round_at(m, wait, mono());
}

/* Reads what the server sends until it closes (bounded wait). */
static size_t
read_all(struct cl_metrics *m, int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t k;
	int i;

	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	for (i = 0; i < 200 && got < len - 1; i++) {
		round1(m, 5);
		k = read(fd, buf + got, len - 1 - got);
		if (k == 0)
			break;
		if (k > 0)
			got += (size_t)k;
	}
	buf[got] = '\0';
	return got;
}

CL_TEST(slow_client_never_blocks)
{
	struct cl_metrics *m;
	unsigned port;
	char resp[4096];
	int fd, i;

	CHECK((m = start(&port)) != NULL);
	CHECK((fd = dial(port)) >= 0);
	round1(m, 50); /* accepted */
	CHECK_INT_EQ(cl_metrics_clients(m), 1);
	/* One byte at a time: each round returns at once, nothing sent. */
	for (i = 0; i < 8; i++) {
		CHECK(write(fd, &"GET /met"[i], 1) == 1);
		CHECK(round1(m, 0) < 50);
	}
	CHECK(round1(m, 0) < 50);
	CHECK_INT_EQ(cl_metrics_clients(m), 1);
	CHECK_INT_EQ(renders, 0);
	CHECK(write(fd, "rics HTTP/1.0\r\n\r\n", 17) == 17);
	read_all(m, fd, resp, sizeof(resp));
	CHECK(strncmp(resp, "HTTP/1.0 200 OK\r\n", 17) == 0);
	CHECK(strstr(resp, "\r\n\r\n# HELP test_total A test.\n") != NULL);
	CHECK(strstr(resp, "\ntest_total 42\n") != NULL);
	CHECK_INT_EQ(cl_metrics_clients(m), 0);
	close(fd);
	cl_metrics_free(m);
}

CL_TEST(deadline_closes)
{
	struct cl_metrics *m;
	unsigned port;
	uint64_t t;
	char c;
	int fd;

	CHECK((m = start(&port)) != NULL);
	CHECK((fd = dial(port)) >= 0);
	t = mono();
	round_at(m, 50, t);
	CHECK_INT_EQ(cl_metrics_clients(m), 1);
	CHECK(write(fd, "G", 1) == 1);
	round_at(m, 0, t + CL_METRICS_DEADLINE_MS - 1);
	CHECK_INT_EQ(cl_metrics_clients(m), 1);
	round_at(m, 0, t + CL_METRICS_DEADLINE_MS);
	CHECK_INT_EQ(cl_metrics_clients(m), 0);
	CHECK(read(fd, &c, 1) == 0); /* closed, no answer */
	close(fd);
	cl_metrics_free(m);
}

CL_TEST(clients_bounded)
{
	struct cl_metrics *m;
	unsigned port;
	int fd[CL_METRICS_CLIENTS + 1], i;
	char c;

	CHECK((m = start(&port)) != NULL);
	for (i = 0; i <= CL_METRICS_CLIENTS; i++) {
		CHECK((fd[i] = dial(port)) >= 0);
		round1(m, 50);
	}
	CHECK_INT_EQ(cl_metrics_clients(m), CL_METRICS_CLIENTS);
	/* The one past the bound was closed at once. */
	CHECK(read(fd[CL_METRICS_CLIENTS], &c, 1) == 0);
	for (i = 0; i <= CL_METRICS_CLIENTS; i++)
		close(fd[i]);
	for (i = 0; i < 10 && cl_metrics_clients(m) > 0; i++)
		round1(m, 20);
	CHECK_INT_EQ(cl_metrics_clients(m), 0);
	cl_metrics_free(m);
}

CL_TEST(bad_and_oversized_requests)
{
	struct cl_metrics *m;
	unsigned port;
	char big[3000], resp[4096];
	int fd;

	CHECK((m = start(&port)) != NULL);
	renders = 0;
	CHECK((fd = dial(port)) >= 0);
	CHECK(write(fd, "POST /metrics HTTP/1.0\r\n\r\n", 26) == 26);
	read_all(m, fd, resp, sizeof(resp));
	CHECK(strncmp(resp, "HTTP/1.0 404 ", 13) == 0);
	close(fd);
	/* Never a header end: answered from what fits, then closed. */
	memset(big, 'A', sizeof(big));
	CHECK((fd = dial(port)) >= 0);
	CHECK(write(fd, big, sizeof(big)) == (ssize_t)sizeof(big));
	read_all(m, fd, resp, sizeof(resp));
	CHECK(strncmp(resp, "HTTP/1.0 404 ", 13) == 0);
	close(fd);
	/* Closed before a whole request: answered from what came. */
	CHECK((fd = dial(port)) >= 0);
	CHECK(write(fd, "GET / HTTP/1.0\r\n", 16) == 16);
	shutdown(fd, SHUT_WR);
	read_all(m, fd, resp, sizeof(resp));
	CHECK(strncmp(resp, "HTTP/1.0 200 OK", 15) == 0);
	CHECK_INT_EQ(renders, 1);
	close(fd);
	cl_metrics_free(m);
}

CL_TEST(listen_loopback_only)
{
	char err[256];
	unsigned port;

	CHECK(cl_metrics_listen("192.0.2.1:0", &port, err, sizeof(err)) < 0);
	CHECK(strstr(err, "loopback") != NULL);
	CHECK(cl_metrics_listen("nonsense", &port, err, sizeof(err)) < 0);
}

int
main(void)
{
	CL_RUN(slow_client_never_blocks);
	CL_RUN(deadline_closes);
	CL_RUN(clients_bounded);
	CL_RUN(bad_and_oversized_requests);
	CL_RUN(listen_loopback_only);
	return cl_test_done();
}
