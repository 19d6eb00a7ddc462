"""float16 as a storage dtype: the C conversions bit for bit (every half, rounding ties, overflow, subnormals,
NaN payloads), creation and the Tensor protocols, data movement, the errors of math ops, gradients stopping at
float16, saving and Function replays. Without numpy the references are Python's struct ("e" packs IEEE binary16,
rounding to nearest even) and the same ops in float32; with numpy, numpy's float16 too."""

import copy
import itertools
import math
import pickle
import struct

import pytest

import pyautodiff as ad
from pyautodiff.tensor import _rebuild  # what unpickling runs: a tensor from raw storage bytes

CAST_HINT = 'ad.cast(x, "float32")'


def _np():
    return pytest.importorskip("numpy")


def _from_bits(bits) -> ad.Tensor:
    bits = list(bits)
    return _rebuild(struct.pack(f"<{len(bits)}H", *bits), (len(bits),), "float16")


def _bits(t: ad.Tensor, code: str) -> list:
    """t's storage (a plain tensor's pickled bytes) as unsigned integers of struct code."""
    return list(struct.unpack(f"<{t.size}{code}", ad.array(t).__reduce__()[1][0]))


def _half(value: float) -> float:
    """value rounded to float16 by Python's struct (which raises where float16 overflows: inf then)."""
    try:
        return struct.unpack("<e", struct.pack("<e", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)


def _same(a: float, b: float) -> bool:
    """Equal values with equal signs (-0.0 is not 0.0), NaN matching NaN."""
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


# --- conversions in C ---------------------------------------------------------------------------------------

def test_every_half_widens_exactly_and_narrows_back_to_its_bits():
    h = _from_bits(range(65536))
    for wide, code, shift, exp in (("float32", "I", 13, 0x7f800000), ("float64", "Q", 42, 0x7ff0000000000000)):
        w = ad.cast(h, wide)
        values, bits = w.tolist(), _bits(w, code)
        for b in range(65536):
            sign, mag = b >> 15, b & 0x7fff
            if mag > 0x7c00:  # NaN: the payload moves up, the sign stays (numpy's too)
                assert bits[b] == (sign << (8 * len(struct.pack(code, 0)) - 1)) | exp | ((mag & 0x3ff) << shift), b
            else:
                assert _same(values[b], struct.unpack("<e", struct.pack("<H", b))[0]), b
        assert _bits(ad.cast(w, "float16"), "H") == list(range(65536)), wide  # NaN payloads too


def _midpoints() -> list:
    """The values halfway between consecutive positive finite halves: each rounds to the one with an even
    last bit (in float32 and float64 alike: they need 12 significant bits)."""
    halves = [struct.unpack("<e", struct.pack("<H", b))[0] for b in range(0x7c00)]
    return [(a + b) / 2 for a, b in itertools.pairwise(halves)]


def _float32_neighbours(v: float) -> tuple:
    bits = struct.unpack("<I", struct.pack("<f", v))[0]
    return tuple(struct.unpack("<f", struct.pack("<I", bits + d))[0] for d in (-1, 1))


def test_narrowing_rounds_to_nearest_even_with_overflow_and_subnormals():
    mids = _midpoints()
    sixty = 65520.0  # halfway between float16's largest (65504) and 2^16: rounds (to even) to inf
    special = [0.0, -0.0, 2.0**-24, 2.0**-25, 2.0**-25 * 1.5, 2.0**-26, 2.0**-14, 2.0**-14 - 2.0**-25, 1e-10, 65504.0,
               sixty, 65519.99, 65536.0, 1e30, math.inf, -math.inf, 1 / 3, -2 / 3, 1.0009765625, 1.00048828125]
    for dtype, values in (("float64", mids + [math.nextafter(m, s) for m in mids for s in (0, math.inf)] + special),
                          ("float32", mids + [n for m in mids for n in _float32_neighbours(m)] + special)):
        values = values + [-v for v in values]
        got = ad.cast(ad.array(values, dtype), "float16").tolist()
        want = [_half(v) for v in values]
        bad = [(v, g, w) for v, g, w in zip(values, got, want) if not _same(g, w)]
        assert not bad, (dtype, bad[:5])
    assert ad.cast(ad.array([math.nan, -math.nan]), "float16").tolist()[0] != 0  # (NaN: below, by the bits)
    nans = ad.cast(ad.array([math.nan, -math.nan], "float64"), "float16")
    assert all(math.isnan(v) for v in nans.tolist()) and [b >> 15 for b in _bits(nans, "H")] == [0, 1]


def test_conversions_match_numpy_bit_for_bit():
    np = _np()
    bits = np.arange(65536, dtype=np.uint16)
    halves = bits.view(np.float16)
    h = ad.array(halves)
    assert h.dtype == "float16" and (h.numpy().view(np.uint16) == bits).all()
    for wide in (np.float32, np.float64):
        got, want = ad.cast(h, wide.__name__).numpy(), halves.astype(wide)
        assert (got == want).sum() + np.isnan(want).sum() == 65536 and (np.isnan(got) == np.isnan(want)).all()
        assert (np.signbit(got) == np.signbit(want)).all()
    rng = np.random.default_rng(7)
    for wide in (np.float32, np.float64):
        scale = 10.0 ** rng.integers(-10, 7, 50000)
        x = np.concatenate([rng.standard_normal(50000) * scale, rng.uniform(-70000, 70000, 5000),
                            rng.uniform(-2.0**-13, 2.0**-13, 5000), [np.inf, -np.inf, np.nan]]).astype(wide)
        with np.errstate(over="ignore"):
            want = x.astype(np.float16)
        got = ad.cast(ad.array(x), "float16").numpy()
        finite = ~np.isnan(want)
        assert (got.view(np.uint16)[finite] == want.view(np.uint16)[finite]).all(), wide
        assert np.isnan(got[~finite]).all()


def test_casts_to_and_from_integers_and_bool():
    x = ad.array([3.9, -3.9, 65504.0, -0.0, 0.5, 2049.0], "float16")
    assert x.tolist() == [3.900390625, -3.900390625, 65504.0, 0.0, 0.5, 2048.0]
    assert ad.cast(x, "int32").tolist() == [3, -3, 65504, 0, 0, 2048]
    assert ad.cast(x, "int64").tolist() == [3, -3, 65504, 0, 0, 2048]
    assert ad.cast(x, "bool").tolist() == [True, True, True, False, True, True]
    for bad in (math.inf, -math.inf, math.nan):  # the float -> int range rules
        with pytest.raises(ValueError, match="cast"):
            ad.cast(ad.array([1.0, bad], "float16"), "int32")
    assert ad.cast(ad.array([math.nan], "float16"), "bool").tolist() == [True]
    assert ad.cast(ad.array([True, False]), "float16").tolist() == [1.0, 0.0]
    ints = ad.array([2049, 2051, -65519, 65520, 2**40 + 3], "int64")  # ties to even, overflow to inf
    assert ad.cast(ints, "float16").tolist() == [2048.0, 2052.0, -65504.0, math.inf, math.inf]
    assert ad.cast(ad.array([7, -8]), "float16").tolist() == [7.0, -8.0]


# --- creation and protocols ---------------------------------------------------------------------------------

def test_creation_names_and_protocols():
    x = ad.array([[1.7, -0.0], [65519.0, 1e-8]], dtype="float16")
    assert x.dtype == "float16" and x.nbytes == 8 and x.strides == (4, 2)
    assert x.tolist() == [[1.7001953125, -0.0], [65504.0, 0.0]] and math.copysign(1, x.tolist()[0][1]) == -1
    assert ad.array([1, 2], dtype="half").dtype == "float16" and ad.array([True], "float16").tolist() == [1.0]
    assert ad.zeros((2,), "float16").tolist() == [0.0, 0.0] and ad.ones((1,), "float16").tolist() == [1.0]
    assert ad.full((2,), 0.1, "float16").tolist() == [_half(0.1)] * 2
    assert ad.full((1,), 1e6, "float16").tolist() == [math.inf]
    assert ad.ones_like(x).dtype == "float16" and ad.zeros_like(ad.ones(2), "float16").dtype == "float16"
    one = ad.array(1.7, "float16")
    assert one.item() == 1.7001953125 and float(one) == 1.7001953125 and int(one) == 1 and bool(one)
    assert format(one, ".2f") == "1.70" and str(one) == "1.7"
    assert repr(x) == "<Tensor shape=(2, 2) dtype=float16 values=[[1.7, 0], [65504, 0]]>"
    assert str(ad.array([0.1, math.nan, -math.inf], "float16")) == "[0.09998, nan, -inf]"
    assert str(ad.zeros((2000,), "float16")).count("...") == 1
    for t in (pickle.loads(pickle.dumps(x)), copy.deepcopy(x)):
        assert t.dtype == "float16" and _bits(t, "H") == _bits(x, "H")
    with pytest.raises(TypeError, match="float16"):
        ad.array([1.0], "float8")
    assert ad.array(ad.array([1.5, 2.0]), "float16").tolist() == [1.5, 2.0]  # from a tensor: a cast
    assert ad.array([ad.array(1.5, "float16")]).dtype == "float32"  # (nested tensors are values, as numbers)


def test_numpy_interop():
    np = _np()
    a = np.array([[0.1, 2.5], [np.inf, -0.0]], np.float16)
    t = ad.array(a)
    assert t.dtype == "float16" and (t.numpy().view(np.uint16) == a.view(np.uint16)).all()
    assert ad.array(a, "float32").dtype == "float32" and ad.array(np.float64([0.1]), "float16").numpy()[0] == a[0, 0]
    assert ad.array(np.arange(3), dtype=np.float16).dtype == "float16"
    view = np.asarray(t)
    assert view.dtype == np.float16 and not view.flags.writeable and (view == t.numpy()).all()
    assert ad.cast(ad.array([1.0]), np.float16).dtype == "float16"


# --- data movement ------------------------------------------------------------------------------------------

def _x16() -> ad.Tensor:
    values = [[[(i * 7 % 24) / 3 - 4 for i in range(j, j + 4)] for j in range(k, k + 12, 4)] for k in (0, 12)]
    values[0][0][1], values[1][2][3] = -0.0, math.nan
    return ad.array(values, "float16")


MOVES = {
    "reshape": lambda x: ad.reshape(x, (6, 4)),
    "transpose": lambda x: ad.transpose(x, (2, 0, 1)),
    "slicing": lambda x: x[:, 1:, ::-2],
    "integer index": lambda x: x[-1, 0],
    "array index": lambda x: x[:, [2, 0, 2]],
    "mask index": lambda x: x[ad.array([True, False])],
    "concat": lambda x: ad.concat([x, x[:, :1]], axis=1),
    "stack": lambda x: ad.stack([x, x], axis=-1),
    "split": lambda x: ad.split(x, [1, 3], axis=2)[1],
    "tile": lambda x: ad.tile(x, (2, 1, 2)),
    "pad": lambda x: ad.pad(x, [[0, 1], [1, 0], [2, 2]]),
    "pad value": lambda x: ad.pad(x, [[0, 0], [1, 1], [0, 0]], constant_values=2.5),
    "broadcast_to": lambda x: ad.broadcast_to(x[:1], (3, 3, 4)),
    "expand/squeeze": lambda x: ad.squeeze(ad.expand_dims(x, 1), 1),
    "gather": lambda x: ad.gather(x, ad.array([2, 0, 0]), axis=1),
    "gather_nd": lambda x: ad.gather_nd(x, ad.array([[1, 2], [0, 0]])),
    "where": lambda x: ad.where(ad.array([True, False, True]), x[:, :, :3], ad.zeros((2, 3, 3), x.dtype)),
    "repeat": lambda x: ad.repeat(x, [1, 0, 2], axis=1),
    "boolean_mask": lambda x: ad.boolean_mask(x, ad.array([[True, False, True], [False, False, True]])),
    "bandpart": lambda x: ad.bandpart(x, 0, 1),
    "scatter update": lambda x: ad.tensor_scatter_nd_update(x, ad.array([[1, 0]]), x[0, 1:2]),
    "sort": lambda x: ad.sort(x, axis=2, direction="DESCENDING"),
    "top_k": lambda x: ad.top_k(x[0], 2)[0],
    "copy": lambda x: ad.copy(x),
}


@pytest.mark.parametrize("name", sorted(MOVES))
def test_data_movement_keeps_float16_and_matches_float32(name):
    x = _x16()
    y = MOVES[name](x)
    want = MOVES[name](ad.cast(x, "float32"))
    assert y.dtype == "float16" and y.shape == want.shape
    assert str(ad.cast(y, "float32").tolist()) == str(want.tolist())  # (NaN and -0.0 compared as text)


def test_index_outputs_and_masks_from_float16():
    x = ad.array([0.0, -0.0, 1.0, math.nan, -2.0, 0.5], "float16")
    assert ad.argsort(x).tolist() == [4, 0, 1, 5, 2, 3]  # NaN last, -0.0 and 0.0 in their order (stable)
    assert ad.top_k(x, 2)[1].tolist() == [3, 2]
    assert ad.boolean_mask(ad.array([1, 2, 3, 4, 5, 6]), x).tolist() == [3, 4, 5, 6]  # nonzero: -0.0 is zero
    assert ad.where(x, 1, 0).tolist() == [0, 0, 1, 1, 1, 1] and ad.logical_not(x).tolist()[:3] == [True, True, False]
    assert ad.one_hot(ad.array([2, 0]), 3, dtype="float16").tolist() == [[0, 0, 1], [1, 0, 0]]


def test_variables_store_and_assign_float16():
    v = ad.Variable([1.0, 2.0], dtype="float16")
    assert v.dtype == "float16" and repr(v).endswith("dtype=float16 values=[1, 2]>")
    v.assign(ad.array([3.5, 4.0], "float16"))
    v[0] = 7.1
    v[1:].assign([0.1])
    assert v.tolist() == [_half(7.1), _half(0.1)]
    v.scatter_update([1], ad.array([9.0], "float16"))
    assert v.tolist() == [_half(7.1), 9.0] and v.version >= 4
    with pytest.raises(TypeError, match="float16"):
        v.assign(ad.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="assign_add.*float16"):
        v.assign_add(ad.array([1.0, 2.0], "float16"))
    assert pickle.loads(pickle.dumps(v)).tolist() == v.tolist()
    inits = (ad.initializers.GlorotUniform(seed=5), ad.initializers.HeNormal(seed=5),
             ad.initializers.TruncatedNormal(seed=5), ad.initializers.Orthogonal(seed=5), ad.initializers.Ones())
    for init in inits:  # drawn in float32, then rounded
        w = init((3, 2), "float16")
        assert w.dtype == "float16" and w.tolist() == ad.cast(init((3, 2)), "float16").tolist(), init


# --- errors and gradients -----------------------------------------------------------------------------------

MATH = {
    "add": lambda x: x + 1, "multiply": lambda x: x * x, "divide": lambda x: x / 2, "negative": lambda x: -x,
    "exp": ad.exp, "sqrt": ad.sqrt, "reduce_sum": ad.reduce_sum, "reduce_mean": ad.reduce_mean,
    "reduce_max": ad.reduce_max, "argmax": ad.argmax, "cumsum": ad.cumsum, "matmul": lambda x: ad.matmul(x, x),
    "greater": lambda x: x > 0, "softmax": ad.softmax, "clip_by_value": lambda x: ad.clip_by_value(x, 0, 1),
    "tensor_scatter_nd_add": lambda x: ad.tensor_scatter_nd_add(x, ad.array([[0]]), x[:1]),
}


@pytest.mark.parametrize("name", sorted(MATH))
def test_math_on_float16_is_a_type_error_that_suggests_a_cast(name):
    x = ad.ones((2, 2), "float16")
    with pytest.raises(TypeError) as err:
        MATH[name](x)
    msg = str(err.value)
    assert msg.startswith(name) and "(2, 2) float16" in msg and CAST_HINT in msg, msg


def test_mixing_float16_with_another_float_asks_for_a_cast():
    with pytest.raises(TypeError, match=r"add: dtype mismatch: \(2,\) float16, \(2,\) float32; cast"):
        ad.ones(2, "float16") + ad.ones(2)
    assert (ad.cast(ad.ones(2, "float16"), "float32") + ad.ones(2)).tolist() == [2.0, 2.0]


def test_gradients_stop_at_float16_as_at_integers():
    x16, w = ad.array([1.0, 2.0], "float16"), ad.Variable([3.0, 4.0])
    v16 = ad.Variable([1.0, 1.0], dtype="float16")
    with ad.GradientTape() as tape:
        tape.watch(x16)
        y = ad.reduce_sum(ad.cast(x16, "float32") * w + ad.cast(v16, "float32"))
    assert tape.watched_variables() == [w]
    gx, gw, gv = tape.gradient(y, [x16, w, v16])
    assert gx is None and gv is None and gw.tolist() == [1.0, 2.0]
    with ad.GradientTape() as tape:  # float32 -> float16 -> float32 is no differentiable path either
        tape.watch(w)
        y = ad.reduce_sum(ad.cast(ad.cast(w, "float16"), "float32"))
    assert tape.gradient(y, w) is None
    with ad.GradientTape() as tape:
        tape.watch(x16)
        y = ad.reduce_sum(ad.cast(x16, "float32"))
    assert tape.gradient(y, x16, unconnected_gradients="zero") is None  # (as for an int32 source)


def test_check_numerics_sees_float16_infinities():
    with pytest.raises(FloatingPointError, match="overflow"):  # (NumericsError)
        ad.debug.check_numerics(ad.cast(ad.array([1e6]), "float16"), "overflow")
    assert ad.debug.check_numerics(ad.array([65504.0], "float16"), "ok").tolist() == [65504.0]


# --- saving and Function replays ----------------------------------------------------------------------------

class _Half(ad.layers.Layer):
    """A layer keeping a weight in float16 (or another dtype), used through a float32 cast."""

    def __init__(self, dtype="float16", **kwargs):
        super().__init__(**kwargs)
        self.store = dtype

    def build(self, input_shape):
        self.table = self.add_weight("table", (3,), "zeros", False, self.store)

    def call(self, x, training=False):
        return x * ad.cast(self.table, "float32")

    def get_config(self):
        return {**super().get_config(), "dtype": self.store}


def _model(dtype="float16"):
    return ad.models.Sequential([ad.Input((3,)), _Half(dtype)])


def test_float16_weights_round_trip_through_safetensors(tmp_path):
    saved = _model()
    values = [0.1, -65504.0, math.inf]
    saved.layers[0].table.assign(ad.array(values, "float16"))
    path = str(tmp_path / "w.safetensors")
    saved.save_weights(path)
    loaded = _model()
    loaded.load_weights(path)
    assert _bits(loaded.layers[0].table, "H") == _bits(saved.layers[0].table, "H")
    wide = _model("float32")  # F16 in the file, float32 in the model: cast (as Keras assigns)
    wide.load_weights(path)
    assert wide.layers[0].table.dtype == "float32" and wide.layers[0].table.tolist() == [_half(0.1), -65504.0,
                                                                                         math.inf]
    with pytest.raises(ValueError, match="F16 in the file but int32"):
        _model("int32").load_weights(path)
    whole = str(tmp_path / "m.safetensors")
    saved.save(whole)
    again = ad.models.load_model(whole, custom_objects={"_Half": _Half})
    assert again.layers[0].table.dtype == "float16" and _bits(again.layers[0].table, "H") == _bits(
        saved.layers[0].table, "H")
    assert again(ad.ones((1, 3))).tolist() == [[_half(0.1), -65504.0, math.inf]]
    _np()
    safetensors = pytest.importorskip("safetensors.numpy")
    data = safetensors.load_file(path)
    (table,) = data.values()
    assert str(table.dtype) == "float16" and table[0] == _half(0.1)


def test_function_replays_float16_moves():
    @ad.function
    def f(x, k):
        return ad.gather(x, k), ad.cast(ad.reshape(x, (-1,)), "float32")

    for values, k in (([[0.1, 2.0], [3.0, -1.0]], [1]), ([[5.0, 6.0], [7.0, 8.0]], [0])):
        x = ad.array(values, "float16")
        rows, flat = f(x, ad.array(k))
        assert rows.dtype == "float16" and rows.tolist() == [[_half(v) for v in values[k[0]]]]
        assert flat.tolist() == [_half(v) for row in values for v in row]
