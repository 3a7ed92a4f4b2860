// SPDX-License-Identifier: GPL-2.0
/*
 * shmr: regions, names, handles, mmap (IPC namespaces: shmr_ns.c).
 *
 * A region's memory is a shmem file created on a module-private tmpfs
 * mount, left as shmem made it; it never reaches userspace. Handles are
 * further files on the same inode (alloc_file_pseudo()) with our
 * file_operations. Mappings follow ipc/shm.c: the VMA's vm_file is the
 * module's own file, the region's map file (made at its first mmap, also
 * on the shmem inode, since shmem's fault and NUMA policy code look at
 * vm_file's inode), shmem sets the VMA up as a mapping of its file, and
 * the module's vm_operations forward to shmem's every operation shmem has,
 * adding open/close, through which each VMA holds a region reference and
 * is counted like the SysV shm attach count. So closing a handle after
 * mmap() releases the handle at once while the memory stays mapped, and
 * the map file pins the module until __fput() releases it after the last
 * VMA. The map file has no mmap (remap_file_pages(): -ENODEV) and no
 * read or write; it punches holes for MADV_REMOVE of a writable mapping
 * as shmem does.
 *
 * Two things are set on the shmem inode, with shmem's own means where it
 * has them: its i_fop refuses any open (reopening a handle through
 * /proc/PID/fd or a mapping through /proc/PID/map_files opens the inode),
 * and its seals: F_SEAL_GROW|F_SEAL_SHRINK always (ftruncate() -EPERM),
 * F_SEAL_FUTURE_WRITE with SHMR_SEAL_WRITE.
 */
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/falloc.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/cred.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/string_helpers.h>
#include <linux/timekeeping.h>
#include <linux/user_namespace.h>
#include <linux/sizes.h>
#include <linux/hashtable.h>
#include <linux/stringhash.h>
#include <uapi/linux/memfd.h>
#include <uapi/linux/fcntl.h>

#include "shmr_internal.h"
#include "shmr_compat.h"

static struct kmem_cache *shmr_region_cache;
static struct kmem_cache *shmr_handle_cache;
static atomic64_t shmr_next_id = ATOMIC64_INIT(0);
static unsigned int shmr_nregions;	/* all namespaces, under shmr_lock */

/*
 * Lookup tables, under shmr_lock: every region by id, linked regions by
 * (namespace, name). Fixed size: at the default max_regions (4096) a chain
 * holds a few entries, and no allocation can fail on create.
 */
#define SHMR_HASH_BITS	10
static DEFINE_HASHTABLE(shmr_id_hash, SHMR_HASH_BITS);
static DEFINE_HASHTABLE(shmr_name_hash, SHMR_HASH_BITS);

static u32 shmr_name_key(struct shmr_ns *ns, const char *name)
{
	return full_name_hash(ns, name, strlen(name));
}

/* Live regions and bytes per uid, for the per-user quotas; under shmr_lock. */
struct shmr_user {
	struct list_head node;
	kuid_t uid;
	u64 bytes;
	unsigned int regions;
};

static LIST_HEAD(shmr_users);
/*
 * One entry whose bytes went to zero, kept for the next new uid: a uid's
 * entry comes and goes with its first create and last free, and the
 * allocation and free were a measurable part of a create+unlink cycle.
 */
static struct shmr_user *shmr_user_spare;

static const struct file_operations shmr_region_fops;
static const struct vm_operations_struct shmr_vm_ops;

/* The inode's i_fop: reopening a region through /proc is refused. */
static int shmr_reopen_denied(struct inode *inode, struct file *file)
{
	return -EACCES;
}

static const struct file_operations shmr_inode_fops = {
	.open = shmr_reopen_denied,
};

/*
 * The dentry name of the files userspace sees through /proc/PID/fd and
 * /proc/PID/maps: "shmr:NAME" ("shmr" when anonymous), as memfd names its
 * files "memfd:NAME".
 */
#define SHMR_FILE_NAME_MAX	(sizeof("shmr:") + SHMR_NAME_MAX)

static const char *shmr_file_name(struct shmr_region *r, char *buf)
{
	if (!r->name[0])
		return "shmr";
	snprintf(buf, SHMR_FILE_NAME_MAX, "shmr:%s", r->name);
	return buf;
}

/*
 * shmem's vm_operations, recorded by mmap. They are the same for every
 * file of ours: shmem chooses them by whether the file is linked (6.12 and
 * later give unlinked ones shmem_anon_vm_ops, with the same functions),
 * and ours never are.
 */
const struct vm_operations_struct *shmr_shmem_vm_ops;

static int shmr_map_release(struct inode *inode, struct file *file)
{
	struct shmr_map *m = file->private_data;

	fput(m->shmem);
	kfree(m);
	return 0;
}

/*
 * MADV_REMOVE of a writable mapping is the only caller: punch the hole as
 * shmem does for a memfd (-EPERM once sealed: F_SEAL_FUTURE_WRITE).
 */
static long shmr_map_fallocate(struct file *file, int mode, loff_t offset,
			       loff_t len)
{
	struct shmr_map *m = file->private_data;

	if (mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) ||
	    !m->shmem->f_op->fallocate)
		return -EOPNOTSUPP;
	return m->shmem->f_op->fallocate(m->shmem, mode, offset, len);
}

/* shmem aligns to huge pages where the mount allows them (mremap()). */
static unsigned long shmr_map_get_unmapped_area(struct file *file,
						unsigned long addr,
						unsigned long len,
						unsigned long pgoff,
						unsigned long flags)
{
	struct shmr_map *m = file->private_data;

	return m->shmem->f_op->get_unmapped_area(m->shmem, addr, len, pgoff,
						 flags);
}

/*
 * The map file's f_op: no mmap, read or write; msync() is shmem's no-op;
 * its owner keeps the module loaded until __fput() has released the file.
 */
static const struct file_operations shmr_map_fops = {
	.owner = THIS_MODULE,
	.release = shmr_map_release,
	.fsync = noop_fsync,
	.fallocate = shmr_map_fallocate,
	.get_unmapped_area = shmr_map_get_unmapped_area,
	.llseek = noop_llseek,
};

/*
 * A file on @r's shmem inode for the kernel's own use, with @fops and a
 * struct shmr_map, made once and kept in *@slot until the region is freed.
 */
static struct file *shmr_region_file(struct shmr_region *r, struct file **slot,
				     const struct file_operations *fops)
{
	struct inode *inode = file_inode(r->shmem);
	char buf[SHMR_FILE_NAME_MAX];
	struct shmr_map *m;
	struct file *file, *old;

	/* Pairs with the cmpxchg() below: a file seen is set up. */
	file = smp_load_acquire(slot);
	if (file)
		return file;
	m = shmr_fail() ? NULL : kmalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return ERR_PTR(-ENOMEM);
	ihold(inode);
	file = shmr_fail() ? ERR_PTR(-ENOMEM) :
	       alloc_file_pseudo(inode, r->mnt, shmr_file_name(r, buf),
				 O_RDWR, fops);
	if (IS_ERR(file)) {
		iput(inode);
		kfree(m);
		return file;
	}
	/* __fput() does fops_put(); alloc_file_pseudo() took no module ref. */
	__module_get(THIS_MODULE);
	m->shmem = get_file(r->shmem);
	m->region = r;
	file->private_data = m;
	old = cmpxchg(slot, NULL, file);
	if (old) {
		fput(file);	/* another thread made one first */
		return old;
	}
	return file;
}

/*
 * @r's map file, made at its first mmap (most regions are created and
 * unlinked without one, and a third file per region was a measurable part
 * of CREATE); the region holds it until it is freed.
 */
static struct file *shmr_region_map_file(struct shmr_region *r)
{
	return shmr_region_file(r, &r->map, &shmr_map_fops);
}

static struct shmr_user *shmr_user_find(kuid_t uid, bool create)
{
	struct shmr_user *u;

	lockdep_assert_held(&shmr_lock);
	list_for_each_entry(u, &shmr_users, node)
		if (uid_eq(u->uid, uid))
			return u;
	if (!create)
		return NULL;
	u = shmr_user_spare;
	shmr_user_spare = NULL;
	if (!u)
		u = shmr_fail() ? NULL : kzalloc(sizeof(*u), GFP_KERNEL);
	if (!u)
		return NULL;
	u->uid = uid;
	u->bytes = 0;
	u->regions = 0;
	list_add(&u->node, &shmr_users);
	return u;
}

/* Take back one region of @bytes charged to @uid by shmr_region_create(). */
static void shmr_user_uncharge(kuid_t uid, u64 bytes)
{
	struct shmr_user *u = shmr_user_find(uid, false);

	lockdep_assert_held(&shmr_lock);
	if (WARN_ON_ONCE(!u || !u->regions))
		return;
	u->bytes -= bytes;
	if (--u->regions)
		return;
	list_del(&u->node);
	if (!shmr_user_spare)
		shmr_user_spare = u;
	else
		kfree(u);
}

/*
 * Called with shmr_lock held; returns a new reference or NULL. A dead
 * namespace's names are unlinked by the reap work: none is found meanwhile.
 */
struct shmr_region *shmr_region_lookup(struct shmr_ns *ns, const char *name)
{
	struct shmr_region *r;

	lockdep_assert_held(&shmr_lock);
	if (shmr_ns_dead(ns))
		return NULL;
	hash_for_each_possible(shmr_name_hash, r, name_node,
			       shmr_name_key(ns, name)) {
		if (r->ns != ns || !r->linked || strcmp(r->name, name))
			continue;
		/* A linked name is unique: gone with its creator, none is. */
		if (shmr_watch_expire_locked(r))
			return NULL;
		if (!kref_get_unless_zero(&r->ref))
			return NULL;
		r->found = true;
		return r;
	}
	return NULL;
}

/* Called with shmr_lock held; returns a new reference or NULL. */
struct shmr_region *shmr_region_find_id(struct shmr_ns *ns, u64 id)
{
	struct shmr_region *r;

	lockdep_assert_held(&shmr_lock);
	hash_for_each_possible(shmr_id_hash, r, id_node, id) {
		if (r->id != id || r->ns != ns || !kref_get_unless_zero(&r->ref))
			continue;
		shmr_watch_expire_locked(r);
		return r;
	}
	return NULL;
}

void shmr_region_get(struct shmr_region *r)
{
	kref_get(&r->ref);
}

/* kref release: called with shmr_lock held, returns with it dropped. */
static void shmr_region_release(struct kref *ref)
{
	struct shmr_region *r = container_of(ref, struct shmr_region, ref);
	struct shmr_ns *ns = r->ns;

	list_del(&r->ns_node);
	hash_del(&r->id_node);
	if (!hlist_unhashed(&r->name_node))
		hash_del(&r->name_node);
	ns->nregions--;
	shmr_nregions--;
	shmr_user_uncharge(r->charge_uid, r->size);
	shmr_ns_maybe_free_locked(ns);
	if (r->watch)
		r->watch->region = NULL;
	mutex_unlock(&shmr_lock);

	shmr_watch_stop(r);
	if (r->map)
		fput(r->map);
	if (r->attach)
		fput(r->attach);
	fput(r->shmem);
	put_pid(r->creator);
	shmr_count(SHMR_C_BYTES_LIVE, -(s64)r->size);
	shmr_count(SHMR_C_REGIONS_LIVE, -1);
	shmr_count(SHMR_C_REGIONS_FREED, 1);
	kmem_cache_free(shmr_region_cache, r);
	module_put(THIS_MODULE);
}

void shmr_region_put(struct shmr_region *r)
{
	kref_put_mutex(&r->ref, shmr_region_release, &shmr_lock);
}

static int shmr_check_limits(u64 size, kuid_t uid)
{
	struct shmr_user *u;

	lockdep_assert_held(&shmr_lock);
	if (shmr_nregions >= shmr_max_regions)
		return -ENOSPC;
	u = shmr_user_find(uid, false);
	if (size > shmr_max_user_bytes ||
	    (u && u->bytes > shmr_max_user_bytes - size))
		return -EDQUOT;
	/* As for mqueue's queues_max: the host's admin is not limited. */
	if (u && u->regions >= shmr_max_user_regions &&
	    !capable(CAP_SYS_RESOURCE))
		return -EDQUOT;
	return 0;
}

/*
 * Create a region in @ns or, if @name exists there and SHMR_CREATE_EXCL is
 * not given, return the existing one (-EEXIST with *out set). @size is
 * already validated and rounded. Returns 0 with a new reference in *out
 * when created; -ENOENT if the namespace is gone.
 */
int shmr_region_create(struct shmr_ns *ns, const char *name, u64 size,
		       u32 flags, umode_t mode, struct shmr_region **out)
{
	bool huge = flags & SHMR_CREATE_HUGE;
	struct vfsmount *mnt = huge ? shmr_huge_mnt : shmr_mnt;
	struct shmr_region *r, *old;
	struct shmr_user *u;
	struct inode *inode;
	int ret;

	*out = NULL;
	r = shmr_fail() ? NULL :
	    kmem_cache_zalloc(shmr_region_cache, GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	kref_init(&r->ref);
	INIT_HLIST_NODE(&r->name_node);
	INIT_HLIST_NODE(&r->id_node);
	spin_lock_init(&r->lock);
	INIT_LIST_HEAD(&r->attaches);
	INIT_LIST_HEAD(&r->handles);
	init_waitqueue_head(&r->waitq);
	r->size = size;
	r->mode = mode;
	r->uid = current_fsuid();
	r->gid = current_fsgid();
	r->charge_uid = current_euid();
	r->ctime_ns = ktime_get_real_ns();
	r->mnt = mnt;
	if (name)
		strscpy(r->name, name, sizeof(r->name));
	else
		r->info_flags |= SHMR_INFO_ANON;
	if (huge)
		r->info_flags |= SHMR_INFO_HUGE;
	if (flags & SHMR_CREATE_PROCESS)
		r->info_flags |= SHMR_INFO_PROCESS;

	/*
	 * Like memfd + ftruncate(), creation reserves no memory
	 * (VM_NORESERVE): shmem accounts each page as it is allocated, and
	 * the memory cgroup is charged then; max_user_bytes counts the size.
	 */
	r->shmem = shmr_fail() ? ERR_PTR(-ENOMEM) :
		   shmr_shmem_setup(mnt, "shmr", size, true);
	if (IS_ERR(r->shmem)) {
		ret = PTR_ERR(r->shmem);
		goto out_free_region;
	}
	inode = file_inode(r->shmem);
	/*
	 * Not yet published. No opening the inode (a handle through
	 * /proc/PID/fd, a mapping through /proc/PID/map_files), no resizing.
	 */
	inode->i_fop = &shmr_inode_fops;
	SHMEM_I(inode)->seals |= F_SEAL_SEAL | F_SEAL_GROW | F_SEAL_SHRINK;
	r->creator = get_pid(task_tgid(current));

	mutex_lock(&shmr_lock);
	/* Like creating a file in a removed directory. */
	ret = shmr_ns_dead(ns) ? -ENOENT : shmr_ns_log_alloc_locked(ns);
	if (ret)
		goto out_unlock;
	if (name) {
		old = shmr_region_lookup(ns, name);
		if (old) {
			mutex_unlock(&shmr_lock);
			*out = old;
			ret = -EEXIST;
			goto out_put_pid;
		}
	}
	ret = shmr_check_limits(size, r->charge_uid);
	if (ret)
		goto out_unlock;
	u = shmr_user_find(r->charge_uid, true);
	if (!u) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	u->bytes += size;
	u->regions++;
	if (flags & SHMR_CREATE_PROCESS) {
		ret = shmr_watch_start(r);
		if (ret)
			goto out_uncharge;
	}
	r->id = atomic64_inc_return(&shmr_next_id);
	r->ns = ns;
	r->linked = !!name;
	if (name) {
		kref_get(&r->ref);	/* the name's reference */
		hash_add(shmr_name_hash, &r->name_node,
			 shmr_name_key(ns, r->name));
	}
	hash_add(shmr_id_hash, &r->id_node, r->id);
	list_add_tail(&r->ns_node, &ns->regions);
	ns->nregions++;
	shmr_nregions++;
	__module_get(THIS_MODULE);
	mutex_unlock(&shmr_lock);

	shmr_count(SHMR_C_REGIONS_LIVE, 1);
	shmr_count(SHMR_C_REGIONS_CREATED, 1);
	shmr_count(SHMR_C_BYTES_LIVE, size);
	*out = r;
	return 0;

out_uncharge:
	shmr_user_uncharge(r->charge_uid, size);
out_unlock:
	mutex_unlock(&shmr_lock);
out_put_pid:
	put_pid(r->creator);
	fput(r->shmem);
out_free_region:
	kmem_cache_free(shmr_region_cache, r);
	return ret;
}

/*
 * Hide the name. Called with shmr_lock held and a reference held by the
 * caller; the caller drops the name's reference after unlocking.
 */
int shmr_region_unlink_locked(struct shmr_region *r)
{
	lockdep_assert_held(&shmr_lock);
	if (!r->linked)
		return -ENOENT;
	r->linked = false;
	hash_del(&r->name_node);
	spin_lock(&r->lock);
	r->info_flags |= SHMR_INFO_UNLINKED;
	shmr_raise(r, SHMR_EV_UNLINKED, NULL);
	spin_unlock(&r->lock);
	return 0;
}

/*
 * Pinned pages (pin_user_pages(): an io_uring fixed buffer, an AF_XDP
 * umem, O_DIRECT in flight) are written through the pin whatever happens
 * to the mapping and handle they were pinned through, so SEAL refuses
 * them, as F_SEAL_WRITE does on a memfd. Only pins are seen, not plain
 * page references: a page just faulted in holds one more from a per-CPU
 * LRU cache, which memfd drains first (lru_add_drain_all()); a module
 * cannot (it is not exported).
 */
static bool shmr_region_pinned(struct shmr_region *r)
{
	struct address_space *mapping = r->shmem->f_mapping;
	struct folio_batch fbatch;
	bool pinned = false;
	pgoff_t index = 0;
	unsigned int i;

	folio_batch_init(&fbatch);
	while (!pinned &&
	       filemap_get_folios(mapping, &index, (pgoff_t)-1, &fbatch)) {
		for (i = 0; i < folio_batch_count(&fbatch); i++)
			pinned |= folio_maybe_dma_pinned(fbatch.folios[i]);
		folio_batch_release(&fbatch);
		cond_resched();
	}
	return pinned;
}

/* Short-term pins get as long as memfd gives them: 10+20+40+80 ms. */
#define SHMR_PIN_WAITS	4

static int shmr_region_wait_pins(struct shmr_region *r)
{
	unsigned int i;

	for (i = 0; shmr_region_pinned(r); i++) {
		if (i == SHMR_PIN_WAITS || fatal_signal_pending(current))
			return -EBUSY;
		schedule_timeout_killable(msecs_to_jiffies(10 << i));
	}
	return 0;
}

/*
 * SEAL through the read-write handle @h: -EBUSY while pages are pinned.
 * Mappings made before keep their access (F_SEAL_FUTURE_WRITE semantics),
 * so a pin taken through one of them after this check is theirs to take.
 */
int shmr_region_seal(struct shmr_handle *h, u32 seals)
{
	struct shmr_region *r = h->region;
	struct inode *inode = file_inode(r->shmem);
	bool more;
	int ret;

	spin_lock(&r->lock);
	more = seals & ~r->seals;
	spin_unlock(&r->lock);
	if (!more)
		return 0;
	ret = shmr_region_wait_pins(r);
	if (ret)
		return ret;
	/*
	 * shmem enforces it too where it looks: a writable mmap() (6.12 and
	 * later check the seals of the handle's shmem inode before our mmap
	 * runs), hole punching (MADV_REMOVE through an older mapping).
	 */
	inode_lock(inode);
	SHMEM_I(inode)->seals |= F_SEAL_FUTURE_WRITE;
	inode_unlock(inode);

	spin_lock(&r->lock);
	if (seals & ~r->seals) {
		r->seals |= seals;
		r->info_flags |= SHMR_INFO_SEALED;
		/*
		 * Every handle but the sealing one, in this process too. It
		 * has no SEALED pending: the region is sealed once.
		 */
		shmr_raise(r, SHMR_EV_SEALED, NULL);
		h->events &= ~SHMR_EV_SEALED;
	}
	spin_unlock(&r->lock);
	return 0;
}

/*
 * Do the owner, group or other bits of @mode (owner @uid, group @gid) give
 * the caller @want (4 read, 6 read-write)? By fsuid and fsgid, like a file.
 */
bool shmr_mode_permits(kuid_t uid, kgid_t gid, umode_t mode,
		       unsigned int want)
{
	unsigned int bits = mode;

	if (uid_eq(current_fsuid(), uid))
		bits >>= 6;
	else if (in_group_p(gid))
		bits >>= 3;
	return (bits & want) == want;
}

/* File-like permission check for OPEN: -EACCES when denied. */
int shmr_may_open(struct shmr_region *r, bool write)
{
	if (shmr_mode_permits(r->uid, r->gid, r->mode, write ? 6 : 4))
		return 0;
	if (shmr_ns_capable(r->ns, CAP_IPC_OWNER))
		return 0;
	return -EACCES;
}

/* Only the owner, CAP_SYS_ADMIN or CAP_IPC_OWNER may unlink: else -EPERM. */
int shmr_may_unlink(struct shmr_region *r)
{
	if (uid_eq(current_fsuid(), r->uid) || uid_eq(current_euid(), r->uid))
		return 0;
	if (shmr_ns_capable(r->ns, CAP_SYS_ADMIN) ||
	    shmr_ns_capable(r->ns, CAP_IPC_OWNER))
		return 0;
	return -EPERM;
}

/*
 * Create a handle file for @r (consumes no reference; takes its own) and
 * reserve an fd. The caller installs the fd with fd_install() once it has
 * told userspace, or undoes with put_unused_fd() + fput(). @since_ns: the
 * attach time if this opens a new attach entry (CREATE passes the region's
 * ctime, read a moment ago), or 0 for now.
 */
int shmr_handle_open(struct shmr_region *r, bool write, bool cloexec,
		     u64 since_ns, struct file **filep, int *fdp)
{
	struct inode *inode = file_inode(r->shmem);
	char name[SHMR_FILE_NAME_MAX];
	struct shmr_attach *spare, *a;
	struct shmr_handle *h;
	struct file *file;
	int fd, ret;

	h = shmr_fail() ? NULL :
	    kmem_cache_zalloc(shmr_handle_cache, GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	spare = shmr_fail() ? NULL : shmr_attach_alloc();
	if (!spare) {
		ret = -ENOMEM;
		goto out_free_handle;
	}
	spare->since_ns = since_ns;
	fd = shmr_fail() ? -EMFILE :
	     get_unused_fd_flags(cloexec ? O_CLOEXEC : 0);
	if (fd < 0) {
		ret = fd;
		goto out_free_spare;
	}
	ihold(inode);
	file = shmr_fail() ? ERR_PTR(-ENOMEM) :
	       alloc_file_pseudo(inode, r->mnt, shmr_file_name(r, name),
				 write ? O_RDWR : O_RDONLY, &shmr_region_fops);
	if (IS_ERR(file)) {
		iput(inode);
		ret = PTR_ERR(file);
		goto out_put_fd;
	}
	/* __fput() does fops_put(); alloc_file_pseudo() took no module ref. */
	__module_get(THIS_MODULE);
	file->private_data = h;
	h->region = r;
	h->writable = write;
	shmr_region_get(r);

	spin_lock(&r->lock);
	a = shmr_attach_get(r, task_tgid(current), current->mm, false,
			    &spare);
	a->handles++;
	h->attach = a;
	list_add_tail(&h->node, &r->handles);
	r->nhandles++;
	spin_unlock(&r->lock);
	if (spare)
		shmr_attach_free(spare);
	shmr_count(SHMR_C_HANDLES_LIVE, 1);
	*filep = file;
	*fdp = fd;
	return 0;

out_put_fd:
	put_unused_fd(fd);
out_free_spare:
	shmr_attach_free(spare);
out_free_handle:
	kmem_cache_free(shmr_handle_cache, h);
	return ret;
}

static int shmr_region_file_release(struct inode *inode, struct file *file)
{
	struct shmr_handle *h = file->private_data;
	struct shmr_region *r = h->region;
	struct shmr_attach *a = h->attach;
	bool gone;

	spin_lock(&r->lock);
	list_del(&h->node);
	r->nhandles--;
	gone = shmr_attach_drop(r, a, true, shmr_current_dying(a->pid));
	spin_unlock(&r->lock);
	if (gone)
		shmr_attach_free(a);
	kmem_cache_free(shmr_handle_cache, h);
	shmr_count(SHMR_C_HANDLES_LIVE, -1);
	shmr_region_put(r);
	return 0;
}

/*
 * Does the process with thread-group @pid (or NULL) whose mm is @mm have a
 * live attach entry for @r? Called with r->lock held.
 */
static bool shmr_mm_attached(struct shmr_region *r, struct pid *pid,
			     struct mm_struct *mm)
{
	struct shmr_attach *a;

	lockdep_assert_held(&r->lock);
	list_for_each_entry(a, &r->attaches, node)
		if (!a->died && ((pid && a->pid == pid) || a->mm == mm))
			return true;
	return false;
}

/*
 * Account a new mapping @vma to the process whose mm holds it, with
 * thread-group @pid (NULL: looked up here). @spare (may be NULL) is used or
 * freed; without it an entry is allocated here if the process has none,
 * and without memory the mapping counts for no process.
 */
static void shmr_vma_attach(struct shmr_region *r, struct vm_area_struct *vma,
			    struct pid *pid, struct shmr_attach *spare)
{
	struct shmr_attach *a = NULL;
	bool own_pid = !pid;

	if (own_pid)
		pid = shmr_mm_tgid(vma->vm_mm);

	/* Mostly the process already has an entry: allocate only if not. */
	spin_lock(&r->lock);
	a = shmr_attach_get(r, pid, vma->vm_mm, true, &spare);
	if (!a) {
		spin_unlock(&r->lock);
		spare = shmr_attach_alloc();
		spin_lock(&r->lock);
		a = shmr_attach_get(r, pid, vma->vm_mm, true, &spare);
	}
	if (a)
		a->mappings++;
	r->nmappings++;
	spin_unlock(&r->lock);
	vma->vm_private_data = a;
	if (spare)
		shmr_attach_free(spare);
	if (own_pid)
		put_pid(pid);
	shmr_count(SHMR_C_MAPPINGS_LIVE, 1);
}

static struct shmr_region *shmr_vma_region(struct vm_area_struct *vma)
{
	struct shmr_map *m = vma->vm_file->private_data;

	return m->region;
}

/* A VMA copied by fork(), split, or moved by mremap(). */
static void shmr_vm_open(struct vm_area_struct *vma)
{
	struct shmr_region *r = shmr_vma_region(vma);

	shmr_region_get(r);
	/* vm_open cannot fail: without memory the mapping is not attributed. */
	shmr_vma_attach(r, vma, NULL, NULL);
}

/*
 * The mm is being torn down (mm_users == 0) by its exiting owner: that is
 * a death, not a detach. exec() also drops the old mm, but not while
 * PF_EXITING.
 */
static bool shmr_vma_dying(struct vm_area_struct *vma)
{
	return !atomic_read(&vma->vm_mm->mm_users) &&
	       (current->flags & PF_EXITING);
}

static void shmr_vm_close(struct vm_area_struct *vma)
{
	struct shmr_region *r = shmr_vma_region(vma);
	struct shmr_attach *a = vma->vm_private_data;
	bool gone = false;

	spin_lock(&r->lock);
	r->nmappings--;
	if (a)
		gone = shmr_attach_drop(r, a, false, shmr_vma_dying(vma));
	spin_unlock(&r->lock);
	vma->vm_private_data = NULL;
	if (gone)
		shmr_attach_free(a);
	shmr_count(SHMR_C_MAPPINGS_LIVE, -1);
	/* mmap_lock -> shmr_lock is the documented order. */
	shmr_region_put(r);
}

/*
 * The rest forwards to shmem, as ipc/shm.c does, so that a region mapping
 * behaves as a memfd mapping: faults, fault-around, NUMA policy (shmem
 * keeps it per file: mbind() on one mapping applies to all), and from 7.2
 * userfaultfd (shmr_compat.h). An operation shmem lacks gets the default.
 */
static vm_fault_t shmr_vm_fault(struct vm_fault *vmf)
{
	return shmr_shmem_ops()->fault(vmf);
}

static vm_fault_t shmr_vm_map_pages(struct vm_fault *vmf, pgoff_t start,
				    pgoff_t end)
{
	const struct vm_operations_struct *ops = shmr_shmem_ops();

	return ops->map_pages ? ops->map_pages(vmf, start, end) : 0;
}

static int shmr_vm_may_split(struct vm_area_struct *vma, unsigned long addr)
{
	const struct vm_operations_struct *ops = shmr_shmem_ops();

	return ops->may_split ? ops->may_split(vma, addr) : 0;
}

static unsigned long shmr_vm_pagesize(struct vm_area_struct *vma)
{
	const struct vm_operations_struct *ops = shmr_shmem_ops();

	return ops->pagesize ? ops->pagesize(vma) : PAGE_SIZE;
}

#ifdef CONFIG_NUMA
static int shmr_vm_set_policy(struct vm_area_struct *vma,
			      struct mempolicy *new)
{
	const struct vm_operations_struct *ops = shmr_shmem_ops();

	return ops->set_policy ? ops->set_policy(vma, new) : 0;
}
#endif

static const struct vm_operations_struct shmr_vm_ops = {
	.open = shmr_vm_open,
	.close = shmr_vm_close,
	.fault = shmr_vm_fault,
	.map_pages = shmr_vm_map_pages,
	.may_split = shmr_vm_may_split,
	.pagesize = shmr_vm_pagesize,
#ifdef CONFIG_NUMA
	.set_policy = shmr_vm_set_policy,
	.get_policy = shmr_vm_get_policy,
#endif
	SHMR_VM_OPS_UFFD
};

/*
 * Map @r through @vma, whose mmap() is in progress: MAP_SHARED only
 * (-EINVAL), writable only if @writable (-EACCES) and the region is not
 * sealed (-EPERM), within the region (-ENXIO); a mapping that may not
 * write loses VM_MAYWRITE so mprotect() cannot add PROT_WRITE. The seal
 * comes before the bounds because 6.12 and later check shmem's seals of
 * the mmapped file's inode in the VFS, before this runs.
 */
static int shmr_mmap(struct shmr_region *r, struct vm_area_struct *vma,
		     bool writable)
{
	unsigned long pages = r->size >> PAGE_SHIFT;
	struct shmr_attach *spare = NULL;
	bool sealed, attached;
	struct file *map;
	struct pid *pid;
	int ret;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if ((vma->vm_flags & VM_WRITE) && !writable)
		return -EACCES;
	pid = shmr_mm_tgid(vma->vm_mm);
	spin_lock(&r->lock);
	sealed = r->seals & SHMR_SEAL_WRITE;
	attached = shmr_mm_attached(r, pid, vma->vm_mm);
	spin_unlock(&r->lock);
	ret = -EPERM;
	if (sealed && (vma->vm_flags & VM_WRITE))
		goto out_put_pid;
	ret = -ENXIO;
	if (vma->vm_pgoff >= pages || vma_pages(vma) > pages - vma->vm_pgoff)
		goto out_put_pid;
	if (sealed || !writable)
		shmr_vm_flags_clear(vma, VM_MAYWRITE);

	/*
	 * A process mapping the region for the first time needs an attach
	 * entry: allocate it now so that mmap fails (-ENOMEM) without one.
	 */
	ret = -ENOMEM;
	if (!attached) {
		spare = shmr_fail() ? NULL : shmr_attach_alloc();
		if (!spare)
			goto out_put_pid;
	}
	map = shmr_region_map_file(r);
	if (IS_ERR(map)) {
		ret = PTR_ERR(map);
		goto out_free_spare;
	}
	/*
	 * vm_file is the map file, so the handle is not held; shmem sets the
	 * VMA up as a mapping of its own file. On error the caller puts
	 * whatever vm_file is.
	 */
	vma_set_file(vma, map);
	ret = shmr_vfs_mmap(r->shmem, vma);
	if (ret)
		goto out_free_spare;
	if (READ_ONCE(shmr_shmem_vm_ops) != vma->vm_ops)
		WRITE_ONCE(shmr_shmem_vm_ops, vma->vm_ops);
	vma->vm_ops = &shmr_vm_ops;
	shmr_region_get(r);
	shmr_vma_attach(r, vma, pid, spare);
	put_pid(pid);
	return 0;

out_free_spare:
	if (spare)
		shmr_attach_free(spare);
out_put_pid:
	put_pid(pid);
	return ret;
}

/* mmap on a handle: writable through a read-write handle only. */
static int shmr_region_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct shmr_handle *h = file->private_data;

	return shmr_mmap(h->region, vma, h->writable);
}

/*
 * mmap of the attach file. Only SHMR_IOC_ATTACH gets here: the file never
 * reaches userspace and no VMA keeps it (the map file replaces it as
 * vm_file, so remap_file_pages() meets the map file's missing mmap), and
 * ATTACH checked that the caller may open the region for what it asks:
 * writable when asked, else never.
 */
static int shmr_attach_file_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct shmr_map *m = file->private_data;

	return shmr_mmap(m->region, vma, vma->vm_flags & VM_WRITE);
}

/*
 * The file ATTACH maps (vm_mmap()), made at a region's first ATTACH and
 * held by the region until it is freed: like the map file, with an mmap.
 */
static const struct file_operations shmr_attach_fops = {
	.owner = THIS_MODULE,
	.release = shmr_map_release,
	.mmap = shmr_attach_file_mmap,
	.get_unmapped_area = shmr_map_get_unmapped_area,
	.llseek = noop_llseek,
};

/*
 * SHMR_IOC_ATTACH: map all of @r into the caller's address space as mmap()
 * of a handle for @write would, without a handle; the caller holds a
 * reference and has checked that it may open @r so. Returns the address,
 * or an error (IS_ERR_VALUE()).
 */
unsigned long shmr_region_attach(struct shmr_region *r, bool write)
{
	struct file *file = shmr_region_file(r, &r->attach, &shmr_attach_fops);

	if (IS_ERR(file))
		return PTR_ERR(file);
	return vm_mmap(file, 0, r->size, PROT_READ | (write ? PROT_WRITE : 0),
		       MAP_SHARED, 0);
}

/* shmem aligns to huge pages where the mount allows them. */
static unsigned long shmr_region_get_unmapped_area(struct file *file,
						   unsigned long addr,
						   unsigned long len,
						   unsigned long pgoff,
						   unsigned long flags)
{
	struct shmr_handle *h = file->private_data;
	struct file *shmem = h->region->shmem;

	return shmem->f_op->get_unmapped_area(shmem, addr, len, pgoff, flags);
}

static __poll_t shmr_region_poll(struct file *file, poll_table *wait)
{
	struct shmr_handle *h = file->private_data;
	struct shmr_region *r = h->region;
	__poll_t mask = 0;

	poll_wait(file, &r->waitq, wait);
	spin_lock(&r->lock);
	if (h->events)
		mask = EPOLLIN | EPOLLRDNORM;
	spin_unlock(&r->lock);
	return mask;
}

static long shmr_region_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct shmr_handle *h = file->private_data;
	struct shmr_ctx ctx = { .handle = h, .ns = h->region->ns };

	return shmr_cmd(&ctx, cmd, (void __user *)arg, _IOC_SIZE(cmd));
}

static int shmr_region_uring_cmd(struct io_uring_cmd *ioucmd,
				 unsigned int issue_flags)
{
	struct shmr_handle *h = ioucmd->file->private_data;
	struct shmr_ctx ctx = { .handle = h, .ns = h->region->ns };

	return shmr_uring_cmd(&ctx, ioucmd, issue_flags);
}

static const struct file_operations shmr_region_fops = {
	.owner = THIS_MODULE,
	.uring_cmd = shmr_region_uring_cmd,
	.release = shmr_region_file_release,
	.mmap = shmr_region_mmap,
	.get_unmapped_area = shmr_region_get_unmapped_area,
	.poll = shmr_region_poll,
	.fsync = noop_fsync,	/* shmem's: nothing to write back */
	.unlocked_ioctl = shmr_region_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/* Called with the region's lifetime guaranteed by the caller. */
void shmr_fill_info(struct shmr_region *r, struct shmr_region_info *info)
{
	struct user_namespace *uns = current_user_ns();

	memset(info, 0, sizeof(*info));
	info->id = r->id;
	info->size = r->size;
	info->ctime_ns = r->ctime_ns;
	info->uid = from_kuid_munged(uns, r->uid);
	info->gid = from_kgid_munged(uns, r->gid);
	info->mode = r->mode;
	info->creator_pid = pid_nr_ns(r->creator, task_active_pid_ns(current));
	strscpy(info->name, r->name, sizeof(info->name));
	spin_lock(&r->lock);
	info->flags = r->info_flags;
	info->handles = r->nhandles;
	info->mappings = r->nmappings;
	info->nattach = r->nattach;
	spin_unlock(&r->lock);
}

/*
 * /proc/shmr: the IPC namespace of the task that opened it (m->private,
 * bound at open), like /proc/sysvipc/shm.
 */
int shmr_proc_show(struct seq_file *m, void *v)
{
	struct shmr_ns *ns = m->private;
	struct shmr_region_info info;
	struct shmr_region *r;

	seq_printf(m, "%20s %10s %16s %5s %5s %5s %6s %10s %7s %8s %7s %s\n",
		   "id", "flags", "size", "uid", "gid", "mode", "cpid",
		   "handles", "maps", "nattach", "state", "name");
	mutex_lock(&shmr_lock);
	list_for_each_entry(r, &ns->regions, ns_node) {
		if (kref_read(&r->ref))
			shmr_watch_expire_locked(r);
		shmr_fill_info(r, &info);
		seq_printf(m, "%20llu %#10x %16llu %5u %5u %5o %6d %10u %7u %8u %7s ",
			   info.id, info.flags, info.size, info.uid,
			   info.gid, info.mode, info.creator_pid,
			   info.handles, info.mappings, info.nattach,
			   (info.flags & SHMR_INFO_ANON) ? "anon" :
			   (info.flags & SHMR_INFO_UNLINKED) ?
			   "unlinked" : "linked");
		/*
		 * A name is any bytes but '/': escape (octal, like
		 * /proc/mounts) all but printable ASCII, and space
		 * and backslash, so one region is one line.
		 */
		if (info.name[0])
			seq_escape_str(m, info.name, ESCAPE_OCTAL |
				       ESCAPE_NAP | ESCAPE_APPEND,
				       " \\");
		else
			seq_puts(m, "-");
		seq_putc(m, '\n');
	}
	mutex_unlock(&shmr_lock);
	return 0;
}

int shmr_region_init(void)
{
	int ret = shmr_attach_init();

	if (ret)
		return ret;
	shmr_region_cache = kmem_cache_create("shmr_region",
					      sizeof(struct shmr_region), 0,
					      SLAB_ACCOUNT, NULL);
	if (!shmr_region_cache)
		goto out_attach_exit;
	shmr_handle_cache = kmem_cache_create("shmr_handle",
					      sizeof(struct shmr_handle), 0,
					      SLAB_ACCOUNT, NULL);
	if (!shmr_handle_cache)
		goto out_destroy_region;
	return 0;

out_destroy_region:
	kmem_cache_destroy(shmr_region_cache);
out_attach_exit:
	shmr_attach_exit();
	return -ENOMEM;
}

void shmr_region_exit(void)
{
	/* No regions remain (each pins the module); drop exit logs. */
	shmr_ns_exit();
	mutex_lock(&shmr_lock);
	kfree(shmr_user_spare);
	shmr_user_spare = NULL;
	mutex_unlock(&shmr_lock);
	kmem_cache_destroy(shmr_handle_cache);
	kmem_cache_destroy(shmr_region_cache);
	shmr_attach_exit();
}
