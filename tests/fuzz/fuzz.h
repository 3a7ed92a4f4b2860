/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the libFuzzer harnesses share: a check that aborts (libFuzzer keeps
 * the input), the entry points, and SHMR_FUZZ_STATS=1, which prints at exit
 * how many inputs were refused and how many accepted, so that a harness
 * that never gets past the first check shows.
 */
#ifndef SHMR_FUZZ_H
#define SHMR_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_NAME
#error "define FUZZ_NAME before including fuzz.h"
#endif

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, FUZZ_NAME ": %s:%d: %s\n", __FILE__, __LINE__, #cond); abort(); } } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static unsigned long refused, accepted;

static void fuzz_print_stats(void)
{
	fprintf(stderr, FUZZ_NAME ": refused %lu, accepted %lu\n", refused, accepted);
}

/* Called first by each harness's LLVMFuzzerInitialize(). */
static inline void fuzz_init(void)
{
	if (getenv("SHMR_FUZZ_STATS"))
		atexit(fuzz_print_stats);
	setenv("SHMR_LEAK", "off", 1);
}

#endif /* SHMR_FUZZ_H */
