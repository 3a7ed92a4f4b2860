// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SHMR_REGION_PROCESS on the posix backend, the library's half: start the
 * tracker helper (lib/tracker/shmr-tracker.c) once per process tree and
 * tell it which names this process created and which were unlinked. The
 * protocol is in tracker.h, the design in docs/library.md.
 */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "region.h"
#include "tracker.h"

/* lib/lib.mk passes $(LIBDIR)/shmr/shmr-tracker (not when built some other way) */
#ifndef SHMR_TRACKER_INSTALLED
#define SHMR_TRACKER_INSTALLED "/usr/local/lib/shmr/shmr-tracker"
#endif

/*
 * trk_fd is this process tree's end of the socket: inherited by fork()
 * (children share the tracker), closed by execve(). trk_lock serialises
 * its use, so that a thread never sends on a number another thread has
 * just closed and the kernel has handed out again; fork() takes it too, so
 * a child never inherits a half-started tracker.
 */
static pthread_mutex_t trk_lock = PTHREAD_MUTEX_INITIALIZER;
static int trk_fd = -1;
static dev_t trk_dev;		/* trk_fd's socket, to notice that the program */
static ino_t trk_ino;		/* closed the fd and the number was reused */
static char trk_path[PATH_MAX];	/* the helper; "" when there is none */

static void trk_prepare(void)
{
	pthread_mutex_lock(&trk_lock);
}

static void trk_release(void)
{
	pthread_mutex_unlock(&trk_lock);
}

__attribute__((constructor)) static void trk_init(void)
{
	pthread_atfork(trk_prepare, trk_release, trk_release);
}

static int pidfd_self(void)
{
	long fd = syscall(SYS_pidfd_open, getpid(), 0);

	return fd < 0 ? -errno : (int)fd;
}

static int executable(const char *path)
{
	struct stat st;

	if (access(path, X_OK))
		return -errno;
	if (stat(path, &st))
		return -errno;
	return S_ISREG(st.st_mode) ? 0 : -EACCES;
}

static int set_path(const char *path)
{
	int err;

	if (strlen(path) >= sizeof(trk_path))
		return -ENAMETOOLONG;
	err = executable(path);
	if (!err)
		strcpy(trk_path, path);
	return err;
}

/*
 * The helper, in this order: SHMR_TRACKER (read with secure_getenv(), so
 * not in a set-user-ID program); "shmr/shmr-tracker" in the directory of
 * the object libshmr is linked into (libshmr.so in its libdir or the build
 * tree, the Python extension beside its package; not in a secure-execution
 * process, where that path is not the system's to trust); the installed
 * path. An explicit SHMR_TRACKER is the only candidate when it is set.
 */
static int find_helper(void)
{
	const char *env = secure_getenv("SHMR_TRACKER");
	char obj[PATH_MAX], cand[PATH_MAX + 32], *slash;
	Dl_info info;

	trk_path[0] = '\0';
	if (env && *env)
		return set_path(env);
	if (!getauxval(AT_SECURE) && dladdr((void *)find_helper, &info) && info.dli_fname &&
	    strchr(info.dli_fname, '/') && realpath(info.dli_fname, obj)) {
		slash = strrchr(obj, '/');
		*slash = '\0';
		snprintf(cand, sizeof(cand), "%s/shmr/shmr-tracker", obj);
		if (!set_path(cand))
			return 0;
	}
	return set_path(SHMR_TRACKER_INSTALLED);
}

int shmr__tracker_probe(void)
{
	int err = find_helper();
	int fd;

	if (err)
		return err;
	fd = pidfd_self();	/* Linux 5.3; a seccomp filter may refuse it */
	if (fd < 0) {
		trk_path[0] = '\0';
		return fd;
	}
	close(fd);
	return 0;
}

/*
 * Start a tracker; called with trk_lock held. posix_spawn() (vfork-like,
 * thread-safe, no atfork handlers) of the helper with an empty environment
 * (a set-user-ID caller's LD_PRELOAD must not reach it), the default signal
 * dispositions and mask, a session of its own (terminal signals to the
 * caller's process group do not reach it), /dev/null as stdin, stdout and
 * stderr (it must not hold a pipe a parent waits on), its socket as fd 3 and
 * every other fd closed (a handle, a pipe, a listening socket of the caller
 * would live as long as the tracker). The helper forks and the first
 * process exits once its setup is done: the tracker is nobody's surprise
 * child, and its status says whether it started.
 */
static int spawn_tracker(void)
{
	char *argv[] = { "shmr-tracker", NULL }, *envp[] = { NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	struct stat sb;
	int sv[2], on = 1, err, st;
	pid_t pid;

	if (!trk_path[0])
		return -EOPNOTSUPP;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	/* before any message is queued: the helper reads the senders' credentials */
	if (setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on))) {
		err = -errno;
		goto out_close;
	}
	sigemptyset(&none);
	sigfillset(&all);
	err = posix_spawn_file_actions_init(&fa);
	if (err) {
		err = -err;
		goto out_close;
	}
	err = posix_spawnattr_init(&at);
	if (err) {
		err = -err;
		goto out_fa;
	}
	/* the socket first: it may itself be fd 0, 1 or 2 */
	err = posix_spawn_file_actions_adddup2(&fa, sv[1], SHMR_TRK_FD);
	err = err ? err : posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	err = err ? err : posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	err = err ? err : posix_spawn_file_actions_adddup2(&fa, 1, 2);
	err = err ? err : posix_spawn_file_actions_addclosefrom_np(&fa, SHMR_TRK_FD + 1);
	err = err ? err : posix_spawnattr_setsigmask(&at, &none);
	err = err ? err : posix_spawnattr_setsigdefault(&at, &all);
	err = err ? err : posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
						   POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
	err = err ? err : posix_spawn(&pid, trk_path, &fa, &at, argv, envp);
	posix_spawnattr_destroy(&at);
out_fa:
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		err = err > 0 ? -err : err;
		goto out_close;
	}
	close(sv[1]);
	sv[1] = -1;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno == EINTR)
			continue;
		/* SIGCHLD ignored, or another thread's wait(): the status is lost */
		st = 0;
		break;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		err = -ECHILD;
		goto out_close;
	}
	if (fstat(sv[0], &sb)) {
		err = -errno;
		goto out_close;
	}
	trk_fd = sv[0];
	trk_dev = sb.st_dev;
	trk_ino = sb.st_ino;
	return 0;

out_close:
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return err;
}

/*
 * Is trk_fd still our socket? A program that closes every fd it does not
 * know (daemon code does) may have closed it, and the number may now be
 * another file: never write a message there. Called with trk_lock held.
 */
static bool trk_fd_valid(void)
{
	struct stat sb;

	if (trk_fd < 0)
		return false;
	if (!fstat(trk_fd, &sb) && S_ISSOCK(sb.st_mode) && sb.st_dev == trk_dev &&
	    sb.st_ino == trk_ino)
		return true;
	trk_fd = -1;	/* not ours any more: not ours to close either */
	return false;
}

static void msg_init(struct shmr__trk_msg *m, int op, const char *fname)
{
	memset(m, 0, sizeof(*m));
	m->magic = SHMR_TRK_MAGIC;
	m->version = SHMR_TRK_VERSION;
	m->op = (uint16_t)op;
	snprintf(m->name, sizeof(m->name), "%s", fname);
}

/* One message; fds (region fd, pidfd) and our credentials when fds are given. */
static int send_msg(int sock, const struct shmr__trk_msg *m, const int *fds, int nfds)
{
	union {
		char buf[CMSG_SPACE(2 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)m, sizeof(*m) };
	struct ucred cred;
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
		/* the kernel checks these: our pid, and a uid we have */
		cred.pid = getpid();
		cred.uid = geteuid();
		cred.gid = getegid();
		c = CMSG_NXTHDR(&mh, c);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(cred));
		memcpy(CMSG_DATA(c), &cred, sizeof(cred));
	}
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(*m) ? 0 : -EMSGSIZE;
}

int shmr__tracker_register(int fd, const char *fname)
{
	struct shmr__trk_msg m;
	int fds[2], tries, err;

	msg_init(&m, SHMR_TRK_REGISTER, fname);
	fds[0] = fd;
	fds[1] = pidfd_self();
	if (fds[1] < 0)
		return fds[1];
	pthread_mutex_lock(&trk_lock);
	for (tries = 0; tries < 2; tries++) {
		if (!trk_fd_valid()) {
			err = spawn_tracker();
			if (err)
				break;
		}
		err = send_msg(trk_fd, &m, fds, 2);
		if (err != -EPIPE && err != -ECONNRESET)
			break;
		/*
		 * The tracker is gone (killed): start another. What the old
		 * one watched is lost; this registration is not.
		 */
		close(trk_fd);
		trk_fd = -1;
	}
	pthread_mutex_unlock(&trk_lock);
	close(fds[1]);
	return err;
}

void shmr__tracker_unregister(const char *fname)
{
	struct shmr__trk_msg m;

	msg_init(&m, SHMR_TRK_UNREGISTER, fname);
	pthread_mutex_lock(&trk_lock);
	/* only to the tracker this process already talks to: nothing to forget otherwise */
	if (trk_fd_valid() && send_msg(trk_fd, &m, NULL, 0) == -EPIPE) {
		close(trk_fd);
		trk_fd = -1;
	}
	pthread_mutex_unlock(&trk_lock);
}
