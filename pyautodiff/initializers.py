"""Weight initializers: seeded and deterministic, drawn by the C kernel ad_random."""

import math

from . import _backend as B
from .dtypes import CODE, FLOAT32, FLOATS, canonical
from .errors import check
from .tensor import Tensor, empty, full

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


class GlorotUniform(_Random):
    def params(self, shape):
        fan_in, fan_out = _fans(shape)
        limit = math.sqrt(6.0 / max(fan_in + fan_out, 1))
        return -limit, limit


class HeNormal(_Random):
    dist = B.C.AD_TRUNCATED_NORMAL

    def params(self, shape):
        # truncated at two standard deviations, so the stddev is corrected as Keras does
        fan_in, _ = _fans(shape)
        return 0.0, math.sqrt(2.0 / max(fan_in, 1)) / 0.87962566103423978


ALIASES = {"zeros": Zeros, "ones": Ones, "glorot_uniform": GlorotUniform, "he_normal": HeNormal,
           "uniform": RandomUniform, "random_uniform": RandomUniform, "normal": RandomNormal,
           "random_normal": RandomNormal}


def get(identifier) -> Initializer:
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str) and identifier in ALIASES:
        return ALIASES[identifier]()
    if callable(identifier):
        return identifier
    raise ValueError(f"unknown initializer {identifier!r}; one of {sorted(ALIASES)}")
