/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A VFIO device as commands see it: found from an address, opened, moved between states, each failure explained. */
#ifndef VFIOMIG_DEV_H
#define VFIOMIG_DEV_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "blob.h"
#include "mig.h"

struct vm_dev {
	char name[64];          /* "0000:3b:00.2" or an mdev UUID */
	char sysfs[PATH_MAX];   /* the device's directory under /sys/devices */
	bool mdev;
	char driver[64];        /* bound driver, "" if none */
	int group;              /* IOMMU group number, -1 if none */
	char cdev[32];          /* "vfio3" when the kernel made a VFIO cdev, else "" */

	/* Valid after dev_open(). */
	int fd;
	int group_fd, container_fd, iommufd;
	bool via_cdev;
	/*
	 * The data fd of the current migration when no caller took it: kept
	 * while the device stays in the saving group or in resuming, so that
	 * a later command of the same process (or session) can use it.
	 */
	int data_fd;

	/*
	 * A low-power entry with a wake eventfd (pm enter --wakeup) made by a
	 * process that holds the device: the eventfd outlives the command, so
	 * a later one can tell whether and when the device woke. Closed with
	 * the device; meaningful on the held device only.
	 */
	struct vm_wake {
		int fd;                  /* the eventfd, -1 when none is armed */
		bool entered;            /* an entry with wakeup was made */
		bool fired;              /* the eventfd was seen signalled */
		uint64_t count;          /* its counter when it was read */
		double t_entry;          /* CLOCK_MONOTONIC seconds at the entry */
		double woke_after;       /* seconds from the entry to the wake; < 0 unknown */
		unsigned long suspended_ms; /* power/runtime_suspended_time at the entry */
		bool has_suspended_ms;
	} wake;

	/* Set when the fds are borrowed from a device this process holds (dev_hold()). */
	struct vm_dev *owner;

	/* Valid after dev_mig_init(). */
	uint64_t mig_flags;
};

/* Parses and resolves ARG; a bad or absent address is a usage error. */
int dev_lookup(const char *arg, struct vm_dev *d);
/* Opens the device (group/container or cdev/iommufd per --iommufd/--legacy). */
int dev_open(struct vm_dev *d);
/*
 * Closes D, or gives borrowed fds back to the held device. Given a held
 * device itself (from dev_held_find(), while no command borrows it), it
 * closes that and stops holding it.
 */
void dev_close(struct vm_dev *d);
/*
 * Devices held across commands: a session holder, the shell and batch mode
 * keep a device open between commands, because closing it would return
 * it to running, stop dirty logging and end low power. dev_open() of a
 * held device borrows its fds; dev_close() gives them back.
 */
int dev_hold(struct vm_dev *d);
/* From now on every device opened is held until dev_release_all(), or not; returns the previous setting. */
bool dev_hold_opens(bool on);
void dev_release_all(void);
/* The held device named NAME, or NULL; the Nth held device (NULL past the end). */
struct vm_dev *dev_held_find(const char *name);
struct vm_dev *dev_held_nth(int n);

/* Processes that hold the device (its group node or its cdev open): their count, up to MAX. */
struct holder;
int dev_holders(const struct vm_dev *d, struct holder *h, int max);
/* For an SR-IOV VF: its PF's address and its number among the PF's VFs; -ENODEV otherwise. */
int dev_sriov(const struct vm_dev *d, char *pf, size_t len, int *vf);

/* The canonical name of the device ARG names, without messages; 0 or -errno. */
int dev_canonical(const char *arg, char *name, size_t len);

/* dev_lookup() + dev_open(). */
int dev_get(const char *arg, struct vm_dev *d);

/* Whether the bound driver is a VFIO driver (vfio-pci, a variant, an mdev driver). */
bool dev_is_vfio(const struct vm_dev *d);

/* Reads the migration flags; a device without migration is explained. */
int dev_mig_init(struct vm_dev *d);
/* dev_open() + dev_mig_init() + dev_get_state(); closes the device on failure. */
int dev_open_mig(struct vm_dev *d, enum mig_state *state);
int dev_get_state(struct vm_dev *d, enum mig_state *state);
/*
 * Moves the device to TARGET in one SET, after checking the path
 * client-side. On failure reads the state back and says where the device
 * is and what to do. *DATA_FD gets the new data fd or -1; with DATA_FD
 * NULL a new data fd is kept in D->data_fd instead. Leaving the saving
 * group or resuming ends D->data_fd, as the kernel ends the stream.
 */
int dev_set_state(struct vm_dev *d, enum mig_state target, int *data_fd);

/* Whether D may be asked to go from CUR to TARGET: 0, or the refusal, reported as dev_set_state() would. */
int dev_check_path(struct vm_dev *d, enum mig_state cur, enum mig_state target);

/* The source identity recorded in a blob header. */
int dev_identity(const struct vm_dev *d, struct blob_header *h);

/* --then's argument: stop or running. */
int dev_parse_then(const char *arg, enum mig_state *then);
/* Tells people that STATE lasts only while vfiomig holds the device. */
void dev_note_closes(const struct vm_dev *d, enum mig_state state);

/* "vfiomig reset 0000:3b:00.2", for hints. */
const char *dev_reset_hint(const struct vm_dev *d, char *buf, size_t len);

#endif
