/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmr: internal interfaces between the parts of the module.
 *
 * Objects
 *   struct shmr_ns      one per IPC namespace in use: bound to the files
 *                       opened in it (/dev/shmr, /proc/shmr), holding its
 *                       regions and exit records; keyed by the
 *                       ipc_namespace pointer, its ns.inum and its mqueue
 *                       mount, which it holds to see the namespace die
 *                       (put_ipc_ns() is not exported, so the module cannot
 *                       pin the namespace). See shmr_ns.c.
 *   struct shmr_region  kref'd; a reference is held by its linked name, by
 *                       every handle, by every mapping (VMA open/close) and
 *                       transiently by commands.
 *   struct shmr_handle  private data of a region fd (a file sharing the
 *                       region's shmem inode, with our fops).
 *   struct shmr_map     private data of a region's map file, the vm_file of
 *                       its mappings (made at the first mmap), and of its
 *                       attach file, which SHMR_IOC_ATTACH maps (made at
 *                       the first ATTACH; never a vm_file).
 *   struct shmr_attach  one per (region, process): handles and mappings.
 *   struct shmr_watch   the creator-exit watch of a SHMR_CREATE_PROCESS
 *                       region, refcounted on its own (work may outlive it).
 *
 * Lock ordering (outermost first):
 *   mmap_lock -> shmr_lock (mutex) -> region->lock (spin) -> shmr_log_lock
 *   (spin). vm_operations run under mmap_lock: open/close take region->lock
 *   and shmr_log_lock, and close may drop a region reference, which takes
 *   shmr_lock when it is the last. Hence nothing may fault on user memory
 *   while holding shmr_lock or a spinlock: commands copy their struct in
 *   first, snapshot what they return into kernel memory, drop the locks,
 *   and copy out last. The pid wait-queue callback of a process-lifetime
 *   region runs under tasklist_lock (write, irqs off) and only queues work
 *   (shmr_wq), which takes shmr_lock on its own. Under shmr_lock, whatever
 *   looks at such a region's name checks its creator (get_pid_task(),
 *   RCU) and may unlink it and queue that work (the workqueue's raw
 *   spinlock), which drops the name's reference: a put there could free
 *   the region under shmr_lock.
 *   The final region reference is dropped with kref_put_mutex(shmr_lock),
 *   so a lookup under shmr_lock never sees a region whose count is zero.
 *   SEAL waits for pinned pages and takes the shmem inode's lock holding
 *   none of these.
 *
 * Naming: the _locked suffix always means "called with shmr_lock held",
 * never a region's r->lock. Functions called with r->lock held take the
 * region as their first argument and say so in their comment. Every
 * function that needs either lock asserts it with lockdep_assert_held().
 */
#ifndef _SHMR_INTERNAL_H
#define _SHMR_INTERNAL_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/uidgid.h>
#include <linux/refcount.h>
#include <linux/shmr.h>

struct ipc_namespace;
struct user_namespace;
struct pid;
struct file;
struct vfsmount;
struct seq_file;
struct mm_struct;

enum shmr_counter {
	SHMR_C_REGIONS_LIVE,
	SHMR_C_REGIONS_CREATED,
	SHMR_C_REGIONS_FREED,
	SHMR_C_HANDLES_LIVE,
	SHMR_C_MAPPINGS_LIVE,
	SHMR_C_ATTACH_LIVE,
	SHMR_C_BYTES_LIVE,
	SHMR_C_NS_LIVE,
	SHMR_C_EXIT_RECORDS_LIVE,
	SHMR_C_EXIT_RECORDS_TOTAL,
	SHMR_C_PROCESS_UNLINKS,
	SHMR_C_WATCHES_LIVE,
	SHMR_C_FAULTS_INJECTED,
	SHMR_C_NR,
};

extern atomic64_t shmr_counters[SHMR_C_NR];
extern const char * const shmr_counter_names[SHMR_C_NR];

static inline void shmr_count(enum shmr_counter c, s64 delta)
{
	atomic64_add(delta, &shmr_counters[c]);
}

/*
 * Fault injection (debugfs shmr/fail_nth, shmr_main.c): true when this
 * failable point is the one to fail. The caller then fails as the real
 * function would (NULL or ERR_PTR(-ENOMEM), -EMFILE for an fd). One atomic
 * read when disarmed.
 */
extern atomic_t shmr_fail_armed;
bool __shmr_fail(void);

static inline bool shmr_fail(void)
{
	return unlikely(atomic_read(&shmr_fail_armed)) && __shmr_fail();
}

/* module parameters (shmr_main.c) */
extern unsigned long long shmr_max_region_size;
extern unsigned int shmr_max_regions;
extern unsigned long long shmr_max_user_bytes;
extern unsigned int shmr_max_user_regions;
extern unsigned int shmr_exit_log_size;

extern struct mutex shmr_lock;
extern spinlock_t shmr_log_lock;
extern struct workqueue_struct *shmr_wq;
extern struct vfsmount *shmr_mnt;	/* tmpfs, huge=never */
extern struct vfsmount *shmr_huge_mnt;	/* tmpfs, huge=within_size, or NULL */

struct shmr_exit_entry {
	u64 region_id;
	u64 when_ns;
	struct pid *pid;
	/* the region's, for who may see the record */
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	s32 signal;
	s32 status;
	u32 handles;
	u32 mappings;
	char comm[SHMR_COMM_LEN];
	char name[SHMR_NAME_MAX + 1];
};

struct shmr_ns {
	struct list_head node;		/* shmr_namespaces, under shmr_lock */
	struct ipc_namespace *ipc;	/* key only, never dereferenced */
	unsigned int inum;		/* key, with ipc and mq_mnt */
	/*
	 * The namespace's mqueue mount, held (mntget) as a liveness signal:
	 * put_ipc_ns() clears its superblock's s_fs_info before it frees
	 * the namespace, and the pointer cannot be reused while held.
	 */
	struct vfsmount *mq_mnt;
	struct user_namespace *user_ns;	/* the namespace's owner, held */
	unsigned int nfiles;		/* files bound to it, under shmr_lock */
	struct list_head regions;	/* creation order, under shmr_lock */
	unsigned int nregions;
	/* exit log ring (from the first CREATE on), under shmr_log_lock */
	struct shmr_exit_entry *log;
	unsigned int log_cap, log_head, log_count;
};

struct shmr_watch {
	refcount_t ref;
	struct wait_queue_entry wq;
	struct pid *pid;		/* creator's thread-group pid */
	struct delayed_work work;
	struct shmr_region *region;	/* NULL once the region is freed */
	unsigned int rechecks;
	/* unlinked by a lookup: the work drops the name's reference */
	bool name_ref;			/* under shmr_lock */
};

struct shmr_region {
	struct kref ref;
	struct shmr_ns *ns;
	struct list_head ns_node;	/* ns->regions, under shmr_lock */
	struct hlist_node id_node;	/* shmr_id_hash, under shmr_lock */
	struct hlist_node name_node;	/* shmr_name_hash while linked */
	bool linked;			/* name visible, under shmr_lock */
	bool found;			/* looked up by name, under shmr_lock */
	struct file *shmem;		/* the shmem file, as shmem made it */
	struct file *map;		/* vm_file of its mappings, or NULL */
	struct file *attach;		/* what ATTACH mmaps, or NULL */
	struct vfsmount *mnt;
	u64 id;
	u64 size;
	u64 ctime_ns;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
	kuid_t charge_uid;		/* whose max_user_bytes it counts in */
	struct pid *creator;
	struct shmr_watch *watch;	/* SHMR_CREATE_PROCESS */

	spinlock_t lock;		/* everything below */
	u32 info_flags;			/* SHMR_INFO_* */
	u32 seals;
	struct list_head attaches;
	struct list_head handles;
	unsigned int nhandles;
	unsigned int nmappings;
	unsigned int nattach;
	wait_queue_head_t waitq;

	char name[SHMR_NAME_MAX + 1];	/* empty if anonymous */
};

struct shmr_attach {
	struct list_head node;		/* region->attaches */
	struct pid *pid;		/* thread-group pid; NULL until known */
	struct mm_struct *mm;		/* set only while mappings > 0 */
	u64 since_ns;
	unsigned int handles;
	unsigned int mappings;
	bool died;
	char comm[SHMR_COMM_LEN];
};

struct shmr_handle {
	struct shmr_region *region;
	struct list_head node;		/* region->handles */
	struct shmr_attach *attach;	/* the opener's entry */
	bool writable;
	u32 events;			/* pending SHMR_EV_*, under region->lock */
};

/*
 * A region's map file (the vm_file of its mappings) forwards to shmem's
 * file operations; it holds the shmem file, since some of them run after
 * the mapping, and the region, may be gone (MADV_REMOVE and msync() drop
 * mmap_lock before they call the file). The region is only for vm_ops,
 * which run while a mapping holds it.
 */
struct shmr_map {
	struct file *shmem;		/* held */
	/* while a VMA of the file exists; the attach file's while ATTACH maps */
	struct shmr_region *region;
};

/* The command context: which fd a command arrived on. */
struct shmr_ctx {
	struct shmr_handle *handle;	/* NULL on the control fd */
	struct shmr_ns *ns;		/* the fd's: bound, or the region's */
	bool nowait;			/* io_uring's non-blocking issue */
};

#define SHMR_SIZE_LIMIT		BIT_ULL(40)	/* max_region_size at most */

struct io_uring_cmd;

/* shmr_cmd.c */
long shmr_cmd(struct shmr_ctx *ctx, unsigned int cmd, void __user *arg,
	      size_t usize);
int shmr_uring_cmd(struct shmr_ctx *ctx, struct io_uring_cmd *ioucmd,
		   unsigned int issue_flags);

/* shmr_ns.c */
struct shmr_ns *shmr_ns_bind(void);
void shmr_ns_unbind(struct shmr_ns *ns);
bool shmr_ns_dead(struct shmr_ns *ns);
bool shmr_ns_current(struct shmr_ns *ns);
int shmr_ns_log_alloc_locked(struct shmr_ns *ns);
void shmr_ns_maybe_free_locked(struct shmr_ns *ns);
void shmr_ns_reap_stop(void);
void shmr_ns_exit(void);
bool shmr_ns_capable(struct shmr_ns *ns, int cap);

/* shmr_region.c */
int shmr_region_init(void);
void shmr_region_exit(void);
struct shmr_region *shmr_region_lookup(struct shmr_ns *ns, const char *name);
struct shmr_region *shmr_region_find_id(struct shmr_ns *ns, u64 id);
void shmr_region_get(struct shmr_region *r);
void shmr_region_put(struct shmr_region *r);
int shmr_region_create(struct shmr_ns *ns, const char *name, u64 size,
		       u32 flags, umode_t mode, struct shmr_region **out);
int shmr_region_unlink_locked(struct shmr_region *r);
bool shmr_mode_permits(kuid_t uid, kgid_t gid, umode_t mode,
		       unsigned int want);
int shmr_region_seal(struct shmr_handle *h, u32 seals);
int shmr_may_open(struct shmr_region *r, bool write);
int shmr_may_unlink(struct shmr_region *r);
int shmr_handle_open(struct shmr_region *r, bool write, bool cloexec,
		     u64 since_ns, struct file **filep, int *fdp);
unsigned long shmr_region_attach(struct shmr_region *r, bool write);
void shmr_fill_info(struct shmr_region *r, struct shmr_region_info *info);
int shmr_proc_show(struct seq_file *m, void *v);

/* shmr_attach.c */
int shmr_attach_init(void);
void shmr_attach_exit(void);
struct shmr_attach *shmr_attach_get(struct shmr_region *r,
				    struct pid *pid,
				    struct mm_struct *mm, bool map,
				    struct shmr_attach **spare);
struct shmr_attach *shmr_attach_alloc(void);
void shmr_attach_free(struct shmr_attach *a);
bool shmr_attach_drop(struct shmr_region *r, struct shmr_attach *a,
		      bool handle, bool died);
void shmr_raise(struct shmr_region *r, u32 ev, struct shmr_attach *except);
unsigned int shmr_attach_snapshot(struct shmr_region *r,
				  struct shmr_attach_info *out,
				  unsigned int cap);
int shmr_watch_start(struct shmr_region *r);
bool shmr_watch_expire_locked(struct shmr_region *r);
void shmr_watch_stop(struct shmr_region *r);
void shmr_exit_log_free(struct shmr_ns *ns);
void shmr_exited(struct shmr_ns *ns, struct shmr_exited *k,
		 struct shmr_exit_record *out, unsigned int cap);
bool shmr_current_dying(struct pid *pid);

#endif /* _SHMR_INTERNAL_H */
