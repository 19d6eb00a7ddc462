"""Attention layers as Keras 3 names, configures and lays out their weights: Attention (Luong, dot or concat
scores), AdditiveAttention (Bahdanau) and MultiHeadAttention. Written with ops: the projections are one GEMM each
(the inputs seen as 2-D), the scores and the weighted sums batched matmuls over (batch, heads), no Python loop over
either; the tape differentiates them.

Masks are 0/1 (or boolean) tensors, nonzero meaning "attend": Attention takes mask=[query_mask, value_mask];
MultiHeadAttention takes query_mask/value_mask/key_mask/attention_mask, or a propagated mask=[query_mask,
value_mask(, key_mask)] (the masks of its inputs, as Keras reads them from query._keras_mask ...), explicit arguments
winning. Masked scores become large negative before the softmax, as Keras does, so that they get no weight."""

import math
import numbers

from .. import constraints, ops, regularizers
from ..functional import is_symbolic
from ..initializers import resolve_seed
from ..ops import nn as fused
from ..tensor import Tensor, as_tensor, shape_size
from .base import Layer
from .conv import positive_int

_LARGE_NEGATIVE = 1e9  # Keras' bias for masked scores (-65504 in float16, which is not a dtype here)


def _describe(layer) -> str:
    return f"{type(layer).__name__} {layer.name!r}"


def _dropout_rate(layer, rate) -> float:
    if not isinstance(rate, numbers.Real) or isinstance(rate, bool) or not 0.0 <= rate < 1.0:
        raise ValueError(f"{_describe(layer)}: dropout must lie in [0, 1), got {rate!r}")
    return float(rate)


def _keep(layer, mask, shape: tuple, what: str):
    """A user's mask as bool of `shape` (nonzero: attend), or None."""
    if mask is None:
        return None
    mask = as_tensor(mask, None, layer.name)
    if mask.shape != shape:
        raise ValueError(f"{_describe(layer)}: {what} must have shape {shape}, got {mask.shape}")
    return ops.not_equal(mask, 0)


def _both(a, b):
    """The logical and of two bool masks (either may be None), broadcasting."""
    return b if a is None else a if b is None else ops.logical_and(a, b)


def _causal(tq: int, tv: int):
    """(1, tq, tv) with ones where the query position i may see the value position j <= i."""
    ones = ops.ones((1, tq, tv))
    return ops.greater_equal(ops.cumsum(ones, axis=1), ops.cumsum(ones, axis=2))


class _ScoresOutput(Layer):
    """For a layer whose call returns (output, scores) when return_attention_scores is true: in a functional model
    compute_output_shape must announce both, so the flag is visible to it during that call."""

    _with_scores = False

    def _call_with_scores(self, inputs, training, kwargs):
        object.__setattr__(self, "_with_scores", bool(kwargs.get("return_attention_scores")))
        try:
            return super().__call__(inputs, training, **kwargs)
        finally:
            object.__setattr__(self, "_with_scores", False)


class Attention(_ScoresOutput):
    """Dot-product (Luong) attention: inputs [query (batch, Tq, dim), value (batch, Tv, dim)(, key (batch, Tv,
    dim))], scores query . key (or, with score_mode='concat', sum(tanh(query + key))), softmax over Tv, output the
    scores' mix of value (batch, Tq, dim)."""

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{_describe(self)}: invalid value for argument score_mode. Expected one of "
                             f"{{'dot', 'concat'}}. Received: score_mode={score_mode!r}")
        self.use_scale, self.score_mode = bool(use_scale), score_mode
        self.dropout, self.seed = _dropout_rate(self, dropout), seed
        self._state = fused.RandomState(resolve_seed(seed))

    def __call__(self, inputs, training: bool = False, **kwargs):
        return self._call_with_scores(inputs, training, kwargs)

    def _shapes(self, shapes) -> list:
        """The [query, value, key] shapes (key: value's when not given), checked."""
        if not isinstance(shapes, (list, tuple)) or not 2 <= len(shapes) <= 3 or \
                not all(isinstance(s, tuple) for s in shapes):
            raise ValueError(f"{_describe(self)}: must be called on a list of inputs, namely [query, value] or "
                             f"[query, value, key], got {shapes!r}")
        q, v, k = (list(shapes) + [shapes[1]])[:3]
        if any(len(s) != 3 for s in (q, v, k)):
            raise ValueError(f"{_describe(self)}: expects query, value and key of rank 3 (batch, time, dim), got "
                             f"shapes {[q, v, k]}")
        problems = [(q[0], v[0], k[0]), (v[1], k[1]), (q[2], k[2])]
        if any(len({d for d in dims if d is not None}) > 1 for dims in problems):
            raise ValueError(f"{_describe(self)}: query {q}, value {v} and key {k} must agree in the batch size, "
                             f"value and key in their length, query and key in their last dimension")
        return [q, v, k]

    def build(self, input_shape):
        self._shapes(input_shape)
        self.scale = self.add_weight("scale", (), "ones") if self.use_scale else None
        self.concat_score_weight = self.add_weight("concat_score_weight", (), "ones") \
            if self.score_mode == "concat" else None

    def _scores(self, query, key):
        """(batch, Tq, Tv) scores before masking."""
        if self.score_mode == "dot":
            scores = ops.matmul(query, key, transpose_b=True)
            return scores if self.scale is None else ops.multiply(scores, self.scale)
        pairs = ops.add(ops.expand_dims(query, 2), ops.expand_dims(key, 1))  # (batch, Tq, Tv, dim)
        if self.scale is not None:
            pairs = ops.multiply(self.scale, pairs)
        return ops.multiply(self.concat_score_weight, ops.reduce_sum(ops.tanh(pairs), axis=-1))

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        if not isinstance(inputs, (list, tuple)) or not all(isinstance(t, Tensor) for t in inputs):
            raise ValueError(f"{_describe(self)}: must be called on a list of tensors, namely [query, value] or "
                             f"[query, value, key], got {type(inputs).__name__}")
        self._shapes([t.shape for t in inputs])
        query, value, key = (list(inputs) + [inputs[1]])[:3]
        if mask is not None and (not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3):
            raise ValueError(f"{_describe(self)}: mask must be a list, namely [query_mask, value_mask], got {mask!r}")
        (batch, tq, _), tv = query.shape, value.shape[1]
        q_keep = _keep(self, mask[0], (batch, tq), "query_mask") if mask else None
        v_keep = _keep(self, mask[1], (batch, tv), "value_mask") if mask else None
        keep = _both(None if v_keep is None else ops.expand_dims(v_keep, 1), _causal(tq, tv) if use_causal_mask
                     else None)
        scores = self._scores(query, key)
        if keep is not None:  # as Keras: masked scores lowered by 1e9 (not replaced)
            scores = ops.where(keep, scores, ops.increment(scores, -_LARGE_NEGATIVE))
        weights = ops.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            weights = fused.dropout(weights, self.dropout, self._state, self.name)
        out = ops.matmul(weights, value)
        if q_keep is not None:
            out = ops.where(ops.expand_dims(q_keep, 2), out, 0.0)
        return (out, weights) if return_attention_scores else out

    def compute_output_shape(self, input_shape):
        q, v, k = self._shapes(input_shape)
        out = q[:-1] + v[-1:]
        return (out, q[:-1] + k[1:2]) if self._with_scores else out

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale, "score_mode": self.score_mode,
                "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive (Bahdanau) attention: scores sum(scale * tanh(query + key)) over dim, scale a trainable (dim,)
    vector (use_scale=True, Keras' default) or 1."""

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        q = self._shapes(input_shape)[0]
        self.scale = self.add_weight("scale", q[-1:], "glorot_uniform") if self.use_scale else None

    def _scores(self, query, key):
        pairs = ops.tanh(ops.add(ops.expand_dims(query, 2), ops.expand_dims(key, 1)))  # (batch, Tq, Tv, dim)
        return ops.reduce_sum(pairs if self.scale is None else ops.multiply(pairs, self.scale), axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config


class _HeadsDense(Layer):
    """One of MultiHeadAttention's projections (Keras' EinsumDense sublayers "query", "key", "value",
    "attention_output", named under their parent so that the weights read "mha/query/kernel" as Keras' paths):
    kernel of shape in_dims + out_dims, bias out_dims, applied as one GEMM to inputs seen as (rows, prod(in_dims))."""

    def __init__(self, in_dims: tuple, out_dims: tuple, use_bias: bool, kernel_initializer, bias_initializer,
                 kernel_regularizer, bias_regularizer, kernel_constraint, bias_constraint, **kwargs):
        super().__init__(**kwargs)
        self._in, self._out = shape_size(in_dims), shape_size(out_dims)
        self.kernel = self.add_weight("kernel", in_dims + out_dims, kernel_initializer, regularizer=kernel_regularizer,
                                      constraint=kernel_constraint)
        self.bias = self.add_weight("bias", out_dims, bias_initializer, regularizer=bias_regularizer,
                                    constraint=bias_constraint) if use_bias else None
        self.built = True

    def project(self, x):
        """(rows, prod(out_dims)) for x of any shape whose trailing size is prod(in_dims)."""
        bias = None if self.bias is None else ops.reshape(self.bias, (self._out,))
        return fused.dense(ops.reshape(x, (x.size // self._in, self._in)),
                           ops.reshape(self.kernel, (self._in, self._out)), bias, "linear", self.name)


class MultiHeadAttention(_ScoresOutput):
    """Multi-head attention (Vaswani et al.): query (batch, T..., dim) attends to value (batch, S..., dim_v) through
    key (default value) in num_heads heads of key_dim, then an output projection back to dim (or output_shape).
    Called as layer(query, value, key=None, ...). Weights in Keras' order and shapes: query/key/value kernels
    (dim, num_heads, key_dim | value_dim) with biases (num_heads, key_dim | value_dim), the output kernel
    (num_heads, value_dim, *output_shape) with bias output_shape. Inputs of rank > 3 attend over all their middle
    axes at once (Keras' default attention_axes); other attention_axes are not supported."""

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None, dropout: float = 0.0,
                 use_bias: bool = True, output_shape=None, attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = positive_int(self, num_heads, "num_heads")
        self.key_dim = positive_int(self, key_dim, "key_dim")
        self.value_dim = self.key_dim if value_dim is None else positive_int(self, value_dim, "value_dim")
        self.dropout, self.use_bias, self.seed = _dropout_rate(self, dropout), bool(use_bias), seed
        if output_shape is not None and not isinstance(output_shape, (list, tuple)):
            output_shape = (output_shape,)
        if output_shape is not None and not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and d > 0
                                                for d in output_shape) or output_shape == ():
            raise ValueError(f"{_describe(self)}: output_shape must be a positive int or a tuple of them, got "
                             f"{output_shape!r}")
        self.output_shape_arg = None if output_shape is None else tuple(int(d) for d in output_shape)
        if isinstance(attention_axes, numbers.Integral) and not isinstance(attention_axes, bool):
            attention_axes = (int(attention_axes),)
        if attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            raise ValueError(f"{_describe(self)}: attention_axes must be an int, list, or tuple, got "
                             f"{attention_axes!r}")
        self.attention_axes = None if attention_axes is None else tuple(attention_axes)
        self.kernel_initializer, self.bias_initializer = kernel_initializer, bias_initializer
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._scale = 1.0 / math.sqrt(float(self.key_dim))
        self._state = fused.RandomState(resolve_seed(seed))

    def __call__(self, query, value=None, key=None, training: bool = False, **kwargs):
        if isinstance(query, dict) and value is None and key is None:  # a functional model's replay of its node
            inputs = query
        elif value is None:
            raise TypeError(f"{_describe(self)}: is called as layer(query, value, key=None, ...); value is missing")
        else:
            inputs = {"query": query, "value": value} if key is None else {"query": query, "value": value,
                                                                            "key": key}
        if not is_symbolic(inputs):
            inputs = {k: v if isinstance(v, Tensor) else as_tensor(v, self.dtype, self.name) for k, v in
                      inputs.items()}
            inputs = {k: v if v.dtype == self.dtype else ops.cast(v, self.dtype) for k, v in inputs.items()}
        return self._call_with_scores(inputs, training, kwargs)

    def _build(self, shapes):  # the base class's, with the shapes as Keras' build(query_shape, value_shape, ...)
        self.build(**{f"{k}_shape": s for k, s in shapes.items()})
        self.built = True
        self.output_shape = self.compute_output_shape(shapes)

    def _shapes(self, query_shape, value_shape, key_shape=None) -> tuple:
        """(query, value, key) shapes, checked (key: value's when not given)."""
        q, v = tuple(query_shape), tuple(value_shape)
        k = v if key_shape is None else tuple(key_shape)
        if len(q) < 3 or len(v) != len(q) or len(k) != len(q):
            raise ValueError(f"{_describe(self)}: expects query, value and key of one rank >= 3 (batch, time..., "
                             f"dim), got shapes query {q}, value {v}, key {k}")
        if v[1:-1] != k[1:-1]:
            raise ValueError(f"{_describe(self)}: all dimensions of value and key, except the last one, must be "
                             f"equal. Received: value_shape={v} and key_shape={k}")
        if len({d for d in (q[0], v[0], k[0]) if d is not None}) > 1:
            raise ValueError(f"{_describe(self)}: query {q}, value {v} and key {k} differ in their batch size")
        return q, v, k

    def build(self, query_shape, value_shape, key_shape=None):
        q, v, k = self._shapes(query_shape, value_shape, key_shape)
        default_axes = tuple(range(1, len(q) - 1))
        axes = self.attention_axes and tuple(a if a >= 0 else a + len(q) for a in self.attention_axes)
        if axes not in (None, default_axes):
            raise ValueError(f"{_describe(self)}: only attention over every axis between the batch and the features "
                             f"is supported (attention_axes=None, here {default_axes}), got attention_axes="
                             f"{self.attention_axes}")
        self.attention_axes = default_axes  # as Keras shows it once built
        if None in (q[-1], v[-1], k[-1]):
            raise ValueError(f"{_describe(self)}: the last dimensions of query {q}, value {v} and key {k} must be "
                             f"known")
        heads, out = self.num_heads, self.output_shape_arg or q[-1:]
        common = (self.use_bias, self.kernel_initializer, self.bias_initializer, self.kernel_regularizer,
                  self.bias_regularizer, self.kernel_constraint, self.bias_constraint)
        self.query_dense = _HeadsDense(q[-1:], (heads, self.key_dim), *common, name=f"{self.name}/query",
                                          dtype=self.dtype)
        self.key_dense = _HeadsDense(k[-1:], (heads, self.key_dim), *common, name=f"{self.name}/key",
                                        dtype=self.dtype)
        self.value_dense = _HeadsDense(v[-1:], (heads, self.value_dim), *common, name=f"{self.name}/value",
                                          dtype=self.dtype)
        self.output_dense = _HeadsDense((heads, self.value_dim), out, *common,
                                        name=f"{self.name}/attention_output", dtype=self.dtype)
        self._dims = (q[-1], v[-1], k[-1])

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if isinstance(query_shape, dict):  # the structure a functional model records: {"query": shape, ...}
            query_shape, value_shape, key_shape = (query_shape.get(k) for k in ("query", "value", "key"))
        q, v, _ = self._shapes(query_shape, value_shape, key_shape)
        out = q[:-1] + (self.output_shape_arg or q[-1:])
        return (out, (q[0], self.num_heads) + q[1:-1] + v[1:-1]) if self._with_scores else out

    def _attention_keep(self, q, v, masks, attention_mask, use_causal_mask):
        """The (batch | 1, 1, T, S) 0/1 mask of which query position may attend to which key position, or None."""
        batch, t, s = q.shape[0], shape_size(q.shape[1:-1]), shape_size(v.shape[1:-1])
        query_mask, value_mask, key_mask = masks
        q_keep = _keep(self, query_mask, q.shape[:-1], "query_mask")
        keep = None if q_keep is None else ops.reshape(q_keep, (batch, t, 1))
        for what, m in (("value_mask", value_mask), ("key_mask", key_mask)):
            m = _keep(self, m, v.shape[:-1], what)
            keep = _both(keep, None if m is None else ops.reshape(m, (batch, 1, s)))
        if use_causal_mask:
            if q.ndim != 3:
                raise ValueError(f"{_describe(self)}: use_causal_mask needs inputs of rank 3 (batch, time, dim), "
                                 f"got query {q.shape}")
            keep = _both(keep, _causal(t, s))
        if attention_mask is not None:
            m = as_tensor(attention_mask, None, self.name)
            full = q.shape[1:-1] + v.shape[1:-1]
            if m.shape[-len(full):] != full or m.ndim not in (len(full), len(full) + 1) or \
                    m.ndim > len(full) and m.shape[0] not in (1, batch):
                raise ValueError(f"{_describe(self)}: attention_mask must have shape {(batch,) + full} (the batch "
                                 f"axis may be 1 or left out), got {m.shape}")
            m = ops.not_equal(m, 0)
            keep = _both(keep, ops.reshape(m, (m.shape[0] if m.ndim > len(full) else 1, t, s)))
        return None if keep is None else ops.expand_dims(keep, 1)

    def call(self, inputs, training=False, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, use_causal_mask=False, mask=None):
        query, value = inputs["query"], inputs["value"]
        key = inputs.get("key", value)
        self._shapes(query.shape, value.shape, key.shape)
        for what, x, dim in zip(("query", "value", "key"), (query, value, key), self._dims):
            if x.shape[-1] != dim:
                raise ValueError(f"{_describe(self)}: was built for {what} with last dimension {dim}, got shape "
                                 f"{x.shape}")
        if mask is not None and (not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3):
            raise ValueError(f"{_describe(self)}: mask (the inputs' propagated masks) must be a list, namely "
                             f"[query_mask, value_mask] or [query_mask, value_mask, key_mask], got {mask!r}")
        propagated = list(mask or ()) + [None] * (3 - len(mask or ()))
        masks = [given if given is not None else p for given, p in zip((query_mask, value_mask, key_mask),
                                                                        propagated)]
        keep = self._attention_keep(query, value, masks, attention_mask, use_causal_mask)

        batch, heads = query.shape[0], self.num_heads
        t, s = shape_size(query.shape[1:-1]), shape_size(value.shape[1:-1])

        def heads_first(projected, length, depth):  # (batch * length, heads * depth) -> (batch, heads, length, depth)
            return ops.transpose(ops.reshape(projected, (batch, length, heads, depth)), (0, 2, 1, 3))

        q = heads_first(ops.scale(self._scale, self.query_dense.project(query)), t, self.key_dim)
        k = heads_first(self.key_dense.project(key), s, self.key_dim)
        v = heads_first(self.value_dense.project(value), s, self.value_dim)
        scores = ops.matmul(q, k, transpose_b=True)  # (batch, heads, T, S)
        if keep is not None:  # as Keras' Softmax with a mask: masked scores -1e9, their weights then 0
            scores = ops.where(keep, scores, -_LARGE_NEGATIVE)
        scores = ops.softmax(scores, axis=-1)
        if keep is not None:
            scores = ops.where(keep, scores, 0.0)
        weights = fused.dropout(scores, self.dropout, self._state, self.name) if training and self.dropout > 0 \
            else scores
        mixed = ops.transpose(ops.matmul(weights, v), (0, 2, 1, 3))  # (batch, T, heads, value_dim)
        out = self.output_dense.project(mixed)
        out = ops.reshape(out, query.shape[:-1] + (self.output_shape_arg or query.shape[-1:]))
        if return_attention_scores:
            return out, ops.reshape(scores, (batch, heads) + query.shape[1:-1] + value.shape[1:-1])
        return out

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "dropout": self.dropout, "use_bias": self.use_bias,
                "output_shape": self.output_shape_arg, "attention_axes": self.attention_axes,
                "kernel_initializer": self.kernel_initializer, "bias_initializer": self.bias_initializer,
                "kernel_regularizer": self.kernel_regularizer, "bias_regularizer": self.bias_regularizer,
                "activity_regularizer": self.activity_regularizer, "kernel_constraint": self.kernel_constraint,
                "bias_constraint": self.bias_constraint, "seed": self.seed}
