// SPDX-License-Identifier: GPL-2.0-or-later
/* Sessions over a unix socket: the holder keeps a device open; clients pass it their argv, stdio and cwd with SCM_RIGHTS. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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
 */
#define SESSION_MAGIC 0x31534d56u /* "VMS1" */
#define SESSION_MAX_MSG 65536
#define SESSION_NFDS 4

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

/* Commands that never touch a held device, or manage sessions themselves. */
static bool runs_here(const char *cmd)
{
	static const char *const local[] = { "open", "sessions", "help", "blob" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(local); i++)
		if (!strcmp(cmd, local[i]))
			return true;
	return false;
}

bool session_forward(int argc, char **argv, int cmd, int *status)
{
	char name[64], path[PATH_MAX];
	struct reply rep;
	int fds[SESSION_NFDS] = { STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO, -1 };
	int i, ret;

	if (in_holder || cmd >= argc || runs_here(argv[cmd]))
		return false;
	for (i = cmd + 1; i < argc; i++) {
		if (argv[i][0] == '-' || dev_canonical(argv[i], name, sizeof(name)) ||
		    session_path(name, path, sizeof(path)) || access(path, F_OK))
			continue;
		fds[3] = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fds[3] < 0) {
			*status = vm_exit_status(vm_error(errno, "cannot pass the working directory to the session of",
							  name, NULL, NULL));
			return true;
		}
		fflush(stdout);
		fflush(stderr);
		ret = request(path, REQ_RUN, argc, argv, fds, SESSION_NFDS, &rep);
		close(fds[3]);
		if (ret == -ECONNREFUSED || ret == -ENOENT) {
			/* The holder died without cleaning up: its socket is a leftover. */
			unlink(path);
			vm_note("removed the stale session of %s (its holder is gone); running here", name);
			return false;
		}
		if (ret == -EPERM) {
			ret = vm_error(EACCES, "session refused", name,
				       "only the user who opened the session, or root, may use it",
				       "the holder at %s belongs to another user", path);
		} else if (ret == -EACCES) {
			ret = vm_error(EACCES, "cannot reach the session of", name,
				       "the session belongs to another user",
				       "permission denied on %s", path);
		} else if (ret == -EPROTO) {
			ret = vm_error(EPROTO, "session failed", name, "see 'vfiomig sessions'",
				       "the holder ended without an answer");
		} else if (ret) {
			ret = vm_error(ret, "cannot reach the session of", name, NULL, NULL);
		}
		if (!ret)
			vm_set_first_errno(rep.errnum);
		*status = ret ? (int)vm_exit_status(ret) : rep.status;
		return true;
	}
	return false;
}

/* ---- the holder ---- */

static void holder_log(int logfd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void holder_log(int logfd, const char *fmt, ...)
{
	char when[32];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;

	if (logfd < 0)
		return;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", localtime_r(&t, &tm));
	dprintf(logfd, "%s pid %d: ", when, (int)getpid());
	va_start(ap, fmt);
	vdprintf(logfd, fmt, ap);
	va_end(ap);
	dprintf(logfd, "\n");
}

/* Runs one forwarded command line with the client's stdio and cwd, then restores ours. */
static int run_forwarded(char *buf, size_t len, uint32_t argc, const int *fds, int *errnum_out)
{
	struct sigaction old_int, old_term;
	int errnum;
	char *argv[256];
	int saved[SESSION_NFDS], status, i;
	size_t off = 0;

	*errnum_out = EINVAL;
	if (argc == 0 || argc >= ARRAY_SIZE(argv))
		return VM_EXIT_USAGE;
	for (i = 0; i < (int)argc; i++) {
		if (off >= len)
			return VM_EXIT_USAGE;
		argv[i] = buf + off;
		off += strnlen(buf + off, len - off) + 1;
	}
	argv[argc] = NULL;
	if (off > len)
		return VM_EXIT_USAGE;

	saved[3] = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (i = 0; i < 3; i++) {
		saved[i] = fcntl(i, F_DUPFD_CLOEXEC, 10);
		dup2(fds[i], i);
	}
	if (fchdir(fds[3]))
		return VM_EXIT_FAILURE;
	clearerr(stdin);
	clearerr(stdout);
	io_interrupted = 0;
	client_gone = 0;
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
	errnum = vm_first_errno();
	fflush(stdout);
	fflush(stderr);
	for (i = 0; i < 3; i++) {
		dup2(saved[i], i);
		close(saved[i]);
	}
	if (fchdir(saved[3]))
		status = VM_EXIT_FAILURE;
	close(saved[3]);
	*errnum_out = errnum;
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

static void serve(int lfd, struct vm_dev *d, int logfd, int64_t since)
{
	char buf[SESSION_MAX_MSG], cbuf[CMSG_SPACE(sizeof(int) * SESSION_NFDS)];
	struct req_hdr *h = (struct req_hdr *)buf;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	enum mig_state s;
	int conn, fds[SESSION_NFDS], nfds, i;
	ssize_t got;

	while (!stop_serving && !ending) {
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct reply rep = { .magic = SESSION_MAGIC, .pid = getpid(), .uid = geteuid(),
				     .since = since, .state = -1 };
		struct cmsghdr *cm;

		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (conn < 0)
			continue; /* EINTR from SIGTERM ends the loop; anything else is the client's */
		nfds = 0;
		got = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
		for (cm = CMSG_FIRSTHDR(&msg); got >= 0 && cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
				nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
				memcpy(fds, CMSG_DATA(cm), sizeof(int) * nfds);
			}
		snprintf(rep.device, sizeof(rep.device), "%s", d->name);
		if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &clen) ||
		    (cred.uid != geteuid() && cred.uid != 0)) {
			holder_log(logfd, "refused a command from uid %u (pid %d): not the session's owner",
				   (unsigned)cred.uid, (int)cred.pid);
			rep.err = EACCES;
		} else if (got < (ssize_t)sizeof(*h) || h->magic != SESSION_MAGIC ||
			   h->len != got - sizeof(*h)) {
			holder_log(logfd, "ignored a malformed request from pid %d", (int)cred.pid);
			rep.err = EPROTO;
		} else if (h->kind == REQ_STATUS) {
			if (!vfio_mig_get_state(d->fd, &s))
				rep.state = s;
		} else if (h->kind == REQ_RUN && nfds == SESSION_NFDS) {
			holder_log(logfd, "runs a command of uid %u (pid %d)", (unsigned)cred.uid,
				   (int)cred.pid);
			watch_client(conn, true);
			rep.status = run_forwarded(buf + sizeof(*h), h->len, h->argc, fds, &rep.errnum);
			watch_client(conn, false);
			if (client_gone)
				holder_log(logfd, "the client (pid %d) went away mid-command: interrupted it",
					   (int)cred.pid);
		} else {
			rep.err = EPROTO;
		}
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		/* A client that died mid-command must not take the holder down: no SIGPIPE. */
		send(conn, &rep, sizeof(rep), MSG_NOSIGNAL);
		close(conn);
	}
}

/* Puts the holder's own stdio on /dev/null: it outlives the terminal of `vfiomig open`. */
static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

static int make_dir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	if (stat(dir, &st))
		return -errno;
	/* Someone else's directory would let them plant or read our sockets. */
	if (st.st_uid != geteuid())
		return -EPERM;
	return 0;
}

int session_start(struct vm_dev *d, pid_t *pid)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct sigaction sa = { .sa_handler = on_stop };
	char dir[PATH_MAX], path[PATH_MAX], log[PATH_MAX + 8], ok = 0;
	int lfd, ready[2], logfd, ret;
	int64_t since = time(NULL);

	ret = session_dir(dir, sizeof(dir));
	if (!ret)
		ret = make_dir(dir);
	if (ret)
		return vm_error(ret, "cannot use the session directory", dir,
				ret == -EPERM ? "set VFIOMIG_RUNTIME_DIR to a directory of yours" : NULL,
				ret == -EPERM ? "it belongs to another user" : NULL);
	ret = session_path(d->name, path, sizeof(path));
	if (ret)
		return vm_error(ret, "cannot name the session socket of", d->name, NULL, NULL);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%.107s", path);
	snprintf(log, sizeof(log), "%.*s.log", (int)(strlen(path) - 5), path);

	lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return vm_error(errno, "cannot create the session socket of", d->name, NULL, NULL);
	if (bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) || listen(lfd, 16)) {
		ret = vm_error(errno, "cannot listen on", path, NULL, NULL);
		goto close_lfd;
	}
	if (pipe2(ready, O_CLOEXEC)) {
		ret = vm_error(errno, "cannot start the holder of", d->name, NULL, NULL);
		goto unlink_path;
	}
	fflush(stdout);
	fflush(stderr);
	*pid = fork();
	if (*pid < 0) {
		ret = vm_error(errno, "cannot start the holder of", d->name, NULL, NULL);
		close(ready[0]);
		close(ready[1]);
		goto unlink_path;
	}
	if (*pid == 0) {
		/*
		 * The holder is a program of its own from here: it never returns
		 * into the command that forked it, or that command would finish
		 * twice. It leaves with _exit() once the session ends.
		 */
		close(ready[0]);
		in_holder = true;
		setsid();
		detach_stdio();
		logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sa.sa_handler = on_client_io;
		sigaction(SIGIO, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		dev_hold(d);
		holder_log(logfd, "holds %s", d->name);
		if (write(ready[1], "1", 1) != 1)
			_exit(1);
		close(ready[1]);
		serve(lfd, d, logfd, since);
		holder_log(logfd, "session of %s ends%s", d->name, stop_serving ? " (signal)" : "");
		unlink(path);
		dev_release_all();
		_exit(0);
	}
	close(ready[1]);
	if (read(ready[0], &ok, 1) != 1 || ok != '1')
		ret = vm_error(ECHILD, "cannot start the holder of", d->name, log,
			       "the holder ended before it was ready");
	close(ready[0]);
	close(lfd);
	return ret;

unlink_path:
	unlink(path);
close_lfd:
	close(lfd);
	return ret;
}
