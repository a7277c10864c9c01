// SPDX-License-Identifier: GPL-2.0-or-later
/* The sysfs and /proc boundary: small reads of attributes, links, directories and open files. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysfs.h"

int sysfs_read(const char *dir, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, ret = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, attr) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		ret = -errno;
	else
		buf[n] = '\0';
	close(fd);
	if (!ret)
		buf[strcspn(buf, "\n")] = '\0';
	return ret;
}

int sysfs_read_ulong(const char *dir, const char *attr, unsigned long *val)
{
	char buf[64], *end;
	int ret = sysfs_read(dir, attr, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	*val = strtoul(buf, &end, 0);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
}

int sysfs_link_name(const char *dir, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/%s", dir, attr) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	strcpy(buf, base);
	return 0;
}

int sysfs_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return 0;
	return access(path, F_OK) == 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int sysfs_each(const char *dir, int (*fn)(const char *name, void *data), void *data)
{
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	int ret = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **more = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof(*names));

			if (!more) {
				ret = -ENOMEM;
				goto free_names;
			}
			names = more;
		}
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			ret = -ENOMEM;
			goto free_names;
		}
		n++;
	}
	qsort(names, n, sizeof(*names), name_cmp);
	for (i = 0; i < n && !ret; i++)
		ret = fn(names[i], data);
free_names:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return ret;
}

int sysfs_find_entry(const char *dir, const char *sub, const char *prefix,
		     char *buf, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	int ret = -ENOENT;
	DIR *d;

	if (snprintf(path, sizeof(path), "%s/%s", dir, sub) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		if (strlen(de->d_name) >= len) {
			ret = -ENAMETOOLONG;
			break;
		}
		strcpy(buf, de->d_name);
		ret = 0;
		break;
	}
	closedir(d);
	return ret;
}

int sysfs_pm_read(const char *dir, struct sysfs_pm *pm)
{
	int ret;

	memset(pm, 0, sizeof(*pm));
	ret = sysfs_read(dir, "power/runtime_status", pm->runtime_status, sizeof(pm->runtime_status));
	if (ret)
		return ret;
	if (sysfs_read(dir, "power_state", pm->power_state, sizeof(pm->power_state)))
		pm->power_state[0] = '\0';
	if (sysfs_read(dir, "power/control", pm->control, sizeof(pm->control)))
		pm->control[0] = '\0';
	pm->has_suspended_ms = !sysfs_read_ulong(dir, "power/runtime_suspended_time",
						 &pm->suspended_ms);
	return 0;
}

#define PCI_CFG_STATUS 0x06
#define PCI_CFG_STATUS_CAP_LIST 0x10
#define PCI_CFG_CAP_PTR 0x34
#define PCI_CFG_CAP_ID_PM 0x01

int sysfs_pci_has_pm_cap(const char *dir)
{
	uint8_t cfg[256];
	char path[PATH_MAX];
	unsigned int ptr, hops;
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/config", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, cfg, sizeof(cfg), 0);
	close(fd);
	if (n < 0)
		return -errno;
	if (n < PCI_CFG_CAP_PTR + 1)
		return -EIO;
	if (!(cfg[PCI_CFG_STATUS] & PCI_CFG_STATUS_CAP_LIST))
		return 0;
	/* A bounded walk: a broken or looping list ends after 48 entries. */
	for (ptr = cfg[PCI_CFG_CAP_PTR] & 0xfc, hops = 0; ptr && hops < 48; hops++) {
		/* Without root only 64 bytes are readable: the list goes beyond. */
		if (ptr + 1 >= (unsigned int)n)
			return -EACCES;
		if (cfg[ptr] == PCI_CFG_CAP_ID_PM)
			return 1;
		ptr = cfg[ptr + 1] & 0xfc;
	}
	return 0;
}

/* Whether process PID has PATH open: compare each /proc/PID/fd link. */
static int pid_has_open(const char *pid, const char *path)
{
	char dir[64], link[64 + NAME_MAX + 2], target[PATH_MAX];
	struct dirent *de;
	int found = 0;
	ssize_t n;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%.40s/fd", pid);
	d = opendir(dir);
	if (!d)
		return 0; /* gone, or not ours to see */
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		found = !strcmp(target, path);
	}
	closedir(d);
	return found;
}

int proc_holders(const char *path, struct holder *h, int max)
{
	char comm_dir[PATH_MAX];
	struct dirent *de;
	pid_t self = getpid();
	int n = 0;
	DIR *d = opendir("/proc");

	if (!d)
		return -errno;
	while (n < max && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (atoi(de->d_name) == self || !pid_has_open(de->d_name, path))
			continue;
		h[n].pid = atoi(de->d_name);
		snprintf(comm_dir, sizeof(comm_dir), "/proc/%s", de->d_name);
		if (sysfs_read(comm_dir, "comm", h[n].comm, sizeof(h[n].comm)))
			strcpy(h[n].comm, "?");
		n++;
	}
	closedir(d);
	return n;
}

int proc_kernel_has_symbol(const char *name)
{
	size_t n = strlen(name), cap = 0;
	char *line = NULL, *p;
	int found = 0;
	FILE *f = fopen("/proc/kallsyms", "re");

	if (!f)
		return -errno;
	/* "ffffffffc0a01230 T iova_bitmap_for_each\t[vfio]": the name is the third field. */
	while (!found && getline(&line, &cap, f) > 0) {
		p = strchr(line, ' ');
		p = p ? strchr(p + 1, ' ') : NULL;
		found = p && !strncmp(p + 1, name, n) &&
			(p[1 + n] == '\n' || p[1 + n] == '\t' || p[1 + n] == '\0');
	}
	free(line);
	fclose(f);
	return found;
}
