/* SPDX-License-Identifier: ISC */
#ifndef CL_CONF_H
#define CL_CONF_H

/*
 * Configuration files: one "key = value" per line, '#' starts a comment
 * line, blank lines are ignored.  Keys are lower-case words with '-';
 * values are the rest of the line with surrounding blanks removed (no
 * quoting, no escapes; a value may not be empty).  Each pair is handed to
 * set(), which validates it; the first error stops the parse and err gets
 * "FILE:LINE: reason".  The same key names are the daemons' long options,
 * so a file and a command line say things the same way.
 */

#include <stddef.h>

#define CL_CONF_MAX (1024u * 1024)

typedef int cl_conf_set_fn(
    void *arg, const char *key, const char *value, char *err, size_t errlen);

int cl_conf_parse(const char *name, const char *text, size_t len,
    cl_conf_set_fn *set, void *arg, char *err, size_t errlen);

/* Reads a file (at most CL_CONF_MAX bytes) and parses it. */
int cl_conf_load(
    const char *path, cl_conf_set_fn *set, void *arg, char *err, size_t errlen);

#endif /* CL_CONF_H */
