/* SPDX-License-Identifier: ISC */
/*
 * Fuzz target for the spool's segment reader and recovery.  The input is
 * one segment image.
 *
 *  1. In memory: cl_spool_scan_segment() must either reject the header or
 *     describe a good prefix; that prefix must scan again as all good with
 *     the same records, and no byte past it may have been trusted.
 *  2. On disk: the image is written as the only segment of a spool in a
 *     scratch directory (named after the header's segment number when
 *     the header parses) and the spool is opened.  If open succeeds,
 *     a cursor must read exactly the records recovery counted, an append
 *     must get the next number, and a reopen must find a clean spool with
 *     one more record and no tear.
 *
 * A failed check aborts, which libFuzzer (or the replay driver) reports.
 * The scratch directory is on /dev/shm when there is one, so that the
 * fsyncs cost little.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "err.h"
#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[256];
static char dir[300];

static void
clean(void)
{
	char path[600];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		(void)unlink(path);
	}
	closedir(d);
}

static void
cleanup(void)
{
	clean();
	(void)rmdir(dir);
	(void)rmdir(root);
}

static void
setup(void)
{
	const char *base = getenv("TMPDIR");
	struct stat st;

	if (root[0] != '\0')
		return;
	if (base == NULL || base[0] == '\0')
		base = stat("/dev/shm", &st) == 0 ? "/dev/shm" : "/tmp";
	snprintf(root, sizeof(root), "%s/fuzz-spool-XXXXXX", base);
	if (mkdtemp(root) == NULL)
		abort();
	snprintf(dir, sizeof(dir), "%s/sp", root);
	atexit(cleanup);
}

static void
check_memory(const uint8_t *data, size_t size)
{
	struct cl_spool_seginfo info, again;

	if (cl_spool_scan_segment(data, size, true, &info) != 0) {
		if (info.nrecs != 0 || info.good_len != 0)
			abort();
		return;
	}
	if (info.good_len < CL_SPOOL_SEG_HDR_LEN || info.good_len > size ||
	    (info.fault == 0) != (info.good_len == size) ||
	    (info.fault == 0 && info.intact_after != 0) ||
	    (info.good_len > CL_SPOOL_SEG_HDR_LEN && info.nrecs == 0))
		abort();
	/* The good prefix alone is all good, with the same records. */
	if (cl_spool_scan_segment(data, info.good_len, false, &again) != 0 ||
	    again.fault != 0 || again.nrecs != info.nrecs ||
	    again.good_len != info.good_len)
		abort();
}

static void
check_disk(const uint8_t *data, size_t size)
{
	struct cl_spool_opts o;
	struct cl_spool_report rep, rep2;
	struct cl_spool_cursor *cur;
	struct cl_spool_rec rec;
	struct cl_spool *sp = NULL;
	uint64_t segno, first, n, seq, last;
	char path[600];
	int fd, r;

	clean();
	if (mkdir(dir, 0700) != 0 && access(dir, F_OK) != 0)
		abort();
	if (cl_spool_parse_seg_header(data, size, &segno, &first) != 0)
		segno = 1;
	snprintf(path, sizeof(path), "%s/seg-%016llx.spool", dir,
	    (unsigned long long)segno);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);

	memset(&o, 0, sizeof(o));
	o.fsync = CL_SPOOL_FSYNC_NEVER;
	o.rec_max = 4096;
	o.seg_max = 1024 * 1024;
	r = cl_spool_open(dir, &o, &sp, &rep);
	if (r != 0) {
		if (sp != NULL || r != CL_ERR_FORMAT || rep.why[0] == '\0')
			abort();
		if (rep.valid_after == 0)
			return;
		/* Corrupt, not torn: the operator's recovery must work and
		 * keep only CRC-valid records. */
		o.recover = true;
		if (cl_spool_open(dir, &o, &sp, &rep) != 0 ||
		    rep.lost_nranges == 0)
			abort();
		o.recover = false;
	}
	if (rep.next_seq < rep.first_seq || rep.nsegs != 1 ||
	    rep.tail_truncated != (rep.tail_dropped_bytes != 0))
		abort();
	if (cl_spool_cursor_open(sp, "f", &cur) != 0)
		abort();
	/* Records come in increasing order; only LOST records (not
	 * returned) leave holes. */
	last = rep.first_seq - 1;
	for (n = 0; (r = cl_spool_cursor_next(cur, &rec)) == 0; n++) {
		if (rec.seq <= last || rec.seq >= rep.next_seq ||
		    (rep.nlost_held == 0 && rec.seq != last + 1))
			abort();
		last = rec.seq;
	}
	if (r != CL_ERR_AGAIN ||
	    (rep.nlost_held == 0 && n != rep.next_seq - rep.first_seq))
		abort();
	/* Appending after recovery continues the sequence. */
	r = cl_spool_append(sp, 7, data, size > 64 ? 64 : size, &seq);
	if (rep.next_seq > CL_SPOOL_SEQ_MAX) {
		/* The end of the number space: refused, spool unchanged. */
		if (r != CL_ERR_RANGE || cl_spool_close(sp) != 0)
			abort();
		return;
	}
	if (r != 0 || seq != rep.next_seq)
		abort();
	if (cl_spool_close(sp) != 0)
		abort();
	sp = NULL;
	if (cl_spool_open(dir, &o, &sp, &rep2) != 0 || rep2.tail_truncated ||
	    rep2.next_seq != rep.next_seq + 1 ||
	    rep2.first_seq != rep.first_seq || rep2.lost_nranges != 0 ||
	    rep2.nlost_held != rep.nlost_held)
		abort();
	cl_spool_close(sp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	check_memory(data, size);
	check_disk(data, size);
	return 0;
}
