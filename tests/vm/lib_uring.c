// SPDX-License-Identifier: GPL-2.0
/*
 * lib_uring: the batch API (shmr_batch_*) over io_uring against the same
 * operations through the ioctl fallback: same results and errnos, mixed
 * batches, events waited for in the ring, raw SQEs with invalid fields, a
 * process that dies with requests in flight leaks nothing.
 */
#include "shmr_test.h"

#include <liburing.h>
#include <dirent.h>
#include <poll.h>
#include <pthread.h>

/* shmr_test.h has its own shmr_features() (the raw ioctl) */
#define shmr_features shmr_lib_features
#include "shmr.h"
#undef shmr_features

#pragma GCC diagnostic ignored "-Wsign-compare"

#define REQUIRE_RING() do {						\
	SHMR_REQUIRE_DEVICE();						\
	if (!ring_available())						\
		SKIP(return, "io_uring unavailable");			\
} while (0)

static int ring_available(void)
{
	struct io_uring ring;

	if (io_uring_queue_init(2, &ring, 0))
		return 0;
	io_uring_queue_exit(&ring);
	return 1;
}

/* ---- one script, run through either transport --------------------------- */

#define MAXR 64

struct run {
	int res[MAXR];
	int n;
	struct shmr_region_stat st[8];
	struct shmr_region_stat list[4];
	uint64_t features;
	uint32_t ev[4];
	uint64_t size[8];
	char names[8][96];
};

static void rec(struct run *run, int res)
{
	if (run->n < MAXR)
		run->res[run->n++] = res;
}

/* Submit b, record every result; returns the submit's value. */
static int flush(struct shmr_batch *b, struct run *run)
{
	int i, n = shmr_batch_submit(b);

	for (i = 0; i < n; i++)
		rec(run, shmr_batch_result(b, i));
	rec(run, n);
	return n;
}

/*
 * Every command with valid and invalid inputs, in steps whose operations do
 * not depend on each other. Names are "<tag>-PID-x".
 */
static void script(struct shmr_batch *b, const char *tag, struct run *run)
{
	struct shmr_region *a = NULL, *anon = NULL, *o1 = NULL, *o2 = NULL, *x[6] = { 0 };
	char na[96], missing[96], slash[96], longname[300];
	int i;

	memset(run, 0, sizeof(*run));
	snprintf(na, sizeof(na), "%s-%d-a", tag, getpid());
	snprintf(missing, sizeof(missing), "%s-%d-missing", tag, getpid());
	snprintf(slash, sizeof(slash), "%s/%d", tag, getpid());
	memset(longname, 'n', 256);
	longname[256] = '\0';

	/* 1: creates (good and bad), features, misses */
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = na, .size = 5000, .mode = 0640,
					       .flags = SHMR_REGION_EXCL), &a);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.size = 4096), &anon);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.size = 4096, .flags = SHMR_REGION_EXCL), &x[0]);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = missing, .size = 0), &x[1]);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = missing, .size = 1, .mode = 01000), &x[2]);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = longname, .size = 1), &x[3]);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = slash, .size = 1), &x[4]);
	/* the module's own limit */
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = missing, .size = 1ULL << 62), &x[5]);
	shmr_batch_create(b, &(struct shmr_region_opts){ .sz = 1, .size = 1 }, &x[5]);
	shmr_batch_features(b, &run->features);
	shmr_batch_open(b, missing, 0, &x[5]);
	shmr_batch_open(b, na, 0x100, &x[5]);
	shmr_batch_unlink(b, missing);
	shmr_batch_unlink(b, slash);
	shmr_batch_stat_id(b, 0, &run->st[7]);
	shmr_batch_stat_id(b, ~0ULL, &run->st[7]);
	flush(b, run);
	for (i = 0; i < 6; i++)
		rec(run, x[i] != NULL);
	if (!a || !anon)
		return;
	run->size[0] = shmr_region_size(a);
	run->size[1] = shmr_region_size(anon);

	/* 2: on the existing region */
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = na, .size = 1, .flags = SHMR_REGION_EXCL),
			  &x[0]);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = na, .size = 1ULL << 20), &x[1]);
	shmr_batch_open(b, na, 0, &o1);
	shmr_batch_open(b, na, SHMR_REGION_RDONLY, &o2);
	/* what sees the opens' handles waits for them: ops of a submit may overlap */
	flush(b, run);
	shmr_batch_stat(b, a, &run->st[0]);
	shmr_batch_stat(b, anon, &run->st[1]);
	shmr_batch_stat_id(b, shmr_region_stat(a, &run->st[6]) ? 0 : run->st[6].id, &run->st[2]);
	shmr_batch_list(b, NULL, 0);
	shmr_batch_list(b, run->list, 1);
	shmr_batch_events(b, a, &run->ev[0]);
	flush(b, run);
	rec(run, x[0] != NULL);
	rec(run, x[1] != NULL);
	if (o1) {
		run->size[2] = shmr_region_size(o1);
		rec(run, fcntl(shmr_region_fd(o1), F_GETFL) & O_ACCMODE);
	}
	if (o2)
		rec(run, fcntl(shmr_region_fd(o2), F_GETFL) & O_ACCMODE);

	/* 3: unlink; 4: what the handles see */
	shmr_batch_unlink(b, na);
	flush(b, run);
	shmr_batch_events(b, a, &run->ev[1]);
	if (o1)
		shmr_batch_wait_events(b, o1, &run->ev[2]);
	shmr_batch_stat(b, a, &run->st[3]);
	shmr_batch_unlink(b, na);
	shmr_batch_open(b, na, 0, &x[2]);
	flush(b, run);
	rec(run, x[2] != NULL);

	shmr_region_close(o1);
	shmr_region_close(o2);
	shmr_region_close(a);
	shmr_region_close(anon);
}

static void stat_eq(struct __test_metadata *_metadata, const struct shmr_region_stat *r,
		    const struct shmr_region_stat *i, size_t skip)
{
	EXPECT_EQ(r->size, i->size);
	EXPECT_EQ(r->mode, i->mode);
	EXPECT_EQ(r->flags, i->flags);
	EXPECT_EQ(r->uid, i->uid);
	EXPECT_EQ(r->handles, i->handles);
	EXPECT_EQ(r->mappings, i->mappings);
	EXPECT_EQ(r->nattach, i->nattach);
	EXPECT_EQ(!!r->id, !!i->id);
	EXPECT_EQ(strlen(r->name), strlen(i->name));
	if (strlen(r->name) > skip)
		EXPECT_STREQ(r->name + skip, i->name + skip);
}

TEST(transport)
{
	struct shmr_batch *b;

	REQUIRE_RING();
	ASSERT_EQ(0, shmr_batch_new(8, 0, &b));
	EXPECT_EQ(SHMR_BATCH_RING, shmr_batch_transport(b));
	shmr_batch_free(b);
	ASSERT_EQ(0, shmr_batch_new(8, SHMR_BATCH_FALLBACK, &b));
	EXPECT_EQ(SHMR_BATCH_IOCTL, shmr_batch_transport(b));
	shmr_batch_free(b);
	/* argument checks */
	EXPECT_EQ(-EINVAL, shmr_batch_new(0, 0, &b));
	EXPECT_EQ(-EINVAL, shmr_batch_new(4097, 0, &b));
	EXPECT_EQ(-EINVAL, shmr_batch_new(8, 2, &b));
	EXPECT_EQ(-EINVAL, shmr_batch_new(8, 0, NULL));
	EXPECT_EQ(-EINVAL, shmr_batch_transport(NULL));
	EXPECT_EQ(-EINVAL, shmr_batch_submit(NULL));
}

/* open fds on the shmr device (the control fd; region fds are anon inodes) */
static int ctl_fds(void)
{
	char path[64], target[64];
	int fd, n = 0;
	ssize_t len;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (!strcmp(target, SHMR_DEVICE_PATH))
			n++;
	}
	return n;
}

/* Batches go through the backend's control fd: they open no second one. */
TEST(one_control_fd)
{
	struct shmr_batch *b, *f;

	REQUIRE_RING();
	ASSERT_EQ(SHMR_BACKEND_KERNEL, shmr_backend());
	EXPECT_EQ(1, ctl_fds());
	ASSERT_EQ(0, shmr_batch_new(8, 0, &b));
	ASSERT_EQ(0, shmr_batch_new(8, SHMR_BATCH_FALLBACK, &f));
	EXPECT_EQ(SHMR_BATCH_RING, shmr_batch_transport(b));
	EXPECT_EQ(1, ctl_fds());
	shmr_batch_free(f);
	shmr_batch_free(b);
}

TEST(forced_off)
{
	struct shmr_batch *b;
	uint64_t f = 0;

	SHMR_REQUIRE_DEVICE();
	setenv("SHMR_URING", "off", 1);
	ASSERT_EQ(0, shmr_batch_new(8, 0, &b));
	EXPECT_EQ(SHMR_BATCH_IOCTL, shmr_batch_transport(b));
	ASSERT_EQ(0, shmr_batch_features(b, &f));
	ASSERT_EQ(1, shmr_batch_submit(b));
	EXPECT_EQ(0, shmr_batch_result(b, 0));
	EXPECT_TRUE(!!(f & SHMR_FEATURE_EVENTS));
	shmr_batch_free(b);
}

TEST(same_as_ioctl)
{
	struct shmr_batch *rb, *ib;
	struct run *r, *i;
	int k;

	REQUIRE_RING();
	r = calloc(1, sizeof(*r));
	i = calloc(1, sizeof(*i));
	ASSERT_TRUE(r && i);
	ASSERT_EQ(0, shmr_batch_new(32, 0, &rb));
	ASSERT_EQ(SHMR_BATCH_RING, shmr_batch_transport(rb));
	ASSERT_EQ(0, shmr_batch_new(32, SHMR_BATCH_FALLBACK, &ib));
	script(rb, "ur-r", r);
	script(ib, "ur-i", i);
	ASSERT_EQ(r->n, i->n);
	for (k = 0; k < r->n; k++) {
		TH_LOG("result %d: ring %d ioctl %d", k, r->res[k], i->res[k]);
		EXPECT_EQ(r->res[k], i->res[k]);
	}
	/* spot checks that the script did what it says */
	EXPECT_EQ(16, r->res[16]);		/* first submit: 16 operations */
	EXPECT_EQ(0, r->res[0]);
	EXPECT_EQ(-EFBIG, r->res[7]);
	EXPECT_EQ(-ENAMETOOLONG, r->res[5]);
	EXPECT_EQ(r->features, i->features);
	EXPECT_TRUE(!!(r->features & SHMR_FEATURE_EVENTS));
	for (k = 0; k < 3; k++)
		EXPECT_EQ(r->size[k], i->size[k]);
	EXPECT_EQ(8192U, r->size[0]);
	for (k = 0; k < 4; k++)
		stat_eq(_metadata, &r->st[k], &i->st[k], 4);
	EXPECT_TRUE(!!(r->st[3].flags & SHMR_STAT_UNLINKED));
	EXPECT_TRUE(!!(r->st[1].flags & SHMR_STAT_ANON));
	EXPECT_EQ(r->st[0].id, r->st[2].id);
	EXPECT_EQ(0U, r->ev[0]);
	EXPECT_EQ(SHMR_EVENT_UNLINKED, r->ev[1]);
	EXPECT_EQ(SHMR_EVENT_UNLINKED, r->ev[2]);
	EXPECT_EQ(r->ev[1], i->ev[1]);
	EXPECT_EQ(r->ev[2], i->ev[2]);
	shmr_batch_free(rb);
	shmr_batch_free(ib);
	EXPECT_EQ(0, shmr_leak_count());
	free(r);
	free(i);
}

TEST(mixed_batch)
{
	struct shmr_region *pre, *r[6] = { 0 };
	struct shmr_region_stat st, list[8];
	char name[64], fresh[64], gone[64];
	struct shmr_tracked t[16];
	struct shmr_batch *b;
	int n, k, want[8];
	void *p;

	REQUIRE_RING();
	snprintf(name, sizeof(name), "ur-mixed-%d", getpid());
	snprintf(fresh, sizeof(fresh), "ur-fresh-%d", getpid());
	snprintf(gone, sizeof(gone), "ur-gone-%d", getpid());
	ASSERT_EQ(0, shmr_region_create(&SHMR_REGION_OPTS(.name = name, .size = 4096), &pre));
	ASSERT_EQ(0, shmr_batch_new(8, 0, &b));
	ASSERT_EQ(0, shmr_batch_create(b, &SHMR_REGION_OPTS(.name = name, .size = 4096,
							     .flags = SHMR_REGION_EXCL), &r[0]));
	ASSERT_EQ(1, shmr_batch_open(b, name, 0, &r[1]));
	ASSERT_EQ(2, shmr_batch_open(b, gone, 0, &r[2]));
	ASSERT_EQ(3, shmr_batch_stat(b, pre, &st));
	ASSERT_EQ(4, shmr_batch_unlink(b, gone));
	ASSERT_EQ(5, shmr_batch_create(b, &SHMR_REGION_OPTS(.name = fresh, .size = 4096), &r[3]));
	ASSERT_EQ(6, shmr_batch_create(b, &SHMR_REGION_OPTS(.size = 0), &r[4]));
	ASSERT_EQ(7, shmr_batch_list(b, list, 8));
	/* full */
	EXPECT_EQ(-ENOSPC, shmr_batch_stat(b, pre, &st));
	EXPECT_EQ(-EINVAL, shmr_batch_result(b, 0));	/* not submitted yet */
	ASSERT_EQ(8, shmr_batch_submit(b));
	want[0] = -EEXIST;
	want[1] = 0;
	want[2] = -ENOENT;
	want[3] = 0;
	want[4] = -ENOENT;
	want[5] = 0;
	want[6] = -EINVAL;
	for (k = 0; k < 7; k++)
		EXPECT_EQ(want[k], shmr_batch_result(b, k));
	n = shmr_batch_result(b, 7);
	EXPECT_LE(1, n);	/* pre at least (fresh is made concurrently) */
	EXPECT_EQ(-EINVAL, shmr_batch_result(b, 8));
	EXPECT_EQ(NULL, r[0]);
	EXPECT_EQ(NULL, r[2]);
	EXPECT_EQ(NULL, r[4]);
	ASSERT_NE(NULL, r[1]);
	ASSERT_NE(NULL, r[3]);
	EXPECT_STREQ(name, st.name);
	/* pre, and r[1] if its OPEN ran first (a submit's ops may overlap) */
	EXPECT_LE(1U, st.handles);
	EXPECT_GE(2U, st.handles);
	/* the new handles are real, tracked handles */
	ASSERT_EQ(0, shmr_region_map(r[1], &p));
	memset(p, 7, 4096);
	EXPECT_EQ(0, shmr_region_unmap(p));
	n = shmr_registry_list(t, 16);
	EXPECT_EQ(3, n);
	for (k = 0; k < n && k < 16; k++)
		EXPECT_EQ(SHMR_TRACKED_HANDLE, t[k].kind);
	EXPECT_EQ(3, shmr_leak_count());
	/* the next operation starts a new batch */
	ASSERT_EQ(0, shmr_batch_unlink(b, name));
	ASSERT_EQ(1, shmr_batch_unlink(b, fresh));
	ASSERT_EQ(2, shmr_batch_submit(b));
	EXPECT_EQ(0, shmr_batch_result(b, 0));
	EXPECT_EQ(0, shmr_batch_result(b, 1));
	EXPECT_EQ(0, shmr_batch_submit(b));	/* nothing new queued */
	shmr_region_close(r[1]);
	shmr_region_close(r[3]);
	shmr_region_close(pre);
	EXPECT_EQ(0, shmr_leak_count());
	shmr_batch_free(b);
}

/* A peer process: opens the region, then unlinks it or dies. */
static pid_t peer(const char *name, int how)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct shmr_region *r;

		if (shmr_region_open(name, 0, &r))
			_exit(1);
		usleep(100000);
		if (how == 0)
			_exit(shmr_region_unlink(name) ? 2 : 0);
		raise(SIGKILL);
	}
	return pid;
}

TEST(wait_events)
{
	struct shmr_region *r, *r2;
	struct shmr_batch *b;
	uint32_t ev = 0, ev2 = 0;
	char name[64];
	pid_t pid;
	int st, trans;

	SHMR_REQUIRE_DEVICE();
	for (trans = 0; trans < 2; trans++) {
		snprintf(name, sizeof(name), "ur-ev-%d-%d", getpid(), trans);
		ASSERT_EQ(0, shmr_region_create(&SHMR_REGION_OPTS(.name = name, .size = 4096),
						&r));
		ASSERT_EQ(0, shmr_region_open(name, 0, &r2));
		ASSERT_EQ(0, shmr_batch_new(4, trans ? SHMR_BATCH_FALLBACK : 0, &b));
		/* killed: PEER_DIED (and DETACHED) */
		pid = peer(name, 1);
		ASSERT_EQ(0, shmr_batch_wait_events(b, r, &ev));
		ASSERT_EQ(1, shmr_batch_submit(b));
		EXPECT_EQ(0, shmr_batch_result(b, 0));
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		EXPECT_TRUE(WIFSIGNALED(st));
		EXPECT_TRUE(!!(ev & SHMR_EVENT_PEER_DIED));
		/* unlinked by a peer: both handles wait in one submit */
		ev = 0;
		shmr_batch_events(b, r, &ev);	/* clear what is left */
		shmr_batch_events(b, r2, &ev2);
		ASSERT_EQ(2, shmr_batch_submit(b));
		pid = peer(name, 0);
		ASSERT_EQ(0, shmr_batch_wait_events(b, r, &ev));
		ASSERT_EQ(1, shmr_batch_wait_events(b, r2, &ev2));
		ASSERT_EQ(2, shmr_batch_submit(b));
		EXPECT_EQ(0, shmr_batch_result(b, 0));
		EXPECT_EQ(0, shmr_batch_result(b, 1));
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		EXPECT_EQ(0, WEXITSTATUS(st));
		EXPECT_TRUE(!!(ev & SHMR_EVENT_UNLINKED));
		EXPECT_TRUE(!!(ev2 & SHMR_EVENT_UNLINKED));
		shmr_batch_free(b);
		shmr_region_close(r);
		shmr_region_close(r2);
	}
}

/* ---- raw SQEs: the fields the module checks ---------------------------- */

/* cmd_flags: high bits go to sqe->uring_cmd_flags, 1 sets sqe->__pad1 */
static int raw(struct io_uring *ring, int fd, unsigned int op, void *arg, uint32_t cmd_flags)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	uint64_t ptr = (uintptr_t)arg;
	int ret;

	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, NULL, 0, 0);
	sqe->cmd_op = op;
	sqe->uring_cmd_flags = cmd_flags & ~1U;
	sqe->__pad1 = cmd_flags & 1U;
	memcpy(sqe->cmd, &ptr, sizeof(ptr));
	ret = io_uring_submit_and_wait(ring, 1);
	if (ret != 1)
		return ret < 0 ? ret : -EIO;
	ret = io_uring_wait_cqe(ring, &cqe);
	if (ret)
		return ret;
	ret = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return ret;
}

/* The struct sizes the ABI would never see: smaller and larger ones. */
struct big_features {
	struct shmr_features f;
	uint64_t extra;
};

#define IOC_SIZED(nr, dir_iowr, sz) \
	((dir_iowr) ? _IOC(_IOC_READ | _IOC_WRITE, SHMR_IOC_MAGIC, nr, sz) : \
		      _IOC(_IOC_READ, SHMR_IOC_MAGIC, nr, sz))

TEST(raw_sqe_invalid)
{
	struct {
		const char *what;
		int on_region;
		unsigned int op;
		int field;	/* which field of the arg to spoil */
		uint32_t cmd_flags;
		int want;
	} cases[] = {
		{ "unknown number", 0, _IOWR(SHMR_IOC_MAGIC, 0x7f, struct shmr_features), 0, 0, -ENOTTY },
		{ "other magic", 0, _IOWR('x', 0x00, struct shmr_features), 0, 0, -ENOTTY },
		{ "wrong direction", 0, IOC_SIZED(0x00, 0, sizeof(struct shmr_features)), 0, 0, -ENOTTY },
		{ "short struct", 0, IOC_SIZED(0x00, 1, 8), 0, 0, -EINVAL },
		{ "long struct, tail set", 0, IOC_SIZED(0x00, 1, sizeof(struct big_features)), 3, 0, -E2BIG },
		{ "long struct, tail zero", 0, IOC_SIZED(0x00, 1, sizeof(struct big_features)), 0, 0, 0 },
		{ "features flags", 0, SHMR_IOC_FEATURES, 1, 0, -EINVAL },
		{ "stat flags", 1, SHMR_IOC_STAT, 1, 0, -EINVAL },
		{ "stat reserved", 1, SHMR_IOC_STAT, 2, 0, -EINVAL },
		{ "stat id on region fd", 1, SHMR_IOC_STAT, 4, 0, -EINVAL },
		{ "list on region fd", 1, SHMR_IOC_LIST, 0, 0, -ENOTTY },
		{ "create on region fd", 1, SHMR_IOC_CREATE, 0, 0, -ENOTTY },
		{ "events on control fd", 0, SHMR_IOC_EVENTS, 0, 0, -ENOTTY },
		{ "events flags", 1, SHMR_IOC_EVENTS, 1, 0, -EINVAL },
		{ "create flags", 0, SHMR_IOC_CREATE, 1, 0, -EINVAL },
		{ "create reserved", 0, SHMR_IOC_CREATE, 2, 0, -EINVAL },
		{ "unlink flags", 0, SHMR_IOC_UNLINK, 1, 0, -EINVAL },
		{ "unlink reserved0", 0, SHMR_IOC_UNLINK, 2, 0, -EINVAL },
		{ "bad pointer", 0, SHMR_IOC_FEATURES, 5, 0, -EFAULT },
		{ "uring_cmd_flags", 0, SHMR_IOC_FEATURES, 0, 1U << 31, -EINVAL },
		{ "sqe __pad1", 0, SHMR_IOC_FEATURES, 0, 1U, -EINVAL },
	};
	union {
		struct big_features bf;
		struct shmr_features f;
		struct shmr_stat s;
		struct shmr_create c;
		struct shmr_unlink u;
		struct shmr_events e;
		struct shmr_list l;
		char pad[1024];
	} arg;
	struct io_uring ring;
	char name[64];
	int ctl, fd;
	unsigned int k;

	REQUIRE_RING();
	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	shmr_test_name(name, sizeof(name), "ur-raw");
	fd = shmr_create(ctl, shmr_track(name), 4096, SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		int tfd = cases[k].on_region ? fd : ctl;
		int via_ioctl = 0, via_ring = 0;
		void *p = &arg;

		/* the same spoiled arg for both transports */
		for (int t = 0; t < 2; t++) {
			int ret;

			memset(&arg, 0, sizeof(arg));
			if (cases[k].op == SHMR_IOC_CREATE) {
				arg.c.name = (uintptr_t)"ur-raw-never";
				arg.c.size = 4096;
				arg.c.mode = 0600;
			}
			if (cases[k].op == SHMR_IOC_UNLINK)
				arg.u.name = (uintptr_t)"ur-raw-never";
			switch (cases[k].field) {
			case 1:	/* flags */
				if (cases[k].op == SHMR_IOC_STAT)
					arg.s.flags = 1;
				else if (cases[k].op == SHMR_IOC_EVENTS)
					arg.e.flags = 1;
				else if (cases[k].op == SHMR_IOC_CREATE)
					arg.c.flags = 1U << 30;
				else if (cases[k].op == SHMR_IOC_UNLINK)
					arg.u.flags = 1;
				else
					arg.f.flags = 1;
				break;
			case 2:	/* reserved */
				if (cases[k].op == SHMR_IOC_STAT)
					arg.s.reserved[1] = 1;
				else if (cases[k].op == SHMR_IOC_CREATE)
					arg.c.reserved[3] = 1;
				else
					arg.u.reserved0 = 1;
				break;
			case 3:
				arg.bf.extra = 1;
				break;
			case 4:
				arg.s.id = 1;
				break;
			case 5:
				p = (void *)8;
				break;
			}
			if (t == 0) {
				if (cases[k].cmd_flags) {
					via_ioctl = cases[k].want;	/* no such field */
					continue;
				}
				ret = ioctl(tfd, cases[k].op, p);
				via_ioctl = ret < 0 ? -errno : ret;
			} else {
				via_ring = raw(&ring, tfd, cases[k].op, p, cases[k].cmd_flags);
			}
		}
		TH_LOG("%s: ioctl %d ring %d", cases[k].what, via_ioctl, via_ring);
		EXPECT_EQ(cases[k].want, via_ring);
		EXPECT_EQ(via_ioctl, via_ring);
	}
	close(fd);
	shmr_cleanup();
	close(ctl);
	io_uring_queue_exit(&ring);
}

/* ---- dying with requests in flight -------------------------------------- */

static const char *const counters[] = {
	"regions_live", "handles_live", "mappings_live", "attach_live", "bytes_live",
};
#define NCOUNTERS (sizeof(counters) / sizeof(counters[0]))

static void read_counters(long long *v)
{
	unsigned int i;

	for (i = 0; i < NCOUNTERS; i++)
		v[i] = shmr_counter(counters[i]);
}

/* Read the counters into now: are they all back at base? */
static bool counters_at(const long long *base, long long *now)
{
	read_counters(now);
	return !memcmp(now, base, NCOUNTERS * sizeof(*now));
}

/* Poll the counters until they are back at base (shmr_wait_until). */
static int counters_back(const long long *base, long long *now)
{
	return shmr_wait_until(counters_at(base, now));
}

static int go_pipe[2];

/* exit the process (all threads) when the parent says so */
static void *exit_on_word(void *arg)
{
	char c;

	(void)arg;
	while (read(go_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
	return NULL;
}

/*
 * The child queues creates and waits for events that never come; it is
 * killed (how 0) or a thread exits the process (how 1) during the submit.
 */
static void inflight_child(const char *name, int how)
{
	struct shmr_region *r, *x[6];
	struct shmr_batch *b;
	pthread_t t;
	uint32_t ev[2];
	void *p;
	int i;

	setenv("SHMR_LEAK", "off", 1);
	if (shmr_region_create(&SHMR_REGION_OPTS(.name = name, .size = 8192), &r) ||
	    shmr_region_map(r, &p) || shmr_batch_new(16, 0, &b))
		_exit(3);
	for (i = 0; i < 6; i++)
		shmr_batch_create(b, &SHMR_REGION_OPTS(.size = 4096), &x[i]);
	shmr_batch_wait_events(b, r, &ev[0]);
	shmr_batch_list(b, NULL, 0);
	shmr_batch_wait_events(b, r, &ev[1]);
	if (how == 1)
		pthread_create(&t, NULL, exit_on_word, NULL);
	shmr_batch_submit(b);
	_exit(4);	/* never: nothing triggers the events */
}

TEST(exit_in_flight)
{
	long long base[NCOUNTERS], now[NCOUNTERS];
	char name[64];
	unsigned int k;
	int how, st;
	pid_t pid;

	REQUIRE_RING();
	if (access(SHMR_COUNTERS_PATH, R_OK))
		SKIP(return, "no %s", SHMR_COUNTERS_PATH);
	read_counters(base);
	for (how = 0; how < 2; how++) {
		snprintf(name, sizeof(name), "ur-inflight-%d-%d", getpid(), how);
		shmr_track(name);
		ASSERT_EQ(0, pipe(go_pipe));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			inflight_child(name, how);
		/* in flight: the region and the six created handles exist */
		shmr_wait_until(shmr_counter("handles_live") >= base[1] + 7);
		EXPECT_LE(base[1] + 7, shmr_counter("handles_live"));
		EXPECT_LE(base[0] + 7, shmr_counter("regions_live"));
		usleep(100000);
		if (how == 0)
			kill(pid, SIGKILL);
		else
			ASSERT_EQ(1, write(go_pipe[1], "x", 1));
		close(go_pipe[0]);
		close(go_pipe[1]);
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		if (how == 0) {
			EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		} else {
			EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		}
		shmr_cleanup();
		EXPECT_TRUE(counters_back(base, now));
		for (k = 0; k < NCOUNTERS; k++) {
			TH_LOG("%s: %lld -> %lld", counters[k], base[k], now[k]);
			EXPECT_EQ(base[k], now[k]);
		}
	}
}

/* An SQE that fails before it runs (a closed fd) does not stop the rest. */
TEST(bad_fd_in_batch)
{
	struct shmr_region_stat st[3];
	struct shmr_region *r, *ok;
	struct shmr_batch *b;
	uint64_t f = 0;
	int trans, k;

	SHMR_REQUIRE_DEVICE();
	for (trans = 0; trans < 2; trans++) {
		ASSERT_EQ(0, shmr_batch_new(8, trans ? SHMR_BATCH_FALLBACK : 0, &b));
		ASSERT_EQ(0, shmr_region_create(&SHMR_REGION_OPTS(.size = 1), &r));
		ASSERT_EQ(0, shmr_region_create(&SHMR_REGION_OPTS(.size = 1), &ok));
		/* behind the library's back */
		ASSERT_EQ(0, close(shmr_region_fd(r)));
		shmr_batch_stat(b, ok, &st[0]);
		shmr_batch_stat(b, r, &st[1]);
		shmr_batch_features(b, &f);
		shmr_batch_stat(b, ok, &st[2]);
		ASSERT_EQ(4, shmr_batch_submit(b));
		EXPECT_EQ(0, shmr_batch_result(b, 0));
		EXPECT_EQ(-EBADF, shmr_batch_result(b, 1));
		EXPECT_EQ(0, shmr_batch_result(b, 2));
		EXPECT_EQ(0, shmr_batch_result(b, 3));
		EXPECT_NE(0U, f);
		EXPECT_EQ(st[0].id, st[2].id);
		/* the batch goes on working */
		for (k = 0; k < 3; k++)
			shmr_batch_features(b, &f);
		ASSERT_EQ(3, shmr_batch_submit(b));
		EXPECT_EQ(0, shmr_batch_result(b, 2));
		shmr_region_close(r);
		shmr_region_close(ok);
		shmr_batch_free(b);
	}
}

/* Threads of this process: io-wq workers are threads of the submitter. */
static int threads(void)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/*
 * The commands the module hands to an io-wq worker when they come through
 * io_uring (CREATE, OPEN, UNLINK, STAT by id) run as ioctls in the
 * submitting thread; the ring carries the rest: no worker thread appears.
 * Then one command forced to io-wq (IOSQE_ASYNC) shows that one would.
 */
TEST(no_iowq_worker)
{
	struct shmr_region *named = NULL, *anon = NULL, *opened = NULL, *named2;
	struct shmr_region_stat st[3];
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct shmr_features f;
	struct io_uring ring;
	struct shmr_batch *b;
	uint32_t ev = 0;
	uint64_t ptr;
	char name[64];
	int k, ctl;

	REQUIRE_RING();
	snprintf(name, sizeof(name), "ur-iowq-%d", getpid());
	ASSERT_EQ(1, threads());
	ASSERT_EQ(0, shmr_batch_new(8, 0, &b));
	ASSERT_EQ(SHMR_BATCH_RING, shmr_batch_transport(b));
	shmr_batch_create(b, &SHMR_REGION_OPTS(.name = name, .size = 1), &named);
	shmr_batch_create(b, &SHMR_REGION_OPTS(.size = 1), &anon);
	ASSERT_EQ(2, shmr_batch_submit(b));
	for (k = 0; k < 2; k++)
		EXPECT_EQ(0, shmr_batch_result(b, k));
	ASSERT_NE(NULL, named);
	ASSERT_NE(NULL, anon);
	ASSERT_EQ(0, shmr_region_stat(named, &st[2]));
	shmr_batch_open(b, name, 0, &opened);
	shmr_batch_stat_id(b, st[2].id, &st[0]);
	shmr_batch_stat(b, anon, &st[1]);
	shmr_batch_events(b, anon, &ev);
	ASSERT_EQ(4, shmr_batch_submit(b));
	for (k = 0; k < 4; k++)
		EXPECT_EQ(0, shmr_batch_result(b, k));
	EXPECT_EQ(st[2].id, st[0].id);
	EXPECT_NE(st[2].id, st[1].id);
	shmr_batch_unlink(b, name);
	ASSERT_EQ(1, shmr_batch_submit(b));
	EXPECT_EQ(0, shmr_batch_result(b, 0));
	EXPECT_EQ(-ENOENT, shmr_region_open(name, 0, &named2));
	EXPECT_EQ(1, threads());
	shmr_region_close(opened);
	shmr_region_close(named);
	shmr_region_close(anon);
	shmr_batch_free(b);

	/* the check can fail: a command forced to io-wq starts a worker */
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, io_uring_queue_init(2, &ring, 0));
	memset(&f, 0, sizeof(f));
	ptr = (uintptr_t)&f;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, ctl, NULL, 0, 0);
	sqe->cmd_op = SHMR_IOC_FEATURES;
	sqe->flags |= IOSQE_ASYNC;
	memcpy(sqe->cmd, &ptr, sizeof(ptr));
	ASSERT_EQ(1, io_uring_submit_and_wait(&ring, 1));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(0, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	EXPECT_LT(1, threads());
	io_uring_queue_exit(&ring);
	close(ctl);
}

/* shmrctl unlink NAME...: one batch, every name's error, first error's status */
TEST(shmrctl_unlink_many)
{
	char names[3][64], missing[64], cmd[512], err[256];
	struct shmr_region *r;
	FILE *f;
	int k, st;

	SHMR_REQUIRE_DEVICE();
	if (system("command -v shmrctl >/dev/null 2>&1"))
		SKIP(return, "shmrctl not on PATH");
	for (k = 0; k < 3; k++) {
		snprintf(names[k], sizeof(names[k]), "ur-ctl-%d-%d", getpid(), k);
		ASSERT_EQ(0, shmr_region_create(&SHMR_REGION_OPTS(.name = names[k], .size = 1),
						&r));
		shmr_region_close(r);
	}
	snprintf(missing, sizeof(missing), "ur-ctl-%d-missing", getpid());
	snprintf(cmd, sizeof(cmd), "shmrctl unlink %s %s %s %s 2>&1 >/dev/null",
		 names[0], missing, names[1], names[2]);
	f = popen(cmd, "r");
	ASSERT_NE(NULL, f);
	memset(err, 0, sizeof(err));
	fread(err, 1, sizeof(err) - 1, f);
	st = pclose(f);
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(3, WEXITSTATUS(st));
	snprintf(cmd, sizeof(cmd), "shmrctl: unlink %s: No such region\n", missing);
	EXPECT_STREQ(cmd, err);
	for (k = 0; k < 3; k++)
		EXPECT_EQ(-ENOENT, shmr_region_open(names[k], 0, &r));
}

TEST_HARNESS_MAIN
