// SPDX-License-Identifier: GPL-2.0
/*
 * race_seal: SEAL racing writable mmap() from several threads, looped over
 * many regions. Once SEAL has returned, no writable mapping may be created
 * (mmap -EPERM, mprotect of a new read-only mapping to writable -EACCES),
 * while mappings made before keep working.
 */
#include "shmr_test.h"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define THREADS	3
#define ROUNDS	150

static atomic_int sealed, go, quit, done;
static atomic_long late_ok, early_ok, eperm, bad;
static int rfd;
static long pg;

static void *mapper(void *arg)
{
	int round = 0, cur, s;
	void *p;

	(void)arg;
	while (!atomic_load(&quit)) {
		cur = atomic_load(&go);
		if (cur == round) {
			sched_yield();
			continue;
		}
		/* hammer this round's fd until the seal is done */
		for (;;) {
			s = atomic_load(&sealed);
			p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED,
				 rfd, 0);
			if (p != MAP_FAILED) {
				if (s)
					atomic_fetch_add(&late_ok, 1);
				else
					atomic_fetch_add(&early_ok, 1);
				*(volatile char *)p = 1;
				munmap(p, pg);
			} else if (errno == EPERM) {
				atomic_fetch_add(&eperm, 1);
			} else {
				atomic_fetch_add(&bad, 1);
			}
			if (s)
				break;
		}
		round = cur;
		atomic_fetch_add(&done, 1);
	}
	return NULL;
}

TEST(seal_vs_mmap)
{
	long long maps0 = shmr_counter("mappings_live");
	long long regs0 = shmr_counter("regions_live");
	struct shmr_seal se;
	pthread_t th[THREADS];
	void *pre, *ro;
	int ctl, i, r;

	SHMR_REQUIRE_DEVICE();
	pg = shmr_page_size();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, mapper, NULL));
	for (r = 0; r < ROUNDS; r++) {
		int fd = shmr_create(ctl, NULL, pg, 0, 0600, NULL);

		ASSERT_LE(0, fd);
		pre = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, pre);
		rfd = fd;
		atomic_store(&sealed, 0);
		atomic_fetch_add(&go, 1);
		usleep(r % 7 * 100);
		memset(&se, 0, sizeof(se));
		se.seals = SHMR_SEAL_WRITE;
		ASSERT_EQ(0, shmr_ioctl(fd, SHMR_IOC_SEAL, &se));
		atomic_store(&sealed, 1);
		/* after SEAL: no new writable mapping, old one still writes */
		EXPECT_EQ(MAP_FAILED, mmap(NULL, pg, PROT_READ | PROT_WRITE,
					   MAP_SHARED, fd, 0));
		EXPECT_EQ(EPERM, errno);
		ro = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
		ASSERT_NE(MAP_FAILED, ro);
		EXPECT_EQ(-1, mprotect(ro, pg, PROT_READ | PROT_WRITE));
		EXPECT_EQ(EACCES, errno);
		munmap(ro, pg);
		*(volatile char *)pre = 2;
		EXPECT_EQ(2, *(volatile char *)pre);
		/* let the threads see sealed and finish the round */
		while (atomic_load(&done) < THREADS * (r + 1))
			usleep(100);
		rfd = -1;
		close(fd);
		munmap(pre, pg);
	}
	atomic_store(&quit, 1);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	printf("# %d rounds: %ld writable maps before SEAL returned, %ld EPERM\n",
	       ROUNDS, atomic_load(&early_ok), atomic_load(&eperm));
	EXPECT_EQ(0, atomic_load(&late_ok));
	EXPECT_EQ(0, atomic_load(&bad));
	EXPECT_EQ(maps0, shmr_counter("mappings_live"));
	EXPECT_EQ(regs0, shmr_counter("regions_live"));
	close(ctl);
}

TEST_HARNESS_MAIN
