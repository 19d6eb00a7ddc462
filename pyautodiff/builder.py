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


class _Backend:
    @staticmethod
    def scalar(x) -> float:
        """A Python number from a 0-d (or one-element) tensor."""
        from .tensor import as_tensor
        return as_tensor(x).item()
