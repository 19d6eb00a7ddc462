"""Native binding: the cffi API-mode extension pyautodiff._kernels."""

import os
from functools import lru_cache
from types import SimpleNamespace

from .._kernels import ffi, lib

C = SimpleNamespace(**{name: getattr(lib, name) for name in dir(lib) if name.startswith("AD_")})

_gc = ffi.gc
_ad_alloc = lib.ad_alloc
_ad_free = lib.ad_free
NULL = _NULL = ffi.NULL


_new_uninit = ffi.new_allocator(should_clear_after_alloc=False)
_ARRAY = {c: (ffi.typeof(c + "[]"), ffi.sizeof(c)) for c in ("float", "double", "int32_t", "int64_t", "uint8_t", "uint16_t")}
SMALL = 4096  # below this cffi's own owning malloc is 4x cheaper than ad_alloc + ffi.gc (kernels need no alignment)
# Below AD_REUSE_MIN ad_alloc is a malloc too (it keeps no freed block): an owning cffi byte array with the tensor
# 64-byte aligned inside it costs ~0.5 us less (64 x 64 floats: 1.2 -> 0.7 us). Not in the sanitizer run, whose
# exact-size ad_alloc must see where every tensor ends.
MID = C.AD_REUSE_MIN if os.environ.get("PYAUTODIFF_SANITIZE") != "1" else SMALL
_BYTES = ffi.typeof("uint8_t[]")
_POINTER = {c: ffi.typeof(c + " *") for c in _ARRAY}


def alloc(nbytes: int, ctype: str | None = None):
    if nbytes < MID and ctype is not None:
        if nbytes < SMALL:
            array, size = _ARRAY[ctype]  # typed, so it passes as the header's int32_t * / double * arguments
            ptr = _new_uninit(array, nbytes // size or 1)
            return ptr, ptr
        raw = _new_uninit(_BYTES, nbytes + 63)
        return raw, _cast(_POINTER[ctype], (int(_cast(_INTPTR, raw)) + 63) & -64)
    ptr = _ad_alloc(nbytes)
    if ptr == _NULL:
        raise MemoryError(f"pyautodiff: cannot allocate {nbytes} bytes")
    ptr = _gc(ptr, _ad_free, size=nbytes)
    return ptr, ptr


def offset(ptr, nbytes: int):
    return ffi.cast("char *", ptr) + nbytes


_cast, _INTPTR = ffi.cast, ffi.typeof("intptr_t")  # (user-space addresses are positive as intptr_t too)


def address(ptr) -> int:
    return int(_cast(_INTPTR, ptr))


def view(ptr, nbytes: int) -> memoryview:
    return memoryview(ffi.buffer(ptr, nbytes))


_VOIDPP = ffi.typeof("void **")


def pointer_words(ptr, count: int):
    """The count int64 words at ptr, as slots that take pointers (`words[i] = p`: ~60 ns, where storing
    address(p) into a memoryview costs ~240)."""
    return _cast(_VOIDPP, ptr)


def i64_array(values: tuple):
    """A fresh int64_t array that owns its memory (to be written by kernels, unlike i64's shared ones)."""
    return ffi.new("int64_t[]", values)


@lru_cache(maxsize=8192)
def i64(values: tuple):
    return i64_array(values) if values else _NULL


def span(obj):
    """(address, nbytes) of the memory obj itself keeps alive (an array from alloc, i64 or i64_array), or None
    (an int, a NULL, an offset or an ad_alloc'ed pointer: memory a Tensor owns, if anything)."""
    if isinstance(obj, ffi.CData) and ffi.typeof(obj).kind == "array":
        return address(obj), ffi.sizeof(obj)
    return None


info = {"binding": "cffi", "platform": "native"}
