// SPDX-License-Identifier: LGPL-2.1-or-later
/* shmr_version(): the version this library was built as. */
#include "internal.h"

#define SHMR_STR_(x) #x
#define SHMR_STR(x) SHMR_STR_(x)

const char *shmr_version(void)
{
	return SHMR_STR(SHMR_VERSION_MAJOR) "." SHMR_STR(SHMR_VERSION_MINOR) "."
		SHMR_STR(SHMR_VERSION_PATCH);
}
