// SPDX-License-Identifier: GPL-2.0
/*
 * shmr: IPC namespaces. Region names (and exit records) are per IPC
 * namespace; struct shmr_ns is the module's entry for one namespace.
 *
 * Teardown. put_ipc_ns() is not exported, so the module cannot pin a
 * namespace: an entry holds the namespace's mqueue mount instead and polls
 * it to see the namespace die (below). Once dead, the entry's names are
 * unlinked; the entry itself is freed when no region is left in it (its
 * exit records die with it), by the reap work, which drops the mount
 * outside all locks. Regions still held by fds or mappings live on,
 * unlinked, and keep their entry. Entries of live namespaces without
 * regions are kept (at most SHMR_IDLE_NS_MAX), and all are freed at module
 * exit, when no region is left (each region pins the module).
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

static struct ipc_namespace *shmr_cur_ipc(void)
{
	return current->nsproxy->ipc_ns;
}

/*
 * Namespace death. put_ipc_ns() is not exported, so the module cannot pin a
 * namespace; it holds the namespace's mqueue mount instead (mntget(), which
 * keeps the vfsmount and its superblock, not the namespace). When the last
 * reference to the namespace goes, put_ipc_ns() calls mq_clear_sbinfo(),
 * which sets that superblock's s_fs_info (the namespace) to NULL, before
 * the namespace is freed. A NULL s_fs_info therefore means the namespace
 * is gone: a work item polls for it (every SHMR_NS_REAP_DELAY while
 * entries of namespaces other than the initial one exist), unlinks the
 * names of a dead namespace and frees the entry once its last region is
 * gone. A held vfsmount is never reused, so it also makes the key unique.
 * Entries are freed (mntput() may tear the mount down and sleep) by the
 * work, never under shmr_lock.
 */
#define SHMR_NS_REAP_DELAY	HZ

static LIST_HEAD(shmr_ns_graveyard);	/* under shmr_lock */
static bool shmr_ns_exiting;		/* under shmr_lock */
static void shmr_ns_reap_work(struct work_struct *work);
static DECLARE_DELAYED_WORK(shmr_ns_reap, shmr_ns_reap_work);

static struct vfsmount *shmr_ipc_mq_mnt(struct ipc_namespace *ipc)
{
	return IS_ERR_OR_NULL(ipc->mq_mnt) ? NULL : ipc->mq_mnt;
}

static bool shmr_ns_dead(struct shmr_ns *ns)
{
	return ns->mq_mnt && !READ_ONCE(ns->mq_mnt->mnt_sb->s_fs_info);
}

/* Entries of namespaces that can die are watched by the reap work. */
static bool shmr_ns_mortal(struct shmr_ns *ns)
{
	return ns->mq_mnt && ns->inum != PROC_IPC_INIT_INO;
}

/* Called with shmr_lock held. */
struct shmr_ns *shmr_ns_current(bool create)
{
	struct ipc_namespace *ipc = shmr_cur_ipc();
	struct vfsmount *mq_mnt = shmr_ipc_mq_mnt(ipc);
	struct shmr_ns *ns;

	lockdep_assert_held(&shmr_lock);
	list_for_each_entry(ns, &shmr_namespaces, node)
		if (ns->ipc == ipc && ns->inum == ipc->ns.inum &&
		    ns->mq_mnt == mq_mnt && !shmr_ns_dead(ns))
			return ns;
	if (!create)
		return NULL;
	ns = shmr_fail() ? NULL : kzalloc(sizeof(*ns), GFP_KERNEL_ACCOUNT);
	if (!ns)
		return NULL;
	ns->log_cap = clamp_t(unsigned int, shmr_exit_log_size, 1, 65536);
	ns->log = shmr_fail() ? NULL :
		  kvcalloc(ns->log_cap, sizeof(*ns->log), GFP_KERNEL_ACCOUNT);
	if (!ns->log) {
		kfree(ns);
		return NULL;
	}
	ns->ipc = ipc;
	ns->inum = ipc->ns.inum;
	/* The current task's namespace is alive, and so is its mount. */
	ns->mq_mnt = mq_mnt ? mntget(mq_mnt) : NULL;
	INIT_LIST_HEAD(&ns->regions);
	list_add_tail(&ns->node, &shmr_namespaces);
	shmr_count(SHMR_C_NS_LIVE, 1);
	if (shmr_ns_mortal(ns) && !shmr_ns_exiting)
		queue_delayed_work(shmr_wq, &shmr_ns_reap, SHMR_NS_REAP_DELAY);
	return ns;
}

/*
 * At most this many namespaces without regions keep their exit records;
 * beyond it the oldest such namespace forgets them. The module cannot see
 * a namespace die (put_ipc_ns() is not exported), so this bounds what dead
 * containers leave behind.
 */
#define SHMR_IDLE_NS_MAX	64

static void shmr_ns_free_locked(struct shmr_ns *ns)
{
	spin_lock(&shmr_log_lock);
	shmr_exit_log_free(ns);
	spin_unlock(&shmr_log_lock);
	list_del(&ns->node);
	kvfree(ns->log);
	ns->log = NULL;
	shmr_count(SHMR_C_NS_LIVE, -1);
	if (!ns->mq_mnt) {
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
		kfree(ns);
	}
}

/*
 * Unlink the names of dead namespaces; free their entries once they have
 * no regions left (their exit records can no longer be read).
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
		if (!ns->nregions)
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
 * A namespace entry lives while its namespace does, so the next create does
 * not pay for a new entry and exit-log ring (measured: allocating and
 * freeing them was most of a region's create+unlink cycle). The reap work
 * frees the entries of dead namespaces. At most SHMR_IDLE_NS_MAX entries
 * without regions are kept: beyond that, the oldest idle entry without exit
 * records goes first, else the oldest idle one. Called with shmr_lock held.
 */
void shmr_ns_maybe_free_locked(struct shmr_ns *ns)
{
	struct shmr_ns *it, *oldest = NULL, *oldest_empty = NULL;
	unsigned int idle = 0;

	if (ns->nregions)
		return;
	if (shmr_ns_dead(ns)) {
		shmr_ns_free_locked(ns);
		return;
	}
	list_for_each_entry(it, &shmr_namespaces, node) {
		if (it->nregions)
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

bool shmr_ns_capable(int cap)
{
	return ns_capable(shmr_cur_ipc()->user_ns, cap);
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
