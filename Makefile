# shmr: top-level build.
#
#   make                 module (kmod/shmr.ko), library, tools and tests
#   make KVER=7.3        ... with the module built for another kernel (tools/kver)
#   make kmod-all        the module for every kernel of tools/kver
#   make check           host tests, then the VM suite on every supported kernel
#   make check-debug     the VM suite, torture and fail-nth on a debug kernel
#   make demo            boot the VM and show shmr at work
#   make lint            checkpatch --strict on the kernel sources
#   make install         library, headers, tools, man pages (DESTDIR, PREFIX)
#   make modules_install the module for KDIR's kernel
#   make clean
#
# Build outputs go under build/ (and kmod/ for the default module build).

KVER ?= 6.1
# The supported kernels: tools/kver holds the list (vm: tested in the VM,
# build: compile-tested).
SUPPORTED_KVERS := $(shell tools/kver --list vm)
BUILD_KVERS := $(shell tools/kver --list all)

# KDIR: the kernel build directory to build kmod/shmr.ko against. Explicit
# KDIR wins; an explicit KVER picks that series (tools/kmod-build.sh, in the
# Debian 13 chroot for 7.x); otherwise the running kernel's build directory
# when it exists, else the 6.1 headers.
ifeq ($(origin KDIR),undefined)
  ifeq ($(origin KVER),file)
    RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
    ifneq ($(wildcard $(RUNNING_KDIR)/Makefile),)
      KDIR := $(RUNNING_KDIR)
    endif
  endif
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

# Always ask Kbuild: it knows when the sources or the kernel changed.
kmod:
ifdef KDIR
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod modules
else
	tools/kmod-build.sh $(KVER) kmod
endif

# Per-kernel builds for the VM, side by side, warnings as errors:
# build/kmod/<release>/kmod/shmr.ko
kmod-stage:
	tools/kmod-build.sh --werror $(KVER)

kmod-all:
	@for v in $(BUILD_KVERS); do echo "kmod-all: $$v"; tools/kmod-build.sh --werror $$v || exit 1; done

modules_install: kmod
	$(MAKE) -C $(or $(KDIR),$(shell tools/kver --headers $(KVER))) M=$(CURDIR)/kmod modules_install

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

# make check [KERNELS="6.1 7.3"]: a subset of the kernels
check:
	tools/check.sh $(if $(KERNELS),--kernels "$(KERNELS)")

# The debug kernel (built once, cached outside the tree) and the VM suite on it.
.PHONY: debug-kernel check-debug
debug-kernel:
	tools/debug-kernel.sh --build

check-debug:
	tools/check-debug.sh

# make demo [KERNEL=7.3]
demo: all
	KERNEL=$(or $(KERNEL),$(KVER)) tools/demo.sh

clean:
	rm -rf $(BUILD)
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd kmod/modules.order \
		kmod/Module.symvers kmod/.modules.order.cmd
