"""Bad input: a clear Python exception naming the op, the shapes and the dtypes; never a crash."""

import pytest

import pyautodiff as ad
from pyautodiff import _backend as B


def test_shape_mismatch_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"):
        ad.add(ad.zeros((2, 3)), ad.zeros((4,)))
    with pytest.raises(ValueError, match=r"matmul: inner dimensions differ.*\(2, 3\).*\(4, 5\)"):
        ad.matmul(ad.zeros((2, 3)), ad.zeros((4, 5)))
    with pytest.raises(ValueError, match="matmul: operands must have rank >= 2"):
        ad.matmul(ad.zeros((3,)), ad.zeros((3, 2)))
    with pytest.raises(ValueError, match="reshape: cannot reshape tensor of shape"):
        ad.reshape(ad.zeros((2, 3)), (4, 2))
    with pytest.raises(ValueError, match="concat: tensors must match"):
        ad.concat([ad.zeros((2, 3)), ad.zeros((3, 3))], 1)
    with pytest.raises(ValueError, match="split: sizes"):
        ad.split(ad.zeros((2, 3)), [1, 1], 1)


def test_dtype_errors():
    with pytest.raises(TypeError, match=r"add: dtype mismatch: \(2,\) float32, \(2,\) float64"):
        ad.add(ad.zeros((2,)), ad.zeros((2,), "float64"))
    with pytest.raises(TypeError, match="exp: expects float32 or float64 tensors, got \\(2,\\) int32"):
        ad.exp(ad.array([1, 2]))
    with pytest.raises(TypeError, match="unsupported dtype"):
        ad.zeros((2,), "complex64")
    with pytest.raises(TypeError, match="gather: indices must be int32"):
        ad.gather(ad.zeros((3,)), ad.array([0.0]))


def test_axis_errors():
    with pytest.raises(ValueError, match=r"reduce_sum: axis 2 is out of range for a tensor of shape \(2, 3\)"):
        ad.reduce_sum(ad.zeros((2, 3)), 2)
    with pytest.raises(ValueError, match="softmax: axis -3 is out of range"):
        ad.softmax(ad.zeros((2, 3)), -3)
    with pytest.raises(ValueError, match="repeated axis"):
        ad.reduce_sum(ad.zeros((2, 3)), (0, 0))
    with pytest.raises(TypeError, match="axis must be an int"):
        ad.reduce_sum(ad.zeros((2, 3)), 1.5)
    with pytest.raises(ValueError, match="transpose: perm"):
        ad.transpose(ad.zeros((2, 3)), (0, 0))


def test_bad_data():
    with pytest.raises(ValueError, match="array: ragged nested sequence"):
        ad.array([[1, 2], [3]])
    with pytest.raises(TypeError, match="array: cannot make a tensor from str"):
        ad.array(["a", "b"])
    with pytest.raises(TypeError, match="cannot make a tensor from dict"):
        ad.array({"a": 1})
    with pytest.raises(ValueError, match="negative dimension"):
        ad.zeros((2, -1))
    with pytest.raises(MemoryError):
        ad.zeros((2**40, 2**30))
    with pytest.raises(ValueError, match="out of range for int32"):
        ad.array([2**40], "int32")
    with pytest.raises(ValueError, match="do not fit int64"):
        ad.array([2**70])


def test_index_errors():
    with pytest.raises(ValueError, match="gather: index out of range.*\\(3,\\) float32"):
        ad.gather(ad.zeros((3,)), [0, 3])
    with pytest.raises(ValueError, match="one_hot: index out of range"):
        ad.one_hot([5], 3)
    with pytest.raises(IndexError, match=r"getitem: index 5 is out of range for axis 0 of shape \(2, 3\)"):
        ad.zeros((2, 3))[5]
    with pytest.raises(IndexError, match="too many indices"):
        ad.zeros((2,))[0, 0]
    with pytest.raises(TypeError, match="getitem: unsupported index"):
        ad.zeros((2,))["x"]


def test_item_and_len_errors():
    with pytest.raises(ValueError, match="item: tensor of shape \\(2,\\) has 2 elements"):
        ad.zeros((2,)).item()
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(ad.array(1.0))


def test_c_kernels_validate_their_arguments():
    """The C side refuses bad arguments with a status instead of touching memory."""
    lib, C = B.lib, B.C
    owner, p = B.alloc(64)
    assert lib.ad_unary(999, C.AD_FLOAT32, 4, p, p, 0.0, 0.0) == C.AD_EINVAL
    assert lib.ad_unary(B.UNARY["exp"], 77, 4, p, p, 0.0, 0.0) == C.AD_EDTYPE
    assert lib.ad_unary(B.UNARY["exp"], C.AD_FLOAT32, -1, p, p, 0.0, 0.0) == C.AD_EINVAL
    assert lib.ad_fill(C.AD_FLOAT32, 4, 0.0, B.offset(p, 0)) == C.AD_OK
    assert lib.ad_matmul(C.AD_FLOAT32, 1, -1, 2, 2, p, 0, 0, p, 0, 0, p, 1.0, 0.0) == C.AD_EINVAL
    assert lib.ad_reduce(C.AD_REDUCE_SUM, C.AD_FLOAT32, 99, B.i64((1,)), p, B.i64((1,)), p, 1.0) == C.AD_EINVAL
    idx_owner, idx = B.alloc(8)
    lib.ad_fill(C.AD_INT32, 2, 7.0, idx)
    assert lib.ad_gather(C.AD_FLOAT32, 1, 4, 1, p, 2, idx, p) == C.AD_EINDEX
    assert lib.ad_one_hot(C.AD_FLOAT32, 2, idx, 3, p) == C.AD_EINDEX
    assert lib.ad_alloc(-1) in (None, 0) or B.address(lib.ad_alloc(-1)) == 0
    assert lib.ad_set_num_threads(0) == C.AD_EINVAL


def test_set_num_threads_validates():
    with pytest.raises(ValueError, match="set_num_threads"):
        ad.set_num_threads(0)
    before = ad.get_num_threads()
    ad.set_num_threads(1)
    assert ad.get_num_threads() == 1
    ad.set_num_threads(before)
