// SPDX-License-Identifier: GPL-2.0-or-later
/* Writes a valid vfiomig blob with a chosen source identity, so the lab can show that a foreign blob never reaches a device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"

/* Usage: fixture-blob VENDOR DEVICE DRIVER BYTES > file (IDs in hex). */
int main(int argc, char **argv)
{
	uint8_t hdr[BLOB_HEADER_SIZE], chdr[BLOB_CHUNK_HDR_SIZE], trailer[BLOB_TRAILER_SIZE];
	struct blob_header h = { .version = BLOB_VERSION };
	struct blob_writer w;
	static uint8_t buf[65536];
	unsigned long long left;
	size_t i, n;

	if (argc != 5) {
		fprintf(stderr, "usage: fixture-blob VENDOR DEVICE DRIVER BYTES\n");
		return 2;
	}
	h.vendor = strtoul(argv[1], NULL, 16);
	h.device = strtoul(argv[2], NULL, 16);
	snprintf(h.driver, sizeof(h.driver), "%s", argv[3]);
	snprintf(h.dev_name, sizeof(h.dev_name), "0000:3b:00.2");
	snprintf(h.kernel, sizeof(h.kernel), "fixture");
	snprintf(h.tool, sizeof(h.tool), "fixture-blob");
	h.mig_flags = 3;
	left = strtoull(argv[4], NULL, 0);
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	if (blob_writer_init(&w))
		return 1;
	blob_header_encode(&h, hdr);
	fwrite(hdr, 1, sizeof(hdr), stdout);
	while (left) {
		n = left < sizeof(buf) ? left : sizeof(buf);
		blob_writer_chunk(&w, buf, n, chdr);
		fwrite(chdr, 1, sizeof(chdr), stdout);
		fwrite(buf, 1, n, stdout);
		left -= n;
	}
	blob_writer_trailer(&w, trailer);
	fwrite(trailer, 1, sizeof(trailer), stdout);
	blob_writer_free(&w);
	return fflush(stdout) ? 1 : 0;
}
