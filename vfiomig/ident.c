// SPDX-License-Identifier: GPL-2.0-or-later
/* Parses the identity options of `blob pack` (IDs, class, migration flags, names) into a blob header; pure. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "ident.h"
#include "mig.h"

/* Fills WHY and returns -EINVAL, so that callers can return it. */
static int __attribute__((format(printf, 3, 4))) invalid(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* One to MAXDIGITS hex digits at *P, up to a ':' or the end; *P moves past them. */
static int hex_field(const char **p, int maxdigits, uint32_t *val)
{
	uint32_t v = 0;
	int n = 0, d;

	while ((d = hexval(**p)) >= 0) {
		if (++n > maxdigits)
			return -ERANGE;
		v = v << 4 | (uint32_t)d;
		(*p)++;
	}
	if (n == 0)
		return -EINVAL;
	*val = v;
	return 0;
}

int ident_parse_ids(const char *s, struct blob_header *h, char *why, size_t whylen)
{
	static const char *const names[] = { "vendor", "device", "subsystem vendor", "subsystem device" };
	uint32_t v[4];
	const char *p = s;
	int i, ret;

	for (i = 0; i < 4; i++) {
		ret = hex_field(&p, 4, &v[i]);
		if (ret == -ERANGE)
			return invalid(why, whylen, "the %s ID has more than 4 hex digits", names[i]);
		if (ret)
			return invalid(why, whylen, "the %s ID is not a hex number", names[i]);
		if (*p == '\0')
			break;
		if (*p != ':' || i == 3)
			return invalid(why, whylen, "unexpected '%s' after the %s ID", p, names[i]);
		p++;
	}
	if (i != 1 && i != 3)
		return invalid(why, whylen, "give VENDOR:DEVICE or VENDOR:DEVICE:SUBVENDOR:SUBDEVICE in hex (e.g. 15b3:101e)");
	h->vendor = (uint16_t)v[0];
	h->device = (uint16_t)v[1];
	if (i == 3) {
		h->subsys_vendor = (uint16_t)v[2];
		h->subsys_device = (uint16_t)v[3];
	}
	return 0;
}

int ident_parse_class(const char *s, uint32_t *class_code, char *why, size_t whylen)
{
	const char *p = s;
	uint32_t v;
	int ret;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	ret = hex_field(&p, 6, &v);
	if (ret == -ERANGE)
		return invalid(why, whylen, "a PCI class has at most 6 hex digits (e.g. 020000)");
	if (ret || *p)
		return invalid(why, whylen, "give the 24-bit PCI class in hex (e.g. 020000)");
	*class_code = v;
	return 0;
}

int ident_parse_mig_flags(const char *s, uint64_t *flags, char *why, size_t whylen)
{
	static const struct { const char *name; uint64_t bit; } known[] = {
		{ "stop-copy", MIG_FLAG_STOP_COPY },
		{ "p2p", MIG_FLAG_P2P },
		{ "pre-copy", MIG_FLAG_PRE_COPY },
	};
	uint64_t v = 0;
	const char *p = s, *end;
	size_t len, i;
	char *num_end;

	if (!strcmp(s, "none")) {
		*flags = 0;
		return 0;
	}
	if (*s >= '0' && *s <= '9') {
		errno = 0;
		v = strtoull(s, &num_end, 0);
		if (errno || *num_end)
			return invalid(why, whylen, "not a number: give names (stop-copy,p2p,pre-copy), none, or a number");
		*flags = v;
		return 0;
	}
	for (;;) {
		end = strchr(p, ',');
		len = end ? (size_t)(end - p) : strlen(p);
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strlen(known[i].name) == len && !strncmp(known[i].name, p, len))
				break;
		if (i == sizeof(known) / sizeof(known[0]))
			return invalid(why, whylen, "unknown flag '%.*s': use stop-copy, p2p and pre-copy, comma-separated, none, or a number",
				       (int)len, p);
		if (v & known[i].bit)
			return invalid(why, whylen, "'%s' is given twice", known[i].name);
		v |= known[i].bit;
		if (!end)
			break;
		p = end + 1;
	}
	if (!(v & MIG_FLAG_STOP_COPY))
		return invalid(why, whylen, "every migratable device has stop-copy: add it (or give a number)");
	*flags = v;
	return 0;
}

int ident_parse_str(const char *s, char *field, size_t size, char *why, size_t whylen)
{
	size_t len = strlen(s), i;

	if (len >= size)
		return invalid(why, whylen, "%zu bytes; the blob header holds at most %zu", len, size - 1);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return invalid(why, whylen, "control character 0x%02x at position %zu",
				       (unsigned char)s[i], i);
	memcpy(field, s, len + 1);
	return 0;
}
