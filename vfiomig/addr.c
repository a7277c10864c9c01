/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Strict parsing of the device addresses and sizes users type, with a precise reason for every reject. */
#include "addr.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define FORMS "expected [DOMAIN:]BUS:DEV.FN, an mdev UUID, a path below /sys/ " \
	      "or /dev/vfio/devices/vfioN"
#define CDEV_PREFIX "/dev/vfio/devices/vfio"
#define SYSFS_PREFIX "/sys/"

/* Longest field text quoted back in a reason; the rest is elided. */
#define QUOTE_MAX 16

static int reject(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int reject(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why && whylen) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* A printable rendering of C for reasons, so that control bytes do not reach the terminal. */
static const char *show_char(char c, char buf[8])
{
	if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "0x%02x", (unsigned char)c);
	return buf;
}

/* The BDF fields in the order they are typed, with their limits. */
struct field {
	const char *name;
	unsigned int max;      /* largest value */
	int digits;            /* most hex digits */
	const char *range;     /* the range as we print it */
	char sep;              /* what follows the field; '\0' for the last */
	const char *next;      /* the field after SEP, for "missing ..." */
};

static const struct field f_domain = { "domain", 0xffff, 4, "0000-ffff", ':', "bus" };
static const struct field f_bus = { "bus", 0xff, 2, "00-ff", ':', "device" };
static const struct field f_dev = { "device", 0x1f, 2, "00-1f", '.', "function" };
static const struct field f_fn = { "function", 7, 1, "0-7", '\0', NULL };

#define BDF_FORM "expected [DOMAIN:]BUS:DEV.FN"

/* Reads the hex field F at *P and the separator after it; advances *P past both. */
static int parse_field(const char **p, const struct field *f, unsigned int *val,
		       char *why, size_t whylen)
{
	const char *s = *p, *end = s;
	unsigned long long v = 0;
	char cb[8];
	int n, d;

	while ((d = hexval(*end)) >= 0) {
		if (v <= 0xffffffffULL)
			v = v * 16 + (unsigned int)d; /* saturates far above every limit */
		end++;
	}
	n = (int)(end - s);

	if (n == 0) {
		if (*s == '\0' || *s == ':' || *s == '.')
			return reject(why, whylen, "missing %s: " BDF_FORM, f->name);
		if (*s == '+' || *s == '-')
			return reject(why, whylen, "sign %s before the %s: fields are bare hex",
				      show_char(*s, cb), f->name);
		return reject(why, whylen, "%s is not a hex digit (in the %s)",
			      show_char(*s, cb), f->name);
	}
	if (n == 1 && *s == '0' && (*end == 'x' || *end == 'X'))
		return reject(why, whylen, "'0x' prefix on the %s: fields are hex already",
			      f->name);
	if (v > f->max)
		return reject(why, whylen, "%s %.*s%s is out of range %s", f->name,
			      n > QUOTE_MAX ? QUOTE_MAX : n, s, n > QUOTE_MAX ? "..." : "",
			      f->range);
	if (n > f->digits)
		return reject(why, whylen, "%s '%.*s%s' has too many digits (at most %d)",
			      f->name, n > QUOTE_MAX ? QUOTE_MAX : n, s,
			      n > QUOTE_MAX ? "..." : "", f->digits);
	if (*end != f->sep) {
		if (f->sep == '\0')
			return reject(why, whylen, "trailing characters '%.*s%s' after the %s",
				      QUOTE_MAX, end, strlen(end) > QUOTE_MAX ? "..." : "",
				      f->name);
		if (*end == '\0')
			return reject(why, whylen, "missing %s: " BDF_FORM, f->next);
		if ((*end >= 'g' && *end <= 'z') || (*end >= 'G' && *end <= 'Z'))
			return reject(why, whylen, "%s is not a hex digit (in the %s)",
				      show_char(*end, cb), f->name);
		return reject(why, whylen, "%s after the %s where '%c' belongs",
			      show_char(*end, cb), f->name, f->sep);
	}
	*val = (unsigned int)v;
	*p = f->sep ? end + 1 : end;
	return 0;
}

static int parse_pci(const char *s, struct vm_addr *a, char *why, size_t whylen)
{
	const char *p = s, *c;
	int colons = 0, ret;

	for (c = s; *c; c++)
		colons += *c == ':';
	if (colons > 2)
		return reject(why, whylen, "%d ':' separators: " BDF_FORM, colons);

	a->kind = ADDR_PCI;
	a->domain = 0;
	if (colons == 2) {
		ret = parse_field(&p, &f_domain, &a->domain, why, whylen);
		if (ret)
			return ret;
	}
	ret = parse_field(&p, &f_bus, &a->bus, why, whylen);
	if (!ret)
		ret = parse_field(&p, &f_dev, &a->dev, why, whylen);
	if (!ret)
		ret = parse_field(&p, &f_fn, &a->fn, why, whylen);
	return ret;
}

/* Close enough to a UUID that a reason about its groups helps more than the list of forms. */
static bool looks_like_uuid(const char *s)
{
	const char *p;

	if (strlen(s) == 36)
		return true;
	for (p = s; *p; p++)
		if (*p != '-' && hexval(*p) < 0)
			return false;
	return true;
}

static int parse_uuid(const char *s, struct vm_addr *a, char *why, size_t whylen)
{
	static const int group_len[] = { 8, 4, 4, 4, 12 };
	const int ngroups = (int)(sizeof(group_len) / sizeof(group_len[0]));
	int group = 0, len = 0, i = 0;
	const char *p;
	char cb[8];

	for (p = s;; p++) {
		if (*p == '-' || *p == '\0') {
			if (group < ngroups && len != group_len[group])
				return reject(why, whylen,
					      "UUID group %d has %d hex digits, expected %d "
					      "(8-4-4-4-12)", group + 1, len, group_len[group]);
			group++;
			len = 0;
			if (*p == '\0')
				break;
			if (group >= ngroups)
				return reject(why, whylen,
					      "UUID has more than %d groups (8-4-4-4-12)", ngroups);
			continue;
		}
		if (hexval(*p) < 0)
			return reject(why, whylen, "%s is not a hex digit (in the UUID)",
				      show_char(*p, cb));
		len++;
	}
	if (group != ngroups)
		return reject(why, whylen, "UUID has %d groups, expected %d (8-4-4-4-12)",
			      group, ngroups);

	a->kind = ADDR_MDEV;
	/* Lower case because sysfs names mdevs that way, and so that one device has one name. */
	for (p = s; *p; p++, i++)
		a->uuid[i] = (*p >= 'A' && *p <= 'F') ? (char)(*p - 'A' + 'a') : *p;
	a->uuid[i] = '\0';
	return 0;
}

static int parse_cdev(const char *s, struct vm_addr *a, char *why, size_t whylen)
{
	const char *p = s + strlen(CDEV_PREFIX);
	unsigned long long n = 0;
	char cb[8];

	if (!is_digit(*p))
		return *p == '\0'
			? reject(why, whylen, "missing number after 'vfio' in %s", CDEV_PREFIX "N")
			: reject(why, whylen, "%s after 'vfio': expected a decimal number",
				 show_char(*p, cb));
	/* The kernel names them vfio0, vfio1...: vfio03 would name no device. */
	if (*p == '0' && is_digit(p[1]))
		return reject(why, whylen, "leading zero in the number after 'vfio'");
	for (; is_digit(*p); p++) {
		n = n * 10 + (unsigned int)(*p - '0');
		if (n > INT_MAX)
			return reject(why, whylen, "the number after 'vfio' is out of range 0-%d",
				      INT_MAX);
	}
	if (*p)
		return reject(why, whylen, "trailing characters '%.*s%s' after the number",
			      QUOTE_MAX, p, strlen(p) > QUOTE_MAX ? "..." : "");
	a->kind = ADDR_CDEV;
	a->cdev = (unsigned int)n;
	memcpy(a->path, s, strlen(s) + 1); /* fits: checked by the caller */
	return 0;
}

/* /dev/vfio/N and /dev/vfio/noiommu-N: groups, which may hold several devices. */
static bool is_group(const char *s)
{
	const char *p = s + strlen("/dev/vfio/");

	if (strncmp(s, "/dev/vfio/", strlen("/dev/vfio/")) != 0)
		return false;
	if (strncmp(p, "noiommu-", strlen("noiommu-")) == 0)
		p += strlen("noiommu-");
	if (!is_digit(*p))
		return false;
	while (is_digit(*p))
		p++;
	return *p == '\0';
}

static int parse_path(const char *s, struct vm_addr *a, char *why, size_t whylen)
{
	size_t len = strlen(s);

	if (len >= sizeof(a->path))
		return reject(why, whylen, "path is %zu bytes long, more than the %zu allowed",
			      len, sizeof(a->path) - 1);
	if (strncmp(s, CDEV_PREFIX, strlen(CDEV_PREFIX)) == 0)
		return parse_cdev(s, a, why, whylen);
	if (strncmp(s, SYSFS_PREFIX, strlen(SYSFS_PREFIX)) == 0) {
		if (s[strlen(SYSFS_PREFIX)] == '\0')
			return reject(why, whylen, "'/sys/' alone names no device");
		a->kind = ADDR_SYSFS;
		memcpy(a->path, s, len + 1);
		return 0;
	}
	if (is_group(s))
		return reject(why, whylen, "a VFIO group is not a device address: %s", FORMS);
	return reject(why, whylen, "unknown path: expected a path below /sys/ "
		      "or /dev/vfio/devices/vfioN");
}

int addr_parse(const char *s, struct vm_addr *a, char *why, size_t whylen)
{
	const char *p;
	size_t len;

	if (why && whylen)
		why[0] = '\0';
	memset(a, 0, sizeof(*a));

	if (!s || !*s)
		return reject(why, whylen, "empty address: %s", FORMS);
	len = strlen(s);
	/* Named before anything else: pasted text often carries a newline or a space. */
	for (p = s; *p; p++) {
		if (!is_space(*p))
			continue;
		if (p == s)
			return reject(why, whylen, "leading whitespace");
		if ((size_t)(p - s) == len - 1)
			return reject(why, whylen, "trailing whitespace");
		return reject(why, whylen, "whitespace at offset %zu", (size_t)(p - s));
	}
	/* lspci -s takes "3b:*.2" and the like; a migration names exactly one device. */
	if (strchr(s, '*'))
		return reject(why, whylen, "wildcards are not accepted: name exactly one device");
	if (s[0] == '+' || s[0] == '-')
		return reject(why, whylen, "sign '%c' at the start: %s", s[0], FORMS);

	if (s[0] == '/')
		return parse_path(s, a, why, whylen);
	/* Only absolute paths: a relative one would depend on the working directory. */
	if (strncmp(s, "sys/", 4) == 0 || strncmp(s, "dev/", 4) == 0)
		return reject(why, whylen, "relative path: give the absolute path, starting with '/'");
	if (strchr(s, ':'))
		return parse_pci(s, a, why, whylen);
	if (strchr(s, '-') && looks_like_uuid(s))
		return parse_uuid(s, a, why, whylen);
	if (strchr(s, '.'))
		return reject(why, whylen, "missing bus: " BDF_FORM);
	return reject(why, whylen, "unknown address form: %s", FORMS);
}

const char *addr_name(const struct vm_addr *a, char *buf, size_t len)
{
	if (!buf || len == 0)
		return buf;
	switch (a->kind) {
	case ADDR_PCI:
		snprintf(buf, len, "%04x:%02x:%02x.%x", a->domain, a->bus, a->dev, a->fn);
		break;
	case ADDR_MDEV:
		snprintf(buf, len, "%s", a->uuid);
		break;
	case ADDR_SYSFS:
	case ADDR_CDEV:
		snprintf(buf, len, "%s", a->path);
		break;
	default:
		snprintf(buf, len, "?");
		break;
	}
	return buf;
}

int parse_size(const char *s, unsigned long long *val)
{
	unsigned long long v = 0;
	bool overflow = false, hex = false;
	unsigned int shift = 0, base = 10;
	const char *p = s;
	int d, n = 0;

	if (!s)
		return -EINVAL;
	/* strtoull would take leading space, signs and wrap "-1"; sizes get none of that. */
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		hex = true;
		base = 16;
		p += 2;
	}
	for (;; p++, n++) {
		d = hex ? hexval(*p) : (is_digit(*p) ? *p - '0' : -1);
		if (d < 0)
			break;
		if (v > (ULLONG_MAX - (unsigned int)d) / base)
			overflow = true;
		else
			v = v * base + (unsigned int)d;
	}
	if (n == 0)
		return -EINVAL;
	switch (*p) {
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	case 't': case 'T': shift = 40; p++; break;
	default: break;
	}
	/* Garbage outranks overflow: "99999999999999999999x" is a typo, not a big number. */
	if (*p != '\0')
		return -EINVAL;
	if (overflow || v > (ULLONG_MAX >> shift))
		return -ERANGE;
	*val = v << shift;
	return 0;
}
