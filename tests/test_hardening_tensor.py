"""Issue 13, tensors and conversion: read-only facts, range-checked numpy input, read-only views of Variables,
clear errors on odd shapes and values, summarised repr, pickle and copy (of tensors and of models)."""

import pytest

import pyautodiff as ad

FACTS = {"shape": (1000, 1000), "size": 50_000_000, "dtype": "float64", "ndim": 3, "strides": (8,)}


def _np():
    return pytest.importorskip("numpy")


# --- 1. shape, size, dtype, ndim, strides are read-only ------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: ad.array([1.0, 2.0, 3.0]), lambda: ad.Variable([1.0, 2.0, 3.0]),
                                  lambda: ad.array([1.0, 2.0, 3.0]) + 1.0, lambda: ad.reshape(ad.zeros((3,)), (3,))])
@pytest.mark.parametrize("name", sorted(FACTS))
def test_facts_are_read_only(make, name):
    u = make()
    before, values = (u.shape, u.size, u.dtype, u.ndim, u.strides), u.tolist()
    with pytest.raises(AttributeError, match=name):
        setattr(u, name, FACTS[name])
    with pytest.raises(AttributeError):
        delattr(u, name)
    assert (u.shape, u.size, u.dtype, u.ndim, u.strides) == before
    assert u.tolist() == values and (u + 1.0).tolist() == [v + 1.0 for v in values]


def test_storage_is_read_only_too():
    u = ad.array([1.0, 2.0])
    for name in ("_ptr", "_owner"):
        with pytest.raises(AttributeError):
            setattr(u, name, None)
    assert u.tolist() == [1.0, 2.0]


def test_variable_keeps_its_writable_attributes():
    v = ad.Variable([1.0, 2.0], name="w")
    v.trainable = False
    v.name = "renamed"
    assert type(v) is ad.Variable and (v.name, v.trainable, v.version) == ("renamed", False, 0)
    v.assign([3.0, 4.0])
    assert v.version == 1 and v.tolist() == [3.0, 4.0]
    t = ad.array([1.0]) + 1.0
    assert type(t) is ad.Tensor and type(ad.Variable(1.0)) is ad.Variable


def test_variable_subclass_keeps_its_class():
    class Named(ad.Variable):
        __slots__ = ("tag",)

    v = Named(2.0, name="n")
    v.tag = "mine"
    assert type(v) is Named and v.tag == "mine" and float(v * 3.0) == 6.0
    with pytest.raises(AttributeError):
        v.shape = (2,)


@pytest.mark.parametrize("shape,dtype", [((), "float32"), ((3,), "float64"), ((2, 3), "int32"), ((4, 0, 5), "float32"),
                                         ((2, 3, 4), "float64")])
def test_strides_are_bytes_like_numpy(shape, dtype):
    t = ad.zeros(shape, dtype)
    step = {"float32": 4, "float64": 8, "int32": 4}[dtype]
    expected = []
    for d in reversed(shape):
        expected.insert(0, step)
        step *= d
    assert t.strides == tuple(expected)


def test_strides_match_numpy():
    np = _np()
    for shape in [(), (5,), (2, 3), (3, 1, 4)]:
        t = ad.ones(shape, "float64")
        assert t.strides == np.asarray(t).strides == np.ones(shape).strides
