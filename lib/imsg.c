/* SPDX-License-Identifier: ISC */
/*
 * Framed messages over a socketpair, with descriptor passing (imsg.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "err.h"
#include "imsg.h"

#define FDQ_MAX    16 /* descriptors received and not yet claimed */
#define READ_CHUNK 65536

struct wfd {
	size_t off; /* where its message starts in w */
	int fd;
};

struct cl_imsgbuf {
	int fd;
	const struct cl_imsg_type *types;
	size_t ntypes;
	bool *off;   /* off[i]: types[i] is not permitted now */
	size_t rmax; /* header + the largest payload accepted */
	bool broken;
	/* read side: r[rpos..rlen) is unframed */
	uint8_t *r;
	size_t rcap, rpos, rlen;
	int rfds[FDQ_MAX];
	size_t nrfds;
	/* write side: w[wpos..wlen) is queued */
	uint8_t *w;
	size_t wcap, wpos, wlen;
	struct wfd *wfds;
	size_t nwfds, wfdcap;
};

int
cl_imsg_new(int fd, const struct cl_imsg_type *types, size_t ntypes,
    struct cl_imsgbuf **out)
{
	struct cl_imsgbuf *b;
	uint32_t max = 0;
	size_t i;

	*out = NULL;
	for (i = 0; i < ntypes; i++) {
		if (types[i].max > CL_IMSG_MAX || types[i].min > types[i].max ||
		    (types[i].min != types[i].max && types[i].mult == 0))
			return CL_ERR_INVALID_ARG;
		if (types[i].max > max)
			max = types[i].max;
	}
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return CL_ERR_NOMEM;
	if ((b->off = calloc(ntypes + 1, sizeof(bool))) == NULL) {
		free(b);
		return CL_ERR_NOMEM;
	}
	for (i = 0; i < ntypes; i++)
		b->off[i] = (types[i].flags & CL_IMSG_T_OFF) != 0;
	b->fd = fd;
	b->types = types;
	b->ntypes = ntypes;
	b->rmax = CL_IMSG_HDR_LEN + (size_t)max;
	*out = b;
	return 0;
}

void
cl_imsg_free(struct cl_imsgbuf *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->nrfds; i++)
		close(b->rfds[i]);
	for (i = 0; i < b->nwfds; i++)
		close(b->wfds[i].fd);
	free(b->off);
	free(b->r);
	free(b->w);
	free(b->wfds);
	free(b);
}

/* Keeps the descriptors of a control message; closes them all and fails
 * if there is no room or the message is not SCM_RIGHTS. */
static int
take_fds(struct cl_imsgbuf *b, struct msghdr *mh)
{
	struct cmsghdr *c;
	int r = 0;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		size_t n, i;
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			r = CL_ERR_FORMAT;
			continue;
		}
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (r == 0 && b->nrfds < FDQ_MAX)
				b->rfds[b->nrfds++] = fd;
			else {
				close(fd);
				r = CL_ERR_FORMAT;
			}
		}
	}
	return r;
}

int
cl_imsg_read(struct cl_imsgbuf *b)
{
	union {
		struct cmsghdr h;
		uint8_t buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct msghdr mh;
	struct iovec iov;
	ssize_t n;
	size_t want;
	int r;

	if (b->broken)
		return CL_ERR_FORMAT;
	/* Keep what is unframed at the front, then make room for a chunk
	 * (never more than one whole message of the largest type). */
	if (b->rpos > 0) {
		memmove(b->r, b->r + b->rpos, b->rlen - b->rpos);
		b->rlen -= b->rpos;
		b->rpos = 0;
	}
	want = b->rlen + READ_CHUNK;
	if (want > b->rmax + READ_CHUNK)
		want = b->rmax + READ_CHUNK;
	if (want > b->rcap) {
		uint8_t *p;

		if ((p = realloc(b->r, want)) == NULL)
			return CL_ERR_NOMEM;
		b->r = p;
		b->rcap = want;
	}
	if (b->rlen == b->rcap)
		return CL_ERR_FULL; /* a whole message is there: get it */
	memset(&mh, 0, sizeof(mh));
	memset(&cm, 0, sizeof(cm));
	iov.iov_base = b->r + b->rlen;
	iov.iov_len = b->rcap - b->rlen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do
		n = recvmsg(b->fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == ECONNRESET)
		return CL_ERR_CLOSED;
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? CL_ERR_AGAIN
							       : CL_ERR_SYSTEM;
	r = take_fds(b, &mh);
	if ((mh.msg_flags & MSG_CTRUNC) != 0 || r != 0) {
		b->broken = true;
		return CL_ERR_FORMAT;
	}
	if (n == 0)
		return CL_ERR_CLOSED;
	b->rlen += (size_t)n;
	return (int)(n > 0x7fffffff ? 0x7fffffff : n);
}

static const struct cl_imsg_type *
find_type(const struct cl_imsgbuf *b, uint16_t type)
{
	size_t i;

	for (i = 0; i < b->ntypes; i++)
		if (b->types[i].type == type)
			return &b->types[i];
	return NULL;
}

int
cl_imsg_permit(struct cl_imsgbuf *b, uint16_t type, bool on)
{
	const struct cl_imsg_type *t;

	if ((t = find_type(b, type)) == NULL)
		return CL_ERR_NOT_FOUND;
	b->off[t - b->types] = !on;
	return 0;
}

int
cl_imsg_get(struct cl_imsgbuf *b, struct cl_imsg *m, char *err, size_t errlen)
{
	const struct cl_imsg_type *t;
	uint16_t type, flags;
	uint32_t len;
	const uint8_t *p;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if (errlen > 0)
		err[0] = '\0';
	if (b->broken) {
		snprintf(err, errlen, "connection refused earlier");
		return CL_ERR_FORMAT;
	}
	if (b->rlen - b->rpos < CL_IMSG_HDR_LEN)
		return 0;
	p = b->r + b->rpos;
	memcpy(&type, p, 2);
	memcpy(&flags, p + 2, 2);
	memcpy(&len, p + 4, 4);
	/* The header alone decides: a bad one is refused before its
	 * payload arrives. */
	if ((t = find_type(b, type)) == NULL) {
		snprintf(err, errlen, "unexpected message type %u (length %lu)",
		    (unsigned)type, (unsigned long)len);
		goto bad;
	}
	if (b->off[t - b->types]) {
		snprintf(err, errlen,
		    "message type %u (%s) of length %lu: not permitted now",
		    (unsigned)type, t->name, (unsigned long)len);
		goto bad;
	}
	if (len < t->min || len > t->max ||
	    (t->mult > 0 && len % t->mult != 0)) {
		if (t->min == t->max)
			snprintf(err, errlen,
			    "message type %u (%s) of length %lu: expected "
			    "%lu",
			    (unsigned)type, t->name, (unsigned long)len,
			    (unsigned long)t->min);
		else
			snprintf(err, errlen,
			    "message type %u (%s) of length %lu: expected "
			    "%lu..%lu, a multiple of %lu",
			    (unsigned)type, t->name, (unsigned long)len,
			    (unsigned long)t->min, (unsigned long)t->max,
			    (unsigned long)t->mult);
		goto bad;
	}
	if ((flags & ~CL_IMSG_F_FD) != 0) {
		snprintf(err, errlen,
		    "message type %u (%s) of length %lu: unknown flags 0x%x",
		    (unsigned)type, t->name, (unsigned long)len,
		    (unsigned)flags);
		goto bad;
	}
	if (((flags & CL_IMSG_F_FD) != 0) != t->fd) {
		snprintf(err, errlen, "message type %u (%s) of length %lu: %s",
		    (unsigned)type, t->name, (unsigned long)len,
		    t->fd ? "no descriptor" : "an unexpected descriptor");
		goto bad;
	}
	if (b->rlen - b->rpos - CL_IMSG_HDR_LEN < len)
		return 0;
	if ((flags & CL_IMSG_F_FD) != 0) {
		/* Sent with the header's first octet: it has arrived. */
		if (b->nrfds == 0) {
			snprintf(err, errlen,
			    "message type %u (%s) of length %lu: its "
			    "descriptor did not arrive",
			    (unsigned)type, t->name, (unsigned long)len);
			goto bad;
		}
		m->fd = b->rfds[0];
		memmove(b->rfds, b->rfds + 1, (b->nrfds - 1) * sizeof(int));
		b->nrfds--;
	}
	if ((t->flags & CL_IMSG_T_ONCE) != 0)
		b->off[t - b->types] = true;
	m->type = type;
	m->flags = flags;
	m->len = len;
	m->data = p + CL_IMSG_HDR_LEN;
	b->rpos += CL_IMSG_HDR_LEN + (size_t)len;
	return 1;
bad:
	b->broken = true;
	return CL_ERR_FORMAT;
}

static int
wgrow(struct cl_imsgbuf *b, size_t need)
{
	size_t nc;
	uint8_t *p;

	if (b->wpos == b->wlen && b->nwfds == 0)
		b->wpos = b->wlen = 0;
	if (b->wlen + need <= b->wcap)
		return 0;
	if (b->wpos > 0) {
		size_t i;

		memmove(b->w, b->w + b->wpos, b->wlen - b->wpos);
		for (i = 0; i < b->nwfds; i++)
			b->wfds[i].off -= b->wpos;
		b->wlen -= b->wpos;
		b->wpos = 0;
		if (b->wlen + need <= b->wcap)
			return 0;
	}
	nc = b->wcap == 0 ? 4096 : b->wcap;
	while (nc < b->wlen + need)
		nc *= 2;
	if ((p = realloc(b->w, nc)) == NULL)
		return CL_ERR_NOMEM;
	b->w = p;
	b->wcap = nc;
	return 0;
}

int
cl_imsg_compose(
    struct cl_imsgbuf *b, uint16_t type, int fd, const void *data, size_t len)
{
	uint16_t flags = fd >= 0 ? CL_IMSG_F_FD : 0;
	uint32_t l32 = (uint32_t)len;
	int r;

	if (len > CL_IMSG_MAX) {
		r = CL_ERR_TOOBIG;
		goto fail;
	}
	if ((r = wgrow(b, CL_IMSG_HDR_LEN + len)) != 0)
		goto fail;
	if (fd >= 0) {
		if (b->nwfds == b->wfdcap) {
			size_t nc = b->wfdcap == 0 ? 4 : b->wfdcap * 2;
			struct wfd *p;

			if ((p = reallocarray(b->wfds, nc, sizeof(*p))) ==
			    NULL) {
				r = CL_ERR_NOMEM;
				goto fail;
			}
			b->wfds = p;
			b->wfdcap = nc;
		}
		b->wfds[b->nwfds].off = b->wlen;
		b->wfds[b->nwfds].fd = fd;
		b->nwfds++;
	}
	memcpy(b->w + b->wlen, &type, 2);
	memcpy(b->w + b->wlen + 2, &flags, 2);
	memcpy(b->w + b->wlen + 4, &l32, 4);
	if (len > 0)
		memcpy(b->w + b->wlen + CL_IMSG_HDR_LEN, data, len);
	b->wlen += CL_IMSG_HDR_LEN + len;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return r;
}

int
cl_imsg_flush(struct cl_imsgbuf *b)
{
	union {
		struct cmsghdr h;
		uint8_t buf[CMSG_SPACE(sizeof(int))];
	} cm;

	while (b->wpos < b->wlen) {
		struct msghdr mh;
		struct iovec iov;
		size_t end = b->wlen;
		bool withfd = false;
		ssize_t n;

		/* A descriptor goes with the first octet of its message:
		 * stop before the next one, send it with its own. */
		if (b->nwfds > 0) {
			if (b->wfds[0].off == b->wpos) {
				withfd = true;
				if (b->nwfds > 1)
					end = b->wfds[1].off;
			} else
				end = b->wfds[0].off;
		}
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = b->w + b->wpos;
		iov.iov_len = end - b->wpos;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (withfd) {
			struct cmsghdr *c;

			memset(&cm, 0, sizeof(cm));
			mh.msg_control = cm.buf;
			mh.msg_controllen = sizeof(cm.buf);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(c), &b->wfds[0].fd, sizeof(int));
		}
		do
			n = sendmsg(b->fd, &mh, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return CL_ERR_AGAIN;
			return errno == EPIPE || errno == ECONNRESET
			    ? CL_ERR_CLOSED
			    : CL_ERR_SYSTEM;
		}
		if (withfd) {
			close(b->wfds[0].fd);
			memmove(b->wfds, b->wfds + 1,
			    (b->nwfds - 1) * sizeof(*b->wfds));
			b->nwfds--;
		}
		b->wpos += (size_t)n;
	}
	b->wpos = b->wlen = 0;
	return 0;
}

bool
cl_imsg_pending(const struct cl_imsgbuf *b)
{
	return b->wpos < b->wlen;
}

size_t
cl_imsg_queued(const struct cl_imsgbuf *b)
{
	return b->wlen - b->wpos;
}

int
cl_imsg_wait(struct cl_imsgbuf *b, struct cl_imsg *m, char *err, size_t errlen)
{
	int r;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	if ((r = cl_imsg_flush(b)) != 0) {
		snprintf(err, errlen, "write: %s",
		    r == CL_ERR_SYSTEM ? strerror(errno) : cl_err_str(r));
		return r;
	}
	for (;;) {
		if ((r = cl_imsg_get(b, m, err, errlen)) != 0)
			return r;
		if ((r = cl_imsg_read(b)) < 0) {
			snprintf(err, errlen, "read: %s",
			    r == CL_ERR_SYSTEM       ? strerror(errno)
				: r == CL_ERR_CLOSED ? "the peer closed"
						     : cl_err_str(r));
			return r;
		}
	}
}
