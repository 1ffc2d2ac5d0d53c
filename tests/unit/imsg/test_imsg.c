/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "harness.h"
#include "imsg.h"

enum { T_FIXED = 1, T_LIST = 2, T_FD = 3, T_EMPTY = 4, T_BIG = 5 };

static const struct cl_imsg_type types[] = {
    {T_FIXED, "fixed", 12, 12, 0, false},
    {T_LIST, "list", 32, 32 * 8, 32, false},
    {T_FD, "fd", 4, 4, 0, true},
    {T_EMPTY, "empty", 0, 0, 0, false},
    {T_BIG, "big", 1, 1024 * 1024, 1, false},
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

static int sv[2] = {-1, -1};
static struct cl_imsgbuf *rb, *wb;

static void
pair(bool nonblock)
{
	CHECK(socketpair(AF_UNIX,
		  SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0),
		  0, sv) == 0);
	CHECK_INT_EQ(cl_imsg_new(sv[0], types, NTYPES, &rb), 0);
	CHECK_INT_EQ(cl_imsg_new(sv[1], types, NTYPES, &wb), 0);
}

static void
unpair(void)
{
	cl_imsg_free(rb);
	cl_imsg_free(wb);
	rb = wb = NULL;
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	sv[0] = sv[1] = -1;
}

/* Writes a raw header (and len payload octets of pay) on the write
 * side. */
static void
raw(uint16_t type, uint16_t flags, uint32_t len, size_t pay)
{
	uint8_t h[CL_IMSG_HDR_LEN], *p;

	memcpy(h, &type, 2);
	memcpy(h + 2, &flags, 2);
	memcpy(h + 4, &len, 4);
	CHECK(write(sv[1], h, sizeof(h)) == (ssize_t)sizeof(h));
	if (pay > 0) {
		CHECK((p = calloc(1, pay)) != NULL);
		CHECK(write(sv[1], p, pay) == (ssize_t)pay);
		free(p);
	}
}

/* Reads and gets; returns what get returned, the error in err. */
static int
recv1(struct cl_imsg *m, char *err, size_t errlen)
{
	int r;

	if ((r = cl_imsg_get(rb, m, err, errlen)) != 0)
		return r;
	if ((r = cl_imsg_read(rb)) < 0)
		return r;
	return cl_imsg_get(rb, m, err, errlen);
}

static bool
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

CL_TEST(roundtrip)
{
	uint8_t fixed[12], list[96];
	struct cl_imsg m;
	char err[256];
	int i;

	pair(true);
	memset(fixed, 0xa5, sizeof(fixed));
	for (i = 0; i < (int)sizeof(list); i++)
		list[i] = (uint8_t)i;
	CHECK_INT_EQ(cl_imsg_compose(wb, T_FIXED, -1, fixed, 12), 0);
	CHECK_INT_EQ(cl_imsg_compose(wb, T_LIST, -1, list, 96), 0);
	CHECK_INT_EQ(cl_imsg_compose(wb, T_EMPTY, -1, NULL, 0), 0);
	CHECK(cl_imsg_pending(wb));
	CHECK_INT_EQ(cl_imsg_flush(wb), 0);
	CHECK(!cl_imsg_pending(wb));
	CHECK_INT_EQ(cl_imsg_get(rb, &m, err, sizeof(err)), 0);
	CHECK(cl_imsg_read(rb) == 3 * CL_IMSG_HDR_LEN + 12 + 96);
	CHECK_INT_EQ(cl_imsg_get(rb, &m, err, sizeof(err)), 1);
	CHECK_INT_EQ(m.type, T_FIXED);
	CHECK_INT_EQ(m.len, 12);
	CHECK_INT_EQ(m.fd, -1);
	CHECK_MEM_EQ(m.data, fixed, 12);
	CHECK_INT_EQ(cl_imsg_get(rb, &m, err, sizeof(err)), 1);
	CHECK_INT_EQ(m.type, T_LIST);
	CHECK_INT_EQ(m.len, 96);
	CHECK_MEM_EQ(m.data, list, 96);
	CHECK_INT_EQ(cl_imsg_get(rb, &m, err, sizeof(err)), 1);
	CHECK_INT_EQ(m.type, T_EMPTY);
	CHECK_INT_EQ(m.len, 0);
	CHECK_INT_EQ(cl_imsg_get(rb, &m, err, sizeof(err)), 0);
	CHECK_INT_EQ(cl_imsg_read(rb), CL_ERR_AGAIN);
	close(sv[1]);
	sv[1] = -1;
	CHECK_INT_EQ(cl_imsg_read(rb), CL_ERR_CLOSED);
	unpair();
}

/* One octet at a time: nothing comes out before the last. */
CL_TEST(partial_reads)
{
	uint8_t msg[CL_IMSG_HDR_LEN + 64];
	uint16_t type = T_LIST, flags = 0;
	uint32_t len = 64;
	struct cl_imsg m;
	char err[256];
	size_t i;

	pair(true);
	memcpy(msg, &type, 2);
	memcpy(msg + 2, &flags, 2);
	memcpy(msg + 4, &len, 4);
	for (i = 0; i < 64; i++)
		msg[CL_IMSG_HDR_LEN + i] = (uint8_t)(i * 7);
	for (i = 0; i < sizeof(msg); i++) {
		CHECK_INT_EQ(cl_imsg_get(rb, &m, err, sizeof(err)), 0);
		CHECK(write(sv[1], msg + i, 1) == 1);
		CHECK_INT_EQ(cl_imsg_read(rb), 1);
	}
	CHECK_INT_EQ(cl_imsg_get(rb, &m, err, sizeof(err)), 1);
	CHECK_INT_EQ(m.type, T_LIST);
	CHECK_MEM_EQ(m.data, msg + CL_IMSG_HDR_LEN, 64);
	CHECK_INT_EQ(cl_imsg_get(rb, &m, err, sizeof(err)), 0);
	unpair();
}

/* Each bad header is refused, named, and the buffer stays refused. */
static void
refused(
    uint16_t type, uint16_t flags, uint32_t len, size_t pay, const char *want)
{
	struct cl_imsg m;
	char err[256];

	pair(true);
	raw(type, flags, len, pay);
	CHECK_INT_EQ(recv1(&m, err, sizeof(err)), CL_ERR_FORMAT);
	if (strstr(err, want) == NULL)
		cl_test_fail(__FILE__, __LINE__, "'%s' lacks '%s'", err, want);
	CHECK_INT_EQ(m.fd, -1);
	/* refused for good, also a good message after it */
	raw(T_FIXED, 0, 12, 12);
	CHECK_INT_EQ(cl_imsg_get(rb, &m, err, sizeof(err)), CL_ERR_FORMAT);
	CHECK_INT_EQ(cl_imsg_read(rb), CL_ERR_FORMAT);
	unpair();
}

CL_TEST(malformed_headers)
{
	refused(99, 0, 12, 12, "unexpected message type 99 (length 12)");
	refused(0, 0, 0, 0, "unexpected message type 0 (length 0)");
	refused(T_FIXED, 0, 11, 11, "type 1 (fixed) of length 11: expected 12");
	refused(T_FIXED, 0, 13, 13, "type 1 (fixed) of length 13: expected 12");
	refused(T_FIXED, 0, 0, 0, "of length 0: expected 12");
	refused(T_EMPTY, 0, 1, 1, "type 4 (empty) of length 1: expected 0");
	refused(T_LIST, 0, 0, 0,
	    "type 2 (list) of length 0: expected 32..256, a multiple of 32");
	refused(T_LIST, 0, 33, 33, "of length 33: expected 32..256");
	refused(T_LIST, 0, 288, 0, "of length 288: expected 32..256");
	/* refused from the header alone: no 4 GiB wait */
	refused(T_LIST, 0, 0xffffffffu, 0, "of length 4294967295");
	refused(T_BIG, 0, 0xffffffffu, 0, "type 5 (big) of length 4294967295");
	refused(T_FIXED, 0x8000, 12, 12, "unknown flags 0x8000");
	refused(T_FIXED, CL_IMSG_F_FD, 12, 12, "an unexpected descriptor");
	refused(T_FD, 0, 4, 4, "type 3 (fd) of length 4: no descriptor");
	/* the flag set, but no descriptor came with it */
	refused(T_FD, CL_IMSG_F_FD, 4, 4, "its descriptor did not arrive");
}

/* A pipe's write end goes across; the receiver writes through it. */
CL_TEST(fd_passing)
{
	int p[2], q[2], got;
	uint32_t v = 7;
	struct cl_imsg m;
	char err[256], c = 0;

	pair(true);
	CHECK(pipe(p) == 0);
	CHECK(pipe(q) == 0);
	CHECK_INT_EQ(cl_imsg_compose(wb, T_FIXED, -1, "abcdefghijkl", 12), 0);
	CHECK_INT_EQ(cl_imsg_compose(wb, T_FD, p[1], &v, 4), 0);
	v = 8;
	CHECK_INT_EQ(cl_imsg_compose(wb, T_FD, q[1], &v, 4), 0);
	CHECK_INT_EQ(cl_imsg_flush(wb), 0);
	/* sent descriptors are closed on the sending side */
	CHECK(!fd_open(p[1]));
	CHECK(!fd_open(q[1]));
	CHECK_INT_EQ(recv1(&m, err, sizeof(err)), 1);
	CHECK_INT_EQ(m.type, T_FIXED);
	CHECK_INT_EQ(m.fd, -1);
	CHECK_INT_EQ(recv1(&m, err, sizeof(err)), 1);
	CHECK_INT_EQ(m.type, T_FD);
	CHECK(m.fd >= 0);
	CHECK(fcntl(m.fd, F_GETFD) & FD_CLOEXEC);
	memcpy(&v, m.data, 4);
	CHECK_INT_EQ(v, 7);
	got = m.fd;
	CHECK(write(got, "x", 1) == 1);
	close(got);
	CHECK(read(p[0], &c, 1) == 1 && c == 'x');
	CHECK(read(p[0], &c, 1) == 0); /* no other copy of the write end */
	CHECK_INT_EQ(recv1(&m, err, sizeof(err)), 1);
	CHECK_INT_EQ(m.type, T_FD);
	memcpy(&v, m.data, 4);
	CHECK_INT_EQ(v, 8);
	CHECK(write(m.fd, "y", 1) == 1);
	close(m.fd);
	CHECK(read(q[0], &c, 1) == 1 && c == 'y');
	close(p[0]);
	close(q[0]);
	unpair();
}

/* A descriptor queued and never sent, or received and never claimed,
 * is closed by cl_imsg_free(). */
CL_TEST(fd_not_leaked)
{
	int p[2];
	uint32_t v = 1;
	char c;

	pair(true);
	CHECK(pipe(p) == 0);
	CHECK_INT_EQ(cl_imsg_compose(wb, T_FD, p[1], &v, 4), 0);
	CHECK_INT_EQ(cl_imsg_flush(wb), 0);
	CHECK(cl_imsg_read(rb) > 0);
	unpair(); /* the receiver's copy goes with it */
	CHECK(read(p[0], &c, 1) == 0);
	close(p[0]);

	pair(true);
	CHECK(pipe(p) == 0);
	CHECK_INT_EQ(cl_imsg_compose(wb, T_FD, p[1], &v, 4), 0);
	unpair(); /* queued, not sent */
	CHECK(read(p[0], &c, 1) == 0);
	close(p[0]);

	/* compose fails: the descriptor is closed all the same */
	pair(true);
	CHECK(pipe(p) == 0);
	CHECK_INT_EQ(cl_imsg_compose(wb, T_FD, p[1], NULL, CL_IMSG_MAX + 1),
	    CL_ERR_TOOBIG);
	CHECK(!fd_open(p[1]));
	close(p[0]);
	unpair();
}

/* A message larger than the socket takes: flush says AGAIN, the reader
 * reads, the writer goes on. */
CL_TEST(nonblocking_big)
{
	size_t n = 1024 * 1024, i;
	uint8_t *big;
	struct cl_imsg m;
	char err[256];
	int r, w = CL_ERR_AGAIN, got = 0, rounds = 0;

	pair(true);
	CHECK((big = malloc(n)) != NULL);
	for (i = 0; i < n; i++)
		big[i] = (uint8_t)(i * 31 + 1);
	CHECK_INT_EQ(cl_imsg_compose(wb, T_BIG, -1, big, n), 0);
	CHECK_INT_EQ(cl_imsg_compose(wb, T_EMPTY, -1, NULL, 0), 0);
	CHECK_INT_EQ(cl_imsg_flush(wb), CL_ERR_AGAIN);
	while (got < 2) {
		CHECK(++rounds < 100000);
		if (w != 0)
			w = cl_imsg_flush(wb);
		CHECK(w == 0 || w == CL_ERR_AGAIN);
		r = cl_imsg_read(rb);
		CHECK(r > 0 || r == CL_ERR_AGAIN || r == CL_ERR_FULL);
		while ((r = cl_imsg_get(rb, &m, err, sizeof(err))) == 1) {
			if (got == 0) {
				CHECK_INT_EQ(m.type, T_BIG);
				CHECK_INT_EQ(m.len, n);
				CHECK_MEM_EQ(m.data, big, n);
			} else
				CHECK_INT_EQ(m.type, T_EMPTY);
			got++;
		}
		CHECK_INT_EQ(r, 0);
	}
	CHECK_INT_EQ(w, 0);
	free(big);
	unpair();
}

/* A blocking request and answer, as the MDF asks its signer. */
CL_TEST(wait_blocking)
{
	struct cl_imsg m;
	char err[256];
	uint8_t h[64];

	pair(false);
	memset(h, 1, sizeof(h));
	/* the answer is already there when we ask */
	CHECK_INT_EQ(cl_imsg_compose(rb, T_FIXED, -1, "0123456789ab", 12), 0);
	CHECK_INT_EQ(cl_imsg_flush(rb), 0);
	CHECK_INT_EQ(cl_imsg_compose(wb, T_LIST, -1, h, sizeof(h)), 0);
	CHECK_INT_EQ(cl_imsg_wait(wb, &m, err, sizeof(err)), 1);
	CHECK_INT_EQ(m.type, T_FIXED);
	CHECK_INT_EQ(cl_imsg_wait(rb, &m, err, sizeof(err)), 1);
	CHECK_INT_EQ(m.type, T_LIST);
	CHECK_INT_EQ(m.len, 64);
	close(sv[0]);
	sv[0] = -1;
	CHECK_INT_EQ(cl_imsg_wait(wb, &m, err, sizeof(err)), CL_ERR_CLOSED);
	CHECK(strstr(err, "closed") != NULL);
	unpair();
}

/* The state machine: a type off is refused until permitted; a type
 * once is refused after its first message. */
CL_TEST(permit_and_once)
{
	static const struct cl_imsg_type st[] = {
	    {1, "hello", 0, 0, 0, false, CL_IMSG_T_ONCE},
	    {2, "answer", 4, 4, 0, false, CL_IMSG_T_OFF},
	};
	struct cl_imsgbuf *r = NULL;
	struct cl_imsg m;
	char err[256];
	int p[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p) == 0);
	CHECK_INT_EQ(cl_imsg_new(p[0], st, 2, &r), 0);
	CHECK_INT_EQ(cl_imsg_permit(r, 9, true), CL_ERR_NOT_FOUND);
	/* hello once: fine */
	CHECK(write(p[1], "\x01\0\0\0\0\0\0\0", 8) == 8);
	CHECK(cl_imsg_read(r) > 0);
	CHECK_INT_EQ(cl_imsg_get(r, &m, err, sizeof(err)), 1);
	CHECK_INT_EQ(m.type, 1);
	/* an answer while none is permitted */
	CHECK(write(p[1], "\x02\0\0\0\x04\0\0\0abcd", 12) == 12);
	CHECK(cl_imsg_read(r) > 0);
	CHECK_INT_EQ(cl_imsg_get(r, &m, err, sizeof(err)), CL_ERR_FORMAT);
	CHECK(strstr(err, "type 2 (answer) of length 4: not permitted now") !=
	    NULL);
	cl_imsg_free(r);
	close(p[0]);
	close(p[1]);

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p) == 0);
	CHECK_INT_EQ(cl_imsg_new(p[0], st, 2, &r), 0);
	CHECK_INT_EQ(cl_imsg_permit(r, 2, true), 0);
	CHECK(write(p[1], "\x02\0\0\0\x04\0\0\0abcd", 12) == 12);
	CHECK(write(p[1], "\x01\0\0\0\0\0\0\0", 8) == 8);
	CHECK(write(p[1], "\x01\0\0\0\0\0\0\0", 8) == 8);
	CHECK(cl_imsg_read(r) > 0);
	CHECK_INT_EQ(cl_imsg_get(r, &m, err, sizeof(err)), 1);
	CHECK_INT_EQ(m.type, 2);
	CHECK_INT_EQ(cl_imsg_get(r, &m, err, sizeof(err)), 1);
	CHECK_INT_EQ(m.type, 1);
	/* a second hello */
	CHECK_INT_EQ(cl_imsg_get(r, &m, err, sizeof(err)), CL_ERR_FORMAT);
	CHECK(strstr(err, "type 1 (hello) of length 0: not permitted now") !=
	    NULL);
	cl_imsg_free(r);
	close(p[0]);
	close(p[1]);
}

/* One exchange with a descriptor: every allocation may fail, and a
 * failure is CL_ERR_NOMEM with nothing leaked (no memory, no
 * descriptor). */
static int
exchange(void *arg)
{
	struct cl_imsgbuf *w = NULL, *r = NULL;
	struct cl_imsg m;
	uint8_t list[64];
	char err[256];
	int p[2], q[2], ret = CL_ERR_INTERNAL, n = 0, x;
	uint32_t v = 5;

	(void)arg;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p) != 0)
		return CL_ERR_SYSTEM;
	if (pipe(q) != 0) {
		close(p[0]);
		close(p[1]);
		return CL_ERR_SYSTEM;
	}
	memset(list, 3, sizeof(list));
	if ((x = cl_imsg_new(p[1], types, NTYPES, &w)) != 0 ||
	    (x = cl_imsg_new(p[0], types, NTYPES, &r)) != 0 ||
	    (x = cl_imsg_compose(w, T_LIST, -1, list, sizeof(list))) != 0) {
		close(q[1]); /* not handed over yet */
		ret = x;
		goto out;
	}
	/* from here on the buffer owns q[1], also if compose fails */
	if ((x = cl_imsg_compose(w, T_FD, q[1], &v, 4)) != 0 ||
	    (x = cl_imsg_compose(w, T_EMPTY, -1, NULL, 0)) != 0 ||
	    (x = cl_imsg_flush(w)) != 0 || (x = cl_imsg_read(r)) < 0) {
		ret = x;
		goto out;
	}
	while ((x = cl_imsg_get(r, &m, err, sizeof(err))) == 1) {
		if (m.fd >= 0)
			close(m.fd);
		n++;
	}
	ret = x == 0 && n == 3 ? 0 : CL_ERR_INTERNAL;
out:
	cl_imsg_free(w);
	cl_imsg_free(r);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	return ret;
}

CL_TEST(allocation_failures)
{
	int fds_before = 0, fds_after = 0, fd;

	for (fd = 0; fd < 256; fd++)
		fds_before += fcntl(fd, F_GETFD) >= 0;
	CHECK(cl_test_alloc_loop("imsg exchange", exchange, NULL) > 3);
	for (fd = 0; fd < 256; fd++)
		fds_after += fcntl(fd, F_GETFD) >= 0;
	CHECK_INT_EQ(fds_after, fds_before);
}

CL_TEST(bad_tables)
{
	static const struct cl_imsg_type nomult[] = {{1, "x", 1, 10, 0, false}};
	static const struct cl_imsg_type minmax[] = {{1, "x", 10, 1, 1, false}};
	static const struct cl_imsg_type huge[] = {
	    {1, "x", 0, CL_IMSG_MAX + 1, 1, false}};
	struct cl_imsgbuf *b = NULL;

	CHECK_INT_EQ(cl_imsg_new(0, nomult, 1, &b), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(cl_imsg_new(0, minmax, 1, &b), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(cl_imsg_new(0, huge, 1, &b), CL_ERR_INVALID_ARG);
	CHECK(b == NULL);
	cl_imsg_free(NULL);
}

int
main(void)
{
	CL_RUN(roundtrip);
	CL_RUN(partial_reads);
	CL_RUN(malformed_headers);
	CL_RUN(fd_passing);
	CL_RUN(fd_not_leaked);
	CL_RUN(nonblocking_big);
	CL_RUN(wait_blocking);
	CL_RUN(permit_and_once);
	CL_RUN(allocation_failures);
	CL_RUN(bad_tables);
	return cl_test_done();
}
