/* SPDX-License-Identifier: ISC */
/*
 * Shared-memory rings between the processes of a daemon (ring.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "ring.h"

#define RING_MAGIC 0x636c72696e673031ULL /* "clring01" */
#define HDR_LEN    256
#define REC_HDR    8

/* The shared header; the data area follows at HDR_LEN. */
struct shm {
	uint64_t magic;
	uint64_t size;
	_Alignas(64) _Atomic uint64_t head;   /* published by the writer */
	_Alignas(64) _Atomic uint64_t tail;   /* released by the reader */
	_Alignas(64) _Atomic uint32_t rsleep; /* the reader waits for data */
	_Atomic uint32_t wwait;               /* the writer waits for room */
};

struct cl_ring {
	struct shm *shm;
	uint8_t *data;
	size_t size, mask, maplen;
	int fds[CL_RING_FDS];
	/* writer */
	uint64_t whead;
	/* reader */
	uint64_t rtail, chead;
	size_t cur; /* octets of the record peeked, 0 if none */
};

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static void
wake(int efd)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is full, the peer wakes up anyway. */
	(void)!write(efd, &one, sizeof(one));
}

void
cl_ring_clear(int efd)
{
	uint64_t v;

	(void)!read(efd, &v, sizeof(v));
}

static int
map(struct cl_ring *r, size_t size)
{
	void *p;

	r->maplen = HDR_LEN + size;
	p = mmap(
	    NULL, r->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, r->fds[0], 0);
	if (p == MAP_FAILED)
		return CL_ERR_SYSTEM;
	r->shm = p;
	r->data = (uint8_t *)p + HDR_LEN;
	r->size = size;
	r->mask = size - 1;
	return 0;
}

int
cl_ring_new(size_t size, struct cl_ring **out)
{
	struct cl_ring *r;
	int i;

	*out = NULL;
	if (size < 4096 || (size & (size - 1)) != 0)
		return CL_ERR_INVALID_ARG;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return CL_ERR_NOMEM;
	for (i = 0; i < CL_RING_FDS; i++)
		r->fds[i] = -1;
	r->fds[0] =
	    memfd_create("clearli-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	r->fds[1] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->fds[2] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->fds[0] < 0 || r->fds[1] < 0 || r->fds[2] < 0 ||
	    ftruncate(r->fds[0], (off_t)(HDR_LEN + size)) != 0 ||
	    fcntl(r->fds[0], F_ADD_SEALS,
		F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0 ||
	    map(r, size) != 0) {
		cl_ring_free(r);
		return CL_ERR_SYSTEM;
	}
	r->shm->magic = RING_MAGIC;
	r->shm->size = size;
	*out = r;
	return 0;
}

void
cl_ring_fds(const struct cl_ring *r, int fds[CL_RING_FDS])
{
	memcpy(fds, r->fds, sizeof(r->fds));
}

int
cl_ring_attach(const int fds[CL_RING_FDS], struct cl_ring **out)
{
	struct cl_ring *r;
	struct stat st;
	uint64_t size;
	int seals;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return CL_ERR_NOMEM;
	memcpy(r->fds, fds, sizeof(r->fds));
	/* Sealed against shrinking: no SIGBUS from a peer's ftruncate. */
	seals = fcntl(fds[0], F_GET_SEALS);
	if (fstat(fds[0], &st) != 0 || seals < 0) {
		cl_ring_free(r);
		return CL_ERR_SYSTEM;
	}
	size = (uint64_t)st.st_size - HDR_LEN;
	if ((seals & F_SEAL_SHRINK) == 0 || st.st_size < HDR_LEN + 4096 ||
	    (size & (size - 1)) != 0 || map(r, (size_t)size) != 0 ||
	    r->shm->magic != RING_MAGIC || r->shm->size != size) {
		cl_ring_free(r);
		return CL_ERR_FORMAT;
	}
	close(r->fds[0]);
	r->fds[0] = -1;
	r->whead = r->rtail = r->chead = atomic_load(&r->shm->head);
	*out = r;
	return 0;
}

void
cl_ring_free(struct cl_ring *r)
{
	int i;

	if (r == NULL)
		return;
	if (r->shm != NULL)
		munmap(r->shm, r->maplen);
	for (i = 0; i < CL_RING_FDS; i++)
		if (r->fds[i] >= 0)
			close(r->fds[i]);
	free(r);
}

int
cl_ring_data_fd(const struct cl_ring *r)
{
	return r->fds[1];
}

int
cl_ring_space_fd(const struct cl_ring *r)
{
	return r->fds[2];
}

size_t
cl_ring_max_record(const struct cl_ring *r)
{
	return r->size / 2 - REC_HDR;
}

/* Octets a record of len takes at the writer's position, padding to the
 * end of the data area included; 0 if it can never fit. */
static size_t
footprint(const struct cl_ring *r, size_t len)
{
	size_t need = REC_HDR + align8(len), contig;

	if (len > cl_ring_max_record(r))
		return 0;
	contig = r->size - (size_t)(r->whead & r->mask);
	return need > contig ? contig + need : need;
}

static bool
fits(struct cl_ring *r, size_t total)
{
	uint64_t tail =
	    atomic_load_explicit(&r->shm->tail, memory_order_acquire);

	/* A tail ahead of the head (a broken reader) leaves no room. */
	return tail <= r->whead && r->whead - tail + total <= r->size;
}

void *
cl_ring_reserve(struct cl_ring *r, size_t len)
{
	size_t total = footprint(r, len), pos, contig;
	uint8_t *h;

	if (total == 0 || !fits(r, total))
		return NULL;
	pos = (size_t)(r->whead & r->mask);
	contig = r->size - pos;
	if (REC_HDR + align8(len) > contig) {
		h = r->data + pos;
		*(uint32_t *)(void *)h = (uint32_t)(contig - REC_HDR);
		*(uint32_t *)(void *)(h + 4) = CL_RING_T_PAD;
		r->whead += contig;
		pos = 0;
	}
	return r->data + pos + REC_HDR;
}

void
cl_ring_commit(struct cl_ring *r, uint32_t type, size_t len)
{
	uint8_t *h = r->data + (size_t)(r->whead & r->mask);

	*(uint32_t *)(void *)h = (uint32_t)len;
	*(uint32_t *)(void *)(h + 4) = type;
	r->whead += REC_HDR + align8(len);
}

void
cl_ring_publish(struct cl_ring *r)
{
	if (atomic_load_explicit(&r->shm->head, memory_order_relaxed) ==
	    r->whead)
		return;
	atomic_store(&r->shm->head, r->whead);
	if (atomic_load(&r->shm->rsleep) != 0 &&
	    atomic_exchange(&r->shm->rsleep, 0) != 0)
		wake(r->fds[1]);
}

bool
cl_ring_wait_space(struct cl_ring *r, size_t need)
{
	size_t total = footprint(r, need);

	atomic_store(&r->shm->wwait, 1);
	if (total != 0 && fits(r, total)) {
		atomic_store(&r->shm->wwait, 0);
		return false;
	}
	return true;
}

int
cl_ring_peek(struct cl_ring *r, uint32_t *type, const uint8_t **p, size_t *len)
{
	size_t pos, contig, rec;
	uint32_t l, t;

	for (;;) {
		if (r->rtail == r->chead) {
			r->chead = atomic_load_explicit(
			    &r->shm->head, memory_order_acquire);
			if (r->chead < r->rtail ||
			    r->chead - r->rtail > r->size)
				return CL_ERR_FORMAT;
			if (r->rtail == r->chead)
				return 0;
		}
		pos = (size_t)(r->rtail & r->mask);
		contig = r->size - pos;
		/* Read once: the writer may change the memory under us. */
		l = *(volatile uint32_t *)(void *)(r->data + pos);
		t = *(volatile uint32_t *)(void *)(r->data + pos + 4);
		if (t == CL_RING_T_PAD) {
			if ((size_t)l != contig - REC_HDR ||
			    r->chead - r->rtail < contig)
				return CL_ERR_FORMAT;
			r->rtail += contig;
			continue;
		}
		rec = REC_HDR + align8(l);
		if ((size_t)l > cl_ring_max_record(r) || rec > contig ||
		    r->chead - r->rtail < rec)
			return CL_ERR_FORMAT;
		r->cur = rec;
		*type = t;
		*p = r->data + pos + REC_HDR;
		*len = l;
		return 1;
	}
}

void
cl_ring_consume(struct cl_ring *r)
{
	r->rtail += r->cur;
	r->cur = 0;
}

void
cl_ring_release(struct cl_ring *r)
{
	if (atomic_load_explicit(&r->shm->tail, memory_order_relaxed) ==
	    r->rtail)
		return;
	atomic_store(&r->shm->tail, r->rtail);
	if (atomic_load(&r->shm->wwait) != 0 &&
	    atomic_exchange(&r->shm->wwait, 0) != 0)
		wake(r->fds[2]);
}

bool
cl_ring_sleep(struct cl_ring *r)
{
	atomic_store(&r->shm->rsleep, 1);
	if (atomic_load(&r->shm->head) != r->rtail) {
		atomic_store(&r->shm->rsleep, 0);
		return false;
	}
	return true;
}

size_t
cl_ring_used(const struct cl_ring *r)
{
	return (
	    size_t)(atomic_load(&r->shm->head) - atomic_load(&r->shm->tail));
}
