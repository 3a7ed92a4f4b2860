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

# make torture [STEPS=N] [SEED=S] [KVER=<series of scripts/kver>] [FUZZ_SECONDS=N]
#
# One VM boot: tests/vm/torture with SHMR_TORTURE_STEPS=N (default 10000)
# and the seed (printed first; a failing seed replays with SEED=S), the race
# tests, fuzz_ioctl for FUZZ_SECONDS and tests/vm/fuzz_tools.sh (trinity and
# stress-ng from the host, added to the guest when installed: scripts/deps.sh
# torture), then the module's counters (tests/run/vm-counters.sh). The VM
# fails on any kernel BUG/WARNING/Oops.
STEPS ?= 10000
SEED ?=
FUZZ_SECONDS ?= 60
TORTURE_TIMEOUT ?= 3600
TORTURE_ADDS = $(foreach b,/usr/bin/trinity /usr/bin/stress-ng,$(if $(wildcard $(b)),--add $(b)))

.PHONY: torture
torture:
	tests/run/shmr-vm --kernel $(KVER) --timeout $(TORTURE_TIMEOUT) $(TORTURE_ADDS) -- \
		sh -c 'export SHMR_TORTURE_STRICT_SHMEM=1 SHMR_TORTURE_STEPS=$(STEPS) SHMR_TORTURE_SEED=$(SEED) SHMR_FUZZ_SECONDS=$(FUZZ_SECONDS); \
		t=/opt/shmr/tests; rc=0; \
		for p in $$t/vm/torture $$t/vm/race_* $$t/vm/fuzz_ioctl; do \
			echo "# ---- $$p"; $$p || rc=1; done; \
		sh $$t/vm/fuzz_tools.sh | tee /tmp/ft.tap; grep -q "^not ok" /tmp/ft.tap && rc=1; \
		sh $$t/run/vm-counters.sh torture || rc=1; \
		echo "# torture: exit $$rc"; exit $$rc'
