"""The Layer base: __init__ stores config, build(input_shape) creates weights, call does the math.

A layer builds itself on its first call (from the input's shape), or right after construction when
given input_shape. Layers, Variables and lists of them assigned as attributes are tracked, which is
how a model finds its weights; each weight gets a stable path such as "dense1.kernel".
"""

import inspect
import itertools
import operator
import re
import threading

from .. import _state as _shared, constraints, initializers, pytree, regularizers
from ..dtypes import FLOAT32, canonical
from ..functional import call_symbolic, is_symbolic, shapes_of
from ..ops import cast, scale
from ..tensor import Tensor, Variable, as_tensor

_name_counts: dict = {}
class _Calls(threading.local):
    depth = 0  # layer calls in progress on this thread


_calls = _Calls()
_penalized = False  # set once any layer has kept an activity penalty: until then no call has any to clear


def _unique_name(cls_name: str) -> str:
    base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", cls_name).lower()
    n = _name_counts.get(base, 0)
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


class _BuildWithInputShape(type):
    """After __init__: a layer given input_shape builds at once (its config is complete only then)."""

    def __call__(cls, *args, **kwargs):
        layer = super().__call__(*args, **kwargs)
        if layer.input_shape is not None and not layer.built:
            layer._build((None,) + layer.input_shape)
        return layer


class Layer(metaclass=_BuildWithInputShape):
    cast_inputs = True  # float inputs become the layer's dtype (Embedding takes indices as they are)
    supports_masking = False  # whether an input's mask (Keras' masking) goes on to the outputs (compute_mask)

    def __init__(self, name: str | None = None, input_shape=None, trainable: bool = True, dtype=None,
                 activity_regularizer=None):
        object.__setattr__(self, "_tracked", {})
        self.name = name or _unique_name(type(self).__name__)
        self.input_shape = tuple(input_shape) if input_shape is not None else None
        self.trainable = trainable
        self.dtype = canonical(dtype, self.name) or FLOAT32
        self.built = False
        self.output_shape = None  # (None, ...) as last computed, for summary()
        self._weights: list = []
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self._regularized: list = []  # (variable, regularizer) from add_weight
        self._activity_losses: list = []  # the activity penalties of the calls since the outermost call began
        parameters = inspect.signature(self.call).parameters
        self._passes_training = "training" in parameters
        self._takes_mask = "mask" in parameters

    # --- tracking ---
    def __setattr__(self, key, value):
        tracked = self.__dict__.get("_tracked")
        if tracked is None:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        if not key.startswith("_") and (_trackable(value) or (
                isinstance(value, (list, tuple)) and any(_trackable(v) for v in value))):
            tracked[key] = value
        else:
            tracked.pop(key, None)
        object.__setattr__(self, key, value)
        _shared.weights_changed()  # (any attribute: a weight, a layer, a list of them, trainable)

    def __getstate__(self) -> dict:
        """pickle and copy: all but the cached walks of the weights (views of this layer's attributes)."""
        return {k: v for k, v in self.__dict__.items() if k != "_walks"}

    def __setstate__(self, state: dict) -> None:
        """pickle and copy: a layer may bring activity penalties into a process where none was kept yet."""
        self.__dict__.update(state)
        if state.get("_activity_losses"):
            _note_penalty()

    def _children(self) -> list:
        """(path, layer or Variable) for what was assigned to attributes, lists expanded (a list, not a generator:
        model.trainable_variables walks this on every step of a seed-style training loop)."""
        out = []
        for key, value in self._tracked.items():
            if isinstance(value, (list, tuple)):
                out += [(f"{key}.{i}", v) for i, v in enumerate(value) if _trackable(v)]
            else:
                out.append((key, value))
        return out

    @property
    def layers(self) -> list:
        return [c for _, c in self._children() if isinstance(c, Layer)]

    def _walk(self) -> list:
        """(path, variable, effectively trainable) for every weight, each once, in creation order."""
        return self._collect([], None, "")

    def _collect(self, out: list, want, prefix: str | None = None, trainable: bool = True,
                 seen: set | None = None, sources: list | None = None) -> list:
        """Appends to out the weights whose effective trainability is `want` (None: all), each once, in creation
        order: the variable alone, or (path, variable, trainable) when given a path prefix; and to sources, when
        given, where the walk found them: each layer's tracked attributes (a live view) and the lists among them."""
        seen = set() if seen is None else seen
        trainable = trainable and self.trainable
        entries = [(short, var) for var, short in self._weights]  # own weights first, then the attributes'
        entries += self._children()
        if sources is not None:
            sources.append(self._tracked.values())
            sources += [v for v in self._tracked.values() if isinstance(v, list)]
        for path, item in entries:
            if type(item) is not Variable and isinstance(item, Layer):  # (most items are plain Variables)
                item._collect(out, want, None if prefix is None else f"{prefix}{path}.", trainable, seen, sources)
            elif id(item) not in seen:
                seen.add(id(item))
                effective = trainable and item.trainable
                if want is None or want == effective:
                    out.append(item if prefix is None else (prefix + path, item, effective))
        return out

    def _cached_walk(self, want) -> list:
        """A new list of _collect([], want), walked again only when something it depends on may have changed:
        model.trainable_variables runs on every step of a seed-style training loop. Attribute writes on layers,
        new weights and trainable flags move weights_epoch; the tracked attributes and lists the walk read can
        also change unseen (in place), so their items are compared with a copy."""
        walks = self.__dict__.get("_walks")
        hit = walks.get(want) if walks else None
        if hit is not None and hit[0] == _shared.weights_epoch:
            _, sources, sizes, items, found = hit  # (compared in C: no Python call per source)
            if tuple(map(len, sources)) == sizes and all(map(operator.is_, itertools.chain.from_iterable(sources),
                                                               items)):
                return list(found)
        epoch, sources = _shared.weights_epoch, []  # (the epoch before the walk: a change during it shows next time)
        found = self._collect([], want, sources=sources)
        if walks is None:
            walks = self.__dict__["_walks"] = {}  # (past __setattr__: a cache is no attribute to track)
        walks[want] = (epoch, sources, tuple(map(len, sources)), tuple(itertools.chain.from_iterable(sources)), found)
        return list(found)

    @property
    def weights(self) -> list:
        return self._cached_walk(None)

    variables = weights

    @property
    def trainable_variables(self) -> list:
        return self._cached_walk(True)

    trainable_weights = trainable_variables

    @property
    def non_trainable_variables(self) -> list:
        return self._cached_walk(False)

    def count_params(self) -> int:
        return sum(v.size for v in self.weights)

    # --- weights ---
    def add_weight(self, name: str, shape, initializer="zeros", trainable: bool = True, dtype=None,
                   regularizer=None, constraint=None) -> Variable:
        dtype = canonical(dtype, self.name) or self.dtype
        value = initializers.make(initializer, tuple(shape), dtype, f"{self.name}/{name}")
        var = Variable(value, name=f"{self.name}/{name}", trainable=trainable, dtype=dtype)
        var.constraint = constraints.get(constraint)
        self._weights.append((var, name))
        _shared.weights_changed()
        if regularizer is not None:
            self._regularized.append((var, regularizers.get(regularizer)))
        return var

    @property
    def losses(self) -> list:
        """The regularization penalties (scalar tensors) of this layer and the layers in it: each regularized
        weight's, computed now (so a GradientTape sees them), and the activity penalties of the last call."""
        found, seen = [], set()
        for layer in self._layers_tree():
            if id(layer) not in seen:
                seen.add(id(layer))
                found += [regularizer(var) for var, regularizer in layer._regularized] + layer._activity_losses
        return found

    def _layers_tree(self):
        yield self
        for _, child in self._children():
            if isinstance(child, Layer):
                yield from child._layers_tree()

    def get_weights(self) -> list:
        return [var.value() for var in self.weights]

    def set_weights(self, weights) -> None:
        weights = list(weights)
        variables = self.weights
        if len(weights) != len(variables):
            raise ValueError(f"{self.name}.set_weights: expected {len(variables)} arrays, got {len(weights)}")
        values = []
        for var, w in zip(variables, weights):
            t = as_tensor(w, var.dtype, "set_weights")
            if t.shape != var.shape:
                raise ValueError(f"{self.name}.set_weights: weight {var.name!r} has shape {var.shape}, "
                                 f"got {t.shape}")
            values.append(cast(t, var.dtype))
        for var, t in zip(variables, values):  # only once every value was checked
            var.assign(t)

    # --- the three stages ---
    def build(self, input_shape: tuple) -> None:
        """Create the weights for inputs of input_shape (batch dimension first, may be None)."""

    def call(self, inputs, training: bool = False):
        raise NotImplementedError(f"{type(self).__name__} must implement call(inputs, training=False)")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs given the inputs' (Keras: the same mask where the layer supports masking)."""
        return mask

    def call_masked(self, inputs, mask=None, training: bool = False, **kwargs) -> tuple:
        """(outputs, their mask) for inputs carrying mask, as models chain layers: the mask goes to call when
        it takes one, and on to the outputs through compute_mask where the layer supports masking."""
        if mask is not None and self._takes_mask and "mask" not in kwargs:
            kwargs["mask"] = mask
        out = self(inputs, training=training, **kwargs)
        return out, self.compute_mask(inputs, mask) if self.supports_masking else None

    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self.activity_regularizer is not None:  # (as Keras 3: only when set)
            config["activity_regularizer"] = self.activity_regularizer
        return config

    def _build(self, input_shape: tuple) -> None:
        self.build(input_shape)
        self.built = True
        self.output_shape = self.compute_output_shape(input_shape)

    def __call__(self, inputs, training: bool = False, *args, **kwargs):
        if not isinstance(inputs, Tensor):  # (a tensor, the common case, needs none of these checks)
            if is_symbolic(inputs):  # building a functional model: record the call, compute no values
                return call_symbolic(self, inputs, kwargs)
            if not isinstance(inputs, (list, tuple, dict)) or (
                    isinstance(inputs, (list, tuple)) and not any(isinstance(v, Tensor) for v in inputs)):
                inputs = as_tensor(inputs, None, self.name)
        if isinstance(inputs, Tensor) and inputs.dtype != self.dtype and self.cast_inputs:
            inputs = cast(inputs, self.dtype)
        depth = _calls.depth
        if depth == 0 and _penalized:  # the outermost call: activity penalties start anew (Keras)
            for layer in self._layers_tree():
                layer._activity_losses.clear()
        _calls.depth = depth + 1
        try:
            if not self.built:
                self._build(shapes_of(inputs))
            if args:  # Rindow's form, model(x, training, trues): what follows training goes to call as given
                out = self.call(inputs, training, *args, **kwargs) if self._passes_training else \
                    self.call(inputs, *args, **kwargs)
            else:
                if self._passes_training:
                    kwargs["training"] = training
                out = self.call(inputs, **kwargs)
        finally:
            _calls.depth = depth
        if self.activity_regularizer is not None:  # Keras 3: each output's penalty over its batch size
            _note_penalty()
            self._activity_losses += [scale(1.0 / max(t.shape[0], 1), self.activity_regularizer(t)) if t.ndim else
                                      self.activity_regularizer(t) for t in pytree.flatten(out)[0]
                                      if isinstance(t, Tensor)]
        if isinstance(out, Tensor):  # (plain attribute, written past __setattr__: not tracked, set on every call)
            self.__dict__["output_shape"] = (None,) + out.shape[1:] if out.ndim else ()
        return out

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


def _note_penalty() -> None:
    global _penalized
    _penalized = True


def _trackable(value) -> bool:
    return isinstance(value, (Layer, Variable))


def check_last_dim(layer: Layer, x: Tensor, expected: int) -> None:
    if x.ndim < 1 or x.shape[-1] != expected:
        raise ValueError(f"{type(layer).__name__} {layer.name!r}: expected inputs with last dimension {expected}, "
                         f"got shape {x.shape}")
