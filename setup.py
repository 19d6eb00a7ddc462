# The C extension is described in pyautodiff/_backend/build_cffi.py; everything else is in pyproject.toml.
from setuptools import setup
from setuptools.command.build_ext import build_ext


class BuildExt(build_ext):
    def build_extensions(self):
        # a Python built with an rpath to its own lib/ (pyenv) passes it to every extension; ours needs no
        # libpython, and a wheel must not point into the build machine
        linker = self.compiler.linker_so
        self.compiler.linker_so = [arg for arg in linker if not arg.startswith(("-Wl,-rpath", "-Wl,-R"))]
        super().build_extensions()


# cffi compiles with Py_LIMITED_API, so one wheel serves CPython 3.11 and later (tag cp311-abi3)
setup(cffi_modules=["pyautodiff/_backend/build_cffi.py:ffibuilder"], cmdclass={"build_ext": BuildExt},
      options={"bdist_wheel": {"py_limited_api": "cp311"}})
