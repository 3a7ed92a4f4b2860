// SPDX-License-Identifier: GPL-2.0
/*
 * review_sync: msync() on a region mapping and fsync()/fdatasync() on a
 * region handle succeed as they do on a memfd (shmem has nothing to write
 * back, so they return 0). Python's mmap.flush(), databases and many
 * libraries call them; they failed with EINVAL (issue 14, item 3).
 * Each call is made on a memfd first, in the same process, and the region
 * must give the same result.
 */
#include "shmr_test.h"

FIXTURE(sync) {
	int ctl, fd, mfd;
	long pg;
	char name[96];
};

FIXTURE_SETUP(sync)
{
	SHMR_REQUIRE_DEVICE();
	self->pg = shmr_page_size();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	shmr_test_name(self->name, sizeof(self->name), "review_sync");
	self->fd = shmr_create(self->ctl, shmr_track(self->name), 4 * self->pg,
			       SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, self->fd);
	self->mfd = memfd_create("review_sync", MFD_CLOEXEC);
	ASSERT_LE(0, self->mfd);
	ASSERT_EQ(0, ftruncate(self->mfd, 4 * self->pg));
}

FIXTURE_TEARDOWN(sync)
{
	close(self->mfd);
	close(self->fd);
	shmr_cleanup();
	close(self->ctl);
}

/* 0, or the errno of a failed call. */
static int msync_err(void *p, size_t len, int flags)
{
	return msync(p, len, flags) ? errno : 0;
}

/* Every msync() flag combination on a mapping of fd, as on a memfd's. */
static void check_msync(struct __test_metadata *_metadata, int fd, int mfd,
			size_t len, int prot)
{
	static const int flags[] = {
		MS_SYNC, MS_ASYNC, MS_INVALIDATE, MS_SYNC | MS_INVALIDATE,
		MS_ASYNC | MS_INVALIDATE,
	};
	char *p, *m;
	size_t i;

	p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	m = mmap(NULL, len, prot, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, m);
	if (prot & PROT_WRITE) {
		memset(p, 0x3c, len);
		memset(m, 0x3c, len);
	}
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		int want = msync_err(m, len, flags[i]);

		EXPECT_EQ(0, want) TH_LOG("memfd msync(%#x)", flags[i]);
		EXPECT_EQ(want, msync_err(p, len, flags[i]))
			TH_LOG("region msync(%#x)", flags[i]);
	}
	/* MS_SYNC | MS_ASYNC is invalid on both. */
	EXPECT_EQ(EINVAL, msync_err(m, len, MS_SYNC | MS_ASYNC));
	EXPECT_EQ(EINVAL, msync_err(p, len, MS_SYNC | MS_ASYNC));
	if (prot & PROT_WRITE)
		EXPECT_TRUE(shmr_all_bytes(p, len, 0x3c));
	ASSERT_EQ(0, munmap(m, len));
	ASSERT_EQ(0, munmap(p, len));
}

TEST_F(sync, msync_writable_mapping)
{
	check_msync(_metadata, self->fd, self->mfd, 4 * self->pg,
		    PROT_READ | PROT_WRITE);
}

TEST_F(sync, msync_read_only_mapping)
{
	int rfd = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	int rmfd;
	char path[64];

	ASSERT_LE(0, rfd);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", self->mfd);
	rmfd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, rmfd);
	check_msync(_metadata, rfd, rmfd, 4 * self->pg, PROT_READ);
	close(rmfd);
	close(rfd);
}

/* The handle closed: the mapping alone, as in Python's mmap after close. */
TEST_F(sync, msync_after_close)
{
	long len = 4 * self->pg;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
		       self->fd, 0);

	ASSERT_NE(MAP_FAILED, p);
	close(self->fd);
	self->fd = -1;
	memset(p, 1, len);
	EXPECT_EQ(0, msync_err(p, len, MS_SYNC));
	EXPECT_EQ(0, msync_err(p + self->pg, self->pg, MS_SYNC));
	ASSERT_EQ(0, munmap(p, len));
}

static int call_err(int ret)
{
	return ret ? errno : 0;
}

TEST_F(sync, fsync_handles)
{
	int rfd = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);

	ASSERT_LE(0, rfd);
	EXPECT_EQ(0, call_err(fsync(self->mfd)));
	EXPECT_EQ(0, call_err(fdatasync(self->mfd)));
	EXPECT_EQ(0, call_err(fsync(self->fd)));
	EXPECT_EQ(0, call_err(fdatasync(self->fd)));
	EXPECT_EQ(0, call_err(fsync(rfd)));
	EXPECT_EQ(0, call_err(fdatasync(rfd)));
	close(rfd);
}

TEST_F(sync, fsync_anonymous_region)
{
	int afd = shmr_create(self->ctl, NULL, self->pg, 0, 0600, NULL);

	ASSERT_LE(0, afd);
	EXPECT_EQ(0, call_err(fsync(afd)));
	EXPECT_EQ(0, call_err(fdatasync(afd)));
	close(afd);
}

TEST_HARNESS_MAIN
