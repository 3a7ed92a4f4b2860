// SPDX-License-Identifier: GPL-2.0
/*
 * region_tracker: SHMR_REGION_PROCESS on the posix backend, through the
 * tracker helper (lib/tracker.c, lib/tracker/shmr-tracker.c): what the
 * helper is and holds, one per process tree, signals, its own exit, being
 * killed, threads, a leader thread that exits first, a helper that is
 * missing or broken, malformed messages and a sender that does not own the
 * file. The lifetime cases shared with the module are in
 * tests/region_tests.h (tests/host/region_api).
 *
 * Each test makes itself a child subreaper, so the tracker its processes
 * start (a grandchild that is orphaned at once) becomes its child: it can
 * find it, look at it and wait for it.
 */
#include <dirent.h>
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmr.h"
#include "tracker_env.h"
#include "../lib/tracker.h"

#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#pragma GCC diagnostic ignored "-Wformat-truncation"	/* names fit: tname() */
#include "kselftest_harness.h"

__attribute__((constructor)) static void force_posix(void)
{
	uint64_t f = 0;

	/* a copy of this program run by setuid_ignores_shmr_tracker */
	if (getenv("SHMR_TRK_PROBE")) {
		shmr_features(&f);
		printf("%s %s\n", shmr_backend_name(),
		       (f & SHMR_FEATURE_PROCESS) ? "process" : "no-process");
		fflush(stdout);
		_exit(0);
	}
	setenv("SHMR_BACKEND", "posix", 1);
	shmr_test_tracker_env();
}

static const char *tname(const char *tag)
{
	static char buf[8][64];
	static int i;
	char *b = buf[i++ % 8];

	snprintf(b, 64, "trk-%d-%s", (int)getpid(), tag);
	return b;
}

static bool file_exists(const char *name)
{
	char path[300];

	snprintf(path, sizeof(path), "/dev/shm/shmr.%s", name);
	return access(path, F_OK) == 0;
}

/* true once the name is gone, false after 60 s */
static bool gone(const char *name)
{
	int i;

	for (i = 0; i < 6000; i++) {
		if (!file_exists(name))
			return true;
		usleep(10000);
	}
	return false;
}

static int create_process_region(const char *name, struct shmr_region **r)
{
	return shmr_region_create(&SHMR_REGION_OPTS(.name = name, .size = 4096,
						    .flags = SHMR_REGION_PROCESS | SHMR_REGION_EXCL), r);
}

/*
 * The children of this process called shmr-tracker (zombies too: one may
 * have finished already): how many, and the last.
 */
static int trackers(pid_t *pid)
{
	char path[64], buf[512], *p;
	struct dirent *de;
	int n = 0;
	DIR *d = opendir("/proc");
	FILE *f;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			/* pid (comm) state ppid */
			p = strrchr(buf, ')');
			if (strstr(buf, "(shmr-tracker)") && p && p[1] && p[2] && p[3] &&
			    atoi(p + 4) == getpid()) {
				n++;
				if (pid)
					*pid = atoi(buf);
			}
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

/* Reap pid within 60 s: its exit status, or -1. */
static int reap(pid_t pid)
{
	int i, st;

	for (i = 0; i < 6000; i++) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
		if (r < 0)
			return -1;
		usleep(10000);
	}
	return -1;
}

/*
 * A creator: a child that creates a PROCESS region of each name, says so
 * on a pipe and waits to be killed (or, with exec_cat, runs cat on a pipe
 * the caller holds, so that it lives on without the library).
 */
struct creator {
	pid_t pid;
	int ctl;
};

static int creator(struct creator *c, const char *const *names, int n, bool exec_cat)
{
	int ready[2], ctl[2];
	char b;

	if (pipe2(ready, O_CLOEXEC) || pipe(ctl))
		return -1;
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		struct shmr_region *r;
		int i;

		close(ctl[1]);
		for (i = 0; i < n; i++)
			if (create_process_region(names[i], &r))
				_exit(10);
		if (write(ready[1], "r", 1) != 1)
			_exit(11);
		if (exec_cat) {
			dup2(ctl[0], 0);
			execlp("cat", "cat", (char *)NULL);
			_exit(12);
		}
		for (;;)
			pause();
	}
	close(ready[1]);
	close(ctl[0]);
	c->ctl = ctl[1];
	if (read(ready[0], &b, 1) != 1) {
		close(ready[0]);
		return -1;
	}
	if (exec_cat)
		while (read(ready[0], &b, 1) > 0)
			;
	close(ready[0]);
	return 0;
}

static int kill_creator(struct creator *c)
{
	int st;

	close(c->ctl);
	kill(c->pid, SIGKILL);
	if (waitpid(c->pid, &st, 0) != c->pid)
		return -1;
	return 0;
}

FIXTURE(trk) {
	int dummy;
};

FIXTURE_SETUP(trk)
{
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
}

FIXTURE_TEARDOWN(trk)
{
}

/*
 * The tracker holds nothing of its creator's: stdin, stdout and stderr are
 * /dev/null (a parent reading the creator's output sees end of file when
 * the creator ends), then its socket, /dev/shm and pidfds; no handle, pipe
 * or other fd of the creator, not even one without close-on-exec. It has
 * its own session, "/" as its directory and an empty environment.
 */
TEST_F_TIMEOUT(trk, holds_nothing_of_its_creator, 90)
{
	const char *names[] = { tname("hyg") };
	char path[PATH_MAX], link[PATH_MAX], env[16];
	struct creator c;
	struct dirent *de;
	pid_t t = 0;
	ssize_t n;
	int fd, sock = 0, dir = 0, other = 0, nul = 0, pidfds = 0, tries;
	DIR *d;

	/* a pipe and a region fd without close-on-exec, inherited by the creator */
	int p[2];
	struct shmr_region *keep;

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, shmr_region_create(&SHMR_REGION_OPTS(.name = tname("keep"), .size = 4096,
							  .flags = SHMR_REGION_NOCLOEXEC), &keep));
	ASSERT_EQ(0, creator(&c, names, 1, false));
	ASSERT_EQ(1, trackers(&t));

	/* once it has read the registration (a pidfd shows up), its fds */
	for (tries = 0; tries < 1000 && !pidfds; tries++) {
		if (tries)
			usleep(10000);
		sock = dir = other = nul = pidfds = 0;
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)t);
		d = opendir(path);
		ASSERT_NE(NULL, d);
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			fd = atoi(de->d_name);
			snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)t, de->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			ASSERT_GT(n, 0);
			link[n] = '\0';
			if (fd <= 2 && !strcmp(link, "/dev/null"))
				nul++;
			else if (fd == SHMR_TRK_FD && !strncmp(link, "socket:", 7))
				sock++;
			else if (!strcmp(link, "/dev/shm"))
				dir++;
			else if (strstr(link, "pidfd"))
				pidfds++;
			else if (++other)
				TH_LOG("tracker fd %d -> %s", fd, link);
		}
		closedir(d);
	}
	EXPECT_EQ(1, pidfds);
	EXPECT_EQ(3, nul);
	EXPECT_EQ(1, sock);
	EXPECT_EQ(1, dir);
	EXPECT_EQ(0, other);
	EXPECT_NE(getsid(0), getsid(t));
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)t);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_GT(n, 0);
	link[n] = '\0';
	EXPECT_STREQ("/", link);
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)t);
	fd = open(path, O_RDONLY);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(0, read(fd, env, sizeof(env)));
	close(fd);

	EXPECT_EQ(0, kill_creator(&c));
	EXPECT_TRUE(gone(names[0]));
	EXPECT_EQ(0, reap(t));
	close(p[0]);
	close(p[1]);
	EXPECT_EQ(0, shmr_region_close(keep));
	EXPECT_EQ(0, shmr_region_unlink(tname("keep")));
}

/*
 * SIGINT, SIGTERM and SIGHUP do not stop it (^C or a "kill" aimed at the
 * program must not cancel the cleanup); it does its work and leaves once
 * the creator is gone.
 */
TEST_F_TIMEOUT(trk, ignores_terminal_signals, 90)
{
	const char *names[] = { tname("sig") };
	struct creator c;
	pid_t t = 0;

	ASSERT_EQ(0, creator(&c, names, 1, false));
	ASSERT_EQ(1, trackers(&t));
	EXPECT_EQ(0, kill(t, SIGINT));
	EXPECT_EQ(0, kill(t, SIGTERM));
	EXPECT_EQ(0, kill(t, SIGHUP));
	usleep(100000);
	EXPECT_EQ(0, waitpid(t, NULL, WNOHANG));	/* still running */
	EXPECT_EQ(0, kill_creator(&c));
	EXPECT_TRUE(gone(names[0]));
	EXPECT_EQ(0, reap(t));
}

/*
 * One tracker per process tree: a forked child uses its parent's. Each
 * creator's regions go with that creator alone.
 */
TEST_F_TIMEOUT(trk, one_per_tree, 90)
{
	const char *mine = tname("parent"), *kid = tname("child");
	int go[2], ready[2];
	pid_t c, k = 0, t = 0;
	char b;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	c = fork();
	ASSERT_GE(c, 0);
	if (c == 0) {
		struct shmr_region *r;

		close(go[1]);
		if (create_process_region(mine, &r))
			_exit(10);
		k = fork();
		if (k == 0) {
			k = getpid();
			if (create_process_region(kid, &r))
				_exit(11);
			if (write(ready[1], &k, sizeof(k)) != sizeof(k))
				_exit(12);
			for (;;)
				pause();
		}
		while (read(go[0], &b, 1) > 0)	/* until the test closes go */
			;
		_exit(0);
	}
	close(go[0]);
	ASSERT_EQ(sizeof(k), read(ready[0], &k, sizeof(k)));
	EXPECT_EQ(1, trackers(&t));
	EXPECT_TRUE(file_exists(mine));
	EXPECT_TRUE(file_exists(kid));

	/* the grandchild's death takes its region only */
	ASSERT_EQ(0, kill(k, SIGKILL));
	EXPECT_TRUE(gone(kid));
	EXPECT_TRUE(file_exists(mine));
	/* the child exits normally: its region goes, then the tracker */
	close(go[1]);
	EXPECT_EQ(0, reap(c));
	EXPECT_TRUE(gone(mine));
	reap(k);	/* orphaned to us, the subreaper */
	EXPECT_EQ(0, reap(t));
}

/*
 * A clean unlink unregisters: a creator that unlinked everything it made
 * and then runs another program (so no process holds the tracker's socket)
 * leaves the tracker nothing to wait for, and it exits while the creator
 * still runs.
 */
TEST_F_TIMEOUT(trk, unlink_unregisters, 90)
{
	const char *names[] = { tname("un") };
	int ready[2], ctl[2];
	pid_t c, t = 0;
	char b;

	ASSERT_EQ(0, pipe2(ready, O_CLOEXEC));
	ASSERT_EQ(0, pipe(ctl));
	c = fork();
	ASSERT_GE(c, 0);
	if (c == 0) {
		struct shmr_region *r;

		close(ctl[1]);
		if (create_process_region(names[0], &r) || shmr_region_unlink(names[0]))
			_exit(10);
		if (write(ready[1], "r", 1) != 1)
			_exit(11);
		dup2(ctl[0], 0);
		execlp("cat", "cat", (char *)NULL);
		_exit(12);
	}
	close(ready[1]);
	close(ctl[0]);
	ASSERT_EQ(1, read(ready[0], &b, 1));
	ASSERT_EQ(1, trackers(&t));
	EXPECT_EQ(0, reap(t));
	EXPECT_EQ(0, waitpid(c, NULL, WNOHANG));	/* the creator still runs */
	close(ctl[1]);
	EXPECT_EQ(0, reap(c));
	close(ready[0]);
}

/* Killed tracker: the next PROCESS create starts another, which works. */
TEST_F_TIMEOUT(trk, tracker_killed_is_restarted, 90)
{
	const char *first = tname("first"), *second = tname("second");
	int go[2], ready[2];
	pid_t c, t1 = 0, t2 = 0;
	char b;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	c = fork();
	ASSERT_GE(c, 0);
	if (c == 0) {
		struct shmr_region *r;

		close(go[1]);
		if (create_process_region(first, &r) || write(ready[1], "1", 1) != 1 ||
		    read(go[0], &b, 1) != 1 || create_process_region(second, &r) ||
		    write(ready[1], "2", 1) != 1)
			_exit(10);
		for (;;)
			pause();
	}
	close(go[0]);
	ASSERT_EQ(1, read(ready[0], &b, 1));
	ASSERT_EQ(1, trackers(&t1));
	ASSERT_EQ(0, kill(t1, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, reap(t1));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(1, read(ready[0], &b, 1));
	ASSERT_EQ(1, trackers(&t2));
	EXPECT_NE(t1, t2);
	ASSERT_EQ(0, kill(c, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, reap(c));
	EXPECT_TRUE(gone(second));
	/* what the killed tracker watched is lost (documented) */
	EXPECT_TRUE(file_exists(first));
	EXPECT_EQ(0, shmr_region_unlink(first));
	EXPECT_EQ(0, reap(t2));
}

static void *leader_waits(void *arg)
{
	int fd = *(int *)arg;
	char b;

	while (read(fd, &b, 1) > 0)
		;
	_exit(0);	/* the whole process, from the last thread */
	return NULL;
}

static char proc_state(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	return p && p[1] ? p[2] : 0;
}

/*
 * The creator's main thread exits first (the leader becomes a zombie while
 * another thread runs): the process is alive, the region stays; it goes
 * when the last thread ends the process.
 */
TEST_F_TIMEOUT(trk, leader_thread_exit_is_not_death, 90)
{
	const char *x = tname("leader"), *mark = tname("mark");
	int ctl[2], ready[2], i;
	pid_t c, m;

	ASSERT_EQ(0, pipe(ctl));
	ASSERT_EQ(0, pipe(ready));
	c = fork();
	ASSERT_GE(c, 0);
	if (c == 0) {
		struct shmr_region *r;
		pthread_t th;

		close(ctl[1]);
		if (create_process_region(x, &r))
			_exit(10);
		/* a child on the same tracker: its death is the test's marker */
		m = fork();
		if (m == 0) {
			if (create_process_region(mark, &r))
				_exit(10);
			for (;;)
				pause();
		}
		/* wait for the marker, then tell the test its creator's pid */
		for (i = 0; i < 6000 && !file_exists(mark); i++)
			usleep(10000);
		if (m < 0 || pthread_create(&th, NULL, leader_waits, &ctl[0]) ||
		    write(ready[1], &m, sizeof(m)) != sizeof(m))
			_exit(11);
		syscall(SYS_exit, 0);	/* this thread only */
	}
	close(ctl[0]);
	ASSERT_EQ(sizeof(m), read(ready[0], &m, sizeof(m)));
	ASSERT_TRUE(file_exists(mark));
	for (i = 0; i < 6000 && proc_state(c) != 'Z'; i++)
		usleep(10000);
	ASSERT_EQ('Z', proc_state(c));
	/* whatever the leader's exit made the tracker do, it did it before this */
	ASSERT_EQ(0, kill(m, SIGKILL));
	EXPECT_TRUE(gone(mark));
	EXPECT_TRUE(file_exists(x));
	close(ctl[1]);
	EXPECT_EQ(0, reap(c));
	EXPECT_TRUE(gone(x));
	reap(m);
}

#define NTHR 4
#define PER_THREAD 16

static void *create_many(void *arg)
{
	const char *base = arg;
	struct shmr_region *r;
	char name[96];
	long i, bad = 0;

	for (i = 0; i < PER_THREAD; i++) {
		snprintf(name, sizeof(name), "%s-%ld", base, i);
		if (create_process_region(name, &r) || shmr_region_close(r))
			bad++;
		/* every other one unlinked in time: it unregisters */
		if (i % 2 && shmr_region_unlink(name))
			bad++;
	}
	return (void *)bad;
}

/* Threads creating PROCESS regions at once, while another forks. */
TEST_F_TIMEOUT(trk, threads, 90)
{
	char bases[NTHR][64], name[96];
	int ready[2], i, j;
	char b;
	pid_t c;

	for (i = 0; i < NTHR; i++)
		snprintf(bases[i], sizeof(bases[i]), "%s%d", tname("thr"), i);
	ASSERT_EQ(0, pipe(ready));
	c = fork();
	ASSERT_GE(c, 0);
	if (c == 0) {
		pthread_t th[NTHR];
		void *ret;
		long bad = 0;
		pid_t k;

		for (i = 0; i < NTHR; i++)
			if (pthread_create(&th[i], NULL, create_many, bases[i]))
				_exit(10);
		/* forks racing the first tracker start: children are fine */
		for (i = 0; i < 8; i++) {
			k = fork();
			if (k == 0)
				_exit(0);
			if (k < 0 || waitpid(k, NULL, 0) != k)
				_exit(11);
		}
		for (i = 0; i < NTHR; i++) {
			pthread_join(th[i], &ret);
			bad += (long)ret;
		}
		if (bad || write(ready[1], "r", 1) != 1)
			_exit(12);
		for (;;)
			pause();
	}
	ASSERT_EQ(1, read(ready[0], &b, 1));
	EXPECT_EQ(1, trackers(NULL));
	for (i = 0; i < NTHR; i++) {
		for (j = 0; j < PER_THREAD; j++) {
			snprintf(name, sizeof(name), "%s-%d", bases[i], j);
			EXPECT_EQ(!(j % 2), file_exists(name));
		}
	}
	kill(c, SIGKILL);
	EXPECT_EQ(1000 + SIGKILL, reap(c));
	for (i = 0; i < NTHR; i++) {
		for (j = 0; j < PER_THREAD; j += 2) {
			snprintf(name, sizeof(name), "%s-%d", bases[i], j);
			EXPECT_TRUE(gone(name));
		}
	}
}

/*
 * The creator's handle and mappings show the region's name in /proc (not
 * the "#INODE (deleted)" of the O_TMPFILE it was made as).
 */
TEST_F_TIMEOUT(trk, proc_shows_the_name, 90)
{
	const char *name = tname("proc");
	char path[64], link[PATH_MAX], want[300], line[1024];
	struct shmr_region *r;
	bool mapped = false;
	ssize_t n;
	void *p;
	FILE *f;

	ASSERT_EQ(0, create_process_region(name, &r));
	ASSERT_EQ(0, shmr_region_map(r, &p));
	snprintf(want, sizeof(want), "/dev/shm/shmr.%s", name);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", shmr_region_fd(r));
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_GT(n, 0);
	link[n] = '\0';
	EXPECT_STREQ(want, link);
	f = fopen("/proc/self/maps", "r");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f))
		if (strtoul(line, NULL, 16) == (unsigned long)p && strstr(line, want))
			mapped = true;
	fclose(f);
	EXPECT_TRUE(mapped);
	EXPECT_EQ(0, shmr_region_unmap(p));
	EXPECT_EQ(0, shmr_region_close(r));
	EXPECT_EQ(0, shmr_region_unlink(name));
}

/* The one socket among this process's fds (the tracker's), or -1. */
static int tracker_socket_fd(void)
{
	char path[64], link[PATH_MAX];
	struct dirent *de;
	int fd = -1, n = 0;
	DIR *d = opendir("/proc/self/fd");
	ssize_t len;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%s", de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len > 0 && !strncmp(link, "socket:", 7) && atoi(de->d_name) != dirfd(d)) {
			fd = atoi(de->d_name);
			n++;
		}
	}
	if (d)
		closedir(d);
	return n == 1 ? fd : -1;
}

/*
 * A program that closes every fd it does not know (daemon code does) takes
 * the library's socket away, and the number may then be another file: the
 * library notices, writes nothing there, and starts another tracker.
 */
TEST_F_TIMEOUT(trk, library_fd_closed_and_reused, 90)
{
	const char *first = tname("before"), *second = tname("after");
	int ready[2];
	pid_t c;
	char b;

	ASSERT_EQ(0, pipe(ready));
	c = fork();
	ASSERT_GE(c, 0);
	if (c == 0) {
		struct shmr_region *r;
		int sock, p[2];

		if (create_process_region(first, &r))
			_exit(10);
		sock = tracker_socket_fd();
		if (sock < 0 || pipe2(p, O_NONBLOCK))
			_exit(11);
		/* the library's fd number now names our pipe */
		if (dup2(p[1], sock) != sock)
			_exit(12);
		if (create_process_region(second, &r))
			_exit(13);
		if (read(p[0], &b, 1) != -1 || errno != EAGAIN)
			_exit(14);	/* something was written into the pipe */
		if (write(ready[1], "r", 1) != 1)
			_exit(15);
		for (;;)
			pause();
	}
	ASSERT_EQ(1, read(ready[0], &b, 1)) TH_LOG("creator status %d", reap(c));
	EXPECT_EQ(2, trackers(NULL));
	ASSERT_EQ(0, kill(c, SIGKILL));
	EXPECT_EQ(1000 + SIGKILL, reap(c));
	/* each tracker cleans up what it was told */
	EXPECT_TRUE(gone(first));
	EXPECT_TRUE(gone(second));
}

/* ---- no helper, a broken helper ------------------------------------------ */

/* PROCESS in a fresh child with SHMR_TRACKER=value: create's result, or 100+ */
static int process_with_tracker(const char *value, bool *feature)
{
	int p[2], st, res = -1000;
	pid_t pid;
	struct {
		int err;
		bool feat;
		bool left;
	} out = { 0, false, false };

	if (pipe(p))
		return -1000;
	pid = fork();
	if (pid == 0) {
		struct shmr_region *r;
		uint64_t f = 0;
		const char *name = tname("helper");

		setenv("SHMR_TRACKER", value, 1);
		shmr_features(&f);
		out.feat = f & SHMR_FEATURE_PROCESS;
		out.err = create_process_region(name, &r);
		out.left = file_exists(name);
		if (!out.err) {
			shmr_region_close(r);
			shmr_region_unlink(name);
		}
		_exit(write(p[1], &out, sizeof(out)) == sizeof(out) ? 0 : 1);
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &out, sizeof(out)) == sizeof(out) &&
	    waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st))
		res = out.err && out.left ? -2000 : out.err;	/* a failed create leaves no name */
	close(p[0]);
	*feature = out.feat;
	return res;
}

TEST_F_TIMEOUT(trk, missing_or_broken_helper, 90)
{
	char dir[] = "/tmp/shmr-trk-XXXXXX", plain[64], fails[64], drops[64];
	bool feat;
	int fd;

	ASSERT_NE(NULL, mkdtemp(dir));
	snprintf(plain, sizeof(plain), "%s/plain", dir);
	fd = open(plain, O_CREAT | O_WRONLY, 0644);
	ASSERT_GE(fd, 0);
	close(fd);
	snprintf(fails, sizeof(fails), "%s/fails", dir);
	fd = open(fails, O_CREAT | O_WRONLY, 0755);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(20, write(fd, "#!/bin/sh\nexit 1\n   ", 20));
	close(fd);
	snprintf(drops, sizeof(drops), "%s/drops", dir);
	fd = open(drops, O_CREAT | O_WRONLY, 0755);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(20, write(fd, "#!/bin/sh\nexit 0\n   ", 20));
	close(fd);

	/* no feature without a helper: absent, not executable, a directory */
	EXPECT_EQ(-EOPNOTSUPP, process_with_tracker("/nonexistent/shmr-tracker", &feat));
	EXPECT_FALSE(feat);
	EXPECT_EQ(-EOPNOTSUPP, process_with_tracker(plain, &feat));
	EXPECT_FALSE(feat);
	EXPECT_EQ(-EOPNOTSUPP, process_with_tracker(dir, &feat));
	EXPECT_FALSE(feat);
	/* a helper that fails to start, one that starts and drops the socket */
	EXPECT_EQ(-ECHILD, process_with_tracker(fails, &feat));
	EXPECT_TRUE(feat);
	EXPECT_EQ(-EPIPE, process_with_tracker(drops, &feat));
	EXPECT_TRUE(feat);
	/* the real one, for comparison */
	EXPECT_EQ(0, process_with_tracker(getenv("SHMR_TRACKER"), &feat));
	EXPECT_TRUE(feat);
	unlink(plain);
	unlink(fails);
	unlink(drops);
	rmdir(dir);
}

static int copy_file(const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	int in, out, ret = 0;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			ret = -1;
	close(in);
	close(out);
	return n < 0 ? -1 : ret;
}

/* prog's answer to SHMR_TRK_PROBE with SHMR_TRACKER=tracker, in out */
static int probe(const char *prog, const char *tracker, char *out, size_t len)
{
	int p[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		setenv("SHMR_TRK_PROBE", "1", 1);
		setenv("SHMR_TRACKER", tracker, 1);
		setenv("SHMR_BACKEND", "posix", 1);
		execl(prog, prog, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/*
 * A set-user-ID program ignores SHMR_TRACKER (secure_getenv) and the
 * helper beside the object it was loaded from: a caller cannot make it
 * start a program of the caller's choosing with its privileges. A copy of
 * this test made set-user-ID nobody, run by root with SHMR_TRACKER set to
 * the real helper, finds none (the installed path does not exist here); a
 * plain copy finds it.
 */
TEST(setuid_ignores_shmr_tracker)
{
	char exe[PATH_MAX], dir[] = "/tmp/shmr-trk-suid-XXXXXX", plain[PATH_MAX], suid[PATH_MAX];
	char out[128];
	const char *tracker = getenv("SHMR_TRACKER");
	struct statvfs vfs;
	ssize_t n;

	if (geteuid() != 0)
		SKIP(return, "needs root to make a set-user-ID copy owned by nobody");
	if (!access("/usr/local/lib/shmr/shmr-tracker", F_OK) ||
	    !access("/usr/lib/shmr/shmr-tracker", F_OK))
		SKIP(return, "a tracker helper is installed: the set-user-ID copy would find it");
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	ASSERT_GT(n, 0);
	exe[n] = '\0';
	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_EQ(0, statvfs(dir, &vfs));
	if (vfs.f_flag & ST_NOSUID) {
		rmdir(dir);
		SKIP(return, "/tmp is mounted nosuid");
	}
	ASSERT_EQ(0, chmod(dir, 0755));
	snprintf(plain, sizeof(plain), "%s/plain", dir);
	snprintf(suid, sizeof(suid), "%s/suid", dir);
	ASSERT_EQ(0, copy_file(exe, plain, 0755));
	ASSERT_EQ(0, copy_file(exe, suid, 0755));
	ASSERT_EQ(0, chown(suid, 65534, 65534));
	ASSERT_EQ(0, chmod(suid, 04755));

	EXPECT_EQ(0, probe(plain, tracker, out, sizeof(out)));
	EXPECT_STREQ("posix process\n", out);
	EXPECT_EQ(0, probe(suid, tracker, out, sizeof(out)));
	/* SHMR_BACKEND is not read there either: the module, if loaded, decides */
	if (strncmp(out, "posix", 5)) {
		TH_LOG("set-user-ID copy: %s", out);
	} else {
		EXPECT_STREQ("posix no-process\n", out);
	}
	unlink(plain);
	unlink(suid);
	rmdir(dir);
}

/* ---- the helper itself, spoken to directly --------------------------------- */

/* Start the helper as the library does; our end of its socket, or -1. */
static int start_helper(void)
{
	char *argv[] = { "shmr-tracker", NULL }, *envp[] = { NULL };
	posix_spawn_file_actions_t fa;
	int sv[2], on = 1, st;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) ||
	    setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], SHMR_TRK_FD);
	if (posix_spawn(&pid, getenv("SHMR_TRACKER"), &fa, NULL, argv, envp))
		return -1;
	posix_spawn_file_actions_destroy(&fa);
	close(sv[1]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return sv[0];
}

static int send_raw(int sock, const void *buf, size_t len, const int *fds, int nfds,
		    bool creds)
{
	union {
		char b[CMSG_SPACE(8 * sizeof(int)) + CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { (void *)buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *c;
	struct ucred cr = { getpid(), geteuid(), getegid() };
	size_t clen = 0;

	memset(&u, 0, sizeof(u));
	mh.msg_control = u.b;
	mh.msg_controllen = sizeof(u.b);
	c = CMSG_FIRSTHDR(&mh);
	if (nfds) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
		clen += CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_NXTHDR(&mh, c);
	}
	if (creds) {
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_CREDENTIALS;
		c->cmsg_len = CMSG_LEN(sizeof(cr));
		memcpy(CMSG_DATA(c), &cr, sizeof(cr));
		clen += CMSG_SPACE(sizeof(cr));
	}
	mh.msg_controllen = clen;
	if (!clen)
		mh.msg_control = NULL;
	return sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

static struct shmr__trk_msg msg(int op, const char *file)
{
	struct shmr__trk_msg m;

	memset(&m, 0, sizeof(m));
	m.magic = SHMR_TRK_MAGIC;
	m.version = SHMR_TRK_VERSION;
	m.op = op;
	snprintf(m.name, sizeof(m.name), "%s", file);
	return m;
}

/* a file in /dev/shm; its fd */
static int make_file(const char *file, mode_t mode)
{
	char path[300];
	int fd;

	snprintf(path, sizeof(path), "/dev/shm/%s", file);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd >= 0)
		fchmod(fd, mode);
	return fd;
}

/*
 * A process registers file under its own pidfd and exits; with send_ok
 * false the message is malformed in the way bad says.
 */
static pid_t register_and_exit(int sock, const char *file, int fd, int bad)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct shmr__trk_msg m = msg(SHMR_TRK_REGISTER, file);
		int fds[3];

		fds[0] = fd;
		fds[1] = syscall(SYS_pidfd_open, getpid(), 0);
		fds[2] = fd;
		switch (bad) {
		case 1:
			m.magic++;
			break;
		case 2:
			m.version++;
			break;
		case 3:
			snprintf(m.name, sizeof(m.name), "../etc/%s", file);
			break;
		case 4:
			memset(m.name, 'x', sizeof(m.name));	/* no NUL */
			break;
		case 5:
			_exit(send_raw(sock, &m, sizeof(m) - 1, fds, 2, true) ? 1 : 0);
		case 6:
			_exit(send_raw(sock, &m, sizeof(m), fds, 1, true) ? 1 : 0);
		case 7:
			_exit(send_raw(sock, &m, sizeof(m), fds, 3, true) ? 1 : 0);
		case 8:
			m.op = 0;
			break;
		case 9:
			m.op = 77;
			break;
		case 10:
			snprintf(m.name, sizeof(m.name), "..");
			break;
		}
		_exit(send_raw(sock, &m, sizeof(m), fds, 2, true) ? 1 : 0);
	}
	return pid;
}

/*
 * Malformed messages are ignored and the tracker goes on; a well-formed
 * registration after them works. The bad ones name files that must stay.
 */
TEST_F_TIMEOUT(trk, malformed_messages_ignored, 90)
{
	char files[11][64];
	int sock, fd[11], i, st;
	pid_t pid;

	sock = start_helper();
	ASSERT_GE(sock, 0);
	for (i = 0; i <= 10; i++) {
		snprintf(files[i], sizeof(files[i]), "shmr.%s%d", tname("bad"), i);
		fd[i] = make_file(files[i], 0600);
		ASSERT_GE(fd[i], 0);
	}
	for (i = 1; i <= 10; i++) {
		pid = register_and_exit(sock, files[i], fd[i], i);
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		EXPECT_EQ(0, st) TH_LOG("case %d", i);
	}
	/* and an UNREGISTER for a name never registered */
	{
		struct shmr__trk_msg m = msg(SHMR_TRK_UNREGISTER, files[0]);

		EXPECT_EQ(0, send_raw(sock, &m, sizeof(m), NULL, 0, false));
	}
	pid = register_and_exit(sock, files[0], fd[0], 0);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(gone(files[0] + strlen("shmr.")));
	for (i = 1; i <= 10; i++) {
		char path[300];

		EXPECT_TRUE(file_exists(files[i] + strlen("shmr."))) TH_LOG("case %d", i);
		close(fd[i]);
		snprintf(path, sizeof(path), "/dev/shm/%s", files[i]);
		unlink(path);
	}
	close(fd[0]);
	ASSERT_EQ(1, trackers(&pid));
	close(sock);	/* the tracker's last client: it leaves */
	EXPECT_EQ(0, reap(pid));
}

/*
 * The tracker unlinks only what the registering process could have
 * unlinked itself (in sticky /dev/shm: its own files): a process running
 * as nobody that registers a file of root's, read-only, does not get it
 * removed; its own file, registered alongside, goes.
 */
TEST_F_TIMEOUT(trk, only_the_owner_s_files, 90)
{
	char roots[64], own[64], path[300];
	int sock, fd, st;
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root (a file owned by root, a process as nobody)");
	sock = start_helper();
	ASSERT_GE(sock, 0);
	snprintf(roots, sizeof(roots), "shmr.%s", tname("root"));
	snprintf(own, sizeof(own), "shmr.%s", tname("nobody"));
	fd = make_file(roots, 0644);
	ASSERT_GE(fd, 0);
	close(fd);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct shmr__trk_msg m1 = msg(SHMR_TRK_REGISTER, roots);
		struct shmr__trk_msg m2 = msg(SHMR_TRK_REGISTER, own);
		int fds[2];

		snprintf(path, sizeof(path), "/dev/shm/%s", roots);
		fds[0] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[0] < 0 || setgid(65534) || setuid(65534))
			_exit(10);
		fds[1] = syscall(SYS_pidfd_open, getpid(), 0);
		if (fds[1] < 0 || send_raw(sock, &m1, sizeof(m1), fds, 2, true))
			_exit(11);
		fds[0] = make_file(own, 0600);
		if (fds[0] < 0 || send_raw(sock, &m2, sizeof(m2), fds, 2, true))
			_exit(12);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_EQ(0, st);
	/* one process registered both: its death was handled for both */
	EXPECT_TRUE(gone(own + strlen("shmr.")));
	EXPECT_TRUE(file_exists(roots + strlen("shmr.")));
	snprintf(path, sizeof(path), "/dev/shm/%s", roots);
	unlink(path);
	ASSERT_EQ(1, trackers(&pid));
	close(sock);
	EXPECT_EQ(0, reap(pid));
}

/* Started by hand, without its socket: a usage error. */
TEST(started_by_hand)
{
	char *argv[] = { "shmr-tracker", NULL }, *argv2[] = { "shmr-tracker", "x", NULL };
	char *envp[] = { NULL };
	posix_spawn_file_actions_t fa;
	int sv[2], st;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addclose(&fa, SHMR_TRK_FD);	/* fd 3 may be open here */
	ASSERT_EQ(0, posix_spawn(&pid, getenv("SHMR_TRACKER"), &fa, NULL, argv, envp));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	posix_spawn_file_actions_destroy(&fa);

	/* a socket of the wrong type, and an argument */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], SHMR_TRK_FD);
	ASSERT_EQ(0, posix_spawn(&pid, getenv("SHMR_TRACKER"), &fa, NULL, argv, envp));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	close(sv[0]);
	close(sv[1]);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	posix_spawn_file_actions_destroy(&fa);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], SHMR_TRK_FD);
	ASSERT_EQ(0, posix_spawn(&pid, getenv("SHMR_TRACKER"), &fa, NULL, argv2, envp));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2);
	posix_spawn_file_actions_destroy(&fa);
	close(sv[0]);
	close(sv[1]);
}

TEST_HARNESS_MAIN
