// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shmr-tracker: unlinks the posix-backend regions that processes created
 * with SHMR_REGION_PROCESS once those processes are gone, SIGKILL included.
 *
 * Started by libshmr (lib/tracker.c), never by hand: one per process tree,
 * with its socket as fd 3 (protocol in lib/tracker.h). It learns of a
 * creator's death from the pidfd the creator sent with its registration,
 * which becomes readable when the whole thread group has exited (not when
 * only the leader thread has, and not at execve()): the region lives as
 * long as its creator process, as with the module, whoever else inherited
 * it. It leaves when every process that holds the other end of the socket
 * has closed it (exit or execve) and no registered creator is alive.
 *
 * It ignores SIGINT, SIGTERM and SIGHUP (as the standard library's
 * resource tracker does), runs in a session of its own and holds nothing
 * but /dev/null, its socket, /dev/shm and the pidfds.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "../tracker.h"

/* A registered name. */
struct entry {
	struct entry *hnext;		/* hash chain */
	struct entry *wprev, *wnext;	/* the watcher's list */
	struct watcher *w;
	dev_t dev;
	ino_t ino;
	uid_t uid;			/* the registering sender's euid */
	char name[256];
};

/* A creator process and what it registered. */
struct watcher {
	int pidfd;
	pid_t pid;			/* as fdinfo shows it; <= 0 if unknown */
	struct entry *entries;
};

static struct watcher **watchers;
static size_t nwatchers, capwatchers;

static struct entry **table;
static size_t nbuckets, nentries;

static int shm_dir = -1;

static size_t hash(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static int table_grow(void)
{
	size_t n = nbuckets ? nbuckets * 2 : 64, i;
	struct entry **t = calloc(n, sizeof(*t)), *e, *next;

	if (!t)
		return -1;
	for (i = 0; i < nbuckets; i++) {
		for (e = table[i]; e; e = next) {
			next = e->hnext;
			e->hnext = t[hash(e->name) % n];
			t[hash(e->name) % n] = e;
		}
	}
	free(table);
	table = t;
	nbuckets = n;
	return 0;
}

static void entry_del(struct entry *e)
{
	struct entry **p = &table[hash(e->name) % nbuckets];

	while (*p != e)
		p = &(*p)->hnext;
	*p = e->hnext;
	if (e->wprev)
		e->wprev->wnext = e->wnext;
	else
		e->w->entries = e->wnext;
	if (e->wnext)
		e->wnext->wprev = e->wprev;
	nentries--;
	free(e);
}

/* Does name still name the registered file? */
static bool still_named(const struct entry *e)
{
	struct stat st;

	return !fstatat(shm_dir, e->name, &st, AT_SYMLINK_NOFOLLOW) &&
	       st.st_dev == e->dev && st.st_ino == e->ino;
}

static void watcher_del(size_t i)
{
	struct watcher *w = watchers[i];

	while (w->entries)
		entry_del(w->entries);
	close(w->pidfd);
	free(w);
	watchers[i] = watchers[--nwatchers];
}

/*
 * The creator is gone: unlink each name it registered that still names its
 * file, if the sender could have unlinked it itself (/dev/shm is sticky:
 * the file's owner may, and root). Between the check and the unlink
 * another process could unlink the name and create a new file of that
 * name; there is no unlink-if-this-inode call to close that window.
 */
static void creator_gone(size_t i)
{
	struct entry *e;
	struct stat st;

	for (e = watchers[i]->entries; e; e = e->wnext) {
		if (fstatat(shm_dir, e->name, &st, AT_SYMLINK_NOFOLLOW) ||
		    st.st_dev != e->dev || st.st_ino != e->ino)
			continue;
		if (e->uid != 0 && st.st_uid != e->uid)
			continue;
		unlinkat(shm_dir, e->name, 0);
	}
	watcher_del(i);
}

static bool alive(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

/* The pid a pidfd refers to, from its fdinfo; 0 if it cannot be read. */
static pid_t pidfd_pid(int pidfd)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;
	long pid;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "\nPid:");
	if (!p)
		return 0;
	pid = strtol(p + 5, NULL, 10);
	return pid > 0 && pid <= INT32_MAX ? (pid_t)pid : 0;
}

/*
 * The watcher of the process behind pidfd (taking pidfd over): an existing
 * one when the same pid is watched and alive (a live process owns its pid,
 * so both pidfds name it), else a new one.
 */
static struct watcher *watcher_for(int pidfd)
{
	pid_t pid = pidfd_pid(pidfd);
	struct watcher *w;
	size_t i;

	for (i = 0; pid > 0 && i < nwatchers; i++) {
		if (watchers[i]->pid == pid && alive(watchers[i]->pidfd) && alive(pidfd)) {
			close(pidfd);
			return watchers[i];
		}
	}
	if (nwatchers == capwatchers) {
		size_t n = capwatchers ? capwatchers * 2 : 16;
		struct watcher **v = realloc(watchers, n * sizeof(*v));

		if (!v)
			return NULL;
		watchers = v;
		capwatchers = n;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->pidfd = pidfd;
	w->pid = pid;
	watchers[nwatchers++] = w;
	return w;
}

static bool valid_name(const char *name, size_t cap)
{
	size_t len = strnlen(name, cap);

	return len > 0 && len < cap && !memchr(name, '/', len) && strcmp(name, ".") &&
	       strcmp(name, "..");
}

static void do_register(const struct shmr__trk_msg *m, int fd, int pidfd,
			const struct ucred *cred)
{
	struct watcher *w;
	struct entry *e;
	struct stat st;
	size_t b;

	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (nentries >= nbuckets * 2 && table_grow())) {
		close(pidfd);
		return;
	}
	e = calloc(1, sizeof(*e));
	w = e ? watcher_for(pidfd) : NULL;
	if (!w) {
		free(e);
		close(pidfd);
		return;
	}
	e->dev = st.st_dev;
	e->ino = st.st_ino;
	e->uid = cred->uid;
	memcpy(e->name, m->name, sizeof(e->name));
	e->w = w;
	e->wnext = w->entries;
	if (w->entries)
		w->entries->wprev = e;
	w->entries = e;
	b = hash(e->name) % nbuckets;
	e->hnext = table[b];
	table[b] = e;
	nentries++;
}

static void do_unregister(const struct shmr__trk_msg *m)
{
	struct entry *e, *next;
	size_t i;

	if (!nbuckets)
		return;
	for (e = table[hash(m->name) % nbuckets]; e; e = next) {
		next = e->hnext;
		if (!strcmp(e->name, m->name) && !still_named(e))
			entry_del(e);
	}
	/* a creator with nothing left to clean up needs no watching */
	for (i = nwatchers; i-- > 0;)
		if (!watchers[i]->entries)
			watcher_del(i);
}

static void close_fds(struct msghdr *mh)
{
	struct cmsghdr *c;
	size_t i, n;
	int fd;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
}

/* Read one message: 1 handled (or ignored), 0 end of file, -1 nothing now. */
static int handle_one(int sock)
{
	union {
		char buf[CMSG_SPACE(4 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct shmr__trk_msg m;
	struct iovec iov = { &m, sizeof(m) };
	const struct ucred *cred = NULL;
	int fds[2], nfds = 0, rights = 0;
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	n = recvmsg(sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EINTR ? 1 : (errno == EAGAIN ? -1 : 0);
	if (n == 0 && !mh.msg_controllen)
		return 0;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_RIGHTS && rights++ == 0 &&
		    c->cmsg_len == CMSG_LEN(2 * sizeof(int))) {
			memcpy(fds, CMSG_DATA(c), sizeof(fds));
			nfds = 2;
		} else if (c->cmsg_type == SCM_CREDENTIALS &&
			   c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
			cred = (const struct ucred *)CMSG_DATA(c);
		}
	}
	if ((size_t)n != sizeof(m) || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    m.magic != SHMR_TRK_MAGIC || m.version != SHMR_TRK_VERSION ||
	    !valid_name(m.name, sizeof(m.name))) {
		close_fds(&mh);
		return 1;
	}
	/* exactly two fds in one SCM_RIGHTS: else every fd received is closed below */
	if (m.op == SHMR_TRK_REGISTER && nfds == 2 && rights == 1 && cred) {
		do_register(&m, fds[0], fds[1], cred);	/* takes fds[1] */
		close(fds[0]);	/* the region: never kept, it would keep its memory */
		return 1;
	}
	close_fds(&mh);
	if (m.op == SHMR_TRK_UNREGISTER)
		do_unregister(&m);
	return 1;
}

static void run(int sock)
{
	struct pollfd *p = NULL;
	size_t cap = 0, i, n;

	for (;;) {
		if (sock < 0 && !nwatchers)
			return;
		n = nwatchers + 1;
		if (n > cap) {
			struct pollfd *q = realloc(p, n * 2 * sizeof(*q));

			if (q) {
				p = q;
				cap = n * 2;
			} else if (cap) {
				n = cap;	/* watch the first ones; the others later */
			} else {
				sleep(1);
				continue;
			}
		}
		p[0].fd = sock;		/* -1 once closed: poll() skips it */
		p[0].events = POLLIN;
		for (i = 1; i < n; i++) {
			p[i].fd = watchers[i - 1]->pidfd;
			p[i].events = POLLIN;
		}
		if (poll(p, n, -1) < 0)
			continue;
		/* deaths first: the watchers array changes below */
		for (i = n; i-- > 1;)
			if (p[i].revents)
				creator_gone(i - 1);
		if (sock >= 0 && p[0].revents) {
			int r;

			while ((r = handle_one(sock)) > 0)
				;
			if (r == 0) {
				close(sock);
				sock = -1;
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int type;
	socklen_t len = sizeof(type);
	pid_t pid;

	(void)argv;
	if (argc != 1 || getsockopt(SHMR_TRK_FD, SOL_SOCKET, SO_TYPE, &type, &len) ||
	    type != SOCK_SEQPACKET) {
		fprintf(stderr, "shmr-tracker: started by libshmr only, with its socket as fd %d\n",
			SHMR_TRK_FD);
		return 2;
	}
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (chdir("/"))
		return 1;
	shm_dir = open(SHMR_SHM_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (shm_dir < 0 || table_grow())
		return 1;
	/* one pidfd per live creator */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	/* the library waits for this process: the tracker itself is its child */
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid > 0)
		_exit(0);
	run(SHMR_TRK_FD);
	return 0;
}
