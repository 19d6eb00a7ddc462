"""The recurrent kernels' speed work (csrc/rnn.c): the backward keeps its states and gate gradients in time order
(SimpleRNN's and LSTM's in gxw itself), results are bitwise the same on one and two threads at sizes where the
GEMMs split, and a second derivative through a recurrent layer raises instead of silently giving None."""

import math
import sys

import pytest

import pyautodiff as ad
from pyautodiff import layers as L

needs_threads = pytest.mark.skipif(sys.platform == "emscripten", reason="Pyodide cannot start threads")
GATES = {"simple": 1, "lstm": 4, "gru": 3, "gru_before": 3}


def wave(shape, seed, dtype="float64", scale=0.5):
    n = math.prod(shape)
    return ad.reshape(ad.array([scale * math.sin(0.37 * i + 1.3 * seed) for i in range(n)], dtype), shape)


def sequence_mask(steps, batch, dtype):
    return ad.array([[float((3 * t + b) % 4 != 0) for b in range(batch)] for t in range(steps)], dtype)


def run(cell, steps, batch, units, dtype, reverse=False, masked=False, flip=False):
    """rnn's outputs and every gradient of a weighted sum of them; flip feeds xw and the mask in reversed time
    order (reverse over a flipped sequence is the forward run over the original, step for step)."""
    g = GATES[cell]
    xw, r = wave((steps, batch, g * units), 1, dtype), wave((units, g * units), 2, dtype, 0.3)
    h0 = wave((batch, units), 3, dtype)
    c0 = wave((batch, units), 4, dtype) if cell == "lstm" else None
    rb = wave((g * units,), 5, dtype) if cell == "gru" else None
    mask = sequence_mask(steps, batch, dtype) if masked else None
    if flip:
        xw, mask = xw[::-1], None if mask is None else mask[::-1]
    sources = [t for t in (xw, r, h0, c0, rb) if t is not None]
    with ad.GradientTape() as tape:
        for s in sources:
            tape.watch(s)
        out = ad.ops.rnn.rnn(cell, xw, r, h0, c0, rb, mask, reverse=reverse)
        outs = out if isinstance(out, tuple) else (out,)
        loss = ad.add_n([ad.reduce_sum(o * wave(o.shape, 6 + i, dtype)) for i, o in enumerate(outs)])
    grads = tape.gradient(loss, sources)
    if flip:
        grads[0] = grads[0][::-1]
    return [o.tolist() for o in outs] + [gr.tolist() for gr in grads]


@pytest.mark.parametrize("cell", sorted(GATES))
@pytest.mark.parametrize("masked", [False, True], ids=["", "masked"])
def test_reverse_equals_the_forward_run_over_the_flipped_sequence(cell, masked):
    """The backward pairs each step's state with its gate gradients by time: reversed runs must give the same
    gradients (of the projections, kernel, bias and initial states) as forward runs over flipped inputs."""
    forward = run(cell, 5, 3, 4, "float64", masked=masked)
    backward = run(cell, 5, 3, 4, "float64", reverse=True, masked=masked, flip=True)
    for a, b in zip(forward, backward):
        assert ad.array(a).shape == ad.array(b).shape
        assert max(abs(x - y) for x, y in zip(ad.reshape(ad.array(a), (-1,)).tolist(),
                                              ad.reshape(ad.array(b), (-1,)).tolist())) < 1e-12


@needs_threads
@pytest.mark.parametrize("cell", sorted(GATES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_results_are_bitwise_the_same_on_one_and_two_threads(cell, dtype):
    """Batch 33 (ragged against every register tile) and 72 units: products large enough to split over threads."""
    before = ad.get_num_threads()
    try:
        ad.set_num_threads(1)
        one = run(cell, 6, 33, 72, dtype, reverse=True, masked=True)
        ad.set_num_threads(2)
        two = run(cell, 6, 33, 72, dtype, reverse=True, masked=True)
    finally:
        ad.set_num_threads(before)
    for i, (a, b) in enumerate(zip(one, two)):
        assert a == b, f"{cell} {dtype}: result {i} differs between 1 and 2 threads"


LAYERS = [(L.SimpleRNN, {}), (L.LSTM, {}), (L.GRU, {}), (L.GRU, {"reset_after": False})]


def nested(layer):
    """(the outer tape, the loss, its gradient to the recurrent kernel taken while the outer tape records, the
    kernel)"""
    x = wave((2, 4, 2), 1)
    layer(x)
    kernel = layer.cell.recurrent_kernel
    with ad.GradientTape() as outer:
        with ad.GradientTape() as inner:
            y = ad.reduce_sum(layer(x) ** 2)
        g = inner.gradient(y, kernel)
    return outer, y, g, kernel


@pytest.mark.parametrize("cls,extra", LAYERS, ids=["simple", "lstm", "gru", "gru_before"])
def test_second_derivative_through_a_recurrent_layer_raises(cls, extra):
    layer = cls(3, dtype="float64", **extra)
    outer, _, g, kernel = nested(layer)
    with outer:
        z = ad.reduce_sum(g * g)
    with pytest.raises(NotImplementedError, match=r"rnn: second derivatives through a recurrent layer are not "
                                                  r"supported.*" + layer.cell.name):
        outer.gradient(z, kernel)


def test_an_outer_tape_of_first_derivatives_still_works():
    """Only asking for the gradient of rnn_grad raises: an outer tape over the loss itself (the inner gradient
    computed while it records) gives the plain first derivative."""
    outer, y, first, kernel = nested(L.LSTM(3, dtype="float64"))
    again = outer.gradient(y, kernel)
    assert first.tolist() == again.tolist()
