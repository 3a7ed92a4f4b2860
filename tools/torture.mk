# The long torture run (issue 8), included by the top Makefile.
#
#   make torture [STEPS=N] [SEED=S] [KVER=<series of scripts/kver>] [FUZZ_SECONDS=N]
#
# One VM boot: tests/vm/torture with SHMR_TORTURE_STEPS=N (default 10000)
# and the seed (printed first; a failing seed replays with SEED=S), the race
# tests, fuzz_ioctl for FUZZ_SECONDS and tests/vm/fuzz_tools.sh (trinity and
# stress-ng from the host, added to the guest when installed: scripts/deps.sh
# torture). The VM fails on any kernel BUG/WARNING/Oops.
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
		awk "\$$1 ~ /_live$$/ && \$$2 != 0 { print \"# nonzero: \" \$$0; bad = 1 } END { exit bad }" \
			/sys/kernel/debug/shmr/counters || rc=1; \
		echo "# torture: exit $$rc"; exit $$rc'
