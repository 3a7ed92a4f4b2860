# libshmr: shared and static library. Included from the top Makefile.
# The version is VERSION's (SHMR_VERSION, set in the top Makefile); the
# SONAME follows its major number.
SHMR_SOVERSION := $(firstword $(subst ., ,$(SHMR_VERSION)))

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS))
LIB_SO := $(BUILD)/lib/libshmr.so.$(SHMR_VERSION)
LIB_A := $(BUILD)/lib/libshmr.a
LIB_MAP := lib/libshmr.map
LIB_LDLIBS := -luring	# lib/uring.c (batched control)

lib: $(VERSION_STAMP) $(LIB_SO) $(LIB_A) $(BUILD)/lib/libshmr.so

$(BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h lib/include/*.h) include/uapi/linux/shmr.h
	@mkdir -p $(@D)
	$(CC) $(SHMR_CPPFLAGS) $(SHMR_CFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(LIB_SO): $(LIB_OBJS) $(LIB_MAP)
	@mkdir -p $(@D)
	$(CC) $(SHMR_CFLAGS) $(CFLAGS) -shared -fPIC -Wl,-soname,libshmr.so.$(SHMR_SOVERSION) \
		-Wl,--version-script=$(LIB_MAP) -Wl,-z,defs -o $@ $(LIB_OBJS) -pthread $(LIB_LDLIBS)
	ln -sf libshmr.so.$(SHMR_VERSION) $(BUILD)/lib/libshmr.so.$(SHMR_SOVERSION)

$(BUILD)/lib/libshmr.so: $(LIB_SO)
	ln -sf libshmr.so.$(SHMR_VERSION) $@

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# The test variant, libshmr-test.a: lib/lock.c built again with its test
# hooks (-DSHMR_TEST_HOOKS: points where a test can stop a process inside
# a lock operation), the other objects as released. Only tests that need
# the hooks link it; it is never installed, and the library users get has
# no hook (tests/host/lock_release.sh checks).
LIB_HOOKED := $(BUILD)/lib/lock.o
LIB_TEST_OBJS := $(filter-out $(LIB_HOOKED),$(LIB_OBJS)) $(BUILD)/lib/test/lock.o
LIB_TEST_A := $(BUILD)/lib/libshmr-test.a

lib: $(LIB_TEST_A)

$(BUILD)/lib/test/%.o: lib/%.c $(wildcard lib/*.h lib/include/*.h) include/uapi/linux/shmr.h
	@mkdir -p $(@D)
	$(CC) $(SHMR_CPPFLAGS) -DSHMR_TEST_HOOKS $(SHMR_CFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(LIB_TEST_A): $(LIB_TEST_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# The tracker helper of SHMR_REGION_PROCESS on the posix backend
# (lib/tracker.c, docs/library.md): built beside libshmr.so, where the
# library looks first, and installed as $(LIBDIR)/shmr/shmr-tracker, the
# path compiled in (the stamp rebuilds tracker.o when LIBDIR changes).
TRACKER := $(BUILD)/lib/shmr/shmr-tracker
TRACKER_INSTALLED := $(LIBDIR)/shmr/shmr-tracker
lib: $(TRACKER)
$(TRACKER): lib/tracker/shmr-tracker.c lib/tracker.h
	@mkdir -p $(@D)
	$(CC) $(SHMR_CPPFLAGS) $(SHMR_CFLAGS) $(CFLAGS) -o $@ $<
$(BUILD)/lib/tracker.o: SHMR_CPPFLAGS += -DSHMR_TRACKER_INSTALLED='"$(TRACKER_INSTALLED)"'
$(BUILD)/lib/tracker.o: $(BUILD)/lib/tracker-path.stamp
.PHONY: tracker-path-check
$(BUILD)/lib/tracker-path.stamp: tracker-path-check
	@mkdir -p $(@D)
	@echo '$(TRACKER_INSTALLED)' | cmp -s - $@ || echo '$(TRACKER_INSTALLED)' > $@

# ---- install -----------------------------------------------------------------
# make install [DESTDIR=...] [PREFIX=/usr/local] [LIBDIR=...] [INCLUDEDIR=...]
#              [BINDIR=...] [MANDIR=...] [PKGCONFIGDIR=...]
# The library (shared with its SONAME links, static), shmr.h, the kernel ABI
# as shmr/uapi.h (its own directory: <linux/...> belongs to the kernel's
# headers), shmr.pc, shmrctl and the man pages (one ".so" page per
# name in a page's NAME section, from man/aliases.sh). A multiarch LIBDIR
# (/usr/lib/x86_64-linux-gnu) works as any other; the tracker helper goes to
# $(LIBDIR)/shmr. make uninstall, with the
# same variables, removes exactly these files.
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MAN3_PAGES := $(wildcard man/*.3)
MAN7_PAGES := $(wildcard man/*.7)
MAN8_PAGES := $(wildcard man/*.8)
# alias page -> target page, as "alias:target"
MAN3_ALIASES := $(shell sh man/aliases.sh $(MAN3_PAGES))

INSTALLED_LIB := $(addprefix $(LIBDIR)/,libshmr.so.$(SHMR_VERSION) libshmr.so.$(SHMR_SOVERSION) \
	libshmr.so libshmr.a) $(PKGCONFIGDIR)/shmr.pc
INSTALLED_HEADERS := $(INCLUDEDIR)/shmr.h $(INCLUDEDIR)/shmr/uapi.h
INSTALLED_TOOLS := $(BINDIR)/shmrctl $(TRACKER_INSTALLED)
INSTALLED_MAN := $(patsubst man/%,$(MANDIR)/man3/%,$(MAN3_PAGES)) \
	$(patsubst man/%,$(MANDIR)/man7/%,$(MAN7_PAGES)) \
	$(patsubst man/%,$(MANDIR)/man8/%,$(MAN8_PAGES)) \
	$(foreach a,$(MAN3_ALIASES),$(MANDIR)/man3/$(firstword $(subst :, ,$(a))).3)

.PHONY: install-lib install-headers install-tools install-man uninstall
install: install-lib install-headers install-tools install-man

install-lib: $(LIB_SO) $(LIB_A)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libshmr.so.$(SHMR_VERSION)
	ln -sf libshmr.so.$(SHMR_VERSION) $(DESTDIR)$(LIBDIR)/libshmr.so.$(SHMR_SOVERSION)
	ln -sf libshmr.so.$(SHMR_SOVERSION) $(DESTDIR)$(LIBDIR)/libshmr.so
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libshmr.a
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(SHMR_VERSION)|g' \
		lib/shmr.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/shmr.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/shmr.pc
	@# straight into the system: refresh the loader's cache as root
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then echo ldconfig; ldconfig; fi

install-headers:
	install -d $(DESTDIR)$(INCLUDEDIR)/shmr
	install -m 644 lib/include/shmr.h $(DESTDIR)$(INCLUDEDIR)/shmr.h
	install -m 644 include/uapi/linux/shmr.h $(DESTDIR)$(INCLUDEDIR)/shmr/uapi.h

install-tools: $(BUILD)/bin/shmrctl $(TRACKER)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/shmr
	install -m 755 $(BUILD)/bin/shmrctl $(DESTDIR)$(BINDIR)/shmrctl
	install -m 755 $(TRACKER) $(DESTDIR)$(TRACKER_INSTALLED)

install-man:
	install -d $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(MANDIR)/man8
	$(if $(MAN3_PAGES),install -m 644 $(MAN3_PAGES) $(DESTDIR)$(MANDIR)/man3/)
	$(if $(MAN7_PAGES),install -m 644 $(MAN7_PAGES) $(DESTDIR)$(MANDIR)/man7/)
	$(if $(MAN8_PAGES),install -m 644 $(MAN8_PAGES) $(DESTDIR)$(MANDIR)/man8/)
	@for a in $(MAN3_ALIASES); do \
		name=$${a%%:*}; target=$${a#*:}; \
		echo ".so man3/$$target" > $(DESTDIR)$(MANDIR)/man3/$$name.3 || exit 1; \
	done

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED_LIB) $(INSTALLED_HEADERS) $(INSTALLED_TOOLS) \
		$(INSTALLED_MAN))
	@for d in $(INCLUDEDIR)/shmr $(LIBDIR)/shmr; do \
		[ ! -d $(DESTDIR)$$d ] || rmdir --ignore-fail-on-non-empty $(DESTDIR)$$d; done

# ---- shmr-demo: helper programs of examples/demo/demo.sh (built with the tools) ----
tools: $(BUILD)/bin/shmr-demo
$(BUILD)/bin/shmr-demo: examples/demo/shmr-demo.c lib/include/shmr.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(SHMR_CPPFLAGS) $(SHMR_CFLAGS) $(CFLAGS) -o $@ $< $(LIB_A) -pthread
