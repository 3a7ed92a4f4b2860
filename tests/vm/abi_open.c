// SPDX-License-Identifier: GPL-2.0
/*
 * SHMR_IOC_OPEN: the positive path (read-write and read-only), then one
 * refusal per validation branch with everything else valid: unknown flags,
 * reserved words, names (empty, too long, unterminated, '/', bad pointer),
 * a missing or unlinked name; and the fd flags of the returned handle.
 */
#include "shmr_test.h"

FIXTURE(open) {
	int ctl;
	int fd;			/* the region under test, read-write */
	uint64_t pg;
	uint64_t id;
	char name[128];
};

FIXTURE_SETUP(open)
{
	struct shmr_create c;

	SHMR_REQUIRE_DEVICE();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	self->pg = (uint64_t)shmr_page_size();
	shmr_test_name(self->name, sizeof(self->name), "abi_open");
	self->fd = shmr_create(self->ctl, shmr_track(self->name), 2 * self->pg,
			       SHMR_CREATE_EXCL, 0644, &c);
	ASSERT_LE(0, self->fd);
	self->id = c.id;
}

FIXTURE_TEARDOWN(open)
{
	shmr_cleanup();
	close(self->fd);
	close(self->ctl);
}

static void init_open(struct shmr_open *o, const char *name, uint32_t flags)
{
	memset(o, 0, sizeof(*o));
	o->name = (uintptr_t)name;
	o->flags = flags;
}

/* An OPEN expected to fail; closes the fd if it did not. */
static int open_raw(int ctl, struct shmr_open *o)
{
	int ret = shmr_ioctl(ctl, SHMR_IOC_OPEN, o);

	if (ret == 0)
		close(o->fd);
	return ret;
}

TEST_F(open, read_write)
{
	struct shmr_region_info info;
	struct shmr_open o;
	int fd;

	init_open(&o, self->name, 0);
	o.fd = (int)0xA5A5A5A5;
	o.size = 0xA5A5A5A5A5A5A5A5ULL;
	o.id = 0xA5A5A5A5A5A5A5A5ULL;
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_OPEN, &o));
	fd = o.fd;
	ASSERT_LE(0, fd);
	EXPECT_NE(self->fd, fd);
	EXPECT_EQ(2 * self->pg, o.size);
	EXPECT_EQ(self->id, o.id);
	EXPECT_EQ(0U, o.flags);
	EXPECT_TRUE(shmr_all_bytes(o.reserved, sizeof(o.reserved), 0));
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_EQ(self->id, info.id);
	EXPECT_STREQ(self->name, info.name);
	/* two open file descriptions now */
	EXPECT_EQ(2U, info.handles);
	close(fd);
}

TEST_F(open, read_only)
{
	struct shmr_region_info info;
	struct shmr_open o;
	int fd;

	fd = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, &o);
	ASSERT_LE(0, fd);
	EXPECT_EQ(2 * self->pg, o.size);
	EXPECT_EQ(self->id, o.id);
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_EQ(self->id, info.id);
	close(fd);
}

TEST_F(open, flags_unknown_bits)
{
	struct shmr_open o;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		if (SHMR_OPEN_ALL & (1U << bit))
			continue;
		init_open(&o, self->name, 1U << bit);
		EXPECT_EQ(-EINVAL, open_raw(self->ctl, &o)) TH_LOG("bit %d", bit);
		init_open(&o, self->name, (1U << bit) | SHMR_OPEN_RDONLY);
		EXPECT_EQ(-EINVAL, open_raw(self->ctl, &o)) TH_LOG("bit %d", bit);
	}
	init_open(&o, self->name, ~0U);
	EXPECT_EQ(-EINVAL, open_raw(self->ctl, &o));
	init_open(&o, self->name, ~(uint32_t)SHMR_OPEN_ALL);
	EXPECT_EQ(-EINVAL, open_raw(self->ctl, &o));
}

TEST_F(open, reserved_nonzero)
{
	struct shmr_open o;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(o.reserved); i++) {
		init_open(&o, self->name, 0);
		o.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, open_raw(self->ctl, &o)) TH_LOG("reserved[%u]", i);
		init_open(&o, self->name, SHMR_OPEN_RDONLY);
		o.reserved[i] = 1ULL << 63;
		EXPECT_EQ(-EINVAL, open_raw(self->ctl, &o)) TH_LOG("reserved[%u]", i);
	}
}

TEST_F(open, missing_name)
{
	char name[128];
	struct shmr_open o;

	shmr_test_name(name, sizeof(name), "abi_open.missing");
	init_open(&o, name, 0);
	EXPECT_EQ(-ENOENT, open_raw(self->ctl, &o));
	init_open(&o, name, SHMR_OPEN_RDONLY);
	EXPECT_EQ(-ENOENT, open_raw(self->ctl, &o));
	/* a prefix of an existing name is another name */
	memcpy(name, self->name, strlen(self->name) - 1);
	name[strlen(self->name) - 1] = 0;
	init_open(&o, name, 0);
	EXPECT_EQ(-ENOENT, open_raw(self->ctl, &o));
}

TEST_F(open, unlinked_name)
{
	struct shmr_open o;

	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name));
	init_open(&o, self->name, 0);
	EXPECT_EQ(-ENOENT, open_raw(self->ctl, &o));
	init_open(&o, self->name, SHMR_OPEN_RDONLY);
	EXPECT_EQ(-ENOENT, open_raw(self->ctl, &o));
}

TEST_F(open, name_empty)
{
	struct shmr_open o;

	init_open(&o, "", 0);
	EXPECT_EQ(-EINVAL, open_raw(self->ctl, &o));
	init_open(&o, "", SHMR_OPEN_RDONLY);
	EXPECT_EQ(-EINVAL, open_raw(self->ctl, &o));
}

TEST_F(open, name_too_long)
{
	static char name[8192];
	struct shmr_open o;

	memset(name, 'x', SHMR_NAME_MAX + 1);
	name[SHMR_NAME_MAX + 1] = 0;
	init_open(&o, name, 0);
	EXPECT_EQ(-ENAMETOOLONG, open_raw(self->ctl, &o));
	memset(name, 'y', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	init_open(&o, name, 0);
	EXPECT_EQ(-ENAMETOOLONG, open_raw(self->ctl, &o));
}

TEST_F(open, name_unterminated)
{
	char *buf = shmr_guard_alloc();
	char *name;
	struct shmr_open o;

	ASSERT_NE(NULL, buf);
	/* an existing name's bytes without its NUL, then an unreadable page */
	name = (char *)shmr_guard_fault(buf) - strlen(self->name);
	memcpy(name, self->name, strlen(self->name));
	init_open(&o, name, 0);
	EXPECT_EQ(-EFAULT, open_raw(self->ctl, &o));
	shmr_guard_free(buf);
}

TEST_F(open, name_with_slash)
{
	const char *names[] = { "/", "/abi_open", "abi_open/", "abi/open" };
	char slashed[160];
	struct shmr_open o;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		init_open(&o, names[i], 0);
		EXPECT_EQ(-EINVAL, open_raw(self->ctl, &o)) TH_LOG("name \"%s\"", names[i]);
	}
	/* "/<existing name>" is not the existing name */
	snprintf(slashed, sizeof(slashed), "/%s", self->name);
	init_open(&o, slashed, 0);
	EXPECT_EQ(-EINVAL, open_raw(self->ctl, &o));
}

TEST_F(open, name_bad_pointer)
{
	char *buf = shmr_guard_alloc();
	struct shmr_open o;

	ASSERT_NE(NULL, buf);
	/* no name at all (0 means anonymous in CREATE): invalid, not a fault */
	init_open(&o, NULL, 0);
	EXPECT_EQ(-EINVAL, open_raw(self->ctl, &o));
	init_open(&o, NULL, 0);
	o.name = 1;
	EXPECT_EQ(-EFAULT, open_raw(self->ctl, &o));
	init_open(&o, NULL, 0);
	o.name = (uintptr_t)shmr_guard_fault(buf);
	EXPECT_EQ(-EFAULT, open_raw(self->ctl, &o));
	init_open(&o, NULL, 0);
	o.name = 0xffff888000000000ULL;
	EXPECT_EQ(-EFAULT, open_raw(self->ctl, &o));
	shmr_guard_free(buf);
}

TEST_F(open, fd_flags)
{
	int fd;

	fd = shmr_open(self->ctl, self->name, 0, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	fd = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	fd = shmr_open(self->ctl, self->name, SHMR_OPEN_NOCLOEXEC, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	close(fd);
	fd = shmr_open(self->ctl, self->name,
		       SHMR_OPEN_NOCLOEXEC | SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDONLY, fcntl(fd, F_GETFL) & O_ACCMODE);
	close(fd);
}

TEST_HARNESS_MAIN
