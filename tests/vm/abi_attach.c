// SPDX-License-Identifier: GPL-2.0
/*
 * SHMR_IOC_ATTACH: the positive path (read-write and read-only), then one
 * refusal per validation branch with everything else valid: unknown flags,
 * reserved words, names (none, empty, too long, unterminated, '/', bad
 * pointer), a missing or unlinked name, a writable attach of a sealed
 * region, SHMR_ATTACH_NSCHECK from another IPC namespace, a result that
 * cannot be written back; each refusal leaves nothing mapped. (The size
 * rules and the wrong kind of fd: abi_misc; permissions: perm_open.)
 */
#include "shmr_test.h"
#include <sched.h>

FIXTURE(attach) {
	int ctl;
	int fd;			/* the region under test, read-write */
	uint64_t pg;
	uint64_t id;
	char name[128];
	long long mappings0;
};

FIXTURE_SETUP(attach)
{
	struct shmr_create c;

	SHMR_REQUIRE_DEVICE();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	self->pg = (uint64_t)shmr_page_size();
	shmr_test_name(self->name, sizeof(self->name), "abi_attach");
	self->fd = shmr_create(self->ctl, shmr_track(self->name), 2 * self->pg,
			       SHMR_CREATE_EXCL, 0644, &c);
	ASSERT_LE(0, self->fd);
	self->id = c.id;
	self->mappings0 = shmr_counter("mappings_live");
}

FIXTURE_TEARDOWN(attach)
{
	shmr_cleanup();
	close(self->fd);
	close(self->ctl);
}

static void init_attach(struct shmr_attach_req *a, const char *name,
			uint32_t flags)
{
	memset(a, 0, sizeof(*a));
	a->name = (uintptr_t)name;
	a->flags = flags;
}

/* The region's mapping count, as STAT on its handle says. */
static int region_mappings(int fd)
{
	struct shmr_region_info info;
	int ret = shmr_stat_fd(fd, &info);

	return ret ? ret : (int)info.mappings;
}

/*
 * An ATTACH expected to fail: its result, or, if it attached, -10000 after
 * undoing the mapping.
 */
static int attach_fails(int ctl, struct shmr_attach_req *a)
{
	int ret = shmr_ioctl(ctl, SHMR_IOC_ATTACH, a);

	if (ret == 0) {
		munmap((void *)(uintptr_t)a->addr, a->size);
		return -10000;
	}
	return ret;
}

TEST_F(attach, read_write)
{
	struct shmr_attach_req a;
	volatile unsigned char *p;
	unsigned char *q;

	init_attach(&a, self->name, 0);
	a.addr = 0x5a5a;	/* out fields are not read */
	a.size = 1;
	a.id = 7;
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_ATTACH, &a));
	ASSERT_NE(0ULL, (unsigned long long)a.addr);
	EXPECT_EQ(0ULL, (unsigned long long)(a.addr % self->pg));
	EXPECT_EQ(2 * self->pg, a.size);
	EXPECT_EQ(self->id, a.id);
	/* the input fields come back as given */
	EXPECT_EQ((uintptr_t)self->name, (uintptr_t)a.name);
	EXPECT_EQ(0U, a.flags);
	EXPECT_EQ(0U, a.reserved0);
	EXPECT_TRUE(shmr_all_bytes(a.reserved, sizeof(a.reserved), 0));
	EXPECT_EQ(1, region_mappings(self->fd));

	/* the region's memory, both ways */
	p = (volatile unsigned char *)(uintptr_t)a.addr;
	q = mmap(NULL, 2 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	p[0] = 0x11;
	p[2 * self->pg - 1] = 0x22;
	EXPECT_EQ(0x11, q[0]);
	EXPECT_EQ(0x22, q[2 * self->pg - 1]);
	q[self->pg] = 0x33;
	EXPECT_EQ(0x33, p[self->pg]);
	EXPECT_EQ(2, region_mappings(self->fd));
	EXPECT_EQ(0, munmap(q, 2 * self->pg));

	EXPECT_EQ(0, munmap((void *)(uintptr_t)a.addr, a.size));
	EXPECT_EQ(0, region_mappings(self->fd));
	EXPECT_EQ(self->mappings0, shmr_counter("mappings_live"));
}

TEST_F(attach, read_only)
{
	struct shmr_attach_req a;
	unsigned char *q, *p;

	q = mmap(NULL, 2 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	q[0] = 0x44;
	ASSERT_EQ(0, shmr_attach(self->ctl, self->name, SHMR_ATTACH_RDONLY, &a));
	EXPECT_EQ(2 * self->pg, a.size);
	EXPECT_EQ(self->id, a.id);
	EXPECT_EQ((uint32_t)SHMR_ATTACH_RDONLY, a.flags);
	p = (unsigned char *)(uintptr_t)a.addr;
	EXPECT_EQ(0x44, p[0]);
	/* read-only for good: mprotect() cannot add PROT_WRITE */
	EXPECT_EQ(-1, mprotect(p, a.size, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, mprotect(p, a.size, PROT_READ));
	EXPECT_EQ(0, munmap(p, a.size));
	EXPECT_EQ(0, munmap(q, 2 * self->pg));
	EXPECT_EQ(0, region_mappings(self->fd));
}

/* A write through a read-only attach is SIGSEGV, and nothing is written. */
static void write_ro(void *arg)
{
	*(volatile unsigned char *)arg = 1;
}

TEST_F(attach, read_only_write_faults)
{
	struct shmr_attach_req a;
	unsigned char *p;

	ASSERT_EQ(0, shmr_attach(self->ctl, self->name, SHMR_ATTACH_RDONLY, &a));
	p = (unsigned char *)(uintptr_t)a.addr;
	EXPECT_EQ(SIGSEGV, shmr_child_signal(write_ro, p));
	EXPECT_EQ(0, p[0]);
	EXPECT_EQ(0, munmap(p, a.size));
}

TEST_F(attach, flags_unknown)
{
	struct shmr_attach_req a;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		if ((1U << bit) & SHMR_ATTACH_ALL)
			continue;
		init_attach(&a, self->name, 1U << bit);
		EXPECT_EQ(-EINVAL, attach_fails(self->ctl, &a)) TH_LOG("bit %d", bit);
	}
	init_attach(&a, self->name, ~0U);
	EXPECT_EQ(-EINVAL, attach_fails(self->ctl, &a));
	/* a known flag does not make an unknown one valid */
	init_attach(&a, self->name, SHMR_ATTACH_RDONLY | (1U << 31));
	EXPECT_EQ(-EINVAL, attach_fails(self->ctl, &a));
	EXPECT_EQ(0, region_mappings(self->fd));
}

TEST_F(attach, reserved_nonzero)
{
	struct shmr_attach_req a;
	unsigned int i;

	init_attach(&a, self->name, 0);
	a.reserved0 = 1;
	EXPECT_EQ(-EINVAL, attach_fails(self->ctl, &a));
	for (i = 0; i < ARRAY_SIZE(a.reserved); i++) {
		init_attach(&a, self->name, 0);
		a.reserved[i] = 1ULL << 63;
		EXPECT_EQ(-EINVAL, attach_fails(self->ctl, &a)) TH_LOG("reserved[%u]", i);
	}
	EXPECT_EQ(0, region_mappings(self->fd));
}

TEST_F(attach, name_missing_or_unlinked)
{
	struct shmr_attach_req a;
	char other[128];

	shmr_test_name(other, sizeof(other), "abi_attach_missing");
	init_attach(&a, other, 0);
	EXPECT_EQ(-ENOENT, attach_fails(self->ctl, &a));
	init_attach(&a, other, SHMR_ATTACH_RDONLY);
	EXPECT_EQ(-ENOENT, attach_fails(self->ctl, &a));
	/* unlinked: the region lives on (our handle), the name is gone */
	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name));
	init_attach(&a, self->name, 0);
	EXPECT_EQ(-ENOENT, attach_fails(self->ctl, &a));
	EXPECT_EQ(0, region_mappings(self->fd));
}

TEST_F(attach, name_empty_or_none)
{
	struct shmr_attach_req a;

	init_attach(&a, "", 0);
	EXPECT_EQ(-EINVAL, attach_fails(self->ctl, &a));
	/* 0: no name (an anonymous region cannot be attached by name) */
	init_attach(&a, NULL, 0);
	EXPECT_EQ(-EINVAL, attach_fails(self->ctl, &a));
	init_attach(&a, NULL, SHMR_ATTACH_RDONLY);
	EXPECT_EQ(-EINVAL, attach_fails(self->ctl, &a));
}

TEST_F(attach, name_too_long)
{
	static char name[8192];
	struct shmr_attach_req a;

	memset(name, 'x', SHMR_NAME_MAX + 1);
	name[SHMR_NAME_MAX + 1] = 0;
	init_attach(&a, name, 0);
	EXPECT_EQ(-ENAMETOOLONG, attach_fails(self->ctl, &a));
	memset(name, 'y', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	init_attach(&a, name, 0);
	EXPECT_EQ(-ENAMETOOLONG, attach_fails(self->ctl, &a));
	/* exactly SHMR_NAME_MAX bytes is a name: missing, not too long */
	name[SHMR_NAME_MAX] = 0;
	init_attach(&a, name, 0);
	EXPECT_EQ(-ENOENT, attach_fails(self->ctl, &a));
}

TEST_F(attach, name_with_slash)
{
	const char *names[] = { "/", "/abi_attach", "abi_attach/", "abi/attach" };
	char slashed[160];
	struct shmr_attach_req a;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		init_attach(&a, names[i], 0);
		EXPECT_EQ(-EINVAL, attach_fails(self->ctl, &a)) TH_LOG("name \"%s\"", names[i]);
	}
	snprintf(slashed, sizeof(slashed), "/%s", self->name);
	init_attach(&a, slashed, 0);
	EXPECT_EQ(-EINVAL, attach_fails(self->ctl, &a));
}

TEST_F(attach, name_unterminated_or_bad_pointer)
{
	char *buf = shmr_guard_alloc();
	struct shmr_attach_req a;
	char *name;

	ASSERT_NE(NULL, buf);
	/* an existing name's bytes without its NUL, then an unreadable page */
	name = (char *)shmr_guard_fault(buf) - strlen(self->name);
	memcpy(name, self->name, strlen(self->name));
	init_attach(&a, name, 0);
	EXPECT_EQ(-EFAULT, attach_fails(self->ctl, &a));
	init_attach(&a, NULL, 0);
	a.name = 1;
	EXPECT_EQ(-EFAULT, attach_fails(self->ctl, &a));
	init_attach(&a, shmr_guard_fault(buf), 0);
	EXPECT_EQ(-EFAULT, attach_fails(self->ctl, &a));
	init_attach(&a, NULL, 0);
	a.name = 0xffff888000000000ULL;
	EXPECT_EQ(-EFAULT, attach_fails(self->ctl, &a));
	shmr_guard_free(buf);
	EXPECT_EQ(0, region_mappings(self->fd));
}

/* Sealed: read-only attaches still work, writable ones are -EPERM. */
TEST_F(attach, sealed_writable_eperm)
{
	struct shmr_attach_req a;
	struct shmr_seal s;

	memset(&s, 0, sizeof(s));
	s.seals = SHMR_SEAL_WRITE;
	ASSERT_EQ(0, shmr_ioctl(self->fd, SHMR_IOC_SEAL, &s));
	init_attach(&a, self->name, 0);
	EXPECT_EQ(-EPERM, attach_fails(self->ctl, &a));
	EXPECT_EQ(0, region_mappings(self->fd));
	ASSERT_EQ(0, shmr_attach(self->ctl, self->name, SHMR_ATTACH_RDONLY, &a));
	EXPECT_EQ(-1, mprotect((void *)(uintptr_t)a.addr, a.size, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, munmap((void *)(uintptr_t)a.addr, a.size));
}

/*
 * The struct in a read-only page: the result cannot be written back, so
 * nothing is mapped (-EFAULT), not a mapping the caller never learns of.
 */
TEST_F(attach, result_unwritable_maps_nothing)
{
	char *guard = shmr_guard_alloc();
	struct shmr_attach_req *a;

	ASSERT_NE(NULL, guard);
	a = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, a);
	init_attach(a, self->name, 0);
	ASSERT_EQ(0, mprotect(a, self->pg, PROT_READ));
	EXPECT_EQ(-EFAULT, shmr_ioctl(self->ctl, SHMR_IOC_ATTACH, a));
	EXPECT_EQ(0, region_mappings(self->fd));
	EXPECT_EQ(self->mappings0, shmr_counter("mappings_live"));
	/* the struct itself unreadable */
	EXPECT_EQ(-EFAULT, shmr_ioctl(self->ctl, SHMR_IOC_ATTACH, shmr_guard_fault(guard)));
	EXPECT_EQ(-EFAULT, shmr_ioctl(self->ctl, SHMR_IOC_ATTACH, NULL));
	munmap(a, self->pg);
	shmr_guard_free(guard);
}

/*
 * SHMR_ATTACH_NSCHECK: in the control fd's namespace it changes nothing;
 * after unshare(CLONE_NEWIPC) it is -EXDEV before anything else, while
 * without it the fd still attaches its own namespace's region.
 */
TEST_F(attach, nscheck_flag)
{
	struct shmr_attach_req a;
	int status;
	pid_t pid;

	ASSERT_EQ(0, shmr_attach(self->ctl, self->name, SHMR_ATTACH_NSCHECK, &a));
	EXPECT_EQ(self->id, a.id);
	EXPECT_EQ(0, munmap((void *)(uintptr_t)a.addr, a.size));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (unshare(CLONE_NEWIPC))
			_exit(1);
		if (shmr_attach(self->ctl, self->name, SHMR_ATTACH_NSCHECK, &a) != -EXDEV)
			_exit(2);
		/* before the name: even a bad one is -EXDEV */
		init_attach(&a, "", SHMR_ATTACH_NSCHECK);
		if (shmr_ioctl(self->ctl, SHMR_IOC_ATTACH, &a) != -EXDEV)
			_exit(3);
		/* but not before the flags */
		init_attach(&a, self->name, SHMR_ATTACH_NSCHECK | (1U << 31));
		if (shmr_ioctl(self->ctl, SHMR_IOC_ATTACH, &a) != -EINVAL)
			_exit(4);
		if (shmr_attach(self->ctl, self->name, SHMR_ATTACH_RDONLY, &a) ||
		    a.id != self->id)
			_exit(5);
		munmap((void *)(uintptr_t)a.addr, a.size);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("step %d", WEXITSTATUS(status));
	EXPECT_EQ(0, region_mappings(self->fd));
}

TEST_HARNESS_MAIN
