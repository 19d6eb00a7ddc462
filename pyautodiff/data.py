"""Datasets: NDArrayDataset batches arrays along their first axis (all copies and shuffles run in C)."""

import random

from . import ops, pytree
from .ops import nn as fused
from .tensor import Tensor, as_tensor


class NDArrayDataset:
    """Iterating yields (inputs, tests) batches as Tensors (tests None when not given), or (inputs, tests,
    sample_weights) triples when sample_weights (one per sample) are given; inputs and tests may be dicts or
    lists of arrays (models of several inputs or outputs), batched alike.

    With shuffle, each pass draws a new permutation from (seed, pass number): reproducible when seeded.
    The last partial batch is kept, so len() is ceil(samples / batch_size).
    """

    def __init__(self, inputs, tests=None, batch_size: int = 32, shuffle: bool = True, seed: int | None = None,
                 sample_weights=None):
        self.inputs = _structure(inputs, "NDArrayDataset")
        self.tests = None if tests is None else _structure(tests, "NDArrayDataset")
        self.sample_weights = None if sample_weights is None else _structure(sample_weights, "NDArrayDataset")
        first = pytree.flatten(self.inputs)[0][0]
        if first.ndim == 0:
            raise ValueError("NDArrayDataset: inputs must have a batch axis, got a scalar")
        for what, value in (("inputs", self.inputs), ("tests", self.tests), ("sample_weights", self.sample_weights)):
            for t in pytree.flatten(value)[0] if value is not None else ():
                if t.ndim == 0 or t.shape[0] != first.shape[0]:
                    raise ValueError(f"NDArrayDataset: inputs of shape {first.shape} and {what} of shape "
                                     f"{t.shape} must have the same number of samples")
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"NDArrayDataset: batch_size must be a positive int, got {batch_size!r}")
        self.batch_size, self.shuffle = batch_size, shuffle
        self.seed = random.randrange(2**62) if seed is None else int(seed)
        self._passes = 0

    @property
    def samples(self) -> int:
        return pytree.flatten(self.inputs)[0][0].shape[0]

    def __len__(self) -> int:
        return (self.samples + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        n, size = self.samples, self.batch_size
        order = fused.permutation(n, self.seed * 1000003 + self._passes) if self.shuffle else None
        self._passes += 1
        arrays = (self.inputs, self.tests) + (() if self.sample_weights is None else (self.sample_weights,))
        leaves, tree = pytree.flatten(arrays)
        for start in range(0, n, size):
            index = None if order is None else order[start:start + size]
            yield pytree.unflatten(tree, [t if t is None else t[start:start + size] if index is None else
                                          ops.gather(t, index, 0) for t in leaves])


def _structure(value, what: str):
    """A Tensor from an array, or, for models of several inputs or outputs, a dict or a list of arrays (items
    with a shape: Tensors, numpy arrays) as the same structure of Tensors."""
    if isinstance(value, dict) or (isinstance(value, (list, tuple)) and value and
                                   all(hasattr(v, "shape") for v in value)):
        leaves, tree = pytree.flatten(dict(value) if isinstance(value, dict) else list(value),
                                      is_leaf=lambda v: hasattr(v, "shape"))
        if not leaves:
            raise ValueError(f"{what}: an empty dict holds no arrays")
        return pytree.unflatten(tree, [as_tensor(v, None, what) for v in leaves])
    return as_tensor(value, None, what)


def yields_batches(x) -> bool:
    """Whether x yields batches (a dataset, an iterator or generator, any other iterable that is not an array,
    or a list of (x, y) tuples) rather than holding arrays (a Tensor, a numpy array, nested lists)."""
    if isinstance(x, (list, tuple)):
        return bool(x) and isinstance(x[0], tuple)
    return not isinstance(x, (Tensor, dict)) and not hasattr(x, "shape") and hasattr(x, "__iter__")


def _unpack(what: str, item) -> tuple:
    """A batch as (x, y, sample_weight) Tensors, y and sample_weight None when absent: a tuple is (x,), (x, y) or
    (x, y, sample_weight) as Keras reads it; anything else is x alone."""
    if not isinstance(item, tuple):
        item = (item,)
    if not 1 <= len(item) <= 3:
        raise ValueError(f"{what}: a batch must be (x,), (x, y) or (x, y, sample_weight), got {len(item)} items")
    return tuple(None if v is None else _structure(v, what) for v in item + (None,) * (3 - len(item)))


class _Batches:
    """The batches fit, evaluate and predict run: epoch() yields (x, y, sample_weight) triples; steps is the
    number per epoch (None when not known beforehand).

    A re-iterable source (a dataset, a list) is iterated anew each epoch; a one-shot iterator (a generator)
    is read on across epochs, steps_per_epoch batches each (as Keras); `exhausted` tells that an epoch ran out
    of data before its steps."""

    def __init__(self, what: str, source, steps_per_epoch: int | None = None):
        if steps_per_epoch is not None and (not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0):
            raise ValueError(f"{what}: steps_per_epoch must be a positive int, got {steps_per_epoch!r}")
        self.what, self.source, self.steps_per_epoch = what, source, steps_per_epoch
        self.reiterable = iter(source) is not source
        self.steps = steps_per_epoch or (len(source) if hasattr(source, "__len__") else None)
        self.exhausted = False
        self._iterator = None

    def epoch(self):
        if self.steps_per_epoch is None and self.reiterable:
            self._iterator = None
        if self._iterator is None:
            self._iterator = iter(self.source)
        produced, restarted = 0, False
        while self.steps_per_epoch is None or produced < self.steps_per_epoch:
            try:
                item = next(self._iterator)
            except StopIteration:
                if self.steps_per_epoch is not None and self.reiterable and not restarted:
                    self._iterator, restarted = iter(self.source), True  # the next pass continues the epoch
                    continue
                self.exhausted = self.steps_per_epoch is not None or produced == 0
                return
            produced, restarted = produced + 1, False
            yield _unpack(self.what, item)
