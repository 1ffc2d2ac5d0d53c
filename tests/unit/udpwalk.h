/* SPDX-License-Identifier: ISC */
#ifndef CL_TEST_UDPWALK_H
#define CL_TEST_UDPWALK_H

#include <stdbool.h>

#include "decode.h"

/*
 * Capture walking for the signalling-parser tests: every UDP datagram of a
 * shared capture (reassembled if it came in fragments) is handed to a
 * visitor with its frame number.  With frags, first fragments are also
 * handed over as they are.  Returns the number of datagrams visited;
 * fails the test if the capture cannot be read to its end.
 */
typedef void (*visit_fn)(unsigned frame, const struct cl_pkt *pkt, void *arg);

unsigned walk(const char *rel, bool frags, visit_fn fn, void *arg);

#endif
