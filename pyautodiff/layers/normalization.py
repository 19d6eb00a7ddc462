"""BatchNormalization and LayerNormalization: over the last axis one fused op each way (ops.nn.normalize), along
another axis (or in float16) written with ops."""

from .. import constraints, ops, regularizers
from ..dtypes import FLOATS
from ..ops import nn as fused
from .base import Layer


class _Normalization(Layer):
    def __init__(self, axis: int = -1, epsilon: float = 1e-3, center: bool = True, scale: bool = True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.epsilon, self.center, self.scale = axis, float(epsilon), center, scale
        self.beta_initializer, self.gamma_initializer = beta_initializer, gamma_initializer
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def _axis(self, ndim: int) -> int:
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"{type(self).__name__} {self.name!r}: axis {self.axis} is out of range for "
                             f"inputs of rank {ndim}")
        return self.axis % ndim

    def build(self, input_shape):
        axis = self._axis(len(input_shape))
        self._features = input_shape[axis]
        shape = (self._features,)
        self.gamma = self.add_weight("gamma", shape, self.gamma_initializer, regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight("beta", shape, self.beta_initializer, regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None

    def _check(self, x):
        axis = self._axis(x.ndim)
        if x.shape[axis] != self._features:
            raise ValueError(f"{type(self).__name__} {self.name!r}: expected {self._features} features on axis "
                             f"{self.axis}, got inputs of shape {x.shape}")
        return axis

    def _affine(self, x, mean, variance, axis, centered=None):
        """(x - mean) / sqrt(variance + epsilon) * gamma + beta, the parameters broadcast along axis (centered: x -
        mean where the caller has it). The division is a product with the reciprocal, computed once per mean: its
        gradient takes fewer passes over x than a division's."""
        bshape = tuple(d if i == axis else 1 for i, d in enumerate(x.shape))
        centered = ops.subtract(x, mean) if centered is None else centered
        y = ops.multiply(centered, ops.reciprocal(ops.sqrt(ops.increment(variance, self.epsilon))))
        if self.gamma is not None:
            y = ops.multiply(y, ops.reshape(self.gamma, bshape))
        if self.beta is not None:
            y = ops.add(y, ops.reshape(self.beta, bshape))
        return y

    def _fused(self, inputs, axis: int, by_column: bool):
        """(y, mean, variance) by the fused kernels, the inputs seen as (everything else, features) when they
        normalize the last axis (the layers' default) in float32 or float64; None otherwise."""
        if axis != inputs.ndim - 1 or inputs.dtype not in FLOATS:
            return None
        flat = inputs.ndim == 2  # (else a reshape: of a Variable, a copy)
        x = inputs if flat else ops.reshape(inputs, (inputs.size // max(1, self._features), self._features))
        y, mean, variance = fused.normalize(x, self.gamma, self.beta, self.epsilon, by_column)
        return y if flat else ops.reshape(y, inputs.shape), mean, variance

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "beta_initializer": self.beta_initializer,
                "gamma_initializer": self.gamma_initializer, "beta_regularizer": self.beta_regularizer,
                "gamma_regularizer": self.gamma_regularizer, "beta_constraint": self.beta_constraint,
                "gamma_constraint": self.gamma_constraint}


class BatchNormalization(_Normalization):
    """Normalizes over the batch while training; at inference uses moving statistics (non-trainable)."""

    def __init__(self, axis: int = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 moving_mean_initializer="zeros", moving_variance_initializer="ones", **kwargs):
        super().__init__(axis, epsilon, **kwargs)
        self.momentum = float(momentum)
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer

    def build(self, input_shape):
        super().build(input_shape)
        shape = (self._features,)
        self.moving_mean = self.add_weight("moving_mean", shape, self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape, self.moving_variance_initializer,
                                               trainable=False)

    def call(self, inputs, training=False):
        axis = self._check(inputs)
        bshape = tuple(d if i == axis else 1 for i, d in enumerate(inputs.shape))
        if not training:
            return self._affine(inputs, ops.reshape(self.moving_mean, bshape),
                                ops.reshape(self.moving_variance, bshape), axis)
        out = self._fused(inputs, axis, by_column=True)
        if out is None:
            reduce_axes = tuple(i for i in range(inputs.ndim) if i != axis)
            mean = ops.reduce_mean(inputs, reduce_axes, keepdims=True)
            centered = ops.subtract(inputs, mean)
            variance = ops.reduce_mean(ops.square(centered), reduce_axes, keepdims=True)
            y = self._affine(inputs, mean, variance, axis, centered)
        else:
            y, mean, variance = out  # (mean and variance are not differentiable)
        for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
            fused.moving_average(moving, batch, self.momentum)  # (in place, not recorded: no gradient flows)
        return y

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum,
                "moving_mean_initializer": self.moving_mean_initializer,
                "moving_variance_initializer": self.moving_variance_initializer}


class LayerNormalization(_Normalization):
    """Normalizes each sample over its features (the last axis by default)."""

    def call(self, inputs, training=False):
        axis = self._check(inputs)
        out = self._fused(inputs, axis, by_column=False)
        if out is not None:
            return out[0]
        mean = ops.reduce_mean(inputs, axis, keepdims=True)
        centered = ops.subtract(inputs, mean)
        variance = ops.reduce_mean(ops.square(centered), axis, keepdims=True)
        return self._affine(inputs, mean, variance, axis, centered)
