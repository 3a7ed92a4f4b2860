// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's own fault injection against every module call (make
 * check-debug's kernel: CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC,
 * CONFIG_FAULT_INJECTION_USERCOPY): for CREATE (named, anonymous), OPEN
 * (read-write, read-only), mmap, STAT (by fd with attach entries, by id),
 * LIST and UNLINK, fail the 1st, 2nd, ... injection point the call reaches
 * in this task (/proc/thread-self/fail-nth), once with slab allocations
 * failing and once with page allocations failing (user copies fail in
 * both), until the call gets through without reaching the Nth point.
 * Each injected failure must give a clear errno and leave nothing behind:
 * no fd, no name, no mapping, module counters as before. Skips on kernels
 * without fail-nth (Debian's).
 */
#include <sys/mman.h>
#include <sys/syscall.h>

#include "shmr_test.h"

#define SIZE		(64 * 1024)
#define MAX_NTH		4000

static const char * const live[] = {
	"regions_live", "handles_live", "mappings_live", "attach_live", "bytes_live",
};
#define NLIVE	(sizeof(live) / sizeof(live[0]))

static int knob(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -errno;
	close(fd);
	return ret;
}

static int lowest_free_fd(void)
{
	int fd = dup(0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static void counters(long long *v)
{
	size_t i;

	for (i = 0; i < NLIVE; i++)
		v[i] = shmr_counter(live[i]);
}

/* Counters back at want? Freeing may finish just after the call returns. */
static bool counters_settle(const long long *want, char *why, size_t len)
{
	long long now[NLIVE];
	size_t i;

	if (shmr_wait_until((counters(now), !memcmp(now, want, sizeof(now)))))
		return true;
	for (i = 0; i < NLIVE; i++) {
		if (now[i] != want[i]) {
			snprintf(why, len, "%s %lld, was %lld", live[i], now[i], want[i]);
			break;
		}
	}
	return false;
}

FIXTURE(failnth) {
	int ctl;
	int nth;		/* /proc/thread-self/fail-nth */
	int rfd;		/* a named region the operations use */
	char name[64];
	uint64_t id;
};

FIXTURE_VARIANT(failnth) {
	bool slab;		/* failslab on GFP_KERNEL allocations */
	bool pages;		/* fail_page_alloc on order-0 and up */
};

FIXTURE_VARIANT_ADD(failnth, failslab) {
	.slab = true,
};

FIXTURE_VARIANT_ADD(failnth, fail_page_alloc) {
	.pages = true,
};

FIXTURE_SETUP(failnth)
{
	struct shmr_create c;

	self->ctl = -1;
	self->nth = -1;
	self->rfd = -1;
	SHMR_REQUIRE_DEVICE();
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (self->nth < 0)
		SKIP(return, "no /proc/thread-self/fail-nth: kernel without CONFIG_FAULT_INJECTION (make check-debug boots one)");
	if (access("/sys/kernel/debug/failslab", F_OK) ||
	    access("/sys/kernel/debug/fail_page_alloc", F_OK))
		SKIP(return, "no failslab/fail_page_alloc in debugfs");
	ASSERT_EQ(0, knob("/sys/kernel/debug/failslab/verbose", "0"));
	ASSERT_EQ(0, knob("/sys/kernel/debug/fail_page_alloc/verbose", "0"));
	if (!access("/sys/kernel/debug/fail_usercopy", F_OK))
		ASSERT_EQ(0, knob("/sys/kernel/debug/fail_usercopy/verbose", "0"));
	ASSERT_EQ(0, knob("/sys/kernel/debug/failslab/ignore-gfp-wait",
			  variant->slab ? "N" : "Y"));
	ASSERT_EQ(0, knob("/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait",
			  variant->pages ? "N" : "Y"));
	ASSERT_EQ(0, knob("/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem",
			  variant->pages ? "N" : "Y"));
	ASSERT_EQ(0, knob("/sys/kernel/debug/fail_page_alloc/min-order",
			  variant->pages ? "0" : "1"));
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	shmr_test_name(self->name, sizeof(self->name), "failnth");
	self->rfd = shmr_create(self->ctl, shmr_track(self->name), SIZE, 0, 0600, &c);
	ASSERT_LE(0, self->rfd);
	self->id = c.id;
}

FIXTURE_TEARDOWN(failnth)
{
	if (self->nth >= 0) {
		knob("/sys/kernel/debug/failslab/ignore-gfp-wait", "Y");
		knob("/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "Y");
		knob("/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "Y");
		knob("/sys/kernel/debug/fail_page_alloc/min-order", "1");
		close(self->nth);
	}
	if (self->rfd >= 0)
		close(self->rfd);
	if (self->ctl >= 0)
		close(self->ctl);
	shmr_cleanup();
}

/*
 * One operation under fault injection. run() makes the call and returns
 * its result (>= 0, or -errno); undo() releases what a successful call
 * made; gone() says whether a failed call left a trace (a name, say).
 */
struct op {
	const char *what;
	long (*run)(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self);
	void (*undo)(FIXTURE_DATA(failnth) *self, long res);
	const char *(*trace)(FIXTURE_DATA(failnth) *self);
};

static char op_name[64];

static long run_create_named(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	(void)_metadata;
	(void)self;
	return shmr_create(self->ctl, op_name, SIZE, SHMR_CREATE_EXCL, 0600, NULL);
}

static void undo_fd_unlink(FIXTURE_DATA(failnth) *self, long res)
{
	close((int)res);
	shmr_unlink(self->ctl, op_name);
}

static const char *trace_name(FIXTURE_DATA(failnth) *self)
{
	int fd = shmr_open(self->ctl, op_name, 0, NULL);

	if (fd == -ENOENT)
		return NULL;
	if (fd >= 0) {
		close(fd);
		shmr_unlink(self->ctl, op_name);
	}
	return "the name exists after a failed CREATE";
}

static long run_create_anon(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	(void)_metadata;
	return shmr_create(self->ctl, NULL, SIZE, 0, 0600, NULL);
}

static void undo_fd(FIXTURE_DATA(failnth) *self, long res)
{
	(void)self;
	close((int)res);
}

static long run_open(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	(void)_metadata;
	return shmr_open(self->ctl, self->name, 0, NULL);
}

static long run_open_rdonly(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	(void)_metadata;
	return shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
}

static void *op_map;

static long run_mmap(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	(void)_metadata;
	op_map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, self->rfd, 0);
	return op_map == MAP_FAILED ? -errno : 0;
}

static void undo_mmap(FIXTURE_DATA(failnth) *self, long res)
{
	(void)self;
	(void)res;
	munmap(op_map, SIZE);
}

static const char *trace_mapping(FIXTURE_DATA(failnth) *self)
{
	struct shmr_region_info info;

	if (shmr_stat_fd(self->rfd, &info))
		return "STAT failed";
	return info.mappings ? "a mapping is counted after a failed mmap" : NULL;
}

static long run_stat_attach(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	struct shmr_attach_info att[4];
	struct shmr_stat s;

	(void)_metadata;
	memset(&s, 0, sizeof(s));
	s.attach = (uintptr_t)att;
	s.attach_cap = 4;
	return shmr_ioctl(self->rfd, SHMR_IOC_STAT, &s);
}

static long run_stat_id(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	struct shmr_region_info info;

	(void)_metadata;
	return shmr_stat_id(self->ctl, self->id, &info);
}

static long run_list(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	struct shmr_region_info infos[8];
	struct shmr_list l;

	(void)_metadata;
	memset(&l, 0, sizeof(l));
	l.regions = (uintptr_t)infos;
	l.cap = 8;
	return shmr_ioctl(self->ctl, SHMR_IOC_LIST, &l);
}

static long run_unlink(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self)
{
	(void)_metadata;
	return shmr_unlink(self->ctl, op_name);
}

static const char *trace_unlink(FIXTURE_DATA(failnth) *self)
{
	/* a failed UNLINK keeps the name */
	int fd = shmr_open(self->ctl, op_name, 0, NULL);

	if (fd < 0)
		return "the name is gone after a failed UNLINK";
	close(fd);
	return NULL;
}

static void noop(FIXTURE_DATA(failnth) *self, long res)
{
	(void)self;
	(void)res;
}

static int arm(int nth, int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%d", n);

	return pwrite(nth, buf, len, 0) == len ? 0 : -errno;
}

/* 0: the Nth point was reached (and failed); > 0: the call never got there. */
static int disarm(int nth)
{
	char buf[16] = "";
	int left;

	/*
	 * The read copies the count out after taking it: with 1 left, that
	 * copy is the Nth point and fails (-EFAULT), so the call never got
	 * there.
	 */
	if (pread(nth, buf, sizeof(buf) - 1, 0) < 0)
		left = errno == EFAULT ? 1 : -errno;
	else
		left = atoi(buf);
	arm(nth, 0);
	return left;
}

static void walk(struct __test_metadata *_metadata, FIXTURE_DATA(failnth) *self,
		 const struct op *op, bool must_inject)
{
	long long before[NLIVE];
	int n, injected = 0, left, fd0;
	char why[128];
	long res;

	for (n = 1; n <= MAX_NTH; n++) {
		if (op->run == run_unlink) {
			int fd = shmr_create(self->ctl, op_name, SIZE, SHMR_CREATE_EXCL, 0600, NULL);

			ASSERT_LE(0, fd);
			close(fd);
		}
		counters(before);
		fd0 = lowest_free_fd();
		ASSERT_EQ(0, arm(self->nth, n));
		res = op->run(_metadata, self);
		left = disarm(self->nth);
		ASSERT_LE(0, left);
		if (res >= 0) {
			op->undo(self, res);
			if (left > 0)
				break;	/* got through without reaching point n */
			/* the point failed and was recovered from inside: fine */
			continue;
		}
		ASSERT_EQ(0, left) TH_LOG("%s failed (%ld) without an injected fault at n=%d",
					  op->what, res, n);
		injected++;
		EXPECT_TRUE(res == -ENOMEM || res == -EFAULT || res == -ENOSPC)
			TH_LOG("%s n=%d: unexpected errno %ld", op->what, n, res);
		EXPECT_EQ(fd0, lowest_free_fd()) TH_LOG("%s n=%d: an fd leaked", op->what, n);
		if (op->trace) {
			const char *t = op->trace(self);

			EXPECT_EQ(NULL, t) TH_LOG("%s n=%d: %s", op->what, n, t);
		}
		EXPECT_TRUE(counters_settle(before, why, sizeof(why)))
			TH_LOG("%s n=%d: %s", op->what, n, why);
		if (op->run == run_unlink)
			shmr_unlink(self->ctl, op_name);
		if (_metadata->passed == 0)
			return;
	}
	ASSERT_GE(MAX_NTH, n) TH_LOG("%s still reaches injection points after %d", op->what, MAX_NTH);
	TH_LOG("%s: %d injected failures, through at n=%d", op->what, injected, n);
	if (must_inject)
		EXPECT_LT(0, injected) TH_LOG("%s: no fault was ever injected", op->what);
}

#define FAILNTH_TEST(tname, r, u, t)						\
	TEST_F_TIMEOUT(failnth, tname, 600)					\
	{									\
		const struct op op = { #tname, r, u, t };			\
										\
		if (self->rfd < 0)	/* the set-up skipped */		\
			return;							\
		shmr_test_name(op_name, sizeof(op_name), "failnth-op");		\
		shmr_track(op_name);						\
		/* every ioctl copies from user; mmap allocates no page */	\
		walk(_metadata, self, &op, variant->slab || r != run_mmap);	\
	}

FAILNTH_TEST(create_named, run_create_named, undo_fd_unlink, trace_name)
FAILNTH_TEST(create_anon, run_create_anon, undo_fd, NULL)
FAILNTH_TEST(open, run_open, undo_fd, NULL)
FAILNTH_TEST(open_rdonly, run_open_rdonly, undo_fd, NULL)
FAILNTH_TEST(mmap, run_mmap, undo_mmap, trace_mapping)
FAILNTH_TEST(stat_attach, run_stat_attach, noop, NULL)
FAILNTH_TEST(stat_id, run_stat_id, noop, NULL)
FAILNTH_TEST(list, run_list, noop, NULL)
FAILNTH_TEST(unlink, run_unlink, noop, trace_unlink)

TEST_HARNESS_MAIN
