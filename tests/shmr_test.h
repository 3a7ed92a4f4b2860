/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the VM tests (tests/vm/X.c): talk to /dev/shmr with raw
 * ioctls (no libshmr), read the module's debugfs counters, run a function
 * under other credentials in a forked child.
 *
 * It includes "kselftest_harness.h" itself (the 6.1 harness has an unused
 * parameter, which -Wextra -Werror refuses). Every helper returns 0 (or an fd, or
 * a value) on success and a negative errno on failure; none of them asserts.
 * SHMR_REQUIRE_DEVICE() is the one macro that uses the harness.
 *
 * The API here is used by several test files: extend it, do not change it.
 */
#ifndef SHMR_TEST_H
#define SHMR_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/shmr.h>

#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"

#define SHMR_COUNTERS_PATH	"/sys/kernel/debug/shmr/counters"

/*
 * Skip the test (exit status 255, which the harness reports as SKIP) when
 * /dev/shmr is absent. Exits rather than returns so that it also works in a
 * FIXTURE_SETUP(), where the 6.1 harness would otherwise run the test body
 * after a SKIP().
 */
#define SHMR_REQUIRE_DEVICE() do {					\
	if (access(SHMR_DEVICE_PATH, F_OK) != 0)			\
		SKIP(_exit(255), "%s absent: shmr module not loaded",	\
		     SHMR_DEVICE_PATH);					\
} while (0)

static inline long shmr_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* ioctl() returning its result or -errno. */
static inline int shmr_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret = ioctl(fd, cmd, arg);

	return ret < 0 ? -errno : ret;
}

/* A new control fd (O_RDWR | O_CLOEXEC) or -errno. */
static inline int shmr_ctl_open(void)
{
	int fd = open(SHMR_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}
/* Send @fd over the unix socket @sock (SCM_RIGHTS, one byte): 0 or -errno. */
static inline int shmr_send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

/* Receive an fd sent by shmr_send_fd() (close-on-exec): the fd or -errno. */
static inline int shmr_recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -errno;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}


static inline void shmr_fill(void *p, size_t len, unsigned char byte)
{
	memset(p, byte, len);
}

/* Fill with 0xA5, the "the module must overwrite this" pattern. */
static inline void shmr_fill_a5(void *p, size_t len)
{
	shmr_fill(p, len, 0xA5);
}

/* True if every byte of p[0..len) is byte. */
static inline bool shmr_all_bytes(const void *p, size_t len, unsigned char byte)
{
	const unsigned char *c = p;
	size_t i;

	for (i = 0; i < len; i++)
		if (c[i] != byte)
			return false;
	return true;
}

/*
 * True if name[] is NUL-terminated within len and every byte after the
 * first NUL is zero (no stale kernel or user bytes leak out).
 */
static inline bool shmr_str_zero_padded(const char *name, size_t len)
{
	const char *nul = memchr(name, 0, len);

	if (!nul)
		return false;
	return shmr_all_bytes(nul, len - (size_t)(nul - name), 0);
}

/*
 * A name unique to this process and call: "<tag>.<pid>.<n>". buf needs at
 * least 64 bytes more than strlen(tag).
 */
static inline const char *shmr_test_name(char *buf, size_t len, const char *tag)
{
	static unsigned int seq;

	snprintf(buf, len, "%s.%d.%u", tag, (int)getpid(), seq++);
	return buf;
}

/*
 * Names to unlink when the test ends, even after a failed ASSERT: call
 * shmr_track() after creating a named region and shmr_cleanup() from the
 * FIXTURE_TEARDOWN(). Each test runs in its own forked child, so the list
 * is per test. Errors (already unlinked) are ignored.
 */
#define SHMR_TRACK_MAX	64
static char *shmr_tracked[SHMR_TRACK_MAX];

static inline const char *shmr_track(const char *name)
{
	int i;

	for (i = 0; i < SHMR_TRACK_MAX; i++) {
		if (!shmr_tracked[i]) {
			shmr_tracked[i] = strdup(name);
			break;
		}
	}
	return name;
}

static inline int shmr_unlink(int ctl, const char *name);

static inline void shmr_cleanup(void)
{
	int i, ctl = open(SHMR_DEVICE_PATH, O_RDWR | O_CLOEXEC);

	for (i = 0; i < SHMR_TRACK_MAX; i++) {
		if (!shmr_tracked[i])
			continue;
		if (ctl >= 0)
			shmr_unlink(ctl, shmr_tracked[i]);
		free(shmr_tracked[i]);
		shmr_tracked[i] = NULL;
	}
	if (ctl >= 0)
		close(ctl);
}

static inline int shmr_features(int fd, struct shmr_features *f)
{
	memset(f, 0, sizeof(*f));
	return shmr_ioctl(fd, SHMR_IOC_FEATURES, f);
}

/*
 * CREATE: returns the new region fd or -errno. out (may be NULL) receives
 * the struct as the module returned it. name NULL creates an anonymous
 * region.
 */
static inline int shmr_create(int ctl, const char *name, uint64_t size,
			      uint32_t flags, uint32_t mode,
			      struct shmr_create *out)
{
	struct shmr_create c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.name = (uintptr_t)name;
	c.size = size;
	c.flags = flags;
	c.mode = mode;
	c.fd = -1;
	ret = shmr_ioctl(ctl, SHMR_IOC_CREATE, &c);
	if (out)
		*out = c;
	if (ret < 0)
		return ret;
	return c.fd;
}

/* OPEN: returns the new region fd or -errno; out may be NULL. */
static inline int shmr_open(int ctl, const char *name, uint32_t flags,
			    struct shmr_open *out)
{
	struct shmr_open o;
	int ret;

	memset(&o, 0, sizeof(o));
	o.name = (uintptr_t)name;
	o.flags = flags;
	o.fd = -1;
	ret = shmr_ioctl(ctl, SHMR_IOC_OPEN, &o);
	if (out)
		*out = o;
	if (ret < 0)
		return ret;
	return o.fd;
}

static inline int shmr_unlink(int ctl, const char *name)
{
	struct shmr_unlink u;

	memset(&u, 0, sizeof(u));
	u.name = (uintptr_t)name;
	return shmr_ioctl(ctl, SHMR_IOC_UNLINK, &u);
}

/*
 * ATTACH: 0 or -errno. out (may be NULL) receives the struct as the module
 * returned it: the mapping's addr and size, the region's id.
 */
static inline int shmr_attach(int ctl, const char *name, uint32_t flags,
			      struct shmr_attach_req *out)
{
	struct shmr_attach_req a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.name = (uintptr_t)name;
	a.flags = flags;
	ret = shmr_ioctl(ctl, SHMR_IOC_ATTACH, &a);
	if (out)
		*out = a;
	return ret;
}

/* STAT on a region fd (id 0), without attach entries. */
/* Is name gone (open fails with ENOENT)? For shmr_wait_until(). */
static inline bool shmr_name_gone(int ctl, const char *name)
{
	int fd = shmr_open(ctl, name, SHMR_OPEN_RDONLY, NULL);

	if (fd >= 0)
		close(fd);
	return fd == -ENOENT;
}

static inline int shmr_stat_fd(int fd, struct shmr_region_info *info)
{
	struct shmr_stat s;
	int ret;

	memset(&s, 0, sizeof(s));
	ret = shmr_ioctl(fd, SHMR_IOC_STAT, &s);
	if (ret == 0 && info)
		*info = s.info;
	return ret;
}

/* STAT by id on the control fd, without attach entries. */
static inline int shmr_stat_id(int ctl, uint64_t id,
			       struct shmr_region_info *info)
{
	struct shmr_stat s;
	int ret;

	memset(&s, 0, sizeof(s));
	s.id = id;
	ret = shmr_ioctl(ctl, SHMR_IOC_STAT, &s);
	if (ret == 0 && info)
		*info = s.info;
	return ret;
}

/*
 * Read one counter from debugfs: its value, or -errno (-ENOENT when the
 * file or the line is missing).
 */
static inline long long shmr_counter(const char *name)
{
	char line[256], key[128];
	long long val, ret = -ENOENT;
	FILE *f = fopen(SHMR_COUNTERS_PATH, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %lld", key, &val) == 2 &&
		    strcmp(key, name) == 0) {
			ret = val;
			break;
		}
	}
	fclose(f);
	return ret;
}

/*
 * shmr_wait_until(cond): poll cond every 10 ms until it holds or
 * SHMR_WAIT_SECONDS have passed; true if it held. For state that settles
 * after the call that changed it returns: a work item unlinking a dead
 * creator's name, a dying process's last fput, memory.current. The bound is
 * generous because a TCG guest on a loaded host can stall for seconds; a
 * test that passes never waits for it.
 */
#define SHMR_WAIT_SECONDS	60

static inline uint64_t shmr_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

#define shmr_wait_until(cond) ({					\
	uint64_t __shmr_end = shmr_now_ms() + SHMR_WAIT_SECONDS * 1000;	\
	bool __shmr_ok;							\
									\
	while (!(__shmr_ok = (cond)) && shmr_now_ms() < __shmr_end)	\
		usleep(10000);						\
	__shmr_ok;							\
})

/* ---- credentials -------------------------------------------------------- */

#define SHMR_CAP(c)		(1ULL << (c))
/* shmr_creds.caps: leave the capability sets as a root parent has them */
#define SHMR_CAPS_UNCHANGED	(~0ULL)

struct shmr_creds {
	uid_t uid;		/* real, effective and saved uid */
	gid_t gid;		/* real, effective and saved gid */
	int ngroups;		/* supplementary groups */
	gid_t groups[8];
	/*
	 * Effective and permitted capabilities after the switch (SHMR_CAP()
	 * bits), or SHMR_CAPS_UNCHANGED (only meaningful for uid 0). A
	 * non-root uid keeps the listed capabilities through PR_SET_KEEPCAPS.
	 */
	uint64_t caps;
};

/* The calling thread's effective capabilities (SHMR_CAP() bits), 0 on error. */
static inline uint64_t shmr_caps_current(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data))
		return 0;
	return (uint64_t)data[0].effective | ((uint64_t)data[1].effective << 32);
}

/* Switch the calling process to creds: 0 or -errno. For forked children. */
static inline int shmr_become(const struct shmr_creds *cr)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (setgroups(cr->ngroups, cr->groups))
		return -errno;
	if (setresgid(cr->gid, cr->gid, cr->gid))
		return -errno;
	if (cr->caps != SHMR_CAPS_UNCHANGED && cr->uid != 0 &&
	    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		return -errno;
	if (setresuid(cr->uid, cr->uid, cr->uid))
		return -errno;
	if (cr->caps == SHMR_CAPS_UNCHANGED)
		return 0;
	memset(data, 0, sizeof(data));
	data[0].effective = data[0].permitted = (uint32_t)cr->caps;
	data[1].effective = data[1].permitted = (uint32_t)(cr->caps >> 32);
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

/* Returned by shmr_run_as() when the child did not return normally. */
#define SHMR_RUN_CRASHED	INT_MIN
#define SHMR_RUN_NOCREDS	(INT_MIN + 1)

/*
 * Fork; in the child switch to creds and return fn(arg) to the parent.
 * Returns what fn returned, SHMR_RUN_NOCREDS if the switch failed,
 * SHMR_RUN_CRASHED if the child died otherwise (signal, exit), or -errno if
 * the fork failed. The child inherits the caller's fds.
 */
static inline int shmr_run_as(const struct shmr_creds *cr,
			      int (*fn)(void *arg), void *arg)
{
	int *res, ret, status;
	pid_t pid;

	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		return -errno;
	*res = SHMR_RUN_CRASHED;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		munmap(res, sizeof(*res));
		return ret;
	}
	if (pid == 0) {
		if (shmr_become(cr)) {
			*res = SHMR_RUN_NOCREDS;
			_exit(1);
		}
		*res = fn(arg);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		ret = SHMR_RUN_CRASHED;
	else if (!WIFEXITED(status))
		ret = SHMR_RUN_CRASHED;
	else
		ret = *res;
	munmap(res, sizeof(*res));
	return ret;
}

/*
 * Run fn(arg) in a forked child (same credentials) and return the signal
 * that killed it, 0 if it exited with status 0, or -1 otherwise.
 */
static inline int shmr_child_signal(void (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status))
		return WTERMSIG(status);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/*
 * Two pages: the first read-write, the second PROT_NONE. Returns the start
 * of the first or NULL. shmr_guard_free() releases it. Used to build names
 * that run into unreadable memory.
 */
static inline char *shmr_guard_alloc(void)
{
	long pg = shmr_page_size();
	char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (mprotect(p + pg, pg, PROT_NONE)) {
		munmap(p, 2 * pg);
		return NULL;
	}
	return p;
}

static inline void shmr_guard_free(char *p)
{
	munmap(p, 2 * shmr_page_size());
}

/* The first address of the PROT_NONE page of a shmr_guard_alloc() block. */
static inline void *shmr_guard_fault(char *p)
{
	return p + shmr_page_size();
}

#endif /* SHMR_TEST_H */
