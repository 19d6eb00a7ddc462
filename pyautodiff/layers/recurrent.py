"""Recurrent layers with Keras 3's names, arguments, weight layout and gate order: SimpleRNN, LSTM, GRU, their
cells, RNN(cell), Bidirectional and TimeDistributed.

A cell holds the weights (kernel (input_dim, G * units), recurrent_kernel (units, G * units), bias) and runs a
whole sequence in one kernel call (pyautodiff/ops/rnn.py): the inputs' projections for every step are one dense
before it. RNN(cell) with a cell of one's own (a layer with state_size and call(inputs, states, training)) runs
it step by step in Python instead. Sequences are (batch, steps, features); masks (batch, steps), nonzero where a
step counts: a sample skips its masked steps, carrying its state over and repeating its previous output (zeros
with zero_output_for_mask, as Bidirectional asks for).
"""

from .. import constraints, initializers, ops, regularizers
from ..initializers import resolve_seed
from ..ops import nn as fused
from ..ops.rnn import rnn as run_sequence
from ..tensor import Tensor
from .base import Layer
from .core import activation_name


# --- cells -------------------------------------------------------------------------------------------------

class _Cell(Layer):
    """What SimpleRNNCell, LSTMCell and GRUCell share: weights, dropout masks and the sequence kernel."""

    gates = 1

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        what = type(self).__name__
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"{what} {self.name!r}: units must be a positive int, got {units!r}")
        for arg, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"{what} {self.name!r}: {arg} must lie in [0, 1), got {rate!r}")
        self.units, self.use_bias = units, use_bias
        self.activation = self._fused(activation, "activation")
        self.recurrent_activation = self._fused(recurrent_activation, "recurrent_activation")
        self.kernel_initializer, self.recurrent_initializer = kernel_initializer, recurrent_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout, self.recurrent_dropout, self.seed = float(dropout), float(recurrent_dropout), seed
        self._random = fused.RandomState(resolve_seed(seed))

    def _fused(self, activation, what: str) -> str:
        name = activation_name(activation)
        if name not in fused.FUSED:
            raise ValueError(f"{type(self).__name__} {self.name!r}: {what} must be one of {sorted(fused.FUSED)} "
                             f"(the recurrent kernel fuses them), got {activation!r}")
        return name

    @property
    def state_size(self) -> list:
        return [self.units]

    @property
    def output_size(self) -> int:
        return self.units

    def build(self, input_shape):
        if input_shape is None or len(input_shape) < 2 or not input_shape[-1]:
            raise ValueError(f"{type(self).__name__} {self.name!r}: cannot build for input shape {input_shape} "
                             f"(expects (batch, features))")
        width = self.gates * self.units
        self.kernel = self.add_weight("kernel", (input_shape[-1], width), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, width), self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = self.add_weight("bias", self._bias_shape(), self._bias_init(), regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint) if self.use_bias else None

    def _bias_shape(self) -> tuple:
        return (self.gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def _kind(self) -> str:
        return "simple"

    def _biases(self) -> tuple:
        """(the input bias added to the projections, the recurrent bias of the kernel)."""
        return self.bias, None

    def _dropout_mask(self, rate: float, shape: tuple, dtype: str):
        return fused.dropout(ops.ones(shape, dtype), rate, self._random, self.name)

    def sequence(self, x, states: list, mask=None, training: bool = False, reverse: bool = False):
        """(the states after each step (steps, batch, units), the final states) for x (steps, batch, features)
        time major, mask (steps, batch) in x's dtype or None; reverse runs from the last step, in step order."""
        if x.ndim != 3 or x.shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"{type(self).__name__} {self.name!r}: expected inputs (batch, steps, "
                             f"{self.kernel.shape[0]}), got {x.shape[1:2] + x.shape[0:1] + x.shape[2:]} {x.dtype}")
        batch = x.shape[1]
        if training and self.dropout:
            x = x * self._dropout_mask(self.dropout, (batch, x.shape[2]), x.dtype)
        rmask = None
        if training and self.recurrent_dropout:
            rmask = self._dropout_mask(self.recurrent_dropout, (batch, self.units), x.dtype)
        bias, recurrent_bias = self._biases()
        xw = fused.dense(x, self.kernel, bias, "linear", self.name)
        out = run_sequence(self._kind(), xw, self.recurrent_kernel, *states[:1],
                           states[1] if len(states) > 1 else None, recurrent_bias, mask, rmask, self.activation,
                           self.recurrent_activation, reverse, self.name)
        seq = out[0] if isinstance(out, tuple) else out
        return seq, [o[-1] for o in (out if isinstance(out, tuple) else (out,))]

    def call(self, inputs, states, training=False):
        """One step: (output, new states) for inputs (batch, features) and the states [(batch, units), ...]."""
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        seq, final = self.sequence(ops.expand_dims(inputs, 0), states, None, training)
        return seq[0], final

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "recurrent_activation": self.recurrent_activation, "use_bias": self.use_bias,
                "kernel_initializer": self.kernel_initializer, "recurrent_initializer": self.recurrent_initializer,
                "bias_initializer": self.bias_initializer, "kernel_regularizer": self.kernel_regularizer,
                "recurrent_regularizer": self.recurrent_regularizer, "bias_regularizer": self.bias_regularizer,
                "kernel_constraint": self.kernel_constraint, "recurrent_constraint": self.recurrent_constraint,
                "bias_constraint": self.bias_constraint, "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}


class SimpleRNNCell(_Cell):
    """h = activation(x @ kernel + h' @ recurrent_kernel + bias)."""

    def __init__(self, units: int, activation="tanh", **kwargs):
        super().__init__(units, activation, **kwargs)

    def get_config(self):
        config = super().get_config()
        del config["recurrent_activation"]
        return config


class LSTMCell(_Cell):
    """Keras' LSTM cell: gates i, f, c, o in the kernels' column blocks; unit_forget_bias starts f's bias at 1."""

    gates = 4

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 unit_forget_bias: bool = True, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, **kwargs)
        self.unit_forget_bias = unit_forget_bias

    @property
    def state_size(self) -> list:
        return [self.units, self.units]

    def _kind(self) -> str:
        return "lstm"

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = initializers.get(self.bias_initializer), self.units

        def init(shape, dtype):
            return ops.concat([base((units,), dtype), ops.ones((units,), dtype), base((2 * units,), dtype)], 0)
        return init

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class GRUCell(_Cell):
    """Keras' GRU cell: gates z, r, h; reset_after=True (Keras 3's default) applies the reset gate after the
    recurrent product and has two biases, bias (2, 3 * units): input and recurrent."""

    gates = 3

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid", use_bias: bool = True,
                 reset_after: bool = True, **kwargs):
        super().__init__(units, activation, recurrent_activation, use_bias, **kwargs)
        self.reset_after = reset_after

    def _kind(self) -> str:
        return "gru" if self.reset_after else "gru_before"

    def _bias_shape(self) -> tuple:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _biases(self) -> tuple:
        if self.bias is None or not self.reset_after:
            return self.bias, None
        return self.bias[0], self.bias[1]

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


# --- the layers --------------------------------------------------------------------------------------------

def _state_sizes(cell) -> list:
    size = cell.state_size
    return list(size) if isinstance(size, (list, tuple)) else [size]


class RNN(Layer):
    """A cell over a sequence (batch, steps, features): the last output (batch, units), or every output
    (batch, steps, units) with return_sequences, followed by the final states with return_state. Initial states
    come from initial_state= or, as [sequence, *states], from the inputs."""

    supports_masking = True

    def __init__(self, cell, return_sequences: bool = False, return_state: bool = False, go_backwards: bool = False,
                 stateful: bool = False, unroll: bool = False, zero_output_for_mask: bool = False, **kwargs):
        super().__init__(**kwargs)
        if stateful:
            raise ValueError(f"{type(self).__name__} {self.name!r}: stateful=True is not supported (pass the final "
                             f"states of one call as initial_state of the next)")
        if not isinstance(cell, Layer) or not hasattr(cell, "state_size"):
            raise TypeError(f"{type(self).__name__} {self.name!r}: cell must be a layer with state_size and "
                            f"call(inputs, states, training), got {type(cell).__name__}")
        self.cell = cell
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful, self.unroll = bool(go_backwards), False, bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)

    def _split(self, inputs):
        """(the sequence, the initial states given with it or None) of inputs (or of their shapes)."""
        if isinstance(inputs, (list, tuple)) and not all(d is None or isinstance(d, int) for d in inputs):
            return inputs[0], list(inputs[1:]) or None
        return inputs, None

    def build(self, input_shape):
        shape = self._split(input_shape)[0]
        if shape is None or len(shape) != 3:
            raise ValueError(f"{type(self).__name__} {self.name!r}: expects inputs (batch, steps, features), got "
                             f"shape {shape}")
        if not self.cell.built:
            self.cell._build((shape[0], shape[2]))

    def compute_output_shape(self, input_shape):
        shape = self._split(input_shape)[0]
        units = getattr(self.cell, "output_size", _state_sizes(self.cell)[0])
        out = (shape[0], shape[1], units) if self.return_sequences else (shape[0], units)
        if self.return_state:
            return [out] + [(shape[0], s) for s in _state_sizes(self.cell)]
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        return [out] + [None] * len(_state_sizes(self.cell)) if self.return_state else out

    def _check(self, x, mask):
        what = f"{type(self).__name__} {self.name!r}"
        if not isinstance(x, Tensor) or x.ndim != 3:
            raise ValueError(f"{what}: expects inputs (batch, steps, features), got "
                             f"{x.shape if isinstance(x, Tensor) else type(x).__name__}")
        if x.shape[1] == 0:
            raise ValueError(f"{what}: cannot run over a sequence of no steps (inputs {x.shape})")
        if mask is not None and (not isinstance(mask, Tensor) or mask.shape != x.shape[:2]):
            raise ValueError(f"{what}: the mask must have shape {x.shape[:2]} (batch, steps) for inputs {x.shape}, "
                             f"got {mask.shape if isinstance(mask, Tensor) else type(mask).__name__}")

    def _initial(self, x, initial_state) -> list:
        sizes = _state_sizes(self.cell)
        if initial_state is None:
            return [ops.zeros((x.shape[0], s), x.dtype) for s in sizes]
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        states = [ops.cast(ops.as_tensor(s), x.dtype) for s in states]
        if [s.shape for s in states] != [(x.shape[0], n) for n in sizes]:
            raise ValueError(f"{type(self).__name__} {self.name!r}: initial_state must be {len(sizes)} tensors of "
                             f"shapes {[(x.shape[0], n) for n in sizes]}, got {[s.shape for s in states]}")
        return states

    def call(self, inputs, initial_state=None, mask=None, training=False):
        x, given = self._split(inputs)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        self._check(x, mask)
        initial_state = given if initial_state is None else initial_state
        states = self._initial(x, initial_state)
        xt = ops.transpose(x, (1, 0, 2))
        time_mask = None if mask is None else ops.cast(ops.not_equal(ops.transpose(mask, (1, 0)), 0), x.dtype)
        if isinstance(self.cell, _Cell):
            seq, final = self.cell.sequence(xt, states, time_mask, training, self.go_backwards)
        else:
            seq, final = self._loop(self._steps(xt), states, self._steps(time_mask), training)
        steps_mask = self._steps(time_mask)
        if steps_mask is not None and self.zero_output_for_mask:
            seq = seq * ops.expand_dims(steps_mask, 2)
        elif steps_mask is not None and initial_state is not None:  # outputs stay 0 until a sample's first step
            seq = seq * ops.expand_dims(ops.minimum(ops.cumsum(steps_mask, axis=0), 1.0), 2)
        out = ops.transpose(seq, (1, 0, 2)) if self.return_sequences else seq[-1]
        return [out] + final if self.return_state else out

    def _steps(self, t):
        """A time-major tensor in the order the steps run (reversed for go_backwards)."""
        return t[::-1] if self.go_backwards and t is not None else t

    def _loop(self, xt, states, steps_mask, training):
        """A cell of one's own, step by step: (outputs (steps, batch, units), the final states)."""
        outputs, previous = [], None
        for t in range(xt.shape[0]):
            out, new = self.cell(xt[t], training=training, states=states)
            new = list(new) if isinstance(new, (list, tuple)) else [new]
            if steps_mask is not None:
                keep = ops.expand_dims(steps_mask[t], 1)
                previous = ops.zeros_like(out) if previous is None else previous
                out = ops.where(keep, out, previous)
                new = [ops.where(keep, n, s) for n, s in zip(new, states)]
            outputs.append(out)
            previous, states = out, new
        return ops.stack(outputs, 0), states

    def get_config(self):
        return {**super().get_config(), "cell": self.cell, "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards, "stateful": self.stateful,
                "unroll": self.unroll, "zero_output_for_mask": self.zero_output_for_mask}


_RNN_ARGS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask")
_LAYER_ARGS = ("name", "input_shape", "trainable", "dtype", "activity_regularizer")  # the layer's, not the cell's


class _Recurrent(RNN):
    """SimpleRNN, LSTM, GRU: RNN over the cell their arguments describe, with a flat config as Keras'."""

    cell_class = _Cell

    def __init__(self, units: int, use_cudnn="auto", **kwargs):
        outer = {k: kwargs.pop(k) for k in _RNN_ARGS + _LAYER_ARGS if k in kwargs}
        super().__init__(self.cell_class(units, dtype=outer.get("dtype"), **kwargs), **outer)

    @property
    def units(self) -> int:
        return self.cell.units

    def get_config(self):
        cell = {k: v for k, v in self.cell.get_config().items() if k not in _LAYER_ARGS}
        config = {**super().get_config(), **cell, "activity_regularizer": self.activity_regularizer}
        del config["cell"]
        return config


class SimpleRNN(_Recurrent):
    cell_class = SimpleRNNCell


class LSTM(_Recurrent):
    cell_class = LSTMCell


class GRU(_Recurrent):
    cell_class = GRUCell


class Bidirectional(Layer):
    """A recurrent layer both ways: layer reads the sequence forward, backward_layer (default: layer's config
    with go_backwards flipped) from the end; their outputs merged by merge_mode: concat, sum, mul, ave or None
    (both returned). Weights: the forward layer's, then the backward layer's, as Keras orders them."""

    supports_masking = True
    _MERGES = {"concat": lambda a, b: ops.concat([a, b], -1), "sum": ops.add, "mul": ops.multiply,
               "ave": lambda a, b: ops.multiply(ops.add(a, b), 0.5), None: None}

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, RNN):
            raise TypeError(f"Bidirectional {self.name!r}: layer must be a recurrent layer (RNN, LSTM, GRU, "
                            f"SimpleRNN), got {type(layer).__name__}")
        if merge_mode not in self._MERGES:
            raise ValueError(f"Bidirectional {self.name!r}: merge_mode must be one of concat, sum, mul, ave or None, "
                             f"got {merge_mode!r}")
        if backward_layer is None:
            config = {**layer.get_config(), "go_backwards": not layer.go_backwards, "name": f"backward_{layer.name}"}
            backward_layer = type(layer)(**config)
        elif not isinstance(backward_layer, RNN) or backward_layer.go_backwards == layer.go_backwards or \
                (backward_layer.return_sequences, backward_layer.return_state) != (layer.return_sequences,
                                                                                   layer.return_state):
            raise ValueError(f"Bidirectional {self.name!r}: backward_layer must be a recurrent layer with the "
                             f"opposite go_backwards and the same return_sequences and return_state as layer")
        for sub in (layer, backward_layer):  # Keras: padded steps of the sequences give zeros, not repeats
            sub.zero_output_for_mask = sub.return_sequences
        self.forward_layer, self.backward_layer, self.merge_mode = layer, backward_layer, merge_mode
        self.return_sequences, self.return_state = layer.return_sequences, layer.return_state
        if weights is not None:
            self._initial_weights = list(weights)

    def build(self, input_shape):
        for sub in (self.forward_layer, self.backward_layer):
            if not sub.built:
                sub._build(input_shape)
        if getattr(self, "_initial_weights", None) is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _merge(self, forward, backward):
        merge = self._MERGES[self.merge_mode]
        return [forward, backward] if merge is None else merge(forward, backward)

    def compute_output_shape(self, input_shape):
        f = self.forward_layer.compute_output_shape(input_shape)
        b = self.backward_layer.compute_output_shape(input_shape)
        fo, bo = (f[0], b[0]) if self.return_state else (f, b)
        out = [fo, bo] if self.merge_mode is None else \
            fo[:-1] + (fo[-1] + bo[-1] if self.merge_mode == "concat" else fo[-1],)
        if not self.return_state:
            return out
        return (out if self.merge_mode is None else [out]) + list(f[1:]) + list(b[1:])

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        outs = [out, out] if self.merge_mode is None else [out]
        states = len(_state_sizes(self.forward_layer.cell)) * 2 if self.return_state else 0
        return outs + [None] * states if len(outs) + states > 1 else out

    def call(self, inputs, initial_state=None, mask=None, training=False):
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        f = self.forward_layer(inputs, initial_state=forward_state, mask=mask, training=training)
        b = self.backward_layer(inputs, initial_state=backward_state, mask=mask, training=training)
        fo, bo = (f[0], b[0]) if self.return_state else (f, b)
        if self.return_sequences:
            bo = bo[:, ::-1]
        out = self._merge(fo, bo)
        if not self.return_state:
            return out
        return (out if self.merge_mode is None else [out]) + list(f[1:]) + list(b[1:])

    def get_config(self):
        return {**super().get_config(), "layer": self.forward_layer, "merge_mode": self.merge_mode,
                "backward_layer": self.backward_layer}


class TimeDistributed(Layer):
    """layer applied to every step of (batch, steps, ...) on its own: one call over batch * steps samples."""

    supports_masking = True
    cast_inputs = False

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise TypeError(f"TimeDistributed {self.name!r}: layer must be a Layer, got {type(layer).__name__}")
        self.layer = layer

    def _inner(self, input_shape) -> tuple:
        if input_shape is None or len(input_shape) < 3:
            raise ValueError(f"TimeDistributed {self.name!r}: expects inputs (batch, steps, ...) of rank >= 3, got "
                             f"shape {input_shape}")
        return (None,) + tuple(input_shape[2:])

    def build(self, input_shape):
        if not self.layer.built:
            self.layer._build(self._inner(input_shape))

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape(self._inner(input_shape))
        return tuple(input_shape[:2]) + tuple(inner[1:])

    def compute_mask(self, inputs, mask=None):
        return mask

    def call(self, inputs, training=False):
        self._inner(inputs.shape)
        batch, steps = inputs.shape[:2]
        y = self.layer(ops.reshape(inputs, (batch * steps,) + inputs.shape[2:]), training=training)
        return ops.reshape(y, (batch, steps) + y.shape[1:])

    def get_config(self):
        return {**super().get_config(), "layer": self.layer}
