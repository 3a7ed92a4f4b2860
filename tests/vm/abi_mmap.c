// SPDX-License-Identifier: GPL-2.0
/*
 * mmap() of a region fd: MAP_SHARED only; offset and length bounded by the
 * region (a mapping ending exactly at the end works, one byte page further
 * is refused with -ENXIO, POSIX's errno for this); growing a mapping past the end with mremap() cannot reach
 * memory (refused, or SIGBUS); a read-only handle gets no writable mapping,
 * neither at mmap() nor by mprotect(); read(), write() and ftruncate() on a
 * region fd are refused (the region is only reachable through mappings).
 */
#include "shmr_test.h"

FIXTURE(mmap) {
	int ctl;
	int fd;			/* read-write handle */
	int ro;			/* read-only handle of the same region */
	uint64_t pg;
	uint64_t size;		/* 4 pages */
	char name[128];
};

FIXTURE_SETUP(mmap)
{
	SHMR_REQUIRE_DEVICE();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	self->pg = (uint64_t)shmr_page_size();
	self->size = 4 * self->pg;
	shmr_test_name(self->name, sizeof(self->name), "abi_mmap");
	self->fd = shmr_create(self->ctl, shmr_track(self->name), self->size,
			       SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, self->fd);
	self->ro = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, self->ro);
}

FIXTURE_TEARDOWN(mmap)
{
	shmr_cleanup();
	close(self->ro);
	close(self->fd);
	close(self->ctl);
}

/* mmap() returning 0 (and unmapping) or -errno. */
static int try_map(size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, len);
	return 0;
}

TEST_F(mmap, shared_whole_region)
{
	unsigned char *p, *q;

	p = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* fresh shmem reads as zeros */
	EXPECT_TRUE(shmr_all_bytes(p, self->size, 0));
	p[0] = 0x11;
	p[self->size - 1] = 0x22;
	/* a second mapping, through the read-only handle, sees the data */
	q = mmap(NULL, self->size, PROT_READ, MAP_SHARED, self->ro, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0x11, q[0]);
	EXPECT_EQ(0x22, q[self->size - 1]);
	munmap(q, self->size);
	munmap(p, self->size);
	/* the data outlives the mappings while the region lives */
	q = mmap(NULL, self->size, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_EQ(0x11, q[0]);
	EXPECT_EQ(0x22, q[self->size - 1]);
	munmap(q, self->size);
}

TEST_F(mmap, private_refused)
{
	EXPECT_EQ(-EINVAL, try_map(self->size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
				   self->fd, 0));
	EXPECT_EQ(-EINVAL, try_map(self->size, PROT_READ, MAP_PRIVATE, self->fd, 0));
	EXPECT_EQ(-EINVAL, try_map(self->pg, PROT_READ, MAP_PRIVATE, self->ro, 0));
	/* MAP_SHARED_VALIDATE is MAP_SHARED */
	EXPECT_EQ(0, try_map(self->size, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE,
			     self->fd, 0));
}

TEST_F(mmap, exactly_to_the_end)
{
	unsigned char *p, *last;

	/* the last page alone */
	last = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd,
		    (off_t)(self->size - self->pg));
	ASSERT_NE(MAP_FAILED, last);
	last[self->pg - 1] = 0x5a;
	/* the middle pages, ending at the end */
	p = mmap(NULL, self->size - self->pg, PROT_READ, MAP_SHARED, self->fd,
		 (off_t)self->pg);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0x5a, p[self->size - self->pg - 1]);
	munmap(p, self->size - self->pg);
	munmap(last, self->pg);
	/* a length that is not a page multiple, rounded up to the end */
	EXPECT_EQ(0, try_map(self->size - 1, PROT_READ, MAP_SHARED, self->fd, 0));
	EXPECT_EQ(0, try_map(self->pg - 100, PROT_READ, MAP_SHARED, self->fd,
			     (off_t)(self->size - self->pg)));
}

/* POSIX: "[ENXIO] Addresses in the range [off,off+len) are invalid for the object" */
TEST_F(mmap, length_past_end)
{
	EXPECT_EQ(-ENXIO, try_map(self->size + self->pg, PROT_READ, MAP_SHARED,
				  self->fd, 0));
	EXPECT_EQ(-ENXIO, try_map(self->size + 1, PROT_READ, MAP_SHARED, self->fd, 0));
	EXPECT_EQ(-ENXIO, try_map(self->size, PROT_READ, MAP_SHARED, self->fd,
				  (off_t)self->pg));
	EXPECT_EQ(-ENXIO, try_map(2 * self->pg, PROT_READ, MAP_SHARED, self->fd,
				  (off_t)(self->size - self->pg)));
	EXPECT_EQ(-ENXIO, try_map(64 * self->size, PROT_READ, MAP_SHARED, self->ro, 0));
}

TEST_F(mmap, offset_past_end)
{
	EXPECT_EQ(-ENXIO, try_map(self->pg, PROT_READ, MAP_SHARED, self->fd,
				  (off_t)self->size));
	EXPECT_EQ(-ENXIO, try_map(self->pg, PROT_READ, MAP_SHARED, self->fd,
				  (off_t)(self->size + self->pg)));
	EXPECT_EQ(-ENXIO, try_map(self->pg, PROT_READ, MAP_SHARED, self->fd,
				  (off_t)1 << 40));
	EXPECT_EQ(-ENXIO, try_map(self->pg, PROT_READ, MAP_SHARED, self->ro,
				  (off_t)self->size));
}

/* Touch the page at arg; the child's death tells what happened. */
static void touch_byte(void *arg)
{
	*(volatile unsigned char *)arg = 1;
}

static void read_byte(void *arg)
{
	(void)*(volatile unsigned char *)arg;
}

TEST_F(mmap, mremap_past_end)
{
	unsigned char *p, *q;

	p = mmap(NULL, self->size, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/*
	 * Growing the mapping beyond the region either fails (VM_DONTEXPAND)
	 * or leaves pages that raise SIGBUS: never memory.
	 */
	q = mremap(p, self->size, self->size + 2 * self->pg, MREMAP_MAYMOVE);
	if (q == MAP_FAILED) {
		munmap(p, self->size);
		return;
	}
	EXPECT_EQ(SIGBUS, shmr_child_signal(read_byte, q + self->size));
	EXPECT_EQ(SIGBUS, shmr_child_signal(touch_byte, q + self->size + self->pg));
	/* the part inside still works */
	EXPECT_EQ(0, shmr_child_signal(touch_byte, q + self->size - 1));
	munmap(q, self->size + 2 * self->pg);
}

TEST_F(mmap, read_only_handle_no_write_mapping)
{
	unsigned char *p;

	EXPECT_EQ(-EACCES, try_map(self->size, PROT_READ | PROT_WRITE, MAP_SHARED,
				   self->ro, 0));
	EXPECT_EQ(-EACCES, try_map(self->pg, PROT_WRITE, MAP_SHARED, self->ro, 0));
	EXPECT_EQ(-EACCES, try_map(self->pg, PROT_READ | PROT_WRITE,
				   MAP_SHARED_VALIDATE, self->ro, (off_t)self->pg));

	p = mmap(NULL, self->size, PROT_READ, MAP_SHARED, self->ro, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, self->size, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, mprotect(p + self->pg, self->pg, PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	/* writing through it faults; the region is unchanged */
	EXPECT_EQ(SIGSEGV, shmr_child_signal(touch_byte, p));
	EXPECT_EQ(0, p[0]);
	/* PROT_NONE and back to PROT_READ is fine */
	EXPECT_EQ(0, mprotect(p, self->size, PROT_NONE));
	EXPECT_EQ(0, mprotect(p, self->size, PROT_READ));
	munmap(p, self->size);
}

TEST_F(mmap, read_write_handle_mprotect)
{
	unsigned char *p;

	p = mmap(NULL, self->size, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mprotect(p, self->size, PROT_READ | PROT_WRITE));
	p[1] = 7;
	EXPECT_EQ(7, p[1]);
	munmap(p, self->size);
}

TEST_F(mmap, fd_read_write_refused)
{
	char buf[64] = { 0 };

	/* the header defines no read/write on region fds: the VFS answers */
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, read(self->ro, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
	/* a read-only handle is not open for writing at all */
	EXPECT_EQ(-1, write(self->ro, buf, sizeof(buf)));
	EXPECT_EQ(EBADF, errno);
}

TEST_F(mmap, ftruncate_refused)
{
	struct shmr_region_info info;

	/*
	 * The size is fixed at creation: like a memfd sealed with
	 * F_SEAL_SHRINK | F_SEAL_GROW, -EPERM; a read-only handle is not open
	 * for writing, -EINVAL as for any such fd.
	 */
	EXPECT_EQ(-1, ftruncate(self->fd, 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, ftruncate(self->fd, (off_t)(2 * self->size)));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, ftruncate(self->fd, (off_t)self->size - 1));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(-1, ftruncate(self->ro, 0));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, shmr_stat_fd(self->fd, &info));
	EXPECT_EQ(self->size, info.size);
	EXPECT_EQ(0, try_map(self->size, PROT_READ, MAP_SHARED, self->fd, 0));
}

TEST_HARNESS_MAIN
