// SPDX-License-Identifier: GPL-2.0
/*
 * shmr: IPC namespaces. Region names and exit records are per IPC
 * namespace; struct shmr_ns is the module's entry for one namespace.
 *
 * Binding. Every file that works on names binds the IPC namespace of the
 * task that opens it, once, at open(): the control device /dev/shmr and
 * /proc/shmr (shmr_ns_bind()), as an mqueue fd is bound to its namespace's
 * mount and /proc/sysvipc to the opener's namespace. A command then finds
 * its namespace through the file (struct shmr_ctx), never through
 * current->nsproxy: io_uring runs commands in io-wq workers and SQPOLL
 * threads, which keep the namespaces they were created with, and a file
 * passed to a process of another namespace keeps acting in its own. A
 * region handle acts on its region, whose entry is region->ns.
 *
 * Lifetime. put_ipc_ns() is not exported, so the module cannot pin a
 * namespace, and a bound file does not keep its namespace alive (nothing
 * of a dead namespace is reachable through the file but what the module
 * holds itself). An entry holds, instead:
 *  - the namespace's mqueue mount (mntget(), which keeps the vfsmount and
 *    its superblock, not the namespace). When the last reference to the
 *    namespace goes, put_ipc_ns() calls mq_clear_sbinfo(), which sets that
 *    superblock's s_fs_info (the namespace) to NULL before the namespace is
 *    freed: a NULL s_fs_info means the namespace is gone (shmr_ns_dead()).
 *    A held vfsmount is never reused, so the mount also keeps the key
 *    (namespace pointer, inode number, mount) unique;
 *  - a reference to the user namespace that owns the IPC namespace
 *    (get_user_ns(); put_user_ns() is exported), for capability checks,
 *    so that the ipc_namespace itself is never dereferenced after open().
 * An entry is freed when nothing uses it: no region (ns->nregions) and no
 * bound file (ns->nfiles), and then only if its namespace is dead, or to
 * keep at most SHMR_IDLE_NS_MAX unused entries of live namespaces.
 *
 * Teardown. A work item polls the mounts (every SHMR_NS_REAP_DELAY while
 * entries of namespaces other than the initial one exist). For a dead
 * namespace it unlinks the names (regions still held by fds or mappings
 * live on, unlinked, and keep the entry) and frees the entry once nothing
 * uses it; its exit records go with it. On a file still bound to a dead
 * namespace, lookups find nothing and CREATE fails with -ENOENT (like
 * creating a file in a removed directory); the last such file to close, or
 * the last region to go, frees the entry. mntput() may tear the mount down
 * and sleep, so freed entries wait on a graveyard list and the work (or
 * module exit) puts them outside all locks. At module exit no file is
 * open and no region is left (each pins the module; /proc/shmr's files are
 * released by remove_proc_entry()), and every entry is freed.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sched.h>
#include <linux/capability.h>
#include <linux/ipc_namespace.h>
#include <linux/mount.h>
#include <linux/fs.h>
#include <linux/proc_ns.h>
#include <linux/nsproxy.h>
#include <linux/user_namespace.h>
#include <linux/workqueue.h>

#include "shmr_internal.h"

static LIST_HEAD(shmr_namespaces);	/* under shmr_lock */

#define SHMR_NS_REAP_DELAY	HZ

static LIST_HEAD(shmr_ns_graveyard);	/* under shmr_lock */
static bool shmr_ns_exiting;		/* under shmr_lock */
static void shmr_ns_reap_work(struct work_struct *work);
static DECLARE_DELAYED_WORK(shmr_ns_reap, shmr_ns_reap_work);

static struct vfsmount *shmr_ipc_mq_mnt(struct ipc_namespace *ipc)
{
	return IS_ERR_OR_NULL(ipc->mq_mnt) ? NULL : ipc->mq_mnt;
}

/* Has the namespace gone? Always false without CONFIG_POSIX_MQUEUE. */
bool shmr_ns_dead(struct shmr_ns *ns)
{
	return ns->mq_mnt && !READ_ONCE(ns->mq_mnt->mnt_sb->s_fs_info);
}

/* Entries of namespaces that can die are watched by the reap work. */
static bool shmr_ns_mortal(struct shmr_ns *ns)
{
	return ns->mq_mnt && ns->inum != PROC_IPC_INIT_INO;
}

static bool shmr_ns_unused(struct shmr_ns *ns)
{
	return !ns->nregions && !ns->nfiles;
}

/* Is @ns the IPC namespace of the calling task? */
static bool shmr_ns_is(struct shmr_ns *ns, struct ipc_namespace *ipc)
{
	return ns->ipc == ipc && ns->inum == ipc->ns.inum &&
	       ns->mq_mnt == shmr_ipc_mq_mnt(ipc) && !shmr_ns_dead(ns);
}

/* SHMR_IOC_NSCHECK: is @ns the calling task's IPC namespace? */
bool shmr_ns_current(struct shmr_ns *ns)
{
	return shmr_ns_is(ns, current->nsproxy->ipc_ns);
}

/*
 * The entry of the calling task's IPC namespace, created if needed, bound
 * to a file being opened: the caller passes it to shmr_ns_unbind() when
 * the file is released. An ERR_PTR on failure.
 */
struct shmr_ns *shmr_ns_bind(void)
{
	/* Only the task itself changes its nsproxy: stable during open(). */
	struct ipc_namespace *ipc = current->nsproxy->ipc_ns;
	struct vfsmount *mq_mnt = shmr_ipc_mq_mnt(ipc);
	struct shmr_ns *ns;

	mutex_lock(&shmr_lock);
	list_for_each_entry(ns, &shmr_namespaces, node)
		if (shmr_ns_is(ns, ipc))
			goto found;
	ns = shmr_fail() ? NULL : kzalloc(sizeof(*ns), GFP_KERNEL_ACCOUNT);
	if (!ns) {
		mutex_unlock(&shmr_lock);
		return ERR_PTR(-ENOMEM);
	}
	ns->ipc = ipc;
	ns->inum = ipc->ns.inum;
	/* The current task's namespace is alive, and so is its mount. */
	ns->mq_mnt = mq_mnt ? mntget(mq_mnt) : NULL;
	ns->user_ns = get_user_ns(ipc->user_ns);
	INIT_LIST_HEAD(&ns->regions);
	list_add_tail(&ns->node, &shmr_namespaces);
	shmr_count(SHMR_C_NS_LIVE, 1);
	if (shmr_ns_mortal(ns) && !shmr_ns_exiting)
		queue_delayed_work(shmr_wq, &shmr_ns_reap, SHMR_NS_REAP_DELAY);
found:
	ns->nfiles++;
	mutex_unlock(&shmr_lock);
	return ns;
}

/* A file bound by shmr_ns_bind() is released. */
void shmr_ns_unbind(struct shmr_ns *ns)
{
	mutex_lock(&shmr_lock);
	ns->nfiles--;
	shmr_ns_maybe_free_locked(ns);
	mutex_unlock(&shmr_lock);
}

/*
 * The exit log ring, allocated with the namespace's first region (exit
 * records are only written for regions). Its size is exit_log_size at that
 * time. Called with shmr_lock held; 0 or -ENOMEM.
 */
int shmr_ns_log_alloc_locked(struct shmr_ns *ns)
{
	struct shmr_exit_entry *log;
	unsigned int cap;

	lockdep_assert_held(&shmr_lock);
	if (ns->log)
		return 0;
	cap = clamp_t(unsigned int, READ_ONCE(shmr_exit_log_size), 1, 65536);
	log = shmr_fail() ? NULL :
	      kvcalloc(cap, sizeof(*log), GFP_KERNEL_ACCOUNT);
	if (!log)
		return -ENOMEM;
	spin_lock(&shmr_log_lock);
	ns->log = log;
	ns->log_cap = cap;
	spin_unlock(&shmr_log_lock);
	return 0;
}

/* CAP_IPC_OWNER etc. in the user namespace that owns @ns's namespace. */
bool shmr_ns_capable(struct shmr_ns *ns, int cap)
{
	return ns_capable(ns->user_ns, cap);
}

/*
 * At most this many unused entries of live namespaces keep their exit
 * records; beyond it the oldest such entry is freed. Without
 * CONFIG_POSIX_MQUEUE a namespace never looks dead, and this bounds what
 * dead containers leave behind.
 */
#define SHMR_IDLE_NS_MAX	64

static void shmr_ns_free_locked(struct shmr_ns *ns)
{
	lockdep_assert_held(&shmr_lock);
	spin_lock(&shmr_log_lock);
	shmr_exit_log_free(ns);
	spin_unlock(&shmr_log_lock);
	list_del(&ns->node);
	kvfree(ns->log);
	ns->log = NULL;
	shmr_count(SHMR_C_NS_LIVE, -1);
	if (!ns->mq_mnt) {
		put_user_ns(ns->user_ns);
		kfree(ns);
		return;
	}
	/* mntput() outside our locks: the reap work (or module exit) does it. */
	list_add_tail(&ns->node, &shmr_ns_graveyard);
	if (!shmr_ns_exiting)
		mod_delayed_work(shmr_wq, &shmr_ns_reap, 0);
}

/* Put the mounts of freed entries. Called without locks. */
static void shmr_ns_bury(void)
{
	struct shmr_ns *ns, *tmp;
	LIST_HEAD(dead);

	mutex_lock(&shmr_lock);
	list_splice_init(&shmr_ns_graveyard, &dead);
	mutex_unlock(&shmr_lock);
	list_for_each_entry_safe(ns, tmp, &dead, node) {
		mntput(ns->mq_mnt);
		put_user_ns(ns->user_ns);
		kfree(ns);
	}
}

/*
 * Unlink the names of dead namespaces; free their entries once no region
 * and no file uses them (their exit records can no longer be read).
 */
static void shmr_ns_reap_work(struct work_struct *work)
{
	struct shmr_ns *ns, *tmp;
	struct shmr_region *r;
	bool again;

	mutex_lock(&shmr_lock);
restart:
	again = false;
	list_for_each_entry_safe(ns, tmp, &shmr_namespaces, node) {
		if (!shmr_ns_dead(ns)) {
			again |= shmr_ns_mortal(ns);
			continue;
		}
		list_for_each_entry(r, &ns->regions, ns_node) {
			if (shmr_region_unlink_locked(r))
				continue;
			/* The name's reference is ours to drop, unlocked. */
			mutex_unlock(&shmr_lock);
			shmr_region_put(r);
			mutex_lock(&shmr_lock);
			goto restart;
		}
		if (shmr_ns_unused(ns))
			shmr_ns_free_locked(ns);
	}
	if (again && !shmr_ns_exiting)
		queue_delayed_work(shmr_wq, &shmr_ns_reap, SHMR_NS_REAP_DELAY);
	mutex_unlock(&shmr_lock);
	shmr_ns_bury();
}

/* Module exit: no more reaping; shmr_region_exit() frees what is left. */
void shmr_ns_reap_stop(void)
{
	mutex_lock(&shmr_lock);
	shmr_ns_exiting = true;
	mutex_unlock(&shmr_lock);
	cancel_delayed_work_sync(&shmr_ns_reap);
}

/*
 * @ns lost a region or a file. A namespace entry lives while its namespace
 * does, so that a process creating and unlinking one region at a time
 * does not allocate and free an entry and its exit-log ring every time
 * (kmod/README.md: that was over half of the cycle). The reap work frees the entries of dead
 * namespaces. At most SHMR_IDLE_NS_MAX unused entries (no region, no bound
 * file) are kept: beyond that, the oldest unused entry without exit records
 * goes first, else the oldest unused one. Called with shmr_lock held.
 */
void shmr_ns_maybe_free_locked(struct shmr_ns *ns)
{
	struct shmr_ns *it, *oldest = NULL, *oldest_empty = NULL;
	unsigned int idle = 0;

	lockdep_assert_held(&shmr_lock);
	if (!shmr_ns_unused(ns))
		return;
	if (shmr_ns_dead(ns)) {
		shmr_ns_free_locked(ns);
		return;
	}
	list_for_each_entry(it, &shmr_namespaces, node) {
		if (!shmr_ns_unused(it))
			continue;
		idle++;
		if (it == ns)
			continue;
		if (!oldest)
			oldest = it;
		if (!oldest_empty && !READ_ONCE(it->log_count))
			oldest_empty = it;
	}
	if (idle <= SHMR_IDLE_NS_MAX)
		return;
	shmr_ns_free_locked(oldest_empty ? oldest_empty : oldest);
}

/* Module exit: free every entry and its exit log. */
void shmr_ns_exit(void)
{
	struct shmr_ns *ns, *tmp;

	mutex_lock(&shmr_lock);
	list_for_each_entry_safe(ns, tmp, &shmr_namespaces, node)
		shmr_ns_free_locked(ns);
	mutex_unlock(&shmr_lock);
	shmr_ns_bury();
}
