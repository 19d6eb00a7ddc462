"""The binding to the C kernels: cffi natively, ctypes in Pyodide; the same surface either way.

Everything above this package sees:
  lib                      the kernels of csrc/pyautodiff.h, called with the pointers below
  C                        the header's integer constants (C.AD_FLOAT32, C.AD_ADD, ...)
  alloc(nbytes, ctype)     (owner, ptr): storage freed when owner is collected, typed for the header's pointer
                           arguments by ctype ("float", "double", "int32_t", "int64_t"; None: void *);
                           64-byte aligned when untyped or from 4 KB up (kernels need no alignment)
  offset(ptr, nbytes)      a pointer nbytes further on
  address(ptr)             the pointer as an int (numpy's __array_interface__)
  view(ptr, nbytes)        a writable memoryview of bytes over the storage
  pointer_words(ptr, n)    the n int64 words at ptr as slots that take pointers (`words[i] = p`): how a plan
                           re-binds a pointer argument without converting it to an int
  i64(values)              an int64_t array argument (tuple in, shared through a cache: the caller must keep
                           the returned object, never only its address)
  i64_array(values)        a fresh int64_t array (kernels may write it), owned by the returned object
  span(obj)                (address, nbytes) of the memory obj itself owns (arrays from alloc, i64, i64_array),
                           or None: how a replay plan checks that it keeps every buffer it points at
  NULL                     the null pointer argument (optional buffers)
  info                     binding, platform, simd facts for backend_info()
  UNARY, BINARY            op name -> id of ad_unary / ad_binary, as the C tables name them (ad_op_name)
  ACTIVATIONS              activation name -> id of the dense kernels (an activation's unary id too)
"""

import sys

if sys.platform == "emscripten":
    from .wasm import NULL, C, address, alloc, i64, i64_array, info, lib, offset, pointer_words, span, view
else:
    from .native import NULL, C, address, alloc, i64, i64_array, info, lib, offset, pointer_words, span, view


def _op_ids(table: int) -> dict:
    """{name: id} of one of the C op tables: the C rows are the one place their ids are written."""
    _owner, ptr = alloc(64, None)  # (the owner keeps the buffer alive until we return)
    ids: dict = {}
    while lib.ad_op_name(table, len(ids), ptr, 64) == 0:
        ids[bytes(view(ptr, 64)).split(b"\0", 1)[0].decode()] = len(ids)
    return ids


UNARY = _op_ids(C.AD_OPS_UNARY)
BINARY = _op_ids(C.AD_OPS_BINARY)
ACTIVATIONS = _op_ids(C.AD_OPS_ACTIVATION)

__all__ = ["ACTIVATIONS", "BINARY", "C", "NULL", "UNARY", "address", "alloc", "i64", "i64_array", "info", "lib", "offset",
           "pointer_words", "span", "view"]
