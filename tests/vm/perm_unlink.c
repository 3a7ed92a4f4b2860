// SPDX-License-Identifier: GPL-2.0
/*
 * UNLINK permissions: only the owner, or a holder of CAP_SYS_ADMIN or
 * CAP_IPC_OWNER, may remove a name, whatever the mode (like IPC_RMID).
 * Everyone else gets -EPERM and the name stays; a missing name is -ENOENT
 * for everyone.
 */
#include <sched.h>

#include "shmr_test.h"

#define OWNER_UID	1000
#define OWNER_GID	1000

struct subject {
	const char *what;
	struct shmr_creds cr;
	bool may_unlink;
	uint64_t drop;		/* uid 0: root's caps minus these */
};

static const struct subject subjects[] = {
	{ "owner", { OWNER_UID, OWNER_GID, 0, { 0 }, 0 }, true, 0 },
	{ "owner, other gid", { OWNER_UID, 1003, 0, { 0 }, 0 }, true, 0 },
	{ "group member", { 1001, OWNER_GID, 0, { 0 }, 0 }, false, 0 },
	{ "supplementary group member", { 1002, 1002, 1, { OWNER_GID }, 0 }, false, 0 },
	{ "other", { 1003, 1003, 0, { 0 }, 0 }, false, 0 },
	{ "other with CAP_IPC_OWNER", { 1003, 1003, 0, { 0 }, SHMR_CAP(CAP_IPC_OWNER) },
	  true, 0 },
	{ "other with CAP_SYS_ADMIN", { 1003, 1003, 0, { 0 }, SHMR_CAP(CAP_SYS_ADMIN) },
	  true, 0 },
	{ "other with CAP_DAC_OVERRIDE and CAP_FOWNER",
	  { 1003, 1003, 0, { 0 }, SHMR_CAP(CAP_DAC_OVERRIDE) | SHMR_CAP(CAP_FOWNER) },
	  false, 0 },
	{ "root without CAP_IPC_OWNER and CAP_SYS_ADMIN", { 0, 0, 0, { 0 }, 0 }, false,
	  SHMR_CAP(CAP_IPC_OWNER) | SHMR_CAP(CAP_SYS_ADMIN) },
	{ "root without CAP_IPC_OWNER", { 0, 0, 0, { 0 }, 0 }, true,
	  SHMR_CAP(CAP_IPC_OWNER) },
	{ "root without CAP_SYS_ADMIN", { 0, 0, 0, { 0 }, 0 }, true,
	  SHMR_CAP(CAP_SYS_ADMIN) },
	{ "root", { 0, 0, 0, { 0 }, SHMR_CAPS_UNCHANGED }, true, 0 },
};

static struct shmr_creds subject_creds(const struct subject *s)
{
	struct shmr_creds cr = s->cr;

	if (s->drop)
		cr.caps = shmr_caps_current() & ~s->drop;
	return cr;
}

struct region {
	char name[128];
	uint32_t mode;
	uint64_t id;
};

static int create_as_owner(void *arg)
{
	struct region *r = arg;
	struct shmr_create c;
	int ctl, fd;

	ctl = shmr_ctl_open();
	if (ctl < 0)
		return ctl;
	fd = shmr_create(ctl, r->name, (uint64_t)shmr_page_size(),
			 SHMR_CREATE_EXCL, r->mode, &c);
	close(ctl);
	if (fd < 0)
		return fd;
	close(fd);
	r->id = c.id;
	return 0;
}

static int do_unlink(void *arg)
{
	const char *name = arg;
	int ctl, ret;

	ctl = shmr_ctl_open();
	if (ctl < 0)
		return ctl;
	ret = shmr_unlink(ctl, name);
	close(ctl);
	return ret;
}

FIXTURE(perm) {
	struct region *r;	/* shared with the creating child */
};

FIXTURE_VARIANT(perm) {
	uint32_t mode;
};

FIXTURE_VARIANT_ADD(perm, m0000) { .mode = 0 };
FIXTURE_VARIANT_ADD(perm, m0600) { .mode = 0600 };
FIXTURE_VARIANT_ADD(perm, m0666) { .mode = 0666 };

FIXTURE_SETUP(perm)
{
	SHMR_REQUIRE_DEVICE();
	ASSERT_EQ(0U, geteuid()) TH_LOG("the permission tests run as root");
	self->r = mmap(NULL, sizeof(*self->r), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->r);
	memset(self->r, 0, sizeof(*self->r));
	self->r->mode = variant->mode;
}

FIXTURE_TEARDOWN(perm)
{
	shmr_cleanup();
	munmap(self->r, sizeof(*self->r));
}

/* Is the region r still reachable under its name (as root)? */
static bool linked(const struct region *r)
{
	struct shmr_open o;
	int ctl = shmr_ctl_open(), fd;

	if (ctl < 0)
		return false;
	fd = shmr_open(ctl, r->name, SHMR_OPEN_RDONLY, &o);
	close(ctl);
	if (fd < 0)
		return false;
	close(fd);
	return o.id == r->id;
}

TEST_F(perm, matrix)
{
	const struct shmr_creds owner = { OWNER_UID, OWNER_GID, 0, { 0 }, 0 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(subjects); i++) {
		const struct subject *s = &subjects[i];
		struct shmr_creds cr = subject_creds(s);

		shmr_test_name(self->r->name, sizeof(self->r->name), "perm_unlink");
		shmr_track(self->r->name);
		ASSERT_EQ(0, shmr_run_as(&owner, create_as_owner, self->r));

		EXPECT_EQ(s->may_unlink ? 0 : -EPERM,
			  shmr_run_as(&cr, do_unlink, self->r->name))
			TH_LOG("mode %04o, %s", variant->mode, s->what);
		EXPECT_EQ(!s->may_unlink, linked(self->r))
			TH_LOG("mode %04o, %s", variant->mode, s->what);
		/* a second attempt after a success finds nothing */
		if (s->may_unlink) {
			EXPECT_EQ(-ENOENT, shmr_run_as(&cr, do_unlink, self->r->name))
				TH_LOG("mode %04o, %s", variant->mode, s->what);
		}
	}
}

TEST_F(perm, missing_name_is_enoent)
{
	unsigned int i;

	shmr_test_name(self->r->name, sizeof(self->r->name), "perm_unlink.missing");
	for (i = 0; i < ARRAY_SIZE(subjects); i++) {
		struct shmr_creds cr = subject_creds(&subjects[i]);

		EXPECT_EQ(-ENOENT, shmr_run_as(&cr, do_unlink, self->r->name))
			TH_LOG("%s", subjects[i].what);
	}
}

#define NO_USERNS	(-10003)

static int unlink_in_userns(void *arg)
{
	if (unshare(CLONE_NEWUSER))
		return NO_USERNS;
	if (!(shmr_caps_current() & SHMR_CAP(CAP_SYS_ADMIN)))
		return NO_USERNS;
	return do_unlink(arg);
}

TEST_F(perm, userns_caps_do_not_unlink)
{
	/* CAP_SYS_ADMIN / CAP_IPC_OWNER in a user namespace of one's own */
	const struct shmr_creds owner = { OWNER_UID, OWNER_GID, 0, { 0 }, 0 };
	const struct shmr_creds other = { 1003, 1003, 0, { 0 }, 0 };
	int ret;

	shmr_test_name(self->r->name, sizeof(self->r->name), "perm_unlink");
	shmr_track(self->r->name);
	ASSERT_EQ(0, shmr_run_as(&owner, create_as_owner, self->r));
	ret = shmr_run_as(&other, unlink_in_userns, self->r->name);
	if (ret == NO_USERNS)
		SKIP(return, "cannot create a user namespace as uid 1003");
	EXPECT_EQ(-EPERM, ret);
	EXPECT_TRUE(linked(self->r));
	/* the owner inside a user namespace of its own is still the owner */
	EXPECT_EQ(0, shmr_run_as(&owner, unlink_in_userns, self->r->name));
	EXPECT_FALSE(linked(self->r));
}

TEST_F(perm, refused_unlink_leaves_region_usable)
{
	const struct shmr_creds owner = { OWNER_UID, OWNER_GID, 0, { 0 }, 0 };
	const struct shmr_creds other = { 1003, 1003, 0, { 0 }, 0 };
	struct shmr_region_info info;
	int ctl, fd;

	shmr_test_name(self->r->name, sizeof(self->r->name), "perm_unlink");
	shmr_track(self->r->name);
	ASSERT_EQ(0, shmr_run_as(&owner, create_as_owner, self->r));
	ASSERT_EQ(-EPERM, shmr_run_as(&other, do_unlink, self->r->name));
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	fd = shmr_open(ctl, self->r->name, 0, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_EQ(self->r->id, info.id);
	EXPECT_EQ(0U, info.flags & SHMR_INFO_UNLINKED);
	EXPECT_EQ((uint32_t)OWNER_UID, info.uid);
	close(fd);
	/* and the owner can still remove it */
	EXPECT_EQ(0, shmr_run_as(&owner, do_unlink, self->r->name));
	EXPECT_EQ(-ENOENT, shmr_open(ctl, self->r->name, 0, NULL));
	close(ctl);
}

TEST_HARNESS_MAIN
