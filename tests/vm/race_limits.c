// SPDX-License-Identifier: GPL-2.0
/*
 * race_limits: CREATE and OPEN that cannot complete leave nothing behind.
 *  - RLIMIT_NOFILE exhausted: -EMFILE, no region, no handle, the name is
 *    not created (from several threads at once);
 *  - the output struct on a read-only page (input readable, output not):
 *    -EFAULT, and neither an fd nor a region nor a name is left; the name
 *    is never published, so a process opening it meanwhile cannot find a
 *    region that the failed CREATE then removes.
 */
#include "shmr_test.h"
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>

#define THREADS	3
#define LOOPS	200

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

static int ctl;
static atomic_long bad;
static char names[THREADS][64];

static void *emfile_loop(void *arg)
{
	const char *name = names[(long)arg];
	int i, r;

	for (i = 0; i < LOOPS; i++) {
		r = shmr_create(ctl, (i & 1) ? name : NULL, 4096, SHMR_CREATE_EXCL * (i & 1),
				0600, NULL);
		if (r != -EMFILE)
			atomic_fetch_add(&bad, 1);
		r = shmr_open(ctl, name, 0, NULL);
		if (r != -ENOENT)	/* the failed create made no name */
			atomic_fetch_add(&bad, 1);
	}
	return NULL;
}

TEST(create_with_nofile_exhausted)
{
	long long r0 = shmr_counter("regions_live");
	long long h0 = shmr_counter("handles_live");
	long long b0 = shmr_counter("bytes_live");
	struct rlimit old, lim;
	pthread_t th[THREADS];
	int fds, i;
	long t;

	SHMR_REQUIRE_DEVICE();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	for (i = 0; i < THREADS; i++)
		shmr_test_name(names[i], sizeof(names[i]), "race_limits");
	ASSERT_EQ(0, getrlimit(RLIMIT_NOFILE, &old));
	fds = count_fds();
	ASSERT_LT(0, fds);
	/* every fd number below the limit is taken: fill the holes */
	lim = old;
	lim.rlim_cur = 64;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &lim));
	while (dup(0) >= 0 || (errno != EMFILE && open("/dev/null", O_RDONLY) >= 0))
		;
	ASSERT_EQ(EMFILE, errno);
	for (t = 0; t < THREADS; t++)
		ASSERT_EQ(0, pthread_create(&th[t], NULL, emfile_loop, (void *)t));
	for (t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	for (i = 3; i < 64; i++)
		if (i != ctl)
			close(i);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &old));
	/* the counters file needs an fd: read them after the fillers went */
	EXPECT_EQ(0, atomic_load(&bad));
	EXPECT_EQ(r0, shmr_counter("regions_live"));
	EXPECT_EQ(h0, shmr_counter("handles_live"));
	EXPECT_EQ(b0, shmr_counter("bytes_live"));
	EXPECT_EQ(fds, count_fds());
	close(ctl);
}

TEST(create_output_read_only)
{
	long long r0 = shmr_counter("regions_live");
	long long h0 = shmr_counter("handles_live");
	long pg = shmr_page_size();
	struct shmr_create *c;
	struct shmr_open *o;
	char name[64], *page;
	int fds0, i;

	SHMR_REQUIRE_DEVICE();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	shmr_test_name(name, sizeof(name), "race_rofault");
	page = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	strcpy(page + 1024, name);
	fds0 = count_fds();
	for (i = 0; i < LOOPS; i++) {
		ASSERT_EQ(0, mprotect(page, pg, PROT_READ | PROT_WRITE));
		c = (struct shmr_create *)page;
		memset(c, 0, sizeof(*c));
		c->name = (i & 1) ? (uintptr_t)(page + 1024) : 0;
		c->size = pg;
		c->mode = 0600;
		c->flags = (i & 1) ? SHMR_CREATE_EXCL : 0;
		ASSERT_EQ(0, mprotect(page, pg, PROT_READ));
		EXPECT_EQ(-EFAULT, shmr_ioctl(ctl, SHMR_IOC_CREATE, c));
		EXPECT_EQ(-ENOENT, shmr_open(ctl, name, 0, NULL));
	}
	EXPECT_EQ(fds0, count_fds());
	EXPECT_EQ(r0, shmr_counter("regions_live"));
	EXPECT_EQ(h0, shmr_counter("handles_live"));

	/* OPEN of an existing name with a read-only output: no fd leaks */
	i = shmr_create(ctl, name, pg, SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, i);
	close(i);
	fds0 = count_fds();
	ASSERT_EQ(0, mprotect(page, pg, PROT_READ | PROT_WRITE));
	o = (struct shmr_open *)page;
	memset(o, 0, sizeof(*o));
	o->name = (uintptr_t)(page + 1024);
	ASSERT_EQ(0, mprotect(page, pg, PROT_READ));
	for (i = 0; i < LOOPS; i++)
		EXPECT_EQ(-EFAULT, shmr_ioctl(ctl, SHMR_IOC_OPEN, o));
	EXPECT_EQ(fds0, count_fds());
	EXPECT_EQ(h0, shmr_counter("handles_live"));
	EXPECT_EQ(0, shmr_unlink(ctl, name));
	EXPECT_EQ(r0, shmr_counter("regions_live"));
	munmap(page, pg);
	close(ctl);
}

/*
 * A CREATE whose result cannot be written creates nothing, not even for a
 * moment: it used to link the name, fail the copy-out and unlink it, and a
 * peer opening the name in that window got a region that lost its name
 * under it. A child opens the name as fast as it can meanwhile.
 */
TEST(create_output_read_only_never_published)
{
	long long created0 = shmr_counter("regions_created");
	long pg = shmr_page_size();
	struct shmr_create *c;
	_Atomic int *opened;
	char name[64], *page;
	int ctl, i, status;
	pid_t child;

	SHMR_REQUIRE_DEVICE();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	shmr_test_name(name, sizeof(name), "race_rounpub");
	opened = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, opened);
	opened[1] = 0;	/* stop */
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		while (!opened[1]) {
			int fd = shmr_open(ctl, name, 0, NULL);

			if (fd >= 0) {
				opened[0]++;
				close(fd);
			}
		}
		_exit(0);
	}
	page = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	strcpy(page + 1024, name);
	c = (struct shmr_create *)page;
	memset(c, 0, sizeof(*c));
	c->name = (uintptr_t)(page + 1024);
	c->size = pg;
	c->mode = 0600;
	ASSERT_EQ(0, mprotect(page, pg, PROT_READ));
	for (i = 0; i < 20 * LOOPS; i++)
		ASSERT_EQ(-EFAULT, shmr_ioctl(ctl, SHMR_IOC_CREATE, c));
	opened[1] = 1;
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, opened[0]) TH_LOG("the peer opened a region the failed CREATE published");
	EXPECT_EQ(created0, shmr_counter("regions_created"));
	EXPECT_EQ(-ENOENT, shmr_open(ctl, name, 0, NULL));
	munmap(page, pg);
	munmap((void *)opened, pg);
	close(ctl);
}

TEST_HARNESS_MAIN
