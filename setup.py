"""Build glue for ``pip install .`` (pyproject.toml): setuptools packages python/wedge, and the
engine module wedge._core is built by the project's own CMake build, never by a second
hand-written one (docs/design.md, "The Python package").

Which CMake tree builds it:

- ``WEDGE_BUILD_DIR`` if set (an existing tree, or a new one configured there);
- else ``build/release`` when ``make build`` has configured it for the interpreter running pip
  (the same ``Python3_EXECUTABLE``): then only ``wedge_core`` is brought up to date, which takes a
  second when ``make build`` has built it;
- else ``build/pip-python3.X``, configured once (Release, no tests, benchmarks or MPI) with the
  module built inside that tree, so the source tree's own module is left alone.

``CMAKE_BUILD_PARALLEL_LEVEL`` sets the build's parallel jobs (default: all cores).
"""
from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys
import sysconfig

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent


def project_version() -> str:
    """The version in CMakeLists.txt's ``project(wedge VERSION x.y.z ...)``."""
    match = re.search(r"project\(wedge\s+VERSION\s+([0-9][0-9.]*)", (ROOT / "CMakeLists.txt").read_text())
    if match is None:
        raise RuntimeError("CMakeLists.txt: no `project(wedge VERSION ...)`")
    return match.group(1)


def cache_value(tree: pathlib.Path, name: str) -> str | None:
    """A variable of a CMake tree's CMakeCache.txt, or None."""
    cache = tree / "CMakeCache.txt"
    if not cache.is_file():
        return None
    for line in cache.read_text(errors="replace").splitlines():
        if line.startswith(name + ":"):
            return line.split("=", 1)[1]
    return None


def same_interpreter(executable: str | None) -> bool:
    """Whether ``executable`` is the interpreter running this build (venvs resolve to their base)."""
    if not executable:
        return False
    base = getattr(sys, "_base_executable", sys.executable)
    return os.path.realpath(executable) == os.path.realpath(base)


class CMakeBuild(build_ext):
    """Builds wedge._core with CMake and copies it where setuptools packs the extension."""

    def build_extension(self, ext: Extension) -> None:
        tree, module_dir = self.cmake_tree()
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        self.announce(f"building wedge._core in {tree}", level=2)
        subprocess.run(["cmake", "--build", str(tree), "--target", "wedge_core", "-j", jobs], check=True)
        built = module_dir / ("_core" + sysconfig.get_config_var("EXT_SUFFIX"))
        if not built.is_file():
            raise RuntimeError(f"{built}: not built (CMake tree {tree}); is WEDGE_BUILD_PYTHON on?")
        target = pathlib.Path(self.get_ext_fullpath(ext.name)).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        if target != built.resolve():  # an editable install builds in place
            shutil.copyfile(built, target)

    def cmake_tree(self) -> tuple[pathlib.Path, pathlib.Path]:
        """(the CMake tree, the directory it builds the module into), configured if new."""
        chosen = os.environ.get("WEDGE_BUILD_DIR")
        release = ROOT / "build" / "release"
        if chosen is None and cache_value(release, "WEDGE_BUILD_PYTHON") == "ON" and \
                same_interpreter(cache_value(release, "Python3_EXECUTABLE")):
            tree = release
        else:
            version = f"python{sys.version_info.major}.{sys.version_info.minor}"
            tree = pathlib.Path(chosen).resolve() if chosen else ROOT / "build" / f"pip-{version}"
            if cache_value(tree, "CMAKE_HOME_DIRECTORY") is None:
                tree.mkdir(parents=True, exist_ok=True)
                subprocess.run(["cmake", "-S", str(ROOT), "-B", str(tree), "-DCMAKE_BUILD_TYPE=Release",
                                "-DWEDGE_BUILD_TESTS=OFF", "-DWEDGE_BUILD_BENCHMARKS=OFF", "-DWEDGE_WITH_MPI=OFF",
                                f"-DPython3_EXECUTABLE={getattr(sys, '_base_executable', sys.executable)}",
                                f"-DWEDGE_PYTHON_MODULE_DIR={tree / 'python'}"], check=True)
        module_dir = pathlib.Path(cache_value(tree, "WEDGE_PYTHON_MODULE_DIR") or ROOT / "python" / "wedge")
        return tree, module_dir


setup(
    version=project_version(),
    ext_modules=[Extension("wedge._core", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
)
