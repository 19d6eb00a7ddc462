"""Pyodide binding: the side module libpyautodiff.so opened with ctypes.

argtypes/restype come from the same pyautodiff.h that cffi compiles natively (shipped in the wheel
beside the .so). They must be exact: in WebAssembly a mismatched int64 argument is a fatal error.
"""

import array
import ctypes
import os
import struct
from functools import lru_cache
from types import SimpleNamespace

from .._plan_table import KERNELS, SIGNATURE
from . import header

_from_buffer = ctypes.c_char.from_buffer
_addressof = ctypes.addressof
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
NULL = 0  # an int like every pointer here, so calls can be packed into int64 words


def _via_plan(name: str, direct, kid: int, kinds: str):
    """The kernel called through ad_plan_run as a one-entry plan: ctypes converts each argument separately
    (~0.5 us apiece in Pyodide; ad_matmul has 14), while packing them into int64 words and crossing once
    with one pointer costs about as much as a two-argument call. Pyodide runs one thread, so one buffer
    serves every kernel."""
    pack = struct.Struct("=qqq" + "".join("d" if k == "d" else "q" for k in kinds)).pack_into

    def call(*args):
        try:
            pack(_words, 0, 1, -1, kid, *args)
        except struct.error:  # an argument the words cannot hold: let ctypes judge it
            return direct(*args)
        return _run(_words_at)
    call.__name__ = name
    return call


if _dll.ad_plan_signature() == SIGNATURE:
    _run = _dll.ad_plan_run
    _words = bytearray(8 * (3 + max(len(k) for _, k in KERNELS.values())))
    _words_at = _addressof(_from_buffer(_words))
    for _name, (_kid, _kinds) in KERNELS.items():
        setattr(lib, _name, _via_plan(_name, getattr(lib, _name), _kid, _kinds))


_ZEROS = array.array("B", bytes(1 << 16))  # small buffers are slices of it: one allocation and copy, in C


def alloc(nbytes: int, ctype: str | None = None):
    """Python-owned memory (it lives in the same wasm heap): no call into the side module to allocate
    or free, where ad_alloc + ad_free would cost two ctypes crossings (~2.7 us) per tensor."""
    if nbytes < 0:
        raise MemoryError(f"pyautodiff: cannot allocate {nbytes} bytes")
    if nbytes <= len(_ZEROS) - 64:  # (an array knows its address: ~0.6 us less than a ctypes view's)
        owner = _ZEROS[:nbytes + 64]
        base = owner.buffer_info()[0]
    else:
        owner = bytearray(nbytes + 64)
        base = _addressof(_from_buffer(owner))
    return owner, base + (-base % 64)  # 64-byte aligned, as ad_alloc's blocks are


def offset(ptr: int, nbytes: int) -> int:
    return ptr + nbytes


address = int  # (pointers are ints here already: a builtin, not a Python call, when a plan re-binds them)


def view(ptr: int, nbytes: int) -> memoryview:
    return memoryview((ctypes.c_char * nbytes).from_address(ptr)).cast("B")


def pointer_words(ptr: int, count: int) -> memoryview:
    """The count int64 words at ptr, as slots that take pointers (ints here: the words themselves)."""
    return view(ptr, 8 * count).cast("q")


class _Held(int):
    """An address that keeps the memory it points at alive (as long as the caller keeps the address)."""


def i64_array(values: tuple) -> _Held:
    """A fresh int64_t array that owns its memory (to be written by kernels, unlike i64's shared ones)."""
    array = (ctypes.c_int64 * len(values))(*values)
    held = _Held(_addressof(array))
    held.array = array
    return held


@lru_cache(maxsize=8192)
def i64(values: tuple):
    return i64_array(values) if values else NULL


def span(obj):
    """(address, nbytes) of the memory obj itself keeps alive (an i64 or i64_array array), or None (a plain
    int address: memory a Tensor owns, if anything)."""
    return (int(obj), ctypes.sizeof(obj.array)) if type(obj) is _Held else None


info = {"binding": "ctypes", "platform": "wasm"}
