"""Dense, Activation, Flatten, Dropout and Embedding."""

from .. import ops
from ..ops import nn as fused
from ..dtypes import INT32
from ..initializers import resolve_seed
from ..tensor import shape_size
from .base import Layer, check_last_dim

def _linear(x):  # (a named function, not a lambda: pickle refers to it by name)
    return x


ACTIVATIONS = {"linear": _linear, "sigmoid": ops.sigmoid, "relu": ops.relu, "tanh": ops.tanh,
               "softmax": ops.softmax}


def activation_name(activation) -> str | None:
    """The registered name of an activation (None for a user's callable)."""
    if activation is None:
        return "linear"
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; one of {sorted(ACTIVATIONS)}")
        return activation
    if not callable(activation):
        raise TypeError(f"activation must be a name or a callable, got {activation!r}")
    return None


class Dense(Layer):
    def __init__(self, units: int, activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"Dense {self.name!r}: units must be a positive int, got {units!r}")
        self.units = units
        self.activation = activation_name(activation)
        self._activation_fn = activation if self.activation is None else ACTIVATIONS[self.activation]
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer

    def build(self, input_shape):
        if input_shape is None or len(input_shape) < 1 or not input_shape[-1]:
            raise ValueError(f"Dense {self.name!r}: cannot build for input shape {input_shape}")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer)
        self.bias = self.add_weight("bias", (self.units,), self.bias_initializer) if self.use_bias else None

    def call(self, inputs, training=False):
        check_last_dim(self, inputs, self.kernel.shape[0])
        # the activations the kernel fuses run inside it; the others follow a linear dense
        fusable = self.activation in fused.ACTIVATIONS
        y = fused.dense(inputs, self.kernel, self.bias, self.activation if fusable else "linear", self.name)
        return y if fusable else self._activation_fn(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "use_bias": self.use_bias}


class Activation(Layer):
    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activation_name(activation)
        self._fn = activation if self.activation is None else ACTIVATIONS[self.activation]

    def call(self, inputs, training=False):
        return self._fn(inputs)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation}


class Flatten(Layer):
    def call(self, inputs, training=False):
        if inputs.ndim < 1:
            raise ValueError(f"Flatten {self.name!r}: expects a batch of inputs, got a scalar")
        return ops.reshape(inputs, (inputs.shape[0], shape_size(inputs.shape[1:])))

    def compute_output_shape(self, input_shape):
        if len(input_shape) < 1:
            raise ValueError(f"Flatten {self.name!r}: expects a batch of inputs, got shape {tuple(input_shape)}")
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else shape_size(rest))


class Dropout(Layer):
    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout {self.name!r}: rate must lie in [0, 1), got {rate!r}")
        self.rate = float(rate)
        self.seed = seed
        self._state = fused.RandomState(resolve_seed(seed))

    def call(self, inputs, training=False):
        if not training or self.rate == 0.0:
            return inputs
        return fused.dropout(inputs, self.rate, self._state, self.name)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class Embedding(Layer):
    cast_inputs = False

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform", **kwargs):
        super().__init__(**kwargs)
        for what, v in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(v, int) or v <= 0:
                raise ValueError(f"Embedding {self.name!r}: {what} must be a positive int, got {v!r}")
        self.input_dim, self.output_dim = input_dim, output_dim
        self.embeddings_initializer = embeddings_initializer

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer)

    def call(self, inputs, training=False):
        indices = ops.cast(inputs, INT32)
        try:
            return ops.gather(self.embeddings, indices, axis=0)
        except ValueError:
            raise ValueError(f"Embedding {self.name!r}: indices of shape {inputs.shape} must lie in "
                             f"[0, {self.input_dim})") from None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim}
