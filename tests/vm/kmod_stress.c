// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_stress: threads and processes racing create, open, unlink, close,
 * mmap, munmap, mprotect, fork, exit and LIST/STAT on a few shared names;
 * afterwards every counter is back where it started and each surviving
 * name can be unlinked exactly once.
 */
#include "shmr_test.h"
#include <pthread.h>
#include <time.h>

#define NAMES		4
#define THREADS		4
#define RUN_MS		1500

static char names[NAMES][64];
static int ctl_fd;
static long pg;
static volatile int stop;

static unsigned int rnd(unsigned int *seed)
{
	*seed = *seed * 1103515245 + 12345;
	return (*seed >> 16) & 0x7fff;
}

static void one_op(unsigned int *seed)
{
	const char *name = names[rnd(seed) % NAMES];
	struct shmr_region_info info;
	struct shmr_list l;
	unsigned char *p;
	pid_t pid;
	int fd;

	switch (rnd(seed) % 6) {
	case 0:
		fd = shmr_create(ctl_fd, name, (1 + rnd(seed) % 4) * pg, 0,
				 0600, NULL);
		break;
	case 1:
		fd = shmr_open(ctl_fd, name, rnd(seed) & 1, NULL);
		break;
	case 2:
		shmr_unlink(ctl_fd, name);
		return;
	case 3:
		fd = shmr_create(ctl_fd, NULL, pg, 0, 0600, NULL);
		break;
	case 4:
		memset(&l, 0, sizeof(l));
		shmr_ioctl(ctl_fd, SHMR_IOC_LIST, &l);
		return;
	default:
		fd = shmr_open(ctl_fd, name, SHMR_OPEN_RDONLY, NULL);
		if (fd >= 0) {
			shmr_stat_fd(fd, &info);
			close(fd);
		}
		return;
	}
	if (fd < 0)
		return;
	p = mmap(NULL, pg, PROT_READ, MAP_SHARED, fd, 0);
	if (rnd(seed) & 1) {
		close(fd);
		fd = -1;
	}
	if (p != MAP_FAILED) {
		mprotect(p, pg, PROT_READ | PROT_WRITE);
		if (rnd(seed) % 8 == 0) {
			pid = fork();
			if (pid == 0)
				_exit(p[0] == 0 ? 0 : 1);
			if (pid > 0)
				waitpid(pid, NULL, 0);
		}
		munmap(p, pg);
	}
	if (fd >= 0)
		close(fd);
}

static void *worker(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;

	while (!stop)
		one_op(&seed);
	return NULL;
}

static int changed(const char * const *live, const long long *live0)
{
	int i, bad = 0;

	for (i = 0; i < 5; i++) {
		long long v = shmr_counter(live[i]);

		if (v != live0[i]) {
			fprintf(stderr, "# %s: %lld, was %lld\n", live[i], v,
				live0[i]);
			bad++;
		}
	}
	return bad;
}

TEST(race_everything)
{
	long long live0[5];
	const char *live[5] = {
		"regions_live", "handles_live", "mappings_live", "attach_live",
		"bytes_live",
	};
	pthread_t th[THREADS];
	struct timespec ts = { RUN_MS / 1000, (RUN_MS % 1000) * 1000000L };
	int i, fd;

	SHMR_REQUIRE_DEVICE();
	ctl_fd = shmr_ctl_open();
	ASSERT_LE(0, ctl_fd);
	pg = shmr_page_size();
	for (i = 0; i < 5; i++)
		live0[i] = shmr_counter(live[i]);
	for (i = 0; i < NAMES; i++)
		shmr_test_name(names[i], sizeof(names[i]), "kmod_stress");
	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, worker,
					    (void *)(uintptr_t)(i + 1)));
	nanosleep(&ts, NULL);
	stop = 1;
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NAMES; i++) {
		if (shmr_unlink(ctl_fd, names[i]) == 0)
			EXPECT_EQ(-ENOENT, shmr_unlink(ctl_fd, names[i]));
		fd = shmr_open(ctl_fd, names[i], 0, NULL);
		EXPECT_EQ(-ENOENT, fd);
	}
	EXPECT_EQ(0, changed(live, live0));
	close(ctl_fd);
}

TEST_HARNESS_MAIN
