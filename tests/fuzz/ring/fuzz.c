/* SPDX-License-Identifier: ISC */
/*
 * Fuzz target for the reader of lib/ring, whose writer is a less trusted
 * process (the POI's capture and match roles write the rings their
 * successors read).  The input plays that writer with raw access to the
 * shared memory: its first 8 octets are the published head (an offset
 * from the reader's tail, which may be anything), the rest the ring's
 * data area, as it is.  The reader then takes records until it refuses
 * or finds no more.  It must not crash or loop: every record it hands
 * out is at most cl_ring_max_record() octets and is read in full here
 * (a span outside the mapping would fault), and it hands out no more
 * records than the head allows.
 *
 * The header layout (magic, size, head at offset 64) is the one
 * lib/ring.c defines; a change there must change it here.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "err.h"
#include "ring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RING_SIZE 4096
#define HDR_LEN   256

static uint8_t sink[RING_SIZE];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_ring *r = NULL;
	int fds[CL_RING_FDS];
	const uint8_t *p;
	uint8_t *shm;
	uint64_t head;
	uint32_t type;
	size_t len, n;
	int k;

	if (size < 8)
		return 0;
	memcpy(&head, data, 8);
	data += 8;
	size -= 8;
	if (cl_ring_new(RING_SIZE, &r) != 0)
		abort();
	cl_ring_fds(r, fds);
	shm = mmap(NULL, HDR_LEN + RING_SIZE, PROT_READ | PROT_WRITE,
	    MAP_SHARED, fds[0], 0);
	if (shm == MAP_FAILED)
		abort();
	memcpy(shm + HDR_LEN, data, size < RING_SIZE ? size : RING_SIZE);
	/* The published head: head (atomic u64 at 64). */
	memcpy(shm + 64, &head, 8);
	for (n = 0; n < 2 * RING_SIZE; n++) {
		k = cl_ring_peek(r, &type, &p, &len);
		if (k < 0 || k == 0)
			break;
		if (k != 1 || len > cl_ring_max_record(r) || len > RING_SIZE)
			abort();
		memcpy(sink, p, len);
		cl_ring_consume(r);
	}
	/* Records are at least 8 octets: no more than the ring holds. */
	if (n > RING_SIZE / 8)
		abort();
	cl_ring_release(r);
	munmap(shm, HDR_LEN + RING_SIZE);
	cl_ring_free(r);
	return 0;
}
