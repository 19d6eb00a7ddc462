"""Recurrent sequences (csrc/rnn.c): SimpleRNN, LSTM and GRU cells run over a whole sequence in one kernel call.

`rnn` takes the inputs' projections for every step (one GEMM before it: the layer's dense), the recurrent kernel
and the initial state, and returns the state after each step (and LSTM's cell state). Its vjp is one call of the
backward kernel (the op rnn_grad), which gives the gradients of the projections, the recurrent kernel, GRU's
recurrent bias and the initial state. Second derivatives through a recurrent sequence are not available: rnn_grad's
vjp raises (rather than let an outer tape see no dependence and return None or zeros).
"""

from .. import _backend as B
from .. import _gemm_tune
from ..tensor import Tensor
from ._core import C, code, defop, describe, emit, lib, need_float, out_like, register, run
from .nn import FUSED

NULL = B.NULL
CELLS = {"simple": C.AD_RNN_SIMPLE, "lstm": C.AD_RNN_LSTM, "gru": C.AD_RNN_GRU, "gru_before": C.AD_RNN_GRU_BEFORE}
GATES = {"simple": 1, "lstm": 4, "gru": 3, "gru_before": 3}


def _ptr(t) -> object:
    return NULL if t is None else t._ptr


def _rnn_vjp(g, n, needs):
    a = n.attrs
    lstm = a["cell"] == "lstm"
    gh, gc = g if lstm else (g, None)
    r, h0 = n.inputs[1], n.inputs[2]
    c0 = n.inputs[3] if lstm else None
    rb = n.inputs[-1] if a["has_rb"] else None
    grads = rnn_grad(a, r, h0, c0, rb, n.outputs[0], n.outputs[1] if lstm else None, gh, gc)
    return tuple(grads[i] for i in range(len(n.inputs)))


def _rnn_grad_vjp(g, n, needs):
    raise NotImplementedError(f"rnn: second derivatives through a recurrent layer are not supported (an outer "
                              f"gradient reached the gradient of {n.attrs['name']!r}, a {n.attrs['cell']} cell)")


RNN = defop("rnn", _rnn_vjp)
RNN_GRAD = defop("rnn_grad", _rnn_grad_vjp)


def _check(name: str, what: str, t, shape: tuple, dtype: str) -> None:
    if not isinstance(t, Tensor) or t.shape != shape or t.dtype != dtype:
        got = describe(t) if isinstance(t, Tensor) else type(t).__name__
        raise ValueError(f"{name}: {what} must be a tensor of shape {shape} {dtype}, got {got}")


@register
def rnn(cell: str, xw, recurrent_kernel, h0, c0=None, recurrent_bias=None, mask=None, recurrent_mask=None,
        activation: str = "tanh", recurrent_activation: str = "sigmoid", reverse: bool = False, name: str = "rnn"):
    """The states after each step, h (steps, batch, units), or (h, c) for an LSTM, in step order.

    cell: simple, lstm, gru (reset after the product, Keras' reset_after=True) or gru_before. xw (steps, batch,
    G * units) holds the inputs' projections with the input bias, time major; recurrent_kernel (units, G *
    units) and recurrent_bias (G * units, GRU only) are Keras'; h0 and c0 (batch, units). mask (steps, batch)
    in xw's dtype, 0 where a sample skips a step (its state carries over); recurrent_mask (batch, units)
    multiplies the state entering the recurrent products (recurrent dropout). reverse runs from the last step.
    """
    if cell not in CELLS:
        raise ValueError(f"{name}: unknown cell {cell!r}; one of {sorted(CELLS)}")
    for what, act in (("activation", activation), ("recurrent_activation", recurrent_activation)):
        if act not in FUSED:
            raise ValueError(f"{name}: {what} {act!r} is not one the recurrent kernel fuses; one of {sorted(FUSED)}")
    if not isinstance(xw, Tensor) or not isinstance(recurrent_kernel, Tensor) or xw.ndim != 3 or \
            recurrent_kernel.ndim != 2:
        raise ValueError(f"{name}: expects projections (steps, batch, G * units) and a recurrent kernel (units, G * "
                         f"units), got {describe(*[t for t in (xw, recurrent_kernel) if isinstance(t, Tensor)])}")
    need_float(name, xw, recurrent_kernel)
    steps, batch, gu = xw.shape
    units, dtype, lstm = recurrent_kernel.shape[0], xw.dtype, cell == "lstm"
    if units < 1 or recurrent_kernel.shape != (units, GATES[cell] * units) or gu != GATES[cell] * units or \
            recurrent_kernel.dtype != dtype:
        raise ValueError(f"{name}: a {cell} cell of {units} units needs projections (steps, batch, "
                         f"{GATES[cell] * units}) and a recurrent kernel ({units}, {GATES[cell] * units}) of one "
                         f"dtype; got {describe(xw, recurrent_kernel)}")
    _check(name, "the initial state", h0, (batch, units), dtype)
    if lstm:
        _check(name, "the initial cell state", c0, (batch, units), dtype)
    elif c0 is not None:
        raise ValueError(f"{name}: only an LSTM has a cell state")
    if recurrent_bias is not None:
        if cell != "gru":
            raise ValueError(f"{name}: only a GRU with the reset after the product has a recurrent bias")
        _check(name, "the recurrent bias", recurrent_bias, (gu,), dtype)
    if mask is not None:
        _check(name, "the mask", mask, (steps, batch), dtype)
    if recurrent_mask is not None:
        _check(name, "the recurrent mask", recurrent_mask, (batch, units), dtype)
    h = out_like((steps, batch, units), dtype)
    c = out_like((steps, batch, units), dtype) if lstm else None
    work = None if cell == "simple" else out_like((steps, batch, 4 * units), dtype)
    inputs = (xw, recurrent_kernel, h0) + ((c0,) if lstm else ()) + (() if recurrent_bias is None else
                                                                       (recurrent_bias,))
    attrs = {"cell": cell, "act": FUSED[activation], "ract": FUSED[recurrent_activation], "reverse": bool(reverse),
             "mask": mask, "rmask": recurrent_mask, "work": work, "name": name, "has_rb": recurrent_bias is not None}
    if _gemm_tune.pending:  # (the per-step products run on the GEMM's plans)
        _gemm_tune.first_product(steps * batch * recurrent_kernel.shape[1] * units)
    run(name, inputs + tuple(t for t in (mask, recurrent_mask) if t is not None), lib.ad_rnn, CELLS[cell],
        code(xw), attrs["act"], attrs["ract"], int(attrs["reverse"]), steps, batch, units, xw._ptr,
        recurrent_kernel._ptr, _ptr(recurrent_bias), h0._ptr, _ptr(c0), _ptr(mask), _ptr(recurrent_mask), h._ptr,
        _ptr(c), _ptr(work))
    return emit(RNN, inputs, (h, c) if lstm else h, attrs)


def rnn_grad(attrs: dict, r, h0, c0, rb, h, c, gh, gc) -> tuple:
    """(gxw, gr, gh0[, gc0][, grb]) of rnn's inputs (in their order) for the gradients gh, gc of its outputs."""
    steps, batch, units = h.shape
    cell, dtype = attrs["cell"], h.dtype
    gxw = out_like((steps, batch, GATES[cell] * units), dtype)
    gr, gh0 = out_like(r.shape, dtype), out_like(h0.shape, dtype)
    gc0 = out_like(h0.shape, dtype) if c0 is not None else None
    grb = out_like(rb.shape, dtype) if rb is not None else None
    saved = tuple(t for t in (c0, c, attrs["work"], attrs["mask"], attrs["rmask"], gc) if t is not None)
    run(attrs["name"], (r, h0, h, gh) + saved, lib.ad_rnn_backward, CELLS[cell], code(h), attrs["act"],
        attrs["ract"], int(attrs["reverse"]), steps, batch, units, r._ptr, h0._ptr, _ptr(c0), _ptr(attrs["mask"]),
        _ptr(attrs["rmask"]), h._ptr, _ptr(c), _ptr(attrs["work"]), gh._ptr, _ptr(gc), gxw._ptr, gr._ptr,
        _ptr(grb), gh0._ptr, _ptr(gc0))
    outs = (gxw, gr, gh0) + ((gc0,) if gc0 is not None else ()) + ((grb,) if grb is not None else ())
    inputs = (r, h0, h, gh) + ((gc,) if gc is not None else ())
    return emit(RNN_GRAD, inputs, outs, attrs)
