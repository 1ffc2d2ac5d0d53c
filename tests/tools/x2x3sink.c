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
 * POI refuses it.  A refused POI certificate is logged, as the MDF does.
 * SIGTERM ends it; it prints "pdus N dups N bytes N" to stdout.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "htab.h"
#include "log.h"
#include "net.h"
#include "tls.h"
#include "x2x3.h"

#define MAXC 16

struct client {
	int fd;
	SSL *ssl;
	bool handshaking;
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

static void
drop_client(struct client *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	close(c->fd);
	cl_buf_release(&c->in);
	cl_buf_release(&c->outq);
	c->fd = -1;
	c->ssl = NULL;
}

static int
cread(struct client *c, uint8_t *p, size_t n)
{
	char why[512];
	ssize_t k;
	int r;

	if (c->ssl == NULL) {
		k = read(c->fd, p, n);
		if (k < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return k <= 0 ? -1 : (int)k;
	}
	ERR_clear_error(); /* for SSL_get_error() */
	r = SSL_read(c->ssl, p, (int)n);
	if (r > 0)
		return r;
	r = SSL_get_error(c->ssl, r);
	if (r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE)
		return 0;
	if (cl_tls_refusal(c->ssl, why, sizeof(why)))
		cl_warn("refused POI connection: %s", why);
	return -1;
}

static int
cflush(struct client *c)
{
	ssize_t k;
	int r;

	while (c->outq.len > 0) {
		if (c->ssl == NULL) {
			k = write(c->fd, c->outq.d, c->outq.len);
			if (k < 0 && (errno == EAGAIN || errno == EINTR))
				return 0;
			if (k <= 0)
				return -1;
		} else {
			ERR_clear_error(); /* for SSL_get_error() */
			r = SSL_write(c->ssl, c->outq.d, (int)c->outq.len);
			if (r <= 0) {
				r = SSL_get_error(c->ssl, r);
				return r == SSL_ERROR_WANT_WRITE ||
					r == SSL_ERROR_WANT_READ
				    ? 0
				    : -1;
			}
			k = r;
		}
		(void)cl_buf_consume(&c->outq, (size_t)k);
	}
	return 0;
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
	struct client cl[MAXC];
	struct pollfd pfd[MAXC + 1];
	SSL_CTX *ctx = NULL;
	bool plain = false;
	char err[512], host[256];
	unsigned bound;
	uint16_t port;
	int ch, lfd, i, n;
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
		cl[i].fd = -1;
	while (!stop) {
		n = 0;
		pfd[n].fd = lfd;
		pfd[n++].events = POLLIN;
		for (i = 0; i < MAXC; i++) {
			pfd[n].fd = cl[i].fd;
			pfd[n].events =
			    POLLIN | (cl[i].outq.len > 0 ? POLLOUT : 0);
			pfd[n++].revents = 0;
		}
		if (poll(pfd, (nfds_t)n, 200) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN) {
			int fd = accept4(
			    lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

			for (i = 0; fd != -1 && i < MAXC; i++) {
				if (cl[i].fd != -1)
					continue;
				memset(&cl[i], 0, sizeof(cl[i]));
				cl[i].fd = fd;
				cl_buf_init(&cl[i].in, 2u * 1024 * 1024);
				cl_buf_init(&cl[i].outq, 1024 * 1024);
				if (ctx != NULL) {
					cl[i].ssl = SSL_new(ctx);
					SSL_set_fd(cl[i].ssl, fd);
					SSL_set_accept_state(cl[i].ssl);
				}
				fd = -1;
			}
			if (fd != -1)
				close(fd);
		}
		for (i = 0; i < MAXC; i++) {
			uint8_t *w;
			int k;

			if (cl[i].fd == -1 || pfd[i + 1].revents == 0)
				continue;
			for (;;) {
				if (cl_buf_reserve(&cl[i].in, 65536, &w)) {
					k = -1;
					break;
				}
				cl[i].in.len -= 65536;
				if ((k = cread(&cl[i], w, 65536)) <= 0)
					break;
				cl[i].in.len += (size_t)k;
				if (handle(&cl[i]) != 0) {
					k = -1;
					break;
				}
			}
			/* Acknowledgements queued before a close still go
			 * out: they confirm what was written. */
			if (cflush(&cl[i]) != 0 || k < 0)
				drop_client(&cl[i]);
		}
	}
	for (i = 0; i < MAXC; i++)
		if (cl[i].fd != -1)
			drop_client(&cl[i]);
	close(lfd);
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
