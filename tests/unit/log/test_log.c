/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "log.h"

CL_TEST(esc_plain_and_controls)
{
	char b[128];
	const char forged[] = "poi\n2026-01-01T00:00:00.000Z clearli-mdf: "
			      "info: forged\x1b[31m";

	CHECK_STR_EQ(
	    cl_esc("poi-1 (site A)", 14, b, sizeof(b), 0), "poi-1 (site A)");
	CHECK_STR_EQ(cl_esc_str("100%", b, sizeof(b)), "100%25");
	CHECK_STR_EQ(cl_esc("a\0b", 3, b, sizeof(b), 0), "a%00b");
	cl_esc_str(forged, b, sizeof(b));
	CHECK(strchr(b, '\n') == NULL);
	CHECK(strchr(b, '\x1b') == NULL);
	CHECK(strncmp(b, "poi%0A2026", 10) == 0);
	CHECK(strstr(b, "%1B[31m") != NULL);
	/* DEL, C1 controls and UTF-8: escaped, byte by byte. */
	CHECK_STR_EQ(
	    cl_esc("\x7f\x9b\xc3\xa9", 4, b, sizeof(b), 0), "%7F%9B%C3%A9");
	/* The LIID / file-name set. */
	CHECK_STR_EQ(cl_esc("LI-1.a_b c/", 11, b, sizeof(b), CL_ESC_NAME),
	    "LI-1.a_b%20c%2F");
}

CL_TEST(esc_truncates_whole_units)
{
	char b[8];

	/* 3 * n + 1 fits; less is cut before a whole escape, with "...". */
	CHECK_STR_EQ(cl_esc("\n\n", 2, b, 7, 0), "%0A%0A");
	CHECK_STR_EQ(cl_esc("abcdefghij", 10, b, sizeof(b), 0), "abcd...");
	CHECK_STR_EQ(cl_esc("a\n\n\n", 4, b, sizeof(b), 0), "a%0A...");
	CHECK_STR_EQ(cl_esc("\n\n\n", 3, b, sizeof(b), 0), "%0A...");
	CHECK_STR_EQ(cl_esc("\n\n\n", 3, b, 4, 0), "...");
	CHECK_STR_EQ(cl_esc("\n\n\n", 3, b, 3, 0), "");
	CHECK_STR_EQ(cl_esc("ab", 2, b, 1, 0), "");
}

/* Every byte value, every buffer size: terminated, safe, in bounds. */
CL_TEST(esc_all_bytes_all_sizes)
{
	uint8_t in[256];
	char b[800];
	size_t i, bl, k;

	for (i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	for (bl = 1; bl < sizeof(b); bl += 7) {
		memset(b, 'Z', sizeof(b));
		cl_esc(in, sizeof(in), b, bl, 0);
		CHECK(strlen(b) < bl);
		for (k = 0; b[k] != '\0'; k++)
			CHECK((unsigned char)b[k] >= 0x20 &&
			    (unsigned char)b[k] < 0x7f);
		CHECK(b[bl] == 'Z' || bl == sizeof(b) - 1);
	}
	cl_esc(in, sizeof(in), b, sizeof(b), 0);
	CHECK(strlen(b) == 95 - 1 + 3 * (256 - 95 + 1));
}

CL_TEST(rate_limit)
{
	struct cl_log_rl rl = CL_LOG_RL_INIT(1000, 2);
	int fds[2], saved;
	char out[4096];
	ssize_t n;

	/* Capture stderr. */
	CHECK(pipe(fds) == 0);
	saved = dup(2);
	CHECK(dup2(fds[1], 2) == 2);
	cl_log_init("test", CL_LOG_INFO, false);
	CHECK(cl_log_rl(&rl, 5000, CL_LOG_WARN, "one %d", 1));
	CHECK(cl_log_rl(&rl, 5001, CL_LOG_WARN, "two"));
	CHECK(!cl_log_rl(&rl, 5002, CL_LOG_WARN, "three"));
	CHECK(!cl_log_rl(&rl, 5999, CL_LOG_WARN, "four"));
	cl_log_rl_flush(&rl, 5999); /* interval not over: nothing */
	CHECK(!cl_log_rl(&rl, 5100, CL_LOG_DEBUG, "below the level"));
	CHECK(cl_log_rl(&rl, 6000, CL_LOG_WARN, "five"));
	CHECK(cl_log_rl(&rl, 6001, CL_LOG_WARN, "six"));
	CHECK(!cl_log_rl(&rl, 6002, CL_LOG_WARN, "seven"));
	cl_log_rl_flush(&rl, 7500);
	cl_log_rl_flush(&rl, 9000); /* nothing left out since */
	fflush(stderr);
	CHECK(dup2(saved, 2) == 2);
	close(saved);
	close(fds[1]);
	n = read(fds[0], out, sizeof(out) - 1);
	close(fds[0]);
	CHECK(n > 0);
	out[n] = '\0';
	CHECK(strstr(out, "one 1") != NULL);
	CHECK(strstr(out, "two") != NULL);
	CHECK(strstr(out, "three") == NULL);
	CHECK(strstr(out, "four") == NULL);
	CHECK(strstr(out, "2 similar lines left out in the last 1 s") != NULL);
	CHECK(strstr(out, "five") != NULL);
	CHECK(strstr(out, "six") != NULL);
	CHECK(strstr(out, "seven") == NULL);
	CHECK(strstr(out, "1 similar lines left out in the last 2 s") != NULL);
	CHECK(strstr(out, "below the level") == NULL);
	/* one, two, summary, five, six, summary: six lines. */
	{
		int lines = 0;

		for (char *p = out; *p; p++)
			lines += *p == '\n';
		CHECK_INT_EQ(lines, 6);
	}
}

int
main(void)
{
	CL_RUN(esc_plain_and_controls);
	CL_RUN(esc_truncates_whole_units);
	CL_RUN(esc_all_bytes_all_sizes);
	CL_RUN(rate_limit);
	return cl_test_done();
}
