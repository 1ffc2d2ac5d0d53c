/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "err.h"

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int
cl_conf_parse(const char *name, const char *text, size_t len,
    cl_conf_set_fn *set, void *arg, char *err, size_t errlen)
{
	char line[4096], why[256];
	size_t i = 0, n, lineno = 0;
	char *k, *v, *e, *eq;
	int r;

	if (errlen > 0)
		err[0] = '\0';
	if (len > CL_CONF_MAX) {
		snprintf(
		    err, errlen, "%s: larger than %u bytes", name, CL_CONF_MAX);
		return CL_ERR_TOOBIG;
	}
	while (i < len) {
		lineno++;
		for (n = 0; i + n < len && text[i + n] != '\n'; n++)
			;
		if (n >= sizeof(line)) {
			snprintf(
			    err, errlen, "%s:%zu: line too long", name, lineno);
			return CL_ERR_TOOBIG;
		}
		memcpy(line, text + i, n);
		line[n] = '\0';
		i += n + 1;
		for (k = line; *k != '\0'; k++) {
			if (((unsigned char)*k < 0x20 && *k != '\t') ||
			    *k == 0x7f) {
				snprintf(err, errlen,
				    "%s:%zu: control character", name, lineno);
				return CL_ERR_FORMAT;
			}
		}
		if (strlen(line) != n) {
			snprintf(err, errlen, "%s:%zu: NUL byte", name, lineno);
			return CL_ERR_FORMAT;
		}
		for (k = line; is_blank(*k); k++)
			;
		if (*k == '\0' || *k == '#')
			continue;
		if ((eq = strchr(k, '=')) == NULL) {
			snprintf(err, errlen, "%s:%zu: expected key = value",
			    name, lineno);
			return CL_ERR_FORMAT;
		}
		for (e = eq; e > k && is_blank(e[-1]); e--)
			;
		*e = '\0';
		for (e = k; *e != '\0'; e++) {
			if (!((*e >= 'a' && *e <= 'z') ||
				(*e >= '0' && *e <= '9') || *e == '-')) {
				snprintf(err, errlen, "%s:%zu: bad key '%s'",
				    name, lineno, k);
				return CL_ERR_FORMAT;
			}
		}
		for (v = eq + 1; is_blank(*v); v++)
			;
		for (e = v + strlen(v); e > v && is_blank(e[-1]); e--)
			;
		*e = '\0';
		if (*k == '\0' || *v == '\0') {
			snprintf(err, errlen, "%s:%zu: empty key or value",
			    name, lineno);
			return CL_ERR_FORMAT;
		}
		why[0] = '\0';
		if ((r = set(arg, k, v, why, sizeof(why))) != 0) {
			snprintf(err, errlen, "%s:%zu: %s: %s", name, lineno, k,
			    why[0] != '\0' ? why : cl_err_str(r));
			return r;
		}
	}
	return 0;
}

int
cl_conf_load(
    const char *path, cl_conf_set_fn *set, void *arg, char *err, size_t errlen)
{
	FILE *f;
	char *buf = NULL;
	size_t n;
	int r;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return CL_ERR_SYSTEM;
	}
	if ((buf = malloc(CL_CONF_MAX + 1)) == NULL) {
		fclose(f);
		return CL_ERR_NOMEM;
	}
	n = fread(buf, 1, CL_CONF_MAX + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		r = CL_ERR_SYSTEM;
	} else
		r = cl_conf_parse(path, buf, n, set, arg, err, errlen);
	fclose(f);
	free(buf);
	return r;
}
