/* SPDX-License-Identifier: ISC */
#ifndef CL_LOOP_H
#define CL_LOOP_H

/*
 * One event loop for every daemon, on libevent (event_core only): a
 * daemon watches its descriptors, sets timers, takes signals and hands
 * blocking jobs (fdatasync, syncfs) to worker threads, and is called back
 * in its one loop thread for each.  In the spirit of Redis' ae.h: a
 * handful of calls, every callback runs in the thread that called
 * cl_loop_run(), and nothing here logs.
 *
 * Ownership: every watcher (io, timer, signal, pollset) belongs to the
 * loop it was made on and must be freed before the loop (or is freed by
 * cl_loop_free(), for signals).  A watcher may be freed from inside its
 * own callback.  Descriptors are never closed here: free the io watcher
 * first, then close the descriptor, or the kernel may hand the number to
 * another file while the loop still watches it.
 *
 * The worker queue (struct cl_workq) stands on its own: a daemon with a
 * poll() loop of its own polls cl_workq_fd() and calls cl_workq_collect();
 * one on cl_loop attaches the queue with cl_loop_workq() and its done
 * callbacks are called from the loop.
 */

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CL_LOOP_READ  0x01u
#define CL_LOOP_WRITE 0x02u

struct cl_loop;
struct cl_loop_io;
struct cl_loop_timer;
struct cl_loop_pollset;

typedef void cl_loop_io_fn(void *arg, int fd, unsigned what);
typedef void cl_loop_timer_fn(void *arg);
typedef void cl_loop_signal_fn(void *arg, int sig);

/* A new loop in *lp; 0, or CL_ERR_NOMEM / CL_ERR_SYSTEM (errno set). */
int cl_loop_new(struct cl_loop **lp);

/*
 * Frees the loop and the signal watchers made on it (their signals get
 * their former dispositions back).  Every other watcher must have been
 * freed; attached worker queues are detached, not freed.  l may be NULL.
 */
void cl_loop_free(struct cl_loop *l);

/*
 * Runs callbacks until cl_loop_stop() is called or nothing is watched any
 * more.  Returns 0, or CL_ERR_SYSTEM if the backend failed (errno set).
 */
int cl_loop_run(struct cl_loop *l);

/* Makes cl_loop_run() return once the callback running now returned
 * (callbacks already due in this round are not called). */
void cl_loop_stop(struct cl_loop *l);

/* Monotonic milliseconds (CLOCK_MONOTONIC), the clock of the timers. */
uint64_t cl_loop_now_ms(void);

/* ---- descriptors ---- */

/*
 * A watcher of fd, calling fn(arg, fd, what) with what the CL_LOOP_READ
 * and CL_LOOP_WRITE bits that are ready (an error or a hang-up reads as
 * READ).  It watches nothing until cl_loop_io_set().  NULL if out of
 * memory.
 */
struct cl_loop_io *cl_loop_io_new(
    struct cl_loop *l, int fd, cl_loop_io_fn *fn, void *arg);

/* Watches for the bits in what (0: nothing); level-triggered.  Returns 0
 * or CL_ERR_SYSTEM.  Setting the bits already set costs nothing. */
int cl_loop_io_set(struct cl_loop_io *io, unsigned what);

/* The bits watched now. */
unsigned cl_loop_io_get(const struct cl_loop_io *io);

/*
 * Calls fn(arg, fd, what) once more in this round of the loop, whatever
 * the descriptor says: for bytes a library holds that poll() cannot see
 * (SSL_has_pending()).
 */
void cl_loop_io_kick(struct cl_loop_io *io, unsigned what);

/* Stops watching and frees io (the descriptor stays open).  NULL ok. */
void cl_loop_io_free(struct cl_loop_io *io);

/* ---- timers ---- */

/* A timer that calls fn(arg) when it fires; unset until armed.  NULL if
 * out of memory. */
struct cl_loop_timer *cl_loop_timer_new(
    struct cl_loop *l, cl_loop_timer_fn *fn, void *arg);

/* Fires once, ms milliseconds from now (re-arming replaces the former
 * setting).  Returns 0 or CL_ERR_SYSTEM. */
int cl_loop_timer_after(struct cl_loop_timer *t, uint64_t ms);

/* Fires every ms milliseconds (ms > 0) until cancelled. */
int cl_loop_timer_every(struct cl_loop_timer *t, uint64_t ms);

/*
 * Calls fn(arg) in this round of the loop, after the callbacks already
 * due, once however often it is asked (the timer is disarmed): for work
 * that runs once after a round of events, as at the end of a poll()
 * loop's iteration.
 */
void cl_loop_timer_soon(struct cl_loop_timer *t);

/* Disarms; true if it was armed. */
bool cl_loop_timer_cancel(struct cl_loop_timer *t);

/* Cancels and frees t.  NULL ok. */
void cl_loop_timer_free(struct cl_loop_timer *t);

/* ---- signals ---- */

/*
 * Delivers sig (SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1, ...) as a
 * callback fn(arg, sig) in the loop, never in signal context, so fn may
 * do anything.  Signals that come together may be delivered as one call
 * or as several: fn handles what the signal stands for (reap every
 * child, reload once), not a count.  One watcher per
 * signal per process.  Returns 0, CL_ERR_EXISTS or CL_ERR_SYSTEM.
 */
int cl_loop_signal(
    struct cl_loop *l, int sig, cl_loop_signal_fn *fn, void *arg);

/* ---- pollset: a component with a poll()-style interface ---- */

/*
 * Drives a component that says which descriptors it wants polled and
 * takes the results back (lib/front, lib/metrics): fill() fills pfd[0..)
 * (at most max entries, events set), returns how many, and may lower
 * *next_ms (monotonic ms) to its earliest deadline; handle() gets the
 * entries with revents set (and is called at the deadline with none),
 * like after a poll().  fill() is called again after every handle().
 */
typedef size_t cl_loop_fill_fn(
    void *arg, struct pollfd *pfd, size_t max, uint64_t now, uint64_t *next_ms);
typedef void cl_loop_handle_fn(
    void *arg, struct pollfd *pfd, size_t n, uint64_t now);

/* NULL if out of memory; fill() is first called by cl_loop_pollset_arm(). */
struct cl_loop_pollset *cl_loop_pollset_new(struct cl_loop *l, size_t max,
    cl_loop_fill_fn *fill, cl_loop_handle_fn *handle, void *arg);

/* Calls fill() now and watches what it asked for (after the component
 * changed outside handle()).  0 or CL_ERR_SYSTEM / CL_ERR_NOMEM. */
int cl_loop_pollset_arm(struct cl_loop_pollset *ps);

/* Stops watching and frees ps.  NULL ok. */
void cl_loop_pollset_free(struct cl_loop_pollset *ps);

/* ---- worker queue ---- */

struct cl_work;
/* Runs in a worker thread: must touch nothing the loop's thread uses
 * but what the job was handed.  Returns a result for done(). */
typedef int cl_work_fn(struct cl_work *w);
/* Runs in the thread that collects (the loop's), with run()'s result. */
typedef void cl_work_done_fn(struct cl_work *w, int result);

/*
 * One job, in the caller's memory (embed it in the job's own struct and
 * find that with a container cast): it must stay valid, and untouched,
 * from cl_workq_push() until done() is called.
 */
struct cl_work {
	cl_work_fn *run;
	cl_work_done_fn *done;
	/* The queue's: */
	struct cl_work *next;
	int result;
	int state;
};

struct cl_workq;

/*
 * A queue served by nthreads worker threads (1 to 64; a job at a time
 * each), which start with every signal blocked.  Jobs begin in the order
 * pushed, and done() callbacks are called in that order too (a job that
 * ends early waits for those before it).  Returns 0 and *qp, or
 * CL_ERR_INVALID_ARG, CL_ERR_NOMEM or CL_ERR_SYSTEM (errno set).
 */
int cl_workq_new(unsigned nthreads, struct cl_workq **qp);

/* Hands w (run and done set) to the workers; never waits. */
void cl_workq_push(struct cl_workq *q, struct cl_work *w);

/*
 * Readable (POLLIN) when a job has ended that cl_workq_collect() has not
 * taken yet; it may also be readable when none is (then collect finds
 * nothing).
 */
int cl_workq_fd(const struct cl_workq *q);

/* Calls done() for the ended jobs, in the order pushed; never waits.
 * Returns how many.  Not re-entered from inside a done(). */
unsigned cl_workq_collect(struct cl_workq *q);

/* Waits until every job pushed has ended, then collects them all. */
unsigned cl_workq_wait(struct cl_workq *q);

/* Jobs pushed whose done() has not been called yet. */
unsigned cl_workq_pending(const struct cl_workq *q);

/* Waits for and collects the jobs left (their done() is called), stops
 * the threads and frees q.  NULL ok. */
void cl_workq_free(struct cl_workq *q);

/*
 * The loop collects q whenever a job ended (done() runs in the loop).
 * Returns 0 or CL_ERR_NOMEM / CL_ERR_SYSTEM.  cl_loop_workq_detach()
 * before freeing either.
 */
int cl_loop_workq(struct cl_loop *l, struct cl_workq *q);
void cl_loop_workq_detach(struct cl_loop *l, struct cl_workq *q);

#endif /* CL_LOOP_H */
