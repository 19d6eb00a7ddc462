# The C extension is described in pyautodiff/_backend/build_cffi.py; everything else is in pyproject.toml.
from setuptools import setup

setup(cffi_modules=["pyautodiff/_backend/build_cffi.py:ffibuilder"])
