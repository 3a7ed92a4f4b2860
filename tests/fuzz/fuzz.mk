# libFuzzer harnesses for what the library parses (issue 8), included by the
# top Makefile. Built with clang (Debian's clang and libclang-rt-14-dev:
# scripts/deps.sh fuzz) with ASan and UBSan, the library's sources compiled in.
#
#   make fuzz [FUZZ_TIME=60]   run every harness FUZZ_TIME seconds, corpus kept
#   make fuzz-build            build them only
#
# make check runs each for SHMR_FUZZ_CHECK_SECONDS (tests/run/check.sh). Inputs
# that once failed stay in tests/fuzz/corpus/<harness>/ and run first every
# time (libFuzzer reads corpus directories after the first one, which it
# writes).
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -g -O1
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(LIB_SRCS) $(wildcard lib/*.h lib/include/*.h) include/uapi/linux/shmr.h
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(SHMR_CPPFLAGS) $(SHMR_CFLAGS) -o $@ $< $(LIB_SRCS) $(LIB_LDLIBS)

fuzz: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do \
		mkdir -p $$f.corpus; \
		echo "# $$f: $(FUZZ_TIME) s"; \
		SHMR_FUZZ_STATS=1 $$f -max_total_time=$(FUZZ_TIME) -max_len=1100 -print_final_stats=1 \
			$$f.corpus $$(ls -d tests/fuzz/corpus/$${f##*/} 2>/dev/null) 2>&1 | grep -E '^(fuzz_|stat::number_of_executed_units|==[0-9]+==|SUMMARY)' || exit 1; \
	done
