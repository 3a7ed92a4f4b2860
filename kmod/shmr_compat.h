/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shmr: every difference between the supported kernels (6.1 to 7.3, see
 * tools/kver) lives here; no version checks elsewhere. Features are
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

/*
 * Set up @vma, whose mmap() is in progress, as a shmem mapping of @file
 * using the file operations of @fops_file (a shmem file: @file's own f_op
 * is the module's). Up to 6.15 shmem has ->mmap(); from 6.16 it has only
 * ->mmap_prepare(), which a driver's ->mmap() reaches through a descriptor
 * built from the VMA and applied back to it (the kernel's helpers for
 * drivers that map another file).
 */
static inline int shmr_shmem_mmap(struct file *fops_file, struct file *file,
				  struct vm_area_struct *vma)
{
#ifdef SHMR_HAVE_COMPAT_VMA_DESC
	struct vm_area_desc desc;
	int ret;

	compat_set_desc_from_vma(&desc, file, vma);
	ret = fops_file->f_op->mmap_prepare(&desc);
	if (ret)
		return ret;
	return __compat_vma_mmap(&desc, vma);
#else
	return fops_file->f_op->mmap(file, vma);
#endif
}

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
