// SPDX-License-Identifier: GPL-2.0
/*
 * OPEN permission matrix. A region created by uid 1000 / gid 1000 with each
 * mode of the variants is opened read-only, read-write and by
 * create-or-open (checked as read-write), and attached without a handle
 * (ATTACH) read-only and read-write, by: its owner, a member of its
 * group (primary and supplementary), another user, root without
 * CAP_IPC_OWNER, a user holding only CAP_IPC_OWNER, and full root. Each
 * must succeed or fail with -EACCES exactly as a file open would (one
 * class applies: owner, else group, else other), CAP_IPC_OWNER overriding
 * as for SysV shm. STAT reports the owner and mode.
 */
#include <sched.h>

#include "perm_tests.h"

#define OWNER_UID	1000
#define OWNER_GID	1000

struct subject {
	const char *what;
	struct shmr_creds cr;
	enum perm_class cls;
	bool root_minus_ipc_owner;	/* caps: root's minus CAP_IPC_OWNER */
};

static const struct subject subjects[] = {
	{ "owner", { OWNER_UID, OWNER_GID, 0, { 0 }, 0 }, CLASS_OWNER, false },
	{ "owner, other gid", { OWNER_UID, 1003, 0, { 0 }, 0 }, CLASS_OWNER, false },
	{ "group (primary)", { 1001, OWNER_GID, 0, { 0 }, 0 }, CLASS_GROUP, false },
	{ "group (supplementary)", { 1002, 1002, 1, { OWNER_GID }, 0 }, CLASS_GROUP, false },
	{ "other", { 1003, 1003, 0, { 0 }, 0 }, CLASS_OTHER, false },
	{ "root without CAP_IPC_OWNER", { 0, 0, 0, { 0 }, 0 }, CLASS_OTHER, true },
	{ "root without CAP_IPC_OWNER, in the group", { 0, OWNER_GID, 0, { 0 }, 0 },
	  CLASS_GROUP, true },
	{ "other with CAP_IPC_OWNER", { 1003, 1003, 0, { 0 }, SHMR_CAP(CAP_IPC_OWNER) },
	  CLASS_OVERRIDE, false },
	{ "root", { 0, 0, 0, { 0 }, SHMR_CAPS_UNCHANGED }, CLASS_OVERRIDE, false },
};

static struct shmr_creds subject_creds(const struct subject *s)
{
	struct shmr_creds cr = s->cr;

	if (s->root_minus_ipc_owner)
		cr.caps = shmr_caps_current() & ~SHMR_CAP(CAP_IPC_OWNER);
	return cr;
}

struct op {
	const char *name;
	uint32_t flags;		/* SHMR_OPEN_* */
	bool create;		/* create-or-open instead of OPEN */
	bool attach;		/* ATTACH (flags: SHMR_ATTACH_*) instead of OPEN */
	uint64_t size;
	uint32_t mode;
	uint64_t id;		/* the region's id, to check a success */
};

/* In the child: the operation's result, 0 or -errno (or WRONG_*). */
static int do_op(void *arg)
{
	const struct op *op = arg;
	int ctl, ret;

	ctl = shmr_ctl_open();
	if (ctl < 0)
		return ctl;
	if (op->attach)
		ret = perm_attach(ctl, op->name, op->flags, op->id);
	else
		ret = perm_attempt(ctl, op->name, op->flags, op->create, op->size, op->flags,
				   op->mode, op->id);
	close(ctl);
	return ret;
}

FIXTURE(perm) {
	char name[128];
	uint64_t id;
	uint64_t pg;
};

FIXTURE_VARIANT(perm) {
	uint32_t mode;
};

FIXTURE_VARIANT_ADD(perm, m0000) { .mode = 0 };
FIXTURE_VARIANT_ADD(perm, m0400) { .mode = 0400 };
FIXTURE_VARIANT_ADD(perm, m0600) { .mode = 0600 };
FIXTURE_VARIANT_ADD(perm, m0640) { .mode = 0640 };
FIXTURE_VARIANT_ADD(perm, m0604) { .mode = 0604 };
FIXTURE_VARIANT_ADD(perm, m0644) { .mode = 0644 };
FIXTURE_VARIANT_ADD(perm, m0666) { .mode = 0666 };
FIXTURE_VARIANT_ADD(perm, m0200) { .mode = 0200 };	/* write without read */
FIXTURE_VARIANT_ADD(perm, m0066) { .mode = 0066 };	/* owner excluded */
FIXTURE_VARIANT_ADD(perm, m0060) { .mode = 0060 };
FIXTURE_VARIANT_ADD(perm, m0006) { .mode = 0006 };

/* As the owner: create op->name with op->mode, write the id to op->id. */
static int create_as_owner(void *arg)
{
	struct op *op = arg;

	return perm_create_excl(op->name, op->size, op->mode, &op->id);
}

FIXTURE_SETUP(perm)
{
	const struct shmr_creds owner = { OWNER_UID, OWNER_GID, 0, { 0 }, 0 };
	struct op *op;

	SHMR_REQUIRE_DEVICE();
	ASSERT_EQ(0U, geteuid()) TH_LOG("the permission tests run as root");
	self->pg = (uint64_t)shmr_page_size();
	shmr_test_name(self->name, sizeof(self->name), "perm_open");
	/* the child writes the id back through a shared page */
	op = mmap(NULL, sizeof(*op), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, op);
	memset(op, 0, sizeof(*op));
	op->name = shmr_track(self->name);
	op->size = self->pg;
	op->mode = variant->mode;
	ASSERT_EQ(0, shmr_run_as(&owner, create_as_owner, op));
	self->id = op->id;
	munmap(op, sizeof(*op));
	ASSERT_NE(0ULL, (unsigned long long)self->id);
}

FIXTURE_TEARDOWN(perm)
{
	shmr_cleanup();
}

static void run_matrix_op(struct __test_metadata *_metadata,
			  FIXTURE_DATA(perm) *self, uint32_t mode,
			  uint32_t flags, bool create, bool attach, uint32_t need)
{
	struct op op = {
		.name = self->name, .flags = flags, .create = create, .attach = attach,
		.size = self->pg, .mode = 0600, .id = self->id,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(subjects); i++) {
		struct shmr_creds cr = subject_creds(&subjects[i]);

		EXPECT_EQ(perm_expected(subjects[i].cls, mode, need),
			  shmr_run_as(&cr, do_op, &op))
			TH_LOG("mode %04o, %s, %s%s", mode, subjects[i].what,
			       attach ? "attach " : "",
			       create ? "create-or-open" :
			       flags & SHMR_OPEN_RDONLY ? "read-only" : "read-write");
	}
}

static void run_matrix(struct __test_metadata *_metadata,
		       FIXTURE_DATA(perm) *self, uint32_t mode,
		       uint32_t flags, bool create, uint32_t need)
{
	run_matrix_op(_metadata, self, mode, flags, create, false, need);
}

TEST_F(perm, open_read_only)
{
	run_matrix(_metadata, self, variant->mode, SHMR_OPEN_RDONLY, false, 4);
}

TEST_F(perm, open_read_write)
{
	run_matrix(_metadata, self, variant->mode, 0, false, 6);
}

TEST_F(perm, open_nocloexec_same_rules)
{
	run_matrix(_metadata, self, variant->mode,
		   SHMR_OPEN_RDONLY | SHMR_OPEN_NOCLOEXEC, false, 4);
}

TEST_F(perm, create_or_open_is_read_write)
{
	run_matrix(_metadata, self, variant->mode, 0, true, 6);
}

/* ATTACH is checked as OPEN for the same access. */
TEST_F(perm, attach_read_only)
{
	_Static_assert(SHMR_ATTACH_RDONLY == SHMR_OPEN_RDONLY, "the log's wording");
	run_matrix_op(_metadata, self, variant->mode, SHMR_ATTACH_RDONLY, false, true, 4);
}

TEST_F(perm, attach_read_write)
{
	run_matrix_op(_metadata, self, variant->mode, 0, false, true, 6);
}

TEST_F(perm, excl_create_existing_is_eexist)
{
	/* the name exists: EEXIST whatever the permissions */
	struct op op = {
		.name = self->name, .flags = SHMR_CREATE_EXCL, .create = true,
		.size = self->pg, .mode = 0600, .id = self->id,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(subjects); i++) {
		struct shmr_creds cr = subject_creds(&subjects[i]);

		EXPECT_EQ(-EEXIST, shmr_run_as(&cr, do_op, &op))
			TH_LOG("mode %04o, %s", variant->mode, subjects[i].what);
	}
}

#define NO_USERNS	(-10003)

/* do_op() from inside a new user namespace, where this user has every cap. */
static int do_op_in_userns(void *arg)
{
	if (unshare(CLONE_NEWUSER))
		return NO_USERNS;
	if (!(shmr_caps_current() & SHMR_CAP(CAP_IPC_OWNER)))
		return NO_USERNS;
	return do_op(arg);
}

TEST_F(perm, userns_caps_do_not_override)
{
	/*
	 * CAP_IPC_OWNER counts in the user namespace that owns the region's
	 * IPC namespace (the initial one here), not in one the user made.
	 */
	const struct shmr_creds other = { 1003, 1003, 0, { 0 }, 0 };
	const struct subject as_other = { "other", other, CLASS_OTHER, false };
	struct op op = {
		.name = self->name, .size = self->pg, .mode = 0600, .id = self->id,
	};
	int ret;

	op.flags = SHMR_OPEN_RDONLY;
	ret = shmr_run_as(&other, do_op_in_userns, &op);
	if (ret == NO_USERNS)
		SKIP(return, "cannot create a user namespace as uid 1003");
	EXPECT_EQ(perm_expected(as_other.cls, variant->mode, 4), ret);
	op.flags = 0;
	EXPECT_EQ(perm_expected(as_other.cls, variant->mode, 6),
		  shmr_run_as(&other, do_op_in_userns, &op));
	op.create = true;
	EXPECT_EQ(perm_expected(as_other.cls, variant->mode, 6),
		  shmr_run_as(&other, do_op_in_userns, &op));
}

TEST_F(perm, stat_owner_and_mode)
{
	struct shmr_region_info info;
	int ctl;

	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, shmr_stat_id(ctl, self->id, &info));
	EXPECT_EQ((uint32_t)OWNER_UID, info.uid);
	EXPECT_EQ((uint32_t)OWNER_GID, info.gid);
	EXPECT_EQ(variant->mode, info.mode);
	EXPECT_EQ(0U, info.flags);
	EXPECT_STREQ(self->name, info.name);
	/* the creator was a child that has exited */
	EXPECT_NE(getpid(), info.creator_pid);
	EXPECT_EQ(0U, info.handles);
	EXPECT_EQ(0U, info.nattach);
	close(ctl);
}

TEST_HARNESS_MAIN
