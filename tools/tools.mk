# shmrctl and the benchmarks. Included from the top Makefile.
SHMRCTL_SRCS := $(wildcard tools/shmrctl/*.c)
BENCH_SRCS := $(wildcard tools/bench/*.c)
BENCH_BINS := $(patsubst tools/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
TOOL_LDLIBS := $(LIB_A) -pthread -luring -lrt

tools: $(if $(SHMRCTL_SRCS),$(BUILD)/bin/shmrctl) $(BENCH_BINS)

$(BUILD)/bin/shmrctl: $(SHMRCTL_SRCS) $(wildcard tools/shmrctl/*.h) $(LIB_A) lib/lib.mk
	@mkdir -p $(@D)
	$(CC) $(SHMR_CPPFLAGS) -DSHMRCTL_VERSION=\"$(SHMR_VERSION)\" $(SHMR_CFLAGS) $(CFLAGS) -o $@ \
		$(SHMRCTL_SRCS) $(TOOL_LDLIBS)

$(BUILD)/bench/%: tools/bench/%.c $(wildcard tools/bench/*.h) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(SHMR_CPPFLAGS) $(SHMR_CFLAGS) $(CFLAGS) -o $@ $< $(TOOL_LDLIBS)

# make bench (owned by the benchmark work)
-include tools/bench/bench.mk
