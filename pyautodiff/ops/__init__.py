"""The op table. Each op is defined once, next to its vjp, in one of the grouped modules, which register it
(pyautodiff/optable.py); this package exports the registered functions and gives Tensor its operators."""

from ..optable import ACTIVATIONS, EXPORTED, FUNCTIONS, OPS
from ..tape import stop_gradient
from ..tensor import Tensor, Variable, array, as_tensor, full, ones, ones_like, zeros, zeros_like
from . import elementwise, matmul, reduce, shape  # noqa: F401 - their rows register the ops, in this order
from . import nn  # noqa: F401 - the model layer's fused ops (dense, cross-entropies, dropout) build on the above
from . import pool  # noqa: F401 - pooling, padding and upsampling of channels-last tensors
from . import conv  # noqa: F401 - convolutions and their transposes (csrc/conv.c)
from . import indexing  # noqa: F401 - gather_nd, scatters, sorting, numpy's indexing, Variables' item writes
from . import rnn  # noqa: F401 - recurrent sequences (csrc/rnn.c)
from .shape import scatter_add, unbroadcast  # noqa: F401 - internals the model layer uses

# ad.add, ad.reshape, ... as the rows named them (ops.matmul and ops.shape are the functions, not the modules)
globals().update({name: FUNCTIONS[name] for name in EXPORTED})
sub, mul, div = FUNCTIONS["subtract"], FUNCTIONS["multiply"], FUNCTIONS["divide"]  # the seed's spellings


# --- Tensor's operators and Variable.value: ops, so tapes record them (tensor.py cannot import the ops) ----

def _swap(fn):
    return lambda self, other: fn(other, self)


def _compare(fn):
    def method(self, other):
        try:
            return fn(self, other)
        except (TypeError, ValueError):
            if isinstance(other, (int, float, list, tuple, Tensor)) or hasattr(other, "__array_interface__"):
                raise
            return NotImplemented
    return method


F = FUNCTIONS
Tensor.__add__, Tensor.__radd__ = F["add"], _swap(F["add"])
Tensor.__sub__, Tensor.__rsub__ = F["subtract"], _swap(F["subtract"])
Tensor.__mul__, Tensor.__rmul__ = F["multiply"], _swap(F["multiply"])
Tensor.__truediv__, Tensor.__rtruediv__ = F["divide"], _swap(F["divide"])
Tensor.__pow__, Tensor.__rpow__ = F["pow"], _swap(F["pow"])
Tensor.__matmul__, Tensor.__rmatmul__ = F["matmul"], _swap(F["matmul"])
Tensor.__neg__ = F["negative"]
Tensor.__abs__ = F["abs"]
Tensor.__getitem__ = F["getitem"]
Tensor.__eq__, Tensor.__ne__ = _compare(F["equal"]), _compare(F["not_equal"])
Tensor.__lt__, Tensor.__le__ = _compare(F["less"]), _compare(F["less_equal"])
Tensor.__gt__, Tensor.__ge__ = _compare(F["greater"]), _compare(F["greater_equal"])
Variable.value = lambda self: F["copy"](self)  # a snapshot, differentiable like tf.Variable.value()
Variable.value.__doc__ = "A Tensor holding the current values (a copy: later assigns do not show through)."

NON_DIFFERENTIABLE = {name for name, op in OPS.items() if op.vjp is None}

# what `import pyautodiff` exports (docs/api.md documents each): the ops the rows export, the tensor makers,
# the seed's short spellings; internals (scatter_add, unbroadcast, the tables) stay in this package
__all__ = sorted(EXPORTED | {"Tensor", "array", "full", "ones", "ones_like", "zeros", "zeros_like", "stop_gradient",
                             "sub", "mul", "div"})
