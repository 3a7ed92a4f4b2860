// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_lookup: names and ids are found through the module's hash tables:
 * many regions (more than there are buckets), reused names, and ids of
 * another IPC namespace.
 */
#include "shmr_test.h"
#include <sched.h>
#include <sys/wait.h>

#define NREGIONS	1500

TEST(many_regions_found_by_name_and_id)
{
	static uint64_t ids[NREGIONS];
	struct shmr_region_info info;
	struct shmr_create c;
	char name[96];
	int ctl, fd, i;

	SHMR_REQUIRE_DEVICE();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	for (i = 0; i < NREGIONS; i++) {
		snprintf(name, sizeof(name), "kmod_lookup.%d.%d", getpid(), i);
		fd = shmr_create(ctl, name, 4096, SHMR_CREATE_EXCL, 0600, &c);
		ASSERT_LE(0, fd) TH_LOG("create %d: %d", i, fd);
		ids[i] = c.id;
		close(fd);
	}
	for (i = 0; i < NREGIONS; i++) {
		snprintf(name, sizeof(name), "kmod_lookup.%d.%d", getpid(), i);
		fd = shmr_open(ctl, name, SHMR_OPEN_RDONLY, NULL);
		ASSERT_LE(0, fd) TH_LOG("open %d: %d", i, fd);
		ASSERT_EQ(0, shmr_stat_fd(fd, &info));
		EXPECT_EQ(ids[i], info.id);
		close(fd);
		ASSERT_EQ(0, shmr_stat_id(ctl, ids[i], &info));
		EXPECT_STREQ(name, info.name);
	}
	for (i = 0; i < NREGIONS; i++) {
		snprintf(name, sizeof(name), "kmod_lookup.%d.%d", getpid(), i);
		ASSERT_EQ(0, shmr_unlink(ctl, name));
		EXPECT_EQ(-ENOENT, shmr_open(ctl, name, SHMR_OPEN_RDONLY, NULL));
		EXPECT_EQ(-ENOENT, shmr_stat_id(ctl, ids[i], NULL));
	}
	close(ctl);
}

TEST(reused_name_finds_the_new_region)
{
	struct shmr_region_info info;
	struct shmr_create c1, c2;
	char name[96];
	int ctl, fd1, fd2, fd;

	SHMR_REQUIRE_DEVICE();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	shmr_test_name(name, sizeof(name), "kmod_lookup_reuse");
	fd1 = shmr_create(ctl, name, 4096, SHMR_CREATE_EXCL, 0600, &c1);
	ASSERT_LE(0, fd1);
	ASSERT_EQ(0, shmr_unlink(ctl, name));
	EXPECT_EQ(-ENOENT, shmr_open(ctl, name, SHMR_OPEN_RDONLY, NULL));
	fd2 = shmr_create(ctl, name, 8192, SHMR_CREATE_EXCL, 0600, &c2);
	ASSERT_LE(0, fd2);
	EXPECT_NE(c1.id, c2.id);
	fd = shmr_open(ctl, name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_EQ(c2.id, info.id);
	close(fd);
	/* The unlinked one is still there by id while its handle is open. */
	ASSERT_EQ(0, shmr_stat_id(ctl, c1.id, &info));
	EXPECT_NE(0, (int)(info.flags & SHMR_INFO_UNLINKED));
	close(fd1);
	EXPECT_EQ(-ENOENT, shmr_stat_id(ctl, c1.id, NULL));
	EXPECT_EQ(0, shmr_unlink(ctl, name));
	close(fd2);
	close(ctl);
}

TEST(id_of_another_ipc_namespace_is_not_found)
{
	struct shmr_create c;
	char name[96];
	int ctl, fd, status;
	pid_t pid;

	SHMR_REQUIRE_DEVICE();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	shmr_test_name(name, sizeof(name), "kmod_lookup_ns");
	fd = shmr_create(ctl, name, 4096, SHMR_CREATE_EXCL, 0600, &c);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, shmr_stat_id(ctl, c.id, NULL));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int ctl2;

		if (unshare(CLONE_NEWIPC))
			_exit(10);
		ctl2 = shmr_ctl_open();
		if (ctl2 < 0)
			_exit(11);
		/* Same name and id, other namespace: neither is visible. */
		if (shmr_stat_id(ctl2, c.id, NULL) != -ENOENT)
			_exit(1);
		if (shmr_open(ctl2, name, SHMR_OPEN_RDONLY, NULL) != -ENOENT)
			_exit(2);
		/* Through the fd opened before unshare(), both are. */
		if (shmr_stat_id(ctl, c.id, NULL) != 0)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(0, shmr_unlink(ctl, name));
	close(fd);
	close(ctl);
}

TEST_HARNESS_MAIN
