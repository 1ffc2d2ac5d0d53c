/* SPDX-License-Identifier: ISC */
#ifndef CL_RING_H
#define CL_RING_H

/*
 * A single-producer single-consumer ring of records in shared memory,
 * between two processes of one daemon (memfd_create + mmap).  The
 * writer reserves and fills records and publishes them a batch at a
 * time; the reader takes them in order and releases them a batch at a
 * time.  Neither copies through the kernel.
 *
 * Wake-ups are batched: a reader that found the ring empty says it
 * sleeps (cl_ring_sleep()) and waits on the data descriptor; the writer
 * writes to that eventfd only when it publishes to a sleeping reader.
 * A writer that found the ring full waits on the space descriptor the
 * same way.  So a busy ring costs no system call per record.
 *
 * Every record is a u32 length and a u32 type (CL_RING_T_PAD is the
 * ring's own), its payload, and padding to 8 octets.  The reader checks
 * every length and position it reads from the shared memory: a writer
 * that breaks the format makes cl_ring_peek() fail, never reads or
 * writes outside the ring.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CL_RING_T_PAD 0 /* the rest of the data area is unused */
#define CL_RING_FDS   3 /* memory, data eventfd, space eventfd */

struct cl_ring;

/*
 * A new ring of size octets of data (a power of two, at least 4096).
 * Returns 0 or CL_ERR_SYSTEM (errno set) / CL_ERR_NOMEM /
 * CL_ERR_INVALID_ARG.
 */
int cl_ring_new(size_t size, struct cl_ring **out);

/* The ring's descriptors (memory, data, space), for another process. */
void cl_ring_fds(const struct cl_ring *r, int fds[CL_RING_FDS]);

/*
 * Maps the ring of the descriptors fds (taken over: the memory one is
 * closed once mapped, the eventfds at cl_ring_free()).  Returns 0,
 * CL_ERR_FORMAT (not a ring of this format) or CL_ERR_SYSTEM.
 */
int cl_ring_attach(const int fds[CL_RING_FDS], struct cl_ring **out);

/* Unmaps and closes.  NULL ok. */
void cl_ring_free(struct cl_ring *r);

/* The eventfd the reader waits on for records, and the one the writer
 * waits on for space.  cl_ring_clear() empties one after a wake-up. */
int cl_ring_data_fd(const struct cl_ring *r);
int cl_ring_space_fd(const struct cl_ring *r);
void cl_ring_clear(int efd);

/* ---- writer ---- */

/*
 * Space for a record of len octets of payload, or NULL if the ring has
 * not that much room now (or len is larger than a record may be).  The
 * record exists once cl_ring_commit() is called; it is seen by the
 * reader after cl_ring_publish().
 */
void *cl_ring_reserve(struct cl_ring *r, size_t len);
void cl_ring_commit(struct cl_ring *r, uint32_t type, size_t len);
void cl_ring_publish(struct cl_ring *r);

/* Largest payload a record may have. */
size_t cl_ring_max_record(const struct cl_ring *r);

/*
 * The writer found the ring full: tells the reader to wake it.  Returns
 * false if room for need octets of payload appeared meanwhile (try
 * again), true if the caller is to wait on cl_ring_space_fd().
 */
bool cl_ring_wait_space(struct cl_ring *r, size_t need);

/* ---- reader ---- */

/*
 * The next record: 1 with its type, payload and length, 0 if there is
 * none, CL_ERR_FORMAT if the writer broke the format (the ring is then
 * unusable).
 */
int cl_ring_peek(
    struct cl_ring *r, uint32_t *type, const uint8_t **p, size_t *len);

/* Drops the record cl_ring_peek() returned. */
void cl_ring_consume(struct cl_ring *r);

/* Makes what was consumed free for the writer, waking it if it waits. */
void cl_ring_release(struct cl_ring *r);

/*
 * The reader found the ring empty: tells the writer to wake it.
 * Returns false if a record appeared meanwhile (read again), true if
 * the caller is to wait on cl_ring_data_fd().
 */
bool cl_ring_sleep(struct cl_ring *r);

/* Octets published and not yet released (for gauges). */
size_t cl_ring_used(const struct cl_ring *r);

#endif /* CL_RING_H */
