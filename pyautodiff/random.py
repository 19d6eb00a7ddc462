"""ad.random: random tensors as Keras 3's keras.random, drawn by the project's one generator (ad_random in
csrc/array.c, a counter-based splitmix64 hash: the same seed gives the same numbers natively and in Pyodide).

seed is an int (the same numbers on every call), a SeedGenerator (a stream: each call draws afresh, also in the
replays of a traced ad.Function, whose kernels advance the stream's counter in C memory), or None (the global
stream, which set_seed restarts)."""

import random as _random

from . import _backend as B
from .dtypes import FLOAT32, FLOAT64, FLOATS, INT32, canonical
from .ops import argmax, cast, expand_dims, gather, log, negative
from .ops._core import as_int, as_ints, as_tensor, code, new_output, normalize_axis, run
from .ops.indexing import argsort
from .tensor import _check_shape

__all__ = ["SeedGenerator", "categorical", "normal", "set_seed", "shuffle", "truncated_normal", "uniform"]


class SeedGenerator:
    """A stream of random draws: (seed, draws so far) in C memory, advanced by each draw (keras.random.SeedGenerator).
    seed None takes one from the operating system."""

    def __init__(self, seed: int | None = None):
        self.seed = _random.randrange(2**62) if seed is None else as_int("SeedGenerator", seed, "seed")
        self.state = B.i64_array((self.seed & 0x7FFFFFFFFFFFFFFF, 0))  # a traced plan keeps it alive

    def get_config(self) -> dict:
        return {"seed": self.seed}

    def __repr__(self) -> str:
        return f"<SeedGenerator seed={self.seed} draws={B.view(self.state, 16).cast('q')[1]}>"


_global = [SeedGenerator()]


def set_seed(seed: int) -> None:
    """Restart the global stream (the one seed=None draws from) at seed: the same draws follow every time."""
    _global[0] = SeedGenerator(seed)


def _draw(name: str, dist: int, shape, dtype, seed, a: float, b: float):
    shape = _check_shape(as_ints(name, shape), name)
    dtype = canonical(dtype, name) or FLOAT32
    if dtype not in FLOATS and not (dtype == INT32 and dist == B.C.AD_UNIFORM):
        raise TypeError(f"{name}: dtype must be float32 or float64{' or int32' if dist == B.C.AD_UNIFORM else ''}, "
                        f"got {dtype}")
    a, b = float(a), float(b)
    if dist != B.C.AD_UNIFORM and not b >= 0:
        raise ValueError(f"{name}: stddev must be >= 0, got {b}")
    if dtype == INT32 and not (a.is_integer() and b.is_integer() and -2**31 <= a < b <= 2**31):
        raise ValueError(f"{name}: int32 draws need integral minval < maxval within int32, got [{a}, {b})")
    y = new_output(name, shape, dtype)
    seed = _global[0] if seed is None else seed
    if isinstance(seed, SeedGenerator):
        run(name, (y,), B.lib.ad_random_next, dist, code(y), y.size, seed.state, a, b, y._ptr)
    else:
        seed = as_int(name, seed, "seed (an int, a SeedGenerator or None)") & 0xFFFFFFFFFFFFFFFF
        run(name, (y,), B.lib.ad_random, dist, code(y), y.size, seed, a, b, y._ptr)
    return y


def normal(shape, mean: float = 0.0, stddev: float = 1.0, dtype=None, seed=None):
    return _draw("normal", B.C.AD_NORMAL, shape, dtype, seed, mean, stddev)


def truncated_normal(shape, mean: float = 0.0, stddev: float = 1.0, dtype=None, seed=None):
    """Normal draws redrawn until within two standard deviations of the mean."""
    return _draw("truncated_normal", B.C.AD_TRUNCATED_NORMAL, shape, dtype, seed, mean, stddev)


def uniform(shape, minval: float = 0.0, maxval: float = 1.0, dtype=None, seed=None):
    """Uniform in [minval, maxval); int32: integers in [minval, maxval)."""
    return _draw("uniform", B.C.AD_UNIFORM, shape, dtype, seed, minval, maxval)


def shuffle(x, axis: int = 0, seed=None):
    """x with its entries along axis in a random order (differentiable in x: a gather)."""
    x = as_tensor(x)
    axis = normalize_axis("shuffle", axis, x.ndim, x)
    order = argsort(uniform((x.shape[axis],), dtype=FLOAT64, seed=seed))  # (53-bit keys: ties never matter)
    return gather(x, order, axis)


def categorical(logits, num_samples: int, dtype="int32", seed=None):
    """num_samples class indices per row of logits (batch, classes), drawn with probabilities softmax(logits)
    (the Gumbel-max trick: the argmax of logits plus -log(-log(u)) noise)."""
    logits = as_tensor(logits)
    num_samples = as_int("categorical", num_samples, "num_samples")
    if logits.ndim != 2 or logits.dtype not in FLOATS or num_samples < 0:
        raise ValueError(f"categorical: expects float logits (batch, classes) and num_samples >= 0, got "
                         f"{logits.shape} {logits.dtype} and {num_samples}")
    if canonical(dtype, "categorical") != INT32:
        raise TypeError(f"categorical: dtype must be int32, got {dtype!r}")
    u = uniform((logits.shape[0], num_samples, logits.shape[1]), dtype=FLOAT64, seed=seed)  # in (0, 1): finite logs
    noise = negative(log(negative(log(u))))
    return argmax(expand_dims(cast(logits, FLOAT64), 1) + noise, axis=-1)
