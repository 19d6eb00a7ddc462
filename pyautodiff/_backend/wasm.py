"""Pyodide binding: the side module libpyautodiff.so opened with ctypes.

argtypes/restype come from the same pyautodiff.h that cffi compiles natively (shipped in the wheel
beside the .so). They must be exact: in WebAssembly a mismatched int64 argument is a fatal error.
"""

import ctypes
import os
from functools import lru_cache
from types import SimpleNamespace

from . import header

_HERE = os.path.dirname(os.path.abspath(__file__))
_CTYPES = {"int": ctypes.c_int, "int64_t": ctypes.c_int64, "uint64_t": ctypes.c_uint64, "int32_t": ctypes.c_int32,
           "double": ctypes.c_double, "float": ctypes.c_float, "void": None}

with open(os.path.join(_HERE, "pyautodiff.h")) as _f:
    _TEXT = _f.read()

_dll = ctypes.CDLL(os.path.join(_HERE, "libpyautodiff.so"))
lib = SimpleNamespace()
for _name, (_ret, _args) in header.functions(_TEXT).items():
    _fn = getattr(_dll, _name)
    _fn.restype = ctypes.c_void_p if _ret.endswith("*") else _CTYPES[_ret]
    _fn.argtypes = [ctypes.c_void_p if a.endswith("*") else _CTYPES[a] for a in _args]
    setattr(lib, _name, _fn)

C = SimpleNamespace(**header.defines(_TEXT))
NULL = None
_ad_free = lib.ad_free


class _Block:
    """Owns one ad_alloc'ed block; frees it when collected."""

    __slots__ = ("ptr", "__weakref__")

    def __init__(self, ptr: int):
        self.ptr = ptr

    def __del__(self):
        _ad_free(self.ptr)


def alloc(nbytes: int):
    ptr = lib.ad_alloc(nbytes)
    if not ptr:
        raise MemoryError(f"pyautodiff: cannot allocate {nbytes} bytes")
    return _Block(ptr), ptr


def offset(ptr: int, nbytes: int) -> int:
    return ptr + nbytes


def address(ptr: int) -> int:
    return ptr


def view(ptr: int, nbytes: int) -> memoryview:
    return memoryview((ctypes.c_char * nbytes).from_address(ptr)).cast("B")


@lru_cache(maxsize=8192)
def i64(values: tuple):
    return (ctypes.c_int64 * len(values))(*values) if values else None


info = {"binding": "ctypes", "platform": "wasm"}
