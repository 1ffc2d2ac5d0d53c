/* SPDX-License-Identifier: ISC */
/*
 * x2x3sink: a minimal X2/X3 receiver for tests, the demo and benchmarks.
 * It is not the MDF: it accepts POI connections (TLS 1.3 with client
 * certificates, or plain TCP with --plain), validates every PDU with the
 * strict decoder, answers keepalives with an acknowledgement once what came
 * before is written, drops exact repeats by (XID, sequence number), and
 * writes the X2/X3 PDUs it accepted, byte for byte, to --out.
 *
 *   x2x3sink --listen 127.0.0.1:0 --port-file F [--plain | --cert C
 *            --key K --ca CA [--crl CRL] [--role ROLE]] [--out FILE |
 *            --discard] [--no-ack] [--close-after N]
 *
 * --port-file gets the bound port once the socket listens (tests wait for
 * it).  --close-after N closes each connection after N PDUs (fault tests).
 * Like the MDF it requires a POI's certificate and presents one of role
 * mdf; --role ROLE makes it present one of another role, to show that the
 * POI refuses it.  Connections are accepted and authenticated by lib/front
 * and read and written through lib/conn, as in the MDF, so a refused POI
 * certificate is logged as the MDF logs it.
 * SIGTERM ends it; it prints "pdus N dups N bytes N" to stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "front.h"
#include "htab.h"
#include "log.h"
#include "net.h"
#include "tls.h"
#include "x2x3.h"

#define MAXC       16
#define READ_CHUNK 65536

struct client {
	struct cl_conn conn; /* fd -1: a free slot */
	struct cl_buf in;
	struct cl_buf outq;
	uint64_t pdus;
};

struct seen {
	uint8_t key[20];
};

static volatile sig_atomic_t stop;
static bool no_ack, discard;
static FILE *outf;
static uint64_t npdus, ndups, nbytes, close_after;
static struct cl_htab seen;

static void
on_term(int s)
{
	(void)s;
	stop = 1;
}

static bool
seen_eq(const void *v, const void *k, size_t len)
{
	return len == 20 && memcmp(((const struct seen *)v)->key, k, 20) == 0;
}

static struct client cl[MAXC];

static int handle(struct client *c);

static void
drop_client(struct client *c, const char *why)
{
	if (why != NULL)
		cl_info("POI %s (%s): connection closed: %s", c->conn.peer,
		    c->conn.addrstr, why);
	cl_conn_close(&c->conn);
	cl_buf_release(&c->in);
	cl_buf_release(&c->outq);
}

/* A POI has authenticated (lib/front): it gets a slot. */
static int
client_up(void *arg, struct cl_front_conn *fc)
{
	int i;

	(void)arg;
	for (i = 0; i < MAXC && cl[i].conn.fd != -1; i++)
		;
	if (i == MAXC)
		return -1;
	memset(&cl[i], 0, sizeof(cl[i]));
	if (cl_conn_from_front(&cl[i].conn, fc, "POI") != 0) {
		cl_warn("POI %s: certificate without a common name; closing",
		    fc->peer);
		cl[i].conn.fd = -1;
		return -1;
	}
	cl_buf_init(&cl[i].in, 2u * 1024 * 1024);
	cl_buf_init(&cl[i].outq, 1024 * 1024);
	cl_info("POI %s (%s): connected", cl[i].conn.peer, cl[i].conn.addrstr);
	return 0;
}

/* Reads and handles what c sent; -1 closes it (why set). */
static int
serve(struct client *c, const char **why)
{
	enum cl_conn_res res;
	size_t n;

	for (;;) {
		res = cl_conn_read(&c->conn, &c->in, READ_CHUNK, &n);
		if (res == CL_CONN_AGAIN)
			return 0;
		if (res != CL_CONN_DATA) {
			*why = cl_conn_why(&c->conn);
			return -1;
		}
		if (handle(c) != 0) {
			*why = "closed by the receiver";
			return -1;
		}
	}
}

/* Handles the PDUs buffered from one client; -1 closes it. */
static int
handle(struct client *c)
{
	struct cl_x2x3_pdu pdu, ack;
	const char *why = "";
	size_t used;
	int r;

	while (c->in.len > 0) {
		r = cl_x2x3_decode(c->in.d, c->in.len, &pdu, &used, &why);
		if (r == CL_ERR_TRUNCATED)
			return 0;
		if (r != 0) {
			cl_err("malformed PDU from POI: %s (%s)", cl_err_str(r),
			    why);
			return -1;
		}
		if (pdu.type == CL_X2X3_KEEPALIVE) {
			if (outf != NULL && fflush(outf) != 0)
				return -1;
			if (!no_ack) {
				cl_x2x3_keepalive(&ack, true, pdu.seqno);
				if (cl_x2x3_encode(&c->outq, &ack) != 0)
					return -1;
			}
		} else if (pdu.type == CL_X2X3_X2 || pdu.type == CL_X2X3_X3) {
			struct seen *s;
			uint8_t key[20];

			memcpy(key, pdu.xid, 16);
			key[16] = (uint8_t)(pdu.seqno >> 24);
			key[17] = (uint8_t)(pdu.seqno >> 16);
			key[18] = (uint8_t)(pdu.seqno >> 8);
			key[19] = (uint8_t)pdu.seqno;
			if (!pdu.has_seqno || cl_htab_get(&seen, key, 20)) {
				ndups++;
			} else {
				if (!discard) {
					if ((s = malloc(sizeof(*s))) == NULL)
						return -1;
					memcpy(s->key, key, 20);
					(void)cl_htab_put(&seen, key, 20, s);
				}
				npdus++;
				nbytes += used;
				if (outf != NULL &&
				    fwrite(c->in.d, 1, used, outf) != used)
					return -1;
			}
			if (close_after > 0 && ++c->pdus >= close_after) {
				cl_info("closing connection after %llu PDUs",
				    (unsigned long long)c->pdus);
				return -1;
			}
		}
		(void)cl_buf_consume(&c->in, used);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {{"listen", 1, NULL, 'l'},
	    {"port-file", 1, NULL, 'p'}, {"plain", 0, NULL, 'P'},
	    {"cert", 1, NULL, 'c'}, {"key", 1, NULL, 'k'}, {"ca", 1, NULL, 'a'},
	    {"out", 1, NULL, 'o'}, {"discard", 0, NULL, 'd'},
	    {"no-ack", 0, NULL, 'n'}, {"close-after", 1, NULL, 'C'},
	    {"crl", 1, NULL, 'r'}, {"role", 1, NULL, 'R'}, {NULL, 0, NULL, 0}};
	const char *listen_on = "127.0.0.1:0", *portfile = NULL;
	const char *cert = NULL, *key = NULL, *ca = NULL, *outpath = NULL;
	struct cl_tls_cfg tc = {.self = CL_ROLE_MDF, .peer = CL_ROLE_POI};
	struct cl_front_opts fo;
	struct cl_front *front = NULL;
	struct pollfd *pfd;
	size_t nf, nfmax;
	uint64_t now, next;
	SSL_CTX *ctx = NULL;
	bool plain = false;
	char err[512], host[256];
	unsigned bound;
	uint16_t port;
	int ch, lfd, i, n, to;
	struct sigaction sa;
	FILE *pf;

	cl_log_init("x2x3sink", CL_LOG_INFO, false);
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'l':
			listen_on = optarg;
			break;
		case 'p':
			portfile = optarg;
			break;
		case 'P':
			plain = true;
			break;
		case 'c':
			cert = optarg;
			break;
		case 'k':
			key = optarg;
			break;
		case 'a':
			ca = optarg;
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'd':
			discard = true;
			break;
		case 'n':
			no_ack = true;
			break;
		case 'C':
			if (cl_parse_u64(optarg, 1, UINT32_MAX, &close_after))
				cl_fatal("bad --close-after");
			break;
		case 'r':
			tc.crl = optarg;
			break;
		case 'R':
			if (cl_role_parse(optarg, &tc.self) != 0)
				cl_fatal("bad --role");
			break;
		default:
			fprintf(stderr, "see the comment in x2x3sink.c\n");
			return 2;
		}
	}
	if (cl_htab_init(&seen, SIZE_MAX, seen_eq) != 0)
		cl_fatal("out of memory");
	tc.cert = cert;
	tc.key = key;
	tc.ca = ca;
	if (!plain && (ctx = cl_tls_server_ctx(&tc, err, sizeof(err))) == NULL)
		cl_fatal("TLS: %s", err);
	if (outpath != NULL && (outf = fopen(outpath, "wb")) == NULL)
		cl_fatal("%s: %s", outpath, strerror(errno));
	if (cl_net_split("--listen", listen_on, CL_NET_PORT_ANY, host,
		sizeof(host), &port, err, sizeof(err)) != 0)
		cl_fatal("%s", err);
	if ((lfd = cl_net_listen(listen_on, &bound)) == -1)
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (portfile != NULL) {
		char tmp[4096];

		snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
		if ((pf = fopen(tmp, "w")) == NULL)
			cl_fatal("%s: %s", tmp, strerror(errno));
		fprintf(pf, "%u\n", bound);
		fclose(pf);
		rename(tmp, portfile); /* appears whole */
	}
	for (i = 0; i < MAXC; i++)
		cl[i].conn.fd = -1;
	cl_front_defaults(&fo);
	fo.what = "POI";
	fo.ctx = ctx;
	if (cl_front_new(lfd, &fo, client_up, NULL, &front) != 0)
		cl_fatal("cannot set up the listener");
	nfmax = cl_front_npollfds(front);
	if ((pfd = calloc(nfmax + MAXC, sizeof(*pfd))) == NULL)
		cl_fatal("out of memory");
	while (!stop) {
		now = cl_mono_ms();
		next = now + 200;
		nf = cl_front_pollfds(front, pfd, nfmax, now, &next);
		n = (int)nf;
		for (i = 0; i < MAXC; i++) {
			pfd[n].fd = cl[i].conn.fd;
			pfd[n].events = (short)(POLLIN |
			    (cl[i].outq.len > 0 ? POLLOUT : 0) |
			    (cl[i].conn.fd != -1 ? cl_conn_events(&cl[i].conn)
						 : 0));
			pfd[n++].revents = 0;
		}
		to = next <= now       ? 0
		    : next - now > 200 ? 200
				       : (int)(next - now);
		if (poll(pfd, (nfds_t)n, to) < 0 && errno != EINTR)
			break;
		now = cl_mono_ms();
		cl_front_handle(front, pfd, nf, now);
		for (i = 0; i < MAXC; i++) {
			const char *why = NULL;
			struct client *c = &cl[i];
			int k;

			if (c->conn.fd == -1 ||
			    (pfd[nf + (size_t)i].revents == 0 &&
				!cl_conn_pending(&c->conn)))
				continue;
			k = serve(c, &why);
			/* Acknowledgements queued before a close still go
			 * out: they confirm what was written. */
			if (c->outq.len > 0 &&
			    cl_conn_flush(&c->conn, &c->outq) ==
				CL_CONN_ERROR &&
			    k == 0) {
				k = -1;
				why = cl_conn_why(&c->conn);
			}
			if (k < 0)
				drop_client(c, why);
		}
	}
	for (i = 0; i < MAXC; i++)
		if (cl[i].conn.fd != -1)
			drop_client(&cl[i], NULL);
	cl_front_free(front);
	free(pfd);
	SSL_CTX_free(ctx);
	{
		struct seen *sv;
		size_t pos = 0;

		while ((sv = cl_htab_next(&seen, &pos)) != NULL)
			free(sv);
		cl_htab_release(&seen);
	}
	if (outf != NULL)
		fclose(outf);
	printf("pdus %llu dups %llu bytes %llu\n", (unsigned long long)npdus,
	    (unsigned long long)ndups, (unsigned long long)nbytes);
	return 0;
}
