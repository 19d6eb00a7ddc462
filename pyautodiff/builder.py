"""The seed's facade: nn = NeuralNetworks(); g = nn.gradient(); K = nn.backend()."""

from types import SimpleNamespace

import pyautodiff as ad  # (the package imports this module last: by a first call everything is there)

from . import data, layers, losses, metrics, models, optimizers
from .tensor import as_tensor


class NeuralNetworks:
    # the model layer's modules, as Rindow's builder offers them: nn.layers.Dense(...), nn.losses...
    layers = layers
    losses = losses
    optimizers = optimizers
    metrics = metrics
    data = data
    models = models

    def gradient(self):
        """Variable, GradientTape, Function and every op, as one namespace."""
        return SimpleNamespace(**{n: getattr(ad, n) for n in ad.__all__})

    def backend(self):
        return _Backend()


class _Backend:
    @staticmethod
    def scalar(x) -> float:
        """A Python number from a 0-d (or one-element) tensor."""
        return as_tensor(x).item()
