// SPDX-License-Identifier: GPL-2.0
/*
 * review_noreserve: creating a region reserves no memory, like memfd +
 * ftruncate() (shmem's VM_NORESERVE): a region larger than the machine's
 * RAM and swap together is created and mapped, and its pages are charged
 * when they are faulted in (issue 14, item 9: such a CREATE failed with
 * ENOMEM under the kernel's overcommit heuristic). The per-user byte limit
 * (max_user_bytes) still counts the whole size; memory cgroup charging of
 * faulted pages is perm_memcg's.
 */
#include "shmr_test.h"
#include <sys/sysinfo.h>

#define PARAM_USER_BYTES "/sys/module/shmr/parameters/max_user_bytes"

FIXTURE(noreserve) {
	int ctl;
	long pg;
	uint64_t big;		/* more than RAM + swap */
	char name[96];
	char user_bytes[32];	/* max_user_bytes to restore, or "" */
};

static int read_param(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int write_param(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

FIXTURE_SETUP(noreserve)
{
	struct shmr_features f;
	struct sysinfo si;
	uint64_t mem;

	SHMR_REQUIRE_DEVICE();
	self->pg = shmr_page_size();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	shmr_test_name(self->name, sizeof(self->name), "review_noreserve");
	ASSERT_EQ(0, sysinfo(&si));
	mem = ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
	/* twice RAM + swap, a whole number of MiB */
	self->big = (2 * mem + (1 << 20) - 1) & ~((uint64_t)(1 << 20) - 1);
	ASSERT_EQ(0, shmr_features(self->ctl, &f));
	if (self->big > f.max_region_size || self->big > f.max_user_bytes)
		SKIP(_exit(255), "RAM + swap (%llu MiB) too large for the module limits",
		     (unsigned long long)(mem >> 20));
	self->user_bytes[0] = 0;
}

FIXTURE_TEARDOWN(noreserve)
{
	if (self->user_bytes[0])
		write_param(PARAM_USER_BYTES, self->user_bytes);
	shmr_cleanup();
	close(self->ctl);
}

/* Touch one page every @stride bytes of [p, p + len), then read them back. */
static bool touch_sparse(char *p, uint64_t len, uint64_t stride)
{
	uint64_t off;

	for (off = 0; off < len; off += stride)
		p[off] = (char)(off >> 20);
	for (off = 0; off < len; off += stride)
		if (p[off] != (char)(off >> 20))
			return false;
	return true;
}

TEST_F(noreserve, memfd_baseline)
{
	int mfd = memfd_create("review_noreserve", MFD_CLOEXEC);
	char *m;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, self->big)) TH_LOG("%llu MiB memfd",
						 (unsigned long long)(self->big >> 20));
	m = mmap(NULL, self->big, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, m);
	EXPECT_TRUE(touch_sparse(m, self->big, 64 << 20));
	munmap(m, self->big);
	close(mfd);
}

TEST_F(noreserve, region_larger_than_memory)
{
	struct shmr_region_info info;
	long long bytes0 = shmr_counter("bytes_live");
	int fd, afd;
	char *p;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->big,
			 SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd) TH_LOG("CREATE of %llu MiB: %s",
				(unsigned long long)(self->big >> 20),
				strerror(-fd));
	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_EQ(self->big, info.size);
	EXPECT_EQ(bytes0 + (long long)self->big, shmr_counter("bytes_live"));
	p = mmap(NULL, self->big, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* a page every 64 MiB: memory is used as it is touched */
	EXPECT_TRUE(touch_sparse(p, self->big, 64 << 20));
	munmap(p, self->big);
	close(fd);

	/* anonymous regions too */
	afd = shmr_create(self->ctl, NULL, self->big, 0, 0600, NULL);
	ASSERT_LE(0, afd) TH_LOG("anonymous CREATE: %s", strerror(-afd));
	close(afd);
	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name));
	EXPECT_TRUE(shmr_wait_until(shmr_counter("bytes_live") == bytes0));
}

/* max_user_bytes counts the whole size of what is created, touched or not. */
TEST_F(noreserve, user_bytes_still_limit)
{
	char val[32];
	int fd, fd2;

	ASSERT_EQ(0, read_param(PARAM_USER_BYTES, self->user_bytes,
				sizeof(self->user_bytes)));
	snprintf(val, sizeof(val), "%llu",
		 (unsigned long long)(self->big + self->big / 2));
	ASSERT_EQ(0, write_param(PARAM_USER_BYTES, val));
	fd = shmr_create(self->ctl, shmr_track(self->name), self->big,
			 SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	fd2 = shmr_create(self->ctl, NULL, self->big, 0, 0600, NULL);
	EXPECT_EQ(-EDQUOT, fd2);
	if (fd2 >= 0)
		close(fd2);
	fd2 = shmr_create(self->ctl, NULL, self->big / 2, 0, 0600, NULL);
	EXPECT_LE(0, fd2) TH_LOG("exactly up to the limit: %s",
				 strerror(-fd2));
	if (fd2 >= 0)
		close(fd2);
	close(fd);
}

TEST_HARNESS_MAIN
