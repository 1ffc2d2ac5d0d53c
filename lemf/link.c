/* SPDX-License-Identifier: ISC */
/*
 * The front's link to the writer (link.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "imsg.h"
#include "link.h"
#include "log.h"
#include "loop.h"

#define REC_MIN sizeof(struct lemf_m_rec)

const struct cl_imsg_type lemf_to_writer[] = {
    {LEMF_W_REC, "record", REC_MIN,
	REC_MIN + 32 + sizeof(((struct lemf_result *)0)->why) + CL_PSDU_DEC_MAX,
	1, false, 0},
    {LEMF_W_BAD, "bad", sizeof(struct lemf_m_bad), sizeof(struct lemf_m_bad), 0,
	false, 0},
    {LEMF_W_SYNC, "sync", 8, 8, 0, false, 0},
    {LEMF_W_SUMMARY, "summary", sizeof(struct lemf_counts),
	sizeof(struct lemf_counts), 0, false, 0},
    {LEMF_W_FINAL, "final", sizeof(struct lemf_counts),
	sizeof(struct lemf_counts), 0, false, 0},
};
const size_t lemf_to_writer_n =
    sizeof(lemf_to_writer) / sizeof(lemf_to_writer[0]);

/* From the parent (the writer's messages: lemf_link_restore() and
 * lemf_link_new()). */
const struct cl_imsg_type lemf_to_front[] = {
    {LEMF_P_SUMMARY, "summary", 0, 0, 0, false, 0},
    {LEMF_P_CRL, "crl", 1, LEMF_CRL_MAX, 1, false, 0},
};
const size_t lemf_to_front_n = sizeof(lemf_to_front) / sizeof(lemf_to_front[0]);

const struct cl_imsg_type lemf_to_parent[] = {
    {LEMF_P_READY, "ready", 4, 4, 0, false, CL_IMSG_T_ONCE},
};
const size_t lemf_to_parent_n =
    sizeof(lemf_to_parent) / sizeof(lemf_to_parent[0]);

struct lemf_link {
	struct cl_loop *l;
	int fd;
	struct cl_imsgbuf *ib;
	struct cl_loop_io *io;
	lemf_link_fn *fn;
	void *arg;
	uint64_t token; /* of the last sync asked for */
	bool dead;
	uint8_t *scratch; /* a record being built */
	size_t scap;
	void (*below_fn)(void *); /* lemf_link_when_below() */
	void *below_arg;
	size_t below;
};

int
lemf_link_restore(int fd, struct lemf_recv *rv, struct lemf_restore_stats *rs)
{
	struct cl_imsgbuf *ib = NULL;
	struct cl_imsg m;
	char err[256];
	size_t i;
	int r, ret = -1;

	/* Only what the writer sends at start. */
	static const struct cl_imsg_type start[] = {
	    {LEMF_F_RESTORE, "restore", sizeof(struct lemf_m_restore),
		LEMF_RESTORE_BATCH * sizeof(struct lemf_m_restore),
		sizeof(struct lemf_m_restore), false, 0},
	    {LEMF_F_READY, "ready", sizeof(struct lemf_restore_stats),
		sizeof(struct lemf_restore_stats), 0, false, 0},
	};

	if (cl_imsg_new(fd, start, 2, &ib) != 0) {
		cl_err("front role: out of memory");
		return -1;
	}
	for (;;) {
		if ((r = cl_imsg_wait(ib, &m, err, sizeof(err))) != 1) {
			cl_err("front role: no restored state from the writer: "
			       "%s",
			    r == CL_ERR_CLOSED ? "it ended" : err);
			break;
		}
		if (m.type == LEMF_F_READY) {
			memcpy(rs, m.data, sizeof(*rs));
			ret = 0;
			break;
		}
		for (i = 0; i < m.len / sizeof(struct lemf_m_restore); i++) {
			struct lemf_m_restore x;

			memcpy(&x, m.data + i * sizeof(x), sizeof(x));
			if (x.liid_len > CL_PSDU_LIID_MAX ||
			    x.kind > LEMF_KIND_INTEGRITY) {
				cl_err("front role: a restored stream out of "
				       "range from the writer");
				goto out;
			}
			if (lemf_recv_restore(rv, (int)x.kind, x.liid,
				x.liid_len, x.cin, x.seq, x.hash) != 0) {
				cl_err("front role: out of memory rebuilding "
				       "the stream state");
				goto out;
			}
		}
	}
out:
	/* cl_imsg_wait() reads what is there: nothing may follow READY
	 * before the front answers, so nothing is lost here. */
	cl_imsg_free(ib);
	return ret;
}

static void
link_dead(struct lemf_link *k, const char *why)
{
	if (k->dead)
		return;
	k->dead = true;
	cl_err("front role: the writer is gone (%s): nothing more is "
	       "acknowledged",
	    why);
	(void)cl_loop_io_set(k->io, 0);
	k->fn(k->arg, false);
}

static void
link_watch(struct lemf_link *k)
{
	if (k->dead)
		return;
	if (cl_loop_io_set(k->io,
		CL_LOOP_READ | (cl_imsg_pending(k->ib) ? CL_LOOP_WRITE : 0)) !=
	    0)
		link_dead(k, "cannot watch the socket");
}

static void
on_link(void *arg, int fd, unsigned what)
{
	struct lemf_link *k = arg;
	struct cl_imsg m;
	char err[256];
	int r;

	(void)fd;
	if (k->dead)
		return;
	if (what & CL_LOOP_WRITE) {
		r = cl_imsg_flush(k->ib);
		if (r != 0 && r != CL_ERR_AGAIN) {
			link_dead(k, "its socket closed");
			return;
		}
		if (k->below_fn != NULL && cl_imsg_queued(k->ib) <= k->below) {
			void (*fn)(void *) = k->below_fn;

			k->below_fn = NULL;
			fn(k->below_arg);
			if (k->dead)
				return;
		}
	}
	if (what & CL_LOOP_READ) {
		r = cl_imsg_read(k->ib);
		if (r == CL_ERR_CLOSED) {
			link_dead(k, "its socket closed");
			return;
		}
		if (r < 0 && r != CL_ERR_AGAIN) {
			link_dead(k, cl_err_str(r));
			return;
		}
		while ((r = cl_imsg_get(k->ib, &m, err, sizeof(err))) == 1) {
			uint64_t t;

			/* The table admits LEMF_F_SYNCED alone here. */
			memcpy(&t, m.data, 8);
			if (t != k->token) {
				link_dead(k, "a sync answered out of turn");
				return;
			}
			k->fn(k->arg, true);
			if (k->dead)
				return;
		}
		if (r < 0) {
			link_dead(k, err);
			return;
		}
	}
	link_watch(k);
}

int
lemf_link_new(struct cl_loop *l, int fd, lemf_link_fn *fn, void *arg,
    struct lemf_link **out)
{
	static const struct cl_imsg_type synced[] = {
	    {LEMF_F_SYNCED, "synced", 8, 8, 0, false, 0},
	};
	struct lemf_link *k;

	*out = NULL;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		close(fd);
		cl_err("front role: out of memory");
		return -1;
	}
	k->l = l;
	k->fd = fd;
	k->fn = fn;
	k->arg = arg;
	if (cl_imsg_new(fd, synced, 1, &k->ib) != 0 ||
	    (k->io = cl_loop_io_new(l, fd, on_link, k)) == NULL ||
	    cl_loop_io_set(k->io, CL_LOOP_READ) != 0) {
		cl_err("front role: cannot watch the writer's socket");
		lemf_link_free(k);
		return -1;
	}
	*out = k;
	return 0;
}

void
lemf_link_free(struct lemf_link *k)
{
	if (k == NULL)
		return;
	cl_loop_io_free(k->io);
	cl_imsg_free(k->ib);
	close(k->fd);
	free(k->scratch);
	free(k);
}

static int
queued(struct lemf_link *k, int r)
{
	if (r != 0)
		return r;
	if (k->dead)
		return CL_ERR_CLOSED;
	/* Large queues go out at once; the rest when the loop finds the
	 * socket writable, batched. */
	if ((cl_loop_io_get(k->io) & CL_LOOP_WRITE) == 0)
		link_watch(k);
	return 0;
}

int
lemf_link_rec(struct lemf_link *k, unsigned op, const struct cl_psdu_info *in,
    const uint8_t hash[static 32], const struct lemf_result *res,
    const struct timespec *rx)
{
	struct lemf_m_rec h;
	size_t len, why_len = 0, off;
	uint8_t *p;

	if (k->dead)
		return CL_ERR_CLOSED;
	if (in->pdu.len > CL_PSDU_DEC_MAX)
		return CL_ERR_TOOBIG;
	memset(&h, 0, sizeof(h));
	h.op = op;
	h.kind = -1;
	h.verified = -1;
	if (res != NULL) {
		h.verdict = (uint32_t)res->verdict;
		h.kind = res->kind;
		h.verified = res->verified;
		h.expected = res->expected;
		h.has_stored = res->has_stored;
		if (res->verified == 0)
			why_len = strnlen(res->why, sizeof(res->why) - 1);
	}
	h.why_len = (uint16_t)why_len;
	h.rx_sec = rx->tv_sec;
	h.rx_nsec = rx->tv_nsec;
	memcpy(h.hash, hash, 32);
	/* Built in a buffer kept from one record to the next. */
	len = sizeof(h) + (h.has_stored ? 32 : 0) + why_len + in->pdu.len;
	if (len > k->scap) {
		if ((p = realloc(k->scratch, len)) == NULL)
			return CL_ERR_NOMEM;
		k->scratch = p;
		k->scap = len;
	}
	p = k->scratch;
	memcpy(p, &h, sizeof(h));
	off = sizeof(h);
	if (h.has_stored) {
		memcpy(p + off, res->stored, 32);
		off += 32;
	}
	memcpy(p + off, res != NULL ? res->why : "", why_len);
	off += why_len;
	memcpy(p + off, in->pdu.p, in->pdu.len);
	return queued(k, cl_imsg_compose(k->ib, LEMF_W_REC, -1, p, len));
}

int
lemf_link_bad(struct lemf_link *k, const char *peer, uint64_t offset, int err,
    const char *why, const struct timespec *rx)
{
	struct lemf_m_bad m;

	if (k->dead)
		return CL_ERR_CLOSED;
	memset(&m, 0, sizeof(m));
	m.rx_sec = rx->tv_sec;
	m.rx_nsec = rx->tv_nsec;
	m.offset = offset;
	m.err = err;
	snprintf(m.peer, sizeof(m.peer), "%s", peer);
	snprintf(m.why, sizeof(m.why), "%s", why != NULL ? why : "");
	return queued(k, cl_imsg_compose(k->ib, LEMF_W_BAD, -1, &m, sizeof(m)));
}

int
lemf_link_sync(struct lemf_link *k)
{
	if (k->dead)
		return CL_ERR_CLOSED;
	k->token++;
	return queued(k, cl_imsg_compose(k->ib, LEMF_W_SYNC, -1, &k->token, 8));
}

int
lemf_link_summary(struct lemf_link *k, const struct lemf_counts *c, bool final)
{
	if (k->dead)
		return CL_ERR_CLOSED;
	return queued(k,
	    cl_imsg_compose(k->ib, final ? LEMF_W_FINAL : LEMF_W_SUMMARY, -1, c,
		sizeof(*c)));
}

size_t
lemf_link_queued(const struct lemf_link *k)
{
	return cl_imsg_queued(k->ib);
}

void
lemf_link_when_below(
    struct lemf_link *k, size_t low, void (*fn)(void *), void *arg)
{
	if (k->dead || cl_imsg_queued(k->ib) <= low) {
		if (!k->dead)
			fn(arg);
		return;
	}
	k->below = low;
	k->below_fn = fn;
	k->below_arg = arg;
}

int
lemf_link_flush(struct lemf_link *k)
{
	int r;

	if (k->dead)
		return CL_ERR_CLOSED;
	r = cl_imsg_flush(k->ib);
	if (r == CL_ERR_AGAIN)
		r = 0;
	if (r != 0) {
		link_dead(k, "its socket closed");
		return r;
	}
	link_watch(k);
	return 0;
}

int
lemf_link_drain(struct lemf_link *k)
{
	struct pollfd pfd;
	int r;

	if (k->dead)
		return CL_ERR_CLOSED;
	while ((r = cl_imsg_flush(k->ib)) == CL_ERR_AGAIN) {
		/* The writer reads on: wait for room. */
		pfd.fd = k->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			return CL_ERR_SYSTEM;
	}
	return r;
}
