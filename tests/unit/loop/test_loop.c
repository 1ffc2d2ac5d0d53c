/* SPDX-License-Identifier: ISC */
/*
 * Tests for lib/loop: descriptor events (read, write, kick, a watcher
 * freed in its own callback), one-shot and periodic timers, signals
 * delivered as callbacks, stop, a poll()-style component driven by a
 * pollset, and the worker queue: jobs run off the loop's thread, done()
 * callbacks come in the order pushed even when later jobs end first,
 * both standalone (poll on its descriptor) and attached to a loop.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "harness.h"
#include "loop.h"

static struct cl_loop *
loop_new(void)
{
	struct cl_loop *l;

	CHECK_INT_EQ(cl_loop_new(&l), 0);
	return l;
}

/* A timer that ends a test that would otherwise hang. */
static void
on_guard(void *arg)
{
	int *fired = arg;

	*fired = 1;
	cl_test_fail(__FILE__, __LINE__, "the loop did not stop in time");
}

struct io_state {
	struct cl_loop *l;
	struct cl_loop_io *io;
	int reads, writes, kicks;
	unsigned last;
	char got[16];
	size_t ngot;
};

static void
on_io(void *arg, int fd, unsigned what)
{
	struct io_state *s = arg;
	ssize_t n;

	s->last = what;
	if (what & CL_LOOP_WRITE) {
		s->writes++;
		CHECK_INT_EQ(write(fd, "ping", 4), 4);
		CHECK_INT_EQ(cl_loop_io_set(s->io, CL_LOOP_READ), 0);
	}
	if (what & CL_LOOP_READ) {
		s->reads++;
		n = read(fd, s->got + s->ngot, sizeof(s->got) - s->ngot);
		CHECK(n > 0);
		s->ngot += (size_t)n;
		if (s->ngot >= 4)
			cl_loop_stop(s->l);
	}
}

static void
on_echo(void *arg, int fd, unsigned what)
{
	char b[16];
	ssize_t n;

	(void)arg;
	CHECK(what & CL_LOOP_READ);
	n = read(fd, b, sizeof(b));
	CHECK(n > 0);
	CHECK_INT_EQ(write(fd, b, (size_t)n), n);
}

/* A write watch fires on a writable socket, the peer echoes, the read
 * watch brings the echo back, and stop ends the loop. */
CL_TEST(io_read_write)
{
	struct cl_loop *l = loop_new();
	struct io_state s = {.l = l};
	struct cl_loop_io *echo;
	struct cl_loop_timer *guard;
	int sv[2], fired = 0;

	CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK((s.io = cl_loop_io_new(l, sv[0], on_io, &s)) != NULL);
	CHECK((echo = cl_loop_io_new(l, sv[1], on_echo, NULL)) != NULL);
	CHECK((guard = cl_loop_timer_new(l, on_guard, &fired)) != NULL);
	CHECK_INT_EQ(cl_loop_timer_after(guard, 10000), 0);
	CHECK_INT_EQ(cl_loop_io_set(s.io, CL_LOOP_WRITE), 0);
	CHECK_INT_EQ(cl_loop_io_get(s.io), CL_LOOP_WRITE);
	CHECK_INT_EQ(cl_loop_io_set(echo, CL_LOOP_READ), 0);
	CHECK_INT_EQ(cl_loop_run(l), 0);
	CHECK_INT_EQ(s.writes, 1);
	CHECK(s.reads >= 1);
	CHECK_INT_EQ(s.ngot, 4);
	CHECK_MEM_EQ(s.got, "ping", 4);
	CHECK_INT_EQ(fired, 0);

	/* A kick calls back with no byte on the descriptor. */
	s.ngot = 0;
	cl_loop_io_kick(s.io, CL_LOOP_WRITE);
	CHECK_INT_EQ(cl_loop_run(l), 0);
	CHECK_INT_EQ(s.writes, 2);

	cl_loop_timer_free(guard);
	cl_loop_io_free(echo);
	cl_loop_io_free(s.io);
	cl_loop_free(l);
	close(sv[0]);
	close(sv[1]);
}

struct self_free {
	struct cl_loop_io *io;
	int calls;
};

static void
on_self_free(void *arg, int fd, unsigned what)
{
	struct self_free *s = arg;

	(void)fd;
	(void)what;
	s->calls++;
	cl_loop_io_free(s->io);
	s->io = NULL;
}

/* A watcher freed in its own callback is not called again, and a loop
 * with nothing left to watch returns by itself. */
CL_TEST(io_free_in_callback)
{
	struct cl_loop *l = loop_new();
	struct self_free s = {0};
	int sv[2];

	CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_INT_EQ(write(sv[1], "x", 1), 1);
	CHECK((s.io = cl_loop_io_new(l, sv[0], on_self_free, &s)) != NULL);
	CHECK_INT_EQ(cl_loop_io_set(s.io, CL_LOOP_READ), 0);
	CHECK_INT_EQ(cl_loop_run(l), 0);
	CHECK_INT_EQ(s.calls, 1);
	cl_loop_free(l);
	close(sv[0]);
	close(sv[1]);
}

struct timers {
	struct cl_loop *l;
	struct cl_loop_timer *once, *every;
	uint64_t t0, once_at;
	int once_n, every_n;
	char order[8];
	size_t norder;
};

static void
on_once(void *arg)
{
	struct timers *t = arg;

	t->once_n++;
	t->once_at = cl_loop_now_ms();
	if (t->norder < sizeof(t->order))
		t->order[t->norder++] = 'o';
}

static void
on_every(void *arg)
{
	struct timers *t = arg;

	t->every_n++;
	if (t->norder < sizeof(t->order))
		t->order[t->norder++] = 'e';
	if (t->every_n == 5) {
		CHECK(cl_loop_timer_cancel(t->every));
		CHECK(!cl_loop_timer_cancel(t->every));
	}
}

/* A one-shot timer fires once and not before its time; a periodic one
 * fires until cancelled; then the loop, with nothing armed, returns. */
CL_TEST(timers)
{
	struct timers t = {0};

	t.l = loop_new();
	CHECK((t.once = cl_loop_timer_new(t.l, on_once, &t)) != NULL);
	CHECK((t.every = cl_loop_timer_new(t.l, on_every, &t)) != NULL);
	CHECK_INT_EQ(cl_loop_timer_every(t.every, 0), CL_ERR_INVALID_ARG);
	t.t0 = cl_loop_now_ms();
	CHECK_INT_EQ(cl_loop_timer_after(t.once, 30), 0);
	CHECK_INT_EQ(cl_loop_timer_every(t.every, 10), 0);
	CHECK_INT_EQ(cl_loop_run(t.l), 0);
	CHECK_INT_EQ(t.once_n, 1);
	CHECK_INT_EQ(t.every_n, 5);
	CHECK(t.once_at >= t.t0 + 30);
	/* Re-arming replaces the former setting. */
	CHECK_INT_EQ(cl_loop_timer_after(t.once, 10000), 0);
	CHECK_INT_EQ(cl_loop_timer_after(t.once, 1), 0);
	CHECK_INT_EQ(cl_loop_run(t.l), 0);
	CHECK_INT_EQ(t.once_n, 2);
	CHECK(cl_loop_now_ms() < t.once_at + 5000);
	cl_loop_timer_free(t.once);
	cl_loop_timer_free(t.every);
	cl_loop_free(t.l);
}

struct soon {
	struct cl_loop_timer *a, *b;
	int a_n, b_n;
	bool b_after_a;
};

static void
on_soon_a(void *arg)
{
	struct soon *s = arg;

	s->a_n++;
	CHECK_INT_EQ(cl_loop_timer_after(s->b, 10000), 0);
	cl_loop_timer_soon(s->b);
	cl_loop_timer_soon(s->b);
	cl_loop_timer_soon(s->b);
	CHECK_INT_EQ(s->b_n, 0); /* not from inside this callback */
}

static void
on_soon_b(void *arg)
{
	struct soon *s = arg;

	s->b_n++;
	s->b_after_a = s->a_n == 1;
}

/* "Soon": once however often asked, after the callback that asked, and
 * the timer's former setting is gone (the loop then has nothing left and
 * returns at once rather than after 10 s). */
CL_TEST(timer_soon)
{
	struct cl_loop *l = loop_new();
	struct soon s = {0};
	uint64_t t0;

	CHECK((s.a = cl_loop_timer_new(l, on_soon_a, &s)) != NULL);
	CHECK((s.b = cl_loop_timer_new(l, on_soon_b, &s)) != NULL);
	CHECK_INT_EQ(cl_loop_timer_after(s.a, 1), 0);
	t0 = cl_loop_now_ms();
	CHECK_INT_EQ(cl_loop_run(l), 0);
	CHECK_INT_EQ(s.a_n, 1);
	CHECK_INT_EQ(s.b_n, 1);
	CHECK(s.b_after_a);
	CHECK(!cl_loop_timer_cancel(s.b));
	CHECK(cl_loop_now_ms() < t0 + 5000);
	cl_loop_timer_free(s.a);
	cl_loop_timer_free(s.b);
	cl_loop_free(l);
}

struct sigs {
	struct cl_loop *l;
	int term, hup, chld, usr1;
};

static void
on_sig(void *arg, int sig)
{
	struct sigs *s = arg;

	if (sig == SIGTERM)
		s->term++;
	else if (sig == SIGHUP)
		s->hup++;
	else if (sig == SIGCHLD)
		s->chld++;
	else if (sig == SIGUSR1)
		s->usr1++;
	if (s->term > 0 && s->hup > 0 && s->chld > 0 && s->usr1 > 0)
		cl_loop_stop(s->l);
}

static void
raise_all(void *arg)
{
	pid_t pid;

	(void)arg;
	CHECK_INT_EQ(raise(SIGHUP), 0);
	CHECK_INT_EQ(kill(getpid(), SIGUSR1), 0);
	CHECK_INT_EQ(raise(SIGTERM), 0);
	CHECK((pid = fork()) >= 0);
	if (pid == 0)
		_exit(0);
}

/* Signals arrive as callbacks in the loop (a child's end as SIGCHLD),
 * one watcher per signal, and the former dispositions come back when
 * the loop is freed. */
CL_TEST(signals)
{
	struct sigs s = {0};
	struct cl_loop_timer *t, *guard;
	struct sigaction sa;
	int fired = 0;

	s.l = loop_new();
	CHECK_INT_EQ(cl_loop_signal(s.l, SIGTERM, on_sig, &s), 0);
	CHECK_INT_EQ(cl_loop_signal(s.l, SIGTERM, on_sig, &s), CL_ERR_EXISTS);
	CHECK_INT_EQ(cl_loop_signal(s.l, SIGHUP, on_sig, &s), 0);
	CHECK_INT_EQ(cl_loop_signal(s.l, SIGCHLD, on_sig, &s), 0);
	CHECK_INT_EQ(cl_loop_signal(s.l, SIGUSR1, on_sig, &s), 0);
	CHECK((t = cl_loop_timer_new(s.l, raise_all, NULL)) != NULL);
	CHECK((guard = cl_loop_timer_new(s.l, on_guard, &fired)) != NULL);
	CHECK_INT_EQ(cl_loop_timer_after(t, 0), 0);
	CHECK_INT_EQ(cl_loop_timer_after(guard, 10000), 0);
	CHECK_INT_EQ(cl_loop_run(s.l), 0);
	CHECK(s.term >= 1 && s.hup >= 1 && s.chld >= 1 && s.usr1 >= 1);
	cl_loop_timer_free(t);
	cl_loop_timer_free(guard);
	cl_loop_free(s.l);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	CHECK_INT_EQ(sigaction(SIGTERM, NULL, &sa), 0);
	CHECK(sa.sa_handler == SIG_DFL);
}

/* ---- pollset ---- */

struct comp {
	int fd;       /* read when readable */
	uint64_t due; /* a deadline, or 0 */
	int fills, reads, deadlines;
	struct cl_loop *l;
};

static size_t
comp_fill(
    void *arg, struct pollfd *pfd, size_t max, uint64_t now, uint64_t *next)
{
	struct comp *c = arg;

	(void)now;
	CHECK(max >= 1);
	c->fills++;
	if (c->due != 0 && c->due < *next)
		*next = c->due;
	pfd[0].fd = c->fd;
	pfd[0].events = POLLIN;
	return 1;
}

static void
comp_handle(void *arg, struct pollfd *pfd, size_t n, uint64_t now)
{
	struct comp *c = arg;
	char b[8];

	CHECK_INT_EQ(n, 1);
	if (pfd[0].revents & POLLIN) {
		CHECK(read(c->fd, b, sizeof(b)) > 0);
		c->reads++;
	}
	if (c->due != 0 && now >= c->due) {
		c->deadlines++;
		c->due = 0;
	}
	if (c->reads >= 2 && c->deadlines >= 1)
		cl_loop_stop(c->l);
}

static void
poke(void *arg)
{
	int *fd = arg;

	CHECK_INT_EQ(write(*fd, "y", 1), 1);
}

/* A poll()-style component gets its descriptor's events and its
 * deadline, and says again what it wants after each round. */
CL_TEST(pollset)
{
	struct comp c = {0};
	struct cl_loop_pollset *ps;
	struct cl_loop_timer *t, *guard;
	int sv[2], fired = 0;

	c.l = loop_new();
	CHECK_INT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c.fd = sv[0];
	c.due = cl_loop_now_ms() + 20;
	CHECK_INT_EQ(write(sv[1], "x", 1), 1);
	CHECK((ps = cl_loop_pollset_new(c.l, 4, comp_fill, comp_handle, &c)) !=
	    NULL);
	CHECK_INT_EQ(cl_loop_pollset_arm(ps), 0);
	CHECK((t = cl_loop_timer_new(c.l, poke, &sv[1])) != NULL);
	CHECK_INT_EQ(cl_loop_timer_after(t, 40), 0);
	CHECK((guard = cl_loop_timer_new(c.l, on_guard, &fired)) != NULL);
	CHECK_INT_EQ(cl_loop_timer_after(guard, 10000), 0);
	CHECK_INT_EQ(cl_loop_run(c.l), 0);
	CHECK_INT_EQ(c.reads, 2);
	CHECK_INT_EQ(c.deadlines, 1);
	CHECK(c.fills >= 3);
	cl_loop_pollset_free(ps);
	cl_loop_timer_free(t);
	cl_loop_timer_free(guard);
	cl_loop_free(c.l);
	close(sv[0]);
	close(sv[1]);
}

/* ---- worker queue ---- */

struct job {
	struct cl_work w; /* first: the container cast */
	int id;
	int gate_fd;   /* read one byte before ending, or -1 */
	pthread_t ran; /* the thread run() ran in */
};

static int done_order[64];
static size_t ndone;
static struct cl_loop *done_loop;
static unsigned done_stop_at;
static int nended; /* jobs whose run() returned, atomic */

static int
job_run(struct cl_work *w)
{
	struct job *j = (struct job *)w;
	char b;

	j->ran = pthread_self();
	if (j->gate_fd >= 0 && read(j->gate_fd, &b, 1) != 1)
		return -errno;
	__atomic_add_fetch(&nended, 1, __ATOMIC_SEQ_CST);
	return j->id * 10;
}

static void
job_done(struct cl_work *w, int result)
{
	struct job *j = (struct job *)w;

	CHECK_INT_EQ(result, j->id * 10);
	CHECK(pthread_equal(j->ran, pthread_self()) == 0);
	if (ndone < 64)
		done_order[ndone++] = j->id;
	if (done_loop != NULL && ndone == done_stop_at)
		cl_loop_stop(done_loop);
}

/* Standalone: four workers; job 0 waits for a byte that is sent only
 * once jobs 1..7 have ended, yet done() comes for 0, 1, ..., 7 in that
 * order, and nothing before job 0 ended. */
CL_TEST(workq_in_order)
{
	struct cl_workq *q;
	struct job j[8];
	struct pollfd pfd;
	int gate[2], i;

	CHECK_INT_EQ(cl_workq_new(0, &q), CL_ERR_INVALID_ARG);
	CHECK_INT_EQ(cl_workq_new(4, &q), 0);
	CHECK_INT_EQ(pipe(gate), 0);
	ndone = 0;
	nended = 0;
	done_loop = NULL;
	for (i = 0; i < 8; i++) {
		memset(&j[i], 0, sizeof(j[i]));
		j[i].w.run = job_run;
		j[i].w.done = job_done;
		j[i].id = i;
		j[i].gate_fd = i == 0 ? gate[0] : -1;
		cl_workq_push(q, &j[i].w);
	}
	CHECK_INT_EQ(cl_workq_pending(q), 8);
	/* Jobs 1..7 end (their events come), job 0 holds them back. */
	for (i = 0; i < 1000 && __atomic_load_n(&nended, __ATOMIC_SEQ_CST) < 7;
	     i++) {
		pfd.fd = cl_workq_fd(q);
		pfd.events = POLLIN;
		CHECK(poll(&pfd, 1, 10) >= 0);
		CHECK_INT_EQ(cl_workq_collect(q), 0);
		CHECK_INT_EQ(ndone, 0);
	}
	CHECK_INT_EQ(__atomic_load_n(&nended, __ATOMIC_SEQ_CST), 7);
	CHECK_INT_EQ(cl_workq_collect(q), 0);
	CHECK_INT_EQ(cl_workq_pending(q), 8);
	/* Their ends are counted, not lost: the descriptor is quiet until
	 * job 0 ends. */
	CHECK_INT_EQ(poll(&pfd, 1, 0), 0);
	CHECK_INT_EQ(write(gate[1], "g", 1), 1);
	pfd.fd = cl_workq_fd(q);
	pfd.events = POLLIN;
	CHECK_INT_EQ(poll(&pfd, 1, 10000), 1);
	(void)cl_workq_wait(q);
	CHECK_INT_EQ(ndone, 8);
	for (i = 0; i < 8; i++)
		CHECK_INT_EQ(done_order[i], i);
	CHECK_INT_EQ(cl_workq_pending(q), 0);
	/* Collected: the descriptor does not stay readable (a poll loop
	 * would spin). */
	pfd.revents = 0;
	CHECK_INT_EQ(poll(&pfd, 1, 0), 0);
	CHECK_INT_EQ(cl_workq_collect(q), 0);
	cl_workq_free(q);
	close(gate[0]);
	close(gate[1]);
}

/* Attached to a loop: done() runs in the loop, in order; a job pushed
 * again from its done() runs again; free waits for what is left. */
static int again_left;
static struct cl_workq *again_q;

static void
again_done(struct cl_work *w, int result)
{
	job_done(w, result);
	if (again_left-- > 0)
		cl_workq_push(again_q, w);
}

CL_TEST(workq_on_loop)
{
	struct cl_loop *l = loop_new();
	struct cl_loop_timer *guard;
	struct cl_workq *q;
	struct job j[3];
	int i, fired = 0;

	CHECK_INT_EQ(cl_workq_new(1, &q), 0);
	CHECK_INT_EQ(cl_loop_workq(l, q), 0);
	CHECK((guard = cl_loop_timer_new(l, on_guard, &fired)) != NULL);
	CHECK_INT_EQ(cl_loop_timer_after(guard, 10000), 0);
	ndone = 0;
	done_loop = l;
	done_stop_at = 5;
	again_q = q;
	again_left = 2;
	for (i = 0; i < 3; i++) {
		memset(&j[i], 0, sizeof(j[i]));
		j[i].w.run = job_run;
		j[i].w.done = i == 2 ? again_done : job_done;
		j[i].id = i;
		j[i].gate_fd = -1;
		cl_workq_push(q, &j[i].w);
	}
	CHECK_INT_EQ(cl_loop_run(l), 0);
	CHECK_INT_EQ(ndone, 5);
	CHECK_INT_EQ(done_order[0], 0);
	CHECK_INT_EQ(done_order[1], 1);
	CHECK_INT_EQ(done_order[2], 2);
	CHECK_INT_EQ(done_order[3], 2);
	CHECK_INT_EQ(done_order[4], 2);
	CHECK_INT_EQ(cl_workq_pending(q), 0);

	/* Pushed and not collected: free waits and calls done(). */
	done_loop = NULL;
	j[0].w.done = job_done;
	cl_workq_push(q, &j[0].w);
	cl_loop_workq_detach(l, q);
	cl_workq_free(q);
	CHECK_INT_EQ(ndone, 6);
	cl_loop_timer_free(guard);
	cl_loop_free(l);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	CL_RUN(io_read_write);
	CL_RUN(io_free_in_callback);
	CL_RUN(timers);
	CL_RUN(timer_soon);
	CL_RUN(signals);
	CL_RUN(pollset);
	CL_RUN(workq_in_order);
	CL_RUN(workq_on_loop);
	return cl_test_done();
}
