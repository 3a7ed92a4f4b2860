# libshmr: shared and static library. Included from the top Makefile.
SHMR_SOVERSION := 1
SHMR_VERSION := 1.0.0

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS))
LIB_SO := $(BUILD)/lib/libshmr.so.$(SHMR_VERSION)
LIB_A := $(BUILD)/lib/libshmr.a
LIB_MAP := lib/libshmr.map
LIB_LDLIBS := -luring	# lib/uring.c (batched control)

lib: $(LIB_SO) $(LIB_A) $(BUILD)/lib/libshmr.so

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
#              [BINDIR=...] [SBINDIR=...] [MANDIR=...]
# Library (shared with SONAME links, static), headers (shmr.h and the UAPI
# header as linux/shmr.h), shmr.pc, shmrctl (in SBINDIR) and the man pages.
# Man page aliases: one ".so" page per name in a page's NAME section.
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MAN3_PAGES := $(wildcard man/*.3)
MAN7_PAGES := $(wildcard man/*.7)
MAN8_PAGES := $(wildcard man/*.8)
# alias page -> target page, as "alias:target"
MAN3_ALIASES := $(shell sh man/aliases.sh $(MAN3_PAGES))

.PHONY: install-lib install-headers install-tools install-man
install: install-lib install-headers install-tools install-man

install-lib: $(LIB_SO) $(LIB_A)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/libshmr.so.$(SHMR_VERSION)
	ln -sf libshmr.so.$(SHMR_VERSION) $(DESTDIR)$(LIBDIR)/libshmr.so.$(SHMR_SOVERSION)
	ln -sf libshmr.so.$(SHMR_SOVERSION) $(DESTDIR)$(LIBDIR)/libshmr.so
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/libshmr.a
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(SHMR_VERSION)|g' \
		lib/shmr.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/shmr.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/shmr.pc

install-headers:
	install -d $(DESTDIR)$(INCLUDEDIR)/linux
	install -m 644 lib/include/shmr.h $(DESTDIR)$(INCLUDEDIR)/shmr.h
	install -m 644 include/uapi/linux/shmr.h $(DESTDIR)$(INCLUDEDIR)/linux/shmr.h

install-tools: $(BUILD)/bin/shmrctl
	install -d $(DESTDIR)$(SBINDIR)
	install -m 755 $(BUILD)/bin/shmrctl $(DESTDIR)$(SBINDIR)/shmrctl

install: install-tracker
.PHONY: install-tracker
install-tracker: $(TRACKER)
	install -d $(DESTDIR)$(LIBDIR)/shmr
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

# ---- shmr-demo: helper programs of tools/demo-lib.sh (built with the tools) ----
tools: $(BUILD)/bin/shmr-demo
$(BUILD)/bin/shmr-demo: tools/shmrctl/demo/shmr-demo.c lib/include/shmr.h $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(SHMR_CPPFLAGS) $(SHMR_CFLAGS) $(CFLAGS) -o $@ $< $(LIB_A) -pthread
