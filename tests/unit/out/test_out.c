/* SPDX-License-Identifier: ISC */
/*
 * Tests for poi/out: the POI's X2/X3 output to the MDF, driven against an
 * MDF played by the test on a loopback listener of its own (plain TCP).
 * The clock given to cl_out_run() is the test's, so reconnect back-off and
 * the acknowledgement timeout are checked without waiting for them.
 *
 * Covered: framing (what arrives is the queued PDUs, in order, then a
 * keepalive), confirmation by keepalive acknowledgement, resend of the
 * unconfirmed after a reconnect, spill to the spool file and back, a full
 * queue, back-off and its reset, the acknowledgement timeout, the
 * handshake timeout, the MDF's keepalives, and what the MDF must not send:
 * an acknowledgement of a keepalive never sent or not yet sent, one
 * without a sequence number, a PDU of another type, a malformed PDU.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "err.h"
#include "harness.h"
#include "log.h"
#include "out.h"
#include "x2x3.h"

#ifndef POI_OUT_H
#error "out.h must be the POI's (poi/out.h)"
#endif

#define WAIT_MS 10000 /* real time allowed for any one condition */
#define MAXSEQ  20000

/* The MDF side: a listener and at most one accepted connection. */
struct mdf {
	int lfd, cfd;
	char port[8];
	bool reading; /* false: leave the POI's data in the socket */
	struct cl_buf in;
	/* What arrived on the current connection, decoded. */
	uint32_t seqs[MAXSEQ]; /* sequence numbers of the data PDUs */
	size_t ndata;
	uint64_t data_bytes; /* encoded bytes of data PDUs */
	bool bad_payload;
	uint32_t last_ka; /* sequence number of the last keepalive */
	size_t nka;
	uint32_t last_ka_ack; /* a keepalive ack the POI sent */
	size_t nka_ack;
	bool malformed;
	size_t accepts;
};

static struct mdf M;
static int64_t now = 1000000; /* the clock given to the output */
static char logdir[256];

static void
mdf_reset_conn(struct mdf *m)
{
	cl_buf_reset(&m->in);
	m->ndata = 0;
	m->data_bytes = 0;
	m->nka = m->nka_ack = 0;
	m->last_ka = m->last_ka_ack = 0;
}

static void
mdf_listen(struct mdf *m)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	m->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK(m->lfd != -1);
	CHECK(bind(m->lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CHECK(listen(m->lfd, 4) == 0);
	CHECK(getsockname(m->lfd, (struct sockaddr *)&sin, &sl) == 0);
	snprintf(m->port, sizeof(m->port), "%u", ntohs(sin.sin_port));
}

static void
mdf_start(struct mdf *m)
{
	memset(m, 0, sizeof(*m));
	m->cfd = -1;
	m->reading = true;
	cl_buf_init(&m->in, 8u * 1024 * 1024);
	mdf_listen(m);
}

static void
mdf_drop(struct mdf *m)
{
	if (m->cfd != -1)
		close(m->cfd);
	m->cfd = -1;
	mdf_reset_conn(m);
}

static void
mdf_stop(struct mdf *m)
{
	mdf_drop(m);
	if (m->lfd != -1)
		close(m->lfd);
	m->lfd = -1;
	cl_buf_release(&m->in);
}

/*
 * A port that refuses connections: bound, so that no one else takes it,
 * and not listening.  Returns the socket, to be closed after the test.
 */
static int
dead_port(char port[8])
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK(fd != -1);
	CHECK(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	CHECK(getsockname(fd, (struct sockaddr *)&sin, &sl) == 0);
	snprintf(port, 8, "%u", ntohs(sin.sin_port));
	return fd;
}

static void
mdf_decode(struct mdf *m)
{
	struct cl_x2x3_pdu pdu;
	size_t used;
	int r;

	while (m->in.len > 0) {
		r = cl_x2x3_decode(m->in.d, m->in.len, &pdu, &used, NULL);
		if (r == CL_ERR_TRUNCATED)
			return;
		if (r != 0) {
			m->malformed = true;
			return;
		}
		if (pdu.type == CL_X2X3_KEEPALIVE) {
			m->last_ka = pdu.seqno;
			m->nka++;
		} else if (pdu.type == CL_X2X3_KEEPALIVE_ACK) {
			m->last_ka_ack = pdu.seqno;
			m->nka_ack++;
		} else {
			/* Each test PDU carries its number in its payload. */
			if (pdu.payload.len < 4 ||
			    memcmp(pdu.payload.p, &pdu.seqno, 4) != 0)
				m->bad_payload = true;
			if (m->ndata < MAXSEQ)
				m->seqs[m->ndata] = pdu.seqno;
			m->ndata++;
			m->data_bytes += used;
		}
		CHECK(cl_buf_consume(&m->in, used) == 0);
	}
}

static void
mdf_send_raw(struct mdf *m, const void *p, size_t n)
{
	CHECK(m->cfd != -1);
	CHECK(write(m->cfd, p, n) == (ssize_t)n);
}

static void
mdf_send(struct mdf *m, uint16_t type, bool has_seqno, uint32_t seq)
{
	struct cl_x2x3_pdu pdu;
	struct cl_buf b;

	cl_x2x3_keepalive(&pdu, type == CL_X2X3_KEEPALIVE_ACK, seq);
	pdu.has_seqno = has_seqno;
	cl_buf_init(&b, 4096);
	CHECK(cl_x2x3_encode(&b, &pdu) == 0);
	mdf_send_raw(m, b.d, b.len);
	cl_buf_release(&b);
}

/*
 * One turn of the loop: poll the output's socket and the MDF's for up to
 * 10 ms, let the MDF accept and read, then run the output at the test's
 * clock.
 */
static void
step(struct cl_out *o)
{
	struct pollfd p[3];
	nfds_t n = 0, io = 3, il = 3, ic = 3;
	uint8_t *w;
	ssize_t k;

	if (cl_out_pollfd(o, &p[n]))
		io = n++;
	if (M.lfd != -1 && M.cfd == -1) {
		p[n].fd = M.lfd;
		p[n].events = POLLIN;
		il = n++;
	}
	if (M.cfd != -1 && M.reading) {
		p[n].fd = M.cfd;
		p[n].events = POLLIN;
		ic = n++;
	}
	for (nfds_t i = 0; i < n; i++)
		p[i].revents = 0;
	CHECK(poll(p, n, 10) >= 0);
	if (il < 3 && (p[il].revents & POLLIN)) {
		M.cfd =
		    accept4(M.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (M.cfd != -1) {
			M.accepts++;
			mdf_reset_conn(&M);
		}
	}
	if (ic < 3 && p[ic].revents != 0) {
		for (;;) {
			CHECK(cl_buf_reserve(&M.in, 65536, &w) == 0);
			M.in.len -= 65536;
			k = read(M.cfd, w, 65536);
			if (k <= 0) {
				if (k == 0 ||
				    (errno != EAGAIN && errno != EINTR))
					mdf_drop(&M); /* the POI closed */
				break;
			}
			M.in.len += (size_t)k;
			mdf_decode(&M);
		}
	}
	cl_out_run(o, io < 3 ? p[io].revents : 0, now);
}

/* Runs the loop until cond holds; fails the test after WAIT_MS. */
#define UNTIL(o, cond)                                                         \
	do {                                                                   \
		int64_t end_ = cl_out_now_ms() + WAIT_MS;                      \
		while (!(cond)) {                                              \
			if (cl_out_now_ms() > end_)                            \
				cl_test_fail(__FILE__, __LINE__,               \
				    "timed out waiting for %s", #cond);        \
			step(o);                                               \
		}                                                              \
	} while (0)

static struct cl_out_stats
stats(const struct cl_out *o)
{
	struct cl_out_stats st;

	cl_out_stats(o, &st);
	return st;
}

/* An X2 PDU numbered seq, with a payload of len bytes starting with seq. */
static void
emit(struct cl_out *o, uint32_t seq, size_t len)
{
	static uint8_t pl[CL_X2X3_MAX_PAYLOAD];
	struct cl_x2x3_pdu pdu;

	CHECK(len >= 4 && len <= sizeof(pl));
	memset(&pdu, 0, sizeof(pdu));
	pdu.type = CL_X2X3_X2;
	pdu.pformat = CL_X2X3_PF_RADIUS;
	pdu.pdir = CL_X2X3_DIR_TO_TARGET;
	pdu.xid[0] = 0x42;
	pdu.has_seqno = true;
	pdu.seqno = seq;
	memset(pl, (int)(seq & 0xff), len);
	memcpy(pl, &seq, 4);
	pdu.payload.p = pl;
	pdu.payload.len = len;
	CHECK_INT_EQ(cl_out_emit(o, &pdu), 0);
}

static struct cl_out *
out_new(const char *port, size_t mem_max, const char *spool)
{
	struct cl_out_cfg cfg;
	struct cl_out *o = NULL;

	memset(&cfg, 0, sizeof(cfg));
	cfg.host = "127.0.0.1";
	cfg.port = port;
	cfg.mem_max = mem_max;
	cfg.spool_path = spool;
	cfg.keepalive_ms = 1000;
	cfg.ack_timeout_ms = 5000;
	CHECK_INT_EQ(cl_out_new(&cfg, &o), 0);
	return o;
}

/* Connects o to the MDF and waits for its first keepalive. */
static void
connect_up(struct cl_out *o)
{
	UNTIL(o, stats(o).connected && M.nka > 0);
}

/* stderr into a file while a test runs, to check the log lines. */
static int saved_stderr = -1;
static FILE *logfile;

static void
log_capture(void)
{
	if (saved_stderr != -1) { /* a failed test left it on */
		fflush(stderr);
		(void)dup2(saved_stderr, 2);
		close(saved_stderr);
		fclose(logfile);
		saved_stderr = -1;
	}
	CHECK((logfile = tmpfile()) != NULL);
	fflush(stderr);
	saved_stderr = dup(2);
	CHECK(dup2(fileno(logfile), 2) == 2);
}

/* Ends the capture; returns what was logged (static buffer). */
static const char *
log_end(void)
{
	static char text[65536];
	size_t n;

	fflush(stderr);
	CHECK(dup2(saved_stderr, 2) == 2);
	close(saved_stderr);
	saved_stderr = -1;
	rewind(logfile);
	n = fread(text, 1, sizeof(text) - 1, logfile);
	text[n] = '\0';
	fclose(logfile);
	fputs(text, stderr); /* still seen in the test log */
	return text;
}

CL_TEST(bad_config)
{
	struct cl_out_cfg cfg;
	struct cl_out *o = (struct cl_out *)&cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.port = "1";
	CHECK_INT_EQ(cl_out_new(&cfg, &o), CL_ERR_INVALID_ARG);
	CHECK(o == NULL);
	/* A spool file in a directory others may write is refused. */
	cfg.host = "127.0.0.1";
	cfg.spool_path = "/tmp/clearli-out-test.spool";
	o = (struct cl_out *)&cfg;
	CHECK(cl_out_new(&cfg, &o) != 0);
	CHECK(o == NULL);
}

/* PDUs queued before the connection arrive in order, unchanged, followed
 * by a keepalive; its acknowledgement confirms them all. */
CL_TEST(deliver_and_confirm)
{
	struct cl_out *o;
	struct cl_out_stats st;
	uint32_t i;

	mdf_start(&M);
	o = out_new(M.port, 0, NULL);
	for (i = 1; i <= 100; i++)
		emit(o, i, 100 + i);
	st = stats(o);
	CHECK_INT_EQ(st.pdus, 100);
	CHECK(!st.connected);
	CHECK_INT_EQ(cl_out_pending(o), st.bytes);
	connect_up(o);
	CHECK_INT_EQ(M.ndata, 100);
	for (i = 0; i < 100; i++)
		CHECK_INT_EQ(M.seqs[i], i + 1);
	CHECK(!M.bad_payload && !M.malformed);
	CHECK_INT_EQ(M.nka, 1);
	/* Nothing is confirmed before the MDF says so. */
	st = stats(o);
	CHECK_INT_EQ(st.acked_bytes, 0);
	CHECK(cl_out_pending(o) > 0);
	CHECK_INT_EQ(st.sent_bytes, st.bytes);
	mdf_send(&M, CL_X2X3_KEEPALIVE_ACK, true, M.last_ka);
	UNTIL(o, cl_out_pending(o) == 0);
	st = stats(o);
	CHECK_INT_EQ(st.keepalive_acks, 1);
	CHECK_INT_EQ(st.acked_bytes, st.bytes);
	CHECK_INT_EQ(st.unacked_bytes, 0);
	/* A repeated acknowledgement changes nothing. */
	mdf_send(&M, CL_X2X3_KEEPALIVE_ACK, true, M.last_ka);
	for (i = 0; i < 5; i++)
		step(o);
	CHECK(stats(o).connected);
	CHECK_INT_EQ(stats(o).keepalive_acks, 1);
	/* cl_out_barrier() sends a keepalive only if data followed the last
	 * one. */
	cl_out_barrier(o, now);
	CHECK_INT_EQ(stats(o).keepalives, 1);
	emit(o, 101, 10);
	cl_out_barrier(o, now);
	UNTIL(o, M.nka == 2);
	CHECK_INT_EQ(M.ndata, 101);
	mdf_send(&M, CL_X2X3_KEEPALIVE_ACK, true, M.last_ka);
	UNTIL(o, cl_out_pending(o) == 0);
	/* The repeat, which came before, was not counted. */
	CHECK_INT_EQ(stats(o).keepalive_acks, 2);
	CHECK_INT_EQ(stats(o).disconnects, 0);
	cl_out_free(o);
	mdf_stop(&M);
}

/* A keepalive every keepalive_ms of the output's clock while idle. */
CL_TEST(keepalive_timer)
{
	struct cl_out *o;
	int t;

	mdf_start(&M);
	o = out_new(M.port, 0, NULL);
	connect_up(o);
	t = cl_out_timeout(o, now);
	CHECK(t > 0 && t <= 1000);
	now += t;
	CHECK_INT_EQ(cl_out_timeout(o, now), 0);
	UNTIL(o, M.nka == 2);
	CHECK_INT_EQ(M.last_ka, 2);
	CHECK_INT_EQ(M.ndata, 0);
	mdf_send(&M, CL_X2X3_KEEPALIVE_ACK, true, 2);
	UNTIL(o, stats(o).keepalive_acks == 1);
	CHECK_INT_EQ(cl_out_pending(o), 0);
	cl_out_free(o);
	mdf_stop(&M);
}

/*
 * At most 4096 keepalives await their ack (KA_MAX); past that the timer
 * waits for the next interval (it used to be due at once, forever: a busy
 * loop) and keepalives resume once acks arrive.
 */
CL_TEST(keepalives_in_flight_bounded)
{
	struct cl_out_cfg cfg;
	struct cl_out *o = NULL;
	int i;

	mdf_start(&M);
	memset(&cfg, 0, sizeof(cfg));
	cfg.host = "127.0.0.1";
	cfg.port = M.port;
	cfg.keepalive_ms = 1000;
	cfg.ack_timeout_ms = 100000000;
	CHECK_INT_EQ(cl_out_new(&cfg, &o), 0);
	connect_up(o);
	for (i = 0; i < 5000; i++) {
		now += 1000;
		cl_out_run(o, 0, now);
	}
	CHECK(stats(o).connected);
	CHECK_INT_EQ(stats(o).keepalives, 4096);
	CHECK(cl_out_timeout(o, now) > 0);
	UNTIL(o, M.nka == 4096);
	mdf_send(&M, CL_X2X3_KEEPALIVE_ACK, true, 4096);
	UNTIL(o, stats(o).keepalive_acks == 1);
	CHECK_INT_EQ(cl_out_pending(o), 0);
	now += 1000;
	UNTIL(o, M.nka == 4097);
	CHECK_INT_EQ(M.last_ka, 4097);
	cl_out_free(o);
	mdf_stop(&M);
}

/* The MDF's own keepalive is answered with an ack of its number. */
CL_TEST(mdf_keepalive_answered)
{
	struct cl_out *o;

	mdf_start(&M);
	o = out_new(M.port, 0, NULL);
	connect_up(o);
	mdf_send(&M, CL_X2X3_KEEPALIVE, true, 77);
	UNTIL(o, M.nka_ack == 1);
	CHECK_INT_EQ(M.last_ka_ack, 77);
	CHECK(stats(o).connected);
	cl_out_free(o);
	mdf_stop(&M);
}

/* The unconfirmed is sent again, whole and in order, after a reconnect;
 * the confirmed is not. */
CL_TEST(resend_after_reconnect)
{
	struct cl_out *o;
	struct cl_out_stats st;
	uint32_t i;
	int t;

	mdf_start(&M);
	o = out_new(M.port, 0, NULL);
	for (i = 1; i <= 10; i++)
		emit(o, i, 1000);
	connect_up(o);
	CHECK_INT_EQ(M.ndata, 10);
	mdf_send(&M, CL_X2X3_KEEPALIVE_ACK, true, M.last_ka);
	UNTIL(o, cl_out_pending(o) == 0);
	for (i = 11; i <= 20; i++)
		emit(o, i, 1000);
	cl_out_barrier(o, now);
	UNTIL(o, M.ndata == 20 && M.nka == 2);
	/* The MDF goes away before confirming 11-20. */
	log_capture();
	mdf_drop(&M);
	UNTIL(o, !stats(o).connected);
	CHECK(strstr(log_end(), "connection lost: closed by the MDF") != NULL);
	st = stats(o);
	CHECK_INT_EQ(st.disconnects, 1);
	CHECK(cl_out_pending(o) > 0);
	/* No attempt before the back-off has passed. */
	t = cl_out_timeout(o, now);
	CHECK(t >= 75 && t < 125);
	for (i = 0; i < 3; i++)
		step(o);
	CHECK_INT_EQ(M.accepts, 1);
	now += t;
	UNTIL(o, stats(o).connected && M.nka > 0 && M.ndata == 10);
	CHECK_INT_EQ(M.accepts, 2);
	for (i = 0; i < 10; i++)
		CHECK_INT_EQ(M.seqs[i], 11 + i);
	mdf_send(&M, CL_X2X3_KEEPALIVE_ACK, true, M.last_ka);
	UNTIL(o, cl_out_pending(o) == 0);
	st = stats(o);
	CHECK_INT_EQ(st.connects, 2);
	CHECK_INT_EQ(st.acked_bytes, st.bytes);
	cl_out_free(o);
	mdf_stop(&M);
}

/* Back-off doubles from 100 ms to 30 s, with jitter within +-25 %, and
 * starts again from 100 ms after a connection. */
CL_TEST(backoff)
{
	char port[8];
	struct cl_out *o;
	unsigned b = 100;
	int i, t, dead;

	dead = dead_port(port);
	o = out_new(port, 0, NULL);
	CHECK_INT_EQ(cl_out_timeout(o, now), 0); /* first attempt at once */
	log_capture();
	for (i = 0; i < 12; i++) {
		uint64_t f = stats(o).connect_failures;

		{
			int64_t end = cl_out_now_ms() + WAIT_MS;

			while (stats(o).connect_failures == f &&
			    cl_out_now_ms() < end)
				step(o);
		}
		CHECK_INT_EQ(stats(o).connect_failures, f + 1);
		t = cl_out_timeout(o, now);
		if (t < (int)(b * 3 / 4) || t >= (int)(b * 5 / 4)) {
			log_end();
			cl_test_fail(__FILE__, __LINE__,
			    "attempt %d: retry in %d ms, back-off %u", i, t, b);
		}
		/* Nothing happens before it is due. */
		now += t - 1;
		step(o);
		CHECK_INT_EQ(stats(o).connect_failures, f + 1);
		now += 1;
		b = b * 2 > 30000 ? 30000 : b * 2;
	}
	CHECK(strstr(log_end(), "Connection refused") != NULL);
	CHECK_INT_EQ(b, 30000);
	CHECK(!stats(o).connected);
	cl_out_free(o);
	close(dead);

	/* After a connection, a failure waits 100 ms again. */
	mdf_start(&M);
	o = out_new(M.port, 0, NULL);
	connect_up(o);
	mdf_drop(&M);
	UNTIL(o, !stats(o).connected);
	t = cl_out_timeout(o, now);
	CHECK(t >= 75 && t < 125);
	cl_out_free(o);
	mdf_stop(&M);
}

/* A keepalive left unacknowledged for ack_timeout_ms closes the
 * connection. */
CL_TEST(ack_timeout)
{
	struct cl_out *o;

	mdf_start(&M);
	o = out_new(M.port, 0, NULL);
	emit(o, 1, 100);
	connect_up(o);
	now += 4999;
	step(o);
	step(o);
	CHECK(stats(o).connected);
	log_capture();
	now += 2;
	UNTIL(o, !stats(o).connected);
	CHECK(strstr(log_end(), "keepalive not acknowledged in time") != NULL);
	CHECK_INT_EQ(stats(o).disconnects, 1);
	CHECK_INT_EQ(cl_out_pending(o), stats(o).bytes);
	cl_out_free(o);
	mdf_stop(&M);
}

/* A TLS peer that accepts TCP and never answers the handshake is given up
 * after the connect timeout (10 s of the output's clock). */
CL_TEST(handshake_timeout)
{
	struct cl_out_cfg cfg;
	struct cl_out *o = NULL;
	SSL_CTX *ctx;
	int i;

	mdf_start(&M);
	M.reading = false;
	CHECK((ctx = SSL_CTX_new(TLS_client_method())) != NULL);
	memset(&cfg, 0, sizeof(cfg));
	cfg.host = "127.0.0.1";
	cfg.port = M.port;
	cfg.tls = ctx;
	CHECK_INT_EQ(cl_out_new(&cfg, &o), 0);
	UNTIL(o, M.accepts == 1);
	for (i = 0; i < 5; i++)
		step(o);
	CHECK(!stats(o).connected);
	CHECK_INT_EQ(stats(o).connect_failures, 0);
	CHECK(cl_out_timeout(o, now) > 9000);
	log_capture();
	now += 10000;
	step(o);
	CHECK(strstr(log_end(), "TLS handshake timed out") != NULL);
	CHECK_INT_EQ(stats(o).connect_failures, 1);
	cl_out_free(o);
	SSL_CTX_free(ctx);
	mdf_stop(&M);
}

/*
 * Fills the connection (the MDF does not read) so that keepalives are
 * queued but not yet written, then has the MDF send ack.  The output must
 * refuse it, close the connection naming why, keep every byte, and send it
 * all again on the next connection.
 */
static void
premature_ack(bool never_sent)
{
	struct cl_out *o;
	struct cl_out_stats st;
	const char *log;
	uint32_t i, n = 0, seq;

	mdf_start(&M);
	M.reading = false;
	o = out_new(M.port, 0, NULL);
	UNTIL(o, stats(o).connected && M.cfd != -1);
	/* 32 MiB: more than the socket buffers hold. */
	for (i = 1; i <= 128; i++)
		emit(o, ++n, 256 * 1024 - 64);
	for (i = 0; i < 50; i++)
		step(o);
	st = stats(o);
	CHECK(st.sent_bytes < st.bytes);
	CHECK(st.keepalives > 2);
	/* Keepalive 1 went out at once; the last is queued behind data. */
	seq = never_sent ? (uint32_t)st.keepalives + 1000
			 : (uint32_t)st.keepalives;
	log_capture();
	mdf_send(&M, CL_X2X3_KEEPALIVE_ACK, true, seq);
	UNTIL(o, !stats(o).connected);
	log = log_end();
	CHECK(strstr(log, never_sent ? "never sent" : "not yet sent") != NULL);
	st = stats(o);
	CHECK_INT_EQ(st.acked_bytes, 0);
	CHECK_INT_EQ(cl_out_pending(o), st.bytes);
	/* Everything comes again, in order, to an MDF that reads. */
	mdf_drop(&M);
	M.reading = true;
	now += cl_out_timeout(o, now);
	UNTIL(o, M.ndata == n && M.nka == st.keepalives + 1);
	for (i = 0; i < n; i++)
		CHECK_INT_EQ(M.seqs[i], i + 1);
	CHECK(!M.bad_payload && !M.malformed);
	mdf_send(&M, CL_X2X3_KEEPALIVE_ACK, true, M.last_ka);
	UNTIL(o, cl_out_pending(o) == 0);
	cl_out_free(o);
	mdf_stop(&M);
}

CL_TEST(ack_of_keepalive_never_sent)
{
	premature_ack(true);
}

CL_TEST(ack_of_keepalive_not_yet_sent)
{
	premature_ack(false);
}

/* What the MDF must not send closes the connection with the reason. */
static void
refused(const void *bytes, size_t n, uint16_t type, bool has_seqno,
    const char *reason)
{
	struct cl_out *o;

	mdf_start(&M);
	o = out_new(M.port, 0, NULL);
	emit(o, 1, 10);
	connect_up(o);
	log_capture();
	if (bytes != NULL)
		mdf_send_raw(&M, bytes, n);
	else
		mdf_send(&M, type, has_seqno, M.last_ka);
	UNTIL(o, !stats(o).connected);
	if (strstr(log_end(), reason) == NULL)
		cl_test_fail(
		    __FILE__, __LINE__, "log does not say \"%s\"", reason);
	CHECK_INT_EQ(stats(o).acked_bytes, 0);
	CHECK_INT_EQ(cl_out_pending(o), stats(o).bytes);
	cl_out_free(o);
	mdf_stop(&M);
}

CL_TEST(refused_from_mdf)
{
	static const uint8_t garbage[48] = {0x00, 0x09, 0x00, 0x01};
	struct cl_x2x3_pdu pdu;
	struct cl_buf b;

	refused(garbage, sizeof(garbage), 0, false,
	    "MDF sent a malformed PDU (unsupported version)");
	refused(NULL, 0, CL_X2X3_KEEPALIVE_ACK, false,
	    "keepalive acknowledgement without a sequence number");
	/* An X2 PDU. */
	memset(&pdu, 0, sizeof(pdu));
	pdu.type = CL_X2X3_X2;
	pdu.pformat = CL_X2X3_PF_RADIUS;
	pdu.pdir = CL_X2X3_DIR_TO_TARGET;
	pdu.xid[0] = 1;
	cl_buf_init(&b, 4096);
	CHECK(cl_x2x3_encode(&b, &pdu) == 0);
	refused(b.d, b.len, 0, false, "MDF sent an unexpected PDU type");
	cl_buf_release(&b);
}

/* Past mem_max, chunks go to the spool file and come back in order. */
CL_TEST(spill_and_drain)
{
	char path[300];
	struct cl_out *o;
	struct cl_out_stats st;
	struct stat sb;
	uint32_t i, n = 0;

	snprintf(path, sizeof(path), "%s/out.spool", logdir);
	mdf_start(&M);
	o = out_new(M.port, 1024 * 1024, path);
	CHECK(stat(path, &sb) == 0 && S_ISREG(sb.st_mode));
	CHECK_INT_EQ(sb.st_mode & 077, 0);
	/* 4 MiB while the MDF is not yet reached. */
	while (n < 4 * 64)
		emit(o, ++n, 16 * 1024);
	st = stats(o);
	CHECK(st.spilled_bytes > 2 * 1024 * 1024);
	CHECK(st.mem_bytes <= 1024 * 1024);
	CHECK(st.spool_bytes > 0);
	CHECK_INT_EQ(st.dropped, 0);
	CHECK(stat(path, &sb) == 0 && (uint64_t)sb.st_size >= st.spilled_bytes);
	connect_up(o);
	UNTIL(o, M.ndata == n && M.nka == st.keepalives + 1);
	for (i = 0; i < n; i++)
		CHECK_INT_EQ(M.seqs[i], i + 1);
	CHECK(!M.bad_payload && !M.malformed);
	mdf_send(&M, CL_X2X3_KEEPALIVE_ACK, true, M.last_ka);
	UNTIL(o, cl_out_pending(o) == 0);
	st = stats(o);
	CHECK_INT_EQ(st.spool_bytes, 0);
	CHECK(st.mem_bytes <= 256 * 1024);
	/* The drained spool file starts again from zero. */
	CHECK(stat(path, &sb) == 0);
	CHECK_INT_EQ(sb.st_size, 0);
	cl_out_free(o);
	/* ... and is removed with the output. */
	CHECK(stat(path, &sb) == -1 && errno == ENOENT);
	mdf_stop(&M);
}

/* While cl_out_full() is false a PDU is never dropped; once memory and
 * spool are full, PDUs are dropped, counted and logged. */
/* A PDU encoded elsewhere (the match role) goes out octet for octet,
 * between PDUs queued by cl_out_emit(), and is confirmed like them; a
 * drop when full is counted with its payload length. */
CL_TEST(emit_encoded)
{
	static uint8_t pl[300];
	struct cl_x2x3_pdu pdu;
	struct cl_out_stats st;
	const char *why;
	struct cl_buf b;
	struct cl_out *o;
	uint32_t i;

	mdf_start(&M);
	o = out_new(M.port, 0, NULL);
	emit(o, 1, 100);
	memset(&pdu, 0, sizeof(pdu));
	pdu.type = CL_X2X3_X2;
	pdu.pformat = CL_X2X3_PF_RADIUS;
	pdu.pdir = CL_X2X3_DIR_TO_TARGET;
	pdu.xid[0] = 0x42;
	pdu.has_seqno = true;
	pdu.seqno = 2;
	i = 2;
	memset(pl, 2, sizeof(pl));
	memcpy(pl, &i, 4);
	pdu.payload.p = pl;
	pdu.payload.len = sizeof(pl);
	cl_buf_init(&b, 4096);
	CHECK_INT_EQ(cl_x2x3_encode(&b, &pdu), 0);
	CHECK_INT_EQ(cl_out_emit_encoded(o, b.d, b.len, &why), 0);
	/* Records that would break the stream's framing are refused and not
	 * queued: cut short, one octet more, lengths that do not add up, a
	 * keepalive (the output's own), another version. */
	{
		uint8_t bad[4096];

		CHECK(b.len + 1 <= sizeof(bad));
		CHECK_INT_EQ(cl_out_emit_encoded(o, b.d, b.len - 1, &why),
		    CL_ERR_FORMAT);
		CHECK(strstr(why, "add up") != NULL);
		memcpy(bad, b.d, b.len);
		bad[b.len] = 0;
		CHECK_INT_EQ(cl_out_emit_encoded(o, bad, b.len + 1, &why),
		    CL_ERR_FORMAT);
		CHECK_INT_EQ(
		    cl_out_emit_encoded(o, bad, 12, &why), CL_ERR_FORMAT);
		bad[3] = CL_X2X3_KEEPALIVE;
		CHECK_INT_EQ(
		    cl_out_emit_encoded(o, bad, b.len, &why), CL_ERR_FORMAT);
		CHECK(strstr(why, "not an X2 or X3") != NULL);
		memcpy(bad, b.d, b.len);
		bad[1] = 4;
		CHECK_INT_EQ(
		    cl_out_emit_encoded(o, bad, b.len, &why), CL_ERR_FORMAT);
		memcpy(bad, b.d, b.len);
		bad[11] ^= 1; /* payload length */
		CHECK_INT_EQ(
		    cl_out_emit_encoded(o, bad, b.len, &why), CL_ERR_FORMAT);
	}
	emit(o, 3, 120);
	st = stats(o);
	CHECK_INT_EQ(st.pdus, 3);
	CHECK_INT_EQ(st.dropped, 0);
	connect_up(o);
	CHECK_INT_EQ(M.ndata, 3);
	for (i = 0; i < 3; i++)
		CHECK_INT_EQ(M.seqs[i], i + 1);
	CHECK(!M.bad_payload && !M.malformed);
	mdf_send(&M, CL_X2X3_KEEPALIVE_ACK, true, M.last_ka);
	UNTIL(o, cl_out_pending(o) == 0);
	cl_out_free(o);
	mdf_stop(&M);

	/* Full: dropped, counted, logged. */
	{
		char port[8];
		int dead = dead_port(port), k;

		o = out_new(port, 1024 * 1024, NULL);
		log_capture();
		for (k = 0; k < 100000; k++)
			if (cl_out_emit_encoded(o, b.d, b.len, &why) != 0)
				break;
		CHECK(strstr(log_end(), "X2/X3 output full") != NULL);
		CHECK(k < 100000);
		st = stats(o);
		CHECK_INT_EQ(st.dropped, 1);
		CHECK_INT_EQ(st.dropped_bytes, sizeof(pl));
		cl_out_free(o);
		close(dead);
	}
	cl_buf_release(&b);
}

CL_TEST(full_drops)
{
	char port[8];
	struct cl_out *o;
	struct cl_out_stats st;
	struct cl_x2x3_pdu pdu;
	uint32_t n = 0;
	int i, dead;

	dead = dead_port(port);
	o = out_new(port, 1024 * 1024, NULL);
	while (!cl_out_full(o) && n < 1000)
		emit(o, ++n, 64 * 1024);
	CHECK(cl_out_full(o));
	CHECK(n >= 4); /* two chunks of the four mem_max holds */
	st = stats(o);
	CHECK_INT_EQ(st.dropped, 0);
	memset(&pdu, 0, sizeof(pdu));
	pdu.type = CL_X2X3_X3;
	pdu.pformat = CL_X2X3_PF_IPV4;
	pdu.pdir = CL_X2X3_DIR_FROM_TARGET;
	pdu.xid[0] = 1;
	pdu.payload.p = (const uint8_t *)"0123456789";
	pdu.payload.len = 10;
	log_capture();
	for (i = 0; i < 100000; i++)
		if (cl_out_emit(o, &pdu) == CL_ERR_FULL)
			break;
	CHECK(strstr(log_end(), "X2/X3 output full") != NULL);
	CHECK(i < 100000);
	st = stats(o);
	CHECK_INT_EQ(st.dropped, 1);
	CHECK_INT_EQ(st.dropped_bytes, 10);
	CHECK(st.mem_bytes <= 1024 * 1024 + 2 * 256 * 1024);
	cl_out_free(o);
	close(dead);
}

int
main(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(logdir, sizeof(logdir), "%s/out-test-XXXXXX",
	    base != NULL && base[0] != '\0' ? base : "/tmp");
	if (mkdtemp(logdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	cl_log_init("test-out", CL_LOG_INFO, false);
	CL_RUN(bad_config);
	CL_RUN(deliver_and_confirm);
	CL_RUN(keepalive_timer);
	CL_RUN(keepalives_in_flight_bounded);
	CL_RUN(mdf_keepalive_answered);
	CL_RUN(resend_after_reconnect);
	CL_RUN(backoff);
	CL_RUN(ack_timeout);
	CL_RUN(handshake_timeout);
	CL_RUN(ack_of_keepalive_never_sent);
	CL_RUN(ack_of_keepalive_not_yet_sent);
	CL_RUN(refused_from_mdf);
	CL_RUN(spill_and_drain);
	CL_RUN(full_drops);
	CL_RUN(emit_encoded);
	rmdir(logdir);
	return cl_test_done();
}
