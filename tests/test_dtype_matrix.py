"""Every public op on every dtype and dtype pair: it either works (matching numpy where a reference is given, the
result dtype as docs/api.md's rules say) or raises a clear exception (TypeError/ValueError/IndexError/
NotImplementedError) naming the op. Never a crash, a hang, out-of-bounds memory or silent garbage.

Natively the cases run in child processes (one per group, restarted past a crash), so a segfault fails the
group naming the case instead of killing pytest; in Pyodide (no subprocesses, no numpy) they run in-process
without the numpy references. `python tests/test_dtype_matrix.py GROUP...` runs groups directly (the child)."""

import copy
import itertools
import json
import math
import operator
import os
import pickle
import re
import subprocess
import sys

import pytest

import pyautodiff as ad
from pyautodiff import _backend as B
from pyautodiff._backend import header
from pyautodiff.dtypes import CODE as CODES

try:
    import numpy as np
except ImportError:  # Pyodide: the cases still run, without references
    np = None

DTYPES = ("float32", "float64", "int32", "int64", "bool", "float16")
FLOATS = ("float32", "float64")
CLEAR = (TypeError, ValueError, IndexError, NotImplementedError)
RANK = {"bool": 0, "int32": 1, "int64": 2, "float16": 3, "float32": 3, "float64": 3}
PAIRS = list(itertools.product(DTYPES, DTYPES))

# small values every dtype holds exactly (floats get a fraction so a truncation shows)
BASE = {(3,): [1, -2, 3], (2, 3): [[1, -2, 3], [4, 5, -6]], (): 2, (2, 2, 3): [[[1, -2, 3], [4, 5, -6]],
        [[2, 1, -1], [0, 3, 2]]]}


def val(dtype, shape=(2, 3)):
    def conv(x):
        if isinstance(x, list):
            return [conv(y) for y in x]
        return bool(x) if dtype == "bool" else (x + 0.5 if dtype.startswith("float") else x)
    return conv(BASE[shape])


def T(dtype, shape=(2, 3)):
    return ad.array(val(dtype, shape), dtype=dtype)


def idx(dtype, values):
    return ad.array(values, dtype=dtype)


# --- the expected result dtype per docs/api.md (None: the op must refuse these operands) ---

def promote(*dts, float_only=False, no_bool=False):
    if "float16" in dts:
        return None
    floats = {d for d in dts if d in FLOATS}
    if len(floats) > 1:
        return None
    top = max(dts, key=RANK.__getitem__)
    if float_only and top not in FLOATS:
        return None
    if no_bool and top == "bool":
        return None
    return top


def arith(*dts):
    return promote(*dts, no_bool=True)


def floating(*dts):
    return promote(*dts, float_only=True)


def to_bool(*dts):
    return "bool" if promote(*dts) is not None else None


def div_rule(a, b):  # true division: integers give float32 (as PyTorch's); two bools are refused, as by add
    t = promote(a, b)
    return None if t in (None, "bool") else (t if t in FLOATS else "float32")


def ordered(a, b):  # the order predicates: numbers, not two bools
    return to_bool(a, b) if {a, b} != {"bool"} else None


def truth(*dts):  # the logical ops test any operand != 0, float16 included
    return "bool"


# --- the cases: id -> (call, numpy reference or None, expected dtype or None, must succeed, must refuse) ---
CASES = {}
GROUPS = {}


def case(group, name, call, ref=None, expect=None, must=False, refused=False):
    """ref(np) -> the numpy value; expect: the result dtype the docs give (checked on success); must: the docs say
    these operands are supported, so a refusal is a failure too; refused: the docs (or a value beyond the dtype)
    say they are not, so a result is the failure."""
    CASES[name] = (call, ref, expect, must, refused)
    GROUPS.setdefault(group, []).append(name)


def A(dtype, shape=(2, 3)):  # the numpy twin of T
    return np.array(val(dtype, shape), dtype=np.float16 if dtype == "float16" else dtype)


UNARY = {  # name: (numpy function, rule, supported dtypes)
    "abs": (lambda n, x: n.abs(x), arith, DTYPES[:4]),
    "negative": (lambda n, x: n.negative(x), arith, DTYPES[:4]),
    "sign": (lambda n, x: n.sign(x), arith, DTYPES[:4]),
    "square": (lambda n, x: n.square(x), arith, DTYPES[:4]),
    "relu": (lambda n, x: n.maximum(x, 0), arith, DTYPES[:4]),
    "sqrt": (lambda n, x: n.sqrt(x), floating, FLOATS), "exp": (lambda n, x: n.exp(x), floating, FLOATS),
    "log": (lambda n, x: n.log(x), floating, FLOATS), "log1p": (lambda n, x: n.log1p(x), floating, FLOATS),
    "expm1": (lambda n, x: n.expm1(x), floating, FLOATS),
    "reciprocal": (lambda n, x: 1 / x, floating, FLOATS), "sin": (lambda n, x: n.sin(x), floating, FLOATS),
    "cos": (lambda n, x: n.cos(x), floating, FLOATS), "tanh": (lambda n, x: n.tanh(x), floating, FLOATS),
    "sigmoid": (lambda n, x: 1 / (1 + n.exp(-x)), floating, FLOATS),
    "softplus": (lambda n, x: n.log1p(n.exp(x)), floating, FLOATS),
    "silu": (lambda n, x: x / (1 + n.exp(-x)), floating, FLOATS),
    "logical_not": (lambda n, x: n.logical_not(x), truth, DTYPES),
}
for _n in ("erf", "gelu", "swish", "mish", "leaky_relu", "elu", "selu", "hard_sigmoid", "log_softmax",
           "softmax", "reduce_mean", "reduce_variance", "reduce_std", "logsumexp", "reduce_logsumexp", "norm"):
    UNARY[_n] = (None, floating, FLOATS)
for _n, _f in (("reduce_sum", "sum"), ("reduce_prod", "prod")):
    UNARY[_n] = ((lambda f: lambda n, x: getattr(n, f)(x))(_f), arith, DTYPES[:4])
for _n, _f in (("reduce_max", "max"), ("reduce_min", "min")):
    UNARY[_n] = ((lambda f: lambda n, x: getattr(n, f)(x))(_f), promote, DTYPES[:5])
for _n, _f in (("reduce_any", "any"), ("reduce_all", "all")):
    UNARY[_n] = ((lambda f: lambda n, x: getattr(n, f)(x))(_f), truth, DTYPES)
for _n, _f in (("cumsum", "cumsum"), ("cumprod", "cumprod")):
    UNARY[_n] = ((lambda f: lambda n, x: getattr(n, f)(x, axis=0))(_f), arith, DTYPES[:4])
for _n, _f in (("argmax", "argmax"), ("argmin", "argmin")):
    UNARY[_n] = ((lambda f: lambda n, x: getattr(n, f)(x, axis=-1).astype("int32"))(_f),
                 lambda d: "int32" if promote(d) else None, DTYPES[:4])

for _name, (_ref, _rule, _ok) in UNARY.items():
    for _shape in ((2, 3), ()):
        if _shape == () and _name in ("softmax", "log_softmax", "cumsum", "cumprod", "argmax", "argmin"):
            continue
        for _d in DTYPES:
            case("unary", f"{_name}[{_d}]{_shape}",
                 (lambda n, d, s: lambda: getattr(ad, n)(T(d, s)))(_name, _d, _shape),
                 _ref and (lambda r, d, s: lambda: r(np, A(d, s)))(_ref, _d, _shape), _rule(_d), _d in _ok)

BINARY = {  # name: (numpy function, rule, supported when)
    "add": (lambda n, a, b: a + b, arith), "subtract": (lambda n, a, b: a - b, arith),
    "multiply": (lambda n, a, b: a * b, arith), "maximum": (lambda n, a, b: n.maximum(a, b), arith),
    "minimum": (lambda n, a, b: n.minimum(a, b), arith), "divide": (lambda n, a, b: a / b, div_rule),
    "pow": (None, floating),  # (its cases use _pow_ref)
    "equal": (lambda n, a, b: a == b, to_bool), "not_equal": (lambda n, a, b: a != b, to_bool),
    "less": (lambda n, a, b: a < b, ordered), "less_equal": (lambda n, a, b: a <= b, ordered),
    "greater": (lambda n, a, b: a > b, ordered), "greater_equal": (lambda n, a, b: a >= b, ordered),
    "logical_and": (lambda n, a, b: n.logical_and(a, b), truth),
    "logical_or": (lambda n, a, b: n.logical_or(a, b), truth),
    "logical_xor": (lambda n, a, b: n.logical_xor(a, b), truth),
    "sigmoid_grad": (None, floating), "tanh_grad": (None, floating), "softplus_grad": (None, floating),
    "relu_grad": (None, floating), "selu_grad": (None, floating), "hard_sigmoid_grad": (None, floating),
}
OPERATORS = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "**": "pow", "==": "equal",
             "!=": "not_equal", "<": "less", "<=": "less_equal", ">": "greater", ">=": "greater_equal"}


PY_OPS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv, "**": operator.pow,
          "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
          ">=": operator.ge}


def _binop(sym):
    return PY_OPS[sym]  # the Python operator itself


def _pow_ref(a, b):  # positive base: numpy's integer power refuses negative exponents
    return np.power(np.abs(a).astype("float64"), b.astype("float64"))


for (_a, _b) in PAIRS:
    for _name, (_ref, _rule) in BINARY.items():
        _shapes = ((2, 3), (3,)) if _name in ("add", "divide", "less", "logical_and") else ((2, 3), (2, 3))
        _r = _rule(_a, _b)
        _must = _r is not None and (_rule is not floating or _a == _b)
        if _name == "pow":
            case("binary", f"pow[{_a},{_b}]", (lambda a, b: lambda: ad.pow(ad.abs(T(a)) if a != "bool" else T(a),
                                                                            T(b)))(_a, _b),
                 (lambda a, b: lambda: _pow_ref(A(a), A(b)))(_a, _b), _r, False)
            continue
        case("binary", f"{_name}[{_a},{_b}]{_shapes[1]}",
             (lambda n, a, b, s: lambda: getattr(ad, n)(T(a), T(b, s)))(_name, _a, _b, _shapes[1]),
             _ref and (lambda f, a, b, s: lambda: f(np, A(a), A(b, s)))(_ref, _a, _b, _shapes[1]), _r, _must)
    for _alias, _name in (("sub", "subtract"), ("mul", "multiply"), ("div", "divide")):
        case("binary", f"{_alias}[{_a},{_b}]", (lambda n, a, b: lambda: getattr(ad, n)(T(a), T(b)))(_alias, _a, _b),
             None, BINARY[_name][1](_a, _b), False)
    for _sym, _name in OPERATORS.items():
        _ref, _rule = BINARY[_name]
        if _name == "pow":
            _ref = None
        case("operators", f"{_sym}[{_a},{_b}]", (lambda s, a, b: lambda: _binop(s)(T(a), T(b, (3,))))(_sym, _a, _b),
             _ref and (lambda f, a, b: lambda: f(np, A(a), A(b, (3,))))(_ref, _a, _b), _rule(_a, _b))
    case("operators", f"@[{_a},{_b}]", (lambda a, b: lambda: T(a) @ ad.transpose(T(b)))(_a, _b),
         (lambda a, b: lambda: A(a).astype("float64") @ A(b).astype("float64").T)(_a, _b), floating(_a, _b),
         _a == _b and _a in FLOATS)
# Python numbers on either side
for _d in DTYPES:
    for _num in (2, 2.5, True):
        for _sym in ("+", "-", "*", "/", "**", "<"):
            case("operators", f"{_sym}[{_d},{_num!r}]", (lambda s, d, v: lambda: _binop(s)(T(d), v))(_sym, _d, _num))
            case("operators", f"{_sym}[{_num!r},{_d}]", (lambda s, d, v: lambda: _binop(s)(v, T(d)))(_sym, _d, _num))
    for _name, _f in (("neg", lambda t: -t), ("abs()", abs), ("int()", lambda t: int(t[0, 0])),
                      ("float()", lambda t: float(t[0, 0])), ("bool()", lambda t: bool(t[0, 0])),
                      ("index", lambda t: [10, 20, 30][t[0, 0]]), ("item", lambda t: t[1, 2].item()),
                      ("tolist", lambda t: t.tolist()), ("repr", repr), ("len", len), ("iter", list)):
        case("operators", f"{_name}[{_d}]", (lambda f, d: lambda: f(T(d)))(_f, _d))

# matmul-like and contractions on pairs
for (_a, _b) in PAIRS:
    _must = _a == _b and _a in FLOATS
    case("linalg", f"matmul[{_a},{_b}]", (lambda a, b: lambda: ad.matmul(T(a), T(b), transpose_b=True))(_a, _b),
         (lambda a, b: lambda: A(a).astype("float64") @ A(b).astype("float64").T)(_a, _b), floating(_a, _b), _must)
    case("linalg", f"matmul_batched[{_a},{_b}]",
         (lambda a, b: lambda: ad.matmul(T(a, (2, 2, 3)), T(b), transpose_b=True))(_a, _b), None, floating(_a, _b))
    case("linalg", f"einsum[{_a},{_b}]", (lambda a, b: lambda: ad.einsum("ij,kj->ik", T(a), T(b)))(_a, _b),
         (lambda a, b: lambda: A(a).astype("float64") @ A(b).astype("float64").T)(_a, _b), floating(_a, _b), _must)
    case("linalg", f"conv1d[{_a},{_b}]",
         (lambda a, b: lambda: ad.conv1d(T(a, (2, 2, 3)), ad.reshape(T(b, (3,)), (1, 3, 1))))(_a, _b), None,
         floating(_a, _b), _must)
    case("linalg", f"conv1d_transpose[{_a},{_b}]",
         (lambda a, b: lambda: ad.conv1d_transpose(T(a, (2, 2, 3)), ad.reshape(T(b, (3,)), (1, 1, 3))))(_a, _b),
         None, floating(_a, _b), _must)
    case("linalg", f"conv2d[{_a},{_b}]",
         (lambda a, b: lambda: ad.conv2d(ad.reshape(T(a, (2, 2, 3)), (1, 2, 2, 3)),
                                         ad.reshape(T(b, (3,)), (1, 1, 3, 1))))(_a, _b), None, floating(_a, _b))
for _d in DTYPES:
    _x3 = (lambda d: lambda: T(d, (2, 2, 3)))(_d)
    for _n in ("max_pool1d", "avg_pool1d"):
        case("linalg", f"{_n}[{_d}]", (lambda n, x: lambda: getattr(ad, n)(x(), 2))(_n, _x3), None, floating(_d),
             _d in FLOATS)
    for _n in ("global_avg_pool1d", "global_max_pool1d"):
        case("linalg", f"{_n}[{_d}]", (lambda n, x: lambda: getattr(ad, n)(x()))(_n, _x3), None, floating(_d),
             _d in FLOATS)
    _x4 = (lambda d: lambda: ad.reshape(T(d, (2, 2, 3)), (1, 2, 2, 3)))(_d)
    _x5 = (lambda d: lambda: ad.reshape(T(d, (2, 2, 3)), (1, 2, 2, 1, 3)))(_d)
    _k = (lambda d: lambda n: ad.reshape(T(d, (3,)), (1,) * n + (3, 1)))(_d)
    for _n, _f in (("max_pool2d", lambda x4, x5, k: ad.max_pool2d(x4(), 2)),
                   ("avg_pool2d", lambda x4, x5, k: ad.avg_pool2d(x4(), 2)),
                   ("max_pool3d", lambda x4, x5, k: ad.max_pool3d(x5(), (2, 2, 1))),
                   ("avg_pool3d", lambda x4, x5, k: ad.avg_pool3d(x5(), (2, 2, 1))),
                   ("global_avg_pool2d", lambda x4, x5, k: ad.global_avg_pool2d(x4())),
                   ("global_max_pool2d", lambda x4, x5, k: ad.global_max_pool2d(x4())),
                   ("global_avg_pool3d", lambda x4, x5, k: ad.global_avg_pool3d(x5())),
                   ("global_max_pool3d", lambda x4, x5, k: ad.global_max_pool3d(x5())),
                   ("conv3d", lambda x4, x5, k: ad.conv3d(x5(), k(3))),
                   ("conv2d_transpose", lambda x4, x5, k: ad.conv2d_transpose(x4(), ad.reshape(k(2), (1, 1, 1, 3)))),
                   ("conv3d_transpose",
                    lambda x4, x5, k: ad.conv3d_transpose(x5(), ad.reshape(k(3), (1, 1, 1, 1, 3))))):
        case("linalg", f"{_n}[{_d}]", (lambda f, x4, x5, k: lambda: f(x4, x5, k))(_f, _x4, _x5, _k), None,
             floating(_d), _d in FLOATS)
    case("linalg", f"upsampling[{_d}]", (lambda x: lambda: ad.upsampling(x(), 2))(_x3))
    case("linalg", f"zero_padding[{_d}]", (lambda x: lambda: ad.zero_padding(x(), 1))(_x3))

# moving elements: any dtype, float16 included (the docs list these)
MOVES = {
    "reshape": (lambda x: ad.reshape(x, (3, 2)), lambda x: x.reshape(3, 2)),
    "transpose": (lambda x: ad.transpose(x), lambda x: x.T),
    "expand_dims": (lambda x: ad.expand_dims(x, 1), lambda x: np.expand_dims(x, 1)),
    "squeeze": (lambda x: ad.squeeze(ad.reshape(x, (1, 2, 3)), 0), lambda x: x),
    "broadcast_to": (lambda x: ad.broadcast_to(x, (2, 2, 3)), lambda x: np.broadcast_to(x, (2, 2, 3))),
    "tile": (lambda x: ad.tile(x, (2, 1)), lambda x: np.tile(x, (2, 1))),
    "repeat": (lambda x: ad.repeat(x, 2, axis=1), lambda x: np.repeat(x, 2, axis=1)),
    "pad": (lambda x: ad.pad(x, [[1, 0], [0, 2]]), lambda x: np.pad(x, [[1, 0], [0, 2]])),
    "bandpart": (lambda x: ad.bandpart(x, 0, 1), lambda x: x * np.array([[1, 1, 0], [0, 1, 1]], x.dtype)),
    "split": (lambda x: ad.split(x, 3, axis=1)[1], lambda x: x[:, 1:2]),
    "concat": (lambda x: ad.concat([x, x], axis=1), lambda x: np.concatenate([x, x], 1)),
    "stack": (lambda x: ad.stack([x, x], axis=1), lambda x: np.stack([x, x], 1)),
    "copy": (ad.copy, lambda x: x), "stop_gradient": (ad.stop_gradient, lambda x: x),
    "zeros_like": (ad.zeros_like, lambda x: np.zeros_like(x)), "ones_like": (ad.ones_like, lambda x: np.ones_like(x)),
    "sort": (lambda x: ad.sort(x), lambda x: np.sort(x, -1)),
    "sort_desc": (lambda x: ad.sort(x, direction="DESCENDING"), lambda x: -np.sort(-x.astype("float64"), -1)),
    "argsort": (lambda x: ad.argsort(x), lambda x: np.argsort(x, -1, kind="stable").astype("int32")),
    "top_k": (lambda x: ad.top_k(x, 2)[0], lambda x: -np.sort(-x.astype("float64"), -1)[:, :2]),
    "top_k_indices": (lambda x: ad.top_k(x, 2)[1], lambda x: np.argsort(-x.astype("float64"), -1,
                                                                        kind="stable")[:, :2].astype("int32")),
    "gather": (lambda x: ad.gather(x, [2, 0], axis=1), lambda x: x[:, [2, 0]]),
    "gather_nd": (lambda x: ad.gather_nd(x, [[1, 2], [0, 0]]), lambda x: x[[1, 0], [2, 0]]),
    "boolean_mask": (lambda x: ad.boolean_mask(x, [True, False]), lambda x: x[[True, False]]),
    "reverse_slice": (lambda x: x[::-1, 1:], lambda x: x[::-1, 1:]),
    "fancy_index": (lambda x: x[[1, 0, 1], [2, 2, 0]], lambda x: x[[1, 0, 1], [2, 2, 0]]),
    "newaxis": (lambda x: x[None, ..., 0], lambda x: x[None, ..., 0]),
    "scatter_update": (lambda x: ad.tensor_scatter_nd_update(x, [[0, 1]], ad.cast(ad.array([0]), x.dtype)),
                       lambda x: np.where([[False, True, False], [False] * 3], np.zeros_like(x), x)),
    "where_self": (lambda x: ad.where(ad.array([[True, False, True]] * 2), x, ad.zeros_like(x)),
                   lambda x: np.where([[True, False, True]] * 2, x, 0).astype(x.dtype)),
}
for _d in DTYPES:
    for _name, (_f, _ref) in MOVES.items():
        _ex = "int32" if _name in ("argsort", "top_k_indices") else _d
        case("moves", f"{_name}[{_d}]", (lambda f, d: lambda: f(T(d)))(_f, _d),
             (lambda r, d: lambda: r(A(d)))(_ref, _d),
             _ex, _name not in ("sort_desc", "top_k", "top_k_indices") or _d != "bool")
    for _n, _f in (("cast", None),):
        for _to in DTYPES:
            case("moves", f"cast[{_d}->{_to}]", (lambda d, t: lambda: ad.cast(T(d), t))(_d, _to),
                 (lambda d, t: lambda: A(d).astype(np.float16 if t == "float16" else t))(_d, _to), _to, True)
    for _name, _f in (("zeros", lambda d: ad.zeros((2, 3), d)), ("ones", lambda d: ad.ones((2, 3), d)),
                      ("full", lambda d: ad.full((2, 3), 1, d)), ("array", lambda d: ad.array(val(d), d)),
                      ("constant", lambda d: ad.constant(val(d), d)),
                      ("one_hot", lambda d: ad.one_hot(ad.array([0, 2], "int32"), 3, dtype=d)),
                      ("variable", lambda d: ad.Variable(val(d), dtype=d)),
                      ("random_normal", lambda d: ad.random.normal((2, 3), dtype=d, seed=1)),
                      ("random_uniform", lambda d: ad.random.uniform((2, 3), dtype=d, seed=1)),
                      ("random_categorical", lambda d: ad.random.categorical(T(d), 2, seed=1)),
                      ("random_categorical_out", lambda d: ad.random.categorical(T("float32"), 2, dtype=d, seed=1))):
        case("moves", f"{_name}[{_d}]", (lambda f, d: lambda: f(d))(_f, _d))

# index operands of each dtype (int32/int64 take; others refuse) with data of each dtype
INDEXED = {
    "gather": lambda x, i: ad.gather(x, idx(i, [1, 0]), axis=0),
    "gather_nd": lambda x, i: ad.gather_nd(x, idx(i, [[1, 2], [0, 1]])),
    "getitem": lambda x, i: x[idx(i, [1, 0])],
    "getitem_0d": lambda x, i: x[idx(i, 1)],
    "getitem_2": lambda x, i: x[idx(i, [1, 0]), idx(i, [0, 2])],
    "boolean_mask": lambda x, i: ad.boolean_mask(x, idx(i, [1, 0])),
    "scatter_nd": lambda x, i: ad.scatter_nd(idx(i, [[1], [0]]), x, (3, 3)),
    "tensor_scatter_nd_add": lambda x, i: ad.tensor_scatter_nd_add(x, idx(i, [[1, 2]]), ad.cast(ad.array([1]),
                                                                                                    x.dtype)),
    "tensor_scatter_nd_update": lambda x, i: ad.tensor_scatter_nd_update(x, idx(i, [[1]]), x[:1]),
    "scatter_update": lambda x, i: ad.scatter_update(x, idx(i, [[0]]), x[1:]),
    "scatter": lambda x, i: ad.scatter(idx(i, [[0, 1]]), x[0, :1], (2, 2)),
    "one_hot": lambda x, i: ad.one_hot(idx(i, [2, 0]), 3, dtype=x.dtype),
    "random_categorical": lambda x, i: ad.random.categorical(x, 2, dtype=i, seed=1),
}
for (_x, _i) in PAIRS:
    for _name, _f in INDEXED.items():
        _must = _i in ("int32", "int64") and _x != "float16" or (_name == "boolean_mask" and _i != "float16")
        case("indexed", f"{_name}[{_x},idx {_i}]", (lambda f, x, i: lambda: f(T(x), i))(_f, _x, _i), None, None,
             _must and _name not in ("scatter_nd", "tensor_scatter_nd_add", "scatter", "random_categorical"))

# where, clip, scale, increment, add_n over pairs
for (_a, _b) in PAIRS:
    case("misc", f"where[cond {_a},{_b}]", (lambda a, b: lambda: ad.where(T(a), T(b), T(b, (3,))))(_a, _b),
         (lambda a, b: lambda: np.where(A(a) != 0, A(b), A(b, (3,))))(_a, _b), _b, _b != "float16" or True)
    case("misc", f"where[{_a},{_b}]", (lambda a, b: lambda: ad.where(T("bool"), T(a), T(b)))(_a, _b),
         None, promote(_a, _b) if _a != _b else _a)
    case("misc", f"add_n[{_a},{_b}]", (lambda a, b: lambda: ad.add_n([T(a), T(b)]))(_a, _b),
         (lambda a, b: lambda: A(a) + A(b))(_a, _b), arith(_a, _b))
    case("misc", f"clip_by_value[{_a},{_b}]", (lambda a, b: lambda: ad.clip_by_value(T(a), T(b, ()), T(b, ())))(_a, _b))
for _d in DTYPES:
    for _name, _f in (("clip_by_value", lambda x: ad.clip_by_value(x, -1, 2)), ("scale", lambda x: ad.scale(2, x)),
                      ("scale_float", lambda x: ad.scale(0.5, x)), ("increment", lambda x: ad.increment(x, 1, 2)),
                      ("norm_1", lambda x: ad.norm(x, 1, axis=1)), ("reduce_sum_axis", lambda x: ad.reduce_sum(x, 1)),
                      ("reduce_max_axes", lambda x: ad.reduce_max(x, (0, 1), keepdims=True)),
                      ("cumsum_rev", lambda x: ad.cumsum(x, 1, exclusive=True, reverse=True)),
                      ("softmax_mask", lambda x: ad.softmax(ad.cast(x, "float32"), mask=x)),
                      ("softmax_tuple", lambda x: ad.softmax(x, axis=(0, 1))), ("shape", ad.shape),
                      ("function", lambda x: ad.function(lambda a: a + a)(x)),
                      ("function_cast", lambda x: ad.function(lambda a: ad.cast(a, "float32") * 2)(x)),
                      ("gradient", lambda x: _grad(x)), ("jvp", lambda x: ad.jvp(ad.square, x, x)[1]),
                      ("debug_check", lambda x: ad.debug.check_numerics(x, "m"))):
        case("misc", f"{_name}[{_d}]", (lambda f, d: lambda: f(T(d)))(_f, _d))


def _grad(x):
    with ad.GradientTape() as tape:
        tape.watch(x)
        y = ad.reduce_sum(ad.cast(x, "float32") * 2)
    return tape.gradient(y, x)


# Variables: writes of each value dtype into each variable dtype
VAR_WRITES = {
    "assign": lambda v, w: v.assign(w),
    "assign_add": lambda v, w: v.assign_add(w),
    "assign_sub": lambda v, w: v.assign_sub(w),
    "setitem": lambda v, w: v.__setitem__(0, w[0]) or v,
    "setitem_slice": lambda v, w: v[:, 1:].assign(w[:, 1:]),
    "scatter_update": lambda v, w: v.scatter_update(ad.array([1], "int32"), w[:1]),
    "scatter_add": lambda v, w: v.scatter_add(ad.array([1], "int64"), w[:1]),
    "scatter_nd_update": lambda v, w: v.scatter_nd_update(ad.array([[1, 2]], "int32"), w[0, :1]),
    "scatter_nd_add": lambda v, w: v.scatter_nd_add(ad.array([[0, 1]], "int64"), w[0, :1]),
}
for (_v, _w) in PAIRS:
    for _name, _f in VAR_WRITES.items():
        _must = _v == _w and (_name in ("assign", "setitem", "setitem_slice", "scatter_update", "scatter_nd_update")
                              or _v in DTYPES[:4])
        case("variables", f"{_name}[var {_v},{_w}]",
             (lambda f, v, w: lambda: f(ad.Variable(val(v), dtype=v), T(w)).value())(_f, _v, _w), None, _v, _must)
    case("variables", f"setitem_index[var {_v},idx {_w}]",
         (lambda v, i: lambda: ad.Variable(val(v), dtype=v).__setitem__(idx(i, [1, 0]), T(v)))(_v, _w))

# layers on inputs of each dtype (cast to the layer's float32) and layers of each dtype
LAYERS = {
    "Dense": lambda: ad.layers.Dense(2), "Embedding": lambda: ad.layers.Embedding(10, 2),
    "Conv1D": lambda: ad.layers.Conv1D(2, 2), "LSTM": lambda: ad.layers.LSTM(2),
    "BatchNormalization": lambda: ad.layers.BatchNormalization(), "Dropout": lambda: ad.layers.Dropout(0.5),
    "LayerNormalization": lambda: ad.layers.LayerNormalization(), "Flatten": lambda: ad.layers.Flatten(),
}
for _d in DTYPES:
    for _name, _make in LAYERS.items():
        _x = (lambda d, n: lambda: T(d, (2, 3)) if n in ("Dense", "Embedding") else T(d, (2, 2, 3)))(_d, _name)
        _fix = (lambda d: lambda x: ad.abs(x) if d in ("int32", "int64") else x)(_d)
        case("layers", f"{_name}[{_d}]", (lambda m, x, f: lambda: m()(f(x()), training=True))(_make, _x, _fix),
             None, None, _d in (("int32", "int64") if _name == "Embedding" else FLOATS))
        case("layers", f"{_name}(dtype={_d})", (lambda m, x: lambda: _typed(m, x()))(_name, _x))
    for _name in ("MeanSquaredError", "SparseCategoricalCrossentropy", "BinaryCrossentropy", "Hinge"):
        case("layers", f"loss {_name}[{_d}]", (lambda n, d: lambda: _loss(n, d))(_name, _d))


def _typed(name, x):
    kwargs = {"Dense": (2,), "Embedding": (10, 2), "Conv1D": (2, 2), "LSTM": (2,), "Dropout": (0.5,)}
    layer = getattr(ad.layers, name)(*kwargs.get(name, ()), dtype=x.dtype)
    return layer(ad.abs(x) if x.dtype in ("int32", "int64") else x, training=True)


def _loss(name, d):
    loss = getattr(ad.losses, name)()
    if name == "SparseCategoricalCrossentropy":
        return loss(ad.array([1, 0], d), ad.softmax(ad.cast(T("float32"), "float32")))
    return loss(T(d), ad.cast(T(d), "float32") if d != "float16" else T(d))


# edge values: index entries beyond int32, extreme casts and constants, numpy interop, training refusals; and the
# reproducers of the bugs this matrix found (clip_by_value truncated fractional bounds of integer tensors;
# scale/increment named an internal "affine"; sparse losses reported float labels out of range as "cast")
BIG = 2 ** 33
EDGES = {
    "gather[int64 index 2**33]": lambda: ad.gather(T("float32", (3,)), idx("int64", [BIG])),
    "gather[int64 index -2**33]": lambda: ad.gather(T("float32", (3,)), idx("int64", [-BIG])),
    "gather_nd[int64 index 2**33]": lambda: ad.gather_nd(T("int64", (3,)), idx("int64", [[BIG]])),
    "one_hot[int64 index 2**33]": lambda: ad.one_hot(idx("int64", [BIG + 1]), 3),
    "getitem[int64 index 2**33]": lambda: T("bool", (3,))[idx("int64", [BIG])],
    "getitem[0-d int64 index 2**33]": lambda: T("float16", (3,))[idx("int64", BIG)],
    "scatter_nd[int64 index 2**33]": lambda: ad.scatter_nd(idx("int64", [[BIG]]), T("float32", (3,))[:1], (2,)),
    "scatter_update[int64 index 2**33]": lambda: ad.Variable(val("float16", (3,)), dtype="float16").scatter_update(
        idx("int64", [BIG]), T("float16", (3,))[:1]),
    "Embedding[int64 index 2**33]": lambda: ad.layers.Embedding(3, 2)(idx("int64", [BIG])),
    "SparseCategoricalCrossentropy[int64 label 2**33]": lambda: ad.losses.SparseCategoricalCrossentropy()(
        idx("int64", [BIG]), ad.array([[0.5, 0.5]])),
    "SparseCategoricalCrossentropy[float32 label nan]": lambda: ad.losses.SparseCategoricalCrossentropy()(
        ad.array([math.nan]), ad.array([[0.5, 0.5]])),
    "SparseCategoricalCrossentropy[float32 label 1e10]": lambda: ad.losses.SparseCategoricalCrossentropy()(
        ad.array([1e10]), ad.array([[0.5, 0.5]])),
    "cast[float16 60000->int32]": lambda: ad.cast(ad.array([60000.0, -0.0], "float16"), "int32"),
    "cast[int64 2**62->float16]": lambda: ad.cast(idx("int64", [2 ** 62, -2 ** 62]), "float16"),
    "cast[float64 2**63->int64]": lambda: ad.cast(ad.array([2.0 ** 63], "float64"), "int64"),
    "cast[float64 -2**63->int64]": lambda: ad.cast(ad.array([-2.0 ** 63], "float64"), "int64"),
    "cast[float16 inf->int64]": lambda: ad.cast(ad.array([math.inf], "float16"), "int64"),
    "cast[float16 nan->bool]": lambda: ad.cast(ad.array([math.nan, 0.0], "float16"), "bool"),
    "full[float16 70000]": lambda: ad.full((2,), 70000, "float16"),
    "full[int64 2**62]": lambda: ad.full((2,), 2 ** 62, "int64"),
    "full[int32 2**40]": lambda: ad.full((2,), 2 ** 40, "int32"),
    "pad[bool constant True]": lambda: ad.pad(T("bool", (3,)), [[1, 1]], constant_values=True),
    "pad[float16 constant 0.1]": lambda: ad.pad(T("float16", (3,)), [[1, 1]], constant_values=0.1),
    "pad[int64 constant 2**40]": lambda: ad.pad(T("int64", (3,)), [[1, 1]], constant_values=2 ** 40),
    "pad[int32 constant 2.5]": lambda: ad.pad(T("int32", (3,)), [[1, 1]], constant_values=2.5),
    "pad[int64 constant 2.5]": lambda: ad.pad(T("int64", (3,)), [[1, 1]], constant_values=2.5),
    "pad[int32 constant 2**40]": lambda: ad.pad(T("int32", (3,)), [[1, 1]], constant_values=2 ** 40),
    "pad[int32 constant 2**31]": lambda: ad.pad(T("int32", (3,)), [[1, 1]], constant_values=2 ** 31),
    "pad[int32 constant nan]": lambda: ad.pad(T("int32", (3,)), [[1, 1]], constant_values=math.nan),
    "pad[int64 constant 2**63]": lambda: ad.pad(T("int64", (3,)), [[1, 1]], constant_values=2 ** 63),
    "pad[int64 constant 2**62 + 1]": lambda: ad.pad(T("int64", (3,)), [[1, 1]], constant_values=2 ** 62 + 1),
    "pad[int64 constant 2**62 + 1, replayed]": lambda: _replayed(
        lambda x: ad.pad(x, [[1, 0]], constant_values=2 ** 62 + 1), T("int64", (3,))),
    "pad[int64 constant 0-d tensor 2**62 + 1]": lambda: ad.pad(T("int64", (3,)), [[1, 1]],
                                                          constant_values=idx("int64", 2 ** 62 + 1)),
    "full[float16 0-d tensor]": lambda: ad.full((2,), T("float16", ()), "float16"),
    "clip_by_value[float32 list bound]": lambda: ad.clip_by_value(T("float32"), [0], 5),
    "full[int32 nan]": lambda: ad.full((2,), math.nan, "int32"),
    "full[int64 2**62 + 1]": lambda: ad.full((2,), 2 ** 62 + 1, "int64"),
    "ad_fill[int32 2**40]": lambda: _fill_kernel("int32", 2.0 ** 40),
    "ad_fill[int32 nan]": lambda: _fill_kernel("int32", math.nan),
    "ad_fill[int64 2**63]": lambda: _fill_kernel("int64", 2.0 ** 63),
    "ad_fill[int64 -2**63]": lambda: _fill_kernel("int64", -2.0 ** 63),
    "clip_by_value[int32 fractional bounds]": lambda: ad.clip_by_value(idx("int32", [0, 2, 5]), 0.5, 2.5),
    "clip_by_value[int64 fractional bounds]": lambda: ad.clip_by_value(idx("int64", [0, 2, 5]), -0.5, 2.5),
    "clip_by_value[int64 0, inf]": lambda: ad.clip_by_value(idx("int64", [-BIG, BIG]), 0, math.inf),
    "clip_by_value[int32 0, 2**40]": lambda: ad.clip_by_value(idx("int32", [-5, 5]), 0, 2 ** 40),
    "clip_by_value[int64 bounds beyond 2**53]": lambda: ad.clip_by_value(
        idx("int64", [2 ** 62 + 1, 2 ** 62 + 3, -2 ** 62 - 3]), -2 ** 62 - 1, 2 ** 62 + 1),
    "clip_by_value[int64 -inf, 0-d int64 2**62 + 1]": lambda: ad.clip_by_value(
        idx("int64", [2 ** 62 + 1, 2 ** 62 + 3, -2 ** 63]), -math.inf, idx("int64", 2 ** 62 + 1)),
    "scale[int32]": lambda: ad.scale(2, T("int32")), "increment[bool]": lambda: ad.increment(T("bool"), 1),
    "int64 + 2**62": lambda: idx("int64", [1]) + 2 ** 62, "int32 + 2**40": lambda: idx("int32", [1]) + 2 ** 40,
    "top_k[int64 large]": lambda: ad.top_k(idx("int64", [BIG, 3, 2 * BIG]), 2)[0],
    "argmax[int64 large]": lambda: ad.argmax(idx("int64", [BIG, BIG + 1])),
    "reduce_max[int64 empty]": lambda: ad.reduce_max(ad.zeros((0,), "int64")),
    "sort[float16 nan]": lambda: ad.sort(ad.array([math.nan, 1.0, -1.0], "float16")),
    "repeat[int64 repeats]": lambda: ad.repeat(T("int32", (3,)), idx("int64", [1, 2, 0])),
    "repeat[bool repeats]": lambda: ad.repeat(T("int32", (3,)), idx("bool", [1, 0, 1])),
    "tile[int64 multiples]": lambda: ad.tile(T("float16", (3,)), idx("int64", [2])),
    "reshape[int64 shape]": lambda: ad.reshape(T("bool"), idx("int64", [3, 2])),
    "broadcast_to[float16 shape]": lambda: ad.broadcast_to(T("int32", (3,)), ad.array([2, 3], "float16")),
    "split[int64 sizes]": lambda: ad.split(T("int64", (3,)), idx("int64", [1, 2]))[1],
    "where[float16, python 0]": lambda: ad.where(T("bool", (3,)), T("float16", (3,)), 0),
    "assign[float16 var, 70000.0]": lambda: ad.Variable(val("float16", (3,)), dtype="float16").assign(70000.0).value(),
    "assign[int32 var, 2**40]": lambda: ad.Variable(val("int32", (3,))).assign(2 ** 40),
    "SGD[int32 var]": lambda: ad.optimizers.SGD(0.1).apply_gradients(
        [(T("int32", (3,)), ad.Variable(val("int32", (3,))))]),
    "Adam[float16 var]": lambda: ad.optimizers.Adam(0.1).apply_gradients(
        [(T("float16", (3,)), ad.Variable(val("float16", (3,)), dtype="float16"))]),
    "check_numerics[float16 inf]": lambda: ad.debug.check_numerics(ad.array([70000.0], "float16"), "x"),
    "jvp[float16]": lambda: ad.jvp(ad.square, T("float16"), T("float16")),
    "pickle[float16 var]": lambda: pickle.loads(pickle.dumps(ad.Variable(val("float16"), dtype="float16"))),
    "deepcopy[int64]": lambda: copy.deepcopy(idx("int64", [BIG, -BIG])),
}
if np is not None:  # numpy interop (absent in Pyodide)
    EDGES.update({
        "array[numpy float16 strided]": lambda: ad.array(np.arange(6, dtype=np.float16).reshape(2, 3)[:, ::2]),
        "array[numpy bool transposed]": lambda: ad.array(np.arange(6).reshape(2, 3).T > 2),
        "array[numpy uint64 2**63]": lambda: ad.array(np.array([2 ** 63], dtype=np.uint64)),
        "asarray[float16]": lambda: ad.array(np.asarray(T("float16")) * 2),
        "asarray[bool]": lambda: ad.array(np.asarray(T("bool"))[::-1]),
    })
EDGE_REFS = {  # numpy's values where the op is documented for these operands (dtype: numpy's, unless noted)
    "cast[float16 60000->int32]": (lambda: np.array([60000, 0], "int32"), "int32"),
    "cast[int64 2**62->float16]": (lambda: np.array([np.inf, -np.inf], np.float16), "float16"),
    "cast[float16 nan->bool]": (lambda: np.array([True, False]), "bool"),
    "cast[float64 -2**63->int64]": (lambda: np.array([-2 ** 63], "int64"), "int64"),
    "full[float16 70000]": (lambda: np.array([np.inf, np.inf], np.float16), "float16"),
    "full[int64 2**62]": (lambda: np.array([2 ** 62] * 2, "int64"), "int64"),
    "full[int64 2**62 + 1]": (lambda: np.array([2 ** 62 + 1] * 2, "int64"), "int64"),
    "pad[int64 constant 0-d tensor 2**62 + 1]": (
        lambda: np.pad(A("int64", (3,)), 1, constant_values=2 ** 62 + 1), "int64"),
    "full[float16 0-d tensor]": (lambda: np.array([2.5, 2.5], np.float16), "float16"),
    "pad[int64 constant 2**62 + 1]": (lambda: np.pad(A("int64", (3,)), 1, constant_values=2 ** 62 + 1), "int64"),
    "pad[int64 constant 2**62 + 1, replayed]": (lambda: np.array([2 ** 62 + 1, 1, -2, 3]), "int64"),
    "ad_fill[int64 -2**63]": (lambda: np.array([-2 ** 63] * 2), "int64"),
    "pad[bool constant True]": (lambda: np.pad(A("bool", (3,)), 1, constant_values=True), "bool"),
    "pad[float16 constant 0.1]": (lambda: np.pad(A("float16", (3,)), 1, constant_values=0.1), "float16"),
    "pad[int64 constant 2**40]": (lambda: np.pad(A("int64", (3,)), 1, constant_values=2 ** 40), "int64"),
    "clip_by_value[int32 fractional bounds]": (lambda: np.array([0.5, 2, 2.5]), "float32"),
    "clip_by_value[int64 fractional bounds]": (lambda: np.array([0, 2, 2.5]), "float32"),
    "clip_by_value[int64 0, inf]": (lambda: np.array([0, BIG]), "int64"),
    "clip_by_value[int32 0, 2**40]": (lambda: np.array([0, 5]), "int32"),
    "clip_by_value[int64 bounds beyond 2**53]": (lambda: np.array([2 ** 62 + 1, 2 ** 62 + 1, -2 ** 62 - 1]), "int64"),
    "clip_by_value[int64 -inf, 0-d int64 2**62 + 1]": (lambda: np.array([2 ** 62 + 1, 2 ** 62 + 1, -2 ** 63]),
                                                       "int64"),
    "int64 + 2**62": (lambda: np.array([2 ** 62 + 1]), "int64"),
    "int32 + 2**40": (lambda: np.array([2 ** 40 + 1]), "int64"),
    "top_k[int64 large]": (lambda: np.array([2 * BIG, BIG]), "int64"),
    "argmax[int64 large]": (lambda: np.array(1), "int32"),
    "sort[float16 nan]": (lambda: np.array([-1.0, 1.0, np.nan], np.float16), "float16"),
    "repeat[int64 repeats]": (lambda: np.repeat(A("int32", (3,)), [1, 2, 0]), "int32"),
    "tile[int64 multiples]": (lambda: np.tile(A("float16", (3,)), 2), "float16"),
    "reshape[int64 shape]": (lambda: A("bool").reshape(3, 2), "bool"),
    "split[int64 sizes]": (lambda: A("int64", (3,))[1:], "int64"),
    "where[float16, python 0]": (lambda: A("float16", (3,)), "float16"),
    "assign[float16 var, 70000.0]": (lambda: np.array([np.inf] * 3, np.float16), "float16"),
    "array[numpy float16 strided]": (lambda: np.array([[0, 2], [3, 5]], np.float16), "float16"),
    "array[numpy bool transposed]": (lambda: np.arange(6).reshape(2, 3).T > 2, "bool"),
    "asarray[float16]": (lambda: A("float16") * 2, "float16"),
    "asarray[bool]": (lambda: A("bool")[::-1], "bool"),
    "pickle[float16 var]": (lambda: A("float16"), "float16"),
    "deepcopy[int64]": (lambda: np.array([BIG, -BIG]), "int64"),
}
REFUSED = ("clip_by_value[float32 list bound]", "pad[int64 constant 2.5]", "pad[int32 constant 2**40]",
           "pad[int32 constant 2**31]", "pad[int32 constant nan]",
           "pad[int64 constant 2**63]", "full[int32 nan]", "full[int32 2**40]", "ad_fill[int32 2**40]",
           "ad_fill[int32 nan]", "ad_fill[int64 2**63]", "cast[float64 2**63->int64]", "cast[float16 inf->int64]",
           "SparseCategoricalCrossentropy[float32 label nan]", "SparseCategoricalCrossentropy[int64 label 2**33]",
           "gather[int64 index 2**33]", "getitem[int64 index 2**33]", "scatter_update[int64 index 2**33]")
for _name, _call in EDGES.items():
    _ref, _ex = EDGE_REFS.get(_name, (None, None))
    case("edges", _name, _call, _ref, _ex, _ref is not None, refused=_name in REFUSED)


def _replayed(fn, x):
    """fn(x) through an ad.Function, its plan replayed once more."""
    f = ad.function(fn)
    f(x)
    return f(x)


def _fill_kernel(dtype, value):
    """ad_fill called directly: AD_ERANGE (no write) for a value the integer dtype cannot hold, else the tensor."""
    t = ad.zeros((2,), dtype)
    status = B.lib.ad_fill(CODES[dtype], 2, value, t._ptr)
    if status == B.C.AD_ERANGE and t.tolist() == [0, 0]:
        raise ValueError(f"ad_fill: status {status}")
    assert status == 0, status
    return t


# the kernels themselves: every one taking a dtype code returns AD_EDTYPE for a code that is no dtype, and for
# float16 unless it moves elements (or tests them != 0); the other arguments are small valid-
# looking ones over zeroed 64 KB buffers, so a kernel that ignored its dtype would still stay in bounds
HEADER = os.path.join(os.path.dirname(__file__), "..", "csrc", "pyautodiff.h")
MOVING_KERNELS = {"ad_fill", "ad_cast", "ad_copy", "ad_where", "ad_bandpart", "ad_gather", "ad_argsort",
                  "ad_one_hot", "ad_all_finite", "ad_nonzero", "ad_repeat"}


def _kernel_call(name, params, which, code):
    keep, args = [], []
    for ctype, pname in params:
        if "*" in ctype:
            base = header.plain(ctype).rstrip("*")
            if base == "int64_t":
                keep.append(B.i64_array((1,) * 64))
                args.append(keep[-1])
            else:
                owner, ptr = B.alloc(1 << 16, None if base in ("void", "char") else base)
                B.view(ptr, 1 << 16)[:] = bytes(1 << 16)
                keep.append(owner)
                args.append(ptr)
        else:
            args.append(B.C.AD_FLOAT32 if pname.endswith("dtype") else 0.5 if ctype == "double" else 1)
    args[which] = code
    return getattr(B.lib, name)(*args)


def _kernel_case(name, params, which, code):
    def call():
        status, valid = _kernel_call(name, params, which, code), _kernel_call(name, params, which, B.C.AD_FLOAT32)
        want = 0 if code == B.C.AD_FLOAT16 and name in MOVING_KERNELS else B.C.AD_EDTYPE
        if (status != want) if valid == 0 else (status == 0):  # (arguments float32 refuses: any refusal)
            raise AssertionError(f"{name}: status {status} for {params[which][1]} {code} (float32: {valid})")
    return call


if os.path.exists(HEADER):
    with open(HEADER) as f:
        _PROTOS = header.prototypes(f.read())
    for _name, _ret, _params in _PROTOS:
        for _i, (_t, _p) in enumerate(_params):
            if _p.endswith("dtype"):
                for _code in (-1, 99, max(CODES.values()) + 1, B.C.AD_FLOAT16):
                    case("kernels", f"{_name}[{_p} {_code}]", _kernel_case(_name, _params, _i, _code))


# --- running one case ---

def close(got, want, dtype):
    """got, want: numpy arrays; exact for ints/bools, a dtype-sized tolerance for floats (NaN equals NaN)."""
    if got.shape != want.shape:
        return False
    if dtype in ("int32", "int64", "bool"):
        return bool(np.array_equal(got, want.astype(got.dtype)))
    tol = {"float16": 1e-3, "float32": 1e-5, "float64": 1e-12}[dtype]
    return bool(np.allclose(got.astype("float64"), want.astype("float64"), rtol=tol, atol=tol, equal_nan=True))


def run_case(name):
    """None when the case behaves, else what went wrong."""
    call, ref, expect, must, refused = CASES[name]
    op = name.split("[")[0].split("(")[0].replace("loss ", "")
    try:
        out = call()
    except CLEAR as e:
        msg = str(e)
        if must:
            return f"refused a documented case: {type(e).__name__}: {msg}"
        return None if _names_op(op, msg) else f"{type(e).__name__} does not name the op: {msg}"
    except Exception as e:  # noqa: BLE001 (anything else is the bug we look for)
        return f"unclear {type(e).__name__}: {e}"
    if refused:
        return f"accepted operands it must refuse: {out!r}"
    if isinstance(out, ad.Tensor):
        out.tolist()  # every element readable
        if expect is not None and out.dtype != expect:
            return f"result dtype {out.dtype}, the docs give {expect}"
        if expect is None and ref is not None and not must:
            return f"accepted operands the docs refuse (result {out.dtype})"
        if ref is not None and np is not None:
            with np.errstate(all="ignore"):
                want = np.asarray(ref())
            got = np.array(out.tolist(), dtype=np.float16 if out.dtype == "float16" else out.dtype)
            if not close(got, want, out.dtype):
                return f"values {got.tolist()} != numpy's {want.tolist()}"
    return None


# what a case's message may name besides the case's own op: the op an operator or alias calls, the op a variant
# of a case calls, or the part of a layer that refuses (an initializer, a normalization's mean)
NAMED_AS = dict({sym: (name,) for sym, name in OPERATORS.items()}, **{
    "@": ("matmul",), "matmul_batched": ("matmul",), "add_n": ("add",), "swish": ("silu",),
    "reduce_std": ("reduce_variance",), "reduce_logsumexp": ("logsumexp",), "softmax_tuple": ("logsumexp",),
    "pow": ("abs",), "random_categorical": ("categorical",), "random_categorical_out": ("categorical",),
    "random_normal": ("normal",), "random_uniform": ("uniform",), "norm_1": ("norm",),
    "reduce_sum_axis": ("reduce_sum",), "reduce_max_axes": ("reduce_max",), "cumsum_rev": ("cumsum",),
    "function": ("add",), "scatter_update": ("tensor_scatter_nd_update",), "setitem_slice": ("setitem",),
    "setitem_index": ("setitem",),
    "scale_float": ("scale",), "Dense": ("GlorotUniform",), "Conv1D": ("GlorotUniform",),
    "LSTM": ("GlorotUniform",), "Embedding": ("RandomUniform",), "BatchNormalization": ("reduce_mean",),
    "LayerNormalization": ("reduce_mean",), "<": ("less", "greater"), "getitem_0d": ("getitem",),
    "getitem_2": ("getitem",), "index": ("only int32 and int64 tensors",)})  # (index: Python's own protocol)


def _names_op(op, msg):
    layer = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", op).lower()  # a layer's errors name the layer: "dense_3: ..."
    return any(msg.startswith(n) for n in (op, layer) + NAMED_AS.get(op, ()))


def run_group(group, start=0, out=sys.stdout):
    for name in GROUPS[group][start:]:
        print(json.dumps(["start", name]), file=out, flush=True)
        print(json.dumps(["done", name, run_case(name)]), file=out, flush=True)


def _child(group, start):
    code = (f"import sys; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
            f"import test_dtype_matrix as m; m.run_group({group!r}, {start})")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def failures_in_children(group):
    """Each case's outcome; a child that dies is restarted after the case it died in, which fails naming it."""
    failures, done, names = {}, 0, GROUPS[group]
    while done < len(names):
        proc = _child(group, done)
        last = None
        for line in proc.stdout.splitlines():
            kind, name, *rest = json.loads(line)
            last = name
            if kind == "done":
                done = names.index(name) + 1
                if rest[0]:
                    failures[name] = rest[0]
        if proc.returncode != 0:
            crashed = last if last is not None and done < len(names) and names[done] == last else names[done]
            failures[crashed] = f"the process died (status {proc.returncode}): {proc.stderr[-1500:]}"
            done = names.index(crashed) + 1
    return failures


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_dtype_matrix(group):
    if sys.platform == "emscripten":  # no subprocesses: in-process
        failures = {n: r for n in GROUPS[group] if (r := run_case(n))}
    else:
        failures = failures_in_children(group)
    assert not failures, f"{len(failures)} of {len(GROUPS[group])} cases:\n" + "\n".join(
        f"{k}: {v}" for k, v in sorted(failures.items()))


def test_matrix_covers_every_public_op():
    covered = {n.split("[")[0].split("(")[0] for n in CASES}
    functions = {n for n in ad.__all__ if callable(getattr(ad, n)) and not isinstance(getattr(ad, n), type)}
    exempt = {"backend_info", "get_num_threads", "set_num_threads", "custom_gradient", "Input"}  # no tensors in
    missing = functions - covered - exempt
    assert not missing, sorted(missing)


if __name__ == "__main__":
    for g in sys.argv[1:]:
        run_group(g)
