# shmr: top-level build.
#
#   make                 module (kmod/shmr.ko), library, tools and tests
#   make KVER=6.12       ... with the module built for another supported kernel
#   make check           host tests, then the VM suite on 6.1, 6.12 and 6.12-rt
#   make check-debug     the VM suite, torture and fail-nth on a debug kernel
#   make demo            boot the VM and show shmr at work
#   make lint            checkpatch --strict on the kernel sources
#   make install         library, headers, tools, man pages (DESTDIR, PREFIX)
#   make modules_install the module for KDIR's kernel
#   make clean
#
# Build outputs go under build/ (and kmod/ for the default module build).

KVER ?= 6.1
SUPPORTED_KVERS := 6.1 6.12 6.12-rt

# KDIR: the headers to build the module against. Explicit KDIR wins; an
# explicit KVER picks that series; otherwise the running kernel's build
# directory when it exists, else the 6.1 headers.
ifeq ($(origin KDIR),undefined)
  ifeq ($(origin KVER),file)
    RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
    ifneq ($(wildcard $(RUNNING_KDIR)/Makefile),)
      KDIR := $(RUNNING_KDIR)
    endif
  endif
endif
# KVER=debug: the debug kernel's build tree (tools/debug-kernel.sh).
KREL = $(shell tools/kver $(KVER))
KHDR = $(if $(filter debug,$(KVER)),$(shell tools/debug-kernel.sh --dir),/usr/src/linux-headers-$(KREL))
ifeq ($(origin KDIR),undefined)
  KDIR = $(KHDR)
endif

BUILD := build
PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man

CC ?= cc
AR ?= ar
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
SHMR_CPPFLAGS := -D_GNU_SOURCE -Iinclude/uapi -Ilib/include
SHMR_CFLAGS := -std=gnu11 $(WARN) -pthread

.PHONY: all deps kmod kmod-stage kmod-all lib tools tests check check-host demo lint \
	bench install modules_install clean harness vm-prereqs
.DEFAULT_GOAL := all

all: deps kmod lib tools tests

deps:
	@tools/deps.sh build

# ---- kernel module ---------------------------------------------------------
KMOD_FILES := $(filter-out %.mod.c,$(wildcard kmod/*.c)) $(wildcard kmod/*.h) kmod/Kbuild
KMOD_SRCS := $(KMOD_FILES) include/uapi/linux/shmr.h

# Always ask Kbuild: it knows when the sources or the kernel (KDIR) changed.
kmod:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod modules

# Per-kernel builds for the VM, each in its own tree of symlinks so that
# several kernels can be built side by side: build/kmod/<release>/kmod/shmr.ko
KSTAGE = $(BUILD)/kmod/$(KREL)
kmod-stage: $(KMOD_SRCS)
	@test -d "$(KHDR)" || { echo "no headers for $(KVER)" >&2; exit 1; }
	@mkdir -p $(KSTAGE)/kmod
	@find $(KSTAGE)/kmod -maxdepth 1 -type l -delete
	@ln -sfn $(CURDIR)/include $(KSTAGE)/include
	@for f in $(KMOD_FILES); do ln -sf $(CURDIR)/$$f $(KSTAGE)/kmod/; done
	$(MAKE) -C $(KHDR) M=$(CURDIR)/$(KSTAGE)/kmod modules

kmod-all:
	@for v in $(SUPPORTED_KVERS); do $(MAKE) --no-print-directory kmod-stage KVER=$$v || exit 1; done

modules_install: kmod
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod modules_install

# ---- kselftest harness and checkpatch, from linux-source-6.1 ---------------
LINUX_SRC_TAR := /usr/src/linux-source-6.1.tar.xz
HARNESS := $(BUILD)/include/kselftest_harness.h
harness: $(HARNESS)
$(HARNESS): | deps
	@mkdir -p $(BUILD)/include
	tar -xJf $(LINUX_SRC_TAR) -C $(BUILD)/include --strip-components=4 \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest.h
	@touch $@

CHECKPATCH := $(BUILD)/checkpatch/scripts/checkpatch.pl
$(CHECKPATCH): | deps
	@mkdir -p $(BUILD)/checkpatch
	tar -xJf $(LINUX_SRC_TAR) -C $(BUILD)/checkpatch --strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	@touch $@

LINT_FILES := $(filter-out kmod/Kbuild,$(KMOD_FILES)) include/uapi/linux/shmr.h
lint: $(CHECKPATCH)
	@fail=0; for f in $(LINT_FILES); do \
		$(CHECKPATCH) --strict --no-tree --terse --show-types --ignore FILE_PATH_CHANGES \
			-f $$f || fail=1; \
	done; \
	if [ $$fail = 0 ]; then echo "lint: checkpatch --strict clean ($(words $(LINT_FILES)) files)"; \
	else echo "lint: checkpatch --strict found problems" >&2; exit 1; fi

include lib/lib.mk
include tools/tools.mk
include tests/tests.mk
-include lib/python/python.mk
-include examples/examples.mk
-include tools/torture.mk
-include tests/fuzz/fuzz.mk

# ---- the test VM -----------------------------------------------------------
# Everything the VM image needs for one kernel series (tools/shmr-vm calls it).
vm-prereqs: kmod-stage lib tools tests

check:
	tools/check.sh

# The debug kernel (built once, cached outside the tree) and the VM suite on it.
.PHONY: debug-kernel check-debug
debug-kernel:
	tools/debug-kernel.sh --build

check-debug:
	tools/check-debug.sh

demo: all
	tools/demo.sh

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod clean 2>/dev/null
	rm -rf $(BUILD)
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd kmod/modules.order \
		kmod/Module.symvers kmod/.modules.order.cmd
