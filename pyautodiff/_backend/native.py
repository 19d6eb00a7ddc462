"""Native binding: the cffi API-mode extension pyautodiff._kernels."""

from functools import lru_cache
from types import SimpleNamespace

from .._kernels import ffi, lib

C = SimpleNamespace(**{name: getattr(lib, name) for name in dir(lib) if name.startswith("AD_")})

_gc = ffi.gc
_ad_alloc = lib.ad_alloc
_ad_free = lib.ad_free
NULL = _NULL = ffi.NULL


def alloc(nbytes: int):
    ptr = _ad_alloc(nbytes)
    if ptr == _NULL:
        raise MemoryError(f"pyautodiff: cannot allocate {nbytes} bytes")
    ptr = _gc(ptr, _ad_free, size=nbytes)
    return ptr, ptr


def offset(ptr, nbytes: int):
    return ffi.cast("char *", ptr) + nbytes


def address(ptr) -> int:
    return int(ffi.cast("uintptr_t", ptr))


def view(ptr, nbytes: int) -> memoryview:
    return memoryview(ffi.buffer(ptr, nbytes))


@lru_cache(maxsize=8192)
def i64(values: tuple):
    return ffi.new("int64_t[]", values) if values else _NULL


info = {"binding": "cffi", "platform": "native"}
