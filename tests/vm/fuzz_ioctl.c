// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ioctl: several threads throw ioctls at a pool of fds (the control
 * fd, region fds read-write, read-only and sealed, fds closed under them by
 * a churn thread, and unrelated files: /dev/null, a pipe, a memfd) with
 * commands from the shmr magic (every nr, direction and size, including
 * boundary sizes) and, on shmr fds, from anywhere, and arguments that are
 * valid structs with flipped bits, random bytes, NULL, unmapped, read-only,
 * straddling a PROT_NONE page, or kernel addresses. Random mmap()s of the
 * region fds are mixed in. Bounded by SHMR_FUZZ_SECONDS (default 3).
 * Afterwards, with every fd closed and every name unlinked, the *_live
 * counters are back at their start values; the runner checks the kernel
 * log.
 */
#include "shmr_test.h"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <sys/eventfd.h>

#define THREADS	3
#define POOL	12
#define NNAMES	4
#define BUF	8192

static atomic_int pool[POOL];
static atomic_int stop;
static atomic_long calls, okcalls, fdcreated, errs[128];
/* names live on a read-only page: a struct pointing there as output is -EFAULT */
static char (*names)[64];
static char *ro_page, *guard;	/* read-only page; rw page + PROT_NONE page */
static long pg;

static __thread unsigned int last_cmd, last_kind;
static __thread uint64_t last_arg;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	char msg[160];
	int n;

	(void)uc;
	n = snprintf(msg, sizeof(msg),
		     "# signal %d at %p: last cmd %#x arg %#llx kind %u\n", sig,
		     si->si_addr, last_cmd, (unsigned long long)last_arg, last_kind);
	if (write(2, msg, n) < 0)
		_exit(2);
	signal(sig, SIG_DFL);
	raise(sig);
}

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static const unsigned int sizes[] = {
	sizeof(struct shmr_features), sizeof(struct shmr_create),
	sizeof(struct shmr_open), sizeof(struct shmr_unlink),
	sizeof(struct shmr_stat), sizeof(struct shmr_list),
	sizeof(struct shmr_seal), sizeof(struct shmr_events),
	sizeof(struct shmr_exited), sizeof(struct shmr_attach_req),
};

static const unsigned int cmds[] = {
	SHMR_IOC_FEATURES, SHMR_IOC_CREATE, SHMR_IOC_OPEN, SHMR_IOC_UNLINK,
	SHMR_IOC_STAT, SHMR_IOC_LIST, SHMR_IOC_SEAL, SHMR_IOC_EVENTS,
	SHMR_IOC_EXITED, SHMR_IOC_ATTACH,
};

static uint64_t rand_ptr(uint64_t *s, char *buf)
{
	switch (xs(s) % 10) {
	case 0:
		return 0;
	case 1:
		return (uintptr_t)ro_page + xs(s) % 64;
	case 2:
		return (uintptr_t)guard + pg - xs(s) % 64;	/* runs into PROT_NONE */
	case 3:
		return 0xffff888000000000ULL + (xs(s) & 0xffff000);	/* kernel */
	case 4:	/* non-canonical or below mmap_min_addr */
		return xs(s) % 2 ? xs(s) | (1ULL << 63) : xs(s) % 0x10000;
	case 5:
		return (uintptr_t)names[xs(s) % NNAMES];
	default:
		return (uintptr_t)buf + 2048 + (xs(s) % 8) * 256;
	}
}

/* A plausible struct for cmd in buf, then mutations. */
static void fill(uint64_t *s, unsigned int k, char *buf, unsigned int size)
{
	uint64_t *w = (uint64_t *)buf;
	unsigned int i, n;

	memset(buf, 0, BUF);
	for (i = 2048; i < BUF; i += 256)	/* arrays the module writes into */
		memset(buf + i, 0xA5, 256);
	switch (k) {
	case 1:	/* create */
		w[0] = xs(s) % 3 ? (uintptr_t)names[xs(s) % NNAMES] : 0;
		w[1] = (1 + xs(s) % 4) * pg;
		((uint32_t *)buf)[4] = xs(s) % 2 ? 0 : (uint32_t)(xs(s) & SHMR_CREATE_ALL);
		((uint32_t *)buf)[5] = 0600;
		break;
	case 2:	/* open */
	case 3:	/* unlink */
		w[0] = (uintptr_t)names[xs(s) % NNAMES];
		if (k == 2)
			((uint32_t *)buf)[2] = (uint32_t)(xs(s) & SHMR_OPEN_ALL);
		break;
	case 4:	/* stat */
		w[0] = xs(s) % 2 ? 0 : xs(s) % 64;
		w[1] = xs(s) % 2 ? rand_ptr(s, buf) : 0;
		((uint32_t *)buf)[4] = xs(s) % 8;
		break;
	case 5:	/* list */
	case 8:	/* exited */
		w[0] = rand_ptr(s, buf);
		((uint32_t *)buf)[2] = xs(s) % 4;
		if (k == 8)
			((uint32_t *)buf)[5] = xs(s) % 4 == 0 ? SHMR_EXITED_CLEAR : 0;
		break;
	case 6:	/* seal */
		((uint32_t *)buf)[0] = SHMR_SEAL_WRITE;
		break;
	case 9:	/* attach */
		w[0] = (uintptr_t)names[xs(s) % NNAMES];
		((uint32_t *)buf)[2] = (uint32_t)(xs(s) & SHMR_ATTACH_ALL);
		break;
	default:
		break;
	}
	/* mutations: bit flips, random words, sizes at the boundaries */
	n = xs(s) % 4;
	for (i = 0; i < n; i++) {
		unsigned int at = xs(s) % (size ? size : 8);

		switch (xs(s) % 3) {
		case 0:
			buf[at] ^= (char)(1 << (xs(s) % 8));
			break;
		case 1:
			buf[at] = (char)xs(s);
			break;
		default:
			if (at + 8 <= BUF)
				memcpy(buf + (at & ~7U), &(uint64_t){ xs(s) }, 8);
		}
	}
}

/*
 * A mutated output pointer could point at this process's own stacks or
 * heap, and the module would rightly write there: the first two words
 * (every output pointer field: list.regions, exited.records, stat.attach)
 * are kept among NULL/low, non-canonical, read-only, guard and buffer
 * addresses.
 */
static bool safe_ptr(uint64_t v, const char *buf)
{
	uintptr_t b = (uintptr_t)buf;

	return v < 0x10000 || v >= (1ULL << 47) ||
	       (v >= (uintptr_t)names && v < (uintptr_t)names + pg) ||
	       (v >= (uintptr_t)ro_page && v < (uintptr_t)ro_page + pg) ||
	       (v >= (uintptr_t)guard && v < (uintptr_t)guard + 2 * pg) ||
	       (v >= b && v < b + (4 << 20) - 65536);
}

static void *fuzzer(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ULL + 1;
	/*
	 * Mutated caps make LIST/STAT/EXITED write far past the entries a
	 * plausible struct asks for: BUF is where pointers point, the 4 MiB
	 * behind it absorbs what the module is then (rightly) told to write.
	 */
	char *buf = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned int k, size, cmd, nr;
	uint64_t argp;
	int fd, ret;
	void *p;

	while (!atomic_load(&stop)) {
		fd = atomic_load(&pool[xs(&s) % POOL]);
		k = xs(&s) % ARRAY_SIZE(cmds);
		size = sizes[k];
		cmd = cmds[k];
		switch (xs(&s) % 10) {
		case 0:	/* boundary sizes */
			size = (unsigned int[]){ 0, 1, 8, size - 8, size + 8,
						 4096, 16383 }[xs(&s) % 7];
			cmd = _IOC(_IOC_DIR(cmd), SHMR_IOC_MAGIC, _IOC_NR(cmd), size);
			break;
		case 1:	/* other nr and direction in the magic */
			nr = xs(&s) % 32;
			cmd = _IOC(xs(&s) % 4, SHMR_IOC_MAGIC, nr, size);
			break;
		case 2:	/* any command, only on shmr fds (pool 0..7) */
			if ((unsigned int)(fd) < 3)
				break;
			cmd = (unsigned int)xs(&s);
			fd = atomic_load(&pool[xs(&s) % 8]);
			break;
		default:
			break;
		}
		if (size > BUF)
			size = BUF;
		fill(&s, k, buf, size < 256 ? size : 256);
		for (nr = 0; nr < 2; nr++)
			if (!safe_ptr(((uint64_t *)buf)[nr], buf))
				((uint64_t *)buf)[nr] = (uintptr_t)buf + 2048;
		argp = xs(&s) % 8 ? (uintptr_t)buf : rand_ptr(&s, buf);
		if (xs(&s) % 16 == 0) {
			/* a random mapping of a region fd, unmapped at once */
			size_t len = (1 + xs(&s) % 5) * pg;

			last_kind = 2;
			p = mmap(NULL, len, (int)(xs(&s) % 8), (int)(xs(&s) % 2 ? MAP_SHARED : MAP_PRIVATE),
				 fd, (off_t)((xs(&s) % 6) * pg));
			if (p != MAP_FAILED)
				munmap(p, len);
			continue;
		}
		last_cmd = cmd;
		last_arg = argp;
		last_kind = 0;
		ret = ioctl(fd, cmd, (void *)(uintptr_t)argp);
		last_kind = 1;
		atomic_fetch_add(&calls, 1);
		if (ret < 0) {
			atomic_fetch_add(&errs[errno & 127], 1);
			continue;
		}
		atomic_fetch_add(&okcalls, 1);
		/* a CREATE or OPEN that worked returned an fd: close it */
		if (argp == (uintptr_t)buf &&
		    (_IOC_NR(cmd) == 1 || _IOC_NR(cmd) == 2) &&
		    _IOC_TYPE(cmd) == SHMR_IOC_MAGIC && (_IOC_DIR(cmd) & _IOC_READ)) {
			int nfd = _IOC_NR(cmd) == 1 ? ((struct shmr_create *)buf)->fd
						    : ((struct shmr_open *)buf)->fd;
			if (nfd > 2) {
				atomic_fetch_add(&fdcreated, 1);
				close(nfd);
			}
		}
		/* an ATTACH that worked mapped the region: unmap it */
		if (argp == (uintptr_t)buf && _IOC_NR(cmd) == _IOC_NR(SHMR_IOC_ATTACH) &&
		    _IOC_TYPE(cmd) == SHMR_IOC_MAGIC &&
		    _IOC_DIR(cmd) == _IOC_DIR(SHMR_IOC_ATTACH)) {
			struct shmr_attach_req *a = (struct shmr_attach_req *)buf;

			munmap((void *)(uintptr_t)a->addr, a->size);
		}
	}
	munmap(buf, 4 << 20);
	return NULL;
}

/* Replace pool fds under the fuzzers: closed, reused and new numbers. */
static void *churn(void *arg)
{
	int ctl = *(int *)arg, i, fd, old;
	uint64_t s = 77;

	while (!atomic_load(&stop)) {
		i = 2 + xs(&s) % 6;
		fd = shmr_create(ctl, NULL, pg, 0, 0600, NULL);
		if (fd < 0)
			continue;
		old = atomic_exchange(&pool[i], fd);
		close(old);
		usleep(500);
	}
	return NULL;
}

/*
 * Mutated name pointers into the thread buffers create regions with
 * whatever bytes were there: unlink every name this process created.
 */
static void unlink_garbage_names(int ctl)
{
	static struct shmr_region_info r[256];
	struct shmr_list l;
	unsigned int i;
	int n = 0;

	memset(&l, 0, sizeof(l));
	l.regions = (uintptr_t)r;
	l.cap = 256;
	if (shmr_ioctl(ctl, SHMR_IOC_LIST, &l))
		return;
	for (i = 0; i < l.count; i++) {
		if (r[i].creator_pid != getpid() || !r[i].name[0] ||
		    (r[i].flags & SHMR_INFO_UNLINKED))
			continue;
		if (shmr_unlink(ctl, r[i].name) == 0)
			n++;
	}
	printf("# %d regions with fuzzed names unlinked\n", n);
}

FIXTURE(fuzz) {
	int dummy;
};

FIXTURE_SETUP(fuzz)
{
}

FIXTURE_TEARDOWN(fuzz)
{
}

/* long runs (make torture) need more than the harness's 30 s */
TEST_F_TIMEOUT(fuzz, ioctl, 7200)
{
	const char *ctr[] = { "regions_live", "handles_live", "mappings_live",
			      "attach_live", "bytes_live" };
	unsigned long secs = getenv("SHMR_FUZZ_SECONDS") ?
			     strtoul(getenv("SHMR_FUZZ_SECONDS"), NULL, 0) : 3;
	long long base[5], v;
	pthread_t th[THREADS + 1];
	struct shmr_seal se = { .seals = SHMR_SEAL_WRITE };
	int ctl, i, pfd[2], fd;

	SHMR_REQUIRE_DEVICE();
	pg = shmr_page_size();
	{
		struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };

		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGBUS, &sa, NULL);
	}
	for (i = 0; i < 5; i++)
		base[i] = shmr_counter(ctr[i]);
	names = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, names);
	for (i = 0; i < NNAMES; i++)
		shmr_test_name(names[i], sizeof(names[i]), "fuzz_ioctl");
	ASSERT_EQ(0, mprotect(names, pg, PROT_READ));
	ro_page = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro_page);
	guard = shmr_guard_alloc();
	ASSERT_NE(NULL, guard);
	ctl = shmr_ctl_open();
	ASSERT_LE(0, ctl);
	/* 0,1: control fds; 2..7: region fds; 8..11: other files */
	atomic_store(&pool[0], ctl);
	atomic_store(&pool[1], shmr_ctl_open());
	for (i = 2; i < 8; i++) {
		fd = shmr_create(ctl, i == 2 ? names[0] : NULL, 2 * pg, 0, 0600, NULL);
		ASSERT_LE(0, fd);
		if (i == 3)
			ASSERT_EQ(0, shmr_ioctl(fd, SHMR_IOC_SEAL, &se));
		if (i == 4) {
			int ro = shmr_open(ctl, names[0], SHMR_OPEN_RDONLY, NULL);

			ASSERT_LE(0, ro);
			close(fd);
			fd = ro;
		}
		atomic_store(&pool[i], fd);
	}
	ASSERT_EQ(0, pipe(pfd));
	atomic_store(&pool[8], open("/dev/null", O_RDWR | O_CLOEXEC));
	atomic_store(&pool[9], pfd[0]);
	atomic_store(&pool[10], memfd_create("fuzz", MFD_CLOEXEC));
	atomic_store(&pool[11], eventfd(0, EFD_CLOEXEC));
	close(pfd[1]);

	for (i = 0; i < THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, fuzzer, (void *)(uintptr_t)(i + 1)));
	ASSERT_EQ(0, pthread_create(&th[THREADS], NULL, churn, &ctl));
	sleep(secs);
	atomic_store(&stop, 1);
	for (i = 0; i <= THREADS; i++)
		pthread_join(th[i], NULL);
	printf("# %lu s: %ld ioctls, %ld succeeded, %ld fds created\n", secs,
	       atomic_load(&calls), atomic_load(&okcalls), atomic_load(&fdcreated));
	for (i = 0; i < 128; i++)
		if (atomic_load(&errs[i]))
			printf("#   %-8s %ld\n", strerrorname_np(i), atomic_load(&errs[i]));
	fflush(stdout);
	EXPECT_LT(1000, atomic_load(&calls));

	for (i = 1; i < POOL; i++)
		close(atomic_load(&pool[i]));
	for (i = 0; i < NNAMES; i++)
		shmr_unlink(ctl, names[i]);
	unlink_garbage_names(ctl);
	close(ctl);
	for (i = 0; i < 5; i++) {
		const char *n = ctr[i];

		v = shmr_counter(n);
		EXPECT_EQ(base[i], v) TH_LOG("%s", n);
	}
	munmap(ro_page, pg);
	shmr_guard_free(guard);
}

TEST_HARNESS_MAIN
