// SPDX-License-Identifier: GPL-2.0-or-later
/* Writes N bytes of a fixed pseudo-random pattern to stdout, the device stream of bench/run.sh's pipe benchmarks; or, as stream-gen -s, reads stdin to its end and prints the byte count and an XXH3-64 of it. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#define BUF (1u << 20)

/* splitmix64: the same stream on every run. */
static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int gen(unsigned long long total)
{
	uint64_t *buf = malloc(BUF), seed = 1;
	size_t i, off, len;
	ssize_t n;

	if (!buf)
		return 1;
	/* One MiB of pattern, written again and again: the writer costs one copy per byte, like cat. */
	for (i = 0; i < BUF / 8; i++)
		buf[i] = next(&seed);
	while (total) {
		len = total < BUF ? total : BUF;
		for (off = 0; off < len; off += (size_t)n) {
			n = write(STDOUT_FILENO, (char *)buf + off, len - off);
			if (n < 0) {
				if (errno == EINTR) {
					n = 0;
					continue;
				}
				perror("stream-gen: write");
				return 1;
			}
		}
		total -= len;
	}
	return 0;
}

static int sink(void)
{
	XXH3_state_t *st = XXH3_createState();
	unsigned long long total = 0;
	char *buf = malloc(BUF);
	ssize_t n;

	if (!st || !buf)
		return 1;
	XXH3_64bits_reset(st);
	while ((n = read(STDIN_FILENO, buf, BUF)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("stream-gen: read");
			return 1;
		}
		XXH3_64bits_update(st, buf, (size_t)n);
		total += (unsigned long long)n;
	}
	printf("%llu %016llx\n", total, (unsigned long long)XXH3_64bits_digest(st));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "-s"))
		return sink();
	if (argc == 2)
		return gen(strtoull(argv[1], NULL, 0));
	fprintf(stderr, "usage: stream-gen BYTES > STREAM | stream-gen -s < STREAM\n");
	return 2;
}
