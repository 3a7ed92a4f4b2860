/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libshmr: refcounted shared memory regions and robust process-shared locks.
 *
 * Every function returns 0 (or a non-negative value where documented) on
 * success and a negative errno on failure; none sets errno. All functions
 * are thread-safe unless stated otherwise.
 */
#ifndef SHMR_H
#define SHMR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(SHMR_BUILDING_LIBRARY)
#define SHMR_API __attribute__((visibility("default")))
#else
#define SHMR_API
#endif

/* ==== Regions ========================================================== */
/* (owned by the region work: lib/region*.c) */

/* ==== Locks ============================================================ */
/* (owned by the lock work: lib/lock*.c) */

#ifdef __cplusplus
}
#endif

#endif /* SHMR_H */
