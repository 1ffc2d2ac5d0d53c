/* SPDX-License-Identifier: ISC */
/*
 * The POI's match role (roles.h): the only process that parses captured
 * packets.  It reads the packet ring, runs the pipeline and writes the
 * encoded X2/X3 PDUs into the PDU ring.  It holds no key, opens no file
 * and no socket: its filter refuses them.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "imsg.h"
#include "log.h"
#include "loop.h"
#include "privsep.h"
#include "roles.h"
#include "sandbox.h"
#include "task.h"
#include "x2x3.h"

static const struct cl_imsg_type to_match[] = {
    {POI_IMSG_TASKS, "tasks", 8, 8, 0, true, 0},
    {POI_IMSG_STATS_REQ, "stats request", 0, 0, 0, false, 0},
};

const struct cl_imsg_type poi_from_match[] = {
    {POI_IMSG_READY, "ready", 0, 0, 0, false, CL_IMSG_T_ONCE},
    {POI_IMSG_MATCH_STATS, "match stats", sizeof(struct poi_match_stats),
	sizeof(struct poi_match_stats), 0, false, 0},
    {POI_IMSG_TASK_STATS, "task stats", sizeof(struct poi_task_stat),
	sizeof(struct poi_task_stat) * 4096, sizeof(struct poi_task_stat),
	false, 0},
    {POI_IMSG_TASKS_OK, "tasks taken", 8, 8, 0, false, 0},
    {POI_IMSG_TASKS_BAD, "tasks refused", 1, 1024, 1, false, 0},
    {POI_IMSG_MATCH_DONE, "match done", sizeof(struct poi_match_stats),
	sizeof(struct poi_match_stats), 0, false, CL_IMSG_T_ONCE},
};
const size_t poi_from_match_n =
    sizeof(poi_from_match) / sizeof(poi_from_match[0]);

#define DRAIN_MAX 1024 /* packets per round: the socket is served between */

struct match {
	struct poi_match_cfg *cfg;
	struct cl_loop *l;
	struct cl_imsgbuf *ib;
	struct cl_ring *in, *out;
	struct cl_pipeline *pl;
	struct cl_loop_io *sock_io, *in_io;
	struct cl_loop_timer *tick, *soon;
	bool have_tasks, ended;
	int status;
};

static struct match M;

static void
fatal(struct match *m, const char *what)
{
	cl_err("match role: %s; stopping", what);
	m->status = 1;
	cl_loop_stop(m->l);
}

/* Room for len octets in the PDU ring, waiting for the output role if
 * it is full (never a drop: the output decides what to do when the MDF
 * is slow).  NULL if the parent went away meanwhile. */
static void *
out_reserve(struct match *m, size_t len)
{
	struct pollfd pfd[2];
	void *p;

	while ((p = cl_ring_reserve(m->out, len)) == NULL) {
		cl_ring_publish(m->out);
		if (!cl_ring_wait_space(m->out, len))
			continue;
		pfd[0].fd = cl_ring_space_fd(m->out);
		pfd[0].events = POLLIN;
		pfd[1].fd = CL_SANDBOX_SOCK;
		pfd[1].events = 0; /* its end only */
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return NULL;
		if ((pfd[1].revents & (POLLHUP | POLLERR)) != 0)
			return NULL;
		if ((pfd[0].revents & POLLIN) != 0)
			cl_ring_clear(cl_ring_space_fd(m->out));
	}
	return p;
}

static int
emit(void *arg, const struct cl_x2x3_pdu *pdu)
{
	struct match *m = arg;
	size_t len = cl_x2x3_encoded_len(pdu);
	struct cl_buf b;
	void *p;
	int r;

	if (len > POI_PDUREC_MAX)
		return CL_ERR_TOOBIG;
	if ((p = out_reserve(m, len)) == NULL) {
		fatal(m, "the parent went away while the PDU ring was full");
		return CL_ERR_CLOSED;
	}
	/* Encoded here, once, into the ring; the output role checks it with
	 * the strict decoder and sends it as it is. */
	b.d = p;
	b.len = 0;
	b.alloc = len;
	b.max = len;
	if ((r = cl_x2x3_encode(&b, pdu)) != 0)
		return r;
	cl_ring_commit(m->out, POI_REC_PDU, b.len);
	return 0;
}

static void
send_stats(struct match *m, uint16_t type)
{
	struct poi_match_stats st;

	memset(&st, 0, sizeof(st));
	cl_pipeline_stats(m->pl, &st.ps);
	cl_subs_stats(cl_pipeline_subs(m->pl), &st.ss);
	st.sessions = cl_subs_count(cl_pipeline_subs(m->pl));
	st.tasks = cl_taskset_count(cl_pipeline_tasks(m->pl));
	(void)cl_imsg_compose(m->ib, type, -1, &st, sizeof(st));
}

static void
send_task_stats(struct match *m)
{
	const struct cl_taskset *ts = cl_pipeline_tasks(m->pl);
	struct poi_task_stat *v;
	size_t i, n = cl_taskset_count(ts);

	if (n > 4096)
		n = 4096;
	if (n == 0 || (v = calloc(n, sizeof(*v))) == NULL)
		return;
	for (i = 0; i < n; i++) {
		const struct cl_task *t = cl_taskset_task(ts, i);

		memcpy(v[i].xid, t->xid, sizeof(v[i].xid));
		snprintf(v[i].liid, sizeof(v[i].liid), "%s", t->liid);
		v[i].pdus = t->pdus;
		v[i].bytes = t->bytes;
	}
	(void)cl_imsg_compose(
	    m->ib, POI_IMSG_TASK_STATS, -1, v, n * sizeof(*v));
	free(v);
}

static void
flush_sock(struct match *m)
{
	if (cl_imsg_flush(m->ib) == CL_ERR_AGAIN)
		(void)cl_loop_io_set(m->sock_io, CL_LOOP_READ | CL_LOOP_WRITE);
	else
		(void)cl_loop_io_set(m->sock_io, CL_LOOP_READ);
}

static void
end(struct match *m)
{
	if (out_reserve(m, 0) == NULL) {
		fatal(m, "the parent went away at the end");
		return;
	}
	cl_ring_commit(m->out, POI_REC_END, 0);
	cl_ring_publish(m->out);
	m->ended = true;
	(void)cl_loop_io_set(m->in_io, 0);
	send_task_stats(m);
	send_stats(m, POI_IMSG_MATCH_DONE);
	flush_sock(m);
}

static void
drain(void *arg)
{
	struct match *m = arg;
	struct poi_rec_pkt h;
	struct cl_cap_pkt pkt;
	const uint8_t *p;
	uint32_t type;
	size_t len, n;
	int r = 0;

	if (!m->have_tasks || m->ended)
		return;
	for (n = 0; n < DRAIN_MAX && !m->ended; n++) {
		if ((r = cl_ring_peek(m->in, &type, &p, &len)) <= 0)
			break;
		if (type == POI_REC_END) {
			cl_ring_consume(m->in);
			cl_ring_publish(m->out);
			end(m);
			break;
		}
		if (type != POI_REC_PKT || len < sizeof(h)) {
			r = CL_ERR_FORMAT;
			break;
		}
		memcpy(&h, p, sizeof(h));
		if (h.caplen != len - sizeof(h)) {
			r = CL_ERR_FORMAT;
			break;
		}
		pkt.data = p + sizeof(h);
		pkt.caplen = h.caplen;
		pkt.wirelen = h.wirelen;
		pkt.ts_sec = h.ts_sec;
		pkt.ts_nsec = h.ts_nsec;
		pkt.linktype = h.linktype;
		pkt.ifindex = h.ifindex;
		pkt.flags = h.flags;
		cl_pipeline_packet(m->pl, &pkt);
		cl_ring_consume(m->in);
	}
	cl_ring_release(m->in);
	cl_ring_publish(m->out);
	if (r < 0) {
		fatal(m, "the packet ring is broken");
		return;
	}
	if (m->ended)
		return;
	if (n == DRAIN_MAX || !cl_ring_sleep(m->in))
		cl_loop_timer_soon(m->soon);
}

static void
on_in(void *arg, int fd, unsigned what)
{
	(void)what;
	cl_ring_clear(fd);
	drain(arg);
}

static void
on_tick(void *arg)
{
	struct match *m = arg;

	cl_pipeline_tick(m->pl, (int64_t)time(NULL));
}

/* The task file, as a memory file from the parent: parsed here (only),
 * taken whole or refused whole, and the parent told which. */
static void
tasks(struct match *m, const struct cl_imsg *im)
{
	struct cl_taskset *ts = NULL;
	uint64_t len, n;
	char err[1024];
	void *p;

	memcpy(&len, im->data, sizeof(len));
	if (len > CL_TASK_FILE_MAX) {
		close(im->fd);
		fatal(m, "task file too large");
		return;
	}
	p = len == 0
	    ? NULL
	    : mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, im->fd, 0);
	close(im->fd);
	if (p == MAP_FAILED) {
		fatal(m, "cannot map the task file");
		return;
	}
	err[0] = '\0';
	if (cl_taskset_parse(
		p == NULL ? "" : p, (size_t)len, &ts, err, sizeof(err)) != 0) {
		if (p != NULL)
			munmap(p, (size_t)len);
		if (err[0] == '\0')
			snprintf(err, sizeof(err), "cannot be parsed");
		(void)cl_imsg_compose(
		    m->ib, POI_IMSG_TASKS_BAD, -1, err, strlen(err));
		return;
	}
	if (p != NULL)
		munmap(p, (size_t)len);
	n = cl_taskset_count(ts);
	cl_pipeline_set_tasks(m->pl, ts);
	cl_pipeline_tick(m->pl, (int64_t)time(NULL));
	(void)cl_imsg_compose(m->ib, POI_IMSG_TASKS_OK, -1, &n, sizeof(n));
	if (!m->have_tasks) {
		m->have_tasks = true;
		(void)cl_loop_io_set(m->in_io, CL_LOOP_READ);
		cl_loop_timer_soon(m->soon);
	}
}

static void
on_sock(void *arg, int fd, unsigned what)
{
	struct match *m = arg;
	struct cl_imsg im;
	char err[256];
	int r;

	(void)fd;
	if ((what & CL_LOOP_WRITE) != 0)
		flush_sock(m);
	if ((what & CL_LOOP_READ) == 0)
		return;
	if ((r = cl_imsg_read(m->ib)) == CL_ERR_AGAIN)
		return;
	if (r < 0) {
		/* The parent closed: the end. */
		cl_loop_stop(m->l);
		return;
	}
	while ((r = cl_imsg_get(m->ib, &im, err, sizeof(err))) == 1) {
		if (im.type == POI_IMSG_TASKS)
			tasks(m, &im);
		else if (im.type == POI_IMSG_STATS_REQ)
			send_stats(m, POI_IMSG_MATCH_STATS);
	}
	if (r < 0) {
		cl_err("match role: from the parent: %s", err);
		m->status = 1;
		cl_loop_stop(m->l);
		return;
	}
	flush_sock(m);
}

static int
match_prepare(void *arg, int sock)
{
	struct match *m = &M;
	int fds[CL_RING_FDS];
	int r;

	m->cfg = arg;
	m->cfg->pcfg.emit = emit;
	m->cfg->pcfg.emit_arg = m;
	fds[0] = POI_MATCH_PKT_FD;
	fds[1] = POI_MATCH_PKT_FD + 1;
	fds[2] = POI_MATCH_PKT_FD + 2;
	if ((r = cl_ring_attach(fds, &m->in)) != 0) {
		cl_err("match role: packet ring: %s", cl_err_str(r));
		return r;
	}
	fds[0] = POI_MATCH_PDU_FD;
	fds[1] = POI_MATCH_PDU_FD + 1;
	fds[2] = POI_MATCH_PDU_FD + 2;
	if ((r = cl_ring_attach(fds, &m->out)) != 0) {
		cl_err("match role: PDU ring: %s", cl_err_str(r));
		return r;
	}
	if ((r = cl_pipeline_new(&m->cfg->pcfg, &m->pl)) != 0) {
		cl_err("match role: pipeline: %s", cl_err_str(r));
		return r;
	}
	if ((r = cl_imsg_new(sock, to_match,
		 sizeof(to_match) / sizeof(to_match[0]), &m->ib)) != 0 ||
	    (r = cl_loop_new(&m->l)) != 0 ||
	    (m->sock_io = cl_loop_io_new(m->l, sock, on_sock, m)) == NULL ||
	    (m->in_io = cl_loop_io_new(
		 m->l, cl_ring_data_fd(m->in), on_in, m)) == NULL ||
	    (m->tick = cl_loop_timer_new(m->l, on_tick, m)) == NULL ||
	    (m->soon = cl_loop_timer_new(m->l, drain, m)) == NULL ||
	    cl_loop_io_set(m->sock_io, CL_LOOP_READ) != 0 ||
	    cl_loop_timer_every(m->tick, 1000) != 0) {
		cl_err("match role: event loop: %s",
		    cl_err_str(r != 0 ? r : CL_ERR_NOMEM));
		return r != 0 ? r : CL_ERR_NOMEM;
	}
	return 0;
}

static int
match_main(void *arg, int sock)
{
	struct match *m = &M;

	(void)arg;
	(void)sock;
	(void)cl_imsg_compose(m->ib, POI_IMSG_READY, -1, NULL, 0);
	flush_sock(m);
	if (cl_loop_run(m->l) != 0 && m->status == 0)
		m->status = 1;
	return m->status;
}

static const struct cl_privsep_role match_role = {
    .name = "match",
    .flags = 0, /* no RLIMIT_FSIZE: its log may be a file (stderr); the
		   filter refuses every open */
    .root = NULL,
    .prepare = match_prepare,
    .sandbox = poi_sandbox_match,
    .main = match_main,
};

int
poi_match_start(struct poi_match_cfg *cfg, const char *user, pid_t *pid,
    int *sock, char *err, size_t errlen)
{
	int keep[2 * CL_RING_FDS];

	memcpy(keep, cfg->pkt_fds, sizeof(cfg->pkt_fds));
	memcpy(keep + CL_RING_FDS, cfg->pdu_fds, sizeof(cfg->pdu_fds));
	return cl_privsep_start(&match_role, cfg, keep, 2 * CL_RING_FDS, user,
	    pid, sock, err, errlen);
}
