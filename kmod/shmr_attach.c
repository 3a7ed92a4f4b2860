// SPDX-License-Identifier: GPL-2.0
/*
 * shmr: attach tracking, events, the exit log and process-lifetime regions.
 *
 * Attribution. A handle counts for the process that opened it (CREATE or
 * OPEN) until the open file description is released, whoever holds it
 * then: fds inherited over fork() or passed with SCM_RIGHTS are invisible
 * to a driver (no callback runs), so they count for the opener. A mapping
 * counts for the process whose mm holds the VMA; entries are matched by
 * thread-group pid or by mm. fork() calls vm_ops->open() for the child's
 * VMAs before the child has a pid (copy_mm() runs before the pids are
 * attached), so such an entry starts with only the mm, and its pid is
 * filled in later from mm->owner (see shmr_compat.h) or from the first
 * call the child makes itself; until then STAT shows pid 0. VMA splits and
 * mremap() find the entry by mm. An entry's mm is kept only while it has
 * mappings, so a stale mm pointer is never compared.
 *
 * Death. A detach is a death when it happens because the process is
 * exiting: a handle released by its opener while its whole process exits
 * (exit_files() runs the final fput() as task work of the dying task; a
 * thread that exits alone is not its process), or a mapping closed while
 * the mm is torn down (mm_users == 0) by an exiting task.
 * The first such detach of a (region, process) writes one exit record with
 * what the process still held, and raises SHMR_EV_PEER_DIED on the region's
 * other handles; an ordinary last detach raises SHMR_EV_DETACHED.
 *
 * Process-lifetime regions. A wait-queue entry on the creator's
 * pid->wait_pidfd (woken by the exit notification, as pidfd poll uses it)
 * queues work that unlinks the name once the creator is a zombie or gone.
 * The wake can precede exit_state being set, so the work re-checks a few
 * times. Everything that looks at the name checks the creator first
 * (shmr_watch_expire_locked()), so the name is gone by the time the
 * creator can be reaped, whenever the work runs. The watch is refcounted
 * separately so that the work never waits for itself when it drops the
 * last region reference.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/timekeeping.h>
#include <linux/wait.h>
#include <linux/mm.h>
#include <linux/capability.h>
#include <linux/cred.h>

#include "shmr_internal.h"
#include "shmr_compat.h"

#define SHMR_WATCH_RECHECKS	100
#define SHMR_WATCH_DELAY	(HZ / 50)

static struct kmem_cache *shmr_attach_cache;

int shmr_attach_init(void)
{
	shmr_attach_cache = kmem_cache_create("shmr_attach",
					      sizeof(struct shmr_attach), 0,
					      SLAB_ACCOUNT, NULL);
	return shmr_attach_cache ? 0 : -ENOMEM;
}

void shmr_attach_exit(void)
{
	kmem_cache_destroy(shmr_attach_cache);
}

/*
 * Is the calling task, a thread of the process with thread-group pid @pid,
 * exiting with its whole process? Yes when the process exits as a group
 * (exit_group(), a fatal signal: SIGNAL_GROUP_EXIT, set before any thread
 * goes) or this is its last thread (do_exit() decremented signal->live
 * before exit_files()). A thread that exits alone while its process goes
 * on (pthread_exit(), an idle io-wq worker) is no death, even when its own
 * file table (unshare(CLONE_FILES)) held the process's last handle.
 */
bool shmr_current_dying(struct pid *pid)
{
	struct signal_struct *sig = current->signal;

	if (!(current->flags & PF_EXITING) || task_tgid(current) != pid)
		return false;
	return (READ_ONCE(sig->flags) & SIGNAL_GROUP_EXIT) ||
	       !atomic_read(&sig->live);
}

struct shmr_attach *shmr_attach_alloc(void)
{
	return kmem_cache_zalloc(shmr_attach_cache, GFP_KERNEL);
}

void shmr_attach_free(struct shmr_attach *a)
{
	put_pid(a->pid);
	kmem_cache_free(shmr_attach_cache, a);
}

/* Copy the comm of thread group @pid's leader to @a: false if it is gone. */
static bool shmr_attach_comm(struct shmr_attach *a, struct pid *pid)
{
	struct task_struct *task;

	rcu_read_lock();
	task = pid_task(pid, PIDTYPE_TGID);
	if (task)
		get_task_comm(a->comm, task);
	rcu_read_unlock();
	return task;
}

/*
 * Fill in the pid of @r's entry @a, created by fork(). Called with r->lock
 * held.
 */
static void shmr_attach_resolve(struct shmr_region *r, struct shmr_attach *a)
{
	struct pid *pid;

	lockdep_assert_held(&r->lock);
	if (a->pid || !a->mm)
		return;
	pid = shmr_mm_tgid(a->mm);
	if (!pid)
		return;
	a->pid = pid;
	shmr_attach_comm(a, pid);
}

/*
 * The entry of the process with thread-group @pid (may be NULL if not known
 * yet) or address space @mm, created from *@spare if there is none (then
 * *@spare is set to NULL). @map: the caller adds a mapping in @mm. Called
 * with r->lock held.
 */
struct shmr_attach *shmr_attach_get(struct shmr_region *r,
				    struct pid *pid,
				    struct mm_struct *mm, bool map,
				    struct shmr_attach **spare)
{
	struct shmr_attach *a;

	lockdep_assert_held(&r->lock);
	list_for_each_entry(a, &r->attaches, node) {
		if (a->died)
			continue;
		if ((pid && a->pid == pid) || (mm && a->mm == mm))
			goto found;
	}
	a = *spare;
	if (!a)
		return NULL;
	*spare = NULL;
	/*
	 * Else set by the caller. Bookkeeping, like a file's times: the
	 * coarse clock, which reads no clocksource (some, the HPET, are slow
	 * to read, and every first mapping of a process comes here).
	 */
	if (!a->since_ns)
		a->since_ns = ktime_get_coarse_real_ns();
	/*
	 * The group leader's comm, else current's (a fork()ed child has its
	 * parent's comm at this point).
	 */
	if (!pid || !shmr_attach_comm(a, pid))
		get_task_comm(a->comm, current);
	list_add_tail(&a->node, &r->attaches);
	r->nattach++;
	shmr_count(SHMR_C_ATTACH_LIVE, 1);
found:
	if (!a->pid && pid)
		a->pid = get_pid(pid);
	if (map && !a->mm)
		a->mm = mm;
	return a;
}

/*
 * Set @ev pending on every handle of @r not opened through @except. Called
 * with r->lock held.
 */
void shmr_raise(struct shmr_region *r, u32 ev, struct shmr_attach *except)
{
	struct shmr_handle *h;
	bool any = false;

	lockdep_assert_held(&r->lock);
	list_for_each_entry(h, &r->handles, node) {
		if (except && h->attach == except)
			continue;
		h->events |= ev;
		any = true;
	}
	if (any)
		wake_up_all(&r->waitq);
}

static void shmr_exit_code(s32 *signal, s32 *status)
{
	struct signal_struct *sig = current->signal;
	int code = current->exit_code;

	if (sig->flags & SIGNAL_GROUP_EXIT)
		code = sig->group_exit_code;
	*signal = code & 0x7f;
	*status = *signal ? 0 : (code >> 8) & 0xff;
}

/* Append to the namespace's exit log. Called with r->lock held. */
static void shmr_log_exit(struct shmr_region *r, struct shmr_attach *a)
{
	struct shmr_ns *ns = r->ns;
	struct shmr_exit_entry *e;

	lockdep_assert_held(&r->lock);
	spin_lock(&shmr_log_lock);
	if (ns->log_count == ns->log_cap) {
		put_pid(ns->log[ns->log_head].pid);
		ns->log[ns->log_head].pid = NULL;
		ns->log_head = (ns->log_head + 1) % ns->log_cap;
		ns->log_count--;
		shmr_count(SHMR_C_EXIT_RECORDS_LIVE, -1);
	}
	e = &ns->log[(ns->log_head + ns->log_count) % ns->log_cap];
	memset(e, 0, sizeof(*e));
	e->region_id = r->id;
	e->when_ns = ktime_get_real_ns();
	e->pid = get_pid(a->pid);
	e->uid = r->uid;
	e->gid = r->gid;
	e->mode = r->mode;
	shmr_exit_code(&e->signal, &e->status);
	e->handles = a->handles;
	e->mappings = a->mappings;
	memcpy(e->comm, a->comm, sizeof(e->comm));
	strscpy(e->name, r->name, sizeof(e->name));
	ns->log_count++;
	spin_unlock(&shmr_log_lock);
	shmr_count(SHMR_C_EXIT_RECORDS_LIVE, 1);
	shmr_count(SHMR_C_EXIT_RECORDS_TOTAL, 1);
}

/*
 * Drop one handle or mapping of @a. Returns true when @a is no longer
 * attached and was unlinked: the caller frees it after dropping r->lock.
 * Called with r->lock held.
 */
bool shmr_attach_drop(struct shmr_region *r, struct shmr_attach *a,
		      bool handle, bool died)
{
	lockdep_assert_held(&r->lock);
	shmr_attach_resolve(r, a);
	if (died && !a->died) {
		a->died = true;
		if (!a->pid)
			a->pid = get_pid(task_tgid(current));
		shmr_log_exit(r, a);
		shmr_raise(r, SHMR_EV_PEER_DIED, a);
	}
	if (handle)
		a->handles--;
	else if (!--a->mappings)
		a->mm = NULL;
	if (a->handles || a->mappings)
		return false;
	list_del(&a->node);
	r->nattach--;
	shmr_count(SHMR_C_ATTACH_LIVE, -1);
	if (!a->died)
		shmr_raise(r, SHMR_EV_DETACHED, a);
	return true;
}

/*
 * Copy up to @cap of @r's attach entries to @out, pids as the caller's pid
 * namespace sees them; returns how many. Called with r->lock held.
 */
unsigned int shmr_attach_snapshot(struct shmr_region *r,
				  struct shmr_attach_info *out,
				  unsigned int cap)
{
	struct pid_namespace *pns = task_active_pid_ns(current);
	struct shmr_attach *a;
	unsigned int n = 0;

	lockdep_assert_held(&r->lock);
	list_for_each_entry(a, &r->attaches, node) {
		if (n == cap)
			break;
		shmr_attach_resolve(r, a);
		memset(&out[n], 0, sizeof(out[n]));
		out[n].pid = pid_nr_ns(a->pid, pns);
		out[n].handles = a->handles;
		out[n].mappings = a->mappings;
		out[n].since_ns = a->since_ns;
		memcpy(out[n].comm, a->comm, sizeof(out[n].comm));
		n++;
	}
	return n;
}

/* Called with shmr_log_lock held, or with the ns unreachable. */
void shmr_exit_log_free(struct shmr_ns *ns)
{
	while (ns->log_count) {
		put_pid(ns->log[ns->log_head].pid);
		ns->log[ns->log_head].pid = NULL;
		ns->log_head = (ns->log_head + 1) % ns->log_cap;
		ns->log_count--;
		shmr_count(SHMR_C_EXIT_RECORDS_LIVE, -1);
	}
}

/*
 * May the caller see @e? Only if it owns the region (fsuid or euid, as for
 * UNLINK) or could open it for reading: a record tells who used a region
 * (pid, command) and how that process ended. @all: the caller has
 * CAP_IPC_OWNER in the namespace's user namespace.
 */
static bool shmr_exit_visible(const struct shmr_exit_entry *e, bool all)
{
	return all || uid_eq(current_fsuid(), e->uid) ||
	       uid_eq(current_euid(), e->uid) ||
	       shmr_mode_permits(e->uid, e->gid, e->mode, 4);
}

/*
 * Copy up to @cap of the records the caller may see (oldest first) into
 * @out and fill k->count and k->total (how many it may see); with
 * SHMR_EXITED_CLEAR, forget the records copied and keep the others in
 * order.
 */
void shmr_exited(struct shmr_ns *ns, struct shmr_exited *k,
		 struct shmr_exit_record *out, unsigned int cap)
{
	struct pid_namespace *pns = task_active_pid_ns(current);
	bool all = ns_capable_noaudit(ns->user_ns, CAP_IPC_OWNER);
	bool clear = k->flags & SHMR_EXITED_CLEAR;
	unsigned int i, n = 0, total = 0, kept = 0, count;

	spin_lock(&shmr_log_lock);
	count = ns->log_count;
	for (i = 0; i < count; i++) {
		struct shmr_exit_entry *e =
			&ns->log[(ns->log_head + i) % ns->log_cap];

		if (shmr_exit_visible(e, all)) {
			total++;
			if (n < cap) {
				out[n].region_id = e->region_id;
				out[n].when_ns = e->when_ns;
				out[n].pid = pid_nr_ns(e->pid, pns);
				out[n].signal = e->signal;
				out[n].status = e->status;
				out[n].handles = e->handles;
				out[n].mappings = e->mappings;
				memcpy(out[n].comm, e->comm,
				       sizeof(out[n].comm));
				memcpy(out[n].name, e->name,
				       sizeof(out[n].name));
				n++;
				if (clear) {
					put_pid(e->pid);
					e->pid = NULL;
					continue;
				}
			}
		}
		/* Kept: moved down over the cleared ones, in order. */
		if (kept != i)
			ns->log[(ns->log_head + kept) % ns->log_cap] = *e;
		kept++;
	}
	ns->log_count = kept;
	spin_unlock(&shmr_log_lock);
	shmr_count(SHMR_C_EXIT_RECORDS_LIVE, -(s64)(count - kept));
	k->count = n;
	k->total = total;
}

static void shmr_watch_put(struct shmr_watch *w)
{
	if (!refcount_dec_and_test(&w->ref))
		return;
	put_pid(w->pid);
	kfree(w);
	shmr_count(SHMR_C_WATCHES_LIVE, -1);
	/*
	 * From the work, this may be the last module reference; module exit
	 * destroys shmr_wq, which waits for the running work to return.
	 */
	module_put(THIS_MODULE);
}

/*
 * The process is gone when its group leader is a zombie (or reaped) AND no
 * thread of it is alive: the leader thread can exit first and stay a
 * zombie while other threads run, and a traced leader's exit wakes
 * pid->wait_pidfd then. signal_struct lives as long as the task_struct.
 */
static bool shmr_pid_gone(struct pid *pid)
{
	struct task_struct *task = get_pid_task(pid, PIDTYPE_TGID);
	bool gone;

	if (!task)
		return true;
	gone = READ_ONCE(task->exit_state) != 0 &&
	       !atomic_read(&task->signal->live);
	put_task_struct(task);
	return gone;
}

/* Unlink @r's name if its creator is gone. Called with shmr_lock held. */
static bool __shmr_watch_expire_locked(struct shmr_region *r)
{
	struct shmr_watch *w = r->watch;

	lockdep_assert_held(&shmr_lock);
	if (!w || !r->linked || !shmr_pid_gone(w->pid))
		return false;
	shmr_region_unlink_locked(r);
	shmr_count(SHMR_C_PROCESS_UNLINKS, 1);
	/* Dropping it here could free the region under shmr_lock. */
	w->name_ref = true;
	return true;
}

/*
 * The name of a process-lifetime region must be gone once the creator can
 * be reaped (waitpid()). The creator's exit wakes the watch only under
 * tasklist_lock, where shmr_lock cannot be taken, and the work it queues
 * runs later; so whatever looks at the name (lookups, LIST, STAT,
 * /proc/shmr) first asks whether the creator is gone and, if so, unlinks
 * the name itself. The watch's work drops the name's reference. Returns
 * true if the name was unlinked here. Called with shmr_lock held, with
 * @r's lifetime guaranteed by the caller.
 */
bool shmr_watch_expire_locked(struct shmr_region *r)
{
	struct shmr_watch *w = r->watch;

	lockdep_assert_held(&shmr_lock);
	if (!__shmr_watch_expire_locked(r))
		return false;
	refcount_inc(&w->ref);
	if (mod_delayed_work(shmr_wq, &w->work, 0))
		refcount_dec(&w->ref);	/* it was queued, with its reference */
	return true;
}

static void shmr_watch_work(struct work_struct *work)
{
	struct shmr_watch *w = container_of(to_delayed_work(work),
					    struct shmr_watch, work);
	struct shmr_region *r;
	bool drop_name = false;

	mutex_lock(&shmr_lock);
	r = w->region;
	if (r && !kref_get_unless_zero(&r->ref))
		r = NULL;
	if (r) {
		__shmr_watch_expire_locked(r);
		drop_name = w->name_ref;
		w->name_ref = false;
		if (r->linked && w->rechecks++ < SHMR_WATCH_RECHECKS) {
			refcount_inc(&w->ref);
			if (!queue_delayed_work(shmr_wq, &w->work,
						SHMR_WATCH_DELAY))
				refcount_dec(&w->ref);
		}
	}
	mutex_unlock(&shmr_lock);
	if (drop_name)
		shmr_region_put(r);	/* the name's reference */
	if (r)
		shmr_region_put(r);
	shmr_watch_put(w);
}

static int shmr_watch_wake(struct wait_queue_entry *wq, unsigned int mode,
			   int sync, void *key)
{
	struct shmr_watch *w = container_of(wq, struct shmr_watch, wq);

	/* The region's reference is held until the entry is removed. */
	refcount_inc(&w->ref);
	w->rechecks = 0;
	if (!queue_delayed_work(shmr_wq, &w->work, 0))
		refcount_dec(&w->ref);
	return 0;
}

/* Called with shmr_lock held, for a region being created by current. */
int shmr_watch_start(struct shmr_region *r)
{
	struct shmr_watch *w = shmr_fail() ? NULL :
			       kzalloc(sizeof(*w), GFP_KERNEL_ACCOUNT);

	lockdep_assert_held(&shmr_lock);
	if (!w)
		return -ENOMEM;
	refcount_set(&w->ref, 1);
	/*
	 * A rechecking work item can still be queued (a timer) after the
	 * region is freed: the watch pins the module until the work is done.
	 */
	__module_get(THIS_MODULE);
	w->pid = get_pid(task_tgid(current));
	w->region = r;
	INIT_DELAYED_WORK(&w->work, shmr_watch_work);
	init_waitqueue_func_entry(&w->wq, shmr_watch_wake);
	add_wait_queue(&w->pid->wait_pidfd, &w->wq);
	r->watch = w;
	shmr_count(SHMR_C_WATCHES_LIVE, 1);
	return 0;
}

/*
 * The region is being freed; w->region was cleared under shmr_lock, so
 * queued work finds nothing to do and only drops its watch reference.
 */
void shmr_watch_stop(struct shmr_region *r)
{
	struct shmr_watch *w = r->watch;

	if (!w)
		return;
	remove_wait_queue(&w->pid->wait_pidfd, &w->wq);
	r->watch = NULL;
	shmr_watch_put(w);
}
