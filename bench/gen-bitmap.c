// SPDX-License-Identifier: GPL-2.0-or-later
/* Writes a DMA dirty bitmap of a given size and density to stdout, as long runs of pages or scattered pages, for bench/dirty-decode.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* splitmix64: fast, and the same bitmap on every run. */
static uint64_t rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void set_bit(unsigned char *b, uint64_t i)
{
	b[i / 8] |= (unsigned char)(1u << (i % 8));
}

int main(int argc, char **argv)
{
	/* Runs of 512 pages: 2 MiB at 4 KiB, a huge page's worth. */
	const uint64_t run = 512;
	uint64_t bytes, nbits, want, i, k, slot, start;
	unsigned char *b;
	double pct;

	if (argc != 4 || (strcmp(argv[1], "runs") && strcmp(argv[1], "scattered"))) {
		fprintf(stderr, "usage: gen-bitmap runs|scattered PERCENT BYTES > FILE\n");
		return 2;
	}
	pct = atof(argv[2]);
	bytes = strtoull(argv[3], NULL, 0);
	nbits = bytes * 8;
	want = (uint64_t)(nbits * pct / 100);
	b = calloc(1, bytes);
	if (!b || pct <= 0 || pct > 100)
		return 1;
	if (!strcmp(argv[1], "runs")) {
		/* One run per slot, at a random offset in it: exactly WANT pages, in WANT / RUN runs. */
		k = want / run ? want / run : 1;
		slot = nbits / k;
		for (i = 0; i < k; i++) {
			start = i * slot + (slot > run ? rng() % (slot - run) : 0);
			memset(b + (start + 7) / 8, 0xff, run / 8 - 1);
		}
	} else if (pct == 50) {
		/* Each bit a coin toss: random bytes. */
		for (i = 0; i < bytes; i += 8) {
			uint64_t r = rng();

			memcpy(b + i, &r, bytes - i < 8 ? bytes - i : 8);
		}
	} else {
		for (i = 0; i < want; i++)
			set_bit(b, rng() % nbits);
	}
	return fwrite(b, 1, bytes, stdout) == bytes ? 0 : 1;
}
