// SPDX-License-Identifier: GPL-2.0
/*
 * Region memory under a memory cgroup (v2) with a small memory.max. The
 * pages of a region are shmem, charged to the cgroup of the task that
 * faults them in; nothing is reserved at CREATE.
 *
 *  - A region that fits: memory.current (and memory.stat shmem) rise by
 *    about its size while its pages are touched, and go back to the
 *    baseline when the last handle and mapping go (anonymous region).
 *  - A named region keeps its pages charged after close and munmap, while
 *    its name is linked (the measurement can see memory that is held);
 *    UNLINK frees them.
 *  - Over-allocation: CREATE and mmap of a region four times memory.max
 *    succeed; touching its pages makes the cgroup hit memory.max and, with
 *    no swap (memory.swap.max 0), the memory cgroup OOM killer SIGKILLs
 *    the child (memory.events oom_kill), before more than memory.max was
 *    touched. The parent, outside, is untouched, and memory.current is
 *    back at the baseline once the child is gone (its region freed).
 *
 * Each test runs its workload in a forked child moved into a fresh cgroup
 * under /sys/fs/cgroup (cgroup2 mounted here if it is not; +memory enabled
 * in the root's cgroup.subtree_control). The module's *_live counters are
 * back at their start values at the end. SKIP when cgroup2 or the memory
 * controller is unavailable.
 */
#include <sys/mount.h>
#include <sys/prctl.h>

#include "shmr_test.h"

#define CG_ROOT		"/sys/fs/cgroup"
#define MIB		(1024ULL * 1024)
#define LIMIT		(8 * MIB)
#define FIT_SIZE	(4 * MIB)
#define OVER_SIZE	(4 * LIMIT)
#define SLACK		(256 * 1024ULL)	/* page tables, slab, per-cpu stock */

static const char * const live_counters[] = {
	"regions_live", "handles_live", "mappings_live", "attach_live",
	"bytes_live",
};

static int write_str(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	n = n < 0 ? -errno : n == (ssize_t)strlen(text) ? 0 : -EIO;
	close(fd);
	return (int)n;
}

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/* "key value" line of a flat-keyed cgroup file, or -1. */
static long long cg_key(const char *cg, const char *file, const char *key)
{
	char path[256], line[256], k[64];
	long long v, ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lld", k, &v) == 2 && !strcmp(k, key)) {
			ret = v;
			break;
		}
	fclose(f);
	return ret;
}

static long long cg_current(const char *cg)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	if (read_str(path, buf, sizeof(buf)))
		return -1;
	return strtoll(buf, NULL, 10);
}

/* Wait for memory.current <= target (shmr_wait_until): the last value read. */
static long long cg_settle(const char *cg, long long target)
{
	long long cur = -1;

	shmr_wait_until((cur = cg_current(cg)) >= 0 && cur <= target);
	return cur;
}

/*
 * cgroup2 with the memory controller at CG_ROOT (mounting it if absent),
 * +memory for children. NULL or the reason it is unavailable.
 */
static const char *cg_prepare(void)
{
	static char why[160];
	char buf[512];

	if (access(CG_ROOT "/cgroup.controllers", F_OK)) {
		mkdir(CG_ROOT, 0755);
		if (mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL)) {
			snprintf(why, sizeof(why), "cannot mount cgroup2 at %s: %s",
				 CG_ROOT, strerror(errno));
			return why;
		}
	}
	if (read_str(CG_ROOT "/cgroup.controllers", buf, sizeof(buf)))
		return "cannot read " CG_ROOT "/cgroup.controllers";
	if (!strstr(buf, "memory"))
		return "no memory controller in cgroup2";
	if (read_str(CG_ROOT "/cgroup.subtree_control", buf, sizeof(buf)))
		return "cannot read " CG_ROOT "/cgroup.subtree_control";
	if (!strstr(buf, "memory") &&
	    write_str(CG_ROOT "/cgroup.subtree_control", "+memory")) {
		snprintf(why, sizeof(why), "cannot enable +memory: %s",
			 strerror(errno));
		return why;
	}
	return NULL;
}

/* Results the child writes for the parent. */
struct shared {
	char name[128];
	int step;		/* how far the child got */
	int err;
	long long base;		/* memory.current before the region */
	long long touched;	/* memory.current with every page touched */
	long long shmem0, shmem1;	/* memory.stat shmem, before and after */
	long long held;		/* named: memory.current after close + munmap */
	long long closed;	/* memory.current once the region is freed */
	uint64_t pages_done;	/* over-limit: pages touched so far */
};

FIXTURE(memcg) {
	char cg[128];
	struct shared *sh;
	long long ctr[ARRAY_SIZE(live_counters)];
};

FIXTURE_SETUP(memcg)
{
	static unsigned int seq;
	const char *why;
	char path[192], buf[32];
	unsigned int i;

	SHMR_REQUIRE_DEVICE();
	ASSERT_EQ(0U, geteuid()) TH_LOG("the cgroup tests run as root");
	why = cg_prepare();
	if (why)
		SKIP(_exit(255), "%s", why);
	snprintf(self->cg, sizeof(self->cg), CG_ROOT "/shmr-memcg.%d.%u",
		 (int)getpid(), seq++);
	ASSERT_EQ(0, mkdir(self->cg, 0755)) TH_LOG("mkdir %s: %s", self->cg,
						    strerror(errno));
	snprintf(path, sizeof(path), "%s/memory.max", self->cg);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)LIMIT);
	ASSERT_EQ(0, write_str(path, buf));
	/* no swap, so shmem cannot be reclaimed: deterministic */
	snprintf(path, sizeof(path), "%s/memory.swap.max", self->cg);
	if (access(path, F_OK) == 0)
		ASSERT_EQ(0, write_str(path, "0"));
	self->sh = mmap(NULL, sizeof(*self->sh), PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->sh);
	/* fault it in here, so it is charged outside the test cgroup */
	memset(self->sh, 0, sizeof(*self->sh));
	for (i = 0; i < ARRAY_SIZE(live_counters); i++) {
		self->ctr[i] = shmr_counter(live_counters[i]);
		ASSERT_LE(0, self->ctr[i]) TH_LOG("%s", live_counters[i]);
	}
}

FIXTURE_TEARDOWN(memcg)
{
	unsigned int i;

	shmr_cleanup();
	if (self->cg[0])
		rmdir(self->cg);
	if (self->sh == NULL || self->sh == MAP_FAILED)
		return;
	munmap(self->sh, sizeof(*self->sh));
	/* the module's counters are back where they started */
	for (i = 0; i < ARRAY_SIZE(live_counters); i++) {
		long long now = shmr_counter(live_counters[i]);

		if (now != self->ctr[i]) {
			TH_LOG("counter %u (%s): %lld at the start, %lld now", i,
			       live_counters[i] ? live_counters[i] : "?",
			       self->ctr[i], now);
			_metadata->passed = 0;
		}
	}
}

/*
 * Fork; the child moves itself into cg and runs fn(cg, sh). Returns the
 * wait status.
 */
static int run_in_cgroup(const char *cg, struct shared *sh,
			 int (*fn)(const char *cg, struct shared *sh))
{
	char path[192];
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
		if (write_str(path, "0"))
			_exit(100);
		_exit(fn(cg, sh));
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* Map a region fd read-write and touch every page; counts in sh. */
static void *map_and_touch(int fd, uint64_t size, struct shared *sh)
{
	long pg = shmr_page_size();
	unsigned char *p;
	uint64_t off;

	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return NULL;
	for (off = 0; off < size; off += (uint64_t)pg) {
		p[off] = 1;
		sh->pages_done++;
	}
	return p;
}

/* In the cgroup: a region that fits, anonymous (named if sh->name[0]). */
static int fit_child(const char *cg, struct shared *sh)
{
	bool named = sh->name[0] != 0;
	struct shmr_create c;
	int ctl, fd;
	void *p;

	sh->step = 1;
	sh->base = cg_current(cg);
	sh->shmem0 = cg_key(cg, "memory.stat", "shmem");
	ctl = shmr_ctl_open();
	if (ctl < 0)
		return sh->err = -ctl, sh->step;
	sh->step = 2;
	fd = shmr_create(ctl, named ? sh->name : NULL, FIT_SIZE,
			 named ? SHMR_CREATE_EXCL : 0, 0600, &c);
	if (fd < 0)
		return sh->err = -fd, sh->step;
	sh->step = 3;
	p = map_and_touch(fd, FIT_SIZE, sh);
	if (!p)
		return sh->err = errno, sh->step;
	sh->touched = cg_current(cg);
	sh->shmem1 = cg_key(cg, "memory.stat", "shmem");
	sh->step = 4;
	munmap(p, FIT_SIZE);
	close(fd);
	/* anonymous: freed now; named: held by its name */
	if (named) {
		sh->held = cg_current(cg);
		sh->step = 5;
		if (shmr_unlink(ctl, sh->name))
			return sh->err = errno, sh->step;
	}
	sh->closed = cg_settle(cg, sh->base + SLACK);
	close(ctl);
	sh->step = 0;
	return 0;
}

static void check_fit(struct __test_metadata *_metadata, FIXTURE_DATA(memcg) *self,
		      long long held_after_close)
{
	struct shared *sh = self->sh;
	int status;

	status = run_in_cgroup(self->cg, sh, fit_child);
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("child status %#x, step %d", status,
					      sh->step);
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("step %d, errno %d", sh->step, sh->err);
	ASSERT_LE(0, sh->base);
	TH_LOG("memory.current: base %lld, touched %lld, held %lld, freed %lld; shmem %lld -> %lld",
	       sh->base, sh->touched, sh->held, sh->closed, sh->shmem0, sh->shmem1);
	EXPECT_EQ(FIT_SIZE / shmr_page_size(), sh->pages_done);
	/* the pages are charged here, about their size */
	EXPECT_LE(sh->base + (long long)FIT_SIZE - (long long)SLACK, sh->touched);
	EXPECT_GE(sh->base + (long long)FIT_SIZE + (long long)MIB, sh->touched);
	if (sh->shmem0 >= 0) {
		EXPECT_LE((long long)FIT_SIZE - (long long)SLACK, sh->shmem1 - sh->shmem0);
		EXPECT_GE((long long)FIT_SIZE + (long long)SLACK, sh->shmem1 - sh->shmem0);
	}
	EXPECT_GE(sh->base + (long long)SLACK, sh->closed)
		TH_LOG("memory.current not back at its baseline");
	if (held_after_close) {
		EXPECT_LE(sh->base + held_after_close, sh->held)
			TH_LOG("a linked region's pages stay charged");
	}
	/* the child is gone: the empty cgroup is back near nothing */
	EXPECT_GE(sh->base + (long long)SLACK, cg_settle(self->cg, sh->base + SLACK));
}

TEST_F(memcg, region_that_fits_is_charged_and_uncharged)
{
	check_fit(_metadata, self, 0);
}

TEST_F(memcg, linked_region_stays_charged_until_unlink)
{
	shmr_test_name(self->sh->name, sizeof(self->sh->name), "perm_memcg");
	shmr_track(self->sh->name);
	check_fit(_metadata, self, (long long)FIT_SIZE - (long long)SLACK);
}

/* In the cgroup: a region four times memory.max, every page touched. */
static int over_child(const char *cg, struct shared *sh)
{
	struct shmr_create c;
	int ctl, fd;

	/* tests/run/klog-check accepts the OOM report of this name, and only it */
	prctl(PR_SET_NAME, "shmr-oom-ok");
	sh->step = 1;
	sh->base = cg_current(cg);
	ctl = shmr_ctl_open();
	if (ctl < 0)
		return sh->err = -ctl, sh->step;
	sh->step = 2;	/* nothing is charged at CREATE */
	fd = shmr_create(ctl, NULL, OVER_SIZE, 0, 0600, &c);
	close(ctl);
	if (fd < 0)
		return sh->err = -fd, sh->step;
	if (cg_current(cg) > sh->base + (long long)SLACK)
		return sh->step;
	sh->step = 3;	/* must not come back */
	if (!map_and_touch(fd, OVER_SIZE, sh))
		return sh->err = errno, 2;
	sh->step = 4;
	return 0;
}

TEST_F(memcg, over_allocation_is_oom_killed_in_the_cgroup)
{
	struct shared *sh = self->sh;
	long long oom0, cur;
	int status;

	oom0 = cg_key(self->cg, "memory.events", "oom_kill");
	ASSERT_EQ(0, oom0);
	status = run_in_cgroup(self->cg, sh, over_child);
	TH_LOG("child status %#x at step %d, %llu of %llu pages touched",
	       status, sh->step, (unsigned long long)sh->pages_done,
	       (unsigned long long)(OVER_SIZE / shmr_page_size()));
	/* CREATE and mmap succeeded; the faults ran into memory.max */
	EXPECT_EQ(3, sh->step);
	EXPECT_TRUE(WIFSIGNALED(status));
	if (WIFSIGNALED(status))
		EXPECT_EQ(SIGKILL, WTERMSIG(status));
	EXPECT_EQ(1, cg_key(self->cg, "memory.events", "oom_kill"));
	EXPECT_LE(1, cg_key(self->cg, "memory.events", "max"));
	/* it never had more than the limit */
	EXPECT_GE(LIMIT / shmr_page_size(), sh->pages_done);
	EXPECT_LT(0ULL, (unsigned long long)sh->pages_done);
	/* the region went with the child: the cgroup is back at its baseline */
	cur = cg_settle(self->cg, sh->base + SLACK);
	EXPECT_GE(sh->base + (long long)SLACK, cur)
		TH_LOG("memory.current %lld, baseline %lld", cur, sh->base);
	/* and outside the cgroup memory still works, here */
	{
		int ctl = shmr_ctl_open(), fd;
		void *p;

		ASSERT_LE(0, ctl);
		fd = shmr_create(ctl, NULL, FIT_SIZE, 0, 0600, NULL);
		ASSERT_LE(0, fd);
		p = map_and_touch(fd, FIT_SIZE, sh);
		EXPECT_NE(NULL, p);
		if (p)
			munmap(p, FIT_SIZE);
		close(fd);
		close(ctl);
	}
}

TEST_HARNESS_MAIN
