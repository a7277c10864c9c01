// SPDX-License-Identifier: GPL-2.0-or-later
/* The least a program can do to save or load a VFIO device's state, for make bench-lab to measure vfiomig's own overhead against; and a timer for whole commands. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "uapi.h"

/*
 * mig-loop save BDF        RUNNING -> STOP_COPY (the kernel walks the
 *                          arcs), read the data fd to its end in 1 MiB
 *                          reads as QEMU does, discard it, -> STOP
 * mig-loop load BDF FILE   -> RESUMING, write FILE to the data fd in 1 MiB
 *                          writes, close it, -> STOP
 * Both open the device through its IOMMU group and a type1 container, and
 * print "enter_us N move_us N leave_us N bytes N" on stdout.
 * mig-loop time OUT CMD... runs CMD and writes its wall time in us to OUT.
 */

#define BUF (1u << 20)

static void die(const char *what, const char *obj)
{
	fprintf(stderr, "mig-loop: %s '%s': %s\n", what, obj, strerror(errno));
	exit(1);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int open_device(const char *bdf)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };
	char path[PATH_MAX], link[PATH_MAX], *group;
	int container, fd, dev;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		die("no IOMMU group for", bdf);
	link[n] = '\0';
	group = strrchr(link, '/') + 1;
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		die("cannot open", "/dev/vfio/vfio");
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1)
		die("no type1v2 IOMMU in", "/dev/vfio/vfio");
	snprintf(path, sizeof(path), "/dev/vfio/%s", group);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("cannot open", path);
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st) || !(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		die("group not viable:", path);
	if (ioctl(fd, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		die("cannot attach a container to", path);
	dev = ioctl(fd, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (dev < 0)
		die("cannot get the device fd of", bdf);
	return dev;
}

/* SET MIG_DEVICE_STATE: the data fd the kernel returns, or -1. */
static int set_state(int dev, uint32_t state, const char *bdf)
{
	uint64_t buf[2] = { 0 };
	struct vfio_device_feature *f = (void *)buf;
	struct vfio_device_feature_mig_state *s = (void *)f->data;

	f->argsz = sizeof(buf);
	f->flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	s->device_state = state;
	s->data_fd = -1;
	if (ioctl(dev, VFIO_DEVICE_FEATURE, f))
		die("cannot set the migration state of", bdf);
	return s->data_fd;
}

static int run_save(const char *bdf)
{
	uint64_t t0, t1, t2, t3, bytes = 0;
	char *buf = aligned_alloc(4096, BUF);
	int dev = open_device(bdf), data;
	ssize_t n;

	if (!buf)
		return 1;
	t0 = now_us();
	data = set_state(dev, VFIO_DEVICE_STATE_STOP_COPY, bdf);
	t1 = now_us();
	if (data < 0)
		die("no data fd from", bdf);
	while ((n = read(data, buf, BUF)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("cannot read the data fd of", bdf);
		bytes += (uint64_t)n;
	}
	close(data);
	t2 = now_us();
	set_state(dev, VFIO_DEVICE_STATE_STOP, bdf);
	t3 = now_us();
	printf("enter_us %llu move_us %llu leave_us %llu bytes %llu\n", (unsigned long long)(t1 - t0),
	       (unsigned long long)(t2 - t1), (unsigned long long)(t3 - t2), (unsigned long long)bytes);
	return 0;
}

static int run_load(const char *bdf, const char *file)
{
	uint64_t t0, t1, t2, t3, bytes = 0;
	char *buf = aligned_alloc(4096, BUF);
	int dev = open_device(bdf), in = open(file, O_RDONLY | O_CLOEXEC), data;
	ssize_t n, w, off;

	if (!buf)
		return 1;
	if (in < 0)
		die("cannot open", file);
	t0 = now_us();
	data = set_state(dev, VFIO_DEVICE_STATE_RESUMING, bdf);
	t1 = now_us();
	if (data < 0)
		die("no data fd from", bdf);
	while ((n = read(in, buf, BUF)) != 0) {
		if (n < 0)
			die("cannot read", file);
		for (off = 0; off < n; off += w) {
			w = write(data, buf + off, (size_t)(n - off));
			if (w < 0)
				die("cannot write the data fd of", bdf);
		}
		bytes += (uint64_t)n;
	}
	close(data);
	t2 = now_us();
	set_state(dev, VFIO_DEVICE_STATE_STOP, bdf);
	t3 = now_us();
	printf("enter_us %llu move_us %llu leave_us %llu bytes %llu\n", (unsigned long long)(t1 - t0),
	       (unsigned long long)(t2 - t1), (unsigned long long)(t3 - t2), (unsigned long long)bytes);
	return 0;
}

static int run_time(const char *out, char **argv)
{
	uint64_t t0 = now_us(), t1;
	int status;
	pid_t pid = fork();
	FILE *f;

	if (pid < 0)
		die("cannot fork for", argv[0]);
	if (pid == 0) {
		execvp(argv[0], argv);
		die("cannot run", argv[0]);
	}
	if (waitpid(pid, &status, 0) < 0)
		die("cannot wait for", argv[0]);
	t1 = now_us();
	f = fopen(out, "w");
	if (!f || fprintf(f, "%llu\n", (unsigned long long)(t1 - t0)) < 0 || fclose(f))
		die("cannot write", out);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "save"))
		return run_save(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "load"))
		return run_load(argv[2], argv[3]);
	if (argc >= 4 && !strcmp(argv[1], "time"))
		return run_time(argv[2], argv + 3);
	fprintf(stderr, "usage: mig-loop save BDF | mig-loop load BDF FILE | mig-loop time OUT CMD...\n");
	return 2;
}
