// SPDX-License-Identifier: GPL-2.0
/*
 * SHMR_IOC_UNLINK: the positive path (the name goes, the region lives on
 * through its handle, the name can be reused), then one refusal per
 * validation branch with everything else valid: flags, each reserved word,
 * names (empty, too long, unterminated, '/', bad pointer) and a missing
 * name. A refused UNLINK must leave the name in place.
 */
#include "shmr_test.h"

FIXTURE(unlink) {
	int ctl;
	int fd;
	uint64_t pg;
	uint64_t id;
	char name[128];
};

FIXTURE_SETUP(unlink)
{
	struct shmr_create c;

	SHMR_REQUIRE_DEVICE();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	self->pg = (uint64_t)shmr_page_size();
	shmr_test_name(self->name, sizeof(self->name), "abi_unlink");
	self->fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			       SHMR_CREATE_EXCL, 0600, &c);
	ASSERT_LE(0, self->fd);
	self->id = c.id;
}

FIXTURE_TEARDOWN(unlink)
{
	shmr_cleanup();
	close(self->fd);
	close(self->ctl);
}

static void init_unlink(struct shmr_unlink *u, const char *name)
{
	memset(u, 0, sizeof(*u));
	u->name = (uintptr_t)name;
}

/* The fixture's name still opens the fixture's region. */
static bool still_linked(int ctl, const char *name, uint64_t id)
{
	struct shmr_open o;
	int fd = shmr_open(ctl, name, SHMR_OPEN_RDONLY, &o);

	if (fd < 0)
		return false;
	close(fd);
	return o.id == id;
}

TEST_F(unlink, positive)
{
	struct shmr_region_info info;
	struct shmr_create c;
	int fd2;

	ASSERT_EQ(0, shmr_stat_fd(self->fd, &info));
	EXPECT_EQ(0U, info.flags & SHMR_INFO_UNLINKED);

	EXPECT_EQ(0, shmr_unlink(self->ctl, self->name));
	EXPECT_EQ(-ENOENT, shmr_open(self->ctl, self->name, 0, NULL));
	EXPECT_EQ(-ENOENT, shmr_unlink(self->ctl, self->name));

	/* the region lives on through its handle, marked unlinked */
	ASSERT_EQ(0, shmr_stat_fd(self->fd, &info));
	EXPECT_EQ(self->id, info.id);
	EXPECT_EQ((uint32_t)SHMR_INFO_UNLINKED, info.flags & SHMR_INFO_UNLINKED);

	/* the name is free again: EXCL creates a new region */
	fd2 = shmr_create(self->ctl, self->name, self->pg, SHMR_CREATE_EXCL,
			  0600, &c);
	ASSERT_LE(0, fd2);
	EXPECT_EQ((uint32_t)SHMR_RESULT_CREATED, c.result);
	EXPECT_NE(self->id, c.id);
	/* and unlinking it does not touch the old one */
	EXPECT_EQ(0, shmr_unlink(self->ctl, self->name));
	ASSERT_EQ(0, shmr_stat_fd(self->fd, &info));
	EXPECT_EQ(self->id, info.id);
	close(fd2);
}

TEST_F(unlink, flags_nonzero)
{
	struct shmr_unlink u;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		init_unlink(&u, self->name);
		u.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_UNLINK, &u))
			TH_LOG("bit %d", bit);
	}
	init_unlink(&u, self->name);
	u.flags = ~0U;
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_UNLINK, &u));
	EXPECT_TRUE(still_linked(self->ctl, self->name, self->id));
}

TEST_F(unlink, reserved0_nonzero)
{
	struct shmr_unlink u;

	init_unlink(&u, self->name);
	u.reserved0 = 1;
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_UNLINK, &u));
	init_unlink(&u, self->name);
	u.reserved0 = 1U << 31;
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_UNLINK, &u));
	EXPECT_TRUE(still_linked(self->ctl, self->name, self->id));
}

TEST_F(unlink, reserved_nonzero)
{
	struct shmr_unlink u;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(u.reserved); i++) {
		init_unlink(&u, self->name);
		u.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_UNLINK, &u))
			TH_LOG("reserved[%u]", i);
		init_unlink(&u, self->name);
		u.reserved[i] = 1ULL << 63;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_UNLINK, &u))
			TH_LOG("reserved[%u]", i);
	}
	EXPECT_TRUE(still_linked(self->ctl, self->name, self->id));
}

TEST_F(unlink, missing_name)
{
	char name[128];

	shmr_test_name(name, sizeof(name), "abi_unlink.missing");
	EXPECT_EQ(-ENOENT, shmr_unlink(self->ctl, name));
	EXPECT_TRUE(still_linked(self->ctl, self->name, self->id));
}

TEST_F(unlink, name_empty)
{
	EXPECT_EQ(-EINVAL, shmr_unlink(self->ctl, ""));
}

TEST_F(unlink, name_too_long)
{
	static char name[8192];

	memset(name, 'x', SHMR_NAME_MAX + 1);
	name[SHMR_NAME_MAX + 1] = 0;
	EXPECT_EQ(-ENAMETOOLONG, shmr_unlink(self->ctl, name));
	memset(name, 'y', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	EXPECT_EQ(-ENAMETOOLONG, shmr_unlink(self->ctl, name));
}

TEST_F(unlink, name_unterminated)
{
	char *buf = shmr_guard_alloc();
	char *name;

	ASSERT_NE(NULL, buf);
	name = (char *)shmr_guard_fault(buf) - strlen(self->name);
	memcpy(name, self->name, strlen(self->name));
	EXPECT_EQ(-EFAULT, shmr_unlink(self->ctl, name));
	shmr_guard_free(buf);
	EXPECT_TRUE(still_linked(self->ctl, self->name, self->id));
}

TEST_F(unlink, name_with_slash)
{
	const char *names[] = { "/", "/abi_unlink", "abi_unlink/", "abi/unlink" };
	char slashed[160];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		EXPECT_EQ(-EINVAL, shmr_unlink(self->ctl, names[i]))
			TH_LOG("name \"%s\"", names[i]);
	}
	snprintf(slashed, sizeof(slashed), "/%s", self->name);
	EXPECT_EQ(-EINVAL, shmr_unlink(self->ctl, slashed));
	EXPECT_TRUE(still_linked(self->ctl, self->name, self->id));
}

TEST_F(unlink, name_bad_pointer)
{
	char *buf = shmr_guard_alloc();
	struct shmr_unlink u;

	ASSERT_NE(NULL, buf);
	/* no name at all (0 means anonymous in CREATE): invalid, not a fault */
	init_unlink(&u, NULL);
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_UNLINK, &u));
	u.name = 1;
	EXPECT_EQ(-EFAULT, shmr_ioctl(self->ctl, SHMR_IOC_UNLINK, &u));
	u.name = (uintptr_t)shmr_guard_fault(buf);
	EXPECT_EQ(-EFAULT, shmr_ioctl(self->ctl, SHMR_IOC_UNLINK, &u));
	u.name = 0xffff888000000000ULL;
	EXPECT_EQ(-EFAULT, shmr_ioctl(self->ctl, SHMR_IOC_UNLINK, &u));
	shmr_guard_free(buf);
	EXPECT_TRUE(still_linked(self->ctl, self->name, self->id));
}

TEST_HARNESS_MAIN
