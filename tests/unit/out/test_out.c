/* SPDX-License-Identifier: ISC */
/*
 * poi/out.c: the POI's X2/X3 output queue and connection, against an MDF
 * played by the test on a loopback socket (plain TCP), in one poll loop.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "harness.h"
#include "net.h"
#include "x2x3.h"
/* lemf/ has an out.h too: name ours by path. */
#include "../../../poi/out.h"

#define XID "\x8c\x29\x2f\xa1\x58\x31\x46\xec\x86\xbe\xbd\x85\xf2\x08\x32\x99"

/* The MDF side: one listener, at most one connection. */
struct mdf {
	int lfd, fd;
	char port[8];
	struct cl_buf in;
	bool ack;             /* acknowledge keepalives */
	uint32_t next;        /* next data seqno expected (repeats allowed) */
	uint64_t data;        /* data PDUs read, repeats included */
	uint64_t repeats;     /* data PDUs with a seqno already seen */
	uint64_t accepted;    /* connections accepted */
	uint64_t close_after; /* close after this many data PDUs, 0: never */
};

static void
mdf_open(struct mdf *m)
{
	unsigned port;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->ack = true;
	CHECK((m->lfd = cl_net_listen("127.0.0.1:0", &port)) >= 0);
	snprintf(m->port, sizeof(m->port), "%u", port);
	cl_buf_init(&m->in, 4u * 1024 * 1024);
}

static void
mdf_drop(struct mdf *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	cl_buf_reset(&m->in);
}

static void
mdf_close(struct mdf *m)
{
	mdf_drop(m);
	close(m->lfd);
	cl_buf_release(&m->in);
}

static void
mdf_send(struct mdf *m, const struct cl_x2x3_pdu *p)
{
	struct cl_buf b;

	cl_buf_init(&b, 4096);
	CHECK_INT_EQ(cl_x2x3_encode(&b, p), 0);
	/* 48 octets into an empty socket buffer: one write. */
	CHECK(write(m->fd, b.d, b.len) == (ssize_t)b.len);
	cl_buf_release(&b);
}

/* Reads and answers what the POI sent. */
static void
mdf_read(struct mdf *m)
{
	struct cl_x2x3_pdu p, ack;
	uint8_t tmp[65536];
	const char *why;
	size_t used, off = 0;
	ssize_t k;
	int r;

	k = read(m->fd, tmp, sizeof(tmp));
	if (k <= 0) {
		CHECK(k == 0 || errno == EAGAIN || errno == ECONNRESET);
		if (k == 0 || errno == ECONNRESET)
			mdf_drop(m);
		return;
	}
	CHECK_INT_EQ(cl_buf_put(&m->in, tmp, (size_t)k), 0);
	for (;;) {
		r = cl_x2x3_decode(
		    m->in.d + off, m->in.len - off, &p, &used, &why);
		if (r == CL_ERR_TRUNCATED)
			break;
		if (r != 0)
			cl_test_fail(__FILE__, __LINE__, "decode: %s", why);
		off += used;
		if (p.type == CL_X2X3_KEEPALIVE) {
			if (m->ack) {
				cl_x2x3_keepalive(&ack, true, p.seqno);
				mdf_send(m, &ack);
			}
			continue;
		}
		CHECK_INT_EQ(p.type, CL_X2X3_X3);
		CHECK(p.has_seqno);
		CHECK_MEM_EQ(p.xid, XID, 16);
		m->data++;
		if (p.seqno < m->next)
			m->repeats++;
		else {
			/* in order, nothing skipped */
			CHECK_INT_EQ(p.seqno, m->next);
			m->next++;
		}
		CHECK_INT_EQ(p.payload.len, 100 + p.seqno % 50);
		if (m->close_after != 0 && m->data == m->close_after) {
			m->close_after = 0;
			mdf_drop(m);
			return;
		}
	}
	memmove(m->in.d, m->in.d + off, m->in.len - off);
	m->in.len -= off;
}

/* One round of the loop: poll the POI's socket and the MDF's. */
static void
step(struct cl_out *o, struct mdf *m)
{
	struct pollfd pfd[3];
	int64_t now = cl_out_now_ms();
	int t = cl_out_timeout(o, now), n = 0, k, ofd = -1;
	short orev = 0;

	if (cl_out_pollfd(o, &pfd[n])) {
		ofd = n++;
	}
	pfd[n].fd = m->lfd;
	pfd[n++].events = POLLIN;
	if (m->fd >= 0) {
		pfd[n].fd = m->fd;
		pfd[n++].events = POLLIN;
	}
	if (t < 0 || t > 50)
		t = 50;
	k = poll(pfd, (nfds_t)n, t);
	CHECK(k >= 0 || errno == EINTR);
	if (k > 0 && ofd >= 0)
		orev = pfd[ofd].revents;
	cl_out_run(o, orev, cl_out_now_ms());
	if (k > 0 && (pfd[ofd + 1].revents & POLLIN)) {
		int fd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK);

		if (fd >= 0) {
			mdf_drop(m); /* one connection at a time */
			m->fd = fd;
			m->accepted++;
		}
	}
	if (k > 0 && m->fd >= 0 && n == ofd + 3 && pfd[ofd + 2].revents)
		mdf_read(m);
}

static void
pdu(struct cl_x2x3_pdu *p, uint32_t seq, uint8_t *payload)
{
	memset(p, 0, sizeof(*p));
	p->type = CL_X2X3_X3;
	p->pformat = CL_X2X3_PF_IPV4;
	p->pdir = CL_X2X3_DIR_FROM_TARGET;
	memcpy(p->xid, XID, 16);
	p->has_seqno = true;
	p->seqno = seq;
	memset(payload, (int)(seq & 0xff), 100 + seq % 50);
	p->payload.p = payload;
	p->payload.len = 100 + seq % 50;
}

static struct cl_out *
out_new(struct mdf *m, size_t mem_max, unsigned ack_timeout_ms)
{
	struct cl_out_cfg cfg = {
	    .host = "127.0.0.1",
	    .port = m->port,
	    .mem_max = mem_max,
	    .keepalive_ms = 50,
	    .ack_timeout_ms = ack_timeout_ms,
	};
	struct cl_out *o = NULL;

	CHECK_INT_EQ(cl_out_new(&cfg, &o), 0);
	return o;
}

/* Runs the loop until cond holds, for at most ms. */
#define RUN_UNTIL(o, m, cond, ms)                                              \
	do {                                                                   \
		int64_t end_ = cl_out_now_ms() + (ms);                         \
		while (!(cond)) {                                              \
			if (cl_out_now_ms() > end_)                            \
				cl_test_fail(__FILE__, __LINE__,               \
				    "timeout waiting for %s", #cond);          \
			step((o), (m));                                        \
		}                                                              \
	} while (0)

CL_TEST(delivers_in_order_and_confirms)
{
	static uint8_t payload[256];
	struct cl_x2x3_pdu p;
	struct cl_out_stats st;
	struct cl_out *o;
	struct mdf m;
	uint32_t i;

	mdf_open(&m);
	o = out_new(&m, 0, 0);
	for (i = 0; i < 1000; i++) {
		pdu(&p, i, payload);
		CHECK_INT_EQ(cl_out_emit(o, &p), 0);
	}
	CHECK(cl_out_pending(o) > 0);
	RUN_UNTIL(o, &m, m.next == 1000 && cl_out_pending(o) == 0, 10000);
	cl_out_stats(o, &st);
	CHECK_INT_EQ(st.pdus - st.keepalives, 1000); /* keepalives queue too */
	CHECK_INT_EQ(st.acked_bytes, st.bytes);
	CHECK_INT_EQ(st.dropped, 0);
	CHECK(st.connected);
	CHECK_INT_EQ(st.connects, 1);
	CHECK(st.keepalive_acks >= 1);
	CHECK_INT_EQ(m.repeats, 0);
	cl_out_free(o);
	mdf_close(&m);
}

CL_TEST(resends_what_was_not_confirmed)
{
	static uint8_t payload[256];
	struct cl_x2x3_pdu p;
	struct cl_out_stats st;
	struct cl_out *o;
	struct mdf m;
	uint32_t i;

	mdf_open(&m);
	/* The MDF reads 300 PDUs without confirming any, then the
	 * connection drops: all of them come again, then the rest. */
	m.ack = false;
	m.close_after = 300;
	o = out_new(&m, 0, 0);
	for (i = 0; i < 1000; i++) {
		pdu(&p, i, payload);
		CHECK_INT_EQ(cl_out_emit(o, &p), 0);
	}
	RUN_UNTIL(o, &m, m.accepted == 1 && m.fd < 0, 10000);
	CHECK_INT_EQ(m.next, 300);
	m.ack = true;
	RUN_UNTIL(o, &m, m.next == 1000 && cl_out_pending(o) == 0, 15000);
	CHECK(m.repeats >= 300);
	cl_out_stats(o, &st);
	CHECK_INT_EQ(st.connects, 2);
	CHECK(st.disconnects >= 1);
	CHECK_INT_EQ(st.acked_bytes, st.bytes);
	cl_out_free(o);
	mdf_close(&m);
}

CL_TEST(unconfirmed_keepalive_closes)
{
	struct cl_out_stats st;
	struct cl_out *o;
	struct mdf m;

	mdf_open(&m);
	m.ack = false;
	o = out_new(&m, 0, 200);
	RUN_UNTIL(o, &m, (cl_out_stats(o, &st), st.disconnects >= 1), 10000);
	CHECK(st.keepalives >= 1);
	CHECK_INT_EQ(st.keepalive_acks, 0);
	cl_out_free(o);
	mdf_close(&m);
}

CL_TEST(full_queue_drops_and_counts)
{
	static uint8_t payload[256];
	struct cl_x2x3_pdu p;
	struct cl_out_stats st;
	struct cl_out *o;
	struct mdf m;
	uint32_t i;
	int r = 0;

	mdf_open(&m);
	/* Nobody is connected: the queue fills. */
	o = out_new(&m, 1u << 20, 0);
	for (i = 0;
	     i < 100000 && (r = cl_out_emit(o, (pdu(&p, i, payload), &p))) == 0;
	     i++)
		;
	CHECK_INT_EQ(r, CL_ERR_FULL);
	CHECK(cl_out_full(o));
	cl_out_stats(o, &st);
	CHECK_INT_EQ(st.dropped, 1);
	CHECK(st.mem_bytes <= 1u << 20);
	CHECK_INT_EQ(st.pdus - st.keepalives, i);
	cl_out_free(o);
	mdf_close(&m);
}

int
main(void)
{
	CL_RUN(delivers_in_order_and_confirms);
	CL_RUN(resends_what_was_not_confirmed);
	CL_RUN(unconfirmed_keepalive_closes);
	CL_RUN(full_queue_drops_and_counts);
	return cl_test_done();
}
