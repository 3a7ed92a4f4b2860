// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_misc: IPC-namespace isolation, module-parameter limits, huge-page
 * regions and sealing.
 */
#include "shmr_test.h"
#include <sched.h>

#define PARAM_DIR "/sys/module/shmr/parameters/"

static int param_read(const char *name, unsigned long long *v)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ok = fscanf(f, "%llu", v) == 1;
	fclose(f);
	return ok ? 0 : -EIO;
}

static int param_write(const char *name, unsigned long long v)
{
	char path[128], buf[32];
	int fd, n, ret = 0;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%llu", v);
	if (write(fd, buf, n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

FIXTURE(misc) {
	int ctl;
	long pg;
	char name[64];
	unsigned long long region_size, regions, user_bytes, user_regions;
	long long live0;
};

FIXTURE_SETUP(misc)
{
	SHMR_REQUIRE_DEVICE();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	self->pg = shmr_page_size();
	shmr_test_name(self->name, sizeof(self->name), "kmod_misc");
	ASSERT_EQ(0, param_read("max_region_size", &self->region_size));
	ASSERT_EQ(0, param_read("max_regions", &self->regions));
	ASSERT_EQ(0, param_read("max_user_bytes", &self->user_bytes));
	ASSERT_EQ(0, param_read("max_user_regions", &self->user_regions));
	self->live0 = shmr_counter("regions_live");
}

FIXTURE_TEARDOWN(misc)
{
	param_write("max_region_size", self->region_size);
	param_write("max_regions", self->regions);
	param_write("max_user_bytes", self->user_bytes);
	param_write("max_user_regions", self->user_regions);
	shmr_cleanup();
	close(self->ctl);
}

TEST_F(misc, ipc_namespace_isolation)
{
	struct shmr_create c;
	int fd, status, pfd[2];
	pid_t pid;
	char r = 0;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0600, &c);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(pfd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct shmr_region_info info;
		struct shmr_list l;
		char line[512];
		bool seen = false;
		int f2, ctl;
		FILE *f;

		if (unshare(CLONE_NEWIPC))
			_exit(1);
		/* a control fd opened here acts here */
		ctl = shmr_ctl_open();
		if (ctl < 0)
			_exit(11);
		if (shmr_open(ctl, self->name, 0, NULL) != -ENOENT)
			_exit(2);
		memset(&l, 0, sizeof(l));
		if (shmr_ioctl(ctl, SHMR_IOC_LIST, &l) || l.total != 0)
			_exit(3);
		if (shmr_stat_id(ctl, c.id, &info) != -ENOENT)
			_exit(4);
		/* the fd still works: handles are not names */
		if (shmr_stat_fd(fd, &info) || info.id != c.id)
			_exit(5);
		f = fopen("/proc/shmr", "re");
		if (!f)
			_exit(6);
		while (fgets(line, sizeof(line), f))
			seen |= strstr(line, self->name) != NULL;
		fclose(f);
		if (seen)
			_exit(7);
		/* the same name is free here */
		f2 = shmr_create(ctl, self->name, self->pg,
				 SHMR_CREATE_EXCL, 0600, NULL);
		if (f2 < 0)
			_exit(8);
		if (shmr_unlink(ctl, self->name))
			_exit(9);
		close(f2);
		/* the control fd opened before unshare() stays in its namespace */
		f2 = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
		if (f2 < 0)
			_exit(12);
		close(f2);
		close(ctl);
		r = 'y';
		if (write(pfd[1], &r, 1) != 1)
			_exit(10);
		_exit(0);
	}
	close(pfd[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(1, read(pfd[0], &r, 1));
	close(pfd[0]);
	/* ours is untouched */
	close(fd);
	fd = shmr_open(self->ctl, self->name, 0, NULL);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name));
	EXPECT_EQ(self->live0, shmr_counter("regions_live"));
}

TEST_F(misc, limit_region_size)
{
	struct shmr_features f;
	int fd;

	ASSERT_EQ(0, param_write("max_region_size", 4 * self->pg));
	ASSERT_EQ(0, shmr_features(self->ctl, &f));
	EXPECT_EQ(4ULL * self->pg, f.max_region_size);
	fd = shmr_create(self->ctl, NULL, 4 * self->pg, 0, 0600, NULL);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(-EFBIG, shmr_create(self->ctl, NULL, 4 * self->pg + 1, 0,
				      0600, NULL));
	/* out-of-range values are refused */
	EXPECT_GT(0, param_write("max_region_size", 0));
	EXPECT_GT(0, param_write("max_region_size", 1ULL << 62));
	EXPECT_EQ(self->live0, shmr_counter("regions_live"));
}

TEST_F(misc, limit_regions)
{
	long long live = shmr_counter("regions_live");
	int fd;

	ASSERT_LE(0, live);
	ASSERT_EQ(0, param_write("max_regions", live + 1));
	fd = shmr_create(self->ctl, NULL, self->pg, 0, 0600, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOSPC, shmr_create(self->ctl, NULL, self->pg, 0, 0600, NULL));
	EXPECT_EQ(-ENOSPC, shmr_create(self->ctl, self->name, self->pg, 0,
				       0600, NULL));
	close(fd);
	fd = shmr_create(self->ctl, NULL, self->pg, 0, 0600, NULL);
	EXPECT_LE(0, fd);
	close(fd);
	EXPECT_GT(0, param_write("max_regions", 0));
	EXPECT_EQ(self->live0, shmr_counter("regions_live"));
}

/* As another uid: create regions (kept open) until refused; how many. */
static int create_until_refused(void *arg)
{
	int ctl = shmr_ctl_open(), n = 0, fd;
	long pg = shmr_page_size();

	(void)arg;
	if (ctl < 0)
		return ctl;
	while ((fd = shmr_create(ctl, NULL, pg, 0, 0600, NULL)) >= 0)
		if (++n > 64)
			return -E2BIG;	/* no limit seen */
	return fd == -EDQUOT ? n : fd;
}

/*
 * max_user_regions: each uid may hold that many live regions, whatever
 * the others hold; the count is per creating euid, not global.
 */
TEST_F(misc, limit_user_regions)
{
	const struct shmr_creds user = { .uid = 1000, .gid = 1000, .caps = 0 };
	const struct shmr_creds peer = { .uid = 1001, .gid = 1001, .caps = 0 };
	struct shmr_features f;
	int fds[4], i;

	ASSERT_EQ(0, param_write("max_user_regions", 3));
	ASSERT_EQ(0, shmr_features(self->ctl, &f));
	EXPECT_EQ(3ULL, f.max_user_regions);
	EXPECT_EQ(3, shmr_run_as(&user, create_until_refused, NULL));
	/* the first user's regions went with its process; the peer gets its own 3 */
	EXPECT_EQ(3, shmr_run_as(&peer, create_until_refused, NULL));
	/* root (CAP_SYS_RESOURCE) is not limited: 4 live regions at a limit of 3 */
	for (i = 0; i < 4; i++) {
		fds[i] = shmr_create(self->ctl, NULL, self->pg, 0, 0600, NULL);
		EXPECT_LE(0, fds[i]) TH_LOG("region %d", i);
	}
	for (i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	EXPECT_GT(0, param_write("max_user_regions", 0));
	EXPECT_GT(0, param_write("max_user_regions", (1ULL << 20) + 1));
	EXPECT_EQ(self->live0, shmr_counter("regions_live"));
}

TEST_F(misc, limit_user_bytes)
{
	int fd;

	/* other tests may run as this uid: only creations made here count */
	ASSERT_EQ(0, param_write("max_user_bytes", 1ULL << 40));
	fd = shmr_create(self->ctl, NULL, 1ULL << 40, 0, 0600, NULL);
	if (fd >= 0) {
		EXPECT_EQ(-EDQUOT, shmr_create(self->ctl, NULL, self->pg, 0,
					       0600, NULL));
		close(fd);
	} else {
		EXPECT_EQ(-EFBIG, fd);	/* max_region_size is smaller */
	}
	ASSERT_EQ(0, param_write("max_user_bytes", 8 * self->pg));
	ASSERT_EQ(0, param_write("max_region_size", 16 * self->pg));
	fd = shmr_create(self->ctl, NULL, 16 * self->pg, 0, 0600, NULL);
	EXPECT_EQ(-EDQUOT, fd);
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(self->live0, shmr_counter("regions_live"));
}

static long smaps_kb(void *addr, const char *key)
{
	char line[256], range[64];
	unsigned long start, end;
	bool in = false;
	size_t n = strlen(key);
	long total = -1;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s", range) == 1 &&
		    sscanf(range, "%lx-%lx", &start, &end) == 2 &&
		    strchr(range, '-')) {
			in = (unsigned long)addr >= start &&
			     (unsigned long)addr < end;
			continue;
		}
		if (in && !strncmp(line, key, n) && line[n] == ':') {
			total = atol(line + n + 1);
			break;
		}
	}
	fclose(f);
	return total;
}

/*
 * HUGE is offered exactly when the kernel has THP (the PREEMPT_RT kernels
 * have none); where it is not, CREATE with it fails cleanly and creates
 * nothing.
 */
TEST_F(misc, huge_follows_thp)
{
	bool thp = access("/sys/kernel/mm/transparent_hugepage", F_OK) == 0;
	struct shmr_features f;
	struct shmr_create c;
	int fd;

	ASSERT_EQ(0, shmr_features(self->ctl, &f));
	EXPECT_EQ(thp, !!(f.features & SHMR_FEAT_HUGE));
	EXPECT_EQ(thp, !!(f.create_flags & SHMR_CREATE_HUGE));
	if (thp)
		SKIP(return, "the kernel has THP: huge_region_gets_huge_pages tests HUGE");
	fd = shmr_create(self->ctl, NULL, self->pg, SHMR_CREATE_HUGE, 0600, &c);
	EXPECT_EQ(-EOPNOTSUPP, fd);
	fd = shmr_create(self->ctl, self->name, self->pg,
			 SHMR_CREATE_HUGE | SHMR_CREATE_EXCL, 0600, &c);
	EXPECT_EQ(-EOPNOTSUPP, fd);
	EXPECT_EQ(self->live0, shmr_counter("regions_live"));
	EXPECT_EQ(-ENOENT, shmr_open(self->ctl, self->name, 0, NULL));
}

TEST_F(misc, huge_region_gets_huge_pages)
{
	size_t len = 4 << 20;
	struct shmr_features f;
	struct shmr_create c;
	unsigned char *p;
	long pmd;
	int fd;

	ASSERT_EQ(0, shmr_features(self->ctl, &f));
	if (!(f.features & SHMR_FEAT_HUGE))
		SKIP(return, "module reports no huge page support");
	/* sizes round to 2 MiB */
	fd = shmr_create(self->ctl, NULL, 1, SHMR_CREATE_HUGE, 0600, &c);
	ASSERT_LE(0, fd);
	EXPECT_EQ(2ULL << 20, c.size);
	close(fd);

	fd = shmr_create(self->ctl, NULL, len, SHMR_CREATE_HUGE, 0600, &c);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0UL, (unsigned long)p & ((2UL << 20) - 1));
	shmr_fill(p, len, 0x11);
	pmd = smaps_kb(p, "FilePmdMapped");
	if (pmd <= 0)
		pmd = smaps_kb(p, "ShmemPmdMapped");
	EXPECT_LT(0, pmd) TH_LOG("no PMD mapping of the huge region");
	EXPECT_TRUE(shmr_all_bytes(p, len, 0x11));
	munmap(p, len);
	close(fd);
	EXPECT_EQ(self->live0, shmr_counter("regions_live"));
}

TEST_F(misc, seal_write)
{
	struct shmr_region_info info;
	struct shmr_seal s;
	unsigned char *w, *r;
	int fd, ro, ret;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0644, NULL);
	ASSERT_LE(0, fd);
	w = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, w);
	ro = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, ro);
	memset(&s, 0, sizeof(s));
	s.seals = SHMR_SEAL_WRITE;
	EXPECT_EQ(-EPERM, shmr_ioctl(ro, SHMR_IOC_SEAL, &s));
	ASSERT_EQ(0, shmr_ioctl(fd, SHMR_IOC_SEAL, &s));
	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_TRUE(!!(info.flags & SHMR_INFO_SEALED));
	/* the existing writable mapping keeps its access */
	w[0] = 9;
	/* no new writable mapping, even through the read-write handle */
	EXPECT_EQ(MAP_FAILED, mmap(NULL, self->pg, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, 0));
	EXPECT_EQ(EPERM, errno);
	r = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, r);
	EXPECT_EQ(9, r[0]);
	EXPECT_EQ(-1, mprotect(r, self->pg, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(r, self->pg);
	/* no new writable handle */
	EXPECT_EQ(-EPERM, shmr_open(self->ctl, self->name, 0, NULL));
	EXPECT_EQ(-EPERM, shmr_create(self->ctl, self->name, self->pg, 0, 0644,
				      NULL));
	ret = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	EXPECT_LE(0, ret);
	if (ret >= 0)
		close(ret);
	/* sealing again is harmless; unknown seals are refused */
	EXPECT_EQ(0, shmr_ioctl(fd, SHMR_IOC_SEAL, &s));
	s.seals = 1U << 1;
	EXPECT_EQ(-EINVAL, shmr_ioctl(fd, SHMR_IOC_SEAL, &s));
	munmap(w, self->pg);
	close(ro);
	close(fd);
	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name));
	EXPECT_EQ(self->live0, shmr_counter("regions_live"));
}

TEST_HARNESS_MAIN
