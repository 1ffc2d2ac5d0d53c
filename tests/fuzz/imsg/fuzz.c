/* SPDX-License-Identifier: ISC */
/*
 * Fuzz target for the imsg framing (lib/imsg.c): the input, after its
 * first octet, is what a peer writes on the socket; the first octet sets
 * the size of the pieces it is written in (partial reads).  Every
 * message cl_imsg_get() hands out must fit the type table, and composed
 * again must give the very octets it came from; the type "empty" comes
 * at most once; after a refusal nothing more comes out.
 *
 * A failed check aborts, which libFuzzer (or the replay driver) reports.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "err.h"
#include "imsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct cl_imsg_type types[] = {
    {1, "fixed", 12, 12, 0, false},
    {2, "list", 32, 32 * 64, 32, false},
    {3, "fd", 4, 4, 0, true},
    {4, "empty", 0, 0, 0, false, CL_IMSG_T_ONCE},
    {7, "bytes", 1, 4096, 1, false},
};
#define NTYPES (sizeof(types) / sizeof(types[0]))

static void
check(bool ok)
{
	if (!ok)
		abort();
}

static const struct cl_imsg_type *
find(uint16_t type)
{
	size_t i;

	for (i = 0; i < NTYPES; i++)
		if (types[i].type == type)
			return &types[i];
	return NULL;
}

/* The octets composing m gives, compared with frame. */
static void
recompose(int wfd, int rfd, const struct cl_imsg *m, const uint8_t *frame)
{
	struct cl_imsgbuf *w = NULL;
	uint8_t *buf;
	size_t len = CL_IMSG_HDR_LEN + m->len, got = 0;
	ssize_t n;

	check((buf = malloc(len)) != NULL);
	check(cl_imsg_new(wfd, types, NTYPES, &w) == 0);
	check(cl_imsg_compose(w, m->type, -1, m->data, m->len) == 0);
	check(cl_imsg_flush(w) == 0);
	cl_imsg_free(w);
	while (got < len) {
		n = read(rfd, buf + got, len - got);
		check(n > 0);
		got += (size_t)n;
	}
	check(memcmp(buf, frame, len) == 0);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_imsgbuf *b = NULL;
	struct cl_imsg m;
	uint8_t *seen = NULL;
	size_t chunk, off = 0, seen_len = 0, framed = 0;
	char err[256];
	int sv[2], cv[2], r;
	bool refused = false, eof = false, empty_seen = false;

	if (size < 1 || size > 1 << 20)
		return 0;
	chunk = (size_t)data[0] + 1;
	data++;
	size--;
	check(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
	/* cv[1] composes again, cv[0] reads it back */
	check(socketpair(AF_UNIX, SOCK_STREAM, 0, cv) == 0);
	check(cl_imsg_new(sv[0], types, NTYPES, &b) == 0);
	check((seen = malloc(size + 1)) != NULL);
	for (;;) {
		if (off < size && !refused) {
			size_t n = size - off < chunk ? size - off : chunk;
			ssize_t w = write(sv[1], data + off, n);

			if (w > 0) {
				memcpy(seen + seen_len, data + off, (size_t)w);
				seen_len += (size_t)w;
				off += (size_t)w;
			}
		}
		if (off == size && !eof) {
			shutdown(sv[1], SHUT_WR);
			eof = true;
		}
		r = cl_imsg_read(b);
		if (refused) {
			check(r == CL_ERR_FORMAT);
			break;
		}
		if (r == CL_ERR_CLOSED && off == size)
			break;
		check(r > 0 || r == CL_ERR_AGAIN || r == CL_ERR_FULL);
		while ((r = cl_imsg_get(b, &m, err, sizeof(err))) == 1) {
			const struct cl_imsg_type *t = find(m.type);

			check(t != NULL && !t->fd && m.fd == -1);
			check(m.len >= t->min && m.len <= t->max);
			check(t->mult == 0 || m.len % t->mult == 0);
			check(framed + CL_IMSG_HDR_LEN + m.len <= seen_len);
			check(m.type != 4 || !empty_seen);
			empty_seen = empty_seen || m.type == 4;
			recompose(cv[1], cv[0], &m, seen + framed);
			framed += CL_IMSG_HDR_LEN + m.len;
		}
		if (r != 0) {
			check(r == CL_ERR_FORMAT && err[0] != '\0');
			check(cl_imsg_get(b, &m, err, sizeof(err)) ==
			    CL_ERR_FORMAT);
			refused = true;
		}
	}
	cl_imsg_free(b);
	free(seen);
	close(sv[0]);
	close(sv[1]);
	close(cv[0]);
	close(cv[1]);
	return 0;
}
