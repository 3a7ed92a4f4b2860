// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_attach: attach tracking through fork, exit and SIGKILL, the exit
 * log, lifetime events with poll(), and process-lifetime regions.
 */
#include "shmr_test.h"
#include <poll.h>
#include <pthread.h>
#include <sched.h>

FIXTURE(attach) {
	int ctl;
	long pg;
	char name[64];
	long long live0, attach0;
};

FIXTURE_SETUP(attach)
{
	SHMR_REQUIRE_DEVICE();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	self->pg = shmr_page_size();
	shmr_test_name(self->name, sizeof(self->name), "kmod_attach");
	self->live0 = shmr_counter("regions_live");
	self->attach0 = shmr_counter("attach_live");
}

FIXTURE_TEARDOWN(attach)
{
	shmr_cleanup();
	close(self->ctl);
}

static int stat_attach(int fd, struct shmr_region_info *info,
		       struct shmr_attach_info *a, unsigned int cap)
{
	struct shmr_stat s;
	int ret;

	memset(&s, 0, sizeof(s));
	s.attach = (uintptr_t)a;
	s.attach_cap = cap;
	ret = shmr_ioctl(fd, SHMR_IOC_STAT, &s);
	if (ret)
		return ret;
	if (info)
		*info = s.info;
	return (int)s.attach_count;
}

static struct shmr_attach_info *find_pid(struct shmr_attach_info *a, int n,
					 pid_t pid)
{
	for (int i = 0; i < n; i++)
		if (a[i].pid == pid)
			return &a[i];
	return NULL;
}

static uint32_t take_events(int fd)
{
	struct shmr_events e;

	memset(&e, 0, sizeof(e));
	if (shmr_ioctl(fd, SHMR_IOC_EVENTS, &e))
		return ~0U;
	return e.events;
}

static bool readable(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

/* Exit records of region @id, newest last; returns how many were found. */
static int exit_records(int ctl, uint64_t id, struct shmr_exit_record *out,
			int cap)
{
	static struct shmr_exit_record recs[4096];
	struct shmr_exited x;
	int n = 0;

	memset(&x, 0, sizeof(x));
	x.records = (uintptr_t)recs;
	x.cap = 4096;
	if (shmr_ioctl(ctl, SHMR_IOC_EXITED, &x))
		return -1;
	for (unsigned int i = 0; i < x.count; i++)
		if (recs[i].region_id == id && n < cap)
			out[n++] = recs[i];
	return n;
}

/* A child that opens @name, maps it, reports ready and waits to be killed. */
static pid_t spawn_holder(struct __test_metadata *_metadata, int ctl,
			  const char *name, long len)
{
	int rdy[2];
	pid_t pid;
	char c;

	if (pipe(rdy))
		return -1;
	pid = fork();
	if (pid == 0) {
		int fd;
		void *p;

		prctl(PR_SET_NAME, "kmod-holder", 0, 0, 0);
		fd = shmr_open(ctl, name, 0, NULL);
		if (fd < 0)
			_exit(1);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(2);
		if (write(rdy[1], "r", 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(rdy[1]);
	if (read(rdy[0], &c, 1) != 1)
		pid = -1;
	close(rdy[0]);
	return pid;
}

TEST_F(attach, sigkill_leaves_exit_record_and_peer_died)
{
	struct shmr_attach_info a[8], *e;
	struct shmr_exit_record rec[4];
	struct shmr_create c;
	struct shmr_region_info info;
	int fd, n, status;
	pid_t pid;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0600, &c);
	ASSERT_LE(0, fd);
	pid = spawn_holder(_metadata, self->ctl, self->name, self->pg);
	ASSERT_LT(0, pid);
	n = stat_attach(fd, &info, a, 8);
	ASSERT_EQ(2, n);
	EXPECT_EQ(2U, info.nattach);
	e = find_pid(a, n, getpid());
	ASSERT_NE(NULL, e);
	EXPECT_EQ(1U, e->handles);
	EXPECT_EQ(0U, e->mappings);
	e = find_pid(a, n, pid);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(1U, e->handles);
	EXPECT_EQ(1U, e->mappings);
	EXPECT_STREQ("kmod-holder", e->comm) TH_LOG("comm taken at open time");
	EXPECT_NE(0ULL, e->since_ns);
	/* a short buffer: count limited, nattach tells all */
	n = stat_attach(fd, &info, a, 1);
	EXPECT_EQ(1, n);
	EXPECT_EQ(2U, info.nattach);

	EXPECT_FALSE(readable(fd, 0));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(readable(fd, SHMR_WAIT_SECONDS * 1000));
	EXPECT_EQ(SHMR_EV_PEER_DIED, take_events(fd) & SHMR_EV_PEER_DIED);
	EXPECT_FALSE(readable(fd, 0));
	n = stat_attach(fd, &info, a, 8);
	ASSERT_EQ(1, n);
	EXPECT_EQ(getpid(), a[0].pid);

	n = exit_records(self->ctl, c.id, rec, 4);
	ASSERT_EQ(1, n);
	EXPECT_EQ(pid, rec[0].pid);
	EXPECT_EQ(SIGKILL, rec[0].signal);
	EXPECT_EQ(0, rec[0].status);
	EXPECT_EQ(1U, rec[0].handles);
	EXPECT_EQ(1U, rec[0].mappings);
	EXPECT_STREQ(self->name, rec[0].name);
	EXPECT_NE(0ULL, rec[0].when_ns);
	close(fd);
	EXPECT_EQ(self->attach0, shmr_counter("attach_live"));
}

TEST_F(attach, exit_status_recorded)
{
	struct shmr_exit_record rec[4];
	struct shmr_create c;
	int fd, status;
	pid_t pid;

	fd = shmr_create(self->ctl, NULL, self->pg, 0, 0600, &c);
	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* inherited mapping, inherited fd: exits holding both */
		if (mmap(NULL, self->pg, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED)
			_exit(1);
		exit(3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(3, WEXITSTATUS(status));
	ASSERT_EQ(1, exit_records(self->ctl, c.id, rec, 4));
	EXPECT_EQ(pid, rec[0].pid);
	EXPECT_EQ(0, rec[0].signal);
	EXPECT_EQ(3, rec[0].status);
	EXPECT_EQ(0U, rec[0].handles);	/* the fd counts for its opener */
	EXPECT_EQ(1U, rec[0].mappings);
	EXPECT_EQ(0, rec[0].name[0]);
	EXPECT_TRUE(!!(take_events(fd) & SHMR_EV_PEER_DIED));
	close(fd);
}

TEST_F(attach, fork_attributes_mapping_to_child)
{
	struct shmr_attach_info a[8], *e;
	int fd, n, rdy[2], go[2], status;
	void *p;
	pid_t pid;
	char ch;

	fd = shmr_create(self->ctl, NULL, 2 * self->pg, 0, 0600, NULL);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 2 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, pipe(rdy));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(go[1]);
		/* split our copy: two VMAs */
		munmap((char *)p + self->pg, self->pg);
		if (write(rdy[1], "r", 1) != 1 || read(go[0], &ch, 1) != 1)
			_exit(1);
		_exit(0);
	}
	close(go[0]);
	close(rdy[1]);
	ASSERT_EQ(1, read(rdy[0], &ch, 1));
	n = stat_attach(fd, NULL, a, 8);
	for (int i = 0; i < n; i++)
		TH_LOG("pid %d (child %d) handles %u mappings %u", a[i].pid,
		       pid, a[i].handles, a[i].mappings);
	ASSERT_EQ(2, n);
	e = find_pid(a, n, pid);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(0U, e->handles);
	EXPECT_EQ(1U, e->mappings);
	e = find_pid(a, n, getpid());
	ASSERT_NE(NULL, e);
	EXPECT_EQ(1U, e->handles);
	EXPECT_EQ(1U, e->mappings);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	/* an ordinary exit with a mapping is still a death, recorded */
	n = stat_attach(fd, NULL, a, 8);
	EXPECT_EQ(1, n);
	munmap(p, 2 * self->pg);
	n = stat_attach(fd, NULL, a, 8);
	EXPECT_EQ(1, n);	/* the handle remains */
	close(fd);
	EXPECT_EQ(self->attach0, shmr_counter("attach_live"));
}

TEST_F(attach, events_unlink_detach_seal)
{
	int fd, fd2, status;
	pid_t pid;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0U, take_events(fd));
	EXPECT_FALSE(readable(fd, 0));

	/* another process attaches and detaches normally */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int cfd = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);

		if (cfd < 0)
			_exit(1);
		close(cfd);
		pause();	/* detached, alive */
		_exit(0);
	}
	EXPECT_TRUE(readable(fd, SHMR_WAIT_SECONDS * 1000));
	EXPECT_EQ(SHMR_EV_DETACHED, take_events(fd));
	EXPECT_FALSE(readable(fd, 0));
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* holding nothing when it died: no event */
	EXPECT_EQ(0U, take_events(fd));

	fd2 = shmr_open(self->ctl, self->name, 0, NULL);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name));
	EXPECT_TRUE(readable(fd, 0));
	EXPECT_EQ(SHMR_EV_UNLINKED, take_events(fd));
	EXPECT_EQ(SHMR_EV_UNLINKED, take_events(fd2));
	EXPECT_EQ(0U, take_events(fd));

	/* our own detach does not notify our other handle */
	close(fd2);
	EXPECT_EQ(0U, take_events(fd));
	close(fd);
	EXPECT_EQ(self->live0, shmr_counter("regions_live"));
}

TEST_F(attach, process_lifetime_region_unlinked_when_creator_killed)
{
	struct shmr_region_info info;
	struct shmr_create c, *cs;
	int status, ret = 0;
	pid_t pid;

	cs = mmap(NULL, sizeof(*cs), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cs);
	memset(cs, 0, sizeof(*cs));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (shmr_create(self->ctl, self->name, self->pg,
				SHMR_CREATE_EXCL | SHMR_CREATE_PROCESS, 0600,
				cs) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	shmr_track(self->name);
	ASSERT_TRUE(shmr_wait_until(__atomic_load_n(&cs->id, __ATOMIC_ACQUIRE)));
	c = *cs;
	ASSERT_EQ(0, shmr_stat_id(self->ctl, c.id, &info));
	EXPECT_TRUE(!!(info.flags & SHMR_INFO_PROCESS));
	EXPECT_EQ(pid, info.creator_pid);
	/* alive: the name stays */
	usleep(50000);
	ret = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, ret);
	close(ret);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(shmr_wait_until(shmr_name_gone(self->ctl, self->name)));
	/*
	 * The module's work item unlinks the name and then drops its own
	 * transient reference: the region is gone a moment after the name.
	 */
	shmr_wait_until(shmr_stat_id(self->ctl, c.id, &info) == -ENOENT &&
			shmr_counter("regions_live") == self->live0);
	EXPECT_EQ(-ENOENT, shmr_stat_id(self->ctl, c.id, &info));
	EXPECT_EQ(self->live0, shmr_counter("regions_live"));
	munmap(cs, sizeof(*cs));
}

TEST_F(attach, process_lifetime_region_freed_first)
{
	int fd;

	/* unlinked and closed before its creator exits: the watch goes too */
	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL | SHMR_CREATE_PROCESS, 0600, NULL);
	ASSERT_LE(0, fd);
	EXPECT_LT(0, shmr_counter("watches_live"));
	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name));
	close(fd);
	EXPECT_EQ(self->live0, shmr_counter("regions_live"));
}

/* ---- a thread with its own file table ------------------------------------ */

struct files_thread {
	int ctl;
	const char *name;
	int go[2];		/* hold: read a byte before returning */
	int ret;
};

/*
 * unshare(CLONE_FILES), open the region and return with the handle open:
 * its last reference goes when this thread's file table does, in the
 * thread's own exit, with PF_EXITING set.
 */
static void *files_thread_fn(void *arg)
{
	struct files_thread *t = arg;
	char c;

	if (unshare(CLONE_FILES)) {
		t->ret = -errno;
		return NULL;
	}
	t->ret = shmr_open(t->ctl, t->name, SHMR_OPEN_RDONLY, NULL);
	if (t->go[0] >= 0 && read(t->go[0], &c, 1) != 1)
		t->ret = -EIO;
	return NULL;
}

static int nattach(int fd)
{
	struct shmr_region_info info;

	return shmr_stat_fd(fd, &info) ? -1 : (int)info.nattach;
}

TEST_F(attach, thread_with_own_files_exits_process_lives)
{
	struct shmr_exit_record recs[8];
	int fd, rdy[2], go[2], status, n, i;
	struct shmr_create c;
	uint32_t ev;
	pid_t pid;
	char x;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0600, &c);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(rdy));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct files_thread t = { self->ctl, self->name, { -1, -1 }, 0 };
		pthread_t th;

		close(rdy[0]);
		close(go[1]);
		if (pthread_create(&th, NULL, files_thread_fn, &t) ||
		    pthread_join(th, NULL))
			_exit(2);
		if (t.ret < 0)
			_exit(3);
		/* the thread is gone, the process lives on */
		if (write(rdy[1], "r", 1) != 1)
			_exit(4);
		if (read(go[0], &x, 1) != 1)
			_exit(5);
		_exit(0);
	}
	close(rdy[1]);
	close(go[0]);
	ASSERT_EQ(1, read(rdy[0], &x, 1));
	/* pthread_join() returns before the thread's files are released */
	EXPECT_TRUE(shmr_wait_until(nattach(fd) == 1));
	ev = take_events(fd);
	EXPECT_EQ(0U, ev & SHMR_EV_PEER_DIED) TH_LOG("events %#x", ev);
	EXPECT_EQ(SHMR_EV_DETACHED, ev & SHMR_EV_DETACHED);
	n = exit_records(self->ctl, c.id, recs, 8);
	EXPECT_EQ(0, n);
	for (i = 0; i < n; i++)
		TH_LOG("exit record: pid %d comm %s signal %d", recs[i].pid,
		       recs[i].comm, recs[i].signal);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(rdy[0]);
	close(go[1]);
	EXPECT_EQ(0, shmr_unlink(self->ctl, self->name));
	close(fd);
}

/* The same thread's handle when its whole process is killed: a death. */
TEST_F(attach, thread_with_own_files_killed_with_process)
{
	struct shmr_exit_record recs[8];
	int fd, rdy[2], status, n;
	struct shmr_create c;
	uint32_t ev;
	pid_t pid;
	char x;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0600, &c);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(rdy));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct files_thread t = { self->ctl, self->name, { -1, -1 }, 0 };
		pthread_t th;

		close(rdy[0]);
		if (pipe(t.go) || pthread_create(&th, NULL, files_thread_fn, &t))
			_exit(2);
		/* the thread holds its handle, blocked in read() */
		if (!shmr_wait_until(nattach(fd) == 2))
			_exit(3);
		if (write(rdy[1], "r", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(rdy[1]);
	ASSERT_EQ(1, read(rdy[0], &x, 1));
	close(rdy[0]);
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(shmr_wait_until(nattach(fd) == 1));
	ev = take_events(fd);
	EXPECT_EQ(SHMR_EV_PEER_DIED, ev & SHMR_EV_PEER_DIED) TH_LOG("events %#x", ev);
	n = exit_records(self->ctl, c.id, recs, 8);
	ASSERT_EQ(1, n);
	EXPECT_EQ(pid, recs[0].pid);
	EXPECT_EQ(SIGKILL, recs[0].signal);
	EXPECT_EQ(1U, recs[0].handles);
	EXPECT_EQ(0, shmr_unlink(self->ctl, self->name));
	close(fd);
}

/* ---- a process-lifetime name is gone when its creator can be reaped ------ */

#define REAP_ROUNDS	20
#define REAP_THREADS	3

static void *idle_thread(void *arg)
{
	for (;;)
		pause();
	return arg;
}

/*
 * A creator with REAP_THREADS more threads: creates @name with
 * SHMR_CREATE_PROCESS (keeping its handle if @keep), reports ready, and
 * exits (exit(), every thread still running) when told to, unless it is
 * killed first.
 */
static void reap_creator(int ctl, const char *name, bool keep, int rdy, int go)
{
	pthread_t th;
	char x;
	int fd, i;

	fd = shmr_create(ctl, name, 4096, SHMR_CREATE_EXCL | SHMR_CREATE_PROCESS,
			 0600, NULL);
	if (fd < 0)
		_exit(2);
	if (!keep)
		close(fd);
	for (i = 0; i < REAP_THREADS; i++)
		if (pthread_create(&th, NULL, idle_thread, NULL))
			_exit(3);
	if (write(rdy, "r", 1) != 1)
		_exit(4);
	if (read(go, &x, 1) != 1)
		_exit(5);
	exit(7);
}

TEST_F(attach, process_lifetime_name_gone_when_creator_reaped)
{
	int round, rdy[2], go[2], status, fd, left = 0, kept = 0;
	char name[96];
	pid_t pid;
	char x;

	for (round = 0; round < 2 * REAP_ROUNDS; round++) {
		bool kill_it = round % 2, keep = (round / 2) % 2;
		struct shmr_create c;

		snprintf(name, sizeof(name), "%s.%d", self->name, round);
		shmr_track(name);
		ASSERT_EQ(0, pipe(rdy));
		ASSERT_EQ(0, pipe(go));
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			close(rdy[0]);
			close(go[1]);
			reap_creator(self->ctl, name, keep, rdy[1], go[0]);
		}
		close(rdy[1]);
		close(go[0]);
		ASSERT_EQ(1, read(rdy[0], &x, 1));
		close(rdy[0]);
		if (kill_it) {
			ASSERT_EQ(0, kill(pid, SIGKILL));
		} else {
			ASSERT_EQ(1, write(go[1], "g", 1));
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		/* at once: no name, and the name is free for a new creator */
		fd = shmr_open(self->ctl, name, SHMR_OPEN_RDONLY, NULL);
		if (fd >= 0) {
			left++;
			close(fd);
		}
		fd = shmr_create(self->ctl, name, 4096, SHMR_CREATE_EXCL, 0600, &c);
		if (fd >= 0) {
			close(fd);
			ASSERT_EQ(0, shmr_unlink(self->ctl, name));
		} else {
			kept++;
		}
		close(go[1]);
		EXPECT_TRUE(kill_it ? WIFSIGNALED(status) : WEXITSTATUS(status) == 7);
	}
	EXPECT_EQ(0, left) TH_LOG("%d of %d names still opened after waitpid()",
				  left, 2 * REAP_ROUNDS);
	EXPECT_EQ(0, kept) TH_LOG("%d of %d names not free for CREATE_EXCL",
				  kept, 2 * REAP_ROUNDS);
	/* every region goes (the module drops the name's reference later) */
	EXPECT_TRUE(shmr_wait_until(shmr_counter("regions_live") == self->live0));
}

static int exited(int ctl, struct shmr_exit_record *r, unsigned int cap,
		  uint32_t flags, unsigned int *total)
{
	struct shmr_exited x;

	memset(&x, 0, sizeof(x));
	x.records = (uintptr_t)r;
	x.cap = cap;
	x.flags = flags;
	if (shmr_ioctl(ctl, SHMR_IOC_EXITED, &x))
		return -1;
	*total = x.total;
	return (int)x.count;
}

/* In a new IPC namespace: three deaths, a log of two, then CLEAR. */
static int exit_log_child(long pg, uint64_t *id)
{
	struct shmr_exit_record r[8];
	struct shmr_create c;
	unsigned int total;
	int ctl, fd, i, st;
	pid_t pid;

	if (unshare(CLONE_NEWIPC))
		return 1;
	ctl = shmr_ctl_open();
	if (ctl < 0)
		return 10;
	if (exited(ctl, r, 8, 0, &total) != 0 || total != 0)
		return 2;
	fd = shmr_create(ctl, NULL, pg, 0, 0600, &c);
	if (fd < 0)
		return 3;
	*id = c.id;
	for (i = 0; i < 3; i++) {
		pid = fork();
		if (pid == 0) {
			if (mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED)
				_exit(99);
			_exit(10 + i);
		}
		if (waitpid(pid, &st, 0) != pid || WEXITSTATUS(st) != 10 + i)
			return 4;
	}
	if (exited(ctl, r, 8, 0, &total) != 2 || total != 2)
		return 5;
	if (r[0].status != 11 || r[1].status != 12 || r[0].region_id != c.id)
		return 6;
	if (exited(ctl, r, 1, SHMR_EXITED_CLEAR, &total) != 1 || total != 2 ||
	    r[0].status != 11)
		return 7;
	if (exited(ctl, r, 8, 0, &total) != 1 || total != 1 ||
	    r[0].status != 12)
		return 8;
	if (exited(ctl, NULL, 0, SHMR_EXITED_CLEAR, &total) != 0 || total != 1)
		return 9;	/* no buffer: nothing returned, nothing cleared */
	close(fd);
	return 0;
}

TEST_F(attach, exit_log_bounded_cleared_per_namespace)
{
	const char *param = "/sys/module/shmr/parameters/exit_log_size";
	struct shmr_exit_record r[64];
	unsigned int total, i;
	char old[32] = "";
	uint64_t *id;
	int n, st, pfd;
	pid_t pid;

	pfd = open(param, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, pfd);
	ASSERT_LT(0, read(pfd, old, sizeof(old) - 1));
	ASSERT_EQ(1, pwrite(pfd, "2", 1, 0));
	id = mmap(NULL, sizeof(*id), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, id);
	*id = 0;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(exit_log_child(self->pg, id));
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	pwrite(pfd, old, strlen(old), 0);
	close(pfd);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	/* none of it is visible here */
	ASSERT_NE(0ULL, *id);
	n = exited(self->ctl, r, 64, 0, &total);
	ASSERT_LE(0, n);
	for (i = 0; i < (unsigned int)n; i++)
		EXPECT_NE(*id, r[i].region_id);
	munmap(id, sizeof(*id));
}

TEST_HARNESS_MAIN
