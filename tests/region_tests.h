/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Region API tests shared by both backends: tests/host/region_api.c runs
 * them on the posix backend (forced), tests/vm/lib_region.c on the kernel
 * backend. Define EXPECT_BACKEND (SHMR_BACKEND_*) before including.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shmr.h"

/* kselftest_harness.h is not -Wextra clean */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmisleading-indentation"
#include "kselftest_harness.h"

#define IS_KERNEL (EXPECT_BACKEND == SHMR_BACKEND_KERNEL)

/* a name unique to this process and call */
static const char *tname(const char *tag)
{
	static __thread char buf[8][64];
	static __thread int i;
	char *b = buf[i++ % 8];

	snprintf(b, 64, "rt-%d-%s", (int)getpid(), tag);
	return b;
}

static int create_named(const char *name, uint64_t size, uint32_t flags, struct shmr_region **r)
{
	struct shmr_region_opts o = SHMR_REGION_OPTS(.name = name, .size = size, .mode = 0600,
						       .flags = flags);

	return shmr_region_create(&o, r);
}

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static int child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFSIGNALED(st))
		return 1000 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

TEST(backend_and_features)
{
	uint64_t f = ~0ULL;

	ASSERT_EQ(EXPECT_BACKEND, shmr_backend());
	EXPECT_STREQ(IS_KERNEL ? "kernel" : "posix", shmr_backend_name());
	ASSERT_EQ(0, shmr_features(&f));
	EXPECT_TRUE(f & SHMR_FEATURE_NAMED);
	EXPECT_TRUE(f & SHMR_FEATURE_ANON);
	if (IS_KERNEL) {
		EXPECT_TRUE(f & SHMR_FEATURE_ATTACH);
		EXPECT_TRUE(f & SHMR_FEATURE_EXITS);
	} else {
		/* PROCESS through the tracker helper (SHMR_TRACKER, set by the test) */
		EXPECT_EQ(SHMR_FEATURE_NAMED | SHMR_FEATURE_ANON | SHMR_FEATURE_PROCESS, f);
	}
	EXPECT_EQ(-EINVAL, shmr_features(NULL));
}

TEST(create_map_share_unlink)
{
	const char *name = tname("share");
	struct shmr_region *a, *b;
	struct shmr_region_stat st;
	char *pa, *pb;

	ASSERT_EQ(0, create_named(name, 3 * page_size(), SHMR_REGION_EXCL, &a));
	EXPECT_EQ((uint64_t)(3 * page_size()), shmr_region_size(a));
	ASSERT_EQ(0, shmr_region_map(a, (void **)&pa));
	strcpy(pa + page_size(), "hello");
	ASSERT_EQ(0, shmr_region_open(name, 0, &b));
	ASSERT_EQ(0, shmr_region_map(b, (void **)&pb));
	EXPECT_NE(pa, pb);
	EXPECT_STREQ("hello", pb + page_size());
	pb[0] = 'x';
	EXPECT_EQ('x', pa[0]);

	ASSERT_EQ(0, shmr_region_stat(b, &st));
	EXPECT_STREQ(name, st.name);
	EXPECT_EQ((uint64_t)(3 * page_size()), st.size);
	EXPECT_EQ(0600U, st.mode);
	EXPECT_EQ(getuid(), st.uid);
	EXPECT_EQ(0U, st.flags);
	EXPECT_NE(0ULL, st.id);
	EXPECT_NE(0ULL, st.ctime_ns);
	if (IS_KERNEL) {
		EXPECT_EQ(2U, st.handles);
		EXPECT_EQ(2U, st.mappings);
		EXPECT_EQ(1U, st.nattach);
		EXPECT_EQ(getpid(), st.creator_pid);
	} else {
		EXPECT_EQ(SHMR_COUNT_UNKNOWN, st.handles);
		EXPECT_EQ(SHMR_COUNT_UNKNOWN, st.mappings);
		EXPECT_EQ(SHMR_COUNT_UNKNOWN, st.nattach);
	}

	/* unlink while in use: name gone, memory still there */
	ASSERT_EQ(0, shmr_region_unlink(name));
	EXPECT_EQ(-ENOENT, shmr_region_unlink(name));
	{
		struct shmr_region *c = (struct shmr_region *)1;

		EXPECT_EQ(-ENOENT, shmr_region_open(name, 0, &c));
		EXPECT_EQ(NULL, c);
	}
	ASSERT_EQ(0, shmr_region_stat(a, &st));
	EXPECT_TRUE(st.flags & SHMR_STAT_UNLINKED);

	/* close keeps mappings valid */
	ASSERT_EQ(0, shmr_region_close(a));
	ASSERT_EQ(0, shmr_region_close(b));
	EXPECT_STREQ("hello", pa + page_size());
	EXPECT_EQ(0, shmr_region_unmap(pa));
	EXPECT_EQ(0, shmr_region_unmap(pb));
	EXPECT_EQ(0, shmr_leak_count());
}

TEST(create_open_existing)
{
	const char *name = tname("exist");
	struct shmr_region *a, *b = NULL;

	ASSERT_EQ(0, create_named(name, 2 * page_size(), 0, &a));
	EXPECT_EQ(-EEXIST, create_named(name, page_size(), SHMR_REGION_EXCL, &b));
	EXPECT_EQ(NULL, b);
	EXPECT_EQ(-EINVAL, create_named(name, 4 * page_size(), 0, &b));
	ASSERT_EQ(0, create_named(name, page_size(), 0, &b));
	{
		struct shmr_region_stat sa, sb;

		ASSERT_EQ(0, shmr_region_stat(a, &sa));
		ASSERT_EQ(0, shmr_region_stat(b, &sb));
		EXPECT_EQ(sa.id, sb.id);
		EXPECT_EQ((uint64_t)(2 * page_size()), shmr_region_size(b));
	}
	EXPECT_EQ(0, shmr_region_close(b));
	EXPECT_EQ(0, shmr_region_unlink(name));
	EXPECT_EQ(0, shmr_region_close(a));
}

TEST(create_rounds_size)
{
	struct shmr_region *r;

	ASSERT_EQ(0, create_named(tname("round"), 1, SHMR_REGION_EXCL, &r));
	EXPECT_EQ((uint64_t)page_size(), shmr_region_size(r));
	EXPECT_EQ(0, shmr_region_unlink(tname("round")));
	EXPECT_EQ(0, shmr_region_close(r));
}

TEST(create_mode)
{
	struct shmr_region_opts o = SHMR_REGION_OPTS(.name = tname("mode"), .size = 4096,
						       .mode = 0640);
	struct shmr_region_stat st;
	struct shmr_region *r;
	mode_t old = umask(077);

	ASSERT_EQ(0, shmr_region_create(&o, &r));
	umask(old);
	ASSERT_EQ(0, shmr_region_stat(r, &st));
	EXPECT_EQ(0640U, st.mode);	/* umask not applied */
	EXPECT_EQ(0, shmr_region_close(r));
	EXPECT_EQ(0, shmr_region_unlink(o.name));

	/* mode 0 means 0600 */
	o.mode = 0;
	ASSERT_EQ(0, shmr_region_create(&o, &r));
	ASSERT_EQ(0, shmr_region_stat(r, &st));
	EXPECT_EQ(0600U, st.mode);
	EXPECT_EQ(0, shmr_region_close(r));
	EXPECT_EQ(0, shmr_region_unlink(o.name));
}

/* one test per validation branch, everything else valid */
TEST(create_errors)
{
	struct shmr_region_opts o = SHMR_REGION_OPTS(.name = tname("err"), .size = 4096);
	struct {
		struct shmr_region_opts o;
		uint64_t extra;
	} big;
	struct shmr_region *r = (struct shmr_region *)1;
	char longname[SHMR_REGION_NAME_MAX + 2];

	EXPECT_EQ(-EINVAL, shmr_region_create(NULL, &r));
	EXPECT_EQ(NULL, r);
	EXPECT_EQ(-EINVAL, shmr_region_create(&o, NULL));
	o.sz = sizeof(size_t);
	EXPECT_EQ(-EINVAL, shmr_region_create(&o, &r));
	o.sz = 0;
	EXPECT_EQ(-EINVAL, shmr_region_create(&o, &r));
	o.sz = (size_t)1 << 40;
	EXPECT_EQ(-E2BIG, shmr_region_create(&o, &r));
	o.sz = sizeof(o);
	o.size = 0;
	EXPECT_EQ(-EINVAL, shmr_region_create(&o, &r));
	o.size = 4096;
	o.mode = 01000;
	EXPECT_EQ(-EINVAL, shmr_region_create(&o, &r));
	o.mode = 0600;
	o.flags = 1U << 20;
	EXPECT_EQ(-EINVAL, shmr_region_create(&o, &r));
	o.flags = ~0U;
	EXPECT_EQ(-EINVAL, shmr_region_create(&o, &r));
	o.flags = 0;
	o.name = "";
	EXPECT_EQ(-EINVAL, shmr_region_create(&o, &r));
	o.name = "a/b";
	EXPECT_EQ(-EINVAL, shmr_region_create(&o, &r));
	memset(longname, 'n', sizeof(longname));
	longname[sizeof(longname) - 1] = '\0';
	o.name = longname;
	EXPECT_EQ(-ENAMETOOLONG, shmr_region_create(&o, &r));
	o.name = NULL;
	o.flags = SHMR_REGION_EXCL;
	EXPECT_EQ(-EINVAL, shmr_region_create(&o, &r));
	o.flags = SHMR_REGION_PROCESS;
	EXPECT_EQ(-EINVAL, shmr_region_create(&o, &r));
	o.flags = 0;

	/* a larger struct: zero tail accepted, non-zero tail -E2BIG */
	memset(&big, 0, sizeof(big));
	big.o = o;
	big.o.sz = sizeof(big);
	ASSERT_EQ(0, shmr_region_create(&big.o, &r));
	EXPECT_EQ(0, shmr_region_close(r));
	big.extra = 1;
	EXPECT_EQ(-E2BIG, shmr_region_create(&big.o, &r));

	if (!IS_KERNEL) {
		o.name = tname("unsup");
		o.flags = SHMR_REGION_HUGE;
		EXPECT_EQ(-EOPNOTSUPP, shmr_region_create(&o, &r));
	}
	EXPECT_EQ(0, shmr_leak_count());
}

TEST(open_errors)
{
	struct shmr_region *r = (struct shmr_region *)1;
	char longname[SHMR_REGION_NAME_MAX + 2];

	EXPECT_EQ(-ENOENT, shmr_region_open(tname("nope"), 0, &r));
	EXPECT_EQ(NULL, r);
	EXPECT_EQ(-EINVAL, shmr_region_open(NULL, 0, &r));
	EXPECT_EQ(-EINVAL, shmr_region_open("", 0, &r));
	EXPECT_EQ(-EINVAL, shmr_region_open("x/y", 0, &r));
	EXPECT_EQ(-EINVAL, shmr_region_open(tname("nope"), 1U << 9, &r));
	EXPECT_EQ(-EINVAL, shmr_region_open(tname("nope"), 0, NULL));
	memset(longname, 'n', sizeof(longname));
	longname[sizeof(longname) - 1] = '\0';
	EXPECT_EQ(-ENAMETOOLONG, shmr_region_open(longname, 0, &r));
}

TEST(unlink_errors)
{
	EXPECT_EQ(-ENOENT, shmr_region_unlink(tname("nope")));
	EXPECT_EQ(-EINVAL, shmr_region_unlink(NULL));
	EXPECT_EQ(-EINVAL, shmr_region_unlink(""));
	EXPECT_EQ(-EINVAL, shmr_region_unlink("a/b"));
}

TEST(map_unmap_errors)
{
	struct shmr_region *r;
	void *p = (void *)1, *q;
	int x;

	EXPECT_EQ(-EINVAL, shmr_region_map(NULL, &p));
	ASSERT_EQ(0, create_named(NULL, 4096, 0, &r));
	EXPECT_EQ(-EINVAL, shmr_region_map(r, NULL));
	EXPECT_EQ(-EINVAL, shmr_region_unmap(NULL));
	EXPECT_EQ(-EINVAL, shmr_region_unmap(&x));
	ASSERT_EQ(0, shmr_region_map(r, &p));
	ASSERT_EQ(0, shmr_region_map(r, &q));
	EXPECT_NE(p, q);
	EXPECT_EQ(-EINVAL, shmr_region_unmap((char *)p + 1));
	EXPECT_EQ(0, shmr_region_unmap(p));
	EXPECT_EQ(-EINVAL, shmr_region_unmap(p));
	EXPECT_EQ(0, shmr_region_unmap(q));
	EXPECT_EQ(0, shmr_region_close(r));
	EXPECT_EQ(0, shmr_region_close(NULL));
}

static int count_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/* shmr_region_attach(): the whole region, shared, no fd left, tracked. */
TEST(attach_share_unmap)
{
	const char *name = tname("attach");
	struct shmr_tracked t[4];
	struct shmr_region *r;
	char *pm, *pa, *pb, where[64];
	size_t len = 1;
	int fds, line;

	ASSERT_EQ(0, create_named(name, 3 * page_size(), SHMR_REGION_EXCL, &r));
	ASSERT_EQ(0, shmr_region_map(r, (void **)&pm));
	strcpy(pm + page_size(), "by map");
	fds = count_fds();
	line = __LINE__ + 1;
	ASSERT_EQ(0, shmr_region_attach(name, 0, (void **)&pa, &len));
	EXPECT_EQ(fds, count_fds());
	EXPECT_EQ((size_t)(3 * page_size()), len);
	EXPECT_STREQ("by map", pa + page_size());
	strcpy(pa + 2 * page_size(), "by attach");
	EXPECT_STREQ("by attach", pm + 2 * page_size());
	/* size may be NULL; every attach is a mapping of its own */
	ASSERT_EQ(0, shmr_region_attach(name, 0, (void **)&pb, NULL));
	EXPECT_NE(pa, pb);
	EXPECT_STREQ("by attach", pb + 2 * page_size());

	/* tracked as a mapping, with the caller's file:line, name, size, id */
	ASSERT_EQ(4, shmr_registry_list(t, 4));
	EXPECT_EQ(SHMR_TRACKED_MAPPING, t[1].kind);
	EXPECT_EQ(pa, t[1].addr);
	EXPECT_EQ(-1, t[1].fd);
	EXPECT_EQ((uint64_t)(3 * page_size()), t[1].size);
	EXPECT_STREQ(name, t[1].name);
	snprintf(where, sizeof(where), "region_tests.h:%d", line);
	EXPECT_NE(NULL, strstr(t[1].where, where)) TH_LOG("where=%s", t[1].where);
	{
		struct shmr_region_stat st;

		ASSERT_EQ(0, shmr_region_stat(r, &st));
		EXPECT_EQ(st.id, t[1].id);
		if (IS_KERNEL) {
			EXPECT_EQ(1U, st.handles);
			EXPECT_EQ(3U, st.mappings);
		}
	}
	EXPECT_EQ(4, shmr_leak_count());
	EXPECT_EQ(-EINVAL, shmr_region_unmap(pa + 1));
	EXPECT_EQ(0, shmr_region_unmap(pa));
	EXPECT_EQ(-EINVAL, shmr_region_unmap(pa));
	EXPECT_EQ(0, shmr_region_unmap(pb));
	EXPECT_EQ(2, shmr_leak_count());

	/* the attach keeps the region after its name and last handle go */
	ASSERT_EQ(0, shmr_region_attach(name, 0, (void **)&pa, &len));
	EXPECT_EQ(0, shmr_region_unlink(name));
	EXPECT_EQ(0, shmr_region_unmap(pm));
	EXPECT_EQ(0, shmr_region_close(r));
	EXPECT_STREQ("by attach", pa + 2 * page_size());
	EXPECT_EQ(1, shmr_leak_count());
	EXPECT_EQ(0, shmr_region_unmap(pa));
	EXPECT_EQ(0, shmr_leak_count());
}

TEST(attach_read_only)
{
	const char *name = tname("attach-ro");
	struct shmr_region *w;
	char *pw, *pr;
	size_t len;
	pid_t pid;

	ASSERT_EQ(0, create_named(name, 4096, SHMR_REGION_EXCL, &w));
	ASSERT_EQ(0, shmr_region_map(w, (void **)&pw));
	strcpy(pw, "ro data");
	ASSERT_EQ(0, shmr_region_attach(name, SHMR_REGION_RDONLY, (void **)&pr, &len));
	EXPECT_EQ(4096U, len);
	EXPECT_STREQ("ro data", pr);
	EXPECT_EQ(-1, mprotect(pr, 4096, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		pr[0] = 'X';	/* must fault */
		_exit(0);
	}
	EXPECT_EQ(1000 + SIGSEGV, child_status(pid));
	EXPECT_EQ('r', pw[0]);
	EXPECT_EQ(0, shmr_region_unmap(pr));
	EXPECT_EQ(0, shmr_region_unmap(pw));
	EXPECT_EQ(0, shmr_region_close(w));
	EXPECT_EQ(0, shmr_region_unlink(name));
}

/* one test per validation branch, everything else valid */
TEST(attach_errors)
{
	const char *name = tname("attach-err");
	char longname[SHMR_REGION_NAME_MAX + 2];
	struct shmr_region *r;
	void *p = (void *)1;
	size_t len = 1;

	ASSERT_EQ(0, create_named(name, 4096, SHMR_REGION_EXCL, &r));
	EXPECT_EQ(-EINVAL, shmr_region_attach(name, 0, NULL, &len));
	EXPECT_EQ(-EINVAL, shmr_region_attach(name, SHMR_REGION_NOCLOEXEC, &p, &len));
	EXPECT_EQ(NULL, p);
	EXPECT_EQ(0U, len);
	p = (void *)1;
	len = 1;
	EXPECT_EQ(-EINVAL, shmr_region_attach(name, 1U << 20, &p, &len));
	EXPECT_EQ(NULL, p);
	EXPECT_EQ(0U, len);
	EXPECT_EQ(-EINVAL, shmr_region_attach(name, SHMR_REGION_EXCL, &p, NULL));
	EXPECT_EQ(-EINVAL, shmr_region_attach(NULL, 0, &p, &len));
	EXPECT_EQ(-EINVAL, shmr_region_attach("", 0, &p, &len));
	EXPECT_EQ(-EINVAL, shmr_region_attach("a/b", 0, &p, &len));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	EXPECT_EQ(-ENAMETOOLONG, shmr_region_attach(longname, 0, &p, &len));
	EXPECT_EQ(-ENOENT, shmr_region_attach(tname("attach-missing"), 0, &p, &len));
	EXPECT_EQ(-ENOENT, shmr_region_attach(tname("attach-missing"), SHMR_REGION_RDONLY, &p,
					      &len));
	EXPECT_EQ(0, shmr_region_unlink(name));
	EXPECT_EQ(-ENOENT, shmr_region_attach(name, 0, &p, &len));
	EXPECT_EQ(NULL, p);
	EXPECT_EQ(0U, len);
	EXPECT_EQ(0, shmr_region_close(r));
	EXPECT_EQ(0, shmr_leak_count());
}

TEST(fd_and_cloexec)
{
	struct shmr_region *a, *b;

	EXPECT_EQ(-EINVAL, shmr_region_fd(NULL));
	EXPECT_EQ(0ULL, shmr_region_size(NULL));
	ASSERT_EQ(0, create_named(tname("cloexec"), 4096, SHMR_REGION_EXCL, &a));
	ASSERT_GE(shmr_region_fd(a), 0);
	EXPECT_EQ(FD_CLOEXEC, fcntl(shmr_region_fd(a), F_GETFD) & FD_CLOEXEC);
	ASSERT_EQ(0, shmr_region_open(tname("cloexec"), SHMR_REGION_NOCLOEXEC, &b));
	EXPECT_EQ(0, fcntl(shmr_region_fd(b), F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, shmr_region_close(b));
	EXPECT_EQ(0, shmr_region_close(a));
	ASSERT_EQ(0, create_named(tname("cloexec"), 4096, SHMR_REGION_NOCLOEXEC, &a));
	EXPECT_EQ(0, fcntl(shmr_region_fd(a), F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, shmr_region_close(a));
	ASSERT_EQ(0, create_named(NULL, 4096, SHMR_REGION_NOCLOEXEC, &a));
	EXPECT_EQ(0, fcntl(shmr_region_fd(a), F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(0, shmr_region_close(a));
	EXPECT_EQ(0, shmr_region_unlink(tname("cloexec")));
}

TEST(anonymous)
{
	struct shmr_region_stat st;
	struct shmr_region *r;
	char *p;

	ASSERT_EQ(0, create_named(NULL, 2 * page_size(), 0, &r));
	ASSERT_EQ(0, shmr_region_map(r, (void **)&p));
	p[2 * page_size() - 1] = 7;
	ASSERT_EQ(0, shmr_region_stat(r, &st));
	EXPECT_TRUE(st.flags & SHMR_STAT_ANON);
	EXPECT_STREQ("", st.name);
	EXPECT_EQ((uint64_t)(2 * page_size()), st.size);
	EXPECT_EQ(0, shmr_region_close(r));
	EXPECT_EQ(7, p[2 * page_size() - 1]);
	EXPECT_EQ(0, shmr_region_unmap(p));
}

TEST(read_only)
{
	const char *name = tname("ro");
	struct shmr_region *w, *ro;
	char *pw, *pr;
	pid_t pid;

	ASSERT_EQ(0, create_named(name, 4096, SHMR_REGION_EXCL, &w));
	ASSERT_EQ(0, shmr_region_map(w, (void **)&pw));
	strcpy(pw, "ro data");
	ASSERT_EQ(0, shmr_region_open(name, SHMR_REGION_RDONLY, &ro));
	ASSERT_EQ(0, shmr_region_map(ro, (void **)&pr));
	EXPECT_STREQ("ro data", pr);
	EXPECT_EQ(-1, mprotect(pr, 4096, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		pr[0] = 'X';	/* must fault */
		_exit(0);
	}
	EXPECT_EQ(1000 + SIGSEGV, child_status(pid));
	EXPECT_EQ('r', pw[0]);
	if (IS_KERNEL)
		EXPECT_EQ(-EBADF, shmr_region_seal(ro));
	EXPECT_EQ(0, shmr_region_unmap(pr));
	EXPECT_EQ(0, shmr_region_unmap(pw));
	EXPECT_EQ(0, shmr_region_close(ro));
	EXPECT_EQ(0, shmr_region_close(w));
	EXPECT_EQ(0, shmr_region_unlink(name));
}

TEST(permissions)
{
	const char *name = tname("perm");
	struct shmr_region *r;
	pid_t pid;

	if (geteuid() != 0)
		SKIP(return, "needs root to switch to another uid");
	ASSERT_EQ(0, create_named(name, 4096, SHMR_REGION_EXCL, &r));	/* 0600 root */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct shmr_region *o;
		void *p;

		if (setgid(65534) || setuid(65534))
			_exit(10);
		if (shmr_region_open(name, 0, &o) != -EACCES)
			_exit(11);
		if (shmr_region_open(name, SHMR_REGION_RDONLY, &o) != -EACCES)
			_exit(12);
		if (shmr_region_attach(name, 0, &p, NULL) != -EACCES)
			_exit(13);
		if (shmr_region_attach(name, SHMR_REGION_RDONLY, &p, NULL) != -EACCES)
			_exit(14);
		_exit(0);
	}
	EXPECT_EQ(0, child_status(pid));
	EXPECT_EQ(0, shmr_region_unlink(name));
	EXPECT_EQ(0, shmr_region_close(r));
}

static int find_in(const struct shmr_region_stat *v, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return i;
	return -1;
}

TEST(list_and_stat_id)
{
	struct shmr_region *r[3];
	struct shmr_region_stat *v, st, one;
	char names[3][64];
	int i, n, total;

	for (i = 0; i < 3; i++) {
		snprintf(names[i], sizeof(names[i]), "%s%d", tname("list"), i);
		ASSERT_EQ(0, create_named(names[i], (i + 1) * 4096, SHMR_REGION_EXCL, &r[i]));
	}
	total = shmr_region_list(NULL, 0);
	ASSERT_GE(total, 3);
	EXPECT_EQ(-EINVAL, shmr_region_list(NULL, 1));
	v = calloc(total + 16, sizeof(*v));
	ASSERT_NE(NULL, v);
	n = shmr_region_list(v, total + 16);
	ASSERT_GE(n, 3);
	for (i = 0; i < 3; i++) {
		int k = find_in(v, n, names[i]);

		ASSERT_GE(k, 0);
		EXPECT_EQ((uint64_t)((i + 1) * 4096), v[k].size);
		ASSERT_EQ(0, shmr_region_stat(r[i], &st));
		EXPECT_EQ(st.id, v[k].id);
		ASSERT_EQ(0, shmr_region_stat_id(st.id, &one));
		EXPECT_STREQ(names[i], one.name);
		EXPECT_EQ(st.size, one.size);
	}
	/* a short buffer is not an error */
	EXPECT_EQ(n, shmr_region_list(&one, 1));
	EXPECT_EQ(-ENOENT, shmr_region_stat_id(0xfffffffffffffULL, &one));
	EXPECT_EQ(-EINVAL, shmr_region_stat_id(1, NULL));
	EXPECT_EQ(-EINVAL, shmr_region_stat(NULL, &one));
	EXPECT_EQ(-EINVAL, shmr_region_stat(r[0], NULL));
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(0, shmr_region_unlink(names[i]));
		EXPECT_EQ(0, shmr_region_close(r[i]));
	}
	n = shmr_region_list(v, total + 16);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(-1, find_in(v, n, names[i]));
	free(v);
}

TEST(send_recv)
{
	struct shmr_region *r, *ro;
	int sv[2];
	char *p;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	ASSERT_EQ(0, create_named(NULL, 8192, 0, &r));
	ASSERT_EQ(0, shmr_region_map(r, (void **)&p));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct shmr_region *got, *got2;
		struct shmr_region_stat st;
		char *q;

		close(sv[0]);
		if (shmr_region_recv(sv[1], 0, &got))
			_exit(10);
		if (shmr_region_size(got) != 8192 || shmr_region_stat(got, &st) ||
		    !(st.flags & SHMR_STAT_ANON) || st.size != 8192)
			_exit(11);
		if (!(fcntl(shmr_region_fd(got), F_GETFD) & FD_CLOEXEC))
			_exit(12);
		if (shmr_region_map(got, (void **)&q))
			_exit(13);
		strcpy(q + 4096, "from child");
		/* the second one is read-only */
		if (shmr_region_recv(sv[1], SHMR_REGION_NOCLOEXEC, &got2))
			_exit(14);
		if (fcntl(shmr_region_fd(got2), F_GETFD) & FD_CLOEXEC)
			_exit(15);
		if (shmr_region_map(got2, (void **)&q))
			_exit(16);
		if (mprotect(q, 4096, PROT_READ | PROT_WRITE) == 0)
			_exit(17);
		if (shmr_region_recv(sv[1], 0, &got2) != -ECONNRESET)
			_exit(18);
		_exit(0);
	}
	close(sv[1]);
	ASSERT_EQ(0, shmr_region_send(sv[0], r));
	{
		const char *name = tname("sendro");
		struct shmr_region *w;

		ASSERT_EQ(0, create_named(name, 4096, SHMR_REGION_EXCL, &w));
		ASSERT_EQ(0, shmr_region_open(name, SHMR_REGION_RDONLY, &ro));
		ASSERT_EQ(0, shmr_region_send(sv[0], ro));
		EXPECT_EQ(0, shmr_region_close(w));
		EXPECT_EQ(0, shmr_region_close(ro));
		EXPECT_EQ(0, shmr_region_unlink(name));
	}
	close(sv[0]);
	EXPECT_EQ(0, child_status(pid));
	EXPECT_STREQ("from child", p + 4096);
	EXPECT_EQ(-EINVAL, shmr_region_send(-1, r));
	EXPECT_EQ(-EINVAL, shmr_region_send(0, NULL));
	EXPECT_EQ(0, shmr_region_unmap(p));
	EXPECT_EQ(0, shmr_region_close(r));
}

TEST(recv_errors)
{
	struct shmr_region *r = (struct shmr_region *)1;
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	EXPECT_EQ(-EINVAL, shmr_region_recv(sv[1], 1U << 7, &r));
	EXPECT_EQ(-EINVAL, shmr_region_recv(sv[1], 0, NULL));
	EXPECT_EQ(-EINVAL, shmr_region_recv(-1, 0, &r));
	/* not a shmr message */
	ASSERT_EQ(5, write(sv[0], "hello", 5));
	EXPECT_EQ(-EBADMSG, shmr_region_recv(sv[1], 0, &r));
	EXPECT_EQ(NULL, r);
	close(sv[0]);
	EXPECT_EQ(-ECONNRESET, shmr_region_recv(sv[1], 0, &r));
	close(sv[1]);
	EXPECT_EQ(-EBADF, shmr_region_recv(sv[1], 0, &r));
	EXPECT_EQ(0, shmr_leak_count());
}

TEST(registry_tracks)
{
	struct shmr_tracked t[4];
	struct shmr_region *r;
	char where[64];
	int line, n;
	void *p;

	ASSERT_EQ(0, shmr_registry_list(NULL, 0));
	line = __LINE__ + 1;
	ASSERT_EQ(0, create_named(NULL, 4096, 0, &r));
	ASSERT_EQ(0, shmr_region_map(r, &p));
	n = shmr_registry_list(t, 4);
	ASSERT_EQ(2, n);
	/* newest first */
	EXPECT_EQ(SHMR_TRACKED_MAPPING, t[0].kind);
	EXPECT_EQ(p, t[0].addr);
	EXPECT_EQ(-1, t[0].fd);
	EXPECT_EQ(SHMR_TRACKED_HANDLE, t[1].kind);
	EXPECT_EQ(shmr_region_fd(r), t[1].fd);
	EXPECT_EQ(4096ULL, t[1].size);
	EXPECT_EQ(getpid(), t[1].pid);
	EXPECT_EQ(0, t[1].inherited);
	/* create_named() is a helper in this file: the macro records its line */
	EXPECT_NE(NULL, strstr(t[1].where, "region_tests.h:"));
	snprintf(where, sizeof(where), ":%d", line + 1);
	EXPECT_NE(NULL, strstr(t[0].where, where));
	EXPECT_EQ(2, shmr_leak_count());
	EXPECT_EQ(0, shmr_region_unmap(p));
	EXPECT_EQ(1, shmr_registry_list(t, 4));
	EXPECT_EQ(0, shmr_region_close(r));
	EXPECT_EQ(0, shmr_registry_list(t, 4));
	EXPECT_EQ(-EINVAL, shmr_registry_list(NULL, 1));
}

TEST(fork_child_view)
{
	struct shmr_region *r;
	char *p;
	pid_t pid;

	ASSERT_EQ(0, create_named(NULL, 4096, 0, &r));
	ASSERT_EQ(0, shmr_region_map(r, (void **)&p));
	strcpy(p, "parent");
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct shmr_tracked t[4];
		struct shmr_region *c;
		void *q;
		int i;

		if (shmr_registry_list(t, 4) != 2)
			_exit(10);
		for (i = 0; i < 2; i++)
			if (!t[i].inherited || t[i].pid != getppid())
				_exit(11);
		/* what it lists really exists here */
		if (fcntl(t[1].fd, F_GETFD) < 0 || strcmp(t[0].addr, "parent"))
			_exit(12);
		/* inherited entries are the parent's, not the child's leaks */
		if (shmr_leak_count() != 0)
			_exit(13);
		if (create_named(NULL, 4096, 0, &c) || shmr_region_map(c, &q))
			_exit(14);
		if (shmr_leak_count() != 2 || shmr_registry_list(t, 4) != 4 || t[0].inherited)
			_exit(15);
		/* the child may release what it inherited */
		if (shmr_region_unmap(p) || shmr_region_close(r) || shmr_registry_list(t, 4) != 2)
			_exit(16);
		if (shmr_region_unmap(q) || shmr_region_close(c) || shmr_leak_count())
			_exit(17);
		_exit(0);
	}
	EXPECT_EQ(0, child_status(pid));
	/* the parent's view is unchanged */
	EXPECT_EQ(2, shmr_leak_count());
	EXPECT_STREQ("parent", p);
	EXPECT_EQ(0, shmr_region_unmap(p));
	EXPECT_EQ(0, shmr_region_close(r));
}

#define NTHREADS 4
#define NITER 200

static void *cycle_thread(void *arg)
{
	long fails = 0;
	int i;

	(void)arg;
	for (i = 0; i < NITER; i++) {
		struct shmr_region *r;
		char *p;

		if (create_named(NULL, 4096, 0, &r)) {
			fails++;
			continue;
		}
		if (shmr_region_map(r, (void **)&p) == 0) {
			p[0] = (char)i;
			if (shmr_region_unmap(p))
				fails++;
		} else {
			fails++;
		}
		if (shmr_region_close(r))
			fails++;
	}
	return (void *)fails;
}

static volatile int stop_cycling;

static void *cycle_until_stopped(void *arg)
{
	(void)arg;
	while (!stop_cycling) {
		struct shmr_region *r;
		void *p;

		if (create_named(NULL, 4096, 0, &r))
			continue;
		if (shmr_region_map(r, &p) == 0)
			shmr_region_unmap(p);
		shmr_region_close(r);
	}
	return NULL;
}

/* forks while other threads create, map, unmap and close: what a child lists exists */
TEST(fork_during_threads)
{
	struct shmr_tracked t[64];
	pthread_t th[2];
	int i, k, bad = 0;

	stop_cycling = 0;
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, cycle_until_stopped, NULL));
	for (k = 0; k < 30; k++) {
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (pid == 0) {
			unsigned char vec;
			int n = shmr_registry_list(t, 64);

			if (n < 0 || n > 64)
				_exit(10);
			for (i = 0; i < n; i++) {
				if (!t[i].inherited)
					_exit(11);
				if (t[i].kind == SHMR_TRACKED_HANDLE && fcntl(t[i].fd, F_GETFD) < 0)
					_exit(12);
				if (t[i].kind == SHMR_TRACKED_MAPPING &&
				    mincore(t[i].addr, t[i].size, &vec) != 0)
					_exit(13);
			}
			/* and the child's own registry works (its mutex is usable) */
			{
				struct shmr_region *r;

				int err = create_named(NULL, 4096, 0, &r);

				if (err)
					_exit(err < 0 && err > -100 ? 100 - err : 14);
				if (shmr_region_close(r))
					_exit(15);
			}
			_exit(0);
		}
		i = child_status(pid);
		if (i != 0) {
			bad++;
			TH_LOG("fork %d: child status %d", k, i);
		}
	}
	stop_cycling = 1;
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, shmr_leak_count());
}

TEST(null_arguments)
{
	struct shmr_attacher a;
	uint32_t ev;

	EXPECT_EQ(-EINVAL, shmr_region_seal(NULL));
	EXPECT_EQ(-EINVAL, shmr_region_events(NULL, &ev));
	EXPECT_EQ(-EINVAL, shmr_region_who(NULL, &a, 1));
	EXPECT_EQ(-EINVAL, shmr_region_who_id(1, NULL, 1));
	EXPECT_EQ(-EINVAL, shmr_exit_list(NULL, 1, 0));
	EXPECT_EQ(-EINVAL, shmr_exit_list(NULL, 0, 1U << 3));
}

TEST(threads)
{
	pthread_t th[NTHREADS];
	void *ret;
	int i;

	for (i = 0; i < NTHREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, cycle_thread, NULL));
	for (i = 0; i < NTHREADS; i++) {
		ASSERT_EQ(0, pthread_join(th[i], &ret));
		EXPECT_EQ(0L, (long)ret);
	}
	EXPECT_EQ(0, shmr_registry_list(NULL, 0));
	EXPECT_EQ(0, shmr_leak_count());
}

/* ---- process-lifetime regions (SHMR_REGION_PROCESS) ---------------------- */

/*
 * The kernel backend unlinks from a work item, the posix backend from the
 * tracker process, once the creator is gone. Allow 60 s: a TCG guest on a
 * loaded host can stall for seconds.
 */
static int name_gone(const char *name, int seconds)
{
	struct shmr_region *r;
	int i, err = 0;

	for (i = 0; i < seconds * 100; i++) {
		err = shmr_region_open(name, 0, &r);
		if (err)
			return err;
		shmr_region_close(r);
		usleep(10000);
	}
	return 0;
}

static bool name_exists(const char *name)
{
	struct shmr_region *r;

	if (shmr_region_open(name, 0, &r))
		return false;
	shmr_region_close(r);
	return true;
}

/* what a creator does once its PROCESS regions exist */
enum { CREATOR_EXIT, CREATOR_WAIT, CREATOR_EXEC, CREATOR_FORK_AND_WAIT };

struct creator {
	pid_t pid;
	int ctl;		/* write end: closing it ends CREATOR_EXEC's cat */
	int result;		/* CREATOR_FORK_AND_WAIT: its child's verdict, read end */
};

/*
 * Fork a process that creates a PROCESS region of each name (EXCL, mapped,
 * "creator" written in it), then, as how says: exits; waits to be killed;
 * execs cat reading ctl (so it lives, another program, until ctl is
 * closed); or forks a child that keeps the mapping and waits for ctl to
 * close, then reports whether its mapping still reads "creator". Returns
 * once the regions exist (and after the exec, for CREATOR_EXEC).
 */
static int start_creator(struct creator *c, int how, const char *const *names, int n)
{
	int ready[2], ctl[2], res[2] = { -1, -1 };
	char b;

	if (pipe2(ready, O_CLOEXEC) || pipe(ctl) || pipe(res))
		return -1;
	c->pid = fork();
	if (c->pid < 0)
		return -1;
	if (c->pid == 0) {
		struct shmr_region *r;
		char *p = NULL;
		int i;

		close(ready[0]);
		close(ctl[1]);
		close(res[0]);
		for (i = 0; i < n; i++) {
			if (create_named(names[i], 4096, SHMR_REGION_PROCESS | SHMR_REGION_EXCL, &r) ||
			    shmr_region_map(r, (void **)&p))
				_exit(10);
			strcpy(p, "creator");
			shmr_region_close(r);
		}
		if (how == CREATOR_FORK_AND_WAIT) {
			pid_t k = fork();

			if (k < 0)
				_exit(11);
			if (k == 0) {
				char v;

				/* the parent's end of ready must not hold the test up */
				close(ready[1]);
				while (read(ctl[0], &v, 1) > 0)
					;
				v = p && !strcmp(p, "creator") ? 'y' : 'n';
				if (write(res[1], &v, 1) != 1)
					_exit(12);
				_exit(0);
			}
		}
		if (write(ready[1], "r", 1) != 1)
			_exit(13);
		switch (how) {
		case CREATOR_EXIT:
			_exit(0);
		case CREATOR_EXEC:
			dup2(ctl[0], 0);
			execlp("cat", "cat", (char *)NULL);
			_exit(14);
		default:
			for (;;)
				pause();
		}
	}
	close(ready[1]);
	close(ctl[0]);
	close(res[1]);
	c->ctl = ctl[1];
	c->result = res[0];
	/* "r", then end of file once the creator exits or execs */
	if (read(ready[0], &b, 1) != 1) {
		close(ready[0]);
		return -1;
	}
	if (how == CREATOR_EXEC || how == CREATOR_EXIT)
		while (read(ready[0], &b, 1) > 0)
			;
	close(ready[0]);
	return 0;
}

static void stop_creator(struct creator *c)
{
	if (c->ctl >= 0)
		close(c->ctl);
	if (c->result >= 0)
		close(c->result);
	c->ctl = c->result = -1;
	kill(c->pid, SIGKILL);
	waitpid(c->pid, NULL, 0);
}

static void require_process_feature(struct __test_metadata *_metadata)
{
	uint64_t f;

	ASSERT_EQ(0, shmr_features(&f));
	if (IS_KERNEL && !(f & SHMR_FEATURE_PROCESS))
		SKIP(return, "module without SHMR_FEAT_PROCESS");
	ASSERT_TRUE(f & SHMR_FEATURE_PROCESS);
}

FIXTURE(lifetime) {
	struct creator c;
};

FIXTURE_SETUP(lifetime)
{
	self->c.pid = 0;
	self->c.ctl = self->c.result = -1;
}

FIXTURE_TEARDOWN(lifetime)
{
	if (self->c.pid > 0)
		stop_creator(&self->c);
}

/* The creator exits without unlinking: the name goes. */
TEST_F_TIMEOUT(lifetime, creator_exits, 90)
{
	const char *names[] = { tname("exit") };
	struct shmr_region *r;
	struct shmr_region_stat st;

	require_process_feature(_metadata);
	/* the creator's own handle says PROCESS */
	ASSERT_EQ(0, create_named(tname("flag"), 4096, SHMR_REGION_PROCESS | SHMR_REGION_EXCL, &r));
	ASSERT_EQ(0, shmr_region_stat(r, &st));
	EXPECT_TRUE(st.flags & SHMR_STAT_PROCESS);
	EXPECT_EQ(0, shmr_region_close(r));
	EXPECT_EQ(0, shmr_region_unlink(tname("flag")));

	ASSERT_EQ(0, start_creator(&self->c, CREATOR_EXIT, names, 1));
	EXPECT_EQ(0, child_status(self->c.pid));
	self->c.pid = 0;
	EXPECT_EQ(-ENOENT, name_gone(names[0], 60));
}

/* SIGKILL: the creator runs no code of ours, the name goes all the same. */
TEST_F_TIMEOUT(lifetime, creator_sigkilled, 90)
{
	const char *names[] = { tname("kill1"), tname("kill2") };

	require_process_feature(_metadata);
	ASSERT_EQ(0, start_creator(&self->c, CREATOR_WAIT, names, 2));
	EXPECT_TRUE(name_exists(names[0]));
	EXPECT_TRUE(name_exists(names[1]));
	stop_creator(&self->c);
	self->c.pid = 0;
	EXPECT_EQ(-ENOENT, name_gone(names[0], 60));
	EXPECT_EQ(-ENOENT, name_gone(names[1], 60));
}

/*
 * execve() is not an exit: the region lives while the process runs
 * another program, and goes when that program ends.
 */
TEST_F_TIMEOUT(lifetime, creator_execs, 90)
{
	const char *names[] = { tname("exec") };

	require_process_feature(_metadata);
	ASSERT_EQ(0, start_creator(&self->c, CREATOR_EXEC, names, 1));
	/* exec'd (start_creator saw the close-on-exec pipe close): give a bad
	 * implementation time to unlink at exec */
	sleep(1);
	EXPECT_TRUE(name_exists(names[0]));
	close(self->c.ctl);
	self->c.ctl = -1;
	EXPECT_EQ(0, child_status(self->c.pid));
	self->c.pid = 0;
	EXPECT_EQ(-ENOENT, name_gone(names[0], 60));
}

/*
 * The region's lifetime is its creator's: a child that inherited the
 * mapping does not keep the name, but its mapping stays valid.
 */
TEST_F_TIMEOUT(lifetime, children_do_not_extend, 90)
{
	const char *names[] = { tname("kids") };
	char v = 0;

	require_process_feature(_metadata);
	ASSERT_EQ(0, start_creator(&self->c, CREATOR_FORK_AND_WAIT, names, 1));
	kill(self->c.pid, SIGKILL);
	EXPECT_EQ(1000 + SIGKILL, child_status(self->c.pid));
	self->c.pid = 0;
	EXPECT_EQ(-ENOENT, name_gone(names[0], 60));
	close(self->c.ctl);	/* the child reads its mapping now */
	self->c.ctl = -1;
	EXPECT_EQ(1, read(self->c.result, &v, 1));
	EXPECT_EQ('y', v);
}

/*
 * Create-or-open of an existing name with PROCESS opens it as it is: the
 * opener's exit does not take a name it did not create. The marker, which
 * the opener did create, shows its exit was seen.
 */
TEST_F_TIMEOUT(lifetime, open_existing_is_not_creating, 90)
{
	const char *plain = tname("plain"), *marker = tname("mark");
	struct shmr_region *r;
	pid_t pid;

	require_process_feature(_metadata);
	ASSERT_EQ(0, create_named(plain, 4096, SHMR_REGION_EXCL, &r));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct shmr_region *o, *m;
		struct shmr_region_stat st;

		if (create_named(plain, 4096, SHMR_REGION_PROCESS, &o))
			_exit(10);
		if (shmr_region_stat(o, &st) || (st.flags & SHMR_STAT_PROCESS))
			_exit(11);
		if (create_named(marker, 4096, SHMR_REGION_PROCESS | SHMR_REGION_EXCL, &m))
			_exit(12);
		_exit(0);
	}
	EXPECT_EQ(0, child_status(pid));
	EXPECT_EQ(-ENOENT, name_gone(marker, 60));
	EXPECT_TRUE(name_exists(plain));
	EXPECT_EQ(0, shmr_region_close(r));
	EXPECT_EQ(0, shmr_region_unlink(plain));
}

/*
 * The creator unlinks its region and someone makes a new region of that
 * name: the creator's death leaves the new one alone.
 */
TEST_F_TIMEOUT(lifetime, name_reused_after_unlink, 90)
{
	const char *names[] = { tname("reuse"), tname("mark") };
	struct shmr_region *r;

	require_process_feature(_metadata);
	ASSERT_EQ(0, start_creator(&self->c, CREATOR_WAIT, names, 2));
	ASSERT_EQ(0, shmr_region_unlink(names[0]));
	ASSERT_EQ(0, create_named(names[0], 4096, SHMR_REGION_EXCL, &r));
	stop_creator(&self->c);
	self->c.pid = 0;
	EXPECT_EQ(-ENOENT, name_gone(names[1], 60));
	EXPECT_TRUE(name_exists(names[0]));
	EXPECT_EQ(0, shmr_region_close(r));
	EXPECT_EQ(0, shmr_region_unlink(names[0]));
}
