// SPDX-License-Identifier: GPL-2.0-or-later
/* `vfiomig pm enter|exit|status`: VFIO low power, its wake eventfd, and the power state as sysfs shows it. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "dev.h"
#include "io.h"
#include "output.h"
#include "sysfs.h"
#include "vfio.h"
#include "vfiomig.h"

static int run_enter(int argc, char **argv);
static int run_exit(int argc, char **argv);
static int run_status(int argc, char **argv);

enum { OPT_WAKEUP = 256, OPT_WAIT };

static const struct option enter_options[] = {
	{ "wakeup", no_argument, NULL, OPT_WAKEUP },
	{ "wait", optional_argument, NULL, OPT_WAIT },
	{ 0 }
};

static const struct vm_cmd cmd_pm_enter = {
	.name = "enter",
	.run = run_enter,
	.args = "DEV [--wakeup] [--wait[=SECONDS]]",
	.summary = "put a device into low power (D3hot on devices with PCI PM)",
	.help = "Enters VFIO low power (LOW_POWER_ENTRY): the device runtime-suspends,\n"
		"and a PCI function with a power-management capability goes to D3hot.\n"
		"Any access through the device fd (config space, BARs, an ioctl) wakes it,\n"
		"and so does 'echo on > /sys/bus/pci/devices/DEV/power/control'; reading\n"
		"config space through sysfs (lspci) does not, except from D3cold.\n"
		"\n"
		"  --wakeup          enter with a wake eventfd (LOW_POWER_ENTRY_WITH_WAKEUP):\n"
		"                    the first wake signals it and ends low power (single-shot);\n"
		"                    in a session the holder keeps it, and 'pm status' says\n"
		"                    whether and when it fired\n"
		"  --wait[=SECONDS]  keep the device in low power and wait: with --wakeup until\n"
		"                    it wakes (exit 0) or SECONDS pass (exit 5); without, for\n"
		"                    SECONDS (exit 0), the device suspending again after each\n"
		"                    access. No SECONDS: until Ctrl-C, which leaves low power\n"
		"                    (LOW_POWER_EXIT) and exits 1\n"
		"\n"
		"Low power lasts only while vfiomig holds the device: without --wait it ends\n"
		"at once, when vfiomig exits and closes the device, unless a session holds\n"
		"the device ('vfiomig open DEV').\n",
	.longopts = enter_options,
};

static const struct vm_cmd cmd_pm_exit = {
	.name = "exit",
	.run = run_exit,
	.args = "DEV",
	.summary = "take a device out of low power",
	.help = "Leaves VFIO low power (LOW_POWER_EXIT) and prints the power state.\n"
		"A device is in low power only while the process that entered it holds it:\n"
		"use it in a session ('vfiomig open DEV'); a vfiomig of its own finds the\n"
		"device awake already, and exit then does nothing.\n",
};

static const struct vm_cmd cmd_pm_status = {
	.name = "status",
	.run = run_status,
	.args = "DEV",
	.summary = "print a device's power state without waking it",
	.help = "Prints the runtime PM status, the PCI power state and the runtime PM\n"
		"control from sysfs. It never opens the device, since any access would\n"
		"wake it, so it works while another process holds the device. In the\n"
		"session that entered low power with --wakeup it also says whether the\n"
		"wake eventfd fired, and after how long in low power.\n",
};

static const struct vm_cmd *const pm_subcommands[] = {
	&cmd_pm_enter, &cmd_pm_exit, &cmd_pm_status, NULL,
};

const struct vm_cmd cmd_pm = {
	.name = "pm",
	.sub = pm_subcommands,
	.summary = "enter or leave low power, or show the power state",
};

struct enter_opts {
	bool wakeup, wait;
	double timeout; /* seconds; 0: no limit */
};

/* SECONDS: digits with an optional fraction, more than 0, at most a year. */
static int parse_seconds(const char *arg, double *val)
{
	const char *p = arg;
	int digits = 0, dots = 0;
	char *end;

	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (*p == '.' && !dots)
			dots++;
		else
			return -EINVAL;
	}
	if (!digits)
		return -EINVAL;
	*val = strtod(arg, &end);
	if (*end || *val <= 0 || *val > 365 * 24 * 3600.0)
		return -ERANGE;
	return 0;
}

static int enter_option(int c, const char *arg, void *data)
{
	struct enter_opts *o = data;
	int ret;

	switch (c) {
	case OPT_WAKEUP:
		o->wakeup = true;
		return 0;
	case OPT_WAIT:
		o->wait = true;
		o->timeout = 0;
		if (!arg)
			return 0;
		ret = parse_seconds(arg, &o->timeout);
		if (ret == -ERANGE)
			return vm_usage("%s: invalid --wait '%s': use more than 0 and at most 31536000 seconds",
					vm_cmd_path, arg);
		if (ret)
			return vm_usage("%s: invalid --wait '%s': use a number of seconds, such as 30 or 0.5",
					vm_cmd_path, arg);
		return 0;
	default:
		return -EINVAL;
	}
}

/* How a wait ended. */
enum wait_end { WAIT_WOKE, WAIT_TIMEOUT, WAIT_INTERRUPTED };

/*
 * Waits for the eventfd EFD (or only for time and signals when EFD < 0)
 * until TIMEOUT seconds after T0 (0: no limit). *COUNT gets the eventfd's
 * counter on a wake.
 */
static int wait_for_wake(int efd, double timeout, double t0, enum wait_end *end, uint64_t *count)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	sigset_t block, orig;
	struct timespec ts;
	double left;
	int n, ret = 0;

	/*
	 * SIGINT and SIGTERM are let in only inside ppoll(), so a Ctrl-C can
	 * never land between the check of the flag and the wait and be lost;
	 * so is SIGIO, which tells a session holder that its client went away.
	 */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGIO);
	sigprocmask(SIG_BLOCK, &block, &orig);
	for (;;) {
		if (io_interrupted) {
			*end = WAIT_INTERRUPTED;
			break;
		}
		left = timeout > 0 ? t0 + timeout - mono_now() : -1;
		if (timeout > 0 && left <= 0) {
			*end = WAIT_TIMEOUT;
			break;
		}
		if (left >= 0) {
			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		}
		n = ppoll(&pfd, efd >= 0 ? 1 : 0, left >= 0 ? &ts : NULL, &orig);
		if (n < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		if (n > 0 && (pfd.revents & POLLIN)) {
			if (read(efd, count, sizeof(*count)) == (ssize_t)sizeof(*count)) {
				*end = WAIT_WOKE;
				break;
			}
			if (errno != EAGAIN && errno != EINTR) {
				ret = -errno;
				break;
			}
		}
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return ret;
}

/* The power state after a change; a wake is signalled from inside the resume, so let it finish. */
static void show_power(const struct vm_dev *d, const char *prefix)
{
	struct sysfs_pm pm;
	int i;

	for (i = 0; i < 100; i++) {
		if (sysfs_pm_read(d->sysfs, &pm))
			return;
		if (strcmp(pm.runtime_status, "resuming") && strcmp(pm.runtime_status, "suspending"))
			break;
		usleep(10000);
	}
	out_text("%s", prefix);
	out_str("runtime_status", "runtime_status %s", pm.runtime_status);
	if (pm.power_state[0])
		out_str("power_state", ", power_state %s", pm.power_state);
	else
		out_null("power_state", NULL);
	out_text("\n");
}

static int explain_low_power_error(const struct vm_dev *d, int err, const char *feature, bool entering)
{
	const char *what = entering ? "cannot enter low power" : "cannot leave low power";

	if (err == -ENOTTY)
		return vm_error(err, "low power is not supported by", d->name,
				d->mdev ? NULL : "low power needs vfio-pci or a variant driver, from Linux 6.1",
				"driver %s does not implement %s", d->driver, feature);
	if (err == -EINVAL && entering)
		return vm_error(err, what, d->name,
				"'vfiomig pm exit' ends an earlier entry of the same session",
				"the driver refused %s (EINVAL): the device may already be in low power",
				feature);
	return vm_error(err, what, d->name,
			entering ? NULL : "closing the device ends low power too ('vfiomig close' for a session)",
			"%s: %s", feature, vm_strerror(err));
}

/*
 * The wake eventfd a holder keeps after 'pm enter --wakeup' (struct
 * vm_wake): armed at the entry, read without blocking by later commands.
 */
static void wake_clear(struct vm_dev *h)
{
	if (h->wake.fd >= 0)
		close(h->wake.fd);
	memset(&h->wake, 0, sizeof(h->wake));
	h->wake.fd = -1;
	h->wake.woke_after = -1;
}

static void wake_arm(struct vm_dev *h, int efd, double t_entry)
{
	struct sysfs_pm pm;

	wake_clear(h);
	h->wake.fd = efd;
	h->wake.entered = true;
	h->wake.t_entry = t_entry;
	if (!sysfs_pm_read(h->sysfs, &pm) && pm.has_suspended_ms) {
		h->wake.suspended_ms = pm.suspended_ms;
		h->wake.has_suspended_ms = true;
	}
}

/*
 * Whether the armed eventfd has fired since: the kernel signals it from
 * the runtime resume that ends low power. The time the device spent
 * suspended since the entry (runtime_suspended_time stops at the wake)
 * says when that was, however late we look.
 */
static void wake_poll(struct vm_dev *h)
{
	struct sysfs_pm pm;
	uint64_t count;

	if (h->wake.fd < 0 || read(h->wake.fd, &count, sizeof(count)) != (ssize_t)sizeof(count))
		return;
	h->wake.fired = true;
	h->wake.count += count;
	if (h->wake.has_suspended_ms && !sysfs_pm_read(h->sysfs, &pm) && pm.has_suspended_ms &&
	    pm.suspended_ms >= h->wake.suspended_ms)
		h->wake.woke_after = (double)(pm.suspended_ms - h->wake.suspended_ms) / 1e3;
	/* Single-shot: the kernel has let go of it. */
	close(h->wake.fd);
	h->wake.fd = -1;
}

/* Before entry, while the device is awake: what will keep the entry from showing. */
static void note_before_entry(const struct vm_dev *d, bool wakeup)
{
	struct sysfs_pm pm;

	if (!d->mdev && sysfs_pci_has_pm_cap(d->sysfs) == 0)
		vm_note("%s has no PCI power management capability: it runtime-suspends in software, but its power state stays D0",
			d->name);
	if (!sysfs_pm_read(d->sysfs, &pm) && !strcmp(pm.control, "on"))
		vm_note("runtime PM is forbidden for %s (power/control is 'on'): it stays active%s; 'echo auto > %s/power/control' allows it",
			d->name, wakeup ? " and no wake will come" : "", d->sysfs);
}

/* Leaves low power on purpose (timeout, Ctrl-C); the kernel ends it itself on a wake. */
static int leave_low_power(struct vm_dev *d)
{
	int ret = vfio_low_power_exit(d->fd);

	if (ret)
		return vm_error(ret, "cannot leave low power", d->name, NULL,
				"LOW_POWER_EXIT: %s; closing the device ends low power anyway",
				vm_strerror(ret));
	return 0;
}

static int run_enter(int argc, char **argv)
{
	struct enter_opts o = { 0 };
	struct sysfs_pm before;
	const char *feature;
	enum wait_end end = WAIT_TIMEOUT;
	uint64_t count = 0;
	struct vm_dev d;
	double t0, secs;
	int ret, efd = -1, optind = vm_getopt(&cmd_pm_enter, argc, argv, enter_option, &o);

	if (optind < 0)
		return optind;
	/* "--wait 30" leaves 30 as an operand: say where the value goes. */
	if (o.wait && !o.timeout && argc - optind == 2 && !parse_seconds(argv[optind + 1], &secs))
		return vm_usage("%s: --wait takes its value after '=': --wait=%s", vm_cmd_path,
				argv[optind + 1]);
	ret = vm_operands(&cmd_pm_enter, argc, argv, optind, 1);
	if (ret)
		return ret;
	ret = dev_get(argv[optind], &d);
	if (ret)
		return ret;
	feature = o.wakeup ? "LOW_POWER_ENTRY_WITH_WAKEUP" : "LOW_POWER_ENTRY";
	if (o.wakeup) {
		efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efd < 0) {
			ret = vm_error(errno, "cannot create a wake eventfd for", d.name, NULL, NULL);
			goto close_dev;
		}
	}
	note_before_entry(&d, o.wakeup);
	if (sysfs_pm_read(d.sysfs, &before))
		before.runtime_status[0] = '\0';
	if (o.wait)
		io_catch_signals();

	ret = vfio_low_power_enter(d.fd, efd);
	t0 = mono_now();
	if (ret) {
		ret = explain_low_power_error(&d, ret, feature, true);
		goto close_efd;
	}
	/* A holder keeps the wake eventfd for later commands; a new entry replaces an older one. */
	if (d.owner && o.wakeup && !o.wait) {
		wake_arm(d.owner, efd, t0);
		efd = -1;
	} else if (d.owner) {
		wake_clear(d.owner);
	}
	out_str("device", "%s: ", d.name);
	out_str("feature", "entered low power (%s)", feature);
	if (before.runtime_status[0]) {
		/* Open, the device is awake: what the entry starts from. */
		out_obj_open("before");
		out_str("runtime_status", " from runtime_status %s", before.runtime_status);
		out_str("power_state", ", power_state %s", before.power_state[0] ? before.power_state : NULL);
		out_obj_close();
	}
	out_bool("wakeup", NULL, o.wakeup);
	out_bool("wait", NULL, o.wait);
	if (o.wait && o.timeout)
		out_dbl("timeout_seconds", o.wakeup ? "; waiting up to %g s for a wake" :
			"; holding it for %g s", o.timeout);
	else
		out_null("timeout_seconds", !o.wait ? NULL : o.wakeup ?
			 "; waiting for a wake (Ctrl-C leaves)" : "; holding it until Ctrl-C");
	out_text("\n");
	if (!o.wait) {
		if (d.owner)
			vm_note("%s stays in low power while its session holds it: 'vfiomig pm exit %s' or 'vfiomig close %s' ends it; any access through the device fd (config space, BARs, an ioctl) wakes it%s",
				d.name, d.name, d.name,
				o.wakeup ? ", and 'vfiomig pm status' then says the wake eventfd fired" : "");
		else
			vm_note("low power lasts only while vfiomig holds %s: it ends now, as vfiomig exits and closes the device ('vfiomig open %s' or --wait keeps it); any access through the device fd (config space, BARs, an ioctl) wakes it",
				d.name, d.name);
		goto close_efd;
	}
	/* Someone may be watching this output to know when to wake the device. */
	fflush(out_stream());

	ret = wait_for_wake(efd, o.timeout, t0, &end, &count);
	secs = mono_now() - t0;
	if (ret) {
		ret = vm_error(ret, "cannot wait for a wake of", d.name, NULL, NULL);
		leave_low_power(&d);
		goto close_efd;
	}
	out_bool("woke", NULL, end == WAIT_WOKE);
	out_dbl("seconds", NULL, secs);
	switch (end) {
	case WAIT_WOKE:
		if (d.owner) {
			/* What pm status reports later in the same holder. */
			d.owner->wake.entered = d.owner->wake.fired = true;
			d.owner->wake.t_entry = t0;
			d.owner->wake.count = count;
			d.owner->wake.woke_after = secs;
		}
		out_text("%s: woke after %.3f s", d.name, secs);
		out_u64("wake_count", " (wake eventfd count %" PRIu64 ")\n", count);
		out_text("low power ended with the wake (single-shot): the device stays awake until a new entry\n");
		show_power(&d, "");
		break;
	case WAIT_TIMEOUT:
		ret = leave_low_power(&d);
		if (!o.wakeup && !ret)
			out_text("%s: held low power for %.3f s, then left it (LOW_POWER_EXIT)\n", d.name, secs);
		show_power(&d, "");
		if (o.wakeup && !ret)
			ret = vm_error(ETIMEDOUT, "no wake from", d.name, NULL,
				       "the wake eventfd did not fire within %g s; vfiomig left low power (LOW_POWER_EXIT)",
				       o.timeout);
		break;
	case WAIT_INTERRUPTED:
		ret = leave_low_power(&d);
		show_power(&d, "");
		if (!ret)
			ret = vm_error(EINTR, "interrupted", d.name, NULL,
				       o.wakeup ? "waited %.3f s without a wake; vfiomig left low power (LOW_POWER_EXIT)" :
				       "held low power for %.3f s; vfiomig left it (LOW_POWER_EXIT)", secs);
		break;
	}
close_efd:
	if (efd >= 0)
		close(efd);
close_dev:
	dev_close(&d);
	return ret;
}

static int run_exit(int argc, char **argv)
{
	struct vm_dev d;
	bool woke;
	int ret, optind = vm_getopt(&cmd_pm_exit, argc, argv, vm_no_options, NULL);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_pm_exit, argc, argv, optind, 1);
	if (ret)
		return ret;
	ret = dev_get(argv[optind], &d);
	if (ret)
		return ret;
	/* Look before the exit: its own ioctl wakes the device, which fires the eventfd too. */
	if (d.owner)
		wake_poll(d.owner);
	woke = d.owner && d.owner->wake.entered && d.owner->wake.fired;
	ret = vfio_low_power_exit(d.fd);
	if (d.owner)
		wake_clear(d.owner);
	if (ret) {
		ret = explain_low_power_error(&d, ret, "LOW_POWER_EXIT", false);
		goto close_dev;
	}
	out_str("device", "%s: ", d.name);
	out_str("feature", "out of low power (%s)", "LOW_POWER_EXIT");
	out_bool("woke_before", woke ? "; it had woken already (the wake eventfd fired)" : NULL, woke);
	out_text("\n");
	show_power(&d, "");
	if (!d.owner)
		vm_note("a device is in low power only while the process that entered it holds it: a vfiomig of its own finds it awake, and LOW_POWER_EXIT does nothing then ('vfiomig open %s' holds it across commands)",
			d.name);
close_dev:
	dev_close(&d);
	return ret;
}

/* Who has the device's VFIO node open (group or cdev), from /proc: no access to the device. */
static int vfio_holders(const struct vm_dev *d, struct holder *h, int max)
{
	char path[64];
	int n = 0;

	if (d->group >= 0) {
		snprintf(path, sizeof(path), "/dev/vfio/%d", d->group);
		n = proc_holders(path, h, max);
	}
	if (n <= 0 && d->cdev[0]) {
		snprintf(path, sizeof(path), "/dev/vfio/devices/%s", d->cdev);
		n = proc_holders(path, h, max);
	}
	return n < 0 ? 0 : n;
}

/*
 * In the process that holds the device (a session's holder runs this
 * command): the wake eventfd of its last 'pm enter --wakeup', if any.
 */
static void show_wake(struct vm_dev *h)
{
	if (!h || !h->wake.entered) {
		out_null("wake", NULL);
		return;
	}
	wake_poll(h);
	out_obj_open("wake");
	out_text("wake eventfd    ");
	out_bool("fired", h->wake.fired ? "fired" : "armed, not fired: no wake yet", h->wake.fired);
	out_u64("count", h->wake.fired ? " (count %" PRIu64 ")" : NULL, h->wake.count);
	if (h->wake.woke_after >= 0)
		out_dbl("woke_after_seconds", "; the device woke after %.3f s in low power",
			h->wake.woke_after);
	else
		out_null("woke_after_seconds", NULL);
	out_dbl("entered_seconds_ago", "; entered %.3f s ago\n", mono_now() - h->wake.t_entry);
	out_obj_close();
	if (h->wake.fired)
		vm_note("the wake ended low power (single-shot): %s stays awake until a new 'pm enter'",
			h->name);
}

static int run_status(int argc, char **argv)
{
	struct holder h[4];
	struct sysfs_pm pm;
	struct vm_dev d;
	bool suspended;
	int ret, n, i, optind = vm_getopt(&cmd_pm_status, argc, argv, vm_no_options, NULL);

	if (optind < 0)
		return optind;
	ret = vm_operands(&cmd_pm_status, argc, argv, optind, 1);
	if (ret)
		return ret;
	/* Only sysfs and /proc from here on: opening the device, or any ioctl, would wake it. */
	ret = dev_lookup(argv[optind], &d);
	if (ret)
		return ret;
	ret = sysfs_pm_read(d.sysfs, &pm);
	if (ret)
		return vm_error(ret, "cannot read the power state of", d.name, NULL,
				"%s/power/runtime_status: %s", d.sysfs, vm_strerror(ret));
	n = vfio_holders(&d, h, ARRAY_SIZE(h));
	/* A session holder runs this command itself, and /proc scans skip their own process. */
	if (dev_held_find(d.name) && n < (int)ARRAY_SIZE(h)) {
		h[n].pid = getpid();
		if (sysfs_read("/proc/self", "comm", h[n].comm, sizeof(h[n].comm)))
			snprintf(h[n].comm, sizeof(h[n].comm), "vfiomig");
		n++;
	}
	out_str("device", "device          %s\n", d.name);
	out_str("driver", "driver          %s\n", d.driver[0] ? d.driver : NULL);
	out_str("runtime_status", "runtime_status  %s\n", pm.runtime_status);
	out_str("power_state", "power_state     %s\n", pm.power_state[0] ? pm.power_state : NULL);
	out_str("control", "control         %s\n", pm.control[0] ? pm.control : NULL);
	out_text("held by        ");
	out_arr_open("holders");
	for (i = 0; i < n; i++) {
		out_obj_open(NULL);
		out_text("%s", i ? "," : "");
		out_s64("pid", " pid %" PRId64, h[i].pid);
		out_str("comm", " (%s)", h[i].comm);
		out_obj_close();
	}
	out_arr_close();
	out_text("%s\n", n ? "" : " nobody");
	show_wake(dev_held_find(d.name));

	suspended = !strcmp(pm.runtime_status, "suspended");
	if (suspended && dev_is_vfio(&d) && !d.mdev)
		vm_note(n ? "%s is held open and runtime-suspended: it is in VFIO low power (pm enter)" :
			"nobody holds %s open: vfio-pci lets an unused device runtime-suspend (idle D3, unless its module parameter disable_idle_d3 is set); that is not VFIO low power",
			d.name);
	/* In D0, reading config space through sysfs does not resume the device: look. */
	if (suspended && !strcmp(pm.power_state, "D0") && !d.mdev && !sysfs_pci_has_pm_cap(d.sysfs))
		vm_note("%s is runtime-suspended but in D0: it has no PCI power management capability, so only its runtime PM status changed",
			d.name);
	if (!strcmp(pm.control, "on"))
		vm_note("runtime PM is forbidden for %s (power/control is 'on'): it never suspends, low power included; 'echo auto > %s/power/control' allows it",
			d.name, d.sysfs);
	if (!strcmp(pm.runtime_status, "unsupported"))
		vm_note("runtime PM is not enabled for %s: VFIO low power does not apply to it", d.name);
	return 0;
}
