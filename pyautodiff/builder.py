"""The seed's facade: nn = NeuralNetworks(); g = nn.gradient(); K = nn.backend()."""

from types import SimpleNamespace

from . import data, layers, losses, metrics, models, ops, optimizers
from .function import Function, function
from .tape import GradientTape
from .tensor import Variable, as_tensor, constant

# g = nn.gradient(): the autodiff API of the seed's examples, every op of the table with it
_GRADIENT = {**{name: getattr(ops, name) for name in ops.__all__}, "Variable": Variable, "constant": constant,
             "GradientTape": GradientTape, "Function": Function, "function": function}


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
        return SimpleNamespace(**_GRADIENT)

    def backend(self):
        return _Backend()


class _Backend:
    @staticmethod
    def scalar(x) -> float:
        """A Python number from a 0-d (or one-element) tensor."""
        return as_tensor(x).item()
