/* SPDX-License-Identifier: ISC */
#ifndef POI_CAPFILE_H
#define POI_CAPFILE_H

/*
 * Capture-file reader: pcap (both byte orders, microsecond and nanosecond
 * resolution) and pcapng (several interfaces, each with its own link type
 * and timestamp resolution; unknown blocks skipped).  The format is found
 * from the magic number, never from the file name.
 *
 * The reader works over bytes in memory: cl_cap_open_file() maps the file,
 * cl_cap_open_mem() borrows the caller's bytes (they must outlive the
 * reader).  Packets are returned as pointers into those bytes, so reading
 * copies nothing; a packet stays valid until the reader is freed.
 *
 * We do not use libpcap's offline reader here: it refuses pcapng files whose
 * interfaces have different link types, and this is the POI's hot path (see
 * bench/).
 */

#include <stddef.h>
#include <stdint.h>

/* LINKTYPE_* values (tcpdump.org/linktypes.html) that the decoder knows. */
#define CL_LINKTYPE_NULL       0 /* BSD loopback, host byte order AF */
#define CL_LINKTYPE_ETHERNET   1
#define CL_LINKTYPE_PPP        9   /* PPP, HDLC-like framing optional */
#define CL_LINKTYPE_PPP_HDLC   50  /* PPP in HDLC-like framing */
#define CL_LINKTYPE_PPP_ETHER  51  /* PPPoE header, no Ethernet */
#define CL_LINKTYPE_RAW        101 /* raw IPv4 or IPv6 */
#define CL_LINKTYPE_C_HDLC     104 /* Cisco HDLC */
#define CL_LINKTYPE_LOOP       108 /* OpenBSD loopback, network order AF */
#define CL_LINKTYPE_LINUX_SLL  113
#define CL_LINKTYPE_ERF        197 /* Endace ERF record */
#define CL_LINKTYPE_IPV4       228
#define CL_LINKTYPE_IPV6       229
#define CL_LINKTYPE_NFLOG      239 /* Linux nfnetlink_log */
#define CL_LINKTYPE_LINUX_SLL2 276

/* Largest captured length accepted for one packet. */
#define CL_CAP_MAX_SNAPLEN (256u * 1024)

struct cl_cap;

struct cl_cap_pkt {
	const uint8_t *data; /* caplen bytes */
	uint32_t caplen;
	uint32_t wirelen;  /* original length on the wire */
	int64_t ts_sec;    /* seconds since the epoch */
	uint32_t ts_nsec;  /* nanoseconds, < 1e9 */
	uint32_t linktype; /* LINKTYPE_* of the packet's interface */
	uint32_t ifindex;  /* pcapng interface id; 0 for pcap */
	uint32_t flags;    /* CL_CAP_F_* */
};

/*
 * The record's fraction of a second was 1 s or more (pcap): the whole
 * seconds in it were carried into ts_sec, as a writer that forgot to
 * carry meant.
 */
#define CL_CAP_F_TS_NORMALISED 0x1
/*
 * The record's timestamp does not fit in 64-bit seconds (pcapng with an
 * extreme resolution or offset): ts_sec and ts_nsec are 0 and mean
 * nothing.
 */
#define CL_CAP_F_TS_INVALID 0x2

enum cl_cap_format {
	CL_CAP_PCAP = 1,
	CL_CAP_PCAPNG = 2,
};

/* Maps path read-only and opens it.  *out is NULL on failure. */
int cl_cap_open_file(const char *path, struct cl_cap **out);

/*
 * Same, and on failure writes to err what was attempted, on which path,
 * and why (the errno text for a failed system call).
 */
int cl_cap_open_path(
    const char *path, struct cl_cap **out, char *err, size_t errlen);

/* Opens a reader over len borrowed bytes at p. */
int cl_cap_open_mem(const uint8_t *p, size_t len, struct cl_cap **out);

/*
 * Reads the next packet.  Returns 1 and fills *pkt, 0 at the clean end of
 * the file, or a negative CL_ERR_* if the file is malformed from here on
 * (truncated record, bad block length, unknown interface, caplen over
 * CL_CAP_MAX_SNAPLEN...); after an error, further calls return the same
 * error.  cl_cap_error_offset() gives the file offset of the bad record.
 * A record whose only fault is its timestamp is returned with a CL_CAP_F_*
 * flag; cl_cap_offset() gives its offset until the next call.
 */
int cl_cap_next(struct cl_cap *c, struct cl_cap_pkt *pkt);

enum cl_cap_format cl_cap_format(const struct cl_cap *c);
uint64_t cl_cap_error_offset(const struct cl_cap *c);

/* File offset of the record cl_cap_next() returned last. */
uint64_t cl_cap_offset(const struct cl_cap *c);

/* Frees the reader and unmaps its file; c may be NULL. */
void cl_cap_free(struct cl_cap *c);

#endif /* POI_CAPFILE_H */
