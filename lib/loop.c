/* SPDX-License-Identifier: ISC */
/*
 * lib/loop: the daemons' event loop on libevent's core, and a queue of
 * blocking jobs for worker threads.  See loop.h.
 *
 * Only the loop's thread ever calls libevent: the workers touch their
 * job, the queue's list under its mutex and the queue's eventfd, so
 * libevent needs no locking of its own (event_core, not
 * event_pthreads).
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "err.h"
#include "loop.h"
#include "util.h"

#define MAX_SIGNALS 16
#define MAX_WORKQS  8

struct attached {
	struct cl_workq *q;
	struct event *ev;
};

struct cl_loop {
	struct event_base *base;
	struct event *sig[MAX_SIGNALS];
	int signo[MAX_SIGNALS];
	cl_loop_signal_fn *sigfn[MAX_SIGNALS];
	void *sigarg[MAX_SIGNALS];
	size_t nsig;
	struct attached wq[MAX_WORKQS];
};

struct cl_loop_io {
	struct cl_loop *l;
	struct event *ev;
	struct event *kick; /* made on the first cl_loop_io_kick() */
	unsigned kick_what;
	int fd;
	unsigned what;
	cl_loop_io_fn *fn;
	void *arg;
};

struct cl_loop_timer {
	struct cl_loop *l;
	struct event *ev;
	cl_loop_timer_fn *fn;
	void *arg;
};

struct pslot {
	struct cl_loop_pollset *ps;
	size_t i;
	struct event *ev; /* made as needed */
};

struct cl_loop_pollset {
	struct cl_loop *l;
	struct pollfd *pfd;
	struct pslot *slot; /* one per entry */
	size_t max, n, nev;
	struct event *deadline; /* the component's earliest deadline */
	struct event *dispatch; /* handle() once the round's events are in */
	bool due;
	cl_loop_fill_fn *fill;
	cl_loop_handle_fn *handle;
	void *arg;
};

uint64_t
cl_loop_now_ms(void)
{
	return cl_mono_ms();
}

static struct timeval
tv_ms(uint64_t ms)
{
	struct timeval tv;

	if (ms > (uint64_t)INT_MAX * 1000)
		ms = (uint64_t)INT_MAX * 1000;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	return tv;
}

int
cl_loop_new(struct cl_loop **lp)
{
	struct event_config *cfg;
	struct cl_loop *l;

	*lp = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return CL_ERR_NOMEM;
	/* CLOCK_MONOTONIC (not the coarse one, by which a timer could fire
	 * a little before its time), read afresh for every timer (no
	 * cached time: a timer set in a callback counts from then). */
	if ((cfg = event_config_new()) == NULL) {
		free(l);
		return CL_ERR_NOMEM;
	}
	(void)event_config_set_flag(
	    cfg, EVENT_BASE_FLAG_NO_CACHE_TIME | EVENT_BASE_FLAG_PRECISE_TIMER);
	l->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (l->base == NULL) {
		free(l);
		if (errno == 0)
			errno = ENOMEM;
		return CL_ERR_SYSTEM;
	}
	*lp = l;
	return 0;
}

void
cl_loop_free(struct cl_loop *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nsig; i++)
		event_free(l->sig[i]);
	for (i = 0; i < MAX_WORKQS; i++)
		if (l->wq[i].ev != NULL)
			event_free(l->wq[i].ev);
	event_base_free(l->base);
	free(l);
}

int
cl_loop_run(struct cl_loop *l)
{
	if (event_base_dispatch(l->base) == -1)
		return CL_ERR_SYSTEM;
	return 0;
}

void
cl_loop_stop(struct cl_loop *l)
{
	(void)event_base_loopbreak(l->base);
}

/* ---- descriptors ---- */

static void
io_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct cl_loop_io *io = arg;
	unsigned what = 0;

	if (ev & EV_READ)
		what |= CL_LOOP_READ;
	if (ev & EV_WRITE)
		what |= CL_LOOP_WRITE;
	io->fn(io->arg, (int)fd, what);
}

static void
kick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct cl_loop_io *io = arg;
	unsigned what = io->kick_what;

	(void)fd;
	(void)ev;
	io->kick_what = 0;
	io->fn(io->arg, io->fd, what);
}

struct cl_loop_io *
cl_loop_io_new(struct cl_loop *l, int fd, cl_loop_io_fn *fn, void *arg)
{
	struct cl_loop_io *io;

	if ((io = calloc(1, sizeof(*io))) == NULL)
		return NULL;
	io->l = l;
	io->fd = fd;
	io->fn = fn;
	io->arg = arg;
	if ((io->ev = event_new(l->base, fd, EV_PERSIST, io_cb, io)) == NULL) {
		free(io);
		return NULL;
	}
	return io;
}

int
cl_loop_io_set(struct cl_loop_io *io, unsigned what)
{
	short flags = EV_PERSIST;

	what &= CL_LOOP_READ | CL_LOOP_WRITE;
	if (what == io->what)
		return 0;
	(void)event_del(io->ev);
	io->what = 0;
	if (what == 0)
		return 0;
	if (what & CL_LOOP_READ)
		flags |= EV_READ;
	if (what & CL_LOOP_WRITE)
		flags |= EV_WRITE;
	if (event_assign(io->ev, io->l->base, io->fd, flags, io_cb, io) != 0 ||
	    event_add(io->ev, NULL) != 0) {
		if (errno == 0)
			errno = EINVAL;
		return CL_ERR_SYSTEM;
	}
	io->what = what;
	return 0;
}

unsigned
cl_loop_io_get(const struct cl_loop_io *io)
{
	return io->what;
}

void
cl_loop_io_kick(struct cl_loop_io *io, unsigned what)
{
	if (io->kick == NULL &&
	    (io->kick = event_new(io->l->base, -1, 0, kick_cb, io)) == NULL)
		return; /* out of memory: the descriptor's events remain */
	io->kick_what |= what;
	event_active(io->kick, 0, 0);
}

void
cl_loop_io_free(struct cl_loop_io *io)
{
	if (io == NULL)
		return;
	event_free(io->ev);
	if (io->kick != NULL)
		event_free(io->kick);
	free(io);
}

/* ---- timers ---- */

static void
timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct cl_loop_timer *t = arg;

	(void)fd;
	(void)ev;
	t->fn(t->arg);
}

struct cl_loop_timer *
cl_loop_timer_new(struct cl_loop *l, cl_loop_timer_fn *fn, void *arg)
{
	struct cl_loop_timer *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->l = l;
	t->fn = fn;
	t->arg = arg;
	if ((t->ev = event_new(l->base, -1, 0, timer_cb, t)) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

static int
timer_arm(struct cl_loop_timer *t, uint64_t ms, bool every)
{
	struct timeval tv = tv_ms(ms);

	(void)event_del(t->ev);
	if (event_assign(t->ev, t->l->base, -1, every ? EV_PERSIST : 0,
		timer_cb, t) != 0 ||
	    event_add(t->ev, &tv) != 0) {
		if (errno == 0)
			errno = EINVAL;
		return CL_ERR_SYSTEM;
	}
	return 0;
}

int
cl_loop_timer_after(struct cl_loop_timer *t, uint64_t ms)
{
	return timer_arm(t, ms, false);
}

int
cl_loop_timer_every(struct cl_loop_timer *t, uint64_t ms)
{
	if (ms == 0)
		return CL_ERR_INVALID_ARG;
	return timer_arm(t, ms, true);
}

void
cl_loop_timer_soon(struct cl_loop_timer *t)
{
	/* A pending non-persistent timer that is run is deleted first, so
	 * that it does not fire again at its time. */
	(void)event_del(t->ev);
	if (event_assign(t->ev, t->l->base, -1, 0, timer_cb, t) == 0)
		event_active(t->ev, EV_TIMEOUT, 0);
}

bool
cl_loop_timer_cancel(struct cl_loop_timer *t)
{
	bool was = event_pending(t->ev, EV_TIMEOUT, NULL) != 0;

	(void)event_del(t->ev);
	return was;
}

void
cl_loop_timer_free(struct cl_loop_timer *t)
{
	if (t == NULL)
		return;
	event_free(t->ev);
	free(t);
}

/* ---- signals ---- */

static void
signal_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct cl_loop *l = arg;
	size_t i;

	(void)ev;
	for (i = 0; i < l->nsig; i++)
		if (l->signo[i] == (int)fd) {
			l->sigfn[i](l->sigarg[i], (int)fd);
			return;
		}
}

int
cl_loop_signal(struct cl_loop *l, int sig, cl_loop_signal_fn *fn, void *arg)
{
	struct event *ev;
	size_t i;

	for (i = 0; i < l->nsig; i++)
		if (l->signo[i] == sig)
			return CL_ERR_EXISTS;
	if (l->nsig == MAX_SIGNALS)
		return CL_ERR_FULL;
	if ((ev = evsignal_new(l->base, sig, signal_cb, l)) == NULL)
		return CL_ERR_NOMEM;
	if (event_add(ev, NULL) != 0) {
		event_free(ev);
		if (errno == 0)
			errno = EINVAL;
		return CL_ERR_SYSTEM;
	}
	l->sig[l->nsig] = ev;
	l->signo[l->nsig] = sig;
	l->sigfn[l->nsig] = fn;
	l->sigarg[l->nsig] = arg;
	l->nsig++;
	return 0;
}

/* ---- pollset ---- */

static int pollset_watch(struct cl_loop_pollset *ps);

static void
pollset_unwatch(struct cl_loop_pollset *ps)
{
	size_t i;

	for (i = 0; i < ps->nev; i++)
		(void)event_del(ps->slot[i].ev);
	(void)event_del(ps->deadline);
}

static void
pollset_dispatch(evutil_socket_t fd, short ev, void *arg)
{
	struct cl_loop_pollset *ps = arg;

	(void)fd;
	(void)ev;
	ps->due = false;
	/* Nothing is watched while the component works: it closes
	 * descriptors and takes others over. */
	pollset_unwatch(ps);
	ps->handle(ps->arg, ps->pfd, ps->n, cl_loop_now_ms());
	(void)pollset_watch(ps); /* on failure: the deadline still comes */
}

static void
pollset_due(struct cl_loop_pollset *ps)
{
	if (!ps->due) {
		ps->due = true;
		event_active(ps->dispatch, 0, 0);
	}
}

static void
pollset_fd_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct pslot *s = arg;
	struct pollfd *p = &s->ps->pfd[s->i];

	(void)fd;
	if (ev & EV_READ)
		p->revents |= POLLIN;
	if (ev & EV_WRITE)
		p->revents |= POLLOUT;
	pollset_due(s->ps);
}

static void
pollset_deadline_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	pollset_due(arg);
}

static int
pollset_watch(struct cl_loop_pollset *ps)
{
	uint64_t now = cl_loop_now_ms(), next = UINT64_MAX;
	struct timeval tv;
	size_t i;
	short flags;

	ps->n = ps->fill(ps->arg, ps->pfd, ps->max, now, &next);
	if (ps->n > ps->max)
		ps->n = ps->max;
	for (i = 0; i < ps->n; i++) {
		ps->pfd[i].revents = 0;
		if (ps->pfd[i].fd < 0)
			continue;
		flags = 0;
		if (ps->pfd[i].events & POLLIN)
			flags |= EV_READ;
		if (ps->pfd[i].events & POLLOUT)
			flags |= EV_WRITE;
		if (flags == 0)
			continue;
		while (ps->nev <= i) {
			struct pslot *s = &ps->slot[ps->nev];

			s->ps = ps;
			s->i = ps->nev;
			if ((s->ev = event_new(
				 ps->l->base, -1, 0, pollset_fd_cb, s)) == NULL)
				return CL_ERR_NOMEM;
			ps->nev++;
		}
		if (event_assign(ps->slot[i].ev, ps->l->base, ps->pfd[i].fd,
			flags, pollset_fd_cb, &ps->slot[i]) != 0 ||
		    event_add(ps->slot[i].ev, NULL) != 0)
			return CL_ERR_SYSTEM;
	}
	if (next != UINT64_MAX) {
		tv = tv_ms(next > now ? next - now : 0);
		if (event_add(ps->deadline, &tv) != 0)
			return CL_ERR_SYSTEM;
	}
	return 0;
}

struct cl_loop_pollset *
cl_loop_pollset_new(struct cl_loop *l, size_t max, cl_loop_fill_fn *fill,
    cl_loop_handle_fn *handle, void *arg)
{
	struct cl_loop_pollset *ps;

	if ((ps = calloc(1, sizeof(*ps))) == NULL)
		return NULL;
	ps->l = l;
	ps->max = max;
	ps->fill = fill;
	ps->handle = handle;
	ps->arg = arg;
	if ((ps->pfd = calloc(max > 0 ? max : 1, sizeof(*ps->pfd))) == NULL ||
	    (ps->slot = calloc(max > 0 ? max : 1, sizeof(*ps->slot))) == NULL ||
	    (ps->deadline = event_new(
		 l->base, -1, 0, pollset_deadline_cb, ps)) == NULL ||
	    (ps->dispatch = event_new(l->base, -1, 0, pollset_dispatch, ps)) ==
		NULL) {
		cl_loop_pollset_free(ps);
		return NULL;
	}
	return ps;
}

int
cl_loop_pollset_arm(struct cl_loop_pollset *ps)
{
	pollset_unwatch(ps);
	return pollset_watch(ps);
}

void
cl_loop_pollset_free(struct cl_loop_pollset *ps)
{
	size_t i;

	if (ps == NULL)
		return;
	for (i = 0; i < ps->nev; i++)
		event_free(ps->slot[i].ev);
	if (ps->deadline != NULL)
		event_free(ps->deadline);
	if (ps->dispatch != NULL)
		event_free(ps->dispatch);
	free(ps->slot);
	free(ps->pfd);
	free(ps);
}

/* ---- worker queue ---- */

enum { W_QUEUED = 1, W_RUNNING, W_ENDED };

struct cl_workq {
	pthread_mutex_t mu;
	pthread_cond_t cv;           /* a job was pushed, or stop */
	pthread_cond_t cv_done;      /* a job ended */
	struct cl_work *head, *tail; /* every job not yet collected */
	struct cl_work *next_run;    /* first job not yet taken */
	unsigned pending;            /* pushed, done() not called */
	unsigned running;            /* taken by a worker, not ended */
	bool stop;
	bool collecting;
	int efd;
	pthread_t th[64];
	unsigned nth;
};

static void *
worker_main(void *arg)
{
	struct cl_workq *q = arg;
	struct cl_work *w;
	uint64_t one = 1;
	int r;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->next_run == NULL && !q->stop)
			pthread_cond_wait(&q->cv, &q->mu);
		if ((w = q->next_run) == NULL)
			break;
		q->next_run = w->next;
		w->state = W_RUNNING;
		q->running++;
		pthread_mutex_unlock(&q->mu);
		r = w->run(w);
		pthread_mutex_lock(&q->mu);
		w->result = r;
		w->state = W_ENDED;
		q->running--;
		pthread_cond_broadcast(&q->cv_done);
		/* Cannot fail short of a counter at 2^64 - 1; whoever waits
		 * in cl_workq_wait() is woken by cv_done in any case. */
		(void)!write(q->efd, &one, sizeof(one));
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int
cl_workq_new(unsigned nthreads, struct cl_workq **qp)
{
	struct cl_workq *q;
	sigset_t all, old;
	int r, e;

	*qp = NULL;
	if (nthreads == 0 || nthreads > 64)
		return CL_ERR_INVALID_ARG;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return CL_ERR_NOMEM;
	if ((q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		e = errno;
		free(q);
		errno = e;
		return CL_ERR_SYSTEM;
	}
	if ((r = pthread_mutex_init(&q->mu, NULL)) != 0)
		goto fail0;
	if ((r = pthread_cond_init(&q->cv, NULL)) != 0)
		goto fail1;
	if ((r = pthread_cond_init(&q->cv_done, NULL)) != 0)
		goto fail2;
	/* Signals are for the loop's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (; q->nth < nthreads; q->nth++)
		if ((r = pthread_create(
			 &q->th[q->nth], NULL, worker_main, q)) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		cl_workq_free(q);
		errno = r;
		return CL_ERR_SYSTEM;
	}
	*qp = q;
	return 0;
fail2:
	pthread_cond_destroy(&q->cv);
fail1:
	pthread_mutex_destroy(&q->mu);
fail0:
	(void)close(q->efd);
	free(q);
	errno = r;
	return CL_ERR_SYSTEM;
}

void
cl_workq_push(struct cl_workq *q, struct cl_work *w)
{
	w->next = NULL;
	w->result = 0;
	w->state = W_QUEUED;
	pthread_mutex_lock(&q->mu);
	if (q->tail != NULL)
		q->tail->next = w;
	else
		q->head = w;
	q->tail = w;
	if (q->next_run == NULL)
		q->next_run = w;
	q->pending++;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

int
cl_workq_fd(const struct cl_workq *q)
{
	return q->efd;
}

unsigned
cl_workq_pending(const struct cl_workq *q)
{
	return q->pending; /* only the collecting thread changes it */
}

unsigned
cl_workq_collect(struct cl_workq *q)
{
	struct cl_work *first, *last, *w, *next;
	uint64_t n;
	unsigned k = 0;

	if (q->collecting)
		return 0;
	/*
	 * Under the mutex: the counter is read (a worker writes it under
	 * the mutex, after marking its job ended, so every count read
	 * belongs to a job seen here or collected before) and the ended
	 * jobs at the head are taken; a job that ends after this writes
	 * again, so the descriptor never stays readable for nothing and no
	 * end is missed.
	 */
	pthread_mutex_lock(&q->mu);
	(void)!read(q->efd, &n, sizeof(n));
	first = last = NULL;
	for (w = q->head; w != NULL && w->state == W_ENDED; w = w->next) {
		last = w;
		k++;
	}
	if (last != NULL) {
		first = q->head;
		if ((q->head = last->next) == NULL)
			q->tail = NULL;
		last->next = NULL;
		q->pending -= k;
	}
	pthread_mutex_unlock(&q->mu);
	q->collecting = true;
	for (w = first; w != NULL; w = next) {
		/* w is the caller's again: done() may push it anew. */
		next = w->next;
		w->state = 0;
		w->done(w, w->result);
	}
	q->collecting = false;
	return k;
}

unsigned
cl_workq_wait(struct cl_workq *q)
{
	unsigned k = 0;

	for (;;) {
		pthread_mutex_lock(&q->mu);
		while (q->head != NULL && q->head->state != W_ENDED)
			pthread_cond_wait(&q->cv_done, &q->mu);
		pthread_mutex_unlock(&q->mu);
		if (q->head == NULL || q->collecting)
			return k;
		/* done() callbacks may push further jobs: wait for them too. */
		k += cl_workq_collect(q);
	}
}

void
cl_workq_free(struct cl_workq *q)
{
	unsigned i;

	if (q == NULL)
		return;
	if (q->nth > 0)
		(void)cl_workq_wait(q);
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
	for (i = 0; i < q->nth; i++)
		pthread_join(q->th[i], NULL);
	pthread_cond_destroy(&q->cv_done);
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
	(void)close(q->efd);
	free(q);
}

static void
workq_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)cl_workq_collect(arg);
}

int
cl_loop_workq(struct cl_loop *l, struct cl_workq *q)
{
	size_t i;

	for (i = 0; i < MAX_WORKQS && l->wq[i].ev != NULL; i++)
		;
	if (i == MAX_WORKQS)
		return CL_ERR_FULL;
	l->wq[i].ev = event_new(
	    l->base, cl_workq_fd(q), EV_READ | EV_PERSIST, workq_cb, q);
	if (l->wq[i].ev == NULL)
		return CL_ERR_NOMEM;
	if (event_add(l->wq[i].ev, NULL) != 0) {
		event_free(l->wq[i].ev);
		l->wq[i].ev = NULL;
		if (errno == 0)
			errno = EINVAL;
		return CL_ERR_SYSTEM;
	}
	l->wq[i].q = q;
	return 0;
}

void
cl_loop_workq_detach(struct cl_loop *l, struct cl_workq *q)
{
	size_t i;

	for (i = 0; i < MAX_WORKQS; i++)
		if (l->wq[i].ev != NULL && l->wq[i].q == q) {
			event_free(l->wq[i].ev);
			l->wq[i].ev = NULL;
			l->wq[i].q = NULL;
		}
}
