/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libshmr: refcounted shared memory regions and robust process-shared locks.
 *
 * Every function returns 0 (or a non-negative value where documented) on
 * success and a negative errno on failure; none sets errno. All functions
 * are thread-safe unless stated otherwise.
 */
#ifndef SHMR_H
#define SHMR_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SHMR_BUILDING_LIBRARY)
#define SHMR_API __attribute__((visibility("default")))
#else
#define SHMR_API
#endif

/* ==== Regions ========================================================== */

/*
 * A region handle: one open file descriptor on a region plus what the
 * library knows about it. Opaque; freed by shmr_region_close().
 *
 * Backends: the kernel module (/dev/shmr), else, only when the module is
 * absent, POSIX shm (shm_open("/shmr.NAME"), so names are at most 250
 * bytes there) for named regions and memfd_create() for anonymous ones. A
 * /dev/shmr that exists but cannot be opened is an error (see
 * shmr_backend()), not a reason to fall back. SHMR_BACKEND=kernel|posix in
 * the environment (read once, at the first call) forces one.
 */
struct shmr_region;

/*
 * Region names: 1..SHMR_REGION_NAME_MAX bytes, no '/'. On the posix backend
 * a name NAME is the POSIX shm object "/shmr.NAME", and "/NAME" (one '/',
 * first) is the POSIX shm object "/NAME" itself, to share regions with
 * shm_open() and Python's multiprocessing.shared_memory.
 */
#define SHMR_REGION_NAME_MAX	255

/* Flags of struct shmr_region_opts.flags and shmr_region_open() */
#define SHMR_REGION_EXCL	(1U << 0)	/* create: -EEXIST if the name exists */
#define SHMR_REGION_PROCESS	(1U << 1)	/* create: unlink when this process exits (posix: tracker) */
#define SHMR_REGION_HUGE	(1U << 2)	/* create: huge pages, size rounded to 2 MiB (kernel) */
#define SHMR_REGION_NOCLOEXEC	(1U << 3)	/* handle fd kept across exec (default: close-on-exec) */
#define SHMR_REGION_RDONLY	(1U << 4)	/* open: read-only handle, read-only mappings */

/*
 * Options of shmr_region_create(). Set sz to sizeof(struct shmr_region_opts):
 * the struct may grow at its end; a larger sz than the library knows is
 * accepted when the unknown bytes are zero (else -E2BIG), a smaller sz than
 * the first version is -EINVAL. SHMR_REGION_OPTS(...) fills sz for you:
 *
 *	shmr_region_create(&SHMR_REGION_OPTS(.name = "jobs", .size = 4096), &r);
 *
 * In C++ (17 or later) the members have default initializers, so
 * SHMR_REGION_OPTS(...) and a plain "shmr_region_opts o{}" set sz too;
 * designators must then follow the declaration order (C++20 rules).
 */
#ifdef __cplusplus
#define SHMR_CXX_DEFAULT(...)	= __VA_ARGS__
#else
#define SHMR_CXX_DEFAULT(...)
#endif

struct shmr_region_opts {
	size_t sz SHMR_CXX_DEFAULT(sizeof(shmr_region_opts));	/* sizeof(struct shmr_region_opts) */
	const char *name SHMR_CXX_DEFAULT(NULL);	/* NULL: anonymous (share it with shmr_region_send) */
	uint64_t size SHMR_CXX_DEFAULT(0);	/* bytes, > 0; rounded up to the page (or huge page) size */
	uint32_t mode SHMR_CXX_DEFAULT(0);	/* permission bits, at most 0777; 0 means 0600; no umask */
	uint32_t flags SHMR_CXX_DEFAULT(0);	/* SHMR_REGION_EXCL|PROCESS|HUGE|NOCLOEXEC */
};

#ifdef __cplusplus
} /* extern "C" */
/* An lvalue for the temporary, so that &SHMR_REGION_OPTS(...) is valid C++. */
static inline shmr_region_opts &shmr_region_opts_lvalue_(shmr_region_opts &&o)
{
	return o;
}
#define SHMR_REGION_OPTS(...) (shmr_region_opts_lvalue_(shmr_region_opts{ __VA_ARGS__ }))
extern "C" {
#else
#define SHMR_REGION_OPTS(...) \
	((struct shmr_region_opts){ .sz = sizeof(struct shmr_region_opts), __VA_ARGS__ })
#endif

/*
 * Create a region (or, for a named one without SHMR_REGION_EXCL, open it
 * read-write if the name exists; its size must then be at least opts->size,
 * else -EINVAL). *out receives a read-write handle.
 * Errors: -EINVAL (bad opts, size 0, mode > 0777, unknown flags, EXCL or
 * PROCESS without a name, empty name or one containing '/'),
 * -ENAMETOOLONG, -EEXIST, -EACCES, -EOPNOTSUPP (HUGE on the posix backend,
 * PROCESS there without the tracker helper), -ECHILD or -EPIPE (the tracker
 * helper did not start), -ENOMEM, -ENOSPC/-EDQUOT (module limits), -ENODEV.
 */
SHMR_API int shmr_region_create(const struct shmr_region_opts *opts, struct shmr_region **out);

/*
 * Open a named region. flags: SHMR_REGION_RDONLY, SHMR_REGION_NOCLOEXEC.
 * Errors: -EINVAL, -ENAMETOOLONG, -ENOENT, -EACCES, -EPERM (sealed), -ENODEV.
 */
SHMR_API int shmr_region_open(const char *name, unsigned int flags, struct shmr_region **out);

/*
 * Map the whole region MAP_SHARED, read-write (read-only for a read-only
 * handle); *addr receives the address. A handle may be mapped many times;
 * each mapping stays valid after shmr_region_close() until
 * shmr_region_unmap(). Errors: -EINVAL, -ENOMEM, -EPERM, -EACCES.
 */
SHMR_API int shmr_region_map(struct shmr_region *r, void **addr);

/*
 * Map the whole of a named region without a handle, like shmat(): no file
 * descriptor is left behind (kernel backend: one ioctl that maps; posix:
 * shm_open(), fstat(), mmap() and close() inside). MAP_SHARED, read-write,
 * or read-only for good with flags SHMR_REGION_RDONLY (the only flag).
 * *addr receives the address and, unless size is NULL, *size the length
 * (the region's size). Permissions, seals, attach tracking, events and
 * exit records are those of any mapping; shmr_region_unmap(*addr)
 * detaches. Errors: -EINVAL (bad name or flags, addr NULL), -ENAMETOOLONG,
 * -ENOENT, -EACCES, -EPERM (writable attach of a sealed region), -ENOMEM,
 * -ENODEV.
 */
SHMR_API int shmr_region_attach(const char *name, unsigned int flags, void **addr, size_t *size);

/*
 * Unmap a mapping made by shmr_region_map() or shmr_region_attach(); -EINVAL
 * if addr is not one.
 */
SHMR_API int shmr_region_unmap(void *addr);

/* Close a handle (and free it, even on error); mappings stay. NULL is a no-op. */
SHMR_API int shmr_region_close(struct shmr_region *r);

/* Remove a name; the region lives on while handles or mappings remain. */
SHMR_API int shmr_region_unlink(const char *name);

/* The handle's file descriptor (the handle keeps it: do not close it). */
SHMR_API int shmr_region_fd(const struct shmr_region *r);

/* The region's size in bytes (after rounding). */
SHMR_API uint64_t shmr_region_size(const struct shmr_region *r);

/* struct shmr_region_stat.flags */
#define SHMR_STAT_ANON		(1U << 0)	/* anonymous region */
#define SHMR_STAT_UNLINKED	(1U << 1)	/* name removed, region still alive */
#define SHMR_STAT_SEALED	(1U << 2)	/* shmr_region_seal() applied */
#define SHMR_STAT_PROCESS	(1U << 3)	/* created with SHMR_REGION_PROCESS */
#define SHMR_STAT_HUGE		(1U << 4)	/* created with SHMR_REGION_HUGE */

/* handles, mappings and nattach when the backend cannot know them (posix) */
#define SHMR_COUNT_UNKNOWN	UINT32_MAX

struct shmr_region_stat {
	uint64_t id;		/* unique until reboot (posix: the inode number) */
	uint64_t size;		/* bytes */
	uint64_t ctime_ns;	/* creation time, CLOCK_REALTIME (posix: ctime) */
	uint32_t uid;
	uint32_t gid;
	uint32_t mode;		/* permission bits */
	uint32_t flags;		/* SHMR_STAT_* */
	int32_t creator_pid;	/* 0 if unknown or not visible */
	uint32_t handles;	/* open handles, all processes, or SHMR_COUNT_UNKNOWN */
	uint32_t mappings;	/* live mappings, all processes, or SHMR_COUNT_UNKNOWN */
	uint32_t nattach;	/* attached processes, or SHMR_COUNT_UNKNOWN */
	uint64_t reserved[4];	/* zero */
	char name[SHMR_REGION_NAME_MAX + 1];	/* empty if anonymous */
};

/* Describe the region behind a handle. */
SHMR_API int shmr_region_stat(const struct shmr_region *r, struct shmr_region_stat *st);

/*
 * Describe a region by id without opening it (kernel: on the control fd,
 * nothing is attached). -ENOENT if no such region is visible.
 */
SHMR_API int shmr_region_stat_id(uint64_t id, struct shmr_region_stat *st);

/*
 * Every visible region (kernel: all of this IPC namespace's regions, named,
 * unlinked and anonymous, in creation order; posix: the named ones in
 * /dev/shm). Writes up to cap entries and returns how many there are (may
 * exceed cap: call again with a larger buffer). out may be NULL if cap is 0.
 */
SHMR_API int shmr_region_list(struct shmr_region_stat *out, size_t cap);

/* A process attached to a region (it holds a handle or a mapping). */
struct shmr_attacher {
	int32_t pid;		/* 0 if not visible from the caller's pid namespace */
	uint32_t handles;
	uint32_t mappings;
	uint32_t reserved0;
	uint64_t since_ns;	/* CLOCK_REALTIME */
	char comm[16];
};

/*
 * Who is attached: writes up to cap entries, returns how many there are.
 * -EOPNOTSUPP on the posix backend (see shmr_features()).
 */
SHMR_API int shmr_region_who(const struct shmr_region *r, struct shmr_attacher *out, size_t cap);
SHMR_API int shmr_region_who_id(uint64_t id, struct shmr_attacher *out, size_t cap);

/*
 * Seal against writing (like F_SEAL_FUTURE_WRITE): existing mappings keep
 * their access, new writable opens and mappings fail with -EPERM.
 * -EBUSY while pages are pinned (an io_uring fixed buffer, O_DIRECT in
 * flight), as F_SEAL_WRITE on a memfd. Every other handle of the region
 * gets SHMR_EVENT_SEALED. Read-write handle only. -EOPNOTSUPP on the posix
 * backend.
 */
SHMR_API int shmr_region_seal(struct shmr_region *r);

/* Lifetime events (poll() the fd for POLLIN): shmr_region_events() */
#define SHMR_EVENT_UNLINKED	(1U << 0)	/* the name was removed */
#define SHMR_EVENT_DETACHED	(1U << 1)	/* another process detached */
#define SHMR_EVENT_PEER_DIED	(1U << 2)	/* another process died attached */
#define SHMR_EVENT_SEALED	(1U << 3)	/* sealed, through another handle */

/* Fetch and clear this handle's pending events. -EOPNOTSUPP on posix. */
SHMR_API int shmr_region_events(struct shmr_region *r, uint32_t *events);

/*
 * Pass a region over a connected AF_UNIX socket (SCM_RIGHTS, one message).
 * The receiver gets its own handle (same access as the sender's, close-on-
 * exec unless flags has SHMR_REGION_NOCLOEXEC) that it can map and stat.
 * recv errors: -EBADMSG (not a shmr message), -ECONNRESET (peer closed),
 * socket errors.
 */
SHMR_API int shmr_region_send(int sock, const struct shmr_region *r);
SHMR_API int shmr_region_recv(int sock, unsigned int flags, struct shmr_region **out);

/*
 * Lifetime tracking: every handle and mapping the process holds is
 * recorded with where it was made. The macros below pass __FILE__ and
 * __LINE__ (define SHMR_NO_TRACKING_MACROS to get the plain functions,
 * which record their caller's return address instead, resolved with
 * dladdr() when reported).
 */
SHMR_API int shmr_region_create_at(const struct shmr_region_opts *opts, struct shmr_region **out,
				   const char *file, int line);
SHMR_API int shmr_region_open_at(const char *name, unsigned int flags, struct shmr_region **out,
				 const char *file, int line);
SHMR_API int shmr_region_map_at(struct shmr_region *r, void **addr, const char *file, int line);
SHMR_API int shmr_region_attach_at(const char *name, unsigned int flags, void **addr, size_t *size,
				   const char *file, int line);
SHMR_API int shmr_region_recv_at(int sock, unsigned int flags, struct shmr_region **out,
				 const char *file, int line);

#ifndef SHMR_NO_TRACKING_MACROS
#define shmr_region_create(opts, out) shmr_region_create_at(opts, out, __FILE__, __LINE__)
#define shmr_region_open(name, flags, out) shmr_region_open_at(name, flags, out, __FILE__, __LINE__)
#define shmr_region_map(r, addr) shmr_region_map_at(r, addr, __FILE__, __LINE__)
#define shmr_region_attach(name, flags, addr, size) \
	shmr_region_attach_at(name, flags, addr, size, __FILE__, __LINE__)
#define shmr_region_recv(sock, flags, out) shmr_region_recv_at(sock, flags, out, __FILE__, __LINE__)
#endif

/* ==== Backend and features ============================================== */

#define SHMR_BACKEND_KERNEL	1
#define SHMR_BACKEND_POSIX	2

/*
 * The backend in use: SHMR_BACKEND_KERNEL or SHMR_BACKEND_POSIX, or why
 * there is none, which every call that needs a backend then returns too:
 * -EACCES/-EPERM (/dev/shmr exists but this process may not open it),
 * -ENODEV (SHMR_BACKEND=kernel without the module), -ENOTTY (/dev/shmr is
 * not a shmr module this library speaks to), -EINVAL (bad SHMR_BACKEND).
 */
SHMR_API int shmr_backend(void);

/* "kernel", "posix", or "none" when shmr_backend() fails. */
SHMR_API const char *shmr_backend_name(void);

/*
 * NULL when a backend is in use; else one line that says why there is
 * none, naming the device, its owner, group and mode, and what to do.
 * Valid until the calling thread calls it again.
 */
SHMR_API const char *shmr_backend_error(void);

/* shmr_features() bits */
#define SHMR_FEATURE_NAMED	(1ULL << 0)	/* named regions */
#define SHMR_FEATURE_ANON	(1ULL << 1)	/* anonymous regions */
#define SHMR_FEATURE_ATTACH	(1ULL << 2)	/* shmr_region_who(), counts in stat */
#define SHMR_FEATURE_PROCESS	(1ULL << 3)	/* SHMR_REGION_PROCESS */
#define SHMR_FEATURE_HUGE	(1ULL << 4)	/* SHMR_REGION_HUGE */
#define SHMR_FEATURE_SEAL	(1ULL << 5)	/* shmr_region_seal() */
#define SHMR_FEATURE_EVENTS	(1ULL << 6)	/* shmr_region_events(), poll() */
#define SHMR_FEATURE_EXITS	(1ULL << 7)	/* shmr_exit_list() */
/*
 * names are per IPC namespace: the library acts in the calling thread's
 * current one, also after unshare(CLONE_NEWIPC) or setns()
 */
#define SHMR_FEATURE_IPC_NS	(1ULL << 8)
#define SHMR_FEATURE_LIST_ANON	(1ULL << 9)	/* shmr_region_list() shows anonymous regions */

/*
 * What the current backend supports (SHMR_FEATURE_*); what is missing
 * fails with -EOPNOTSUPP. posix: NAMED | ANON, and PROCESS when the
 * tracker helper (LIBDIR/shmr/shmr-tracker, or SHMR_TRACKER) is found.
 */
SHMR_API int shmr_features(uint64_t *features);

/* ==== Kernel exit records =============================================== */

/* A process that exited or was killed while attached to a region. */
struct shmr_exit {
	uint64_t region_id;
	uint64_t when_ns;	/* CLOCK_REALTIME */
	int32_t pid;		/* 0 if not visible */
	int32_t signal;		/* the signal that ended it, 0 if it exited */
	int32_t status;		/* exit status if it exited */
	uint32_t handles;	/* still held when it ended */
	uint32_t mappings;	/* still mapped when it ended */
	uint32_t reserved0;
	char comm[16];
	char name[SHMR_REGION_NAME_MAX + 1];	/* empty if anonymous */
};

#define SHMR_EXITS_CLEAR	(1U << 0)	/* forget the records returned */

/*
 * The module's exit records of this IPC namespace, oldest first: writes up
 * to cap, returns how many it holds. Only records of regions the caller
 * owns or could open for reading (all with CAP_IPC_OWNER). SHMR_EXITS_CLEAR
 * forgets the records written. -EOPNOTSUPP on the posix backend.
 */
SHMR_API int shmr_exit_list(struct shmr_exit *out, size_t cap, unsigned int flags);

/* ==== Lifetime registry and leak report ================================= */

#define SHMR_TRACKED_HANDLE	1
#define SHMR_TRACKED_MAPPING	2

/* One handle or mapping held by this process, as the registry knows it. */
struct shmr_tracked {
	int kind;		/* SHMR_TRACKED_* */
	int fd;			/* handle: its fd; mapping: -1 */
	void *addr;		/* mapping: its address; handle: NULL */
	uint64_t size;
	uint64_t id;		/* region id (posix: inode number, 0 for anonymous) */
	int32_t pid;		/* process that made it (differs after fork) */
	int inherited;		/* made before a fork, by the parent */
	char where[128];	/* "file:line", "func+0xoff (object)" or "0xaddr" */
	char name[SHMR_REGION_NAME_MAX + 1];	/* "" if anonymous */
};

/*
 * This process's handles and mappings, newest first: writes up to cap,
 * returns how many there are. After fork() the child's registry holds what
 * it inherited (marked inherited); threads share one registry.
 */
SHMR_API int shmr_registry_list(struct shmr_tracked *out, size_t cap);

/*
 * The leak report: what this process made itself and still holds (handles
 * never closed, mappings never unmapped; not what it inherited over fork),
 * and the locks its threads still hold. One line per item, nothing at all
 * when there is nothing to report:
 *
 *   shmr-leak: pid=PID comm=COMM leaks=N
 *   shmr-leak: handle name=NAME size=BYTES fd=FD id=ID where=WHERE
 *   shmr-leak: mapping name=NAME size=BYTES addr=0xADDR id=ID where=WHERE
 *   shmr-leak: lock kind=KIND addr=0xADDR tid=TID where=WHERE
 *
 * NAME is the region name with bytes outside 0x21..0x7e written as \xHH, or
 * "(anonymous)"; WHERE is "file:line" (tracking macros), "func+0xoff
 * (object)" or "object+0xoff" (dladdr of the caller), or "?".
 * Returns N (0 if nothing leaked) or a negative errno.
 *
 * At exit the same report is written if N > 0, controlled by the
 * environment: SHMR_LEAK=off|warn|fatal (default warn: written to stderr;
 * fatal: written, then the process exits with SHMR_LEAK_EXIT_CODE; any
 * other value: warn) and SHMR_LEAK_FILE=PATH (appended to PATH instead of
 * stderr; stderr if PATH cannot be opened). Both are read at exit.
 */
SHMR_API int shmr_leak_report(FILE *f);

/* How many leaks shmr_leak_report() would report now. */
SHMR_API int shmr_leak_count(void);

#define SHMR_LEAK_EXIT_CODE	86


/* ==== Locks ============================================================ */

/*
 * Process-shared, robust, futex-based locks. Place them in any MAP_SHARED
 * memory (a shmr region, memfd, shm_open, MAP_SHARED|MAP_ANONYMOUS across
 * fork), 8-byte aligned, and initialise them once with the *_init function
 * before any process uses them. The structures are opaque; their sizes and
 * layouts are fixed per layout version (see shmr_mutex_init(3)).
 *
 * Robustness: if the thread holding a mutex, or an rwlock exclusively,
 * exits or its process dies (SIGKILL included), the next locker gets
 * -EOWNERDEAD and holds the lock; it calls *_consistent() once the data is
 * repaired, or unlocks without it and the lock becomes -ENOTRECOVERABLE
 * for everyone. Waiters blocked at the time of the death are woken. The
 * locks share the per-thread robust list that glibc registers with the
 * kernel, so they coexist with glibc's robust pthread mutexes.
 *
 * Timed functions take an absolute time on clock (CLOCK_MONOTONIC or
 * CLOCK_REALTIME, else -EINVAL) and return -ETIMEDOUT when it passes.
 */
struct shmr_mutex {
	uint32_t __w[6];
	void *__list[2];
	uint64_t __reserved[3];
};					/* 64 bytes */

#define SHMR_RWLOCK_READERS	16	/* readers holding at once; more wait */

struct shmr_rwlock {
	struct shmr_mutex __writer;
	struct shmr_mutex __reader[SHMR_RWLOCK_READERS];
};

struct shmr_cond {
	uint32_t __w[4];
	uint64_t __reserved[2];
};					/* 32 bytes */

/* flags must be 0 and m 8-byte aligned, else -EINVAL. */
SHMR_API int shmr_mutex_init(struct shmr_mutex *m, unsigned int flags);
/*
 * 0, -EOWNERDEAD (held, previous owner died), -ENOTRECOVERABLE, -EDEADLK
 * (already held by this thread), -EINVAL (not initialised).
 */
SHMR_API int shmr_mutex_lock(struct shmr_mutex *m);
/* As lock, but -EBUSY instead of waiting. */
SHMR_API int shmr_mutex_trylock(struct shmr_mutex *m);
SHMR_API int shmr_mutex_timedlock(struct shmr_mutex *m, clockid_t clock,
				  const struct timespec *abstime);
/* 0, -EPERM (not held by this thread), -EINVAL. */
SHMR_API int shmr_mutex_unlock(struct shmr_mutex *m);
/* After -EOWNERDEAD: the protected state is repaired. 0, -EINVAL, -EPERM. */
SHMR_API int shmr_mutex_consistent(struct shmr_mutex *m);
/*
 * Who holds m: 0 with *pid and *tid (as seen in the owner's PID namespace)
 * when held; -ENOENT when free; -EOWNERDEAD when the owner died and nobody
 * has taken the lock since (*pid is the dead owner's, *tid 0);
 * -ENOTRECOVERABLE; -EINVAL. pid or tid may be NULL. A snapshot only.
 */
SHMR_API int shmr_mutex_owner(const struct shmr_mutex *m, pid_t *pid,
			      pid_t *tid);

/*
 * Reader-writer lock. Writers are preferred: once a writer is waiting for
 * the readers to leave, new readers wait, so a read-mostly workload cannot
 * starve writers (the usual reason to take an rwlock is that updates are
 * rare but must happen). Read locks are not recursive: a thread that holds
 * a read lock and asks again can deadlock behind a waiting writer.
 *
 * Death: a writer's death is a mutex owner's death (-EOWNERDEAD to the next
 * locker, reader or writer). A reader that gets -EOWNERDEAD holds the lock
 * EXCLUSIVELY until it unlocks. A reader's death is silent: readers do not
 * modify the data, so its hold is simply released (the kernel frees its
 * reader slot and wakes a waiting writer).
 */
SHMR_API int shmr_rwlock_init(struct shmr_rwlock *rw, unsigned int flags);
SHMR_API int shmr_rwlock_rdlock(struct shmr_rwlock *rw);
SHMR_API int shmr_rwlock_tryrdlock(struct shmr_rwlock *rw);
SHMR_API int shmr_rwlock_timedrdlock(struct shmr_rwlock *rw, clockid_t clock,
				     const struct timespec *abstime);
SHMR_API int shmr_rwlock_wrlock(struct shmr_rwlock *rw);
SHMR_API int shmr_rwlock_trywrlock(struct shmr_rwlock *rw);
SHMR_API int shmr_rwlock_timedwrlock(struct shmr_rwlock *rw, clockid_t clock,
				     const struct timespec *abstime);
/* Releases this thread's read or write hold: 0, -EPERM, -EINVAL. */
SHMR_API int shmr_rwlock_unlock(struct shmr_rwlock *rw);
SHMR_API int shmr_rwlock_consistent(struct shmr_rwlock *rw);
/* The writer, as shmr_mutex_owner(); -ENOENT if no writer holds it. */
SHMR_API int shmr_rwlock_owner(const struct shmr_rwlock *rw, pid_t *pid,
			       pid_t *tid);

/*
 * Condition variable used with a shmr_mutex held by the caller. Wakeups may
 * be spurious: always re-check the predicate. wait returns what relocking
 * the mutex returned (0, -EOWNERDEAD: the mutex is held either way,
 * -ENOTRECOVERABLE: it is not), -ETIMEDOUT from timedwait (mutex held), or
 * -EPERM if the caller does not hold m. A waiter that dies leaves nothing
 * locked; see shmr_cond_init(3) for the one signal it may absorb.
 */
SHMR_API int shmr_cond_init(struct shmr_cond *c, unsigned int flags);
SHMR_API int shmr_cond_wait(struct shmr_cond *c, struct shmr_mutex *m);
SHMR_API int shmr_cond_timedwait(struct shmr_cond *c, struct shmr_mutex *m,
				 clockid_t clock,
				 const struct timespec *abstime);
SHMR_API int shmr_cond_signal(struct shmr_cond *c);
SHMR_API int shmr_cond_broadcast(struct shmr_cond *c);

/* ==== Batched control (io_uring) ======================================== */

/*
 * A batch queues region operations, runs them with one system call
 * (io_uring IORING_OP_URING_CMD on the module's fds) and keeps one result
 * per operation: a failing operation does not fail the others. Create,
 * open, unlink and stat by id, which the module would hand to an io_uring
 * worker thread, run as ioctl()s in the calling thread instead (cheaper
 * than the worker's wake-up).
 *
 * Transport, chosen once per process at the first shmr_batch_new(): the
 * ring when the kernel backend is in use, io_uring works and the module
 * supports uring commands and answers a probe command; otherwise the same
 * operations run one by one as ioctls (kernel backend) or backend calls
 * (posix backend, where shmr_batch_events/wait_events are -EOPNOTSUPP).
 * SHMR_URING=off in the environment forces that fallback. Results and
 * errnos are the same either way.
 *
 * Operations of one submit may run concurrently and complete in any order
 * (the fallback runs them in queue order): put an operation that depends on
 * another in a later submit.
 *
 * Thread-safety: a batch is single-threaded (one thread at a time uses it;
 * different batches are independent). After fork() only the parent may use
 * a batch: the child frees it (no operation runs) and makes its own.
 */
struct shmr_batch;

#define SHMR_BATCH_FALLBACK	(1U << 0)	/* shmr_batch_new(): never use the ring */

/* shmr_batch_transport() */
#define SHMR_BATCH_RING		1	/* io_uring uring_cmd */
#define SHMR_BATCH_IOCTL	2	/* one ioctl per operation */
#define SHMR_BATCH_POSIX	3	/* the posix backend's calls */

/*
 * A batch that holds up to entries (1..4096) operations per submit.
 * flags: SHMR_BATCH_FALLBACK. Errors: -EINVAL, -ENOMEM, the backend's
 * errors (-ENODEV, see shmr_backend()).
 */
SHMR_API int shmr_batch_new(unsigned int entries, unsigned int flags, struct shmr_batch **out);

/* Free a batch (NULL is a no-op); queued operations that did not run are dropped. */
SHMR_API void shmr_batch_free(struct shmr_batch *b);

/* SHMR_BATCH_RING, _IOCTL or _POSIX, or -EINVAL. */
SHMR_API int shmr_batch_transport(const struct shmr_batch *b);

/*
 * Queue an operation. Each returns the operation's index in this submit
 * (0, 1, ...), or -EINVAL (b or a required out pointer NULL), -ENOSPC (the
 * batch is full). Everything else (bad names, flags, ...) is the
 * operation's result after shmr_batch_submit(), with the errnos of the
 * matching shmr_region_*() function. Arguments are copied when queued;
 * out pointers and regions must stay valid until the submit returns.
 */
/* as shmr_region_create(): *out receives a new handle, tracked like any */
SHMR_API int shmr_batch_create(struct shmr_batch *b, const struct shmr_region_opts *opts,
			       struct shmr_region **out);
/* as shmr_region_open() */
SHMR_API int shmr_batch_open(struct shmr_batch *b, const char *name, unsigned int flags,
			     struct shmr_region **out);
/* as shmr_region_unlink() */
SHMR_API int shmr_batch_unlink(struct shmr_batch *b, const char *name);
/* as shmr_region_stat() */
SHMR_API int shmr_batch_stat(struct shmr_batch *b, const struct shmr_region *r,
			     struct shmr_region_stat *st);
/* as shmr_region_stat_id() */
SHMR_API int shmr_batch_stat_id(struct shmr_batch *b, uint64_t id, struct shmr_region_stat *st);
/* as shmr_region_list() (cap at most 4096): the result is the total */
SHMR_API int shmr_batch_list(struct shmr_batch *b, struct shmr_region_stat *out, size_t cap);
/* as shmr_features() */
SHMR_API int shmr_batch_features(struct shmr_batch *b, uint64_t *features);
/* as shmr_region_events(): fetch and clear r's pending events now */
SHMR_API int shmr_batch_events(struct shmr_batch *b, struct shmr_region *r, uint32_t *events);
/*
 * Wait until r has lifetime events pending, then fetch and clear them
 * (ring: IORING_OP_POLL_ADD linked to the EVENTS command; fallback:
 * poll() then the ioctl). The submit returns when they arrived.
 */
SHMR_API int shmr_batch_wait_events(struct shmr_batch *b, struct shmr_region *r,
				    uint32_t *events);

/*
 * Run every queued operation (with one system call, but for those run as
 * ioctl()s) and wait for all of them.
 * Returns how many ran (their results: shmr_batch_result()), or a negative
 * errno if the batch could not be submitted (then nothing ran and the queue
 * is kept). The next queued operation starts a new batch at index 0.
 */
SHMR_API int shmr_batch_submit(struct shmr_batch *b);

/* The result of operation idx of the last submit: 0 or >= 0 as documented, or -errno. */
SHMR_API int shmr_batch_result(const struct shmr_batch *b, unsigned int idx);

/* ==== Version ============================================================ */

/* The version of this header. */
#define SHMR_VERSION_MAJOR	1
#define SHMR_VERSION_MINOR	0
#define SHMR_VERSION_PATCH	0

/*
 * The version of the library in use, "MAJOR.MINOR.PATCH" (a static string):
 * may differ from the SHMR_VERSION_* a program was built with.
 */
SHMR_API const char *shmr_version(void);

#ifdef __cplusplus
}
#endif

#endif /* SHMR_H */
