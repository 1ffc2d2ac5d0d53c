/* SPDX-License-Identifier: ISC */
/*
 * lib/ring: records come out in order and intact, across the wrap and
 * across processes; a full ring refuses and wakes the writer when room
 * is made; a sleeping reader is woken once per publish, a busy one not
 * at all; a writer that breaks the format is caught.
 */
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "harness.h"
#include "ring.h"

static bool
readable(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

static void
fill(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 31 + i);
}

static bool
same(const uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (uint8_t)(seed * 31 + i))
			return false;
	return true;
}

CL_TEST(order_and_wrap)
{
	struct cl_ring *r;
	const uint8_t *p;
	uint8_t *w;
	uint32_t type, next = 0, i;
	size_t len;

	CHECK(cl_ring_new(4096, &r) == 0);
	/* Many times round a small ring, lengths that do not divide it. */
	for (i = 0; i < 5000; i++) {
		size_t l = (i * 37) % 700;

		while ((w = cl_ring_reserve(r, l)) == NULL) {
			cl_ring_publish(r);
			CHECK(cl_ring_peek(r, &type, &p, &len) == 1);
			CHECK(type == 7 && len == (next * 37) % 700);
			CHECK(same(p, len, next));
			cl_ring_consume(r);
			cl_ring_release(r);
			next++;
		}
		fill(w, l, i);
		cl_ring_commit(r, 7, l);
	}
	cl_ring_publish(r);
	while (cl_ring_peek(r, &type, &p, &len) == 1) {
		CHECK(len == (next * 37) % 700 && same(p, len, next));
		cl_ring_consume(r);
		next++;
	}
	cl_ring_release(r);
	CHECK(next == 5000);
	CHECK(cl_ring_used(r) == 0);
	/* Larger than half the ring: never. */
	CHECK(cl_ring_reserve(r, cl_ring_max_record(r) + 1) == NULL);
	CHECK(cl_ring_reserve(r, cl_ring_max_record(r)) != NULL);
	cl_ring_free(r);
}

CL_TEST(unpublished_is_unseen)
{
	struct cl_ring *r;
	const uint8_t *p;
	uint32_t type;
	size_t len;

	CHECK(cl_ring_new(4096, &r) == 0);
	CHECK(cl_ring_reserve(r, 10) != NULL);
	cl_ring_commit(r, 1, 10);
	CHECK(cl_ring_peek(r, &type, &p, &len) == 0);
	cl_ring_publish(r);
	CHECK(cl_ring_peek(r, &type, &p, &len) == 1 && len == 10);
	cl_ring_free(r);
}

CL_TEST(wake_ups_batched)
{
	struct cl_ring *r;
	const uint8_t *p;
	uint32_t type;
	size_t len, n = 0;

	CHECK(cl_ring_new(4096, &r) == 0);
	/* A reader that is not asleep gets no wake-up. */
	CHECK(cl_ring_reserve(r, 8) != NULL);
	cl_ring_commit(r, 1, 8);
	cl_ring_publish(r);
	CHECK(!readable(cl_ring_data_fd(r)));
	/* Data there: it may not sleep. */
	CHECK(!cl_ring_sleep(r));
	CHECK(cl_ring_peek(r, &type, &p, &len) == 1);
	cl_ring_consume(r);
	cl_ring_release(r);
	/* Empty: it sleeps, and the next publish wakes it, once. */
	CHECK(cl_ring_sleep(r));
	CHECK(!readable(cl_ring_data_fd(r)));
	CHECK(cl_ring_reserve(r, 8) != NULL);
	cl_ring_commit(r, 1, 8);
	cl_ring_publish(r);
	CHECK(readable(cl_ring_data_fd(r)));
	cl_ring_clear(cl_ring_data_fd(r));
	CHECK(cl_ring_reserve(r, 8) != NULL);
	cl_ring_commit(r, 1, 8);
	cl_ring_publish(r);
	CHECK(!readable(cl_ring_data_fd(r)));

	/* Full: the writer is told to wait, and woken by a release. */
	while (cl_ring_reserve(r, 100) != NULL) {
		cl_ring_commit(r, 1, 100);
		n++;
	}
	CHECK(n > 20);
	cl_ring_publish(r);
	CHECK(cl_ring_wait_space(r, 100));
	CHECK(!readable(cl_ring_space_fd(r)));
	CHECK(cl_ring_peek(r, &type, &p, &len) == 1);
	cl_ring_consume(r);
	CHECK(!readable(cl_ring_space_fd(r))); /* not released yet */
	cl_ring_release(r);
	CHECK(readable(cl_ring_space_fd(r)));
	cl_ring_free(r);
}

CL_TEST(broken_writer_is_caught)
{
	struct cl_ring *r;
	const uint8_t *p;
	uint32_t type;
	size_t len;

	/* A record that says more than it reserved: still read inside
	 * what was published (its octets are the writer's business). */
	CHECK(cl_ring_new(4096, &r) == 0);
	CHECK(cl_ring_reserve(r, 8) != NULL);
	cl_ring_commit(r, 1, 8);
	cl_ring_publish(r);
	CHECK(cl_ring_reserve(r, 8) != NULL);
	cl_ring_commit(r, 1, 1500);
	CHECK(cl_ring_peek(r, &type, &p, &len) == 1);
	cl_ring_consume(r);
	cl_ring_publish(r);
	CHECK(cl_ring_peek(r, &type, &p, &len) == 1 && len == 1500);
	cl_ring_consume(r);
	/* One longer than a record may be: refused. */
	CHECK(cl_ring_reserve(r, 8) != NULL);
	cl_ring_commit(r, 1, 3000);
	cl_ring_publish(r);
	CHECK(cl_ring_peek(r, &type, &p, &len) == CL_ERR_FORMAT);
	cl_ring_free(r);
}

CL_TEST(attach_checks_the_memory)
{
	struct cl_ring *r;
	int fds[CL_RING_FDS];

	/* Not sealed: refused (a peer could shrink it under us). */
	CHECK((fds[0] = memfd_create("x", MFD_CLOEXEC)) >= 0);
	CHECK(ftruncate(fds[0], 256 + 4096) == 0);
	fds[1] = dup(0);
	fds[2] = dup(0);
	CHECK(cl_ring_attach(fds, &r) == CL_ERR_FORMAT);
	close(fds[0]);
}

#define XPROC_N 200000

CL_TEST(across_processes)
{
	struct cl_ring *r, *c;
	int fds[CL_RING_FDS], dfds[CL_RING_FDS], st, i;
	const uint8_t *p;
	uint32_t type, next = 0;
	size_t len;
	pid_t pid;

	CHECK(cl_ring_new(65536, &r) == 0);
	cl_ring_fds(r, fds);
	for (i = 0; i < CL_RING_FDS; i++)
		CHECK((dfds[i] = dup(fds[i])) >= 0);
	fflush(NULL);
	CHECK((pid = fork()) >= 0);
	if (pid == 0) {
		uint32_t k;
		uint8_t *w;

		if (cl_ring_attach(dfds, &c) != 0)
			_exit(2);
		for (k = 0; k < XPROC_N; k++) {
			size_t l = 1 + (k * 13) % 1500;

			while ((w = cl_ring_reserve(c, l)) == NULL) {
				struct pollfd pf = {
				    cl_ring_space_fd(c), POLLIN, 0};

				cl_ring_publish(c);
				if (!cl_ring_wait_space(c, l))
					continue;
				if (poll(&pf, 1, 10000) != 1)
					_exit(3);
				cl_ring_clear(pf.fd);
			}
			fill(w, l, k);
			cl_ring_commit(c, 1, l);
			if (k % 64 == 0)
				cl_ring_publish(c);
		}
		if ((w = cl_ring_reserve(c, 0)) == NULL)
			_exit(4); /* room was checked by the reader's drain */
		cl_ring_commit(c, 2, 0);
		cl_ring_publish(c);
		_exit(0);
	}
	for (i = 0; i < CL_RING_FDS; i++)
		close(dfds[i]);
	for (;;) {
		int n = cl_ring_peek(r, &type, &p, &len);

		CHECK(n >= 0);
		if (n == 0) {
			struct pollfd pf = {cl_ring_data_fd(r), POLLIN, 0};

			cl_ring_release(r);
			if (!cl_ring_sleep(r))
				continue;
			CHECK(poll(&pf, 1, 10000) == 1);
			cl_ring_clear(pf.fd);
			continue;
		}
		if (type == 2)
			break;
		CHECK(len == 1 + (next * 13) % 1500);
		if (!same(p, len, next))
			cl_test_fail(
			    __FILE__, __LINE__, "record %u differs", next);
		cl_ring_consume(r);
		next++;
		if (next % 100 == 0)
			cl_ring_release(r);
	}
	CHECK(next == XPROC_N);
	CHECK(waitpid(pid, &st, 0) == pid);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	cl_ring_free(r);
}

int
main(void)
{
	CL_RUN(order_and_wrap);
	CL_RUN(unpublished_is_unseen);
	CL_RUN(wake_ups_batched);
	CL_RUN(broken_writer_is_caught);
	CL_RUN(attach_checks_the_memory);
	CL_RUN(across_processes);
	return cl_test_done();
}
