/* SPDX-License-Identifier: ISC */
#ifndef CL_IMSG_H
#define CL_IMSG_H

/*
 * Messages between the processes of one daemon, over a socketpair
 * (AF_UNIX, SOCK_STREAM), on the model of OpenBSD's imsg.  Every message
 * has a fixed header
 *
 *   u16 type, u16 flags, u32 payload length   (host byte order)
 *
 * followed by the payload.  The receiver holds a table of the types it
 * accepts and the payload length each must have: exactly one length, or
 * a range and a multiple for a list.  A type not in the table, a length
 * that does not fit it, a type not permitted at this point (the table's
 * state machine: CL_IMSG_T_OFF, CL_IMSG_T_ONCE, cl_imsg_permit()), an
 * unknown flag or a descriptor where none may be (or none where one
 * must be) is a protocol violation: the connection
 * is unusable and the caller ends it (the peer is a less privileged
 * process, or a broken one).
 *
 * A message may carry one descriptor (CL_IMSG_F_FD), passed with
 * SCM_RIGHTS together with the first octet of its header.
 *
 * The socket may be blocking or not: cl_imsg_read() reads what is there,
 * cl_imsg_get() frames what was read, cl_imsg_compose() queues and
 * cl_imsg_flush() writes what the socket takes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CL_IMSG_HDR_LEN 8
#define CL_IMSG_F_FD    0x0001 /* the message carries a descriptor */
#define CL_IMSG_MAX     (16u * 1024 * 1024) /* largest payload of any type */

/* One accepted message type.  A fixed size: min == max, mult 0.  A list:
 * min..max octets, a multiple of mult (mult > 0). */
struct cl_imsg_type {
	uint16_t type;
	const char *name;
	uint32_t min, max, mult;
	bool fd;        /* the message must carry a descriptor */
	unsigned flags; /* CL_IMSG_T_* */
};

/* The state machine of a dispatch table (OpenSSH's monitor): a type
 * that is not permitted now is a protocol violation, as an unknown one. */
#define CL_IMSG_T_OFF  0x01 /* not permitted until cl_imsg_permit() */
#define CL_IMSG_T_ONCE 0x02 /* permitted once, then off again */

/* A received message.  data is borrowed from the cl_imsgbuf and stays
 * valid until the next cl_imsg_read() or cl_imsg_free(); fd (or -1)
 * belongs to the caller. */
struct cl_imsg {
	uint16_t type, flags;
	uint32_t len;
	const uint8_t *data;
	int fd;
};

struct cl_imsgbuf;

/*
 * Wraps socket fd (not taken over: the caller closes it after
 * cl_imsg_free()).  types[0..ntypes) is the table of what may be
 * received; it is borrowed and must outlive the buffer.  Returns 0,
 * CL_ERR_INVALID_ARG (a type with max > CL_IMSG_MAX or min > max, or a
 * list without a multiple) or CL_ERR_NOMEM.
 */
int cl_imsg_new(int fd, const struct cl_imsg_type *types, size_t ntypes,
    struct cl_imsgbuf **out);

/* Permits (on) or refuses (off) message type from now on.  Returns 0,
 * or CL_ERR_NOT_FOUND if type is not in the table. */
int cl_imsg_permit(struct cl_imsgbuf *b, uint16_t type, bool on);

/* Frees the buffer, closing every descriptor received or queued and not
 * handed out.  b may be NULL. */
void cl_imsg_free(struct cl_imsgbuf *b);

/*
 * Reads what the socket has (one recvmsg; it blocks only if the socket
 * does).  Returns the number of octets read (> 0), CL_ERR_AGAIN (nothing
 * there), CL_ERR_CLOSED (the peer closed
 * or reset), CL_ERR_FORMAT (descriptors
 * cut off: MSG_CTRUNC, or ancillary data of another kind) or
 * CL_ERR_SYSTEM (errno set).
 */
int cl_imsg_read(struct cl_imsgbuf *b);

/*
 * Takes the next whole message out of what was read.  Returns 1 with *m,
 * 0 if no whole message is there yet, or CL_ERR_FORMAT for a protocol
 * violation, described in err (type, name, length and what was
 * expected); the buffer then refuses everything.
 */
int cl_imsg_get(
    struct cl_imsgbuf *b, struct cl_imsg *m, char *err, size_t errlen);

/*
 * Queues a message of type with payload data[0..len) and, if fd >= 0,
 * the descriptor fd, which the buffer then owns (it is closed once sent,
 * or by cl_imsg_free(); also when compose fails).  Returns 0,
 * CL_ERR_TOOBIG (len > CL_IMSG_MAX) or CL_ERR_NOMEM.
 */
int cl_imsg_compose(
    struct cl_imsgbuf *b, uint16_t type, int fd, const void *data, size_t len);

/*
 * Writes what is queued.  Returns 0 when all is written, CL_ERR_AGAIN if
 * some is left (the socket is full), CL_ERR_CLOSED (EPIPE) or
 * CL_ERR_SYSTEM.
 */
int cl_imsg_flush(struct cl_imsgbuf *b);

/* Whether octets are queued for writing. */
bool cl_imsg_pending(const struct cl_imsgbuf *b);

/* How many octets are queued for writing. */
size_t cl_imsg_queued(const struct cl_imsgbuf *b);

/*
 * Writes everything queued and waits for one message: for a blocking
 * request and answer on a blocking socket.  Returns 1 with *m, or an
 * error as above (CL_ERR_CLOSED if the peer went away), described in
 * err.
 */
int cl_imsg_wait(
    struct cl_imsgbuf *b, struct cl_imsg *m, char *err, size_t errlen);

#endif /* CL_IMSG_H */
