/* SPDX-License-Identifier: ISC */
#ifndef CL_SPOOL_H
#define CL_SPOOL_H

/*
 * A durable, append-only spool: the MDF writes every accepted X2/X3 PDU
 * here before it acknowledges it, and deletes a record only once every
 * consumer (LEMF destination) has confirmed it.  The on-disk format, the
 * recovery rules and the durability contract are in docs/PROTOCOL.spool.
 *
 * In short:
 *  - a directory of segment files "seg-<16 hex>.spool", each a 32-octet
 *    header and then records; a record is a 20-octet header (length,
 *    type, flags, sequence number, CRC32C) and its payload;
 *  - record sequence numbers start at 1 and increase by one across
 *    segments; 0 means "no record";
 *  - cl_spool_append() buffers; cl_spool_commit() applies the fsync
 *    policy with the time the caller passes in and returns the highest
 *    committed record; only committed records are visible to cursors;
 *  - named cursors ("cur-<name>") keep each consumer's confirmed position
 *    in a small file replaced atomically (temp, fsync, rename, fsync dir);
 *  - cl_spool_release() deletes whole segments every cursor is past;
 *  - a capacity limit: appends beyond it fail with CL_ERR_FULL and change
 *    nothing; nothing is ever dropped to make room.
 *
 * A spool is not thread-safe: one thread owns it and its cursors.  After
 * any failed write or fsync the spool refuses further writes (fsync errors
 * cannot be retried safely); reopen it to recover.  cl_spool_error() says
 * what failed: the call, the file and the errno text.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define CL_SPOOL_SEG_HDR_LEN  32
#define CL_SPOOL_REC_HDR_LEN  20
#define CL_SPOOL_REC_HARD_MAX (16u * 1024 * 1024) /* any reader's limit */
#define CL_SPOOL_SEG_MIN      (64u * 1024)
#define CL_SPOOL_NAME_MAX     64 /* cursor names: [a-z0-9_-]{1,64} */
/* Sequence and segment numbers stay at or below this (2^62), so that no
 * sum of them wraps; appends past it fail with CL_ERR_RANGE. */
#define CL_SPOOL_SEQ_MAX (UINT64_C(1) << 62)

enum cl_spool_fsync {
	CL_SPOOL_FSYNC_ALWAYS = 0,   /* write and fdatasync in every append */
	CL_SPOOL_FSYNC_INTERVAL = 1, /* group commit: at most every N ms */
	CL_SPOOL_FSYNC_NEVER = 2,    /* write to the kernel only */
};

struct cl_spool_opts {
	uint64_t seg_max;          /* segment size limit; 0 = 64 MiB */
	uint32_t rec_max;          /* payload limit; 0 = 1 MiB */
	uint64_t capacity;         /* total bytes on disk; 0 = unlimited */
	unsigned warn_pct;         /* warning level, % of capacity; 0 = 80 */
	enum cl_spool_fsync fsync; /* policy; default ALWAYS */
	uint64_t interval_ms;      /* for FSYNC_INTERVAL; 0 = 10 */
	size_t wbuf_max;           /* write buffer flush size; 0 = 256 KiB */
	/* FSYNC_INTERVAL: the group commit's fdatasync() runs in a worker
	 * of the spool's own (a lib/loop worker queue), so the caller's
	 * loop does not wait for the disk; cl_spool_event_fd() becomes
	 * readable when one ends.  A poll() loop polls that descriptor; a
	 * lib/loop daemon watches it with cl_loop_io_new(). */
	bool sync_thread;
	/*
	 * Recovery of a corrupt last segment (a bad record followed by
	 * CRC-valid ones: bit rot or tampering, not a torn write).  Without
	 * it open refuses such a spool (CL_ERR_FORMAT).  With it open keeps
	 * every CRC-valid record it can resynchronise to, replaces each
	 * run of lost records by a LOST record that covers their sequence
	 * numbers (docs/PROTOCOL.spool, section 6) and says in the report
	 * what it discarded.  An operator's decision, never a default.
	 */
	bool recover;
};

#define CL_SPOOL_WHY_LEN   512
#define CL_SPOOL_LOST_SHOW 8 /* lost ranges described in a report */

/* One run of bytes discarded by a recovery (opts.recover). */
struct cl_spool_lost {
	uint64_t off;       /* where it began in the segment, before repair */
	uint64_t bytes;     /* octets discarded */
	uint64_t first_seq; /* first sequence number lost */
	uint64_t nrecs;     /* sequence numbers lost (0: only garbage) */
};

/*
 * What open found and did.  On an error, why says what failed (for a
 * system error: the call, the path and the errno text) and seg/off where,
 * for a format error; on success with a torn tail, the tail fields say
 * what was cut off, and with a recovery (opts.recover) the lost fields
 * what was discarded.
 */
struct cl_spool_report {
	uint64_t seg;                   /* segment number of the problem */
	uint64_t off;                   /* byte offset in that segment */
	char why[CL_SPOOL_WHY_LEN];     /* the error or the tear; "" if none */
	char segpath[CL_SPOOL_WHY_LEN]; /* the file of seg, if any */
	uint64_t bad_seq;     /* a refused corrupt segment: the bad record */
	uint64_t valid_after; /* and the CRC-valid records after it */
	bool tail_truncated;  /* the last segment was cut at tail_off */
	uint64_t tail_off;    /* (= off, unless a recovery came first) */
	uint64_t tail_dropped_bytes;
	uint64_t tail_first_seq;    /* sequence number the tear was at */
	uint64_t tail_intact_after; /* CRC-valid records found after it */
	uint64_t first_seq;         /* oldest record held (next_seq if none) */
	uint64_t next_seq;          /* number the next append gets */
	unsigned nsegs;
	/* opts.recover: what this open discarded (all zero if nothing). */
	uint64_t lost_records; /* sequence numbers lost, all ranges */
	uint64_t lost_bytes;   /* octets discarded, all ranges */
	uint64_t lost_kept;    /* CRC-valid records kept after the first */
	unsigned lost_nranges; /* ranges; the first few are in lost[] */
	struct cl_spool_lost lost[CL_SPOOL_LOST_SHOW];
	/* LOST records held (this open's and earlier ones'), oldest first:
	 * see cl_spool_lost_at(). */
	size_t nlost_held;
};

/* One record returned by a cursor; payload borrowed (see next()). */
struct cl_spool_rec {
	uint64_t seq;
	uint16_t type;
	struct cl_span payload;
	/* For a LOST record (flags CL_SPOOL_F_LOST, only seen by
	 * cl_spool_parse_record()): the sequence numbers it covers, from
	 * seq on; 0 for a data record.  Cursors skip LOST records. */
	uint64_t lost;
};

#define CL_SPOOL_F_LOST 0x0001 /* record flag: records lost here */

enum cl_spool_level {
	CL_SPOOL_LEVEL_OK = 0,
	CL_SPOOL_LEVEL_WARN = 1, /* at or above warn_pct of capacity */
	CL_SPOOL_LEVEL_FULL = 2, /* an append was refused since the last
				    release, or used == capacity */
};

struct cl_spool_usage {
	uint64_t bytes;    /* segment file bytes, including buffered */
	uint64_t capacity; /* 0 = unlimited */
	unsigned segments;
	unsigned pct;     /* bytes * 100 / capacity; 0 if unlimited */
	uint64_t records; /* records held: next_seq - first_seq */
	uint64_t refused; /* appends refused with CL_ERR_FULL, ever */
	enum cl_spool_level level;
};

struct cl_spool;
struct cl_spool_cursor;

/*
 * Opens (creating it with mode 0700 if missing) and recovers the spool in
 * directory dir; opts may be NULL for the defaults.  Takes an exclusive
 * flock on dir/lock, so that one process at a time owns a spool.
 *
 * Recovery reads every segment and checks every record: segment numbers
 * contiguous, headers valid, sequence numbers contiguous, CRCs right.  In
 * the last segment only, a first bad or incomplete record that no
 * CRC-valid record follows is a torn tail (a final partial write): it and
 * all bytes after it are cut off (the file is truncated and synced) and
 * described in *report.  A bad record that CRC-valid records follow is
 * corruption: an error (CL_ERR_FORMAT, report->bad_seq and valid_after
 * set) unless opts->recover (see there).  Anything wrong anywhere else,
 * or a cursor outside the records held (before the oldest or past the
 * next number), is an error (CL_ERR_FORMAT, with report->seg, off and why
 * set) and nothing is changed on disk.  A system error is CL_ERR_SYSTEM
 * with report->why naming the call, the path and the errno text; a spool
 * whose lock another process holds is CL_ERR_AGAIN, said so in why.
 *
 * report may be NULL.  Returns 0 and *spp, or a negative CL_ERR_*.
 */
int cl_spool_open(const char *dir, const struct cl_spool_opts *opts,
    struct cl_spool **spp, struct cl_spool_report *report);

/*
 * The last system error of sp as text ("fdatasync /dir/seg-...: No space
 * left on device"), "" if none.  Valid until the next call on sp.
 */
const char *cl_spool_error(const struct cl_spool *sp);

/*
 * The i-th LOST record the spool holds, oldest first (i below
 * report->nlost_held at open; records released since are still listed):
 * *seq the first sequence number it covers, *n how many.  Returns false
 * past the end.  The MDF uses them to keep sequence numbers that lost
 * records may have used from being given again.
 */
bool cl_spool_lost_at(
    const struct cl_spool *sp, size_t i, uint64_t *seq, uint64_t *n);

/*
 * Writes out what is buffered (without fsync unless the policy is ALWAYS
 * or INTERVAL, in which case it syncs too), then frees sp and its cursors.
 * sp may be NULL.  Returns the result of that last sync; sp is freed in
 * any case.
 */
int cl_spool_close(struct cl_spool *sp);

/*
 * The spool directory's descriptor, checked and opened by cl_spool_open()
 * (borrowed: valid until cl_spool_close()).  Files kept beside the spool
 * are opened relative to it with cl_openat_nofollow().
 */
int cl_spool_dirfd(const struct cl_spool *sp);

/*
 * Appends one record (payload len <= rec_max) and returns its sequence
 * number in *seq.  With FSYNC_ALWAYS the record is durable on return;
 * otherwise it is buffered until cl_spool_commit() or cl_spool_sync().
 * Fails with CL_ERR_FULL, changing nothing, if the record would take the
 * spool past its capacity; CL_ERR_TOOBIG if len > rec_max; CL_ERR_SYSTEM
 * if a write failed (the spool is then unusable until reopened).
 */
int cl_spool_append(struct cl_spool *sp, uint16_t type, const void *p,
    size_t len, uint64_t *seq);

/*
 * Applies the fsync policy at time now_ms (any monotonic clock in ms, the
 * caller's): ALWAYS: nothing left to do; INTERVAL: writes and fdatasyncs
 * if records are pending and interval_ms has passed since the last sync
 * (or there was none); NEVER: writes pending records to the kernel.
 * *committed gets the highest committed record (0 if none): synced to disk
 * for ALWAYS and INTERVAL, in the kernel for NEVER.  Committed records are
 * the ones cursors may read and the caller may acknowledge.
 */
int cl_spool_commit(struct cl_spool *sp, uint64_t now_ms, uint64_t *committed);

/*
 * With sync_thread, cl_spool_commit() never waits for the disk: when a
 * commit is due it hands the records written so far to the worker and
 * returns; a later call, once the fdatasync() ended, moves the committed
 * position (one sync at a time; the next begins when one ended and the
 * interval passed).  This descriptor becomes readable when a sync ended:
 * poll it and call cl_spool_commit() then.  -1 without sync_thread.
 */
int cl_spool_event_fd(const struct cl_spool *sp);

/*
 * Writes and fdatasyncs everything appended so far, whatever the policy;
 * *durable gets the highest record on disk (0 if none).
 */
int cl_spool_sync(struct cl_spool *sp, uint64_t *durable);

/*
 * Highest record known to be on disk (fdatasync returned), highest
 * committed under the policy, and the number the next append gets.
 */
uint64_t cl_spool_durable(const struct cl_spool *sp);
uint64_t cl_spool_committed(const struct cl_spool *sp);
uint64_t cl_spool_next_seq(const struct cl_spool *sp);

/*
 * For FSYNC_INTERVAL: the time (in the caller's clock) at which
 * cl_spool_commit() will next have work; false if nothing is pending, a
 * sync is running in the worker (cl_spool_event_fd() tells when it ends)
 * or the policy is not INTERVAL.
 */
bool cl_spool_commit_due(const struct cl_spool *sp, uint64_t *at_ms);

/* Fills *u (see struct cl_spool_usage). */
void cl_spool_usage(const struct cl_spool *sp, struct cl_spool_usage *u);

/*
 * Opens the cursor called name ([a-z0-9_-]{1,64}).  A cursor that does
 * not exist yet is created at the oldest record held and saved at once.
 * The read position starts at the cursor's confirmed position.  The cursor
 * belongs to sp and lives until cl_spool_close() or
 * cl_spool_cursor_remove(); opening a name that is already open fails with
 * CL_ERR_EXISTS.
 */
int cl_spool_cursor_open(
    struct cl_spool *sp, const char *name, struct cl_spool_cursor **curp);

/*
 * Reads the next committed record at the cursor's read position into
 * *rec.  The payload points into the cursor's buffer and stays valid until
 * the next call on this cursor.  Returns CL_ERR_AGAIN when no committed
 * record is left, CL_ERR_FORMAT if the bytes on disk are bad (they are
 * checked again on every read), or another negative CL_ERR_*.
 */
int cl_spool_cursor_next(struct cl_spool_cursor *cur, struct cl_spool_rec *rec);

/*
 * Confirms every record up to and including seq (the consumer has it) and
 * saves the position durably before returning.  seq must have been read
 * through this cursor (CL_ERR_RANGE otherwise); confirming at or below
 * the confirmed position changes nothing.
 */
int cl_spool_cursor_confirm(struct cl_spool_cursor *cur, uint64_t seq);

/* Moves the read position back to the confirmed position (for a resend
 * after the consumer reconnected). */
void cl_spool_cursor_rewind(struct cl_spool_cursor *cur);

/* The next record to be read, and the first one not confirmed. */
uint64_t cl_spool_cursor_pos(const struct cl_spool_cursor *cur);
uint64_t cl_spool_cursor_confirmed(const struct cl_spool_cursor *cur);

/*
 * Deletes the cursor called name (its file and, if open, its handle),
 * so that it no longer holds back cl_spool_release().
 */
int cl_spool_cursor_remove(struct cl_spool *sp, const char *name);

/*
 * Deletes, oldest first, every segment except the last whose records all
 * lie before every cursor's confirmed position, including cursors saved on
 * disk but not open now.  With no cursors at all nothing is deleted: a
 * spool nobody reads is not a spool anybody has consumed.  *nfreed (may
 * be NULL) gets the number of segments deleted.
 */
int cl_spool_release(struct cl_spool *sp, unsigned *nfreed);

/* True if cl_spool_release() would delete at least one segment now (the
 * MDF saves its state before it lets records go). */
bool cl_spool_releasable(const struct cl_spool *sp);

/*
 * Parsing of bytes read back from disk, exposed for the fuzzer and for
 * tools.  All go through struct cl_rd and accept only canonical input.
 */

/* Parses a segment header; *segno and *first_seq set on success. */
int cl_spool_parse_seg_header(
    const uint8_t *p, size_t len, uint64_t *segno, uint64_t *first_seq);

/*
 * Parses one record at the start of p[0..len): it must have sequence
 * number expect_seq, payload at most CL_SPOOL_REC_HARD_MAX, zero flags
 * (or CL_SPOOL_F_LOST, type 0 and an 8-octet payload: the count of
 * sequence numbers it covers, at least 1; rec->lost set) and a correct
 * CRC.  *consumed gets the record's total length.  Returns
 * CL_ERR_TRUNCATED if p is too short for the record its header announces,
 * CL_ERR_FORMAT for any other fault.
 */
int cl_spool_parse_record(const uint8_t *p, size_t len, uint64_t expect_seq,
    struct cl_spool_rec *rec, size_t *consumed);

/*
 * Result of checking one whole segment image: how many good records it
 * has, where the good part ends, and the first fault after it.
 */
struct cl_spool_seginfo {
	uint64_t segno;
	uint64_t first_seq;
	uint64_t nrecs;        /* sequence numbers covered (LOST included) */
	uint64_t good_len;     /* header plus the good records */
	int fault;             /* 0 if good_len == len, else a CL_ERR_* */
	uint64_t intact_after; /* CRC-valid records found past good_len */
};

/*
 * Checks a whole segment image p[0..len): the header, then records from
 * the header's first sequence number on, stopping at the first fault.
 * Returns 0 and fills *info whenever the header is valid (info->fault then
 * says whether the image is all good); a negative CL_ERR_* if the header
 * is not.  intact_after is counted only if count_after is true.
 */
int cl_spool_scan_segment(const uint8_t *p, size_t len, bool count_after,
    struct cl_spool_seginfo *info);

/* CRC32C (Castagnoli) of p[0..len), continuing from crc (start with 0). */
uint32_t cl_crc32c(uint32_t crc, const void *p, size_t len);
/* The same with tables only, whatever the CPU (for tests). */
uint32_t cl_crc32c_portable(uint32_t crc, const void *p, size_t len);

#endif /* CL_SPOOL_H */
