// SPDX-License-Identifier: GPL-2.0-or-later
/* Sessions over unix sockets: a holder keeps a set of devices open; clients pass it their argv, stdio and cwd with SCM_RIGHTS. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "session.h"
#include "vfio.h"
#include "vfiomig.h"

/*
 * The protocol: one SOCK_SEQPACKET message each way. A request is a header
 * and the command line as NUL-separated strings; a RUN request carries the
 * client's stdin, stdout, stderr and working directory as SCM_RIGHTS, so
 * the holder's command reads and writes the client's own files: `save` to
 * a pipe streams straight into it, nothing is copied through the socket.
 * A holder of several devices listens on one socket per device; a STATUS
 * request answers for the device of the socket it came through.
 */
#define SESSION_MAGIC 0x31534d56u /* "VMS1" */
#define SESSION_MAX_MSG 65536
#define SESSION_NFDS 4
/* Seconds a client has to send its request once connected: clients send at once. */
#define SESSION_RECV_TIMEOUT 5

enum { REQ_RUN = 1, REQ_STATUS = 2 };

struct req_hdr {
	uint32_t magic;
	uint32_t kind;
	uint32_t argc;
	uint32_t len;
};

struct reply {
	uint32_t magic;
	int32_t status;         /* exit status of a RUN */
	int32_t err;            /* 0, or EACCES when the holder refuses us */
	int32_t errnum;         /* the errno of the command's first error */
	int32_t state;
	int32_t pid;
	uint32_t uid;
	int64_t since;
	char device[64];
};

/* One device of a holder: its listening socket and its log. */
struct listener {
	int fd;
	int logfd;
	char name[64];
	char path[PATH_MAX];
};

static struct listener lis[SESSION_MAX_DEVS];
static int nlis;
static int null_fd = -1;       /* the holder's own stdio, put back after each command */
static bool in_holder;
static bool ending;
static volatile sig_atomic_t stop_serving;
static volatile sig_atomic_t client_gone;

bool session_in_holder(void)
{
	return in_holder;
}

void session_end(void)
{
	ending = true;
}

int session_dir(char *buf, size_t len)
{
	const char *env = getenv("VFIOMIG_RUNTIME_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	int n;

	if (env && *env)
		n = snprintf(buf, len, "%s", env);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/run/vfiomig");
	else if (xdg && *xdg)
		n = snprintf(buf, len, "%s/vfiomig", xdg);
	else
		n = snprintf(buf, len, "/tmp/vfiomig-%u", (unsigned)geteuid());
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int session_path(const char *name, char *buf, size_t len)
{
	char dir[PATH_MAX];
	int ret = session_dir(dir, sizeof(dir));
	struct sockaddr_un sun;

	if (ret)
		return ret;
	if ((size_t)snprintf(buf, len, "%s/%s.sock", dir, name) >= len ||
	    strlen(buf) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	return 0;
}

static int connect_to(const char *path, int *fd)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	*fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (*fd < 0)
		return -errno;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%.107s", path);
	if (connect(*fd, (struct sockaddr *)&sun, sizeof(sun))) {
		int err = -errno;

		close(*fd);
		*fd = -1;
		return err;
	}
	return 0;
}

/* Sends KIND with ARGV (and FDS for a RUN) to the holder at PATH, and waits for its reply. */
static int request(const char *path, uint32_t kind, int argc, char **argv, const int *fds,
		   int nfds, struct reply *rep)
{
	char buf[SESSION_MAX_MSG], cbuf[CMSG_SPACE(sizeof(int) * SESSION_NFDS)] = { 0 };
	struct req_hdr *h = (struct req_hdr *)buf;
	struct iovec iov = { .iov_base = buf };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;
	size_t off = sizeof(*h), n;
	ssize_t got;
	int fd, ret, i;

	for (i = 0; i < argc; i++) {
		n = strlen(argv[i]) + 1;
		if (off + n > sizeof(buf))
			return -E2BIG;
		memcpy(buf + off, argv[i], n);
		off += n;
	}
	*h = (struct req_hdr){ SESSION_MAGIC, kind, argc, off - sizeof(*h) };
	iov.iov_len = off;
	if (nfds) {
		msg.msg_control = cbuf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}

	ret = connect_to(path, &fd);
	if (ret)
		return ret;
	if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0) {
		ret = -errno;
		goto close_fd;
	}
	do
		got = recv(fd, rep, sizeof(*rep), 0);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		ret = -errno;
	else if (got != sizeof(*rep) || rep->magic != SESSION_MAGIC)
		ret = -EPROTO; /* the holder died mid-command, or speaks another version */
	else if (rep->err == EACCES)
		ret = -EPERM; /* the holder refused us, as opposed to the socket's permissions */
	else if (rep->err)
		ret = -rep->err;
close_fd:
	close(fd);
	return ret;
}

int session_query(const char *path, struct session_info *info)
{
	struct reply rep;
	int ret = request(path, REQ_STATUS, 0, NULL, NULL, 0, &rep);

	if (ret)
		return ret;
	info->pid = rep.pid;
	info->uid = rep.uid;
	info->since = rep.since;
	info->state = rep.state;
	snprintf(info->device, sizeof(info->device), "%.63s", rep.device);
	return 0;
}

int session_find(const char *name, struct session_info *info)
{
	char path[PATH_MAX];
	int ret = session_path(name, path, sizeof(path));

	if (ret)
		return ret;
	if (access(path, F_OK))
		return -ENOENT;
	ret = session_query(path, info);
	if (ret == -ECONNREFUSED || ret == -ENOENT) {
		unlink(path);
		vm_note("removed the stale session of %s (its holder is gone)", name);
		return -ENOENT;
	}
	return ret;
}

/*
 * Commands that never touch a held device, or manage sessions themselves.
 * The shell and batch mode run here too and forward each of their lines
 * like any command line: a whole readline shell must not run inside a
 * holder that serves other clients one at a time.
 */
static bool runs_here(const char *cmd)
{
	static const char *const local[] = { "open", "sessions", "help", "blob", "shell", "batch" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(local); i++)
		if (!strcmp(cmd, local[i]))
			return true;
	return false;
}

/* A device a command line names, and the holder of its session (0: none). */
struct named {
	char name[64];
	char path[PATH_MAX];
	pid_t pid;
};

/* The distinct devices the operands after CMD name. */
static int named_devices(int argc, char **argv, int cmd, struct named *n, int max)
{
	char name[64];
	int i, j, count = 0;

	for (i = cmd + 1; i < argc && count < max; i++) {
		if (argv[i][0] == '-' || dev_canonical(argv[i], name, sizeof(name)))
			continue;
		for (j = 0; j < count && strcmp(n[j].name, name); j++)
			;
		if (j < count || session_path(name, n[count].path, sizeof(n[count].path)))
			continue;
		snprintf(n[count].name, sizeof(n[count].name), "%s", name);
		n[count].pid = 0;
		count++;
	}
	return count;
}

/* Says why the holder at PATH could not run our command; returns the exit status. */
static int reach_error(int ret, const char *name, const char *path)
{
	if (ret == -EPERM)
		ret = vm_error(EACCES, "session refused", name,
			       "only the user who opened the session, or root, may use it",
			       "the holder at %s belongs to another user", path);
	else if (ret == -EACCES)
		ret = vm_error(EACCES, "cannot reach the session of", name,
			       "the session belongs to another user", "permission denied on %s", path);
	else if (ret == -EPROTO)
		ret = vm_error(EPROTO, "session failed", name, "see 'vfiomig sessions'",
			       "the holder ended without an answer");
	else
		ret = vm_error(ret, "cannot reach the session of", name, NULL, NULL);
	return vm_exit_status(ret);
}

/* Runs the command line in the session of N; false when that session turned out stale. */
static bool forward(const struct named *n, int argc, char **argv, int *status)
{
	int fds[SESSION_NFDS] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, -1 };
	struct reply rep;
	int ret;

	/* O_PATH: enough for the holder's fchdir(), even where we may not read the directory. */
	fds[3] = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fds[3] < 0) {
		*status = vm_exit_status(vm_error(errno, "cannot pass the working directory to the session of",
						  n->name, NULL, NULL));
		return true;
	}
	fflush(stdout);
	fflush(stderr);
	ret = request(n->path, REQ_RUN, argc, argv, fds, SESSION_NFDS, &rep);
	close(fds[3]);
	if (ret == -ECONNREFUSED || ret == -ENOENT) {
		/* The holder died without cleaning up: its socket is a leftover. */
		unlink(n->path);
		vm_note("removed the stale session of %s (its holder is gone); running here", n->name);
		return false;
	}
	if (ret == -ECONNRESET && access(n->path, F_OK)) {
		/* We waited our turn, and the turn before ours was `close`. */
		vm_note("the session of %s ended while this command waited; running here", n->name);
		return false;
	}
	if (ret) {
		*status = reach_error(ret, n->name, n->path);
		return true;
	}
	vm_set_first_errno(rep.errnum);
	*status = rep.status;
	return true;
}

/* Appends to BUF (LEN bytes, *OFF used), cutting what does not fit. */
static void appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*off >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *off, len - *off, fmt, ap);
	va_end(ap);
	*off = n < 0 ? len : *off + n;
}

/* Refuses a command for devices that no single holder holds: where each one is, and the way out. */
static int refuse_split(int argc, char **argv, int cmd, const struct named *n, int count)
{
	char what[128], devs[512], where[1024], hint[1200], name[64];
	size_t w = 0, d = 0, h = 0, c = 0;
	int i, j;

	/* The command's words before its first device: "state set". */
	appendf(what, sizeof(what), &w, "cannot run '");
	for (i = cmd; i < argc; i++) {
		if (i > cmd && argv[i][0] != '-' && !dev_canonical(argv[i], name, sizeof(name)))
			break;
		if (argv[i][0] != '-')
			appendf(what, sizeof(what), &w, "%s%s", i > cmd ? " " : "", argv[i]);
	}
	appendf(what, sizeof(what), &w, "' for");
	appendf(hint, sizeof(hint), &c, "a command runs in one holder: ");
	for (i = 0; i < count; i++) {
		appendf(devs, sizeof(devs), &d, "%s%s", i ? " " : "", n[i].name);
		if (n[i].pid)
			appendf(where, sizeof(where), &h, "%s%s by pid %d", i ? ", " : "", n[i].name,
				(int)n[i].pid);
		else
			appendf(where, sizeof(where), &h, "%s%s by none", i ? ", " : "", n[i].name);
		/* One close per holder ends all of its devices. */
		for (j = 0; j < i && n[j].pid != n[i].pid; j++)
			;
		if (n[i].pid && j == i)
			appendf(hint, sizeof(hint), &c, "vfiomig close %s; ", n[i].name);
	}
	appendf(hint, sizeof(hint), &c, "then vfiomig open %s", devs);
	return vm_error(EBUSY, what, devs, hint, "not held by one session: %s", where);
}

bool session_forward(int argc, char **argv, int cmd, int *status)
{
	struct named n[SESSION_MAX_DEVS];
	struct session_info info;
	int count, i, ret, held = 0;
	bool one_holder = true;

	if (in_holder || cmd >= argc || runs_here(argv[cmd]))
		return false;
	count = named_devices(argc, argv, cmd, n, ARRAY_SIZE(n));
	for (i = 0; i < count; i++)
		held += !access(n[i].path, F_OK);
	if (!held)
		return false;
	if (count == 1)
		return forward(&n[0], argc, argv, status);

	/* Several devices: the command runs where all of them are, or nowhere. */
	for (i = 0; i < count; i++) {
		if (access(n[i].path, F_OK))
			continue;
		ret = session_query(n[i].path, &info);
		if (ret == -ECONNREFUSED || ret == -ENOENT) {
			unlink(n[i].path);
			vm_note("removed the stale session of %s (its holder is gone)", n[i].name);
			continue;
		}
		if (ret) {
			*status = reach_error(ret, n[i].name, n[i].path);
			return true;
		}
		n[i].pid = info.pid;
	}
	held = 0;
	for (i = 0; i < count; i++) {
		held += n[i].pid != 0;
		one_holder &= n[i].pid == n[0].pid;
	}
	if (!held)
		return false;
	if (one_holder && forward(&n[0], argc, argv, status))
		return true;
	if (one_holder)
		return false; /* its holder died meanwhile: nothing holds any of them now */
	*status = vm_exit_status(refuse_split(argc, argv, cmd, n, count));
	return true;
}

/* ---- the holder ---- */

/* A line in the log of every device the holder holds. */
static void holder_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void holder_log(const char *fmt, ...)
{
	char when[32], msg[1024];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;
	int i;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime_r(&t, &tm));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (i = 0; i < nlis; i++)
		if (lis[i].logfd >= 0)
			dprintf(lis[i].logfd, "%s pid %d: %s\n", when, (int)getpid(), msg);
}

/* Points the holder's stdio back at /dev/null, away from the client's files. */
static void restore_stdio(void)
{
	int i;

	for (i = 0; i < 3; i++)
		dup2(null_fd, i);
}

/* Runs one forwarded command line with the client's stdio and cwd, then puts the holder's back. */
static int run_forwarded(int argc, char **argv, const int *fds, int *errnum)
{
	struct sigaction old_int, old_term;
	int status, ret, i;

	for (i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0) {
			*errnum = errno;
			restore_stdio();
			holder_log("cannot take the client's standard input, output and error: %s",
				   vm_strerror(*errnum));
			return VM_EXIT_FAILURE;
		}
	clearerr(stdin);
	clearerr(stdout);
	io_interrupted = 0;
	if (fchdir(fds[3])) {
		memset(&vm_opts, 0, sizeof(vm_opts));
		vm_error_reset();
		ret = vm_error(errno, "cannot enter the caller's working directory in the session of",
			       lis[0].name, NULL, NULL);
		status = vm_exit_status(ret);
		goto restore;
	}
	/* Commands install their own SIGINT/SIGTERM handlers; the holder's come back after. */
	sigaction(SIGINT, NULL, &old_int);
	sigaction(SIGTERM, NULL, &old_term);
	status = vm_run_argv(argc, argv, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	/* Interrupted, but not by the client going away: the signal was for the holder. */
	if (io_interrupted && !client_gone)
		stop_serving = 1;
	io_interrupted = 0;
restore:
	*errnum = vm_first_errno();
	fflush(stdout);
	fflush(stderr);
	restore_stdio();
	/* The holder's own directory is /, so that it pins no mount. */
	if (chdir("/"))
		holder_log("cannot return to /: %s", vm_strerror(errno));
	return status;
}

static void on_stop(int sig)
{
	(void)sig;
	stop_serving = 1;
}

/*
 * The client's socket signals (O_ASYNC) when the client goes away, as when
 * its user presses Ctrl-C: the command it asked for is then interrupted as
 * if the signal had reached it, and the holder goes on serving.
 */
static void on_client_io(int sig)
{
	(void)sig;
	client_gone = 1;
	io_interrupted = 1;
}

static void watch_client(int conn, bool on)
{
	int fl = fcntl(conn, F_GETFL);

	if (fl < 0)
		return;
	if (on)
		fcntl(conn, F_SETOWN, getpid());
	fcntl(conn, F_SETFL, on ? fl | O_ASYNC : fl & ~O_ASYNC);
}

/* Whether the client has hung up already: before O_ASYNC was set, no signal told us. */
static bool peer_gone(int conn)
{
	struct pollfd p = { .fd = conn, .events = POLLIN | POLLRDHUP };

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

/* "state set A stop" from a request's words, for the log. */
static void describe(int argc, char **argv, char *buf, size_t len)
{
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 1; i < argc && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i > 1 ? " " : "", argv[i]);
	if (off >= len && len > 4)
		strcpy(buf + len - 4, "...");
}

static void run_request(int conn, const struct ucred *cred, char *args, size_t len, uint32_t argc,
			const int *fds, struct reply *rep)
{
	char *argv[256], what[200];
	size_t off = 0;
	uint32_t i;

	if (argc == 0 || argc >= ARRAY_SIZE(argv)) {
		rep->err = EPROTO;
		return;
	}
	for (i = 0; i < argc; i++) {
		if (off >= len) {
			rep->err = EPROTO;
			return;
		}
		argv[i] = args + off;
		off += strnlen(args + off, len - off) + 1;
	}
	if (off > len) {
		rep->err = EPROTO;
		return;
	}
	argv[argc] = NULL;
	describe(argc, argv, what, sizeof(what));
	client_gone = 0;
	watch_client(conn, true);
	if (peer_gone(conn)) {
		watch_client(conn, false);
		holder_log("the client (pid %d) went away before '%s' started: not run", (int)cred->pid,
			   what);
		rep->status = VM_EXIT_FAILURE;
		rep->errnum = ECONNRESET;
		return;
	}
	holder_log("runs '%s' for uid %u (pid %d)", what, (unsigned)cred->uid, (int)cred->pid);
	rep->status = run_forwarded(argc, argv, fds, &rep->errnum);
	watch_client(conn, false);
	if (client_gone)
		holder_log("the client (pid %d) went away mid-command: interrupted '%s'", (int)cred->pid,
			   what);
	holder_log("finished '%s': exit status %d", what, rep->status);
}

/* Ends the session: no socket to find, and every device closed. */
static void teardown(void)
{
	int i;

	for (i = 0; i < nlis; i++) {
		if (lis[i].fd < 0)
			continue;
		unlink(lis[i].path);
		close(lis[i].fd);
		lis[i].fd = -1;
	}
	dev_release_all();
}

/* One connection through listener L: a STATUS or a RUN, and the reply. */
static void handle(int conn, const struct listener *l, int64_t since)
{
	char buf[SESSION_MAX_MSG], cbuf[CMSG_SPACE(sizeof(int) * SESSION_NFDS)];
	struct req_hdr *h = (struct req_hdr *)buf;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct reply rep = { .magic = SESSION_MAGIC, .pid = getpid(), .uid = geteuid(),
			     .since = since, .state = -1 };
	struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	struct timeval tv = { .tv_sec = SESSION_RECV_TIMEOUT };
	socklen_t clen = sizeof(cred);
	struct cmsghdr *cm;
	struct vm_dev *d;
	enum mig_state s;
	int fds[SESSION_NFDS], nfds = 0, i, err;
	ssize_t got;

	snprintf(rep.device, sizeof(rep.device), "%s", l->name);
	/*
	 * The request is read even from a client we refuse: closing a socket
	 * with unread data resets the connection, and the client would see
	 * ECONNRESET instead of our refusal. A client that connects and says
	 * nothing must not keep the others waiting.
	 */
	setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	do
		got = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (got < 0 && errno == EINTR && !stop_serving);
	err = errno;
	for (cm = CMSG_FIRSTHDR(&msg); got >= 0 && cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds, CMSG_DATA(cm), sizeof(int) * nfds);
		}
	if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &clen)) {
		holder_log("refused a client whose credentials could not be read: %s", vm_strerror(errno));
		rep.err = EACCES;
		goto reply;
	}
	if (cred.uid != geteuid() && cred.uid != 0) {
		holder_log("refused a command from uid %u (pid %d): not the session's owner",
			   (unsigned)cred.uid, (int)cred.pid);
		rep.err = EACCES;
		goto reply;
	}
	if (got < 0) {
		if (err == EAGAIN || err == EWOULDBLOCK)
			holder_log("dropped a client (pid %d) that sent no request within %d s",
				   (int)cred.pid, SESSION_RECV_TIMEOUT);
		else
			holder_log("lost a client (pid %d) before its request: %s", (int)cred.pid,
				   vm_strerror(err));
		return;
	}
	if (msg.msg_flags & MSG_CTRUNC) {
		holder_log("could not take the files of pid %d's request (too many open files?)",
			   (int)cred.pid);
		rep.err = EMFILE;
	} else if (got < (ssize_t)sizeof(*h) || h->magic != SESSION_MAGIC ||
		   h->len != got - sizeof(*h)) {
		holder_log("ignored a malformed request from pid %d", (int)cred.pid);
		rep.err = EPROTO;
	} else if (h->kind == REQ_STATUS) {
		d = dev_held_find(l->name);
		if (d && !vfio_mig_get_state(d->fd, &s))
			rep.state = s;
	} else if (h->kind == REQ_RUN && nfds == SESSION_NFDS) {
		run_request(conn, &cred, buf + sizeof(*h), h->len, h->argc, fds, &rep);
	} else {
		rep.err = EPROTO;
	}
reply:
	/*
	 * After `close`, the devices are closed before the client hears of
	 * it: its next command (a script's next line) must find them free.
	 */
	if (ending)
		teardown();
	/* A client that died mid-command must not take the holder down: no SIGPIPE. */
	send(conn, &rep, sizeof(rep), MSG_NOSIGNAL);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

static void pause_a_second(void)
{
	struct timespec ts = { .tv_sec = 1 };

	nanosleep(&ts, NULL);
}

/* Serves the clients of every listening socket, one at a time, until `close` or a signal. */
static void serve(int64_t since)
{
	struct pollfd pfd[SESSION_MAX_DEVS];
	bool starved = false;
	int conn, n, i;

	for (i = 0; i < nlis; i++)
		pfd[i] = (struct pollfd){ .fd = lis[i].fd, .events = POLLIN };
	while (!stop_serving && !ending) {
		n = poll(pfd, nlis, -1);
		if (n < 0) {
			if (errno != EINTR) {
				holder_log("cannot wait for clients: %s", vm_strerror(errno));
				pause_a_second();
			}
			continue;
		}
		for (i = 0; i < nlis && !stop_serving && !ending; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			conn = accept4(lis[i].fd, NULL, NULL, SOCK_CLOEXEC);
			if (conn < 0) {
				if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED)
					continue;
				/*
				 * Out of fds or memory: the client stays in the backlog,
				 * and retrying at once would spin on the same error.
				 */
				if (!starved)
					holder_log("cannot accept a client: %s; retrying every second",
						   vm_strerror(errno));
				starved = true;
				pause_a_second();
				continue;
			}
			if (starved)
				holder_log("accepts clients again");
			starved = false;
			handle(conn, &lis[i], since);
			close(conn);
		}
	}
}

/* Closes every fd but 0-2 and KEEP: the holder must not pin what its parent had open. */
static void close_other_fds(const int *keep, int nkeep)
{
	int batch[256], n, fd, i;
	struct dirent *e;
	DIR *dir;

	do {
		n = 0;
		dir = opendir("/proc/self/fd");
		if (!dir) {
			for (fd = 3; fd < 1024; fd++) {
				for (i = 0; i < nkeep && keep[i] != fd; i++)
					;
				if (i == nkeep)
					close(fd);
			}
			return;
		}
		while ((e = readdir(dir)) && n < (int)ARRAY_SIZE(batch)) {
			if (e->d_name[0] < '0' || e->d_name[0] > '9')
				continue;
			fd = atoi(e->d_name);
			if (fd <= STDERR_FILENO || fd == dirfd(dir))
				continue;
			for (i = 0; i < nkeep && keep[i] != fd; i++)
				;
			if (i == nkeep)
				batch[n++] = fd;
		}
		closedir(dir);
		for (i = 0; i < n; i++)
			close(batch[i]);
	} while (n == (int)ARRAY_SIZE(batch));
}

/* Copies an fd to a new number, so that releasing the original leaves the copy. */
static int dup_fd(int fd)
{
	return fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/*
 * The holder's devices: exactly DEVS, whether the process that forked us
 * held them, held others (a shell, a batch) or only opened them.
 */
static int take_devices(struct vm_dev *devs, int n)
{
	struct vm_dev mine[SESSION_MAX_DEVS];
	int i, ret;

	for (i = 0; i < n; i++) {
		mine[i] = devs[i];
		mine[i].owner = NULL;
		mine[i].fd = dup_fd(devs[i].fd);
		mine[i].group_fd = dup_fd(devs[i].group_fd);
		mine[i].container_fd = dup_fd(devs[i].container_fd);
		mine[i].iommufd = dup_fd(devs[i].iommufd);
		mine[i].data_fd = dup_fd(devs[i].data_fd);
		if (mine[i].fd < 0)
			return -EMFILE;
	}
	/* Our copies of what the parent held: closing them here closes nothing for it. */
	dev_release_all();
	dev_hold_opens(false);
	for (i = 0; i < n; i++) {
		ret = dev_hold(&mine[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* The holder process: never returns into the command that forked it, or that command would finish twice. */
static void holder_main(struct vm_dev *devs, int n, int ready, int64_t since)
{
	struct sigaction sa = { .sa_handler = on_stop };
	int keep[3 * SESSION_MAX_DEVS + 8 * SESSION_MAX_DEVS], nkeep = 0, i;
	pid_t self = getpid();
	struct vm_dev *d;
	char names[SESSION_MAX_DEVS * 66] = "", log[PATH_MAX + 8];
	size_t off = 0;

	in_holder = true;
	if (chdir("/"))
		_exit(1);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0)
		_exit(1);
	restore_stdio();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_client_io;
	sigaction(SIGIO, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (take_devices(devs, n))
		_exit(1);
	for (i = 0; i < nlis; i++) {
		snprintf(log, sizeof(log), "%.*s.log", (int)(strlen(lis[i].path) - 5), lis[i].path);
		lis[i].logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		keep[nkeep++] = lis[i].fd;
		keep[nkeep++] = lis[i].logfd;
		off += snprintf(names + off, sizeof(names) - off, "%s%s", i ? ", " : "", lis[i].name);
	}
	keep[nkeep++] = null_fd;
	keep[nkeep++] = ready;
	for (i = 0; (d = dev_held_nth(i)); i++) {
		keep[nkeep++] = d->fd;
		keep[nkeep++] = d->group_fd;
		keep[nkeep++] = d->container_fd;
		keep[nkeep++] = d->iommufd;
		keep[nkeep++] = d->data_fd;
	}
	close_other_fds(keep, nkeep);
	holder_log("holds %s", names);
	if (write(ready, &self, sizeof(self)) != (ssize_t)sizeof(self))
		_exit(1);
	close(ready);
	serve(since);
	holder_log("session of %s ends%s", names, stop_serving ? " (signal)" : "");
	teardown();
	_exit(0);
}

/*
 * The socket directory must be ours and private: anyone who can enter it
 * can reach the sockets (the holder still checks credentials, but a
 * directory others can write lets them plant sockets of their own).
 */
static int make_dir(const char *dir, char *why, size_t len, char *hint, size_t hlen)
{
	bool made = !mkdir(dir, 0700);
	struct stat st;

	if (!made && errno != EEXIST)
		return -errno;
	/* lstat: a symlink put in its place (in /tmp, say) is not followed. */
	if (lstat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "it is not a directory");
		snprintf(hint, hlen, "remove it, or set VFIOMIG_RUNTIME_DIR to a directory of yours");
		return -ENOTDIR;
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, len, "it belongs to uid %u, not to us (uid %u)", (unsigned)st.st_uid,
			 (unsigned)geteuid());
		snprintf(hint, hlen, "set VFIOMIG_RUNTIME_DIR to a directory of yours");
		return -EPERM;
	}
	/* We just made it: the umask may have taken bits we need. */
	if (made && (st.st_mode & 07777) != 0700 && chmod(dir, 0700))
		return -errno;
	if (!made && (st.st_mode & 077)) {
		snprintf(why, len, "its mode is %04o: other users could reach the sessions' sockets",
			 (unsigned)(st.st_mode & 07777));
		snprintf(hint, hlen, "chmod 700 %s", dir);
		return -EPERM;
	}
	return 0;
}

/* Undoes the sockets of a start that failed. */
static void unlisten(void)
{
	while (nlis > 0) {
		nlis--;
		close(lis[nlis].fd);
		unlink(lis[nlis].path);
	}
}

int session_start(struct vm_dev *devs, int n, pid_t *pid)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[PATH_MAX], why[256] = "", hint[PATH_MAX + 16] = "";
	int ready[2], ret, i, status;
	int64_t since = time(NULL);
	pid_t mid, got;
	ssize_t r;

	if (n < 1 || n > SESSION_MAX_DEVS)
		return vm_error(E2BIG, "cannot open a session for", devs[0].name, NULL,
				"a session holds 1 to %d devices", SESSION_MAX_DEVS);
	ret = session_dir(dir, sizeof(dir));
	if (!ret)
		ret = make_dir(dir, why, sizeof(why), hint, sizeof(hint));
	if (ret)
		return vm_error(ret, "cannot use the session directory", dir, hint[0] ? hint : NULL,
				why[0] ? "%s" : NULL, why);
	nlis = 0;
	for (i = 0; i < n; i++) {
		struct listener *l = &lis[nlis];

		snprintf(l->name, sizeof(l->name), "%s", devs[i].name);
		l->logfd = -1;
		ret = session_path(l->name, l->path, sizeof(l->path));
		if (ret) {
			ret = vm_error(ret, "cannot name the session socket of", l->name, NULL, NULL);
			goto unlisten;
		}
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%.107s", l->path);
		l->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (l->fd < 0) {
			ret = vm_error(errno, "cannot create the session socket of", l->name, NULL, NULL);
			goto unlisten;
		}
		if (bind(l->fd, (struct sockaddr *)&sun, sizeof(sun))) {
			ret = vm_error(errno, "cannot listen on", l->path, NULL, NULL);
			close(l->fd);
			goto unlisten;
		}
		nlis++;
		if (listen(l->fd, 16)) {
			ret = vm_error(errno, "cannot listen on", l->path, NULL, NULL);
			goto unlisten;
		}
	}
	if (pipe2(ready, O_CLOEXEC)) {
		ret = vm_error(errno, "cannot start the holder of", devs[0].name, NULL, NULL);
		goto unlisten;
	}
	fflush(stdout);
	fflush(stderr);
	/*
	 * Twice: the holder is a grandchild, so that it is nobody's child
	 * once the middle process is reaped; a shell or batch that opens
	 * sessions would otherwise keep each ended holder as a zombie.
	 */
	mid = fork();
	if (mid == 0) {
		close(ready[0]);
		setsid();
		got = fork();
		if (got == 0)
			holder_main(devs, n, ready[1], since);
		_exit(got < 0);
	}
	close(ready[1]);
	if (mid < 0) {
		ret = vm_error(errno, "cannot start the holder of", devs[0].name, NULL, NULL);
		close(ready[0]);
		goto unlisten;
	}
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
		;
	do
		r = read(ready[0], pid, sizeof(*pid));
	while (r < 0 && errno == EINTR);
	close(ready[0]);
	if (r != (ssize_t)sizeof(*pid)) {
		snprintf(why, sizeof(why), "see %.*s.log", (int)(strlen(lis[0].path) - 5), lis[0].path);
		ret = vm_error(ECHILD, "cannot start the holder of", devs[0].name, why,
			       "the holder ended before it was ready");
		goto unlisten;
	}
	/* The holder has its own copies of the sockets. */
	for (i = 0; i < nlis; i++)
		close(lis[i].fd);
	nlis = 0;
	return 0;

unlisten:
	unlisten();
	return ret;
}
