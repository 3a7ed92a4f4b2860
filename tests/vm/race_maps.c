// SPDX-License-Identifier: GPL-2.0
/*
 * race_maps: mapping counts stay exact while threads of one process split
 * and move their own mappings of one shared region at the same time
 * (close-before-munmap, mprotect split, partial munmap, mremap move,
 * mremap grow) and fork children that inherit them. At every barrier STAT
 * and the debugfs counters show exactly the VMAs that exist.
 */
#include "shmr_test.h"
#include <pthread.h>
#include <stdatomic.h>

#define THREADS		3
#define ROUNDS		15
#define PAGES		8
#define PER_THREAD	5	/* VMAs each thread holds at the check */

static pthread_barrier_t bar;
static int region_fd;
static long pg;
static atomic_long bad;

static void fail(void)
{
	atomic_fetch_add(&bad, 1);
}

static void *worker(void *arg)
{
	int r, fd;
	char *p, *q, *g, *m;
	pid_t pid;

	(void)arg;
	for (r = 0; r < ROUNDS; r++) {
		/* close before munmap: the handle goes, the mapping stays */
		fd = fcntl(region_fd, F_DUPFD_CLOEXEC, 0);
		p = mmap(NULL, PAGES * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		if (p == MAP_FAILED) {
			fail();
			return NULL;
		}
		/* [0-1] [2 ro] [3-4] hole [6-7]: 4 VMAs */
		if (mprotect(p + 2 * pg, pg, PROT_READ))
			fail();
		if (munmap(p + 5 * pg, pg))
			fail();
		/* move [6-7] somewhere else: still one VMA */
		q = mmap(NULL, 2 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		m = mremap(p + 6 * pg, 2 * pg, 2 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, q);
		if (m != q)
			fail();
		/* one page grown to two (may move): 1 VMA */
		g = mmap(NULL, pg, PROT_READ, MAP_SHARED, region_fd, 0);
		g = mremap(g, pg, 2 * pg, MREMAP_MAYMOVE);
		if (g == MAP_FAILED)
			fail();
		pthread_barrier_wait(&bar);	/* check 1: THREADS * 5 */
		pthread_barrier_wait(&bar);
		pid = fork();
		if (pid == 0) {
			for (;;)
				pause();
		}
		if (pid < 0)
			fail();
		pthread_barrier_wait(&bar);	/* check 2: twice as many */
		pthread_barrier_wait(&bar);
		/* a pipe would not do: siblings inherit each other's ends */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		munmap(p, 5 * pg);
		munmap(m, 2 * pg);
		munmap(g, 2 * pg);
		pthread_barrier_wait(&bar);	/* check 3: none */
		pthread_barrier_wait(&bar);
	}
	return NULL;
}

static int stat_mappings(int fd)
{
	struct shmr_region_info info;

	if (shmr_stat_fd(fd, &info))
		return -1;
	return (int)info.mappings;
}

TEST(split_move_fork_counts)
{
	long long m0 = shmr_counter("mappings_live");
	long long h0 = shmr_counter("handles_live");
	pthread_t th[THREADS];
	int ctl, i, r, want[3] = {
		THREADS * PER_THREAD,
		/* each child copies the whole mm: every thread's VMAs */
		(1 + THREADS) * THREADS * PER_THREAD,
		0,
	};

	SHMR_REQUIRE_DEVICE();
	pg = shmr_page_size();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	region_fd = shmr_create(ctl, NULL, PAGES * pg, 0, 0600, NULL);
	ASSERT_LE(0, region_fd);
	ASSERT_EQ(0, pthread_barrier_init(&bar, NULL, THREADS + 1));
	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, worker, NULL));
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < 3; i++) {
			pthread_barrier_wait(&bar);
			EXPECT_EQ(want[i], stat_mappings(region_fd));
			EXPECT_EQ(m0 + want[i], shmr_counter("mappings_live"));
			/* only region_fd is a handle: the dups were closed */
			EXPECT_EQ(h0 + 1, shmr_counter("handles_live"));
			pthread_barrier_wait(&bar);
		}
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(0, atomic_load(&bad));
	close(region_fd);
	EXPECT_EQ(m0, shmr_counter("mappings_live"));
	EXPECT_EQ(h0, shmr_counter("handles_live"));
	close(ctl);
}

TEST_HARNESS_MAIN
