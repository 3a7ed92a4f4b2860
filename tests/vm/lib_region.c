// SPDX-License-Identifier: GPL-2.0
/* libshmr region API on the kernel backend: every call and error path. */
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "shmr.h"

#define EXPECT_BACKEND SHMR_BACKEND_KERNEL

__attribute__((constructor)) static void need_module(void)
{
	if (access("/dev/shmr", F_OK)) {
		printf("TAP version 13\n# SKIP: /dev/shmr absent (module not loaded)\n"
		       "1..0 # SKIP /dev/shmr absent (module not loaded)\n");
		exit(4);
	}
	setenv("SHMR_BACKEND", "kernel", 1);
}

#include "region_tests.h"

/*
 * The library acts in the caller's IPC namespace, also after it changes:
 * unshare(CLONE_NEWIPC), then setns() back. The module binds each control
 * fd to the namespace it was opened in; the library reopens its own.
 */
TEST(follows_ipc_namespace)
{
	const char *name = tname("follow");
	struct shmr_region_stat st, list[8];
	struct shmr_region *r, *r2, *o = NULL;
	struct shmr_tracked t[1];
	struct shmr_batch *b, *rb;
	uint64_t id, id2;
	size_t len;
	int old_ns;
	void *p;

	ASSERT_EQ(0, create_named(name, 4096, SHMR_REGION_EXCL, &r));
	ASSERT_EQ(0, shmr_region_stat(r, &st));
	id = st.id;
	ASSERT_EQ(0, shmr_batch_new(4, SHMR_BATCH_FALLBACK, &b));
	/* the ring's transport if there is one, else the fallback again */
	ASSERT_EQ(0, shmr_batch_new(4, 0, &rb));
	/* a batch of region-fd commands before: nothing to follow yet */
	ASSERT_EQ(0, shmr_batch_stat(rb, r, &st));
	ASSERT_EQ(1, shmr_batch_submit(rb));
	EXPECT_EQ(id, st.id);
	old_ns = open("/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, old_ns);
	ASSERT_EQ(0, unshare(CLONE_NEWIPC));

	/* first: the batch itself must move the control fd */
	ASSERT_EQ(0, shmr_batch_open(rb, name, SHMR_REGION_RDONLY, &o));
	ASSERT_EQ(1, shmr_batch_stat_id(rb, id, &st));
	ASSERT_EQ(2, shmr_batch_submit(rb));
	EXPECT_EQ(-ENOENT, shmr_batch_result(rb, 0));
	EXPECT_EQ(-ENOENT, shmr_batch_result(rb, 1));

	EXPECT_EQ(-ENOENT, shmr_region_open(name, SHMR_REGION_RDONLY, &r2));
	/* one ATTACH, SHMR_ATTACH_NSCHECK refused, the fd moved, ATTACH again */
	EXPECT_EQ(-ENOENT, shmr_region_attach(name, SHMR_REGION_RDONLY, &p, NULL));
	EXPECT_EQ(-ENOENT, shmr_region_stat_id(id, &st));
	EXPECT_EQ(0, shmr_region_list(list, 8));
	ASSERT_EQ(0, shmr_batch_open(b, name, SHMR_REGION_RDONLY, &o));
	ASSERT_EQ(1, shmr_batch_submit(b));
	EXPECT_EQ(-ENOENT, shmr_batch_result(b, 0));
	/* the name is free here */
	ASSERT_EQ(0, create_named(name, 4096, SHMR_REGION_EXCL, &r2));
	ASSERT_EQ(0, shmr_region_stat(r2, &st));
	id2 = st.id;
	EXPECT_NE(id, id2);
	EXPECT_EQ(1, shmr_region_list(list, 8));
	EXPECT_EQ(id2, list[0].id);
	EXPECT_EQ(0, shmr_region_close(r2));
	ASSERT_EQ(0, shmr_region_attach(name, 0, &p, &len));
	/* newest first: the mapping, beside r's handle */
	EXPECT_EQ(2, shmr_registry_list(t, 1));
	EXPECT_EQ(p, t[0].addr);
	EXPECT_EQ(id2, t[0].id);
	EXPECT_EQ(0, shmr_region_unmap(p));
	EXPECT_EQ(0, shmr_region_unlink(name));

	/* back: the first region again, by name and by id */
	ASSERT_EQ(0, setns(old_ns, CLONE_NEWIPC));
	close(old_ns);
	o = NULL;
	ASSERT_EQ(0, shmr_batch_open(rb, name, SHMR_REGION_RDONLY, &o));
	ASSERT_EQ(1, shmr_batch_stat_id(rb, id, &st));
	ASSERT_EQ(2, shmr_batch_submit(rb));
	ASSERT_EQ(0, shmr_batch_result(rb, 0));
	EXPECT_EQ(0, shmr_batch_result(rb, 1));
	EXPECT_EQ(id, st.id);
	EXPECT_EQ(0, shmr_region_close(o));
	ASSERT_EQ(0, shmr_region_attach(name, SHMR_REGION_RDONLY, &p, &len));
	EXPECT_EQ(2, shmr_registry_list(t, 1));
	EXPECT_EQ(p, t[0].addr);
	EXPECT_EQ(id, t[0].id);
	EXPECT_EQ(0, shmr_region_unmap(p));
	ASSERT_EQ(0, shmr_region_open(name, SHMR_REGION_RDONLY, &r2));
	ASSERT_EQ(0, shmr_region_stat(r2, &st));
	EXPECT_EQ(id, st.id);
	EXPECT_EQ(0, shmr_region_close(r2));
	EXPECT_EQ(0, shmr_region_stat_id(id, &st));
	ASSERT_EQ(0, shmr_batch_open(b, name, SHMR_REGION_RDONLY, &o));
	ASSERT_EQ(1, shmr_batch_submit(b));
	ASSERT_EQ(0, shmr_batch_result(b, 0));
	EXPECT_EQ(0, shmr_region_stat(o, &st));
	EXPECT_EQ(id, st.id);
	EXPECT_EQ(0, shmr_region_close(o));
	shmr_batch_free(rb);
	shmr_batch_free(b);
	EXPECT_EQ(0, shmr_region_unlink(name));
	EXPECT_EQ(0, shmr_region_close(r));
}

TEST(kernel_who)
{
	struct shmr_region *r, *r2;
	struct shmr_attacher a[4];
	struct shmr_region_stat st;
	void *p;
	int n;

	ASSERT_EQ(0, create_named(tname("who"), 4096, SHMR_REGION_EXCL, &r));
	ASSERT_EQ(0, shmr_region_map(r, &p));
	ASSERT_EQ(0, shmr_region_open(tname("who"), SHMR_REGION_RDONLY, &r2));
	n = shmr_region_who(r, a, 4);
	ASSERT_EQ(1, n);
	EXPECT_EQ(getpid(), a[0].pid);
	EXPECT_EQ(2U, a[0].handles);
	EXPECT_EQ(1U, a[0].mappings);
	EXPECT_NE(0ULL, a[0].since_ns);
	EXPECT_NE(0, a[0].comm[0]);
	ASSERT_EQ(0, shmr_region_stat(r, &st));
	EXPECT_EQ(1, shmr_region_who_id(st.id, a, 4));
	EXPECT_EQ(getpid(), a[0].pid);
	EXPECT_EQ(1, shmr_region_who_id(st.id, NULL, 0));
	EXPECT_EQ(-EINVAL, shmr_region_who_id(st.id, NULL, 1));
	EXPECT_EQ(-EINVAL, shmr_region_who(NULL, a, 1));
	EXPECT_EQ(-ENOENT, shmr_region_who_id(0xfffffffffffULL, a, 1));
	EXPECT_EQ(0, shmr_region_close(r2));
	EXPECT_EQ(0, shmr_region_close(r));
	/* the mapping alone keeps us attached; handles follow open fds */
	EXPECT_EQ(1, shmr_region_who_id(st.id, a, 4));
	EXPECT_EQ(getpid(), a[0].pid);
	EXPECT_EQ(0U, a[0].handles);
	EXPECT_EQ(1U, a[0].mappings);
	EXPECT_EQ(0, shmr_region_unmap(p));
	EXPECT_EQ(0, shmr_region_unlink(tname("who")));
	EXPECT_EQ(-ENOENT, shmr_region_stat_id(st.id, &st));
}

/* An attached process holds a mapping and no handle; DETACHED at unmap. */
TEST(kernel_attach_counts)
{
	const char *name = tname("attach-who");
	struct shmr_region_stat st;
	struct shmr_attacher a[4];
	struct shmr_region *r;
	int sync[2], go[2];
	uint32_t ev;
	pid_t pid;
	char c;

	ASSERT_EQ(0, create_named(name, 2 * page_size(), SHMR_REGION_EXCL, &r));
	ASSERT_EQ(0, shmr_region_stat(r, &st));
	ASSERT_EQ(0, pipe(sync));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		void *p;
		size_t len;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sync[0]);
		close(go[1]);
		if (shmr_region_attach(name, 0, &p, &len) || len != (size_t)(2 * page_size()))
			_exit(10);
		if (write(sync[1], "x", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(11);
		if (shmr_region_unmap(p))
			_exit(12);
		if (write(sync[1], "y", 1) != 1)
			_exit(13);
		pause();
		_exit(0);
	}
	close(sync[1]);
	close(go[0]);
	ASSERT_EQ(1, read(sync[0], &c, 1));
	ASSERT_EQ(2, shmr_region_who_id(st.id, a, 4));
	if (a[0].pid != pid)
		a[0] = a[1];
	EXPECT_EQ(pid, a[0].pid);
	EXPECT_EQ(0U, a[0].handles);
	EXPECT_EQ(1U, a[0].mappings);
	ASSERT_EQ(0, shmr_region_stat(r, &st));
	EXPECT_EQ(1U, st.handles);
	EXPECT_EQ(1U, st.mappings);
	ASSERT_EQ(0, shmr_region_events(r, &ev));
	EXPECT_EQ(0U, ev);
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(1, read(sync[0], &c, 1));
	ASSERT_EQ(0, shmr_region_events(r, &ev));
	EXPECT_EQ((uint32_t)SHMR_EVENT_DETACHED, ev);
	ASSERT_EQ(0, shmr_region_stat(r, &st));
	EXPECT_EQ(0U, st.mappings);
	EXPECT_EQ(1U, st.nattach);
	kill(pid, SIGKILL);
	EXPECT_EQ(1000 + SIGKILL, child_status(pid));
	close(sync[0]);
	close(go[1]);
	EXPECT_EQ(0, shmr_region_unlink(name));
	EXPECT_EQ(0, shmr_region_close(r));
}

TEST(kernel_list_shows_anonymous)
{
	struct shmr_region_stat st, *v;
	struct shmr_region *r;
	int n, i, found = 0;

	ASSERT_EQ(0, create_named(NULL, 4096, 0, &r));
	ASSERT_EQ(0, shmr_region_stat(r, &st));
	n = shmr_region_list(NULL, 0);
	ASSERT_GE(n, 1);
	v = calloc(n + 8, sizeof(*v));
	n = shmr_region_list(v, n + 8);
	for (i = 0; i < n; i++)
		if (v[i].id == st.id && (v[i].flags & SHMR_STAT_ANON))
			found = 1;
	EXPECT_TRUE(found);
	free(v);
	EXPECT_EQ(0, shmr_region_close(r));
}

/* process-lifetime regions: tests/region_tests.h, on both backends */

/* "/NAME" (a raw POSIX shm name) is the posix backend's: -EINVAL here. */
TEST(kernel_no_raw_posix_names)
{
	struct shmr_region *r;

	EXPECT_EQ(-EINVAL, create_named("/shmr-raw", 4096, 0, &r));
	EXPECT_EQ(-EINVAL, shmr_region_open("/shmr-raw", 0, &r));
	EXPECT_EQ(-EINVAL, shmr_region_unlink("/shmr-raw"));
}

TEST(kernel_seal)
{
	const char *name = tname("seal");
	struct shmr_region *r, *o;
	struct shmr_region_stat st;
	uint64_t f;
	void *p;

	ASSERT_EQ(0, shmr_features(&f));
	if (!(f & SHMR_FEATURE_SEAL))
		SKIP(return, "module without SHMR_FEAT_SEAL");
	ASSERT_EQ(0, create_named(name, 4096, SHMR_REGION_EXCL, &r));
	EXPECT_EQ(-EINVAL, shmr_region_seal(NULL));
	ASSERT_EQ(0, shmr_region_seal(r));
	ASSERT_EQ(0, shmr_region_stat(r, &st));
	EXPECT_TRUE(st.flags & SHMR_STAT_SEALED);
	EXPECT_EQ(-EPERM, shmr_region_open(name, 0, &o));
	EXPECT_EQ(-EPERM, shmr_region_attach(name, 0, &p, NULL));
	ASSERT_EQ(0, shmr_region_attach(name, SHMR_REGION_RDONLY, &p, NULL));
	EXPECT_EQ(0, shmr_region_unmap(p));
	ASSERT_EQ(0, shmr_region_open(name, SHMR_REGION_RDONLY, &o));
	ASSERT_EQ(0, shmr_region_map(o, &p));
	EXPECT_EQ(0, shmr_region_unmap(p));
	EXPECT_EQ(-EPERM, shmr_region_map(r, &p));
	EXPECT_EQ(0, shmr_region_close(o));
	EXPECT_EQ(0, shmr_region_close(r));
	EXPECT_EQ(0, shmr_region_unlink(name));
}

TEST(kernel_events)
{
	const char *name = tname("ev");
	struct shmr_region *r;
	uint32_t ev = ~0U;
	uint64_t f;

	ASSERT_EQ(0, shmr_features(&f));
	if (!(f & SHMR_FEATURE_EVENTS))
		SKIP(return, "module without SHMR_FEAT_EVENTS");
	ASSERT_EQ(0, create_named(name, 4096, SHMR_REGION_EXCL, &r));
	EXPECT_EQ(-EINVAL, shmr_region_events(r, NULL));
	ASSERT_EQ(0, shmr_region_events(r, &ev));
	EXPECT_EQ(0U, ev);
	{
		struct pollfd pfd = { .fd = shmr_region_fd(r), .events = POLLIN };

		EXPECT_EQ(0, poll(&pfd, 1, 0));
		ASSERT_EQ(0, shmr_region_unlink(name));
		EXPECT_EQ(1, poll(&pfd, 1, 1000));
		EXPECT_TRUE(pfd.revents & POLLIN);
	}
	ASSERT_EQ(0, shmr_region_events(r, &ev));
	EXPECT_TRUE(ev & SHMR_EVENT_UNLINKED);
	ASSERT_EQ(0, shmr_region_events(r, &ev));
	EXPECT_EQ(0U, ev);
	EXPECT_EQ(0, shmr_region_close(r));
}

TEST(kernel_exit_records)
{
	const char *name = tname("exit");
	struct shmr_exit *e;
	struct shmr_region *r;
	int sync[2], n, i, found = 0;
	pid_t pid;
	char c;

	ASSERT_EQ(0, create_named(name, 4096, SHMR_REGION_EXCL, &r));
	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		struct shmr_region *o;
		void *p;

		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive the test */
		close(sync[0]);
		if (shmr_region_open(name, 0, &o) || shmr_region_map(o, &p) ||
		    shmr_region_attach(name, SHMR_REGION_RDONLY, &p, NULL))
			_exit(10);
		if (write(sync[1], "x", 1) != 1)
			_exit(11);
		pause();
		_exit(0);
	}
	close(sync[1]);
	c = 0;
	if (read(sync[0], &c, 1) != 1)
		c = 0;
	kill(pid, SIGKILL);
	close(sync[0]);
	ASSERT_EQ('x', c);
	EXPECT_EQ(1000 + SIGKILL, child_status(pid));
	EXPECT_EQ(-EINVAL, shmr_exit_list(NULL, 1, 0));
	EXPECT_EQ(-EINVAL, shmr_exit_list(NULL, 0, 1U << 5));
	n = shmr_exit_list(NULL, 0, 0);
	ASSERT_GE(n, 1);
	e = calloc(n, sizeof(*e));
	ASSERT_EQ(n, shmr_exit_list(e, n, 0));
	for (i = 0; i < n; i++) {
		if (e[i].pid != pid)
			continue;
		found = 1;
		EXPECT_STREQ(name, e[i].name);
		EXPECT_EQ(SIGKILL, e[i].signal);
		EXPECT_EQ(1U, e[i].handles);
		EXPECT_EQ(2U, e[i].mappings);	/* one mapped, one attached */
		EXPECT_NE(0ULL, e[i].when_ns);
	}
	EXPECT_TRUE(found);
	free(e);
	EXPECT_EQ(0, shmr_region_unlink(name));
	EXPECT_EQ(0, shmr_region_close(r));
}


TEST(kernel_huge)
{
	struct shmr_region_stat st;
	struct shmr_region *r;
	uint64_t f;
	char *p;

	ASSERT_EQ(0, shmr_features(&f));
	if (!(f & SHMR_FEATURE_HUGE))
		SKIP(return, "module without SHMR_FEAT_HUGE");
	ASSERT_EQ(0, create_named(NULL, 4096, SHMR_REGION_HUGE, &r));
	EXPECT_EQ(2ULL << 20, shmr_region_size(r));
	ASSERT_EQ(0, shmr_region_stat(r, &st));
	EXPECT_TRUE(st.flags & SHMR_STAT_HUGE);
	ASSERT_EQ(0, shmr_region_map(r, (void **)&p));
	p[0] = 1;
	p[(2 << 20) - 1] = 2;
	EXPECT_EQ(0, shmr_region_unmap(p));
	EXPECT_EQ(0, shmr_region_close(r));
}

TEST_HARNESS_MAIN
