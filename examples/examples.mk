# Example programs (examples/*.c), built with the library: build/examples/NAME.
# Included from the top Makefile. Run one in the VM with
#   tests/run/shmr-vm --add build/examples/uring_events -- /host/uring_events
EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLE_BINS := $(patsubst examples/%.c,$(BUILD)/examples/%,$(EXAMPLE_SRCS))

.PHONY: examples
all: examples
examples: $(EXAMPLE_BINS)

$(BUILD)/examples/%: examples/%.c lib/include/shmr.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(SHMR_CPPFLAGS) $(SHMR_CFLAGS) $(CFLAGS) -o $@ $< $(LIB_A) -pthread -luring
