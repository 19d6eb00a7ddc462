"""The functional API's graph: `Input(shape)` makes a symbolic tensor (a shape and a dtype, no data); a layer
called on symbolic tensors records a Node (the layer, its inputs' structure, its outputs) and returns symbolic
outputs whose shapes come from the layer's compute_output_shape (building the layer from its input shapes).
A functional Model (models.py) runs the recorded nodes in topological order on real tensors.
"""

import numbers

from . import pytree
from .dtypes import FLOAT32, canonical
from .tensor import Tensor

_input_count = [0]


class SymbolicTensor:
    """A placeholder in a functional graph (Keras' KerasTensor): shape (None for unknown sizes), dtype, the
    node that makes it (None for an Input) and its position among that node's outputs."""

    def __init__(self, shape: tuple, dtype: str, name: str, node=None, index: int = 0):
        self.shape, self.dtype, self.name, self.node, self.index = tuple(shape), dtype, name, node, index

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<SymbolicTensor name={self.name!r} shape={self.shape} dtype={self.dtype}>"

    def __bool__(self):
        raise TypeError(f"symbolic tensor {self.name!r} {self.shape} has no value: it stands for a model's input "
                        f"or a layer's output; call the Model built from it on data")


class Node:
    """One layer call in a graph: the inputs' structure (symbolic tensors as leaves), extra keyword arguments and
    the symbolic outputs."""

    def __init__(self, layer, inputs, kwargs: dict):
        self.layer, self.inputs, self.kwargs = layer, inputs, kwargs
        self.parents = pytree.flatten(inputs)[0]
        self.outputs: list = []


def Input(shape, dtype="float32", name: str | None = None, batch_size: int | None = None) -> SymbolicTensor:
    """A model input: samples of `shape` (without the batch axis), batch size None unless given."""
    try:
        shape = tuple(shape)
    except TypeError:
        shape = None
    if shape is None or not all(d is None or (isinstance(d, numbers.Integral) and not isinstance(d, bool) and d >= 0)
                                for d in shape):
        raise ValueError(f"Input: shape must be a tuple of sizes >= 0 or None (without the batch axis), got {shape!r}")
    if batch_size is not None and not (isinstance(batch_size, int) and batch_size > 0):
        raise ValueError(f"Input: batch_size must be a positive int or None, got {batch_size!r}")
    if name is None:
        name = "input_layer" if _input_count[0] == 0 else f"input_layer_{_input_count[0]}"
        _input_count[0] += 1
    return SymbolicTensor((batch_size,) + tuple(int(d) if d is not None else None for d in shape),
                          canonical(dtype, "Input") or FLOAT32, name)


def is_symbolic(inputs) -> bool:
    return any(isinstance(v, SymbolicTensor) for v in pytree.flatten(inputs)[0])


def shapes_of(inputs):
    """The structure of inputs with each tensor (real or symbolic) replaced by its shape, other leaves by None."""
    leaves, treedef = pytree.flatten(inputs)
    return pytree.unflatten(treedef, [v.shape if isinstance(v, (Tensor, SymbolicTensor)) else None for v in leaves])


def _is_shape(s) -> bool:
    return isinstance(s, tuple) and all(d is None or isinstance(d, numbers.Integral) for d in s)


def call_symbolic(layer, inputs, kwargs: dict):
    """Record layer(inputs, **kwargs) in the graph; the symbolic output(s), shaped by compute_output_shape."""
    leaves = pytree.flatten(inputs)[0]
    constants = [v for v in leaves if not isinstance(v, SymbolicTensor)]
    if constants:
        raise TypeError(f"{type(layer).__name__} {layer.name!r}: called on a mix of symbolic inputs (from ad.Input) "
                        f"and constants ({type(constants[0]).__name__}); in a functional model every input of a "
                        f"layer call must come from ad.Input or another layer (make a constant a layer's weight)")
    for v in pytree.flatten(kwargs)[0]:
        if isinstance(v, (SymbolicTensor, Tensor)):
            raise TypeError(f"{type(layer).__name__} {layer.name!r}: tensors as keyword arguments are not "
                            f"supported in a functional model; pass them in the layer's inputs")
    shape = shapes_of(inputs)
    if not layer.built:
        layer._build(shape)
    out = layer.compute_output_shape(shape)
    object.__setattr__(layer, "output_shape", out)  # (for summary(): the last call's)
    shapes, treedef = pytree.flatten(out, is_leaf=_is_shape)
    if not shapes or not all(map(_is_shape, shapes)):
        raise TypeError(f"{type(layer).__name__} {layer.name!r}: compute_output_shape returned {out!r}, not a "
                        f"shape or a structure of shapes")
    node = Node(layer, inputs, kwargs)
    node.outputs = [SymbolicTensor(s, layer.dtype, layer.name if len(shapes) == 1 else f"{layer.name}/output_{i}",
                                   node, i) for i, s in enumerate(shapes)]
    return pytree.unflatten(treedef, node.outputs)


def topological_nodes(model_name: str, inputs: list, outputs: list) -> list:
    """The nodes that compute outputs from inputs, each after the nodes it reads from (ValueError when an output
    needs an input not among inputs: a disconnected graph)."""
    given = {id(t) for t in inputs}
    order: list = []
    seen: set = set()
    stack = [(t, False) for t in reversed(outputs)]
    while stack:  # iterative depth-first post-order: deep graphs do not hit Python's recursion limit
        t, expanded = stack.pop()
        node = t.node
        if id(t) in given or node is None:
            if id(t) not in given:
                raise ValueError(f"{model_name}: the outputs depend on input {t.name!r} {t.shape}, which is not "
                                 f"among the model's inputs {[x.name for x in inputs]} (a disconnected graph)")
            continue
        if id(node) in seen:
            continue
        if expanded:
            seen.add(id(node))
            order.append(node)
            continue
        stack.append((t, True))
        stack.extend((p, False) for p in reversed(node.parents) if id(p.node) not in seen)
    return order


def run(nodes: list, values: dict, training: bool) -> None:
    """Run the nodes on real tensors: values maps id(symbolic tensor) to its Tensor, and is filled in."""
    masks: dict = {}  # id(symbolic tensor) -> the mask its value carries (Keras' masking), where one does
    for node in nodes:
        leaves, treedef = pytree.flatten(node.inputs)
        given = [masks.get(id(v)) for v in leaves]
        mask = None if all(m is None for m in given) else given[0] if len(given) == 1 else given
        out, out_mask = node.layer.call_masked(pytree.unflatten(treedef, [values[id(v)] for v in leaves]), mask,
                                               training, **node.kwargs)
        outs = pytree.flatten(out)[0]
        if len(outs) != len(node.outputs):
            raise ValueError(f"{type(node.layer).__name__} {node.layer.name!r}: returned {len(outs)} outputs where "
                             f"its compute_output_shape announced {len(node.outputs)}")
        out_masks = out_mask if isinstance(out_mask, (list, tuple)) else [out_mask] * (len(outs) == 1)
        for sym, value, m in zip(node.outputs, outs, list(out_masks) + [None] * len(outs)):
            values[id(sym)] = value
            if m is not None:
                masks[id(sym)] = m
