/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmr: every difference between the supported kernels (6.1 to 7.3, see
 * scripts/kver) lives here; no version checks elsewhere. Features are
 * detected from the kernel headers in kmod/Kbuild (SHMR_HAVE_*), not by
 * version.
 */
#ifndef _SHMR_COMPAT_H
#define _SHMR_COMPAT_H

#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/rcupdate.h>
#include <linux/fs.h>
#include <linux/shmem_fs.h>

/* vm_flags became read-only with accessors in 6.3. */
static inline void shmr_vm_flags_clear(struct vm_area_struct *vma,
				       unsigned long flags)
{
#ifdef SHMR_HAVE_VM_FLAGS_CLEAR
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

/*
 * The thread-group pid of the process that owns @mm, with a reference, or
 * NULL. fork() calls vm_ops->open() for the child's VMAs with current set
 * to the parent, so the child is found through mm->owner, which exists
 * with CONFIG_MEMCG (Debian sets it); mm_init() points it at the new task.
 * Without CONFIG_MEMCG only the caller's own mm can be attributed.
 */
static inline struct pid *shmr_mm_tgid(struct mm_struct *mm)
{
	struct pid *pid = NULL;

	if (mm == current->mm)
		return get_pid(task_tgid(current));
#ifdef CONFIG_MEMCG
	{
		struct task_struct *t;

		rcu_read_lock();
		t = rcu_dereference(mm->owner);
		if (t)
			pid = get_pid(task_tgid(t));
		rcu_read_unlock();
	}
#endif
	return pid;
}

/*
 * An unlinked shmem file on @mnt. 7.0 passes the VMA flags to account as a
 * vma_flags_t; before that, as VM_* bits.
 */
static inline struct file *shmr_shmem_setup(struct vfsmount *mnt,
					    const char *name, loff_t size,
					    bool noreserve)
{
#ifdef SHMR_HAVE_VMA_FLAGS_T
	return shmem_file_setup_with_mnt(mnt, name, size, noreserve ?
					 mk_vma_flags(VMA_NORESERVE_BIT) :
					 EMPTY_VMA_FLAGS);
#else
	return shmem_file_setup_with_mnt(mnt, name, size,
					 noreserve ? VM_NORESERVE : 0);
#endif
}

/* struct folio_batch moved from linux/pagevec.h (6.x) to its own header. */
#ifdef SHMR_HAVE_FOLIO_BATCH_H
#include <linux/folio_batch.h>
#else
#include <linux/pagevec.h>
#endif

/*
 * Let shmem set up @vma, whose mmap() is in progress, as a mapping of its
 * file @file: the caller's file stays vm_file, as in ipc/shm.c. 6.16 gave
 * shmem ->mmap_prepare() instead of ->mmap(); vfs_mmap() (6.16) calls
 * either, call_mmap() before it only ->mmap().
 */
static inline int shmr_vfs_mmap(struct file *file, struct vm_area_struct *vma)
{
#ifdef SHMR_HAVE_VFS_MMAP
	return vfs_mmap(file, vma);
#else
	return call_mmap(file, vma);
#endif
}

/*
 * Region mappings forward to shmem's vm_operations (shmr_region.c), which
 * the module's mmap records in shmr_shmem_vm_ops before any VMA has the
 * module's own. What differs between kernels is here: get_policy() took
 * the interleave index in 6.7 (SHMR_HAVE_GET_POLICY_ILX), and 7.2 gave
 * shmem uffd_ops (SHMR_HAVE_VM_UFFD_OPS), through which userfaultfd works
 * on any VMA that has them.
 */
extern const struct vm_operations_struct *shmr_shmem_vm_ops;

static inline const struct vm_operations_struct *shmr_shmem_ops(void)
{
	return READ_ONCE(shmr_shmem_vm_ops);
}

#ifdef CONFIG_NUMA
#ifdef SHMR_HAVE_GET_POLICY_ILX
static inline struct mempolicy *shmr_vm_get_policy(struct vm_area_struct *vma,
						   unsigned long addr,
						   pgoff_t *ilx)
{
	const struct vm_operations_struct *ops = shmr_shmem_ops();

	return ops->get_policy ? ops->get_policy(vma, addr, ilx) :
				 vma->vm_policy;
}
#else
static inline struct mempolicy *shmr_vm_get_policy(struct vm_area_struct *vma,
						   unsigned long addr)
{
	const struct vm_operations_struct *ops = shmr_shmem_ops();

	return ops->get_policy ? ops->get_policy(vma, addr) : vma->vm_policy;
}
#endif
#endif /* CONFIG_NUMA */

#if defined(CONFIG_USERFAULTFD) && defined(SHMR_HAVE_VM_UFFD_OPS)
#include <linux/userfaultfd_k.h>

static inline bool shmr_uffd_can_userfault(struct vm_area_struct *vma,
					   vm_flags_t vm_flags)
{
	return shmr_shmem_ops()->uffd_ops->can_userfault(vma, vm_flags);
}

static inline struct folio *shmr_uffd_get_folio_noalloc(struct inode *inode,
							pgoff_t pgoff)
{
	return shmr_shmem_ops()->uffd_ops->get_folio_noalloc(inode, pgoff);
}

static inline struct folio *shmr_uffd_alloc_folio(struct vm_area_struct *vma,
						  unsigned long addr)
{
	return shmr_shmem_ops()->uffd_ops->alloc_folio(vma, addr);
}

static inline int shmr_uffd_filemap_add(struct folio *folio,
					struct vm_area_struct *vma,
					unsigned long addr)
{
	return shmr_shmem_ops()->uffd_ops->filemap_add(folio, vma, addr);
}

static inline void shmr_uffd_filemap_remove(struct folio *folio,
					    struct vm_area_struct *vma)
{
	shmr_shmem_ops()->uffd_ops->filemap_remove(folio, vma);
}

/* shmem's callbacks work on vm_file's inode, which is shmem's. */
static const struct vm_uffd_ops shmr_uffd_ops __maybe_unused = {
	.can_userfault = shmr_uffd_can_userfault,
	.get_folio_noalloc = shmr_uffd_get_folio_noalloc,
	.alloc_folio = shmr_uffd_alloc_folio,
	.filemap_add = shmr_uffd_filemap_add,
	.filemap_remove = shmr_uffd_filemap_remove,
};

#define SHMR_VM_OPS_UFFD	.uffd_ops = &shmr_uffd_ops,
#else
#define SHMR_VM_OPS_UFFD
#endif

/*
 * uring_cmd: 6.1 points io_uring_cmd->cmd at the SQE's command area; from
 * 6.6 the struct holds the SQE and io_uring_sqe_cmd() finds the area, which
 * 7.1 returns as a pointer to the type it is given (checking its size).
 */
#ifdef SHMR_HAVE_IO_URING_CMD_H
#include <linux/io_uring/cmd.h>

#ifdef SHMR_HAVE_SQE_CMD_TYPE
#define shmr_uring_payload(ioucmd) io_uring_sqe_cmd((ioucmd)->sqe, u64)
#else
#define shmr_uring_payload(ioucmd) \
	((const u64 *)io_uring_sqe_cmd((ioucmd)->sqe))
#endif
#else
#include <linux/io_uring.h>

#define shmr_uring_payload(ioucmd) ((const u64 *)(ioucmd)->cmd)
#endif

#endif /* _SHMR_COMPAT_H */
