"""Dense, Activation, Flatten, Dropout and Embedding."""

from .. import constraints, ops, pytree, regularizers
from ..ops import ACTIVATIONS
from ..ops import nn as fused
from ..dtypes import INTS
from ..initializers import resolve_seed
from ..tensor import shape_size
from .base import Layer, check_last_dim


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
    supports_masking = True

    def __init__(self, units: int, activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(f"Dense {self.name!r}: units must be a positive int, got {units!r}")
        self.units = units
        self.activation = activation_name(activation)
        self._activation_fn = activation if self.activation is None else ACTIVATIONS[self.activation]
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        if input_shape is None or len(input_shape) < 1 or not input_shape[-1]:
            raise ValueError(f"Dense {self.name!r}: cannot build for input shape {input_shape}")
        self.kernel = self.add_weight("kernel", (input_shape[-1], self.units), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self.add_weight("bias", (self.units,), self.bias_initializer, regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None

    def call(self, inputs, training=False):
        check_last_dim(self, inputs, self.kernel.shape[0])
        # the activations the kernel fuses run inside it; the others follow a linear dense
        fusable = self.activation in fused.FUSED
        y = fused.dense(inputs, self.kernel, self.bias, self.activation if fusable else "linear", self.name)
        return y if fusable else self._activation_fn(y)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation or self._activation_fn,
                "use_bias": self.use_bias, "kernel_initializer": self.kernel_initializer,
                "bias_initializer": self.bias_initializer, "kernel_regularizer": self.kernel_regularizer,
                "bias_regularizer": self.bias_regularizer, "kernel_constraint": self.kernel_constraint,
                "bias_constraint": self.bias_constraint}


class Activation(Layer):
    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activation_name(activation)
        self._fn = activation if self.activation is None else ACTIVATIONS[self.activation]

    def call(self, inputs, training=False):
        return self._fn(inputs)

    def get_config(self):
        return {**super().get_config(), "activation": self.activation or self._fn}


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
    supports_masking = True

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

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.mask_zero = self.supports_masking = bool(mask_zero)  # index 0 then pads: the mask says where
        for what, v in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(v, int) or v <= 0:
                raise ValueError(f"Embedding {self.name!r}: {what} must be a positive int, got {v!r}")
        self.input_dim, self.output_dim = input_dim, output_dim
        self.embeddings_initializer = embeddings_initializer
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          self.embeddings_initializer, regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)

    def call(self, inputs, training=False):
        if inputs.dtype not in INTS:  # a float index such as 1.7 names no row (Keras would truncate it to 1)
            raise TypeError(f"Embedding {self.name!r}: indices must be integers (int32 or int64), got {inputs.shape} "
                            f"{inputs.dtype}")
        try:
            return ops.gather(self.embeddings, inputs, axis=0)
        except ValueError:
            raise ValueError(f"Embedding {self.name!r}: indices of shape {inputs.shape} must lie in "
                             f"[0, {self.input_dim})") from None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs, 0) if self.mask_zero else None

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": self.embeddings_initializer,
                "embeddings_regularizer": self.embeddings_regularizer, "activity_regularizer": self.activity_regularizer,
                "embeddings_constraint": self.embeddings_constraint, "mask_zero": self.mask_zero}


class Permute(Layer):
    """Reorders the axes after the batch axis: dims is a permutation of 1..rank-1 (the batch axis is 0)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(dims) if isinstance(dims, (list, tuple)) else None
        if dims is None or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"Permute {self.name!r}: dims must be a permutation of 1..n (the batch axis is 0), "
                             f"got {dims!r}")
        self.dims = tuple(int(d) for d in dims)

    def _check(self, shape):
        if len(shape) != len(self.dims) + 1:
            raise ValueError(f"Permute {self.name!r}: dims {self.dims} need inputs of rank {len(self.dims) + 1}, "
                             f"got shape {tuple(shape)}")

    def call(self, inputs, training=False):
        self._check(inputs.shape)
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """(batch, features) to (batch, n, features): each sample n times."""

    def __init__(self, n: int, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise ValueError(f"RepeatVector {self.name!r}: n must be a positive int, got {n!r}")
        self.n = n

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"RepeatVector {self.name!r}: expects inputs of shape (batch, features), got "
                             f"{tuple(input_shape)}")
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs, training=False):
        self.compute_output_shape(inputs.shape)
        return ops.repeat(ops.expand_dims(inputs, 1), self.n, axis=1)

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class ExpandDims(Layer):
    """Rindow's ExpandDims: a size-1 axis inserted at `axis` of each sample's shape (the batch axis is not
    counted): axis 0 gives (batch, 1, ...), -1 appends one, as numpy's expand_dims on a sample."""

    def __init__(self, axis: int, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"ExpandDims {self.name!r}: axis must be an int, got {axis!r}")
        self.axis = axis

    def _position(self, shape) -> int:
        """axis as an index of the batched output's shape"""
        rank = len(shape) - 1  # a sample's rank
        if not -rank - 1 <= self.axis <= rank:
            raise ValueError(f"ExpandDims {self.name!r}: axis {self.axis} is out of range for samples of shape "
                             f"{tuple(shape[1:])} (allowed {-rank - 1} to {rank})")
        return self.axis + 1 if self.axis >= 0 else rank + 2 + self.axis

    def compute_output_shape(self, input_shape):
        at = self._position(input_shape)
        return tuple(input_shape[:at]) + (1,) + tuple(input_shape[at:])

    def call(self, inputs, training=False):
        return ops.expand_dims(inputs, self._position(inputs.shape))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Lambda(Layer):
    """function(inputs, **arguments) as a layer (no weights). In a functional model its output shape is
    output_shape (a shape without the batch axis, or a function of the input shape) or, when None, that of
    function run once on zeros (unknown sizes taken as 1)."""

    cast_inputs = False

    def __init__(self, function, output_shape=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda {self.name!r}: function must be callable, got {type(function).__name__}")
        self.function, self.output_shape_arg, self.arguments = function, output_shape, dict(arguments or {})

    def call(self, inputs, training=False):
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape):
        if callable(self.output_shape_arg):
            return tuple(self.output_shape_arg(input_shape))
        leaves, tree = pytree.flatten(input_shape, is_leaf=lambda s: isinstance(s, tuple))
        batch = leaves[0][0] if leaves and leaves[0] else None
        if self.output_shape_arg is not None:
            return (batch,) + tuple(self.output_shape_arg)
        zeros = pytree.unflatten(tree, [ops.zeros(tuple(1 if d is None else d for d in s), self.dtype)
                                        for s in leaves])
        out_leaves, out_tree = pytree.flatten(self.call(zeros))
        return pytree.unflatten(out_tree, [(batch,) + t.shape[1:] for t in out_leaves])

    def get_config(self):
        return {**super().get_config(), "function": self.function, "output_shape": self.output_shape_arg,
                "arguments": self.arguments}
