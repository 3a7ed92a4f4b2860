# make bench: shmr beside memfd, POSIX shm, SysV shm and pthread (docs/bench.md).
# Included from the top Makefile.
#
#   make bench               full run: host lock benchmarks, one VM boot for the
#                            region benchmarks, table, CSV and plot in build/bench/
#   make bench-quick         the same with few repetitions (a smoke run)
#   make bench KERNEL=7.3    the region benchmarks in that kernel's VM
#   make bench BENCH_ARGS="--kernel 6.12 --no-host"   options of run-bench.sh
.PHONY: bench bench-quick bench-deps
BENCH_ARGS ?=

# gnuplot (Debian's gnuplot-nox) only draws ratios.png and valgrind only
# counts the lock's instructions: without them the run goes on and says so.
bench-deps:
	@scripts/deps.sh bench || echo "bench: gnuplot-nox or valgrind missing: no plot or no instruction counts" >&2

bench: all bench-deps
	bench/run-bench.sh $(if $(KERNEL),--kernel $(KERNEL)) $(BENCH_ARGS)

bench-quick: all bench-deps
	bench/run-bench.sh --quick $(if $(KERNEL),--kernel $(KERNEL)) $(BENCH_ARGS)

# The programs, built by `make` (build/bench/) and copied into the VM.
.PHONY: bench-progs
bench-progs: $(patsubst %.c,$(BUILD)/%,$(wildcard bench/*.c))
$(BUILD)/bench/%: bench/%.c $(wildcard bench/*.h) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(SHMR_CPPFLAGS) $(SHMR_CFLAGS) $(CFLAGS) -o $@ $< $(LIB_A) -pthread -luring -lrt
