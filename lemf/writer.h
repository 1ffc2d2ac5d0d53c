/* SPDX-License-Identifier: ISC */
#ifndef LEMF_WRITER_H
#define LEMF_WRITER_H

/*
 * The writer role of clearli-lemf (link.h): the only process with the
 * output directory.  It runs chrooted in that directory when the LEMF
 * starts as root, opens the output there (lemf/out.c: pdus.jsonl, the
 * pcap files, pdus.ber), sends the front what pdus.jsonl holds, then
 * writes the records the front sends, syncs in its sync worker when
 * asked and answers after the sync; it writes summary.json with the
 * front's counters.  A write or sync that fails ends it (status 1)
 * without an answer: nothing more is acknowledged.
 */

#include <stdbool.h>

#include "filters.h"
#include "privsep.h"

/* Started with the descriptors LEMF_WRITER_LINK (its socket to the
 * front) and LEMF_WRITER_DIR (the output directory, checked with
 * cl_dir_open_private_owner() and owned by the role's user when the LEMF
 * starts as root). */
struct lemf_writer_arg {
	const char *dir; /* the output directory, as named in messages */
	bool raw;        /* also pdus.ber */
};

extern const struct cl_privsep_role lemf_writer_role;

#endif /* LEMF_WRITER_H */
