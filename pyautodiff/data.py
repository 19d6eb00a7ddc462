"""Datasets: NDArrayDataset batches arrays along their first axis (all copies and shuffles run in C)."""

import random

from . import ops
from .ops import nn as fused
from .tensor import as_tensor


class NDArrayDataset:
    """Iterating yields (inputs, tests) batches as Tensors (tests None when not given).

    With shuffle, each pass draws a new permutation from (seed, pass number): reproducible when seeded.
    The last partial batch is kept, so len() is ceil(samples / batch_size).
    """

    def __init__(self, inputs, tests=None, batch_size: int = 32, shuffle: bool = True, seed: int | None = None):
        self.inputs = as_tensor(inputs, None, "NDArrayDataset")
        self.tests = None if tests is None else as_tensor(tests, None, "NDArrayDataset")
        if self.inputs.ndim == 0:
            raise ValueError("NDArrayDataset: inputs must have a batch axis, got a scalar")
        if self.tests is not None and (self.tests.ndim == 0 or self.tests.shape[0] != self.inputs.shape[0]):
            raise ValueError(f"NDArrayDataset: inputs of shape {self.inputs.shape} and tests of shape "
                             f"{self.tests.shape} must have the same number of samples")
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"NDArrayDataset: batch_size must be a positive int, got {batch_size!r}")
        self.batch_size, self.shuffle = batch_size, shuffle
        self.seed = random.randrange(2**62) if seed is None else int(seed)
        self._passes = 0

    @property
    def samples(self) -> int:
        return self.inputs.shape[0]

    def __len__(self) -> int:
        return (self.samples + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        n, size = self.samples, self.batch_size
        order = fused.permutation(n, self.seed * 1000003 + self._passes) if self.shuffle else None
        self._passes += 1
        for start in range(0, n, size):
            if order is None:
                batch = [None if t is None else t[start:start + size] for t in (self.inputs, self.tests)]
            else:
                index = order[start:start + size]
                batch = [None if t is None else ops.gather(t, index, 0) for t in (self.inputs, self.tests)]
            yield batch[0], batch[1]
