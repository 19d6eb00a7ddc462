"""Checks that the sanitizer run (tools/sanitize.sh) is really sanitizing; skipped in ordinary runs.

ASan only sees an overrun if the byte past a tensor is poisoned: the run preloads an exact-size
allocator (tools/sanitize_alloc.c) in place of csrc/array.c's padded one, and these tests prove it is
in effect, so a kernel writing one element too many fails the run.
"""

import ctypes
import os

import pytest

import pyautodiff as ad
from pyautodiff import _backend as B

pytestmark = pytest.mark.skipif(os.environ.get("PYAUTODIFF_SANITIZE") != "1",
                                reason="only under tools/sanitize.sh")


def _process():
    return ctypes.CDLL(None)


def test_the_sanitized_build_is_imported():
    here = os.path.dirname(os.path.abspath(ad.__file__))
    assert os.sep + os.path.join("build", "sanitize") + os.sep in here + os.sep, here


def test_exact_size_allocator_is_interposed():
    assert _process().ad_sanitize_exact_alloc() == 1


@pytest.mark.parametrize("shape,dtype", [((1,), "float32"), ((3,), "float64"), ((5, 7), "float32"),
                                         ((64, 64), "float32"), ((40, 41), "float64"),
                                         ((2, 3, 1), "int32"), ((), "float64")])
def test_the_first_byte_past_a_tensor_is_poisoned(shape, dtype):
    poisoned = _process().__asan_address_is_poisoned
    poisoned.argtypes = [ctypes.c_void_p]
    t = ad.zeros(shape, dtype)
    start = B.address(t._ptr)
    assert not poisoned(start) and not poisoned(start + t.nbytes - 1)
    assert poisoned(start + t.nbytes)
