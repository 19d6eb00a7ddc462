"""Issue 13, tensors and conversion: read-only facts, range-checked numpy input, read-only views of Variables,
clear errors on odd shapes and values, summarised repr, pickle and copy (of tensors and of models)."""

import sys

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


# --- 2. numpy integers that int32 cannot hold raise instead of wrapping (as int32; they default to int64) ------

@pytest.mark.parametrize("values,np_dtype", [([2**40 + 7], "int64"), ([3_000_000_000], "uint32"),
                                             ([2**64 - 1], "uint64"), ([-2**31 - 1, 0], "int64"),
                                             ([[1, 2], [2**31, 3]], "int64")])
def test_numpy_integers_out_of_int32_raise(values, np_dtype):
    np = _np()
    a = np.array(values, dtype=np_dtype)
    shape = str(a.shape).replace("(", r"\(").replace(")", r"\)")
    for make in (lambda: ad.array(a, "int32"), lambda: ad.Variable(a, dtype="int32"), lambda: ad.constant(a, "int32")):
        with pytest.raises(ValueError, match=rf"{shape} and dtype {np_dtype} holds values outside int32"):
            make()
    if np_dtype != "uint64":
        assert ad.array(a).dtype == "int64" and ad.array(a).tolist() == a.tolist()
    assert ad.array(a, "float64").tolist() == a.astype(np.float64).tolist()  # floats hold them


def test_numpy_integers_in_int32_convert_exactly():
    np = _np()
    for np_dtype in ("int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"):
        info = np.iinfo(np_dtype)
        a = np.array([max(info.min, -2**31), 0, min(info.max, 2**31 - 1)], dtype=np_dtype)
        t = ad.array(a)
        assert t.dtype == ("int64" if np_dtype in ("uint32", "int64", "uint64") else "int32") and t.tolist() == a.tolist()
    assert ad.array(np.array([], np.int64)).shape == (0,)
    assert ad.array(np.int64(-7)).tolist() == -7 and ad.array(np.array([True, False])).tolist() == [1, 0]
    with pytest.raises(ValueError, match=r"shape \(\) and dtype int64"):
        ad.array(np.int64(2**40), "int32")
    assert ad.array(np.int64(2**40)).item() == 2**40


# --- 3. a Variable's numpy view is read-only, so its version counter sees every write ------------------------

def test_variable_numpy_view_is_read_only():
    np = _np()
    x = ad.Variable(3.0)
    with ad.GradientTape() as tape:
        y = x * x
    view = np.asarray(x)
    assert not view.flags.writeable and view.__array_interface__["data"][0] == ad._backend.address(x._ptr)
    with pytest.raises(ValueError):
        view[...] = 5.0
    with pytest.raises(ValueError):
        np.add(view, 1.0, out=view)
    assert float(tape.gradient(y, x)) == 6.0  # recorded at x=3, computed at x=3
    x.assign(5.0)
    assert float(np.asarray(x)) == 5.0 and x.version == 1  # the view follows assign (zero-copy)
    copy = x.numpy()
    copy[...] = 1.0  # .numpy() is a writable copy
    assert float(x) == 5.0


def test_variable_written_by_assign_after_use_still_refuses_the_gradient():
    x = ad.Variable(3.0)
    with ad.GradientTape() as tape:
        y = x * x
    x.assign(5.0)
    with pytest.raises(RuntimeError):
        tape.gradient(y, x)


# --- 4. clear errors: huge zero-size shapes, NaN/inf/out of range to int32, full's value, numpy scalars --------

@pytest.mark.parametrize("shape", [(0, 2**62), (2**40, 2**40, 0), (0, 2**63), (0, 2**64), (2**31, 2**31, 0)])
def test_zero_size_shapes_with_huge_dims_raise_clearly(shape):
    for make, op in ((lambda: ad.zeros(shape), "full"), (lambda: ad.ones(shape, "int32"), "full"),
                     (lambda: ad.full(shape, 2.0), "full"), (lambda: ad.reshape(ad.zeros((0,)), shape), "reshape")):
        with pytest.raises(ValueError, match=rf"{op}: shape .* is too large"):
            make()


def test_zero_size_shapes_that_fit_work():
    t = ad.zeros((0, 2**20, 2**20))
    assert t.shape == (0, 2**20, 2**20) and t.size == 0 and t.tolist() == []
    assert (t + 1.0).shape == t.shape and ad.reduce_sum(t, axis=(0, 1)).tolist() == [0.0] * 2**20
    with pytest.raises(MemoryError, match="full: shape .* too large to allocate"):
        ad.zeros((2**40, 2**40))


BAD_INT32 = [float("nan"), float("inf"), -float("inf"), 2.0**31, -3e9, 1e300]


@pytest.mark.parametrize("bad", BAD_INT32)
def test_nan_inf_out_of_range_to_int32_agree_between_array_and_cast(bad):
    for make, op in ((lambda: ad.array([bad], dtype="int32"), "array"),
                     (lambda: ad.array([[1.5, bad]], dtype="int32"), "array"),
                     (lambda: ad.array(bad, dtype="int32"), "array"),
                     (lambda: ad.constant([bad], dtype="int32"), "constant"),
                     (lambda: ad.Variable([bad], dtype="int32"), "Variable"),
                     (lambda: ad.cast(ad.array([bad]), "int32"), "cast"),
                     (lambda: ad.cast(ad.array([0.0, bad], "float64"), "int32"), "cast")):
        with pytest.raises(ValueError, match=rf"{op}: NaN, inf or a value out of range .*float"):
            make()


@pytest.mark.parametrize("bad", BAD_INT32)
def test_nan_inf_out_of_range_from_numpy_to_int32(bad):
    np = _np()
    for np_dtype in ("float32", "float64"):
        with np.errstate(over="ignore"):
            a = np.array([1.0, bad], dtype=np_dtype)
        with pytest.raises(ValueError, match="array: NaN, inf or a value out of range"):
            ad.array(a, "int32")


def test_float_to_int32_truncates_toward_zero_everywhere():
    values = [2.7, -2.7, 0.5, -0.5, 2**31 - 0.25, -2**31 - 0.75]
    expected = [2, -2, 0, 0, 2**31 - 1, -2**31]
    assert ad.array(values, dtype="int32").tolist() == expected
    assert ad.cast(ad.array(values, "float64"), "int32").tolist() == expected
    assert ad.array([], dtype="int32").shape == (0,) and ad.array([[]], "int32").shape == (1, 0)
    assert ad.array(2.5, "int32").shape == () and int(ad.array(2.5, "int32")) == 2


def test_cast_in_a_replayed_function_refuses_nan():
    f = ad.Function(lambda x: ad.cast(x * 1.0, "int32"))
    assert f(ad.array([1.5, 2.5])).tolist() == [1, 2]
    with pytest.raises(ValueError, match="cast"):
        f(ad.array([1.5, float("nan")]))


@pytest.mark.parametrize("value", ["3", None, b"1", [1.0], (1,), {}, 1j, object()])
def test_full_refuses_values_that_are_not_numbers(value):
    for dtype in ("float32", "int32"):
        with pytest.raises(TypeError, match="full: value must be a real number"):
            ad.full((2,), value, dtype)


def test_full_accepts_bools_and_numpy_scalars():
    assert ad.full((2,), True).tolist() == [1.0, 1.0] and ad.full((1,), False, "int32").tolist() == [0]
    np = pytest.importorskip("numpy")
    for value, as_float, as_int in ((np.int64(3), 3.0, 3), (np.int32(-2), -2.0, -2), (np.float32(2.5), 2.5, 2),
                                    (np.float64(-1.5), -1.5, -1), (np.bool_(True), 1.0, 1), (np.array(4), 4.0, 4)):
        assert ad.full((2,), value).tolist() == [as_float] * 2
        assert ad.full((1,), value, "int32").tolist() == [as_int]
    with pytest.raises(ValueError, match="full: value .* out of range for int32"):
        ad.full((1,), np.int64(2**40), "int32")


def test_numpy_scalars_wherever_python_numbers_go():
    np = _np()
    assert ad.zeros((np.int64(2), np.int32(3))).shape == (2, 3) and ad.ones(np.int64(4)).shape == (4,)
    assert ad.full((np.uint8(2),), np.float32(1.5)).tolist() == [1.5, 1.5]
    assert ad.array([np.int64(3), np.int32(4)]).tolist() == [3, 4]
    assert ad.array([np.float32(1.5), np.float64(2.5)]).dtype == "float32"
    assert ad.array([np.bool_(True), np.bool_(False)]).tolist() == [1, 0]
    assert ad.array([np.array([1, 2]), np.array([3, 4])]).tolist() == [[1, 2], [3, 4]]
    assert ad.Variable(np.float64(2.0)).dtype == "float64" and ad.constant(np.int64(5)).tolist() == 5
    assert ad.reshape(ad.zeros((6,)), (np.int64(2), np.int64(3))).shape == (2, 3)
    t = ad.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert t[np.int64(1)].tolist() == [4.0, 5.0, 6.0] and float(t[np.int32(-1), np.uint8(2)]) == 6.0
    assert t[np.int64(0):np.int64(2), ::np.int64(2)].tolist() == [[1.0, 3.0], [4.0, 6.0]]
    assert (t * np.float32(2.0)).tolist()[0] == [2.0, 4.0, 6.0] and (t + np.int64(1)).dtype == "float32"
    with pytest.raises(IndexError, match="getitem: index 2 is out of range"):
        t[np.int64(2)]
    with pytest.raises(TypeError, match="getitem: unsupported index"):
        t[np.float64(1.0)]
    with pytest.raises(TypeError):
        ad.zeros((np.float64(2.0),))


# --- 5. repr and str summarise big tensors as numpy does ---------------------------------------------------

def test_repr_of_ten_million_elements_is_short():
    t = ad.zeros((10**7,))
    assert repr(t) == "<Tensor shape=(10000000,) dtype=float32 values=[0, 0, 0, ..., 0, 0, 0]>"
    v = ad.Variable(ad.zeros((2000, 5000)), name="big")
    assert len(repr(v)) < 300 and "..." in str(v)


def test_summary_matches_numpy_layout():
    values = [float(i) for i in range(2000)]
    t = ad.reshape(ad.array(values, "float64"), (2, 10, 100))
    rows = lambda base: ", ".join(f"[{b}, {b + 1}, {b + 2}, ..., {b + 97}, {b + 98}, {b + 99}]"  # noqa: E731
                                  for b in (base, base + 100, base + 200)) + ", ..., " + ", ".join(
        f"[{b}, {b + 1}, {b + 2}, ..., {b + 97}, {b + 98}, {b + 99}]" for b in (base + 700, base + 800, base + 900))
    assert str(t) == f"[[{rows(0)}], [{rows(1000)}]]"


def test_small_tensors_print_in_full():
    assert str(ad.array([[1.5, 2.0], [3.0, 4.25]])) == "[[1.5, 2], [3, 4.25]]"
    assert str(ad.array(list(range(1000)))).count(",") == 999  # 1000 elements: not summarised
    assert str(ad.array(list(range(1001)))) == "[0, 1, 2, ..., 998, 999, 1000]"
    assert str(ad.zeros((3, 0))) == "[]" and str(ad.array(7)) == "7"
    assert str(ad.zeros((1, 1, 2), "int32")) == "[[[0, 0]]]"
    assert repr(ad.Variable([1, 2], name="v")) == "<Variable name='v' shape=(2,) dtype=int32 values=[1, 2]>"
    assert str(ad.array([float("nan"), float("inf"), 1e20, 0.1])) == "[nan, inf, 1e+20, 0.1]"


# --- 6. pickle and copy ------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: ad.array([[1.5, -2.0]], "float64"), lambda: ad.array([1, 2, 3]),
                                  lambda: ad.zeros((0, 3)), lambda: ad.array(2.5), lambda: ad.ones((3, 4)) * 2.0])
def test_tensor_pickle_and_copy(make):
    import copy
    import pickle
    t = make()
    for other in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        assert type(other) is ad.Tensor and other is not t and other._ptr is not t._ptr
        assert (other.shape, other.dtype, other.tolist()) == (t.shape, t.dtype, t.tolist())
    assert copy.copy(t) is t  # immutable


def test_deepcopy_keeps_sharing_within_one_call():
    import copy
    t = ad.array([1.0])
    a, b = copy.deepcopy([t, t])
    assert a is b and a is not t


def test_variable_pickle_and_copy_are_independent():
    import copy
    import pickle
    v = ad.Variable([1.0, 2.0], name="w", trainable=False, dtype="float64")
    v.assign_add([1.0, 1.0])
    for other in (pickle.loads(pickle.dumps(v)), copy.deepcopy(v), copy.copy(v)):
        assert type(other) is ad.Variable and other is not v
        assert (other.name, other.trainable, other.dtype, other.shape, other.tolist()) == \
            ("w", False, "float64", (2,), [2.0, 3.0])
        other.assign([0.0, 0.0])
        assert v.tolist() == [2.0, 3.0]
        with ad.GradientTape() as tape:
            tape.watch(other)
            y = ad.reduce_sum(other * other)
        assert tape.gradient(y, other).tolist() == [0.0, 0.0]


def test_unpickling_refuses_inconsistent_data():
    from pyautodiff.tensor import _rebuild
    with pytest.raises(ValueError, match="unpickle: 4 bytes for a \\(2,\\) float32 tensor"):
        _rebuild(b"\0" * 4, (2,), "float32")
    with pytest.raises(TypeError, match="unpickle: unsupported dtype"):
        _rebuild(b"", (0,), "complex64")


def _data(seed=0):
    import random
    rng = random.Random(seed)
    x = ad.array([[rng.uniform(-1, 1) for _ in range(4)] for _ in range(32)])
    return x, ad.array([rng.randrange(3) for _ in range(32)])


class _Subclassed(ad.Model):
    def __init__(self):
        super().__init__()
        self.hidden = ad.layers.Dense(8, activation="tanh")
        self.norm = ad.layers.LayerNormalization()
        self.out = ad.layers.Dense(3)

    def call(self, inputs, training=False):
        return self.out(self.norm(self.hidden(inputs)))


@pytest.mark.parametrize("make", [
    lambda: ad.Sequential([ad.layers.Dense(8, activation="relu"), ad.layers.Dropout(0.1), ad.layers.Dense(3)]),
    lambda: ad.Sequential([ad.layers.Dense(3, input_shape=(4,))]),  # linear activation
    _Subclassed])
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_trained_models_pickle_and_deepcopy(make, how):
    import copy
    import pickle
    x, y = _data()
    model = make()
    model.compile(ad.optimizers.Adam(0.01), ad.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    other = copy.deepcopy(model) if how == "deepcopy" else pickle.loads(pickle.dumps(model))
    assert other.predict(x).tolist() == model.predict(x).tolist()
    assert [v.tolist() for v in other.variables] == [v.tolist() for v in model.variables]
    assert all(a._ptr is not b._ptr for a, b in zip(other.variables, model.variables))
    # training goes on identically (the optimizer's moments and step count came along) and independently
    assert other.optimizer.iterations == model.optimizer.iterations
    h1 = model.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0).history["loss"]
    h2 = other.fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0).history["loss"]
    assert h1 == h2 and other.predict(x).tolist() == model.predict(x).tolist()
    other.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert other.predict(x).tolist() != model.predict(x).tolist()


@pytest.mark.skipif(sys.platform == "emscripten", reason="the native allocator (cffi arrays, ad_alloc)")
@pytest.mark.parametrize("shape,dtype", [((2000,), "float32"), ((64, 64), "float32"), ((40, 41), "float64"),
                                         ((5000,), "int32"), ((200, 100), "float32")])
def test_tensors_of_4_kib_and_more_are_64_byte_aligned_and_own_their_memory(shape, dtype):
    """From 4 KiB (below: cffi's arrays, kernels need no alignment) storage is 64-byte aligned for SIMD, whichever
    allocator gives it (a cffi byte array up to ad_alloc's reuse size, ad_alloc above), and lives as long as the
    tensor: values written by a kernel read back after other tensors came and went."""
    import numpy as np
    from pyautodiff import _backend as B
    values = np.arange(int(np.prod(shape))).astype(dtype).reshape(shape)
    t = ad.array(values) + ad.zeros(shape, dtype)  # (a kernel's output)
    assert B.address(t._ptr) % 64 == 0
    for _ in range(50):
        ad.ones(shape, dtype) * 3
    np.testing.assert_array_equal(np.asarray(t), values)
