# The Python binding (docs/python.md). Included from the top Makefile.
#
#   make python          build the package into build/python (PYTHONPATH=build/python)
#   make check-python    run the pytest suite on the host (posix backend)
#   make python-example  run examples/python/numpy_pool.py
#
# The extension links libshmr.a in (no rpath, no LD_LIBRARY_PATH needed) and
# exports only PyInit__shmr.
PYTHON ?= /usr/bin/python3
PY_INCLUDES := $(shell $(PYTHON) -c 'import sysconfig; print("-I" + sysconfig.get_paths()["include"])' 2>/dev/null)
PY_EXT_SUFFIX := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))' 2>/dev/null)
PY_OUT := $(BUILD)/python
PY_EXT := $(PY_OUT)/_shmr$(PY_EXT_SUFFIX)
PY_PKG := $(patsubst lib/python/%,$(PY_OUT)/%,$(wildcard lib/python/shmr/*.py))

.PHONY: python check-python python-example
all: python
python: $(PY_EXT) $(PY_PKG) $(PY_OUT)/shmr/shmr-tracker

$(PY_OUT)/_shmr.o: lib/python/_shmr.c lib/include/shmr.h
	@mkdir -p $(@D)
	$(CC) $(SHMR_CPPFLAGS) $(PY_INCLUDES) $(SHMR_CFLAGS) $(CFLAGS) -fPIC -fvisibility=hidden \
		-c -o $@ $<

$(PY_OUT)/_shmr.map:
	@mkdir -p $(@D)
	printf '{ global: PyInit__shmr; local: *; };\n' > $@

# (no -z defs: the Python API comes from the interpreter; importing it once
# instead catches a library dependency missing from the link)
$(PY_EXT): $(PY_OUT)/_shmr.o $(LIB_A) $(PY_OUT)/_shmr.map
	$(CC) $(SHMR_CFLAGS) $(CFLAGS) -shared -fPIC -Wl,--version-script=$(PY_OUT)/_shmr.map \
		-o $@.tmp $(PY_OUT)/_shmr.o $(LIB_A) -pthread $(LIB_LDLIBS)
	cd $(PY_OUT) && mv $(@F).tmp _shmr_check$(PY_EXT_SUFFIX) && \
		$(PYTHON) -c 'import importlib.util as u, sys; s = u.spec_from_file_location("_shmr", sys.argv[1]); u.module_from_spec(s)' \
		./_shmr_check$(PY_EXT_SUFFIX) || { rm -f _shmr_check$(PY_EXT_SUFFIX); exit 1; }
	mv $(PY_OUT)/_shmr_check$(PY_EXT_SUFFIX) $@

$(PY_OUT)/shmr/%.py: lib/python/shmr/%.py
	@mkdir -p $(@D)
	cp $< $@

# The tracker helper of process=True on the posix backend: libshmr, linked
# into the extension, looks for shmr/shmr-tracker beside it, i.e. in the package.
$(PY_OUT)/shmr/shmr-tracker: $(TRACKER)
	@mkdir -p $(@D)
	cp $< $@

check-python: python
	PYTHONPATH=$(PY_OUT) $(PYTHON) -m pytest -q -p no:cacheprovider tests/python

python-example: python
	PYTHONPATH=$(PY_OUT) $(PYTHON) examples/python/numpy_pool.py
