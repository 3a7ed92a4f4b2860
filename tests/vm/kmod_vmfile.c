// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_vmfile: a mapping's vm_file (the region's map file) cannot be used
 * to map the region again: remap_file_pages() fails, the mapping stays
 * counted and keeps its data. Through a read-only mapping it cannot write
 * either: mprotect() to writable and MADV_REMOVE are refused. (MADV_REMOVE
 * through a writable mapping punches a hole, as on a memfd: review_shmem.)
 */
#include "shmr_test.h"
#include <sys/mman.h>

static void check_vmfile(struct __test_metadata *_metadata, bool rdonly)
{
	struct shmr_region_info info;
	long pg = shmr_page_size();
	char name[96];
	int ctl, fd, rfd;
	char *p;

	SHMR_REQUIRE_DEVICE();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	shmr_test_name(name, sizeof(name), "kmod_vmfile");
	fd = shmr_create(ctl, name, 4 * pg, SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x5a, 4 * pg);
	ASSERT_EQ(0, munmap(p, 4 * pg));
	if (rdonly) {
		rfd = shmr_open(ctl, name, SHMR_OPEN_RDONLY, NULL);
		ASSERT_LE(0, rfd);
		p = mmap(NULL, 4 * pg, PROT_READ, MAP_SHARED, rfd, 0);
		close(rfd);
	} else {
		p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
	}
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, shmr_unlink(ctl, name));

	/* Re-mmap of vm_file: refused, the mapping unchanged. */
	EXPECT_EQ(-1, remap_file_pages(p, pg, 0, 1, 0));
	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_EQ(1u, info.mappings);
	if (rdonly) {
		/* Still not writable, no hole punched. */
		EXPECT_EQ(-1, mprotect(p, pg, PROT_READ | PROT_WRITE));
		EXPECT_EQ(EACCES, errno);
		EXPECT_EQ(-1, madvise(p, pg, MADV_REMOVE));
		EXPECT_EQ(EACCES, errno);
	}
	EXPECT_EQ(0x5a, p[0]);
	EXPECT_EQ(0x5a, p[pg]);
	ASSERT_EQ(0, munmap(p, 4 * pg));
	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_EQ(0u, info.mappings);
	close(fd);
	close(ctl);
}

TEST(read_write_mapping)
{
	check_vmfile(_metadata, false);
}

TEST(read_only_mapping)
{
	check_vmfile(_metadata, true);
}

TEST_HARNESS_MAIN
