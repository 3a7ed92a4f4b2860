/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Point libshmr at the tracker helper of this build (SHMR_TRACKER) unless
 * the environment already does: the test programs link libshmr.a, so the
 * library's own search (beside libshmr.so, then the installed path) does
 * not find build/lib/shmr/shmr-tracker. The layout is the same on the host
 * (build/tests/host/X, build/lib/shmr) and in the VM (/opt/shmr/tests/host/X,
 * /opt/shmr/lib/shmr). Call from a constructor, before the first call.
 */
#ifndef SHMR_TRACKER_ENV_H
#define SHMR_TRACKER_ENV_H

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void shmr_test_tracker_env(void)
{
	char exe[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n;

	if (getenv("SHMR_TRACKER"))
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	/* <root>/tests/host/X -> <root>/lib/shmr/shmr-tracker */
	snprintf(path, sizeof(path), "%s/lib/shmr/shmr-tracker", dirname(dirname(dirname(exe))));
	setenv("SHMR_TRACKER", path, 1);
}

#endif /* SHMR_TRACKER_ENV_H */
