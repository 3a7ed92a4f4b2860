// SPDX-License-Identifier: GPL-2.0
/*
 * review_shmem: a region mapping behaves like a memfd (shmem) mapping
 * (issue 14, item 4):
 *  - /proc/PID/maps names it "/shmr:NAME (deleted)" (a memfd shows
 *    "/memfd:NAME (deleted)"), an anonymous region "/shmr (deleted)";
 *  - NUMA policy set with mbind() is the region's shared policy, as on
 *    shmem: another mapping of the region reports it (get_mempolicy()), and
 *    pages faulted in land on the bound node (needs two nodes, which
 *    tests/run/shmr-vm gives the VM; skipped on a single-node machine);
 *  - madvise() gives what it gives on a memfd mapping: MADV_REMOVE punches
 *    a hole through a writable mapping, is refused on a read-only one
 *    (EACCES) and once the region is sealed (EPERM, as F_SEAL_FUTURE_WRITE
 *    on a memfd); MADV_DONTNEED keeps the data; the other advice return as
 *    on a memfd;
 *  - io_uring accepts a region mapping as a fixed buffer exactly when it
 *    accepts a SysV shm mapping (6.1's io_uring takes file mappings only
 *    when their vm_ops are shmem's own: it refuses both; later kernels
 *    leave the check to GUP and take both), and then I/O lands in it;
 *  - userfaultfd: from 7.2 the kernel takes any VMA whose vm_ops have
 *    uffd_ops, as shmem's do: a region mapping registers and a missing
 *    page is filled with UFFDIO_COPY, as on a memfd; before 7.2 only
 *    shmem's own vm_ops qualify and it is refused as a SysV shm mapping is;
 *  - GUP (process_vm_writev()) writes into it;
 *  - a mapping alone pins the module.
 */
#include "shmr_test.h"
#include <dirent.h>
#include <liburing.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <poll.h>
#include <pthread.h>
#include <linux/mempolicy.h>
#include <linux/userfaultfd.h>

#define NODE_BITS	1024

FIXTURE(shmem) {
	int ctl;
	long pg;
	char name[96];
};

FIXTURE_SETUP(shmem)
{
	SHMR_REQUIRE_DEVICE();
	self->pg = shmr_page_size();
	self->ctl = shmr_ctl_open();
	ASSERT_LE(0, self->ctl);
	shmr_test_name(self->name, sizeof(self->name), "review_shmem");
}

FIXTURE_TEARDOWN(shmem)
{
	shmr_cleanup();
	close(self->ctl);
}

/*
 * The path column of the /proc/self/maps line that starts at @addr, into
 * @buf ("" for none); false if there is no such line.
 */
static bool maps_path(void *addr, char *buf, size_t len)
{
	char line[1024], want[32];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return false;
	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	while (fgets(line, sizeof(line), f)) {
		char *s = line;
		int field;

		if (strncmp(line, want, strlen(want)))
			continue;
		/* address perms offset dev inode path */
		for (field = 0; field < 5 && s; field++) {
			s = strchr(s, ' ');
			while (s && *s == ' ')
				s++;
		}
		snprintf(buf, len, "%s", s ? s : "");
		buf[strcspn(buf, "\n")] = 0;
		found = true;
		break;
	}
	fclose(f);
	return found;
}

static void check_maps_name(struct __test_metadata *_metadata, int fd,
			    long len, const char *want)
{
	char path[512];
	void *p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_TRUE(maps_path(p, path, sizeof(path)));
	EXPECT_STREQ(want, path);
	/* the handle closed, the mapping still names the region */
	close(fd);
	ASSERT_TRUE(maps_path(p, path, sizeof(path)));
	EXPECT_STREQ(want, path);
	munmap(p, len);
}

TEST_F(shmem, maps_names_memfd_like)
{
	char path[512];
	int mfd = memfd_create("review_shmem", MFD_CLOEXEC);
	void *m;

	/* the format this follows */
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, self->pg));
	m = mmap(NULL, self->pg, PROT_READ, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_TRUE(maps_path(m, path, sizeof(path)));
	EXPECT_STREQ("/memfd:review_shmem (deleted)", path);
	munmap(m, self->pg);
	close(mfd);
}

TEST_F(shmem, maps_names_region)
{
	char want[512];
	int fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			     SHMR_CREATE_EXCL, 0600, NULL);

	ASSERT_LE(0, fd);
	snprintf(want, sizeof(want), "/shmr:%s (deleted)", self->name);
	check_maps_name(_metadata, fd, self->pg, want);
}

TEST_F(shmem, maps_names_longest_name)
{
	char name[SHMR_NAME_MAX + 1], want[512];
	int fd;

	memset(name, 'n', SHMR_NAME_MAX);
	name[SHMR_NAME_MAX] = 0;
	snprintf(name, 32, "long.%d.", (int)getpid());
	name[strlen(name)] = 'n';
	fd = shmr_create(self->ctl, shmr_track(name), self->pg,
			 SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	snprintf(want, sizeof(want), "/shmr:%s (deleted)", name);
	check_maps_name(_metadata, fd, self->pg, want);
}

/* Opened by another handle, unlinked: the mapping keeps the name. */
TEST_F(shmem, maps_names_opened_and_unlinked)
{
	char want[512];
	int fd = shmr_create(self->ctl, shmr_track(self->name), self->pg,
			     SHMR_CREATE_EXCL, 0600, NULL);
	int rfd;

	ASSERT_LE(0, fd);
	rfd = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, rfd);
	ASSERT_EQ(0, shmr_unlink(self->ctl, self->name));
	close(fd);
	snprintf(want, sizeof(want), "/shmr:%s (deleted)", self->name);
	check_maps_name(_metadata, rfd, self->pg, want);
}

TEST_F(shmem, maps_names_anonymous_region)
{
	int fd = shmr_create(self->ctl, NULL, self->pg, 0, 0600, NULL);

	ASSERT_LE(0, fd);
	check_maps_name(_metadata, fd, self->pg, "/shmr (deleted)");
}

/* ---- NUMA policy ---------------------------------------------------------- */

static long sys_mbind(void *addr, unsigned long len, int mode,
		      const unsigned long *mask, unsigned long maxnode)
{
	return syscall(SYS_mbind, addr, len, mode, mask, maxnode, 0);
}

static long sys_get_mempolicy(int *mode, unsigned long *mask,
			      unsigned long maxnode, void *addr, int flags)
{
	return syscall(SYS_get_mempolicy, mode, mask, maxnode, addr, flags);
}

struct policy {
	int mode;
	unsigned long mask[NODE_BITS / (8 * sizeof(unsigned long))];
};

/* The policy get_mempolicy() reports at @addr; -errno on failure. */
static int policy_at(void *addr, struct policy *pol)
{
	memset(pol, 0, sizeof(*pol));
	if (sys_get_mempolicy(&pol->mode, pol->mask, NODE_BITS, addr,
			      MPOL_F_ADDR))
		return -errno;
	return 0;
}

/* The node of the page at @addr (faulted in); -errno on failure. */
static int node_of(void *addr)
{
	int node;

	if (sys_get_mempolicy(&node, NULL, 0, addr, MPOL_F_NODE | MPOL_F_ADDR))
		return -errno;
	return node;
}

/*
 * mbind(MPOL_BIND, node 0) on one mapping of fd's object: a second mapping
 * of the same object reports the same policy at the same offset (shmem keeps
 * it per file, not per VMA). Returns the policy the second mapping saw.
 */
static void policy_through_second_mapping(struct __test_metadata *_metadata,
					  int fd, long len, struct policy *seen)
{
	unsigned long mask[NODE_BITS / (8 * sizeof(unsigned long))] = { 1 };
	char *p, *q;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	ASSERT_EQ(0, sys_mbind(p + len / 2, len / 2, MPOL_BIND, mask,
			       NODE_BITS + 1)) TH_LOG("mbind: %s", strerror(errno));
	/* the mapping bound says so itself */
	ASSERT_EQ(0, policy_at(p + len / 2, seen));
	EXPECT_EQ(MPOL_BIND, seen->mode);
	EXPECT_EQ(1UL, seen->mask[0]);
	/* before the bound range: no policy */
	ASSERT_EQ(0, policy_at(q, seen));
	EXPECT_EQ(MPOL_DEFAULT, seen->mode);
	ASSERT_EQ(0, policy_at(q + len / 2, seen));
	munmap(q, len);
	munmap(p, len);
}

TEST_F(shmem, mbind_is_the_shared_policy)
{
	struct policy mem, reg;
	long len = 8 * self->pg;
	int mfd = memfd_create("review_shmem", MFD_CLOEXEC);
	int fd;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, len));
	policy_through_second_mapping(_metadata, mfd, len, &mem);
	EXPECT_EQ(MPOL_BIND, mem.mode) TH_LOG("memfd: shared policy");
	EXPECT_EQ(1UL, mem.mask[0]);
	close(mfd);

	fd = shmr_create(self->ctl, shmr_track(self->name), len,
			 SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	policy_through_second_mapping(_metadata, fd, len, &reg);
	EXPECT_EQ(mem.mode, reg.mode) TH_LOG("region: shared policy");
	EXPECT_EQ(mem.mask[0], reg.mask[0]);
	close(fd);
}

static int count_nodes(void)
{
	DIR *d = opendir("/sys/devices/system/node");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 1;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "node", 4) &&
		    e->d_name[4] >= '0' && e->d_name[4] <= '9')
			n++;
	closedir(d);
	return n ? n : 1;
}

/*
 * Map fd's object afresh, bind it to @node (unless @node < 0), touch every
 * page, and return the node most pages landed on, with their count in
 * *@count.
 */
static int place_pages(int fd, long pg, int npages, int node, int *count)
{
	unsigned long mask[NODE_BITS / (8 * sizeof(unsigned long))] = { 0 };
	int i, n, cnt[NODE_BITS] = { 0 }, best = -1;
	char *p;

	p = mmap(NULL, npages * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	if (node >= 0) {
		mask[node / (8 * sizeof(unsigned long))] |=
			1UL << (node % (8 * sizeof(unsigned long)));
		if (sys_mbind(p, npages * pg, MPOL_BIND, mask, NODE_BITS + 1)) {
			n = -errno;
			munmap(p, npages * pg);
			return n;
		}
	}
	for (i = 0; i < npages; i++)
		p[i * pg] = 1;
	for (i = 0; i < npages; i++) {
		n = node_of(p + i * pg);
		if (n >= 0 && n < NODE_BITS && ++cnt[n] > (best < 0 ? 0 : cnt[best]))
			best = n;
	}
	munmap(p, npages * pg);
	*count = best < 0 ? 0 : cnt[best];
	return best;
}

/* A fresh memfd of @len bytes. */
static int memfd_of(long len)
{
	int mfd = memfd_create("review_shmem", MFD_CLOEXEC);

	if (mfd >= 0 && ftruncate(mfd, len)) {
		close(mfd);
		return -1;
	}
	return mfd;
}

TEST_F(shmem, mbind_places_pages)
{
	int nodes = count_nodes(), npages = 32, dflt, node, got, n, mfd, fd;
	long len = npages * self->pg;

	if (nodes < 2)
		SKIP(return, "one NUMA node (tests/run/shmr-vm gives the VM two)");
	/* where pages go unbound; bind to another node */
	mfd = memfd_of(len);
	ASSERT_LE(0, mfd);
	dflt = place_pages(mfd, self->pg, npages, -1, &n);
	close(mfd);
	ASSERT_LE(0, dflt);
	node = (dflt + 1) % nodes;
	TH_LOG("unbound pages land on node %d (%d of %d); binding to node %d",
	       dflt, n, npages, node);

	mfd = memfd_of(len);
	ASSERT_LE(0, mfd);
	got = place_pages(mfd, self->pg, npages, node, &n);
	EXPECT_EQ(node, got) TH_LOG("memfd");
	EXPECT_EQ(npages, n) TH_LOG("memfd: pages on node %d", got);
	close(mfd);

	fd = shmr_create(self->ctl, shmr_track(self->name), len,
			 SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	got = place_pages(fd, self->pg, npages, node, &n);
	EXPECT_EQ(node, got) TH_LOG("region");
	EXPECT_EQ(npages, n) TH_LOG("region: pages on node %d", got);
	close(fd);
}

/* ---- madvise -------------------------------------------------------------- */

static int madv_err(void *p, size_t len, int advice)
{
	return madvise(p, len, advice) ? errno : 0;
}

/*
 * MADV_REMOVE through a writable mapping of fd's object: a hole where the
 * data was, seen through another mapping; the rest kept.
 */
static void remove_punches(struct __test_metadata *_metadata, int fd,
			   long pg, int *err)
{
	char *p, *q;

	p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	q = mmap(NULL, 4 * pg, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	memset(p, 0x77, 4 * pg);
	*err = madv_err(p + pg, 2 * pg, MADV_REMOVE);
	if (!*err) {
		EXPECT_TRUE(shmr_all_bytes(q + pg, 2 * pg, 0));
		EXPECT_TRUE(shmr_all_bytes(p + pg, 2 * pg, 0));
	} else {
		EXPECT_TRUE(shmr_all_bytes(q + pg, 2 * pg, 0x77));
	}
	EXPECT_TRUE(shmr_all_bytes(q, pg, 0x77));
	EXPECT_TRUE(shmr_all_bytes(q + 3 * pg, pg, 0x77));
	munmap(q, 4 * pg);
	munmap(p, 4 * pg);
}

TEST_F(shmem, madv_remove_writable)
{
	int mfd = memfd_create("review_shmem", MFD_CLOEXEC), fd, want, got;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, 4 * self->pg));
	remove_punches(_metadata, mfd, self->pg, &want);
	EXPECT_EQ(0, want) TH_LOG("memfd MADV_REMOVE");
	close(mfd);

	fd = shmr_create(self->ctl, shmr_track(self->name), 4 * self->pg,
			 SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	remove_punches(_metadata, fd, self->pg, &got);
	EXPECT_EQ(want, got) TH_LOG("region MADV_REMOVE: %s", strerror(got));
	close(fd);
}

TEST_F(shmem, madv_remove_read_only_refused)
{
	int fd = shmr_create(self->ctl, shmr_track(self->name), 4 * self->pg,
			     SHMR_CREATE_EXCL, 0600, NULL);
	int rfd;
	char *w, *r;

	ASSERT_LE(0, fd);
	w = mmap(NULL, 4 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, w);
	memset(w, 0x66, 4 * self->pg);
	rfd = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, rfd);
	r = mmap(NULL, 4 * self->pg, PROT_READ, MAP_SHARED, rfd, 0);
	ASSERT_NE(MAP_FAILED, r);
	close(rfd);
	EXPECT_EQ(EACCES, madv_err(r, 4 * self->pg, MADV_REMOVE));
	EXPECT_TRUE(shmr_all_bytes(w, 4 * self->pg, 0x66));
	munmap(r, 4 * self->pg);
	munmap(w, 4 * self->pg);
	close(fd);
}

/* A writable mapping made before SEAL keeps writing, but punches no hole. */
TEST_F(shmem, madv_remove_sealed_refused)
{
	struct shmr_seal s = { .seals = SHMR_SEAL_WRITE };
	int mfd = memfd_create("review_shmem", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	int fd;
	char *m, *p;

	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, 2 * self->pg));
	m = mmap(NULL, 2 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, m);
	memset(m, 0x55, 2 * self->pg);
	ASSERT_EQ(0, fcntl(mfd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE));
	EXPECT_EQ(EPERM, madv_err(m, self->pg, MADV_REMOVE)) TH_LOG("memfd");
	munmap(m, 2 * self->pg);
	close(mfd);

	fd = shmr_create(self->ctl, shmr_track(self->name), 2 * self->pg,
			 SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 2 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x55, 2 * self->pg);
	ASSERT_EQ(0, shmr_ioctl(fd, SHMR_IOC_SEAL, &s));
	EXPECT_EQ(EPERM, madv_err(p, self->pg, MADV_REMOVE)) TH_LOG("region");
	EXPECT_TRUE(shmr_all_bytes(p, 2 * self->pg, 0x55));
	p[0] = 1;	/* the old mapping still writes */
	EXPECT_EQ(1, p[0]);
	munmap(p, 2 * self->pg);
	close(fd);
}

TEST_F(shmem, madv_dontneed_keeps_data)
{
	int fd = shmr_create(self->ctl, shmr_track(self->name), 4 * self->pg,
			     SHMR_CREATE_EXCL, 0600, NULL);
	char *p;

	ASSERT_LE(0, fd);
	p = mmap(NULL, 4 * self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	memset(p, 0x44, 4 * self->pg);
	EXPECT_EQ(0, madv_err(p, 4 * self->pg, MADV_DONTNEED));
	EXPECT_TRUE(shmr_all_bytes(p, 4 * self->pg, 0x44));
	munmap(p, 4 * self->pg);
	close(fd);
}

/* Every other advice: the result a memfd mapping with the same rights gets. */
static void advice_like_memfd(struct __test_metadata *_metadata, int fd,
			      int mfd, long len, int prot)
{
	static const struct { int advice; const char *name; } adv[] = {
		{ MADV_NORMAL, "NORMAL" }, { MADV_RANDOM, "RANDOM" },
		{ MADV_SEQUENTIAL, "SEQUENTIAL" }, { MADV_WILLNEED, "WILLNEED" },
		{ MADV_DONTNEED, "DONTNEED" }, { MADV_FREE, "FREE" },
		{ MADV_DONTFORK, "DONTFORK" }, { MADV_DOFORK, "DOFORK" },
		{ MADV_MERGEABLE, "MERGEABLE" }, { MADV_UNMERGEABLE, "UNMERGEABLE" },
		{ MADV_HUGEPAGE, "HUGEPAGE" }, { MADV_NOHUGEPAGE, "NOHUGEPAGE" },
		{ MADV_DONTDUMP, "DONTDUMP" }, { MADV_DODUMP, "DODUMP" },
		{ MADV_WIPEONFORK, "WIPEONFORK" }, { MADV_KEEPONFORK, "KEEPONFORK" },
		{ MADV_COLD, "COLD" }, { MADV_PAGEOUT, "PAGEOUT" },
		{ MADV_POPULATE_READ, "POPULATE_READ" },
		{ MADV_POPULATE_WRITE, "POPULATE_WRITE" },
	};
	char *p, *m;
	size_t i;

	p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	m = mmap(NULL, len, prot, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, m);
	for (i = 0; i < sizeof(adv) / sizeof(adv[0]); i++) {
		int want = madv_err(m, len, adv[i].advice);

		EXPECT_EQ(want, madv_err(p, len, adv[i].advice))
			TH_LOG("MADV_%s (memfd: %s)", adv[i].name,
			       want ? strerror(want) : "0");
	}
	munmap(m, len);
	munmap(p, len);
}

TEST_F(shmem, madvise_like_memfd)
{
	long len = 4 * self->pg;
	int mfd = memfd_create("review_shmem", MFD_CLOEXEC);
	int fd = shmr_create(self->ctl, shmr_track(self->name), len,
			     SHMR_CREATE_EXCL, 0600, NULL);
	int rfd, rmfd;
	char path[64];

	ASSERT_LE(0, mfd);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(mfd, len));
	advice_like_memfd(_metadata, fd, mfd, len, PROT_READ | PROT_WRITE);
	rfd = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, rfd);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	rmfd = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, rmfd);
	advice_like_memfd(_metadata, rfd, rmfd, len, PROT_READ);
	close(rmfd);
	close(rfd);
	close(fd);
	close(mfd);
}

/* ---- userfaultfd ------------------------------------------------------------ */

/* A userfaultfd with the API handshake done, or -errno. */
static int uffd_open(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* UFFDIO_REGISTER (missing pages) of [p, p + len): 0 or -errno. */
static int uffd_register(int uffd, void *p, long len)
{
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = UFFDIO_REGISTER_MODE_MISSING,
	};

	return ioctl(uffd, UFFDIO_REGISTER, &reg) ? -errno : 0;
}

static void *uffd_toucher(void *arg)
{
	return (void *)(uintptr_t)*(volatile char *)arg;
}

/*
 * A missing page of a registered mapping p: the fault is reported on
 * uffd, UFFDIO_COPY fills it, the faulting thread reads what was copied
 * and so does another mapping q of the same object.
 */
static void uffd_fill(struct __test_metadata *_metadata, int uffd, char *p,
		      char *q, long pg)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffdio_copy copy;
	struct uffd_msg msg;
	pthread_t t;
	void *got;
	char *src;

	src = mmap(NULL, pg, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, src);
	memset(src, 'U', pg);
	ASSERT_EQ(0, pthread_create(&t, NULL, uffd_toucher, p));
	ASSERT_EQ(1, poll(&pfd, 1, SHMR_WAIT_SECONDS * 1000));
	ASSERT_EQ((ssize_t)sizeof(msg), read(uffd, &msg, sizeof(msg)));
	EXPECT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
	EXPECT_EQ((uintptr_t)p, msg.arg.pagefault.address & ~(uint64_t)(pg - 1));
	memset(&copy, 0, sizeof(copy));
	copy.dst = (uintptr_t)p;
	copy.src = (uintptr_t)src;
	copy.len = pg;
	EXPECT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy)) TH_LOG("UFFDIO_COPY: %s",
							    strerror(errno));
	ASSERT_EQ(0, pthread_join(t, &got));
	EXPECT_EQ('U', (char)(uintptr_t)got);
	EXPECT_TRUE(shmr_all_bytes(q, pg, 'U'));
	munmap(src, pg);
}

/* Does this kernel take userfaultfd on VMAs by their uffd_ops (7.2)? */
static bool uffd_by_ops(void)
{
	struct utsname u;
	int major, minor;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 7 || (major == 7 && minor >= 2);
}

TEST_F(shmem, userfaultfd_like_memfd)
{
	long len = 2 * self->pg;
	int uffd, mfd, fd, rfd, id, sysv_ret, reg_ret;
	char *m, *mq, *s, *p, *q, *ro;

	uffd = uffd_open();
	if (uffd == -ENOSYS || uffd == -EPERM)
		SKIP(return, "no userfaultfd (%d)", uffd);
	ASSERT_LE(0, uffd);

	/* memfd: the behaviour to match */
	mfd = memfd_create("review_shmem", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, len));
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, m);
	mq = mmap(NULL, len, PROT_READ, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, mq);
	ASSERT_EQ(0, uffd_register(uffd, m, len)) TH_LOG("memfd");
	uffd_fill(_metadata, uffd, m, mq, self->pg);
	munmap(mq, len);
	munmap(m, len);
	close(mfd);

	id = shmget(IPC_PRIVATE, len, IPC_CREAT | 0600);
	ASSERT_LE(0, id);
	s = shmat(id, NULL, 0);
	ASSERT_NE((void *)-1, s);
	shmctl(id, IPC_RMID, NULL);
	sysv_ret = uffd_register(uffd, s, len);
	shmdt(s);

	fd = shmr_create(self->ctl, shmr_track(self->name), len,
			 SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	q = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, q);
	reg_ret = uffd_register(uffd, p, len);
	TH_LOG("UFFDIO_REGISTER: SysV shm %d, region %d", sysv_ret, reg_ret);
	if (uffd_by_ops()) {
		ASSERT_EQ(0, reg_ret) TH_LOG("region, with shmem's uffd_ops");
		uffd_fill(_metadata, uffd, p, q, self->pg);
	} else {
		EXPECT_EQ(sysv_ret, reg_ret) TH_LOG("region refused as SysV shm");
	}
	/* a mapping that may never write (no VM_MAYWRITE) is refused */
	rfd = shmr_open(self->ctl, self->name, SHMR_OPEN_RDONLY, NULL);
	ASSERT_LE(0, rfd);
	ro = mmap(NULL, len, PROT_READ, MAP_SHARED, rfd, 0);
	ASSERT_NE(MAP_FAILED, ro);
	close(rfd);
	reg_ret = uffd_register(uffd, ro, len);
	EXPECT_TRUE(reg_ret == -EPERM || reg_ret == -EINVAL)
		TH_LOG("read-only mapping: %d", reg_ret);
	munmap(ro, len);
	munmap(q, len);
	munmap(p, len);
	close(fd);
	close(uffd);
}

/* ---- fixed buffers, GUP ----------------------------------------------------- */

/* io_uring_register_buffers() over [p, p + len): 0 or -errno. */
static int register_fixed(void *p, size_t len)
{
	struct iovec iov = { .iov_base = p, .iov_len = len };
	struct io_uring ring;
	int ret = io_uring_queue_init(4, &ring, 0);

	if (ret)
		return ret;
	ret = io_uring_register_buffers(&ring, &iov, 1);
	io_uring_queue_exit(&ring);
	return ret;
}

/*
 * READ_FIXED from a pipe into the first page of the registered buffer at
 * @p: the bytes must land there.
 */
static void read_fixed_lands(struct __test_metadata *_metadata, char *p,
			     long len)
{
	struct iovec iov = { .iov_base = p, .iov_len = len };
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	int pfd[2];

	ASSERT_EQ(0, io_uring_queue_init(4, &ring, 0));
	ASSERT_EQ(0, io_uring_register_buffers(&ring, &iov, 1));
	ASSERT_EQ(0, pipe(pfd));
	ASSERT_EQ(5, write(pfd[1], "fixed", 5));
	sqe = io_uring_get_sqe(&ring);
	ASSERT_NE(NULL, sqe);
	io_uring_prep_read_fixed(sqe, pfd[0], p, 5, 0, 0);
	ASSERT_EQ(1, io_uring_submit(&ring));
	ASSERT_EQ(0, io_uring_wait_cqe(&ring, &cqe));
	EXPECT_EQ(5, cqe->res);
	io_uring_cqe_seen(&ring, cqe);
	EXPECT_EQ(0, memcmp(p, "fixed", 5));
	close(pfd[0]);
	close(pfd[1]);
	io_uring_queue_exit(&ring);
}

TEST_F(shmem, fixed_buffer_like_sysv_shm)
{
	long len = 4 * self->pg;
	int mfd, fd, id, mem_ret, sysv_ret, reg_ret;
	struct io_uring probe;
	char *m, *s, *p;

	if (io_uring_queue_init(4, &probe, 0))
		SKIP(return, "io_uring unavailable");
	io_uring_queue_exit(&probe);

	mfd = memfd_create("review_shmem", MFD_CLOEXEC);
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, len));
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, m);
	mem_ret = register_fixed(m, len);
	EXPECT_EQ(0, mem_ret) TH_LOG("memfd mapping as a fixed buffer");
	munmap(m, len);
	close(mfd);

	id = shmget(IPC_PRIVATE, len, IPC_CREAT | 0600);
	ASSERT_LE(0, id);
	s = shmat(id, NULL, 0);
	ASSERT_NE((void *)-1, s);
	shmctl(id, IPC_RMID, NULL);
	sysv_ret = register_fixed(s, len);
	shmdt(s);

	fd = shmr_create(self->ctl, shmr_track(self->name), len,
			 SHMR_CREATE_EXCL, 0600, NULL);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	reg_ret = register_fixed(p, len);
	TH_LOG("fixed buffer: memfd %d, SysV shm %d, region %d",
	       mem_ret, sysv_ret, reg_ret);
	EXPECT_EQ(sysv_ret, reg_ret);
	if (!reg_ret)
		read_fixed_lands(_metadata, p, len);
	munmap(p, len);
	close(fd);
}

TEST_F(shmem, gup_process_vm_writev)
{
	long len = 2 * self->pg;
	int fd = shmr_create(self->ctl, NULL, len, 0, 0600, NULL);
	struct iovec local, remote;
	char buf[64] = "written through GUP";
	char *p;

	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	close(fd);
	local.iov_base = buf;
	local.iov_len = sizeof(buf);
	remote.iov_base = p + self->pg - 8;	/* across the page boundary */
	remote.iov_len = sizeof(buf);
	EXPECT_EQ((ssize_t)sizeof(buf),
		  process_vm_writev(getpid(), &local, 1, &remote, 1, 0));
	EXPECT_EQ(0, memcmp(p + self->pg - 8, buf, sizeof(buf)));
	munmap(p, len);
}

/*
 * The module cannot go while a mapping is all that is left of a region:
 * no handle, no control fd (the test process holds nothing else, and the
 * runner runs one test program at a time).
 */
TEST_F(shmem, mapping_alone_pins_module)
{
	int fd = shmr_create(self->ctl, NULL, self->pg, 0, 0600, NULL);
	char *p;
	int ret;

	ASSERT_LE(0, fd);
	p = mmap(NULL, self->pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	close(fd);
	close(self->ctl);
	self->ctl = -1;
	p[0] = 9;
	ret = syscall(SYS_delete_module, "shmr", O_NONBLOCK);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EWOULDBLOCK, errno);
	EXPECT_EQ(9, p[0]);
	munmap(p, self->pg);
}

TEST_HARNESS_MAIN
