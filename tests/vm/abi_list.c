// SPDX-License-Identifier: GPL-2.0
/*
 * SHMR_IOC_LIST: named, anonymous and unlinked-but-alive regions appear in
 * creation order with the right fields and zeroed padding; a short buffer
 * gives count < total; cap 0 counts only; entries past count are not
 * written; freed regions disappear. Then the refusals: flags, reserved
 * words, a bad buffer pointer.
 */
#include "shmr_test.h"

#define NREG	3

FIXTURE(list) {
	int ctl;
	uint64_t pg;
	int fd[NREG];		/* named, anonymous, named-then-unlinked */
	uint64_t id[NREG];
	char name[NREG][128];
};

FIXTURE_SETUP(list)
{
	struct shmr_create c;
	int i;

	SHMR_REQUIRE_DEVICE();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	self->pg = (uint64_t)shmr_page_size();
	for (i = 0; i < NREG; i++)
		self->fd[i] = -1;
	shmr_test_name(self->name[0], sizeof(self->name[0]), "abi_list");
	shmr_test_name(self->name[2], sizeof(self->name[2]), "abi_list");
	self->fd[0] = shmr_create(self->ctl, shmr_track(self->name[0]), self->pg,
				  SHMR_CREATE_EXCL, 0640, &c);
	ASSERT_LE(0, self->fd[0]);
	self->id[0] = c.id;
	self->fd[1] = shmr_create(self->ctl, NULL, 2 * self->pg, 0, 0600, &c);
	ASSERT_LE(0, self->fd[1]);
	self->id[1] = c.id;
	self->fd[2] = shmr_create(self->ctl, shmr_track(self->name[2]), 3 * self->pg,
				  SHMR_CREATE_EXCL, 0604, &c);
	ASSERT_LE(0, self->fd[2]);
	self->id[2] = c.id;
	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name[2]));
}

FIXTURE_TEARDOWN(list)
{
	int i;

	shmr_cleanup();
	for (i = 0; i < NREG; i++)
		if (self->fd[i] >= 0)
			close(self->fd[i]);
	close(self->ctl);
}

static void init_list(struct shmr_list *l, void *regions, uint32_t cap)
{
	memset(l, 0, sizeof(*l));
	l->regions = (uintptr_t)regions;
	l->cap = cap;
}

/* LIST into a fresh array of cap entries pre-filled with 0xA5. */
static struct shmr_region_info *list_all(int ctl, uint32_t cap,
					 struct shmr_list *l, int *ret)
{
	struct shmr_region_info *r = calloc(cap + 1, sizeof(*r));

	if (!r) {
		*ret = -ENOMEM;
		return NULL;
	}
	shmr_fill_a5(r, (cap + 1) * sizeof(*r));
	init_list(l, r, cap);
	l->count = 0xA5A5A5A5;
	l->total = 0xA5A5A5A5;
	*ret = shmr_ioctl(ctl, SHMR_IOC_LIST, l);
	return r;
}

static int find_id(const struct shmr_region_info *r, uint32_t n, uint64_t id)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (r[i].id == id)
			return (int)i;
	return -1;
}

TEST_F(list, cap_zero_counts)
{
	struct shmr_list l;

	init_list(&l, NULL, 0);
	l.count = 0xA5A5A5A5;
	l.total = 0xA5A5A5A5;
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_LIST, &l));
	EXPECT_EQ(0U, l.count);
	EXPECT_LE((uint32_t)NREG, l.total);
	EXPECT_NE(0xA5A5A5A5U, l.total);
	EXPECT_EQ(0U, l.cap);
	EXPECT_EQ(0U, l.flags);
	EXPECT_TRUE(shmr_all_bytes(l.reserved, sizeof(l.reserved), 0));
}

TEST_F(list, all_entries)
{
	struct shmr_region_info *r;
	struct shmr_list l0, l;
	int ret, pos[NREG], i;

	init_list(&l0, NULL, 0);
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_LIST, &l0));
	r = list_all(self->ctl, l0.total + 8, &l, &ret);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(l0.total, l.total);
	ASSERT_EQ(l.total, l.count);
	/* entries past count untouched */
	EXPECT_TRUE(shmr_all_bytes(&r[l.count], 9 * sizeof(*r), 0xA5));

	for (i = 0; i < NREG; i++) {
		pos[i] = find_id(r, l.count, self->id[i]);
		ASSERT_LE(0, pos[i]) TH_LOG("region %d (id %llu) not listed", i,
					    (unsigned long long)self->id[i]);
	}
	/* creation order */
	EXPECT_LT(pos[0], pos[1]);
	EXPECT_LT(pos[1], pos[2]);
	for (i = 0; i < (int)l.count; i++) {
		EXPECT_TRUE(shmr_str_zero_padded(r[i].name, sizeof(r[i].name)))
			TH_LOG("entry %d", i);
	}

	/* named */
	EXPECT_EQ(self->pg, r[pos[0]].size);
	EXPECT_EQ(0U, r[pos[0]].flags);
	EXPECT_EQ(0640U, r[pos[0]].mode);
	EXPECT_EQ(geteuid(), r[pos[0]].uid);
	EXPECT_EQ(getegid(), r[pos[0]].gid);
	EXPECT_EQ(getpid(), r[pos[0]].creator_pid);
	EXPECT_EQ(1U, r[pos[0]].handles);
	EXPECT_EQ(0U, r[pos[0]].mappings);
	EXPECT_EQ(1U, r[pos[0]].nattach);
	EXPECT_STREQ(self->name[0], r[pos[0]].name);
	EXPECT_NE(0ULL, (unsigned long long)r[pos[0]].ctime_ns);
	/* anonymous */
	EXPECT_EQ(2 * self->pg, r[pos[1]].size);
	EXPECT_EQ((uint32_t)SHMR_INFO_ANON, r[pos[1]].flags);
	EXPECT_EQ(0600U, r[pos[1]].mode);
	EXPECT_TRUE(shmr_all_bytes(r[pos[1]].name, sizeof(r[pos[1]].name), 0));
	/* unlinked but alive */
	EXPECT_EQ(3 * self->pg, r[pos[2]].size);
	EXPECT_EQ((uint32_t)SHMR_INFO_UNLINKED, r[pos[2]].flags);
	EXPECT_EQ(0604U, r[pos[2]].mode);
	free(r);
}

TEST_F(list, short_buffer)
{
	struct shmr_region_info *r;
	struct shmr_list l0, l;
	int ret;

	init_list(&l0, NULL, 0);
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_LIST, &l0));
	ASSERT_LE((uint32_t)NREG, l0.total);

	r = list_all(self->ctl, 1, &l, &ret);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, ret);	/* a short buffer is not an error */
	EXPECT_EQ(1U, l.count);
	EXPECT_EQ(l0.total, l.total);
	EXPECT_NE(0ULL, (unsigned long long)r[0].id);
	EXPECT_TRUE(shmr_str_zero_padded(r[0].name, sizeof(r[0].name)));
	/* nothing written past cap */
	EXPECT_TRUE(shmr_all_bytes(&r[1], sizeof(r[1]), 0xA5));
	free(r);

	r = list_all(self->ctl, l0.total - 1, &l, &ret);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(l0.total - 1, l.count);
	EXPECT_EQ(l0.total, l.total);
	EXPECT_TRUE(shmr_all_bytes(&r[l0.total - 1], sizeof(r[0]), 0xA5));
	free(r);
}

TEST_F(list, freed_regions_disappear)
{
	struct shmr_region_info *r;
	struct shmr_list l0, l;
	int ret;

	init_list(&l0, NULL, 0);
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_LIST, &l0));
	/* the unlinked one goes with its last handle, the anonymous one too */
	close(self->fd[2]);
	self->fd[2] = -1;
	close(self->fd[1]);
	self->fd[1] = -1;
	r = list_all(self->ctl, l0.total + 8, &l, &ret);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(l0.total - 2, l.total);
	EXPECT_LE(0, find_id(r, l.count, self->id[0]));
	EXPECT_EQ(-1, find_id(r, l.count, self->id[1]));
	EXPECT_EQ(-1, find_id(r, l.count, self->id[2]));
	free(r);
	/* the named one stays listed while its name is linked, without handles */
	close(self->fd[0]);
	self->fd[0] = -1;
	r = list_all(self->ctl, l0.total + 8, &l, &ret);
	ASSERT_NE(NULL, r);
	ASSERT_EQ(0, ret);
	ASSERT_LE(0, find_id(r, l.count, self->id[0]));
	EXPECT_EQ(0U, r[find_id(r, l.count, self->id[0])].handles);
	EXPECT_EQ(0U, r[find_id(r, l.count, self->id[0])].nattach);
	free(r);
}

TEST_F(list, flags_nonzero)
{
	struct shmr_region_info r[2];
	struct shmr_list l;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		init_list(&l, r, ARRAY_SIZE(r));
		l.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_LIST, &l))
			TH_LOG("bit %d", bit);
	}
	init_list(&l, r, ARRAY_SIZE(r));
	l.flags = ~0U;
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_LIST, &l));
}

TEST_F(list, reserved_nonzero)
{
	struct shmr_region_info r[2];
	struct shmr_list l;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(l.reserved); i++) {
		init_list(&l, r, ARRAY_SIZE(r));
		l.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_LIST, &l))
			TH_LOG("reserved[%u]", i);
		init_list(&l, NULL, 0);
		l.reserved[i] = 1ULL << 63;
		EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_LIST, &l))
			TH_LOG("reserved[%u]", i);
	}
}

TEST_F(list, bad_pointer)
{
	char *buf = shmr_guard_alloc();
	struct shmr_list l;

	ASSERT_NE(NULL, buf);
	init_list(&l, shmr_guard_fault(buf), 4);
	EXPECT_EQ(-EFAULT, shmr_ioctl(self->ctl, SHMR_IOC_LIST, &l));
	init_list(&l, NULL, 4);
	l.regions = 0xffff888000000000ULL;
	EXPECT_EQ(-EFAULT, shmr_ioctl(self->ctl, SHMR_IOC_LIST, &l));
	/* an array whose first entry runs into the unreadable page */
	init_list(&l, (char *)shmr_guard_fault(buf) - sizeof(struct shmr_region_info) / 2, 4);
	EXPECT_EQ(-EFAULT, shmr_ioctl(self->ctl, SHMR_IOC_LIST, &l));
	shmr_guard_free(buf);
}

TEST_HARNESS_MAIN
