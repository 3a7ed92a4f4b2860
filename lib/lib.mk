# libshmr: shared and static library. Included from the top Makefile.
SHMR_SOVERSION := 1
SHMR_VERSION := 1.0.0

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst lib/%.c,$(BUILD)/lib/%.o,$(LIB_SRCS))
LIB_SO := $(BUILD)/lib/libshmr.so.$(SHMR_VERSION)
LIB_A := $(BUILD)/lib/libshmr.a
LIB_MAP := lib/libshmr.map

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
