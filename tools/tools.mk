# shmrctl. Included from the top Makefile.
SHMRCTL_SRCS := $(wildcard tools/shmrctl/*.c)
TOOL_LDLIBS := $(LIB_A) -pthread -luring -lrt

tools: $(if $(SHMRCTL_SRCS),$(BUILD)/bin/shmrctl)

$(BUILD)/bin/shmrctl: $(SHMRCTL_SRCS) $(wildcard tools/shmrctl/*.h) $(LIB_A) lib/lib.mk
	@mkdir -p $(@D)
	$(CC) $(SHMR_CPPFLAGS) -DSHMRCTL_VERSION=\"$(SHMR_VERSION)\" $(SHMR_CFLAGS) $(CFLAGS) -o $@ \
		$(SHMRCTL_SRCS) $(TOOL_LDLIBS)
