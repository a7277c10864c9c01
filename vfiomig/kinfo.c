// SPDX-License-Identifier: GPL-2.0-or-later
/* The running kernel's identity and config, and VFIO's read-only debugfs view of devices. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "kinfo.h"
#include "sysfs.h"

#define VFIO_DEBUGFS "/sys/kernel/debug/vfio"

static struct utsname uts;
static char *config;            /* the whole config text, read once */
static const char *config_from;
static bool config_tried;

const char *kinfo_release(void)
{
	if (!uts.release[0] && uname(&uts))
		return "unknown";
	return uts.release;
}

bool kinfo_at_least(int major, int minor)
{
	int ma = 0, mi = 0;

	if (sscanf(kinfo_release(), "%d.%d", &ma, &mi) != 2)
		return false;
	return ma > major || (ma == major && mi >= minor);
}

/* Reads all of STREAM into a string; NULL on failure. */
static char *slurp(FILE *f)
{
	size_t len = 0, cap = 0, n;
	char *buf = NULL, *more;

	do {
		if (len + 65536 + 1 > cap) {
			cap = (len + 65536 + 1) * 2;
			more = realloc(buf, cap);
			if (!more) {
				free(buf);
				return NULL;
			}
			buf = more;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	buf[len] = '\0';
	return buf;
}

static void load_config(void)
{
	static char path[300];
	FILE *f;

	config_tried = true;
	snprintf(path, sizeof(path), "/boot/config-%s", kinfo_release());
	f = fopen(path, "r");
	if (f) {
		config = slurp(f);
		fclose(f);
		config_from = path;
		return;
	}
	/* IKCONFIG_PROC kernels carry it compressed; gzip is everywhere, zlib would be a dependency. */
	f = fopen("/proc/config.gz", "r");
	if (!f)
		return;
	fclose(f);
	f = popen("gzip -dc /proc/config.gz 2>/dev/null", "r");
	if (!f)
		return;
	config = slurp(f);
	if (pclose(f) != 0) {
		free(config);
		config = NULL;
		return;
	}
	config_from = "/proc/config.gz";
}

char kinfo_config(const char *name)
{
	char key[128];
	const char *p;
	size_t klen;

	if (!config_tried)
		load_config();
	if (!config)
		return 0;
	klen = snprintf(key, sizeof(key), "CONFIG_%s=", name);
	for (p = config; (p = strstr(p, key)); p += klen)
		if (p == config || p[-1] == '\n')
			return p[klen] == 'y' || p[klen] == 'm' ? p[klen] : 'n';
	return 'n';
}

const char *kinfo_config_source(void)
{
	if (!config_tried)
		load_config();
	return config_from;
}

/* "STOP_COPY" (the kernel's spelling) or "stop-copy" to a state. */
static int parse_kernel_state(const char *s, enum mig_state *state)
{
	char name[32];
	size_t i;

	for (i = 0; s[i] && i + 1 < sizeof(name); i++)
		name[i] = s[i] == '_' ? '-' : (char)tolower((unsigned char)s[i]);
	name[i] = '\0';
	return mig_state_parse(name, state);
}

int kinfo_debugfs_state(const char *dev, enum mig_state *state)
{
	char dir[300], buf[64];
	int ret;

	snprintf(dir, sizeof(dir), VFIO_DEBUGFS "/%s/migration", dev);
	ret = sysfs_read(dir, "state", buf, sizeof(buf));
	if (ret)
		return ret;
	return parse_kernel_state(buf, state) ? -EPROTO : 0;
}

int kinfo_debugfs_features(const char *dev, uint64_t *flags)
{
	char path[300], word[64];
	FILE *f;

	snprintf(path, sizeof(path), VFIO_DEBUGFS "/%s/migration/features", dev);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	*flags = 0;
	/* One feature per word, in either spelling; unknown words are future features. */
	while (fscanf(f, "%63s", word) == 1) {
		for (char *c = word; *c; c++)
			*c = *c == '_' ? '-' : (char)tolower((unsigned char)*c);
		if (!strcmp(word, "stop-copy"))
			*flags |= MIG_FLAG_STOP_COPY;
		else if (!strcmp(word, "p2p"))
			*flags |= MIG_FLAG_P2P;
		else if (!strcmp(word, "pre-copy"))
			*flags |= MIG_FLAG_PRE_COPY;
	}
	fclose(f);
	return 0;
}
