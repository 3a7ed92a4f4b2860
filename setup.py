# SPDX-License-Identifier: LGPL-2.1-or-later
"""Builds the Python binding (pip install ., python3 -m build, Debian's pybuild).

Metadata is in pyproject.toml; this file only describes the extension,
which setuptools cannot do there yet. _shmr is compiled from its own source
and the library's (lib/*.c) for the interpreter that runs the build, so the
result needs no installed libshmr; it links liburing (Debian: liburing-dev).
"""
import glob
import os

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

# setuptools' outputs go under build/ with the rest of the build's, not
# beside the sources.
BUILD_BASE = os.path.join("build", "setuptools")
os.makedirs(BUILD_BASE, exist_ok=True)


class BuildExt(build_ext):
    """Exports PyInit__shmr only: the library's functions inside _shmr stay
    its own, whatever else the process loads (as lib/python/python.mk).
    Also builds the tracker helper of process=True on the posix backend,
    which the library inside _shmr looks for as shmr/shmr-tracker beside
    the extension (lib/tracker.c), so it goes into the package."""

    def run(self):
        super().run()
        objs = self.compiler.compile(
            ["lib/tracker/shmr-tracker.c"],
            output_dir=self.build_temp,
            macros=[("_GNU_SOURCE", None)],
            extra_postargs=["-std=gnu11", "-Wall", "-Wextra"],
        )
        outdir = os.path.join(os.path.dirname(self.get_ext_fullpath("_shmr")), "shmr")
        os.makedirs(outdir, exist_ok=True)
        self.compiler.link_executable(objs, "shmr-tracker", output_dir=outdir)

    def build_extension(self, ext):
        os.makedirs(self.build_temp, exist_ok=True)
        vscript = os.path.join(self.build_temp, "_shmr.map")
        with open(vscript, "w") as f:
            f.write("{ global: PyInit__shmr; local: *; };\n")
        ext.extra_link_args = ext.extra_link_args + ["-Wl,--version-script=" + vscript]
        super().build_extension(ext)


shmr_ext = Extension(
    "_shmr",
    sources=["lib/python/_shmr.c"] + sorted(glob.glob("lib/*.c")),
    depends=sorted(glob.glob("lib/*.h")) + ["lib/include/shmr.h", "include/uapi/linux/shmr.h"],
    include_dirs=["include/uapi", "lib/include"],
    define_macros=[("_GNU_SOURCE", None)],
    # Warnings stay warnings here: a newer compiler must not fail an install.
    extra_compile_args=["-std=gnu11", "-pthread", "-fvisibility=hidden", "-Wall", "-Wextra"],
    extra_link_args=["-pthread"],
    libraries=["uring"],
)

setup(
    ext_modules=[shmr_ext],
    cmdclass={"build_ext": BuildExt},
    options={"build": {"build_base": BUILD_BASE}, "egg_info": {"egg_base": BUILD_BASE}},
)
