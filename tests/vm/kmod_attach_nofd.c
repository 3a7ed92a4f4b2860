// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_attach_nofd: what SHMR_IOC_ATTACH maps is what mmap() of a handle
 * maps, without a handle: STAT counts a mapping and no handle, no fd is
 * made, /proc/PID/maps names the region, the memory is shared with every
 * other mapping; attach tracking, DETACHED, exit records of a process
 * killed or exiting while attached, fork; the region freed once unlinked
 * and detached, every counter back; one process attached to more regions
 * than it may open fds; huge page alignment; refused through io_uring; and
 * names looked up in the control fd's IPC namespace.
 */
#include "shmr_test.h"
#include <dirent.h>
#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <liburing.h>

FIXTURE(nofd) {
	int ctl;
	uint64_t pg;
	char name[128];
	long long regions0, mappings0, handles0, attach0;
};

FIXTURE_SETUP(nofd)
{
	SHMR_REQUIRE_DEVICE();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	self->pg = (uint64_t)shmr_page_size();
	shmr_test_name(self->name, sizeof(self->name), "kmod_attach_nofd");
	self->regions0 = shmr_counter("regions_live");
	self->mappings0 = shmr_counter("mappings_live");
	self->handles0 = shmr_counter("handles_live");
	self->attach0 = shmr_counter("attach_live");
}

FIXTURE_TEARDOWN(nofd)
{
	shmr_cleanup();
	close(self->ctl);
}

/* A named region of @size bytes, mode 0600, no handle left open: its id. */
static uint64_t make_region(int ctl, const char *name, uint64_t size)
{
	struct shmr_create c;
	int fd = shmr_create(ctl, shmr_track(name), size, SHMR_CREATE_EXCL, 0600, &c);

	if (fd < 0)
		return 0;
	close(fd);
	return c.id;
}

static int stat_attach(int ctl, uint64_t id, struct shmr_region_info *info,
		       struct shmr_attach_info *a, unsigned int cap)
{
	struct shmr_stat s;
	int ret;

	memset(&s, 0, sizeof(s));
	s.id = id;
	s.attach = (uintptr_t)a;
	s.attach_cap = cap;
	ret = shmr_ioctl(ctl, SHMR_IOC_STAT, &s);
	if (ret)
		return ret;
	if (info)
		*info = s.info;
	return (int)s.attach_count;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

/* The /proc/self/maps line of the mapping at @addr, or "" */
static void maps_line(unsigned long addr, char *out, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strtoul(line, NULL, 16) == addr) {
			snprintf(out, len, "%s", line);
			break;
		}
	}
	fclose(f);
}

/* Wait until STAT of @fd shows @nattach processes and @mappings mappings. */
static bool wait_counts(int fd, unsigned int nattach, unsigned int mappings)
{
	struct shmr_region_info i;

	return shmr_wait_until(!shmr_stat_fd(fd, &i) && i.nattach == nattach &&
			       i.mappings == mappings);
}

/* The same, by id on the control fd. */
static bool wait_counts_id(int ctl, uint64_t id, unsigned int nattach,
			   unsigned int mappings)
{
	struct shmr_region_info i;

	return shmr_wait_until(!shmr_stat_id(ctl, id, &i) && i.nattach == nattach &&
			       i.mappings == mappings);
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

static int exit_records(int ctl, uint64_t id, struct shmr_exit_record *out, int cap)
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

TEST_F(nofd, no_handle_no_fd)
{
	struct shmr_region_info info;
	struct shmr_attach_info at[2];
	struct shmr_attach_req a;
	char line[512], want[200];
	int fds;
	uint64_t id;

	id = make_region(self->ctl, self->name, 3 * self->pg);
	ASSERT_NE(0ULL, id);
	fds = count_fds();
	ASSERT_LT(0, fds);
	ASSERT_EQ(0, shmr_attach(self->ctl, self->name, 0, &a));
	EXPECT_EQ(fds, count_fds()) TH_LOG("ATTACH made an fd");
	EXPECT_EQ(self->handles0, shmr_counter("handles_live"));
	ASSERT_EQ(1, stat_attach(self->ctl, id, &info, at, 2));
	EXPECT_EQ(0U, info.handles);
	EXPECT_EQ(1U, info.mappings);
	EXPECT_EQ(1U, info.nattach);
	EXPECT_EQ(getpid(), at[0].pid);
	EXPECT_EQ(0U, at[0].handles);
	EXPECT_EQ(1U, at[0].mappings);
	EXPECT_NE(0ULL, at[0].since_ns);

	/* the VMA is a region mapping like mmap() of a handle makes */
	maps_line((unsigned long)a.addr, line, sizeof(line));
	snprintf(want, sizeof(want), "/shmr:%s (deleted)", self->name);
	EXPECT_NE(NULL, strstr(line, want)) TH_LOG("maps: %s", line);
	EXPECT_NE(NULL, strstr(line, " rw-s ")) TH_LOG("maps: %s", line);

	ASSERT_EQ(0, munmap((void *)(uintptr_t)a.addr, a.size));
	ASSERT_EQ(0, stat_attach(self->ctl, id, &info, at, 2));
	EXPECT_EQ(0U, info.mappings);
	EXPECT_EQ(0U, info.nattach);
	EXPECT_EQ(self->attach0, shmr_counter("attach_live"));
}

/*
 * Nothing reaches the file ATTACH maps through: remap_file_pages() meets
 * the map file (no mmap: -ENODEV), /proc/self/map_files its inode (-EACCES).
 */
TEST_F(nofd, attach_file_unreachable)
{
	struct shmr_attach_req a;
	char path[128];
	int fd;

	ASSERT_NE(0ULL, make_region(self->ctl, self->name, 2 * self->pg));
	ASSERT_EQ(0, shmr_attach(self->ctl, self->name, SHMR_ATTACH_RDONLY, &a));
	EXPECT_EQ(-1, remap_file_pages((void *)(uintptr_t)a.addr, self->pg, 0, 1, 0));
	EXPECT_EQ(ENODEV, errno);
	snprintf(path, sizeof(path), "/proc/self/map_files/%llx-%llx",
		 (unsigned long long)a.addr, (unsigned long long)(a.addr + a.size));
	fd = open(path, O_RDWR | O_CLOEXEC);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EACCES, errno);
	if (fd >= 0)
		close(fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	EXPECT_EQ(-1, fd);
	EXPECT_EQ(EACCES, errno);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, munmap((void *)(uintptr_t)a.addr, a.size));
}

/* Two processes attached, each writes what the other reads. */
TEST_F(nofd, shared_between_processes)
{
	struct shmr_attach_req a;
	volatile unsigned char *p;
	int status;
	pid_t pid;

	ASSERT_NE(0ULL, make_region(self->ctl, self->name, self->pg));
	ASSERT_EQ(0, shmr_attach(self->ctl, self->name, 0, &a));
	p = (volatile unsigned char *)(uintptr_t)a.addr;
	p[1] = 0;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct shmr_attach_req b;
		volatile unsigned char *q;
		int ctl = shmr_ctl_open();

		/* a mapping of our own, not the one inherited */
		munmap((void *)(uintptr_t)a.addr, a.size);
		if (ctl < 0 || shmr_attach(ctl, self->name, 0, &b))
			_exit(1);
		q = (volatile unsigned char *)(uintptr_t)b.addr;
		q[0] = 0x5a;
		while (q[1] != 0xa5)
			usleep(1000);
		_exit(0);
	}
	EXPECT_TRUE(shmr_wait_until(p[0] == 0x5a));
	p[1] = 0xa5;
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(0, munmap((void *)(uintptr_t)a.addr, a.size));
}

/* A child that attaches @name (no handle), reports ready, waits for a signal. */
static pid_t spawn_attached(const char *name)
{
	int rdy[2];
	pid_t pid;
	char c;

	if (pipe(rdy))
		return -1;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		struct shmr_attach_req a;
		int ctl = shmr_ctl_open();

		prctl(PR_SET_NAME, "nofd-holder", 0, 0, 0);
		if (ctl < 0 || shmr_attach(ctl, name, 0, &a))
			_exit(1);
		close(ctl);
		if (write(rdy[1], "r", 1) != 1)
			_exit(3);
		for (;;)
			pause();
	}
	close(rdy[1]);
	if (pid < 0 || read(rdy[0], &c, 1) != 1)
		pid = -1;
	close(rdy[0]);
	return pid;
}

TEST_F(nofd, sigkill_leaves_exit_record_and_peer_died)
{
	struct shmr_exit_record rec[4];
	struct shmr_region_info info;
	struct shmr_attach_info at[4];
	struct shmr_create c;
	int fd, n, status;
	pid_t pid;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0600, &c);
	ASSERT_LE(0, fd);
	pid = spawn_attached(self->name);
	ASSERT_LT(0, pid);
	n = stat_attach(self->ctl, c.id, &info, at, 4);
	ASSERT_EQ(2, n);
	EXPECT_EQ(1U, info.handles);
	EXPECT_EQ(1U, info.mappings);
	for (int i = 0; i < n; i++) {
		if (at[i].pid != pid)
			continue;
		EXPECT_EQ(0U, at[i].handles);
		EXPECT_EQ(1U, at[i].mappings);
		EXPECT_STREQ("nofd-holder", at[i].comm);
	}
	EXPECT_FALSE(readable(fd, 0));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(readable(fd, SHMR_WAIT_SECONDS * 1000));
	EXPECT_EQ((uint32_t)SHMR_EV_PEER_DIED, take_events(fd));
	n = exit_records(self->ctl, c.id, rec, 4);
	ASSERT_EQ(1, n);
	EXPECT_EQ(pid, rec[0].pid);
	EXPECT_EQ(SIGKILL, rec[0].signal);
	EXPECT_EQ(0U, rec[0].handles);
	EXPECT_EQ(1U, rec[0].mappings);
	EXPECT_STREQ(self->name, rec[0].name);
	ASSERT_EQ(1, stat_attach(self->ctl, c.id, &info, at, 4));
	EXPECT_EQ(0U, info.mappings);
	close(fd);
	EXPECT_EQ(self->attach0, shmr_counter("attach_live"));
}

TEST_F(nofd, exit_while_attached_recorded)
{
	struct shmr_exit_record rec[4];
	struct shmr_create c;
	int fd, status;
	pid_t pid;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0600, &c);
	ASSERT_LE(0, fd);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct shmr_attach_req a;

		if (shmr_attach(self->ctl, self->name, SHMR_ATTACH_RDONLY, &a))
			_exit(1);
		_exit(7);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(7, WEXITSTATUS(status));
	EXPECT_TRUE(readable(fd, SHMR_WAIT_SECONDS * 1000));
	EXPECT_EQ((uint32_t)SHMR_EV_PEER_DIED, take_events(fd));
	ASSERT_EQ(1, exit_records(self->ctl, c.id, rec, 4));
	EXPECT_EQ(pid, rec[0].pid);
	EXPECT_EQ(0, rec[0].signal);
	EXPECT_EQ(7, rec[0].status);
	EXPECT_EQ(0U, rec[0].handles);
	EXPECT_EQ(1U, rec[0].mappings);
	close(fd);
}

/* munmap() of the last attached mapping detaches: DETACHED to the others. */
TEST_F(nofd, munmap_detaches)
{
	int fd, status, go[2];
	char ch;
	pid_t pid;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(go));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct shmr_attach_req a, b;

		close(go[1]);
		/* two mappings: the first munmap() is no detach */
		if (shmr_attach(self->ctl, self->name, 0, &a) ||
		    shmr_attach(self->ctl, self->name, SHMR_ATTACH_RDONLY, &b))
			_exit(1);
		if (munmap((void *)(uintptr_t)a.addr, a.size))
			_exit(2);
		if (read(go[0], &ch, 1) != 1)
			_exit(3);
		if (munmap((void *)(uintptr_t)b.addr, b.size))
			_exit(4);
		pause();	/* detached, alive */
		_exit(0);
	}
	close(go[0]);
	/* a mapping of the two is gone, the process is still attached */
	EXPECT_TRUE(wait_counts(fd, 2, 1));
	EXPECT_EQ(0U, take_events(fd));
	ASSERT_EQ(1, write(go[1], "g", 1));
	EXPECT_TRUE(readable(fd, SHMR_WAIT_SECONDS * 1000));
	EXPECT_EQ((uint32_t)SHMR_EV_DETACHED, take_events(fd));
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	/* holding nothing when it died: no event */
	EXPECT_EQ(0U, take_events(fd));
	close(go[1]);
	close(fd);
}

TEST_F(nofd, freed_when_unlinked_and_detached)
{
	struct shmr_region_info info;
	struct shmr_attach_req a, b;
	uint64_t id;

	id = make_region(self->ctl, self->name, 2 * self->pg);
	ASSERT_NE(0ULL, id);
	ASSERT_EQ(0, shmr_attach(self->ctl, self->name, 0, &a));
	ASSERT_EQ(0, shmr_attach(self->ctl, self->name, SHMR_ATTACH_RDONLY, &b));
	((unsigned char *)(uintptr_t)a.addr)[0] = 1;
	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name));
	/* only the mappings hold it now */
	ASSERT_EQ(0, shmr_stat_id(self->ctl, id, &info));
	EXPECT_TRUE(!!(info.flags & SHMR_INFO_UNLINKED));
	EXPECT_EQ(0U, info.handles);
	EXPECT_EQ(2U, info.mappings);
	EXPECT_EQ(self->regions0 + 1, shmr_counter("regions_live"));
	EXPECT_EQ(1, ((unsigned char *)(uintptr_t)b.addr)[0]);
	ASSERT_EQ(0, munmap((void *)(uintptr_t)a.addr, a.size));
	EXPECT_EQ(0, shmr_stat_id(self->ctl, id, &info));
	ASSERT_EQ(0, munmap((void *)(uintptr_t)b.addr, b.size));
	EXPECT_EQ(-ENOENT, shmr_stat_id(self->ctl, id, &info));
	EXPECT_EQ(self->regions0, shmr_counter("regions_live"));
	EXPECT_EQ(self->mappings0, shmr_counter("mappings_live"));
	EXPECT_EQ(self->handles0, shmr_counter("handles_live"));
	EXPECT_EQ(self->attach0, shmr_counter("attach_live"));
}

/* fork() copies the mapping: the child is attached too, until it exits. */
TEST_F(nofd, fork_attaches_child)
{
	struct shmr_region_info info;
	struct shmr_attach_req a;
	int status, go[2];
	uint64_t id;
	char ch;
	pid_t pid;

	id = make_region(self->ctl, self->name, self->pg);
	ASSERT_NE(0ULL, id);
	ASSERT_EQ(0, shmr_attach(self->ctl, self->name, 0, &a));
	ASSERT_EQ(0, pipe(go));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(go[1]);
		_exit(read(go[0], &ch, 1) == 1 ? 0 : 1);
	}
	close(go[0]);
	EXPECT_TRUE(wait_counts_id(self->ctl, id, 2, 2));
	ASSERT_EQ(0, shmr_stat_id(self->ctl, id, &info));
	EXPECT_EQ(0U, info.handles);
	ASSERT_EQ(1, write(go[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(go[1]);
	ASSERT_EQ(0, shmr_stat_id(self->ctl, id, &info));
	EXPECT_EQ(1U, info.nattach);
	EXPECT_EQ(1U, info.mappings);
	EXPECT_EQ(0, munmap((void *)(uintptr_t)a.addr, a.size));
}

/*
 * A worker attached to more regions than it may have fds open: with
 * RLIMIT_NOFILE at 16, it attaches 200 regions (OPEN would need an fd
 * each and fail with EMFILE).
 */
#define MANY	200

TEST_F(nofd, more_regions_than_fds)
{
	static struct shmr_attach_req a[MANY];
	static char names[MANY][128];
	int fds[32], nfd = 0, ret = 0;
	struct rlimit old, lim;
	unsigned int i, attached;

	/* process-lifetime: unlinked when this test's process exits */
	for (i = 0; i < MANY; i++) {
		int fd;

		shmr_test_name(names[i], sizeof(names[i]), "kmod_attach_nofd_many");
		fd = shmr_create(self->ctl, names[i], self->pg,
				 SHMR_CREATE_EXCL | SHMR_CREATE_PROCESS, 0600, NULL);
		ASSERT_LE(0, fd) TH_LOG("region %u", i);
		close(fd);
	}
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	lim = old;
	lim.rlim_cur = 16;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &lim));
	for (attached = 0; attached < MANY && !ret; attached++) {
		ret = shmr_attach(self->ctl, names[attached], 0, &a[attached]);
		if (ret)
			break;
		((volatile unsigned char *)(uintptr_t)a[attached].addr)[0] =
			(unsigned char)attached;
	}
	/* OPEN, for comparison, runs out of fds */
	while (nfd < 32) {
		ret = shmr_open(self->ctl, names[nfd], 0, NULL);
		if (ret < 0)
			break;
		fds[nfd++] = ret;
	}
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	EXPECT_EQ(-EMFILE, ret);
	while (nfd > 0)
		close(fds[--nfd]);
	EXPECT_EQ(MANY, (int)attached);
	for (i = 0; i < attached; i++) {
		EXPECT_EQ((unsigned char)i, ((unsigned char *)(uintptr_t)a[i].addr)[0]);
		munmap((void *)(uintptr_t)a[i].addr, a[i].size);
	}
	EXPECT_EQ(self->mappings0, shmr_counter("mappings_live"));
}

/* A huge page region is attached at a 2 MiB boundary, as mmap() would. */
TEST_F(nofd, huge_region_aligned)
{
	const uint64_t len = 4ULL << 20;
	struct shmr_features f;
	struct shmr_attach_req a;
	int fd;

	ASSERT_EQ(0, shmr_features(self->ctl, &f));
	if (!(f.features & SHMR_FEAT_HUGE))
		SKIP(return, "module reports no huge page support");
	fd = shmr_create(self->ctl, shmr_track(self->name), len,
			 SHMR_CREATE_HUGE | SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, shmr_attach(self->ctl, self->name, 0, &a));
	EXPECT_EQ(len, a.size);
	EXPECT_EQ(0ULL, (unsigned long long)(a.addr & ((2ULL << 20) - 1)));
	EXPECT_EQ(0, munmap((void *)(uintptr_t)a.addr, a.size));
}

/* ATTACH through io_uring: refused, whether issued inline or from a worker. */
TEST_F(nofd, uring_refused)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct shmr_attach_req a;
	struct io_uring ring;
	unsigned int flags[2] = { 0, IOSQE_ASYNC };
	uint64_t id, ptr;
	int ret, i;

	id = make_region(self->ctl, self->name, self->pg);
	ASSERT_NE(0ULL, id);
	ret = io_uring_queue_init(4, &ring, 0);
	if (ret == -ENOSYS || ret == -EPERM)
		SKIP(return, "io_uring unavailable (%d)", ret);
	ASSERT_EQ(0, ret);
	for (i = 0; i < 2; i++) {
		memset(&a, 0, sizeof(a));
		a.name = (uintptr_t)self->name;
		ptr = (uintptr_t)&a;
		sqe = io_uring_get_sqe(&ring);
		ASSERT_NE(NULL, sqe);
		io_uring_prep_rw(IORING_OP_URING_CMD, sqe, self->ctl, NULL, 0, 0);
		sqe->cmd_op = SHMR_IOC_ATTACH;
		sqe->flags |= flags[i];
		memcpy(sqe->cmd, &ptr, sizeof(ptr));
		ASSERT_EQ(1, io_uring_submit_and_wait(&ring, 1));
		ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
		EXPECT_EQ(-EOPNOTSUPP, cqe->res) TH_LOG("sqe flags %#x", flags[i]);
		io_uring_cqe_seen(&ring, cqe);
		EXPECT_EQ(0ULL, (unsigned long long)a.addr);
	}
	io_uring_queue_exit(&ring);
	EXPECT_EQ(self->mappings0, shmr_counter("mappings_live"));
}

/*
 * Names are looked up in the control fd's IPC namespace: after unshare(),
 * the old fd attaches the old region, a fd opened there does not see it,
 * and a region of the same name there is another one.
 */
TEST_F(nofd, ipc_namespace)
{
	uint64_t id;
	int status;
	pid_t pid;

	id = make_region(self->ctl, self->name, self->pg);
	ASSERT_NE(0ULL, id);
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct shmr_attach_req a;
		struct shmr_create c;
		int ctl, fd;

		if (unshare(CLONE_NEWIPC))
			_exit(1);
		ctl = shmr_ctl_open();
		if (ctl < 0)
			_exit(2);
		if (shmr_attach(ctl, self->name, 0, &a) != -ENOENT)
			_exit(3);
		fd = shmr_create(ctl, self->name, 2 * self->pg, SHMR_CREATE_EXCL, 0600, &c);
		if (fd < 0 || c.id == id)
			_exit(4);
		close(fd);
		if (shmr_attach(ctl, self->name, 0, &a) || a.id != c.id ||
		    a.size != 2 * self->pg)
			_exit(5);
		munmap((void *)(uintptr_t)a.addr, a.size);
		if (shmr_attach(self->ctl, self->name, 0, &a) || a.id != id ||
		    a.size != self->pg)
			_exit(6);
		munmap((void *)(uintptr_t)a.addr, a.size);
		if (shmr_unlink(ctl, self->name))
			_exit(7);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("step %d", WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
