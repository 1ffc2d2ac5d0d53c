/* SPDX-License-Identifier: ISC */
/*
 * Replays a libFuzzer corpus through a fuzz target without libFuzzer, so
 * that every build (gcc, ASan, valgrind) runs each corpus as a regression
 * test.  Arguments are files or directories; directories are read one
 * level deep.  Prints "N passed, N failed" where each input is one test:
 * an input "fails" only by crashing, which ends the program.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int nrun;

static int
run_file(const char *path)
{
	FILE *f;
	uint8_t *p;
	long n;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return -1;
	}
	/* Exact-size heap copy, so ASan sees reads past the end. */
	if ((p = malloc(n > 0 ? (size_t)n : 1)) == NULL) {
		fclose(f);
		return -1;
	}
	if (n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(p, (size_t)n);
	free(p);
	nrun++;
	return 0;
}

int
main(int argc, char **argv)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	int i, bad = 0;
	DIR *d;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "replay: %s: not found\n", argv[i]);
			bad++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad += run_file(argv[i]) != 0;
			continue;
		}
		if ((d = opendir(argv[i])) == NULL) {
			bad++;
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(
			    path, sizeof(path), "%s/%s", argv[i], de->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				bad += run_file(path) != 0;
		}
		closedir(d);
	}
	if (nrun == 0) {
		fprintf(stderr, "replay: empty corpus\n");
		bad++;
	}
	printf("%d passed, %d failed\n", nrun, bad);
	return bad == 0 ? 0 : 1;
}
