/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * shmr: refcounted shared memory regions, /dev/shmr.
 *
 * This header is the whole kernel ABI. It is shared verbatim by the module
 * (kmod/) and the library (lib/) and installed as <shmr/uapi.h>.
 *
 * Conventions (Documentation/process/botching-up-ioctls.rst):
 *  - fixed-width types only, pointers passed as __u64, every struct a
 *    multiple of 8 bytes with explicit padding;
 *  - every "flags" and "reserved" field must be zero on input, or the call
 *    fails with -EINVAL; unknown commands fail with -ENOTTY;
 *  - structs are extensible: the size encoded in the ioctl number is the
 *    caller's struct size. A size smaller than the struct's first version
 *    (SHMR_*_SIZE_VER0 below) is -EINVAL. The module copies in as much of
 *    the caller's struct as it knows and takes what the caller did not pass
 *    as zero; a caller's struct larger than the module's is accepted if the
 *    bytes the module does not know are zero, else -E2BIG
 *    (copy_struct_from_user() semantics). It copies out no more than the
 *    smaller of the two sizes, so an old binary keeps working when a
 *    struct grows and a new one works on an old module;
 *  - output structs are zeroed before they are filled;
 *  - region handles are file descriptors, close-on-exec unless the
 *    *_NOCLOEXEC flag is given.
 *
 * Two kinds of file descriptor accept these commands:
 *  - the control fd (open("/dev/shmr")): FEATURES, CREATE, OPEN, UNLINK,
 *    STAT (by id), LIST, EXITED, NSCHECK, ATTACH;
 *  - a region fd (returned by CREATE and OPEN): FEATURES, STAT, SEAL, EVENTS.
 * Any other command on either is -ENOTTY.
 *
 * Errors the module chooses (besides the above):
 *  - size 0 -EINVAL; size over the max_region_size module parameter -EFBIG
 *    (checked before rounding, so no size can wrap);
 *  - more regions than max_regions (all namespaces) -ENOSPC; more bytes
 *    of live regions for the creating euid than max_user_bytes, or more
 *    live regions than max_user_regions (CAP_SYS_RESOURCE is exempt from
 *    this one), -EDQUOT (a per-user quota);
 *  - names: 0 pointer or empty -EINVAL, over SHMR_NAME_MAX -ENAMETOOLONG,
 *    containing '/' -EINVAL, unreadable -EFAULT; missing -ENOENT;
 *  - OPEN (and create-or-open) denied by the mode -EACCES; writable OPEN of
 *    a sealed region -EPERM; UNLINK by other than the owner (or
 *    CAP_SYS_ADMIN / CAP_IPC_OWNER in the namespace's user ns) -EPERM;
 *  - mmap: MAP_PRIVATE -EINVAL; PROT_WRITE through a read-only handle
 *    -EACCES, on a sealed region -EPERM; then offset or length past the
 *    end -ENXIO; ftruncate() on a region fd -EPERM (read-write) or -EINVAL;
 *  - ATTACH: the errors of OPEN (names, -ENOENT, -EACCES, -EPERM), then
 *    those of mmap() (-ENOMEM: no address space left or over a limit);
 *  - a region fd cannot be reopened through /proc/PID/fd, nor a mapping
 *    through /proc/PID/map_files: the module refuses the open (-EACCES);
 *  - SEAL while pages of the region are pinned -EBUSY (see SHMR_IOC_SEAL).
 *
 * A mapping behaves as a mapping of a memfd (shmem): fsync() of a region
 * fd and msync() of a mapping return 0; NUMA policy set with mbind() is
 * the region's (shmem's shared policy: every mapping sees it); madvise()
 * as on shmem (MADV_REMOVE punches a hole through a writable mapping,
 * -EACCES through a read-only one, -EPERM once sealed); GUP, io_uring
 * fixed buffers (where the kernel's io_uring takes shmem mappings by more
 * than their vm_ops: not 6.1's, which refuses them as it refuses SysV shm
 * mappings, -EOPNOTSUPP) and, from 7.2, userfaultfd work on it;
 * /proc/PID/maps shows "/shmr:NAME (deleted)", "/shmr (deleted)" for an
 * anonymous region.
 *
 * IPC namespaces (SHMR_FEAT_IPC_NS): names, LIST, STAT by id and EXITED
 * are per IPC namespace. A control fd belongs for good to the IPC
 * namespace of the task that opened /dev/shmr, as an mqueue fd belongs to
 * its namespace's mount: every command on it acts there, whoever runs it
 * (the opener after unshare() or setns(), a process the fd was passed to,
 * an io_uring worker or SQPOLL thread). To act in another namespace, open
 * /dev/shmr there. The fd does not keep its namespace alive: once the
 * namespace is gone (its last process exited), names are not found on it
 * (-ENOENT) and CREATE fails with -ENOENT. CAP_IPC_OWNER and CAP_SYS_ADMIN
 * count in the user namespace that owns the fd's IPC namespace (with the
 * caller's credentials). /proc/shmr shows the namespace it was opened in.
 * A region fd acts on its region, wherever it is used. SHMR_IOC_NSCHECK
 * tells a process whether it is still in its control fd's namespace.
 *
 * io_uring (SHMR_FEAT_URING_CMD): IORING_OP_URING_CMD on either fd with
 * sqe->cmd_op = a SHMR_IOC_* number and the first 8 bytes of sqe->cmd = a
 * __u64 user pointer to that command's struct; cqe->res is what ioctl()
 * would return (0 or -errno). Same validation, same fd rules. On
 * io_uring's non-blocking issue (IO_URING_F_NONBLOCK) a command that would
 * sleep is handed to an io-wq worker (the module returns -EAGAIN to
 * io_uring, which the caller never sees): CREATE, OPEN, UNLINK, SEAL and
 * STAT by id always, LIST and EXITED when shmr's lock is taken or memory
 * is short; FEATURES, EVENTS and STAT on a region fd run at once. So the
 * commands of one submission may complete in any order. NSCHECK and ATTACH
 * act on the calling task (its namespace, its address space) and are
 * refused there: -EOPNOTSUPP.
 */
#ifndef _UAPI_LINUX_SHMR_H
#define _UAPI_LINUX_SHMR_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define SHMR_DEVICE_PATH	"/dev/shmr"
#define SHMR_ABI_VERSION	1

#define SHMR_NAME_MAX		255	/* bytes, not counting the NUL */
#define SHMR_COMM_LEN		16

/* struct shmr_features.features */
#define SHMR_FEAT_NAMED		(1ULL << 0)	/* named regions, CREATE/OPEN/UNLINK */
#define SHMR_FEAT_ANON		(1ULL << 1)	/* anonymous regions */
#define SHMR_FEAT_ATTACH	(1ULL << 2)	/* per-process attach tracking */
#define SHMR_FEAT_PROCESS	(1ULL << 3)	/* SHMR_CREATE_PROCESS */
#define SHMR_FEAT_HUGE		(1ULL << 4)	/* SHMR_CREATE_HUGE */
#define SHMR_FEAT_SEAL		(1ULL << 5)	/* SHMR_IOC_SEAL */
#define SHMR_FEAT_EVENTS	(1ULL << 6)	/* poll() and SHMR_IOC_EVENTS */
#define SHMR_FEAT_EXITED	(1ULL << 7)	/* SHMR_IOC_EXITED */
#define SHMR_FEAT_IPC_NS	(1ULL << 8)	/* names are per IPC namespace */
#define SHMR_FEAT_URING_CMD	(1ULL << 9)	/* commands via io_uring uring_cmd */
#define SHMR_FEAT_NSCHECK	(1ULL << 10)	/* SHMR_IOC_NSCHECK */
#define SHMR_FEAT_ATTACH_NOFD	(1ULL << 11)	/* SHMR_IOC_ATTACH */

struct shmr_features {
	__u32 flags;		/* in: must be 0 */
	__u32 abi_version;	/* out: SHMR_ABI_VERSION */
	__u64 features;		/* out: SHMR_FEAT_* */
	__u64 create_flags;	/* out: every SHMR_CREATE_* accepted */
	__u64 open_flags;	/* out: every SHMR_OPEN_* accepted */
	__u64 max_region_size;	/* out: module limit, bytes */
	__u64 max_regions;	/* out: module limit, regions in all */
	__u64 max_user_bytes;	/* out: module limit, bytes per uid */
	__u64 max_user_regions;	/* out: module limit, regions per uid */
	__u64 reserved[3];	/* out: zero */
};

/* struct shmr_create.flags */
#define SHMR_CREATE_EXCL	(1U << 0)	/* fail with -EEXIST if the name exists */
#define SHMR_CREATE_PROCESS	(1U << 1)	/* unlink when the creating process exits */
/*
 * SHMR_CREATE_HUGE: back with huge pages, size rounded to 2 MiB. Kernels
 * without THP (PREEMPT_RT) do not report it in FEATURES and refuse it with
 * -EOPNOTSUPP.
 */
#define SHMR_CREATE_HUGE	(1U << 2)
#define SHMR_CREATE_NOCLOEXEC	(1U << 3)	/* returned fd without O_CLOEXEC */
#define SHMR_CREATE_ALL		(SHMR_CREATE_EXCL | SHMR_CREATE_PROCESS | \
				 SHMR_CREATE_HUGE | SHMR_CREATE_NOCLOEXEC)

/* struct shmr_create.result */
#define SHMR_RESULT_CREATED	(1U << 0)	/* this call created the region */

/*
 * Create a region, or open it if the name exists and SHMR_CREATE_EXCL is not
 * given (the open is then checked like SHMR_IOC_OPEN for read-write, and
 * size must not exceed the existing region's: -EINVAL).
 * name == 0 creates an anonymous region (EXCL and PROCESS are then -EINVAL).
 * With SHMR_CREATE_PROCESS the name is gone by the time the creating
 * process (all its threads) has exited and can be reaped.
 * mode is the permission bits (0777 at most; umask is not applied).
 * The returned fd is read-write. Like memfd_create() + ftruncate(),
 * creation reserves no memory: pages are allocated (and charged to the
 * memory cgroup of the task that faults them in) as they are touched; the
 * max_user_bytes limit counts the whole size.
 */
struct shmr_create {
	__u64 name;		/* in: user pointer to a NUL-terminated name, or 0 */
	__u64 size;		/* in: bytes (> 0); out: the region's size */
	__u32 flags;		/* in: SHMR_CREATE_* */
	__u32 mode;		/* in: permission bits */
	__s32 fd;		/* out: region fd */
	__u32 result;		/* out: SHMR_RESULT_* */
	__u64 id;		/* out: region id, unique until reboot */
	__u64 reserved[4];	/* in: must be 0 */
};

/* struct shmr_open.flags */
#define SHMR_OPEN_RDONLY	(1U << 0)	/* read-only handle (default read-write) */
#define SHMR_OPEN_NOCLOEXEC	(1U << 1)	/* returned fd without O_CLOEXEC */
#define SHMR_OPEN_ALL		(SHMR_OPEN_RDONLY | SHMR_OPEN_NOCLOEXEC)

struct shmr_open {
	__u64 name;		/* in: user pointer to a NUL-terminated name */
	__u32 flags;		/* in: SHMR_OPEN_* */
	__s32 fd;		/* out: region fd */
	__u64 size;		/* out: the region's size */
	__u64 id;		/* out: region id */
	__u64 reserved[4];	/* in: must be 0 */
};

/* Remove a name. The region lives on while handles or mappings remain. */
struct shmr_unlink {
	__u64 name;		/* in: user pointer to a NUL-terminated name */
	__u32 flags;		/* in: must be 0 */
	__u32 reserved0;	/* in: must be 0 */
	__u64 reserved[2];	/* in: must be 0 */
};

/* struct shmr_region_info.flags */
#define SHMR_INFO_ANON		(1U << 0)	/* anonymous region */
#define SHMR_INFO_UNLINKED	(1U << 1)	/* name removed, region still alive */
#define SHMR_INFO_SEALED	(1U << 2)	/* SHMR_SEAL_WRITE applied */
#define SHMR_INFO_PROCESS	(1U << 3)	/* created with SHMR_CREATE_PROCESS */
#define SHMR_INFO_HUGE		(1U << 4)	/* created with SHMR_CREATE_HUGE */

struct shmr_region_info {
	__u64 id;
	__u64 size;		/* bytes, page (or huge page) multiple */
	__u64 ctime_ns;		/* creation time, CLOCK_REALTIME */
	__u32 uid;		/* owner, in the caller's user namespace */
	__u32 gid;
	__u32 mode;		/* permission bits */
	__u32 flags;		/* SHMR_INFO_* */
	__s32 creator_pid;	/* in the caller's pid namespace; 0 if not visible */
	__u32 handles;		/* open region handles (open file descriptions) */
	__u32 mappings;		/* live mappings (VMAs) */
	__u32 nattach;		/* attached processes */
	char name[SHMR_NAME_MAX + 1];	/* NUL-terminated; empty if anonymous */
};

/*
 * A process is attached to a region while it holds a handle it opened (or
 * inherited) or a mapping of it.
 */
struct shmr_attach_info {
	__s32 pid;		/* in the caller's pid namespace; 0 if not visible */
	__u32 handles;
	__u32 mappings;
	__u32 flags;		/* zero for now */
	__u64 since_ns;		/* attach time, CLOCK_REALTIME */
	char comm[SHMR_COMM_LEN];
};

/*
 * On a region fd: describe that region; id must be 0.
 * On the control fd: describe the region with this id, if it is visible in
 * the control fd's IPC namespace (else -ENOENT).
 * If attach is non-zero, up to attach_cap entries are written there;
 * info.nattach tells how many there are.
 */
struct shmr_stat {
	__u64 id;		/* in */
	__u64 attach;		/* in: user pointer to struct shmr_attach_info[], or 0 */
	__u32 attach_cap;	/* in: entries at attach */
	__u32 attach_count;	/* out: entries written */
	__u32 flags;		/* in: must be 0 */
	__u32 reserved0;	/* in: must be 0 */
	struct shmr_region_info info;	/* out */
	__u64 reserved[2];	/* in: must be 0 */
};

/*
 * Every region of the control fd's IPC namespace, named, unlinked-but-alive
 * and anonymous, in creation order. A short buffer is not an error:
 * count < total.
 */
struct shmr_list {
	__u64 regions;		/* in: user pointer to struct shmr_region_info[] */
	__u32 cap;		/* in: entries at regions */
	__u32 count;		/* out: entries written */
	__u32 total;		/* out: regions visible */
	__u32 flags;		/* in: must be 0 */
	__u64 reserved[2];	/* in: must be 0 */
};

/* struct shmr_seal.seals */
#define SHMR_SEAL_WRITE		(1U << 0)	/* no new writable handle or mapping */
#define SHMR_SEAL_ALL		SHMR_SEAL_WRITE

/*
 * On a read-write region fd. Like memfd's F_SEAL_FUTURE_WRITE: mappings that
 * exist keep their access; from now on OPEN for writing and writable mmap()
 * fail with -EPERM, and new mappings cannot be mprotect()ed to writable.
 * Pinned pages (pin_user_pages(): an io_uring fixed buffer, an AF_XDP umem,
 * O_DIRECT in flight) can be written whatever happens to the mapping they
 * were pinned through, so SEAL fails with -EBUSY while any page is pinned,
 * after waiting up to about 150 ms for pins to go, as F_SEAL_WRITE does on
 * a memfd (plain page references, as vmsplice() takes, do not count). A
 * refused SEAL changes nothing. SHMR_EV_SEALED reaches every other handle
 * of the region, in the sealing process too; sealing an already sealed
 * region returns 0 and raises nothing.
 */
struct shmr_seal {
	__u32 seals;		/* in: SHMR_SEAL_* */
	__u32 flags;		/* in: must be 0 */
	__u64 reserved[1];	/* in: must be 0 */
};

/* Lifetime events, per handle: struct shmr_events.events */
#define SHMR_EV_UNLINKED	(1U << 0)	/* the name was removed */
#define SHMR_EV_DETACHED	(1U << 1)	/* another process detached */
#define SHMR_EV_PEER_DIED	(1U << 2)	/* another process exited or was killed attached */
#define SHMR_EV_SEALED		(1U << 3)	/* sealed, through another handle */
#define SHMR_EV_ALL		(SHMR_EV_UNLINKED | SHMR_EV_DETACHED | \
				 SHMR_EV_PEER_DIED | SHMR_EV_SEALED)

/*
 * poll() on a region fd reports EPOLLIN | EPOLLRDNORM while events are
 * pending on that handle; this command returns and clears them.
 */
struct shmr_events {
	__u32 events;		/* out: SHMR_EV_* pending, now cleared */
	__u32 flags;		/* in: must be 0 */
	__u64 reserved[2];	/* in: must be 0 */
};

/*
 * A process that exited or was killed while attached to a region. The
 * module keeps the most recent ones (module parameter exit_log_size) per
 * IPC namespace. EXITED shows a caller only the records of regions it owns
 * (fsuid or euid, as for UNLINK) or could open for reading (the region's
 * owner, group or other bits), or every record with CAP_IPC_OWNER in the
 * user namespace that owns the IPC namespace; SHMR_EXITED_CLEAR forgets
 * only records it returned.
 */
struct shmr_exit_record {
	__u64 region_id;
	__u64 when_ns;		/* CLOCK_REALTIME */
	__s32 pid;		/* in the caller's pid namespace; 0 if not visible */
	__s32 signal;		/* signal that ended it, 0 if it exited */
	__s32 status;		/* exit status if it exited, else 0 */
	__u32 handles;		/* still held when it ended */
	__u32 mappings;		/* still mapped when it ended */
	__u32 reserved0;
	char comm[SHMR_COMM_LEN];
	char name[SHMR_NAME_MAX + 1];	/* region name; empty if anonymous */
};

/* struct shmr_exited.flags */
#define SHMR_EXITED_CLEAR	(1U << 0)	/* forget the records returned */

struct shmr_exited {
	__u64 records;		/* in: user pointer to struct shmr_exit_record[] */
	__u32 cap;		/* in: entries at records */
	__u32 count;		/* out: entries written, oldest first */
	__u32 total;		/* out: records held that the caller may see */
	__u32 flags;		/* in: SHMR_EXITED_* */
	__u64 reserved[2];	/* in: must be 0 */
};

/* struct shmr_attach_req.flags */
#define SHMR_ATTACH_RDONLY	(1U << 0)	/* read-only mapping (default read-write) */
/*
 * SHMR_ATTACH_NSCHECK: first, -EXDEV if the calling task is not in the
 * control fd's IPC namespace (what SHMR_IOC_NSCHECK answers), so that a
 * library that follows its process's namespace needs no second ioctl.
 */
#define SHMR_ATTACH_NSCHECK	(1U << 1)
#define SHMR_ATTACH_ALL		(SHMR_ATTACH_RDONLY | SHMR_ATTACH_NSCHECK)

/*
 * Map a named region into the caller's address space without a handle,
 * like shmat(): the whole region, MAP_SHARED, read-write (PROT_READ |
 * PROT_WRITE) or read-only, at an address the kernel chooses. Checked as
 * OPEN for the same access (-ENOENT, -EACCES, -EPERM for a writable attach
 * of a sealed region), then mapped as mmap() of such a handle maps: the
 * same VMA (a read-only one can never be made writable with mprotect()),
 * counted in STAT's mappings, attach tracking, events and exit records,
 * but no handle is ever opened (no fd, STAT's handles unchanged). munmap()
 * detaches. Only through ioctl() on the control fd, by the task whose
 * address space receives the mapping (through io_uring: -EOPNOTSUPP). If
 * the result cannot be written back, the mapping is undone (-EFAULT).
 */
struct shmr_attach_req {
	__u64 name;		/* in: user pointer to a NUL-terminated name */
	__u32 flags;		/* in: SHMR_ATTACH_* */
	__u32 reserved0;	/* in: must be 0 */
	__u64 addr;		/* out: the mapping's address */
	__u64 size;		/* out: the region's size, the mapping's length */
	__u64 id;		/* out: region id */
	__u64 reserved[4];	/* in: must be 0 */
};

/*
 * 0xB9: free in Documentation/userspace-api/ioctl/ioctl-number.rst up to
 * 7.3 (0xB8 is used by mshv and the Marvell CN10K DPI driver).
 */
#define SHMR_IOC_MAGIC		0xB9

/* Each command's struct size in its first version: the smallest accepted. */
#define SHMR_FEATURES_SIZE_VER0	88
#define SHMR_CREATE_SIZE_VER0	72
#define SHMR_OPEN_SIZE_VER0	64
#define SHMR_UNLINK_SIZE_VER0	32
#define SHMR_STAT_SIZE_VER0	360
#define SHMR_LIST_SIZE_VER0	40
#define SHMR_SEAL_SIZE_VER0	16
#define SHMR_EVENTS_SIZE_VER0	24
#define SHMR_EXITED_SIZE_VER0	40
#define SHMR_ATTACH_SIZE_VER0	72

#define SHMR_IOC_FEATURES	_IOWR(SHMR_IOC_MAGIC, 0x00, struct shmr_features)
#define SHMR_IOC_CREATE		_IOWR(SHMR_IOC_MAGIC, 0x01, struct shmr_create)
#define SHMR_IOC_OPEN		_IOWR(SHMR_IOC_MAGIC, 0x02, struct shmr_open)
#define SHMR_IOC_UNLINK		_IOW(SHMR_IOC_MAGIC, 0x03, struct shmr_unlink)
#define SHMR_IOC_STAT		_IOWR(SHMR_IOC_MAGIC, 0x04, struct shmr_stat)
#define SHMR_IOC_LIST		_IOWR(SHMR_IOC_MAGIC, 0x05, struct shmr_list)
#define SHMR_IOC_SEAL		_IOW(SHMR_IOC_MAGIC, 0x06, struct shmr_seal)
#define SHMR_IOC_EVENTS		_IOWR(SHMR_IOC_MAGIC, 0x07, struct shmr_events)
#define SHMR_IOC_EXITED		_IOWR(SHMR_IOC_MAGIC, 0x08, struct shmr_exited)
/*
 * No argument; on the control fd, through ioctl(): 0 if the calling task
 * is in the fd's IPC namespace, -EXDEV if not (it called unshare() or
 * setns() since it opened the fd, or was passed the fd, or the namespace
 * is gone). It looks at the task that runs it, so through io_uring, which
 * may run it in another task, it is -EOPNOTSUPP. A process that wants to
 * act in its current namespace opens /dev/shmr again on -EXDEV; libshmr
 * checks before each command on its control fd (comparing
 * /proc/self/ns/ipc would tell too, at a much higher cost per command).
 */
#define SHMR_IOC_NSCHECK	_IO(SHMR_IOC_MAGIC, 0x09)
#define SHMR_IOC_ATTACH		_IOWR(SHMR_IOC_MAGIC, 0x0a, struct shmr_attach_req)

#endif /* _UAPI_LINUX_SHMR_H */
