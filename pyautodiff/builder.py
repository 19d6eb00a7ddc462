"""The seed's facade: nn = NeuralNetworks(); g = nn.gradient(); K = nn.backend()."""

from types import SimpleNamespace


class NeuralNetworks:
    def gradient(self):
        """Variable, GradientTape, Function and every op, as one namespace."""
        import pyautodiff as ad
        names = {n: getattr(ad, n) for n in ad.__all__}
        return SimpleNamespace(**names)

    def backend(self):
        return _Backend()

    # the model layer's modules, as Rindow's builder offers them: nn.layers.Dense(...), nn.losses...
    @property
    def layers(self):
        from . import layers
        return layers

    @property
    def losses(self):
        from . import losses
        return losses

    @property
    def optimizers(self):
        from . import optimizers
        return optimizers

    @property
    def metrics(self):
        from . import metrics
        return metrics

    @property
    def data(self):
        from . import data
        return data

    @property
    def models(self):
        from . import models
        return models


class _Backend:
    @staticmethod
    def scalar(x) -> float:
        """A Python number from a 0-d (or one-element) tensor."""
        from .tensor import as_tensor
        return as_tensor(x).item()
