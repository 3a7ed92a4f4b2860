// SPDX-License-Identifier: GPL-2.0
/*
 * SHMR_IOC_CREATE: the positive paths once, then one refusal per validation
 * branch with everything else valid (flags, reserved, size, mode, name,
 * anonymous + EXCL/PROCESS, EXCL on an existing name, create-or-open with a
 * larger size), and the fd flags of the returned handle.
 */
#include "shmr_test.h"

FIXTURE(create) {
	int ctl;
	uint64_t pg;
	struct shmr_features feat;
	char name[128];
};

FIXTURE_SETUP(create)
{
	SHMR_REQUIRE_DEVICE();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	self->pg = (uint64_t)shmr_page_size();
	ASSERT_EQ(0, shmr_features(self->ctl, &self->feat));
	shmr_test_name(self->name, sizeof(self->name), "abi_create");
}

FIXTURE_TEARDOWN(create)
{
	shmr_cleanup();
	close(self->ctl);
}

/*
 * Issue a CREATE that is expected to fail: returns its result, closing the
 * fd (and unlinking the name) if it unexpectedly succeeded.
 */
static int create_raw(int ctl, struct shmr_create *c)
{
	int ret = shmr_ioctl(ctl, SHMR_IOC_CREATE, c);

	if (ret == 0) {
		close(c->fd);
		if (c->name)
			shmr_unlink(ctl, (const char *)(uintptr_t)c->name);
	}
	return ret;
}

static void init_create(struct shmr_create *c, const char *name, uint64_t size)
{
	memset(c, 0, sizeof(*c));
	c->name = (uintptr_t)name;
	c->size = size;
	c->mode = 0600;
}

/* The refused CREATE of name must not have left the name behind. */
static bool name_absent(int ctl, const char *name)
{
	return shmr_open(ctl, name, 0, NULL) == -ENOENT;
}

TEST_F(create, named)
{
	struct shmr_region_info info;
	struct shmr_create c;
	int fd;

	init_create(&c, shmr_track(self->name), 1);
	c.mode = 0640;
	/* out-only fields pre-filled with garbage: must be overwritten */
	c.fd = (int)0xA5A5A5A5;
	c.result = 0xA5A5A5A5;
	c.id = 0xA5A5A5A5A5A5A5A5ULL;
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_CREATE, &c));
	fd = c.fd;
	ASSERT_LE(0, fd);
	EXPECT_EQ((uint32_t)SHMR_RESULT_CREATED, c.result);
	EXPECT_EQ(self->pg, c.size);
	EXPECT_NE(0ULL, (unsigned long long)c.id);
	EXPECT_NE(0xA5A5A5A5A5A5A5A5ULL, (unsigned long long)c.id);
	EXPECT_EQ((__u64)(uintptr_t)self->name, c.name);
	EXPECT_EQ(0U, c.flags);
	EXPECT_EQ(0640U, c.mode);
	EXPECT_TRUE(shmr_all_bytes(c.reserved, sizeof(c.reserved), 0));

	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_EQ(c.id, info.id);
	EXPECT_EQ(self->pg, info.size);
	EXPECT_EQ(0640U, info.mode);
	EXPECT_EQ(0U, info.flags);
	EXPECT_STREQ(self->name, info.name);
	EXPECT_EQ(0, close(fd));
	EXPECT_EQ(0, shmr_unlink(self->ctl, self->name));
}

TEST_F(create, anonymous)
{
	struct shmr_region_info info;
	struct shmr_create c;
	int fd, fd2;

	init_create(&c, NULL, 3 * self->pg);
	c.fd = -1;
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_CREATE, &c));
	fd = c.fd;
	ASSERT_LE(0, fd);
	EXPECT_EQ((uint32_t)SHMR_RESULT_CREATED, c.result);
	EXPECT_EQ(3 * self->pg, c.size);
	EXPECT_NE(0ULL, (unsigned long long)c.id);
	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_EQ((uint32_t)SHMR_INFO_ANON, info.flags & SHMR_INFO_ANON);
	EXPECT_TRUE(shmr_all_bytes(info.name, sizeof(info.name), 0));

	/* a second anonymous region is a different region */
	fd2 = shmr_create(self->ctl, NULL, self->pg, 0, 0600, &c);
	ASSERT_LE(0, fd2);
	EXPECT_NE(info.id, c.id);
	close(fd2);
	close(fd);
}

TEST_F(create, size_rounded_to_pages)
{
	static const struct { uint64_t in_pages, in_extra, out_pages; } cases[] = {
		{ 0, 1, 1 }, { 1, 0, 1 }, { 1, 1, 2 }, { 16, 0, 16 }, { 16, 100, 17 },
	};
	struct shmr_create c;
	unsigned int i;
	int fd;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t size = cases[i].in_pages * self->pg + cases[i].in_extra;

		fd = shmr_create(self->ctl, NULL, size, 0, 0600, &c);
		ASSERT_LE(0, fd) TH_LOG("size %llu", (unsigned long long)size);
		EXPECT_EQ(cases[i].out_pages * self->pg, c.size)
			TH_LOG("size %llu", (unsigned long long)size);
		close(fd);
	}
}

TEST_F(create, flags_unknown_bits)
{
	struct shmr_create c;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		if (SHMR_CREATE_ALL & (1U << bit))
			continue;	/* HUGE where unsupported: kmod_huge's */
		init_create(&c, self->name, self->pg);
		c.flags = 1U << bit;
		EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c)) TH_LOG("bit %d", bit);
	}
	init_create(&c, self->name, self->pg);
	c.flags = ~0U;
	EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c));
	init_create(&c, self->name, self->pg);
	c.flags = ~(uint32_t)SHMR_CREATE_ALL;
	EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c));
	/* also on the anonymous path */
	init_create(&c, NULL, self->pg);
	c.flags = 1U << 31;
	EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c));
	EXPECT_TRUE(name_absent(self->ctl, self->name));
}

TEST_F(create, reserved_nonzero)
{
	struct shmr_create c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c.reserved); i++) {
		init_create(&c, self->name, self->pg);
		c.reserved[i] = 1;
		EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c)) TH_LOG("reserved[%u]", i);
		init_create(&c, self->name, self->pg);
		c.reserved[i] = 1ULL << 63;
		EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c)) TH_LOG("reserved[%u]", i);
		init_create(&c, NULL, self->pg);
		c.reserved[i] = ~0ULL;
		EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c)) TH_LOG("reserved[%u]", i);
	}
	EXPECT_TRUE(name_absent(self->ctl, self->name));
}

TEST_F(create, size_zero)
{
	struct shmr_create c;

	init_create(&c, self->name, 0);
	EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c));
	init_create(&c, NULL, 0);
	EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c));
	EXPECT_TRUE(name_absent(self->ctl, self->name));
}

TEST_F(create, size_over_max)
{
	uint64_t max = self->feat.max_region_size;
	struct shmr_create c;

	/* over the module's limit: -EFBIG, as for a file grown past s_maxbytes */
	ASSERT_NE(0ULL, (unsigned long long)max);
	init_create(&c, self->name, max + 1);
	EXPECT_EQ(-EFBIG, create_raw(self->ctl, &c));
	init_create(&c, self->name, max + self->pg);
	EXPECT_EQ(-EFBIG, create_raw(self->ctl, &c));
	init_create(&c, NULL, max * 2);
	EXPECT_EQ(-EFBIG, create_raw(self->ctl, &c));
	EXPECT_TRUE(name_absent(self->ctl, self->name));
}

TEST_F(create, size_overflowing)
{
	const uint64_t sizes[] = {
		~0ULL,				/* rounds to 0 */
		~0ULL - self->pg + 2,		/* page rounding overflows */
		~0ULL - 2 * 1024 * 1024 + 2,	/* 2 MiB rounding overflows */
		1ULL << 63,
		(1ULL << 63) + 1,
		1ULL << 52,			/* pages do not fit in 32 bits */
	};
	struct shmr_create c;
	unsigned int i;

	/*
	 * Sizes whose rounding would wrap are over any limit: -EFBIG, not a
	 * small region made of the wrapped size.
	 */
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		ASSERT_LT(self->feat.max_region_size, sizes[i]);
		init_create(&c, self->name, sizes[i]);
		EXPECT_EQ(-EFBIG, create_raw(self->ctl, &c))
			TH_LOG("size %#llx", (unsigned long long)sizes[i]);
		init_create(&c, NULL, sizes[i]);
		EXPECT_EQ(-EFBIG, create_raw(self->ctl, &c))
			TH_LOG("anonymous, size %#llx", (unsigned long long)sizes[i]);
	}
	/* and with the huge flag, whose rounding is coarser */
	init_create(&c, NULL, ~0ULL - 2 * 1024 * 1024 + 2);
	c.flags = SHMR_CREATE_HUGE;
	EXPECT_EQ(self->feat.create_flags & SHMR_CREATE_HUGE ? -EFBIG : -EOPNOTSUPP,
		  create_raw(self->ctl, &c));
	EXPECT_TRUE(name_absent(self->ctl, self->name));
}

TEST_F(create, mode_bits_outside_0777)
{
	const uint32_t modes[] = {
		01000, 02000, 04000, 07777, 010000, 0100644, 1U << 31, ~0U,
	};
	struct shmr_create c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		init_create(&c, self->name, self->pg);
		c.mode = modes[i];
		EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c)) TH_LOG("mode %#o", modes[i]);
		init_create(&c, NULL, self->pg);
		c.mode = modes[i];
		EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c))
			TH_LOG("anonymous, mode %#o", modes[i]);
	}
	EXPECT_TRUE(name_absent(self->ctl, self->name));
}

TEST_F(create, mode_exact_no_umask)
{
	const uint32_t modes[] = { 0, 0400, 0644, 0777 };
	struct shmr_region_info info;
	unsigned int i;
	char name[128];
	int fd;

	umask(077);
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		shmr_test_name(name, sizeof(name), "abi_create");
		fd = shmr_create(self->ctl, shmr_track(name), self->pg, 0,
				 modes[i], NULL);
		ASSERT_LE(0, fd) TH_LOG("mode %#o", modes[i]);
		ASSERT_EQ(0, shmr_stat_fd(fd, &info));
		EXPECT_EQ(modes[i], info.mode);
		close(fd);
		EXPECT_EQ(0, shmr_unlink(self->ctl, name));
	}
}

TEST_F(create, anonymous_excl)
{
	struct shmr_create c;

	init_create(&c, NULL, self->pg);
	c.flags = SHMR_CREATE_EXCL;
	EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c));
}

TEST_F(create, anonymous_process)
{
	struct shmr_create c;

	init_create(&c, NULL, self->pg);
	c.flags = SHMR_CREATE_PROCESS;
	EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c));
	init_create(&c, NULL, self->pg);
	c.flags = SHMR_CREATE_PROCESS | SHMR_CREATE_EXCL;
	EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c));
}

TEST_F(create, name_empty)
{
	struct shmr_create c;

	init_create(&c, "", self->pg);
	EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c));
	init_create(&c, "", self->pg);
	c.flags = SHMR_CREATE_EXCL;
	EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c));
}

TEST_F(create, name_max_length)
{
	char name[SHMR_NAME_MAX + 1];
	struct shmr_region_info info;
	int fd;

	memset(name, 'm', SHMR_NAME_MAX);
	name[SHMR_NAME_MAX] = 0;
	snprintf(name, 32, "abi_create.%d", (int)getpid());
	name[strlen(name)] = 'm';
	fd = shmr_create(self->ctl, shmr_track(name), self->pg,
			 SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_EQ(SHMR_NAME_MAX, (int)strlen(info.name));
	EXPECT_STREQ(name, info.name);
	close(fd);
	/* OPEN and UNLINK take the longest name too */
	fd = shmr_open(self->ctl, name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(0, shmr_unlink(self->ctl, name));
	EXPECT_EQ(-ENOENT, shmr_open(self->ctl, name, 0, NULL));
}

TEST_F(create, name_ends_at_unreadable_page)
{
	char *buf = shmr_guard_alloc();
	char *name, *end;
	int fd, len;

	ASSERT_NE(NULL, buf);
	end = shmr_guard_fault(buf);
	/* short and longest names whose NUL is the last readable byte */
	for (len = (int)strlen(self->name); len <= SHMR_NAME_MAX;
	     len += SHMR_NAME_MAX - (int)strlen(self->name)) {
		name = end - len - 1;
		memset(name, 'e', len);
		memcpy(name, self->name, strlen(self->name));
		name[len] = 0;
		fd = shmr_create(self->ctl, shmr_track(name), self->pg,
				 SHMR_CREATE_EXCL, 0600, NULL);
		ASSERT_LE(0, fd) TH_LOG("length %d", len);
		close(fd);
		fd = shmr_open(self->ctl, name, 0, NULL);
		ASSERT_LE(0, fd) TH_LOG("length %d", len);
		close(fd);
		EXPECT_EQ(0, shmr_unlink(self->ctl, name)) TH_LOG("length %d", len);
	}
	shmr_guard_free(buf);
}

TEST_F(create, name_too_long)
{
	static char name[8192];
	struct shmr_create c;

	memset(name, 'x', SHMR_NAME_MAX + 1);
	name[SHMR_NAME_MAX + 1] = 0;
	init_create(&c, name, self->pg);
	EXPECT_EQ(-ENAMETOOLONG, create_raw(self->ctl, &c));

	memset(name, 'y', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	init_create(&c, name, self->pg);
	EXPECT_EQ(-ENAMETOOLONG, create_raw(self->ctl, &c));
}

TEST_F(create, name_unterminated)
{
	char *buf = shmr_guard_alloc();
	char *name;
	struct shmr_create c;

	ASSERT_NE(NULL, buf);
	/* ten bytes, no NUL, then an unreadable page */
	name = (char *)shmr_guard_fault(buf) - 10;
	memset(name, 'u', 10);
	init_create(&c, name, self->pg);
	EXPECT_EQ(-EFAULT, create_raw(self->ctl, &c));
	shmr_guard_free(buf);
}

TEST_F(create, name_with_slash)
{
	const char *names[] = { "/", "/abi_create", "abi_create/", "abi/create", "a//b" };
	struct shmr_create c;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		init_create(&c, names[i], self->pg);
		EXPECT_EQ(-EINVAL, create_raw(self->ctl, &c)) TH_LOG("name \"%s\"", names[i]);
	}
}

TEST_F(create, name_bad_pointer)
{
	char *buf = shmr_guard_alloc();
	struct shmr_create c;

	ASSERT_NE(NULL, buf);
	init_create(&c, NULL, self->pg);
	c.name = 1;
	EXPECT_EQ(-EFAULT, create_raw(self->ctl, &c));
	init_create(&c, NULL, self->pg);
	c.name = (uintptr_t)shmr_guard_fault(buf);
	EXPECT_EQ(-EFAULT, create_raw(self->ctl, &c));
	init_create(&c, NULL, self->pg);
	c.name = 0xffff888000000000ULL;	/* kernel address */
	EXPECT_EQ(-EFAULT, create_raw(self->ctl, &c));
	init_create(&c, NULL, self->pg);
	c.name = ~0ULL;
	EXPECT_EQ(-EFAULT, create_raw(self->ctl, &c));
	shmr_guard_free(buf);
}

TEST_F(create, excl_existing)
{
	struct shmr_region_info info;
	struct shmr_create c;
	int fd;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0600, &c);
	ASSERT_LE(0, fd);
	EXPECT_EQ((uint32_t)SHMR_RESULT_CREATED, c.result);
	init_create(&c, self->name, self->pg);
	c.flags = SHMR_CREATE_EXCL;
	EXPECT_EQ(-EEXIST, create_raw(self->ctl, &c));
	/* even with a different size and mode */
	init_create(&c, self->name, 4 * self->pg);
	c.flags = SHMR_CREATE_EXCL;
	c.mode = 0644;
	EXPECT_EQ(-EEXIST, create_raw(self->ctl, &c));
	/* the existing region is untouched (create_raw unlinked nothing) */
	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_EQ(self->pg, info.size);
	EXPECT_EQ(0600U, info.mode);
	EXPECT_EQ(0U, info.flags & SHMR_INFO_UNLINKED);
	close(fd);
}

TEST_F(create, create_or_open_existing)
{
	struct shmr_create c, c2;
	int fd, fd2;

	fd = shmr_create(self->ctl, shmr_track(self->name), 2 * self->pg, 0,
			 0600, &c);
	ASSERT_LE(0, fd);
	EXPECT_EQ((uint32_t)SHMR_RESULT_CREATED, c.result);

	/* same size: opens the existing region */
	memset(&c2, 0xA5, sizeof(c2));
	fd2 = shmr_create(self->ctl, self->name, 2 * self->pg, 0, 0644, &c2);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0U, c2.result);
	EXPECT_EQ(c.id, c2.id);
	EXPECT_EQ(2 * self->pg, c2.size);
	close(fd2);

	/* smaller size: opens it too and reports the real size */
	fd2 = shmr_create(self->ctl, self->name, 1, 0, 0600, &c2);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0U, c2.result);
	EXPECT_EQ(c.id, c2.id);
	EXPECT_EQ(2 * self->pg, c2.size);
	close(fd2);
	close(fd);
}

TEST_F(create, create_or_open_larger)
{
	struct shmr_region_info info;
	struct shmr_create c;
	int fd;

	fd = shmr_create(self->ctl, shmr_track(self->name), 2 * self->pg, 0,
			 0600, NULL);
	ASSERT_LE(0, fd);
	init_create(&c, self->name, 2 * self->pg + 1);
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_CREATE, &c));
	init_create(&c, self->name, 3 * self->pg);
	EXPECT_EQ(-EINVAL, shmr_ioctl(self->ctl, SHMR_IOC_CREATE, &c));
	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_EQ(2 * self->pg, info.size);
	EXPECT_EQ(0U, info.flags & SHMR_INFO_UNLINKED);
	close(fd);
}

TEST_F(create, fd_flags)
{
	char name2[128];
	int fd, fl;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg, 0, 0600, NULL);
	ASSERT_LE(0, fd);
	fl = fcntl(fd, F_GETFD);
	EXPECT_EQ(FD_CLOEXEC, fl & FD_CLOEXEC);
	fl = fcntl(fd, F_GETFL);
	ASSERT_LE(0, fl);
	EXPECT_EQ(O_RDWR, fl & O_ACCMODE);
	close(fd);

	shmr_test_name(name2, sizeof(name2), "abi_create");
	fd = shmr_create(self->ctl, shmr_track(name2), self->pg,
			 SHMR_CREATE_NOCLOEXEC, 0600, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);

	fd = shmr_create(self->ctl, NULL, self->pg, 0, 0600, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(fd, F_GETFL) & O_ACCMODE);
	close(fd);
	fd = shmr_create(self->ctl, NULL, self->pg, SHMR_CREATE_NOCLOEXEC, 0600, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);

	/* create-or-open of an existing name honours NOCLOEXEC too */
	fd = shmr_create(self->ctl, self->name, self->pg, SHMR_CREATE_NOCLOEXEC,
			 0600, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

TEST_HARNESS_MAIN
