# shmr: top-level build.
#
#   make                 module (kmod/shmr.ko), library, tools and tests
#                        (never calls apt: `make deps` installs what it needs)
#   make deps            install every Debian package the targets below need
#   make KVER=7.3        ... with the module built for another kernel (scripts/kver)
#   make kmod-all        the module for every kernel of scripts/kver
#   make check           host tests, then the VM suite on every supported kernel
#   make check-debug     the VM suite, torture and fail-nth on a debug kernel
#   make demo            boot the VM and show shmr at work
#   make lint            checkpatch --strict on the kernel sources
#   make install         library, headers, tools, man pages (DESTDIR, PREFIX)
#   make uninstall       remove what make install put there (same variables)
#   make modules_install the module for KDIR's kernel
#   make install-udev install-modules-load install-dkms (and uninstall-*)
#                        /dev/shmr's udev rule, loading shmr.ko at boot, the
#                        module's sources for dkms in /usr/src/shmr-VERSION
#   make deb             Debian packages in build/deb/
#   make check-packages  install them in a Debian 12 chroot and test them there
#   make clean
#
# Build outputs go under build/ (and kmod/ for the default module build).

KVER ?= 6.1
# The supported kernels: scripts/kver holds the list (vm: tested in the VM,
# build: compile-tested).
SUPPORTED_KVERS := $(shell scripts/kver --list vm)
BUILD_KVERS := $(shell scripts/kver --list all)

# KDIR: the kernel build directory to build kmod/shmr.ko against. Explicit
# KDIR wins; an explicit KVER picks that series (scripts/kmod-build.sh, in the
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
MANDIR ?= $(PREFIX)/share/man

CC ?= cc
AR ?= ar
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror
SHMR_CPPFLAGS := -D_GNU_SOURCE -Iinclude/uapi -Ilib/include
SHMR_CFLAGS := -std=gnu11 $(WARN) -pthread

# ---- one version -----------------------------------------------------------
# VERSION holds it; the build reads it there, and scripts/version.sh --check
# stops the build when a file that states it too disagrees.
SHMR_VERSION := $(shell cat VERSION)
VERSION_STAMP := $(BUILD)/version.ok
$(VERSION_STAMP): VERSION scripts/version.sh lib/include/shmr.h dkms.conf \
		$(wildcard debian/changelog debian/control man/*.[1-8])
	@scripts/version.sh --check
	@mkdir -p $(@D) && touch $@

.PHONY: all deps kmod kmod-stage kmod-all lib tools tests check check-host demo lint \
	bench install modules_install clean harness vm-prereqs version-check
.DEFAULT_GOAL := all

all: $(VERSION_STAMP) kmod lib tools tests bench-progs
version-check: $(VERSION_STAMP)

# Every group of Debian packages (scripts/deps.sh); the targets that need more
# than `make` does call scripts/deps.sh with their groups themselves.
deps:
	@scripts/deps.sh

# ---- kernel module ---------------------------------------------------------
KMOD_FILES := $(filter-out %.mod.c,$(wildcard kmod/*.c)) $(wildcard kmod/*.h) kmod/Kbuild
KMOD_SRCS := $(KMOD_FILES) include/uapi/linux/shmr.h

# Always ask Kbuild: it knows when the sources or the kernel changed.
kmod: $(VERSION_STAMP)
ifdef KDIR
	$(MAKE) -C $(KDIR) M=$(CURDIR)/kmod modules
else
	scripts/kmod-build.sh $(KVER) kmod
endif

# Per-kernel builds for the VM, side by side, warnings as errors:
# build/kmod/<release>/kmod/shmr.ko
kmod-stage: $(VERSION_STAMP)
	scripts/kmod-build.sh --werror $(KVER)

kmod-all:
	@for v in $(BUILD_KVERS); do echo "kmod-all: $$v"; scripts/kmod-build.sh --werror $$v || exit 1; done

modules_install: kmod
	$(MAKE) -C $(or $(KDIR),$(shell scripts/kver --headers $(KVER))) M=$(CURDIR)/kmod modules_install

# /dev/shmr's group and mode, and loading shmr.ko at boot: installed only
# when asked for (systemd reads both under /usr/local/lib as well).
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
MODULESLOADDIR ?= $(PREFIX)/lib/modules-load.d
# The module's sources, where dkms looks for them: then
# `dkms install shmr/$(SHMR_VERSION)` builds and installs it for a kernel.
DKMS_SRCDIR ?= /usr/src/shmr-$(SHMR_VERSION)
DKMS_FILES := dkms.conf VERSION $(KMOD_SRCS)

.PHONY: install-udev uninstall-udev install-modules-load uninstall-modules-load \
	install-dkms uninstall-dkms
install-udev:
	install -D -m 644 kmod/60-shmr.rules $(DESTDIR)$(UDEVRULESDIR)/60-shmr.rules
uninstall-udev:
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-shmr.rules

install-modules-load:
	install -D -m 644 kmod/modules-load.conf $(DESTDIR)$(MODULESLOADDIR)/shmr.conf
uninstall-modules-load:
	rm -f $(DESTDIR)$(MODULESLOADDIR)/shmr.conf

install-dkms: $(VERSION_STAMP)
	@for f in $(DKMS_FILES); do \
		echo "install -D -m 644 $$f $(DESTDIR)$(DKMS_SRCDIR)/$$f"; \
		install -D -m 644 $$f $(DESTDIR)$(DKMS_SRCDIR)/$$f || exit 1; \
	done
uninstall-dkms:
	rm -f $(addprefix $(DESTDIR)$(DKMS_SRCDIR)/,$(DKMS_FILES))
	@[ ! -d $(DESTDIR)$(DKMS_SRCDIR) ] || find $(DESTDIR)$(DKMS_SRCDIR) -depth -type d -empty -delete

# ---- kselftest harness and checkpatch, from linux-source-6.1 ---------------
LINUX_SRC_TAR := /usr/src/linux-source-6.1.tar.xz
HARNESS := $(BUILD)/include/kselftest_harness.h
harness: $(HARNESS)
$(HARNESS):
	@test -r $(LINUX_SRC_TAR) || { echo "no $(LINUX_SRC_TAR): run make deps" >&2; exit 1; }
	@mkdir -p $(BUILD)/include
	tar -xJf $(LINUX_SRC_TAR) -C $(BUILD)/include --strip-components=4 \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest.h
	@touch $@

CHECKPATCH := $(BUILD)/checkpatch/scripts/checkpatch.pl
$(CHECKPATCH):
	@test -r $(LINUX_SRC_TAR) || { echo "no $(LINUX_SRC_TAR): run make deps" >&2; exit 1; }
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
include bench/bench.mk
include tests/tests.mk
-include lib/python/python.mk
-include examples/examples.mk
-include tests/fuzz/fuzz.mk

# ---- the test VM -----------------------------------------------------------
# Everything the VM image needs for one kernel series (tests/run/shmr-vm calls it).
vm-prereqs: kmod-stage lib tools tests bench-progs

# make check [KERNELS="6.1 7.3"]: a subset of the kernels
check:
	tests/run/check.sh $(if $(KERNELS),--kernels "$(KERNELS)")

# The debug kernel (built once, cached outside the tree) and the VM suite on it.
.PHONY: debug-kernel check-debug
debug-kernel:
	tests/run/debug-kernel.sh --build

check-debug:
	tests/run/check-debug.sh

# make demo [KERNEL=7.3]: examples/demo/demo.sh in the VM
demo:
	scripts/deps.sh build vm python
	$(MAKE) all
	tests/run/shmr-vm --kernel $(or $(KERNEL),$(KVER)) --add examples/demo/demo.sh -- sh /host/demo.sh

# Debian packages (debian/) and a test of them in a fresh Debian 12 chroot.
.PHONY: deb check-packages
deb:
	scripts/deps.sh build package
	scripts/build-deb.sh

check-packages:
	scripts/deps.sh build vm package
	tests/run/check-packages.sh

clean:
	rm -rf $(BUILD)
	rm -f kmod/*.o kmod/*.ko kmod/*.mod kmod/*.mod.c kmod/.*.cmd kmod/modules.order \
		kmod/Module.symvers kmod/.modules.order.cmd
