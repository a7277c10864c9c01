// SPDX-License-Identifier: GPL-2.0-or-later
/* Times vfiomig's bitmap decoder in process on one bitmap file: the totals (bitmap_stats) and walking every run (bitmap_next_run), without start-up or file reading. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bitmap.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double t, best_stats = 1e9, best_runs = 1e9;
	uint64_t first, count, runs = 0, sink = 0;
	struct bitmap_stats st;
	struct bitmap_iter it;
	unsigned char *buf;
	size_t len;
	FILE *f;
	int i;

	if (argc != 2 || !(f = fopen(argv[1], "rb")))
		return 2;
	fseek(f, 0, SEEK_END);
	len = (size_t)ftell(f);
	rewind(f);
	buf = malloc(len);
	if (!buf || fread(buf, 1, len, f) != len)
		return 1;
	for (i = 0; i < 5; i++) {
		t = now();
		bitmap_stats(buf, len, (uint64_t)len * 8, &st);
		t = now() - t;
		best_stats = t < best_stats ? t : best_stats;
		t = now();
		runs = 0;
		bitmap_iter_init(&it, buf, len, (uint64_t)len * 8);
		while (bitmap_next_run(&it, &first, &count)) {
			runs++;
			sink += first ^ count;
		}
		t = now() - t;
		best_runs = t < best_runs ? t : best_runs;
	}
	/* bytes/ns = GB/s */
	printf("%.3f %.2f %.3f %.2f %llu %llu %llu\n", best_stats * 1e3, len / best_stats / 1e9,
	       best_runs * 1e3, len / best_runs / 1e9, (unsigned long long)st.dirty,
	       (unsigned long long)st.runs, (unsigned long long)(runs + (sink & 0)));
	return runs == st.runs ? 0 : 1;
}
