// SPDX-License-Identifier: GPL-2.0
/*
 * race_names: names against lifetimes, looped for a bounded time.
 *  - open by name racing the last close and unlink: an OPEN either fails
 *    with ENOENT or returns a live region (STAT works, the size is right,
 *    it maps and reads);
 *  - unlink and re-create of a name while another thread keeps opening it:
 *    an old fd's mapping never sees the new region's bytes, a new region
 *    starts zeroed.
 * Afterwards every *_live counter is back at its start value.
 */
#include "shmr_test.h"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define RUN_NS	1500000000LL	/* per test */

struct live0 {
	long long regions, handles, mappings, attach, bytes;
};

static void live_read(struct live0 *l)
{
	l->regions = shmr_counter("regions_live");
	l->handles = shmr_counter("handles_live");
	l->mappings = shmr_counter("mappings_live");
	l->attach = shmr_counter("attach_live");
	l->bytes = shmr_counter("bytes_live");
}

static bool live_same(const struct live0 *a, const struct live0 *b)
{
	return a->regions == b->regions && a->handles == b->handles &&
	       a->mappings == b->mappings && a->attach == b->attach &&
	       a->bytes == b->bytes;
}

static long long now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static char name[64];
static long pg;
static atomic_int stop;
static atomic_long bad, opened, enoent;
static int ctl;

static void *opener(void *arg)
{
	struct shmr_region_info info;
	unsigned char *p;
	int fd;

	(void)arg;
	while (!atomic_load(&stop)) {
		fd = shmr_open(ctl, name, 0, NULL);
		if (fd == -ENOENT) {
			atomic_fetch_add(&enoent, 1);
			continue;
		}
		if (fd < 0) {
			atomic_fetch_add(&bad, 1);
			continue;
		}
		atomic_fetch_add(&opened, 1);
		if (shmr_stat_fd(fd, &info) || info.size != (uint64_t)2 * pg)
			atomic_fetch_add(&bad, 1);
		p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED) {
			atomic_fetch_add(&bad, 1);
		} else {
			/* copy the generation byte to the end of page 0 */
			p[pg - 1] = p[0];
			munmap(p, 2 * pg);
		}
		close(fd);
	}
	return NULL;
}

TEST(open_vs_last_close_and_unlink)
{
	struct live0 l0, l1;
	pthread_t th[2];
	long long end;
	unsigned long iters = 0;
	int fd, i;

	SHMR_REQUIRE_DEVICE();
	pg = shmr_page_size();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	shmr_test_name(name, sizeof(name), "race_names");
	live_read(&l0);
	atomic_store(&stop, 0);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, opener, NULL));
	end = now_ns() + RUN_NS;
	while (now_ns() < end) {
		fd = shmr_create(ctl, name, 2 * pg, SHMR_CREATE_EXCL, 0600, NULL);
		if (fd < 0) {
			EXPECT_EQ(0, fd);
			break;
		}
		/* last close and unlink, in both orders */
		if (iters & 1) {
			close(fd);
			EXPECT_EQ(0, shmr_unlink(ctl, name));
		} else {
			EXPECT_EQ(0, shmr_unlink(ctl, name));
			close(fd);
		}
		iters++;
	}
	atomic_store(&stop, 1);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	printf("# %lu create/close/unlink rounds, %ld opens, %ld ENOENT\n",
	       iters, atomic_load(&opened), atomic_load(&enoent));
	EXPECT_EQ(0, atomic_load(&bad));
	EXPECT_LT(10UL, iters);
	live_read(&l1);
	EXPECT_TRUE(live_same(&l0, &l1));
	close(ctl);
}

TEST(recreate_vs_old_mapping)
{
	struct live0 l0, l1;
	unsigned char *old = NULL, *p;
	unsigned char gen = 0, oldgen = 0;
	pthread_t th[2];
	long long end;
	unsigned long iters = 0, j;
	int fd, i;

	SHMR_REQUIRE_DEVICE();
	pg = shmr_page_size();
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	shmr_test_name(name, sizeof(name), "race_recreate");
	live_read(&l0);
	atomic_store(&stop, 0);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, opener, NULL));
	end = now_ns() + RUN_NS;
	while (now_ns() < end && !atomic_load(&bad)) {
		gen = gen == 255 ? 1 : gen + 1;
		fd = shmr_create(ctl, name, 2 * pg, SHMR_CREATE_EXCL, 0600, NULL);
		if (fd < 0) {
			EXPECT_EQ(0, fd);
			break;
		}
		p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		ASSERT_NE(MAP_FAILED, p);
		/* a new region starts zeroed (openers only copy zeros yet) */
		for (j = 0; j < 2 * (unsigned long)pg; j++)
			if (p[j]) {
				EXPECT_EQ(0, p[j]);
				break;
			}
		memset(p, gen, 2 * pg);
		if (old) {
			/* the old mapping keeps its own bytes: gen or a copied 0 */
			for (j = 0; j < 2 * (unsigned long)pg; j++)
				if (old[j] != oldgen && old[j] != 0) {
					EXPECT_EQ(oldgen, old[j]);
					break;
				}
			munmap(old, 2 * pg);
		}
		old = p;
		oldgen = gen;
		EXPECT_EQ(0, shmr_unlink(ctl, name));
		iters++;
	}
	atomic_store(&stop, 1);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	if (old)
		munmap(old, 2 * pg);
	printf("# %lu re-creations, %ld opens\n", iters, atomic_load(&opened));
	EXPECT_EQ(0, atomic_load(&bad));
	EXPECT_LT(10UL, iters);
	live_read(&l1);
	EXPECT_TRUE(live_same(&l0, &l1));
	close(ctl);
}

TEST_HARNESS_MAIN
