/* SPDX-License-Identifier: ISC */
/*
 * pcap and pcapng reader over bytes in memory.
 *
 * Every record is checked against the bytes that are left before anything
 * is returned: a record that does not fit, a pcapng block whose trailing
 * length differs from its leading one, a packet larger than
 * CL_CAP_MAX_SNAPLEN or than its block, an EPB for an interface that no IDB
 * described.  The first such error sticks: the reader is not resynchronised
 * because a capture with a framing error cannot be trusted past it.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "capfile.h"
#include "err.h"

#define PCAP_MAGIC_US   0xa1b2c3d4u
#define PCAP_MAGIC_NS   0xa1b23c4du
#define PCAP_HDR_LEN    24
#define PCAP_REC_LEN    16
#define PCAPNG_SHB      0x0a0d0d0au
#define PCAPNG_IDB      0x00000001u
#define PCAPNG_PB       0x00000002u /* obsolete Packet Block */
#define PCAPNG_SPB      0x00000003u
#define PCAPNG_EPB      0x00000006u
#define PCAPNG_BOM      0x1a2b3c4du
#define PCAPNG_MIN_BLK  12 /* type, length, trailing length */
#define PCAPNG_MIN_SHB  28
#define OPT_ENDOFOPT    0
#define OPT_IF_TSRESOL  9
#define OPT_IF_TSOFFSET 14

/*
 * An IDB costs the file at least 20 bytes; the cap bounds what a hostile
 * file can make us allocate independently of its size.
 */
#define CAP_MAX_IFACES 4096

struct cap_iface {
	uint32_t linktype;
	uint32_t snaplen;
	int64_t tsoffset; /* seconds added to every timestamp */
	bool tspow2;      /* resolution is 2^-tsres, else 10^-tsres */
	uint8_t tsres;
};

struct cl_cap {
	const uint8_t *base;
	size_t len;
	size_t off;
	bool mapped;
	enum cl_cap_format fmt;
	int err;
	uint64_t err_off;
	uint64_t rec_off; /* offset of the record last returned */

	bool le; /* pcap file or current pcapng section is little-endian */
	/* pcap */
	bool nsec;
	uint32_t linktype;
	/* pcapng, current section */
	struct cap_iface *ifs;
	size_t nifs;
	size_t ifs_alloc;
};

static int
rd_u16o(struct cl_rd *rd, bool le, uint16_t *v)
{
	return le ? cl_rd_u16le(rd, v) : cl_rd_u16(rd, v);
}

static int
rd_u32o(struct cl_rd *rd, bool le, uint32_t *v)
{
	return le ? cl_rd_u32le(rd, v) : cl_rd_u32(rd, v);
}

static int
pcap_header(struct cl_cap *c)
{
	struct cl_rd rd;
	uint32_t magic, zone, sigfigs, snaplen, network;
	uint16_t major, minor;
	int r;

	cl_rd_init(&rd, c->base, c->len);
	if ((r = cl_rd_u32(&rd, &magic)) != 0)
		return r;
	switch (magic) {
	case PCAP_MAGIC_US:
		c->le = false;
		c->nsec = false;
		break;
	case PCAP_MAGIC_NS:
		c->le = false;
		c->nsec = true;
		break;
	case 0xd4c3b2a1u:
		c->le = true;
		c->nsec = false;
		break;
	case 0x4d3cb2a1u:
		c->le = true;
		c->nsec = true;
		break;
	default:
		return CL_ERR_FORMAT;
	}
	if ((r = rd_u16o(&rd, c->le, &major)) != 0 ||
	    (r = rd_u16o(&rd, c->le, &minor)) != 0 ||
	    (r = rd_u32o(&rd, c->le, &zone)) != 0 ||
	    (r = rd_u32o(&rd, c->le, &sigfigs)) != 0 ||
	    (r = rd_u32o(&rd, c->le, &snaplen)) != 0 ||
	    (r = rd_u32o(&rd, c->le, &network)) != 0)
		return r;
	(void)minor;
	(void)zone;
	(void)sigfigs;
	if (major != 2)
		return CL_ERR_UNSUPPORTED;
	/* The upper 16 bits may carry FCS information we do not use. */
	c->linktype = network & 0xffff;
	(void)snaplen; /* records are checked against CL_CAP_MAX_SNAPLEN */
	c->fmt = CL_CAP_PCAP;
	c->off = rd.off;
	return 0;
}

static int
pcap_next(struct cl_cap *c, struct cl_cap_pkt *pkt)
{
	struct cl_rd rd;
	struct cl_span data = {NULL, 0};
	uint32_t sec, frac, caplen, wirelen, unit;
	int r;

	cl_rd_init(&rd, c->base + c->off, c->len - c->off);
	if (cl_rd_left(&rd) == 0)
		return 0;
	c->rec_off = c->off;
	if ((r = rd_u32o(&rd, c->le, &sec)) != 0 ||
	    (r = rd_u32o(&rd, c->le, &frac)) != 0 ||
	    (r = rd_u32o(&rd, c->le, &caplen)) != 0 ||
	    (r = rd_u32o(&rd, c->le, &wirelen)) != 0)
		return r;
	if (caplen > CL_CAP_MAX_SNAPLEN)
		return CL_ERR_TOOBIG;
	if ((r = cl_rd_span(&rd, caplen, &data)) != 0)
		return r;
	pkt->data = data.p;
	pkt->caplen = caplen;
	pkt->wirelen = wirelen;
	pkt->ts_sec = sec;
	unit = c->nsec ? 1000000000u : 1000000u;
	if (frac >= unit) {
		/* Some writers store 1000000 microseconds instead of
		 * carrying a second.  The record is framed correctly, so
		 * carry for them rather than lose it and what follows. */
		pkt->ts_sec += frac / unit;
		frac %= unit;
		pkt->flags |= CL_CAP_F_TS_NORMALISED;
	}
	pkt->ts_nsec = c->nsec ? frac : frac * 1000;
	pkt->linktype = c->linktype;
	pkt->ifindex = 0;
	c->off += rd.off;
	return 1;
}

/*
 * Reads the Section Header Block at c->off: its byte-order magic decides
 * how everything in the section, its own length included, is read.
 */
static int
pcapng_shb(struct cl_cap *c, size_t *blen)
{
	struct cl_rd rd, body;
	uint32_t type, len, bom, tail;
	uint16_t major, minor;
	bool le;
	int r;

	cl_rd_init(&rd, c->base + c->off, c->len - c->off);
	if ((r = cl_rd_u32(&rd, &type)) != 0 || (r = cl_rd_skip(&rd, 4)) != 0 ||
	    (r = cl_rd_u32(&rd, &bom)) != 0)
		return r;
	if (type != PCAPNG_SHB)
		return CL_ERR_FORMAT;
	if (bom == PCAPNG_BOM)
		le = false;
	else if (bom == 0x4d3c2b1au)
		le = true;
	else
		return CL_ERR_FORMAT;
	cl_rd_init(&rd, c->base + c->off + 4, c->len - c->off - 4);
	if ((r = rd_u32o(&rd, le, &len)) != 0)
		return r;
	if (len < PCAPNG_MIN_SHB || len % 4 != 0)
		return CL_ERR_FORMAT;
	/* Body: everything between the leading and trailing lengths. */
	if ((r = cl_rd_sub(&rd, len - PCAPNG_MIN_BLK, &body)) != 0 ||
	    (r = rd_u32o(&rd, le, &tail)) != 0)
		return r;
	if (tail != len)
		return CL_ERR_FORMAT;
	/* Byte-order magic, version, section length (unused: -1 is legal,
	 * and we walk blocks anyway), options (none we need). */
	if ((r = cl_rd_skip(&body, 4)) != 0 ||
	    (r = rd_u16o(&body, le, &major)) != 0 ||
	    (r = rd_u16o(&body, le, &minor)) != 0 ||
	    (r = cl_rd_skip(&body, 8)) != 0)
		return CL_ERR_FORMAT;
	(void)minor;
	if (major != 1)
		return CL_ERR_UNSUPPORTED;
	c->le = le;
	c->nifs = 0; /* interface ids are per section */
	*blen = len;
	return 0;
}

/* Walks an option list, remembering the options that affect timestamps. */
static int
pcapng_idb_opts(struct cl_cap *c, struct cl_rd *rd, struct cap_iface *ifc)
{
	struct cl_span val;
	uint16_t code, olen;
	uint32_t w0, w1;
	int r;

	while (cl_rd_left(rd) > 0) {
		if ((r = rd_u16o(rd, c->le, &code)) != 0 ||
		    (r = rd_u16o(rd, c->le, &olen)) != 0)
			return CL_ERR_FORMAT;
		if (code == OPT_ENDOFOPT)
			return 0;
		if ((r = cl_rd_span(rd, olen, &val)) != 0 ||
		    (r = cl_rd_skip(rd, (4 - olen % 4) % 4)) != 0)
			return CL_ERR_FORMAT;
		if (code == OPT_IF_TSRESOL) {
			if (olen != 1)
				return CL_ERR_FORMAT;
			ifc->tspow2 = (val.p[0] & 0x80) != 0;
			ifc->tsres = val.p[0] & 0x7f;
			/* 10^-19 is the finest power of ten whose unit count
			 * still fits in 64 bits; 2^-63 likewise. */
			if ((!ifc->tspow2 && ifc->tsres > 19) ||
			    (ifc->tspow2 && ifc->tsres > 63))
				return CL_ERR_UNSUPPORTED;
		} else if (code == OPT_IF_TSOFFSET) {
			struct cl_rd ord;

			if (olen != 8)
				return CL_ERR_FORMAT;
			cl_rd_init(&ord, val.p, val.len);
			(void)rd_u32o(&ord, c->le, &w0);
			(void)rd_u32o(&ord, c->le, &w1);
			/* A 64-bit integer in section byte order: the
			 * first word is the low half when little-endian. */
			ifc->tsoffset = c->le
			    ? (int64_t)((uint64_t)w1 << 32 | w0)
			    : (int64_t)((uint64_t)w0 << 32 | w1);
		}
	}
	return 0;
}

static int
pcapng_idb(struct cl_cap *c, struct cl_rd *body)
{
	struct cap_iface ifc, *n;
	uint16_t linktype, reserved;
	uint32_t snaplen;
	size_t na;
	int r;

	memset(&ifc, 0, sizeof(ifc));
	if ((r = rd_u16o(body, c->le, &linktype)) != 0 ||
	    (r = rd_u16o(body, c->le, &reserved)) != 0 ||
	    (r = rd_u32o(body, c->le, &snaplen)) != 0)
		return CL_ERR_FORMAT;
	(void)reserved;
	ifc.linktype = linktype;
	ifc.snaplen = snaplen;
	ifc.tsres = 6; /* default: microseconds */
	if ((r = pcapng_idb_opts(c, body, &ifc)) != 0)
		return r;
	if (c->nifs >= CAP_MAX_IFACES)
		return CL_ERR_TOOBIG;
	if (c->nifs == c->ifs_alloc) {
		na = c->ifs_alloc == 0 ? 4 : c->ifs_alloc * 2;
		if ((n = reallocarray(c->ifs, na, sizeof(*n))) == NULL)
			return CL_ERR_NOMEM;
		c->ifs = n;
		c->ifs_alloc = na;
	}
	c->ifs[c->nifs++] = ifc;
	return 0;
}

static uint64_t
pow10u(unsigned e)
{
	uint64_t v = 1;

	while (e-- > 0)
		v *= 10;
	return v;
}

/*
 * Converts a pcapng timestamp in the interface's units.  One that does not
 * fit in 64-bit seconds is flagged and zeroed: the block around it is
 * sound, so it is not a reason to stop reading.
 */
static void
pcapng_ts(const struct cap_iface *ifc, uint64_t ts, struct cl_cap_pkt *pkt)
{
	uint64_t sec, frac, unit;

	if (ifc->tspow2) {
		sec = ifc->tsres == 0 ? ts : ts >> ifc->tsres;
		frac = ifc->tsres == 0 ? 0
				       : ts & ((UINT64_C(1) << ifc->tsres) - 1);
		pkt->ts_nsec =
		    (uint32_t)(((unsigned __int128)frac * 1000000000u) >>
			ifc->tsres);
	} else {
		unit = pow10u(ifc->tsres);
		sec = ts / unit;
		frac = ts % unit;
		if (ifc->tsres <= 9)
			pkt->ts_nsec =
			    (uint32_t)(frac * pow10u(9 - ifc->tsres));
		else
			pkt->ts_nsec =
			    (uint32_t)(frac / pow10u(ifc->tsres - 9));
	}
	if (sec > INT64_MAX ||
	    __builtin_add_overflow((int64_t)sec, ifc->tsoffset, &pkt->ts_sec)) {
		pkt->ts_sec = 0;
		pkt->ts_nsec = 0;
		pkt->flags |= CL_CAP_F_TS_INVALID;
	}
}

static int
pcapng_packet(
    struct cl_cap *c, uint32_t type, struct cl_rd *body, struct cl_cap_pkt *pkt)
{
	const struct cap_iface *ifc;
	struct cl_span data = {NULL, 0};
	uint32_t ifid, hi, lo, caplen, wirelen;
	uint16_t ifid16, drops;
	int r;

	if (type == PCAPNG_SPB) {
		/* No interface id, no timestamp: interface 0 implied, and
		 * the captured length follows from the block length. */
		if ((r = rd_u32o(body, c->le, &wirelen)) != 0)
			return CL_ERR_FORMAT;
		if (c->nifs == 0)
			return CL_ERR_NOT_FOUND;
		ifc = &c->ifs[0];
		caplen = wirelen;
		if (ifc->snaplen != 0 && caplen > ifc->snaplen)
			caplen = ifc->snaplen;
		if (caplen > cl_rd_left(body))
			caplen = (uint32_t)cl_rd_left(body);
		if (caplen > CL_CAP_MAX_SNAPLEN)
			return CL_ERR_TOOBIG;
		/* The rest of the block can only be padding. */
		if (cl_rd_left(body) - caplen >= 4)
			return CL_ERR_FORMAT;
		(void)cl_rd_span(body, caplen, &data);
		pkt->ts_sec = 0;
		pkt->ts_nsec = 0;
		ifid = 0;
	} else {
		if (type == PCAPNG_PB) {
			if ((r = rd_u16o(body, c->le, &ifid16)) != 0 ||
			    (r = rd_u16o(body, c->le, &drops)) != 0)
				return CL_ERR_FORMAT;
			(void)drops;
			ifid = ifid16;
		} else if ((r = rd_u32o(body, c->le, &ifid)) != 0)
			return CL_ERR_FORMAT;
		if ((r = rd_u32o(body, c->le, &hi)) != 0 ||
		    (r = rd_u32o(body, c->le, &lo)) != 0 ||
		    (r = rd_u32o(body, c->le, &caplen)) != 0 ||
		    (r = rd_u32o(body, c->le, &wirelen)) != 0)
			return CL_ERR_FORMAT;
		if (ifid >= c->nifs)
			return CL_ERR_NOT_FOUND;
		ifc = &c->ifs[ifid];
		if (caplen > CL_CAP_MAX_SNAPLEN)
			return CL_ERR_TOOBIG;
		if ((r = cl_rd_span(body, caplen, &data)) != 0 ||
		    (r = cl_rd_skip(body, (4 - caplen % 4) % 4)) != 0)
			return CL_ERR_FORMAT;
		/* Options follow; we need none of them. */
		pcapng_ts(ifc, (uint64_t)hi << 32 | lo, pkt);
	}
	pkt->data = data.p;
	pkt->caplen = caplen;
	pkt->wirelen = wirelen;
	pkt->linktype = ifc->linktype;
	pkt->ifindex = ifid;
	return 1;
}

static int
pcapng_next(struct cl_cap *c, struct cl_cap_pkt *pkt)
{
	struct cl_rd rd, body;
	uint32_t type, len, tail;
	size_t blen;
	int r;

	for (;;) {
		cl_rd_init(&rd, c->base + c->off, c->len - c->off);
		if (cl_rd_left(&rd) == 0)
			return 0;
		if ((r = cl_rd_u32(&rd, &type)) != 0)
			return r;
		if (type == PCAPNG_SHB) {
			if ((r = pcapng_shb(c, &blen)) != 0)
				return r;
			c->off += blen;
			continue;
		}
		/* The SHB type reads the same in both orders; others not. */
		rd.off = 0;
		(void)rd_u32o(&rd, c->le, &type);
		if ((r = rd_u32o(&rd, c->le, &len)) != 0)
			return r;
		if (len < PCAPNG_MIN_BLK || len % 4 != 0)
			return CL_ERR_FORMAT;
		if ((r = cl_rd_sub(&rd, len - PCAPNG_MIN_BLK, &body)) != 0 ||
		    (r = rd_u32o(&rd, c->le, &tail)) != 0)
			return r;
		if (tail != len)
			return CL_ERR_FORMAT;
		c->rec_off = c->off;
		switch (type) {
		case PCAPNG_IDB:
			r = pcapng_idb(c, &body);
			break;
		case PCAPNG_EPB:
		case PCAPNG_SPB:
		case PCAPNG_PB:
			r = pcapng_packet(c, type, &body, pkt);
			break;
		default:
			r = 0; /* statistics, name resolution, custom... */
			break;
		}
		if (r < 0)
			return r;
		c->off += len;
		if (r == 1)
			return 1;
	}
}

static int
cap_open(const uint8_t *p, size_t len, bool mapped, struct cl_cap **out)
{
	struct cl_cap *c = NULL;
	size_t blen;
	uint32_t magic;
	int r = CL_ERR_INTERNAL;

	*out = NULL;
	if (p == NULL && len != 0)
		return CL_ERR_INVALID_ARG;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return CL_ERR_NOMEM;
	c->base = p;
	c->len = len;
	if (len < 4) {
		r = CL_ERR_TRUNCATED;
		goto out;
	}
	magic = cl_load_u32(p);
	if (magic == PCAPNG_SHB) {
		c->fmt = CL_CAP_PCAPNG;
		if ((r = pcapng_shb(c, &blen)) != 0)
			goto out;
		c->off = blen;
	} else if ((r = pcap_header(c)) != 0)
		goto out;
	c->mapped = mapped;
	*out = c;
	c = NULL;
	r = 0;
out:
	if (c != NULL) {
		free(c->ifs);
		free(c);
	}
	return r;
}

int
cl_cap_open_mem(const uint8_t *p, size_t len, struct cl_cap **out)
{
	return cap_open(p, len, false, out);
}

int
cl_cap_open_path(
    const char *path, struct cl_cap **out, char *err, size_t errlen)
{
	struct stat st;
	void *m = MAP_FAILED;
	int fd = -1, r = CL_ERR_INTERNAL;
	char dummy[1];

	*out = NULL;
	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "cannot open %s for reading: %s", path,
		    strerror(errno));
		r = CL_ERR_SYSTEM;
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(
		    err, errlen, "cannot stat %s: %s", path, strerror(errno));
		r = CL_ERR_SYSTEM;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		r = CL_ERR_INVALID_ARG;
		goto out;
	}
	/* Shorter than any file header: refuse before mapping, since a
	 * zero-length mapping is an error of its own. */
	if (st.st_size < 4) {
		snprintf(err, errlen,
		    "%s is not a capture file: %lld bytes, shorter than any "
		    "file header",
		    path, (long long)st.st_size);
		r = CL_ERR_TRUNCATED;
		goto out;
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		snprintf(err, errlen, "%s is too large to map", path);
		r = CL_ERR_TOOBIG;
		goto out;
	}
	/*
	 * XXX A file truncated by someone else while mapped raises SIGBUS;
	 * capture files are read after the capture has finished.
	 */
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m == MAP_FAILED) {
		snprintf(err, errlen, "cannot map %s (%lld bytes): %s", path,
		    (long long)st.st_size, strerror(errno));
		r = CL_ERR_SYSTEM;
		goto out;
	}
	/* Read once, front to back: ask for aggressive read-ahead. */
	(void)madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
	if ((r = cap_open(m, (size_t)st.st_size, true, out)) != 0) {
		snprintf(err, errlen,
		    "%s is not a pcap or pcapng file this reader accepts: "
		    "its file header is %s",
		    path,
		    r == CL_ERR_UNSUPPORTED ? "of an unsupported version"
			: r == CL_ERR_TRUNCATED
			? "cut short"
			: "not one (bad magic or length)");
		goto out;
	}
	m = MAP_FAILED; /* owned by *out now */
out:
	if (m != MAP_FAILED)
		munmap(m, (size_t)st.st_size);
	if (fd != -1)
		close(fd);
	return r;
}

int
cl_cap_open_file(const char *path, struct cl_cap **out)
{
	return cl_cap_open_path(path, out, NULL, 0);
}

int
cl_cap_next(struct cl_cap *c, struct cl_cap_pkt *pkt)
{
	int r;

	memset(pkt, 0, sizeof(*pkt));
	if (c->err != 0)
		return c->err;
	if (c->fmt == CL_CAP_PCAPNG)
		r = pcapng_next(c, pkt);
	else
		r = pcap_next(c, pkt);
	if (r < 0) {
		memset(pkt, 0, sizeof(*pkt));
		c->err = r;
		c->err_off = c->off;
	}
	return r;
}

enum cl_cap_format
cl_cap_format(const struct cl_cap *c)
{
	return c->fmt;
}

uint64_t
cl_cap_error_offset(const struct cl_cap *c)
{
	return c->err_off;
}

uint64_t
cl_cap_offset(const struct cl_cap *c)
{
	return c->rec_off;
}

void
cl_cap_free(struct cl_cap *c)
{
	if (c == NULL)
		return;
	if (c->mapped)
		munmap((void *)(uintptr_t)c->base, c->len);
	free(c->ifs);
	free(c);
}
