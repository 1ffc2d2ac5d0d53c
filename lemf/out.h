/* SPDX-License-Identifier: ISC */
#ifndef LEMF_OUT_H
#define LEMF_OUT_H

/*
 * Output of clearli-lemf, in its out-dir:
 *
 *  pdus.jsonl     one JSON object per line: each accepted PDU and each
 *                 event (gap, conflict, bad-pdu); see clearli-lemf(8).
 *  cc-<LIID>.pcap per LIID, the iPPackets of CC PDUs as LINKTYPE_RAW
 *                 records (LIID bytes outside [A-Za-z0-9._-] as %XX).
 *  summary.json   counters, on SIGUSR1 and at exit.
 *  pdus.ber       with lemf_out_keep_raw(): every PS-PDU written to
 *                 pdus.jsonl, as received, back to back in that order.
 *
 * Writes are buffered in memory; lemf_out_flush() hands them to the
 * kernel (pcap records before JSON lines, so a JSON line never names a
 * packet that is not in the pcap) and lemf_out_sync() also fdatasync()s
 * every file written since the last sync.  The caller acknowledges
 * nothing before lemf_out_sync() returned 0.
 *
 * At open, an existing pdus.jsonl is read to rebuild the receive state
 * (next sequence number and hashes per stream); a partial last line left
 * by a crash is cut off with a warning.  Existing pcap files are appended
 * to after checking their header; a partial last record is cut off.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "psdu.h"
#include "psdu_dec.h"
#include "recv.h"

#define LEMF_PCAP_OPEN_MAX 16384  /* pcap files kept open at once, at most */
#define LEMF_PCAP_SNAPLEN  262144 /* longer packets are cut (and logged) */
#define LEMF_LINE_MAX      (8u * 1024 * 1024) /* longest JSON line read */

struct lemf_out;

/* What a pdus.jsonl line says about a PDU. */
struct lemf_jline {
	bool event;
	int kind; /* LEMF_KIND_*, or -1 */
	uint8_t liid[CL_PSDU_LIID_MAX];
	size_t liid_len;
	bool has_liid, has_cin, has_seq, has_hash;
	uint64_t cin, seq;
	uint8_t hash[32];
};

/*
 * Reads one pdus.jsonl line p[0..len) (without its newline) into *l.
 * Returns 0, or a CL_ERR_* with err[errlen] naming where and why.
 */
int lemf_jline_parse(const uint8_t *p, size_t len, struct lemf_jline *l,
    char *err, size_t errlen);

struct lemf_restore_stats {
	uint64_t lines;     /* complete lines read */
	uint64_t pdus;      /* PDU lines restored */
	uint64_t bad_lines; /* lines that could not be read (ignored) */
	uint64_t cut_bytes; /* partial last line removed */
};

/*
 * Opens (creating if needed) the output in dir and rebuilds rv from an
 * existing pdus.jsonl.  err gets a reason on failure.
 */
int lemf_out_open(const char *dir, struct lemf_recv *rv, struct lemf_out **out,
    char *err, size_t errlen);

/*
 * lemf_out_open() for a process that holds no receive state and opens no
 * path (the writer role): the output is the directory open on dfd (taken
 * over, checked by the caller: cl_dir_open_private()), named dir in
 * messages; every file is opened relative to dfd.  Each PDU line of
 * pdus.jsonl is handed to fn(arg, ...) (the arguments of
 * lemf_recv_restore()); a non-zero return is fatal.
 */
typedef int lemf_restore_fn(void *arg, int kind, const uint8_t *liid,
    size_t liid_len, uint32_t cin, uint32_t seq, const uint8_t hash[static 32]);
int lemf_out_open_with(int dfd, const char *dir, lemf_restore_fn *fn, void *arg,
    struct lemf_out **out, char *err, size_t errlen);

/*
 * Also keeps the raw PS-PDUs of lemf_out_pdu() in dir/pdus.ber (appended
 * to), written before and synced with the JSON lines that describe them.
 * After a crash of the LEMF itself pdus.ber may end with PDUs no line
 * names (written, never acknowledged, received again).
 */
int lemf_out_keep_raw(
    struct lemf_out *o, const char *dir, char *err, size_t errlen);

/* Flushes, syncs and frees; o may be NULL.  Returns the sync result. */
int lemf_out_close(struct lemf_out *o);

const struct lemf_restore_stats *lemf_out_restored(const struct lemf_out *o);

/*
 * Buffers the JSON line of an accepted PDU (res from lemf_recv_pdu(), or
 * NULL for a PDU of no stream) and, for CC with iPPackets, a pcap record
 * per payload.  rx is the receive time.
 */
int lemf_out_pdu(struct lemf_out *o, const struct cl_psdu_info *in,
    const uint8_t hash[static 32], const struct lemf_result *res,
    const struct timespec *rx);

/* Event lines. */
int lemf_out_gap(struct lemf_out *o, const struct cl_psdu_info *in,
    const struct lemf_result *res, const struct timespec *rx);
int lemf_out_conflict(struct lemf_out *o, const struct cl_psdu_info *in,
    const uint8_t hash[static 32], const struct lemf_result *res,
    const struct timespec *rx);
int lemf_out_bad(struct lemf_out *o, const char *peer, uint64_t offset, int err,
    const char *why, const struct timespec *rx);

/* Hands buffered bytes to the kernel. */
int lemf_out_flush(struct lemf_out *o);
/* lemf_out_flush() and fdatasync() of everything written since. */
int lemf_out_sync(struct lemf_out *o);

/*
 * The same in two steps, so that the syncing can run in another thread
 * while this one goes on: lemf_out_sync_begin() flushes and describes in
 * *j what must be synced for everything written so far to be durable
 * (duplicated descriptors, so the files may be closed meanwhile);
 * lemf_sync_run() does it, touches nothing of the lemf_out, and closes
 * the descriptors.  Once lemf_sync_run() returned 0, everything written
 * before the lemf_out_sync_begin() is on disk.  On failure it returns
 * CL_ERR_SYSTEM with j->err the errno.
 */
#define LEMF_SYNC_FDS 10
struct lemf_sync_job {
	bool fs;               /* syncfs(fd[0]) covers it all */
	int fd[LEMF_SYNC_FDS]; /* fdatasync() each */
	size_t nfd;
	int dirfd; /* fsync() of the directory, or -1 */
	int err;
};
int lemf_out_sync_begin(struct lemf_out *o, struct lemf_sync_job *j);
int lemf_sync_run(struct lemf_sync_job *j);

/* Writes summary.json (atomically: temporary file, fsync, rename). */
int lemf_out_summary(struct lemf_out *o, const struct lemf_counts *c);

/* The "summary: pdus=N ..." line (without newline). */
void lemf_summary_line(const struct lemf_counts *c, char *buf, size_t len);

/*
 * Appends p[0..n) to b as the inside of a JSON string: '"', '\' and
 * control characters escaped, valid UTF-8 copied, every byte of invalid
 * UTF-8 written as \u00XX (so \u00XX always stands for the byte XX).
 */
int lemf_json_escape(struct cl_buf *b, const uint8_t *p, size_t n);

/*
 * Appends the JSON line (with '\n') describing a PDU.  res may be NULL
 * (no stream state: "verified" is null), rx may be NULL (no "rx").  With
 * raw, the line also carries the packet ("ip") or AAA data ("aaa") in hex
 * and the header identifiers: the --decode form.
 */
int lemf_json_pdu(struct cl_buf *b, const struct cl_psdu_info *in,
    const uint8_t hash[static 32], const struct lemf_result *res, bool raw,
    const struct timespec *rx);

/*
 * A LIID (untrusted bytes) as safe text for file names and logs: bytes
 * outside [A-Za-z0-9._-] as %XX (cl_esc() with CL_ESC_NAME); buf must
 * hold 3 * len + 1 bytes.
 */
void lemf_liid_text(const uint8_t *liid, size_t len, char *buf, size_t blen);

/* "cc-<lemf_liid_text>.pcap" into buf (at least 3 * 25 + 9 bytes). */
void lemf_pcap_name(const uint8_t *liid, size_t len, char *buf, size_t blen);

#endif /* LEMF_OUT_H */
