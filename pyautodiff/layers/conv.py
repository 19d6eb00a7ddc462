"""Convolution layers as Keras 3 names, configures and lays out their weights, channels-last: Conv1D/2D/3D,
Conv1D/2D/3DTranspose, DepthwiseConv1D/2D, SeparableConv1D/2D. The math is the conv ops (csrc/conv.c); a layer adds its
bias and activation, checks its input and computes output shapes the way Keras does (None stays None)."""

import numbers

from .. import constraints, ops, regularizers
from ..ops import ACTIVATIONS
from ..ops.conv import conv_bias_act
from ..ops.nn import FUSED
from .base import Layer, check_last_dim
from .core import activation_name


def standardize_tuple(layer, value, rank: int, what: str, low: int = 1) -> tuple:
    """An int or `rank` ints, each at least low (Keras' standardize_tuple), as a tuple."""
    values = (value,) * rank if isinstance(value, numbers.Integral) else value
    try:
        values = tuple(values)
    except TypeError:
        values = None
    if values is None or len(values) != rank or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= low for v in values):
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: {what} must be an int or {rank} ints, each at "
                         f"least {low}, got {value!r}")
    return tuple(int(v) for v in values)


def positive_int(layer, value, what: str) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: {what} must be a positive int, got {value!r}")
    return int(value)


def channels_last(layer, data_format) -> str:
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: only data_format='channels_last' (inputs "
                         f"(batch, ..., channels)) is supported, got data_format={data_format!r}")
    return "channels_last"


def standardize_padding(layer, padding, allowed=("valid", "same")) -> str:
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in allowed:
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: padding must be one of "
                         f"{', '.join(map(repr, allowed))}, got {padding!r}")
    return mode


def window_length(layer, n, span: int, stride: int, padding: str):
    """Windows of extent span at this stride along an axis of length n (None: unknown), as Keras counts them."""
    if n is None:
        return None
    if padding != "valid":  # same, causal: the input padded so that every stride starts a window
        return -(-n // stride)
    if span > n:
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: a window of extent {span} does not fit in an input "
                         f"axis of length {n} with padding 'valid'")
    return (n - span) // stride + 1


def check_rank(layer, shape, rank: int) -> None:
    if shape is None or len(shape) != rank + 2:
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: expects inputs of rank {rank + 2} (batch, {rank} "
                         f"spatial axes, channels), got shape {None if shape is None else tuple(shape)}")


class _Conv(Layer):
    """What every convolution layer shares: geometry arguments, bias, activation, input checks, output shapes.
    A subclass gives rank, _kernels(channels) (name, shape, initializer, regularizer, constraint of each kernel, in
    Keras' order),
    _filters(channels) (the output channels) and _convolve(x)."""

    rank = 2
    allowed_padding = ("valid", "same")
    fuses = False  # whether _convolve(x, bias, activation) takes the bias and a fused activation

    def __init__(self, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation=None, use_bias=True, bias_initializer="zeros", bias_regularizer=None, bias_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = standardize_tuple(self, kernel_size, self.rank, "kernel_size")
        self.strides = standardize_tuple(self, strides, self.rank, "strides")
        self.dilation_rate = standardize_tuple(self, dilation_rate, self.rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{type(self).__name__} {self.name!r}: `strides > 1` not supported in conjunction with "
                             f"`dilation_rate > 1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.padding = standardize_padding(self, padding, self.allowed_padding)
        self.data_format = channels_last(self, data_format)
        self.activation = activation_name(activation)
        self._activation_fn = activation if self.activation is None else ACTIVATIONS[self.activation]
        self.use_bias = use_bias
        self.bias_initializer = bias_initializer
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        check_rank(self, input_shape, self.rank)
        channels = input_shape[-1]
        if not channels:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the input's channels must be known, got input "
                             f"shape {tuple(input_shape)}")
        for name, shape, initializer, regularizer, constraint in self._kernels(channels):
            setattr(self, name, self.add_weight(name, shape, initializer, regularizer=regularizer,
                                                constraint=constraint))
        self.bias = self.add_weight("bias", (self._filters(channels),), self.bias_initializer,
                                    regularizer=self.bias_regularizer, constraint=self.bias_constraint) \
            if self.use_bias else None
        self._channels = channels

    def call(self, inputs, training=False):
        check_rank(self, inputs.shape, self.rank)
        check_last_dim(self, inputs, self._channels)
        if self.fuses and self.activation in FUSED:  # the bias and activation applied inside the kernel call
            return self._convolve(inputs, self.bias, self.activation)
        y = self._convolve(inputs)
        if self.bias is not None:
            y = ops.add(y, self.bias)
        return y if self.activation == "linear" else self._activation_fn(y)

    def _spatial(self, input_shape) -> tuple:
        return tuple(window_length(self, n, (k - 1) * d + 1, s, self.padding) for n, k, s, d in
                     zip(input_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate))

    def compute_output_shape(self, input_shape):
        check_rank(self, input_shape, self.rank)
        return (input_shape[0],) + self._spatial(input_shape) + (self._filters(input_shape[-1]),)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": self.activation or self._activation_fn, "use_bias": self.use_bias,
                "bias_initializer": self.bias_initializer, "bias_regularizer": self.bias_regularizer,
                "activity_regularizer": self.activity_regularizer, "bias_constraint": self.bias_constraint}


class Conv(_Conv):
    """Conv1D/2D/3D: kernel (*kernel_size, channels // groups, filters), bias (filters,)."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, bias_constraint, **kwargs)
        self.filters, self.groups = positive_int(self, filters, "filters"), positive_int(self, groups, "groups")
        if self.filters % self.groups:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the number of filters must be evenly divisible "
                             f"by the number of groups. Received: groups={groups}, filters={filters}")
        self.kernel_initializer = kernel_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def _kernels(self, channels):
        if channels % self.groups:
            raise ValueError(f"{type(self).__name__} {self.name!r}: the input's {channels} channels are not "
                             f"divisible by groups={self.groups}")
        return [("kernel", self.kernel_size + (channels // self.groups, self.filters), self.kernel_initializer,
                 self.kernel_regularizer, self.kernel_constraint)]

    def _filters(self, channels):
        return self.filters

    fuses = True

    def _convolve(self, x, bias=None, activation="linear"):
        return conv_bias_act(self.rank, x, self.kernel, bias, activation, self.strides, self.padding,
                             self.dilation_rate, self.groups)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "groups": self.groups,
                "kernel_initializer": self.kernel_initializer, "kernel_regularizer": self.kernel_regularizer,
                "kernel_constraint": self.kernel_constraint}


class Conv1D(Conv):
    rank = 1
    allowed_padding = ("valid", "same", "causal")


class Conv2D(Conv):
    rank = 2


class Conv3D(Conv):
    rank = 3


class ConvTranspose(_Conv):
    """Conv1D/2D/3DTranspose: kernel (*kernel_size, filters, channels), bias (filters,); output sizes as Keras'
    conv_transpose."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, bias_constraint, **kwargs)
        self.filters = positive_int(self, filters, "filters")
        self.output_padding = None if output_padding is None else \
            standardize_tuple(self, output_padding, self.rank, "output_padding", low=0)
        if self.output_padding is not None and any(p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"{type(self).__name__} {self.name!r}: `output_padding` must be strictly less than "
                             f"`strides` for all dimensions. Received: output_padding={self.output_padding}, "
                             f"strides={self.strides}")
        self.kernel_initializer = kernel_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)

    def _kernels(self, channels):
        return [("kernel", self.kernel_size + (self.filters, channels), self.kernel_initializer,
                 self.kernel_regularizer, self.kernel_constraint)]

    def _filters(self, channels):
        return self.filters

    def _convolve(self, x):
        return getattr(ops, f"conv{self.rank}d_transpose")(x, self.kernel, self.strides, self.padding,
                                                            self.output_padding, self.dilation_rate)

    def _spatial(self, input_shape):
        """Keras' compute_conv_transpose_output_shape (backend_utils._get_output_shape_given_tf_padding)."""
        extra = self.output_padding or (None,) * self.rank
        out = []
        for n, k, s, d, p in zip(input_shape[1:-1], self.kernel_size, self.strides, self.dilation_rate, extra):
            span = (k - 1) * d + 1
            if n is None:
                out.append(None)
            elif self.padding == "valid":
                out.append((n - 1) * s + span + (max(span, s) - span if p is None else p))
            else:
                out.append(n * s if p is None else (n - 1) * s + span % 2 + p)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "output_padding": self.output_padding,
                "kernel_initializer": self.kernel_initializer, "kernel_regularizer": self.kernel_regularizer,
                "kernel_constraint": self.kernel_constraint}


class _Depthwise(_Conv):
    """A depthwise stage: kernel (*kernel_size, channels, depth_multiplier), output channel c * m + j from input
    channel c (TensorFlow's order), which is a convolution with one group per input channel."""

    def __init__(self, depth_multiplier, kernel_size, strides, padding, data_format, dilation_rate, activation,
                 use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                 depthwise_constraint, bias_constraint, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, bias_constraint, **kwargs)
        self.depth_multiplier = positive_int(self, depth_multiplier, "depth_multiplier")
        self.depthwise_initializer = depthwise_initializer
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def _depthwise(self, x, kernel):
        channels = kernel.shape[-2]
        grouped = ops.reshape(kernel, self.kernel_size + (1, channels * self.depth_multiplier))
        return getattr(ops, f"conv{self.rank}d")(x, grouped, self.strides, self.padding, self.dilation_rate,
                                                  channels)

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": self.depthwise_initializer,
                "depthwise_regularizer": self.depthwise_regularizer, "depthwise_constraint": self.depthwise_constraint}


class Conv1DTranspose(ConvTranspose):
    rank = 1


class Conv2DTranspose(ConvTranspose):
    rank = 2


class Conv3DTranspose(ConvTranspose):
    rank = 3


class DepthwiseConv(_Depthwise):
    """DepthwiseConv1D/2D: kernel (*kernel_size, channels, depth_multiplier), bias (channels * depth_multiplier,)."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(depth_multiplier, kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)

    def _kernels(self, channels):
        return [("kernel", self.kernel_size + (channels, self.depth_multiplier), self.depthwise_initializer,
                 self.depthwise_regularizer, self.depthwise_constraint)]

    def _filters(self, channels):
        return channels * self.depth_multiplier

    def _convolve(self, x):
        return self._depthwise(x, self.kernel)


class DepthwiseConv1D(DepthwiseConv):
    rank = 1


class DepthwiseConv2D(DepthwiseConv):
    rank = 2


class SeparableConv(_Depthwise):
    """SeparableConv1D/2D, a depthwise convolution then a pointwise one: depthwise_kernel (*kernel_size, channels,
    depth_multiplier), pointwise_kernel (1, ..., 1, channels * depth_multiplier, filters), bias (filters,)."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(depth_multiplier, kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)
        self.filters = positive_int(self, filters, "filters")
        self.pointwise_initializer = pointwise_initializer
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def _kernels(self, channels):
        return [("depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier), self.depthwise_initializer,
                 self.depthwise_regularizer, self.depthwise_constraint),
                ("pointwise_kernel", (1,) * self.rank + (channels * self.depth_multiplier, self.filters),
                 self.pointwise_initializer, self.pointwise_regularizer, self.pointwise_constraint)]

    def _filters(self, channels):
        return self.filters

    def _convolve(self, x):
        return getattr(ops, f"conv{self.rank}d")(self._depthwise(x, self.depthwise_kernel), self.pointwise_kernel)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "pointwise_initializer": self.pointwise_initializer,
                "pointwise_regularizer": self.pointwise_regularizer, "pointwise_constraint": self.pointwise_constraint}


class SeparableConv1D(SeparableConv):
    rank = 1


class SeparableConv2D(SeparableConv):
    rank = 2
