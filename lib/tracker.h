/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Process-lifetime regions on the posix backend: what libshmr
 * (lib/tracker.c) and its helper process (lib/tracker/shmr-tracker.c) say
 * to each other. Not installed. docs/library.md, "Process-lifetime regions
 * without the module", has the design.
 *
 * One SOCK_SEQPACKET socketpair per tracker: the helper holds one end (as
 * fd SHMR_TRK_FD), every process of the tree that started it the other
 * (close-on-exec, so shared by fork() and dropped by execve()). Messages go
 * one way, one struct shmr__trk_msg per packet:
 *
 *  REGISTER    with SCM_RIGHTS [region fd, pidfd of the creator] and
 *              SCM_CREDENTIALS {pid, euid, egid} of the sender: when the
 *              pidfd's process is gone, unlink name if it still names that
 *              file (same st_dev and st_ino) and the sender's euid owns it
 *              (or is 0), which is what the sender could have done itself.
 *  UNREGISTER  name was unlinked: forget the registrations of that name
 *              that it no longer names.
 */
#ifndef SHMR_TRACKER_H
#define SHMR_TRACKER_H

#include <stdint.h>

/* where glibc's shm_open() puts POSIX shm objects */
#define SHMR_SHM_DIR		"/dev/shm"

#define SHMR_TRK_FD		3		/* the helper's end of the socket */
#define SHMR_TRK_MAGIC		0x4b525453u	/* "STRK" */
#define SHMR_TRK_VERSION	1

#define SHMR_TRK_REGISTER	1
#define SHMR_TRK_UNREGISTER	2

struct shmr__trk_msg {
	uint32_t magic;		/* SHMR_TRK_MAGIC */
	uint16_t version;	/* SHMR_TRK_VERSION */
	uint16_t op;		/* SHMR_TRK_* */
	char name[256];		/* file name in SHMR_SHM_DIR, NUL-terminated */
};

#endif /* SHMR_TRACKER_H */
