"""Convolutions (csrc/conv.c): conv1d/2d/3d and their transposes, channels-last, with Keras' kernel layouts.

One kernel computes a convolution, its input gradient (a transposed convolution) and its kernel gradient (the
correlation of x with dy). Each of the three is an op whose vjp is written with the other two (all are linear in
each operand), so nested tapes give every higher order. A geometry tuple (see _words) describes the problem as
the forward convolution sees it; a transposed convolution is the input gradient of its forward convolution.
conv_bias_act, the Conv layers' forward, adds the bias and a fused activation inside the same kernel call.
"""

from .. import _backend as B
from .. import _gemm_tune
from ..tensor import Tensor, as_tensor, shape_size
from ._core import C, as_int, as_ints, code, defop, describe, emit, i64, lib, need_float, out_like, public, run
from .nn import FUSED, bias_act_grad
from .shape import coerce, reshape

# geometry: (batch, groups, in_channels, out_channels, ((input, kernel, output, stride, dilation, pad), ...))


def _x_shape(geom) -> tuple:
    return (geom[0],) + tuple(a[0] for a in geom[4]) + (geom[2],)


def _w_shape(geom) -> tuple:
    return tuple(a[1] for a in geom[4]) + (geom[2] // geom[1], geom[3])


def _y_shape(geom) -> tuple:
    return (geom[0],) + tuple(a[2] for a in geom[4]) + (geom[3],)


def _words(geom) -> tuple:
    """ad_conv's geom argument (csrc/pyautodiff.h)."""
    return geom[:4] + tuple(v for axis in geom[4] for v in axis)


_OUT_SHAPE = {C.AD_CONV_FORWARD: _y_shape, C.AD_CONV_INPUT_GRAD: _x_shape, C.AD_CONV_KERNEL_GRAD: _w_shape}


def _macs(geom) -> int:
    """Multiply-adds of the convolution (and of either of its gradients): every output against its window."""
    return geom[0] * shape_size(tuple(a[1] * a[2] for a in geom[4])) * geom[2] // geom[1] * geom[3]


def _apply(mode: int, name: str, geom, a: Tensor, b: Tensor) -> Tensor:
    out = out_like(_OUT_SHAPE[mode](geom), a.dtype)
    if _gemm_tune.pending:  # (the convolutions run on the GEMM's plans too)
        _gemm_tune.first_product(_macs(geom))
    run(name, (a, b), lib.ad_conv, mode, code(a), len(geom[4]), i64(_words(geom)), a._ptr, b._ptr, out._ptr)
    return emit(_OPS[mode], (a, b), out, {"geom": geom, "name": name})


def _conv_vjp(g, n, needs):  # y = conv(x, w)
    x, w = n.inputs[:2]
    geom, name = n.attrs["geom"], n.attrs["name"]
    return (_apply(C.AD_CONV_INPUT_GRAD, name, geom, g, w) if needs[0] else None,
            _apply(C.AD_CONV_KERNEL_GRAD, name, geom, x, g) if needs[1] else None)


def _input_grad_vjp(g, n, needs):  # dx = conv_input_grad(dy, w)
    dy, w = n.inputs
    geom, name = n.attrs["geom"], n.attrs["name"]
    return (_apply(C.AD_CONV_FORWARD, name, geom, g, w) if needs[0] else None,
            _apply(C.AD_CONV_KERNEL_GRAD, name, geom, g, dy) if needs[1] else None)


def _kernel_grad_vjp(g, n, needs):  # dw = conv_kernel_grad(x, dy)
    x, dy = n.inputs
    geom, name = n.attrs["geom"], n.attrs["name"]
    return (_apply(C.AD_CONV_INPUT_GRAD, name, geom, dy, g) if needs[0] else None,
            _apply(C.AD_CONV_FORWARD, name, geom, x, g) if needs[1] else None)


def _bias_act_vjp(g, n, needs):  # y = act(conv(x, w) + b): dz = g * act'(y) and db in one pass, then conv's
    x, w = n.inputs[:2]
    y = n.outputs[0]
    rows = (shape_size(y.shape[:-1]), y.shape[-1])
    dz, db = bias_act_grad(reshape(y, rows), reshape(g, rows), n.attrs["act"])
    return _conv_vjp(reshape(dz, y.shape), n, needs) + ((db,) if len(n.inputs) == 3 else ())


CONV_BIAS_ACT = defop("conv_bias_act", _bias_act_vjp)
_OPS = {C.AD_CONV_FORWARD: defop("conv", _conv_vjp),
        C.AD_CONV_INPUT_GRAD: defop("conv_input_grad", _input_grad_vjp),
        C.AD_CONV_KERNEL_GRAD: defop("conv_kernel_grad", _kernel_grad_vjp)}


# --- arguments -------------------------------------------------------------------------------------------

def _operands(name: str, nsp: int, x, kernel) -> tuple:
    if not (isinstance(x, Tensor) and isinstance(kernel, Tensor) and x.dtype == kernel.dtype):
        x, kernel = coerce(name, x, kernel)
    need_float(name, x, kernel)
    if x.ndim != nsp + 2 or kernel.ndim != nsp + 2:
        raise ValueError(f"{name}: expects an input of rank {nsp + 2} (batch, {nsp} spatial, channels) and a "
                         f"kernel of rank {nsp + 2}, got input and kernel {describe(x, kernel)}")
    if 0 in x.shape[1:] or 0 in kernel.shape:
        raise ValueError(f"{name}: empty spatial, channel or kernel dimension in input and kernel "
                         f"{describe(x, kernel)}")
    return x, kernel


def _per_axis(name: str, value, nsp: int, what: str, low: int) -> tuple:
    values = as_ints(name, value, what)
    if len(values) == 1:
        values *= nsp
    if len(values) != nsp or any(v < low for v in values):
        raise ValueError(f"{name}: {what} must be an int or {nsp} ints, each at least {low}, got {value!r}")
    return values


def _padding(name: str, padding, allowed: tuple) -> str:
    mode = padding.lower() if isinstance(padding, str) else padding
    if mode not in allowed:
        raise ValueError(f"{name}: padding must be one of {', '.join(map(repr, allowed))}, got {padding!r}")
    return mode


def _conv_axis(name, x, kernel, n, k, stride, dil, padding) -> tuple:
    """(input, kernel, output, stride, dilation, pad before) of one axis, as Keras/TensorFlow pad."""
    span = (k - 1) * dil + 1
    if padding == "same":
        out = -(-n // stride)
        return n, k, out, stride, dil, max((out - 1) * stride + span - n, 0) // 2
    if padding == "causal":
        return n, k, (n - 1) // stride + 1, stride, dil, span - 1
    if span > n:
        raise ValueError(f"{name}: the kernel (dilated extent {span}) is larger than the input ({n}) with "
                         f"padding 'valid': input and kernel {describe(x, kernel)}")
    return n, k, (n - span) // stride + 1, stride, dil, 0


def _conv_geometry(name: str, nsp: int, x, kernel, strides, padding, dilation_rate, groups) -> tuple:
    """(x, kernel, geometry) of a convolution, checked."""
    x, kernel = _operands(name, nsp, x, kernel)
    strides = _per_axis(name, strides, nsp, "strides", 1)
    dilation = _per_axis(name, dilation_rate, nsp, "dilation_rate", 1)
    padding = _padding(name, padding, ("valid", "same", "causal") if nsp == 1 else ("valid", "same"))
    groups = as_int(name, groups, "groups")
    if max(strides) > 1 and max(dilation) > 1:
        raise ValueError(f"{name}: `strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                         f"Received: strides={strides} and dilation_rate={dilation}")
    cin, cout = x.shape[-1], kernel.shape[-1]
    if groups < 1 or cin % groups or cout % groups or kernel.shape[-2] * groups != cin:
        raise ValueError(f"{name}: input channels {cin} with groups={groups} need a kernel of shape "
                         f"(..., {cin // groups if groups >= 1 and cin % groups == 0 else '?'}, C_out) with C_out "
                         f"divisible by groups; got input and kernel {describe(x, kernel)}")
    axes = tuple(_conv_axis(name, x, kernel, *nk, s, d, padding)
                 for nk, s, d in zip(zip(x.shape[1:-1], kernel.shape[:-2]), strides, dilation))
    return x, kernel, (x.shape[0], groups, cin, cout, axes)


def conv_bias_act(nsp: int, x, kernel, bias, activation: str, strides=1, padding: str = "valid", dilation_rate=1,
                  groups: int = 1) -> Tensor:
    """activation(conv{nsp}d(x, kernel, ...) + bias) in one kernel call (the Conv layers' forward); bias may be
    None, activation one the kernels fuse (ops.nn.FUSED)."""
    name = f"conv{nsp}d"
    x, kernel, geom = _conv_geometry(name, nsp, x, kernel, strides, padding, dilation_rate, groups)
    if bias is None and activation == "linear":  # nothing to fuse
        return _apply(C.AD_CONV_FORWARD, name, geom, x, kernel)
    operands = (x, kernel) if bias is None else (x, kernel, as_tensor(bias))
    if bias is not None and (operands[2].shape != (geom[3],) or operands[2].dtype != x.dtype):
        raise ValueError(f"{name}: the bias must have shape ({geom[3]},) and the input's dtype; got input, kernel "
                         f"and bias {describe(*operands)}")
    act = FUSED[activation]
    y = out_like(_y_shape(geom), x.dtype)
    if _gemm_tune.pending:
        _gemm_tune.first_product(_macs(geom))
    run(name, operands, lib.ad_conv_bias_act, code(x), act, nsp, i64(_words(geom)), x._ptr, kernel._ptr,
        B.NULL if bias is None else operands[2]._ptr, y._ptr)
    return emit(CONV_BIAS_ACT, operands, y, {"geom": geom, "name": name, "act": act})


def _transpose_axis(name, x, kernel, n, k, stride, dil, padding, output_padding) -> tuple:
    """The forward convolution's axis whose input gradient is Keras' transposed convolution: the output
    length of keras.src.backend.common.backend_utils.compute_conv_transpose_output_shape and the offset of
    its padding (left_pad of _convert_conv_transpose_padding_args_from_keras_to_jax)."""
    span = (k - 1) * dil + 1
    if padding == "valid":
        length = (n - 1) * stride + span + (max(span, stride) - span if output_padding is None else output_padding)
        left = span - 1
    else:
        if output_padding is None:
            length, pad_len = n * stride, stride + span - 2
        else:
            length, pad_len = (n - 1) * stride + span % 2 + output_padding, span + span % 2 - 2 + output_padding
        left = min(pad_len // 2 + pad_len % 2, span - 1)
    if length < 1:
        raise ValueError(f"{name}: the output would have no elements along a spatial axis (length {length}) for "
                         f"input and kernel {describe(x, kernel)}")
    return length, k, n, stride, dil, span - 1 - left


def _conv_transpose(name: str, nsp: int, x, kernel, strides, padding, output_padding, dilation_rate) -> Tensor:
    x, kernel = _operands(name, nsp, x, kernel)
    strides = _per_axis(name, strides, nsp, "strides", 1)
    dilation = _per_axis(name, dilation_rate, nsp, "dilation_rate", 1)
    padding = _padding(name, padding, ("valid", "same"))
    extra = (None,) * nsp if output_padding is None else _per_axis(name, output_padding, nsp, "output_padding", 0)
    if any(p is not None and p >= s for p, s in zip(extra, strides)):
        raise ValueError(f"{name}: strides must be greater than output padding. Received: strides={strides}, "
                         f"output_padding={extra}")
    if x.shape[-1] != kernel.shape[-1]:
        raise ValueError(f"{name}: the kernel (..., C_out, C_in) must have C_in = the input's channels "
                         f"{x.shape[-1]}; got input and kernel {describe(x, kernel)}")
    axes = tuple(_transpose_axis(name, x, kernel, *nk, s, d, padding, p)
                 for nk, s, d, p in zip(zip(x.shape[1:-1], kernel.shape[:-2]), strides, dilation, extra))
    return _apply(C.AD_CONV_INPUT_GRAD, name, (x.shape[0], 1, kernel.shape[-2], kernel.shape[-1], axes), x, kernel)


# --- the public ops -----------------------------------------------------------------------------------------

@public
def conv1d(x, kernel, strides=1, padding: str = "valid", dilation_rate=1, groups: int = 1) -> Tensor:
    """1-d convolution of x (N, W, C_in) with kernel (k, C_in // groups, C_out); padding valid, same or causal."""
    return conv_bias_act(1, x, kernel, None, "linear", strides, padding, dilation_rate, groups)


@public
def conv2d(x, kernel, strides=1, padding: str = "valid", dilation_rate=1, groups: int = 1) -> Tensor:
    """2-d convolution of x (N, H, W, C_in) with kernel (kh, kw, C_in // groups, C_out)."""
    return conv_bias_act(2, x, kernel, None, "linear", strides, padding, dilation_rate, groups)


@public
def conv3d(x, kernel, strides=1, padding: str = "valid", dilation_rate=1, groups: int = 1) -> Tensor:
    """3-d convolution of x (N, D, H, W, C_in) with kernel (kd, kh, kw, C_in // groups, C_out)."""
    return conv_bias_act(3, x, kernel, None, "linear", strides, padding, dilation_rate, groups)


@public
def conv1d_transpose(x, kernel, strides=1, padding: str = "valid", output_padding=None, dilation_rate=1) -> Tensor:
    """Transposed 1-d convolution of x (N, W, C_in) with kernel (k, C_out, C_in), as Keras' Conv1DTranspose."""
    return _conv_transpose("conv1d_transpose", 1, x, kernel, strides, padding, output_padding, dilation_rate)


@public
def conv2d_transpose(x, kernel, strides=1, padding: str = "valid", output_padding=None, dilation_rate=1) -> Tensor:
    """Transposed 2-d convolution of x (N, H, W, C_in) with kernel (kh, kw, C_out, C_in), as Conv2DTranspose."""
    return _conv_transpose("conv2d_transpose", 2, x, kernel, strides, padding, output_padding, dilation_rate)


@public
def conv3d_transpose(x, kernel, strides=1, padding: str = "valid", output_padding=None, dilation_rate=1) -> Tensor:
    """Transposed 3-d convolution of x (N, D, H, W, C_in) with kernel (kd, kh, kw, C_out, C_in)."""
    return _conv_transpose("conv3d_transpose", 3, x, kernel, strides, padding, output_padding, dilation_rate)
