# Tests. Every tests/host/*.c and tests/vm/*.c is one kselftest-harness
# binary; tests/*/*.sh are scripts that print TAP. Host tests need no module
# and run on the host and in the VM; VM tests run only in the VM (and skip
# with a reason where /dev/shmr is absent).
TEST_CFLAGS := $(SHMR_CPPFLAGS) -I$(BUILD)/include -Itests $(SHMR_CFLAGS) $(CFLAGS)
TEST_LDLIBS := $(LIB_A) -pthread -luring -lrt

HOST_TESTS := $(patsubst tests/host/%.c,$(BUILD)/tests/host/%,$(wildcard tests/host/*.c))
VM_TESTS := $(patsubst tests/vm/%.c,$(BUILD)/tests/vm/%,$(wildcard tests/vm/*.c))
TEST_SCRIPTS := $(patsubst tests/%,$(BUILD)/tests/%,$(wildcard tests/host/*.sh tests/vm/*.sh))

# The runner's in-VM part (tests/run/), copied with the tests to
# /opt/shmr/tests/ in the VM.
VM_RUNNER := $(addprefix $(BUILD)/tests/run/,run-tests.sh vm-suite.sh vm-counters.sh tap-renumber.awk)

tests: $(HOST_TESTS) $(VM_TESTS) $(TEST_SCRIPTS) $(VM_RUNNER) $(BUILD)/tests/tap.sh

$(BUILD)/tests/run/tap-renumber.awk $(BUILD)/tests/tap.sh: $(BUILD)/tests/%: tests/%
	@mkdir -p $(@D)
	install -m 644 $< $@

$(BUILD)/tests/%: tests/%.c $(HARNESS) $(LIB_A) $(wildcard tests/*.h)
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -o $@ $< $(TEST_LDLIBS)

# Tests that stop a process inside a lock operation link the library's
# test variant, which has the hooks (lib/lib.mk).
HOOK_TESTS := $(BUILD)/tests/host/lock_robust $(BUILD)/tests/host/lock_torture \
	$(BUILD)/tests/host/lock_fair
$(HOOK_TESTS): TEST_LDLIBS := $(LIB_TEST_A) -pthread -luring -lrt
$(HOOK_TESTS): $(LIB_TEST_A)

$(BUILD)/tests/%.sh: tests/%.sh
	@mkdir -p $(@D)
	install -m 755 $< $@

check-host: all
	tests/run/check.sh --host-only

