// SPDX-License-Identifier: GPL-2.0
/*
 * kmod_region: region lifecycles in the module: close after mmap, unlink
 * while mapped, a fork child keeping its mapping after the parent exits, an
 * anonymous region passed over SCM_RIGHTS, LIST of anonymous and unlinked
 * regions, freed exactly once, Shmem returned, rmmod refused while busy.
 * Every test checks that the module counters are back where they started.
 */
#include "shmr_test.h"
#include <sys/socket.h>
#include <sys/uio.h>

static const char * const kmod_live[] = {
	"regions_live", "handles_live", "mappings_live", "attach_live",
	"bytes_live",
};

struct kmod_counts {
	long long v[5];
};

static void kmod_counts(struct kmod_counts *c)
{
	unsigned int i;

	for (i = 0; i < 5; i++)
		c->v[i] = shmr_counter(kmod_live[i]);
}

/* How many live counters differ from @start (each is reported). */
static int kmod_counts_changed(const struct kmod_counts *start)
{
	struct kmod_counts now;
	unsigned int i;
	int bad = 0;

	kmod_counts(&now);
	for (i = 0; i < 5; i++) {
		if (now.v[i] == start->v[i])
			continue;
		fprintf(stderr, "# counter %s: %lld, was %lld\n", kmod_live[i],
			now.v[i], start->v[i]);
		bad++;
	}
	return bad;
}

#define EXPECT_COUNTS_BACK(start) EXPECT_EQ(0, kmod_counts_changed(start))

static long meminfo_kb(const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = atol(line + n + 1);
			break;
		}
	fclose(f);
	return v;
}

FIXTURE(region) {
	int ctl;
	long pg;
	char name[64];
	struct kmod_counts start;
};

FIXTURE_SETUP(region)
{
	SHMR_REQUIRE_DEVICE();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	self->pg = shmr_page_size();
	shmr_test_name(self->name, sizeof(self->name), "kmod_region");
	kmod_counts(&self->start);
	ASSERT_LE(0, self->start.v[0]);
}

FIXTURE_TEARDOWN(region)
{
	shmr_cleanup();
	close(self->ctl);
}

TEST_F(region, close_after_mmap_keeps_data)
{
	struct shmr_create c;
	struct shmr_region_info info;
	unsigned char *p;
	int fd;

	fd = shmr_create(self->ctl, NULL, 4 * self->pg, 0, 0600, &c);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 4 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	shmr_fill(p, 4 * self->pg, 0x5a);
	ASSERT_EQ(0, close(fd));
	/* the handle is gone, the mapping keeps the region */
	ASSERT_EQ(0, shmr_stat_id(self->ctl, c.id, &info));
	EXPECT_EQ(0U, info.handles);
	EXPECT_EQ(1U, info.mappings);
	EXPECT_EQ(1U, info.nattach);
	EXPECT_EQ(self->start.v[1], shmr_counter("handles_live"));
	EXPECT_TRUE(shmr_all_bytes(p, 4 * self->pg, 0x5a));
	ASSERT_EQ(0, munmap(p, 4 * self->pg));
	EXPECT_EQ(-ENOENT, shmr_stat_id(self->ctl, c.id, &info));
	EXPECT_COUNTS_BACK(&self->start);
}

TEST_F(region, unlink_while_mapped)
{
	struct shmr_create c;
	struct shmr_region_info info;
	long long freed = shmr_counter("regions_freed");
	unsigned char *p;
	int fd;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0600, &c);
	ASSERT_LE(0, fd);
	p = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	close(fd);
	p[0] = 7;
	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name));
	/* the name is gone at once ... */
	EXPECT_EQ(-ENOENT, shmr_open(self->ctl, self->name, 0, NULL));
	EXPECT_EQ(-ENOENT, shmr_unlink(self->ctl, self->name));
	/* ... the region is not */
	ASSERT_EQ(0, shmr_stat_id(self->ctl, c.id, &info));
	EXPECT_TRUE(!!(info.flags & SHMR_INFO_UNLINKED));
	EXPECT_EQ(7, p[0]);
	/* a new region may take the name, and is another region */
	fd = shmr_create(self->ctl, self->name, self->pg, SHMR_CREATE_EXCL,
			 0600, NULL);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name));
	EXPECT_EQ(freed + 1, shmr_counter("regions_freed"));
	ASSERT_EQ(0, munmap(p, self->pg));
	/* freed exactly once, when the mapping went */
	EXPECT_EQ(freed + 2, shmr_counter("regions_freed"));
	EXPECT_EQ(-ENOENT, shmr_stat_id(self->ctl, c.id, &info));
	EXPECT_COUNTS_BACK(&self->start);
}

TEST_F(region, name_alone_keeps_region)
{
	struct shmr_open o;
	unsigned char *p;
	int fd;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	p = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	p[self->pg - 1] = 0x33;
	munmap(p, self->pg);
	close(fd);
	EXPECT_EQ(self->start.v[0] + 1, shmr_counter("regions_live"));
	fd = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, &o);
	ASSERT_LE(0, fd);
	p = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(0x33, p[self->pg - 1]);
	munmap(p, self->pg);
	close(fd);
	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name));
	EXPECT_COUNTS_BACK(&self->start);
}

TEST_F(region, fork_child_keeps_mapping_after_parent_exits)
{
	int res[2], gone[2];
	pid_t mid;
	char r = 0;
	int status;

	ASSERT_EQ(0, pipe(res));
	ASSERT_EQ(0, pipe(gone));
	mid = fork();
	ASSERT_LE(0, mid);
	if (mid == 0) {
		unsigned char *p;
		int fd;

		fd = shmr_create(self->ctl, NULL, 2 * self->pg, 0, 0600, NULL);
		if (fd < 0)
			_exit(1);
		p = mmap(NULL, 2 * self->pg, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			_exit(2);
		close(fd);
		shmr_fill(p, 2 * self->pg, 0x42);
		if (fork() == 0) {
			char ok;

			close(gone[1]);
			/* EOF once the parent (and its write end) is gone */
			if (read(gone[0], &ok, 1) != 0)
				_exit(3);
			ok = shmr_all_bytes(p, 2 * self->pg, 0x42) ? 'y' : 'n';
			p[0] = 1;	/* still writable */
			if (write(res[1], &ok, 1) != 1)
				_exit(4);
			_exit(0);
		}
		_exit(0);
	}
	close(gone[0]);
	close(gone[1]);
	close(res[1]);
	ASSERT_EQ(mid, waitpid(mid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ASSERT_EQ(1, read(res[0], &r, 1));
	EXPECT_EQ('y', r);
	/* the grandchild exits on its own; wait for the region to go */
	shmr_wait_until(shmr_counter("regions_live") == self->start.v[0]);
	EXPECT_COUNTS_BACK(&self->start);
}

TEST_F(region, anonymous_over_scm_rights)
{
	struct shmr_region_info info;
	unsigned char *p;
	int sv[2], fd, status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		unsigned char *q;
		int rfd = shmr_create(self->ctl, NULL, self->pg, 0, 0600, NULL);

		if (rfd < 0)
			_exit(1);
		q = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED,
			 rfd, 0);
		if (q == MAP_FAILED)
			_exit(2);
		shmr_fill(q, self->pg, 0xc3);
		if (shmr_send_fd(sv[1], rfd))
			_exit(3);
		_exit(0);
	}
	close(sv[1]);
	fd = shmr_recv_fd(sv[0]);
	ASSERT_LE(0, fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the sender is gone; the fd alone keeps the region */
	ASSERT_EQ(0, shmr_stat_fd(fd, &info));
	EXPECT_TRUE(!!(info.flags & SHMR_INFO_ANON));
	EXPECT_EQ(0U, info.mappings);
	EXPECT_EQ(1U, info.handles);
	p = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(shmr_all_bytes(p, self->pg, 0xc3));
	munmap(p, self->pg);
	close(fd);
	close(sv[0]);
	EXPECT_COUNTS_BACK(&self->start);
}

TEST_F(region, list_shows_anonymous_and_unlinked)
{
	struct shmr_region_info *v;
	struct shmr_create ca, cn;
	struct shmr_list l;
	int fa, fn, found = 0;
	unsigned int i;

	fa = shmr_create(self->ctl, NULL, self->pg, 0, 0600, &ca);
	ASSERT_LE(0, fa);
	fn = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0640, &cn);
	ASSERT_LE(0, fn);
	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name));
	memset(&l, 0, sizeof(l));
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_LIST, &l));
	ASSERT_LE(2U, l.total);
	EXPECT_EQ(0U, l.count);
	v = calloc(l.total + 8, sizeof(*v));
	ASSERT_NE(NULL, v);
	l.regions = (uintptr_t)v;
	l.cap = l.total + 8;
	ASSERT_EQ(0, shmr_ioctl(self->ctl, SHMR_IOC_LIST, &l));
	EXPECT_EQ(l.total, l.count);
	for (i = 0; i < l.count; i++) {
		if (v[i].id == ca.id) {
			found++;
			EXPECT_TRUE(!!(v[i].flags & SHMR_INFO_ANON));
			EXPECT_EQ(0, v[i].name[0]);
		}
		if (v[i].id == cn.id) {
			found++;
			EXPECT_TRUE(!!(v[i].flags & SHMR_INFO_UNLINKED));
			EXPECT_STREQ(self->name, v[i].name);
			EXPECT_EQ(0640U, v[i].mode);
			EXPECT_EQ(getpid(), v[i].creator_pid);
			EXPECT_EQ(getuid(), v[i].uid);
		}
	}
	EXPECT_EQ(2, found);
	/* creation order: the anonymous one came first */
	for (i = 0; i + 1 < l.count; i++)
		EXPECT_LT(v[i].id, v[i + 1].id);
	free(v);
	close(fa);
	close(fn);
	EXPECT_COUNTS_BACK(&self->start);
}

TEST_F(region, proc_table_lists_region)
{
	char line[512], want[32];
	struct shmr_create c;
	bool header = false, row = false;
	FILE *f;
	int fd;

	fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			 SHMR_CREATE_EXCL, 0600, &c);
	ASSERT_LE(0, fd);
	snprintf(want, sizeof(want), "%llu", (unsigned long long)c.id);
	f = fopen("/proc/shmr", "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (!header) {
			header = strstr(line, "name") != NULL;
			continue;
		}
		if (strstr(line, self->name)) {
			char id[32];

			ASSERT_EQ(1, sscanf(line, "%31s", id));
			row = !strcmp(id, want);
		}
	}
	fclose(f);
	EXPECT_TRUE(header);
	EXPECT_TRUE(row);
	close(fd);
	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name));
	EXPECT_COUNTS_BACK(&self->start);
}

TEST_F(region, shmem_returned)
{
	size_t len = 16 << 20;
	long before, during, after;
	unsigned char *p;
	int fd;

	before = meminfo_kb("Shmem");
	ASSERT_LE(0, before);
	fd = shmr_create(self->ctl, NULL, len, 0, 0600, NULL);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	shmr_fill(p, len, 1);
	during = meminfo_kb("Shmem");
	EXPECT_LE(before + (long)(len >> 10) - 256, during);
	munmap(p, len);
	close(fd);
	after = meminfo_kb("Shmem");
	/* within 256 kB: other tmpfs users come and go meanwhile */
	EXPECT_LE((long)(len >> 10) - 256, during - after);
	EXPECT_GE(before + 256, after) TH_LOG("Shmem %ld kB -> %ld -> %ld",
					     before, during, after);
	EXPECT_COUNTS_BACK(&self->start);
}

TEST_F(region, rmmod_refused_while_busy)
{
	int fd, ret;

	fd = shmr_create(self->ctl, NULL, self->pg, 0, 0600, NULL);
	ASSERT_LE(0, fd);
	/* the runner unloads the module at the very end; here it is busy */
	ret = syscall(SYS_delete_module, "shmr", O_NONBLOCK);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EWOULDBLOCK, errno);
	close(fd);
	ret = syscall(SYS_delete_module, "shmr", O_NONBLOCK);
	EXPECT_EQ(-1, ret);	/* our control fd still pins it */
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_EQ(0, access(SHMR_DEVICE_PATH, F_OK));
	EXPECT_COUNTS_BACK(&self->start);
}

TEST_HARNESS_MAIN
