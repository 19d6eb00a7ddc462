"""Native binding: the cffi API-mode extension pyautodiff._kernels."""

from functools import lru_cache
from types import SimpleNamespace

from .._kernels import ffi, lib

C = SimpleNamespace(**{name: getattr(lib, name) for name in dir(lib) if name.startswith("AD_")})

_gc = ffi.gc
_ad_alloc = lib.ad_alloc
_ad_free = lib.ad_free
NULL = _NULL = ffi.NULL


_new_uninit = ffi.new_allocator(should_clear_after_alloc=False)
# typed arrays from ad_alloc (64-byte aligned, its freed blocks reused), freed by ad_free with the array: one cffi
# call, where ad_alloc + ffi.gc, or a cffi byte array aligned by hand, took two or four (alloc() paired in one process
# on Zen 4: 16 KiB 0.64 -> 0.53 us, 64 KiB 1.11x, 1 MiB 1.09x)
_new_owned = ffi.new_allocator(alloc=lib.ad_alloc, free=lib.ad_free, should_clear_after_alloc=False)
_ARRAY = {c: (ffi.typeof(c + "[]"), ffi.sizeof(c)) for c in ("float", "double", "int32_t", "int64_t", "uint8_t", "uint16_t")}
SMALL = 4096  # below this cffi's own owning malloc is cheaper still (kernels need no alignment): 0.28 us vs 0.40


def alloc(nbytes: int, ctype: str | None = None):
    if ctype is not None:  # typed, so it passes as the header's int32_t * / double * arguments
        array, size = _ARRAY[ctype]
        if nbytes < SMALL:
            ptr = _new_uninit(array, nbytes // size or 1)
            return ptr, ptr
        try:
            ptr = _new_owned(array, nbytes // size)
        except MemoryError:
            raise MemoryError(f"pyautodiff: cannot allocate {nbytes} bytes") from None
        return ptr, ptr
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
