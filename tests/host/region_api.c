// SPDX-License-Identifier: GPL-2.0
/* libshmr region API on the posix backend (forced): every call and error path. */
#include <stdlib.h>

#include "shmr.h"
#include "tracker_env.h"

#define EXPECT_BACKEND SHMR_BACKEND_POSIX

__attribute__((constructor)) static void force_posix(void)
{
	setenv("SHMR_BACKEND", "posix", 1);
	shmr_test_tracker_env();
}

#include "region_tests.h"

TEST(posix_unsupported)
{
	struct shmr_region *r;
	struct shmr_attacher a;
	struct shmr_exit e;
	uint32_t ev;

	ASSERT_EQ(0, create_named(NULL, 4096, 0, &r));
	EXPECT_EQ(-EOPNOTSUPP, shmr_region_who(r, &a, 1));
	EXPECT_EQ(-EOPNOTSUPP, shmr_region_who_id(1, &a, 1));
	EXPECT_EQ(-EOPNOTSUPP, shmr_region_seal(r));
	EXPECT_EQ(-EOPNOTSUPP, shmr_region_events(r, &ev));
	EXPECT_EQ(-EOPNOTSUPP, shmr_exit_list(&e, 1, 0));
	EXPECT_EQ(0, shmr_region_close(r));
}

TEST(posix_names_in_dev_shm)
{
	const char *name = tname("devshm");
	char path[128];
	struct shmr_region *r;
	char longname[256];

	ASSERT_EQ(0, create_named(name, 4096, SHMR_REGION_EXCL, &r));
	snprintf(path, sizeof(path), "/dev/shm/shmr.%s", name);
	EXPECT_EQ(0, access(path, F_OK));
	EXPECT_EQ(0, shmr_region_unlink(name));
	EXPECT_EQ(-1, access(path, F_OK));
	EXPECT_EQ(0, shmr_region_close(r));
	/* the "shmr." prefix leaves 250 bytes for the name */
	memset(longname, 'p', 251);
	longname[251] = '\0';
	EXPECT_EQ(-ENAMETOOLONG, create_named(longname, 4096, 0, &r));
}

TEST_HARNESS_MAIN

/*
 * "/NAME" is the POSIX shm object NAME itself: shmr opens what shm_open()
 * (and Python's SharedMemory) made and the other way round; a plain shmr
 * name NAME is the POSIX object "/shmr.NAME".
 */
TEST(posix_raw_names_interoperate)
{
	char raw[64], mine[64], name[80];
	struct shmr_region_stat st, *all;
	struct shmr_region *r, *r2;
	int fd, n, i, listed = 0;
	char *p, *q;

	/* shm_open() made it, shmr opens it */
	snprintf(raw, sizeof(raw), "/rt-%d-raw", (int)getpid());
	fd = shm_open(raw, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(0, ftruncate(fd, 8192));
	q = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	strcpy(q, "from shm_open");
	ASSERT_EQ(0, shmr_region_open(raw, 0, &r));
	EXPECT_EQ(8192ULL, shmr_region_size(r));
	ASSERT_EQ(0, shmr_region_map(r, (void **)&p));
	EXPECT_STREQ("from shm_open", p);
	strcpy(p, "from shmr");
	EXPECT_STREQ("from shmr", q);
	ASSERT_EQ(0, shmr_region_stat(r, &st));
	EXPECT_STREQ(raw, st.name);
	EXPECT_FALSE(st.flags & SHMR_STAT_UNLINKED);
	/* not one of shmr's names: list shows /dev/shm/shmr.* only */
	n = shmr_region_list(NULL, 0);
	ASSERT_GE(n, 0);
	all = calloc(n + 8, sizeof(*all));
	n = shmr_region_list(all, n + 8);
	for (i = 0; i < n; i++)
		if (strstr(all[i].name, "-raw"))
			listed++;
	free(all);
	EXPECT_EQ(0, listed);
	/* unlinked through shmr: gone for shm_open too */
	EXPECT_EQ(0, shmr_region_unlink(raw));
	EXPECT_EQ(-1, shm_open(raw, O_RDWR, 0));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, shmr_region_stat(r, &st));
	EXPECT_TRUE(st.flags & SHMR_STAT_UNLINKED);
	EXPECT_EQ(0, shmr_region_unmap(p));
	EXPECT_EQ(0, shmr_region_close(r));
	munmap(q, 8192);
	close(fd);

	/* shmr made it (raw name), shm_open() opens it */
	ASSERT_EQ(0, create_named(raw, 4096, SHMR_REGION_EXCL, &r));
	ASSERT_EQ(0, shmr_region_map(r, (void **)&p));
	strcpy(p, "raw by shmr");
	fd = shm_open(raw, O_RDWR, 0);
	ASSERT_GE(fd, 0);
	q = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_STREQ("raw by shmr", q);
	munmap(q, 4096);
	close(fd);
	EXPECT_EQ(-EEXIST, create_named(raw, 4096, SHMR_REGION_EXCL, &r2));
	EXPECT_EQ(0, shm_unlink(raw));
	EXPECT_EQ(-ENOENT, shmr_region_unlink(raw));
	EXPECT_EQ(0, shmr_region_unmap(p));
	EXPECT_EQ(0, shmr_region_close(r));

	/* a plain shmr name, through shm_open("/shmr.NAME") */
	snprintf(mine, sizeof(mine), "%s", tname("plain"));
	ASSERT_EQ(0, create_named(mine, 4096, SHMR_REGION_EXCL, &r));
	ASSERT_EQ(0, shmr_region_map(r, (void **)&p));
	strcpy(p, "plain shmr");
	snprintf(name, sizeof(name), "/shmr.%s", mine);
	fd = shm_open(name, O_RDONLY, 0);
	ASSERT_GE(fd, 0);
	q = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	EXPECT_STREQ("plain shmr", q);
	munmap(q, 4096);
	close(fd);
	/* and the raw spelling of the same object */
	ASSERT_EQ(0, shmr_region_open(name, SHMR_REGION_RDONLY, &r2));
	ASSERT_EQ(0, shmr_region_map(r2, (void **)&q));
	EXPECT_STREQ("plain shmr", q);
	EXPECT_EQ(0, shmr_region_unmap(q));
	EXPECT_EQ(0, shmr_region_close(r2));
	EXPECT_EQ(0, shmr_region_close(r));
	EXPECT_EQ(0, shmr_region_unmap(p));
	EXPECT_EQ(0, shmr_region_unlink(mine));
	EXPECT_EQ(0, shmr_leak_count());
}

/* "/NAME": one '/', first; not "." or ".."; 255 bytes in all. */
TEST(posix_raw_name_errors)
{
	char longname[SHMR_REGION_NAME_MAX + 2];
	struct shmr_region *r;

	EXPECT_EQ(-EINVAL, create_named("/", 4096, 0, &r));
	EXPECT_EQ(-EINVAL, create_named("//x", 4096, 0, &r));
	EXPECT_EQ(-EINVAL, create_named("/a/b", 4096, 0, &r));
	EXPECT_EQ(-EINVAL, create_named("a/", 4096, 0, &r));
	EXPECT_EQ(-EINVAL, create_named("/.", 4096, 0, &r));
	EXPECT_EQ(-EINVAL, create_named("/..", 4096, 0, &r));
	EXPECT_EQ(-EINVAL, shmr_region_open("/", 0, &r));
	EXPECT_EQ(-EINVAL, shmr_region_open("/a/b", 0, &r));
	EXPECT_EQ(-EINVAL, shmr_region_unlink("/"));
	EXPECT_EQ(-EINVAL, shmr_region_unlink("/.."));
	memset(longname, 'r', sizeof(longname));
	longname[0] = '/';
	longname[SHMR_REGION_NAME_MAX + 1] = '\0';
	EXPECT_EQ(-ENAMETOOLONG, create_named(longname, 4096, 0, &r));
	/* 254 bytes after the '/' fit where a plain name has 250 */
	longname[SHMR_REGION_NAME_MAX] = '\0';
	snprintf(longname + 1, 20, "rt-%d-", (int)getpid());
	longname[strlen(longname)] = 'r';
	ASSERT_EQ(SHMR_REGION_NAME_MAX, (int)strlen(longname));
	ASSERT_EQ(0, create_named(longname, 4096, SHMR_REGION_EXCL, &r));
	EXPECT_EQ(0, shmr_region_close(r));
	EXPECT_EQ(0, shmr_region_unlink(longname));
}

/* A raw name with PROCESS: the tracker removes it as any other. */
TEST(posix_raw_name_process)
{
	char raw[64];
	pid_t pid;
	int i;

	snprintf(raw, sizeof(raw), "/rt-%d-rawproc", (int)getpid());
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct shmr_region *r;

		if (create_named(raw, 4096, SHMR_REGION_EXCL | SHMR_REGION_PROCESS, &r))
			_exit(10);
		raise(SIGKILL);
	}
	EXPECT_EQ(1000 + SIGKILL, child_status(pid));
	for (i = 0; i < 2000; i++) {
		int fd = shm_open(raw, O_RDONLY, 0);

		if (fd < 0)
			break;
		close(fd);
		usleep(10000);
	}
	EXPECT_EQ(-1, shm_open(raw, O_RDONLY, 0));
}
