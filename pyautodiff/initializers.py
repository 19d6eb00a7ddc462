"""Weight initializers: seeded and deterministic, drawn by the C kernel ad_random."""

import contextlib
import math
import numbers
import threading

from . import _backend as B, ops
from .dtypes import CODE, FLOAT16, FLOAT32, FLOAT64, FLOATS, ITEMSIZE, canonical
from .errors import check
from .tensor import Tensor, empty, full, shape_size

_next_seed = [20240601]


def resolve_seed(seed: int | None) -> int:
    """The given seed, or the next of a fixed sequence: unseeded runs are still reproducible."""
    if seed is not None:
        return int(seed) & 0xFFFFFFFFFFFFFFFF
    _next_seed[0] += 1
    return _next_seed[0]


def _fans(shape: tuple) -> tuple:
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])  # kernels of shape (..., in, out)
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    def __call__(self, shape, dtype=FLOAT32) -> Tensor:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}


class Constant(Initializer):
    def __init__(self, value: float = 0.0):
        self.value = float(value)

    def __call__(self, shape, dtype=FLOAT32) -> Tensor:
        return full(tuple(shape), self.value, dtype)

    def get_config(self) -> dict:
        return {"value": self.value}


class Zeros(Constant):
    def __init__(self):
        super().__init__(0.0)


class Ones(Constant):
    def __init__(self):
        super().__init__(1.0)


class _Random(Initializer):
    dist = B.C.AD_UNIFORM

    def __init__(self, seed: int | None = None):
        self.seed = seed

    def params(self, shape: tuple) -> tuple:
        raise NotImplementedError

    def __call__(self, shape, dtype=FLOAT32) -> Tensor:
        shape, dtype = tuple(shape), canonical(dtype, type(self).__name__)
        if dtype == FLOAT16:  # stored only: drawn in float32 and rounded (as Orthogonal draws in float64)
            return ops.cast(self(shape, FLOAT32), FLOAT16)
        if dtype not in FLOATS:
            raise TypeError(f"{type(self).__name__}: expects a float dtype, got {dtype}")
        t = empty(shape, dtype)
        a, b = self.params(shape)
        check(type(self).__name__, B.lib.ad_random(self.dist, CODE[dtype], t.size, resolve_seed(self.seed), a, b, t._ptr))
        return t

    def get_config(self) -> dict:
        return {"seed": self.seed}


class RandomUniform(_Random):
    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def params(self, shape):
        return self.minval, self.maxval

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(_Random):
    dist = B.C.AD_NORMAL

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def params(self, shape):
        return self.mean, self.stddev

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal draws redrawn beyond two standard deviations (Keras' TruncatedNormal; stddev is the untruncated one)."""

    dist = B.C.AD_TRUNCATED_NORMAL

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(mean, stddev, seed)


# the standard deviation of a standard normal truncated at two standard deviations
_TRUNCATED_STDDEV = 0.87962566103423978


class VarianceScaling(_Random):
    """Keras' VarianceScaling: variance scale / n, n the fan_in, fan_out or their mean ("fan_avg") of the shape
    (kernels (..., in, out) count the receptive field); drawn from a normal truncated at two standard deviations
    (scaled up so the variance holds), an untruncated normal, or a uniform of limit sqrt(3 scale / n)."""

    def __init__(self, scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal",
                 seed: int | None = None):
        super().__init__(seed)
        if not scale > 0:
            raise ValueError(f"{type(self).__name__}: scale must be positive, got {scale!r}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"{type(self).__name__}: mode must be 'fan_in', 'fan_out' or 'fan_avg', got {mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"{type(self).__name__}: distribution must be 'truncated_normal', "
                             f"'untruncated_normal' or 'uniform', got {distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution
        self.dist = {"truncated_normal": B.C.AD_TRUNCATED_NORMAL, "untruncated_normal": B.C.AD_NORMAL,
                     "uniform": B.C.AD_UNIFORM}[distribution]

    def params(self, shape):
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            return -limit, limit
        stddev = math.sqrt(variance)
        return 0.0, stddev / _TRUNCATED_STDDEV if self.distribution == "truncated_normal" else stddev

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _variance_scaling(name: str, scale: float, mode: str, distribution: str, doc: str):
    """A VarianceScaling with fixed arguments, taking only a seed (Keras' GlorotUniform, HeNormal, ...)."""
    def __init__(self, seed: int | None = None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self) -> dict:
        return {"seed": self.seed}
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc,
                                           "__module__": __name__})


GlorotUniform = _variance_scaling("GlorotUniform", 1.0, "fan_avg", "uniform", "uniform, limit sqrt(6 / (in + out))")
GlorotNormal = _variance_scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal", "stddev sqrt(2 / (in + out))")
HeUniform = _variance_scaling("HeUniform", 2.0, "fan_in", "uniform", "uniform, limit sqrt(6 / in)")
HeNormal = _variance_scaling("HeNormal", 2.0, "fan_in", "truncated_normal", "stddev sqrt(2 / in)")
LecunUniform = _variance_scaling("LecunUniform", 1.0, "fan_in", "uniform", "uniform, limit sqrt(3 / in)")
LecunNormal = _variance_scaling("LecunNormal", 1.0, "fan_in", "truncated_normal", "stddev sqrt(1 / in)")


class Orthogonal(Initializer):
    """gain times an orthogonal matrix (Keras' Orthogonal): a normal matrix of shape (prod(shape[:-1]),
    shape[-1]) made orthonormal along its shorter side by Gram-Schmidt (each step C ops on whole vectors; the
    positive diagonal of R is Keras' sign-corrected QR)."""

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        self.gain, self.seed = float(gain), seed

    def __call__(self, shape, dtype=FLOAT32) -> Tensor:
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: needs a shape of rank 2 or more, got {shape}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        vectors, length = min(rows, cols), max(rows, cols)
        a = RandomNormal(0.0, 1.0, resolve_seed(self.seed))((vectors, length), FLOAT64)
        q = None  # the orthonormal rows so far
        for i in range(vectors):
            v = a[i:i + 1]
            for _ in range(2):  # Gram-Schmidt twice keeps orthogonality to rounding (Giraud et al.)
                if q is not None:
                    v = ops.subtract(v, ops.matmul(ops.matmul(v, q, transpose_b=True), q))
            v = ops.divide(v, ops.sqrt(ops.reduce_sum(ops.square(v))))
            q = v if q is None else ops.concat([q, v], 0)
        q = ops.scale(self.gain, q if rows < cols else ops.transpose(q))
        return ops.cast(ops.reshape(q, shape), canonical(dtype, "Orthogonal"))

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


ALIASES = {"zeros": Zeros, "zero": Zeros, "ones": Ones, "one": Ones, "constant": Constant,
           "uniform": RandomUniform, "random_uniform": RandomUniform, "normal": RandomNormal,
           "random_normal": RandomNormal, "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
           "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform,
           "he_normal": HeNormal, "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
           "orthogonal": Orthogonal}
ALIASES.update({cls.__name__: cls for cls in set(ALIASES.values())})


_limit = threading.local()  # .left: bytes the weights made on this thread may still take (None: no limit)


@contextlib.contextmanager
def allocation_limit(nbytes: int):
    """While a model is built from an untrusted file's config, its weights together may take at most nbytes
    (what the file holds): a config asking for a weight of terabytes fails before allocating it."""
    outer = getattr(_limit, "left", None)
    _limit.left = nbytes
    try:
        yield
    finally:
        _limit.left = outer


def reserve(nbytes: int, what: str) -> None:
    """Count nbytes against the allocation limit, if any (ValueError when they exceed it)."""
    left = getattr(_limit, "left", None)
    if left is not None:
        if nbytes > left:
            raise ValueError(f"{what}: {nbytes} bytes exceed the {left} bytes the file still holds")
        _limit.left = left - nbytes


def make(initializer, shape: tuple, dtype: str, what: str) -> Tensor:
    """A new weight's value: initializer (a name, an Initializer or a callable) at shape and dtype."""
    if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 0 for d in shape):
        raise ValueError(f"{what}: a weight's shape must be sizes >= 0, got {shape}")
    shape = tuple(int(d) for d in shape)
    reserve(shape_size(shape) * ITEMSIZE[dtype], what)
    return get(initializer)(shape, dtype)


def get(identifier) -> Initializer:
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str) and identifier in ALIASES:
        return ALIASES[identifier]()
    if callable(identifier):
        return identifier
    raise ValueError(f"unknown initializer {identifier!r}; one of {sorted(ALIASES)}")
