/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Interfaces between the parts of libshmr; not installed. */
#ifndef SHMR_INTERNAL_H
#define SHMR_INTERNAL_H

#define SHMR_BUILDING_LIBRARY 1
#include "shmr.h"

#define SHMR_HIDDEN __attribute__((visibility("hidden")))

/*
 * A lock held by some thread of this process, as the lock code knows it.
 * Filled by lib/lock*.c for the leak report (lib/region*.c).
 */
struct shmr__held_lock {
	const void *addr;	/* the lock object */
	const char *kind;	/* "mutex", "rwlock(write)", "rwlock(read)", ... */
	pid_t tid;		/* holding thread */
	const char *file;	/* where it was locked, if known, else NULL */
	int line;
};

typedef void (*shmr__held_lock_cb)(const struct shmr__held_lock *h, void *arg);

/*
 * Call cb for every lock held by a thread of this process (as far as the
 * lock mechanism can know it). Implemented in lib/lock*.c. Must be callable
 * from an atexit handler.
 */
SHMR_HIDDEN void shmr__held_locks_foreach(shmr__held_lock_cb cb, void *arg);

#endif /* SHMR_INTERNAL_H */
