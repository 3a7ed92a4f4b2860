// SPDX-License-Identifier: GPL-2.0
/*
 * bench_regions: shmr region operations beside memfd, POSIX shm and SysV shm,
 * measured in one process, interleaved (each repetition runs one block of
 * every implementation, in a rotating order), with warm-up blocks dropped.
 *
 *   bench_regions [--quick] [--csv FILE|-] [--notes FILE] [--thp-advise]
 *                 [--only NAME[,NAME...]] [--breakdown] [--tracking]
 *
 * Benchmarks (rows of benchmark,impl,unit,median,p10,p90; unit ns):
 *   lifecycle   create + map + touch one page + unmap + close + unlink
 *               (a named region; every baseline, whether it has names or not)
 *   lifecycle_anon   the same cycle like for like with memfd, which has no
 *               name: an anonymous region, create + map + touch + unmap +
 *               close (the close frees it)
 *   lifecycle_named  like for like with POSIX shm: a named region, create +
 *               map + touch + unmap + close + unlink
 *   attach      open an existing region + map + unmap + close
 *   attach_nofd attach an existing region without a handle + unmap
 *   fault_4k    mmap + touch every page + munmap of a fresh 64 MiB region,
 *               per 4 KiB page
 *   fault_huge  the same with huge pages (shmr: SHMR_CREATE_HUGE; memfd:
 *               MADV_HUGEPAGE), per 4 KiB
 *   list_1000   list 1,000 existing regions (time of one whole listing)
 *   stat_1000   stat each of 1,000 regions (time of the 1,000 stats)
 *
 * impl shmr is libshmr (shmr_region_*, with its lifetime tracking, forced to
 * the kernel backend); impl ioctl is the same work through the raw ioctls of
 * <linux/shmr.h> with no library, so shmr/ioctl bounds what the library and
 * its leak tracking add. Without /dev/shmr the shmr and ioctl rows are left
 * out (and said so on stderr).
 * --thp-advise sets /sys/kernel/mm/transparent_hugepage/shmem_enabled to
 * "advise" when it is "never" or "deny", so that memfd + MADV_HUGEPAGE can
 * get huge pages (meant for the VM; it is left that way).
 * --tracking runs only tracking_cycle: an anonymous region's cycle through
 * libshmr's posix backend (memfd underneath) against the same system calls
 * made directly (impl memfd), i.e. what the library and its lifetime tracking
 * add to a region cycle, natively (run it on the host).
 * --breakdown first times each step of the lifecycle and attach cycles
 * (raw ioctls vs memfd), and of the anonymous cycle, and prints the medians
 * as notes.
 * Notes (huge pages really used or not, what was changed) go to stderr and,
 * with --notes, to FILE. Exit status 1 if some measurement failed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/shmr.h>

#include "shmr.h"
#include "bench.h"

#define PAGE		4096ul
#define FAULT_SIZE	(64ul << 20)
#define FAULT_PAGES	(FAULT_SIZE / PAGE)
#define NLIST		1000
#define THP_SHMEM	"/sys/kernel/mm/transparent_hugepage/shmem_enabled"

static bool quick;
static const char *only;
static FILE *csv, *notes_file;
static int failures;
static char prefix[64];		/* "shmr-bench-<pid>" */

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bench_vnote(notes_file, fmt, ap);
	va_end(ap);
}

/*
 * ---- raw ioctls -----------------------------------------------------------
 * The raw ioctls of <linux/shmr.h> (impl "ioctl", and setup of the 1,000
 * regions). All return 0 or a negative errno.
 */
static int shmr_ctl = -1;
static struct shmr_features shmr_feat;

static int sh_init(void)
{
	shmr_ctl = open(SHMR_DEVICE_PATH, O_RDWR | O_CLOEXEC);
	if (shmr_ctl < 0)
		return -errno;
	memset(&shmr_feat, 0, sizeof(shmr_feat));
	if (ioctl(shmr_ctl, SHMR_IOC_FEATURES, &shmr_feat) < 0) {
		int err = -errno;

		close(shmr_ctl);
		shmr_ctl = -1;
		return err;
	}
	return 0;
}

/* name NULL: anonymous. On success *fd is a read-write region fd. */
static int sh_create(const char *name, uint64_t size, uint32_t flags, int *fd, uint64_t *id)
{
	struct shmr_create c = {
		.name = (uintptr_t)name,
		.size = size,
		.flags = flags,
		.mode = 0600,
	};

	if (ioctl(shmr_ctl, SHMR_IOC_CREATE, &c) < 0)
		return -errno;
	*fd = c.fd;
	if (id)
		*id = c.id;
	return 0;
}

static int sh_open(const char *name, int *fd, uint64_t *size)
{
	struct shmr_open o = { .name = (uintptr_t)name };

	if (ioctl(shmr_ctl, SHMR_IOC_OPEN, &o) < 0)
		return -errno;
	*fd = o.fd;
	if (size)
		*size = o.size;
	return 0;
}

static int sh_unlink(const char *name)
{
	struct shmr_unlink u = { .name = (uintptr_t)name };

	return ioctl(shmr_ctl, SHMR_IOC_UNLINK, &u) < 0 ? -errno : 0;
}

/* Returns the number of regions written (<= cap), or a negative errno. */
static int sh_list(struct shmr_region_info *buf, uint32_t cap, uint32_t *total)
{
	struct shmr_list l = { .regions = (uintptr_t)buf, .cap = cap };

	if (ioctl(shmr_ctl, SHMR_IOC_LIST, &l) < 0)
		return -errno;
	if (total)
		*total = l.total;
	return (int)l.count;
}

static int sh_stat_id(uint64_t id, struct shmr_region_info *info)
{
	struct shmr_stat s = { .id = id };

	if (ioctl(shmr_ctl, SHMR_IOC_STAT, &s) < 0)
		return -errno;
	if (info)
		*info = s.info;
	return 0;
}

static bool have_shmr(void)
{
	return shmr_ctl >= 0;
}

/* ---- the interleaved runner ---------------------------------------------- */
struct impl {
	const char *name;	/* CSV impl */
	bool skip;		/* not available here (said so already) */
	int (*setup)(void);	/* optional, before the first sample */
	void (*teardown)(void);	/* optional, after the last */
	/* Either: one cycle, timed in blocks of "block" cycles ... */
	int (*cycle)(void);
	/* ... or: one sample measured by the implementation itself. */
	int (*sample)(double *ns);
	struct bench_samples s;
	bool failed;
};

struct plan {
	unsigned int warmup, reps, block;
};

static bool wanted(const char *bench)
{
	const char *p = only;
	size_t n = strlen(bench);

	if (!only)
		return true;
	while (p && *p) {
		if (strncmp(p, bench, n) == 0 && (p[n] == ',' || p[n] == 0))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

static void fail_impl(const char *bench, struct impl *im, int err)
{
	fprintf(stderr, "bench_regions: %s/%s failed: %s\n", bench, im->name, strerror(-err));
	im->failed = true;
	failures++;
}

/*
 * The ratio shmr/baseline taken within each repetition (the blocks of one
 * repetition run back to back, so they share the machine's conditions),
 * as a note: a check on the ratio of the medians when the machine is noisy.
 * impls[0] is shmr; samples are still in repetition order here.
 */
static void paired(const char *bench, struct impl *impls, size_t n)
{
	struct impl *sh = &impls[0];
	struct bench_samples r = { 0 };
	struct bench_stats st;
	size_t i, k;

	if (sh->skip || sh->failed || sh->s.n == 0 || strcmp(sh->name, "shmr"))
		return;
	for (i = 1; i < n; i++) {
		struct impl *im = &impls[i];

		if (im->skip || im->failed || im->s.n != sh->s.n)
			continue;
		bench_samples_reset(&r);
		for (k = 0; k < sh->s.n; k++)
			if (im->s.v[k] > 0)
				bench_samples_add(&r, sh->s.v[k] / im->s.v[k]);
		st = bench_samples_stats(&r);
		note("paired %s shmr/%s: median %.2f (p10 %.2f, p90 %.2f) of %zu repetitions",
		     bench, im->name, st.median, st.p10, st.p90, st.n);
	}
	bench_samples_free(&r);
}

static void run(const char *bench, struct impl *impls, size_t n, struct plan p)
{
	size_t i;
	unsigned int r;

	fprintf(stderr, "%s (%u+%u blocks%s):\n", bench, p.warmup, p.reps,
		p.block > 1 ? " of cycles" : "");
	for (i = 0; i < n; i++) {
		struct impl *im = &impls[i];
		int err;

		bench_samples_reset(&im->s);
		im->failed = false;
		if (im->skip || !im->setup)
			continue;
		err = im->setup();
		if (err)
			fail_impl(bench, im, err);
	}
	for (r = 0; r < p.warmup + p.reps; r++) {
		/*
		 * Under QEMU's TCG a user page whose TLB slot is the kernel
		 * stack's makes every copy to or from it several times slower,
		 * for the process's life (docs/bench.md, "TCG"): a stack moved
		 * by a different number of pages each repetition turns such a
		 * conflict into a few slow samples instead of a slow run.
		 */
		char shift[PAGE * (r % 17) + 1];

		__asm__ volatile("" : : "r"(shift) : "memory");
		for (i = 0; i < n; i++) {
			struct impl *im = &impls[(i + r) % n];
			double v = 0;
			int err = 0;

			if (im->skip || im->failed)
				continue;
			if (im->cycle) {
				uint64_t t0 = bench_now_ns();
				unsigned int k;

				for (k = 0; k < p.block && !err; k++)
					err = im->cycle();
				v = (double)(bench_now_ns() - t0) / p.block;
			} else {
				err = im->sample(&v);
			}
			if (err) {
				fail_impl(bench, im, err);
				continue;
			}
			if (r >= p.warmup)
				bench_samples_add(&im->s, v);
		}
	}
	paired(bench, impls, n);
	for (i = 0; i < n; i++) {
		struct impl *im = &impls[i];
		struct bench_stats st;

		if (im->skip)
			continue;
		if (im->teardown)
			im->teardown();
		if (im->failed || im->s.n == 0)
			continue;
		st = bench_samples_stats(&im->s);
		bench_csv_row(csv, bench, im->name, "ns", &st);
		bench_report(bench, im->name, "ns", &st);
	}
}

static void touch(volatile char *p)
{
	*p = 1;
}

/* ---- lifecycle: create + map + touch + unmap + close + unlink ------------ */
static char nm_shmr[96], nm_posix[96];

static int lc_shmr(void)
{
	struct shmr_region *r;
	void *p;
	int err;

	err = shmr_region_create(&SHMR_REGION_OPTS(.name = nm_shmr, .size = PAGE,
						   .flags = SHMR_REGION_EXCL), &r);
	if (err)
		return err;
	err = shmr_region_map(r, &p);
	if (err) {
		shmr_region_close(r);
		shmr_region_unlink(nm_shmr);
		return err;
	}
	touch(p);
	shmr_region_unmap(p);
	shmr_region_close(r);
	return shmr_region_unlink(nm_shmr);
}

static int lc_ioctl(void)
{
	uint64_t id;
	void *p;
	int fd = -1, err;

	err = sh_create(nm_shmr, PAGE, SHMR_CREATE_EXCL, &fd, &id);
	if (err)
		return err;
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		close(fd);
		sh_unlink(nm_shmr);
		return err;
	}
	touch(p);
	munmap(p, PAGE);
	close(fd);
	return sh_unlink(nm_shmr);
}

static int lc_memfd(void)
{
	int fd = memfd_create("shmr-bench", MFD_CLOEXEC);
	void *p;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, PAGE) < 0)
		goto fail;
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	touch(p);
	munmap(p, PAGE);
	close(fd);
	return 0;
fail:
	close(fd);
	return -errno;
}

static int lc_posix(void)
{
	int fd = shm_open(nm_posix, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	void *p;
	int err;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, PAGE) < 0)
		goto fail;
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	touch(p);
	munmap(p, PAGE);
	close(fd);
	return shm_unlink(nm_posix) < 0 ? -errno : 0;
fail:
	err = -errno;
	close(fd);
	shm_unlink(nm_posix);
	return err;
}

static int lc_sysv(void)
{
	int id = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
	void *p;
	int err;

	if (id < 0)
		return -errno;
	p = shmat(id, NULL, 0);
	if (p == (void *)-1) {
		err = -errno;
		shmctl(id, IPC_RMID, NULL);
		return err;
	}
	touch(p);
	shmdt(p);
	return shmctl(id, IPC_RMID, NULL) < 0 ? -errno : 0;
}

static void bench_lifecycle(struct plan p)
{
	struct impl impls[] = {
		{ .name = "shmr", .cycle = lc_shmr, .skip = !have_shmr() },
		{ .name = "ioctl", .cycle = lc_ioctl, .skip = !have_shmr() },
		{ .name = "memfd", .cycle = lc_memfd },
		{ .name = "posix_shm", .cycle = lc_posix },
		{ .name = "sysv_shm", .cycle = lc_sysv },
	};

	run("lifecycle", impls, 5, p);
	for (size_t i = 0; i < 5; i++)
		bench_samples_free(&impls[i].s);
}

/*
 * ---- lifecycle_anon / lifecycle_named: like-for-like cycles ---------------
 * memfd has no name and nothing to unlink, so an anonymous region is what
 * compares with it; a named region compares with shm_open(), which has both.
 */
static int lca_shmr(void)
{
	struct shmr_region *r;
	void *p;
	int err;

	err = shmr_region_create(&SHMR_REGION_OPTS(.size = PAGE), &r);
	if (err)
		return err;
	err = shmr_region_map(r, &p);
	if (!err) {
		touch(p);
		shmr_region_unmap(p);
	}
	shmr_region_close(r);
	return err;
}

static int lca_ioctl(void)
{
	void *p;
	int fd = -1, err;

	err = sh_create(NULL, PAGE, 0, &fd, NULL);
	if (err)
		return err;
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
	} else {
		touch(p);
		munmap(p, PAGE);
	}
	close(fd);
	return err;
}

static void bench_like(struct plan p, bool anon, bool named)
{
	struct impl an[] = {
		{ .name = "shmr", .cycle = lca_shmr, .skip = !have_shmr() },
		{ .name = "ioctl", .cycle = lca_ioctl, .skip = !have_shmr() },
		{ .name = "memfd", .cycle = lc_memfd },
	};
	struct impl nm[] = {
		{ .name = "shmr", .cycle = lc_shmr, .skip = !have_shmr() },
		{ .name = "ioctl", .cycle = lc_ioctl, .skip = !have_shmr() },
		{ .name = "posix_shm", .cycle = lc_posix },
	};
	size_t i;

	if (anon)
		run("lifecycle_anon", an, 3, p);
	if (named)
		run("lifecycle_named", nm, 3, p);
	for (i = 0; i < 3; i++) {
		bench_samples_free(&an[i].s);
		bench_samples_free(&nm[i].s);
	}
}

/*
 * ---- tracking_cycle (--tracking, meant for the host) ----------------------
 * lca_shmr(), an anonymous region's cycle, through libshmr forced to its
 * posix backend, which makes exactly the memfd row's system calls
 * (memfd_create, ftruncate, mmap, touch, munmap, close): the ratio is what
 * the library and its lifetime tracking add, measured natively rather than
 * under TCG.
 */
static void bench_tracking(struct plan p)
{
	struct impl impls[] = {
		{ .name = "shmr", .cycle = lca_shmr },
		{ .name = "memfd", .cycle = lc_memfd },
	};

	if (shmr_backend() != SHMR_BACKEND_POSIX) {
		note("tracking_cycle: libshmr's posix backend is not available (%s)",
		     shmr_backend_name());
		failures++;
		return;
	}
	run("tracking_cycle", impls, 2, p);
	for (size_t i = 0; i < 2; i++)
		bench_samples_free(&impls[i].s);
}

/* ---- attach: open existing + map + unmap + close ------------------------- */
static int at_memfd_fd = -1, at_sysv_id = -1;

static int at_shmr_setup(void)
{
	int fd = -1, err = sh_create(nm_shmr, PAGE, SHMR_CREATE_EXCL, &fd, NULL);

	if (!err)
		close(fd);
	return err;
}

static void at_shmr_teardown(void)
{
	sh_unlink(nm_shmr);
}

static int at_shmr(void)
{
	struct shmr_region *r;
	void *p;
	int err = shmr_region_open(nm_shmr, 0, &r);

	if (err)
		return err;
	err = shmr_region_map(r, &p);
	if (!err)
		shmr_region_unmap(p);
	shmr_region_close(r);
	return err;
}

static int at_ioctl(void)
{
	void *p;
	int fd = -1, err = sh_open(nm_shmr, &fd, NULL);

	if (err)
		return err;
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = p == MAP_FAILED ? -errno : 0;
	if (!err)
		munmap(p, PAGE);
	close(fd);
	return err;
}

static int at_memfd_setup(void)
{
	at_memfd_fd = memfd_create("shmr-bench", MFD_CLOEXEC);
	if (at_memfd_fd < 0)
		return -errno;
	return ftruncate(at_memfd_fd, PAGE) < 0 ? -errno : 0;
}

static void at_memfd_teardown(void)
{
	close(at_memfd_fd);
	at_memfd_fd = -1;
}

static int at_memfd(void)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, at_memfd_fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	munmap(p, PAGE);
	return 0;
}

static int at_posix_setup(void)
{
	int fd = shm_open(nm_posix, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, PAGE) < 0)
		err = -errno;
	close(fd);
	return err;
}

static void at_posix_teardown(void)
{
	shm_unlink(nm_posix);
}

static int at_posix(void)
{
	int fd = shm_open(nm_posix, O_RDWR | O_CLOEXEC, 0);
	void *p;
	int err = 0;

	if (fd < 0)
		return -errno;
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		err = -errno;
	else
		munmap(p, PAGE);
	close(fd);
	return err;
}

static int at_sysv_setup(void)
{
	at_sysv_id = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
	return at_sysv_id < 0 ? -errno : 0;
}

static void at_sysv_teardown(void)
{
	shmctl(at_sysv_id, IPC_RMID, NULL);
	at_sysv_id = -1;
}

static int at_sysv(void)
{
	void *p = shmat(at_sysv_id, NULL, 0);

	if (p == (void *)-1)
		return -errno;
	return shmdt(p) < 0 ? -errno : 0;
}

static void bench_attach(struct plan p)
{
	struct impl impls[] = {
		{ .name = "shmr", .cycle = at_shmr, .setup = at_shmr_setup,
		  .teardown = at_shmr_teardown, .skip = !have_shmr() },
		{ .name = "ioctl", .cycle = at_ioctl, .skip = !have_shmr() },
		{ .name = "memfd", .cycle = at_memfd, .setup = at_memfd_setup,
		  .teardown = at_memfd_teardown },
		{ .name = "posix_shm", .cycle = at_posix, .setup = at_posix_setup,
		  .teardown = at_posix_teardown },
		{ .name = "sysv_shm", .cycle = at_sysv, .setup = at_sysv_setup,
		  .teardown = at_sysv_teardown },
	};

	run("attach", impls, 5, p);
	for (size_t i = 0; i < 5; i++)
		bench_samples_free(&impls[i].s);
}

/*
 * ---- attach_nofd: attach an existing region without a handle + detach -----
 * shmr: shmr_region_attach() + shmr_region_unmap() (one ioctl + munmap);
 * ioctl: SHMR_IOC_ATTACH + munmap; memfd: mmap + munmap of an existing
 * memfd; posix_shm: shm_open + mmap + munmap + close of an existing name.
 * Targets (issue 17): shmr at most 1.3x memfd, at most 0.8x posix_shm.
 */
static char an_name[96], an_posix[96];
static int an_memfd = -1;

static int an_shmr_setup(void)
{
	int fd = -1, err;

	snprintf(an_name, sizeof(an_name), "%s-an", prefix);
	err = sh_create(an_name, PAGE, SHMR_CREATE_EXCL, &fd, NULL);
	if (!err)
		close(fd);
	return err;
}

static void an_shmr_teardown(void)
{
	sh_unlink(an_name);
}

static int an_shmr(void)
{
	void *p;
	int err = shmr_region_attach(an_name, 0, &p, NULL);

	return err ? err : shmr_region_unmap(p);
}

static int an_ioctl(void)
{
	struct shmr_attach_req a = { .name = (uintptr_t)an_name };

	if (ioctl(shmr_ctl, SHMR_IOC_ATTACH, &a) < 0)
		return -errno;
	return munmap((void *)(uintptr_t)a.addr, a.size) ? -errno : 0;
}

static int an_memfd_setup(void)
{
	an_memfd = memfd_create("shmr-bench-an", MFD_CLOEXEC);
	if (an_memfd < 0)
		return -errno;
	return ftruncate(an_memfd, PAGE) < 0 ? -errno : 0;
}

static void an_memfd_teardown(void)
{
	close(an_memfd);
	an_memfd = -1;
}

static int an_memfd_cycle(void)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, an_memfd, 0);

	if (p == MAP_FAILED)
		return -errno;
	return munmap(p, PAGE) ? -errno : 0;
}

static int an_posix_setup(void)
{
	int fd, err = 0;

	snprintf(an_posix, sizeof(an_posix), "/%s-an", prefix);
	fd = shm_open(an_posix, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, PAGE) < 0)
		err = -errno;
	close(fd);
	return err;
}

static void an_posix_teardown(void)
{
	shm_unlink(an_posix);
}

static int an_posix_cycle(void)
{
	int fd = shm_open(an_posix, O_RDWR | O_CLOEXEC, 0), err = 0;
	void *p;

	if (fd < 0)
		return -errno;
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		err = -errno;
	else if (munmap(p, PAGE))
		err = -errno;
	close(fd);
	return err;
}

static void bench_attach_nofd(struct plan p)
{
	struct impl impls[] = {
		{ .name = "shmr", .cycle = an_shmr, .setup = an_shmr_setup,
		  .teardown = an_shmr_teardown, .skip = !have_shmr() },
		{ .name = "ioctl", .cycle = an_ioctl, .skip = !have_shmr() },
		{ .name = "memfd", .cycle = an_memfd_cycle, .setup = an_memfd_setup,
		  .teardown = an_memfd_teardown },
		{ .name = "posix_shm", .cycle = an_posix_cycle, .setup = an_posix_setup,
		  .teardown = an_posix_teardown },
	};
	static const struct { size_t base; const char *target; double max; } tg[] = {
		{ 2, "1.3", 1.3 }, { 3, "0.8", 0.8 },
	};
	size_t n = sizeof(impls) / sizeof(impls[0]), i;

	if (have_shmr() && !(shmr_feat.features & SHMR_FEAT_ATTACH_NOFD)) {
		note("attach_nofd: the module has no SHMR_IOC_ATTACH: shmr and ioctl rows left out");
		impls[0].skip = impls[1].skip = true;
	}
	run("attach_nofd", impls, n, p);
	for (i = 0; i < sizeof(tg) / sizeof(tg[0]); i++) {
		struct impl *sh = &impls[0], *b = &impls[tg[i].base];
		double r;

		if (sh->skip || sh->failed || b->failed || !sh->s.n || !b->s.n)
			continue;
		r = bench_samples_stats(&sh->s).median / bench_samples_stats(&b->s).median;
		note("attach_nofd shmr/%s: %.2f (target <= %s: %s)", b->name, r, tg[i].target,
		     r <= tg[i].max ? "met" : "missed");
	}
	for (i = 0; i < n; i++)
		bench_samples_free(&impls[i].s);
}

/*
 * ---- --breakdown: where a cycle's time goes, step by step -----------------
 * Not a CSV benchmark: medians per step of the lifecycle and attach cycles,
 * raw shmr ioctls beside memfd, printed as notes (for profiling the module).
 */
enum { ST_CREATE, ST_MMAP, ST_TOUCH, ST_MUNMAP, ST_CLOSE, ST_UNLINK, ST_N };
static const char *const st_names[ST_N] = {
	"create/open", "mmap", "touch", "munmap", "close", "unlink",
};

static int breakdown_cycle(bool shmr, bool attach, struct bench_samples *st)
{
	uint64_t t[ST_N + 1];
	char *p;
	int fd = -1, err = 0, i;

	t[0] = bench_now_ns();
	if (shmr && attach)
		err = sh_open(nm_shmr, &fd, NULL);
	else if (shmr)
		err = sh_create(nm_shmr, PAGE, SHMR_CREATE_EXCL, &fd, NULL);
	else if (attach)
		fd = at_memfd_fd;
	else if ((fd = memfd_create("shmr-bench", MFD_CLOEXEC)) < 0 || ftruncate(fd, PAGE) < 0)
		err = -errno;
	if (err)
		return err;
	t[1] = bench_now_ns();
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	t[2] = bench_now_ns();
	if (!attach)
		touch(p);
	t[3] = bench_now_ns();
	munmap(p, PAGE);
	t[4] = bench_now_ns();
	if (!(attach && !shmr))
		close(fd);
	t[5] = bench_now_ns();
	if (shmr && !attach)
		err = sh_unlink(nm_shmr);
	t[6] = bench_now_ns();
	for (i = 0; i < ST_N; i++)
		bench_samples_add(&st[i], (double)(t[i + 1] - t[i]));
	return err;
}

static void breakdown(unsigned int n)
{
	static const char *const what[2] = { "lifecycle", "attach" };
	struct bench_samples st[2][ST_N] = { { { 0 } } };
	int a, k, i, err = 0;
	unsigned int r;

	if (!have_shmr())
		return;
	err = at_memfd_setup();
	for (a = 0; a < 2 && !err; a++) {
		if (a == 1)
			err = at_shmr_setup();	/* the region the attach cycles open */
		for (r = 0; r < n && !err; r++)
			for (k = 0; k < 2 && !err; k++)
				err = breakdown_cycle(((r + k) & 1) == 0, a == 1, st[((r + k) & 1)]);
		for (k = 0; k < 2 && !err; k++) {
			char line[512];
			size_t len = 0;

			len += snprintf(line + len, sizeof(line) - len, "breakdown %s/%s (median ns):",
					what[a], k == 0 ? "ioctl" : "memfd");
			for (i = 0; i < ST_N; i++) {
				struct bench_stats s = bench_samples_stats(&st[k][i]);

				len += snprintf(line + len, sizeof(line) - len, " %s %.0f",
						st_names[i], s.median);
				bench_samples_reset(&st[k][i]);
			}
			note("%s", line);
		}
	}
	if (err)
		note("breakdown failed: %s", strerror(-err));
	at_shmr_teardown();
	at_memfd_teardown();
	for (k = 0; k < 2; k++)
		for (i = 0; i < ST_N; i++)
			bench_samples_free(&st[k][i]);
}

/*
 * The anonymous cycle step by step, raw ioctls beside memfd (--breakdown):
 * CREATE against memfd_create + ftruncate, and the close that frees.
 */
static int breakdown_anon_cycle(bool shmr, struct bench_samples *st)
{
	uint64_t t[6];
	char *p;
	int fd = -1, err = 0, i;

	t[0] = bench_now_ns();
	if (shmr)
		err = sh_create(NULL, PAGE, 0, &fd, NULL);
	else if ((fd = memfd_create("shmr-bench", MFD_CLOEXEC)) < 0 || ftruncate(fd, PAGE) < 0)
		err = -errno;
	if (err)
		return err;
	t[1] = bench_now_ns();
	p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		err = -errno;
		close(fd);
		return err;
	}
	t[2] = bench_now_ns();
	touch(p);
	t[3] = bench_now_ns();
	munmap(p, PAGE);
	t[4] = bench_now_ns();
	close(fd);
	t[5] = bench_now_ns();
	for (i = 0; i < 5; i++)
		bench_samples_add(&st[i], (double)(t[i + 1] - t[i]));
	return 0;
}

static void breakdown_anon(unsigned int n)
{
	struct bench_samples st[2][5] = { { { 0 } } };
	unsigned int r;
	int k, i, err = 0;

	if (!have_shmr())
		return;
	for (r = 0; r < n && !err; r++)
		for (k = 0; k < 2 && !err; k++)
			err = breakdown_anon_cycle(((r + k) & 1) == 0, st[(r + k) & 1]);
	for (k = 0; k < 2 && !err; k++) {
		char line[512];
		size_t len = 0;

		len += snprintf(line + len, sizeof(line) - len,
				"breakdown lifecycle_anon/%s (median ns):", k == 0 ? "ioctl" : "memfd");
		for (i = 0; i < 5; i++) {
			struct bench_stats s = bench_samples_stats(&st[k][i]);

			len += snprintf(line + len, sizeof(line) - len, " %s %.0f",
					i == 0 ? "create" : st_names[i], s.median);
		}
		note("%s", line);
	}
	if (err)
		note("breakdown lifecycle_anon failed: %s", strerror(-err));
	for (k = 0; k < 2; k++)
		for (i = 0; i < 5; i++)
			bench_samples_free(&st[k][i]);
}

/* ---- fault_4k / fault_huge ------------------------------------------------ */

/* kB of the mapping at addr mapped by PMDs, from /proc/self/smaps; -1 if unknown. */
static long pmd_mapped_kb(void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long a = (unsigned long)addr, lo, hi;
	char line[512];
	bool in = false;
	long kb = -1, v;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			if (in)
				break;
			in = a >= lo && a < hi;
			continue;
		}
		if (!in)
			continue;
		if (sscanf(line, "ShmemPmdMapped: %ld kB", &v) == 1 ||
		    sscanf(line, "FilePmdMapped: %ld kB", &v) == 1)
			kb = (kb < 0 ? 0 : kb) + v;
	}
	fclose(f);
	return kb;
}

/* mmap + (madvise) + touch every page + munmap of fd; *ns per 4 KiB page. */
static int fault_fd(int fd, bool madv_huge, double *ns, long *pmd_kb)
{
	uint64_t t0 = bench_now_ns();
	char *p = mmap(NULL, FAULT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	unsigned long i;

	if (p == MAP_FAILED)
		return -errno;
	if (madv_huge && madvise(p, FAULT_SIZE, MADV_HUGEPAGE) < 0) {
		int err = -errno;

		munmap(p, FAULT_SIZE);
		return err;
	}
	for (i = 0; i < FAULT_SIZE; i += PAGE)
		touch(p + i);
	if (pmd_kb)
		*pmd_kb = pmd_mapped_kb(p);
	munmap(p, FAULT_SIZE);
	if (ns)
		*ns = (double)(bench_now_ns() - t0) / FAULT_PAGES;
	return 0;
}

/* The same as fault_fd() through libshmr: map + touch every page + unmap. */
static int fault_shmr_gen(bool huge, double *ns, long *pmd_kb)
{
	struct shmr_region *r;
	uint64_t t0;
	unsigned long i;
	char *p;
	int err;

	err = shmr_region_create(&SHMR_REGION_OPTS(.size = FAULT_SIZE,
						   .flags = huge ? SHMR_REGION_HUGE : 0), &r);
	if (err)
		return err;
	t0 = bench_now_ns();
	err = shmr_region_map(r, (void **)&p);
	if (!err) {
		for (i = 0; i < FAULT_SIZE; i += PAGE)
			touch(p + i);
		if (pmd_kb)
			*pmd_kb = pmd_mapped_kb(p);
		shmr_region_unmap(p);
		if (ns)
			*ns = (double)(bench_now_ns() - t0) / FAULT_PAGES;
	}
	shmr_region_close(r);
	return err;
}

static int fault_memfd_gen(bool huge, double *ns, long *pmd_kb)
{
	int fd = memfd_create("shmr-bench", MFD_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, FAULT_SIZE) < 0)
		err = -errno;
	else
		err = fault_fd(fd, huge, ns, pmd_kb);
	close(fd);
	return err;
}

static int f4_shmr(double *ns) { return fault_shmr_gen(false, ns, NULL); }
static int f4_memfd(double *ns) { return fault_memfd_gen(false, ns, NULL); }
static int fh_shmr(double *ns) { return fault_shmr_gen(true, ns, NULL); }
static int fh_memfd(double *ns) { return fault_memfd_gen(true, ns, NULL); }

static void thp_advise(void)
{
	char cur[128] = "";
	FILE *f = fopen(THP_SHMEM, "r");

	if (!f) {
		note("%s not readable: no shmem THP in this kernel", THP_SHMEM);
		return;
	}
	if (!fgets(cur, sizeof(cur), f))
		cur[0] = 0;
	fclose(f);
	cur[strcspn(cur, "\n")] = 0;
	if (!strstr(cur, "[never]") && !strstr(cur, "[deny]"))
		return;
	f = fopen(THP_SHMEM, "w");
	if (!f || fputs("advise", f) < 0 || fclose(f) != 0) {
		note("could not set %s to advise (was: %s)", THP_SHMEM, cur);
		return;
	}
	note("set %s to advise (was: %s) for the memfd MADV_HUGEPAGE baseline",
	     THP_SHMEM, cur);
}

static void huge_check(const char *impl, int err, long kb)
{
	long want = (long)(FAULT_SIZE >> 10);

	if (err)
		note("fault_huge/%s: check run failed: %s", impl, strerror(-err));
	else if (kb < 0)
		note("fault_huge/%s: cannot tell whether huge pages were used (no PMD counters in smaps)",
		     impl);
	else
		note("fault_huge/%s: %s huge pages (%ld of %ld KiB PMD-mapped)", impl,
		     kb == want ? "used" : kb ? "partly used" : "NOT using", kb, want);
}

static void bench_fault(struct plan p, bool do4k, bool dohuge)
{
	bool shmr_huge = have_shmr() && (shmr_feat.features & SHMR_FEAT_HUGE);
	struct impl f4[] = {
		{ .name = "shmr", .sample = f4_shmr, .skip = !have_shmr() },
		{ .name = "memfd", .sample = f4_memfd },
	};
	struct impl fh[] = {
		{ .name = "shmr", .sample = fh_shmr, .skip = !shmr_huge },
		{ .name = "memfd", .sample = fh_memfd },
	};

	if (do4k)
		run("fault_4k", f4, 2, p);
	if (!dohuge)
		goto out;
	if (have_shmr() && !shmr_huge)
		note("fault_huge/shmr: the module does not offer SHMR_CREATE_HUGE; no row");
	{
		long kb = -1;
		int err;

		if (shmr_huge) {
			err = fault_shmr_gen(true, NULL, &kb);
			huge_check("shmr", err, kb);
		}
		err = fault_memfd_gen(true, NULL, &kb);
		huge_check("memfd", err, kb);
	}
	run("fault_huge", fh, 2, p);
out:
	for (size_t i = 0; i < 2; i++) {
		bench_samples_free(&f4[i].s);
		bench_samples_free(&fh[i].s);
	}
}

/* ---- list_1000 / stat_1000 ------------------------------------------------ */
static uint64_t sh_ids[NLIST];
static int sv_ids[NLIST];
static unsigned int sh_made, sv_made, px_made;
static struct shmr_region_info *sh_buf;
static struct shmr_region_stat *sh_lbuf;
static uint32_t sh_cap;
static char *rd_buf;
static const size_t rd_cap = 4 << 20;
static int devshm_fd = -1;

static void lst_name(char *buf, size_t n, bool posix, unsigned int i)
{
	snprintf(buf, n, "%s%s-%u", posix ? "/" : "", prefix, i);
}

static int lst_shmr_setup(void)
{
	char name[96];
	int fd = -1, err;

	if (shmr_feat.max_regions && shmr_feat.max_regions < NLIST + 8) {
		note("list_1000/shmr: module limit max_regions=%llu is below %d",
		     (unsigned long long)shmr_feat.max_regions, NLIST);
		return -ENOSPC;
	}
	for (sh_made = 0; sh_made < NLIST; sh_made++) {
		lst_name(name, sizeof(name), false, sh_made);
		err = sh_create(name, PAGE, SHMR_CREATE_EXCL, &fd, &sh_ids[sh_made]);
		if (err)
			return err;
		close(fd);
	}
	sh_cap = NLIST + 16;
	sh_buf = calloc(sh_cap, sizeof(*sh_buf));
	sh_lbuf = calloc(sh_cap, sizeof(*sh_lbuf));
	return sh_buf && sh_lbuf ? 0 : -ENOMEM;
}

static void lst_shmr_teardown(void)
{
	char name[96];

	while (sh_made > 0) {
		lst_name(name, sizeof(name), false, --sh_made);
		sh_unlink(name);
	}
	free(sh_buf);
	sh_buf = NULL;
	free(sh_lbuf);
	sh_lbuf = NULL;
}

static int lst_shmr(void)
{
	int n = shmr_region_list(sh_lbuf, sh_cap);

	if (n < 0)
		return n;
	return n < NLIST ? -ENOENT : 0;
}

static int st_shmr(void)
{
	struct shmr_region_stat st;
	unsigned int i;
	int err;

	for (i = 0; i < NLIST; i++) {
		err = shmr_region_stat_id(sh_ids[i], &st);
		if (err)
			return err;
	}
	return 0;
}

static int lst_ioctl(void)
{
	uint32_t total;
	int n = sh_list(sh_buf, sh_cap, &total);

	if (n < 0)
		return n;
	return n < NLIST ? -ENOENT : 0;
}

static int st_ioctl(void)
{
	struct shmr_region_info info;
	unsigned int i;
	int err;

	for (i = 0; i < NLIST; i++) {
		err = sh_stat_id(sh_ids[i], &info);
		if (err)
			return err;
	}
	return 0;
}

static int lst_sysv_setup(void)
{
	for (sv_made = 0; sv_made < NLIST; sv_made++) {
		sv_ids[sv_made] = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
		if (sv_ids[sv_made] < 0)
			return -errno;
	}
	rd_buf = malloc(rd_cap);
	return rd_buf ? 0 : -ENOMEM;
}

static void lst_sysv_teardown(void)
{
	while (sv_made > 0)
		shmctl(sv_ids[--sv_made], IPC_RMID, NULL);
	free(rd_buf);
	rd_buf = NULL;
}

/* Read /proc/sysvipc/shm whole, one line per segment after the header. */
static int lst_sysv(void)
{
	int fd = open("/proc/sysvipc/shm", O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	unsigned int lines = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, rd_buf + len, rd_cap - len)) > 0)
		len += (size_t)n;
	close(fd);
	if (n < 0)
		return -EIO;
	for (size_t i = 0; i < len; i++)
		lines += rd_buf[i] == '\n';
	return lines < NLIST + 1 ? -ENOENT : 0;
}

static int st_sysv(void)
{
	struct shmid_ds ds;
	unsigned int i;

	for (i = 0; i < NLIST; i++)
		if (shmctl(sv_ids[i], IPC_STAT, &ds) < 0)
			return -errno;
	return 0;
}

static int lst_posix_setup(void)
{
	char name[96];
	int fd;

	for (px_made = 0; px_made < NLIST; px_made++) {
		lst_name(name, sizeof(name), true, px_made);
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return -errno;
		if (ftruncate(fd, PAGE) < 0) {
			close(fd);
			return -errno;
		}
		close(fd);
	}
	devshm_fd = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return devshm_fd < 0 ? -errno : 0;
}

static void lst_posix_teardown(void)
{
	char name[96];

	while (px_made > 0) {
		lst_name(name, sizeof(name), true, --px_made);
		shm_unlink(name);
	}
	if (devshm_fd >= 0)
		close(devshm_fd);
	devshm_fd = -1;
}

/* readdir /dev/shm and fstatat each entry. */
static int lst_posix(void)
{
	int fd = open("/dev/shm", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unsigned int found = 0;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			found++;
	}
	closedir(d);
	return found < NLIST ? -ENOENT : 0;
}

static int st_posix(void)
{
	char name[96];
	struct stat st;
	unsigned int i;

	for (i = 0; i < NLIST; i++) {
		/* the file under /dev/shm: the POSIX name without its '/' */
		lst_name(name, sizeof(name), false, i);
		if (fstatat(devshm_fd, name, &st, 0) < 0)
			return -errno;
	}
	return 0;
}

static void bench_lists(struct plan p, bool dolist, bool dostat)
{
	struct impl impls[] = {
		{ .name = "shmr", .cycle = lst_shmr, .skip = !have_shmr() },
		{ .name = "ioctl", .cycle = lst_ioctl, .skip = !have_shmr() },
		{ .name = "sysv_shm", .cycle = lst_sysv },
		{ .name = "posix_shm", .cycle = lst_posix },
	};
	struct impl stats[] = {
		{ .name = "shmr", .cycle = st_shmr },
		{ .name = "ioctl", .cycle = st_ioctl },
		{ .name = "sysv_shm", .cycle = st_sysv },
		{ .name = "posix_shm", .cycle = st_posix },
	};
	/* setup[i] creates what impls[i] uses (shmr and ioctl share theirs) */
	int (*setup[])(void) = { lst_shmr_setup, NULL, lst_sysv_setup, lst_posix_setup };
	size_t i;
	int err;

	/* Create the 1,000 of each once, for both benchmarks. */
	for (i = 0; i < 4; i++) {
		if (impls[i].skip || !setup[i])
			continue;
		err = setup[i]();
		if (err) {
			fail_impl("list_1000", &impls[i], err);
			impls[i].skip = true;
			if (i == 0)
				impls[1].skip = true;
		}
	}
	for (i = 0; i < 4; i++)
		stats[i].skip = impls[i].skip;
	if (dolist)
		run("list_1000", impls, 4, p);
	if (dostat)
		run("stat_1000", stats, 4, p);
	lst_shmr_teardown();
	lst_sysv_teardown();
	lst_posix_teardown();
	for (i = 0; i < 4; i++) {
		bench_samples_free(&impls[i].s);
		bench_samples_free(&stats[i].s);
	}
}

/* Leave nothing behind on an early exit. */
static void cleanup(void)
{
	if (have_shmr()) {
		sh_unlink(nm_shmr);
		lst_shmr_teardown();
	}
	shm_unlink(nm_posix);
	lst_sysv_teardown();
	lst_posix_teardown();
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_regions [--quick] [--csv FILE|-] [--notes FILE] [--thp-advise]\n"
		   "                     [--only lifecycle,lifecycle_anon,lifecycle_named,attach,\n"
		   "                             attach_nofd,fault_4k,fault_huge,list_1000,stat_1000]\n"
		   "                     [--breakdown] [--tracking]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "csv", required_argument, NULL, 'c' },
		{ "notes", required_argument, NULL, 'n' },
		{ "thp-advise", no_argument, NULL, 't' },
		{ "only", required_argument, NULL, 'o' },
		{ "breakdown", no_argument, NULL, 'b' },
		{ "tracking", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *csv_path = "-", *notes_path = NULL;
	bool set_thp = false, do_breakdown = false, tracking = false;
	struct plan cyc, fault, list;
	int c, err;

	while ((c = getopt_long(argc, argv, "qc:n:to:bTh", opts, NULL)) != -1) {
		switch (c) {
		case 'q': quick = true; break;
		case 'c': csv_path = optarg; break;
		case 'n': notes_path = optarg; break;
		case 't': set_thp = true; break;
		case 'o': only = optarg; break;
		case 'b': do_breakdown = true; break;
		case 'T': tracking = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (notes_path) {
		notes_file = fopen(notes_path, "a");
		if (!notes_file) {
			fprintf(stderr, "bench_regions: %s: %s\n", notes_path, strerror(errno));
			return 2;
		}
	}
	csv = bench_csv_open(csv_path);
	if (!csv)
		return 2;
	snprintf(prefix, sizeof(prefix), "shmr-bench-%d", (int)getpid());
	snprintf(nm_shmr, sizeof(nm_shmr), "%s-lc", prefix);
	snprintf(nm_posix, sizeof(nm_posix), "/%s-lc", prefix);
	atexit(cleanup);

	if (quick) {
		cyc = (struct plan){ .warmup = 1, .reps = 5, .block = 20 };
		fault = (struct plan){ .warmup = 1, .reps = 3, .block = 1 };
		list = (struct plan){ .warmup = 1, .reps = 5, .block = 2 };
	} else {
		cyc = (struct plan){ .warmup = 5, .reps = 101, .block = 40 };
		fault = (struct plan){ .warmup = 1, .reps = 21, .block = 1 };
		list = (struct plan){ .warmup = 2, .reps = 41, .block = 4 };
	}
	if (tracking) {
		setenv("SHMR_BACKEND", "posix", 1);
		bench_tracking(cyc);
		goto out;
	}

	err = sh_init();
	if (err) {
		note("%s: %s: shmr and ioctl rows left out", SHMR_DEVICE_PATH, strerror(-err));
	} else {
		/* libshmr must measure the module, never its POSIX fallback. */
		setenv("SHMR_BACKEND", "kernel", 1);
		if (shmr_backend() != SHMR_BACKEND_KERNEL) {
			note("libshmr does not use the kernel backend (%s): shmr rows left out",
			     shmr_backend_name());
			close(shmr_ctl);
			shmr_ctl = -1;
		}
	}
	if (set_thp)
		thp_advise();

	if (do_breakdown) {
		breakdown(quick ? 50 : 1000);
		breakdown_anon(quick ? 50 : 1000);
	}
	if (wanted("lifecycle"))
		bench_lifecycle(cyc);
	if (wanted("lifecycle_anon") || wanted("lifecycle_named"))
		bench_like(cyc, wanted("lifecycle_anon"), wanted("lifecycle_named"));
	if (wanted("attach"))
		bench_attach(cyc);
	if (wanted("attach_nofd"))
		bench_attach_nofd(cyc);
	if (wanted("fault_4k") || wanted("fault_huge"))
		bench_fault(fault, wanted("fault_4k"), wanted("fault_huge"));
	if (wanted("list_1000") || wanted("stat_1000"))
		bench_lists(list, wanted("list_1000"), wanted("stat_1000"));
out:
	bench_csv_close(csv);
	if (notes_file)
		fclose(notes_file);
	return failures ? 1 : 0;
}
